"""Bounded memory (issue 16, class 6): a batch's peak memory does not grow with its number of
business units. Real batches in a subprocess; the figures are the kernel's peak resident sets
(ru_maxrss) of the batch process and of its workers. Sizes of the recycling and the portfolio
memo's parts are made small so that two cheap runs are both in the steady state; the bound is
loose against noise and tight against a leak: at 8 and 48 BUs the code before the fix grew
~540 KB per BU in the parent and ~230 KB per BU in the largest worker; after it, ~40 KB in the
parent (its per-BU records) and nothing measurable in the workers. Timings are never asserted (speed and the full-size figures:
`make bench`, bench/memory.py)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2025-06-01"
GOOD = {
    "name": "Support", "owner_email": "a@example.com", "tokens_per_day": 50_000_000,
    "api_input_price_per_1m": 0.15, "api_output_price_per_1m": 0.6,
    "selfhost_infra_monthly": 4140, "selfhost_utilization": 0.8, "selfhost_fte": 0,
}

# run_batch with workers recycled after 3 BUs and portfolio parts of 4 units; prints the peaks
_PROBE = """
import datetime as dt, resource, sys
import runrate_xl.batch.pool as pool, runrate_xl.report.render as render
from runrate_xl.batch import run_batch
pool.UNITS_PER_WORKER, render.PART_UNITS = 3, 4
result = run_batch(sys.argv[1], sys.argv[2], jobs=2, mail="drafts", as_of=dt.date(2025, 6, 1), progress=False)
assert result.exit_code == 0 and len(result.ok_units) == int(sys.argv[3]), (result.portfolio_errors, [u.error for u in result.failed_units])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _units(tmp_path: Path, n: int, prefix: str = "Unit") -> Path:
    rows = [{**GOOD, "name": f"{prefix} {i:03d}", "tokens_per_day": 1e7 * (1 + i % 17)} for i in range(n)]
    path = tmp_path / f"units-{n}.yaml"
    path.write_text(yaml.safe_dump({"business_units": rows}, sort_keys=False))
    return path


def _peaks_kb(tmp_path: Path, n: int) -> tuple[int, int]:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(_units(tmp_path, n)), str(tmp_path / f"out-{n}"), str(n)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    parent, workers = (int(v) for v in done.stdout.split()[-2:])
    return parent, workers


@pytest.mark.slow
def test_peak_memory_of_the_batch_and_its_workers_does_not_grow_with_the_number_of_units(tmp_path):
    small, large = 8, 48
    lo, hi = _peaks_kb(tmp_path, small), _peaks_kb(tmp_path, large)
    for who, a, b in (("parent", lo[0], hi[0]), ("largest worker", lo[1], hi[1])):
        per_bu = (b - a) / (large - small)
        assert per_bu < 120, f"{who}: peak RSS {a} KB at {small} BUs, {b} KB at {large}: {per_bu:.0f} KB more per BU"


def test_the_batch_process_keeps_no_evaluation_objects(tmp_path):
    """What the parent keeps per BU is small: each evaluation as a compressed pickle, rebuilt
    when read (the summary reads them here), never the live objects."""
    from runrate_xl.batch.run import run_batch
    from runrate_xl.engine import Evaluation

    result = run_batch(_units(tmp_path, 5, "Kept or not"), tmp_path / "out", jobs=1, as_of=None, progress=False)
    assert len(result.units) == 5 and all(u.evaluation_blob for u in result.units)
    gc.collect()  # (other tests' evaluations may be alive: only this run's are looked for)
    assert [o for o in gc.get_objects() if isinstance(o, Evaluation) and o.scenario.name.startswith("Kept or not")] == []
    ev = result.units[2].evaluation  # rebuilt on access, equal each time
    assert isinstance(ev, Evaluation) and ev.scenario.name == "Kept or not 002" and ev == result.units[2].evaluation
    assert len(result.units[2].evaluation_blob) < 16_000


# --- the worker pool: recycling, and a worker that dies ------------------------------------------


def _jobs(n: int):
    import datetime as dt

    from runrate_xl.batch.model import UnitJob

    return [UnitJob(i, f"Unit {i}", f"Unit-{i}", None, "/nonexistent", dt.date(2025, 6, 1), "none", "") for i in range(n)]


def _pid_of_worker(job):
    """Stands in for a BU's stages (forked workers inherit it): says which process ran it, and
    kills that process for the BU named "Unit 2"."""
    import signal

    from runrate_xl.batch.model import UnitResult

    if job.name == "Unit 2":
        os.kill(os.getpid(), signal.SIGKILL)
    return UnitResult(job.position, job.name, job.folder, "ok", error=str(os.getpid()))


def test_workers_are_replaced_after_their_share_of_units_and_a_dying_worker_fails_its_unit_only(monkeypatch):
    from runrate_xl.batch import pool

    monkeypatch.setattr(pool, "process_unit", _pid_of_worker)
    results = {r.position: r for r in pool.run_units(_jobs(7), workers=1, units_per_worker=2)}
    assert sorted(results) == list(range(7))
    died = results.pop(2)
    assert died.status == "failed" and "worker process died" in died.error and "signal 9" in died.error
    pids = [int(r.error) for _, r in sorted(results.items())]
    assert os.getpid() not in pids  # with one job too, every BU runs in a worker
    assert [pids.count(p) for p in dict.fromkeys(pids)] == [2, 2, 2]  # units 0-1, (2: killed), 3-4, 5-6

"""Batch memory: peak RSS of the `runrate batch` process and of its workers at N business units,
with 1 job and 2 jobs, and the growth per BU between the smallest and the largest N.

Target (issue 16): peak RSS of any process at most 400 MB at 1,000 BUs, flat in N. Beside it, a
floor measured in the same run: the peak of a batch of one BU (imports, templates, fonts, one
render). Printed, never asserted (tests/test_batch_memory.py asserts the slope, cheaply).

`python -m bench.memory [--jobs J] [N ...]` (default: jobs 1 and 2; 100 300 1000 BUs, about an
hour on two idle cores, several hours on a loaded machine). Each run is a fresh `runrate batch`
subprocess; at exit it reports its own ru_maxrss (the parent) and that of its reaped children
(the largest resident set any worker reached).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .batch import generate_input

DEFAULT_UNITS = (100, 300, 1000)
TARGET_MB = 400.0
AS_OF = "2025-06-01"

# Runs the CLI in this process; at exit writes "<parent KB> <largest child KB>" to argv[1].
# Forked workers leave through os._exit, so only the parent runs the atexit hook.
_PROBE = """
import atexit, os, resource, runpy, sys
report, pid = sys.argv[1], os.getpid()
def _peaks():
    if os.getpid() == pid:
        with open(report, "w") as fh:
            fh.write(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} "
                     f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
atexit.register(_peaks)
sys.argv = ["runrate", *sys.argv[2:]]
runpy.run_module("runrate_xl.cli", run_name="__main__")
"""


def peak_rss_mb(units: int, jobs: int) -> tuple[float, float]:
    """(parent, largest worker) peak RSS in MB of one `runrate batch --jobs JOBS` over ``units`` BUs."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        folder = Path(tmp)
        src = generate_input(folder, units)
        report = folder / "peaks.txt"
        cmd = [sys.executable, "-c", _PROBE, str(report), "batch", str(src), "--out", str(folder / "out"),
               "--jobs", str(jobs), "--as-of", AS_OF, "--no-progress", "--mail", "drafts"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")]))}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode not in (0, 1) or not report.exists():
            raise RuntimeError(f"runrate batch exited {done.returncode}: {done.stderr[-2000:]}")
        summary = json.loads((folder / "out" / "summary.json").read_text())
        if len(summary["units"]) != units or summary["failed"]:
            raise RuntimeError(f"runrate batch: {summary['failed']} of {units} BUs failed")
        parent_kb, child_kb = (int(v) for v in report.read_text().split())
        return parent_kb / 1024, child_kb / 1024


# The portfolio stage alone (roll-up and memo, as run_batch runs them: each in a child process, the
# memo in parts) over N units kept as the batch keeps them (compressed pickles), without running
# N units first: the stage that grew most with N (the memo alone took ~400 MB at 1,000 units).
_PORTFOLIO_PROBE = """
import datetime as dt, resource, sys, tempfile
from pathlib import Path
from runrate_xl.api import evaluate_scenario
from runrate_xl.presets import preset_scenario
from runrate_xl.batch.model import BatchResult, UnitResult
from runrate_xl.batch.run import write_portfolio
from pypdf import PdfReader
n = int(sys.argv[1])
base = [evaluate_scenario(preset_scenario(p)) for p in ("seed000-1m-inferences", "healthcare-privacy", "capacity-growth", "seed004-startup")]
units = []
for i in range(n):
    ev = base[i % len(base)]
    unit = UnitResult(i, f"Unit {i:04d}", f"Unit-{i:04d}", "ok")
    unit.evaluation = ev.model_copy(update={"scenario": ev.scenario.model_copy(update={"name": f"Unit {i:04d} of the list"})})
    units.append(unit)
del base, ev
with tempfile.TemporaryDirectory() as tmp:
    result = BatchResult(Path("units"), Path(tmp), dt.date(2026, 3, 2), 1, "none", units=units)
    write_portfolio(result)
    assert not result.portfolio_errors, result.portfolio_errors
    pages = len(PdfReader(Path(tmp) / "portfolio.pdf").pages)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, pages)
"""


def portfolio_peak_mb(units: int) -> tuple[float, float, int]:
    """(parent, largest child) peak RSS in MB of the portfolio stage over ``units`` units, and its pages."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", _PORTFOLIO_PROBE, str(units)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"portfolio stage exited {done.returncode}: {done.stderr[-2000:]}")
    parent_kb, child_kb, pages = (int(v) for v in done.stdout.split()[-3:])
    return parent_kb / 1024, child_kb / 1024, pages


def main(argv: list[str] | None = None) -> None:
    args = list(argv if argv is not None else sys.argv[1:])
    job_counts = (1, 2)
    if "--jobs" in args:
        at = args.index("--jobs")
        job_counts = (int(args[at + 1]),)
        del args[at:at + 2]
    sizes = sorted({int(a) for a in args} or set(DEFAULT_UNITS))
    for n in sizes:
        parent, child, pages = portfolio_peak_mb(n)
        print(f"portfolio stage  {n:5d} units ({pages} pages)  parent {parent:7.1f} MB  largest child {child:7.1f} MB  "
              f"target <= {TARGET_MB:.0f} ({max(parent, child) / TARGET_MB:4.2f} of it)", flush=True)
    for jobs in job_counts:
        floor = max(peak_rss_mb(1, jobs))
        print(f"batch memory  jobs={jobs}  floor (1 BU): peak RSS of any process {floor:7.1f} MB", flush=True)
        peaks = {}
        for n in sizes:
            parent, worker = peaks[n] = peak_rss_mb(n, jobs)
            top = max(parent, worker)
            print(f"batch memory  jobs={jobs}  {n:5d} BUs  parent {parent:7.1f} MB  largest worker {worker:7.1f} MB  "
                  f"any {top:7.1f} MB  target <= {TARGET_MB:.0f} ({top / TARGET_MB:4.2f} of it)  x{top / floor:.2f} vs floor", flush=True)
        if len(sizes) > 1:
            lo, hi = sizes[0], sizes[-1]
            for i, who in enumerate(("parent", "largest worker")):
                per_bu = (peaks[hi][i] - peaks[lo][i]) / (hi - lo)
                projected = peaks[lo][i] + per_bu * (1000 - lo)
                print(f"batch memory  jobs={jobs}  {who:<15} grows {per_bu * 1024:7.1f} KB per BU ({lo} -> {hi} BUs)  "
                      f"-> {projected:7.1f} MB at 1,000 BUs (target <= {TARGET_MB:.0f}, flat)", flush=True)


if __name__ == "__main__":
    main()

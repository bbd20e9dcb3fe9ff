"""Batch speed: a generated 200-BU input through `run_batch` (workbook, memo and e-mail draft per
BU, plus the portfolio), with 1 job, 2 jobs and one job per core.

Targets (issue 7): speed-up from 1 to 2 jobs >= 1.8x, and
total / (200 x one memo's render time / cores) <= 1.3, i.e. the whole batch costs at most 30%
more than rendering the memos alone on every core. Printed, never asserted.

`python -m bench.batch [N]` runs N units instead of 200 (quick look).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

from runrate_xl.api import evaluate_scenario
from runrate_xl.batch import read_input, run_batch

from ._timing import best_of, report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = dt.date(2025, 6, 1)
UNITS = 200
SPEEDUP_TARGET = 1.8
RATIO_TARGET = 1.3
VOLUME_KEYS = ("tokens_per_day", "requests_per_month")


def generate_input(folder: Path, units: int) -> Path:
    """``units`` BUs: the shipped examples cycled, each with its volume scaled (0.5x-3x) so no
    two BUs are the same; files a row refers to are copied alongside."""
    data = yaml.safe_load((EXAMPLES / "business_units.yaml").read_text())["business_units"]
    rows = []
    for i in range(units):
        row = dict(data[i % len(data)])
        row["name"] = f"{row['name']} {i // len(data) + 1:03d}"
        factor = 0.5 + (i * 37 % 101) / 40  # deterministic spread 0.5 .. 3.0
        for key in VOLUME_KEYS:
            if key in row:
                row[key] = round(row[key] * factor)
        rows.append(row)
    for row in data:
        if "scenario_file" in row:
            shutil.copy(EXAMPLES / row["scenario_file"], folder / row["scenario_file"])
    path = folder / "units.yaml"
    path.write_text(yaml.safe_dump({"business_units": rows}, sort_keys=False))
    return path


def one_memo_seconds() -> float:
    """Best-of-3 render of one typical BU's memo, in this process (imports already warm)."""
    from runrate_xl.report import render_memo

    row = read_input(EXAMPLES / "business_units.yaml").rows[0]
    ev = evaluate_scenario(row.scenario, AS_OF)
    render_memo(ev, memo_date=AS_OF)  # warm-up: imports, templates, fonts
    return best_of(lambda: render_memo(ev, memo_date=AS_OF), repeat=3)


def timed_run(src: Path, out: Path, jobs: int):
    start = time.perf_counter()
    result = run_batch(src, out, jobs=jobs, mail="drafts", as_of=AS_OF, progress=False)
    wall = time.perf_counter() - start
    if result.exit_code != 0:
        print(f"  WARNING: {len(result.failed_units)} BU(s) failed, e.g. {result.failed_units[0].error if result.failed_units else result.portfolio_errors}")
    return wall, result


def main(units: int = UNITS) -> None:
    cores = os.cpu_count() or 1
    memo = one_memo_seconds()
    report("one memo render (floor per BU)", memo)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        root = Path(tmp)
        src = generate_input(root, units)
        walls = {}
        results = {}
        for jobs in sorted({1, 2, cores}):
            walls[jobs], results[jobs] = timed_run(src, root / f"out-{jobs}", jobs)
            report(f"{units} BUs, --jobs {jobs} (wall)", walls[jobs])
        full = results[cores]
        print(f"  per-stage CPU seconds with --jobs {cores} (summed over BUs):", flush=True)
        for stage, seconds in full.stage_totals().items():
            per_bu = "" if stage in ("rollup", "portfolio_memo", "send") else f"   ({seconds / units * 1e3:.1f} ms per BU)"
            print(f"    {stage:<44} {seconds:8.2f} s{per_bu}", flush=True)
        speedup = walls[1] / walls[2]
        floor = units * memo / cores
        ratio = walls[cores] / floor
        print(f"speed-up 1 -> 2 jobs: {speedup:.2f}x  (target >= {SPEEDUP_TARGET}x: {'OK' if speedup >= SPEEDUP_TARGET else 'BELOW'})", flush=True)
        print(f"total / ({units} x memo / {cores} cores) = {walls[cores]:.2f} s / {floor:.2f} s = {ratio:.2f}  "
              f"(target <= {RATIO_TARGET}: {'OK' if ratio <= RATIO_TARGET else 'OVER'})", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else UNITS)

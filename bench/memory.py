"""Batch memory: peak RSS of any process of `runrate batch` at N business units, with 1 job and
2 jobs, and the growth per BU between the smallest and the largest N.

Target (issue 16): peak RSS of any process at most 400 MB at 1,000 BUs, flat in N. The growth
per BU printed here, times 1,000, says how far from flat the batch is. Printed, never asserted.

`python -m bench.memory [N ...]` (default 25 100): each run is a fresh `runrate batch`
subprocess; ru_maxrss over its reaped process tree is the largest resident set any one of them
reached (the parent, or any worker).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .batch import generate_input

DEFAULT_UNITS = (25, 100)
AS_OF = "2025-06-01"

_PROBE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_mb(units: int, jobs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = generate_input(folder, units)
        cmd = [sys.executable, "-c", _PROBE, sys.executable, "-m", "runrate_xl.cli", "batch", str(src),
               "--out", str(folder / "out"), "--jobs", str(jobs), "--as-of", AS_OF, "--no-progress"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
        code, kb = int(out[0]), int(out[1])
        if code not in (0, 1):
            raise RuntimeError(f"runrate batch exited {code}")
        summary = json.loads((folder / "out" / "summary.json").read_text())
        assert len(summary["units"]) == units
        return kb / 1024


def main(argv: list[str] | None = None) -> None:
    sizes = [int(a) for a in (argv if argv is not None else sys.argv[1:])] or list(DEFAULT_UNITS)
    for jobs in (1, 2):
        peaks = {n: peak_rss_mb(n, jobs) for n in sizes}
        for n, mb in peaks.items():
            print(f"batch memory  jobs={jobs}  {n:5d} BUs  peak RSS of any process {mb:8.1f} MB", flush=True)
        if len(sizes) > 1:
            lo, hi = min(sizes), max(sizes)
            per_bu = (peaks[hi] - peaks[lo]) / (hi - lo)
            print(f"batch memory  jobs={jobs}  growth {per_bu * 1024:7.1f} KB per BU  "
                  f"-> about {peaks[lo] + per_bu * (1000 - lo):7.0f} MB projected at 1,000 BUs (target <= 400, flat)", flush=True)


if __name__ == "__main__":
    main()

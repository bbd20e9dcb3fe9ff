"""Timing helpers shared by the benchmarks: best-of-N wall time and a uniform report line."""

from __future__ import annotations

import time
from typing import Callable


def best_of(fn: Callable[[], object], repeat: int = 5, number: int = 1, clock: Callable[[], float] = time.perf_counter) -> float:
    """Best time in seconds of ``number`` calls, over ``repeat`` rounds (per call): wall time, or
    ``time.process_time`` (this process's CPU time, which other processes' load moves far less)."""
    best = float("inf")
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            fn()
        best = min(best, (clock() - start) / number)
    return best


def report(label: str, seconds: float, target: float | None = None, floor: float | None = None, floor_label: str = "floor",
           extra: str = "") -> None:
    """Print ``label: time  (ratio to target)  (ratio to floor)  extra``."""
    parts = [f"{label:<48} {_fmt(seconds):>10}"]
    if target is not None:
        parts.append(f"target {_fmt(target)}  ratio {seconds / target:5.2f} {'OK' if seconds <= target else 'OVER'}")
    if floor is not None and floor > 0:
        parts.append(f"x{seconds / floor:.1f} vs {floor_label}")
    if extra:
        parts.append(extra)
    print("  ".join(parts), flush=True)


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"

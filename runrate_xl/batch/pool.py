"""The worker pool: run BU jobs in parallel processes (or in this one with one job), with progress,
Ctrl-C between units, and workers that die with their parent."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterator, Optional

from ..sinks import terminal_text
from .model import UnitJob, UnitResult
from .unit import process_unit


class ProgressHooks:
    """Told when the work starts, each time a BU finishes, and when it stops (no-op here)."""

    def start(self) -> None: ...

    def advance(self, result: UnitResult) -> None: ...

    def stop(self) -> None: ...


def run_units(jobs: list[UnitJob], workers: int, hooks: Optional[ProgressHooks] = None,
              late: Optional[list[UnitResult]] = None) -> Iterator[UnitResult]:
    """Process the BUs, in this process (workers == 1) or a process pool; yields as they finish.
    On Ctrl-C the BUs already running finish; their results are appended to ``late``."""
    hooks = hooks or ProgressHooks()
    try:
        yield from _run_units(jobs, workers, hooks, late if late is not None else [])
    finally:
        hooks.stop()


def _run_units(jobs: list[UnitJob], workers: int, hooks: ProgressHooks, late: list[UnitResult]) -> Iterator[UnitResult]:
    if workers <= 1 or len(jobs) <= 1:
        hooks.start()
        with _interrupts_between_units() as stop:  # as in a worker: the running BU finishes
            for job in jobs:
                if stop.signalled:
                    raise KeyboardInterrupt
                res = process_unit(job)
                hooks.advance(res)
                if stop.signalled:
                    late.append(res)
                    raise KeyboardInterrupt
                yield res
        return
    _preload_renderers()  # imported once here, inherited by forked workers
    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init, initargs=(os.getpid(),))
    futures = {}
    try:
        futures = {pool.submit(process_unit, job): job for job in jobs}
        hooks.start()  # after the fork: no display thread is copied into the workers
        for future in as_completed(futures):
            job = futures[future]
            try:
                res = future.result()
            except BrokenProcessPool as exc:  # a worker died (e.g. out of memory)
                res = UnitResult(job.position, job.name, job.folder, "failed", error=f"worker process died ({exc})")
            hooks.advance(res)
            yield res
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # running BUs finish their (atomic) writes
        for future, job in futures.items():  # report what they wrote: the record matches the disk
            if future.done() and not future.cancelled() and future.exception() is None:
                late.append(future.result())
        raise
    pool.shutdown(wait=True)


def _worker_init(parent: int) -> None:
    # Ctrl-C goes to the whole process group; the parent decides, workers finish their BU.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this process when its parent dies (even by kill -9), so no
    worker outlives the batch that started it. Elsewhere: best effort at start-up."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class _Flag:
    signalled = False


@contextlib.contextmanager
def _interrupts_between_units() -> Iterator[_Flag]:
    """In the main thread: Ctrl-C / SIGTERM are noted and acted on between BUs, not inside one."""
    flag = _Flag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def note(signum, frame):
        flag.signalled = True

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _preload_renderers() -> None:
    for module in ("runrate_xl.workbook", "runrate_xl.report", "runrate_xl.mail"):
        with contextlib.suppress(Exception):
            __import__(module)


def _progress_display(total: int, enabled: Optional[bool], console: Any) -> ProgressHooks:
    """A Rich progress bar with ETA, advanced once per finished BU (no-op hooks when disabled:
    not a terminal, e.g. under CliRunner or in CI)."""
    from rich.console import Console

    console = console or Console(stderr=True, emoji=False)
    if enabled is None:
        enabled = console.is_terminal
    if not enabled or total == 0:
        return ProgressHooks()
    return _RichProgress(total, console)


class _RichProgress(ProgressHooks):
    def __init__(self, total: int, console: Any):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]business units"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.description}"), console=console,
        )
        self.task = self.progress.add_task("", total=total)
        self.started = False

    def start(self) -> None:
        if not self.started:
            self.started = True
            self.progress.start()

    def advance(self, result: UnitResult) -> None:
        label = ("ok " if result.ok else "FAILED ") + result.name[:40]
        self.progress.update(self.task, advance=1, description=terminal_text(label))

    def stop(self) -> None:
        if self.started:
            self.started = False
            self.progress.stop()

"""The worker pool: run BU jobs in worker processes, with progress, Ctrl-C between units, workers
that die with their parent, and bounded memory.

Every BU runs in a worker process, also with one job: what a render leaves behind (WeasyPrint,
fontconfig and matplotlib caches, fragmentation) goes away with the worker, which is replaced by a
fresh fork after :data:`UNITS_PER_WORKER` BUs. The parent receives each BU's small result (the
evaluation as a compressed pickle, see :class:`~.model.UnitResult`), so no process grows with
the number of BUs. Workers are forked where the platform can (they inherit the imported renderers
and any test's monkeypatches); one job at a time goes to each, so a worker that dies (out of
memory, killed) fails its own BU only, and the next worker takes the rest.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from multiprocessing.connection import wait
from typing import Any, Iterator, Optional

from ..sinks import terminal_text
from .model import UnitJob, UnitResult
from .unit import process_unit

UNITS_PER_WORKER = 25  # then the worker exits and a fresh fork takes over


class ProgressHooks:
    """Told when the work starts, each time a BU finishes, and when it stops (no-op here)."""

    def start(self) -> None: ...

    def advance(self, result: UnitResult) -> None: ...

    def stop(self) -> None: ...


def run_units(jobs: list[UnitJob], workers: int, hooks: Optional[ProgressHooks] = None,
              late: Optional[list[UnitResult]] = None, units_per_worker: Optional[int] = None) -> Iterator[UnitResult]:
    """Process the BUs in ``workers`` worker processes; yields results as they finish. On Ctrl-C
    (or when the consumer stops) no new BU starts; the BUs already running finish and their
    results are appended to ``late``. Each worker takes ``units_per_worker`` BUs (default
    :data:`UNITS_PER_WORKER`), then a fresh one takes over."""
    hooks = hooks or ProgressHooks()
    try:
        if jobs:
            yield from _Pool(jobs, max(1, min(workers, len(jobs))), hooks, late if late is not None else [],
                             max(1, units_per_worker or UNITS_PER_WORKER)).run()
    finally:
        hooks.stop()


class _Worker:
    def __init__(self, context, parent: int, limit: int):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, parent, limit), daemon=True)
        self.process.start()
        child.close()
        self.left = limit  # BUs this worker still takes
        self.job: Optional[UnitJob] = None  # the BU it is running

    def give(self, job: Optional[UnitJob]) -> None:
        if job is not None:
            self.left -= 1
        self.job = job
        try:
            self.conn.send(job)
        except (BrokenPipeError, OSError):
            pass  # it died; its sentinel says so

    def close(self) -> None:
        self.conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class _Pool:
    def __init__(self, jobs: list[UnitJob], size: int, hooks: ProgressHooks, late: list[UnitResult], limit: int):
        self.pending = deque(jobs)
        self.size, self.hooks, self.late, self.limit = size, hooks, late, limit
        self.workers: list[_Worker] = []
        self.stop = _Flag()
        _preload_renderers()  # imported once here, inherited by every forked worker
        methods = multiprocessing.get_all_start_methods()
        self.context = multiprocessing.get_context("fork" if "fork" in methods else None)

    def _start(self) -> None:
        while self.pending and len(self.workers) < self.size and not self.stop.signalled:
            worker = _Worker(self.context, os.getpid(), self.limit)
            self.workers.append(worker)
            worker.give(self.pending.popleft())

    def run(self) -> Iterator[UnitResult]:
        # Ctrl-C / SIGTERM are noted and acted on between results, never while one is being
        # received: every BU that finished is reported, so the record matches the disk.
        with _interrupts_noted() as self.stop:
            try:
                self._start()
                self.hooks.start()  # after the first forks (a recycled worker is forked while it runs; workers never print)
                while self.workers:
                    for worker, result in self._finished():
                        self.hooks.advance(result)
                        yield result
                    if self.stop.signalled:
                        raise KeyboardInterrupt
                    self._start()
            except BaseException:
                self._drain()  # running BUs finish their (atomic) writes; the record matches the disk
                raise
            finally:
                for worker in self.workers:
                    worker.close()

    def _finished(self) -> Iterator[tuple[_Worker, UnitResult]]:
        """Wait for workers; yield the result of each that finished a BU (or died running one)."""
        ready = wait([w.conn for w in self.workers] + [w.process.sentinel for w in self.workers], timeout=0.2)
        for worker in list(self.workers):
            if worker.conn not in ready and worker.process.sentinel not in ready:
                continue
            result = _receive(worker)
            job, worker.job = worker.job, None
            if result is None:  # died, or exited after its last BU
                self._retire(worker)
                if job is not None:
                    yield worker, _died(job, worker.process.exitcode)
                continue
            if worker.left and self.pending and not self.stop.signalled:
                worker.give(self.pending.popleft())
            else:
                worker.give(None)  # done: it exits; a fresh one takes the rest
                self._retire(worker)
            yield worker, result

    def _retire(self, worker: _Worker) -> None:
        self.workers.remove(worker)
        worker.close()

    def _drain(self) -> None:
        self.pending.clear()
        for worker in list(self.workers):
            if worker.job is None:
                continue
            with contextlib.suppress(BaseException):
                result = _receive(worker, block=True)
                if result is not None:
                    self.late.append(result)
            worker.job = None
            worker.give(None)


def _receive(worker: _Worker, block: bool = False) -> Optional[UnitResult]:
    try:
        if block or worker.conn.poll():
            return worker.conn.recv()
    except (EOFError, OSError):
        pass
    return None


def _died(job: UnitJob, exitcode: Optional[int]) -> UnitResult:
    how = f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
    return UnitResult(job.position, job.name, job.folder, "failed",
                      error=f"worker process died while running this business unit ({how}; e.g. out of memory)")


def _worker_main(conn, parent: int, limit: int) -> None:
    _worker_init(parent)
    try:
        for _ in range(limit):
            job = conn.recv()
            if job is None:
                break
            conn.send(process_unit(job))
    except (EOFError, OSError):
        pass  # the parent is gone or stopped us
    finally:
        conn.close()


def in_child(fn, *args):
    """``fn(*args)`` in a forked child process, its return value (or exception) sent back: what
    the call leaves behind in native libraries (WeasyPrint leaks ~0.4 MB per document) dies
    with the child. Where fork is unavailable, the call runs here."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return fn(*args)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(send, os.getpid(), fn, args))
    child.start()
    send.close()
    try:
        try:
            ok, value = receive.recv()
        except EOFError:
            child.join()
            raise RuntimeError(f"{getattr(fn, '__name__', 'the call')}: the child process died "
                               f"(exit code {child.exitcode}; e.g. out of memory)") from None
    except BaseException:
        if child.is_alive():
            child.kill()
        raise
    finally:
        receive.close()
        child.join()
    if not ok:
        raise value
    return value


def _child_main(conn, parent: int, fn, args) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides on Ctrl-C (and a SIGTERM to the group)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent(parent)
    try:
        reply = (True, fn(*args))
    except Exception as exc:
        reply = (False, exc)
    try:
        conn.send(reply)
    except Exception:  # an exception that cannot be pickled: its text
        conn.send((False, RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
    conn.close()


def _worker_init(parent: int) -> None:
    # Ctrl-C (and a SIGTERM to the group) reach every process; the parent decides, workers finish their BU.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # SIGTERM to the group: as Ctrl-C
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
def _interrupts_noted() -> Iterator[_Flag]:
    """In the main thread: Ctrl-C / SIGTERM set a flag that the pool acts on between results."""
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

"""Run the batch: read the BUs, lock the output folder, run every BU's stages (:mod:`.unit`) in
the worker pool (:mod:`.pool`), then the portfolio, sending, and the records (:mod:`.records`).

A failing stage fails that BU with its message and never stops the others. Every file is written
atomically (staging folders and temp names that are unmistakably ours, see :mod:`runrate_xl.fsutil`
and :mod:`runrate_xl.outdir`), so a crash or Ctrl-C never leaves a partial file under a final name.

Reruns are deterministic: prices and dates come from one ``as_of`` date (``--as-of``, else
``SOURCE_DATE_EPOCH``, else today; :mod:`runrate_xl.dates`) passed to every stage.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import threading
import time
from collections import abc
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from ..engine.errors import InputError
from ..fsutil import atomic_write_bytes
from ..outdir import Journal, OutputBusy, OutputLock, merge_records, recorded_files, remove_contradicted, remove_dead_temps
from ..dates import reference_date
from ..mail import resolve_sender
from .inputs import BatchInput, UnitRow, read_input
from .naming import unique_names
from .model import BatchInterrupted, BatchResult, DEFAULT_SENDER, LEDGER, MAIL_MODES, UnitJob, UnitResult, UsageError
from .pool import _progress_display, in_child, run_units
from .records import write_records, write_run_log, write_summary
from .unit import describe_error


def run_batch(
    input_path: Path | str,
    out_dir: Path | str,
    *,
    jobs: Optional[int] = None,
    only: Optional[Sequence[str]] = None,
    mail: str = "none",
    strict: bool = False,
    as_of: Optional[dt.date] = None,
    sender: Optional[str] = None,
    progress: Optional[bool] = None,
    console: Any = None,
) -> BatchResult:
    """Read ``input_path``, write every BU's deliverables and the portfolio into ``out_dir``.

    ``progress``: show a Rich progress bar (None: only when ``console`` is a terminal).
    Raises :class:`UsageError` / :class:`InputFileError` for usage errors (nothing written) and
    :class:`BatchInterrupted` on Ctrl-C.
    """
    started = time.perf_counter()
    if mail not in MAIL_MODES:
        raise UsageError(f"--mail: got {mail!r}, expected one of {', '.join(MAIL_MODES)}")
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs: got {jobs}, expected a whole number >= 1")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a folder")
    day = resolve_as_of(as_of)
    smtp = _smtp_settings() if mail == "send" else None
    sender = resolve_sender(sender, smtp, default=DEFAULT_SENDER)
    if mail != "none":
        _check_sender(sender)

    batch = read_input(input_path, require_email=mail != "none")
    folders = unique_names(r.name for r in batch.rows)  # over all rows: --only keeps the same folders
    selected = select_rows(batch, folders, only)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(selected)))
    result = BatchResult(Path(input_path), out, day, workers, mail, units=[], sender=sender)

    invalid = [(r, f) for r, f in selected if not r.ok]
    if strict and invalid:
        result.units = [_invalid_result(r, f) if not r.ok else
                        UnitResult(r.position, r.name, f, "skipped", error="not run: --strict and some rows have problems")
                        for r, f in selected]
        result.strict_rejected = True
        result.seconds = time.perf_counter() - started
        return result  # --strict: nothing is written when any row is bad

    out.mkdir(parents=True, exist_ok=True)
    try:
        lock = OutputLock(out).acquire()  # one run per output folder; released by the kernel if we die
    except OutputBusy as exc:
        raise UsageError(f"--out: {exc}") from None
    try:
        return _run_locked(result, selected, invalid, folders, out, day, mail, sender, smtp, workers, progress, console, started)
    finally:
        lock.release()


def _run_locked(result, selected, invalid, folders, out, day, mail, sender, smtp, workers, progress, console, started) -> BatchResult:
    journal = Journal(out)
    unfinished = journal.left_over()  # what a run that never wrote its record may have left
    # every folder of this input (also those --only skips) and of an unfinished run
    remove_stale_staging(out, [*folders, *(f for f in unfinished if f and f not in folders)])
    previous = merge_records(recorded_files(out), unfinished)  # what earlier runs wrote, by their records
    try:
        journal.start(previous, [f for _r, f in selected])  # before the first deliverable
    except OSError as exc:
        raise UsageError(f"--out: cannot write to {out} ({describe_error(exc)}); nothing was written") from None
    unit_jobs = [UnitJob(r.position, r.name, f, r.scenario, str(out), day, mail, sender) for r, f in selected if r.ok]
    results = {r.position: _invalid_result(r, f) for r, f in invalid}
    try:
        with _interrupt_on_sigterm():
            late: list[UnitResult] = []  # BUs that finish while a Ctrl-C cancels the rest
            finished = run_units(unit_jobs, workers, _progress_display(len(unit_jobs), progress, console), late=late)
            try:
                for res in finished:
                    results[res.position] = res
            finally:
                finished.close()  # on Ctrl-C: cancel pending BUs now, let running ones finish
                results.update((res.position, res) for res in late)
            result.units = [results[k] for k in sorted(results)]
            write_portfolio(result)
            if mail == "send":
                send_stage(result, smtp)
    except KeyboardInterrupt:
        result.units = [results[k] for k in sorted(results)]  # every BU that finished, also while cancelling
        result.interrupted = True
        result.seconds = time.perf_counter() - started
        with contextlib.suppress(Exception):
            write_summary(result)  # the record matches the disk: no earlier summary contradicts it
        with contextlib.suppress(Exception):
            write_run_log(result)
        raise BatchInterrupted(result) from None  # the journal stays: the units not run keep older files
    result.seconds = time.perf_counter() - started
    now = {u.folder: u.files for u in result.units}
    now[""] = [f for f in result.files if f.startswith("portfolio")]
    remove_contradicted(out, previous, now)  # e.g. an old portfolio.pdf when there is none now
    if write_records(result):
        journal.finish()  # recorded in full; else the next run treats this one as unfinished
    return result


def resolve_as_of(as_of: Optional[dt.date]) -> dt.date:
    """The one date every stage uses (runrate_xl.dates.reference_date: explicit, else
    SOURCE_DATE_EPOCH, else today); a bad SOURCE_DATE_EPOCH is a usage error (nothing written)."""
    try:
        return reference_date(as_of)
    except InputError as exc:
        raise UsageError(str(exc)) from None


def select_rows(batch: BatchInput, folders: list[str], only: Optional[Sequence[str]]) -> list[tuple[UnitRow, str]]:
    """The rows to run, with their folder names; ``only`` matches BU names or folder names,
    case-insensitively."""
    pairs = list(zip(batch.rows, folders))
    if not only:
        return pairs
    wanted = {w.strip().lower() for w in only}
    chosen = [(r, f) for r, f in pairs if r.name.strip().lower() in wanted or f.lower() in wanted]
    known = {r.name.strip().lower() for r in batch.rows} | {f.lower() for f in folders}
    missing = [w for w in only if w.strip().lower() not in known]
    if missing:
        names = ", ".join(repr(r.name) for r in batch.rows[:20])
        raise UsageError(f"--only: no business unit named {', '.join(map(repr, missing))} (the input has {names})")
    return chosen


def _invalid_result(row: UnitRow, folder: str) -> UnitResult:
    problems = [str(p) for p in row.problems]
    return UnitResult(row.position, row.name, folder, "invalid", error=f"{len(problems)} input problem(s): " + "; ".join(problems), problems=problems)


# --- Running the BUs -----------------------------------------------------------------------


class UnitEvaluations(abc.Sequence):
    """The evaluations of the BUs that succeeded, in input order, each rebuilt from its compressed
    pickle when read: the portfolio stages walk them without holding them all."""

    def __init__(self, units: Sequence[UnitResult]):
        self.units = [u for u in units if u.ok and u.evaluation_blob]

    def __len__(self) -> int:
        return len(self.units)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return UnitEvaluations(self.units[index])
        return self.units[index].evaluation

    def __iter__(self):
        return (u.evaluation for u in self.units)


def write_portfolio(result: BatchResult) -> None:
    """portfolio.xlsx and portfolio.pdf over the BUs that succeeded, in input order."""
    evaluations = UnitEvaluations(result.units)
    if not evaluations:
        result.portfolio_errors["portfolio"] = "no business unit succeeded, so there is no portfolio"
        return
    out = result.out_dir

    def rollup() -> None:  # openpyxl holds every row while it writes: in a child that then exits
        from ..workbook.rollup import rollup_bytes

        sources = [f"{u.folder}/{u.folder}.xlsx" for u in evaluations.units]
        atomic_write_bytes(out / "portfolio.xlsx", in_child(rollup_bytes, evaluations, sources, result.as_of))
        result.files.append("portfolio.xlsx")

    def memo() -> None:  # laid out part by part, each part in a child (what WeasyPrint keeps dies with it)
        from ..report import render_portfolio_memo

        failures = [(u.name, u.error or u.status) for u in result.failed_units]
        pdf = render_portfolio_memo(evaluations, memo_date=result.as_of, isolate=in_child, failures=failures)
        atomic_write_bytes(out / "portfolio.pdf", pdf)
        result.files.append("portfolio.pdf")

    for name, fn in (("rollup", rollup), ("portfolio_memo", memo)):
        start = time.perf_counter()
        try:
            fn()
        except Exception as exc:
            result.portfolio_errors[name] = describe_error(exc)
        finally:
            result.portfolio_seconds[name] = time.perf_counter() - start


def _check_sender(sender: str) -> None:
    """A bad From address is one usage error, not the same failure in every BU."""
    try:
        from ..mail import check_address
    except ImportError:
        return  # the e-mail stage reports the missing module for each BU
    try:
        check_address("sender (RUNRATE_SMTP_FROM)", sender)
    except Exception as exc:
        raise UsageError(f"--mail {describe_error(exc)}") from None


def _smtp_settings():
    try:
        from ..mail import SmtpSettings

        return SmtpSettings.from_env()
    except Exception as exc:
        raise UsageError(f"--mail send: SMTP settings are not usable ({describe_error(exc)})") from None


def send_stage(result: BatchResult, settings) -> None:
    """Send each OK BU's memo to its owner, once: the ledger (sent-ledger.json) makes reruns
    skip what was already sent. Messages are rebuilt from the evaluation and the memo on disk,
    so they equal the drafts minus the draft-only headers."""
    from ..mail import build_message, send_messages

    start = time.perf_counter()
    try:
        units: list[UnitResult] = []  # those whose message was built, in the order sent

        def messages():  # built one at a time as they are sent: never every memo in memory at once
            for u in result.ok_units:
                if not u.evaluation_blob:
                    continue
                try:
                    message = build_message(u.evaluation, (result.out_dir / u.folder / f"{u.folder}.pdf").read_bytes(),
                                            sender=result.sender, memo_filename=f"{u.folder}.pdf", memo_date=result.as_of)
                except Exception as exc:
                    u.status, u.error, u.mail_status = "failed", f"send: {describe_error(exc)}", "failed"
                    continue
                units.append(u)
                yield message

        outcomes = send_messages(messages(), settings, ledger_path=result.out_dir / LEDGER)
        for unit, outcome in zip(units, outcomes):
            unit.mail_status = outcome.status
            if not outcome.ok:
                unit.status, unit.error = "failed", f"send: {outcome.error}"
        result.files.append(LEDGER)
    except Exception as exc:
        result.portfolio_errors["send"] = describe_error(exc)
    finally:
        result.portfolio_seconds["send"] = time.perf_counter() - start


# --- Summary and log -----------------------------------------------------------------------


def remove_stale_staging(out: Path, folders: Sequence[str]) -> list[Path]:
    """Remove the temp leftovers of a killed run (SIGKILL cannot clean up after itself): only
    our ``.runrate-tmp-<pid>-...`` names whose process is dead (see :mod:`runrate_xl.outdir`)."""
    return remove_dead_temps([out, *(out / f for f in folders)])


@contextlib.contextmanager
def _interrupt_on_sigterm() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C (clean cancel) while the batch runs in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- Progress --------------------------------------------------------------------------------

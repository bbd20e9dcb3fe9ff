"""Run the batch: every business unit's deliverables, in parallel, then the portfolio.

Each stage is a plain function (evaluate, scenario YAML, workbook, memo, email draft; then the
portfolio workbook and memo, the summary and the run log) so it can be tested alone.
:func:`process_unit` chains a BU's stages in a worker process; a failing stage fails that BU
with its message and never stops the others.

Every file is written atomically: deliverables produced by other modules (workbook, e-mail
draft) are written under their final name inside a private ``.*.tmp`` staging folder next to
the target, then renamed into place; bytes go through :mod:`runrate_xl.fsutil`. A crash or
Ctrl-C therefore never leaves a partial file under a final name, and the next run removes any
staging left by a killed one.

Reruns are deterministic: prices and dates come from one ``as_of`` date (``--as-of``, else
``SOURCE_DATE_EPOCH``, else today) passed to every stage.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

from ..api import dump_scenario, evaluate_scenario
from ..engine import Evaluation, Scenario
from ..engine.errors import InputError, RunrateError
from ..fsutil import atomic_write_bytes, atomic_write_text, temp_prefix, temp_suffix
from ..outdir import OutputBusy, OutputLock, recorded_files, remove_contradicted, remove_dead_temps
from ..dates import reference_date
from ..mail import resolve_sender
from ..presentation import savings_vs_today
from ..sinks import csv_cell, terminal_text
from .inputs import BatchInput, InputFileError, UnitRow, read_input
from .naming import unique_names

MAIL_MODES = ("none", "drafts", "send")
UNIT_STAGES = ("evaluate", "scenario", "workbook", "memo", "email")
PORTFOLIO_STAGES = ("rollup", "portfolio_memo", "send")
DEFAULT_SENDER = "runrate-xl@example.com"
LEDGER = "sent-ledger.json"
EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(InputFileError):
    """Bad arguments or an unusable input (exit code 2)."""


class BatchInterrupted(RunrateError):
    """Ctrl-C / SIGTERM: pending BUs were cancelled, running ones finished, nothing is partial."""

    def __init__(self, result: "BatchResult"):
        self.result = result
        super().__init__("interrupted: pending business units were cancelled; files already written are complete")


@dataclass(frozen=True)
class UnitJob:
    """Everything a worker needs for one BU (picklable)."""

    position: int
    name: str
    folder: str
    scenario: Scenario
    out_dir: str
    as_of: dt.date
    mail: str
    sender: str


@dataclass
class UnitResult:
    position: int
    name: str
    folder: str
    status: str  # ok | failed (a stage failed) | invalid (input problems) | skipped (--strict)
    error: str = ""
    problems: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # relative to the output folder
    evaluation: Optional[Evaluation] = None
    trace: str = ""
    mail_status: str = ""  # drafted | sent | skipped (already sent) | failed

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class BatchResult:
    input_path: Path
    out_dir: Path
    as_of: dt.date
    jobs: int
    mail: str
    units: list[UnitResult]
    portfolio_errors: dict[str, str] = field(default_factory=dict)
    portfolio_seconds: dict[str, float] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # top-level outputs
    seconds: float = 0.0
    strict_rejected: bool = False
    interrupted: bool = False
    sender: str = DEFAULT_SENDER

    @property
    def ok_units(self) -> list[UnitResult]:
        return [u for u in self.units if u.ok]

    @property
    def failed_units(self) -> list[UnitResult]:
        return [u for u in self.units if not u.ok]

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if not self.failed_units and not self.portfolio_errors else EXIT_SOME_FAILED

    def stage_totals(self) -> dict[str, float]:
        """Seconds spent per stage, summed over BUs (CPU-side work, not wall time)."""
        totals = {s: 0.0 for s in UNIT_STAGES}
        for u in self.units:
            for s, sec in u.stage_seconds.items():
                totals[s] = totals.get(s, 0.0) + sec
        totals.update(self.portfolio_seconds)
        return totals


# --- Entry point ---------------------------------------------------------------------------


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
    remove_stale_staging(out, folders)  # every folder of this input, also those --only skips
    previous = recorded_files(out)  # what the last run wrote, by its own record
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
        raise BatchInterrupted(result) from None
    result.seconds = time.perf_counter() - started
    now = {u.folder: u.files for u in result.units}
    now[""] = [f for f in result.files if f.startswith("portfolio")]
    remove_contradicted(out, previous, now)  # e.g. an old portfolio.pdf when there is none now
    write_records(result)
    return result


def write_records(result: BatchResult) -> None:
    """summary.csv/json and run.log. A failure to write them (disk full) is reported as such,
    beside the BUs that were written, never as "nothing written"."""
    try:
        write_summary(result)
    except OSError as exc:
        result.portfolio_errors["summary"] = f"summary.csv/json not (fully) written: {describe_error(exc)}"
    try:
        write_run_log(result)
    except OSError as exc:
        result.portfolio_errors["run_log"] = f"run.log not written: {describe_error(exc)}"


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


def process_unit(job: UnitJob) -> UnitResult:
    """Every deliverable of one BU. Stages after a failure still run when they can (the memo
    does not need the workbook), so one error never hides another."""
    folder = Path(job.out_dir) / job.folder
    res = UnitResult(job.position, job.name, job.folder, "ok")
    errors: list[str] = []
    traces: list[str] = []

    def stage(name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return fn()
        except Exception as exc:
            errors.append(f"{name}: {describe_error(exc)}")
            traces.append(f"[{name}]\n{traceback.format_exc()}")
            return None
        finally:
            res.stage_seconds[name] = time.perf_counter() - start

    ev = stage("evaluate", lambda: evaluate_unit(job.scenario, job.as_of))
    if ev is not None:
        res.evaluation = ev
        def target(suffix: str) -> Path:  # not with_suffix: folder names may contain dots
            return folder / f"{job.folder}{suffix}"

        if stage("scenario", lambda: write_scenario_yaml(ev, folder / "scenario.yaml")):
            res.files.append(f"{job.folder}/scenario.yaml")
        if stage("workbook", lambda: write_workbook(ev, target(".xlsx"), job.as_of)):
            res.files.append(f"{job.folder}/{job.folder}.xlsx")
        pdf = stage("memo", lambda: write_memo(ev, target(".pdf"), job.as_of))
        if pdf is not None:
            res.files.append(f"{job.folder}/{job.folder}.pdf")
        if job.mail in ("drafts", "send"):
            if pdf is None:
                errors.append("email: not written because the memo failed")
            elif stage("email", lambda: write_draft_email(ev, pdf, target(".eml"), job.sender, f"{job.folder}.pdf", job.as_of)):
                res.files.append(f"{job.folder}/{job.folder}.eml")
                res.mail_status = "drafted"
    if errors:
        res.status, res.error, res.trace = "failed", "; ".join(errors), "\n".join(traces)
    return res


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, ImportError) and (exc.name or "").startswith("runrate_xl"):
        return f"{exc.name} is not available in this installation ({exc})"
    if isinstance(exc, InputError):
        from .columns import columns_for

        columns = columns_for(exc.field)
        return f"{exc} (input column {' / '.join(columns)})" if columns else str(exc)
    if isinstance(exc, (RunrateError, OSError)):
        return str(exc)
    return f"{exc.__class__.__name__}: {exc}"


# --- Stages (each usable alone) ------------------------------------------------------------


def evaluate_unit(scenario: Scenario, as_of: dt.date) -> Evaluation:
    return evaluate_scenario(scenario, as_of)


def write_scenario_yaml(evaluation: Evaluation, path: Path) -> Path:
    """The resolved scenario (catalog prices filled in, with sources): rerunning
    ``runrate evaluate scenario.yaml`` reproduces every figure."""
    return atomic_write_text(path, dump_scenario(evaluation.scenario))


def write_workbook(evaluation: Evaluation, path: Path, as_of: dt.date) -> Path:
    from ..workbook import generate_workbook

    with staged(path) as tmp:
        generate_workbook(evaluation.scenario, tmp, evaluation=evaluation, as_of=as_of)
    return path


def write_memo(evaluation: Evaluation, path: Path, memo_date: dt.date) -> bytes:
    from ..report import render_memo

    pdf = render_memo(evaluation, memo_date=memo_date)
    atomic_write_bytes(path, pdf)
    return pdf


def write_draft_email(evaluation: Evaluation, pdf: bytes, path: Path, sender: str, memo_filename: str, memo_date: dt.date) -> Path:
    from ..mail import build_message, write_draft

    message = build_message(evaluation, pdf, sender=sender, memo_filename=memo_filename, memo_date=memo_date)
    with staged(path) as tmp:
        write_draft(message, tmp)
    return path


def write_portfolio(result: BatchResult) -> None:
    """portfolio.xlsx and portfolio.pdf over the BUs that succeeded, in input order."""
    evaluations = [u.evaluation for u in result.ok_units if u.evaluation is not None]
    if not evaluations:
        result.portfolio_errors["portfolio"] = "no business unit succeeded, so there is no portfolio"
        return
    out = result.out_dir

    def rollup() -> None:
        from ..workbook import write_rollup

        with staged(out / "portfolio.xlsx") as tmp:
            write_rollup(evaluations, tmp)
        result.files.append("portfolio.xlsx")

    def memo() -> None:
        from ..report import render_portfolio_memo

        atomic_write_bytes(out / "portfolio.pdf", render_portfolio_memo(evaluations, memo_date=result.as_of))
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
        units = [u for u in result.ok_units if u.evaluation is not None]
        messages = [
            build_message(u.evaluation, (result.out_dir / u.folder / f"{u.folder}.pdf").read_bytes(), sender=result.sender,
                          memo_filename=f"{u.folder}.pdf", memo_date=result.as_of)
            for u in units
        ]
        outcomes = send_messages(messages, settings, ledger_path=result.out_dir / LEDGER)
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

def option_ids(result: BatchResult) -> list[str]:
    """Every option id of the evaluated units, in first-seen order (the per-option columns)."""
    return list(dict.fromkeys(o for u in result.units if u.evaluation is not None for o in u.evaluation.options))


def summary_fields(ids: list[str]) -> list[str]:
    return (
        ["position", "name", "folder", "status", "error", "recommendation", "current_option", "cost_basis",
         "saving_vs_today_monthly_usd", "saving_vs_today_horizon_usd"]
        + [f"{o}_monthly_usd" for o in ids]
        + [f"{o}_tco_usd" for o in ids]
        + [f"{o}_npv_usd" for o in ids]
        + ["horizon_months", "breakeven_tokens_per_day", "current_tokens_per_day"]
    )


def summary_rows(result: BatchResult) -> list[dict[str, Any]]:
    """One flat row per BU; engine floats unrounded (the same numbers as the workbook)."""
    rows = []
    fields = summary_fields(option_ids(result))
    for u in result.units:
        row: dict[str, Any] = {k: None for k in fields}
        row.update(position=u.position, name=u.name, folder=u.folder, status=u.status, error=u.error)
        ev = u.evaluation
        if ev is not None:
            row["recommendation"] = ev.recommendation.option
            saved = savings_vs_today(ev)
            row.update(current_option=saved.versus, cost_basis=saved.basis,
                       saving_vs_today_monthly_usd=saved.monthly, saving_vs_today_horizon_usd=saved.horizon)
            for o, cost in ev.options.items():
                row[f"{o}_monthly_usd"] = cost.total_monthly
                row[f"{o}_tco_usd"] = ev.tco[o].total
                row[f"{o}_npv_usd"] = ev.tco[o].npv
            row["horizon_months"] = ev.scenario.horizon.months
            row["breakeven_tokens_per_day"] = ev.breakeven.tokens_per_day if ev.breakeven.found else None
            row["current_tokens_per_day"] = ev.breakeven.current_tokens_per_day
        rows.append(row)
    return rows


def write_summary(result: BatchResult) -> None:
    """summary.csv and summary.json: deterministic (no timings), so reruns are identical."""
    rows = summary_rows(result)
    ids = option_ids(result)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=summary_fields(ids), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else (repr(v) if isinstance(v, float) else csv_cell(v)) for k, v in row.items()})
    atomic_write_text(result.out_dir / "summary.csv", buffer.getvalue())
    units = []
    for row, u in zip(rows, result.units):
        units.append({
            **{k: row[k] for k in ("position", "name", "folder", "status", "error", "recommendation", "current_option",
                                   "cost_basis", "saving_vs_today_monthly_usd", "saving_vs_today_horizon_usd")},
            "problems": u.problems,
            "mail": u.mail_status,
            "monthly_cost_usd": {o: row[f"{o}_monthly_usd"] for o in ids if row[f"{o}_monthly_usd"] is not None},
            "tco_usd": {o: row[f"{o}_tco_usd"] for o in ids if row[f"{o}_tco_usd"] is not None},
            "npv_usd": {o: row[f"{o}_npv_usd"] for o in ids if row[f"{o}_npv_usd"] is not None},
            "horizon_months": row["horizon_months"],
            "breakeven_tokens_per_day": row["breakeven_tokens_per_day"],
            "current_tokens_per_day": row["current_tokens_per_day"],
            "files": u.files,
        })
    data = {
        "input": str(result.input_path),
        "as_of": result.as_of.isoformat(),
        "mail": result.mail,
        "ok": len(result.ok_units),
        "failed": len(result.failed_units),
        "portfolio": {"files": [f for f in result.files if f.startswith("portfolio")], "errors": result.portfolio_errors},
        **({"interrupted": True} if result.interrupted else {}),
        "units": units,
    }
    atomic_write_text(result.out_dir / "summary.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    result.files[:0] = ["summary.csv", "summary.json"]


def write_run_log(result: BatchResult) -> None:
    """run.log: what ran, how long each stage took, and every error with its traceback."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [
        f"runrate batch  finished {now}",
        f"input   {result.input_path}",
        f"output  {result.out_dir}",
        f"as_of   {result.as_of.isoformat()}  (prices and memo dates)",
        f"jobs    {result.jobs}   mail {result.mail}",
        f"result  {len(result.ok_units)} ok, {len(result.failed_units)} failed"
        + ("  (INTERRUPTED: pending BUs were cancelled)" if result.interrupted else ""),
        f"time    {result.seconds:.2f} s wall",
        "",
        "stage totals (seconds, summed over BUs):",
    ]
    lines += [f"  {s:<16}{sec:9.3f}" for s, sec in result.stage_totals().items()]
    lines += ["", "business units:"]
    for u in result.units:
        stages = " ".join(f"{s}={sec:.3f}s" for s, sec in u.stage_seconds.items())
        lines.append(f"  [{u.status.upper():7}] {u.name} -> {u.folder}/  {stages}")
        for p in u.problems:
            lines.append(f"      problem: {p}")
        if u.error and not u.problems:
            lines.append(f"      error: {u.error}")
        if u.trace:
            lines += ["      " + t for t in u.trace.rstrip().splitlines()]
    lines += ["", "portfolio:"]
    for name, sec in result.portfolio_seconds.items():
        status = f"error: {result.portfolio_errors[name]}" if name in result.portfolio_errors else "ok"
        lines.append(f"  {name:<16}{sec:9.3f} s  {status}")
    for name, err in result.portfolio_errors.items():
        if name not in result.portfolio_seconds:
            lines.append(f"  {name}: {err}")
    atomic_write_text(result.out_dir / "run.log", "\n".join(lines) + "\n")
    if "run.log" not in result.files:
        result.files.append("run.log")


# --- Atomic writes for files other modules produce ------------------------------------------


@contextlib.contextmanager
def staged(final: Path) -> Iterator[Path]:
    """A path with ``final``'s name inside a private ``.*.tmp`` folder next to it; on success
    the file is renamed onto ``final`` (atomic on one file system), on failure discarded."""
    final.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=temp_prefix(), suffix=temp_suffix(final.name), dir=final.parent))
    try:
        tmp = folder / final.name
        yield tmp
        if not tmp.is_file():
            raise RuntimeError(f"{final.name} was not written")
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, final)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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

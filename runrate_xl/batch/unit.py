"""One business unit's stages, in a worker: evaluate, scenario YAML, workbook, memo, e-mail draft.

Each stage is a plain function so it can be tested alone; :func:`process_unit` chains them and a
failing stage fails that BU with its message, never the others. Deliverables are written under
their final name inside a private staging folder, then renamed into place (:func:`staged`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

from ..api import dump_scenario, evaluate_scenario
from ..engine import Evaluation, Scenario
from ..engine.errors import InputError, RunrateError
from ..fsutil import atomic_write_bytes, atomic_write_text, names_file, temp_prefix, temp_suffix
from .model import UnitJob, UnitResult


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


@contextlib.contextmanager
def staged(final: Path) -> Iterator[Path]:
    """A path with ``final``'s name inside a private ``.*.tmp`` folder next to it; on success
    the file is renamed onto ``final`` (atomic on one file system), on failure discarded. An
    OSError (e.g. disk full) names ``final``."""
    with names_file(final):
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

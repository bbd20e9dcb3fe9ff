"""What a batch run holds: its modes and stages, a BU's job and result, the run's result and its usage errors."""

from __future__ import annotations

import datetime as dt
import pickle
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..engine import Evaluation, Scenario
from ..engine.errors import RunrateError
from .inputs import InputFileError


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
    trace: str = ""
    mail_status: str = ""  # drafted | sent | skipped (already sent) | failed
    evaluation_blob: bytes = field(default=b"", repr=False)  # the evaluation, pickled and compressed (see `evaluation`)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def evaluation(self) -> Optional[Evaluation]:
        """The BU's evaluation, rebuilt on each access from its compressed pickle (a few KB, where
        the live object takes about 75 KB): a batch of any size keeps one evaluation per BU in
        memory only while it is being read (summary, roll-up, portfolio, sending)."""
        return pickle.loads(zlib.decompress(self.evaluation_blob)) if self.evaluation_blob else None

    @evaluation.setter
    def evaluation(self, value: Optional[Evaluation]) -> None:
        self.evaluation_blob = zlib.compress(pickle.dumps(value, pickle.HIGHEST_PROTOCOL), 6) if value is not None else b""


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

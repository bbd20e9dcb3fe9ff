"""What every ``runrate`` command shares: the consoles, ``fail`` (one red line and an exit
code), the extra/template checks, option parsing and number formatting. Command modules
import from here, never from the package's ``__init__`` (which imports them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import typer
from rich.console import Console

from ..dates import parse_date
from ..engine.errors import RunrateError
from ..sinks import CONSOLE_OPTIONS, terminal_text

if TYPE_CHECKING:
    from ..engine import Evaluation, Scenario

TEMPLATES_HELP = ("Folder with your own memo/workbook templates (memo.css, memo.html, scenario.xlsx, ...); "
                  "files it lacks come from the shipped ones. Default: the RUNRATE_TEMPLATES setting, else the "
                  "templates shipped in the package.")

console = Console(width=110, **CONSOLE_OPTIONS)
err_console = Console(stderr=True, width=110, **CONSOLE_OPTIONS)
T = terminal_text  # every user text and path printed in markup goes through this


def fail(message: str, code: int = 1) -> "typer.Exit":
    err_console.print(f"[bold red]Error:[/] {T(message)}", markup=True, highlight=False)
    return typer.Exit(code)


def need(what: str, *extras: str) -> None:
    """One clear line naming the extra to install when ``what`` cannot run here."""
    from ..extras import MissingExtra, require

    try:
        require(what, *extras)
    except MissingExtra as exc:
        raise fail(str(exc)) from None


def use_templates(folder: Optional[Path]) -> None:
    """Apply ``--templates DIR`` (checked) for this run and its worker processes."""
    from ..templates import use_user_dir

    try:
        use_user_dir(folder)
    except RunrateError as exc:
        raise fail(str(exc), 2) from None


def parse_as_of(value: Optional[str], option: str = "--as-of") -> Optional[dt.date]:
    """A YYYY-MM-DD option value as a date (None when not given); a usage error otherwise
    (:func:`runrate_xl.dates.parse_date`)."""
    try:
        return parse_date(value, option)
    except RunrateError as exc:
        raise fail(str(exc), 2) from None


def scenarios_from_args(sources: Optional[Sequence[Path]], presets: Optional[Sequence[str]], missing: str) -> list["Scenario"]:
    """Scenarios from files (YAML/JSON or scenario workbooks) and preset names, in the order
    given (:func:`runrate_xl.api.load_scenarios`); ``missing`` is the usage error when none is given."""
    from ..api import load_scenarios

    if not sources and not presets:
        raise fail(missing, 2)
    try:
        return load_scenarios(sources or [], presets or [])
    except RunrateError as exc:
        raise fail(str(exc)) from None


def scenario_from_args(path: Optional[Path], preset: Optional[str]) -> "Scenario":
    """A scenario from a file (YAML/JSON or a scenario workbook) or a preset name (exactly one of them)."""
    if (path is None) == (preset is None):
        raise fail("give a scenario file or --preset NAME (one of them)", 2)
    return scenarios_from_args([path] if path is not None else [], [preset] if preset is not None else [], "")[0]


def evaluate_all(scenarios: Sequence["Scenario"], as_of: Optional[dt.date]) -> list["Evaluation"]:
    from ..api import evaluate_scenario

    try:
        return [evaluate_scenario(s, as_of) for s in scenarios]
    except RunrateError as exc:
        raise fail(str(exc)) from None


def usd(x: Optional[float]) -> str:
    return "-" if x is None else f"${x:,.0f}"

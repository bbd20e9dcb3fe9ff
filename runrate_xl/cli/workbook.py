"""`runrate workbook`, `runrate read` and `runrate rollup`: scenario workbooks from the CLI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ._common import (TEMPLATES_HELP, console, evaluate_all, fail, need, parse_as_of, scenario_from_args,
                      scenarios_from_args, use_templates)

from ..sinks import terminal_text as T


def workbook(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML or JSON file, or a scenario workbook (.xlsx)."),
    preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Use a shipped preset instead."),
    output: Path = typer.Option(..., "--output", "-o", help="Workbook to write (.xlsx)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Catalog prices in force on this date (YYYY-MM-DD)."),
    templates: Optional[Path] = typer.Option(None, "--templates", help=TEMPLATES_HELP, file_okay=False),
) -> None:
    """Write a live-formula scenario workbook (Inputs, Prices, Calculations, Outputs, charts, Checks)."""
    from ..api import evaluate_scenario

    need("runrate workbook", "workbook")
    use_templates(templates)
    from ..engine.errors import RunrateError
    from ..workbook import generate_workbook

    if output.suffix.lower() != ".xlsx":
        raise fail(f"--output: got {str(output)!r}, expected a file name ending in .xlsx", 2)
    sc = scenario_from_args(scenario, preset)
    try:
        ev = evaluate_scenario(sc, parse_as_of(as_of))
        path = generate_workbook(ev.scenario, output, evaluation=ev)
    except RunrateError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"could not write {output}: {exc.strerror or exc}") from None
    console.print(f"Wrote {T(path)} ({T(ev.scenario.name)}: recommendation {T(ev.recommendation.label)})", highlight=False)


def read(
    workbook: Path = typer.Argument(..., help="A scenario workbook written by `runrate workbook` (possibly edited)."),
    fmt: str = typer.Option("yaml", "--format", help="yaml or json."),
) -> None:
    """Read a scenario workbook's inputs back into a validated scenario (YAML or JSON)."""
    from ..api import dump_scenario

    need("runrate read", "workbook")
    from ..engine.errors import RunrateError
    from ..workbook import read_workbook

    if fmt not in ("yaml", "json"):
        raise fail(f"--format: got {fmt!r}, expected yaml or json", 2)
    if not workbook.is_file():
        raise fail(f"WORKBOOK: got {str(workbook)!r}, expected an existing .xlsx file", 2)
    try:
        sc = read_workbook(workbook)
    except RunrateError as exc:
        raise fail(str(exc)) from None
    sys.stdout.write(dump_scenario(sc, fmt))


def rollup(
    sources: List[Path] = typer.Argument(None, help="Scenario files (.yaml/.json) or scenario workbooks (.xlsx)."),
    preset: List[str] = typer.Option([], "--preset", "-p", help="Add a shipped preset (repeatable)."),
    output: Path = typer.Option(..., "--output", "-o", help="Roll-up workbook to write (.xlsx)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Catalog prices in force on this date (YYYY-MM-DD)."),
) -> None:
    """Write a portfolio roll-up: one row per business unit, totals and a chart."""
    need("runrate rollup", "workbook")
    from ..engine.errors import RunrateError
    from ..workbook import write_rollup

    if output.suffix.lower() != ".xlsx":
        raise fail(f"--output: got {str(output)!r}, expected a file name ending in .xlsx", 2)
    date = parse_as_of(as_of)
    scenarios = scenarios_from_args(sources, preset, "give scenario files or workbooks, or --preset NAME (repeatable)")
    evaluations = evaluate_all(scenarios, date)
    try:
        names = [p.name for p in (sources or [])] + [f"preset {name}" for name in preset]
        path = write_rollup(evaluations, output, names if len(names) == len(evaluations) else None, date)
    except RunrateError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"could not write {output}: {exc.strerror or exc}") from None
    console.print(f"Wrote {T(path)} ({len(evaluations)} business units)", highlight=False)

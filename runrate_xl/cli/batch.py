"""`runrate batch` (every BU's workbook, memo and e-mail draft, plus the portfolio) and
`runrate input-template` (the empty input workbook)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import TEMPLATES_HELP, console, err_console, fail, need, parse_as_of, use_templates

from ..presentation import cost_basis, savings_vs_today
from ..sinks import terminal_text as T


def batch(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="Business units: .xlsx, .csv or .yaml (see `runrate input-template`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (created if missing)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Worker processes. Default: the number of cores."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Only this BU (name or folder name); repeat for more."),
    mail: str = typer.Option("none", "--mail", help="none, drafts (.eml per BU) or send (SMTP from RUNRATE_SMTP_* settings)."),
    strict: bool = typer.Option(False, "--strict", help="Validate every row first; write nothing if any row is bad."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Prices and memo date as of YYYY-MM-DD (default: SOURCE_DATE_EPOCH, else today)."),
    progress: Optional[bool] = typer.Option(None, "--progress/--no-progress", help="Progress bar (default: when the terminal is interactive)."),
    templates: Optional[Path] = typer.Option(None, "--templates", help=TEMPLATES_HELP, file_okay=False),
) -> None:
    """Every business unit's scenario workbook, PDF memo and e-mail draft, plus the portfolio
    roll-up, summary.csv/json and run.log. Exit code 0: all OK, 1: some BU failed, 2: usage error."""
    need("runrate batch", "workbook", "memo")
    use_templates(templates)
    from ..batch import BatchInterrupted, InputFileError, run_batch

    day = parse_as_of(as_of)
    try:
        result = run_batch(input_path, out, jobs=jobs, only=only, mail=mail.strip().lower(), strict=strict,
                           as_of=day, progress=progress, console=err_console)
    except InputFileError as exc:
        raise fail(str(exc), 2) from None
    except BatchInterrupted as exc:
        _print_table(console, exc.result)
        raise fail(f"{exc} (see {out / 'run.log'})", exc.result.exit_code) from None
    except OSError as exc:
        raise fail(f"could not write to {out}: {exc}", 2) from None

    _print_problems(err_console, result)
    if result.strict_rejected:
        bad = len(result.failed_units)
        raise fail(f"--strict: {bad} of {len(result.units)} business unit(s) have input problems; nothing was written", 1)
    _print_table(console, result)
    _print_where_to_look(console, result)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def input_template(
    output: Path = typer.Option(..., "--output", "-o", help="The .xlsx to write."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write an empty batch input workbook: one column per field, with help and validation."""
    need("runrate input-template", "workbook")
    from ..batch import write_input_workbook

    if output.suffix.lower() != ".xlsx":
        raise fail(f"--output: got {str(output)!r}, expected a file name ending in .xlsx", 2)
    if output.exists() and not force:
        raise fail(f"--output: {output} exists (use --force to overwrite)", 2)
    try:
        write_input_workbook(output)
    except OSError as exc:
        raise fail(f"could not write {output}: {exc}", 2) from None
    console.print(f"Wrote {T(output)}: one row per business unit on sheet 'Business units'; help on sheet 'Help'.", highlight=False)
    console.print(f"Then run: runrate batch {T(output)} --out out", highlight=False)


def _print_problems(err_console, result) -> None:
    for unit in result.units:
        if unit.problems:
            err_console.print(f"[bold red]{T(unit.name)}[/]: {len(unit.problems)} input problem(s)", highlight=False)
            for p in unit.problems:
                err_console.print(f"  - {T(p, markup=False)}", markup=False, highlight=False)


def _print_table(console, result) -> None:
    from rich.table import Table

    table = Table(title=f"runrate batch: {len(result.ok_units)} ok, {len(result.failed_units)} failed", title_justify="left")
    with_errors = any(u.error for u in result.units) or bool(result.portfolio_errors)
    columns = [("#", "right"), ("Business unit", "left"), ("Folder", "left"), ("Status", "left"),
               ("Recommendation", "left"), ("Run-rate", "right"), ("Saving/mo", "right")]
    columns += [("Error", "left")] if with_errors else []
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="ellipsis" if name == "Error" else "fold", no_wrap=name == "Error")
    for u in result.units:
        ev = u.evaluation
        rec = cost = saved = ""
        if ev is not None:  # the presentation layer's cost basis and saving, as in the memo and roll-up
            rec = T(ev.recommendation.label)
            basis = cost_basis(ev)
            cost = f"${ev.options[basis].total_monthly:,.0f}/mo"
            stake = savings_vs_today(ev)
            saved = "as today" if stake.versus == stake.basis else f"{'' if stake.monthly >= 0 else '-'}${abs(stake.monthly):,.0f}"
        status = "[green]OK[/]" if u.ok else f"[red]{u.status.upper()}[/]"
        if result.mail != "none" and u.mail_status:
            status += f" ({u.mail_status})"
        table.add_row(str(u.position), T(u.name), T(u.folder + "/"), status, rec, cost, saved, *([T(_short(u.error))] if with_errors else []))
    for name, error in result.portfolio_errors.items():
        table.add_row("", f"portfolio ({name})", "", "[red]FAILED[/]", "", "", "", T(_short(error)))
    console.print(table)
    failed = [u for u in result.units if u.error and not u.problems]  # input problems were listed above
    if failed or result.portfolio_errors:
        console.print("[bold red]Errors[/] (tracebacks in run.log):")
    for u in failed:
        console.print(f"  {T(u.name, markup=False)}: {T(u.error, markup=False)}", markup=False, highlight=False)
    for name, error in result.portfolio_errors.items():
        console.print(f"  portfolio ({name}): {T(error, markup=False)}", markup=False, highlight=False)


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _print_where_to_look(console, result) -> None:
    out = result.out_dir
    console.print(f"\n[bold]Outputs in {T(out)}/[/]  (as of {result.as_of.isoformat()}, {result.seconds:.1f} s, {result.jobs} job(s))", highlight=False)
    for name, what in (("portfolio.pdf", "portfolio memo: start here"), ("portfolio.xlsx", "portfolio roll-up workbook"),
                       ("summary.csv", "one row per BU (also summary.json)"), ("run.log", "timings and every error")):
        if name in result.files:
            console.print(f"  {T(out / name)}  - {what}", highlight=False)
    if result.ok_units:
        first = result.ok_units[0]
        console.print(f"  {T(out / first.folder)}/  - per BU: {T(', '.join(Path(f).name for f in first.files))}", highlight=False)

"""`runrate memo` (PDF decision memos) and `runrate mail` (email them: drafts by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import (T, TEMPLATES_HELP, console, err_console, evaluate_all, fail, need, parse_as_of,
                      scenarios_from_args, use_templates)

NO_SOURCES = "give one or more scenario files (YAML, JSON or a scenario workbook) or --preset NAME"


def _unique_names(evaluations) -> list[str]:
    """A safe file stem per business unit (the library's one unique-name rule)."""
    from ..fsutil import unique_names

    return unique_names(ev.scenario.name for ev in evaluations)


def memo(
    sources: Optional[list[Path]] = typer.Argument(None, help="Scenario files: YAML/JSON or scenario workbooks (.xlsx)."),
    preset: Optional[list[str]] = typer.Option(None, "--preset", "-p", help="A shipped preset (repeatable)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="PDF to write (one BU or --portfolio), or a folder for several memos."),
    portfolio: bool = typer.Option(False, "--portfolio", help="One memo summarising all the business units given."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Catalog prices in force on this date (YYYY-MM-DD)."),
    memo_date: Optional[str] = typer.Option(None, "--date", help="Date printed on the memo (default: SOURCE_DATE_EPOCH or today)."),
    templates: Optional[Path] = typer.Option(None, "--templates", help=TEMPLATES_HELP, file_okay=False),
) -> None:
    """Render PDF decision memos: one per business unit, or a portfolio summary."""
    need("runrate memo", "memo")
    use_templates(templates)
    from ..engine.errors import RunrateError
    from ..report import render_memo, render_portfolio_memo

    evaluations = evaluate_all(scenarios_from_args(sources, preset, NO_SOURCES), parse_as_of(as_of))
    day = parse_as_of(memo_date, "--date")
    try:
        if portfolio:
            target = output or Path("portfolio-memo.pdf")
            _check_pdf_name(target)
            render_portfolio_memo(evaluations, target, memo_date=day)
            console.print(f"Wrote {T(target)} ({len(evaluations)} business units)", highlight=False)
            return
        if len(evaluations) == 1 and (output is None or output.suffix.lower() == ".pdf"):
            target = output or Path(f"{_unique_names(evaluations)[0]}-memo.pdf")
            render_memo(evaluations[0], target, memo_date=day)
            console.print(f"Wrote {T(target)}", highlight=False)
            return
        folder = output or Path("memos")
        if folder.suffix.lower() == ".pdf":
            raise fail(f"--output: got {str(folder)!r} for {len(evaluations)} memos, expected a folder (or add --portfolio)", 2)
        for ev, stem in zip(evaluations, _unique_names(evaluations)):
            target = folder / f"{stem}-memo.pdf"
            render_memo(ev, target, memo_date=day)
            console.print(f"Wrote {T(target)}", highlight=False)
    except RunrateError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"could not write the memo: {exc}") from None


def mail(
    sources: Optional[list[Path]] = typer.Argument(None, help="Scenario files: YAML/JSON or scenario workbooks (.xlsx)."),
    preset: Optional[list[str]] = typer.Option(None, "--preset", "-p", help="A shipped preset (repeatable)."),
    drafts: Optional[Path] = typer.Option(None, "--drafts", help="Folder for the .eml drafts (default: mail-drafts)."),
    send: bool = typer.Option(False, "--send", help="Send through SMTP (RUNRATE_SMTP_* or --smtp-config) instead of drafting."),
    force: bool = typer.Option(False, "--force", help="Send again memos the ledger says were already sent."),
    sender: Optional[str] = typer.Option(None, "--from", help="From address (default: RUNRATE_SMTP_FROM)."),
    to: Optional[str] = typer.Option(None, "--to", help="Send every memo to this address instead of each owner_email."),
    smtp_config: Optional[Path] = typer.Option(None, "--smtp-config", help="TOML/YAML SMTP settings (password stays in RUNRATE_SMTP_PASSWORD)."),
    ledger: Path = typer.Option(Path("runrate-mail-ledger.json"), "--ledger", help="JSON record of what was sent."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Catalog prices in force on this date (YYYY-MM-DD)."),
    memo_date: Optional[str] = typer.Option(None, "--date", help="Date printed on the memos."),
    templates: Optional[Path] = typer.Option(None, "--templates", help=TEMPLATES_HELP, file_okay=False),
) -> None:
    """Email each business unit's memo to its owner: .eml drafts by default, --send to send."""
    need("runrate mail", "memo")
    use_templates(templates)
    from ..engine.errors import RunrateError
    from ..mail import SmtpSettings, build_message, resolve_sender, send_messages, write_draft
    from ..report import render_memo

    evaluations = evaluate_all(scenarios_from_args(sources, preset, NO_SOURCES), parse_as_of(as_of))
    day = parse_as_of(memo_date, "--date")
    settings = None
    try:
        if send:
            settings = SmtpSettings.from_file(smtp_config) if smtp_config else SmtpSettings.from_env()
        from_addr = resolve_sender(sender, settings)
    except RunrateError as exc:
        raise fail(str(exc), 2) from None

    messages, problems = [], 0
    folder = drafts or Path("mail-drafts")
    for ev, stem in zip(evaluations, _unique_names(evaluations)):
        try:
            pdf = render_memo(ev, memo_date=day)
            msg = build_message(ev, pdf, sender=from_addr, to=to, memo_filename=f"{stem}-memo.pdf", memo_date=day)
        except RunrateError as exc:  # one bad unit (no owner, bad address) does not stop the others
            err_console.print(f"[red]x[/] {T(ev.scenario.name)}: {T(exc)}", highlight=False, markup=True)
            problems += 1
            continue
        if not send or drafts is not None:
            try:
                path = write_draft(msg, folder / f"{stem}.eml")
            except OSError as exc:
                raise fail(f"could not write the draft: {exc}") from None
            console.print(T(f"Draft {path}  ->  {msg['To']}", markup=False), highlight=False, markup=False)
        messages.append(msg)
    if send and messages:
        try:
            results = send_messages(messages, settings, ledger_path=ledger, force=force)
        except RunrateError as exc:
            raise fail(str(exc)) from None
        for r in results:
            mark = {"sent": "sent", "skipped": "skipped", "failed": "FAILED"}[r.status]
            line = f"{mark:<8} {r.bu}  ->  {r.to}" + (f"  ({r.error})" if r.error else "")
            (console if r.ok else err_console).print(T(line, markup=False), highlight=False, markup=False)
            problems += 0 if r.ok else 1
        console.print(f"Ledger: {T(ledger)}", highlight=False)
    elif not send:
        console.print("Nothing was sent (drafts only); add --send to send through SMTP.", highlight=False)
    if problems:
        raise typer.Exit(1)


def _check_pdf_name(path: Path) -> None:

    if path.suffix.lower() != ".pdf":
        raise fail(f"--output: got {str(path)!r}, expected a file name ending in .pdf", 2)

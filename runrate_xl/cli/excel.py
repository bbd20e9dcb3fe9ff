"""`runrate excel`: the starter workbook for the RUNRATE_* functions, and xlwings Lite files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import console, fail, need

from ..sinks import terminal_text as T


def excel(
    output: Path = typer.Option(Path("runrate_functions.xlsm"), "--output", "-o", help="Starter workbook to write (.xlsm or .xlsx)."),
    lite: Optional[Path] = typer.Option(None, "--lite", help="Also write main.py and requirements.txt for xlwings Lite into this folder."),
    wheel_url: Optional[str] = typer.Option(None, "--wheel-url", help="URL of a runrate_xl wheel for xlwings Lite's requirements.txt."),
) -> None:
    """Write a starter workbook demonstrating every RUNRATE_* Excel function, and print the set-up steps."""
    need("runrate excel", "excel" if output.suffix.lower() == ".xlsm" else "workbook")
    from ..excel_setup import build_workbook, desktop_steps, lite_steps, write_lite

    if output.suffix.lower() not in (".xlsm", ".xlsx"):
        raise fail(f"--output: got {str(output)!r}, expected a file name ending in .xlsm or .xlsx", 2)
    if wheel_url is not None and lite is None:
        raise fail("--wheel-url: only used with --lite DIR", 2)
    if wheel_url is not None and (not wheel_url.startswith(("https://", "http://")) or any(c in wheel_url for c in "\r\n \t")):
        raise fail(f"--wheel-url: got {wheel_url!r}, expected an http(s) URL of a .whl file", 2)
    try:
        build_workbook(output)
        lite_files = write_lite(lite, wheel_url) if lite is not None else []
    except OSError as exc:
        raise fail(f"could not write: {exc}") from None
    console.print(f"Wrote {T(output)}", highlight=False)
    console.print("\n[bold]Desktop Excel on Windows (xlwings add-in)[/]")
    for i, step in enumerate(desktop_steps(output), start=1):
        console.print(T(f"  {i}. {step}", markup=False), highlight=False, markup=False)
    if lite is not None:
        for path in lite_files:
            console.print(f"Wrote {T(path)}", highlight=False)
        console.print("\n[bold]xlwings Lite (Excel on Windows, Mac and the web)[/]")
        for i, step in enumerate(lite_steps(lite), start=1):
            console.print(T(f"  {i}. {step}", markup=False), highlight=False, markup=False)
        if wheel_url is None:
            console.print("[yellow]requirements.txt has a placeholder for the runrate_xl wheel URL: build and host the wheel, "
                          "then replace it (or rerun with --wheel-url).[/]", highlight=False)

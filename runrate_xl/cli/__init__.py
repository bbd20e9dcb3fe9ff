"""The ``runrate`` command line. It mirrors the library: every command is a thin call into
``runrate_xl.api`` / ``catalog`` / ``presets`` / the adapters and formats the result.

This module builds ``app`` from the command modules, one per command group, imported
explicitly; they share ``_common`` and never import this module. Nothing in the library
imports the CLI (the console script ``runrate_xl.entry`` does).
"""

from __future__ import annotations

import typer

from .. import __version__
from . import batch, core, excel, memo, workbook
from ._common import console

app = typer.Typer(
    name="runrate",
    help="The true cost of running AI: API vs fine-tuned vs self-hosted LLMs, from one cost engine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"runrate_xl {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    """runrate: cost engine, Excel functions, scenario workbooks and decision memos."""


# The commands, in the order `runrate --help` lists them.
app.command("evaluate")(core.evaluate)
app.command("presets")(core.list_presets)
app.command("schema")(core.schema)
app.command("prices")(core.prices)
app.command("gpus")(core.gpus)
app.command("scenario")(core.show_scenario)
app.command("excel")(excel.excel)
app.command("workbook")(workbook.workbook)
app.command("read")(workbook.read)
app.command("rollup")(workbook.rollup)
app.command("memo")(memo.memo)
app.command("mail")(memo.mail)
app.command("batch")(batch.batch)
app.command("input-template")(batch.input_template)

__all__ = ["app"]

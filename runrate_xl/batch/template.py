"""The batch input workbook: every column with its help, and data validation on the cells.

``runrate input-template -o units.xlsx`` writes it empty; the shipped examples are written by
the same code with rows filled in, so the template, the examples and the parser share one
column table (:mod:`runrate_xl.batch.columns`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable, Mapping

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..fsutil import atomic_write_bytes, atomic_write_text
from .columns import COLUMNS, Column, describe_kind
from .inputs import SHEET_NAME

VALIDATED_ROWS = 500  # data validation and formats reach this many BU rows
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # the project's input-cell colour
_HEADER_FILL = PatternFill("solid", fgColor="1F3864")
_SECTION_FILL = PatternFill("solid", fgColor="D9E1F2")


def write_input_workbook(path: Path | str, rows: Iterable[Mapping[str, Any]] = ()) -> Path:
    """Write the input workbook (sheet 'Business units' + 'Help'); ``rows`` fill it in."""
    rows = list(rows)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    _units_sheet(ws, rows)
    _help_sheet(wb.create_sheet("Help"))
    buffer = io.BytesIO()
    wb.save(buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def write_input_csv(path: Path | str, rows: Iterable[Mapping[str, Any]]) -> Path:
    """The same rows as CSV (UTF-8, comma-separated, every column in the template's order)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.name for c in COLUMNS])
    for row in rows:
        writer.writerow(["" if row.get(c.name) is None else _csv_text(row[c.name]) for c in COLUMNS])
    return atomic_write_text(path, buffer.getvalue())


def _csv_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _units_sheet(ws, rows: list[Mapping[str, Any]]) -> None:
    last_row = max(VALIDATED_ROWS, len(rows)) + 1
    for index, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        head = ws.cell(row=1, column=index, value=col.name)
        head.font = Font(bold=True, color="FFFFFF")
        head.fill = _HEADER_FILL
        head.alignment = Alignment(wrap_text=True, vertical="top")
        head.comment = Comment(f"{col.section}. {col.help}\nExpected: {describe_kind(col)}.", "runrate_xl", width=320, height=140)
        ws.column_dimensions[letter].width = max(12, min(34, len(col.name) + 2))
        validation = _validation(col)
        if validation is not None:
            ws.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{last_row}")
        for r, row in enumerate(rows, start=2):
            value = row.get(col.name)
            if value is None:
                continue
            cell = ws.cell(row=r, column=index, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # untrusted text stays text, never a formula
        for r in range(2, last_row + 1):
            cell = ws.cell(row=r, column=index)
            cell.fill = _INPUT_FILL
            if col.kind == "fraction":
                cell.number_format = "0.0%"
            elif col.kind in ("number", "integer") and "price" not in col.name:
                cell.number_format = "#,##0.##"
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 32


def _validation(col: Column) -> DataValidation | None:
    message = describe_kind(col)
    common = dict(allow_blank=True, showErrorMessage=True, errorTitle=col.name[:32], error=message[:255],
                  showInputMessage=True, promptTitle=col.name[:32], prompt=col.help[:255])
    if col.kind == "choice":
        return DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"', **common)
    if col.kind in ("number", "integer", "fraction", "rate"):
        low, high = col.bounds
        kind = "whole" if col.kind == "integer" else "decimal"
        if low is not None and high is not None:
            return DataValidation(type=kind, operator="between", formula1=f"{low:g}", formula2=f"{high:g}", **common)
        if low is not None:
            return DataValidation(type=kind, operator="greaterThanOrEqual", formula1=f"{low:g}", **common)
        return DataValidation(type=kind, operator="between", formula1="-1E+300", formula2="1E+300", **common)
    if col.kind == "email":
        return DataValidation(type="textLength", operator="between", formula1="3", formula2="254", **common)
    return DataValidation(type="textLength", operator="lessThanOrEqual", formula1="4000", **common)


def _help_sheet(ws) -> None:
    ws.append(["How to fill in the 'Business units' sheet"])
    ws["A1"].font = Font(bold=True, size=13)
    for line in (
        "One row per business unit (BU). Leave a cell empty to use the default shown here.",
        "Volume: give tokens_per_day, or requests_per_month with tokens_per_request.",
        "API prices: give api_model (catalog prices) and/or api_input_price_per_1m and api_output_price_per_1m.",
        "Options: fill any finetune_ column to add the fine-tuned option, any selfhost_ column to add self-hosting.",
        "Options by id: add columns <id>.kind and <id>.<field>, e.g. mini.kind = api, mini.model = gpt-4o-mini.",
        "Hidden costs (review, observability, tools, ...) apply to every option the row defines.",
        "scenario_file: a full scenario YAML next to this workbook; the row's non-empty cells override it.",
        "Then run: runrate batch units.xlsx --out out",
    ):
        ws.append([line])
    ws.append([])
    ws.append(["column", "section", "expected", "default", "meaning", "example"])
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = _SECTION_FILL
    for col in COLUMNS:
        default = col.default if col.name != "name" else None
        ws.append([col.name, col.section, describe_kind(col), "" if default is None else default, col.help,
                   "" if col.example is None else col.example])
    for letter, width in zip("ABCDEF", (32, 26, 44, 12, 90, 26)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = f"A{header_row + 1}"

"""Portfolio roll-up: one row per business unit, totals and a chart.

Savings versus today are the presentation layer's (:func:`runrate_xl.presentation.savings_vs_today`):
the monthly cost of the option the BU runs today minus that of the recommendation's cost basis
(a recommended mix or cascade is an option with its real cost at its split; only the cost-less
*hybrid* word of a scenario without a mix option falls back to its cheapest eligible option, an
upper bound, since some traffic stays on the other route). One column per option id found in the units, in first-seen order; those columns
are not totalled (different units' alternatives do not add up to anything).
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Optional, Sequence

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference, Series
from openpyxl.utils import get_column_letter

from ..engine.results import Evaluation
from ..fsutil import atomic_write_bytes
from ..presentation import cost_basis, label, savings_vs_today
from . import styles as S
from .generate import WorkbookError, _patch_sheet
from .layout import INT, PCT, USD
from .zipnorm import FIXED_TIME, fixed_core_properties, read_zip, write_zip

LEADING = [
    # header, unit, width, number format
    ("Business unit", "", 34, "@"),
    ("Runs today on", "option", 14, "@"),
]
TRAILING = [
    ("Recommendation", "engine", 15, "@"),
    ("Cost today", "USD/month", 14, USD),
    ("Cost recommended", "USD/month", 15, USD),
    ("Savings vs today", "USD/month", 15, USD),
    ("Savings per year", "USD/year", 15, USD),
    ("Break-even", "tokens/day", 16, INT),
    ("Volume today", "tokens/day", 16, INT),
    ("Hidden share today", "%", 12, PCT),
]
FIRST_ROW = 6


def option_ids(evaluations: Sequence[Evaluation]) -> list[str]:
    """Every option id of the units, in first-seen order."""
    return list(dict.fromkeys(o for ev in evaluations for o in ev.options))


def rollup_columns(evaluations: Sequence[Evaluation]) -> list[tuple[str, str, int, str]]:
    """(header, unit, width, number format) of each column: one per option id between the fixed ones."""
    first = {}
    for ev in evaluations:
        for o in ev.options:
            first.setdefault(o, label(ev, o))
    return LEADING + [(first[o], "USD/month", 14, USD) for o in option_ids(evaluations)] + TRAILING


def rollup_rows(evaluations: Sequence[Evaluation]) -> list[list]:
    """Values of each BU row (formula columns hold the engine value they must show)."""
    rows = []
    ids = option_ids(evaluations)
    for ev in evaluations:
        saved = savings_vs_today(ev)
        current = saved.versus
        today, rec_cost = ev.options[current].total_monthly, ev.options[cost_basis(ev)].total_monthly
        be = ev.breakeven
        rows.append([
            ev.scenario.name, label(ev, current),
            *[(ev.options[o].total_monthly if o in ev.options else None) for o in ids],
            ev.recommendation.label, today, rec_cost, saved.monthly, saved.per_year,
            be.tokens_per_day if be.found else ("none" if be.option_a != be.option_b else ""),
            ev.scenario.volume.daily_tokens, ev.options[current].hidden_share,
        ])
    return rows


def rollup_bytes(evaluations: Sequence[Evaluation], sources: Optional[Sequence[str]] = None,
                 as_of: Optional[dt.date] = None) -> bytes:
    """The roll-up as xlsx bytes. ``sources``: each unit's workbook (the file its values come from),
    ``as_of``: the day they were evaluated; both are written beside the values, which are copies
    and do not follow later edits of those workbooks."""
    if not evaluations:
        raise WorkbookError("write_rollup: got no evaluations, expected at least one business unit")
    wb = Workbook()
    ws = wb.active
    ws.title = "Portfolio"
    ws.sheet_view.showGridLines = False
    columns = rollup_columns(evaluations)
    if sources is not None:
        if len(sources) != len(evaluations):
            raise WorkbookError(f"write_rollup: got {len(sources)} source files for {len(evaluations)} business units, expected one each")
        columns = columns + [("Values from", "file", max(14, 2 + max(len(x) for x in sources)), "@")]
    ws.column_dimensions["A"].width = 2
    ws["B1"] = "Portfolio roll-up: LLM cost by business unit"
    ws["B1"].font = S.TITLE
    ws["B2"] = (f"{len(evaluations)} business units. Savings vs today = cost of today's option minus cost of the "
                "recommended option (hybrid: its cheapest eligible option). USD per month unless marked.")
    ws["B2"].font = S.NOTE
    when = f" as evaluated on {as_of.isoformat()}" if as_of else ""
    where = " (each unit's file: Values from)" if sources is not None else ""
    ws["B3"] = (f"Monthly costs and recommendations are values copied from the engine's results{where}{when}: they do not "
                "follow later edits of a unit's workbook (run the batch again). Savings and totals are live formulas. "
                "Option columns are not totalled: different units' alternatives do not add up.")
    ws["B3"].font = S.NOTE
    for i, (head, unit, width, _fmt) in enumerate(columns):
        col = get_column_letter(2 + i)
        ws.column_dimensions[col].width = width
        c = ws[f"{col}4"]
        c.value, c.font, c.fill, c.alignment = head, S.HEADER, S.HEADER_FILL, S.CENTER
        u = ws[f"{col}5"]
        u.value, u.font, u.alignment = unit, S.UNIT, S.CENTER
    ws.row_dimensions[4].height = 30
    cached: dict[str, object] = {}
    rows = rollup_rows(evaluations)
    if sources is not None:
        rows = [row + [src] for row, src in zip(rows, sources)]
    last = FIRST_ROW + len(rows) - 1
    L_ = {h: get_column_letter(2 + i) for i, (h, *_r) in enumerate(columns)}
    for r, values in enumerate(rows, start=FIRST_ROW):
        for i, ((head, _unit, _w, fmt), value) in enumerate(zip(columns, values)):
            col = get_column_letter(2 + i)
            cell = ws[f"{col}{r}"]
            if head == "Savings vs today":
                cell.value = f"={L_['Cost today']}{r}-{L_['Cost recommended']}{r}"
                cached[f"{col}{r}"] = value
            elif head == "Savings per year":
                cell.value = f"={L_['Savings vs today']}{r}*$C${last + 3}"
                cached[f"{col}{r}"] = value
            else:
                cell.value = "" if value is None else value  # str values are written as text, never formulas
                if isinstance(value, str):
                    cell.data_type = "s"
            cell.number_format = fmt
            cell.font = S.LABEL
    tr = last + 1
    ws[f"B{tr}"] = "Total"
    ws[f"B{tr}"].font = S.BOLD
    for head in ("Cost today", "Cost recommended", "Savings vs today", "Savings per year"):
        col = L_[head]
        ws[f"{col}{tr}"] = f"=SUM({col}{FIRST_ROW}:{col}{last})"
        ws[f"{col}{tr}"].number_format = USD
        ws[f"{col}{tr}"].font = S.BOLD
        idx = [h for h, *_ in columns].index(head)
        cached[f"{col}{tr}"] = sum(v[idx] for v in rows if isinstance(v[idx], (int, float)))
    for col in [get_column_letter(2 + i) for i in range(len(columns))]:
        ws[f"{col}{tr}"].border = S.TOP_BORDER
        ws[f"{col}{tr}"].fill = S.TOTAL_FILL
    ws[f"B{last + 3}"] = "Months per year"
    ws[f"C{last + 3}"] = 12
    ws[f"C{last + 3}"].fill = S.CONSTANT_FILL
    ws[f"B{last + 3}"].font = S.NOTE

    chart = BarChart()
    chart.type = "bar"
    chart.title = "Monthly cost: today vs recommended"
    chart.x_axis.title = None
    chart.y_axis.title = "USD/month"
    chart.y_axis.numFmt = "$#,##0"
    for head in ("Cost today", "Cost recommended"):
        col = [h for h, *_ in columns].index(head) + 2
        series = Series(Reference(ws, min_col=col, min_row=FIRST_ROW, max_row=last), title=head)
        series.graphicalProperties.solidFill = "A5A5A5" if head == "Cost today" else "1F3864"
        chart.series.append(series)
    chart.set_categories(Reference(ws, min_col=2, min_row=FIRST_ROW, max_row=last))
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.height = max(7.5, 1.2 * len(rows) + 4)
    chart.width = 22
    ws.add_chart(chart, f"B{last + 5}")
    ws.freeze_panes = f"C{FIRST_ROW}"
    ws.print_area = f"A1:{get_column_letter(1 + len(columns))}{last + 5 + int(chart.height * 2)}"
    ws.print_title_rows = "4:5"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.creator = "runrate_xl"
    wb.properties.title = "runrate_xl portfolio roll-up"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    entries = []
    for name, data in read_zip(buf.getvalue()):
        if name == "xl/worksheets/sheet1.xml":
            data = _patch_sheet(data.decode("utf-8"), {}, cached).encode("utf-8")
        elif name == "docProps/core.xml":
            data = fixed_core_properties(data.decode("utf-8")).encode("utf-8")
        entries.append((name, data))
    return write_zip(entries)


def write_rollup(evaluations: list[Evaluation], path, sources: Optional[Sequence[str]] = None,
                 as_of: Optional[dt.date] = None) -> Path:
    """Write the portfolio roll-up workbook (atomically) and return its path."""
    return atomic_write_bytes(Path(path), rollup_bytes(list(evaluations), sources, as_of))

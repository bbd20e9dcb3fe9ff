"""Builds a scenario workbook template for one shape (the scenario's options as (id, kind)):
the scenario model with live formulas, one column per option, one formula block per option
(written by its kind's block, ``blocks.py``).

The legacy shape's template is shipped as ``workbook_templates/scenario.xlsx`` (package data
``runrate_xl.workbook_templates``): run ``python -m runrate_xl.workbook.template`` after changing
this file; a test checks that the shipped template matches what this builder makes. Other shapes
are built on first use and kept for the process (:func:`template_bytes` is cached). Formulas use
defined names (``in_*`` inputs, ``k_*`` constants, ``c_*`` calculations) and only functions
Excel 2016+ and LibreOffice 7.4 both have. The only numbers inside formulas are 0 and 1; every
other constant is a named cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.marker import Marker
from openpyxl.chart.series import SeriesLabel
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import absolute_coordinate
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from ..engine.kinds import KINDS
from . import layout as L
from . import styles as S
from .blocks import block_of, capacity_instances, composite_cash, escalated_off, op_cost, op_units, sh_cost
from .catalog_sheet import build_catalog
from .zipnorm import FIXED_TIME

# The shipped template, found through importlib.resources (in a checkout or an editable install
# this is the repository's workbook_templates/scenario.xlsx, which the build maps into the package).
TEMPLATE_PATH = Path(str(resources.files("runrate_xl.workbook_templates").joinpath("scenario.xlsx")))
PALETTE = ("4472C4", "ED7D31", "70AD47", "7030A0", "C00000", "00B0F0", "FFC000", "7F7F7F")


def colour(slot: L.Slot) -> str:
    return PALETTE[slot.index % len(PALETTE)]


def _abs(cell: str) -> str:
    return absolute_coordinate(cell)


class Book:
    """An openpyxl workbook plus helpers that style cells and register defined names."""

    def __init__(self, lay: L.Layout) -> None:
        self.lay = lay
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self.sheets = {name: self.wb.create_sheet(name) for name in L.SHEETS}
        self.names: dict[str, str] = {}
        self.lists_col = 8  # the next free column of the Lists sheet (break-even segment tables from H)
        self.chart_col = "H"
        self.curve: tuple = ()

    def define(self, name: str, sheet: str, ref: str) -> None:
        if name in self.names:
            raise L.LayoutError(f"options: the ids {', '.join(self.lay.ids)} give the workbook name {name} twice; "
                                "expected ids whose names do not run into another option's or the model's names")
        if ":" in ref:
            a, b = ref.split(":")
            target = f"'{sheet}'!{_abs(a)}:{_abs(b)}"
        else:
            target = f"'{sheet}'!{_abs(ref)}"
        self.names[name] = target
        self.wb.defined_names[name] = DefinedName(name, attr_text=target)

    def ws(self, name: str) -> Worksheet:
        return self.sheets[name]


def _title(ws: Worksheet, title: str, subtitle: str = "") -> None:
    ws["B1"] = title
    ws["B1"].font = S.TITLE
    ws["B2"] = "=\"Business unit: \"&in_name"
    ws["B2"].font = S.SUBTITLE
    if subtitle:
        ws["B3"] = subtitle
        ws["B3"].font = S.NOTE
    ws.column_dimensions["A"].width = 2
    ws.sheet_view.showGridLines = False
    ws.sheet_view.zoomScale = 100


def _section(ws: Worksheet, row: int, text: str, last_col: str = "E") -> None:
    for col in range(2, _col_index(last_col) + 1):
        ws.cell(row=row, column=col).fill = S.SECTION_FILL
    ws.cell(row=row, column=2, value=text).font = S.SECTION


def _header(ws: Worksheet, row: int, labels: Iterable[str], first_col: str = "B") -> None:
    for i, text in enumerate(labels):
        c = ws.cell(row=row, column=_col_index(first_col) + i, value=text)
        c.font, c.fill, c.alignment = S.HEADER, S.HEADER_FILL, S.CENTER


def _option_header(ws: Worksheet, lay: L.Layout, row: int, first: str, last: Optional[str] = None) -> None:
    """A header row: ``first`` in B, each option's live label, ``last`` after them."""
    _header(ws, row, [first])
    for s in lay.slots:
        _calc(ws, f"{s.col}{row}", f"=c_{s.frag}_label", "@", S.HEADER)
        ws[f"{s.col}{row}"].fill, ws[f"{s.col}{row}"].alignment = S.HEADER_FILL, S.CENTER
    if last is not None:
        _header(ws, row, [last], lay.unit_col)
    ws.row_dimensions[row].height = 27  # two lines: a label such as "Self-hosted (rent-capacity)" wraps


def _col_index(col: str) -> int:
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(col)


def _calc(ws: Worksheet, cell: str, formula: str, fmt: str = "General", font=S.CALC) -> None:
    c = ws[cell]
    c.value = formula
    c.number_format = fmt
    c.font = font


def _unit(ws: Worksheet, cell: str, text: str) -> None:
    ws[cell] = text
    ws[cell].font = S.UNIT


def _na(ws: Worksheet, cell: str) -> None:
    ws[cell] = "-"
    ws[cell].font, ws[cell].fill, ws[cell].alignment = S.UNIT, S.NA_FILL, S.CENTER


def _protect(ws: Worksheet) -> None:
    # Protected without a password: a guard against accidental edits, not a lock.
    p = ws.protection
    p.sheet = True
    p.formatColumns = False
    p.formatRows = False
    p.formatCells = False


# ---------------------------------------------------------------------------------------------
# Inputs and Prices


def _validation(spec: L.InputSpec, kind: Optional[str] = None) -> Optional[DataValidation]:
    title = spec.label[:32]
    prompt = spec.help
    listed = L.CATALOG_LISTS.get((kind, spec.path.split(".", 1)[1])) if kind and spec.option else None
    if listed is not None:
        dv = DataValidation(type="list", formula1=listed, allow_blank=True)
        prompt = f"{prompt} One of the Catalog sheet's names (blank: not used)."
    elif spec.kind in ("choice", "yesno"):
        dv = DataValidation(type="list", formula1='"' + ",".join(spec.choices) + '"', allow_blank=spec.optional)
        prompt = f"{prompt} One of: {', '.join(spec.choices)}."
    elif spec.kind in ("number", "int"):
        kind = "whole" if spec.kind == "int" else "decimal"
        lo, hi = spec.minimum, spec.maximum
        if lo is not None and hi is not None:
            dv = DataValidation(type=kind, operator="between", formula1=repr(float(lo)), formula2=repr(float(hi)))
        elif lo is not None:
            dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=repr(float(lo)))
        elif hi is not None:
            dv = DataValidation(type=kind, operator="lessThanOrEqual", formula1=repr(float(hi)))
        else:
            dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1="-1E+300")
        dv.allow_blank = spec.optional
        bounds = []
        if lo is not None:
            bounds.append(f"{'>' if spec.min_exclusive else '>='} {lo:g}")
        if hi is not None:
            bounds.append(f"{'<' if spec.max_exclusive else '<='} {hi:g}")
        if bounds:
            prompt = f"{prompt} Allowed: {' and '.join(bounds)}{' (fraction: 0.8 = 80%)' if spec.fmt == L.PCT else ''}."
    elif spec.kind == "text":
        dv = DataValidation(type="textLength", operator="lessThanOrEqual", formula1=str(spec.max_length or 255),
                            allow_blank=True)
    else:
        return None
    if spec.optional:
        prompt += " Leave blank if not applicable."
    dv.promptTitle = title
    dv.prompt = prompt[:255]
    dv.errorTitle = "Not allowed"
    dv.error = f"{spec.label}: {prompt}"[:225]
    dv.showInputMessage = True
    dv.showErrorMessage = True
    dv.add(spec.cell)
    return dv


def _input_cell(book: Book, spec: L.InputSpec) -> None:
    ws = book.ws(spec.sheet)
    c = ws[spec.cell]
    c.font, c.fill, c.border, c.protection = S.INPUT, S.INPUT_FILL, S.INPUT_BORDER, S.UNLOCKED
    c.number_format = spec.fmt
    if spec.path == "notes":
        c.alignment = S.WRAP
    dv = _validation(spec, book.lay.slot(spec.option).kind if spec.option else None)
    if dv is not None:
        ws.add_data_validation(dv)
    book.define(spec.name, spec.sheet, spec.cell)


def _option_table(book: Book, sheet: str, title: str, last_col: str) -> None:
    """A table of one option field per row, one option per column (the layout's cells)."""
    lay = book.lay
    ws = book.ws(sheet)
    r = (lay.input_sections if sheet == L.INPUTS else lay.price_sections)[title]
    _section(ws, r, title, last_col)
    _option_header(ws, lay, r + 1, "Per option", "Unit")
    specs = {s.path: s for s in lay.specs if s.sheet == sheet}
    for i, (rest, label, unit, _fmt) in enumerate(lay.option_rows[title]):
        row = r + 2 + i
        ws.cell(row=row, column=2, value=label).font = S.LABEL
        _unit(ws, f"{lay.unit_col}{row}", unit)
        for s in lay.slots:
            cell = f"{s.col}{row}"
            if rest == "(id)":
                ws[cell] = s.id
                ws[cell].font, ws[cell].alignment = S.BOLD, S.CENTER
            elif rest == "(kind)":
                ws[cell] = KINDS[s.kind].label
                ws[cell].font, ws[cell].alignment = S.LABEL, S.CENTER
            elif rest == "included" and not s.switchable:
                ws[cell] = "Always"
                ws[cell].font, ws[cell].alignment = S.NOTE, S.CENTER
            elif f"{s.id}.{rest}" in specs and specs[f"{s.id}.{rest}"].row == row:
                _input_cell(book, specs[f"{s.id}.{rest}"])
            else:
                _na(ws, cell)
        notes = [specs[f"{s.id}.{rest}"].help for s in lay.slots if f"{s.id}.{rest}" in specs and specs[f"{s.id}.{rest}"].row == row]
        if notes and rest not in ("label", "included"):
            ws.cell(row=row, column=_col_index(lay.note_col), value=notes[0][:120]).font = S.NOTE


def _build_inputs(book: Book) -> None:
    lay = book.lay
    ws = book.ws(L.INPUTS)
    _title(ws, "Inputs", "Blue on yellow = input (unlocked). Change inputs here and on Prices; every other sheet follows.")
    ws.column_dimensions["B"].width = 44
    for s in lay.slots:
        ws.column_dimensions[s.col].width = 18
    for col in ("C", "D", "E"):
        ws.column_dimensions[col].width = max(ws.column_dimensions[col].width or 0, 18)
    ws.column_dimensions[lay.unit_col].width = max(ws.column_dimensions[lay.unit_col].width or 0, 16)
    ws.column_dimensions[lay.note_col].width = 60
    last_col = lay.note_col
    for title, r in lay.input_sections.items():
        if title not in lay.option_rows:
            _section(ws, r, title, last_col)
    for spec in lay.specs:
        if spec.sheet == L.INPUTS and spec.option is None:  # the scenario's own inputs: value C, unit D, note E
            ws.cell(row=spec.row, column=2, value=spec.label).font = S.LABEL
            _unit(ws, spec.unit_cell, spec.unit)
            ws.cell(row=spec.row, column=5, value=spec.help[:120]).font = S.NOTE
            _input_cell(book, spec)
            if spec.path == "notes":  # the label, unit and help beside the first line of a wrapped text
                for column in (2, 4, 5):
                    ws.cell(row=spec.row, column=column).alignment = S.TOP
    ws["C8"].alignment = S.WRAP
    for title in lay.option_rows:
        if title in lay.input_sections:
            _option_table(book, L.INPUTS, title, last_col)
    last = lay.inputs_last_row
    ws.cell(row=last, column=2, value="Review cost: give a cost per review, or minutes with an hourly rate (not both). "
            "Per-request items need a request size (requests per month or tokens per request).").font = S.NOTE
    ws.freeze_panes = "C5"
    ws.print_area = f"A1:{last_col}{last}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=True)
    _protect(ws)


def _build_prices(book: Book) -> None:
    lay = book.lay
    ws = book.ws(L.PRICES)
    _title(ws, "Prices", "Token and GPU prices in force (resolved from the catalog at generation; edit to override).")
    ws.column_dimensions["B"].width = 40
    for col in ["C", "D", "E"] + [s.col for s in lay.slots]:
        ws.column_dimensions[col].width = 18
    ws.column_dimensions[lay.unit_col].width = max(ws.column_dimensions[lay.unit_col].width or 0, 16)
    ws.column_dimensions[lay.note_col].width = 50
    last_col = lay.note_col
    for title in lay.option_rows:
        if title in lay.price_sections:
            _option_table(book, L.PRICES, title, last_col)
    for s in lay.of_kind("api"):
        title = f"Long-context price tiers: {s.id}"
        r = lay.price_sections[title]
        _section(ws, r, f"Long-context price tiers of {s.id} (whole request priced at the tier)", last_col)
        _header(ws, r + 1, ["Tier", "Above input tokens/request", "Input USD/1M tokens", "Output USD/1M tokens"])
        ws.row_dimensions[r + 1].height = 27
        first = lay.tier_rows[s.id]
        for i in range(L.MAX_TIERS):
            ws.cell(row=first + i, column=2, value=f"Tier {i + 1}").font = S.LABEL
            for spec in lay.tier_specs(s.id, i):
                _input_cell(book, spec)
        last = first + L.MAX_TIERS - 1
        for leaf, col in zip(("above", "input", "output"), "CDE"):
            book.define(f"tbl_{s.frag}_tier_{leaf}", L.PRICES, f"{col}{first}:{col}{last}")
        ws.cell(row=last + 1, column=2, value="Fill tiers from the top, thresholds increasing; leave unused rows blank.").font = S.NOTE
    r = lay.price_sections["Constants and conventions"]
    _section(ws, r, "Constants and conventions (used by every formula; not inputs)", last_col)
    for i, (name, (label, value, unit, note)) in enumerate(L.CONSTANTS.items()):
        row = lay.constant_first_row + i
        ws.cell(row=row, column=2, value=label).font = S.LABEL
        c = ws.cell(row=row, column=3, value=value)
        c.fill, c.font = S.CONSTANT_FILL, S.CALC
        c.number_format = ("0.0%" if value < 1 and value >= 0.01 else ("0.0E+00" if value < 0.01 else
                           ("0.00" if value != int(value) else "#,##0")))
        _unit(ws, f"D{row}", unit)
        ws.cell(row=row, column=5, value=note).font = S.NOTE
        book.define(name, L.PRICES, f"C{row}")
    extra = lay.constant_first_row + len(L.CONSTANTS)
    for i, (name, label, value, unit, note) in enumerate([
        ("k_half", "Cheaper-below probe", 0.5, "x break-even", "The engine compares options at half the break-even volume"),
        ("k_curve_span", "Cost-vs-volume chart span", 2.0, "x volume", "Chart runs to this multiple of the larger of current and break-even volume"),
        ("k_curve_reach", "Cost-vs-volume chart: break-even shown up to", 10.0, "x today's volume",
         "A break-even further out is named beside the chart, not drawn (the lines would coincide at today's volume)"),
    ] + ([("k_watts_per_kw", "Watts per kilowatt", 1000.0, "W/kW", "On-prem power: GPU board power is in W, electricity per kWh")]
         if lay.of_kind("on_prem") else [])):
        row = extra + i
        ws.cell(row=row, column=2, value=label).font = S.LABEL
        c = ws.cell(row=row, column=3, value=value)
        c.fill, c.font, c.number_format = S.CONSTANT_FILL, S.CALC, "0.00"
        _unit(ws, f"D{row}", unit)
        ws.cell(row=row, column=5, value=note).font = S.NOTE
        book.define(name, L.PRICES, f"C{row}")
    ws.freeze_panes = "C5"
    ws.print_area = f"A1:{last_col}{extra + 2}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=True)
    _protect(ws)


# ---------------------------------------------------------------------------------------------
# Calculations


class Calc:
    """Writes label | value | unit | formula note rows on the Calculations sheet."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.ws = book.ws(L.CALC)
        self.row = 5

    def section(self, title: str) -> None:
        self.row += 1
        _section(self.ws, self.row, title, "H")
        self.row += 1

    def line(self, name: str, label: str, formula: str, unit: str, fmt: str = "General", note: str = "",
             array: bool = False) -> str:
        r = self.row
        ws = self.ws
        ws.cell(row=r, column=2, value=label).font = S.LABEL
        cell = f"C{r}"
        if array:
            ws[cell] = ArrayFormula(cell, formula)
            ws[cell].number_format, ws[cell].font = fmt, S.CALC
        else:
            _calc(ws, cell, formula, fmt)
        _unit(ws, f"D{r}", unit)
        if note:
            ws.cell(row=r, column=5, value=note).font = S.NOTE
        self.book.define(name, L.CALC, cell)
        self.row += 1
        return cell


def _build_calculations(book: Book) -> None:
    lay = book.lay
    c = Calc(book)
    ws = c.ws
    _title(ws, "Calculations", "Every formula works on named inputs and constants; nothing is typed in here.")
    for col, width in {"B": 42, "C": 18, "D": 20, "E": 14, "F": 12, "G": 12, "H": 30}.items():
        ws.column_dimensions[col].width = width

    c.section("Volume")
    c.line("c_tokens_per_day", "Tokens per day (today)",
           "=IF(ISNUMBER(in_volume_tokens_per_day),in_volume_tokens_per_day,"
           "in_volume_requests_per_month*in_volume_tokens_per_request/in_volume_days_per_month)", "tokens/day", L.INT,
           "given, or requests x size / days")
    c.line("c_monthly_tokens", "Tokens per month", "=c_tokens_per_day*in_volume_days_per_month", "tokens/month", L.INT)
    c.line("c_request_size", "Tokens per request (given or implied)",
           "=IF(ISNUMBER(in_volume_tokens_per_request),in_volume_tokens_per_request,"
           "IF(AND(ISNUMBER(in_volume_requests_per_month),ISNUMBER(in_volume_tokens_per_day)),"
           "IF(in_volume_requests_per_month<>0,in_volume_tokens_per_day*in_volume_days_per_month/in_volume_requests_per_month,\"\"),\"\"))",
           "tokens/request", L.INT, "blank: no request size")
    c.line("c_has_size", "Request size known", "=ISNUMBER(c_request_size)", "TRUE/FALSE")
    c.line("c_requests_per_month", "Requests per month", "=IF(c_has_size,c_monthly_tokens/c_request_size,\"\")", "requests/month", L.INT)
    c.line("c_requests_rate", "Requests per month per token/day", "=IF(c_has_size,in_volume_days_per_month/c_request_size,0)",
           "requests/month per token/day", "0.000000", "days / size")
    c.line("c_input_per_request", "Input tokens per request", "=IF(c_has_size,c_request_size*in_volume_input_share,\"\")",
           "tokens/request", L.INT)
    c.line("c_volume_basis", "Volume basis for slopes and the grid", "=IF(c_tokens_per_day>0,c_tokens_per_day,k_probe_tokens_per_day)",
           "tokens/day", L.INT, "probe volume when today's is 0")

    for s in lay.slots:
        _option_block(c, lay, s)
    for a, b in lay.pairs():
        _pair_block(c, book, a, b)

    c.section("Primary break-even (the pair the decision hinges on)")
    expr = "0"
    for cand in reversed(lay.primary_candidates()):
        a, b = next((a, b) for a, b in lay.pairs() if {a.id, b.id} == {lay.anchor.id, cand.id})
        row = f"MATCH(\"{a.id} vs {b.id}\",k_pairs,0)"
        expr = row if cand.on == "TRUE" else f"IF({cand.on},{row},{expr})"
    idx = expr
    c.line("c_be_pidx", "Its row in the break-even table (0: no alternative)", f"={idx}", "row", "0")
    c.line("c_be_t", "Break-even volume", "=IF(ISNUMBER(out_be_tokens_per_day),out_be_tokens_per_day,\"\")", "tokens/day", L.INT)
    c.line("c_be_found", "Break-even found", "=ISNUMBER(c_be_t)", "TRUE/FALSE")

    c.section("Today's option, payback and discounting")
    c.line("c_cur_index", "Today's option (its position in the option list)",
           "=MATCH(in_context_current_option,k_option_keys,0)", "index", "0")
    c.line("c_cur_total", "Today's monthly cost", "=CHOOSE(c_cur_index," + ",".join(f"c_{s.frag}_total" for s in lay.slots) + ")",
           "USD/month", L.USD)
    c.line("c_cur_one_time", "Today's one-time cost",
           "=CHOOSE(c_cur_index," + ",".join(f"c_{s.frag}_one_time" for s in lay.slots) + ")", "USD", L.USD)
    c.line("c_migrates", "A phased move off today's option (switch month or overlap)",
           "=OR(N(in_horizon_switch_month)>0,N(in_horizon_overlap_months)>0)", "TRUE/FALSE",
           "other options carry today's option until the switch and both during the overlap")
    for s in lay.slots:
        o = s.frag
        k, row = f"c_{o}_pb_k", f"c_{o}_pb_row"
        c.line(k, f"{s.id}: last month not below today's cumulative cost", f"=MAX(ser_{o}_behind)", "month", "0",
               "-1: below from the start")
        c.line(row, f"{s.id}: its row in the cumulative series", f"={k}+1", "row", "0", "month 0 is row 1")
        waiting = f"OR({k}<0,{k}>=in_horizon_months)"
        for name, at, what in ((f"c_{o}_pb_gap", row, "in that month"), (f"c_{o}_pb_gap_next", f"{row}+1", "a month later")):
            today = ",".join(f"INDEX(ser_{x.frag}_cumulative,{at})" for x in lay.slots)
            c.line(name, f"{s.id}: cumulative cost above today's option {what}",
                   f"=IF({waiting},\"\",INDEX(ser_{o}_cumulative,{at})-CHOOSE(c_cur_index,{today}))", "USD", L.USD)
        c.line(f"c_{o}_payback", f"{s.id}: payback vs today's option",
               f"=IF(OR(in_context_current_option=\"{s.id}\",NOT({s.on})),\"\",IF({k}<0,0,IF({k}>=in_horizon_months,\"never\","
               f"{k}+c_{o}_pb_gap/(c_{o}_pb_gap-c_{o}_pb_gap_next))))", "months", L.MONTHS_FMT,
               "from the cumulative series, interpolated in the crossover month")
    c.line("c_monthly_discount", "Monthly discount rate", "=(1+in_horizon_discount_rate_per_year)^(1/k_months_per_year)-1", "%/month", "0.0000%")
    ws.freeze_panes = "C5"
    ws.print_area = f"A1:H{c.row}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=False)
    _protect(ws)


def _option_block(c: Calc, lay: L.Layout, s: L.Slot) -> None:
    """One option's block: switch and label, its kind's formulas, line items, totals."""
    ws, book = c.ws, c.book
    p, on = s.frag, s.on
    c.section(f"Option {s.id} ({KINDS[s.kind].label})")
    if s.switchable:
        c.line(f"c_{p}_on", "Included", f"=in_{p}_included=\"Yes\"", "TRUE/FALSE")
    c.line(f"c_{p}_label", "Label", f"=IF(LEN(in_{p}_label)>0,in_{p}_label,\"{s.default_label}\")", "text", "@")
    block = block_of(s.kind)
    if block.composite:
        _composite_block(c, lay, s, block)
        return
    h = f"in_{p}_hidden"
    c.line(f"c_{p}_review_unit", "Cost per human review",
           f"=IF(ISNUMBER({h}_cost_per_review),{h}_cost_per_review,IF(AND(ISNUMBER({h}_review_minutes),"
           f"ISNUMBER({h}_reviewer_hourly_rate)),{h}_review_minutes/k_minutes_per_hour*{h}_reviewer_hourly_rate,0))",
           "USD/review", L.USD2)
    sr, how, k = f"{h}_success_rate", f"{h}_on_failure", f"{h}_max_attempts"
    perfect = f"OR(NOT(ISNUMBER({sr})),{sr}>=1,{sr}<=0)"
    c.line(f"c_{p}_attempts", "Attempts per request (failures retried)",
           f"=IF(OR({perfect},{how}=\"human\"),1,(1-(1-{sr})^{k})/{sr})", "attempts", "0.0000",
           "(1 - (1 - p)^k) / p when failures are retried, else 1")
    c.line(f"c_{p}_failed", "Share of tasks failing to a person", f"=IF({perfect},0,IF({how}=\"human\",1-{sr},(1-{sr})^{k}))",
           "%", "0.00%", "(1 - p)^k when retried, 1 - p when not; at the review cost")
    c.line(f"c_{p}_retry_all", "Extra tokens: retries and failed attempts", f"=(1+N(in_{p}_retry_rate))*c_{p}_attempts-1", "%", L.PCT,
           "(1 + retry rate) x attempts - 1")
    w = block.write(c, lay, s)
    _line_items(c, lay, s, block, w)


def _composite_block(c: Calc, lay: L.Layout, s: L.Slot, block) -> None:
    """A mix or cascade: the share each option carries, its line items at that share, totals."""
    p = s.frag
    c.line(f"c_{p}_review_unit", "Cost per human review", "=0", "USD/review", L.USD2, "a composite's reviews are its components'")
    w = block.write(c, lay, s)
    _line_items(c, lay, s, block, w)
    if s.kind == "mix":
        ws = c.ws
        r = c.row
        ws.cell(row=r, column=2, value="The engine's cheapest split (as of generation; a value, it does not recalculate)").font = S.BOLD
        c.row += 1
        for j in lay.components(s):
            c.line(f"gen_{p}_split_{j.frag}", f"Engine's cheapest share to {j.id} (as of generation)", "", "%", L.PCT,
                   "engine value: it does not follow edits (split: cheapest prices the route at it)")
            ws[f"C{c.row - 1}"].font = S.ENGINE
            ws[f"C{c.row - 1}"].value = None


def _line_items(c: Calc, lay: L.Layout, s: L.Slot, block, w) -> None:
    ws, book = c.ws, c.book
    p, on = s.frag, s.on
    _header(ws, c.row, ["Line item", "USD/month", "Unit", "USD/month per token/day", "Visible/hidden", "Fixed/variable", "Key"])
    c.row += 1
    first = c.row
    cells: dict[str, str] = {}
    token_rows: list[int] = []
    other_rate_rows: list[int] = []
    tokens = lay.token_items(s)
    for key, label, hidden, variable in lay.line_items(s):
        r = c.row
        ws.cell(row=r, column=2, value=label).font = S.LABEL
        _unit(ws, f"D{r}", "USD/month")
        run = w.when.get(key, on)
        if variable:
            formula = w.rates[key].format(first_rate=f"E{first}", prev_rate=f"E{r - 1}")
            _calc(ws, f"E{r}", formula, "0.000000000")
            _calc(ws, f"C{r}", f"=IF({run},E{r}*c_tokens_per_day,\"\")", L.USD2)
            if any(x.kind in L.COMPOSITE_KINDS for x in lay.slots):  # a mix's items read the rate (blocks._mix_write)
                book.define(f"c_rate_{p}_{key}", L.CALC, f"E{r}")
            (token_rows if key in tokens else other_rate_rows).append(r)
        else:
            _calc(ws, f"C{r}", f"=IF({run},{w.fixed[key]},\"\")", L.USD2)
        ws.cell(row=r, column=6, value="Hidden" if hidden else "Visible").font = S.NOTE
        ws.cell(row=r, column=7, value="Variable" if variable else "Fixed").font = S.NOTE
        ws.cell(row=r, column=8, value=key).font = S.NOTE
        book.define(f"c_li_{p}_{key}", L.CALC, f"C{r}")
        cells[key] = f"C{r}"
        c.row += 1
    last = c.row - 1
    rng = f"C{first}:C{last}"
    c.line(f"c_{p}_total", "Total", f"=IF({on},SUM({rng}),\"\")", "USD/month", L.USD)
    ws[f"C{c.row - 1}"].font = S.BOLD
    c.line(f"c_{p}_hidden", "Hidden", f"=IF({on},SUMIF(F{first}:F{last},\"Hidden\",{rng}),\"\")", "USD/month", L.USD)
    c.line(f"c_{p}_visible", "Visible", f"=IF({on},c_{p}_total-c_{p}_hidden,\"\")", "USD/month", L.USD)
    c.line(f"c_{p}_hidden_share", "Hidden share", f"=IF({on},IF(c_{p}_total>0,c_{p}_hidden/c_{p}_total,\"\"),\"\")", "%", L.PCT)
    c.line(f"c_{p}_variable", "Variable", f"=IF({on},SUMIF(G{first}:G{last},\"Variable\",{rng}),\"\")", "USD/month", L.USD)
    c.line(f"c_{p}_fixed", "Fixed", f"=IF({on},c_{p}_total-c_{p}_variable,\"\")", "USD/month", L.USD)
    c.line(f"c_{p}_slope", "Cost per token/day (all variable items)", f"=IF({on},SUM(E{first}:E{last}),0)",
           "USD/month per token/day", "0.000000000")
    tok = ",".join(f"C{r}" for r in token_rows) or "0"
    tok_rate = ",".join(f"E{r}" for r in token_rows) or "0"
    oth_rate = ",".join(f"E{r}" for r in other_rate_rows) or "0"
    c.line(f"c_{p}_token_cost", "Token spend incl. retries", f"=IF({on},SUM({tok}),\"\")", "USD/month", L.USD)
    c.line(f"c_{p}_token_slope", "Token spend per token/day", f"=IF({on},SUM({tok_rate}),0)", "USD/month per token/day", "0.000000000")
    c.line(f"c_{p}_other_slope", "Other variable cost per token/day", f"=IF({on},SUM({oth_rate}),0)", "USD/month per token/day", "0.000000000")
    c.line(f"c_{p}_one_time", "One-time cost", f"=IF({on},{w.one_time},\"\")", "USD", L.USD)
    if block.blended:
        c.line(f"c_{p}_blended", "Blended token price",
               f"=IF(AND({on},c_tokens_per_day>0),c_{p}_token_cost/(c_tokens_per_day*in_volume_days_per_month)*k_per_million,\"\")",
               "USD/1M tokens", "$#,##0.0000")
    if block.stepped(s) is not None:
        fixed_items = [k for k, _l, _h, variable in lay.line_items(s) if not variable and k not in block.unit_items]
        others = ",".join(cells[k] for k in fixed_items)
        c.line(f"c_{p}_fixed_other", "Fixed cost excluding GPUs", f"=IF({on},SUM({others}),0)", "USD/month", L.USD)


def _pair_block(c: Calc, book: Book, a: L.Slot, b: L.Slot) -> None:
    """Break-even of one pair (engine.breakeven.find_breakeven): closed form for affine costs,
    segment by segment where a cost steps with volume (a GPU or server count, of an option or of
    a mix's or cascade's part at its share): :func:`_stepped_pair`."""
    n = lambda what: f"c_be_{a.frag}_vs_{b.frag}_{what}"  # noqa: E731
    ba, bb = block_of(a.kind), block_of(b.kind)
    c.section(f"Break-even: {a.id} vs {b.id}")
    c.line(n("on"), "Both options compared", f"=AND({a.on},{b.on})", "TRUE/FALSE")
    fa, fb, pa, pb = f"c_{a.frag}_fixed", f"c_{b.frag}_fixed", f"c_{a.frag}_slope", f"c_{b.frag}_slope"
    c.line(n("closed"), "Closed form: (Fb - Fa) / (Sa - Sb)",
           f"=IF(OR(NOT({n('on')}),{pa}={pb}),\"\",IF(({fb}-{fa})/({pa}-{pb})>0,({fb}-{fa})/({pa}-{pb}),\"\"))", "tokens/day", L.INT)
    choice = n("closed")
    if step_sources(c.book.lay, a) or step_sources(c.book.lay, b):
        _stepped_pair(c, book, a, b)
        choice = f"IF({n('steps')},{n('pw')},{choice})"
    c.line(n("t"), "Break-even volume", f"=IF({n('on')},{choice},\"\")", "tokens/day", L.INT)
    c.line(n("found"), "Break-even found", f"=ISNUMBER({n('t')})", "TRUE/FALSE")
    c.line(n("probe"), "Volume where the cheaper option is read", f"=IF({n('found')},{n('t')}*k_half,c_volume_basis)",
           "tokens/day", L.INT, "half the break-even, else today")
    lay = book.lay
    cost_line(c, lay, a, n("probe"), n("a_probe"), f"{a.id}: cost there", n("on"))
    cost_line(c, lay, b, n("probe"), n("b_probe"), f"{b.id}: cost there", n("on"))
    cost_line(c, lay, a, n("t"), n("a_at_t"), f"{a.id}: cost at the break-even", n("found"))


def cost_line(c: Calc, lay: L.Layout, s: L.Slot, t: str, name: str, label: str, when: str, blank: str = "\"\"") -> None:
    """A line with the monthly cost of ``s`` at volume ``t`` while ``when`` holds (else ``blank``),
    and the lines above it an auditor follows: a stepped option's units there, a mix's or
    cascade's parts each at its share (its kind's block, ``cost_at``, split where it is long)."""
    block = block_of(s.kind)
    if block.composite:
        parts = []
        for j in lay.components(s):
            sh = f"c_{s.frag}_sh_{j.frag}"
            cost_line(c, lay, j, f"({sh}*{t})", f"{name}_{j.frag}", f"{label}: {j.id} at its share", f"AND({when},{sh}>0)", "0")
            parts.append(f"{name}_{j.frag}{escalated_off(s, j, f'({sh}*{t})')}")
        c.line(name, label, f"=IF({when},{'+'.join(parts)},{blank})", "USD/month", L.USD,
               "the sum of its parts at their shares (a cascade's escalating first without its failures' review)")
        return
    if s.kind in ("self_hosted", "on_prem"):
        units = f"{name}_units"
        count = capacity_instances(s, t) if s.kind == "self_hosted" else op_units(s, t)
        live = f"AND({when},c_{s.frag}_capacity)" if s.kind == "self_hosted" else when
        c.line(units, f"{label}: {'GPU instances' if s.kind == 'self_hosted' else 'servers'}", f"=IF({live},{count},0)",
               "units", L.INT)
        cost = sh_cost(s, t, units) if s.kind == "self_hosted" else op_cost(s, t, units)
    else:
        cost = block.cost_at(s, t)
    c.line(name, label, f"=IF({when},{cost},{blank})", "USD/month", L.USD)


@dataclass(frozen=True)
class StepSource:
    """One cost in a pair that steps with volume: a stepped option, or a stepped part of a mix or
    cascade at its share (engine curve.Curve.steps: a part at share s steps every width / s)."""

    label: str
    active: str  # TRUE when it steps (capacity known; a part: routed)
    width: str  # volume of the pair's axis (tokens/day of the option) per step
    part: L.Slot  # the option whose units they are

    @property
    def fewest(self) -> str:
        """Units at the smallest volume (engine kinds.base.Step.minimum: a stated fleet's servers; 1 elsewhere)."""
        return f"c_{self.part.frag}_min_units" if self.part.kind == "on_prem" else "1"


def step_sources(lay: L.Layout, s: L.Slot) -> list[StepSource]:
    """The costs of option ``s`` that may step with volume (none: its cost is affine)."""
    if block_of(s.kind).composite:
        out = []
        for j in lay.components(s):
            if block_of(j.kind).stepped(j) is not None:
                sh = f"c_{s.frag}_sh_{j.frag}"
                out.append(StepSource(f"{s.id}: {j.id} at its share", f"AND({sh}>0,c_{j.frag}_capacity)", f"c_{j.frag}_step/{sh}", j))
        return out
    if block_of(s.kind).stepped(s) is not None:
        return [StepSource(s.id, f"c_{s.frag}_capacity", f"c_{s.frag}_step", s)]
    return []


def _be_fixed(lay: L.Layout, s: L.Slot) -> str:
    """Monthly cost of ``s`` that neither steps nor grows with volume (a stepped option's or part's
    units are left out while they step; a composite sums its routed parts')."""
    def plain(j: L.Slot) -> str:
        return f"IF(c_{j.frag}_capacity,c_{j.frag}_fixed_other,c_{j.frag}_fixed)" if block_of(j.kind).stepped(j) else f"c_{j.frag}_fixed"
    if block_of(s.kind).composite:
        return "+".join(f"IF(c_{s.frag}_sh_{j.frag}>0,{plain(j)},0)" for j in lay.components(s))
    return plain(s)


def _stepped_pair(c: Calc, book: Book, a: L.Slot, b: L.Slot) -> None:
    """Piecewise break-even of a pair where a cost steps (engine.breakeven._piecewise): the volume
    segments between the points where some unit count may change (multiples of each stepping
    cost's width, from its fewest units on, merged and ascending), one row each on the hidden
    Lists sheet; within a segment every count is constant, so the difference a - b is a line,
    and the break-even is the first segment where the order flips at its start or a root lies inside."""
    lay = book.lay
    n = lambda what: f"c_be_{a.frag}_vs_{b.frag}_{what}"  # noqa: E731
    on = n("on")
    sources = [(+1, x) for x in step_sources(lay, a)] + [(-1, x) for x in step_sources(lay, b)]
    c.line(n("fa"), f"{a.id}: fixed cost without its units that step", f"=IF({on},{_be_fixed(lay, a)},0)", "USD/month", L.USD)
    c.line(n("fb"), f"{b.id}: fixed cost without its units that step", f"=IF({on},{_be_fixed(lay, b)},0)", "USD/month", L.USD)
    s_ = n("s")
    c.line(s_, "Slope difference (a - b)", f"=IF({on},c_{a.frag}_slope-c_{b.frag}_slope,0)", "USD/month per token/day", "0.000000000")
    c.line(n("safe"), "Slope difference for division", f"=IF({s_}=0,1,{s_})", "USD/month per token/day", "0.000000000")
    widths = []
    for i, (_sign, x) in enumerate(sources):
        w = n(f"w{i + 1}")
        c.line(w, f"{x.label}: volume per step", f"=IF(AND({on},{x.active}),{x.width},\"\")", "tokens/day", L.INT,
               "blank: its count does not step")
        widths.append(w)
    c.line(n("steps"), "A cost steps with volume (piecewise)", f"=COUNT({','.join(widths)})>0", "TRUE/FALSE")
    band = "+".join(f"IF(ISNUMBER({w}),c_{x.part.frag}_instance_month*(c_{x.part.frag}_redundancy*{x.fewest}+1),0)"
                    for w, (_sign, x) in zip(widths, sources))
    c.line(n("tie"), "A difference this small is a tie", f"=k_tie*(ABS({n('fa')})+ABS({n('fb')})+{band})", "USD/month", "0.000000",
           "as in the engine: costs and the steps' envelopes")
    # the table on Lists: per stepping cost its step index at the segment's end, that end, its units' cost
    ws = book.ws(L.LISTS)
    k = len(sources)
    col0 = book.lists_col
    cols = [get_column_letter(col0 + i) for i in range(3 * k + 5)]
    book.lists_col += 3 * k + 6
    N, NB, UC = cols[:k], cols[k:2 * k], cols[2 * k:3 * k]
    LO, HI, DLO, ROOT, HIT = cols[3 * k:]
    first, last = 4, 3 + L.MAX_SEGMENTS
    ws[f"{cols[0]}1"] = f"Break-even segments: {a.id} vs {b.id} (Calculations, {n('')[:-1]}_*)"
    for i, (_sign, x) in enumerate(sources):
        ws[f"{N[i]}2"] = x.label
        ws[f"{N[i]}3"], ws[f"{NB[i]}3"], ws[f"{UC[i]}3"] = ("its step at the segment's end", "that end, tokens/day (0: no steps)",
                                                         "its units, USD/month")
    for col, head in zip((LO, HI, DLO, ROOT, HIT), ("segment from", "segment to", "a - b at its start", "root of the line",
                                                    "order flips here")):
        ws[f"{col}3"] = head
    for r in range(first, last + 1):
        p = r - 1
        for i, (_sign, x) in enumerate(sources):
            w = widths[i]
            if r == first:
                ws[f"{N[i]}{r}"] = f"=IF(ISNUMBER({w}),{x.fewest},0)"
            else:
                ws[f"{N[i]}{r}"] = f"={N[i]}{p}+IF({NB[i]}{p}={HI}{p},1,0)"
            ws[f"{NB[i]}{r}"] = f"=IF(ISNUMBER({w}),{N[i]}{r}*{w},0)"
            ws[f"{UC[i]}{r}"] = (f"=IF({NB[i]}{r}>0,CEILING({N[i]}{r}*c_{x.part.frag}_redundancy,1)"
                                 f"*c_{x.part.frag}_instance_month,0)")
        # the nearest end among the costs that step (0: this one does not). Not MIN of a range of the row, nor of
        # text: LibreOffice computes a column of alike formulas together, and then errs on both
        ends = [f"{x}{r}" for x in NB]
        top = f"MAX({','.join(ends)})"
        nearest = ends[0] if k == 1 else "MIN(" + ",".join(f"IF({e}>0,{e},{top})" for e in ends) + ")"
        ws[f"{HI}{r}"] = f"=IF({n('steps')},{nearest},0)"
        ws[f"{LO}{r}"] = "=0" if r == first else f"={HI}{p}"
        units = "".join(f"{'+' if sign > 0 else '-'}{UC[i]}{r}" for i, (sign, _x) in enumerate(sources))
        ws[f"{DLO}{r}"] = f"=IF({HI}{r}>0,{n('fa')}-{n('fb')}{units}+{s_}*{LO}{r},\"\")"
        ws[f"{ROOT}{r}"] = f"=IF(AND({HI}{r}>0,{s_}<>0),{LO}{r}-{DLO}{r}/{s_},\"\")"
        inside = (f"AND(ISNUMBER({ROOT}{r}),{ROOT}{r}>{LO}{r},{ROOT}{r}<{HI}{r}*(1-k_root_edge),({s_}>0)<>{n('sign0')})")
        flip = inside if r == first else f"OR(({DLO}{r}>{n('tie')})<>{n('sign0')},{inside})"
        ws[f"{HIT}{r}"] = f"=IF({HI}{r}>0,{flip},FALSE)"
    at = lambda col: f"'{L.LISTS}'!{col}{first}:{col}{last}"  # noqa: E731
    c.line(n("sign0"), "a dearer at the smallest volume",
           f"=IF({n('steps')},INDEX({at(DLO)},1)+{s_}*MIN({','.join(widths)})*k_tiny_step>{n('tie')},FALSE)", "TRUE/FALSE",
           "General", "the first segment's difference, a tiny step in")
    c.line(n("k"), "First segment where the order flips", f"=IF({n('steps')},IFERROR(MATCH(TRUE,{at(HIT)},0),\"\"),\"\")",
           "segment", "0", f"Lists sheet, columns {cols[0]}-{HIT}: one row per segment")
    k_ = n("k")
    c.line(n("lo"), "That segment starts at", f"=IF(ISNUMBER({k_}),INDEX({at(LO)},{k_}),\"\")", "tokens/day", L.INT)
    c.line(n("dlo"), "a - b at its start", f"=IF(ISNUMBER({k_}),INDEX({at(DLO)},{k_}),\"\")", "USD/month", L.USD)
    c.line(n("pw"), "Piecewise break-even",
           f"=IF(ISNUMBER({k_}),IF(AND({k_}>1,({n('dlo')}>{n('tie')})<>{n('sign0')}),{n('lo')},{n('lo')}-{n('dlo')}/{n('safe')}),\"\")",
           "tokens/day", L.INT, "at the step, or the root inside the segment")


# ---------------------------------------------------------------------------------------------
# Monthly series


def _build_monthly(book: Book) -> None:
    lay = book.lay
    ws = book.ws(L.MONTHLY)
    _title(ws, "Monthly series", "Volume grows monthly; API prices decline yearly; one-time costs at month 0. Rows past the horizon stay blank.")
    M = L.monthly_columns(lay)
    heads = {"month": ("Month", "#"), "active": ("In horizon", "TRUE/FALSE"), "tokens_per_day": ("Tokens per day", "tokens/day"),
             "price_factor": ("API price factor", "x"), "discount_factor": ("Discount factor", "x"),
             "mig_share": ("New option's traffic share (migration)", "%")}
    for s in lay.slots:
        heads[f"{s.frag}_monthly"] = (s.id, "USD/month")
        heads[f"{s.frag}_cumulative"] = (s.id, "USD cumulative")
        heads[f"{s.frag}_behind"] = (s.id, "month or -1")
        heads[f"{s.frag}_rest"] = (f"{s.id} as today's option", "USD/month, rest of traffic")
        if s.kind == "self_hosted":
            heads[f"{s.frag}_instances"] = (f"{s.id} GPUs", "instances")
        if block_of(s.kind).cash is not None:
            heads[f"{s.frag}_instances"] = (f"{s.id} servers", "in use")
            heads[f"{s.frag}_bought"] = (f"{s.id} bought", "at month end")
            heads[f"{s.frag}_retired"] = (f"{s.id} end of life", "at month end")
            heads[f"{s.frag}_owned"] = (f"{s.id} owned", "at month end")
        if block_of(s.kind).composite:
            heads[f"{s.frag}_carries"] = (f"{s.id}: volume it carries", "tokens/day")
            for j in lay.components(s):
                heads[f"{s.frag}_{j.frag}_part"] = (f"{s.id}: {j.id} at its share", "USD/month")
        if s.kind == "self_hosted":
            heads[f"{s.frag}_moved_units"] = (f"{s.id} GPUs at the moved share", "instances (migration)")
        if s.kind in ("self_hosted", "on_prem"):
            heads[f"{s.frag}_rest_units"] = (f"{s.id} {'GPUs' if s.kind == 'self_hosted' else 'servers'} as today's option",
                                             "at the rest of traffic")
        for j in lay.components(s):
            heads[f"{s.frag}_{j.frag}_rest"] = (f"{s.id} as today's option: {j.id} at its share", "USD/month, rest of traffic")
            if j.kind in ("self_hosted", "on_prem"):
                heads[f"{s.frag}_{j.frag}_rest_units"] = (f"{s.id} as today's option: {j.id} {'GPUs' if j.kind == 'self_hosted' else 'servers'}",
                                                          "at its share")
        for j in _bought_parts(lay, s):
            k = f"{s.frag}_{j.frag}"
            heads[f"{k}_instances"] = (f"{s.id}: {j.id} servers", "in use")
            heads[f"{k}_bought"] = (f"{s.id}: {j.id} bought", "at month end")
            heads[f"{k}_retired"] = (f"{s.id}: {j.id} end of life", "at month end")
            heads[f"{k}_owned"] = (f"{s.id}: {j.id} owned", "at month end")
    hr = L.MONTHLY_FIRST_ROW - 2
    first_slot = lay.slots[0].frag
    ws.cell(row=hr - 1, column=_col_index(M[f"{first_slot}_monthly"]), value="Monthly cost").font = S.SECTION
    ws.cell(row=hr - 1, column=_col_index(M[f"{first_slot}_cumulative"]), value="Cumulative cost (TCO)").font = S.SECTION
    ws.cell(row=hr - 1, column=_col_index(M[f"{first_slot}_behind"]),
            value="Months not yet below today's option (payback reads the last)").font = S.SECTION
    for key, col in M.items():
        label, unit = heads[key]
        _header(ws, hr, [label], col)
        _unit(ws, f"{col}{hr + 1}", unit)
        ws[f"{col}{hr + 1}"].alignment = S.CENTER
        ws.column_dimensions[col].width = 15 if key not in ("month", "active") else 10
    ws.column_dimensions["B"].width = 8
    first, last = L.MONTHLY_FIRST_ROW, L.MONTHLY_FIRST_ROW + L.MAX_MONTHS
    for m in range(0, L.MAX_MONTHS + 1):
        r = first + m
        ws[f"{M['month']}{r}"] = m
        ws[f"{M['month']}{r}"].font = S.LABEL
        ws[f"{M['month']}{r}"].alignment = S.CENTER
        act = f"{M['active']}{r}"
        _calc(ws, act, f"={M['month']}{r}<=in_horizon_months")
        ws[act].alignment = S.CENTER
        _calc(ws, f"{M['discount_factor']}{r}", f"=1/(1+c_monthly_discount)^{M['month']}{r}", "0.0000")
        for s in lay.slots:
            col, mcol = M[f"{s.frag}_cumulative"], M[f"{s.frag}_monthly"]
            if block_of(s.kind).cash is not None:
                _bought_columns(ws, M, s, m, r, first)
            for j in _bought_parts(lay, s):
                _bought_columns(ws, M, s, m, r, first, key=f"{s.frag}_{j.frag}", life=f"c_{j.frag}_life")
            if m == 0:
                bought = f"+{M[f'{s.frag}_bought']}{r}*c_{s.frag}_unit_cost" if block_of(s.kind).cash is not None else ""
                bought += "".join(f"+{M[f'{s.frag}_{j.frag}_bought']}{r}*c_{j.frag}_unit_cost" for j in _bought_parts(lay, s))
                one_time = f"c_{s.frag}_one_time"
                if block_of(s.kind).cash is None:  # paid when the move starts (with month S) when it does not start now
                    one_time = f"IF(AND({_moving(s)},N(in_horizon_switch_month)>0),0,{one_time})"
                _calc(ws, f"{col}{r}", f"=IF({s.on},{one_time}{bought},\"\")", L.USD)
            else:
                _calc(ws, f"{col}{r}", f"=IF(AND({act},{s.on}),{col}{r - 1}+{mcol}{r},\"\")", L.USD)
        today = "CHOOSE(c_cur_index," + ",".join(f"{M[f'{x.frag}_cumulative']}{r}" for x in lay.slots) + ")"
        for s in lay.slots:
            cum = f"{M[f'{s.frag}_cumulative']}{r}"
            _calc(ws, f"{M[f'{s.frag}_behind']}{r}",
                  f"=IF(AND({act},{s.on},in_context_current_option<>\"{s.id}\"),IF({cum}-{today}>=0,{M['month']}{r},-1),-1)", "0")
        if m == 0:
            continue
        t = f"{M['tokens_per_day']}{r}"
        _calc(ws, t, f"=IF({act},c_tokens_per_day*(1+in_volume_monthly_growth)^({M['month']}{r}-1),\"\")", L.INT)
        pf = f"{M['price_factor']}{r}"
        _calc(ws, pf, f"=IF({act},(1-in_horizon_api_price_decline_per_year)^(({M['month']}{r}-1)/k_months_per_year),\"\")", "0.0000")
        share, month = f"{M['mig_share']}{r}", f"{M['month']}{r}"
        sw, ov = "N(in_horizon_switch_month)", "N(in_horizon_overlap_months)"
        _calc(ws, share, f"=IF({act},IF({month}<={sw},0,IF({month}<={sw}+{ov},({month}-{sw})/({ov}+1),1)),\"\")", "0.00%")
        for s in lay.slots:  # each option's cost as today's option carrying the traffic the new one does not yet carry
            left = f"((1-{share})*{t})"
            units = ""
            if s.kind in ("self_hosted", "on_prem"):  # its units at that volume, in a helper column
                units = f"{M[f'{s.frag}_rest_units']}{r}"
                count = capacity_instances(s, left) if s.kind == "self_hosted" else op_units(s, left)
                live = f"AND({act},{s.on},{share}<1" + (f",c_{s.frag}_capacity)" if s.kind == "self_hosted" else ")")
                _calc(ws, units, f"=IF({live},{count},0)", L.INT)
            if block_of(s.kind).composite:  # each part at its share of that volume, in a helper column
                cells = []
                for j in lay.components(s):
                    sh, cell = f"c_{s.frag}_sh_{j.frag}", f"{M[f'{s.frag}_{j.frag}_rest']}{r}"
                    part_units = ""
                    if j.kind in ("self_hosted", "on_prem"):
                        part_units = f"{M[f'{s.frag}_{j.frag}_rest_units']}{r}"
                        vol = f"({sh}*{left})"
                        count = capacity_instances(j, vol) if j.kind == "self_hosted" else op_units(j, vol)
                        extra = f",c_{j.frag}_capacity" if j.kind == "self_hosted" else ""
                        _calc(ws, part_units, f"=IF(AND({act},{s.on},{share}<1,{sh}>0{extra}),{count},0)", L.INT)
                    monthly = block_of(j.kind).monthly(j, f"({sh}*{left})", pf, part_units) + escalated_off(s, j, f"({sh}*{left})")
                    _calc(ws, cell, f"=IF(AND({act},{s.on},{share}<1,{sh}>0),{monthly},0)", L.USD)
                    cells.append(cell)
                rest = "+".join(cells)
            else:
                rest = block_of(s.kind).monthly(s, left, pf, units)
            _calc(ws, f"{M[f'{s.frag}_rest']}{r}", f"=IF(AND({act},{s.on}),IF({share}<1,{rest},0),\"\")", L.USD)
        today_rest = "CHOOSE(c_cur_index," + ",".join(f"{M[f'{x.frag}_rest']}{r}" for x in lay.slots) + ")"
        for s in lay.slots:
            inst, block = "", block_of(s.kind)
            if s.kind == "self_hosted":
                inst = f"{M[f'{s.frag}_instances']}{r}"
                _calc(ws, inst, f"=IF(AND({act},c_{s.frag}_capacity)," + capacity_instances(s, t) + ",\"\")", L.INT)
            cash = ""
            if block.cash is not None:
                inst = f"{M[f'{s.frag}_instances']}{r}"
                _calc(ws, inst, f"=IF(AND({act},{s.on}),{block.units(s, t)},\"\")", L.INT)
                cash = block.cash(s, {"units": inst, "bought": f"{M[f'{s.frag}_bought']}{r}",
                                      "retired": f"{M[f'{s.frag}_retired']}{r}", "month": f"{M['month']}{r}"})
            for j in _bought_parts(lay, s):  # a composite's on-prem part: its servers at its share, their cash
                k = f"{s.frag}_{j.frag}"
                units = f"{M[f'{k}_instances']}{r}"
                _calc(ws, units, f"=IF(AND({act},{s.on},c_{s.frag}_sh_{j.frag}>0),{block_of(j.kind).units(j, f'(c_{s.frag}_sh_{j.frag}*{t})')},0)",
                      L.INT)
                cash += "+" + composite_cash(s, j, {"units": units, "bought": f"{M[f'{k}_bought']}{r}",
                                                    "retired": f"{M[f'{k}_retired']}{r}", "month": f"{M['month']}{r}"})
            own = f"{block.monthly(s, t, pf, inst)}{cash}"
            moved = ""
            if s.kind == "self_hosted":  # its GPUs at the moved share, in a helper column
                moved = f"{M[f'{s.frag}_moved_units']}{r}"
                _calc(ws, moved, f"=IF(AND({act},{s.on},{share}>0,c_{s.frag}_capacity),{capacity_instances(s, f'({share}*{t})')},0)", L.INT)
            at_share = block.monthly(s, f"({share}*{t})", pf, moved)
            if block.composite:  # one helper column per part: its own cost at its share of what the composite carries
                carries = f"{M[f'{s.frag}_carries']}{r}"
                _calc(ws, carries, f"=IF(AND({act},{s.on}),IF({_moving(s)},{share}*{t},{t}),\"\")", L.INT)
                parts = [f"{M[f'{s.frag}_{j.frag}_part']}{r}" for j in lay.components(s)]
                for j, cell in zip(lay.components(s), parts):
                    _calc(ws, cell, f"=IF(AND({act},{s.on},c_{s.frag}_sh_{j.frag}>0),"
                                    f"{block_of(j.kind).monthly(j, f'(c_{s.frag}_sh_{j.frag}*{carries})', pf, '')}"
                                    f"{escalated_off(s, j, carries)},0)", L.USD)
                own = at_share = f"SUM({parts[0]}:{parts[-1]})"
                own += cash
            if block.cash is None:  # a phased move (engine curve.migration); bought hardware: see the Checks sheet
                moved = (f"IF({share}>0,{at_share},0)+IF({share}<1,{today_rest},0)"
                         f"+IF({month}=N(in_horizon_switch_month),c_{s.frag}_one_time,0)")
                own = f"IF({_moving(s)},{moved},{own})"
            _calc(ws, f"{M[f'{s.frag}_monthly']}{r}", f"=IF(AND({act},{s.on}),{own},\"\")", L.USD)
    for key, col in M.items():
        if key == "month":
            continue
        start = first if key in ("active", "discount_factor") or key.endswith(("cumulative", "behind", "bought", "retired", "owned")) else first + 1
        book.define(f"ser_{key}", L.MONTHLY, f"{col}{start}:{col}{last}")
    if any(block_of(s.kind).cash is not None or _bought_parts(lay, s) for s in lay.slots):
        book.define("ser_months", L.MONTHLY, f"{M['month']}{first}:{M['month']}{last}")
    last_col = list(M.values())[-1]
    ws.conditional_formatting.add(f"B{first}:{last_col}{last}", FormulaRule(formula=[f"NOT(${M['active']}{first})"], font=_grey_font()))
    ws.freeze_panes = f"C{first}"
    ws.print_area = f"A1:{last_col}{last}"
    ws.print_title_rows = f"{hr}:{hr + 1}"
    _page(ws, landscape=True)
    _protect(ws)


def _moving(s: L.Slot) -> str:
    """TRUE when option ``s`` is reached by a phased move off today's option."""
    return f"AND(c_migrates,in_context_current_option<>\"{s.id}\")"


def _volume_rate(s: L.Slot) -> str:
    """Minus the variable rate of an option that is not per request (on-prem power under load)."""
    return f"-c_{s.frag}_load_rate" if s.kind == "on_prem" else ""


def _bought_parts(lay: L.Layout, s: L.Slot) -> list:
    """The on-prem parts of a composite (each buys its own servers at its share); [] otherwise."""
    return [j for j in lay.components(s) if block_of(j.kind).cash is not None]


def _bought_columns(ws, M: dict, s: L.Slot, m: int, r: int, first: int, key: Optional[str] = None,
                    life: Optional[str] = None) -> None:
    """Servers bought, reaching their end of life and owned at the end of month ``m`` (engine
    kinds/on_prem.cash_flows): at a month's end the servers bought a life ago reach their end of
    life (their residual is received), then those the next month needs beyond the ones still
    owned are bought (none at the horizon end); servers no longer needed are kept until their
    end of life. ``key``/``life``: a composite's on-prem part (its columns, its servers' life)."""
    p, act = key or s.frag, f"{M['active']}{r}"
    bought, retired, owned = (f"{M[f'{p}_{k}']}" for k in ("bought", "retired", "owned"))
    need_next = f"{M[f'{p}_instances']}{r + 1}"
    life = life or f"c_{p}_life"
    if m == 0:
        _calc(ws, f"{retired}{r}", "=0", L.INT)
        _calc(ws, f"{bought}{r}", f"=IF(AND({s.on},in_horizon_months>0),{need_next},0)", L.INT)
        _calc(ws, f"{owned}{r}", f"={bought}{r}", L.INT)
        return
    _calc(ws, f"{retired}{r}", f"=IF(AND({act},{s.on},{M['month']}{r}>={life}),OFFSET({bought}{r},-{life},0),0)", L.INT)
    _calc(ws, f"{bought}{r}", f"=IF(AND({act},{s.on},{M['month']}{r}<in_horizon_months),"
                              f"MAX(0,{need_next}-({owned}{r - 1}-{retired}{r})),0)", L.INT)
    _calc(ws, f"{owned}{r}", f"={owned}{r - 1}-{retired}{r}+{bought}{r}", L.INT)


def _grey_font():
    from openpyxl.styles import Font

    return Font(color="BFBFBF")


# ---------------------------------------------------------------------------------------------
# Outputs


def _build_outputs(book: Book) -> None:
    lay = book.lay
    ws = book.ws(L.OUTPUTS)
    _title(ws, "Outputs", "Live results. Purple text = written by the engine at generation (does not recalculate).")
    ws.column_dimensions["B"].width = 40
    for col in [s.col for s in lay.slots] + list("CDEFG"):
        ws.column_dimensions[col].width = 17
    ws.column_dimensions["H"].width = 27  # the pair table's "cheaper below" (an option label)
    ws.column_dimensions["I"].width = 27  # and its method
    unit_col = lay.unit_col
    last_table_col = get_column_letter(max(_col_index(unit_col), 1 + len(L.BREAKEVEN_COLUMNS)))
    r = 5
    _section(ws, r, "Monthly cost today and over the horizon", last_table_col)
    _option_header(ws, lay, r + 1, "", "Unit")
    book.define("out_option_labels", L.OUTPUTS, f"C{r + 1}:{lay.last_option_col}{r + 1}")
    r += 2
    src = {
        "visible_monthly": "c_{o}_visible", "hidden_monthly": "c_{o}_hidden", "total_monthly": "c_{o}_total",
        "hidden_share": "c_{o}_hidden_share", "fixed_monthly": "c_{o}_fixed", "variable_monthly": "c_{o}_variable",
        "token_cost_monthly": "c_{o}_token_cost", "one_time_cost": "c_{o}_one_time",
    }
    M = L.monthly_columns(lay)
    disc = f"'{L.MONTHLY}'!${M['discount_factor']}${L.MONTHLY_FIRST_ROW + 1}:${M['discount_factor']}${L.MONTHLY_FIRST_ROW + L.MAX_MONTHS}"
    for key, label, unit, fmt in L.SUMMARY_ROWS:
        bold = key in ("total_monthly", "npv")
        ws.cell(row=r, column=2, value=label).font = S.BOLD if bold else S.LABEL
        _unit(ws, f"{unit_col}{r}", unit)
        for s in lay.slots:
            o, on = s.frag, s.on
            if key in src:
                formula = f"={src[key].format(o=o)}"
            elif key == "blended_price_per_1m":
                formula = f"=c_{o}_blended" if block_of(s.kind).blended else "=\"\""
            elif key == "tco_total":
                formula = f"=IF({on},INDEX(ser_{o}_cumulative,in_horizon_months+1),\"\")"
            elif key == "npv":
                month0 = f"INDEX(ser_{o}_cumulative,1)"  # one-time costs (+ servers bought; 0 when a move starts later)
                formula = f"=IF({on},{month0}+SUMPRODUCT(ser_{o}_monthly,{disc}),\"\")"
            elif key == "payback_months":
                formula = f"=c_{o}_payback"
            elif key == "cost_per_outcome":
                formula = (f"=IF(AND({on},ISNUMBER(in_context_outcomes_per_month)),"
                           f"c_{o}_total/(in_context_outcomes_per_month*(1-c_{o}_failed)),\"\")")
            elif key == "cost_per_successful_task":
                tasks = "IF(ISNUMBER(in_context_outcomes_per_month),in_context_outcomes_per_month,c_requests_rate*c_tokens_per_day)"
                formula = (f"=IF(AND({on},OR(ISNUMBER(in_context_outcomes_per_month),AND(c_has_size,c_tokens_per_day>0))),"
                           f"c_{o}_total/({tasks}*(1-c_{o}_failed)),\"\")")
            else:  # pragma: no cover - layout and builder disagree
                raise KeyError(key)
            _calc(ws, f"{s.col}{r}", formula, fmt, S.BOLD if bold else S.CALC)
            ws[f"{s.col}{r}"].alignment = S.RIGHT
            book.define(f"out_{o}_{key}", L.OUTPUTS, f"{s.col}{r}")
        if bold:
            for col in range(2, _col_index(unit_col) + 1):
                ws.cell(row=r, column=col).border = S.TOP_BORDER
        r += 1
    book.define("out_visible_row", L.OUTPUTS, f"C{r - len(L.SUMMARY_ROWS)}:{lay.last_option_col}{r - len(L.SUMMARY_ROWS)}")
    r += 1
    for name, label, unit in (("eng_recommendation", "Recommended (engine, at generation)", "from engine"),
                              ("eng_cheapest", "Cheapest eligible over the horizon (engine)", "from engine"),
                              ("eng_savings", "Saving vs today's option (engine)", "from engine"),
                              ("eng_caveats", "Caveats (engine)", "from engine")):
        ws.cell(row=r, column=2, value=label).font = S.BOLD
        ws[f"C{r}"].font = S.ENGINE
        book.define(name, L.OUTPUTS, f"C{r}")
        _unit(ws, f"{unit_col}{r}", unit)
        r += 1
    ws.cell(row=r, column=2, value="Why (engine reasons)").font = S.LABEL
    ws[f"C{r}"].font = S.ENGINE
    ws[f"C{r}"].alignment = S.WRAP
    ws.merge_cells(f"C{r}:{last_table_col}{r + 3}")
    book.define("eng_reasons", L.OUTPUTS, f"C{r}")
    r += 5

    # The primary pair (what the decision hinges on), then every pair.
    _section(ws, r, "Break-even of the primary pair", last_table_col)
    r += 1
    cols = [k for k, *_ in L.BREAKEVEN_COLUMNS]
    table_first = r + len(L.BREAKEVEN_COLUMNS) + 4
    pairs = lay.pairs()
    table_last = table_first + max(len(pairs), 1) - 1
    anchor = lay.anchor
    for key, label, unit, fmt in L.BREAKEVEN_COLUMNS:
        col = get_column_letter(2 + cols.index(key))
        rng = f"{col}{table_first}:{col}{table_last}"
        if key == "pair":
            formula = f"=IF(c_be_pidx=0,\"no alternative to \"&c_{anchor.frag}_label,INDEX({rng},c_be_pidx))"
        elif key == "monthly_cost":
            formula = f"=IF(c_be_found,{block_of(anchor.kind).cost_at(anchor, 'c_be_t')},\"\")"
        elif key == "method":
            formula = f"=IF(c_be_pidx=0,\"none\",INDEX({rng},c_be_pidx))"
        else:
            formula = f"=IF(c_be_pidx=0,\"\",INDEX({rng},c_be_pidx))"
        bold = key == "tokens_per_day"
        ws.cell(row=r, column=2, value=label).font = S.BOLD if bold else S.LABEL
        _calc(ws, f"C{r}", formula, fmt, S.BOLD if bold else S.CALC)
        if fmt == "@":  # option labels are long: the text spans C:E, its unit follows
            ws.merge_cells(f"C{r}:E{r}")
        else:
            ws[f"C{r}"].alignment = S.RIGHT
        _unit(ws, f"F{r}", unit)
        book.define(f"out_be_{key}", L.OUTPUTS, f"C{r}")
        r += 1
    ws.cell(row=r, column=2, value="The primary pair: the first API option against the first self-hosted option compared, "
            "else the first fine-tuned one, else the next option.").font = S.NOTE
    r += 2
    _section(ws, r, "Break-even between every pair of options", last_table_col)
    r += 1
    _header(ws, r, [label for _k, label, _u, _f in L.BREAKEVEN_COLUMNS])
    ws.row_dimensions[r].height = 27
    assert r + 1 == table_first
    r += 1
    for a, b in pairs:
        n = lambda what: f"c_be_{a.frag}_vs_{b.frag}_{what}"  # noqa: E731
        apis = [x for x in (a, b) if x.kind == "api"]
        be = {
            "pair": f"=IF({n('on')},c_{a.frag}_label&\" vs \"&c_{b.frag}_label,\"\")",
            "tokens_per_day": f"=IF({n('on')},IF({n('found')},{n('t')},\"none\"),\"\")",
            "requests_per_month": f"=IF(AND({n('found')},c_has_size),{n('t')}*in_volume_days_per_month/c_request_size,\"\")",
            "volume_ratio": f"=IF(AND({n('found')},c_tokens_per_day>0),{n('t')}/c_tokens_per_day,\"\")",
            "monthly_cost": f"={n('a_at_t')}",
            "api_token_spend": f"=IF({n('found')},c_{apis[0].frag}_token_slope*{n('t')},\"\")" if apis else "=\"\"",
            "cheaper_below": f"=IF({n('on')},IF({n('a_probe')}<={n('b_probe')},c_{a.frag}_label,c_{b.frag}_label),\"\")",
            "method": f"=IF({n('on')},IF({n('found')},"
                      + (f"IF({n('steps')},\"piecewise (GPU steps)\",\"closed form\")"
                         if step_sources(lay, a) or step_sources(lay, b) else "\"closed form\"")
                      + ",\"none: the costs do not cross\"),\"\")",
        }
        for key, _label, _unit_text, fmt in L.BREAKEVEN_COLUMNS:
            col = get_column_letter(2 + cols.index(key))
            _calc(ws, f"{col}{r}", be[key], fmt)
            if fmt != "@":
                ws[f"{col}{r}"].alignment = S.RIGHT
            book.define(L.breakeven_name(a, b, key), L.OUTPUTS, f"{col}{r}")
        r += 1
    if not pairs:
        ws.cell(row=r, column=2, value="(one option: no pair)").font = S.NOTE
        r += 1
    if any(block_of(s.kind).composite for s in lay.slots):
        ws.cell(row=r, column=2, value="A mix or cascade costs the sum of its parts at their shares; a part that steps with volume "
                "(GPU instances, servers) steps at its share of the volume, and its pairs are solved segment by segment (Lists).").font = S.NOTE
        r += 1
    ws.cell(row=r, column=2, value="Below the break-even volume the 'cheaper below' option costs less; the chart on the right plots "
            "the primary pair.").font = S.NOTE
    r += 2

    _section(ws, r, "The iceberg: line items per option (USD/month)", last_table_col)
    _option_header(ws, lay, r + 1, "Line item", "Visible/hidden")
    r += 2
    union: dict[str, tuple[str, bool]] = {}
    for s in lay.slots:
        for key, label, hidden, _variable in lay.line_items(s):
            union.setdefault(key, (label, hidden))
    first = r
    for key, (label, hidden) in union.items():
        ws.cell(row=r, column=2, value=label).font = S.LABEL
        _unit(ws, f"{unit_col}{r}", "hidden" if hidden else "visible")
        for s in lay.slots:
            if key in [k for k, *_ in lay.line_items(s)]:
                _calc(ws, f"{s.col}{r}", f"=c_li_{s.frag}_{key}", L.USD)
                book.define(f"out_li_{s.frag}_{key}", L.OUTPUTS, f"{s.col}{r}")
            else:
                ws[f"{s.col}{r}"] = "-"
                ws[f"{s.col}{r}"].font = S.UNIT
            ws[f"{s.col}{r}"].alignment = S.RIGHT
        r += 1
    ws.conditional_formatting.add(f"B{first}:{unit_col}{r - 1}", FormulaRule(formula=[f"${unit_col}{first}=\"hidden\""], fill=S.NA_FILL))
    for s in lay.slots:  # each option's column of line items (another option's rows read "-"), for the Checks sheet
        book.define(f"out_iceberg_{s.frag}", L.OUTPUTS, f"{s.col}{first}:{s.col}{r - 1}")
    ws.cell(row=r, column=2, value="Total").font = S.BOLD
    for s in lay.slots:
        _calc(ws, f"{s.col}{r}", f"=c_{s.frag}_total", L.USD, S.BOLD)
        ws[f"{s.col}{r}"].border = S.TOP_BORDER
    r += 2
    book.define("out_charts_anchor", L.OUTPUTS, f"B{r}")
    chart_col = get_column_letter(_col_index(last_table_col) + 2)
    book.chart_col = chart_col
    ws.freeze_panes = "C5"
    ws.print_area = f"A1:{get_column_letter(_col_index(chart_col) + 9)}{max(r + 1, 62)}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=True)
    _protect(ws)


# ---------------------------------------------------------------------------------------------
# Sensitivity


def _build_sensitivity(book: Book) -> None:
    lay = book.lay
    ws = book.ws(L.SENS)
    apis, hosted = lay.of_kind("api"), lay.of_kind("self_hosted")
    api, sh = (apis[0], hosted[0]) if apis and hosted else (None, None)
    what = f"{sh.id} minus {api.id}" if sh else "no API and self-hosted pair in this scenario"
    _title(ws, "Sensitivity", f"Utilization x volume grid: {what} monthly cost (negative: self-hosting is cheaper).")
    ws.column_dimensions["B"].width = 22
    curve_cols = [get_column_letter(4 + i) for i in range(len(lay.slots) + len(hosted))]
    # a mix's or cascade's parts each at its share, one helper column each (the composite's column sums them)
    parts = [(m, j) for m in lay.slots if block_of(m.kind).composite for j in lay.components(m)]
    part_cols = {(m.id, j.id): get_column_letter(4 + len(curve_cols) + i) for i, (m, j) in enumerate(parts)}
    for col in set(L.GRID_COLUMNS + tuple(curve_cols) + tuple(part_cols.values())):
        ws.column_dimensions[col].width = 15
    r0 = L.GRID_FIRST_ROW
    _section(ws, r0 - 3, "Utilization x volume grid (USD/month; same axes as the engine)", "I")
    ws.cell(row=r0 - 2, column=2, value="Volume factor").font = S.LABEL
    ws.cell(row=r0 - 1, column=2, value="Utilization \\ tokens/day").font = S.BOLD
    for k, col in zip(L.GRID_VOLUME_FACTORS, L.GRID_COLUMNS):
        c = ws[f"{col}{r0 - 2}"]
        c.value, c.fill, c.number_format = k, S.CONSTANT_FILL, '0.00"x"'
        _calc(ws, f"{col}{r0 - 1}", f"=c_volume_basis*{col}{r0 - 2}", L.INT, S.BOLD)
    book.define("k_grid_factors", L.SENS, f"{L.GRID_COLUMNS[0]}{r0 - 2}:{L.GRID_COLUMNS[-1]}{r0 - 2}")
    for i, u in enumerate(L.GRID_UTILIZATIONS):
        r = r0 + i
        c = ws[f"B{r}"]
        c.value, c.fill, c.number_format, c.font = u, S.CONSTANT_FILL, L.PCT, S.BOLD
        for col in L.GRID_COLUMNS:
            t = f"{col}${r0 - 1}"
            if sh is None:
                _calc(ws, f"{col}{r}", "=\"\"", L.USD)
                continue
            cost = sh_cost(sh, t, utilization=f"$B{r}")
            _calc(ws, f"{col}{r}", f"=IF({sh.on},{cost}-({block_of(api.kind).cost_at(api, t)}),\"\")", L.USD)
    last = r0 + len(L.GRID_UTILIZATIONS) - 1
    grid = f"{L.GRID_COLUMNS[0]}{r0}:{L.GRID_COLUMNS[-1]}{last}"
    book.define("out_grid_difference", L.SENS, grid)
    book.define("k_grid_utilizations", L.SENS, f"B{r0}:B{last}")
    ws.conditional_formatting.add(grid, CellIsRule(operator="lessThan", formula=["0"], fill=S.OK_FILL))
    ws.conditional_formatting.add(grid, CellIsRule(operator="greaterThanOrEqual", formula=["0"], fill=PatternFillBlue()))
    ws.cell(row=last + 1, column=2, value="Green: self-hosting cheaper. Blue: API cheaper. Rows: utilization (simple mode) or "
            "target utilization (capacity mode).").font = S.NOTE

    # Cost versus volume (data of the break-even chart).
    r = last + 3
    _section(ws, r, "Monthly cost versus volume (chart data)", get_column_letter(max(9, 3 + len(curve_cols) + len(parts))))
    _header(ws, r + 1, ["Point", "Tokens per day"])
    for s, col in zip(lay.slots, curve_cols):
        _calc(ws, f"{col}{r + 1}", f"=c_{s.frag}_label", "@", S.HEADER)
        ws[f"{col}{r + 1}"].fill, ws[f"{col}{r + 1}"].alignment = S.HEADER_FILL, S.CENTER
    ws.row_dimensions[r + 1].height = 27  # option labels wrap over two lines
    inst_cols = dict(zip([s.id for s in hosted], curve_cols[len(lay.slots):]))
    for s in hosted:
        _header(ws, r + 1, [f"{s.id} GPUs"], inst_cols[s.id])
    for m, j in parts:
        _header(ws, r + 1, [f"{m.id}: {j.id} at its share"], part_cols[(m.id, j.id)])
        _unit(ws, f"{part_cols[(m.id, j.id)]}{r + 2}", "USD/month")
    r += 2
    _unit(ws, f"C{r}", "tokens/day")
    for col in curve_cols[: len(lay.slots)]:
        _unit(ws, f"{col}{r}", "USD/month")
    for col in inst_cols.values():
        _unit(ws, f"{col}{r}", "instances")
    r += 1
    first = r
    last_pt = first + L.CURVE_POINTS - 1
    for k in range(L.CURVE_POINTS):
        row = first + k
        c = ws[f"B{row}"]
        c.value, c.fill, c.alignment = k, S.CONSTANT_FILL, S.CENTER
        t = f"C{row}"
        _calc(ws, t, f"=k_curve_span*MAX(c_volume_basis,IF(c_be_found,IF(c_be_t<=k_curve_reach*c_volume_basis,c_be_t,0),0))"
                     f"*B{row}/MAX($B${first}:$B${last_pt})", L.INT)
        for s in hosted:
            _calc(ws, f"{inst_cols[s.id]}{row}", f"=IF(c_{s.frag}_capacity,{capacity_instances(s, t)},\"\")", L.INT)
        for m, j in parts:
            sh = f"c_{m.frag}_sh_{j.frag}"
            _calc(ws, f"{part_cols[(m.id, j.id)]}{row}",
                  f"=IF(AND({m.on},{sh}>0),{block_of(j.kind).cost_at(j, f'({sh}*{t})')}{escalated_off(m, j, f'({sh}*{t})')},0)", L.USD)
        for s, col in zip(lay.slots, curve_cols):
            if block_of(s.kind).composite:
                cost = "+".join(f"{part_cols[(s.id, j.id)]}{row}" for j in lay.components(s))
            else:
                cost = sh_cost(s, t, f"{inst_cols[s.id]}{row}") if s.kind == "self_hosted" else block_of(s.kind).cost_at(s, t)
            _calc(ws, f"{col}{row}", f"=IF({s.on},{cost},NA())", L.USD)
    book.define("curve_tokens", L.SENS, f"C{first}:C{last_pt}")
    for s, col in zip(lay.slots, curve_cols):
        book.define(f"curve_{s.frag}", L.SENS, f"{col}{first}:{col}{last_pt}")
    book.curve = (first, last_pt, dict(zip([s.id for s in lay.slots], curve_cols)))
    row = last_pt + 2
    ws.cell(row=row, column=2, value="Break-even point").font = S.BOLD
    shown = f"AND(c_be_found,c_be_t<=MAX($C${first}:$C${last_pt}))"
    _calc(ws, f"C{row}", f"=IF({shown},c_be_t,NA())", L.INT)
    _calc(ws, f"D{row}", f"=IF({shown},out_be_monthly_cost,NA())", L.USD)
    _calc(ws, f"E{row}", f"=IF(c_be_found,IF({shown},\"on the chart\",\"beyond the chart: \"&TEXT(c_be_t,\"#,##0\")&\" tokens/day, \""
                         f"&TEXT(c_be_t/c_volume_basis,\"#,##0.0\")&\"x today\"),\"none: the costs do not cross\")", "@", S.NOTE)
    book.define("curve_be_label", L.SENS, f"E{row}")
    book.define("curve_be_tokens", L.SENS, f"C{row}")
    book.define("curve_be_cost", L.SENS, f"D{row}")
    ws.cell(row=row + 1, column=2, value="Today").font = S.BOLD
    _calc(ws, f"C{row + 1}", "=c_tokens_per_day", L.INT)
    _calc(ws, f"D{row + 1}", "=c_cur_total", L.USD)
    book.define("curve_now_tokens", L.SENS, f"C{row + 1}")
    book.define("curve_now_cost", L.SENS, f"D{row + 1}")
    ws.cell(row=row + 2, column=2, value="#N/A (grey) is deliberate: a point with nothing to draw (an option not compared, "
            "or no break-even), so the chart leaves a gap instead of plotting zero.").font = S.NOTE
    last_col = (list(part_cols.values()) or curve_cols)[-1] if curve_cols else "I"
    ws.conditional_formatting.add(f"C{first}:{last_col}{row + 1}", FormulaRule(formula=[f"ISNA(C{first})"], font=_grey_font()))
    ws.freeze_panes = "C4"
    ws.print_area = f"A1:{get_column_letter(max(9, _col_index(last_col)))}{row + 2}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=True)
    _protect(ws)


def PatternFillBlue():
    from openpyxl.styles import PatternFill

    return PatternFill("solid", fgColor="DDEBF7")


# ---------------------------------------------------------------------------------------------
# Checks


def _switch_of(lay: L.Layout, spec: L.InputSpec) -> Optional[str]:
    if spec.option is None or spec.path.endswith(".included"):
        return None
    s = lay.slot(spec.option)
    return s.on if s.switchable else None


def _input_check(lay: L.Layout, spec: L.InputSpec) -> str:
    """A formula that is TRUE when the input is within the limits the engine accepts."""
    x = spec.name
    if spec.kind in ("choice", "yesno"):
        cond = "OR(" + ",".join(f"{x}=\"{c}\"" for c in spec.choices) + ")"
    elif spec.kind == "text":
        cond = f"LEN({x})<=lim_len_{spec.name[3:]}"
        if spec.required_text:
            cond = f"AND(LEN({x})>0,{cond})"
    else:
        parts = [f"ISNUMBER({x})"]
        if spec.minimum is not None:
            parts.append(f"{x}{'>' if spec.min_exclusive else '>='}{_bound_ref(spec, 'min')}")
        if spec.maximum is not None:
            parts.append(f"{x}{'<' if spec.max_exclusive else '<='}{_bound_ref(spec, 'max')}")
        if spec.kind == "int":
            parts.append(f"{x}=INT({x})")
        cond = "AND(" + ",".join(parts) + ")"
    if spec.optional and spec.kind != "text":
        cond = f"OR(ISBLANK({x}),{cond})"
    switch = _switch_of(lay, spec)
    if switch is not None:
        cond = f"IF({switch},{cond},TRUE)"
    return cond


def _bound_ref(spec: L.InputSpec, which: str) -> str:
    # Bounds other than 0 and 1 live on the Lists sheet as named cells (no numbers in formulas).
    value = spec.minimum if which == "min" else spec.maximum
    if value in (0, 1):
        return str(int(value))
    return f"lim_{which}_{spec.name[3:]}"


def _build_checks(book: Book) -> None:
    lay = book.lay
    ws = book.ws(L.CHECKS)
    _title(ws, "Checks", "Every check must read OK. The master check is linked from the Cover.")
    for col, width in {"B": 70, "C": 12, "D": 50}.items():
        ws.column_dimensions[col].width = width
    ws["B5"] = "Master check (all rows below)"
    ws["B5"].font = S.BIG
    rows: list[tuple[str, str, str]] = []
    tol = "k_tolerance*MAX(1,ABS({a}))"
    M = L.monthly_columns(lay)

    def near(a: str, b: str) -> str:
        return f"ABS(({a})-({b}))<=" + tol.format(a=a)

    for s in lay.slots:
        o, on = s.frag, s.on
        m1 = f"'{L.MONTHLY}'!{M[f'{o}_monthly']}{L.MONTHLY_FIRST_ROW + 1}"
        if block_of(s.kind).cash is not None:  # the run-rate of month 1 is its cash less what cash adds
            at = lambda key: f"'{L.MONTHLY}'!{M[key]}{L.MONTHLY_FIRST_ROW + 1}"  # noqa: E731
            cells = {"units": at(f"{o}_instances"), "bought": at(f"{o}_bought"), "retired": at(f"{o}_retired"), "month": at("month")}
            m1 = f"{m1}-({block_of(s.kind).cash(s, cells)})"
        for j in _bought_parts(lay, s):
            at = lambda key: f"'{L.MONTHLY}'!{M[key]}{L.MONTHLY_FIRST_ROW + 1}"  # noqa: E731
            k = f"{o}_{j.frag}"
            cells = {"units": at(f"{k}_instances"), "bought": at(f"{k}_bought"), "retired": at(f"{k}_retired"), "month": at("month")}
            m1 = f"{m1}-({composite_cash(s, j, cells)})"
        rows += [
            (f"{s.id}: total = visible + hidden", f"IF({on},{near(f'c_{o}_total', f'c_{o}_visible+c_{o}_hidden')},TRUE)", "Calculations"),
            (f"{s.id}: total = fixed + variable", f"IF({on},{near(f'c_{o}_total', f'c_{o}_fixed+c_{o}_variable')},TRUE)", "Calculations"),
            (f"{s.id}: total = sum of the iceberg line items (Outputs)",
             f"IF({on},{near(f'c_{o}_total', f'SUM(out_iceberg_{o})')},TRUE)", "Outputs"),
            (f"{s.id}: month 1 of the series = today's total (unless a move is phased)",
             f"IF(AND({on},NOT({_moving(s)})),{near(f'c_{o}_total', m1)},TRUE)", "Monthly"),
        ]
    rows += [
        ("Volume: tokens per day, or requests per month with tokens per request",
         "OR(ISNUMBER(in_volume_tokens_per_day),AND(ISNUMBER(in_volume_requests_per_month),ISNUMBER(in_volume_tokens_per_request)))", "Inputs"),
        ("Volume: tokens/day = requests x tokens per request / days when all three are given",
         "OR(NOT(AND(ISNUMBER(in_volume_tokens_per_day),ISNUMBER(in_volume_requests_per_month),ISNUMBER(in_volume_tokens_per_request))),"
         + near("in_volume_tokens_per_day", "in_volume_requests_per_month*in_volume_tokens_per_request/in_volume_days_per_month") + ")", "Inputs"),
    ]
    for s in lay.slots:  # one row per option: short formulas an auditor can read
        if block_of(s.kind).composite:  # its per-request costs are its parts' (an on-prem part's power is per token)
            power = "".join(f"-c_{s.frag}_sh_{j.frag}*c_{j.frag}_load_rate" for j in lay.components(s) if j.kind == "on_prem")
            cond = f"OR(c_has_size,c_{s.frag}_other_slope{power}=0)"
        else:
            cond = (f"OR(c_has_size,AND(c_{s.frag}_other_slope{_volume_rate(s)}=0,OR(NOT({s.on}),(in_{s.frag}_hidden_review_share"
                    f"+c_{s.frag}_failed)*c_{s.frag}_review_unit+in_{s.frag}_hidden_tool_calls_per_request*in_{s.frag}_hidden_price_per_tool_call=0)))")
        rows.append((f"{s.id}: per-request hidden costs (review, tool calls) have a request size", cond, "Inputs"))
    rows += [
        ("Today's option is one of the options compared",
         "OR(" + ",".join(f"AND(in_context_current_option=\"{s.id}\",{s.on})" for s in lay.slots) + ")", "Inputs"),
    ]
    for s in lay.slots:
        rows += block_of(s.kind).checks(s)
    for s in lay.slots:
        if block_of(s.kind).cash is not None or _bought_parts(lay, s):
            rows.append((f"{s.id}: a phased move to bought servers is not in this workbook's series yet (the engine's figures, "
                         "Outputs, include it)", f"NOT(AND({s.on},{_moving(s)}))", "Inputs"))
    for s in lay.slots:
        if block_of(s.kind).composite:
            continue  # its hidden costs are its components'
        h = f"in_{s.frag}_hidden"
        rows.append((f"{s.id}: review cost given one way (cost per review, or minutes with rate) when reviews happen",
                     f"OR(NOT({s.on}),AND(NOT(AND(ISNUMBER({h}_cost_per_review),OR(ISNUMBER({h}_review_minutes),ISNUMBER({h}_reviewer_hourly_rate)))),"
                     f"ISNUMBER({h}_review_minutes)=ISNUMBER({h}_reviewer_hourly_rate),"
                     f"OR(AND({h}_review_share=0,c_{s.frag}_failed=0),ISNUMBER({h}_cost_per_review),ISNUMBER({h}_review_minutes))))", "Inputs"))
    for s in lay.of_kind("api"):  # one row per tier: short formulas an auditor can read
        for i in range(L.MAX_TIERS):
            specs = lay.tier_specs(s.id, i)
            a = specs[0].name
            cells = f"'{specs[0].sheet}'!{_abs(specs[0].cell)}:{_abs(specs[-1].cell)}"  # the tier's row: threshold, input, output
            row_ok = f"OR(COUNT({cells})=0,COUNT({cells})=COLUMNS({cells}))"
            if i > 0:
                prev = lay.tier_specs(s.id, i - 1)[0].name
                row_ok = f"AND({row_ok},OR(ISBLANK({a}),AND(ISNUMBER({prev}),{a}>{prev})))"
            rows.append((f"{s.id}: price tier {i + 1} complete or blank" + (", after tier {i}, threshold above it".format(i=i) if i else ""),
                         row_ok, "Prices"))
    for spec in lay.specs:
        where = f"{spec.option}: " if spec.option else ""
        rows.append((f"Input within limits: {where}{spec.label} ({spec.sheet}!{spec.cell})", _input_check(lay, spec), spec.sheet))
    first = 8
    _header(ws, first - 1, ["Check", "Result", "Where"])
    for i, (label, cond, where) in enumerate(rows):
        r = first + i
        ws.cell(row=r, column=2, value=label).font = S.LABEL
        _calc(ws, f"C{r}", f"=IF(IFERROR({cond},FALSE),\"OK\",\"ERROR\")")
        ws[f"C{r}"].alignment = S.CENTER
        ws.cell(row=r, column=4, value=where).font = S.NOTE
    last = first + len(rows) - 1
    results = f"C{first}:C{last}"
    book.define("chk_results", L.CHECKS, results)
    _calc(ws, "C5", f"=IF(COUNTIF({results},\"OK\")=ROWS({results}),\"OK\",\"ERROR\")", font=S.BIG)
    ws["C5"].alignment = S.CENTER
    ws["D5"] = f"=COUNTIF({results},\"ERROR\")&\" of \"&ROWS({results})&\" checks fail\""
    ws["D5"].font = S.NOTE
    book.define("chk_master", L.CHECKS, "C5")
    for rng in ("C5", results):
        ws.conditional_formatting.add(rng, CellIsRule(operator="equal", formula=['"OK"'], fill=S.OK_FILL))
        ws.conditional_formatting.add(rng, CellIsRule(operator="equal", formula=['"ERROR"'], fill=S.BAD_FILL))
    last = _fingerprint(book, ws, last + 2)
    ws.freeze_panes = "B8"
    ws.print_area = f"A1:D{last}"
    ws.print_title_rows = "7:7"
    _page(ws, landscape=False)
    _protect(ws)


def _fingerprint(book: Book, ws: Worksheet, r: int) -> int:
    """What the engine's recommendation (Cover) was computed from, at generation and now: every
    option's NPV and the business context its rules read. Row 6 says CURRENT while they agree and
    CHANGED (naming what moved) once an edit moves them; it is not part of the master check (an
    edit is not an error), it says the engine-written recommendation is as of generation."""
    from .values import FINGERPRINT_CONTEXT

    lay = book.lay
    _section(ws, r, "The recommendation's inputs: at generation (engine) and now (not part of the master check)", "F")
    _header(ws, r + 1, ["What the recommendation read", "At generation", "Now", "Same", "Shown as"])
    ws.column_dimensions["E"].width = 10
    ws.column_dimensions["F"].width = 16
    r += 2
    ws.cell(row=r, column=2, value="Tolerance for 'same' (relative)").font = S.LABEL
    c = ws.cell(row=r, column=3, value=1e-6)
    c.fill, c.font, c.number_format = S.CONSTANT_FILL, S.CALC, "0.0E+00"
    book.define("k_fingerprint_tolerance", L.CHECKS, f"C{r}")
    r += 1
    first = r
    changed = []
    rows = [(f"NPV: {s.id}", f"gen_{s.frag}_npv", f"out_{s.frag}_npv", f"\"NPV of \"&c_{s.frag}_label", L.USD) for s in lay.slots]
    rows += [(label, f"gen_{key}", name, f"\"{label}\"", "General") for key, label, name in FINGERPRINT_CONTEXT]
    for label, gen, now, shown, fmt in rows:
        ws.cell(row=r, column=2, value=label).font = S.LABEL
        g = ws[f"C{r}"]
        g.font, g.number_format = S.ENGINE, fmt
        book.define(gen, L.CHECKS, f"C{r}")
        _calc(ws, f"D{r}", f"=IF(ISBLANK({now}),\"\",{now})", fmt)
        _calc(ws, f"E{r}", f"=IF(AND(ISNUMBER(C{r}),ISNUMBER(D{r})),ABS(D{r}-C{r})<=k_fingerprint_tolerance*MAX(1,ABS(C{r})),"
                           f"AND(NOT(ISNUMBER(C{r})),NOT(ISNUMBER(D{r})),C{r}&\"\"=D{r}&\"\"))")
        _calc(ws, f"F{r}", f"={shown}", "@")
        changed.append(f"IF(E{r},\"\",F{r}&\"; \")")
        r += 1
    last = r - 1
    book.define("chk_fingerprint_same", L.CHECKS, f"E{first}:E{last}")
    ws["B6"] = "Recommendation (Cover) still matches the inputs"
    ws["B6"].font = S.BOLD
    _calc(ws, "C6", "=IF(COUNTIF(chk_fingerprint_same,TRUE)=ROWS(chk_fingerprint_same),\"CURRENT\",\"CHANGED\")", font=S.BOLD)
    ws["C6"].alignment = S.CENTER
    book.define("chk_recommendation_current", L.CHECKS, "C6")
    _calc(ws, "D6", "=IF(C6=\"CURRENT\",\"the inputs are those the engine's recommendation was made for\",\"moved since generation: \"&"
          + "&".join(changed) + "&\"the recommendation on the Cover is as of generation: run runrate again to refresh it\")", font=S.NOTE)
    book.define("chk_recommendation_changes", L.CHECKS, "D6")
    ws.conditional_formatting.add("C6", CellIsRule(operator="equal", formula=['"CURRENT"'], fill=S.OK_FILL))
    ws.conditional_formatting.add("C6", CellIsRule(operator="equal", formula=['"CHANGED"'], fill=S.BAD_FILL))
    return last


# ---------------------------------------------------------------------------------------------
# Lists (hidden): option ids and kinds, pairs, limits, GPU-step indices


def _build_lists(book: Book) -> None:
    lay = book.lay
    ws = book.ws(L.LISTS)
    ws.sheet_state = "hidden"
    ws["A1"] = "Lists and limits used by validations and formulas (do not edit)."
    ws["A3"], ws["B3"] = "Option ids", "Kinds"
    for i, s in enumerate(lay.slots):
        ws.cell(row=4 + i, column=1, value=s.id)
        ws.cell(row=4 + i, column=2, value=s.kind)
    book.define("k_option_keys", L.LISTS, f"A4:A{3 + len(lay.slots)}")
    book.define("k_option_kinds", L.LISTS, f"B4:B{3 + len(lay.slots)}")
    ws["C3"] = "Limits"
    r = 4
    for spec in lay.specs:
        for which, value in (("min", spec.minimum), ("max", spec.maximum)):
            if spec.kind in ("number", "int") and value is not None and value not in (0, 1):
                ws.cell(row=r, column=3, value=f"{spec.path} {which}")
                ws.cell(row=r, column=4, value=float(value))
                book.define(f"lim_{which}_{spec.name[3:]}", L.LISTS, f"D{r}")
                r += 1
    for spec in lay.specs:
        if spec.kind == "text":
            ws.cell(row=r, column=3, value=f"{spec.path} max length")
            ws.cell(row=r, column=4, value=spec.max_length or 255)
            book.define(f"lim_len_{spec.name[3:]}", L.LISTS, f"D{r}")
            r += 1
    ws["F3"] = "Segment (piecewise break-evens: one row each)"
    for n in range(1, L.MAX_SEGMENTS + 1):
        ws.cell(row=3 + n, column=6, value=n)
    book.define("k_segments", L.LISTS, f"F4:F{3 + L.MAX_SEGMENTS}")
    ws["G3"] = "Pairs (break-even table order)"
    pairs = lay.pairs() or [(lay.slots[0], lay.slots[0])]
    for i, (a, b) in enumerate(pairs):
        ws.cell(row=4 + i, column=7, value=f"{a.id} vs {b.id}")
    book.define("k_pairs", L.LISTS, f"G4:G{3 + len(pairs)}")
    _protect(ws)


# ---------------------------------------------------------------------------------------------
# Cover


def _build_cover(book: Book) -> None:
    lay = book.lay
    ws = book.ws(L.COVER)
    ws.sheet_view.showGridLines = False
    ws.column_dimensions["A"].width = 2
    ws.column_dimensions["B"].width = 36
    for s in lay.slots:
        ws.column_dimensions[s.col].width = 18
    for col in "CDE":
        ws.column_dimensions[col].width = 18
    ws.column_dimensions[lay.unit_col].width = max(ws.column_dimensions[lay.unit_col].width or 0, 16)
    last_col = get_column_letter(max(_col_index(lay.unit_col), 6))
    ws.column_dimensions[last_col].width = max(ws.column_dimensions[last_col].width or 0, 16)
    kinds = list(dict.fromkeys(KINDS[s.kind].label for s in lay.slots))
    ws["B2"] = "LLM cost model: " + " vs ".join(kinds) if len(kinds) > 1 else f"LLM cost model: {kinds[0]} options"
    ws["B2"].font = S.TITLE
    ws["B3"] = "=in_name"
    ws["B3"].font = S.BIG
    ws["B4"] = "=IF(LEN(in_owner_email)>0,\"Owner: \"&in_owner_email,\"\")"
    ws["B4"].font = S.SUBTITLE
    ws["B5"].font = S.ENGINE
    book.define("eng_generated", L.COVER, "B5")
    _section(ws, 7, "Headline", last_col)
    _option_header(ws, lay, 8, "", "Unit")
    lines = [("Total monthly cost today", "total_monthly", L.USD, "USD/month"),
             ("Hidden share of the monthly cost", "hidden_share", L.PCT, "%"),
             ("NPV of costs over the horizon", "npv", L.USD, "USD")]
    for i, (label, key, fmt, unit) in enumerate(lines):
        r = 9 + i
        ws.cell(row=r, column=2, value=label).font = S.LABEL
        for s in lay.slots:
            _calc(ws, f"{s.col}{r}", f"=out_{s.frag}_{key}", fmt)
            ws[f"{s.col}{r}"].alignment = S.RIGHT
        _unit(ws, f"{lay.unit_col}{r}", unit)
    npv_row = book.names[f"out_{lay.slots[0].frag}_npv"].split("$")[-1]  # the Outputs row of the NPVs, one column per option
    npvs = f"'{L.OUTPUTS}'!$C${npv_row}:${lay.last_option_col}${npv_row}"
    labels = f"'{L.OUTPUTS}'!$C$6:${lay.last_option_col}$6"
    lowest = f"=IF(COUNT({npvs})=0,\"\",INDEX({labels},MATCH(MIN({npvs}),{npvs},0)))"
    facts = [("Recommended (engine, at generation)", "=eng_recommendation", "@", "from engine"),
             ("Cheapest over the horizon (engine)", "=eng_cheapest_all", "@", "from engine"),
             ("Why", "=eng_why", "@", "from engine"),
             ("Recommendation status", "=chk_recommendation_current&\": \"&chk_recommendation_changes", "@", "see Checks"),
             ("Lowest NPV of costs now (recalculates)", lowest, "@", "option"),
             ("Cheapest eligible over the horizon", "=eng_cheapest", "@", "from engine"),
             ("Saving vs today's option", "=eng_savings", "@", "from engine"),
             ("Caveats", "=eng_caveats", "@", "from engine"),
             ("Break-even volume (primary pair)", "=out_be_tokens_per_day", L.INT, "tokens/day"),
             ("Today's volume", "=c_tokens_per_day", L.INT, "tokens/day"),
             ("Model checks", "=chk_master", "@", "see Checks")]
    for i, (label, formula, fmt, unit) in enumerate(facts):
        r = 13 + i
        ws.cell(row=r, column=2, value=label).font = S.BOLD
        if formula in ("=eng_cheapest_all", "=eng_why"):  # written by the generator into this cell
            ws[f"C{r}"].font, ws[f"C{r}"].number_format = S.ENGINE, fmt
            book.define(formula[1:], L.COVER, f"C{r}")
        else:
            _calc(ws, f"C{r}", formula, fmt, S.ENGINE if unit == "from engine" else S.BOLD)
        if formula in ("=eng_caveats", "=eng_why") or label == "Recommendation status":  # sentences: a taller, wrapped row
            ws[f"C{r}"].alignment = S.WRAP
            ws[f"B{r}"].alignment = S.WRAP  # the label at the top of its row, beside the text's first line
            ws.row_dimensions[r].height = 54 if formula == "=eng_caveats" else 40
        if formula == lowest:
            book.define("cov_lowest_npv_now", L.COVER, f"C{r}")
        if unit == "from engine" or label == "Recommendation status" or formula == lowest:  # an option's name: room to the right
            ws.merge_cells(f"C{r}:{last_col}{r}")
        else:
            _unit(ws, f"D{r}", unit)
    checks_row = 13 + len(facts) - 1
    ws.conditional_formatting.add(f"C{checks_row}", CellIsRule(operator="equal", formula=['"OK"'], fill=S.OK_FILL))
    ws.conditional_formatting.add(f"C{checks_row}", CellIsRule(operator="equal", formula=['"ERROR"'], fill=S.BAD_FILL))
    r = checks_row + 2
    _section(ws, r, "How this workbook is organised", last_col)
    guide = [
        (L.INPUTS, "Volume, context, one column per option, hidden costs (blue on yellow = input)."),
        (L.PRICES, "Token and GPU prices per option, long-context tiers, constants and conventions."),
        (L.CATALOG, "GPU instances, models and published throughput that capacity mode looks up (source, as-of)."),
        (L.CALC, "One block per option (its kind's formulas), break-even of every pair."),
        (L.MONTHLY, "Month-by-month cost with growth and price decline, cumulative TCO."),
        (L.OUTPUTS, "Summary per option, break-evens, the iceberg and the charts."),
        (L.SENS, "Utilization x volume grid; cost versus volume."),
        (L.CHECKS, "Integrity checks; the master check must read OK."),
    ]
    for i, (sheet, text) in enumerate(guide):
        ws.cell(row=r + 1 + i, column=2, value=sheet).font = S.BOLD
        ws.cell(row=r + 1 + i, column=3, value=text).font = S.LABEL
    r += len(guide) + 2
    _section(ws, r, "Colour code", last_col)
    legend = [("Input (change me)", S.INPUT, S.INPUT_FILL), ("Formula", S.CALC, None),
              ("Constant or convention", S.CALC, S.CONSTANT_FILL), ("Written by the engine at generation", S.ENGINE, None)]
    for i, (text, font, fill) in enumerate(legend):
        c = ws.cell(row=r + 1 + i, column=2, value=text)
        c.font = font
        if fill is not None:
            c.fill = fill
    r += len(legend) + 2
    ws[f"B{r}"] = ("Figures are USD, monthly unless marked. Formulas recalculate in Excel 2016+ and LibreOffice; the "
                   "recommendation, cheapest eligible option and saving are the engine's at generation time (its "
                   "eligibility rules) and do not recalculate.")
    ws[f"B{r}"].font = S.NOTE
    ws[f"B{r}"].alignment = S.WRAP
    ws.merge_cells(f"B{r}:{last_col}{r}")
    ws.row_dimensions[r].height = 40
    ws.print_area = f"A1:{last_col}{r}"
    _page(ws, landscape=False)
    _protect(ws)


def _page(ws: Worksheet, landscape: bool) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.left.text = "runrate_xl scenario model: &A"
    ws.oddFooter.right.text = "Page &P of &N"


# ---------------------------------------------------------------------------------------------
# Charts (native; the generator trims the monthly ranges to the horizon)


def _title_ref(lay: L.Layout, s: L.Slot) -> SeriesLabel:
    """A series named by the option's live label (the Outputs header cell)."""
    return SeriesLabel(strRef=StrRef(f"'{L.OUTPUTS}'!${s.col}$6"))


def _build_charts(book: Book) -> None:
    lay = book.lay
    ws = book.ws(L.OUTPUTS)
    anchor_col = book.chart_col

    # 1. The iceberg: visible vs hidden per option, stacked.
    vis_row = int(book.names["out_visible_row"].split("$")[2].rstrip(":"))
    last_col = _col_index(lay.last_option_col)
    bar = BarChart()
    bar.type = "col"
    bar.grouping = "stacked"
    bar.overlap = 100
    bar.title = "The iceberg (USD/month)"
    bar.y_axis.title = "USD/month"
    bar.y_axis.numFmt = "$#,##0"
    bar.y_axis.majorGridlines = None
    data = Reference(ws, min_col=2, max_col=last_col, min_row=vis_row, max_row=vis_row + 1)
    bar.add_data(data, from_rows=True, titles_from_data=True)
    bar.series[0].graphicalProperties.solidFill = "5B9BD5"
    bar.series[1].graphicalProperties.solidFill = "1F3864"
    bar.set_categories(Reference(ws, min_col=3, max_col=last_col, min_row=vis_row - 1))
    bar.height, bar.width = 8.5, 16
    _axes_visible(bar)
    ws.add_chart(bar, f"{anchor_col}5")

    # 2. Cumulative TCO per option over the horizon.
    mws = book.ws(L.MONTHLY)
    M = L.monthly_columns(lay)
    first, last = L.MONTHLY_FIRST_ROW, L.MONTHLY_FIRST_ROW + L.MAX_MONTHS
    line = LineChart()
    line.title = "Cumulative cost (TCO)"
    line.y_axis.title = "USD"
    line.x_axis.title = "Month"
    line.y_axis.numFmt = "$#,##0"
    for s in lay.slots:
        ref = Reference(mws, min_col=_col_index(M[f"{s.frag}_cumulative"]), min_row=first, max_row=last)
        series = Series(ref)
        series.tx = _title_ref(lay, s)
        series.smooth = False
        series.graphicalProperties.line.solidFill = colour(s)
        series.graphicalProperties.line.width = 28575
        line.series.append(series)
    line.set_categories(Reference(mws, min_col=_col_index(M["month"]), min_row=first, max_row=last))
    line.height, line.width = 8.5, 16
    _axes_visible(line)
    ws.add_chart(line, f"{anchor_col}24")

    # 3. Monthly cost versus volume with the primary break-even point.
    sws = book.ws(L.SENS)
    first_pt, last_pt, cols = book.curve
    sc = ScatterChart()
    sc.title = "Monthly cost vs volume"
    sc.scatterStyle = "lineMarker"
    sc.x_axis.title = "Tokens per day"
    sc.y_axis.title = "USD/month"
    sc.x_axis.numFmt = '#,##0,,"M"'
    sc.y_axis.numFmt = "$#,##0"
    xs = Reference(sws, min_col=3, min_row=first_pt, max_row=last_pt)
    for s in lay.slots:
        series = Series(Reference(sws, min_col=_col_index(cols[s.id]), min_row=first_pt, max_row=last_pt), xs)
        series.tx = _title_ref(lay, s)
        series.marker = Marker(symbol="none")
        series.smooth = False
        series.graphicalProperties.line.solidFill = colour(s)
        series.graphicalProperties.line.width = 28575
        sc.series.append(series)
    be_row = last_pt + 2
    for row, title, symbol, col in ((be_row, "Break-even", "diamond", "C00000"), (be_row + 1, "Today", "circle", "000000")):
        series = Series(Reference(sws, min_col=4, min_row=row), Reference(sws, min_col=3, min_row=row), title=title)
        series.marker = Marker(symbol=symbol, size=10)
        series.marker.graphicalProperties = GraphicalProperties(solidFill=col)
        series.marker.graphicalProperties.line.solidFill = col
        series.graphicalProperties.line.noFill = True
        sc.series.append(series)
    sc.height, sc.width = 8.5, 16
    _axes_visible(sc)
    ws.add_chart(sc, f"{anchor_col}43")


def _axes_visible(chart) -> None:
    # openpyxl >= 3.1 hides axes unless told otherwise (delete=True); LibreOffice then draws none.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"


# ---------------------------------------------------------------------------------------------


def build_template(shape: L.Shape = L.LEGACY_SHAPE) -> Workbook:
    book = Book(L.layout_for(shape))
    for s in book.lay.slots:
        block_of(s.kind)  # a kind without a formula block is refused before anything is built
    wb = book.wb
    _build_inputs(book)
    _build_prices(book)
    build_catalog(book)
    _build_lists(book)
    _build_calculations(book)
    _build_monthly(book)
    _build_outputs(book)
    _build_sensitivity(book)
    _build_checks(book)
    _build_cover(book)
    _build_charts(book)
    wb.properties.creator = "runrate_xl"
    wb.properties.title = "runrate_xl scenario model"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.lastModifiedBy = "runrate_xl"
    wb.calculation.fullCalcOnLoad = True
    wb.active = 0
    return wb


@lru_cache(maxsize=16)
def template_bytes(shape: L.Shape = L.LEGACY_SHAPE) -> bytes:
    """The template of a shape as deterministic xlsx bytes (built once per process and shape)."""
    import io

    from .zipnorm import normalise_zip

    buf = io.BytesIO()
    build_template(shape).save(buf)
    return normalise_zip(buf.getvalue())


def write_template(path: Path = TEMPLATE_PATH) -> Path:
    """Write the legacy shape's template (the shipped one)."""
    from ..fsutil import atomic_write_bytes

    return atomic_write_bytes(path, template_bytes(L.LEGACY_SHAPE))


if __name__ == "__main__":  # pragma: no cover
    print(write_template())

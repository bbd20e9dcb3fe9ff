"""Builds ``workbook_templates/scenario.xlsx`` (package data ``runrate_xl.workbook_templates``):
the scenario model with live formulas.

Run ``python -m runrate_xl.workbook.template`` after changing this file; a test checks that the
shipped template matches what this builder makes. Formulas use defined names (``in_*`` inputs,
``k_*`` constants, ``c_*`` calculations) and only functions Excel 2016+ and LibreOffice 7.4 both
have. The only numbers inside formulas are 0 and 1; every other constant is a named cell.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Iterable, Optional

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series
from openpyxl.chart.marker import Marker
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.worksheet import Worksheet

from ..engine.scenario import OPTION_LABELS
from . import layout as L
from . import styles as S
from .zipnorm import FIXED_TIME

# The shipped template, found through importlib.resources (in a checkout or an editable install
# this is the repository's workbook_templates/scenario.xlsx, which the build maps into the package).
TEMPLATE_PATH = Path(str(resources.files("runrate_xl.workbook_templates").joinpath("scenario.xlsx")))
COLOURS = {"api": "4472C4", "fine_tuned": "ED7D31", "self_hosted": "70AD47"}
OPT_SHORT = {"api": "api", "fine_tuned": "ft", "self_hosted": "sh"}
ON = {"api": "TRUE", "fine_tuned": "c_ft_on", "self_hosted": "c_sh_on"}


def _abs(cell: str) -> str:
    col = "".join(c for c in cell if c.isalpha())
    row = "".join(c for c in cell if c.isdigit())
    return f"${col}${row}"


class Book:
    """An openpyxl workbook plus helpers that style cells and register defined names."""

    def __init__(self) -> None:
        self.wb = Workbook()
        self.wb.remove(self.wb.active)
        self.sheets = {name: self.wb.create_sheet(name) for name in L.SHEETS}
        self.names: dict[str, str] = {}

    def define(self, name: str, sheet: str, ref: str) -> None:
        if name in self.names:
            raise ValueError(f"defined name {name} used twice")
        if ":" in ref:
            a, b = ref.split(":")
            target = f"'{sheet}'!{_abs(a)}:{_abs(b)}"
        else:
            target = f"'{sheet}'!{_abs(ref)}"
        self.names[name] = target
        self.wb.defined_names[name] = DefinedName(name, attr_text=target)

    def ws(self, name: str) -> Worksheet:
        return self.sheets[name]


def _title(ws: Worksheet, title: str, subtitle: str = "", width_to: str = "G") -> None:
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


def _protect(ws: Worksheet) -> None:
    # Protected without a password: a guard against accidental edits, not a lock.
    p = ws.protection
    p.sheet = True
    p.formatColumns = False
    p.formatRows = False
    p.formatCells = False


# ---------------------------------------------------------------------------------------------
# Inputs and Prices


def _validation(spec: L.InputSpec) -> Optional[DataValidation]:
    title = spec.label[:32]
    prompt = spec.help
    if spec.kind in ("choice", "yesno"):
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
    dv = _validation(spec)
    if dv is not None:
        ws.add_data_validation(dv)
    book.define(spec.name, spec.sheet, spec.cell)


def _build_inputs(book: Book) -> None:
    ws = book.ws(L.INPUTS)
    _title(ws, "Inputs", "Blue on yellow = input (unlocked). Change inputs here and on Prices; every other sheet follows.")
    for col, width in {"B": 44, "C": 18, "D": 18, "E": 18, "F": 16, "G": 40}.items():
        ws.column_dimensions[col].width = width
    specs = {s.path: s for s in L.INPUT_SPECS if s.sheet == L.INPUTS}
    for title, rows in L.INPUT_SECTIONS:
        r = L.INPUT_SECTION_ROWS[title]
        _section(ws, r, title, "F")
        for path, label, unit, *_ in rows:
            spec = specs[path]
            row = int(spec.cell[1:])
            ws.cell(row=row, column=2, value=label).font = S.LABEL
            _unit(ws, f"D{row}", unit)
            ws.cell(row=row, column=5, value=spec.help[:120]).font = S.NOTE
            _input_cell(book, spec)
    ws["C8"].alignment = S.WRAP
    r = L.INPUT_SECTION_ROWS["Hidden costs (the iceberg)"]
    _section(ws, r, "Hidden costs (the iceberg)", "F")
    _header(ws, r + 1, ["Per option", OPTION_LABELS["api"], OPTION_LABELS["fine_tuned"], OPTION_LABELS["self_hosted"], "Unit"])
    for i, (leaf, label, unit, _fmt) in enumerate(L.HIDDEN_FIELDS):
        row = r + 2 + i
        ws.cell(row=row, column=2, value=label).font = S.LABEL
        _unit(ws, f"F{row}", unit)
        for option in L.OPTION_KEYS:
            _input_cell(book, specs[f"{option}.hidden.{leaf}"])
    last = r + 2 + len(L.HIDDEN_FIELDS)
    ws.cell(row=last + 1, column=2, value="Review cost: give a cost per review, or minutes with an hourly rate (not both). "
            "Per-request items need a request size (requests per month or tokens per request).").font = S.NOTE
    ws.freeze_panes = "C5"
    ws.print_area = f"A1:G{last + 1}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=True)
    _protect(ws)


def _build_prices(book: Book) -> None:
    ws = book.ws(L.PRICES)
    _title(ws, "Prices", "Token and GPU prices in force (resolved from the catalog at generation; edit to override).")
    for col, width in {"B": 40, "C": 18, "D": 18, "E": 18, "F": 40}.items():
        ws.column_dimensions[col].width = width
    specs = {s.path: s for s in L.INPUT_SPECS if s.sheet == L.PRICES}
    for title, rows in L.PRICE_ROWS:
        _section(ws, L.PRICE_SECTION_ROWS[title], title, "F")
        for path, label, unit, *_ in rows:
            spec = specs[path]
            row = int(spec.cell[1:])
            ws.cell(row=row, column=2, value=label).font = S.LABEL
            _unit(ws, f"D{row}", unit)
            ws.cell(row=row, column=5, value=spec.help[:120]).font = S.NOTE
            _input_cell(book, spec)
    r = L.PRICE_SECTION_ROWS["Long-context price tiers"]
    _section(ws, r, "Long-context price tiers (whole request priced at the tier)", "F")
    _header(ws, r + 1, ["Tier", "Above input tokens/request", "Input USD/1M tokens", "Output USD/1M tokens"])
    for i in range(L.MAX_TIERS):
        row = r + 2 + i
        ws.cell(row=row, column=2, value=f"Tier {i + 1}").font = S.LABEL
        for spec in L.tier_specs(i):
            _input_cell(book, spec)
    first, last = r + 2, r + 1 + L.MAX_TIERS
    for leaf, col in zip(("above", "input", "output"), L.TIER_COLUMNS):
        book.define(f"tbl_tier_{leaf}", L.PRICES, f"{col}{first}:{col}{last}")
    ws.cell(row=last + 1, column=2, value="Fill tiers from the top, thresholds increasing; leave unused rows blank.").font = S.NOTE
    r = L.PRICE_SECTION_ROWS["Constants and conventions"]
    _section(ws, r, "Constants and conventions (used by every formula; not inputs)", "F")
    for i, (name, (label, value, unit, note)) in enumerate(L.CONSTANTS.items()):
        row = L.CONSTANT_FIRST_ROW + i
        ws.cell(row=row, column=2, value=label).font = S.LABEL
        c = ws.cell(row=row, column=3, value=value)
        c.fill, c.font = S.CONSTANT_FILL, S.CALC
        c.number_format = "0.0%" if value < 1 and value >= 0.01 else ("0.0E+00" if value < 0.01 else "#,##0")
        _unit(ws, f"D{row}", unit)
        ws.cell(row=row, column=5, value=note).font = S.NOTE
        book.define(name, L.PRICES, f"C{row}")
    extra = L.CONSTANT_FIRST_ROW + len(L.CONSTANTS)
    for i, (name, label, value, unit, note) in enumerate([
        ("k_half", "Cheaper-below probe", 0.5, "x break-even", "The engine compares options at half the break-even volume"),
        ("k_curve_span", "Cost-vs-volume chart span", 2.0, "x volume", "Chart runs to this multiple of the larger of current and break-even volume"),
    ]):
        row = extra + i
        ws.cell(row=row, column=2, value=label).font = S.LABEL
        c = ws.cell(row=row, column=3, value=value)
        c.fill, c.font, c.number_format = S.CONSTANT_FILL, S.CALC, "0.00"
        _unit(ws, f"D{row}", unit)
        ws.cell(row=row, column=5, value=note).font = S.NOTE
        book.define(name, L.PRICES, f"C{row}")
    ws.freeze_panes = "C5"
    ws.print_area = f"A1:F{extra + 2}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=False)
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


def _capacity_instances(t: str, utilization: str = "in_self_hosted_target_utilization") -> str:
    """GPU instances at volume ``t`` (engine functions.gpu_instances, same order of operations)."""
    return (f"CEILING(MAX(1,CEILING({t}*(1+in_self_hosted_retry_rate)/k_seconds_per_day*in_self_hosted_peak_to_average"
            f"/(c_sh_capacity_tps*{utilization}),1))*in_self_hosted_redundancy,1)")


def _build_calculations(book: Book) -> dict[str, dict[str, str]]:
    c = Calc(book)
    ws = c.ws
    _title(ws, "Calculations", "Every formula works on named inputs and constants; nothing is typed in here.")
    for col, width in {"B": 42, "C": 18, "D": 20, "E": 14, "F": 12, "G": 12, "H": 30}.items():
        ws.column_dimensions[col].width = width
    D, s = "in_volume_days_per_month", "in_volume_input_share"

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

    c.section("API prices in force (long-context tier applied)")
    c.line("c_tier_index", "Tier in force (0 = standard prices)",
           "=IF(c_has_size,SUMPRODUCT(ISNUMBER(tbl_tier_above)*(tbl_tier_above<c_input_per_request)),0)", "tier", "0")
    c.line("c_tier_applies", "Long-context tier applies", "=c_tier_index>0", "TRUE/FALSE")
    c.line("c_api_p_in", "Input price", "=IF(c_tier_applies,INDEX(tbl_tier_input,c_tier_index),in_api_input_price_per_1m)",
           "USD/1M tokens", L.PRICE)
    c.line("c_api_p_out", "Output price", "=IF(c_tier_applies,INDEX(tbl_tier_output,c_tier_index),in_api_output_price_per_1m)",
           "USD/1M tokens", L.PRICE)
    c.line("c_ratio_in", "Tier ratio, input", "=IF(c_tier_applies,IF(in_api_input_price_per_1m<>0,c_api_p_in/in_api_input_price_per_1m,1),1)",
           "x", "0.0000")
    c.line("c_ratio_out", "Tier ratio, output", "=IF(c_tier_applies,IF(in_api_output_price_per_1m<>0,c_api_p_out/in_api_output_price_per_1m,1),1)",
           "x", "0.0000")
    c.line("c_api_p_cached", "Cached input price",
           "=IF(ISNUMBER(in_api_cached_input_price_per_1m),in_api_cached_input_price_per_1m*c_ratio_in,k_cached_convention*c_api_p_in)",
           "USD/1M tokens", L.PRICE, "blank: 10% convention")
    c.line("c_api_p_batch_in", "Batch input price",
           "=IF(ISNUMBER(in_api_batch_input_price_per_1m),in_api_batch_input_price_per_1m*c_ratio_in,k_batch_convention*c_api_p_in)",
           "USD/1M tokens", L.PRICE, "blank: 50% convention")
    c.line("c_api_p_batch_out", "Batch output price",
           "=IF(ISNUMBER(in_api_batch_output_price_per_1m),in_api_batch_output_price_per_1m*c_ratio_out,k_batch_convention*c_api_p_out)",
           "USD/1M tokens", L.PRICE, "blank: 50% convention")

    c.section("Options and self-hosted capacity")
    c.line("c_ft_on", "Fine-tuned option included", "=in_fine_tuned_included=\"Yes\"", "TRUE/FALSE")
    c.line("c_sh_on", "Self-hosted option included", "=in_self_hosted_included=\"Yes\"", "TRUE/FALSE")
    c.line("c_sh_capacity", "Self-hosted sized from capacity", "=AND(c_sh_on,in_self_hosted_mode=\"capacity\")", "TRUE/FALSE")
    c.line("c_sh_capacity_tps", "Throughput per instance", "=IF(c_sh_capacity,in_self_hosted_tokens_per_second_per_gpu*in_self_hosted_gpus_per_instance,\"\")",
           "tokens/s", L.INT)
    c.line("c_sh_instances", "GPU instances (today)", "=IF(c_sh_capacity," + _capacity_instances("c_tokens_per_day") + ",\"\")",
           "instances", L.INT, "peak / (throughput x target), x redundancy")
    c.line("c_sh_gpus", "GPUs (today)", "=IF(c_sh_capacity,c_sh_instances*in_self_hosted_gpus_per_instance,\"\")", "GPUs", L.INT)
    c.line("c_sh_instance_month", "Cost of one instance", "=IF(c_sh_capacity,in_self_hosted_instance_hourly_usd*in_self_hosted_hours_per_month,\"\")",
           "USD/month", L.USD)
    c.line("c_sh_utilization", "Average GPU utilization",
           "=IF(c_sh_on,IF(c_sh_capacity,c_tokens_per_day*(1+in_self_hosted_retry_rate)/k_seconds_per_day/(c_sh_instances*c_sh_capacity_tps),"
           "in_self_hosted_utilization),\"\")", "%", L.PCT)
    c.line("c_sh_infra", "Effective GPU infrastructure",
           "=IF(c_sh_on,IF(c_sh_capacity,c_sh_instances*in_self_hosted_instance_hourly_usd*in_self_hosted_hours_per_month,"
           "in_self_hosted_infra_monthly/in_self_hosted_utilization),\"\")", "USD/month", L.USD, "simple: I / U")
    c.line("c_sh_step", "Volume per GPU step", "=IF(c_sh_capacity,in_self_hosted_tokens_per_second_per_gpu*in_self_hosted_gpus_per_instance"
           "*in_self_hosted_target_utilization*k_seconds_per_day/((1+in_self_hosted_retry_rate)*in_self_hosted_peak_to_average),\"\")",
           "tokens/day", L.INT)

    c.section("Human review cost per review")
    for option in L.OPTION_KEYS:
        h = f"in_{option}_hidden"
        c.line(f"c_{OPT_SHORT[option]}_review_unit", f"{OPTION_LABELS[option]}: cost per review",
               f"=IF(ISNUMBER({h}_cost_per_review),{h}_cost_per_review,IF(AND(ISNUMBER({h}_review_minutes),"
               f"ISNUMBER({h}_reviewer_hourly_rate)),{h}_review_minutes/k_minutes_per_hour*{h}_reviewer_hourly_rate,0))",
               "USD/review", L.USD2)

    items: dict[str, dict[str, str]] = {}
    for option in L.OPTION_KEYS:
        items[option] = _line_item_block(c, option, D, s)

    c.section("Break-even (primary pair: API vs self-hosted, else API vs fine-tuned)")
    c.line("c_be_b", "Compared with", "=IF(c_sh_on,\"self_hosted\",IF(c_ft_on,\"fine_tuned\",\"\"))", "option")
    c.line("c_be_fb", "Its fixed cost", "=IF(c_sh_on,c_sh_fixed,IF(c_ft_on,c_ft_fixed,0))", "USD/month", L.USD)
    c.line("c_be_sb", "Its cost per token/day", "=IF(c_sh_on,c_sh_slope,IF(c_ft_on,c_ft_slope,0))", "USD/month per token/day", "0.000000000")
    c.line("c_be_closed", "Closed form: (Fb - Fa) / (Sa - Sb)",
           "=IF(c_api_slope=c_be_sb,\"\",IF((c_be_fb-c_api_fixed)/(c_api_slope-c_be_sb)>0,(c_be_fb-c_api_fixed)/(c_api_slope-c_be_sb),\"\"))",
           "tokens/day", L.INT)
    c.line("c_pw_s", "Piecewise: API slope - self-hosted slope", "=c_api_slope-c_sh_slope", "USD/month per token/day", "0.000000000")
    c.line("c_pw_s_safe", "Piecewise: slope for division", "=IF(c_pw_s=0,1,c_pw_s)", "USD/month per token/day", "0.000000000")
    c.line("c_pw_c0", "Piecewise: API fixed - self-hosted fixed excl. GPUs", "=c_api_fixed-c_sh_fixed_other", "USD/month", L.USD)
    c.line("c_pw_sign0", "Piecewise: API dearer at the smallest volume",
           "=IF(c_sh_capacity,c_pw_c0-CEILING(in_self_hosted_redundancy,1)*c_sh_instance_month+c_pw_s*c_sh_step*k_tiny_step>0,FALSE)",
           "TRUE/FALSE")
    dlo = "(c_pw_c0-CEILING(k_segments*in_self_hosted_redundancy,1)*c_sh_instance_month+c_pw_s*(k_segments-1)*c_sh_step)"
    lo = "(k_segments-1)*c_sh_step"
    root = f"({lo}-{dlo}/c_pw_s_safe)"
    hit = (f"((k_segments>1)*(({dlo}>0)<>c_pw_sign0)+(c_pw_s<>0)*({root}>{lo})*({root}<=k_segments*c_sh_step))>0")
    c.line("c_pw_k", "Piecewise: first GPU step where the order flips",
           f"=IF(c_sh_capacity,IFERROR(MATCH(1,({hit})*1,0),\"\"),\"\")", "step", "0", "array formula over 1..1000 steps",
           array=True)
    c.line("c_pw_dlo", "Piecewise: API - self-hosted at the step's start",
           "=IF(ISNUMBER(c_pw_k),c_pw_c0-CEILING(c_pw_k*in_self_hosted_redundancy,1)*c_sh_instance_month+c_pw_s*(c_pw_k-1)*c_sh_step,\"\")",
           "USD/month", L.USD)
    c.line("c_pw_t", "Piecewise break-even",
           "=IF(ISNUMBER(c_pw_k),IF(AND(c_pw_k>1,(c_pw_dlo>0)<>c_pw_sign0),(c_pw_k-1)*c_sh_step,"
           "(c_pw_k-1)*c_sh_step-c_pw_dlo/c_pw_s_safe),\"\")", "tokens/day", L.INT)
    c.line("c_be_t", "Break-even volume", "=IF(c_be_b=\"\",\"\",IF(c_sh_capacity,c_pw_t,c_be_closed))", "tokens/day", L.INT)
    c.line("c_be_found", "Break-even found", "=ISNUMBER(c_be_t)", "TRUE/FALSE")
    c.line("c_be_probe", "Volume where the cheaper option is read",
           "=IF(c_be_found,c_be_t*k_half,c_volume_basis)", "tokens/day", L.INT, "half the break-even, else today")
    c.line("c_be_probe_instances", "GPU instances at that volume",
           "=IF(c_sh_capacity," + _capacity_instances("c_be_probe") + ",\"\")", "instances", L.INT)
    c.line("c_be_a_probe", "API cost there", "=c_api_fixed+c_api_slope*c_be_probe", "USD/month", L.USD)
    c.line("c_be_b_probe", "Other option's cost there",
           "=IF(c_sh_capacity,c_sh_fixed_other+c_be_probe_instances*c_sh_instance_month+c_sh_slope*c_be_probe,c_be_fb+c_be_sb*c_be_probe)",
           "USD/month", L.USD)

    c.section("Today's option, payback and discounting")
    c.line("c_cur_index", "Today's option (1 API, 2 fine-tuned, 3 self-hosted)",
           "=MATCH(in_context_current_option,k_option_keys,0)", "index", "0")
    c.line("c_cur_total", "Today's monthly cost", "=CHOOSE(c_cur_index,c_api_total,c_ft_total,c_sh_total)", "USD/month", L.USD)
    c.line("c_cur_one_time", "Today's one-time cost", "=CHOOSE(c_cur_index,c_api_one_time,c_ft_one_time,c_sh_one_time)", "USD", L.USD)
    for option in L.OPTION_KEYS:
        o = OPT_SHORT[option]
        k = f"c_{o}_pb_k"
        c.line(k, f"{OPTION_LABELS[option]}: last month not below today's cumulative cost", f"=MAX(ser_{option}_behind)", "month", "0",
               "-1: below from the start")

        row = f"c_{o}_pb_row"
        c.line(row, f"{OPTION_LABELS[option]}: its row in the cumulative series", f"={k}+1", "row", "0", "month 0 is row 1")
        waiting = f"OR({k}<0,{k}>=in_horizon_months)"
        for name, at, what in ((f"c_{o}_pb_gap", row, "in that month"), (f"c_{o}_pb_gap_next", f"{row}+1", "a month later")):
            today = ",".join(f"INDEX(ser_{x}_cumulative,{at})" for x in L.OPTION_KEYS)
            c.line(name, f"{OPTION_LABELS[option]}: cumulative cost above today's option {what}",
                   f"=IF({waiting},\"\",INDEX(ser_{option}_cumulative,{at})-CHOOSE(c_cur_index,{today}))", "USD", L.USD)
        c.line(f"c_{o}_payback", f"{OPTION_LABELS[option]}: payback vs today's option",
               f"=IF(OR(in_context_current_option=\"{option}\",NOT({ON[option]})),\"\",IF({k}<0,0,IF({k}>=in_horizon_months,\"never\","
               f"{k}+c_{o}_pb_gap/(c_{o}_pb_gap-c_{o}_pb_gap_next))))", "months", L.MONTHS_FMT,
               "from the cumulative series, interpolated in the crossover month")
    c.line("c_monthly_discount", "Monthly discount rate", "=(1+in_horizon_discount_rate_per_year)^(1/k_months_per_year)-1", "%/month", "0.0000%")
    ws.freeze_panes = "C5"
    ws.print_area = f"A1:H{c.row}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=False)
    _protect(ws)
    return items


def _line_item_block(c: Calc, option: str, D: str, s: str) -> dict[str, str]:
    """Rows of one option's line items: monthly USD (C), rate per token/day (E), tags (F, G)."""
    ws, book = c.ws, c.book
    o = OPT_SHORT[option]
    on = ON[option]
    h = f"in_{option}_hidden"
    c.section(f"{OPTION_LABELS[option]}: monthly line items (the engine's keys)")
    _header(ws, c.row, ["Line item", "USD/month", "Unit", "USD/month per token/day", "Visible/hidden", "Fixed/variable", "Key"])
    c.row += 1
    first = c.row
    rates: dict[str, str] = {}
    fixed: dict[str, str] = {}
    if option == "api":
        pm = "/k_per_million"
        rates["input_tokens"] = f"={D}*{s}*(1-in_api_batch_share)*(1-in_api_cached_share)*c_api_p_in{pm}"
        rates["cached_input_tokens"] = f"={D}*{s}*(1-in_api_batch_share)*in_api_cached_share*c_api_p_cached{pm}"
        rates["output_tokens"] = f"={D}*(1-{s})*(1-in_api_batch_share)*c_api_p_out{pm}"
        rates["batch_tokens"] = f"={D}*in_api_batch_share*({s}*c_api_p_batch_in+(1-{s})*c_api_p_batch_out){pm}"
        rates["retries"] = "=in_api_retry_rate*SUM({first_rate}:{prev_rate})"
    elif option == "fine_tuned":
        rates["input_tokens"] = f"=IF({on},{D}*{s}*in_fine_tuned_input_price_per_1m/k_per_million,\"\")"
        rates["output_tokens"] = f"=IF({on},{D}*(1-{s})*in_fine_tuned_output_price_per_1m/k_per_million,\"\")"
        rates["retries"] = "=IF(" + on + ",in_fine_tuned_retry_rate*SUM({first_rate}:{prev_rate}),\"\")"
        fixed["hosting"] = "in_fine_tuned_hosting_monthly"
        fixed["refresh"] = "in_fine_tuned_refresh_cost/in_fine_tuned_refresh_interval_months"
    else:
        fixed["gpu_in_use"] = "c_sh_infra*c_sh_utilization"
        fixed["idle_gpu"] = "c_sh_infra*(1-c_sh_utilization)"
        rates["running_cost"] = f"=IF({on},{D}*in_self_hosted_variable_cost_per_1m/k_per_million,\"\")"
        rates["retries"] = "=IF(" + on + ",{prev_rate}*in_self_hosted_retry_rate,\"\")"
        fixed["people"] = "in_self_hosted_fte*in_self_hosted_fte_annual_cost/k_months_per_year"
        fixed["ops_tooling"] = "in_self_hosted_ops_tooling_monthly"
        fixed["storage"] = "in_self_hosted_storage_monthly"
        fixed["egress"] = "in_self_hosted_egress_monthly"
    rates["human_review"] = f"=IF({on},c_requests_rate*{h}_review_share*c_{o}_review_unit,\"\")"
    rates["tool_calls"] = f"=IF({on},c_requests_rate*{h}_tool_calls_per_request*{h}_price_per_tool_call,\"\")"
    fixed["observability"] = f"{h}_observability_monthly"
    fixed["vector_db"] = f"{h}_vector_db_monthly"
    fixed["evaluation"] = f"{h}_evaluation_monthly"
    fixed["gateway"] = f"{h}_gateway_monthly"
    cells: dict[str, str] = {}
    token_rows: list[int] = []
    other_rate_rows: list[int] = []
    for key, label, hidden, variable in L.LINE_ITEMS[option]:
        r = c.row
        ws.cell(row=r, column=2, value=label).font = S.LABEL
        _unit(ws, f"D{r}", "USD/month")
        if variable:
            formula = rates[key].format(first_rate=f"E{first}", prev_rate=f"E{r - 1}")
            _calc(ws, f"E{r}", formula, "0.000000000")
            _calc(ws, f"C{r}", f"=IF({on},E{r}*c_tokens_per_day,\"\")", L.USD2)
            (token_rows if key in L.TOKEN_ITEMS[option] else other_rate_rows).append(r)
        else:
            _calc(ws, f"C{r}", f"=IF({on},{fixed[key]},\"\")", L.USD2)
        ws.cell(row=r, column=6, value="Hidden" if hidden else "Visible").font = S.NOTE
        ws.cell(row=r, column=7, value="Variable" if variable else "Fixed").font = S.NOTE
        ws.cell(row=r, column=8, value=key).font = S.NOTE
        book.define(f"c_li_{o}_{key}", L.CALC, f"C{r}")
        cells[key] = f"C{r}"
        c.row += 1
    last = c.row - 1
    rng = f"C{first}:C{last}"
    c.line(f"c_{o}_total", f"{OPTION_LABELS[option]}: total", f"=IF({on},SUM({rng}),\"\")", "USD/month", L.USD)
    ws[f"C{c.row - 1}"].font = S.BOLD
    c.line(f"c_{o}_hidden", "Hidden", f"=IF({on},SUMIF(F{first}:F{last},\"Hidden\",{rng}),\"\")", "USD/month", L.USD)
    c.line(f"c_{o}_visible", "Visible", f"=IF({on},c_{o}_total-c_{o}_hidden,\"\")", "USD/month", L.USD)
    c.line(f"c_{o}_hidden_share", "Hidden share", f"=IF({on},IF(c_{o}_total>0,c_{o}_hidden/c_{o}_total,\"\"),\"\")", "%", L.PCT)
    c.line(f"c_{o}_variable", "Variable", f"=IF({on},SUMIF(G{first}:G{last},\"Variable\",{rng}),\"\")", "USD/month", L.USD)
    c.line(f"c_{o}_fixed", "Fixed", f"=IF({on},c_{o}_total-c_{o}_variable,\"\")", "USD/month", L.USD)
    c.line(f"c_{o}_slope", "Cost per token/day (all variable items)", f"=IF({on},SUM(E{first}:E{last}),0)",
           "USD/month per token/day", "0.000000000")
    tok = ",".join(f"C{r}" for r in token_rows) or "0"
    tok_rate = ",".join(f"E{r}" for r in token_rows) or "0"
    oth_rate = ",".join(f"E{r}" for r in other_rate_rows) or "0"
    c.line(f"c_{o}_token_cost", "Token spend incl. retries", f"=IF({on},SUM({tok}),\"\")", "USD/month", L.USD)
    c.line(f"c_{o}_token_slope", "Token spend per token/day", f"=IF({on},SUM({tok_rate}),0)", "USD/month per token/day", "0.000000000")
    c.line(f"c_{o}_other_slope", "Other variable cost per token/day", f"=IF({on},SUM({oth_rate}),0)", "USD/month per token/day", "0.000000000")
    one_time = {"api": "in_api_setup_cost", "fine_tuned": "in_fine_tuned_setup_cost",
                "self_hosted": "in_self_hosted_setup_cost+in_self_hosted_migration_cost"}[option]
    c.line(f"c_{o}_one_time", "One-time cost", f"=IF({on},{one_time},\"\")", "USD", L.USD)
    if option != "self_hosted":
        c.line(f"c_{o}_blended", "Blended token price",
               f"=IF(AND({on},c_tokens_per_day>0),c_{o}_token_cost/(c_tokens_per_day*in_volume_days_per_month)*k_per_million,\"\")",
               "USD/1M tokens", "$#,##0.0000")
    else:
        others = ",".join(cells[k] for k in ("people", "ops_tooling", "storage", "egress", "observability", "vector_db", "evaluation", "gateway"))
        c.line("c_sh_fixed_other", "Fixed cost excluding GPUs", f"=IF({on},SUM({others}),0)", "USD/month", L.USD)
    return cells


# ---------------------------------------------------------------------------------------------
# Monthly series


def _build_monthly(book: Book) -> None:
    ws = book.ws(L.MONTHLY)
    _title(ws, "Monthly series", "Volume grows monthly; API prices decline yearly; one-time costs at month 0. Rows past the horizon stay blank.")
    M = L.MONTHLY_COLUMNS
    heads = {
        "month": ("Month", "#"), "active": ("In horizon", "TRUE/FALSE"), "tokens_per_day": ("Tokens per day", "tokens/day"),
        "price_factor": ("API price factor", "x"), "discount_factor": ("Discount factor", "x"),
        "instances": ("GPU instances", "instances"),
        "api_monthly": ("API", "USD/month"), "fine_tuned_monthly": ("Fine-tuned", "USD/month"),
        "self_hosted_monthly": ("Self-hosted", "USD/month"),
        "api_cumulative": ("API", "USD cumulative"), "fine_tuned_cumulative": ("Fine-tuned", "USD cumulative"),
        "self_hosted_cumulative": ("Self-hosted", "USD cumulative"),
        "api_behind": ("API", "month or -1"), "fine_tuned_behind": ("Fine-tuned", "month or -1"),
        "self_hosted_behind": ("Self-hosted", "month or -1"),
    }
    hr = L.MONTHLY_FIRST_ROW - 2
    ws.cell(row=hr - 1, column=_col_index(M["api_monthly"]), value="Monthly cost").font = S.SECTION
    ws.cell(row=hr - 1, column=_col_index(M["api_cumulative"]), value="Cumulative cost (TCO)").font = S.SECTION
    ws.cell(row=hr - 1, column=_col_index(M["api_behind"]),
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
        for o, key in (("api", "api_cumulative"), ("ft", "fine_tuned_cumulative"), ("sh", "self_hosted_cumulative")):
            on = {"api": "TRUE", "ft": "c_ft_on", "sh": "c_sh_on"}[o]
            col = M[key]
            mcol = M[key.replace("cumulative", "monthly")]
            if m == 0:
                _calc(ws, f"{col}{r}", f"=IF({on},c_{o}_one_time,\"\")", L.USD)
            else:
                _calc(ws, f"{col}{r}", f"=IF(AND({act},{on}),{col}{r - 1}+{mcol}{r},\"\")", L.USD)
        today = f"CHOOSE(c_cur_index,{M['api_cumulative']}{r},{M['fine_tuned_cumulative']}{r},{M['self_hosted_cumulative']}{r})"
        for option in L.OPTION_KEYS:
            on = ON[option]
            cum = f"{M[option + '_cumulative']}{r}"
            _calc(ws, f"{M[option + '_behind']}{r}",
                  f"=IF(AND({act},{on},in_context_current_option<>\"{option}\"),IF({cum}-{today}>=0,{M['month']}{r},-1),-1)", "0")
        if m == 0:
            continue
        t = f"{M['tokens_per_day']}{r}"
        _calc(ws, t, f"=IF({act},c_tokens_per_day*(1+in_volume_monthly_growth)^({M['month']}{r}-1),\"\")", L.INT)
        pf = f"{M['price_factor']}{r}"
        _calc(ws, pf, f"=IF({act},(1-in_horizon_api_price_decline_per_year)^(({M['month']}{r}-1)/k_months_per_year),\"\")", "0.0000")
        inst = f"{M['instances']}{r}"
        _calc(ws, inst, f"=IF(AND({act},c_sh_capacity)," + _capacity_instances(t) + ",\"\")", L.INT)
        _calc(ws, f"{M['api_monthly']}{r}", f"=IF({act},c_api_fixed+(c_api_token_slope*{pf}+c_api_other_slope)*{t},\"\")", L.USD)
        _calc(ws, f"{M['fine_tuned_monthly']}{r}", f"=IF(AND({act},c_ft_on),c_ft_fixed+c_ft_slope*{t},\"\")", L.USD)
        _calc(ws, f"{M['self_hosted_monthly']}{r}",
              f"=IF(AND({act},c_sh_on),c_sh_fixed_other+IF(c_sh_capacity,{inst}*c_sh_instance_month,c_sh_infra)+c_sh_slope*{t},\"\")", L.USD)
    for key, col in M.items():
        if key in ("month",):
            continue
        start = first if key in ("active", "discount_factor") or key.endswith(("cumulative", "behind")) else first + 1
        book.define(f"ser_{key}", L.MONTHLY, f"{col}{start}:{col}{last}")
    ws.conditional_formatting.add(f"B{first}:{M['self_hosted_behind']}{last}",
                                  FormulaRule(formula=[f"NOT(${M['active']}{first})"], font=_grey_font()))
    ws.freeze_panes = f"C{first}"
    ws.print_area = f"A1:{M['self_hosted_behind']}{last}"
    ws.print_title_rows = f"{hr}:{hr + 1}"
    _page(ws, landscape=True)
    _protect(ws)


def _grey_font():
    from openpyxl.styles import Font

    return Font(color="BFBFBF")


# ---------------------------------------------------------------------------------------------
# Outputs


def _build_outputs(book: Book) -> None:
    ws = book.ws(L.OUTPUTS)
    _title(ws, "Outputs", "Live results. Purple text = written by the engine at generation (does not recalculate).")
    for col, width in {"B": 40, "C": 17, "D": 17, "E": 17, "F": 16, "G": 4, "H": 4}.items():
        ws.column_dimensions[col].width = width
    r = 5
    _section(ws, r, "Monthly cost today and over the horizon", "F")
    _header(ws, r + 1, ["", OPTION_LABELS["api"], OPTION_LABELS["fine_tuned"], OPTION_LABELS["self_hosted"], "Unit"])
    book.define("out_option_labels", L.OUTPUTS, f"C{r + 1}:E{r + 1}")
    r += 2
    src = {
        "visible_monthly": "c_{o}_visible", "hidden_monthly": "c_{o}_hidden", "total_monthly": "c_{o}_total",
        "hidden_share": "c_{o}_hidden_share", "fixed_monthly": "c_{o}_fixed", "variable_monthly": "c_{o}_variable",
        "token_cost_monthly": "c_{o}_token_cost", "one_time_cost": "c_{o}_one_time",
    }
    M = L.MONTHLY_COLUMNS
    for key, label, unit, fmt in L.SUMMARY_ROWS:
        ws.cell(row=r, column=2, value=label).font = S.BOLD if key in ("total_monthly", "npv") else S.LABEL
        _unit(ws, f"F{r}", unit)
        for option, col in zip(L.OPTION_KEYS, "CDE"):
            o = OPT_SHORT[option]
            on = ON[option]
            if key in src:
                formula = f"={src[key].format(o=o)}"
            elif key == "blended_price_per_1m":
                formula = f"=c_{o}_blended" if option != "self_hosted" else "=\"\""
            elif key == "tco_total":
                formula = f"=IF({on},INDEX(ser_{option}_cumulative,in_horizon_months+1),\"\")"
            elif key == "npv":
                formula = f"=IF({on},c_{o}_one_time+SUMPRODUCT(ser_{option}_monthly,'{L.MONTHLY}'!${M['discount_factor']}${L.MONTHLY_FIRST_ROW + 1}:${M['discount_factor']}${L.MONTHLY_FIRST_ROW + L.MAX_MONTHS}),\"\")"
            elif key == "payback_months":
                formula = f"=c_{o}_payback"
            elif key == "cost_per_outcome":
                formula = f"=IF(AND({on},ISNUMBER(in_context_outcomes_per_month)),c_{o}_total/in_context_outcomes_per_month,\"\")"
            else:  # pragma: no cover - layout and builder disagree
                raise KeyError(key)
            _calc(ws, f"{col}{r}", formula, fmt, S.BOLD if key in ("total_monthly", "npv") else S.CALC)
            ws[f"{col}{r}"].alignment = S.RIGHT
            book.define(f"out_{option}_{key}", L.OUTPUTS, f"{col}{r}")
        if key in ("total_monthly", "npv"):
            for col in "BCDEF":
                ws[f"{col}{r}"].border = S.TOP_BORDER
        r += 1
    book.define("out_visible_row", L.OUTPUTS, f"C{r - len(L.SUMMARY_ROWS)}:E{r - len(L.SUMMARY_ROWS)}")
    npv_row = r - len(L.SUMMARY_ROWS) + [k for k, *_ in L.SUMMARY_ROWS].index("npv")
    r += 1
    ws.cell(row=r, column=2, value="Cheapest over the horizon (lowest NPV)").font = S.BOLD
    _calc(ws, f"C{r}", f"=INDEX(out_option_labels,MATCH(MIN(C{npv_row}:E{npv_row}),C{npv_row}:E{npv_row},0))", "@", S.BOLD)
    book.define("out_cheapest_option", L.OUTPUTS, f"C{r}")
    _unit(ws, f"F{r}", "option")
    r += 1
    ws.cell(row=r, column=2, value="Engine recommendation (at generation)").font = S.BOLD
    ws[f"C{r}"].font = S.ENGINE
    book.define("eng_recommendation", L.OUTPUTS, f"C{r}")
    _unit(ws, f"F{r}", "from engine")
    r += 1
    ws.cell(row=r, column=2, value="Why (engine reasons)").font = S.LABEL
    ws[f"C{r}"].font = S.ENGINE
    ws[f"C{r}"].alignment = S.WRAP
    ws.merge_cells(f"C{r}:F{r + 3}")
    book.define("eng_reasons", L.OUTPUTS, f"C{r}")
    r += 5

    _section(ws, r, "Break-even", "F")
    r += 1
    be = {
        "pair": "=IF(c_be_b=\"\",\"no alternative to the API\",\"API vs \"&IF(c_be_b=\"self_hosted\",\"Self-hosted\",\"Fine-tuned\"))",
        "tokens_per_day": "=IF(c_be_found,c_be_t,IF(c_be_b=\"\",\"\",\"none\"))",
        "requests_per_month": "=IF(AND(c_be_found,c_has_size),c_be_t*in_volume_days_per_month/c_request_size,\"\")",
        "volume_ratio": "=IF(AND(c_be_found,c_tokens_per_day>0),c_be_t/c_tokens_per_day,\"\")",
        "monthly_cost": "=IF(c_be_found,c_api_fixed+c_api_slope*c_be_t,\"\")",
        "api_token_spend": "=IF(c_be_found,c_api_token_slope*c_be_t,\"\")",
        "cheaper_below": "=IF(c_be_b=\"\",\"\",IF(c_be_a_probe<=c_be_b_probe,\"API\",IF(c_be_b=\"self_hosted\",\"Self-hosted\",\"Fine-tuned\")))",
        "method": "=IF(c_be_b=\"\",\"none\",IF(c_be_found,IF(c_sh_capacity,\"piecewise (GPU steps)\",\"closed form\"),\"none: the costs do not cross\"))",
    }
    for key, label, unit, fmt in L.BREAKEVEN_ROWS:
        ws.cell(row=r, column=2, value=label).font = S.BOLD if key == "tokens_per_day" else S.LABEL
        _calc(ws, f"C{r}", be[key], fmt, S.BOLD if key == "tokens_per_day" else S.CALC)
        ws[f"C{r}"].alignment = S.RIGHT
        _unit(ws, f"D{r}", unit)
        book.define(f"out_be_{key}", L.OUTPUTS, f"C{r}")
        r += 1
    ws.cell(row=r, column=2, value="Below the break-even volume the 'cheaper below' option costs less; the chart on the right plots it.").font = S.NOTE
    r += 2

    _section(ws, r, "The iceberg: line items per option (USD/month)", "F")
    _header(ws, r + 1, ["Line item", OPTION_LABELS["api"], OPTION_LABELS["fine_tuned"], OPTION_LABELS["self_hosted"], "Visible/hidden"])
    r += 2
    union: dict[str, tuple[str, bool]] = {}
    for option in L.OPTION_KEYS:
        for key, label, hidden, _variable in L.LINE_ITEMS[option]:
            union.setdefault(key, (label, hidden))
    first = r
    for key, (label, hidden) in union.items():
        ws.cell(row=r, column=2, value=label).font = S.LABEL
        ws.cell(row=r, column=6, value="hidden" if hidden else "visible").font = S.UNIT
        for option, col in zip(L.OPTION_KEYS, "CDE"):
            keys = [k for k, *_ in L.LINE_ITEMS[option]]
            if key in keys:
                _calc(ws, f"{col}{r}", f"=c_li_{OPT_SHORT[option]}_{key}", L.USD)
                book.define(f"out_li_{option}_{key}", L.OUTPUTS, f"{col}{r}")
            else:
                ws[f"{col}{r}"] = "-"
                ws[f"{col}{r}"].font = S.UNIT
            ws[f"{col}{r}"].alignment = S.RIGHT
        r += 1
    ws.conditional_formatting.add(f"B{first}:F{r - 1}", FormulaRule(formula=[f"$F{first}=\"hidden\""], fill=S.NA_FILL))
    ws.cell(row=r, column=2, value="Total").font = S.BOLD
    for option, col in zip(L.OPTION_KEYS, "CDE"):
        _calc(ws, f"{col}{r}", f"=c_{OPT_SHORT[option]}_total", L.USD, S.BOLD)
        ws[f"{col}{r}"].border = S.TOP_BORDER
    r += 2
    book.define("out_charts_anchor", L.OUTPUTS, f"B{r}")
    ws.freeze_panes = "C5"
    ws.print_area = f"A1:U{r + 1}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=True)
    _protect(ws)


# ---------------------------------------------------------------------------------------------
# Sensitivity


def _build_sensitivity(book: Book) -> None:
    ws = book.ws(L.SENS)
    _title(ws, "Sensitivity", "Self-hosted minus API monthly cost over utilization x volume (negative: self-hosting is cheaper).")
    ws.column_dimensions["B"].width = 22
    for col in L.GRID_COLUMNS + ("J", "K", "L", "M"):
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
            u_ref = f"$B{r}"
            sh = (f"c_sh_fixed_other+IF(c_sh_capacity,{_capacity_instances(t, u_ref)}*c_sh_instance_month,"
                  f"in_self_hosted_infra_monthly/{u_ref})+c_sh_slope*{t}")
            _calc(ws, f"{col}{r}", f"=IF(c_sh_on,{sh}-(c_api_fixed+c_api_slope*{t}),\"\")", L.USD)
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
    _section(ws, r, "Monthly cost versus volume (chart data)", "I")
    _header(ws, r + 1, ["Point", "Tokens per day", "API", "Fine-tuned", "Self-hosted", "GPU instances"])
    r += 2
    _unit(ws, f"C{r}", "tokens/day")
    for col in "DEF":
        _unit(ws, f"{col}{r}", "USD/month")
    _unit(ws, f"G{r}", "instances")
    r += 1
    first = r
    last_pt = first + L.CURVE_POINTS - 1
    for k in range(L.CURVE_POINTS):
        row = first + k
        c = ws[f"B{row}"]
        c.value, c.fill, c.alignment = k, S.CONSTANT_FILL, S.CENTER
        t = f"C{row}"
        _calc(ws, t, f"=k_curve_span*MAX(c_volume_basis,IF(c_be_found,c_be_t,0))*B{row}/MAX($B${first}:$B${last_pt})", L.INT)
        _calc(ws, f"D{row}", f"=c_api_fixed+c_api_slope*{t}", L.USD)
        _calc(ws, f"E{row}", f"=IF(c_ft_on,c_ft_fixed+c_ft_slope*{t},NA())", L.USD)
        _calc(ws, f"G{row}", f"=IF(c_sh_capacity,{_capacity_instances(t)},\"\")", L.INT)
        _calc(ws, f"F{row}", f"=IF(c_sh_on,c_sh_fixed_other+IF(c_sh_capacity,G{row}*c_sh_instance_month,c_sh_infra)+c_sh_slope*{t},NA())", L.USD)
    for col, name in (("C", "curve_tokens"), ("D", "curve_api"), ("E", "curve_fine_tuned"), ("F", "curve_self_hosted")):
        book.define(name, L.SENS, f"{col}{first}:{col}{last_pt}")
    row = last_pt + 2
    ws.cell(row=row, column=2, value="Break-even point").font = S.BOLD
    _calc(ws, f"C{row}", "=IF(c_be_found,c_be_t,NA())", L.INT)
    _calc(ws, f"D{row}", "=IF(c_be_found,c_api_fixed+c_api_slope*c_be_t,NA())", L.USD)
    book.define("curve_be_tokens", L.SENS, f"C{row}")
    book.define("curve_be_cost", L.SENS, f"D{row}")
    ws.cell(row=row + 1, column=2, value="Today").font = S.BOLD
    _calc(ws, f"C{row + 1}", "=c_tokens_per_day", L.INT)
    _calc(ws, f"D{row + 1}", "=c_cur_total", L.USD)
    book.define("curve_now_tokens", L.SENS, f"C{row + 1}")
    book.define("curve_now_cost", L.SENS, f"D{row + 1}")
    ws.conditional_formatting.add(f"C{first}:G{row + 1}", FormulaRule(formula=[f"ISNA(C{first})"], font=_grey_font()))
    ws.freeze_panes = "C4"
    ws.print_area = f"A1:I{row + 1}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=True)
    _protect(ws)


def PatternFillBlue():
    from openpyxl.styles import PatternFill

    return PatternFill("solid", fgColor="DDEBF7")


# ---------------------------------------------------------------------------------------------
# Checks


def _input_check(spec: L.InputSpec) -> str:
    """A formula that is TRUE when the input is within the limits the engine accepts."""
    x = spec.name
    if spec.kind in ("choice", "yesno"):
        cond = "OR(" + ",".join(f"{x}=\"{c}\"" for c in spec.choices) + ")"
    elif spec.kind == "text":
        cond = f"LEN({x})<=lim_len_{spec.name[3:]}"
        if spec.path in ("name", "context.outcome_name"):  # min_length=1
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
    if spec.option in ("fine_tuned", "self_hosted") and not spec.path.endswith(".included"):
        cond = f"IF({ON[spec.option]},{cond},TRUE)"
    return cond


def _bound_ref(spec: L.InputSpec, which: str) -> str:
    # Bounds other than 0 and 1 live on the Lists sheet as named cells (no numbers in formulas).
    value = spec.minimum if which == "min" else spec.maximum
    if value in (0, 1):
        return str(int(value))
    return f"lim_{which}_{spec.name[3:]}"


def _build_checks(book: Book) -> None:
    ws = book.ws(L.CHECKS)
    _title(ws, "Checks", "Every check must read OK. The master check is linked from the Cover.")
    for col, width in {"B": 70, "C": 12, "D": 50}.items():
        ws.column_dimensions[col].width = width
    ws["B5"] = "Master check (all rows below)"
    ws["B5"].font = S.BIG
    rows: list[tuple[str, str, str]] = []
    tol = "k_tolerance*MAX(1,ABS({a}))"

    def near(a: str, b: str) -> str:
        return f"ABS(({a})-({b}))<=" + tol.format(a=a)

    for option in L.OPTION_KEYS:
        o = OPT_SHORT[option]
        on = ON[option]
        lab = OPTION_LABELS[option]
        m1 = f"'{L.MONTHLY}'!{L.monthly_cell(option + '_monthly', 1)}"
        rows += [
            (f"{lab}: total = visible + hidden", f"IF({on},{near(f'c_{o}_total', f'c_{o}_visible+c_{o}_hidden')},TRUE)", "Calculations"),
            (f"{lab}: total = fixed + variable", f"IF({on},{near(f'c_{o}_total', f'c_{o}_fixed+c_{o}_variable')},TRUE)", "Calculations"),
            (f"{lab}: total = sum of the iceberg line items (Outputs)",
             f"IF({on},{near(f'c_{o}_total', 'SUM(' + ','.join(f'out_li_{option}_{k}' for k, *_ in L.LINE_ITEMS[option]) + ')')},TRUE)", "Outputs"),
            (f"{lab}: month 1 of the series = today's total", f"IF({on},{near(f'c_{o}_total', m1)},TRUE)", "Monthly"),
        ]
    rows += [
        ("Volume: tokens per day, or requests per month with tokens per request",
         "OR(ISNUMBER(in_volume_tokens_per_day),AND(ISNUMBER(in_volume_requests_per_month),ISNUMBER(in_volume_tokens_per_request)))", "Inputs"),
        ("Volume: tokens/day = requests x tokens per request / days when all three are given",
         "OR(NOT(AND(ISNUMBER(in_volume_tokens_per_day),ISNUMBER(in_volume_requests_per_month),ISNUMBER(in_volume_tokens_per_request))),"
         + near("in_volume_tokens_per_day", "in_volume_requests_per_month*in_volume_tokens_per_request/in_volume_days_per_month") + ")", "Inputs"),
        ("Per-request hidden costs (review, tool calls) have a request size",
         "OR(c_has_size,AND(c_api_other_slope=0,c_ft_other_slope=0,c_sh_other_slope=0,"
         + ",".join(f"OR(NOT({ON[o]}),in_{o}_hidden_review_share*c_{OPT_SHORT[o]}_review_unit+in_{o}_hidden_tool_calls_per_request*in_{o}_hidden_price_per_tool_call=0)" for o in L.OPTION_KEYS)
         + "))", "Inputs"),
        ("Today's option is one of the options compared",
         "OR(in_context_current_option=\"api\",AND(in_context_current_option=\"fine_tuned\",c_ft_on),AND(in_context_current_option=\"self_hosted\",c_sh_on))", "Inputs"),
        ("Self-hosted simple mode has infrastructure and utilization",
         "OR(NOT(c_sh_on),in_self_hosted_mode<>\"simple\",AND(ISNUMBER(in_self_hosted_infra_monthly),ISNUMBER(in_self_hosted_utilization)))", "Inputs"),
        ("Self-hosted capacity mode has instance price, GPUs per instance and throughput",
         "OR(NOT(c_sh_capacity),AND(ISNUMBER(in_self_hosted_instance_hourly_usd),ISNUMBER(in_self_hosted_gpus_per_instance),ISNUMBER(in_self_hosted_tokens_per_second_per_gpu)))", "Inputs, Prices"),
        ("Self-hosted average utilization is above 0 and at most 100%",
         "OR(NOT(c_sh_on),AND(ISNUMBER(c_sh_utilization),c_sh_utilization>0,c_sh_utilization<=1))", "Calculations"),
    ]
    for option in L.OPTION_KEYS:
        h = f"in_{option}_hidden"
        rows.append((f"{OPTION_LABELS[option]}: review cost given one way (cost per review, or minutes with rate) when reviews happen",
                     f"OR(NOT({ON[option]}),AND(NOT(AND(ISNUMBER({h}_cost_per_review),OR(ISNUMBER({h}_review_minutes),ISNUMBER({h}_reviewer_hourly_rate)))),"
                     f"ISNUMBER({h}_review_minutes)=ISNUMBER({h}_reviewer_hourly_rate),"
                     f"OR({h}_review_share=0,ISNUMBER({h}_cost_per_review),ISNUMBER({h}_review_minutes))))", "Inputs"))
    tiers = []
    for i in range(L.MAX_TIERS):
        a, b, cc = (s.name for s in L.tier_specs(i))
        filled = f"COUNT({a},{b},{cc})"
        row_ok = f"OR({filled}=0,AND(ISNUMBER({a}),ISNUMBER({b}),ISNUMBER({cc})))"
        if i > 0:
            prev = L.tier_specs(i - 1)[0].name
            row_ok = f"AND({row_ok},OR(ISBLANK({a}),AND(ISNUMBER({prev}),{a}>{prev})))"
        tiers.append(row_ok)
    rows.append(("Price tiers: complete rows, filled from the top, thresholds increasing", "AND(" + ",".join(tiers) + ")", "Prices"))
    for spec in L.INPUT_SPECS:
        rows.append((f"Input within limits: {spec.label} ({spec.sheet}!{spec.cell})", _input_check(spec), spec.sheet))
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
    ws.freeze_panes = "B8"
    ws.print_area = f"A1:D{last}"
    ws.print_title_rows = "7:7"
    _page(ws, landscape=False)
    _protect(ws)


# ---------------------------------------------------------------------------------------------
# Lists (hidden): option keys, model names, limits, GPU-step indices


def _build_lists(book: Book) -> None:
    ws = book.ws(L.LISTS)
    ws.sheet_state = "hidden"
    ws["A1"] = "Lists and limits used by validations and formulas (do not edit)."
    ws["A3"] = "Option keys"
    for i, key in enumerate(L.OPTION_KEYS):
        ws.cell(row=4 + i, column=1, value=key)
    book.define("k_option_keys", L.LISTS, f"A4:A{3 + len(L.OPTION_KEYS)}")
    ws["C3"] = "Limits"
    r = 4
    for spec in L.INPUT_SPECS:
        for which, value in (("min", spec.minimum), ("max", spec.maximum)):
            if spec.kind in ("number", "int") and value is not None and value not in (0, 1):
                ws.cell(row=r, column=3, value=f"{spec.path} {which}")
                ws.cell(row=r, column=4, value=float(value))
                book.define(f"lim_{which}_{spec.name[3:]}", L.LISTS, f"D{r}")
                r += 1
    for spec in L.INPUT_SPECS:
        if spec.kind == "text":
            ws.cell(row=r, column=3, value=f"{spec.path} max length")
            ws.cell(row=r, column=4, value=spec.max_length or 255)
            book.define(f"lim_len_{spec.name[3:]}", L.LISTS, f"D{r}")
            r += 1
    ws["F3"] = "GPU step index (piecewise break-even)"
    for n in range(1, L.MAX_SEGMENTS + 1):
        ws.cell(row=3 + n, column=6, value=n)
    book.define("k_segments", L.LISTS, f"F4:F{3 + L.MAX_SEGMENTS}")
    _protect(ws)


# ---------------------------------------------------------------------------------------------
# Cover


def _build_cover(book: Book) -> None:
    ws = book.ws(L.COVER)
    ws.sheet_view.showGridLines = False
    ws.column_dimensions["A"].width = 2
    for col, width in {"B": 34, "C": 18, "D": 18, "E": 18, "F": 30}.items():
        ws.column_dimensions[col].width = width
    ws["B2"] = "LLM cost model: API vs fine-tuned vs self-hosted"
    ws["B2"].font = S.TITLE
    ws["B3"] = "=in_name"
    ws["B3"].font = S.BIG
    ws["B4"] = "=IF(LEN(in_owner_email)>0,\"Owner: \"&in_owner_email,\"\")"
    ws["B4"].font = S.SUBTITLE
    ws["B5"].font = S.ENGINE
    book.define("eng_generated", L.COVER, "B5")
    _section(ws, 7, "Headline", "F")
    _header(ws, 8, ["", OPTION_LABELS["api"], OPTION_LABELS["fine_tuned"], OPTION_LABELS["self_hosted"], "Unit"])
    lines = [("Total monthly cost today", "total_monthly", L.USD, "USD/month"),
             ("Hidden share of the monthly cost", "hidden_share", L.PCT, "%"),
             ("NPV of costs over the horizon", "npv", L.USD, "USD")]
    for i, (label, key, fmt, unit) in enumerate(lines):
        r = 9 + i
        ws.cell(row=r, column=2, value=label).font = S.LABEL
        for option, col in zip(L.OPTION_KEYS, "CDE"):
            _calc(ws, f"{col}{r}", f"=out_{option}_{key}", fmt)
            ws[f"{col}{r}"].alignment = S.RIGHT
        _unit(ws, f"F{r}", unit)
    facts = [("Cheapest over the horizon", "=out_cheapest_option", "@", ""),
             ("Engine recommendation (at generation)", "=eng_recommendation", "@", "from engine"),
             ("Break-even volume", "=out_be_tokens_per_day", L.INT, "tokens/day"),
             ("Today's volume", "=c_tokens_per_day", L.INT, "tokens/day"),
             ("Model checks", "=chk_master", "@", "see Checks")]
    for i, (label, formula, fmt, unit) in enumerate(facts):
        r = 13 + i
        ws.cell(row=r, column=2, value=label).font = S.BOLD
        _calc(ws, f"C{r}", formula, fmt, S.BOLD)
        _unit(ws, f"D{r}", unit)
    ws.conditional_formatting.add("C17", CellIsRule(operator="equal", formula=['"OK"'], fill=S.OK_FILL))
    ws.conditional_formatting.add("C17", CellIsRule(operator="equal", formula=['"ERROR"'], fill=S.BAD_FILL))
    _section(ws, 19, "How this workbook is organised", "F")
    guide = [
        (L.INPUTS, "Volume, context, options and hidden costs (blue on yellow = input)."),
        (L.PRICES, "Token and GPU prices, long-context tiers, constants and conventions."),
        (L.CALC, "Line items per option, prices in force, GPU sizing, break-even."),
        (L.MONTHLY, "Month-by-month cost with growth and price decline, cumulative TCO."),
        (L.OUTPUTS, "Summary, break-even, the iceberg and the charts."),
        (L.SENS, "Utilization x volume grid; cost versus volume."),
        (L.CHECKS, "Integrity checks; the master check must read OK."),
    ]
    for i, (sheet, text) in enumerate(guide):
        r = 20 + i
        ws.cell(row=r, column=2, value=sheet).font = S.BOLD
        ws.cell(row=r, column=3, value=text).font = S.LABEL
    _section(ws, 28, "Colour code", "F")
    legend = [("Input (change me)", S.INPUT, S.INPUT_FILL), ("Formula", S.CALC, None),
              ("Constant or convention", S.CALC, S.CONSTANT_FILL), ("Written by the engine at generation", S.ENGINE, None)]
    for i, (text, font, fill) in enumerate(legend):
        c = ws.cell(row=29 + i, column=2, value=text)
        c.font = font
        if fill is not None:
            c.fill = fill
    ws["B34"] = ("Figures are USD, monthly unless marked. Formulas recalculate in Excel 2016+ and LibreOffice; the "
                 "recommendation text is the engine's at generation time and does not recalculate.")
    ws["B34"].font = S.NOTE
    ws.print_area = "A1:F34"
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


def _build_charts(book: Book) -> None:
    ws = book.ws(L.OUTPUTS)

    # 1. The iceberg: visible vs hidden per option, stacked.
    vis_row = int(book.names["out_visible_row"].split("$")[2].rstrip(":"))
    bar = BarChart()
    bar.type = "col"
    bar.grouping = "stacked"
    bar.overlap = 100
    bar.title = "The iceberg (USD/month)"
    bar.y_axis.title = "USD/month"
    bar.y_axis.numFmt = "$#,##0"
    bar.y_axis.majorGridlines = None
    data = Reference(ws, min_col=2, max_col=5, min_row=vis_row, max_row=vis_row + 1)
    bar.add_data(data, from_rows=True, titles_from_data=True)
    bar.series[0].graphicalProperties.solidFill = "5B9BD5"
    bar.series[1].graphicalProperties.solidFill = "1F3864"
    bar.set_categories(Reference(ws, min_col=3, max_col=5, min_row=vis_row - 1))
    bar.height, bar.width = 8.5, 16
    _axes_visible(bar)
    ws.add_chart(bar, "H5")

    # 2. Cumulative TCO per option over the horizon.
    mws = book.ws(L.MONTHLY)
    M = L.MONTHLY_COLUMNS
    first, last = L.MONTHLY_FIRST_ROW, L.MONTHLY_FIRST_ROW + L.MAX_MONTHS
    line = LineChart()
    line.title = "Cumulative cost (TCO)"
    line.y_axis.title = "USD"
    line.x_axis.title = "Month"
    line.y_axis.numFmt = "$#,##0"
    for key in ("api_cumulative", "fine_tuned_cumulative", "self_hosted_cumulative"):
        col = _col_index(M[key])
        ref = Reference(mws, min_col=col, min_row=first, max_row=last)
        s = Series(ref, title=OPTION_LABELS[key.replace("_cumulative", "")])
        s.smooth = False
        s.graphicalProperties.line.solidFill = COLOURS[key.replace("_cumulative", "")]
        s.graphicalProperties.line.width = 28575
        line.series.append(s)
    line.set_categories(Reference(mws, min_col=_col_index(M["month"]), min_row=first, max_row=last))
    line.height, line.width = 8.5, 16
    _axes_visible(line)
    ws.add_chart(line, "H24")

    # 3. Monthly cost versus volume with the break-even point.
    sws = book.ws(L.SENS)
    first_pt = int(book.names["curve_tokens"].split("$")[2].rstrip(":"))
    last_pt = first_pt + L.CURVE_POINTS - 1
    sc = ScatterChart()
    sc.title = "Monthly cost vs volume"
    sc.scatterStyle = "lineMarker"
    sc.x_axis.title = "Tokens per day"
    sc.y_axis.title = "USD/month"
    sc.x_axis.numFmt = '#,##0,,"M"'
    sc.y_axis.numFmt = "$#,##0"
    xs = Reference(sws, min_col=3, min_row=first_pt, max_row=last_pt)
    for col, option in ((4, "api"), (5, "fine_tuned"), (6, "self_hosted")):
        s = Series(Reference(sws, min_col=col, min_row=first_pt, max_row=last_pt), xs, title=OPTION_LABELS[option])
        s.marker = Marker(symbol="none")
        s.smooth = False
        s.graphicalProperties.line.solidFill = COLOURS[option]
        s.graphicalProperties.line.width = 28575
        sc.series.append(s)
    be_row = last_pt + 2
    for row, title, symbol, colour in ((be_row, "Break-even", "diamond", "C00000"), (be_row + 1, "Today", "circle", "000000")):
        s = Series(Reference(sws, min_col=4, min_row=row), Reference(sws, min_col=3, min_row=row), title=title)
        s.marker = Marker(symbol=symbol, size=10)
        s.marker.graphicalProperties = GraphicalProperties(solidFill=colour)
        s.marker.graphicalProperties.line.solidFill = colour
        s.graphicalProperties.line.noFill = True
        sc.series.append(s)
    sc.height, sc.width = 8.5, 16
    _axes_visible(sc)
    ws.add_chart(sc, "H43")


def _axes_visible(chart) -> None:
    # openpyxl >= 3.1 hides axes unless told otherwise (delete=True); LibreOffice then draws none.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.legend.position = "b"


# ---------------------------------------------------------------------------------------------


def build_template() -> Workbook:
    book = Book()
    wb = book.wb
    _build_inputs(book)
    _build_prices(book)
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


def template_bytes() -> bytes:
    """The template as deterministic xlsx bytes."""
    import io

    from .zipnorm import normalise_zip

    buf = io.BytesIO()
    build_template().save(buf)
    return normalise_zip(buf.getvalue())


def write_template(path: Path = TEMPLATE_PATH) -> Path:
    from ..fsutil import atomic_write_bytes

    return atomic_write_bytes(path, template_bytes())


if __name__ == "__main__":  # pragma: no cover
    print(write_template())

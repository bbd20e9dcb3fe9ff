"""Everything a user needs to call the RUNRATE_* functions from Excel, generated from the one
function registry (:data:`runrate_xl.udfs.FUNCTIONS` / :data:`~runrate_xl.udfs.ARGUMENTS`):

* a starter workbook with an ``xlwings.conf`` sheet (UDF Modules = runrate_xl.udfs) and a
  "Functions" sheet showing every function as a live formula, the value the engine gave when
  the file was written beside it;
* ``main.py`` and ``requirements.txt`` for xlwings Lite (Excel on Windows, Mac and the web,
  Python in the browser), exposing the same functions with the same help texts.
"""

from __future__ import annotations

import inspect
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import openpyxl
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula

from . import __version__
from .fsutil import atomic_write_bytes, atomic_write_text
from .udfs import ARGUMENTS, FUNCTIONS

UDF_MODULE = "runrate_xl.udfs"
FUNCTIONS_SHEET = "Functions"
CONF_SHEET = "xlwings.conf"
EXAMPLE_PRESET = "seed003-50m-80pct"
RICH_PRESET = "seed000-1m-inferences"
MIX_PRESET = "hybrid-selfhost-bulk-api-overflow"  # a mix of own GPUs and an API (RUNRATE_MIX_COST, RUNRATE_BEST_SPLIT)
_FORMULA_PREFIXES = ("=", "+", "-", "@")
_HEADER = Font(bold=True)
_LIVE = PatternFill("solid", fgColor="FFF2CC")  # live formulas: pale yellow

# The settings xlwings reads from a sheet named "xlwings.conf" (keys as in xlwings' own
# quickstart workbook). Only what differs from the add-in's settings is set.
CONF_SETTINGS = (("UDF Modules", UDF_MODULE),)


@dataclass(frozen=True)
class Ref:
    """A cell range argument in an example formula (e.g. the scenario block)."""

    address: str
    value: Any  # what Excel passes for that range, to compute the expected value


@dataclass(frozen=True)
class Example:
    function: str
    args: tuple[Any, ...]
    note: str = ""

    def formula(self) -> str:
        return f"={self.function}({', '.join(_excel_literal(a) for a in self.args)})"

    def expected(self) -> Any:
        return FUNCTIONS[self.function](*[a.value if isinstance(a, Ref) else a for a in self.args])


def scalar_examples() -> list[Example]:
    """One or more examples per scalar function (the scenario-range ones are laid out apart)."""
    return [
        Example("RUNRATE_API_COST", (50_000_000, 0.15, 0.6), "seed 003: 50M tokens/day on gpt-4o-mini prices"),
        Example("RUNRATE_API_COST", (50_000_000, 0.15, 0.6, 0.8, 30, 0.5, 0.2, 0.05), "with prompt cache, batch and retries"),
        Example("RUNRATE_REASONING_COST", (1_000_000, 2_000, 8.0), "1M requests thinking 2,000 tokens at 8.00 per 1M output"),
        Example("RUNRATE_MODEL_COST", ("seed003/gpt-4o-mini", 50_000_000), "catalog prices"),
        Example("RUNRATE_PRICE", ("seed003/gpt-4o-mini", "output"), "USD per 1M output tokens"),
        Example("RUNRATE_PRICE", ("seed003/gpt-4o-mini", "cached_input"), "convention: 10% of input when not published"),
        Example("RUNRATE_SELFHOST_COST", (4140, 0.8), "seed 003: 4,140 / 0.8"),
        Example("RUNRATE_SELFHOST_COST", (4140, 0.8, 0.5, 150_000, 500), "with half an engineer and tooling"),
        Example("RUNRATE_BREAKEVEN", (4140, 0.8, 1.5), "seed 003: 115M tokens/day"),
        Example("RUNRATE_PAYBACK", (100_000, 5_000), "months"),
        Example("RUNRATE_COST_PER_OUTCOME", (298_000, 1_000_000), "USD per outcome"),
        Example("RUNRATE_COST_PER_SUCCESS", (0.10, 0.8, 5), "80% right first time, one retry, $5 per failed task to a person"),
        Example("RUNRATE_BREAKEVEN", (4140, 80, 1.5), "bad input: 80 instead of 0.8"),
        Example("RUNRATE_BREAKEVEN", (4140, 0.8, 1.5, 30, 0, 10_000), "no answer: #N/A with the reason"),
        Example("RUNRATE_CROSSOVER", (EXAMPLE_PRESET,), "a preset name works wherever a scenario does"),
        Example("RUNRATE_RECOMMEND", (RICH_PRESET,), "recommended option"),
        Example("RUNRATE_MIX_COST", (MIX_PRESET, "own-gpus", "api", 0.8), "80% on own GPUs, 20% on the API, USD/month"),
        Example("RUNRATE_BEST_SPLIT", (MIX_PRESET, "own-gpus", "api"), "the share to own GPUs with the lowest NPV"),
    ]


@dataclass(frozen=True)
class Layout:
    """Where the Functions sheet puts things (tests read the workbook through this)."""

    scalars: list[tuple[int, Example]]  # row -> example (formula in column C, expected in D)
    spills: list[tuple[str, str, Example]]  # (live range, expected range, example)


def build_workbook(path: Union[str, Path]) -> Layout:
    """Write the starter workbook (.xlsm from xlwings' quickstart template, or .xlsx) atomically."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".xlsm", ".xlsx"):
        raise ValueError(f"output: got {target.name!r}, expected a file name ending in .xlsm or .xlsx")
    if suffix == ".xlsm":
        wb = openpyxl.load_workbook(_quickstart_template(), keep_vba=True)
        functions, conf = wb.worksheets[0], wb["_xlwings.conf"]
        functions.title, conf.title = FUNCTIONS_SHEET, CONF_SHEET
        for ws in (functions, conf):
            ws.delete_rows(1, ws.max_row)
    else:
        wb = openpyxl.Workbook()
        functions = wb.active
        functions.title = FUNCTIONS_SHEET
        conf = wb.create_sheet(CONF_SHEET)
    _fill_conf(conf)
    layout = _fill_functions(functions)
    buffer = io.BytesIO()
    wb.save(buffer)
    atomic_write_bytes(target, buffer.getvalue())
    return layout


def _quickstart_template() -> Path:
    import xlwings

    template = Path(xlwings.__file__).with_name("quickstart.xlsm")
    if not template.is_file():
        raise FileNotFoundError(f"xlwings' quickstart.xlsm is missing from {template.parent}; write a .xlsx instead")
    return template


def _fill_conf(ws) -> None:
    # xlwings reads the key/value block from A1 down to the first blank row.
    for row, (key, value) in enumerate(CONF_SETTINGS, start=1):
        ws.cell(row, 1, key)
        ws.cell(row, 2, value)
    notes = (
        "These settings start in A1 and override the xlwings add-in's for this workbook.",
        f"UDF Modules = {UDF_MODULE}: xlwings imports the RUNRATE_* functions from the installed runrate_xl package.",
        "Set Interpreter_Win in a new row above the blank line if Excel should use a specific python.exe.",
    )
    for offset, note in enumerate(notes):
        ws.cell(len(CONF_SETTINGS) + 3 + offset, 1, note)


def _fill_functions(ws) -> Layout:
    ws["A1"] = "runrate_xl Excel functions: live examples"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = ("Yellow cells are live formulas: they calculate once the xlwings add-in has imported the "
                "functions (see the xlwings.conf sheet). The column beside them holds the value the engine "
                f"gave when runrate_xl {__version__} wrote this file.")
    for col, head in enumerate(("Function", "Example", "Live formula", "Expected (engine)", "Formula text"), start=1):
        ws.cell(4, col, head).font = _HEADER
    scalars = []
    row = 5
    for ex in scalar_examples():
        _example_row(ws, row, ex)
        scalars.append((row, ex))
        row += 1

    spills = []
    row += 1
    ws.cell(row, 1, "Spilled results (array formulas over the exact result size; in Excel 365 a formula typed into one cell spills by itself)").font = _HEADER
    row += 2
    preset_ex = Example("RUNRATE_SCENARIO", (EXAMPLE_PRESET,), "a preset as key/value rows")
    scen_rows = preset_ex.expected()
    scen_live, _ = _spill_block(ws, row, preset_ex, spills)
    scenario_ref = Ref(scen_live, scen_rows)
    row += len(scen_rows) + 1

    # An editable copy of a richer preset: plain values the analyst can change.
    ws.cell(row, 1, "My scenario (edit the values in column D)").font = _HEADER
    row += 1
    mine = FUNCTIONS["RUNRATE_SCENARIO"](RICH_PRESET)
    first = row
    for key, value in mine:
        _put_text(ws.cell(row, 3), key)
        _put_value(ws.cell(row, 4), value)
        row += 1
    mine_ref = Ref(f"C{first}:D{row - 1}", [list(r) for r in mine])
    row += 1

    for ex in (
        Example("RUNRATE_TCO", (scenario_ref,), "TCO per option, from the spilled scenario above"),
        Example("RUNRATE_TCO", (mine_ref,), "TCO per option, from my scenario"),
        Example("RUNRATE_ICEBERG", (mine_ref, "api"), "the API's cost iceberg"),
        Example("RUNRATE_REASONS", (mine_ref,), "why the recommendation"),
    ):
        _spill_block(ws, row, ex, spills)
        row += len(ex.expected()) + 1

    for ex in (
        Example("RUNRATE_TCO", (mine_ref, "self_hosted"), "self-hosted total over the horizon"),
        Example("RUNRATE_TCO", (mine_ref, "api", 12), "API total over 12 months"),
        Example("RUNRATE_CROSSOVER", (mine_ref,), "break-even tokens/day"),
        Example("RUNRATE_RECOMMEND", (mine_ref,), "recommended option"),
    ):
        _example_row(ws, row, ex)
        scalars.append((row, ex))
        row += 1

    for col, width in zip("ABCDEFGHIJ", (26, 44, 34, 30, 30, 18, 22, 22, 18, 18)):
        ws.column_dimensions[col].width = width
    return Layout(scalars=scalars, spills=spills)


def _spill_block(ws, row: int, ex: Example, spills: list) -> tuple[str, str]:
    """Live array formula at C{row}, the expected table to its right (one blank column apart)."""
    table = ex.expected()
    if isinstance(table, str):  # an error message: show it, do not pretend it is a table
        raise RuntimeError(f"example {ex.formula()} failed: {table}")
    height, width = len(table), max(len(r) for r in table)
    ws.cell(row, 1, ex.function)
    _put_text(ws.cell(row, 2), ex.note)
    live = f"C{row}:{get_column_letter(2 + width)}{row + height - 1}"
    ws[f"C{row}"] = ArrayFormula(live, ex.formula())
    for r in range(height):
        for c in range(width):
            ws.cell(row + r, 3 + c).fill = _LIVE
    exp_col = 3 + width + 1
    for r, values in enumerate(table):
        for c, value in enumerate(values):
            _put_value(ws.cell(row + r, exp_col + c), value)
    expected = f"{get_column_letter(exp_col)}{row}:{get_column_letter(exp_col + width - 1)}{row + height - 1}"
    spills.append((live, expected, ex))
    return live, expected


def _put_formula(ws, address: str, formula: str) -> None:
    ws[address] = formula
    ws[address].fill = _LIVE


def _put_value(cell, value: Any) -> None:
    if isinstance(value, str):
        _put_text(cell, value)
    else:
        cell.value = value


def _example_row(ws, row: int, ex) -> None:
    """One demonstration row: function, note, live formula, engine value, formula as text."""
    ws.cell(row, 1, ex.function)
    _put_text(ws.cell(row, 2), ex.note)
    _put_formula(ws, f"C{row}", ex.formula())
    _put_value(ws.cell(row, 4), ex.expected())
    _put_text(ws.cell(row, 5), ex.formula())


def _put_text(cell, value: str) -> None:
    """Text stays text: a value starting with = + - @ must not become a formula."""
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        cell.data_type = "s"


def _excel_literal(value: Any) -> str:
    if isinstance(value, Ref):
        return value.address
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return format(value, ".15g") if isinstance(value, float) else str(value)


# --- xlwings Lite ---------------------------------------------------------------------------

# xlwings (provided by xlwings Lite) plus runrate_xl's core requirements, nothing from the extras:
# tests/test_lite_pyodide.py checks this list against the package metadata and Pyodide's packages.
LITE_BASE_REQUIREMENTS = ("xlwings", "pydantic", "pyyaml", "genai-prices")


def lite_main_py() -> str:
    """main.py for xlwings Lite: one decorated wrapper per registered function, same names,
    arguments, defaults and help texts, delegating to runrate_xl.udfs."""
    out = [
        f'"""runrate_xl {__version__} Excel functions for xlwings Lite.',
        "",
        "Generated by `runrate excel --lite` from runrate_xl.udfs; regenerate rather than edit.",
        "Every function delegates to the runrate_xl package installed from requirements.txt.",
        '"""',
        "",
        "from xlwings import arg, func, ret",
        "",
        "from runrate_xl import udfs as _udfs",
        "",
    ]
    for name, fn in FUNCTIONS.items():
        sig = inspect.signature(fn)
        out += ["", "@func"]
        for p in sig.parameters.values():
            options = "".join(f", {k}={v!r}" for k, v in ARGUMENTS[p.name].options.items())
            out.append(f"@arg({p.name!r}{options}, doc={ARGUMENTS[p.name].doc!r})")
        out.append("@ret()")
        out.append(f"def {name}{sig}:")
        out.append(f"    {inspect.getdoc(fn)!r}")
        out.append(f"    return _udfs.{name}({', '.join(sig.parameters)})")
        out.append("")
    return "\n".join(out)


def lite_requirements(wheel_url: Optional[str] = None) -> str:
    lines = [
        "# xlwings Lite packages for runrate_xl's Excel functions (generated by `runrate excel --lite`).",
        "# Only runrate_xl's core: pydantic and pyyaml come from Pyodide's own builds, genai-prices and",
        "# its dependencies are pure Python. The runrate_xl wheel itself requires nothing more.",
        *LITE_BASE_REQUIREMENTS,
    ]
    if wheel_url:
        lines.append(wheel_url)
    else:
        lines += [
            "# runrate_xl is not on PyPI: build its wheel (pip wheel --no-deps . in the repository),",
            "# host it where the browser can fetch it (e.g. a GitHub release) and put its URL on the next line:",
            "# https://example.invalid/runrate_xl-" + __version__ + "-py3-none-any.whl",
        ]
    return "\n".join(lines) + "\n"


def write_lite(folder: Union[str, Path], wheel_url: Optional[str] = None) -> list[Path]:
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"--lite: {target} exists and is not a folder")
    return [
        atomic_write_text(target / "main.py", lite_main_py()),
        atomic_write_text(target / "requirements.txt", lite_requirements(wheel_url)),
    ]


def desktop_steps(workbook: Path) -> list[str]:
    """Set-up steps for desktop Excel on Windows (the classic xlwings add-in)."""
    return [
        "pip install \"runrate_xl[cli,excel]\"   (into the Python that Excel should use; from a checkout: "
        "pip install \".[cli,excel]\", or \".[all]\" for workbooks and memos too)",
        "xlwings addin install    (copies the xlwings add-in into Excel's XLSTART folder)",
        "In Excel: File > Options > Trust Center > Trust Center Settings > Macro Settings > tick "
        "'Trust access to the VBA project object model' (needed once, for Import Functions).",
        f"Open {workbook.name}. Its xlwings.conf sheet sets UDF Modules = {UDF_MODULE}.",
        "On the xlwings ribbon tab click 'Import Functions'; the yellow cells on the Functions sheet calculate.",
        "Type =RUNRATE_ in any cell to see the functions; Ctrl+Shift+A (or the fx button) shows each argument's help.",
        "Save as .xlsm (Import Functions writes small VBA wrappers into the workbook).",
    ]


def lite_steps(folder: Path) -> list[str]:
    return [
        "Excel (Windows, Mac or web): Home > Add-ins > search 'xlwings' > Add xlwings Lite.",
        f"Open the xlwings Lite pane; paste {folder / 'requirements.txt'} into its requirements.txt tab "
        "(put your runrate_xl wheel URL on the last line) and wait for the install to finish.",
        f"Paste {folder / 'main.py'} into the main.py tab; the RUNRATE_* functions appear in Excel.",
    ]

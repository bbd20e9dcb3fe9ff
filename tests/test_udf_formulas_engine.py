"""RUNRATE_* formulas in a real .xlsx, calculated by an independent Excel formula engine (the
``formulas`` package) with the functions registered, checked against the engine.

What ``formulas`` supports and what it does not (so the tests use what it supports):
* custom functions: yes (``formulas.get_functions()[NAME] = fn``); they receive ``Ranges``
  objects / numpy arrays, which :func:`xlwings_like` converts the way xlwings does (a single
  cell becomes a scalar, blanks become None, ranges lists of rows);
* spilled results: only as legacy array formulas over a fixed range (``{=...}``), not Excel
  365 dynamic arrays or ``A1#`` references; so spills are written as array formulas whose
  range is the result's size;
* an omitted argument in the middle (``=F(1,,3)``) arrives as 0, not as "missing" as in Excel;
  blank optional arguments are therefore tested through references to empty cells.
"""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

formulas = pytest.importorskip("formulas")
import schedula as sh  # noqa: E402  (installed with formulas)
from formulas.ranges import Ranges  # noqa: E402
from formulas.tokens.operand import XlError  # noqa: E402

from runrate_xl import udfs  # noqa: E402
from runrate_xl.api import evaluate_scenario  # noqa: E402
from runrate_xl.presets import presets  # noqa: E402
from tests.conftest import rel  # noqa: E402


def _python(value):
    if value is sh.EMPTY or isinstance(value, XlError):
        return None  # xlwings passes blank and error cells as None
    if isinstance(value, np.generic):
        return value.item()
    return value


def xlwings_like(arg):
    """A formulas argument as xlwings would pass it: scalar for one cell, else a list of rows."""
    if isinstance(arg, Ranges):
        arg = arg.value
    if isinstance(arg, np.ndarray):
        rows = [[_python(v) for v in row] for row in np.atleast_2d(arg).tolist()]
        return rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else rows
    return _python(arg)


def _adapter(fn):
    def call(*args):
        result = fn(*[xlwings_like(a) for a in args])
        return np.asarray(result, dtype=object) if isinstance(result, list) else result

    return call


@pytest.fixture(scope="module")
def registered():
    table = formulas.get_functions()
    for name, fn in udfs.FUNCTIONS.items():
        table[name] = _adapter(fn)
    yield
    for name in udfs.FUNCTIONS:
        table.pop(name, None)


def calculate(path) -> dict[str, list[list]]:
    """Every formula cell/range of the workbook -> its calculated values (list of rows)."""
    model = formulas.ExcelModel().loads(str(path)).finish()
    out = {}
    for key, value in model.calculate().items():
        ref = key.split("!")[-1]
        sheet = key.split("]")[-1].split("!")[0].strip("'")
        values = getattr(value, "value", value)
        out[f"{sheet.upper()}!{ref}"] = [[_python(v) for v in row] for row in np.atleast_2d(values).tolist()]
    return out


def scalar(results, ref):
    values = results[ref]
    assert len(values) == 1 and len(values[0]) == 1, values
    return values[0][0]


def test_formulas_workbook_matches_engine(tmp_path, registered):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Model"
    # inputs as an analyst types them; E1 stays blank (an optional argument left empty)
    ws["A1"], ws["B1"], ws["C1"], ws["D1"] = 50_000_000, 0.15, 0.6, 0.75
    ws["A2"], ws["B2"] = 4140, "80%"
    ws["F1"] = "=RUNRATE_API_COST(A1,B1,C1)"
    ws["F2"] = "=RUNRATE_API_COST(A1,B1,C1,D1,E1,0.25,0.1,0.02)"
    ws["F3"] = "=RUNRATE_SELFHOST_COST(A2,B2,1,120000,250)"
    ws["F4"] = "=RUNRATE_BREAKEVEN(A2,0.8,1.5)"
    ws["F5"] = "=RUNRATE_BREAKEVEN(A2,0.8,1.5,E1,E1,E1)"
    ws["F6"] = "=RUNRATE_PAYBACK(100000,4000)"
    ws["F7"] = "=RUNRATE_COST_PER_OUTCOME(F1,1200)"  # chained through another UDF
    ws["F8"] = '=RUNRATE_MODEL_COST("seed003/gpt-4o-mini",A1)'
    ws["F9"] = '=RUNRATE_PRICE("seed003/gpt-4o-mini","output")'
    ws["F10"] = "=RUNRATE_SELFHOST_COST(A2,80)"  # bad input: 80 instead of 0.8
    ws["F11"] = "=RUNRATE_BREAKEVEN(A2,0.8,1.5,30,0,99999)"  # no break-even
    ws["F12"] = '=RUNRATE_CROSSOVER("seed003-50m-80pct")'  # a preset name
    ws["F13"] = "=F1*12"  # native Excel arithmetic on a UDF result

    # a hand-typed scenario range with a blank row and a header
    scenario = [["key", "value"], ["volume.tokens_per_day", 50_000_000], ["api.input_price_per_1m", 0.15],
                ["api.output_price_per_1m", 0.6], [None, None], ["self_hosted.infra_monthly", 4140],
                ["self_hosted.utilization", 0.8], ["self_hosted.fte", 0.5],
                ["self_hosted.capacity_basis", "unlimited"]]  # seed 003's single box: the closed form below
    for r, (k, v) in enumerate(scenario, start=20):
        ws.cell(r, 1, k)
        ws.cell(r, 2, v)
    ws["D20"] = "=RUNRATE_CROSSOVER(A20:B28)"
    ws["D21"] = "=RUNRATE_RECOMMEND(A20:B28)"
    ws["D22"] = '=RUNRATE_TCO(A20:B28,"self_hosted",12)'
    ws["D23"] = '=RUNRATE_TCO(A20:B28,"API")'
    ws["D24"] = "=RUNRATE_TCO(A30:B31)"  # unknown key
    ws["A30"], ws["B30"] = "volume.tokens_per_dya", 1

    # spills: a preset as key/value rows, then that spill fed back as a scenario
    preset = "seed000-1m-inferences"
    rows = udfs.RUNRATE_SCENARIO(preset)
    n = len(rows)
    ws["H1"] = ArrayFormula(f"H1:I{n}", f'=RUNRATE_SCENARIO("{preset}")')
    ws["K1"] = ArrayFormula("K1:N4", f"=RUNRATE_TCO(H1:I{n})")
    ws["K10"] = f'=RUNRATE_RECOMMEND(H1:I{n})'
    reasons = udfs.RUNRATE_REASONS(preset)
    ws["K12"] = ArrayFormula(f"K12:K{11 + len(reasons)}", f"=RUNRATE_REASONS(H1:I{n})")
    iceberg = udfs.RUNRATE_ICEBERG(preset, "self_hosted")
    ws["P1"] = ArrayFormula(f"P1:S{len(iceberg)}", f'=RUNRATE_ICEBERG("{preset}","self_hosted")')
    path = tmp_path / "udfs.xlsx"
    wb.save(path)

    res = calculate(path)
    assert rel(scalar(res, "MODEL!F1"), 360.0)
    # F2 by hand: M = 1.5e9, Mi = 1.125e9, Mo = 0.375e9, b = 0.1, c = 0.25: input
    # 0.9 x 1125 x 0.75 x 0.15 = 113.90625, cached 0.9 x 1125 x 0.25 x 0.015 = 3.796875, output
    # 0.9 x 375 x 0.6 = 202.5, batch 0.1 x (1125 x 0.075 + 375 x 0.3) = 19.6875; sum 339.890625,
    # + 2% retries 6.7978125
    assert rel(scalar(res, "MODEL!F2"), 346.6884375)
    assert rel(scalar(res, "MODEL!F3"), 5175 + 120_000 / 12 + 250)
    assert rel(scalar(res, "MODEL!F4"), 115e6)
    assert rel(scalar(res, "MODEL!F5"), 115e6)  # blank cells take the defaults
    assert rel(scalar(res, "MODEL!F6"), 25.0)
    assert rel(scalar(res, "MODEL!F7"), 0.3)  # 360 / 1,200
    assert rel(scalar(res, "MODEL!F8"), 360.0)
    assert rel(scalar(res, "MODEL!F9"), 0.6)
    assert scalar(res, "MODEL!F10").startswith("#NUM! utilization: got 80")
    assert scalar(res, "MODEL!F11").startswith("#N/A no break-even")
    # seed 003 preset: capacity-true, the box never breaks even (its single-box reading: 718.75M)
    assert str(scalar(res, "MODEL!F12")).startswith("#N/A") and "do not cross" in str(scalar(res, "MODEL!F12"))
    assert rel(scalar(res, "MODEL!F13"), 12 * 360.0)

    # the typed range: API 360 / month (0.24 per 1M blended); self-hosted 5,175 + 0.5 FTE x 150,000 / 12
    selfhost = 5175 + 6250
    assert rel(scalar(res, "MODEL!D20"), selfhost / (0.24e-6 * 30))
    assert scalar(res, "MODEL!D21") == evaluate_scenario(udfs.scenario_of(scenario)).recommendation.label
    assert rel(scalar(res, "MODEL!D22"), 12 * selfhost)
    assert rel(scalar(res, "MODEL!D23"), 36 * 360.0)
    assert scalar(res, "MODEL!D24").startswith("#VALUE! scenario key: got 'volume.tokens_per_dya'")

    assert res[f"MODEL!H1:I{n}"] == rows
    pev = evaluate_scenario(presets()[preset].scenario)
    tco = res["MODEL!K1:N4"]
    assert tco[0] == ["Option", "Monthly USD", "Total 36 months USD", "NPV USD"]
    # seed 000 by hand: monthly x 36 + setup (fine-tuned 100,000, self-hosted 200,000), undiscounted
    want = [["API", 298_000, 10_728_000], ["Fine-tuned", 275_000, 10_000_000], ["Self-hosted", 398_000, 14_528_000]]
    for row, (label, monthly, total) in zip(tco[1:], want, strict=True):
        assert row[0] == label and rel(row[1], monthly) and rel(row[2], total) and rel(row[3], total)
    assert scalar(res, "MODEL!K10") == pev.recommendation.label
    assert res[f"MODEL!K12:K{11 + len(reasons)}"] == [[r.text] for r in pev.recommendation.reasons]
    got = res[f"MODEL!P1:S{len(iceberg)}"]
    assert got[0] == iceberg[0]
    items = pev.options["self_hosted"].line_items
    assert [r[1] for r in got[1:]] == [i.label for i in items]
    assert all(rel(r[3], i.monthly_usd) for r, i in zip(got[1:], items))

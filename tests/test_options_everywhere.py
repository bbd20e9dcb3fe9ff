"""A scenario with two API options and one self-hosted option, through every output (CLI, JSON,
Excel functions, memo, e-mail, scenario workbook, roll-up, portfolio); and the one definition
of savings that the portfolio memo, the roll-up and the batch summary share."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import subprocess
import sys

import openpyxl
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from runrate_xl import evaluate_scenario
from runrate_xl.api import scenario_from_dict
from runrate_xl.cli import app
from runrate_xl.presentation import cost_basis, savings_vs_today
from runrate_xl.presets import preset_scenario

AS_OF = dt.date(2026, 11, 23)
MULTI = {
    "name": "Multi-option desk",
    "owner_email": "lead@example.com",
    "volume": {"requests_per_month": 600_000, "tokens_per_request": 3000, "input_share": 0.85},
    "options": [
        {"id": "frontier", "kind": "api", "input_price_per_1m": 2.5, "output_price_per_1m": 10.0},
        {"id": "mini", "kind": "api", "input_price_per_1m": 0.15, "output_price_per_1m": 0.6},
        {"id": "own-gpus", "kind": "self_hosted", "infra_monthly": 4140, "utilization": 0.8},
    ],
    "horizon": {"months": 36, "discount_rate_per_year": 0.08},
}
# 60M tokens/day x 30 = 1.8B tokens/month: 1,530M input, 270M output.
FRONTIER = 1530 * 2.5 + 270 * 10.0  # 6,525
MINI = 1530 * 0.15 + 270 * 0.6  # 391.5
GPUS = 4140 / 0.8 + 0.25 * 150_000 / 12  # 5,175 + 3,125 people at the default 0.25 FTE


@pytest.fixture(scope="module")
def multi():
    return evaluate_scenario(scenario_from_dict(MULTI), AS_OF)


def test_cli_json_keys_every_result_by_option_id(tmp_path):
    path = tmp_path / "multi.json"
    path.write_text(json.dumps(MULTI))
    res = CliRunner().invoke(app, ["evaluate", str(path), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data["options"]) == ["frontier", "mini", "own-gpus"]
    assert math.isclose(data["options"]["mini"]["total_monthly"], MINI, rel_tol=1e-12)
    assert math.isclose(data["options"]["own-gpus"]["total_monthly"], GPUS, rel_tol=1e-12)
    assert data["recommendation"]["option"] == "mini"
    assert {(b["option_a"], b["option_b"]) for b in data["breakevens"]} == {
        ("frontier", "mini"), ("frontier", "own-gpus"), ("mini", "own-gpus")}


def test_cli_table_names_each_option(tmp_path):
    path = tmp_path / "multi.json"
    path.write_text(json.dumps(MULTI))
    res = CliRunner().invoke(app, ["evaluate", str(path)], terminal_width=200)
    assert res.exit_code == 0, res.output
    header = next(line for line in res.output.splitlines() if "Line item" in line)
    assert [h.strip() for h in header.strip("┃ ").split("┃")] == [
        "Line item", "", "API (frontier)", "API (mini)", "Self-hosted (own-gpus)"]
    assert "Recommendation: API (mini)" in res.output
    assert "Blended API (mini) price: $0.2175 per 1M tokens" in res.output  # 391.5 / 1,800M tokens


def test_memo_and_mail_show_every_option(multi, tmp_path):
    from runrate_xl.mail import build_message
    from runrate_xl.report import render_memo

    pdf = render_memo(multi, memo_date=AS_OF)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for name in ("API (frontier)", "API (mini)", "Self-hosted (own-gpus)"):
        assert name in text
    assert "$6,525" in text and "$392" in text
    msg = build_message(multi, pdf, sender="finance@example.com", memo_date=AS_OF)
    assert msg["Subject"] == "AI run-rate memo: Multi-option desk - recommend API (mini)"


def test_the_workbook_has_a_column_per_option(multi, tmp_path):
    """Hand-computed totals in the option columns (cached values; the LibreOffice tests
    recalculate the same layout), and the workbook reads back into the same scenario."""
    from runrate_xl.workbook import generate_workbook, read_workbook

    path = generate_workbook(multi.scenario, tmp_path / "w.xlsx", evaluation=multi)
    ws = openpyxl.load_workbook(path, data_only=True)["Outputs"]
    rows = {ws[f"B{r}"].value: r for r in range(1, 40) if ws[f"B{r}"].value}
    assert [ws[f"{c}6"].value for c in "CDE"] == ["API (frontier)", "API (mini)", "Self-hosted (own-gpus)"]
    total = rows["Total monthly cost"]
    for col, expected in zip("CDE", (FRONTIER, MINI, GPUS)):
        assert math.isclose(ws[f"{col}{total}"].value, expected, rel_tol=1e-12)
    assert read_workbook(path) == multi.scenario


def test_rollup_has_a_column_per_option_id_and_the_shared_savings(multi, tmp_path):
    from runrate_xl.workbook import write_rollup

    legacy = evaluate_scenario(preset_scenario("seed004-series-c"), AS_OF)
    path = write_rollup([legacy, multi], tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path, data_only=True)["Portfolio"]
    heads = [c.value for c in ws[4]][1:]
    assert heads[:7] == ["Business unit", "Runs today on", "API", "Self-hosted", "Self-hosted with the SRE", "API (frontier)", "API (mini)"]
    col = {h: i + 2 for i, h in enumerate(heads)}
    for row, ev in ((6, legacy), (7, multi)):
        saved = savings_vs_today(ev)
        assert math.isclose(ws.cell(row, col["Savings vs today"]).value, saved.monthly, rel_tol=1e-12)
        assert ws.cell(row, col["Runs today on"]).value == ev.options[saved.versus].label
    assert ws.cell(7, col["Self-hosted"]).value is None
    assert math.isclose(ws.cell(7, col["Savings vs today"]).value, FRONTIER - MINI, rel_tol=1e-12)
    assert ws.cell(8, col["API"]).value is None  # option columns are not totalled


def test_portfolio_memo_and_rollup_share_one_definition_of_savings(multi):
    from runrate_xl.report.context import portfolio_context

    evs = [multi] + [evaluate_scenario(preset_scenario(p), AS_OF) for p in ("seed004-startup", "seed000-1m-inferences", "bursty-25pct")]
    ctx = portfolio_context(evs, AS_OF)
    total = sum(savings_vs_today(ev).monthly for ev in evs)
    from runrate_xl import formatting as fmt

    assert ctx["totals"]["monthly_stake"] == fmt.usd(total)
    for row, ev in zip(ctx["rows"], evs):
        assert row["run_rate"] == fmt.usd(ev.options[cost_basis(ev)].total_monthly)
        assert row["monthly_stake"] == fmt.usd(savings_vs_today(ev).monthly)


def test_hybrid_savings_use_the_cheapest_eligible_route():
    data = preset_scenario("seed004-series-c").model_dump()
    data["context"]["quality_need"] = "state_of_the_art"  # self-hosting wins on cost: keep the API for the hardest
    ev = evaluate_scenario(scenario_from_dict(data), AS_OF)
    assert ev.recommendation.option == "hybrid"
    assert cost_basis(ev) == ev.recommendation.cheapest_option == "self_hosted"
    saved = savings_vs_today(ev)
    assert (saved.versus, saved.monthly) == ("api", 40_000 - 33_000)  # seed 004: $40K API vs $8K GPU + $25K ops


def test_mail_and_presentation_do_not_load_the_renderers():
    code = ("import sys, runrate_xl.mail, runrate_xl.presentation; "
            "print(sorted(m for m in ('weasyprint', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_batch_row_overrides_one_field_of_a_listed_option(tmp_path):
    from runrate_xl.batch.inputs import read_input

    (tmp_path / "multi.json").write_text(json.dumps({**MULTI, "options": [
        {**MULTI["options"][0], "id": "api"}, *MULTI["options"][1:]]}))
    (tmp_path / "units.csv").write_text("name,scenario_file,api_input_price_per_1m,observability_monthly\n"
                                        "Desk,multi.json,3.0,500\n")
    (row,) = read_input(tmp_path / "units.csv").rows
    assert row.problems == []
    s = row.scenario
    assert s.option_ids() == ["api", "mini", "own-gpus"]
    assert (s.option("api").input_price_per_1m, s.option("api").output_price_per_1m) == (3.0, 10.0)
    assert [o.hidden.observability_monthly for o in s.options] == [500.0, 500.0, 500.0]

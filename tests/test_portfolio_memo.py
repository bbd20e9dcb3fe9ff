"""The portfolio memo a CFO forwards: it says which units move and why, flags a unit running today
on an option strict privacy rules out, lists the units that failed with their error, and its
savings are the roll-up workbook's and the batch summary's to the cent; NPVs and nominal totals
over different horizons are never added."""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
import yaml
from pypdf import PdfReader

from runrate_xl import formatting as fmt
from runrate_xl.batch import run_batch
from runrate_xl.batch.run import UnitEvaluations
from runrate_xl.report.context import portfolio_context

AS_OF = dt.date(2026, 11, 23)
BASE = {"tokens_per_day": 50_000_000, "api_input_price_per_1m": 0.15, "api_output_price_per_1m": 0.6,
        "selfhost_infra_monthly": 4140, "selfhost_utilization": 0.8, "selfhost_fte": 0}
ROWS = [
    # strict privacy, running on the API today: must move to self-hosting, and is flagged
    {"name": "Strict claims", "owner_email": "claims@example.com", **BASE, "data_privacy": "strict",
     "horizon_months": 36, "discount_rate_per_year": 0.08, "selfhost_setup_cost": 50_000},
    # the API is cheapest: stays, over a 24-month nominal horizon
    {"name": "Plain chat", "owner_email": "chat@example.com", **BASE, "selfhost_infra_monthly": 40_000,
     "horizon_months": 24, "discount_rate_per_year": 0.0},
    {"name": "Broken unit", "owner_email": "broken@example.com", **BASE, "tokens_per_day": -5},
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("portfolio")
    src = root / "units.yaml"
    src.write_text(yaml.safe_dump({"business_units": ROWS}, sort_keys=False))
    result = run_batch(src, root / "out", as_of=AS_OF, jobs=1)
    assert [u.status for u in result.units] == ["ok", "ok", "invalid"], [u.error for u in result.units]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(root / "out" / "portfolio.pdf").pages).split())
    return result, root / "out", text


def test_savings_agree_with_the_rollup_and_the_summary_to_the_cent(batch):
    result, out, text = batch
    ctx = portfolio_context(UnitEvaluations(result.units), AS_OF)
    summary = json.loads((out / "summary.json").read_text())
    from_summary = sum(u["saving_vs_today_monthly_usd"] for u in summary["units"] if u["status"] == "ok")
    ws = openpyxl.load_workbook(out / "portfolio.xlsx", data_only=True)["Portfolio"]
    headers = [c.value for c in ws[4]]
    col = headers.index("Savings vs today") + 1
    total_row = next(r for r in range(6, ws.max_row + 1) if ws.cell(r, 2).value == "Total")
    from_rollup = ws.cell(total_row, col).value
    per_year = ws.cell(total_row, headers.index("Savings per year") + 1).value
    assert round(ctx["totals_raw"]["monthly_stake"], 2) == round(from_summary, 2) == round(from_rollup, 2)
    assert round(ctx["totals_raw"]["per_year"], 2) == round(per_year, 2)
    assert fmt.usd(from_summary) in text and fmt.usd(abs(per_year)) in text


def test_horizons_that_differ_are_not_added(batch):
    result, out, text = batch
    ctx = portfolio_context(UnitEvaluations(result.units), AS_OF)
    assert ctx["totals_raw"]["horizon_stake"] is None and ctx["totals"]["horizon_stake"] == ""
    assert "not added: the units' horizons differ" in text
    assert "NPV 36 mo" in text and "total 24 mo" in text


def test_moves_flags_and_failures_are_named(batch):
    result, out, text = batch
    # the move: which unit, from what to what, its one-time cost and why
    assert "From today to as recommended" in text
    assert "Strict claims API Self-hosted" in text and "strict data privacy" in text
    assert fmt.usd(50_000) in text
    # the flag: running today on the API although its data must stay in-house
    assert "hard constraint rules out" in text and "Strict claims runs on API today" in text
    # the failure, with its error, and the title does not claim every unit
    (broken,) = result.failed_units
    assert "2 of 3 business units" in text and "Broken unit" in text
    assert "not included: 1 unit failed" in text.lower() and "1 unit changes option" in text  # counts in words, not "unit(s)"
    assert broken.error.split(";")[0][:60] in text.replace("\u2026", "")
    # every column is defined
    for term in ("Run-rate", "Hidden", "Saved per month", "Saved over horizon"):
        assert f"{term}:" in text


def test_no_page_is_an_orphan(batch):
    result, out, text = batch
    pages = PdfReader(out / "portfolio.pdf").pages
    last = [line for line in pages[-1].extract_text().splitlines() if line.strip()]
    assert len(pages) == 1 or len(last) >= 15, last


def test_the_summary_names_a_few_units_per_move_and_counts_the_rest():
    """At any portfolio size page 1 stays a summary: three units per move by name, the rest counted."""
    from runrate_xl.api import evaluate_scenario, scenario_from_dict

    def strict(name):  # strict privacy, on the API today: moves to self-hosting
        return scenario_from_dict({
            "name": name, "volume": {"tokens_per_day": 50_000_000}, "context": {"data_privacy": "strict"},
            "api": {"input_price_per_1m": 0.15, "output_price_per_1m": 0.6},
            "self_hosted": {"infra_monthly": 4140, "utilization": 0.8, "capacity_basis": "unlimited"}})

    evaluations = [evaluate_scenario(strict(f"Unit {i:02d}"), AS_OF) for i in range(1, 13)]
    subject = portfolio_context(evaluations, AS_OF)["subject"]
    assert "12 of 12 units move: Unit 01, Unit 02, Unit 03 and 9 more to Self-hosted (strict data privacy)" in subject
    assert "Unit 04" not in subject
    four = portfolio_context(evaluations[:4], AS_OF)["subject"]  # one more name is shorter than "1 more"
    assert "Unit 01, Unit 02, Unit 03 and Unit 04 to Self-hosted" in four

"""Kind ``on_prem`` (issue #13 item 4): bought servers priced as a monthly run-rate (annuity,
maintenance, power, facilities) and counted in cash over the horizon (purchases, refreshes,
residuals, terminal book value). Figures below are computed by hand in the comments."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import example, HealthCheck, given, settings
from hypothesis import strategies as st

from runrate_xl.api import ScenarioError, evaluate_scenario, scenario_from_dict
from runrate_xl.catalog import resolve
from runrate_xl.engine import functions as f
from runrate_xl.engine.curve import curve, horizon_npv
from runrate_xl.engine.errors import InputError
from runrate_xl.engine.option_cost import option_breakdown, option_cost
from runrate_xl.engine.tco import tco_series
from runrate_xl.presets import get_preset
from tests.conftest import rel

# Two stated servers at 100,000 USD: install 10%, residual 20%, 4 years, no cost of capital;
# 8 GPUs of 500 W at 50% utilization, idle 30%, PUE 1.5, 0.10 USD/kWh, 30-day months (720 h).
BUY = {
    "id": "buy", "kind": "on_prem", "servers": 2, "utilization": 0.5, "server_price": 100_000, "install_share": 0.1,
    "life_years": 4, "residual_share": 0.2, "cost_of_capital_per_year": 0.0, "maintenance_share_per_year": 0.05,
    "gpus_per_server": 8, "gpu_tdp_watts": 500, "idle_power_share": 0.3, "pue": 1.5, "power_price_per_kwh": 0.10,
    "facilities_monthly_per_server": 200, "fte": 0.5, "fte_annual_cost": 120_000, "setup_cost": 30_000,
}
API = {"id": "api", "kind": "api", "input_price_per_1m": 1.0, "output_price_per_1m": 4.0}


def scenario(buy=None, months=48, growth=0.0, rate=0.0, tokens=10e6, api=True):
    options = ([API] if api else []) + [{**BUY, **(buy or {})}]
    return scenario_from_dict({"volume": {"tokens_per_day": tokens, "monthly_growth": growth}, "options": options,
                               "horizon": {"months": months, "discount_rate_per_year": rate}})


def items(s, option="buy", t=None):
    return {i.key: i.amount for i in option_breakdown(s, option, t).items}


def test_monthly_line_items_by_hand():
    it = items(scenario())
    # capital at 0%: (110,000 - 20,000) / 48 = 1,875 per server
    assert rel(it["capital"], 2 * 1875.0)
    # maintenance: 100,000 x 5% / 12 = 416.67 per server
    assert rel(it["maintenance"], 2 * 100_000 * 0.05 / 12)
    # power: 8 x 0.5 kW = 4 kW per server; idle 4 x 0.3 x 1.5 x 720 x 0.10 = 129.60 per server
    assert rel(it["power_idle"], 2 * 129.6)
    # load: 4 x 0.7 x 0.5 x 1.5 x 720 x 0.10 = 151.20 per server
    assert rel(it["power_load"], 2 * 151.2)
    # the one formula: servers x gpus x tdp/1000 x (idle + (1-idle) u) x pue x hours x price
    assert rel(it["power_idle"] + it["power_load"], f.server_power_monthly(2, 8, 500, 0.5, 0.3, 1.5, 720, 0.10))
    assert rel(it["facilities"], 400.0)
    assert rel(it["people"], 5_000.0)
    c = option_cost(scenario(), "buy")
    assert rel(c.total_monthly, 3750 + 2 * 100_000 * 0.05 / 12 + 561.6 + 400 + 5000)
    assert c.one_time_cost == 30_000
    assert rel(c.details["capex_monthly"], 3750.0) and rel(c.details["opex_monthly"], c.total_monthly - 3750.0)
    # P&L view at 0%: all depreciation, no interest
    assert rel(c.details["depreciation_monthly"], 3750.0) and rel(c.details["interest_monthly"], 0.0)
    hidden = {i.key for i in c.line_items if i.hidden}
    assert {"power_idle", "power_load", "facilities", "people"} <= hidden and not {"capital", "maintenance"} & hidden


def test_capital_is_excels_pmt_at_the_monthly_cost_of_capital():
    s = scenario({"cost_of_capital_per_year": 0.08})
    r = 1.08 ** (1 / 12) - 1
    g = (1 + r) ** 48
    by_hand = (110_000 * g - 20_000) * r / (g - 1)  # -PMT(r, 48, 110000, -20000)
    assert rel(items(s)["capital"], 2 * by_hand)
    d = option_cost(s, "buy").details
    assert rel(d["depreciation_monthly"], 2 * 90_000 / 48)
    assert rel(d["interest_monthly"], 2 * (by_hand - 90_000 / 48))
    assert d["interest_monthly"] > 0


def test_cash_series_when_the_horizon_is_one_life():
    s = scenario(months=48)
    opex = option_breakdown(s, "buy").total - 3750.0
    series = tco_series(s, "buy")
    # month 0: set-up 30,000 + two servers at 110,000; months 1-47 opex; month 48 opex - 2 x 20,000 residual
    assert rel(series.cumulative[0], 30_000 + 220_000)
    assert all(rel(m, opex) for m in series.monthly[:47])
    assert rel(series.monthly[47], opex - 40_000)
    assert rel(series.total, 30_000 + 220_000 + 48 * opex - 40_000)
    # at 0% the cash total equals the run-rate total over one whole life
    assert rel(series.total, 30_000 + 48 * option_breakdown(s, "buy").total)
    cap = series.capital
    assert rel(cap.capex, 220_000) and rel(cap.residual_received, 40_000) and cap.terminal_value == 0
    assert cap.units_bought[0] == 2 and sum(cap.units_bought) == 2
    assert rel(cap.depreciation + cap.interest, cap.run_rate_capital)


def test_refresh_and_terminal_value():
    s = scenario(months=60)
    opex = option_breakdown(s, "buy").total - 3750.0
    m = tco_series(s, "buy").monthly
    # month 48: residual 2 x 20,000 in, two new servers 2 x 110,000 out
    assert rel(m[47], opex - 40_000 + 220_000)
    # month 60: the refreshed servers are 12 months old, book value 110,000 - 90,000 x 12/48 = 87,500 each
    assert rel(m[59], opex - 175_000)
    cap = tco_series(s, "buy").capital
    assert rel(cap.capex, 440_000) and rel(cap.terminal_value, 175_000) and cap.units_bought[48] == 2


def test_servers_bought_in_the_month_growth_needs_them():
    # capacity 100M tokens/day a server, peak 1x, target 100%: 150M needs 2; +10%/month
    s = scenario({"servers": None, "utilization": None, "capacity_tokens_per_day": 100e6, "peak_to_average": 1.0,
                  "target_utilization": 1.0}, months=12, growth=0.1, tokens=150e6)
    counts = [math.ceil(150e6 * 1.1 ** (m - 1) / 100e6) for m in range(1, 13)]
    bought = tco_series(s, "buy").capital.units_bought
    assert bought[0] == counts[0] == 2
    for m in range(2, 13):  # servers for month m are bought at its start (time m - 1)
        assert bought[m - 1] == counts[m - 1] - counts[m - 2]
    assert option_cost(s, "buy").details["utilization"] == pytest.approx(0.75)


def test_stated_servers_never_carry_more_than_capacity_implied():
    with pytest.raises(ScenarioError, match="servers is a fixed fleet"):
        scenario({"capacity_tokens_per_day": 1e8})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    price=st.floats(10_000, 500_000), install=st.floats(0, 0.2), life=st.integers(1, 8), residual=st.floats(0, 0.5),
    coc=st.floats(0, 0.2), rate=st.floats(0, 0.2), growth=st.floats(-0.05, 0.08), months=st.integers(1, 120),
    capacity=st.floats(5e6, 5e8), tokens=st.floats(1e6, 1e9),
)
def test_cash_npv_is_the_fast_npv(price, install, life, residual, coc, rate, growth, months, capacity, tokens):
    """The NPV the recommendation, flips and sensitivity use (curve.horizon_npv) is the cash
    series' NPV, refreshes, growth purchases and terminal value included."""
    s = scenario({"servers": None, "utilization": None, "capacity_tokens_per_day": capacity, "server_price": price,
                  "install_share": install, "life_years": life / 2, "residual_share": residual, "cost_of_capital_per_year": coc},
                 months=months, growth=growth, rate=rate, tokens=tokens)
    assert rel(tco_series(s, "buy").npv, horizon_npv(s, curve(s, "buy")), 1e-9)


@settings(max_examples=30, deadline=None)
@given(rate=st.floats(0, 0.3), lives=st.integers(1, 3), life=st.integers(1, 3), residual=st.floats(0, 0.6))
@example(rate=5.356398587564234e-09, lives=1, life=1, residual=0.0)  # found by hypothesis: PMT's (1 + r)^n - 1 cancelled
def test_cash_npv_equals_run_rate_npv_when_discounting_at_the_cost_of_capital(rate, lives, life, residual):
    """The annuity repays price x (1 + install) less the residual's present value at the cost of
    capital: discounted at that rate, with no growth and whole lives, cash and run-rate agree."""
    s = scenario({"cost_of_capital_per_year": rate, "life_years": life, "residual_share": residual},
                 months=lives * life * 12, rate=rate)
    run_rate = f.npv(rate, 30_000, [option_breakdown(s, "buy").total] * (lives * life * 12))
    assert rel(tco_series(s, "buy").npv, run_rate, 1e-9)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 50), u=st.floats(0.01, 1), rate=st.floats(0, 0.2), months=st.integers(1, 100))
def test_more_servers_never_cheaper(n, u, rate, months):
    a = scenario({"servers": n, "utilization": u}, months=months, rate=rate)
    b = scenario({"servers": n + 1, "utilization": u}, months=months, rate=rate)
    assert option_breakdown(b, "buy").total > option_breakdown(a, "buy").total
    assert tco_series(b, "buy").npv > tco_series(a, "buy").npv


@settings(max_examples=30, deadline=None)
@given(price=st.floats(1_000, 1e6), install=st.floats(0, 0.5), life=st.integers(1, 10))
def test_zero_rate_and_residual_is_straight_line(price, install, life):
    s = scenario({"server_price": price, "install_share": install, "life_years": life, "residual_share": 0.0,
                  "cost_of_capital_per_year": 0.0})
    d = option_cost(s, "buy").details
    assert rel(d["capex_monthly"], 2 * price * (1 + install) / (12 * life))
    assert rel(d["depreciation_monthly"], d["capex_monthly"]) and abs(d["interest_monthly"]) < 1e-9 * d["capex_monthly"]
    assert rel(-f.pmt(0.0, 12 * life, price * (1 + install), 0.0), price * (1 + install) / (12 * life))


@pytest.mark.parametrize("change, field, text", [
    ({"gpus_per_server": None}, "buy", "gpus_per_server"),
    ({"utilization": None}, "buy", "servers needs utilization"),
    ({"servers": None, "utilization": None}, "buy", "needs servers (a fixed fleet), or a capacity"),
    ({"life_years": 4.01}, "buy", "whole number of months"),
    ({"pue": 0.9}, "buy.pue", "greater than or equal to 1"),
    ({"install_share": 7}, "buy.install_share", "use 0.07"),
    ({"server_price": None}, "buy", "server_price, or gpu_type and gpus_per_server"),
    ({"gpu_tdp_watts": None}, "buy", "gpu_tdp_watts, or gpu_type"),
])
def test_missing_or_invalid_inputs_name_the_field(change, field, text):
    data = {k: v for k, v in {**BUY, **change}.items() if v is not None}
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"volume": {"tokens_per_day": 1e6}, "options": [API, data]})
    assert text in str(info.value)
    assert any(p[0].startswith(field) for p in info.value.problems), info.value.problems


def test_catalog_errors_name_the_field():
    base = {k: v for k, v in BUY.items() if k not in ("server_price", "gpu_tdp_watts")}
    unknown = scenario_from_dict({"volume": {"tokens_per_day": 1e6}, "options": [API, {**base, "gpu_type": "H900"}]})
    with pytest.raises(InputError) as info:
        resolve(unknown)
    assert info.value.field == "buy.gpu_type" and "H900" in str(info.value)
    a100 = scenario_from_dict({"volume": {"tokens_per_day": 1e6}, "options": [API, {**base, "gpu_type": "A100-80GB", "gpus_per_server": 8}]})
    filled = resolve(a100, dt.date(2026, 12, 2)).option("buy")
    assert filled.gpu_tdp_watts == 400 and "tesla_a100_80gb-sxm" in filled.tdp_source
    # a GPU the catalog lists without a verified board power is not given a guessed one
    from runrate_xl.catalog.gpu_specs import gpu_specs
    spec = gpu_specs()["A100-80GB"]
    try:
        gpu_specs()["A100-80GB"] = spec.model_copy(update={"tdp_watts": None})
        with pytest.raises(InputError) as info:
            resolve(a100, dt.date(2026, 12, 2))
    finally:
        gpu_specs()["A100-80GB"] = spec
    assert info.value.field == "buy.gpu_tdp_watts" and "no verified TDP" in str(info.value)
    early = scenario_from_dict({"volume": {"tokens_per_day": 1e6}, "options": [API, {**base, "gpu_type": "H100"}]})
    with pytest.raises(InputError, match="read on or before 2025-01-01"):
        resolve(early, dt.date(2025, 1, 1))


def test_catalog_fills_price_install_tdp_and_throughput_with_sources():
    ev = evaluate_scenario(get_preset("buy-vs-rent-8xh100").scenario, dt.date(2026, 11, 23))
    buy = ev.scenario.option("buy")
    assert buy.server_price == 285_000 and rel(buy.install_share, 22_300 / 285_000) and buy.gpu_tdp_watts == 700
    assert "configiq" in buy.server_price_source and buy.server_price_as_of == "2026-08-01"
    assert "dc-liquid-cooling-calculator" in buy.tdp_source
    assert "LambdaLabsML/vllm-benchmark" in buy.throughput_source and buy.memory_needed_gb < buy.memory_available_gb
    rent = ev.scenario.option("rent")
    assert rent.instance_hourly_usd == 55.04
    # the same box, rented or bought, carries the same capacity: same count
    assert ev.options["buy"].details["servers"] == ev.options["rent"].details["instances"]
    # 4 replicas of 2x H100 at 1,727.69 output tokens/s and 205 in / 197 out: 86,400 x 4 x 1,727.69 / 197 x 402
    assert rel(ev.options["buy"].details["capacity_tokens_per_day_per_server"], 86_400 * 4 * 1727.69 / 197 * 402)
    assert ev.tco["buy"].capital is not None and ev.tco["rent"].capital is None
    assert rel(ev.tco["buy"].npv, horizon_npv(ev.scenario, curve(ev.scenario, "buy")), 1e-9)


def test_a_workbook_holds_the_on_prem_option_and_reads_back(tmp_path, preset_evaluation):
    """The live formulas are proven equal to the engine by LibreOffice (tests/test_workbook_libreoffice.py,
    scenarios in tests/workbook_scenarios.py); here the workbook carries the option and reads back."""
    from runrate_xl.workbook import read_workbook
    from runrate_xl.workbook.generate import generate_workbook

    path = generate_workbook(preset_evaluation.scenario, tmp_path / "x.xlsx", evaluation=preset_evaluation)
    back = read_workbook(path)
    # the server price, its installation share and the GPU power the Catalog sheet gives for 8x H100 are left
    # blank (looked up there), so a changed GPU type re-prices; the catalog fills them again on reading
    assert back.option("buy").server_price is None and back.option("buy").gpu_tdp_watts is None
    assert resolve(back, dt.date(2026, 11, 23)).option("buy") == preset_evaluation.scenario.option("buy")


@pytest.fixture(scope="module")
def preset_evaluation():
    return evaluate_scenario(get_preset("buy-vs-rent-8xh100").scenario, dt.date(2026, 11, 23))


def test_cli_summary_shows_capex_opex_and_cash(preset_evaluation):
    from typer.testing import CliRunner

    from runrate_xl.cli import app

    r = CliRunner().invoke(app, ["evaluate", "--preset", "buy-vs-rent-8xh100", "--as-of", "2026-11-23"], env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    cap = preset_evaluation.tco["buy"].capital
    d = preset_evaluation.options["buy"].details
    assert "Server capital (annuity)" in r.output and "Power, idle draw" in r.output
    assert f"capital charge ${d['capex_monthly']:,.0f} (P&L view: depreciation ${d['depreciation_monthly']:,.0f}" in r.output
    assert f"servers bought for ${cap.capex:,.0f}" in r.output and f"credited ${cap.terminal_value:,.0f}" in r.output


def test_memo_shows_the_on_prem_assumptions_and_cash_view(preset_evaluation):
    import pypdf, io

    from runrate_xl.report import render_memo

    pdf = render_memo(preset_evaluation, memo_date=dt.date(2026, 12, 1))
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    cap = preset_evaluation.tco["buy"].capital
    for words in ("Server price (8x H100) (buy)", "$285,000 per server", "Power and facilities", "PUE 1.4",
                  "Server life and financing", f"servers bought for ${cap.capex:,.0f}", "configiq purchase-catalog.ts"):
        assert words in text, words


def test_udfs_take_an_on_prem_option_as_key_value_rows(preset_evaluation):
    from runrate_xl import udfs

    rows = udfs.RUNRATE_SCENARIO("buy-vs-rent-8xh100")
    assert ["buy.kind", "on_prem"] in rows
    assert rel(udfs.RUNRATE_TCO(rows, "buy"), evaluate_scenario(get_preset("buy-vs-rent-8xh100").scenario).tco["buy"].total)
    assert str(udfs.RUNRATE_TCO(rows + [["buy.pue", 0.5]], "buy")).startswith("#VALUE! scenario buy.pue")


def test_batch_rows_with_on_prem_options_by_id(tmp_path):
    import json

    from runrate_xl.batch.run import run_batch
    from runrate_xl.workbook import read_workbook

    src = tmp_path / "units.yaml"
    src.write_text(
        "business_units:\n"
        "  - {name: Buy or rent, tokens_per_day: 800000000, tokens_per_request: 400, input_share: 0.5, api_model: seed003/gpt-4o,\n"
        "     buy.kind: on_prem, buy.gpu_type: H100, buy.gpus_per_server: 8, buy.model: llama-3.1-70b, buy.precision: fp8, buy.fte: 1}\n"
        "  - {name: Fixed fleet, tokens_per_day: 300000000, api_model: seed003/gpt-4o-mini, own.kind: on_prem, own.servers: 2,\n"
        "     own.utilization: 0.4, own.server_price: 150000, own.gpus_per_server: 8, own.gpu_tdp_watts: 350}\n")
    result = run_batch(src, tmp_path / "out", jobs=1, as_of=dt.date(2026, 11, 23))
    assert [u.status for u in result.units] == ["ok", "ok"], [u.error for u in result.units]
    unit = result.units[0]
    assert unit.evaluation.scenario.option("buy").server_price == 285_000  # from the server catalog, as of the batch's date
    folder = tmp_path / "out" / unit.folder
    assert resolve(read_workbook(folder / f"{unit.folder}.xlsx"), dt.date(2026, 11, 23)) == unit.evaluation.scenario
    row = json.loads((tmp_path / "out" / "summary.json").read_text())["units"][0]
    assert row["monthly_cost_usd"]["buy"] == unit.evaluation.options["buy"].total_monthly


def test_a_stated_fleet_is_loaded_in_proportion_to_volume():
    s = scenario(growth=0.05, months=36)
    today, double = items(s), items(s, t=20e6)
    assert rel(double["power_load"], 2 * today["power_load"]) and double["capital"] == today["capital"]
    assert rel(option_breakdown(s, "buy", 20e6).details["utilization"], 1.0)
    ev = evaluate_scenario(s)
    # the fleet follows the volume: no warning that it runs past 100%, no capacity assumed
    assert not any("passes 100%" in n or "carry any volume" in n for n in ev.notes)
    assert not any(r.rule == "capacity_assumed" for r in ev.recommendation.reasons)


def test_a_stated_fleet_carries_todays_volume_over_its_utilization():
    # 2 servers at 50% of 100M tokens/day carry 200M at 100%, 100M a server: 300M needs
    # max(2, ceil(300 x 0.5 x 2 / 100)) = 3 servers, each used 300 / (3 x 100) = 100%
    s = scenario(tokens=100e6)
    d = option_breakdown(s, "buy", 300e6).details
    assert d["servers"] == 3 and rel(d["utilization"], 1.0) and rel(d["capacity_tokens_per_day_per_server"], 100e6)
    assert option_breakdown(s, "buy", 200e6).details["servers"] == 2  # exactly 200M: still two
    assert option_breakdown(s, "buy", 200e6 + 1).details["servers"] == 3
    # 250M on 3 servers: 250 / 300 = 83.3% (0.5 x 2.5 x 2 / 3)
    assert rel(option_breakdown(s, "buy", 250e6).details["utilization"], 250 / 300)
    # capital, maintenance, idle power and facilities per server; power under load follows the volume
    today, grown = items(s), items(s, t=300e6)
    for key in ("capital", "maintenance", "power_idle", "facilities"):
        assert rel(grown[key], 1.5 * today[key]), key
    assert rel(grown["power_load"], 3 * today["power_load"])  # 4 kW x 0.7 x (3 x 100% vs 2 x 50%)
    # the cost curve the break-even, flips and tornado read agrees with the breakdown at every volume
    c = curve(s, "buy")
    for t in (50e6, 100e6, 200e6, 200e6 + 1, 300e6, 1e9):
        assert rel(c.at(t), option_breakdown(s, "buy", t).total)
    # the stated fleet is today's minimum: below today's volume it is kept (and idles)
    assert option_breakdown(s, "buy", 10e6).details["servers"] == 2


def test_a_stated_fleet_buys_a_server_in_the_month_volume_passes_its_capacity():
    # 100M growing 10% a month passes 200M in month 9 (1.1^8 = 2.14; month 8 is 1.1^7 = 1.95): the
    # third server is bought at the end of month 8 (time 8) for month 9, none before, none after by month 12
    s = scenario(tokens=100e6, growth=0.1, months=12)
    series = tco_series(s, "buy")
    assert list(series.capital.units_bought) == [2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    run_rate = [option_breakdown(s, "buy", 100e6 * 1.1 ** (m - 1)).total for m in range(1, 13)]
    # cash = run-rate less the capital charge (1,875 a server at 0%), plus 110,000 per server bought
    assert rel(series.monthly[7], run_rate[7] - 2 * 1875.0 + 110_000)
    assert rel(series.monthly[8], run_rate[8] - 3 * 1875.0) and rel(series.monthly[6], run_rate[6] - 2 * 1875.0)
    assert option_breakdown(s, "buy", 100e6 * 1.1 ** 8).details["servers"] == 3
    assert rel(series.npv, horizon_npv(s, curve(s, "buy")), 1e-12)


def test_a_stated_fleet_utilization_may_be_measured_at_another_volume():
    # 50% at 50M tokens/day: the 2 servers carry 100M at 100%, so today's 100M fits and 100M + 1 needs 3
    s = scenario({"utilization_at_tokens_per_day": 50e6}, tokens=100e6)
    assert option_breakdown(s, "buy").details["servers"] == 2 and rel(option_breakdown(s, "buy").details["utilization"], 1.0)
    assert option_breakdown(s, "buy", 100e6 + 1).details["servers"] == 3
    with pytest.raises(ScenarioError, match="utilization_at_tokens_per_day goes with stated servers"):
        scenario({"servers": None, "utilization": None, "capacity_tokens_per_day": 1e8, "utilization_at_tokens_per_day": 5e7})


def test_the_volume_driver_keeps_todays_fleet():
    from runrate_xl.engine.sensitivity import tornado

    # 2 servers at 90% of 100M carry 111.1M at 100%: +20% (120M) needs max(2, ceil(1.2 x 0.9 x 2)) = 3; -20% keeps 2
    s = scenario({"utilization": 0.9}, tokens=100e6)
    row = next(r for r in tornado(s, 0.2) if r.driver == "volume")
    assert rel(row.totals_high["buy"], option_breakdown(s, "buy", 120e6).total)
    assert option_breakdown(s, "buy", 120e6).details["servers"] == 3
    assert rel(row.totals_low["buy"], option_breakdown(s, "buy", 80e6).total)


def test_a_stated_fleet_at_zero_volume_says_its_capacity_is_unknown():
    s = scenario(tokens=0.0)
    b = option_breakdown(s, "buy", 1e9)
    assert b.details["servers"] == 2 and any("implies no capacity" in n for n in b.notes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 40), u=st.floats(0.05, 1), growth=st.floats(-0.05, 0.1), months=st.integers(1, 96),
       rate=st.floats(0, 0.2), tokens=st.floats(1e6, 1e9))
def test_a_stated_fleet_never_runs_past_100_percent(n, u, growth, months, rate, tokens):
    """In every month the stated fleet, grown as needed, carries the volume at <= 100%, never has
    fewer than the stated servers, and the cash NPV is the fast NPV the flips and tornado read."""
    s = scenario({"servers": n, "utilization": u}, months=months, growth=growth, rate=rate, tokens=tokens)
    per_server = tokens / (u * n)
    for m in range(1, months + 1):
        d = option_breakdown(s, "buy", tokens * f.growth_factor(growth, m)).details
        assert d["servers"] >= n and d["utilization"] <= 1 + 1e-9
        assert rel(d["capacity_tokens_per_day_per_server"], per_server)
    assert rel(tco_series(s, "buy").npv, horizon_npv(s, curve(s, "buy")), 1e-9)


def test_the_memo_states_a_stated_fleets_capacity():
    from runrate_xl.report.context import _on_prem_assumptions

    # 2 servers at 50% of 100M: 100M a server, a third bought past 200M tokens/day
    ev = evaluate_scenario(scenario(tokens=100e6))
    rows = " ".join(str(r) for r in _on_prem_assumptions(ev, ev.scenario.option("buy")))
    assert "carry 100,000,000 tokens/day each at 100%" in rows and "as the volume passes 200,000,000 tokens/day" in rows, rows

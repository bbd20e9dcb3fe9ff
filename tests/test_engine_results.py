"""Break-even, TCO, recommendation, sensitivity and outcome results against hand-computed figures."""

import pytest

from runrate_xl.engine import evaluate, find_breakeven, tco_series
from runrate_xl.engine.sensitivity import GRID_UTILIZATIONS, grid, tornado
from tests.conftest import rel


def test_iceberg_split_simple_mode(make_scenario):
    e = evaluate(make_scenario())
    sh = e.options["self_hosted"]
    items = {i.key: i for i in sh.line_items}
    assert rel(items["gpu_in_use"].monthly_usd, 4140) and not items["gpu_in_use"].hidden
    assert rel(items["idle_gpu"].monthly_usd, 1035) and items["idle_gpu"].hidden
    assert rel(sh.hidden_share, 1035 / 5175)
    assert rel(e.options["api"].blended_price_per_1m, 0.24)


def test_retries_are_hidden_and_in_the_blended_price(make_scenario):
    e = evaluate(make_scenario(api={"retry_rate": 0.1}))
    api = e.options["api"]
    retries = next(i for i in api.line_items if i.key == "retries")
    assert retries.hidden and rel(retries.monthly_usd, 36.0)
    assert rel(api.blended_price_per_1m, 0.264)


def test_breakeven_with_fixed_costs_both_sides(make_scenario):
    s = make_scenario(api={"hidden": {"observability_monthly": 500}}, self_hosted={"ops_tooling_monthly": 1000})
    be = find_breakeven(s, "api", "self_hosted")
    assert rel(be.tokens_per_day, (5175 + 1000 - 500) / (0.24e-6 * 30))
    assert rel(be.monthly_cost, 5175 + 1000)
    assert be.cheaper_below == "api"


def test_no_breakeven_is_explicit(make_scenario):
    s = make_scenario(self_hosted={"variable_cost_per_1m": 1.0})  # self-hosting dearer per token too
    be = find_breakeven(s, "api", "self_hosted")
    assert not be.found and be.tokens_per_day is None and be.method == "none"
    assert "cheaper at every volume" in be.reason and be.cheaper_below == "api"


def test_per_request_hidden_costs_shift_the_slope(make_scenario):
    s = make_scenario(volume={"tokens_per_day": 50e6, "tokens_per_request": 1000},
                      api={"hidden": {"review_share": 0.01, "cost_per_review": 1}})
    be = find_breakeven(s, "api", "self_hosted")
    # slope per token/day: 0.24e-6 x 30 + 0.01 x 1 x 30 / 1000
    assert rel(be.tokens_per_day, 5175 / (0.24e-6 * 30 + 0.01 * 30 / 1000))


def test_tco_with_growth_decline_and_discount_by_hand(make_scenario):
    s = make_scenario(volume={"tokens_per_day": 50e6, "monthly_growth": 0.1},
                      horizon={"months": 3, "api_price_decline_per_year": 0.5, "discount_rate_per_year": 0.1},
                      self_hosted={"setup_cost": 1000})
    api = tco_series(s, "api")
    expected = [360 * 1.1 ** (m - 1) * 0.5 ** ((m - 1) / 12) for m in (1, 2, 3)]
    assert all(rel(a, b) for a, b in zip(api.monthly, expected))
    rm = 1.1 ** (1 / 12) - 1
    assert rel(api.npv, sum(c / (1 + rm) ** m for m, c in enumerate(expected, 1)))
    sh = tco_series(s, "self_hosted")
    assert sh.cumulative[0] == 1000 and rel(sh.total, 1000 + 3 * 5175)


def test_crossover_and_payback(make_scenario):
    # self-hosted saves 1,000/month (API 6,175 with observability), setup 2,500 -> payback 2.5, crossover month 3
    s = make_scenario(api={"hidden": {"observability_monthly": 5815}}, self_hosted={"setup_cost": 2500})
    e = evaluate(s)
    pay = e.paybacks[0]
    assert rel(pay.monthly_saving, 1000) and rel(pay.months, 2.5)
    assert e.crossovers[0].month == 3


def test_recommendation_rules(make_scenario):
    cheap_selfhost = {"api": {"hidden": {"observability_monthly": 20000}}}
    e = evaluate(make_scenario(**cheap_selfhost, context={"ml_expertise": "strong"}))
    assert e.recommendation.option == "self_hosted"
    e = evaluate(make_scenario(**cheap_selfhost, context={"ml_expertise": "none"}))
    assert e.recommendation.option == "api"
    # the override names itself and its price: API 20,360 vs self-hosted 5,175 a month, 36 months
    assert any(r.rule == "expertise_none" and r.effect == "decides" and "$546,660 more over 36 months" in r.text
               for r in e.recommendation.reasons)
    e = evaluate(make_scenario(**cheap_selfhost, context={"ml_expertise": "strong", "quality_need": "state_of_the_art"}))
    assert e.recommendation.option == "hybrid"
    e = evaluate(make_scenario(context={"ml_expertise": "strong", "latency_p99_ms": 50}))
    assert e.recommendation.option == "hybrid"
    assert any(r.rule == "latency_hybrid" for r in e.recommendation.reasons)
    e = evaluate(make_scenario(self_hosted=None, context={"data_privacy": "strict"}))
    assert e.recommendation.option == "api"
    assert any(r.rule == "privacy_conflict" for r in e.recommendation.reasons)


def test_specialized_domain_prefers_fine_tuning_within_ten_percent(make_scenario):
    ft = {"input_price_per_1m": 0.15, "output_price_per_1m": 0.6, "setup_cost": 1000}
    e = evaluate(make_scenario(fine_tuned=ft, self_hosted=None, context={"quality_need": "specialized_domain"}))
    assert e.recommendation.cheapest_option == "api" and e.recommendation.option == "fine_tuned"
    ft["setup_cost"] = 100_000
    e = evaluate(make_scenario(fine_tuned=ft, self_hosted=None, context={"quality_need": "specialized_domain"}))
    assert e.recommendation.option == "api"


def test_tornado_moves_the_right_things(make_scenario):
    s = make_scenario(self_hosted={"fte": 0.5})
    rows = {r.driver: r for r in tornado(s, 0.2)}
    assert rel(rows["volume"].totals_high["api"], 360 * 1.2) and rel(rows["volume"].totals_high["self_hosted"], 5175 + 6250)
    assert rel(rows["api_prices"].breakeven_high, (5175 + 6250) / (0.24e-6 * 1.2 * 30))
    assert rows["utilization"].high_value == pytest.approx(0.96)
    assert rel(rows["utilization"].totals_low["self_hosted"], 4140 / 0.64 + 6250)
    assert "review_share" not in rows  # zero drivers cannot move by a percentage
    capped = {r.driver: r for r in tornado(make_scenario(self_hosted={"utilization": 0.95}), 0.2)}
    assert capped["utilization"].high_value == 1.0 and "capped" in capped["utilization"].note


def test_grid_marks_the_cheaper_option(make_scenario):
    g = grid(make_scenario(volume={"tokens_per_day": 1e9}))
    assert g.utilizations == list(GRID_UTILIZATIONS)
    # at 1e9 tokens/day the API costs 7,200; self-hosting 4,140/u is cheaper only when u > 0.575
    row = {u: g.cheaper[i][3] for i, u in enumerate(g.utilizations)}
    assert row[0.5] == "api" and row[0.6] == "self_hosted"
    assert rel(g.difference[0][3], 4140 / 0.2 - 7200)


def test_cost_per_outcome(make_scenario):
    e = evaluate(make_scenario(context={"outcomes_per_month": 1000}), {"Intercom Fin": 0.99})
    oc = {o.option: o for o in e.outcome_costs}
    assert rel(oc["api"].cost_per_outcome, 0.36) and rel(oc["self_hosted"].cost_per_outcome, 5.175)
    assert oc["api"].benchmarks == {"Intercom Fin": 0.99}


@pytest.mark.parametrize(
    "volume, rules",
    [
        # 100M tokens/day is still the middle band; 1M inferences/month is already the high band;
        # 4e-6 x 30 x 250M = $30,000 of spend is the middle band
        ({"tokens_per_day": 100e6, "tokens_per_request": 3000}, {"tokens_mid", "inferences_high", "spend_low"}),
        ({"tokens_per_day": 9.99e6}, {"tokens_low", "spend_low"}),
        ({"tokens_per_day": 250e6, "tokens_per_request": 1e9}, {"tokens_high", "inferences_low", "spend_mid"}),
    ],
)
def test_volume_and_spend_band_edges(make_scenario, volume, rules):
    s = make_scenario(volume=volume, api={"input_price_per_1m": 4.0, "output_price_per_1m": 4.0})
    fired = {r.rule for r in evaluate(s).recommendation.reasons}
    assert rules <= fired
    assert not {r for r in fired if r.split("_")[0] in {"tokens", "inferences", "spend"}} - rules


def test_payback_reads_the_cumulative_series_and_agrees_with_the_crossover(make_scenario):
    # API 360/month growing 20%/month: cumulative 1,800 x (1.2^m - 1); self-hosted flat 5,175/month.
    # Self-hosted minus API after m months: 5,175m - 1,800(1.2^m - 1) = +1,579.73 at m = 23 and
    # -17,094.33 at m = 24, so payback = 23 + 1,579.73 / 18,674.05 = 23.0846 months, in month 24.
    # Today's monthly saving is negative (-4,815): the old "one-time cost / saving" said "never".
    e = evaluate(make_scenario(volume={"monthly_growth": 0.2}))
    pay = e.paybacks[0]
    g = lambda m: 5175 * m - 1800 * (1.2 ** m - 1)  # noqa: E731
    assert rel(pay.months, 23 + g(23) / (g(23) - g(24))) and round(pay.months, 4) == 23.0846
    assert rel(pay.monthly_saving, 360 - 5175)
    assert e.crossovers[0].month == 24
    flat = evaluate(make_scenario())
    assert flat.paybacks[0].months is None and flat.crossovers[0].month is None
    assert "does not pay back within the horizon" in flat.paybacks[0].reason

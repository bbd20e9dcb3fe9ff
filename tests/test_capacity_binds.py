"""Self-hosted capacity binds in every mode: a stated capacity makes the deployments follow the
volume (today, in every month, at every volume of the break-even search), and a flat bill with no
capacity says so. Figures by hand from seed 003's g5.12xlarge at $4,140/month."""

from __future__ import annotations

import pytest

from runrate_xl.api import ScenarioError
from runrate_xl.engine import evaluate, find_breakeven, option_total, tco_series
from tests.conftest import rel

SIZED = {"mode": "simple", "infra_monthly": 4140, "capacity_tokens_per_day": 52e6, "peak_to_average": 1.0,
         "target_utilization": 1.0, "fte": 0, "utilization": None, "capacity_basis": "implied"}
# seed 003's form, by default: $4,140 of useful work at 80% utilization at today's 50M tokens/day
IMPLIED = {"mode": "simple", "infra_monthly": 4140, "utilization": 0.8, "fte": 0, "capacity_basis": "implied"}


def test_the_box_count_follows_the_volume(make_scenario):
    s = make_scenario(self_hosted=SIZED)
    # 50M tokens/day fit one 52M box: $4,140, used 50/52 = 96.2%
    sh = evaluate(s).options["self_hosted"]
    assert sh.details["instances"] == 1 and rel(sh.total_monthly, 4140) and rel(sh.details["utilization"], 50 / 52)
    # 500M tokens/day need ceil(500/52) = 10 boxes: $41,400 (seed 003 prices one box at 95%)
    assert rel(option_total(s, "self_hosted", 500e6), 41_400)
    # at an 80% target: ceil(500 / (52 x 0.8)) = ceil(12.02) = 13 boxes
    s80 = make_scenario(self_hosted={**SIZED, "target_utilization": 0.8})
    assert rel(option_total(s80, "self_hosted", 500e6), 13 * 4140)


def test_retries_consume_capacity(make_scenario):
    # 50M useful + 10% retried = 55M tokens/day > 52M: two boxes
    s = make_scenario(self_hosted={**SIZED, "retry_rate": 0.1})
    assert evaluate(s).options["self_hosted"].details["instances"] == 2


def test_growth_adds_boxes_month_by_month(make_scenario):
    # 50M growing 10%/month: month m carries 50M x 1.1^(m-1); month 2 = 55M > 52M -> 2 boxes
    s = make_scenario(volume={"tokens_per_day": 50e6, "monthly_growth": 0.1}, self_hosted=SIZED)
    monthly = tco_series(s, "self_hosted", 12).monthly
    assert rel(monthly[0], 4140) and rel(monthly[1], 8280)
    # month 12: 50M x 1.1^11 = 142.66M -> ceil(2.74) = 3 boxes
    assert rel(monthly[11], 3 * 4140)


def test_capacity_true_breakeven_of_seed_003(make_scenario):
    # seed 003's implied blended $1.50/1M: the API costs $45 per 1M tokens/day a month. A full box
    # costs 4,140 / 52M = $79.6 per 1M tokens/day, so the API stays cheaper at every volume: the
    # article's 115M tokens/day break-even assumes one box carries any volume.
    s = make_scenario(api={"input_price_per_1m": 1.5, "output_price_per_1m": 1.5}, self_hosted=SIZED)
    be = find_breakeven(s, "api", "self_hosted")
    assert not be.found and "do not cross at any volume" in be.reason
    flat = make_scenario(api={"input_price_per_1m": 1.5, "output_price_per_1m": 1.5},
                         self_hosted={"mode": "simple", "infra_monthly": 4140, "utilization": 0.8, "fte": 0, "capacity_basis": "unlimited"})
    assert rel(find_breakeven(flat, "api", "self_hosted").tokens_per_day, 115e6)
    # the default reads the same inputs capacity-true: the $5,175 box runs at 80% at 50M, so it
    # carries 62.5M at 100% ($82.8 per 1M tokens/day a month, above the API's $45): never
    implied = make_scenario(api={"input_price_per_1m": 1.5, "output_price_per_1m": 1.5}, self_hosted=IMPLIED)
    be = find_breakeven(implied, "api", "self_hosted")
    assert not be.found and be.cheaper_below == "api"


def test_utilization_or_capacity_not_both(make_scenario):
    with pytest.raises(ScenarioError, match="utilization or capacity_tokens_per_day, not both"):
        make_scenario(self_hosted={**SIZED, "utilization": 0.8})
    with pytest.raises(ScenarioError, match="simple mode needs utilization, or capacity_tokens_per_day"):
        make_scenario(self_hosted={"mode": "simple", "infra_monthly": 4140, "utilization": None})


def test_a_flat_bill_says_capacity_is_assumed_and_where_growth_breaks_it(make_scenario):
    ev = evaluate(make_scenario(volume={"tokens_per_day": 50e6, "monthly_growth": 0.05}))  # capacity_basis unlimited
    notes = " ".join(ev.notes)
    assert "capacity is assumed unlimited" in notes
    # 0.8 x 1.05^(m-1) > 1 first when m - 1 = 5 (1.2763); by month 36: 0.8 x 1.05^35 = 4.414
    assert "passes 100% of today's GPUs in month 6 (441% of them by month 36)" in notes
    risk = [r for r in ev.recommendation.reasons if r.rule == "capacity_assumed"]
    assert len(risk) == 1 and risk[0].effect == "against" and risk[0].option == "self_hosted" and "month 6" in risk[0].text
    sized = evaluate(make_scenario(volume={"tokens_per_day": 50e6, "monthly_growth": 0.05}, self_hosted=SIZED))
    implied = evaluate(make_scenario(volume={"tokens_per_day": 50e6, "monthly_growth": 0.05}, self_hosted=IMPLIED))
    for ev in (sized, implied):
        assert not any("assumed unlimited" in n or "passes 100%" in n for n in ev.notes)
        assert not any(r.rule == "capacity_assumed" for r in ev.recommendation.reasons)


def test_a_stated_utilization_implies_the_capacity_of_one_deployment(make_scenario):
    s = make_scenario(self_hosted=IMPLIED)
    sh = evaluate(s).options["self_hosted"]
    # today: one deployment at 4,140 / 0.8 = $5,175, used 80%: seed 003's figures unchanged
    assert sh.details["instances"] == 1 and rel(sh.total_monthly, 5175) and rel(sh.details["utilization"], 0.8)
    assert rel(sh.details["capacity_tokens_per_day_per_instance"], 62.5e6)
    # 62.5M still fits one (100%); 62.5M + 1 needs two, each used 62.5/125 = 50%
    assert rel(option_total(s, "self_hosted", 62.5e6), 5175)
    assert rel(option_total(s, "self_hosted", 62.5e6 + 1), 2 * 5175)
    # seed 003's 500M tokens/day: ceil(500 / 62.5) = 8 deployments, $41,400, not one box at 95%
    assert rel(option_total(s, "self_hosted", 500e6), 8 * 5175)
    # the volume the utilization was measured at can be given: 80% at 40M -> 50M carries on 50M
    s40 = make_scenario(self_hosted={**IMPLIED, "utilization_at_tokens_per_day": 40e6})
    assert rel(option_total(s40, "self_hosted", 50e6), 5175) and rel(option_total(s40, "self_hosted", 50e6 + 1), 2 * 5175)


def test_implied_deployments_follow_growth_and_never_pass_100_percent(make_scenario):
    # 50M growing 10%/month on 62.5M deployments: month 3 carries 60.5M (1), month 4 66.55M (2)
    s = make_scenario(volume={"tokens_per_day": 50e6, "monthly_growth": 0.1}, self_hosted=IMPLIED)
    monthly = tco_series(s, "self_hosted", 36).monthly
    assert rel(monthly[2], 5175) and rel(monthly[3], 2 * 5175)
    for m in range(1, 37):
        t = 50e6 * 1.1 ** (m - 1)
        n = monthly[m - 1] / 5175
        assert n == int(n) and t <= n * 62.5e6 * (1 + 1e-12)


def test_the_volume_driver_keeps_todays_hardware(make_scenario):
    # +20% volume on the implied 62.5M deployment: 60M still fits one; on +30% (65M) two
    from runrate_xl.engine.sensitivity import tornado
    rows = {r.driver: r for r in tornado(make_scenario(self_hosted=IMPLIED), 0.3)}
    assert rel(rows["volume"].totals_low["self_hosted"], 5175) and rel(rows["volume"].totals_high["self_hosted"], 2 * 5175)


def test_unlimited_capacity_is_only_for_a_stated_utilization(make_scenario):
    with pytest.raises(ScenarioError, match="capacity_basis unlimited applies to simple mode with a utilization only"):
        make_scenario(self_hosted={**SIZED, "capacity_basis": "unlimited"})
    with pytest.raises(ScenarioError, match="utilization_at_tokens_per_day applies to simple mode with a utilization only"):
        make_scenario(self_hosted={**SIZED, "utilization_at_tokens_per_day": 1e6})

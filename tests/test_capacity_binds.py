"""Self-hosted capacity binds in every mode: a stated capacity makes the deployments follow the
volume (today, in every month, at every volume of the break-even search), and a flat bill with no
capacity says so. Figures by hand from seed 003's g5.12xlarge at $4,140/month."""

from __future__ import annotations

import pytest

from runrate_xl.api import ScenarioError
from runrate_xl.engine import evaluate, find_breakeven, option_total, tco_series
from tests.conftest import rel

SIZED = {"mode": "simple", "infra_monthly": 4140, "capacity_tokens_per_day": 52e6, "peak_to_average": 1.0,
         "target_utilization": 1.0, "fte": 0, "utilization": None}


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
                         self_hosted={"mode": "simple", "infra_monthly": 4140, "utilization": 0.8, "fte": 0})
    assert rel(find_breakeven(flat, "api", "self_hosted").tokens_per_day, 115e6)


def test_utilization_or_capacity_not_both(make_scenario):
    with pytest.raises(ScenarioError, match="utilization or capacity_tokens_per_day, not both"):
        make_scenario(self_hosted={**SIZED, "utilization": 0.8})
    with pytest.raises(ScenarioError, match="simple mode needs utilization, or capacity_tokens_per_day"):
        make_scenario(self_hosted={"mode": "simple", "infra_monthly": 4140, "utilization": None})


def test_a_flat_bill_says_capacity_is_assumed_and_where_growth_breaks_it(make_scenario):
    ev = evaluate(make_scenario(volume={"tokens_per_day": 50e6, "monthly_growth": 0.05}))
    notes = " ".join(ev.notes)
    assert "capacity is not stated" in notes
    # 0.8 x 1.05^(m-1) > 1 first when m - 1 = 5 (1.2763); by month 36: 0.8 x 1.05^35 = 4.414
    assert "passes 100% of today's GPUs in month 6 (441% of them by month 36)" in notes
    risk = [r for r in ev.recommendation.reasons if r.rule == "capacity_assumed"]
    assert len(risk) == 1 and risk[0].effect == "against" and risk[0].option == "self_hosted" and "month 6" in risk[0].text
    sized = evaluate(make_scenario(volume={"tokens_per_day": 50e6, "monthly_growth": 0.05}, self_hosted=SIZED))
    assert not any("capacity is not stated" in n or "passes 100%" in n for n in sized.notes)

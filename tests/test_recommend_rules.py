"""The recommendation follows the money: hard constraints set options aside, rules that override
the cheapest option say what they cost, thresholds are inputs. Figures computed by hand from the
conftest scenario: 50M tokens/day, 80% input, 30 days; API 0.15/0.60 per 1M = $360/month;
self-hosted 4,140 / utilization; 36 months, no growth, no discounting."""

from __future__ import annotations

import pytest

from runrate_xl.engine import evaluate
from runrate_xl.engine.errors import RunrateError
from runrate_xl.presentation import headline

DEAR_API = {"api": {"hidden": {"observability_monthly": 20000}}}  # API 20,360/month


def reasons(ev, rule):
    return [r for r in ev.recommendation.reasons if r.rule == rule]


def test_low_utilization_is_a_risk_not_a_veto(make_scenario):
    # self-hosted at 50%: 4,140 / 0.5 = 8,280/month, of which idle 4,140; 36 months 298,080 vs API 732,960
    ev = evaluate(make_scenario(**DEAR_API, self_hosted={"utilization": 0.5}, context={"ml_expertise": "strong"}))
    rec = ev.recommendation
    assert rec.option == rec.cheapest_option == rec.cheapest_allowed_option == "self_hosted"
    (risk,) = reasons(ev, "utilization_risk")
    assert risk.effect == "against" and "50%" in risk.text and "60%" in risk.text and "$4,140/month" in risk.text
    assert not [r for r in rec.reasons if r.effect == "blocks"]


def test_savings_percentage_is_of_the_dearer_option(make_scenario):
    ev = evaluate(make_scenario(**DEAR_API, self_hosted={"utilization": 0.5}, context={"ml_expertise": "strong"}))
    (cost,) = reasons(ev, "cost")
    # 732,960 - 298,080 = 434,880 = 59.3% of the API's 732,960 (not 146% of the cheaper)
    assert "$434,880 (59%) less than API ($732,960)" in cost.text
    assert ev.recommendation.margin == pytest.approx(434_880 / 732_960, rel=1e-12)


def test_strict_privacy_sets_aside_vendor_fine_tunes_unless_private(make_scenario):
    ft = {"input_price_per_1m": 0.15, "output_price_per_1m": 0.60, "setup_cost": 1000}
    ev = evaluate(make_scenario(fine_tuned=ft, context={"data_privacy": "strict"}))
    rec = ev.recommendation
    # API 12,960 and fine-tuned 13,960 over 36 months both leave the company; self-hosted 186,300 does not
    assert {r.option for r in reasons(ev, "privacy_override")} == {"api", "fine_tuned"}
    assert rec.cheapest_option == "api" and rec.cheapest_allowed_option == rec.option == "self_hosted"
    assert "strict data privacy" in headline(ev)
    ev = evaluate(make_scenario(fine_tuned={**ft, "private": True}, context={"data_privacy": "strict"}))
    assert ev.recommendation.option == "fine_tuned"
    assert {r.option for r in reasons(ev, "privacy_override")} == {"api"}


def test_a_private_api_stays_eligible(make_scenario):
    ev = evaluate(make_scenario(api={"private": True}, context={"data_privacy": "strict"}))
    assert ev.recommendation.option == "api" and not reasons(ev, "privacy_override")


def test_expertise_override_names_its_price(make_scenario):
    ev = evaluate(make_scenario(**DEAR_API, context={"ml_expertise": "none"}))
    rec = ev.recommendation
    assert rec.option == "api" and rec.cheapest_allowed_option == "self_hosted"
    (rule,) = reasons(ev, "expertise_none")
    # 36 x (20,360 - 5,175) = 546,660
    assert rule.effect == "decides" and "$546,660 more over 36 months than Self-hosted" in rule.text
    assert "no in-house ML expertise" in headline(ev)


def test_thresholds_are_inputs(make_scenario):
    ev = evaluate(make_scenario(rules={"tokens_per_day_low": 60e6, "utilization_risk_below": 0.85}))
    (band,) = [r for r in ev.recommendation.reasons if r.rule.startswith("tokens_")]
    assert band.rule == "tokens_low" and "under 60M/day" in band.text
    (risk,) = reasons(ev, "utilization_risk")
    assert "80%" in risk.text and "85%" in risk.text
    # API 12,960 vs self-hosted 186,300: 93% apart, a close call only under a 95% threshold
    assert not evaluate(make_scenario()).recommendation.close_call
    assert evaluate(make_scenario(rules={"close_call_share": 0.95})).recommendation.close_call


def test_bands_out_of_order_are_refused(make_scenario):
    with pytest.raises(RunrateError) as err:
        make_scenario(rules={"api_spend_low": 90e3})
    assert "rules: got '{...}', expected api_spend_low <= api_spend_high (they are 90000 and 80000)" in str(err.value)


def test_strict_privacy_with_no_private_option_says_none_meets_it(make_scenario):
    # only an API: nothing would be left, so it is compared on cost and the result says privacy is not met
    ev = evaluate(make_scenario(self_hosted=None, context={"data_privacy": "strict"}))
    assert ev.recommendation.option == "api" and not reasons(ev, "privacy_override")
    (conflict,) = reasons(ev, "privacy_conflict")
    assert conflict.effect == "against" and "none meets it" in conflict.text

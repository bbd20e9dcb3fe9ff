"""Mix and cascade options (issue 14 items 1-2): hand-computed costs, the share-0 rule, the
constraints, strict privacy, the cheapest split, and invariants over random scenarios."""

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from runrate_xl.engine import evaluate, find_breakeven, option_total, tco_series
from runrate_xl.engine.curve import curve, horizon_npv
from runrate_xl.engine.kinds import composite
from runrate_xl.engine.option_cost import option_cost
from runrate_xl.engine.scenario import Scenario
from runrate_xl.engine.split import best_split
from tests.conftest import rel

# An API at $1 per 1M tokens in and out: 50M tokens/day x 30 days = 1.5B tokens = $1,500/month,
# i.e. $30/month per 1M tokens/day. One GPU box: $800/month, carries 30M tokens/day (target 100%,
# no peak): a full box saves $900 of API spend for $800; a second box would carry the remaining
# 20M ($600 of API) for $800. So the cheapest split fills one box: 60% to the GPUs, 40% to the API.
API = {"id": "api", "kind": "api", "input_price_per_1m": 1.0, "output_price_per_1m": 1.0}
GPUS = {"id": "gpus", "kind": "self_hosted", "infra_monthly": 800.0, "capacity_tokens_per_day": 30e6,
        "target_utilization": 1.0, "peak_to_average": 1.0, "fte": 0.0}


def scenario(*options, tokens=50e6, **extra):
    return Scenario.model_validate({"volume": {"tokens_per_day": tokens}, "options": [API, GPUS, *options], **extra})


def items(s, option):
    return {i.key: i.monthly_usd for i in option_cost(s, option).line_items}


def test_mix_of_an_api_and_a_self_hosted_option_is_the_sum_of_its_components_at_their_shares():
    s = scenario({"id": "mix", "kind": "mix", "route": {"api": 0.4, "gpus": 0.6}})
    # API at 20M tokens/day: 600M tokens/month, 480M input x $1 + 120M output x $1 = $600
    # GPUs at 30M tokens/day: one box, full: $800 in use, $0 idle
    li = items(s, "mix")
    assert li["api.input_tokens"] == pytest.approx(480.0, rel=1e-12)
    assert li["api.output_tokens"] == pytest.approx(120.0, rel=1e-12)
    assert li["gpus.gpu_in_use"] == pytest.approx(800.0, rel=1e-12)
    assert li["gpus.idle_gpu"] == pytest.approx(0.0, abs=1e-9)
    cost = option_cost(s, "mix")
    assert cost.total_monthly == pytest.approx(1400.0, rel=1e-12)
    assert cost.details["gpus.instances"] == 1.0 and cost.details["api.share"] == 0.4
    labels = {i.key: i.label for i in cost.line_items}
    assert labels["api.input_tokens"] == "API: Input tokens"
    # the pure options at the full volume: $1,500 and two boxes ($1,600)
    assert option_total(s, "api") == pytest.approx(1500.0, rel=1e-12)
    assert option_total(s, "gpus") == pytest.approx(1600.0, rel=1e-12)
    # over 36 months with no growth, decline or discount: 36 x the month
    assert tco_series(s, "mix").npv == pytest.approx(36 * 1400.0, rel=1e-12)


def test_each_component_pays_its_fixed_and_one_time_costs_once_in_full():
    gpus = {**GPUS, "fte": 0.5, "fte_annual_cost": 120_000.0, "setup_cost": 9_000.0}
    s = Scenario.model_validate({"volume": {"tokens_per_day": 50e6}, "options": [
        API, gpus, {"id": "mix", "kind": "mix", "route": {"api": 0.9, "gpus": 0.1}}]})
    cost = option_cost(s, "mix")
    # API at 45M: $1,350; GPUs at 5M: one box $800 (1/6 used) + people 0.5 x 120,000 / 12 = $5,000, not scaled by 10%
    assert cost.total_monthly == pytest.approx(1350.0 + 800.0 + 5000.0, rel=1e-12)
    assert items(s, "mix")["gpus.people"] == pytest.approx(5000.0, rel=1e-12)
    assert cost.one_time_cost == 9_000.0


def test_a_component_at_share_zero_is_not_run_and_costs_nothing():
    gpus = {**GPUS, "fte": 1.0, "setup_cost": 50_000.0}
    s = Scenario.model_validate({"volume": {"tokens_per_day": 50e6}, "options": [
        API, gpus, {"id": "mix", "kind": "mix", "route": {"api": 1.0, "gpus": 0.0}}]})
    cost = option_cost(s, "mix")
    assert cost.total_monthly == pytest.approx(1500.0, rel=1e-12)
    assert cost.one_time_cost == 0.0
    assert not any(i.key.startswith("gpus.") for i in cost.line_items)
    assert tco_series(s, "mix").npv == tco_series(s, "api").npv


def test_cascade_hand_figure():
    # 10M tokens/day, 80% input. Every request to mini: 300M tokens/month = 240M x 0.15 + 60M x 0.60 = $72;
    # 15% also to frontier: 45M tokens/month = 36M x 2.50 + 9M x 10 = $180. Total $252.
    s = Scenario.model_validate({"volume": {"tokens_per_day": 10e6}, "options": [
        {"id": "mini", "kind": "api", "input_price_per_1m": 0.15, "output_price_per_1m": 0.6},
        {"id": "frontier", "kind": "api", "input_price_per_1m": 2.5, "output_price_per_1m": 10.0},
        {"id": "cheap-first", "kind": "cascade", "first": "mini", "then": "frontier", "escalation_share": 0.15}]})
    cost = option_cost(s, "cheap-first")
    assert cost.total_monthly == pytest.approx(252.0, rel=1e-12)
    assert cost.token_cost_monthly == pytest.approx(252.0, rel=1e-12)
    li = items(s, "cheap-first")
    assert li["mini.input_tokens"] == pytest.approx(36.0, rel=1e-12)
    assert li["frontier.output_tokens"] == pytest.approx(90.0, rel=1e-12)


def test_cascade_follows_the_api_price_decline_of_its_components():
    s = Scenario.model_validate({"volume": {"tokens_per_day": 10e6}, "horizon": {"months": 13, "api_price_decline_per_year": 0.5},
                                 "options": [
        {"id": "mini", "kind": "api", "input_price_per_1m": 0.15, "output_price_per_1m": 0.6},
        {"id": "frontier", "kind": "api", "input_price_per_1m": 2.5, "output_price_per_1m": 10.0},
        {"id": "c", "kind": "cascade", "first": "mini", "then": "frontier", "escalation_share": 0.15}]})
    series = tco_series(s, "c")
    assert series.monthly[0] == pytest.approx(252.0, rel=1e-12)
    assert series.monthly[12] == pytest.approx(126.0, rel=1e-12)  # a year on, prices halved
    assert horizon_npv(s, curve(s, "c")) == pytest.approx(series.npv, rel=1e-12)


@pytest.mark.parametrize("option, field, expected", [
    ({"id": "m", "kind": "mix", "route": {"api": 0.5, "nope": 0.5}}, "m.route.nope", "the id of another option"),
    ({"id": "m", "kind": "cascade", "first": "api", "then": "nope", "escalation_share": 0.1}, "m.then", "the id of another option"),
])
def test_a_composite_must_refer_to_options_of_the_scenario(option, field, expected):
    with pytest.raises(ValidationError, match=rf"{field}: got 'nope', expected {expected}"):
        scenario(option)


def test_a_composite_is_never_a_component_of_another_composite():
    with pytest.raises(ValidationError, match=r"m2\.route\.m1: got 'm1', expected an option that is not a mix itself"):
        scenario({"id": "m1", "kind": "mix", "route": {"api": 0.5, "gpus": 0.5}},
                 {"id": "m2", "kind": "mix", "route": {"api": 0.5, "m1": 0.5}})
    with pytest.raises(composite.InputError) as exc:
        composite.check(Scenario.model_construct(options=[
            *Scenario.model_validate({"volume": {"tokens_per_day": 1}, "options": [API, GPUS]}).options,
            composite.MixOption(id="m1", kind="mix", route={"api": 0.5, "gpus": 0.5}),
            composite.CascadeOption(id="c", kind="cascade", first="m1", then="api", escalation_share=0.1)]))
    assert exc.value.field == "c.first" and exc.value.value == "m1"


@pytest.mark.parametrize("route, message", [
    ({"api": 0.5, "gpus": 0.4}, "shares summing to 1; they sum to 0.9"),
    ({"api": 1.2, "gpus": -0.2}, "each share a fraction in"),
    ({"api": 1.0}, "at least two options"),
])
def test_route_shares_are_checked(route, message):
    with pytest.raises(ValidationError, match=message):
        scenario({"id": "m", "kind": "mix", "route": route})


def test_a_route_that_breaks_a_constraint_names_the_field_value_and_bound():
    with pytest.raises(ValidationError, match=r"m\.route: got .*expected at least 0\.7 of the traffic to options that keep "
                                              r"data in-house \(gpus\): the route sends 0\.6 \(in_house_min_share\)"):
        scenario({"id": "m", "kind": "mix", "route": {"api": 0.4, "gpus": 0.6}, "in_house_min_share": 0.7})
    with pytest.raises(ValidationError, match=r"m\.route: got .*expected at least 0\.5 of the traffic to api "
                                              r"\(quality_min_share\): the route sends 0\.4"):
        scenario({"id": "m", "kind": "mix", "route": {"api": 0.4, "gpus": 0.6}, "quality_min_share": 0.5, "quality_option": "api"})
    with pytest.raises(ValidationError, match="quality_min_share and quality_option go together"):
        scenario({"id": "m", "kind": "mix", "route": {"api": 0.4, "gpus": 0.6}, "quality_min_share": 0.5})


def test_strict_privacy_applies_to_a_mix_that_routes_traffic_to_a_third_party():
    ctx = {"context": {"data_privacy": "strict"}}
    s = scenario({"id": "m", "kind": "mix", "route": {"api": 0.4, "gpus": 0.6}},
                 {"id": "inhouse", "kind": "mix", "route": {"api": 0.0, "gpus": 1.0}}, **ctx)
    rec = evaluate(s, with_sensitivity=False).recommendation
    assert "m" not in rec.allowed_options and "api" not in rec.allowed_options
    assert "inhouse" in rec.allowed_options and "gpus" in rec.allowed_options


def test_best_split_fills_the_gpu_box_and_sends_the_rest_to_the_api():
    s = scenario({"id": "m", "kind": "mix", "route": {"api": 0.5, "gpus": 0.5}})
    found = best_split(s, "m")
    assert found.method == "exact"
    assert found.route["gpus"] == pytest.approx(0.6, rel=1e-9)
    assert found.monthly == pytest.approx(1400.0, rel=1e-9)
    assert found.npv == pytest.approx(36 * 1400.0, rel=1e-9)
    # the route as given: 25M each, $750 API + one box $800
    assert found.given_monthly == pytest.approx(1550.0, rel=1e-12)
    assert found.pure_npv == pytest.approx({"api": 36 * 1500.0, "gpus": 36 * 1600.0}, rel=1e-12)
    assert len(found.curve) == 101 and found.curve[0].route == {"api": 0.0, "gpus": 1.0}
    assert found.curve[40].monthly == pytest.approx(1400.0, rel=1e-9)  # 40% to the API


def test_best_split_respects_the_constraints():
    # at least 50% must go to the API (quality): a box carrying at most 25M ($800 for $750 of API
    # spend) no longer pays, so all to the API ($1,500) beats 50/50 ($750 + $800)
    s = scenario({"id": "m", "kind": "mix", "route": {"api": 0.5, "gpus": 0.5}, "quality_min_share": 0.5, "quality_option": "api"})
    found = best_split(s, "m")
    assert found.route["api"] == 1.0 and found.monthly == pytest.approx(1500.0, rel=1e-12)
    assert found.given_monthly == pytest.approx(1550.0, rel=1e-12)
    assert not found.curve[40].feasible and found.curve[60].feasible
    assert set(found.pure_npv) == {"api"}  # all to the GPUs breaks the quality share


def test_split_cheapest_prices_the_found_route_everywhere():
    s = scenario({"id": "m", "kind": "mix", "route": {"api": 0.5, "gpus": 0.5}, "split": "cheapest"})
    ev = evaluate(s, with_sensitivity=False)
    assert ev.scenario.option("m").route["gpus"] == pytest.approx(0.6, rel=1e-9)
    assert ev.options["m"].total_monthly == pytest.approx(1400.0, rel=1e-9)
    assert ev.recommendation.option == "m"  # cheaper than all-API ($1,500) and all-GPU ($1,600)
    assert [sp.option for sp in ev.splits] == ["m"]


def test_hybrid_rule_recommends_the_costed_mix_where_one_exists():
    # state-of-the-art quality with self-hosting cheapest: the hybrid, now the costed mix
    gpus = {**GPUS, "infra_monthly": 100.0}
    s = Scenario.model_validate({"volume": {"tokens_per_day": 50e6}, "context": {"quality_need": "state_of_the_art"},
                                 "options": [API, gpus, {"id": "m", "kind": "mix", "route": {"api": 0.2, "gpus": 0.8}}]})
    rec = evaluate(s, with_sensitivity=False).recommendation
    assert rec.option == "m"
    assert any(r.rule == "quality_sota_hybrid" and "80% Self-hosted (gpus), 20% API" in r.text for r in rec.reasons)
    without = Scenario.model_validate({"volume": {"tokens_per_day": 50e6}, "context": {"quality_need": "state_of_the_art"},
                                       "options": [API, gpus]})
    assert evaluate(without, with_sensitivity=False).recommendation.option == "hybrid"


def test_stepped_mix_break_even_is_piecewise_and_costs_agree_at_the_crossings():
    # API $30/month per 1M tokens/day; the mix 0.4 x 30 = $12 per 1M plus $830 per box, one box per
    # 30M / 0.6 = 50M tokens/day: the mix is cheaper from 830 k / 18 = 46.1k M within the k-th 50M
    # step for k <= 12, and from 600M on for good
    s = Scenario.model_validate({"volume": {"tokens_per_day": 50e6}, "options": [
        API, {**GPUS, "infra_monthly": 830.0}, {"id": "m", "kind": "mix", "route": {"api": 0.4, "gpus": 0.6}}]})
    be = find_breakeven(s, "api", "m")
    assert be.crossings[0] == pytest.approx(830 / 18 * 1e6, rel=1e-12)
    assert be.ranges[-1].option == "m" and be.ranges[-1].to_tokens_per_day is None
    assert be.method == "piecewise" and be.found
    for r in be.ranges:  # inside each range the option it names is the cheaper
        hi = r.to_tokens_per_day if r.to_tokens_per_day is not None else r.from_tokens_per_day * 2
        for t in (r.from_tokens_per_day + (hi - r.from_tokens_per_day) * k / 4 for k in (1, 2, 3)):
            other = "m" if r.option == "api" else "api"
            assert option_total(s, r.option, t) <= option_total(s, other, t) * (1 + 1e-9)
    # the mix steps every 30M / 0.6 = 50M tokens/day (one more box)
    assert 50e6 in [pytest.approx(c) for c in be.crossings] or any(abs(c - 50e6) < 1 for c in be.crossings)


def test_evaluation_with_mix_and_cascade_runs_everything():
    s = scenario({"id": "m", "kind": "mix", "route": {"api": 0.4, "gpus": 0.6}},
                 {"id": "c", "kind": "cascade", "first": "gpus", "then": "api", "escalation_share": 0.1},
                 volume={"tokens_per_day": 50e6, "monthly_growth": 0.03, "tokens_per_request": 1000})
    ev = evaluate(s)
    assert set(ev.options) == {"api", "gpus", "m", "c"}
    assert {r.option for r in ev.sensitivity if r.option} <= {"api", "gpus"}
    # a driver of the GPUs moves the mix and the cascade too
    infra = next(r for r in ev.sensitivity if r.driver == "infra" and r.option == "gpus")
    assert infra.totals_high["m"] > ev.options["m"].total_monthly and infra.totals_high["c"] > ev.options["c"].total_monthly
    for o in ("m", "c"):
        assert horizon_npv(s, curve(s, o)) == pytest.approx(ev.tco[o].npv, rel=1e-9)


# --- invariants over random scenarios -------------------------------------------------------

price = st.floats(min_value=0.01, max_value=50, allow_nan=False)


@st.composite
def mixes(draw):
    gpus = {"id": "gpus", "kind": "self_hosted", "infra_monthly": draw(st.floats(10, 1e5)),
            "capacity_tokens_per_day": draw(st.floats(1e6, 1e9)), "target_utilization": draw(st.floats(0.3, 1)),
            "peak_to_average": draw(st.floats(1, 3)), "fte": draw(st.floats(0, 2)), "setup_cost": draw(st.floats(0, 1e5))}
    api = {"id": "api", "kind": "api", "input_price_per_1m": draw(price), "output_price_per_1m": draw(price)}
    x = draw(st.floats(0, 1))
    data = {"volume": {"tokens_per_day": draw(st.floats(1e5, 3e9)), "monthly_growth": draw(st.floats(0, 0.08))},
            "horizon": {"months": draw(st.integers(1, 48)), "discount_rate_per_year": draw(st.floats(0, 0.2)),
                        "api_price_decline_per_year": draw(st.floats(0, 0.5))},
            "options": [api, gpus, {"id": "m", "kind": "mix", "route": {"api": x, "gpus": 1.0 - x}},
                        {"id": "pure", "kind": "mix", "route": {"api": 1.0, "gpus": 0.0}}]}
    return Scenario.model_validate(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixes())
def test_mix_at_route_a1_b0_costs_what_option_a_costs(s):
    assert option_total(s, "pure") == option_total(s, "api")
    assert tco_series(s, "pure").npv == pytest.approx(tco_series(s, "api").npv, rel=1e-12)
    assert option_cost(s, "pure").one_time_cost == option_cost(s, "api").one_time_cost


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixes())
def test_best_split_is_no_dearer_than_any_pure_option_or_any_share_on_a_fine_grid(s):
    found = best_split(s, "m")
    tol = 1e-9 * max(1.0, abs(found.npv))
    for o in ("api", "gpus"):
        assert found.npv <= tco_series(s, o).npv + tol
    c = {o: curve(s, o) for o in ("api", "gpus")}
    for k in range(0, 1001):
        x = k / 1000
        npv = (horizon_npv(s, c["api"], scale=x) if x > 0 else 0.0) + (horizon_npv(s, c["gpus"], scale=1 - x) if x < 1 else 0.0)
        assert found.npv <= npv + tol
    assert math.isfinite(found.npv)


def test_three_components_use_the_grid_and_beat_every_pure_route():
    s = Scenario.model_validate({"volume": {"tokens_per_day": 50e6}, "options": [
        API, GPUS, {"id": "mini", "kind": "api", "input_price_per_1m": 0.75, "output_price_per_1m": 3.0},
        {"id": "m", "kind": "mix", "route": {"api": 0.2, "gpus": 0.5, "mini": 0.3}, "quality_min_share": 0.2, "quality_option": "api"}]})
    found = best_split(s, "m")
    assert found.method == "grid"
    # mini: $1.20 per 1M at 80/20 (0.6 + 0.6), dearer than api; the box carries 30M for $800 vs $900 of API
    assert found.route["gpus"] == pytest.approx(0.6, abs=2e-6)
    assert found.monthly == pytest.approx(1400.0, rel=1e-5)


def test_split_words_say_the_route_its_cost_and_the_saving_relative_to_the_dearer():
    from runrate_xl import presentation as P

    s = scenario({"id": "m", "kind": "mix", "route": {"api": 0.5, "gpus": 0.5}})
    ev = evaluate(s, with_sensitivity=False)
    found, given = P.split_lines(ev)
    # all-API $1,500: $100 less is 100 / 1,500 = 7% (of the dearer); all-GPU $1,600 (two boxes): $200 = 12.5% of 1,600
    assert found == ("Mix (m), the engine's cheapest split: route 60% to Self-hosted (gpus), 40% to API: $1,400/month, "
                     "$100 (7%) less a month than all to API ($3,600 (7%) less in total over 36 months); "
                     "$200 (12%) less a month than all to Self-hosted (gpus) ($7,200 (12%) less in total over 36 months).")
    assert given == ("Mix (m) as routed (50% to API, 50% to Self-hosted (gpus)) costs $1,550/month and is priced as given "
                     "(split: cheapest prices the split found).")
    rows = P.split_curve_rows(ev, "m", every=20)
    assert [r["share"] for r in rows] == [0.0, 0.2, 0.4, pytest.approx(0.4), 0.6, 0.8, 1.0]
    assert [r["best"] for r in rows].count(True) == 1


def test_a_mix_of_stepped_on_prem_servers_pays_cash_at_its_share():
    # a bought fleet sized from a capacity: the mix's TCO carries the component's purchases at its share of the volume
    s = Scenario.model_validate({"volume": {"tokens_per_day": 50e6, "monthly_growth": 0.05}, "horizon": {"months": 24}, "options": [
        API, {"id": "rack", "kind": "on_prem", "server_price": 100_000.0, "capacity_tokens_per_day": 30e6, "gpus_per_server": 8,
              "gpu_tdp_watts": 700, "target_utilization": 1.0, "peak_to_average": 1.0, "fte": 0.0},
        {"id": "m", "kind": "mix", "route": {"api": 0.4, "rack": 0.6}},
        {"id": "all", "kind": "mix", "route": {"api": 0.0, "rack": 1.0}}]})
    mix, rack, alone = tco_series(s, "m"), tco_series(s, "rack"), tco_series(s, "all")
    assert alone.npv == pytest.approx(rack.npv, rel=1e-12) and alone.capital.capex == rack.capital.capex
    # month 0: one server at 30M of 50M x 0.6 = 30M; the rack alone needs two for 50M
    assert mix.capital.units_bought[0] == 1 and rack.capital.units_bought[0] == 2
    assert horizon_npv(s, curve(s, "m")) == pytest.approx(mix.npv, rel=1e-9)

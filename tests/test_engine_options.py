"""Engine v2: options as data. Several options of one kind, the legacy three-slot form, ids in
every result, errors that name an option by its id; figures computed by hand."""

from __future__ import annotations

import math

import pytest

from runrate_xl import evaluate_scenario
from runrate_xl.api import ScenarioError, scenario_from_dict
from runrate_xl.engine import KINDS, evaluate
from runrate_xl.engine.breakeven import find_breakeven

VOLUME = {"tokens_per_day": 10_000_000, "input_share": 0.8}
# 10M tokens/day x 30 days = 300M tokens/month: 240M input, 60M output.
TWO_APIS_AND_GPUS = {
    "name": "Two APIs and own GPUs",
    "volume": VOLUME,
    "options": [
        {"id": "frontier", "kind": "api", "input_price_per_1m": 2.5, "output_price_per_1m": 10.0},
        {"id": "mini", "kind": "api", "input_price_per_1m": 0.15, "output_price_per_1m": 0.6,
         "hidden": {"observability_monthly": 2000}},
        {"id": "own-gpus", "kind": "self_hosted", "mode": "simple", "infra_monthly": 4140, "utilization": 0.8, "fte": 0},
    ],
}


def rel(a, b):
    return math.isclose(a, b, rel_tol=1e-12)


def test_two_api_options_and_one_self_hosted_evaluate_by_id():
    ev = evaluate(scenario_from_dict(TWO_APIS_AND_GPUS))
    assert list(ev.options) == ["frontier", "mini", "own-gpus"]
    # frontier: 240 x 2.5 + 60 x 10 = 1,200; mini: 240 x 0.15 + 60 x 0.6 + 2,000 = 2,072; GPUs: 4,140 / 0.8
    assert rel(ev.options["frontier"].total_monthly, 1200.0)
    assert rel(ev.options["mini"].total_monthly, 2072.0)
    assert rel(ev.options["own-gpus"].total_monthly, 5175.0)
    assert [o.kind for o in ev.options.values()] == ["api", "api", "self_hosted"]
    assert ev.options["mini"].label == "API (mini)" and ev.options["own-gpus"].label == "Self-hosted (own-gpus)"
    assert ev.scenario.context.current_option == "frontier"  # default: the first API option
    assert ev.recommendation.option == "frontier" and ev.recommendation.cheapest_option == "frontier"
    assert set(ev.tco) == {"frontier", "mini", "own-gpus"}


def test_every_pair_breaks_even_by_hand():
    ev = evaluate(scenario_from_dict(TWO_APIS_AND_GPUS))
    pairs = {(b.option_a, b.option_b): b for b in ev.breakevens}
    assert set(pairs) == {("frontier", "mini"), ("frontier", "own-gpus"), ("mini", "own-gpus")}
    # per token/day a month: frontier (0.8 x 2.5 + 0.2 x 10) x 30 / 1e6 = 1.2e-4; mini 0.24 x 30 / 1e6 = 7.2e-6
    frontier_mini = pairs[("frontier", "mini")]
    assert rel(frontier_mini.tokens_per_day, 2000 / (1.2e-4 - 7.2e-6))
    assert frontier_mini.cheaper_below == "frontier"
    # own-gpus runs at 80% at 10M tokens/day, so one $5,175 deployment carries 12.5M at 100% and
    # each further 12.5M needs another: $5,175 per 12.5M = 4.14e-4 a token/day, dearer than either
    # API's slope and dearer at the first step (frontier 1,500, mini 2,090 at 12.5M): no crossing
    assert not pairs[("frontier", "own-gpus")].found and not pairs[("mini", "own-gpus")].found
    assert pairs[("frontier", "own-gpus")].cheaper_below == "frontier"
    # the decision's pair: the first API option against the first self-hosted one
    assert (ev.breakeven.option_a, ev.breakeven.option_b) == ("frontier", "own-gpus")


def test_seed_003s_unlimited_reading_breaks_even_on_a_flat_bill():
    data = {**TWO_APIS_AND_GPUS, "options": [*TWO_APIS_AND_GPUS["options"][:2], {**TWO_APIS_AND_GPUS["options"][2], "capacity_basis": "unlimited"}]}
    ev = evaluate(scenario_from_dict(data))
    pairs = {(b.option_a, b.option_b): b for b in ev.breakevens}
    assert rel(pairs[("frontier", "own-gpus")].tokens_per_day, 5175 / 1.2e-4)
    assert rel(pairs[("mini", "own-gpus")].tokens_per_day, (5175 - 2000) / 7.2e-6)
    assert any("capacity is assumed unlimited" in n for n in ev.options["own-gpus"].notes)


def test_the_legacy_form_is_the_same_scenario_as_its_option_list():
    legacy = {"volume": VOLUME, "api": {"input_price_per_1m": 2.5, "output_price_per_1m": 10.0},
              "self_hosted": {"infra_monthly": 4140, "utilization": 0.8}}
    listed = {"volume": VOLUME, "options": [
        {"id": "api", "kind": "api", "input_price_per_1m": 2.5, "output_price_per_1m": 10.0},
        {"id": "self_hosted", "kind": "self_hosted", "infra_monthly": 4140, "utilization": 0.8}]}
    a, b = scenario_from_dict(legacy), scenario_from_dict(listed)
    assert a == b
    assert evaluate(a).model_dump() == evaluate(b).model_dump()
    assert evaluate(a).options["api"].label == "API"


def test_a_legacy_slot_overrides_the_listed_option_of_its_id():
    data = scenario_from_dict(TWO_APIS_AND_GPUS).model_dump()
    data["options"][0]["id"] = data["context"]["current_option"] = "api"
    data["api"] = {"input_price_per_1m": 1.0, "output_price_per_1m": 1.0}
    s = scenario_from_dict(data)
    assert s.option_ids() == ["api", "mini", "own-gpus"]
    assert s.option("api").input_price_per_1m == 1.0


def test_capacity_options_of_different_step_widths_break_even_at_a_true_crossing():
    gpu = {"kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 5.0, "gpus_per_instance": 1,
           "peak_to_average": 1.0, "target_utilization": 1.0, "fte": 0}
    s = scenario_from_dict({"volume": {"tokens_per_day": 1e6}, "options": [
        {"id": "small", **gpu, "tokens_per_second_per_gpu": 100.0},  # 8.64M tokens/day per instance
        {"id": "big", **gpu, "instance_hourly_usd": 12.0, "tokens_per_second_per_gpu": 300.0},  # 25.92M per instance
    ]})
    be = find_breakeven(s, "small", "big")
    # small: 3,650 per 8.64M step; big: 8,760 per 25.92M step. Small is cheaper up to 2 steps
    # (7,300 < 8,760) and dearer from the third (10,950), which starts just above 17.28M.
    assert be.found and be.method == "piecewise" and be.cheaper_below == "small"
    assert rel(be.tokens_per_day, 2 * 8.64e6)


def test_errors_name_the_option_by_its_id():
    bad = {**TWO_APIS_AND_GPUS, "options": [
        {**TWO_APIS_AND_GPUS["options"][0], "cached_share": 30},
        {"id": "mini", "kind": "apx"},
        {"id": "mini", "kind": "api", "model": "gpt-4o-mini", "colour": "red"},
    ]}
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(bad)
    fields = [p[0] for p in exc.value.problems]
    assert fields == ["frontier.cached_share", "mini.kind", "mini.colour"]
    assert "use 0.3" in exc.value.problems[0][2]
    assert exc.value.problems[1][2] == f"an option kind: one of {', '.join(KINDS)}"


@pytest.mark.parametrize("options, expected", [
    ([{"id": "a", "kind": "api", "model": "gpt-4o"}, {"id": "a", "kind": "api", "model": "gpt-4o-mini"}], "repeated: a"),
    ([{"id": "volume", "kind": "api", "model": "gpt-4o"}], "not a scenario section"),
    ([{"id": "Own GPUs", "kind": "api", "model": "gpt-4o"}], "lowercase letters"),
    ([], "at least 1 item"),
])
def test_bad_option_lists_are_refused(options, expected):
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict({"volume": VOLUME, "options": options})
    assert expected in str(exc.value)


def test_current_option_must_be_an_id():
    with pytest.raises(ScenarioError, match="no option has that id"):
        scenario_from_dict({**TWO_APIS_AND_GPUS, "context": {"current_option": "api"}})


def test_catalog_prices_fill_every_api_option():
    s = scenario_from_dict({"volume": VOLUME, "options": [
        {"id": "frontier", "kind": "api", "model": "gpt-4o"}, {"id": "mini", "kind": "api", "model": "gpt-4o-mini"}]})
    ev = evaluate_scenario(s)
    assert ev.scenario.option("frontier").input_price_per_1m > ev.scenario.option("mini").input_price_per_1m > 0
    assert ev.scenario.option("mini").price_source


def test_sensitivity_moves_each_api_option_on_its_own():
    ev = evaluate(scenario_from_dict(TWO_APIS_AND_GPUS))
    rows = {(r.driver, r.option): r for r in ev.sensitivity}
    mini = rows[("api_prices", "mini")]
    # mini's token spend (72) moves by 20%; frontier's total does not move
    assert rel(mini.totals_high["mini"] - ev.options["mini"].total_monthly, 0.2 * 72)
    assert rel(mini.totals_high["frontier"], ev.options["frontier"].total_monthly)
    assert ev.grid is not None and (ev.grid.api_option, ev.grid.self_hosted_option) == ("frontier", "own-gpus")


def test_an_api_listed_after_its_alternative_still_anchors_the_primary_break_even():
    """The primary pair starts from the first API option even when a self-hosted option is
    listed first; its break-even is the listed pair's, oriented API first."""
    single_box = {**TWO_APIS_AND_GPUS["options"][2], "capacity_basis": "unlimited"}  # seed 003's reading: one crossing
    data = {**TWO_APIS_AND_GPUS, "options": [single_box, TWO_APIS_AND_GPUS["options"][0]]}
    ev = evaluate(scenario_from_dict(data))
    assert (ev.breakeven.option_a, ev.breakeven.option_b) == ("frontier", "own-gpus")
    (listed,) = ev.breakevens
    assert (listed.option_a, listed.option_b) == ("own-gpus", "frontier")
    assert rel(ev.breakeven.tokens_per_day, listed.tokens_per_day)
    # by hand: 4140 / 0.8 = 5,175/month against frontier's 2.5 x 0.8 + 10 x 0.2 = $4 per 1M tokens x 30 days
    assert rel(ev.breakeven.tokens_per_day, 5175 / (4.0 * 30 / 1e6))

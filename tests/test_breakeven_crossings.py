"""Stepped costs can cross more than once: every crossing and the range where each option is
cheaper, computed by hand."""

from __future__ import annotations

from runrate_xl.engine import find_breakeven, option_total
from tests.conftest import rel

# One 1-GPU instance at $1/h x 720 h (a 30-day month) = $720/month carries w = 100 tokens/s x
# 86,400 = 8.64M tokens/day (peak = average, target 100%). The API's price makes it cost 1.4 x
# $720 per w of volume: p = 1.4 x 720 / 8.64M tokens/day / 30 days = $3.888... per 1M tokens.
W, C = 8_640_000.0, 720.0
P = 1.4 * C / W / 30 * 1e6
STEPPED = {"mode": "capacity", "instance_hourly_usd": 1.0, "gpus_per_instance": 1, "tokens_per_second_per_gpu": 100.0,
           "peak_to_average": 1.0, "target_utilization": 1.0, "fte": 0, "capacity_basis": "implied"}


def stepped(make_scenario, tokens_per_day=10_000_000.0):
    return make_scenario(volume={"tokens_per_day": tokens_per_day},
                         api={"input_price_per_1m": P, "output_price_per_1m": P}, self_hosted=STEPPED)


def test_every_crossing_and_range_is_listed(make_scenario):
    # API = 1.4 C t / W; self-hosted = C x ceil(t / W). API reaches C at W/1.4; at W self-hosted
    # steps to 2C while the API is at 1.4C (API cheaper again); API reaches 2C at 2W/1.4; at 2W
    # self-hosted steps to 3C, API 2.8C (API cheaper); API reaches 3C at 3W/1.4 = 2.14W; at 3W
    # self-hosted is 4C, API 4.2C: self-hosted stays cheaper, and the lines part for good.
    be = find_breakeven(stepped(make_scenario), "api", "self_hosted")
    expected = [W / 1.4, W, 2 * W / 1.4, 2 * W, 3 * W / 1.4]
    assert be.found and be.method == "piecewise" and len(be.crossings) == 5
    assert all(rel(a, b) for a, b in zip(be.crossings, expected))
    assert rel(be.tokens_per_day, W / 1.4) and be.cheaper_below == "api"
    assert [r.option for r in be.ranges] == ["api", "self_hosted", "api", "self_hosted", "api", "self_hosted"]
    assert be.ranges[-1].to_tokens_per_day is None and be.searched_up_to is None
    assert "5 volumes" in be.reason and "Self-hosted from 18,514,286 on" in be.reason


def test_ranges_match_a_brute_force_scan(make_scenario):
    s = stepped(make_scenario)
    be = find_breakeven(s, "api", "self_hosted")
    for k in range(1, 400):
        t = 6 * W * k / 400
        r = next(r for r in be.ranges if r.from_tokens_per_day < t and (r.to_tokens_per_day is None or t <= r.to_tokens_per_day))
        api, sh = option_total(s, "api", t), option_total(s, "self_hosted", t)
        if abs(api - sh) > 1e-6 * api:
            assert r.option == ("api" if api < sh else "self_hosted"), t


def test_parallel_steps_that_never_part_are_searched_to_the_limit(make_scenario):
    # The API slope equals the step line (C per W): the order can change at every step, forever,
    # so the search stops at its step limit and says where.
    s = make_scenario(volume={"tokens_per_day": 10_000_000.0},
                      api={"input_price_per_1m": C / W / 30 * 1e6 * 1.0, "output_price_per_1m": C / W / 30 * 1e6,
                           "hidden": {"observability_monthly": C / 2}},
                      self_hosted=STEPPED)
    be = find_breakeven(s, "api", "self_hosted")
    assert be.searched_up_to is not None and rel(be.searched_up_to, 1000 * W)
    assert len(be.crossings) > 100


def test_a_gap_that_cannot_close_stops_the_search_early(make_scenario):
    # A very dear API: its line leaves the self-hosted band after a few steps, so "no crossing
    # after the last" is proved, not assumed at a step limit.
    be = find_breakeven(stepped(make_scenario), "api", "self_hosted")
    assert be.searched_up_to is None
    cheap = make_scenario(api={"input_price_per_1m": 0.0001, "output_price_per_1m": 0.0001}, self_hosted=STEPPED)
    none = find_breakeven(cheap, "api", "self_hosted")
    assert not none.found and "do not cross" in none.reason


def test_primary_breakeven_is_the_first_crossing():
    from runrate_xl.api import evaluate_scenario
    from runrate_xl.presets import get_preset

    ev = evaluate_scenario(get_preset("capacity-growth").scenario)
    assert ev.breakeven.crossings[0] == ev.breakeven.tokens_per_day
    assert ev.breakeven.ranges[0].option == ev.breakeven.cheaper_below

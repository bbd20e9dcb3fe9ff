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


def test_a_stated_fleet_past_the_step_limit_is_searched_from_its_fewest_servers():
    # 1,500 stated servers at 50% of 1.5B tokens/day: the fleet carries 3B at 100%, one server
    # w = 2M tokens/day, and servers are bought past 3B = 1,500 w. A server costs $1,000/month
    # ($48,000 over 48 months, no installation, residual, cost of capital, maintenance, power or
    # facilities); 100 FTE at $54,012/year add G = $450,100/month. The API at $20 per 1M tokens
    # costs 30 x 20 / 1M = $0.0006 a month per token/day: at 3B it is $1.8M against the fleet's
    # $1.95M, so it is cheaper all along the flat part, and past it each server (w of volume)
    # costs the API 0.0006 x 2M = $1,200 against $1,000: at k servers the root of
    # 0.0006 t = G + 1,000 k lies in ((k - 1) w, k w] first for k = 2,251 (k >= G / 200 = 2,250.5):
    # t = (450,100 + 2,251,000) / 0.0006 = 4,501,833,333.3 tokens/day. The search used to start
    # at one server and stop after 1,000 steps (2B tokens/day), inside the flat part.
    from runrate_xl.engine.scenario import Scenario

    s = Scenario.model_validate({
        "name": "big fleet", "volume": {"tokens_per_day": 1.5e9},
        "options": [{"id": "api", "kind": "api", "input_price_per_1m": 20.0, "output_price_per_1m": 20.0},
                    {"id": "own", "kind": "on_prem", "servers": 1500, "utilization": 0.5, "server_price": 48_000,
                     "install_share": 0, "life_years": 4, "residual_share": 0, "cost_of_capital_per_year": 0,
                     "maintenance_share_per_year": 0, "gpus_per_server": 8, "gpu_tdp_watts": 700, "power_price_per_kwh": 0,
                     "facilities_monthly_per_server": 0, "fte": 100, "fte_annual_cost": 54_012}],
    })
    be = find_breakeven(s, "api", "own")
    assert be.found and be.method == "piecewise" and be.cheaper_below == "api"
    assert rel(be.tokens_per_day, (450_100 + 2_251_000) / 0.0006)
    assert rel(option_total(s, "api", be.tokens_per_day), option_total(s, "own", be.tokens_per_day))
    assert option_total(s, "own", 3e9) == 1_950_100 and rel(option_total(s, "api", 3e9), 1_800_000)

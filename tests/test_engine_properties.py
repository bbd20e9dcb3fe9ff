"""Invariants of the engine over random scenarios (hypothesis)."""

import math

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from runrate_xl.engine import evaluate, find_breakeven, option_total, tco_series
from runrate_xl.engine.scenario import Scenario
from tests.conftest import rel

money = st.floats(min_value=0, max_value=1e6, allow_nan=False)
price = st.floats(min_value=0.01, max_value=100, allow_nan=False)
share = st.floats(min_value=0, max_value=1, allow_nan=False)
util = st.floats(min_value=0.05, max_value=1, allow_nan=False)


@st.composite
def scenarios(draw, capacity=None, growth=False):
    mode = draw(st.sampled_from(["simple", "capacity"])) if capacity is None else ("capacity" if capacity else "simple")
    hidden = {
        "review_share": draw(st.floats(0, 0.3)),
        "cost_per_review": draw(st.floats(0, 20)),
        "observability_monthly": draw(money),
        "tool_calls_per_request": draw(st.floats(0, 5)),
        "price_per_tool_call": draw(st.floats(0, 0.01)),
    }
    sh = {"mode": mode, "fte": draw(st.floats(0, 5)), "ops_tooling_monthly": draw(money), "setup_cost": draw(money),
          "variable_cost_per_1m": draw(st.floats(0, 0.5)), "hidden": hidden}
    if mode == "simple":
        sh.update(infra_monthly=draw(money), utilization=draw(util))
    else:
        sh.update(instance_hourly_usd=draw(st.floats(0.5, 40)), gpus_per_instance=draw(st.integers(1, 8)),
                  tokens_per_second_per_gpu=draw(st.floats(50, 5000)), peak_to_average=draw(st.floats(1, 4)),
                  target_utilization=draw(st.floats(0.3, 1)), redundancy=draw(st.floats(1, 2)))
    data = {
        "name": "prop",
        "volume": {"tokens_per_day": draw(st.floats(1e3, 2e9)), "tokens_per_request": draw(st.floats(100, 20000)),
                   "input_share": draw(share), "monthly_growth": draw(st.floats(0, 0.1)) if growth else 0.0},
        "api": {"input_price_per_1m": draw(price), "output_price_per_1m": draw(price), "cached_share": draw(share),
                "batch_share": draw(share), "retry_rate": draw(st.floats(0, 0.5)), "hidden": hidden},
        "self_hosted": sh,
    }
    if draw(st.booleans()):
        data["fine_tuned"] = {"input_price_per_1m": draw(price), "output_price_per_1m": draw(price),
                              "hosting_monthly": draw(money), "setup_cost": draw(money),
                              "refresh_cost": draw(money), "refresh_interval_months": draw(st.floats(1, 24))}
    return Scenario.model_validate(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_at_breakeven_both_options_cost_the_same(s):
    be = find_breakeven(s, "api", "self_hosted")
    if not be.found:
        assert be.reason and be.tokens_per_day is None
        return
    assert be.tokens_per_day > 0 and math.isfinite(be.tokens_per_day)
    api, sh = option_total(s, "api", be.tokens_per_day), option_total(s, "self_hosted", be.tokens_per_day)
    if be.method == "closed_form":
        assert rel(api, sh, 1e-9)
    else:
        # piecewise: equal at the root, or the GPU step that flips the order is exactly there
        eps = be.tokens_per_day * 1e-9
        below = option_total(s, "api", be.tokens_per_day - eps) - option_total(s, "self_hosted", be.tokens_per_day - eps)
        above = option_total(s, "api", be.tokens_per_day + eps) - option_total(s, "self_hosted", be.tokens_per_day + eps)
        assert rel(api, sh, 1e-6) or (below > 0) != (above > 0)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.floats(0.0, 1.0), st.floats(1.0, 10.0))
def test_costs_non_decreasing_in_volume(s, lo_factor, hi_factor):
    t = s.volume.daily_tokens
    for o in s.option_ids():
        assert option_total(s, o, t * lo_factor) <= option_total(s, o, t * hi_factor) * (1 + 1e-12) + 1e-9


@settings(max_examples=100, deadline=None)
@given(scenarios(capacity=False))
def test_flat_tco_is_months_times_monthly_plus_setup(s):
    for o in s.option_ids():
        series = tco_series(s, o)
        monthly = option_total(s, o)
        one_time = series.one_time_cost
        assert rel(series.total, s.horizon.months * monthly + one_time, 1e-9)
        assert rel(series.npv, series.total, 1e-9)


@settings(max_examples=100, deadline=None)
@given(scenarios(growth=True), st.floats(0.001, 0.5), st.floats(0, 0.5))
def test_npv_not_above_total_for_positive_rates(s, rate, decline):
    s = s.model_copy(update={"horizon": s.horizon.model_copy(update={"discount_rate_per_year": rate, "api_price_decline_per_year": decline})})
    for o in s.option_ids():
        series = tco_series(s, o)
        assert series.npv <= series.total * (1 + 1e-12)
        assert all(b >= a for a, b in zip(series.cumulative, series.cumulative[1:]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_evaluation_totals_add_up_and_recommend_a_defined_option(s):
    e = evaluate(s)
    for c in e.options.values():
        assert rel(c.total_monthly, sum(i.monthly_usd for i in c.line_items))
        assert c.hidden_share is None or 0 <= c.hidden_share <= 1
    assert e.recommendation.option in set(s.option_ids()) | {"hybrid"}
    assert e.recommendation.reasons


@settings(max_examples=60, deadline=None)
@given(scenarios(capacity=True))
def test_piecewise_ranges_match_a_brute_force_scan(s):
    """Brute force: at volumes spread over every range, the cheaper option is the one the range
    names (ties aside), and the first crossing is the break-even."""
    be = find_breakeven(s, "api", "self_hosted")
    assume(be.found)
    assert be.crossings[0] == be.tokens_per_day and be.crossings == sorted(be.crossings)
    for r in be.ranges:
        hi = r.to_tokens_per_day if r.to_tokens_per_day is not None else r.from_tokens_per_day * 3 + 1
        for k in range(1, 20):
            t = r.from_tokens_per_day + (hi - r.from_tokens_per_day) * k / 20
            api, sh = option_total(s, "api", t), option_total(s, "self_hosted", t)
            if abs(api - sh) > 1e-9 * max(api, sh):
                assert r.option == ("api" if api < sh else "self_hosted")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(growth=True))
def test_payback_never_contradicts_the_crossover(s):
    """Both come from the cumulative series: a payback of p months falls in the crossover month
    (p in (month - 1, month]), no payback means no crossover, and at the payback month the
    cumulative curves meet."""
    e = evaluate(s)
    cross = {c.option: c for c in e.crossovers}
    for p in e.paybacks:
        c = cross[p.option]
        if p.months is None:
            assert c.month is None
        elif p.months == 0:
            assert c.month in (0, 1)
        else:
            assert c.month is not None and c.month - 1 < p.months <= c.month
        if p.months is not None and p.months > 0:
            k = math.floor(p.months) if p.months < c.month else c.month - 1
            a, b = e.tco[p.option].cumulative, e.tco[p.versus].cumulative
            f = p.months - k
            gap = (a[k] - b[k]) * (1 - f) + (a[k + 1] - b[k + 1]) * f
            assert abs(gap) <= 1e-6 * max(abs(a[k + 1]), abs(b[k + 1]), 1.0)

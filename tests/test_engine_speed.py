"""Engine speed (issue #13 item 8) without changing a number: the shortcuts the evaluation takes
(unit counts built once, horizon counts only where units are added, break-evens solved from cost
curves and stopped at the first crossing, horizon-only drivers re-reading no cost curve) give
exactly what the plain computation gives. The timings themselves are in ``make bench``."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runrate_xl.engine import evaluate, find_breakeven
from runrate_xl.engine import functions as f
from runrate_xl.engine.breakeven import breakeven_volume, primary_pair
from runrate_xl.engine.curve import curve, horizon_npv, reread, restepped
from runrate_xl.engine.errors import RunrateError
from runrate_xl.engine.flips import NEAR_TIE, RESOLUTION, TOLERANCE, _bisect, _flip_towards, gaps, search_range
from runrate_xl.engine.scenario import Scenario
from runrate_xl.engine.kinds.base import unit_counts
from runrate_xl.engine.option_cost import option_total
from runrate_xl.engine.sensitivity import drivers, grid, on_line, tornado
from tests.test_engine_properties import scenarios


@settings(max_examples=200, deadline=None)
@given(capacity=st.floats(1, 1e5), pta=st.floats(1, 10), target=st.floats(0.05, 1), redundancy=st.sampled_from([1.0, 1.5, 2.0, 1.25]),
       retry=st.floats(0, 1), t=st.floats(0, 1e12), k=st.integers(1, 500))
def test_the_instance_counter_counts_as_instance_count(capacity, pta, target, redundancy, retry, t, k):
    count = f.instance_counter(capacity, pta, target, redundancy, 1.0 + retry)
    width = capacity * target * f.SECONDS_PER_DAY / ((1.0 + retry) * pta)
    volumes = [t, k * width, k * width * (1 + 1e-15), k * width * (1 - 1e-15), 0.0]  # at and around a step
    for v in volumes:
        assert count(v) == f.instance_count(v * (1.0 + retry) / f.SECONDS_PER_DAY, capacity, pta, target, redundancy)
    if hasattr(count, "many"):
        assert count.many(volumes) == [count(v) for v in volumes]


@settings(max_examples=200, deadline=None)
@given(t0=st.floats(1e3, 1e10), growth=st.floats(-0.5, 0.5), months=st.integers(0, 120), width=st.floats(1e3, 1e10),
       shuffle=st.booleans(), data=st.data())
def test_horizon_counts_are_the_counts_month_by_month(t0, growth, months, width, shuffle, data):
    count = f.instance_counter(width / f.SECONDS_PER_DAY, 1.0, 1.0, 1.0)
    volumes = [t0 * f.growth_factor(growth, m) for m in range(1, months + 1)]
    if shuffle:
        volumes = data.draw(st.permutations(volumes))
    assert unit_counts(count, volumes) == [count(t) for t in volumes]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(growth=True))
def test_the_first_crossing_is_find_breakevens(s):
    ids = s.option_ids()
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            assert breakeven_volume(curve(s, a), curve(s, b)) == find_breakeven(s, a, b).tokens_per_day


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(growth=True))
def test_tornado_rows_are_the_plain_recomputation(s):
    """Each row equals re-reading every moved option and re-solving the break-even from scratch."""
    pair = primary_pair(s)
    by_key = {(d.key, d.option): d for d in drivers(s)}
    for row in tornado(s):
        d = by_key[(row.driver, row.option)]
        for value, totals, npvs, be in ((row.low_value, row.totals_low, row.npv_low, row.breakeven_low),
                                        (row.high_value, row.totals_high, row.npv_high, row.breakeven_high)):
            ev = evaluate(d.set(s, value), with_sensitivity=False)
            moved = s.option_ids() if d.option is None else [d.option]
            for o in moved:
                assert abs(totals[o] - ev.options[o].total_monthly) <= 1e-9 * max(1.0, abs(totals[o]))
                assert abs(npvs[o] - ev.tco[o].npv) <= 1e-9 * max(1.0, abs(npvs[o]))
            if d.option is None or d.option in pair:
                plain = find_breakeven(d.set(s, value), *pair).tokens_per_day
                if not (be == plain or abs(be - plain) <= 1e-9 * plain):
                    # where large equal costs cancel (human review on both sides) the two roots can
                    # differ by more than 1e-9 of the volume: then be must still be a root of the plain
                    # costs to 1e-9 of those costs
                    costs = [option_total(d.set(s, value), o, be) for o in pair]
                    assert abs(costs[0] - costs[1]) <= 1e-9 * max(costs), (row.driver, be, plain, costs)


# --- The flip search's shortcuts (issue #13 item 8) ------------------------------------------
# The volume driver reads today's cost curves at every volume (every option keeps today's
# hardware), a driver that moves only how much volume a unit carries re-reads only the unit count
# (curve.restepped), and a phased move's NPVs are given today's option's curve instead of reading
# it again. "Plain" below re-reads every curve at every value, as the search did before.


def _plain_gap(s, d, chosen, allowed):
    others = [o for o in allowed if o != chosen]

    largest = {}

    def gap(value):
        sv = d.set(s, value)
        npvs = {o: horizon_npv(sv, curve(sv, o), o) for o in allowed}
        best = min(others, key=lambda o: npvs[o])
        largest[value] = max(abs(x) for x in npvs.values())
        return npvs[chosen] - npvs[best], best
    gap.scale = largest.__getitem__
    return gap


def _shortcut_drivers(s):
    return [d for d in drivers(s) if d.curves_stay or d.sizes_only or d.linear or not d.reprices or s.horizon.migrates]


@st.composite
def on_prem_scenarios(draw):
    """An API against bought servers, sized from a capacity or a stated fleet, with growth, price
    decline and (sometimes) a phased move off the API."""
    if draw(st.booleans()):
        own = {"tokens_per_second_per_gpu": draw(st.floats(100, 3000)), "target_utilization": draw(st.floats(0.3, 1)),
               "peak_to_average": draw(st.floats(1, 3)), "redundancy": draw(st.sampled_from([1.0, 1.5]))}
    else:
        own = {"servers": draw(st.integers(1, 40)), "utilization": draw(st.floats(0.1, 1))}
    months = draw(st.integers(12, 60))
    switch = draw(st.integers(0, 6)) if draw(st.booleans()) else 0
    return Scenario.model_validate({
        "name": "own", "volume": {"tokens_per_day": draw(st.floats(1e6, 5e9)), "monthly_growth": draw(st.floats(0, 0.08))},
        "options": [{"id": "api", "kind": "api", "input_price_per_1m": draw(st.floats(0.05, 5)), "output_price_per_1m": draw(st.floats(0.1, 20))},
                    {"id": "own", "kind": "on_prem", "server_price": draw(st.floats(2e4, 4e5)), "gpus_per_server": 8,
                     "gpu_tdp_watts": 700, "fte": draw(st.floats(0, 3)), **own}],
        "context": {"current_option": "api"},
        "horizon": {"months": months, "discount_rate_per_year": draw(st.floats(0, 0.2)), "api_price_decline_per_year": draw(st.floats(0, 0.3)),
                    "switch_month": switch, "overlap_months": draw(st.integers(0, 6)) if switch else 0},
    })


def _assert_gaps_are_plain(s, factors):
    ids = s.option_ids()
    for chosen in ids:
        gap_of = gaps(s, chosen, ids)
        scale = max(abs(horizon_npv(s, curve(s, o), o)) for o in ids) or 1.0
        for d in _shortcut_drivers(s):
            base = d.get(s)
            if base is None or (base == 0 and d.points is None):
                continue
            lo, hi = search_range(d, base)
            fast, plain = gap_of(d), _plain_gap(s, d, chosen, ids)
            for k in factors:
                value = lo + (hi - lo) * k
                try:
                    want = plain(value)
                except RunrateError:
                    continue  # beyond a bound of the model: the search stops there either way
                got = fast(value)
                assert abs(got[0] - want[0]) <= 1e-9 * scale, (d.key, value, got, want)
                assert got[1] == want[1] or abs(got[0] - want[0]) <= 1e-9 * scale


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(growth=True), st.lists(st.floats(0, 1), min_size=1, max_size=4))
def test_flip_gaps_with_shortcuts_are_the_plain_gaps(s, factors):
    """Each shortcut gives the gap the plain re-reading gives, to 1e-9 of the NPVs (they differ by
    float rounding: a curve read at another volume, or its fixed part without the unit count)."""
    _assert_gaps_are_plain(s, factors)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(on_prem_scenarios(), st.lists(st.floats(0, 1), min_size=1, max_size=4))
def test_flip_gaps_with_shortcuts_are_the_plain_gaps_on_prem_and_migrating(s, factors):
    _assert_gaps_are_plain(s, factors)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(scenarios(capacity=True, growth=True), on_prem_scenarios()), st.floats(0.25, 4.0))
def test_a_restepped_curve_is_the_curve(s, factor):
    """A driver marked sizes_only moves nothing but the unit count: the curve re-read at another
    value has today's fixed cost, slopes and unit cost, and the restepped curve's step is the
    re-read one (the same width, cost and counts)."""
    for d in drivers(s):
        if not d.sizes_only:
            continue
        value = d.get(s) * factor
        if d.ceiling is not None:
            value = min(value, d.ceiling)
        sv = d.set(s, value)
        plain, fast = curve(sv, d.option), restepped(sv, d.option, curve(s, d.option), [d.option])
        for a, b in ((plain.fixed, fast.fixed), (plain.token_slope, fast.token_slope), (plain.other_slope, fast.other_slope),
                     (plain.one_time, fast.one_time), (plain.step.cost, fast.step.cost), (plain.step.width, fast.step.width)):
            assert abs(a - b) <= 1e-9 * max(1.0, abs(a)), (d.key, a, b)
        volumes = [s.volume.daily_tokens * x for x in (0.01, 0.5, 1, 3, 17)] + [plain.step.width * k for k in (1, 2, 5)]
        assert [plain.step.count(t) for t in volumes] == [fast.step.count(t) for t in volumes]


def _assert_on_its_line(s, d, value):
    """The curve of linear driver ``d``'s option read at ``value`` (a breakdown) against the point
    on the line through today's curve and the one read at twice today's value."""
    sv = d.set(s, value)
    plain, fast = curve(sv, d.option), on_line(d, s, value, curve(s, d.option), {})
    far = curve(d.set(s, 2 * d.get(s)), d.option)
    # amounts compared at the scale of the option's cost (its fixed part is a difference of items)
    t = s.volume.daily_tokens
    size = max(1.0, abs(plain.at(t)), abs(far.at(t)), abs(plain.one_time), abs(far.one_time))
    for a, b, per in ((plain.fixed, fast.fixed, 1.0), (plain.one_time, fast.one_time, 1.0),
                      (plain.token_slope, fast.token_slope, t), (plain.other_slope, fast.other_slope, t)):
        assert abs(a - b) * per <= 1e-12 * size, (d.key, a, b)
    assert (plain.step is None) == (fast.step is None)
    if plain.step is not None:
        assert abs(plain.step.cost - fast.step.cost) <= 1e-12 * max(1.0, abs(plain.step.cost), abs(far.step.cost)), d.key
        assert plain.step.width == fast.step.width
        volumes = [s.volume.daily_tokens * x for x in (0.01, 0.5, 1, 3, 17)] + [plain.step.width * k for k in (1, 2, 5)]
        assert [plain.step.count(t) for t in volumes] == [fast.step.count(t) for t in volumes], d.key
    months = [s.volume.daily_tokens * 1.05 ** m for m in range(s.horizon.months)]
    assert (plain.cash is None) == (fast.cash is None)
    if plain.cash is not None:
        a, b = plain.cash(months), fast.cash(months)
        assert a.units_bought == b.units_bought
        for x, y in [(a.at_start, b.at_start), (a.capex, b.capex), (a.terminal_value, b.terminal_value),
                     (a.depreciation, b.depreciation), (a.interest, b.interest), *zip(a.by_month, b.by_month)]:
            assert abs(x - y) <= 1e-12 * max(1.0, abs(a.capex), abs(x)), (d.key, x, y)
    npv_plain, npv_fast = horizon_npv(sv, plain, d.option), horizon_npv(sv, fast, d.option)
    assert abs(npv_plain - npv_fast) <= 1e-12 * max(1.0, abs(npv_plain)), (d.key, npv_plain, npv_fast)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(scenarios(growth=True), on_prem_scenarios()), st.floats(0.05, 6.0))
def test_a_linear_drivers_curve_lies_on_its_line(s, factor):
    """A driver marked linear (a price, a headcount, a salary) moves every amount of its option
    affinely and no unit count: the curve read at any value is the point on the line through
    today's curve and the one read at twice today's value (sensitivity.on_line), which the
    tornado and the flip search read instead of a breakdown per value: the same fixed cost,
    slopes, one-time cost, unit cost and counts, hardware cash month by month and NPV."""
    linear = [d for d in drivers(s) if d.linear and d.get(s)]
    assert linear  # every scenario has an API price at least
    for d in linear:
        _assert_on_its_line(s, d, d.get(s) * factor)


def test_every_preset_and_example_linear_driver_lies_on_its_line():
    """The options as shipped (long-context price tiers, cache writes, reasoning tokens, tool
    calls, spot, reserved terms, bought servers, composites' components): each linear driver at
    a quarter, 0.9x, 1.1x and 4x today's value."""
    checked = set()
    for name, ev in _evaluations():
        for d in drivers(ev.scenario):
            if d.linear and d.get(ev.scenario):
                for factor in (0.25, 0.9, 1.1, 4.0):
                    _assert_on_its_line(ev.scenario, d, d.get(ev.scenario) * factor)
                checked.add(d.key)
    assert checked == {"api_prices", "ft_prices", "infra", "fte", "fte_cost", "server_price", "power_price"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(growth=True))
def test_the_utilization_grid_is_the_plain_costs(s):
    """Each cell of the utilization x volume grid is the self-hosted option's cost, with its
    utilization (stated, or the target in capacity mode: a restepped curve) set, less the API's, at
    that volume: what option_total gives."""
    g = grid(s)
    field = "utilization" if s.option("self_hosted").mode == "simple" else "target_utilization"
    for i, u in enumerate(g.utilizations):
        su = s.with_option(s.option("self_hosted").model_copy(update={field: u}))
        for j, t in enumerate(g.tokens_per_day):
            want = option_total(su, "self_hosted", t) - option_total(s, "api", t)
            size = max(1.0, option_total(su, "self_hosted", t), option_total(s, "api", t))
            assert abs(g.difference[i][j] - want) <= 1e-9 * size, (u, t, g.difference[i][j], want)
            assert g.cheaper[i][j] == ("self_hosted" if g.difference[i][j] < 0 else "api")


def _evaluations():
    from tests.golden_files import evaluations
    return list(evaluations())


@pytest.mark.parametrize("name,ev", _evaluations(), ids=lambda x: x if isinstance(x, str) else "")
def test_flip_points_are_the_plain_search(name, ev):
    """Every preset, example and business unit: the flip search with its shortcuts finds the flip
    the plain search (every curve re-read at every value, every flip bisected) finds, within the
    bisection's tolerance (both lie within relative 1e-12 of the same flip; measured: at most
    2e-13 apart; a rate moved by points to its float spacing), and the same option. The plain
    search scans both sides whole and takes the nearer flip; the engine's scans the second side
    only as far as the first side's flip (the self-host-the-bulk mix flips on both sides of its
    GPU price, of its throughput and of growth)."""
    s, rec = ev.scenario, ev.recommendation
    by_key = {(d.key, d.option): d for d in drivers(s)}
    for fp in ev.flips:
        d = dataclasses.replace(by_key[(fp.driver, fp.option)], affine=False)  # the plain scan
        plain = _plain_gap(s, d, rec.cheapest_allowed_option, rec.allowed_options)
        found = []
        for end in (fp.searched_low, fp.searched_high):
            hit = _flip_towards(d, fp.base_value, end, plain, monotonic=d.option is not None, solve=_bisect)
            if hit is not None:
                distance = (abs(hit[0] - fp.base_value) if (d.points is not None or fp.base_value == 0)
                            else abs(math.log(hit[0] / fp.base_value)))
                found.append((distance, *hit))
        value, to = (min(found)[1:] if found else (None, None))
        assert (fp.value is None) == (value is None), (fp.driver, fp.value, value)
        if value is not None:
            assert abs(fp.value - value) <= _tolerance(d, value), (fp.driver, fp.value, value)
            assert fp.to_option == to


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(growth=True))
def test_an_affine_driver_that_does_not_flip_at_its_ends_does_not_flip_between(s):
    """The review share moves every NPV affinely, so the gap is convex: probing the ends of a side
    gives exactly what scanning the side gives (None, or the same scan; a near-tie is scanned)."""
    ids = s.option_ids()
    for d in drivers(s):
        if not d.affine:
            continue
        base = d.get(s)
        if not base:
            continue
        lo, hi = search_range(d, base)
        for chosen in ids:
            gap = _plain_gap(s, d, chosen, ids)
            for end in (lo, hi):
                fast = _flip_towards(d, base, end, gap, monotonic=False)
                assert fast == _flip_towards(dataclasses.replace(d, affine=False), base, end, gap, monotonic=False)


# --- Exact flips at unit-count steps (issue #13 item 8) ---------------------------------------
# Between two values of a driver where a unit count changes, every count is constant and the
# gap is continuous; the search solves a flip there exactly (flips._solve) instead of bisecting
# a jump to 1e-12. "Plain" is the search as it was: every curve re-read, every flip bisected.


def _tolerance(d, value):
    """How far two searches that each locate a flip to the bisection's tolerance may lie apart:
    each within TOLERANCE of the same flip (a rate moved by points: or its float spacing)."""
    return 2 * TOLERANCE * max(abs(value), 1e-12) + (2 * RESOLUTION * (1 + abs(value)) if d.points is not None else 0.0)


def _cheapest(s, allowed):
    ids = list(allowed)
    npvs = {o: horizon_npv(s, curve(s, o), o) for o in ids}
    return npvs, min(ids, key=lambda o: npvs[o])


def _assert_exact_flips_are_plain(s):
    ids = s.option_ids()
    for chosen in ids[:2]:
        gap_of = gaps(s, chosen, ids)
        for d in drivers(s):
            base = d.get(s)
            if base is None or (base == 0 and d.points is None):
                continue
            lo, hi = search_range(d, base)
            for end in (lo, hi):
                plain_gap = _plain_gap(s, d, chosen, ids)
                plain = _flip_towards(d, base, end, plain_gap, monotonic=d.option is not None, solve=_bisect)
                fast_gap = gap_of(d)
                fast = _flip_towards(d, base, end, fast_gap, monotonic=d.option is not None)
                assert (fast is None) == (plain is None), (d.key, fast, plain)
                if fast is None or abs(fast[0] - plain[0]) <= _tolerance(d, plain[0]):
                    if fast is not None:
                        assert fast[1] == plain[1] or abs(plain_gap(fast[0])[0]) <= NEAR_TIE * plain_gap.scale(fast[0]), (d.key, fast, plain)
                    continue
                # two flips in one bracket of the scan (the order alternating at GPU steps): each search
                # finds one; the exact one is a flip of the plain gap too, located as tightly
                value, option = fast
                inner = value - (value - base) / abs(value - base) * _tolerance(d, value) if value != base else value
                assert plain_gap(value)[0] > 0 and plain_gap(inner)[0] <= 0, (d.key, value, plain)
                # the recommendation's cost basis on both sides is the plain evaluation's
                for v, want in ((inner, chosen), (value, option)):
                    sv = d.set(s, v)
                    npvs, cheapest = _cheapest(sv, ids)
                    if abs(npvs[want] - npvs[cheapest]) > NEAR_TIE * max(abs(x) for x in npvs.values()):
                        assert cheapest == want, (d.key, v, cheapest, want)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(capacity=True, growth=True))
def test_exact_flips_are_the_bisected_flips(s):
    """Each flip the exact solve finds is the plain bisection's, within the bisection's tolerance
    and to the same option, or (two flips in one bracket of the scan) a flip of the plain gap that
    is located as tightly, the plain evaluation's cheapest option on each side of it."""
    _assert_exact_flips_are_plain(s)


def test_exact_flips_where_a_count_ratio_moves_by_an_ulp():
    # found by hypothesis: at a target utilization of 1 - 1 ulp two probes' unit-count ratios differ
    # by an ulp and their logarithms are equal (the slope divided by zero)
    s = Scenario.model_validate({
        "name": "prop", "volume": {"tokens_per_day": 1000.0, "tokens_per_request": 100.0, "input_share": 0.0},
        "options": [{"id": "api", "kind": "api", "input_price_per_1m": 1.0, "output_price_per_1m": 1.0},
                    {"id": "self_hosted", "kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 1.0,
                     "gpus_per_instance": 1, "tokens_per_second_per_gpu": 50.0, "peak_to_average": 1.0,
                     "target_utilization": 0.9999999999999999, "fte": 0.0}],
        "context": {"current_option": "api"},
        "horizon": {"months": 36, "api_price_decline_per_year": 0.0, "discount_rate_per_year": 0.0}})
    _assert_exact_flips_are_plain(s)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(on_prem_scenarios())
def test_exact_flips_are_the_bisected_flips_on_prem_and_migrating(s):
    _assert_exact_flips_are_plain(s)


def test_a_knife_edge_flip_is_solved_in_a_few_probes():
    """The preset whose cheapest split sits exactly on a GPU step flips at today's volume,
    throughput and utilization: located to the bisection's tolerance in a few probes, where the
    bisection needed some 50 each."""
    from tests.golden_files import evaluations

    ev = dict(evaluations())["preset-hybrid-selfhost-bulk-api-overflow"]
    s, rec = ev.scenario, ev.recommendation
    gap_of = gaps(s, rec.cheapest_allowed_option, rec.allowed_options)
    for d in drivers(s):
        if d.key not in ("volume", "throughput", "utilization"):
            continue
        probed: set[float] = set()
        fast = gap_of(d)

        def counted(value, fast=fast, probed=probed):
            probed.add(value)
            return fast(value)
        counted.__dict__.update(fast.__dict__)
        base = d.get(s)
        plain_gap = _plain_gap(s, d, rec.cheapest_allowed_option, rec.allowed_options)
        found = [hit for end in search_range(d, base)
                 if (hit := _flip_towards(d, base, end, counted, monotonic=d.option is not None)) is not None]
        plain = [hit for end in search_range(d, base)
                 if (hit := _flip_towards(d, base, end, plain_gap, monotonic=d.option is not None, solve=_bisect)) is not None]
        nearest = min(found, key=lambda h: abs(h[0] - base))
        assert abs(nearest[0] - base) <= 2e-12 * base, (d.key, nearest)  # at today's value
        assert abs(nearest[0] - min(plain, key=lambda h: abs(h[0] - base))[0]) <= _tolerance(d, base)
        assert len(probed) <= 16, (d.key, len(probed))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(scenarios(growth=True), on_prem_scenarios()))
def test_a_reread_curve_is_the_curve(s):
    """A composite's curve re-read for one option's driver keeps today's curves of its other
    components (curve.reread): the same as reading it whole."""
    for d in drivers(s):
        if d.option is None:
            continue
        base = d.get(s)
        value = base * 1.5 if base else 1.0
        if d.ceiling is not None:
            value = min(value, d.ceiling)
        sv = d.set(s, value)
        for o in s.dependents(d.option):
            fast, plain = reread(sv, o, curve(s, o), s.dependents(d.option)), curve(sv, o)
            for t in (1e6, s.volume.daily_tokens, 3e9):
                assert abs(fast.at(t, 0.7) - plain.at(t, 0.7)) <= 1e-12 * max(1.0, abs(plain.at(t, 0.7)))
            assert abs(horizon_npv(sv, fast, o) - horizon_npv(sv, plain, o)) <= 1e-9 * max(1.0, abs(horizon_npv(sv, plain, o)))


def test_a_reread_composite_curve_is_the_curve():
    """The presets and examples with a mix or a cascade: each component's driver re-reads the
    composite as curve() reads it whole."""
    composites = 0
    for name, ev in _evaluations():
        s = ev.scenario
        for d in drivers(s):
            if d.option is None or len(s.dependents(d.option)) == 1:
                continue
            sv = d.set(s, d.get(s) * 1.25 if d.ceiling is None else min(d.ceiling, d.get(s) * 1.25))
            for o in s.dependents(d.option)[1:]:
                composites += 1
                fast, plain = reread(sv, o, curve(s, o), s.dependents(d.option)), curve(sv, o)
                assert [(share, part) for share, part in fast.parts] == [(share, part) for share, part in plain.parts] or all(
                    abs(fast.at(t) - plain.at(t)) <= 1e-12 * abs(plain.at(t)) for t in (1e6, s.volume.daily_tokens, 5e9)), (name, d.key, o)
                assert abs(horizon_npv(sv, fast, o) - horizon_npv(sv, plain, o)) <= 1e-12 * abs(horizon_npv(sv, plain, o)), (name, d.key, o)
    assert composites > 5


def _npv_of_the_months(s, o):
    """A phased move's NPV summed from its months (curve.migration), as tco_series has them."""
    from runrate_xl.engine.curve import _month_weights, migration

    h, v = s.horizon, s.volume
    weights = _month_weights(v.daily_tokens, v.monthly_growth, h.api_price_decline_per_year, h.discount_rate_per_year, h.months)[1]
    moved = migration(s, curve(s, o), curve(s, s.context.current_option))
    return moved.one_time + sum(w * x for w, x in zip(weights, moved.monthly))


def _assert_migrating_npvs_are_the_months(s):
    from runrate_xl.engine.curve import migrating

    for o in s.option_ids():
        if migrating(s, o):
            plain = _npv_of_the_months(s, o)
            assert abs(horizon_npv(s, curve(s, o), o) - plain) <= 1e-12 * max(1.0, abs(plain)), o


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(on_prem_scenarios())
def test_a_phased_moves_npv_is_its_months(s):
    """A phased move's NPV from sums over the months each option carries (curve._migration_npv)
    is the sum of its months (curve.migration): bought servers, growth, price decline."""
    _assert_migrating_npvs_are_the_months(s)


@pytest.mark.parametrize("name", ["hybrid-selfhost-bulk-api-overflow", "cascade-mini-escalate-15pct", "buy-vs-rent-8xh100"])
@pytest.mark.parametrize("switch,overlap", [(0, 0), (0, 4), (2, 3), (40, 2)])
def test_a_phased_move_to_a_composite_npv_is_its_months(name, switch, overlap):
    from runrate_xl.catalog import resolve
    from runrate_xl.presets import presets

    s = resolve(presets()[name].scenario)
    current = s.options_of("api")[0].id
    s = s.model_copy(update={"horizon": s.horizon.model_copy(update={"switch_month": switch, "overlap_months": overlap}),
                             "context": s.context.model_copy(update={"current_option": current})})
    _assert_migrating_npvs_are_the_months(s)


# --- The stepped break-even search skips blocks of segments it proves crossing-free ---------------
# breakeven._piecewise walks the volume segments between unit-count changes; where each cost's
# envelope (its lower line, plus its band) keeps one option dearer over a block of segments, it
# only counts them. The plain walk below reads every segment, as the search did before.


def _plain_piecewise(a, b, first_only=False):
    import heapq

    from runrate_xl.engine.breakeven import MAX_SEGMENTS, ROOT_EDGE, TIE, _stop_volume

    def boundaries(steps):
        heap = [(m * w, w, m) for w, m in steps]
        heapq.heapify(heap)
        last = None
        while True:
            t, w, n = heapq.heappop(heap)
            heapq.heappush(heap, ((n + 1) * w, w, n + 1))
            if t != last:
                last = t
                yield t

    stop = _stop_volume(a, b)
    tiny = min(a.widths + b.widths) * 1e-9
    tie = TIE * (abs(a.fixed) + abs(b.fixed) + a.band + b.band)
    dearer_a = a.at(tiny) - b.at(tiny) > tie
    first, crossings, lo = ("b" if dearer_a else "a"), [], 0.0
    for n, hi in enumerate(boundaries(a.steps + b.steps), start=1):
        if n > MAX_SEGMENTS:
            return crossings, first, lo
        t1, t2 = lo + (hi - lo) * 0.25, lo + (hi - lo) * 0.75
        d1, d2 = a.at(t1) - b.at(t1), a.at(t2) - b.at(t2)
        slope = (d2 - d1) / (t2 - t1)
        d_lo = d1 - slope * (t1 - lo)
        if n > 1 and (d_lo > tie) != dearer_a:
            crossings.append(lo)
            dearer_a = not dearer_a
            if first_only:
                return crossings, first, None
        if slope != 0:
            root = lo - d_lo / slope
            if lo < root < hi * (1.0 - ROOT_EDGE) and (slope > 0) != dearer_a:
                crossings.append(root)
                dearer_a = not dearer_a
                if first_only:
                    return crossings, first, None
        if stop is not None and hi > stop * (1.0 + TIE):
            return crossings, first, None
        lo = hi


def _stepped_pairs(s):
    curves = {o: curve(s, o) for o in s.option_ids()}
    ids = list(curves)
    return [(curves[x], curves[y]) for i, x in enumerate(ids) for y in ids[i + 1:] if curves[x].widths or curves[y].widths]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(scenarios(capacity=True), scenarios(capacity=False), on_prem_scenarios()), st.booleans())
def test_the_stepped_search_skipping_proven_blocks_is_the_plain_walk(s, first_only):
    """Every crossing, which option is cheaper first, and where a search that hit the step limit
    stopped: the same as reading every segment (random scenarios, both pair orders)."""
    from runrate_xl.engine.breakeven import _piecewise

    for a, b in _stepped_pairs(s):
        for x, y in ((a, b), (b, a)):
            assert _piecewise(x, y, first_only) == _plain_piecewise(x, y, first_only)


def _hand_step(width, cost, redundancy=1.0, minimum=1):
    from runrate_xl.engine.kinds.base import Step

    return Step(width, redundancy, cost, lambda t: math.ceil(max(minimum, math.ceil(t / width)) * redundancy), minimum)


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1e5), st.floats(0, 1e-2), st.floats(1e3, 1e8), st.floats(0, 5e4), st.sampled_from([1.0, 1.5, 2.0]),
       st.integers(1, 40), st.floats(0, 1e5), st.floats(0, 1e-2), st.one_of(st.none(), st.floats(1e3, 1e8)),
       st.floats(0, 5e4), st.booleans())
def test_the_stepped_search_on_hand_made_steps_is_the_plain_walk(fa, sa, wa, ca, ra, ma, fb, sb, wb, cb, first_only):
    """Curves built by hand: one or two stepped costs of any width, unit cost (0 included: steps
    that cost nothing), redundancy and fewest units, so that some searches stop at the step limit
    and some blocks hold both costs' steps."""
    from runrate_xl.engine.breakeven import _piecewise
    from runrate_xl.engine.curve import Curve

    a = Curve(fa, sa, 0.0, _hand_step(wa, ca, ra, ma), 0.0, False)
    b = Curve(fb, sb, 0.0, _hand_step(wb, cb) if wb is not None else None, 0.0, False)
    assert _piecewise(a, b, first_only) == _plain_piecewise(a, b, first_only)
    assert _piecewise(b, a, first_only) == _plain_piecewise(b, a, first_only)


def test_a_search_that_never_crosses_reads_few_segments():
    """An API far cheaper than a GPU deployment that is nearly free per unit: the costs never
    cross; the search proves blocks of segments crossing-free instead of reading 1,000 of them,
    and says where it stopped exactly as the plain walk does."""
    from runrate_xl.engine.breakeven import MAX_SEGMENTS, _piecewise
    from runrate_xl.engine.curve import Curve

    api = Curve(100.0, 1e-6, 0.0, None, 0.0, True)
    gpus = Curve(5000.0, 0.0, 0.0, _hand_step(1e6, 1e-3), 0.0, False)  # $5,000 fixed, a unit per 1M tokens/day at $0.001
    calls = [0]

    class Counting(Curve):
        def at(self, t, price_factor=1.0):
            calls[0] += 1
            return super().at(t, price_factor)

    gpus_counted = Counting(5000.0, 0.0, 0.0, _hand_step(1e6, 1e-3), 0.0, False)
    got = _piecewise(api, gpus_counted)
    assert got == _plain_piecewise(api, gpus)
    assert got[0] == [] and got[1] == "a" and got[2] == MAX_SEGMENTS * 1e6  # searched up to the 1,000th step
    assert calls[0] < 40  # the plain walk reads each cost twice in each of 1,000 segments

"""Engine speed (issue #13 item 8) without changing a number: the shortcuts the evaluation takes
(unit counts built once, horizon counts only where units are added, break-evens solved from cost
curves and stopped at the first crossing, horizon-only drivers re-reading no cost curve) give
exactly what the plain computation gives. The timings themselves are in ``make bench``."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runrate_xl.engine import evaluate, find_breakeven
from runrate_xl.engine import functions as f
from runrate_xl.engine.breakeven import breakeven_volume, primary_pair
from runrate_xl.engine.curve import curve
from runrate_xl.engine.kinds.base import unit_counts
from runrate_xl.engine.sensitivity import drivers, tornado
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
                assert be == plain or abs(be - plain) <= 1e-9 * plain

"""Flip points: for each sensitivity driver, the value at which the cheapest allowed option over
the horizon (the recommendation's cost basis) changes, or the range in which it does not.

``gap(v) = NPV(chosen) - min over the other allowed options NPV(o)`` at driver value ``v``;
today ``gap <= 0``. A driver that belongs to one option moves only that option's cost, and
monotonically (a price, a headcount, a utilization), so the gap is monotonic in it: the end of
each side of its search range is probed and a flip there is bisected. A scenario-wide driver
(volume, review share, growth, price decline, discount rate) moves every option, so each side is
scanned on a grid (geometric for a driver moved by a share, even for one moved by points) and
the first step where the gap turns positive is bisected. The nearer flip is reported. NPVs come
from cost curves (:mod:`curve`): one breakdown per option and value, then arithmetic.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

from .curve import curve, horizon_npv, moved_with
from .errors import RunrateError
from .results import FlipPoint
from .scenario import Scenario
from .sensitivity import Driver, drivers

GRID_STEPS = 6  # grid points per side for a scenario-wide driver
MAX_ITERATIONS = 60  # root-finding steps per flip
TOLERANCE = 1e-12  # relative width of the bracket at which a flip is located
RELATIVE_RANGE = 4.0  # a driver moved by a share is searched from base / 4 to base x 4

Gap = Callable[[float], tuple[float, str]]  # the gap and the cheapest other option at a driver value


def search_range(d: Driver, base: float) -> tuple[float, float]:
    """Where the flip of driver ``d`` at ``base`` is looked for."""
    if d.points is not None:
        lo, hi = base - 4 * d.points, base + 4 * d.points
    else:
        lo, hi = base / RELATIVE_RANGE, base * RELATIVE_RANGE
    if d.floor is not None:
        lo = max(lo, d.floor)
    if d.ceiling is not None:
        hi = min(hi, d.ceiling)
    return lo, hi


def flip_points(scenario: Scenario, chosen: str, allowed: list[str]) -> list[FlipPoint]:
    """One flip point per driver that has a value: where ``chosen`` stops being the cheapest of
    ``allowed`` (option ids) over the horizon, the nearest to today's value on either side."""
    others = [o for o in allowed if o != chosen]
    if not others:
        return []
    base_curve = {o: curve(scenario, o) for o in allowed}
    base_npv = {o: horizon_npv(scenario, base_curve[o], o) for o in allowed}

    def gap_of(d: Driver) -> Gap:
        """The gap at a value of driver ``d``: the NPVs of the options it moves (their curves re-read
        when it moves a cost at a given volume, today's curves over the moved horizon otherwise),
        each value computed once (the bisection starts from values the scan already priced)."""
        # a composite moves with its components; with a phased move every option carries today's
        moved = moved_with(scenario, scenario.dependents(d.option) if d.option is not None else allowed)
        known: dict[float, tuple[float, str]] = {}

        def gap(value: float) -> tuple[float, str]:
            if value in known:
                return known[value]
            s = d.set(scenario, value)
            npvs = {o: horizon_npv(s, curve(s, o) if d.reprices else base_curve[o], o) if o in moved else base_npv[o] for o in allowed}
            best = min(others, key=lambda o: npvs[o])
            known[value] = npvs[chosen] - npvs[best], best
            return known[value]
        return gap

    out = []
    for d in drivers(scenario):
        base = d.get(scenario)
        if base is None or (base == 0 and d.points is None):
            continue
        lo, hi = search_range(d, base)
        if d.option is not None and d.option not in allowed:
            continue  # an option the constraints set aside cannot become the answer
        gap = gap_of(d)
        found: list[tuple[float, float, str]] = []  # (distance, value, option)
        for end in (lo, hi):
            hit = _flip_towards(d, base, end, gap, monotonic=d.option is not None)
            if hit is not None:
                value, option = hit
                distance = abs(value - base) if (d.points is not None or base == 0) else abs(math.log(value / base))
                found.append((distance, value, option))
        value, to = (min(found)[1:] if found else (None, None))
        out.append(FlipPoint(driver=d.key, option=d.option, label=d.label, base_value=base, searched_low=lo,
                             searched_high=hi, value=value, to_option=to))
    return out


def _grid(d: Driver, base: float, end: float, steps: int) -> list[float]:
    if d.points is not None or base == 0 or end <= 0:
        return [base + (end - base) * k / steps for k in range(1, steps + 1)]
    return [base * (end / base) ** (k / steps) for k in range(1, steps + 1)]


def _flip_towards(d: Driver, base: float, end: float, gap: Gap, monotonic: bool) -> Optional[tuple[float, str]]:
    if end == base:
        return None
    prev = base
    for v in _grid(d, base, end, 1 if monotonic else GRID_STEPS):
        try:
            g, _ = gap(v)
        except RunrateError:
            return None  # the model does not go further this way (one of its bounds)
        if g > 0:
            return _bisect(prev, v, gap)
        prev = v
    return None


def _bisect(inside: float, outside: float, gap: Gap) -> tuple[float, str]:
    """The flip between ``inside`` (gap <= 0) and ``outside`` (gap > 0), by the Illinois variant
    of regula falsi: exact in one step where the gap is linear in the driver (prices, headcount),
    and never leaving the bracket where it is not."""
    g_in = gap(inside)[0]
    g_out, option = gap(outside)
    side = 0
    for _ in range(MAX_ITERATIONS):
        if abs(outside - inside) <= TOLERANCE * max(abs(inside), abs(outside), 1e-12):
            break
        mid = outside - g_out * (outside - inside) / (g_out - g_in) if g_out != g_in else (inside + outside) / 2
        if not (min(inside, outside) < mid < max(inside, outside)):
            mid = (inside + outside) / 2
        g, o = gap(mid)
        if g > 0:
            outside, g_out, option = mid, g, o
            if side == 1:
                g_in /= 2  # Illinois: halve the stale end so the bracket keeps shrinking from both sides
            side = 1
        else:
            if g == 0:
                return mid, o  # exactly even: the flip itself
            inside, g_in = mid, g
            if side == -1:
                g_out /= 2
            side = -1
    return outside, option

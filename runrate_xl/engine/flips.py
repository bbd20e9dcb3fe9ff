"""Flip points: for each sensitivity driver, the value at which the cheapest allowed option over
the horizon (the recommendation's cost basis) changes, or the range in which it does not.

``gap(v) = NPV(chosen) - min over the other allowed options NPV(o)`` at driver value ``v``;
today ``gap <= 0``. A driver that belongs to one option moves only that option's cost, and
monotonically (a price, a headcount, a utilization), so the gap is monotonic in it: the end of
each side of its search range is probed and a flip there is bisected. A scenario-wide driver
(volume, review share, growth, price decline, discount rate) moves every option, so each side is
scanned on a grid (geometric for a driver moved by a share, even for one moved by points) and
the first step where the gap turns positive is bisected. The nearer flip is reported. NPVs come
from cost curves (:mod:`curve`): a breakdown per moved option and value only where the driver
moves what a volume costs; the volume and the horizon's drivers keep today's curves, and a driver
that moves only how much volume a unit carries re-reads only the unit count (see :func:`gaps`).
"""

from __future__ import annotations

import math
from typing import Callable, Optional

from . import functions as f
from .curve import Curve, curve, horizon_npv, migrating, moved_with, shared_memo, stepped_volumes
from .errors import RunrateError
from .kinds import is_composite
from .results import FlipPoint
from .scenario import Scenario
from .sensitivity import Driver, curve_at, drivers

GRID_STEPS = 6  # grid points per side for a scenario-wide driver
MAX_ITERATIONS = 60  # root-finding steps per flip
TOLERANCE = 1e-12  # relative width of the bracket at which a flip is located
NEAR_TIE = 1e-9  # a gap within this share of the NPVs could be a tie that float rounding tips either way
MAX_BREAKS = 20_000  # unit-count changes listed at most between two values (more: some of them)
NUDGE = 1e-13  # relative: a count change is probed this far either side (a tenth of TOLERANCE)
KNIFE_EDGE = 1e-9  # relative: a count change this close to the inside end is probed first
RESOLUTION = 4 * 2.0 ** -52  # a rate moved by points is located to this share of 1 + rate (its float spacing)
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
    if not [o for o in allowed if o != chosen]:
        return []
    gap_of = gaps(scenario, chosen, allowed)
    out = []
    for d in drivers(scenario):
        base = d.get(scenario)
        if base is None or (base == 0 and d.points is None):
            continue
        lo, hi = search_range(d, base)
        if d.option is not None and d.option not in allowed:
            continue  # an option the constraints set aside cannot become the answer
        gap = gap_of(d)
        monotonic = d.option is not None
        steps = 1 if monotonic else GRID_STEPS
        ends = [lo, hi]
        first = {}  # the gap at each side's first probe (its scan's, priced either way)
        if not d.affine:  # the side whose first probe shows the larger gap first: a flip near today shows there
            first = {end: _first_gap(d, base, end, steps, gap) for end in ends}
            ends.sort(key=first.__getitem__, reverse=True)
        found: list[tuple[float, float, str]] = []  # (distance, value, option)
        for end in ends:
            side_steps = steps
            if found:  # the nearer flip is reported: past the one found on the first side, the other side cannot give it
                near = _within(d, base, end, found[0][0])
                if _distance(d, base, near) * steps <= _distance(d, base, end):
                    # all of it before the whole side's first probe: where that probe is at or below 0,
                    # the side's scan reports no flip nearer; else probed once, at its end
                    if first.get(end, 1.0) <= 0:
                        continue
                    side_steps = 1
                end = near
            hit = _flip_towards(d, base, end, gap, monotonic=monotonic, steps=side_steps)
            if hit is not None:
                value, option = hit
                found.append((_distance(d, base, value), value, option))
        value, to = (min(found)[1:] if found else (None, None))
        out.append(FlipPoint(driver=d.key, option=d.option, label=d.label, base_value=base, searched_low=lo,
                             searched_high=hi, value=value, to_option=to))
    return out


def _distance(d: Driver, base: float, value: float) -> float:
    """How far ``value`` is from today's ``base``: in points for a rate (or from 0), else the
    log of the ratio (a halving as far as a doubling)."""
    return abs(value - base) if (d.points is not None or base == 0) else abs(math.log(value / base))


def _within(d: Driver, base: float, end: float, distance: float) -> float:
    """The value ``distance`` (:func:`_distance`) from ``base`` toward ``end``, or ``end`` if nearer."""
    if d.points is not None or base == 0:
        value = base + math.copysign(distance, end - base)
    else:
        value = base * math.exp(math.copysign(distance, math.log(end / base)))
    return value if abs(value - base) < abs(end - base) else end


def gaps(scenario: Scenario, chosen: str, allowed: list[str]) -> Callable[[Driver], Gap]:
    """For a driver, its gap function (see the module's doc): ``gap(v) = (NPV(chosen) - min over
    the other allowed options NPV(o), that option)`` at driver value ``v``."""
    others = [o for o in allowed if o != chosen]
    base_curve = {o: curve(scenario, o) for o in allowed}
    base_npv = {o: horizon_npv(scenario, base_curve[o], o) for o in allowed}
    current = scenario.context.current_option
    today: dict[str, Curve] = {}  # today's option's curve, read once if a phased move needs it
    lines = shared_memo(scenario, "lines")  # linear drivers' lines, shared with the tornado

    def gap_of(d: Driver) -> Gap:
        """The gap at a value of driver ``d``: the NPVs of the options it moves, from their cost
        curves at that value, each value computed once (the bisection starts from values the scan
        already priced). A curve is re-read (one breakdown) only where the driver moves what a
        volume costs: a driver of the horizon alone (growth, decline, discount) and the volume
        (every option keeps today's hardware) keep today's curves, and a driver that moves only
        how much volume a unit carries (``Driver.sizes_only``) re-reads only the unit count
        (:func:`curve.restepped`). A phased move's NPVs carry today's option, whose curve is
        passed along rather than re-read unless the driver moves it."""
        # a composite moves with its components; with a phased move every option carries today's
        owners = scenario.dependents(d.option) if d.option is not None else allowed
        moved = moved_with(scenario, owners)
        keeps = not d.reprices or d.curves_stay
        known: dict[float, tuple[float, str]] = {}
        largest: dict[float, float] = {}
        against: dict[float, dict[str, float]] = {}  # per value priced: NPV(chosen) - NPV(o) for each other option
        counted: dict[float, object] = {}  # per value priced: the unit counts its NPVs read (see breaks), read when first needed

        def gap(value: float) -> tuple[float, str]:
            if value in known:
                return known[value]
            s = d.set(scenario, value)
            if keeps:
                curves = {o: base_curve[o] for o in moved if o in allowed}
            else:  # as the tornado reads them (sensitivity.curve_at): restepped, on a linear driver's line, or re-read
                curves = {}
                for o in sorted((o for o in moved if o in allowed), key=lambda o: is_composite(s.option(o))):  # components first
                    curves[o] = curve_at(d, s, o, owners, base_curve, curves, (scenario, value, lines))
            before = _today(s, curves)
            npvs = {o: horizon_npv(s, curves[o], o, today=before) if o in moved else base_npv[o] for o in allowed}
            best = min(others, key=lambda o: npvs[o])
            known[value] = npvs[chosen] - npvs[best], best
            against[value] = {o: npvs[chosen] - npvs[o] for o in others}
            largest[value] = max(abs(x) for x in npvs.values())
            counted[value] = lambda: [x for o in moved if o in allowed for x in stepped_volumes(s, curves[o], o, today=before)]
            return known[value]

        def breaks(a: float, b: float, until: Optional[float] = None, most: int = MAX_BREAKS) -> Optional[list[float]]:
            """The driver values strictly between ``a`` and ``b`` (both priced) at which a unit
            count the moved NPVs read may change, ordered from ``a`` to ``b``; None where they
            cannot be told (see :func:`_count_breaks`)."""
            if a not in counted or b not in counted:
                return None
            for v in (a, b):
                if callable(counted[v]):
                    counted[v] = counted[v]()  # type: ignore[operator]
            return _count_breaks(counted[a], counted[b], a, b, d.points is not None, until, most)  # type: ignore[arg-type]

        def scale(value: float) -> float:
            """The largest NPV (in absolute value) at a value already priced."""
            return largest[value]
        gap.scale = scale  # type: ignore[attr-defined]
        gap.breaks = breaks  # type: ignore[attr-defined]
        gap.against = against.get  # type: ignore[attr-defined]
        if d.points is not None:  # a rate enters as 1 + v (growth, discount) or 1 - v (decline): no finer than its float spacing
            gap.resolution = lambda v: RESOLUTION * (1.0 + abs(v))  # type: ignore[attr-defined]

        def _today(s: Scenario, curves: dict[str, Curve]) -> Optional[Curve]:
            """Today's option's curve at this value, when known without a breakdown (None: read it)."""
            if not migrating(s, chosen) and not any(migrating(s, o) for o in others):
                return None
            if current in curves:
                return curves[current]
            if keeps or current not in owners:
                if current not in today:
                    today[current] = base_curve[current] if current in base_curve else curve(scenario, current)
                return today[current]
            return None
        return gap
    return gap_of


def _grid(d: Driver, base: float, end: float, steps: int) -> list[float]:
    if d.points is not None or base == 0 or end <= 0:
        return [base + (end - base) * k / steps for k in range(1, steps + 1)]
    return [base * (end / base) ** (k / steps) for k in range(1, steps + 1)]


def _first_gap(d: Driver, base: float, end: float, steps: int, gap: Gap) -> float:
    """The gap at the first value the scan toward ``end`` probes (-inf past a bound of the model)."""
    if end == base:
        return -math.inf
    try:
        return gap(_grid(d, base, end, steps)[0])[0]
    except RunrateError:
        return -math.inf


def _flip_towards(d: Driver, base: float, end: float, gap: Gap, monotonic: bool,
                  solve: Optional[Callable[[float, float, Gap], tuple[float, str]]] = None,
                  steps: Optional[int] = None) -> Optional[tuple[float, str]]:
    if end == base:
        return None
    if d.affine and not monotonic and _below_at_both_ends(gap, base, end):
        return None  # a convex gap below 0 at both ends of the side is below 0 between (Driver.affine)
    prev = base
    for v in _grid(d, base, end, steps or (1 if monotonic else GRID_STEPS)):
        try:
            g, _ = gap(v)
        except RunrateError:
            return None  # the model does not go further this way (one of its bounds)
        if g > 0:
            return (solve or _solve)(prev, v, gap)
        prev = v
    return None


def _below_at_both_ends(gap: Gap, base: float, end: float) -> bool:
    """Whether the gap is below 0 at ``base`` and ``end`` by more than float rounding could move it
    (1e-9 of the largest NPV there, ``gap.scale``): a tie at either end is left to the scan."""
    scale = getattr(gap, "scale", None)
    if scale is None:
        return False
    try:
        ends = [gap(base)[0], gap(end)[0]]
    except RunrateError:
        return False  # the scan stops at the bound as before
    margin = NEAR_TIE * max(scale(base), scale(end))
    return all(g < -margin for g in ends)


def _count_breaks(at_a: list, at_b: list, a: float, b: float, points: bool, until: Optional[float] = None,
                  most: int = MAX_BREAKS) -> Optional[list[float]]:
    """Where between driver values ``a`` and ``b`` a unit count changes, from the counts read at
    both (``curve.stepped_volumes``: (step, volumes) pairs in the same order at both values),
    ordered from ``a``; only those before ``until`` (a value between, default ``b``).

    A count is a function of the ratio ``r = volume / width`` alone (``Step``): it changes where
    ``r`` passes ``k / (1 - UNIT_SNAP)`` for a whole ``k`` of at least the step's fewest units
    (``functions.whole_units``). Every driver that moves a ratio moves it as a power of the value
    (volume, a throughput or target utilization, a stated utilization: ``r`` proportional to
    ``v`` or ``1 / v``) or, for growth, month m's as ``(1 + g)^(m - 1)``: ``log r`` is linear in
    ``log v`` (``log (1 + v)`` for a driver moved by points), so each crossing is solved from the
    ratios at the two ends. The flip search only uses these values to choose where to probe (a
    flip it reports is bracketed by probes), so an estimate off by float rounding costs a probe,
    never a wrong value. None: the counts at ``a`` and ``b`` do not pair up. With more than
    ``most`` changes, ``most + 1`` of them (the search only needs to know there are more)."""
    if len(at_a) != len(at_b):
        return None
    lift = (lambda v: math.log1p(v)) if points else math.log
    try:
        span = lift(b) - lift(a)
    except ValueError:
        return None
    if span == 0:
        return None
    stop = b if until is None else until
    snap = 1.0 - f.UNIT_SNAP
    out: set[float] = set()
    seen: set[tuple[float, float, int]] = set()
    for (step_a, xs_a), (step_b, xs_b) in zip(at_a, at_b):
        if len(xs_a) != len(xs_b):
            return None
        if step_a.width == step_b.width and xs_a == xs_b:
            continue  # this count does not move
        fewest = step_a.minimum
        for xa, xb in zip(xs_a, xs_b):
            ra, rb = xa / step_a.width, xb / step_b.width
            if ra == rb or ra <= 0 or rb <= 0 or (ra, rb, fewest) in seen:
                continue
            seen.add((ra, rb, fewest))
            rise = math.log(rb) - math.log(ra)
            if rise == 0:  # ra, rb a few ulp apart: no whole count between them
                continue
            slope = span / rise
            # from a's side: each whole k whose crossing r* = k / snap lies between ra and rb, nearest first
            if rb > ra:
                k, last, direction = max(fewest, math.ceil(ra * snap)), rb, 1
            else:
                k, last, direction = math.floor(ra * snap), rb, -1
            while k >= fewest and (k / snap <= last if direction > 0 else k / snap >= last):
                r = k / snap
                if (r >= ra) if direction > 0 else (r < ra):
                    u = lift(a) + (math.log(r) - math.log(ra)) * slope
                    v = math.expm1(u) if points else math.exp(u)
                    if (v - stop) * (stop - a) >= 0:
                        break  # at or past until: the next ones are further
                    if (v - a) * (stop - a) <= 0:
                        k += direction
                        continue  # at a itself (float rounding): not between
                    out.add(v)
                    if len(out) > most:
                        return sorted(out, reverse=b < a)  # more than most: some of them
                k += direction
    return sorted(out, reverse=b < a)


def _solve(inside: float, outside: float, gap: Gap) -> tuple[float, str]:
    """The flip between ``inside`` (gap <= 0) and ``outside`` (gap > 0), by the Illinois variant
    of regula falsi: exact in one step where the gap is linear in the driver (prices, headcount),
    and never leaving the bracket where it is not.

    Where a unit count steps, the gap jumps, and a bracket around a jump only halves until it
    is ``TOLERANCE`` wide (some 40 steps). Where the gap knows its pieces (``gap.breaks``: the
    driver values at which a count changes), the bracket is narrowed as before only until it
    holds one such value; between two count changes every count is constant and the gap is
    continuous (affine for the volume, constant for a driver that moves only how much a unit
    carries), so the flip is then solved exactly: probed ``NUDGE`` either side of the count
    change, it is the jump there (the two probes bracket it, 2 x NUDGE apart, inside the
    tolerance) or a root on one side, which regula falsi finds within that continuous piece."""
    breaks = getattr(gap, "breaks", None)
    resolution = getattr(gap, "resolution", lambda v: 0.0)
    g_in = gap(inside)[0]
    g_out, option = gap(outside)
    side = 0
    pieces = breaks is not None  # whether the bracket may still hold more than one count change
    toward = 1.0 if outside > inside else -1.0
    if pieces:  # a count change right next to inside (a split or fleet sitting on a step): the flip is likely there
        edge = inside + KNIFE_EDGE * (abs(inside) + resolution(inside) / RESOLUTION) * toward
        cuts = breaks(inside, outside, edge if (outside - edge) * toward > 0 else None)  # type: ignore[misc]
        if cuts:
            after = cuts[0] + max(NUDGE * abs(cuts[0]), resolution(cuts[0])) * toward
            if (outside - after) * toward > 0:
                g, o = gap(after)
                if g > 0:
                    outside, g_out, option = after, g, o
                else:
                    inside, g_in = after, g
                    if len(cuts) > 2 and (outside - edge) * toward > 0:
                        # many count changes right there (a step in every month as growth starts): the
                        # flip, if it is within the edge, lies between two of them; halve over them
                        g_edge, o_edge = gap(edge)
                        if g_edge > 0:
                            inside, g_in, outside, g_out, option = _between_cuts(
                                inside, edge, [c for c in cuts[1:] if (c - after) * toward > 0], gap, resolution)
                        else:
                            inside, g_in = edge, g_edge
    for _ in range(MAX_ITERATIONS):
        if abs(outside - inside) <= max(TOLERANCE * max(abs(inside), abs(outside), 1e-12), 2 * resolution(inside)):
            break
        if pieces:
            cuts = breaks(inside, outside, None, 1)  # type: ignore[misc]
            if cuts is None or len(cuts) <= 1:  # unknown, or one count change at most: no need to ask again
                pieces = False
            if cuts is not None and len(cuts) == 1:
                step = max(NUDGE * abs(cuts[0]), resolution(cuts[0])) * toward
                before, after = cuts[0] - step, cuts[0] + step
                if (before - inside) * toward > 0 and (outside - after) * toward > 0:
                    g, o = gap(before)
                    if g > 0:  # a root before the count change
                        outside, g_out, option, side = before, g, o, 0
                        continue
                    inside, g_in, side = before, g, 0
                    g, o = gap(after)
                    if g > 0:  # the jump at the count change is the flip
                        return after, o
                    inside, g_in = after, g  # a root after the count change
                    continue
        mid = secant = (_pair_root(inside, outside, gap) if side == 0 else None) or (
            outside - g_out * (outside - inside) / (g_out - g_in) if g_out != g_in else (inside + outside) / 2)
        if not (min(inside, outside) < mid < max(inside, outside)):
            mid = (inside + outside) / 2
        g, o = gap(mid)
        if g == 0:
            return mid, o  # exactly even: the flip itself
        if mid == secant and abs(g) <= NEAR_TIE * max(abs(g_in), abs(g_out)):
            # regula falsi landed on the root to float rounding (an affine gap: a price, a headcount):
            # close the bracket there with one probe half the tolerance away rather than halving to it
            step = 0.5 * TOLERANCE * max(abs(mid), 1e-12) * toward
            near = mid + step if g <= 0 else mid - step
            if min(inside, outside) < near < max(inside, outside):
                g_near, o_near = gap(near)
                if g <= 0 and g_near > 0:
                    return near, o_near
                if g > 0 and g_near <= 0:
                    return mid, o
        inside, g_in, outside, g_out, option, side = _illinois(mid, g, o, inside, g_in, outside, g_out, option, side)
    return outside, option


def _pair_root(inside: float, outside: float, gap: Gap) -> Optional[float]:
    """The first value from ``inside`` where the chosen option's NPV, read as a line between
    ``inside`` and ``outside`` against each other option's, passes it: the flip itself where
    every NPV is affine in the driver over the bracket (a price, a headcount, the volume between
    two count changes), whichever option takes over; the gap, a maximum of such differences, is
    kinked where the cheapest other option changes, which plain regula falsi crawls along.
    None where the differences are not known."""
    against = getattr(gap, "against", None)
    at_in, at_out = (against(inside), against(outside)) if against is not None else (None, None)
    if not at_in or not at_out:
        return None
    first = None
    for o, d_in in at_in.items():
        d_out = at_out.get(o)
        if d_out is not None and d_in <= 0 < d_out:
            root = inside + (outside - inside) * (-d_in / (d_out - d_in))
            if first is None or abs(root - inside) < abs(first - inside):
                first = root
    return first if first is not None and min(inside, outside) < first < max(inside, outside) else None


def _between_cuts(inside: float, outside: float, cuts: list[float], gap: Gap,
                  resolution: Callable[[float], float]) -> tuple[float, float, float, float, str]:
    """A bracket of a flip between ``inside`` (gap <= 0) and ``outside`` (gap > 0) with the count
    changes ``cuts`` between them (ordered from inside): one value in each piece between two of
    them is probed, halving, until two neighbouring pieces differ; the count change between them
    is then probed just either side. Returns (inside, its gap, outside, its gap, option) of the
    tightest bracket probed: the jump at that count change when it is the flip (two probes
    2 x NUDGE apart), else the two pieces for :func:`_solve` to go on in."""
    toward = 1.0 if outside > inside else -1.0
    ends = [inside, *cuts, outside]
    probes = [inside] + [(x + y) / 2 for x, y in zip(ends[1:-2], ends[2:-1])] + [outside]  # probes[i]: the piece after cuts[i - 1]
    lo, hi = 0, len(probes) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if gap(probes[mid])[0] > 0:
            hi = mid
        else:
            lo = mid
    a, b = probes[lo], probes[hi]
    if 0 < hi <= len(cuts):
        cut = cuts[hi - 1]
        step = max(NUDGE * abs(cut), resolution(cut)) * toward
        for v in (cut - step, cut + step):
            if (v - a) * toward > 0 and (b - v) * toward > 0:
                if gap(v)[0] > 0:
                    b = v
                    break
                a = v
    g_b, option = gap(b)
    return a, gap(a)[0], b, g_b, option


def _bisect(inside: float, outside: float, gap: Gap) -> tuple[float, str]:
    """The flip between ``inside`` (gap <= 0) and ``outside`` (gap > 0) by the Illinois variant of
    regula falsi alone, as the search located every flip before :func:`_solve` (the reference
    the tests compare it with)."""
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
        if g == 0:
            return mid, o  # exactly even: the flip itself
        inside, g_in, outside, g_out, option, side = _illinois(mid, g, o, inside, g_in, outside, g_out, option, side)
    return outside, option


def _illinois(mid: float, g: float, o: str, inside: float, g_in: float, outside: float, g_out: float, option: str,
              side: int) -> tuple[float, float, float, float, str, int]:
    """One step of the Illinois variant of regula falsi: the probe at ``mid`` (gap ``g`` != 0)
    replaces the end on its side; an end kept twice in a row has its gap halved, so the bracket
    keeps shrinking from both sides. Returns inside, g_in, outside, g_out, option, side."""
    if g > 0:
        return inside, (g_in / 2 if side == 1 else g_in), mid, g, o, 1
    return mid, g, outside, (g_out / 2 if side == -1 else g_out), option, -1

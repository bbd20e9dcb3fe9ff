"""The cheapest split of a mix (issue 14 item 2): the route that minimises the horizon cost (NPV)
under the mix's constraints, and the cost curve over the split.

The NPV of a route is the sum of its components' NPVs, each at its share of every month's volume
(``curve.horizon_npv`` with ``scale = share``); a component at share 0 is not run and costs 0.

- **Two components** (share ``x`` to the first, ``1 - x`` to the second): exact. Between the
  shares where some month's unit count of a stepped component changes (``x t_m = k w`` for the
  first, ``(1 - x) t_m = k w`` for the second; ``w`` the step width, ``t_m`` month m's volume)
  every count is constant, so the NPV is affine in ``x`` and its minimum over a piece lies at an
  end. The search evaluates the bounds the constraints leave (``[lo, hi]``), every such break
  point and the shares just either side of it (``BREAK_EDGE`` relative), and returns the
  cheapest. An affine pair is decided by its two ends (and share 0's jump: fixed costs vanish).
  More than ``MAX_BREAKS`` break points fall back to the grid below.
- **Three or more components**: a grid over the simplex at the finest of 1%, 2%, 5%, 10%, 20%
  steps that stays under ``MAX_GRID`` routes, then a local refinement: shares moved between
  each pair of components in steps halving from half a grid step down to 1e-6, keeping every
  move that lowers the NPV and meets the constraints. This finds the optimum of piecewise-affine
  costs up to the grid's resolution; a cheaper route between grid points across a capacity step
  can be missed (the result says ``method: grid``).

The curve varies the share of the mix's first component from 0 to 1 in 1% steps, the others
keeping their proportions of the best route (for two components: exactly the split).
"""

from __future__ import annotations

import itertools
from typing import Optional

from pydantic import ValidationError

from .curve import Curve, curve, horizon_npv, month_volumes
from .option_cost import option_total
from .errors import InputError
from .kinds import MixOption, components, sends_data_out
from .kinds.composite import constraint_violation, route_bounds
from .results import BestSplit, SplitPoint
from .scenario import Scenario

BREAK_EDGE = 1e-9  # shares this close (relative) either side of a break point are evaluated too
MAX_BREAKS = 20_000
MAX_GRID = 20_000
CURVE_STEPS = 100
REFINE_FLOOR = 1e-6


class _Costs:
    """NPV and today's monthly cost of a route, read from the components' cost curves."""

    def __init__(self, scenario: Scenario, mix: MixOption):
        self.scenario = scenario
        self.ids = [cid for cid, _ in components(mix)]
        self.curves: dict[str, Curve] = {cid: curve(scenario, cid) for cid in self.ids}
        self.t0 = scenario.volume.daily_tokens
        sends = {cid: sends_data_out(scenario, scenario.option(cid)) for cid in self.ids}
        self.bounds = route_bounds(mix, sends)

    def npv(self, route: dict[str, float]) -> float:
        return sum(horizon_npv(self.scenario, self.curves[c], scale=s) for c, s in route.items() if s > 0)

    def monthly(self, route: dict[str, float]) -> float:
        return sum(self.curves[c].at(s * self.t0) for c, s in route.items() if s > 0)

    def feasible(self, route: dict[str, float]) -> bool:
        return constraint_violation(route, *self.bounds) is None


def _pair_range(costs: _Costs) -> tuple[float, float]:
    """[lo, hi] of the first component's share the constraints allow (two components)."""
    a, b = costs.ids
    lo, hi = 0.0, 1.0
    in_house, quality = costs.bounds
    if quality is not None:
        cid, q = quality
        lo, hi = (max(lo, q), hi) if cid == a else (lo, min(hi, 1.0 - q))
    if in_house is not None:
        ids, m = in_house
        if a in ids and b not in ids:
            lo = max(lo, m)
        elif b in ids and a not in ids:
            hi = min(hi, 1.0 - m)
    return lo, hi


def _breaks(costs: _Costs, lo: float, hi: float) -> Optional[list[float]]:
    """Shares of the first component where a month's unit count of a component changes, in
    [lo, hi]; None when there are more than MAX_BREAKS."""
    a, b = costs.ids
    volumes = set(month_volumes(costs.scenario)) | {costs.t0}
    out: set[float] = set()
    for cid, sign in ((a, 1.0), (b, -1.0)):
        for w in costs.curves[cid].widths:
            for t in volumes:
                if t <= 0:
                    continue
                k = 1
                while k * w <= t:  # share k w / t <= 1
                    s = k * w / t
                    x = s if sign > 0 else 1.0 - s
                    if lo <= x <= hi:
                        out.add(x)
                    if len(out) > MAX_BREAKS:
                        return None
                    k += 1
    return sorted(out)


def _two(costs: _Costs) -> tuple[dict[str, float], str]:
    a, b = costs.ids
    lo, hi = _pair_range(costs)
    breaks = _breaks(costs, lo, hi)
    if breaks is None:
        return _grid(costs), "grid"
    xs = {lo, hi}
    for x in breaks:
        for y in (x * (1 - BREAK_EDGE), x, x * (1 + BREAK_EDGE) if x > 0 else BREAK_EDGE):
            if lo <= y <= hi:
                xs.add(y)
    # a share of 0 to either component saves its fixed costs: the pure ends are candidates as given above
    best = min(sorted(xs), key=lambda x: costs.npv({a: x, b: 1.0 - x}))
    return {a: best, b: 1.0 - best}, "exact"


def _simplex(n: int, steps: int):
    for cut in itertools.combinations(range(steps + n - 1), n - 1):
        parts, prev = [], -1
        for c in cut:
            parts.append(c - prev - 1)
            prev = c
        parts.append(steps + n - 2 - prev)
        yield [p / steps for p in parts]


def _grid_steps(n: int) -> int:
    from math import comb

    return next((s for s in (100, 50, 20, 10, 5) if comb(s + n - 1, n - 1) <= MAX_GRID), 5)


def _grid(costs: _Costs) -> dict[str, float]:
    ids = costs.ids
    steps = _grid_steps(len(ids))
    best, best_npv = None, float("inf")
    for shares in _simplex(len(ids), steps):
        route = dict(zip(ids, shares))
        if not costs.feasible(route):
            continue
        v = costs.npv(route)
        if v < best_npv:
            best, best_npv = route, v
    if best is None:  # the given route is feasible, so the grid missed a narrow feasible region
        raise InputError("route", None, "a route the constraints allow on a grid of the shares")
    delta = 0.5 / steps
    while delta >= REFINE_FLOOR:
        improved = False
        for i, j in itertools.permutations(ids, 2):
            if best[i] < delta:
                continue
            trial = {**best, i: best[i] - delta, j: best[j] + delta}
            if costs.feasible(trial):
                v = costs.npv(trial)
                if v < best_npv:
                    best, best_npv, improved = trial, v, True
        if not improved:
            delta /= 2
    return best


def best_split(scenario: Scenario, mix_id: str) -> BestSplit:
    """The route of mix ``mix_id`` with the lowest horizon NPV under its constraints, the NPV and
    monthly cost of the route as given, and the cost curve over the first component's share."""
    mix = scenario.option(mix_id)
    if not isinstance(mix, MixOption):
        raise InputError("option", mix_id, "a mix option (kind: mix)")
    costs = _Costs(scenario, mix)
    best, method = _two(costs) if len(costs.ids) == 2 else (_grid(costs), "grid")
    given = dict(mix.route)
    if costs.npv(given) < costs.npv(best):  # the given route is always a candidate
        best = given
    axis, rest = costs.ids[0], costs.ids[1:]
    others = sum(best[c] for c in rest)
    weights = {c: (best[c] / others if others > 0 else 1.0 / len(rest)) for c in rest}
    points = []
    for k in range(CURVE_STEPS + 1):
        x = k / CURVE_STEPS
        route = {axis: x, **{c: (1.0 - x) * weights[c] for c in rest}}
        points.append(SplitPoint(share=x, route=route, npv=costs.npv(route), monthly=costs.monthly(route),
                                 feasible=costs.feasible(route)))
    pure = {cid: costs.npv({cid: 1.0}) for cid in costs.ids if costs.feasible({c: float(c == cid) for c in costs.ids})}
    return BestSplit(
        option=mix_id, axis=axis, route=best, npv=costs.npv(best), monthly=costs.monthly(best), method=method,
        given_route=given, given_npv=costs.npv(given), given_monthly=costs.monthly(given), pure_npv=pure, curve=points,
    )


def _route_of(scenario: Scenario, route: dict[str, float], field: str = "route") -> dict[str, float]:
    """``route`` checked as a mix would check it: options of the scenario that are not
    composites, shares in [0, 1] summing to 1."""
    try:
        checked = MixOption.model_validate({"id": "route-check", "kind": "mix", "route": route}).route
    except ValidationError as exc:
        raise InputError(field, route, exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    for cid in checked:
        option = scenario.find_option(cid)
        if option is None or option.kind in ("mix", "cascade"):
            plain = ", ".join(o.id for o in scenario.options if o.kind not in ("mix", "cascade"))
            raise InputError(field, cid, f"an option of the scenario that is not a mix or cascade ({plain})")
    return checked


def route_cost(scenario: Scenario, route: dict[str, float]) -> tuple[float, float]:
    """(today's monthly cost, horizon NPV) of sending each option of the scenario its share of the
    traffic: the sum over the options of each one's own cost at ``share x`` the volume (an option
    at share 0 is not run and costs nothing); what a mix with this route costs."""
    checked = _route_of(scenario, route)
    t0 = scenario.volume.daily_tokens
    monthly = sum(option_total(scenario, cid, share * t0) for cid, share in checked.items() if share > 0)
    npv = sum(horizon_npv(scenario, curve(scenario, cid), scale=share) for cid, share in checked.items() if share > 0)
    return monthly, npv


def best_split_of(scenario: Scenario, option_a: str, option_b: str) -> BestSplit:
    """The cheapest split of the traffic between two options of the scenario (no constraints):
    :func:`best_split` of a mix of the two, starting from half each."""
    _route_of(scenario, {option_a: 0.5, option_b: 0.5})
    ids = set(scenario.option_ids())
    mix_id = next(f"split-{k}" for k in range(len(ids) + 1) if f"split-{k}" not in ids)
    mix = MixOption(id=mix_id, kind="mix", route={option_a: 0.5, option_b: 0.5})
    return best_split(scenario.model_copy(update={"options": [*scenario.options, mix]}), mix_id)

"""An option's monthly cost as a function of volume and API price factor, read from one breakdown.

``cost(t, pf) = fixed + (token_slope x pf + other_slope) x t + unit cost x count(t)``: the
variable token items scale with the price factor (for kinds that follow the API price decline),
the other variable items with volume only, and a stepped kind adds its unit count (see
``kinds.base.Step``). The kinds' breakdowns stay the one source of every formula: a curve is
read from a breakdown at one volume, then evaluated by arithmetic, which is what lets the
break-even search and the flip points scan thousands of volumes and values cheaply.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable, Iterator, Optional, Sequence

from . import functions as f
from .kinds import CashFlows, Step, is_composite, kind_of
from .kinds.base import unit_counts
from .kinds.composite import runs, sum_flows
from .scenario import Scenario

PROBE_TOKENS_PER_DAY = 1_000_000.0  # where a curve is read when the scenario's volume is 0


@dataclass(frozen=True)
class Curve:
    fixed: float
    token_slope: float  # USD/month per token/day that scales with the API price factor
    other_slope: float  # USD/month per token/day that does not
    step: Optional[Step]
    one_time: float
    follows_decline: bool
    cash: Optional[Callable[..., CashFlows]] = None  # a kind that buys hardware: its cash over the month volumes (and unit counts)
    # (today's volume, growth, months, share) -> (unit counts, cash flows, their discounted sums per
    # discount rate) for those month volumes: pure functions of the curve and the volumes, so a
    # horizon that keeps its volumes (another discount rate or price decline) reuses them
    horizon: dict = field(default_factory=dict, compare=False, repr=False)
    # A composite (mix, cascade): (share of the volume, component curve) of each component it runs
    # (share > 0); its cost is the sum of theirs at their volumes. Its own fixed and slopes are
    # the sums at price factor 1 (what the closed-form break-even reads); ``step`` is None.
    parts: tuple[tuple[float, "Curve"], ...] = ()

    @property
    def slope(self) -> float:
        return self.token_slope + self.other_slope

    def at(self, t: float, price_factor: float = 1.0) -> float:
        """Monthly cost at ``t`` tokens/day (and an API price factor, for kinds that follow it)."""
        if self.parts:
            return sum(c.at(share * t, price_factor) for share, c in self.parts)
        pf = price_factor if self.follows_decline else 1.0
        return self.fixed + (self.token_slope * pf + self.other_slope) * t + (self.step.cost * self.step.count(t) if self.step else 0.0)

    def lower_line(self) -> tuple[float, float]:
        """(intercept, slope) of a line the cost (at price factor 1) never falls below."""
        if self.parts:
            lines = [(share, c.lower_line()) for share, c in self.parts]
            return sum(a for _, (a, _b) in lines), sum(share * b for share, (_a, b) in lines)
        return self.fixed, self.slope + (self.step.line_slope if self.step else 0.0)

    @property
    def band(self) -> float:
        if self.parts:
            return sum(c.band for _, c in self.parts)
        return self.step.band if self.step else 0.0

    @property
    def widths(self) -> list[float]:
        """The volumes (tokens/day of this option) between which its unit counts change: a
        component at share s steps every ``width / s``. Empty: the cost is affine."""
        if self.parts:
            return [w / share for share, c in self.parts for w in c.widths]
        return [self.step.width] if self.step else []

    @property
    def steps(self) -> list[tuple[float, int]]:
        """(width, fewest units) of each stepped part, as :attr:`widths`: the count cannot change
        below ``fewest x width`` (a stated fleet's servers, ``Step.minimum``; 1 elsewhere)."""
        if self.parts:
            return [(w / share, m) for share, c in self.parts for w, m in c.steps]
        return [(self.step.width, self.step.minimum)] if self.step else []


_SHARED: ContextVar[Optional[dict]] = ContextVar("runrate_curves", default=None)


@contextmanager
def shared_curves() -> Iterator[None]:
    """Within it, :func:`curve` reads each option of one scenario object once (an evaluation reads
    today's curves for its break-evens, TCO, tornado, flips and split): the curve is a pure
    function of the scenario and the option, and the scenarios are not changed once built."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared_memo(scenario: Scenario, name: str) -> dict:
    """A dict kept for one scenario object while :func:`shared_curves` is active, so that the parts
    of an evaluation share what they read about it (a fresh dict outside)."""
    memo = _SHARED.get()
    if memo is None:
        return {}
    known = memo.get((name, id(scenario)))
    if known is None or known[0] is not scenario:
        known = memo[(name, id(scenario))] = (scenario, {})  # the scenario held, so its id is not reused meanwhile
    return known[1]


def curve(scenario: Scenario, option: str) -> Curve:
    """The option's cost curve, read from its breakdown at today's volume (or a probe volume)."""
    memo = _SHARED.get()
    if memo is not None:
        known = memo.get((id(scenario), option))
        if known is not None and known[0] is scenario:
            return known[1]
    o = scenario.option(option)
    if is_composite(o):  # each component as the composite runs it (a cascade's escalating first: see composite.runs)
        c = _composite(tuple((share, _curve_of(scenario, c)) for _cid, share, c in runs(scenario, o) if share > 0))
    else:
        c = _curve_of(scenario, o)
    if memo is not None:
        memo[(id(scenario), option)] = (scenario, c)  # the scenario held, so its id is not reused meanwhile
    return c


def _composite(parts: tuple[tuple[float, Curve], ...]) -> Curve:
    return Curve(sum(c.fixed for _, c in parts), sum(s * c.token_slope for s, c in parts),
                 sum(s * c.other_slope for s, c in parts), None, sum(c.one_time for _, c in parts), False, None, parts=parts)


def reread(scenario: Scenario, option: str, today: Curve, moved: Sequence[str], read: Optional[dict[str, Curve]] = None) -> Curve:
    """:func:`curve` in a scenario that differs from the one ``today`` was read in only by the
    inputs of the ``moved`` options (one option's driver): a composite re-reads only its moved
    components and keeps today's curves of the others (each is read from its own inputs, the
    same in both); a moved component it runs as it is takes its curve from ``read`` (curves
    already read in ``scenario``, by option id) when there. Equal to :func:`curve`
    (tests/test_engine_speed.py)."""
    o = scenario.option(option)
    if not is_composite(o):
        return _curve_of(scenario, o)
    run = [(cid, share, c) for cid, share, c in runs(scenario, o) if share > 0]
    if len(run) != len(today.parts) or any(share != kept for (_, share, _), (kept, _) in zip(run, today.parts)):
        return curve(scenario, option)  # the shares moved (a cascade's escalation with its first's failures)
    read = read or {}

    def part_of(cid: str, c, part: Curve) -> Curve:
        if cid not in moved:
            return part
        if cid in read and c is scenario.option(cid):  # run as it is (not a cascade's escalating copy)
            return read[cid]
        return _curve_of(scenario, c)
    return _composite(tuple((share, part_of(cid, c, part)) for (cid, share, c), (_, part) in zip(run, today.parts)))


def _curve_of(scenario: Scenario, o) -> Curve:
    """The curve of a plain option (given as the option itself, as a composite may run a copy of it)."""
    kind = kind_of(o)
    step = kind.stepping(scenario, o)
    t = scenario.volume.daily_tokens or PROBE_TOKENS_PER_DAY
    b = kind.breakdown(scenario, o, t, 1.0)
    specs = kind.all_line_items
    token = sum(i.amount for i in b.items if i.variable and specs[i.key].token)
    other = sum(i.amount for i in b.items if i.variable and not specs[i.key].token)
    stepped = step.cost * step.count(t) if step else 0.0
    return Curve(b.total - token - other - stepped, token / t, other / t, step, b.one_time, kind.follows_api_price_decline,
                 _cash_hook(scenario, o))


def _cash_hook(scenario: Scenario, o) -> Optional[Callable[..., CashFlows]]:
    """A curve's cash over month volumes, for a kind that buys hardware (None otherwise)."""
    hook = kind_of(o).cash
    if hook is None:
        return None

    def cash(volumes: Sequence[float], counts: Optional[Sequence[int]] = None) -> CashFlows:
        return hook(scenario, o, volumes, counts)
    return cash


def restepped(scenario: Scenario, option: str, today: Curve, moved: Sequence[str]) -> Curve:
    """The option's cost curve in ``scenario`` without a breakdown, from ``today`` (its curve in a
    scenario that differs from this one only by a driver that moves how much volume a unit of
    each ``moved`` option carries, ``OptionDriver.sizes_only``): the same fixed cost, slopes and
    unit cost, with the unit count (and a bought unit's cash) read from ``scenario``. A composite
    re-reads the parts that are ``moved`` options. Equal to :func:`curve` (tests/test_engine_speed.py)."""
    o = scenario.option(option)
    if is_composite(o):  # each component as the composite runs it, as curve() reads it
        run = [(cid, c) for cid, share, c in runs(scenario, o) if share > 0]
        parts = tuple((share, _restepped_of(scenario, c, part) if cid in moved else part)
                      for (cid, c), (share, part) in zip(run, today.parts))
        return replace(today, parts=parts, horizon={})
    return _restepped_of(scenario, o, today)


def _restepped_of(scenario: Scenario, o, today: Curve) -> Curve:
    return replace(today, step=kind_of(o).stepping(scenario, o), cash=_cash_hook(scenario, o), horizon={})


def along(near: Curve, far: Curve, k: float) -> Curve:
    """The curve a share ``k`` of the way from ``near`` to ``far`` (``k = (v - v0) / (v1 - v0)``
    for curves read at driver values ``v0`` and ``v1``), for a driver every amount of which is
    affine in its value and that moves no unit count (``OptionDriver.linear``): each amount
    (fixed cost, slopes, one-time cost, unit cost, hardware cash) is ``near + k (far - near)``,
    the unit counts are ``near``'s. Equal to :func:`curve` at ``v`` (tests/test_engine_speed.py).

    >>> a = Curve(100.0, 0.5, 0.1, None, 1000.0, True)
    >>> along(a, replace(a, fixed=300.0, one_time=3000.0), 0.25).fixed
    150.0
    """
    if near.parts or far.parts:
        raise ValueError("along: a composite's curve is composed from its parts' (curve.reread)")

    def lerp(x: float, y: float) -> float:
        return x + k * (y - x)
    step = replace(near.step, cost=lerp(near.step.cost, far.step.cost)) if near.step is not None else None
    cash = None
    if near.cash is not None and far.cash is not None:
        cash_near, cash_far = near.cash, far.cash

        def cash(volumes: Sequence[float], counts: Optional[Sequence[int]] = None) -> CashFlows:
            a, b = cash_near(volumes, counts), cash_far(volumes, counts)
            return CashFlows(lerp(a.at_start, b.at_start), tuple(lerp(x, y) for x, y in zip(a.by_month, b.by_month)),
                             lerp(a.capex, b.capex), lerp(a.residual_received, b.residual_received),
                             lerp(a.terminal_value, b.terminal_value), lerp(a.run_rate_capital, b.run_rate_capital),
                             lerp(a.depreciation, b.depreciation), lerp(a.interest, b.interest), a.units_bought)
    # without hardware cash, what ``near.horizon`` keeps (unit counts and their discounted sums) is
    # this curve's too: the same counts; so it is shared rather than counted again
    return Curve(lerp(near.fixed, far.fixed), lerp(near.token_slope, far.token_slope), lerp(near.other_slope, far.other_slope),
                 step, lerp(near.one_time, far.one_time), near.follows_decline, cash, near.horizon if cash is None else {})


@lru_cache(maxsize=256)
def _horizon_factors(growth: float, decline: float, rate: float, months: int) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...], float]:
    """Per month m = 1..N: growth factor, discount factor ``w_m`` and API price factor; and ``sum w_m``."""
    r_m = f.monthly_rate(rate)
    growths = tuple(f.growth_factor(growth, m) for m in range(1, months + 1))
    weights = tuple(1.0 / (1.0 + r_m) ** m for m in range(1, months + 1))
    factors = tuple(f.price_factor(decline, m) for m in range(1, months + 1))
    return growths, weights, factors, sum(weights)


@lru_cache(maxsize=256)
def _month_weights(t0: float, growth: float, decline: float, rate: float, months: int) -> tuple[tuple[float, ...], tuple[float, ...], float, float, float]:
    """Per month m = 1..N: volume ``t_m`` and discount factor ``w_m``; and the sums
    ``sum w_m``, ``sum w_m t_m`` and ``sum w_m pf_m t_m`` the NPV of an affine cost needs
    (the factors that do not depend on today's volume computed once per horizon)."""
    growths, weights, factors, w = _horizon_factors(growth, decline, rate, months)
    volumes = tuple(t0 * g for g in growths)
    return (volumes, weights, w, sum(w * t for w, t in zip(weights, volumes)),
            sum(w * p * t for w, p, t in zip(weights, factors, volumes)))


def month_volumes(scenario: Scenario) -> tuple[float, ...]:
    """Tokens/day of months 1..N (today's volume grown month by month)."""
    h, v = scenario.horizon, scenario.volume
    return _month_weights(v.daily_tokens, v.monthly_growth, h.api_price_decline_per_year, h.discount_rate_per_year, h.months)[0]


def migrating(scenario: Scenario, option: Optional[str]) -> bool:
    """Whether ``option`` is reached by a phased move off today's option (horizon.switch_month,
    horizon.overlap_months): every option but today's, when the move is phased."""
    return option is not None and scenario.horizon.migrates and option != scenario.context.current_option


def moved_with(scenario: Scenario, moved: list[str]) -> list[str]:
    """The options whose horizon cost changes when the costs of ``moved`` change: with a phased
    move, every option carries today's option in its first months."""
    current = scenario.context.current_option
    if scenario.horizon.migrates and current in moved:
        return scenario.option_ids()
    return moved


@dataclass(frozen=True)
class Migration:
    """Cash of an option reached by a phased move: one-time costs at month 0, the cost of months
    1..N, and its own hardware cash flows (shifted to start at the switch), if any."""

    one_time: float
    monthly: list[float]
    flows: Optional[CashFlows]


def _cash_of(c: Curve, volumes: Sequence[float], counts: Optional[Sequence[int]] = None) -> Optional[CashFlows]:
    """The hardware cash flows of curve ``c`` over month volumes (a composite's: its parts' at their
    shares), None when it buys nothing; ``counts``: a plain curve's unit counts at those volumes,
    when already counted."""
    if c.parts:
        return sum_flows([x for share, part in c.parts if (x := _cash_of(part, [share * t for t in volumes])) is not None],
                         len(volumes))
    return c.cash(volumes, counts) if c.cash is not None else None


def migration(scenario: Scenario, c: Curve, today: Curve, months: Optional[int] = None) -> Migration:
    """Months 1..N of moving from today's option (curve ``today``) to an option (curve ``c``).

    Month m carries share ``s_m = functions.migration_share(m, S, L)`` of its volume ``t_m`` on
    the new option and the rest on today's: ``c(s_m t_m) + today((1 - s_m) t_m)``, each term
    only while its share is above 0, so during the overlap both pay their fixed costs (the
    double run), before the switch the new option costs nothing and after the overlap today's
    option is switched off. Prices follow the month's API price factor. The new option's
    one-time costs are paid when the move starts (time S: month 0 when S = 0, else added to
    month S); a kind that buys hardware counts its cash over its own months (S + 1 .. N, at its
    volumes ``s_m t_m``), shifted to start at time S. Today's option is costed at its run-rate."""
    h, v = scenario.horizon, scenario.volume
    n, start = (h.months if months is None else months), h.switch_month
    volumes = _month_weights(v.daily_tokens, v.monthly_growth, h.api_price_decline_per_year, h.discount_rate_per_year, n)[0]
    monthly, own = [], []
    for m, t in enumerate(volumes, start=1):
        pf = f.price_factor(h.api_price_decline_per_year, m)
        share = f.migration_share(m, h.switch_month, h.overlap_months)
        cost = today.at((1.0 - share) * t, pf) if share < 1.0 else 0.0
        if share > 0.0:
            cost += c.at(share * t, pf)
            own.append(share * t)
        monthly.append(cost)
    at_start = c.one_time
    flows = _cash_of(c, own) if own else None
    if flows is not None:
        at_start += flows.at_start
        for j, x in enumerate(flows.by_month):
            monthly[start + j] += x
    one_time = 0.0
    if h.switch_month == 0:
        one_time = at_start
    elif h.switch_month <= n:
        monthly[h.switch_month - 1] += at_start  # paid at time S, with month S (a move starting after the horizon pays nothing)
    return Migration(one_time, monthly, flows)


def horizon_npv(scenario: Scenario, c: Curve, option: Optional[str] = None, *, scale: float = 1.0,
                today: Optional[Curve] = None) -> float:
    """The NPV over the horizon of an option with curve ``c``: month m at ``T0 (1 + g)^(m-1)``
    tokens/day and API price factor ``(1 - d)^((m-1)/12)``, one-time cost at month 0, discounted
    at ``(1 + r)^(1/12) - 1`` a month (the months of :func:`tco.tco_series`). The affine part is
    three sums; only a stepped option's unit counts are summed month by month. A kind that buys
    hardware adds its cash flows (purchases, residuals, terminal value) in place of its run-rate
    capital charge, exactly as :func:`tco.tco_series` does. An ``option`` reached by a phased
    move (see :func:`migrating`) is summed month by month from :func:`migration`. ``scale``: the
    option carries that share of each month's volume (a component of a composite, which sums its
    parts' NPVs). ``today``: today's option's curve in ``scenario``, when the caller has it (else
    a phased move reads it)."""
    h, v = scenario.horizon, scenario.volume
    volumes, weights, w, wt, wpt = _month_weights(v.daily_tokens, v.monthly_growth, h.api_price_decline_per_year,
                                                  h.discount_rate_per_year, h.months)
    if migrating(scenario, option):
        return _migration_npv(scenario, c, today if today is not None else curve(scenario, scenario.context.current_option))  # type: ignore[arg-type]
    if c.parts:
        return sum(horizon_npv(scenario, part, scale=scale * share) for share, part in c.parts)
    token = c.token_slope * scale * (wpt if c.follows_decline else wt)
    total = c.one_time + c.fixed * w + token + c.other_slope * scale * wt
    if c.step or c.cash is not None:
        # kept by what the month volumes and discount factors are made of: hashing the months
        # themselves cost more than the sums they keep
        key = (v.daily_tokens, v.monthly_growth, h.months, scale)
        known = c.horizon.get(key)
        if known is None:
            if scale != 1.0:
                volumes = _scaled(volumes, scale)
            counts = unit_counts(c.step.count, volumes) if c.step else None
            known = c.horizon[key] = (counts, c.cash(volumes, counts) if c.cash is not None else None, {})
        counts, flows, discounted = known
        # the discounted unit count and cash: one sum each per discount rate (weights)
        sums = discounted.get(h.discount_rate_per_year)
        if sums is None:
            sums = discounted[h.discount_rate_per_year] = (
                sum(weight * n for weight, n in zip(weights, counts)) if counts is not None else 0.0,
                flows.at_start + sum(weight * x for weight, x in zip(weights, flows.by_month)) if flows is not None else 0.0)
        if counts is not None:
            total += c.step.cost * sums[0]  # type: ignore[union-attr]
        total += sums[1]
    return total


@lru_cache(maxsize=1024)
def _scaled(volumes: tuple[float, ...], scale: float) -> tuple[float, ...]:
    """Month volumes at a share (a composite's part), the same tuple for the same share."""
    return tuple(scale * t for t in volumes)


def stepped_volumes(scenario: Scenario, c: Curve, option: Optional[str] = None, *,
                    today: Optional[Curve] = None) -> list[tuple[Step, tuple[float, ...]]]:
    """Each unit count :func:`horizon_npv` reads for curve ``c``: (the step, the volumes it is
    counted at), in a fixed order (a composite's parts at their shares; a phased move's today's
    option at the share it still carries and ``c`` at the share it has taken). What the flip
    search needs to know where, between two driver values, a unit count can change."""
    h, v = scenario.horizon, scenario.volume
    volumes = _month_weights(v.daily_tokens, v.monthly_growth, h.api_price_decline_per_year, h.discount_rate_per_year, h.months)[0]
    if migrating(scenario, option):
        before = today if today is not None else curve(scenario, scenario.context.current_option)  # type: ignore[arg-type]
        shares = [f.migration_share(m, h.switch_month, h.overlap_months) for m in range(1, len(volumes) + 1)]
        return (_steps_of(before, tuple((1.0 - s) * t for s, t in zip(shares, volumes) if s < 1.0))
                + _steps_of(c, tuple(s * t for s, t in zip(shares, volumes) if s > 0.0)))
    return _steps_of(c, volumes)


def _steps_of(c: Curve, volumes: tuple[float, ...]) -> list[tuple[Step, tuple[float, ...]]]:
    if c.parts:
        return [x for share, part in c.parts for x in _steps_of(part, _scaled(volumes, share))]
    return [(c.step, volumes)] if c.step is not None and volumes else []


@lru_cache(maxsize=256)
def _migration_weights(t0: float, growth: float, decline: float, rate: float, months: int, switch: int, overlap: int):
    """The months of a phased move (:func:`migration`) as the NPV of its affine parts needs them:
    for today's option (months with share < 1) and the new one (share > 0), the month indexes,
    their discount factors and volumes, and the sums ``sum w``, ``sum w x`` and ``sum w pf x``
    (``x``: the volume the option carries that month, ``pf``: the API price factor)."""
    growths, weights, factors, _ = _horizon_factors(growth, decline, rate, months)
    shares = [f.migration_share(m, switch, overlap) for m in range(1, months + 1)]
    sides = []
    for new in (False, True):  # today's option carries 1 - s while s < 1; the new one s while s > 0
        idx = tuple(i for i, s in enumerate(shares) if (s > 0.0 if new else s < 1.0))
        xs = tuple((shares[i] if new else 1.0 - shares[i]) * (t0 * growths[i]) for i in idx)
        ws = tuple(weights[i] for i in idx)
        sides.append((idx, ws, xs, sum(ws), sum(w * x for w, x in zip(ws, xs)),
                      sum(w * factors[i] * x for w, i, x in zip(ws, idx, xs))))
    return sides, weights


def _counts_key(months: tuple, scale: float) -> tuple:
    """Where ``Curve.horizon`` keeps the unit counts (and their discounted sums) of the months
    ``months`` names (a phased move's side, see :func:`_migration_npv`) at share ``scale``."""
    return ("counts", months, scale)


def _affine_npv(c: Curve, ws: tuple[float, ...], xs: tuple[float, ...], w: float, wx: float, wpx: float,
                key: tuple, rate: float, scale: float = 1.0) -> float:
    """``sum w_m c.at(scale x_m, pf_m)`` over some months, from the sums ``w``, ``wx`` and ``wpx``
    of their discount factors (times volume, times price factor and volume); a stepped curve's
    unit counts month by month, kept in ``c.horizon`` by ``key`` (what the months ``xs`` are made
    of) and share, with their discounted sum per discount ``rate``."""
    if c.parts:
        return sum(_affine_npv(part, ws, xs, w, share * wx, share * wpx, key, rate, scale * share) for share, part in c.parts)
    total = c.fixed * w + c.token_slope * (wpx if c.follows_decline else wx) + c.other_slope * wx
    if c.step:
        known = c.horizon.get(_counts_key(key, scale))
        if known is None:
            known = c.horizon[_counts_key(key, scale)] = (
                unit_counts(c.step.count, tuple(scale * x for x in xs) if scale != 1.0 else xs), {})
        counts, discounted = known
        units = discounted.get(rate)
        if units is None:
            units = discounted[rate] = sum(weight * n for weight, n in zip(ws, counts))
        total += c.step.cost * units
    return total


def _migration_npv(scenario: Scenario, c: Curve, today: Curve) -> float:
    """The NPV of :func:`migration`'s months without building them: its affine parts from sums
    over the months each option carries, unit counts and hardware cash as :func:`migration` has
    them (equal to summing its months, tests/test_engine_speed.py)."""
    h, v = scenario.horizon, scenario.volume
    (before, after), weights = _migration_weights(v.daily_tokens, v.monthly_growth, h.api_price_decline_per_year,
                                                  h.discount_rate_per_year, h.months, h.switch_month, h.overlap_months)
    # what each side's month volumes are made of (kept by it: hashing the months cost more than the sums)
    months = (v.daily_tokens, v.monthly_growth, h.months, h.switch_month, h.overlap_months)
    rate = h.discount_rate_per_year
    total = _affine_npv(today, *before[1:], ("before", months), rate) + _affine_npv(c, *after[1:], ("after", months), rate)
    at_start = c.one_time
    own = after[2]
    if own:
        key = ("cash", months)
        if key not in c.horizon:
            counted = c.horizon.get(_counts_key(("after", months), 1.0))  # the new side's unit counts, just counted above
            c.horizon[key] = (_cash_of(c, own, counted[0] if counted is not None and not c.parts else None), {})
        flows, discounted = c.horizon[key]
        if flows is not None:
            at_start += flows.at_start
            if rate not in discounted:
                discounted[rate] = sum(weights[h.switch_month + j] * x for j, x in enumerate(flows.by_month))
            total += discounted[rate]
    if h.switch_month == 0:
        total += at_start
    elif h.switch_month <= h.months:
        total += weights[h.switch_month - 1] * at_start
    return total

"""Sensitivity: move each driver by +/- a swing and watch totals, horizon costs (NPV) and
break-even (tornado data), and a utilization x volume grid of which of an API and a self-hosted
option is cheaper.

Drivers are the scenario-wide ones (volume, human review share, volume growth, API price
decline, discount rate) and those each option kind declares for each of its options
(``Kind.drivers``). A driver is moved by a share of its value (``swing``), or, for a rate that is
often 0 (growth, decline, discount), by points (``sensitivity.*_points``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .breakeven import breakeven_volume, primary_pair
from .curve import Curve, along, curve, horizon_npv, moved_with, reread, restepped, shared_memo
from .kinds import OptionDriver, is_composite, kind_of
from .kinds.self_hosted import utilization_field
from .results import SensitivityGrid, SensitivityRow
from .scenario import Scenario

GRID_UTILIZATIONS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
GRID_VOLUME_FACTORS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)
# a linear driver's line runs through today's curve and one read at this multiple of today's
# value: far enough that the line's slope loses nothing to cancellation wherever it is read
LINE_FACTOR = 2.0


@dataclass(frozen=True)
class Driver:
    key: str
    label: str
    get: Callable[[Scenario], Optional[float]]
    set: Callable[[Scenario, float], Scenario]
    ceiling: Optional[float] = None  # fractions stop at 1
    option: Optional[str] = None  # the option it belongs to (None: scenario-wide)
    points: Optional[float] = None  # moved by +/- this many points instead of by a share
    floor: Optional[float] = None  # the lowest value the model accepts
    # whether it moves a cost at a given volume (False: growth, price decline and discount rate
    # move only the horizon, so every option's cost curve and every break-even stay today's)
    reprices: bool = True
    sizes_only: bool = False  # an option's driver that moves only its unit count (OptionDriver.sizes_only)
    linear: bool = False  # an option's driver every amount of which is affine in it (OptionDriver.linear)
    # it moves where the costs are read, not the cost curves (volume: every option keeps today's
    # hardware, Kind.anchored), so the flip search reads today's curves at each value
    curves_stay: bool = False
    # every option's NPV is affine in it over its search range (the review share: no option's share
    # reaches its cap of 1 below the driver's ceiling), so the gap of the flip search, a maximum of
    # affine functions, is convex: at or below 0 at both ends of a side, it is there throughout
    affine: bool = False


def _set_section(section: str, field: str):
    def setter(s: Scenario, value: float) -> Scenario:
        part = getattr(s, section)
        return s.model_copy(update={section: part.model_copy(update={field: value})})
    return setter


def _scale_volume(s: Scenario, factor: float) -> Scenario:
    """The scenario at ``factor`` x its volume, on today's hardware (``Kind.anchored``)."""
    v = s.volume
    update = {k: getattr(v, k) * factor for k in ("tokens_per_day", "requests_per_month") if getattr(v, k) is not None}
    options = [kind_of(o).anchored(s, o) for o in s.options]
    return s.model_copy(update={"volume": v.model_copy(update=update), "options": options})


def _review_share(s: Scenario) -> Optional[float]:
    shares = [o.hidden.review_share for o in s.options if not is_composite(o)]  # a composite's are its components'
    return max(shares) if shares else None


def _set_review_share(s: Scenario, value: float) -> Scenario:
    base = _review_share(s) or 1.0
    options = [o if is_composite(o) else
               o.model_copy(update={"hidden": o.hidden.model_copy(update={"review_share": min(1.0, o.hidden.review_share * value / base)})})
               for o in s.options]
    return s.model_copy(update={"options": options})


def _option_driver(scenario: Scenario, option_id: str, d: OptionDriver) -> Driver:
    label = d.label if option_id == scenario.option(option_id).kind else f"{d.label} ({scenario.label_of(option_id)})"
    return Driver(
        d.name, label,
        lambda s: d.get(s.option(option_id)),
        lambda s, v: s.with_option(d.set(s.option(option_id), v)),
        d.ceiling, option_id, sizes_only=d.sizes_only, linear=d.linear,
    )


def drivers(scenario: Scenario) -> list[Driver]:
    """Volume, each option's own drivers (API prices first, as the decision's main lever), review share."""
    per_option = [_option_driver(scenario, o.id, d) for o in scenario.options for d in kind_of(o).drivers(o)]
    api_first = [d for d in per_option if scenario.option(d.option).kind == "api"]  # type: ignore[arg-type]
    rest = [d for d in per_option if d not in api_first]
    return (
        [Driver("volume", "Volume (tokens/day)", lambda s: s.volume.daily_tokens,
                lambda s, v: _scale_volume(s, v / s.volume.daily_tokens), curves_stay=True)]
        + api_first
        + [Driver("review_share", "Human review share", _review_share, _set_review_share, 1.0, affine=True)]
        + rest
        + [Driver("growth", "Volume growth", lambda s: s.volume.monthly_growth, _set_section("volume", "monthly_growth"),
                  1.0, points=scenario.sensitivity.growth_points, floor=-0.5, reprices=False),
           Driver("api_price_decline", "API price decline", lambda s: s.horizon.api_price_decline_per_year,
                  _set_section("horizon", "api_price_decline_per_year"), 0.99, points=scenario.sensitivity.decline_points, floor=0.0,
                  reprices=False),
           Driver("discount_rate", "Discount rate", lambda s: s.horizon.discount_rate_per_year,
                  _set_section("horizon", "discount_rate_per_year"), 1.0, points=scenario.sensitivity.discount_points, floor=0.0,
                  reprices=False)]
    )


def _costs(s: Scenario, moved: list[str], base: tuple[dict[str, float], dict[str, float]],
           curves: dict[str, Curve]) -> tuple[dict[str, float], dict[str, float]]:
    """(monthly totals, horizon NPVs) per option: the moved ones from ``curves`` (their cost
    curves in ``s``), the others as in ``base``; with a phased move, every option's NPV carries
    today's option in its first months, so all of them move with it."""
    t = s.volume.daily_tokens
    totals = {o: curves[o].at(t) if o in moved else base[0][o] for o in s.option_ids()}
    horizon_moved = moved_with(s, moved)
    npvs = {o: horizon_npv(s, curves[o], o) if o in horizon_moved else base[1][o] for o in s.option_ids()}
    return totals, npvs


def on_line(d: Driver, base: Scenario, value: float, today: Curve, lines: dict) -> Curve:
    """The cost curve of a linear driver's option (``d.option``, ``Driver.linear``) at ``value``,
    from today's (``today``, read in ``base``) and one more read at ``LINE_FACTOR`` x today's value
    (kept in ``lines`` by driver and option): a point on the line through the two
    (:func:`curve.along`), no breakdown per value."""
    v0 = d.get(base)
    if value == v0:
        return today
    end = lines.get((d.key, d.option))
    if end is None:
        v1 = v0 * LINE_FACTOR if v0 else 1.0  # type: ignore[operator]
        end = lines[(d.key, d.option)] = (v1, curve(d.set(base, v1), d.option))  # type: ignore[arg-type]
    v1, far = end
    return along(today, far, (value - v0) / (v1 - v0))  # type: ignore[operator]


def curve_at(d: Driver, s: Scenario, option: str, moved: list[str], today: dict[str, Curve],
             read: Optional[dict[str, Curve]] = None, line: Optional[tuple[Scenario, float, dict]] = None) -> Curve:
    """The option's cost curve with driver ``d`` set (scenario ``s``): re-read (a breakdown) only
    where the driver moves what a volume costs; today's for an option it does not move, for the
    volume (every option keeps today's hardware) and for the horizon's drivers; today's with its
    unit count re-read for a driver that moves only how much volume a unit carries; on the line
    of a linear driver's option (``line``: today's scenario, the value and the lines read, see
    :func:`on_line`); a composite from its components' curves in ``read``."""
    if option not in moved or not d.reprices or d.curves_stay:
        return today[option]
    if d.sizes_only:
        return restepped(s, option, today[option], moved)
    if d.linear and option == d.option and line is not None:
        base, value, lines = line
        return on_line(d, base, value, today[option], lines)
    return reread(s, option, today[option], moved, read)


def tornado(scenario: Scenario, swing: Optional[float] = None) -> list[SensitivityRow]:
    """Each driver at (1 - swing) and (1 + swing) of its value, or +/- its points; clipped to the
    model's bounds (fractions stop at 1). A driver of one option moves only that option's costs
    (the others keep today's), and the break-even only when the option is in its pair; a driver
    of the horizon alone (growth, decline, discount) re-reads no cost curve and no break-even."""
    x = scenario.sensitivity.swing if swing is None else swing
    ids = scenario.option_ids()
    pair = primary_pair(scenario)
    today_curves = {o: curve(scenario, o) for o in ids}
    today = _costs(scenario, ids, ({}, {}), today_curves)
    breakeven = breakeven_volume(today_curves[pair[0]], today_curves[pair[1]]) if pair else None
    lines = shared_memo(scenario, "lines")  # the flip search reads the same lines
    rows = []
    for d in drivers(scenario):
        base = d.get(scenario)
        if base is None or (d.points is None and not base):
            continue  # a driver at 0 (or unset) cannot move by a percentage
        if d.points is not None:
            low, high = base - d.points, base + d.points
        else:
            low, high = base * (1 - x), base * (1 + x)
        note = ""
        if d.ceiling is not None and high > d.ceiling:
            high, note = d.ceiling, f"capped at {d.ceiling:g}"
        if d.floor is not None and low < d.floor:
            low, note = d.floor, f"floored at {d.floor:g}"
        s_low, s_high = d.set(scenario, low), d.set(scenario, high)
        moved = ids if d.option is None else scenario.dependents(d.option)  # a composite moves with its components
        pair_moves = pair is not None and d.reprices and (d.option is None or any(o in pair for o in moved))
        sides = []
        for s, value in ((s_low, low), (s_high, high)):
            curves: dict[str, Curve] = {}
            for o in sorted(ids, key=lambda o: is_composite(s.option(o))):  # components first: a composite reuses their curves
                curves[o] = curve_at(d, s, o, moved, today_curves, curves, (scenario, value, lines))
            sides.append((_costs(s, moved, today, curves),
                          breakeven_volume(curves[pair[0]], curves[pair[1]]) if pair_moves else breakeven))  # type: ignore[index]
        ((totals_low, npv_low), be_low), ((totals_high, npv_high), be_high) = sides
        rows.append(SensitivityRow(
            driver=d.key, option=d.option, label=d.label, base_value=base, low_value=low, high_value=high,
            totals_low=totals_low, totals_high=totals_high, npv_low=npv_low, npv_high=npv_high,
            breakeven_low=be_low, breakeven_high=be_high, note=note,
        ))
    return rows


def grid(scenario: Scenario) -> Optional[SensitivityGrid]:
    """Cheaper of the first API option and the first self-hosted option at each utilization x
    volume (None without both)."""
    apis, hosted = scenario.options_of("api"), scenario.options_of("self_hosted")
    if not apis or not hosted:
        return None
    api, sh = apis[0], hosted[0]
    field = utilization_field(sh)
    t0 = scenario.volume.daily_tokens or 1e6
    volumes = [t0 * k for k in GRID_VOLUME_FACTORS]
    cheaper, difference = [], []
    api_cost = curve(scenario, api.id)  # costs at other volumes read from cost curves (one breakdown each)
    # the grid moves the option's utilization driver: a target utilization moves only the unit
    # count (today's curve restepped), a stated one what the GPUs cost (a breakdown per row)
    moves = next(d for d in drivers(scenario) if d.option == sh.id and d.key == "utilization")
    today = {sh.id: curve(scenario, sh.id)}
    for u in GRID_UTILIZATIONS:
        s = scenario.with_option(sh.model_copy(update={field: u}))
        sh_cost = curve_at(moves, s, sh.id, [sh.id], today)
        row_c, row_d = [], []
        for t in volumes:
            d = sh_cost.at(t) - api_cost.at(t)
            row_c.append(sh.id if d < 0 else api.id)
            row_d.append(d)
        cheaper.append(row_c)
        difference.append(row_d)
    return SensitivityGrid(api_option=api.id, self_hosted_option=sh.id, utilizations=list(GRID_UTILIZATIONS),
                           tokens_per_day=volumes, cheaper=cheaper, difference=difference)

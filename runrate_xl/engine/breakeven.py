"""Break-even volumes between two options, in tokens per day.

Every option's monthly cost is a line in volume (fixed + slope x tokens/day) plus, for an option
whose capacity steps (GPU instances), ``count(t) x cost per unit`` (see ``kinds.base.Step``).
Affine pairs cross at most once, at the closed form of :func:`functions.breakeven_volume`, which
for API vs simple-mode self-hosting is seed 003's ``T* = (I/U + F_self - F_api) / (P x days)``.
A stepped pair is solved exactly segment by segment (within a segment every count is constant,
so both costs are affine) and may cross several times: every crossing is listed with the ranges
where each option is cheaper. The search reads each option's :class:`curve.Curve` (one breakdown, then
arithmetic) and stops where the steps' envelope proves the gap can no longer close.
"""

from __future__ import annotations

import heapq
import math
from typing import Optional

from . import functions as f
from .errors import NoAnswer
from .curve import PROBE_TOKENS_PER_DAY, Curve, curve
from .kinds import requests_per_month
from .option_cost import option_breakdown
from .results import BreakEven, CheaperRange
from .scenario import Scenario

MAX_SEGMENTS = 1000  # stepped costs: volume segments searched before reporting "none in range" (the first ends at a fleet's fewest units)
TIE = 1e-9  # piecewise: a cost difference this small relative to the costs is a tie
ROOT_EDGE = 1e-12  # a root this close (relative) to a step's end is a tie at the step, not a crossing inside it
MAX_RANGES_IN_WORDS = 5  # beyond it a reason names the first and last ranges only (the result lists all)


def find_breakeven(scenario: Scenario, option_a: str, option_b: str) -> BreakEven:
    """Break-even of ``option_a`` (usually the API) against ``option_b`` (option ids)."""
    current = scenario.volume.daily_tokens
    la, lb = scenario.label_of(option_a), scenario.label_of(option_b)
    ca, cb = curve(scenario, option_a), curve(scenario, option_b)
    searched_up_to = None
    try:
        if ca.widths or cb.widths:
            crossings, first_cheaper, searched_up_to = _piecewise(ca, cb)
            method = "piecewise"
            if not crossings:
                raise NoAnswer(f"the costs do not cross below {searched_up_to:,.0f} tokens/day ({MAX_SEGMENTS} capacity steps)"
                               if searched_up_to else "the costs do not cross at any volume")
        else:
            t = f.breakeven_volume(ca.fixed, ca.slope, cb.fixed, cb.slope)
            crossings, method = [t], "closed_form"
            first_cheaper = "a" if ca.at(t * 0.5) <= cb.at(t * 0.5) else "b"
    except NoAnswer as exc:
        cheaper = option_a if ca.at(current or PROBE_TOKENS_PER_DAY) <= cb.at(current or PROBE_TOKENS_PER_DAY) else option_b
        return BreakEven(
            option_a=option_a, option_b=option_b, found=False, current_tokens_per_day=current,
            cheaper_below=cheaper, method="none", searched_up_to=searched_up_to,
            ranges=[CheaperRange(from_tokens_per_day=0.0, to_tokens_per_day=searched_up_to, option=cheaper)],
            reason=f"No break-even between {la} and {lb}: {exc.reason}. {scenario.label_of(cheaper)} is cheaper at the current volume.",
        )
    ids = {"a": option_a, "b": option_b}
    order = [ids[first_cheaper]]
    for _ in crossings:
        order.append(option_b if order[-1] == option_a else option_a)
    bounds = [0.0] + crossings + [searched_up_to]
    ranges = [CheaperRange(from_tokens_per_day=lo, to_tokens_per_day=hi, option=o) for lo, hi, o in zip(bounds, bounds[1:], order)]
    t = crossings[0]
    api_ids = [o for o in (option_a, option_b) if scenario.option(o).kind == "api"]
    ratio = t / current if current > 0 else None
    return BreakEven(
        option_a=option_a, option_b=option_b, found=True, tokens_per_day=t,
        requests_per_month=requests_per_month(scenario, t), monthly_cost=option_breakdown(scenario, option_a, t).total,
        api_token_spend=option_breakdown(scenario, api_ids[0], t).token_cost if api_ids else None,
        current_tokens_per_day=current, volume_ratio=ratio, cheaper_below=order[0], method=method,
        crossings=crossings, ranges=ranges, searched_up_to=searched_up_to,
        reason=_reason(scenario, option_a, option_b, ranges, current, searched_up_to, _tied(ca, cb, t * 0.5)),
    )


def breakeven_volume(a: Curve, b: Curve) -> Optional[float]:
    """The first break-even volume of two cost curves (``find_breakeven``'s ``tokens_per_day``),
    or None: solved without building a result, a stepped search stopping at its first crossing."""
    try:
        if a.widths or b.widths:  # stepped (a composite steps with its stepped components)
            crossings, _, _ = _piecewise(a, b, first_only=True)
            return crossings[0] if crossings else None
        return f.breakeven_volume(a.fixed, a.slope, b.fixed, b.slope)
    except NoAnswer:
        return None


def _tied(a: Curve, b: Curve, t: float) -> bool:
    """Whether a and b cost the same at ``t`` (within the piecewise search's tie tolerance)."""
    return abs(a.at(t) - b.at(t)) <= TIE * (abs(a.fixed) + abs(b.fixed) + a.band + b.band)


def _reason(scenario: Scenario, a: str, b: str, ranges: list[CheaperRange], current: float, searched: Optional[float],
            tied_below: bool = False) -> str:
    label = scenario.label_of
    t = ranges[1].from_tokens_per_day
    where = "" if current <= 0 else f" The current volume is {current / t:.0%} of it."
    if len(ranges) == 2 and tied_below:
        return (f"{label(a)} and {label(b)} cost the same up to {t:,.0f} tokens/day; above it {label(ranges[1].option)} "
                f"is cheaper.{where}")
    if len(ranges) == 2:
        return f"{label(a)} and {label(b)} cost the same at {t:,.0f} tokens/day; below it {label(ranges[0].option)} is cheaper.{where}"
    tail = f" (searched up to {searched:,.0f} tokens/day)" if searched else ""
    if len(ranges) > MAX_RANGES_IN_WORDS:  # a long alternation at every GPU step: its ends say what matters
        last = ranges[-1]
        end = (f"{label(last.option)} from {last.from_tokens_per_day:,.0f} on" if last.to_tokens_per_day is None
               else f"{label(last.option)} at {last.from_tokens_per_day:,.0f} to {last.to_tokens_per_day:,.0f}")
        return (f"{label(a)} and {label(b)} cost the same at {len(ranges) - 1} volumes as capacity steps up: "
                f"{label(ranges[0].option)} is cheaper below {t:,.0f} tokens/day, the two alternate between "
                f"{t:,.0f} and {last.from_tokens_per_day:,.0f}, then {end} tokens/day{tail}.{where}")
    parts = [f"{label(ranges[0].option)} below {ranges[0].to_tokens_per_day:,.0f}"]
    for r in ranges[1:]:
        parts.append(f"{label(r.option)} from {r.from_tokens_per_day:,.0f}"
                     + (f" to {r.to_tokens_per_day:,.0f}" if r.to_tokens_per_day is not None else " on"))
    return (f"{label(a)} and {label(b)} cost the same at {len(ranges) - 1} volumes as capacity steps up; the cheaper is "
            + ", ".join(parts) + f" tokens/day{tail}.{where}")


class _Boundaries:
    """The volumes where some stepped option's count may change (multiples of each width, from
    its fewest units on: a stated fleet of 1,500 servers cannot change below 1,500 widths, so its
    first segment ends there and the step limit counts from its growth), merged and ascending,
    each once; :meth:`skip` passes many at once where nothing need be read between them."""

    def __init__(self, steps: list[tuple[float, int]]):
        self.heap = [(m * w, w, m) for w, m in steps]
        heapq.heapify(self.heap)
        self.last: Optional[float] = None

    def __next__(self) -> float:
        while True:
            t, w, n = heapq.heappop(self.heap)
            heapq.heappush(self.heap, ((n + 1) * w, w, n + 1))
            if t != self.last:
                self.last = t
                return t

    def skip(self, until: float, most: int) -> tuple[int, Optional[float]]:
        """Pass the boundaries up to ``until`` (at most ``most`` of them): how many, and the last.
        One stepped cost (one width) is counted by arithmetic, the same multiples ``__next__``
        gives; several by walking the heap (no costs read either way)."""
        count = 0
        if len(self.heap) == 1:
            t, w, n = self.heap[0]
            k = math.floor(until / w)
            while (k + 1) * w <= until:
                k += 1
            while k > n and k * w > until:
                k -= 1
            if k * w > until or k < n:
                return 0, None
            count = min(k - n + 1, most)
            if count > 0:
                k = n + count - 1
                self.heap[0] = ((k + 1) * w, w, k + 1)
                self.last = k * w
            return count, self.last if count else None
        last = None
        while count < most and self.heap[0][0] <= until:
            last = next(self)
            count += 1
        return count, last


def _stop_volume(a: Curve, b: Curve) -> Optional[float]:
    """A volume beyond which the order of a and b can no longer change (None: no such bound).

    Each cost lies in [line(t), line(t) + band]; once the lower lines are further apart than the
    bands, the gap keeps its sign for good."""
    (a0, a1), (b0, b1) = a.lower_line(), b.lower_line()
    l0, l1 = a0 - b0, a1 - b1  # a - b >= l0 + l1 t - b.band and <= l0 + l1 t + a.band
    if l1 > 0:
        return max(0.0, (b.band - l0) / l1)
    if l1 < 0:
        return max(0.0, (l0 + a.band) / -l1)
    return 0.0 if (l0 - b.band > 0 or l0 + a.band < 0) else None


def _keeps_order(l0: float, l1: float, band_a: float, band_b: float, tie: float, dearer_a: bool, lo: float, hi: float) -> bool:
    """Whether the order of a and b provably holds on ``[lo, hi]``: each cost lies between its
    lower line and that line plus its band (``Step``'s envelope), so ``a - b`` lies between
    ``l0 + l1 t - band_b`` and ``l0 + l1 t + band_a`` (``l0``, ``l1``: the lines' difference),
    affine in ``t``: with a dearer, above ``tie`` at both ends (no step can flip it, no piece
    reaches 0); with a not dearer, below 0 at both ends. Where it holds, :func:`_piecewise` only
    counts the segments, as each would find no crossing there."""
    if dearer_a:
        return min(l0 + l1 * lo, l0 + l1 * hi) - band_b > tie
    return max(l0 + l1 * lo, l0 + l1 * hi) + band_a < 0.0


def _piecewise(a: Curve, b: Curve, first_only: bool = False) -> tuple[list[float], str, Optional[float]]:
    """Every volume > 0 where the cheaper of a and b changes (the first only, with ``first_only``),
    which one ("a" / "b") is cheaper at the smallest volume, and the volume the search stopped at
    if it hit the step limit first."""
    widths = a.widths + b.widths
    steps = a.steps + b.steps
    stop = _stop_volume(a, b)
    tiny = min(widths) * 1e-9

    def diff(t: float) -> float:
        return a.at(t) - b.at(t)

    # a difference within TIE of the costs' size is a tie (two ways of computing one cost), which
    # counts as "a not dearer"; the workbook's piecewise formulas use the same tolerance
    tie = TIE * (abs(a.fixed) + abs(b.fixed) + a.band + b.band)
    dearer_a = diff(tiny) > tie
    first = "b" if dearer_a else "a"
    crossings: list[float] = []
    lo = 0.0
    (a0, a1), (b0, b1) = a.lower_line(), b.lower_line()
    span = 0.0  # the width of the next block of segments to prove the order over (see _keeps_order)
    last_checked = math.inf if stop is None else stop * (1.0 + TIE)  # the segment ending past it is read, then the search stops
    boundaries = _Boundaries(steps)
    n = 0
    while True:
        hi = next(boundaries)
        n += 1
        if n > MAX_SEGMENTS:
            return crossings, first, lo
        if n > 1 and hi <= last_checked:
            # the order provably held over a block of segments from lo: they are only counted (the
            # search reads nothing there and stops where it would); the block doubles while proofs hold
            span = max(span * 2.0, 8.0 * (hi - lo))
            if _keeps_order(a0 - b0, a1 - b1, a.band, b.band, tie, dearer_a, lo, lo + span):
                passed, last = boundaries.skip(min(lo + span, last_checked), MAX_SEGMENTS - n)
                n += passed
                lo = last if last is not None else hi
                continue
            span = 0.0
        # Within (lo, hi] every count is constant, so diff is affine; evaluate it at two points.
        t1, t2 = lo + (hi - lo) * 0.25, lo + (hi - lo) * 0.75
        d1, d2 = diff(t1), diff(t2)
        slope = (d2 - d1) / (t2 - t1)
        d_lo = d1 - slope * (t1 - lo)  # limit just above lo
        if n > 1 and (d_lo > tie) != dearer_a:
            crossings.append(lo)  # the step itself flips the order
            dearer_a = not dearer_a
            if first_only:
                return crossings, first, None
        if slope != 0:
            root = lo - d_lo / slope
            # inside the step (at its end the next step's check decides), and turning the order
            if lo < root < hi * (1.0 - ROOT_EDGE) and (slope > 0) != dearer_a:
                crossings.append(root)
                dearer_a = not dearer_a
                if first_only:
                    return crossings, first, None
        if stop is not None and hi > stop * (1.0 + TIE):  # the step at stop itself may still flip the order
            return crossings, first, None
        lo = hi
    raise AssertionError("unreachable: the boundaries never end")  # pragma: no cover


def primary_pair(scenario: Scenario) -> Optional[tuple[str, str]]:
    """The pair whose break-even the decision hinges on (option ids): the first API option
    against the first self-hosted option, else the first on-prem one, else the first fine-tuned
    one, else the second option."""
    apis = scenario.options_of("api")
    first = apis[0] if apis else scenario.options[0]
    for kind in ("self_hosted", "on_prem", "fine_tuned"):
        others = [o for o in scenario.options_of(kind) if o.id != first.id]
        if others:
            return (first.id, others[0].id)
    rest = [o for o in scenario.options if o.id != first.id]
    return (first.id, rest[0].id) if rest else None

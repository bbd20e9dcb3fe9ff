"""Break-even volume between two options, in tokens per day.

Every option's monthly cost is affine in volume (fixed + slope x tokens/day) except a
capacity-mode self-hosted option, whose GPU count steps up with volume. Affine pairs use the
closed form of :func:`functions.breakeven_volume`, which for API vs simple-mode self-hosting is
seed 003's ``T* = (I/U + F_self - F_api) / (P x days)``. A capacity-mode pair is solved exactly
segment by segment (within a segment the GPU count is constant, so both costs are affine).
"""

from __future__ import annotations

from typing import Optional

from . import functions as f
from .errors import NoAnswer
from .kinds import kind_of, requests_per_month
from .option_cost import option_breakdown
from .results import BreakEven
from .scenario import Scenario

MAX_SEGMENTS = 1000  # capacity mode: GPU-count steps searched before reporting "none in range"
_PROBE_TOKENS_PER_DAY = 1_000_000.0


def affine(scenario: Scenario, option: str) -> tuple[float, float]:
    """(fixed USD/month, slope USD/month per token/day) of an option whose cost is affine."""
    t0 = scenario.volume.daily_tokens or _PROBE_TOKENS_PER_DAY
    b = option_breakdown(scenario, option, t0)
    variable = sum(i.amount for i in b.items if i.variable)
    return b.total - variable, variable / t0


def _step_width(scenario: Scenario, option: str) -> Optional[float]:
    o = scenario.option(option)
    return kind_of(o).step_width(o)


def find_breakeven(scenario: Scenario, option_a: str, option_b: str) -> BreakEven:
    """Break-even of ``option_a`` (usually the API) against ``option_b`` (option ids)."""
    current = scenario.volume.daily_tokens
    la, lb = scenario.label_of(option_a), scenario.label_of(option_b)
    try:
        widths = [w for w in (_step_width(scenario, option_a), _step_width(scenario, option_b)) if w is not None]
        if widths:
            t, method = _piecewise(scenario, option_a, option_b, widths), "piecewise"
        else:
            fa, sa = affine(scenario, option_a)
            fb, sb = affine(scenario, option_b)
            t, method = f.breakeven_volume(fa, sa, fb, sb), "closed_form"
    except NoAnswer as exc:
        cheaper = _cheaper_at(scenario, option_a, option_b, current or _PROBE_TOKENS_PER_DAY)
        return BreakEven(
            option_a=option_a, option_b=option_b, found=False, current_tokens_per_day=current,
            cheaper_below=cheaper, method="none",
            reason=f"No break-even between {la} and {lb}: {exc.reason}. {scenario.label_of(cheaper)} is cheaper at the current volume.",
        )
    below = _cheaper_at(scenario, option_a, option_b, t * 0.5)
    cost = option_breakdown(scenario, option_a, t).total
    api_ids = [o for o in (option_a, option_b) if scenario.option(o).kind == "api"]
    api_spend = option_breakdown(scenario, api_ids[0], t).token_cost if api_ids else None
    ratio = t / current if current > 0 else None
    where = "" if ratio is None else f" The current volume is {1 / ratio:.0%} of it."
    return BreakEven(
        option_a=option_a, option_b=option_b, found=True, tokens_per_day=t,
        requests_per_month=requests_per_month(scenario, t), monthly_cost=cost, api_token_spend=api_spend,
        current_tokens_per_day=current, volume_ratio=ratio, cheaper_below=below, method=method,
        reason=f"{la} and {lb} cost the same at {t:,.0f} tokens/day; below it {scenario.label_of(below)} is cheaper.{where}",
    )


def _cheaper_at(scenario: Scenario, a: str, b: str, t: float) -> str:
    return a if option_breakdown(scenario, a, t).total <= option_breakdown(scenario, b, t).total else b


def _segments(widths: list[float]) -> list[tuple[float, float]]:
    """The first MAX_SEGMENTS volume ranges (lo, hi] within which no stepped option changes its
    GPU count: the boundaries are the multiples of each option's step width, merged."""
    bounds = sorted({n * w for w in widths for n in range(1, MAX_SEGMENTS + 1)})[:MAX_SEGMENTS]
    return list(zip([0.0] + bounds[:-1], bounds))


def _piecewise(scenario: Scenario, a: str, b: str, widths: list[float]) -> float:
    """Smallest volume > 0 where the cheaper-at-low-volume option stops being cheaper.

    ``widths``: tokens/day of one GPU-count step (the base count before redundancy) of each
    stepped option of the pair."""
    segments = _segments(widths)
    tiny = min(widths) * 1e-9

    def diff(t: float) -> float:
        return option_breakdown(scenario, a, t).total - option_breakdown(scenario, b, t).total

    sign0 = diff(tiny) > 0  # True: a is dearer at the smallest volume
    for n, (lo, hi) in enumerate(segments, start=1):
        # Within (lo, hi] the GPU count is constant, so diff is affine; evaluate at two points.
        t1, t2 = lo + (hi - lo) * 0.25, lo + (hi - lo) * 0.75
        d1, d2 = diff(t1), diff(t2)
        slope = (d2 - d1) / (t2 - t1)
        d_lo = d1 - slope * (t1 - lo)  # limit just above lo
        if n > 1 and (d_lo > 0) != sign0:
            return lo  # the step itself flips the order
        if slope != 0:
            root = lo - d_lo / slope
            if lo < root <= hi:
                return root
    raise NoAnswer(f"the costs do not cross below {segments[-1][1]:,.0f} tokens/day ({MAX_SEGMENTS} GPU steps)")


def primary_pair(scenario: Scenario) -> Optional[tuple[str, str]]:
    """The pair whose break-even the decision hinges on (option ids): the first API option
    against the first self-hosted option, else the first fine-tuned one, else the second option."""
    apis = scenario.options_of("api")
    first = apis[0] if apis else scenario.options[0]
    for kind in ("self_hosted", "fine_tuned"):
        others = [o for o in scenario.options_of(kind) if o.id != first.id]
        if others:
            return (first.id, others[0].id)
    rest = [o for o in scenario.options if o.id != first.id]
    return (first.id, rest[0].id) if rest else None

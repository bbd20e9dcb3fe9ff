"""Sensitivity: move each driver by +/- a swing and watch totals and break-even (tornado data),
and a utilization x volume grid of which of API and self-hosting is cheaper."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from .breakeven import find_breakeven, primary_pair
from .option_cost import option_breakdown
from .results import SensitivityGrid, SensitivityRow
from .scenario import Scenario

GRID_UTILIZATIONS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
GRID_VOLUME_FACTORS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)


def _nested(scenario: Scenario, path: str, value) -> Scenario:
    """A copy of ``scenario`` with the dotted field ``path`` set to ``value``."""
    head, _, rest = path.partition(".")
    if not rest:
        return scenario.model_copy(update={head: value})
    child = getattr(scenario, head)
    return scenario.model_copy(update={head: _nested(child, rest, value)})


@dataclass(frozen=True)
class Driver:
    key: str
    label: str
    get: Callable[[Scenario], Optional[float]]
    set: Callable[[Scenario, float], Scenario]
    ceiling: Optional[float] = None  # fractions stop at 1


def _scale_volume(s: Scenario, factor: float) -> Scenario:
    v = s.volume
    update = {k: getattr(v, k) * factor for k in ("tokens_per_day", "requests_per_month") if getattr(v, k) is not None}
    return s.model_copy(update={"volume": v.model_copy(update=update)})


def _scale_api_prices(s: Scenario, factor: float) -> Scenario:
    api = s.api
    fields = ("input_price_per_1m", "output_price_per_1m", "cached_input_price_per_1m", "batch_input_price_per_1m", "batch_output_price_per_1m")
    update = {k: getattr(api, k) * factor for k in fields if getattr(api, k) is not None}
    update["price_tiers"] = [t.model_copy(update={"input_price_per_1m": t.input_price_per_1m * factor, "output_price_per_1m": t.output_price_per_1m * factor}) for t in api.price_tiers]
    return s.model_copy(update={"api": api.model_copy(update=update)})


def _scale_ft_prices(s: Scenario, factor: float) -> Scenario:
    ft = s.fine_tuned
    update = {k: getattr(ft, k) * factor for k in ("input_price_per_1m", "output_price_per_1m")}
    return s.model_copy(update={"fine_tuned": ft.model_copy(update=update)})


def _review_share(s: Scenario) -> Optional[float]:
    shares = [getattr(s, o).hidden.review_share for o in s.options()]
    return max(shares) if shares else None


def _set_review_share(s: Scenario, value: float) -> Scenario:
    base = _review_share(s) or 1.0
    for o in s.options():
        share = getattr(s, o).hidden.review_share
        s = _nested(s, f"{o}.hidden.review_share", min(1.0, share * value / base))
    return s


def _field(path: str) -> tuple[Callable[[Scenario], Optional[float]], Callable[[Scenario, float], Scenario]]:
    def get(s: Scenario) -> Optional[float]:
        obj = s
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj  # type: ignore[return-value]

    return get, lambda s, v: _nested(s, path, v)


def drivers(scenario: Scenario) -> list[Driver]:
    out = [
        Driver("volume", "Volume (tokens/day)", lambda s: s.volume.daily_tokens,
               lambda s, v: _scale_volume(s, v / s.volume.daily_tokens)),
        Driver("api_prices", "API token prices", lambda s: s.api.input_price_per_1m,
               lambda s, v: _scale_api_prices(s, v / s.api.input_price_per_1m)),
        Driver("review_share", "Human review share", _review_share, _set_review_share, 1.0),
    ]
    sh = scenario.self_hosted
    if sh is not None:
        if sh.mode == "simple":
            out.append(Driver("infra", "GPU infrastructure", *_field("self_hosted.infra_monthly")))
            out.append(Driver("utilization", "GPU utilization", *_field("self_hosted.utilization"), 1.0))
        else:
            out.append(Driver("infra", "GPU hourly price", *_field("self_hosted.instance_hourly_usd")))
            out.append(Driver("utilization", "Target GPU utilization", *_field("self_hosted.target_utilization"), 1.0))
        out.append(Driver("fte", "MLOps headcount (FTE)", *_field("self_hosted.fte")))
        out.append(Driver("fte_cost", "Loaded cost per FTE", *_field("self_hosted.fte_annual_cost")))
    if scenario.fine_tuned is not None:
        out.append(Driver("ft_prices", "Fine-tuned token prices", lambda s: s.fine_tuned.output_price_per_1m or None,
                          lambda s, v: _scale_ft_prices(s, v / s.fine_tuned.output_price_per_1m)))
    return out


def _totals(s: Scenario) -> dict[str, float]:
    return {o: option_breakdown(s, o).total for o in s.options()}


def _breakeven(s: Scenario) -> Optional[float]:
    pair = primary_pair(s)
    return find_breakeven(s, *pair).tokens_per_day if pair else None


def tornado(scenario: Scenario, swing: Optional[float] = None) -> list[SensitivityRow]:
    """Each driver at (1 - swing) and (1 + swing) of its value; fractions capped at 1."""
    x = scenario.sensitivity.swing if swing is None else swing
    rows = []
    for d in drivers(scenario):
        base = d.get(scenario)
        if not base:
            continue  # a driver at 0 (or unset) cannot move by a percentage
        low, high = base * (1 - x), base * (1 + x)
        note = ""
        if d.ceiling is not None and high > d.ceiling:
            high, note = d.ceiling, f"capped at {d.ceiling:g}"
        s_low, s_high = d.set(scenario, low), d.set(scenario, high)
        rows.append(SensitivityRow(
            driver=d.key, label=d.label, base_value=base, low_value=low, high_value=high,
            totals_low=_totals(s_low), totals_high=_totals(s_high),
            breakeven_low=_breakeven(s_low), breakeven_high=_breakeven(s_high), note=note,
        ))
    return rows


def grid(scenario: Scenario) -> Optional[SensitivityGrid]:
    """Cheaper of API and self-hosted at each utilization x volume (None without self-hosting)."""
    sh = scenario.self_hosted
    if sh is None:
        return None
    field = "self_hosted.utilization" if sh.mode == "simple" else "self_hosted.target_utilization"
    t0 = scenario.volume.daily_tokens or 1e6
    volumes = [t0 * k for k in GRID_VOLUME_FACTORS]
    cheaper, difference = [], []
    for u in GRID_UTILIZATIONS:
        s = _nested(scenario, field, u)
        row_c, row_d = [], []
        for t in volumes:
            d = option_breakdown(s, "self_hosted", t).total - option_breakdown(s, "api", t).total
            row_c.append("self_hosted" if d < 0 else "api")
            row_d.append(d)
        cheaper.append(row_c)
        difference.append(row_d)
    return SensitivityGrid(utilizations=list(GRID_UTILIZATIONS), tokens_per_day=volumes, cheaper=cheaper, difference=difference)

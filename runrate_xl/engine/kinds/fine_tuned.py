"""Kind ``fine_tuned``: a fine-tuned model hosted by a vendor (seed 000, model 2)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from .. import functions as f
from ..common import HiddenCosts, Usd
from .base import Breakdown, Kind, LineItemSpec, OptionBase, OptionDriver, hidden_items, items_by_key, token_cost

if TYPE_CHECKING:
    from ..scenario import Scenario


class FineTunedOption(OptionBase):
    """A fine-tuned model hosted by a vendor (seed 000, model 2)."""

    kind: Literal["fine_tuned"]
    input_price_per_1m: Usd = Field(..., description="USD per 1M input tokens of the hosted fine-tuned model.")
    output_price_per_1m: Usd = Field(..., description="USD per 1M output tokens.")
    hosting_monthly: Usd = Field(0.0, description="Hosting fee, USD per month (seed 000: $1k-$3k).")
    setup_cost: Usd = Field(
        100_000.0, description="Data prep + training + validation, USD one-time (seed 000: $50k-$150k)."
    )
    refresh_interval_months: float = Field(
        6.0, gt=0, le=120, description="Months between re-fine-tunes as the base model goes stale."
    )
    refresh_cost: Usd = Field(0.0, description="USD per refresh; spread evenly over the interval.")
    retry_rate: float = Field(0.0, ge=0, le=5, description="Extra tokens re-sent by retries (timeouts, rate limits), as a fraction; retried failed tasks (hidden.success_rate) come on top.")
    private: bool = Field(
        False, description="Private deployment (private-cloud endpoint, BAA, zero-retention contract): stays eligible under strict privacy.")
    hidden: HiddenCosts = Field(default_factory=HiddenCosts)


LINE_ITEMS = items_by_key(
    LineItemSpec("input_tokens", "Input tokens", False, True, token=True),
    LineItemSpec("output_tokens", "Output tokens", False, True, token=True),
    LineItemSpec("retries", "Retries", True, True, token=True),
    LineItemSpec("hosting", "Model hosting", False, False),
    LineItemSpec("refresh", "Re-fine-tuning (spread)", True, False),
)


def breakdown(scenario: "Scenario", ft: FineTunedOption, t: float, price_factor: float) -> Breakdown:
    parts = f.api_token_breakdown(
        t, ft.input_price_per_1m, ft.output_price_per_1m, scenario.volume.input_share,
        scenario.volume.days_per_month, retry_rate=ft.hidden.retry_rate(ft.retry_rate),
    )
    amounts = {
        "input_tokens": parts["input_tokens"], "output_tokens": parts["output_tokens"], "retries": parts["retries"],
        "hosting": ft.hosting_monthly, "refresh": ft.refresh_cost / ft.refresh_interval_months,
    }
    items = [LINE_ITEMS[k](amounts[k]) for k in LINE_ITEMS] + hidden_items(scenario, ft.id, ft.hidden, t)
    return Breakdown(items, ft.setup_cost, token_cost(items, LINE_ITEMS), {}, [])


def drivers(ft: FineTunedOption) -> list[OptionDriver]:
    def scale(o: FineTunedOption, v: float) -> FineTunedOption:
        factor = v / o.output_price_per_1m
        return o.model_copy(update={k: getattr(o, k) * factor for k in ("input_price_per_1m", "output_price_per_1m")})

    return [OptionDriver("ft_prices", "Fine-tuned token prices", lambda o: o.output_price_per_1m or None, scale, linear=True)]


KIND = Kind(
    name="fine_tuned", label="Fine-tuned", model=FineTunedOption, line_items=LINE_ITEMS, breakdown=breakdown,
    drivers=drivers, prices_tokens=True, follows_api_price_decline=False, third_party=True,
)

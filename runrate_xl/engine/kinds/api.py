"""Kind ``api``: renting a model through a vendor API, priced per token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field, model_validator

from .. import functions as f
from ..common import Fraction, HiddenCosts, PriceTier, Usd
from ..errors import InputError
from .base import (Breakdown, Kind, LineItemSpec, OptionBase, OptionDriver, hidden_items, items_by_key, requests_per_month,
                   token_cost)

if TYPE_CHECKING:
    from ..scenario import Scenario

PRICE_FIELDS = ("input_price_per_1m", "output_price_per_1m", "cached_input_price_per_1m",
                "batch_input_price_per_1m", "batch_output_price_per_1m", "cache_write_price_per_1m",
                "cache_write_1h_price_per_1m", "service_input_price_per_1m", "service_output_price_per_1m")
ServiceTier = Literal["standard", "flex", "priority"]


class ApiOption(OptionBase):
    """Renting a model through a vendor API. Prices given here win over the catalog's."""

    kind: Literal["api"]
    model: Optional[str] = Field(None, description="Catalog model name, e.g. gpt-4o-mini.")
    input_price_per_1m: Optional[float] = Field(None, ge=0, description="USD per 1M input tokens.")
    output_price_per_1m: Optional[float] = Field(None, ge=0, description="USD per 1M output tokens.")
    cached_input_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M cached input tokens (missing: 10% of input)."
    )
    batch_input_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M batch input tokens (missing: 50% of input)."
    )
    batch_output_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M batch output tokens (missing: 50% of output)."
    )
    cache_write_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M input tokens written to a 5-minute cache (missing: 1.25x input where the provider charges a write premium)."
    )
    cache_write_1h_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M input tokens written to a 1-hour cache (missing: 2x input where the provider charges a write premium)."
    )
    service_input_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M input tokens at the service tier (flex or priority; filled by the catalog)."
    )
    service_output_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M output tokens at the service tier (flex or priority; filled by the catalog)."
    )
    price_tiers: list[PriceTier] = Field(default_factory=list, description="Long-context tiers.")
    provider: Optional[str] = Field(
        None, max_length=40,
        description="Vendor of the model (filled by the catalog): unpublished cache-write and flex prices follow the conventions only for a known vendor that offers them.")
    price_source: Optional[str] = Field(None, description="Where the prices came from (filled by the catalog).")
    price_as_of: Optional[str] = Field(None, description="As-of date of the prices, YYYY-MM-DD.")
    private: bool = Field(
        False, description="Private deployment (private-cloud endpoint, BAA, zero-retention contract): stays eligible under strict privacy.")
    cached_share: Fraction = Field(0.0, description="Share of input tokens served from the prompt cache.")
    cache_write_share: Fraction = Field(0.0, description="Share of input tokens written to the prompt cache with a 5-minute lifetime.")
    cache_write_1h_share: Fraction = Field(0.0, description="Share of input tokens written to the prompt cache with a 1-hour lifetime.")
    reasoning_tokens_per_request: float = Field(
        0.0, ge=0, description="Reasoning (thinking) tokens per request, billed at the output price on top of the request's tokens (needs a request size).")
    batch_share: Fraction = Field(0.0, description="Share of tokens sent through the batch API.")
    service_tier: ServiceTier = Field(
        "standard", description="Service tier of the traffic not sent through the batch API: standard, flex (cheaper, slower) or priority (dearer, faster).")
    negotiated_discount_share: Fraction = Field(0.0, description="Negotiated discount off every token price (enterprise or committed-spend agreement).")
    retry_rate: float = Field(0.0, ge=0, le=5, description="Extra tokens re-sent by retries (timeouts, rate limits), as a fraction; retried failed tasks (hidden.success_rate) come on top.")
    setup_cost: Usd = Field(0.0, description="One-time integration cost, USD (seed 000: ~$0).")
    hidden: HiddenCosts = Field(default_factory=HiddenCosts)

    @model_validator(mode="after")
    def _model_or_prices(self) -> "ApiOption":
        if self.model is None and (self.input_price_per_1m is None or self.output_price_per_1m is None):
            raise ValueError("an api option needs a catalog model, or input_price_per_1m and output_price_per_1m")
        cache = self.cached_share + self.cache_write_share + self.cache_write_1h_share
        if cache > 1.0 + 1e-12:
            raise ValueError(f"cached_share + cache_write_share + cache_write_1h_share is {cache:g}, expected at most 1 "
                             "(shares of the same input tokens)")
        thresholds = [t.above_input_tokens for t in self.price_tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("price_tiers must have distinct above_input_tokens in increasing order")
        return self


LINE_ITEMS = items_by_key(
    LineItemSpec("input_tokens", "Input tokens", False, True, token=True),
    LineItemSpec("cached_input_tokens", "Cached input tokens", False, True, token=True),
    LineItemSpec("cache_write_tokens", "Cache writes", False, True, token=True),
    LineItemSpec("output_tokens", "Output tokens", False, True, token=True),
    LineItemSpec("reasoning_tokens", "Reasoning tokens", False, True, token=True),
    LineItemSpec("batch_tokens", "Batch tokens", False, True, token=True),
    LineItemSpec("retries", "Retries", True, True, token=True),
)


def api_prices(scenario: "Scenario", api: ApiOption) -> tuple[dict[str, Optional[float]], list[str]]:
    """The API prices in force for the scenario's request size (long-context tier applied)."""
    if api.input_price_per_1m is None or api.output_price_per_1m is None:
        missing = "input_price_per_1m" if api.input_price_per_1m is None else "output_price_per_1m"
        raise InputError(
            f"{api.id}.{missing}", None,
            f"a price per 1M tokens (model {api.model!r} must be resolved through the catalog first)",
        )
    prices: dict[str, Optional[float]] = {
        "input": api.input_price_per_1m,
        "output": api.output_price_per_1m,
        "cached_input": api.cached_input_price_per_1m,
        "batch_input": api.batch_input_price_per_1m,
        "batch_output": api.batch_output_price_per_1m,
        "cache_write": api.cache_write_price_per_1m,
        "cache_write_1h": api.cache_write_1h_price_per_1m,
    }
    notes: list[str] = []
    if prices["cached_input"] is None and api.cached_share > 0:
        notes.append("Cached-input price not published: using the convention 10% of the input price.")
    if (prices["batch_input"] is None or prices["batch_output"] is None) and api.batch_share > 0:
        notes.append("Batch price not published: using the convention 50% of the standard price.")
    for key, share, field, times, ttl in (("cache_write", api.cache_write_share, "cache_write_price_per_1m", f.CACHE_WRITE_5M_OF_INPUT, "5-minute"),
                                          ("cache_write_1h", api.cache_write_1h_share, "cache_write_1h_price_per_1m", f.CACHE_WRITE_1H_OF_INPUT, "1-hour")):
        if prices[key] is None and share > 0:
            if api.provider is None:
                raise InputError(f"{api.id}.{field}", None,
                                 f"a price per 1M tokens written to a {ttl} cache, or a catalog model: with no known provider no "
                                 "convention applies (Anthropic charges a write premium, OpenAI bills writes at the input price)")
            notes.append(f"{ttl.capitalize()} cache-write price not published for this model: using the convention "
                         f"{times:g}x the input price ({api.provider} charges a cache-write premium).")
    service = _service_factors(api, notes)
    if api.price_tiers:
        size = scenario.volume.request_size
        if size is None:
            notes.append("Long-context price tiers ignored: the volume has no request size.")
        else:
            input_per_request = size * scenario.volume.input_share
            tier = next((t for t in reversed(api.price_tiers) if input_per_request > t.above_input_tokens), None)
            if tier is not None:
                ratio_in = tier.input_price_per_1m / prices["input"] if prices["input"] else 1.0
                ratio_out = tier.output_price_per_1m / prices["output"] if prices["output"] else 1.0
                for key, ratio in (("cached_input", ratio_in), ("batch_input", ratio_in), ("batch_output", ratio_out),
                                   ("cache_write", ratio_in), ("cache_write_1h", ratio_in)):
                    if prices[key] is not None:
                        prices[key] = prices[key] * ratio  # type: ignore[operator]
                prices["input"], prices["output"] = tier.input_price_per_1m, tier.output_price_per_1m
                notes.append(
                    f"Long-context tier applies: {input_per_request:,.0f} input tokens per request is above "
                    f"{tier.above_input_tokens:,}."
                )
    if service != (1.0, 1.0):  # the synchronous traffic's prices at the service tier; batch keeps its own
        f_in, f_out = service
        for key, base in (("batch_input", "input"), ("batch_output", "output")):  # batch conventions stay on the standard price
            if prices[key] is None:
                prices[key] = f.batch_price(prices[base])  # type: ignore[arg-type]
        for key, ratio in (("input", f_in), ("cached_input", f_in), ("cache_write", f_in), ("cache_write_1h", f_in), ("output", f_out)):
            if prices[key] is not None:
                prices[key] = prices[key] * ratio  # type: ignore[operator]
    return prices, notes


def _service_factors(api: ApiOption, notes: list[str]) -> tuple[float, float]:
    """(input, output) price multipliers of the service tier against the standard prices."""
    tier = api.service_tier
    if tier == "standard":
        return 1.0, 1.0
    s_in, s_out = api.service_input_price_per_1m, api.service_output_price_per_1m
    if s_in is not None and s_out is not None:
        std_in, std_out = api.input_price_per_1m or 0.0, api.output_price_per_1m or 0.0
        return (s_in / std_in if std_in else 1.0), (s_out / std_out if std_out else 1.0)
    if tier == "flex" and s_in is None and s_out is None and api.provider is not None:
        notes.append(f"Flex price not published for this model: using the convention {f.FLEX_SHARE_OF_STANDARD:.0%} of the "
                     f"standard price ({api.provider} offers a flex tier).")
        return f.FLEX_SHARE_OF_STANDARD, f.FLEX_SHARE_OF_STANDARD
    missing = "service_input_price_per_1m" if s_in is None else "service_output_price_per_1m"
    why = ("priority prices have no convention" if tier == "priority"
           else "with no known provider offering flex no convention applies")
    raise InputError(f"{api.id}.{missing}", None,
                     f"the {tier} tier's price per 1M tokens ({why}; the catalog fills it for models that have the tier)")


def breakdown(scenario: "Scenario", api: ApiOption, t: float, price_factor: float) -> Breakdown:
    prices, notes = api_prices(scenario, api)
    scaled = {k: (None if v is None else v * price_factor) for k, v in prices.items()}
    requests = requests_per_month(scenario, t)
    if api.reasoning_tokens_per_request > 0 and requests is None:
        raise InputError("volume.tokens_per_request", None,
                         f"a request size (or requests_per_month), because {api.id}.reasoning_tokens_per_request is above 0 "
                         "(reasoning tokens are counted per request)")
    parts = f.api_invoice_breakdown(
        t, scaled["input"], scaled["output"], scenario.volume.input_share, scenario.volume.days_per_month,  # type: ignore[arg-type]
        api.cached_share, api.batch_share, api.hidden.retry_rate(api.retry_rate),
        scaled["cached_input"], scaled["batch_input"], scaled["batch_output"],
        api.cache_write_share, api.cache_write_1h_share, scaled["cache_write"], scaled["cache_write_1h"],
        requests, api.reasoning_tokens_per_request, api.negotiated_discount_share,
    )
    if api.negotiated_discount_share > 0:
        notes = notes + [f"Negotiated discount of {api.negotiated_discount_share:.0%} off every token price."]
    items = [LINE_ITEMS[k](parts[k]) for k in LINE_ITEMS] + hidden_items(scenario, api.id, api.hidden, t)
    return Breakdown(items, api.setup_cost, token_cost(items, LINE_ITEMS), {}, notes)


def scale_prices(api: ApiOption, factor: float) -> ApiOption:
    """The option with every token price (tiers included) multiplied by ``factor``."""
    update: dict = {k: getattr(api, k) * factor for k in PRICE_FIELDS if getattr(api, k) is not None}
    update["price_tiers"] = [t.model_copy(update={"input_price_per_1m": t.input_price_per_1m * factor,
                                                  "output_price_per_1m": t.output_price_per_1m * factor})
                             for t in api.price_tiers]
    return api.model_copy(update=update)


def drivers(api: ApiOption) -> list[OptionDriver]:
    return [OptionDriver("api_prices", "API token prices", lambda o: o.input_price_per_1m,
                         lambda o, v: scale_prices(o, v / o.input_price_per_1m), linear=True)]


KIND = Kind(
    name="api", label="API", model=ApiOption, line_items=LINE_ITEMS, breakdown=breakdown, drivers=drivers,
    prices_tokens=True, follows_api_price_decline=True, third_party=True,
)

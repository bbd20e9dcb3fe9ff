"""API prices: the shipped override file first, then the genai-prices package (maintained
prices for thousands of models, with history). Every value says where it came from."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib.metadata import version
from typing import Optional

from pydantic import BaseModel, ConfigDict

from ..engine.errors import InputError
from ..engine.functions import BATCH_SHARE_OF_STANDARD, CACHED_INPUT_SHARE_OF_INPUT
from ..engine.scenario import PriceTier
from ._data import load_data

PRICE_KINDS = ("input", "output", "cached_input", "batch_input", "batch_output")
# Prices published for some models only (no convention in the catalog: the engine applies one
# only where the provider offers the item, see ProviderOffers).
OPTIONAL_KINDS = ("cache_write", "cache_write_1h", "flex_input", "flex_output", "priority_input", "priority_output")
SERVICE_TIERS = ("flex", "priority")


class PricedValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    usd_per_1m: float
    source: str
    as_of: str
    convention: bool = False  # True: derived by the 10% / 50% convention, not published


class ModelPrices(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    model: str
    provider: str
    input: PricedValue
    output: PricedValue
    cached_input: PricedValue
    batch_input: PricedValue
    batch_output: PricedValue
    tiers: list[PriceTier] = []
    cache_write: Optional[PricedValue] = None  # 5-minute cache write
    cache_write_1h: Optional[PricedValue] = None
    flex_input: Optional[PricedValue] = None
    flex_output: Optional[PricedValue] = None
    priority_input: Optional[PricedValue] = None
    priority_output: Optional[PricedValue] = None

    def published(self, kind: str) -> Optional[float]:
        """The value if published (None when it is only a convention)."""
        v: Optional[PricedValue] = getattr(self, kind)
        return None if v is None or v.convention else v.usd_per_1m


class ProviderOffers(BaseModel):
    """What a provider's price list offers at all (any of its models): decides whether a price a
    model does not publish follows a convention (offered) or the undiscounted price (not offered)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    provider: str
    cache_read: bool
    cache_write_5m: bool  # a 5-minute cache-write premium
    cache_write_1h: bool
    batch: bool
    flex: bool
    priority: bool
    source: str
    as_of: str

    def offers(self, item: str) -> bool:
        return bool(getattr(self, item))


def _genai_version() -> str:
    return version("genai-prices")


def model_names() -> list[str]:
    """Names runrate_xl ships itself (genai-prices knows thousands more; any of them works)."""
    return sorted(load_data("api_prices.yaml")["models"])


def _convention(base: PricedValue, share: float, what: str) -> PricedValue:
    return PricedValue(
        usd_per_1m=base.usd_per_1m * share, as_of=base.as_of, convention=True,
        source=f"convention: {what} = {share:.0%} of the standard price",
    )


def _complete(model: str, provider: str, values: dict[str, Optional[PricedValue]], tiers: list[PriceTier]) -> ModelPrices:
    inp, out = values["input"], values["output"]
    assert inp is not None and out is not None
    return ModelPrices(
        model=model, provider=provider, input=inp, output=out,
        cached_input=values.get("cached_input") or _convention(inp, CACHED_INPUT_SHARE_OF_INPUT, "cached input"),
        batch_input=values.get("batch_input") or _convention(inp, BATCH_SHARE_OF_STANDARD, "batch input"),
        batch_output=values.get("batch_output") or _convention(out, BATCH_SHARE_OF_STANDARD, "batch output"),
        tiers=tiers, **{k: values.get(k) for k in OPTIONAL_KINDS},
    )


def _from_override(name: str, entry: dict) -> ModelPrices:
    values = {
        kind: PricedValue(usd_per_1m=float(entry[kind]), source=entry["source"], as_of=str(entry["as_of"]))
        for kind in PRICE_KINDS + OPTIONAL_KINDS if entry.get(kind) is not None
    }
    return _complete(name, entry.get("provider", "?"), values, [])


def _base(price) -> Optional[float]:
    if price is None:
        return None
    return float(price.base if hasattr(price, "base") else price)


def _tiers(prices) -> list[PriceTier]:
    inp, out = getattr(prices, "input_mtok", None), getattr(prices, "output_mtok", None)
    starts = sorted({t.start for p in (inp, out) if hasattr(p, "tiers") for t in p.tiers})

    def at(price, start: int) -> float:
        if not hasattr(price, "tiers"):
            return float(price)
        applicable = [t for t in price.tiers if t.start <= start]
        return float(applicable[-1].price) if applicable else float(price.base)

    return [PriceTier(above_input_tokens=s, input_price_per_1m=at(inp, s), output_price_per_1m=at(out, s)) for s in starts]


@lru_cache(maxsize=512)
def lookup_prices(model: str, as_of: Optional[dt.date] = None) -> ModelPrices:
    """Prices of ``model`` in force on ``as_of`` (default: today), with sources.

    Raises :class:`InputError` naming the model when no catalog knows it.
    """
    if not isinstance(model, str) or not model.strip():
        raise InputError("model", model, "a model name such as gpt-4o-mini", kind="type")
    overrides = load_data("api_prices.yaml")["models"]
    if model in overrides:
        return _from_override(model, overrides[model])
    from genai_prices import data_snapshot  # imported lazily: a large module

    day = as_of or dt.date.today()
    try:
        provider, info = data_snapshot.get_snapshot().find_provider_model(model, None, None, None)
    except LookupError:
        raise InputError("model", model, "a model known to genai-prices or runrate_xl's price file (see `runrate prices --list`)") from None
    when = dt.datetime.combine(day, dt.time(12))
    standard = info.get_prices(when)
    batch = info.get_prices(when, {"processing": "batch"})
    url = (provider.pricing_urls or [""])[0]
    source = f"genai-prices {_genai_version()} ({provider.name}{': ' + url if url else ''})"
    stamp = day.isoformat()

    def pv(value: Optional[float], src: str = source) -> Optional[PricedValue]:
        return None if value is None else PricedValue(usd_per_1m=value, source=src, as_of=stamp)

    inp, out = _base(getattr(standard, "input_mtok", None)), _base(getattr(standard, "output_mtok", None))
    if inp is None or out is None:
        raise InputError("model", model, "a text model with input and output token prices")
    values = {"input": pv(inp), "output": pv(out), "cached_input": pv(_base(getattr(standard, "cache_read_mtok", None))),
              "cache_write": pv(_base(getattr(standard, "cache_write_mtok", None))),
              "cache_write_1h": pv(_base(getattr(standard, "cache_write_1h_mtok", None)))}
    b_in, b_out = _base(getattr(batch, "input_mtok", None)), _base(getattr(batch, "output_mtok", None))
    if (b_in, b_out) != (inp, out):  # a batch variant is in force
        values["batch_input"] = pv(b_in, source + " batch")
        values["batch_output"] = pv(b_out, source + " batch")
    for tier in SERVICE_TIERS:
        at = info.get_prices(when, {"service_tier": tier})
        t_in, t_out = _base(getattr(at, "input_mtok", None)), _base(getattr(at, "output_mtok", None))
        if (t_in, t_out) != (inp, out) and t_in is not None and t_out is not None:  # the tier has its own prices
            values[f"{tier}_input"] = pv(t_in, f"{source} {tier} tier")
            values[f"{tier}_output"] = pv(t_out, f"{source} {tier} tier")
    return _complete(info.id, provider.id, values, _tiers(standard))


@lru_cache(maxsize=64)
def provider_offers(provider: str, as_of: Optional[dt.date] = None) -> Optional[ProviderOffers]:
    """What ``provider`` offers across its models in genai-prices on ``as_of`` (None: a provider
    genai-prices does not list, so nothing is known about its discounts)."""
    from genai_prices import data_snapshot

    found = next((p for p in data_snapshot.get_snapshot().providers if p.id == provider), None)
    if found is None:
        return None
    day = as_of or dt.date.today()
    when = dt.datetime.combine(day, dt.time(12))
    seen = dict.fromkeys(("cache_read", "cache_write_5m", "cache_write_1h", "batch", "flex", "priority"), False)
    for info in found.models:
        standard = info.get_prices(when)
        seen["cache_read"] |= getattr(standard, "cache_read_mtok", None) is not None
        seen["cache_write_5m"] |= getattr(standard, "cache_write_mtok", None) is not None
        seen["cache_write_1h"] |= getattr(standard, "cache_write_1h_mtok", None) is not None
        for item, ctx in (("batch", {"processing": "batch"}), ("flex", {"service_tier": "flex"}),
                          ("priority", {"service_tier": "priority"})):
            if not seen[item] and info.get_prices(when, ctx) != standard:
                seen[item] = True
    url = (found.pricing_urls or [""])[0]
    return ProviderOffers(provider=provider, **seen, as_of=day.isoformat(),
                          source=f"genai-prices {_genai_version()} ({found.name}{': ' + url if url else ''}), all its models")

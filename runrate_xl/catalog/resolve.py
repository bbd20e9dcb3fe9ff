"""Fill a scenario's missing prices from the catalogs. Values the user gave always win."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from ..engine.errors import InputError
from ..engine.scenario import Scenario
from .gpus import lookup_gpu
from .prices import lookup_prices

_API_FIELDS = {
    "input_price_per_1m": "input",
    "output_price_per_1m": "output",
    "cached_input_price_per_1m": "cached_input",
    "batch_input_price_per_1m": "batch_input",
    "batch_output_price_per_1m": "batch_output",
}


def resolve(scenario: Scenario, as_of: Optional[dt.date] = None) -> Scenario:
    """A copy of ``scenario`` whose API and GPU figures are explicit, with their sources.

    Published catalog prices fill empty fields; a price that is only a convention (cached 10%,
    batch 50%) is left empty so the engine applies the convention and says so in its notes.
    """
    data = scenario.model_dump()
    for option in data["options"]:
        if option["kind"] == "api":
            _resolve_api(option, as_of)
        elif option["kind"] == "self_hosted":
            _resolve_gpu(option)
    return Scenario.model_validate(data)


def _resolve_api(api: dict, as_of: Optional[dt.date]) -> None:
    if not api.get("model"):
        return
    prices = lookup_prices(api["model"], as_of)
    filled = []
    for field, kind in _API_FIELDS.items():
        if api.get(field) is None and prices.published(kind) is not None:
            api[field] = prices.published(kind)
            filled.append(kind)
    if filled and not api.get("price_source"):
        api["price_source"] = prices.input.source
        api["price_as_of"] = prices.input.as_of
    if not api.get("price_tiers") and prices.tiers and "input" in filled:
        api["price_tiers"] = [t.model_dump() for t in prices.tiers]


def _resolve_gpu(sh: dict) -> None:
    if sh.get("mode") != "capacity" or not sh.get("gpu"):
        return
    gpu = lookup_gpu(sh["gpu"])
    if sh.get("instance_hourly_usd") is None:
        sh["instance_hourly_usd"] = gpu.hourly_usd
        sh["price_source"] = sh.get("price_source") or gpu.source
        sh["price_as_of"] = sh.get("price_as_of") or gpu.as_of
    if sh.get("gpus_per_instance") is None:
        sh["gpus_per_instance"] = gpu.gpus_per_instance
    if sh.get("tokens_per_second_per_gpu") is None:
        size = sh.get("model_size")
        if size not in gpu.tokens_per_second_per_gpu:
            raise InputError(f"{sh['id']}.model_size", size, f"one of {', '.join(gpu.tokens_per_second_per_gpu)} for {gpu.name}")
        sh["tokens_per_second_per_gpu"] = gpu.tokens_per_second_per_gpu[size]

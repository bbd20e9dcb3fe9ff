"""Fill a scenario's missing prices from the catalogs. Values the user gave always win."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from ..engine.errors import InputError
from ..engine.scenario import Scenario
from .gpu_specs import lookup_gpu_spec
from .instances import lookup_instance
from .models import lookup_model
from .prices import lookup_prices, provider_offers
from .servers import ServerHardware, lookup_server
from .throughput import Hardware, figures_for, instance_capacity

_API_FIELDS = {
    "input_price_per_1m": "input",
    "output_price_per_1m": "output",
    "cached_input_price_per_1m": "cached_input",
    "batch_input_price_per_1m": "batch_input",
    "batch_output_price_per_1m": "batch_output",
    "cache_write_price_per_1m": "cache_write",
    "cache_write_1h_price_per_1m": "cache_write_1h",
}


def resolve(scenario: Scenario, as_of: Optional[dt.date] = None) -> Scenario:
    """A copy of ``scenario`` whose API and GPU figures are explicit, with their sources.

    Published catalog prices fill empty fields; a price that is only a convention (cached 10%,
    batch 50%) is left empty so the engine applies the convention and says so in its notes.
    """
    data = scenario.model_dump()
    for option, given in zip(data["options"], scenario.options):
        if option["kind"] == "api":
            _resolve_api(option, as_of)
        elif option["kind"] == "self_hosted":
            _resolve_gpu(option, scenario, as_of)
        elif option["kind"] == "on_prem":
            _resolve_on_prem(option, given.model_fields_set, scenario, as_of)
    return Scenario.model_validate(data)


def _resolve_api(api: dict, as_of: Optional[dt.date]) -> None:
    prices = lookup_prices(api["model"], as_of) if api.get("model") else None
    if prices is not None:
        filled = []
        for field, kind in _API_FIELDS.items():
            if api.get(field) is None and prices.published(kind) is not None:
                api[field] = prices.published(kind)
                filled.append(kind)
        tier = api.get("service_tier") or "standard"
        if tier != "standard":
            for leaf in ("input", "output"):
                field = f"service_{leaf}_price_per_1m"
                if api.get(field) is None and prices.published(f"{tier}_{leaf}") is not None:
                    api[field] = prices.published(f"{tier}_{leaf}")
        if filled and not api.get("price_source"):
            api["price_source"] = prices.input.source
            api["price_as_of"] = prices.input.as_of
        if not api.get("price_tiers") and prices.tiers and "input" in filled:
            api["price_tiers"] = [t.model_dump() for t in prices.tiers]
    _provider_rules(api, prices, as_of)


def _provider_rules(api: dict, prices, as_of: Optional[dt.date]) -> None:
    """What the provider offers decides a price the model does not publish: the engine's
    convention where the provider offers the discount (or charges the premium), the undiscounted
    input or standard price where it does not (said in the price source). A provider unknown to
    the catalog leaves ``provider`` empty: the engine then applies no convention to cache writes
    or service tiers."""
    oid = api.get("id", "api")
    given = api.get("provider")
    name = given or (prices.provider if prices is not None else None)
    offers = provider_offers(name, as_of) if name else None
    if offers is None:
        if given:
            raise InputError(f"{oid}.provider", given, "a provider genai-prices lists (e.g. openai, anthropic, google), or leave it "
                             "empty and give every price the option uses")
        return
    if (api.get("cache_write_share") or 0) > 0 or (api.get("cache_write_1h_share") or 0) > 0 or \
            (api.get("service_tier") or "standard") != "standard":
        api["provider"] = name  # only where a convention depends on it (older templates have no provider cell)
    said: list[str] = []
    inp = api.get("input_price_per_1m")
    publishes_cache = prices is not None and prices.published("cached_input") is not None
    if (api.get("cached_share") or 0) > 0 and api.get("cached_input_price_per_1m") is None and not offers.cache_read:
        api["cached_input_price_per_1m"] = inp
        said.append(f"{name} has no cache-read discount: cached input at the input price")
    for share, field, item, ttl in (("cache_write_share", "cache_write_price_per_1m", "cache_write_5m", "5-minute"),
                                    ("cache_write_1h_share", "cache_write_1h_price_per_1m", "cache_write_1h", "1-hour")):
        if (api.get(share) or 0) > 0 and api.get(field) is None and (publishes_cache or not offers.offers(item)):
            api[field] = inp
            who = f"{api.get('model')} publishes no {ttl} write premium" if publishes_cache else f"{name} charges no {ttl} write premium"
            said.append(f"{who}: cache writes at the input price")
    if (api.get("batch_share") or 0) > 0 and not offers.batch:
        for leaf in ("input", "output"):
            if api.get(f"batch_{leaf}_price_per_1m") is None:
                api[f"batch_{leaf}_price_per_1m"] = api.get(f"{leaf}_price_per_1m")
        said.append(f"{name} has no batch discount: batch tokens at the standard price")
    tier = api.get("service_tier") or "standard"
    if tier != "standard" and api.get("service_input_price_per_1m") is None and not offers.offers(tier):
        raise InputError(f"{oid}.service_tier", tier, f"a tier {name} offers (genai-prices lists no {tier} price for any {name} "
                         "model): standard, or give service_input_price_per_1m and service_output_price_per_1m")
    if said:
        source = api.get("price_source") or "your prices"
        api["price_source"] = f"{source}; {'; '.join(said)} ({offers.source}, {offers.as_of})"


# The first GPU table's size keys had no published source; none maps to a published figure.
LEGACY_MODEL_SIZES = ("7b", "13b", "70b-q4", "70b")


def _resolve_gpu(sh: dict, scenario: Scenario, as_of: Optional[dt.date]) -> None:
    """Capacity mode: the instance price of the term in force on ``as_of``, GPUs per instance and
    an effective tokens/s per GPU for the request mix from a published benchmark (after the
    memory check). Values the user gave win and are said to be theirs."""
    if sh.get("mode") != "capacity":
        return
    oid = sh["id"]
    if sh.get("model_size") is not None and sh.get("tokens_per_second_per_gpu") is None:
        raise InputError(f"{oid}.model_size", sh["model_size"],
                         "model and precision from the catalog (e.g. model: llama-3.1-70b, precision: fp8); the size keys "
                         f"({', '.join(LEGACY_MODEL_SIZES)}) came from an unsourced planning table and have no published throughput",
                         hint="see `runrate gpus --throughput` for the published combinations")
    if not sh.get("gpu"):
        if sh.get("model") and sh.get("tokens_per_second_per_gpu") is None:
            raise InputError(f"{oid}.gpu", None, "a GPU instance of the catalog: published throughput is per GPU type")
        return
    instance = lookup_instance(sh["gpu"], f"{oid}.gpu")
    day = as_of or dt.date.today()
    term = sh.get("pricing_term") or "on_demand"
    if sh.get("instance_hourly_usd") is None:
        price = instance.price(term, day, f"{oid}.gpu")
        hourly, source = price.usd_per_hour, f"{instance.id} {term} {price.usd_per_hour:g} USD/h ({instance.region}): {price.source}"
        if term == "spot":
            overhead = sh["spot_interruption_overhead"]
            hourly *= 1.0 + overhead
            source += f"; x (1 + {overhead:g}) for the spot interruption overhead you stated"
        sh["instance_hourly_usd"] = hourly
        sh["price_source"] = source
        sh["price_as_of"] = price.as_of.isoformat()
    else:
        sh["price_source"] = sh.get("price_source") or "your value (instance_hourly_usd)"
    if sh.get("gpus_per_instance") is None:
        sh["gpus_per_instance"] = instance.gpus_per_instance
    if sh.get("tokens_per_second_per_gpu") is not None:
        sh["throughput_source"] = sh.get("throughput_source") or "your value (tokens_per_second_per_gpu)"
        return
    _fill_throughput(sh, instance, scenario, "instance")


def _fill_throughput(sh: dict, instance: Hardware, scenario: Scenario, unit: str) -> None:
    """An effective tokens/s per GPU for the request mix from a published benchmark, after the
    memory check, with its source and conditions (capacity mode, and on-prem servers)."""
    oid = sh["id"]
    model = lookup_model(sh["model"], f"{oid}.model")
    size, share = scenario.volume.request_size, scenario.volume.input_share
    input_tokens = size * share if size else None
    output_tokens = size * (1.0 - share) if size else None
    context = sh.get("context_tokens") or size
    if context is None:  # no request size: the longest request of the benchmarks for this combination
        figures = figures_for(model.id, instance.gpu, sh["precision"])
        context = max(((f.input_tokens_per_request or 0) + (f.output_tokens_per_request or 0) for f in figures), default=1.0)
    capacity = instance_capacity(instance, model, sh["precision"], input_tokens=input_tokens, output_tokens=output_tokens,
                                 context_tokens=context, concurrent_requests=sh.get("concurrent_requests") or 1.0,
                                 headroom=sh.get("memory_headroom", 0.1), field=f"{oid}.model")
    fig = capacity.figure
    sh["tokens_per_second_per_gpu"] = capacity.tokens_per_second_per_gpu
    sh["throughput_source"] = (f"{fig.source}: {fig.conditions()}. Capacity {capacity.tokens_per_day:,.0f} tokens/day per "
                               f"{unit} at 100%: {capacity.rule}")
    sh["throughput_as_of"] = fig.as_of.isoformat()
    sh["memory_needed_gb"] = capacity.memory_needed_gb
    sh["memory_available_gb"] = capacity.memory_available_gb


def _resolve_on_prem(op: dict, given: set, scenario: Scenario, as_of: Optional[dt.date]) -> None:
    """On-prem: the server price read on or before ``as_of`` (and its installation share, unless
    you set install_share), the GPU's board power, and with model and precision an effective
    tokens/s per GPU from a published benchmark (memory checked on the server's GPUs). Values the
    user gave win and are said to be theirs."""
    oid, gpu, gpus = op["id"], op.get("gpu_type"), op.get("gpus_per_server")
    day = as_of or dt.date.today()
    if op.get("server_price") is None:
        server = lookup_server(gpu, gpus, f"{oid}.gpu_type", day)  # the model checked gpu_type and gpus_per_server are given
        op["server_price"] = server.price_usd
        op["server_price_source"] = f"{server.gpus}x {server.gpu} server {server.price_usd:,.0f} USD: {server.source}"
        op["server_price_as_of"] = server.as_of.isoformat()
        if "install_share" not in given:
            op["install_share"] = server.install_usd / server.price_usd
            op["server_price_source"] += f"; installation {server.install_usd:,.0f} USD ({op['install_share']:.1%} of the price)"
    else:
        op["server_price_source"] = op.get("server_price_source") or "your value (server_price)"
    if op.get("gpu_tdp_watts") is None:
        spec = lookup_gpu_spec(gpu, f"{oid}.gpu_type")
        if spec.tdp_watts is None:
            raise InputError(f"{oid}.gpu_tdp_watts", None, f"the board power of {gpu} (the GPU catalog has no verified TDP for it): give it")
        op["gpu_tdp_watts"] = spec.tdp_watts
        op["tdp_source"] = f"{gpu} {spec.tdp_watts:g} W: {spec.source}"
        op["tdp_as_of"] = spec.as_of.isoformat()
    else:
        op["tdp_source"] = op.get("tdp_source") or "your value (gpu_tdp_watts)"
    if op.get("tokens_per_second_per_gpu") is not None:
        op["throughput_source"] = op.get("throughput_source") or "your value (tokens_per_second_per_gpu)"
    elif op.get("capacity_tokens_per_day") is not None:
        op["throughput_source"] = op.get("throughput_source") or "your value (capacity_tokens_per_day)"
    elif op.get("model"):
        if not gpu:
            raise InputError(f"{oid}.gpu_type", None, "a GPU type of the catalog: published throughput is per GPU type")
        lookup_gpu_spec(gpu, f"{oid}.gpu_type")
        _fill_throughput(op, ServerHardware(gpu, gpus), scenario, "server")

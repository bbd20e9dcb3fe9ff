"""Monthly cost of each option as line items, tagged visible/hidden and fixed/variable.

Everything is computed from the primitives in :mod:`functions`; the functions here only decide
which primitive applies to which input and label the result. ``tokens_per_day`` and
``price_factor`` can differ from the scenario's own values so the same code serves break-even,
TCO months and sensitivity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from . import functions as f
from .errors import InputError
from .results import LineItem, OptionCost
from .scenario import OPTION_LABELS, ApiOption, FineTunedOption, HiddenCosts, Scenario, SelfHostedOption


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    amount: float
    hidden: bool
    variable: bool


@dataclass(frozen=True)
class Breakdown:
    items: list[Item]
    one_time: float
    token_cost: float
    details: dict[str, float]
    notes: list[str]

    @property
    def total(self) -> float:
        return sum(i.amount for i in self.items)


def option_breakdown(scenario: Scenario, option: str, tokens_per_day: Optional[float] = None, price_factor: float = 1.0) -> Breakdown:
    """Line items of ``option`` at ``tokens_per_day`` (default: the scenario's volume)."""
    t = scenario.volume.daily_tokens if tokens_per_day is None else tokens_per_day
    if option == "api":
        return _api(scenario, scenario.api, t, price_factor)
    if option == "fine_tuned" and scenario.fine_tuned is not None:
        return _fine_tuned(scenario, scenario.fine_tuned, t)
    if option == "self_hosted" and scenario.self_hosted is not None:
        return _self_hosted(scenario, scenario.self_hosted, t)
    raise InputError("option", option, f"one of the scenario's options: {', '.join(scenario.options())}")


def option_total(scenario: Scenario, option: str, tokens_per_day: Optional[float] = None, price_factor: float = 1.0) -> float:
    return option_breakdown(scenario, option, tokens_per_day, price_factor).total


def option_cost(scenario: Scenario, option: str) -> OptionCost:
    """The option's monthly cost at the scenario's volume, as a result model."""
    b = option_breakdown(scenario, option)
    items = [
        LineItem(key=i.key, label=i.label, monthly_usd=i.amount, hidden=i.hidden,
                 behaviour="variable" if i.variable else "fixed")
        for i in b.items
    ]
    total = b.total
    hidden = sum(i.amount for i in b.items if i.hidden)
    variable = sum(i.amount for i in b.items if i.variable)
    blended = None
    if option != "self_hosted" and scenario.volume.daily_tokens > 0:
        blended = f.blended_price_per_1m(b.token_cost, scenario.volume.daily_tokens, scenario.volume.days_per_month)
    return OptionCost(
        option=option,
        label=OPTION_LABELS[option],
        line_items=items,
        total_monthly=total,
        visible_monthly=total - hidden,
        hidden_monthly=hidden,
        hidden_share=hidden / total if total > 0 else None,
        fixed_monthly=total - variable,
        variable_monthly=variable,
        one_time_cost=b.one_time,
        token_cost_monthly=b.token_cost,
        blended_price_per_1m=blended,
        details=b.details,
        notes=b.notes,
    )


def requests_per_month(scenario: Scenario, tokens_per_day: float) -> Optional[float]:
    """Requests per month at a volume, holding the request size fixed; None without a size."""
    size = scenario.volume.request_size
    if size is None:
        return None
    return f.monthly_tokens(tokens_per_day, scenario.volume.days_per_month) / size


def _hidden_items(scenario: Scenario, option: str, hidden: HiddenCosts, tokens_per_day: float) -> list[Item]:
    per_request = hidden.per_request_cost
    requests = requests_per_month(scenario, tokens_per_day)
    if per_request > 0 and requests is None:
        raise InputError(
            f"volume.tokens_per_request", None,
            f"a request size (or requests_per_month), because {option}.hidden has per-request costs "
            "(review_share, tool_calls_per_request)",
        )
    n = requests or 0.0
    return [
        Item("human_review", "Human review", n * hidden.review_share * hidden.review_unit_cost, True, True),
        Item("tool_calls", "Tool calls", n * hidden.tool_calls_per_request * hidden.price_per_tool_call, True, True),
        Item("observability", "Observability", hidden.observability_monthly, True, False),
        Item("vector_db", "Vector DB / storage", hidden.vector_db_monthly, True, False),
        Item("evaluation", "Evaluation", hidden.evaluation_monthly, True, False),
        Item("gateway", "Gateway", hidden.gateway_monthly, True, False),
    ]


def api_prices(scenario: Scenario, api: ApiOption) -> tuple[dict[str, Optional[float]], list[str]]:
    """The API prices in force for the scenario's request size (long-context tier applied)."""
    if api.input_price_per_1m is None or api.output_price_per_1m is None:
        raise InputError(
            "api.input_price_per_1m" if api.input_price_per_1m is None else "api.output_price_per_1m", None,
            f"a price per 1M tokens (model {api.model!r} must be resolved through the catalog first)",
        )
    prices: dict[str, Optional[float]] = {
        "input": api.input_price_per_1m,
        "output": api.output_price_per_1m,
        "cached_input": api.cached_input_price_per_1m,
        "batch_input": api.batch_input_price_per_1m,
        "batch_output": api.batch_output_price_per_1m,
    }
    notes: list[str] = []
    if prices["cached_input"] is None and api.cached_share > 0:
        notes.append("Cached-input price not published: using the convention 10% of the input price.")
    if (prices["batch_input"] is None or prices["batch_output"] is None) and api.batch_share > 0:
        notes.append("Batch price not published: using the convention 50% of the standard price.")
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
                for key, ratio in (("cached_input", ratio_in), ("batch_input", ratio_in), ("batch_output", ratio_out)):
                    if prices[key] is not None:
                        prices[key] = prices[key] * ratio  # type: ignore[operator]
                prices["input"], prices["output"] = tier.input_price_per_1m, tier.output_price_per_1m
                notes.append(
                    f"Long-context tier applies: {input_per_request:,.0f} input tokens per request is above "
                    f"{tier.above_input_tokens:,}."
                )
    return prices, notes


def _api(scenario: Scenario, api: ApiOption, t: float, price_factor: float) -> Breakdown:
    prices, notes = api_prices(scenario, api)
    scaled = {k: (None if v is None else v * price_factor) for k, v in prices.items()}
    parts = f.api_token_breakdown(
        t, scaled["input"], scaled["output"], scenario.volume.input_share, scenario.volume.days_per_month,  # type: ignore[arg-type]
        api.cached_share, api.batch_share, api.retry_rate,
        scaled["cached_input"], scaled["batch_input"], scaled["batch_output"],
    )
    items = [
        Item("input_tokens", "Input tokens", parts["input_tokens"], False, True),
        Item("cached_input_tokens", "Cached input tokens", parts["cached_input_tokens"], False, True),
        Item("output_tokens", "Output tokens", parts["output_tokens"], False, True),
        Item("batch_tokens", "Batch tokens", parts["batch_tokens"], False, True),
        Item("retries", "Retries", parts["retries"], True, True),
    ] + _hidden_items(scenario, "api", api.hidden, t)
    return Breakdown(items, api.setup_cost, sum(parts.values()), {}, notes)


def _fine_tuned(scenario: Scenario, ft: FineTunedOption, t: float) -> Breakdown:
    parts = f.api_token_breakdown(
        t, ft.input_price_per_1m, ft.output_price_per_1m, scenario.volume.input_share,
        scenario.volume.days_per_month, retry_rate=ft.retry_rate,
    )
    tokens = parts["input_tokens"] + parts["output_tokens"]
    items = [
        Item("input_tokens", "Input tokens", parts["input_tokens"], False, True),
        Item("output_tokens", "Output tokens", parts["output_tokens"], False, True),
        Item("retries", "Retries", parts["retries"], True, True),
        Item("hosting", "Model hosting", ft.hosting_monthly, False, False),
        Item("refresh", "Re-fine-tuning (spread)", ft.refresh_cost / ft.refresh_interval_months, True, False),
    ] + _hidden_items(scenario, "fine_tuned", ft.hidden, t)
    return Breakdown(items, ft.setup_cost, tokens + parts["retries"], {}, [])


def _self_hosted(scenario: Scenario, sh: SelfHostedOption, t: float) -> Breakdown:
    details: dict[str, float] = {}
    notes: list[str] = []
    if sh.mode == "simple":
        infra = f.effective_infra(sh.infra_monthly, sh.utilization)  # type: ignore[arg-type]
        utilization = sh.utilization
        details["utilization"] = utilization  # type: ignore[assignment]
    else:
        if sh.instance_hourly_usd is None or sh.gpus_per_instance is None or sh.tokens_per_second_per_gpu is None:
            missing = next(n for n in ("instance_hourly_usd", "gpus_per_instance", "tokens_per_second_per_gpu") if getattr(sh, n) is None)
            raise InputError(f"self_hosted.{missing}", None, "a value (resolve self_hosted.gpu through the GPU catalog first)")
        n, utilization = f.gpu_instances(
            t, sh.tokens_per_second_per_gpu, sh.gpus_per_instance, sh.peak_to_average,
            sh.target_utilization, sh.redundancy, sh.retry_rate,
        )
        infra = n * sh.instance_hourly_usd * sh.hours_per_month
        details.update(instances=float(n), gpus=float(n * sh.gpus_per_instance), utilization=utilization)
    running = f.monthly_tokens(t, scenario.volume.days_per_month) * sh.variable_cost_per_1m / f.PER_MILLION
    items = [
        Item("gpu_in_use", "GPU capacity in use", infra * utilization, False, False),  # type: ignore[operator]
        Item("idle_gpu", "Idle GPU capacity", infra * (1.0 - utilization), True, False),  # type: ignore[operator]
        Item("running_cost", "Per-token running cost", running, False, True),
        Item("retries", "Retries", running * sh.retry_rate, True, True),
        Item("people", "People (MLOps)", f.people_monthly(sh.fte, sh.fte_annual_cost), True, False),
        Item("ops_tooling", "Ops tooling", sh.ops_tooling_monthly, True, False),
        Item("storage", "Storage", sh.storage_monthly, True, False),
        Item("egress", "Egress", sh.egress_monthly, True, False),
    ] + _hidden_items(scenario, "self_hosted", sh.hidden, t)
    return Breakdown(items, sh.setup_cost + sh.migration_cost, 0.0, details, notes)

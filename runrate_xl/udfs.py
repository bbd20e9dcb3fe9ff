"""The RUNRATE_* Excel functions (xlwings user-defined functions) on the one cost engine.

Each function translates Excel-shaped arguments (see :mod:`runrate_xl.excel_args`), calls the
engine or the library front door and shapes the answer for a cell or a spilled range. No cost
formula is written here. Bad input returns a one-line Excel-style error text (#VALUE!, #NUM!,
#N/A ...) naming the argument; nothing raises into Excel.

Desktop Excel (Windows): set ``UDF Modules`` to ``runrate_xl.udfs`` and click Import
Functions. xlwings Lite: ``runrate excel --lite DIR`` writes a main.py that wraps these same
functions. On Linux/macOS the xlwings decorators only mark the functions, so this module imports
and runs without Excel; where xlwings is not installed at all (a core-only install), the
decorators are transparent no-ops from :mod:`runrate_xl._no_xlwings`.
"""

from __future__ import annotations

import functools
import re
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

try:  # desktop Excel (the 'excel' extra) and xlwings Lite (provided by its runtime) have xlwings
    import xlwings as xw
except ImportError:  # core-only install: the functions stay plain, callable Python functions
    from . import _no_xlwings as xw

from .api import evaluate_scenario
from .catalog.prices import PRICE_KINDS, lookup_prices
from .engine import Evaluation, Scenario
from .engine import functions as f
from .engine.errors import InputError, NoAnswer, check_fraction
from .engine.split import best_split_of, route_cost
from .presentation import iceberg_rows
from .engine.tco import tco_series
from .excel_args import (
    ExcelError,
    choice,
    date,
    excel_message,
    result_message,
    hashable_rows,
    is_blank,
    number,
    rows_of,
    scenario_from_rows,
    scenario_rows,
    single,
    text,
    whole_number,
)

CATEGORY = "runrate_xl"
MAX_MONTHS = 120  # the Horizon model's limit


@dataclass(frozen=True)
class Argument:
    """Help text for Excel's function wizard, and xlwings conversion options for the argument."""

    doc: str
    options: dict[str, Any] = field(default_factory=dict)


# One description per argument name, shared by every function that takes it, so that the
# same word means the same thing everywhere (and the registry test can check coverage).
ARGUMENTS: dict[str, Argument] = {
    "tokens_per_day": Argument("Tokens per day, input + output (e.g. 50000000)."),
    "input_price_per_1m": Argument("USD per 1M input tokens (e.g. 0.15)."),
    "output_price_per_1m": Argument("USD per 1M output tokens (e.g. 0.60)."),
    "input_share": Argument("Share of tokens that are input, fraction 0-1. Default 0.8."),
    "days_per_month": Argument("Days per month, > 0 and <= 31. Default 30."),
    "cached_share": Argument("Share of input tokens served from the prompt cache, fraction 0-1. Default 0."),
    "batch_share": Argument("Share of tokens sent through the batch API, fraction 0-1. Default 0."),
    "retry_rate": Argument("Extra tokens re-sent by retries, fraction (0.05 = 5%). Default 0."),
    "requests_per_month": Argument("Requests per month (e.g. 1000000)."),
    "reasoning_tokens_per_request": Argument("Reasoning (thinking) tokens per request, billed as output (e.g. 2000)."),
    "model": Argument("Model name from the price catalog, e.g. gpt-4o-mini (see `runrate prices --list`)."),
    "kind": Argument("Which price: input, output, cached_input, batch_input or batch_output. Default input."),
    "as_of": Argument("Prices in force on this date (date cell, YYYY-MM-DD text or serial). Default today."),
    "infra_monthly": Argument("Self-hosted GPU infrastructure, USD per month (e.g. 4140)."),
    "utilization": Argument("Average GPU utilization, fraction > 0 and <= 1 (0.8, not 80)."),
    "fte": Argument("People running it, full-time equivalents. Default 0."),
    "fte_annual_cost": Argument("Fully loaded cost per FTE, USD per year. Default 150000."),
    "tooling_monthly": Argument("Ops tooling, USD per month. Default 0."),
    "price_per_1m": Argument("Blended API price, USD per 1M tokens (e.g. 1.5)."),
    "selfhost_fixed_monthly": Argument("Other fixed self-hosting costs (people, tooling), USD per month. Default 0."),
    "api_fixed_monthly": Argument("Fixed API-side costs (gateway, observability), USD per month. Default 0."),
    "setup_cost": Argument("One-time cost, USD."),
    "monthly_saving": Argument("Saving per month, USD (must be > 0 for a payback)."),
    "monthly_cost": Argument("Total cost, USD per month."),
    "outcomes_per_month": Argument("Business outcomes per month (tickets resolved, claims, ...)."),
    "cost_per_attempt": Argument("Cost of one attempt at a task (tokens, tool calls), USD (e.g. 0.10)."),
    "success_rate": Argument("Share of tasks right at the first attempt, fraction > 0 and <= 1 (0.8, not 80)."),
    "cost_per_review": Argument("Cost of a person handling a failed task, USD (the review cost). Default 0."),
    "max_attempts": Argument("Attempts per task at most when failures are retried, 1-5. Default 2."),
    "on_failure": Argument("retry (try again up to max_attempts, then a person), human (a person at once) or escalate "
                           "(up to max_attempts, then to a cascade's second option at escalation_cost). Default retry."),
    "escalation_cost": Argument("on_failure escalate: USD per task escalated to the cascade's second option, its own failures "
                                "included. Blank: the option on its own (a person handles its failures, as retry)."),
    "escalation_failed_share": Argument("on_failure escalate: share of the escalated tasks the second option still fails, "
                                        "fraction 0-1. Default 0."),
    "preset": Argument("Preset name, e.g. seed003-50m-80pct (see `runrate presets`)."),
    "scenario": Argument(
        "A 2-column key/value range (as RUNRATE_SCENARIO spills it) or a preset name.",
        {"ndim": 2},  # always a list of rows, even for one cell or one row
    ),
    "option": Argument("An option id of the scenario (api, fine_tuned, self_hosted or your own) or its label. Blank: all options."),
    "months": Argument(f"Horizon in months, 1-{MAX_MONTHS}. Blank: the scenario's horizon."),
    "option_a": Argument("The option (id or label) that gets share_a of the traffic, e.g. own-gpus."),
    "option_b": Argument("The option (id or label) that gets the rest of the traffic, e.g. api."),
    "share_a": Argument("Share of the traffic sent to option_a, fraction 0-1 (0.8, not 80)."),
}

# Every public Excel function, by name, in the order the starter workbook shows them.
FUNCTIONS: dict[str, Callable[..., Any]] = {}


def excel_function(impl: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ``impl`` into an Excel function.

    The returned entry point replaces blank optional arguments by their defaults, turns every
    error into Excel text, carries the xlwings metadata (``xw.func``, ``xw.arg`` per argument
    with its help text, ``xw.ret``) and is listed in :data:`FUNCTIONS`.
    """
    params = list(inspect.signature(impl).parameters.values())
    undocumented = [p.name for p in params if p.name not in ARGUMENTS]
    if undocumented or not (impl.__doc__ or "").strip():
        raise TypeError(f"{impl.__name__}: document the function and its arguments {undocumented}")

    @functools.wraps(impl)
    def entry(*args):
        try:
            values = [
                p.default if p.default is not inspect.Parameter.empty and is_blank(a) else a
                for p, a in zip(params, args)
            ]
            result = impl(*values)
            # every result is checked where it leaves; a non-finite one names the argument behind it
            return result_message(impl.__name__, result, [(p.name, a) for p, a in zip(params, values)]) or result
        except Exception as exc:  # the cell shows a message; Excel never sees a traceback
            try:
                return excel_message(exc)
            except Exception:  # describing the error must not fail either
                return f"#VALUE! {impl.__name__}: the arguments could not be read"

    decorated = xw.ret()(entry)
    for p in reversed(params):
        decorated = xw.arg(p.name, doc=ARGUMENTS[p.name].doc, **ARGUMENTS[p.name].options)(decorated)
    decorated = xw.func(category=CATEGORY)(decorated)
    FUNCTIONS[impl.__name__] = decorated
    return decorated


def _numbers(**values: Any) -> list[float]:
    return [number(name, value) for name, value in values.items()]


# --- Scalar functions: thin wrappers of engine.functions ---------------------------------


@excel_function
def RUNRATE_API_COST(tokens_per_day, input_price_per_1m, output_price_per_1m, input_share=0.8,
                     days_per_month=30, cached_share=0, batch_share=0, retry_rate=0):
    """Monthly API token spend, USD. Cached input costs 10% and batch 50% of the standard price.
    Example: =RUNRATE_API_COST(50000000, 0.15, 0.6) = 360."""
    return f.api_cost(*_numbers(
        tokens_per_day=tokens_per_day, input_price_per_1m=input_price_per_1m,
        output_price_per_1m=output_price_per_1m, input_share=input_share, days_per_month=days_per_month,
        cached_share=cached_share, batch_share=batch_share, retry_rate=retry_rate,
    ))


@excel_function
def RUNRATE_MODEL_COST(model, tokens_per_day, input_share=0.8, days_per_month=30, cached_share=0,
                       batch_share=0, retry_rate=0):
    """Monthly API token spend, USD, at the catalog prices of a model (published cached/batch
    prices where they exist). Example: =RUNRATE_MODEL_COST("gpt-4o-mini", 50000000)."""
    prices = lookup_prices(text("model", model, "a model name such as gpt-4o-mini"))
    return f.api_cost(
        *_numbers(tokens_per_day=tokens_per_day),
        prices.input.usd_per_1m, prices.output.usd_per_1m,
        *_numbers(input_share=input_share, days_per_month=days_per_month, cached_share=cached_share,
                  batch_share=batch_share, retry_rate=retry_rate),
        cached_input_price_per_1m=prices.published("cached_input"),
        batch_input_price_per_1m=prices.published("batch_input"),
        batch_output_price_per_1m=prices.published("batch_output"),
    )


@excel_function
def RUNRATE_REASONING_COST(requests_per_month, reasoning_tokens_per_request, output_price_per_1m):
    """Monthly spend on reasoning (thinking) tokens, USD, billed at the output price.
    Example: =RUNRATE_REASONING_COST(1000000, 2000, 8) = 16000."""
    return f.reasoning_cost(*_numbers(
        requests_per_month=requests_per_month, reasoning_tokens_per_request=reasoning_tokens_per_request,
        output_price_per_1m=output_price_per_1m,
    ))


_PRICE_KINDS = {k: k for k in PRICE_KINDS}


@excel_function
def RUNRATE_PRICE(model, kind="input", as_of=None):
    """Catalog price of a model, USD per 1M tokens (kind: input, output, cached_input,
    batch_input, batch_output). Example: =RUNRATE_PRICE("gpt-4o-mini", "output")."""
    name = text("model", model, "a model name such as gpt-4o-mini")
    which = choice("kind", kind, _PRICE_KINDS, "one of " + ", ".join(PRICE_KINDS))
    return getattr(lookup_prices(name, date("as_of", as_of)), which).usd_per_1m


@excel_function
def RUNRATE_SELFHOST_COST(infra_monthly, utilization, fte=0, fte_annual_cost=150000, tooling_monthly=0):
    """Self-hosted cost per month, USD: infra / utilization + people + tooling.
    Example: =RUNRATE_SELFHOST_COST(4140, 0.8) = 5175."""
    return f.selfhost_cost(*_numbers(
        infra_monthly=infra_monthly, utilization=utilization, fte=fte,
        fte_annual_cost=fte_annual_cost, tooling_monthly=tooling_monthly,
    ))


@excel_function
def RUNRATE_BREAKEVEN(infra_monthly, utilization, price_per_1m, days_per_month=30,
                      selfhost_fixed_monthly=0, api_fixed_monthly=0):
    """Tokens per day at which the API and self-hosting cost the same.
    Example: =RUNRATE_BREAKEVEN(4140, 0.8, 1.5) = 115000000."""
    return f.breakeven(*_numbers(
        infra_monthly=infra_monthly, utilization=utilization, price_per_1m=price_per_1m,
        days_per_month=days_per_month, selfhost_fixed_monthly=selfhost_fixed_monthly,
        api_fixed_monthly=api_fixed_monthly,
    ))


@excel_function
def RUNRATE_PAYBACK(setup_cost, monthly_saving):
    """Months until a one-time cost is repaid by a monthly saving.
    Example: =RUNRATE_PAYBACK(100000, 5000) = 20."""
    return f.payback(*_numbers(setup_cost=setup_cost, monthly_saving=monthly_saving))


@excel_function
def RUNRATE_COST_PER_OUTCOME(monthly_cost, outcomes_per_month):
    """USD per business outcome (ticket resolved, claim processed, ...).
    Example: =RUNRATE_COST_PER_OUTCOME(298000, 1000000) = 0.298."""
    return f.cost_per_outcome(*_numbers(monthly_cost=monthly_cost, outcomes_per_month=outcomes_per_month))


@excel_function
def RUNRATE_COST_PER_SUCCESS(cost_per_attempt, success_rate, cost_per_review=0, max_attempts=2, on_failure="retry",
                             escalation_cost=None, escalation_failed_share=0):
    """USD per successful task: (cost_per_attempt x A + F x cost_per_review) / (1 - F); A = (1-(1-p)^k)/p
    or 1, F = (1-p)^k or 1-p fail. Escalated: (cost_per_attempt x A + F x E) / (1 - F x F_e).
    Example: =RUNRATE_COST_PER_SUCCESS(0.10, 0.8, 5) = 0.3333."""
    how = choice("on_failure", on_failure, {"retry": "retry", "human": "human", "escalate": "escalate"},
                 "retry, human or escalate")
    escalation = None if escalation_cost is None else number("escalation_cost", escalation_cost)
    return f.cost_per_success(*_numbers(cost_per_attempt=cost_per_attempt, success_rate=success_rate,
                                        cost_per_review=cost_per_review),
                              whole_number("max_attempts", max_attempts, 1, f.MAX_ATTEMPTS), how, escalation,
                              number("escalation_failed_share", escalation_failed_share))


# --- Scenario functions: evaluate_scenario, shaped for cells and spills --------------------


@excel_function
def RUNRATE_SCENARIO(preset):
    """A preset scenario as a 2-column key/value table (spills). Copy it, edit values and pass
    the range as `scenario` to RUNRATE_TCO and friends. Example: =RUNRATE_SCENARIO("seed003-50m-80pct")."""
    return [list(row) for row in _preset_rows(text("preset", preset, "a preset name (see `runrate presets`)"))]


@excel_function
def RUNRATE_TCO(scenario, option=None, months=None):
    """Total cost of ownership, USD. With an option: its total over the horizon. Without: a
    table (spills), one row per option: monthly cost, horizon total and NPV."""
    ev = _evaluation(scenario)
    n = None if months is None else whole_number("months", months, 1, MAX_MONTHS)
    if option is not None:
        return _series(ev, _option(option, ev), n).total
    horizon = n or ev.scenario.horizon.months
    table: list[list[Any]] = [["Option", "Monthly USD", f"Total {horizon} months USD", "NPV USD"]]
    for name, cost in ev.options.items():
        series = _series(ev, name, n)
        table.append([cost.label, cost.total_monthly, series.total, series.npv])
    return table


@excel_function
def RUNRATE_ICEBERG(scenario, option=None):
    """The cost iceberg (spills): one row per line item with option, item, visible/hidden and
    USD per month. Without an option: every option of the scenario."""
    ev = _evaluation(scenario)
    rows = iceberg_rows(ev, None if option is None else _option(option, ev))
    header: list[list[Any]] = [["Option", "Line item", "Visible/hidden", "USD per month"]]
    return header + [[r["option_label"], r["label"], r["visibility"], r["monthly_usd"]] for r in rows]


@excel_function
def RUNRATE_CROSSOVER(scenario):
    """Break-even volume of a scenario, tokens per day: where the API and its alternative
    (self-hosted, else fine-tuned) cost the same per month. #N/A with the reason when none."""
    be = _evaluation(scenario).breakeven
    if not be.found or be.tokens_per_day is None:
        raise NoAnswer(be.reason)
    return be.tokens_per_day


@excel_function
def RUNRATE_RECOMMEND(scenario):
    """The recommended option for a scenario: API, Fine-tuned, Self-hosted or Hybrid.
    RUNRATE_REASONS gives the reasons."""
    return _evaluation(scenario).recommendation.label


@excel_function
def RUNRATE_REASONS(scenario):
    """The reasons behind RUNRATE_RECOMMEND, one per row (spills)."""
    reasons = _evaluation(scenario).recommendation.reasons
    if not reasons:
        raise NoAnswer("the recommendation gave no reasons")
    return [[r.text] for r in reasons]


@excel_function
def RUNRATE_MIX_COST(scenario, option_a, option_b, share_a):
    """USD/month of sending share_a of the traffic to option_a, the rest to option_b:
    cost_a(share_a x T) + cost_b((1 - share_a) x T), each at its own volume (share 0: not run).
    Example: =RUNRATE_MIX_COST(B2:C40, "own-gpus", "api", 0.8)."""
    ev = _evaluation(scenario)
    a, b = _split_pair(ev, option_a, option_b)
    x = check_fraction("share_a", number("share_a", share_a, "a fraction 0-1"))
    return route_cost(ev.scenario, {a: x, b: 1.0 - x})[0]


@excel_function
def RUNRATE_BEST_SPLIT(scenario, option_a, option_b):
    """Share of the traffic to send to option_a (the rest to option_b) with the lowest horizon NPV,
    every GPU step searched. Price it with RUNRATE_MIX_COST.
    Example: =RUNRATE_BEST_SPLIT(B2:C40, "own-gpus", "api")."""
    ev = _evaluation(scenario)
    a, b = _split_pair(ev, option_a, option_b)
    return best_split_of(ev.scenario, a, b).route[a]


# --- Helpers --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _preset_rows(name: str) -> tuple[tuple[Any, ...], ...]:
    from .presets import get_preset

    return tuple(tuple(row) for row in scenario_rows(get_preset(name).scenario))


def scenario_of(value: Any) -> Scenario:
    """The Scenario a `scenario` argument stands for: a preset name or a key/value range."""
    rows = rows_of(value)
    if len(rows) == 1 and len(rows[0]) == 1:
        name = text("scenario", single(value, "scenario"), "a preset name or a 2-column key/value range")
        from .presets import get_preset

        try:
            return get_preset(name).scenario
        except InputError as exc:
            raise ExcelError("#VALUE!", "scenario", name, "a 2-column key/value range or a preset name: " + exc.expected) from None
    return scenario_from_rows(rows)


def _evaluation(value: Any) -> Evaluation:
    key = hashable_rows(rows_of(value))
    return _cached_evaluation(key) if key is not None else _evaluate(value)


@functools.lru_cache(maxsize=256)
def _cached_evaluation(rows: tuple) -> Evaluation:
    # Keyed by the cells themselves: the same range (or preset name) is parsed and evaluated
    # once per session. Evaluation results are frozen, so sharing them is safe.
    return _evaluate(rows)


def _evaluate(value: Any) -> Evaluation:
    return evaluate_scenario(scenario_of(value), with_sensitivity=False)


def _option_choices(ev: Evaluation) -> dict[str, str]:
    """An option is named by its id or its label (case and spacing as the choice rule normalises)."""
    out = {}
    for o, cost in ev.options.items():
        for name in (cost.label, o):
            out[re.sub(r"[\s\-]+", "_", name.lower())] = o
    return out


def _option(value: Any, ev: Evaluation) -> str:
    defined = ", ".join(ev.options)
    name = choice("option", value, _option_choices(ev), f"one of this scenario's options: {defined}")
    if name not in ev.options:
        raise ExcelError("#VALUE!", "option", single(value, "option"), f"one of this scenario's options: {defined}")
    return name


def _split_pair(ev: Evaluation, option_a: Any, option_b: Any) -> tuple[str, str]:
    """Two different options of the scenario that are not mixes or cascades themselves."""
    a, b = _option(option_a, ev), _option(option_b, ev)
    for name, value, o in (("option_a", option_a, a), ("option_b", option_b, b)):
        if ev.options[o].kind in ("mix", "cascade"):
            plain = ", ".join(k for k, c in ev.options.items() if c.kind not in ("mix", "cascade"))
            raise ExcelError("#VALUE!", name, single(value, name), f"an option that is not a mix or cascade itself ({plain})")
    if a == b:
        raise ExcelError("#VALUE!", "option_b", single(option_b, "option_b"), f"an option other than option_a ({a})")
    return a, b


def _series(ev: Evaluation, option: str, months: Optional[int]):
    if months is None or months == ev.scenario.horizon.months:
        return ev.tco[option]
    return tco_series(ev.scenario, option, months)


def clear_caches() -> None:
    """Forget cached scenarios and evaluations (e.g. after the price catalog changed)."""
    _cached_evaluation.cache_clear()
    _preset_rows.cache_clear()


__all__ = ["ARGUMENTS", "CATEGORY", "FUNCTIONS", "clear_caches", "scenario_of", *FUNCTIONS]

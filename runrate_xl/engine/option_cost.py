"""Monthly cost of an option as line items, tagged visible/hidden and fixed/variable.

Each kind computes its own breakdown (``kinds/``); this module dispatches by the option's kind
and turns a breakdown into the result model. ``tokens_per_day`` and ``price_factor`` can differ
from the scenario's own values so the same code serves break-even, TCO months and sensitivity.
"""

from __future__ import annotations

from typing import Optional

from . import functions as f
from .kinds import Breakdown, is_composite, kind_of
from .kinds.base import requests_per_month, task_volumes
from .kinds.composite import escalate_note, first_escalates, runs
from .results import LineItem, OptionCost, TaskCost
from .scenario import Scenario


def option_breakdown(scenario: Scenario, option: str, tokens_per_day: Optional[float] = None, price_factor: float = 1.0) -> Breakdown:
    """Line items of the option with id ``option`` at ``tokens_per_day`` (default: the scenario's volume).

    ``price_factor`` scales the token prices of kinds that follow the API price decline."""
    t = scenario.volume.daily_tokens if tokens_per_day is None else tokens_per_day
    o = scenario.option(option)
    kind = kind_of(o)
    return kind.breakdown(scenario, o, t, price_factor if kind.follows_api_price_decline else 1.0)


def option_total(scenario: Scenario, option: str, tokens_per_day: Optional[float] = None, price_factor: float = 1.0) -> float:
    return option_breakdown(scenario, option, tokens_per_day, price_factor).total


def option_cost(scenario: Scenario, option: str) -> OptionCost:
    """The option's monthly cost at the scenario's volume, as a result model."""
    b = option_breakdown(scenario, option)
    o = scenario.option(option)
    items = [
        LineItem(key=i.key, label=i.label, monthly_usd=i.amount, hidden=i.hidden,
                 behaviour="variable" if i.variable else "fixed")
        for i in b.items
    ]
    total = b.total
    hidden = sum(i.amount for i in b.items if i.hidden)
    variable = sum(i.amount for i in b.items if i.variable)
    blended = None
    if kind_of(o).prices_tokens and scenario.volume.daily_tokens > 0:
        blended = f.blended_price_per_1m(b.token_cost, scenario.volume.daily_tokens, scenario.volume.days_per_month)
    return OptionCost(
        option=option,
        kind=o.kind,
        label=scenario.label_of(option),
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
        notes=b.notes + [n for n in [escalate_note(option, getattr(o, "hidden", None))] if n],
        cost_per_1m_tokens=(total / f.monthly_tokens(scenario.volume.daily_tokens, scenario.volume.days_per_month) * f.PER_MILLION
                            if scenario.volume.daily_tokens > 0 else None),
        tasks=task_cost(scenario, o, total),
    )


def task_cost(scenario: Scenario, o, total: float) -> Optional[TaskCost]:
    """Cost per successful task at today's volume (see ``results.TaskCost``); None when there is
    neither a request count nor context.outcomes_per_month, or the option carries no hidden costs."""
    if is_composite(o):
        return composite_task_cost(scenario, o, total)
    hidden = getattr(o, "hidden", None)
    if hidden is None:
        return None
    volumes = task_volumes(scenario, hidden, scenario.volume.daily_tokens)
    outcomes = scenario.context.outcomes_per_month
    tasks = outcomes if outcomes is not None else (volumes.tasks if volumes is not None else None)
    if not tasks:
        return None
    return TaskCost(
        basis="outcomes" if outcomes is not None else "requests", tasks_per_month=tasks,
        successful_tasks_per_month=tasks * (1.0 - hidden.failed_share), failed_share=hidden.failed_share,
        success_rate=hidden.success_rate, on_failure=hidden.on_failure, attempts_per_task=hidden.attempts_per_task,
        retries_per_month=volumes.retries if volumes is not None else None,
        failed_to_people_per_month=volumes.failed_to_people if volumes is not None else None,
        cost_per_successful_task=f.cost_per_successful_task(total, tasks, hidden.failed_share),
        cost_per_request=total / volumes.tasks if volumes is not None and volumes.tasks > 0 else None,
    )


def composite_task_cost(scenario: Scenario, o, total: float) -> Optional[TaskCost]:
    """A mix's or cascade's cost per successful task at today's volume: tasks are
    context.outcomes_per_month when given, else the composite's requests a month; the failed share
    is its components' (``functions.composite_failed_share``: a component without hidden costs
    never fails); retries, tasks handed to people and attempts are its components' at their
    volumes, as the composite runs them (a cascade's escalating first hands no failure to a
    person). None when there is neither a request count nor context.outcomes_per_month."""
    t = scenario.volume.daily_tokens
    requests = requests_per_month(scenario, t)
    outcomes = scenario.context.outcomes_per_month
    tasks = outcomes if outcomes is not None else requests
    if not tasks:
        return None
    shares, failed, attempts = [], [], 0.0
    retries = people = 0.0
    for _cid, share, c in runs(scenario, o):
        hidden = getattr(c, "hidden", None)
        shares.append(share)
        failed.append(hidden.failed_share if hidden is not None else 0.0)
        a = hidden.attempts_per_task if hidden is not None else 1.0
        attempts += share * a
        if requests is not None and hidden is not None:
            v = task_volumes(scenario, hidden, share * t)
            retries += v.retries
            people += v.failed_to_people
    failed_share = f.composite_failed_share(o.kind, shares, failed, first_escalates(scenario, o))
    return TaskCost(
        basis="outcomes" if outcomes is not None else "requests", tasks_per_month=tasks,
        successful_tasks_per_month=tasks * (1.0 - failed_share), failed_share=failed_share,
        success_rate=None, on_failure=None, attempts_per_task=attempts,
        retries_per_month=retries if requests is not None else None,
        failed_to_people_per_month=people if requests is not None else None,
        escalated_per_month=shares[1] * requests if o.kind == "cascade" and requests is not None else None,
        cost_per_successful_task=f.cost_per_successful_task(total, tasks, failed_share),
        cost_per_request=total / requests if requests else None,
    )

"""Cost per business outcome (resolved ticket, processed claim, ...), the unit a CFO can compare
with per-resolution prices of AI vendors (seed 002: Klarna $0.19, Intercom Fin $0.99, Sierra $1.50).
Divided by the successful outcomes: those the option gets right within its attempts (see
``results.TaskCost``); with the default success rate 1, every outcome."""

from __future__ import annotations

from typing import Mapping, Optional

from . import functions as f
from .results import OptionCost, OutcomeCost
from .scenario import Scenario


def outcome_costs(scenario: Scenario, options: Mapping[str, OptionCost], benchmarks: Optional[Mapping[str, float]] = None) -> list[OutcomeCost]:
    n = scenario.context.outcomes_per_month
    if n is None:
        return []
    return [
        OutcomeCost(
            option=o, outcome_name=scenario.context.outcome_name, outcomes_per_month=n,
            cost_per_outcome=(c.tasks.cost_per_successful_task if c.tasks is not None and c.tasks.basis == "outcomes"
                              else f.cost_per_outcome(c.total_monthly, n)), benchmarks=dict(benchmarks or {}),
        )
        for o, c in options.items()
    ]

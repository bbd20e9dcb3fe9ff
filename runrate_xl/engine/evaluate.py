"""One call that answers everything for a (catalog-resolved) scenario."""

from __future__ import annotations

from typing import Mapping, Optional

from .breakeven import find_breakeven, primary_pair
from .curve import shared_curves
from .option_cost import option_cost
from .outcome import outcome_costs
from .recommend import notes_over_horizon, recommend
from .results import BreakEven, Evaluation
from .scenario import Scenario
from .split import best_split
from .sensitivity import grid, tornado
from .flips import flip_points
from .tco import crossover, payback_of, tco_series


def evaluate(scenario: Scenario, benchmarks: Optional[Mapping[str, float]] = None, *, with_sensitivity: bool = True) -> Evaluation:
    """Costs, break-evens, TCO, paybacks, crossovers, recommendation and sensitivity.

    ``scenario`` must carry explicit prices (see ``runrate_xl.catalog.resolve``).
    """
    with shared_curves():  # each option's cost curve read once for all the parts below
        return _evaluate(scenario, benchmarks, with_sensitivity)


def _evaluate(scenario: Scenario, benchmarks: Optional[Mapping[str, float]], with_sensitivity: bool) -> Evaluation:
    splits = []
    for o in scenario.options_of("mix"):
        found = best_split(scenario, o.id)
        if o.split == "cheapest":  # priced at the route the engine found; every output follows it
            scenario = scenario.with_option(o.model_copy(update={"route": found.route}))
        splits.append(found)
    names = scenario.option_ids()
    options = {o: option_cost(scenario, o) for o in names}
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    breakevens = [find_breakeven(scenario, a, b) for a, b in pairs]
    pair = primary_pair(scenario)
    if pair is None:
        only = names[0]
        primary = BreakEven(option_a=only, option_b=only, found=False, current_tokens_per_day=scenario.volume.daily_tokens,
                            method="none", reason=f"No break-even: the scenario has no alternative to {scenario.label_of(only)}.")
    else:
        # The pair list follows the options' order; the primary pair starts from the first API
        # option, which need not come first (a self-hosted option listed before the API).
        primary = next((b for b in breakevens if (b.option_a, b.option_b) == pair), None) or find_breakeven(scenario, *pair)
    series = {o: tco_series(scenario, o) for o in names}
    current = scenario.context.current_option
    others = [o for o in names if o != current]
    paybacks = [payback_of(scenario, o, current, series) for o in others]
    crossovers = [crossover(scenario, o, current, series) for o in others]
    horizon_notes = notes_over_horizon(scenario)
    rec = recommend(scenario, options, {o: s.npv for o, s in series.items()}, primary, horizon_notes)
    notes = [n for c in options.values() for n in c.notes]
    notes += [n for o in scenario.option_ids() for n in horizon_notes[o]]
    return Evaluation(
        scenario=scenario, options=options, breakeven=primary, breakevens=breakevens, paybacks=paybacks,
        tco=series, crossovers=crossovers, recommendation=rec,
        sensitivity=tornado(scenario) if with_sensitivity else [],
        flips=flip_points(scenario, rec.cheapest_allowed_option, rec.allowed_options) if with_sensitivity else [],
        grid=grid(scenario) if with_sensitivity else None,
        outcome_costs=outcome_costs(scenario, options, benchmarks), splits=splits, notes=list(dict.fromkeys(notes)),
    )

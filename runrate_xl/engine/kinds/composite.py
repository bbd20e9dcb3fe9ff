"""Kinds ``mix`` and ``cascade``: options made of other options of the scenario (issue 14 item 1).

A **mix** splits the traffic across other options by share (``route: {frontier: 0.2, own-gpus:
0.8}``); a **cascade** sends every request to ``first`` and an ``escalation_share`` of them also to
``then``. Either costs, at ``t`` tokens/day, the sum of its components' own breakdowns at their
volumes (mix: ``share x t``; cascade: ``t`` for ``first``, ``escalation_share x t`` for ``then``):

- each component's capacity, unit count and utilization follow its own volume (the capacity
  rules of ``self_hosted`` / ``on_prem``), so a stepped component makes the composite piecewise;
- each component's fixed costs (people, tooling, hosting, the first GPU box) and one-time costs
  are paid once, in full: they are not scaled by the share;
- a component at share 0 is not run, so it costs nothing (no fixed, no one-time costs).

Line items are the components', keyed ``<component id>.<item key>`` and labelled
``"<component label>: <item label>"``. A composite is never a component of another composite.
A composite sends data to a third party (strict privacy) when a component it routes traffic to
does. The cheapest split of a mix is found by ``engine.split``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal, Optional, Sequence

from pydantic import Field, field_validator, model_validator

from ..common import Fraction
from ..errors import InputError
from .base import _ID, Breakdown, CashFlows, Item, Kind, LineItemSpec, OptionBase

if TYPE_CHECKING:
    from ..scenario import Scenario

SHARE_SUM_TOLERANCE = 1e-9
COMPOSITE_KINDS = ("mix", "cascade")


class MixOption(OptionBase):
    """Traffic split across other options of the scenario by share (a hybrid, priced)."""

    kind: Literal["mix"]
    route: dict[str, float] = Field(
        ..., description=("Share of the traffic each option gets, by option id, e.g. {frontier: 0.2, own-gpus: 0.8}: "
                          "at least two options, each share in [0, 1], summing to 1."))
    split: Literal["as_routed", "cheapest"] = Field(
        "as_routed", description=("as_routed: price the route as given; cheapest: the engine finds the split with the "
                                  "lowest horizon cost (NPV) under the constraints and prices that (the route given must "
                                  "still meet them)."))
    in_house_min_share: Optional[Fraction] = Field(
        None, description="Share of the traffic that must go to options that keep data in-house (do not send it to a third party).")
    quality_min_share: Optional[Fraction] = Field(
        None, description="Share of the traffic that needs quality_option (e.g. the hard requests that need the frontier model).")
    quality_option: Optional[str] = Field(None, description="The option (id) the quality_min_share must go to.")

    @field_validator("route")
    @classmethod
    def _shares(cls, route: dict[str, float]) -> dict[str, float]:
        if len(route) < 2:
            raise ValueError("at least two options (id: share) to split the traffic across")
        for key, share in route.items():
            if not isinstance(key, str) or not _ID.match(key):
                raise ValueError(f"option ids as keys; got {key!r}")
            if isinstance(share, bool) or not math.isfinite(share) or not 0.0 <= share <= 1.0:
                raise ValueError(f"each share a fraction in [0, 1]; {key} has {share!r}")
        total = sum(route.values())
        if abs(total - 1.0) > SHARE_SUM_TOLERANCE:
            raise ValueError(f"shares summing to 1; they sum to {total:.12g}")
        return route

    @model_validator(mode="after")
    def _quality_pair(self) -> "MixOption":
        if (self.quality_min_share is None) != (self.quality_option is None):
            raise ValueError("quality_min_share and quality_option go together")
        if self.quality_option is not None and self.quality_option not in self.route:
            raise ValueError(f"quality_option {self.quality_option!r} is not in the route ({', '.join(self.route)})")
        return self


class CascadeOption(OptionBase):
    """Every request goes to ``first``; an ``escalation_share`` of them also goes to ``then``."""

    kind: Literal["cascade"]
    first: str = Field(..., description="The option (id) every request goes to first, e.g. a small model.")
    then: str = Field(..., description="The option (id) the escalated requests also go to, e.g. a frontier model.")
    escalation_share: Optional[Fraction] = Field(
        None, description=("Share of the requests escalated to `then` (e.g. 0.15), 0-1. May be left out when `first` has "
                           "hidden.on_failure escalate: it is then first's failed share, (1 - success_rate)^max_attempts."))

    @model_validator(mode="after")
    def _two_options(self) -> "CascadeOption":
        if self.first == self.then:
            raise ValueError(f"first and then must be two different options; both are {self.first!r}")
        return self


def components(option: Any, scenario: Optional["Scenario"] = None) -> list[tuple[str, float]]:
    """(component id, share of the composite's volume it carries), in order; shares may be 0. A
    cascade that leaves its escalation_share to its first option's failures needs the scenario."""
    if option.kind == "mix":
        return list(option.route.items())
    return [(option.first, 1.0), (option.then, escalation_share(scenario, option))]


def first_escalates(scenario: "Scenario", option: Any) -> bool:
    """Whether the option is a cascade whose ``first`` sends its failed tasks to ``then``
    (``first.hidden.on_failure`` escalate) rather than to a person."""
    if option.kind != "cascade":
        return False
    hidden = getattr(scenario.option(option.first), "hidden", None)
    return hidden is not None and hidden.on_failure == "escalate"


def escalation_share(scenario: Optional["Scenario"], option: Any) -> float:
    """The share of a cascade's requests that also go to ``then``: when ``first`` escalates its
    failures, ``first``'s failed share ``(1 - p)^k`` (a stated share must agree, see check(); a
    copy of the scenario with first's success rate moved follows it); else as stated."""
    if scenario is None:
        if option.escalation_share is None:
            raise ValueError(f"{option.id}: the escalation share follows from {option.first}'s failures; pass the scenario")
        return option.escalation_share
    if first_escalates(scenario, option):
        return scenario.option(option.first).hidden.failed_share
    return option.escalation_share


def runs(scenario: "Scenario", option: Any) -> list[tuple[str, float, Any]]:
    """(component id, share, the component as the composite runs it), in order: a cascade's
    ``first`` that escalates runs with its failed tasks going to ``then`` instead of a person
    (``HiddenCosts.escalating``); every other component runs as it is on its own."""
    out = []
    for cid, share in components(option, scenario):
        c = scenario.option(cid)
        if option.kind == "cascade" and cid == option.first and first_escalates(scenario, option):
            c = c.model_copy(update={"hidden": c.hidden.escalating()})
        out.append((cid, share, c))
    return out


def escalate_note(option_id: str, hidden: Any) -> Optional[str]:
    """Says that an on_failure escalate option evaluated on its own hands its failures to a person
    (it escalates only as a cascade's first); None for any other option."""
    if hidden is None or hidden.on_failure != "escalate" or hidden.escalated or hidden.failed_share == 0.0:
        return None
    return (f"{option_id}: on_failure escalate sends failed tasks to the `then` option only as a cascade's first; on its own "
            f"(here) the {100 * hidden.failed_share:.4g}% of tasks still failing after {hidden.max_attempts} attempt"
            f"{'s' if hidden.max_attempts > 1 else ''} go to a person at the review cost.")


def is_composite(option: Any) -> bool:
    return option.kind in COMPOSITE_KINDS


def _reference_fields(option: Any) -> list[tuple[str, str]]:
    """(field path, component id) of each reference the composite makes."""
    if option.kind == "mix":
        return [(f"{option.id}.route.{cid}", cid) for cid in option.route]
    return [(f"{option.id}.first", option.first), (f"{option.id}.then", option.then)]


def check(scenario: "Scenario") -> None:
    """Every composite refers to existing options that are not composites themselves, and a mix's
    route meets its constraints. Raises InputError naming the field, the value and the bound."""
    from . import kind_of  # the registry imports this module

    by_id = {o.id: o for o in scenario.options}
    for o in scenario.options:
        if not is_composite(o):
            continue
        for where, cid in _reference_fields(o):
            ref = by_id.get(cid)
            plain = [p.id for p in scenario.options if not is_composite(p)]
            if ref is None:
                raise InputError(where, cid, f"the id of another option of the scenario ({', '.join(plain)})")
            if is_composite(ref):
                raise InputError(where, cid, f"an option that is not a {ref.kind} itself: composites are never components "
                                             f"of other composites (options: {', '.join(plain)})")
        if o.kind == "cascade":
            _check_escalation(o, by_id[o.first])
        if o.kind == "mix":
            shares = route_bounds(o, {cid: kind_of(by_id[cid]).sends_data_out(by_id[cid]) for cid in o.route})
            violation = constraint_violation(o.route, *shares)
            if violation is not None:
                field, value, bound = violation
                raise InputError(f"{o.id}.{field}", value, bound)


def _check_escalation(cascade: CascadeOption, first: Any) -> None:
    """A cascade states its escalation_share unless its first escalates its failures; then a stated
    share must be that first's failed share (within 1e-9)."""
    hidden = getattr(first, "hidden", None)
    escalates = hidden is not None and hidden.on_failure == "escalate"
    stated = cascade.escalation_share
    if stated is None and not escalates:
        raise InputError(f"{cascade.id}.escalation_share", None,
                         f"the share of the requests escalated to {cascade.then}, 0-1 (it may be left out only when "
                         f"{first.id}.hidden.on_failure is escalate: then it is {first.id}'s failed share)")
    if stated is not None and escalates and abs(stated - hidden.failed_share) > SHARE_SUM_TOLERANCE:
        raise InputError(f"{cascade.id}.escalation_share", stated,
                         f"{first.id}'s failed share {hidden.failed_share:.12g}, because {first.id}.hidden.on_failure is "
                         f"escalate: (1 - {first.id}.hidden.success_rate)^{first.id}.hidden.max_attempts = (1 - "
                         f"{hidden.success_rate:g})^{hidden.max_attempts} of the requests go to {cascade.then}; leave "
                         f"{cascade.id}.escalation_share out or state that value")


def route_bounds(mix: MixOption, sends_out: dict[str, bool]) -> tuple[Optional[tuple[set[str], float]], Optional[tuple[str, float]]]:
    """The mix's constraints as data: (the in-house option ids, the minimum share they carry)
    and (the quality option, its minimum share); None where the mix has none."""
    in_house = None
    if mix.in_house_min_share is not None:
        in_house = ({cid for cid, out in sends_out.items() if not out}, mix.in_house_min_share)
    quality = None
    if mix.quality_min_share is not None and mix.quality_option is not None:
        quality = (mix.quality_option, mix.quality_min_share)
    return in_house, quality


def constraint_violation(route: dict[str, float], in_house: Optional[tuple[set[str], float]],
                         quality: Optional[tuple[str, float]], tolerance: float = SHARE_SUM_TOLERANCE) -> Optional[tuple[str, Any, str]]:
    """(field, value, what was expected) for the first constraint the route breaks, or None."""
    if in_house is not None:
        ids, minimum = in_house
        share = sum(route.get(cid, 0.0) for cid in ids)
        if share < minimum - tolerance:
            names = ", ".join(sorted(ids)) or "none of the options"
            return ("route", route, f"at least {minimum:g} of the traffic to options that keep data in-house ({names}): "
                                    f"the route sends {share:g} (in_house_min_share)")
    if quality is not None:
        cid, minimum = quality
        if route.get(cid, 0.0) < minimum - tolerance:
            return ("route", route, f"at least {minimum:g} of the traffic to {cid} (quality_min_share): the route sends "
                                    f"{route.get(cid, 0.0):g}")
    return None


def _breakdown(scenario: "Scenario", option: Any, t: float, price_factor: float) -> Breakdown:
    from . import kind_of

    items: list[Item] = []
    details: dict[str, float] = {}
    notes: list[str] = []
    one_time = token = 0.0
    for cid, share, c in runs(scenario, option):
        details[f"{cid}.share"] = share
        details[f"{cid}.tokens_per_day"] = share * t
        if share <= 0.0:
            continue  # not run: no fixed, variable or one-time cost
        kind = kind_of(c)
        b = kind.breakdown(scenario, c, share * t, price_factor if kind.follows_api_price_decline else 1.0)
        label = scenario.label_of(cid)
        items += [Item(f"{cid}.{i.key}", f"{label}: {i.label}", i.amount, i.hidden, i.variable) for i in b.items]
        details.update({f"{cid}.{k}": v for k, v in b.details.items()})
        details[f"{cid}.monthly"] = b.total
        notes += b.notes
        note = escalate_note(cid, getattr(c, "hidden", None))
        if note:
            notes.append(note)
        one_time += b.one_time
        token += b.token_cost
    return Breakdown(items, one_time, token, details, notes)


def sum_flows(flows: list[CashFlows], months: int) -> Optional[CashFlows]:
    if not flows:
        return None
    by_month = tuple(sum(fl.by_month[m] for fl in flows) for m in range(months))
    width = max(len(fl.units_bought) for fl in flows)
    bought = tuple(sum(fl.units_bought[m] if m < len(fl.units_bought) else 0 for fl in flows) for m in range(width))
    return CashFlows(
        at_start=sum(fl.at_start for fl in flows), by_month=by_month, capex=sum(fl.capex for fl in flows),
        residual_received=sum(fl.residual_received for fl in flows), terminal_value=sum(fl.terminal_value for fl in flows),
        run_rate_capital=sum(fl.run_rate_capital for fl in flows), depreciation=sum(fl.depreciation for fl in flows),
        interest=sum(fl.interest for fl in flows), units_bought=bought,
    )


def _cash(scenario: "Scenario", option: Any, volumes: Sequence[float], counts: Any = None) -> Optional[CashFlows]:
    """The components that buy hardware, each at its share of each month's volume (None: none do);
    ``counts`` (the composite has no units of its own) is not used."""
    from . import kind_of

    flows = []
    for cid, share, c in runs(scenario, option):
        hook = kind_of(c).cash
        if share > 0.0 and hook is not None:
            flows.append(hook(scenario, c, [share * t for t in volumes]))
    return sum_flows(flows, len(volumes))


def _horizon_notes(scenario: "Scenario", option: Any) -> list[str]:
    return []  # each component's own warnings are reported under its own id


_NO_ITEMS: dict[str, LineItemSpec] = {}

MIX = Kind(
    name="mix", label="Mix", model=MixOption, line_items=_NO_ITEMS, breakdown=_breakdown, drivers=lambda o: [],
    prices_tokens=False, follows_api_price_decline=True, horizon_notes=_horizon_notes, cash=_cash,  # type: ignore[arg-type]
)
CASCADE = Kind(
    name="cascade", label="Cascade", model=CascadeOption, line_items=_NO_ITEMS, breakdown=_breakdown, drivers=lambda o: [],
    prices_tokens=False, follows_api_price_decline=True, horizon_notes=_horizon_notes, cash=_cash,  # type: ignore[arg-type]
)


def sends_data_out(scenario: "Scenario", option: Any) -> bool:
    """Whether the option sends data to a third party; a composite does when a component it routes
    traffic to (share > 0) does (strict privacy then applies to it as to that component)."""
    from . import kind_of

    if not is_composite(option):
        return kind_of(option).sends_data_out(option)
    return any(share > 0 and sends_data_out(scenario, scenario.option(cid)) for cid, share in components(option, scenario))

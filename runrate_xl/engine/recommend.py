"""Recommendation: the cheapest eligible option over the horizon, with the reasons that fired.

The procedure, in order (every step that changes something leaves a reason with its figure):

1. Candidates are the options the scenario defines.
2. Hard constraint, the only one that sets options aside: strict data privacy excludes every
   option that sends data to a third party (an API or a vendor-hosted fine-tune) unless it is
   marked ``private`` (private-cloud endpoint, BAA, zero-retention contract).
3. The cheapest eligible option over the horizon (NPV) is the answer by cost. Low GPU utilization
   does not remove self-hosting: its idle GPUs are already in its cost; below
   ``rules.utilization_risk_below`` it carries a risk reason with the figure.
4. Rules that may override the cheapest, each saying what it costs: no in-house ML expertise
   (seed 003: "definitely API") moves away from self-hosting; a specialized domain prefers a
   fine-tuned option within ``rules.quality_margin_share`` of the cheapest; state-of-the-art
   quality with self-hosting winning, or a P99 latency need under ``rules.latency_edge_ms`` with
   an API winning, gives a hybrid.
5. Volume, inference and API-spend bands (thresholds in ``rules``) are added as context reasons.
"""

from __future__ import annotations

from typing import Optional

from .kinds import kind_of, sends_data_out
from .kinds.composite import constraint_violation, route_bounds
from .results import BreakEven, OptionCost, Reason, Recommendation
from .scenario import HYBRID, Scenario

# Kinds that run the model on GPUs you operate (rented or bought): the ML-expertise, utilization,
# quality and latency rules about self-hosting apply to both.
OWN_GPUS = ("self_hosted", "on_prem")


def notes_over_horizon(scenario: Scenario) -> dict[str, list[str]]:
    """Each option's warnings over the horizon (``Kind.horizon_notes``), by option id."""
    return {o.id: kind_of(o).horizon_notes(scenario, o) for o in scenario.options}


def recommend(
    scenario: Scenario,
    options: dict[str, OptionCost],
    horizon_costs: dict[str, float],
    breakeven: Optional[BreakEven] = None,
    horizon_notes: Optional[dict[str, list[str]]] = None,
) -> Recommendation:
    """The recommended option id (or hybrid) with its reasons; ``options`` and ``horizon_costs``
    are keyed by option id, as are ``horizon_notes`` (each kind's warnings over the horizon,
    computed here when not given)."""
    ctx, rules = scenario.context, scenario.rules
    reasons: list[Reason] = []
    kind = {o.id: o.kind for o in scenario.options}
    label = scenario.label_of
    months = scenario.horizon.months
    basis = _basis(scenario)

    def add(rule: str, effect: str, option: Optional[str], text: str) -> None:
        reasons.append(Reason(rule=rule, effect=effect, option=option, text=text))  # type: ignore[arg-type]

    def of_kind(k: str, among: list[str]) -> list[str]:
        return [o for o in among if kind[o] == k]

    def mixes(among: list[str]) -> list[str]:  # costed hybrids: they replace the cost-less HYBRID
        return [o for o in among if kind[o] == "mix"]

    def own_gpus(among: list[str]) -> list[str]:
        return [o for o in among if kind[o] in OWN_GPUS]

    def cheapest_of(among: list[str]) -> str:
        return min(among, key=lambda o: (horizon_costs[o], kind[o] != "api"))

    def premium(chosen: str, instead_of: str) -> str:
        extra = horizon_costs[chosen] - horizon_costs[instead_of]
        return f"${extra:,.0f} more {basis} than {label(instead_of)}"

    every = scenario.option_ids()
    candidates = list(every)
    if ctx.data_privacy == "strict":
        third_party = [o for o in every if sends_data_out(scenario, scenario.option(o))]  # a mix routing to one: too
        private = [o for o in every if o not in third_party]
        if private:
            candidates = private
            for o in third_party:
                add("privacy_override", "excludes", o,
                    f"Strict data privacy: {label(o)} sends data to a third party and is not marked private, so it is off the table whatever it costs.")
        elif third_party:  # nothing would be left: compare them all, and say privacy is not met
            add("privacy_conflict", "against", third_party[0],
                "Strict data privacy, but every option sends data to a third party: none meets it, so they are compared on cost "
                "alone. Add a self-hosted option, or mark an option private (private-cloud endpoint, BAA), to compare against.")
    elif ctx.data_privacy == "minimal":
        apis = of_kind("api", every)
        add("privacy_minimal", "favours", apis[0] if apis else "api", "Minimal privacy constraints: the API is the simplest route.")
    else:
        add("privacy_moderate", "info", None, "Moderate privacy needs: either route works with proper contracts (no-train, DPA/BAA).")

    # A mix's in-house and quality shares are needs of the workload: an option of its route that
    # would carry all the traffic alone and so break them is set aside like a privacy breach.
    for mix in scenario.options_of("mix"):
        sends = {cid: sends_data_out(scenario, scenario.option(cid)) for cid in mix.route}  # type: ignore[union-attr]
        bounds = route_bounds(mix, sends)  # type: ignore[arg-type]
        for cid in mix.route:  # type: ignore[union-attr]
            broken = constraint_violation({cid: 1.0}, *bounds)
            if broken is not None and cid in candidates and len(candidates) > 1:
                candidates = [o for o in candidates if o != cid]
                add("mix_constraint", "excludes", cid,
                    f"{label(cid)} alone breaks what {label(mix.id)} states the workload needs: {broken[2].split(': the route')[0]}.")

    cheapest = cheapest_of(every)
    cheapest_allowed = cheapest_of(candidates)
    ranked = sorted(candidates, key=lambda o: (horizon_costs[o], kind[o] != "api"))
    runner_up = ranked[1] if len(ranked) > 1 else None
    margin = None
    if runner_up is not None and horizon_costs[runner_up] > 0:
        gap = horizon_costs[runner_up] - horizon_costs[cheapest_allowed]
        margin = gap / horizon_costs[runner_up]
        add("cost", "decides", cheapest_allowed,
            f"Over {months} months{_basis_note(scenario)} {label(cheapest_allowed)} costs ${horizon_costs[cheapest_allowed]:,.0f}, "
            f"${gap:,.0f} ({margin:.0%}) less than {label(runner_up)} (${horizon_costs[runner_up]:,.0f}).")
    else:
        add("cost", "decides", cheapest_allowed, f"{label(cheapest_allowed)} is the only option left after the constraints.")
    close = margin is not None and margin < rules.close_call_share
    if close:
        add("close_call", "info", None,
            f"Close call: the two cheapest options differ by less than {rules.close_call_share:.0%} over the horizon; revisit as volume or prices move.")
    winner: str = cheapest_allowed

    for sh_id in own_gpus(every):
        u = options[sh_id].details.get("utilization")
        if u is not None and u < rules.utilization_risk_below:
            idle = next((i.monthly_usd for i in options[sh_id].line_items if i.key == "idle_gpu"),
                        options[sh_id].details.get("idle_monthly", 0.0))
            add("utilization_risk", "against", sh_id,
                f"{label(sh_id)} averages {u:.0%} GPU utilization, under the {rules.utilization_risk_below:.0%} risk threshold: "
                f"its idle GPUs (${idle:,.0f}/month) are priced in, but the volume must materialize.")

    if horizon_notes is None:
        horizon_notes = notes_over_horizon(scenario)
    for o, notes in horizon_notes.items():
        for note in notes:
            add("capacity_assumed", "against", o, f"Capacity risk: {note}")

    self_hosted = own_gpus(every)
    if ctx.ml_expertise == "none" and self_hosted:
        others = [o for o in candidates if kind[o] not in OWN_GPUS]
        if kind[winner] in OWN_GPUS and others:
            instead = winner
            winner = cheapest_of(others)
            add("expertise_none", "decides", winner,
                f"No ML infrastructure expertise in-house (seed 003: use an API): {label(winner)} is chosen over {label(instead)}, "
                f"at {premium(winner, instead)}.")
        else:
            add("expertise_none", "against", self_hosted[0], "No ML infrastructure expertise in-house: self-hosting would need hiring first.")
    elif ctx.ml_expertise == "limited":
        hosted = own_gpus(candidates)
        if hosted:  # one reason, against the own-GPU option that matters most (the winner if it is one)
            add("expertise_limited", "against", winner if winner in hosted else hosted[0],
                "Limited ML expertise: budget for hiring before self-hosting; a managed API or fine-tuned service is safer.")
    elif ctx.ml_expertise == "strong" and self_hosted:
        add("expertise_strong", "info", self_hosted[0], "A strong ML infrastructure team makes self-hosting viable.")

    if ctx.quality_need == "specialized_domain":
        fine_tuned = sorted(of_kind("fine_tuned", candidates), key=lambda o: horizon_costs[o])
        best_ft = fine_tuned[0] if fine_tuned else None
        within = best_ft is not None and horizon_costs[best_ft] <= horizon_costs[winner] * (1 + rules.quality_margin_share)
        if best_ft is not None and kind[winner] != "fine_tuned" and within:
            instead = winner
            winner = best_ft
            add("quality_specialized", "decides", best_ft,
                f"Specialized domain: {label(best_ft)} is within {rules.quality_margin_share:.0%} of {label(instead)} and fits the domain better "
                f"({premium(best_ft, instead)}).")
        else:
            add("quality_specialized", "favours", best_ft or "fine_tuned", "Specialized domain: a model fine-tuned on your data (hosted or self-hosted) may serve best.")
    elif ctx.quality_need == "state_of_the_art":
        apis = of_kind("api", candidates)
        if kind[winner] in OWN_GPUS and apis and mixes(candidates):
            instead, winner = winner, cheapest_of(mixes(candidates))
            add("quality_sota_hybrid", "decides", winner,
                f"State-of-the-art quality needed: self-host the high-volume path and keep the API for the hardest requests: "
                f"{label(winner)} ({_route_words(scenario, winner)}) at {premium(winner, instead)}.")
        elif kind[winner] in OWN_GPUS and apis:
            winner = HYBRID
            add("quality_sota_hybrid", "decides", HYBRID,
                "State-of-the-art quality needed: self-host the high-volume path and keep the API for the hardest requests "
                "(the hybrid is not priced; its cost basis is the cheapest eligible option).")
        else:
            add("quality_sota", "favours", apis[0] if apis else "api", "State-of-the-art quality needed: frontier API models still lead open models.")
    else:
        add("quality_good_enough", "info", None, "Good-enough quality: an open model is viable for this task.")

    latency = ctx.latency_p99_ms
    if latency is not None:
        apis = of_kind("api", every)
        api_ref = apis[0] if apis else "api"
        if latency < rules.latency_edge_ms:
            sh_candidates = own_gpus(candidates)
            if winner != HYBRID and kind[winner] == "api" and sh_candidates and mixes(candidates):
                instead, winner = winner, cheapest_of(mixes(candidates))
                add("latency_hybrid", "decides", winner,
                    f"P99 latency under {rules.latency_edge_ms:.0f} ms: serve the latency-critical path self-hosted, the rest "
                    f"through the API: {label(winner)} ({_route_words(scenario, winner)}) at {premium(winner, instead)}.")
            elif winner != HYBRID and kind[winner] == "api" and sh_candidates:
                winner = HYBRID
                add("latency_hybrid", "decides", HYBRID,
                    f"P99 latency under {rules.latency_edge_ms:.0f} ms: serve the latency-critical path self-hosted, the rest through the API "
                    "(the hybrid is not priced; its cost basis is the cheapest eligible option).")
            else:
                add("latency_edge", "favours", sh_candidates[0] if sh_candidates else (self_hosted[0] if self_hosted else "self_hosted"),
                    f"P99 latency under {rules.latency_edge_ms:.0f} ms favours self-hosted or edge inference (no network round-trip).")
        elif latency < rules.latency_api_ms:
            add("latency_api_ok", "info", api_ref, f"P99 latency of {latency:.0f} ms: an API works fine.")
        else:
            add("latency_relaxed", "info", api_ref, "Relaxed latency: an API definitely works.")

    _volume_bands(scenario, options, add)
    if breakeven is not None and breakeven.found and breakeven.volume_ratio is not None:
        add("breakeven_distance", "info", None, breakeven.reason)

    return Recommendation(
        option=winner, label=label(winner), cheapest_option=cheapest, cheapest_allowed_option=cheapest_allowed, allowed_options=candidates,
        runner_up=runner_up, horizon_costs=dict(horizon_costs), margin=margin, close_call=close, reasons=reasons,
    )


def _route_words(scenario: Scenario, mix_id: str) -> str:
    """"80% Own GPUs, 20% API (frontier)": a mix's route in words, largest share first."""
    route = scenario.option(mix_id).route  # type: ignore[union-attr]
    return ", ".join(f"{share:.0%} {scenario.label_of(cid)}" for cid, share in sorted(route.items(), key=lambda kv: -kv[1]))


def _basis(scenario: Scenario) -> str:
    """How horizon costs are compared: "in NPV over 36 months" or "over 36 months"."""
    h = scenario.horizon
    return f"in NPV over {h.months} months" if h.discount_rate_per_year > 0 else f"over {h.months} months"


def _basis_note(scenario: Scenario) -> str:
    r = scenario.horizon.discount_rate_per_year
    return f" (NPV at {r:.1%}/year)" if r > 0 else ""


def _money(v: float) -> str:
    return f"${v / 1e3:,.0f}k" if v >= 1e3 else f"${v:,.0f}"


def _count(v: float) -> str:
    return f"{v / 1e6:,.0f}M" if v >= 1e6 else f"{v / 1e3:,.0f}k" if v >= 1e3 else f"{v:,.0f}"


def _band_texts(kind: str, rules) -> tuple[float, float, bool, dict]:
    """(low, high, is the high edge inside the mid band, {band: (effect, kind favoured, text)});
    "{v}" in a text is the formatted value."""
    if kind == "tokens":
        lo, hi = rules.tokens_per_day_low, rules.tokens_per_day_high
        return lo, hi, True, {
            "low": ("favours", "api", f"{{v}}M tokens/day is under {_count(lo)}/day, where the API is almost always cheaper."),
            "mid": ("info", None, f"{{v}}M tokens/day is in the {_count(lo)}-{_count(hi)} band where other factors decide."),
            "high": ("favours", "self_hosted", f"{{v}}M tokens/day is over {_count(hi)}/day, where self-hosting deserves serious analysis."),
        }
    if kind == "inferences":
        lo, hi = rules.inferences_per_month_low, rules.inferences_per_month_high
        return lo, hi, False, {
            "low": ("favours", "api", f"{{v}} inferences/month is under {_count(lo)}: use the API."),
            "mid": ("favours", "fine_tuned", f"{{v}} inferences/month ({_count(lo)}-{_count(hi)}): evaluate a fine-tuned model with a 3-month pilot."),
            "high": ("favours", "self_hosted", f"{{v}} inferences/month ({_count(hi)}+): start scoping self-hosting."),
        }
    lo, hi = rules.api_spend_low, rules.api_spend_high
    return lo, hi, True, {
        "low": ("favours", "api", f"API token spend of ${{v}}/month is below {_money(lo)}, where the API wins."),
        "mid": ("info", None, f"API token spend of ${{v}}/month is in the {_money(lo)}-{_money(hi)} band: predictability, privacy and existing ML headcount decide."),
        "high": ("favours", "self_hosted", f"API token spend of ${{v}}/month is above {_money(hi)}, where self-hosting usually wins if utilization is good."),
    }


def _band_reason(scenario: Scenario, kind: str, value: float, shown: str, add) -> None:
    low, high, high_inside, texts = _band_texts(kind, scenario.rules)
    band = "low" if value < low else "mid" if (value <= high if high_inside else value < high) else "high"
    effect, favoured, text = texts[band]
    of_kind = scenario.options_of(favoured) if favoured else []
    add(f"{kind}_{band}", effect, of_kind[0].id if of_kind else favoured, text.format(v=shown))


def _volume_bands(scenario: Scenario, options: dict[str, OptionCost], add) -> None:
    t = scenario.volume.daily_tokens
    _band_reason(scenario, "tokens", t, f"{t / 1e6:,.1f}", add)
    size = scenario.volume.request_size
    if size:
        n = t * scenario.volume.days_per_month / size
        _band_reason(scenario, "inferences", n, f"{n:,.0f}", add)
    apis = scenario.options_of("api")
    if apis:
        spend = options[apis[0].id].token_cost_monthly
        _band_reason(scenario, "spend", spend, f"{spend:,.0f}", add)

"""Recommendation: API, fine-tuned, self-hosted or hybrid, with the reasons that fired.

The procedure, in order (every step that changes something leaves a reason):

1. Candidates are the options the scenario defines.
2. Hard constraint: strict data privacy excludes the API (seed 004's privacy override).
3. Blocks on self-hosting (lifted if nothing else is left): average utilization below 60%
   (seed 004), no ML infrastructure expertise (seed 003: "definitely API").
4. The cheapest remaining candidate over the horizon (NPV) wins.
5. Quality: a specialized domain prefers fine-tuning when it is within 10% of the cheapest;
   state-of-the-art quality with self-hosting winning gives a hybrid (keep the API for the
   hardest requests). A P99 latency need under 100 ms with the API winning gives a hybrid
   (latency-critical path self-hosted).
6. Volume, inference and API-spend bands from the seeds are added as context reasons.
"""

from __future__ import annotations

from typing import Optional

from .results import BreakEven, OptionCost, Reason, Recommendation
from .kinds import kind_of
from .scenario import HYBRID, Scenario

MIN_UTILIZATION = 0.60
CLOSE_CALL = 0.10
TOKENS_LOW, TOKENS_HIGH = 10e6, 100e6  # tokens/day bands (seeds 001, 003)
INFERENCES_LOW, INFERENCES_HIGH = 100e3, 1e6  # inferences/month bands (seed 000)
SPEND_LOW, SPEND_HIGH = 30e3, 80e3  # API USD/month bands (seed 004)
LATENCY_EDGE_MS, LATENCY_API_MS = 100.0, 500.0  # P99 bands (seed 003)


def recommend(
    scenario: Scenario,
    options: dict[str, OptionCost],
    horizon_costs: dict[str, float],
    breakeven: Optional[BreakEven] = None,
) -> Recommendation:
    """The recommended option id (or hybrid) with its reasons; ``options`` and ``horizon_costs``
    are keyed by option id."""
    ctx = scenario.context
    reasons: list[Reason] = []
    kind = {o.id: o.kind for o in scenario.options}
    label = scenario.label_of

    def add(rule: str, effect: str, option: Optional[str], text: str) -> None:
        reasons.append(Reason(rule=rule, effect=effect, option=option, text=text))  # type: ignore[arg-type]

    def of_kind(k: str, among: list[str]) -> list[str]:
        return [o for o in among if kind[o] == k]

    candidates = scenario.option_ids()
    if ctx.data_privacy == "strict":
        third_party = of_kind("api", candidates)
        for o in third_party:
            add("privacy_override", "excludes", o,
                f"Strict data privacy: data may not go to a third-party API, so {_the(scenario, o)} is off the table whatever it costs.")
        private = [o for o in candidates if o not in third_party]
        if private:
            candidates = private
        else:
            add("privacy_conflict", "info", third_party[0],
                "No private option is configured: add a self-hosted or fine-tuned option to compare against.")
    elif ctx.data_privacy == "minimal":
        apis = of_kind("api", candidates)
        add("privacy_minimal", "favours", apis[0] if apis else None, "Minimal privacy constraints: the API is the simplest route.")
    else:
        add("privacy_moderate", "info", None, "Moderate privacy needs: either route works with proper contracts (no-train, DPA/BAA).")

    for sh_id in of_kind("self_hosted", scenario.option_ids()):
        blocks: list[str] = []
        u = options[sh_id].details.get("utilization")
        if u is not None and u < MIN_UTILIZATION:
            blocks.append(f"average GPU utilization is {u:.0%}, below the {MIN_UTILIZATION:.0%} needed before committing: idle GPUs are paid for")
        if ctx.ml_expertise == "none":
            blocks.append("there is no ML infrastructure expertise in-house")
        if sh_id in candidates and blocks:
            if len(candidates) > 1:
                candidates = [o for o in candidates if o != sh_id]
                for text in blocks:
                    add("selfhost_blocked", "blocks", sh_id, f"{_activity(scenario, sh_id)} set aside: {text}.")
            else:
                for text in blocks:
                    add("selfhost_kept", "info", sh_id, f"{_activity(scenario, sh_id)} kept as the only allowed option although {text}.")
    self_hosted = of_kind("self_hosted", scenario.option_ids())
    if ctx.ml_expertise == "limited":
        for sh_id in of_kind("self_hosted", candidates):
            add("expertise_limited", "against", sh_id, "Limited ML expertise: budget for hiring before self-hosting; a managed API or fine-tuned service is safer.")
    elif ctx.ml_expertise == "strong" and self_hosted:
        add("expertise_strong", "info", self_hosted[0], "A strong ML infrastructure team makes self-hosting viable.")

    ranked = sorted(candidates, key=lambda o: (horizon_costs[o], kind[o] != "api"))
    cheapest = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    months = scenario.horizon.months
    winner: str = cheapest
    margin = None
    if runner_up is not None and horizon_costs[cheapest] > 0:
        margin = horizon_costs[runner_up] / horizon_costs[cheapest] - 1.0
        add("cost", "decides", cheapest,
            f"Over {months} months {label(cheapest)} costs ${horizon_costs[cheapest]:,.0f}, "
            f"${horizon_costs[runner_up] - horizon_costs[cheapest]:,.0f} ({margin:.0%}) less than {label(runner_up)}.")
    else:
        add("cost", "decides", cheapest, f"{label(cheapest)} is the only option left after the constraints.")
    close = margin is not None and margin < CLOSE_CALL
    if close:
        add("close_call", "info", None, f"Close call: the two cheapest options are within {CLOSE_CALL:.0%} over the horizon; revisit as volume or prices move.")

    if ctx.quality_need == "specialized_domain":
        fine_tuned = sorted(of_kind("fine_tuned", candidates), key=lambda o: horizon_costs[o])
        best_ft = fine_tuned[0] if fine_tuned else None
        if best_ft is not None and kind[winner] != "fine_tuned" and horizon_costs[best_ft] <= horizon_costs[winner] * (1 + CLOSE_CALL):
            winner = best_ft
            add("quality_specialized", "decides", best_ft,
                "Specialized domain: a fine-tuned model is within 10% of the cheapest option and fits the domain better.")
        else:
            add("quality_specialized", "favours", best_ft or "fine_tuned", "Specialized domain: a model fine-tuned on your data (hosted or self-hosted) may serve best.")
    elif ctx.quality_need == "state_of_the_art":
        apis = of_kind("api", candidates)
        if kind[winner] == "self_hosted" and apis:
            winner = HYBRID
            add("quality_sota_hybrid", "decides", HYBRID,
                "State-of-the-art quality needed: self-host the high-volume path and keep the API for the hardest requests.")
        else:
            add("quality_sota", "favours", apis[0] if apis else "api", "State-of-the-art quality needed: frontier API models still lead open models.")
    else:
        add("quality_good_enough", "info", None, "Good-enough quality: an open model is viable for this task.")

    latency = ctx.latency_p99_ms
    if latency is not None:
        apis = of_kind("api", scenario.option_ids())
        api_ref = apis[0] if apis else "api"
        if latency < LATENCY_EDGE_MS:
            sh_candidates = of_kind("self_hosted", candidates)
            if winner != HYBRID and kind[winner] == "api" and sh_candidates:
                winner = HYBRID
                add("latency_hybrid", "decides", HYBRID,
                    f"P99 latency under {LATENCY_EDGE_MS:.0f} ms: serve the latency-critical path self-hosted, the rest through the API.")
            else:
                add("latency_edge", "favours", sh_candidates[0] if sh_candidates else (self_hosted[0] if self_hosted else "self_hosted"),
                    f"P99 latency under {LATENCY_EDGE_MS:.0f} ms favours self-hosted or edge inference (no network round-trip).")
        elif latency < LATENCY_API_MS:
            add("latency_api_ok", "info", api_ref, f"P99 latency of {latency:.0f} ms: an API works fine.")
        else:
            add("latency_relaxed", "info", api_ref, "Relaxed latency: an API definitely works.")

    _volume_bands(scenario, options, add)
    if breakeven is not None and breakeven.found and breakeven.volume_ratio is not None:
        add("breakeven_distance", "info", None, breakeven.reason)

    return Recommendation(
        option=winner, label=label(winner), cheapest_option=cheapest, runner_up=runner_up,
        horizon_costs=dict(horizon_costs), margin=margin, close_call=close, reasons=reasons,
    )


def _activity(scenario: Scenario, option_id: str) -> str:
    """An option as an activity: its kind's phrase ("Self-hosting") when the option goes by its
    kind's name, else its label as is."""
    return _phrase(scenario, option_id, "activity")


def _the(scenario: Scenario, option_id: str) -> str:
    """An option after "so": its kind's phrase ("the API") when the option goes by its kind's
    name, else its label as is."""
    return _phrase(scenario, option_id, "definite")


def _phrase(scenario: Scenario, option_id: str, which: str) -> str:
    label = scenario.label_of(option_id)
    kind = kind_of(scenario.option(option_id))
    phrase = getattr(kind, which)
    return phrase if phrase and label == kind.label else label


# (rule prefix, low, high, is the high edge inside the mid band, {band: (effect, option, text)});
# "{v}" in a text is the formatted value.
_BANDS = {
    "tokens": (TOKENS_LOW, TOKENS_HIGH, True, {
        "low": ("favours", "api", "{v}M tokens/day is under 10M/day, where the API is almost always cheaper."),
        "mid": ("info", None, "{v}M tokens/day is in the 10M-100M band where other factors decide."),
        "high": ("favours", "self_hosted", "{v}M tokens/day is over 100M/day, where self-hosting deserves serious analysis."),
    }),
    "inferences": (INFERENCES_LOW, INFERENCES_HIGH, False, {
        "low": ("favours", "api", "{v} inferences/month is under 100k: use the API."),
        "mid": ("favours", "fine_tuned", "{v} inferences/month (100k-1M): evaluate a fine-tuned model with a 3-month pilot."),
        "high": ("favours", "self_hosted", "{v} inferences/month (1M+): start scoping self-hosting."),
    }),
    "spend": (SPEND_LOW, SPEND_HIGH, True, {
        "low": ("favours", "api", "API token spend of ${v}/month is below $30k, where the API wins."),
        "mid": ("info", None, "API token spend of ${v}/month is in the $30k-$80k band: predictability, privacy and existing ML headcount decide."),
        "high": ("favours", "self_hosted", "API token spend of ${v}/month is above $80k, where self-hosting usually wins if utilization is good."),
    }),
}


def _band_reason(kind: str, value: float, shown: str, add) -> None:
    low, high, high_inside, texts = _BANDS[kind]
    band = "low" if value < low else "mid" if (value <= high if high_inside else value < high) else "high"
    effect, option, text = texts[band]
    add(f"{kind}_{band}", effect, option, text.format(v=shown))


def _volume_bands(scenario: Scenario, options: dict[str, OptionCost], add) -> None:
    t = scenario.volume.daily_tokens
    _band_reason("tokens", t, f"{t / 1e6:,.1f}", add)
    size = scenario.volume.request_size
    if size:
        n = t * scenario.volume.days_per_month / size
        _band_reason("inferences", n, f"{n:,.0f}", add)
    apis = scenario.options_of("api")
    if apis:
        spend = options[apis[0].id].token_cost_monthly
        _band_reason("spend", spend, f"{spend:,.0f}", add)

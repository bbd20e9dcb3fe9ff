"""Turns an engine ``Evaluation`` into what the memo templates print.

Every figure here is an engine output (or a difference/sum of engine outputs); nothing
re-derives a cost. Text is plain ``str``: the templates autoescape it.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field
from typing import Optional

from ..engine.results import Evaluation, Reason, SensitivityRow
from ..engine.scenario import OPTION_LABELS
from . import formatting as fmt

DECISIVE = ("decides", "excludes", "blocks")
LEANING = ("favours", "against")
EFFECT_LABELS = {
    "decides": "Decides", "excludes": "Excludes", "blocks": "Blocks",
    "favours": "Favours", "against": "Against", "info": "Context",
}


def memo_date_default(memo_date: Optional[dt.date] = None) -> dt.date:
    """The memo's date: given, else SOURCE_DATE_EPOCH (reproducible builds), else today."""
    if memo_date is not None:
        return memo_date
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
        except (ValueError, OverflowError, OSError):
            raise ValueError(f"SOURCE_DATE_EPOCH: got {epoch!r}, expected whole seconds since 1970-01-01") from None
    return dt.date.today()


def long_date(d: dt.date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


def decision_pair(ev: Evaluation) -> tuple[str, Optional[str]]:
    """(the option whose costs stand for the recommendation, the alternative it is weighed against).

    A hybrid has no cost line of its own: the cheapest eligible option is its cost basis. The
    alternative is the cheapest option the recommendation did not pick (the runner-up, or an
    option a constraint set aside), so the memo can say what the choice saves or costs."""
    rec = ev.recommendation
    chosen = rec.option if rec.option in ev.options else rec.cheapest_option
    others = [o for o in ev.options if o != chosen]
    if not others:
        return chosen, None
    if rec.cheapest_option != chosen:
        return chosen, rec.cheapest_option
    if rec.runner_up is not None and rec.runner_up != chosen:
        return chosen, rec.runner_up
    return chosen, min(others, key=lambda o: (rec.horizon_costs[o], o))


@dataclass
class Kpi:
    label: str
    value: str
    note: str = ""
    tone: str = ""  # "good" / "bad" / "" - colours the value


@dataclass
class Row:
    label: str
    cells: list[str]
    tag: str = ""
    css: str = ""


@dataclass
class Table:
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


def _label(option: Optional[str]) -> str:
    return OPTION_LABELS.get(option or "", option or "")


def _horizon_phrase(ev: Evaluation) -> str:
    h = ev.scenario.horizon
    npv = " (NPV)" if h.discount_rate_per_year > 0 else ""
    return f"over {h.months} months{npv}"


def money_at_stake(ev: Evaluation) -> dict:
    """What the recommendation saves (or costs) against the alternative, per month and over the horizon."""
    chosen, alt = decision_pair(ev)
    rec = ev.recommendation
    out = {"chosen": chosen, "alternative": alt, "monthly": None, "horizon": None}
    if alt is not None:
        out["monthly"] = ev.options[alt].total_monthly - ev.options[chosen].total_monthly
        out["horizon"] = rec.horizon_costs[alt] - rec.horizon_costs[chosen]
    return out


def kpis(ev: Evaluation) -> list[Kpi]:
    chosen, alt = decision_pair(ev)
    oc = ev.options[chosen]
    stake = money_at_stake(ev)
    months = ev.scenario.horizon.months
    out = [Kpi(f"{_label(chosen)} run-rate", f"{fmt.usd(oc.total_monthly)}",
               f"per month today; {fmt.pct(oc.hidden_share)} of it hidden" if oc.hidden_share is not None else "per month today")]
    if alt is not None:
        m, h = stake["monthly"], stake["horizon"]
        out.append(Kpi(f"Per month vs {_label(alt)}", fmt.usd(abs(m)),
                       "saved" if m >= 0 else "more, the price of the constraints",
                       "good" if m >= 0 else "bad"))
        out.append(Kpi(f"{months} months vs {_label(alt)}", fmt.usd(abs(h)),
                       ("saved" if h >= 0 else "more") + (" (NPV)" if ev.scenario.horizon.discount_rate_per_year > 0 else ""),
                       "good" if h >= 0 else "bad"))
    be = ev.breakeven
    if be.found and be.tokens_per_day is not None:
        where = "" if be.volume_ratio is None else f"you are at {fmt.pct(1 / be.volume_ratio)} of it"
        out.append(Kpi("Break-even volume", f"{fmt.tokens(be.tokens_per_day)}", f"tokens/day; {where}"))
    else:
        out.append(Kpi("Break-even volume", "none", "no volume where the costs cross"))
    return out


def headline(ev: Evaluation) -> str:
    """One sentence under the recommendation."""
    rec = ev.recommendation
    chosen, alt = decision_pair(ev)
    stake = money_at_stake(ev)
    hp = _horizon_phrase(ev)
    basis = "" if rec.option in ev.options else f" Cost basis: {_label(chosen)}, the cheapest eligible option."
    if alt is None:
        return f"{_label(chosen)} is the only option in this scenario.{basis}"
    m, h = stake["monthly"], stake["horizon"]
    if h >= 0:
        text = (f"{_label(rec.option)} saves {fmt.usd(h)} {hp} against {_label(alt)}"
                f" ({fmt.usd(m)} per month at today's volume)." if m >= 0 else
                f"{_label(rec.option)} saves {fmt.usd(h)} {hp} against {_label(alt)},"
                f" although it costs {fmt.usd(-m)} more per month today.")
    else:
        text = (f"{_label(rec.option)} costs {fmt.usd(-h)} more {hp} than {_label(alt)}"
                f" ({fmt.usd(-m)} per month today): the price of the constraints below." if m <= 0 else
                f"{_label(rec.option)} costs {fmt.usd(-h)} more {hp} than {_label(alt)},"
                f" although it saves {fmt.usd(m)} per month today.")
    if rec.close_call:
        text += " A close call."
    return text + basis


def reason_groups(ev: Evaluation) -> list[dict]:
    groups = [("What decided it", DECISIVE), ("Leaning one way", LEANING), ("Context", ("info",))]
    out = []
    for title, effects in groups:
        items = [_reason_item(r) for r in ev.recommendation.reasons
                 if r.effect in effects and r.rule != "breakeven_distance"]
        if items:
            out.append({"title": title, "items": items})
    return out


def _reason_item(r: Reason) -> dict:
    return {"effect": r.effect, "tag": EFFECT_LABELS[r.effect], "text": r.text, "option": _label(r.option) if r.option else ""}


def _driver_value(ev: Evaluation, row: SensitivityRow, value: float) -> str:
    capacity = ev.scenario.self_hosted is not None and ev.scenario.self_hosted.mode == "capacity"
    if row.driver == "volume":
        return f"{fmt.tokens(value)} tokens/day"
    if row.driver in ("api_prices", "ft_prices"):
        return f"{fmt.usd_rate(value)} per 1M {'input' if row.driver == 'api_prices' else 'output'} tokens"
    if row.driver == "infra":
        return f"{fmt.usd_rate(value)} per instance-hour" if capacity else f"{fmt.usd(value)} per month"
    if row.driver in ("utilization", "review_share"):
        return fmt.pct(value)
    if row.driver == "fte":
        return f"{fmt.number(value)} FTE"
    if row.driver == "fte_cost":
        return f"{fmt.usd(value)} per year"
    return fmt.number(value)


def tornado_rows(ev: Evaluation) -> list[dict]:
    """Each sensitivity driver as the monthly gap (alternative - chosen) at its low and high value,
    widest swing first. A gap that changes sign means the monthly comparison flips."""
    chosen, alt = decision_pair(ev)
    if alt is None:
        return []
    base = ev.options[alt].total_monthly - ev.options[chosen].total_monthly
    rows = []
    for r in ev.sensitivity:
        if chosen not in r.totals_low or alt not in r.totals_low:
            continue
        low = r.totals_low[alt] - r.totals_low[chosen]
        high = r.totals_high[alt] - r.totals_high[chosen]
        rows.append({
            "row": r, "label": r.label, "low": low, "high": high, "base": base,
            "low_value": _driver_value(ev, r, r.low_value), "high_value": _driver_value(ev, r, r.high_value),
            "base_value": _driver_value(ev, r, r.base_value),
            "flips_low": (low < 0) != (base < 0) and low != 0, "flips_high": (high < 0) != (base < 0) and high != 0,
            "note": r.note,
            "moves": not (math.isclose(low, base, rel_tol=1e-9, abs_tol=1e-6) and math.isclose(high, base, rel_tol=1e-9, abs_tol=1e-6)),
        })
    rows.sort(key=lambda d: (-abs(d["high"] - d["low"]), d["label"]))
    return rows


def what_would_change(ev: Evaluation) -> list[str]:
    chosen, alt = decision_pair(ev)
    out: list[str] = []
    pairs = [ev.breakeven] + [b for b in ev.breakevens if b is not ev.breakeven and b != ev.breakeven
                             and chosen in (b.option_a, b.option_b)]
    for be in pairs:
        if be.option_a == be.option_b:
            continue
        if not be.found or be.tokens_per_day is None:
            out.append(be.reason)
            continue
        below = be.cheaper_below or be.option_a
        above = be.option_b if below == be.option_a else be.option_a
        head = (f"{_label(be.option_a)} and {_label(be.option_b)} cost the same at "
                f"{fmt.tokens(be.tokens_per_day)} tokens/day; today's volume is {fmt.tokens(be.current_tokens_per_day)}")
        ratio = be.volume_ratio
        if ratio is None:
            out.append(head + ".")
        elif ratio >= 1:
            out.append(f"{head} ({fmt.pct(1 / ratio)} of it). Volume would have to grow {fmt.multiple(ratio)} "
                       f"before {_label(above)} is cheaper per month.")
        else:
            out.append(f"{head} ({fmt.pct(1 / ratio)} of it). Volume would have to fall {fmt.pct(1 - ratio)} "
                       f"before {_label(below)} is cheaper per month.")
    flips = []
    for t in tornado_rows(ev):
        for side in ("low", "high"):
            if t[f"flips_{side}"]:
                winner = alt if t[side] < 0 else chosen
                name = re.sub(r"\s*\([^)]*\)$", "", t["label"])
                flips.append(f"{name} at {t[f'{side}_value']} instead of {t['base_value']}: "
                             f"{_label(winner)} becomes cheaper per month.")
    if alt is not None:
        if flips:
            out.extend(flips)
        else:
            swing = ev.scenario.sensitivity.swing
            out.append(f"No single driver moved by {fmt.pct(swing)} either way changes which of "
                       f"{_label(chosen)} and {_label(alt)} is cheaper per month (see the tornado).")
    for r in ev.recommendation.reasons:
        if r.effect in ("excludes", "blocks"):
            out.append(f"{r.text} If that changes, the set-aside option is back in the running.")
    if alt is None:
        out.append(f"Only {_label(chosen)} is defined in this scenario: add a fine-tuned or self-hosted option "
                   "to see what it would take for another route to win.")
    return out


def options_table(ev: Evaluation) -> Table:
    names = list(ev.options)
    months = ev.scenario.horizon.months
    rec = ev.recommendation
    chosen, _ = decision_pair(ev)
    t = Table(columns=[OPTION_LABELS[o] for o in names])
    t.rows.append(Row("Per month today", [fmt.usd(ev.options[o].total_monthly) for o in names]))
    t.rows.append(Row("of which hidden", [fmt.usd(ev.options[o].hidden_monthly) for o in names], css="sub"))
    t.rows.append(Row("One-time cost", [fmt.usd(ev.options[o].one_time_cost) for o in names]))
    t.rows.append(Row(f"Total {months} months", [fmt.usd(ev.tco[o].total) for o in names]))
    if ev.scenario.horizon.discount_rate_per_year > 0:
        t.rows.append(Row(f"NPV {months} months", [fmt.usd(ev.tco[o].npv) for o in names]))
    status = []
    excluded = {r.option for r in rec.reasons if r.effect in ("excludes", "blocks") and r.option}
    for o in names:
        if o == chosen:
            status.append("Recommended" if rec.option == o else f"{rec.label} (basis)")
        elif o in excluded:
            status.append("Set aside")
        else:
            status.append("")
    t.rows.append(Row("Status", status, css="status"))
    t.chosen_index = names.index(chosen)  # type: ignore[attr-defined]
    return t


def iceberg_table(ev: Evaluation) -> Table:
    names = list(ev.options)
    t = Table(columns=[OPTION_LABELS[o] for o in names])
    keys: dict[str, tuple[str, bool]] = {}
    for c in ev.options.values():
        for item in c.line_items:
            keys.setdefault(item.key, (item.label, item.hidden))
    for hidden in (False, True):
        for key, (label, is_hidden) in keys.items():
            if is_hidden != hidden:
                continue
            values = {o: next((i.monthly_usd for i in c.line_items if i.key == key), None) for o, c in ev.options.items()}
            if all(not v for v in values.values()):
                continue
            t.rows.append(Row(label, [fmt.usd(values[o]) if values[o] is not None else "" for o in names],
                              tag="hidden" if hidden else "visible", css="hidden" if hidden else ""))
    t.rows.append(Row("Visible (on the invoice)", [fmt.usd(ev.options[o].visible_monthly) for o in names], css="subtotal"))
    t.rows.append(Row("Hidden (below the waterline)", [fmt.usd(ev.options[o].hidden_monthly) for o in names], css="subtotal"))
    t.rows.append(Row("Total per month", [fmt.usd(ev.options[o].total_monthly) for o in names], css="total"))
    t.rows.append(Row("Hidden share", [fmt.pct(ev.options[o].hidden_share) for o in names], css="sub"))
    t.rows.append(Row("Fixed / variable", [f"{fmt.usd(ev.options[o].fixed_monthly)} / {fmt.usd(ev.options[o].variable_monthly)}" for o in names], css="sub"))
    return t


_QUESTIONS = [
    ("volume", "What is the token volume?", ("tokens_",)),
    ("latency", "What latency is required?", ("latency_",)),
    ("residency", "What are the data-residency constraints?", ("privacy_",)),
    ("expertise", "Is there ML infrastructure expertise?", ("expertise_",)),
    ("quality", "What model quality is needed?", ("quality_",)),
]
_PRIVACY = {"minimal": "Minimal", "moderate": "Moderate (enterprise contracts)", "strict": "Strict (data stays in-house)"}
_EXPERTISE = {"none": "None in-house", "limited": "Limited", "strong": "Strong team"}
_QUALITY = {"state_of_the_art": "State of the art", "good_enough": "Good enough for the task", "specialized_domain": "Specialized domain"}
# Seed 003's guidance for answers no engine rule comments on (e.g. no self-hosted option to judge).
_FALLBACK = {
    "latency": "No latency requirement given: any option's latency is assumed acceptable.",
    "expertise": {"none": "Without ML infrastructure expertise the API is the safe route.",
                  "limited": "Limited expertise points to an API or a managed (fine-tuned) service.",
                  "strong": "A strong team makes self-hosting viable."},
}


def framework(ev: Evaluation) -> list[dict]:
    """Seed 003's five questions answered for this BU, each with the engine rule that fired."""
    s = ev.scenario
    ctx = s.context
    size = s.volume.request_size
    volume = f"{fmt.tokens(s.volume.daily_tokens)} tokens/day"
    if size:
        volume += f" ({fmt.count(s.volume.daily_tokens * s.volume.days_per_month / size)} requests/month)"
    answers = {
        "volume": volume,
        "latency": "Not specified" if ctx.latency_p99_ms is None else f"P99 {fmt.count(ctx.latency_p99_ms)} ms",
        "residency": _PRIVACY[ctx.data_privacy],
        "expertise": _EXPERTISE[ctx.ml_expertise],
        "quality": _QUALITY[ctx.quality_need],
    }
    out = []
    for n, (key, question, prefixes) in enumerate(_QUESTIONS, start=1):
        fired = [r for r in ev.recommendation.reasons if r.rule.startswith(prefixes)
                 or (key == "expertise" and r.effect == "blocks" and "expertise" in r.text)]
        if fired:
            guidance = " ".join(r.text for r in fired)
            strongest = next((r for r in fired if r.effect in DECISIVE), next((r for r in fired if r.effect in LEANING), fired[0]))
            points = _points_to(strongest)
        else:
            fb = _FALLBACK.get(key, "")
            guidance = fb[ctx.ml_expertise] if isinstance(fb, dict) else fb
            points = {"none": "API", "limited": "API / managed", "strong": "Self-hosted viable"}[ctx.ml_expertise] if key == "expertise" else "Any"
        out.append({"n": n, "question": question, "answer": answers[key], "guidance": guidance, "points_to": points})
    return out


def _points_to(r: Reason) -> str:
    if r.option is None:
        return "Any"
    label = _label(r.option)
    if r.effect in ("excludes", "blocks", "against"):
        return f"Not {label}"
    return label


def assumptions(ev: Evaluation) -> list[dict]:
    """Inputs a reader should check, each with where it came from and as of when."""
    s = ev.scenario
    api = s.api
    out = []
    scenario_src = "Scenario input"
    api_src = api.price_source or scenario_src
    model = f" ({api.model})" if api.model else ""
    out.append({"item": f"API token prices{model}",
                "value": f"{fmt.usd_rate(api.input_price_per_1m)} in / {fmt.usd_rate(api.output_price_per_1m)} out per 1M tokens",
                "source": api_src, "as_of": api.price_as_of or "-"})
    if api.cached_share > 0:
        cached = (f"{fmt.usd_rate(api.cached_input_price_per_1m)} per 1M" if api.cached_input_price_per_1m is not None
                  else "not published: 10% of the input price by convention")
        out.append({"item": "API cached input", "value": f"{cached}; {fmt.pct(api.cached_share)} of input cached",
                    "source": api_src, "as_of": api.price_as_of or "-"})
    if api.batch_share > 0:
        batch = (f"{fmt.usd_rate(api.batch_input_price_per_1m)} in / {fmt.usd_rate(api.batch_output_price_per_1m)} out per 1M"
                 if api.batch_input_price_per_1m is not None and api.batch_output_price_per_1m is not None
                 else "not published: 50% of the standard prices by convention")
        out.append({"item": "API batch", "value": f"{batch}; {fmt.pct(api.batch_share)} of tokens",
                    "source": api_src, "as_of": api.price_as_of or "-"})
    ft = s.fine_tuned
    if ft is not None:
        out.append({"item": "Fine-tuned token prices", "value": f"{fmt.usd_rate(ft.input_price_per_1m)} in / {fmt.usd_rate(ft.output_price_per_1m)} out per 1M tokens",
                    "source": scenario_src, "as_of": "-"})
        out.append({"item": "Fine-tuning set-up and hosting", "value": f"{fmt.usd(ft.setup_cost)} once; {fmt.usd(ft.hosting_monthly)} per month hosting",
                    "source": scenario_src, "as_of": "-"})
    sh = s.self_hosted
    if sh is not None:
        if sh.mode == "simple":
            out.append({"item": "GPU infrastructure", "value": f"{fmt.usd(sh.infra_monthly)} per month at {fmt.pct(sh.utilization)} utilization",
                        "source": sh.price_source or scenario_src, "as_of": sh.price_as_of or "-"})
        else:
            details = ev.options["self_hosted"].details
            out.append({"item": f"GPU instance{f' ({sh.gpu})' if sh.gpu else ''}",
                        "value": f"{fmt.usd_rate(sh.instance_hourly_usd)} per hour, {fmt.number(sh.gpus_per_instance)} GPU(s) each, "
                                 f"{fmt.count(sh.tokens_per_second_per_gpu)} tokens/s per GPU; {fmt.number(details.get('instances'))} instance(s) today",
                        "source": sh.price_source or scenario_src, "as_of": sh.price_as_of or "-"})
            out.append({"item": "GPU sizing", "value": f"peak {fmt.number(sh.peak_to_average)}x average, target utilization {fmt.pct(sh.target_utilization)}, redundancy {fmt.number(sh.redundancy)}x",
                        "source": scenario_src, "as_of": "-"})
        out.append({"item": "MLOps people", "value": f"{fmt.number(sh.fte)} FTE at {fmt.usd(sh.fte_annual_cost)} per year fully loaded",
                    "source": scenario_src if "fte_annual_cost" in sh.model_fields_set else "Default (seed 003: $150k loaded FTE)", "as_of": "-"})
        if sh.setup_cost or sh.migration_cost:
            out.append({"item": "Self-hosting one-time", "value": f"{fmt.usd(sh.setup_cost)} set-up + {fmt.usd(sh.migration_cost)} migration",
                        "source": scenario_src, "as_of": "-"})
    v = s.volume
    growth = f"; growing {fmt.pct(v.monthly_growth, 1)} per month" if v.monthly_growth else ""
    out.append({"item": "Volume", "value": f"{fmt.tokens(v.daily_tokens)} tokens/day, {fmt.pct(v.input_share)} input{growth}",
                "source": scenario_src, "as_of": "-"})
    h = s.horizon
    out.append({"item": "Horizon", "value": f"{h.months} months; API prices {'fall ' + fmt.pct(h.api_price_decline_per_year) + ' a year' if h.api_price_decline_per_year else 'held flat'}; "
                                           f"discount rate {fmt.pct(h.discount_rate_per_year, 1)} a year",
                "source": scenario_src, "as_of": "-"})
    return out


def method_notes(ev: Evaluation) -> list[str]:
    s = ev.scenario
    be = ev.breakeven
    swing = fmt.pct(s.sensitivity.swing)
    notes = [
        "Every figure comes from the runrate_xl cost engine; this memo only formats it. Amounts are USD, "
        "rounded to whole dollars for display only.",
        "Visible costs are what appears on the vendor or GPU invoice; hidden costs (people, review, idle "
        "capacity, retries, observability, tooling) are what the organisation pays besides.",
        f"Total cost of ownership adds the one-time costs at month 0 to {s.horizon.months} monthly costs, with "
        "volume growth and any API price decline applied month by month"
        + (", discounted to a net present value." if s.horizon.discount_rate_per_year > 0 else "."),
        "The recommendation compares horizon costs after hard constraints (data privacy, utilization below 60%, "
        "missing expertise), then weighs quality and latency needs (seed 003's five questions).",
    ]
    if be.method == "closed_form":
        notes.append("Break-even volumes are solved in closed form: every option's monthly cost is fixed plus a rate per token.")
    elif be.method == "piecewise":
        notes.append("Break-even is solved segment by segment because GPU capacity steps up with volume.")
    notes.append(f"Sensitivity moves one driver at a time by {swing} either way and re-runs the engine.")
    return notes


def caveats(ev: Evaluation) -> list[str]:
    out = list(ev.notes)
    for o, c in ev.options.items():
        for n in c.notes:
            if n not in out:
                out.append(n)
    for r in ev.recommendation.reasons:
        if r.rule == "close_call":
            out.append(r.text)
    out.append("Prices and GPU rates change quickly; re-run the memo when a price list or the volume moves.")
    return out


def iceberg_callouts(ev: Evaluation) -> list[dict]:
    out = []
    for o, c in ev.options.items():
        if c.hidden_share is None:
            continue
        out.append({"value": f"{fmt.pct(c.hidden_share)} hidden",
                    "text": f"{fmt.usd(c.hidden_monthly)} of {OPTION_LABELS[o]}'s {fmt.usd(c.total_monthly)} per month is off the invoice."})
    chosen, _ = decision_pair(ev)
    hidden = [i for i in ev.options[chosen].line_items if i.hidden and i.monthly_usd > 0]
    if hidden:
        top = max(hidden, key=lambda i: i.monthly_usd)
        out.append({"value": fmt.usd(top.monthly_usd),
                    "text": f"{top.label}: the largest hidden cost of {OPTION_LABELS[chosen]}, per month."})
    return out


def breakeven_caption(ev: Evaluation) -> str:
    be = ev.breakeven
    text = ("Total monthly cost of each option as volume changes, from the engine at each volume. "
            "Circles: break-even points; dashed line: today's volume.")
    if be.found and be.tokens_per_day is not None and be.monthly_cost is not None:
        text += (f" {_label(be.option_a)} and {_label(be.option_b)} cross at {fmt.tokens(be.tokens_per_day)} tokens/day"
                 f" ({fmt.usd(be.monthly_cost)} per month).")
    elif be.option_a != be.option_b:
        text += f" {be.reason}"
    return text


def tornado_caption(ev: Evaluation) -> str:
    chosen, alt = decision_pair(ev)
    if alt is None:
        return ""
    base = ev.options[alt].total_monthly - ev.options[chosen].total_monthly
    swing = fmt.pct(ev.scenario.sensitivity.swing)
    text = (f"Monthly cost of {OPTION_LABELS[alt]} minus {OPTION_LABELS[chosen]} when one driver moves {swing} down or up "
            f"(today: {fmt.usd(base)}). A bar crossing the red line flips which option is cheaper per month.")
    still = [r["label"] for r in tornado_rows(ev) if not r["moves"]]
    if still:
        text += f" Not shown, as they do not move this comparison: {', '.join(still)}."
    return text


def memo_context(ev: Evaluation, memo_date: dt.date) -> dict:
    s = ev.scenario
    rec = ev.recommendation
    chosen, alt = decision_pair(ev)
    return {
        "bu": s.name,
        "owner": s.owner_email or "",
        "date": long_date(memo_date),
        "iso_date": memo_date.isoformat(),
        "recommendation": rec.label,
        "recommendation_key": rec.option,
        "chosen": chosen,
        "chosen_label": _label(chosen),
        "alternative_label": _label(alt) if alt else "",
        "close_call": rec.close_call,
        "headline": headline(ev),
        "kpis": kpis(ev),
        "reason_groups": reason_groups(ev),
        "what_would_change": what_would_change(ev),
        "options_table": options_table(ev),
        "iceberg_table": iceberg_table(ev),
        "tco_rows": [{"label": OPTION_LABELS[o], "one_time": fmt.usd(t.one_time_cost), "total": fmt.usd(t.total), "npv": fmt.usd(t.npv)} for o, t in ev.tco.items()],
        "crossovers": [c.reason for c in ev.crossovers] + [p.reason for p in ev.paybacks],
        "breakeven_caption": breakeven_caption(ev),
        "tornado": tornado_rows(ev),
        "tornado_caption": tornado_caption(ev),
        "iceberg_callouts": iceberg_callouts(ev),
        "framework": framework(ev),
        "assumptions": assumptions(ev),
        "method_notes": method_notes(ev),
        "caveats": caveats(ev),
        "notes": s.notes,
        "months": s.horizon.months,
        "horizon_phrase": _horizon_phrase(ev),
        "discounted": s.horizon.discount_rate_per_year > 0,
        "volume": fmt.tokens(s.volume.daily_tokens),
        "outcomes": [{"label": OPTION_LABELS[oc.option], "name": oc.outcome_name, "cost": fmt.usd_cents(oc.cost_per_outcome)} for oc in ev.outcome_costs],
        "title": f"Decision memo: {s.name}",
        "subject": f"{s.name}: recommend {rec.label}. {headline(ev)}",
    }


def portfolio_context(evaluations: list[Evaluation], memo_date: dt.date) -> dict:
    """The portfolio memo: one row per business unit and the totals across them."""
    rows = []
    today_total = chosen_total = monthly_stake = horizon_stake = 0.0
    by_option: dict[str, int] = {}
    for ev in evaluations:
        s = ev.scenario
        chosen, alt = decision_pair(ev)
        stake = money_at_stake(ev)
        current = s.context.current_option
        today_total += ev.options[current].total_monthly
        chosen_total += ev.options[chosen].total_monthly
        if alt is not None:
            monthly_stake += stake["monthly"]
            horizon_stake += stake["horizon"]
        rec = ev.recommendation
        by_option[rec.label] = by_option.get(rec.label, 0) + 1
        be = ev.breakeven
        key = next((r.text for r in rec.reasons if r.effect in ("excludes", "blocks")),
                   next((r.text for r in rec.reasons if r.effect == "decides"), ""))
        rows.append({
            "bu": s.name, "owner": s.owner_email or "", "recommendation": rec.label, "key": rec.option,
            "close_call": rec.close_call,
            "today": fmt.usd(ev.options[current].total_monthly), "today_label": OPTION_LABELS[current],
            "run_rate": fmt.usd(ev.options[chosen].total_monthly),
            "hidden_share": fmt.pct(ev.options[chosen].hidden_share),
            "alternative": _label(alt) if alt else "-",
            "monthly_stake": fmt.usd(stake["monthly"]) if alt else "-",
            "horizon_stake": fmt.usd(stake["horizon"]) if alt else "-",
            "months": s.horizon.months,
            "breakeven": (f"{fmt.tokens(be.tokens_per_day)}/day ({fmt.pct(1 / be.volume_ratio)} of it)"
                          if be.found and be.tokens_per_day is not None and be.volume_ratio else "none"),
            "headline": headline(ev),
            "key_reason": key,
        })
    n = len(evaluations)
    kpis = [
        Kpi("Business units", str(n), ", ".join(f"{v} {k}" for k, v in sorted(by_option.items()))),
        Kpi("Run-rate today", fmt.usd(today_total), "per month, each unit's current option"),
        Kpi("Run-rate as recommended", fmt.usd(chosen_total), "per month",
            "good" if chosen_total <= today_total else "bad"),
        Kpi("Against the alternatives", fmt.usd(abs(horizon_stake)),
            ("saved" if horizon_stake >= 0 else "more") + " over each unit's horizon",
            "good" if horizon_stake >= 0 else "bad"),
    ]
    return {
        "title": "Decision memo: AI run-rate portfolio",
        "subject": f"Portfolio of {n} business units: run-rate {fmt.usd(today_total)} per month today, "
                   f"{fmt.usd(chosen_total)} as recommended.",
        "bu": "Portfolio",
        "date": long_date(memo_date),
        "iso_date": memo_date.isoformat(),
        "kpis": kpis,
        "rows": rows,
        "totals": {"today": fmt.usd(today_total), "run_rate": fmt.usd(chosen_total),
                   "monthly_stake": fmt.usd(monthly_stake), "horizon_stake": fmt.usd(horizon_stake)},
    }

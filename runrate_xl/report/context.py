"""Turns an engine ``Evaluation`` into what the memo templates print.

Every figure here is an engine output (or a difference/sum of engine outputs); nothing
re-derives a cost. Text is plain ``str``: the templates autoescape it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

from .. import formatting as fmt
from .. import presentation
from ..engine.results import Evaluation, Reason
from ..presentation import (
    DECISIVE, Kpi, plain, cost_basis, decision_pair, headline, horizon_phrase, kpis, label, savings_vs_today, tornado_rows,
    what_would_change,
)


def _pill(ev: Evaluation, option: str) -> str:
    """The CSS class that colours an option: its kind (hybrid for a hybrid)."""
    found = ev.scenario.find_option(option)
    return found.kind if found is not None else option

LEANING = ("favours", "against")
EFFECT_LABELS = {
    "decides": "Decides", "excludes": "Excludes", "blocks": "Blocks",
    "favours": "Favours", "against": "Against", "info": "Context",
}


def long_date(d: dt.date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


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


def reason_groups(ev: Evaluation) -> list[dict]:
    groups = [("What decided it", DECISIVE), ("Leaning one way", LEANING)]  # context: in the five questions
    out = []
    for title, effects in groups:
        items = [_reason_item(ev, r) for r in ev.recommendation.reasons
                 if r.effect in effects and r.rule != "breakeven_distance"]
        if items:
            out.append({"title": title, "items": items})
    return out


def reason_tag(ev: Evaluation, r: Reason) -> str:
    """The tag before a reason, naming the option it is about: "Favours API", "Against Self-hosted"."""
    if r.effect == "info" or not r.option:
        return EFFECT_LABELS[r.effect]
    if r.rule == "cost" and r.option != cost_basis(ev):  # the cost ranking, overridden by a rule
        return f"Cheapest {label(ev, r.option)}"
    return f"{EFFECT_LABELS[r.effect]} {label(ev, r.option)}"


def _reason_item(ev: Evaluation, r: Reason) -> dict:
    return {"effect": r.effect, "tag": reason_tag(ev, r), "text": plain(r.text), "option": label(ev, r.option) if r.option else ""}


def options_table(ev: Evaluation) -> Table:
    names = list(ev.options)
    months = ev.scenario.horizon.months
    rec = ev.recommendation
    chosen, _ = decision_pair(ev)
    t = Table(columns=[label(ev, o) for o in names])
    t.rows.append(Row("Per month today", [fmt.usd(ev.options[o].total_monthly) for o in names]))
    t.rows.append(Row("of which hidden", [fmt.usd(ev.options[o].hidden_monthly) for o in names], css="sub"))
    t.rows.append(Row("One-time cost", [fmt.usd(ev.options[o].one_time_cost) for o in names]))
    t.rows.append(Row(f"Total {months} months", [fmt.usd(ev.tco[o].total) for o in names]))
    if ev.scenario.horizon.discount_rate_per_year > 0:
        t.rows.append(Row(f"NPV {months} months", [fmt.usd(ev.tco[o].npv) for o in names]))
    for unit in presentation.unit_cost_rows(ev, compact=True):
        t.rows.append(Row(unit["label"], [fmt.usd_rate(unit["values"][o]) for o in names], css="sub"))
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
    t = Table(columns=[label(ev, o) for o in names])
    for row in presentation.iceberg_table(ev):
        hidden = row["hidden"]
        t.rows.append(Row(row["label"], [fmt.usd(row["amounts"][o]) if row["amounts"][o] is not None else "" for o in names],
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
            points = _points_to(ev, strongest)
        else:
            fb = _FALLBACK.get(key, "")
            guidance = fb[ctx.ml_expertise] if isinstance(fb, dict) else fb
            points = {"none": "API", "limited": "API / managed", "strong": "Self-hosted viable"}[ctx.ml_expertise] if key == "expertise" else "Any"
        out.append({"n": n, "question": question, "answer": answers[key], "guidance": guidance, "points_to": points})
    return out


def _points_to(ev: Evaluation, r: Reason) -> str:
    if r.option is None:
        return "Any"
    name = label(ev, r.option)
    if r.effect in ("excludes", "blocks", "against"):
        return f"Not {name}"
    return name


_SCENARIO_SRC = "Scenario input"
# Where a default the engine falls back on comes from (the seed article, by name and date).
_FTE_DEFAULT_SRC = "Default: $150k per FTE, 'API vs. Self-Hosted LLMs: A Cost Analysis Framework'"


def _who(option) -> str:
    """" (mini)" after an item for an option not named after its kind."""
    return "" if option.id == option.kind else f" ({option.id})"


def short_source(text: str, most: int = 110) -> str:
    """A source as a reader cites it: its name, up to the first ';' or ': ' (the conditions and
    the arithmetic behind it stay in the scenario and the workbook), at most ``most`` characters."""
    text = " ".join(text.split())
    cut = min([i for i in (text.find("; "), text.find(": ")) if i >= 15] or [len(text)])
    out = text[:cut]
    if out.count("(") > out.count(")"):
        out += ")"
    return out if len(out) <= most else out[:most - 1].rstrip() + "\u2026"


def _row(item: str, value: str, source: str, as_of: str, option: str = "", items: tuple = ()) -> dict:
    return {"item": item, "value": value, "source": short_source(source), "as_of": as_of, "option": option, "items": items}


def _api_assumptions(ev: Evaluation, api) -> list[dict]:
    who = _who(api)
    src = api.price_source or _SCENARIO_SRC
    model = f" ({api.model})" if api.model else ""
    out = [_row(f"API token prices{model}{who}",
                f"{fmt.usd_rate(api.input_price_per_1m)} in / {fmt.usd_rate(api.output_price_per_1m)} out per 1M tokens",
                src, api.price_as_of or "-", api.id, ("input_tokens", "output_tokens"))]
    if api.cached_share > 0:
        cached = (f"{fmt.usd_rate(api.cached_input_price_per_1m)} per 1M" if api.cached_input_price_per_1m is not None
                  else "not published: 10% of the input price by convention")
        out.append(_row(f"API cached input{who}", f"{cached}; {fmt.pct(api.cached_share)} of input cached",
                        src, api.price_as_of or "-", api.id, ("cached_input_tokens",)))
    if api.batch_share > 0:
        batch = (f"{fmt.usd_rate(api.batch_input_price_per_1m)} in / {fmt.usd_rate(api.batch_output_price_per_1m)} out per 1M"
                 if api.batch_input_price_per_1m is not None and api.batch_output_price_per_1m is not None
                 else "not published: 50% of the standard prices by convention")
        out.append(_row(f"API batch{who}", f"{batch}; {fmt.pct(api.batch_share)} of tokens",
                        src, api.price_as_of or "-", api.id, ("batch_tokens",)))
    for share, price, times, ttl in ((api.cache_write_share, api.cache_write_price_per_1m, "1.25x", "5-minute"),
                                     (api.cache_write_1h_share, api.cache_write_1h_price_per_1m, "2x", "1-hour")):
        if share > 0:
            written = (f"{fmt.usd_rate(price)} per 1M" if price is not None
                       else f"not published: {times} the input price by convention ({api.provider} charges a write premium)")
            out.append(_row(f"API {ttl} cache writes{who}", f"{written}; {fmt.pct(share)} of input written",
                            src, api.price_as_of or "-", api.id, ("cache_write_tokens",) if ttl == "5-minute" or not api.cache_write_share else ()))  # the line once
    if api.reasoning_tokens_per_request > 0:
        out.append(_row(f"API reasoning tokens{who}",
                        f"{fmt.number(api.reasoning_tokens_per_request)} per request, billed at the output price",
                        _SCENARIO_SRC, "-", api.id, ("reasoning_tokens",)))
    if api.service_tier != "standard":
        tier = (f"{fmt.usd_rate(api.service_input_price_per_1m)} in / {fmt.usd_rate(api.service_output_price_per_1m)} out per 1M"
                if api.service_input_price_per_1m is not None and api.service_output_price_per_1m is not None
                else "not published: 50% of the standard prices by convention")
        out.append(_row(f"API {api.service_tier} service tier{who}", f"{tier}; the traffic not sent through batch",
                        src, api.price_as_of or "-"))
    if api.negotiated_discount_share > 0:
        out.append(_row(f"API negotiated discount{who}", f"{fmt.pct(api.negotiated_discount_share)} off every token price",
                        _SCENARIO_SRC, "-"))
    if api.retry_rate > 0:
        out.append(_row(f"API retries{who}", f"{fmt.pct(api.retry_rate)} of tokens sent again", _SCENARIO_SRC, "-",
                        api.id, ("retries",)))
    return out


def _fine_tuned_assumptions(ev: Evaluation, ft) -> list[dict]:
    who = _who(ft)
    return [
        _row(f"Fine-tuned token prices{who}", f"{fmt.usd_rate(ft.input_price_per_1m)} in / {fmt.usd_rate(ft.output_price_per_1m)} out per 1M tokens",
             _SCENARIO_SRC, "-", ft.id, ("input_tokens", "output_tokens")),
        _row(f"Fine-tuning set-up and hosting{who}", f"{fmt.usd(ft.setup_cost)} once; {fmt.usd(ft.hosting_monthly)} per month hosting",
             _SCENARIO_SRC, "-", ft.id, ("hosting",)),
    ]


def _self_hosted_assumptions(ev: Evaluation, sh) -> list[dict]:
    who = _who(sh)
    out = []
    gpu = ("gpu_in_use", "idle_gpu")
    if sh.mode == "simple":
        out.append(_row(f"GPU infrastructure{who}", f"{fmt.usd(sh.infra_monthly)} per month at {fmt.pct(sh.utilization)} utilization",
                        sh.price_source or _SCENARIO_SRC, sh.price_as_of or "-", sh.id, gpu))
    else:
        details = ev.options[sh.id].details
        out.append(_row(f"GPU instance{f' {sh.gpu}' if sh.gpu else ''}{who}",
                        f"{fmt.usd_rate(sh.instance_hourly_usd)} per hour, {fmt.number(sh.gpus_per_instance)} GPU(s) each, "
                        f"{fmt.count(sh.tokens_per_second_per_gpu)} tokens/s per GPU; {fmt.number(details.get('instances'))} instance(s) today; "
                        f"peak {fmt.number(sh.peak_to_average)}x average, target utilization {fmt.pct(sh.target_utilization)}, "
                        f"redundancy {fmt.number(sh.redundancy)}x",
                        sh.price_source or _SCENARIO_SRC, sh.price_as_of or "-", sh.id, gpu))
        if sh.throughput_source:
            memory = (f"; memory {fmt.number(sh.memory_needed_gb)} GB needed of {fmt.number(sh.memory_available_gb)} GB usable per replica"
                      if sh.memory_needed_gb is not None and sh.memory_available_gb is not None else "")
            out.append(_row(f"GPU throughput{f' {sh.model} {sh.precision}' if sh.model else ''}{who}",
                            f"{fmt.count(sh.tokens_per_second_per_gpu)} tokens/s per GPU, effective for the request mix{memory}",
                            sh.throughput_source, sh.throughput_as_of or "-", sh.id))
    out.append(_row(f"MLOps people{who}", f"{fmt.number(sh.fte)} FTE at {fmt.usd(sh.fte_annual_cost)} per year fully loaded",
                    _SCENARIO_SRC if "fte_annual_cost" in sh.model_fields_set else _FTE_DEFAULT_SRC, "-", sh.id, ("people",)))
    if sh.setup_cost or sh.migration_cost:
        out.append(_row(f"Self-hosting one-time{who}", f"{fmt.usd(sh.setup_cost)} set-up + {fmt.usd(sh.migration_cost)} migration",
                        _SCENARIO_SRC, "-", sh.id))
    return out


def _at_defaults(option, fields: Iterable[str]) -> bool:
    return all(getattr(option, n) == type(option).model_fields[n].default for n in fields)


def _after_figure(source: Optional[str]) -> Optional[str]:
    """A catalog source that opens with the figure it gives ("8x H100 server 285,000 USD: configiq
    ...") from its source name on, so that the short form names the source, not the figure."""
    if source and re.match(r"^[^:]*\d[^:]*: ", source):
        return source.split(": ", 1)[1]
    return source


def _on_prem_assumptions(ev: Evaluation, op) -> list[dict]:
    who = _who(op)
    details = ev.options[op.id].details
    defaults = "Default (on-prem conventions, configiq cost assumptions)"
    out = [_row(f"Server price{f' ({op.gpus_per_server}x {op.gpu_type})' if op.gpu_type else ''}{who}",
                f"{fmt.usd(op.server_price)} per server + {fmt.pct(op.install_share, 1)} installation; "
                f"{fmt.number(details.get('servers'))} server(s) today, {fmt.pct(details.get('utilization'))} average utilization",
                _after_figure(op.server_price_source) or _SCENARIO_SRC, op.server_price_as_of or "-", op.id, ("capital",))]
    finance = ("life_years", "residual_share", "cost_of_capital_per_year", "maintenance_share_per_year")
    out.append(_row(f"Server life and financing{who}",
                    f"{fmt.number(op.life_years)}-year life, {fmt.pct(op.residual_share)} residual, {fmt.pct(op.cost_of_capital_per_year, 1)} "
                    f"cost of capital a year, {fmt.pct(op.maintenance_share_per_year, 1)} of the price a year for maintenance",
                    defaults if _at_defaults(op, finance) else _SCENARIO_SRC, "-", op.id, ("maintenance",)))
    power = ("idle_power_share", "pue", "power_price_per_kwh", "facilities_monthly_per_server")
    out.append(_row(f"Power and facilities{who}",
                    f"{fmt.number(op.gpus_per_server)} GPUs x {fmt.number(op.gpu_tdp_watts)} W per server, idle draw {fmt.pct(op.idle_power_share)}, "
                    f"PUE {fmt.number(op.pue)}, {fmt.usd_rate(op.power_price_per_kwh)} per kWh; {fmt.usd(op.facilities_monthly_per_server)} "
                    "per server a month for facilities",
                    (f"{_after_figure(op.tdp_source)}; " if op.tdp_source else "") + (defaults if _at_defaults(op, power) else _SCENARIO_SRC),
                    op.tdp_as_of or "-", op.id, ("power_load",)))  # idle draw and facilities: their own rows below
    if op.servers is None:
        out.append(_row(f"Server sizing{who}", f"peak {fmt.number(op.peak_to_average)}x average, target utilization "
                        f"{fmt.pct(op.target_utilization)}, redundancy {fmt.number(op.redundancy)}x", _SCENARIO_SRC, "-"))
        memory = (f"; memory {fmt.number(op.memory_needed_gb)} GB needed of {fmt.number(op.memory_available_gb)} GB usable per replica"
                  if op.memory_needed_gb is not None and op.memory_available_gb is not None else "")
        out.append(_row(f"Server throughput{f' ({op.model} {op.precision})' if op.model else ''}{who}",
                        f"{fmt.count(details.get('capacity_tokens_per_day_per_server'))} tokens/day per server at 100%{memory}",
                        op.throughput_source or _SCENARIO_SRC, op.throughput_as_of or "-"))
    elif details.get("capacity_tokens_per_day_per_server") is not None:  # a stated fleet: its utilization sets its capacity
        per_server = details["capacity_tokens_per_day_per_server"]
        reference = op.utilization_at_tokens_per_day or ev.scenario.volume.daily_tokens
        out.append(_row(f"Fleet capacity{who}",
                        f"{fmt.number(op.servers)} servers at {fmt.pct(op.utilization)} of {fmt.count(reference)} tokens/day carry "
                        f"{fmt.count(per_server)} tokens/day each at 100%; servers are bought as the volume passes "
                        f"{fmt.count(per_server * op.servers)} tokens/day", _SCENARIO_SRC, "-"))
    out.append(_row(f"MLOps people{who}", f"{fmt.number(op.fte)} FTE at {fmt.usd(op.fte_annual_cost)} per year fully loaded",
                    _SCENARIO_SRC if "fte_annual_cost" in op.model_fields_set else "Default ($150k loaded FTE)", "-", op.id, ("people",)))
    if op.setup_cost or op.migration_cost:
        out.append(_row(f"On-prem one-time{who}", f"{fmt.usd(op.setup_cost)} set-up + {fmt.usd(op.migration_cost)} migration (servers aside)",
                        _SCENARIO_SRC, "-"))
    return out


def _hidden_assumptions(ev: Evaluation, option) -> list[dict]:
    """The costs below the waterline every option carries (human review, observability, ...)."""
    hidden = getattr(option, "hidden", None)
    if hidden is None:
        return []
    out = []
    if hidden.review_share > 0:
        how = (f"{fmt.number(hidden.review_minutes)} min at {fmt.usd_rate(hidden.reviewer_hourly_rate)}/hour"
               if hidden.review_minutes is not None and hidden.reviewer_hourly_rate is not None else "")
        out.append(_row("Human review", f"{fmt.pct(hidden.review_share, 1)} of requests reviewed at "
                        f"{fmt.usd_cents(hidden.review_unit_cost)} each{f' ({how})' if how else ''}",
                        _SCENARIO_SRC, "-", option.id, ("human_review",)))
    if hidden.tool_calls_per_request > 0:
        out.append(_row("Tool calls", f"{fmt.number(hidden.tool_calls_per_request)} per request at "
                        f"{fmt.usd_cents(hidden.price_per_tool_call)} each", _SCENARIO_SRC, "-", option.id, ("tool_calls",)))
    return out


def _uncovered(ev: Evaluation, rows: list[dict]) -> list[dict]:
    """A row for every line item with a cost that no input row above explains (observability,
    tooling, storage, ...): stated monthly amounts, as the scenario gives them."""
    covered = {(r.get("option"), k) for r in rows for k in r.get("items", ())}
    out = []
    for o, c in ev.options.items():
        for i in c.line_items:
            if i.monthly_usd and (o, i.key) not in covered:
                out.append(_row(i.label, f"{fmt.usd(i.monthly_usd)} per month", _SCENARIO_SRC, "-", o, (i.key,)))
    return out


def _monthly(ev: Evaluation, row: dict) -> float:
    c = ev.options.get(row.get("option", ""))
    keys = row.get("items", ())
    return sum(i.monthly_usd for i in c.line_items if i.key in keys) if c is not None else 0.0


def _composite_assumptions(ev: Evaluation, option) -> list[dict]:
    """A mix or cascade: its route (its costs are its components', whose own rows give their inputs)."""
    items = tuple(i.key for i in ev.options[option.id].line_items) if option.id in ev.options else ()
    if option.kind == "mix":
        found = " (the engine's cheapest split)" if option.split == "cheapest" else ""
        value = presentation.route_words(ev, option.route) + found
    else:
        share = ev.options[option.id].details.get(f"{option.then}.share", option.escalation_share)  # stated, or first's failed share
        why = f" ({label(ev, option.first)}'s failures, escalated)" if option.escalation_share is None else ""
        value = (f"every request to {label(ev, option.first)}, {fmt.pct(share, 1 if why else 0)} also to "
                 f"{label(ev, option.then)}{why}")
    return [_row(f"Route of {label(ev, option.id)}", value, _SCENARIO_SRC, "-", option.id, items)]


ASSUMPTIONS = {"api": _api_assumptions, "fine_tuned": _fine_tuned_assumptions, "self_hosted": _self_hosted_assumptions,
               "on_prem": _on_prem_assumptions, "mix": _composite_assumptions, "cascade": _composite_assumptions}


def assumptions(ev: Evaluation) -> list[dict]:
    """Every input that drives a cost, each with where it came from and as of when: those with a
    monthly cost first, largest first (the cost beside them, per option), then one-time costs,
    sizing, volume and horizon. The same input for several options is one row naming them."""
    s = ev.scenario
    rows: list[dict] = []
    for option in s.options:
        rows.extend(ASSUMPTIONS[option.kind](ev, option))
        rows.extend(_hidden_assumptions(ev, option))
    rows.extend(_uncovered(ev, rows))
    merged: dict[tuple, dict] = {}
    for r in rows:  # a kind's rows may leave out option and items (no monthly cost beside them then)
        cost = _monthly(ev, r)
        key = (r["item"], r["value"], r["source"], r["as_of"])
        if key in merged:
            m = merged[key]
            m["options"].append(r.get("option", ""))
            m["costs"].append(cost)
        else:
            merged[key] = {**r, "options": [r.get("option", "")], "costs": [cost]}
    out = []
    many = len(ev.options) > 1
    for m in merged.values():
        named = [label(ev, o) for o in m["options"] if o]
        item = m["item"]
        ids = [o for o in m["options"] if o]  # a kind's row may already name its option by id, "... (own)"
        if many and named and not any(n in item for n in named + [f"({o})" for o in ids]) and not item.startswith(tuple(named)):
            item = f"{item} ({', '.join(named)})"
        costs = [c for c in m["costs"] if c]
        out.append({"item": item, "value": m["value"], "source": m["source"], "as_of": m["as_of"],
                    "monthly": (f"{fmt.usd(costs[0])} each" if len(costs) > 1 and len(set(costs)) == 1
                                else " / ".join(fmt.usd(c) for c in costs)),
                    "sort": max(costs) if costs else 0.0})
    out.sort(key=lambda r: -r["sort"])  # stable: rows without a monthly cost keep their order
    v = s.volume
    growth = f"; growing {fmt.pct(v.monthly_growth, 1)} per month" if v.monthly_growth else ""
    out.append({"item": "Volume", "value": f"{fmt.tokens(v.daily_tokens)} tokens/day, {fmt.pct(v.input_share)} input{growth}",
                "source": _SCENARIO_SRC, "as_of": "-", "monthly": "", "sort": 0.0})
    h = s.horizon
    out.append({"item": "Horizon", "value": f"{h.months} months; API prices {'fall ' + fmt.pct(h.api_price_decline_per_year) + ' a year' if h.api_price_decline_per_year else 'held flat'}; "
                                           f"discount rate {fmt.pct(h.discount_rate_per_year, 1)} a year",
                "source": _SCENARIO_SRC, "as_of": "-", "monthly": "", "sort": 0.0})
    return out


def method_notes(ev: Evaluation) -> list[str]:
    s = ev.scenario
    be = ev.breakeven
    swing = fmt.pct(s.sensitivity.swing)
    notes = [
        "Every figure comes from the runrate_xl cost engine; this memo only formats it (USD, rounded for display). "
        "Run-rate: the monthly cost at today's volume. Hidden: what the organisation pays besides the vendor or "
        "GPU invoice (people, review, idle capacity, retries, observability, tooling).",
        f"Total cost of ownership: one-time costs at month 0 plus {s.horizon.months} monthly costs, with volume growth "
        "and any API price decline applied month by month"
        + (f"; the NPV discounts them at {fmt.pct(s.horizon.discount_rate_per_year, 1)} a year." if s.horizon.discount_rate_per_year > 0 else "."),
        "The recommendation is the cheapest option over the horizon that strict data privacy, the one hard "
        "constraint, allows; a rule that overrides it (expertise, domain, quality, latency) names its price. Low GPU "
        "utilization is a risk, not a veto: idle GPUs are already in the self-hosted cost.",
    ]
    solve = {"closed_form": "Break-even volumes are solved in closed form (each monthly cost is fixed plus a rate per token). ",
             "piecewise": "Break-even is solved segment by segment, as GPU capacity steps up with volume. "}.get(be.method, "")
    notes.append(f"{solve}Sensitivity moves one driver at a time by {swing} either way and re-runs the engine.")
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
                    "text": f"{fmt.usd(c.hidden_monthly)} of {label(ev, o)}'s {fmt.usd(c.total_monthly)} per month is off the invoice."})
    chosen, _ = decision_pair(ev)
    hidden = [i for i in ev.options[chosen].line_items if i.hidden and i.monthly_usd > 0]
    if hidden:
        top = max(hidden, key=lambda i: i.monthly_usd)
        out.append({"value": fmt.usd(top.monthly_usd),
                    "text": f"{top.label}: the largest hidden cost of {label(ev, chosen)}, per month."})
    return out


def breakeven_caption(ev: Evaluation) -> str:
    be = ev.breakeven
    text = ("Total monthly cost of each option as volume changes, from the engine at each volume. "
            "Circles: break-even points; dashed line: today's volume.")
    if be.found and be.tokens_per_day is not None and be.monthly_cost is not None:
        text += (f" {label(ev, be.option_a)} and {label(ev, be.option_b)} cross at {fmt.tokens(be.tokens_per_day)} tokens/day"
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
    rows = tornado_rows(ev)
    text = (f"Each bar: the monthly cost of {label(ev, alt)} minus {label(ev, chosen)} when one driver moves {swing} "
            f"down (light) or up (dark); the solid line is today's gap, {fmt.usd(base)}. Positive: {label(ev, chosen)} "
            f"is cheaper per month; negative: {label(ev, alt)} is.")
    flips = [r["label"] for r in rows if r["moves"] and (r["flips_low"] or r["flips_high"])]
    if presentation.tornado_shows_zero(ev):
        text += (" A bar crossing the red dashed line at zero flips which option is cheaper per month"
                 + (f": {', '.join(flips)}." if flips else "; none does."))
    else:
        text += f" No bar reaches zero: within {swing} no single driver changes which option is cheaper per month."
    left_off = presentation.tornado_bars(ev)[1]
    if left_off:
        text += (f" The {len(left_off)} narrowest swings are left off the chart: "
                 f"{', '.join(r['label'] for r in left_off)}.")
    still = [r["label"] for r in rows if not r["moves"]]
    if still:
        text += f" Not shown, as they do not move this comparison: {', '.join(still)}."
    return text


def split_tables(ev: Evaluation) -> list[dict]:
    """Per mix: the cheapest split in words and its cost curve at every 20% of the first option's
    share, with the cheapest split as its own row."""
    lines = presentation.split_lines(ev)
    out = []
    for sp in ev.splits:
        text = next((line for line in lines if line.startswith(label(ev, sp.option))), "")
        rows = [{**r, "share": fmt.pct(r["share"]), "monthly": fmt.usd(r["monthly"]), "npv": fmt.usd(r["npv"]), "route": r["route"] or "-"}
                for r in presentation.split_curve_rows(ev, sp.option, every=20)]
        basis = f"NPV {ev.scenario.horizon.months} months" if ev.scenario.horizon.discount_rate_per_year > 0 else f"Total {ev.scenario.horizon.months} months"
        out.append({"label": label(ev, sp.option), "axis": label(ev, sp.axis), "text": text, "rows": rows, "basis": basis})
    return out


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
        "chosen_label": label(ev, chosen),
        "alternative_label": label(ev, alt) if alt else "",
        "close_call": rec.close_call,
        "headline": headline(ev),
        "kpis": kpis(ev),
        "reason_groups": reason_groups(ev),
        "what_would_change": what_would_change(ev),
        "options_table": options_table(ev),
        "iceberg_table": iceberg_table(ev),
        "tco_rows": [{"label": label(ev, o), "one_time": fmt.usd(t.one_time_cost), "total": fmt.usd(t.total), "npv": fmt.usd(t.npv)} for o, t in ev.tco.items()],
        "crossovers": (presentation.migration_lines(ev) + [c.reason for c in ev.crossovers] + [p.reason for p in ev.paybacks]
                       + presentation.capital_lines(ev)),  # bought servers: capex / opex and the cash they add
        "splits": split_tables(ev),
        "failure_lines": presentation.failure_lines(ev),
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
        "swing": fmt.pct(s.sensitivity.swing),
        "horizon_phrase": horizon_phrase(ev),
        "discounted": s.horizon.discount_rate_per_year > 0,
        "volume": fmt.tokens(s.volume.daily_tokens),
        "outcomes": [{"label": label(ev, oc.option), "name": oc.outcome_name, "cost": fmt.usd_cents(oc.cost_per_outcome)} for oc in ev.outcome_costs],
        "title": f"Decision memo: {s.name}",
        "subject": f"{s.name}: recommend {rec.label}. {headline(ev)}",
    }


LISTED = 25  # moving, flagged and failed units named on the portfolio memo's first pages at most


def breaks_hard_constraint(ev: Evaluation) -> str:
    """Why the option the unit runs today is one a hard constraint rules out ("" when it is not):
    strict data privacy with the data going to a third party."""
    current = ev.scenario.context.current_option
    return next((plain(r.text) for r in ev.recommendation.reasons
                 if r.effect == "excludes" and r.rule == "privacy_override" and r.option == current), "")


def why_move(ev: Evaluation) -> str:
    """Why a unit moves off today's option, in a few words: the rule that decided it, else cost."""
    rules = presentation.overriding_rules(ev)
    if rules:
        return ", ".join(rules)
    basis = cost_basis(ev)
    return f"{label(ev, basis)} is the cheapest {horizon_phrase(ev)}"


def _breakeven_words(ev: Evaluation) -> str:
    be = presentation.decision_breakeven(ev)
    if be.option_a == be.option_b or not be.found or be.tokens_per_day is None:
        return "none"
    return (f"{label(ev, be.option_a)} = {label(ev, be.option_b)} at {fmt.tokens(be.tokens_per_day)} tokens/day, "
            f"{presentation.breakeven_when(ev, be)}")


def _clip(text: str, most: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[:most - 1].rstrip() + "\u2026"


def _sentence(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


GROUPS_NAMED = 4  # groups of moving units (same destination, same reason) the summary spells out
NAMES_PER_GROUP = 3  # units named per group; the rest are counted, so the summary stays short at any size


def _named(units: list[str]) -> list[str]:
    """The first units of a group by name and the rest as a count: ["A", "B", "C", "12 more"]."""
    rest = len(units) - NAMES_PER_GROUP
    return units[:NAMES_PER_GROUP] + [f"{rest} more"] if rest > 1 else units


def portfolio_context(evaluations: Iterable[Evaluation], memo_date: dt.date,
                      failures: Iterable[tuple[str, str]] = ()) -> dict:
    """The portfolio memo: one row per business unit and the totals across them. Reads each
    evaluation once and keeps only its row (any iterable, e.g. one rebuilt per unit).
    ``failures``: (name, error) of the units that did not run, listed so that no reader takes
    the totals for all units.

    Savings are the presentation layer's (savings_vs_today), as in the roll-up workbook and the
    batch summary. Monthly figures are nominal at today's volume and add up across units;
    horizon figures (NPV or total, over each unit's own horizon) are added only when every unit
    uses the same basis and horizon."""
    rows = []
    today_total = chosen_total = monthly_stake = horizon_stake = one_time_total = 0.0
    bases: set[str] = set()
    by_option: dict[str, int] = {}
    moves, flags = [], []
    for ev in evaluations:
        s = ev.scenario
        chosen = cost_basis(ev)
        saved = savings_vs_today(ev)
        current = saved.versus
        today_total += ev.options[current].total_monthly
        chosen_total += ev.options[chosen].total_monthly
        monthly_stake += saved.monthly
        horizon_stake += saved.horizon
        bases.add(saved.horizon_basis)
        rec = ev.recommendation
        by_option[rec.label] = by_option.get(rec.label, 0) + 1
        key = next((r.text for r in rec.reasons if r.effect in ("excludes", "blocks")),
                   next((r.text for r in rec.reasons if r.effect == "decides"), ""))
        moving = current != chosen
        one_time = ev.options[chosen].one_time_cost if moving else 0.0
        one_time_total += one_time
        if moving:
            moves.append({"bu": s.name, "from": label(ev, current), "to": rec.label,
                          "monthly": fmt.usd(saved.monthly), "good": saved.monthly >= 0,
                          "one_time": fmt.usd(one_time), "why": why_move(ev)})
        breach = breaks_hard_constraint(ev)
        if breach:
            flags.append({"bu": s.name, "today": label(ev, current), "to": rec.label, "text": breach})
        rows.append({
            "bu": s.name, "owner": s.owner_email or "", "recommendation": rec.label, "key": _pill(ev, rec.option),
            "close_call": rec.close_call, "moves": moving, "flag": bool(breach),
            "today": fmt.usd(ev.options[current].total_monthly), "today_label": label(ev, current),
            "run_rate": fmt.usd(ev.options[chosen].total_monthly),
            "hidden_share": fmt.pct(ev.options[chosen].hidden_share),
            "alternative": f"vs {label(ev, current)}" if moving else "no change",
            "monthly_stake": fmt.usd(saved.monthly),
            "horizon_stake": fmt.usd(saved.horizon),
            "horizon_basis": saved.horizon_basis.replace(" months", " mo").replace(" over ", " "),
            "months": s.horizon.months,
            "breakeven": _breakeven_words(ev),
            "headline": plain(headline(ev)),
            "key_reason": plain(key),
        })
    failed = [{"bu": name, "error": _clip(plain(error) or "failed")} for name, error in failures]
    n = len(rows)
    one_basis = len(bases) == 1
    change = (chosen_total - today_total) / today_total if today_total else 0.0
    kpis = [
        Kpi("Business units", str(n), ", ".join(f"{v} {k}" for k, v in sorted(by_option.items()))
            + (f"; {len(failed)} failed, not included" if failed else "")),
        Kpi("Run-rate today", fmt.usd(today_total), "per month, each unit's current option"),
        Kpi("Run-rate as recommended", fmt.usd(chosen_total),
            f"per month ({'+' if change >= 0 else '-'}{fmt.pct(abs(change))} against today)",
            "good" if chosen_total <= today_total else "bad"),
        Kpi("Per year against today", fmt.usd(abs(monthly_stake * 12)),
            ("saved" if monthly_stake >= 0 else "more") + "; nominal, 12 x the monthly saving at today's volume",
            "good" if monthly_stake >= 0 else "bad"),
    ]
    if moves:
        groups: dict[tuple[str, str], list[str]] = {}
        for m in moves:
            groups.setdefault((m["to"], m["why"]), []).append(m["bu"])
        moved = "; ".join(f"{_sentence(_named(units))} to {to} ({why})" for (to, why), units in list(groups.items())[:GROUPS_NAMED])
        rest = len(groups) - GROUPS_NAMED
        more = f" and {rest} more group{'s' if rest > 1 else ''}" if rest > 0 else ""
        why = (f"{len(moves)} of {n} units move: {moved}{more}, {fmt.usd(one_time_total)} one-time.")
    else:
        why = "No unit changes its option."
    subject = (f"Run-rate {fmt.usd(today_total)} per month today, {fmt.usd(chosen_total)} as recommended "
               f"({'+' if change >= 0 else '-'}{fmt.pct(abs(change))}). {why}")
    if flags:
        subject += (f" {len(flags)} unit{'s run' if len(flags) > 1 else ' runs'} today on an option strict data privacy rules out.")
    if failed:
        subject += f" {len(failed)} unit{'s' if len(failed) > 1 else ''} failed and {'are' if len(failed) > 1 else 'is'} not included."
    return {
        "title": "Decision memo: AI run-rate portfolio",
        "subject": subject,
        "bu": "Portfolio",
        "heading": "All business units" if not failed else f"{n} of {n + len(failed)} business units",
        "date": long_date(memo_date),
        "iso_date": memo_date.isoformat(),
        "kpis": kpis,
        "rows": rows,
        "moves": moves[:LISTED], "moves_more": max(0, len(moves) - LISTED), "one_time_total": fmt.usd(one_time_total),
        "move_count": len(moves),
        "flags": flags[:LISTED], "flags_more": max(0, len(flags) - LISTED),
        "failed": failed[:LISTED], "failed_more": max(0, len(failed) - LISTED), "failed_count": len(failed),
        "one_basis": one_basis, "horizon_basis": next(iter(bases)) if one_basis else "",
        "totals": {"today": fmt.usd(today_total), "run_rate": fmt.usd(chosen_total),
                   "monthly_stake": fmt.usd(monthly_stake),
                   "horizon_stake": fmt.usd(horizon_stake) if one_basis else ""},
        "totals_raw": {"today": today_total, "run_rate": chosen_total, "monthly_stake": monthly_stake,
                       "per_year": monthly_stake * 12, "horizon_stake": horizon_stake if one_basis else None},
    }

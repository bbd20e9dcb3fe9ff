"""What goes into the workbook's cells from the engine: input values (from the resolved
scenario) and the engine's results for every ``out_*`` / ``ser_*`` cell, per option column.

The generator writes these as cell values / cached formula results; the tests compare the
LibreOffice-recalculated workbook with the very same map, so "the workbook agrees with the
engine" is checked cell by cell. Nothing here computes a cost: values are read off the
:class:`Evaluation` (or taken from engine functions such as ``growth_factor``); the engine-written
texts (recommendation, cheapest eligible option, saving) come from the presentation layer.
"""

from __future__ import annotations

from typing import Any, Optional

from .. import formatting as fmt
from .. import presentation as P
from ..engine import functions as f
from ..engine.errors import RunrateError
from ..engine.results import BreakEven, Evaluation
from ..engine.scenario import Scenario
from ..fields import field_at, get_path, id_keyed
from . import layout as L

Value = Any  # float | int | str | bool | None


def layout_of(scenario: Scenario) -> L.Layout:
    return L.layout_for(L.shape_of(scenario))


def input_values(scenario: Scenario, lay: Optional[L.Layout] = None) -> dict[str, Value]:
    """Defined name -> value for every input cell (None = leave the cell blank)."""
    lay = lay or layout_of(scenario)
    data = id_keyed(scenario)
    kinds = {s.id: s.kind for s in lay.slots}
    out: dict[str, Value] = {}
    for spec in lay.specs:
        parts = spec.path.split(".")
        if spec.path.endswith(".included"):
            out[spec.name] = L.YES if parts[0] in data else L.NO
        elif len(parts) > 2 and parts[1] == "price_tiers":
            tiers = (data.get(parts[0]) or {}).get("price_tiers") or []
            i = int(parts[2])
            out[spec.name] = tiers[i][parts[3]] if i < len(tiers) else None
        elif spec.option is not None and spec.option not in data:
            # An option that is not compared keeps its defaults in the sheet, ready to be switched on.
            field = field_at(spec.path, kinds)
            out[spec.name] = None if field is None else field.default
        else:
            out[spec.name] = get_path(data, spec.path)
    return out


# Capacity-mode fields the catalog fills (catalog/resolve._resolve_gpu), in groups that go together.
CATALOG_GROUPS = (
    ("instance_hourly_usd", "price_source", "price_as_of"),
    ("gpus_per_instance",),
    ("tokens_per_second_per_gpu", "throughput_source", "throughput_as_of", "memory_needed_gb", "memory_available_gb"),
)


def catalog_lookups(scenario: Scenario, lay: Optional[L.Layout] = None) -> set[str]:
    """Input names to leave blank because the workbook looks their value up on its Catalog sheet:
    the capacity-mode figures of a self-hosted option that are exactly what the catalog gives for
    its GPU instance, term, model and precision today, and an on-prem option's server price and
    GPU power when they are the catalog's for its GPU type and GPUs per server (so changing the GPU
    in the workbook changes them). A value that differs (yours, or the catalog's on another day)
    stays written: it wins."""
    from ..catalog.resolve import resolve

    lay = lay or layout_of(scenario)
    out: set[str] = set()
    for o in scenario.options_of("self_hosted"):
        if getattr(o, "mode", None) != "capacity" or not getattr(o, "gpu", None):
            continue
        groups = [g for g in CATALOG_GROUPS if g[0] != "tokens_per_second_per_gpu" or getattr(o, "model", None)]
        data = scenario.model_dump()
        mine = next(x for x in data["options"] if x["id"] == o.id)
        for g in groups:
            for leaf in g:
                mine[leaf] = None
        try:
            probe = resolve(Scenario.model_validate(data)).option(o.id)
        except (ValueError, RunrateError):  # the catalog cannot give them (another day's price, a spot term...): keep yours
            continue
        for g in groups:
            if all(getattr(probe, leaf) == getattr(o, leaf) for leaf in g):
                out.update(lay.by_path[f"{o.id}.{leaf}"].name for leaf in g if f"{o.id}.{leaf}" in lay.by_path)
    for o in scenario.options_of("on_prem"):  # the server price and GPU power the Catalog gives for its GPU type
        if not getattr(o, "gpu_type", None):
            continue
        data = scenario.model_dump()
        mine = next(x for x in data["options"] if x["id"] == o.id)
        for g in ON_PREM_GROUPS:
            for leaf in g:
                mine[leaf] = None
        del mine["install_share"]  # not given: the catalog's own share comes with its price
        try:
            probe = resolve(Scenario.model_validate(data)).option(o.id)
        except (ValueError, RunrateError):  # not in the catalog (or not on this day): keep yours
            continue
        for g in ON_PREM_GROUPS:
            if all(getattr(probe, leaf) == getattr(o, leaf) for leaf in g if leaf.endswith(("price", "watts", "share"))):
                out.update(lay.by_path[f"{o.id}.{leaf}"].name for leaf in g if f"{o.id}.{leaf}" in lay.by_path)
    return out


# On-prem fields the catalog fills from the GPU type (catalog/resolve._resolve_on_prem): the value, then
# its source; with the server price, its installation share (when it is the catalog's too).
ON_PREM_GROUPS = (("server_price", "server_price_source", "server_price_as_of", "install_share"),
                  ("gpu_tdp_watts", "tdp_source", "tdp_as_of"))


def _blank(x: Optional[float]) -> Value:
    return "" if x is None else x


def _method(be: BreakEven) -> str:
    return {"closed_form": "closed form", "piecewise": "piecewise (GPU steps)"}.get(be.method, "none: the costs do not cross")


def _pair_values(ev: Evaluation, be: BreakEven, first: str, second: str) -> dict[str, Value]:
    """The break-even table's cells of one pair (labels in the table's order: first vs second)."""
    label = ev.scenario.label_of
    return {
        "pair": f"{label(first)} vs {label(second)}",
        "tokens_per_day": be.tokens_per_day if be.found else "none",
        "requests_per_month": _blank(be.requests_per_month) if be.found else "",
        "volume_ratio": _blank(be.volume_ratio) if be.found else "",
        "monthly_cost": be.monthly_cost if be.found else "",
        "api_token_spend": _blank(be.api_token_spend) if be.found else "",
        "cheaper_below": label(be.cheaper_below) if be.cheaper_below else "",
        "method": _method(be),
    }


def output_values(ev: Evaluation, lay: Optional[L.Layout] = None) -> dict[str, Value]:
    """Single-cell outputs: defined name -> the engine's value ("" where the sheet shows blank)."""
    sc = ev.scenario
    lay = lay or layout_of(sc)
    out: dict[str, Value] = {}
    current = sc.context.current_option
    paybacks = {p.option: p for p in ev.paybacks}
    outcomes = {o.option: o for o in ev.outcome_costs}
    for s in lay.slots:
        oc = ev.options.get(s.id)
        for key, *_ in L.SUMMARY_ROWS:
            name = f"out_{s.frag}_{key}"
            if oc is None:
                out[name] = ""
            elif key == "tco_total":
                out[name] = ev.tco[s.id].total
            elif key == "npv":
                out[name] = ev.tco[s.id].npv
            elif key == "payback_months":
                p = paybacks.get(s.id)
                out[name] = "" if s.id == current or p is None else ("never" if p.months is None else p.months)
            elif key == "cost_per_outcome":
                if oc.tasks is None and s.kind in L.COMPOSITE_KINDS and s.id in outcomes:
                    continue  # the engine's divides by every outcome until it gives a composite's tasks (as the workbook does)
                out[name] = outcomes[s.id].cost_per_outcome if s.id in outcomes else ""
            elif key == "cost_per_successful_task":
                if oc.tasks is None and s.kind in L.COMPOSITE_KINDS:
                    continue  # the engine gives none for a composite yet; the workbook's formula is tested by hand
                out[name] = oc.tasks.cost_per_successful_task if oc.tasks is not None else ""
            else:
                out[name] = _blank(getattr(oc, key))
        for key, *_ in lay.line_items(s):
            ekey = lay.engine_item_key(s, key)
            out[f"out_li_{s.frag}_{key}"] = "" if oc is None else next((i.monthly_usd for i in oc.line_items if i.key == ekey), "")
    engine_pairs = {(b.option_a, b.option_b): b for b in ev.breakevens}
    for a, b in lay.pairs():
        be = engine_pairs.get((a.id, b.id))
        cells = _pair_values(ev, be, a.id, b.id) if be is not None else {k: "" for k, *_ in L.BREAKEVEN_COLUMNS}
        for key, value in cells.items():
            out[L.breakeven_name(a, b, key)] = value
    be = ev.breakeven
    if be.option_b != be.option_a:
        # the table's order of the pair (the shape's order), as the primary row reads it from there
        order = [s.id for s in lay.slots]
        first, second = sorted((be.option_a, be.option_b), key=order.index)
        primary = _pair_values(ev, be, first, second)
    else:
        primary = {k: "" for k, *_ in L.BREAKEVEN_COLUMNS}
        primary.update(pair=f"no alternative to {sc.label_of(be.option_a)}", method="none")
    for key, value in primary.items():
        out[f"out_be_{key}"] = value
    out["chk_master"] = "OK"
    out["c_tokens_per_day"] = sc.volume.daily_tokens
    return out


def engine_texts(ev: Evaluation) -> dict[str, str]:
    """Static text cells written from the engine through the presentation layer (they do not
    recalculate): the recommendation, the cheapest eligible option, the saving against today's."""
    rec = ev.recommendation
    decisive = [r.text for r in rec.reasons if r.effect in P.DECISIVE]
    sources = sorted({o.price_as_of for o in ev.scenario.options_of("api") if getattr(o, "price_as_of", None)})
    save = P.savings_vs_today(ev)
    if save.basis == save.versus:
        saving = f"none: {P.label(ev, save.basis)} is how it runs today"
    else:
        saving = (f"{fmt.usd(save.monthly)} per month ({fmt.usd(save.horizon)} {save.horizon_basis}) moving from "
                  f"{P.label(ev, save.versus)} to {P.label(ev, save.basis)}")
    if rec.option == rec.cheapest_option:
        why = f"It is the cheapest option over the horizon. {P.headline(ev)}"
    else:
        rules = P.overriding_rules(ev)
        why = (f"Not the cheapest: {P.label(ev, rec.cheapest_option)} costs less over the horizon; "
               f"{' and '.join(rules) if rules else 'the rules on Outputs'} decided. {P.headline(ev)}")
    return {
        "eng_recommendation": P.label(ev, rec.option),
        "eng_cheapest_all": P.label(ev, rec.cheapest_option),
        "eng_why": P.plain(why)[:1000],
        "eng_cheapest": P.label(ev, rec.cheapest_allowed_option),
        "eng_caveats": P.plain(" ".join(ev.notes) or "none")[:1000],
        "eng_savings": saving,
        "eng_reasons": P.plain(" ".join(decisive))[:1000],
        "eng_generated": "Generated by runrate_xl from its cost engine"
                         + (f"; API prices as of {', '.join(sources)}" if sources else "") + ".",
    }


# What the recommendation was computed from, kept at generation so the Checks sheet can say whether
# the workbook still shows the inputs it was made for: (name suffix, label, input name or None).
FINGERPRINT_CONTEXT = (
    ("current_option", "How it runs today", "in_context_current_option"),
    ("data_privacy", "Data privacy", "in_context_data_privacy"),
    ("ml_expertise", "ML infrastructure expertise", "in_context_ml_expertise"),
    ("quality_need", "Quality need", "in_context_quality_need"),
    ("latency_p99_ms", "P99 latency need", "in_context_latency_p99_ms"),
)


def generation_values(ev: Evaluation, lay: Optional[L.Layout] = None) -> dict[str, Value]:
    """gen_* cells: each option's NPV and the business context as they were when the engine made
    the recommendation (None: blank, an option not compared)."""
    lay = lay or layout_of(ev.scenario)
    out: dict[str, Value] = {f"gen_{s.frag}_npv": ev.tco[s.id].npv if s.id in ev.tco else None for s in lay.slots}
    for split in ev.splits:  # the engine's cheapest split of each mix (a value: it does not recalculate)
        m = lay.slot(split.option)
        for j in lay.components(m):
            out[f"gen_{m.frag}_split_{j.frag}"] = split.route.get(j.id)
    ctx = ev.scenario.context
    for key, _label, _name in FINGERPRINT_CONTEXT:
        out[f"gen_{key}"] = getattr(ctx, key)
    return out


def series_values(ev: Evaluation, lay: Optional[L.Layout] = None) -> dict[str, list[Value]]:
    """Monthly-sheet columns (defined range name -> values top to bottom, blank past the horizon)."""
    sc = ev.scenario
    lay = lay or layout_of(sc)
    n = sc.horizon.months
    months_all = range(1, L.MAX_MONTHS + 1)
    out: dict[str, list[Value]] = {
        "ser_active": [m <= n for m in range(0, L.MAX_MONTHS + 1)],
        "ser_tokens_per_day": [sc.volume.daily_tokens * f.growth_factor(sc.volume.monthly_growth, m) if m <= n else "" for m in months_all],
        "ser_price_factor": [f.price_factor(sc.horizon.api_price_decline_per_year, m) if m <= n else "" for m in months_all],
    }
    for slot in lay.slots:
        s = ev.tco.get(slot.id)
        if s is None:
            out[f"ser_{slot.frag}_monthly"] = [""] * L.MAX_MONTHS
            out[f"ser_{slot.frag}_cumulative"] = [""] * (L.MAX_MONTHS + 1)
        else:
            out[f"ser_{slot.frag}_monthly"] = list(s.monthly) + [""] * (L.MAX_MONTHS - n)
            out[f"ser_{slot.frag}_cumulative"] = list(s.cumulative) + [""] * (L.MAX_MONTHS - n)
    return out


def grid_values(ev: Evaluation) -> list[list[Value]]:
    """Sensitivity grid, [utilization][volume] of self-hosted minus API (blank without both)."""
    if ev.grid is None:
        return [[""] * len(L.GRID_VOLUME_FACTORS) for _ in L.GRID_UTILIZATIONS]
    return [list(row) for row in ev.grid.difference]


def expected_cells(ev: Evaluation, names: dict[str, tuple[str, list[str]]], lay: Optional[L.Layout] = None,
                   strict: bool = True) -> dict[tuple[str, str], Value]:
    """(sheet, cell) -> engine value for every output cell, given the template's defined names
    (name -> (sheet, cells in reading order)). ``strict``: every output has its name (False for
    a user's template from an earlier version, whose outputs it lacks stay uncached)."""
    lay = lay or layout_of(ev.scenario)
    cells: dict[tuple[str, str], Value] = {}
    singles = dict(output_values(ev, lay))
    ranges = dict(series_values(ev, lay))
    ranges["out_grid_difference"] = [v for row in grid_values(ev) for v in row]
    for name in list(singles) + list(ranges):
        if name not in names and not strict:
            singles.pop(name, None)
            ranges.pop(name, None)
    for name, value in singles.items():
        sheet, refs = names[name]
        cells[(sheet, refs[0])] = value
    for name, values in ranges.items():
        sheet, refs = names[name]
        for ref, v in zip(refs, values):
            cells[(sheet, ref)] = v
    return cells

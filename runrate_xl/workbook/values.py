"""What goes into the workbook's cells from the engine: input values (from the resolved
scenario) and the engine's results for every ``out_*`` / ``ser_*`` cell.

The generator writes these as cell values / cached formula results; the tests compare the
LibreOffice-recalculated workbook with the very same map, so "the workbook agrees with the
engine" is checked cell by cell. Nothing here computes a cost: values are read off the
:class:`Evaluation` (or taken from engine functions such as ``growth_factor``).
"""

from __future__ import annotations

from typing import Any, Optional

from ..engine import functions as f
from ..engine.results import Evaluation
from ..engine.scenario import OPTION_LABELS, FineTunedOption, Scenario, SelfHostedOption
from . import layout as L

Value = Any  # float | int | str | bool | None


def input_values(scenario: Scenario) -> dict[str, Value]:
    """Defined name -> value for every input cell (None = leave the cell blank)."""
    data = scenario.legacy_dict()
    # An option that is not compared keeps its defaults in the sheet, ready to be switched on.
    defaults = {"fine_tuned": _defaults(FineTunedOption), "self_hosted": _defaults(SelfHostedOption)}
    out: dict[str, Value] = {}
    for spec in L.INPUT_SPECS:
        parts = spec.path.split(".")
        if spec.path.endswith(".included"):
            out[spec.name] = L.YES if data.get(parts[0]) is not None else L.NO
            continue
        if parts[0] == "api" and parts[1] == "price_tiers":
            tiers = data["api"]["price_tiers"]
            i = int(parts[2])
            out[spec.name] = tiers[i][parts[3]] if i < len(tiers) else None
            continue
        node: Any = data
        if parts[0] in defaults and data.get(parts[0]) is None:
            node = {parts[0]: defaults[parts[0]]}
        for p in parts:
            node = None if node is None else node.get(p)
        out[spec.name] = node
    return out


def _defaults(model) -> dict[str, Any]:
    from pydantic_core import PydanticUndefined

    from ..engine.scenario import HiddenCosts

    out = {n: (None if fi.default is PydanticUndefined else fi.default) for n, fi in model.model_fields.items()}
    out["hidden"] = HiddenCosts().model_dump()
    return out


def _blank(x: Optional[float]) -> Value:
    return "" if x is None else x


def output_values(ev: Evaluation) -> dict[str, Value]:
    """Single-cell outputs: defined name -> the engine's value ("" where the sheet shows blank)."""
    sc = ev.scenario
    out: dict[str, Value] = {}
    current = sc.context.current_option
    paybacks = {p.option: p for p in ev.paybacks}
    outcomes = {o.option: o for o in ev.outcome_costs}
    for option in L.OPTION_KEYS:
        oc = ev.options.get(option)
        for key, *_ in L.SUMMARY_ROWS:
            name = f"out_{option}_{key}"
            if oc is None:
                out[name] = ""
            elif key == "tco_total":
                out[name] = ev.tco[option].total
            elif key == "npv":
                out[name] = ev.tco[option].npv
            elif key == "payback_months":
                p = paybacks.get(option)
                out[name] = "" if option == current or p is None else ("never" if p.months is None else p.months)
            elif key == "cost_per_outcome":
                out[name] = outcomes[option].cost_per_outcome if option in outcomes else ""
            else:
                out[name] = _blank(getattr(oc, key))
        for key, *_ in L.LINE_ITEMS[option]:
            name = f"out_li_{option}_{key}"
            out[name] = "" if oc is None else next(i.monthly_usd for i in oc.line_items if i.key == key)
    be = ev.breakeven
    has_pair = be.option_b != be.option_a
    other = OPTION_LABELS.get(be.option_b, "")
    out["out_be_pair"] = f"API vs {other}" if has_pair else "no alternative to the API"
    out["out_be_tokens_per_day"] = be.tokens_per_day if be.found else ("none" if has_pair else "")
    out["out_be_requests_per_month"] = _blank(be.requests_per_month) if be.found else ""
    out["out_be_volume_ratio"] = _blank(be.volume_ratio) if be.found else ""
    out["out_be_monthly_cost"] = be.monthly_cost if be.found else ""
    out["out_be_api_token_spend"] = be.api_token_spend if be.found else ""
    out["out_be_cheaper_below"] = OPTION_LABELS[be.cheaper_below] if has_pair and be.cheaper_below else ""
    out["out_be_method"] = ("none" if not has_pair else
                            {"closed_form": "closed form", "piecewise": "piecewise (GPU steps)"}.get(be.method, "none: the costs do not cross"))
    npvs = {o: ev.tco[o].npv for o in ev.options}
    cheapest = min(npvs, key=lambda o: (npvs[o], L.OPTION_KEYS.index(o)))
    out["out_cheapest_option"] = OPTION_LABELS[cheapest]
    out["chk_master"] = "OK"
    out["c_tokens_per_day"] = sc.volume.daily_tokens
    return out


def engine_texts(ev: Evaluation) -> dict[str, str]:
    """Static text cells written from the engine (they do not recalculate)."""
    rec = ev.recommendation
    decisive = [r.text for r in rec.reasons if r.effect in ("decides", "excludes", "blocks")]
    src = ev.scenario.api.price_as_of
    return {
        "eng_recommendation": rec.label,
        "eng_reasons": " ".join(decisive)[:1000],
        "eng_generated": "Generated by runrate_xl from its cost engine" + (f"; API prices as of {src}" if src else "") + ".",
    }


def series_values(ev: Evaluation) -> dict[str, list[Value]]:
    """Monthly-sheet columns (defined range name -> values top to bottom, blank past the horizon)."""
    sc = ev.scenario
    n = sc.horizon.months
    months_all = range(1, L.MAX_MONTHS + 1)
    out: dict[str, list[Value]] = {
        "ser_active": [m <= n for m in range(0, L.MAX_MONTHS + 1)],
        "ser_tokens_per_day": [sc.volume.daily_tokens * f.growth_factor(sc.volume.monthly_growth, m) if m <= n else "" for m in months_all],
        "ser_price_factor": [f.price_factor(sc.horizon.api_price_decline_per_year, m) if m <= n else "" for m in months_all],
    }
    for option in L.OPTION_KEYS:
        s = ev.tco.get(option)
        if s is None:
            out[f"ser_{option}_monthly"] = [""] * L.MAX_MONTHS
            out[f"ser_{option}_cumulative"] = [""] * (L.MAX_MONTHS + 1)
        else:
            out[f"ser_{option}_monthly"] = list(s.monthly) + [""] * (L.MAX_MONTHS - n)
            out[f"ser_{option}_cumulative"] = list(s.cumulative) + [""] * (L.MAX_MONTHS - n)
    return out


def grid_values(ev: Evaluation) -> list[list[Value]]:
    """Sensitivity grid, [utilization][volume] of self-hosted minus API (blank without self-hosting)."""
    if ev.grid is None:
        return [[""] * len(L.GRID_VOLUME_FACTORS) for _ in L.GRID_UTILIZATIONS]
    return [list(row) for row in ev.grid.difference]


def expected_cells(ev: Evaluation, names: dict[str, tuple[str, list[str]]]) -> dict[tuple[str, str], Value]:
    """(sheet, cell) -> engine value for every output cell, given the template's defined names
    (name -> (sheet, cells in reading order))."""
    cells: dict[tuple[str, str], Value] = {}
    for name, value in output_values(ev).items():
        sheet, refs = names[name]
        cells[(sheet, refs[0])] = value
    for name, values in series_values(ev).items():
        sheet, refs = names[name]
        for ref, v in zip(refs, values):
            cells[(sheet, ref)] = v
    sheet, refs = names["out_grid_difference"]
    flat = [v for row in grid_values(ev) for v in row]
    for ref, v in zip(refs, flat):
        cells[(sheet, ref)] = v
    return cells

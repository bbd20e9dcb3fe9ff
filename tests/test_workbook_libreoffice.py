"""Scenario workbooks recalculated by a real spreadsheet engine (LibreOffice headless).

One soffice call recalculates every workbook of the session (presets, seeded random scenarios,
an untrusted BU name, analyst edits, and scenarios with several options of one kind: two API
options and own GPUs, two self-hosted options, two capacity-mode options). The workbooks are
written WITHOUT cached values, so
every number read back was computed by LibreOffice's formulas; each output cell must equal the
engine's value to 1e-9 relative, and the Checks sheet must read OK.
"""

from __future__ import annotations

import math

import openpyxl
import pytest

from runrate_xl.api import evaluate_scenario, scenario_from_dict
from runrate_xl.engine.scenario import Scenario
from runrate_xl.presets import preset_scenario
from runrate_xl.workbook import read_workbook, workbook_bytes
from runrate_xl.workbook import values as V
from runrate_xl.fields import get_path, id_keyed
from runrate_xl.workbook import layout as L
from runrate_xl.workbook.generate import template_for

from .libreoffice import recalculate, soffice
from .workbook_scenarios import ON_PREM, all_scenarios, several_option_scenarios

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow,
              pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")]

SCENARIOS = all_scenarios()
HOSTILE = '=HYPERLINK("http://example.com","x")'
EDITS = {
    # file id: (preset, {defined name: new value})
    "edit-startup": ("seed004-startup", {"in_volume_requests_per_month": 2_500_000, "in_fine_tuned_included": "Yes",
                                         "in_fine_tuned_input_price_per_1m": 0.3, "in_fine_tuned_output_price_per_1m": 1.2,
                                         "in_self_hosted_utilization": 0.55}),
    "edit-capacity": ("capacity-growth", {"in_self_hosted_target_utilization": 0.6, "in_horizon_months": 60,
                                          "in_api_cached_share": 0.5, "in_volume_monthly_growth": 0.03}),
    "edit-several": ("example-several-options", {"in_mini_cached_share": 0.5, "in_own_gpus_utilization": 0.6,
                                                 "in_frontier_label": "Frontier model", "in_context_current_option": "mini"}),
    "edit-two-sh": ("two-self-hosted", {"in_rent_capacity_mode": "simple", "in_rent_capacity_infra_monthly": 9000,
                                        "in_rent_capacity_utilization": 0.7, "in_rent_simple_mode": "capacity",
                                        "in_rent_simple_gpus_per_instance": 2, "in_rent_simple_tokens_per_second_per_gpu": 900,
                                        "in_rent_simple_instance_hourly_usd": 3.1}),
    "edit-on-prem": ("on-prem-growth", {"in_own_server_price": 120_000, "in_own_life_years": 3, "in_own_residual_share": 0.1,
                                        "in_own_pue": 1.2, "in_horizon_months": 80, "in_volume_monthly_growth": 0.02}),
    # the self-host-the-bulk mix routed 60/40 as given (its break-evens step with the GPUs at the new share)
    "edit-mix-share": ("hybrid-selfhost-bulk-api-overflow", {"in_bulk_overflow_split": "as_routed", "in_bulk_overflow_route_own_gpus": 0.6,
                                                            "in_bulk_overflow_route_api": 0.4}),
}
# A mix and a cascade of two API options whose first attempts fail (to a person at $0.01 a review),
# for cost per successful task by hand: 1M requests a month of 1,000 tokens, 80% input; observability
# $100 a month beside the frontier model, $50 beside mini (paid once by a composite that uses it).
# All-frontier: 800M x $2.50 + 200M x $10 = $4,000 of tokens; all-mini: 800M x $0.15 + 200M x $0.60 = $240.
_PAIR = [
    {"id": "frontier", "kind": "api", "input_price_per_1m": 2.5, "output_price_per_1m": 10.0,
     "hidden": {"success_rate": 0.95, "on_failure": "human", "cost_per_review": 0.01, "observability_monthly": 100}},
    {"id": "mini", "kind": "api", "input_price_per_1m": 0.15, "output_price_per_1m": 0.6,
     "hidden": {"success_rate": 0.8, "on_failure": "human", "cost_per_review": 0.01, "observability_monthly": 50}},
]
_VOLUME = {"requests_per_month": 1_000_000, "tokens_per_request": 1000, "input_share": 0.8}
# A mix with an on-prem part (its own servers bought at its share of a growing volume, sold at the
# horizon end) and a cascade whose first option is a stated on-prem fleet, beside a cheapest split.
ON_PREM_COMPOSITES = {
    "mix-on-prem": {**ON_PREM["on-prem-growth"], "horizon": {"months": 30},
                    "options": ON_PREM["on-prem-growth"]["options"] + [
                        {"id": "blend", "kind": "mix", "route": {"own": 0.6, "api": 0.15, "rent": 0.25}}]},
    "cascade-on-prem": {**ON_PREM["on-prem-stated-at"], "options": ON_PREM["on-prem-stated-at"]["options"] + [
        {"id": "esc", "kind": "cascade", "first": "own", "then": "api", "escalation_share": 0.2},
        {"id": "half", "kind": "mix", "route": {"own": 0.5, "api": 0.5}, "split": "cheapest"}]},
}
COMPOSITE_OUTCOMES = {
    "mix-outcomes": {"volume": _VOLUME, "options": _PAIR + [
        {"id": "blend", "kind": "mix", "route": {"frontier": 0.3, "mini": 0.7}}], "context": {"current_option": "frontier"}},
    "cascade-outcomes": {"volume": _VOLUME, "options": _PAIR + [
        {"id": "esc", "kind": "cascade", "first": "mini", "then": "frontier", "escalation_share": 0.15}],
        "context": {"current_option": "frontier"}},
}


def first_escalates(share=None):
    """The cascade preset with its first option escalating its failures (#14 item 4): mini gets 70%
    right at the first attempt, tries twice, and sends the (1 - 0.7)^2 = 9% it still fails to the
    frontier model (``share``: the escalation share stated, else left out); 3% of mini's requests
    are reviewed at $2, the frontier model's failures (5%) go to a person at $2, and both call tools
    at $0.002 (2 and 1 per request), paid on every attempt."""
    data = preset_scenario("cascade-mini-escalate-15pct").model_dump()
    for o in data["options"]:
        if o["id"] == "mini":
            o["hidden"].update(success_rate=0.7, on_failure="escalate", max_attempts=2, cost_per_review=2.0, review_share=0.03,
                               tool_calls_per_request=2, price_per_tool_call=0.002)
        elif o["id"] == "frontier":
            o["hidden"].update(success_rate=0.95, on_failure="human", cost_per_review=2.0, tool_calls_per_request=1,
                               price_per_tool_call=0.002)
        elif o["kind"] == "cascade":
            o["escalation_share"] = share
    return Scenario.model_validate(data)


def _moving_to_it(s: Scenario) -> Scenario:
    """The same, run today on the frontier model and moving to the cascade from month 2 over 3 months
    (Monthly's columns as today's option carry each part without the escalated review)."""
    data = s.model_dump()
    data["horizon"].update(switch_month=2, overlap_months=3)
    data["context"]["current_option"] = "frontier"
    return Scenario.model_validate(data)


FIRST_ESCALATES = {"cascade-first-escalates": lambda: first_escalates(), "cascade-first-escalates-stated": lambda: first_escalates(0.09),
                   "cascade-first-escalates-moving": lambda: _moving_to_it(first_escalates())}
# Break-evens where a cost steps from more than one unit or inside a composite (engine breakeven._piecewise):
# a stated fleet of 1,500 servers (test_breakeven_crossings: the engine's crossing is at server 2,251, past the
# 1,000 steps a search from one server covers), and a cascade whose first option is a stated fleet of 2 servers.
BIG_FLEET = {
    "name": "big fleet", "volume": {"tokens_per_day": 1.5e9},
    "options": [{"id": "api", "kind": "api", "input_price_per_1m": 20.0, "output_price_per_1m": 20.0},
                {"id": "own", "kind": "on_prem", "servers": 1500, "utilization": 0.5, "server_price": 48_000,
                 "install_share": 0, "life_years": 4, "residual_share": 0, "cost_of_capital_per_year": 0,
                 "maintenance_share_per_year": 0, "gpus_per_server": 8, "gpu_tdp_watts": 700, "power_price_per_kwh": 0,
                 "facilities_monthly_per_server": 0, "fte": 100, "fte_annual_cost": 54_012}]}
STEPPED_BREAKEVENS = {
    "big-fleet": BIG_FLEET,
    "cascade-on-prem-first": {**ON_PREM["on-prem-stated"], "options": ON_PREM["on-prem-stated"]["options"] + [
        {"id": "esc", "kind": "cascade", "first": "own", "then": "api", "escalation_share": 0.1}]},
}
SEVERAL = dict(several_option_scenarios())
SEVERAL.update((sid, sc) for sid, sc in SCENARIOS if sid.startswith("on-prem-"))


def _edit(path, changes):
    wb = openpyxl.load_workbook(path)
    for name, value in changes.items():
        sheet, ref = next(iter(wb.defined_names[name].destinations))
        wb[sheet][ref.replace("$", "")].value = value
    wb.save(path)


@pytest.fixture(scope="session")
def recalculated(tmp_path_factory):
    """{id: (evaluation the file must agree with, recalculated path)} after ONE soffice call."""
    src = tmp_path_factory.mktemp("workbooks")
    jobs = {}
    for sid, sc in SCENARIOS:
        ev = evaluate_scenario(sc)
        path = src / f"{sid}.xlsx"
        path.write_bytes(workbook_bytes(ev, cache_values=False))
        jobs[sid] = (ev, path)
    hostile = preset_scenario("seed003-50m-80pct").model_copy(update={"name": HOSTILE})
    ev = evaluate_scenario(hostile)
    (src / "hostile.xlsx").write_bytes(workbook_bytes(ev, cache_values=False))
    jobs["hostile"] = (ev, src / "hostile.xlsx")
    moving = preset_scenario("seed004-startup")
    moving = moving.model_copy(update={"horizon": moving.horizon.model_copy(update={"switch_month": 2, "overlap_months": 3})})
    ev = evaluate_scenario(moving)
    (src / "migration.xlsx").write_bytes(workbook_bytes(ev, cache_values=False))
    jobs["migration"] = (ev, src / "migration.xlsx")
    several = SEVERAL["two-self-hosted"]  # today: rented GPUs (simple); growth, decline, discount; a capacity-mode and two APIs
    several = several.model_copy(update={"horizon": several.horizon.model_copy(update={"switch_month": 3, "overlap_months": 4})})
    ev = evaluate_scenario(several)
    (src / "migration-several.xlsx").write_bytes(workbook_bytes(ev, cache_values=False))
    jobs["migration-several"] = (ev, src / "migration-several.xlsx")
    buying = scenario_from_dict({**ON_PREM["on-prem-growth"], "horizon": {"months": 30, "switch_month": 1, "overlap_months": 2}})
    ev = evaluate_scenario(buying)
    (src / "migration-on-prem.xlsx").write_bytes(workbook_bytes(ev, cache_values=False))
    jobs["migration-on-prem"] = (ev, src / "migration-on-prem.xlsx")
    for fid, preset in (("migration-cascade", "cascade-mini-escalate-15pct"), ("migration-mix-gpus", "hybrid-selfhost-bulk-api-overflow")):
        moving = preset_scenario(preset)  # a phased move to a cascade (from the frontier model) and to a mix with GPUs (from the API)
        moving = moving.model_copy(update={"horizon": moving.horizon.model_copy(update={"switch_month": 2, "overlap_months": 3})})
        ev = evaluate_scenario(moving)
        (src / f"{fid}.xlsx").write_bytes(workbook_bytes(ev, cache_values=False))
        jobs[fid] = (ev, src / f"{fid}.xlsx")
    for fid, make in FIRST_ESCALATES.items():
        ev = evaluate_scenario(make())
        (src / f"{fid}.xlsx").write_bytes(workbook_bytes(ev, cache_values=False))
        jobs[fid] = (ev, src / f"{fid}.xlsx")
    for fid, data in {**COMPOSITE_OUTCOMES, **ON_PREM_COMPOSITES, **STEPPED_BREAKEVENS}.items():
        ev = evaluate_scenario(scenario_from_dict(data))
        (src / f"{fid}.xlsx").write_bytes(workbook_bytes(ev, cache_values=False))
        jobs[fid] = (ev, src / f"{fid}.xlsx")
    for fid, (preset, changes) in EDITS.items():
        path = src / f"{fid}.xlsx"
        base = SEVERAL[preset] if preset in SEVERAL else preset_scenario(preset)
        path.write_bytes(workbook_bytes(evaluate_scenario(base)))
        _edit(path, changes)
        jobs[fid] = (None, path)
        openpyxl.load_workbook(path)  # the edited file still loads
    outs = recalculate([p for _, p in jobs.values()], tmp_path_factory.mktemp("recalculated"))
    return {fid: (ev, out) for (fid, (ev, _)), out in zip(jobs.items(), outs)}


def mismatches(ev, path) -> tuple[int, list]:
    wb = openpyxl.load_workbook(path, data_only=True)
    expected = V.expected_cells(ev, template_for(ev.scenario).names)
    bad = []
    for (sheet, ref), value in expected.items():
        got = wb[sheet][ref].value
        if isinstance(value, (str, bool)):
            ok = got == value or (value == "" and got is None)
        else:
            ok = isinstance(got, (int, float)) and not isinstance(got, bool) and math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-9)
        if not ok:
            bad.append((sheet, ref, value, got))
    return len(expected), bad


def failing_checks(path) -> list:
    wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb["Checks"]
    rows = [(ws[f"B{c.row}"].value, c.value) for c in _cells(wb, "chk_results")]
    assert len(rows) > 100
    return [r for r in rows if r[1] != "OK"] + ([("master", ws["C5"].value)] if ws["C5"].value != "OK" else [])


ERRORS = ("#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!")


def _cells(wb, name):
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    rng = wb[sheet][ref.replace("$", "")]
    return [c for row in rng for c in row] if isinstance(rng, tuple) else [rng]


def error_cells(path) -> list:
    """Every cell showing a spreadsheet error, on every sheet, except the chart-gap #N/A points
    (curve data of an option switched off, a break-even that is not found), which are labelled."""
    wb = openpyxl.load_workbook(path, data_only=True)
    gaps = {(c.parent.title, c.coordinate) for name in wb.defined_names if name.startswith("curve_") for c in _cells(wb, name)}
    bad = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, str) and (v in ERRORS or v.startswith("Err:")):
                    if v == "#N/A" and (ws.title, c.coordinate) in gaps:
                        continue
                    bad.append((ws.title, c.coordinate, v))
    return bad


@pytest.mark.parametrize("sid", [s for s, _ in SCENARIOS])
def test_recalculated_outputs_equal_the_engine(recalculated, sid):
    ev, path = recalculated[sid]
    n, bad = mismatches(ev, path)
    assert n > 900
    assert not bad, f"{len(bad)} cells differ from the engine, e.g. {bad[:5]}"
    assert not failing_checks(path)
    assert not error_cells(path), error_cells(path)[:10]
    wb = openpyxl.load_workbook(path, data_only=True)
    assert _cells(wb, "chk_recommendation_current")[0].value == "CURRENT"  # the engine's recommendation is for these inputs


def test_analyst_edits_recalculate_and_read_back(recalculated):
    for fid, (preset, changes) in EDITS.items():
        _, path = recalculated[fid]
        sc = read_workbook(path)
        lay = L.layout_for(L.shape_of(sc))
        data = id_keyed(sc)
        for name, value in changes.items():
            spec = lay.by_name[name]
            if spec.path.endswith(".included"):
                assert sc.find_option(spec.option) is not None, (fid, name)
            else:
                assert get_path(data, spec.path) == value, (fid, name)
        ev = evaluate_scenario(sc)
        _, bad = mismatches(ev, path)
        assert not bad, f"{fid}: {len(bad)} cells differ from the engine on the edited scenario, e.g. {bad[:5]}"
        assert not failing_checks(path)
        if fid == "edit-mix-share":  # the mix's break-evens follow its new share, part by part, as `runrate read` + evaluate
            _same_breakevens(ev, openpyxl.load_workbook(path, data_only=True), {("api", "bulk-overflow")})


def test_several_options_of_one_kind_recalculate(recalculated):
    """Two API columns, two self-hosted columns (simple, capacity), two capacity columns before
    the API: each is one of the session's recalculated files (above); here, what they cover."""
    for sid, sc in several_option_scenarios():
        ev, path = recalculated[sid]
        kinds = [o.kind for o in sc.options]
        assert len(kinds) > len(set(kinds)), sid
        assert len(ev.breakevens) == len(kinds) * (len(kinds) - 1) // 2
        n, bad = mismatches(ev, path)
        assert not bad and n > 900, sid
    assert any(b.found and b.method == "piecewise" for b in recalculated["two-capacity"][0].breakevens
               if {b.option_a, b.option_b} == {"h100", "a10"})


def test_untrusted_name_is_text_after_recalculation(recalculated):
    ev, path = recalculated["hostile"]
    wb = openpyxl.load_workbook(path)
    assert wb["Inputs"]["C6"].data_type == "s" and wb["Inputs"]["C6"].value == HOSTILE
    assert read_workbook(path).name == HOSTILE
    _, bad = mismatches(ev, path)
    assert not bad


@pytest.mark.parametrize("fid", ["migration", "migration-several"])
def test_a_phased_migration_recalculates_to_the_engine(recalculated, fid):
    """A switch after month 2 (3) and 3 (4) months of overlap: every option but today's carries
    today's option, then both on a linear ramp (Monthly sheet), one-time costs when the move
    starts; the series, TCO, NPV, payback and crossover equal the engine's; the inputs read back."""
    ev, path = recalculated[fid]
    h = ev.scenario.horizon
    assert h.overlap_months > 0 and h.switch_month > 0 and len(ev.scenario.options) >= 2
    n, bad = mismatches(ev, path)
    assert n > 900 and not bad, bad[:5]
    assert not failing_checks(path)
    back = read_workbook(path)
    assert (back.horizon.switch_month, back.horizon.overlap_months) == (h.switch_month, h.overlap_months)


def test_a_phased_move_to_bought_servers_is_said_not_silently_ignored(recalculated):
    """Bought servers' cash over a phased move is not in the workbook's series yet: the Checks
    sheet says so by name (the master check is not OK), while today's monthly costs still agree."""
    ev, path = recalculated["migration-on-prem"]
    failing = failing_checks(path)
    assert [label for label, _ in failing if label != "master"] == [
        "own: a phased move to bought servers is not in this workbook's series yet (the engine's figures, Outputs, include it)"]
    wb = openpyxl.load_workbook(path, data_only=True)
    for o in ev.options:
        sheet, ref = next(iter(wb.defined_names[f"out_{o}_total_monthly"].destinations))
        assert math.isclose(wb[sheet][ref.replace("$", "")].value, ev.options[o].total_monthly, rel_tol=1e-9)


def test_composites_recalculate_with_cost_per_successful_task_by_hand(recalculated):
    """Mix 30% frontier / 70% mini: tokens 0.3 x 4,000 + 0.7 x 240 = $1,368; reviews of failed tasks
    0.3M x 5% x $0.01 + 0.7M x 20% x $0.01 = $1,550; observability $150; total $3,068; failed 0.3 x 5%
    + 0.7 x 20% = 15.5%.
    Cascade, mini first, 15% escalated: 240 + 0.15 x 4,000 = $840 of tokens; reviews 1M x 20% x $0.01
    + 0.15M x 5% x $0.01 = $2,075; observability $150; total $3,065; failed (1 - 0.15) x 20% + 0.15 x 5%
    = 17.75%. Cost per successful task: total / (1M x (1 - failed))."""
    for fid, total, failed in (("mix-outcomes", 3068.0, 0.155), ("cascade-outcomes", 3065.0, 0.1775)):
        ev, path = recalculated[fid]
        n, bad = mismatches(ev, path)
        assert not bad and n > 900, (fid, bad[:5])
        assert not failing_checks(path) and not error_cells(path), fid
        wb = openpyxl.load_workbook(path, data_only=True)
        frag = "blend" if fid == "mix-outcomes" else "esc"
        assert _cells(wb, f"out_{frag}_total_monthly")[0].value == pytest.approx(total, rel=1e-12)
        assert _cells(wb, f"out_{frag}_cost_per_successful_task")[0].value == pytest.approx(total / (1e6 * (1 - failed)), rel=1e-12)
        assert ev.options[frag].total_monthly == pytest.approx(total, rel=1e-12)  # the engine agrees on the total


def test_mix_and_cascade_presets_recalculate_to_the_engine(recalculated):
    """The three composite presets are among the session's files (every preset is): what they cover."""
    kinds = {}
    for name in ("hybrid-frontier-hard-20pct", "hybrid-selfhost-bulk-api-overflow", "cascade-mini-escalate-15pct"):
        ev, path = recalculated[f"preset-{name}"]
        n, bad = mismatches(ev, path)
        assert not bad and n > 1200, name
        assert not failing_checks(path) and not error_cells(path), name
        kinds.update({o.kind: name for o in ev.scenario.options})
    assert {"mix", "cascade", "self_hosted"} <= set(kinds)

    # the self-host-the-bulk mix steps with its GPUs at their share: its break-evens are solved segment by segment
    ev, path = recalculated["preset-hybrid-selfhost-bulk-api-overflow"]
    wb = openpyxl.load_workbook(path, data_only=True)
    assert _cells(wb, "c_bulk_overflow_stepped")[0].value is True
    _same_breakevens(ev, wb, {("api", "bulk-overflow"), ("own-gpus", "bulk-overflow")})


def _same_breakevens(ev, wb, pairs):
    """Each pair's break-even (recalculated) equals the engine's first crossing to 1e-9, solved piecewise."""
    engine = {(b.option_a, b.option_b): b for b in ev.breakevens}
    lay = L.layout_for(L.shape_of(ev.scenario))
    for a, b in pairs:
        be = engine[(a, b)]
        assert be.found and be.method == "piecewise", (a, b)
        got = _cells(wb, L.breakeven_name(lay.slot(a), lay.slot(b), "tokens_per_day"))[0].value
        assert math.isclose(got, be.tokens_per_day, rel_tol=1e-9), (a, b, got, be.tokens_per_day)
        method = _cells(wb, L.breakeven_name(lay.slot(a), lay.slot(b), "method"))[0].value
        assert method == "piecewise (GPU steps)", (a, b, method)


def test_stepped_breakevens_from_a_stated_fleet_and_inside_a_cascade(recalculated):
    """A stated fleet of 1,500 servers: the segments start at its fewest servers, as the engine's
    search does, so the workbook finds the crossing at server 2,251: (450,100 + 2,251,000) / 0.0006
    = 4,501,833,333.3 tokens/day (tests/test_breakeven_crossings.py). A cascade whose first option
    is a stated fleet of 2 servers steps at the fleet's steps (its whole volume): its break-even
    with the API equals the engine's."""
    ev, path = recalculated["big-fleet"]
    wb = openpyxl.load_workbook(path, data_only=True)
    assert _cells(wb, "out_be_tokens_per_day")[0].value == pytest.approx((450_100 + 2_251_000) / 0.0006, rel=1e-9)
    _same_breakevens(ev, wb, {("api", "own")})
    ev, path = recalculated["cascade-on-prem-first"]
    wb = openpyxl.load_workbook(path, data_only=True)
    _same_breakevens(ev, wb, {("api", "own"), ("api", "esc")})
    for fid in STEPPED_BREAKEVENS:
        ev, path = recalculated[fid]
        n, bad = mismatches(ev, path)
        assert not bad and n > 900, (fid, bad[:5])
        assert not failing_checks(path) and not error_cells(path), fid


def test_composites_with_bought_servers_recalculate_to_the_engine(recalculated):
    """A mix with an on-prem part buys that part's servers at its share of each month's volume
    (Monthly: its own bought, end-of-life and owned columns) and credits their book value at the
    horizon end: TCO, NPV and every series cell equal the engine's; so does a cascade whose first
    option is a stated fleet, beside a mix priced at the engine's cheapest split."""
    for fid in ON_PREM_COMPOSITES:
        ev, path = recalculated[fid]
        n, bad = mismatches(ev, path)
        assert not bad and n > 1500, (fid, bad[:5])
        assert not failing_checks(path) and not error_cells(path), fid
    ev, path = recalculated["mix-on-prem"]
    wb = openpyxl.load_workbook(path, data_only=True)
    bought = [c.value for c in _cells(wb, "ser_blend_own_bought")]
    assert sum(bought) > bought[0] > 0  # servers at month 0, more as the volume grows
    assert ev.tco["blend"].npv == pytest.approx(_cells(wb, "out_blend_npv")[0].value, rel=1e-9)


def test_a_phased_move_to_a_composite_recalculates_to_the_engine(recalculated):
    """Switch after 2 months, 3 months of overlap: the cascade and the mix with GPUs carry the moved
    share of the traffic part by part (Monthly helper columns), today's option the rest."""
    for fid in ("migration-cascade", "migration-mix-gpus"):
        ev, path = recalculated[fid]
        n, bad = mismatches(ev, path)
        assert not bad and n > 1200, (fid, bad[:5])
        assert not failing_checks(path) and not error_cells(path), fid


def test_a_cascade_whose_first_escalates_recalculates_to_the_engine(recalculated):
    """The cascade preset with mini escalating (70% right at the first attempt, two attempts): the
    escalation share is a formula on mini's inputs, (1 - 0.7)^2 = 9% of 20M tokens/day / 3,000 tokens
    x 30 days = 200,000 requests, so 18,000 requests go to the frontier model; mini's human review in
    the cascade is its 3% reviewed (200,000 x 3% x $2 = $12,000), not its 9% failures ($36,000 more
    on its own); its tool calls are paid on (1 - 0.09) / 0.7 = 1.3 attempts (200,000 x 2 x 1.3 x
    $0.002 = $1,040); the frontier model's on 18,000 requests: 5% of them to a person ($1,800) and
    $36 of tool calls. Every output cell equals the engine's to 1e-9, blank or stated share alike."""
    for fid in FIRST_ESCALATES:
        ev, path = recalculated[fid]
        n, bad = mismatches(ev, path)
        assert not bad and n > 1200, (fid, bad[:5])
        assert not failing_checks(path) and not error_cells(path), fid
        wb = openpyxl.load_workbook(path, data_only=True)
        value = lambda name: _cells(wb, name)[0].value  # noqa: E731
        assert value("c_escalate_15_first_escalates") is True
        assert value("c_escalate_15_escalation") == pytest.approx(0.09, rel=1e-12)
        assert value("c_escalate_15_sh_frontier") == pytest.approx(0.09, rel=1e-12)
        assert value("out_li_escalate_15_mini__human_review") == pytest.approx(12_000, rel=1e-12)
        assert value("out_li_mini_human_review") == pytest.approx(48_000, rel=1e-12)  # on its own: its failures to a person
        assert value("out_li_escalate_15_mini__tool_calls") == pytest.approx(1_040, rel=1e-12)
        assert value("out_li_escalate_15_frontier__human_review") == pytest.approx(1_800, rel=1e-12)
        assert value("out_li_escalate_15_frontier__tool_calls") == pytest.approx(36, rel=1e-12)
        # the cascade fails 9% x 5% of its tasks; cost per successful task as the engine's
        assert value("c_escalate_15_failed") == pytest.approx(0.09 * 0.05, rel=1e-12)
        t = ev.options["escalate-15"].tasks
        assert value("out_escalate_15_cost_per_successful_task") == pytest.approx(t.cost_per_successful_task, rel=1e-9)
        assert t.escalated_per_month == pytest.approx(18_000, rel=1e-12)
    ev, path = recalculated["cascade-first-escalates"]
    assert read_workbook(path) == ev.scenario  # the share left out reads back left out

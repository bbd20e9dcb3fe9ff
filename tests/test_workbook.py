"""Scenario workbooks without LibreOffice: template is current, formulas follow the rules,
generation is deterministic, cached values are the engine's, read-back round-trips, untrusted
text stays text, errors name sheet/cell/field, roll-up and CLI."""

from __future__ import annotations

import io
import math
import re
import zipfile

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from runrate_xl.api import evaluate_scenario, scenario_from_dict
from runrate_xl.catalog.resolve import resolve
from runrate_xl.cli import app
from runrate_xl.presets import preset_scenario
from runrate_xl.workbook import WorkbookError, generate_workbook, read_workbook, workbook_bytes, write_rollup
from runrate_xl.workbook import layout as L
from runrate_xl.workbook import values as V
from runrate_xl.workbook.generate import template_for
from runrate_xl.workbook.template import TEMPLATE_PATH, build_template, template_bytes

from .workbook_scenarios import TWO_CAPACITY, TWO_SELF_HOSTED, all_scenarios, random_scenario, several_option_scenarios

SCENARIOS = all_scenarios()
SHAPES = {"legacy": L.LEGACY_SHAPE, **{sid: L.shape_of(sc) for sid, sc in several_option_scenarios()}}
FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def shape_book(key):
    return openpyxl.load_workbook(TEMPLATE_PATH if key == "legacy" else io.BytesIO(template_bytes(SHAPES[key])))
HOSTILE_NAMES = ['=HYPERLINK("http://example.com","x")', "+1+2", "-2-3", "@SUM(A1)", "=1+1 & <b>bold</b> \"quotes\""]


@pytest.fixture(scope="module")
def evaluations():
    return {sid: evaluate_scenario(s) for sid, s in SCENARIOS}


def canonical(wb) -> dict:
    """What must not drift between the builder and the shipped template (not bytes)."""
    out = {"sheets": wb.sheetnames, "names": sorted((n, d.attr_text) for n, d in wb.defined_names.items())}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if v is not None:
                    cells[c.coordinate] = (getattr(v, "text", v), c.number_format, c.protection.locked)
        out[ws.title] = {
            "cells": cells,
            "validations": sorted((str(dv.sqref), dv.type, dv.formula1, dv.formula2, dv.prompt) for dv in ws.data_validations.dataValidation),
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "print_area": ws.print_area,
            "protected": ws.protection.sheet,
        }
    return out


def test_shipped_template_is_current():
    buf = io.BytesIO()
    build_template().save(buf)
    built = openpyxl.load_workbook(io.BytesIO(buf.getvalue()))
    shipped = openpyxl.load_workbook(TEMPLATE_PATH)
    a, b = canonical(built), canonical(shipped)
    for key in a:
        assert a[key] == b.get(key), f"{key} differs: run `python -c 'from runrate_xl.workbook.template import write_template; write_template()'`"
    charts = [n for n in zipfile.ZipFile(TEMPLATE_PATH).namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3


def _formulas(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                text = getattr(c.value, "text", c.value)
                if isinstance(text, str) and text.startswith("="):
                    yield ws.title, c.coordinate, text


@pytest.mark.parametrize("key", list(SHAPES))
def test_formulas_hold_no_hard_coded_numbers_and_only_portable_functions(key):
    wb = shape_book(key)
    count = 0
    forbidden = {"XLOOKUP", "LET", "LAMBDA", "FILTER", "SEQUENCE", "UNIQUE", "SORT", "IFS", "SWITCH", "MAXIFS", "MINIFS",
                 "TEXTJOIN", "CONCAT", "INDIRECT", "OFFSET"}
    for sheet, ref, formula in _formulas(wb):
        count += 1
        body = re.sub(r'"[^"]*"', '""', formula)  # string literals may hold anything
        body = re.sub(r"'[^']+'!", "", body)
        numbers = re.findall(r"(?<![A-Za-z_$.\d])(\d+(?:\.\d+)?(?:E[+-]?\d+)?)(?![\w.])", body)
        assert set(numbers) <= {"0", "1"}, f"{sheet}!{ref} has a hard-coded number {numbers}: {formula}"
        functions = set(re.findall(r"([A-Z][A-Z0-9.]*)\(", body))
        assert not functions & forbidden, f"{sheet}!{ref} uses {functions & forbidden}"
    assert count > 1000


FORMULA_LIMIT = 520  # characters: a longer formula is split into labelled helper rows or columns an auditor can follow


def test_no_formula_in_a_presets_workbook_is_longer_than_the_limit():
    """Every preset's workbook (its shape's template: the formulas do not depend on the values):
    break-even probes, a composite's cost at a volume, Sensitivity curve points, a phased move's
    'as today's option' columns and the Checks are split into helper rows and columns, each
    labelled; the longest left are a month of a self-hosted option's series during a phased move."""
    from runrate_xl.presets import presets

    longest = {}
    for name in presets():
        wb = openpyxl.load_workbook(io.BytesIO(template_bytes(L.shape_of(preset_scenario(name)))))
        for sheet, ref, formula in _formulas(wb):
            if len(formula) > longest.get(name, (0,))[0]:
                longest[name] = (len(formula), sheet, ref, formula)
    assert len(longest) >= 15
    over = {name: x[:3] for name, x in longest.items() if x[0] > FORMULA_LIMIT}
    assert not over, over


@pytest.mark.parametrize("key", list(SHAPES))
def test_every_input_has_a_name_validation_unit_and_is_unlocked(key):
    wb = shape_book(key)
    lay = L.layout_for(SHAPES[key])
    for spec in lay.specs:
        dn = wb.defined_names[spec.name]
        sheet, ref = next(iter(dn.destinations))
        ws = wb[sheet]
        cell = ws[ref.replace("$", "")]
        assert cell.protection.locked is False, spec.name
        assert cell.font.color.rgb.endswith("0000FF"), spec.name
        dvs = [dv for dv in ws.data_validations.dataValidation if cell.coordinate in dv.sqref]
        assert len(dvs) == 1 and dvs[0].prompt, f"{spec.name} needs one validation with an input message"
        if spec.kind in ("choice", "yesno"):
            assert dvs[0].type == "list"
        if ".price_tiers." not in spec.path:
            assert spec.unit_cell and spec.row == int(spec.unit_cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")), spec.name
            assert ws[spec.unit_cell].value, f"{spec.name}: no unit beside the value"
    for ws in wb.worksheets:
        assert ws.protection.sheet and not ws.protection.password, ws.title
        if ws.sheet_state == "visible":
            assert ws.print_area, ws.title
    for name in L.CONSTANTS:
        assert name in wb.defined_names


def test_generation_is_deterministic(evaluations):
    ev = evaluations["preset-capacity-growth"]
    a, b = workbook_bytes(ev), workbook_bytes(ev)
    assert a == b
    assert all(i.date_time == (2026, 1, 1, 0, 0, 0) for i in zipfile.ZipFile(io.BytesIO(a)).infolist())
    other = workbook_bytes(evaluations["preset-seed004-startup"])
    assert other != a


@pytest.mark.parametrize("sid,scenario", SCENARIOS, ids=[s for s, _ in SCENARIOS])
def test_generate_read_round_trip_and_cached_values(tmp_path, sid, scenario, evaluations):
    ev = evaluations[sid]
    path = generate_workbook(scenario, tmp_path / "bu.xlsx", evaluation=ev)
    # capacity-mode figures the Catalog sheet gives are left blank (looked up); the catalog fills them again
    assert resolve(read_workbook(path)).model_dump() == ev.scenario.model_dump()
    # Viewers that do not recalculate see the engine's values as cached results.
    wb = openpyxl.load_workbook(path, data_only=True)
    expected = V.expected_cells(ev, template_for(ev.scenario).names)
    assert len(expected) > 900
    for (sheet, ref), value in expected.items():
        got = wb[sheet][ref].value
        if isinstance(value, str) or isinstance(value, bool):
            assert got == value or (value == "" and got is None), (sheet, ref, value, got)
        else:
            assert got == value or math.isclose(got, value, rel_tol=1e-15), (sheet, ref, value, got)


def test_generate_computes_the_evaluation_when_not_given(tmp_path):
    sc = preset_scenario("capacity-growth")  # catalog model and GPU: prices are resolved into the inputs
    path = generate_workbook(sc, tmp_path / "x.xlsx")
    back = read_workbook(path)
    assert back.option("api").input_price_per_1m == 3.0
    assert back.option("self_hosted").instance_hourly_usd is None  # looked up on the Catalog sheet from the GPU named
    assert resolve(back) == evaluate_scenario(sc).scenario


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_untrusted_names_stay_text(tmp_path, name):
    sc = preset_scenario("seed004-startup").model_copy(update={"name": name, "notes": "=cmd|' /C calc'!A0"})
    path = generate_workbook(sc, tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(path)
    for spec_name in ("in_name", "in_notes"):
        sheet, ref = next(iter(wb.defined_names[spec_name].destinations))
        cell = wb[sheet][ref.replace("$", "")]
        assert cell.data_type == "s" and cell.value == (name if spec_name == "in_name" else sc.notes)
    assert read_workbook(path).name == name
    roll = write_rollup([evaluate_scenario(sc)], tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(roll)["Portfolio"]
    assert ws["B6"].data_type == "s" and ws["B6"].value == name


def test_control_characters_are_refused(tmp_path):
    sc = preset_scenario("seed004-startup").model_copy(update={"notes": "bell\x07"})
    with pytest.raises(WorkbookError, match=r"Inputs!C8 \(notes\).*control characters"):
        generate_workbook(sc, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def _edit(path, name, value):
    wb = openpyxl.load_workbook(path)
    sheet, ref = next(iter(wb.defined_names[name].destinations))
    wb[sheet][ref.replace("$", "")].value = value
    wb.save(path)
    return f"{sheet}!{ref.replace('$', '')}"


@pytest.mark.parametrize("name,value,field,expected", [
    ("in_volume_input_share", 80, "volume.input_share", "fraction between 0 and 1 (use 0.8)"),
    ("in_horizon_months", "three years", "horizon.months", "a whole number"),
    ("in_context_data_privacy", "secret", "context.data_privacy", "one of minimal, moderate, strict"),
    ("in_self_hosted_included", "maybe", "self_hosted.included", "Yes or No"),
    ("in_self_hosted_utilization", None, "self_hosted", "simple mode needs utilization"),
])
def test_read_errors_name_sheet_cell_field_value(tmp_path, name, value, field, expected):
    path = generate_workbook(preset_scenario("seed004-startup"), tmp_path / "x.xlsx")
    where = _edit(path, name, value)
    with pytest.raises(WorkbookError) as info:
        read_workbook(path)
    msg = str(info.value)
    assert field in msg and expected in msg and repr(value) in msg, msg
    assert where in msg, msg  # "simple mode needs utilization" names the blank utilization cell


def test_read_edit_flows_into_the_scenario(tmp_path):
    path = generate_workbook(preset_scenario("seed004-startup"), tmp_path / "x.xlsx")
    _edit(path, "in_volume_requests_per_month", 2_500_000)
    _edit(path, "in_fine_tuned_included", "Yes")
    _edit(path, "in_fine_tuned_input_price_per_1m", 0.3)
    _edit(path, "in_fine_tuned_output_price_per_1m", 1.2)
    sc = read_workbook(path)
    assert sc.volume.requests_per_month == 2_500_000
    assert sc.find_option("fine_tuned") is not None and sc.find_option("fine_tuned").setup_cost == 100_000  # defaults were waiting in the sheet


def test_read_rejects_foreign_files(tmp_path):
    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    with pytest.raises(WorkbookError, match="no defined name in_name"):
        read_workbook(plain)
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip")
    with pytest.raises(WorkbookError, match="expected a runrate scenario workbook"):
        read_workbook(junk)


def test_too_many_tiers_is_an_error(tmp_path):
    data = random_scenario(0)
    data["api"]["price_tiers"] = [{"above_input_tokens": 1000 * (i + 1), "input_price_per_1m": 1.0, "output_price_per_1m": 2.0}
                                  for i in range(L.MAX_TIERS + 1)]
    sc = scenario_from_dict(data)
    with pytest.raises(WorkbookError, match="api.price_tiers: got 6 tiers, expected at most 5"):
        generate_workbook(sc, tmp_path / "x.xlsx")


def test_a_column_and_names_per_option_id(evaluations):
    """Two API options give two API columns; every name is per option id; labels are live."""
    ev = evaluations["two-self-hosted"]
    t = template_for(ev.scenario)
    lay = t.layout
    assert [s.id for s in lay.slots] == ["gpt", "rent-simple", "rent-capacity", "gpt2"]
    assert [s.col for s in lay.slots] == ["C", "D", "E", "F"]
    for name in ("in_gpt_model", "in_gpt2_model", "in_rent_simple_infra_monthly", "in_rent_capacity_gpus_per_instance",
                 "in_gpt2_price_tiers_0_above_input_tokens", "in_rent_simple_hidden_review_share", "c_gpt2_total",
                 "c_rent_capacity_instances", "out_rent_capacity_npv", "out_be_gpt_vs_rent_capacity_tokens_per_day",
                 "out_be_rent_simple_vs_rent_capacity_method", "ser_gpt2_cumulative", "curve_rent_simple"):
        assert name in t.names, name
    pairs = [k for k in t.names if k.startswith("out_be_") and k.endswith("_tokens_per_day") and "_vs_" in k]
    assert len(pairs) == 6  # every pair of four options
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(ev)), data_only=True)
    assert [wb["Outputs"][f"{c}6"].value for c in "CDEF"] == ["API (gpt)", "Rented, simple", "Self-hosted (rent-capacity)", "API (gpt2)"]
    assert wb["Inputs"]["D" + str(lay.by_path["rent-simple.label"].row)].value == "Rented, simple"


def test_cover_recommendation_and_cheapest_come_from_the_presentation_layer(evaluations):
    from runrate_xl import presentation as P

    for sid in ("example-several-options", "preset-seed004-enterprise", "two-capacity"):
        ev = evaluations[sid]
        wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(ev)), data_only=True)
        cover = {wb["Cover"][f"B{r}"].value: wb["Cover"][f"C{r}"].value for r in range(9, 20)}
        assert cover["Recommended (engine, at generation)"] == P.label(ev, ev.recommendation.option)
        assert cover["Cheapest eligible over the horizon"] == P.label(ev, ev.recommendation.cheapest_allowed_option)
        save = P.savings_vs_today(ev)
        assert (P.label(ev, save.basis) in cover["Saving vs today's option"]) or save.basis == save.versus


@pytest.mark.parametrize("options,match", [
    ([{"id": f"m{i}", "kind": "api", "input_price_per_1m": 1.0, "output_price_per_1m": 2.0} for i in range(L.MAX_OPTIONS + 1)],
     rf"options: got {L.MAX_OPTIONS + 1} options .*expected at most {L.MAX_OPTIONS}"),
    ([{"id": "own-gpus", "kind": "api", "input_price_per_1m": 1.0, "output_price_per_1m": 2.0},
      {"id": "own_gpus", "kind": "api", "input_price_per_1m": 1.0, "output_price_per_1m": 2.0}],
     r"options: the ids 'own-gpus' and 'own_gpus' both name workbook cells own_gpus_\*; expected ids that differ"),
])
def test_options_the_layout_cannot_take_are_refused_clearly(tmp_path, options, match):
    sc = scenario_from_dict({"volume": {"tokens_per_day": 1e6}, "options": options})
    with pytest.raises(WorkbookError, match=match):
        generate_workbook(sc, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_a_cascade_whose_first_escalates_is_written_with_its_escalation_as_formulas(tmp_path):
    """A cascade's first option with on_failure: escalate (its failures answered by `then`, not by
    people) is written: the escalation share is left blank on Inputs (a Calculations formula on the
    first option's success rate and attempts gives it), and the scenario reads back as it was. The
    LibreOffice tests recalculate it to the engine's figures."""
    mini = {"id": "mini", "kind": "api", "input_price_per_1m": 1.0, "output_price_per_1m": 1.0,
            "hidden": {"cost_per_review": 5.0, "success_rate": 0.8, "on_failure": "escalate"}}
    frontier = {"id": "frontier", "kind": "api", "input_price_per_1m": 10.0, "output_price_per_1m": 10.0}
    cascade = scenario_from_dict({"volume": {"requests_per_month": 100_000, "tokens_per_request": 1000}, "options": [
        mini, frontier, {"id": "casc", "kind": "cascade", "first": "mini", "then": "frontier"}]})
    path = generate_workbook(cascade, tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(path)

    def cell(name):
        sheet, ref = next(iter(wb.defined_names[name].destinations))
        return wb[sheet][ref.replace("$", "")].value

    assert cell("in_casc_escalation_share") is None
    assert "c_casc_first_failed" in cell("c_casc_escalation") and "c_mini_failed" in cell("c_casc_first_failed")
    assert "c_casc_escalation" in cell("c_casc_sh_frontier")
    assert read_workbook(path) == cascade


def test_hostile_option_label_stays_text(tmp_path):
    data = dict(TWO_SELF_HOSTED)
    data["options"] = [dict(o) for o in data["options"]]
    data["options"][1]["label"] = '=HYPERLINK("http://x","y")'
    sc = scenario_from_dict(data)
    path = generate_workbook(sc, tmp_path / "x.xlsx")
    wb = openpyxl.load_workbook(path)
    sheet, ref = next(iter(wb.defined_names["in_rent_simple_label"].destinations))
    cell = wb[sheet][ref.replace("$", "")]
    assert cell.data_type == "s" and cell.value == data["options"][1]["label"]
    assert read_workbook(path).option("rent-simple").label == data["options"][1]["label"]


def test_a_users_first_version_template_still_serves_the_short_form(tmp_path, monkeypatch, evaluations):
    """RUNRATE_TEMPLATES with a branded copy of the first version's scenario.xlsx: short-form
    scenarios are filled into it (and read back); other option lists get a built workbook."""
    folder = tmp_path / "brand"
    folder.mkdir()
    (folder / "scenario.xlsx").write_bytes((FIXTURES / "legacy-v1-template.xlsx").read_bytes())
    monkeypatch.setenv("RUNRATE_TEMPLATES", str(folder))
    ev = evaluations["preset-seed004-startup"]
    path = generate_workbook(ev.scenario, tmp_path / "legacy.xlsx", evaluation=ev)
    wb = openpyxl.load_workbook(path)
    assert "k_option_kinds" not in wb.defined_names  # the user's (first version) template was used
    assert read_workbook(path) == ev.scenario
    ev = evaluations["example-several-options"]
    path = generate_workbook(ev.scenario, tmp_path / "several.xlsx", evaluation=ev)
    assert read_workbook(path) == ev.scenario


def test_a_tampered_option_list_is_refused(tmp_path, evaluations):
    ev = evaluations["example-several-options"]
    path = generate_workbook(ev.scenario, tmp_path / "x.xlsx", evaluation=ev)
    wb = openpyxl.load_workbook(path)
    wb["Lists"]["A5"].value = 'x" & HYPERLINK("http://evil")'
    wb.save(path)
    with pytest.raises(WorkbookError, match=r"expected lowercase letters, digits, '-' or '_'"):
        read_workbook(path)


def test_first_version_workbooks_still_read(tmp_path):
    """A workbook written by the three-column version (no option kinds, no label cells) reads back."""
    sc = read_workbook(FIXTURES / "legacy-v1-seed004-startup.xlsx")
    want = evaluate_scenario(preset_scenario("seed004-startup")).scenario
    # its GPU-hours cell holds the 730 h that version billed: kept as stated (GPU months are now
    # the token month, days x 24, unless stated), so the workbook's own figures do not move
    assert sc.option("self_hosted").hours_per_month == 730
    # and the price source as that version wrote it (the catalog now names the article, not "seed 003")
    assert sc.option("api").price_source == "seed 003 price table (API vs self-hosted cost analysis framework)"
    want = want.with_option(want.option("api").model_copy(update={"price_source": sc.option("api").price_source}))
    assert sc == want.with_option(want.option("self_hosted").model_copy(update={"hours_per_month": 730.0}))


def test_two_capacity_options_before_the_api_lay_out(evaluations):
    ev = evaluations["two-capacity"]
    lay = template_for(ev.scenario).layout
    assert lay.anchor.id == "mini" and [s.id for s in lay.primary_candidates()][:2] == ["h100", "a10"]
    assert V.output_values(ev)["out_be_pair"] == "Self-hosted (h100) vs API (mini)"
    assert TWO_CAPACITY["options"][0]["id"] == "h100"


def test_rollup_rows_totals_and_savings(tmp_path, evaluations):
    evs = [evaluations[s] for s in ("preset-seed004-enterprise", "preset-seed004-startup", "preset-seed000-1m-inferences")]
    path = write_rollup(evs, tmp_path / "r.xlsx")
    assert write_rollup(evs, tmp_path / "r2.xlsx").read_bytes() == path.read_bytes()
    ws = openpyxl.load_workbook(path, data_only=True)["Portfolio"]
    heads = [c.value for c in ws[4]][1:]
    col = {h: i + 2 for i, h in enumerate(heads)}
    for r, ev in enumerate(evs, start=6):
        cur = ev.scenario.context.current_option
        rec = ev.recommendation.cheapest_allowed_option if ev.recommendation.option == "hybrid" else ev.recommendation.option
        assert ws.cell(r, col["Business unit"]).value == ev.scenario.name
        assert ws.cell(r, col["Recommendation"]).value == ev.recommendation.label
        saving = ev.options[cur].total_monthly - ev.options[rec].total_monthly
        assert math.isclose(ws.cell(r, col["Savings vs today"]).value, saving, rel_tol=1e-12, abs_tol=1e-9)
        assert math.isclose(ws.cell(r, col["API"]).value, ev.options["api"].total_monthly, rel_tol=1e-12)
    total = ws.cell(9, col["Savings vs today"]).value
    assert ws.cell(9, 2).value == "Total"
    assert math.isclose(total, sum(ws.cell(r, col["Savings vs today"]).value for r in (6, 7, 8)), rel_tol=1e-12)
    assert ws["K6"].value is not None
    assert len([n for n in zipfile.ZipFile(path).namelist() if n.startswith("xl/charts/")]) == 1
    with pytest.raises(WorkbookError):
        write_rollup([], tmp_path / "none.xlsx")


def test_rollup_values_say_where_and_when_they_come_from(tmp_path, evaluations):
    evs = [evaluations[s] for s in ("preset-seed004-enterprise", "preset-seed004-startup")]
    files = ["enterprise/enterprise.xlsx", "startup/startup.xlsx"]
    path = write_rollup(evs, tmp_path / "r.xlsx", files, __import__("datetime").date(2026, 3, 1))
    ws = openpyxl.load_workbook(path)["Portfolio"]
    heads = [c.value for c in ws[4]]
    col = heads.index("Values from") + 1
    assert [ws.cell(r, col).value for r in (6, 7)] == files
    assert "values copied" in ws["B3"].value and "2026-03-01" in ws["B3"].value
    with pytest.raises(WorkbookError, match="one each"):
        write_rollup(evs, tmp_path / "x.xlsx", files[:1])


def test_cli_workbook_read_rollup(tmp_path):
    runner = CliRunner()
    out = tmp_path / "w.xlsx"
    res = runner.invoke(app, ["workbook", "--preset", "seed003-50m-80pct", "-o", str(out)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["read", str(out)])
    assert res.exit_code == 0, res.output
    assert scenario_from_dict(yaml.safe_load(res.stdout)) == evaluate_scenario(preset_scenario("seed003-50m-80pct")).scenario
    res = runner.invoke(app, ["read", str(out), "--format", "json"])
    assert res.exit_code == 0 and res.stdout.lstrip().startswith("{")
    res = runner.invoke(app, ["rollup", str(out), "--preset", "seed004-startup", "-o", str(tmp_path / "r.xlsx")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r.xlsx").exists()
    res = runner.invoke(app, ["workbook", "--preset", "seed004-startup", "-o", str(tmp_path / "w.csv")])
    assert res.exit_code == 2 and "--output" in res.output
    res = runner.invoke(app, ["read", str(tmp_path / "missing.xlsx")])
    assert res.exit_code == 2 and "missing.xlsx" in res.output


def test_one_loader_for_files_workbooks_and_presets(tmp_path):
    """api.load_scenarios reads YAML, an edited workbook and a preset alike; `runrate evaluate`
    takes a workbook through it."""
    from runrate_xl.api import dump_scenario, load_scenarios

    sc = evaluate_scenario(preset_scenario("seed003-50m-80pct")).scenario
    book = generate_workbook(sc, tmp_path / "w.xlsx")
    (tmp_path / "s.yaml").write_text(dump_scenario(sc))
    from_book, from_yaml, from_preset = load_scenarios([book, tmp_path / "s.yaml"], ["seed003-50m-80pct"])
    assert from_book == from_yaml == sc and from_preset == preset_scenario("seed003-50m-80pct")
    res = CliRunner().invoke(app, ["evaluate", str(book), "--json"])
    assert res.exit_code == 0, res.output
    assert res.stdout == CliRunner().invoke(app, ["evaluate", str(tmp_path / "s.yaml"), "--json"]).stdout


@pytest.mark.parametrize("name,value,field,expected", [
    ("in_own_gpus_utilization", 80, "own-gpus.utilization", "utilization > 0 and <= 1 (use 0.8)"),
    ("in_mini_cached_share", "lots", "mini.cached_share", "a number"),
    ("in_frontier_label", "x" * 41, "frontier.label", "at most 40 characters"),
])
def test_read_errors_name_the_option_by_id(tmp_path, evaluations, name, value, field, expected):
    ev = evaluations["example-several-options"]
    path = generate_workbook(ev.scenario, tmp_path / "x.xlsx", evaluation=ev)
    where = _edit(path, name, value)
    with pytest.raises(WorkbookError) as info:
        read_workbook(path)
    msg = str(info.value)
    assert where in msg and field in msg and expected in msg, msg


def test_the_units_own_texts_are_not_clipped_on_inputs():
    """The value column is as wide as the unit's name and owner e-mail, and the notes row as tall
    as its wrapped lines (an analyst reads them in the cells, not only in the formula bar)."""
    from runrate_xl.presets import preset_scenario

    email = "a.very-long-department-mailbox.name@subsidiary.example.com"  # 58 characters
    notes = "Why this unit uses AI and who reviews it. " * 12  # 504 characters
    sc = preset_scenario("seed004-startup").model_copy(update={"owner_email": email, "notes": notes})
    ws = openpyxl.load_workbook(io.BytesIO(workbook_bytes(evaluate_scenario(sc))))["Inputs"]
    cell = next(c for row in ws.iter_rows(max_row=20) for c in row if c.value == email)
    assert ws.column_dimensions[cell.column_letter].width >= len(email) + 2
    notes_cell = next(c for row in ws.iter_rows(max_row=20) for c in row if c.value == notes)
    assert notes_cell.alignment.wrap_text
    # 60 wide x 1.2 characters: 71 a line, 504 characters: 8 lines of 15 points
    assert ws.row_dimensions[notes_cell.row].height == 8 * 15
    plain = preset_scenario("seed004-startup").model_copy(update={"name": "Ops", "owner_email": None, "notes": ""})
    short = openpyxl.load_workbook(io.BytesIO(workbook_bytes(evaluate_scenario(plain))))["Inputs"]
    assert short.column_dimensions[cell.column_letter].width == 18  # the template's width when the texts fit


@pytest.mark.parametrize("name", ["seed003-50m-80pct", "seed004-startup", "capacity-growth", "buy-vs-rent-8xh100"])
def test_no_internal_seed_references_in_what_an_analyst_reads(name):
    """Help texts, validation prompts and the engine's words carry no "seed NNN" (issue #15 item 4):
    the source articles are named, or the aside that only cited one is left out."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(evaluate_scenario(preset_scenario(name)))))
    seen = []
    for ws in wb.worksheets:
        texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and not c.value.startswith("=")]
        texts += [t for dv in ws.data_validations.dataValidation for t in (dv.prompt, dv.error) if t]
        seen += [f"{ws.title}: {t}" for t in texts if re.search(r"\bseeds? \d{3}", t)]
    assert not seen, seen[:5]

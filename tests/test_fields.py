"""The field catalog: derived from the models, read by the Excel key/value ranges, batch
columns and workbook cells; one path getter/setter."""

from __future__ import annotations

import pytest

from runrate_xl import udfs
from runrate_xl.api import scenario_from_dict
from runrate_xl.excel_args import scenario_from_rows, scenario_rows
from runrate_xl.fields import field_at, get_path, id_keyed, kind_fields, legacy_fields, set_path

MULTI = {
    "volume": {"tokens_per_day": 60e6},
    "options": [
        {"id": "frontier", "kind": "api", "input_price_per_1m": 2.5, "output_price_per_1m": 10.0,
         "price_tiers": [{"above_input_tokens": 200000, "input_price_per_1m": 5.0, "output_price_per_1m": 15.0}]},
        {"id": "mini", "kind": "api", "input_price_per_1m": 0.15, "output_price_per_1m": 0.6, "cached_share": 0.3},
        {"id": "own-gpus", "kind": "self_hosted", "infra_monthly": 4140, "utilization": 0.8,
         "hidden": {"observability_monthly": 900}},
    ],
    "context": {"current_option": "mini"},
}


def test_bounds_types_and_units_come_from_the_models():
    f = field_at("volume.input_share")
    assert (f.type, f.low, f.high, f.default, f.unit) == ("fraction", 0.0, 1.0, 0.8, "fraction")
    u = field_at("self_hosted.utilization")
    assert (u.type, u.low, u.low_inclusive, u.high) == ("utilization", 0.0, False, 1.0)
    assert field_at("self_hosted.mode").choices == ("simple", "capacity")
    assert field_at("api.hidden.observability_monthly").unit == "USD per month"
    assert field_at("horizon.months").type == "integer" and field_at("horizon.months").high == 120
    assert field_at("mini.cached_share", {"mini": "api"}).section == "mini"
    assert field_at("mini.cached_share") is None  # an option id needs its kind
    assert field_at("volume.colour") is None


def test_every_kind_field_is_addressable_under_any_id():
    for kind in ("api", "fine_tuned", "self_hosted"):
        for f in kind_fields(kind):
            assert field_at(f"x.{f.path}", {"x": kind}).path == f"x.{f.path}"
    paths = [f.path for f in legacy_fields()]
    assert len(paths) == len(set(paths))
    assert "api.hidden.review_share" in paths and "self_hosted.hidden.review_share" in paths


def test_get_and_set_path():
    data: dict = {}
    set_path(data, "mini.hidden.review_share", 0.1)
    assert get_path(data, "mini.hidden.review_share") == 0.1 and get_path(data, "mini.model") is None
    with pytest.raises(ValueError, match="mini holds a mapping"):
        set_path({"mini": 3}, "mini.model", "x")


def test_a_multi_option_scenario_round_trips_through_an_excel_key_value_range():
    s = scenario_from_dict(MULTI)
    rows = scenario_rows(s)
    assert ["mini.kind", "api"] in rows and ["own-gpus.kind", "self_hosted"] in rows
    assert scenario_from_rows(rows) == s
    assert scenario_from_dict(id_keyed(s)) == s


def test_excel_functions_take_options_by_id():
    rows = [["volume.tokens_per_day", 60e6], ["frontier.kind", "api"], ["frontier.input_price_per_1m", 2.5],
            ["frontier.output_price_per_1m", 10], ["mini.kind", "api"], ["mini.input_price_per_1m", 0.15],
            ["mini.output_price_per_1m", 0.6]]
    assert udfs.RUNRATE_RECOMMEND(rows) == "API (mini)"
    # 60M x 30 = 1.8B tokens a month: 1,440M input x 0.15 + 360M output x 0.6 = 432 a month
    assert udfs.RUNRATE_TCO(rows, "mini") == pytest.approx(36 * 432.0, rel=1e-12)
    assert udfs.RUNRATE_TCO(rows, "API (frontier)") == pytest.approx(36 * (1440 * 2.5 + 360 * 10), rel=1e-12)
    undeclared = [["volume.tokens_per_day", 60e6], ["frontier.model", "gpt-4o"]]
    assert udfs.RUNRATE_RECOMMEND(undeclared) == (
        "#VALUE! scenario key: got 'frontier.model', expected a scenario field name "
        "(declare the option with a row frontier.kind (one of api, fine_tuned, self_hosted, on_prem, mix, cascade))")
    assert udfs.RUNRATE_RECOMMEND(rows[:1] + [["frontier.kind", "gpu"]]).startswith(
        "#VALUE! scenario frontier.kind: got 'gpu', expected an option kind")


def test_a_field_added_to_a_model_reaches_the_catalog_and_the_batch_columns(monkeypatch):
    from typing import Optional

    from pydantic import Field as PydanticField

    from runrate_xl import fields
    from runrate_xl.batch import columns
    from runrate_xl.engine.kinds import KINDS
    from runrate_xl.engine.kinds.self_hosted import SelfHostedOption

    class WithPower(SelfHostedOption):
        power_watts_per_gpu: Optional[float] = PydanticField(None, ge=0, le=2000, description="GPU power draw, W.")

    monkeypatch.setitem(KINDS, "self_hosted", KINDS["self_hosted"].__class__(**{**KINDS["self_hosted"].__dict__, "model": WithPower}))
    for cached in (fields.kind_fields, fields.legacy_fields):
        cached.cache_clear()
    try:
        added = fields.field_at("own.power_watts_per_gpu", {"own": "self_hosted"})
        assert (added.type, added.low, added.high, added.help) == ("number", 0.0, 2000.0, "GPU power draw, W.")
        derived = {c.name: c for c in columns._derived_columns(columns.NAMED_COLUMNS)}
        col = derived["selfhost_power_watts_per_gpu"]
        assert (col.path, col.section, col.kind) == ("self_hosted.power_watts_per_gpu", "Self-hosted", "number")
    finally:
        monkeypatch.undo()
        for cached in (fields.kind_fields, fields.legacy_fields):
            cached.cache_clear()


def test_runrate_schema_fields_lists_the_catalog():
    from typer.testing import CliRunner

    from runrate_xl.cli import app

    res = CliRunner().invoke(app, ["schema", "--fields"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == "path\ttype\texpected\tdefault\tunit\thelp"
    assert len(lines) == 1 + len(legacy_fields())
    assert "volume.input_share\tfraction\ta fraction between 0 and 1 (e.g. 0.8)\t0.8\tfraction\t" \
           "Share of tokens that are input (seed 003: 80%)." in lines

"""Batch input columns for options by id (<id>.kind, <id>.<field>), through a real batch run:
a unit whose options are frontier / mini / own-gpus gets its workbook, memo and summary row,
beside a unit in the legacy prefixed columns."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest

from runrate_xl.api import load_scenario
from runrate_xl.batch.columns import BY_NAME, column_of, columns_markdown, normalise_header
from runrate_xl.batch.inputs import read_input
from runrate_xl.batch.run import run_batch
from runrate_xl.workbook import read_workbook

from .workbook_scenarios import EXAMPLES

DAY = dt.date(2026, 11, 23)
HEADER = ["Name", "owner_email", "requests_per_month", "tokens_per_request", "input_share", "monthly_growth",
          "frontier.kind", "Frontier.Model", "mini.kind", "mini.model", "mini.cached_share", "mini.hidden.review_share",
          "mini.hidden.review_minutes", "mini.hidden.reviewer_hourly_rate", "Own-GPUs.Kind", "own-gpus.mode",
          "own-gpus.infra_monthly", "own-gpus.utilization", "own-gpus.fte", "own-gpus.setup_cost", "current_option",
          "outcomes_per_month", "outcome_name", "horizon_months", "api_price_decline_per_year", "discount_rate_per_year",
          "api_model", "selfhost_infra_monthly", "selfhost_utilization"]
SEVERAL = ["Support desk - frontier vs mini vs own GPUs", "support-lead@example.com", 600000, 3000, 0.85, 0.02,
           "api", "gpt-4o", "api", "gpt-4o-mini", 0.3, 0.05, 3, 40, "Self-hosted", "simple", 4140, 0.8, 0.5, 80000,
           "frontier", 400000, "resolved ticket", 36, 0.2, 0.08, None, None, None]
LEGACY = ["Legacy desk", "legacy@example.com", 600000, 3000, 0.85, 0.02] + [None] * 14 + [
    "API", None, None, 36, None, None, "gpt-4o-mini", 4140, "80%"]


def units_xlsx(tmp_path, rows, header=None):
    """A batch input workbook of ``rows`` under ``header`` (default: this module's HEADER)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header or HEADER)
    for row in rows:
        ws.append(row)
    path = tmp_path / "units.xlsx"
    wb.save(path)
    return path


def test_option_columns_are_derived_from_the_field_catalog():
    assert normalise_header("Own-GPUs.Infra monthly") == "own-gpus.infra_monthly"
    assert normalise_header("Self-host infra-monthly") == "self_host_infra_monthly"
    col = column_of("own-gpus.utilization")
    assert col is not None and col.kind == "fraction" and "utilization" in col.help.lower()
    assert column_of("mini.kind").choices == ("api", "fine_tuned", "self_hosted", "on_prem", "mix", "cascade")
    assert column_of("mini.hidden.review_share").bounds == (0.0, 1.0)
    for name in ("mini.no_such_field", "volume.kind", "api.model", "Bad Id.model", "mini.price_tiers"):
        assert column_of(name) is None, name
    assert "api_model" in BY_NAME and "selfhost_infra_monthly" in BY_NAME  # the legacy columns stay
    assert "`<id>.kind`" in columns_markdown() and "`<id>.<field>`" in columns_markdown()


def test_a_row_with_options_by_id_reads_as_the_example_scenario(tmp_path):
    batch = read_input(units_xlsx(tmp_path, [SEVERAL, LEGACY]))
    several, legacy = batch.rows
    assert several.ok, several.error_text()
    expected = load_scenario(EXAMPLES / "several-options.yaml")
    assert several.scenario == expected.model_copy(update={"notes": ""})  # every other field from the row
    assert legacy.ok and legacy.scenario.option_ids() == ["api", "self_hosted"]


def test_an_option_column_without_its_kind_is_named(tmp_path):
    row = list(SEVERAL)
    row[HEADER.index("mini.kind")] = None
    (unit,) = read_input(units_xlsx(tmp_path, [row])).rows
    assert not unit.ok
    assert any(p.column == "mini.kind" and "kind of option mini" in p.expected for p in unit.problems), unit.error_text()


@pytest.mark.slow
def test_batch_writes_workbook_memo_and_summary_for_options_by_id(tmp_path):
    result = run_batch(units_xlsx(tmp_path, [SEVERAL, LEGACY]), tmp_path / "out", jobs=1, as_of=DAY)
    assert [u.status for u in result.units] == ["ok", "ok"], [u.error for u in result.units]
    unit = result.units[0]
    folder = tmp_path / "out" / unit.folder
    assert (folder / f"{unit.folder}.pdf").stat().st_size > 10_000
    book = folder / f"{unit.folder}.xlsx"
    assert read_workbook(book) == unit.evaluation.scenario
    ws = openpyxl.load_workbook(book, data_only=True)["Outputs"]
    assert [ws[f"{c}6"].value for c in "CDE"] == ["API (frontier)", "API (mini)", "Self-hosted (own-gpus)"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    row = summary["units"][0]
    assert row["status"] == "ok"
    assert set(row["monthly_cost_usd"]) == {"frontier", "mini", "own-gpus"}
    assert row["monthly_cost_usd"]["own-gpus"] == unit.evaluation.options["own-gpus"].total_monthly
    roll = openpyxl.load_workbook(tmp_path / "out" / "portfolio.xlsx", data_only=True)["Portfolio"]
    heads = [c.value for c in roll[4]]
    assert "API (frontier)" in heads and "Self-hosted (own-gpus)" in heads


def test_a_row_defines_a_mix_share_by_share_and_a_cascade(tmp_path):
    header = ["Name", "tokens_per_day", "frontier.kind", "frontier.model", "mini.kind", "mini.model",
              "blend.kind", "blend.route.frontier", "blend.route.mini", "esc.kind", "esc.first", "esc.then",
              "esc.escalation_share"]
    row = ["Support", 10e6, "api", "gpt-4o", "api", "gpt-4o-mini", "mix", 0.2, 0.8, "cascade", "mini", "frontier", 0.15]
    (unit,) = read_input(units_xlsx(tmp_path, [row], header)).rows
    assert unit.ok, unit.error_text()
    assert unit.scenario.option("blend").route == {"frontier": 0.2, "mini": 0.8}
    esc = unit.scenario.option("esc")
    assert (esc.first, esc.then, esc.escalation_share) == ("mini", "frontier", 0.15)
    col = column_of("blend.route.frontier")
    assert col.kind == "fraction" and "traffic the mix sends to option frontier" in col.help
    assert "`<id>.route.<option id>`" in columns_markdown()
    # a share out of range names the route and the share
    wb = openpyxl.Workbook()
    wb.active.append(header)
    wb.active.append(row[:7] + [1.2, -0.2] + row[9:])
    wb.save(tmp_path / "bad.xlsx")
    (bad,) = read_input(tmp_path / "bad.xlsx").rows
    assert not bad.ok and any(p.column.startswith("blend.route") and "frontier has 1.2" in p.expected for p in bad.problems), bad.error_text()


@pytest.mark.slow
def test_a_unit_with_a_mix_gets_workbook_memo_summary_and_roll_up_at_the_mix_cost(tmp_path):
    header = ["Name", "tokens_per_day", "frontier.kind", "frontier.input_price_per_1m", "frontier.output_price_per_1m",
              "mini.kind", "mini.input_price_per_1m", "mini.output_price_per_1m", "blend.kind", "blend.route.frontier",
              "blend.route.mini", "blend.quality_min_share", "blend.quality_option"]
    # 10M tokens/day = 300M a month, 80% input: frontier 240 x 2.5 + 60 x 10 = $1,200; mini 240 x 0.15 + 60 x 0.6 = $72;
    # the blend (20% frontier, needed for quality): 0.2 x 1,200 + 0.8 x 72 = $297.60, recommended (mini alone breaks the 20%)
    row = ["Support", 10e6, "api", 2.5, 10, "api", 0.15, 0.6, "mix", 0.2, 0.8, 0.2, "frontier"]
    wb = openpyxl.Workbook()
    wb.active.append(header)
    wb.active.append(row)
    wb.save(tmp_path / "units.xlsx")
    result = run_batch(tmp_path / "units.xlsx", tmp_path / "out", jobs=1, as_of=DAY)
    (unit,) = result.units
    assert unit.status == "ok" and not unit.error
    assert any(f.endswith(".xlsx") for f in unit.files) and any(f.endswith(".pdf") for f in unit.files)
    book = openpyxl.load_workbook(tmp_path / "out" / "Support" / "Support.xlsx", data_only=True)
    sheet, ref = next(iter(book.defined_names["out_blend_total_monthly"].destinations))
    assert book[sheet][ref.replace("$", "")].value == pytest.approx(297.6, rel=1e-12)  # the mix's live column, engine-cached
    assert unit.evaluation.recommendation.option == "blend"
    roll = openpyxl.load_workbook(tmp_path / "out" / "portfolio.xlsx", data_only=True)["Portfolio"]
    heads = [c.value for c in roll[4]]
    values = [c.value for c in roll[6]]
    assert values[heads.index("Cost recommended")] == pytest.approx(297.6, rel=1e-12)
    assert values[heads.index("Recommendation")] == "Mix (blend)"

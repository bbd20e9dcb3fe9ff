"""Batch orchestration, stage by stage: atomic staging, stale-temp clean-up, the as-of date,
--strict, usage errors, failures reported per BU, the summary. Renderers are not needed here
(where a stage needs one, its module is blocked to prove the BU fails loudly)."""

import csv
import datetime as dt
import os
import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from runrate_xl.batch.inputs import read_input
from runrate_xl.batch.model import UnitJob, UsageError
from runrate_xl.batch.records import summary_rows, write_summary
from runrate_xl.batch.run import remove_stale_staging, resolve_as_of, run_batch
from runrate_xl.batch.unit import process_unit, staged

GOOD = {
    "name": "Support", "owner_email": "a@example.com", "tokens_per_day": 50_000_000,
    "api_input_price_per_1m": 0.15, "api_output_price_per_1m": 0.6,
    "selfhost_infra_monthly": 4140, "selfhost_utilization": 0.8, "selfhost_fte": 0,
}
DAY = dt.date(2025, 6, 1)


def units_file(tmp_path: Path, rows) -> Path:
    path = tmp_path / "units.yaml"
    path.write_text(yaml.safe_dump({"business_units": rows}, sort_keys=False))
    return path


@pytest.fixture
def no_renderers(monkeypatch):
    """Make the downstream modules unimportable, as on an installation that lacks them."""
    for name in ("runrate_xl.workbook", "runrate_xl.report", "runrate_xl.mail"):
        monkeypatch.setitem(sys.modules, name, None)


def test_staged_write_renames_into_place_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "bu" / "bu.xlsx"
    with staged(target) as tmp:
        assert tmp.name == "bu.xlsx" and tmp.parent.name.endswith(".tmp")
        tmp.write_bytes(b"complete")
    assert target.read_bytes() == b"complete"
    with pytest.raises(RuntimeError):
        with staged(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("crash mid-way")
    assert target.read_bytes() == b"complete"  # the old file survives a failed rewrite
    assert sorted(p.name for p in target.parent.iterdir()) == ["bu.xlsx"]


def test_a_stage_that_writes_nothing_fails(tmp_path):
    with pytest.raises(RuntimeError, match="was not written"):
        with staged(tmp_path / "x.xlsx"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_stale_staging_from_a_killed_run_is_removed(tmp_path):
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / "A").mkdir()
    leftovers = [tmp_path / f".runrate-tmp-{dead.pid}-abc-summary.csv.tmp", tmp_path / "A" / f".runrate-tmp-{dead.pid}-x1-A.pdf.tmp"]
    leftovers[0].write_text("partial")
    leftovers[1].mkdir()
    (leftovers[1] / "A.pdf").write_text("partial")
    keep = [tmp_path / "A" / "A.pdf", tmp_path / ".my-backup.tmp", tmp_path / "A" / ".A.pdf.x1.tmp",
            tmp_path / f".runrate-tmp-{os.getpid()}-live-x.tmp"]  # a user's files, and a live run's
    for k in keep:
        k.write_text("keep")
    removed = remove_stale_staging(tmp_path, ["A", "missing"])
    assert sorted(removed) == sorted(leftovers)
    assert all(k.exists() for k in keep) and not any(p.exists() for p in leftovers)


def test_as_of_explicit_then_source_date_epoch_then_today(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1717200000")  # 2024-06-01 UTC
    assert resolve_as_of(DAY) == DAY
    assert resolve_as_of(None) == dt.date(2024, 6, 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        resolve_as_of(None)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert resolve_as_of(None) == dt.date.today()


def test_missing_deliverable_modules_fail_the_unit_loudly(tmp_path, no_renderers):
    (row,) = read_input(units_file(tmp_path, [GOOD])).rows
    res = process_unit(UnitJob(1, row.name, "Support", row.scenario, str(tmp_path), DAY, "drafts", "me@example.com"))
    assert res.status == "failed"
    for stage in ("workbook: runrate_xl.workbook", "memo: runrate_xl.report", "email: not written because the memo failed"):
        assert stage in res.error
    assert res.files == ["Support/scenario.yaml"]  # the stages that could run did
    assert res.evaluation is not None
    resolved = yaml.safe_load((tmp_path / "Support" / "scenario.yaml").read_text())
    assert resolved["options"][0]["id"] == "api" and resolved["options"][0]["input_price_per_1m"] == 0.15


def test_strict_writes_nothing_when_a_row_is_bad(tmp_path):
    src = units_file(tmp_path, [GOOD, {**GOOD, "name": "Bad", "input_share": 3}])
    out = tmp_path / "out"
    result = run_batch(src, out, strict=True, as_of=DAY)
    assert result.strict_rejected and result.exit_code == 1
    assert [u.status for u in result.units] == ["skipped", "invalid"]
    assert "input_share" in result.units[1].error
    assert not out.exists()


def test_invalid_rows_are_skipped_and_reported_without_stopping_others(tmp_path, no_renderers):
    src = units_file(tmp_path, [GOOD, {**GOOD, "name": "Bad", "input_share": 3, "selfhost_fte": -1}])
    result = run_batch(src, tmp_path / "out", jobs=1, as_of=DAY)
    good, bad = result.units
    assert bad.status == "invalid" and len(bad.problems) == 2
    assert good.evaluation is not None and (tmp_path / "out" / "Support" / "scenario.yaml").exists()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [u["status"] for u in summary["units"]] == ["failed", "invalid"]
    assert summary["units"][1]["problems"][0].startswith("entry 2, column input_share")
    log = (tmp_path / "out" / "run.log").read_text()
    assert "problem: entry 2, column selfhost_fte" in log and "Traceback" in log


@pytest.mark.parametrize("kwargs, message", [
    ({"mail": "fax"}, "--mail"),
    ({"jobs": 0}, "--jobs"),
    ({"only": ["Nobody"]}, "--only: no business unit named 'Nobody'"),
])
def test_usage_errors_write_nothing(tmp_path, kwargs, message):
    src = units_file(tmp_path, [GOOD])
    with pytest.raises(UsageError, match=message):
        run_batch(src, tmp_path / "out", as_of=DAY, **kwargs)
    assert not (tmp_path / "out").exists()


def test_only_selects_by_name_or_folder_and_keeps_folder_names(tmp_path, no_renderers):
    src = units_file(tmp_path, [GOOD, GOOD, {**GOOD, "name": "Other"}])
    result = run_batch(src, tmp_path / "out", jobs=1, only=["support-2"], as_of=DAY)
    assert [(u.name, u.folder) for u in result.units] == [("Support", "Support-2")]
    result = run_batch(src, tmp_path / "out", jobs=1, only=["OTHER"], as_of=DAY)
    assert [u.folder for u in result.units] == ["Other"]


def test_summary_has_engine_figures_unrounded(tmp_path, no_renderers):
    src = units_file(tmp_path, [GOOD])
    result = run_batch(src, tmp_path / "out", jobs=1, as_of=DAY)
    ev = result.units[0].evaluation
    (row,) = summary_rows(result)
    assert row["api_monthly_usd"] == ev.options["api"].total_monthly
    assert row["self_hosted_tco_usd"] == ev.tco["self_hosted"].total
    assert row["breakeven_tokens_per_day"] == ev.breakeven.tokens_per_day
    with open(tmp_path / "out" / "summary.csv", newline="") as fh:
        (csv_row,) = list(csv.DictReader(fh))
    assert float(csv_row["api_monthly_usd"]) == ev.options["api"].total_monthly  # repr round-trips exactly
    data = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert data["units"][0]["monthly_cost_usd"]["self_hosted"] == ev.options["self_hosted"].total_monthly
    assert data["as_of"] == "2025-06-01"
    before = (tmp_path / "out" / "summary.json").read_bytes()
    write_summary(result)
    assert (tmp_path / "out" / "summary.json").read_bytes() == before


def test_progress_bar_only_when_asked_or_on_a_terminal():
    from rich.console import Console

    from runrate_xl.batch.model import UnitResult
    from runrate_xl.batch.pool import ProgressHooks, _progress_display

    plain = Console(file=io.StringIO(), force_terminal=False)
    assert type(_progress_display(3, None, plain)) is ProgressHooks
    tty = Console(file=io.StringIO(), force_terminal=True, width=100)
    hooks = _progress_display(2, None, tty)
    hooks.start()
    hooks.advance(UnitResult(1, "A", "A", "ok"))
    hooks.advance(UnitResult(2, "B", "B", "failed"))
    hooks.stop()
    text = tty.file.getvalue()
    assert "2/2" in text and "ETA" in text


def test_parallel_and_serial_runs_agree(tmp_path, no_renderers):
    rows = [{**GOOD, "name": f"BU {i}", "tokens_per_day": 1e7 * (i + 1)} for i in range(4)]
    src = units_file(tmp_path, rows)
    one = run_batch(src, tmp_path / "a", jobs=1, as_of=DAY)
    two = run_batch(src, tmp_path / "b", jobs=2, as_of=DAY)
    assert two.jobs == 2
    assert summary_rows(one) == summary_rows(two)
    assert (tmp_path / "a" / "summary.csv").read_bytes() == (tmp_path / "b" / "summary.csv").read_bytes()

"""Hostile input and faults (issue 16): each case asserts the exact outcome - a clear error
naming the input, no traceback, no active content, the other BUs complete, nothing lost.

Sinks (one escaping rule each, runrate_xl/sinks.py): summary.csv, the terminal, chart labels,
workbook XML, e-mail headers. Run through the real CLI, LibreOffice, WeasyPrint and e-mail
parser where they are installed.
"""

from __future__ import annotations

import csv
import email
import io
import json
import zipfile
from email import policy
from pathlib import Path

import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from runrate_xl.cli import app
from runrate_xl.sinks import chart_label, csv_cell, header_text, short_value, terminal_text

from .libreoffice import soffice

AS_OF = "2025-06-01"
runner = CliRunner()

GOOD = {
    "name": "Support", "owner_email": "a@example.com", "tokens_per_day": 50_000_000,
    "api_input_price_per_1m": 0.15, "api_output_price_per_1m": 0.6,
    "selfhost_infra_monthly": 4140, "selfhost_utilization": 0.8, "selfhost_fte": 0,
}

FORMULA_NAMES = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]
MARKUP_NAMES = ["[/]", "[bold]x", ":x:"]
OTHER_NAMES = ["$\\frac{$", "Finance\\fleet", "R&D\\Ops", "Evil\u202eFDP.exe"]
HOSTILE = FORMULA_NAMES + MARKUP_NAMES + OTHER_NAMES


def write_units(tmp_path: Path, rows, name="units.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"business_units": rows}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One batch over every hostile name (plus a normal one), drafts on, into a folder whose
    name is Rich markup."""
    tmp = tmp_path_factory.mktemp("hostile")
    src = write_units(tmp, [GOOD] + [{**GOOD, "name": n} for n in HOSTILE])
    out = tmp / "reports [final]"
    result = runner.invoke(app, ["batch", str(src), "--out", str(out), "--mail", "drafts", "--jobs", "2", "--as-of", AS_OF])
    return result, out


# --- the sink rules themselves ------------------------------------------------------------


@pytest.mark.parametrize("text", FORMULA_NAMES + ["\t=1", "\r=1", " =1", "\uff1d1+1"])
def test_csv_cell_makes_formula_text_inert(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Support", "a-b", "R&D", 3.5, -2.0, None, ""])
def test_csv_cell_leaves_plain_values(value):
    assert csv_cell(value) == value


def test_terminal_text_escapes_markup_and_shows_controls():
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200, color_system=None, emoji=False)
    for raw, shown in [("[/]", "[/]"), ("[bold]x", "[bold]x"), ("\x1b[31mred", "\\x1b[31mred"), ("a\\[b]", "a\\[b]")]:
        console.file = io.StringIO()
        console.print(terminal_text(raw))
        assert console.file.getvalue() == shown + "\n"
    assert terminal_text("a\u202eb", markup=False) == "a\\u202eb"


def test_header_and_chart_text_drop_bidi_controls():
    assert header_text("Evil\u202eFDP\u2066.exe\u200b") == "EvilFDP.exe"
    assert chart_label("x\u202ey" + "z" * 50, 10) == "xyzzzzzzz\u2026"


def test_short_value_never_builds_a_huge_repr():
    node = ["x" * 10]
    for _ in range(30):  # 2**30 leaves if expanded
        node = [node, node]
    assert len(short_value(node)) < 100
    assert "digits" in short_value(10 ** 400)
    assert len(short_value("y" * 10 ** 6)) < 120


# --- through the batch -----------------------------------------------------------------------


def test_hostile_names_batch_completes_every_unit(hostile_run):
    result, out = hostile_run
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [u["name"] for u in summary["units"]] == [GOOD["name"]] + HOSTILE
    assert [u["status"] for u in summary["units"]] == ["ok"] * (len(HOSTILE) + 1)
    assert summary["portfolio"]["errors"] == {}
    assert {"portfolio.pdf", "portfolio.xlsx"} <= set(summary["portfolio"]["files"])


def test_summary_csv_cells_are_inert(hostile_run):
    _, out = hostile_run
    rows = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text(encoding="utf-8"))))
    names = {r["name"] for r in rows}
    for n in FORMULA_NAMES:
        assert "'" + n in names and n not in names
    for r in rows:
        for key, cell in r.items():
            assert cell[:1] not in ("=", "+", "@") and not (cell.startswith("-") and key in ("name", "folder", "error"))


@pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed")
def test_summary_csv_opened_by_libreoffice_has_no_formula(hostile_run, tmp_path):
    from .libreoffice import convert

    _, out = hostile_run
    src = tmp_path / "summary.csv"
    src.write_bytes((out / "summary.csv").read_bytes())
    converted, = convert([src], tmp_path / "lo", to="xlsx")
    wb = openpyxl.load_workbook(converted)
    ws = wb.worksheets[0]
    formulas = [c.coordinate for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert formulas == []
    names = [ws.cell(r, 2).value for r in range(2, ws.max_row + 1)]
    for n in FORMULA_NAMES:
        assert any(isinstance(v, str) and n in v for v in names), (n, names)


def test_terminal_shows_names_and_paths_literally(hostile_run):
    result, out = hostile_run
    text = " ".join(result.output.split())  # the table may fold long cells
    for n in ["[/]", "[bold]x", ":x:"]:
        assert n in result.output, n
    assert "\u274c" not in result.output  # :x: was not turned into an emoji
    assert f"Outputs in {out}/" in text
    assert str(out / "portfolio.pdf") in text


def test_ansi_escape_in_a_scenario_name_is_shown_not_executed(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "\x1b[31mred [bold]x :x:", "volume": {"tokens_per_day": 1_000_000},
                                    "api": {"model": "gpt-4o-mini"}}), encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(path), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "\\x1b[31mred [bold]x :x:" in result.output


def test_workbook_title_is_the_name_verbatim(hostile_run):
    _, out = hostile_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for unit in summary["units"]:
        path = out / unit["folder"] / f"{unit['folder']}.xlsx"
        wb = openpyxl.load_workbook(path)
        assert wb.properties.title == unit["name"][:120]
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                z.read(info)  # every entry intact


def test_mail_headers_carry_no_bidi_controls(hostile_run):
    _, out = hostile_run
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    unit = next(u for u in summary["units"] if "\u202e" in u["name"])
    raw = (out / unit["folder"] / f"{unit['folder']}.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert "\u202e" not in str(msg["Subject"]) and "EvilFDP.exe" in str(msg["Subject"])
    assert all("\u202e" not in str(v) for v in msg.values())


def test_mathtext_name_renders_literally_in_the_portfolio_memo(hostile_run):
    from pypdf import PdfReader

    _, out = hostile_run
    text = " ".join(p.extract_text() for p in PdfReader(out / "portfolio.pdf").pages)
    assert "frac" in text

"""Packaging: the templates are package data, a user template folder overrides file by file,
the package list in pyproject.toml is complete, and no code reads files beside the source."""

import re

from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

import runrate_xl
from runrate_xl.cli import app
from runrate_xl.presets import preset_scenario
from runrate_xl.templates import ENV, KNOWN_FILES, REPORT_FILES, WORKBOOK_FILE

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
ROOT = Path(__file__).resolve().parent.parent  # tests may use the checkout; the package may not
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
runner = CliRunner()


def test_every_package_folder_is_listed_in_pyproject():
    """A sub-package missing from [tool.setuptools] packages would be left out of the wheel."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "runrate_xl").rglob("__init__.py")}
    mapped = set(PYPROJECT["tool"]["setuptools"]["package-dir"])
    assert mapped == {"runrate_xl.report_templates", "runrate_xl.workbook_templates"}
    assert listed == on_disk | mapped


def test_template_folders_are_the_single_source_of_the_package_data():
    """The top-level folders are what the build maps into the package: no second copy exists."""
    assert sorted(p.name for p in (ROOT / "report_templates").iterdir() if p.name != "__init__.py" and p.is_file()) == sorted(REPORT_FILES)
    assert sorted(p.name for p in (ROOT / "workbook_templates").iterdir() if p.name != "__init__.py" and p.is_file()) == [WORKBOOK_FILE]
    copies = [p for p in (ROOT / "runrate_xl").rglob("*") if p.name in KNOWN_FILES]
    assert copies == []
    shipped = resources.files("runrate_xl.report_templates")
    for name in REPORT_FILES:
        assert shipped.joinpath(name).read_bytes() == (ROOT / "report_templates" / name).read_bytes()


def test_no_code_looks_for_files_beside_the_source_tree():
    offenders = []
    for path in Path(runrate_xl.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"parents\[\d\]|parent\.parent|__file__\)\.(resolve|parent)", text):
            offenders.append(str(path))
    assert offenders == []


def test_user_folder_overrides_one_file_and_the_rest_falls_back(tmp_path, monkeypatch):
    from runrate_xl.api import evaluate_scenario
    from runrate_xl.report.render import memo_html, stylesheet_text

    ev = evaluate_scenario(preset_scenario("seed003-50m-80pct"))
    shipped_css = stylesheet_text()
    shipped_html = memo_html(ev)
    (tmp_path / "memo.css").write_text("body { color: #123456; }\n")
    (tmp_path / "_macros.html").write_text((ROOT / "report_templates" / "_macros.html").read_text()
                                          .replace("{%- endmacro %}", "<!-- branded -->{%- endmacro %}", 1))
    monkeypatch.setenv(ENV, str(tmp_path))
    assert stylesheet_text() == "body { color: #123456; }\n" != shipped_css
    html = memo_html(ev)  # memo.html and _base.html are the shipped ones
    assert "<!-- branded -->" in html and "<!-- branded -->" not in shipped_html
    assert html.split("<section")[0] == shipped_html.split("<section")[0]  # the shipped memo.html/_base.html
    monkeypatch.delenv(ENV)
    assert stylesheet_text() == shipped_css


def test_user_workbook_template_is_used(tmp_path, monkeypatch):
    from runrate_xl.workbook.generate import template_path

    assert Path(str(template_path())).name == WORKBOOK_FILE
    (tmp_path / WORKBOOK_FILE).write_bytes(resources.files("runrate_xl.workbook_templates").joinpath(WORKBOOK_FILE).read_bytes())
    monkeypatch.setenv(ENV, str(tmp_path))
    assert template_path() == tmp_path / WORKBOOK_FILE
    out = tmp_path / "w.xlsx"
    r = runner.invoke(app, ["workbook", "--preset", "capacity-growth", "-o", str(out), "--templates", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert out.is_file()


@pytest.mark.parametrize("command", [["memo", "--preset", "seed003-50m-80pct"], ["workbook", "--preset", "seed003-50m-80pct", "-o", "w.xlsx"],
                                     ["batch", "units.csv", "--out", "o"]])
def test_templates_option_refuses_a_folder_without_templates(tmp_path, monkeypatch, command):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, [*command, "--templates", "empty"])
    assert r.exit_code == 2
    assert "--templates" in r.output and "expected a folder holding at least one of the template files" in " ".join(r.output.split())
    assert "Traceback" not in r.output


def test_templates_option_rebrands_a_memo(tmp_path, monkeypatch):
    from pypdf import PdfReader

    monkeypatch.delenv(ENV, raising=False)
    (tmp_path / "brand").mkdir()
    (tmp_path / "brand" / "memo.css").write_text(
        (ROOT / "report_templates" / "memo.css").read_text() + "\nh1::before { content: 'ACME CORP '; }\n")
    plain, branded = tmp_path / "plain.pdf", tmp_path / "branded.pdf"
    assert runner.invoke(app, ["memo", "--preset", "seed003-50m-80pct", "-o", str(plain), "--date", "2026-01-02"]).exit_code == 0
    r = runner.invoke(app, ["memo", "--preset", "seed003-50m-80pct", "-o", str(branded), "--date", "2026-01-02",
                            "--templates", str(tmp_path / "brand")])
    assert r.exit_code == 0, r.output
    assert "ACME CORP" in PdfReader(branded).pages[0].extract_text()
    assert "ACME CORP" not in PdfReader(plain).pages[0].extract_text()

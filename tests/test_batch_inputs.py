"""Batch input: the column table, reading xlsx/csv/yaml rows, row-level validation, the
template, and the untrusted-file defences. No downstream renderer is needed here."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from runrate_xl.api import evaluate_scenario, scenario_from_dict
from runrate_xl.batch.columns import BY_NAME, COLUMNS, columns_for, describe_kind
from runrate_xl.batch.inputs import MAX_ROWS, InputFileError, read_input
from runrate_xl.batch.template import write_input_csv, write_input_workbook
from runrate_xl.engine.scenario import Scenario

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

GOOD = {
    "name": "Support", "owner_email": "a@example.com", "tokens_per_day": 50_000_000,
    "api_input_price_per_1m": 0.15, "api_output_price_per_1m": 0.6,
    "selfhost_infra_monthly": 4140, "selfhost_utilization": 0.8, "selfhost_fte": 0,
}


def write_yaml(path: Path, rows) -> Path:
    path.write_text(yaml.safe_dump({"business_units": rows}, sort_keys=False))
    return path


# --- The column table ------------------------------------------------------------------------


def test_every_column_maps_to_a_real_scenario_field_with_help():
    for col in COLUMNS:
        assert col.help, col.name
        assert describe_kind(col)
        if col.path:
            # columns_for is the inverse used to translate validation errors back to columns
            assert col.name in columns_for(col.path.replace("*.", "api.hidden.")), col.name
    assert len({c.name for c in COLUMNS}) == len(COLUMNS)


def test_column_map_builds_the_same_scenario_as_the_nested_yaml():
    """The flat customer-support row equals the hand-written nested scenario it mirrors."""
    rows = read_input(EXAMPLES / "business_units.yaml").rows
    support = next(r for r in rows if r.name == "Customer support")
    nested = yaml.safe_load((EXAMPLES / "customer-support.yaml").read_text())
    # the flat row gives a per-review cost instead of minutes x rate and one shared hidden block
    for option in ("api", "fine_tuned", "self_hosted"):
        assert support.scenario.find_option(option) is not None
    assert support.scenario.volume == scenario_from_dict(nested).volume
    assert support.scenario.find_option("self_hosted").hidden.observability_monthly == 2500  # the override column wins
    assert support.scenario.option("api").hidden.observability_monthly == 1500


# --- The examples --------------------------------------------------------------------------


def test_examples_hold_the_same_units_in_every_format():
    parsed = {k: read_input(EXAMPLES / f"business_units.{k}", require_email=True) for k in ("yaml", "xlsx", "csv")}
    names = [r.name for r in parsed["yaml"].rows]
    assert len(names) >= 8 and len(set(names)) == len(names)
    for kind, batch in parsed.items():
        assert all(r.ok for r in batch.rows), (kind, batch.problems)
        assert [r.scenario for r in batch.rows] == [r.scenario for r in parsed["yaml"].rows], kind
    for row in parsed["yaml"].rows:
        assert row.scenario.owner_email.endswith("@example.com")
    recs = {evaluate_scenario(r.scenario).recommendation.option for r in parsed["yaml"].rows}
    assert len(recs) >= 3, recs  # the examples show more than one answer


def test_scenario_file_row_overrides_the_file(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({
        "name": "From file", "volume": {"tokens_per_day": 1e6},
        "api": {"input_price_per_1m": 1, "output_price_per_1m": 2, "hidden": {"observability_monthly": 10}},
    }))
    src = write_yaml(tmp_path / "in.yaml", [
        {"scenario_file": "base.yaml"},
        {"scenario_file": "base.yaml", "name": "Row name", "tokens_per_day": 2e6, "observability_monthly": 99},
    ])
    a, b = read_input(src).rows
    assert a.ok and a.name == "From file" and a.scenario.volume.tokens_per_day == 1e6
    assert b.ok and b.name == "Row name" and b.scenario.volume.tokens_per_day == 2e6
    assert b.scenario.option("api").hidden.observability_monthly == 99
    assert b.scenario.option("api").input_price_per_1m == 1


@pytest.mark.parametrize("path", ["../outside.yaml", "/etc/passwd", "sub/../../outside.yaml", "C:\\x.yaml", "missing.yaml"])
def test_scenario_file_must_stay_inside_the_input_folder(tmp_path, path):
    inner = tmp_path / "in"
    inner.mkdir()
    (tmp_path / "outside.yaml").write_text(yaml.safe_dump({"name": "x", "volume": {"tokens_per_day": 1}, "api": {"model": "gpt-4o-mini"}}))
    src = write_yaml(inner / "units.yaml", [{"name": "BU", "scenario_file": path}])
    (row,) = read_input(src).rows
    assert not row.ok
    assert [p.column for p in row.problems] == ["scenario_file"]
    assert row.problems[0].value == path


# --- Row validation: every problem at once ------------------------------------------------


def test_every_error_of_a_row_is_reported_at_once_with_row_column_value_expected(tmp_path):
    bad = {**GOOD, "name": "Bad", "input_share": "eighty", "selfhost_utilization": 80, "data_privacy": "secret",
           "horizon_months": 0, "owner_email": "not-an-email", "monthly_growth": "3 %%"}
    src = tmp_path / "units.xlsx"
    write_input_workbook(src, [GOOD, bad, {**GOOD, "name": "Also good"}])
    rows = read_input(src).rows
    assert [r.ok for r in rows] == [True, False, True]
    problems = {p.column: p for p in rows[1].problems}
    assert set(problems) == {"input_share", "selfhost_utilization", "data_privacy", "horizon_months", "owner_email", "monthly_growth"}
    assert all(p.where == "row 3" for p in problems.values())
    assert problems["input_share"].value == "eighty" and "fraction" in problems["input_share"].expected
    assert problems["selfhost_utilization"].value == 80 and "use 0.8" in problems["selfhost_utilization"].expected
    assert "moderate" in problems["data_privacy"].expected
    text = str(problems["horizon_months"])
    assert text.startswith("row 3, column horizon_months: got 0, expected") and "greater than or equal to 1" in text


def test_group_level_errors_name_the_columns(tmp_path):
    src = write_yaml(tmp_path / "u.yaml", [
        {"name": "No volume", "api_model": "gpt-4o-mini"},
        {"name": "No prices", "tokens_per_day": 5},
        {"name": "Review without cost", "tokens_per_day": 5, "api_model": "gpt-4o-mini", "review_share": 0.1},
        {"name": "Current option missing", "tokens_per_day": 5, "api_model": "gpt-4o-mini", "current_option": "self_hosted"},
    ])
    rows = read_input(src).rows
    cols = [[p.column for p in r.problems] for r in rows]
    assert "tokens_per_day" in cols[0][0] and "requests_per_month" in cols[0][0]
    assert "api_model" in cols[1][0]
    assert "cost_per_review" in cols[2][0]
    assert cols[3] == ["current_option"]


def test_values_are_read_the_way_spreadsheets_write_them(tmp_path):
    src = tmp_path / "u.csv"
    src.write_text(
        "Name;Tokens per day;input_share;api_model;monthly_growth;current_option;selfhost_gpu;selfhost_model;selfhost_precision\n"
        "A;1,000,000;85%;gpt-4o-mini;3%;API;;;\n"
        "B;2000000;0.5;gpt-4o-mini;0;Self-hosted;aws-p5.4xlarge;llama-3.1-70b;fp8\n", encoding="utf-8")
    a, b = read_input(src).rows
    assert a.ok and b.ok, (a.problems, b.problems)
    assert a.scenario.volume.tokens_per_day == 1e6 and a.scenario.volume.input_share == 0.85
    assert a.scenario.volume.monthly_growth == pytest.approx(0.03)
    assert b.scenario.find_option("self_hosted").mode == "capacity"  # inferred from the GPU columns
    assert b.scenario.context.current_option == "self_hosted"


def test_ambiguous_decimal_comma_is_rejected_not_guessed(tmp_path):
    src = write_yaml(tmp_path / "u.yaml", [{**GOOD, "input_share": "0,8"}])
    (row,) = read_input(src).rows
    assert [p.column for p in row.problems] == ["input_share"]


def test_formula_like_and_multiline_names(tmp_path):
    src = write_yaml(tmp_path / "u.yaml", [{**GOOD, "name": "=HYPERLINK(\"http://x\")"}, {**GOOD, "name": "a\r\nBcc: x@y.z"}])
    a, b = read_input(src).rows
    assert a.ok and a.scenario.name.startswith("=")  # text, the workbook must write it as text
    assert not b.ok and b.problems[0].column == "name"


def test_missing_email_is_a_row_problem_only_when_mailing(tmp_path):
    src = write_yaml(tmp_path / "u.yaml", [{k: v for k, v in GOOD.items() if k != "owner_email"}])
    assert read_input(src).rows[0].ok
    (row,) = read_input(src, require_email=True).rows
    assert [p.column for p in row.problems] == ["owner_email"]


def test_unknown_yaml_key_is_a_row_problem_with_a_suggestion(tmp_path):
    src = write_yaml(tmp_path / "u.yaml", [{**GOOD, "tokens_per_dya": 5}])
    (row,) = read_input(src).rows
    assert row.problems[0].column == "tokens_per_dya" and "tokens_per_day" in row.problems[0].expected


# --- File-level (usage) errors -------------------------------------------------------------


def test_unknown_header_is_a_file_error(tmp_path):
    src = tmp_path / "u.csv"
    src.write_text("name,tokens_per_dya\nA,5\n")
    with pytest.raises(InputFileError, match="tokens_per_day"):
        read_input(src)


@pytest.mark.parametrize("content", [b"", b"name,tokens_per_day\n", b"name,tokens_per_day\n,\n , \n"])
def test_empty_inputs(tmp_path, content):
    src = tmp_path / "u.csv"
    src.write_bytes(content)
    with pytest.raises(InputFileError, match="no business-unit rows"):
        read_input(src)


def test_empty_workbook_and_yaml(tmp_path):
    write_input_workbook(tmp_path / "t.xlsx")
    (tmp_path / "t.yaml").write_text("business_units: []\n")
    for name in ("t.xlsx", "t.yaml"):
        with pytest.raises(InputFileError, match="no business-unit rows"):
            read_input(tmp_path / name)


@pytest.mark.parametrize("payload", [b"name,tokens_per_day\nA,1\n", b"\x00\x01garbage" * 100, b"PK\x03\x04broken zip"])
def test_a_file_that_is_not_an_xlsx(tmp_path, payload):
    src = tmp_path / "units.xlsx"
    src.write_bytes(payload)
    with pytest.raises(InputFileError, match="not an .xlsx workbook"):
        read_input(src)


def test_a_zip_that_is_not_a_workbook(tmp_path):
    src = tmp_path / "units.xlsx"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(InputFileError, match="not an .xlsx workbook"):
        read_input(src)


def test_xml_entity_expansion_is_refused(tmp_path):
    """A billion-laughs sheet: defusedxml refuses entities, so it is 'not a workbook we read'."""
    good = tmp_path / "good.xlsx"
    write_input_workbook(good, [GOOD])
    bomb = tmp_path / "bomb.xlsx"
    entities = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)) + "]>"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bomb, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                if text.startswith("<?xml"):
                    head, text = text.split("?>", 1)
                    entities = head + "?>" + entities
                data = (entities + text.replace("<v>", "<v>&i;", 1)).encode()
            zout.writestr(item, data)
    with pytest.raises(InputFileError, match=r"not an .xlsx workbook.*EntitiesForbidden"):
        read_input(bomb)


def test_size_and_row_limits(tmp_path, monkeypatch):
    from runrate_xl.batch import inputs

    src = tmp_path / "u.csv"
    src.write_text("name,tokens_per_day,api_model\n" + "".join(f"B{i},5,gpt-4o-mini\n" for i in range(12)))
    monkeypatch.setattr(inputs, "MAX_ROWS", 10)
    with pytest.raises(InputFileError, match="more than 10"):
        read_input(src)
    monkeypatch.setattr(inputs, "MAX_FILE_BYTES", 50)
    with pytest.raises(InputFileError, match="at most 50"):
        read_input(src)
    assert MAX_ROWS == 5000


def test_wrong_extension_and_missing_file(tmp_path):
    (tmp_path / "u.txt").write_text("x")
    with pytest.raises(InputFileError, match="expected an .xlsx, .csv or .yaml"):
        read_input(tmp_path / "u.txt")
    with pytest.raises(InputFileError, match="no such file"):
        read_input(tmp_path / "nope.xlsx")


def test_openpyxl_parses_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML


# --- The input template ----------------------------------------------------------------------


def test_template_has_every_column_with_help_and_validation(tmp_path):
    path = write_input_workbook(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Business units"]
    headers = [c.value for c in ws[1]]
    assert headers == [c.name for c in COLUMNS]
    assert all(ws.cell(row=1, column=i + 1).comment for i in range(len(COLUMNS)))
    ranges = {str(dv.sqref).split(":")[0][:-1] + ":" + dv.type for dv in ws.data_validations.dataValidation}
    letter = openpyxl.utils.get_column_letter(headers.index("data_privacy") + 1)
    assert f"{letter}:list" in ranges
    privacy = next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(letter + "2"))
    assert privacy.formula1 == '"minimal,moderate,strict"'
    help_rows = [r[0] for r in wb["Help"].iter_rows(values_only=True)]
    assert all(c.name in help_rows for c in COLUMNS)


def test_filled_template_and_csv_round_trip(tmp_path):
    rows = [GOOD, {**GOOD, "name": "Two", "data_privacy": "strict", "selfhost_utilization": 0.55}]
    a = read_input(write_input_workbook(tmp_path / "t.xlsx", rows)).rows
    b = read_input(write_input_csv(tmp_path / "t.csv", rows)).rows
    assert [r.scenario for r in a] == [r.scenario for r in b]
    assert all(isinstance(r.scenario, Scenario) for r in a)


def test_readme_column_table_is_the_generated_one():
    from runrate_xl.batch.columns import columns_markdown

    docs = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert columns_markdown() in docs, "regenerate the README's column table from batch.columns.columns_markdown()"


def test_every_catalog_field_is_a_batch_column_or_left_out_with_a_reason():
    from runrate_xl.batch.columns import _NOT_COLUMNS, FANOUT
    from runrate_xl.fields import legacy_fields

    paths = {c.path for c in COLUMNS}
    shared = {c.path[len(FANOUT):] for c in COLUMNS if c.fans_out}
    for f in legacy_fields():
        rest = f.path.partition(".")[2]
        covered = (f.path in paths or f.leaf in _NOT_COLUMNS or f.type == "json"
                   or (f.option_kind is not None and rest.startswith("hidden.") and rest[len("hidden."):] in shared))
        assert covered, f.path


def test_a_true_false_field_reads_spreadsheet_booleans_and_words(tmp_path):
    """api_private (a private-cloud API stays eligible under strict privacy) is true/false: TRUE,
    yes, 1 turn it on, FALSE, no, 0 off; anything else names the column and what it takes."""
    rows = [{**GOOD, "name": f"U{i}", "api_private": value} for i, value in enumerate([True, "yes", 1, False, "No", 0, "maybe"])]
    src = tmp_path / "units.xlsx"
    write_input_workbook(src, rows)
    read = read_input(src).rows
    assert [r.scenario.find_option("api").private for r in read[:6]] == [True, True, True, False, False, False]
    problem, = read[6].problems
    assert problem.column == "api_private" and problem.value == "maybe"
    assert problem.expected == "true or false (TRUE/FALSE, yes/no or 1/0)"

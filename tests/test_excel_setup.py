"""`runrate excel`: the starter workbook and the xlwings Lite files."""

import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from typer.testing import CliRunner

from runrate_xl import udfs
from runrate_xl.cli import app
from runrate_xl.excel_setup import (
    CONF_SHEET,
    FUNCTIONS_SHEET,
    UDF_MODULE,
    build_workbook,
    lite_main_py,
    lite_requirements,
    write_lite,
)
from tests.conftest import rel
from tests.test_udf_formulas_engine import calculate, registered  # noqa: F401  (fixture)

runner = CliRunner()


def same(got, want):
    if isinstance(want, float):
        return isinstance(got, (int, float)) and rel(got, want)
    return got == want


# The Functions sheet's scalar examples and the figures they must show, worked out by hand.
HAND = {
    "=RUNRATE_API_COST(50000000, 0.15, 0.6)": 360.0,  # seed 003: 180 input + 180 output
    # Mi = 1.2e9, Mo = 0.3e9, c = 0.5, b = 0.2: 72 + 7.2 + 144 + 36 = 259.2, + 5% retries 12.96
    "=RUNRATE_API_COST(50000000, 0.15, 0.6, 0.8, 30, 0.5, 0.2, 0.05)": 272.16,
    '=RUNRATE_MODEL_COST("seed003/gpt-4o-mini", 50000000)': 360.0,
    '=RUNRATE_PRICE("seed003/gpt-4o-mini", "output")': 0.6,
    '=RUNRATE_PRICE("seed003/gpt-4o-mini", "cached_input")': 0.015,  # 10% of 0.15
    "=RUNRATE_SELFHOST_COST(4140, 0.8)": 5175.0,
    "=RUNRATE_SELFHOST_COST(4140, 0.8, 0.5, 150000, 500)": 5175.0 + 6250 + 500,
    "=RUNRATE_BREAKEVEN(4140, 0.8, 1.5)": 115e6,
    "=RUNRATE_PAYBACK(100000, 5000)": 20.0,
    "=RUNRATE_COST_PER_OUTCOME(298000, 1000000)": 0.298,
    "=RUNRATE_COST_PER_SUCCESS(0.1, 0.8, 5)": (0.10 * 1.2 + 0.04 * 5) / 0.96,  # 1.2 attempts, 4% to a person: 0.3333
    "=RUNRATE_REASONING_COST(1000000, 2000, 8)": 16_000.0,  # 1e6 x 2,000 x 8 / 1e6
    "=RUNRATE_BREAKEVEN(4140, 80, 1.5)": "#NUM! utilization",
    "=RUNRATE_BREAKEVEN(4140, 0.8, 1.5, 30, 0, 10000)": "#N/A no break-even",
    '=RUNRATE_CROSSOVER("seed003-50m-80pct")': "#N/A No break-even",  # capacity-true; single box: 718.75M
    '=RUNRATE_RECOMMEND("seed000-1m-inferences")': "Fine-tuned",
    # C41:D65 holds seed 000 (1M inferences/month): self-hosted 398,000 x 36 + 200,000 setup;
    # API 298,000 x 12; break-even per token/day a month: API 4.5e-6 x 30 + review
    # 0.05 x 5 x 30 / 10,000 = 8.85e-4 over 3,000 fixed, self-hosted 0.1e-6 x 30 + 7.5e-4 =
    # 7.53e-4 over 100,000 + 7,000 fixed and $40,000 boxes, each carrying today's 333.3M
    # tokens/day (100% utilization): first equal where 1.32e-4 t = 104,000 + 40,000 x 27
    # (t / 333.3M = 26.9 -> 27 boxes), t = 1,184,000 / 1.32e-4
    '=RUNRATE_TCO(C41:D65, "self_hosted")': 398_000 * 36 + 200_000.0,
    '=RUNRATE_TCO(C41:D65, "api", 12)': 298_000 * 12.0,
    "=RUNRATE_CROSSOVER(C41:D65)": 1_184_000 / 1.32e-4,
    "=RUNRATE_RECOMMEND(C41:D65)": "Fine-tuned",
    # hybrid-selfhost-bulk-api-overflow, 240M tokens/day: 20% = 48M on Claude Haiku 4.5 (1 in / 5 out):
    # 1,152M x 1 + 288M x 5 = 2,592; 80% = 192M on aws-g5.2xlarge instances carrying 121,439,808
    # tokens/day at 100% x 0.8 target / 1.25 peak = 77.7M each: 3 instances x 1.212 x 720 h; people
    # 0.4 x 150,000 / 12 = 5,000; tooling 1,000
    '=RUNRATE_MIX_COST("hybrid-selfhost-bulk-api-overflow", "own-gpus", "api", 0.8)': 2592 + 3 * 1.212 * 720 + 5000 + 1000,
    # the cheapest split runs 3 instances full: 3 x 77.7M / 240M (a 4th would carry 6.8M, $368 of
    # API spend a month, for $872.64)
    '=RUNRATE_BEST_SPLIT("hybrid-selfhost-bulk-api-overflow", "own-gpus", "api")': 3 * 121_439_808 * 0.8 / 1.25 / 240e6,
}


@pytest.fixture(scope="module")
def starter(tmp_path_factory):
    path = tmp_path_factory.mktemp("excel") / "runrate_functions.xlsm"
    return path, build_workbook(path)


def test_xlsm_keeps_the_xlwings_vba_project_and_sets_the_udf_module(starter):
    path, _ = starter
    with zipfile.ZipFile(path) as z:
        assert "xl/vbaProject.bin" in z.namelist()
        assert "macroEnabled" in z.read("[Content_Types].xml").decode()
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert wb.sheetnames == [FUNCTIONS_SHEET, CONF_SHEET]
    conf = wb[CONF_SHEET]
    assert (conf["A1"].value, conf["B1"].value) == ("UDF Modules", UDF_MODULE)
    assert conf["A2"].value is None  # the settings block ends before the notes


def test_every_function_is_demonstrated(starter):
    path, layout = starter
    ws = openpyxl.load_workbook(path)[FUNCTIONS_SHEET]
    shown = {ex.function for _, ex in layout.scalars} | {ex.function for _, _, ex in layout.spills}
    assert shown == set(udfs.FUNCTIONS)
    for row, ex in layout.scalars:
        assert ws[f"C{row}"].value == ex.formula()  # a live formula
        assert ws[f"E{row}"].data_type == "s" and ws[f"E{row}"].value == ex.formula()  # its text, not a formula
    assert ws[f"C{layout.scalars[0][0]}"].value == "=RUNRATE_API_COST(50000000, 0.15, 0.6)"


def test_functions_sheet_calculates_to_the_expected_values(starter, registered):  # noqa: F811
    path, layout = starter
    results = calculate(path)
    ws = openpyxl.load_workbook(path)[FUNCTIONS_SHEET]
    for row, ex in layout.scalars:
        got = results[f"{FUNCTIONS_SHEET.upper()}!C{row}"][0][0]
        want = ex.expected()  # the function called directly with the example's arguments
        assert same(got, want), (ex.formula(), got, want)
        shown, hand = ws[f"D{row}"].value, HAND[ex.formula()]  # the value written beside it
        assert shown.startswith(hand) if isinstance(hand, str) else same(shown, hand), (ex.formula(), shown, hand)
    for live, expected, ex in layout.spills:
        got = results[f"{FUNCTIONS_SHEET.upper()}!{live}"]
        want = ex.expected()
        written = [[c.value for c in row] for row in ws[expected]]
        for g_row, w_row, e_row in zip(got, want, written, strict=True):
            assert all(same(g, w) and same(e, w) for g, w, e in zip(g_row, w_row, e_row, strict=True)), (ex.formula(), g_row, w_row)


def test_xlsx_variant_and_bad_suffix(tmp_path):
    path = tmp_path / "plain.xlsx"
    build_workbook(path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [FUNCTIONS_SHEET, CONF_SHEET]
    with pytest.raises(ValueError, match="xlsm or .xlsx"):
        build_workbook(tmp_path / "book.csv")
    assert not (tmp_path / "book.csv").exists()


def test_lite_files(tmp_path):
    written = write_lite(tmp_path / "lite", "https://example.org/runrate_xl-0.1.0-py3-none-any.whl")
    main, req = (p.read_text() for p in written)
    assert main == lite_main_py()
    assert "from xlwings import arg, func, ret" in main
    for name in udfs.FUNCTIONS:
        assert f"def {name}(" in main
    lines = [ln for ln in req.splitlines() if ln and not ln.startswith("#")]
    assert lines == ["xlwings", "pydantic", "pyyaml", "genai-prices", "https://example.org/runrate_xl-0.1.0-py3-none-any.whl"]
    assert "weasyprint" not in req.lower()
    placeholder = lite_requirements(None)
    assert [ln for ln in placeholder.splitlines() if ln and not ln.startswith("#")] == ["xlwings", "pydantic", "pyyaml", "genai-prices"]


def test_cli_writes_workbook_and_lite_files_and_prints_steps(tmp_path):
    out = tmp_path / "wb.xlsm"
    result = runner.invoke(app, ["excel", "-o", str(out), "--lite", str(tmp_path / "lite")])
    assert result.exit_code == 0, result.output
    assert out.is_file() and (tmp_path / "lite" / "main.py").is_file() and (tmp_path / "lite" / "requirements.txt").is_file()
    for words in ('pip install "runrate_xl[cli,excel]"', "xlwings addin install", "Trust access to the VBA project", "Import Functions", "xlwings Lite", "placeholder"):
        assert words in " ".join(result.output.split()), words


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}/book.txt"], "--output"),
    (["-o", "{tmp}/book.xlsm", "--wheel-url", "https://x.org/a.whl"], "--wheel-url"),
    (["-o", "{tmp}/book.xlsm", "--lite", "{tmp}/lite", "--wheel-url", "file:///etc/passwd"], "--wheel-url"),
])
def test_cli_rejects_bad_options(tmp_path, args, message):
    result = runner.invoke(app, ["excel", *[a.format(tmp=tmp_path) for a in args]])
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_opens_the_starter_workbook(starter, tmp_path):
    # A real spreadsheet application reads the file (without the add-in the live cells show
    # #NAME?, but the sheet, its text and the expected values load).
    path, layout = starter
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "csv",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    csv_text = (tmp_path / (path.stem + ".csv")).read_text(encoding="utf-8", errors="replace")
    assert "runrate_xl Excel functions: live examples" in csv_text
    assert "=RUNRATE_API_COST(50000000, 0.15, 0.6)" in csv_text  # the formula text column
    assert "115000000" in csv_text  # an expected value

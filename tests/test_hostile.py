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
from .test_batch_cli import GOOD  # one valid row, shared with the batch CLI tests

AS_OF = "2025-06-01"
runner = CliRunner()


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


@pytest.mark.parametrize("args", [["prices", "evil/model"], ["prices", "--list"]])
def test_catalog_text_is_shown_literally_by_runrate_prices(monkeypatch, args):
    """Catalog text (model names, providers, sources, dates of the shipped price file) is data,
    not markup: the real price lookup reads a hostile price file here."""
    from runrate_xl.catalog import prices

    hostile = {"models": {"evil/model": {
        "provider": "[bold]acme[/]", "input": 1.0, "output": 2.0,
        "source": "[/] \x1b[31mred\x1b[0m \u202etxt.exe :x:", "as_of": "[link=http://x]2026[/link]"},
        "[/]\x1b]8;;http://x\x07name": {"input": 1.0, "output": 2.0, "source": "s", "as_of": "2026-01-01"}}}
    monkeypatch.setattr(prices, "load_data", lambda name: hostile)
    prices.lookup_prices.cache_clear()
    try:
        result = runner.invoke(app, args)
    finally:
        prices.lookup_prices.cache_clear()
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output and "\x07" not in result.output
    text = " ".join(result.output.split())
    if args[1] == "--list":
        assert "[/]\\x1b]8;;http://x\\x07name" in text and "evil/model" in text
    else:
        assert "[bold]acme[/]" in text  # the title, literally
        assert "[/] \\x1b[31mred\\x1b[0m \\u202etxt.exe :x:" in text and "[link=http://x]2026[/link]" in text


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


# --- bounded work for any input (safe_yaml, xlsx_limits, engine.errors.magnitude_problem) -----

ALIAS_BOMB = "".join(
    f"{k}: &{k} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['x'] * 9)}]\n"
    for p, k in zip([None, "a", "b", "c", "d", "e", "f", "g"], "abcdefgh")
) + "name: [" + ", ".join(["*h"] * 9) + "]\nvolume: {tokens_per_day: 1}\napi: {model: gpt-4o-mini}\n"


def run_cli_bounded(args, timeout=60, memory_mb=1500):
    """The real CLI in a subprocess with an address-space cap and a timeout: a blow-up fails
    the test instead of the machine."""
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

    return subprocess.run([sys.executable, "-m", "runrate_xl.cli", *args], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit)


def test_alias_bomb_is_refused_by_evaluate(tmp_path):
    assert len(ALIAS_BOMB) < 800
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    done = run_cli_bounded(["evaluate", str(path)])
    assert done.returncode == 1, done.stderr
    assert "YAML expands to more than 1,000,000 values" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr and len(done.stderr) < 1000


def test_alias_bomb_is_refused_by_batch(tmp_path):
    path = tmp_path / "units.yaml"
    path.write_text("business_units:\n  - " + ALIAS_BOMB.replace("\n", "\n    ").rstrip() + "\n")
    done = run_cli_bounded(["batch", str(path), "--out", str(tmp_path / "out"), "--as-of", AS_OF])
    assert done.returncode == 2, done.stderr
    assert "not valid YAML (YAML expands to more than 1,000,000 values" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_alias_in_a_rows_scenario_file_fails_that_row_only(tmp_path):
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB)
    src = write_units(tmp_path, [GOOD, {**GOOD, "name": "Bomb", "scenario_file": "bomb.yaml"}])
    result = runner.invoke(app, ["batch", str(src), "--out", str(tmp_path / "out"), "--jobs", "1", "--as-of", AS_OF])
    assert result.exit_code == 1, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [u["status"] for u in summary["units"]] == ["ok", "invalid"]
    assert "YAML expands to more than 1,000,000 values" in summary["units"][1]["error"]


def test_deep_yaml_nesting_is_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: " + "[" * 5000 + "]" * 5000 + "\n")
    result = runner.invoke(app, ["evaluate", str(path)])
    assert result.exit_code == 1
    assert "nested more than 64 levels" in " ".join(result.output.split()) and "Traceback" not in result.output


@pytest.mark.parametrize("value, shown", [(10 ** 400, "<an integer of about 401 digits>"), (1e308, "1e+308"),
                                          ("1e308", "'1e308'")], ids=["int400", "1e308", "text1e308"])
def test_out_of_range_numbers_name_the_input_in_a_batch(tmp_path, value, shown):
    src = write_units(tmp_path, [GOOD, {**GOOD, "name": "Big", "tokens_per_day": value}])
    result = runner.invoke(app, ["batch", str(src), "--out", str(tmp_path / "out"), "--jobs", "1", "--as-of", AS_OF])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [u["status"] for u in summary["units"]] == ["ok", "invalid"]
    problem, = summary["units"][1]["problems"]
    assert problem.startswith("entry 2, column tokens_per_day: got ")
    assert "expected" in problem and "magnitude" in problem and len(problem) < 200


@pytest.mark.parametrize("value", [10 ** 400, 1e308], ids=["int400", "1e308"])
def test_out_of_range_numbers_name_the_input_in_evaluate(tmp_path, value):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "X", "volume": {"tokens_per_day": value}, "api": {"model": "gpt-4o-mini"}}))
    result = runner.invoke(app, ["evaluate", str(path), "--as-of", AS_OF])
    assert result.exit_code == 1
    assert "volume.tokens_per_day: got" in result.output and "magnitude" in result.output
    assert "token_cost_monthly" not in result.output and len(result.output) < 600


@pytest.mark.parametrize("call, field", [
    (("RUNRATE_API_COST", 1e200, 1e200, 1e200), "tokens_per_day"),
    (("RUNRATE_SELFHOST_COST", 1, 1e-320), "utilization"),
    (("RUNRATE_BREAKEVEN", 1e300, 1e-300, 1), "infra_monthly"),
    (("RUNRATE_PAYBACK", 1, 1e-320), "monthly_saving"),
])
def test_udfs_return_num_errors_naming_the_input_never_nan_or_inf(call, field):
    from runrate_xl import udfs

    name, *args = call
    out = udfs.FUNCTIONS[name](*args)
    assert isinstance(out, str) and out.startswith(f"#NUM! {field}: got"), out


def test_yaml_written_by_pyyaml_with_repeated_values_still_loads(tmp_path):
    shared = {"model": "gpt-4o-mini"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "X", "volume": {"tokens_per_day": 1e6}, "api": shared, "notes": "",
                                    "context": {}, "horizon": {}, "x": shared}))
    assert "&id001" in path.read_text()
    result = runner.invoke(app, ["evaluate", str(path)])
    assert "x: got" in result.output and "no such field" in result.output  # parsed; only the extra key is refused


def test_a_tiny_divisor_is_named_when_the_result_would_not_be_finite(tmp_path):
    src = write_units(tmp_path, [GOOD, {**GOOD, "name": "Tiny", "selfhost_utilization": 1e-320}])
    result = runner.invoke(app, ["batch", str(src), "--out", str(tmp_path / "out"), "--jobs", "1", "--as-of", AS_OF])
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["units"][0]["status"] == "ok"
    tiny = summary["units"][1]
    assert tiny["status"] == "failed", tiny
    assert "self_hosted.utilization: got 1e-320, expected a value that keeps the results finite" in tiny["error"], tiny["error"]


def test_udf_results_at_the_input_bounds_are_finite():
    import math

    from runrate_xl import udfs

    for out in (udfs.RUNRATE_API_COST(1e15, 1e15, 1e15), udfs.RUNRATE_BREAKEVEN(1e15, 1e-12, 1e-12),
                udfs.RUNRATE_PAYBACK(1e15, 1e-12), udfs.RUNRATE_COST_PER_OUTCOME(1e15, 1e-12),
                udfs.RUNRATE_SELFHOST_COST(1, 2.3e-308)):
        assert isinstance(out, float) and math.isfinite(out), out


def test_udf_scenario_with_a_huge_integer_names_the_key():
    from runrate_xl import udfs

    out = udfs.RUNRATE_TCO([["volume.tokens_per_day", 10 ** 400], ["api.model", "gpt-4o-mini"]])
    assert out.startswith("#VALUE! scenario volume.tokens_per_day: got <an integer"), out


def test_udf_deeply_nested_range_is_a_clear_error():
    from runrate_xl import udfs

    deep: object = 1
    for _ in range(100_000):
        deep = (deep,)
    out = udfs.RUNRATE_TCO([["volume.tokens_per_day", deep], ["api.model", "gpt-4o-mini"]])
    assert out.startswith("#VALUE!") and "internal error" not in out, out


def _workbook_with_rows(tmp_path: Path, rows: int) -> Path:
    """A real scenario workbook with ``rows`` empty rows added to its first sheet (a few kB)."""
    src = tmp_path / "s.xlsx"
    result = runner.invoke(app, ["workbook", "--preset", "seed003-50m-80pct", "--output", str(src)])
    assert result.exit_code == 0, result.output
    big = tmp_path / "big.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                extra = "".join(f'<row r="{r}"/>' for r in range(100_000, 100_000 + rows)).encode()
                data = data.replace(b"</sheetData>", extra + b"</sheetData>")
            zout.writestr(info.filename, data)
    return big


def test_read_refuses_a_workbook_with_too_many_rows_before_parsing(tmp_path):
    import time

    big = _workbook_with_rows(tmp_path, 300_000)
    assert big.stat().st_size < 2_000_000
    start = time.perf_counter()
    result = runner.invoke(app, ["read", str(big)])
    assert time.perf_counter() - start < 10
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "sheet sheet1.xml has more than 5,000 rows, expected at most 5,000" in text and "Traceback" not in text


# --- e-mail exactly once per memo; credentials never in clear ------------------------------


@pytest.fixture
def inbox():
    from aiosmtpd.controller import Controller
    import socket

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.env = {"RUNRATE_SMTP_HOST": "127.0.0.1", "RUNRATE_SMTP_PORT": str(port), "RUNRATE_SMTP_SECURITY": "none",
               "RUNRATE_SMTP_FROM": "finance@example.com"}
    yield box
    controller.stop()


def test_two_units_with_the_same_name_and_owner_each_get_their_memo_once(inbox, tmp_path):
    src = write_units(tmp_path, [GOOD, {**GOOD, "tokens_per_day": 90_000_000}])  # same name, same owner
    args = ["batch", str(src), "--out", str(tmp_path / "out"), "--mail", "send", "--as-of", AS_OF, "--jobs", "1"]
    first = runner.invoke(app, args, env=inbox.env)
    assert first.exit_code == 0, first.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [u["mail"] for u in summary["units"]] == ["sent", "sent"]
    assert len(inbox.messages) == 2
    attached = sorted(next(m.iter_attachments()).get_filename() for m in inbox.messages)
    assert attached == sorted(f"{u['folder']}.pdf" for u in summary["units"])
    again = runner.invoke(app, args, env=inbox.env)
    assert again.exit_code == 0, again.output
    assert len(inbox.messages) == 2  # a rerun sends nothing twice
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [u["mail"] for u in summary["units"]] == ["skipped", "skipped"]


@pytest.mark.parametrize("env, message", [
    ({"RUNRATE_SMTP_HOST": "192.0.2.1", "RUNRATE_SMTP_SECURITY": "none", "RUNRATE_SMTP_USER": "bot",
      "RUNRATE_SMTP_PASSWORD": "pw"}, "the password would cross the network in clear to 192.0.2.1"),
    ({"RUNRATE_SMTP_HOST": "192.0.2.1", "RUNRATE_SMTP_SECURITY": "none", "RUNRATE_SMTP_PASSWORD": "pw"},
     "RUNRATE_SMTP_USER"),
    ({"RUNRATE_SMTP_HOST": "192.0.2.1", "RUNRATE_SMTP_SECURITY": "starttls", "RUNRATE_SMTP_PASSWORD": "pw"},
     "a password without a user is not used"),
], ids=["cleartext", "no-user-cleartext", "no-user"])
def test_unsafe_smtp_credentials_are_refused_before_any_work(tmp_path, env, message):
    src = write_units(tmp_path, [GOOD])
    env = {**env, "RUNRATE_SMTP_FROM": "finance@example.com"}
    result = runner.invoke(app, ["batch", str(src), "--out", str(tmp_path / "out"), "--mail", "send", "--as-of", AS_OF], env=env)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "pw" not in result.output.replace("pwd", "")
    assert not (tmp_path / "out").exists()  # nothing rendered, nothing written


# --- never delete or clobber what is not ours (fsutil temp names, outdir lock and record) -----


def _dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_users_dot_tmp_files_survive_and_a_dead_runs_temps_go(tmp_path):
    import subprocess

    out = tmp_path / "out"
    (out / "Support").mkdir(parents=True)
    thesis = out / ".my-backup.tmp" / "thesis.docx"
    thesis.parent.mkdir()
    thesis.write_text("years of work")
    mine = out / "Support" / ".notes.tmp"
    mine.write_text("user file")
    dead = out / "Support" / f".runrate-tmp-{_dead_pid()}-abcd-Support.pdf.tmp"
    dead.write_text("partial")
    live_proc = subprocess.Popen(["sleep", "60"])
    try:
        live = out / f".runrate-tmp-{live_proc.pid}-abcd-summary.csv.tmp"
        live.write_text("in flight")
        src = write_units(tmp_path, [GOOD])
        result = runner.invoke(app, ["batch", str(src), "--out", str(out), "--jobs", "1", "--as-of", AS_OF])
        assert result.exit_code == 0, result.output
        assert thesis.read_text() == "years of work" and mine.exists()
        assert live.exists()  # another process's temp file is not ours to remove
        assert not dead.exists()
    finally:
        live_proc.kill()
        live_proc.wait()


def test_a_second_run_into_a_locked_out_folder_refuses_clearly(tmp_path):
    from runrate_xl.outdir import OutputLock

    out = tmp_path / "out"
    out.mkdir()
    src = write_units(tmp_path, [GOOD])
    with OutputLock(out):  # as a running batch holds it
        result = runner.invoke(app, ["batch", str(src), "--out", str(out), "--jobs", "1", "--as-of", AS_OF])
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert f"another runrate run (pid {__import__('os').getpid()}) is writing to {out}" in text
        assert sorted(p.name for p in out.iterdir()) == [".runrate.lock"]
    assert list(out.iterdir()) == []  # released and removed
    result = runner.invoke(app, ["batch", str(src), "--out", str(out), "--jobs", "1", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert not (out / ".runrate.lock").exists()


def test_a_rerun_removes_our_stale_outputs_that_contradict_the_new_summary(tmp_path):
    out = tmp_path / "out"
    tiers = [{"above_input_tokens": 1000 * (i + 1), "input_price_per_1m": 1, "output_price_per_1m": 2} for i in range(6)]
    (tmp_path / "tiers.yaml").write_text(yaml.safe_dump({"api": {"price_tiers": tiers}}))
    first = runner.invoke(app, ["batch", str(write_units(tmp_path, [GOOD])), "--out", str(out), "--jobs", "1", "--as-of", AS_OF])
    assert first.exit_code == 0, first.output
    assert (out / "Support" / "Support.xlsx").exists() and (out / "portfolio.pdf").exists()
    user_file = out / "Support" / "my-notes.txt"
    user_file.write_text("mine")
    # now the workbook stage fails (more tiers than the Prices sheet holds) but the memo works
    second = runner.invoke(app, ["batch", str(write_units(tmp_path, [{**GOOD, "scenario_file": "tiers.yaml"}])), "--out", str(out),
                                 "--jobs", "1", "--as-of", AS_OF])
    assert second.exit_code == 1, second.output
    summary = json.loads((out / "summary.json").read_text())
    unit, = summary["units"]
    assert unit["status"] == "failed" and "workbook" in unit["error"]
    on_disk = sorted(f"Support/{p.name}" for p in (out / "Support").iterdir() if p.name != "my-notes.txt")
    assert on_disk == sorted(unit["files"])  # no old workbook beside the new memo
    assert user_file.exists()
    # and a run where nothing succeeds leaves no old portfolio behind
    third = runner.invoke(app, ["batch", str(write_units(tmp_path, [{**GOOD, "tokens_per_day": -1}])), "--out", str(out),
                                "--jobs", "1", "--as-of", AS_OF])
    assert third.exit_code == 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["portfolio"]["files"] == []
    assert not (out / "portfolio.pdf").exists() and not (out / "portfolio.xlsx").exists()
    assert user_file.exists()


def test_a_forged_summary_cannot_make_a_rerun_delete_a_users_file(tmp_path):
    out = tmp_path / "out"
    (out / "Support").mkdir(parents=True)
    victim = out / "Support" / "thesis.docx"
    victim.write_text("mine")
    (out / "summary.json").write_text(json.dumps({"units": [{"folder": "Support", "files": ["Support/thesis.docx", "../x"]}],
                                                  "portfolio": {"files": ["../../etc/passwd"]}}))
    result = runner.invoke(app, ["batch", str(write_units(tmp_path, [GOOD])), "--out", str(out), "--jobs", "1", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "mine"


def test_the_lock_without_fcntl_refuses_a_live_holder_and_takes_over_a_dead_ones(tmp_path, monkeypatch):
    """Windows has no fcntl: an O_EXCL lock file with the holder's pid (exercised here by
    hiding fcntl; the flock path is what runs on Linux and macOS)."""
    from runrate_xl import outdir

    monkeypatch.setattr(outdir, "fcntl", None)
    lock = outdir.OutputLock(tmp_path).acquire()
    with pytest.raises(outdir.OutputBusy, match=f"pid {__import__('os').getpid()}"):
        outdir.OutputLock(tmp_path).acquire()
    lock.release()
    assert not (tmp_path / outdir.LOCK_NAME).exists()
    (tmp_path / outdir.LOCK_NAME).write_text(f"{_dead_pid()}\n")  # a dead run's lock file
    outdir.OutputLock(tmp_path).acquire().release()
    assert not (tmp_path / outdir.LOCK_NAME).exists()


# --- faults leave a true record ---------------------------------------------------------------


def _start_batch(tmp_path: Path, jobs: str, n: int = 8):
    import os
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    rows = [{**GOOD, "name": f"Unit {i}", "tokens_per_day": 1e7 * (i + 1)} for i in range(n)]
    src = write_units(tmp_path, rows)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "runrate_xl.cli", "batch", str(src), "--out", str(out), "--jobs", jobs,
                             "--as-of", AS_OF, "--mail", "drafts"], cwd=root, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(out.glob("*/*.pdf")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return proc, out


def _processes_writing_to(out: Path) -> list[int]:
    """Live (not zombie) processes whose command line names ``out``: the batch and its forks."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(out).encode() in (proc / "cmdline").read_bytes():
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(proc.name))
        except (OSError, IndexError):
            continue
    return found


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_after_ctrl_c_the_record_lists_every_unit_on_disk(tmp_path, jobs):
    import os
    import signal

    proc, out = _start_batch(tmp_path, jobs, n=16)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (130, 0), stderr  # 0 only if it finished before the signal landed
    assert b"Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary.get("interrupted", False) is (proc.returncode == 130)
    recorded = {u["folder"]: sorted(u["files"]) for u in summary["units"]}
    on_disk: dict = {}
    for p in out.glob("*/*"):
        if p.is_file() and not p.name.startswith("."):
            on_disk.setdefault(p.parent.name, []).append(f"{p.parent.name}/{p.name}")
    assert {k: sorted(v) for k, v in on_disk.items()} == recorded  # exactly what is on disk, no more, no less
    log = (out / "run.log").read_text()
    assert f"result  {len(recorded)} ok, 0 failed" in log


@pytest.mark.slow
def test_workers_die_with_the_parent_on_kill_9(tmp_path):
    import os
    import signal
    import time

    proc, out = _start_batch(tmp_path, "2", n=12)
    workers = [pid for pid in _processes_writing_to(out) if pid != proc.pid]
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)  # the parent only, not its process group
    proc.wait(timeout=60)  # not communicate(): orphaned workers would hold the pipes open
    deadline = time.monotonic() + 15
    alive = _processes_writing_to(out)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = _processes_writing_to(out)
    for pid in alive:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert alive == []


def test_a_summary_that_cannot_be_written_is_reported_beside_what_was(tmp_path):
    out = tmp_path / "out"
    (out / "summary.json").mkdir(parents=True)  # a real write failure at the very end of the run
    src = write_units(tmp_path, [GOOD])
    result = runner.invoke(app, ["batch", str(src), "--out", str(out), "--jobs", "1", "--as-of", AS_OF])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "summary.csv/json not (fully) written" in text and "Support/" in text and "Traceback" not in text
    assert (out / "Support" / "Support.pdf").exists()
    assert "summary: summary.csv/json not (fully) written: [Errno 21] Is a directory" in (out / "run.log").read_text()



# --- a full disk, and a rerun after a killed run ----------------------------------------------


def _batch_cmd(src: Path, out: Path, *extra: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "runrate_xl.cli", "batch", str(src), "--out", str(out), "--as-of", AS_OF,
            "--mail", "drafts", "--no-progress", *extra]


_WIDE = {**__import__("os").environ, "COLUMNS": "2000"}  # Rich wraps nothing: paths stay whole in the output


def _deliverables_on_disk(out: Path) -> dict[str, list[str]]:
    """Every file the batch could have written, per unit folder ("" for the top level)."""
    found: dict[str, list[str]] = {}
    for p in sorted(out.glob("*/*")):
        if p.is_file() and not p.name.startswith("."):
            found.setdefault(p.parent.name, []).append(f"{p.parent.name}/{p.name}")
    found[""] = sorted(p.name for p in out.glob("portfolio.*"))
    return found


def _recorded(summary: dict) -> dict[str, list[str]]:
    record = {u["folder"]: sorted(u["files"]) for u in summary["units"] if u["files"]}
    record[""] = sorted(summary["portfolio"]["files"])
    return record


def _our_temps(out: Path) -> list[Path]:
    return [p for p in out.rglob(".runrate-tmp-*")]


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MB file system (tmpfs): room for about four units' files."""
    import subprocess

    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.mark.slow
def test_a_full_disk_fails_what_does_not_fit_naming_the_file_and_the_record_is_true(tmp_path, small_disk):
    import subprocess
    import zipfile

    from pypdf import PdfReader

    rows = [{**GOOD, "name": f"Unit {i}", "tokens_per_day": 1e7 * (i + 1)} for i in range(8)]
    src = write_units(tmp_path, rows)  # the input on the big disk, the output on the small one
    out = small_disk / "out"
    done = subprocess.run(_batch_cmd(src, out, "--jobs", "2"), capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parent.parent, env=_WIDE)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    text = " ".join(done.stdout.split())
    assert "No space left on device" in text
    # nothing half-written under a final name, no temp file left behind
    assert _our_temps(out) == []
    on_disk = _deliverables_on_disk(out)
    assert any(f.endswith(".pdf") for files in on_disk.values() for f in files)  # some units did fit
    for pdf in out.glob("*/*.pdf"):
        assert len(PdfReader(pdf).pages) >= 1
    for book in out.glob("*/*.xlsx"):
        assert zipfile.ZipFile(book).testzip() is None
    for draft in out.glob("*/*.eml"):
        message = email.message_from_bytes(draft.read_bytes(), policy=policy.default)
        attachment, = message.iter_attachments()
        assert attachment.get_content().startswith(b"%PDF") and attachment.get_content().rstrip().endswith(b"%%EOF")
    # what the run reports is what is on disk: the summary if it fitted, else the terminal says so
    if (out / "summary.json").exists():
        summary = json.loads((out / "summary.json").read_text())
        assert len(summary["units"]) == 8
        assert _recorded(summary) == {k: v for k, v in on_disk.items() if v or k == ""}
        failed = [u for u in summary["units"] if u["status"] == "failed"]
        assert failed, summary
        for unit in failed:  # each error names the file that did not fit
            assert "No space left on device" in unit["error"] and f"{out / unit['folder']}/" in unit["error"], unit
    else:
        assert "summary.csv/json not (fully) written: [Errno 28] No space left on device" in text
        assert str(out / "summary.") in text
        if (out / "summary.csv").exists():  # written before the disk filled up: true as far as it goes
            rows = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text())))
            assert [r["name"] for r in rows] == [f"Unit {i}" for i in range(8)]
            for r in rows:
                assert (r["status"] == "ok") == (len(on_disk.get(r["folder"], [])) == 4), (r, on_disk)
        for i in range(8):  # every unit is still reported on the terminal
            assert f"Unit {i}" in text


@pytest.mark.slow
def test_a_rerun_after_a_killed_run_leaves_nothing_that_contradicts_its_summary(tmp_path):
    """A run killed with SIGKILL cannot clean up or write its record. Before writing it removed
    the earlier run's summary (it would describe files being replaced) and noted what it may
    write in its journal; the rerun removes the killed run's temp files and every deliverable
    of it that the rerun does not write (here: the workbooks, whose stage now fails)."""
    import os
    import signal
    import subprocess
    import time

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "out"
    first = runner.invoke(app, ["batch", str(write_units(tmp_path, [GOOD])), "--out", str(out), "--jobs", "1", "--as-of", AS_OF])
    assert first.exit_code == 0, first.output
    assert json.loads((out / "summary.json").read_text())["ok"] == 1

    rows = [{**GOOD, "name": f"Unit {i}", "tokens_per_day": 1e7 * (i + 1)} for i in range(16)]
    proc = subprocess.Popen(_batch_cmd(write_units(tmp_path, rows, "killed.yaml"), out, "--jobs", "2"), cwd=root,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(list(out.glob("Unit-*/*.xlsx"))) < 3:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, mid-write
    proc.wait(timeout=60)
    assert not (out / "summary.json").exists()  # the earlier record no longer claims this folder
    killed_workbooks = sorted(out.glob("Unit-*/*.xlsx"))
    assert killed_workbooks and (out / ".runrate-journal.json").exists()

    tiers = [{"above_input_tokens": 1000 * (i + 1), "input_price_per_1m": 1, "output_price_per_1m": 2} for i in range(6)]
    (tmp_path / "tiers.yaml").write_text(yaml.safe_dump({"api": {"price_tiers": tiers}}))
    rerun_rows = [{**row, "scenario_file": "tiers.yaml"} for row in rows]  # the workbook stage now fails
    rerun = subprocess.run(_batch_cmd(write_units(tmp_path, rerun_rows, "rerun.yaml"), out, "--jobs", "2"), cwd=root,
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 1 and "Traceback" not in rerun.stdout + rerun.stderr, rerun.stdout + rerun.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert all(u["status"] == "failed" and "workbook" in u["error"] for u in summary["units"])
    on_disk = _deliverables_on_disk(out)
    on_disk.pop("Support")  # the first run's unit: not processed by the rerun, its files stay
    assert _recorded(summary) == on_disk  # no workbook of the killed run beside the rerun's memo
    assert not any(p.exists() for p in killed_workbooks)
    assert _our_temps(out) == [] and not (out / ".runrate-journal.json").exists()

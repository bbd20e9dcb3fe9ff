"""`runrate batch` and `runrate input-template` through Typer's CliRunner (and, for Ctrl-C and
kill, a real subprocess): the examples end to end, bad rows, hostile names, duplicates, empty
and non-xlsx inputs, --strict, usage errors, interrupted runs, determinism."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import openpyxl
import pytest
import yaml
from pypdf import PdfReader
from typer.testing import CliRunner

from runrate_xl.api import evaluate_scenario, load_scenario
from runrate_xl.batch.inputs import read_input
from runrate_xl.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = "2025-06-01"
runner = CliRunner()

GOOD = {
    "name": "Support", "owner_email": "a@example.com", "tokens_per_day": 50_000_000,
    "api_input_price_per_1m": 0.15, "api_output_price_per_1m": 0.6,
    "selfhost_infra_monthly": 4140, "selfhost_utilization": 0.8, "selfhost_fte": 0,
}


def batch(*args: str):
    return runner.invoke(app, ["batch", *map(str, args), "--as-of", AS_OF])


def units(tmp_path: Path, rows, name="units.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"business_units": rows}, sort_keys=False))
    return path


def assert_complete(path: Path) -> None:
    """Every deliverable present opens as what it claims to be."""
    suffix = path.suffix
    if suffix == ".pdf":
        assert len(PdfReader(path).pages) >= 1
    elif suffix == ".xlsx":
        openpyxl.load_workbook(path, read_only=True).close()
    elif suffix == ".eml":
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["To"] and any(p.get_content_type() == "application/pdf" for p in msg.iter_attachments())
    elif suffix in (".yaml",):
        load_scenario(path)
    elif suffix == ".json":
        json.loads(path.read_text())
    elif suffix in (".csv", ".log"):
        path.read_text()
    else:
        raise AssertionError(f"unexpected file {path}")


def no_leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


# --- The examples, end to end --------------------------------------------------------------


@pytest.mark.slow
def test_examples_every_file_exists_opens_and_matches_the_engine(tmp_path):
    out = tmp_path / "out"
    result = batch(EXAMPLES / "business_units.xlsx", "--out", out, "--mail", "drafts", "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert "Outputs in" in result.output and "portfolio.pdf" in result.output
    rows = read_input(EXAMPLES / "business_units.xlsx").rows
    summary = json.loads((out / "summary.json").read_text())
    assert [u["status"] for u in summary["units"]] == ["ok"] * len(rows)
    from runrate_xl.formatting import usd

    for row, unit in zip(rows, summary["units"]):
        folder = out / unit["folder"]
        expected = {f"{unit['folder']}{s}" for s in (".xlsx", ".pdf", ".eml")} | {"scenario.yaml"}
        assert {p.name for p in folder.iterdir()} == expected
        for p in folder.iterdir():
            assert_complete(p)
        ev = evaluate_scenario(row.scenario, __import__("datetime").date.fromisoformat(AS_OF))
        # the resolved scenario reproduces every figure
        again = evaluate_scenario(load_scenario(folder / "scenario.yaml"))
        for option, cost in ev.options.items():
            assert unit["monthly_cost_usd"][option] == cost.total_monthly
            assert again.options[option].total_monthly == pytest.approx(cost.total_monthly, rel=1e-12)
        # the workbook's cached outputs are the engine's
        wb = openpyxl.load_workbook(folder / f"{unit['folder']}.xlsx", data_only=True)
        for option, cost in ev.options.items():
            assert _named_value(wb, f"out_{option}_total_monthly") == pytest.approx(cost.total_monthly, rel=1e-9)
        # the memo shows them
        text = " ".join(page.extract_text() for page in PdfReader(folder / f"{unit['folder']}.pdf").pages)
        for cost in ev.options.values():
            assert usd(cost.total_monthly) in text
        msg = email.message_from_bytes((folder / f"{unit['folder']}.eml").read_bytes(), policy=policy.default)
        assert row.scenario.owner_email in msg["To"]
    for name in ("portfolio.xlsx", "portfolio.pdf", "summary.csv", "summary.json", "run.log"):
        assert_complete(out / name)
    assert not no_leftovers(out)


def _named_value(wb, name):
    defined = wb.defined_names[name]
    (sheet, ref), = list(defined.destinations)
    return wb[sheet][ref.replace("$", "")].value


@pytest.mark.slow
def test_reruns_are_byte_identical(tmp_path):
    src = units(tmp_path, [GOOD, {**GOOD, "name": "Claims", "api_input_price_per_1m": 3, "api_output_price_per_1m": 15}])
    outputs = []
    for run in ("a", "b", "a"):  # a second run into the same folder, and one into another
        result = batch(src, "--out", tmp_path / run, "--mail", "drafts", "--jobs", "2")
        assert result.exit_code == 0, result.output
        outputs.append({p.relative_to(tmp_path / run): p.read_bytes() for p in sorted((tmp_path / run).rglob("*"))
                        if p.is_file() and p.name != "run.log"})
    assert outputs[0].keys() == outputs[1].keys() == outputs[2].keys()
    different = [str(k) for k in outputs[0] if not (outputs[0][k] == outputs[1][k] == outputs[2][k])]
    assert different == []


# --- Bad input ---------------------------------------------------------------------------


def test_a_bad_row_among_good_ones(tmp_path):
    src = tmp_path / "units.csv"
    src.write_text(
        "name,owner_email,tokens_per_day,api_model,input_share,selfhost_infra_monthly,selfhost_utilization\n"
        "Good one,a@example.com,1000000,gpt-4o-mini,0.8,4000,0.5\n"
        "Bad one,b@example,lots,gpt-4o-mini,1.5,4000,60\n"
        "Good two,c@example.com,2000000,gpt-4o-mini,,,\n")
    out = tmp_path / "out"
    result = batch(src, "--out", out, "--jobs", "1")
    assert result.exit_code == 1
    for needle in ("row 3, column owner_email: got 'b@example'", "row 3, column tokens_per_day: got 'lots'",
                   "row 3, column input_share: got '1.5'", "row 3, column selfhost_utilization: got '60'", "use 0.6"):
        assert needle in result.output, needle
    assert "Bad one" in result.output and "INVALID" in result.output
    assert (out / "Good-one" / "Good-one.pdf").exists() and (out / "Good-two" / "Good-two.xlsx").exists()
    assert not (out / "Bad-one").exists()
    assert (out / "portfolio.pdf").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert [u["status"] for u in summary["units"]] == ["ok", "invalid", "ok"]


def test_a_bu_named_like_a_path_stays_inside_the_output(tmp_path):
    out = tmp_path / "deep" / "out"
    src = units(tmp_path, [{**GOOD, "name": "../../etc/passwd"}, {**GOOD, "name": "/tmp/x"}, {**GOOD, "name": "CON"}])
    result = batch(src, "--out", out, "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["_CON", "etc-passwd", "tmp-x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "units.yaml"]
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["out"]
    assert (out / "etc-passwd" / "etc-passwd.pdf").exists()


def test_duplicate_names_get_numbered_folders(tmp_path):
    src = units(tmp_path, [GOOD, {**GOOD, "tokens_per_day": 1e6}, {**GOOD, "name": "support"}])
    out = tmp_path / "out"
    result = batch(src, "--out", out, "--jobs", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert [u["folder"] for u in summary["units"]] == ["Support", "Support-2", "support-3"]
    for folder in ("Support", "Support-2", "support-3"):
        assert (out / folder / f"{folder}.xlsx").exists() and (out / folder / f"{folder}.pdf").exists()
    a, b = (yaml.safe_load((out / f / "scenario.yaml").read_text()) for f in ("Support", "Support-2"))
    assert a["volume"]["tokens_per_day"] != b["volume"]["tokens_per_day"]


@pytest.mark.parametrize("content, name", [(b"", "units.csv"), (b"name,tokens_per_day\n", "units.csv"), (b"[]\n", "units.yaml")])
def test_an_empty_input_is_a_usage_error(tmp_path, content, name):
    (tmp_path / name).write_bytes(content)
    result = batch(tmp_path / name, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "no business-unit rows" in result.output
    assert not (tmp_path / "out").exists()


def test_an_empty_template_is_a_usage_error(tmp_path):
    assert runner.invoke(app, ["input-template", "-o", str(tmp_path / "t.xlsx")]).exit_code == 0
    result = batch(tmp_path / "t.xlsx", "--out", tmp_path / "out")
    assert result.exit_code == 2 and "no business-unit rows" in result.output


@pytest.mark.parametrize("payload", [b"name,tokens_per_day\nA,1\n", b"%PDF-1.7 not a workbook", b"PK\x03\x04\x00\x00"])
def test_a_file_that_is_not_an_xlsx(tmp_path, payload):
    (tmp_path / "units.xlsx").write_bytes(payload)
    result = batch(tmp_path / "units.xlsx", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "not an .xlsx workbook" in result.output
    assert "Traceback" not in result.output


def test_strict_reports_every_problem_and_writes_nothing(tmp_path):
    src = units(tmp_path, [GOOD, {**GOOD, "name": "Bad", "input_share": 2, "data_privacy": "secret"}])
    out = tmp_path / "out"
    result = batch(src, "--out", out, "--strict")
    assert result.exit_code == 1
    assert "entry 2, column input_share: got 2" in result.output
    assert "entry 2, column data_privacy: got 'secret', expected one of minimal, moderate, strict" in result.output
    assert "nothing was written" in result.output
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--mail", "fax"], "--mail: got 'fax'"),
    (["--only", "Nobody"], "no business unit named 'Nobody'"),
    (["--jobs", "0"], "--jobs"),
])
def test_usage_errors(tmp_path, args, message):
    src = units(tmp_path, [GOOD])
    result = batch(src, "--out", tmp_path / "out", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_bad_as_of_and_missing_input(tmp_path):
    result = runner.invoke(app, ["batch", str(units(tmp_path, [GOOD])), "--out", str(tmp_path / "o"), "--as-of", "June"])
    assert result.exit_code == 2 and "--as-of" in result.output
    result = batch(tmp_path / "nope.xlsx", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "no such file" in result.output


def test_input_template_command(tmp_path):
    target = tmp_path / "units.xlsx"
    result = runner.invoke(app, ["input-template", "-o", str(target)])
    assert result.exit_code == 0 and "runrate batch" in result.output
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == ["Business units", "Help"]
    assert runner.invoke(app, ["input-template", "-o", str(target)]).exit_code == 2  # no silent overwrite
    assert runner.invoke(app, ["input-template", "-o", str(target), "--force"]).exit_code == 0
    assert runner.invoke(app, ["input-template", "-o", str(tmp_path / "u.csv")]).exit_code == 2


# --- Sending through a real SMTP server on loopback ----------------------------------------


def test_mail_send_delivers_each_memo_once(tmp_path):
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free loopback port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = {"RUNRATE_SMTP_HOST": "127.0.0.1", "RUNRATE_SMTP_PORT": str(port),
               "RUNRATE_SMTP_SECURITY": "none", "RUNRATE_SMTP_FROM": "finance@example.com"}
        src = units(tmp_path, [GOOD, {**GOOD, "name": "Claims", "owner_email": "claims@example.com"}])
        args = ["batch", str(src), "--out", str(tmp_path / "out"), "--mail", "send", "--as-of", AS_OF, "--jobs", "2"]
        first = runner.invoke(app, args, env=env)
        assert first.exit_code == 0, first.output
        assert sorted(m["To"] for m in inbox.messages) == ["a@example.com", "claims@example.com"]
        assert all(m["From"] == "finance@example.com" and "X-Unsent" not in m for m in inbox.messages)
        pdf = (tmp_path / "out" / "Claims" / "Claims.pdf").read_bytes()
        claims = next(m for m in inbox.messages if m["To"] == "claims@example.com")
        assert next(claims.iter_attachments()).get_content() == pdf
        again = runner.invoke(app, args, env=env)  # the ledger prevents a second delivery
        assert again.exit_code == 0, again.output
        assert len(inbox.messages) == 2
        summary = json.loads((tmp_path / "out" / "summary.json").read_text())
        assert [u["mail"] for u in summary["units"]] == ["skipped", "skipped"]
    finally:
        controller.stop()


def test_mail_send_without_smtp_settings_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.delenv("RUNRATE_SMTP_HOST", raising=False)
    result = batch(units(tmp_path, [GOOD]), "--out", tmp_path / "out", "--mail", "send")
    assert result.exit_code == 2 and "RUNRATE_SMTP_HOST" in result.output
    assert not (tmp_path / "out").exists()


# --- Interrupted runs ------------------------------------------------------------------------


def _start(tmp_path: Path, n: int = 8):
    rows = [{**GOOD, "name": f"Unit {i}", "tokens_per_day": 1e7 * (i + 1)} for i in range(n)]
    src = units(tmp_path, rows)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "runrate_xl.cli", "batch", str(src), "--out", str(out), "--jobs", "2",
                             "--as-of", AS_OF, "--mail", "drafts"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(out.glob("*/*.pdf")):  # wait until the first BU's memo is complete
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return proc, out


@pytest.mark.slow
def test_ctrl_c_leaves_only_complete_files(tmp_path):
    proc, out = _start(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: the whole process group
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (130, 0, 1), stderr  # 0/1 only if it finished before the signal landed
    assert b"Traceback" not in stderr
    if proc.returncode == 130:
        assert b"interrupted" in stderr
        assert "INTERRUPTED" in (out / "run.log").read_text()
    assert no_leftovers(out) == []
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    for p in files:
        assert_complete(p)


@pytest.mark.slow
def test_kill_leaves_no_partial_final_file_and_a_rerun_cleans_up(tmp_path):
    proc, out = _start(tmp_path)
    os.killpg(proc.pid, signal.SIGKILL)  # no clean-up possible: only atomic renames protect us
    proc.communicate(timeout=60)
    for p in out.rglob("*"):
        if p.name == ".runrate.lock":  # the dead run's lock file; the kernel released the lock itself
            continue
        if p.is_file() and not any(part.endswith(".tmp") for part in p.relative_to(out).parts):
            assert_complete(p)
    result = runner.invoke(app, ["batch", str(tmp_path / "units.yaml"), "--out", str(out), "--as-of", AS_OF, "--jobs", "1",
                                 "--only", "Unit 0"])
    assert no_leftovers(out) == []
    assert not (out / ".runrate.lock").exists()  # taken over and removed by the rerun
    assert (out / "Unit-0" / "scenario.yaml").exists(), result.output

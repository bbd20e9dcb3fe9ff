"""Emailing memos: message building, header safety, drafts, settings, and sending through a real
aiosmtpd server on 127.0.0.1 (refused recipients, retries, auth, the sent ledger, the CLI)."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
from email import policy

import pytest

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from runrate_xl.api import evaluate_scenario
from runrate_xl.mail import (
    MailError, SmtpSettings, build_message, check_address, load_ledger, send_messages, write_draft,
)
from runrate_xl.presets import preset_scenario
from runrate_xl import formatting as fmt
from runrate_xl.report import render_memo

MEMO_DATE = dt.date(2026, 3, 2)
SENDER = "Finance <finance@example.com>"
UNITS = {"Claims": "claims@example.com", "Support": "support@example.com", "Search": "refused@example.com"}


def unit(name: str, owner: str | None, preset: str = "seed004-startup"):
    scenario = preset_scenario(preset).model_copy(update={"name": name, "owner_email": owner})
    return evaluate_scenario(scenario)


@pytest.fixture(scope="module")
def memo_pdf():
    return render_memo(unit("Claims", "claims@example.com"), memo_date=MEMO_DATE)


@pytest.fixture(scope="module")
def messages(memo_pdf):
    return [build_message(unit(n, o), memo_pdf, sender=SENDER, memo_date=MEMO_DATE) for n, o in UNITS.items()]


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def attachment_bytes(msg) -> bytes:
    [part] = [p for p in msg.iter_attachments()]
    assert part.get_content_type() == "application/pdf"
    return part.get_payload(decode=True)


# ------------------------------------------------------------------ building

def test_message_goes_to_the_owner_with_the_key_numbers(memo_pdf):
    ev = unit("Claims", "claims@example.com")
    msg = build_message(ev, memo_pdf, sender=SENDER, memo_filename="Claims memo.pdf", memo_date=MEMO_DATE)
    assert msg["To"] == "claims@example.com"
    assert msg["From"] == SENDER
    assert msg["Subject"] == f"AI run-rate memo: Claims - recommend {ev.recommendation.label}"
    assert msg["Message-ID"].endswith("@example.com>")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    api = ev.options["api"]
    for body in (text, html):
        assert fmt.usd(api.total_monthly) in body
        assert ev.recommendation.label in body
    assert attachment_bytes(msg) == memo_pdf
    assert [p.get_filename() for p in msg.iter_attachments()] == ["Claims-memo.pdf"]


def test_html_body_escapes_the_bu_name(memo_pdf):
    ev = unit("<b>R&D</b>", "rd@example.com")
    html = build_message(ev, memo_pdf, sender=SENDER).get_body(("html",)).get_content()
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in html and "<b>R&D</b>" not in html


def test_no_owner_is_a_clear_error(memo_pdf):
    with pytest.raises(MailError, match="owner_email.*--to"):
        build_message(unit("Claims", None), memo_pdf, sender=SENDER)
    msg = build_message(unit("Claims", None), memo_pdf, sender=SENDER, to="cfo@example.com")
    assert msg["To"] == "cfo@example.com"


@pytest.mark.parametrize("field, kwargs", [
    ("scenario.name", {"name": "Claims\r\nBcc: victim@example.com"}),
    ("scenario.name", {"name": "Claims\nX-Evil: 1"}),
    ("sender", {"sender": "finance@example.com\r\nBcc: victim@example.com"}),
    ("to", {"to": "cfo@example.com\nBcc: victim@example.com"}),
    ("to", {"to": "not-an-address"}),
    ("to", {"to": "a@example.com, b@example.com"}),
    ("sender", {"sender": "finance@localhost"}),
    ("scenario.owner_email", {"owner": "owner@@example.com"}),
])
def test_header_injection_and_bad_addresses_are_refused(memo_pdf, field, kwargs):
    ev = unit(kwargs.get("name", "Claims"), kwargs.get("owner", "claims@example.com"))
    with pytest.raises(MailError) as info:
        build_message(ev, memo_pdf, sender=kwargs.get("sender", SENDER), to=kwargs.get("to"))
    assert info.value.field == field


def test_not_a_pdf_is_refused():
    with pytest.raises(MailError, match="memo_pdf"):
        build_message(unit("Claims", "claims@example.com"), b"hello", sender=SENDER)


def test_check_address_normalises():
    assert check_address("to", "Jane Doe <jane@example.com>") == "Jane Doe <jane@example.com>"
    assert check_address("to", "jane@example.com") == "jane@example.com"


def test_draft_is_an_unsent_eml_with_the_memo(messages, memo_pdf, tmp_path):
    path = write_draft(messages[0], tmp_path / "drafts" / "claims.eml")
    raw = path.read_bytes()
    msg = parsed(raw)
    assert msg["X-Unsent"] == "1"
    assert msg["To"] == "claims@example.com" and msg["Subject"] == messages[0]["Subject"]
    assert attachment_bytes(msg) == memo_pdf
    assert "X-Unsent" not in messages[0]  # the message itself is left as it was


# ------------------------------------------------------------------ settings

def test_settings_from_env():
    env = {"RUNRATE_SMTP_HOST": "smtp.example.com", "RUNRATE_SMTP_PORT": "2525", "RUNRATE_SMTP_SECURITY": "ssl",
           "RUNRATE_SMTP_USER": "bot", "RUNRATE_SMTP_PASSWORD": "s3cret", "RUNRATE_SMTP_FROM": "bot@example.com"}
    s = SmtpSettings.from_env(env)
    assert (s.host, s.effective_port, s.security, s.user, s.sender) == ("smtp.example.com", 2525, "ssl", "bot", "bot@example.com")
    assert s.password.get_secret_value() == "s3cret" and "s3cret" not in repr(s)
    assert SmtpSettings.from_env({"RUNRATE_SMTP_HOST": "h.example.com"}).effective_port == 587


@pytest.mark.parametrize("env, field", [
    ({}, "RUNRATE_SMTP_HOST"),
    ({"RUNRATE_SMTP_HOST": "h.example.com", "RUNRATE_SMTP_PORT": "many"}, "RUNRATE_SMTP_PORT"),
    ({"RUNRATE_SMTP_HOST": "h.example.com", "RUNRATE_SMTP_PORT": "70000"}, "RUNRATE_SMTP_PORT"),
    ({"RUNRATE_SMTP_HOST": "h.example.com", "RUNRATE_SMTP_SECURITY": "tls"}, "RUNRATE_SMTP_SECURITY"),
    ({"RUNRATE_SMTP_HOST": "h.example.com\r\nX: y"}, "RUNRATE_SMTP_HOST"),
    ({"RUNRATE_SMTP_HOST": "h.example.com", "RUNRATE_SMTP_FROM": "nobody"}, "RUNRATE_SMTP_FROM"),
])
def test_settings_errors_name_the_variable(env, field):
    with pytest.raises(MailError) as info:
        SmtpSettings.from_env(env)
    assert info.value.field == field


def test_settings_from_toml_and_yaml(tmp_path):
    toml = tmp_path / "smtp.toml"
    toml.write_text('[smtp]\nhost = "mail.example.com"\nport = 465\nsecurity = "ssl"\nuser = "bot"\nfrom = "bot@example.com"\n')
    s = SmtpSettings.from_file(toml, {"RUNRATE_SMTP_PASSWORD": "pw"})
    assert (s.host, s.effective_port, s.security, s.sender) == ("mail.example.com", 465, "ssl", "bot@example.com")
    assert s.password.get_secret_value() == "pw"
    yml = tmp_path / "smtp.yaml"
    yml.write_text("host: mail.example.com\nsecurity: starttls\n")
    assert SmtpSettings.from_file(yml, {}).effective_port == 587
    bad = tmp_path / "bad.toml"
    bad.write_text('host = "mail.example.com"\npassword = "oops"\n')
    with pytest.raises(MailError, match="RUNRATE_SMTP_PASSWORD"):
        SmtpSettings.from_file(bad, {})
    typo = tmp_path / "typo.yaml"
    typo.write_text("host: mail.example.com\nprot: 25\n")
    with pytest.raises(MailError, match="prot"):
        SmtpSettings.from_file(typo, {})


# ------------------------------------------------------------------ a real SMTP server

class Recorder:
    """aiosmtpd handler: refuses some recipients for good (550) or a few times (451), keeps the rest."""

    def __init__(self, refused=(), busy=None):
        self.refused = set(refused)
        self.busy = dict(busy or {})  # address -> how many 451 replies before accepting
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 no such user here"
        if self.busy.get(address, 0) > 0:
            self.busy[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Authenticator:
    def __init__(self, user: str, password: str):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (self.user, self.password)
        return AuthResult(success=ok, handled=False)  # handled=False: the server sends the 535 reply


@pytest.fixture
def smtp_server():
    started = []

    def start(handler, **kwargs):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
        controller.start()
        started.append(controller)
        return SmtpSettings(host="127.0.0.1", port=controller.port, security="none", timeout=10)

    yield start
    for c in started:
        c.stop()


def test_refused_recipient_is_reported_and_the_others_arrive(smtp_server, messages, memo_pdf, tmp_path):
    handler = Recorder(refused={"refused@example.com"})
    settings = smtp_server(handler)
    ledger = tmp_path / "ledger.json"
    delays = []
    results = send_messages(messages, settings, ledger_path=ledger, sleep=delays.append)
    assert [r.status for r in results] == ["sent", "sent", "failed"]
    assert "550" in results[2].error and results[2].attempts == 1  # permanent: not retried
    assert delays == []
    assert sorted(rcpt[0] for rcpt, _ in handler.received) == ["claims@example.com", "support@example.com"]
    for _, raw in handler.received:
        assert attachment_bytes(parsed(raw)) == memo_pdf
    sent = load_ledger(ledger)["sent"]
    assert {v["to"] for v in sent.values()} == {"claims@example.com", "support@example.com"}
    assert {v["message_id"] for v in sent.values()} == {messages[0]["Message-ID"], messages[1]["Message-ID"]}
    assert all(len(v["content_sha256"]) == 64 for v in sent.values())

    # A rerun sends nothing new; only the refused one is tried again.
    again = send_messages(messages, settings, ledger_path=ledger, sleep=delays.append)
    assert [r.status for r in again] == ["skipped", "skipped", "failed"]
    assert len(handler.received) == 2
    # --force sends again.
    forced = send_messages(messages[:1], settings, ledger_path=ledger, force=True, sleep=delays.append)
    assert [r.status for r in forced] == ["sent"] and len(handler.received) == 3


def test_transient_refusals_are_retried_with_backoff(smtp_server, messages, tmp_path):
    handler = Recorder(busy={"claims@example.com": 2})
    settings = smtp_server(handler)
    delays = []
    [result] = send_messages(messages[:1], settings, ledger_path=tmp_path / "l.json", sleep=delays.append,
                             attempts=3, backoff_seconds=0.25)
    assert result.status == "sent" and result.attempts == 3
    assert delays == [0.25, 0.5]
    assert len(handler.received) == 1


def test_unreachable_server_fails_every_message_after_bounded_retries(messages, tmp_path):
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout=2)
    delays = []
    results = send_messages(messages[:2], settings, ledger_path=tmp_path / "l.json", sleep=delays.append, attempts=2)
    assert [r.status for r in results] == ["failed", "failed"]
    assert all("connection" in r.error for r in results)
    assert delays == [0.5, 0.5]
    assert not (tmp_path / "l.json").exists()


def test_auth_works_and_a_wrong_password_sends_nothing(smtp_server, messages, memo_pdf, tmp_path):
    handler = Recorder()
    settings = smtp_server(handler, authenticator=Authenticator("bot", "s3cret"), auth_required=True, auth_require_tls=False)
    good = SmtpSettings(**{**settings.model_dump(), "user": "bot", "password": "s3cret"})
    results = send_messages(messages[:2], good, ledger_path=tmp_path / "ok.json")
    assert [r.status for r in results] == ["sent", "sent"]
    assert attachment_bytes(parsed(handler.received[0][1])) == memo_pdf

    bad = SmtpSettings(**{**good.model_dump(), "password": "wrong"})
    results = send_messages(messages, bad, ledger_path=tmp_path / "bad.json", sleep=lambda s: None)
    assert [r.status for r in results] == ["failed"] * 3
    assert "authentication failed" in results[0].error and "not attempted" in results[1].error
    assert len(handler.received) == 2

    # No auth offered: the server refuses the mail, nothing is delivered.
    results = send_messages(messages[:1], SmtpSettings(host="127.0.0.1", port=settings.port, security="none"),
                            ledger_path=tmp_path / "none.json", sleep=lambda s: None)
    assert results[0].status == "failed" and len(handler.received) == 2


def test_password_never_crosses_the_network_in_clear(messages, tmp_path):
    settings = SmtpSettings(host="192.0.2.1", port=25, security="none", user="bot", password="pw", timeout=1)
    results = send_messages(messages[:2], settings, ledger_path=tmp_path / "l.json", sleep=lambda s: None)
    assert [r.status for r in results] == ["failed", "failed"]
    assert "in clear" in results[0].error and results[0].attempts == 1 and "not attempted" in results[1].error
    no_password = SmtpSettings(host="127.0.0.1", port=25, security="none", user="bot")
    [result] = send_messages(messages[:1], no_password, ledger_path=tmp_path / "l.json", sleep=lambda s: None)
    assert "RUNRATE_SMTP_PASSWORD" in result.error


def test_cli_mail_drafts_by_default_and_sends_with_send(smtp_server, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from runrate_xl.cli import app

    runner = CliRunner()
    drafts = tmp_path / "drafts"
    r = runner.invoke(app, ["mail", "-p", "seed004-startup", "-p", "seed004-series-c", "--from", "fin@example.com",
                            "--to", "cfo@example.com", "--drafts", str(drafts), "--date", "2026-03-02"])
    assert r.exit_code == 0, r.output
    emls = sorted(drafts.glob("*.eml"))
    assert len(emls) == 2 and all(parsed(p.read_bytes())["X-Unsent"] == "1" for p in emls)
    assert "Nothing was sent" in r.output

    # No owner and no --to: that unit fails, the exit code says so.
    r = runner.invoke(app, ["mail", "-p", "seed004-startup", "--from", "fin@example.com", "--drafts", str(tmp_path / "d2")])
    assert r.exit_code == 1 and "owner_email" in r.output

    handler = Recorder(refused={"refused@example.com"})
    settings = smtp_server(handler)
    monkeypatch.setenv("RUNRATE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RUNRATE_SMTP_PORT", str(settings.port))
    monkeypatch.setenv("RUNRATE_SMTP_SECURITY", "none")
    monkeypatch.setenv("RUNRATE_SMTP_FROM", "fin@example.com")
    ledger = tmp_path / "ledger.json"
    args = ["mail", "-p", "seed004-startup", "--send", "--to", "cfo@example.com", "--ledger", str(ledger)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert len(handler.received) == 1
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "skipped" in r.output and len(handler.received) == 1
    r = runner.invoke(app, ["mail", "-p", "seed004-series-c", "--send", "--to", "refused@example.com", "--ledger", str(ledger)])
    assert r.exit_code == 1 and "550" in r.output
    assert json.loads(ledger.read_text())["sent"]


def test_one_sender_rule():
    from runrate_xl.mail import MailError, SmtpSettings, resolve_sender

    settings = SmtpSettings(host="h.example.com", sender="smtp@example.com")
    env = {"RUNRATE_SMTP_FROM": "env@example.com"}
    assert resolve_sender("given@example.com", settings, environ=env) == "given@example.com"
    assert resolve_sender(None, settings, environ=env) == "smtp@example.com"
    assert resolve_sender(None, None, environ=env) == "env@example.com"
    assert resolve_sender(None, None, default="d@example.com", environ={}) == "d@example.com"
    with pytest.raises(MailError, match="--from"):
        resolve_sender(None, None, environ={})

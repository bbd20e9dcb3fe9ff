"""Emailing the decision memos: one message per business unit, as .eml drafts or through SMTP.

Drafts are the default (nothing leaves the machine). Sending retries transient failures (4xx
replies, dropped connections) with a short bounded back-off, keeps going when one recipient is
refused, and records each sent message (message id + content hash) in a JSON ledger so a rerun
does not send the same memo twice unless forced. Header values never carry CR/LF.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Mapping, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .engine.errors import RunrateError, short_repr
from .engine.results import Evaluation
from .fsutil import atomic_write_bytes, atomic_write_text, safe_filename
from .presentation import Kpi, headline, kpis, memo_date_default, plain, what_would_change
from .sinks import header_text

PathLike = Union[str, Path]
ENV_PREFIX = "RUNRATE_SMTP_"
BU_HEADER = "X-Runrate-BU"
HASH_HEADER = "X-Runrate-Content-SHA256"
_ADDR_SPEC = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CR, LF and other controls (tab is allowed)


class MailError(RunrateError, ValueError):
    """Bad mail input or settings: names the field, the value and what was expected."""

    def __init__(self, field: str, value: Any, expected: str):
        super().__init__(self._record(field, value, expected))


# ---------------------------------------------------------------- header safety

def check_header(field: str, value: str) -> str:
    """``value`` if it is safe in a header: no CR, LF or other control characters."""
    if not isinstance(value, str) or _CONTROL.search(value):
        raise MailError(field, value, "text without line breaks or control characters (header injection)")
    return value


def check_address(field: str, value: Optional[str]) -> str:
    """One mailbox, ``a@b.example`` or ``Name <a@b.example>``, returned normalised."""
    if value is None or not str(value).strip():
        raise MailError(field, value, "an email address such as owner@example.com")
    check_header(field, value)
    name, addr = parseaddr(value)
    if not _ADDR_SPEC.match(addr or "") or "," in value or value.count("@") != 1:
        raise MailError(field, value, "one email address such as owner@example.com")
    name = header_text(name).strip()
    return formataddr((name, addr)) if name else addr


def _addr_spec(value: str) -> str:
    return parseaddr(value)[1]


# ---------------------------------------------------------------- building messages

def _bodies(evaluation: Evaluation, memo_filename: str, day: dt.date) -> tuple[str, str]:
    s = evaluation.scenario
    rec = evaluation.recommendation
    head = plain(headline(evaluation))
    figures = [Kpi(plain(k.label), k.value, plain(k.note), k.tone) for k in kpis(evaluation)]
    changes = [plain(c) for c in what_would_change(evaluation)[:2]]
    text = [f"AI run-rate decision memo: {s.name}", f"{day.isoformat()}", "",
            f"Recommendation: {rec.label}" + (" (close call)" if rec.close_call else ""), head, ""]
    text += [f"- {k.label}: {k.value}" + (f" ({k.note})" if k.note else "") for k in figures]
    if changes:
        text += ["", "What would change the answer:"] + [f"- {c}" for c in changes]
    text += ["", f"The full memo is attached ({memo_filename}).", "", "Figures from the runrate_xl cost engine, USD."]
    e = html.escape
    rows = "".join(
        f'<tr><td style="padding:4px 12px 4px 0;color:#5b6775">{e(k.label)}</td>'
        f'<td style="padding:4px 12px 4px 0;font-weight:bold">{e(k.value)}</td>'
        f'<td style="padding:4px 0;color:#5b6775">{e(k.note)}</td></tr>' for k in figures)
    change_items = "".join(f"<li>{e(c)}</li>" for c in changes)
    body = (
        '<!DOCTYPE html><html><body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#1d2733;font-size:14px">'
        f'<p style="color:#1f5f99;font-size:12px;text-transform:uppercase;letter-spacing:1px;margin:0">AI run-rate decision memo</p>'
        f'<h2 style="margin:4px 0 12px 0;color:#17324d">{e(s.name)}</h2>'
        f'<p style="margin:0 0 4px 0">Recommendation: <b>{e(rec.label)}</b>{" (close call)" if rec.close_call else ""}</p>'
        f"<p>{e(head)}</p><table>{rows}</table>"
        + (f"<p><b>What would change the answer</b></p><ul>{change_items}</ul>" if changes else "")
        + f"<p>The full memo is attached ({e(memo_filename)}).</p>"
        '<p style="color:#8792a0;font-size:12px">Figures from the runrate_xl cost engine, USD.</p></body></html>'
    )
    return "\n".join(text) + "\n", body


def content_hash(to: str, subject: str, text: str, html_body: str, memo_pdf: bytes) -> str:
    h = hashlib.sha256()
    for part in (to.lower(), subject, text, html_body):
        h.update(part.encode("utf-8") + b"\0")
    h.update(memo_pdf)
    return h.hexdigest()


def build_message(evaluation: Evaluation, memo_pdf: bytes, *, sender: str, to: Optional[str] = None,
                  memo_filename: str = "memo.pdf", memo_date: Optional[dt.date] = None) -> EmailMessage:
    """One message for one business unit: To = its owner (or ``to``), subject with the BU name and
    the recommendation, plain-text and HTML bodies with the key figures, the memo attached."""
    s = evaluation.scenario
    sender = check_address("sender", sender)
    if to is None and not s.owner_email:
        raise MailError("scenario.owner_email", s.owner_email,
                        "the business unit owner's email address (set owner_email in the scenario, or pass --to)")
    recipient = check_address("to" if to is not None else "scenario.owner_email",
                              to if to is not None else s.owner_email)
    name = check_header("scenario.name", header_text(s.name))
    if not isinstance(memo_pdf, (bytes, bytearray)) or not bytes(memo_pdf).startswith(b"%PDF-"):
        raise MailError("memo_pdf", type(memo_pdf).__name__, "the PDF bytes of the memo")
    stem = safe_filename(memo_filename[:-4] if memo_filename.lower().endswith(".pdf") else memo_filename)
    filename = f"{stem}.pdf"
    day = memo_date_default(memo_date)
    rec = evaluation.recommendation
    subject = check_header("subject", header_text(f"AI run-rate memo: {name} - recommend {rec.label}"))
    text, body = _bodies(evaluation, filename, day)

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    # Date, Message-ID and MIME boundaries derive from the memo date and the content, so the same
    # memo always gives the same bytes (reruns are idempotent; drafts diff cleanly).
    digest = content_hash(_addr_spec(recipient), subject, text, body, bytes(memo_pdf))
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.timezone.utc)
    msg["Date"] = formatdate(noon.timestamp(), localtime=False, usegmt=True)
    msg["Message-ID"] = f"<runrate.{digest[:32]}@{_addr_spec(sender).rsplit('@', 1)[1]}>"
    msg[BU_HEADER] = name
    msg[HASH_HEADER] = digest
    msg.set_content(text)
    msg.add_alternative(body, subtype="html")
    msg.add_attachment(bytes(memo_pdf), maintype="application", subtype="pdf", filename=filename)
    for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"runrate-{digest[:24]}-{i}")
    return msg


def write_draft(message: EmailMessage, path: PathLike) -> Path:
    """Write ``message`` as an .eml draft (``X-Unsent: 1`` makes Outlook open it for editing)."""
    draft = EmailMessage(policy=policy.SMTP)
    for key, value in message.items():
        draft[key] = value
    draft.set_payload(message.get_payload())
    if "X-Unsent" not in draft:
        draft["X-Unsent"] = "1"
    return atomic_write_bytes(path, draft.as_bytes())


# ---------------------------------------------------------------- SMTP settings

class SmtpSettings(BaseModel):
    """Where and how to send. The password only ever comes from RUNRATE_SMTP_PASSWORD."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(..., min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:_\[\]-]+$")
    port: Optional[int] = Field(None, ge=1, le=65535, description="Default: 587 starttls, 465 ssl, 25 none.")
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: Optional[str] = Field(None, min_length=1, max_length=254)
    password: Optional[SecretStr] = None
    sender: Optional[str] = Field(None, description="Default From address (RUNRATE_SMTP_FROM).")
    timeout: float = Field(30.0, gt=0, le=600)

    @property
    def effective_port(self) -> int:
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "SmtpSettings":
        env = os.environ if environ is None else environ
        data = {k: env.get(ENV_PREFIX + v) for k, v in
                (("host", "HOST"), ("port", "PORT"), ("security", "SECURITY"), ("user", "USER"), ("sender", "FROM"))}
        if not data["host"]:
            raise MailError(f"{ENV_PREFIX}HOST", data["host"], "the SMTP server host name (or give --smtp-config FILE)")
        return cls._build({k: v for k, v in data.items() if v not in (None, "")}, env, source="environment")

    @classmethod
    def from_file(cls, path: PathLike, environ: Optional[Mapping[str, str]] = None) -> "SmtpSettings":
        """TOML or YAML with host, port, security, user, from (optionally under an ``smtp`` table)."""
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise MailError("smtp config", str(p), f"a readable file ({exc.strerror})") from None
        try:
            if p.suffix.lower() == ".toml":
                try:
                    import tomllib
                except ModuleNotFoundError:  # Python 3.10
                    import tomli as tomllib  # type: ignore[no-redef]
                data = tomllib.loads(raw.decode("utf-8"))
            elif p.suffix.lower() in (".yaml", ".yml"):
                from .safe_yaml import load_yaml

                data = load_yaml(raw, max_bytes=64 * 1024) or {}
            else:
                raise MailError("smtp config", str(p), "a .toml, .yaml or .yml file")
        except MailError:
            raise
        except Exception as exc:  # parse errors of either format
            raise MailError("smtp config", str(p), f"valid {p.suffix[1:].upper()} ({exc})") from None
        if isinstance(data, dict) and isinstance(data.get("smtp"), dict):
            data = data["smtp"]
        if not isinstance(data, dict):
            raise MailError("smtp config", str(p), "a table of settings (host, port, security, user, from)")
        if "password" in data:
            raise MailError(f"{p.name}: password", "***", f"no password in files; set {ENV_PREFIX}PASSWORD in the environment")
        data = dict(data)
        if "from" in data:
            data["sender"] = data.pop("from")
        env = os.environ if environ is None else environ
        return cls._build(data, env, source=str(p))

    @classmethod
    def _build(cls, data: dict, env: Mapping[str, str], source: str) -> "SmtpSettings":
        password = env.get(ENV_PREFIX + "PASSWORD")
        if password:
            data["password"] = password
        try:
            settings = cls(**data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "settings"
            name = f"{ENV_PREFIX}{ {'sender': 'FROM'}.get(field, field.upper())}" if source == "environment" else f"{source}: {field}"
            raise MailError(name, err.get("input"), err["msg"]) from None
        if settings.sender is not None:
            check_address(f"{ENV_PREFIX}FROM" if source == "environment" else f"{source}: from", settings.sender)
        if settings.user is not None:
            check_header("user", settings.user)
        settings.check_credentials_safe()  # at start-up, before any memo is rendered
        return settings

    def check_credentials_safe(self) -> None:
        """Credentials never cross the network in clear, and a password is never set without the
        user it belongs to (it would be silently unused, or sent where nobody expects it)."""
        if self.password is not None and not self.user:
            raise MailError(f"{ENV_PREFIX}USER", None, f"the user name that {ENV_PREFIX}PASSWORD belongs to "
                            "(a password without a user is not used)")
        if (self.user or self.password is not None) and self.security == "none" and not _is_loopback(self.host):
            raise MailError("security", "none", f"starttls or ssl: the password would cross the network in clear to {self.host}")


def resolve_sender(given: Optional[str] = None, settings: Optional[SmtpSettings] = None, *,
                   default: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> str:
    """The one sender rule: the From address given (``--from``), else the SMTP settings' sender,
    else RUNRATE_SMTP_FROM, else ``default``; none of them is an error naming --from. The address
    itself is checked where it is used (:func:`check_address`)."""
    env = os.environ if environ is None else environ
    sender = given or (settings.sender if settings else None) or env.get(f"{ENV_PREFIX}FROM") or default
    if not sender:
        raise MailError("--from", None, f"a sender address (or set {ENV_PREFIX}FROM)")
    return sender


# ---------------------------------------------------------------- sending

@dataclass
class SendResult:
    bu: str
    to: str
    status: Literal["sent", "skipped", "failed"]
    message_id: str = ""
    content_sha256: str = ""
    attempts: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("sent", "skipped")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    password = settings.password.get_secret_value() if settings.password else ""
    settings.check_credentials_safe()  # again before any connection is opened
    if settings.user:
        if not password:
            raise MailError(f"{ENV_PREFIX}PASSWORD", None, f"the password of {settings.user} in the environment")
    port = settings.effective_port
    if settings.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, port, timeout=settings.timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.host, port, timeout=settings.timeout)
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
    if settings.user:
        try:
            smtp.login(settings.user, password)
        except BaseException:
            smtp.close()
            raise
    return smtp


def load_ledger(path: PathLike) -> dict:
    p = Path(path)
    if not p.exists():
        return {"version": 1, "sent": {}}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MailError("ledger", str(p), f"a readable JSON ledger of sent memos ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sent"), dict):
        raise MailError("ledger", str(p), 'a JSON object with a "sent" table')
    return data


def ledger_key(message: EmailMessage) -> str:
    """What makes a message unique: its recipient, its memo's unique file name and the hash of
    everything it says (subject, bodies, the memo's bytes). Two units with the same name and
    owner are two messages; the same memo to the same person is one."""
    attachment = next((p.get_filename() for p in message.iter_attachments()), "") or ""
    return f"{_addr_spec(str(message['To'])).lower()}|{attachment}|{message.get(HASH_HEADER, '')}"


def _already_sent(ledger: dict, key: str, digest: str) -> Optional[dict]:
    """The ledger entry of this exact message: by key, or by content hash (entries written
    under the older BU|recipient keys still count, so an upgrade never re-sends)."""
    entry = ledger["sent"].get(key)
    if entry is None and digest:
        entry = next((v for v in ledger["sent"].values() if isinstance(v, dict) and v.get("content_sha256") == digest), None)
    return entry


def _transient(code: Optional[int]) -> bool:
    return code is not None and 400 <= code < 500


def send_messages(messages: Iterable[EmailMessage], settings: SmtpSettings, *, ledger_path: PathLike, force: bool = False,
                  attempts: int = 3, backoff_seconds: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> list[SendResult]:
    """Send each message (one SMTP session, reopened when it drops); ``messages`` may be a
    generator, so only the message being sent need be in memory. Already-sent messages (same
    recipient, memo file and content hash in the ledger) are skipped unless ``force``. Transient failures are retried
    ``attempts`` times with back-off ``backoff_seconds`` x 1, 2, 4...; a refused recipient fails
    that message only. The ledger is rewritten after every message sent."""
    ledger = load_ledger(ledger_path)
    results: list[SendResult] = []
    smtp: Optional[smtplib.SMTP] = None
    fatal = ""
    try:
        for msg in messages:
            bu = str(msg.get(BU_HEADER, ""))
            to = _addr_spec(str(msg.get("To", "")))
            digest = str(msg.get(HASH_HEADER, ""))
            result = SendResult(bu=bu, to=to, status="failed", message_id=str(msg.get("Message-ID", "")), content_sha256=digest)
            results.append(result)
            try:
                for field in ("From", "To", "Subject", BU_HEADER):
                    check_header(field, str(msg.get(field, "")))
                check_address("To", to)
            except MailError as exc:
                result.error = str(exc)
                continue
            key = ledger_key(msg)
            previous = _already_sent(ledger, key, digest)
            if previous is not None and not force:
                result.status, result.message_id = "skipped", previous.get("message_id", "")
                result.error = "already sent"
                continue
            if fatal:
                result.error = f"not attempted: {fatal}"
                continue
            for attempt in range(1, attempts + 1):
                result.attempts = attempt
                try:
                    if smtp is None:
                        smtp = _connect(settings)
                    smtp.send_message(msg, from_addr=_addr_spec(str(msg["From"])), to_addrs=[to])
                    result.status, result.error = "sent", ""
                    break
                except smtplib.SMTPAuthenticationError as exc:
                    fatal = f"authentication failed ({exc.smtp_code} {_text(exc.smtp_error)})"
                    result.error = fatal
                    smtp = _drop(smtp)
                    break
                except smtplib.SMTPRecipientsRefused as exc:
                    code, reply = next(iter(exc.recipients.values()), (None, b""))
                    result.error = f"recipient refused: {code} {_text(reply)}"
                    if not _transient(code):
                        break
                except smtplib.SMTPResponseException as exc:
                    result.error = f"server replied {exc.smtp_code} {_text(exc.smtp_error)}"
                    if not _transient(exc.smtp_code):
                        _reset(smtp)
                        break
                    smtp = _drop(smtp)
                except MailError as exc:
                    fatal = str(exc)
                    result.error = fatal
                    smtp = None
                    break
                except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, socket.timeout, OSError) as exc:
                    result.error = f"connection problem: {type(exc).__name__}: {exc}"
                    smtp = _drop(smtp)
                except smtplib.SMTPException as exc:
                    result.error = f"SMTP error: {exc}"
                    break
                if attempt < attempts:
                    sleep(backoff_seconds * 2 ** (attempt - 1))
            if result.status == "sent":
                ledger["sent"][key] = {
                    "bu": bu, "to": to, "message_id": result.message_id, "content_sha256": digest,
                    "sent_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
                }
                atomic_write_text(ledger_path, json.dumps(ledger, indent=2, sort_keys=True) + "\n")
    finally:
        _drop(smtp, quit=True)
    return results


def _text(reply: Any) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _reset(smtp: Optional[smtplib.SMTP]) -> None:
    try:
        if smtp is not None:
            smtp.rset()
    except (smtplib.SMTPException, OSError):
        pass


def _drop(smtp: Optional[smtplib.SMTP], quit: bool = False) -> None:
    if smtp is not None:
        try:
            smtp.quit() if quit else smtp.close()
        except (smtplib.SMTPException, OSError):
            smtp.close()
    return None

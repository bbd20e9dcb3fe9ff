"""One escaping rule per output sink, for text that came from a user (BU names, owners, file
paths, error messages quoting input values).

Every place that writes untrusted text into a format with active syntax calls exactly one of
these at the point of writing:

==================  ==========================================================================
sink                rule
==================  ==========================================================================
CSV cell            :func:`csv_cell` - OWASP CSV-injection guidance: a text cell whose first
                    character (after leading blanks) is ``= + - @`` or that starts with TAB/CR/LF
                    gets a leading ``'`` so spreadsheets read it as text, never as a formula.
terminal (Rich)     :func:`terminal_text` - control, ANSI-escape and bidi/format characters are
                    shown as ``\\xNN`` / ``\\uNNNN`` escapes; Rich markup is escaped. The
                    consoles are built with :data:`CONSOLE_OPTIONS` (no ``:emoji:`` codes).
chart label         :data:`CHART_RC` turns matplotlib's mathtext parsing off for every chart, so
                    ``$...$`` in a label is literal; :func:`chart_label` also drops control and
                    bidi characters and shortens the label.
header (e-mail)     :func:`header_text` - bidi overrides, zero-width and other format (Cf)
                    characters removed (CR/LF and other controls are refused by check_header).
regex replacement   none: user text is never used as an ``re.sub`` replacement *template*; pass
                    a function (``lambda m: text``) or use ``str.replace`` (see
                    :func:`literal_replacement`).
==================  ==========================================================================
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable

from .engine.errors import short_repr

__all__ = ["csv_cell", "terminal_text", "chart_label", "header_text", "visible_controls", "literal_replacement",
           "CHART_RC", "CONSOLE_OPTIONS", "short_value"]

# --- shared: which characters are "invisible/active" --------------------------------------

_CSV_TRIGGERS = ("=", "+", "-", "@")
_CSV_LEADING_CONTROLS = ("\t", "\r", "\n")


def _is_hidden(ch: str) -> bool:
    """Control characters (C0, DEL, C1) except TAB/LF, and format characters (Cf: bidi
    overrides and isolates, zero-width joiners, BOM...), plus line/paragraph separators."""
    if ch in "\t\n":
        return False
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cf", "Zl", "Zp")


def _escape_char(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_controls(text: str) -> str:
    """``text`` with every control/format character replaced by a visible escape (``\\x1b``,
    ``\\u202e``); a backslash stays a backslash."""
    if not any(_is_hidden(ch) for ch in text):
        return text
    return "".join(_escape_char(ch) if _is_hidden(ch) else ch for ch in text)


def _remove_hidden(text: str, keep: str = "") -> str:
    return "".join(ch for ch in text if ch in keep or not _is_hidden(ch))


# --- CSV ----------------------------------------------------------------------------------


def csv_cell(value: Any) -> Any:
    """A value safe to write as a CSV cell: non-text values unchanged; text that a spreadsheet
    would read as a formula or DDE call gets a leading apostrophe (OWASP)."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_CSV_LEADING_CONTROLS) or value.lstrip(" \u00a0")[:1] in _CSV_TRIGGERS:
        return "'" + value
    # full-width look-alikes (U+FF1D etc.) are converted to ASCII by some spreadsheet imports
    if unicodedata.normalize("NFKC", value.lstrip(" \u00a0")[:1]) in _CSV_TRIGGERS:
        return "'" + value
    return value


# --- terminal -----------------------------------------------------------------------------

CONSOLE_OPTIONS: dict[str, Any] = {"emoji": False}


def terminal_text(value: Any, *, markup: bool = True) -> str:
    """Text for a Rich console: controls and ANSI escapes made visible, markup escaped (pass
    ``markup=False`` when the print call itself has ``markup=False``)."""
    text = visible_controls(str(value))
    if not markup:
        return text
    from rich.markup import escape

    return escape(text)


# --- chart labels -------------------------------------------------------------------------

CHART_RC: dict[str, Any] = {"text.parse_math": False, "text.usetex": False}


def chart_label(value: Any, max_length: int = 0) -> str:
    """A chart label: control/bidi characters removed, shortened to ``max_length`` (0: no
    limit). Mathtext is off for every chart (:data:`CHART_RC`), so ``$`` needs no escape."""
    text = _remove_hidden(str(value))
    if max_length and len(text) > max_length:
        text = text[: max_length - 1] + "\u2026"
    return text


# --- e-mail headers -----------------------------------------------------------------------


def header_text(value: Any) -> str:
    """Text for an e-mail header (subject, display name, X- header): bidi overrides and
    isolates, zero-width and every other format (Cf) character and line/paragraph separator
    removed, so what a mail client shows is what was written. Control characters (CR, LF...)
    are left for :func:`runrate_xl.mail.check_header` to refuse (header injection is an error,
    not something to repair silently)."""
    return "".join(ch for ch in str(value) if unicodedata.category(ch) not in ("Cf", "Zl", "Zp"))


# --- regex replacement --------------------------------------------------------------------


def literal_replacement(text: str) -> Callable[[re.Match], str]:
    """A replacement for ``re.sub`` that inserts ``text`` literally (no ``\\1``, ``\\g<..>`` or
    backslash processing)."""
    return lambda _m: text


# --- values quoted in messages ------------------------------------------------------------

short_value = short_repr  # one bound for every value quoted in an error message (engine.errors)

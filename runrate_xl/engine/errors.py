"""Errors the engine raises. Every one names the field, the value and what was expected."""

from __future__ import annotations

import math
from typing import Any, Optional


class RunrateError(Exception):
    """Base class for every error runrate_xl raises on purpose.

    An error about one input carries the problem record every adapter reads the same way:
    ``field`` (what was wrong), ``value`` (what was given), ``expected`` (what would do) and an
    optional ``hint``; its message is ``"<field>: got <value>, expected <expected> (<hint>)"``.
    Errors that are not about one input (no answer, a missing extra) leave ``field`` None.
    """

    field: Optional[str] = None
    value: Any = None
    expected: Optional[str] = None
    hint: str = ""

    def _record(self, field: str, value: Any, expected: str, hint: str = "", shown: Optional[str] = None) -> str:
        """Store the problem record and return its message (``shown``: the value as the user
        would recognise it, default ``repr``)."""
        self.field, self.value, self.expected, self.hint = field, value, expected, hint
        text = f"{field}: got {repr(value) if shown is None else shown}, expected {expected}"
        return text + (f" ({hint})" if hint else "")

    @property
    def problem(self) -> Optional[tuple[str, Any, str]]:
        """(field, value, expected), or None for an error that is not about one input."""
        return None if self.field is None else (self.field, self.value, self.expected)


class InputError(RunrateError, ValueError):
    """A value is out of range or of the wrong kind.

    ``kind`` is ``"type"`` for a value of the wrong type and ``"range"`` for a value of the
    right type outside its allowed range; adapters map it (Excel: ``#VALUE!`` / ``#NUM!``).
    """

    def __init__(self, field: str, value: Any, expected: str, *, kind: str = "range", hint: str = ""):
        self.kind = kind
        super().__init__(self._record(field, value, expected, hint))


class NoAnswer(RunrateError):
    """The question has no answer for these inputs (e.g. no break-even); ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def check_finite(field: str, value: float) -> float:
    """Reject NaN and infinities, naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(field, value, "a number", kind="type")
    if not math.isfinite(value):
        raise InputError(field, value, "a finite number")
    return float(value)


def check_non_negative(field: str, value: float) -> float:
    value = check_finite(field, value)
    if value < 0:
        raise InputError(field, value, "a number >= 0")
    return value


def check_positive(field: str, value: float) -> float:
    value = check_finite(field, value)
    if value <= 0:
        raise InputError(field, value, "a number > 0")
    return value


def check_fraction(field: str, value: float, *, allow_zero: bool = True) -> float:
    """A share or utilization: a fraction in [0, 1] (or (0, 1]). 80 gets told to use 0.8."""
    value = check_finite(field, value)
    low_ok = value >= 0 if allow_zero else value > 0
    if low_ok and value <= 1:
        return value
    expected = "a fraction between 0 and 1" if allow_zero else "a fraction > 0 and <= 1"
    hint = f"use {value / 100:g}" if 1 < value <= 100 else ""
    raise InputError(field, value, expected, hint=hint)

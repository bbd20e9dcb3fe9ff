"""Errors the engine raises. Every one names the field, the value and what was expected."""

from __future__ import annotations

import math
from typing import Any


class RunrateError(Exception):
    """Base class for every error runrate_xl raises on purpose."""


class InputError(RunrateError, ValueError):
    """A value is out of range or of the wrong kind.

    ``kind`` is ``"type"`` for a value of the wrong type and ``"range"`` for a value of the
    right type outside its allowed range; adapters map it (Excel: ``#VALUE!`` / ``#NUM!``).
    """

    def __init__(self, field: str, value: Any, expected: str, *, kind: str = "range", hint: str = ""):
        self.field = field
        self.value = value
        self.expected = expected
        self.kind = kind
        self.hint = hint
        msg = f"{field}: got {value!r}, expected {expected}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


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

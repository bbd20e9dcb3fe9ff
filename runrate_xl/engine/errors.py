"""Errors the engine raises. Every one names the field, the value and what was expected."""

from __future__ import annotations

import math
from typing import Any, Iterable, Optional


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
        would recognise it, default its bounded ``repr``, see short_repr)."""
        self.field, self.value, self.expected, self.hint = field, value, expected, hint
        text = f"{field}: got {short_repr(value) if shown is None else shown}, expected {expected}"
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


# --- every number that enters: one magnitude bound ---------------------------------------------

MAX_MAGNITUDE = 1e15  # a quadrillion: above any real volume, price or cost; products stay finite


def magnitude_problem(value: Any) -> str:
    """What is wrong with a number as an input ("" if nothing): not finite, or of magnitude
    above 1e15. Other types are not this check's business."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return "a finite number"
    if abs(value) > MAX_MAGNITUDE:
        return f"a number of magnitude at most {MAX_MAGNITUDE:g}"
    return ""


def check_magnitude(field: str, value: float) -> float:
    """Every number that enters (scenario fields, Excel arguments) passes here, so an error
    names the input, not an internal figure further on."""
    problem = magnitude_problem(value)
    if problem:
        raise InputError(field, value, problem)
    return value


def most_extreme(inputs: Iterable[tuple[str, Any]]) -> Optional[tuple[str, float]]:
    """The input furthest from 1 in orders of magnitude (a tiny divisor or a huge factor): the
    one to name when a result leaves the finite range although every input was finite."""
    best, score = None, -1.0
    for name, value in inputs:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0 or not math.isfinite(value):
            continue
        s = abs(math.log10(abs(value)))
        if s > score:
            best, score = (name, float(value)), s
    return best


def not_finite_result(result_field: str, inputs: Iterable[tuple[str, Any]]) -> InputError:
    """The error for a non-finite result, naming the input that drove it there."""
    culprit = most_extreme(inputs)
    if culprit is None:
        return InputError(result_field, float("nan"), "a finite number")
    name, value = culprit
    return InputError(name, value, "a value that keeps the results finite", hint=f"{result_field} would not be a finite number")


MAX_VALUE_CHARS = 80


def short_repr(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """``repr(value)`` for an error message, bounded: containers are summarised by type and size
    before anything big is built, long reprs are cut with the total length stated."""
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        n = len(value)
        if n > 8:
            return f"<{type(value).__name__} of {n} items>"
        try:
            text = _bounded_repr(value, limit * 4)
        except _TooBig:
            return f"<{type(value).__name__} of {n} items>"
    elif isinstance(value, str) and len(value) > limit * 4:
        text = repr(value[: limit * 4])
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"<an integer of about {int(value.bit_length() * 0.30103) + 1} digits>"
    else:
        text = repr(value)
    if len(text) > limit:
        return text[: limit - 3] + "..." + f" ({len(text) if not isinstance(value, str) else len(value)} chars)"
    return text


class _TooBig(Exception):
    pass


def _bounded_repr(value: Any, budget: int) -> str:
    """repr() that gives up (raises) once more than ``budget`` characters would be built, so a
    nested alias structure is never expanded."""
    out: list[str] = []
    used = [0]

    def emit(s: str) -> None:
        used[0] += len(s)
        if used[0] > budget:
            raise _TooBig
        out.append(s)

    def walk(v: Any, depth: int) -> None:
        if depth > 20:
            raise _TooBig
        if isinstance(v, dict):
            emit("{")
            for i, (k, x) in enumerate(v.items()):
                if i:
                    emit(", ")
                walk(k, depth + 1)
                emit(": ")
                walk(x, depth + 1)
            emit("}")
        elif isinstance(v, (list, tuple)):
            emit("[" if isinstance(v, list) else "(")
            for i, x in enumerate(v):
                if i:
                    emit(", ")
                walk(x, depth + 1)
            emit("]" if isinstance(v, list) else ")")
        elif isinstance(v, str) and len(v) > budget:
            raise _TooBig
        elif isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 200:
            raise _TooBig
        else:
            emit(repr(v))

    walk(value, 0)
    return "".join(out)

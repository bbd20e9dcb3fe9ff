"""Excel-shaped arguments in, Excel-style error text out.

Excel hands a user-defined function floats, strings, booleans, blanks (``None``), dates
(``datetime``) and ranges (lists). The helpers here turn those into the plain values the
engine takes, and turn every error into one short cell-sized message that starts with the
Excel error code that fits:

* ``#VALUE!`` wrong type (text where a number belongs, TRUE/FALSE, a blank required cell,
  a multi-cell range, an unknown name or scenario key);
* ``#NUM!``   a number out of range (a share of 80 -> "use 0.8");
* ``#N/A``    no answer for these inputs (e.g. the cost lines never cross).

Decisions (documented in docs/excel.md):
* numeric text is accepted: ``"50000000"``, ``"5e7"``, ``"50,000,000"`` (commas only as
  thousands separators in groups of three), ``"80%"`` (= 0.8). Anything else is #VALUE!.
* TRUE/FALSE are never numbers here (Excel would silently read them as 1/0).
* a 1x1 range is its single value; a larger range for a single-value argument is #VALUE!.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from typing import Any, Optional, Sequence

from .engine.errors import InputError, NoAnswer, RunrateError, magnitude_problem, not_finite_result, short_repr

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug sits before serial 61)
MAX_SERIAL = 2_958_465  # 9999-12-31
MAX_MESSAGE = 255
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


class ExcelError(RunrateError):
    """An argument the adapter rejects before the engine sees it.

    ``code`` is the Excel error code (#VALUE!, #NUM!, #N/A); the problem record (``field`` = the
    argument, ``value``, ``expected``, ``hint``) is the one every :class:`RunrateError` carries,
    and the message names the argument, the value as the cell shows it and what was expected.
    """

    def __init__(self, code: str, argument: str, value: Any, expected: str, hint: str = ""):
        self.code = code
        super().__init__(self._record(argument, value, expected, hint, shown=describe(value)))

    @property
    def argument(self) -> str:
        """The argument's name (the record's ``field``)."""
        return self.field  # type: ignore[return-value]


def describe(value: Any) -> str:
    """A value as the user would recognise it in a cell."""
    if value is None:
        return "a blank cell"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) and abs(value) > 1e300:
        return short_repr(value)
    if isinstance(value, numbers.Real):
        return format(float(value), ".15g")
    if isinstance(value, (dt.datetime, dt.date)):
        return f"the date {value.isoformat()[:10]}"
    if isinstance(value, (list, tuple)):
        rows = len(value)
        cols = len(value[0]) if rows and isinstance(value[0], (list, tuple)) else 1
        return f"a {rows}x{cols} range"
    return short_repr(value)


def excel_message(exc: BaseException) -> str:
    """The cell text for an error: Excel code first, never a traceback, at most 255 characters."""
    from .api import ScenarioError  # local import: api imports the engine and catalog

    if isinstance(exc, ExcelError):
        text = f"{exc.code} {exc}"
    elif isinstance(exc, InputError):
        # A name that is not in a catalog (model, preset) is a wrong value, not a number out of range.
        numeric = isinstance(exc.value, numbers.Real) and not isinstance(exc.value, bool)
        code = "#NUM!" if exc.kind == "range" and numeric else "#VALUE!"
        text = f"{code} {exc.field}: got {describe(exc.value)}, expected {exc.expected}" + (f" ({exc.hint})" if exc.hint else "")
    elif isinstance(exc, NoAnswer):
        text = f"#N/A {exc.reason}"
    elif isinstance(exc, ScenarioError):
        field, value, expected = exc.problems[0] if exc.problems else ("(scenario)", None, "a valid scenario")
        more = f" (+{len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        text = f"#VALUE! scenario {field}: got {describe(value)}, expected {expected}{more}"
    elif isinstance(exc, RecursionError):
        text = "#VALUE! an argument is a range nested too deeply (expected cells or a 2-column range)"
    else:
        text = f"#VALUE! internal error: {type(exc).__name__}: {str(exc)[:200]}"
    text = " ".join(text.split())  # one line: a cell shows no newlines
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def result_message(function: str, value: Any, arguments: Sequence[tuple[str, Any]] = ()) -> Optional[str]:
    """The #NUM! text when a result leaving a function is not a finite number (NaN, inf) -
    checked for every cell of a spilled array too - naming the argument that drove it there;
    None when the result is fine."""
    cells = value if isinstance(value, (list, tuple)) else [value]
    for cell in cells:
        for v in cell if isinstance(cell, (list, tuple)) else [cell]:
            if isinstance(v, float) and not math.isfinite(v):
                numbers_in = []
                for name, raw in arguments:
                    raw = single(raw, name, strict=False)
                    if isinstance(raw, str):
                        try:
                            raw = float(raw)
                        except ValueError:
                            continue
                    numbers_in.append((name, raw))
                return excel_message(not_finite_result(f"the result of {function}", numbers_in))
    return None


def is_blank(value: Any) -> bool:
    """Blank cell, empty text or a 1x1 range holding one of them."""
    value = single(value, "(blank check)", strict=False)
    return value is None or (isinstance(value, str) and not value.strip())


def single(value: Any, name: str, *, strict: bool = True) -> Any:
    """The one value of a 1x1 range (``[[x]]`` or ``[x]``); other values pass through."""
    while isinstance(value, (list, tuple)):
        flat = [v for row in value for v in (row if isinstance(row, (list, tuple)) else [row])]
        if len(flat) != 1:
            if strict:
                raise ExcelError("#VALUE!", name, value, "a single cell")
            return value
        value = flat[0]
    return value


def number(name: str, value: Any, expected: str = "a number") -> float:
    """A finite float from an Excel number or numeric text; range checks are the engine's."""
    value = single(value, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ExcelError("#VALUE!", name, None, expected, "this argument is required")
    if isinstance(value, bool):
        raise ExcelError("#VALUE!", name, value, expected, "TRUE/FALSE is not a number")
    if isinstance(value, numbers.Real):
        result = float(value)
    elif isinstance(value, str):
        result = _parse_number_text(name, value, expected)
    else:
        raise ExcelError("#VALUE!", name, value, expected)
    if not math.isfinite(result):
        raise ExcelError("#NUM!", name, value, f"a finite number ({expected})")
    problem = magnitude_problem(result)  # the one bound every input number meets (engine.errors)
    if problem:
        raise ExcelError("#NUM!", name, value, problem)
    return result


def whole_number(name: str, value: Any, low: int, high: int) -> int:
    """An integer in [low, high] (e.g. months); 12.5 is rejected rather than rounded."""
    expected = f"a whole number from {low} to {high}"
    x = number(name, value, expected)
    if x != int(x):
        raise ExcelError("#NUM!", name, value, expected)
    if not low <= x <= high:
        raise ExcelError("#NUM!", name, value, expected)
    return int(x)


def text(name: str, value: Any, expected: str) -> str:
    """Non-empty text, stripped."""
    value = single(value, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ExcelError("#VALUE!", name, None, expected, "this argument is required")
    if not isinstance(value, str):
        raise ExcelError("#VALUE!", name, value, expected)
    return value.strip()


def choice(name: str, value: Any, choices: dict[str, str], expected: str) -> str:
    """One of ``choices`` (lookup keys normalised: lower case, spaces and hyphens as underscores)."""
    raw = text(name, value, expected)
    key = re.sub(r"[\s\-]+", "_", raw.lower())
    if key not in choices:
        raise ExcelError("#VALUE!", name, raw, expected)
    return choices[key]


def date(name: str, value: Any) -> Optional[dt.date]:
    """A date from an Excel date (datetime), an ISO text date, or an Excel serial number."""
    expected = "a date (a date cell, text YYYY-MM-DD or an Excel serial number)"
    value = single(value, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ExcelError("#VALUE!", name, value, expected)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, numbers.Real):
        serial = float(value)
        if not (math.isfinite(serial) and 1 <= serial <= MAX_SERIAL):
            raise ExcelError("#NUM!", name, value, f"an Excel date serial from 1 to {MAX_SERIAL}")
        return EXCEL_EPOCH + dt.timedelta(days=int(serial))
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise ExcelError("#VALUE!", name, value, expected) from None
    raise ExcelError("#VALUE!", name, value, expected)


def _parse_number_text(name: str, raw: str, expected: str) -> float:
    s = raw.strip().replace("\u00a0", "").replace(" ", "")
    percent = s.endswith("%")
    if percent:
        s = s[:-1]
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    if "," in s or s.lower() in {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}:
        raise ExcelError("#VALUE!", name, raw, expected, "write numbers like 50000000, 50,000,000 or 0.8")
    try:
        x = float(s)
    except ValueError:
        raise ExcelError("#VALUE!", name, raw, expected) from None
    return x / 100.0 if percent else x


def rows_of(value: Any) -> list[list[Any]]:
    """A range as a list of rows (a single value becomes a 1x1 range)."""
    if not isinstance(value, (list, tuple)):
        return [[value]]
    if value and not isinstance(value[0], (list, tuple)):
        return [list(value)]
    return [list(row) for row in value]


def hashable_rows(rows: Sequence[Sequence[Any]]) -> Optional[tuple]:
    """A cache key for a range, or None when a cell holds something unhashable."""
    key = tuple(tuple(row) for row in rows)
    try:
        hash(key)
    except TypeError:
        return None
    return key


# --- A scenario as a two-column key/value range -------------------------------------------
# Keys are the field catalog's dotted paths (``volume.tokens_per_day``; an option's fields under
# its id: ``api.cached_share``, ``mini.model``; an option not named after its kind declares it
# with an ``<id>.kind`` row). Values are Excel scalars; list fields (price_tiers) travel as JSON
# text in one cell.

def scenario_rows(scenario) -> list[list[Any]]:
    """``[[key, value], ...]`` for the fields that differ from their defaults, in model order.

    :func:`scenario_from_rows` of the result gives back an equal Scenario.
    """
    import json

    from .fields import id_keyed

    rows: list[list[Any]] = []

    def walk(prefix: str, data: dict) -> None:
        for key, value in data.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(path + ".", value)
            elif isinstance(value, (list, tuple)):
                rows.append([path, json.dumps(value, separators=(",", ":"))])
            elif value is not None:
                rows.append([path, value])

    walk("", id_keyed(scenario, mode="json", exclude_defaults=True))
    return rows


def scenario_from_rows(value: Any, name: str = "scenario"):
    """A Scenario from a key/value range. Blank rows are skipped, a ``key | value`` header row
    is allowed, unknown or repeated keys are rejected by name."""
    import json

    from .api import scenario_from_dict
    from .engine.kinds import KINDS
    from .fields import field_at, set_path

    rows = rows_of(value)
    width = max((len(r) for r in rows), default=0)
    if width != 2:
        raise ExcelError("#VALUE!", name, value if width else None, "a 2-column key/value range (as RUNRATE_SCENARIO spills it) or a preset name")
    entries: list[tuple[str, Any]] = []
    kinds: dict[str, str] = {}
    for row in rows:
        key, cell = row
        if _blank_cell(key) and _blank_cell(cell):
            continue
        if not entries and isinstance(key, str) and key.strip().lower() == "key" and isinstance(cell, str) and cell.strip().lower() == "value":
            continue  # header row
        if not isinstance(key, str) or not key.strip():
            raise ExcelError("#VALUE!", f"{name} key", key, "a field name such as volume.tokens_per_day in the first column")
        key = key.strip()
        if any(k == key for k, _ in entries):
            raise ExcelError("#VALUE!", f"{name} key", key, "each key once")
        entries.append((key, cell))
        head, _, leaf = key.partition(".")
        if leaf == "kind":
            kinds[head] = choice(f"{name} {key}", cell, {k: k for k in KINDS}, f"an option kind: one of {', '.join(KINDS)}")
    if not entries:
        raise ExcelError("#VALUE!", name, None, "a key/value range with at least volume.* and api.* rows, or a preset name")
    data: dict[str, Any] = {}
    for key, cell in entries:
        head, _, leaf = key.partition(".")
        if leaf == "kind":
            set_path(data, key, kinds[head])
            continue
        field = field_at(key, kinds)
        if field is None:
            raise ExcelError("#VALUE!", f"{name} key", key, "a scenario field name", _suggest(key, kinds))
        if _blank_cell(cell):
            continue  # a blank value leaves the field at its default
        set_path(data, key, _cell_for_field(f"{name} {key}", cell, _conversion(field.type), json))
    return scenario_from_dict(data, source=name)


def _conversion(field_type: str) -> str:
    """How a cell converts for a catalog field type: JSON text, text, or a number."""
    return {"json": "json", "text": "text", "choice": "text", "boolean": "boolean"}.get(field_type, "number")


def _blank_cell(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _cell_for_field(label: str, cell: Any, kind: str, json) -> Any:
    if kind == "boolean":
        from .fields import truth_value

        flag = truth_value(cell)
        if flag is None:
            raise ExcelError("#VALUE!", label, cell, "TRUE or FALSE")
        return flag
    if isinstance(cell, bool):
        raise ExcelError("#VALUE!", label, cell, "a number or text (TRUE/FALSE only for a true/false field such as private)")
    if kind == "json":
        if not isinstance(cell, str):
            raise ExcelError("#VALUE!", label, cell, 'JSON text such as [{"above_input_tokens":200000,...}]')
        try:
            return json.loads(cell)
        except ValueError:
            raise ExcelError("#VALUE!", label, cell, "valid JSON text") from None
    if kind == "text":
        if isinstance(cell, (dt.datetime, dt.date)):
            return cell.isoformat()[:10]
        if isinstance(cell, numbers.Real):
            x = float(cell)
            return str(int(x)) if x.is_integer() else format(x, ".15g")
        return cell
    if isinstance(cell, str):  # numeric text in a number field: same rules as function arguments
        return number(label, cell)
    return cell


def _suggest(key: str, kinds: dict[str, str]) -> str:
    import difflib

    from .fields import legacy_fields, option_fields

    known = [f.path for f in legacy_fields()] + [f.path for o, k in kinds.items() for f in option_fields(o, k)]
    head = key.partition(".")[0]
    if "." in key and head not in kinds and not any(p.startswith(head + ".") for p in known):
        from .engine.kinds import KINDS

        return f"declare the option with a row {head}.kind (one of {', '.join(KINDS)})"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not close:
        tail = key.rsplit(".", 1)[-1]
        close = [k for k in known if k.endswith("." + tail) or k == tail][:1]
    return f"did you mean {close[0]}?" if close else "RUNRATE_SCENARIO lists valid keys"

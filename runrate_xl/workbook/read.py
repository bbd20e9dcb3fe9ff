"""Read a scenario workbook's inputs (by defined name) back into a validated Scenario.

The workbook says which options it lays out (the hidden Lists sheet: ``k_option_keys`` ids and
``k_option_kinds`` kinds); a workbook without kinds is the first version's three legacy columns.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Optional, Union

from ..engine.scenario import Scenario
from ..fields import set_path
from . import layout as L
from .generate import WorkbookError


class _Cells:
    """Input values by defined name; formulas in input cells fall back to their cached result."""

    def __init__(self, path: Path) -> None:
        import openpyxl

        from ..xlsx_limits import XlsxRefused, check_xlsx

        self.path = path
        try:
            check_xlsx(path, max_file_bytes=10 * 1024 * 1024, max_unpacked_bytes=50 * 1024 * 1024, max_rows=5_000)
        except XlsxRefused as exc:
            raise WorkbookError(f"{exc}; expected a runrate scenario workbook (.xlsx, a few hundred rows a sheet)") from None
        except OSError as exc:
            raise WorkbookError(f"{path}: not readable ({exc.strerror})") from None
        try:
            self.wb = openpyxl.load_workbook(path)
        except Exception as exc:  # openpyxl raises many kinds for a bad file
            raise WorkbookError(f"{path}: got a file openpyxl cannot read ({exc.__class__.__name__}: {exc}), "
                                "expected a runrate scenario workbook (.xlsx)") from None
        self._values = None

    def shape(self) -> L.Shape:
        """The options the workbook lays out, as (id, kind)."""
        if self.wb.defined_names.get("in_name") is None:
            raise WorkbookError(f"{self.path}: no defined name in_name (name); expected a runrate scenario workbook made by "
                                "`runrate workbook`")
        kinds = self._range("k_option_kinds")
        if kinds is None:
            return L.LEGACY_SHAPE  # the first version's workbooks: api, fine_tuned, self_hosted
        ids = self._range("k_option_keys") or []
        shape = tuple((str(i), str(k)) for i, k in zip(ids, kinds))
        if len(ids) != len(kinds) or not shape:
            raise WorkbookError(f"{self.path}: the option lists k_option_keys and k_option_kinds (sheet Lists) disagree; "
                                "expected the lists `runrate workbook` wrote")
        return shape

    def _range(self, name: str) -> Optional[list]:
        dn = self.wb.defined_names.get(name)
        if dn is None:
            return None
        sheet, ref = next(iter(dn.destinations))
        from openpyxl.utils.cell import range_boundaries

        c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
        ws = self.wb[sheet]
        return [ws.cell(row=r, column=c).value for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]

    def has(self, spec: L.InputSpec) -> bool:
        return self.wb.defined_names.get(spec.name) is not None

    def where(self, spec: L.InputSpec) -> tuple[str, str]:
        dn = self.wb.defined_names.get(spec.name)
        if dn is None:
            raise WorkbookError(f"{self.path}: no defined name {spec.name} ({spec.path}); expected a runrate scenario "
                                "workbook made by `runrate workbook`")
        sheet, ref = next(iter(dn.destinations))
        return sheet, ref.replace("$", "")

    def get(self, spec: L.InputSpec) -> tuple[Any, str]:
        sheet, ref = self.where(spec)
        cell = self.wb[sheet][ref]
        value = cell.value
        if cell.data_type == "f":
            value = self._cached(sheet, ref)
        return value, f"{sheet}!{ref}"

    def _cached(self, sheet: str, ref: str) -> Any:
        import openpyxl

        if self._values is None:
            self._values = openpyxl.load_workbook(self.path, data_only=True)
        return self._values[sheet][ref].value


def _problem(spec: L.InputSpec, where: str, value: Any, expected: str) -> tuple[str, str, Any, str]:
    return (where, spec.path, value, expected)


def _convert(spec: L.InputSpec, value: Any, where: str, problems: list) -> Any:
    """Cell value -> field value (None = not given)."""
    if isinstance(value, str) and value.strip() == "" and spec.kind != "text":
        value = None
    if value is None:
        return None
    if spec.kind == "yesno":
        if isinstance(value, bool):
            return L.YES if value else L.NO
        text = str(value).strip().lower()
        if text in ("yes", "no"):
            return L.YES if text == "yes" else L.NO
        problems.append(_problem(spec, where, value, "Yes or No"))
        return None
    if spec.kind == "choice":
        text = str(value).strip()
        if text not in spec.choices:
            problems.append(_problem(spec, where, value, f"one of {', '.join(spec.choices)}"))
            return None
        return text
    if spec.kind == "text":
        if isinstance(value, (dt.datetime, dt.date)):
            return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(_problem(spec, where, value, "a number" + (" (a whole number)" if spec.kind == "int" else "")))
        return None
    if spec.kind == "int":
        if float(value).is_integer():
            return int(value)
        problems.append(_problem(spec, where, value, "a whole number"))
        return None
    return float(value)


def scenario_data(path: Union[str, Path]) -> tuple[dict, dict[str, str], dict[str, Any]]:
    """The workbook's inputs as a scenario mapping (options as a list, in the workbook's order),
    field path -> cell (for error messages) and field path -> value as read."""
    cells = _Cells(Path(path))
    try:
        lay = L.layout_for(cells.shape())
    except L.LayoutError as exc:
        raise WorkbookError(f"{path}: {exc}") from None
    problems: list = []
    raw: dict[str, Any] = {}
    where: dict[str, str] = {}
    for spec in lay.specs:
        if not cells.has(spec) and (spec.option is not None or spec.optional or _has_default(spec.path)):
            continue  # a field the workbook's version had no cell for (an option's label, a newer setting): its default
        value, at = cells.get(spec)
        where[spec.path] = at
        raw[spec.path] = _convert(spec, value, at, problems)
    if problems:
        raise _error(path, problems)
    included = {s.id: (raw.get(f"{s.id}.included") != L.NO) if s.switchable else True for s in lay.slots}
    data: dict[str, Any] = {}
    options: dict[str, dict[str, Any]] = {s.id: {"id": s.id, "kind": s.kind} for s in lay.slots if included[s.id]}
    tiers: dict[str, dict[int, dict[str, Any]]] = {}
    for path_, value in raw.items():
        parts = path_.split(".")
        if parts[-1] == "included":
            continue
        head = parts[0]
        if head in included:
            if not included[head]:
                continue
            if len(parts) > 2 and parts[1] == "price_tiers":
                if value is not None:
                    tiers.setdefault(head, {}).setdefault(int(parts[2]), {})[parts[3]] = value
                continue
            if value is not None:
                set_path(options[head], ".".join(parts[1:]), value)
            continue
        if value is not None:
            set_path(data, path_, value)
    for option_id, rows in tiers.items():
        options[option_id]["price_tiers"] = [rows[i] for i in sorted(rows)]
        for n, i in enumerate(sorted(rows)):
            where[f"{option_id}.price_tiers.{n}"] = where[f"{option_id}.price_tiers.{i}.above_input_tokens"]
    data["options"] = list(options.values())
    return data, where, raw


def _error(path, problems: list) -> WorkbookError:
    lines = [f"{at} ({field}): got {value!r}, expected {expected}" for at, field, value, expected in problems]
    err = WorkbookError(f"{path} has inputs that are not valid:\n  " + "\n  ".join(lines))
    err.problems = problems  # type: ignore[attr-defined]
    return err


def _cell_for(field: str, where: dict[str, str], message: str = "", raw: Optional[dict] = None) -> tuple[str, str]:
    """The cell (and its field) nearest to a pydantic error location; for an error about a
    whole section (e.g. "simple mode needs utilization") the field the message names."""
    if field in where:
        return where[field], field
    prefix = "" if field == "(scenario)" else field + "."
    named = [p for p in where if p.startswith(prefix) and re.search(r"\b" + re.escape(p.split(".")[-1]) + r"\b", message)]
    if named:
        named.sort(key=lambda p: (raw or {}).get(p) is not None)  # "needs X" is usually about a blank X
        return where[named[0]], named[0]
    candidates = [p for p in where if p.startswith(field + ".")]
    if candidates:
        return where[candidates[0]], field
    parts = field.split(".")
    while parts:
        parts.pop()
        prefix = ".".join(parts)
        candidates = [p for p in where if p.startswith(prefix + ".")] if prefix else []
        if candidates:
            return where[candidates[0]], field
    return "(workbook)", field


def _has_default(path: str) -> bool:
    from ..fields import field_at

    f = field_at(path)
    return f is not None and not f.required


def read_workbook(path: Union[str, Path]) -> Scenario:
    """Load the inputs of a scenario workbook (possibly edited by an analyst) into a validated
    :class:`Scenario`. Errors name the sheet, cell, field, value and what was expected."""
    from ..api import ScenarioError, scenario_from_dict

    data, where, raw = scenario_data(path)
    try:
        return scenario_from_dict(data, str(path))
    except ScenarioError as exc:
        problems = []
        for field, value, expected in exc.problems:
            at, fld = _cell_for(field, where, expected, raw)
            if fld != field:
                value = raw.get(fld)  # the named cell's own value
            problems.append((at, fld, value, expected))
        raise _error(path, problems) from None

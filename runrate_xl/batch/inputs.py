"""Read business-unit rows from .xlsx, .csv or .yaml into validated scenarios.

Every row is checked completely: all of its problems are reported at once, each with the row,
the column, the value found and what was expected. A bad row never stops the others. Problems
with the file itself (unreadable, empty, not an xlsx, too large, unknown columns) raise
:class:`InputFileError`, which the CLI turns into a usage error (exit 2).

The files are untrusted: sizes and row counts are capped, the xlsx is parsed by openpyxl in
read-only mode with defusedxml (no entity expansion, no external DTDs), and a row's
``scenario_file`` must stay inside the input file's folder.
"""

from __future__ import annotations

import copy
import csv
import difflib
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

import yaml

from ..api import ScenarioError, scenario_from_dict
from ..engine import Scenario
from ..engine.errors import RunrateError, magnitude_problem, short_repr
from ..engine.kinds import KINDS
from ..engine.scenario import keyed_option_ids
from ..fields import set_path, to_id_keyed, truth_value
from ..safe_yaml import load_yaml, yaml_problem
from .columns import BY_NAME, COLUMNS, Column, column_of, columns_for, describe_kind, normalise_header

MAX_ROWS = 5_000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # an xlsx is a zip: cap what it inflates to
MAX_COLUMNS = 500
MAX_SCENARIO_FILE_BYTES = 1024 * 1024
SHEET_NAME = "Business units"
SUFFIXES = {".xlsx": "xlsx", ".xlsm": "xlsx", ".csv": "csv", ".yaml": "yaml", ".yml": "yaml"}

_EMAIL = re.compile(r"^[^@\s,;<>\"()\[\]]+@[^@\s,;<>\"()\[\]]+\.[A-Za-z0-9-]{2,}$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SINGLE_LINE = {"name", "owner_email", "api_model", "outcome_name", "selfhost_gpu", "selfhost_model", "selfhost_model_size", "scenario_file"}


class InputFileError(RunrateError):
    """The input file as a whole cannot be used (a usage error, exit code 2)."""


@dataclass(frozen=True)
class Problem:
    where: str  # "row 5" (xlsx, csv: the spreadsheet row) or "entry 3" (yaml)
    column: str
    value: Any
    expected: str

    def __str__(self) -> str:
        got = "empty" if self.value is None or self.value == "" else short_repr(self.value)
        return f"{self.where}, column {self.column}: got {got}, expected {self.expected}"


@dataclass
class UnitRow:
    """One business unit as read: its scenario when valid, else every problem found."""

    position: int  # 1-based order among the BU rows of the input
    where: str
    name: str
    scenario: Optional[Scenario]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.scenario is not None and not self.problems

    def error_text(self) -> str:
        return "; ".join(str(p) for p in self.problems)


@dataclass
class BatchInput:
    path: Path
    kind: str
    rows: list[UnitRow]

    @property
    def problems(self) -> list[Problem]:
        return [p for r in self.rows for p in r.problems]


@dataclass(frozen=True)
class Record:
    """A raw row: where it came from and its cells by column name (unconverted)."""

    where: str
    cells: dict[str, Any]


def read_input(path: Path | str, *, require_email: bool = False) -> BatchInput:
    """Read and validate every business-unit row of ``path`` (.xlsx, .csv or .yaml)."""
    source = Path(path)
    kind = input_kind(source)
    records = list(read_records(source, kind))
    if not records:
        raise InputFileError(f"{source}: no business-unit rows found (expected a header row and one row per BU)")
    base_dir = source.resolve().parent
    rows = [parse_record(rec, i, base_dir, require_email=require_email) for i, rec in enumerate(records, start=1)]
    return BatchInput(source, kind, rows)


def input_kind(path: Path) -> str:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputFileError(f"{path}: expected an .xlsx, .csv or .yaml file, got {path.suffix or 'no extension'!r}")
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputFileError(f"{path}: {size:,} bytes, expected at most {MAX_FILE_BYTES:,} (split the input)")
    return kind


def read_records(path: Path, kind: str) -> Iterator[Record]:
    if kind == "xlsx":
        return _table_records(path, _xlsx_rows(path))
    if kind == "csv":
        return _table_records(path, _csv_rows(path))
    return iter(_yaml_records(path))


# --- Tables (xlsx, csv): a header row, then one row per BU -------------------------------


def _table_records(path: Path, rows: Iterable[tuple[int, list[Any]]]) -> Iterator[Record]:
    header: Optional[list[Optional[str]]] = None
    count = 0
    for number, values in rows:
        if all(_is_empty(v) for v in values):
            continue
        if header is None:
            header = _header(path, number, values)
            continue
        count += 1
        if count > MAX_ROWS:
            raise InputFileError(f"{path}: more than {MAX_ROWS:,} business-unit rows (split the input)")
        cells = {name: v for name, v in zip(header, values) if name is not None}
        stray = [i + 1 for i, v in enumerate(values) if (i >= len(header) or header[i] is None) and not _is_empty(v)]
        if stray:
            cells["(no header)"] = f"values in column(s) {', '.join(map(str, stray))}"
        yield Record(f"row {number}", cells)


def _header(path: Path, number: int, values: list[Any]) -> list[Optional[str]]:
    while values and _is_empty(values[-1]):
        values = values[:-1]
    if len(values) > MAX_COLUMNS:
        raise InputFileError(f"{path}: header row {number} has {len(values)} columns, expected at most {MAX_COLUMNS}")
    names = [None if _is_empty(v) else normalise_header(v) for v in values]
    unknown = [n for n in names if n is not None and column_of(n) is None]
    if unknown:
        hints = [f"{n!r}{_did_you_mean(n)}" for n in unknown]
        raise InputFileError(
            f"{path}: header row {number} has unknown column(s) {', '.join(hints)}; "
            "`runrate input-template -o units.xlsx` writes a workbook with every column"
        )
    seen: set[str] = set()
    for n in names:
        if n is not None and n in seen:
            raise InputFileError(f"{path}: header row {number} has column {n!r} twice")
        if n is not None:
            seen.add(n)
    if "name" not in seen and "scenario_file" not in seen:
        raise InputFileError(f"{path}: header row {number} has no 'name' column (found: {', '.join(n for n in names if n)})")
    return names


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    from ..xlsx_limits import XlsxRefused, check_xlsx

    not_xlsx = f"{path}: not an .xlsx workbook (save it from Excel as .xlsx, or use .csv/.yaml)"
    try:
        check_xlsx(path, max_file_bytes=MAX_FILE_BYTES, max_unpacked_bytes=MAX_UNPACKED_BYTES, max_rows=MAX_ROWS * 4)
    except XlsxRefused as exc:
        raise InputFileError(not_xlsx if str(exc).endswith("not an .xlsx workbook") else str(exc)) from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # untrusted bytes: any parser failure is "not a workbook we can read"
        cause = exc.__cause__ or exc  # openpyxl wraps e.g. defusedxml's EntitiesForbidden
        raise InputFileError(f"{not_xlsx} ({cause.__class__.__name__})") from None
    try:
        ws = wb[SHEET_NAME] if SHEET_NAME in wb.sheetnames else wb.worksheets[0]
        for number, row in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            yield number, list(row[:MAX_COLUMNS + 1])
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(f"{not_xlsx} ({exc.__class__.__name__})") from None
    finally:
        wb.close()


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not UTF-8 text at byte {exc.start} (save the CSV as UTF-8)") from None
    if "\x00" in text:
        raise InputFileError(f"{path}: not a CSV text file (contains NUL bytes)")
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # Excel writes ';' in some locales
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for values in reader:
            yield start, list(values)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputFileError(f"{path}: not a valid CSV near line {reader.line_num} ({exc})") from None


def _yaml_records(path: Path) -> list[Record]:
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), max_bytes=MAX_FILE_BYTES)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: not valid YAML ({yaml_problem(exc)})") from None
    if isinstance(data, dict) and set(data) == {"business_units"}:
        data = data["business_units"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise InputFileError(f"{path}: expected a list of business units (or a mapping with the key business_units)")
    if len(data) > MAX_ROWS:
        raise InputFileError(f"{path}: more than {MAX_ROWS:,} business units (split the input)")
    records = []
    for i, entry in enumerate(data, start=1):
        where = f"entry {i}"
        if not isinstance(entry, dict):
            records.append(Record(where, {"(entry)": entry}))
            continue
        records.append(Record(where, {normalise_header(k): v for k, v in entry.items()}))
    return records


# --- One row -> one validated scenario ---------------------------------------------------


def parse_record(record: Record, position: int, base_dir: Path, *, require_email: bool = False) -> UnitRow:
    """Convert and validate one row, collecting every problem."""
    where = record.where
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    failed: set[str] = set()
    for key, raw in record.cells.items():
        col = column_of(key)
        if col is None:
            expected = (
                "a mapping of column: value" if key == "(entry)"
                else "no value outside the named columns" if key == "(no header)"
                else f"a known column{_did_you_mean(key)}"
            )
            problems.append(Problem(where, key, raw, expected))
            continue
        if _is_empty(raw):
            continue
        try:
            values[key] = convert(col, raw)
        except ValueError as exc:
            problems.append(Problem(where, key, raw, str(exc)))
            failed.add(key)

    base: dict[str, Any] = {}
    if "scenario_file" in values:
        try:
            base = load_scenario_file(values["scenario_file"], base_dir)
        except ValueError as exc:
            problems.append(Problem(where, "scenario_file", values["scenario_file"], str(exc)))
            failed.add("scenario_file")

    name = values.get("name") or (base.get("name") if isinstance(base.get("name"), str) else None)
    if not name and "name" not in failed:
        problems.append(Problem(where, "name", record.cells.get("name"), "a business-unit name"))
    email = values.get("owner_email") or base.get("owner_email")
    if require_email and not email and "owner_email" not in failed:
        problems.append(Problem(where, "owner_email", None, "an email address (needed by --mail drafts/send)"))

    kinds = {k.rsplit(".", 1)[0]: v for k, v in values.items() if k.endswith(".kind") and "." in k}
    keyed_in_base = set(keyed_option_ids(to_id_keyed(base))) if base else set()
    for key in values:
        option_id = key.split(".", 1)[0] if "." in key else None
        if option_id and option_id not in kinds and option_id not in keyed_in_base and f"{option_id}.kind" not in failed:
            problems.append(Problem(where, f"{option_id}.kind", None,
                                    f"the kind of option {option_id} (one of {', '.join(KINDS)}), because column {key} fills it"))
            failed.add(f"{option_id}.kind")
    scenario = None
    try:
        data = scenario_data(values, base)
        scenario = scenario_from_dict(data, where)
    except ScenarioError as exc:
        found = _translate(exc.problems, where, record.cells, values, failed, bool(base), kinds)
        if "scenario_file" in failed:  # without its file the row is incomplete: keep only its own cells' errors
            found = [p for p in found if p.column in values]
        problems.extend(found)
    except ValueError as exc:  # a scenario_file whose structure the row cannot be merged into
        problems.append(Problem(where, "scenario_file", values.get("scenario_file"), str(exc)))
    label = str(name) if name else f"({where})"
    return UnitRow(position, where, label, scenario if not problems else None, _unique(problems))


def convert(col: Column, raw: Any) -> Any:
    """A cell value as the scenario field wants it; ValueError says what was expected."""
    kind = col.kind
    if kind in ("number", "rate", "integer", "fraction"):
        if magnitude_problem(raw):  # checked before float(): a 400-digit integer overflows it
            raise ValueError(magnitude_problem(raw))
        value = _number(raw, percent=kind in ("rate", "fraction"))
        if value is None:
            raise ValueError(describe_kind(col))
        if magnitude_problem(value):
            raise ValueError(magnitude_problem(value))
        if kind == "integer":
            if value != int(value):
                raise ValueError(describe_kind(col))
            return int(value)
        return value
    if kind == "boolean":
        flag = truth_value(raw)
        if flag is None:
            raise ValueError(describe_kind(col))
        return flag
    if isinstance(raw, bool) or isinstance(raw, (dict, list)):
        raise ValueError(describe_kind(col) if kind != "text" else "a single text value")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)  # a name typed as 2024 in Excel arrives as 2024.0
    text = str(raw).strip()
    if col.name in _SINGLE_LINE and _CONTROL.search(text):
        raise ValueError(f"{describe_kind(col)} on one line (no line breaks or control characters)")
    if kind == "option":  # an option id; the legacy kinds' names ("Self-hosted") stand for their ids
        labels = {"_".join(k.label.lower().replace("-", " ").split()): name for name, k in KINDS.items()}
        word = labels.get("_".join(text.lower().replace("-", " ").split()), text.lower())
        if not _OPTION_ID.match(word):
            raise ValueError(describe_kind(col))
        return word
    if kind == "choice":
        word = "_".join(text.lower().replace("-", " ").split())
        if word not in col.choices:
            raise ValueError(describe_kind(col))
        return word
    if kind == "email" and not _EMAIL.match(text):
        raise ValueError(describe_kind(col))
    return text


def _number(raw: Any, *, percent: bool) -> Optional[float]:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
        scale = 1.0
        if percent and text.endswith("%"):
            text, scale = text[:-1], 0.01
        if _GROUPED.match(text):
            text = text.replace(",", "")
        try:
            value = float(text) * scale
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


def load_scenario_file(relative: str, base_dir: Path) -> dict[str, Any]:
    """The mapping in a row's scenario_file, which must stay inside ``base_dir``."""
    rel = Path(relative)
    if rel.is_absolute() or relative.startswith(("\\", "/")) or ":" in relative:
        raise ValueError("a path relative to the input file (not absolute)")
    target = (base_dir / rel).resolve()
    if not target.is_relative_to(base_dir):
        raise ValueError("a path inside the input file's folder (no '..' out of it)")
    if target.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise ValueError("a .yaml, .yml or .json scenario file")
    if not target.is_file():
        raise ValueError("an existing scenario file next to the input")
    if target.stat().st_size > MAX_SCENARIO_FILE_BYTES:
        raise ValueError(f"a scenario file of at most {MAX_SCENARIO_FILE_BYTES:,} bytes")
    try:
        data = load_yaml(target.read_text(encoding="utf-8"), max_bytes=MAX_SCENARIO_FILE_BYTES)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError(f"a valid YAML scenario file ({yaml_problem(exc)})") from None
    if not isinstance(data, dict):
        raise ValueError("a scenario file holding a mapping of scenario fields")
    return data


_OPTION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

# A self-hosted row with any of these is sized from GPU capacity (its mode left empty).
CAPACITY_FIELDS = ("gpu", "model", "model_size", "instance_hourly_usd", "gpus_per_instance", "tokens_per_second_per_gpu")


def scenario_data(values: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The nested scenario mapping of a row: ``base`` (scenario_file) overridden by the row.

    The base's options are addressed by id (an ``options:`` list is moved under the ids first), so
    a row's ``api_model`` overrides one field of the option ``api`` whichever form the file uses,
    and the shared hidden-cost columns reach every option of the row."""
    data = to_id_keyed(copy.deepcopy(base))
    written: set[str] = set()
    for col in COLUMNS:
        if col.name in values and col.path and not col.fans_out:
            set_path(data, col.path, values[col.name])
            written.add(col.path)
    for name, value in values.items():  # options by id: <id>.kind, <id>.<field>, in the row's order
        if name not in BY_NAME:
            set_path(data, name, value)
            written.add(name)
    for option_id in keyed_option_ids(data):
        sh = data.get(option_id)
        is_self_hosted = option_id == "self_hosted" or (isinstance(sh, dict) and sh.get("kind") == "self_hosted")
        if is_self_hosted and isinstance(sh, dict) and "mode" not in sh and any(k in sh for k in CAPACITY_FIELDS):
            sh["mode"] = "capacity"
    for col in COLUMNS:
        if col.name in values and col.fans_out:
            leaf = col.path.split(".", 1)[1]
            for option in keyed_option_ids(data):
                path = f"{option}.hidden.{leaf}"
                if isinstance(data.get(option), dict) and path not in written:
                    set_path(data, path, values[col.name])
    return data


def _translate(problems, where: str, cells: dict[str, Any], values: dict[str, Any], failed: set[str], has_base: bool,
               kinds: Optional[dict[str, str]] = None) -> list[Problem]:
    """pydantic's (dotted field, value, expected) -> the row's columns."""
    out = []
    for location, value, expected in problems:
        columns = columns_for(location, kinds)
        if len(columns) == 1:
            col = columns[0]
            if col in failed:
                continue  # already reported when the cell was converted
            if col in values or not has_base:
                out.append(Problem(where, col, cells.get(col, value if col in values else None), expected))
            else:
                out.append(Problem(where, f"scenario_file {location}", value, expected))
        elif columns:
            if failed.intersection(columns):
                continue
            given = {c: cells[c] for c in columns if c in values}
            shown = ", ".join(f"{c}={v!r}" for c, v in given.items()) or None
            out.append(Problem(where, " / ".join(columns), shown, expected))
        else:
            out.append(Problem(where, f"scenario_file {location}" if has_base else location, value, expected))
    return out


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.column, p.expected)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, BY_NAME, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""

"""The library's front door: load a scenario, resolve its prices, evaluate it.

Adapters (CLI, Excel functions, workbooks, memos, batch) go through here so that every one of
them sees the same resolved scenario and the same engine result.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Union

import yaml
from pydantic import ValidationError

from .catalog import resolve
from .catalog._data import load_data
from .engine import Evaluation, Scenario, evaluate
from .engine.errors import InputError, RunrateError, not_finite_result, short_repr
from .engine.common import OutOfRange
from .engine.scenario import normalize_options
from .safe_yaml import MAX_YAML_BYTES, load_yaml, yaml_problem


class ScenarioError(RunrateError, ValueError):
    """A scenario failed validation. ``problems`` lists (field, value, expected) per error."""

    def __init__(self, problems: list[tuple[str, Any, str]], source: str = "scenario"):
        self.problems = problems
        self.source = source
        if problems:  # the problem record: the first problem
            self.field, self.value, self.expected = problems[0]
        lines = [f"{field}: got {short_repr(value)}, expected {expected}" for field, value, expected in problems]
        super().__init__(f"{source} is not valid:\n  " + "\n  ".join(lines))


def option_location(loc: tuple, data: Any) -> tuple:
    """An error location inside the option list, addressed by the option's id as every output
    addresses it: ``('options', 1, 'api', 'cached_share')`` -> ``('mini', 'cached_share')``
    (the kind tag pydantic inserts is dropped); ``options[1]`` when the option has no valid id."""
    if len(loc) < 2 or loc[0] != "options" or not isinstance(loc[1], int):
        return loc
    options = data.get("options") if isinstance(data, Mapping) else None
    entry = options[loc[1]] if isinstance(options, list) and loc[1] < len(options) else None
    rest = tuple(loc[2:])
    if isinstance(entry, Mapping) and rest and rest[0] == entry.get("kind"):
        rest = rest[1:]
    option_id = entry.get("id") if isinstance(entry, Mapping) else None
    head = option_id if isinstance(option_id, str) and option_id else f"options[{loc[1]}]"
    return (head, *rest)


def problems_of(exc: ValidationError, data: Any = None) -> list[tuple[str, Any, str]]:
    """pydantic's errors as (dotted field, value received, what was expected); ``data``, the
    validated input, lets a location in the option list name the option by its id."""
    from .engine.kinds import KINDS

    out = []
    for err in exc.errors(include_url=False):
        where = option_location(tuple(err["loc"]), data)
        msg = err["msg"]
        for prefix in ("Value error, ", "Assertion failed, ", "expected "):
            msg = msg.removeprefix(prefix)
        value = err.get("input")
        if isinstance(value, OutOfRange):  # an integer beyond the magnitude bound (engine.common)
            msg = value.problem
        elif err["type"] == "extra_forbidden":
            msg = "no such field (check the spelling; `runrate schema` lists the fields)"
        elif err["type"] == "missing" and where == ("options",):
            msg, value = "at least one option: api, fine_tuned or self_hosted fields, or an options list", None
        elif err["type"] == "missing":
            msg, value = "a value (this field is required)", None
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):  # an option's kind
            where = (*where, "kind")
            value = value.get("kind") if isinstance(value, Mapping) else None
            msg = f"an option kind: one of {', '.join(KINDS)}"
        if isinstance(value, dict) and err["type"] != "extra_forbidden":
            value = "{...}"
        loc = ".".join(str(p) for p in where) or "(scenario)"
        out.append((loc, value, msg[0].lower() + msg[1:] if msg else msg))
    return out


def scenario_from_dict(data: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """Validate a mapping into a :class:`Scenario`, raising :class:`ScenarioError`."""
    if not isinstance(data, Mapping):
        raise ScenarioError([("(scenario)", type(data).__name__, "a mapping of fields")], source)
    data = normalize_options(dict(data))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_of(exc, data), source) from None


def load_scenario_text(text: str, source: str = "scenario") -> Scenario:
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ScenarioError([("(file)", source, f"valid YAML or JSON ({yaml_problem(exc)})")], source) from None
    return scenario_from_dict(data, source)


def load_scenario(path: Union[str, Path]) -> Scenario:
    """Load a scenario from a YAML or JSON file."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_YAML_BYTES:
            raise ScenarioError([("(file)", str(p), f"a scenario file of at most {MAX_YAML_BYTES:,} bytes")], str(p))
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([("(file)", str(p), f"a readable scenario file ({exc.strerror})")], str(p)) from None
    return load_scenario_text(text, str(p))


WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def load_source(path: Union[str, Path]) -> Scenario:
    """A scenario from a YAML/JSON file or from a scenario workbook (.xlsx/.xlsm written by
    ``runrate workbook``, possibly edited). Reading a workbook needs the 'workbook' extra."""
    p = Path(path)
    if p.suffix.lower() in WORKBOOK_SUFFIXES:
        from .extras import require

        require("reading a scenario workbook", "workbook")
        from .workbook import read_workbook  # imported here: openpyxl is only needed for workbook input

        return read_workbook(p)
    return load_scenario(p)


def load_scenarios(paths: Iterable[Union[str, Path]] = (), presets: Iterable[str] = ()) -> list[Scenario]:
    """The one loader behind every command that takes scenarios: files (see :func:`load_source`)
    then shipped presets by name, in the order given."""
    from .presets import preset_scenario  # presets build their scenarios through this module

    return [load_source(p) for p in paths] + [preset_scenario(name) for name in presets]


@lru_cache(maxsize=1)
def outcome_benchmarks() -> dict[str, float]:
    return {k: float(v) for k, v in load_data("outcome_benchmarks.yaml")["benchmarks"].items()}


def evaluate_scenario(scenario: Scenario, as_of: Optional[dt.date] = None, *, with_sensitivity: bool = True) -> Evaluation:
    """Resolve catalog prices into ``scenario`` and evaluate it with the engine. A result that
    is not finite although every input is names the input that drove it there."""
    resolved = resolve(scenario, as_of)
    try:
        return evaluate(resolved, outcome_benchmarks(), with_sensitivity=with_sensitivity)
    except InputError as exc:
        if exc.kind != "range" or not isinstance(exc.value, float) or math.isfinite(exc.value):
            raise
        from .fields import id_keyed  # an option's inputs named by its id, as every error names them

        raise not_finite_result(exc.field, _numbers_of(id_keyed(resolved, mode="python"))) from None


def _numbers_of(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _numbers_of(v, f"{prefix}{k}.")
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _numbers_of(v, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), data


def dump_scenario(scenario: Scenario, fmt: str = "yaml") -> str:
    """The scenario as YAML or JSON text (defaults omitted)."""
    data = scenario.model_dump(mode="json", exclude_defaults=True)
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

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
from typing import Any, Iterator, Mapping, Optional, Union

import yaml
from pydantic import ValidationError

from .catalog import resolve
from .catalog._data import load_data
from .engine import Evaluation, Scenario, evaluate
from .engine.errors import InputError, RunrateError, not_finite_result, short_repr
from .safe_yaml import MAX_YAML_BYTES, load_yaml, yaml_problem


class ScenarioError(RunrateError, ValueError):
    """A scenario failed validation. ``problems`` lists (field, value, expected) per error."""

    def __init__(self, problems: list[tuple[str, Any, str]], source: str = "scenario"):
        self.problems = problems
        self.source = source
        lines = [f"{field}: got {short_repr(value)}, expected {expected}" for field, value, expected in problems]
        super().__init__(f"{source} is not valid:\n  " + "\n  ".join(lines))


def problems_of(exc: ValidationError) -> list[tuple[str, Any, str]]:
    """pydantic's errors as (dotted field, value received, what was expected)."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(scenario)"
        msg = err["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
        if err["type"] == "extra_forbidden":
            msg = "no such field (check the spelling; `runrate schema` lists the fields)"
        elif err["type"] == "missing":
            msg = "a value (this field is required)"
        value = err.get("input")
        if isinstance(value, dict) and err["type"] != "extra_forbidden":
            value = "{...}"
        out.append((loc, value, msg[0].lower() + msg[1:] if msg else msg))
    return out


def scenario_from_dict(data: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """Validate a mapping into a :class:`Scenario`, raising :class:`ScenarioError`."""
    if not isinstance(data, Mapping):
        raise ScenarioError([("(scenario)", type(data).__name__, "a mapping of fields")], source)
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(problems_of(exc), source) from None


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
        raise not_finite_result(exc.field, _numbers_of(resolved.model_dump(mode="python"))) from None


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

"""The field catalog: every leaf input of a scenario, derived from the engine's pydantic models.

One entry per leaf: its dotted path (``volume.tokens_per_day``; an option's fields under the
option's id: ``mini.cached_share``, ``api.hidden.review_share``), type, bounds, choices,
default, unit, label and help. Batch columns, workbook input cells and validations, Excel
key/value ranges and ``runrate schema --fields`` read it, so adding a field to a model makes it
appear everywhere. ``get_path`` / ``set_path`` are the one way to read and write a dotted path
in scenario data (the id-keyed mapping form, see ``engine.scenario.normalize_options``).
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .engine.common import Fraction, Utilization
from .engine.kinds import KINDS
from .engine.scenario import LEGACY_SLOTS, Scenario

# Option fields that are identity, not inputs of the kind (the key/value form carries them in the path).
_IDENTITY = {"id", "kind"}
_FRACTION_CHECK = typing.get_args(Fraction)[1]
_UTILIZATION_CHECK = typing.get_args(Utilization)[1]


@dataclass(frozen=True)
class Field:
    path: str  # dotted, e.g. volume.tokens_per_day or mini.hidden.review_share
    section: str  # volume, context, horizon, sensitivity, (scenario), or the option's id
    type: str  # number | integer | fraction | utilization | text | choice | json | boolean
    required: bool
    default: Any
    low: Optional[float] = None
    high: Optional[float] = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    choices: tuple[str, ...] = ()
    max_length: Optional[int] = None
    unit: str = ""
    label: str = ""
    help: str = ""
    option_kind: Optional[str] = None  # set for an option's fields

    @property
    def leaf(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def expected(self, percent: bool = False) -> str:
        """What a value must be, in words (error messages, help, docs): the one rule every
        reader uses. ``percent``: the reader also takes a percentage ("80%"), as batch cells do."""
        if self.type == "choice":
            return "one of " + ", ".join(self.choices)
        if self.type == "fraction":
            return f"a fraction between 0 and 1 (e.g. 0.8{' or 80%' if percent else ''})"
        if self.type == "utilization":
            return f"a utilization > 0 and <= 1 (e.g. 0.8{' or 80%' if percent else ''})"
        if self.type == "json":
            return "a JSON list"
        if self.type == "boolean":
            return "true or false (TRUE/FALSE, yes/no or 1/0)"
        if self.type == "text":
            return "text" + (f" of at most {self.max_length} characters" if self.max_length else "")
        what = "a whole number" if self.type == "integer" else "a number"
        example = " (e.g. 0.05 or 5%)" if percent else ""
        return f"{what} {self.bounds_text()}".strip() + example

    def bounds_text(self) -> str:
        """The numeric bounds in words, e.g. ">= 0 and <= 5" ("" without bounds)."""
        words = []
        if self.low is not None:
            words.append(f"{'>=' if self.low_inclusive else '>'} {self.low:g}")
        if self.high is not None:
            words.append(f"{'<=' if self.high_inclusive else '<'} {self.high:g}")
        return " and ".join(words)


_TRUTH = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def truth_value(raw: Any) -> Optional[bool]:
    """A true/false cell (a spreadsheet boolean, 1/0, or the words true/false, yes/no); None for anything else."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    return _TRUTH.get(raw.strip().lower()) if isinstance(raw, str) else None


def _unit(leaf: str) -> str:
    """The unit a field's name promises (the naming convention of the models)."""
    for suffix, unit in (("_per_1m", "USD per 1M tokens"), ("_monthly", "USD per month"), ("_cost", "USD"),
                         ("_usd", "USD"), ("_share", "fraction"), ("_per_year", "fraction per year"),
                         ("_ms", "milliseconds"), ("_months", "months"), ("_annual_cost", "USD per year")):
        if leaf.endswith(suffix):
            return "USD per year" if leaf.endswith("_annual_cost") else unit
    return {"utilization": "fraction", "target_utilization": "fraction", "tokens_per_day": "tokens/day",
            "requests_per_month": "requests/month", "tokens_per_request": "tokens", "days_per_month": "days",
            "monthly_growth": "fraction per month", "months": "months", "fte": "FTE",
            "hours_per_month": "hours", "tokens_per_second_per_gpu": "tokens/s"}.get(leaf, "")


def _core(annotation: Any) -> tuple[Any, list]:
    """(the type without Optional/Annotated, the metadata found on the way)."""
    meta: list = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            args = typing.get_args(annotation)
            annotation, meta = args[0], meta + list(args[1:])
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, meta
            annotation = args[0]
        else:
            return annotation, meta


def _leaf(path: str, section: str, info: FieldInfo, option_kind: Optional[str]) -> Field:
    ann, meta = _core(info.annotation)
    meta = meta + list(info.metadata)
    origin = typing.get_origin(ann)
    bounds: dict[str, float] = {}
    max_length = None
    for m in meta:
        for attr in ("ge", "gt", "le", "lt"):
            if getattr(m, attr, None) is not None:
                bounds[attr] = float(getattr(m, attr))
        if isinstance(m, at.MaxLen):
            max_length = m.max_length
    choices: tuple[str, ...] = ()
    if _FRACTION_CHECK in meta:
        kind, bounds = "fraction", {"ge": 0.0, "le": 1.0}
    elif _UTILIZATION_CHECK in meta:
        kind, bounds = "utilization", {"gt": 0.0, "le": 1.0}
    elif origin is typing.Literal:
        kind, choices = "choice", tuple(str(a) for a in typing.get_args(ann))
    elif origin in (list, dict) or ann in (list, dict):
        kind = "json"
    elif ann is bool:
        kind = "boolean"
    elif ann is str:
        kind = "text"
    elif ann is int:
        kind = "integer"
    else:
        kind = "number"
    required = info.is_required()
    default = None if required or info.default is PydanticUndefined or info.default_factory is not None else info.default
    leaf = path.rsplit(".", 1)[-1]
    return Field(
        path=path, section=section, type=kind, required=required, default=default,
        low=bounds.get("ge", bounds.get("gt")), high=bounds.get("le", bounds.get("lt")),
        low_inclusive="gt" not in bounds, high_inclusive="lt" not in bounds, choices=choices,
        max_length=max_length, unit=_unit(leaf), label=leaf.replace("_", " ").capitalize(),
        help=info.description or "", option_kind=option_kind,
    )


def _walk(model: type[BaseModel], prefix: str, section: str, option_kind: Optional[str], skip: set[str]) -> list[Field]:
    out = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        ann, _ = _core(info.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_walk(ann, f"{prefix}{name}.", section, option_kind, set()))
        else:
            out.append(_leaf(f"{prefix}{name}", section, info, option_kind))
    return out


@lru_cache(maxsize=None)
def scenario_fields() -> tuple[Field, ...]:
    """The scenario's own leaves (everything but the options)."""
    out = []
    for name, info in Scenario.model_fields.items():
        if name == "options":
            continue
        ann, _ = _core(info.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.extend(_walk(ann, f"{name}.", name, None, set()))
        else:
            out.append(_leaf(name, "(scenario)", info, None))
    return tuple(out)


@lru_cache(maxsize=None)
def kind_fields(kind: str) -> tuple[Field, ...]:
    """The leaves of one option kind, paths relative to the option (``cached_share``, ``hidden.review_share``)."""
    return tuple(_walk(KINDS[kind].model, "", kind, kind, _IDENTITY))


@lru_cache(maxsize=None)
def tier_fields() -> tuple[Field, ...]:
    """The leaves of one long-context price tier (an API option's ``price_tiers`` entries)."""
    from .engine.common import PriceTier

    return tuple(_walk(PriceTier, "", "price_tiers", "api", set()))


def option_fields(option_id: str, kind: str) -> tuple[Field, ...]:
    """The leaves of an option of ``kind`` named ``option_id``, under its id."""
    return tuple(Field(**{**f.__dict__, "path": f"{option_id}.{f.path}", "section": option_id}) for f in kind_fields(kind))


@lru_cache(maxsize=None)
def legacy_fields() -> tuple[Field, ...]:
    """The scenario's leaves with the three legacy option slots (id = kind)."""
    return scenario_fields() + tuple(f for slot in LEGACY_SLOTS for f in option_fields(slot, slot))


def field_at(path: str, kinds: Optional[dict[str, str]] = None) -> Optional[Field]:
    """The catalog entry of a dotted path; an option's path needs its kind: ``kinds`` maps option
    ids to kinds (a legacy slot name is its own kind)."""
    head, _, rest = path.partition(".")
    for f in scenario_fields():
        if f.path == path:
            return f
    kind = (kinds or {}).get(head) or (head if head in LEGACY_SLOTS else None)
    if kind is None or not rest:
        return None
    if kind == "mix" and rest.startswith("route."):
        return route_share_field(path, head, rest[len("route."):])
    found = next((f for f in kind_fields(kind) if f.path == rest), None)
    return None if found is None else Field(**{**found.__dict__, "path": path, "section": head})


_ROUTE_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def route_share_field(path: str, section: str, option_id: str) -> Optional[Field]:
    """A mix's share to one option, ``<mix id>.route.<option id>``: one leaf per option of the
    route (batch columns and key/value rows give a route share by share)."""
    if not _ROUTE_KEY.match(option_id):
        return None
    return Field(path=path, section=section, type="fraction", required=False, default=None, low=0.0, high=1.0,
                 label=f"Route share to {option_id}", option_kind="mix",
                 help=f"Share of the traffic the mix sends to option {option_id}, 0-1 (the route's shares sum to 1).")


def get_path(data: dict, path: str) -> Any:
    """The value at a dotted path of nested mappings (None where a level is missing)."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def set_path(data: dict, path: str, value: Any) -> None:
    """Set a dotted path in nested mappings, creating the levels; a level that is not a mapping
    is an error naming it."""
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ValueError(f"{part} holds a mapping of fields, not {type(child).__name__}")
        node = child
    node[leaf] = value


def to_id_keyed(data: dict) -> dict:
    """Scenario data (as loaded from YAML) with the listed options moved under their ids, so
    dotted paths reach into them; ``normalize_options`` turns it back. Entries without a usable
    id stay in the list for validation to report."""
    data = dict(data)
    listed = data.get("options")
    if not isinstance(listed, list):
        return data
    keep = []
    for option in listed:
        option_id = option.get("id") if isinstance(option, dict) else None
        if isinstance(option_id, str) and option_id and option_id not in data:
            data[option_id] = {k: v for k, v in option.items() if k != "id"}
        else:
            keep.append(option)
    if keep:
        data["options"] = keep
    else:
        data.pop("options")
    return data


def id_keyed(scenario: Scenario, **dump: Any) -> dict[str, Any]:
    """The scenario as nested mappings with each option under its id (the form dotted paths
    address); ``kind`` is left out for an option named after its kind."""
    data = scenario.model_dump(**dump)
    for option in data.pop("options"):
        option_id = option.pop("id")
        if option_id == option["kind"]:
            option.pop("kind")
        data[option_id] = option
    return data


__all__ = ["Field", "scenario_fields", "kind_fields", "option_fields", "legacy_fields", "field_at",
           "get_path", "set_path", "id_keyed", "to_id_keyed", "tier_fields", "route_share_field"]

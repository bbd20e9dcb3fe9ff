"""Scenario presets from the seed articles, shipped as YAML in runrate_xl/data/presets.

Each preset has a title, a source and a note; where a seed's arithmetic is wrong the note gives
the correct figure (and the tests assert it).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict

from .api import scenario_from_dict
from .engine import Scenario
from .engine.errors import InputError


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    title: str
    source: str
    note: str
    scenario: Scenario


@lru_cache(maxsize=1)
def presets() -> dict[str, Preset]:
    folder = resources.files("runrate_xl").joinpath("data").joinpath("presets")
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            name = entry.name[: -len(".yaml")]
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
            scenario = scenario_from_dict(data.pop("scenario"), f"preset {name}")
            out[name] = Preset(name=name, scenario=scenario, **data)
    return out


def get_preset(name: str) -> Preset:
    all_presets = presets()
    if name not in all_presets:
        raise InputError("preset", name, f"one of {', '.join(all_presets)}")
    return all_presets[name]


def preset_scenario(name: str) -> Scenario:
    return get_preset(name).scenario

"""Reading the YAML files shipped in runrate_xl/data (cached: they never change at run time)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@lru_cache(maxsize=None)
def load_data(name: str) -> Any:
    text = resources.files("runrate_xl").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)

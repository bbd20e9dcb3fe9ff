"""GPUs (gpu_specs.yaml): memory per GPU and board power, each with its source and date."""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from pydantic import Field

from ..engine.errors import InputError
from ._data import load_data
from ._sourced import Sourced


class GpuSpec(Sourced):
    id: str
    memory_gb: float = Field(..., gt=0, description="Memory per GPU, GB.")
    tdp_watts: Optional[float] = Field(None, gt=0, description="Board power (TDP), W; empty where not verified.")


@lru_cache(maxsize=1)
def gpu_specs() -> dict[str, GpuSpec]:
    return {key: GpuSpec(id=key, **entry) for key, entry in load_data("gpu_specs.yaml")["gpus"].items()}


def lookup_gpu_spec(name: str, field: str = "gpu") -> GpuSpec:
    specs = gpu_specs()
    if name not in specs:
        raise InputError(field, name, f"a GPU of the catalog: {', '.join(sorted(specs))}")
    return specs[name]

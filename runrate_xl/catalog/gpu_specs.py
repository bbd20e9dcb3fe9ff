"""GPUs (gpu_specs.yaml): memory per GPU and board power, each with its source and date."""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from pydantic import Field

from ._sourced import Sourced, entry_of, keyed_entries


class GpuSpec(Sourced):
    id: str
    memory_gb: float = Field(..., gt=0, description="Memory per GPU, GB.")
    tdp_watts: Optional[float] = Field(None, gt=0, description="Board power (TDP), W; empty where not verified.")


@lru_cache(maxsize=1)
def gpu_specs() -> dict[str, GpuSpec]:
    return keyed_entries("gpu_specs.yaml", "gpus", GpuSpec)


def lookup_gpu_spec(name: str, field: str = "gpu") -> GpuSpec:
    return entry_of(gpu_specs(), name, field, "a GPU")

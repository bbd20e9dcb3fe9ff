"""GPU instances for capacity-mode self-hosting, from the shipped gpus.yaml."""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from ..engine.errors import InputError
from ._data import load_data


class GpuInstance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    cloud: str
    gpu: str
    gpus_per_instance: int = Field(..., gt=0)
    gpu_memory_gb: float = Field(..., gt=0)
    hourly_usd: float = Field(..., gt=0)
    source: str
    as_of: str
    tokens_per_second_per_gpu: dict[str, float]
    throughput_source: str
    throughput_as_of: str


@lru_cache(maxsize=1)
def gpu_catalog() -> dict[str, GpuInstance]:
    data = load_data("gpus.yaml")
    return {
        name: GpuInstance(name=name, throughput_source=data["throughput_source"],
                          throughput_as_of=str(data["throughput_as_of"]), **{**entry, "as_of": str(entry["as_of"])})
        for name, entry in data["instances"].items()
    }


def lookup_gpu(name: str) -> GpuInstance:
    catalog = gpu_catalog()
    if name not in catalog:
        raise InputError("self_hosted.gpu", name, f"one of {', '.join(sorted(catalog))}")
    return catalog[name]

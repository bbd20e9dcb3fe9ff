"""Open models for self-hosting (models.yaml): the architecture figures the memory check needs,
from each model's published config.json and model card, with their source and date."""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from pydantic import Field, model_validator

from ._sourced import Sourced, entry_of, keyed_entries


class ModelSpec(Sourced):
    id: str
    name: str
    parameters_b: float = Field(..., gt=0, description="Parameters, billions (all experts for an MoE model).")
    active_parameters_b: Optional[float] = Field(None, gt=0, description="MoE: parameters used per token, billions.")
    layers: int = Field(..., gt=0)
    kv_heads: int = Field(..., gt=0)
    head_dim: int = Field(..., gt=0)

    @model_validator(mode="after")
    def _active_within_total(self) -> "ModelSpec":
        if self.active_parameters_b is not None and self.active_parameters_b > self.parameters_b:
            raise ValueError("active_parameters_b exceeds parameters_b")
        return self

    @property
    def parameters(self) -> float:
        return self.parameters_b * 1e9


@lru_cache(maxsize=1)
def model_catalog() -> dict[str, ModelSpec]:
    return keyed_entries("models.yaml", "models", ModelSpec)


def lookup_model(name: str, field: str = "model") -> ModelSpec:
    return entry_of(model_catalog(), name, field, "a model")

"""Cloud GPU instances and their prices with history (cloud_instances.yaml).

Every price carries its term (``on_demand``, ``1yr``, ``3yr``, ``spot``), its source and the
date it was read (``as_of``). ``effective_from`` / ``effective_to`` bound the days it was in force
where that is known (AWS's cut of 1 June 2025); a price without them is the price its source
showed on ``as_of``, with no history before or after. :meth:`CloudInstance.price` picks, for a
day, the price of the term in force that day; among several, the one with the latest
``effective_from``. A day no price covers is an error naming the instance, the term and the
terms and dates that are known.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Literal, Optional

from pydantic import Field, model_validator

from ..engine.errors import InputError
from ._sourced import CatalogModel, Sourced, entry_of, keyed_entries
from .gpu_specs import gpu_specs

Term = Literal["on_demand", "1yr", "3yr", "spot"]
TERMS: tuple[str, ...] = ("on_demand", "1yr", "3yr", "spot")


class InstancePrice(Sourced):
    term: Term
    usd_per_hour: float = Field(..., gt=0, description="USD per instance-hour.")
    effective_from: Optional[dt.date] = None
    effective_to: Optional[dt.date] = None

    @model_validator(mode="after")
    def _ordered(self) -> "InstancePrice":
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self

    def in_force(self, day: dt.date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (self.effective_to is None or day <= self.effective_to)

    def window(self) -> str:
        if self.effective_from and self.effective_to:
            return f"{self.effective_from} to {self.effective_to}"
        if self.effective_from:
            return f"from {self.effective_from}"
        if self.effective_to:
            return f"until {self.effective_to}"
        return "no history recorded"


class CloudInstance(CatalogModel):
    id: str
    cloud: str
    region: str
    gpu: str
    gpus_per_instance: int = Field(..., gt=0)
    prices: list[InstancePrice] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _known_gpu(self) -> "CloudInstance":
        if self.gpu not in gpu_specs():
            raise ValueError(f"gpu {self.gpu!r} is not in gpu_specs.yaml")
        return self

    @property
    def memory_gb_per_gpu(self) -> float:
        return gpu_specs()[self.gpu].memory_gb

    def price(self, term: str = "on_demand", day: Optional[dt.date] = None, field: str = "gpu") -> InstancePrice:
        """The ``term`` price in force on ``day`` (default today)."""
        day = day or dt.date.today()
        of_term = [p for p in self.prices if p.term == term]
        in_force = [p for p in of_term if p.in_force(day)]
        if not in_force:
            known = "; ".join(f"{p.term} {p.usd_per_hour:g} ({p.window()})" for p in self.prices)
            raise InputError(field, self.id, f"an instance with a {term} price in force on {day} (catalog: {known})")
        return max(in_force, key=lambda p: p.effective_from or dt.date.min)


@lru_cache(maxsize=1)
def instance_catalog() -> dict[str, CloudInstance]:
    return keyed_entries("cloud_instances.yaml", "instances", CloudInstance)


def lookup_instance(name: str, field: str = "gpu") -> CloudInstance:
    return entry_of(instance_catalog(), name, field, "a GPU instance")

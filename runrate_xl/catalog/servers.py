"""GPU servers to buy (servers.yaml): indicative purchase and installation price per complete
server by GPU type and count, each with its source and date (for the on-prem option kind).

A price is the one its source showed on ``as_of``; for a day, :func:`lookup_server` takes the
latest price read on or before it (a later reading supersedes an earlier one), and a day before
every reading of that server is an error naming the dates that are known."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from pydantic import Field, model_validator

from ..engine.errors import InputError
from ._data import load_data
from ._sourced import Sourced
from .gpu_specs import gpu_specs


class ServerPrice(Sourced):
    gpu: str
    gpus: int = Field(..., gt=0)
    price_usd: float = Field(..., gt=0, description="Purchase price of the complete server, USD.")
    install_usd: float = Field(..., ge=0, description="Installation cost, USD.")

    @model_validator(mode="after")
    def _known_gpu(self) -> "ServerPrice":
        if self.gpu not in gpu_specs():
            raise ValueError(f"gpu {self.gpu!r} is not in gpu_specs.yaml")
        return self


@lru_cache(maxsize=1)
def server_catalog() -> tuple[ServerPrice, ...]:
    return tuple(ServerPrice(**entry) for entry in load_data("servers.yaml")["servers"])


def lookup_server(gpu: str, gpus: int, field: str = "server", day: Optional[dt.date] = None) -> ServerPrice:
    """The price of a ``gpus`` x ``gpu`` server in force on ``day`` (default today): the latest
    read on or before it."""
    day = day or dt.date.today()
    readings = [s for s in server_catalog() if s.gpu == gpu and s.gpus == gpus]
    if not readings:
        known = ", ".join(f"{s.gpus}x {s.gpu}" for s in server_catalog())
        raise InputError(field, f"{gpus}x {gpu}", f"a server of the catalog ({known})")
    in_force = [s for s in readings if s.as_of <= day]
    if not in_force:
        dates = ", ".join(sorted(str(s.as_of) for s in readings))
        raise InputError(field, f"{gpus}x {gpu}", f"a server with a price read on or before {day} (catalog prices read on {dates})")
    return max(in_force, key=lambda s: s.as_of)


@dataclass(frozen=True)
class ServerHardware:
    """A bought server as the throughput catalog sees hardware (GPU type, GPUs, memory per GPU)."""

    gpu: str
    gpus_per_instance: int

    @property
    def id(self) -> str:
        return f"{self.gpus_per_instance}x {self.gpu} server"

    @property
    def memory_gb_per_gpu(self) -> float:
        return gpu_specs()[self.gpu].memory_gb

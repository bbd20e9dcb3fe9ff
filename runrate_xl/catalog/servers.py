"""GPU servers to buy (servers.yaml): indicative purchase and installation price per complete
server by GPU type and count, each with its source and date (for the on-prem option kind)."""

from __future__ import annotations

from functools import lru_cache

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


def lookup_server(gpu: str, gpus: int, field: str = "server") -> ServerPrice:
    for server in server_catalog():
        if server.gpu == gpu and server.gpus == gpus:
            return server
    known = ", ".join(f"{s.gpus}x {s.gpu}" for s in server_catalog())
    raise InputError(field, f"{gpus}x {gpu}", f"a server of the catalog ({known})")

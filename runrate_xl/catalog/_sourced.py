"""What every catalog value carries: where it was read and when."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ..engine.errors import InputError
from ._data import load_data

E = TypeVar("E", bound="CatalogModel")


class CatalogModel(BaseModel):
    """A catalog entry: strict (unknown keys are an error), immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(CatalogModel):
    """A catalog entry whose figures were read at ``source`` on ``as_of``."""

    source: str = Field(..., min_length=10, description="Where the figures were read (repository and path, or URL).")
    as_of: dt.date = Field(..., description="The date the figures were read or published.")


def keyed_entries(filename: str, section: str, model: type[E]) -> dict[str, E]:
    """The entries of ``section`` in a shipped data file, keyed by id, each validated by ``model``."""
    return {key: model(id=key, **entry) for key, entry in load_data(filename)[section].items()}  # type: ignore[call-arg]


def entry_of(catalog: dict[str, E], name: str, field: str, what: str) -> E:
    """``catalog[name]``, or an error naming the input field, the value and the catalog's ids."""
    if name not in catalog:
        raise InputError(field, name, f"{what} of the catalog: {', '.join(sorted(catalog))}")
    return catalog[name]

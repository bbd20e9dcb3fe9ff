"""What every catalog value carries: where it was read and when."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class CatalogModel(BaseModel):
    """A catalog entry: strict (unknown keys are an error), immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(CatalogModel):
    """A catalog entry whose figures were read at ``source`` on ``as_of``."""

    source: str = Field(..., min_length=10, description="Where the figures were read (repository and path, or URL).")
    as_of: dt.date = Field(..., description="The date the figures were read or published.")

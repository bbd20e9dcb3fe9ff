"""The one reference-date rule: a date option as text, and the day a run is "as of".

Catalog prices (``--as-of``), the memo's date (``--date``) and a batch's date all resolve the
same way: the date given, else ``SOURCE_DATE_EPOCH`` (reproducible builds), else today.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Mapping, Optional

from .engine.errors import InputError


def parse_date(value: Optional[str], field: str = "--as-of") -> Optional[dt.date]:
    """A YYYY-MM-DD text as a date (None when not given); :class:`InputError` naming ``field`` otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(field, value, "a date YYYY-MM-DD", kind="type") from None


def reference_date(given: Optional[dt.date] = None, environ: Optional[Mapping[str, str]] = None) -> dt.date:
    """The date given, else SOURCE_DATE_EPOCH (whole seconds since 1970-01-01, UTC), else today.
    A SOURCE_DATE_EPOCH that is not whole seconds is an :class:`InputError` (a ValueError)."""
    if given is not None:
        return given
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
        except (ValueError, OverflowError, OSError):
            raise InputError("SOURCE_DATE_EPOCH", epoch, "whole seconds since 1970-01-01", kind="type") from None
    return dt.date.today()

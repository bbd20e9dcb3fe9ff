"""Output folder names from business-unit names: safe, unique and deterministic.

Names come from untrusted rows, so each goes through :func:`runrate_xl.fsutil.safe_filename`
(no separators, no traversal, no leading dot, no Windows reserved names). Duplicates, compared
case-insensitively because macOS and Windows file systems are, get ``-2``, ``-3``... in input
order, so the same input always maps to the same folders (also with ``--only``).
"""

from __future__ import annotations

from typing import Iterable

from ..fsutil import unique_names as _unique_names

# Files the batch writes next to the BU folders; a BU must never be given one of these names.
TOP_LEVEL_NAMES = ("portfolio.xlsx", "portfolio.pdf", "summary.csv", "summary.json", "run.log", "sent-ledger.json")
MAX_LENGTH = 60


def unique_names(names: Iterable[str], reserved: Iterable[str] = TOP_LEVEL_NAMES) -> list[str]:
    """One safe folder name per BU name, in order; equal (or equal-when-sanitised) names get
    -2, -3, ... suffixes (the rule of :func:`runrate_xl.fsutil.unique_names`)."""
    return _unique_names(names, reserved, max_length=MAX_LENGTH)

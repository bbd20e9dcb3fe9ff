"""How the memo (and its email) writes numbers. One helper per kind of figure, used by the
templates, the charts, the email bodies and the tests, so a figure reads the same everywhere."""

from __future__ import annotations

import math
from typing import Optional

DASH = "-"


def usd(x: Optional[float]) -> str:
    """Whole dollars with thousands separators: ``$1,234``, ``-$1,234``."""
    if x is None:
        return DASH
    value = round(x)
    if value == 0:
        return "$0"  # never "-$0"
    return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"


def usd_cents(x: Optional[float]) -> str:
    """Dollars and cents, for unit costs: ``$0.25``."""
    if x is None:
        return DASH
    return f"-${-x:,.2f}" if x < -0.005 else f"${abs(x):,.2f}"


def usd_rate(x: Optional[float]) -> str:
    """A price per 1M tokens or per hour: enough decimals for small prices (``$0.075``, ``$2.50``)."""
    if x is None:
        return DASH
    if x == 0 or abs(x) >= 0.1:
        return f"${x:,.2f}"
    return f"${x:,.4f}".rstrip("0")


def usd_short(x: Optional[float]) -> str:
    """Compact dollars for chart labels: ``$950``, ``$45k``, ``$1.2M``."""
    if x is None:
        return DASH
    sign, a = ("-" if x < 0 else ""), abs(x)
    if a >= 999_500:
        return f"{sign}${a / 1e6:,.1f}M"
    if a >= 9_999.5:
        return f"{sign}${a / 1e3:,.0f}k"
    if a >= 999.5:
        return f"{sign}${a / 1e3:,.1f}k"
    if a < 99.5 and a != round(a):
        return f"{sign}${a:,.2f}".rstrip("0").rstrip(".")  # small axes ($2.5, $7.5) must not round alike
    return f"{sign}${a:,.0f}"


def tokens(x: Optional[float]) -> str:
    """A token volume: ``500``, ``950k``, ``333.3M``, ``1.09B``."""
    if x is None:
        return DASH
    a = abs(x)
    if a >= 999.5e6:
        return f"{x / 1e9:,.2f}B"
    if a >= 999.5e3:
        return f"{x / 1e6:,.1f}M"
    if a >= 999.5:
        return f"{x / 1e3:,.0f}k"
    return f"{x:,.0f}"


def count(x: Optional[float]) -> str:
    """A count with thousands separators: ``1,000,000``."""
    return DASH if x is None else f"{x:,.0f}"


def units(n: int) -> str:
    """A number of business units in words: ``1 unit``, ``3 units``.

    >>> units(1), units(3)
    ('1 unit', '3 units')
    """
    return f"{n:,} unit" if n == 1 else f"{n:,} units"


def number(x: Optional[float]) -> str:
    """A small quantity such as FTE or GPUs: ``0.25``, ``8``, ``1.5``."""
    if x is None:
        return DASH
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def pct(x: Optional[float], decimals: int = 0) -> str:
    """A fraction as a percentage: ``0.31`` -> ``31%``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return DASH
    return f"{x * 100:,.{decimals}f}%"


def multiple(x: Optional[float]) -> str:
    """A ratio such as 3.3x."""
    return DASH if x is None else f"{x:,.1f}x"


def months(x: Optional[float]) -> str:
    if x is None:
        return DASH
    return f"{x:,.1f} months" if x != round(x) else f"{x:,.0f} months"

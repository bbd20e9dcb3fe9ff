"""Optional parts of runrate_xl and the extra that installs each.

The core (engine, catalogs, presets, scenario loading, the RUNRATE_* functions) needs only
pydantic, PyYAML and genai-prices, so it also installs in Pyodide (xlwings Lite). Everything
else is an extra; a missing one is reported once, naming the extra to install.
"""

from __future__ import annotations

import importlib.util

from .engine.errors import RunrateError

# extra -> the top-level modules it provides (what the code imports)
EXTRAS: dict[str, tuple[str, ...]] = {
    "cli": ("typer", "rich"),
    "workbook": ("openpyxl", "defusedxml"),
    "memo": ("jinja2", "weasyprint", "matplotlib", "pypdf"),
    "excel": ("xlwings", "openpyxl"),
}


class MissingExtra(RunrateError, ImportError):
    """An optional part of runrate_xl is used without the extra that installs it."""


def missing_modules(extra: str) -> list[str]:
    return [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]


def install_hint(extra: str) -> str:
    return f"pip install 'runrate_xl[{extra}]'"


def require(what: str, *extras: str) -> None:
    """Raise :class:`MissingExtra` naming the first extra ``what`` needs that is not installed."""
    for extra in extras:
        missing = missing_modules(extra)
        if missing:
            raise MissingExtra(f"{what} needs the '{extra}' extra ({', '.join(missing)} not installed): "
                               f"{install_hint(extra)}")

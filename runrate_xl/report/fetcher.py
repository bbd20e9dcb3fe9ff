"""The only door WeasyPrint has to the outside world while rendering a memo.

WeasyPrint fetches every ``url(...)``, ``<img src>`` and ``<link href>`` through a URL fetcher.
Ours answers a private ``runrate:`` scheme only: the fonts shipped inside matplotlib, the memo's
stylesheet and the charts rendered for this memo (kept in memory). Anything else - http(s),
file:, data: - is refused and recorded, so a template bug or injected markup can never reach the
network or read a local file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import matplotlib
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

SCHEME = "runrate:"
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
# The fonts the stylesheet may ask for (a fixed list: no path from a URL ever reaches the disk).
FONTS = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "sans-italic": "DejaVuSans-Oblique.ttf",
    "sans-bold-italic": "DejaVuSans-BoldOblique.ttf",
    "serif": "DejaVuSerif.ttf",
    "serif-bold": "DejaVuSerif-Bold.ttf",
}
_FONT_BYTES: dict[str, bytes] = {}


class AssetRefused(FatalURLFetchingError):
    """A render asked for something that is not one of the memo's own assets.

    Fatal on purpose (WeasyPrint would otherwise log and carry on without the resource)."""


def chart_url(name: str) -> str:
    return f"{SCHEME}chart/{name}.svg"


def _font_bytes(key: str) -> bytes:
    if key not in _FONT_BYTES:
        _FONT_BYTES[key] = (FONT_DIR / FONTS[key]).read_bytes()
    return _FONT_BYTES[key]


class MemoAssetFetcher(URLFetcher):
    """Serves ``runrate:font/<key>`` and ``runrate:chart/<name>.svg``; refuses everything else.

    ``requested`` lists every URL WeasyPrint asked for, ``refused`` the ones turned down."""

    def __init__(self, charts: Mapping[str, bytes] | None = None) -> None:
        super().__init__(allowed_protocols=("runrate",), fail_on_errors=True)
        self.charts = dict(charts or {})
        self.requested: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url, headers=None):  # noqa: D401 - WeasyPrint's interface
        self.requested.append(url)
        kind, _, name = url[len(SCHEME):].partition("/") if url.startswith(SCHEME) else ("", "", "")
        if kind == "font" and name in FONTS:
            return URLFetcherResponse(url, _font_bytes(name), {"Content-Type": "font/ttf"})
        if kind == "chart" and name.endswith(".svg") and name[:-4] in self.charts:
            return URLFetcherResponse(url, self.charts[name[:-4]], {"Content-Type": "image/svg+xml"})
        self.refused.append(url)
        raise AssetRefused(f"the memo renderer serves only its own assets; refused {url[:200]!r}")

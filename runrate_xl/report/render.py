"""Evaluation -> HTML (jinja2, autoescaped) -> PDF (WeasyPrint), deterministically.

Same evaluation and memo date -> same bytes: the PDF's created/modified dates are the memo date
(from SOURCE_DATE_EPOCH when set), the charts' SVG ids are salted with a constant, fonts are
the files matplotlib ships, and no PDF file identifier is written.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Optional, Sequence, Union

import jinja2
import weasyprint
from weasyprint.text.fonts import FontConfiguration

from .. import __version__
from ..engine.errors import RunrateError
from ..engine.results import Evaluation
from ..fsutil import atomic_write_bytes
from .. import formatting
from .charts import memo_charts, portfolio_svg
from .context import memo_context, memo_date_default, portfolio_context
from .fetcher import AssetRefused, MemoAssetFetcher, chart_url

PathLike = Union[str, Path]
# Templates live in the repository's top-level report_templates/; an installed wheel carries a
# copy as package data under runrate_xl/assets/report_templates/.
TEMPLATE_DIRS = (
    Path(__file__).resolve().parents[2] / "report_templates",
    Path(__file__).resolve().parents[1] / "assets" / "report_templates",
)
BASE_URL = "runrate:memo/"
AUTHOR = "runrate_xl cost engine"


class ReportError(RunrateError):
    """The memo could not be rendered (missing templates, a refused asset, ...)."""


def templates_dir() -> Path:
    for d in TEMPLATE_DIRS:
        if (d / "memo.html").is_file():
            return d
    raise ReportError(f"memo templates not found; looked in {', '.join(str(d) for d in TEMPLATE_DIRS)}")


@functools.lru_cache(maxsize=4)
def _environment(folder: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,  # every template, whatever its name: user text (BU names, notes) stays text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["chart_url"] = chart_url
    for name in ("usd", "usd_cents", "usd_rate", "usd_short", "tokens", "count", "number", "pct", "multiple"):
        env.filters[name] = getattr(formatting, name)
    return env


@functools.lru_cache(maxsize=4)
def _stylesheet_text(folder: str) -> str:
    return (Path(folder) / "memo.css").read_text(encoding="utf-8")


def _common(memo_date: dt.date) -> dict:
    return {
        "author": AUTHOR,
        "version": __version__,
        "pdf_timestamp": f"{memo_date.isoformat()}T00:00:00Z",
    }


def memo_html(evaluation: Evaluation, memo_date: Optional[dt.date] = None) -> str:
    """The memo as HTML (what WeasyPrint lays out); handy for debugging the templates."""
    day = memo_date_default(memo_date)
    folder = str(templates_dir())
    ctx = memo_context(evaluation, day)
    ctx.update(_common(day), keywords=f"AI cost, TCO, {ctx['recommendation']}", has_tornado=bool(ctx["tornado"]))
    return _environment(folder).get_template("memo.html").render(ctx)


def _to_pdf(html: str, charts: dict[str, bytes]) -> tuple[bytes, MemoAssetFetcher]:
    folder = str(templates_dir())
    fetcher = MemoAssetFetcher(charts)
    fonts = FontConfiguration()
    try:
        css = weasyprint.CSS(string=_stylesheet_text(folder), base_url=BASE_URL, url_fetcher=fetcher, font_config=fonts)
        document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
        pdf = document.write_pdf(stylesheets=[css], font_config=fonts, pdf_identifier=False, uncompressed_pdf=False)
    except AssetRefused as exc:
        raise ReportError(str(exc)) from None
    return pdf, fetcher


def _finish(pdf: bytes, path: Optional[PathLike]) -> bytes:
    if path is not None:
        atomic_write_bytes(path, pdf)
    return pdf


def render_memo(evaluation: Evaluation, path: Optional[PathLike] = None, *, memo_date: Optional[dt.date] = None) -> bytes:
    """The decision memo of one business unit as PDF bytes; written atomically to ``path`` if given."""
    pdf, _ = render_memo_with_fetcher(evaluation, memo_date=memo_date)
    return _finish(pdf, path)


def render_memo_with_fetcher(evaluation: Evaluation, *, memo_date: Optional[dt.date] = None) -> tuple[bytes, MemoAssetFetcher]:
    """``render_memo`` plus the fetcher, whose ``requested`` list says what the render asked for."""
    html = memo_html(evaluation, memo_date)
    return _to_pdf(html, memo_charts(evaluation))


def portfolio_html(evaluations: Sequence[Evaluation], memo_date: Optional[dt.date] = None) -> str:
    day = memo_date_default(memo_date)
    folder = str(templates_dir())
    ctx = portfolio_context(list(evaluations), day)
    ctx.update(_common(day), keywords="AI cost, TCO, portfolio")
    return _environment(folder).get_template("portfolio.html").render(ctx)


def render_portfolio_memo(evaluations: Sequence[Evaluation], path: Optional[PathLike] = None, *,
                          memo_date: Optional[dt.date] = None) -> bytes:
    """One memo summarising every business unit's recommendation and run-rate."""
    if not evaluations:
        raise ReportError("evaluations: got an empty list, expected at least one business unit")
    html = portfolio_html(evaluations, memo_date)
    pdf, _ = _to_pdf(html, {"portfolio": portfolio_svg(list(evaluations))})
    return _finish(pdf, path)

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
from ..templates import shipped_report, user_dir
from .charts import memo_charts, portfolio_svg
from ..presentation import memo_date_default
from .context import memo_context, portfolio_context
from .fetcher import AssetRefused, MemoAssetFetcher, chart_url

PathLike = Union[str, Path]
BASE_URL = "runrate:memo/"
AUTHOR = "runrate_xl cost engine"


class ReportError(RunrateError):
    """The memo could not be rendered (missing templates, a refused asset, ...)."""


class _ShippedLoader(jinja2.BaseLoader):
    """The memo templates shipped as package data, read through importlib.resources."""

    def get_source(self, environment, template):
        entry = shipped_report().joinpath(template)
        if "/" in template or "\\" in template or not entry.is_file():
            raise jinja2.TemplateNotFound(template)
        return entry.read_text(encoding="utf-8"), None, lambda: True


def _user_folder() -> Optional[Path]:
    try:
        return user_dir()
    except RunrateError as exc:
        raise ReportError(str(exc)) from None


@functools.lru_cache(maxsize=4)
def _environment(folder: Optional[str]) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [_ShippedLoader()]
    if folder is not None:  # the user's folder first; files it lacks fall back to the shipped ones
        loaders.insert(0, jinja2.FileSystemLoader(folder))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,  # every template, whatever its name: user text (BU names, notes) stays text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["chart_url"] = chart_url
    for name in ("usd", "usd_cents", "usd_rate", "usd_short", "tokens", "count", "number", "pct", "multiple"):
        env.filters[name] = getattr(formatting, name)
    return env


def _template(name: str) -> jinja2.Template:
    folder = _user_folder()
    try:
        return _environment(None if folder is None else str(folder)).get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"memo template {exc.name} not found (shipped templates: {shipped_report()})") from None


@functools.lru_cache(maxsize=4)
def _stylesheet_at(folder: Optional[str]) -> str:
    if folder is not None and (Path(folder) / "memo.css").is_file():
        return (Path(folder) / "memo.css").read_text(encoding="utf-8")
    entry = shipped_report().joinpath("memo.css")
    if not entry.is_file():
        raise ReportError(f"memo stylesheet memo.css not found (shipped templates: {shipped_report()})")
    return entry.read_text(encoding="utf-8")


def stylesheet_text() -> str:
    """The memo stylesheet: the user's memo.css if their template folder has one, else the shipped one."""
    folder = _user_folder()
    return _stylesheet_at(None if folder is None else str(folder))


def _common(memo_date: dt.date) -> dict:
    return {
        "author": AUTHOR,
        "version": __version__,
        "pdf_timestamp": f"{memo_date.isoformat()}T00:00:00Z",
    }


def memo_html(evaluation: Evaluation, memo_date: Optional[dt.date] = None) -> str:
    """The memo as HTML (what WeasyPrint lays out); handy for debugging the templates."""
    day = memo_date_default(memo_date)
    ctx = memo_context(evaluation, day)
    ctx.update(_common(day), keywords=f"AI cost, TCO, {ctx['recommendation']}", has_tornado=bool(ctx["tornado"]))
    return _template("memo.html").render(ctx)


def _to_pdf(html: str, charts: dict[str, bytes]) -> tuple[bytes, MemoAssetFetcher]:
    fetcher = MemoAssetFetcher(charts)
    fonts = FontConfiguration()
    try:
        css = weasyprint.CSS(string=stylesheet_text(), base_url=BASE_URL, url_fetcher=fetcher, font_config=fonts)
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
    ctx = portfolio_context(evaluations, day)
    ctx.update(_common(day), keywords="AI cost, TCO, portfolio")
    return _template("portfolio.html").render(ctx)


def render_portfolio_memo(evaluations: Sequence[Evaluation], path: Optional[PathLike] = None, *,
                          memo_date: Optional[dt.date] = None) -> bytes:
    """One memo summarising every business unit's recommendation and run-rate."""
    if not evaluations:
        raise ReportError("evaluations: got an empty list, expected at least one business unit")
    html = portfolio_html(evaluations, memo_date)
    pdf, _ = _to_pdf(html, {"portfolio": portfolio_svg(evaluations)})
    return _finish(pdf, path)

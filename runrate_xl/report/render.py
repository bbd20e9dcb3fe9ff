"""Evaluation -> HTML (jinja2, autoescaped) -> PDF (WeasyPrint), deterministically.

Same evaluation and memo date -> same bytes: the PDF's created/modified dates are the memo date
(from SOURCE_DATE_EPOCH when set), the charts' SVG ids are salted with a constant, fonts are
the files matplotlib ships, and no PDF file identifier is written.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from html import escape as html_escape
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Union

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
from ..presentation import memo_date_default, plain
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


def _plain(value):
    return plain(value) if type(value) is str else value


_ENTRY_OVERHEAD = 40  # characters' worth of height a list entry or a group title takes beyond its text


def _cut(weights: Sequence[float]) -> int:
    """Where to cut a sequence of heights into two columns of about equal height, in reading order."""
    total = sum(weights)
    heights = [0.0]  # the first column's height when cut after 0, 1, ... entries
    for w in weights:
        heights.append(heights[-1] + w)
    return min(range(len(heights)), key=lambda k: abs(2 * heights[k] - total))


def two_columns(entries: Sequence[str]) -> list[list[str]]:
    """Text entries in two columns of about equal height, in reading order. The memo lays out
    columns itself: CSS multi-column layout re-lays its content to balance it, which cost a
    quarter of a memo's layout time."""
    k = _cut([len(e) + _ENTRY_OVERHEAD for e in entries])
    return [list(entries[:k]), list(entries[k:])]


def two_column_groups(groups: Sequence[dict]) -> list[list[dict]]:
    """Titled groups of entries (``{"title", "items"}``, each item with a ``text``) in two columns of
    about equal height, in reading order; a group cut in two continues without its title."""
    flat = [(g, item, i == 0) for g in groups for i, item in enumerate(g["items"])]  # i == 0: the group starts
    k = _cut([len(item["text"]) + _ENTRY_OVERHEAD * (2 if starts else 1) for _, item, starts in flat])
    columns: list[list[dict]] = [[], []]
    for i, (g, item, starts) in enumerate(flat):
        column = columns[0 if i < k else 1]
        if not column or column[-1]["group"] is not g:
            column.append({"group": g, "title": g["title"] if starts else None, "items": []})
        column[-1]["items"].append(item)
    return columns


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
        finalize=_plain,  # no internal "seed NNN" references in what a reader sees
    )
    env.globals["chart_url"] = chart_url
    env.globals["two_columns"] = two_columns
    env.globals["two_column_groups"] = two_column_groups
    for name in ("usd", "usd_cents", "usd_rate", "usd_short", "tokens", "count", "number", "pct", "multiple", "units"):
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
    ctx.update(_common(day), keywords=f"AI cost, TCO, {ctx['recommendation']}", has_tornado=bool(ctx["tornado"]),
               has_pair=len(evaluation.options) > 1)
    return _template("memo.html").render(ctx)


MAX_UNIT_PAGES = 4  # a unit memo's pages at most
ORPHAN_FILL = 0.3  # a last page filled less than this (share of its height) is an orphan
# Tighter set-ups, tried in turn when a unit memo runs over MAX_UNIT_PAGES or ends on an orphan page.
COMPACT_CSS = (
    """html { font-size: 8pt; line-height: 1.34; } section { margin-top: 3.6mm; }
       figure img { width: 92%; margin: 0 auto; } table.text td { font-size: 7pt; }""",
    """html { font-size: 7.7pt; line-height: 1.3; } section { margin-top: 3mm; } h2 { margin-bottom: 1.6mm; }
       figure img { width: 84%; margin: 0 auto; } table.text td { font-size: 6.8pt; } th, td { padding-top: 0.8mm; padding-bottom: 0.8mm; }""",
    # the densest memos (several options, bought servers with their capex and cash lines)
    """html { font-size: 7.4pt; line-height: 1.25; } section { margin-top: 2.4mm; } h2 { margin-bottom: 1.2mm; }
       figure img { width: 74%; margin: 0 auto; } table.text td { font-size: 6.5pt; } th, td { padding-top: 0.6mm; padding-bottom: 0.6mm; }""",
)


def last_page_fill(document) -> float:
    """How much of the last page's content area its content fills (0-1)."""
    page = document.pages[-1]._page_box
    root = next((c for c in page.children if type(c).__name__ != "MarginBox"), None)
    if root is None:
        return 0.0
    bottoms = [d.position_y + d.margin_height() for d in root.descendants()
               if hasattr(d, "margin_height") and d.element_tag not in ("html", "body")]
    return (max(bottoms, default=page.content_box_y()) - page.content_box_y()) / page.height


def _fits(document, max_pages: Optional[int]) -> bool:
    n = len(document.pages)
    return (max_pages is None or n <= max_pages) and (n == 1 or last_page_fill(document) >= ORPHAN_FILL)


FAR_OVER = 0.45  # pages past max_pages beyond which only the tightest set-up brings a memo back (see _next_level)


def _next_level(document, level: int, max_pages: Optional[int]) -> int:
    """The COMPACT_CSS set-up to try after ``level`` did not fit. A memo that runs over its
    pages by more than FAR_OVER of a page at the normal set-up goes to the tightest one at once:
    the two in between shrink a memo by 0.1-0.4 of a page (sections that keep together move as
    blocks), so for every example and preset that far over they were two layouts spent in vain
    (the densest memos were laid out four times; now twice)."""
    if level == 0 and max_pages is not None and len(document.pages) > max_pages:
        over = len(document.pages) - max_pages - 1 + last_page_fill(document)
        if over > FAR_OVER:
            return len(COMPACT_CSS)
    return level + 1


@functools.lru_cache(maxsize=1)
def _font_configuration() -> FontConfiguration:
    return FontConfiguration()


@functools.lru_cache(maxsize=16)
def _stylesheets(texts: tuple[str, ...]) -> tuple[FontConfiguration, list]:
    """The parsed stylesheets and the font set-up their @font-face rules make, once per process:
    parsing the stylesheet and loading its fonts was a fifth of every memo's layout. Only the
    memo's own fonts are fetched here (through a fetcher that refuses anything else)."""
    fonts = _font_configuration()
    fetcher = MemoAssetFetcher()
    return fonts, [weasyprint.CSS(string=text, base_url=BASE_URL, url_fetcher=fetcher, font_config=fonts) for text in texts]


def _to_pdf(html: str, charts: dict[str, bytes], extra_css: Optional[str] = None, *,
            fit: bool = False, max_pages: Optional[int] = None) -> tuple[bytes, MemoAssetFetcher]:
    """The PDF of ``html``. With ``fit``, a layout that runs over ``max_pages`` or ends on an
    orphan page is laid out again with the tighter COMPACT_CSS set-ups (skipping those that
    cannot bring it back, see _next_level), and the first that fits (else the one with the fewest
    pages) is kept."""
    fetcher = MemoAssetFetcher(charts)
    try:
        base = [text for text in (stylesheet_text(), extra_css) if text]
        best, level = None, 0
        parsed = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)  # parsed once, laid out per set-up
        while level <= (len(COMPACT_CSS) if fit else 0):
            fonts, css = _stylesheets(tuple(base + list(COMPACT_CSS[:level])))
            document = parsed.render(stylesheets=css, font_config=fonts)
            if best is None or len(document.pages) <= len(best.pages):
                best = document
            if not fit or _fits(document, max_pages):
                best = document
                break
            level = _next_level(document, level, max_pages)
        pdf = best.write_pdf(pdf_identifier=False, uncompressed_pdf=False)
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
    return _to_pdf(html, memo_charts(evaluation), fit=True, max_pages=MAX_UNIT_PAGES)


PART_UNITS = 50  # units per laid-out part of a long portfolio memo (WeasyPrint: ~0.45 MB per unit in a part)
CHART_UNITS = 40  # bars in the portfolio chart; the rest are one bar (see portfolio_svg)

# A memo laid out in parts leaves the page margins empty; once the parts' pages are counted, one
# document of that many empty pages carries the margins (running header, "Page N of M") and is
# laid over them (see _merge_pdfs).
_PART_CSS = """
@page { @top-left { content: none; } @top-right { content: none; } @bottom-left { content: none; } @bottom-right { content: none; } }
"""
_MARGINS_CSS = """
.running-strings { height: 0; overflow: hidden; visibility: hidden; }
.running-strings .running-bu { string-set: bu content(); }
.blank-page { break-before: page; }
"""


def _portfolio_window(ctx: dict, start: int, stop: int) -> dict:
    """The template context of the memo's items ``start`` to ``stop`` (excluded): items 0..n-1 are
    the table's rows, n..2n-1 the unit-by-unit paragraphs (see portfolio.html)."""
    rows = ctx["rows"]
    n = len(rows)
    unit_first = max(start, n)
    return {**ctx, "unit_count": n, "head": start == 0,
            "table_first": start, "table_rows": rows[start:min(stop, n)], "table_end": start <= n - 1 < stop or n == 0,
            "show_chart": start <= n < stop or n == 0, "unit_first": unit_first, "unit_rows": rows[unit_first - n:max(0, stop - n)]}


def portfolio_html(evaluations: Iterable[Evaluation], memo_date: Optional[dt.date] = None,
                   failures: Iterable[tuple[str, str]] = ()) -> str:
    """The portfolio memo as HTML (all of it in one document, whatever its length)."""
    day = memo_date_default(memo_date)
    ctx = portfolio_context(evaluations, day, failures)
    ctx.update(_common(day), keywords="AI cost, TCO, portfolio")
    return _template("portfolio.html").render(_portfolio_window(ctx, 0, 2 * len(ctx["rows"])))


def render_portfolio_memo(evaluations: Sequence[Evaluation], path: Optional[PathLike] = None, *,
                          memo_date: Optional[dt.date] = None, part_units: Optional[int] = None,
                          isolate: Optional[Callable[..., Any]] = None,
                          failures: Iterable[tuple[str, str]] = ()) -> bytes:
    """One memo summarising every business unit's recommendation and run-rate.

    ``evaluations`` is read twice, one evaluation at a time (a sequence that rebuilds each on
    access keeps none of them). A memo of more than ``part_units`` units (default :data:`PART_UNITS`)
    is laid out in parts of at most twice that many items (table rows and unit paragraphs: the
    memory of a one-part memo of ``part_units`` units), each its own document. A part keeps the
    pages before its last one and the next part starts with the item that last page started with,
    so the pages flow as in one document (no half-empty page where a part ends); the pages are
    merged and numbered "Page N of M" at the end. The memory WeasyPrint needs is that of one part,
    however many units there are. ``isolate(fn, *args)``, if given, runs each part's layout (e.g.
    in a fresh process, so that what WeasyPrint's native libraries keep after each document does
    not add up; see runrate_xl.batch.pool.in_child), and the chart and the merge too (matplotlib
    and pypdf hold what they draw or merge)."""
    isolate = isolate or (lambda fn, *args: fn(*args))
    if not evaluations:
        raise ReportError("evaluations: got an empty list, expected at least one business unit")
    day = memo_date_default(memo_date)
    ctx = portfolio_context(evaluations, day, failures)
    ctx.update(_common(day), keywords="AI cost, TCO, portfolio")
    charts = {"portfolio": isolate(portfolio_svg, evaluations, CHART_UNITS)}
    template = _template("portfolio.html")
    size = max(1, part_units or PART_UNITS)
    items = 2 * len(ctx["rows"])
    if len(ctx["rows"]) <= size:
        return _finish(isolate(_fitted_pdf_bytes, template.render(_portfolio_window(ctx, 0, items)), charts), path)
    pdfs, pages, start = [], 0, 0
    while start < items:
        stop = min(items, start + 2 * size)
        part = _portfolio_window(ctx, start, stop)
        pdf, count, start = isolate(_part_pdf, template.render(part), charts if part["show_chart"] else {}, start, stop, items)
        pages += count
        pdfs.append(pdf)
    return _finish(isolate(_merge_pdfs, pdfs, _margins_html(ctx, pages)), path)


def _margins_html(ctx: dict, pages: int) -> str:
    """``pages`` empty pages whose margins hold the memo's running header and page numbers."""
    running = (f'<div class="running-strings"><span class="running-bu">{html_escape(ctx["heading"])}</span>'
               f'<span class="memodate">{html_escape(ctx["date"])}</span></div>')
    blanks = '<div class="blank-page"></div>' * (pages - 1)
    return f"<!DOCTYPE html><html><body>{running}{blanks}</body></html>"


def _items_on(page) -> set[int]:
    """The numbers (data-item) of the portfolio items with a box on a laid-out page."""
    found = set()
    for box in page._page_box.descendants():
        element = getattr(box, "element", None)
        value = element.get("data-item") if element is not None else None
        if value is not None:
            found.add(int(value))
    return found


def _fitted_pdf_bytes(html: str, charts: dict[str, bytes]) -> bytes:
    """A portfolio memo in one part, laid out again more tightly if it ends on an orphan page."""
    return _to_pdf(html, charts, fit=True)[0]


def _part_pdf(html: str, charts: dict[str, bytes], start: int, stop: int, items: int) -> tuple[bytes, int, int]:
    """A part of a long memo (items ``start`` to ``stop``), its number of pages and the item the
    next part starts with: unless the part reaches the last item, its last page is left to the
    next part, which starts with the first item on it (an item that does not end on that page
    starts on it: rows and paragraphs do not break, and what follows the last row or precedes
    the first paragraph carries its number)."""
    fetcher = MemoAssetFetcher(charts)
    try:
        fonts, css = _stylesheets((stylesheet_text(), _PART_CSS))
        document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(stylesheets=css, font_config=fonts)
        pages, following = document.pages, stop
        if stop < items and len(pages) > 1:
            cut = min(_items_on(pages[-1]), default=None)
            if cut is not None and cut > start and not any(i >= cut for p in pages[:-1] for i in _items_on(p)):
                pages, following = pages[:-1], cut
        pdf = document.copy(pages).write_pdf(pdf_identifier=False, uncompressed_pdf=False)
    except AssetRefused as exc:
        raise ReportError(str(exc)) from None
    return pdf, len(pages), following


def _merge_pdfs(pdfs: list[bytes], margins_html: Optional[str] = None) -> bytes:
    """The parts' pages in order, with the first part's document information (title, dates); with
    ``margins_html``, each page's margins are drawn from the same page of that document."""
    from pypdf import PdfReader, PdfWriter

    margins = PdfReader(io.BytesIO(_to_pdf(margins_html, {}, _MARGINS_CSS)[0])).pages if margins_html else None
    writer = PdfWriter()
    info = None
    n = 0
    for pdf in pdfs:
        reader = PdfReader(io.BytesIO(pdf))
        if info is None:
            info = {k: str(v) for k, v in (reader.metadata or {}).items()}
        for page in reader.pages:
            added = writer.add_page(page)
            if margins is not None:
                added.merge_page(margins[n])
            n += 1
    writer.add_metadata(info or {})
    if hasattr(writer, "compress_identical_objects"):  # pypdf >= 4.3: objects the parts share, once
        writer.compress_identical_objects()
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()

"""PDF decision memos: content read back with pypdf equals the engine's figures as the memo
formats them, pages rendered by pdftoppm are not blank, nothing outside the package is fetched,
and the same input gives the same bytes."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import sys

import pytest
from pypdf import PdfReader

from runrate_xl.api import evaluate_scenario, scenario_from_dict
from runrate_xl.engine.option_cost import option_total
from runrate_xl.presets import preset_scenario
from runrate_xl.report import ReportError, render_memo, render_portfolio_memo
from runrate_xl import formatting as fmt
from runrate_xl.report.charts import breakeven_curves, breakeven_svg
from runrate_xl.report.fetcher import AssetRefused, MemoAssetFetcher
from runrate_xl.report.render import _to_pdf, render_memo_with_fetcher

MEMO_DATE = dt.date(2026, 3, 2)
PRESETS = ("seed000-1m-inferences", "healthcare-privacy", "capacity-growth")


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture(scope="module")
def memos():
    out = {}
    for name in PRESETS:
        ev = evaluate_scenario(preset_scenario(name))
        pdf = render_memo(ev, memo_date=MEMO_DATE)
        out[name] = (ev, pdf, pdf_text(pdf))
    return out


@pytest.mark.parametrize("name", PRESETS)
def test_memo_shows_the_engines_figures(memos, name):
    ev, pdf, text = memos[name]
    s = ev.scenario
    expected = [s.name, f"RECOMMENDATION {ev.recommendation.label}", fmt.tokens(s.volume.daily_tokens)]
    for o, c in ev.options.items():
        expected += [fmt.usd(c.total_monthly), fmt.usd(c.visible_monthly), fmt.usd(c.hidden_monthly),
                     fmt.usd(ev.tco[o].total), fmt.pct(c.hidden_share)]
        expected += [fmt.usd(i.monthly_usd) for i in c.line_items if i.monthly_usd]
        if s.horizon.discount_rate_per_year > 0:
            expected.append(fmt.usd(ev.tco[o].npv))
    be = ev.breakeven
    if be.found:
        expected.append(f"{fmt.tokens(be.tokens_per_day)} tokens/day")
    for r in ev.recommendation.reasons:
        if r.rule == "cost":
            expected.append(" ".join(r.text.split()))
    if s.option("api").price_as_of:
        expected.append(s.option("api").price_as_of)
    if s.find_option("self_hosted") is not None:
        expected.append(fmt.usd(s.find_option("self_hosted").fte_annual_cost))
    squeezed = text.replace(" ", "")  # pypdf may add a space where a line wraps ("8.0%/ year")
    missing = [e for e in expected if e not in text and e.replace(" ", "") not in squeezed]
    assert not missing, f"not in the PDF text: {missing}"


@pytest.mark.parametrize("name", PRESETS)
def test_page_count_metadata_and_page_numbers(memos, name):
    ev, pdf, text = memos[name]
    reader = PdfReader(io.BytesIO(pdf))
    n = len(reader.pages)
    assert 3 <= n <= 6
    assert f"Page 1 of {n}" in text and f"Page {n} of {n}" in text
    meta = reader.metadata
    assert meta.title == f"Decision memo: {ev.scenario.name}"
    assert meta.author == "runrate_xl cost engine"
    assert ev.recommendation.label in meta.subject
    assert meta.creation_date.date() == MEMO_DATE and meta.modification_date.date() == MEMO_DATE


def test_fonts_are_embedded_from_the_package(memos):
    pdf = memos["capacity-growth"][1]
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {}
    for page in reader.pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            fonts[str(font["/BaseFont"])] = "/FontFile2" in descendant["/FontDescriptor"].get_object()
    assert fonts and all(fonts.values()), fonts  # every font carries its (subset) file
    assert all("Runrate-Sans" in name for name in fonts), fonts  # ours, not a system fallback


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
@pytest.mark.parametrize("name", PRESETS)
def test_every_page_renders_non_blank(memos, name, tmp_path):
    from PIL import Image, ImageStat

    pdf = memos[name][1]
    (tmp_path / "memo.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(tmp_path / "memo.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages)
    for page in pages:
        gray = Image.open(page).convert("L")
        inked = sum(gray.histogram()[:200]) / (gray.width * gray.height)
        assert ImageStat.Stat(gray).stddev[0] > 8, page.name
        assert inked > 0.01, f"{page.name}: only {inked:.2%} of the pixels carry ink"


def test_same_input_same_bytes(memos):
    ev, pdf, _ = memos["seed000-1m-inferences"]
    assert render_memo(ev, memo_date=MEMO_DATE) == pdf


def test_source_date_epoch_fixes_the_date_and_the_bytes(monkeypatch):
    ev = evaluate_scenario(preset_scenario("healthcare-privacy"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    first, second = render_memo(ev), render_memo(ev)
    assert first == second
    reader = PdfReader(io.BytesIO(first))
    assert reader.metadata.creation_date.date() == dt.date(2026, 1, 1)
    assert "1 January 2026" in pdf_text(first)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        render_memo(ev)


@pytest.mark.slow
def test_same_bytes_in_another_process(memos, tmp_path):
    """Hash seeds and import order must not leak into the PDF."""
    code = (
        "import datetime as dt, sys\n"
        "from runrate_xl.api import evaluate_scenario\n"
        "from runrate_xl.presets import preset_scenario\n"
        "from runrate_xl.report import render_memo\n"
        "sys.stdout.buffer.write(render_memo(evaluate_scenario(preset_scenario('seed000-1m-inferences')), memo_date=dt.date(2026, 3, 2)))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True).stdout
    assert out == memos["seed000-1m-inferences"][1]


def test_render_writes_atomically(tmp_path):
    ev = evaluate_scenario(preset_scenario("seed004-startup"))
    target = tmp_path / "sub" / "memo.pdf"
    pdf = render_memo(ev, target, memo_date=MEMO_DATE)
    assert target.read_bytes() == pdf and pdf.startswith(b"%PDF-")
    assert [p.name for p in target.parent.iterdir()] == ["memo.pdf"]


HOSTILE_NAME = '<img src="http://example.com/x">'


def test_hostile_text_prints_as_text_and_nothing_is_fetched():
    data = {
        "name": HOSTILE_NAME,
        "notes": '<link rel="stylesheet" href="file:///etc/passwd"><script>alert(1)</script> & <b>bold?</b>',
        "volume": {"tokens_per_day": 50_000_000},
        "api": {"input_price_per_1m": 0.15, "output_price_per_1m": 0.60},
        "self_hosted": {"mode": "simple", "infra_monthly": 4140, "utilization": 0.8, "fte": 0},
    }
    ev = evaluate_scenario(scenario_from_dict(data))
    pdf, fetcher = render_memo_with_fetcher(ev, memo_date=MEMO_DATE)
    assert fetcher.requested, "the fetcher was not used at all"
    assert all(url.startswith("runrate:") for url in fetcher.requested), fetcher.requested
    assert not fetcher.refused
    assert not any("example.com" in u or "passwd" in u for u in fetcher.requested)
    text = pdf_text(pdf)
    assert HOSTILE_NAME in text
    assert "<script>alert(1)</script> & <b>bold?</b>" in text


@pytest.mark.parametrize("url", ["http://example.com/x", "https://example.com/x.css", "file:///etc/passwd",
                                 "data:image/png;base64,AAAA", "runrate:font/../../../etc/passwd", "runrate:chart/nope.svg",
                                 "ftp://example.com/a"])
def test_fetcher_refuses_everything_but_its_assets(url):
    fetcher = MemoAssetFetcher({"known": b"<svg xmlns='http://www.w3.org/2000/svg'/>"})
    with pytest.raises(AssetRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [url]
    assert fetcher.fetch("runrate:chart/known.svg").read().startswith(b"<svg")
    assert fetcher.fetch("runrate:font/sans").read()[:4] in (b"\x00\x01\x00\x00", b"true")


def test_a_template_that_reaches_out_fails_loudly():
    html = '<html><body><p>x</p><img src="http://example.com/tracker.png"></body></html>'
    with pytest.raises(ReportError, match="refused"):
        _to_pdf(html, {})


def test_breakeven_curves_are_engine_totals_and_cross_at_the_breakeven():
    ev = evaluate_scenario(preset_scenario("healthcare-privacy"))
    volumes, curves = breakeven_curves(ev)
    s = ev.scenario
    for o, ys in curves.items():
        for t, y in list(zip(volumes, ys))[::20]:
            assert y == option_total(s, o, t)
    be = ev.breakeven
    assert volumes[0] == 0 and volumes[-1] > be.tokens_per_day > s.volume.daily_tokens
    diff = [a - b for a, b in zip(curves["api"], curves["self_hosted"])]
    crossing = next(i for i, d in enumerate(diff) if d >= 0)
    assert volumes[crossing - 1] < be.tokens_per_day <= volumes[crossing]
    svg = breakeven_svg(ev)
    assert b"<text" in svg and b"'Runrate Sans'" in svg and b"<dc:date>" not in svg
    assert f"Today: {fmt.tokens(s.volume.daily_tokens)}/day".encode() in svg
    assert svg == breakeven_svg(ev)


def test_portfolio_memo_sums_the_units(tmp_path):
    evs = [evaluate_scenario(preset_scenario(p)) for p in PRESETS]
    path = tmp_path / "portfolio.pdf"
    pdf = render_portfolio_memo(evs, path, memo_date=MEMO_DATE)
    assert path.read_bytes() == pdf
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 3
    text = pdf_text(pdf)
    today = sum(ev.options[ev.scenario.context.current_option].total_monthly for ev in evs)
    for ev in evs:
        assert ev.scenario.name in text
    assert fmt.usd(today) in text
    assert render_portfolio_memo(evs, memo_date=MEMO_DATE) == pdf
    with pytest.raises(ReportError, match="at least one"):
        render_portfolio_memo([])


def _many(n: int):
    """``n`` evaluations: the three presets' in turn, each under a unit name of its own."""
    base = [evaluate_scenario(preset_scenario(p)) for p in PRESETS]
    return [base[i % 3].model_copy(update={"scenario": base[i % 3].scenario.model_copy(update={"name": f"Unit {i:03d} of the long list"})})
            for i in range(n)]


def test_a_long_portfolio_memo_is_laid_out_in_parts_and_still_lists_every_unit():
    """Past ``part_units`` units the memo is laid out part by part (bounded memory) and the pages
    merged: every unit in the table and in the unit-by-unit section once each, one total, no
    section title repeated (a part starts where the previous one's pages end: the table header
    repeats as on any page), pages numbered "Page N of M" through the parts, the running header
    on every page but the first, the same bytes twice."""
    from runrate_xl.report.charts import portfolio_svg

    evs = _many(7)
    pdf = render_portfolio_memo(evs, memo_date=MEMO_DATE, part_units=3)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    text = "\n".join(pages)
    head = text.split("Recommendation per business unit")[0]  # the summary may name a unit that moves
    for ev in evs:
        # its table row and its paragraph (and any mention in the summary)
        assert text.count(ev.scenario.name) == 2 + head.count(ev.scenario.name), ev.scenario.name
    assert "(continued)" not in text
    assert text.count("Recommendation per business unit") == 1 and text.count("Unit by unit") == 1
    assert text.count("Run-rate as recommended") == 1  # the chart's title
    assert len([line for line in text.splitlines() if line.startswith("Total")]) == 1
    for number, page in enumerate(pages, start=1):
        assert page.rstrip().endswith(f"Page {number} of {len(pages)}"), page[-200:]
        assert ("Decision memo \u2014 All business units" in page) == (number > 1)
    assert render_portfolio_memo(evs, memo_date=MEMO_DATE, part_units=3) == pdf
    # one part (the default size for seven units) is the memo as it always was: "Page 1 of N"
    assert "Page 1 of" in pdf_text(render_portfolio_memo(evs, memo_date=MEMO_DATE))
    # the chart keeps its largest bars and sums the rest in one
    svg = portfolio_svg(evs, most=4)
    assert b"4 smaller business units" in svg and svg.count(b"of the long list") == 3


A4_TOP, A4_BOTTOM = 842 - 21 * 72 / 25.4, 17 * 72 / 25.4  # the memo's content area on an A4 page, in points from the bottom
FILLED = 0.8  # a page of a long portfolio memo is at least this full (the last page, and the one before the chart's, apart)


def page_fills(pdf: bytes) -> list[float]:
    """How far down each page's content area text reaches (0-1), from pypdf's text positions."""
    fills = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        ys = []

        def visit(text, cm, tm, font, size):
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if text.strip() and A4_BOTTOM < y < A4_TOP:
                ys.append(y)

        page.extract_text(visitor_text=visit)
        fills.append((A4_TOP - min(ys, default=A4_TOP)) / (A4_TOP - A4_BOTTOM))
    return fills


@pytest.mark.slow
@pytest.mark.parametrize("units", [60, 120])
def test_a_long_portfolio_memo_flows_across_its_parts_and_numbers_every_page_of_the_total(units):
    """60 and 120 units (two and three parts at the default size): every footer says "Page N of
    M"; every page is at least FILLED full but the last, and the one before the chart's page (the
    chart of 40 bars takes a page of its own; what precedes it ends where the table ends); the
    table header is on each page of the table; every unit once in the table and once unit by unit."""
    evs = _many(units)
    pdf = render_portfolio_memo(evs, memo_date=MEMO_DATE)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    for number, page in enumerate(pages, start=1):
        assert page.rstrip().endswith(f"Page {number} of {len(pages)}"), page[-200:]
    chart = next(i for i, page in enumerate(pages) if "Run-rate as recommended" in page)
    fills = page_fills(pdf)
    thin = [(i + 1, round(f, 2)) for i, f in enumerate(fills[:-1]) if f < FILLED and i != chart - 1]
    assert thin == [], (thin, fills)
    table = [p for p in pages if "TODAY /" in p]  # the table's header
    assert len(table) >= units // 20 and all(p.startswith("BUSINESS\nUNIT\nRECOMMENDED") for p in table[1:])
    text = "\n".join(pages)
    for i in (0, units // 2, units - 1):
        assert text.count(f"Unit {i:03d} of the long list \u2014 ") == 1 and text.count(f"Unit {i:03d} of") >= 2, i


def test_formatting_helpers():
    assert fmt.usd(1234.4) == "$1,234" and fmt.usd(-1234.6) == "-$1,235" and fmt.usd(-0.2) == "$0"
    assert fmt.tokens(333_333_333.3) == "333.3M" and fmt.tokens(1_090_909_091) == "1.09B" and fmt.tokens(950_000) == "950k"
    assert fmt.usd_short(968_455) == "$968k" and fmt.usd_short(1_512_000) == "$1.5M" and fmt.usd_short(12.0) == "$12"
    assert fmt.pct(0.314) == "31%" and fmt.pct(0.05, 1) == "5.0%" and fmt.pct(None) == "-"
    assert fmt.usd_rate(0.075) == "$0.075" and fmt.usd_rate(2.5) == "$2.50"


# ------------------------------------------------------------------ CLI

def test_cli_memo_single_folder_and_portfolio(tmp_path):
    from typer.testing import CliRunner

    from runrate_xl.cli import app

    runner = CliRunner()
    one = tmp_path / "one.pdf"
    r = runner.invoke(app, ["memo", "--preset", "seed004-startup", "-o", str(one), "--date", "2026-03-02"])
    assert r.exit_code == 0, r.output
    assert one.read_bytes().startswith(b"%PDF-")
    r = runner.invoke(app, ["memo", "-p", "seed004-startup", "-p", "seed004-series-c", "-o", str(tmp_path / "many")])
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "many").glob("*-memo.pdf"))) == 2
    r = runner.invoke(app, ["memo", "-p", "seed004-startup", "-p", "seed004-series-c", "--portfolio", "-o", str(tmp_path / "p.pdf")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p.pdf").read_bytes().startswith(b"%PDF-")


def test_cli_memo_errors(tmp_path):
    from typer.testing import CliRunner

    from runrate_xl.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["memo"])
    assert r.exit_code == 2 and "--preset" in r.output
    r = runner.invoke(app, ["memo", "-p", "no-such-preset"])
    assert r.exit_code == 1 and "no-such-preset" in r.output
    r = runner.invoke(app, ["memo", "-p", "seed004-startup", "-p", "seed004-series-c", "-o", str(tmp_path / "x.pdf")])
    assert r.exit_code == 2 and "folder" in r.output
    r = runner.invoke(app, ["memo", "-p", "seed004-startup", "--date", "March"])
    assert r.exit_code == 2 and "--date" in r.output


def test_cli_memo_from_a_generated_workbook_equals_the_preset_memo(tmp_path):
    """An analyst's workbook flows into the memo: read back, it gives the very same memo."""
    import datetime as _dt

    from typer.testing import CliRunner

    from runrate_xl.cli import app
    from runrate_xl.presets import preset_scenario
    from runrate_xl.workbook import generate_workbook

    day = "2026-11-23"
    generate_workbook(preset_scenario("healthcare-privacy"), tmp_path / "bu.xlsx", as_of=_dt.date.fromisoformat(day))
    runner = CliRunner()
    r1 = runner.invoke(app, ["memo", str(tmp_path / "bu.xlsx"), "-o", str(tmp_path / "a.pdf"), "--as-of", day, "--date", day])
    r2 = runner.invoke(app, ["memo", "-p", "healthcare-privacy", "-o", str(tmp_path / "b.pdf"), "--as-of", day, "--date", day])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_one_reference_date_rule(monkeypatch):
    import datetime as dt

    from runrate_xl.dates import parse_date, reference_date
    from runrate_xl.engine.errors import InputError

    assert parse_date(None) is None and parse_date("2026-11-23") == dt.date(2026, 11, 23)
    with pytest.raises(InputError, match="--date: got 'soon', expected a date YYYY-MM-DD"):
        parse_date("soon", "--date")
    assert reference_date(dt.date(2020, 1, 2), {"SOURCE_DATE_EPOCH": "1717200000"}) == dt.date(2020, 1, 2)
    assert reference_date(None, {"SOURCE_DATE_EPOCH": "1717200000"}) == dt.date(2024, 6, 1)
    assert reference_date(None, {}) == dt.date.today()


def test_two_columns_keep_reading_order_and_balance_height():
    from runrate_xl.report.render import two_column_groups, two_columns

    assert two_columns(["a" * 100, "b" * 100, "c" * 100, "d" * 100]) == [["a" * 100, "b" * 100], ["c" * 100, "d" * 100]]
    assert two_columns(["x" * 500, "y", "z"]) == [["x" * 500], ["y", "z"]]  # one long entry fills the first column
    assert two_columns([]) == [[], []]
    first = {"title": "What decided it", "items": [{"text": "a" * 300}]}
    second = {"title": "Leaning one way", "items": [{"text": "b" * 60}, {"text": "c" * 60}, {"text": "d" * 60}]}
    left, right = two_column_groups([first, second])
    assert [(g["title"], [i["text"][0] for i in g["items"]]) for g in left] == [("What decided it", ["a"])]
    assert [(g["title"], [i["text"][0] for i in g["items"]]) for g in right] == [("Leaning one way", ["b", "c", "d"])]
    # a group cut between the columns continues without repeating its title
    left, right = two_column_groups([{"title": "Only", "items": [{"text": "e" * 100} for _ in range(4)]}])
    assert [g["title"] for g in left] == ["Only"] and [g["title"] for g in right] == [None]
    assert len(left[0]["items"]) == 2 and len(right[0]["items"]) == 2


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_the_lean_chart_svg_draws_what_matplotlib_drew(monkeypatch, tmp_path):
    """The charts' SVG is thinned for WeasyPrint (charts._lean_svg: no empty groups, no stylesheet);
    laid out by WeasyPrint, it draws the same pixels and carries the same texts as matplotlib's own."""
    from PIL import Image, ImageChops

    from runrate_xl.report import charts

    ev = evaluate_scenario(preset_scenario("buy-vs-rent-8xh100"))  # hatched bars, markers, many lines and labels
    lean = charts.memo_charts(ev)
    monkeypatch.setattr(charts, "_lean_svg", lambda svg: svg)
    raw = charts.memo_charts(ev)
    assert lean.keys() == raw.keys()
    html = "<html><body>" + "".join(f'<img src="runrate:chart/{k}.svg" style="width: 100%">' for k in raw) + "</body></html>"
    images = []
    for name, svgs in (("lean", lean), ("raw", raw)):
        assert (b'<g id="text_1">' in svgs["tco"]) == (name == "raw")  # the lean one lost its empty groups
        (tmp_path / f"{name}.pdf").write_bytes(_to_pdf(html, svgs)[0])
        subprocess.run(["pdftoppm", "-png", "-r", "100", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)], check=True)
        images.append([Image.open(p).convert("RGB") for p in sorted(tmp_path.glob(f"{name}-*.png"))])
        assert pdf_text((tmp_path / f"{name}.pdf").read_bytes()) == pdf_text((tmp_path / "lean.pdf").read_bytes())
    assert len(images[0]) == len(images[1]) >= 1
    for a, b in zip(*images):
        assert ImageChops.difference(a, b).getbbox() is None


def test_a_long_option_name_stays_inside_the_five_questions_table():
    """The five-questions table has fixed column widths (no text measured before its layout): an
    option name longer than its 'Points to' column breaks inside the column instead of running
    past the table's edge into the margin (auto layout widened the column instead)."""
    import weasyprint

    from runrate_xl.report import render
    from runrate_xl.report.charts import memo_charts

    scenario = preset_scenario("seed004-startup")
    long_names = [o.model_copy(update={"label": f"Averyveryverylongoptionname{i}"}) for i, o in enumerate(scenario.options)]
    ev = evaluate_scenario(scenario.model_copy(update={"options": long_names}))
    fonts, css = render._stylesheets((render.stylesheet_text(),))
    document = weasyprint.HTML(string=render.memo_html(ev, MEMO_DATE), base_url=render.BASE_URL,
                               url_fetcher=MemoAssetFetcher(memo_charts(ev))).render(stylesheets=css, font_config=fonts)
    tables = [b for page in document.pages for b in page._page_box.descendants()
              if type(b).__name__ == "TableBox" and "framework" in (b.element.get("class") or "")]
    assert tables
    texts = [t for table in tables for t in table.descendants() if type(t).__name__ == "TextBox"]
    assert any(t.text.startswith("Averyvery") for t in texts)  # the name is in the table
    right = max(table.content_box_x() + table.width for table in tables)
    assert all(t.position_x + t.width <= right + 0.01 for t in texts), [t.text for t in texts if t.position_x + t.width > right + 0.01]

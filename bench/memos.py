"""Render time of the PDF decision memos.

Target (issue #15): <= 0.4 s CPU per unit memo. Two floors are measured in the same run, so that
a noisy machine shows as ratios: WeasyPrint rendering the memo's own HTML through the memo's own
path (stylesheet and fonts once per process, the 4-page fit loop) with each chart replaced by an
empty SVG of the same width, height and viewBox (so the floor lays out the memo's very pages, with
as many layouts; no charts drawn, no matplotlib), and a plain document of the same text (one
paragraph per block, no stylesheet beyond the page size). Until this session the first floor
replaced charts by 62 mm boxes, taller than most charts: it laid out 5 pages where the memo has 4,
once, whatever the memo's fit loop did, so its spread (0.35-0.72 s) was not the memos' own.
Times are this process's CPU time (time.process_time), the median of REPEAT runs, the memo and its
floors run in turn in each round, so that load on a shared machine moves them alike and the
ratios stay meaningful. Memos that run over four pages or end on an orphan page are laid out more
than once (the 4-page fit loop); the line says how many times. The memos are two example batch
units (a typical one laid out once, and one laid out three times) and six presets (the last two
the densest).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from bench._timing import report

TARGET_SECONDS = 0.4
PRESETS = ("seed000-1m-inferences", "healthcare-privacy", "capacity-growth", "seed004-startup",
           "buy-vs-rent-8xh100", "hybrid-selfhost-bulk-api-overflow")  # the last two: the densest memos
EXAMPLE_UNITS = ("Claims processing", "Customer support")  # from examples/business_units.xlsx
REPEAT = 5


def cpu_median(fn, repeat: int = REPEAT) -> float:
    """The median CPU seconds (this process) of ``repeat`` calls of ``fn``."""
    return cpu_medians([fn], repeat)[0]


def cpu_medians(fns, repeat: int = REPEAT) -> list[float]:
    """The median CPU seconds (this process) of each of ``fns``, called in turn in each of ``repeat`` rounds."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, t in zip(fns, times):
            start = time.process_time()
            fn()
            t.append(time.process_time() - start)
    return [statistics.median(t) for t in times]


def empty_charts(charts: dict[str, bytes]) -> dict[str, bytes]:
    """Each chart as an SVG of the same width, height and viewBox that draws nothing."""
    empty = {}
    for name, svg in charts.items():
        root = ET.fromstring(svg)
        size = " ".join(f'{a}="{root.get(a)}"' for a in ("width", "height", "viewBox") if root.get(a) is not None)
        empty[name] = f'<svg xmlns="http://www.w3.org/2000/svg" {size}/>'.encode()
    return empty


def main() -> None:
    import weasyprint
    from pypdf import PdfReader

    from runrate_xl.api import evaluate_scenario
    from runrate_xl.batch.inputs import read_input
    from runrate_xl.presets import preset_scenario
    from runrate_xl.report import render_memo, render_portfolio_memo
    from runrate_xl.report.charts import memo_charts
    from runrate_xl.report import render as render_module
    from runrate_xl.report.render import MAX_UNIT_PAGES, memo_html

    day = dt.date(2026, 3, 2)
    examples = {r.name: r.scenario for r in read_input(Path(__file__).resolve().parent.parent / "examples" / "business_units.xlsx").rows if r.ok}
    evaluations = {f"example {n}": evaluate_scenario(examples[n]) for n in EXAMPLE_UNITS}
    evaluations.update({p: evaluate_scenario(preset_scenario(p)) for p in PRESETS})

    def plain_document(html: str):
        body = re.sub(r"(?s)<head>.*?</head>", "", html)
        blocks = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", b)).strip()
                  for b in re.split(r"</(?:p|li|tr|h[1-6]|div|figcaption)>", body)]
        plain = "<html><body>" + "".join(f"<p>{b}</p>" for b in blocks if b) + "</body></html>"
        return lambda: weasyprint.HTML(string=plain).write_pdf(stylesheets=[weasyprint.CSS(string="@page { size: A4; margin: 18mm }")])

    layouts = [0]
    original_html = render_module.weasyprint.HTML

    class CountedHTML(original_html):  # counts the layouts of the fit loop
        def render(self, *args, **kwargs):
            layouts[0] += 1
            return super().render(*args, **kwargs)

    def counted(fn):
        render_module.weasyprint.HTML, layouts[0] = CountedHTML, 0
        try:
            return fn(), layouts[0]
        finally:
            render_module.weasyprint.HTML = original_html

    render_memo(evaluations[PRESETS[0]], memo_date=day)  # warm-up: imports, font files, matplotlib
    ratios, absolute = [], []
    for name, ev in evaluations.items():
        pdf, n_layouts = counted(lambda: render_memo(ev, memo_date=day))
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        html = memo_html(ev, day)
        empty = empty_charts(memo_charts(ev))
        # the memo's own path with charts that draw nothing: same pages, same layouts
        floor_pdf, floor_layouts = counted(lambda: render_module._to_pdf(html, empty, fit=True, max_pages=MAX_UNIT_PAGES)[0])
        assert len(PdfReader(io.BytesIO(floor_pdf)).pages) == pages and floor_layouts == n_layouts, name
        seconds, floor, text_floor, charts = cpu_medians([
            lambda: render_memo(ev, memo_date=day),
            lambda: render_module._to_pdf(html, empty, fit=True, max_pages=MAX_UNIT_PAGES),
            plain_document(html),
            lambda: memo_charts(ev),
        ])
        ratios.append((seconds / floor, seconds / text_floor))
        absolute.append(seconds)
        report(f"memo {name} ({pages} pages, {n_layouts} layout{'s' if n_layouts > 1 else ''})", seconds, TARGET_SECONDS,
               floor, "empty-chart floor", f"x{seconds / text_floor:.1f} vs plain text floor")
        report("  floors: charts as empty boxes / plain text", floor, None, text_floor, "plain text floor",
               f"{floor / n_layouts * 1e3:.0f} ms per layout")
        report("  of which charts (matplotlib SVG)", charts, None, None, "",
               f"leaves {(seconds - floor - charts) * 1e3:.0f} ms for WeasyPrint drawing the charts (and templating)")
    print(f"memo median: {statistics.median(absolute):.3f} s CPU, x{statistics.median(r[0] for r in ratios):.2f} vs empty-chart "
          f"floor, x{statistics.median(r[1] for r in ratios):.2f} vs plain text floor (median of {REPEAT} runs each; "
          "the median over the memos)", flush=True)
    portfolio = list(evaluations.values())
    report(f"portfolio memo ({len(portfolio)} units)", cpu_median(lambda: render_portfolio_memo(portfolio, memo_date=day), repeat=3))


if __name__ == "__main__":
    main()

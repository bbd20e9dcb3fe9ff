"""Render time of the PDF decision memos.

Target (issue #15): <= 0.4 s CPU per unit memo. Two floors are measured in the same run, so that
a noisy machine shows as ratios: WeasyPrint laying out the memo's own HTML and stylesheet with each
chart replaced by an empty box of the same size (no templating, no charts, no SVG drawing), and a
plain document of the same text (one paragraph per block, no stylesheet beyond the page size).
Times are this process's CPU time (time.process_time), the median of REPEAT runs, each memo and
its floors measured one after the other, so that load on a shared machine moves all three alike
and the ratios stay meaningful. Memos that run over four pages are laid out more than once (the
4-page fit loop); the line says how many times. The memos are two example batch units (a typical
one laid out once, and one laid out three times) and six presets (the last two the densest).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
import time
from pathlib import Path

from bench._timing import report

TARGET_SECONDS = 0.4
PRESETS = ("seed000-1m-inferences", "healthcare-privacy", "capacity-growth", "seed004-startup",
           "buy-vs-rent-8xh100", "hybrid-selfhost-bulk-api-overflow")  # the last two: the densest memos
EXAMPLE_UNITS = ("Claims processing", "Customer support")  # from examples/business_units.xlsx
REPEAT = 5


def cpu_median(fn, repeat: int = REPEAT) -> float:
    """The median CPU seconds (this process) of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    import weasyprint
    from pypdf import PdfReader

    from runrate_xl.api import evaluate_scenario
    from runrate_xl.batch.inputs import read_input
    from runrate_xl.presets import preset_scenario
    from runrate_xl.report import render_memo, render_portfolio_memo
    from runrate_xl.report.charts import memo_charts
    from runrate_xl.report.fetcher import MemoAssetFetcher
    from runrate_xl.report import render as render_module
    from runrate_xl.report.render import BASE_URL, _stylesheets, memo_html, stylesheet_text

    day = dt.date(2026, 3, 2)
    examples = {r.name: r.scenario for r in read_input(Path(__file__).resolve().parent.parent / "examples" / "business_units.xlsx").rows if r.ok}
    evaluations = {f"example {n}": evaluate_scenario(examples[n]) for n in EXAMPLE_UNITS}
    evaluations.update({p: evaluate_scenario(preset_scenario(p)) for p in PRESETS})
    css_text = stylesheet_text()

    def static_floor(html: str) -> float:
        static = re.sub(r'<img src="runrate:chart/[^"]*"[^>]*>', '<div style="height:62mm"></div>', html)

        def run():  # with the memo's own once-per-process stylesheet and fonts, as render_memo has them
            fonts, css = _stylesheets((css_text,))
            weasyprint.HTML(string=static, base_url=BASE_URL, url_fetcher=MemoAssetFetcher()).write_pdf(stylesheets=css, font_config=fonts)

        return cpu_median(run)

    def plain_floor(html: str) -> float:
        body = re.sub(r"(?s)<head>.*?</head>", "", html)
        blocks = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", b)).strip()
                  for b in re.split(r"</(?:p|li|tr|h[1-6]|div|figcaption)>", body)]
        plain = "<html><body>" + "".join(f"<p>{b}</p>" for b in blocks if b) + "</body></html>"

        def run():
            weasyprint.HTML(string=plain).write_pdf(stylesheets=[weasyprint.CSS(string="@page { size: A4; margin: 18mm }")])

        return cpu_median(run)

    layouts = [0]
    original_html = render_module.weasyprint.HTML

    class CountedHTML(original_html):  # counts the layouts of the fit loop
        def render(self, *args, **kwargs):
            layouts[0] += 1
            return super().render(*args, **kwargs)

    render_memo(evaluations[PRESETS[0]], memo_date=day)  # warm-up: imports, font files, matplotlib
    ratios, absolute = [], []
    for name, ev in evaluations.items():
        render_module.weasyprint.HTML, layouts[0] = CountedHTML, 0
        try:
            pages = len(PdfReader(io.BytesIO(render_memo(ev, memo_date=day))).pages)
        finally:
            render_module.weasyprint.HTML = original_html
        seconds = cpu_median(lambda: render_memo(ev, memo_date=day))
        html = memo_html(ev, day)
        floor, text_floor = static_floor(html), plain_floor(html)
        ratios.append((seconds / floor, seconds / text_floor))
        absolute.append(seconds)
        report(f"memo {name} ({pages} pages, {layouts[0]} layout{'s' if layouts[0] > 1 else ''})", seconds, TARGET_SECONDS,
               floor, "static HTML floor", f"x{seconds / text_floor:.1f} vs plain text floor")
        report("  floors: charts as empty boxes / plain text", floor, None, text_floor, "plain text floor")
        report("  of which charts (matplotlib SVG)", cpu_median(lambda: memo_charts(ev)))
    print(f"memo median: {statistics.median(absolute):.3f} s CPU, x{statistics.median(r[0] for r in ratios):.2f} vs static "
          f"HTML floor, x{statistics.median(r[1] for r in ratios):.2f} vs plain text floor (median of {REPEAT} runs each; "
          "the median over the memos)", flush=True)
    portfolio = list(evaluations.values())
    report(f"portfolio memo ({len(portfolio)} units)", cpu_median(lambda: render_portfolio_memo(portfolio, memo_date=day), repeat=3))


if __name__ == "__main__":
    main()

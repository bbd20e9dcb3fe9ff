"""Render time of the PDF decision memos.

Target: <= 0.5 s per memo. The floor is WeasyPrint laying out a static HTML page of the same
length: the memo's own HTML and stylesheet with each chart replaced by an empty box of the same
size (no templating, no charts, no SVG drawing).
"""

from __future__ import annotations

import datetime as dt
import io
import re

from bench._timing import best_of, report

TARGET_SECONDS = 0.5
PRESETS = ("seed000-1m-inferences", "healthcare-privacy", "capacity-growth", "seed004-startup")


def main() -> None:
    import weasyprint
    from pypdf import PdfReader
    from weasyprint.text.fonts import FontConfiguration

    from runrate_xl.api import evaluate_scenario
    from runrate_xl.presets import preset_scenario
    from runrate_xl.report import render_memo, render_portfolio_memo
    from runrate_xl.report.charts import memo_charts
    from runrate_xl.report.fetcher import MemoAssetFetcher
    from runrate_xl.report.render import memo_html, stylesheet_text

    day = dt.date(2026, 3, 2)
    evaluations = {p: evaluate_scenario(preset_scenario(p)) for p in PRESETS}
    css_text = stylesheet_text()

    def static_floor(html: str) -> float:
        static = re.sub(r'<img src="runrate:chart/[^"]*"[^>]*>', '<div style="height:62mm"></div>', html)

        def run():
            fonts = FontConfiguration()
            fetcher = MemoAssetFetcher()
            css = weasyprint.CSS(string=css_text, url_fetcher=fetcher, font_config=fonts)
            weasyprint.HTML(string=static, url_fetcher=fetcher).write_pdf(stylesheets=[css], font_config=fonts)

        return best_of(run, repeat=3)

    render_memo(evaluations[PRESETS[0]], memo_date=day)  # warm-up: imports, font files, matplotlib
    for name, ev in evaluations.items():
        pages = len(PdfReader(io.BytesIO(render_memo(ev, memo_date=day))).pages)
        seconds = best_of(lambda: render_memo(ev, memo_date=day), repeat=3)
        floor = static_floor(memo_html(ev, day))
        report(f"memo {name} ({pages} pages)", seconds, TARGET_SECONDS, floor, "static HTML floor")
        report(f"  of which charts (matplotlib SVG)", best_of(lambda: memo_charts(ev), repeat=3))
    portfolio = list(evaluations.values())
    report(f"portfolio memo ({len(portfolio)} units)", best_of(lambda: render_portfolio_memo(portfolio, memo_date=day), repeat=3))


if __name__ == "__main__":
    main()

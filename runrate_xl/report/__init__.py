"""PDF decision memos: one per business unit and a portfolio summary, from engine Evaluations.

``render_memo`` / ``render_portfolio_memo`` return PDF bytes (and write them atomically when a
path is given). Templates: the package data ``runrate_xl.report_templates`` (built from the
repository's ``report_templates/``; jinja2, autoescaped), a user folder first when one is set.
"""

from ..extras import require

require('runrate_xl.report (PDF memos)', 'memo')  # one clear message naming the extra, not an ImportError from deep inside


from .render import ReportError, render_memo, render_portfolio_memo

__all__ = ["ReportError", "render_memo", "render_portfolio_memo"]

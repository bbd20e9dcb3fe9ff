"""PDF decision memos: one per business unit and a portfolio summary, from engine Evaluations.

``render_memo`` / ``render_portfolio_memo`` return PDF bytes (and write them atomically when a
path is given). Templates: the repository's ``report_templates/`` (jinja2, autoescaped).
"""

from .render import ReportError, render_memo, render_portfolio_memo

__all__ = ["ReportError", "render_memo", "render_portfolio_memo"]

"""The memo's charts as vector SVG (matplotlib, text kept as text, deterministic bytes).

Curves come from the engine: the break-even chart calls ``option_total`` at sample volumes, the
TCO chart plots ``Evaluation.tco[...].cumulative``, the tornado plots ``Evaluation.sensitivity``.
Nothing here computes a cost.
"""

from __future__ import annotations

import io
import re
import textwrap
import xml.etree.ElementTree as ET
from typing import Iterable, Optional

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..engine.option_cost import option_total
from ..engine.results import Evaluation
from .. import formatting as fmt
from ..presentation import breakeven_reach, decision_pair, label, tornado_bars, tornado_span
from ..sinks import CHART_RC, chart_label

FONT_FAMILY = "Runrate Sans"  # the @font-face name in memo.css (served by fetcher.py)
WIDTH_IN = 6.85  # the printed text width of an A4 page with 18 mm margins: 1 chart pt = 1 printed pt
# Colours by kind: the first option of a kind takes its kind's colour, further ones the next shade.
COLORS = {"api": ("#1f5f99", "#6a3d9a", "#0f8b8d"), "fine_tuned": ("#b26b00", "#8c564b"),
          "self_hosted": ("#2e7d4f", "#7f7f00", "#4d4d4d"), "on_prem": ("#a83232", "#7a4f2a"),
          "mix": ("#c2185b", "#5e35b1"), "cascade": ("#00838f", "#6d4c41")}
TINTS = {"api": ("#9fc0e0", "#cab2d6", "#9fd8d9"), "fine_tuned": ("#f0c98a", "#d9b8a8"),
         "self_hosted": ("#a9d4b8", "#d6d68f", "#bdbdbd"), "on_prem": ("#e3a5a5", "#cdb49c"),
         "mix": ("#f2a7c3", "#c5b3e6"), "cascade": ("#9ed8de", "#c9b3a8")}


def _shade(palette: dict, ev: Evaluation, option: str) -> str:
    kind = ev.options[option].kind
    same = [o for o, c in ev.options.items() if c.kind == kind]
    shades = palette[kind]
    return shades[same.index(option) % len(shades)]


def _color(ev: Evaluation, option: str) -> str:
    return _shade(COLORS, ev, option)


def _tint(ev: Evaluation, option: str) -> str:
    return _shade(TINTS, ev, option)
INK, MUTED, GRID, WATER = "#1d2733", "#5b6775", "#d9dee4", "#e8f1f8"
SAMPLES = 161  # break-even curve points (enough to draw a capacity-mode GPU step cleanly)

_RC = {
    "svg.fonttype": "none",  # keep text as text: searchable, crisp, set in the memo's font
    "svg.hashsalt": "runrate-memo",  # fixed ids -> same input, same bytes
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # metrics from the font matplotlib ships (= the memo's font)
    "font.size": 7.5,
    "axes.edgecolor": "#8792a0",
    "axes.labelcolor": INK,
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "legend.frameon": False,
    "legend.fontsize": 7,
    "lines.linewidth": 1.6,
    **CHART_RC,  # user text in labels is literal: no mathtext
}

class _UsdTicks(FuncFormatter):
    """Compact dollars on an axis, with as many decimals as the ticks need to differ (a narrow
    tornado axis would otherwise read "-$2.8k" five times)."""

    def __init__(self) -> None:
        super().__init__(lambda v, _: fmt.usd_short(v))

    def format_ticks(self, values):
        labels = [fmt.usd_short(v) for v in values]
        distinct = len({round(float(v), 2) for v in values})  # values that differ get labels that differ
        if len(values) == 0 or len(set(labels)) >= distinct:
            return labels
        top = max(abs(float(v)) for v in values)
        scale, unit = (1e6, "M") if top >= 999_500 else (1e3, "k") if top >= 999.5 else (1.0, "")
        for decimals in range(1, 5):
            labels = [f"{'-' if v < 0 else ''}${abs(v) / scale:,.{decimals}f}{unit}" for v in values]
            if len(set(labels)) >= distinct:
                break
        return labels


_usd_axis = _UsdTicks()


def _svg(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    # matplotlib names the family it measured with; the PDF embeds the same file under our name.
    return _lean_svg(buf.getvalue().replace(b"'DejaVu Sans'", f"'{FONT_FAMILY}'".encode()))


_SVG_NS, _XLINK_NS = "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"
ET.register_namespace("", _SVG_NS)
ET.register_namespace("xlink", _XLINK_NS)
_G, _DEFS, _STYLE, _METADATA = (f"{{{_SVG_NS}}}{tag}" for tag in ("g", "defs", "style", "metadata"))


def _lean_svg(svg: bytes) -> bytes:
    """The same drawing in fewer SVG nodes, which WeasyPrint draws a quarter faster: WeasyPrint
    copies every inherited attribute down to each node and matches the stylesheet against each, so
    matplotlib's one group per artist (``<g id=...>`` with nothing else), its ``*`` stylesheet
    (now two inherited attributes on the root) and its metadata are dropped, as is each text's
    rotation by zero degrees. What is drawn and every text stays as it was."""
    root = ET.fromstring(svg)
    for child in list(root):
        if child.tag == _METADATA:
            root.remove(child)
        elif child.tag == _DEFS:
            for style in [s for s in child if s.tag == _STYLE]:
                child.remove(style)
            if len(child) == 0:
                root.remove(child)
    root.set("stroke-linejoin", "round")  # matplotlib's stylesheet: *{stroke-linejoin: round; stroke-linecap: butt}
    root.set("stroke-linecap", "butt")
    _flatten(root)
    return b'<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + ET.tostring(root)


def _flatten(element) -> None:
    """Replace each attribute-less group (an id at most) below ``element`` by its children, and
    each node's style string by the attributes it sets."""
    children = []
    for child in element:
        _flatten(child)
        if child.tag == _G and set(child.attrib) <= {"id"}:
            children.extend(child)
        else:
            if child.get("transform", "").startswith("rotate(-0 "):
                del child.attrib["transform"]
            _style_as_attributes(child)
            children.append(child)
    element[:] = children


_DECLARATION = re.compile(r"\s*([a-z-]+)\s*:\s*([#\w.,' -]+|url\(#\w+\))\s*")


def _style_as_attributes(node) -> None:
    """``style="fill: #fff; stroke-width: 0.6"`` as ``fill="#fff" stroke-width="0.6"``: WeasyPrint
    parses a style string with its CSS tokenizer for every node it draws (a tenth of drawing a
    chart), an attribute it just reads. A declaration beats an attribute of the same name, as in
    the style string; a style matplotlib might write that this does not read (``!important``,
    quotes, other functions) stays a style string."""
    style = node.get("style")
    if style is None:
        return
    declarations = [_DECLARATION.fullmatch(d) for d in style.split(";") if d.strip()]
    if not all(declarations):
        return
    del node.attrib["style"]
    for match in declarations:
        node.set(match.group(1), match.group(2).strip())


def _figure(height_in: float, width_in: float = WIDTH_IN) -> Figure:
    return Figure(figsize=(width_in, height_in))


def _grid(ax) -> None:
    ax.grid(axis="y", color=GRID, linewidth=0.5)
    ax.set_axisbelow(True)


def iceberg_svg(ev: Evaluation, width_in: float = WIDTH_IN * 0.48) -> bytes:
    """Visible cost above the waterline, hidden cost below it, per option (USD per month)."""
    with matplotlib.rc_context(_RC):
        names = list(ev.options)
        fig = _figure(2.55, width_in)
        ax = fig.add_subplot()
        x = range(len(names))
        visible = [ev.options[o].visible_monthly for o in names]
        hidden = [-ev.options[o].hidden_monthly for o in names]
        top = max(max(visible), 1.0)
        bottom = min(min(hidden), -1.0)
        span = top - bottom
        ax.axhspan(bottom - span * 0.25, 0, color=WATER, zorder=0, linewidth=0)
        ax.bar(x, visible, width=0.56, color=[_color(ev, o) for o in names], zorder=2)
        ax.bar(x, hidden, width=0.56, color=[_tint(ev, o) for o in names], edgecolor=[_color(ev, o) for o in names],
               linewidth=0.6, hatch="////", zorder=2)
        ax.axhline(0, color="#3b7bb8", linewidth=1.0, zorder=3)
        for i, o in enumerate(names):
            c = ev.options[o]
            ax.annotate(fmt.usd_short(c.visible_monthly), (i, visible[i]), xytext=(0, 2), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7, color=INK)
            ax.annotate(fmt.usd_short(c.hidden_monthly), (i, hidden[i]), xytext=(0, -2), textcoords="offset points",
                        ha="center", va="top", fontsize=7, color=INK)
        ax.set_ylim(bottom - span * 0.18, top + span * 0.14)
        # long option labels wrap so neighbouring bars' names do not run into each other
        width = max(12, 48 // max(1, len(names)))
        ticks = [textwrap.fill(label(ev, o), width) for o in names]
        ax.set_xticks(list(x), ticks)
        ax.tick_params(axis="x", length=0, labelsize=7.5, colors=INK)
        ax.xaxis.tick_top()
        ax.spines["bottom"].set_visible(False)
        ax.spines["top"].set_visible(False)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.usd_short(abs(v))))
        ax.yaxis.set_major_locator(MaxNLocator(6))
        ax.text(0.99, bottom - span * 0.16, "waterline: invoice above, hidden costs below", transform=ax.get_yaxis_transform(),
                ha="right", va="bottom", fontsize=6.3, color="#3b7bb8")
        ax.set_ylabel("USD per month")
        lines = max(t.count("\n") + 1 for t in ticks)  # room above for wrapped names
        fig.subplots_adjust(left=0.2, right=0.98, top=0.9 - 0.045 * (lines - 1), bottom=0.04)
        return _svg(fig)


def breakeven_curves(ev: Evaluation, samples: int = SAMPLES) -> tuple[list[float], dict[str, list[float]]]:
    """Monthly total of each option at sample volumes from 0 to presentation.breakeven_reach
    (past the break-evens that matter), straight from the engine."""
    s = ev.scenario
    x_max = breakeven_reach(ev)
    volumes = [x_max * i / (samples - 1) for i in range(samples)]
    return volumes, {o: [option_total(s, o, t) for t in volumes] for o in ev.options}


def breakeven_svg(ev: Evaluation) -> bytes:
    volumes, curves = breakeven_curves(ev)
    current = ev.scenario.volume.daily_tokens
    with matplotlib.rc_context(_RC):
        fig = _figure(2.2)
        ax = fig.add_subplot()
        _grid(ax)
        for o, ys in curves.items():
            ax.plot(volumes, ys, color=_color(ev, o), label=label(ev, o), zorder=3,
                    drawstyle="default")
        top = max(max(ys) for ys in curves.values())
        ax.axvline(current, color=INK, linewidth=0.8, linestyle=(0, (3, 2)), zorder=2)
        ax.annotate(f"Today: {fmt.tokens(current)}/day", (current, top * 1.1), xytext=(3, 0), textcoords="offset points",
                    ha="left", va="top", fontsize=7, color=INK, fontweight="bold")
        for be in ev.breakevens:
            if be.found and be.tokens_per_day is not None and be.monthly_cost is not None and be.tokens_per_day <= volumes[-1]:
                primary = be == ev.breakeven
                ax.plot([be.tokens_per_day], [be.monthly_cost], marker="o", markersize=5 if primary else 4,
                        markerfacecolor="white", markeredgecolor=INK, markeredgewidth=1.1, zorder=4)
                low = be.monthly_cost < 0.3 * top
                ax.annotate(f"{label(ev, be.option_a)} = {label(ev, be.option_b)}\n{fmt.tokens(be.tokens_per_day)}/day, "
                            f"{fmt.usd_short(be.monthly_cost)}/mo", (be.tokens_per_day, be.monthly_cost),
                            xytext=(5, 7) if low else (6, -5), textcoords="offset points", ha="left",
                            va="bottom" if low else "top", fontsize=6.5, color=INK, linespacing=1.2,
                            bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})
        ax.set_xlim(0, volumes[-1])
        ax.set_ylim(0, top * 1.12)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.tokens(v)))
        ax.yaxis.set_major_formatter(_usd_axis)
        ax.set_xlabel("Volume, tokens per day")
        ax.set_ylabel("Total cost, USD per month")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=len(curves), borderaxespad=0.2)
        fig.subplots_adjust(left=0.1, right=0.96, top=0.89, bottom=0.17)
        return _svg(fig)


def end_label_positions(values: list[float], gap: float) -> list[float]:
    """Heights for labels at the end of lines ending at ``values``: each as close to its line as it
    can be while labels stay at least ``gap`` apart (same order as ``values``)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    placed: list[float] = []
    for i in order:  # bottom up, each at least gap above the one below
        placed.append(max(values[i], placed[-1] + gap) if placed else values[i])
    shift = max(0.0, (placed[-1] - values[order[-1]]) / 2) if placed else 0.0  # centre the block on its lines
    placed = [p - shift for p in placed]
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    out = [0.0] * len(values)
    for k, i in enumerate(order):
        out[i] = placed[k]
    return out


def tco_svg(ev: Evaluation) -> bytes:
    with matplotlib.rc_context(_RC):
        fig = _figure(2.0)
        ax = fig.add_subplot()
        _grid(ax)
        for o, series in ev.tco.items():
            ax.plot(range(len(series.cumulative)), series.cumulative, color=_color(ev, o), label=label(ev, o), zorder=3)
        top = max(max(series.cumulative) for series in ev.tco.values()) or 1.0
        ax.set_ylim(0, top * 1.06)
        axes_pt = fig.get_figheight() * 72 * (0.89 - 0.18)  # the axes' height in points (subplots_adjust below)
        ends = end_label_positions([series.cumulative[-1] for series in ev.tco.values()], top * 1.06 / axes_pt * 8.5)
        for (o, series), y in zip(ev.tco.items(), ends):
            end = series.cumulative[-1]
            ax.annotate(fmt.usd_short(end), (len(series.cumulative) - 1, end), xytext=(3, (y - end) * axes_pt / (top * 1.06)),
                        textcoords="offset points", va="center", fontsize=7, color=_color(ev, o))
        for c in ev.crossovers:
            if c.month is not None and 0 <= c.month < len(ev.tco[c.option].cumulative):
                y = ev.tco[c.option].cumulative[c.month]
                ax.plot([c.month], [y], marker="o", markersize=4.5, markerfacecolor="white", markeredgecolor=INK,
                        markeredgewidth=1.1, zorder=4)
                ax.annotate(f"month {c.month}", (c.month, y), xytext=(0, -6), textcoords="offset points", ha="center",
                            va="top", fontsize=6.5, color=INK, fontweight="bold")
        months = ev.scenario.horizon.months
        ax.set_xlim(0, months)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
        ax.yaxis.set_major_formatter(_usd_axis)
        ax.set_xlabel("Month (month 0 = one-time costs)")
        ax.set_ylabel("Cumulative cost, USD")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(ev.tco), borderaxespad=0.2)
        fig.subplots_adjust(left=0.1, right=0.92, top=0.89, bottom=0.18)
        return _svg(fig)


def tornado_svg(ev: Evaluation) -> Optional[bytes]:
    """Monthly advantage of the recommended option over the alternative as each driver moves."""
    rows, _ = tornado_bars(ev)
    chosen, alt = decision_pair(ev)
    if not rows or alt is None:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure(0.5 + 0.29 * len(rows))
        ax = fig.add_subplot()
        base = rows[0]["base"]
        y = list(range(len(rows)))[::-1]
        # bar-end labels with as many decimals as they need to differ (not "-$2.8k" on every bar)
        ends = _usd_axis.format_ticks([v for r in rows for v in (r["low"], r["high"])])
        for k, (yi, r) in enumerate(zip(y, rows)):
            for side, color in (("low", "#8aa4bf"), ("high", "#2b4c6f")):
                v = r[side]
                ax.barh(yi, v - base, left=base, height=0.62, color=color, zorder=2)
            ax.annotate(ends[2 * k], (r["low"], yi), xytext=(-3 if r["low"] < r["high"] else 3, 0),
                        textcoords="offset points", ha="right" if r["low"] < r["high"] else "left", va="center", fontsize=6.5, color=MUTED)
            ax.annotate(ends[2 * k + 1], (r["high"], yi), xytext=(3 if r["high"] >= r["low"] else -3, 0),
                        textcoords="offset points", ha="left" if r["high"] >= r["low"] else "right", va="center", fontsize=6.5, color=MUTED)
        ax.axvline(base, color=INK, linewidth=0.8)
        ax.annotate(f"today {fmt.usd_short(base)}", (base, len(rows) - 0.45), ha="center", va="bottom", fontsize=6.5, color=INK)
        lo, hi = tornado_span(rows)
        ax.set_xlim(lo, hi)
        if lo < 0 < hi:  # tornado_shows_zero: the caption says so
            ax.axvline(0, color="#c0392b", linewidth=0.8, linestyle=(0, (3, 2)))
            ax.annotate("0: answer flips", (0, -0.55), ha="center", va="bottom", fontsize=6.5, color="#c0392b")
        names = [textwrap.shorten(r["label"], 44, placeholder="...") for r in rows]  # fits the left margin below
        ax.set_yticks(y, names)
        ax.set_ylim(-0.6, len(rows) - 0.2)
        ax.tick_params(axis="y", length=0, labelsize=7.5, labelcolor=INK)
        ax.xaxis.set_major_formatter(_usd_axis)
        ax.spines["left"].set_visible(False)
        ax.grid(axis="x", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        ax.set_xlabel(f"{label(ev, alt)} minus {label(ev, chosen)}, USD per month "
                      f"(positive: {label(ev, chosen)} cheaper)", fontsize=7)
        from matplotlib.patches import Patch

        swing = fmt.pct(ev.scenario.sensitivity.swing)
        ax.legend(handles=[Patch(color="#8aa4bf", label=f"driver -{swing}"), Patch(color="#2b4c6f", label=f"driver +{swing}")],
                  loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, fontsize=6.5)
        fig.subplots_adjust(left=min(0.42, max(0.24, 0.0105 * max(len(n) for n in names))), right=0.97, top=1 - 0.22 / fig.get_figheight(), bottom=0.36 / fig.get_figheight())
        return _svg(fig)


def memo_charts(ev: Evaluation) -> dict[str, bytes]:
    charts = {"iceberg": iceberg_svg(ev), "breakeven": breakeven_svg(ev), "tco": tco_svg(ev)}
    tornado = tornado_svg(ev)
    if tornado is not None:
        charts["tornado"] = tornado
    return charts


def portfolio_svg(evaluations: Iterable[Evaluation], most: Optional[int] = None) -> bytes:
    """Each unit's monthly run-rate under its recommendation, visible and hidden, largest first.
    Reads each evaluation once and keeps only its bar (any iterable, e.g. one rebuilt per unit).
    With ``most``, at most that many bars: the smallest units beyond them are summed in one."""
    items = []
    for ev in evaluations:
        chosen, _ = decision_pair(ev)
        c = ev.options[chosen]
        items.append((ev.scenario.name, c.visible_monthly, c.hidden_monthly, ev.recommendation.label,
                      _color(ev, chosen), _tint(ev, chosen)))
    items.sort(key=lambda t: -(t[1] + t[2]))
    if most is not None and len(items) > max(2, most):
        keep, rest = items[:max(2, most) - 1], items[max(2, most) - 1:]
        items = keep + [(f"{len(rest)} smaller business units", sum(t[1] for t in rest), sum(t[2] for t in rest),
                         "together", MUTED, GRID)]
    with matplotlib.rc_context(_RC):
        fig = _figure(0.55 + 0.27 * len(items))
        ax = fig.add_subplot()
        y = list(range(len(items)))[::-1]
        for yi, (name, visible, hidden, rec_label, color, tint) in zip(y, items):
            ax.barh(yi, visible, height=0.6, color=color, zorder=2)
            ax.barh(yi, hidden, left=visible, height=0.6, color=tint, edgecolor=color,
                    linewidth=0.5, hatch="////", zorder=2)
            ax.annotate(f"{fmt.usd_short(visible + hidden)}  {rec_label}", (visible + hidden, yi), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=6.5, color=INK)
        top = max((v + h for _, v, h, *_ in items), default=1.0) or 1.0
        ax.set_xlim(0, top * 1.25)
        labels = [chart_label(n, 34) for n, *_ in items]
        ax.set_yticks(y, labels)
        ax.set_ylim(-0.6, len(items) - 0.4)
        ax.tick_params(axis="y", length=0, labelsize=7, labelcolor=INK)
        ax.xaxis.set_major_formatter(_usd_axis)
        ax.spines["left"].set_visible(False)
        ax.grid(axis="x", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        ax.set_xlabel("USD per month under the recommendation (solid: visible, hatched: hidden)", fontsize=7)
        fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.1 / fig.get_figheight(), bottom=0.36 / fig.get_figheight())
        return _svg(fig)

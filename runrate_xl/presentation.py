"""One presentation layer between the engine's results and every adapter.

What the recommendation is, which option's costs stand for it, what it saves and against what,
the headline, what would change the answer, the iceberg and tornado rows: defined once here and
read by the memo, the e-mail, the CLI, the workbook cover, the roll-up, the portfolio memo and the
batch summary, so they cannot disagree. Pure formatting of engine figures: nothing here computes
a cost, and nothing here imports a renderer (no WeasyPrint, no matplotlib).

Savings, one definition: the cost of a reference option minus the cost of the recommendation's
cost basis. ``monthly`` is at today's volume (nominal USD per month); ``horizon`` is the
difference of the horizon costs the recommendation ranks by: the NPV over ``months`` when the
scenario discounts, else the nominal total over ``months`` (``horizon_basis`` says which).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Optional

from . import formatting as fmt
from .dates import reference_date
from .engine.functions import growth_factor
from .engine.kinds import KINDS
from .engine.results import BreakEven, Evaluation, FlipPoint, SensitivityRow
from .engine.scenario import HYBRID

DECISIVE = ("decides", "excludes", "blocks")
# What a rule that overrides the cheapest option is called in a sentence ("the price of ...").
RULE_NAMES = {
    "privacy_override": "strict data privacy",
    "expertise_none": "no in-house ML expertise",
    "quality_specialized": "the specialized-domain quality rule",
    "quality_sota_hybrid": "the state-of-the-art quality rule",
    "latency_hybrid": "the P99 latency rule",
}


def label(ev: Evaluation, option: Optional[str]) -> str:
    """What readers see for an option id (or hybrid, or a kind the scenario has no option of);
    "" for none."""
    if not option:
        return ""
    if option == HYBRID or ev.scenario.find_option(option) is not None:
        return ev.scenario.label_of(option)
    kind = KINDS.get(option)
    return kind.label if kind is not None else option


# The seed articles the defaults and rules of thumb come from, by the name a reader can look up.
SOURCE_NAMES = {
    "000": "the AI Cost Iceberg framework",
    "001": "the AI total cost of ownership article",
    "002": "the AI Cost Iceberg framework",
    "003": "the API vs. self-hosted cost analysis framework",
    "004": "the self-host vs API break-even guide",
}
_SEED_ASIDE = re.compile(r"\s*\((?:[^()]*[;,]\s*)?seeds? \d{3}(?:/\d{3})?(?:'s)?\b[^()]*\)")
_SEED_ID = re.compile(r"\bseed\d{3}/")
# "seed 003 price table (its name)": a few plain words between the seed and its bracketed name, so
# a sentence that runs on to a bracketed figure ("seed 004 asks ...: idle GPUs ($14,687/month)") is not one.
_SEED_TABLE = re.compile(r"\bseed (\d{3}) ((?:[A-Za-z]+ ){0,3}[A-Za-z]+) \(([^()]*)\)")
_SEED = re.compile(r"\bseeds? (\d{3})(?:/\d{3})?('s)?")


def plain(text: str) -> str:
    """Reader-facing text without the project's internal "seed NNN" references: an aside in
    brackets that only cites a seed is dropped, a seed named in a sentence becomes the article's
    name (the assumptions page lists the sources by name)."""
    if "seed" not in text.lower():
        return text
    text = _SEED_ID.sub("", text)  # catalog keys such as seed003/gpt-4o: the model's own name
    text = _SEED_TABLE.sub(lambda m: f"{m.group(3)}, {m.group(2)}", text)
    text = _SEED_ASIDE.sub("", text)
    return _SEED.sub(lambda m: SOURCE_NAMES.get(m.group(1), "the published guidance") + (m.group(2) or ""), text)


def cost_basis(ev: Evaluation) -> str:
    """The option whose costs stand for the recommendation: itself, or for a hybrid (which has
    no cost line of its own) the cheapest eligible option, the route most traffic moves to."""
    rec = ev.recommendation
    return rec.option if rec.option in ev.options else rec.cheapest_allowed_option


@dataclass(frozen=True)
class Savings:
    """What the recommendation saves against ``versus`` (negative: what it costs more)."""

    versus: str
    basis: str  # the recommendation's cost basis (see cost_basis)
    monthly: float  # USD per month at today's volume
    horizon: float  # difference of horizon costs (NPV when discounted, else nominal totals)
    months: int
    discounted: bool

    @property
    def horizon_basis(self) -> str:
        return f"NPV over {self.months} months" if self.discounted else f"total over {self.months} months"

    @property
    def per_year(self) -> float:
        return self.monthly * 12


def savings(ev: Evaluation, versus: str) -> Savings:
    """The recommendation's saving against option ``versus`` (the one definition)."""
    basis = cost_basis(ev)
    rec = ev.recommendation
    h = ev.scenario.horizon
    return Savings(
        versus=versus, basis=basis,
        monthly=ev.options[versus].total_monthly - ev.options[basis].total_monthly,
        horizon=rec.horizon_costs[versus] - rec.horizon_costs[basis],
        months=h.months, discounted=h.discount_rate_per_year > 0,
    )


def savings_vs_today(ev: Evaluation) -> Savings:
    """The saving of moving from the option the unit runs today to the recommendation. For a
    hybrid this is an upper bound: some traffic stays on the other route."""
    return savings(ev, ev.scenario.context.current_option)  # type: ignore[arg-type]


def iceberg_table(ev: Evaluation) -> list[dict]:
    """The iceberg with one row per line item and one amount per option (None where the option
    has no such item), visible items first, rows that are zero for every option left out."""
    items: dict[str, tuple[str, bool]] = {}
    for c in ev.options.values():
        for i in c.line_items:
            items.setdefault(i.key, (i.label, i.hidden))
    rows = []
    for hidden in (False, True):
        for key, (item_label, is_hidden) in items.items():
            if is_hidden != hidden:
                continue
            amounts = {o: next((i.monthly_usd for i in c.line_items if i.key == key), None) for o, c in ev.options.items()}
            if all(not v for v in amounts.values()):
                continue
            rows.append({"key": key, "label": item_label, "hidden": hidden, "amounts": amounts})
    return rows


def iceberg_rows(ev: Evaluation, option: Optional[str] = None) -> list[dict]:
    """The line items of every option (or one), as the engine's kinds define them: option id,
    option label, key, item label, visible/hidden, USD per month."""
    out = []
    for o, c in ev.options.items():
        if option is not None and o != option:
            continue
        for i in c.line_items:
            out.append({"option": o, "option_label": c.label, "key": i.key, "label": i.label,
                        "visibility": "hidden" if i.hidden else "visible", "monthly_usd": i.monthly_usd})
    return out


def memo_date_default(memo_date: Optional[dt.date] = None) -> dt.date:
    """The memo's date: given, else SOURCE_DATE_EPOCH (reproducible builds), else today
    (:func:`runrate_xl.dates.reference_date`)."""
    return reference_date(memo_date)


def decision_pair(ev: Evaluation) -> tuple[str, Optional[str]]:
    """(the option whose costs stand for the recommendation, the alternative it is weighed against).

    The first is the cost basis (see cost_basis). The alternative is the cheapest option the
    recommendation did not pick (the runner-up, or an option a constraint set aside), so the memo
    can say what the choice saves or costs."""
    rec = ev.recommendation
    chosen = cost_basis(ev)
    others = [o for o in ev.options if o != chosen]
    if not others:
        return chosen, None
    if rec.cheapest_option != chosen:
        return chosen, rec.cheapest_option
    if rec.runner_up is not None and rec.runner_up != chosen:
        return chosen, rec.runner_up
    return chosen, min(others, key=lambda o: (rec.horizon_costs[o], o))


def overriding_rules(ev: Evaluation) -> list[str]:
    """The names of the constraints and rules that moved the answer away from the cheapest
    option, in the order they fired ("strict data privacy", ...)."""
    names = [RULE_NAMES.get(r.rule, r.rule) for r in ev.recommendation.reasons
             if r.effect in ("decides", "excludes") and r.rule in RULE_NAMES]
    if not names:  # a rule this table does not name yet: its own words, up to the first colon
        names = [plain(r.text).split(":")[0].strip().lower() for r in ev.recommendation.reasons
                 if r.effect in ("decides", "excludes") and r.rule != "cost"]
    return list(dict.fromkeys(n for n in names if n))


def price_of(ev: Evaluation) -> str:
    """ "the price of strict data privacy" (or "of the constraints" when no rule is named)."""
    names = overriding_rules(ev)
    if not names:
        return "the price of the constraints"
    return "the price of " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])


@dataclass
class Kpi:
    label: str
    value: str
    note: str = ""
    tone: str = ""  # "good" / "bad" / "" - colours the value



def horizon_phrase(ev: Evaluation) -> str:
    h = ev.scenario.horizon
    npv = " (NPV)" if h.discount_rate_per_year > 0 else ""
    return f"over {h.months} months{npv}"


def horizon_basis_label(ev: Evaluation) -> str:
    """ "NPV over 36 months" or "Total over 36 months": what the horizon figures are."""
    h = ev.scenario.horizon
    return f"NPV over {h.months} months" if h.discount_rate_per_year > 0 else f"Total over {h.months} months"


def decision_breakeven(ev: Evaluation) -> BreakEven:
    """The break-even of the pair the memo weighs (decision_pair), else the engine's primary one."""
    chosen, alt = decision_pair(ev)
    for be in [ev.breakeven, *ev.breakevens]:
        if alt is not None and {be.option_a, be.option_b} == {chosen, alt}:
            return be
    return ev.breakeven


def breakeven_month(ev: Evaluation, be: BreakEven) -> Optional[int]:
    """The month of the horizon (1 = this month) in which the unit's volume, growing at its
    monthly rate as the engine grows it, first reaches the break-even volume; None when it does
    not within the horizon (or the volume does not grow, or is already past it)."""
    v = ev.scenario.volume
    if not be.found or be.tokens_per_day is None or v.daily_tokens <= 0 or be.tokens_per_day <= v.daily_tokens:
        return None
    if v.monthly_growth <= 0:
        return None
    for month in range(1, ev.scenario.horizon.months + 1):
        if v.daily_tokens * growth_factor(v.monthly_growth, month) >= be.tokens_per_day:
            return month
    return None


def breakeven_when(ev: Evaluation, be: BreakEven) -> str:
    """Where the break-even is against today: a multiple of today's volume and when growth gets
    there ("3.6x today's volume; at 1.0% growth a month, not within the 36-month horizon")."""
    if not be.found or be.tokens_per_day is None or be.volume_ratio is None:
        return "no volume where the costs cross"
    ratio = be.volume_ratio
    v = ev.scenario.volume
    months = ev.scenario.horizon.months
    if ratio <= 1:
        return f"{fmt.pct(ratio)} of today's volume: already passed"
    where = f"{fmt.multiple(ratio)} today's volume"
    month = breakeven_month(ev, be)
    if month is not None:
        return f"{where}; reached in month {month} at {fmt.pct(v.monthly_growth, 1)} growth a month"
    if v.monthly_growth > 0:
        return f"{where}; not within the {months}-month horizon at {fmt.pct(v.monthly_growth, 1)} growth a month"
    return f"{where}; not within the horizon (volume is not growing)"


def kpis(ev: Evaluation) -> list[Kpi]:
    chosen, alt = decision_pair(ev)
    oc = ev.options[chosen]
    out = [Kpi(f"{label(ev, chosen)} run-rate", f"{fmt.usd(oc.total_monthly)}",
               f"per month today; {fmt.pct(oc.hidden_share)} of it hidden" if oc.hidden_share is not None else "per month today")]
    if alt is not None:
        stake = savings(ev, alt)
        m, h = stake.monthly, stake.horizon
        out.append(Kpi(f"Per month vs {label(ev, alt)}", fmt.usd(abs(m)),
                       ("saved" if m >= 0 else "more") + ", nominal, at today's volume",
                       "good" if m >= 0 else "bad"))
        rate = ev.scenario.horizon.discount_rate_per_year
        out.append(Kpi(f"{horizon_basis_label(ev)} vs {label(ev, alt)}", fmt.usd(abs(h)),
                       ("saved" if h >= 0 else "more") + (f", discounted at {fmt.pct(rate, 1)} a year" if stake.discounted
                                                         else ", nominal, with growth"),
                       "good" if h >= 0 else "bad"))
    if alt is None:  # one option: nothing to break even with
        return out
    be = decision_breakeven(ev)
    pair = f"{label(ev, be.option_a)} = {label(ev, be.option_b)}" if be.option_a != be.option_b else "Break-even"
    if be.found and be.tokens_per_day is not None:
        out.append(Kpi(f"Break-even {pair}", f"{fmt.tokens(be.tokens_per_day)}",
                       f"tokens/day; {breakeven_when(ev, be)}"))
    else:
        out.append(Kpi(f"Break-even {pair}" if be.option_a != be.option_b else "Break-even volume", "none",
                       "no volume where the costs cross"))
    return out


def headline(ev: Evaluation) -> str:
    """One sentence under the recommendation."""
    rec = ev.recommendation
    chosen, alt = decision_pair(ev)
    hp = horizon_phrase(ev)
    basis = "" if rec.option in ev.options else f" Cost basis: {label(ev, chosen)}, the cheapest eligible option."
    if alt is None:
        return f"{label(ev, chosen)} is the only option in this scenario.{basis}"
    stake = savings(ev, alt)
    m, h = stake.monthly, stake.horizon
    if h >= 0:
        text = (f"{label(ev, rec.option)} saves {fmt.usd(h)} {hp} against {label(ev, alt)}"
                f" ({fmt.usd(m)} per month at today's volume)." if m >= 0 else
                f"{label(ev, rec.option)} saves {fmt.usd(h)} {hp} against {label(ev, alt)},"
                f" although it costs {fmt.usd(-m)} more per month today.")
    else:
        text = (f"{label(ev, rec.option)} costs {fmt.usd(-h)} more {hp} than {label(ev, alt)}"
                f" ({fmt.usd(-m)} per month today): {price_of(ev)}." if m <= 0 else
                f"{label(ev, rec.option)} costs {fmt.usd(-h)} more {hp} than {label(ev, alt)},"
                f" although it saves {fmt.usd(m)} per month today: {price_of(ev)}.")
    if rec.close_call:
        text += " A close call."
    return text + basis


def _driver_value(ev: Evaluation, row: SensitivityRow, value: float) -> str:
    return _driver_value_of(ev, row.driver, row.option, value)


def _driver_value_of(ev: Evaluation, driver: str, option_id: Optional[str], value: float) -> str:
    option = ev.scenario.find_option(option_id) if option_id else None
    capacity = getattr(option, "mode", None) == "capacity"
    if driver in ("growth",):
        return f"{fmt.pct(value, 1)} a month"
    if driver in ("api_price_decline", "discount_rate"):
        return f"{fmt.pct(value, 1)} a year"
    if driver == "throughput":
        if getattr(option, "capacity_tokens_per_day", None) is not None:  # a stated capacity per unit
            return f"{fmt.tokens(value)} tokens/day per {'server' if getattr(option, 'kind', '') == 'on_prem' else 'deployment'}"
        return f"{fmt.number(value)} tokens/s per GPU"
    if driver == "server_price":
        return f"{fmt.usd(value)} per server"
    if driver == "power_price":
        return f"{fmt.usd_rate(value)} per kWh"
    if driver == "volume":
        return f"{fmt.tokens(value)} tokens/day"
    if driver in ("api_prices", "ft_prices"):
        return f"{fmt.usd_rate(value)} per 1M {'input' if driver == 'api_prices' else 'output'} tokens"
    if driver == "infra":
        return f"{fmt.usd_rate(value)} per instance-hour" if capacity else f"{fmt.usd(value)} per month"
    if driver in ("utilization", "review_share"):
        return fmt.pct(value)
    if driver == "fte":
        return f"{fmt.number(value)} FTE"
    if driver == "fte_cost":
        return f"{fmt.usd(value)} per year"
    return fmt.number(value)


TORNADO_BARS = 10  # the chart shows the widest swings; its caption names the ones left off


def tornado_bars(ev: Evaluation) -> tuple[list[dict], list[dict]]:
    """(drivers drawn on the tornado chart, drivers that move but are left off): the widest
    TORNADO_BARS swings first."""
    moving = [r for r in tornado_rows(ev) if r["moves"]]
    return moving[:TORNADO_BARS], moving[TORNADO_BARS:]


def tornado_rows(ev: Evaluation) -> list[dict]:
    """Each sensitivity driver as the monthly gap (alternative - chosen) at its low and high value,
    widest swing first. A gap that changes sign means the monthly comparison flips."""
    chosen, alt = decision_pair(ev)
    if alt is None:
        return []
    base = ev.options[alt].total_monthly - ev.options[chosen].total_monthly
    rows = []
    for r in ev.sensitivity:
        if chosen not in r.totals_low or alt not in r.totals_low:
            continue
        low = r.totals_low[alt] - r.totals_low[chosen]
        high = r.totals_high[alt] - r.totals_high[chosen]
        rows.append({
            "row": r, "label": r.label, "low": low, "high": high, "base": base,
            "low_value": _driver_value(ev, r, r.low_value), "high_value": _driver_value(ev, r, r.high_value),
            "base_value": _driver_value(ev, r, r.base_value),
            "flips_low": (low < 0) != (base < 0) and low != 0, "flips_high": (high < 0) != (base < 0) and high != 0,
            "note": r.note,
            "moves": not (math.isclose(low, base, rel_tol=1e-9, abs_tol=1e-6) and math.isclose(high, base, rel_tol=1e-9, abs_tol=1e-6)),
        })
    rows.sort(key=lambda d: (-abs(d["high"] - d["low"]), d["label"]))
    return rows


def breakeven_reach(ev: Evaluation) -> float:
    """The highest volume of the break-even chart: a little past the break-evens that matter (the
    primary pair's wherever it is, the others within 10x today), at least twice today's volume."""
    current = ev.scenario.volume.daily_tokens
    reach = [2.0 * current] if current > 0 else []
    for be in ev.breakevens:
        near = current == 0 or be.tokens_per_day is not None and be.tokens_per_day <= 10 * current
        if be.found and be.tokens_per_day is not None and (near or be == ev.breakeven):
            reach.append(be.tokens_per_day * 1.3)
    return max(reach) if reach else 1e6


def tornado_span(rows: list[dict]) -> tuple[float, float]:
    """The tornado's horizontal range (USD per month): the bars' ends and today's gap, padded."""
    base = rows[0]["base"]
    lo = min([base] + [min(r["low"], r["high"]) for r in rows])
    hi = max([base] + [max(r["low"], r["high"]) for r in rows])
    pad = (hi - lo) * 0.18 or abs(base) * 0.2 or 1.0
    return lo - pad, hi + pad


def tornado_shows_zero(ev: Evaluation) -> bool:
    """Whether the tornado's range reaches zero, where the cheaper option per month changes (the
    chart then draws that line)."""
    rows = [r for r in tornado_rows(ev) if r["moves"]]
    if not rows:
        return False
    lo, hi = tornado_span(rows)
    return lo < 0 < hi


def flip_lines(ev: Evaluation, limit: Optional[int] = None) -> list[str]:
    """The engine's flip points in words, nearest first: the value at which each driver would
    make another option the cheapest allowed over the horizon (the ``limit`` nearest, and how many
    more), then the drivers that would not within their searched ranges."""
    hp = horizon_phrase(ev)
    chosen = ev.recommendation.cheapest_allowed_option
    flips = [fp for fp in ev.flips if fp.value is not None]
    flips.sort(key=lambda fp: abs(math.log(fp.value / fp.base_value)) if fp.base_value > 0 and fp.value > 0 else abs(fp.value - fp.base_value))
    out = []
    edges = 0  # flips closer to today's value than the display rounds
    shown = flips if limit is None else flips[:limit]
    for fp in shown:
        suffix = f" ({label(ev, fp.option)})" if fp.option else ""  # the driver's own name, without its option's
        name = fp.label[: -len(suffix)] if suffix and fp.label.endswith(suffix) else fp.label
        at, today = _flip_value(ev, fp, fp.value), _flip_value(ev, fp, fp.base_value)
        if at == today:  # closer than the display rounds: say by how much, and that it is a knife edge
            points = _by_points(fp) or fp.base_value == 0
            moved = (fp.value - fp.base_value if points else fp.value / fp.base_value - 1) * 100
            unit = " points" if points else "%"
            change = (f"{'up' if moved > 0 else 'down'} by less than 0.001{unit}" if abs(moved) < 0.001
                      else f"{moved:+.3g}{unit}")
            edges += 1
            out.append(f"{name} {change} from today's {today} (a knife edge): {label(ev, fp.to_option)} becomes cheaper "
                       f"than {label(ev, chosen)} {hp}.")
            continue
        out.append(f"{name} at {at} instead of {today}: "
                   f"{label(ev, fp.to_option)} becomes cheaper than {label(ev, chosen)} {hp}.")
    if edges and getattr(ev.scenario.find_option(chosen), "split", None) == "cheapest":
        out.append("The knife edges are where the split found sits at a capacity step: they hold the route fixed, and a "
                   "re-run finds the split again.")
    if len(flips) > len(shown):
        out.append(f"{len(flips) - len(shown)} more drivers would change the answer further from today's values.")
    steady = [fp for fp in ev.flips if fp.value is None]
    if steady:
        shares = [fp.label for fp in steady if not _by_points(fp)]
        rates = [f"{fp.label} ({_flip_value(ev, fp, fp.searched_low)} to {_flip_value(ev, fp, fp.searched_high)})"
                 for fp in steady if _by_points(fp)]
        parts = ([f"{', '.join(shares)} anywhere from a quarter to four times today's value"] if shares else []) + rates
        out.append(f"{label(ev, chosen)} stays the cheapest allowed option {hp} with {'; '.join(parts)}.")
    return out


def capital_lines(ev: Evaluation, option: Optional[str] = None) -> list[str]:
    """Bought hardware in words, per on-prem option: the capex / opex split of the monthly
    run-rate with its P&L view (depreciation + interest), and what the cash series over the
    horizon is made of (purchases, residuals, the terminal book value credited)."""
    out = []
    months = ev.scenario.horizon.months
    for o, series in ev.tco.items():
        cap = series.capital
        if cap is None or (option is not None and o != option):
            continue
        d, name = ev.options[o].details, label(ev, o)
        first = cap.units_bought[0] if cap.units_bought else 0
        later = sum(cap.units_bought) - first
        out.append(
            f"{name}, monthly run-rate: capital charge {fmt.usd(d.get('capex_monthly'))} (P&L view: depreciation "
            f"{fmt.usd(d.get('depreciation_monthly'))} + interest {fmt.usd(d.get('interest_monthly'))}) + operating costs "
            f"{fmt.usd(d.get('opex_monthly'))} = {fmt.usd(ev.options[o].total_monthly)} for {fmt.number(d.get('servers'))} server(s).")
        out.append(
            f"{name}, cash over {months} months (the TCO and NPV): servers bought for {fmt.usd(cap.capex)} ({first} at month 0"
            + (f", {later} more as volume grows and at refreshes" if later else "")
            + f"), residual values received {fmt.usd(cap.residual_received)}, book value of the servers still owned at month "
            f"{months} credited {fmt.usd(cap.terminal_value)}; P&L view over the same months: depreciation "
            f"{fmt.usd(cap.depreciation)} + interest {fmt.usd(cap.interest)}.")
    return out


def _by_points(fp: FlipPoint) -> bool:
    """A driver searched by points (a rate such as growth), not by multiples of its value."""
    return fp.driver in ("growth", "api_price_decline", "discount_rate")


def _flip_value(ev: Evaluation, fp: FlipPoint, value: float) -> str:
    return _driver_value_of(ev, fp.driver, fp.option, value)


def what_would_change(ev: Evaluation) -> list[str]:
    chosen, alt = decision_pair(ev)
    out: list[str] = []
    first = decision_breakeven(ev)  # the pair the memo weighs first, then the others of the chosen option
    pairs = [first] + [b for b in [ev.breakeven, *ev.breakevens] if b != first and chosen in (b.option_a, b.option_b)]
    pairs = [b for i, b in enumerate(pairs) if b not in pairs[:i]]
    for be in pairs:
        if be.option_a == be.option_b:
            continue
        if not be.found or be.tokens_per_day is None:
            out.append(be.reason)
            continue
        below = be.cheaper_below or be.option_a
        above = be.option_b if below == be.option_a else be.option_a
        head = (f"{label(ev, be.option_a)} and {label(ev, be.option_b)} cost the same at "
                f"{fmt.tokens(be.tokens_per_day)} tokens/day; today's volume is {fmt.tokens(be.current_tokens_per_day)}")
        ratio = be.volume_ratio
        if len(be.crossings) > 1:
            out.append(be.reason)
            continue
        if ratio is None:
            out.append(head + ".")
        elif ratio >= 1:
            out.append(f"{head} ({fmt.pct(1 / ratio)} of it). Volume would have to grow {fmt.multiple(ratio)} "
                       f"before {label(ev, above)} is cheaper per month.")
        else:
            out.append(f"{head} ({fmt.pct(1 / ratio)} of it). Volume would have to fall {fmt.pct(1 - ratio)} "
                       f"before {label(ev, below)} is cheaper per month.")
    if alt is not None:
        out.extend(flip_lines(ev, limit=3))
    for r in ev.recommendation.reasons:
        if r.effect in ("excludes", "blocks"):
            back = label(ev, r.option) if r.option else "the option set aside"
            out.append(f"{r.text} If that changes, {back} is back in the running.")
    if alt is None:
        out.append(f"Only {label(ev, chosen)} is defined in this scenario: add a fine-tuned or self-hosted option "
                   "to see what it would take for another route to win.")
    return out




def invoice_lines(ev: Evaluation) -> list[str]:
    """One sentence per API option whose invoice carries more than input and output tokens:
    reasoning tokens (and their share of the token spend), cache writes, the service tier and a
    negotiated discount, as the engine priced them."""
    out = []
    for option in ev.scenario.options:
        if option.kind != "api" or option.id not in ev.options:
            continue
        cost = ev.options[option.id]
        amount = {i.key: i.monthly_usd for i in cost.line_items}
        parts = []
        reasoning = amount.get("reasoning_tokens", 0.0)
        if option.reasoning_tokens_per_request > 0:
            share = f", {fmt.pct(reasoning / cost.token_cost_monthly)} of its token spend" if cost.token_cost_monthly > 0 else ""
            parts.append(f"reasoning tokens ({fmt.number(option.reasoning_tokens_per_request)} per request) cost "
                         f"{fmt.usd(reasoning)} a month{share}")
        writes = option.cache_write_share + option.cache_write_1h_share
        if writes > 0:
            parts.append(f"cache writes ({fmt.pct(writes)} of input) cost {fmt.usd(amount.get('cache_write_tokens', 0.0))} a month")
        if option.service_tier != "standard":
            parts.append(f"{option.service_tier} service tier for the traffic not sent through batch")
        if option.negotiated_discount_share > 0:
            parts.append(f"{fmt.pct(option.negotiated_discount_share)} negotiated discount off every token price")
        if parts:
            out.append(f"{label(ev, option.id)}: " + "; ".join(parts) + ".")
    return out


def route_words(ev: Evaluation, route: dict[str, float]) -> str:
    """"70% to Own GPUs, 30% to API": a mix's route, largest share first, shares at 0 left out."""
    return ", ".join(f"{fmt.pct(share)} to {label(ev, cid)}" for cid, share in sorted(route.items(), key=lambda kv: -kv[1]) if share > 0)


def _less_or_more(diff: float, dearer: float) -> str:
    """"$Y (P%) less" / "$Y (P%) more": the percent relative to the dearer of the two."""
    share = f" ({fmt.pct(abs(diff) / dearer)})" if dearer > 0 else ""
    return f"{fmt.usd(abs(diff))}{share} {'less' if diff >= 0 else 'more'}"


def split_lines(ev: Evaluation) -> list[str]:
    """One sentence per mix: its cheapest split with today's monthly cost and how much less (or
    more) it costs than sending all the traffic to each option the constraints allow alone, a
    month and over the horizon (percent relative to the dearer)."""
    out = []
    basis = "NPV" if ev.scenario.horizon.discount_rate_per_year > 0 else "total"
    for sp in ev.splits:
        compared = []
        for cid, npv in sp.pure_npv.items():
            monthly = ev.options[cid].total_monthly
            compared.append(f"{_less_or_more(monthly - sp.monthly, max(monthly, sp.monthly))} a month than all to {label(ev, cid)} "
                            f"({_less_or_more(npv - sp.npv, max(npv, sp.npv))} in {basis} over {ev.scenario.horizon.months} months)")
        found = "the engine's cheapest split" if sp.method == "exact" else "the cheapest split on a 1% grid, refined"
        text = f"{label(ev, sp.option)}, {found}: route {route_words(ev, sp.route)}: {fmt.usd(sp.monthly)}/month"
        out.append(text + (", " + "; ".join(compared) if compared else "") + ".")
        mix = ev.scenario.option(sp.option)
        if getattr(mix, "split", "as_routed") == "as_routed" and sp.route != sp.given_route:
            out.append(f"{label(ev, sp.option)} as routed ({route_words(ev, sp.given_route)}) costs {fmt.usd(sp.given_monthly)}/month "
                       f"and is priced as given (split: cheapest prices the split found).")
    return out


def split_curve_rows(ev: Evaluation, option: str, every: int = 10) -> list[dict]:
    """The split curve of mix ``option`` for a table or chart: every ``every``-th point (0%,
    10%, ... of the curve's axis option), with the best split, feasibility and both costs."""
    sp = next(s for s in ev.splits if s.option == option)
    rows = [{"share": p.share, "route": route_words(ev, p.route), "npv": p.npv, "monthly": p.monthly, "feasible": p.feasible,
             "best": False} for p in sp.curve[::every]]
    rows.append({"share": sp.route[sp.axis], "route": route_words(ev, sp.route), "npv": sp.npv, "monthly": sp.monthly,
                 "feasible": True, "best": True})
    return sorted(rows, key=lambda r: r["share"])


def unit_cost_rows(ev: Evaluation, compact: bool = False) -> list[dict]:
    """Cost per unit, every option side by side (the engine's figures): per 1M tokens (all costs),
    per request, and per successful task (outcome) once failures are counted. Rows no option has
    are left out. ``compact`` (the memo's page 1): per successful task, with per request beside
    it only where the two differ. ``{"label", "values": {option: float or None}}``."""
    if compact:
        full = {r["label"]: r for r in unit_cost_rows(ev)}
        task, request = full.get("Per successful task"), full.get("Per request")
        if task is None:
            return [request] if request else []
        if request and request["values"] != task["values"]:
            return [request, task]
        return [{**task, "label": "Per successful task (= per request)" if request else task["label"]}]
    rows = []
    per_token = {o: c.cost_per_1m_tokens for o, c in ev.options.items()}
    if any(v is not None for v in per_token.values()):
        rows.append({"label": "Per 1M tokens (all costs)", "values": per_token})
    per_request = {o: (c.tasks.cost_per_request if c.tasks else None) for o, c in ev.options.items()}
    if any(v is not None for v in per_request.values()):
        rows.append({"label": "Per request", "values": per_request})
    per_task = {o: (c.tasks.cost_per_successful_task if c.tasks else None) for o, c in ev.options.items()}
    if any(v is not None for v in per_task.values()):
        rows.append({"label": "Per successful task", "values": per_task})
    return rows


def task_name(ev: Evaluation) -> str:
    """What the tasks counted are: the outcome name (plural) when outcomes_per_month is given, else "tasks"."""
    return f"{ev.scenario.context.outcome_name}s" if ev.scenario.context.outcomes_per_month is not None else "tasks"


def failure_lines(ev: Evaluation) -> list[str]:
    """One sentence per option whose tasks can fail: success rate, what a failure costs, the
    volumes of retries and of tasks handed to people, and the cost per successful task."""
    out = []
    for option in ev.scenario.options:
        c = ev.options.get(option.id)
        if c is not None and c.tasks is not None and option.kind in ("mix", "cascade"):
            out += _composite_failure_line(ev, option, c.tasks)
            continue
        hidden = getattr(option, "hidden", None)
        if c is None or c.tasks is None or hidden is None or hidden.success_rate >= 1:
            continue
        t = c.tasks
        what = task_name(ev)
        # a retried task runs its tool calls again: they are paid on every attempt (the Tool calls line)
        calls = ", their tool calls paid again in the Tool calls line" if hidden.tool_calls_per_request > 0 else ""
        if t.on_failure == "retry":
            how = (f"failures retried up to {hidden.max_attempts} attempts in all ({t.attempts_per_task:.2f} attempts per request on "
                   f"average, {fmt.count(t.retries_per_month)} retries a month, in the Retries line{calls}), the "
                   f"{fmt.pct(t.failed_share, 1)} still failing go to a person")
        else:
            how = "failures go to a person"
        people = fmt.count(t.failed_to_people_per_month)
        if t.on_failure == "escalate":  # on its own a person handles them; as a cascade's first, its then option
            cascades = [o for o in ev.scenario.options if o.kind == "cascade" and o.first == option.id]
            tried = (f"failures retried up to {hidden.max_attempts} attempts in all ({t.attempts_per_task:.2f} attempts per request "
                     f"on average, {fmt.count(t.retries_per_month)} retries a month, in the Retries line{calls})")
            still = f"the {fmt.pct(t.failed_share, 1)} still failing ({people} a month)"
            where = (f"{still} escalate to {label(ev, cascades[0].then)} in {label(ev, cascades[0].id)}, and go to a person at "
                     f"the review cost when {label(ev, option.id)} runs on its own (its human review line)" if cascades else
                     f"{still} go to a person at the review cost (the human review line): escalate sends them on only as a "
                     "cascade's first option")
            out.append(f"{label(ev, option.id)}: {fmt.pct(t.success_rate)} right at the first attempt; {tried}; {where}; "
                       f"{fmt.usd_cents(t.cost_per_successful_task)} per successful task on its own "
                       f"({fmt.count(t.successful_tasks_per_month)} of {fmt.count(t.tasks_per_month)} {what} a month).")
            continue
        out.append(f"{label(ev, option.id)}: {fmt.pct(t.success_rate)} right at the first attempt; {how} "
                   f"({people} a month at the review cost, in the human review line); "
                   f"{fmt.usd_cents(t.cost_per_successful_task)} per successful task "
                   f"({fmt.count(t.successful_tasks_per_month)} of {fmt.count(t.tasks_per_month)} {what} a month).")
    return out


def _composite_failure_line(ev: Evaluation, option, t) -> list[str]:
    """A mix's or cascade's tasks in words when any of them fails or is escalated on failure: the
    requests escalated, the tasks resolved and the cost per successful task (the engine's TaskCost)."""
    escalates = option.kind == "cascade" and getattr(ev.scenario.option(option.first), "hidden", None) is not None \
        and ev.scenario.option(option.first).hidden.on_failure == "escalate"
    if t.failed_share <= 0 and not escalates:
        return []
    parts = []
    if option.kind == "cascade" and t.escalated_per_month is not None:
        why = f" ({label(ev, option.first)}'s failures after every attempt)" if escalates else ""
        parts.append(f"{fmt.count(t.escalated_per_month)} requests a month also go to {label(ev, option.then)}{why}")
    what = task_name(ev)
    parts.append(f"{fmt.pct(1.0 - t.failed_share, 1)} of {what} resolved ({fmt.count(t.successful_tasks_per_month)} of "
                 f"{fmt.count(t.tasks_per_month)} a month; the others go to a person, in the human review lines)")
    return [f"{label(ev, option.id)}: " + "; ".join(parts) + f"; {fmt.usd_rate(t.cost_per_successful_task)} per successful task."]


def migration_lines(ev: Evaluation) -> list[str]:
    """How a move off today's option is phased (horizon.switch_month, overlap_months), in words;
    nothing when the move is immediate (the defaults)."""
    h, current = ev.scenario.horizon, ev.scenario.context.current_option
    if not h.migrates or current is None:
        return []
    start = f"starts after month {h.switch_month} (today's option carries everything until then)" if h.switch_month else "starts now"
    ramp = ""
    if h.overlap_months:
        shares = [k / (h.overlap_months + 1) for k in range(1, h.overlap_months + 1)]
        shown = ", ".join(fmt.pct(x) for x in shares[:4]) + (", ..." if len(shares) > 4 else "")
        ramp = (f", with {h.overlap_months} month{'s' if h.overlap_months > 1 else ''} of overlap in which both run and both pay "
                f"their fixed costs (traffic moves linearly: {shown} on the new option)")
    return [f"A move off {label(ev, current)} {start}{ramp}; the new option's one-time costs are paid when the move starts. "
            "Every other option's totals, payback and crossover include this."]

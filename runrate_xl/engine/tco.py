"""Total cost of ownership over the horizon: growth, API price decline, NPV, cumulative series,
payback of one-time costs and the month cumulative curves cross.

Month ``m`` (1..N) runs at ``T0 * (1 + g) ** (m - 1)`` tokens/day with API prices multiplied by
``(1 - d) ** ((m - 1) / 12)``. One-time costs are paid at month 0. Fine-tuning refreshes are
spread evenly (refresh_cost / interval per month), so with no growth, decline or discount
``total = N * monthly + one_time`` exactly.
"""

from __future__ import annotations

from . import functions as f
from .errors import NoAnswer
from .kinds import kind_of
from .option_cost import option_breakdown
from .results import Crossover, Payback, TcoSeries
from .scenario import Scenario


def tco_series(scenario: Scenario, option: str, months: int | None = None) -> TcoSeries:
    h = scenario.horizon
    n = h.months if months is None else months
    t0 = scenario.volume.daily_tokens
    one_time = option_breakdown(scenario, option, t0).one_time
    declines = kind_of(scenario.option(option)).follows_api_price_decline
    monthly = []
    for m in range(1, n + 1):
        t = t0 * f.growth_factor(scenario.volume.monthly_growth, m)
        pf = f.price_factor(h.api_price_decline_per_year, m) if declines else 1.0
        monthly.append(option_breakdown(scenario, option, t, pf).total)
    cumulative = [one_time]
    for c in monthly:
        cumulative.append(cumulative[-1] + c)
    return TcoSeries(
        option=option, months=n, monthly=monthly, cumulative=cumulative, one_time_cost=one_time,
        total=cumulative[-1], npv=f.npv(h.discount_rate_per_year, one_time, monthly),
    )


def payback_of(scenario: Scenario, option: str, versus: str, monthly: dict[str, float], one_time: dict[str, float]) -> Payback:
    """Months for ``option``'s extra one-time cost to be repaid by its monthly saving over ``versus``."""
    extra = max(one_time[option] - one_time[versus], 0.0)
    saving = monthly[versus] - monthly[option]
    lo, lv = scenario.label_of(option), scenario.label_of(versus)
    try:
        months = f.payback(extra, saving)
    except NoAnswer:
        return Payback(option=option, versus=versus, one_time_cost=extra, monthly_saving=saving,
                       reason=f"{lo} costs ${-saving:,.0f}/month more than {lv}, so its one-time cost never pays back.")
    reason = (f"{lo} saves ${saving:,.0f}/month over {lv} with no extra one-time cost."
              if extra == 0 else
              f"{lo}'s one-time ${extra:,.0f} is repaid by saving ${saving:,.0f}/month over {lv} in {months:.1f} months.")
    return Payback(option=option, versus=versus, one_time_cost=extra, monthly_saving=saving, months=months, reason=reason)


def crossover(scenario: Scenario, option: str, versus: str, series: dict[str, TcoSeries]) -> Crossover:
    """First month (0..N) from which ``option``'s cumulative cost is below ``versus``'s."""
    a, b = series[option].cumulative, series[versus].cumulative
    lo, lv = scenario.label_of(option), scenario.label_of(versus)
    n = len(a) - 1
    first = next((m for m in range(len(a)) if all(a[k] < b[k] for k in range(m, len(a)))), None)
    if first is None:
        return Crossover(option=option, versus=versus,
                         reason=f"{lo}'s cumulative cost stays above {lv}'s by month {n}.")
    if first == 0:
        return Crossover(option=option, versus=versus, month=0,
                         reason=f"{lo} is cheaper than {lv} from the start.")
    return Crossover(option=option, versus=versus, month=first,
                     reason=f"{lo}'s cumulative cost drops below {lv}'s in month {first} and stays below.")

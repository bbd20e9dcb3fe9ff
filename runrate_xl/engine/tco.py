"""Total cost of ownership over the horizon: growth, API price decline, NPV, cumulative series,
payback and the month cumulative curves cross (both read from the cumulative series).

Month ``m`` (1..N) runs at ``T0 * (1 + g) ** (m - 1)`` tokens/day with API prices multiplied by
``(1 - d) ** ((m - 1) / 12)``. One-time costs are paid at month 0. Fine-tuning refreshes are
spread evenly (refresh_cost / interval per month), so with no growth, decline or discount
``total = N * monthly + one_time`` exactly. A kind that buys hardware (``Kind.cash``) is counted
in cash: its run-rate capital charge is replaced by the purchases (month 0 and later), the
residuals received and the terminal book value (see ``kinds/on_prem.py``), stated in
``TcoSeries.capital``. An option reached by a phased move off today's option
(``horizon.switch_month``, ``horizon.overlap_months``) carries today's option in its first
months and both during the overlap (see ``curve.migration``); payback and crossover, read from
the series, move with it.
"""

from __future__ import annotations

from . import functions as f
from .curve import curve, migrating, migration
from .kinds import kind_of
from .results import CapitalView, Crossover, Payback, TcoSeries
from .scenario import Scenario


def tco_series(scenario: Scenario, option: str, months: int | None = None) -> TcoSeries:
    h = scenario.horizon
    n = h.months if months is None else months
    t0 = scenario.volume.daily_tokens
    cost = curve(scenario, option)  # one breakdown; each month is its cost at that month's volume and prices
    one_time = cost.one_time
    o = scenario.option(option)
    kind = kind_of(o)
    monthly, volumes = [], []
    flows = None
    if migrating(scenario, option):
        moved = migration(scenario, cost, curve(scenario, scenario.context.current_option), n)  # type: ignore[arg-type]
        one_time, monthly, flows = moved.one_time, moved.monthly, moved.flows
    else:
        for m in range(1, n + 1):
            t = t0 * f.growth_factor(scenario.volume.monthly_growth, m)
            monthly.append(cost.at(t, f.price_factor(h.api_price_decline_per_year, m)))
            volumes.append(t)
        flows = kind.cash(scenario, o, volumes) if kind.cash is not None else None  # None: a mix without bought hardware
        if flows is not None:
            one_time += flows.at_start
            monthly = [c + x for c, x in zip(monthly, flows.by_month)]
    capital = None
    if flows is not None:
        capital = CapitalView(
            capex=flows.capex, residual_received=flows.residual_received, terminal_value=flows.terminal_value,
            run_rate_capital=flows.run_rate_capital, depreciation=flows.depreciation, interest=flows.interest,
            units_bought=list(flows.units_bought),
        )
    cumulative = [one_time]
    for c in monthly:
        cumulative.append(cumulative[-1] + c)
    return TcoSeries(
        option=option, months=n, monthly=monthly, cumulative=cumulative, one_time_cost=one_time,
        total=cumulative[-1], npv=f.npv(h.discount_rate_per_year, one_time, monthly), capital=capital,
    )


def payback_of(scenario: Scenario, option: str, versus: str, series: dict[str, TcoSeries]) -> Payback:
    """When ``option``'s cumulative cost falls below ``versus``'s for good, in fractional months.

    Read from the cumulative cash series (one-time costs at month 0, growth, API price decline
    and refreshes included), so it never contradicts the crossover: with ``k`` the last month
    0..N in which option's cumulative cost is not below versus's (gap ``d_k >= 0``), payback is
    ``k + d_k / (d_k - d_(k+1))``, interpolated within month ``k + 1`` (the crossover month);
    0 when the option is cheaper from the start; none when it is not below by month N."""
    a, b = series[option].cumulative, series[versus].cumulative
    n = len(a) - 1
    extra = max(a[0] - b[0], 0.0)
    saving = series[versus].monthly[0] - series[option].monthly[0] if n else 0.0
    lo, lv = scenario.label_of(option), scenario.label_of(versus)
    gap = [x - y for x, y in zip(a, b)]
    k = max((m for m in range(n + 1) if gap[m] >= 0), default=-1)
    if k == -1 or (k == 0 and gap[0] == 0 and n > 0 and gap[1] < 0):
        return Payback(option=option, versus=versus, one_time_cost=extra, monthly_saving=saving, months=0.0,
                       reason=f"{lo} is cheaper than {lv} from the start: there is nothing to pay back.")
    if k == n:
        return Payback(option=option, versus=versus, one_time_cost=extra, monthly_saving=saving,
                       reason=(f"{lo}'s cumulative cost is still ${gap[n]:,.0f} above {lv}'s after {n} months: "
                               "it does not pay back within the horizon."))
    months = k + gap[k] / (gap[k] - gap[k + 1])
    paid = f"its one-time ${extra:,.0f}" if extra > 0 else "its higher early costs"
    return Payback(option=option, versus=versus, one_time_cost=extra, monthly_saving=saving, months=months,
                   reason=(f"{lo} repays {paid} against {lv} after {months:.1f} months, when its cumulative cost "
                           f"(growth and price changes included) falls below {lv}'s for good."))


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

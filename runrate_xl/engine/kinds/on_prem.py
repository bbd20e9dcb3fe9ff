"""Kind ``on_prem``: an open model on GPU servers you buy (issue #13, item 4).

Servers are either stated (``servers``, today's fleet, with its average ``utilization`` at today's
volume ``T0``, or at ``utilization_at_tokens_per_day``): the fleet then carries ``T0 / utilization``
at 100%, ``T0 / (utilization x servers)`` a server, and servers are bought as the volume passes
that: ``max(servers, ceil(t x utilization x servers / T0))``, used at ``utilization x t / T0 x
servers / count`` on average (as self-hosted's implied capacity, ``kinds/self_hosted.Sizing``);
or they follow the volume like rented capacity: one server's capacity at 100%
is stated (``capacity_tokens_per_day``, or ``tokens_per_second_per_gpu`` x ``gpus_per_server``) or
derived from the catalog (GPU type + model + precision -> published throughput, after the memory
check), and ``servers = ceil(max(1, ceil(peak / (capacity x target))) x redundancy)``; utilization
is then a result (volume / installed capacity).

Monthly run-rate per server (``r_m = (1 + cost_of_capital)^(1/12) - 1``, ``L = 12 x life_years``):

- capital cost ``-PMT(r_m, L, price x (1 + install), -residual x price)``: the level payment that
  repays the installed price less the present value of the residual;
- maintenance ``price x maintenance_share / 12``;
- power ``gpus x tdp / 1000 x (idle + (1 - idle) x utilization) x pue x hours x price_per_kwh``
  (split into the idle draw, paid per server, and the load, which follows the volume);
- facilities per server; plus people, tooling, storage, egress and the hidden costs.

Cash (TCO and NPV, see ``cash_flows``): servers are paid when bought (month 0, and the month more
are needed as volume grows), replaced at each end of life when still needed, their residual is
received at the end of life, and the straight-line book value of the servers still owned at the
horizon end is credited as terminal value. The P&L view splits the capital charge into
straight-line depreciation and interest.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Literal, Optional, Sequence

from pydantic import Field, model_validator

from .. import functions as f
from ..common import Fraction, HiddenCosts, Usd, Utilization
from ..errors import InputError
from .base import (OPERATION_ITEMS, Breakdown, anchor_utilization, operation_amounts, CashFlows, Kind, LineItemSpec, OptionBase, OptionDriver, Step, field_driver, hidden_items,
                   items_by_key, unit_counts)

if TYPE_CHECKING:
    from ..scenario import Scenario

_CONFIGIQ = "configiq lib/costing-assumptions.ts (github.com/redhat-performance/configiq, read 2026-12-01)"


class OnPremOption(OptionBase):
    """Running an open model on GPU servers you buy: capital, maintenance, power, facilities."""

    kind: Literal["on_prem"]
    servers: Optional[int] = Field(
        None, gt=0, le=100_000, description=("Servers bought, a fixed fleet (with utilization). Leave empty to size them "
                                             "from a capacity: they then follow the volume."))
    utilization: Optional[Utilization] = Field(
        None, description=("With stated servers: their average utilization today, 0-1; the fleet carries today's volume / utilization "
                           "at 100%, and servers are added as the volume passes that (it also drives the power line)."))
    utilization_at_tokens_per_day: Optional[float] = Field(
        None, gt=0, le=1e15, description=("With stated servers: the volume (tokens/day) at which their utilization is measured "
                                          "(default: today's volume); the fleet carries it / utilization at 100%."))
    server_price: Optional[float] = Field(
        None, gt=0, le=1e9, description="Purchase price of one server, USD (server catalog by gpu_type, gpus_per_server and as-of date if empty).")
    install_share: Fraction = Field(
        0.07, description=f"Installation, as a share of the server price (issue #13 convention; the server catalog's own figure when it fills the price; {_CONFIGIQ}: about 7%).")
    life_years: float = Field(
        4.0, gt=0, le=15, description=f"Life of a server before it is replaced, years (a whole number of months; issue #13 and {_CONFIGIQ}: 4).")
    residual_share: Fraction = Field(
        0.2, description=f"Value of a server at the end of its life, as a share of its price (issue #13 and {_CONFIGIQ}: 20%).")
    cost_of_capital_per_year: float = Field(
        0.08, ge=0, le=1, description=f"Cost of capital for the run-rate capital charge, per year (issue #13 and {_CONFIGIQ}: 8%).")
    maintenance_share_per_year: Fraction = Field(
        0.05, description=f"Support and maintenance per year, as a share of the server price (issue #13 and {_CONFIGIQ}: 5%).")
    gpu_type: Optional[str] = Field(None, description="GPU in each server, from the GPU catalog, e.g. H100 (runrate gpus): fills the price, TDP and throughput.")
    gpus_per_server: Optional[int] = Field(None, gt=0, le=64, description="GPUs per server, e.g. 8 (with gpu_type it picks the catalog server).")
    gpu_tdp_watts: Optional[float] = Field(None, gt=0, le=10_000, description="Board power (TDP) per GPU, W (GPU catalog by gpu_type if empty).")
    idle_power_share: Fraction = Field(
        0.3, description="Share of board power a GPU draws while idle (issue #13 convention: 30%; measure yours).")
    pue: float = Field(
        1.4, ge=1, le=5, description=(f"Power usage effectiveness, site power / IT power (issue #13 and {_CONFIGIQ}: 1.4; "
                                      "Uptime Institute's industry average was 1.58 in 2023, hyperscale sites 1.1-1.2)."))
    power_price_per_kwh: float = Field(
        0.12, ge=0, le=10, description=(f"Electricity, USD per kWh (issue #13 and {_CONFIGIQ}: 0.12; US commercial averages ran "
                                        "from about 0.10 to 0.23 by region in April 2025, EIA Electric Power Monthly table 5.6.A)."))
    facilities_monthly_per_server: Usd = Field(
        200.0, description=f"Rack space, cooling plant and network per server, USD per month (issue #13 and {_CONFIGIQ}: 200).")
    capacity_tokens_per_day: Optional[float] = Field(
        None, gt=0, le=1e15, description="Tokens/day one server carries at 100% (your measurement); with it the servers follow the volume.")
    model: Optional[str] = Field(None, description="Open model from the catalog, e.g. llama-3.1-70b (runrate gpus --models): capacity from published throughput.")
    precision: Optional[Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]] = Field(
        None, description="Weight precision of the model, e.g. fp8; throughput must be published for it.")
    tokens_per_second_per_gpu: Optional[float] = Field(
        None, gt=0, description=("Effective tokens/s (input + output) per GPU for the request mix: one server's capacity at 100% "
                                 "/ its GPUs / 86,400. Filled from a published benchmark with model and precision; your measurement wins."))
    context_tokens: Optional[float] = Field(
        None, gt=0, le=10_000_000, description="Memory check: tokens of context per request (default: the request size).")
    concurrent_requests: float = Field(1.0, ge=1, le=100_000, description="Memory check: requests whose KV cache is held at once.")
    memory_headroom: Fraction = Field(0.1, description="Memory check: share of GPU memory kept free (activations, CUDA context).")
    peak_to_average: float = Field(2.0, ge=1, le=100, description="Sized servers: peak load / average load.")
    target_utilization: Utilization = Field(0.7, description="Sized servers: highest planned utilization at peak (seed 004: aim 60-70%+).")
    redundancy: float = Field(1.0, ge=1, le=10, description="Sized servers: capacity multiplier for failover (2 = fully doubled).")
    server_price_source: Optional[str] = Field(None, max_length=2000, description="Where the server price came from (filled by the catalog).")
    server_price_as_of: Optional[str] = Field(None, description="As-of date of the server price.")
    tdp_source: Optional[str] = Field(None, max_length=2000, description="Where the GPU board power came from (filled by the catalog).")
    tdp_as_of: Optional[str] = Field(None, description="As-of date of the board power.")
    throughput_source: Optional[str] = Field(None, max_length=2000, description="Where the throughput came from and under what conditions (filled by the catalog).")
    throughput_as_of: Optional[str] = Field(None, description="As-of date of the throughput figure.")
    memory_needed_gb: Optional[float] = Field(None, ge=0, description="Memory check: weights + KV cache per model replica, GB (filled by the catalog).")
    memory_available_gb: Optional[float] = Field(None, ge=0, description="Memory check: GPU memory per replica less headroom, GB (filled by the catalog).")
    fte: float = Field(0.25, ge=0, le=1000, description="People running it, FTE (seed 003: 0.25-1.0).")
    fte_annual_cost: Usd = Field(150_000.0, description="Fully loaded cost per FTE, USD/year (seed 003: $150k).")
    ops_tooling_monthly: Usd = Field(0.0, description="Serving/monitoring/security tooling, USD per month.")
    storage_monthly: Usd = Field(0.0, description="Model weights and checkpoints storage, USD per month.")
    egress_monthly: Usd = Field(0.0, description="Network egress, USD per month.")
    setup_cost: Usd = Field(0.0, description="One-time build-out (not the servers), USD (seed 000: $100k-$300k).")
    migration_cost: Usd = Field(0.0, description="One-time migration (prompts, evals), USD (seed 004: 6-12 months of pain).")
    retry_rate: float = Field(0.0, ge=0, le=5, description="Extra tokens re-run by retries, as a fraction (they take capacity and power).")
    hidden: HiddenCosts = Field(default_factory=HiddenCosts)

    @model_validator(mode="after")
    def _inputs(self) -> "OnPremOption":
        months = self.life_years * 12
        if abs(months - round(months)) > 1e-9:
            raise ValueError(f"life_years x 12 must be a whole number of months (got {months:g} months)")
        capacity = [n for n in ("capacity_tokens_per_day", "tokens_per_second_per_gpu", "model") if getattr(self, n) is not None]
        if self.servers is not None:
            if capacity:
                raise ValueError(f"servers is a fixed fleet: give servers (with utilization) or a capacity ({', '.join(capacity)}), "
                                 "from which the servers follow the volume, not both")
            if self.utilization is None:
                raise ValueError("servers needs utilization (their average load, 0-1: it sets the fleet's capacity and drives the power line)")
        else:
            if self.utilization_at_tokens_per_day is not None:
                raise ValueError("utilization_at_tokens_per_day goes with stated servers and their utilization")
            if self.utilization is not None:
                raise ValueError("utilization goes with stated servers: when servers are sized from a capacity, utilization is a "
                                 "result (volume / installed capacity); set target_utilization instead")
            if not capacity:
                raise ValueError("on_prem needs servers (a fixed fleet), or a capacity to size them from: capacity_tokens_per_day, "
                                 "tokens_per_second_per_gpu, or model and precision (published throughput)")
            if self.capacity_tokens_per_day is not None and self.tokens_per_second_per_gpu is not None:
                raise ValueError("give one capacity: capacity_tokens_per_day (per server) or tokens_per_second_per_gpu")
            if self.model is not None and self.precision is None and self.tokens_per_second_per_gpu is None:
                raise ValueError("model needs precision (e.g. fp8): throughput is published per precision")
        if self.server_price is None and (self.gpu_type is None or self.gpus_per_server is None):
            raise ValueError("on_prem needs server_price, or gpu_type and gpus_per_server (server catalog)")
        if self.gpus_per_server is None:
            raise ValueError("on_prem needs gpus_per_server (power and capacity are per GPU)")
        if self.gpu_tdp_watts is None and self.gpu_type is None:
            raise ValueError("on_prem needs gpu_tdp_watts, or gpu_type (GPU catalog board power)")
        return self

    @property
    def life_months(self) -> int:
        return round(self.life_years * 12)


LINE_ITEMS = items_by_key(
    LineItemSpec("capital", "Server capital (annuity)", False, False),
    LineItemSpec("maintenance", "Server maintenance", False, False),
    LineItemSpec("power_idle", "Power, idle draw", True, False),
    LineItemSpec("power_load", "Power, load", True, True),
    LineItemSpec("facilities", "Facilities (space, cooling)", True, False),
    *OPERATION_ITEMS.values(),
)

NO_VOLUME = ("at a volume of 0 the stated utilization implies no capacity, so the stated servers are taken to carry any "
             "volume: give utilization_at_tokens_per_day, or capacity_tokens_per_day instead of servers, to size them")


def hours_per_month(scenario: "Scenario") -> float:
    """Hours in the scenario's month (days_per_month x 24): the one month tokens are counted in."""
    return f.hours_per_month(scenario.volume.days_per_month)


def _need(op: OnPremOption, field: str) -> float:
    value = getattr(op, field)
    if value is None:
        raise InputError(f"{op.id}.{field}", None, f"a value (resolve {op.id}.gpu_type through the catalog first, or give it)")
    return value


def _Unit(scenario: "Scenario", op: OnPremOption) -> "_UnitFigures":
    """One server's monthly figures at the option's inputs (a pure function of them, computed
    once for the same inputs: the search, tornado and flips price one option many times)."""
    return _unit_figures(_need(op, "server_price"), _need(op, "gpu_tdp_watts"), op.install_share, op.residual_share,
                         op.life_months, op.cost_of_capital_per_year, op.maintenance_share_per_year, op.gpus_per_server,
                         op.pue, hours_per_month(scenario), op.power_price_per_kwh, op.idle_power_share,
                         op.facilities_monthly_per_server)


@lru_cache(maxsize=512)
def _unit_figures(*inputs) -> "_UnitFigures":
    return _UnitFigures(*inputs)


class _UnitFigures:
    """One server's monthly figures (USD/month unless named)."""

    def __init__(self, price: float, tdp: float, install_share: float, residual_share: float, life: int, cost_of_capital: float,
                 maintenance_share: float, gpus: int, pue: float, hours: float, power_price: float, idle_share: float,
                 facilities: float):
        self.cost = price * (1.0 + install_share)  # paid when bought
        self.residual = price * residual_share  # received at the end of life
        self.life = life
        self.capital = -f.pmt(f.monthly_rate(cost_of_capital), self.life, self.cost, -self.residual)
        self.depreciation = (self.cost - self.residual) / self.life
        self.maintenance = price * maintenance_share / f.MONTHS_PER_YEAR
        self.energy = f.server_power_monthly(1.0, gpus, tdp, 1.0, 0.0, pue, hours, power_price)  # flat out, one server
        self.power_idle = self.energy * idle_share
        self.site_kw = gpus * tdp / 1000.0 * pue  # drawn flat out, cooling included
        self.facilities = facilities
        self.fixed = self.capital + self.maintenance + self.power_idle + self.facilities  # what one more server costs a month


def server_tps(op: OnPremOption) -> Optional[float]:
    """Tokens/s one server sized from a capacity carries at 100%, or None for a stated fleet."""
    if op.servers is not None:
        return None
    if op.capacity_tokens_per_day is not None:
        return op.capacity_tokens_per_day / f.SECONDS_PER_DAY
    return _need(op, "tokens_per_second_per_gpu") * op.gpus_per_server  # type: ignore[operator]


def volume_basis(scenario: "Scenario") -> float:
    """Today's volume, where a stated fleet's stated utilization holds (a probe volume at 0)."""
    from ..curve import PROBE_TOKENS_PER_DAY  # the probe's one home (curve imports the kinds)

    return scenario.volume.daily_tokens or PROBE_TOKENS_PER_DAY


def fleet_reference(scenario: "Scenario", op: OnPremOption) -> Optional[float]:
    """The volume at which a stated fleet's utilization holds (its ``utilization_at_tokens_per_day``,
    else today's volume); None when servers are sized from a capacity, or at a volume of 0 with
    nothing to infer the fleet's capacity from."""
    if op.servers is None:
        return None
    reference = op.utilization_at_tokens_per_day or scenario.volume.daily_tokens
    return reference if reference > 0 else None


def _fleet_count(op: OnPremOption, reference: float):
    """Servers of a stated fleet at ``t`` tokens/day: ``max(servers, ceil(t x u x servers / T0))``,
    in that order so that a volume of exactly k x T0 / (u x servers) counts k (as the workbook)."""
    u, stated = op.utilization, op.servers

    def count(t: float) -> int:
        return max(stated, f.whole_units(t * u * stated / reference))  # type: ignore[operator]

    count.key = ("fleet", u, stated, reference)  # type: ignore[attr-defined]  # what the counts depend on (base.unit_counts)
    return count


def servers_at(scenario: "Scenario", op: OnPremOption, t: float) -> tuple[int, float]:
    """(servers, average utilization) at ``t`` tokens/day: sized from the capacity, or the stated
    fleet, grown as the volume passes its capacity, at its utilization scaled by volume."""
    tps = server_tps(op)
    if tps is None:
        reference = fleet_reference(scenario, op)
        u = op.utilization * t / (reference or volume_basis(scenario))  # type: ignore[operator]
        if reference is None:
            return op.servers, u  # type: ignore[return-value]
        n = _fleet_count(op, reference)(t)
        return n, u * (op.servers / n)  # type: ignore[operator]  # x 1.0 while the stated fleet suffices
    return f.deployments(t, tps, op.peak_to_average, op.target_utilization, op.redundancy, op.hidden.retry_rate(op.retry_rate))


def breakdown(scenario: "Scenario", op: OnPremOption, t: float, price_factor: float) -> Breakdown:
    unit = _Unit(scenario, op)
    n, u = servers_at(scenario, op, t)
    notes = [f"{op.id}: {NO_VOLUME}."] if op.servers is not None and fleet_reference(scenario, op) is None else []
    load = n * unit.energy * (1.0 - op.idle_power_share) * u
    amounts = {
        "capital": n * unit.capital,
        "maintenance": n * unit.maintenance,
        "power_idle": n * unit.power_idle,
        "power_load": load,
        "facilities": n * unit.facilities,
        **operation_amounts(op),
    }
    items = [LINE_ITEMS[k](amounts[k]) for k in LINE_ITEMS] + hidden_items(scenario, op.id, op.hidden, t)
    total = sum(i.amount for i in items)
    details = {
        "servers": float(n), "gpus": float(n * op.gpus_per_server), "utilization": u,  # type: ignore[operator]
        "capex_per_server": unit.cost, "capex_installed": n * unit.cost, "residual_per_server": unit.residual,
        "life_months": float(unit.life), "capital_per_server_monthly": unit.capital,
        "capex_monthly": n * unit.capital, "opex_monthly": total - n * unit.capital,
        "depreciation_monthly": n * unit.depreciation, "interest_monthly": n * (unit.capital - unit.depreciation),
        "idle_monthly": n * unit.fixed * (1.0 - u),
        "site_kw_average": n * unit.site_kw * (op.idle_power_share + (1.0 - op.idle_power_share) * u),
    }
    tps = server_tps(op)
    if tps is not None:
        details["capacity_tokens_per_day_per_server"] = tps * f.SECONDS_PER_DAY
    elif (reference := fleet_reference(scenario, op)) is not None:
        details["capacity_tokens_per_day_per_server"] = reference / (op.utilization * op.servers)  # type: ignore[operator]
    if op.memory_needed_gb is not None and op.memory_available_gb is not None:
        details.update(memory_needed_gb=op.memory_needed_gb, memory_available_gb=op.memory_available_gb)
    return Breakdown(items, op.setup_cost + op.migration_cost, 0.0, details, notes)


def stepping(scenario: "Scenario", op: OnPremOption) -> Optional[Step]:
    """Servers as a step function of volume (see ``base.Step``): sized from a capacity, or a
    stated fleet of ``servers`` that grows past its capacity (None when that capacity is unknown)."""
    tps = server_tps(op)
    if tps is None:
        reference = fleet_reference(scenario, op)
        if reference is None:
            return None
        return Step(reference / (op.utilization * op.servers), 1.0, _Unit(scenario, op).fixed,  # type: ignore[operator]
                    _fleet_count(op, reference), minimum=op.servers)  # type: ignore[arg-type]
    unit = _Unit(scenario, op)
    width = tps * op.target_utilization * f.SECONDS_PER_DAY / ((1.0 + op.hidden.retry_rate(op.retry_rate)) * op.peak_to_average)
    return Step(width, op.redundancy, unit.fixed, _server_count(op, tps))


def _server_count(op: OnPremOption, tps: float):
    """Servers sized from a capacity at ``t`` tokens/day (as ``functions.deployments`` counts
    them), with the inputs checked once rather than per call."""
    retry = op.hidden.retry_rate(op.retry_rate)
    f.deployments(0.0, tps, op.peak_to_average, op.target_utilization, op.redundancy, retry)
    return f.instance_counter(tps, op.peak_to_average, op.target_utilization, op.redundancy, 1.0 + retry)


def cash_flows(scenario: "Scenario", op: OnPremOption, volumes: Sequence[float], counts: Optional[Sequence[int]] = None) -> CashFlows:
    """Cash over the months whose volumes (tokens/day) are given, as a difference from the
    run-rate: the run-rate capital charge of each month's servers is taken out, and in its place
    (times in months from the start; month m runs from time m - 1 to time m):

    - servers needed in month m and not owned are bought at time m - 1 (price x (1 + install));
    - a server reaches its end of life ``L`` months after it was bought: its residual is received
      then, and it is replaced (bought again) if the month that starts then needs it; servers
      not needed any more (volume fell) are kept, not sold early, until their end of life;
    - at the horizon end N, the servers still owned are credited at their straight-line book
      value (installed price down to the residual over the life): the terminal value.

    Flows at time 0 go to the one-time costs, at time m to month m (discounted as month m).
    ``counts``: the servers in use at those volumes when already counted (its step's counts)."""
    unit = _Unit(scenario, op)
    counts = _counts(scenario, op, volumes) if counts is None else counts
    return _cash_of_counts(unit, tuple(counts))


@lru_cache(maxsize=1024)
def _cash_of_counts(unit: "_UnitFigures", counts: tuple[int, ...]) -> CashFlows:
    """:func:`cash_flows` given the servers in use each month: a pure function of one server's
    figures (one object per inputs, ``_unit_figures``) and the counts, computed once for them
    (the flip search and the tornado re-read an option whose servers a driver does not move)."""
    n_months = len(counts)
    flows = [0.0] * (n_months + 1)
    bought = [0] * n_months  # servers bought at time 0 .. N-1
    owned = 0
    capex = residual = 0.0
    for m in range(1, n_months + 1):
        time = m - 1
        retired = bought[time - unit.life] if time >= unit.life else 0  # bought a life ago: end of life now
        if retired:
            flows[time] -= retired * unit.residual
            residual += retired * unit.residual
            owned -= retired
        short = counts[m - 1] - owned
        if short > 0:
            flows[time] += short * unit.cost
            capex += short * unit.cost
            bought[time] = short
            owned += short
    terminal = 0.0
    for time, k in enumerate(bought):
        age = n_months - time
        if not k or age > unit.life:
            continue  # none bought, or retired within the horizon
        if age == unit.life:
            flows[n_months] -= k * unit.residual
            residual += k * unit.residual
        else:  # functions.straight_line_book_value(cost, residual, life, age), inputs checked once
            value = k * (unit.cost - (unit.cost - unit.residual) * age / unit.life)
            flows[n_months] -= value
            terminal += value
    for m, n in enumerate(counts, start=1):
        flows[m] -= n * unit.capital
    in_use = sum(counts)
    return CashFlows(
        at_start=flows[0], by_month=tuple(flows[1:]), capex=capex, residual_received=residual, terminal_value=terminal,
        run_rate_capital=in_use * unit.capital, depreciation=in_use * unit.depreciation,
        interest=in_use * (unit.capital - unit.depreciation), units_bought=tuple(bought),
    )


def _counts(scenario: "Scenario", op: OnPremOption, volumes: Sequence[float]) -> list[int]:
    """Servers in use at each volume (as servers_at; the inputs are checked once, not per month)."""
    tps = server_tps(op)
    if tps is not None:
        count = _server_count(op, tps)
    elif (reference := fleet_reference(scenario, op)) is not None:
        count = _fleet_count(op, reference)
    else:
        return [op.servers] * len(volumes)  # type: ignore[list-item]
    return unit_counts(count, volumes)


def drivers(op: OnPremOption) -> list[OptionDriver]:
    out = [field_driver("server_price", "Server (GPU) price", "server_price", linear=True)]
    if op.servers is None:
        capacity = "capacity_tokens_per_day" if op.capacity_tokens_per_day is not None else "tokens_per_second_per_gpu"
        out += [field_driver("throughput", "Server throughput", capacity),
                field_driver("utilization", "Target GPU utilization", "target_utilization", 1.0, sizes_only=True)]
    else:
        out.append(field_driver("utilization", "Server utilization", "utilization", 1.0))
    return out + [field_driver("power_price", "Electricity price", "power_price_per_kwh", linear=True),
                  field_driver("fte", "MLOps headcount (FTE)", "fte", linear=True),
                  field_driver("fte_cost", "Loaded cost per FTE", "fte_annual_cost", linear=True)]


def anchored(scenario: "Scenario", op: OnPremOption) -> OnPremOption:
    """The option with the volume its stated utilization holds at made explicit, so that a copy
    of the scenario at another volume keeps today's fleet (the sensitivity's volume driver)."""
    return anchor_utilization(op, fleet_reference(scenario, op))


KIND = Kind(
    name="on_prem", label="On-prem", model=OnPremOption, line_items=LINE_ITEMS, breakdown=breakdown,
    drivers=drivers, prices_tokens=False, follows_api_price_decline=False, stepping=stepping, anchored=anchored,
    cash=cash_flows,
)

"""What every option kind shares: the option's identity, its line items as data, the hidden
costs every option carries, and the description of a kind the registry holds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Sequence

from pydantic import Field, field_validator

from .. import functions as f
from ..common import HiddenCosts, StrictModel
from ..errors import InputError

if TYPE_CHECKING:  # the scenario imports the kinds; the kinds only need its type
    from ..scenario import Scenario

# Sections of a scenario: an option id may not shadow them, because ``<id>.<field>`` is how a
# field of an option is addressed everywhere (errors, key/value ranges, batch columns).
RESERVED_IDS = frozenset({"name", "owner_email", "notes", "volume", "options", "context", "horizon", "sensitivity", "rules", "hybrid"})
_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class OptionBase(StrictModel):
    """An option of a scenario: its ``id`` names it in every output."""

    id: str = Field(..., description="Unique name of the option in this scenario, e.g. frontier, own-gpus.")
    label: Optional[str] = Field(None, max_length=40, description="Name shown to readers (default: the kind's name, or the id).")

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("expected lowercase letters, digits, '-' or '_', starting with a letter (at most 32)")
        if value in RESERVED_IDS:
            raise ValueError(f"a name that is not a scenario section ({', '.join(sorted(RESERVED_IDS))})")
        return value


class Item(NamedTuple):
    """One line item's amount at one volume (a tuple: built thousands of times per evaluation)."""

    key: str
    label: str
    amount: float
    hidden: bool
    variable: bool


@dataclass(frozen=True)
class LineItemSpec:
    """A line item an option kind produces: what it is called, whether it is below the waterline
    (not on the vendor/GPU invoice), whether it grows with volume, whether it is token spend."""

    key: str
    label: str
    hidden: bool
    variable: bool
    token: bool = False

    def __call__(self, amount: float) -> Item:
        return Item(self.key, self.label, amount, self.hidden, self.variable)


def items_by_key(*specs: LineItemSpec) -> dict[str, LineItemSpec]:
    return {s.key: s for s in specs}


# What running your own hardware adds, rented or bought (self-hosted and on-prem; the workbook's
# blocks.operations writes the same lines), after the kind's hardware items.
OPERATION_ITEMS = items_by_key(
    LineItemSpec("people", "People (MLOps)", True, False),
    LineItemSpec("ops_tooling", "Ops tooling", True, False),
    LineItemSpec("storage", "Storage", True, False),
    LineItemSpec("egress", "Egress", True, False),
)


def operation_amounts(option: Any) -> dict[str, float]:
    """USD/month of the OPERATION_ITEMS of an option that runs its own hardware."""
    return {"people": f.people_monthly(option.fte, option.fte_annual_cost), "ops_tooling": option.ops_tooling_monthly,
            "storage": option.storage_monthly, "egress": option.egress_monthly}


# Every option carries these (seed 000/002's costs below the waterline), after its own items.
HIDDEN_ITEMS = items_by_key(
    LineItemSpec("human_review", "Human review", True, True),
    LineItemSpec("tool_calls", "Tool calls", True, True),
    LineItemSpec("observability", "Observability", True, False),
    LineItemSpec("vector_db", "Vector DB / storage", True, False),
    LineItemSpec("evaluation", "Evaluation", True, False),
    LineItemSpec("gateway", "Gateway", True, False),
)


@dataclass(frozen=True)
class Breakdown:
    items: list[Item]
    one_time: float
    token_cost: float
    details: dict[str, float]
    notes: list[str]

    @property
    def total(self) -> float:
        return sum(i.amount for i in self.items)


@dataclass(frozen=True)
class OptionDriver:
    """A sensitivity driver that lives in one option: read it, or a copy of the option with it set."""

    name: str
    label: str
    get: Callable[[Any], Optional[float]]
    set: Callable[[Any, float], Any]
    ceiling: Optional[float] = None  # fractions stop at 1
    # it moves only how much volume one unit carries (the Step's width and count), never what a
    # unit or anything else costs: a cost curve at another value is today's with its step re-read
    # (curve.restepped), which the flip search uses instead of a breakdown per value
    sizes_only: bool = False
    # every amount the option costs (each line item, one-time cost, unit cost and hardware cash
    # flow) is affine in the value and no unit count moves with it (a price, a headcount, a salary):
    # a cost curve at any value lies on the line through its curves at two values (curve.along),
    # which the tornado and the flip search read instead of a breakdown per value
    linear: bool = False


def field_driver(name: str, label: str, field_name: str, ceiling: Optional[float] = None, sizes_only: bool = False,
                 linear: bool = False) -> OptionDriver:
    return OptionDriver(name, label, lambda o: getattr(o, field_name),
                        lambda o, v: o.model_copy(update={field_name: v}), ceiling, sizes_only, linear)


@dataclass(frozen=True)
class Step:
    """How an option's cost steps with volume: ``count(t)`` units (GPU instances, servers) at
    ``cost`` USD/month each. The count is ``ceil(max(minimum, ceil(t / width)) * redundancy)``
    (``minimum``: 1, or a stated fleet's servers, with redundancy 1), so it changes only at
    multiples of ``width`` and lies between ``redundancy * t / width`` and ``redundancy * (t /
    width + minimum) + 1``: the envelope the break-even search stops by."""

    width: float  # tokens/day one more base unit carries
    redundancy: float
    cost: float  # USD/month per unit
    count: Callable[[float], int]  # never falls as volume rises (curve.unit_counts relies on it)
    minimum: int = 1  # units below any volume (1, or a stated fleet's servers)

    @property
    def band(self) -> float:
        """Height of the envelope: how far the stepped cost can sit above its lower line."""
        return self.cost * (self.redundancy * self.minimum + 1.0)

    @property
    def line_slope(self) -> float:
        """Slope of the envelope's lower line, USD/month per token/day."""
        return self.cost * self.redundancy / self.width


def unit_counts(count: Callable[[float], int], volumes: Sequence[float]) -> list[int]:
    """``[count(t) for t in volumes]`` for a unit count that never falls as volume rises
    (``Step.count``), calling it only where it may change: where the volumes only rise or only
    fall (a horizon's months) and units are added in few of them, a run whose two ends have the
    same count has that count throughout, so runs are skipped in growing strides and walked month
    by month where units are added. Exact; otherwise counted month by month. A count that names
    what it depends on (``count.key``: its inputs) is counted once for the same volumes (the flip
    search and the tornado re-read an option whose unit count a driver does not move)."""
    key = getattr(count, "key", None)
    if key is not None and isinstance(volumes, tuple):
        return list(_counted(_Keyed(count, key), volumes))
    return _unit_counts(count, volumes)


class _Keyed:
    """A count function compared by what it depends on (its ``key``), for :func:`_counted`."""

    __slots__ = ("count", "key")

    def __init__(self, count: Callable[[float], int], key: tuple):
        self.count, self.key = count, key

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Keyed) and self.key == other.key


@lru_cache(maxsize=2048)
def _counted(count: _Keyed, volumes: tuple[float, ...]) -> tuple[int, ...]:
    return tuple(_unit_counts(count.count, volumes))


def _unit_counts(count: Callable[[float], int], volumes: Sequence[float]) -> list[int]:
    n = len(volumes)
    many = getattr(count, "many", None)  # a count that also counts a list in one loop (functions.instance_counter)
    if n < 4:
        return many(volumes) if many else [count(t) for t in volumes]
    first, last = count(volumes[0]), count(volumes[-1])
    pairs = list(zip(volumes, volumes[1:]))
    if abs(last - first) * 4 >= n or not (all(a <= b for a, b in pairs) or all(a >= b for a, b in pairs)):
        # units added in most months (nothing to skip), or volumes in no order: month by month
        return many(volumes) if many else [first] + [count(t) for t in volumes[1:-1]] + [last]
    out = [first] * n
    known = {n - 1: last}
    i, stride, current = 0, 1, first
    while i < n - 1:
        j = min(i + stride, n - 1)
        at_j = known[j] if j in known else known.setdefault(j, count(volumes[j]))
        if at_j == current:  # the same at both ends: the same between (already filled from i on)
            i, stride = j, stride * 2
        elif j == i + 1:
            out[j:] = [at_j] * (n - j)
            i, stride, current = j, 1, at_j
        else:
            stride = (j - i) // 2
    return out


@dataclass(frozen=True)
class CashFlows:
    """How an option's cash over the horizon differs from its monthly run-rate (a kind that buys
    hardware: the run-rate spreads the purchase as a capital charge, cash pays it when it is
    bought). ``at_start`` is added to month 0 (the one-time costs), ``by_month[m - 1]`` to month
    m; the TCO series and the fast NPV of ``curve.horizon_npv`` both add exactly these, so they
    agree. The other fields state what the flows are made of, nominal USD over the horizon."""

    at_start: float
    by_month: tuple[float, ...]
    capex: float  # purchases (price + installation), month 0 and later
    residual_received: float  # residual values received at each end of life
    terminal_value: float  # book value at the horizon end, credited in month N
    run_rate_capital: float  # the run-rate capital charge the cash view replaces
    depreciation: float  # P&L view: straight-line depreciation of the units in use, month by month
    interest: float  # P&L view: the rest of the capital charge (cost of capital)
    units_bought: tuple[int, ...]  # units bought at month 0, 1, ..., N - 1 (month 0 included)


@dataclass(frozen=True)
class Kind:
    """An option kind as the registry holds it (see ``kinds/__init__.py``)."""

    name: str
    label: str
    model: type
    line_items: dict[str, LineItemSpec]  # the kind's own items, in order; HIDDEN_ITEMS follow
    breakdown: Callable[["Scenario", Any, float, float], Breakdown]
    drivers: Callable[[Any], list[OptionDriver]]
    prices_tokens: bool  # token spend per 1M tokens is meaningful (blended price)
    follows_api_price_decline: bool  # the horizon's API price decline applies to its token prices
    stepping: Callable[["Scenario", Any], Optional[Step]] = field(default=lambda scenario, option: None)  # None: cost affine in volume
    third_party: bool = False  # its data goes to a vendor (strict privacy excludes it unless marked private)
    horizon_notes: Callable[["Scenario", Any], list[str]] = field(default=lambda scenario, option: [])  # warnings over the horizon
    # the option with what it derives from today's volume made explicit, for a copy of the scenario at another volume
    anchored: Callable[["Scenario", Any], Any] = field(default=lambda scenario, option: option)
    # A kind that buys hardware: its cash over the horizon given the month volumes (tokens/day of
    # months 1..N) and, when already counted, its units in use in them (its step's counts), as a
    # difference from its run-rate (see CashFlows); None: cash is the run-rate.
    cash: Optional[Callable[..., CashFlows]] = None

    def sends_data_out(self, option: Any) -> bool:
        """Whether the option sends data to a third party: its kind does and it is not marked private."""
        return self.third_party and not getattr(option, "private", False)

    @property
    def all_line_items(self) -> dict[str, LineItemSpec]:
        return {**self.line_items, **HIDDEN_ITEMS}


def anchor_utilization(option: Any, reference: Optional[float]) -> Any:
    """``option`` with the volume its stated utilization holds at (``reference``) made explicit, so
    that a copy of the scenario at another volume keeps today's hardware (the sensitivity's volume
    driver); unchanged without a reference or when the volume is already stated."""
    if reference is None or option.utilization_at_tokens_per_day is not None:
        return option
    return option.model_copy(update={"utilization_at_tokens_per_day": reference})


def requests_per_month(scenario: "Scenario", tokens_per_day: float) -> Optional[float]:
    """Requests per month at a volume, holding the request size fixed; None without a size."""
    size = scenario.volume.request_size
    if size is None:
        return None
    return f.monthly_tokens(tokens_per_day, scenario.volume.days_per_month) / size


REVIEW_WITH_FAILURES = "Human review + failed tasks"


@dataclass(frozen=True)
class TaskVolumes:
    """What failures add, a month, at one volume: tasks (requests), attempts, retried attempts and
    the tasks a person handles because the model failed (see HiddenCosts.success_rate)."""

    tasks: float
    attempts_per_task: float
    retries: float
    failed_to_people: float


def task_volumes(scenario: "Scenario", hidden: HiddenCosts, tokens_per_day: float) -> Optional[TaskVolumes]:
    """The option's task volumes at a volume; None when the volume has no request count."""
    n = requests_per_month(scenario, tokens_per_day)
    if n is None:
        return None
    a = hidden.attempts_per_task
    return TaskVolumes(n, a, n * (a - 1.0), n * hidden.failed_to_people_share)


def hidden_items(scenario: "Scenario", option_id: str, hidden: HiddenCosts, tokens_per_day: float) -> list[Item]:
    per_request = hidden.per_request_cost
    requests = requests_per_month(scenario, tokens_per_day)
    if per_request > 0 and requests is None:
        raise InputError(
            "volume.tokens_per_request", None,
            f"a request size (or requests_per_month), because {option_id}.hidden has per-request costs "
            "(review_share, tool_calls_per_request, success_rate below 1)",
        )
    n = requests or 0.0
    h = HIDDEN_ITEMS
    failed = hidden.failed_to_people_share  # 0 for the first of a cascade that escalates its failures
    calls = hidden.tool_calls_per_request
    review = h["human_review"](n * (hidden.review_share + failed) * hidden.review_unit_cost)
    if failed > 0:  # failed tasks a person handles, at the same review cost: one line of people's time
        review = review._replace(label=REVIEW_WITH_FAILURES)
    return [
        review,
        # a retried task runs its tool calls again: paid on every attempt (the attempts factor of the tokens)
        h["tool_calls"](f.tool_calls_cost(n, calls, hidden.price_per_tool_call, hidden.attempts_per_task) if calls else 0.0),
        h["observability"](hidden.observability_monthly),
        h["vector_db"](hidden.vector_db_monthly),
        h["evaluation"](hidden.evaluation_monthly),
        h["gateway"](hidden.gateway_monthly),
    ]


def token_cost(items: list[Item], specs: dict[str, LineItemSpec]) -> float:
    """The token spend among ``items`` (the items whose spec is marked ``token``)."""
    return sum(i.amount for i in items if i.key in specs and specs[i.key].token)

"""What the engine returns. Plain floats in USD (monthly unless named otherwise); never rounded."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .scenario import Scenario


class Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineItem(Result):
    """One row of the iceberg: a cost of one option, per month."""

    key: str = Field(..., description="Stable identifier, e.g. input_tokens, human_review.")
    label: str
    monthly_usd: float
    hidden: bool = Field(..., description="Below the waterline: not on the vendor/GPU invoice.")
    behaviour: Literal["fixed", "variable"] = Field(..., description="variable = proportional to volume.")


class TaskCost(Result):
    """Cost per successful task of one option, and what its failures add (a month, at today's volume).

    Tasks are requests a month, or ``context.outcomes_per_month`` when given (``basis``); the
    successful ones are those the model gets right within its attempts (the others go to a person,
    whose cost is in the total). A composite's (mix, cascade) failed share is its components'
    (``functions.composite_failed_share``); its volumes are the sums of its components'."""

    basis: Literal["requests", "outcomes"] = Field(..., description="What a task is: a request, or a business outcome (context.outcomes_per_month).")
    tasks_per_month: float = Field(..., description="Tasks a month: requests a month, or context.outcomes_per_month.")
    successful_tasks_per_month: float = Field(..., description="Tasks a month the model gets right within its attempts: tasks x (1 - failed share).")
    success_rate: Optional[float] = Field(..., description="First-attempt success rate; None for a composite (its components have theirs).")
    on_failure: Optional[Literal["retry", "human", "escalate"]] = Field(..., description="What a failure costs; None for a composite.")
    attempts_per_task: float = Field(..., description=("Expected attempts per request: (1 - (1 - p)^k) / p when failures are retried "
                                                       "or escalated, else 1; a composite: its components' at their shares, summed."))
    retries_per_month: Optional[float] = Field(None, description="Attempts a month beyond the first, from failed tasks (needs a request count).")
    failed_to_people_per_month: Optional[float] = Field(None, description="Tasks a month a person handles because the model failed (needs a request count).")
    escalated_per_month: Optional[float] = Field(None, description="A cascade: requests a month also sent to its `then` option (escalation share x requests).")
    cost_per_successful_task: float = Field(..., description="Total monthly cost (failures included) / successful tasks a month, USD.")
    failed_share: float = Field(..., description="Share of tasks still failing after every attempt (to a person): (1 - p)^k, or 1 - p without retry.")
    cost_per_request: Optional[float] = Field(None, description="Total monthly cost / requests a month, USD (needs a request count).")


class OptionCost(Result):
    option: str = Field(..., description="The option's id.")
    kind: str = Field(..., description="The option's kind: api, fine_tuned, self_hosted.")
    label: str
    line_items: list[LineItem]
    total_monthly: float
    visible_monthly: float
    hidden_monthly: float
    hidden_share: Optional[float] = Field(None, description="hidden / total; None when the total is 0.")
    fixed_monthly: float
    variable_monthly: float
    one_time_cost: float = Field(..., description="Setup (+ migration) paid at month 0, USD.")
    token_cost_monthly: float = Field(..., description="Spend on tokens incl. retries (API/fine-tuned), or 0.")
    blended_price_per_1m: Optional[float] = Field(
        None, description="Token spend incl. retries per 1M useful tokens (API and fine-tuned)."
    )
    details: dict[str, float] = Field(default_factory=dict, description="Derived figures, e.g. gpus, utilization.")
    notes: list[str] = Field(default_factory=list)
    cost_per_1m_tokens: Optional[float] = Field(None, description="Total monthly cost (all items, hidden included) per 1M tokens of volume; None at a volume of 0.")
    tasks: Optional[TaskCost] = Field(None, description="Cost per successful task, with the volumes failures add; None without a task count.")


class CheaperRange(Result):
    """A volume range in which one option of a pair is the cheaper."""

    from_tokens_per_day: float
    to_tokens_per_day: Optional[float] = Field(None, description="None: no end (beyond the last crossing).")
    option: str


class BreakEven(Result):
    """Where two options cost the same per month, in tokens per day."""

    option_a: str
    option_b: str
    found: bool
    tokens_per_day: Optional[float] = None
    requests_per_month: Optional[float] = None
    monthly_cost: Optional[float] = Field(None, description="Either option's total monthly cost at break-even.")
    api_token_spend: Optional[float] = Field(None, description="The API token bill at break-even (API pairs).")
    current_tokens_per_day: float
    volume_ratio: Optional[float] = Field(None, description="break-even volume / current volume.")
    cheaper_below: Optional[str] = Field(None, description="Option that is cheaper below the (first) break-even volume.")
    crossings: list[float] = Field(default_factory=list, description="Every volume where the cheaper option changes, ascending.")
    ranges: list[CheaperRange] = Field(default_factory=list, description="Which option is cheaper between the crossings.")
    searched_up_to: Optional[float] = Field(
        None, description="Stepped costs: the search stopped at this volume (step limit) before it could prove no later crossing.")
    method: Literal["closed_form", "piecewise", "none"]
    reason: str


class Payback(Result):
    option: str
    versus: str
    one_time_cost: float
    monthly_saving: float
    months: Optional[float] = None
    reason: str


class CapitalView(Result):
    """Bought hardware over the horizon (on-prem): what the cash series is made of, beside the
    P&L view of the same servers. Nominal USD over the horizon."""

    capex: float = Field(..., description="Servers paid when bought (price + installation): month 0, growth and refreshes.")
    residual_received: float = Field(..., description="Residual values received at each end of life (reduces cost).")
    terminal_value: float = Field(..., description="Straight-line book value of the servers still owned at the horizon end, credited in the last month.")
    run_rate_capital: float = Field(..., description="The run-rate capital charge (annuity) of the servers in use, which the cash series replaces.")
    depreciation: float = Field(..., description="P&L view: straight-line depreciation of the servers in use.")
    interest: float = Field(..., description="P&L view: the cost of capital (run-rate capital charge less depreciation).")
    units_bought: list[int] = Field(..., description="Servers bought at month 0, 1, ..., N-1 (growth and refreshes).")


class TcoSeries(Result):
    option: str
    months: int
    monthly: list[float] = Field(..., description="Cost in month 1..N.")
    cumulative: list[float] = Field(..., description="Cumulative cost after month 0..N (month 0 = one-time costs).")
    one_time_cost: float
    total: float
    npv: float
    capital: Optional[CapitalView] = Field(None, description="Bought hardware: capex, residuals and terminal value in the cash series, and the P&L view.")


class Crossover(Result):
    option: str
    versus: str
    month: Optional[int] = Field(None, description="First month whose cumulative cost is <= the other's.")
    reason: str


class Reason(Result):
    rule: str
    effect: Literal["excludes", "blocks", "favours", "against", "decides", "info"]
    option: Optional[str] = Field(None, description="The option id the reason is about (a kind name when the scenario has no option of that kind).")
    text: str


class Recommendation(Result):
    option: str = Field(..., description="Id of the recommended option, or hybrid.")
    label: str
    cheapest_option: str = Field(..., description="Cheapest option of all by horizon cost (NPV), eligible or not.")
    cheapest_allowed_option: str = Field(..., description="Cheapest option the hard constraints (privacy) allow.")
    runner_up: Optional[str] = Field(None, description="Second-cheapest allowed option.")
    horizon_costs: dict[str, float] = Field(..., description="NPV over the horizon per option.")
    allowed_options: list[str] = Field(..., description="The options the hard constraints (privacy) leave eligible.")
    margin: Optional[float] = Field(
        None, description="(runner-up - cheapest allowed) / runner-up horizon cost: the share of the dearer option saved.")
    close_call: bool
    reasons: list[Reason]


class SensitivityRow(Result):
    driver: str
    option: Optional[str] = Field(None, description="Id of the option the driver belongs to (None: scenario-wide).")
    label: str
    base_value: float
    low_value: float
    high_value: float
    totals_low: dict[str, float]
    totals_high: dict[str, float]
    npv_low: dict[str, float] = Field(default_factory=dict, description="Horizon cost (NPV) per option at the low value.")
    npv_high: dict[str, float] = Field(default_factory=dict, description="Horizon cost (NPV) per option at the high value.")
    breakeven_low: Optional[float] = None
    breakeven_high: Optional[float] = None
    note: str = ""


class FlipPoint(Result):
    """Where a driver would change the cheapest allowed option over the horizon."""

    driver: str
    option: Optional[str] = Field(None, description="Id of the option the driver belongs to (None: scenario-wide).")
    label: str
    base_value: float
    searched_low: float
    searched_high: float
    value: Optional[float] = Field(None, description="Nearest value at which the cheapest allowed option changes; None: not within the range.")
    to_option: Optional[str] = Field(None, description="The option that becomes the cheapest there.")


class SensitivityGrid(Result):
    """Which of an API and a self-hosted option is cheaper over utilization x volume (self-hosted
    simple mode utilization or capacity-mode target utilization)."""

    api_option: str = Field(..., description="Id of the API option compared.")
    self_hosted_option: str = Field(..., description="Id of the self-hosted option compared.")
    utilizations: list[float]
    tokens_per_day: list[float]
    cheaper: list[list[str]] = Field(..., description="[utilization][volume] -> option id.")
    difference: list[list[float]] = Field(..., description="self-hosted - API monthly total, USD.")


class OutcomeCost(Result):
    option: str
    outcome_name: str
    outcomes_per_month: float
    cost_per_outcome: float
    benchmarks: dict[str, float] = Field(default_factory=dict, description="Published per-outcome prices, USD.")


class SplitPoint(Result):
    """One point of a mix's cost curve over the split."""

    share: float = Field(..., description="Share of the traffic to the curve's axis option (BestSplit.axis), 0-1.")
    route: dict[str, float] = Field(..., description="The whole route at this point: share per option id.")
    npv: float = Field(..., description="Horizon cost (NPV) of the mix at this route, USD.")
    monthly: float = Field(..., description="Today's monthly cost of the mix at this route, USD.")
    feasible: bool = Field(..., description="Whether the route meets the mix's constraints (in-house and quality shares).")


class BestSplit(Result):
    """The cheapest route of a mix over the horizon (NPV) under its constraints, and its cost curve."""

    option: str = Field(..., description="Id of the mix option.")
    axis: str = Field(..., description="The option whose share the curve varies (the mix's first component).")
    route: dict[str, float] = Field(..., description="The cheapest route: share per option id.")
    npv: float = Field(..., description="Horizon cost (NPV) at the cheapest route, USD.")
    monthly: float = Field(..., description="Today's monthly cost at the cheapest route, USD.")
    method: Literal["exact", "grid"] = Field(..., description="exact: every capacity step searched (two options); grid: 1% grid and refinement.")
    given_route: dict[str, float] = Field(..., description="The route as the scenario gives it.")
    given_npv: float
    given_monthly: float
    pure_npv: dict[str, float] = Field(..., description="NPV of sending all traffic to one option, for each the constraints allow.")
    curve: list[SplitPoint]


class Evaluation(Result):
    scenario: Scenario
    options: dict[str, OptionCost]
    breakeven: BreakEven = Field(..., description="API vs self-hosted (or API vs fine-tuned without self-hosting).")
    breakevens: list[BreakEven]
    paybacks: list[Payback]
    tco: dict[str, TcoSeries]
    crossovers: list[Crossover]
    recommendation: Recommendation
    sensitivity: list[SensitivityRow]
    flips: list[FlipPoint] = Field(default_factory=list, description="Per driver, where the cheapest allowed option changes.")
    grid: Optional[SensitivityGrid] = None
    outcome_costs: list[OutcomeCost] = Field(default_factory=list)
    splits: list[BestSplit] = Field(default_factory=list, description="Per mix option: the cheapest split and the cost curve over the split.")
    notes: list[str] = Field(default_factory=list)

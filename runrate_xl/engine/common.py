"""Input building blocks shared by the scenario and every option kind: the strict base model,
fraction and utilization types, long-context price tiers and the hidden costs of an option."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from . import functions as f
from .errors import magnitude_problem, short_repr


def _fraction(value: float) -> float:
    # pydantic re-raises this with the field's location; the text carries the "use 0.8" hint.
    if 0 <= value <= 1:
        return value
    hint = f" (use {value / 100:g})" if 1 < value <= 100 else ""
    raise ValueError(f"expected a fraction between 0 and 1{hint}")


def _utilization(value: float) -> float:
    if value <= 0 or value > 1:
        hint = f" (use {value / 100:g})" if 1 < value <= 100 else ""
        raise ValueError(f"expected a utilization > 0 and <= 1{hint}")
    return value


Fraction = Annotated[float, AfterValidator(_fraction)]
Utilization = Annotated[float, AfterValidator(_utilization)]
Usd = Annotated[float, Field(ge=0)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)

    # Every number is checked where it enters (engine.errors.magnitude_problem): a 400-digit
    # integer or 1e308 fails naming its own field, never an internal result further on. An
    # integer is checked before pydantic converts it (a 400-digit one would overflow float());
    # at the model level, because a field-level "before" check is not allowed on an option's
    # discriminator field (kind).
    @model_validator(mode="before")
    @classmethod
    def _integers_enter(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(_too_big(v) for v in data.values()):
            data = {k: OutOfRange(v) if _too_big(v) else v for k, v in data.items()}
        return data

    @field_validator("*", mode="after")
    @classmethod
    def _number_entered(cls, value):
        problem = magnitude_problem(value) if isinstance(value, float) else ""
        if problem:
            raise ValueError(problem)
        return value


def _too_big(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and bool(magnitude_problem(value))


class OutOfRange:
    """Stands in for an input integer beyond the magnitude bound, so that the field's own
    validation refuses it (with the field's location); shown as ``short_repr`` shows the value."""

    def __init__(self, value: int):
        self.shown = short_repr(value)
        self.problem = magnitude_problem(value)

    def __repr__(self) -> str:
        return self.shown


class PriceTier(StrictModel):
    """Long-context pricing: when a request's input exceeds ``above_input_tokens``, the whole
    request is priced at this tier (the "cliff" model providers use)."""

    above_input_tokens: int = Field(..., gt=0, description="Input tokens per request above which this tier applies.")
    input_price_per_1m: Usd = Field(..., description="USD per 1M input tokens in this tier.")
    output_price_per_1m: Usd = Field(..., description="USD per 1M output tokens in this tier.")


class HiddenCosts(StrictModel):
    """The costs below the waterline for one option (seed 000/002: review, observability, ...)."""

    review_share: Fraction = Field(0.0, description="Share of requests a human reviews (seed 000: 5-10%).")
    cost_per_review: Optional[float] = Field(
        None, ge=0, description="USD per human review (seed 000: $5-$10). Or give minutes x hourly rate."
    )
    review_minutes: Optional[float] = Field(None, ge=0, description="Minutes per review (seed 002: 3 min).")
    reviewer_hourly_rate: Optional[float] = Field(None, ge=0, description="Reviewer cost, USD per hour.")
    observability_monthly: Usd = Field(0.0, description="Observability / tracing, USD per month (seed 000: $1k-$5k).")
    tool_calls_per_request: float = Field(0.0, ge=0, description=("Third-party tool/API calls per request, paid on every "
                                                                   "attempt (a retried task runs its tool calls again)."))
    price_per_tool_call: Usd = Field(0.0, description="USD per tool call.")
    vector_db_monthly: Usd = Field(0.0, description="Vector database / embeddings storage, USD per month.")
    evaluation_monthly: Usd = Field(0.0, description="Evaluation and quality monitoring, USD per month.")
    gateway_monthly: Usd = Field(0.0, description="API gateway / routing, USD per month.")
    success_rate: float = Field(
        1.0, gt=0, le=1, description=("Share of tasks the option gets right at the first attempt (default 1: no failures). "
                                      "Failures cost retried tokens and a person's time at the review cost."))
    on_failure: Literal["retry", "human", "escalate"] = Field(
        "retry", description=("What happens to a failed task: retry (tried again, up to max_attempts in all; tasks still "
                              "failing go to a person), human (a person handles it at the review cost) or escalate (tried up "
                              "to max_attempts in all, then sent to the `then` option of a cascade whose `first` this option "
                              "is; on its own, outside a cascade, a person handles it at the review cost)."))
    max_attempts: int = Field(2, ge=1, le=5, description="on_failure retry or escalate: attempts per task at most, the first included.")
    # Set on the copy a cascade runs as its ``first`` when on_failure is escalate (see ``escalating``):
    # the tasks still failing go to the cascade's ``then`` option, not to a person. Not an input.
    _escalated: bool = PrivateAttr(default=False)

    @model_validator(mode="after")
    def _review_cost_is_defined(self) -> "HiddenCosts":
        by_minutes = self.review_minutes is not None or self.reviewer_hourly_rate is not None
        if self.cost_per_review is not None and by_minutes:
            raise ValueError("give cost_per_review or review_minutes with reviewer_hourly_rate, not both")
        if by_minutes and (self.review_minutes is None or self.reviewer_hourly_rate is None):
            raise ValueError("review_minutes and reviewer_hourly_rate go together")
        if self.review_share > 0 and self.cost_per_review is None and not by_minutes:
            raise ValueError("review_share > 0 needs cost_per_review (or review_minutes and reviewer_hourly_rate)")
        if self.success_rate < 1 and self.cost_per_review is None and not by_minutes:
            raise ValueError("success_rate < 1 needs cost_per_review (or review_minutes and reviewer_hourly_rate): "
                             "tasks that still fail go to a person at the review cost")
        return self

    @property
    def attempts_per_task(self) -> float:
        """Expected attempts per task (1 unless failures are retried): ``(1 - (1 - p)^k) / p``."""
        if self.on_failure == "human":
            return 1.0
        return f.expected_attempts(self.success_rate, self.max_attempts)

    @property
    def failed_share(self) -> float:
        """Share of tasks still failing after every attempt: ``(1 - p)^k`` (retry, escalate), ``1 - p`` (human)."""
        return f.failed_share(self.success_rate, 1 if self.on_failure == "human" else self.max_attempts)

    @property
    def escalated(self) -> bool:
        """Whether the failed tasks go to a cascade's ``then`` option (not to a person): set by ``escalating``."""
        return self._escalated

    def escalating(self) -> "HiddenCosts":
        """A copy whose failed tasks go to a cascade's ``then`` option instead of a person (on_failure escalate,
        as a cascade's ``first``): the same attempts and retried tokens, no review cost for the failures."""
        if self.on_failure != "escalate":
            raise ValueError(f"on_failure is {self.on_failure}, not escalate")
        copy = self.model_copy()
        copy._escalated = True
        return copy

    @property
    def failed_to_people_share(self) -> float:
        """Share of tasks a person handles because the model failed (at the review cost): the failed
        share, or 0 when they are escalated to a cascade's ``then`` option (see ``escalating``)."""
        return 0.0 if self._escalated else self.failed_share

    def retry_rate(self, retry_rate: float) -> float:
        """The option's extra tokens with the failed tasks' attempts included (see functions.retry_rate_with_attempts)."""
        return f.retry_rate_with_attempts(retry_rate, self.attempts_per_task)

    @property
    def review_unit_cost(self) -> float:
        if self.cost_per_review is not None:
            return self.cost_per_review
        if self.review_minutes is not None and self.reviewer_hourly_rate is not None:
            return self.review_minutes / 60.0 * self.reviewer_hourly_rate
        return 0.0

    @property
    def per_request_cost(self) -> float:
        """USD per request of the per-request hidden items (review, tool calls on every attempt)."""
        return ((self.review_share + self.failed_to_people_share) * self.review_unit_cost
                + f.tool_calls_cost(1.0, self.tool_calls_per_request, self.price_per_tool_call, self.attempts_per_task))

    @property
    def fixed_monthly(self) -> float:
        return self.observability_monthly + self.vector_db_monthly + self.evaluation_monthly + self.gateway_monthly

"""The inputs of a cost scenario, as strict pydantic models.

Units are in the field names (``_monthly`` = USD per month, ``_per_1m`` = USD per million
tokens, ``_share`` / ``utilization`` = fraction 0-1). Defaults come from the seed articles and
say so in their descriptions. Every model forbids unknown fields, NaN and infinities.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import magnitude_problem


OptionName = Literal["api", "fine_tuned", "self_hosted"]
RecommendationName = Literal["api", "fine_tuned", "self_hosted", "hybrid"]
OPTIONS: tuple[str, ...] = ("api", "fine_tuned", "self_hosted")
OPTION_LABELS = {
    "api": "API",
    "fine_tuned": "Fine-tuned",
    "self_hosted": "Self-hosted",
    "hybrid": "Hybrid",
}


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
    # integer or 1e308 fails naming its own field, never an internal result further on.
    @field_validator("*", mode="before")
    @classmethod
    def _number_enters(cls, value):
        if isinstance(value, int) and not isinstance(value, bool):
            problem = magnitude_problem(value)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _number_entered(cls, value):
        problem = magnitude_problem(value) if isinstance(value, float) else ""
        if problem:
            raise ValueError(problem)
        return value


class Volume(StrictModel):
    """How much the workload uses, now. Give tokens_per_day, or requests_per_month with
    tokens_per_request (any two of the three; all three must agree)."""

    tokens_per_day: Optional[float] = Field(None, ge=0, description="Tokens per day (input + output).")
    requests_per_month: Optional[float] = Field(
        None, ge=0, description="Requests (inferences) per month."
    )
    tokens_per_request: Optional[float] = Field(
        None, gt=0, description="Average tokens per request (input + output)."
    )
    input_share: Fraction = Field(0.8, description="Share of tokens that are input (seed 003: 80%).")
    days_per_month: float = Field(
        30.0, gt=0, le=31, description="Days per month (seed 003's formula uses 30)."
    )
    monthly_growth: float = Field(
        0.0, ge=-0.5, le=1.0, description="Volume growth per month, fraction (0.05 = +5%/month)."
    )

    @model_validator(mode="after")
    def _one_consistent_volume(self) -> "Volume":
        t, r, k = self.tokens_per_day, self.requests_per_month, self.tokens_per_request
        given = sum(v is not None for v in (t, r, k))
        if t is None and (r is None or k is None):
            raise ValueError(
                "volume needs tokens_per_day, or requests_per_month together with tokens_per_request"
            )
        if given == 3:
            implied = r * k / self.days_per_month  # type: ignore[operator]
            if not math.isclose(implied, t, rel_tol=1e-9, abs_tol=1e-9):  # type: ignore[arg-type]
                raise ValueError(
                    f"tokens_per_day={t:g} disagrees with requests_per_month x tokens_per_request / "
                    f"days_per_month = {implied:g}; give two of the three"
                )
        if t is not None and r is not None and k is None and t > 0 and r == 0:
            raise ValueError("requests_per_month is 0 while tokens_per_day is above 0")
        return self

    @property
    def daily_tokens(self) -> float:
        if self.tokens_per_day is not None:
            return self.tokens_per_day
        return self.requests_per_month * self.tokens_per_request / self.days_per_month  # type: ignore[operator]

    @property
    def request_size(self) -> Optional[float]:
        """Tokens per request, given or implied; None when the volume has no request count."""
        if self.tokens_per_request is not None:
            return self.tokens_per_request
        if self.requests_per_month and self.tokens_per_day is not None:
            return self.tokens_per_day * self.days_per_month / self.requests_per_month
        return None


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
    tool_calls_per_request: float = Field(0.0, ge=0, description="Third-party tool/API calls per request.")
    price_per_tool_call: Usd = Field(0.0, description="USD per tool call.")
    vector_db_monthly: Usd = Field(0.0, description="Vector database / embeddings storage, USD per month.")
    evaluation_monthly: Usd = Field(0.0, description="Evaluation and quality monitoring, USD per month.")
    gateway_monthly: Usd = Field(0.0, description="API gateway / routing, USD per month.")

    @model_validator(mode="after")
    def _review_cost_is_defined(self) -> "HiddenCosts":
        by_minutes = self.review_minutes is not None or self.reviewer_hourly_rate is not None
        if self.cost_per_review is not None and by_minutes:
            raise ValueError("give cost_per_review or review_minutes with reviewer_hourly_rate, not both")
        if by_minutes and (self.review_minutes is None or self.reviewer_hourly_rate is None):
            raise ValueError("review_minutes and reviewer_hourly_rate go together")
        if self.review_share > 0 and self.cost_per_review is None and not by_minutes:
            raise ValueError("review_share > 0 needs cost_per_review (or review_minutes and reviewer_hourly_rate)")
        return self

    @property
    def review_unit_cost(self) -> float:
        if self.cost_per_review is not None:
            return self.cost_per_review
        if self.review_minutes is not None and self.reviewer_hourly_rate is not None:
            return self.review_minutes / 60.0 * self.reviewer_hourly_rate
        return 0.0

    @property
    def per_request_cost(self) -> float:
        """USD per request of the per-request hidden items (review, tool calls)."""
        return self.review_share * self.review_unit_cost + self.tool_calls_per_request * self.price_per_tool_call

    @property
    def fixed_monthly(self) -> float:
        return self.observability_monthly + self.vector_db_monthly + self.evaluation_monthly + self.gateway_monthly


class ApiOption(StrictModel):
    """Renting a model through a vendor API. Prices given here win over the catalog's."""

    model: Optional[str] = Field(None, description="Catalog model name, e.g. gpt-4o-mini.")
    input_price_per_1m: Optional[float] = Field(None, ge=0, description="USD per 1M input tokens.")
    output_price_per_1m: Optional[float] = Field(None, ge=0, description="USD per 1M output tokens.")
    cached_input_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M cached input tokens (missing: 10% of input)."
    )
    batch_input_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M batch input tokens (missing: 50% of input)."
    )
    batch_output_price_per_1m: Optional[float] = Field(
        None, ge=0, description="USD per 1M batch output tokens (missing: 50% of output)."
    )
    price_tiers: list[PriceTier] = Field(default_factory=list, description="Long-context tiers.")
    price_source: Optional[str] = Field(None, description="Where the prices came from (filled by the catalog).")
    price_as_of: Optional[str] = Field(None, description="As-of date of the prices, YYYY-MM-DD.")
    cached_share: Fraction = Field(0.0, description="Share of input tokens served from the prompt cache.")
    batch_share: Fraction = Field(0.0, description="Share of tokens sent through the batch API.")
    retry_rate: float = Field(0.0, ge=0, le=5, description="Extra tokens re-sent by retries, as a fraction.")
    setup_cost: Usd = Field(0.0, description="One-time integration cost, USD (seed 000: ~$0).")
    hidden: HiddenCosts = Field(default_factory=HiddenCosts)

    @model_validator(mode="after")
    def _model_or_prices(self) -> "ApiOption":
        if self.model is None and (self.input_price_per_1m is None or self.output_price_per_1m is None):
            raise ValueError("api needs a catalog model, or input_price_per_1m and output_price_per_1m")
        thresholds = [t.above_input_tokens for t in self.price_tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("price_tiers must have distinct above_input_tokens in increasing order")
        return self


class FineTunedOption(StrictModel):
    """A fine-tuned model hosted by a vendor (seed 000, model 2)."""

    input_price_per_1m: Usd = Field(..., description="USD per 1M input tokens of the hosted fine-tuned model.")
    output_price_per_1m: Usd = Field(..., description="USD per 1M output tokens.")
    hosting_monthly: Usd = Field(0.0, description="Hosting fee, USD per month (seed 000: $1k-$3k).")
    setup_cost: Usd = Field(
        100_000.0, description="Data prep + training + validation, USD one-time (seed 000: $50k-$150k)."
    )
    refresh_interval_months: float = Field(
        6.0, gt=0, le=120, description="Months between re-fine-tunes as the base model goes stale."
    )
    refresh_cost: Usd = Field(0.0, description="USD per refresh; spread evenly over the interval.")
    retry_rate: float = Field(0.0, ge=0, le=5, description="Extra tokens re-sent by retries, as a fraction.")
    hidden: HiddenCosts = Field(default_factory=HiddenCosts)


class SelfHostedOption(StrictModel):
    """Running an open model on your own GPUs (seeds 001, 003, 004).

    ``simple`` mode: you give the infrastructure bill ``infra_monthly`` for the useful work and
    the utilization; effective infrastructure = infra_monthly / utilization (seed 003).
    ``capacity`` mode: GPUs are sized from peak tokens/s; infrastructure follows.
    """

    mode: Literal["simple", "capacity"] = "simple"
    infra_monthly: Optional[float] = Field(None, ge=0, description="Simple mode: GPU infrastructure, USD per month.")
    utilization: Optional[Utilization] = Field(None, description="Simple mode: average utilization, 0-1.")
    gpu: Optional[str] = Field(None, description="Capacity mode: GPU instance from the catalog, e.g. aws-g5.12xlarge.")
    model_size: Optional[str] = Field(None, description="Capacity mode: model size key for catalog throughput, e.g. 70b-q4.")
    instance_hourly_usd: Optional[float] = Field(None, gt=0, description="USD per instance-hour (catalog if empty).")
    gpus_per_instance: Optional[int] = Field(None, gt=0, description="GPUs per instance (catalog if empty).")
    tokens_per_second_per_gpu: Optional[float] = Field(None, gt=0, description="Sustained tokens/s per GPU.")
    peak_to_average: float = Field(2.0, ge=1, le=100, description="Peak load / average load.")
    target_utilization: Utilization = Field(0.7, description="Highest planned utilization at peak (seed 004: aim 60-70%+).")
    redundancy: float = Field(1.0, ge=1, le=10, description="Capacity multiplier for failover (2 = fully doubled).")
    hours_per_month: float = Field(730.0, gt=0, le=744, description="Billed hours per month (seed 003 uses 730).")
    price_source: Optional[str] = Field(None, description="Where the GPU price came from (filled by the catalog).")
    price_as_of: Optional[str] = Field(None, description="As-of date of the GPU price.")
    variable_cost_per_1m: Usd = Field(0.0, description="Running cost per 1M tokens (power etc.; seed 000).")
    fte: float = Field(0.25, ge=0, le=1000, description="People running it, FTE (seed 003: 0.25-1.0).")
    fte_annual_cost: Usd = Field(150_000.0, description="Fully loaded cost per FTE, USD/year (seed 003: $150k).")
    ops_tooling_monthly: Usd = Field(0.0, description="Serving/monitoring/security tooling, USD per month.")
    storage_monthly: Usd = Field(0.0, description="Model weights and checkpoints storage, USD per month.")
    egress_monthly: Usd = Field(0.0, description="Network egress, USD per month.")
    setup_cost: Usd = Field(0.0, description="One-time build-out, USD (seed 000: $100k-$300k).")
    migration_cost: Usd = Field(0.0, description="One-time migration (prompts, evals), USD (seed 004: 6-12 months of pain).")
    retry_rate: float = Field(0.0, ge=0, le=5, description="Extra tokens re-run by retries, as a fraction.")
    hidden: HiddenCosts = Field(default_factory=HiddenCosts)

    @model_validator(mode="after")
    def _mode_inputs(self) -> "SelfHostedOption":
        if self.mode == "simple":
            missing = [n for n in ("infra_monthly", "utilization") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"simple mode needs {' and '.join(missing)}")
        elif self.gpu is None and (self.instance_hourly_usd is None or self.gpus_per_instance is None):
            raise ValueError("capacity mode needs gpu (catalog) or instance_hourly_usd and gpus_per_instance")
        elif self.tokens_per_second_per_gpu is None and self.model_size is None:
            raise ValueError("capacity mode needs tokens_per_second_per_gpu or model_size (catalog)")
        return self


class BusinessContext(StrictModel):
    """What the decision rules need beyond cost (seed 003's five questions, seed 000's bands)."""

    data_privacy: Literal["minimal", "moderate", "strict"] = Field(
        "moderate", description="strict = data may not go to a third-party API (healthcare, government)."
    )
    latency_p99_ms: Optional[float] = Field(None, gt=0, description="Required P99 latency, milliseconds.")
    ml_expertise: Literal["none", "limited", "strong"] = Field("limited", description="In-house ML infrastructure skill.")
    quality_need: Literal["state_of_the_art", "good_enough", "specialized_domain"] = Field(
        "good_enough", description="Model quality the use case needs."
    )
    outcomes_per_month: Optional[float] = Field(None, gt=0, description="Business outcomes per month (tickets resolved, claims, ...).")
    outcome_name: str = Field("outcome", min_length=1, max_length=40, description="What one outcome is called.")
    current_option: OptionName = Field("api", description="How the workload runs today (for savings).")


class Horizon(StrictModel):
    months: int = Field(36, ge=1, le=120, description="TCO horizon in months.")
    api_price_decline_per_year: float = Field(
        0.0, ge=0, lt=1, description="Yearly decline of API token prices (seed 004: 40-90% over 24 months)."
    )
    discount_rate_per_year: float = Field(0.0, ge=0, le=1, description="Discount rate for NPV, per year.")


class SensitivitySettings(StrictModel):
    swing: float = Field(0.2, gt=0, lt=1, description="Each driver is moved by +/- this fraction.")


class Scenario(StrictModel):
    """One business unit's workload and its options."""

    name: str = Field("Scenario", min_length=1, max_length=120, description="Business unit / scenario name.")
    owner_email: Optional[str] = Field(None, max_length=254, description="Who receives the memo.")
    notes: str = Field("", max_length=4000, description="Free text printed in the memo.")
    volume: Volume
    api: ApiOption
    fine_tuned: Optional[FineTunedOption] = None
    self_hosted: Optional[SelfHostedOption] = None
    context: BusinessContext = Field(default_factory=BusinessContext)
    horizon: Horizon = Field(default_factory=Horizon)
    sensitivity: SensitivitySettings = Field(default_factory=SensitivitySettings)

    @model_validator(mode="after")
    def _current_option_exists(self) -> "Scenario":
        if getattr(self, self.context.current_option) is None:
            raise ValueError(f"context.current_option is {self.context.current_option!r} but that option is not defined")
        return self

    def options(self) -> list[str]:
        """The options this scenario defines, in canonical order."""
        return [o for o in OPTIONS if getattr(self, o) is not None]

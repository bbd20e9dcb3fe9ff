"""The thresholds the recommendation's rules use, as inputs with the seeds' defaults.

None of these sets an option aside on cost grounds: the cheapest eligible option over the
horizon wins, and eligibility is set by hard constraints only (strict privacy). The thresholds
decide which context reasons a result carries and when a quality or expertise rule may override
the cheapest option; a rule that overrides it says so with the money it costs.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from .common import Fraction, StrictModel, Usd


class DecisionRules(StrictModel):
    utilization_risk_below: Fraction = Field(
        0.60, description="Average GPU utilization below which self-hosting carries a risk reason (seed 004: 60%).")
    close_call_share: Fraction = Field(
        0.10, description="The two cheapest options are a close call when they differ by less than this share of the dearer (seed 004: 10%).")
    quality_margin_share: Fraction = Field(
        0.10, description="Specialized domain: a fine-tuned option within this share of the cheapest is preferred (seed 004: 10%).")
    tokens_per_day_low: float = Field(10e6, ge=0, le=1e15, description="Below this many tokens/day the API is almost always cheaper (seeds 001, 003: 10M).")
    tokens_per_day_high: float = Field(100e6, ge=0, le=1e15, description="Above this many tokens/day self-hosting deserves analysis (seeds 001, 003: 100M).")
    inferences_per_month_low: float = Field(100e3, ge=0, le=1e15, description="Below this many inferences/month use the API (seed 000: 100k).")
    inferences_per_month_high: float = Field(1e6, ge=0, le=1e15, description="From this many inferences/month scope self-hosting (seed 000: 1M).")
    api_spend_low: Usd = Field(30e3, description="API token spend per month below which the API wins (seed 004: $30k).")
    api_spend_high: Usd = Field(80e3, description="API token spend per month above which self-hosting usually wins (seed 004: $80k).")
    latency_edge_ms: float = Field(100.0, gt=0, le=1e6, description="P99 latency below which self-hosted or edge inference is favoured (seed 003: 100 ms).")
    latency_api_ms: float = Field(500.0, gt=0, le=1e6, description="P99 latency from which an API works without question (seed 003: 500 ms).")

    @model_validator(mode="after")
    def _bands_ordered(self) -> "DecisionRules":
        for low, high in (("tokens_per_day_low", "tokens_per_day_high"),
                          ("inferences_per_month_low", "inferences_per_month_high"),
                          ("api_spend_low", "api_spend_high"), ("latency_edge_ms", "latency_api_ms")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} <= {high} (they are {getattr(self, low):g} and {getattr(self, high):g})")
        return self

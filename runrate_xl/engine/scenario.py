"""The inputs of a cost scenario, as strict pydantic models.

Units are in the field names (``_monthly`` = USD per month, ``_per_1m`` = USD per million
tokens, ``_share`` / ``utilization`` = fraction 0-1). Defaults come from the seed articles and
say so in their descriptions. Every model forbids unknown fields, NaN and infinities.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Optional

from pydantic import BaseModel, Field, model_validator

from .common import Fraction, HiddenCosts, PriceTier, StrictModel, Usd, Utilization  # noqa: F401  (re-exported)
from .errors import InputError
from .kinds import ApiOption, FineTunedOption, Option, SelfHostedOption, components, is_composite, kind_of  # noqa: F401  (re-exported)
from .kinds import composite
from .rules import DecisionRules

# The three named slots of the first scenario format (``api:``, ``fine_tuned:``, ``self_hosted:``)
# still load: each becomes an option whose id and kind are the slot's name. More generally an
# option may be given as a top-level mapping keyed by its id with its ``kind`` (the id-keyed form
# dotted paths address: ``mini.cached_share``); the kind may be left out for a slot name.
LEGACY_SLOTS: tuple[str, ...] = ("api", "fine_tuned", "self_hosted")
HYBRID = "hybrid"
HYBRID_LABEL = "Hybrid"
_SECTIONS = ("name", "owner_email", "notes", "volume", "options", "context", "horizon", "sensitivity", "rules")


def _is_keyed_option(key: str, value: Any) -> bool:
    if key in _SECTIONS:
        return False
    if key in LEGACY_SLOTS:
        return True
    return isinstance(value, dict) and "kind" in value


def normalize_options(data: Any) -> Any:
    """Scenario data with the options given by id (the legacy slots included) moved into
    ``options``: a keyed option replaces the listed option of the same id (so it can override
    one option of a list), else it is added, in the order given, before the listed options."""
    if not isinstance(data, dict) or not any(_is_keyed_option(k, v) for k, v in data.items()):
        return data
    data = dict(data)
    keyed: dict[str, Any] = {}
    for key in [k for k, v in data.items() if _is_keyed_option(k, v)]:
        value = data.pop(key)
        if value is None:
            continue
        if isinstance(value, BaseModel):
            value = value.model_dump(exclude_unset=True)
        if isinstance(value, dict):
            value = {"id": key, **({"kind": key} if key in LEGACY_SLOTS else {}), **value}
        keyed[key] = value
    # the legacy slots first, in slot order, as the first format listed them
    keyed = {**{k: keyed[k] for k in LEGACY_SLOTS if k in keyed}, **{k: v for k, v in keyed.items() if k not in LEGACY_SLOTS}}
    rest = data.get("options")
    if rest is None or isinstance(rest, (list, tuple)):
        listed = [keyed.pop(o["id"]) if isinstance(o, dict) and o.get("id") in keyed else o for o in rest or []]
        data["options"] = list(keyed.values()) + listed
    return data


def keyed_option_ids(data: dict) -> list[str]:
    """The ids of the options given as top-level mappings (see normalize_options)."""
    return [k for k, v in data.items() if _is_keyed_option(k, v) and v is not None]


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
    current_option: Optional[str] = Field(
        None, description="How the workload runs today: an option id (for savings; default: the first API option)."
    )


class Horizon(StrictModel):
    months: int = Field(36, ge=1, le=120, description="TCO horizon in months.")
    api_price_decline_per_year: float = Field(
        0.0, ge=0, lt=1, description="Yearly decline of API token prices (seed 004: 40-90% over 24 months)."
    )
    discount_rate_per_year: float = Field(0.0, ge=0, le=1, description="Discount rate for NPV, per year.")
    switch_month: int = Field(
        0, ge=0, le=120, description=("Migration: months today's option (context.current_option) carries all the traffic "
                                      "before the move to another option starts (default 0: the move is immediate). The "
                                      "other option's one-time costs are paid when the move starts."))
    overlap_months: int = Field(
        0, ge=0, le=120, description=("Migration: months both today's option and the new one run after the switch (both "
                                      "pay their fixed costs); traffic moves linearly, (m - switch_month) / "
                                      "(overlap_months + 1) in overlap month m (seed 004 warns of 6-12 months)."))

    @property
    def migrates(self) -> bool:
        """Whether a move off today's option is phased (a switch month or an overlap)."""
        return self.switch_month > 0 or self.overlap_months > 0


class SensitivitySettings(StrictModel):
    swing: float = Field(0.2, gt=0, lt=1, description="Each driver is moved by +/- this fraction.")
    growth_points: float = Field(0.02, gt=0, le=0.5, description="Volume growth is moved by +/- this much per month (analyst's choice: 0.02 = 2 points).")
    decline_points: float = Field(0.2, gt=0, lt=1, description="API price decline is moved by +/- this much per year (seed 004 reports 40-90% over 24 months).")
    discount_points: float = Field(0.04, gt=0, le=1, description="The discount rate is moved by +/- this much per year (analyst's choice).")


class Scenario(StrictModel):
    """One business unit's workload and its options (a list; each option has an id and a kind)."""

    name: str = Field("Scenario", min_length=1, max_length=120, description="Business unit / scenario name.")
    owner_email: Optional[str] = Field(None, max_length=254, description="Who receives the memo.")
    notes: str = Field("", max_length=4000, description="Free text printed in the memo.")
    volume: Volume
    options: list[Option] = Field(..., min_length=1, max_length=20, description="The ways to run the workload that are compared.")
    context: BusinessContext = Field(default_factory=BusinessContext)
    horizon: Horizon = Field(default_factory=Horizon)
    sensitivity: SensitivitySettings = Field(default_factory=SensitivitySettings)
    rules: DecisionRules = Field(default_factory=DecisionRules)

    @model_validator(mode="before")
    @classmethod
    def _legacy_slots(cls, data: Any) -> Any:
        return normalize_options(data)

    @model_validator(mode="after")
    def _ids_unique_and_current_option_exists(self) -> "Scenario":
        ids = [o.id for o in self.options]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"option ids must be unique; repeated: {', '.join(repeated)}")
        current = self.context.current_option
        if current is None:
            apis = self.options_of("api")
            # a copy: a context passed in as a model instance is not changed behind its owner's back
            self.context = self.context.model_copy(update={"current_option": (apis[0] if apis else self.options[0]).id})
        elif current not in ids:
            raise ValueError(f"context.current_option is {current!r} but no option has that id (ids: {', '.join(ids)})")
        try:
            composite.check(self)
        except InputError as exc:  # pydantic reports it as the scenario's error; the message names the field
            raise ValueError(str(exc)) from None
        return self

    def option_ids(self) -> list[str]:
        """The ids of the options, in the scenario's order."""
        return [o.id for o in self.options]

    def find_option(self, option_id: str) -> Optional[Option]:
        return next((o for o in self.options if o.id == option_id), None)

    def option(self, option_id: str) -> Option:
        found = self.find_option(option_id)
        if found is None:
            raise InputError("option", option_id, f"one of the scenario's options: {', '.join(self.option_ids())}")
        return found

    def options_of(self, kind: str) -> list[Option]:
        """The options of one kind, in order."""
        return [o for o in self.options if o.kind == kind]

    def dependents(self, option_id: str) -> list[str]:
        """The option and the composites (mix, cascade) whose cost depends on it: what moves when
        one of its inputs moves."""
        return [option_id] + [o.id for o in self.options
                              if is_composite(o) and any(cid == option_id for cid, _ in components(o, self))]

    def with_option(self, option: Option) -> "Scenario":
        """A copy with the option of the same id replaced by ``option``."""
        return self.model_copy(update={"options": [option if o.id == option.id else o for o in self.options]})

    def label_of(self, option_id: str) -> str:
        """What readers see for an option id (or "Hybrid")."""
        if option_id == HYBRID:
            return HYBRID_LABEL
        return option_label(self.option(option_id))


def option_label(option: Option) -> str:
    """An option's label: its own, else its kind's name (for an option named after its kind) or
    the kind's name with the id, e.g. "API (mini)"."""
    if option.label:
        return option.label
    kind = kind_of(option)
    return kind.label if option.id == kind.name else f"{kind.label} ({option.id})"

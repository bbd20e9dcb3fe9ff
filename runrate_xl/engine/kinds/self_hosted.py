"""Kind ``self_hosted``: an open model on GPUs you rent (seeds 001, 003, 004).

``simple`` mode: you give the infrastructure bill ``infra_monthly`` for the useful work and
the utilization; effective infrastructure = infra_monthly / utilization (seed 003).
``capacity`` mode: GPUs are sized from peak tokens/s; infrastructure follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field, model_validator

from .. import functions as f
from ..common import HiddenCosts, Usd, Utilization
from ..errors import InputError
from .base import Breakdown, Kind, LineItemSpec, OptionBase, OptionDriver, field_driver, hidden_items, items_by_key

if TYPE_CHECKING:
    from ..scenario import Scenario


class SelfHostedOption(OptionBase):
    """Running an open model on your own GPUs (seeds 001, 003, 004).

    ``simple`` mode: you give the infrastructure bill ``infra_monthly`` for the useful work and
    the utilization; effective infrastructure = infra_monthly / utilization (seed 003).
    ``capacity`` mode: GPUs are sized from peak tokens/s; infrastructure follows.
    """

    kind: Literal["self_hosted"]
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


LINE_ITEMS = items_by_key(
    LineItemSpec("gpu_in_use", "GPU capacity in use", False, False),
    LineItemSpec("idle_gpu", "Idle GPU capacity", True, False),
    LineItemSpec("running_cost", "Per-token running cost", False, True),
    LineItemSpec("retries", "Retries", True, True),
    LineItemSpec("people", "People (MLOps)", True, False),
    LineItemSpec("ops_tooling", "Ops tooling", True, False),
    LineItemSpec("storage", "Storage", True, False),
    LineItemSpec("egress", "Egress", True, False),
)


def breakdown(scenario: "Scenario", sh: SelfHostedOption, t: float, price_factor: float) -> Breakdown:
    details: dict[str, float] = {}
    if sh.mode == "simple":
        infra = f.effective_infra(sh.infra_monthly, sh.utilization)  # type: ignore[arg-type]
        utilization = sh.utilization
        details["utilization"] = utilization  # type: ignore[assignment]
    else:
        if sh.instance_hourly_usd is None or sh.gpus_per_instance is None or sh.tokens_per_second_per_gpu is None:
            missing = next(n for n in ("instance_hourly_usd", "gpus_per_instance", "tokens_per_second_per_gpu") if getattr(sh, n) is None)
            raise InputError(f"{sh.id}.{missing}", None, f"a value (resolve {sh.id}.gpu through the GPU catalog first)")
        n, utilization = f.gpu_instances(
            t, sh.tokens_per_second_per_gpu, sh.gpus_per_instance, sh.peak_to_average,
            sh.target_utilization, sh.redundancy, sh.retry_rate,
        )
        infra = n * sh.instance_hourly_usd * sh.hours_per_month
        details.update(instances=float(n), gpus=float(n * sh.gpus_per_instance), utilization=utilization)
    running = f.monthly_tokens(t, scenario.volume.days_per_month) * sh.variable_cost_per_1m / f.PER_MILLION
    amounts = {
        "gpu_in_use": infra * utilization,  # type: ignore[operator]
        "idle_gpu": infra * (1.0 - utilization),  # type: ignore[operator]
        "running_cost": running,
        "retries": running * sh.retry_rate,
        "people": f.people_monthly(sh.fte, sh.fte_annual_cost),
        "ops_tooling": sh.ops_tooling_monthly,
        "storage": sh.storage_monthly,
        "egress": sh.egress_monthly,
    }
    items = [LINE_ITEMS[k](amounts[k]) for k in LINE_ITEMS] + hidden_items(scenario, sh.id, sh.hidden, t)
    return Breakdown(items, sh.setup_cost + sh.migration_cost, 0.0, details, [])


def step_width(sh: SelfHostedOption) -> Optional[float]:
    """Capacity mode: tokens/day one more GPU-count step carries (before redundancy); None in simple mode."""
    if sh.mode != "capacity":
        return None
    if not (sh.tokens_per_second_per_gpu and sh.gpus_per_instance):
        raise InputError(f"{sh.id}.tokens_per_second_per_gpu", None, "a value (resolve the GPU catalog first)")
    return (sh.tokens_per_second_per_gpu * sh.gpus_per_instance * sh.target_utilization
            * f.SECONDS_PER_DAY / ((1.0 + sh.retry_rate) * sh.peak_to_average))


def drivers(sh: SelfHostedOption) -> list[OptionDriver]:
    if sh.mode == "simple":
        out = [field_driver("infra", "GPU infrastructure", "infra_monthly"),
               field_driver("utilization", "GPU utilization", "utilization", 1.0)]
    else:
        out = [field_driver("infra", "GPU hourly price", "instance_hourly_usd"),
               field_driver("utilization", "Target GPU utilization", "target_utilization", 1.0)]
    return out + [field_driver("fte", "MLOps headcount (FTE)", "fte"),
                  field_driver("fte_cost", "Loaded cost per FTE", "fte_annual_cost")]


def utilization_field(sh: SelfHostedOption) -> str:
    """The field the utilization x volume grid varies: utilization (simple) or the target (capacity)."""
    return "utilization" if sh.mode == "simple" else "target_utilization"


KIND = Kind(
    name="self_hosted", label="Self-hosted", model=SelfHostedOption, line_items=LINE_ITEMS, breakdown=breakdown,
    drivers=drivers, prices_tokens=False, follows_api_price_decline=False, step_width=step_width,
    activity="Self-hosting",
)

"""Kind ``self_hosted``: an open model on GPUs you rent (seeds 001, 003, 004).

``simple`` mode: you give the infrastructure bill ``infra_monthly`` for the useful work and
the utilization; effective infrastructure = infra_monthly / utilization (seed 003).
``capacity`` mode: GPUs are sized from peak tokens/s; infrastructure follows. The catalog
(``gpu`` instance, ``model``, ``precision``, ``pricing_term``) fills the instance price in force
on the as-of date and an effective ``tokens_per_second_per_gpu`` for the request mix, derived
from a published benchmark after a memory check (weights + KV cache must fit the GPUs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Optional

from pydantic import Field, model_validator

from .. import functions as f
from ..common import Fraction, HiddenCosts, Usd, Utilization
from ..errors import InputError
from .base import Breakdown, Kind, LineItemSpec, OptionBase, Step, OptionDriver, field_driver, hidden_items, items_by_key

if TYPE_CHECKING:
    from ..scenario import Scenario


class SelfHostedOption(OptionBase):
    """Running an open model on your own GPUs (seeds 001, 003, 004).

    ``simple`` mode: you give the infrastructure bill ``infra_monthly`` and either the
    utilization (seed 003: effective infrastructure = infra_monthly / utilization, capacity assumed
    unlimited, which the result says) or ``capacity_tokens_per_day``, what the deployment that
    ``infra_monthly`` pays for carries at 100%: then the count of such deployments follows the
    volume (peak / (capacity x target utilization), at least one) and utilization is a result.
    ``capacity`` mode: GPU instances are sized from peak tokens/s; infrastructure follows.
    """

    kind: Literal["self_hosted"]
    mode: Literal["simple", "capacity"] = "simple"
    infra_monthly: Optional[float] = Field(None, ge=0, description="Simple mode: GPU infrastructure, USD per month.")
    utilization: Optional[Utilization] = Field(None, description="Simple mode without a capacity: average utilization, 0-1.")
    capacity_tokens_per_day: Optional[float] = Field(
        None, gt=0, le=1e15, description=("Simple mode: tokens/day the deployment infra_monthly pays for carries at 100% "
                                          "utilization; with it the deployments follow the volume and utilization is a result."))
    gpu: Optional[str] = Field(None, description="Capacity mode: cloud GPU instance from the catalog, e.g. aws-p5.4xlarge (runrate gpus).")
    model: Optional[str] = Field(None, description="Capacity mode: open model from the catalog, e.g. llama-3.1-70b (runrate gpus --models).")
    precision: Optional[Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]] = Field(
        None, description="Capacity mode: weight precision of the model, e.g. fp8; throughput must be published for it.")
    pricing_term: Literal["on_demand", "1yr", "3yr", "spot"] = Field(
        "on_demand", description="Capacity mode: price term of the instance (on_demand, 1yr or 3yr commitment, spot).")
    spot_interruption_overhead: Optional[Fraction] = Field(
        None, description="Spot: extra instance-hours lost to interruptions, as a share of the hours (stated by you; needed with spot).")
    model_size: Optional[str] = Field(
        None, description="Legacy size key (7b, 13b, 70b-q4...) of the first GPU table, which had no source: refused, use model and precision.")
    instance_hourly_usd: Optional[float] = Field(None, gt=0, description="USD per instance-hour (catalog by term and as-of date if empty).")
    gpus_per_instance: Optional[int] = Field(None, gt=0, description="GPUs per instance (catalog if empty).")
    tokens_per_second_per_gpu: Optional[float] = Field(
        None, gt=0, description=("Effective tokens/s (input + output) per GPU for the request mix: one instance's capacity at 100% "
                                 "/ its GPUs / 86,400. Filled from a published benchmark if empty; your measurement wins."))
    context_tokens: Optional[float] = Field(
        None, gt=0, le=10_000_000, description="Memory check: tokens of context per request (default: the request size).")
    concurrent_requests: float = Field(1.0, ge=1, le=100_000, description="Memory check: requests whose KV cache is held at once.")
    memory_headroom: Fraction = Field(0.1, description="Memory check: share of GPU memory kept free (activations, CUDA context).")
    peak_to_average: float = Field(2.0, ge=1, le=100, description="Peak load / average load.")
    target_utilization: Utilization = Field(0.7, description="Highest planned utilization at peak (seed 004: aim 60-70%+).")
    redundancy: float = Field(1.0, ge=1, le=10, description="Capacity multiplier for failover (2 = fully doubled).")
    hours_per_month: float = Field(730.0, gt=0, le=744, description="Billed hours per month (seed 003 uses 730).")
    price_source: Optional[str] = Field(None, max_length=2000, description="Where the GPU price came from (filled by the catalog).")
    price_as_of: Optional[str] = Field(None, description="As-of date of the GPU price.")
    throughput_source: Optional[str] = Field(None, max_length=2000, description="Where the throughput came from and under what conditions (filled by the catalog).")
    throughput_as_of: Optional[str] = Field(None, description="As-of date of the throughput figure.")
    memory_needed_gb: Optional[float] = Field(None, ge=0, description="Memory check: weights + KV cache per model replica, GB (filled by the catalog).")
    memory_available_gb: Optional[float] = Field(None, ge=0, description="Memory check: GPU memory per replica less headroom, GB (filled by the catalog).")
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
            if self.infra_monthly is None:
                raise ValueError("simple mode needs infra_monthly")
            if self.utilization is None and self.capacity_tokens_per_day is None:
                raise ValueError("simple mode needs utilization, or capacity_tokens_per_day (then utilization is a result)")
            if self.utilization is not None and self.capacity_tokens_per_day is not None:
                raise ValueError("simple mode takes utilization or capacity_tokens_per_day, not both: with a capacity, "
                                 "utilization is a result (volume / installed capacity); set target_utilization instead")
        elif self.gpu is None and (self.instance_hourly_usd is None or self.gpus_per_instance is None):
            raise ValueError("capacity mode needs gpu (catalog) or instance_hourly_usd and gpus_per_instance")
        elif self.tokens_per_second_per_gpu is None and self.model is None and self.model_size is None:
            raise ValueError("capacity mode needs tokens_per_second_per_gpu, or model and precision (catalog throughput)")
        elif self.tokens_per_second_per_gpu is None and self.model is not None and self.precision is None:
            raise ValueError("capacity mode needs precision with model (e.g. fp8): throughput is published per precision")
        if self.pricing_term == "spot" and self.spot_interruption_overhead is None and self.instance_hourly_usd is None:
            raise ValueError("pricing_term spot needs spot_interruption_overhead (extra hours lost to interruptions, e.g. 0.1)")
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


UNLIMITED = ("capacity is not stated, so the GPU bill is assumed to carry any volume (seed 003's simple form): "
             "give capacity_tokens_per_day to size it")


def _sizing(sh: SelfHostedOption) -> Optional[tuple[float, float]]:
    """(tokens/s one unit carries at 100%, USD/month per unit) when capacity binds, else None:
    capacity mode's GPU instance, or simple mode's deployment with a stated capacity."""
    if sh.mode == "capacity":
        if sh.instance_hourly_usd is None or sh.gpus_per_instance is None or sh.tokens_per_second_per_gpu is None:
            missing = next(n for n in ("instance_hourly_usd", "gpus_per_instance", "tokens_per_second_per_gpu") if getattr(sh, n) is None)
            raise InputError(f"{sh.id}.{missing}", None, f"a value (resolve {sh.id}.gpu through the GPU catalog first)")
        return sh.tokens_per_second_per_gpu * sh.gpus_per_instance, sh.instance_hourly_usd * sh.hours_per_month
    if sh.capacity_tokens_per_day is not None:
        return sh.capacity_tokens_per_day / f.SECONDS_PER_DAY, sh.infra_monthly  # type: ignore[return-value]
    return None


def breakdown(scenario: "Scenario", sh: SelfHostedOption, t: float, price_factor: float) -> Breakdown:
    details: dict[str, float] = {}
    notes: list[str] = []
    sizing = _sizing(sh)
    if sizing is None:
        infra = f.effective_infra(sh.infra_monthly, sh.utilization)  # type: ignore[arg-type]
        utilization = sh.utilization
        details["utilization"] = utilization  # type: ignore[assignment]
        notes.append(f"{sh.id}: {UNLIMITED}.")
    else:
        unit_tps, unit_cost = sizing
        n, utilization = f.deployments(t, unit_tps, sh.peak_to_average, sh.target_utilization, sh.redundancy, sh.retry_rate)
        infra = n * unit_cost
        details.update(instances=float(n), utilization=utilization, capacity_tokens_per_day_per_instance=unit_tps * f.SECONDS_PER_DAY)
        if sh.mode == "capacity":
            details["gpus"] = float(n * sh.gpus_per_instance)  # type: ignore[operator]
            if sh.memory_needed_gb is not None and sh.memory_available_gb is not None:
                details.update(memory_needed_gb=sh.memory_needed_gb, memory_available_gb=sh.memory_available_gb)
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
    return Breakdown(items, sh.setup_cost + sh.migration_cost, 0.0, details, notes)


def stepping(scenario: "Scenario", sh: SelfHostedOption) -> Optional[Step]:
    """The unit count (GPU instances, or simple mode's deployments of a stated capacity) as a step
    function of volume (see ``base.Step``); None when capacity is not stated (cost affine)."""
    sizing = _sizing(sh)
    if sizing is None:
        return None
    unit_tps, unit_cost = sizing
    f.deployments(0.0, unit_tps, sh.peak_to_average, sh.target_utilization, sh.redundancy, sh.retry_rate)  # checks the inputs once
    width = unit_tps * sh.target_utilization * f.SECONDS_PER_DAY / ((1.0 + sh.retry_rate) * sh.peak_to_average)
    retried = 1.0 + sh.retry_rate

    def count(t: float) -> int:  # what gpu_instances / deployments count, without re-checking inputs per call
        return f.instance_count(t * retried / f.SECONDS_PER_DAY, unit_tps, sh.peak_to_average, sh.target_utilization, sh.redundancy)

    return Step(width, sh.redundancy, unit_cost, count)


def drivers(sh: SelfHostedOption) -> list[OptionDriver]:
    if sh.mode == "simple" and sh.capacity_tokens_per_day is not None:
        out = [field_driver("infra", "GPU infrastructure per deployment", "infra_monthly"),
               field_driver("throughput", "Deployment capacity", "capacity_tokens_per_day"),
               field_driver("utilization", "Target GPU utilization", "target_utilization", 1.0)]
    elif sh.mode == "simple":
        out = [field_driver("infra", "GPU infrastructure", "infra_monthly"),
               field_driver("utilization", "GPU utilization", "utilization", 1.0)]
    else:
        out = [field_driver("infra", "GPU hourly price", "instance_hourly_usd"),
               field_driver("throughput", "GPU throughput", "tokens_per_second_per_gpu"),
               field_driver("utilization", "Target GPU utilization", "target_utilization", 1.0)]
    return out + [field_driver("fte", "MLOps headcount (FTE)", "fte"),
                  field_driver("fte_cost", "Loaded cost per FTE", "fte_annual_cost")]


def utilization_field(sh: SelfHostedOption) -> str:
    """The field the utilization x volume grid varies: utilization (simple, capacity not stated)
    or the target (wherever utilization is a result)."""
    return "utilization" if _sizing_free(sh) else "target_utilization"


def horizon_notes(scenario: "Scenario", sh: SelfHostedOption) -> list[str]:
    """Where a flat GPU bill (capacity not stated) would carry more than 100% of today's GPUs as
    volume grows: today's utilization x the growth factor, month by month."""
    if not _sizing_free(sh) or sh.utilization is None:
        return []
    g, n = scenario.volume.monthly_growth, scenario.horizon.months
    late = next((m for m in range(1, n + 1) if sh.utilization * f.growth_factor(g, m) > 1.0), None)
    if late is None:
        return []
    end = sh.utilization * f.growth_factor(g, n)
    return [f"{sh.id}: at {sh.utilization:.0%} utilization today and {g:.1%} growth a month, the volume passes 100% of "
            f"today's GPUs in month {late} ({end:.0%} of them by month {n}); the flat GPU bill of those months assumes "
            "hardware that is not there: give capacity_tokens_per_day so the GPU count follows the volume."]


def _sizing_free(sh: SelfHostedOption) -> bool:
    return sh.mode == "simple" and sh.capacity_tokens_per_day is None


KIND = Kind(
    name="self_hosted", label="Self-hosted", model=SelfHostedOption, line_items=LINE_ITEMS, breakdown=breakdown,
    drivers=drivers, prices_tokens=False, follows_api_price_decline=False, stepping=stepping, horizon_notes=horizon_notes,
)

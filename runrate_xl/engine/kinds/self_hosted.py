"""Kind ``self_hosted``: an open model on GPUs you rent (seeds 001, 003, 004).

``simple`` mode: you give the infrastructure bill ``infra_monthly`` for the useful work and
the utilization; effective infrastructure = infra_monthly / utilization (seed 003).
``capacity`` mode: GPUs are sized from peak tokens/s; infrastructure follows. The catalog
(``gpu`` instance, ``model``, ``precision``, ``pricing_term``) fills the instance price in force
on the as-of date and an effective ``tokens_per_second_per_gpu`` for the request mix, derived
from a published benchmark after a memory check (weights + KV cache must fit the GPUs).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Literal, Optional

from pydantic import Field, model_validator

from .. import functions as f
from ..common import Fraction, HiddenCosts, Usd, Utilization
from ..errors import InputError
from .base import OPERATION_ITEMS, Breakdown, anchor_utilization, operation_amounts, Kind, LineItemSpec, OptionBase, Step, OptionDriver, field_driver, hidden_items, items_by_key

if TYPE_CHECKING:
    from ..scenario import Scenario


class SelfHostedOption(OptionBase):
    """Running an open model on your own GPUs (seeds 001, 003, 004).

    ``simple`` mode: you give the infrastructure bill ``infra_monthly`` and either the
    utilization or ``capacity_tokens_per_day``, what the deployment that ``infra_monthly`` pays
    for carries at 100%: then the count of such deployments follows the volume (peak / (capacity
    x target utilization), at least one) and utilization is a result. With a utilization U (seed
    003's form) one deployment costs infra_monthly / U and runs at U at today's volume T0 (or at
    ``utilization_at_tokens_per_day``), so it carries T0 / U at 100%: deployments are added as
    the volume passes multiples of that (``max(1, ceil(t x U / T0))``), so no volume is priced on
    capacity that is not there. ``capacity_basis: unlimited`` is seed 003's own reading (one box
    carries any volume), which the result then states as an assumption.
    ``capacity`` mode: GPU instances are sized from peak tokens/s; infrastructure follows.
    """

    kind: Literal["self_hosted"]
    mode: Literal["simple", "capacity"] = "simple"
    infra_monthly: Optional[float] = Field(None, ge=0, description="Simple mode: GPU infrastructure, USD per month.")
    utilization: Optional[Utilization] = Field(None, description="Simple mode without a capacity: average utilization, 0-1.")
    capacity_tokens_per_day: Optional[float] = Field(
        None, gt=0, le=1e15, description=("Simple mode: tokens/day the deployment infra_monthly pays for carries at 100% "
                                          "utilization; with it the deployments follow the volume and utilization is a result."))
    utilization_at_tokens_per_day: Optional[float] = Field(
        None, gt=0, le=1e15, description=("Simple mode with utilization: the volume (tokens/day) at which that utilization is "
                                          "measured (default: today's volume); one deployment carries it / utilization at 100%."))
    capacity_basis: Literal["implied", "unlimited"] = Field(
        "implied", description=("Simple mode with utilization: implied (one deployment carries today's volume / utilization "
                                "at 100%, more are added as volume grows) or unlimited (seed 003's reading: one deployment "
                                "carries any volume; the result says capacity is assumed unlimited)."))
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
    hours_per_month: Optional[float] = Field(
        None, gt=0, le=744, description=("Billed GPU hours per month; blank: the token month, volume.days_per_month x 24 "
                                         "(30 days: 720 h; seed 003's 730 h is a 30.42-day month). A different value is "
                                         "used and the result says the two months differ."))
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
    retry_rate: float = Field(0.0, ge=0, le=5, description="Extra tokens re-run by retries (timeouts, errors), as a fraction; retried failed tasks (hidden.success_rate) come on top.")
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
        if self.capacity_basis == "unlimited" and (self.mode != "simple" or self.utilization is None):
            raise ValueError("capacity_basis unlimited applies to simple mode with a utilization only (elsewhere capacity is stated or sized)")
        if self.utilization_at_tokens_per_day is not None and (self.mode != "simple" or self.utilization is None):
            raise ValueError("utilization_at_tokens_per_day applies to simple mode with a utilization only")
        if self.pricing_term == "spot" and self.spot_interruption_overhead is None and self.instance_hourly_usd is None:
            raise ValueError("pricing_term spot needs spot_interruption_overhead (extra hours lost to interruptions, e.g. 0.1)")
        return self


LINE_ITEMS = items_by_key(
    LineItemSpec("gpu_in_use", "GPU capacity in use", False, False),
    LineItemSpec("idle_gpu", "Idle GPU capacity", True, False),
    LineItemSpec("running_cost", "Per-token running cost", False, True),
    LineItemSpec("retries", "Retries", True, True),
    *OPERATION_ITEMS.values(),
)


UNLIMITED = ("capacity is assumed unlimited (capacity_basis unlimited, seed 003's reading): the GPU bill is taken to carry any "
             "volume at the stated utilization; without it, one deployment carries today's volume / utilization")


@dataclass(frozen=True)
class Sizing:
    """How units (GPU instances, deployments) are counted: what one carries and costs, and the
    planning factors ``functions.deployments`` applies (``count = ceil(max(1, ceil(t (1 + retry)
    / 86,400 x peak / (tps x target))) x redundancy)``)."""

    unit_tps: float  # tokens/s one unit carries at 100%
    unit_cost: float  # USD/month per unit
    peak_to_average: float
    target_utilization: float
    redundancy: float
    retry_rate: float
    implied: Optional[tuple[float, float]] = None  # (utilization, volume it is stated at) when capacity is implied by them

    def count(self, t: float) -> int:
        """Units at ``t`` tokens/day; implied: ``max(1, ceil(t x U / T0))``, in that order so a
        volume of exactly k x T0 / U counts k (the workbook's formula is the same)."""
        return self.counter(t)

    @cached_property
    def counter(self) -> Callable[[float], int]:
        """``count`` as a function built once (``functions.instance_counter``: the same counts)."""
        if self.implied:
            u, reference = self.implied
            whole = f.whole_units

            def implied(t: float) -> int:
                return max(1, whole(t * u / reference))
            implied.key = ("implied", u, reference)  # type: ignore[attr-defined]  # what the counts depend on (base.unit_counts)
            return implied
        return f.instance_counter(self.unit_tps, self.peak_to_average, self.target_utilization, self.redundancy,
                                  1.0 + self.retry_rate)


def _sizing(scenario: "Scenario", sh: SelfHostedOption) -> Optional[Sizing]:
    """How units are counted, or None when capacity is assumed unlimited: capacity mode's GPU
    instance, simple mode's deployment of a stated capacity, or (a utilization U stated at volume
    T0) a deployment costing infra / U that carries T0 / U at 100%. U was observed on real traffic,
    so its own peaks and retries are in it: the implied unit plans at 100%, no redundancy."""
    if sh.mode == "capacity":
        if sh.instance_hourly_usd is None or sh.gpus_per_instance is None or sh.tokens_per_second_per_gpu is None:
            missing = next(n for n in ("instance_hourly_usd", "gpus_per_instance", "tokens_per_second_per_gpu") if getattr(sh, n) is None)
            raise InputError(f"{sh.id}.{missing}", None, f"a value (resolve {sh.id}.gpu through the GPU catalog first)")
        return Sizing(sh.tokens_per_second_per_gpu * sh.gpus_per_instance, sh.instance_hourly_usd * gpu_hours(scenario, sh),
                      sh.peak_to_average, sh.target_utilization, sh.redundancy, sh.hidden.retry_rate(sh.retry_rate))
    if sh.capacity_tokens_per_day is not None:
        return Sizing(sh.capacity_tokens_per_day / f.SECONDS_PER_DAY, sh.infra_monthly,  # type: ignore[arg-type]
                      sh.peak_to_average, sh.target_utilization, sh.redundancy, sh.hidden.retry_rate(sh.retry_rate))
    reference = implied_reference(scenario, sh)
    if reference is None:
        return None
    u = sh.utilization
    return Sizing(reference / u / f.SECONDS_PER_DAY, f.effective_infra(sh.infra_monthly, u), 1.0, 1.0, 1.0, 0.0,  # type: ignore[arg-type,operator]
                  (u, reference))  # type: ignore[arg-type]


def gpu_hours(scenario: "Scenario", sh: SelfHostedOption) -> float:
    """Billed GPU hours per month: the stated ones, else the token month (days_per_month x 24)."""
    return sh.hours_per_month if sh.hours_per_month is not None else f.hours_per_month(scenario.volume.days_per_month)


def implied_reference(scenario: "Scenario", sh: SelfHostedOption) -> Optional[float]:
    """The volume at which a stated utilization holds (None: capacity assumed unlimited, or
    nothing to infer it from at a volume of 0)."""
    if sh.mode != "simple" or sh.capacity_tokens_per_day is not None or sh.capacity_basis == "unlimited":
        return None
    reference = sh.utilization_at_tokens_per_day or scenario.volume.daily_tokens
    return reference if reference > 0 else None


def breakdown(scenario: "Scenario", sh: SelfHostedOption, t: float, price_factor: float) -> Breakdown:
    details: dict[str, float] = {}
    notes: list[str] = []
    sizing = _sizing(scenario, sh)
    if sizing is None:
        infra = f.effective_infra(sh.infra_monthly, sh.utilization)  # type: ignore[arg-type]
        utilization = sh.utilization
        details["utilization"] = utilization  # type: ignore[assignment]
        notes.append(f"{sh.id}: {UNLIMITED if sh.capacity_basis == 'unlimited' else NO_VOLUME}.")
    else:
        z = sizing
        if z.implied:
            n = z.count(t)
            utilization = t / f.SECONDS_PER_DAY / (n * z.unit_tps)
        else:
            n, utilization = f.deployments(t, z.unit_tps, z.peak_to_average, z.target_utilization, z.redundancy, z.retry_rate)
        infra = n * z.unit_cost
        details.update(instances=float(n), utilization=utilization, capacity_tokens_per_day_per_instance=z.unit_tps * f.SECONDS_PER_DAY)
        if sh.mode == "capacity":
            details["gpus"] = float(n * sh.gpus_per_instance)  # type: ignore[operator]
            if sh.memory_needed_gb is not None and sh.memory_available_gb is not None:
                details.update(memory_needed_gb=sh.memory_needed_gb, memory_available_gb=sh.memory_available_gb)
    if sh.mode == "capacity" and sh.hours_per_month is not None:
        token_hours = f.hours_per_month(scenario.volume.days_per_month)
        if sh.hours_per_month != token_hours:
            notes.append(f"{sh.id}: GPUs bill {sh.hours_per_month:g} hours a month while tokens count "
                         f"{scenario.volume.days_per_month:g}-day months ({token_hours:g} hours): the costs mix two month lengths.")
    running = f.monthly_tokens(t, scenario.volume.days_per_month) * sh.variable_cost_per_1m / f.PER_MILLION
    amounts = {
        "gpu_in_use": infra * utilization,  # type: ignore[operator]
        "idle_gpu": infra * (1.0 - utilization),  # type: ignore[operator]
        "running_cost": running,
        "retries": running * sh.hidden.retry_rate(sh.retry_rate),
        **operation_amounts(sh),
    }
    items = [LINE_ITEMS[k](amounts[k]) for k in LINE_ITEMS] + hidden_items(scenario, sh.id, sh.hidden, t)
    return Breakdown(items, sh.setup_cost + sh.migration_cost, 0.0, details, notes)


NO_VOLUME = ("at a volume of 0 the stated utilization implies no capacity, so the GPU bill is taken to carry any volume: "
             "give utilization_at_tokens_per_day or capacity_tokens_per_day to size it")


def stepping(scenario: "Scenario", sh: SelfHostedOption) -> Optional[Step]:
    """The unit count (GPU instances, or simple mode's deployments) as a step function of volume
    (see ``base.Step``); None when capacity is assumed unlimited (cost affine)."""
    z = _sizing(scenario, sh)
    if z is None:
        return None
    f.deployments(0.0, z.unit_tps, z.peak_to_average, z.target_utilization, z.redundancy, z.retry_rate)  # checks the inputs once
    width = z.unit_tps * z.target_utilization * f.SECONDS_PER_DAY / ((1.0 + z.retry_rate) * z.peak_to_average)
    return Step(width, z.redundancy, z.unit_cost, z.counter)


def anchored(scenario: "Scenario", sh: SelfHostedOption) -> SelfHostedOption:
    """The option with the volume its stated utilization holds at made explicit, so that a copy
    of the scenario at another volume keeps today's hardware (the sensitivity's volume driver)."""
    return anchor_utilization(sh, implied_reference(scenario, sh))


def drivers(sh: SelfHostedOption) -> list[OptionDriver]:
    if sh.mode == "simple" and sh.capacity_tokens_per_day is not None:
        out = [field_driver("infra", "GPU infrastructure per deployment", "infra_monthly", linear=True),
               field_driver("throughput", "Deployment capacity", "capacity_tokens_per_day", sizes_only=True),
               field_driver("utilization", "Target GPU utilization", "target_utilization", 1.0, sizes_only=True)]
    elif sh.mode == "simple":
        out = [field_driver("infra", "GPU infrastructure", "infra_monthly", linear=True),
               field_driver("utilization", "GPU utilization", "utilization", 1.0)]
    else:
        out = [field_driver("infra", "GPU hourly price", "instance_hourly_usd", linear=True),
               field_driver("throughput", "GPU throughput", "tokens_per_second_per_gpu", sizes_only=True),
               field_driver("utilization", "Target GPU utilization", "target_utilization", 1.0, sizes_only=True)]
    return out + [field_driver("fte", "MLOps headcount (FTE)", "fte", linear=True),
                  field_driver("fte_cost", "Loaded cost per FTE", "fte_annual_cost", linear=True)]


def utilization_field(sh: SelfHostedOption) -> str:
    """The field the utilization x volume grid varies: the stated utilization (simple mode) or
    the target (wherever utilization is a result)."""
    return "utilization" if sh.mode == "simple" and sh.capacity_tokens_per_day is None else "target_utilization"


def horizon_notes(scenario: "Scenario", sh: SelfHostedOption) -> list[str]:
    """Where a GPU bill assumed to carry any volume (capacity_basis unlimited) would carry more than
    100% of today's GPUs as volume grows: today's utilization x the growth factor, month by month."""
    if sh.capacity_basis != "unlimited" or sh.utilization is None:
        return []
    g, n = scenario.volume.monthly_growth, scenario.horizon.months
    late = f.month_past_capacity(sh.utilization, g, n)
    if late is None:
        return []
    end = sh.utilization * f.growth_factor(g, n)
    return [f"{sh.id}: at {sh.utilization:.0%} utilization today and {g:.1%} growth a month, the volume passes 100% of "
            f"today's GPUs in month {late} ({end:.0%} of them by month {n}); the flat GPU bill of those months assumes "
            "hardware that is not there (capacity_basis unlimited): without it, deployments are added as the volume grows."]


KIND = Kind(
    name="self_hosted", label="Self-hosted", model=SelfHostedOption, line_items=LINE_ITEMS, breakdown=breakdown,
    drivers=drivers, prices_tokens=False, follows_api_price_decline=False, stepping=stepping, horizon_notes=horizon_notes,
    anchored=anchored,
)

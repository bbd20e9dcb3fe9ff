"""The cell map shared by the template builder, the generator and the reader, for one **shape**:
the scenario's options as (id, kind) pairs, in order.

A workbook has one column per option (Inputs, Prices, Outputs, Cover) and one formula block per
option on Calculations, written by its kind's block (``blocks.py``). Every scenario input has one
cell and one defined name: ``in_`` + the dotted field path with ``_`` for dots and the option id's
name fragment (``-`` becomes ``_``) for the id, e.g. ``in_api_hidden_review_share``,
``in_own_gpus_infra_monthly``. Outputs the engine also computes carry ``out_`` names so the
generator can cache the engine's values and the tests can compare the recalculated workbook with
the engine cell by cell. Constants live in named cells (``k_``); formulas never contain a number
other than 0 and 1.

The first format's three option columns (``api``, ``fine_tuned``, ``self_hosted``) are the
*legacy shape*: its fine-tuned and self-hosted columns can be switched off (Included = No) and
are laid out even when the scenario leaves them out, so an analyst can switch one on. Its
template is the one shipped in ``workbook_templates/scenario.xlsx``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Optional

from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import absolute_coordinate, coordinate_from_string

from ..engine import functions as f
from ..presentation import plain
from ..engine.breakeven import MAX_SEGMENTS
from ..engine.curve import PROBE_TOKENS_PER_DAY
from ..engine.breakeven import ROOT_EDGE, TIE
from ..engine.errors import RunrateError
from ..engine.kinds import KINDS
from ..engine.scenario import LEGACY_SLOTS
from ..engine.sensitivity import GRID_UTILIZATIONS, GRID_VOLUME_FACTORS
from ..fields import Field, kind_fields, scenario_fields, tier_fields


class LayoutError(RunrateError, ValueError):
    """A scenario's options cannot be laid out as a workbook; the message names the field and value."""


# Sheet names, in tab order.
COVER, INPUTS, PRICES, CATALOG, CALC, MONTHLY, OUTPUTS, SENS, CHECKS, LISTS = (
    "Cover", "Inputs", "Prices", "Catalog", "Calculations", "Monthly", "Outputs", "Sensitivity", "Checks", "Lists",
)
SHEETS = (COVER, INPUTS, PRICES, CATALOG, CALC, MONTHLY, OUTPUTS, SENS, CHECKS, LISTS)
# Option inputs that name a row of the Catalog sheet: (kind, field) -> the defined name of its list.
CATALOG_LISTS: dict[tuple[str, str], str] = {("self_hosted", "gpu"): "cat_instances", ("self_hosted", "model"): "cat_models",
                                              ("on_prem", "gpu_type"): "cat_gpu_types"}

MAX_MONTHS = 120  # Horizon.months le=120: one row per month, blank beyond the horizon
MAX_TIERS = 5  # long-context price tiers the Prices sheet holds per API option
COMPOSITE_KINDS = ("mix", "cascade")  # options made of the workbook's other options (engine kinds/composite.py)
MAX_OPTIONS = 8  # option columns a workbook lays out (the cover and outputs stay printable)
YES, NO = "Yes", "No"
FIRST_OPTION_COL = 3  # column C

Shape = tuple[tuple[str, str], ...]  # ((option id, kind), ...) in the scenario's order
LEGACY_SHAPE: Shape = tuple((slot, slot) for slot in LEGACY_SLOTS)

# Constants used by formulas (named cells on the Prices sheet): name -> (label, value, unit, note).
CONSTANTS: dict[str, tuple[str, float, str, str]] = {
    "k_per_million": ("Tokens per million", f.PER_MILLION, "tokens", "Prices are quoted per 1M tokens"),
    "k_months_per_year": ("Months per year", f.MONTHS_PER_YEAR, "months", "Annual to monthly"),
    "k_hours_per_day": ("Hours per day", f.HOURS_PER_DAY, "h", "GPU hours per month = days per month x 24 (one month)"),
    "k_seconds_per_day": ("Seconds per day", f.SECONDS_PER_DAY, "s", "Tokens/day to tokens/s"),
    "k_minutes_per_hour": ("Minutes per hour", 60.0, "min", "Review minutes x hourly rate"),
    "k_cached_convention": ("Cached input price if not published", f.CACHED_INPUT_SHARE_OF_INPUT, "x input", "Convention: 10% of the input price"),
    "k_batch_convention": ("Batch price if not published", f.BATCH_SHARE_OF_STANDARD, "x standard", "Convention: 50% of the standard price"),
    "k_cache_write_5m_convention": ("5-minute cache write if not published", f.CACHE_WRITE_5M_OF_INPUT, "x input",
                                    "Convention where the provider charges a write premium (Anthropic: 1.25x)"),
    "k_cache_write_1h_convention": ("1-hour cache write if not published", f.CACHE_WRITE_1H_OF_INPUT, "x input",
                                    "Convention where the provider charges a write premium (Anthropic: 2x)"),
    "k_flex_convention": ("Flex price if not published", f.FLEX_SHARE_OF_STANDARD, "x standard",
                          "Convention where the provider offers flex (OpenAI: 50%)"),
    "k_probe_tokens_per_day": ("Probe volume at zero volume", PROBE_TOKENS_PER_DAY, "tokens/day", "Used for slopes and the grid when volume is 0"),
    "k_tiny_step": ("Smallest volume probed (piecewise)", 1e-9, "x step", "Share of one GPU step, as in the engine"),
    "k_tie": ("Tie in cost (piecewise)", TIE, "x costs", "A difference this small relative to the costs is a tie, as in the engine"),
    "k_root_edge": ("Root at a step's end (piecewise)", ROOT_EDGE, "relative", "A tie at the step, not a crossing, as in the engine"),
    "k_tolerance": ("Check tolerance", 1e-9, "relative", "Checks allow this rounding difference"),
}

# Number formats
USD = '$#,##0;[Red]-$#,##0'
USD2 = '$#,##0.00;[Red]-$#,##0.00'
PRICE = '$#,##0.00##'
PCT = '0.0%'
INT = '#,##0'
NUM = '#,##0.00'
MONTHS_FMT = '0.0'

_FRAGMENT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def fragment(option_id: str) -> str:
    """The option id as it appears inside defined names (``own-gpus`` -> ``own_gpus``)."""
    frag = option_id.replace("-", "_")
    if not _FRAGMENT.match(frag):
        raise LayoutError(f"options: got the option id {option_id!r}, expected lowercase letters, digits, '-' or '_', "
                          "starting with a letter (at most 32), to name its workbook cells")
    return frag


def shape_of(scenario) -> Shape:
    """The workbook shape of a scenario: the legacy three columns when its options are legacy
    slots (id = kind) in the first format's order with ``api`` among them, else its own options."""
    pairs = tuple((o.id, o.kind) for o in scenario.options)
    ids = [i for i, _ in pairs]
    if (all(i == k and i in LEGACY_SLOTS for i, k in pairs) and "api" in ids
            and ids == [s for s in LEGACY_SLOTS if s in ids]):
        return LEGACY_SHAPE
    return pairs


@dataclass(frozen=True)
class Slot:
    """One option column of a workbook."""

    id: str
    kind: str
    index: int  # 0-based position in the shape
    frag: str  # name fragment
    col: str  # its column on Inputs, Prices, Outputs and the Cover
    switchable: bool  # has an Included (Yes/No) input (the legacy shape's fine_tuned and self_hosted)
    shape: tuple = field(default=(), repr=False, compare=False)  # the workbook's shape (a composite reads its components)

    @property
    def default_label(self) -> str:
        """The engine's label for an option without its own (engine.scenario.option_label)."""
        k = KINDS[self.kind]
        return k.label if self.id == k.name else f"{k.label} ({self.id})"

    @property
    def on(self) -> str:
        """The formula text that is TRUE when the option is compared."""
        return f"c_{self.frag}_on" if self.switchable else "TRUE"

    def name(self, suffix: str) -> str:
        return f"c_{self.frag}_{suffix}"


@dataclass(frozen=True)
class InputSpec:
    path: str  # dotted scenario field, "<id>.included", or "<id>.price_tiers.<i>.<field>"
    label: str
    unit: str
    kind: str  # number | int | text | choice | yesno
    sheet: str
    cell: str  # e.g. "C7"
    fmt: str = "General"
    choices: tuple[str, ...] = ()
    optional: bool = False  # blank means "not given" (None)
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    max_length: Optional[int] = None
    help: str = ""
    option: Optional[str] = None  # the option id: only read when the option is included
    name: str = ""  # defined name
    unit_cell: str = ""  # where its unit is written ("" for tier cells: the header says it)
    required_text: bool = False  # a text that may not be empty

    @property
    def ref(self) -> str:
        return f"'{self.sheet}'!{absolute_coordinate(self.cell)}"

    @property
    def row(self) -> int:
        return coordinate_from_string(self.cell)[1]


# ---------------------------------------------------------------------------------------------
# What each input row is called: the scenario's own sections (hand-labelled) and, per option kind,
# nicer labels than the catalog's for the fields the first version had. Any other field of the
# catalog gets a row with the catalog's label and unit, so a field added to a model appears.

SCENARIO_SECTIONS: list[tuple[str, list[tuple]]] = [
    ("Business unit", [
        ("name", "Business unit / scenario", "text", "text", "@"),
        ("owner_email", "Owner e-mail (memo recipient)", "text", "text", "@"),
        ("notes", "Notes", "text", "text", "@"),
    ]),
    ("Volume (today)", [
        ("volume.tokens_per_day", "Tokens per day (input + output)", "tokens/day", "number", INT),
        ("volume.requests_per_month", "Requests per month", "requests/month", "number", INT),
        ("volume.tokens_per_request", "Tokens per request", "tokens/request", "number", INT),
        ("volume.input_share", "Input share of tokens", "%", "number", PCT),
        ("volume.days_per_month", "Days per month", "days", "number", "0.0"),
        ("volume.monthly_growth", "Volume growth per month", "%/month", "number", PCT),
    ]),
    ("Horizon and finance", [
        ("horizon.months", "TCO horizon", "months", "int", "0"),
        ("horizon.api_price_decline_per_year", "API price decline per year", "%/year", "number", PCT),
        ("horizon.discount_rate_per_year", "Discount rate (NPV)", "%/year", "number", PCT),
        ("horizon.switch_month", "Migration: months before the move starts", "months", "int", "0"),
        ("horizon.overlap_months", "Migration: months both options run", "months", "int", "0"),
        ("sensitivity.swing", "Sensitivity swing (tornado, memo)", "+/- %", "number", PCT),
    ]),
    ("Business context", [
        ("context.current_option", "How it runs today (option id)", "option", "choice", "@"),
        ("context.data_privacy", "Data privacy", "level", "choice", "@"),
        ("context.ml_expertise", "ML infrastructure expertise", "level", "choice", "@"),
        ("context.quality_need", "Quality need", "level", "choice", "@"),
        ("context.latency_p99_ms", "P99 latency need", "ms", "number", INT),
        ("context.outcomes_per_month", "Business outcomes per month", "outcomes/month", "number", INT),
        ("context.outcome_name", "One outcome is called", "text", "text", "@"),
    ]),
]

# (kind, field path in the option) -> (label, unit, format)
NICE: dict[tuple[str, str], tuple[str, str, str]] = {
    ("api", "model"): ("Model (catalog name)", "text", "@"),
    ("api", "cached_share"): ("Share of input served from cache", "%", PCT),
    ("api", "batch_share"): ("Share of tokens via batch API", "%", PCT),
    ("api", "cache_write_share"): ("Share of input written to cache (5 min)", "%", PCT),
    ("api", "cache_write_1h_share"): ("Share of input written to cache (1 hour)", "%", PCT),
    ("api", "reasoning_tokens_per_request"): ("Reasoning tokens per request", "tokens/request", INT),
    ("api", "service_tier"): ("Service tier (non-batch traffic)", "standard/flex/priority", "@"),
    ("api", "negotiated_discount_share"): ("Negotiated discount off token prices", "%", PCT),
    ("api", "retry_rate"): ("Retry overhead", "% extra tokens", PCT),
    ("api", "setup_cost"): ("One-time integration", "USD", USD),
    ("api", "input_price_per_1m"): ("Input", "USD/1M tokens", PRICE),
    ("api", "output_price_per_1m"): ("Output", "USD/1M tokens", PRICE),
    ("api", "cached_input_price_per_1m"): ("Cached input (blank: 10% of input)", "USD/1M tokens", PRICE),
    ("api", "batch_input_price_per_1m"): ("Batch input (blank: 50% of input)", "USD/1M tokens", PRICE),
    ("api", "batch_output_price_per_1m"): ("Batch output (blank: 50% of output)", "USD/1M tokens", PRICE),
    ("api", "cache_write_price_per_1m"): ("Cache write, 5 min (blank: 1.25x input)", "USD/1M tokens", PRICE),
    ("api", "cache_write_1h_price_per_1m"): ("Cache write, 1 hour (blank: 2x input)", "USD/1M tokens", PRICE),
    ("api", "service_input_price_per_1m"): ("Input at the flex/priority tier", "USD/1M tokens", PRICE),
    ("api", "service_output_price_per_1m"): ("Output at the flex/priority tier", "USD/1M tokens", PRICE),
    ("api", "provider"): ("Provider (catalog)", "text", "@"),
    ("api", "price_source"): ("Source", "text", "@"),
    ("api", "price_as_of"): ("Prices as of", "YYYY-MM-DD", "@"),
    ("fine_tuned", "hosting_monthly"): ("Hosting fee", "USD/month", USD),
    ("fine_tuned", "setup_cost"): ("Data prep, training, validation (one-time)", "USD", USD),
    ("fine_tuned", "refresh_interval_months"): ("Re-fine-tune every", "months", "0.0"),
    ("fine_tuned", "refresh_cost"): ("Cost per re-fine-tune", "USD", USD),
    ("fine_tuned", "retry_rate"): ("Retry overhead", "% extra tokens", PCT),
    ("fine_tuned", "input_price_per_1m"): ("Input", "USD/1M tokens", PRICE),
    ("fine_tuned", "output_price_per_1m"): ("Output", "USD/1M tokens", PRICE),
    ("self_hosted", "mode"): ("Sizing mode", "simple/capacity", "@"),
    ("self_hosted", "infra_monthly"): ("Simple: GPU infrastructure", "USD/month", USD),
    ("self_hosted", "utilization"): ("Simple: average utilization today (capacity not stated)", "%", PCT),
    ("self_hosted", "utilization_at_tokens_per_day"): ("Simple: volume that utilization is at (blank: today)", "tokens/day", INT),
    ("self_hosted", "capacity_basis"): ("Simple: capacity implied or unlimited", "implied/unlimited", "@"),
    ("self_hosted", "capacity_tokens_per_day"): ("Simple: capacity of that deployment at 100%", "tokens/day", INT),
    ("self_hosted", "gpu"): ("Capacity: GPU instance (catalog)", "text", "@"),
    ("self_hosted", "model"): ("Capacity: open model (catalog)", "text", "@"),
    ("self_hosted", "precision"): ("Capacity: weight precision", "fp8/fp16/...", "@"),
    ("self_hosted", "pricing_term"): ("Capacity: price term", "term", "@"),
    ("self_hosted", "spot_interruption_overhead"): ("Capacity: spot hours lost to interruptions", "%", PCT),
    ("self_hosted", "context_tokens"): ("Capacity: context per request (memory check)", "tokens", INT),
    ("self_hosted", "concurrent_requests"): ("Capacity: requests held at once (memory check)", "requests", INT),
    ("self_hosted", "memory_headroom"): ("Capacity: GPU memory kept free", "%", PCT),
    ("self_hosted", "model_size"): ("Capacity: legacy model size key (refused)", "text", "@"),
    ("self_hosted", "gpus_per_instance"): ("Capacity: GPUs per instance", "GPUs", "0"),
    ("self_hosted", "tokens_per_second_per_gpu"): ("Capacity: throughput per GPU", "tokens/s", INT),
    ("self_hosted", "peak_to_average"): ("Capacity: peak / average load", "x", "0.00"),
    ("self_hosted", "target_utilization"): ("Capacity: target utilization at peak", "%", PCT),
    ("self_hosted", "redundancy"): ("Capacity: redundancy multiplier", "x", "0.00"),
    ("self_hosted", "hours_per_month"): ("Capacity: GPU hours per month (blank: days x 24)", "hours", INT),
    ("self_hosted", "variable_cost_per_1m"): ("Running cost per 1M tokens", "USD/1M tokens", PRICE),
    ("self_hosted", "fte"): ("MLOps headcount", "FTE", "0.00"),
    ("self_hosted", "fte_annual_cost"): ("Loaded cost per FTE", "USD/year", USD),
    ("self_hosted", "ops_tooling_monthly"): ("Ops tooling", "USD/month", USD),
    ("self_hosted", "storage_monthly"): ("Storage", "USD/month", USD),
    ("self_hosted", "egress_monthly"): ("Egress", "USD/month", USD),
    ("self_hosted", "setup_cost"): ("Build-out (one-time)", "USD", USD),
    ("self_hosted", "migration_cost"): ("Migration (one-time)", "USD", USD),
    ("self_hosted", "retry_rate"): ("Retry overhead", "% extra tokens", PCT),
    ("self_hosted", "instance_hourly_usd"): ("Instance price", "USD/hour", PRICE),
    ("self_hosted", "price_source"): ("Source", "text", "@"),
    ("self_hosted", "price_as_of"): ("Price as of", "YYYY-MM-DD", "@"),
    ("self_hosted", "throughput_source"): ("Throughput source and conditions", "text", "@"),
    ("self_hosted", "throughput_as_of"): ("Throughput as of", "YYYY-MM-DD", "@"),
    ("self_hosted", "memory_needed_gb"): ("Memory needed per replica (weights + KV cache)", "GB", "0.00"),
    ("self_hosted", "memory_available_gb"): ("Memory usable per replica", "GB", "0.00"),
}
HIDDEN_NICE: dict[str, tuple[str, str, str]] = {
    "review_share": ("Share of requests reviewed by a person", "%", PCT),
    "cost_per_review": ("Cost per review (or minutes x rate)", "USD/review", USD2),
    "review_minutes": ("Review time", "min/review", "0.0"),
    "reviewer_hourly_rate": ("Reviewer cost", "USD/hour", USD2),
    "observability_monthly": ("Observability / tracing", "USD/month", USD),
    "tool_calls_per_request": ("Tool calls per request", "calls/request", "0.00"),
    "price_per_tool_call": ("Price per tool call", "USD/call", '$#,##0.0000'),
    "vector_db_monthly": ("Vector DB / embeddings storage", "USD/month", USD),
    "evaluation_monthly": ("Evaluation and quality monitoring", "USD/month", USD),
    "gateway_monthly": ("API gateway / routing", "USD/month", USD),
    "success_rate": ("Tasks right at the first attempt", "%", PCT),
    "on_failure": ("A failed task is (retry / human / escalate)", "choice", "@"),
    "max_attempts": ("Attempts per task at most (retry, escalate)", "attempts", "0"),
}
TIER_NICE = {"above_input_tokens": ("Above input tokens/request", "int", INT),
             "input_price_per_1m": ("Input USD/1M tokens", "number", PRICE),
             "output_price_per_1m": ("Output USD/1M tokens", "number", PRICE)}
_PRICE_LEAVES = {"price_source", "price_as_of", "provider", "instance_hourly_usd", "throughput_source", "throughput_as_of",
                 "memory_needed_gb", "memory_available_gb",
                 "server_price", "server_price_source", "server_price_as_of", "gpu_tdp_watts", "tdp_source", "tdp_as_of"}
_TEXT_LENGTHS = {"name": 120, "owner_email": 254, "notes": 4000}


def on_prices_sheet(rest: str) -> bool:
    """An option field that belongs on the Prices sheet (token and GPU prices and their source)."""
    return rest in _PRICE_LEAVES or rest.endswith("_price_per_1m")


def _fmt_of(fc: Field) -> tuple[str, str]:
    """(unit text, number format) of a catalog field without a hand label."""
    if fc.type in ("fraction", "utilization"):
        return "%", PCT
    if fc.type == "integer":
        return fc.unit or "#", "0"
    if fc.type in ("text", "choice"):
        return ("/".join(fc.choices) if fc.choices else "text"), "@"
    unit = fc.unit or "number"
    if unit.startswith("USD per 1M"):
        return "USD/1M tokens", PRICE
    if unit.startswith("USD"):
        return unit.replace(" per ", "/"), USD
    return unit, NUM


def _cell_kind(fc: Field) -> str:
    return {"integer": "int", "text": "text", "choice": "choice"}.get(fc.type, "number")


def _spec(fc: Field, path: str, name: str, label: str, unit: str, kind: str, fmt: str, sheet: str, cell: str,
          unit_cell: str, option: Optional[str] = None, choices: tuple[str, ...] = (), optional: Optional[bool] = None,
          help: str = "") -> InputSpec:
    """An input whose validation bounds come from the catalog field (one source of truth)."""
    opt = (not fc.required and fc.default is None) if optional is None else optional
    max_length = fc.max_length
    if max_length is None and kind == "text":
        max_length = _TEXT_LENGTHS.get(fc.leaf, 255)
    required_text = kind == "text" and fc.required or fc.path in ("name", "context.outcome_name")
    return InputSpec(path, label, unit, kind, sheet, cell, fmt, choices or fc.choices, opt, fc.low, fc.high,
                     not fc.low_inclusive, not fc.high_inclusive, max_length, plain(help or fc.help), option, name, unit_cell,
                     required_text)


def input_name(path: str, frags: dict[str, str]) -> str:
    head, _, rest = path.partition(".")
    if head in frags:
        return "in_" + frags[head] + ("_" + rest.replace(".", "_") if rest else "")
    return "in_" + path.replace(".", "_")


@dataclass
class Layout:
    """Where every input, block and table of one shape's workbook goes."""

    shape: Shape
    slots: list[Slot] = field(default_factory=list)
    specs: list[InputSpec] = field(default_factory=list)
    input_sections: dict[str, int] = field(default_factory=dict)  # title -> row (Inputs)
    price_sections: dict[str, int] = field(default_factory=dict)  # title -> row (Prices)
    option_rows: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)  # section -> [(rest, label, unit, fmt)]
    header_rows: dict[tuple[str, str], int] = field(default_factory=dict)  # (sheet, section) -> header row
    tier_rows: dict[str, int] = field(default_factory=dict)  # API option id -> first tier row (Prices)
    constant_first_row: int = 0
    inputs_last_row: int = 0

    @property
    def legacy(self) -> bool:
        return self.shape == LEGACY_SHAPE

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.slots]

    @property
    def unit_col(self) -> str:
        return get_column_letter(FIRST_OPTION_COL + len(self.slots))

    @property
    def note_col(self) -> str:
        return get_column_letter(FIRST_OPTION_COL + len(self.slots) + 1)

    @property
    def last_option_col(self) -> str:
        return self.slots[-1].col

    def slot(self, option_id: str) -> Slot:
        return next(s for s in self.slots if s.id == option_id)

    def of_kind(self, kind: str) -> list[Slot]:
        return [s for s in self.slots if s.kind == kind]

    @property
    def anchor(self) -> Slot:
        """The option every primary break-even starts from (engine.breakeven.primary_pair): the
        first API option, else the first option; it is always compared."""
        apis = self.of_kind("api")
        return apis[0] if apis else self.slots[0]

    def primary_candidates(self) -> list[Slot]:
        """The options the primary pair's second side is taken from, first compared one wins."""
        a = self.anchor
        out = [s for s in self.of_kind("self_hosted") if s is not a] + [s for s in self.of_kind("fine_tuned") if s is not a]
        return out + [s for s in self.slots if s is not a and s not in out]

    def pairs(self) -> list[tuple[Slot, Slot]]:
        return [(a, b) for i, a in enumerate(self.slots) for b in self.slots[i + 1:]]

    def components(self, slot: Slot) -> list[Slot]:
        """The options a mix or cascade can route traffic to: every option of the workbook that is
        not itself a mix or cascade (a mix's route has a share cell for each; blank: not routed)."""
        if slot.kind not in COMPOSITE_KINDS:
            return []
        return [s for s in self.slots if s.kind not in COMPOSITE_KINDS]

    def line_items(self, slot: Slot) -> list[tuple[str, str, bool, bool]]:
        """(key, label, hidden, variable) of the option's line items; a composite's are its
        components', keyed ``<component fragment>__<item key>`` (engine: ``<id>.<key>``)."""
        if slot.kind in COMPOSITE_KINDS:
            return [(f"{c.frag}__{k}", f"{c.id}: {label}", hidden, variable)
                    for c in self.components(slot) for k, label, hidden, variable in self.line_items(c)]
        return [(i.key, i.label, i.hidden, i.variable) for i in KINDS[slot.kind].all_line_items.values()]

    def token_items(self, slot: Slot) -> tuple[str, ...]:
        if slot.kind in COMPOSITE_KINDS:
            return tuple(f"{c.frag}__{k}" for c in self.components(slot) for k in self.token_items(c))
        return tuple(i.key for i in KINDS[slot.kind].line_items.values() if i.token)

    def engine_item_key(self, slot: Slot, key: str) -> str:
        """The engine's key of a line item (a composite's: ``<component id>.<item key>``)."""
        if slot.kind in COMPOSITE_KINDS:
            frag, _, rest = key.partition("__")
            return f"{next(c.id for c in self.components(slot) if c.frag == frag)}.{rest}"
        return key

    @cached_property
    def by_path(self) -> dict[str, InputSpec]:
        return {s.path: s for s in self.specs}  # read after layout_for has placed every input

    @cached_property
    def by_name(self) -> dict[str, InputSpec]:
        return {s.name: s for s in self.specs}

    def tier_specs(self, option_id: str, i: int) -> list[InputSpec]:
        by = self.by_path
        return [by[f"{option_id}.price_tiers.{i}.{leaf}"] for leaf in TIER_NICE]


def _check_shape(shape: Shape) -> None:
    if not shape:
        raise LayoutError("options: got none, expected at least one option")
    if len(shape) > MAX_OPTIONS:
        raise LayoutError(f"options: got {len(shape)} options ({', '.join(i for i, _ in shape)}), expected at most "
                          f"{MAX_OPTIONS} in a scenario workbook (one column each); compare the others in a second scenario")
    frags: dict[str, str] = {}
    for option_id, kind in shape:
        if kind not in KINDS:
            raise LayoutError(f"{option_id}.kind: got {kind!r}, expected one of {', '.join(KINDS)}")
        frag = fragment(option_id)
        if frag in frags:
            raise LayoutError(f"options: the ids {frags[frag]!r} and {option_id!r} both name workbook cells {frag}_*; "
                              "expected ids that differ in more than '-' versus '_'")
        frags[frag] = option_id


@lru_cache(maxsize=32)
def layout_for(shape: Shape) -> Layout:
    """The layout of a shape (cached per process)."""
    _check_shape(shape)
    lay = Layout(shape)
    legacy = shape == LEGACY_SHAPE
    for i, (option_id, kind) in enumerate(shape):
        lay.slots.append(Slot(option_id, kind, i, fragment(option_id), get_column_letter(FIRST_OPTION_COL + i),
                              legacy and option_id != "api", shape))
    frags = {s.id: s.frag for s in lay.slots}
    unit_col = lay.unit_col
    specs = lay.specs

    # Inputs: the scenario's own sections (value in C, unit in D, note in E) ...
    by_path = {fc.path: fc for fc in scenario_fields()}
    row = 5
    covered = set()
    sections = [(t, list(r)) for t, r in SCENARIO_SECTIONS]
    extra = [fc for fc in scenario_fields() if fc.type != "json" and fc.path not in {p for _, rows in sections for p, *_ in rows}]
    if extra:
        sections.append(("More inputs", [(fc.path, fc.label, *_fmt_of(fc)[:1], _cell_kind(fc), _fmt_of(fc)[1]) for fc in extra]))
    for title, rows in sections:
        lay.input_sections[title] = row
        row += 1
        for path, label, unit, kind, fmt in rows:
            fc = by_path[path]
            choices = tuple(lay.ids) if path == "context.current_option" else ()
            optional = False if path == "context.current_option" else None
            specs.append(_spec(fc, path, input_name(path, frags), label, unit, kind, fmt, INPUTS, f"C{row}", f"D{row}",
                               choices=choices, optional=optional))
            covered.add(path)
            row += 1
        row += 1

    # ... then one column per option: the options compared, each kind's fields, the hidden costs.
    title = "Options compared"
    lay.input_sections[title] = row
    lay.header_rows[(INPUTS, title)] = row + 1
    row += 2
    lay.option_rows[title] = [("(id)", "Option id", "id", "@"), ("(kind)", "Kind", "kind", "@")]
    row += 2
    if any(s.switchable for s in lay.slots):
        for s in lay.slots:
            if s.switchable:
                specs.append(InputSpec(f"{s.id}.included", "Included", "Yes/No", "yesno", INPUTS, f"{s.col}{row}",
                                       "@", (YES, NO), False, option=s.id, name=input_name(f"{s.id}.included", frags),
                                       unit_cell=f"{unit_col}{row}", help="Yes to compare this option, No to leave it out."))
        lay.option_rows[title].append(("included", "Included (Yes/No)", "Yes/No", "@"))
        row += 1
    label_fields = {s.kind: next(fc for fc in kind_fields(s.kind) if fc.path == "label") for s in lay.slots}
    for s in lay.slots:
        fc = label_fields[s.kind]
        specs.append(_spec(fc, f"{s.id}.label", input_name(f"{s.id}.label", frags), "Label", "text", "text", "@",
                           INPUTS, f"{s.col}{row}", f"{unit_col}{row}", option=s.id,
                           help=f"{fc.help} Blank: {s.default_label}."))
    lay.option_rows[title].append(("label", "Label shown to readers", "text", "@"))
    row += 2

    def option_table(sheet: str, title: str, rest_of: list[tuple[str, str]], start: int, sections: dict) -> int:
        """A table with one row per (kind, field) and one column per option of that kind."""
        r = start
        sections[title] = r
        lay.header_rows[(sheet, title)] = r + 1
        r += 2
        rows = []
        for kind, rest in rest_of:
            fc = next(x for x in kind_fields(kind) if x.path == rest)
            nice = HIDDEN_NICE.get(rest[len("hidden."):]) if rest.startswith("hidden.") else NICE.get((kind, rest))
            unit, fmt = _fmt_of(fc)
            label = fc.label
            if nice is not None:
                label, unit, fmt = nice
            rows.append((rest, label, unit, fmt))
            for s in lay.slots:
                if s.kind != kind and not rest.startswith("hidden."):
                    continue
                if s.kind in COMPOSITE_KINDS and rest.startswith("hidden."):
                    continue  # a composite's hidden costs are its components' (engine kinds/composite.py)
                path = f"{s.id}.{rest}"
                optional = None
                if kind == "api" and rest in ("input_price_per_1m", "output_price_per_1m"):
                    optional = False  # the generator writes resolved prices; the formulas need them
                if kind == "on_prem" and rest == "install_share":
                    optional = True  # blank: the Catalog's, with its server price (a check says when there is none)
                specs.append(_spec(fc, path, input_name(path, frags), label, unit, _cell_kind(fc), fmt, sheet,
                                   f"{s.col}{r}", f"{unit_col}{r}", option=s.id, optional=optional))
            r += 1
        lay.option_rows[title] = rows
        return r + 1

    kinds_present = list(dict.fromkeys(s.kind for s in lay.slots))
    for kind in kinds_present:
        rests = [fc.path for fc in kind_fields(kind)
                 if fc.type != "json" and fc.path != "label" and not fc.path.startswith("hidden.") and not on_prices_sheet(fc.path)]
        if rests:
            row = option_table(INPUTS, f"{KINDS[kind].label} options", [(kind, r) for r in rests], row, lay.input_sections)
    for n, sp in enumerate(specs):  # a composite's option references are lists of the options it can use
        owner = lay.slot(sp.option) if sp.option in lay.ids else None
        if owner is not None and owner.kind in COMPOSITE_KINDS and sp.path.rsplit(".", 1)[-1] in ("first", "then", "quality_option"):
            ids = tuple(c.id for c in lay.components(owner))
            specs[n] = replace(sp, kind="choice", choices=ids, max_length=None, unit="option id",
                               help=f"{sp.help} One of the options of this workbook: {', '.join(ids)}.")
    mixes = lay.of_kind("mix")
    if mixes:  # a mix's route: one share cell per option it can send traffic to (blank: not in the route)
        title = "Mix routes: share of the traffic to each option"
        lay.input_sections[title] = row
        lay.header_rows[(INPUTS, title)] = row + 1
        row += 2
        rows = []
        for c in lay.components(mixes[0]):
            rows.append((f"route.{c.id}", f"Share to {c.id}", "%", PCT))
            for m in mixes:
                specs.append(InputSpec(f"{m.id}.route.{c.id}", f"Share to {c.id}", "%", "number", INPUTS, f"{m.col}{row}", PCT,
                                       optional=True, minimum=0.0, maximum=1.0, option=m.id, name=f"in_{m.frag}_route_{c.frag}",
                                       unit_cell=f"{unit_col}{row}",
                                       help=(f"Share of the mix's traffic sent to {c.id}, 0-1; the shares of a mix sum to 1. "
                                             "Blank: not in the route.")))
            row += 1
        lay.option_rows[title] = rows
        row += 1
    hidden = [fc.path for fc in kind_fields(lay.slots[0].kind) if fc.path.startswith("hidden.")]
    row = option_table(INPUTS, "Hidden costs (the iceberg)", [(lay.slots[0].kind, r) for r in hidden], row, lay.input_sections)
    lay.inputs_last_row = row

    # Prices: each kind's prices, one column per option; the long-context tiers of each API option.
    row = 5
    for kind in kinds_present:
        rests = [fc.path for fc in kind_fields(kind) if fc.type != "json" and on_prices_sheet(fc.path)]
        if rests:
            row = option_table(PRICES, f"{KINDS[kind].label} prices", [(kind, r) for r in rests], row, lay.price_sections)
    tier_fc = {fc.path: fc for fc in tier_fields()}
    for s in lay.of_kind("api"):
        title = f"Long-context price tiers: {s.id}"
        lay.price_sections[title] = row
        row += 2
        lay.tier_rows[s.id] = row
        for i in range(MAX_TIERS):
            for j, (leaf, (label, kind, fmt)) in enumerate(TIER_NICE.items()):
                path = f"{s.id}.price_tiers.{i}.{leaf}"
                specs.append(_spec(tier_fc[leaf], path, input_name(path, frags), f"Tier {i + 1}: {label}", label, kind, fmt,
                                   PRICES, f"{get_column_letter(3 + j)}{row}", "", option=s.id, optional=True,
                                   help="Long-context tier: when a request's input tokens exceed the threshold, the whole "
                                        "request is priced here. Leave blank if none."))
            row += 1
        row += 2
    lay.price_sections["Constants and conventions"] = row
    lay.constant_first_row = row + 1
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise LayoutError(f"options: the ids {', '.join(lay.ids)} give the same workbook cell name twice ({', '.join(dup[:3])}); "
                          "expected ids whose names do not run into another option's field names")
    return lay


def legacy_layout() -> Layout:
    return layout_for(LEGACY_SHAPE)


# ---------------------------------------------------------------------------------------------
# Per-option summary rows (Outputs sheet): out_<id fragment>_<key>.
SUMMARY_ROWS: list[tuple[str, str, str, str]] = [
    # key, label, unit, number format
    ("visible_monthly", "Visible cost (on the invoice)", "USD/month", USD),
    ("hidden_monthly", "Hidden cost (below the waterline)", "USD/month", USD),
    ("total_monthly", "Total monthly cost", "USD/month", USD),
    ("hidden_share", "Hidden share of total", "%", PCT),
    ("fixed_monthly", "Fixed", "USD/month", USD),
    ("variable_monthly", "Variable (scales with volume)", "USD/month", USD),
    ("token_cost_monthly", "Token spend incl. retries", "USD/month", USD),
    ("blended_price_per_1m", "Blended token price", "USD/1M tokens", '$#,##0.0000'),
    ("one_time_cost", "One-time cost (month 0)", "USD", USD),
    ("tco_total", "TCO over the horizon", "USD", USD),
    ("npv", "NPV of costs over the horizon", "USD", USD),
    ("payback_months", "Payback vs today's option", "months", MONTHS_FMT),
    ("cost_per_outcome", "Cost per successful outcome", "USD/outcome", USD2),
    ("cost_per_successful_task", "Cost per successful task (failures included)", "USD/task", USD2),
]

# Break-even table (Outputs): one row per pair of options, these columns.
BREAKEVEN_COLUMNS: list[tuple[str, str, str, str]] = [
    ("pair", "Break-even between", "options", "@"),
    ("tokens_per_day", "Break-even volume", "tokens/day", INT),
    ("requests_per_month", "Break-even requests", "requests/month", INT),
    ("volume_ratio", "Break-even / current volume", "x", "0.00"),
    ("monthly_cost", "Monthly cost at break-even", "USD/month", USD),
    ("api_token_spend", "API token spend at break-even", "USD/month", USD),
    ("cheaper_below", "Cheaper below break-even", "option", "@"),
    ("method", "Method", "text", "@"),
]
BREAKEVEN_ROWS = BREAKEVEN_COLUMNS  # the primary pair's rows (out_be_<key>) use the same keys

MONTHLY_FIRST_ROW = 6  # month 0 is on this row, month m on MONTHLY_FIRST_ROW + m
GRID_FIRST_ROW = 7  # utilizations down column B from this row; volumes across from column C
GRID_COLUMNS = tuple("CDEFGHI")[: len(GRID_VOLUME_FACTORS)]
CURVE_POINTS = 21  # cost-vs-volume chart: points from 0 to the chart's maximum volume


def monthly_columns(lay: Layout) -> dict[str, str]:
    """Monthly sheet column per key: month, active, tokens, price factor, discount factor, GPU
    instances of each self-hosted option, servers of each on-prem option (in use, bought,
    reaching their end of life, owned), then each option's monthly cost, cumulative cost and the
    months in which its cumulative cost is not yet below today's option's (payback reads the last)."""
    keys = ["month", "active", "tokens_per_day", "price_factor", "discount_factor", "mig_share"]
    keys += [f"{s.frag}_instances" for s in lay.of_kind("self_hosted")]
    for s in lay.of_kind("on_prem"):  # servers in use, bought, reaching their end of life, owned (cash series)
        keys += [f"{s.frag}_instances", f"{s.frag}_bought", f"{s.frag}_retired", f"{s.frag}_owned"]
    for m in lay.slots:  # a composite: the volume it carries, each part's cost at its share (helper columns)
        if m.kind in COMPOSITE_KINDS:
            keys += [f"{m.frag}_carries"] + [f"{m.frag}_{j.frag}_part" for j in lay.components(m)]
    for m in lay.slots:  # a composite's on-prem part buys its own servers at its share of the volume
        for j in lay.components(m):
            if j.kind == "on_prem":
                keys += [f"{m.frag}_{j.frag}_instances", f"{m.frag}_{j.frag}_bought", f"{m.frag}_{j.frag}_retired",
                         f"{m.frag}_{j.frag}_owned"]
    keys += [f"{s.frag}_monthly" for s in lay.slots] + [f"{s.frag}_cumulative" for s in lay.slots]
    keys += [f"{s.frag}_behind" for s in lay.slots]  # payback: months not yet below today's option
    keys += [f"{s.frag}_rest" for s in lay.slots]  # a phased move: each option as today's option, at the rest of the traffic
    # helper columns of a phased move (short formulas): a stepped option's units at the moved share and as today's
    # option; a composite's parts as today's option, each at its share
    for s in lay.slots:
        if s.kind == "self_hosted":
            keys.append(f"{s.frag}_moved_units")
        if s.kind in ("self_hosted", "on_prem"):
            keys.append(f"{s.frag}_rest_units")
        if s.kind in COMPOSITE_KINDS:
            keys += [f"{s.frag}_{j.frag}_rest" for j in lay.components(s)]
            keys += [f"{s.frag}_{j.frag}_rest_units" for j in lay.components(s) if j.kind in ("self_hosted", "on_prem")]
    return {k: get_column_letter(2 + i) for i, k in enumerate(keys)}


def breakeven_name(a: Slot, b: Slot, key: str) -> str:
    return f"out_be_{a.frag}_vs_{b.frag}_{key}"


__all__ = [
    "InputSpec", "Layout", "Slot", "Shape", "LEGACY_SHAPE", "layout_for", "legacy_layout", "shape_of", "fragment",
    "LayoutError", "CONSTANTS", "SHEETS", "SUMMARY_ROWS", "BREAKEVEN_COLUMNS", "MAX_MONTHS", "MAX_TIERS",
    "MAX_OPTIONS", "MAX_SEGMENTS", "GRID_UTILIZATIONS", "GRID_VOLUME_FACTORS",
]

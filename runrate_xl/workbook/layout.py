"""The cell map shared by the template builder, the generator and the reader.

Every scenario input has one cell and one defined name (``in_`` + the dotted field path with
``_`` for dots, e.g. ``in_api_hidden_review_share``). Outputs the engine also computes carry
``out_`` names so the generator can cache the engine's values and the tests can compare the
recalculated workbook with the engine cell by cell. Constants live in named cells (``k_``);
formulas never contain a number other than 0 and 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..engine import functions as f
from ..engine.breakeven import MAX_SEGMENTS, _PROBE_TOKENS_PER_DAY
from ..engine.kinds import KINDS
from ..fields import field_at, tier_fields
from ..engine.sensitivity import GRID_UTILIZATIONS, GRID_VOLUME_FACTORS

# Sheet names, in tab order.
COVER, INPUTS, PRICES, CALC, MONTHLY, OUTPUTS, SENS, CHECKS, LISTS = (
    "Cover", "Inputs", "Prices", "Calculations", "Monthly", "Outputs", "Sensitivity", "Checks", "Lists",
)
SHEETS = (COVER, INPUTS, PRICES, CALC, MONTHLY, OUTPUTS, SENS, CHECKS, LISTS)

OPTION_KEYS = ("api", "fine_tuned", "self_hosted")
MAX_MONTHS = 120  # Horizon.months le=120: one row per month, blank beyond the horizon
MAX_TIERS = 5  # long-context price tiers the Prices sheet holds
YES, NO = "Yes", "No"

# Constants used by formulas (named cells on the Prices sheet): name -> (label, value, unit, note).
CONSTANTS: dict[str, tuple[str, float, str, str]] = {
    "k_per_million": ("Tokens per million", f.PER_MILLION, "tokens", "Prices are quoted per 1M tokens"),
    "k_months_per_year": ("Months per year", f.MONTHS_PER_YEAR, "months", "Annual to monthly"),
    "k_seconds_per_day": ("Seconds per day", f.SECONDS_PER_DAY, "s", "Tokens/day to tokens/s"),
    "k_minutes_per_hour": ("Minutes per hour", 60.0, "min", "Review minutes x hourly rate"),
    "k_cached_convention": ("Cached input price if not published", f.CACHED_INPUT_SHARE_OF_INPUT, "x input", "Convention: 10% of the input price"),
    "k_batch_convention": ("Batch price if not published", f.BATCH_SHARE_OF_STANDARD, "x standard", "Convention: 50% of the standard price"),
    "k_probe_tokens_per_day": ("Probe volume at zero volume", _PROBE_TOKENS_PER_DAY, "tokens/day", "Used for slopes and the grid when volume is 0"),
    "k_tiny_step": ("Smallest volume probed (piecewise)", 1e-9, "x step", "Share of one GPU step, as in the engine"),
    "k_tolerance": ("Check tolerance", 1e-9, "relative", "Checks allow this rounding difference"),
}


@dataclass(frozen=True)
class InputSpec:
    path: str  # dotted scenario field, or "<option>.included", or "api.price_tiers.<i>.<field>"
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
    option: Optional[str] = None  # api | fine_tuned | self_hosted: only read when included

    @property
    def name(self) -> str:
        return "in_" + self.path.replace(".", "_")

    @property
    def ref(self) -> str:
        col = "".join(c for c in self.cell if c.isalpha())
        row = "".join(c for c in self.cell if c.isdigit())
        return f"'{self.sheet}'!${col}${row}"


# Number formats
USD = '$#,##0;[Red]-$#,##0'
USD2 = '$#,##0.00;[Red]-$#,##0.00'
PRICE = '$#,##0.00##'
PCT = '0.0%'
INT = '#,##0'
NUM = '#,##0.00'
MONTHS_FMT = '0.0'

def _catalog_field(path: str):
    """The field catalog's entry for an input cell's path (a price tier row: the tier's field)."""
    if ".price_tiers." in path:
        return next(f for f in tier_fields() if f.path == path.rsplit(".", 1)[-1])
    found = field_at(path)
    if found is None:
        raise KeyError(f"{path} is not in the field catalog")
    return found


def _spec(path: str, label: str, unit: str, sheet: str, cell: str, *, kind: str = "number", fmt: str = "General",
          option: Optional[str] = None, choices: tuple[str, ...] = (), help: str = "") -> InputSpec:
    """An input whose validation bounds come from the pydantic field (one source of truth)."""
    if path.endswith(".included"):
        return InputSpec(path, label, unit, "yesno", sheet, cell, choices=(YES, NO), option=option,
                         help=help or "Yes to compare this option, No to leave it out.")
    fc = _catalog_field(path)
    leaf = path.split(".")[-1]
    lo, hi = fc.low, fc.high
    lo_x, hi_x = not fc.low_inclusive, not fc.high_inclusive
    max_length = fc.max_length
    optional = not fc.required and fc.default is None
    if ".price_tiers." in path:
        optional = True  # unused tier rows stay blank
    if path in ("api.input_price_per_1m", "api.output_price_per_1m"):
        optional = False  # the generator writes resolved prices; the formulas need them
    if path == "context.current_option":
        optional = False  # the generator writes the resolved option; the savings formulas need it
    if max_length is None and kind == "text":
        max_length = {"name": 120, "owner_email": 254, "notes": 4000}.get(leaf, 255)
    description = fc.help
    return InputSpec(path, label, unit, kind, sheet, cell, fmt, choices, optional, lo, hi, lo_x, hi_x, max_length,
                     help or description, option)


# ---------------------------------------------------------------------------------------------
# Inputs sheet: sections of (label, value, unit) rows in columns B, C, D; notes in E.
# The hidden-cost table has one column per option (C, D, E) and the unit in F.

INPUT_SECTIONS: list[tuple[str, list[tuple]]] = [
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
        ("sensitivity.swing", "Sensitivity swing (tornado, memo)", "+/- %", "number", PCT),
    ]),
    ("Business context", [
        ("context.current_option", "How it runs today", "option", "choice", "@"),
        ("context.data_privacy", "Data privacy", "level", "choice", "@"),
        ("context.ml_expertise", "ML infrastructure expertise", "level", "choice", "@"),
        ("context.quality_need", "Quality need", "level", "choice", "@"),
        ("context.latency_p99_ms", "P99 latency need", "ms", "number", INT),
        ("context.outcomes_per_month", "Business outcomes per month", "outcomes/month", "number", INT),
        ("context.outcome_name", "One outcome is called", "text", "text", "@"),
    ]),
    ("Options compared", [
        ("fine_tuned.included", "Fine-tuned model", "Yes/No", "yesno", "@"),
        ("self_hosted.included", "Self-hosted open model", "Yes/No", "yesno", "@"),
    ]),
    ("API (rent a model)", [
        ("api.model", "Model (catalog name)", "text", "text", "@"),
        ("api.cached_share", "Share of input served from cache", "%", "number", PCT),
        ("api.batch_share", "Share of tokens via batch API", "%", "number", PCT),
        ("api.retry_rate", "Retry overhead", "% extra tokens", "number", PCT),
        ("api.setup_cost", "One-time integration", "USD", "number", USD),
    ]),
    ("Fine-tuned model (hosted by a vendor)", [
        ("fine_tuned.hosting_monthly", "Hosting fee", "USD/month", "number", USD),
        ("fine_tuned.setup_cost", "Data prep, training, validation (one-time)", "USD", "number", USD),
        ("fine_tuned.refresh_interval_months", "Re-fine-tune every", "months", "number", "0.0"),
        ("fine_tuned.refresh_cost", "Cost per re-fine-tune", "USD", "number", USD),
        ("fine_tuned.retry_rate", "Retry overhead", "% extra tokens", "number", PCT),
    ]),
    ("Self-hosted open model", [
        ("self_hosted.mode", "Sizing mode", "simple/capacity", "choice", "@"),
        ("self_hosted.infra_monthly", "Simple: GPU infrastructure", "USD/month", "number", USD),
        ("self_hosted.utilization", "Simple: average utilization", "%", "number", PCT),
        ("self_hosted.gpu", "Capacity: GPU instance (catalog)", "text", "text", "@"),
        ("self_hosted.model", "Capacity: open model (catalog)", "text", "text", "@"),
        ("self_hosted.precision", "Capacity: weight precision", "fp8/fp16/...", "choice", "@"),
        ("self_hosted.pricing_term", "Capacity: price term", "term", "choice", "@"),
        ("self_hosted.spot_interruption_overhead", "Capacity: spot hours lost to interruptions", "%", "number", PCT),
        ("self_hosted.context_tokens", "Capacity: context per request (memory check)", "tokens", "number", INT),
        ("self_hosted.concurrent_requests", "Capacity: requests held at once (memory check)", "requests", "number", INT),
        ("self_hosted.memory_headroom", "Capacity: GPU memory kept free", "%", "number", PCT),
        ("self_hosted.model_size", "Capacity: legacy model size key (refused)", "text", "text", "@"),
        ("self_hosted.gpus_per_instance", "Capacity: GPUs per instance", "GPUs", "int", "0"),
        ("self_hosted.tokens_per_second_per_gpu", "Capacity: throughput per GPU", "tokens/s", "number", INT),
        ("self_hosted.peak_to_average", "Capacity: peak / average load", "x", "number", "0.00"),
        ("self_hosted.target_utilization", "Capacity: target utilization at peak", "%", "number", PCT),
        ("self_hosted.redundancy", "Capacity: redundancy multiplier", "x", "number", "0.00"),
        ("self_hosted.hours_per_month", "Capacity: billed hours per month", "hours", "number", INT),
        ("self_hosted.variable_cost_per_1m", "Running cost per 1M tokens", "USD/1M tokens", "number", PRICE),
        ("self_hosted.fte", "MLOps headcount", "FTE", "number", "0.00"),
        ("self_hosted.fte_annual_cost", "Loaded cost per FTE", "USD/year", "number", USD),
        ("self_hosted.ops_tooling_monthly", "Ops tooling", "USD/month", "number", USD),
        ("self_hosted.storage_monthly", "Storage", "USD/month", "number", USD),
        ("self_hosted.egress_monthly", "Egress", "USD/month", "number", USD),
        ("self_hosted.setup_cost", "Build-out (one-time)", "USD", "number", USD),
        ("self_hosted.migration_cost", "Migration (one-time)", "USD", "number", USD),
        ("self_hosted.retry_rate", "Retry overhead", "% extra tokens", "number", PCT),
    ]),
]

HIDDEN_FIELDS: list[tuple[str, str, str, str]] = [
    ("review_share", "Share of requests reviewed by a person", "%", PCT),
    ("cost_per_review", "Cost per review (or minutes x rate)", "USD/review", USD2),
    ("review_minutes", "Review time", "min/review", "0.0"),
    ("reviewer_hourly_rate", "Reviewer cost", "USD/hour", USD2),
    ("observability_monthly", "Observability / tracing", "USD/month", USD),
    ("tool_calls_per_request", "Tool calls per request", "calls/request", "0.00"),
    ("price_per_tool_call", "Price per tool call", "USD/call", '$#,##0.0000'),
    ("vector_db_monthly", "Vector DB / embeddings storage", "USD/month", USD),
    ("evaluation_monthly", "Evaluation and quality monitoring", "USD/month", USD),
    ("gateway_monthly", "API gateway / routing", "USD/month", USD),
]
HIDDEN_COLUMNS = {"api": "C", "fine_tuned": "D", "self_hosted": "E"}

PRICE_ROWS: list[tuple] = [
    ("API token prices", [
        ("api.input_price_per_1m", "Input", "USD/1M tokens", "number", PRICE),
        ("api.output_price_per_1m", "Output", "USD/1M tokens", "number", PRICE),
        ("api.cached_input_price_per_1m", "Cached input (blank: 10% of input)", "USD/1M tokens", "number", PRICE),
        ("api.batch_input_price_per_1m", "Batch input (blank: 50% of input)", "USD/1M tokens", "number", PRICE),
        ("api.batch_output_price_per_1m", "Batch output (blank: 50% of output)", "USD/1M tokens", "number", PRICE),
        ("api.price_source", "Source", "text", "text", "@"),
        ("api.price_as_of", "Prices as of", "YYYY-MM-DD", "text", "@"),
    ]),
    ("Fine-tuned model token prices", [
        ("fine_tuned.input_price_per_1m", "Input", "USD/1M tokens", "number", PRICE),
        ("fine_tuned.output_price_per_1m", "Output", "USD/1M tokens", "number", PRICE),
    ]),
    ("Self-hosted GPU price (capacity mode)", [
        ("self_hosted.instance_hourly_usd", "Instance price", "USD/hour", "number", PRICE),
        ("self_hosted.price_source", "Source", "text", "text", "@"),
        ("self_hosted.price_as_of", "Price as of", "YYYY-MM-DD", "text", "@"),
        ("self_hosted.throughput_source", "Throughput source and conditions", "text", "text", "@"),
        ("self_hosted.throughput_as_of", "Throughput as of", "YYYY-MM-DD", "text", "@"),
        ("self_hosted.memory_needed_gb", "Memory needed per replica (weights + KV cache)", "GB", "number", "0.00"),
        ("self_hosted.memory_available_gb", "Memory usable per replica", "GB", "number", "0.00"),
    ]),
]
TIER_FIELDS = (("above_input_tokens", "Applies above (input tokens/request)", "int", INT),
               ("input_price_per_1m", "Input USD/1M", "number", PRICE),
               ("output_price_per_1m", "Output USD/1M", "number", PRICE))
TIER_COLUMNS = ("C", "D", "E")

CHOICES = {
    "context.current_option": OPTION_KEYS,
    "context.data_privacy": ("minimal", "moderate", "strict"),
    "context.ml_expertise": ("none", "limited", "strong"),
    "context.quality_need": ("state_of_the_art", "good_enough", "specialized_domain"),
    "self_hosted.mode": ("simple", "capacity"),
    "self_hosted.precision": ("fp32", "bf16", "fp16", "fp8", "int8", "int4"),
    "self_hosted.pricing_term": ("on_demand", "1yr", "3yr", "spot"),
}


def _option_of(path: str) -> Optional[str]:
    head = path.split(".")[0]
    return head if head in OPTION_KEYS else None


def _build_inputs() -> tuple[list[InputSpec], dict[str, int], dict[str, int]]:
    """Input specs with their cells; also the title rows of the sections on each sheet."""
    specs: list[InputSpec] = []
    input_titles: dict[str, int] = {}
    row = 5
    for title, rows in INPUT_SECTIONS:
        input_titles[title] = row
        row += 1
        for path, label, unit, kind, fmt in rows:
            specs.append(_spec(path, label, unit, INPUTS, f"C{row}", kind=kind, fmt=fmt,
                               option=_option_of(path), choices=CHOICES.get(path, ())))
            row += 1
        row += 1
    input_titles["Hidden costs (the iceberg)"] = row
    row += 2  # title + column header row
    for leaf, label, unit, fmt in HIDDEN_FIELDS:
        for option, col in HIDDEN_COLUMNS.items():
            specs.append(_spec(f"{option}.hidden.{leaf}", label, unit, INPUTS, f"{col}{row}", fmt=fmt, option=option))
        row += 1
    price_titles: dict[str, int] = {}
    row = 5
    for title, rows in PRICE_ROWS:
        price_titles[title] = row
        row += 1
        for path, label, unit, kind, fmt in rows:
            specs.append(_spec(path, label, unit, PRICES, f"C{row}", kind=kind, fmt=fmt, option=_option_of(path)))
            row += 1
        row += 1
    price_titles["Long-context price tiers"] = row
    row += 2
    for i in range(MAX_TIERS):
        for (leaf, label, kind, fmt), col in zip(TIER_FIELDS, TIER_COLUMNS):
            specs.append(_spec(f"api.price_tiers.{i}.{leaf}", f"Tier {i + 1}: {label}", label, PRICES, f"{col}{row}",
                               kind=kind, fmt=fmt, option="api",
                               help="Long-context tier: when a request's input tokens exceed the threshold, the whole request is priced here. Leave blank if none."))
        row += 1
    price_titles["Constants and conventions"] = row + 1
    return specs, input_titles, price_titles


INPUT_SPECS, INPUT_SECTION_ROWS, PRICE_SECTION_ROWS = _build_inputs()
SPECS_BY_PATH = {s.path: s for s in INPUT_SPECS}
SPECS_BY_NAME = {s.name: s for s in INPUT_SPECS}
CONSTANT_FIRST_ROW = PRICE_SECTION_ROWS["Constants and conventions"] + 1


def tier_specs(i: int) -> list[InputSpec]:
    return [SPECS_BY_PATH[f"api.price_tiers.{i}.{leaf}"] for leaf, *_ in TIER_FIELDS]


# ---------------------------------------------------------------------------------------------
# Line items per option: the engine's own (each kind declares them, engine/kinds/), in its order.
LINE_ITEMS: dict[str, list[tuple[str, str, bool, bool]]] = {
    # key, label, hidden, variable
    option: [(i.key, i.label, i.hidden, i.variable) for i in KINDS[option].all_line_items.values()]
    for option in OPTION_KEYS
}
TOKEN_ITEMS = {option: tuple(i.key for i in KINDS[option].line_items.values() if i.token) for option in OPTION_KEYS}

# Per-option summary rows (Outputs sheet): out_<option>_<key>, engine accessor on OptionCost/TcoSeries.
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
    ("cost_per_outcome", "Cost per outcome", "USD/outcome", USD2),
]

BREAKEVEN_ROWS: list[tuple[str, str, str, str]] = [
    ("pair", "Break-even between", "options", "@"),
    ("tokens_per_day", "Break-even volume", "tokens/day", INT),
    ("requests_per_month", "Break-even requests", "requests/month", INT),
    ("volume_ratio", "Break-even / current volume", "x", "0.00"),
    ("monthly_cost", "Monthly cost at break-even", "USD/month", USD),
    ("api_token_spend", "API token spend at break-even", "USD/month", USD),
    ("cheaper_below", "Cheaper below break-even", "option", "@"),
    ("method", "Method", "text", "@"),
]

# Fixed positions of the tables generated into the template (1-based rows).
MONTHLY_FIRST_ROW = 6  # month 0 is on this row, month m on MONTHLY_FIRST_ROW + m
MONTHLY_COLUMNS = {
    "month": "B", "active": "C", "tokens_per_day": "D", "price_factor": "E", "discount_factor": "F",
    "instances": "G",
    "api_monthly": "H", "fine_tuned_monthly": "I", "self_hosted_monthly": "J",
    "api_cumulative": "K", "fine_tuned_cumulative": "L", "self_hosted_cumulative": "M",
    "api_behind": "N", "fine_tuned_behind": "O", "self_hosted_behind": "P",
}
GRID_FIRST_ROW = 7  # utilizations down column B from this row; volumes across from column C
GRID_COLUMNS = tuple("CDEFGHI")[: len(GRID_VOLUME_FACTORS)]
CURVE_POINTS = 21  # cost-vs-volume chart: points from 0 to the chart's maximum volume


def monthly_cell(key: str, month: int) -> str:
    return f"{MONTHLY_COLUMNS[key]}{MONTHLY_FIRST_ROW + month}"


__all__ = [
    "InputSpec", "INPUT_SPECS", "SPECS_BY_PATH", "SPECS_BY_NAME", "CONSTANTS", "SHEETS", "LINE_ITEMS",
    "SUMMARY_ROWS", "BREAKEVEN_ROWS", "MAX_MONTHS", "MAX_TIERS", "MAX_SEGMENTS", "GRID_UTILIZATIONS",
    "GRID_VOLUME_FACTORS",
]

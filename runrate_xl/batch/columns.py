"""The batch input's columns, defined once: name -> scenario field, kind, help.

The same table drives parsing (xlsx / csv / yaml rows), the input template's headers, help and
data validation, and the documentation. Help texts, defaults and numeric bounds come from the
engine's pydantic fields, so a column never disagrees with the scenario it fills.

A path starting with ``*.`` fans out to every option the row defines (api, fine_tuned,
self_hosted and any ``<id>.`` option): the hidden costs shared by all options. A column with a
more specific path for one option (``selfhost_observability_monthly``) wins over the shared one
for that option.

Besides the named columns (the three legacy prefixes ``api_``, ``finetune_``, ``selfhost_``),
a row can define any option by id with dotted columns: ``<id>.kind`` (api, fine_tuned,
self_hosted) and ``<id>.<field>`` for each field of the option kinds in the field catalog
(``frontier.model``, ``mini.cached_share``, ``own-gpus.hidden.review_share``); see
:func:`option_column`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import re

from ..engine.kinds import KINDS, RESERVED_IDS
from ..engine.scenario import LEGACY_SLOTS
from ..fields import Field, field_at, kind_fields, legacy_fields, route_share_field

FANOUT = "*."


@dataclass(frozen=True)
class Column:
    name: str
    path: str  # dotted scenario path; "*.x" = x under every defined option; "" = not a scenario field
    kind: str  # text | email | number | rate | integer | fraction | choice | file
    section: str
    example: Any = None
    note: str = ""  # said in addition to (or, for non-scenario columns, instead of) the field's description
    option_kind: str = ""  # an <id>.<field> column: a kind that has the field (its help, bounds, choices)

    @property
    def fans_out(self) -> bool:
        return self.path.startswith(FANOUT)

    @property
    def field_path(self) -> str:
        """The path of the pydantic field that defines help, default and bounds (for an option
        column, the field under a legacy slot of a kind that has it)."""
        if self.fans_out:
            return "api.hidden." + self.path[len(FANOUT):]
        if self.option_kind:
            return f"{self.option_kind}.{self.path.split('.', 1)[1]}"
        return self.path

    @property
    def help(self) -> str:
        desc = field_description(self.field_path) if self.path else ""
        return " ".join(t for t in (desc, self.note) if t)

    @property
    def choices(self) -> tuple[str, ...]:
        if self.kind != "choice":
            return ()
        if self.path.endswith(".kind") and self.option_kind == "":
            return tuple(KINDS)
        return field_choices(self.field_path)

    @property
    def bounds(self) -> tuple[Optional[float], Optional[float]]:
        """(lowest, highest) allowed, inclusive where known; fractions are 0..1."""
        if self.kind == "fraction":
            return (0.0, 1.0)
        if self.kind in ("number", "rate", "integer"):
            return field_bounds(self.field_path)
        return (None, None)

    @property
    def default(self) -> Any:
        return field_default(self.field_path) if self.path else None


def _c(name: str, path: str, kind: str, section: str, example: Any = None, note: str = "") -> Column:
    return Column(name, path, kind, section, example, note)


NAMED_COLUMNS: tuple[Column, ...] = (
    # Who
    _c("name", "name", "text", "Business unit", "Customer support", "Required (here or in scenario_file); unique names are not required."),
    _c("owner_email", "owner_email", "email", "Business unit", "support-lead@example.com", "Needed for --mail drafts/send."),
    _c("notes", "notes", "text", "Business unit", "Replies drafted for agents."),
    _c("scenario_file", "", "file", "Business unit", "claims-processing.yaml",
       "Optional: a full scenario YAML, relative to the input file and inside its folder. "
       "Non-empty columns of the row override its fields."),
    # Volume
    _c("tokens_per_day", "volume.tokens_per_day", "number", "Volume", 50_000_000, "Or requests_per_month with tokens_per_request."),
    _c("requests_per_month", "volume.requests_per_month", "number", "Volume", 600_000),
    _c("tokens_per_request", "volume.tokens_per_request", "number", "Volume", 3000),
    _c("input_share", "volume.input_share", "fraction", "Volume", 0.8),
    _c("days_per_month", "volume.days_per_month", "number", "Volume", 30),
    _c("monthly_growth", "volume.monthly_growth", "rate", "Volume", 0.03),
    # API
    _c("api_model", "api.model", "text", "API", "gpt-4o-mini", "`runrate prices --list` shows the catalog."),
    _c("api_input_price_per_1m", "api.input_price_per_1m", "number", "API", 0.15, "Empty: the catalog price of api_model."),
    _c("api_output_price_per_1m", "api.output_price_per_1m", "number", "API", 0.60, "Empty: the catalog price of api_model."),
    _c("api_cached_input_price_per_1m", "api.cached_input_price_per_1m", "number", "API", 0.075),
    _c("cached_share", "api.cached_share", "fraction", "API", 0.4),
    _c("batch_share", "api.batch_share", "fraction", "API", 0.0),
    _c("retry_rate", "api.retry_rate", "rate", "API", 0.04),
    _c("api_setup_cost", "api.setup_cost", "number", "API", 0),
    # Hidden costs, shared by every option the row defines
    _c("review_share", "*.review_share", "fraction", "Hidden costs (every option)", 0.05),
    _c("cost_per_review", "*.cost_per_review", "number", "Hidden costs (every option)", 2.0),
    _c("review_minutes", "*.review_minutes", "number", "Hidden costs (every option)", None),
    _c("reviewer_hourly_rate", "*.reviewer_hourly_rate", "number", "Hidden costs (every option)", None),
    _c("observability_monthly", "*.observability_monthly", "number", "Hidden costs (every option)", 1500),
    _c("tool_calls_per_request", "*.tool_calls_per_request", "number", "Hidden costs (every option)", 0),
    _c("price_per_tool_call", "*.price_per_tool_call", "number", "Hidden costs (every option)", 0),
    _c("vector_db_monthly", "*.vector_db_monthly", "number", "Hidden costs (every option)", 0),
    _c("evaluation_monthly", "*.evaluation_monthly", "number", "Hidden costs (every option)", 0),
    _c("gateway_monthly", "*.gateway_monthly", "number", "Hidden costs (every option)", 0),
    # Fine-tuned (optional: leave every finetune_ column empty to leave the option out)
    _c("finetune_input_price_per_1m", "fine_tuned.input_price_per_1m", "number", "Fine-tuned", 0.30),
    _c("finetune_output_price_per_1m", "fine_tuned.output_price_per_1m", "number", "Fine-tuned", 1.20),
    _c("finetune_hosting_monthly", "fine_tuned.hosting_monthly", "number", "Fine-tuned", 1500),
    _c("finetune_setup_cost", "fine_tuned.setup_cost", "number", "Fine-tuned", 60_000),
    _c("finetune_refresh_interval_months", "fine_tuned.refresh_interval_months", "number", "Fine-tuned", 6),
    _c("finetune_refresh_cost", "fine_tuned.refresh_cost", "number", "Fine-tuned", 15_000),
    # Self-hosted (optional: leave every selfhost_ column empty to leave the option out)
    _c("selfhost_mode", "self_hosted.mode", "choice", "Self-hosted", "simple",
       "Empty: capacity when a GPU sizing column (selfhost_gpu, selfhost_model, selfhost_model_size, selfhost_instance_hourly_usd, "
       "selfhost_gpus_per_instance, selfhost_tokens_per_second_per_gpu) is given, else simple."),
    _c("selfhost_infra_monthly", "self_hosted.infra_monthly", "number", "Self-hosted", 4140),
    _c("selfhost_utilization", "self_hosted.utilization", "fraction", "Self-hosted", 0.6),
    _c("selfhost_gpu", "self_hosted.gpu", "text", "Self-hosted", None),
    _c("selfhost_model", "self_hosted.model", "text", "Self-hosted", None),
    _c("selfhost_precision", "self_hosted.precision", "choice", "Self-hosted", None),
    _c("selfhost_model_size", "self_hosted.model_size", "text", "Self-hosted", None),
    _c("selfhost_peak_to_average", "self_hosted.peak_to_average", "number", "Self-hosted", None),
    _c("selfhost_target_utilization", "self_hosted.target_utilization", "fraction", "Self-hosted", None),
    _c("selfhost_redundancy", "self_hosted.redundancy", "number", "Self-hosted", None),
    _c("selfhost_fte", "self_hosted.fte", "number", "Self-hosted", 0.5),
    _c("selfhost_fte_annual_cost", "self_hosted.fte_annual_cost", "number", "Self-hosted", 150_000),
    _c("selfhost_ops_tooling_monthly", "self_hosted.ops_tooling_monthly", "number", "Self-hosted", 800),
    _c("selfhost_storage_monthly", "self_hosted.storage_monthly", "number", "Self-hosted", 0),
    _c("selfhost_egress_monthly", "self_hosted.egress_monthly", "number", "Self-hosted", 0),
    _c("selfhost_variable_cost_per_1m", "self_hosted.variable_cost_per_1m", "number", "Self-hosted", 0),
    _c("selfhost_setup_cost", "self_hosted.setup_cost", "number", "Self-hosted", 80_000),
    _c("selfhost_migration_cost", "self_hosted.migration_cost", "number", "Self-hosted", 0),
    _c("selfhost_observability_monthly", "self_hosted.hidden.observability_monthly", "number", "Self-hosted", 2500,
       "Overrides observability_monthly for the self-hosted option."),
    # Decision context
    _c("data_privacy", "context.data_privacy", "choice", "Context", "moderate"),
    _c("ml_expertise", "context.ml_expertise", "choice", "Context", "limited"),
    _c("quality_need", "context.quality_need", "choice", "Context", "good_enough"),
    _c("latency_p99_ms", "context.latency_p99_ms", "number", "Context", None),
    _c("outcomes_per_month", "context.outcomes_per_month", "number", "Context", 400_000),
    _c("outcome_name", "context.outcome_name", "text", "Context", "resolved ticket"),
    _c("current_option", "context.current_option", "option", "Context", "api",
       "An option id of the row: api, fine_tuned or self_hosted for the prefixed columns, or the <id> of <id>.kind columns."),
    # Horizon
    _c("horizon_months", "horizon.months", "integer", "Horizon", 36),
    _c("api_price_decline_per_year", "horizon.api_price_decline_per_year", "rate", "Horizon", 0.2),
    _c("discount_rate_per_year", "horizon.discount_rate_per_year", "rate", "Horizon", 0.08),
)

# Every other field of the catalog gets a column named after its path, so a field added to a
# model is a batch column with no other edit. Left out, with the reason: list fields (JSON in one
# cell does not belong in a row: give them in a scenario_file) and what the catalog fills in.
_NOT_COLUMNS = {"price_tiers": "a list: give it in a scenario_file",
                "price_source": "filled by the catalog", "price_as_of": "filled by the catalog",
                "throughput_source": "filled by the catalog", "throughput_as_of": "filled by the catalog",
                "memory_needed_gb": "filled by the catalog", "memory_available_gb": "filled by the catalog"}
_PREFIX = {"api": "api_", "fine_tuned": "finetune_", "self_hosted": "selfhost_", "horizon": "horizon_",
           "sensitivity": "sensitivity_", "rules": "rules_", "volume": "", "context": "", "(scenario)": ""}
_SECTION = {"api": "API", "fine_tuned": "Fine-tuned", "self_hosted": "Self-hosted", "horizon": "Horizon",
            "sensitivity": "Sensitivity", "rules": "Decision rules", "volume": "Volume", "context": "Context", "(scenario)": "Business unit"}
_KIND = {"fraction": "fraction", "utilization": "fraction", "integer": "integer", "choice": "choice", "text": "text",
         "boolean": "boolean"}


def _derived_columns(named: tuple[Column, ...]) -> tuple[Column, ...]:
    covered = {c.path for c in named}
    shared = {c.path[len(FANOUT):] for c in named if c.path.startswith(FANOUT)}
    out = []
    for f in legacy_fields():
        if f.path in covered or f.leaf in _NOT_COLUMNS or f.type == "json":
            continue
        head, _, rest = f.path.partition(".")
        if f.option_kind:
            if rest.startswith("hidden.") and rest[len("hidden."):] in shared:
                continue  # the shared hidden-cost column fills it
            section, tail = head, rest
        else:
            section, tail = f.section, f.leaf
        out.append(Column(_PREFIX[section] + tail.replace(".", "_"), f.path, _KIND.get(f.type, "number"), _SECTION[section]))
    return tuple(out)


COLUMNS: tuple[Column, ...] = NAMED_COLUMNS + _derived_columns(NAMED_COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
assert len(BY_NAME) == len(COLUMNS), "two batch columns share a name"


# --- Options by id: dotted columns <id>.kind and <id>.<field> ------------------------------

_OPTION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def _option_field(rest: str) -> Optional[Field]:
    """The catalog field an option column ``<id>.<rest>`` fills (the first kind that has it)."""
    for kind in KINDS:
        found = next((f for f in kind_fields(kind) if f.path == rest and f.type != "json"), None)
        if found is not None:
            return found
    return None


def option_column(name: str) -> Optional[Column]:
    """The column ``<id>.kind`` or ``<id>.<field>`` (a field of any option kind in the catalog,
    e.g. ``mini.cached_share``, ``own-gpus.hidden.review_share``); None when ``name`` is not one."""
    head, dot, rest = name.partition(".")
    if not dot or not _OPTION_ID.match(head) or head in RESERVED_IDS or head in LEGACY_SLOTS:
        return None
    section = f"Option {head}"
    if rest == "kind":
        return Column(name, name, "choice", section, note="The option's kind; the row's <id>.<field> columns fill it.")
    if rest.startswith("route."):  # a mix's share to one option: <mix id>.route.<option id>
        share = route_share_field(name, head, rest[len("route."):])
        return None if share is None else Column(name, name, "fraction", section, option_kind="mix")
    found = _option_field(rest)
    if found is None or found.leaf in _NOT_COLUMNS:
        return None
    return Column(name, name, _KIND.get(found.type, "number"), section, option_kind=found.option_kind or "")


def column_of(name: str) -> Optional[Column]:
    """A named column, or an option column by id (see option_column)."""
    return BY_NAME.get(name) or option_column(name)


def columns_markdown() -> str:
    """The README's column table, generated (a test keeps the README equal to it)."""
    lines = ["| column | section | expected | default | meaning |", "|---|---|---|---|---|"]
    for c in COLUMNS:
        default = "" if c.default is None else c.default
        lines.append(f"| `{c.name}` | {c.section} | {describe_kind(c)} | {default} | {c.help} |")
    lines.append(f"| `<id>.kind` | Option `<id>` | one of {', '.join(KINDS)} | | An option of the row named `<id>` "
                 "(lowercase letters, digits, '-', '_'; not api, fine_tuned or self_hosted, which the prefixed columns "
                 "fill), e.g. `frontier.kind`. |")
    fields = sorted({f.path for k in KINDS for f in kind_fields(k) if f.type != "json" and f.leaf not in _NOT_COLUMNS})
    lines.append(f"| `<id>.<field>` | Option `<id>` | as the field | the field's | A field of that option's kind, e.g. "
                 f"`frontier.model`, `mini.cached_share`, `own-gpus.hidden.review_share`. Fields: {', '.join(fields)}. |")
    lines.append("| `<id>.route.<option id>` | Option `<id>` | a fraction between 0 and 1 (e.g. 0.8) | | A mix's share of "
                 "the traffic to one option (one column per option of the route; the shares sum to 1), e.g. "
                 "`blend.route.frontier` 0.2 and `blend.route.own-gpus` 0.8 with `blend.kind` mix. A cascade takes "
                 "`<id>.first`, `<id>.then` and `<id>.escalation_share` (left blank when the first option's "
                 "`hidden.on_failure` is escalate: its failed share). |")
    return "\n".join(lines) + "\n"

# Model-level checks (pydantic validators on a whole group) name the columns that feed them.
GROUP_COLUMNS: dict[str, tuple[str, ...]] = {
    "(scenario)": ("current_option",),
    "volume": ("tokens_per_day", "requests_per_month", "tokens_per_request", "days_per_month"),
    "api": ("api_model", "api_input_price_per_1m", "api_output_price_per_1m"),
    "options": ("api_model", "api_input_price_per_1m", "api_output_price_per_1m"),  # no option at all
    "fine_tuned": ("finetune_input_price_per_1m", "finetune_output_price_per_1m"),
    "self_hosted": ("selfhost_mode", "selfhost_infra_monthly", "selfhost_utilization", "selfhost_gpu", "selfhost_model", "selfhost_model_size"),
    "hidden": ("review_share", "cost_per_review", "review_minutes", "reviewer_hourly_rate"),
}

OPTION_PREFIX = {"api": "api", "fine_tuned": "finetune", "self_hosted": "selfhost"}


def normalise_header(text: Any) -> str:
    """'Tokens per day ' -> 'tokens_per_day' (headers are matched loosely, values strictly); a
    dotted option column keeps its id as typed (lowercased): 'Own-GPUs.Infra monthly' ->
    'own-gpus.infra_monthly'."""
    words = str(text).strip().lower()
    if "." in words:
        head, _, rest = words.partition(".")
        return head.strip() + "." + "_".join(rest.replace("-", " ").split())
    return "_".join(words.replace("-", " ").split())


# Model-level checks of an option given by id name these of its columns, by kind.
_KIND_GROUPS = {"api": ("model", "input_price_per_1m", "output_price_per_1m"),
                "fine_tuned": ("input_price_per_1m", "output_price_per_1m"),
                "self_hosted": ("mode", "infra_monthly", "utilization", "gpu", "model_size")}


def columns_for(path: str, kinds: Optional[dict[str, str]] = None) -> tuple[str, ...]:
    """The column(s) behind a dotted scenario location from a validation error ('' if none);
    ``kinds`` maps the row's option ids (from <id>.kind columns) to their kinds."""
    for col in COLUMNS:
        if col.path == path:
            return (col.name,)
    head, _, rest = path.partition(".")
    if kinds and head in kinds:
        if rest:
            return (path,)
        return tuple(f"{head}.{leaf}" for leaf in _KIND_GROUPS.get(kinds[head], ("kind",)))
    if head in LEGACY_SLOTS and rest.startswith("hidden.") and (FANOUT + rest[len("hidden."):]) in _FANOUT_PATHS:
        return (_FANOUT_PATHS[FANOUT + rest[len("hidden."):]],)
    if path.endswith(".hidden") or path == "hidden":
        return GROUP_COLUMNS["hidden"]
    return GROUP_COLUMNS.get(path, ())


_FANOUT_PATHS = {c.path: c.name for c in COLUMNS if c.fans_out}


# --- What the field catalog says about each column ----------------------------------------


def _field(path: str):
    head = path.split(".", 1)[0]
    found = field_at(path, {head: head} if head in KINDS else None)  # an option column's field under its kind's name
    if found is None:
        raise KeyError(f"{path} is not in the field catalog")
    return found


def field_description(path: str) -> str:
    return _field(path).help


def field_default(path: str) -> Any:
    return _field(path).default


def field_choices(path: str) -> tuple[str, ...]:
    return _field(path).choices


def field_bounds(path: str) -> tuple[Optional[float], Optional[float]]:
    """(lowest, highest) from the field's bounds (strictness in describe_kind)."""
    f = _field(path)
    return (f.low, f.high)




def describe_kind(col: Column) -> str:
    """What a column expects, for error messages, the template's help and the docs: the field
    catalog's words (``fields.Field.expected``) for a column that holds a field, with the
    percentages batch cells accept; the batch's own words for its own columns."""
    if col.kind == "email":
        return "an email address like name@example.com"
    if col.kind == "file":
        return "a scenario YAML path relative to the input file, inside its folder"
    if col.kind == "option":
        return "an option id of the row (e.g. api, self_hosted, frontier)"
    if col.kind == "choice":
        return "one of " + ", ".join(col.choices)
    if not col.field_path:
        return "text"
    return _field(col.field_path).expected(percent=col.kind in ("fraction", "rate"))

"""One formula block per option kind: the live Excel formulas of one option column.

Each kind's block writes, on the Calculations sheet, what its line items need (prices in force,
GPU sizing), and says in formula text how each of its line items is computed (``rates``: USD/month
per token/day for variable items, ``fixed``: USD/month for fixed ones; keys are the engine's
``LINE_ITEMS`` of ``engine/kinds/<kind>.py``), its one-time cost, its cost at another volume
(break-even, curves), its month of the TCO series and its input checks. The template builder
(``template.py``) walks the options and calls the block of each one's kind; adding a kind is
adding its block to ``BLOCKS``. Names are per option: ``c_<id fragment>_<what>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

from . import layout as L


@dataclass
class Written:
    """What a block wrote for one option: its line-item formulas and one-time cost."""

    rates: dict[str, str] = field(default_factory=dict)  # key -> formula (may use {first_rate}/{prev_rate})
    fixed: dict[str, str] = field(default_factory=dict)  # key -> expression (no leading "=")
    one_time: str = "0"
    # key -> condition: the line item shows blank unless it holds (a composite's component not run)
    when: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Block:
    write: Callable  # (calc, layout, slot) -> Written
    cost_at: Callable  # (slot, t) -> expression of the monthly cost at volume t (prices of today)
    monthly: Callable  # (slot, t, price_factor, instances_cell) -> expression of one month of the series
    stepped: Callable[[L.Slot], Optional[str]] = lambda s: None  # formula TRUE when the cost steps with volume
    checks: Callable = lambda s: []  # (slot) -> [(label, condition, where)]
    blended: bool = True  # has a blended token price
    unit_items: tuple[str, ...] = ()  # line items paid per unit (GPU instance, server): not in "fixed excluding units"
    # A kind that buys its units (engine Kind.cash): units in use at volume t, and the cash a month of the
    # series adds to its run-rate given the row's cells {"units", "bought", "retired", "month"}.
    units: Optional[Callable[[L.Slot, str], str]] = None
    cash: Optional[Callable[[L.Slot, dict], str]] = None
    composite: bool = False  # a mix or cascade: the sum of the workbook's other options at their shares


def hidden_rates(s: L.Slot, w: Written) -> None:
    """The hidden items every option carries (engine/kinds/base.HIDDEN_ITEMS)."""
    h, on, o = f"in_{s.frag}_hidden", s.on, s.frag
    w.rates["human_review"] = f"=IF({on},c_requests_rate*({h}_review_share+c_{o}_failed)*c_{o}_review_unit,\"\")"
    # a retried task runs its tool calls again: paid on every attempt (engine functions.tool_calls_cost)
    w.rates["tool_calls"] = f"=IF({on},c_requests_rate*{h}_tool_calls_per_request*c_{o}_attempts*{h}_price_per_tool_call,\"\")"
    w.fixed["observability"] = f"{h}_observability_monthly"
    w.fixed["vector_db"] = f"{h}_vector_db_monthly"
    w.fixed["evaluation"] = f"{h}_evaluation_monthly"
    w.fixed["gateway"] = f"{h}_gateway_monthly"


def operations(s: L.Slot, w: Written) -> None:
    """What running your own hardware adds, rented or bought (engine kinds self_hosted and
    on_prem): people, tooling, storage, egress, the hidden items and the one-time build-out."""
    i = f"in_{s.frag}"
    w.fixed["people"] = f"{i}_fte*{i}_fte_annual_cost/k_months_per_year"
    w.fixed["ops_tooling"] = f"{i}_ops_tooling_monthly"
    w.fixed["storage"] = f"{i}_storage_monthly"
    w.fixed["egress"] = f"{i}_egress_monthly"
    hidden_rates(s, w)
    w.one_time = f"{i}_setup_cost+{i}_migration_cost"


# --- api ---------------------------------------------------------------------------------------


def _api_write(c, lay: L.Layout, s: L.Slot) -> Written:
    p, i = s.frag, f"in_{s.frag}"
    D, sh = "in_volume_days_per_month", "in_volume_input_share"
    c.line(f"c_{p}_tier_index", "Tier in force (0 = standard prices)",
           f"=IF(c_has_size,SUMPRODUCT(ISNUMBER(tbl_{p}_tier_above)*(tbl_{p}_tier_above<c_input_per_request)),0)", "tier", "0")
    c.line(f"c_{p}_tier_applies", "Long-context tier applies", f"=c_{p}_tier_index>0", "TRUE/FALSE")
    c.line(f"c_{p}_p_in", "Input price", f"=IF(c_{p}_tier_applies,INDEX(tbl_{p}_tier_input,c_{p}_tier_index),{i}_input_price_per_1m)",
           "USD/1M tokens", L.PRICE)
    c.line(f"c_{p}_p_out", "Output price", f"=IF(c_{p}_tier_applies,INDEX(tbl_{p}_tier_output,c_{p}_tier_index),{i}_output_price_per_1m)",
           "USD/1M tokens", L.PRICE)
    c.line(f"c_{p}_ratio_in", "Tier ratio, input",
           f"=IF(c_{p}_tier_applies,IF({i}_input_price_per_1m<>0,c_{p}_p_in/{i}_input_price_per_1m,1),1)", "x", "0.0000")
    c.line(f"c_{p}_ratio_out", "Tier ratio, output",
           f"=IF(c_{p}_tier_applies,IF({i}_output_price_per_1m<>0,c_{p}_p_out/{i}_output_price_per_1m,1),1)", "x", "0.0000")
    c.line(f"c_{p}_p_cached", "Cached input price",
           f"=IF(ISNUMBER({i}_cached_input_price_per_1m),{i}_cached_input_price_per_1m*c_{p}_ratio_in,k_cached_convention*c_{p}_p_in)",
           "USD/1M tokens", L.PRICE, "blank: 10% convention")
    c.line(f"c_{p}_p_batch_in", "Batch input price",
           f"=IF(ISNUMBER({i}_batch_input_price_per_1m),{i}_batch_input_price_per_1m*c_{p}_ratio_in,k_batch_convention*c_{p}_p_in)",
           "USD/1M tokens", L.PRICE, "blank: 50% convention")
    c.line(f"c_{p}_p_batch_out", "Batch output price",
           f"=IF(ISNUMBER({i}_batch_output_price_per_1m),{i}_batch_output_price_per_1m*c_{p}_ratio_out,k_batch_convention*c_{p}_p_out)",
           "USD/1M tokens", L.PRICE, "blank: 50% convention")
    c.line(f"c_{p}_svc_in", "Service tier factor, input",
           f"=IF({i}_service_tier=\"standard\",1,IF(ISNUMBER({i}_service_input_price_per_1m),IF({i}_input_price_per_1m<>0,"
           f"{i}_service_input_price_per_1m/{i}_input_price_per_1m,1),k_flex_convention))", "x standard", "0.0000",
           "flex/priority price / standard; blank flex: 50% convention")
    c.line(f"c_{p}_svc_out", "Service tier factor, output",
           f"=IF({i}_service_tier=\"standard\",1,IF(ISNUMBER({i}_service_output_price_per_1m),IF({i}_output_price_per_1m<>0,"
           f"{i}_service_output_price_per_1m/{i}_output_price_per_1m,1),k_flex_convention))", "x standard", "0.0000")
    c.line(f"c_{p}_s_in", "Input price at the service tier", f"=c_{p}_p_in*c_{p}_svc_in", "USD/1M tokens", L.PRICE)
    c.line(f"c_{p}_s_out", "Output price at the service tier", f"=c_{p}_p_out*c_{p}_svc_out", "USD/1M tokens", L.PRICE)
    c.line(f"c_{p}_p_write", "Cache-write price, 5 minutes (at the service tier)",
           f"=IF(ISNUMBER({i}_cache_write_price_per_1m),{i}_cache_write_price_per_1m*c_{p}_ratio_in,"
           f"k_cache_write_5m_convention*c_{p}_p_in)*c_{p}_svc_in", "USD/1M tokens", L.PRICE, "blank: 1.25x input convention")
    c.line(f"c_{p}_p_write_1h", "Cache-write price, 1 hour (at the service tier)",
           f"=IF(ISNUMBER({i}_cache_write_1h_price_per_1m),{i}_cache_write_1h_price_per_1m*c_{p}_ratio_in,"
           f"k_cache_write_1h_convention*c_{p}_p_in)*c_{p}_svc_in", "USD/1M tokens", L.PRICE, "blank: 2x input convention")
    c.line(f"c_{p}_keep", "Share of list price paid", f"=1-{i}_negotiated_discount_share", "x list", L.PCT, "after the negotiated discount")
    w = Written()
    pm, k = "/k_per_million", f"*c_{p}_keep"
    sync = f"(1-{i}_batch_share)"
    w.rates["input_tokens"] = (f"={D}*{sh}*{sync}*MAX(0,1-{i}_cached_share-{i}_cache_write_share-{i}_cache_write_1h_share)"
                               f"*c_{p}_s_in{pm}{k}")
    w.rates["cached_input_tokens"] = f"={D}*{sh}*{sync}*{i}_cached_share*c_{p}_p_cached*c_{p}_svc_in{pm}{k}"
    w.rates["cache_write_tokens"] = (f"={D}*{sh}*{sync}*({i}_cache_write_share*c_{p}_p_write+{i}_cache_write_1h_share*c_{p}_p_write_1h)"
                                     f"{pm}{k}")
    w.rates["output_tokens"] = f"={D}*(1-{sh})*{sync}*c_{p}_s_out{pm}{k}"
    w.rates["reasoning_tokens"] = (f"=c_requests_rate*{i}_reasoning_tokens_per_request*({sync}*c_{p}_s_out"
                                   f"+{i}_batch_share*c_{p}_p_batch_out){pm}{k}")
    w.rates["batch_tokens"] = f"={D}*{i}_batch_share*({sh}*c_{p}_p_batch_in+(1-{sh})*c_{p}_p_batch_out){pm}{k}"
    w.rates["retries"] = f"=IF({s.on},c_{s.frag}_retry_all*SUM({{first_rate}}:{{prev_rate}}),\"\")"
    hidden_rates(s, w)
    w.one_time = f"{i}_setup_cost"
    return w


def _api_checks(s: L.Slot) -> list:
    i, on = f"in_{s.frag}", s.on
    known = f"LEN({i}_provider)>0"
    return [
        (f"{s.id}: cached and cache-write shares add up to at most the input",
         f"OR(NOT({on}),{i}_cached_share+{i}_cache_write_share+{i}_cache_write_1h_share<=1+k_tolerance)", "Inputs"),
        (f"{s.id}: reasoning tokens are counted per request, so they need a request size",
         f"OR(NOT({on}),{i}_reasoning_tokens_per_request=0,c_has_size)", "Inputs"),
        (f"{s.id}: cache writes have a price, or a provider that charges the convention's premium",
         f"OR(NOT({on}),AND(OR({i}_cache_write_share=0,ISNUMBER({i}_cache_write_price_per_1m),{known}),"
         f"OR({i}_cache_write_1h_share=0,ISNUMBER({i}_cache_write_1h_price_per_1m),{known})))", "Inputs, Prices"),
        (f"{s.id}: a flex or priority tier has its prices (flex of a known provider: 50% convention)",
         f"OR(NOT({on}),{i}_service_tier=\"standard\",AND(ISNUMBER({i}_service_input_price_per_1m),ISNUMBER({i}_service_output_price_per_1m)),"
         f"AND({i}_service_tier=\"flex\",NOT(ISNUMBER({i}_service_input_price_per_1m)),NOT(ISNUMBER({i}_service_output_price_per_1m)),{known}))",
         "Inputs, Prices"),
    ]


def _affine_cost(s: L.Slot, t: str) -> str:
    return f"c_{s.frag}_fixed+c_{s.frag}_slope*{t}"


def _api_monthly(s: L.Slot, t: str, pf: str, inst: str) -> str:
    return f"c_{s.frag}_fixed+(c_{s.frag}_token_slope*{pf}+c_{s.frag}_other_slope)*{t}"


# --- fine_tuned ---------------------------------------------------------------------------------


def _ft_write(c, lay: L.Layout, s: L.Slot) -> Written:
    i, on = f"in_{s.frag}", s.on
    D, sh = "in_volume_days_per_month", "in_volume_input_share"
    w = Written()
    w.rates["input_tokens"] = f"=IF({on},{D}*{sh}*{i}_input_price_per_1m/k_per_million,\"\")"
    w.rates["output_tokens"] = f"=IF({on},{D}*(1-{sh})*{i}_output_price_per_1m/k_per_million,\"\")"
    w.rates["retries"] = f"=IF({on},c_{s.frag}_retry_all*SUM({{first_rate}}:{{prev_rate}}),\"\")"
    w.fixed["hosting"] = f"{i}_hosting_monthly"
    w.fixed["refresh"] = f"{i}_refresh_cost/{i}_refresh_interval_months"
    hidden_rates(s, w)
    w.one_time = f"{i}_setup_cost"
    return w


def _ft_monthly(s: L.Slot, t: str, pf: str, inst: str) -> str:
    return _affine_cost(s, t)


# --- self_hosted --------------------------------------------------------------------------------


def capacity_instances(s: L.Slot, t: str, utilization: Optional[str] = None) -> str:
    """GPU instances (deployments) of a sized self-hosted option at volume ``t`` (engine
    functions.gpu_instances with the planning factors of kinds/self_hosted._sizing, same order of
    operations)."""
    p = s.frag
    u = utilization or f"c_{p}_target"
    sized = (f"CEILING(MAX(1,CEILING({t}*(1+c_{p}_retry)/k_seconds_per_day*c_{p}_pta"
             f"/(c_{p}_capacity_tps*{u}),1))*c_{p}_redundancy,1)")
    return sized if utilization else f"IF(c_{p}_implied,{implied_count(s, t, f'in_{p}_utilization')},{sized})"


def implied_count(s: L.Slot, t: str, u: str) -> str:
    """Deployments at ``t`` when capacity is implied by utilization ``u`` at the reference volume
    (engine kinds/self_hosted.Sizing.count): ``max(1, ceil(t x u / reference))``."""
    return f"MAX(1,CEILING({t}*{u}/c_{s.frag}_reference,1))"


def _sh_write(c, lay: L.Layout, s: L.Slot) -> Written:
    p, i, on = s.frag, f"in_{s.frag}", s.on
    D = "in_volume_days_per_month"
    stated = f"OR({i}_mode=\"capacity\",ISNUMBER({i}_capacity_tokens_per_day))"
    c.line(f"c_{p}_reference", "Volume the utilization is stated at",
           f"=IF(ISNUMBER({i}_utilization_at_tokens_per_day),{i}_utilization_at_tokens_per_day,c_tokens_per_day)", "tokens/day", L.INT,
           "simple mode: given, else today's volume")
    c.line(f"c_{p}_implied", "Capacity implied by the utilization",
           f"=AND({on},NOT({stated}),{i}_capacity_basis<>\"unlimited\",ISNUMBER({i}_utilization),c_{p}_reference>0)",
           "TRUE/FALSE", "one deployment carries the volume / utilization at 100%")
    c.line(f"c_{p}_capacity", "Sized from capacity", f"=AND({on},OR({stated},c_{p}_implied))",
           "TRUE/FALSE", "capacity mode, a stated capacity, or implied by the utilization")
    c.line(f"c_{p}_pta", "Planning: peak / average", f"=IF(c_{p}_implied,1,{i}_peak_to_average)", "x",
           "0.00", "implied: 1 (the stated utilization has today's peaks in it)")
    c.line(f"c_{p}_target", "Planning: target utilization", f"=IF(c_{p}_implied,1,{i}_target_utilization)", "%", L.PCT,
           "implied: 100%")
    c.line(f"c_{p}_redundancy", "Planning: redundancy", f"=IF(c_{p}_implied,1,{i}_redundancy)", "x", "0.00", "implied: 1")
    c.line(f"c_{p}_retry", "Planning: retries on the GPUs", f"=IF(c_{p}_implied,0,c_{p}_retry_all)", "%", L.PCT,
           "implied: in the stated utilization")
    _sh_catalog(c, s)
    c.line(f"c_{p}_capacity_tps", "Throughput per instance (deployment)",
           f"=IF(c_{p}_capacity,IF({i}_mode=\"capacity\",c_{p}_tps_per_gpu*c_{p}_gpus_per_instance,"
           f"IF(c_{p}_implied,c_{p}_reference/{i}_utilization/k_seconds_per_day,"
           f"{i}_capacity_tokens_per_day/k_seconds_per_day)),\"\")", "tokens/s", L.INT)
    c.line(f"c_{p}_instances", "GPU instances (today)", f"=IF(c_{p}_capacity," + capacity_instances(s, "c_tokens_per_day") + ",\"\")",
           "instances", L.INT, "peak / (throughput x target), x redundancy")
    c.line(f"c_{p}_gpus", "GPUs (today)", f"=IF(AND(c_{p}_capacity,{i}_mode=\"capacity\"),c_{p}_instances*c_{p}_gpus_per_instance,\"\")",
           "GPUs", L.INT)
    c.line(f"c_{p}_instance_month", "Cost of one instance (deployment)",
           f"=IF(c_{p}_capacity,IF({i}_mode=\"capacity\",c_{p}_hourly*IF(ISNUMBER({i}_hours_per_month),{i}_hours_per_month,"
           f"in_volume_days_per_month*k_hours_per_day),"
           f"IF(c_{p}_implied,{i}_infra_monthly/{i}_utilization,{i}_infra_monthly)),\"\")",
           "USD/month", L.USD, "implied: I / U")
    c.line(f"c_{p}_utilization", "Average GPU utilization",
           f"=IF({on},IF(c_{p}_capacity,c_tokens_per_day*(1+c_{p}_retry)/k_seconds_per_day/(c_{p}_instances*c_{p}_capacity_tps),"
           f"{i}_utilization),\"\")", "%", L.PCT)
    c.line(f"c_{p}_infra", "Effective GPU infrastructure",
           f"=IF({on},IF(c_{p}_capacity,c_{p}_instances*c_{p}_instance_month,"
           f"{i}_infra_monthly/{i}_utilization),\"\")", "USD/month", L.USD, "unlimited: I / U")
    c.line(f"c_{p}_step", "Volume per GPU step", f"=IF(c_{p}_capacity,c_{p}_capacity_tps"
           f"*c_{p}_target*k_seconds_per_day/((1+c_{p}_retry)*c_{p}_pta),\"\")", "tokens/day", L.INT)
    w = Written()
    w.fixed["gpu_in_use"] = f"c_{p}_infra*c_{p}_utilization"
    w.fixed["idle_gpu"] = f"c_{p}_infra*(1-c_{p}_utilization)"
    w.rates["running_cost"] = f"=IF({on},{D}*{i}_variable_cost_per_1m/k_per_million,\"\")"
    w.rates["retries"] = f"=IF({on},{{prev_rate}}*c_{p}_retry_all,\"\")"
    operations(s, w)
    return w


def _sh_catalog(c, s: L.Slot) -> None:
    """Capacity mode: the instance price, GPUs per instance and throughput per GPU in force, each
    yours when its cell on Prices is filled, else looked up on the Catalog sheet from the GPU
    instance, price term, model and precision named on Inputs (catalog/resolve._resolve_gpu)."""
    p, i, on = s.frag, f"in_{s.frag}", s.on
    mode = f"AND({on},{i}_mode=\"capacity\")"
    c.line(f"c_{p}_cat_row", "Catalog: row of the GPU instance", f"=IF(AND({mode},LEN({i}_gpu)>0),IFERROR(MATCH({i}_gpu,cat_instances,0),0),0)",
           "row", "0", "0: none named, or not in the Catalog")
    c.line(f"c_{p}_cat_gpu", "Catalog: GPU of the instance", f"=IF(c_{p}_cat_row>0,INDEX(cat_inst_gpu,c_{p}_cat_row),\"\")", "GPU", "@")
    c.line(f"c_{p}_cat_gpus", "Catalog: GPUs per instance", f"=IF(c_{p}_cat_row>0,INDEX(cat_inst_gpus,c_{p}_cat_row),\"\")", "GPUs", "0")
    c.line(f"c_{p}_cat_memory", "Catalog: memory per GPU", f"=IF(c_{p}_cat_row>0,INDEX(cat_inst_memory,c_{p}_cat_row),\"\")", "GB", "0")
    c.line(f"c_{p}_price_row", "Catalog: row of the instance's price at the term",
           f"=IF(c_{p}_cat_row>0,IFERROR(MATCH({i}_gpu&\"|\"&{i}_pricing_term,cat_price_key,0),0),0)", "row", "0",
           "0: no price of that term in force")
    c.line(f"c_{p}_catalog_hourly", "Catalog: instance price at the term",
           f"=IF(c_{p}_price_row>0,IF({i}_pricing_term=\"spot\",IF(ISNUMBER({i}_spot_interruption_overhead),"
           f"INDEX(cat_price_hourly,c_{p}_price_row)*(1+{i}_spot_interruption_overhead),\"\"),INDEX(cat_price_hourly,c_{p}_price_row)),\"\")",
           "USD/hour", L.PRICE, "spot: x (1 + hours lost to interruptions)")
    c.line(f"c_{p}_hourly", "Instance price in force", f"=IF(ISNUMBER({i}_instance_hourly_usd),{i}_instance_hourly_usd,c_{p}_catalog_hourly)",
           "USD/hour", L.PRICE, "yours (Prices) or the Catalog's")
    c.line(f"c_{p}_price_source", "Instance price: source",
           f"=IF(ISNUMBER({i}_instance_hourly_usd),\"your value (Prices)\",IF(c_{p}_price_row>0,"
           f"INDEX(cat_price_source,c_{p}_price_row)&\" (as of \"&INDEX(cat_price_as_of,c_{p}_price_row)&\")\",\"\"))", "text", "@")
    c.line(f"c_{p}_gpus_per_instance", "GPUs per instance in force",
           f"=IF(ISNUMBER({i}_gpus_per_instance),{i}_gpus_per_instance,c_{p}_cat_gpus)", "GPUs", "0", "yours (Inputs) or the Catalog's")
    c.line(f"c_{p}_model_row", "Catalog: row of the model", f"=IF(AND({mode},LEN({i}_model)>0),IFERROR(MATCH({i}_model,cat_models,0),0),0)",
           "row", "0", "0: none named, or not in the Catalog")
    c.line(f"c_{p}_in_tokens", "Input tokens per request (your mix)", "=IF(c_has_size,c_request_size*in_volume_input_share,\"\")",
           "tokens/request", L.INT)
    c.line(f"c_{p}_out_tokens", "Output tokens per request (your mix)", "=IF(c_has_size,c_request_size*(1-in_volume_input_share),\"\")",
           "tokens/request", L.INT)
    c.line(f"c_{p}_context", "Memory check: context per request",
           f"=IF(c_{p}_model_row>0,IF(AND(ISNUMBER({i}_context_tokens),{i}_context_tokens<>0),{i}_context_tokens,IF(c_has_size,"
           f"c_request_size,IF(COUNT(cat_{p}_run_tokens)>0,MAX(cat_{p}_run_tokens),1))),\"\")", "tokens", L.INT,
           "given, else the request size, else the longest benchmark request")
    c.line(f"c_{p}_weight_bytes", "Memory check: bytes per weight",
           f"=IF(c_{p}_model_row>0,IFERROR(INDEX(cat_precision_bytes,MATCH({i}_precision,cat_precisions,0)),\"\"),\"\")", "bytes", "0.0")
    m = f"c_{p}_model_row"
    c.line(f"c_{p}_mem_needed", "Memory check: weights + KV cache per replica",
           f"=IF(ISNUMBER(c_{p}_weight_bytes),INDEX(cat_model_params_b,{m})*k_params_per_b*c_{p}_weight_bytes/k_bytes_per_gb"
           f"+k_kv_tensors*INDEX(cat_model_layers,{m})*INDEX(cat_model_kv_heads,{m})*INDEX(cat_model_head_dim,{m})*k_kv_bytes"
           f"*c_{p}_context*{i}_concurrent_requests/k_bytes_per_gb,\"\")", "GB", "0.00",
           "params x bytes + 2 x layers x KV heads x head size x 2 bytes x context x requests")
    c.line(f"c_{p}_cat_capacity", "Catalog: capacity per instance (best published figure that fits)",
           f"=IF(COUNT(cat_{p}_capacity)>0,MAX(cat_{p}_capacity),\"\")", "tokens/day", L.INT, "Catalog sheet, this option's columns")
    c.line(f"c_{p}_catalog_tps", "Catalog: throughput per GPU", f"=IF(ISNUMBER(c_{p}_cat_capacity),c_{p}_cat_capacity/k_seconds_per_day/c_{p}_cat_gpus,\"\")",
           "tokens/s", "#,##0.00")
    c.line(f"c_{p}_tps_per_gpu", "Throughput per GPU in force",
           f"=IF(ISNUMBER({i}_tokens_per_second_per_gpu),{i}_tokens_per_second_per_gpu,c_{p}_catalog_tps)", "tokens/s", "#,##0.00",
           "yours (Inputs) or the Catalog's")


def sh_cost(s: L.Slot, t: str, instances: Optional[str] = None, utilization: Optional[str] = None) -> str:
    """Monthly cost of a self-hosted option at volume t: the deployments at t when sized
    (capacity mode, a stated capacity, or implied by the utilization), else the given
    infrastructure / utilization. With ``utilization`` (the grid's row): the target where
    utilization is a result; where it is stated, that utilization, which also sets the implied
    deployment (reference / u at 100%, infra / u a month)."""
    p, i = s.frag, f"in_{s.frag}"
    if utilization:
        implied = f"{implied_count(s, t, utilization)}*{i}_infra_monthly/{utilization}"
        gpus = (f"IF(c_{p}_implied,{implied},IF(c_{p}_capacity,{instances or capacity_instances(s, t, utilization)}"
                f"*c_{p}_instance_month,{i}_infra_monthly/{utilization}))")
    else:
        gpus = f"IF(c_{p}_capacity,{instances or capacity_instances(s, t)}*c_{p}_instance_month,c_{p}_infra)"
    return f"c_{p}_fixed_other+{gpus}+c_{p}_slope*{t}"


def _sh_monthly(s: L.Slot, t: str, pf: str, inst: str) -> str:
    return sh_cost(s, t, inst)


def _sh_checks(s: L.Slot) -> list:
    p, i, on = s.frag, f"in_{s.frag}", s.on
    return [
        (f"{s.id}: simple mode has infrastructure and either utilization or capacity (not both)",
         f"OR(NOT({on}),{i}_mode<>\"simple\",AND(ISNUMBER({i}_infra_monthly),ISNUMBER({i}_utilization)<>ISNUMBER({i}_capacity_tokens_per_day)))",
         "Inputs"),
        (f"{s.id}: capacity mode has instance price, GPUs per instance and throughput (yours on Prices, or the Catalog's)",
         f"OR(NOT({on}),{i}_mode<>\"capacity\",AND(ISNUMBER(c_{p}_hourly),ISNUMBER(c_{p}_gpus_per_instance),ISNUMBER(c_{p}_tps_per_gpu)))",
         "Inputs, Prices, Catalog"),
        (f"{s.id}: the GPU instance named is on the Catalog sheet",
         f"OR(NOT({on}),{i}_mode<>\"capacity\",LEN({i}_gpu)=0,c_{p}_cat_row>0)", "Inputs, Catalog"),
        (f"{s.id}: the Catalog has a price of the instance for the price term (or give the instance price)",
         f"OR(NOT({on}),{i}_mode<>\"capacity\",LEN({i}_gpu)=0,ISNUMBER({i}_instance_hourly_usd),ISNUMBER(c_{p}_catalog_hourly))",
         "Inputs, Catalog"),
        (f"{s.id}: the model named is on the Catalog sheet",
         f"OR(NOT({on}),{i}_mode<>\"capacity\",LEN({i}_model)=0,ISNUMBER({i}_tokens_per_second_per_gpu),c_{p}_model_row>0)",
         "Inputs, Catalog"),
        (f"{s.id}: a published throughput for the model, GPU and precision whose weights and KV cache fit (Catalog)",
         f"OR(NOT({on}),{i}_mode<>\"capacity\",LEN({i}_model)=0,ISNUMBER({i}_tokens_per_second_per_gpu),ISNUMBER(c_{p}_cat_capacity))",
         "Inputs, Catalog"),
        (f"{s.id}: capacity_basis unlimited only in simple mode with a utilization",
         f"OR(NOT({on}),{i}_capacity_basis<>\"unlimited\",AND({i}_mode=\"simple\",ISNUMBER({i}_utilization)))", "Inputs"),
        (f"{s.id}: average utilization is above 0 and at most 100%",
         f"OR(NOT({on}),AND(ISNUMBER(c_{p}_utilization),c_{p}_utilization>0,c_{p}_utilization<=1))", "Calculations"),
    ]


# --- on_prem ------------------------------------------------------------------------------------


def op_units(s: L.Slot, t: str) -> str:
    """Servers of an on-prem option at volume ``t``: sized from the capacity (as GPU instances), or
    the stated fleet, grown as the volume passes its capacity (engine kinds/on_prem.servers_at:
    ``max(servers, ceil(t x u x servers / reference))``), or kept when that capacity is unknown."""
    p, i = s.frag, f"in_{s.frag}"
    fleet = f"MAX({i}_servers,CEILING({t}*{i}_utilization*{i}_servers/c_{p}_reference,1))"
    return f"IF(c_{p}_implied,{fleet},IF(c_{p}_sized,{capacity_instances(s, t)},{i}_servers))"


def _op_write(c, lay: L.Layout, s: L.Slot) -> Written:
    p, i, on = s.frag, f"in_{s.frag}", s.on
    c.line(f"c_{p}_sized", "Servers sized from a capacity", f"=AND({on},NOT(ISNUMBER({i}_servers)))", "TRUE/FALSE",
           "General", "blank servers: they follow the volume")
    c.line(f"c_{p}_reference", "Volume the fleet's utilization is stated at",
           f"=IF(ISNUMBER({i}_utilization_at_tokens_per_day),{i}_utilization_at_tokens_per_day,c_volume_basis)", "tokens/day", L.INT,
           "stated servers: given, else today's volume")
    c.line(f"c_{p}_implied", "Fleet capacity implied by its utilization",
           f"=AND({on},ISNUMBER({i}_servers),OR(ISNUMBER({i}_utilization_at_tokens_per_day),c_tokens_per_day>0))", "TRUE/FALSE",
           "General", "the stated servers carry the volume / utilization at 100%; more are bought past it")
    c.line(f"c_{p}_capacity", "Servers follow the volume", f"=OR(c_{p}_sized,c_{p}_implied)", "TRUE/FALSE",
           "General", "sized from a capacity, or a stated fleet grown past its capacity")
    # the planning factors the stepped-option formulas read (capacity_instances, piecewise break-evens):
    # a sized server's are its inputs; a stated fleet's utilization has today's peaks and retries in it
    c.line(f"c_{p}_pta", "Planning: peak / average", f"=IF(c_{p}_implied,1,{i}_peak_to_average)", "x", "0.00", "stated fleet: 1")
    c.line(f"c_{p}_target", "Planning: target utilization", f"=IF(c_{p}_implied,1,{i}_target_utilization)", "%", L.PCT,
           "stated fleet: 100%")
    c.line(f"c_{p}_redundancy", "Planning: redundancy", f"=IF(c_{p}_implied,1,{i}_redundancy)", "x", "0.00", "stated fleet: 1")
    c.line(f"c_{p}_retry", "Planning: retries on the GPUs", f"=IF(c_{p}_implied,0,c_{p}_retry_all)", "%", L.PCT,
           "stated fleet: in its utilization; else technical retries and failed attempts")
    c.line(f"c_{p}_min_units", "Planning: servers at the smallest volume", f"=IF(c_{p}_implied,{i}_servers,1)", "servers",
           L.INT, "stated fleet: its servers")
    c.line(f"c_{p}_capacity_tps", "Throughput per server at 100%",
           f"=IF(c_{p}_implied,c_{p}_reference/({i}_utilization*{i}_servers)/k_seconds_per_day,"
           f"IF(c_{p}_sized,IF(ISNUMBER({i}_capacity_tokens_per_day),{i}_capacity_tokens_per_day/k_seconds_per_day,"
           f"{i}_tokens_per_second_per_gpu*{i}_gpus_per_server),\"\"))", "tokens/s", L.INT,
           "stated fleet: reference / (utilization x servers)")
    c.line(f"c_{p}_instances", "Servers (today)", f"=IF({on},{op_units(s, 'c_tokens_per_day')},\"\")", "servers", L.INT,
           "stated, or peak / (throughput x target) x redundancy")
    c.line(f"c_{p}_gpus", "GPUs (today)", f"=IF({on},c_{p}_instances*{i}_gpus_per_server,\"\")", "GPUs", L.INT)
    c.line(f"c_{p}_server_row", "Catalog: row of the server (GPU type and GPUs per server)",
           f"=IF(LEN({i}_gpu_type)>0,IFERROR(MATCH({i}_gpu_type&\"|\"&{i}_gpus_per_server,cat_server_key,0),0),0)", "row", "0",
           "0: none named, or not in the Catalog")
    c.line(f"c_{p}_server_price", "Server price in force",
           f"=IF(ISNUMBER({i}_server_price),{i}_server_price,IF(c_{p}_server_row>0,INDEX(cat_server_price,c_{p}_server_row),\"\"))",
           "USD/server", L.USD, "yours (Prices) or the Catalog's")
    c.line(f"c_{p}_install_share", "Installation share in force",
           f"=IF(ISNUMBER({i}_install_share),{i}_install_share,IF(AND(NOT(ISNUMBER({i}_server_price)),c_{p}_server_row>0),"
           f"INDEX(cat_server_install,c_{p}_server_row)/INDEX(cat_server_price,c_{p}_server_row),\"\"))", "%", L.PCT,
           "yours (Inputs), or the Catalog's with its server price")
    c.line(f"c_{p}_gpu_row", "Catalog: row of the GPU type", f"=IF(LEN({i}_gpu_type)>0,IFERROR(MATCH({i}_gpu_type,cat_gpu_types,0),0),0)",
           "row", "0", "0: none named, or not in the Catalog")
    c.line(f"c_{p}_tdp", "Board power per GPU in force",
           f"=IF(ISNUMBER({i}_gpu_tdp_watts),{i}_gpu_tdp_watts,IF(c_{p}_gpu_row>0,INDEX(cat_gpu_tdp,c_{p}_gpu_row),\"\"))",
           "W", "0", "yours (Prices) or the Catalog's")
    c.line(f"c_{p}_life", "Life of a server", f"=ROUND({i}_life_years*k_months_per_year,0)", "months", "0")
    c.line(f"c_{p}_rate", "Monthly cost of capital", f"=(1+{i}_cost_of_capital_per_year)^(1/k_months_per_year)-1", "%/month", "0.0000%")
    c.line(f"c_{p}_unit_cost", "Server installed (paid when bought)", f"=c_{p}_server_price*(1+c_{p}_install_share)", "USD/server", L.USD)
    c.line(f"c_{p}_unit_residual", "Residual at the end of its life", f"=c_{p}_server_price*{i}_residual_share", "USD/server", L.USD)
    c.line(f"c_{p}_unit_capital", "Capital charge per server",
           f"=IF(c_{p}_rate=0,(c_{p}_unit_cost-c_{p}_unit_residual)/c_{p}_life,-PMT(c_{p}_rate,c_{p}_life,c_{p}_unit_cost,-c_{p}_unit_residual))",
           "USD/month", L.USD2, "-PMT(r, life, price x (1 + install), -residual)")
    c.line(f"c_{p}_unit_depreciation", "P&L: straight-line depreciation per server",
           f"=(c_{p}_unit_cost-c_{p}_unit_residual)/c_{p}_life", "USD/month", L.USD2)
    c.line(f"c_{p}_unit_interest", "P&L: interest per server (capital charge - depreciation)",
           f"=c_{p}_unit_capital-c_{p}_unit_depreciation", "USD/month", L.USD2)
    c.line(f"c_{p}_unit_maintenance", "Maintenance per server", f"=c_{p}_server_price*{i}_maintenance_share_per_year/k_months_per_year",
           "USD/month", L.USD2)
    c.line(f"c_{p}_hours", "Hours per month", "=in_volume_days_per_month*k_hours_per_day", "hours", "0.0", "days x 24")
    c.line(f"c_{p}_unit_energy", "Electricity per server flat out (PUE included)",
           f"={i}_gpus_per_server*c_{p}_tdp/k_watts_per_kw*{i}_pue*c_{p}_hours*{i}_power_price_per_kwh", "USD/month", L.USD2,
           "GPUs x TDP x PUE x hours x price")
    c.line(f"c_{p}_unit_power_idle", "Idle draw per server", f"=c_{p}_unit_energy*{i}_idle_power_share", "USD/month", L.USD2)
    c.line(f"c_{p}_instance_month", "Cost of one more server a month",
           f"=c_{p}_unit_capital+c_{p}_unit_maintenance+c_{p}_unit_power_idle+{i}_facilities_monthly_per_server", "USD/month", L.USD,
           "capital + maintenance + idle power + facilities")
    c.line(f"c_{p}_utilization", "Average GPU utilization",
           f"=IF({on},IF(c_{p}_sized,c_tokens_per_day*(1+c_{p}_retry)/k_seconds_per_day/(c_{p}_instances*c_{p}_capacity_tps),"
           f"{i}_utilization*c_tokens_per_day/c_{p}_reference*({i}_servers/c_{p}_instances)),\"\")", "%", L.PCT,
           "stated: scales with volume, over the servers in use")
    c.line(f"c_{p}_load_rate", "Power under load per token/day",
           f"=IF({on},IF(c_{p}_sized,c_{p}_unit_energy*(1-{i}_idle_power_share)*(1+c_{p}_retry)/(k_seconds_per_day*c_{p}_capacity_tps),"
           f"{i}_servers*c_{p}_unit_energy*(1-{i}_idle_power_share)*{i}_utilization/c_{p}_reference),0)",
           "USD/month per token/day", "0.000000000")
    c.line(f"c_{p}_step", "Volume per server step", f"=IF(c_{p}_capacity,c_{p}_capacity_tps"
           f"*c_{p}_target*k_seconds_per_day/((1+c_{p}_retry)*c_{p}_pta),\"\")", "tokens/day", L.INT)
    H, N = "in_horizon_months", "ser_months"
    c.line(f"c_{p}_terminal", "Book value credited at the horizon end",
           f"=IF({on},SUMPRODUCT(ser_{p}_bought*({N}>{H}-c_{p}_life)*({N}<{H})*(c_{p}_unit_cost-(c_{p}_unit_cost-c_{p}_unit_residual)"
           f"*({H}-{N})/c_{p}_life)),\"\")", "USD", L.USD, "straight line from installed price to residual")
    w = Written()
    w.fixed["capital"] = f"c_{p}_instances*c_{p}_unit_capital"
    w.fixed["maintenance"] = f"c_{p}_instances*c_{p}_unit_maintenance"
    w.fixed["power_idle"] = f"c_{p}_instances*c_{p}_unit_power_idle"
    w.rates["power_load"] = f"=IF({on},c_{p}_load_rate,\"\")"
    w.fixed["facilities"] = f"c_{p}_instances*{i}_facilities_monthly_per_server"
    operations(s, w)
    return w


def op_cost(s: L.Slot, t: str, units: Optional[str] = None) -> str:
    """Monthly run-rate of an on-prem option at volume t (servers at t, or ``units``)."""
    p = s.frag
    return f"c_{p}_fixed_other+({units or op_units(s, t)})*c_{p}_instance_month+c_{p}_slope*{t}"


def _op_cash(s: L.Slot, row: dict, terminal: Optional[str] = None) -> str:
    """What cash adds to a month's run-rate (engine kinds/on_prem.cash_flows): the servers' capital
    charge out; servers bought at the month's end (for the next month) and residuals of servers
    reaching their end of life in; in the last month, the book value of the servers still owned
    (``terminal``: a composite's part has its own)."""
    p = s.frag
    return (f"-{row['units']}*c_{p}_unit_capital+{row['bought']}*c_{p}_unit_cost-{row['retired']}*c_{p}_unit_residual"
            f"-IF({row['month']}=in_horizon_months,{terminal or f'c_{p}_terminal'},0)")


def composite_cash(m: L.Slot, j: L.Slot, row: dict) -> str:
    """What the on-prem part ``j`` of composite ``m`` adds to the composite's month (its own servers)."""
    return f"IF({_share(m, j)}>0,{_op_cash(j, row, f'c_{m.frag}_{j.frag}_terminal')},0)"


def terminal_value(c, s: L.Slot, name: str, bought: str) -> None:
    """Book value of the servers still owned at the horizon end (straight line from the installed
    price to the residual), from the series of servers bought (``bought``: its defined name)."""
    p, H, N = s.frag, "in_horizon_months", "ser_months"
    c.line(name, f"{s.id}: book value credited at the horizon end",
           f"=SUMPRODUCT({bought}*({N}>{H}-c_{p}_life)*({N}<{H})*(c_{p}_unit_cost-(c_{p}_unit_cost-c_{p}_unit_residual)"
           f"*({H}-{N})/c_{p}_life))", "USD", L.USD, "straight line from installed price to residual")


def _op_checks(s: L.Slot) -> list:
    p, i, on = s.frag, f"in_{s.frag}", s.on
    return [
        (f"{s.id}: servers stated with utilization, or a capacity to size them",
         f"OR(NOT({on}),IF(ISNUMBER({i}_servers),ISNUMBER({i}_utilization),OR(ISNUMBER({i}_capacity_tokens_per_day),"
         f"ISNUMBER({i}_tokens_per_second_per_gpu))))", "Inputs"),
        (f"{s.id}: server price, GPUs per server and GPU power are given (yours, or the Catalog's for the GPU type)",
         f"OR(NOT({on}),AND(ISNUMBER(c_{p}_server_price),ISNUMBER({i}_gpus_per_server),ISNUMBER(c_{p}_tdp)))", "Inputs, Prices, Catalog"),
        (f"{s.id}: an installation share is given (yours, or the Catalog's with its server price)",
         f"OR(NOT({on}),ISNUMBER(c_{p}_install_share))", "Inputs"),
        (f"{s.id}: the life is a whole number of months",
         f"OR(NOT({on}),ABS({i}_life_years*k_months_per_year-c_{p}_life)<=k_tolerance)", "Inputs"),
        (f"{s.id}: average utilization is above 0 and at most 100%",
         f"OR(NOT({on}),AND(ISNUMBER(c_{p}_utilization),c_{p}_utilization>0,c_{p}_utilization<=1))", "Calculations"),
    ]


# --- mix and cascade ---------------------------------------------------------------------------
# A composite's cost at volume t is the sum of its components' own costs at their volumes (engine
# kinds/composite.py): each component j carries share_j x t (mix: its route share; cascade: 1 for
# `first`, the escalation share for `then`), its fixed and one-time costs are paid once, and a
# component at share 0 is not run (no cost at all). Stepped components follow their own volume.


def _share(m: L.Slot, c: L.Slot) -> str:
    return f"c_{m.frag}_sh_{c.frag}"


def _comp_volume(m: L.Slot, c: L.Slot, t: str) -> str:
    return f"{_share(m, c)}*{t}" if t == "c_tokens_per_day" else f"({_share(m, c)}*{t})"


def _first_is(m: L.Slot, j: L.Slot) -> str:
    return f"in_{m.frag}_first=\"{j.id}\""


def _of_first(m: L.Slot, comps: list, cell: str) -> str:
    """The cascade's ``first`` option's ``cell`` (``{q}``: the option's fragment), chosen by name."""
    return "+".join(f"IF({_first_is(m, j)},{cell.format(q=j.frag)},0)" for j in comps)


def _escalation_lines(c, m: L.Slot, comps: list) -> None:
    """A cascade's escalation (engine kinds/composite.escalation_share, runs): when its ``first``
    has hidden.on_failure escalate, the share sent to ``then`` is first's failed share after its
    attempts, (1 - p)^k, and those failures go to ``then`` instead of a person (no review cost for
    them: ``c_<id>_esc_rate`` is what they would have cost a person, per token/day, taken off first's
    human review line and its cost at any volume); otherwise the stated escalation share."""
    p = m.frag
    c.line(f"c_{p}_first_escalates", "First option escalates its failures to then",
           "=OR(" + ",".join(f"AND({_first_is(m, j)},in_{j.frag}_hidden_on_failure=\"escalate\")" for j in comps) + ")",
           "TRUE/FALSE", "General", "first's hidden.on_failure is escalate")
    c.line(f"c_{p}_first_failed", "First option's failed share after its attempts", "=" + _of_first(m, comps, "c_{q}_failed"),
           "%", "0.00%", "(1 - p)^k of the first option")
    c.line(f"c_{p}_escalation", "Share of the requests escalated to then",
           f"=IF(c_{p}_first_escalates,c_{p}_first_failed,N(in_{p}_escalation_share))", "%", L.PCT,
           "first escalates: its failed share (a stated share must equal it: Checks); else as stated")
    c.line(f"c_{p}_esc_rate", "First's failures escalated, not to a person",
           f"=IF(c_{p}_first_escalates,c_requests_rate*c_{p}_first_failed*({_of_first(m, comps, 'c_{q}_review_unit')}),0)",
           "USD/month per token/day", "0.000000000", "the review cost they would carry on first's own; off its human review")


def _mix_write(c, lay: L.Layout, m: L.Slot) -> Written:
    p = m.frag
    comps = lay.components(m)
    w = Written()
    if m.kind == "cascade":
        _escalation_lines(c, m, comps)
    for j in comps:
        if m.kind == "mix":
            c.line(_share(m, j), f"Share of the traffic to {j.id}", f"=N(in_{p}_route_{j.frag})", "%", L.PCT,
                   "the route (Inputs); blank: not routed")
        else:
            c.line(_share(m, j), f"Share of the volume {j.id} carries",
                   f"=IF({_first_is(m, j)},1,0)+IF(in_{p}_then=\"{j.id}\",c_{p}_escalation,0)", "%", L.PCT,
                   "first: every request; then: the escalated share")
        c.line(f"c_{p}_t_{j.frag}", f"{j.id}: its volume today", f"={_share(m, j)}*c_tokens_per_day", "tokens/day", L.INT,
               "share x today's tokens/day")
        if j.kind == "self_hosted":
            t, q = f"c_{p}_t_{j.frag}", j.frag
            c.line(f"c_{p}_{q}_units", f"{j.id}: GPU instances at its volume",
                   f"=IF(AND({_share(m, j)}>0,c_{q}_capacity),{capacity_instances(j, t)},\"\")", "instances", L.INT)
            c.line(f"c_{p}_{q}_infra", f"{j.id}: GPU infrastructure at its volume",
                   f"=IF({_share(m, j)}>0,IF(c_{q}_capacity,c_{p}_{q}_units*c_{q}_instance_month,c_{q}_infra),\"\")", "USD/month", L.USD)
            c.line(f"c_{p}_{q}_util", f"{j.id}: average GPU utilization at its volume",
                   f"=IF({_share(m, j)}>0,IF(c_{q}_capacity,{t}*(1+c_{q}_retry)/k_seconds_per_day/(c_{p}_{q}_units*c_{q}_capacity_tps),"
                   f"in_{q}_utilization),\"\")", "%", L.PCT)
        if j.kind == "on_prem":
            q = j.frag
            c.line(f"c_{p}_{q}_units", f"{j.id}: servers at its volume",
                   f"=IF({_share(m, j)}>0,{op_units(j, f'c_{p}_t_{q}')},\"\")", "servers", L.INT)
            terminal_value(c, j, f"c_{p}_{q}_terminal", f"ser_{p}_{q}_bought")
        for key, _label, _hidden, variable in lay.line_items(j):
            k = f"{j.frag}__{key}"
            w.when[k] = f"{_share(m, j)}>0"
            if variable and m.kind == "cascade" and key == "human_review":  # an escalating first's failures: not to a person
                w.rates[k] = f"={_share(m, j)}*c_rate_{j.frag}_{key}-IF({_first_is(m, j)},c_{p}_esc_rate,0)"
            elif variable:
                w.rates[k] = f"={_share(m, j)}*c_rate_{j.frag}_{key}"
            elif j.kind == "self_hosted" and key == "gpu_in_use":
                w.fixed[k] = f"c_{p}_{j.frag}_infra*c_{p}_{j.frag}_util"
            elif j.kind == "self_hosted" and key == "idle_gpu":
                w.fixed[k] = f"c_{p}_{j.frag}_infra*(1-c_{p}_{j.frag}_util)"
            elif j.kind == "on_prem" and key in _OP_UNIT:
                w.fixed[k] = f"c_{p}_{j.frag}_units*{_OP_UNIT[key].format(q=j.frag)}"
            else:
                w.fixed[k] = f"c_li_{j.frag}_{key}"
    if m.kind == "mix":
        failed = "+".join(f"{_share(m, j)}*c_{j.frag}_failed" for j in comps)
        note = "sum of share x each option's failed share"
    else:
        e = f"c_{p}_escalation"
        failed = "+".join(f"(IF({_first_is(m, j)},IF(c_{p}_first_escalates,0,1-{e}),0)+IF(in_{p}_then=\"{j.id}\",{e},0))"
                          f"*c_{j.frag}_failed" for j in comps)
        note = "(1 - escalation) x first's failed share + escalation x then's; first escalates: escalation x then's"
    c.line(f"c_{p}_failed", "Share of tasks failing (to a person)", f"={failed}", "%", "0.00%", note)
    stepped = [f"AND({_share(m, j)}>0,c_{j.frag}_capacity)" for j in comps if j.kind in ("self_hosted", "on_prem")]
    c.line(f"c_{p}_stepped", "A part steps with volume (GPU instances, servers)", f"=OR({','.join(stepped)})" if stepped else "=FALSE",
           "TRUE/FALSE", "General", "its cost is a sum of stepped curves: its break-evens are solved segment by segment (Lists)")
    w.one_time = "+".join(f"IF({_share(m, j)}>0,c_{j.frag}_one_time,0)" for j in comps)
    return w


# An on-prem part's items paid per server (its own block: capital, maintenance, idle power, facilities).
_OP_UNIT = {"capital": "c_{q}_unit_capital", "maintenance": "c_{q}_unit_maintenance", "power_idle": "c_{q}_unit_power_idle",
            "facilities": "in_{q}_facilities_monthly_per_server"}


def escalated_off(m: L.Slot, j: L.Slot, volume: str) -> str:
    """What a cascade's escalating first does not pay at ``volume`` (its own): the review cost of
    its failures, which go to ``then`` (``c_<id>_esc_rate``); "" for any other part."""
    if m.kind != "cascade":
        return ""
    return f"-IF({_first_is(m, j)},c_{m.frag}_esc_rate*{volume},0)"


def _mix_cost(m: L.Slot, t: str, lay: Optional[L.Layout] = None) -> str:
    """Monthly cost of a composite at volume t: each routed component's own cost at its share of t
    (a cascade's escalating first without its failures' review cost)."""
    lay = lay or L.layout_for(m.shape)
    parts = [f"IF({_share(m, j)}>0,{block_of(j.kind).cost_at(j, _comp_volume(m, j, t))}{escalated_off(m, j, t)},0)"
             for j in lay.components(m)]
    return "(" + "+".join(parts) + ")"


def _mix_monthly(m: L.Slot, t: str, pf: str, inst: str) -> str:
    lay = L.layout_for(m.shape)
    parts = [f"IF({_share(m, j)}>0,{block_of(j.kind).monthly(j, _comp_volume(m, j, t), pf, '')}{escalated_off(m, j, t)},0)"
             for j in lay.components(m)]
    return "(" + "+".join(parts) + ")"


def _mix_checks(m: L.Slot) -> list:
    lay = L.layout_for(m.shape)
    p, comps = m.frag, lay.components(m)
    ids = ", ".join(j.id for j in comps)
    if m.kind == "cascade":
        known = lambda x: "OR(" + ",".join(f"{x}=\"{j.id}\"" for j in comps) + ")"  # noqa: E731
        e = f"in_{p}_escalation_share"
        return [
            (f"{m.id}: first and then name two different options ({ids})",
             f"AND({known(f'in_{p}_first')},{known(f'in_{p}_then')},in_{p}_first<>in_{p}_then)", "Inputs"),
            (f"{m.id}: an escalation share is stated, unless the first option escalates its failures (then it is that "
             "option's failed share, (1 - success rate)^attempts, and a stated share must equal it)",
             f"IF(c_{p}_first_escalates,OR(NOT(ISNUMBER({e})),ABS({e}-c_{p}_first_failed)<=k_tolerance),ISNUMBER({e}))", "Inputs"),
        ]
    shares = [f"in_{p}_route_{j.frag}" for j in comps]
    rows = [
        (f"{m.id}: at least two options in the route", f"COUNT({','.join(shares)})>=2", "Inputs"),
        (f"{m.id}: the route's shares sum to 1", f"ABS(SUM({','.join(shares)})-1)<=k_tolerance", "Inputs"),
        (f"{m.id}: quality_min_share and quality_option go together, and the quality option is in the route",
         f"IF(ISNUMBER(in_{p}_quality_min_share),OR(" + ",".join(f"AND(in_{p}_quality_option=\"{j.id}\",ISNUMBER(in_{p}_route_{j.frag}))"
                                                                 for j in comps) + f"),LEN(in_{p}_quality_option)=0)", "Inputs"),
        (f"{m.id}: the quality option gets at least quality_min_share of the traffic",
         f"OR(NOT(ISNUMBER(in_{p}_quality_min_share)),"
         + "+".join(f"IF(in_{p}_quality_option=\"{j.id}\",{_share(m, j)},0)" for j in comps)
         + f">=in_{p}_quality_min_share-k_tolerance)", "Inputs"),
        (f"{m.id}: options that keep data in-house get at least in_house_min_share of the traffic",
         f"OR(NOT(ISNUMBER(in_{p}_in_house_min_share)),{_in_house(m, comps)}>=in_{p}_in_house_min_share-k_tolerance)", "Inputs"),
        (f"{m.id}: the route is the engine's cheapest split found at generation (split: cheapest; an edit of the route or "
         "of the costs moves it: run `runrate read` + evaluate for the new split)",
         f"OR(in_{p}_split<>\"cheapest\"," + "AND(" + ",".join(f"ABS({_share(m, j)}-N(gen_{p}_split_{j.frag}))<=k_tolerance"
                                                                  for j in comps) + "))", "Inputs, Calculations"),
    ]
    return rows


def _in_house(m: L.Slot, comps: list) -> str:
    """Share of a mix's traffic to options that keep data in-house (engine Kind.sends_data_out:
    a third-party kind unless marked private)."""
    from ..engine.kinds import KINDS

    parts = []
    for j in comps:
        if KINDS[j.kind].third_party:
            parts.append(f"IF(N(in_{j.frag}_private)=1,{_share(m, j)},0)")
        else:
            parts.append(_share(m, j))
    return "(" + "+".join(parts) + ")"


BLOCKS: dict[str, Block] = {
    "api": Block(_api_write, _affine_cost, _api_monthly, checks=_api_checks),
    "fine_tuned": Block(_ft_write, _affine_cost, _ft_monthly),
    "self_hosted": Block(_sh_write, lambda s, t: sh_cost(s, t), _sh_monthly, stepped=lambda s: f"c_{s.frag}_capacity",
                         checks=_sh_checks, blended=False, unit_items=("gpu_in_use", "idle_gpu")),
    "on_prem": Block(_op_write, lambda s, t: op_cost(s, t), lambda s, t, pf, inst: op_cost(s, t, inst),
                     stepped=lambda s: f"c_{s.frag}_capacity", checks=_op_checks, blended=False,
                     unit_items=("capital", "maintenance", "power_idle", "facilities"), units=op_units, cash=_op_cash),
    "mix": Block(_mix_write, _mix_cost, _mix_monthly, checks=_mix_checks, blended=False, composite=True),
    "cascade": Block(_mix_write, _mix_cost, _mix_monthly, checks=_mix_checks, blended=False, composite=True),
}


def block_of(kind: str) -> Block:
    found = BLOCKS.get(kind)
    if found is None:
        raise L.LayoutError(f"options: the kind {kind!r} has no workbook formula block yet (runrate_xl/workbook/blocks.py); "
                            f"expected one of {', '.join(BLOCKS)}")
    return found

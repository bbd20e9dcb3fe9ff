"""The Catalog sheet: the GPU instances (price per term in force, GPUs, memory, board power), the
open models and the published throughput figures the capacity-mode formulas look up, each row
with its source and as-of date, plus, per self-hosted option, helper columns that turn each
throughput figure into the capacity of that option's instance (catalog/throughput.py's rules,
step by step, so an auditor can follow which figure was used and why the others were not).

Values only (read from the shipped catalogs when the template is built); the option inputs name
rows of it (``gpu``, ``model``, ``precision``, ``pricing_term``) through list validations, and the
self-hosted block (``blocks.py``) looks prices, GPUs and throughput up here unless the option's
own cell on Prices gives the value (yours win, as in the engine).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from openpyxl.utils import get_column_letter

from ..catalog.gpu_specs import gpu_specs
from ..catalog.instances import TERMS, instance_catalog
from ..catalog.models import model_catalog
from ..catalog.servers import server_catalog
from ..catalog.throughput import configuration, throughput_catalog
from ..engine import capacity as cap
from ..presentation import plain
from . import layout as L
from . import styles as S

# Named constants of the memory check (engine/capacity.py), on this sheet.
CONSTANTS = (
    ("k_params_per_b", "Parameters per billion", 1e9, "parameters", "models.yaml gives parameters in billions"),
    ("k_bytes_per_gb", "Bytes per GB", cap.BYTES_PER_GB, "bytes", "GPU memory is sold in 10^9 bytes"),
    ("k_kv_tensors", "KV cache: keys and values", 2.0, "tensors", "two tensors per layer and token"),
    ("k_kv_bytes", "KV cache bytes per value (fp16)", cap.BYTES_PER_PARAMETER["fp16"], "bytes", "engine: KV cache held in fp16"),
)

INSTANCE_COLS = ("Instance", "Cloud", "Region", "GPU", "GPUs per instance", "Memory per GPU (GB)", "Board power per GPU (W)",
                 "Prices in force (terms)", "GPU figures as of", "GPU figures: source")
PRICE_COLS = ("Key (instance|term)", "Instance", "Term", "USD per instance-hour", "In force", "As of", "Source")
MODEL_COLS = ("Model", "Name", "Parameters (billions)", "Layers", "KV heads", "Head size", "As of", "Source")
FIGURE_COLS = ("Model", "GPU", "GPUs", "Tensor parallel", "Precision", "Serving engine", "Output tokens/s",
               "Input tokens/request", "Output tokens/request", "Prefill tokens/s", "Decode tokens/s", "Concurrency",
               "Configuration (figures differing only in the request mix)")
HELPER_COLS = ("{id}: same model, GPU, precision", "{id}: GPUs divide the instance's", "{id}: tokens per request of the run",
               "{id}: memory usable (GB)", "{id}: tokens/day per replica", "{id}: tokens/day per instance (fits)",
               "{id}: distance of the measured mix from yours", "{id}: nearest mix of its configuration")


@dataclass(frozen=True)
class CatalogRows:
    """Where the tables are (first and last data rows)."""

    instances: tuple[int, int]
    prices: tuple[int, int]
    models: tuple[int, int]
    figures: tuple[int, int]


def _in_force(day: dt.date) -> list[tuple[str, str, object]]:
    out = []
    for iid, inst in instance_catalog().items():
        for term in TERMS:
            try:
                out.append((iid, term, inst.price(term, day)))
            except Exception:  # no price of that term in force that day: no row
                continue
    return out


def _fit_widths(ws, first_row: int, cap: int = 48) -> None:
    """Column widths from the longest value written (not formulas), so nothing is clipped up to
    ``cap`` characters; a longer text (a source) is in its table's last column and runs on to the right."""
    widest: dict[str, int] = {}
    for row in ws.iter_rows(min_row=first_row):
        for c in row:
            if c.value is None or (isinstance(c.value, str) and c.value.startswith("=")) or (c.font is not None and c.font.sz == S.NOTE.sz):
                continue  # formulas (helper columns have their width) and notes (they run across)
            n = len(f"{c.value:,.2f}") if isinstance(c.value, float) else len(str(c.value))
            if c.font is not None and c.font.b:  # headers wrap over two lines
                n = (n + 1) // 2
            widest[c.column_letter] = max(widest.get(c.column_letter, 0), n)
    for col, n in widest.items():
        ws.column_dimensions[col].width = max(ws.column_dimensions[col].width or 0, min(cap, n + 2))


def build_catalog(book, day: dt.date | None = None) -> CatalogRows:
    """Write the Catalog sheet of ``book`` (a template.Book) and define its names."""
    from .template import _header, _page, _protect, _section, _title

    day = day or dt.date.today()
    lay = book.lay
    ws = book.ws(L.CATALOG)
    _title(ws, "Catalog", "GPU instances, open models and published throughput the capacity formulas look up "
                          "(values with their source and as-of date; the option inputs pick rows by name).")
    row = 5
    # 1. GPU instances (one row each): the validation list of every self-hosted option's gpu.
    prices = _in_force(day)
    terms_of = {}
    for iid, term, _p in prices:
        terms_of.setdefault(iid, []).append(term)
    _section(ws, row, "GPU instances (runrate gpus): GPUs, memory and board power per GPU", "P")
    _header(ws, row + 1, INSTANCE_COLS)
    ws.row_dimensions[row + 1].height = 27
    first = row + 2
    specs = gpu_specs()
    for i, (iid, inst) in enumerate(instance_catalog().items()):
        r = first + i
        spec = specs[inst.gpu]
        for j, value in enumerate((iid, inst.cloud, inst.region, inst.gpu, inst.gpus_per_instance, spec.memory_gb,
                                   spec.tdp_watts if spec.tdp_watts is not None else "", ", ".join(terms_of.get(iid, [])),
                                   spec.as_of.isoformat(), plain(spec.source))):
            ws.cell(row=r, column=2 + j, value=value).font = S.LABEL
    last = first + len(instance_catalog()) - 1
    for name, col in (("cat_instances", "B"), ("cat_inst_gpu", "E"), ("cat_inst_gpus", "F"), ("cat_inst_memory", "G"),
                      ("cat_inst_tdp", "H")):
        book.define(name, L.CATALOG, f"{col}{first}:{col}{last}")
    instances = (first, last)
    row = last + 2

    # 2. Prices per instance and term in force on the day the template was built.
    _section(ws, row, f"Instance prices per term, in force on {day.isoformat()} (USD per instance-hour)", "P")
    _header(ws, row + 1, PRICE_COLS)
    ws.row_dimensions[row + 1].height = 27
    first = row + 2
    for i, (iid, term, p) in enumerate(prices):
        r = first + i
        window = p.window()  # type: ignore[attr-defined]
        for j, value in enumerate((f"{iid}|{term}", iid, term, p.usd_per_hour, window, p.as_of.isoformat(), plain(p.source))):  # type: ignore[attr-defined]
            ws.cell(row=r, column=2 + j, value=value).font = S.LABEL
        ws.cell(row=r, column=5).number_format = L.PRICE
    last = first + len(prices) - 1
    for name, col in (("cat_price_key", "B"), ("cat_price_hourly", "E"), ("cat_price_source", "H"), ("cat_price_as_of", "G")):
        book.define(name, L.CATALOG, f"{col}{first}:{col}{last}")
    price_rows = (first, last)
    row = last + 2

    # 3. Open models: the memory check's figures.
    _section(ws, row, "Open models (runrate gpus --models): the figures the memory check needs", "P")
    _header(ws, row + 1, MODEL_COLS)
    first = row + 2
    models = model_catalog()
    for i, (mid, m) in enumerate(models.items()):
        r = first + i
        for j, value in enumerate((mid, m.name, m.parameters_b, m.layers, m.kv_heads, m.head_dim, m.as_of.isoformat(), plain(m.source))):
            ws.cell(row=r, column=2 + j, value=value).font = S.LABEL
    last = first + len(models) - 1
    for name, col in (("cat_models", "B"), ("cat_model_params_b", "D"), ("cat_model_layers", "E"), ("cat_model_kv_heads", "F"),
                      ("cat_model_head_dim", "G")):
        book.define(name, L.CATALOG, f"{col}{first}:{col}{last}")
    model_rows = (first, last)
    row = last + 2

    # 4. Precisions and the memory check's constants.
    _section(ws, row, "Weight precision and memory-check constants", "P")
    _header(ws, row + 1, ("Precision", "Bytes per weight"))
    first = row + 2
    for i, (p, b) in enumerate(cap.BYTES_PER_PARAMETER.items()):
        ws.cell(row=first + i, column=2, value=p).font = S.LABEL
        ws.cell(row=first + i, column=3, value=b).font = S.LABEL
    last = first + len(cap.BYTES_PER_PARAMETER) - 1
    book.define("cat_precisions", L.CATALOG, f"B{first}:B{last}")
    book.define("cat_precision_bytes", L.CATALOG, f"C{first}:C{last}")
    for i, (name, label, value, unit, note) in enumerate(CONSTANTS):
        r = first + i
        ws.cell(row=r, column=5, value=label).font = S.LABEL
        c = ws.cell(row=r, column=8, value=value)
        c.fill, c.font = S.CONSTANT_FILL, S.CALC
        ws.cell(row=r, column=9, value=unit).font = S.UNIT
        ws.cell(row=r, column=10, value=note).font = S.NOTE
        book.define(name, L.CATALOG, f"H{r}")
    row = max(last, first + len(CONSTANTS) - 1) + 2

    # 5. Published throughput, and per self-hosted option the capacity each figure gives its instance.
    sized = lay.of_kind("self_hosted")
    helper_first = 2 + len(FIGURE_COLS)
    tail = helper_first + len(HELPER_COLS) * len(sized)  # as of, then the source (last: its text runs on to the right)
    last_col = get_column_letter(tail + 1)
    _section(ws, row, "Published throughput (catalog/throughput.py): the capacity of each option's instance, figure by figure",
             last_col)
    ws.cell(row=row + 1, column=2, value=(
        "A figure is used when model, GPU and precision match and its GPUs divide the instance's (replicas = instance GPUs / "
        "figure GPUs); it fits when weights + KV cache <= memory x figure GPUs x (1 - headroom). Per replica: prefill and "
        "decode rates at your mix when both are published and the request size is known, else the measured request rate at "
        "the measured mix; a configuration published at several mixes uses the one nearest yours (least ln(in/measured in)^2 + "
        "ln(out/measured out)^2). The option takes the largest tokens/day per instance that fits.")).font = S.NOTE
    head = list(FIGURE_COLS) + [h.format(id=s.id) for s in sized for h in HELPER_COLS] + ["As of", "Source"]
    _header(ws, row + 2, head)
    ws.row_dimensions[row + 2].height = 40
    first = row + 3
    figs = throughput_catalog()
    last = first + len(figs) - 1
    for i, f in enumerate(figs):
        r = first + i
        for j, value in enumerate((f.model, f.gpu, f.gpus, f.tensor_parallel, f.precision, f.engine, f.output_tokens_per_second,
                                   f.input_tokens_per_request, f.output_tokens_per_request, f.prefill_tokens_per_second,
                                   f.decode_tokens_per_second, f.concurrency, "|".join(str(v) for v in configuration(f)))):
            ws.cell(row=r, column=2 + j, value="" if value is None else value).font = S.LABEL
        ws.cell(row=r, column=tail, value=f.as_of.isoformat()).font = S.LABEL
        ws.cell(row=r, column=tail + 1, value=plain(f.source)).font = S.LABEL
    col = {k: get_column_letter(2 + j) for j, k in enumerate(("model", "gpu", "gpus", "tp", "precision", "engine", "out_tps",
                                                               "in_req", "out_req", "prefill", "decode", "concurrency",
                                                               "configuration"))}
    configurations = f"{col['configuration']}{first}:{col['configuration']}{last}"
    for k, s in enumerate(sized):
        p, i = s.frag, f"in_{s.frag}"
        h = [get_column_letter(helper_first + len(HELPER_COLS) * k + j) for j in range(len(HELPER_COLS))]
        distances = f"{h[6]}{first}:{h[6]}{last}"
        for r in range(first, last + 1):
            at = {key: f"{c}{r}" for key, c in col.items()}
            formulas = [
                f"=AND(c_{p}_model_row>0,c_{p}_cat_row>0,{at['model']}={i}_model,{at['gpu']}=c_{p}_cat_gpu,{at['precision']}={i}_precision)",
                f"=IF({h[0]}{r},AND({at['gpus']}<=c_{p}_cat_gpus,MOD(c_{p}_cat_gpus,{at['gpus']})=0),FALSE)",
                f"=IF({h[0]}{r},{at['in_req']}+{at['out_req']},\"\")",
                f"=IF({h[1]}{r},c_{p}_cat_memory*{at['gpus']}*(1-{i}_memory_headroom),\"\")",
                f"=IF({h[1]}{r},IF(AND(ISNUMBER({at['prefill']}),ISNUMBER({at['decode']}),c_has_size),"
                f"k_seconds_per_day*(c_{p}_in_tokens+c_{p}_out_tokens)/(c_{p}_in_tokens/{at['prefill']}+c_{p}_out_tokens/{at['decode']}),"
                f"IF(ISNUMBER({at['out_tps']}),k_seconds_per_day*{at['out_tps']}/{at['out_req']}*({at['in_req']}+{at['out_req']}),\"\")),\"\")",
                f"=IF(AND({h[1]}{r},{h[7]}{r},ISNUMBER({h[4]}{r}),ISNUMBER(c_{p}_mem_needed)),IF(c_{p}_mem_needed<={h[3]}{r},"
                f"INT(c_{p}_cat_gpus/{at['gpus']})*{h[4]}{r},\"\"),\"\")",
                f"=IF(AND({h[1]}{r},ISNUMBER({at['out_tps']}),NOT(AND(ISNUMBER({at['prefill']}),ISNUMBER({at['decode']}))),c_has_size),"
                f"SUMSQ(LN(MAX(c_{p}_in_tokens,1)/MAX({at['in_req']},1)),LN(MAX(c_{p}_out_tokens,1)/{at['out_req']})),\"\")",
                # nearest: no figure of its configuration is nearer, nor as near and earlier in the file
                f"=IF({h[1]}{r},IF(AND(ISNUMBER({at['prefill']}),ISNUMBER({at['decode']})),TRUE,IF(ISNUMBER({h[6]}{r}),"
                f"SUMPRODUCT(({configurations}={at['configuration']})*ISNUMBER({distances})*(({distances}<{h[6]}{r})"
                f"+({distances}={h[6]}{r})*(ROW({distances})<ROW())))=0,"
                f"SUMPRODUCT(({configurations}={at['configuration']})*({h[1]}{first}:{h[1]}{last}=TRUE))=1)),FALSE)",
            ]
            for j, formula in enumerate(formulas):
                c = ws[f"{h[j]}{r}"]
                c.value = formula
                c.font = S.CALC
                c.number_format = L.INT if 2 <= j <= 5 else ("0.000" if j == 6 else "General")
        for j in range(len(HELPER_COLS)):
            ws.column_dimensions[h[j]].width = 16
        book.define(f"cat_{p}_run_tokens", L.CATALOG, f"{h[2]}{first}:{h[2]}{last}")
        book.define(f"cat_{p}_capacity", L.CATALOG, f"{h[5]}{first}:{h[5]}{last}")
    if lay.of_kind("on_prem"):
        last = _servers(book, ws, last + 2, day)
    _fit_widths(ws, first_row=5)
    ws.freeze_panes = "C5"
    ws.print_area = f"A1:{last_col}{last}"
    ws.print_title_rows = "1:3"
    _page(ws, landscape=True)
    _protect(ws)
    return CatalogRows(instances, price_rows, model_rows, (first, last))


SERVER_COLS = ("Key (GPU|GPUs)", "GPU", "GPUs per server", "Server price (USD)", "Installation (USD)", "As of", "Source")
TDP_COLS = ("GPU", "Board power per GPU (W)", "As of", "Source")


def _servers(book, ws, row: int, day: dt.date) -> int:
    """On-prem: the GPU servers to buy in force on ``day`` (the latest price read on or before it,
    catalog/servers.lookup_server) and each GPU's board power (catalog/gpu_specs), looked up by an
    on-prem option's GPU type and GPUs per server when its own cells are blank. Returns the last row."""
    from .template import _header, _section

    in_force: dict[tuple, object] = {}
    for srv in server_catalog():
        if srv.as_of <= day and ((srv.gpu, srv.gpus) not in in_force or srv.as_of >= in_force[(srv.gpu, srv.gpus)].as_of):
            in_force[(srv.gpu, srv.gpus)] = srv
    _section(ws, row, f"GPU servers to buy (runrate servers), prices in force on {day.isoformat()}: on-prem options look "
                      "them up by GPU type and GPUs per server", "P")
    _header(ws, row + 1, SERVER_COLS)
    ws.row_dimensions[row + 1].height = 27
    first = row + 2
    for i, ((gpu, gpus), srv) in enumerate(in_force.items()):
        for j, value in enumerate((f"{gpu}|{gpus}", gpu, gpus, srv.price_usd, srv.install_usd, srv.as_of.isoformat(), plain(srv.source))):
            ws.cell(row=first + i, column=2 + j, value=value).font = S.LABEL
        for col in (5, 6):
            ws.cell(row=first + i, column=col).number_format = L.USD
    last = first + max(len(in_force), 1) - 1
    for name, col in (("cat_server_key", "B"), ("cat_server_price", "E"), ("cat_server_install", "F"),
                      ("cat_server_as_of", "G"), ("cat_server_source", "H")):
        book.define(name, L.CATALOG, f"{col}{first}:{col}{last}")
    row = last + 2
    specs = gpu_specs()
    _section(ws, row, "GPU board power (runrate gpus): on-prem options look it up by GPU type", "P")
    _header(ws, row + 1, TDP_COLS)
    first = row + 2
    for i, (gpu, spec) in enumerate(specs.items()):
        for j, value in enumerate((gpu, "" if spec.tdp_watts is None else spec.tdp_watts, spec.as_of.isoformat(), plain(spec.source))):
            ws.cell(row=first + i, column=2 + j, value=value).font = S.LABEL
    last = first + len(specs) - 1
    for name, col in (("cat_gpu_types", "B"), ("cat_gpu_tdp", "C")):
        book.define(name, L.CATALOG, f"{col}{first}:{col}{last}")
    return last

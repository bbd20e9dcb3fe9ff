"""`runrate evaluate`, `presets`, `scenario`, `schema`, `prices` and `gpus`: the engine and catalog
commands, each a thin call into ``runrate_xl.api`` / ``catalog`` / ``presets`` that formats the result."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from ..api import dump_scenario, evaluate_scenario
from ..engine import Evaluation, Scenario
from ..engine.errors import InputError, RunrateError
from ..formatting import usd_rate
from ..presentation import capital_lines, failure_lines, flip_lines, iceberg_table, invoice_lines, migration_lines, split_lines, unit_cost_rows
from ._common import T, console, fail, parse_as_of, scenario_from_args, usd


def print_evaluation(ev: Evaluation, note: str = "") -> None:
    s = ev.scenario
    console.print(f"[bold]{T(s.name)}[/]  ({s.volume.daily_tokens:,.0f} tokens/day)", highlight=False)
    if note:
        console.print(f"[dim]{T(note)}[/]", highlight=False)
    names = list(ev.options)
    table = Table(title="Monthly cost (USD) - the iceberg", title_justify="left")
    table.add_column("Line item")
    table.add_column("")
    for o in names:
        table.add_column(T(ev.options[o].label), justify="right")
    for row in iceberg_table(ev):
        amounts = row["amounts"]
        table.add_row(T(row["label"]), "hidden" if row["hidden"] else "visible",
                      *[usd(amounts[o]) if amounts[o] is not None else "" for o in names])
    table.add_section()
    table.add_row("Visible", "", *[usd(ev.options[o].visible_monthly) for o in names])
    table.add_row("Hidden", "", *[usd(ev.options[o].hidden_monthly) for o in names])
    table.add_row("[bold]Total per month[/]", "", *[f"[bold]{usd(ev.options[o].total_monthly)}[/]" for o in names])
    table.add_row("Hidden share", "", *[("-" if ev.options[o].hidden_share is None else f"{ev.options[o].hidden_share:.0%}") for o in names])
    table.add_row("One-time cost", "", *[usd(ev.options[o].one_time_cost) for o in names])
    h = s.horizon.months
    table.add_row(f"TCO {h} months", "", *[usd(ev.tco[o].total) for o in names])
    table.add_row(f"NPV {h} months", "", *[usd(ev.tco[o].npv) for o in names])
    units = unit_cost_rows(ev)
    if units:
        table.add_section()
        for row in units:
            table.add_row(T(row["label"]), "", *[usd_rate(row["values"][o]) for o in names])
    console.print(table)
    for c in ev.options.values():
        if c.kind == "api" and c.blended_price_per_1m is not None:
            what = "API" if c.label == "API" else c.label
            console.print(f"Blended {T(what)} price: ${c.blended_price_per_1m:,.4f} per 1M tokens", highlight=False)
    for line in invoice_lines(ev):
        console.print(f"Invoice: {T(line, markup=False)}", highlight=False, markup=False)
    for line in capital_lines(ev):
        console.print(f"[bold]Bought servers:[/] {T(line)}", highlight=False)
    for line in split_lines(ev):
        console.print(f"[bold]Split:[/] {T(line)}", highlight=False)
    for line in failure_lines(ev):
        console.print(f"[bold]Failures:[/] {T(line)}", highlight=False)
    for line in migration_lines(ev):
        console.print(f"[bold]Migration:[/] {T(line)}", highlight=False)
    be = ev.breakeven
    console.print(f"[bold]Break-even:[/] {T(be.reason)}", highlight=False)
    if be.found and be.api_token_spend is not None:
        console.print(f"  API token spend at break-even: {usd(be.api_token_spend)}/month ({be.method.replace('_', ' ')})", highlight=False)
    for p in ev.paybacks:
        console.print(f"[bold]Payback:[/] {T(p.reason)}", highlight=False)
    for c in ev.crossovers:
        console.print(f"[bold]Crossover:[/] {T(c.reason)}", highlight=False)
    for oc in ev.outcome_costs:
        console.print(f"Cost per {T(oc.outcome_name)}: {T(ev.options[oc.option].label)} ${oc.cost_per_outcome:,.2f}", highlight=False)
    rec = ev.recommendation
    console.print(f"\n[bold green]Recommendation: {T(rec.label)}[/]", highlight=False)
    for r in rec.reasons:
        console.print(f"  - [{r.effect}] {T(r.text, markup=False)}", highlight=False, markup=False)
    flips = flip_lines(ev)
    if flips:
        console.print("[bold]What would change it:[/]", highlight=False)
        for line in flips:
            console.print(f"  - {T(line, markup=False)}", highlight=False, markup=False)
    for n in ev.notes:
        console.print(f"[dim]Note: {T(n)}[/]", highlight=False)


def evaluate(
    scenario: Optional[Path] = typer.Argument(None, help="Scenario YAML or JSON file, or a scenario workbook (.xlsx)."),
    preset: Optional[str] = typer.Option(None, "--preset", "-p", help="Evaluate a shipped preset instead."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Catalog prices in force on this date (YYYY-MM-DD)."),
) -> None:
    """Costs (visible/hidden), break-even, TCO and the recommendation with its reasons."""
    sc = scenario_from_args(scenario, preset)
    try:
        ev = evaluate_scenario(sc, parse_as_of(as_of))
    except RunrateError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(ev.model_dump_json(indent=2) + "\n")
        return
    note = ""
    if preset:
        from ..presets import get_preset

        note = get_preset(preset).note
    print_evaluation(ev, note)


def list_presets() -> None:
    """List the shipped scenario presets (from the seed articles)."""
    from ..presets import presets

    table = Table(title="Presets")
    table.add_column("name")
    table.add_column("title")
    for name, p in presets().items():
        table.add_row(T(name), T(p.title))
    console.print(table)


def schema(
    fields: bool = typer.Option(False, "--fields", help="List every input field (the field catalog) as tab-separated text."),
) -> None:
    """Print the JSON Schema of a scenario, or with --fields every input field: path, type, what
    is expected, default, unit and help. An option's fields are shown under the short-form ids
    (api, fine_tuned, self_hosted); under another id they are <id>.<field>."""
    if not fields:
        sys.stdout.write(json.dumps(Scenario.model_json_schema(), indent=2) + "\n")
        return
    from ..fields import legacy_fields

    lines = ["path\ttype\texpected\tdefault\tunit\thelp"]
    for f in legacy_fields():
        default = "" if f.default is None else str(f.default)
        lines.append("\t".join([f.path, f.type, f.expected(), default, f.unit, f.help]))
    sys.stdout.write("\n".join(lines) + "\n")


def prices(
    model: Optional[str] = typer.Argument(None, help="Model name, e.g. gpt-4o-mini."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Prices in force on this date (YYYY-MM-DD)."),
    list_models: bool = typer.Option(False, "--list", help="List the models runrate_xl ships prices for."),
) -> None:
    """Show the prices used for MODEL and where each came from."""
    from ..catalog import lookup_prices, model_names
    from ..catalog.prices import OPTIONAL_KINDS, PRICE_KINDS

    if list_models:
        for name in model_names():  # catalog text: shown literally (runrate_xl/sinks.py)
            console.print(T(name, markup=False), highlight=False, markup=False)
        console.print("[dim]...plus every model genai-prices knows (e.g. gpt-4o-mini, claude-sonnet-4-6).[/]")
        return
    if model is None:
        raise fail("give a MODEL or --list", 2)
    try:
        p = lookup_prices(model, parse_as_of(as_of))
    except InputError as exc:
        raise fail(str(exc)) from None
    table = Table(title=f"{T(p.model)} ({T(p.provider)}), USD per 1M tokens")  # catalog text: inert
    for col in ("kind", "price", "source", "as of"):
        table.add_column(col)
    for kind in PRICE_KINDS + OPTIONAL_KINDS:
        v = getattr(p, kind)
        if v is not None:  # cache writes and service tiers: only where published
            table.add_row(kind, f"{v.usd_per_1m:g}", T(v.source), T(v.as_of))
    console.print(table)
    for t in p.tiers:
        console.print(f"Long-context tier: above {t.above_input_tokens:,} input tokens/request -> {t.input_price_per_1m:g} in / {t.output_price_per_1m:g} out", highlight=False)


def gpus(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Prices in force on this date (YYYY-MM-DD); default today."),
    models: bool = typer.Option(False, "--models", help="List the open models (config.json figures for the memory check)."),
    throughput: bool = typer.Option(False, "--throughput", help="List the published throughput figures and their conditions."),
    servers: bool = typer.Option(False, "--servers", help="List the server purchase prices (indicative)."),
) -> None:
    """List the GPU catalog with the source and date of every figure: cloud instances and the
    price of each term in force on --as-of (default), or the models, throughput or servers."""
    from ..catalog import TERMS, gpu_specs, instance_catalog, model_catalog, server_catalog, throughput_catalog

    def out(table: Table) -> None:
        console.print(table)

    if models:
        table = Table(title="Open models (memory check figures)", title_justify="left")
        for col in ("model", "parameters (B)", "layers", "KV heads", "head size", "source", "as of"):
            table.add_column(col)
        for m in model_catalog().values():
            params = f"{m.parameters_b:g}" + (f" ({m.active_parameters_b:g} active)" if m.active_parameters_b else "")
            table.add_row(T(m.id), params, str(m.layers), str(m.kv_heads), str(m.head_dim), T(m.source), m.as_of.isoformat())
        return out(table)
    if throughput:
        table = Table(title="Published throughput (per model replica)", title_justify="left")
        for col in ("model", "precision", "GPUs", "figure", "conditions", "source", "as of"):
            table.add_column(col)
        for f in throughput_catalog():
            figure = (f"{f.output_tokens_per_second:g} out tok/s at {f.input_tokens_per_request:g}/{f.output_tokens_per_request:g}"
                      if f.output_tokens_per_second else f"prefill {f.prefill_tokens_per_second:g} / decode {f.decode_tokens_per_second:g}")
            table.add_row(T(f.model), f.precision, f"{f.gpus}x {T(f.gpu)}", figure, T(f"{f.engine}; {f.concurrency}"),
                          T(f.source), f.as_of.isoformat())
        return out(table)
    if servers:
        table = Table(title="Servers to buy (indicative), USD", title_justify="left")
        for col in ("GPUs", "price", "install", "source", "as of"):
            table.add_column(col)
        for srv in server_catalog():
            table.add_row(f"{srv.gpus}x {T(srv.gpu)}", f"{srv.price_usd:,.0f}", f"{srv.install_usd:,.0f}", T(srv.source), srv.as_of.isoformat())
        return out(table)
    day = parse_as_of(as_of)
    import datetime as _dt

    day = day or _dt.date.today()
    specs = gpu_specs()
    table = Table(title=f"Cloud GPU instances, USD per instance-hour in force on {day}", title_justify="left")
    for col in ("instance", "region", "GPUs", "GB/GPU", "W/GPU", *TERMS):
        table.add_column(col)
    sources: list[str] = []
    for inst in instance_catalog().values():
        cells = []
        for term in TERMS:
            try:
                price = inst.price(term, day)
            except InputError:
                cells.append("-")
                continue
            cells.append(f"{price.usd_per_hour:g}")
            sources.append(f"{inst.id} {term} {price.usd_per_hour:g} ({price.window()}, read {price.as_of}): {price.source}")
        spec = specs[inst.gpu]
        table.add_row(T(inst.id), T(inst.region), f"{inst.gpus_per_instance}x {T(inst.gpu)}", f"{spec.memory_gb:g}",
                      f"{spec.tdp_watts:g}" if spec.tdp_watts else "-", *cells)
    out(table)
    console.print("[bold]Sources[/] ('-' above: no price of that term in force that day)", highlight=False)
    for line in sources:
        console.print(f"- {T(line)}", highlight=False)
    for spec in specs.values():
        console.print(f"- {T(spec.id)} memory/power: {T(spec.source)} ({spec.as_of})", highlight=False)


def show_scenario(
    preset: str = typer.Argument(..., help="Preset name."),
    fmt: str = typer.Option("yaml", "--format", help="yaml or json."),
) -> None:
    """Print a preset's scenario as YAML/JSON, to copy and edit."""
    from ..presets import get_preset

    try:
        p = get_preset(preset)
    except InputError as exc:
        raise fail(str(exc)) from None
    if fmt not in ("yaml", "json"):
        raise fail(f"--format: got {fmt!r}, expected yaml or json", 2)
    sys.stdout.write(dump_scenario(p.scenario, fmt))

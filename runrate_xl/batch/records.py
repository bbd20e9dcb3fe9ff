"""What a run leaves as its record: summary.csv / summary.json (deterministic, the same figures as
the workbooks) and run.log (timings and every error)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from ..fsutil import atomic_write_text
from ..presentation import savings_vs_today
from ..sinks import csv_cell
from .model import BatchResult
from .unit import describe_error


def write_records(result: BatchResult) -> bool:
    """summary.csv/json and run.log; True when all were written. A failure to write them (disk
    full) is reported as such, beside the BUs that were written, never as "nothing written"."""
    complete = True
    try:
        write_summary(result)
    except OSError as exc:
        complete = False
        result.portfolio_errors["summary"] = f"summary.csv/json not (fully) written: {describe_error(exc)}"
    try:
        write_run_log(result)
    except OSError as exc:
        complete = False
        result.portfolio_errors["run_log"] = f"run.log not written: {describe_error(exc)}"
    return complete


def option_ids(result: BatchResult) -> list[str]:
    """Every option id of the evaluated units, in first-seen order (the per-option columns)."""
    return list(dict.fromkeys(o for u in result.units if u.evaluation is not None for o in u.evaluation.options))


def summary_fields(ids: list[str]) -> list[str]:
    return (
        ["position", "name", "folder", "status", "error", "recommendation", "current_option", "cost_basis",
         "saving_vs_today_monthly_usd", "saving_vs_today_horizon_usd"]
        + [f"{o}_monthly_usd" for o in ids]
        + [f"{o}_tco_usd" for o in ids]
        + [f"{o}_npv_usd" for o in ids]
        + ["horizon_months", "breakeven_tokens_per_day", "current_tokens_per_day"]
        + [f"{o}_{unit}_usd" for unit in UNIT_COSTS for o in ids]
    )


# Cost per unit per option (the engine's figures; see presentation.unit_cost_rows), after the totals.
UNIT_COSTS = ("cost_per_1m_tokens", "cost_per_request", "cost_per_successful_task")


def unit_costs(cost) -> dict[str, Any]:
    """The option's cost per 1M tokens (all costs), per request and per successful task (None when not known)."""
    t = cost.tasks
    return {"cost_per_1m_tokens": cost.cost_per_1m_tokens, "cost_per_request": t.cost_per_request if t else None,
            "cost_per_successful_task": t.cost_per_successful_task if t else None}


def summary_rows(result: BatchResult) -> list[dict[str, Any]]:
    """One flat row per BU; engine floats unrounded (the same numbers as the workbook)."""
    rows = []
    fields = summary_fields(option_ids(result))
    for u in result.units:
        row: dict[str, Any] = {k: None for k in fields}
        row.update(position=u.position, name=u.name, folder=u.folder, status=u.status, error=u.error)
        ev = u.evaluation
        if ev is not None:
            row["recommendation"] = ev.recommendation.option
            saved = savings_vs_today(ev)
            row.update(current_option=saved.versus, cost_basis=saved.basis,
                       saving_vs_today_monthly_usd=saved.monthly, saving_vs_today_horizon_usd=saved.horizon)
            for o, cost in ev.options.items():
                row[f"{o}_monthly_usd"] = cost.total_monthly
                row[f"{o}_tco_usd"] = ev.tco[o].total
                row[f"{o}_npv_usd"] = ev.tco[o].npv
                row.update({f"{o}_{unit}_usd": value for unit, value in unit_costs(cost).items()})
            row["horizon_months"] = ev.scenario.horizon.months
            row["breakeven_tokens_per_day"] = ev.breakeven.tokens_per_day if ev.breakeven.found else None
            row["current_tokens_per_day"] = ev.breakeven.current_tokens_per_day
        rows.append(row)
    return rows


def write_summary(result: BatchResult) -> None:
    """summary.csv and summary.json: deterministic (no timings), so reruns are identical."""
    rows = summary_rows(result)
    ids = option_ids(result)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=summary_fields(ids), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else (repr(v) if isinstance(v, float) else csv_cell(v)) for k, v in row.items()})
    atomic_write_text(result.out_dir / "summary.csv", buffer.getvalue())
    units = []
    for row, u in zip(rows, result.units):
        units.append({
            **{k: row[k] for k in ("position", "name", "folder", "status", "error", "recommendation", "current_option",
                                   "cost_basis", "saving_vs_today_monthly_usd", "saving_vs_today_horizon_usd")},
            "problems": u.problems,
            "mail": u.mail_status,
            "monthly_cost_usd": {o: row[f"{o}_monthly_usd"] for o in ids if row[f"{o}_monthly_usd"] is not None},
            "tco_usd": {o: row[f"{o}_tco_usd"] for o in ids if row[f"{o}_tco_usd"] is not None},
            "npv_usd": {o: row[f"{o}_npv_usd"] for o in ids if row[f"{o}_npv_usd"] is not None},
            "horizon_months": row["horizon_months"],
            "breakeven_tokens_per_day": row["breakeven_tokens_per_day"],
            "current_tokens_per_day": row["current_tokens_per_day"],
            **{f"{unit}_usd": {o: row[f"{o}_{unit}_usd"] for o in ids if row[f"{o}_{unit}_usd"] is not None} for unit in UNIT_COSTS},
            "files": u.files,
        })
    data = {
        "input": str(result.input_path),
        "as_of": result.as_of.isoformat(),
        "mail": result.mail,
        "ok": len(result.ok_units),
        "failed": len(result.failed_units),
        "portfolio": {"files": [f for f in result.files if f.startswith("portfolio")], "errors": result.portfolio_errors},
        **({"interrupted": True} if result.interrupted else {}),
        "units": units,
    }
    atomic_write_text(result.out_dir / "summary.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    result.files[:0] = ["summary.csv", "summary.json"]


def write_run_log(result: BatchResult) -> None:
    """run.log: what ran, how long each stage took, and every error with its traceback."""
    now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [
        f"runrate batch  finished {now}",
        f"input   {result.input_path}",
        f"output  {result.out_dir}",
        f"as_of   {result.as_of.isoformat()}  (prices and memo dates)",
        f"jobs    {result.jobs}   mail {result.mail}",
        f"result  {len(result.ok_units)} ok, {len(result.failed_units)} failed"
        + ("  (INTERRUPTED: pending BUs were cancelled)" if result.interrupted else ""),
        f"time    {result.seconds:.2f} s wall",
        "",
        "stage totals (seconds, summed over BUs):",
    ]
    lines += [f"  {s:<16}{sec:9.3f}" for s, sec in result.stage_totals().items()]
    lines += ["", "business units:"]
    for u in result.units:
        stages = " ".join(f"{s}={sec:.3f}s" for s, sec in u.stage_seconds.items())
        lines.append(f"  [{u.status.upper():7}] {u.name} -> {u.folder}/  {stages}")
        for p in u.problems:
            lines.append(f"      problem: {p}")
        if u.error and not u.problems:
            lines.append(f"      error: {u.error}")
        if u.trace:
            lines += ["      " + t for t in u.trace.rstrip().splitlines()]
    lines += ["", "portfolio:"]
    for name, sec in result.portfolio_seconds.items():
        status = f"error: {result.portfolio_errors[name]}" if name in result.portfolio_errors else "ok"
        lines.append(f"  {name:<16}{sec:9.3f} s  {status}")
    for name, err in result.portfolio_errors.items():
        if name not in result.portfolio_seconds:
            lines.append(f"  {name}: {err}")
    atomic_write_text(result.out_dir / "run.log", "\n".join(lines) + "\n")
    if "run.log" not in result.files:
        result.files.append("run.log")


# --- Atomic writes for files other modules produce ------------------------------------------

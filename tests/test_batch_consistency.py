"""One number everywhere, over the batch's own outputs: for seeded random business units the
engine, the Excel functions (UDFs), each scenario workbook as recalculated by LibreOffice and the
text of each PDF memo show the same figures (1e-9 relative; the PDF to its displayed precision).

One `runrate_xl.batch.run_batch` call makes every file; one soffice call recalculates all
workbooks.

The seed draws 50 units. The default run checks a stratified dozen of them (see
:func:`stratified`); all 50 run under the ``full`` marker, which is excluded by default:

    python -m pytest -m full tests/test_batch_consistency.py
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from pathlib import Path

import openpyxl
import pytest
import yaml
from pypdf import PdfReader

from runrate_xl.api import evaluate_scenario
from runrate_xl.batch import read_input, run_batch
from runrate_xl.catalog import instance_catalog, throughput_catalog

from .libreoffice import recalculate, soffice

N_UNITS = 50
SEED = 20240603  # a seed whose stratified dozen reaches three recommendations (see test below)
AS_OF = dt.date(2025, 6, 1)
REL = 1e-9
WORDS = ("support", "claims", "coding", "search", "marketing", "sales", "legal", "hr", "risk", "ops")

DOZEN = 12


def needs_libreoffice(test):
    for mark in (pytest.mark.slow, pytest.mark.libreoffice,
                 pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")):
        test = mark(test)
    return test


def random_row(rng: random.Random, i: int) -> dict:
    """A flat batch row with explicit prices (no catalog drift), spanning the model's features."""
    row: dict = {"name": f"BU {i:02d} {rng.choice(WORDS)}", "owner_email": f"bu{i}@example.com"}
    if rng.random() < 0.5:
        row["tokens_per_day"] = round(10 ** rng.uniform(5, 9.5))
    else:
        row["requests_per_month"] = round(10 ** rng.uniform(3, 7))
        row["tokens_per_request"] = rng.choice([400, 1200, 3000, 8000, 30000])
    row["input_share"] = round(rng.uniform(0.5, 0.95), 3)
    row["monthly_growth"] = rng.choice([0, 0, 0.01, 0.03, 0.06, -0.02])
    price = rng.choice([0.1, 0.15, 0.4, 1.0, 2.5, 3.0])
    row["api_input_price_per_1m"] = price
    row["api_output_price_per_1m"] = round(price * rng.choice([2, 4, 5]), 4)
    row["cached_share"] = rng.choice([0, 0, 0.3, 0.6])
    row["retry_rate"] = rng.choice([0, 0.02, 0.05])
    if rng.random() < 0.5:
        row["review_share"] = rng.choice([0.02, 0.05, 0.2])
        row["cost_per_review"] = rng.choice([1.5, 5, 12])
    row["observability_monthly"] = rng.choice([0, 300, 1500, 4000])
    if rng.random() < 0.3:
        row["tool_calls_per_request"] = 1.5
        row["price_per_tool_call"] = 0.001
    if "tokens_per_day" in row and ("review_share" in row or "tool_calls_per_request" in row):
        row["tokens_per_request"] = rng.choice([800, 2500])  # per-request costs need a request size
    row["vector_db_monthly"] = rng.choice([0, 0, 800])
    kind = rng.random()
    if kind < 0.55:
        row.update(selfhost_infra_monthly=round(rng.uniform(1000, 60000)), selfhost_utilization=round(rng.uniform(0.2, 0.95), 2),
                   selfhost_fte=rng.choice([0, 0.25, 0.5, 1, 2]), selfhost_setup_cost=rng.choice([0, 50000, 150000]),
                   selfhost_ops_tooling_monthly=rng.choice([0, 800]))
        if rng.random() < 0.3:  # seed 003's single-box reading (affine cost) beside the capacity-true default
            row["selfhost_capacity_basis"] = "unlimited"
    elif kind < 0.75:
        gpu, model, precision = rng.choice(published_combinations())
        row.update(selfhost_gpu=gpu, selfhost_model=model, selfhost_precision=precision,
                   selfhost_peak_to_average=rng.choice([1.3, 2, 3]), selfhost_fte=rng.choice([0.5, 1]),
                   selfhost_redundancy=rng.choice([1, 2]))
    if rng.random() < 0.4:
        row.update(finetune_input_price_per_1m=round(price * 2, 4), finetune_output_price_per_1m=round(price * 8, 4),
                   finetune_hosting_monthly=rng.choice([0, 1000, 3000]), finetune_setup_cost=rng.choice([20000, 100000]),
                   finetune_refresh_cost=rng.choice([0, 10000]))
    row["data_privacy"] = rng.choice(["minimal", "moderate", "moderate", "strict"])
    row["ml_expertise"] = rng.choice(["none", "limited", "strong"])
    row["quality_need"] = rng.choice(["state_of_the_art", "good_enough", "specialized_domain"])
    if rng.random() < 0.5:
        row["outcomes_per_month"] = round(10 ** rng.uniform(3, 6))
        row["outcome_name"] = "resolved ticket"
    row["horizon_months"] = rng.choice([12, 24, 36, 60])
    row["api_price_decline_per_year"] = rng.choice([0, 0.2, 0.4])
    row["discount_rate_per_year"] = rng.choice([0, 0.08])
    return row


def published_combinations() -> list[tuple[str, str, str]]:
    """(instance, model, precision) with a published throughput for a configuration that fits the
    instance's GPU count, and a model small enough for every request size the rows draw (8B/7B)."""
    return sorted({(i.id, f.model, f.precision) for i in instance_catalog().values() for f in throughput_catalog()
                   if f.gpu == i.gpu and i.gpus_per_instance % f.gpus == 0 and f.model in ("llama-3.1-8b", "mistral-7b", "llama-3-8b")})


def all_rows() -> list[dict]:
    rng = random.Random(SEED)
    return [random_row(rng, i) for i in range(N_UNITS)]


def strata(row: dict) -> set[str]:
    """The input features of a row that take a different path through the engine, the workbook
    formulas or the memo."""
    combo = "api"
    if "finetune_input_price_per_1m" in row:
        combo += "+fine_tuned"
    if "selfhost_infra_monthly" in row:
        combo += "+self_hosted/simple"
    if "selfhost_gpu" in row:
        combo += "+self_hosted/capacity"
    growth = row["monthly_growth"]
    found = {
        "options=" + combo,
        "volume=" + ("tokens_per_day" if "tokens_per_day" in row else "requests_x_size"),
        "growth=" + ("up" if growth > 0 else "down" if growth < 0 else "flat"),
        "privacy=" + row["data_privacy"],
        "expertise=" + row["ml_expertise"],
        "quality=" + row["quality_need"],
        f"horizon={row['horizon_months']}",
    }
    flags = {
        "review_costs": "review_share" in row, "tool_calls": "tool_calls_per_request" in row,
        "prompt_cache": row["cached_share"] > 0, "retries": row["retry_rate"] > 0,
        "vector_db": row["vector_db_monthly"] > 0, "outcomes": "outcomes_per_month" in row,
        "price_decline": row["api_price_decline_per_year"] > 0, "discounting": row["discount_rate_per_year"] > 0,
        "selfhost_setup": row.get("selfhost_setup_cost", 0) > 0, "redundancy": row.get("selfhost_redundancy", 1) > 1,
        "finetune_refresh": row.get("finetune_refresh_cost", 0) > 0,
        "single_box": row.get("selfhost_capacity_basis") == "unlimited",
    }
    return found | {name for name, on in flags.items() if on}


def stratified(rows: list[dict], size: int = DOZEN) -> list[int]:
    """Indices of a deterministic, stratified sample of ``rows``.

    Strata (:func:`strata`): the option combination (API only; API + fine-tuned; API +
    self-hosted simple; API + self-hosted capacity; all three with either self-hosted mode),
    the volume form (tokens/day or requests x tokens/request), growth up / down / flat, data
    privacy (strict, moderate, minimal), ML expertise, quality need, horizon (12/24/36/60
    months), and each cost feature that is on or off: human review, tool calls, prompt cache,
    retries, vector DB, outcomes, API price decline, discounting, self-hosting setup, GPU
    redundancy, fine-tune refresh, a simple self-hosted bill read as one box (capacity unlimited). (Price tiers for long context do not occur: the rows give
    explicit prices, so no catalog tier applies.)

    1. Cover: repeatedly take the row that adds the most strata not yet covered (the lowest
       index on a tie) until every stratum present in ``rows`` is covered.
    2. Fill to ``size``: take the lowest-index unused row of the option combination with the
       fewest rows so far (ties by name), so that every combination is checked more than once.
    """
    features = [strata(r) for r in rows]
    wanted = set().union(*features)
    chosen: list[int] = []
    covered: set[str] = set()
    while covered != wanted:
        best = max((i for i in range(len(rows)) if i not in chosen), key=lambda i: (len(features[i] - covered), -i))
        chosen.append(best)
        covered |= features[best]
    combo = [next(f for f in fs if f.startswith("options=")) for fs in features]
    while len(chosen) < min(size, len(rows)):
        open_combos = sorted({c for i, c in enumerate(combo) if i not in chosen})
        least = min(open_combos, key=lambda c: (sum(combo[i] == c for i in chosen), c))
        chosen.append(min(i for i, c in enumerate(combo) if c == least and i not in chosen))
    return sorted(chosen)


def run_and_recalculate(root: Path, rows: list[dict]):
    src = root / "units.yaml"
    src.write_text(yaml.safe_dump({"business_units": rows}, sort_keys=False))
    parsed = read_input(src).rows
    assert all(r.ok for r in parsed), [r.error_text() for r in parsed if not r.ok]
    result = run_batch(src, root / "out", as_of=AS_OF)
    assert result.exit_code == 0, [u.error for u in result.failed_units] + list(result.portfolio_errors.values())
    workbooks = [root / "out" / u.folder / f"{u.folder}.xlsx" for u in result.units]
    recalculated = recalculate(workbooks, root / "recalc")  # one soffice call for all of them
    return parsed, result, recalculated


def named(wb, name):
    (sheet, ref), = list(wb.defined_names[name].destinations)
    return wb[sheet][ref.replace("$", "")].value


def close(a, b) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-6)


def assert_same_numbers_everywhere(parsed, result, recalculated) -> list:
    """Check every unit; return the evaluations."""
    from runrate_xl.excel_args import scenario_rows
    from runrate_xl.formatting import tokens, usd
    from runrate_xl.udfs import RUNRATE_CROSSOVER, RUNRATE_TCO

    evaluations = []
    summary = json.loads((result.out_dir / "summary.json").read_text())
    checked = 0
    kinds = set()
    for row, unit, book, entry in zip(parsed, result.units, recalculated, summary["units"]):
        ev = evaluate_scenario(row.scenario, AS_OF)
        evaluations.append(ev)
        kinds.add(tuple(ev.options))
        be = ev.breakeven
        # engine in this process == engine in the batch worker (summary.json, full precision)
        for o, cost in ev.options.items():
            assert entry["monthly_cost_usd"][o] == cost.total_monthly
            assert entry["tco_usd"][o] == ev.tco[o].total
        assert entry["breakeven_tokens_per_day"] == (be.tokens_per_day if be.found else None)
        # the Excel functions, given the resolved scenario as a key/value range
        cells = scenario_rows(ev.scenario)
        table = RUNRATE_TCO(cells)
        assert not isinstance(table, str), table
        for (label, monthly, total, npv), (o, cost) in zip(table[1:], ev.options.items()):
            assert close(monthly, cost.total_monthly) and close(total, ev.tco[o].total) and close(npv, ev.tco[o].npv), (unit.name, o)
        crossover = RUNRATE_CROSSOVER(cells)
        if be.found:
            assert close(crossover, be.tokens_per_day), (unit.name, crossover)
        else:
            assert isinstance(crossover, str) and crossover.startswith("#N/A")
        # the workbook as LibreOffice recalculated it
        wb = openpyxl.load_workbook(book, data_only=True, read_only=True)
        for o, cost in ev.options.items():
            for name, want in ((f"out_{o}_total_monthly", cost.total_monthly), (f"out_{o}_tco_total", ev.tco[o].total),
                               (f"out_{o}_npv", ev.tco[o].npv)):
                got = named(wb, name)
                assert isinstance(got, (int, float)) and close(got, want), (unit.name, name, got, want)
        if be.found:
            assert close(named(wb, "out_be_tokens_per_day"), be.tokens_per_day), unit.name
        wb.close()
        # the memo, to its displayed precision
        pdf = result.out_dir / unit.folder / f"{unit.folder}.pdf"
        text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(pdf).pages))
        for o, cost in ev.options.items():
            assert usd(cost.total_monthly) in text, (unit.name, o, usd(cost.total_monthly))
            assert usd(ev.tco[o].total) in text, (unit.name, o, usd(ev.tco[o].total))
        if be.found:
            assert tokens(be.tokens_per_day) in text, (unit.name, tokens(be.tokens_per_day))
        checked += 1
    assert checked == len(parsed) == len(result.units)
    assert len(kinds) >= 3  # API only, with self-hosting, with fine-tuning, all three
    return evaluations


def test_the_dozen_covers_every_stratum_of_the_fifty():
    rows = all_rows()
    picks = stratified(rows)
    assert len(picks) == DOZEN == len(set(picks))
    assert set().union(*(strata(rows[i]) for i in picks)) == set().union(*(strata(r) for r in rows))
    combos = {f for r in rows for f in strata(r) if f.startswith("options=")}
    for combo in combos:  # every option combination at least twice (where the fifty have two)
        have = sum(combo in strata(r) for r in rows)
        assert sum(combo in strata(rows[i]) for i in picks) >= min(2, have), combo


@needs_libreoffice
def test_a_stratified_dozen_shows_the_same_numbers_everywhere(tmp_path):
    rows = all_rows()
    evaluations = assert_same_numbers_everywhere(*run_and_recalculate(tmp_path, [rows[i] for i in stratified(rows)]))
    # the dozen also reaches both break-even outcomes and more than one recommendation
    assert {ev.breakeven.found for ev in evaluations} == {True, False}
    assert len({ev.recommendation.option for ev in evaluations}) >= 3


@pytest.mark.full
@needs_libreoffice
def test_all_fifty_show_the_same_numbers_everywhere(tmp_path):
    assert len(assert_same_numbers_everywhere(*run_and_recalculate(tmp_path, all_rows()))) == N_UNITS

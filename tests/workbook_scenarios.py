"""Scenarios for the workbook tests: every preset plus seeded random ones covering simple and
capacity self-hosting, fine-tuned present/absent, hidden costs, tiers, growth, decline, discount;
and scenarios with several options of one kind (a column per option): the example with two API
options and own GPUs, two self-hosted options (simple and capacity), two capacity-mode options
listed before the API (a break-even of two stepped costs)."""

from __future__ import annotations

import random

from pathlib import Path

from runrate_xl.api import load_scenario, scenario_from_dict
from runrate_xl.presets import presets

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _hidden(rng: random.Random, per_request: bool) -> dict:
    h = {}
    if rng.random() < 0.7:
        h["observability_monthly"] = rng.choice([0, 500, 1500, 3000.5])
        h["vector_db_monthly"] = rng.choice([0, 250, 2000])
        h["evaluation_monthly"] = rng.uniform(0, 2000)
        h["gateway_monthly"] = rng.choice([0, 99.99])
    if per_request and rng.random() < 0.7:
        h["review_share"] = rng.choice([0.01, 0.05, 0.1])
        if rng.random() < 0.5:
            h["cost_per_review"] = rng.uniform(1, 10)
        else:
            h["review_minutes"], h["reviewer_hourly_rate"] = rng.uniform(1, 6), rng.uniform(20, 60)
        h["tool_calls_per_request"] = rng.choice([0, 0.5, 2])
        h["price_per_tool_call"] = rng.choice([0, 0.001, 0.01])
    return h


def random_scenario(seed: int) -> dict:
    rng = random.Random(seed)
    size = rng.choice([None, 800, 2500, 60000])
    volume: dict = {"input_share": rng.choice([0.5, 0.7, 0.8, 0.93]), "monthly_growth": rng.choice([0, 0.02, 0.05, -0.01])}
    if size is None:
        volume["tokens_per_day"] = rng.uniform(1e6, 8e8)
    elif rng.random() < 0.5:
        volume["requests_per_month"] = rng.uniform(1e4, 2e7)
        volume["tokens_per_request"] = size
    else:
        volume["tokens_per_day"] = rng.uniform(1e6, 8e8)
        volume["tokens_per_request"] = size
    if rng.random() < 0.2:
        volume["days_per_month"] = 30.4
    per_request = size is not None
    api: dict = {"input_price_per_1m": rng.choice([0.15, 2.5, 3.0]), "output_price_per_1m": rng.choice([0.6, 10.0, 15.0]),
                 "cached_share": rng.choice([0, 0.3]), "batch_share": rng.choice([0, 0.2]), "retry_rate": rng.choice([0, 0.03]),
                 "hidden": _hidden(rng, per_request)}
    if rng.random() < 0.3:
        api["cached_input_price_per_1m"] = api["input_price_per_1m"] * 0.25
    if rng.random() < 0.3:
        api["batch_input_price_per_1m"], api["batch_output_price_per_1m"] = 1.0, 4.0
    if rng.random() < 0.4:
        api["price_tiers"] = [{"above_input_tokens": 1000, "input_price_per_1m": 5.0, "output_price_per_1m": 20.0}]
        if rng.random() < 0.5:
            api["price_tiers"].append({"above_input_tokens": 40000, "input_price_per_1m": 7.5, "output_price_per_1m": 30.0})
    data: dict = {"name": f"Random BU {seed}", "volume": volume, "api": api,
                  "horizon": {"months": rng.choice([1, 12, 36, 60, 120]),
                              "api_price_decline_per_year": rng.choice([0, 0.1, 0.4]),
                              "discount_rate_per_year": rng.choice([0, 0.08, 0.12])}}
    if rng.random() < 0.5:
        data["fine_tuned"] = {"input_price_per_1m": 0.3, "output_price_per_1m": 1.2, "hosting_monthly": rng.choice([0, 2000]),
                              "setup_cost": 80000, "refresh_cost": rng.choice([0, 30000]), "retry_rate": rng.choice([0, 0.02]),
                              "hidden": _hidden(rng, per_request)}
    mode = rng.choice(["simple", "capacity", None])
    if mode == "simple":
        data["self_hosted"] = {"mode": "simple", "infra_monthly": rng.uniform(3000, 60000), "utilization": rng.choice([0.3, 0.8, 1.0]),
                               "fte": rng.choice([0, 0.5, 2]), "variable_cost_per_1m": rng.choice([0, 0.05]),
                               "setup_cost": 50000, "migration_cost": rng.choice([0, 20000]), "hidden": _hidden(rng, per_request)}
    elif mode == "capacity":
        data["self_hosted"] = {"mode": "capacity", "instance_hourly_usd": rng.choice([1.0, 5.67, 32.77]),
                               "gpus_per_instance": rng.choice([1, 4, 8]), "tokens_per_second_per_gpu": rng.choice([300.0, 700.0, 1500.0]),
                               "peak_to_average": rng.choice([1.25, 2.0, 3.0]), "target_utilization": rng.choice([0.6, 0.8]),
                               "redundancy": rng.choice([1.0, 1.5, 2.0]), "retry_rate": rng.choice([0, 0.03]),
                               "fte": 1, "ops_tooling_monthly": 1500, "hidden": _hidden(rng, per_request)}
    options = ["api"] + [o for o in ("fine_tuned", "self_hosted") if o in data]
    data["context"] = {"current_option": rng.choice(options), "data_privacy": rng.choice(["minimal", "moderate", "strict"]),
                       "ml_expertise": rng.choice(["none", "limited", "strong"]),
                       "quality_need": rng.choice(["state_of_the_art", "good_enough", "specialized_domain"])}
    if rng.random() < 0.5:
        data["context"]["outcomes_per_month"] = rng.uniform(1000, 1e6)
        data["context"]["latency_p99_ms"] = rng.choice([50, 400])
    extra = random.Random(seed + 7919)  # the invoice inputs (#14 item 3), drawn apart so the draws above stay
    if extra.random() < 0.5:
        api["negotiated_discount_share"] = extra.choice([0.05, 0.2])
    if per_request and extra.random() < 0.5:
        api["reasoning_tokens_per_request"] = extra.choice([200, 3000.5])
    if extra.random() < 0.4:
        api["cache_write_share"], api["cache_write_price_per_1m"] = 0.1, api["input_price_per_1m"] * 1.25
    fails = random.Random(seed + 104_729)  # failures (#14 item 4), drawn apart too
    for key in ("api", "fine_tuned", "self_hosted"):
        if per_request and key in data and fails.random() < 0.6:
            h = data[key]["hidden"]
            h.update(success_rate=fails.choice([0.7, 0.93]), on_failure=fails.choice(["retry", "human"]),
                     max_attempts=fails.choice([1, 2, 3]))
            if "cost_per_review" not in h and "review_minutes" not in h:
                h["cost_per_review"] = fails.choice([0.5, 4.0])
    return data


RANDOM_SEEDS = tuple(range(13))

# Several options of one kind (ids with '-' and digits, a label, tiers on the second API option).
TWO_SELF_HOSTED = {
    "name": "Two GPU plans", "volume": {"tokens_per_day": 3e8, "tokens_per_request": 2000, "monthly_growth": 0.03},
    "options": [
        {"id": "gpt", "kind": "api", "input_price_per_1m": 2.5, "output_price_per_1m": 10,
         "hidden": {"review_share": 0.02, "cost_per_review": 3}},
        {"id": "rent-simple", "kind": "self_hosted", "mode": "simple", "infra_monthly": 30000, "utilization": 0.6, "fte": 1,
         "label": "Rented, simple"},
        {"id": "rent-capacity", "kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 5.67, "gpus_per_instance": 4,
         "tokens_per_second_per_gpu": 700, "redundancy": 1.5, "fte": 1, "ops_tooling_monthly": 1500},
        {"id": "gpt2", "kind": "api", "input_price_per_1m": 1.0, "output_price_per_1m": 4.0, "cached_share": 0.2,
         "price_tiers": [{"above_input_tokens": 1000, "input_price_per_1m": 2.0, "output_price_per_1m": 8.0}]},
    ],
    "context": {"current_option": "rent-simple", "outcomes_per_month": 50000},
    "horizon": {"months": 48, "discount_rate_per_year": 0.1, "api_price_decline_per_year": 0.3},
}
TWO_CAPACITY = {
    "name": "Two capacity plans", "volume": {"tokens_per_day": 2e8},
    "options": [
        {"id": "h100", "kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 32.77, "gpus_per_instance": 8,
         "tokens_per_second_per_gpu": 1500, "fte": 1},
        {"id": "a10", "kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 5.67, "gpus_per_instance": 4,
         "tokens_per_second_per_gpu": 300, "redundancy": 1.5, "fte": 0.5},
        {"id": "mini", "kind": "api", "input_price_per_1m": 0.15, "output_price_per_1m": 0.6},
        {"id": "tuned", "kind": "fine_tuned", "input_price_per_1m": 0.3, "output_price_per_1m": 1.2, "hosting_monthly": 1500},
    ],
    "horizon": {"months": 24},
}
# Two capacity-mode options whose costs cross at a GPU step of one of them.
CROSSING_CAPACITY = {
    "name": "Crossing capacity plans", "volume": {"tokens_per_day": 5e7},
    "options": [
        {"id": "big", "kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 20.0, "gpus_per_instance": 8,
         "tokens_per_second_per_gpu": 1000, "fte": 0.2},
        {"id": "small", "kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 2.0, "gpus_per_instance": 1,
         "tokens_per_second_per_gpu": 400, "fte": 0.2},
    ],
}

# Simple mode with a stated capacity (deployments follow the volume as it grows) beside the
# article's flat reading of the same box, and a capacity-mode option.
STATED_CAPACITY = {
    "name": "Stated capacity", "volume": {"tokens_per_day": 5e7, "tokens_per_request": 1500, "monthly_growth": 0.06},
    "options": [
        {"id": "api", "kind": "api", "input_price_per_1m": 2.5, "output_price_per_1m": 10},
        {"id": "box-flat", "kind": "self_hosted", "mode": "simple", "infra_monthly": 4140, "utilization": 0.8, "fte": 0.25},
        {"id": "box-sized", "kind": "self_hosted", "mode": "simple", "infra_monthly": 4140, "capacity_tokens_per_day": 5.2e7,
         "peak_to_average": 1.5, "target_utilization": 0.8, "retry_rate": 0.05, "fte": 0.25},
        {"id": "gpus", "kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 5.67, "gpus_per_instance": 4,
         "tokens_per_second_per_gpu": 300, "fte": 0.5},
    ],
    "horizon": {"months": 36, "discount_rate_per_year": 0.08},
}


# API prices as invoiced: reasoning tokens, cache writes (a given 5-minute price, the 1-hour
# convention of a provider that charges a premium), a priority tier with its prices beside a
# long-context tier and batch traffic, a flex tier at the convention, negotiated discounts.
INVOICE = {
    "name": "Invoice lines", "volume": {"requests_per_month": 2e6, "tokens_per_request": 2500, "monthly_growth": 0.02},
    "options": [
        {"id": "reasoner", "kind": "api", "input_price_per_1m": 2.0, "output_price_per_1m": 8.0, "provider": "anthropic",
         "reasoning_tokens_per_request": 1500, "cached_share": 0.4, "cache_write_share": 0.2, "cache_write_price_per_1m": 2.5,
         "cache_write_1h_share": 0.1, "batch_share": 0.25, "service_tier": "priority", "service_input_price_per_1m": 3.4,
         "service_output_price_per_1m": 13.6, "negotiated_discount_share": 0.12, "retry_rate": 0.03,
         "price_tiers": [{"above_input_tokens": 1000, "input_price_per_1m": 4.0, "output_price_per_1m": 16.0}]},
        {"id": "flex", "kind": "api", "input_price_per_1m": 1.25, "output_price_per_1m": 10.0, "provider": "openai",
         "service_tier": "flex", "cache_write_share": 0.3, "reasoning_tokens_per_request": 400, "negotiated_discount_share": 0.3},
        {"id": "own", "kind": "self_hosted", "mode": "simple", "infra_monthly": 40000, "utilization": 0.7, "fte": 1},
    ],
    "context": {"current_option": "reasoner", "outcomes_per_month": 1e6},
    "horizon": {"months": 36, "api_price_decline_per_year": 0.2, "discount_rate_per_year": 0.08},
}


def several_option_scenarios():
    """(id, Scenario) of the scenarios with several options of one kind."""
    return [("example-several-options", load_scenario(EXAMPLES / "several-options.yaml")),
            ("two-self-hosted", scenario_from_dict(TWO_SELF_HOSTED)),
            ("two-capacity", scenario_from_dict(TWO_CAPACITY)),
            ("crossing-capacity", scenario_from_dict(CROSSING_CAPACITY)),
            ("stated-capacity", scenario_from_dict(STATED_CAPACITY)),
            ("invoice", scenario_from_dict(INVOICE))]


# On-prem: a stated fleet growing past its utilization, servers sized from a stated capacity with
# growth, redundancy, retries and refreshes over a horizon that is not a whole number of lives,
# and a shrinking volume (servers kept until their end of life, not replaced).
ON_PREM = {
    "on-prem-stated": {  # 2 servers at 50% of 200M carry 400M: passed in month 37, 4 servers by month 60
        "volume": {"tokens_per_day": 2e8, "monthly_growth": 0.02},
        "options": [{"id": "api", "kind": "api", "input_price_per_1m": 1, "output_price_per_1m": 4},
                    {"id": "own", "kind": "on_prem", "servers": 2, "utilization": 0.5, "server_price": 150000, "gpus_per_server": 8,
                     "gpu_tdp_watts": 350, "cost_of_capital_per_year": 0}],
        "horizon": {"months": 60, "discount_rate_per_year": 0.1}},
    "on-prem-stated-at": {  # 3 servers at 80% of 150M carry 187.5M (62.5M a server): a 4th in month 7, beside rented GPUs
        "volume": {"tokens_per_day": 1.6e8, "tokens_per_request": 800, "monthly_growth": 0.03},
        "options": [{"id": "api", "kind": "api", "input_price_per_1m": 0.5, "output_price_per_1m": 2},
                    {"id": "own", "kind": "on_prem", "servers": 3, "utilization": 0.8, "utilization_at_tokens_per_day": 1.5e8,
                     "server_price": 120000, "gpus_per_server": 4, "gpu_tdp_watts": 700, "life_years": 3},
                    {"id": "rent", "kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 12, "gpus_per_instance": 4,
                     "tokens_per_second_per_gpu": 200}],
        "horizon": {"months": 48, "discount_rate_per_year": 0.07}},
    "on-prem-growth": {
        "volume": {"tokens_per_day": 3.1e8, "tokens_per_request": 1000, "monthly_growth": 0.04},
        "options": [{"id": "api", "kind": "api", "input_price_per_1m": 1, "output_price_per_1m": 4},
                    {"id": "own", "kind": "on_prem", "capacity_tokens_per_day": 1e8, "server_price": 100000, "gpus_per_server": 4,
                     "gpu_tdp_watts": 700, "life_years": 2, "redundancy": 1.5, "retry_rate": 0.05,
                     "hidden": {"review_share": 0.01, "cost_per_review": 2}},
                    {"id": "rent", "kind": "self_hosted", "mode": "capacity", "instance_hourly_usd": 20, "gpus_per_instance": 4,
                     "tokens_per_second_per_gpu": 300}],
        "horizon": {"months": 66, "discount_rate_per_year": 0.05}},
    "on-prem-failing": {  # failed tasks: retries take server capacity and power, the rest go to people (#14 item 4)
        "volume": {"tokens_per_day": 3.1e8, "tokens_per_request": 1000, "monthly_growth": 0.04},
        "options": [{"id": "api", "kind": "api", "input_price_per_1m": 1, "output_price_per_1m": 4,
                     "hidden": {"cost_per_review": 1.5, "success_rate": 0.9, "on_failure": "human"}},
                    {"id": "own", "kind": "on_prem", "capacity_tokens_per_day": 1e8, "server_price": 100000, "gpus_per_server": 4,
                     "gpu_tdp_watts": 700, "life_years": 2, "redundancy": 1.5, "retry_rate": 0.05,
                     "hidden": {"review_share": 0.01, "cost_per_review": 2, "success_rate": 0.85, "max_attempts": 3}}],
        "context": {"outcomes_per_month": 5e6},
        "horizon": {"months": 30, "discount_rate_per_year": 0.05}},
    "on-prem-shrink": {
        "volume": {"tokens_per_day": 5.1e8, "monthly_growth": -0.03},
        "options": [{"id": "own", "kind": "on_prem", "capacity_tokens_per_day": 1e8, "server_price": 100000, "gpus_per_server": 4,
                     "gpu_tdp_watts": 700, "life_years": 1.5},
                    {"id": "api", "kind": "api", "input_price_per_1m": 1, "output_price_per_1m": 4}],
        "horizon": {"months": 40}},
}


def all_scenarios():
    """(id, Scenario) for every preset (with the mix and cascade ones), every seeded random
    scenario, the on-prem ones and the several-option ones."""
    out = [(f"preset-{name}", p.scenario) for name, p in presets().items()]
    out += [(f"random-{seed:02d}", scenario_from_dict(random_scenario(seed))) for seed in RANDOM_SEEDS]
    out += [(sid, scenario_from_dict(data)) for sid, data in ON_PREM.items()]
    return out + several_option_scenarios()

"""Cost per successful task (issue #14 item 4) and the phased migration (item 5): figures by hand.

Volume of the task tests: 10,000 requests a month of 1,000 tokens (10M tokens a month); an API
at $100 per 1M tokens in and out costs $1,000 a month in tokens, $0.10 a request.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runrate_xl.api import ScenarioError, scenario_from_dict
from runrate_xl.engine import evaluate, option_total, tco_series
from runrate_xl.engine import functions as f
from runrate_xl.engine.curve import curve, horizon_npv
from runrate_xl.engine.option_cost import option_cost
from tests.test_engine_properties import scenarios


def close(a, b, tol=1e-9):
    return math.isclose(a, b, rel_tol=tol, abs_tol=1e-9)


TASKS = {"requests_per_month": 10_000, "tokens_per_request": 1_000}


def api(option_id="cheap", price=100.0, **hidden):
    return {"id": option_id, "kind": "api", "input_price_per_1m": price, "output_price_per_1m": price,
            "hidden": {"cost_per_review": 5.0, **hidden}}


def scenario(*options, **extra):
    return scenario_from_dict({"name": "tasks", "volume": TASKS, "options": list(options), **extra})


def test_retry_twice_at_80_percent_is_1_2_attempts_and_4_percent_to_people():
    assert close(f.expected_attempts(0.8, 2), 1.2)
    assert close(f.failed_share(0.8, 2), 0.04)
    s = scenario(api(success_rate=0.8))
    c = option_cost(s, "cheap")
    items = {i.key: i.monthly_usd for i in c.line_items}
    # tokens $1,000 on the first attempts, 0.2 x $1,000 on the retries; 4% of 10,000 = 400 tasks x $5 to a person
    assert close(items["input_tokens"] + items["output_tokens"], 1_000.0)
    assert close(items["retries"], 200.0)
    assert close(items["human_review"], 2_000.0)
    assert close(c.total_monthly, 3_200.0)
    t = c.tasks
    assert t.basis == "requests" and close(t.tasks_per_month, 10_000)
    assert close(t.attempts_per_task, 1.2) and close(t.retries_per_month, 2_000) and close(t.failed_to_people_per_month, 400)
    # 9,600 tasks the model gets right (the 400 others are people's): $3,200 / 9,600
    assert close(t.successful_tasks_per_month, 9_600) and close(t.cost_per_successful_task, 3_200 / 9_600)
    assert close(c.total_monthly / 10_000, 0.32)  # per request, beside it


def test_human_handling_costs_the_review_rate_per_failed_task():
    # 20% fail, no retry: 2,000 tasks x 3 minutes x $40/h = $2 each = $4,000; tokens $1,000
    s = scenario({**api(), "hidden": {"review_minutes": 3, "reviewer_hourly_rate": 40, "success_rate": 0.8,
                                      "on_failure": "human"}})
    c = option_cost(s, "cheap")
    items = {i.key: i for i in c.line_items}
    assert close(items["retries"].monthly_usd, 0.0)
    assert close(items["human_review"].monthly_usd, 4_000.0)
    assert items["human_review"].label == "Human review + failed tasks"
    assert close(c.total_monthly, 5_000.0) and close(c.tasks.cost_per_successful_task, 5_000 / 8_000)
    assert close(c.tasks.failed_to_people_per_month, 2_000) and c.tasks.attempts_per_task == 1.0


def test_review_share_and_failures_add_up_at_one_review_cost():
    # 5% reviewed + 4% failed to people = 900 x $5
    c = option_cost(scenario(api(success_rate=0.8, review_share=0.05)), "cheap")
    assert close({i.key: i.monthly_usd for i in c.line_items}["human_review"], 4_500.0)


def test_technical_retries_and_failed_attempts_combine_multiplicatively():
    # retry_rate 5% on every one of 1.2 attempts: 1.05 x 1.2 - 1 = 26% extra tokens
    c = option_cost(scenario({**api(success_rate=0.8), "retry_rate": 0.05}), "cheap")
    assert close({i.key: i.monthly_usd for i in c.line_items}["retries"], 260.0)


def test_tool_calls_are_paid_on_every_attempt():
    # p = 0.8, k = 2: 1.2 attempts per request; 3 tool calls at $0.01 on each: $0.036 a request,
    # 10,000 requests: $360 (not the $300 of one run per request)
    c = option_cost(scenario(api(success_rate=0.8, tool_calls_per_request=3, price_per_tool_call=0.01)), "cheap")
    items = {i.key: i.monthly_usd for i in c.line_items}
    assert close(items["tool_calls"], 360.0) and close(items["tool_calls"] / 10_000, 0.036)
    assert close(c.total_monthly, 3_200.0 + 360.0)
    from runrate_xl import presentation as P

    (line,) = P.failure_lines(evaluate(scenario(api(success_rate=0.8, tool_calls_per_request=3, price_per_tool_call=0.01))))
    assert "1.20 attempts per request" in line and "their tool calls paid again in the Tool calls line" in line
    # without retries (human handling, or no failures) the calls run once per request: $300
    c = option_cost(scenario(api(success_rate=0.8, on_failure="human", tool_calls_per_request=3, price_per_tool_call=0.01)), "cheap")
    assert close({i.key: i.monthly_usd for i in c.line_items}["tool_calls"], 300.0)
    c = option_cost(scenario(api(tool_calls_per_request=3, price_per_tool_call=0.01)), "cheap")
    assert close({i.key: i.monthly_usd for i in c.line_items}["tool_calls"], 300.0)
    # an escalating first of a cascade runs its attempts too: 1.2 x 3 x $0.01 on every request, its
    # 4% of failures to `then` (at $0.10 a request of tokens, no calls) and not to a person
    casc = scenario(api(success_rate=0.8, on_failure="escalate", tool_calls_per_request=3, price_per_tool_call=0.01), api("dear", 100.0),
                    {"id": "casc", "kind": "cascade", "first": "cheap", "then": "dear"})
    c = option_cost(casc, "casc")
    items = {i.key: i.monthly_usd for i in c.line_items}
    assert close(items["cheap.tool_calls"], 360.0) and close(items["cheap.human_review"], 0.0)
    assert close(c.total_monthly, 1_200.0 + 360.0 + 0.04 * 1_000.0)


def test_a_cheap_option_that_fails_often_loses_to_a_dearer_one():
    # cheap: $1,000 when it never fails, $3,200 at 80% (above); dear: $250 per 1M, never fails: $2,500
    dear = api("dear", 250.0)
    assert evaluate(scenario(api(), dear)).recommendation.option == "cheap"
    ev = evaluate(scenario(api(success_rate=0.8), dear))
    assert close(ev.options["dear"].total_monthly, 2_500.0) and close(ev.options["cheap"].total_monthly, 3_200.0)
    assert ev.recommendation.option == "dear"
    assert close(ev.options["dear"].tasks.cost_per_successful_task, 0.25)


def test_outcomes_per_month_are_the_tasks_when_given():
    ev = evaluate(scenario(api(success_rate=0.8), context={"outcomes_per_month": 8_000, "outcome_name": "ticket"}))
    t = ev.options["cheap"].tasks
    assert t.basis == "outcomes" and close(t.cost_per_successful_task, 3_200 / (8_000 * 0.96))
    assert close(ev.outcome_costs[0].cost_per_outcome, t.cost_per_successful_task)


def test_retried_failures_take_self_hosted_capacity():
    # one deployment carries 100M tokens/day at 100% (target 100%, no peak): 90M/day fits one; with
    # 1.2 attempts per task the GPUs see 108M/day and a second deployment is needed
    gpus = {"id": "gpus", "kind": "self_hosted", "mode": "simple", "infra_monthly": 1_000, "capacity_tokens_per_day": 100e6,
            "peak_to_average": 1, "target_utilization": 1, "fte": 0, "hidden": {"cost_per_review": 1.0}}
    volume = {"tokens_per_day": 90e6, "tokens_per_request": 1_000}
    s = scenario_from_dict({"volume": volume, "options": [gpus]})
    assert option_cost(s, "gpus").details["instances"] == 1
    s = scenario_from_dict({"volume": volume, "options": [{**gpus, "hidden": {"cost_per_review": 1.0, "success_rate": 0.8}}]})
    c = option_cost(s, "gpus")
    assert c.details["instances"] == 2 and close(c.details["utilization"], 108e6 / 200e6)
    # 90M x 30 / 1,000 = 2.7M requests, 4% to people at $1
    assert close({i.key: i.monthly_usd for i in c.line_items}["human_review"], 2.7e6 * 0.04)


def test_a_failure_rate_needs_a_review_cost():
    with pytest.raises(ScenarioError, match="success_rate < 1 needs cost_per_review"):
        scenario({"id": "x", "kind": "api", "input_price_per_1m": 1, "output_price_per_1m": 1, "hidden": {"success_rate": 0.9}})
    with pytest.raises(ScenarioError, match="success_rate"):
        scenario(api(success_rate=0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from(["retry", "human"]), st.integers(1, 5), st.floats(0.05, 1.0))
def test_success_rate_one_is_todays_cost_and_failing_more_never_costs_less(s, on_failure, k, p):
    def with_hidden(**extra):
        opts = [o.model_copy(update={"hidden": o.hidden.model_copy(update=extra)}) for o in s.options]
        return s.model_copy(update={"options": opts})

    perfect = with_hidden(success_rate=1.0, on_failure=on_failure, max_attempts=k)
    failing = with_hidden(success_rate=p, on_failure=on_failure, max_attempts=k)
    for o in s.option_ids():
        assert option_total(perfect, o) == option_total(s, o)
        assert option_total(failing, o) >= option_total(s, o) * (1 - 1e-12)


# --- migration ---------------------------------------------------------------------------------
# Today: an API at $40 per 1M on 1M tokens/day = $1,200 a month in tokens + $100 observability.
# New: own GPUs at a flat $600 a month (unlimited capacity, no people), $3,000 to set up.
MOVE = {
    "name": "move",
    "volume": {"tokens_per_day": 1_000_000},
    "options": [
        {"id": "today", "kind": "api", "input_price_per_1m": 40, "output_price_per_1m": 40,
         "hidden": {"observability_monthly": 100}},
        {"id": "gpus", "kind": "self_hosted", "mode": "simple", "infra_monthly": 600, "utilization": 1.0,
         "capacity_basis": "unlimited", "fte": 0, "setup_cost": 3_000},
    ],
    "horizon": {"months": 12},
}


def move(**horizon):
    return scenario_from_dict({**MOVE, "horizon": {"months": 12, **horizon}})


def test_three_month_linear_overlap_month_costs_by_hand():
    s = move(overlap_months=3)
    series = tco_series(s, "gpus")
    # month 1: 75% on the API (900 + 100) + the GPUs 600; month 2: 600 + 100 + 600; month 3: 300 + 100 + 600
    assert [round(x, 9) for x in series.monthly[:5]] == [1_600.0, 1_300.0, 1_000.0, 600.0, 600.0]
    assert series.one_time_cost == 3_000.0
    assert tco_series(s, "today").monthly == [1_300.0] * 12  # today's option runs as before


def test_overlap_and_switch_month_move_payback_and_crossover():
    def payback(s):
        ev = evaluate(s)
        return ev.paybacks[0].months, ev.crossovers[0].month
    # immediate: saves 700 a month, 3,000 / 700 = 4.29 months
    months, cross = payback(move())
    assert close(months, 3_000 / 700) and cross == 5
    # 3-month overlap: gaps 3,000 3,300 3,300 3,000 2,300 1,600 900 200 -500: 7 + 200 / 700
    months, cross = payback(move(overlap_months=3))
    assert close(months, 7 + 200 / 700) and cross == 8
    # switch after month 2: the API runs months 1-2, the 3,000 is paid with month 2, then 700 a month
    s = move(switch_month=2)
    series = tco_series(s, "gpus")
    assert series.one_time_cost == 0.0 and series.monthly[:3] == [1_300.0, 4_300.0, 600.0]
    months, cross = payback(s)
    assert close(months, 2 + 3_000 / 700) and cross == 7


@pytest.mark.parametrize("horizon", [{"overlap_months": 3}, {"switch_month": 4, "overlap_months": 6},
                                     {"switch_month": 40}, {"switch_month": 36}])
def test_the_fast_npv_agrees_with_the_series_under_a_migration(horizon):
    data = {**MOVE, "volume": {"tokens_per_day": 5e6, "monthly_growth": 0.03},
            "horizon": {"months": 36, "discount_rate_per_year": 0.08, "api_price_decline_per_year": 0.3, **horizon}}
    data["options"] = [data["options"][0], {"id": "gpus", "kind": "self_hosted", "mode": "simple", "infra_monthly": 600,
                                           "capacity_tokens_per_day": 4e6, "fte": 0.2, "setup_cost": 3_000}]
    s = scenario_from_dict(data)
    for o in s.option_ids():
        assert close(horizon_npv(s, curve(s, o), o), tco_series(s, o).npv)


def test_on_prem_buys_its_servers_when_the_move_starts():
    import datetime as dt

    from runrate_xl import evaluate_scenario
    from runrate_xl.presets import presets

    base = presets()["buy-vs-rent-8xh100"].scenario
    s = base.model_copy(update={"horizon": base.horizon.model_copy(update={"switch_month": 6, "overlap_months": 2})})
    ev = evaluate_scenario(s, dt.date(2026, 11, 23))
    s, current = ev.scenario, ev.scenario.context.current_option
    bought = [o for o in s.option_ids() if o != current and ev.tco[o].capital is not None]
    assert bought
    for o in s.option_ids():
        assert close(horizon_npv(s, curve(s, o), o), ev.tco[o].npv)
        if o != current:
            assert ev.tco[o].monthly[:5] == ev.tco[current].monthly[:5]  # today's option until the switch
    for o in bought:  # nothing bought before the move starts: the purchase is in month 6, not month 0
        assert ev.tco[o].one_time_cost == 0.0 and ev.tco[o].monthly[5] > ev.tco[current].monthly[5] + 100_000


def test_defaults_leave_the_series_unchanged():
    s = move()
    assert tco_series(s, "gpus").monthly == [600.0] * 12 and tco_series(s, "gpus").one_time_cost == 3_000.0
    with pytest.raises(ScenarioError, match="overlap_months"):
        move(overlap_months=-1)


def test_the_memo_shows_cost_per_successful_task_on_page_one_and_the_move_within_four_pages():
    import io

    from pypdf import PdfReader

    from runrate_xl.report import render_memo

    s = scenario(api(success_rate=0.8), api("dear", 250.0), horizon={"overlap_months": 3, "switch_month": 1})
    pdf = render_memo(evaluate(s))
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) <= 4
    assert "Per successful task" in pages[0] and "$0.33" in pages[0] and "Per request" in pages[0]
    text = " ".join(pages)
    assert "9,600 of 10,000 tasks a month" in text and "3 months of overlap" in text


def test_the_excel_function_agrees_with_the_engine():
    from runrate_xl.udfs import FUNCTIONS

    fn = FUNCTIONS["RUNRATE_COST_PER_SUCCESS"]
    # $0.10 of tokens per attempt (no fixed costs): the engine's $3,200 / 9,600 and $5,000 / 8,000
    assert close(fn(0.10, 0.8, 5), option_cost(scenario(api(success_rate=0.8)), "cheap").tasks.cost_per_successful_task)
    human = scenario(api(success_rate=0.8, on_failure="human"))
    assert close(fn(0.10, 0.8, 5, 2, "human"), option_cost(human, "cheap").tasks.cost_per_successful_task)
    assert close(fn(0.10, 1, 5), 0.10)
    assert fn(0.10, 80, 5).startswith("#NUM! success_rate") and fn(0.10, 0.8, 5, 2, "later").startswith("#VALUE! on_failure")

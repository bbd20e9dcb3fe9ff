"""Cost per successful task of a mix and a cascade, and ``on_failure: escalate`` (issue #14 item 4):
figures by hand.

Volume: 10,000 requests a month of 1,000 tokens (10M tokens a month), unless a test says
otherwise; an API at $X per 1M tokens in and out costs $10 x X a month in tokens.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runrate_xl.api import ScenarioError, scenario_from_dict
from runrate_xl.engine import evaluate
from runrate_xl.engine import functions as f
from runrate_xl.engine.curve import curve, horizon_npv
from runrate_xl.engine.option_cost import option_cost


def close(a, b, tol=1e-9):
    return math.isclose(a, b, rel_tol=tol, abs_tol=1e-9)


def api(option_id, price, **hidden):
    return {"id": option_id, "kind": "api", "input_price_per_1m": price, "output_price_per_1m": price,
            "hidden": {"cost_per_review": 5.0, **hidden}}


def scenario(*options, requests=10_000, **extra):
    return scenario_from_dict({"name": "tasks", "volume": {"requests_per_month": requests, "tokens_per_request": 1_000},
                               "options": list(options), **extra})


CHEAP = api("cheap", 100.0, success_rate=0.8)  # alone: tokens $1,000 + retries $200 + 400 x $5 to people = $3,200
DEAR = api("dear", 250.0)  # never fails: $2,500


def items(cost):
    return {i.key: i.monthly_usd for i in cost.line_items}


def test_a_mix_fails_at_its_shares_of_its_components_failures():
    s = scenario(CHEAP, DEAR, {"id": "half", "kind": "mix", "route": {"cheap": 0.5, "dear": 0.5}})
    c = option_cost(s, "half")
    # cheap on 5,000 requests: tokens $500, retries $100, 200 still failing x $5 = $1,000; dear on 5,000: $1,250
    assert close(c.total_monthly, 500 + 100 + 1_000 + 1_250)
    t = c.tasks
    # failed: 0.5 x 4% + 0.5 x 0 = 2%; 9,800 of 10,000 tasks succeed
    assert t.basis == "requests" and close(t.tasks_per_month, 10_000) and close(t.failed_share, 0.02)
    assert close(t.successful_tasks_per_month, 9_800) and close(t.cost_per_successful_task, 2_850 / 9_800)
    assert close(t.cost_per_request, 0.285)
    assert close(t.retries_per_month, 1_000) and close(t.failed_to_people_per_month, 200)
    assert close(t.attempts_per_task, 0.5 * 1.2 + 0.5 * 1.0)
    assert t.success_rate is None and t.on_failure is None and t.escalated_per_month is None


def test_a_cascade_with_a_stated_escalation_share():
    s = scenario(CHEAP, DEAR, {"id": "c", "kind": "cascade", "first": "cheap", "then": "dear", "escalation_share": 0.15})
    c = option_cost(s, "c")
    # cheap on every request ($3,200, its failures to people), dear on 1,500 requests ($375)
    assert close(c.total_monthly, 3_575)
    t = c.tasks
    # failed: 0.85 x 4% (the requests cheap keeps) + 0.15 x 0 (dear decides the escalated ones) = 3.4%
    assert close(t.failed_share, 0.034) and close(t.cost_per_successful_task, 3_575 / 9_660)
    assert close(t.escalated_per_month, 1_500) and close(t.failed_to_people_per_month, 400)
    assert close(t.attempts_per_task, 1.2 + 0.15)


def test_composite_tasks_are_the_outcomes_when_given():
    s = scenario(CHEAP, DEAR, {"id": "half", "kind": "mix", "route": {"cheap": 0.5, "dear": 0.5}},
                 context={"outcomes_per_month": 5_000, "outcome_name": "ticket"})
    ev = evaluate(s)
    t = ev.options["half"].tasks
    assert t.basis == "outcomes" and close(t.tasks_per_month, 5_000)
    assert close(t.cost_per_successful_task, 2_850 / (5_000 * 0.98))
    assert close(next(o for o in ev.outcome_costs if o.option == "half").cost_per_outcome, t.cost_per_successful_task)


MINI = {"id": "mini", "kind": "api", "input_price_per_1m": 1.0, "output_price_per_1m": 1.0}  # $0.001 a request
FRONTIER = {"id": "frontier", "kind": "api", "input_price_per_1m": 10.0, "output_price_per_1m": 10.0}  # $0.01 a request


def escalating(k, **cascade):
    mini = {**MINI, "hidden": {"cost_per_review": 5.0, "success_rate": 0.8, "on_failure": "escalate", "max_attempts": k}}
    # the frontier model gets 90% right; a person handles the rest at $5
    frontier = {**FRONTIER, "hidden": {"cost_per_review": 5.0, "success_rate": 0.9, "on_failure": "human"}}
    return scenario(mini, frontier, {"id": "casc", "kind": "cascade", "first": "mini", "then": "frontier", **cascade},
                    requests=100_000)


def test_escalate_after_one_attempt_sends_a_fifth_to_the_frontier_model():
    s = escalating(1)
    c = option_cost(s, "casc")
    # 100,000 requests, 20% fail at mini once: 20,000 go to the frontier model
    assert close(c.details["frontier.share"], 0.2)
    assert close(c.details["frontier.tokens_per_day"] * 30 / 1_000, 20_000)
    by_key = items(c)
    # mini: $100 of tokens, no retries, no person for its failures (they are escalated)
    assert close(by_key["mini.input_tokens"] + by_key["mini.output_tokens"], 100) and close(by_key["mini.human_review"], 0)
    assert close(by_key["mini.retries"], 0)
    # frontier: $200 of tokens; 10% of its 20,000 to a person: 2,000 x $5
    assert close(by_key["frontier.input_tokens"] + by_key["frontier.output_tokens"], 200)
    assert close(by_key["frontier.human_review"], 10_000)
    assert close(c.total_monthly, 10_300)
    t = c.tasks
    # failed: 0.2 x 10% = 2% (mini keeps no failure); 98,000 succeed
    assert close(t.escalated_per_month, 20_000) and close(t.failed_share, 0.02) and close(t.failed_to_people_per_month, 2_000)
    assert close(t.cost_per_successful_task, 10_300 / 98_000)


def test_escalate_after_two_attempts_sends_four_percent_and_mini_tries_1_2_times():
    s = escalating(2)
    c = option_cost(s, "casc")
    t = c.tasks
    assert close(c.details["frontier.share"], 0.04) and close(t.escalated_per_month, 4_000)
    by_key = items(c)
    # mini: 1.2 attempts per request: $100 + $20 of retried tokens, 20,000 retries; frontier on 4,000: $40 + 400 x $5
    assert close(by_key["mini.retries"], 20) and close(t.retries_per_month, 20_000) and close(by_key["mini.human_review"], 0)
    assert close(c.total_monthly, 120 + 40 + 2_000)
    assert close(t.failed_share, 0.04 * 0.1) and close(t.cost_per_successful_task, 2_160 / (100_000 * (1 - 0.004)))
    assert close(t.attempts_per_task, 1.2 + 0.04)


def test_an_escalating_option_on_its_own_hands_its_failures_to_a_person_and_says_so():
    c = option_cost(escalating(2), "mini")
    # as retry: 1.2 attempts, 4% (4,000) still failing to a person at $5: $120 + $20,000
    assert close(items(c)["human_review"], 20_000) and close(c.total_monthly, 20_120)
    assert c.tasks.on_failure == "escalate" and close(c.tasks.failed_to_people_per_month, 4_000)
    assert any("mini: on_failure escalate" in n and "go to a person at the review cost" in n for n in c.notes)
    # a mix runs it on its own too: its failures go to people there, and the mix says so
    mini = {**MINI, "hidden": {"cost_per_review": 5.0, "success_rate": 0.8, "on_failure": "escalate"}}
    m = option_cost(scenario(mini, FRONTIER, {"id": "m", "kind": "mix", "route": {"mini": 0.5, "frontier": 0.5}},
                             requests=100_000), "m")
    assert close(items(m)["mini.human_review"], 0.04 * 50_000 * 5)
    assert any("mini: on_failure escalate" in n for n in m.notes)


def test_a_stated_escalation_share_must_be_the_escalating_first_failed_share():
    assert option_cost(escalating(2, escalation_share=0.04), "casc").tasks.escalated_per_month == pytest.approx(4_000)
    with pytest.raises(ScenarioError) as e:
        escalating(2, escalation_share=0.15)
    assert "casc.escalation_share" in str(e.value) and "mini.hidden.on_failure" in str(e.value) and "0.15" in str(e.value)


def test_a_cascade_whose_first_does_not_escalate_states_its_share():
    mini = {**MINI, "hidden": {"cost_per_review": 5.0, "success_rate": 0.8}}
    with pytest.raises(ScenarioError) as e:
        scenario(mini, FRONTIER, {"id": "casc", "kind": "cascade", "first": "mini", "then": "frontier"})
    assert "casc.escalation_share" in str(e.value) and "mini.hidden.on_failure is escalate" in str(e.value)


def test_the_horizon_prices_the_escalating_cascade_as_its_month():
    ev = evaluate(escalating(2, **{}))
    s = ev.scenario
    assert close(ev.tco["casc"].monthly[0], ev.options["casc"].total_monthly)
    assert close(horizon_npv(s, curve(s, "casc"), "casc"), ev.tco["casc"].npv)
    # mini's failures are priced once: by the frontier model and its people, not also by mini's reviewers
    assert ev.options["casc"].total_monthly < ev.options["mini"].total_monthly


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=st.floats(0.05, 1.0), k=st.integers(1, 5), p_then=st.floats(0.05, 1.0), review=st.floats(0.0, 50.0))
def test_escalating_cascade_invariants(p, k, p_then, review):
    mini = {**MINI, "hidden": {"cost_per_review": review, "success_rate": p, "on_failure": "escalate", "max_attempts": k}}
    frontier = {**FRONTIER, "hidden": {"cost_per_review": review, "success_rate": p_then, "on_failure": "human"}}
    s = scenario(mini, frontier, {"id": "casc", "kind": "cascade", "first": "mini", "then": "frontier"}, requests=100_000)
    c, alone, then = option_cost(s, "casc"), option_cost(s, "mini"), option_cost(s, "frontier")
    e = f.failed_share(p, k)
    # the cascade is mini without its people for failures, plus the frontier model on the escalated share
    failures_to_people = e * 100_000 * review
    assert close(c.total_monthly, alone.total_monthly - failures_to_people + e * then.total_monthly, 1e-9)
    t = c.tasks
    assert close(t.failed_share, e * (1 - p_then)) and 0 <= t.failed_share <= 1
    assert close(t.cost_per_successful_task * t.successful_tasks_per_month, c.total_monthly, 1e-9)
    assert close(t.escalated_per_month, e * 100_000)


@settings(max_examples=60, deadline=None)
@given(share=st.floats(0.0, 1.0), p=st.floats(0.05, 1.0), k=st.integers(1, 5))
def test_mix_failed_share_lies_between_its_components(share, p, k):
    failed = f.composite_failed_share("mix", [share, 1 - share], [f.failed_share(p, k), 0.0])
    assert 0.0 <= failed <= f.failed_share(p, k) + 1e-15
    assert close(failed, share * f.failed_share(p, k))


def test_nothing_fails_so_per_successful_task_is_per_request():
    s = scenario(api("a", 100.0), api("b", 250.0), {"id": "m", "kind": "mix", "route": {"a": 0.3, "b": 0.7}},
                 {"id": "c", "kind": "cascade", "first": "a", "then": "b", "escalation_share": 0.2})
    for o in ("m", "c"):
        t = option_cost(s, o).tasks
        assert t.failed_share == 0.0 and close(t.cost_per_successful_task, t.cost_per_request)
    assert close(option_cost(s, "m").tasks.cost_per_request, 0.3 * 0.1 + 0.7 * 0.25)
    assert close(option_cost(s, "c").tasks.cost_per_request, 0.1 + 0.2 * 0.25)


def test_cost_per_success_function_matches_the_escalating_cascade():
    from runrate_xl.udfs import FUNCTIONS

    fn = FUNCTIONS["RUNRATE_COST_PER_SUCCESS"]
    engine = option_cost(escalating(2), "casc").tasks.cost_per_successful_task
    # mini $0.001 an attempt, 1.2 attempts; 4% to the frontier model at $0.01 + 10% x $5 = $0.51 a task, which fails 10%
    by_hand = (0.001 * 1.2 + 0.04 * 0.51) / (1 - 0.04 * 0.1)
    assert close(engine, by_hand) and close(fn(0.001, 0.8, 5, 2, "escalate", 0.51, 0.1), by_hand)
    # without an escalation cost an escalate option is on its own: as retry (its failures to a person)
    assert close(fn(0.10, 0.8, 5, 2, "escalate"), fn(0.10, 0.8, 5, 2, "retry"))
    assert "retry, human or escalate" in fn(0.1, 0.8, 5, 2, "later")


def test_the_memo_shows_a_cascades_cost_per_successful_task_on_page_one():
    import io

    from pypdf import PdfReader

    from runrate_xl.report import render_memo

    ev = evaluate(escalating(2))
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(render_memo(ev))).pages]
    # page 1's options table: the cascade's $2,160 / 99,600 = $0.0217 per successful task (no dash)
    assert "Per successful task" in pages[0] and "$0.0217" in pages[0]
    text = " ".join(pages)
    assert "4,000 requests a month also go to" in text and "99.6% of tasks resolved" in text
    assert "4.0% also to" in text  # the route says the escalation share it derives from mini's failures


@pytest.mark.slow
def test_a_batch_row_with_an_escalating_cascade_reports_its_cost_per_successful_task(tmp_path):
    import csv
    import datetime as dt
    import json

    from runrate_xl.batch.inputs import read_input
    from runrate_xl.batch.run import run_batch

    from .test_batch_options import units_xlsx

    header = ["Name", "requests_per_month", "tokens_per_request", "mini.kind", "mini.input_price_per_1m",
              "mini.output_price_per_1m", "mini.hidden.cost_per_review", "mini.hidden.success_rate", "mini.hidden.on_failure",
              "frontier.kind", "frontier.input_price_per_1m", "frontier.output_price_per_1m", "frontier.hidden.cost_per_review",
              "frontier.hidden.success_rate", "frontier.hidden.on_failure", "casc.kind", "casc.first", "casc.then",
              "casc.escalation_share"]
    row = ["Support", 100_000, 1_000, "api", 1, 1, 5, 0.8, "escalate", "api", 10, 10, 5, 0.9, "human", "cascade", "mini",
           "frontier", None]
    (unit,) = read_input(units_xlsx(tmp_path, [row], header)).rows
    assert unit.ok, unit.error_text()
    assert unit.scenario.option("casc").escalation_share is None
    result = run_batch(tmp_path / "units.xlsx", tmp_path / "out", jobs=1, as_of=dt.date(2026, 11, 23))
    assert [u.status for u in result.units] == ["ok"], [u.error for u in result.units]
    # its workbook is written too (live formulas for the escalation), with no note that it was left out
    assert result.units[0].error == "" and any(name.endswith(".xlsx") for name in result.units[0].files)
    expected = option_cost(escalating(2), "casc").tasks.cost_per_successful_task
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())["units"][0]
    assert summary["cost_per_successful_task_usd"]["casc"] == expected
    assert close(summary["cost_per_successful_task_usd"]["mini"], 20_120 / 96_000)  # on its own: people handle its 4%
    (line,) = csv.DictReader(io_text(tmp_path / "out" / "summary.csv"))
    assert float(line["casc_cost_per_successful_task_usd"]) == expected


def io_text(path):
    return path.read_text().splitlines()


def test_a_stated_share_is_not_left_behind_when_the_first_options_success_rate_moves():
    s = escalating(2, escalation_share=0.04)
    mini = s.option("mini")
    moved = s.model_copy(update={"options": [mini.model_copy(update={"hidden": mini.hidden.model_copy(update={"success_rate": 0.5})}),
                                             *s.options[1:]]})
    # as a sensitivity copy does: mini now fails 25% after two attempts, and the cascade escalates that
    assert close(option_cost(moved, "casc").details["frontier.share"], 0.25)


@pytest.mark.libreoffice
@pytest.mark.slow
def test_the_workbook_prices_an_escalate_option_on_its_own_as_the_engine(tmp_path):
    from runrate_xl.api import evaluate_scenario
    from runrate_xl.workbook import read_workbook, workbook_bytes

    from .libreoffice import recalculate, soffice
    from .test_workbook_libreoffice import failing_checks, mismatches

    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    s = scenario_from_dict({"name": "escalate alone", "volume": {"requests_per_month": 100_000, "tokens_per_request": 1_000},
                            "options": [{**MINI, "hidden": {"cost_per_review": 5.0, "success_rate": 0.8, "on_failure": "escalate"}},
                                        FRONTIER]})
    ev = evaluate_scenario(s)
    path = tmp_path / "escalate.xlsx"
    path.write_bytes(workbook_bytes(ev, cache_values=False))
    assert read_workbook(path) == s  # the choice reads back
    (out,) = recalculate([path], tmp_path / "out")
    count, bad = mismatches(ev, out)
    assert count > 50 and bad == []
    assert not failing_checks(out)
    assert close(ev.options["mini"].total_monthly, 120 + 4_000 * 5)  # its 4% to a person on its own, as the engine says

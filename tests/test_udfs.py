"""The RUNRATE_* functions called directly: the engine's figures, Excel-shaped inputs, Excel errors."""

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runrate_xl import udfs
from runrate_xl.api import evaluate_scenario, scenario_from_dict
from runrate_xl.catalog.prices import PRICE_KINDS, lookup_prices
from runrate_xl.engine import functions as f
from runrate_xl.engine.scenario import OPTION_LABELS
from runrate_xl.engine.tco import tco_series
from runrate_xl.excel_args import scenario_from_rows, scenario_rows
from runrate_xl.presets import presets
from tests.conftest import rel

MODEL = "seed003/gpt-4o-mini"  # shipped price file: stable across genai-prices releases
ERROR_CODES = ("#VALUE!", "#NUM!", "#N/A")


def is_excel_error(value, code=None):
    return isinstance(value, str) and value.startswith(code or ERROR_CODES) and "internal error" not in value


def table_equal(got, want):
    assert len(got) == len(want)
    for g_row, w_row in zip(got, want):
        assert len(g_row) == len(w_row)
        for g, w in zip(g_row, w_row):
            if isinstance(w, float):
                assert rel(g, w), (g, w)
            else:
                assert g == w


# --- Scalar functions equal the engine -------------------------------------------------------

def test_seed_examples():
    assert rel(udfs.RUNRATE_API_COST(50_000_000, 0.15, 0.60), 360.0)
    assert rel(udfs.RUNRATE_SELFHOST_COST(4140, 0.8), 5175.0)
    assert rel(udfs.RUNRATE_BREAKEVEN(4140, 0.8, 1.5), 115_000_000.0)


api_args = st.tuples(
    st.floats(0, 1e10), st.floats(0, 100), st.floats(0, 100), st.floats(0, 1), st.floats(1, 31),
    st.floats(0, 1), st.floats(0, 1), st.floats(0, 5),
)


@settings(max_examples=60, deadline=None)
@given(api_args)
def test_api_cost_equals_engine(args):
    assert rel(udfs.RUNRATE_API_COST(*args), f.api_cost(*args))


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1e6), st.floats(0.01, 1), st.floats(0, 10), st.floats(0, 5e5), st.floats(0, 1e5))
def test_selfhost_cost_equals_engine(infra, util, fte, annual, tooling):
    assert rel(udfs.RUNRATE_SELFHOST_COST(infra, util, fte, annual, tooling), f.selfhost_cost(infra, util, fte, annual, tooling))


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 1e6), st.floats(0.01, 1), st.floats(0.01, 100), st.floats(1, 31), st.floats(0, 1e5))
def test_breakeven_equals_engine(infra, util, price, days, fixed_self):
    assert rel(udfs.RUNRATE_BREAKEVEN(infra, util, price, days, fixed_self, 0), f.breakeven(infra, util, price, days, fixed_self, 0))


def test_payback_and_cost_per_outcome_equal_engine():
    assert rel(udfs.RUNRATE_PAYBACK(123_456, 789), f.payback(123_456, 789))
    assert rel(udfs.RUNRATE_COST_PER_OUTCOME(298_000, 1_000_000), f.cost_per_outcome(298_000, 1_000_000))


def test_model_cost_uses_catalog_prices_and_published_variants():
    p = lookup_prices(MODEL)
    want = f.api_cost(
        50e6, p.input.usd_per_1m, p.output.usd_per_1m, 0.7, 30, 0.3, 0.2, 0.05,
        cached_input_price_per_1m=p.published("cached_input"),
        batch_input_price_per_1m=p.published("batch_input"),
        batch_output_price_per_1m=p.published("batch_output"),
    )
    assert rel(udfs.RUNRATE_MODEL_COST(MODEL, 50e6, 0.7, 30, 0.3, 0.2, 0.05), want)
    assert rel(udfs.RUNRATE_MODEL_COST(MODEL, 50e6), 360.0)  # seed 003 prices 0.15 / 0.60


@pytest.mark.parametrize("kind", PRICE_KINDS)
def test_price_every_kind(kind):
    assert rel(udfs.RUNRATE_PRICE(MODEL, kind), getattr(lookup_prices(MODEL), kind).usd_per_1m)


def test_price_from_genai_prices_as_of_dates():
    want = lookup_prices("gpt-4o-mini", dt.date(2024, 9, 1)).output.usd_per_1m
    as_serial = (dt.date(2024, 9, 1) - dt.date(1899, 12, 30)).days
    for as_of in (dt.datetime(2024, 9, 1), dt.date(2024, 9, 1), "2024-09-01", as_serial, float(as_serial) + 0.5, [[as_serial]]):
        assert rel(udfs.RUNRATE_PRICE("gpt-4o-mini", "output", as_of), want), as_of


# --- Scenario functions equal evaluate_scenario ----------------------------------------------

PRESETS = list(presets())


@pytest.mark.parametrize("name", PRESETS)
def test_scenario_round_trips(name):
    scenario = presets()[name].scenario
    rows = udfs.RUNRATE_SCENARIO(name)
    assert all(len(r) == 2 for r in rows)
    assert scenario_from_rows(rows) == scenario
    # with blank rows, a header row and a 1-row-per-cell mix as Excel would hand it over
    padded = [["key", "value"], [None, None]] + rows[:2] + [["", None]] + rows[2:]
    assert scenario_from_rows(padded) == scenario


def test_price_tiers_travel_as_json_text(make_scenario):
    s = make_scenario(api={"price_tiers": [{"above_input_tokens": 200_000, "input_price_per_1m": 0.3, "output_price_per_1m": 1.2}]})
    rows = scenario_rows(s)
    tiers = dict(rows)["api.price_tiers"]
    assert isinstance(tiers, str) and tiers.startswith("[")
    assert scenario_from_rows(rows) == s


@pytest.mark.parametrize("name", PRESETS)
def test_scenario_functions_equal_engine(name):
    ev = evaluate_scenario(presets()[name].scenario, with_sensitivity=False)
    rows = udfs.RUNRATE_SCENARIO(name)
    for scenario in (name, rows):
        table = udfs.RUNRATE_TCO(scenario)
        want = [["Option", "Monthly USD", f"Total {ev.scenario.horizon.months} months USD", "NPV USD"]] + [
            [OPTION_LABELS[o], c.total_monthly, ev.tco[o].total, ev.tco[o].npv] for o, c in ev.options.items()
        ]
        table_equal(table, want)
        for o in ev.options:
            assert rel(udfs.RUNRATE_TCO(scenario, o), ev.tco[o].total)
            assert rel(udfs.RUNRATE_TCO(scenario, OPTION_LABELS[o], 12), tco_series(ev.scenario, o, 12).total)
        iceberg = udfs.RUNRATE_ICEBERG(scenario)
        want = [[c.label, i.label, "hidden" if i.hidden else "visible", i.monthly_usd] for c in ev.options.values() for i in c.line_items]
        table_equal(iceberg[1:], want)
        assert udfs.RUNRATE_RECOMMEND(scenario) == ev.recommendation.label
        assert udfs.RUNRATE_REASONS(scenario) == [[r.text] for r in ev.recommendation.reasons]
        crossover = udfs.RUNRATE_CROSSOVER(scenario)
        if ev.breakeven.found:
            assert rel(crossover, ev.breakeven.tokens_per_day)
        else:
            assert is_excel_error(crossover, "#N/A") and ev.breakeven.reason in crossover


def test_tco_months_override_table():
    ev = evaluate_scenario(presets()["capacity-growth"].scenario, with_sensitivity=False)
    table = udfs.RUNRATE_TCO("capacity-growth", None, 24)
    assert table[0][2] == "Total 24 months USD"
    for row, o in zip(table[1:], ev.options):
        s = tco_series(ev.scenario, o, 24)
        assert rel(row[2], s.total) and rel(row[3], s.npv)


def test_iceberg_one_option():
    ev = evaluate_scenario(presets()["seed000-1m-inferences"].scenario, with_sensitivity=False)
    table = udfs.RUNRATE_ICEBERG("seed000-1m-inferences", "fine_tuned")
    assert {r[0] for r in table[1:]} == {"Fine-tuned"}
    assert rel(sum(r[3] for r in table[1:]), ev.options["fine_tuned"].total_monthly)
    assert rel(sum(r[3] for r in table[1:] if r[2] == "hidden"), ev.options["fine_tuned"].hidden_monthly)


def test_typed_scenario_range_with_excel_values():
    # what Excel hands over for a typed range: floats, a date in a text field, numeric text
    rows = [
        ["name", 2025.0],
        ["volume.tokens_per_day", "50,000,000"],
        ["api.input_price_per_1m", 1.5],  # blended 1.5 per 1M: seed 003's implied price
        ["api.output_price_per_1m", "1.5"],
        ["api.price_as_of", dt.datetime(2025, 1, 31)],
        ["self_hosted.infra_monthly", 4140.0],
        ["self_hosted.utilization", 0.8],
        ["self_hosted.fte", 0.0],
        ["horizon.months", 24.0],
        [None, None],
    ]
    s = udfs.scenario_of(rows)
    assert s.name == "2025" and s.api.price_as_of == "2025-01-31" and s.horizon.months == 24
    assert s.volume.tokens_per_day == 50_000_000
    assert rel(udfs.RUNRATE_CROSSOVER(rows), 115_000_000.0)


# --- Excel-shaped inputs -------------------------------------------------------------------

@pytest.mark.parametrize("tokens", [50_000_000, 50_000_000.0, "50000000", " 50,000,000 ", "5e7", [[50_000_000]], [50_000_000]])
def test_numeric_forms(tokens):
    assert rel(udfs.RUNRATE_API_COST(tokens, "0.15", 0.6), 360.0)


def test_percent_text_is_a_fraction():
    assert rel(udfs.RUNRATE_SELFHOST_COST(4140, "80%"), 5175.0)


@pytest.mark.parametrize("blank", [None, "", "  ", [[None]]])
def test_blank_optional_arguments_take_their_defaults(blank):
    assert rel(udfs.RUNRATE_API_COST(50e6, 0.15, 0.6, blank, blank, blank, blank, blank), 360.0)
    assert rel(udfs.RUNRATE_BREAKEVEN(4140, 0.8, 1.5, blank, blank, blank), 115e6)
    assert rel(udfs.RUNRATE_PRICE(MODEL, blank, blank), 0.15)
    assert udfs.RUNRATE_TCO("seed003-50m-80pct", blank, blank)[0][0] == "Option"


def test_python_callers_may_omit_optional_arguments():
    assert rel(udfs.RUNRATE_SELFHOST_COST(4140, 0.8, 1), 5175.0 + 12_500.0)


# --- Errors the Excel way ----------------------------------------------------------------

BAD = [
    # (call, code, words the message must contain)
    (lambda: udfs.RUNRATE_API_COST("abc", 0.15, 0.6), "#VALUE!", ["tokens_per_day", "'abc'", "a number"]),
    (lambda: udfs.RUNRATE_API_COST(True, 0.15, 0.6), "#VALUE!", ["tokens_per_day", "TRUE"]),
    (lambda: udfs.RUNRATE_API_COST(None, 0.15, 0.6), "#VALUE!", ["tokens_per_day", "blank", "required"]),
    (lambda: udfs.RUNRATE_API_COST(50e6, None, 0.6), "#VALUE!", ["input_price_per_1m", "blank"]),
    (lambda: udfs.RUNRATE_API_COST([[1, 2]], 0.15, 0.6), "#VALUE!", ["tokens_per_day", "1x2 range", "single cell"]),
    (lambda: udfs.RUNRATE_API_COST(dt.datetime(2025, 1, 1), 0.15, 0.6), "#VALUE!", ["tokens_per_day", "2025-01-01"]),
    (lambda: udfs.RUNRATE_API_COST("1.000,5", 0.15, 0.6), "#VALUE!", ["tokens_per_day", "1.000,5"]),
    (lambda: udfs.RUNRATE_API_COST("nan", 0.15, 0.6), "#VALUE!", ["tokens_per_day"]),
    (lambda: udfs.RUNRATE_API_COST(-1, 0.15, 0.6), "#NUM!", ["tokens_per_day", "-1", ">= 0"]),
    (lambda: udfs.RUNRATE_API_COST(50e6, 0.15, 0.6, 80), "#NUM!", ["input_share", "80", "use 0.8"]),
    (lambda: udfs.RUNRATE_API_COST(50e6, 0.15, 0.6, 0.8, 45), "#NUM!", ["days_per_month", "45"]),
    (lambda: udfs.RUNRATE_API_COST(50e6, 0.15, 0.6, 0.8, 30, 30), "#NUM!", ["cached_share", "use 0.3"]),
    (lambda: udfs.RUNRATE_API_COST(50e6, 0.15, 0.6, 0.8, 30, 0, 2), "#NUM!", ["batch_share", "2"]),
    (lambda: udfs.RUNRATE_API_COST(50e6, 0.15, 0.6, 0.8, 30, 0, 0, 9), "#NUM!", ["retry_rate", "9"]),
    (lambda: udfs.RUNRATE_SELFHOST_COST(4140, 80), "#NUM!", ["utilization", "80", "use 0.8"]),
    (lambda: udfs.RUNRATE_SELFHOST_COST(4140, 0), "#NUM!", ["utilization", "0"]),
    (lambda: udfs.RUNRATE_SELFHOST_COST(4140, 0.8, -1), "#NUM!", ["fte", "-1"]),
    (lambda: udfs.RUNRATE_SELFHOST_COST(4140, 0.8, 0, "lots"), "#VALUE!", ["fte_annual_cost", "'lots'"]),
    (lambda: udfs.RUNRATE_SELFHOST_COST(4140, 0.8, 0, 150000, -5), "#NUM!", ["tooling_monthly", "-5"]),
    (lambda: udfs.RUNRATE_BREAKEVEN(4140, 0.8, 0), "#NUM!", ["price_per_1m", "0", "> 0"]),
    (lambda: udfs.RUNRATE_BREAKEVEN(4140, 0.8, 1.5, 30, -1), "#NUM!", ["selfhost_fixed_monthly"]),
    (lambda: udfs.RUNRATE_BREAKEVEN(4140, 0.8, 1.5, 30, 0, 99_999), "#N/A", ["no break-even"]),
    (lambda: udfs.RUNRATE_PAYBACK(1000, -5), "#N/A", ["payback", "saving"]),
    (lambda: udfs.RUNRATE_PAYBACK("x", 5), "#VALUE!", ["setup_cost"]),
    (lambda: udfs.RUNRATE_COST_PER_OUTCOME(1000, 0), "#NUM!", ["outcomes_per_month", "0"]),
    (lambda: udfs.RUNRATE_MODEL_COST("no-such-model-xyz", 1e6), "#VALUE!", ["model", "no-such-model-xyz"]),
    (lambda: udfs.RUNRATE_MODEL_COST(42, 1e6), "#VALUE!", ["model", "42"]),
    (lambda: udfs.RUNRATE_MODEL_COST(None, 1e6), "#VALUE!", ["model", "blank"]),
    (lambda: udfs.RUNRATE_MODEL_COST(MODEL, 1e6, 80), "#NUM!", ["input_share", "use 0.8"]),
    (lambda: udfs.RUNRATE_PRICE(MODEL, "bulk"), "#VALUE!", ["kind", "'bulk'", "cached_input"]),
    (lambda: udfs.RUNRATE_PRICE(MODEL, 3), "#VALUE!", ["kind", "3"]),
    (lambda: udfs.RUNRATE_PRICE(MODEL, "input", "31/12/2024"), "#VALUE!", ["as_of", "31/12/2024", "YYYY-MM-DD"]),
    (lambda: udfs.RUNRATE_PRICE(MODEL, "input", True), "#VALUE!", ["as_of", "TRUE"]),
    (lambda: udfs.RUNRATE_PRICE(MODEL, "input", -3), "#NUM!", ["as_of", "-3", "serial"]),
    (lambda: udfs.RUNRATE_SCENARIO("no-such-preset"), "#VALUE!", ["preset", "no-such-preset", "seed003-50m-80pct"]),
    (lambda: udfs.RUNRATE_SCENARIO(None), "#VALUE!", ["preset", "blank"]),
    (lambda: udfs.RUNRATE_TCO("no-such-preset"), "#VALUE!", ["scenario", "no-such-preset"]),
    (lambda: udfs.RUNRATE_TCO(None), "#VALUE!", ["scenario", "blank"]),
    (lambda: udfs.RUNRATE_TCO([["volume.tokns_per_day", 1], ["api.model", MODEL]]), "#VALUE!", ["volume.tokns_per_day", "did you mean volume.tokens_per_day"]),
    (lambda: udfs.RUNRATE_TCO([["volume.tokens_per_day", 1, 3]]), "#VALUE!", ["scenario", "2-column"]),
    (lambda: udfs.RUNRATE_TCO([["volume.tokens_per_day", 1], ["volume.tokens_per_day", 2]]), "#VALUE!", ["volume.tokens_per_day", "once"]),
    (lambda: udfs.RUNRATE_TCO([[3, 1], ["api.model", MODEL]]), "#VALUE!", ["scenario key", "3"]),
    (lambda: udfs.RUNRATE_TCO([["volume.tokens_per_day", -1], ["api.model", MODEL]]), "#VALUE!", ["volume.tokens_per_day", "-1"]),
    (lambda: udfs.RUNRATE_TCO([["volume.tokens_per_day", 1e6], ["api.model", MODEL], ["volume.input_share", 80]]), "#VALUE!", ["volume.input_share", "use 0.8"]),
    (lambda: udfs.RUNRATE_TCO([["volume.tokens_per_day", "lots"], ["api.model", MODEL]]), "#VALUE!", ["volume.tokens_per_day", "'lots'"]),
    (lambda: udfs.RUNRATE_TCO([["volume.tokens_per_day", True], ["api.model", MODEL]]), "#VALUE!", ["volume.tokens_per_day", "TRUE"]),
    (lambda: udfs.RUNRATE_TCO([["volume.tokens_per_day", 1e6], ["api.model", "no-such-model-xyz"]]), "#VALUE!", ["model", "no-such-model-xyz"]),
    (lambda: udfs.RUNRATE_TCO([["volume.tokens_per_day", 1e6], ["api.price_tiers", "[oops"], ["api.model", MODEL]]), "#VALUE!", ["api.price_tiers", "JSON"]),
    (lambda: udfs.RUNRATE_TCO([["api.model", MODEL], [None, None]]), "#VALUE!", ["volume"]),
    (lambda: udfs.RUNRATE_TCO("seed003-50m-80pct", "fine_tuned"), "#VALUE!", ["option", "fine_tuned", "api, self_hosted"]),
    (lambda: udfs.RUNRATE_TCO("seed003-50m-80pct", "cloud"), "#VALUE!", ["option", "'cloud'"]),
    (lambda: udfs.RUNRATE_TCO("seed003-50m-80pct", "api", 0), "#NUM!", ["months", "0", "1 to 120"]),
    (lambda: udfs.RUNRATE_TCO("seed003-50m-80pct", "api", 12.5), "#NUM!", ["months", "12.5"]),
    (lambda: udfs.RUNRATE_TCO("seed003-50m-80pct", "api", "a year"), "#VALUE!", ["months", "'a year'"]),
    (lambda: udfs.RUNRATE_ICEBERG("seed003-50m-80pct", "fine_tuned"), "#VALUE!", ["option", "fine_tuned"]),
    (lambda: udfs.RUNRATE_CROSSOVER([["volume.tokens_per_day", 1e6], ["api.input_price_per_1m", 1], ["api.output_price_per_1m", 1]]), "#N/A", ["no alternative"]),
    (lambda: udfs.RUNRATE_RECOMMEND([["volume.tokens_per_day", 1e6]]), "#VALUE!", ["api"]),
    (lambda: udfs.RUNRATE_REASONS(42), "#VALUE!", ["scenario", "42"]),
]


@pytest.mark.parametrize("call, code, words", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_gives_an_excel_error_naming_it(call, code, words):
    result = call()
    assert is_excel_error(result, code + " "), result  # never the catch-all, never a number
    assert "Traceback" not in result and "\n" not in result and len(result) <= 255
    for word in words:
        assert word in result, (word, result)


def test_unexpected_exceptions_become_internal_error_text(monkeypatch):
    def boom(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(f, "breakeven", boom)
    assert udfs.RUNRATE_BREAKEVEN(4140, 0.8, 1.5) == "#VALUE! internal error: ZeroDivisionError: simulated bug"


def test_long_messages_are_cut_to_a_cell():
    result = udfs.RUNRATE_TCO("x" * 400)
    assert result.startswith("#VALUE! scenario") and len(result) == 255 and result.endswith("...")


# --- Caching --------------------------------------------------------------------------------

def test_parsed_scenarios_are_cached_by_their_cells():
    udfs.clear_caches()
    rows = udfs.RUNRATE_SCENARIO("seed004-startup")
    udfs.RUNRATE_TCO(rows)
    before = udfs._cached_evaluation.cache_info()
    udfs.RUNRATE_RECOMMEND([list(r) for r in rows])  # a fresh but equal range
    after = udfs._cached_evaluation.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses
    changed = [list(r) for r in rows]
    changed[1][1] = changed[1][1] * 2
    udfs.RUNRATE_RECOMMEND(changed)
    assert udfs._cached_evaluation.cache_info().misses == after.misses + 1


def test_scenario_edits_change_results():
    rows = [list(r) for r in udfs.RUNRATE_SCENARIO("seed003-50m-80pct")]
    base = udfs.RUNRATE_CROSSOVER(rows)
    for r in rows:
        if r[0] == "self_hosted.utilization":
            r[1] = 0.95
    edited = scenario_from_dict({**presets()["seed003-50m-80pct"].scenario.model_dump(exclude_defaults=True),
                                 "self_hosted": {"mode": "simple", "infra_monthly": 4140, "utilization": 0.95, "fte": 0}})
    assert rel(udfs.RUNRATE_CROSSOVER(rows), evaluate_scenario(edited).breakeven.tokens_per_day)
    assert not math.isclose(base, udfs.RUNRATE_CROSSOVER(rows))

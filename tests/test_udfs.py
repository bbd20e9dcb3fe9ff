"""The RUNRATE_* functions called directly: the engine's figures, Excel-shaped inputs, Excel errors."""

import datetime as dt
import math

import pytest

from runrate_xl import udfs
from runrate_xl.api import evaluate_scenario, scenario_from_dict
from runrate_xl.catalog.prices import PRICE_KINDS, lookup_prices
from runrate_xl.engine import functions as f
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


# --- Scalar functions: hand-computed figures, every argument in its place ------------------

SCALAR_EXAMPLES = [
    # seed 003: 1.2e9 input x 0.15 + 0.3e9 output x 0.60 per 1M = 180 + 180
    (udfs.RUNRATE_API_COST, (50_000_000, 0.15, 0.60), 360.0),
    # every argument away from its default, by hand: M = 1.25e9 (25 days), Mi = 0.9375e9,
    # Mo = 0.3125e9; b = 0.1, c = 0.25: input 0.9 x 937.5 x 0.75 x 0.15 = 94.921875, cached
    # 0.9 x 937.5 x 0.25 x 0.015 = 3.1640625, output 0.9 x 312.5 x 0.6 = 168.75, batch
    # 0.1 x (937.5 x 0.075 + 312.5 x 0.3) = 16.40625; sum 283.2421875, + 2% retries 5.66484375
    (udfs.RUNRATE_API_COST, (50_000_000, 0.15, 0.60, 0.75, 25, 0.25, 0.1, 0.02), 288.90703125),
    (udfs.RUNRATE_SELFHOST_COST, (4140, 0.8), 5175.0),  # seed 003: 4,140 / 0.8
    # 5,175 + 0.5 x 120,000 / 12 + 100
    (udfs.RUNRATE_SELFHOST_COST, (4140, 0.8, 0.5, 120_000, 100), 10_275.0),
    (udfs.RUNRATE_BREAKEVEN, (4140, 0.8, 1.5), 115_000_000.0),  # seed 003: 5,175 / (1.5e-6 x 30)
    # (5,175 + 1,000 - 500) / (1.5e-6 x 25)
    (udfs.RUNRATE_BREAKEVEN, (4140, 0.8, 1.5, 25, 1000, 500), 5675 / 3.75e-5),
    (udfs.RUNRATE_PAYBACK, (100_000, 5_000), 20.0),
    (udfs.RUNRATE_COST_PER_OUTCOME, (298_000, 1_000_000), 0.298),  # seed 000's API at 1M inferences
    (udfs.RUNRATE_REASONING_COST, (1_000_000, 2_000, 8), 16_000.0),  # 1M requests x 2,000 x 8.00 / 1M
]


@pytest.mark.parametrize("udf, args, want", SCALAR_EXAMPLES, ids=[f"{u.__name__}{a}" for u, a, _ in SCALAR_EXAMPLES])
def test_scalar_functions_by_hand(udf, args, want):
    assert rel(udf(*args), want)


def test_model_cost_uses_catalog_prices():
    # seed003/gpt-4o-mini publishes 0.15 / 0.60 only, so cached = 0.015 and batch = 0.075 / 0.30.
    # M = 1.5e9, Mi = 1.05e9, Mo = 0.45e9, b = 0.2, c = 0.3: input 0.8 x 1050 x 0.7 x 0.15 = 88.2,
    # cached 0.8 x 1050 x 0.3 x 0.015 = 3.78, output 0.8 x 450 x 0.6 = 216, batch
    # 0.2 x (1050 x 0.075 + 450 x 0.3) = 42.75; sum 350.73, + 5% retries 17.5365
    assert rel(udfs.RUNRATE_MODEL_COST(MODEL, 50e6, 0.7, 30, 0.3, 0.2, 0.05), 368.2665)
    assert rel(udfs.RUNRATE_MODEL_COST(MODEL, 50e6), 360.0)  # seed 003 prices 0.15 / 0.60


def test_model_cost_charges_a_published_cached_price_not_the_convention():
    p = lookup_prices("gpt-4o-mini")
    assert not p.cached_input.convention  # genai-prices publishes it
    # all input cached: 1.2e9 input tokens at the cached price + 0.3e9 output tokens
    want = 1200 * p.cached_input.usd_per_1m + 300 * p.output.usd_per_1m
    assert rel(udfs.RUNRATE_MODEL_COST("gpt-4o-mini", 50e6, 0.8, 30, 1.0), want)
    assert not rel(want, 1200 * 0.1 * p.input.usd_per_1m + 300 * p.output.usd_per_1m)  # the convention differs


# seed003/gpt-4o-mini publishes 0.15 / 0.60; the rest are the conventions (10% cached, 50% batch)
SEED003_PRICES = {"input": 0.15, "output": 0.60, "cached_input": 0.015, "batch_input": 0.075, "batch_output": 0.30}


def test_price_every_kind():
    assert set(SEED003_PRICES) == set(PRICE_KINDS)
    for kind, want in SEED003_PRICES.items():
        assert rel(udfs.RUNRATE_PRICE(MODEL, kind), want), kind


def test_price_from_genai_prices_as_of_dates():
    want = lookup_prices("gpt-4o-mini", dt.date(2024, 9, 1)).output.usd_per_1m
    as_serial = (dt.date(2024, 9, 1) - dt.date(1899, 12, 30)).days
    for as_of in (dt.datetime(2024, 9, 1), dt.date(2024, 9, 1), "2024-09-01", as_serial, float(as_serial) + 0.5, [[as_serial]]):
        assert rel(udfs.RUNRATE_PRICE("gpt-4o-mini", "output", as_of), want), as_of


# --- Scenario functions: name and cells agree, functions agree, seed figures by hand --------

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
def test_scenario_functions_agree_for_a_name_and_its_cells(name):
    """A preset's name and its key/value cells are the same scenario to every function, and the
    functions agree with each other: the iceberg adds up to the TCO table's monthly column, the
    one-option TCO is the table's total, the recommendation is one of the table's options."""
    rows = udfs.RUNRATE_SCENARIO(name)
    for fn in (udfs.RUNRATE_TCO, udfs.RUNRATE_ICEBERG, udfs.RUNRATE_RECOMMEND, udfs.RUNRATE_REASONS, udfs.RUNRATE_CROSSOVER):
        assert fn(rows) == fn(name), fn.__name__
    table = udfs.RUNRATE_TCO(name)
    horizon = presets()[name].scenario.horizon.months
    assert table[0] == ["Option", "Monthly USD", f"Total {horizon} months USD", "NPV USD"]
    iceberg = udfs.RUNRATE_ICEBERG(name)
    assert iceberg[0] == ["Option", "Line item", "Visible/hidden", "USD per month"]
    assert {r[2] for r in iceberg[1:]} <= {"visible", "hidden"}
    labels = [r[0] for r in table[1:]]
    assert len(set(labels)) == len(labels) and {r[0] for r in iceberg[1:]} == set(labels)
    for label, monthly, total, npv in table[1:]:
        assert rel(sum(r[3] for r in iceberg[1:] if r[0] == label), monthly), label
        assert rel(udfs.RUNRATE_TCO(name, label), total) and npv <= total * (1 + 1e-12)
    assert udfs.RUNRATE_RECOMMEND(name) in set(labels) | {"Hybrid"}
    reasons = udfs.RUNRATE_REASONS(name)
    assert reasons and all(len(r) == 1 and isinstance(r[0], str) and r[0] for r in reasons)
    crossover = udfs.RUNRATE_CROSSOVER(name)
    assert (isinstance(crossover, float) and crossover > 0) or is_excel_error(crossover, "#N/A")


def test_scenario_functions_seed003_by_hand():
    # 360 / month API, 4,140 / 0.8 = 5,175 self-hosted, 36 months, no discounting, no setup
    table_equal(udfs.RUNRATE_TCO("seed003-50m-80pct"), [
        ["Option", "Monthly USD", "Total 36 months USD", "NPV USD"],
        ["API", 360.0, 12_960.0, 12_960.0],
        ["Self-hosted", 5175.0, 186_300.0, 186_300.0],
        ["Self-hosted (article's single box)", 5175.0, 186_300.0, 186_300.0],
    ])
    iceberg = {(r[0], r[1]): (r[2], r[3]) for r in udfs.RUNRATE_ICEBERG("seed003-50m-80pct")[1:]}
    assert iceberg[("API", "Input tokens")][0] == "visible" and rel(iceberg[("API", "Input tokens")][1], 180.0)
    assert iceberg[("Self-hosted", "GPU capacity in use")] == ("visible", 4140.0)
    assert iceberg[("Self-hosted", "Idle GPU capacity")][0] == "hidden"
    assert rel(iceberg[("Self-hosted", "Idle GPU capacity")][1], 1035.0)
    # capacity-true (62.5M per $5,175 box) the API stays cheaper at every volume
    assert is_excel_error(udfs.RUNRATE_CROSSOVER("seed003-50m-80pct"), "#N/A")
    assert udfs.RUNRATE_RECOMMEND("seed003-50m-80pct") == "API"


def test_tco_months_and_option_arguments_by_hand():
    # seed 000 at 1M inferences: API 298,000 / month; fine-tuned 275,000 + 100,000 setup;
    # self-hosted 398,000 + 200,000 setup; no discounting
    table_equal(udfs.RUNRATE_TCO("seed000-1m-inferences", None, 24), [
        ["Option", "Monthly USD", "Total 24 months USD", "NPV USD"],
        ["API", 298_000.0, 7_152_000.0, 7_152_000.0],
        ["Fine-tuned", 275_000.0, 6_700_000.0, 6_700_000.0],
        ["Self-hosted", 398_000.0, 9_752_000.0, 9_752_000.0],
    ])
    assert rel(udfs.RUNRATE_TCO("seed000-1m-inferences", "Fine-tuned", 12), 275_000 * 12 + 100_000)
    assert rel(udfs.RUNRATE_TCO("seed000-1m-inferences", "self_hosted"), 398_000 * 36 + 200_000)
    capacity = udfs.RUNRATE_TCO("capacity-growth", None, 24)  # growth and discounting: NPV below the total
    assert capacity[0][2] == "Total 24 months USD" and all(r[3] < r[2] for r in capacity[1:])


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
        ["self_hosted.capacity_basis", "unlimited"],  # seed 003's single box
        ["horizon.months", 24.0],
        [None, None],
    ]
    s = udfs.scenario_of(rows)
    assert s.name == "2025" and s.option("api").price_as_of == "2025-01-31" and s.horizon.months == 24
    assert s.volume.tokens_per_day == 50_000_000
    assert rel(udfs.RUNRATE_CROSSOVER(rows), 115_000_000.0)


def test_a_true_false_field_takes_an_excel_boolean():
    """api.private is TRUE/FALSE in a key/value range: a private-cloud API stays eligible under
    strict privacy; a number in it is refused naming the key."""
    rows = [["volume.tokens_per_day", 50_000_000], ["api.input_price_per_1m", 1.5], ["api.output_price_per_1m", 1.5],
            ["api.private", True], ["self_hosted.infra_monthly", 4140], ["self_hosted.utilization", 0.8],
            ["context.data_privacy", "strict"]]
    assert udfs.scenario_of(rows).option("api").private is True
    assert udfs.RUNRATE_RECOMMEND(rows) == "API"  # private: the cheaper API stays eligible
    assert udfs.RUNRATE_RECOMMEND([r if r[0] != "api.private" else ["api.private", False] for r in rows]) == "Self-hosted"
    refused = udfs.RUNRATE_RECOMMEND([r if r[0] != "api.private" else ["api.private", 7] for r in rows])
    assert refused.startswith("#VALUE!") and "api.private" in refused and "TRUE or FALSE" in refused


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
    (lambda: udfs.RUNRATE_SCENARIO("no-such-preset"), "#VALUE!", ["preset", "no-such-preset", "bursty-25pct"]),
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
    rows = [list(r) for r in udfs.RUNRATE_SCENARIO("seed004-startup")]
    base = udfs.RUNRATE_CROSSOVER(rows)
    for r in rows:
        if r[0] == "self_hosted.utilization":
            r[1] = 0.95
    data = presets()["seed004-startup"].scenario.model_dump(exclude_defaults=True)
    data["options"] = [{**o, "utilization": 0.95} if o["id"] == "self_hosted" else o for o in data["options"]]
    edited = scenario_from_dict(data)
    assert rel(udfs.RUNRATE_CROSSOVER(rows), evaluate_scenario(edited).breakeven.tokens_per_day)
    assert not math.isclose(base, udfs.RUNRATE_CROSSOVER(rows))


def test_every_error_carries_one_problem_record():
    """ExcelError is a RunrateError with the same record (field, value, expected) as InputError."""
    from runrate_xl.engine.errors import InputError, RunrateError
    from runrate_xl.excel_args import ExcelError, excel_message

    exc = ExcelError("#NUM!", "share", 80, "a fraction between 0 and 1", "use 0.8")
    assert isinstance(exc, RunrateError)
    assert exc.problem == ("share", 80, "a fraction between 0 and 1") == InputError("share", 80, "a fraction between 0 and 1").problem
    assert exc.argument == "share" and excel_message(exc) == "#NUM! share: got 80, expected a fraction between 0 and 1 (use 0.8)"


# API at $1 per 1M tokens in and out ($30/month per 1M tokens/day); a GPU box at $800/month that
# carries 30M tokens/day (target 100%, no peak, no people): at 50M tokens/day one full box and
# the rest on the API is cheapest (see tests/test_mix.py).
MIX_ROWS = [["volume.tokens_per_day", 50e6], ["api.kind", "api"], ["api.input_price_per_1m", 1], ["api.output_price_per_1m", 1],
            ["gpus.kind", "self_hosted"], ["gpus.infra_monthly", 800], ["gpus.capacity_tokens_per_day", 30e6],
            ["gpus.target_utilization", 1], ["gpus.peak_to_average", 1], ["gpus.fte", 0]]


def test_mix_cost_and_best_split_by_hand():
    # 60% to the GPUs: one box, $800; 40% = 20M tokens/day on the API: $600
    assert udfs.RUNRATE_MIX_COST(MIX_ROWS, "gpus", "api", 0.6) == pytest.approx(1400.0, rel=1e-12)
    # 50/50: one box (25M) $800 + 25M on the API $750
    assert udfs.RUNRATE_MIX_COST(MIX_ROWS, "gpus", "api", 0.5) == pytest.approx(1550.0, rel=1e-12)
    # all to the API: the GPUs are not run and cost nothing
    assert udfs.RUNRATE_MIX_COST(MIX_ROWS, "gpus", "api", 0) == pytest.approx(1500.0, rel=1e-12)
    assert udfs.RUNRATE_BEST_SPLIT(MIX_ROWS, "gpus", "api") == pytest.approx(0.6, rel=1e-9)
    assert udfs.RUNRATE_BEST_SPLIT(MIX_ROWS, "api", "gpus") == pytest.approx(0.4, rel=1e-9)


@pytest.mark.parametrize("call, code, words", [
    (lambda: udfs.RUNRATE_MIX_COST(MIX_ROWS, "gpus", "api", 60), "#NUM!", ["share_a", "60"]),
    (lambda: udfs.RUNRATE_MIX_COST(MIX_ROWS, "gpus", "gpus", 0.5), "#VALUE!", ["option_b", "other than option_a"]),
    (lambda: udfs.RUNRATE_MIX_COST(MIX_ROWS, "gpus", "nope", 0.5), "#VALUE!", ["option", "nope"]),
    (lambda: udfs.RUNRATE_BEST_SPLIT(MIX_ROWS + [["m.kind", "mix"], ["m.route.api", 0.5], ["m.route.gpus", 0.5]], "m", "api"),
     "#VALUE!", ["option_a", "not a mix or cascade"]),
])
def test_mix_functions_name_their_bad_argument(call, code, words):
    out = call()
    assert isinstance(out, str) and out.startswith(code), out
    assert all(w in out for w in words), out

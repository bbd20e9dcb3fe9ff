"""Catalogs: every value has a source and as-of date; conventions are flagged; user values win."""

import datetime as dt

import pytest

from runrate_xl.api import evaluate_scenario, scenario_from_dict
from runrate_xl.catalog import gpu_catalog, lookup_prices, resolve
from runrate_xl.catalog._data import load_data
from runrate_xl.engine.errors import InputError
from tests.conftest import rel


def test_genai_prices_model_with_sources():
    p = lookup_prices("gpt-4o-mini", dt.date(2026, 11, 23))
    assert (p.input.usd_per_1m, p.output.usd_per_1m) == (0.15, 0.6)
    assert "genai-prices" in p.input.source and p.input.as_of == "2026-11-23"
    assert p.cached_input.usd_per_1m == 0.075 and not p.cached_input.convention


def test_missing_prices_follow_conventions_and_say_so():
    p = lookup_prices("gemini-1.5-pro", dt.date(2026, 11, 23))
    assert p.cached_input.convention and rel(p.cached_input.usd_per_1m, 0.125)
    assert p.batch_output.convention and rel(p.batch_output.usd_per_1m, 2.5)
    assert "convention" in p.batch_output.source
    assert p.tiers and p.tiers[0].above_input_tokens == 128_000


def test_price_history_is_used():
    # genai-prices has a batch price for gpt-4o-mini only from 2026-10-14 on
    before = lookup_prices("gpt-4o-mini", dt.date(2026, 1, 1))
    after = lookup_prices("gpt-4o-mini", dt.date(2026, 11, 1))
    assert before.batch_input.convention and not after.batch_input.convention


def test_override_file_entries_have_source_and_date():
    models = load_data("api_prices.yaml")["models"]
    for name, entry in models.items():
        assert entry["source"] and dt.date.fromisoformat(str(entry["as_of"])), name
        assert lookup_prices(name).input.source == entry["source"]


def test_gpu_catalog_entries_have_source_and_date():
    cat = gpu_catalog()
    assert "aws-g5.12xlarge" in cat
    for g in cat.values():
        assert g.source and dt.date.fromisoformat(g.as_of) and g.throughput_source
    assert rel(cat["aws-g5.12xlarge"].hourly_usd * 730, 4139.1)  # seed 003's ~4,140/month


def test_unknown_model():
    with pytest.raises(InputError, match="no-such"):
        lookup_prices("no-such-model-abc")


def test_user_prices_win_over_catalog():
    s = scenario_from_dict({"volume": {"tokens_per_day": 1e6}, "api": {"model": "gpt-4o-mini", "input_price_per_1m": 9.0}})
    r = resolve(s, dt.date(2026, 11, 23))
    assert r.option("api").input_price_per_1m == 9.0 and r.option("api").output_price_per_1m == 0.6
    assert r.option("api").cached_input_price_per_1m == 0.075  # published, so filled
    assert r.option("api").batch_input_price_per_1m == 0.075  # batch variant in force on that date


def test_convention_is_noted_in_the_result():
    s = scenario_from_dict({"volume": {"tokens_per_day": 1e6}, "api": {"model": "gemini-1.5-pro", "cached_share": 0.5}})
    e = evaluate_scenario(s, dt.date(2026, 11, 23))
    assert any("10% of the input price" in n for n in e.notes)


def test_long_context_tier_applies_per_request_size():
    base = {"api": {"model": "gemini-1.5-pro"}}
    small = scenario_from_dict({**base, "volume": {"tokens_per_day": 1e6, "tokens_per_request": 10_000}})
    large = scenario_from_dict({**base, "volume": {"tokens_per_day": 1e6, "tokens_per_request": 200_000}})
    a = evaluate_scenario(small, dt.date(2026, 11, 23)).options["api"]
    b = evaluate_scenario(large, dt.date(2026, 11, 23)).options["api"]
    assert rel(b.total_monthly, 2 * a.total_monthly)  # tier prices are exactly double
    assert any("Long-context tier" in n for n in b.notes)


def test_capacity_mode_resolves_from_gpu_catalog():
    s = scenario_from_dict({"volume": {"tokens_per_day": 86_400_000}, "api": {"input_price_per_1m": 1, "output_price_per_1m": 1},
                            "self_hosted": {"mode": "capacity", "gpu": "aws-g5.12xlarge", "model_size": "70b-q4",
                                            "peak_to_average": 2, "target_utilization": 0.7, "fte": 0}})
    e = evaluate_scenario(s)
    sh = e.options["self_hosted"]
    assert sh.details["instances"] == 5  # 2,000 tok/s peak / (4 x 150 x 0.7)
    assert rel(sh.total_monthly, 5 * 5.67 * 730)
    assert e.scenario.find_option("self_hosted").price_source.startswith("seed 003")

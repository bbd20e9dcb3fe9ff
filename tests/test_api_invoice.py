"""API prices as invoiced (#14 item 3): reasoning tokens, cache writes, service tiers and a
negotiated discount, against hand-computed figures and the catalog's published prices."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runrate_xl.api import ScenarioError, evaluate_scenario, scenario_from_dict
from runrate_xl.catalog import resolve
from runrate_xl.engine import functions as f
from runrate_xl.engine.errors import InputError
from tests.conftest import rel

AS_OF = dt.date(2026, 11, 23)
# 1M requests of 1,000 tokens a month (80% input): 8e8 input and 2e8 output tokens.
VOLUME = {"requests_per_month": 1_000_000, "tokens_per_request": 1000, "input_share": 0.8}


def evaluate(api: dict, volume: dict = VOLUME):
    s = scenario_from_dict({"volume": volume, "api": api})
    return evaluate_scenario(s, AS_OF)


def items(ev, option: str = "api") -> dict[str, float]:
    return {i.key: i.monthly_usd for i in ev.options[option].line_items}


def test_reasoning_tokens_are_billed_at_the_output_price():
    # 1M requests x 2,000 reasoning tokens x 8.00 per 1M output tokens = 16,000
    assert rel(f.reasoning_cost(1_000_000, 2_000, 8.0), 16_000.0)
    ev = evaluate({"input_price_per_1m": 2.0, "output_price_per_1m": 8.0, "reasoning_tokens_per_request": 2_000})
    got = items(ev)
    assert rel(got["reasoning_tokens"], 16_000.0)
    assert rel(got["input_tokens"], 8e8 * 2.0 / 1e6) and rel(got["output_tokens"], 2e8 * 8.0 / 1e6)
    # the blended price per 1M useful tokens carries them: (1,600 + 1,600 + 16,000) / 1e9 x 1e6 = 19.20
    assert rel(ev.options["api"].blended_price_per_1m, 19.2)
    assert rel(ev.options["api"].token_cost_monthly, 19_200.0)


def test_reasoning_tokens_of_batch_requests_are_billed_at_the_batch_output_price():
    # half the requests through batch: 1e6 x 1,000 x (0.5 x 8 + 0.5 x 4) / 1e6 = 6,000
    ev = evaluate({"input_price_per_1m": 2.0, "output_price_per_1m": 8.0, "batch_output_price_per_1m": 4.0,
                   "batch_input_price_per_1m": 1.0, "batch_share": 0.5, "reasoning_tokens_per_request": 1_000})
    assert rel(items(ev)["reasoning_tokens"], 6_000.0)


def test_reasoning_tokens_need_a_request_size():
    with pytest.raises((InputError, ScenarioError), match="tokens_per_request.*reasoning_tokens_per_request"):
        evaluate({"input_price_per_1m": 2.0, "output_price_per_1m": 8.0, "reasoning_tokens_per_request": 500},
                 {"tokens_per_day": 1e6})


def test_retries_resend_reasoning_tokens_too():
    ev = evaluate({"input_price_per_1m": 2.0, "output_price_per_1m": 8.0, "reasoning_tokens_per_request": 2_000, "retry_rate": 0.05})
    assert rel(items(ev)["retries"], 0.05 * 19_200.0)


def test_cache_writes_at_the_catalog_premiums():
    # claude-sonnet-4-5 in genai-prices 0.2.3: input 3.00, cache read 0.30, 5-minute write 3.75, 1-hour write 6.00.
    # Input 8e8: 50% read, 20% written for 5 minutes, 10% for an hour, 20% uncached.
    ev = evaluate({"model": "claude-sonnet-4-5", "cached_share": 0.5, "cache_write_share": 0.2, "cache_write_1h_share": 0.1})
    got = items(ev)
    assert rel(got["input_tokens"], 1.6e8 * 3.0 / 1e6)  # 480
    assert rel(got["cached_input_tokens"], 4e8 * 0.30 / 1e6)  # 120
    assert rel(got["cache_write_tokens"], (1.6e8 * 3.75 + 0.8e8 * 6.0) / 1e6)  # 600 + 480 = 1,080
    assert not any("cache-write price not published" in n for n in ev.notes)


def test_a_model_that_publishes_cache_reads_but_no_write_premium_writes_at_the_input_price():
    s = resolve(scenario_from_dict({"volume": VOLUME, "api": {"model": "gpt-4o-mini", "cache_write_share": 0.2}}), AS_OF)
    api = s.option("api")
    assert api.cache_write_price_per_1m == 0.15 and api.provider == "openai"
    assert "no 5-minute write premium" in api.price_source
    ev = evaluate({"model": "gpt-4o-mini", "cache_write_share": 0.2})
    assert rel(items(ev)["cache_write_tokens"], 1.6e8 * 0.15 / 1e6)  # 24


def test_cache_write_convention_only_for_a_provider_that_charges_a_premium():
    # seed 003's Claude price has no cache prices; Anthropic charges write premiums: 1.25 x 3.00, said in the notes
    ev = evaluate({"model": "seed003/claude-3.5-sonnet", "cache_write_share": 0.2})
    assert rel(items(ev)["cache_write_tokens"], 1.6e8 * 3.75 / 1e6)
    assert any("1.25x the input price" in n and "anthropic" in n for n in ev.notes)
    # no model, no provider: nothing is known, so no convention (the error names the field)
    with pytest.raises((InputError, ScenarioError), match="api.cache_write_price_per_1m"):
        evaluate({"input_price_per_1m": 3.0, "output_price_per_1m": 15.0, "cache_write_share": 0.2})


def test_no_invented_cache_discount_for_a_provider_without_one():
    # genai-prices 0.2.3 lists no cache-read price for any cohere model: cached input costs the input price
    s = resolve(scenario_from_dict({"volume": VOLUME, "api": {"model": "command-r-plus", "cached_share": 0.5}}), AS_OF)
    api = s.option("api")
    assert api.cached_input_price_per_1m == api.input_price_per_1m == 2.5
    assert "no cache-read discount" in api.price_source and "genai-prices" in api.price_source
    ev = evaluate({"model": "command-r-plus", "cached_share": 0.5})
    assert rel(items(ev)["cached_input_tokens"], 4e8 * 2.5 / 1e6)
    assert not any("10% of the input price" in n for n in ev.notes)


def test_no_invented_batch_discount_for_a_provider_without_one():
    # deepseek-chat 0.27 / 1.10, no batch API in genai-prices: half the tokens through "batch" at the standard price
    ev = evaluate({"model": "deepseek-chat", "batch_share": 0.5})
    assert rel(items(ev)["batch_tokens"], 0.5 * (8e8 * 0.27 + 2e8 * 1.1) / 1e6)


def test_service_tiers_at_the_catalog_prices():
    # gpt-5 in genai-prices 0.2.3: standard 1.25 / 10.00, flex 0.625 / 5.00, priority 2.50 / 20.00
    flex = items(evaluate({"model": "gpt-5", "service_tier": "flex"}))
    assert rel(flex["input_tokens"], 8e8 * 0.625 / 1e6) and rel(flex["output_tokens"], 2e8 * 5.0 / 1e6)
    priority = evaluate({"model": "gpt-5", "service_tier": "priority", "cached_share": 0.5})
    got = items(priority)
    assert rel(got["input_tokens"], 4e8 * 2.5 / 1e6) and rel(got["output_tokens"], 2e8 * 20.0 / 1e6)
    # the cached price follows the tier (0.125 x 2 = 0.25, genai-prices' priority cache read)
    assert rel(got["cached_input_tokens"], 4e8 * 0.25 / 1e6)


def test_flex_convention_only_where_the_provider_offers_flex():
    # gpt-4o-mini publishes no flex price; OpenAI offers flex: 50% convention, said
    ev = evaluate({"model": "gpt-4o-mini", "service_tier": "flex"})
    assert rel(items(ev)["input_tokens"], 8e8 * 0.075 / 1e6)
    assert any("Flex price not published" in n for n in ev.notes)
    with pytest.raises((InputError, ScenarioError), match="api.service_tier.*anthropic"):
        evaluate({"model": "claude-sonnet-4-5", "service_tier": "flex"})
    with pytest.raises((InputError, ScenarioError), match="api.service_input_price_per_1m"):
        evaluate({"input_price_per_1m": 1.0, "output_price_per_1m": 2.0, "service_tier": "priority"})


def test_given_service_prices_win():
    got = items(evaluate({"input_price_per_1m": 1.0, "output_price_per_1m": 4.0, "service_tier": "priority",
                          "service_input_price_per_1m": 1.7, "service_output_price_per_1m": 6.8}))
    assert rel(got["input_tokens"], 8e8 * 1.7 / 1e6) and rel(got["output_tokens"], 2e8 * 6.8 / 1e6)


def test_negotiated_discount_comes_off_every_token_price_not_the_hidden_costs():
    base = {"input_price_per_1m": 2.0, "output_price_per_1m": 8.0, "cached_share": 0.3, "reasoning_tokens_per_request": 300,
            "hidden": {"observability_monthly": 1000}}
    full, cut = evaluate(base), evaluate({**base, "negotiated_discount_share": 0.15})
    a, b = items(full), items(cut)
    for key in ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens"):
        assert rel(b[key], 0.85 * a[key])
    assert b["observability"] == a["observability"] == 1000
    assert any("Negotiated discount of 15%" in n for n in cut.notes)


def test_cache_shares_may_not_exceed_the_input():
    with pytest.raises((InputError, ScenarioError), match="cache_write_share"):
        evaluate({"input_price_per_1m": 2.0, "output_price_per_1m": 8.0, "cached_share": 0.7, "cache_write_share": 0.2,
                  "cache_write_1h_share": 0.2, "cache_write_price_per_1m": 2.5, "cache_write_1h_price_per_1m": 4.0})


def test_an_unknown_provider_is_refused_by_name():
    with pytest.raises((InputError, ScenarioError), match="api.provider.*acme"):
        evaluate({"input_price_per_1m": 2.0, "output_price_per_1m": 8.0, "provider": "acme"})


shares = st.floats(0, 1 / 3)


@settings(max_examples=60, deadline=None)
@given(shares, shares, shares, st.floats(0, 1), st.floats(0, 1), st.floats(0, 5000), st.floats(0, 0.5), st.floats(0, 1))
def test_invoice_lines_scale_with_the_discount_and_reasoning_adds_at_the_output_price(c, w5, w1h, b, d, reasoning, r, s):
    args = dict(input_share=s, cached_share=c, batch_share=b, retry_rate=r, cache_write_share=w5, cache_write_1h_share=w1h,
                requests_per_month=1e4)
    full = f.api_invoice_breakdown(1e6, 3.0, 15.0, reasoning_tokens_per_request=reasoning, **args)
    cut = f.api_invoice_breakdown(1e6, 3.0, 15.0, reasoning_tokens_per_request=reasoning, negotiated_discount_share=d, **args)
    none = f.api_invoice_breakdown(1e6, 3.0, 15.0, **args)
    assert rel(sum(cut.values()), (1 - d) * sum(full.values()), 1e-9)
    # reasoning tokens cost requests x tokens at the output prices in force (batch share at half of 15)
    extra = 1e4 * reasoning * ((1 - b) * 15.0 + b * 7.5) / 1e6
    assert rel(sum(full.values()) - sum(none.values()), extra * (1 + r), 1e-7)
    # with no cache writes, reasoning or discount the old breakdown is unchanged
    old = f.api_token_breakdown(1e6, 3.0, 15.0, s, 30, c, b, r)
    new = f.api_invoice_breakdown(1e6, 3.0, 15.0, s, 30, c, b, r)
    assert all(old[k] == new[k] for k in old)


def test_batch_traffic_keeps_its_price_at_a_service_tier():
    # priority at 1.7x the standard price for the synchronous half; the batch half at the 50% convention of the
    # standard price (1.00 / 4.00), not of the priority price: 0.5 x (8e8 x 1.0 + 2e8 x 4.0) / 1e6 = 800
    got = items(evaluate({"input_price_per_1m": 2.0, "output_price_per_1m": 8.0, "batch_share": 0.5, "service_tier": "priority",
                          "service_input_price_per_1m": 3.4, "service_output_price_per_1m": 13.6}))
    assert rel(got["batch_tokens"], 800.0)
    assert rel(got["input_tokens"], 0.5 * 8e8 * 3.4 / 1e6) and rel(got["output_tokens"], 0.5 * 2e8 * 13.6 / 1e6)


INVOICE_SCENARIO = {
    "name": "Invoice demo", "volume": VOLUME,
    "options": [{"id": "thinker", "kind": "api", "model": "gpt-5", "reasoning_tokens_per_request": 2000, "service_tier": "priority",
                 "negotiated_discount_share": 0.1, "cache_write_share": 0.1, "cached_share": 0.5},
                {"id": "own", "kind": "self_hosted", "mode": "simple", "infra_monthly": 20000, "utilization": 0.8, "fte": 1}],
    "context": {"current_option": "thinker"},
}


def test_cli_summary_and_memo_assumptions_name_the_invoice_lines(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from runrate_xl.cli import app
    from runrate_xl.report.context import assumptions

    path = tmp_path / "invoice.yaml"
    path.write_text(yaml.safe_dump(INVOICE_SCENARIO))
    r = CliRunner().invoke(app, ["evaluate", str(path), "--as-of", "2026-11-23"])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    # gpt-5 priority output 20.00 x 0.9: 1e6 x 2,000 x 18 / 1e6 = 36,000 of 40,590 token spend (89%)
    assert "Reasoning tokens" in out and "$36,000" in out
    assert "reasoning tokens (2,000 per request) cost $36,000 a month, 89% of its token spend" in out
    assert "priority service tier" in out and "10% negotiated discount" in out
    ev = evaluate_scenario(scenario_from_dict(INVOICE_SCENARIO), AS_OF)
    rows = {a["item"]: a["value"] for a in assumptions(ev)}
    assert rows["API reasoning tokens (thinker)"].startswith("2,000 per request")
    assert rows["API priority service tier (thinker)"].startswith("$2.50 in / $20.00 out per 1M")
    assert rows["API negotiated discount (thinker)"] == "10% off every token price"
    assert "API 5-minute cache writes (thinker)" in rows


def test_prices_cli_shows_cache_write_and_tier_prices_where_published():
    from typer.testing import CliRunner

    from runrate_xl.cli import app

    r = CliRunner().invoke(app, ["prices", "gpt-5", "--as-of", "2026-11-23"])
    assert r.exit_code == 0 and "priority_output" in r.output and "flex_input" in r.output and "cache_write" not in r.output

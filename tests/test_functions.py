"""The spreadsheet-named primitives, against hand-computed figures."""

import math

import pytest

from runrate_xl.engine import functions as f
from runrate_xl.engine.errors import InputError, NoAnswer
from tests.conftest import rel


def test_api_cost_seed003_prices():
    # 50M tokens/day x 30 = 1.5e9 tokens; 1.2e9 input x 0.15 + 0.3e9 output x 0.60 = 180 + 180
    assert rel(f.api_cost(50_000_000, 0.15, 0.60), 360.0)


def test_api_cost_cache_batch_retries_by_hand():
    # M = 1e6 x 30 = 3e7; Mi = 2.4e7, Mo = 6e6; b = 0.5, c = 0.5
    # input (1-b)(1-c) Mi p_in = 0.25 x 2.4e7 x 2 / 1e6 = 12
    # cached (1-b) c Mi 0.2 = 0.25 x 2.4e7 x 0.2 / 1e6 = 1.2 (convention 10% of 2.0)
    # output (1-b) Mo 8 = 0.5 x 6e6 x 8 / 1e6 = 24
    # batch b (Mi x 1.0 + Mo x 4.0) = 0.5 x (24 + 24) = 24 (convention 50%)
    # retries 10% of 61.2 = 6.12
    parts = f.api_token_breakdown(1_000_000, 2.0, 8.0, 0.8, 30, cached_share=0.5, batch_share=0.5, retry_rate=0.1)
    assert rel(parts["input_tokens"], 12.0)
    assert rel(parts["cached_input_tokens"], 1.2)
    assert rel(parts["output_tokens"], 24.0)
    assert rel(parts["batch_tokens"], 24.0)
    assert rel(parts["retries"], 6.12)
    assert rel(f.api_cost(1_000_000, 2.0, 8.0, 0.8, 30, 0.5, 0.5, 0.1), 67.32)


def test_explicit_cached_and_batch_prices_win_over_conventions():
    parts = f.api_token_breakdown(1_000_000, 2.0, 8.0, 0.8, 30, cached_share=1.0, cached_input_price_per_1m=0.5)
    assert rel(parts["cached_input_tokens"], 2.4e7 * 0.5 / 1e6)
    parts = f.api_token_breakdown(1_000_000, 2.0, 8.0, 0.8, 30, batch_share=1.0, batch_input_price_per_1m=0.1, batch_output_price_per_1m=0.2)
    assert rel(parts["batch_tokens"], (2.4e7 * 0.1 + 6e6 * 0.2) / 1e6)


def test_selfhost_seed003():
    assert rel(f.effective_infra(4140, 0.8), 5175.0)
    assert rel(f.effective_infra(4140, 0.95), 4357.894736842105)
    assert rel(f.selfhost_cost(4140, 0.8), 5175.0)
    assert rel(f.selfhost_cost(4140, 0.8, fte=0.5, fte_annual_cost=150_000, tooling_monthly=100), 5175 + 6250 + 100)


def test_breakeven_seed003_implied_price():
    assert rel(f.breakeven(4140, 0.8, 1.5), 115_000_000.0)
    # with fixed costs on both sides: (5175 + 1000 - 500) / (1.5e-6 x 30)
    assert rel(f.breakeven(4140, 0.8, 1.5, 30, 1000, 500), 5675 / 4.5e-5)


def test_breakeven_none_when_api_fixed_dominates():
    with pytest.raises(NoAnswer, match="no break-even"):
        f.breakeven(1000, 1.0, 1.0, 30, 0, 5000)


def test_breakeven_volume_cases():
    assert rel(f.breakeven_volume(0, 2.0, 100, 1.0), 100.0)
    with pytest.raises(NoAnswer, match="same cost per token"):
        f.breakeven_volume(0, 1.0, 100, 1.0)
    with pytest.raises(NoAnswer, match="same at every volume"):
        f.breakeven_volume(5, 1.0, 5, 1.0)
    with pytest.raises(NoAnswer, match="cheaper at every volume"):
        f.breakeven_volume(100, 2.0, 0, 1.0)


def test_payback_and_cost_per_outcome():
    assert rel(f.payback(100_000, 23_000), 100_000 / 23_000)
    with pytest.raises(NoAnswer):
        f.payback(100_000, 0)
    assert rel(f.cost_per_outcome(1000, 4000), 0.25)


def test_gpu_instances_by_hand():
    # avg = 86.4e6 / 86400 = 1000 tok/s; peak 2000; capacity 4 x 150 x 0.7 = 420 -> ceil(4.76) = 5
    n, u = f.gpu_instances(86_400_000, 150, 4, peak_to_average=2.0, target_utilization=0.7)
    assert n == 5
    assert rel(u, 1000 / (5 * 600))
    n, _ = f.gpu_instances(86_400_000, 150, 4, 2.0, 0.7, redundancy=1.5)
    assert n == 8  # ceil(5 x 1.5)
    n, _ = f.gpu_instances(0, 150, 4)
    assert n == 1  # at least one instance serves at all


def test_npv_and_rates():
    assert rel(f.npv(0.0, 10, [1, 2, 3]), 16)
    rm = (1.1) ** (1 / 12) - 1
    assert rel(f.npv(0.1, 0, [100] * 12), sum(100 / (1 + rm) ** m for m in range(1, 13)))
    assert rel(f.price_factor(0.2, 13), 0.8)
    assert rel(f.growth_factor(0.05, 3), 1.05**2)


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: f.api_cost(-1, 1, 1), "tokens_per_day"),
        (lambda: f.api_cost(1, float("nan"), 1), "input_price_per_1m"),
        (lambda: f.api_cost(1, 1, float("inf")), "output_price_per_1m"),
        (lambda: f.api_cost(1, 1, 1, input_share=80), "input_share"),
        (lambda: f.api_cost(1, 1, 1, days_per_month=0), "days_per_month"),
        (lambda: f.api_cost(1, 1, 1, retry_rate=-0.1), "retry_rate"),
        (lambda: f.effective_infra(4140, 0), "utilization"),
        (lambda: f.effective_infra(4140, 1.2), "utilization"),
        (lambda: f.selfhost_cost(4140, 0.8, fte=-1), "fte"),
        (lambda: f.breakeven(4140, 0.8, 0), "price_per_1m"),
        (lambda: f.cost_per_outcome(10, 0), "outcomes_per_month"),
        (lambda: f.api_cost("abc", 1, 1), "tokens_per_day"),
    ],
)
def test_bad_inputs_name_the_argument(call, field):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.field == field
    assert field in str(info.value)


def test_percent_given_as_whole_number_gets_a_hint():
    with pytest.raises(InputError, match=r"use 0\.8"):
        f.effective_infra(4140, 80)

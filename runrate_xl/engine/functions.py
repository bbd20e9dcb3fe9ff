"""Spreadsheet-named cost functions: the arithmetic every layer shares.

Each function checks its arguments (an :class:`InputError` names the argument), computes in
float and never rounds. The scenario engine is built from these, the Excel functions wrap them,
and the workbook template writes the same formulas in Excel syntax.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from .errors import InputError, NoAnswer, check_finite, check_fraction, check_non_negative, check_positive

PER_MILLION = 1_000_000.0
CACHED_INPUT_SHARE_OF_INPUT = 0.10  # convention when a cached-input price is missing
BATCH_SHARE_OF_STANDARD = 0.50  # convention when a batch price is missing
# Conventions for a provider known to offer the item whose price for the model is not published
# (genai-prices 0.2.3: Anthropic's 5-minute cache writes cost 1.25x and 1-hour writes 2x the
# input price, e.g. claude-sonnet-4-5 3.75 and 6.00 on 3.00; OpenAI's flex tier is half the
# standard price, e.g. gpt-5 0.625 / 5.00 on 1.25 / 10.00).
CACHE_WRITE_5M_OF_INPUT = 1.25
CACHE_WRITE_1H_OF_INPUT = 2.00
FLEX_SHARE_OF_STANDARD = 0.50
SECONDS_PER_DAY = 86_400.0
MONTHS_PER_YEAR = 12.0


def monthly_tokens(tokens_per_day: float, days_per_month: float = 30.0) -> float:
    """Tokens per month.

    ``M = tokens_per_day * days_per_month``; seed 003's 50M tokens/day over 30 days:

    >>> monthly_tokens(50_000_000)
    1500000000.0
    >>> monthly_tokens(1e6, days_per_month=22)
    22000000.0
    """
    check_non_negative("tokens_per_day", tokens_per_day)
    _check_days(days_per_month)
    return tokens_per_day * days_per_month


HOURS_PER_DAY = 24.0


def hours_per_month(days_per_month: float = 30.0) -> float:
    """Hours in the model's month: ``days_per_month x 24``, one month for tokens and GPU hours.

    A 30-day month bills 720 GPU hours; seed 003's 730 hours is a 365 / 12 = 30.42-day month:

    >>> hours_per_month()
    720.0
    >>> round(hours_per_month(365 / 12), 6)
    730.0
    """
    _check_days(days_per_month)
    return days_per_month * HOURS_PER_DAY


def cached_input_price(input_price_per_1m: float, cached_input_price_per_1m: Optional[float] = None) -> float:
    """Cached-input price per 1M tokens; by convention 10% of input when not published.

    ``p_cached = cached_input_price_per_1m if given else 0.10 * input_price_per_1m``

    >>> cached_input_price(2.5)  # 10% of 2.50
    0.25
    >>> cached_input_price(2.5, 1.25)  # a published price wins
    1.25
    """
    if cached_input_price_per_1m is not None:
        return check_non_negative("cached_input_price_per_1m", cached_input_price_per_1m)
    return CACHED_INPUT_SHARE_OF_INPUT * input_price_per_1m


def batch_price(standard_price_per_1m: float, batch_price_per_1m: Optional[float] = None, field: str = "batch_price_per_1m") -> float:
    """Batch price per 1M tokens; by convention 50% of the standard price when not published.

    ``p_batch = batch_price_per_1m if given else 0.50 * standard_price_per_1m``

    >>> batch_price(10.0)  # 50% of 10.00
    5.0
    >>> batch_price(10.0, 4.0)  # a published price wins
    4.0
    """
    if batch_price_per_1m is not None:
        return check_non_negative(field, batch_price_per_1m)
    return BATCH_SHARE_OF_STANDARD * standard_price_per_1m


def api_token_breakdown(
    tokens_per_day: float,
    input_price_per_1m: float,
    output_price_per_1m: float,
    input_share: float = 0.8,
    days_per_month: float = 30.0,
    cached_share: float = 0.0,
    batch_share: float = 0.0,
    retry_rate: float = 0.0,
    cached_input_price_per_1m: Optional[float] = None,
    batch_input_price_per_1m: Optional[float] = None,
    batch_output_price_per_1m: Optional[float] = None,
) -> dict[str, float]:
    """Monthly API token spend by component, USD.

    With ``M = T * days``, ``Mi = M * s`` input and ``Mo = M * (1 - s)`` output tokens, batch
    share ``b``, cached share ``c`` (of the non-batch input) and retry rate ``r``::

        input_tokens        = (1-b) * Mi * (1-c) * p_in     / 1e6
        cached_input_tokens = (1-b) * Mi * c     * p_cached / 1e6
        output_tokens       = (1-b) * Mo         * p_out    / 1e6
        batch_tokens        = b * (Mi * p_batch_in + Mo * p_batch_out) / 1e6
        retries             = r * (sum of the four above)

    By hand, 1M tokens/day at 2.00 in / 8.00 out, half cached, half batch, 10% retries:
    ``M = 3e7``, ``Mi = 2.4e7``, ``Mo = 6e6``; input 0.5 x 0.5 x 24 x 2.0 = 12; cached
    0.5 x 0.5 x 24 x 0.20 = 1.2; output 0.5 x 6 x 8 = 24; batch 0.5 x (24 x 1.0 + 6 x 4.0) = 24;
    retries 0.1 x 61.2 = 6.12.

    >>> parts = api_token_breakdown(1_000_000, 2.0, 8.0, 0.8, 30, cached_share=0.5, batch_share=0.5, retry_rate=0.1)
    >>> {k: round(v, 9) for k, v in parts.items()}
    {'input_tokens': 12.0, 'cached_input_tokens': 1.2, 'output_tokens': 24.0, 'batch_tokens': 24.0, 'retries': 6.12}
    """
    parts = api_invoice_breakdown(
        tokens_per_day, input_price_per_1m, output_price_per_1m, input_share, days_per_month, cached_share, batch_share,
        retry_rate, cached_input_price_per_1m, batch_input_price_per_1m, batch_output_price_per_1m,
    )
    return {k: parts[k] for k in ("input_tokens", "cached_input_tokens", "output_tokens", "batch_tokens", "retries")}


def cache_write_price(input_price_per_1m: float, cache_write_price_per_1m: Optional[float] = None, ttl: str = "5m") -> float:
    """Cache-write price per 1M tokens; by convention 1.25x the input price for a 5-minute write
    and 2x for a 1-hour write when not published (Anthropic's premiums).

    ``p_write = cache_write_price_per_1m if given else 1.25 (5m) or 2.0 (1h) x input_price_per_1m``

    >>> cache_write_price(3.0)  # 1.25 x 3.00
    3.75
    >>> cache_write_price(3.0, ttl="1h")  # 2 x 3.00
    6.0
    >>> cache_write_price(3.0, 3.0)  # a published price wins (no premium)
    3.0
    """
    if ttl not in ("5m", "1h"):
        raise InputError("ttl", ttl, "5m or 1h")
    field = "cache_write_price_per_1m" if ttl == "5m" else "cache_write_1h_price_per_1m"
    if cache_write_price_per_1m is not None:
        return check_non_negative(field, cache_write_price_per_1m)
    return (CACHE_WRITE_5M_OF_INPUT if ttl == "5m" else CACHE_WRITE_1H_OF_INPUT) * input_price_per_1m


def reasoning_cost(requests_per_month: float, reasoning_tokens_per_request: float, output_price_per_1m: float) -> float:
    """Monthly spend on reasoning (thinking) tokens, USD: billed at the output price on top of
    each request's visible tokens.

    ``C = N * R * p_out / 1e6``; 1M requests a month thinking 2,000 tokens each at 8.00 per 1M
    output tokens: 1e6 x 2,000 x 8 / 1e6 = 16,000:

    >>> reasoning_cost(1_000_000, 2_000, 8.0)
    16000.0
    >>> reasoning_cost(1_000_000, 0, 8.0)
    0.0
    """
    check_non_negative("requests_per_month", requests_per_month)
    check_non_negative("reasoning_tokens_per_request", reasoning_tokens_per_request)
    check_non_negative("output_price_per_1m", output_price_per_1m)
    return requests_per_month * reasoning_tokens_per_request * output_price_per_1m / PER_MILLION


def api_invoice_breakdown(
    tokens_per_day: float,
    input_price_per_1m: float,
    output_price_per_1m: float,
    input_share: float = 0.8,
    days_per_month: float = 30.0,
    cached_share: float = 0.0,
    batch_share: float = 0.0,
    retry_rate: float = 0.0,
    cached_input_price_per_1m: Optional[float] = None,
    batch_input_price_per_1m: Optional[float] = None,
    batch_output_price_per_1m: Optional[float] = None,
    cache_write_share: float = 0.0,
    cache_write_1h_share: float = 0.0,
    cache_write_price_per_1m: Optional[float] = None,
    cache_write_1h_price_per_1m: Optional[float] = None,
    requests_per_month: Optional[float] = None,
    reasoning_tokens_per_request: float = 0.0,
    negotiated_discount_share: float = 0.0,
) -> dict[str, float]:
    """Monthly API spend by invoice line, USD: :func:`api_token_breakdown` plus cache writes,
    reasoning tokens and a negotiated discount.

    The prices are those in force for the synchronous (non-batch) traffic (service tier and
    long-context tier applied by the caller). With ``M``, ``Mi``, ``Mo``, ``b``, ``c`` and ``r``
    as in :func:`api_token_breakdown`, cache-write shares ``w5`` and ``w1h`` (of the non-batch
    input, ``c + w5 + w1h <= 1``), ``N`` requests a month thinking ``R`` tokens each and a
    negotiated discount ``d`` off every price::

        input_tokens        = (1-b) * Mi * (1-c-w5-w1h) * p_in                 * (1-d) / 1e6
        cached_input_tokens = (1-b) * Mi * c * p_cached                         * (1-d) / 1e6
        cache_write_tokens  = (1-b) * Mi * (w5 * p_write_5m + w1h * p_write_1h) * (1-d) / 1e6
        output_tokens       = (1-b) * Mo * p_out                                * (1-d) / 1e6
        reasoning_tokens    = N * R * ((1-b) * p_out + b * p_batch_out)         * (1-d) / 1e6
        batch_tokens        = b * (Mi * p_batch_in + Mo * p_batch_out)          * (1-d) / 1e6
        retries             = r * (sum of the six above)

    By hand, 1M tokens/day of 3,000-token requests (10,000 requests a month) at 3.00 in / 15.00
    out, 20% of input written to a 5-minute cache (1.25 x 3 = 3.75), 2,000 reasoning tokens per
    request and a 10% discount: ``Mi = 2.4e7``; input 0.8 x 24 x 3 x 0.9 = 51.84; cache writes
    0.2 x 24 x 3.75 x 0.9 = 16.2; output 6 x 15 x 0.9 = 81; reasoning 1e4 x 2,000 x 15 x 0.9 /
    1e6 = 270:

    >>> parts = api_invoice_breakdown(1_000_000, 3.0, 15.0, cache_write_share=0.2, requests_per_month=10_000,
    ...                               reasoning_tokens_per_request=2_000, negotiated_discount_share=0.1)
    >>> {k: round(v, 9) for k, v in parts.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'input_tokens': 51.84, 'cached_input_tokens': 0.0, 'cache_write_tokens': 16.2, 'output_tokens': 81.0,
     'reasoning_tokens': 270.0, 'batch_tokens': 0.0, 'retries': 0.0}
    """
    check_non_negative("input_price_per_1m", input_price_per_1m)
    check_non_negative("output_price_per_1m", output_price_per_1m)
    s = check_fraction("input_share", input_share)
    c = check_fraction("cached_share", cached_share)
    b = check_fraction("batch_share", batch_share)
    w5 = check_fraction("cache_write_share", cache_write_share)
    w1h = check_fraction("cache_write_1h_share", cache_write_1h_share)
    if c + w5 + w1h > 1.0 + 1e-12:
        raise InputError("cache_write_share", w5 + w1h,
                         f"cache writes of at most {1.0 - c:g} of the input: cached_share + cache_write_share + cache_write_1h_share <= 1")
    d = check_fraction("negotiated_discount_share", negotiated_discount_share)
    r = _check_retry(retry_rate)
    reasoning = check_non_negative("reasoning_tokens_per_request", reasoning_tokens_per_request)
    n = 0.0
    if reasoning > 0:
        if requests_per_month is None:
            raise InputError("requests_per_month", None, "a number of requests per month (or a request size), "
                             "because reasoning_tokens_per_request is above 0")
        n = check_non_negative("requests_per_month", requests_per_month)
    m = monthly_tokens(tokens_per_day, days_per_month)
    p_cached = cached_input_price(input_price_per_1m, cached_input_price_per_1m)
    p_w5 = cache_write_price(input_price_per_1m, cache_write_price_per_1m, "5m") if w5 > 0 else 0.0
    p_w1h = cache_write_price(input_price_per_1m, cache_write_1h_price_per_1m, "1h") if w1h > 0 else 0.0
    p_bin = batch_price(input_price_per_1m, batch_input_price_per_1m, "batch_input_price_per_1m")
    p_bout = batch_price(output_price_per_1m, batch_output_price_per_1m, "batch_output_price_per_1m")
    mi, mo = m * s, m * (1.0 - s)
    keep = 1.0 - d  # multiplying by 1.0 keeps the undiscounted figures bit for bit
    pm = PER_MILLION
    parts = {
        "input_tokens": (1.0 - b) * mi * max(0.0, 1.0 - c - w5 - w1h) * input_price_per_1m / pm * keep,
        "cached_input_tokens": (1.0 - b) * mi * c * p_cached / pm * keep,
        "cache_write_tokens": (1.0 - b) * mi * (w5 * p_w5 + w1h * p_w1h) / pm * keep,
        "output_tokens": (1.0 - b) * mo * output_price_per_1m / pm * keep,
        "reasoning_tokens": n * reasoning * ((1.0 - b) * output_price_per_1m + b * p_bout) / pm * keep,
        "batch_tokens": b * (mi * p_bin + mo * p_bout) / pm * keep,
    }
    parts["retries"] = r * sum(parts.values())
    return parts


def api_cost(
    tokens_per_day: float,
    input_price_per_1m: float,
    output_price_per_1m: float,
    input_share: float = 0.8,
    days_per_month: float = 30.0,
    cached_share: float = 0.0,
    batch_share: float = 0.0,
    retry_rate: float = 0.0,
    cached_input_price_per_1m: Optional[float] = None,
    batch_input_price_per_1m: Optional[float] = None,
    batch_output_price_per_1m: Optional[float] = None,
) -> float:
    """Monthly API token spend, USD: the sum of :func:`api_token_breakdown`.

    Without cache, batch or retries: ``T * days * (s * p_in + (1 - s) * p_out) / 1e6``.
    Seed 003 (50M tokens/day, 80% input, GPT-4o-mini at 0.15 / 0.60): 1.2e9 x 0.15 / 1e6 +
    0.3e9 x 0.60 / 1e6 = 180 + 180 = 360 (the seed prints ~2,250, which is what a blended
    1.50 per 1M gives):

    >>> api_cost(50_000_000, 0.15, 0.60)
    360.0
    >>> api_cost(50_000_000, 1.5, 1.5)
    2250.0
    """
    _check_retry(retry_rate, 5.0)  # an input here; the combined rate of failed attempts enters the breakdowns
    return sum(
        api_token_breakdown(
            tokens_per_day, input_price_per_1m, output_price_per_1m, input_share, days_per_month,
            cached_share, batch_share, retry_rate, cached_input_price_per_1m,
            batch_input_price_per_1m, batch_output_price_per_1m,
        ).values()
    )


def blended_price_per_1m(token_cost_monthly: float, tokens_per_day: float, days_per_month: float = 30.0) -> float:
    """Token spend per 1M useful tokens (retries included in the spend).

    ``P = token_cost_monthly / (T * days) * 1e6``; seed 003: 360 / 1.5e9 x 1e6 = 0.24, and the
    seed's printed 2,250 implies 1.50:

    >>> blended_price_per_1m(360, 50_000_000)
    0.24
    >>> blended_price_per_1m(2250, 50_000_000)
    1.5
    """
    m = monthly_tokens(tokens_per_day, days_per_month)
    if m == 0:
        raise NoAnswer("no blended price at zero volume")
    return check_non_negative("token_cost_monthly", token_cost_monthly) / m * PER_MILLION


def effective_infra(infra_monthly: float, utilization: float) -> float:
    """Infrastructure cost grossed up for idle capacity (seed 003).

    ``I_eff = I / U``; seed 003: 4,140 / 0.8 = 5,175 and 4,140 / 0.95 = 4,357.89 (the seed
    rounds to 4,360):

    >>> effective_infra(4140, 0.8)
    5175.0
    >>> round(effective_infra(4140, 0.95), 2)
    4357.89
    """
    check_non_negative("infra_monthly", infra_monthly)
    u = check_fraction("utilization", utilization, allow_zero=False)
    return infra_monthly / u


def month_past_capacity(utilization: float, monthly_growth: float, months: int) -> Optional[int]:
    """The first month 1..N in which hardware at ``utilization`` today would run past 100% as the
    volume grows (month m carries ``u x (1 + g)^(m-1)``), or None within the horizon.

    80% today at 5% a month: 0.8 x 1.05^5 = 1.021 passes 100% in month 6:

    >>> month_past_capacity(0.8, 0.05, 36), month_past_capacity(0.8, 0.0, 36)
    (6, None)
    """
    return next((m for m in range(1, months + 1) if utilization * growth_factor(monthly_growth, m) > 1.0), None)


def people_monthly(fte: float, fte_annual_cost: float = 150_000.0) -> float:
    """People cost per month: ``fte * fte_annual_cost / 12``.

    Seed 003: 0.25 FTE at 150K fully loaded is 37,500 a year, 3,125 a month:

    >>> people_monthly(0.25)
    3125.0
    >>> people_monthly(1, 120_000)
    10000.0
    """
    check_non_negative("fte", fte)
    check_non_negative("fte_annual_cost", fte_annual_cost)
    return fte * fte_annual_cost / MONTHS_PER_YEAR


def selfhost_cost(
    infra_monthly: float,
    utilization: float,
    fte: float = 0.0,
    fte_annual_cost: float = 150_000.0,
    tooling_monthly: float = 0.0,
) -> float:
    """Self-hosted monthly cost in simple mode.

    ``I / U + fte * fte_annual_cost / 12 + tooling_monthly``; seed 003's 4,140 at 80% -> 5,175;
    with half an FTE at 150K (6,250) and 100 of tooling: 5,175 + 6,250 + 100 = 11,525.

    >>> selfhost_cost(4140, 0.8)
    5175.0
    >>> selfhost_cost(4140, 0.8, fte=0.5, tooling_monthly=100)
    11525.0
    """
    check_non_negative("tooling_monthly", tooling_monthly)
    return effective_infra(infra_monthly, utilization) + people_monthly(fte, fte_annual_cost) + tooling_monthly


def gpu_instances(
    tokens_per_day: float,
    tokens_per_second_per_gpu: float,
    gpus_per_instance: int,
    peak_to_average: float = 2.0,
    target_utilization: float = 0.7,
    redundancy: float = 1.0,
    retry_rate: float = 0.0,
) -> tuple[int, float]:
    """Instances needed for a load, and the resulting average utilization.

    ``peak = T * (1 + r) / 86400 * peak_to_average`` tokens/s;
    ``n = ceil(max(1, ceil(peak / (tps_per_gpu * gpus * target_utilization))) * redundancy)``;
    ``utilization = T * (1 + r) / 86400 / (n * tps_per_gpu * gpus)``.

    By hand, 86.4M tokens/day on 4-GPU instances at 150 tokens/s per GPU (seed 003's
    g5.12xlarge): average 1,000 tokens/s, peak 2,000; one instance serves 4 x 150 x 0.7 = 420
    at the target, so ceil(4.76) = 5 instances, used 1,000 / (5 x 600) = 1/3 on average; with
    redundancy 1.5, ceil(7.5) = 8 instances:

    >>> gpu_instances(86_400_000, 150, 4)
    (5, 0.3333333333333333)
    >>> gpu_instances(86_400_000, 150, 4, redundancy=1.5)[0]
    8
    """
    check_non_negative("tokens_per_day", tokens_per_day)
    check_positive("tokens_per_second_per_gpu", tokens_per_second_per_gpu)
    check_positive("gpus_per_instance", gpus_per_instance)
    if peak_to_average < 1:
        raise InputError("peak_to_average", peak_to_average, "a number >= 1")
    tu = check_fraction("target_utilization", target_utilization, allow_zero=False)
    if check_finite("redundancy", redundancy) < 1:
        raise InputError("redundancy", redundancy, "a number >= 1")
    r = _check_retry(retry_rate)
    average_tps = tokens_per_day * (1.0 + r) / SECONDS_PER_DAY
    capacity = tokens_per_second_per_gpu * gpus_per_instance
    n = instance_count(average_tps, capacity, peak_to_average, tu, redundancy)
    return n, average_tps / (n * capacity)


def deployments(
    tokens_per_day: float,
    tokens_per_second_per_unit: float,
    peak_to_average: float = 2.0,
    target_utilization: float = 0.7,
    redundancy: float = 1.0,
    retry_rate: float = 0.0,
) -> tuple[int, float]:
    """Units of a stated capacity (a deployment, an instance) a load needs, and their average
    utilization: :func:`gpu_instances` with one unit's tokens/s given directly.

    Seed 003's g5.12xlarge at $4,140/month, stated to carry 52M tokens/day at 100% (about 600
    tokens/s): 500M tokens/day at peak 2x and 70% target needs ceil(5,787 x 2 / (601.9 x 0.7)) =
    28 of them, each used 500M / (28 x 52M) = 34% on average:

    >>> n, u = deployments(500e6, 52e6 / 86_400)
    >>> n, round(u, 3)
    (28, 0.343)
    """
    return gpu_instances(tokens_per_day, tokens_per_second_per_unit, 1, peak_to_average, target_utilization, redundancy, retry_rate)


def instance_count(average_tps: float, capacity: float, peak_to_average: float, target_utilization: float,
                   redundancy: float) -> int:
    """The instance count of :func:`gpu_instances` for checked inputs (average tokens/s and one
    instance's tokens/s): ``ceil(max(1, ceil(average x peak / (capacity x target))) x redundancy)``.

    >>> instance_count(1000.0, 600.0, 2.0, 0.7, 1.5)
    8
    """
    base = max(1, whole_units(average_tps * peak_to_average / (capacity * target_utilization)))
    return whole_units(base * redundancy)


def instance_counter(capacity: float, peak_to_average: float, target_utilization: float, redundancy: float,
                     retried: float = 1.0):
    """``count(t)``: :func:`instance_count` at ``t`` tokens/day (``t x retried / 86,400`` tokens/s
    on average) for checked inputs, with the same floating-point operations in the same order,
    so the same counts, at a fraction of the calls (a break-even search and a horizon count
    thousands of volumes).

    >>> count = instance_counter(600.0, 2.0, 0.7, 1.5)
    >>> count(86_400_000.0), instance_count(1000.0, 600.0, 2.0, 0.7, 1.5)
    (8, 8)
    """
    denominator = capacity * target_utilization
    snap, ceil = UNIT_SNAP, math.ceil

    def whole(x: float) -> int:
        n = ceil(x)
        return n - 1 if x - (n - 1) <= snap * max(1.0, abs(x)) else n

    if redundancy == 1.0:  # whole_units(base x 1.0) is base
        def count(t: float) -> int:
            x = t * retried / SECONDS_PER_DAY * peak_to_average / denominator
            n = ceil(x)
            if x - (n - 1) <= snap * max(1.0, abs(x)):
                n -= 1
            return n if n > 1 else 1

        def many(volumes) -> list[int]:
            """``[count(t) for t in volumes]`` in one loop."""
            out = []
            for t in volumes:
                x = t * retried / SECONDS_PER_DAY * peak_to_average / denominator
                n = ceil(x)
                if x - (n - 1) <= snap * max(1.0, abs(x)):
                    n -= 1
                out.append(n if n > 1 else 1)
            return out

        count.many = many  # type: ignore[attr-defined]
        count.key = ("instances", capacity, peak_to_average, target_utilization, redundancy, retried)  # type: ignore[attr-defined]
        return count

    def count_redundant(t: float) -> int:
        return whole(max(1, whole(t * retried / SECONDS_PER_DAY * peak_to_average / denominator)) * redundancy)
    count_redundant.key = ("instances", capacity, peak_to_average, target_utilization, redundancy, retried)  # type: ignore[attr-defined]
    return count_redundant


UNIT_SNAP = 1e-12  # a count within this (relative) of a whole number is that number


def whole_units(x: float) -> int:
    """Units needed for ``x`` units of load: ``ceil(x)``, except that an ``x`` within 1e-12
    (relative) of a whole number is that number, as spreadsheet CEILING treats it, so that float
    noise in ``t x U / T0`` at exactly ``k x T0 / U`` does not buy a unit.

    >>> whole_units(2.0000000000000004), whole_units(2.001), whole_units(0.3)
    (2, 3, 1)
    """
    n = math.ceil(x)
    # just above a whole number (float noise): that number; just below, ceil is already it
    return n - 1 if x - (n - 1) <= UNIT_SNAP * max(1.0, abs(x)) else n


def breakeven_volume(fixed_a: float, slope_a: float, fixed_b: float, slope_b: float) -> float:
    """Volume at which two affine monthly costs are equal.

    Cost = fixed + slope * volume. ``V* = (fixed_b - fixed_a) / (slope_a - slope_b)``.
    Raises :class:`NoAnswer` with the reason when the lines do not cross at a positive volume.
    By hand: 0 + 2v = 100 + 1v at v = 100.

    >>> breakeven_volume(0, 2.0, 100, 1.0)
    100.0
    >>> breakeven_volume(100, 2.0, 0, 1.0)
    Traceback (most recent call last):
    ...
    runrate_xl.engine.errors.NoAnswer: one option is cheaper at every volume (the cost lines do not cross above zero)
    """
    for name, v in (("fixed_a", fixed_a), ("slope_a", slope_a), ("fixed_b", fixed_b), ("slope_b", slope_b)):
        check_finite(name, v)
    if slope_a == slope_b:
        if fixed_a == fixed_b:
            raise NoAnswer("the two options cost the same at every volume")
        raise NoAnswer("both options have the same cost per token, so the one with lower fixed costs is cheaper at every volume")
    v = (fixed_b - fixed_a) / (slope_a - slope_b)
    if v <= 0 or not math.isfinite(v):
        raise NoAnswer("one option is cheaper at every volume (the cost lines do not cross above zero)")
    return v


def breakeven(
    infra_monthly: float,
    utilization: float,
    price_per_1m: float,
    days_per_month: float = 30.0,
    selfhost_fixed_monthly: float = 0.0,
    api_fixed_monthly: float = 0.0,
) -> float:
    """Tokens per day at which the API and self-hosting cost the same (seed 003, closed form).

    ``T* = (I / U + F_self - F_api) / (P / 1e6 * days)``. Seed 003 at its implied blended 1.50
    per 1M: 5,175 / (1.5e-6 x 30) = 115M tokens/day; at GPT-4o-mini's blended 0.24:
    5,175 / 7.2e-6 = 718.75M.

    >>> breakeven(4140, 0.8, 1.5)
    115000000.0
    >>> breakeven(4140, 0.8, 0.24)
    718750000.0
    """
    check_positive("price_per_1m", price_per_1m)
    _check_days(days_per_month)
    check_non_negative("selfhost_fixed_monthly", selfhost_fixed_monthly)
    check_non_negative("api_fixed_monthly", api_fixed_monthly)
    fixed_self = effective_infra(infra_monthly, utilization) + selfhost_fixed_monthly
    try:
        return breakeven_volume(api_fixed_monthly, price_per_1m / PER_MILLION * days_per_month, fixed_self, 0.0)
    except NoAnswer:
        raise NoAnswer("no break-even: the API's fixed costs are not below self-hosting's, so self-hosting is cheaper at every volume") from None


def payback(setup_cost: float, monthly_saving: float) -> float:
    """Months until a one-time cost is paid back by a monthly saving.

    ``months = setup_cost / monthly_saving``; no answer when the saving is not positive.
    Seed 000's fine-tuned model: 100,000 setup, 23,000 a month saved -> 4.35 months (the seed
    says 2).

    >>> round(payback(100_000, 23_000), 2)
    4.35
    >>> payback(100_000, 5_000)
    20.0
    """
    check_non_negative("setup_cost", setup_cost)
    check_finite("monthly_saving", monthly_saving)
    if monthly_saving <= 0:
        raise NoAnswer("no payback: the monthly saving is not positive")
    return setup_cost / monthly_saving


MAX_ATTEMPTS = 5  # attempts per task at most (retrying a failed task)
RETRY_RATE_CEILING = (1.0 + 5.0) * MAX_ATTEMPTS - 1.0  # retry_rate 5 on every one of 5 attempts


def expected_attempts(success_rate: float, max_attempts: int = 2) -> float:
    """Expected attempts per task when a failed attempt is retried, up to ``k`` attempts in all,
    each succeeding with probability ``p`` (first-attempt success rate, attempts independent):
    ``sum_(j=0)^(k-1) (1 - p)^j = (1 - (1 - p)^k) / p``.

    At p = 0.8 and k = 2: every task is tried once, the 20% that fail once more: 1.2 attempts.

    >>> round(expected_attempts(0.8, 2), 12)
    1.2
    >>> expected_attempts(1.0, 2), expected_attempts(0.5, 1)
    (1.0, 1.0)
    """
    p = _check_success(success_rate)
    k = _check_attempts(max_attempts)
    if p == 1.0 or k == 1:
        return 1.0
    return min(float(k), max(1.0, (1.0 - (1.0 - p) ** k) / p))  # within [1, k] despite float rounding


def failed_share(success_rate: float, max_attempts: int = 2) -> float:
    """Share of tasks that still fail after ``k`` attempts (they go to a person): ``(1 - p)^k``.
    With ``on_failure: human`` there is no retry: k = 1, so ``1 - p``.

    At p = 0.8 and k = 2, 0.2 x 0.2 = 4% of tasks reach a person:

    >>> round(failed_share(0.8, 2), 12), round(failed_share(0.8, 1), 12)
    (0.04, 0.2)
    """
    p = _check_success(success_rate)
    k = _check_attempts(max_attempts)
    return 0.0 if p == 1.0 else (1.0 - p) ** k


def retry_rate_with_attempts(retry_rate: float, attempts: float) -> float:
    """Extra tokens as a fraction when every task takes ``A`` attempts on average and each attempt
    re-sends ``r`` of its tokens (the technical ``retry_rate``: timeouts, rate limits):
    ``(1 + r) x A - 1``. One concept: both are tokens sent again, counted in the "Retries" line
    and in the capacity the self-hosted and on-prem options size from. ``A = 1`` gives ``r``.

    5% technical retries and 1.2 attempts per task: 1.05 x 1.2 - 1 = 26% extra tokens:

    >>> round(retry_rate_with_attempts(0.05, 1.2), 12), retry_rate_with_attempts(0.05, 1.0)
    (0.26, 0.05)
    """
    r = _check_retry(retry_rate, 5.0)
    a = check_finite("attempts", attempts)
    if not 1.0 <= a <= MAX_ATTEMPTS:
        raise InputError("attempts", attempts, f"expected attempts per task between 1 and {MAX_ATTEMPTS}")
    return r if a == 1.0 else (1.0 + r) * a - 1.0


def tool_calls_cost(requests_per_month: float, tool_calls_per_request: float, price_per_tool_call: float,
                    attempts_per_task: float = 1.0) -> float:
    """USD/month of third-party tool calls: a retried task runs again, tool calls included, so they
    are paid on every attempt, ``requests x calls per request x attempts per task x price`` (the
    attempts factor the tokens use, ``expected_attempts``; 1 without retries).

    100,000 requests a month at 80% first-attempt success, retried once (1.2 attempts per request),
    3 tool calls at $0.01: $0.036 per request, $3,600 a month:

    >>> round(tool_calls_cost(100_000, 3, 0.01, 1.2), 9), round(tool_calls_cost(1, 3, 0.01, 1.2), 12)
    (3600.0, 0.036)
    """
    return requests_per_month * tool_calls_per_request * attempts_per_task * price_per_tool_call


def cost_per_successful_task(monthly_cost: float, tasks_per_month: float, failed_share: float = 0.0) -> float:
    """USD per successful task: the monthly cost, failures included (retried tokens, failed tasks
    handled by a person), over the tasks the model gets right within its attempts,
    ``cost / (tasks x (1 - failed_share))``, the unit of per-resolution prices (seed 002).

    10,000 tasks a month at 80% first-attempt success, retried once (1.2 attempts; 4% still fail
    and go to a person at $5): tokens $1,000 x 1.2 = $1,200, people 400 x $5 = $2,000; 9,600
    successful tasks: $3,200 / 9,600 = $0.333:

    >>> round(cost_per_successful_task(1_200 + 400 * 5.0, 10_000, 0.04), 6)
    0.333333
    """
    check_non_negative("monthly_cost", monthly_cost)
    check_positive("tasks_per_month", tasks_per_month)
    failed = check_fraction("failed_share", failed_share)
    if failed >= 1.0:
        raise NoAnswer("no successful task: every task fails")
    return monthly_cost / (tasks_per_month * (1.0 - failed))


def composite_failed_share(kind: str, shares: Sequence[float], failed_shares: Sequence[float],
                           first_escalates: bool = False) -> float:
    """Share of a composite's tasks that still fail (the tasks its cost per successful task does
    not count as successes).

    Parameters
    ----------
    kind : {"mix", "cascade"}
        A mix splits the tasks across its components; a cascade sends every task to ``first`` and
        an escalation share ``e`` of them also to ``then``.
    shares : sequence of float
        Mix: the route's shares ``s_i`` (summing to 1). Cascade: ``(1, e)``, the share of the
        tasks each of ``first`` and ``then`` sees.
    failed_shares : sequence of float
        Each component's own failed share ``F_i`` (``(1 - p)^k`` when retried or escalated,
        ``1 - p`` when handed to a person at once; 0 for a component that never fails), in the
        order of ``shares``.
    first_escalates : bool, optional
        Cascade only: ``first`` has ``on_failure: escalate``, so its failed tasks are the
        escalated ones and are decided by ``then``.

    Returns
    -------
    float
        Mix: ``sum_i s_i x F_i``. Cascade: ``(1 - e) x F_first + e x F_then``, the escalated
        tasks decided by ``then`` and the others by ``first``; when ``first`` escalates its
        failures, none of the tasks it keeps fails, so ``e x F_then``.

    Notes
    -----
    The composite's cost per successful task is then its total monthly cost (every component,
    failures included) over ``tasks x (1 - failed)`` (:func:`cost_per_successful_task`), tasks
    being ``context.outcomes_per_month`` when given, else the composite's requests a month.

    Examples
    --------
    A mix sending 20% to a frontier model that never fails and 80% to a mini model failing 4%
    of its tasks after a retry: 0.2 x 0 + 0.8 x 0.04 = 3.2%. A mini model that escalates the
    4% it still fails after two attempts to a frontier model failing 1%: 0.04 x 0.01 = 0.04%;
    the same cascade with a stated 15% escalation and mini's failures handed to people:
    0.85 x 0.04 + 0.15 x 0.01 = 3.55%.

    >>> round(composite_failed_share("mix", [0.2, 0.8], [0.0, 0.04]), 12)
    0.032
    >>> round(composite_failed_share("cascade", [1.0, 0.04], [0.04, 0.01], first_escalates=True), 12)
    0.0004
    >>> round(composite_failed_share("cascade", [1.0, 0.15], [0.04, 0.01]), 12)
    0.0355
    """
    if len(shares) != len(failed_shares):
        raise InputError("failed_shares", list(failed_shares), f"one failed share per component ({len(shares)})")
    s = [check_fraction("share", x) for x in shares]
    failed = [check_fraction("failed_share", x) for x in failed_shares]
    if kind == "mix":
        return min(1.0, sum(a * b for a, b in zip(s, failed)))
    if kind == "cascade":
        if len(s) != 2:
            raise InputError("shares", list(shares), "(1, escalation share): a cascade's first and then")
        e = s[1]
        return min(1.0, (0.0 if first_escalates else (1.0 - e) * failed[0]) + e * failed[1])
    raise InputError("kind", kind, "mix or cascade")


def cost_per_success(cost_per_attempt: float, success_rate: float, cost_per_review: float = 0.0, max_attempts: int = 2,
                     on_failure: str = "retry", escalation_cost: Optional[float] = None,
                     escalation_failed_share: float = 0.0) -> float:
    """USD per successful task from per-attempt figures: every task takes ``A`` attempts (retry,
    escalate: ``(1 - (1 - p)^k) / p``; human: 1), a share ``F`` (retry, escalate: ``(1 - p)^k``;
    human: ``1 - p``) still fails and goes to a person at ``cost_per_review``, and only the others
    succeed::

        (cost_per_attempt x A + F x cost_per_review) / (1 - F)

    With no fixed costs this is the engine's total monthly cost / successful tasks. $0.10 per
    attempt at 80%, retried once, $5 per review: (0.10 x 1.2 + 0.04 x 5) / 0.96 = $0.333; without
    retry, (0.10 + 0.2 x 5) / 0.8 = $1.375:

    >>> round(cost_per_success(0.10, 0.8, 5.0), 6), round(cost_per_success(0.10, 0.8, 5.0, on_failure="human"), 6)
    (0.333333, 1.375)

    ``on_failure`` escalate with an ``escalation_cost`` (USD per task escalated to a cascade's
    ``then`` option, its own failures' handling included) and the share of those tasks the
    ``then`` option still fails (``escalation_failed_share``, ``F_e``): the ``F`` still failing
    go to ``then`` instead of a person, and a task fails only when ``then`` fails it too (the
    engine's cascade whose first escalates, :func:`composite_failed_share`)::

        (cost_per_attempt x A + F x escalation_cost) / (1 - F x F_e)

    Without an ``escalation_cost`` an escalate option is on its own: as retry. $0.001 per attempt
    at 80%, two attempts, escalated to a model at $0.01 a task that fails 10% of them (a person
    at $5: $0.51 per escalated task): (0.001 x 1.2 + 0.04 x 0.51) / (1 - 0.04 x 0.1) = $0.02169:

    >>> round(cost_per_success(0.001, 0.8, 5.0, 2, "escalate", 0.01 + 0.1 * 5.0, 0.1), 8)
    0.02168675
    """
    c = check_non_negative("cost_per_attempt", cost_per_attempt)
    review = check_non_negative("cost_per_review", cost_per_review)
    if on_failure not in ("retry", "human", "escalate"):
        raise InputError("on_failure", on_failure, "retry, human or escalate")
    k = 1 if on_failure == "human" else max_attempts
    attempts = expected_attempts(success_rate, k)
    failed = failed_share(success_rate, k)
    if on_failure == "escalate" and escalation_cost is not None:
        then = check_non_negative("escalation_cost", escalation_cost)
        then_failed = check_fraction("escalation_failed_share", escalation_failed_share)
        if failed * then_failed >= 1.0:
            raise NoAnswer("no successful task: every task fails")
        return (c * attempts + failed * then) / (1.0 - failed * then_failed)
    return (c * attempts + failed * review) / (1.0 - failed)


def migration_share(month: int, switch_month: int = 0, overlap_months: int = 0) -> float:
    """The new option's share of the traffic in month ``m`` (1-based) of a move that starts after
    month ``S`` (``switch_month``) with ``L`` months of overlap: 0 up to month S (today's option
    carries everything), ``(m - S) / (L + 1)`` in the overlap months S + 1 .. S + L (a linear
    ramp; today's option carries the rest and both pay their fixed costs), 1 afterwards.

    A 3-month overlap starting now: 25%, 50%, 75%, then 100%:

    >>> [migration_share(m, 0, 3) for m in range(1, 6)]
    [0.25, 0.5, 0.75, 1.0, 1.0]
    >>> [migration_share(m, 2, 0) for m in range(1, 5)]
    [0.0, 0.0, 1.0, 1.0]
    """
    if month <= switch_month:
        return 0.0
    if month <= switch_month + overlap_months:
        return (month - switch_month) / (overlap_months + 1.0)
    return 1.0


def cost_per_outcome(monthly_cost: float, outcomes_per_month: float) -> float:
    """USD per business outcome: ``monthly_cost / outcomes_per_month``.

    Seed 000's API option, 298,000 a month over 1M inferences:

    >>> cost_per_outcome(298_000, 1_000_000)
    0.298
    """
    check_non_negative("monthly_cost", monthly_cost)
    check_positive("outcomes_per_month", outcomes_per_month)
    return monthly_cost / outcomes_per_month


def monthly_rate(rate_per_year: float) -> float:
    """Monthly rate equivalent to a yearly one: ``(1 + r) ** (1/12) - 1``.

    10% a year: 1.1 ** (1/12) = 1.0079741..., so 0.797% a month (not 10 / 12 = 0.833%):

    >>> round(monthly_rate(0.10), 7)
    0.0079741
    >>> round((1 + monthly_rate(0.10)) ** 12, 12)
    1.1
    """
    check_non_negative("rate_per_year", rate_per_year)
    return (1.0 + rate_per_year) ** (1.0 / MONTHS_PER_YEAR) - 1.0


def pmt(rate: float, nper: int, pv: float, fv: float = 0.0) -> float:
    """Excel's ``PMT(rate, nper, pv, fv)`` (payments at period ends; numpy-financial's ``pmt``):
    the payment per period of an annuity, negative for a positive present value (cash out).

    ``PMT = -(pv (1 + r)^n + fv) r / ((1 + r)^n - 1)``, and ``-(pv + fv) / n`` at ``r = 0``.
    On-prem capital cost per month is ``-PMT(r_m, life_months, price x (1 + install), -residual)``:
    the level payment that repays the installed price less the present value of the residual.
    By hand, 1,000 over 2 periods at 10%: 1,000 x 1.21 x 0.1 / 0.21 = 576.19 a period (576.19 /
    1.1 + 576.19 / 1.21 = 1,000); with 100 back at the end, (1,210 - 100) x 0.1 / 0.21 = 528.57;
    at 0%, (1,000 - 100) / 2 = 450:

    >>> round(pmt(0.10, 2, 1000), 2)
    -576.19
    >>> round(-pmt(0.10, 2, 1000, -100), 2)
    528.57
    >>> -pmt(0.0, 2, 1000, -100)
    450.0
    """
    r = check_non_negative("rate", rate)
    if isinstance(nper, bool) or not isinstance(nper, int) or nper < 1:
        raise InputError("nper", nper, "a whole number of periods >= 1")
    check_finite("pv", pv)
    check_finite("fv", fv)
    if r == 0:
        return -(pv + fv) / nper
    # (1 + r)^n - 1 without cancellation: at a rate near 0 the plain difference keeps few digits
    # (a cost of capital of 5e-9 a year lost 2e-8 of the payment)
    growth_less_one = math.expm1(nper * math.log1p(r))
    return -(pv * (1.0 + growth_less_one) + fv) * r / growth_less_one


def straight_line_book_value(cost: float, salvage: float, life_periods: int, age_periods: float) -> float:
    """Book value of an asset depreciated straight-line from ``cost`` to ``salvage`` over
    ``life_periods``: ``cost - (cost - salvage) x min(age, life) / life``.

    A 307,300 server (285,000 + 22,300 install) with 57,000 salvage over 48 months is worth
    307,300 - 250,300 x 12 / 48 = 244,725 after a year, and its salvage at the end of its life:

    >>> straight_line_book_value(307_300, 57_000, 48, 12)
    244725.0
    >>> straight_line_book_value(307_300, 57_000, 48, 48)
    57000.0
    """
    check_non_negative("cost", cost)
    check_non_negative("salvage", salvage)
    check_positive("life_periods", life_periods)
    a = min(max(check_non_negative("age_periods", age_periods), 0.0), life_periods)
    return cost - (cost - salvage) * a / life_periods


def server_power_monthly(
    servers: float,
    gpus_per_server: float,
    gpu_tdp_watts: float,
    utilization: float,
    idle_power_share: float = 0.3,
    pue: float = 1.4,
    hours_per_month: float = 720.0,
    power_price_per_kwh: float = 0.12,
) -> float:
    """Monthly electricity of bought GPU servers, USD, cooling and facility overhead included.

    ``servers x gpus x tdp / 1000 x (idle + (1 - idle) x utilization) x pue x hours x price``:
    GPUs draw ``idle`` of their board power doing nothing and the rest in proportion to the load;
    PUE grosses IT power up to what the site draws. By hand, one 8x H100 server (700 W each,
    5.6 kW) half loaded draws 5.6 x (0.3 + 0.7 x 0.5) = 3.64 kW, x 1.4 = 5.096 kW at the meter;
    over 720 hours that is 3,669.12 kWh, at 0.12 USD/kWh 440.29 USD:

    >>> round(server_power_monthly(1, 8, 700, 0.5), 4)
    440.2944
    >>> round(server_power_monthly(2, 8, 700, 1.0, hours_per_month=730), 2)  # flat out: 11.2 kW x 1.4 x 730 x 0.12
    1373.57
    """
    check_non_negative("servers", servers)
    check_non_negative("gpus_per_server", gpus_per_server)
    check_non_negative("gpu_tdp_watts", gpu_tdp_watts)
    u = check_fraction("utilization", utilization)
    idle = check_fraction("idle_power_share", idle_power_share)
    if check_finite("pue", pue) < 1:
        raise InputError("pue", pue, "a power usage effectiveness >= 1 (site power / IT power)")
    check_positive("hours_per_month", hours_per_month)
    check_non_negative("power_price_per_kwh", power_price_per_kwh)
    kw = servers * gpus_per_server * gpu_tdp_watts / 1000.0
    return kw * (idle + (1.0 - idle) * u) * pue * hours_per_month * power_price_per_kwh


def growth_factor(monthly_growth: float, month: int) -> float:
    """Volume multiplier in month ``m`` (1-based): ``(1 + g) ** (m - 1)``.

    5% a month: month 1 is the starting volume, month 3 is 1.05 x 1.05 = 1.1025 of it:

    >>> growth_factor(0.05, 1)
    1.0
    >>> growth_factor(0.05, 3)
    1.1025
    """
    return (1.0 + monthly_growth) ** (month - 1)


def price_factor(decline_per_year: float, month: int) -> float:
    """API price multiplier in month ``m`` (1-based), declining smoothly: ``(1 - d) ** ((m - 1) / 12)``.

    20% a year: month 13, a year after month 1, pays 0.8 of the starting price:

    >>> price_factor(0.2, 1)
    1.0
    >>> price_factor(0.2, 13)
    0.8
    """
    return (1.0 - decline_per_year) ** ((month - 1) / MONTHS_PER_YEAR)


def npv(rate_per_year: float, one_time_cost: float, monthly_costs: list[float]) -> float:
    """Present value of a cost stream paid at month ends, one-time cost at month 0.

    ``NPV = C0 + sum_m C_m / (1 + r_m) ** m`` with ``r_m = (1 + r) ** (1/12) - 1``.
    Undiscounted: 10 + 1 + 2 + 3 = 16. At 10% a year, 1,100 paid at month 12 is worth
    1,100 / 1.1 = 1,000 today, plus 1,000 paid now:

    >>> npv(0.0, 10, [1, 2, 3])
    16.0
    >>> round(npv(0.10, 1000, [0] * 11 + [1100]), 9)
    2000.0
    """
    rm = monthly_rate(rate_per_year)
    return one_time_cost + sum(c / (1.0 + rm) ** m for m, c in enumerate(monthly_costs, start=1))


def _check_days(days_per_month: float) -> float:
    d = check_finite("days_per_month", days_per_month)
    if not 0 < d <= 31:
        raise InputError("days_per_month", days_per_month, "a number of days > 0 and <= 31")
    return d


def _check_retry(retry_rate: float, ceiling: float = RETRY_RATE_CEILING) -> float:
    # up to 5 as an input; up to RETRY_RATE_CEILING once failed tasks' attempts are included
    r = check_finite("retry_rate", retry_rate)
    if not 0 <= r <= ceiling:
        raise InputError("retry_rate", retry_rate, f"a fraction of extra tokens between 0 and {ceiling:g}", hint="0.05 = 5% retried")
    return r


def _check_success(success_rate: float) -> float:
    p = check_finite("success_rate", success_rate)
    if not 0 < p <= 1:
        hint = f" (use {p / 100:g})" if 1 < p <= 100 else ""
        raise InputError("success_rate", success_rate, f"a first-attempt success rate > 0 and <= 1{hint}")
    return p


def _check_attempts(max_attempts: int) -> int:
    k = check_finite("max_attempts", max_attempts)
    if k != int(k) or not 1 <= k <= MAX_ATTEMPTS:
        raise InputError("max_attempts", max_attempts, f"a whole number of attempts from 1 to {MAX_ATTEMPTS}")
    return int(k)

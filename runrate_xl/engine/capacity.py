"""Serving capacity and memory fit of a model on GPUs: pure arithmetic, no catalog.

Each function states its formula and an example computed by hand (the docstrings run as
doctests). The catalog (``runrate_xl/catalog``) supplies the figures: parameters, layers, KV
heads and head size from a model's config.json, GPU memory, published throughput.

Units: bytes and GB (10^9 bytes, as GPU memory is sold); tokens per second and per day.
"""

from __future__ import annotations

from .errors import InputError, check_fraction, check_non_negative, check_positive

SECONDS_PER_DAY = 86_400.0
BYTES_PER_GB = 1e9

# Bytes per stored value for each precision a catalog figure can name (4-bit: half a byte).
BYTES_PER_PARAMETER: dict[str, float] = {
    "fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5,
}


def bytes_per_parameter(precision: str) -> float:
    """Bytes one weight takes at ``precision``.

    ``fp32`` 4, ``bf16``/``fp16`` 2, ``fp8``/``int8`` 1, ``int4`` 0.5:

    >>> bytes_per_parameter("fp8")
    1.0
    >>> bytes_per_parameter("int4")
    0.5
    """
    if precision not in BYTES_PER_PARAMETER:
        raise InputError("precision", precision, f"one of {', '.join(BYTES_PER_PARAMETER)}")
    return BYTES_PER_PARAMETER[precision]


def weights_gb(parameters: float, precision: str) -> float:
    """Memory the weights take, GB.

    ``W = parameters x bytes_per_parameter(precision) / 10^9``; a 70B model in FP8 takes
    70e9 x 1 = 70 GB, in 4-bit 35 GB; a 13B model in fp16 26 GB:

    >>> weights_gb(70e9, "fp8")
    70.0
    >>> weights_gb(70e9, "int4")
    35.0
    >>> weights_gb(13e9, "fp16")
    26.0
    """
    check_positive("parameters", parameters)
    return parameters * bytes_per_parameter(precision) / BYTES_PER_GB


def kv_cache_gb(
    layers: int, kv_heads: int, head_dim: int, context_tokens: float,
    concurrent_requests: float = 1, kv_precision: str = "fp16",
) -> float:
    """Memory the KV cache takes, GB.

    ``KV = 2 (keys and values) x layers x kv_heads x head_dim x bytes x context x requests / 10^9``.
    Llama 3.1 70B (80 layers, 8 KV heads of 128) in fp16 holds 2 x 80 x 8 x 128 x 2 = 327,680
    bytes per token; 8,192 tokens of context for one request is 2.68 GB, for 10 requests 26.8 GB:

    >>> round(kv_cache_gb(80, 8, 128, 8192), 4)
    2.6844
    >>> round(kv_cache_gb(80, 8, 128, 8192, 10), 3)
    26.844
    """
    for name, value in (("layers", layers), ("kv_heads", kv_heads), ("head_dim", head_dim)):
        check_positive(name, value)
    check_non_negative("context_tokens", context_tokens)
    check_positive("concurrent_requests", concurrent_requests)
    per_token = 2.0 * layers * kv_heads * head_dim * bytes_per_parameter(kv_precision)
    return per_token * context_tokens * concurrent_requests / BYTES_PER_GB


def usable_memory_gb(memory_gb_per_gpu: float, gpus: int, headroom: float = 0.1) -> float:
    """GPU memory a model may use, GB: ``memory x gpus x (1 - headroom)``.

    Headroom is kept for activations, the CUDA context and fragmentation. One 40 GB A100 at
    10% headroom offers 36 GB; four 80 GB A100s 288 GB:

    >>> usable_memory_gb(40, 1)
    36.0
    >>> usable_memory_gb(80, 4)
    288.0
    """
    check_positive("memory_gb_per_gpu", memory_gb_per_gpu)
    check_positive("gpus", gpus)
    check_fraction("memory_headroom", headroom)
    return memory_gb_per_gpu * gpus * (1.0 - headroom)


def memory_needed_gb(
    parameters: float, precision: str, layers: int, kv_heads: int, head_dim: int,
    context_tokens: float, concurrent_requests: float = 1, kv_precision: str = "fp16",
) -> float:
    """Weights plus KV cache, GB (see :func:`weights_gb` and :func:`kv_cache_gb`).

    Llama 3.1 70B in 4-bit with 8,192 tokens of context for one request:
    35 + 2.684 = 37.68 GB:

    >>> round(memory_needed_gb(70e9, "int4", 80, 8, 128, 8192), 2)
    37.68
    """
    return (weights_gb(parameters, precision)
            + kv_cache_gb(layers, kv_heads, head_dim, context_tokens, concurrent_requests, kv_precision))


def check_memory_fit(model: str, gpu: str, needed_gb: float, available_gb: float) -> float:
    """``needed_gb`` if it fits ``available_gb`` (weights + KV <= usable memory), else an error
    naming the model, the GPU and both figures.

    13B in fp16 needs 26 GB of weights alone; one 24 GB A10G offers 21.6 GB at 10% headroom:

    >>> check_memory_fit("llama-3.1-70b int4", "1x A100-80GB", 37.68, 72.0)
    37.68
    >>> check_memory_fit("13B fp16", "1x A10G", 26.0, usable_memory_gb(24, 1))
    Traceback (most recent call last):
    ...
    runrate_xl.engine.errors.InputError: memory for 13B fp16 on 1x A10G: got '26.0 GB needed', expected at most 21.6 GB usable ...
    """
    check_non_negative("needed_gb", needed_gb)
    check_non_negative("available_gb", available_gb)
    if needed_gb > available_gb:
        raise InputError(f"memory for {model} on {gpu}", f"{needed_gb:.1f} GB needed",
                         f"at most {available_gb:.1f} GB usable (GPU memory less headroom)",
                         hint="use more GPUs, a lower precision or a shorter context")
    return needed_gb


def tokens_per_day_from_rates(
    prefill_tokens_per_second: float, decode_tokens_per_second: float, input_tokens: float, output_tokens: float,
) -> float:
    """Tokens per day one deployment carries at 100% for a request mix, from its prefill (input)
    and decode (output) rates at full batch.

    Seconds of the deployment per request ``t = input / prefill + output / decode``;
    ``tokens/day = 86,400 x (input + output) / t``. At 10,000 prefill and 1,000 decode tokens/s,
    a request of 1,000 in and 200 out takes 0.1 + 0.2 = 0.3 s, so 288,000 requests and
    345.6M tokens a day; the same box on 200 in / 1,000 out takes 0.02 + 1.0 = 1.02 s per
    request and carries only 86,400 x 1,200 / 1.02 = 101.6M:

    >>> round(tokens_per_day_from_rates(10_000, 1_000, 1_000, 200))
    345600000
    >>> round(tokens_per_day_from_rates(10_000, 1_000, 200, 1_000))
    101647059
    """
    check_positive("prefill_tokens_per_second", prefill_tokens_per_second)
    check_positive("decode_tokens_per_second", decode_tokens_per_second)
    check_non_negative("input_tokens", input_tokens)
    check_non_negative("output_tokens", output_tokens)
    if input_tokens + output_tokens <= 0:
        raise InputError("input_tokens + output_tokens", input_tokens + output_tokens, "a number > 0")
    seconds = input_tokens / prefill_tokens_per_second + output_tokens / decode_tokens_per_second
    return SECONDS_PER_DAY * (input_tokens + output_tokens) / seconds


def tokens_per_day_at_measured_mix(output_tokens_per_second: float, input_tokens: float, output_tokens: float) -> float:
    """Tokens per day at 100% from a published output rate measured at a stated mix.

    Requests per second ``r = output_tps / output_tokens`` (the measured mix);
    ``tokens/day = 86,400 x r x (input_tokens + output_tokens)``: the measured request rate at
    the measured mix. A different mix in the scenario is not rescaled (prefill and decode rates
    would be needed for that), so the result holds for requests like the benchmark's.
    Lambda's 956.53 output tokens/s on 4x A100-80GB (Llama 3.1 70B FP8, about 205 in /
    197 out tokens per request) is 956.53 / 197 = 4.8555 requests/s, x 402 tokens = 1,951.9
    tokens/s, 168.6M tokens a day; llmperf's 301.19 output tokens/s on one A10G at 550 in /
    150 out is 2.008 requests/s x 700 = 1,405.6 tokens/s, 121.4M a day:

    >>> round(tokens_per_day_at_measured_mix(956.53, 205, 197))
    168644493
    >>> round(tokens_per_day_at_measured_mix(301.19, 550, 150))
    121439808
    """
    check_positive("output_tokens_per_second", output_tokens_per_second)
    check_non_negative("input_tokens", input_tokens)
    check_positive("output_tokens", output_tokens)
    return SECONDS_PER_DAY * output_tokens_per_second / output_tokens * (input_tokens + output_tokens)


def effective_tokens_per_second_per_gpu(tokens_per_day: float, gpus: int) -> float:
    """The per-GPU rate that carries ``tokens_per_day`` on ``gpus`` GPUs at 100%:
    ``tokens_per_day / 86,400 / gpus`` (what capacity mode's ``tokens_per_second_per_gpu`` is).

    168.6M tokens a day on 4 GPUs is 168,644,493 / 86,400 / 4 = 488 tokens/s per GPU:

    >>> round(effective_tokens_per_second_per_gpu(168_644_493, 4), 1)
    488.0
    """
    check_non_negative("tokens_per_day", tokens_per_day)
    check_positive("gpus", gpus)
    return tokens_per_day / SECONDS_PER_DAY / gpus

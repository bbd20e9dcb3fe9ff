"""Published serving throughput (throughput.yaml) and the capacity an instance derives from it.

A figure is what its source measured, under its conditions (engine, precision, GPUs and tensor
parallelism, concurrency, request mix). How capacity (tokens per day one instance carries at
100%) is derived, in this order:

1. **Prefill and decode rates given** (input and output tokens/s at full batch): the scenario's
   own mix is used, ``seconds per request = input / prefill + output / decode`` and
   ``tokens/day = 86,400 x (input + output) / seconds``
   (:func:`runrate_xl.engine.capacity.tokens_per_day_from_rates`).
2. **Only output tokens/s at a stated mix** (most published figures): the measured request rate
   at the measured mix, ``requests/s = output_tps / measured output tokens`` and
   ``tokens/day = 86,400 x requests/s x (measured input + measured output)``
   (:func:`runrate_xl.engine.capacity.tokens_per_day_at_measured_mix`). The scenario's mix is
   NOT used to rescale it (that needs both rates); where the mixes differ the result says so:
   the figure holds for requests like the benchmark's. A configuration published at several
   mixes (TensorRT-LLM's tables give ten per model x GPU) uses the mix nearest the scenario's:
   the least ``ln(input / measured input)^2 + ln(output / measured output)^2``, the first in file
   order on a tie; without a request size such a configuration is refused, because which mix
   applies decides its capacity (4-8x between a 2,048/128 and a 128/2,048 request).

An instance with more GPUs than a benchmark configuration runs ``instance GPUs / configuration
GPUs`` independent replicas of it (data parallelism; configurations whose GPU count does not
divide the instance's are not used), each carrying the published figure: an assumption, stated
in the result. Among the configurations of the instance's GPU type for the model and precision,
the one with the most capacity whose weights and KV cache fit its GPUs is used. A model x GPU x
precision with no published figure is an error saying so; nothing is estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Optional, Protocol

from pydantic import Field, model_validator

from ..engine import capacity as cap
from ..engine.errors import InputError
from ._data import load_data
from ._sourced import Sourced
from .gpu_specs import gpu_specs
from .instances import CloudInstance
from .models import ModelSpec, model_catalog

Precision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]


class ThroughputFigure(Sourced):
    model: str
    gpu: str
    gpus: int = Field(..., gt=0, description="GPUs the configuration serves one model replica on.")
    tensor_parallel: int = Field(..., gt=0)
    precision: Precision
    engine: str = Field(..., min_length=2, description="Serving engine and version.")
    output_tokens_per_second: Optional[float] = Field(None, gt=0, description="Measured output (generated) tokens/s.")
    input_tokens_per_request: Optional[float] = Field(None, ge=0, description="Mean input tokens per request of the run.")
    output_tokens_per_request: Optional[float] = Field(None, gt=0, description="Mean output tokens per request of the run.")
    prefill_tokens_per_second: Optional[float] = Field(None, gt=0, description="Input (prefill) tokens/s at full batch.")
    decode_tokens_per_second: Optional[float] = Field(None, gt=0, description="Output (decode) tokens/s at full batch.")
    concurrency: str = Field(..., min_length=1, description="Concurrent requests of the run, as the source states them.")
    max_context_tokens: Optional[int] = Field(None, gt=0, description="Longest context the configuration served.")

    @model_validator(mode="after")
    def _a_usable_figure(self) -> "ThroughputFigure":
        rates = self.prefill_tokens_per_second is not None and self.decode_tokens_per_second is not None
        measured = None not in (self.output_tokens_per_second, self.input_tokens_per_request, self.output_tokens_per_request)
        if not (rates or measured):
            raise ValueError("a figure needs prefill and decode tokens/s, or output tokens/s with the input and output tokens per request it was measured at")
        if self.model not in model_catalog():
            raise ValueError(f"model {self.model!r} is not in models.yaml")
        if self.gpu not in gpu_specs():
            raise ValueError(f"gpu {self.gpu!r} is not in gpu_specs.yaml")
        return self

    @property
    def uses_rates(self) -> bool:
        return self.prefill_tokens_per_second is not None and self.decode_tokens_per_second is not None

    def tokens_per_day(self, input_tokens: Optional[float], output_tokens: Optional[float]) -> float:
        """Tokens/day one replica carries at 100% (the module's rules 1 and 2)."""
        if self.uses_rates and input_tokens is not None and output_tokens is not None:
            return cap.tokens_per_day_from_rates(self.prefill_tokens_per_second, self.decode_tokens_per_second,  # type: ignore[arg-type]
                                                 input_tokens, output_tokens)
        if self.output_tokens_per_second is None:
            raise InputError("volume.tokens_per_request", None, "a request size (the figure gives prefill and decode rates, which need the mix)")
        return cap.tokens_per_day_at_measured_mix(self.output_tokens_per_second, self.input_tokens_per_request,  # type: ignore[arg-type]
                                                  self.output_tokens_per_request)  # type: ignore[arg-type]

    def conditions(self) -> str:
        what = (f"prefill {self.prefill_tokens_per_second:g} / decode {self.decode_tokens_per_second:g} tok/s" if self.uses_rates
                else f"{self.output_tokens_per_second:g} output tok/s at {self.input_tokens_per_request:g} in / "
                     f"{self.output_tokens_per_request:g} out per request")
        return f"{self.engine}, {self.precision}, {self.gpus}x {self.gpu} (TP {self.tensor_parallel}), {self.concurrency}: {what}"


@lru_cache(maxsize=1)
def throughput_catalog() -> tuple[ThroughputFigure, ...]:
    return tuple(ThroughputFigure(**entry) for entry in load_data("throughput.yaml")["figures"])


def figures_for(model: str, gpu: str, precision: str) -> list[ThroughputFigure]:
    return [f for f in throughput_catalog() if (f.model, f.gpu, f.precision) == (model, gpu, precision)]


class Hardware(Protocol):
    """What capacity needs of a cloud instance or a bought server."""

    @property
    def id(self) -> str: ...
    @property
    def gpu(self) -> str: ...
    @property
    def gpus_per_instance(self) -> int: ...
    @property
    def memory_gb_per_gpu(self) -> float: ...


@dataclass(frozen=True)
class InstanceCapacity:
    """What one instance carries, derived from one published figure."""

    figure: ThroughputFigure
    replicas: int
    tokens_per_day: float  # per instance, at 100%
    tokens_per_second_per_gpu: float  # effective: tokens_per_day / 86,400 / GPUs of the instance
    memory_needed_gb: float  # per replica: weights + KV cache
    memory_available_gb: float  # per replica: GPU memory less headroom
    rule: str  # how the figure became capacity, in words


def instance_capacity(
    instance: "CloudInstance | Hardware", model: ModelSpec, precision: str, *, input_tokens: Optional[float], output_tokens: Optional[float],
    context_tokens: float, concurrent_requests: float = 1, headroom: float = 0.1, field: str = "model",
) -> InstanceCapacity:
    """The capacity of ``instance`` serving ``model`` at ``precision`` (see the module docstring).

    Raises :class:`InputError` when no figure is published for the combination, or when the
    model does not fit the GPUs of any published configuration (naming model, GPU, GB needed
    and available).
    """
    label = f"{model.id} {precision} on {instance.id} ({instance.gpus_per_instance}x {instance.gpu})"
    published = figures_for(model.id, instance.gpu, precision)
    usable = [f for f in published if f.gpus <= instance.gpus_per_instance and instance.gpus_per_instance % f.gpus == 0]
    if not usable:
        others = sorted({f"{f.model} {f.precision} on {f.gpus}x {f.gpu}" for f in throughput_catalog() if f.model == model.id})
        detail = (f"published configurations need {', '.join(sorted({f'{f.gpus}x {f.gpu}' for f in published}))}" if published
                  else f"published for {model.id}: {', '.join(others)}" if others else f"nothing is published for {model.id}")
        raise InputError(field, label, f"a model x GPU x precision with a published throughput ({detail}); "
                                        "no figure is estimated: give tokens_per_second_per_gpu from your own measurement")
    usable = _nearest_mixes(usable, label, input_tokens, output_tokens)
    needed = cap.memory_needed_gb(model.parameters, precision, model.layers, model.kv_heads, model.head_dim,
                                  context_tokens, concurrent_requests)
    best: Optional[InstanceCapacity] = None
    for figure in usable:
        available = cap.usable_memory_gb(instance.memory_gb_per_gpu, figure.gpus, headroom)
        if needed > available:
            continue
        replicas = instance.gpus_per_instance // figure.gpus
        per_day = replicas * figure.tokens_per_day(input_tokens, output_tokens)
        if best is None or per_day > best.tokens_per_day:
            best = InstanceCapacity(figure, replicas, per_day,
                                    cap.effective_tokens_per_second_per_gpu(per_day, instance.gpus_per_instance),
                                    needed, available, _rule(figure, replicas, input_tokens, output_tokens))
    if best is None:
        largest = max(usable, key=lambda f: f.gpus)
        cap.check_memory_fit(f"{model.id} {precision} ({context_tokens:,.0f} tokens of context x {concurrent_requests:g} requests)",
                             f"{largest.gpus}x {instance.gpu}", needed,
                             cap.usable_memory_gb(instance.memory_gb_per_gpu, largest.gpus, headroom))
        raise AssertionError("unreachable: the largest configuration did not fit")  # pragma: no cover
    return best


def configuration(figure: ThroughputFigure) -> tuple:
    """What a figure was measured on, apart from the request mix: figures sharing it differ only in the mix."""
    return (figure.model, figure.gpu, figure.precision, figure.gpus, figure.tensor_parallel, figure.engine, figure.uses_rates)


def mix_distance(figure: ThroughputFigure, input_tokens: float, output_tokens: float) -> float:
    """How far a measured mix is from the scenario's: ``ln(in / in_m)^2 + ln(out / out_m)^2``
    (a zero input count is taken as one token, so a prompt-less mix still has a distance)."""
    measured_in, measured_out = max(figure.input_tokens_per_request or 0.0, 1.0), figure.output_tokens_per_request or 1.0
    return math.log(max(input_tokens, 1.0) / measured_in) ** 2 + math.log(max(output_tokens, 1.0) / measured_out) ** 2


def _nearest_mixes(figures: list[ThroughputFigure], label: str, input_tokens: Optional[float],
                   output_tokens: Optional[float]) -> list[ThroughputFigure]:
    """Per configuration, the figure measured at the mix nearest the scenario's (the module's rule 2)."""
    groups: dict[tuple, list[ThroughputFigure]] = {}
    for f in figures:
        groups.setdefault(configuration(f), []).append(f)
    kept = []
    for group in groups.values():
        if len(group) == 1 or group[0].uses_rates:
            kept += group
            continue
        if input_tokens is None or output_tokens is None:
            mixes = ", ".join(f"{f.input_tokens_per_request:g}/{f.output_tokens_per_request:g}" for f in group)
            raise InputError("volume.tokens_per_request", None,
                             f"a request size: {label} is published at {len(group)} request mixes (input/output tokens: "
                             f"{mixes}) and the one nearest yours decides its capacity")
        kept.append(min(group, key=lambda f: mix_distance(f, input_tokens, output_tokens)))
    return kept


def _rule(figure: ThroughputFigure, replicas: int, input_tokens: Optional[float], output_tokens: Optional[float]) -> str:
    if figure.uses_rates and input_tokens is not None and output_tokens is not None:
        how = f"prefill and decode rates at your mix ({input_tokens:g} in / {output_tokens:g} out)"
    else:
        published = sum(1 for f in throughput_catalog() if configuration(f) == configuration(figure))
        how = (f"the measured request rate at the nearest of {published} published mixes ({figure.input_tokens_per_request:g} in / "
               f"{figure.output_tokens_per_request:g} out)" if published > 1 else "the measured request rate at the measured mix")
        if input_tokens is not None and output_tokens is not None and (
                abs(input_tokens - figure.input_tokens_per_request) > 0.1 * figure.input_tokens_per_request  # type: ignore[operator]
                or abs(output_tokens - figure.output_tokens_per_request) > 0.1 * figure.output_tokens_per_request):  # type: ignore[operator]
            how += f" (your mix, {input_tokens:g} in / {output_tokens:g} out, differs: the figure holds for requests like the benchmark's)"
    if replicas > 1:
        how += f"; {replicas} replicas of {figure.gpus}x {figure.gpu} (data parallel, assumed linear)"
    return how

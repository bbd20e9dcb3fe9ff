"""Catalogs: every value has a source and as-of date; conventions are flagged; user values win."""

import datetime as dt

import pytest

from runrate_xl.api import ScenarioError, evaluate_scenario, scenario_from_dict
from runrate_xl.catalog import lookup_prices, resolve
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


# --- GPU, model, throughput, instance and server catalogs (issue 13 items 2-3) -------------------
# Every figure below is computed by hand in the comment next to it from the catalog values
# (models.yaml, gpu_specs.yaml, throughput.yaml, cloud_instances.yaml).

from pydantic import ValidationError  # noqa: E402

from runrate_xl.catalog import (  # noqa: E402
    instance_capacity, instance_catalog, lookup_instance, lookup_model, model_catalog, server_catalog, throughput_catalog,
)
from runrate_xl.catalog.instances import InstancePrice  # noqa: E402
from runrate_xl.catalog.throughput import ThroughputFigure  # noqa: E402
from runrate_xl.engine import capacity as cap  # noqa: E402

CATALOG_FILES = {"models.yaml": "models", "gpu_specs.yaml": "gpus", "throughput.yaml": "figures",
                 "cloud_instances.yaml": "instances", "servers.yaml": "servers"}
AS_OF = dt.date(2026, 11, 23)


def _entries(name):
    data = load_data(name)[CATALOG_FILES[name]]
    items = list(data.values()) if isinstance(data, dict) else list(data)
    for item in items:
        if "prices" in item:  # an instance: every price is sourced
            yield from item["prices"]
        else:
            yield item


@pytest.mark.parametrize("name", sorted(CATALOG_FILES))
def test_every_catalog_value_has_a_source_and_an_as_of_date(name):
    entries = list(_entries(name))
    assert entries, f"{name} is empty"
    for e in entries:
        assert isinstance(e.get("source"), str) and len(e["source"]) >= 10, e
        assert dt.date.fromisoformat(str(e["as_of"])) <= dt.date(2026, 12, 31), e


def test_the_loaders_refuse_a_figure_without_source_or_with_an_unknown_key():
    good = {"term": "on_demand", "usd_per_hour": 1.0, "source": "somewhere, read by hand", "as_of": "2026-01-01"}
    InstancePrice(**good)
    with pytest.raises(ValidationError, match="source"):
        InstancePrice(**{k: v for k, v in good.items() if k != "source"})
    with pytest.raises(ValidationError, match="as_of"):
        InstancePrice(**{k: v for k, v in good.items() if k != "as_of"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        InstancePrice(**good, discount=0.3)
    figure = {"model": "llama-3.1-8b", "gpu": "H100", "gpus": 1, "tensor_parallel": 1, "precision": "fp8",
              "engine": "vLLM", "concurrency": "64", "source": "a benchmark somewhere", "as_of": "2026-01-01"}
    with pytest.raises(ValidationError, match="needs prefill and decode"):
        ThroughputFigure(**figure, output_tokens_per_second=100.0)  # no mix: not usable
    with pytest.raises(ValidationError, match="not in models.yaml"):
        ThroughputFigure(**{**figure, "model": "gpt-9"}, prefill_tokens_per_second=1e4, decode_tokens_per_second=1e3)


def test_catalogs_load_with_the_required_coverage():
    assert {"llama-3.1-8b", "llama-3.1-70b", "mistral-7b", "mixtral-8x7b", "qwen-2.5-72b"} <= set(model_catalog())
    m = model_catalog()["mixtral-8x7b"]
    assert (m.parameters_b, m.active_parameters_b, m.layers, m.kv_heads, m.head_dim) == (46.7, 12.9, 32, 8, 128)
    clouds = {i.cloud for i in instance_catalog().values()}
    assert {"AWS", "GCP", "CoreWeave", "Lambda"} <= clouds
    assert {"A10G", "L4", "L40S", "A100-40GB", "A100-80GB", "H100", "H200", "B200"} <= {i.gpu for i in instance_catalog().values()}
    terms = {p.term for i in instance_catalog().values() for p in i.prices}
    assert terms == {"on_demand", "1yr", "3yr", "spot"}
    assert len(throughput_catalog()) >= 20 and all(f.engine and f.concurrency for f in throughput_catalog())
    assert {(s.gpu, s.gpus) for s in server_catalog()} >= {("H100", 8), ("A100-80GB", 4), ("L40S", 8), ("B200", 8)}


def test_price_lookup_by_as_of_date_shows_the_p4d_cut():
    p4d = lookup_instance("aws-p4d.24xlarge")
    assert p4d.price("on_demand", dt.date(2025, 5, 31)).usd_per_hour == 32.7726  # last day before the cut
    assert p4d.price("on_demand", dt.date(2025, 6, 1)).usd_per_hour == 21.957642  # 1 June 2025: -33%
    assert rel(21.957642 / 32.7726, 0.67, 1e-3)
    # p5.48xlarge has only its post-cut price: a day before it is refused, not guessed
    with pytest.raises(InputError, match="on_demand price in force on 2025-01-15"):
        lookup_instance("aws-p5.48xlarge").price("on_demand", dt.date(2025, 1, 15))


def _capacity_scenario(self_hosted, volume=None):
    return scenario_from_dict({"volume": volume or {"tokens_per_day": 100_000_000, "tokens_per_request": 1000},
                               "api": {"input_price_per_1m": 1, "output_price_per_1m": 1},
                               "self_hosted": {"mode": "capacity", "fte": 0, **self_hosted}})


def test_scenario_prices_follow_the_as_of_date():
    s = _capacity_scenario({"gpu": "aws-p4d.24xlarge", "tokens_per_second_per_gpu": 500})
    before, after = resolve(s, dt.date(2025, 5, 1)).option("self_hosted"), resolve(s, dt.date(2025, 7, 1)).option("self_hosted")
    assert (before.instance_hourly_usd, after.instance_hourly_usd) == (32.7726, 21.957642)
    assert before.price_source.startswith("aws-p4d.24xlarge on_demand 32.7726") and after.price_as_of == "2026-11-09"
    # 100M tokens/day, peak 2x: 2,314.8 tok/s at peak / (8 x 500 x 0.7 = 2,800) -> 1 instance;
    # GPU hours are the token month's: 30 days x 24 = 720 h
    e = evaluate_scenario(s, dt.date(2025, 7, 1)).options["self_hosted"]
    assert e.details["instances"] == 1 and rel(e.total_monthly, 21.957642 * 720)
    # a stated 730 h (seed 003's month) is used, and the result says the months differ
    e730 = evaluate_scenario(_capacity_scenario({"gpu": "aws-p4d.24xlarge", "tokens_per_second_per_gpu": 500,
                                                 "hours_per_month": 730}), dt.date(2025, 7, 1)).options["self_hosted"]
    assert rel(e730.total_monthly, 21.957642 * 730) and any("two month lengths" in n for n in e730.notes)
    # 30.4167-day months (365 / 12) bill 730 h and count tokens over the same month
    cal = evaluate_scenario(_capacity_scenario({"gpu": "aws-p4d.24xlarge", "tokens_per_second_per_gpu": 500},
                                               {"tokens_per_day": 100_000_000, "tokens_per_request": 1000, "days_per_month": 365 / 12}),
                            dt.date(2025, 7, 1)).options["self_hosted"]
    assert rel(cal.total_monthly, 21.957642 * 730) and not any("two month lengths" in n for n in cal.notes)


def test_pricing_terms_and_spot_overhead():
    base = {"gpu": "gcp-a2-highgpu-1g", "tokens_per_second_per_gpu": 1000}
    one = resolve(_capacity_scenario({**base, "pricing_term": "1yr"}), AS_OF).option("self_hosted")
    three = resolve(_capacity_scenario({**base, "pricing_term": "3yr"}), AS_OF).option("self_hosted")
    assert rel(one.instance_hourly_usd, 2.314207) and rel(1689.3711392 / 730, 2.314207, 1e-6)  # month_1y / 730 h
    assert rel(three.instance_hourly_usd, 1.285708) and rel(938.56707798 / 730, 1.285708, 1e-6)
    spot = resolve(_capacity_scenario({**base, "pricing_term": "spot", "spot_interruption_overhead": 0.1}), AS_OF).option("self_hosted")
    assert rel(spot.instance_hourly_usd, 1.293355 * 1.1)  # 1.4226905: spot plus the stated 10% lost hours
    assert "interruption overhead you stated" in spot.price_source
    with pytest.raises(ScenarioError, match="spot_interruption_overhead"):
        _capacity_scenario({**base, "pricing_term": "spot"})
    # AWS standard reserved instances, no upfront (us-east-1, 2025-11-30): g5.xlarge 1.006 on demand
    aws = {"gpu": "aws-g5.xlarge", "tokens_per_second_per_gpu": 1000}
    assert rel(resolve(_capacity_scenario({**aws, "pricing_term": "1yr"}), AS_OF).option("self_hosted").instance_hourly_usd, 0.63378)
    assert rel(resolve(_capacity_scenario({**aws, "pricing_term": "3yr"}), AS_OF).option("self_hosted").instance_hourly_usd, 0.43459)
    # AWS offered no 1-year standard reservation for p5.48xlarge in that data: refused, not estimated
    with pytest.raises(InputError, match="1yr price in force"):
        resolve(_capacity_scenario({"gpu": "aws-p5.48xlarge", "tokens_per_second_per_gpu": 1000, "pricing_term": "1yr"}), AS_OF)


def test_memory_check_pass_and_fail_by_hand():
    # 13B fp16: 13e9 x 2 B = 26 GB of weights > one 24 GB A10G less 10% = 21.6 GB
    with pytest.raises(InputError) as info:
        cap.check_memory_fit("13B fp16", "1x A10G", cap.weights_gb(13e9, "fp16"), cap.usable_memory_gb(24, 1))
    assert "13B fp16 on 1x A10G" in str(info.value) and "26.0 GB needed" in str(info.value) and "at most 21.6 GB" in str(info.value)
    # 70B 4-bit with 8,192 tokens: 35 GB + 2 x 80 x 8 x 128 x 2 B x 8,192 = 2.684 GB -> 37.68 > 36 GB (one 40 GB A100)
    needed = cap.memory_needed_gb(70e9, "int4", 80, 8, 128, 8192)
    assert rel(needed, 35 + 2.68435456)
    with pytest.raises(InputError, match="37.7 GB"):
        cap.check_memory_fit("70B int4", "1x A100-40GB", needed, cap.usable_memory_gb(40, 1))
    # Llama 3 8B fp16 with 4,000 tokens: 16 GB + 2 x 32 x 8 x 128 x 2 B x 4,000 = 0.524 GB -> 16.52 <= 21.6: fits
    assert rel(cap.check_memory_fit("8B", "1x A10G", cap.memory_needed_gb(8e9, "fp16", 32, 8, 128, 4000), 21.6), 16.524288)


def test_memory_check_in_resolution_names_model_gpu_and_figures():
    # Llama 3.1 70B FP8 on one H100 (aws-p5.4xlarge): 70 GB + 327,680 B/token of KV
    fits = resolve(_capacity_scenario({"gpu": "aws-p5.4xlarge", "model": "llama-3.1-70b", "precision": "fp8"}), AS_OF).option("self_hosted")
    assert rel(fits.memory_needed_gb, 70 + 327_680 * 1000 / 1e9) and fits.memory_available_gb == 72.0  # 80 x 0.9
    big = _capacity_scenario({"gpu": "aws-p5.4xlarge", "model": "llama-3.1-70b", "precision": "fp8"},
                             {"tokens_per_day": 100_000_000, "tokens_per_request": 12_000})
    with pytest.raises(InputError) as info:  # 70 + 3.932 = 73.93 GB > 72 GB
        resolve(big, AS_OF)
    msg = str(info.value)
    assert "llama-3.1-70b fp8" in msg and "1x H100" in msg and "73.9 GB" in msg and "72.0 GB" in msg
    e = evaluate_scenario(_capacity_scenario({"gpu": "aws-p5.4xlarge", "model": "llama-3.1-70b", "precision": "fp8"}), AS_OF)
    d = e.options["self_hosted"].details
    assert rel(d["memory_needed_gb"], 70.32768) and d["memory_available_gb"] == 72.0


def test_capacity_from_a_published_output_rate_at_its_mix():
    # Lambda, 1x H100, Llama 3.1 70B FP8: 418.92 out tok/s at 205 in / 197 out
    # -> 418.92 / 197 x 402 = 854.852 tokens/s on the one GPU, 73.86M tokens/day
    sh = resolve(_capacity_scenario({"gpu": "aws-p5.4xlarge", "model": "llama-3.1-70b", "precision": "fp8"}), AS_OF).option("self_hosted")
    assert rel(sh.tokens_per_second_per_gpu, 418.92 / 197 * 402) and sh.gpus_per_instance == 1
    assert sh.instance_hourly_usd == 6.88 and sh.throughput_as_of == "2024-09-07"
    assert "LambdaLabsML/vllm-benchmark" in sh.throughput_source and "differs" in sh.throughput_source
    # p4de (8x A100-80GB), 12,000-token requests: 1x A100 does not fit (73.93 > 72 GB); the best
    # fitting configuration is 2x A100 (662.64 out tok/s) run as 4 replicas:
    # 4 x 662.64 / 197 x 402 x 86,400 = 467.3M tokens/day; per GPU 467.3M / 86,400 / 8 = 676.09 tok/s
    claims = _capacity_scenario({"gpu": "aws-p4de.24xlarge", "model": "llama-3.1-70b", "precision": "fp8"},
                                {"tokens_per_day": 120_000_000, "tokens_per_request": 12_000})
    sh = resolve(claims, AS_OF).option("self_hosted")
    assert rel(sh.tokens_per_second_per_gpu, 4 * 662.64 / 197 * 402 / 8) and sh.instance_hourly_usd == 27.44705
    assert "4 replicas of 2x A100-80GB" in sh.throughput_source


def test_capacity_from_prefill_and_decode_uses_the_scenario_mix():
    # a figure with both rates: 10,000 prefill, 1,000 decode tokens/s. 800 in / 200 out per request:
    # 0.08 + 0.2 = 0.28 s per request -> 1,000 / 0.28 = 3,571.43 tokens/s; 200 in / 800 out:
    # 0.02 + 0.8 = 0.82 s -> 1,219.51 tokens/s
    figure = ThroughputFigure(model="llama-3.1-8b", gpu="H100", gpus=1, tensor_parallel=1, precision="fp8", engine="test",
                              prefill_tokens_per_second=10_000, decode_tokens_per_second=1_000, concurrency="full batch",
                              source="hand-made figure for this test", as_of="2026-01-01")
    assert rel(figure.tokens_per_day(800, 200), 86_400 * 1000 / 0.28)
    assert rel(figure.tokens_per_day(200, 800), 86_400 * 1000 / 0.82)
    assert rel(cap.tokens_per_day_from_rates(10_000, 1_000, 1_000, 200), 345_600_000)


def test_a_combination_without_published_throughput_is_refused():
    with pytest.raises(InputError) as info:
        resolve(_capacity_scenario({"gpu": "aws-p5.48xlarge", "model": "qwen-2.5-72b", "precision": "fp8"}), AS_OF)
    assert info.value.field == "self_hosted.model" and "published throughput" in str(info.value)
    assert "nothing is published for qwen-2.5-72b" in str(info.value) and "no figure is estimated" in str(info.value)
    with pytest.raises(InputError, match="published for llama-3.1-70b: llama-3.1-70b fp8 on 1x A100-80GB"):
        resolve(_capacity_scenario({"gpu": "aws-p4d.24xlarge", "model": "llama-3.1-70b", "precision": "int4"}), AS_OF)


def test_legacy_model_size_keys_are_refused_with_a_pointer():
    s = _capacity_scenario({"gpu": "aws-g5.12xlarge", "model_size": "70b-q4"})
    with pytest.raises(InputError) as info:
        resolve(s, AS_OF)
    assert info.value.field == "self_hosted.model_size" and "model and precision" in str(info.value)
    assert "no published throughput" in str(info.value)
    # with the user's own throughput the key is only a label: the user's figure wins
    own = resolve(_capacity_scenario({"gpu": "aws-g5.12xlarge", "model_size": "70b-q4", "tokens_per_second_per_gpu": 150}), AS_OF)
    assert own.option("self_hosted").tokens_per_second_per_gpu == 150


def test_user_values_win_and_are_said_to_be_theirs():
    s = _capacity_scenario({"gpu": "aws-p5.4xlarge", "model": "llama-3.1-70b", "precision": "fp8",
                            "tokens_per_second_per_gpu": 600, "instance_hourly_usd": 5.0})
    sh = resolve(s, AS_OF).option("self_hosted")
    assert (sh.tokens_per_second_per_gpu, sh.instance_hourly_usd) == (600, 5.0)
    assert sh.throughput_source.startswith("your value") and sh.price_source.startswith("your value")
    assert sh.memory_needed_gb is None  # no catalog throughput used, so no catalog memory check


def test_instance_capacity_picks_the_best_fitting_configuration():
    inst, model = lookup_instance("lambda-h100-8"), lookup_model("llama-3.1-8b")
    c = instance_capacity(inst, model, "fp8", input_tokens=None, output_tokens=None, context_tokens=402)
    # 1x H100 3,400.4 x 8 replicas beats 2x 3,688.64 x 4, 4x 3,475.27 x 2 and 8x 3,931.83 x 1
    assert c.replicas == 8 and c.figure.gpus == 1
    assert rel(c.tokens_per_day, 8 * 3400.4 / 197 * 402 * 86_400)


def test_a_configuration_published_at_several_mixes_uses_the_mix_nearest_yours():
    # TensorRT-LLM 1.0, Llama 3.3 70B FP8 on 2x H100 (TP2), p5.48xlarge = 8x H100: 4 replicas.
    # 2,000-token requests at 90% input (1,800 in / 200 out): nearest published mix 2,048/128
    # (ln(1800/2048)^2 + ln(200/128)^2 = 0.0167 + 0.1991 = 0.216; 1000/1000: 0.345 + 2.590).
    # 762 out tok/s / 128 x 2,176 tokens x 86,400 s x 4 replicas = 4,476.6M tokens/day.
    volume = {"tokens_per_day": 500_000_000, "tokens_per_request": 2000, "input_share": 0.9}
    sh = resolve(_capacity_scenario({"gpu": "aws-p5.48xlarge", "model": "llama-3.3-70b", "precision": "fp8"}, volume),
                 AS_OF).option("self_hosted")
    assert rel(sh.tokens_per_second_per_gpu, 4 * 762 / 128 * 2176 / 8)
    assert "nearest of 10 published mixes (2048 in / 128 out)" in sh.throughput_source
    assert "TensorRT-LLM" in sh.throughput_source and sh.throughput_as_of == "2026-12-02"
    # the same model and GPUs on a generation-heavy mix (200 in / 1,800 out): nearest 128/2,048,
    # 6,651 out tok/s / 2,048 x 2,176 x 4 / 8 = 3,533.7 tok/s per GPU, 0.55x the prompt-heavy 6,477
    heavy = resolve(_capacity_scenario({"gpu": "aws-p5.48xlarge", "model": "llama-3.3-70b", "precision": "fp8"},
                                       {**volume, "input_share": 0.1}), AS_OF).option("self_hosted")
    assert rel(heavy.tokens_per_second_per_gpu, 4 * 6651 / 2048 * 2176 / 8)
    assert "(128 in / 2048 out)" in heavy.throughput_source


def test_several_published_mixes_without_a_request_size_are_refused():
    s = _capacity_scenario({"gpu": "aws-p5en.48xlarge", "model": "llama-3.1-8b", "precision": "fp8"},
                           {"tokens_per_day": 100_000_000})
    with pytest.raises(InputError) as info:
        resolve(s, AS_OF)
    assert info.value.field == "volume.tokens_per_request"
    assert "published at 10 request mixes" in str(info.value) and "2048/128" in str(info.value)


def test_a_single_figure_configuration_keeps_its_one_mix():
    # vLLM's one figure per configuration is used at any mix, as before (and the result says the mix differs)
    inst, model = lookup_instance("lambda-h100-8"), lookup_model("llama-3.1-8b")
    c = instance_capacity(inst, model, "fp8", input_tokens=3000, output_tokens=100, context_tokens=3100)
    assert c.figure.engine == "vLLM 0.5.4" and "differs" in c.rule

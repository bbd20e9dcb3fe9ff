"""The CLI through Typer's runner."""

import json

import pytest
from typer.testing import CliRunner

from runrate_xl import __version__
from runrate_xl.cli import app
from runrate_xl.presets import presets

runner = CliRunner()


def test_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and __version__ in r.output


def test_presets_lists_all():
    r = runner.invoke(app, ["presets"])
    assert r.exit_code == 0
    for name in presets():
        assert name in r.output


@pytest.mark.parametrize("name", sorted(presets()))
def test_evaluate_every_preset(name):
    r = runner.invoke(app, ["evaluate", "--preset", name])
    assert r.exit_code == 0, r.output
    assert "Recommendation:" in r.output and "Break-even" in r.output


def test_evaluate_json_matches_engine():
    r = runner.invoke(app, ["evaluate", "--preset", "seed003-50m-80pct", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["options"]["self_hosted"]["total_monthly"] == 5175.0
    assert data["options"]["api"]["total_monthly"] == 360.0
    assert data["breakeven"]["tokens_per_day"] is None  # capacity-true: the API is cheaper at every volume
    single = next(b for b in data["breakevens"] if b["option_b"] == "single-box")
    assert single["tokens_per_day"] == 718750000.0  # the article's single-box reading


def test_evaluate_file_and_schema(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: From file\nvolume: {tokens_per_day: 50000000}\napi: {input_price_per_1m: 0.15, output_price_per_1m: 0.6}\n")
    r = runner.invoke(app, ["evaluate", str(f)])
    assert r.exit_code == 0 and "$360" in r.output
    r = runner.invoke(app, ["schema"])
    assert r.exit_code == 0 and json.loads(r.stdout)["title"] == "Scenario"


def test_bad_input_is_one_clear_message(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("volume: {tokens_per_day: -1}\napi: {input_price_per_1m: 1, output_price_per_1m: 1, colour: red}\n")
    r = runner.invoke(app, ["evaluate", str(f)])
    assert r.exit_code == 1
    assert "volume.tokens_per_day" in r.output and "api.colour" in r.output
    assert "Traceback" not in r.output


def test_usage_errors():
    assert runner.invoke(app, ["evaluate"]).exit_code == 2
    r = runner.invoke(app, ["evaluate", "--preset", "nope"])
    assert r.exit_code == 1 and "preset" in r.output
    r = runner.invoke(app, ["evaluate", "--preset", "seed003-50m-80pct", "--as-of", "yesterday"])
    assert r.exit_code == 2 and "--as-of" in r.output


def test_prices_shows_sources():
    r = runner.invoke(app, ["prices", "gemini-1.5-pro", "--as-of", "2026-11-23"])
    assert r.exit_code == 0
    assert "genai-prices" in r.output and "convention" in r.output and "128,000" in r.output
    r = runner.invoke(app, ["prices", "nope-nope-model"])
    assert r.exit_code == 1 and "nope-nope-model" in r.output


def test_scenario_round_trips_through_yaml(tmp_path):
    r = runner.invoke(app, ["scenario", "seed000-1m-inferences"])
    assert r.exit_code == 0
    f = tmp_path / "s.yaml"
    f.write_text(r.stdout)
    from runrate_xl.api import load_scenario

    assert load_scenario(f) == presets()["seed000-1m-inferences"].scenario


def test_gpus_lists_the_catalog_with_sources_and_the_price_in_force():
    r = runner.invoke(app, ["gpus", "--as-of", "2025-01-15"])
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if "aws-p4d.24xlarge" in line)
    assert "32.7726" in row  # before the June 2025 cut
    assert "seed 003's cloud GPU table" in r.output and "Cyclenerd" in r.output
    after = runner.invoke(app, ["gpus", "--as-of", "2025-07-01"])
    assert "21.9576" in next(line for line in after.output.splitlines() if "aws-p4d.24xlarge" in line)
    for flag, expected in (("--models", "qwen-2.5-72b"), ("--throughput", "LambdaLabsML"), ("--servers", "configiq")):
        out = runner.invoke(app, ["gpus", flag])
        assert out.exit_code == 0 and expected in out.output, (flag, out.output[-500:])


def test_gpus_output_escapes_catalog_text(monkeypatch):
    from runrate_xl.catalog import instances

    real = instances.instance_catalog()
    first = next(iter(real.values()))
    price = first.prices[0].model_copy(update={"source": "evil \x1b[31mred\x1b[0m source text"})
    monkeypatch.setattr("runrate_xl.catalog.instance_catalog", lambda: {first.id: first.model_copy(update={"prices": [price]})})
    r = runner.invoke(app, ["gpus"])
    assert r.exit_code == 0 and "\x1b" not in r.output and "\\x1b" in r.output

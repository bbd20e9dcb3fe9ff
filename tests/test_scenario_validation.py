"""Bad scenario input gets an error naming the field, the value and what was expected."""

import pytest

from runrate_xl.api import ScenarioError, evaluate_scenario, load_scenario_text, scenario_from_dict
from runrate_xl.engine.errors import InputError

BASE = {
    "name": "X",
    "volume": {"tokens_per_day": 1e6},
    "api": {"input_price_per_1m": 1, "output_price_per_1m": 2},
    "self_hosted": {"infra_monthly": 1000, "utilization": 0.8},
}


def with_(path, value):
    import copy

    data = copy.deepcopy(BASE)
    obj = data
    parts = path.split(".")
    for p in parts[:-1]:
        obj = obj.setdefault(p, {})
    obj[parts[-1]] = value
    return data


@pytest.mark.parametrize(
    "path, value, expected_text",
    [
        ("volume.tokens_per_day", -5, "greater than or equal to 0"),
        ("volume.input_share", 80, "use 0.8"),
        ("volume.input_share", float("nan"), "finite"),
        ("api.input_price_per_1m", float("inf"), "finite"),
        ("self_hosted.utilization", 0, "utilization > 0"),
        ("self_hosted.utilization", 1.5, "utilization > 0 and <= 1"),
        ("self_hosted.utilization", 80, "use 0.8"),
        ("self_hosted.fte", -1, "greater than or equal to 0"),
        ("api.hidden.review_share", 5, "use 0.05"),
        ("volume.days_per_month", 40, "less than or equal to 31"),
        ("horizon.months", 0, "greater than or equal to 1"),
        ("context.data_privacy", "secret", "'minimal', 'moderate' or 'strict'"),
        ("api.colour", "blue", "no such field"),
        ("volume.tokens_per_day", "lots", "valid number"),
    ],
)
def test_bad_field_is_named(path, value, expected_text):
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(with_(path, value))
    fields = [p[0] for p in info.value.problems]
    assert path in fields, fields
    assert expected_text in str(info.value)
    assert path in str(info.value)


def test_every_problem_is_reported_at_once():
    data = with_("volume.input_share", 2)
    data["self_hosted"]["utilization"] = 0
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data)
    assert {p[0] for p in info.value.problems} >= {"volume.input_share", "self_hosted.utilization"}


def test_cross_field_rules():
    with pytest.raises(ScenarioError, match="tokens_per_day, or requests_per_month together with tokens_per_request"):
        scenario_from_dict(with_("volume", {"requests_per_month": 10}))
    with pytest.raises(ScenarioError, match="disagrees"):
        scenario_from_dict(with_("volume", {"tokens_per_day": 1000, "requests_per_month": 30, "tokens_per_request": 10}))
    with pytest.raises(ScenarioError, match="review_share > 0 needs cost_per_review"):
        scenario_from_dict(with_("api.hidden", {"review_share": 0.1}))
    with pytest.raises(ScenarioError, match="simple mode needs utilization"):
        scenario_from_dict(with_("self_hosted", {"infra_monthly": 10}))
    with pytest.raises(ScenarioError, match="current_option"):
        scenario_from_dict(with_("context.current_option", "fine_tuned"))


def test_per_request_costs_need_a_request_size():
    s = scenario_from_dict(with_("api.hidden", {"review_share": 0.1, "cost_per_review": 5}))
    with pytest.raises(InputError) as info:
        evaluate_scenario(s)
    assert info.value.field == "volume.tokens_per_request"


def test_unknown_model_is_named():
    s = scenario_from_dict(with_("api", {"model": "no-such-model-xyz"}))
    with pytest.raises(InputError) as info:
        evaluate_scenario(s)
    assert info.value.field == "model" and info.value.value == "no-such-model-xyz"


def test_unknown_gpu_is_named():
    s = scenario_from_dict(with_("self_hosted", {"mode": "capacity", "gpu": "tpu-v9", "model": "llama-3.1-8b", "precision": "fp8"}))
    with pytest.raises(InputError, match="self_hosted.gpu"):
        evaluate_scenario(s)


def test_yaml_errors_are_clear():
    with pytest.raises(ScenarioError, match="valid YAML"):
        load_scenario_text("volume: [unclosed", "x.yaml")
    with pytest.raises(ScenarioError, match="a mapping of fields"):
        load_scenario_text("- just\n- a list\n", "x.yaml")

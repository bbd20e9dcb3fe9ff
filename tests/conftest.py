import math

import pytest

from runrate_xl.api import scenario_from_dict


def rel(a, b, tol=1e-9):
    """True when a and b agree to ``tol`` relative (absolute near zero)."""
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.fixture
def make_scenario():
    def make(**overrides):
        data = {
            "name": "Test BU",
            "volume": {"tokens_per_day": 50_000_000},
            "api": {"input_price_per_1m": 0.15, "output_price_per_1m": 0.60},
            # seed 003's single-box reading, stated: these hand-computed tests check the affine
            # arithmetic (closed-form break-evens); tests/test_capacity_binds.py checks the default
            "self_hosted": {"mode": "simple", "infra_monthly": 4140, "utilization": 0.8, "fte": 0, "capacity_basis": "unlimited"},
        }
        for key, value in overrides.items():
            if value is None:
                data.pop(key, None)
            elif isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return scenario_from_dict(data)

    return make

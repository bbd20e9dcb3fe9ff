"""Every preset, example scenario and example business unit gives the golden numbers (frozen
before Engine v2; see tests/golden_files.py)."""

from __future__ import annotations

import json

import pytest

from tests.golden_files import GOLDEN, batch_summary, differences, evaluations, figures

CASES = dict(evaluations())


def test_every_golden_file_has_a_case():
    stored = {p.stem for p in GOLDEN.glob("*.json")} - {"batch-summary"}
    assert stored == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_numbers_as_golden(name):
    expected = json.loads((GOLDEN / f"{name}.json").read_text())
    assert differences(expected, figures(CASES[name])) == []


def test_example_batch_summary_as_golden(tmp_path):
    expected = json.loads((GOLDEN / "batch-summary.json").read_text())
    assert differences(expected, batch_summary(tmp_path / "out")) == []


def test_comparison_catches_a_changed_number():
    name = sorted(CASES)[0]
    expected = json.loads((GOLDEN / f"{name}.json").read_text())
    actual = figures(CASES[name])
    actual["options"]["api"]["total_monthly"] *= 1 + 1e-9
    assert differences(expected, actual) == [
        f"options.api.total_monthly: golden {expected['options']['api']['total_monthly']!r}, "
        f"now {actual['options']['api']['total_monthly']!r}"
    ]

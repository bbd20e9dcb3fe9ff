"""Output folder names from untrusted BU names: safe, unique, deterministic."""

import re

from hypothesis import given, strategies as st

from runrate_xl.batch.naming import TOP_LEVEL_NAMES, unique_names

SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


def test_traversal_reserved_and_duplicates():
    names = unique_names(["../../etc/passwd", "CON", "", ".bashrc", "Customer support", "customer support",
                          "Customer/Support", "portfolio.xlsx", "run.log"])
    assert names == ["etc-passwd", "_CON", "unnamed", "bashrc", "Customer-support", "customer-support-2",
                     "Customer-Support-3", "portfolio.xlsx-2", "run.log-2"]


def test_a_later_literal_suffix_never_collides():
    assert unique_names(["x", "x", "x-2"]) == ["x", "x-2", "x-2-2"]


@given(st.lists(st.text(max_size=150), max_size=25))
def test_names_are_safe_unique_and_deterministic(raw):
    names = unique_names(raw)
    assert names == unique_names(raw)
    assert len(names) == len(raw)
    lowered = [n.lower() for n in names]
    assert len(set(lowered)) == len(lowered)
    assert not set(lowered) & {t.lower() for t in TOP_LEVEL_NAMES}
    for n in names:
        assert SAFE.match(n), n
        assert ".." not in n.split("/") and "/" not in n and "\\" not in n
        assert len(n) <= 70

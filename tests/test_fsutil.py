"""Atomic writes and safe file names (shared by every adapter that writes files)."""

import os

import pytest

from runrate_xl.fsutil import atomic_write_bytes, atomic_write_text, safe_filename


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Customer support", "Customer-support"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", "unnamed"),
        ("", "unnamed"),
        ("CON", "_CON"),
        ("lpt1.txt", "_lpt1.txt"),
        ("=HYPERLINK(\"http://x\")", "HYPERLINK-http-x"),
        ("Café Zürich / Ops", "Cafe-Zurich-Ops"),
        (".hidden", "hidden"),
        ("a\\b:c*d?e", "a-b-c-d-e"),
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_is_bounded():
    assert len(safe_filename("x" * 500)) <= 80


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(target.parent) == ["file.bin"]


def test_atomic_write_honours_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        target = atomic_write_bytes(tmp_path / "f.bin", b"x")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644


def test_atomic_write_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")

    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["file.txt"]

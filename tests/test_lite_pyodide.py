"""xlwings Lite: the core's whole dependency closure installs in Pyodide.

Pyodide (the Python xlwings Lite runs in the browser) installs a distribution only if it is one
of the packages Pyodide builds itself (listed in ``pyodide-lock.json`` of the ``pyodide`` npm
package) or has a pure-Python ``py3-none-any`` wheel. This test resolves the requirements of a
core-only runrate_xl the way micropip does, with Pyodide's environment markers
(sys_platform == "emscripten", Pyodide's Python version): a package Pyodide ships is used at
Pyodide's version when it satisfies every requirement on it, anything else must have a pure
wheel on the package index (fetched with pip's ordinary client, ``--platform any``).

Needs the lock files (``scripts/fetch-pyodide-lock.sh`` puts them in .cache/pyodide/; .ci/run does)
and the package index. Without them it skips, unless RUNRATE_REQUIRE_LITE_CHECK=1 (CI), where a
skip would hide a broken Lite install and so fails instead.
"""

import json
import os
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from runrate_xl.excel_setup import LITE_BASE_REQUIREMENTS, lite_requirements

ROOT = Path(__file__).resolve().parent.parent
# 0.27.7: Python 3.12, the Pyodide line xlwings Lite has shipped; 314.0.8: Python 3.14, the newest.
PYODIDE_VERSIONS = os.environ.get("RUNRATE_PYODIDE_VERSIONS", "0.27.7 314.0.8").split()
CACHE = ROOT / ".cache" / "pyodide"
REQUIRED = os.environ.get("RUNRATE_REQUIRE_LITE_CHECK") == "1"
RUNTIME_PROVIDED = {"xlwings"}  # xlwings Lite's runtime provides xlwings itself


def _skip_or_fail(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason} (RUNRATE_REQUIRE_LITE_CHECK=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module", params=PYODIDE_VERSIONS)
def lock(request):
    path = CACHE / request.param / "pyodide-lock.json"
    if not path.is_file():
        _skip_or_fail(f"no Pyodide package list at {path}: run scripts/fetch-pyodide-lock.sh {request.param}")
    data = json.loads(path.read_text())
    assert data["info"].setdefault("version", request.param) == request.param  # 314.x lock files omit it
    return data


def marker_env(lock) -> dict:
    py = lock["info"]["python"]  # e.g. "3.12.7"
    return {
        "python_version": ".".join(py.split(".")[:2]), "python_full_version": py, "sys_platform": "emscripten",
        "platform_system": "Emscripten", "platform_machine": "wasm32", "os_name": "posix",
        "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": "",
    }


def core_requirements() -> list[Requirement]:
    """runrate_xl's own requirements without any extra (from the installed metadata)."""
    reqs = [Requirement(r) for r in requires("runrate_xl") or []]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]


def pure_wheel(req: Requirement, py_version: str, cache: Path) -> Path | None:
    """The newest py3-none-any wheel on the index satisfying ``req``, or None."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--platform", "any",
           "--implementation", "py", "--abi", "none", "--python-version", py_version, "-d", str(cache), f"{req.name}{req.specifier}"]  # markers: already evaluated for Pyodide
    before = set(cache.iterdir())
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        if "No matching distribution" in done.stderr or "from versions: none" in done.stderr or "Could not find a version" in done.stderr:
            return None
        _skip_or_fail(f"pip download failed (no package index?): {done.stderr.strip()[-300:]}")
    found = [p for p in cache.iterdir() if p not in before or canonicalize_name(p.name.split("-")[0]) == canonicalize_name(req.name)]
    assert found, f"pip download {req} succeeded but wrote no wheel"
    wheel = found[-1]
    assert wheel.name.endswith("-none-any.whl"), wheel.name
    return wheel


def wheel_requirements(wheel: Path) -> tuple[str, list[Requirement]]:
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        msg = Parser().parsestr(z.read(meta).decode("utf-8"))
    return msg["Version"], [Requirement(r) for r in msg.get_all("Requires-Dist") or []]


def resolve_for_pyodide(lock, tmp_path) -> tuple[dict, list[str]]:
    """{name: (where, version)} for the core's closure in Pyodide, and the problems found."""
    packages = {canonicalize_name(k): v for k, v in lock["packages"].items()}
    env = marker_env(lock)
    chosen: dict[str, tuple[str, str]] = {}
    specs: dict[str, list[Requirement]] = {}
    problems: list[str] = []
    queue = [(r, "runrate_xl") for r in core_requirements()]
    while queue:
        req, parent = queue.pop(0)
        name = canonicalize_name(req.name)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        if name in RUNTIME_PROVIDED:
            continue
        specs.setdefault(name, []).append(req)
        if name in chosen:
            where, version = chosen[name]
            if not req.specifier.contains(version, prereleases=True):
                problems.append(f"{parent} needs {req}, but {name} {version} ({where}) was chosen")
            continue
        entry = packages.get(name)
        if entry is not None and all(r.specifier.contains(entry["version"], prereleases=True) for r in specs[name]):
            chosen[name] = ("pyodide", entry["version"])
            queue += [(Requirement(d), name) for d in entry.get("depends", [])]
            continue
        wheel = pure_wheel(req, env["python_version"], tmp_path)
        if wheel is None:
            pyodide = lock["info"]["version"]
            have = f"Pyodide {pyodide} ships {entry['version']}" if entry else f"not in Pyodide {pyodide}"
            problems.append(f"{parent} needs {req}: {have} and no pure-Python py3-none-any wheel satisfies it")
            continue
        version, deps = wheel_requirements(wheel)
        chosen[name] = ("pure wheel", version)
        queue += [(d, name) for d in deps]
    return chosen, problems


def test_core_dependency_closure_installs_in_pyodide(lock, tmp_path):
    chosen, problems = resolve_for_pyodide(lock, tmp_path)
    assert problems == []
    # the compiled ones must come from Pyodide's own builds
    assert chosen["pydantic-core"][0] == "pyodide" and chosen["pyyaml"][0] == "pyodide"
    assert {"pydantic", "pyyaml", "genai-prices"} <= set(chosen)
    # nothing from the extras sneaked into the core
    assert not {"openpyxl", "weasyprint", "matplotlib", "typer", "rich", "jinja2"} & set(chosen), chosen


def test_lite_requirements_name_only_the_core():
    core = [canonicalize_name(r.name) for r in core_requirements()]
    assert [canonicalize_name(n) for n in LITE_BASE_REQUIREMENTS] == ["xlwings", *core]
    lines = [ln for ln in lite_requirements().splitlines() if ln and not ln.startswith("#")]
    assert [canonicalize_name(ln) for ln in lines] == ["xlwings", *core]

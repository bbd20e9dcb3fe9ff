"""Run runrate_xl's core in a real Pyodide on Node, with packages only from the registries.

Pyodide's own package CDN is not reachable from CI, so nothing comes from it: Pyodide itself is
the `pyodide` npm package, and every distribution of the core's closure comes from the Python
package index: a pure-Python py3-none-any wheel, or a wheel built for this Pyodide's platform
(pydantic-core publishes pyemscripten wheels for Pyodide 314). PyYAML has neither, so its
pure-Python package is taken from its sdist (PyYAML runs without its optional C extension).
The wheels are unpacked into site-packages (no micropip: it is a CDN package too), then
runrate_xl.udfs is imported and the RUNRATE_* functions and a preset evaluation are called.

Usage: python scripts/pyodide_smoke.py   (needs node, npm, pip's index; about a minute)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
VERSION = "314.0.8"  # Python 3.14: the first Pyodide for which pydantic-core is on PyPI
PY, PLATFORM = "3.14", "pyemscripten_2026_0_wasm32"
ENV = {"python_version": PY, "python_full_version": PY + ".2", "sys_platform": "emscripten", "platform_system": "Emscripten",
       "platform_machine": "wasm32", "os_name": "posix", "implementation_name": "cpython",
       "platform_python_implementation": "CPython", "extra": ""}
RUNTIME_PROVIDED = {"xlwings"}
PIP = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, **kw)


def fetch_pyodide(cache: Path) -> Path:
    package = cache / VERSION / "package"
    if not (package / "pyodide.mjs").is_file():
        package.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            run(["npm", "pack", "--silent", f"pyodide@{VERSION}"], cwd=tmp)
            with tarfile.open(Path(tmp) / f"pyodide-{VERSION}.tgz") as tar:
                tar.extractall(package.parent, filter="data")
    return package


def download(req: Requirement, dest: Path) -> Path | None:
    spec = f"{req.name}{req.specifier}"
    for tags in (["--platform", "any", "--implementation", "py", "--abi", "none"],
                 ["--platform", PLATFORM, "--implementation", "cp", "--abi", f"cp{PY.replace('.', '')}"]):
        before = set(dest.iterdir())
        done = subprocess.run([*PIP, "--only-binary=:all:", *tags, "--python-version", PY, "-d", dest, spec], capture_output=True, text=True)
        new = [p for p in dest.iterdir() if p not in before]
        if done.returncode == 0 and new:
            return new[0]
    return None


def pure_pyyaml(req: Requirement, dest: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        run([*PIP, "--no-binary=:all:", "-d", tmp, f"{req.name}{req.specifier}"])
        sdist = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        lib = next(Path(tmp).glob("*/lib"))
        target = dest / f"pyyaml_pure-{sdist.name[len('pyyaml-'):-len('.tar.gz')]}-py3-none-any.whl"
        with zipfile.ZipFile(target, "w") as z:
            for f in (lib / "yaml").rglob("*.py"):
                z.write(f, f.relative_to(lib))
    return target


def requirements_of(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as z:
        meta = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        if not meta:
            return []
        msg = Parser().parsestr(z.read(meta[0]).decode("utf-8"))
    return [Requirement(r) for r in msg.get_all("Requires-Dist") or []]


def main() -> int:
    cache = ROOT / ".cache" / "pyodide"
    package = fetch_pyodide(cache)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = Path(tmp) / "wheels"
        wheels.mkdir()
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels, ROOT])
        queue = requirements_of(next(wheels.glob("runrate_xl-*.whl")))
        seen: set[str] = set()
        while queue:
            req = queue.pop(0)
            name = canonicalize_name(req.name)
            if name in seen or name in RUNTIME_PROVIDED or (req.marker is not None and not req.marker.evaluate(ENV)):
                continue
            seen.add(name)
            wheel = pure_pyyaml(req, wheels) if name == "pyyaml" else download(req, wheels)
            if wheel is None:
                print(f"FAIL: {req}: no pure-Python or {PLATFORM} wheel on the index", file=sys.stderr)
                return 1
            print(f"  {wheel.name}")
            queue += requirements_of(wheel)
        done = subprocess.run(["node", ROOT / "scripts" / "pyodide_smoke.mjs", package, wheels], capture_output=True, text=True, timeout=600)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        return 1
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["platform"] == "emscripten", result
    assert round(result["breakeven"]) == 115_000_000, result
    assert result["bad_input"].startswith("#NUM!"), result
    assert result["recommend"] and result["preset_recommendation"], result
    print(f"OK: runrate_xl core ran in Pyodide {VERSION} (Python {result['python']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

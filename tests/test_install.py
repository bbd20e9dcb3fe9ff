"""The install routes, for real: build the sdist and wheel (``python -m build``: the wheel is
built from the sdist), install the wheel into fresh virtual environments outside the checkout
and run the README's commands from another folder.

Marked ``install`` and left out of the default run (it takes a few minutes and the package
index); ``.ci/run`` runs it with ``pytest -m install``.
"""

import email
import os
import subprocess
import sys
import venv
import zipfile
from email import policy
from pathlib import Path

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parent.parent
EXTRA_MODULES = ("openpyxl", "defusedxml", "jinja2", "weasyprint", "matplotlib", "pypdf", "typer", "rich", "xlwings")


def run(cmd, cwd, env=None, check=True, timeout=900):
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} -> {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def clean_env() -> dict:
    """No trace of the checkout or of the test venv: the installed package must stand alone."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "RUNRATE_TEMPLATES")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT)))
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", dist, ROOT], cwd=ROOT)
    wheels, sdists = list(dist.glob("runrate_xl-*.whl")), list(dist.glob("runrate_xl-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    return wheels[0]


def tracked_files() -> list[str]:
    out = run(["git", "ls-files", "runrate_xl", "report_templates", "workbook_templates"], cwd=ROOT).stdout.split()
    return [f for f in out if not f.endswith((".pyc",))]


def test_wheel_holds_every_package_file(built):
    names = set(zipfile.ZipFile(built).namelist())
    expected = set()
    for f in tracked_files():
        if f.startswith(("report_templates/", "workbook_templates/")):
            f = "runrate_xl/" + f  # mapped into the package
        expected.add(f)
    missing = sorted(expected - names)
    assert missing == [], f"the wheel lacks {missing}"
    assert "runrate_xl/report_templates/memo.html" in names and "runrate_xl/workbook_templates/scenario.xlsx" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "examples/"))]


def make_venv(path: Path, requirement: str) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    bin_dir = path / ("Scripts" if os.name == "nt" else "bin")
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", requirement], cwd=path.parent, env=clean_env())
    return bin_dir


def test_full_install_runs_the_readme_commands_outside_the_checkout(built, tmp_path):
    bin_dir = make_venv(tmp_path / "venv-all", f"{built}[all]")
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = clean_env()
    where = run([bin_dir / "python", "-c", "import runrate_xl; print(runrate_xl.__file__)"], cwd=work, env=env).stdout
    assert str(ROOT) not in where and "site-packages" in where

    run([bin_dir / "runrate", "batch", ROOT / "examples" / "business_units.xlsx", "--out", "out", "--mail", "drafts",
         "--as-of", "2026-11-23", "--no-progress"], cwd=work, env=env)
    out = work / "out"
    units = [d for d in out.iterdir() if d.is_dir()]
    assert len(units) == 10
    for d in units:
        for suffix in (".xlsx", ".pdf", ".eml"):
            files = list(d.glob(f"*{suffix}"))
            assert len(files) == 1, f"{d.name}: {suffix} missing"
        assert len(PdfReader(next(d.glob("*.pdf"))).pages) >= 1
        msg = email.message_from_bytes(next(d.glob("*.eml")).read_bytes(), policy=policy.default)
        assert any(p.get_content_type() == "application/pdf" for p in msg.iter_attachments())
    for name in ("portfolio.xlsx", "portfolio.pdf", "summary.csv", "summary.json", "run.log"):
        assert (out / name).is_file(), name

    run([bin_dir / "runrate", "memo", "--preset", "seed000-1m-inferences", "-o", "m.pdf"], cwd=work, env=env)
    assert len(PdfReader(work / "m.pdf").pages) >= 1
    run([bin_dir / "runrate", "workbook", "--preset", "capacity-growth", "-o", "w.xlsx"], cwd=work, env=env)
    assert zipfile.ZipFile(work / "w.xlsx").testzip() is None
    run([bin_dir / "runrate", "excel", "-o", "f.xlsm", "--lite", "lite"], cwd=work, env=env)
    assert (work / "lite" / "main.py").is_file() and (work / "lite" / "requirements.txt").is_file()


def test_core_only_install_runs_the_excel_functions(built, tmp_path):
    bin_dir = make_venv(tmp_path / "venv-core", str(built))
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = clean_env()
    py = bin_dir / "python"
    installed = run([py, "-m", "pip", "list", "--format=freeze"], cwd=work, env=env).stdout.lower()
    for module in EXTRA_MODULES:
        assert f"\n{module}==" not in "\n" + installed, f"{module} installed by the core"
    run([py, "-c", "import runrate_xl.udfs"], cwd=work, env=env)
    code = (
        "from runrate_xl import udfs, evaluate_scenario\n"
        "from runrate_xl.presets import preset_scenario\n"
        "assert round(udfs.RUNRATE_BREAKEVEN(4140, 0.8, 1.5)) == 115_000_000, udfs.RUNRATE_BREAKEVEN(4140, 0.8, 1.5)\n"
        "assert udfs.RUNRATE_BREAKEVEN(4140, 80, 1.5).startswith('#')\n"
        "print(udfs.RUNRATE_RECOMMEND('seed000-1m-inferences'))\n"
        "ev = evaluate_scenario(preset_scenario('capacity-growth'))\n"
        "print(ev.recommendation.label)\n"
    )
    out = run([py, "-c", code], cwd=work, env=env).stdout.strip().splitlines()
    assert len(out) == 2 and all(out)

    # a missing extra: one line naming it, no traceback
    done = run([bin_dir / "runrate", "presets"], cwd=work, env=env, check=False)
    assert done.returncode == 1
    assert "'cli' extra" in done.stderr and "pip install 'runrate_xl[cli]'" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    done = run([py, "-c", "import runrate_xl.report"], cwd=work, env=env, check=False)
    assert done.returncode == 1 and "needs the 'memo' extra" in done.stderr and "runrate_xl[memo]" in done.stderr

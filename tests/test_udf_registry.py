"""Every public RUNRATE_* function is an xlwings UDF with a description and help for every argument.

On Linux ``xw.func``/``xw.arg``/``xw.ret`` are pass-through decorators (the Windows ones import
pywin32). To see the metadata Excel would get, the tests load xlwings' own Windows decorator code
(``xlfunc``/``xlarg``/``xlret`` from the installed ``xlwings/udfs.py``, without its COM imports)
and import ``runrate_xl.udfs`` again with them in place of the pass-through ones.
"""

import ast
import importlib.util
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

import xlwings
from runrate_xl import udfs
from runrate_xl.engine import functions as f
from runrate_xl.excel_setup import lite_main_py
from tests.conftest import rel

EXCEL_DOC_LIMIT = 255  # Excel's function wizard cuts descriptions here (xlwings does too)
ENGINE = {
    "RUNRATE_API_COST": f.api_cost, "RUNRATE_SELFHOST_COST": f.selfhost_cost, "RUNRATE_BREAKEVEN": f.breakeven,
    "RUNRATE_PAYBACK": f.payback, "RUNRATE_COST_PER_OUTCOME": f.cost_per_outcome, "RUNRATE_REASONING_COST": f.reasoning_cost,
}
REQUIRED = {
    "RUNRATE_API_COST", "RUNRATE_MODEL_COST", "RUNRATE_PRICE", "RUNRATE_SELFHOST_COST", "RUNRATE_BREAKEVEN",
    "RUNRATE_PAYBACK", "RUNRATE_COST_PER_OUTCOME", "RUNRATE_SCENARIO", "RUNRATE_TCO", "RUNRATE_ICEBERG",
    "RUNRATE_CROSSOVER", "RUNRATE_RECOMMEND", "RUNRATE_REASONS", "RUNRATE_REASONING_COST",
    "RUNRATE_MIX_COST", "RUNRATE_BEST_SPLIT",
}


def windows_decorators():
    """xlwings' real Windows decorators, compiled from the installed xlwings/udfs.py."""
    source_path = Path(xlwings.__file__).with_name("udfs.py")
    tree = ast.parse(source_path.read_text(encoding="utf-8"))
    wanted = {"func_sig", "get_category", "get_async_mode", "check_bool", "extract_type_and_annotations", "xlfunc", "xlarg", "xlret"}
    nodes = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
    assert {n.name for n in nodes} == wanted, "xlwings changed its udfs.py; update this test"
    import datetime as dt
    from typing import Annotated, Any, Callable, TypeVar, get_args, get_origin, get_type_hints

    namespace = {"inspect": inspect, "dt": dt, "Any": Any, "Callable": Callable, "Annotated": Annotated,
                 "get_args": get_args, "get_origin": get_origin, "get_type_hints": get_type_hints, "_F": TypeVar("_F")}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), str(source_path), "exec"), namespace)
    return namespace["xlfunc"], namespace["xlarg"], namespace["xlret"]


def load_with_windows_decorators(monkeypatch, name, path=None, source=None):
    xlfunc, xlarg, xlret = windows_decorators()
    monkeypatch.setattr(xlwings, "func", xlfunc)
    monkeypatch.setattr(xlwings, "arg", xlarg)
    monkeypatch.setattr(xlwings, "ret", xlret)
    if source is not None:
        module = types.ModuleType(name)
        exec(compile(source, name, "exec"), module.__dict__)
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def decorated():
    mp = pytest.MonkeyPatch()
    try:
        yield load_with_windows_decorators(mp, "runrate_xl._udfs_as_on_windows", path=udfs.__file__)
    finally:
        mp.undo()


def public_functions(module):
    return {n: getattr(module, n) for n in dir(module) if n.startswith("RUNRATE_") and callable(getattr(module, n))}


def test_import_xlwings_and_udfs_headless():
    code = "import xlwings, runrate_xl.udfs as u; print(len(u.FUNCTIONS), u.RUNRATE_BREAKEVEN(4140, 0.8, 1.5))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(len(udfs.FUNCTIONS)), "115000000.0"]


def test_registry_lists_every_public_function():
    assert REQUIRED <= set(udfs.FUNCTIONS)
    assert set(public_functions(udfs)) == set(udfs.FUNCTIONS)
    assert all(public_functions(udfs)[n] is fn for n, fn in udfs.FUNCTIONS.items())


def test_every_function_carries_xlwings_metadata(decorated):
    funcs = public_functions(decorated)
    assert set(funcs) == set(udfs.FUNCTIONS)
    helpers = [n for n in dir(decorated) if not n.startswith("RUNRATE_") and hasattr(getattr(decorated, n), "__xlfunc__")]
    assert helpers == []  # nothing else gets imported into Excel
    for name, fn in funcs.items():
        meta = fn.__xlfunc__
        assert meta["name"] == name and meta["sub"] is False
        assert meta["category"] == udfs.CATEGORY
        doc = meta["ret"]["doc"]
        assert doc and doc.strip() and len(doc) <= EXCEL_DOC_LIMIT, (name, len(doc or ""))
        params = list(inspect.signature(fn).parameters)
        assert [a["name"] for a in meta["args"]] == params
        for a in meta["args"]:
            assert not a["doc"].startswith("Positional argument"), (name, a["name"])
            assert a["doc"] == udfs.ARGUMENTS[a["name"]].doc and len(a["doc"]) <= EXCEL_DOC_LIMIT
            assert "convert" not in a["options"]  # raw Excel values reach the coercion helpers
        scenario = [a for a in meta["args"] if a["name"] == "scenario"]
        assert all(a["options"].get("ndim") == 2 for a in scenario)


def test_required_arguments_first_and_defaults_match_the_engine():
    for name, fn in udfs.FUNCTIONS.items():
        params = list(inspect.signature(fn).parameters.values())
        seen_optional = False
        for p in params:
            if p.default is inspect.Parameter.empty:
                assert not seen_optional, f"{name}: required {p.name} after an optional argument"
            else:
                seen_optional = True
        if name in ENGINE:
            engine = inspect.signature(ENGINE[name]).parameters
            for p in params:
                assert p.name in engine, (name, p.name)
                assert p.default == engine[p.name].default or (p.default is inspect.Parameter.empty and engine[p.name].default is inspect.Parameter.empty)


def test_issue_argument_orders():
    sig = {n: list(inspect.signature(fn).parameters) for n, fn in udfs.FUNCTIONS.items()}
    assert sig["RUNRATE_API_COST"] == ["tokens_per_day", "input_price_per_1m", "output_price_per_1m", "input_share", "days_per_month", "cached_share", "batch_share", "retry_rate"]
    assert sig["RUNRATE_MODEL_COST"] == ["model", "tokens_per_day", "input_share", "days_per_month", "cached_share", "batch_share", "retry_rate"]
    assert sig["RUNRATE_PRICE"] == ["model", "kind", "as_of"]
    assert sig["RUNRATE_SELFHOST_COST"] == ["infra_monthly", "utilization", "fte", "fte_annual_cost", "tooling_monthly"]
    assert sig["RUNRATE_BREAKEVEN"] == ["infra_monthly", "utilization", "price_per_1m", "days_per_month", "selfhost_fixed_monthly", "api_fixed_monthly"]
    assert sig["RUNRATE_TCO"] == ["scenario", "option", "months"]
    assert sig["RUNRATE_ICEBERG"] == ["scenario", "option"]
    assert sig["RUNRATE_MIX_COST"] == ["scenario", "option_a", "option_b", "share_a"]
    assert sig["RUNRATE_BEST_SPLIT"] == ["scenario", "option_a", "option_b"]


def test_lite_main_py_exposes_the_same_functions(monkeypatch):
    lite = load_with_windows_decorators(monkeypatch, "lite_main", source=lite_main_py())
    funcs = public_functions(lite)
    assert set(funcs) == set(udfs.FUNCTIONS)
    for name, fn in funcs.items():
        assert inspect.signature(fn) == inspect.signature(udfs.FUNCTIONS[name])
        meta = fn.__xlfunc__
        assert meta["ret"]["doc"] == inspect.getdoc(udfs.FUNCTIONS[name])
        assert {a["name"]: a["doc"] for a in meta["args"]} == {p: udfs.ARGUMENTS[p].doc for p in inspect.signature(fn).parameters}
    assert rel(funcs["RUNRATE_BREAKEVEN"](4140, 0.8, 1.5), 115e6)
    assert funcs["RUNRATE_TCO"]("seed003-50m-80pct") == udfs.RUNRATE_TCO("seed003-50m-80pct")
    assert funcs["RUNRATE_SELFHOST_COST"](4140, 80).startswith("#NUM! utilization")


def test_lite_main_py_is_plain_python_without_excel():
    # Under the pass-through decorators it imports and runs as well (no Excel, no Pyodide).
    module = types.ModuleType("lite_plain")
    exec(compile(lite_main_py(), "main.py", "exec"), module.__dict__)
    assert rel(module.RUNRATE_API_COST(50e6, 0.15, 0.6), 360.0)

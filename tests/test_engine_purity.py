"""The engine does arithmetic only: no file I/O, no adapter libraries (a design rule)."""

import ast
import pathlib
import sys

import runrate_xl.engine as engine

FORBIDDEN_MODULES = {"openpyxl", "xlwings", "jinja2", "weasyprint", "matplotlib", "yaml", "json", "csv",
                     "io", "os", "pathlib", "shutil", "tempfile", "sqlite3", "urllib", "requests", "httpx",
                     "socket", "smtplib", "subprocess", "importlib", "genai_prices"}
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "__import__"}


def engine_files():
    return sorted(pathlib.Path(engine.__file__).parent.rglob("*.py"))


def test_the_checks_cover_every_loaded_engine_module():
    """The rules below walk engine_files(); every engine module Python actually loaded must be
    among them (a top-level glob once skipped engine/kinds/)."""
    loaded = {pathlib.Path(m.__file__).resolve() for name, m in sys.modules.items()
              if (name == engine.__name__ or name.startswith(engine.__name__ + ".")) and getattr(m, "__file__", None)}
    assert any(p.parent.name == "kinds" for p in loaded)
    assert loaded <= {p.resolve() for p in engine_files()}


def test_engine_imports_no_io_or_adapter_library():
    for path in engine_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
                assert not name.startswith("runrate_xl"), f"{path.name} imports {name}: the engine depends on nothing of ours"


def test_engine_calls_no_io_builtins():
    for path in engine_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {node.func.id}()"


def test_nothing_imports_the_cli():
    """No library module imports the CLI (only the console script, entry.py, does), and no
    command module imports back from the CLI package's __init__ (which imports them)."""
    root = pathlib.Path(engine.__file__).parent.parent
    cli_dir = root / "cli"
    for path in root.rglob("*.py"):
        text = path.read_text()
        if path.parent == cli_dir:
            if path.name in ("__init__.py", "__main__.py"):
                continue
            tree = ast.parse(text, str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    assert not (node.level == 1 and node.module is None), f"{path.name}:{node.lineno} imports from the cli package's __init__"
                    assert not (node.level == 0 and (node.module or "") == "runrate_xl.cli"), f"{path.name}:{node.lineno}"
                    assert not (node.level == 2 and node.module == "cli"), f"{path.name}:{node.lineno}"
            continue
        if path.name == "entry.py":  # the console script
            continue
        assert "from .cli import" not in text and "runrate_xl.cli" not in text and "from ..cli import" not in text, path
        assert "from . import cli" not in text and "from .. import cli" not in text, path

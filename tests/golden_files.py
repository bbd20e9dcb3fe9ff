"""Golden files: the engine's figures for every preset, every example scenario and every example
business unit, frozen before Engine v2 so that a change of shape provably changes no number.

Regenerate (only when a number is meant to change, and say so in the commit):
``python -m tests.golden_files``. The comparison (tests/test_golden.py) checks every number to
1e-12 relative and every identity string (option ids, rules, effects, methods); free text
(reasons, labels, notes) is left to the presentation tests.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
AS_OF = dt.date(2026, 11, 23)
# Leaves compared as text: identities and enums, not prose.
IDENTITY_KEYS = {
    "option", "option_a", "option_b", "versus", "cheaper_below", "cheapest_option", "cheapest_allowed_option", "runner_up",
    "rule", "effect", "method", "driver", "behaviour", "key", "found", "close_call", "outcome_name",
}
REL_TOL = 1e-12


def evaluations() -> Iterator[tuple[str, Any]]:
    """(golden name, Evaluation) for every preset, example scenario and example business unit."""
    from runrate_xl import evaluate_scenario, load_scenario
    from runrate_xl.batch.inputs import read_input
    from runrate_xl.presets import presets

    for name, preset in sorted(presets().items()):
        yield f"preset-{name}", evaluate_scenario(preset.scenario, AS_OF)
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        if path.name.startswith("business_units"):
            continue
        yield f"example-{path.stem}", evaluate_scenario(load_scenario(path), AS_OF)
    batch = read_input(ROOT / "examples" / "business_units.yaml")
    for i, row in enumerate(batch.rows, start=1):
        yield f"bu{i:02d}", evaluate_scenario(row.scenario, AS_OF)


def figures(evaluation: Any) -> dict[str, Any]:
    """The evaluation without the scenario echo (whose shape Engine v2 changes)."""
    data = json.loads(evaluation.model_dump_json())
    data.pop("scenario")
    return data


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{dotted path: leaf} over dicts and lists."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = data
    return out


def keyed(data: Any) -> Any:
    """Lists whose order is presentation, not a figure, keyed by their identity: sensitivity rows
    by driver (with the option id when there is one)."""
    if isinstance(data, dict) and isinstance(data.get("sensitivity"), list):
        data = dict(data)
        data["sensitivity"] = {row["driver"]: row for row in data["sensitivity"]}
    return data


def differences(expected: Any, actual: Any) -> list[str]:
    """Golden numbers differing by more than 1e-12 relative, golden identity strings that differ
    and golden leaves that are gone (prose excluded; leaves added since are allowed)."""
    e, a = flatten(keyed(expected)), flatten(keyed(actual))
    problems = []
    for path in sorted(e):
        leaf = path.rsplit(".", 1)[-1].split("[", 1)[0]
        x, y = e[path], a.get(path, "<missing>")
        if isinstance(x, str) and isinstance(y, str) and leaf not in IDENTITY_KEYS and x != "<missing>" and y != "<missing>":
            continue
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool) and not isinstance(y, bool):
            if not math.isclose(x, y, rel_tol=REL_TOL, abs_tol=1e-9):
                problems.append(f"{path}: golden {x!r}, now {y!r}")
        elif x != y:
            problems.append(f"{path}: golden {x!r}, now {y!r}")
    return problems


def batch_summary(out_dir: Path) -> dict[str, Any]:
    """summary.json of the example batch (no mail), without the machine-specific input path."""
    from runrate_xl.batch import run_batch

    run_batch(ROOT / "examples" / "business_units.yaml", out_dir, jobs=2, as_of=AS_OF, progress=False)
    data = json.loads((out_dir / "summary.json").read_text())
    data.pop("input")
    return data


def write() -> None:
    import tempfile

    GOLDEN.mkdir(exist_ok=True)
    for name, ev in evaluations():
        (GOLDEN / f"{name}.json").write_text(json.dumps(figures(ev), indent=1, sort_keys=True) + "\n")
    with tempfile.TemporaryDirectory() as tmp:
        summary = batch_summary(Path(tmp) / "out")
    (GOLDEN / "batch-summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write()

"""Engine speed: a full evaluation (costs, break-evens, TCO, recommendation, sensitivity) per preset.

No target is named in the foundation issue; the figure is the floor every adapter stands on.
"""

from runrate_xl.api import evaluate_scenario
from runrate_xl.catalog import resolve
from runrate_xl.engine import evaluate, functions as f
from runrate_xl.presets import presets

from ._timing import best_of, report


def main() -> None:
    for name, p in presets().items():
        resolved = resolve(p.scenario)
        report(f"evaluate {name}", best_of(lambda: evaluate(resolved), repeat=3, number=5))
    report("evaluate_scenario (resolve + evaluate), seed000", best_of(lambda: evaluate_scenario(presets()["seed000-1m-inferences"].scenario), 3, 5))
    report("functions.breakeven (scalar)", best_of(lambda: f.breakeven(4140, 0.8, 1.5), 5, 10000))


if __name__ == "__main__":
    main()

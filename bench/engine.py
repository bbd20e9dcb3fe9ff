"""Engine speed: a full evaluation (costs, break-evens, TCO, recommendation, sensitivity).

Target (issue #13, item 8): any scenario evaluates in at most 10 ms. Measured: every preset, the
example scenarios (Claims processing was 190 ms before the stepped break-even read cost curves)
and a capacity scenario whose costs never cross (0.75 s before: 1,000 GPU steps re-solved per
tornado driver). The floor, measured in the same run, is one cost breakdown at one volume: an
evaluation is a few hundred of those at most, so the ratio says how much work it does.
"""

from pathlib import Path

from runrate_xl.api import evaluate_scenario, load_source
from runrate_xl.catalog import resolve
from runrate_xl.engine import evaluate, functions as f
from runrate_xl.engine.option_cost import option_total
from runrate_xl.engine.scenario import Scenario
from runrate_xl.presets import presets

from ._timing import best_of, report

TARGET = 0.010
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# Capacity mode, API far cheaper at every volume: the costs never cross.
NEVER_CROSSES = Scenario.model_validate({
    "name": "never crosses", "volume": {"tokens_per_day": 50e6, "tokens_per_request": 1000, "monthly_growth": 0.03},
    "api": {"input_price_per_1m": 0.05, "output_price_per_1m": 0.2},
    "self_hosted": {"mode": "capacity", "instance_hourly_usd": 5.67, "gpus_per_instance": 4, "tokens_per_second_per_gpu": 150,
                    "fte": 1, "setup_cost": 100000},
    "horizon": {"discount_rate_per_year": 0.08, "api_price_decline_per_year": 0.2},
})


def main() -> None:
    floor_scenario = resolve(presets()["seed000-1m-inferences"].scenario)
    floor = best_of(lambda: option_total(floor_scenario, "api"), repeat=5, number=200)
    report("floor: one cost breakdown", floor)
    cases = {f"preset {name}": resolve(p.scenario) for name, p in presets().items()}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if path.name == "business_units.yaml":
            continue
        cases[f"example {path.stem}"] = resolve(load_source(str(path)))
    cases["capacity, costs never cross"] = NEVER_CROSSES
    for label, scenario in cases.items():
        report(f"evaluate {label}", best_of(lambda: evaluate(scenario), repeat=3, number=3), TARGET, floor, "one breakdown")
    report("evaluate_scenario (resolve + evaluate), seed000", best_of(lambda: evaluate_scenario(presets()["seed000-1m-inferences"].scenario), 3, 5))
    report("functions.breakeven (scalar)", best_of(lambda: f.breakeven(4140, 0.8, 1.5), 5, 10000))


if __name__ == "__main__":
    main()

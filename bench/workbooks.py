"""Scenario workbook speed.

Target (issue 5): <= 50 ms to generate one workbook. Printed with the ratio to the target and to
a bare openpyxl load-and-save of the template (what a load-fill-save generator could not beat).
"""

import io
import tempfile
from pathlib import Path

import openpyxl

from runrate_xl.api import evaluate_scenario
from runrate_xl.presets import presets
from runrate_xl.workbook import generate_workbook, read_workbook, write_rollup
from runrate_xl.workbook.generate import load_template, template_path

from ._timing import best_of, report

TARGET = 0.050


def main() -> None:
    evaluations = [evaluate_scenario(p.scenario) for p in presets().values()]
    load_template()  # the template is read once per process, as in a batch

    def bare() -> None:
        wb = openpyxl.load_workbook(template_path())
        wb.save(io.BytesIO())

    floor = best_of(bare, repeat=3)
    report("openpyxl load + save of the template (reference)", floor)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        times = []
        for i, ev in enumerate(evaluations):
            times.append(best_of(lambda: generate_workbook(ev.scenario, out / f"bu{i}.xlsx", evaluation=ev), repeat=5))
        per = sum(times) / len(times)
        report(f"generate_workbook, mean of {len(times)} presets", per, TARGET, floor, "openpyxl load+save")
        report("generate_workbook, slowest preset", max(times), TARGET, floor, "openpyxl load+save")
        sc = evaluations[0].scenario
        report("generate_workbook incl. evaluate_scenario", best_of(lambda: generate_workbook(sc, out / "e.xlsx"), repeat=5),
               TARGET, floor, "openpyxl load+save")
        report("read_workbook (read-back)", best_of(lambda: read_workbook(out / "bu0.xlsx"), repeat=3), None, floor, "openpyxl load+save")
        report(f"write_rollup, {len(evaluations)} BUs", best_of(lambda: write_rollup(evaluations, out / "r.xlsx"), repeat=3))


if __name__ == "__main__":
    main()

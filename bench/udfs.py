"""Excel function speed: the cost of the Excel layer on top of the engine.

Targets (issue 4): <= 20 us per scalar call; <= 0.2 s for 10,000 RUNRATE_BREAKEVEN calls.
Each figure is printed with its ratio to the target and to a bare call of the engine function
the Excel function wraps (the floor: what the adapter adds is the difference).
"""

from runrate_xl import udfs
from runrate_xl.catalog.prices import lookup_prices
from runrate_xl.engine import functions as f

from ._timing import best_of, report

SCALAR_TARGET = 20e-6
BATCH_TARGET = 0.2
BATCH = 10_000
MODEL = "seed003/gpt-4o-mini"


def main() -> None:
    p = lookup_prices(MODEL)  # warm the catalog cache, as a recalculating workbook would
    scalar_cases = [
        ("RUNRATE_API_COST(50000000, 0.15, 0.6)", lambda: udfs.RUNRATE_API_COST(50_000_000, 0.15, 0.6),
         lambda: f.api_cost(50_000_000, 0.15, 0.6), "f.api_cost"),
        ("RUNRATE_MODEL_COST(model, 50000000)", lambda: udfs.RUNRATE_MODEL_COST(MODEL, 50_000_000),
         lambda: f.api_cost(50_000_000, p.input.usd_per_1m, p.output.usd_per_1m), "f.api_cost"),
        ("RUNRATE_PRICE(model, \"output\")", lambda: udfs.RUNRATE_PRICE(MODEL, "output"),
         lambda: lookup_prices(MODEL).output.usd_per_1m, "lookup_prices"),
        ("RUNRATE_SELFHOST_COST(4140, 0.8)", lambda: udfs.RUNRATE_SELFHOST_COST(4140, 0.8),
         lambda: f.selfhost_cost(4140, 0.8), "f.selfhost_cost"),
        ("RUNRATE_BREAKEVEN(4140, 0.8, 1.5)", lambda: udfs.RUNRATE_BREAKEVEN(4140, 0.8, 1.5),
         lambda: f.breakeven(4140, 0.8, 1.5), "f.breakeven"),
        ("RUNRATE_BREAKEVEN(\"4,140\", \"80%\", [[1.5]])", lambda: udfs.RUNRATE_BREAKEVEN("4,140", "80%", [[1.5]]),
         lambda: f.breakeven(4140, 0.8, 1.5), "f.breakeven"),
        ("RUNRATE_PAYBACK(100000, 5000)", lambda: udfs.RUNRATE_PAYBACK(100_000, 5_000),
         lambda: f.payback(100_000, 5_000), "f.payback"),
        ("RUNRATE_COST_PER_OUTCOME(298000, 1e6)", lambda: udfs.RUNRATE_COST_PER_OUTCOME(298_000, 1e6),
         lambda: f.cost_per_outcome(298_000, 1e6), "f.cost_per_outcome"),
        ("RUNRATE_SELFHOST_COST(4140, 80) -> #NUM!", lambda: udfs.RUNRATE_SELFHOST_COST(4140, 80),
         None, ""),
    ]
    for label, call, bare, bare_label in scalar_cases:
        t = best_of(call, repeat=5, number=2000)
        floor = best_of(bare, repeat=5, number=2000) if bare else None
        report(label, t, SCALAR_TARGET, floor, bare_label)

    # A sheet of 10,000 break-even cells (different inputs so nothing is memoised).
    inputs = [(4000 + i, 0.5 + (i % 50) / 100, 1.0 + (i % 7) / 10) for i in range(BATCH)]

    def sheet():
        for a in inputs:
            udfs.RUNRATE_BREAKEVEN(*a)

    def bare_sheet():
        for a in inputs:
            f.breakeven(*a)

    report(f"{BATCH:,} x RUNRATE_BREAKEVEN", best_of(sheet, repeat=3), BATCH_TARGET, best_of(bare_sheet, repeat=3), "f.breakeven")

    # Scenario functions: first call parses + evaluates, later calls hit the cache.
    rows = udfs.RUNRATE_SCENARIO("seed000-1m-inferences")
    udfs.clear_caches()
    import time

    start = time.perf_counter()
    udfs.RUNRATE_TCO(rows)
    report("RUNRATE_TCO(range) first call (parse + evaluate)", time.perf_counter() - start)
    report("RUNRATE_TCO(range) cached", best_of(lambda: udfs.RUNRATE_TCO(rows), repeat=5, number=200))
    report("RUNRATE_RECOMMEND(preset name) cached", best_of(lambda: udfs.RUNRATE_RECOMMEND("seed000-1m-inferences"), repeat=5, number=200))


if __name__ == "__main__":
    main()

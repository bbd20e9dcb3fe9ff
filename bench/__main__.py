"""Run every benchmark module in this folder (each exposes ``main()``)."""

import importlib
import pkgutil
import sys

import bench


def run_all(names=None) -> int:
    modules = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))
    for name in names or modules:
        print(f"\n=== bench.{name}", flush=True)
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(run_all(sys.argv[1:]))

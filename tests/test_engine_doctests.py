"""The formula functions' docstrings run as doctests (numpy-financial style): every public
function in ``runrate_xl.engine.functions`` and ``runrate_xl.engine.capacity`` states its formula
and at least one example whose output was computed by hand (or taken from a seed article), and
the example must hold."""

import doctest
import inspect

import pytest

from runrate_xl.engine import capacity, functions

MODULES = (functions, capacity)
PUBLIC = sorted(
    (module.__name__.rsplit(".", 1)[-1], name)
    for module in MODULES
    for name, obj in vars(module).items()
    if inspect.isfunction(obj) and obj.__module__ == module.__name__ and not name.startswith("_")
)
TESTS = {(m.__name__.rsplit(".", 1)[-1], t.name.rsplit(".", 1)[-1]): t
         for m in MODULES for t in doctest.DocTestFinder().find(m) if t.examples}


def test_the_modules_have_public_functions():
    # guards the collection above: an empty PUBLIC would make the parametrised test vacuous
    names = {name for _, name in PUBLIC}
    assert {"api_cost", "selfhost_cost", "breakeven", "npv"} <= names
    assert {"weights_gb", "kv_cache_gb", "check_memory_fit", "tokens_per_day_from_rates",
            "tokens_per_day_at_measured_mix"} <= names


@pytest.mark.parametrize("module,name", PUBLIC)
def test_docstring_example_holds(module, name):
    test = TESTS.get((module, name))
    assert test is not None, f"{module}.{name} has no >>> example in its docstring"
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=report.append)
    assert runner.tries > 0 and runner.failures == 0, "".join(report)

"""The formula functions' docstrings run as doctests (numpy-financial style): every public
function in ``runrate_xl.engine.functions`` states its formula and at least one example whose
output was computed by hand (or taken from a seed article), and the example must hold."""

import doctest
import inspect

import pytest

from runrate_xl.engine import functions

PUBLIC = sorted(
    name for name, obj in vars(functions).items()
    if inspect.isfunction(obj) and obj.__module__ == functions.__name__ and not name.startswith("_")
)
TESTS = {t.name.rsplit(".", 1)[-1]: t for t in doctest.DocTestFinder().find(functions) if t.examples}


def test_the_module_has_public_functions():
    # guards the collection above: an empty PUBLIC would make the parametrised test vacuous
    assert {"api_cost", "selfhost_cost", "breakeven", "npv"} <= set(PUBLIC)


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring_example_holds(name):
    test = TESTS.get(name)
    assert test is not None, f"{name} has no >>> example in its docstring"
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test, out=report.append)
    assert runner.tries > 0 and runner.failures == 0, "".join(report)

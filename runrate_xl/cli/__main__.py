"""``python -m runrate_xl.cli``: the same as the ``runrate`` console script."""

from ..entry import main

main()

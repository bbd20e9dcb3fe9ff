"""CLI sub-commands of the adapters, one module each, every module exposing ``register(app)``.

Kept apart from ``cli.py`` so each adapter owns its commands; ``cli.py`` registers the
modules listed in ``COMMAND_MODULES``.
"""

COMMAND_MODULES = ("excel", "workbook", "memo", "batch")

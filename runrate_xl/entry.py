"""The ``runrate`` console script. Kept tiny and free of third-party imports, so that a
core-only install (no 'cli' extra: Typer and Rich missing) prints one line naming the extra
instead of an ImportError traceback."""

from __future__ import annotations

import sys


def main() -> None:
    from .extras import missing_modules

    missing = missing_modules("cli")
    if missing:
        sys.stderr.write(f"Error: the runrate command needs the 'cli' extra ({', '.join(missing)} not installed): "
                         "pip install 'runrate_xl[cli]'  (or 'runrate_xl[all]' for workbooks, memos and Excel too)\n")
        raise SystemExit(1)
    from .cli import app

    app()


if __name__ == "__main__":  # pragma: no cover
    main()

"""Where the memo and workbook templates come from.

The shipped templates are package data (``runrate_xl.report_templates`` and
``runrate_xl.workbook_templates``), read with :mod:`importlib.resources`, never relative to the
source tree. A user folder (``--templates DIR`` on the CLI, or the RUNRATE_TEMPLATES setting)
comes first, file by file: a folder holding only ``memo.css`` rebrands the memos and every
other file falls back to the shipped one.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Optional, Union

from .engine.errors import InputError

ENV = "RUNRATE_TEMPLATES"
REPORT_PACKAGE = "runrate_xl.report_templates"
WORKBOOK_PACKAGE = "runrate_xl.workbook_templates"
REPORT_FILES = ("memo.html", "portfolio.html", "_base.html", "_macros.html", "memo.css")
WORKBOOK_FILE = "scenario.xlsx"
KNOWN_FILES = (*REPORT_FILES, WORKBOOK_FILE)


def shipped_report() -> Traversable:
    return resources.files(REPORT_PACKAGE)


def shipped_workbook() -> Traversable:
    return resources.files(WORKBOOK_PACKAGE).joinpath(WORKBOOK_FILE)


def check_user_dir(path: Union[str, Path], option: str = "--templates") -> Path:
    """A user template folder, checked: it exists and holds at least one known template file."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise InputError(option, str(path), "an existing folder")
    if not any((folder / name).is_file() for name in KNOWN_FILES):
        raise InputError(option, str(path), f"a folder holding at least one of the template files {', '.join(KNOWN_FILES)}")
    return folder


def use_user_dir(path: Optional[Union[str, Path]]) -> Optional[Path]:
    """Make ``path`` the user template folder for this process and its workers (None: leave as is)."""
    if path is None:
        return None
    folder = check_user_dir(path)
    os.environ[ENV] = str(folder.resolve())
    return folder


def user_dir() -> Optional[Path]:
    """The user template folder from RUNRATE_TEMPLATES, or None."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    return check_user_dir(value, ENV)


def workbook_template() -> Traversable:
    """The scenario template: the user's scenario.xlsx if their folder has one, else the shipped one."""
    folder = user_dir()
    if folder is not None and (folder / WORKBOOK_FILE).is_file():
        return folder / WORKBOOK_FILE
    return shipped_workbook()

"""Scenario workbooks: a template-driven, live-formula model per business unit, read-back of
analysts' edits, and a portfolio roll-up."""

from ..extras import require

require('runrate_xl.workbook (scenario workbooks)', 'workbook')  # one clear message naming the extra, not an ImportError from deep inside


from .generate import WorkbookError, generate_workbook, workbook_bytes
from .read import read_workbook
from .rollup import rollup_bytes, write_rollup

__all__ = ["WorkbookError", "generate_workbook", "read_workbook", "write_rollup", "workbook_bytes", "rollup_bytes"]

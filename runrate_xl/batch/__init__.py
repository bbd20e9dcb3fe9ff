"""Batch: every business unit's workbook, memo and e-mail draft in one call, plus a portfolio.

``run_batch("units.xlsx", "out")`` reads the BU rows (.xlsx, .csv or .yaml; columns in
:mod:`runrate_xl.batch.columns`), writes ``out/<bu>/<bu>.xlsx|.pdf|.eml`` and ``scenario.yaml``
per BU and ``portfolio.xlsx``, ``portfolio.pdf``, ``summary.csv``, ``summary.json`` and
``run.log`` at the top. The CLI is ``runrate batch``.
"""

from .columns import COLUMNS, Column
from .inputs import BatchInput, InputFileError, Problem, UnitRow, read_input
from .naming import unique_names
from .model import BatchInterrupted, BatchResult, UnitResult, UsageError
from .run import resolve_as_of, run_batch
from .template import write_input_csv, write_input_workbook

__all__ = [
    "COLUMNS", "Column", "BatchInput", "InputFileError", "Problem", "UnitRow", "read_input", "unique_names",
    "BatchInterrupted", "BatchResult", "UnitResult", "UsageError", "resolve_as_of", "run_batch",
    "write_input_csv", "write_input_workbook",
]

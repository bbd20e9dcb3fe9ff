"""The pure cost engine: arithmetic on pydantic models, no file I/O, no adapters.

Public API: the input models (:mod:`.scenario`), the result models (:mod:`.results`), the
spreadsheet-named primitives (:mod:`.functions`) and :func:`evaluate`.
"""

from . import functions
from .breakeven import find_breakeven, primary_pair
from .errors import InputError, NoAnswer, RunrateError
from .evaluate import evaluate
from .option_cost import option_cost, option_total
from .results import BreakEven, Evaluation, LineItem, OptionCost, Recommendation, TcoSeries
from .kinds import KINDS, Option, kind_of
from .scenario import (
    ApiOption, BusinessContext, FineTunedOption, HiddenCosts, Horizon,
    PriceTier, Scenario, SelfHostedOption, SensitivitySettings, Volume,
)
from .tco import tco_series

__all__ = [
    "functions", "find_breakeven", "primary_pair", "InputError", "NoAnswer", "RunrateError", "evaluate",
    "option_cost", "option_total", "BreakEven", "Evaluation", "LineItem", "OptionCost", "Recommendation",
    "TcoSeries", "ApiOption", "BusinessContext", "FineTunedOption", "HiddenCosts",
    "Horizon", "KINDS", "Option", "kind_of", "PriceTier", "Scenario", "SelfHostedOption", "SensitivitySettings", "Volume", "tco_series",
]

"""runrate_xl: the true cost of running AI (API vs fine-tuned vs self-hosted LLMs), from one
cost engine, in Excel functions, scenario workbooks and PDF decision memos."""

from __future__ import annotations

__version__ = "0.1.0"

from .api import evaluate_scenario, load_scenario, load_scenario_text, scenario_from_dict  # noqa: E402

__all__ = ["__version__", "evaluate_scenario", "load_scenario", "load_scenario_text", "scenario_from_dict"]

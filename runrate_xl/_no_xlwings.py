"""Stand-ins for xlwings' ``func``, ``arg`` and ``ret`` decorators when xlwings is not installed
(a core-only install): each returns the function unchanged, so the RUNRATE_* functions stay
callable from Python with the same signatures."""

from __future__ import annotations

from typing import Any, Callable


def _transparent(*_args: Any, **_kwargs: Any) -> Callable[[Callable], Callable]:
    def decorate(fn: Callable) -> Callable:
        return fn

    return decorate


func = arg = ret = _transparent

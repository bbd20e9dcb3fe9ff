"""The option kinds, registered in one place.

Each kind is one module holding its input model, its line items and its cost breakdown (see
``base.Kind``). Adding a kind: write the module, add it to ``KINDS`` and to the ``Option`` union.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from . import api, composite, fine_tuned, on_prem, self_hosted
from .api import ApiOption
from .base import HIDDEN_ITEMS, RESERVED_IDS, Breakdown, CashFlows, Item, Kind, LineItemSpec, OptionBase, OptionDriver, Step, requests_per_month
from .composite import CascadeOption, MixOption, components, is_composite, sends_data_out
from .fine_tuned import FineTunedOption
from .on_prem import OnPremOption
from .self_hosted import SelfHostedOption

KINDS: dict[str, Kind] = {k.name: k for k in (api.KIND, fine_tuned.KIND, self_hosted.KIND, on_prem.KIND, composite.MIX, composite.CASCADE)}
Option = Annotated[Union[ApiOption, FineTunedOption, SelfHostedOption, OnPremOption, MixOption, CascadeOption], Field(discriminator="kind")]


def kind_of(option: OptionBase) -> Kind:
    return KINDS[option.kind]  # type: ignore[attr-defined]


__all__ = [
    "KINDS", "Option", "kind_of", "MixOption", "CascadeOption", "components", "is_composite", "sends_data_out", "ApiOption", "FineTunedOption", "SelfHostedOption", "OnPremOption", "OptionBase", "Kind",
    "LineItemSpec", "Step", "Item", "Breakdown", "CashFlows", "OptionDriver", "HIDDEN_ITEMS", "RESERVED_IDS", "requests_per_month",
]

"""Item types: one module per type, each one :class:`~dmi.instruments.items.base.ItemType`.

:data:`ITEM_TYPES` maps the ``type`` of an item in an instrument file to the type that reads,
scores, checks, describes and synthesises its answers; :func:`item_type` gives an item's.
Everything that differs between types is asked of it, so adding a type is adding its module
and one line here (see ``docs/instrument-format.md``, "Adding an item type").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dmi.instruments.items.base import Choice, ItemType, Parser, Step, Widget
from dmi.instruments.items.checklist import Checklist
from dmi.instruments.items.likert import Likert
from dmi.instruments.items.multi import MultipleChoice
from dmi.instruments.items.number import Number
from dmi.instruments.items.rating import Rating
from dmi.instruments.items.scenario import Scenario
from dmi.instruments.items.single import SingleChoice
from dmi.instruments.items.yesno import YesNo

if TYPE_CHECKING:
    from dmi.instruments.format import Item

__all__ = [
    "ITEM_TYPES",
    "Checklist",
    "Choice",
    "ItemType",
    "Likert",
    "MultipleChoice",
    "Number",
    "Parser",
    "Rating",
    "Scenario",
    "SingleChoice",
    "Step",
    "Widget",
    "YesNo",
    "item_type",
]

ITEM_TYPES: dict[str, ItemType] = {
    "single": SingleChoice(),
    "multi": MultipleChoice(),
    "yesno": YesNo(),
    "likert": Likert(),
    "number": Number(),
    "scenario": Scenario(),
    "rating": Rating(),
    "checklist": Checklist(),
}
"""The item types an instrument file may use, by the name its ``type`` key gives."""


def item_type(item: Item) -> ItemType:
    """The type of ``item`` (what reads, scores and describes its answers)."""
    return ITEM_TYPES[item.type]

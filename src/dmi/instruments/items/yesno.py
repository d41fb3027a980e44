"""``yesno``: yes earns the item's ``points`` (default 1), no earns nothing."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from dmi.instruments.items.base import Choice, ItemType, Parser, Step, Widget
from dmi.instruments.items.cells import Key, Parsed, one_value
from dmi.locales import text

if TYPE_CHECKING:
    from dmi.instruments.format import Instrument, Item

__all__ = ["YesNo"]

_YES = {"yes", "y", "1", "true", "t", "是", "有", "√"}
_NO = {"no", "n", "0", "false", "f", "否", "无", "×"}
_EXPECTED = "yes or no (also y/n, 1/0, true/false, 是/否)"


class YesNo(ItemType):
    """Yes or no (also ``y``/``n``, ``1``/``0``, ``true``/``false``, ``是``/``否`` ...)."""

    keys = frozenset({"points"})

    def max_points(self, item: Item, instrument: Instrument) -> float:
        return item.points if item.points is not None else 1.0

    def parser(self, item: Item, instrument: Instrument) -> Parser:
        points = self.max_points(item, instrument)

        def parse(text: str) -> Parsed:
            key = text.casefold()
            if key in _YES:
                return points, None
            if key in _NO:
                return 0.0, None
            return math.nan, f"expected {_EXPECTED}"

        return Parser(one_value(parse, _EXPECTED, math.nan))

    def answer_values(self, item: Item, instrument: Instrument, key: Key) -> frozenset[str] | None:
        read = self.read(item, instrument, key)
        if read is None or read[1] is not None:
            return None
        return frozenset({"yes" if read[0] > 0 else "no"})

    def codebook_rows(self, item: Item, instrument: Instrument) -> list[dict[str, Any]]:
        full = self.max_points(item, instrument)
        return [
            {
                "value": "yes",
                "label_zh": text("items.answer_yes_lower", "zh"),
                "label_en": text("items.answer_yes_lower", "en"),
                "points": full,
            },
            {
                "value": "no",
                "label_zh": text("items.answer_no_lower", "zh"),
                "label_en": text("items.answer_no_lower", "en"),
                "points": 0.0,
            },
        ]

    def widget(self, item: Item, instrument: Instrument) -> Widget:
        yes = Choice("yes", text("items.answer_yes", "zh"), text("items.answer_yes", "en"))
        no = Choice("no", text("items.answer_no", "zh"), text("items.answer_no", "en"))
        return Widget("radio", (yes, no), True)

    def improvements(self, item: Item, instrument: Instrument, current: Key) -> list[Step]:
        """Yes, unless the answer is yes already."""
        read = self.read(item, instrument, current)
        if read is not None and read[1] is None and read[0] > 0:
            return []
        return [Step("yes", text("items.step_yes", "zh"), text("items.step_yes", "en"))]

    def synthesise(
        self, item: Item, instrument: Instrument, latent: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Yes with a chance that rises with maturity."""
        from scipy.special import ndtr

        return np.where(rng.random(len(latent)) < ndtr(latent), "yes", "no").astype(object)

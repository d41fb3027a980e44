"""``likert``: a whole number on the item's ``scale``, scored by where it sits on it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from dmi.instruments.items.base import Add, Choice, ItemType, Parser, Step, Widget, ordinal
from dmi.instruments.items.cells import Key, Parsed, one_value, parse_number
from dmi.locales import text

if TYPE_CHECKING:
    from dmi.instruments.format import Instrument, Item

__all__ = ["Likert"]


class Likert(ItemType):
    """A whole number from ``scale.min`` to ``scale.max``: its share of the way up the scale
    (down it when ``direction: lower_is_better``) of the item's ``points`` (default 1)."""

    keys = frozenset({"scale", "direction", "points"})

    def check(self, item: Item, instrument: Instrument, where: str, add: Add) -> None:
        if item.scale is None:
            add(where, "a likert item needs a scale {min, max}")
        elif item.scale.max <= item.scale.min:
            add(where, f"scale max ({item.scale.max}) must exceed min ({item.scale.min})")

    def max_points(self, item: Item, instrument: Instrument) -> float:
        return item.points if item.points is not None else 1.0

    def score(self, item: Item, instrument: Instrument, raw: np.ndarray) -> np.ndarray:
        """The raw answer is the number on the scale."""
        assert item.scale is not None
        share = (raw - item.scale.min) / (item.scale.max - item.scale.min)
        return 1.0 - share if item.direction == "lower_is_better" else share

    def parser(self, item: Item, instrument: Instrument) -> Parser:
        assert item.scale is not None
        low, high = item.scale.min, item.scale.max
        expected = f"a whole number from {low} to {high}"

        def parse(text: str) -> Parsed:
            number = parse_number(text, percent=False)  # "3%" is not the answer 3
            if number is None or not number.is_integer() or not low <= number <= high:
                return math.nan, f"expected {expected}"
            return number, None

        return Parser(one_value(parse, expected, math.nan))

    def _labels(self, item: Item) -> dict[int, tuple[str, str]]:
        """The (zh, en) labels of the scale's ends."""
        assert item.scale is not None
        scale = item.scale
        return {scale.min: (scale.zh_low, scale.en_low), scale.max: (scale.zh_high, scale.en_high)}

    def codebook_rows(self, item: Item, instrument: Instrument) -> list[dict[str, Any]]:
        assert item.scale is not None
        span = item.scale.max - item.scale.min
        full = self.max_points(item, instrument)
        ends = self._labels(item)
        rows = []
        for v in range(item.scale.min, item.scale.max + 1):
            share = (v - item.scale.min) / span
            if item.direction == "lower_is_better":
                share = 1 - share
            zh, en = ends.get(v, ("", ""))
            rows.append({"value": str(v), "label_zh": zh, "label_en": en, "points": full * share})
        return rows

    def widget(self, item: Item, instrument: Instrument) -> Widget:
        assert item.scale is not None
        ends = self._labels(item)
        choices = []
        for v in range(item.scale.min, item.scale.max + 1):
            zh, en = ends.get(v, ("", ""))
            choices.append(Choice(v, f"{v} {zh}" if zh else str(v), f"{v} {en}" if en else str(v)))
        return Widget("radio", tuple(choices), horizontal=True)

    def improvements(self, item: Item, instrument: Instrument, current: Key) -> list[Step]:
        """One step up the scale (down it when lower is better)."""
        assert item.scale is not None
        read = self.read(item, instrument, current)
        number = None if read is None or read[1] is not None else read[0]
        step = -1 if item.direction == "lower_is_better" else 1
        start = (
            number if number is not None else (item.scale.max if step < 0 else item.scale.min - 1)
        )
        nxt = int(start) + step
        if item.scale.min <= nxt <= item.scale.max:
            return [
                Step(
                    nxt,
                    text("items.step_likert", "zh", value=nxt),
                    text("items.step_likert", "en", value=nxt),
                )
            ]
        return []

    def synthesise(
        self, item: Item, instrument: Instrument, latent: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Points of the scale, the better end likelier as maturity rises."""
        assert item.scale is not None
        level = ordinal(latent, item.scale.max - item.scale.min + 1, 0.0)
        if item.direction == "lower_is_better":
            level = item.scale.max - item.scale.min - level
        return item.scale.min + level

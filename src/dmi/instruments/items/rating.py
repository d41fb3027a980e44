"""``rating``: a point of a labelled scale (e.g. 0-5, "not used" ... "operational")."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from dmi.instruments.items.base import (
    Add,
    Choice,
    ItemType,
    Parser,
    Step,
    Widget,
    answer_key,
    check_unambiguous_labels,
    ordinal,
)
from dmi.instruments.items.cells import Key, Parsed, one_value, parse_number
from dmi.locales import text

if TYPE_CHECKING:
    from dmi.instruments.format import Instrument, Item

__all__ = ["Rating"]


class Rating(ItemType):
    """A whole number from ``scale.min`` to ``scale.max``, every point of the scale labelled
    (``labels``, one ``{zh, en}`` per point, lowest first); the answer is the number or its
    label. Scored as a likert item: its share of the way up the scale, of ``points``
    (default 1). Rows of a question rated so, each an item of one indicator with equal
    weights, give the EU DMA's "sum of ratings / (rows x 5)"."""

    keys = frozenset({"scale", "labels", "points"})

    def check(self, item: Item, instrument: Instrument, where: str, add: Add) -> None:
        if item.scale is None:
            add(where, "a rating item needs a scale {min, max}")
            return
        if item.scale.max <= item.scale.min:
            add(where, f"scale max ({item.scale.max}) must exceed min ({item.scale.min})")
            return
        n = item.scale.max - item.scale.min + 1
        if len(item.labels) != n:
            add(
                where,
                f"a rating item needs one label per point of its scale ({n}), "
                f"got {len(item.labels)}",
            )
            return
        check_unambiguous_labels(
            [(str(v), (t.zh, t.en)) for v, t in zip(self._values(item), item.labels)],
            "rating",
            where,
            add,
        )

    def _values(self, item: Item) -> range:
        assert item.scale is not None
        return range(item.scale.min, item.scale.max + 1)

    def max_points(self, item: Item, instrument: Instrument) -> float:
        return item.points if item.points is not None else 1.0

    def score(self, item: Item, instrument: Instrument, raw: np.ndarray) -> np.ndarray:
        """The raw answer is the point on the scale."""
        assert item.scale is not None
        return (raw - item.scale.min) / (item.scale.max - item.scale.min)

    def parser(self, item: Item, instrument: Instrument) -> Parser:
        assert item.scale is not None
        low, high = item.scale.min, item.scale.max
        by_label = {}
        for value, label in zip(self._values(item), item.labels):
            by_label.setdefault(answer_key(label.zh), value)
            by_label.setdefault(answer_key(label.en), value)
        expected = f"a whole number from {low} to {high} (or its label)"

        def parse(cell: str) -> Parsed:
            labelled = by_label.get(cell.casefold())
            if labelled is not None:
                return float(labelled), None
            number = parse_number(cell, percent=False)
            if number is None or not number.is_integer() or not low <= number <= high:
                return math.nan, f"expected {expected}"
            return number, None

        return Parser(one_value(parse, expected, math.nan))

    def codebook_rows(self, item: Item, instrument: Instrument) -> list[dict[str, Any]]:
        assert item.scale is not None
        span = item.scale.max - item.scale.min
        full = self.max_points(item, instrument)
        return [
            {
                "value": str(v),
                "label_zh": label.zh,
                "label_en": label.en,
                "points": full * (v - item.scale.min) / span,
            }
            for v, label in zip(self._values(item), item.labels)
        ]

    def widget(self, item: Item, instrument: Instrument) -> Widget:
        return Widget(
            "radio",
            tuple(
                Choice(v, f"{v} {label.zh}", f"{v} {label.en}")
                for v, label in zip(self._values(item), item.labels)
            ),
        )

    def describe(
        self, item: Item, instrument: Instrument, answer: str, lang: str
    ) -> list[tuple[str, str | None]]:
        read = self.read(item, instrument, answer_key(answer))
        if read is None or read[1] is not None:
            return [(answer, None)]
        assert item.scale is not None
        label = item.labels[int(read[0]) - item.scale.min]
        return [(answer, label.get(lang))]

    def improvements(self, item: Item, instrument: Instrument, current: Key) -> list[Step]:
        """One point up the scale."""
        assert item.scale is not None
        read = self.read(item, instrument, current)
        now = item.scale.min - 1 if read is None or read[1] is not None else int(read[0])
        nxt = now + 1
        if nxt > item.scale.max:
            return []
        label = item.labels[nxt - item.scale.min]
        return [
            Step(
                nxt,
                text("instruments.step_rating", "zh", value=nxt, label=label.zh),
                text("instruments.step_rating", "en", value=nxt, label=label.en),
            )
        ]

    def synthesise(
        self, item: Item, instrument: Instrument, latent: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Points of the scale, higher likelier as maturity rises."""
        assert item.scale is not None
        return item.scale.min + ordinal(latent, item.scale.max - item.scale.min + 1, 0.0)

    def messy_variant(self, item: Item) -> Any:
        """The point's English label for its number."""
        assert item.scale is not None
        low = item.scale.min
        labels = item.labels
        return lambda v: labels[int(v) - low].en if isinstance(v, (int, np.integer)) else v

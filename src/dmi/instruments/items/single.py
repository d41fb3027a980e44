"""``single``: one option of the item's ``options``, scored by that option's points."""

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
    allowed,
    check_options,
    describe_options,
    label_lookup,
    option_rows,
    ordinal,
)
from dmi.instruments.items.cells import Key, Parsed, one_value
from dmi.locales import text

if TYPE_CHECKING:
    from collections.abc import Callable

    from dmi.instruments.format import Instrument, Item

__all__ = ["SingleChoice"]


class SingleChoice(ItemType):
    """One option: the answer is an option's value or label, worth the option's points."""

    keys = frozenset({"options"})

    def check(self, item: Item, instrument: Instrument, where: str, add: Add) -> None:
        check_options(item, where, add)
        if any(o.exclusive for o in item.options):
            add(where, "'exclusive' only applies to multi items")

    def max_points(self, item: Item, instrument: Instrument) -> float:
        return max((o.points for o in item.options), default=0.0)

    def parser(self, item: Item, instrument: Instrument) -> Parser:
        lookup = label_lookup(item.options)
        values = allowed([o.value for o in item.options])

        def parse(text: str) -> Parsed:
            index = lookup.get(text.casefold())
            if index is None:
                return math.nan, f"not an option; expected one of {values} (or an option's label)"
            return item.options[index].points, None

        return Parser(one_value(parse, f"one of {values} (or an option's label)", math.nan))

    def answer_values(self, item: Item, instrument: Instrument, key: Key) -> frozenset[str] | None:
        if not isinstance(key, str):
            return None
        index = label_lookup(item.options).get(key.casefold())
        return None if index is None else frozenset({item.options[index].value})

    def codebook_rows(self, item: Item, instrument: Instrument) -> list[dict[str, Any]]:
        return option_rows(item)

    def widget(self, item: Item, instrument: Instrument) -> Widget:
        return Widget("radio", tuple(Choice(o.value, o.zh, o.en) for o in item.options))

    def describe(
        self, item: Item, instrument: Instrument, answer: str, lang: str
    ) -> list[tuple[str, str | None]]:
        return describe_options(item, answer, lang)

    def improvements(self, item: Item, instrument: Instrument, current: Key) -> list[Step]:
        """The option worth the fewest points more than the current answer's."""
        read = self.read(item, instrument, current)
        points = None if read is None or read[1] is not None else read[0]
        better = sorted(
            (o for o in item.options if points is None or o.points > points),
            key=lambda o: o.points,
        )
        if not better:
            return []
        o = better[0]
        return [
            Step(
                o.value,
                text("items.step_single", "zh", option=o.zh),
                text("items.step_single", "en", option=o.en),
            )
        ]

    def synthesise(
        self, item: Item, instrument: Instrument, latent: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Options in the order of their points, the likelier the better the maturity."""
        order = np.argsort([o.points for o in item.options], kind="stable")
        level = ordinal(latent, len(order), shift=0.2)
        return np.array([item.options[i].value for i in order], dtype=object)[level]

    def messy_variant(self, item: Item) -> Callable[[Any], Any]:
        """The option's Chinese label instead of its value."""
        labels = {o.value: o.zh for o in item.options}
        return lambda v: labels.get(v, v)

    def planted(self, item: Item) -> dict[str, Any]:
        return {"unknown option code": "Z"}

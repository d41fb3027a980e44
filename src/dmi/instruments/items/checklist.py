"""``checklist``: any of the item's ``options``, scored by the share ticked (e.g. 0-10)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from dmi.instruments.items.base import (
    Add,
    Parser,
    check_unambiguous_labels,
    check_unique_values,
)
from dmi.instruments.items.cells import Key, Parsed
from dmi.instruments.items.multi import MultipleChoice, _check_letter_runs, _chooser
from dmi.locales import text

if TYPE_CHECKING:
    from dmi.instruments.format import Instrument, Item

__all__ = ["Checklist"]


class Checklist(MultipleChoice):
    """Several options, each tick worth the same: the share of the non-exclusive options
    ticked, of the item's ``points`` (default 10, the EU DMA's "scaled to 0-10").

    Options give no points of their own. An ``exclusive`` option ("data not collected
    digitally", "none of these") scores 0 and cannot be ticked with another. The answer is
    read as a ``multi`` answer is (values or labels between separators, or a list).
    """

    keys = frozenset({"options", "points", "letter_runs"})

    def check(self, item: Item, instrument: Instrument, where: str, add: Add) -> None:
        counted = [o for o in item.options if not o.exclusive]
        if len(counted) < 2:
            add(
                where,
                f"a checklist item needs at least 2 non-exclusive options, got {len(counted)}",
            )
        given = [o.value for o in item.options if o.points is not None]
        if given:
            add(
                where,
                f"checklist options take no points (each tick counts the same), "
                f"but {', '.join(given)} give some",
            )
        check_unique_values([o.value for o in item.options], where, add)
        check_unambiguous_labels(
            [(o.value, (o.zh, o.en)) for o in item.options], "option", where, add
        )
        if instrument.letter_runs(item):
            _check_letter_runs(item, where, add)

    def max_points(self, item: Item, instrument: Instrument) -> float:
        return item.points if item.points is not None else 10.0

    def tick_points(self, item: Item, instrument: Instrument) -> float:
        """What one tick of a non-exclusive option earns."""
        n = sum(not o.exclusive for o in item.options)
        return self.max_points(item, instrument) / max(n, 1)

    def _worth(self, item: Item, instrument: Instrument, i: int) -> float:
        return 0.0 if item.options[i].exclusive else self.tick_points(item, instrument)

    def parser(self, item: Item, instrument: Instrument) -> Parser:
        choose = _chooser(item, instrument.letter_runs(item))
        top = self.max_points(item, instrument)
        n = sum(not o.exclusive for o in item.options)
        options = item.options

        def parse(key: Key) -> Parsed:
            chosen, error = choose(key)
            if chosen is None:
                return math.nan, error
            ticks = sum(not options[i].exclusive for i in chosen)
            # the share first, then the scale: every tick count gets one exact value
            return top * ticks / n, None

        return Parser(parse)

    def codebook_rows(self, item: Item, instrument: Instrument) -> list[dict[str, Any]]:
        each = self.tick_points(item, instrument)
        return [
            {
                "value": o.value,
                "label_zh": text("items.exclusive_option", "zh", label=o.zh)
                if o.exclusive
                else o.zh,
                "label_en": text("items.exclusive_option", "en", label=o.en)
                if o.exclusive
                else o.en,
                "points": 0.0 if o.exclusive else each,
            }
            for o in item.options
        ]

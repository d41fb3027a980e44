"""``scenario``: a level of the instrument's shared ``scenario_levels`` scale."""

from __future__ import annotations

import math
from collections.abc import Callable
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
    ordinal,
)
from dmi.instruments.items.cells import Key, Parsed, one_value, parse_number
from dmi.locales import text

if TYPE_CHECKING:
    from dmi.instruments.format import Instrument, Item

__all__ = ["Scenario"]


class Scenario(ItemType):
    """A level of ``scenario_levels`` (its value or label): level / the top level of the
    item's ``points`` (default: the top level). The level rule counts these items."""

    keys = frozenset({"mandatory", "points"})
    scenario = True

    def check(self, item: Item, instrument: Instrument, where: str, add: Add) -> None:
        if not instrument.scenario_levels:
            add(where, "scenario items need the top-level scenario_levels scale")

    def max_points(self, item: Item, instrument: Instrument) -> float:
        if item.points is not None:
            return item.points
        return float(max((s.value for s in instrument.scenario_levels), default=0))

    def score(self, item: Item, instrument: Instrument, raw: np.ndarray) -> np.ndarray:
        """The raw answer is the level."""
        return raw / _top(instrument)

    def parser(self, item: Item, instrument: Instrument) -> Parser:
        lookup: dict[str, int] = {}
        for level in instrument.scenario_levels:
            for key in (str(level.value), level.zh, level.en):
                lookup.setdefault(answer_key(key), level.value)
        values = [lv.value for lv in instrument.scenario_levels]
        expected = _expected(instrument)

        def parse(text: str) -> Parsed:
            level = lookup.get(text.casefold())
            if level is None:
                number = parse_number(text, percent=False)  # "2%" is not level 2
                if number is not None and number.is_integer() and int(number) in values:
                    level = int(number)
            if level is None:
                return math.nan, f"expected {expected}"
            return float(level), None

        return Parser(one_value(parse, expected, math.nan))

    def codebook_rows(self, item: Item, instrument: Instrument) -> list[dict[str, Any]]:
        top = _top(instrument)
        full = self.max_points(item, instrument)
        return [
            {
                "value": str(level.value),
                "label_zh": level.zh,
                "label_en": level.en,
                "points": full * level.value / top,
            }
            for level in instrument.scenario_levels
        ]

    def widget(self, item: Item, instrument: Instrument) -> Widget:
        """The levels by their short names (before a colon), asked as a matrix whose legend
        gives each level's whole description."""
        levels = instrument.scenario_levels
        choices = tuple(
            Choice(lv.value, f"{lv.value} · {_short(lv.zh)}", f"{lv.value} · {_short(lv.en)}")
            for lv in levels
        )
        legend = tuple(Choice(lv.value, lv.zh, lv.en) for lv in levels)
        return Widget("radio", choices, horizontal=True, scale="scenario_levels", legend=legend)

    def describe(
        self, item: Item, instrument: Instrument, answer: str, lang: str
    ) -> list[tuple[str, str | None]]:
        """A level as its value and the short name of its label (before a colon)."""
        try:
            number = float(answer)
        except ValueError:
            return [(answer, None)]
        for level in instrument.scenario_levels:
            if number == level.value:
                label = level.zh if lang == "zh" else level.en
                return [(str(level.value), _short(label))]
        return [(answer, None)]

    def improvements(self, item: Item, instrument: Instrument, current: Key) -> list[Step]:
        """The next level up (level 1 when there is no answer)."""
        read = self.read(item, instrument, current)
        level = -1 if read is None or read[1] is not None else int(read[0])
        if level >= _top(instrument):
            return []
        target = next(lv for lv in instrument.scenario_levels if lv.value == max(level + 1, 1))
        return [
            Step(
                target.value,
                text("items.step_scenario", "zh", value=target.value, label=target.zh),
                text("items.step_scenario", "en", value=target.value, label=target.en),
            )
        ]

    def synthesise(
        self, item: Item, instrument: Instrument, latent: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Levels, higher as maturity rises (mandatory scenarios a little likelier)."""
        shift = 0.6 if item.mandatory else 0.9
        return ordinal(latent, _top(instrument) + 1, shift)

    def messy_variant(self, item: Item) -> Callable[[Any], Any]:
        """The level in full-width digits."""
        import pandas as pd

        full_width = str.maketrans("01234", "０１２３４")
        return lambda v: v if pd.isna(v) else str(v).translate(full_width)


def _top(instrument: Instrument) -> int:
    return max(level.value for level in instrument.scenario_levels)


def _expected(instrument: Instrument) -> str:
    values = [lv.value for lv in instrument.scenario_levels]
    return f"a level from {min(values)} to {max(values)}" if values else "no answer (no levels)"


def _short(label: str) -> str:
    """A level's short name: its label before a colon (the whole label when it has none)."""
    return label.split("：")[0].split(":")[0].strip()

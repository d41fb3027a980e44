"""What an item's parser is handed: one cell as a key (text, or an object that is not text).

The scoring (:mod:`dmi.scoring.answers`) turns every cell into a *key* once: ``None`` when the
cell is blank, its normalised text (NFKC, trimmed) when it is one text or number, a
:class:`Choices` for a list of scalar values, and a :class:`Cell` for anything else (a dict,
bytes, a complex number ...). An item type's parser reads keys; this module holds the key
classes and the reading of a number written by a person, which several types share. It imports
neither numpy nor pandas.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from dmi.text import folded

__all__ = ["Cell", "Choices", "Key", "Parsed", "one_value", "parse_number"]

SHOWN_MAX = 200  # characters of a non-text cell shown in a reason or the rejects table


class Cell:
    """A cell that is not one text or number (a list, a dict, bytes ...), keyed by what it holds.

    Factorising and parsing need a hashable key that two equal cells share and no other cell
    equals (a list is unhashable; ``1 + 0j == 1`` in Python). ``what`` names the kind of
    object for a reason; ``str()`` shows the cell in the rejects table.
    """

    __slots__ = ("_key", "shown", "what")

    def __init__(self, what: str, shown: str, key: Any = None) -> None:
        self.what = what
        self.shown = shown if len(shown) <= SHOWN_MAX else shown[: SHOWN_MAX - 3] + "..."
        self._key = (what, shown) if key is None else (what, key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cell) and type(other) is type(self) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        return self.shown

    __repr__ = __str__


class Choices(Cell):
    """A list (tuple, set, array) of scalar cells: several answers to a multiple-choice item.

    ``values`` are the elements as normalised text, blanks left out (in the order given; a
    set's in sorted order, so that its key and the way it is shown do not depend on hashing).
    """

    __slots__ = ("values",)

    def __init__(self, what: str, values: tuple[str, ...]) -> None:
        brackets = "{}" if what == "a set" else "[]"
        super().__init__(what, brackets[0] + ", ".join(values) + brackets[1], key=values)
        self.values = values


Key = Any  # None (blank), str (normalised text) or Cell
Parsed = tuple[float, str | None]  # (points or level, None) or (NaN, the reason it is invalid)

_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def parse_number(text: str, *, percent: bool = True) -> float | None:
    """Parse a number written by a person: ``"35%"``, ``"1,234.5"``, ``"３５"``; None if not one.

    Commas must group thousands (``"1,23"`` is not a number), and no space may fall inside the
    number (``"3 5"`` is not 35); a space may stand before ``%``. With ``percent=False`` a
    number ending in ``%`` is not one.
    """
    # U+2212, typeset text's minus sign, is one NFKC leaves as it is
    t = folded(text).strip().replace("\u2212", "-")
    if t.endswith("%"):
        if not percent:
            return None
        t = t[:-1].rstrip()
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        return None
    number = float(t)
    return number if math.isfinite(number) else None


def one_value(
    parse: Callable[[str], tuple[Any, str | None]], expected: str, invalid: Any
) -> Callable[[Key], tuple[Any, str | None]]:
    """A parser of keys made of a parser of text: a list, and any other object that is not
    one value, is rejected with a reason naming ``expected`` and what it got."""

    def parse_key(key: Key) -> tuple[Any, str | None]:
        if isinstance(key, str):
            return parse(key)
        if isinstance(key, Choices):
            return invalid, (
                f"expected {expected}, got {key.what} (only a multiple-choice item takes several "
                "values)"
            )
        return invalid, f"expected {expected}, got {key.what}"

    return parse_key

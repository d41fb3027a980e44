"""Banded answers derived from raw numbers (an item's ``derive`` block).

A banded ``number`` item (the digitisation rate, say) may be fed by two raw columns
(``equipment_digitised_count`` and ``equipment_total``): its value is ``part * scale / whole``
and its band follows. The raw numbers are checked together, column by column (vectorised):

- each must be a number of at least 0;
- ``part`` needs ``whole`` (a ``whole`` alone derives nothing: the item's own answer counts);
- ``part`` must not exceed ``whole``, and ``whole`` must be above 0;
- when the item's own answer is also given, it must fall in the same band as the derived value.

A row failing any check is rejected with the reason; a row whose item cell is blank takes the
derived value's band.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dmi.instruments import Instrument, Item
from dmi.instruments.items import Parser
from dmi.instruments.items.base import fmt
from dmi.instruments.items.cells import Parsed, one_value, parse_number

__all__ = ["Derivation", "check_given", "derive", "raw_parser"]

_EXPECTED = "a number of at least 0"

AddRejects = Callable[[np.ndarray, str, Sequence[str], "Sequence[str] | str"], None]


def raw_parser() -> Parser:
    """The parser of a raw-number column: a number of at least 0 (no ``%``)."""

    def parse(text: str) -> Parsed:
        number = parse_number(text, percent=False)
        if number is None:
            return math.nan, f"not a number; expected {_EXPECTED}"
        if number < 0:
            return math.nan, f"negative; expected {_EXPECTED}"
        return number, None

    def numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        invalid = ~np.isfinite(values) | (values < 0)
        reasons = np.where(
            np.isfinite(values),
            f"negative; expected {_EXPECTED}",
            f"not a number; expected {_EXPECTED}",
        )
        return np.where(invalid, np.nan, values), invalid, reasons

    return Parser(one_value(parse, _EXPECTED, math.nan), numbers)


@dataclass
class Derivation:
    """What the raw numbers gave an item: its derived value (NaN where none) and the raw
    points of the band that value falls in (NaN where none)."""

    value: np.ndarray
    points: np.ndarray


def derive(
    instrument: Instrument,
    raw: dict[str, tuple[np.ndarray, np.ndarray]],
    add_rejects: AddRejects,
) -> dict[str, Derivation]:
    """Derive every ``derive`` item's value from its raw columns, rejecting what contradicts.

    Parameters
    ----------
    instrument : Instrument
        Whose ``derive`` items are derived.
    raw : dict of str -> (ndarray, ndarray)
        Per raw column, its numbers (NaN when blank or invalid) and which cells are blank.
    add_rejects : callable
        ``add_rejects(positions, column, values, reasons)`` of the encoding.
    """
    from dmi.instruments.items.number import _number_points

    out: dict[str, Derivation] = {}
    for item in instrument.derived_items:
        d = item.derive
        assert d is not None
        part, part_blank = raw[d.part]
        whole, whole_blank = raw[d.whole]
        # a part without its whole cannot be derived; a whole alone is no contradiction (a
        # whole shared by two items, the item answered directly): the answer decides
        lone = np.flatnonzero(~part_blank & whole_blank)
        add_rejects(
            lone,
            d.whole,
            [""] * len(lone),
            f"blank while {d.part} is given: both are needed to derive {item.code}",
        )
        both = ~np.isnan(part) & ~np.isnan(whole)
        over = np.flatnonzero(both & (part > whole))
        add_rejects(
            over,
            d.part,
            [fmt(float(v)) for v in part[over]],
            [
                f"exceeds {d.whole} ({fmt(float(w))}): a part cannot exceed its whole"
                for w in whole[over]
            ],
        )
        zero = np.flatnonzero(both & (whole == 0))
        add_rejects(
            zero, d.whole, ["0"] * len(zero), f"is 0: {item.code} cannot be derived from it"
        )
        ok = both & (part <= whole) & (whole > 0)
        # scaled first, divided last: 1 of 10 is exactly 10 (%), on the edge of its band,
        # where 1 / 10 * 100 would be 10.000000000000002, in the band above
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(ok, part * d.scale / np.where(ok, whole, 1.0), np.nan)
        points, out_of_range = _number_points(item, np.where(ok, value, 0.0))
        points = np.where(ok, points, np.nan)
        bad = np.flatnonzero(ok & out_of_range)
        add_rejects(
            bad,
            item.code,
            [fmt(float(v)) for v in value[bad]],
            f"derived from {d.part}/{d.whole}, outside the valid range "
            f"{fmt(item.min)} to {fmt(item.max)}",  # type: ignore[arg-type]
        )
        out[item.code] = Derivation(value, np.where(out_of_range, np.nan, points))
    return out


def check_given(
    item: Item,
    derivation: Derivation,
    given_points: np.ndarray,
    column: pd.Series | None,
    shown: Callable[[object], str],
    add_rejects: AddRejects,
) -> None:
    """Reject the rows whose own answer to ``item`` falls in another band than the value
    derived from the raw numbers (the bands' points tell them apart: the file's check makes
    them distinct)."""
    from dmi.instruments.items.number import _band_index

    d = item.derive
    assert d is not None
    clash = np.flatnonzero(
        ~np.isnan(given_points) & ~np.isnan(derivation.points) & (given_points != derivation.points)
    )
    if not len(clash) or column is None:
        return
    bands = item.bands
    at = _band_index(item, derivation.value[clash])
    values = [shown(v) for v in column.iloc[clash].tolist()]
    reasons = [
        f"contradicts {d.part}/{d.whole} = {derivation.value[i]:.4g}{item.unit} "
        f"(band {bands[b].value}: {fmt(bands[b].lower)}-{fmt(bands[b].upper)}{item.unit}); "
        "give the answer in that band, or correct the raw numbers"
        for i, b in zip(clash.tolist(), at.tolist())
    ]
    add_rejects(clash, item.code, values, reasons)

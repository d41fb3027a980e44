"""``number``: a number in a valid range, scored by the band it falls in or by goalposts."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from dmi.instruments.items.base import (
    Add,
    Choice,
    ItemType,
    Parser,
    Step,
    TextsKernel,
    Widget,
    answer_key,
    check_unambiguous_labels,
    check_unique_values,
    fmt,
)
from dmi.instruments.items.cells import Key, Parsed, one_value, parse_number
from dmi.locales import text

if TYPE_CHECKING:
    from dmi.instruments.format import Instrument, Item

__all__ = ["Number"]

# Plain numbers in ASCII, with at most one trailing "%" (only where the unit is %), and numbers
# with thousands separators: for text that matches one of these (after normalisation),
# parse_number does nothing but drop the "%" and the commas and call float(). Anything else
# (other digits, spaces, "%%", band values ...) goes through parse_number one distinct value
# at a time.
_FAST_NUMBER = r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?{percent}$"
_FAST_THOUSANDS = r"^[-+]?[0-9]{{1,3}}(?:,[0-9]{{3}})+(?:\.[0-9]+)?{percent}$"


class Number(ItemType):
    """A number from ``min`` to ``max`` (or a band's value or label): the points of the band
    it falls in, or its share of the way between the goalposts of the item's ``points``
    (default 1), reversed when ``direction: lower_is_better``."""

    keys = frozenset(
        {"unit", "min", "max", "closed", "bands", "goalposts", "direction", "points", "derive"}
    )

    def check(self, item: Item, instrument: Instrument, where: str, add: Add) -> None:
        _check(item, where, add)

    def max_points(self, item: Item, instrument: Instrument) -> float:
        if item.bands:
            return max(b.points for b in item.bands)
        return item.points if item.points is not None else 1.0

    def parser(self, item: Item, instrument: Instrument) -> Parser:
        read = _reader(item)

        def parse(text: str) -> Parsed:
            band, number, error = read(text)
            if error is not None:
                return math.nan, error
            if band is not None:
                return item.bands[band].points, None
            return _score_number(item, np.array([number]))[0]

        out_of_range = _range_error(item)
        not_a_number = f"not a number; expected {_expected(item)}"

        def numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            points, invalid = _number_points(item, values)
            # infinity is not a number, as its text is not one to parse_number
            reasons = np.where(np.isfinite(values), out_of_range, not_a_number)
            return points, invalid, reasons

        return Parser(one_value(parse, _expected(item), math.nan), numbers, _texts_kernel(item))

    def codebook_rows(self, item: Item, instrument: Instrument) -> list[dict[str, Any]]:
        if item.bands:
            return [
                {
                    "value": b.value,
                    "label_zh": b.zh,
                    "label_en": b.en,
                    "points": b.points,
                    "min": b.lower,
                    "max": b.upper,
                }
                for b in item.bands
            ]
        return [
            {
                "value": "",
                "label_zh": text("items.number_value", "zh", unit=item.unit),
                "label_en": text("items.number_value", "en", unit=item.unit),
                "points": item.points or 1.0,
                "min": item.min,
                "max": item.max,
            }
        ]

    def widget(self, item: Item, instrument: Instrument) -> Widget:
        if item.bands:
            return Widget("radio", tuple(Choice(b.value, b.zh, b.en) for b in item.bands), True)
        return Widget("number", unit=item.unit, min=item.min, max=item.max)

    def describe(
        self, item: Item, instrument: Instrument, answer: str, lang: str
    ) -> list[tuple[str, str | None]]:
        for band in item.bands:
            if band.value.casefold() == answer.casefold():
                return [(answer, band.zh if lang == "zh" else band.en)]
        return [(f"{answer} {item.unit}".strip(), None)]

    def answer_values(self, item: Item, instrument: Instrument, key: Key) -> frozenset[str] | None:
        """The band's value (an item with goalposts has no values to map)."""
        band = self.band_of(item, key)
        return None if band is None else frozenset({item.bands[band].value})

    def band_of(self, item: Item, key: Key) -> int | None:
        """The position of the band a cell falls in, read as the scoring reads it (None when
        the cell is blank or not a valid answer, or the item has no bands)."""
        if not item.bands or not isinstance(key, str):
            return None
        band, number, error = _reader(item)(key)
        if error is not None or band is not None:
            return band
        numbers = np.array([number])
        if _number_points(item, numbers)[1][0]:  # out of range
            return None
        return int(_band_index(item, numbers)[0])

    def improvements(self, item: Item, instrument: Instrument, current: Key) -> list[Step]:
        """The next band up that is worth more points (banded items only), worded as the
        threshold to pass ("raise it above 10%"), not as a range to pick."""
        if not item.bands:
            return []
        band = self.band_of(item, current)
        at = -1 if band is None else band
        for better in item.bands[at + 1 :]:
            if better.points > (item.bands[at].points if at >= 0 else -1):
                return [Step(better.value, *(_reach(item, better, lang) for lang in ("zh", "en")))]
        return []

    def synthesise(
        self, item: Item, instrument: Instrument, latent: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Numbers across the valid range, higher as maturity rises."""
        from scipy.special import ndtr

        assert item.min is not None and item.max is not None
        share = ndtr(0.9 * latent - 0.1 + rng.normal(0, 0.3, len(latent)))
        value = item.min + share * (item.max - item.min)
        if item.code == "investment":  # digital investment is a small share of revenue
            value = item.min + (item.max - item.min) * share**2.5 * 0.9
        return np.round(value, 1)

    def messy_variant(self, item: Item) -> Callable[[Any], Any] | None:
        """A percentage with its ``%`` sign (items whose unit is %)."""
        if item.unit != "%":
            return None
        import pandas as pd

        return lambda v: v if v is None or pd.isna(v) else f"{v}%"

    def planted(self, item: Item) -> dict[str, Any]:
        return {"percentage out of range": "135%", "not a number": "about half"}


def _expected(item: Item) -> str:
    unit = f" {item.unit}" if item.unit else ""
    expected = f"a number from {fmt(item.min)} to {fmt(item.max)}{unit}"  # type: ignore[arg-type]
    if item.bands:
        expected += f" or a band value ({', '.join(b.value for b in item.bands)})"
    return expected


def _band_lookup(item: Item) -> dict[str, int]:
    band_lookup = {b.value.casefold(): i for i, b in enumerate(item.bands)}
    for i, band in enumerate(item.bands):
        for label in (band.zh, band.en):
            band_lookup.setdefault(answer_key(label), i)
    return band_lookup


def _reader(item: Item) -> Callable[[str], tuple[int | None, float | None, str | None]]:
    """Read one normalised text: ``(band, None, None)`` for a band's value or label,
    ``(None, number, None)`` for a number (in range or not), or ``(None, None, reason)``."""
    assert item.min is not None and item.max is not None
    band_lookup = _band_lookup(item)
    expected = _expected(item)
    percent = item.unit == "%"

    def read(text: str) -> tuple[int | None, float | None, str | None]:
        if item.bands and text.casefold() in band_lookup:
            return band_lookup[text.casefold()], None, None
        number = parse_number(text, percent=percent)  # "5%" is not 5 of another unit
        if number is None:
            if not percent and parse_number(text) is not None:
                return None, None, f"a percentage, but the unit is not %; expected {expected}"
            return None, None, f"not a number; expected {expected}"
        return None, number, None

    return read


def _texts_kernel(item: Item) -> TextsKernel:
    """Score the distinct texts of a number column in one pass (the vectorised parse_number).

    Returns, for an object array of normalised texts (None when blank): which texts it scored,
    their points (NaN when invalid), which of them are invalid, and the reason for those that
    are not numbers / out of range. A text gets exactly what the one-value parser gives it: the
    same float() conversion and the same :func:`_number_points` arithmetic, element by element,
    so a value scores the same whatever else is in the column.
    """
    band_keys = sorted(_band_lookup(item)) if item.bands else []
    not_a_number = f"not a number; expected {_expected(item)}"
    percent = "%?" if item.unit == "%" else ""
    fast_number = _FAST_NUMBER.format(percent=percent)
    fast_thousands = _FAST_THOUSANDS.format(percent=percent)

    def kernel(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import pyarrow as pa
        import pyarrow.compute as pc

        arrow = pa.array(texts, type=pa.string(), from_pandas=True)
        plain = pc.match_substring_regex(arrow, fast_number)
        grouped = pc.match_substring_regex(arrow, fast_thousands)
        fast = pc.or_(plain, grouped)
        if band_keys:  # a band value or label is looked up first, as in the parser
            fast = pc.and_(fast, pc.invert(pc.is_in(pc.utf8_lower(arrow), pa.array(band_keys))))
        handled = fast.fill_null(False).to_numpy(zero_copy_only=False)
        points = np.full(len(texts), np.nan)
        reasons = np.full(len(texts), None, dtype=object)
        if not handled.any():
            return handled, points, reasons
        digits = pc.replace_substring(
            pc.replace_substring_regex(pc.filter(arrow, fast), "%$", ""), ",", ""
        )
        # float() on each text, exactly as parse_number does (numpy calls it for str objects)
        numbers = np.asarray(digits.to_numpy(zero_copy_only=False), dtype=object).astype(float)
        finite = np.isfinite(numbers)
        scored, out_of_range = _number_points(item, np.where(finite, numbers, 0.0))
        at = np.flatnonzero(handled)
        points[at] = np.where(finite, scored, np.nan)
        reasons[at[~finite]] = not_a_number
        reasons[at[finite & out_of_range]] = _range_error(item)
        return handled, points, reasons

    return kernel


def _score_number(item: Item, numbers: np.ndarray) -> list[Parsed]:
    points, out_of_range = _number_points(item, numbers)
    reason = _range_error(item)
    return [(p, reason if bad else None) for p, bad in zip(points.tolist(), out_of_range)]


def _range_error(item: Item) -> str:
    unit = f" {item.unit}" if item.unit else ""
    return f"outside the valid range {fmt(item.min)} to {fmt(item.max)}{unit}"  # type: ignore[arg-type]


def _band_index(item: Item, numbers: np.ndarray) -> np.ndarray:
    """The position of the band each number falls in (numbers outside the range: an end)."""
    edges = np.array([b.upper for b in item.bands[:-1]])
    side = "left" if item.closed == "right" else "right"
    index = np.searchsorted(edges, numbers, side=side)
    return np.clip(index, 0, len(item.bands) - 1)


def _number_points(item: Item, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (bands) or raw goalpost scores for an array of numbers, and which are out of range.

    Element by element (a number's points do not depend on the other numbers)."""
    assert item.min is not None and item.max is not None
    out_of_range = (numbers < item.min) | (numbers > item.max) | ~np.isfinite(numbers)
    if item.bands:
        points = np.array([b.points for b in item.bands])[_band_index(item, numbers)]
    else:
        assert item.goalposts is not None
        low, high = item.goalposts.low, item.goalposts.high
        share = np.clip((numbers - low) / (high - low), 0.0, 1.0)
        if item.direction == "lower_is_better":
            share = 1.0 - share
        points = share * (item.points if item.points is not None else 1.0)
    points = np.where(out_of_range, np.nan, points)
    return points, out_of_range


def _check(item: Item, where: str, add: Add) -> None:
    if item.min is None or item.max is None:
        add(where, "a number item needs min and max (its valid range)")
        return
    if item.max <= item.min:
        add(where, f"max ({item.max}) must exceed min ({item.min})")
        return
    if bool(item.bands) == (item.goalposts is not None):
        add(where, "a number item needs either bands or goalposts (exactly one)")
        return
    if item.derive is not None and not item.bands:
        add(where, "derive needs bands (the derived number picks the band)")
    if item.derive is not None and len({b.points for b in item.bands}) < len(item.bands):
        add(where, "derive needs bands with distinct points (an answer's band is told by them)")
    if item.derive is not None and item.derive.part == item.derive.whole:
        add(where, f"derive: part and whole are both {item.derive.part!r}")
    if item.goalposts is not None:
        if item.goalposts.high <= item.goalposts.low:
            add(where, "goalposts high must exceed low (use direction for lower-is-better)")
        return
    check_unique_values([b.value for b in item.bands], where, add)
    check_unambiguous_labels([(b.value, (b.zh, b.en)) for b in item.bands], "band", where, add)
    bands = item.bands
    if bands[0].lower != item.min or bands[-1].upper != item.max:
        add(
            where,
            f"bands must cover [{item.min}, {item.max}], they cover "
            f"[{bands[0].lower}, {bands[-1].upper}]",
        )
    for a, b in zip(bands, bands[1:]):
        if a.upper != b.lower:
            add(
                where,
                f"bands {a.value!r} and {b.value!r} are not contiguous ({a.upper} then {b.lower})",
            )
    for band in bands:
        if band.upper <= band.lower:
            add(where, f"band {band.value!r} is empty ({band.lower} to {band.upper})")
    if re.fullmatch(r"[-+]?\d+(\.\d*)?", bands[0].value or ""):
        add(where, "band values must not look like numbers (answers could mean either)")


def _reach(item: Item, band: Any, lang: str) -> str:
    """What to do to get into ``band`` from below: pass its lower edge (``closed: right``:
    the band starts just above it) or reach it (``closed: left``)."""
    edge = fmt(band.lower) + item.unit
    how = "above" if item.closed == "right" else "at_least"
    if item.subject is None:
        return text(f"items.step_number_{how}", lang, value=edge)
    return text(
        f"items.step_number_subject_{how}", lang, subject=item.subject.get(lang), value=edge
    )

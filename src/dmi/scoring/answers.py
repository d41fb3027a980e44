"""Reading answer cells: every cell checked against the instrument, scored into [0, 1].

This is the first half of the scoring kernel. It works column by column: each column is factorised
(its distinct values found once), the distinct values are parsed in Python, and the results are
gathered back to the rows with numpy. A million rows with a few thousand distinct answers per column
therefore cost a few thousand parses, not a million, and one row scores exactly as it would inside
any batch.

How a cell of an item is read and scored belongs to the item's type
(:mod:`dmi.instruments.items`); this module chooses the path a column takes (:func:`parse_column`:
numbers, a few cells, distinct texts through the Arrow memo) the same way for every type.

Every problem becomes one row of the rejects table (``row, respondent_id, column, value, reason``);
a row with any problem is rejected as a whole, and all its problems are listed, not only the first.
"""

from __future__ import annotations

import cmath
import dataclasses
import datetime
import decimal
import functools
import math
import numbers
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dmi.columns import ID_COLUMN, REJECT_COLUMNS
from dmi.instruments import Dimension, Instrument, Item, ProfileField
from dmi.instruments.items import Parser, item_type
from dmi.instruments.items.base import allowed, answer_key, fmt, number_range
from dmi.instruments.items.cells import Cell, Choices, Key, one_value, parse_number
from dmi.io.ids import doubtful_ids
from dmi.scoring.derive import Derivation, check_given, derive, raw_parser
from dmi.text import folded

__all__ = [
    "EncodedAnswers",
    "arrow_id_text",
    "cell_key",
    "encode_answers",
    "factorize_cells",
    "dimension_column",
    "id_text",
    "left_unanswered",
    "normalise_cell",
    "parse_column",
    "parse_number",
    "ProfileColumn",
    "read_profile_column",
]


@dataclass
class EncodedAnswers:
    """Answers checked and scored item by item.

    Attributes
    ----------
    item_codes
        Item codes, the column order of ``scores``.
    scores
        ``(n_rows, n_items)`` item scores in [0, 1]; NaN where the item is excluded (missing under
        the ``exclude`` policy) and on rejected rows.
    scenario_levels
        ``(n_rows, n_scenarios)`` integer levels of the scenario items (-1 when missing).
    scenario_codes
        Codes of the scenario items, the column order of ``scenario_levels``.
    respondent_id
        Respondent identifiers as text: an object array, or (for a batch read from a file) an
        Arrow-backed ``str`` array, which never makes a Python object of each id.
    row
        Source row numbers (spreadsheet style: the header is row 1, the first data row is row 2).
    valid
        True for rows without any problem.
    rejects
        One row per problem: ``row, respondent_id, column, value, reason``.
    imputed
        Per item code, how many valid rows had the answer missing and scored as lowest.
    excluded
        Per item code, how many valid rows had the answer missing and left out (reweighted).
    profile
        Profile fields (normalised values) of every row.
    """

    item_codes: list[str]
    scores: np.ndarray
    scenario_codes: list[str]
    scenario_levels: np.ndarray
    respondent_id: Any  # np.ndarray of str, or an Arrow-backed pandas array of a big batch
    row: np.ndarray
    valid: np.ndarray
    rejects: pd.DataFrame
    imputed: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    profile: pd.DataFrame = field(default_factory=pd.DataFrame)
    derived: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.valid)

    @property
    def n_valid(self) -> int:
        return int(self.valid.sum())

    def subset(self, mask: np.ndarray) -> EncodedAnswers:
        """The rows selected by a boolean mask (rejects restricted to those rows)."""
        rows = set(self.row[mask].tolist())
        return EncodedAnswers(
            item_codes=self.item_codes,
            scores=self.scores[mask],
            scenario_codes=self.scenario_codes,
            scenario_levels=self.scenario_levels[mask],
            respondent_id=self.respondent_id[mask],
            row=self.row[mask],
            valid=self.valid[mask],
            rejects=self.rejects[self.rejects["row"].isin(rows)].reset_index(drop=True),
            imputed=dict(self.imputed),
            excluded=dict(self.excluded),
            profile=self.profile[mask].reset_index(drop=True),
            derived={code: values[mask] for code, values in self.derived.items()},
        )


# -- cell normalisation ------------------------------------------------------------------------


_LIST_LIKE = (list, tuple, set, frozenset, np.ndarray, pd.Series, pd.Index)
# cells of these exact types are factorised as they are: equal ones normalise alike
_PLAIN = frozenset({str, int, float, type(None)})
# what infer_dtype calls object columns that hold only such cells (and numpy numbers)
_PLAIN_COLUMNS = frozenset({"string", "integer", "floating", "mixed-integer-float", "empty"})


def cell_key(value: Any) -> Key:
    """What a cell means to the parsers: None when blank, else its normalised text, or a
    :class:`Cell` for a list and for objects that are not answers (dicts, bytes, complex
    numbers, text with unpaired surrogates).

    Equal cells get equal keys, and so do a bool and its text, but never a bool and a number.
    """
    if isinstance(value, str):
        text = folded(value).strip()
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                shown = text.encode("utf-8", "backslashreplace").decode("ascii", "replace")
                return Cell("text that is not valid Unicode (an unpaired surrogate)", shown)
        return text or None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Cell):  # already a key
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (np.datetime64, np.timedelta64)):  # before numbers: timedelta64 is one
        if np.isnat(value):
            return None
        convert = pd.Timestamp if isinstance(value, np.datetime64) else pd.Timedelta
        try:
            return cell_key(str(convert(value)))
        except (ValueError, OverflowError):  # out of pandas' range: numpy's own text
            return cell_key(str(value))
    if isinstance(value, datetime.timedelta):  # timedelta(1) and Timedelta(days=1) read alike
        try:
            return cell_key(str(pd.Timedelta(value)))
        except (ValueError, OverflowError):  # out of pandas' range
            return cell_key(str(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number):
            return None
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, (int, np.integer)):
        return _int_text(int(value))
    if isinstance(value, decimal.Decimal):
        if value.is_nan():
            return None
        # a whole number as its digits (a float would round it), unless it is beyond any float
        if value.is_finite() and value.adjusted() < 400 and value == value.to_integral_value():
            return _int_text(int(value))
        return cell_key(float(value))
    if isinstance(value, (complex, np.complexfloating)):
        # pandas turns every number of a column holding a complex one into a complex number
        # (35 -> 35+0j): one without an imaginary part is read as the real number it was
        if value.imag == 0 or cmath.isnan(value):
            return cell_key(float(value.real))
        number = complex(value.real + 0.0, value.imag + 0.0)  # -0 shown as 0, as pandas may
        return Cell("a complex number", str(number))
    if isinstance(value, numbers.Real):  # Fraction and the like: their value, as a float
        try:
            return cell_key(float(value))
        except (OverflowError, ValueError):
            return Cell(f"a {type(value).__name__}", str(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Cell("bytes (decode them to text first)", repr(bytes(value)))
    if isinstance(value, Mapping):
        return Cell("a mapping (dict)", repr(dict(value)))
    if isinstance(value, _LIST_LIKE):
        return _choices(value)
    return cell_key(str(value))  # a date, a time, a UUID ...: its text


def _int_text(number: int) -> str:
    try:
        return str(number)
    except ValueError:  # more digits than Python converts to text at once
        return str(decimal.Decimal(number))


def _choices(value: Any) -> Key:
    """The key of a list-like cell: :class:`Choices` of its scalar elements, None when it
    holds nothing but blanks, a :class:`Cell` when it holds a list or another object."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return cell_key(value.item())
    what = "a set" if isinstance(value, (set, frozenset)) else "a list"
    values = []
    for element in value:
        key = cell_key(element)
        if isinstance(key, Cell):
            inner = "a list" if isinstance(key, Choices) else key.what
            return Cell(f"{what} holding {inner}", _list_text(value))
        if key is not None:
            values.append(key)
    if not values:
        return None
    return Choices(what, tuple(sorted(values) if what == "a set" else values))


def _list_text(value: Any) -> str:
    try:
        return repr(list(value))
    except Exception:  # noqa: BLE001 (showing a cell must not fail)
        return object.__repr__(value)


def _prekey(cell: Any) -> Any:
    """A cell as it is factorised: plain text and numbers as they are, other cells by key."""
    return cell if type(cell) in _PLAIN else cell_key(cell)


def _shown(cell: Any) -> str:
    """A cell as the rejects table shows it: text as written, other cells as their key.

    It depends on the cell alone, not on the equal cells met before it, so that a row shows
    the same value in any batch.
    """
    key = cell_key(cell)
    if isinstance(cell, str) and not isinstance(key, Cell):
        return str(cell)
    return "" if key is None else str(key)


def normalise_cell(value: Any) -> str | None:
    """Return a cell as trimmed half-width text, or None when it is blank.

    Full-width characters (全角) become their half-width forms, numbers that are whole become
    integers (``3.0`` -> ``"3"``), so that ``"３"``, ``3`` and ``3.0`` mean the same answer;
    ``Decimal`` and ``Fraction`` cells are read by their value, bools as ``"true"``/``"false"``,
    and NaN, ``pd.NA`` and ``NaT`` are blank. A list is shown as ``[B, C]``.
    """
    key = cell_key(value)
    return key if key is None or isinstance(key, str) else str(key)


def _cells(values: pd.Series) -> pd.Series:
    """A column whose cells pandas cannot factorise (Arrow lists, structs, binary) as objects."""
    dtype = values.dtype
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        arrow_type = dtype.pyarrow_dtype
        if pa.types.is_nested(arrow_type) or pa.types.is_binary(arrow_type):
            return values.astype(object)
    return values


def factorize_cells(values: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize`` of a column's cells that never gives a bool the code of a number.

    Python counts ``True == 1 == 1.0``, so ``pd.factorize`` gives an object column holding both
    (XLSX or API input; CSV cells are always text) one code, and every such cell would take the
    meaning of whichever came first. Bools are keyed by their :func:`normalise_cell` text
    instead, and so is every cell of an object column that is not plain text or a number: a
    list (unhashable), a complex number (``1 + 0j == 1``) ... Returns ``(codes, uniques)`` with
    -1 for blanks, as ``pd.factorize`` does.
    """
    array = _arrow_text(values)
    if array is not None:
        codes, dictionary = _arrow_factorize(array)
        return codes, pd.array(dictionary, dtype=values.dtype)
    values = _cells(values)
    if values.dtype == object and not _plain_column(values):
        cells = values.to_numpy(dtype=object)
        plain = np.fromiter((type(v) in _PLAIN for v in cells), dtype=bool, count=len(cells))
        if not plain.all():
            cells = cells.copy()
            others = np.flatnonzero(~plain)
            cells[others] = np.fromiter(
                (_prekey(v) for v in cells[others]), dtype=object, count=len(others)
            )
            return pd.factorize(cells, use_na_sentinel=True)
    return pd.factorize(values, use_na_sentinel=True)


def _plain_column(values: pd.Series) -> bool:
    """Whether an object column holds only text, numbers (not bools) and blanks."""
    try:
        return pd.api.types.infer_dtype(values, skipna=True) in _PLAIN_COLUMNS
    except Exception:  # noqa: BLE001 (an object pandas cannot inspect: look at every cell)
        return False


def _arrow_factorize(array: Any) -> tuple[np.ndarray, Any]:
    """Codes (-1 for null) and distinct values of an Arrow text array.

    Arrow's hash kernel directly: it releases the GIL, so two threads scoring two chunks
    factorise in parallel (pandas' wrapper holds it for part of the work).
    """
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(array)
    return np.asarray(pc.fill_null(encoded.indices, -1), dtype=np.intp), encoded.dictionary


# the characters str.strip() removes, so that the vectorised path trims exactly as it does
_WHITESPACE = "".join(chr(i) for i in range(0x3001) if chr(i).isspace())


def id_text(values: pd.Series) -> np.ndarray:
    """Respondent ids as trimmed folded text (:func:`dmi.text.folded`; "" when blank), like
    :func:`normalise_cell`.

    Arrow-backed text columns (what the CSV reader gives) are normalised with vectorised
    Arrow kernels, which do what ``normalise_cell`` does to text: fold, then trim. Other
    columns go through ``normalise_cell`` once per distinct value.
    """
    text = arrow_id_text(values)
    if text is not None:
        return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    codes, uniques = factorize_cells(values)
    table = np.array([normalise_cell(v) or "" for v in uniques] + [""], dtype=object)
    return table[codes]


def _arrow_text(values: pd.Series) -> Any:
    """The cells of an Arrow-backed text column as one contiguous Arrow array, else None."""
    array = getattr(values, "array", None)
    if not (
        isinstance(array, pd.arrays.ArrowStringArray)
        or (
            pd.api.types.is_string_dtype(values.dtype)
            and values.dtype != object
            and getattr(values.dtype, "storage", None) == "pyarrow"
        )
    ):
        return None
    import pyarrow as pa

    arrow = pa.array(array)
    return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow


def arrow_id_text(values: pd.Series) -> Any:
    """:func:`id_text` of an Arrow-backed text column as an Arrow array (None for other columns).

    It does what ``normalise_cell`` does to text: fold, then trim. ASCII text (nearly every id)
    is only trimmed, by an Arrow kernel, and never becomes Python objects, which is what most of
    the cost of a million ids was; other text is normalised by Python's ``unicodedata``.
    """
    arrow = _arrow_text(values)
    return None if arrow is None else _normalised_arrow_text(arrow)


def _normalised_arrow_text(arrow: Any) -> Any:
    """:func:`arrow_id_text` of an Arrow text array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ascii_ = pc.string_is_ascii(arrow).fill_null(True)
    if not pc.all(ascii_).as_py():  # ASCII text is its own folded form: only the rest is
        # folded by Python (dmi.text.folded), as normalise_cell does: Arrow's own NFKC follows a
        # newer Unicode version, and a few characters would then differ between the two paths
        other = pc.invert(ascii_)
        texts = pc.filter(arrow, other).to_pylist()
        normal = pa.array([folded(t) for t in texts], type=arrow.type)
        arrow = pc.replace_with_mask(arrow, other, normal)
    return pc.utf8_trim(arrow, characters=_WHITESPACE).fill_null("")


_id_text = id_text

# -- the column kernel -------------------------------------------------------------------------


@dataclass
class _ColumnResult:
    raw: np.ndarray  # points (or level / likert value) per row; NaN when missing or invalid
    missing: np.ndarray  # bool per row
    error_rows: np.ndarray  # int positions of rows with an invalid cell
    error_values: list[str]
    error_reasons: list[str]


def _unique_texts(uniques: Any) -> np.ndarray:
    """The key (:func:`cell_key`) of each distinct value, as an object array: normalised text,
    None when blank, a :class:`Cell` for a list or another object.

    Arrow-backed text (what the CSV reader gives) is normalised with the vectorised kernels of
    :func:`arrow_id_text`, which do what ``normalise_cell`` does to text.
    """
    array = getattr(uniques, "array", uniques)
    if isinstance(array, pd.arrays.ArrowStringArray):
        return _arrow_unique_texts(_arrow_text(pd.Series(array, copy=False)))
    return np.fromiter((cell_key(v) for v in uniques), dtype=object, count=len(uniques))


def _is_numbers(values: pd.Series) -> bool:
    """Whether a column holds real numbers (not bools, not complex numbers) as numbers."""
    dtype = values.dtype
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def parse_column(
    values: pd.Series | None,
    n: int,
    parser: Parser,
    *,
    small: bool = False,
    memo: _TextMemo | None = None,
) -> _ColumnResult:
    """Read one item's column with its type's parser: raw points, blanks and invalid cells.

    The path is chosen here, the same for every item type: an absent column is missing
    throughout; a column of numbers goes to the type's vectorised numbers kernel when it has
    one; a few rows (``small``) are parsed cell by cell; otherwise each distinct cell is
    parsed once (Arrow text through ``memo``, the texts met in earlier chunks, and the type's
    texts kernel when it has one). Every path gives every cell the same result.

    Parameters
    ----------
    values : pandas.Series or None
        The column (None when the table has no such column).
    n : int
        The number of rows.
    parser : Parser
        The item type's parser (:meth:`dmi.instruments.items.ItemType.parser`).
    small : bool, default=False
        Parse cell by cell: cheaper for up to ``SMALL_BATCH_ROWS`` rows.
    memo : _TextMemo or None, default=None
        What the item's parse made of the Arrow texts met before.
    """
    if values is None:
        return _ColumnResult(np.full(n, np.nan), np.ones(n, bool), np.empty(0, int), [], [])
    if parser.numbers is not None and _is_numbers(values):
        # numbers read as numbers: score them all at once without going through text
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(numbers)
        raw, invalid, reasons = parser.numbers(np.where(missing, 0.0, numbers))
        raw = np.where(missing, np.nan, raw)
        bad = np.flatnonzero(~missing & invalid)
        shown = [_shown(v) for v in values.iloc[bad].tolist()]  # an int as its digits
        return _ColumnResult(raw, missing, bad, shown, [str(reasons[i]) for i in bad])
    if small:  # no per-column pandas passes: they would cost more than the few cells
        parsed, missing, error_rows, error_values, error_reasons = _parse_cells(
            values, parser.parse
        )
        raw = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
        return _ColumnResult(raw, missing, error_rows, error_values, error_reasons)
    array = _arrow_text(values) if memo is not None else None
    if memo is not None and array is not None:
        # Arrow text: the distinct texts seen in earlier chunks are looked up all at once
        codes, dictionary = _arrow_factorize(array)
        parsed_points, unique_missing, unique_error = memo.parse(
            dictionary,
            lambda new: _parse_texts(_arrow_unique_texts(new), parser),
        )

        def shown(bad: np.ndarray, bad_codes: np.ndarray) -> list[str]:
            return [str(v) for v in dictionary.take(bad_codes).to_pylist()]
    else:
        codes, uniques = factorize_cells(values)
        parsed_points, unique_missing, unique_error = _parse_texts(_unique_texts(uniques), parser)

        def shown(bad: np.ndarray, bad_codes: np.ndarray) -> list[str]:
            # each cell as itself: equal cells (3 and 3.0) share a code but not their text
            return [_shown(v) for v in values.iloc[bad].tolist()]

    # the NA sentinel (-1) indexes one more slot: missing
    parsed_points = np.append(parsed_points, np.nan)
    unique_missing = np.append(unique_missing, True)
    unique_error = np.append(unique_error, None)
    raw = parsed_points[codes]
    missing = unique_missing[codes]
    has_error = np.not_equal(unique_error, None)
    if not has_error.any():
        return _ColumnResult(raw, missing, np.empty(0, dtype=np.intp), [], [])
    bad = np.flatnonzero(has_error[codes])
    bad_codes = codes[bad]
    return _ColumnResult(
        raw, missing, bad, shown(bad, bad_codes), [unique_error[c] or "" for c in bad_codes]
    )


def _parse_texts(texts: np.ndarray, parser: Parser) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points, blank flags and errors (None when valid) of the keys of distinct cells:
    normalised texts, None when blank, or :class:`Cell` objects."""
    points = np.full(len(texts), np.nan)
    missing = np.equal(texts, None)
    errors = np.full(len(texts), None, dtype=object)
    todo = np.flatnonzero(~missing)
    texts_kernel = parser.texts
    if texts_kernel is not None and len(todo):
        # the distinct texts the kernel understands are scored all at once (lists and other
        # objects are left to the parser, which rejects them)
        is_text = np.fromiter((type(t) is str for t in texts[todo]), dtype=bool, count=len(todo))
        text_todo = todo[is_text]
        handled, kernel_points, kernel_errors = texts_kernel(texts[text_todo])
        points[text_todo[handled]] = kernel_points[handled]
        errors[text_todo[handled]] = kernel_errors[handled]
        todo = np.concatenate([text_todo[~handled], todo[~is_text]])
    if len(todo):  # the rest one distinct text at a time (mostly hits of the parse cache)
        parsed, reasons = zip(*map(parser.parse, texts[todo].tolist()))
        points[todo] = parsed
        errors[todo] = reasons
    return points, missing, errors


def _arrow_unique_texts(dictionary: Any) -> np.ndarray:
    """:func:`_unique_texts` of an Arrow array of distinct texts."""
    texts = np.asarray(
        _normalised_arrow_text(dictionary).to_numpy(zero_copy_only=False), dtype=object
    )
    return np.where(texts == "", None, texts)


class _TextMemo:
    """What an item column's parse made of each raw cell text met so far (Arrow text columns):
    its points, whether it was blank, and its error.

    A chunk's distinct texts are looked up all at once with Arrow's hash kernel, which works
    without the GIL; only the texts not met before are normalised and parsed in Python. A
    parse depends only on the text, so the memo cannot change a result. It keeps at most
    ``_PARSE_CACHE_SIZE`` texts. Threads scoring chunks at once share it, and parse new texts
    one thread at a time: the first chunks of a file hold mostly the same ones, parsed once.
    """

    def __init__(self) -> None:
        self._parsing = threading.Lock()
        # (texts, points, blank flags, errors): replaced whole, never changed in place
        self._known: tuple[Any, np.ndarray, np.ndarray, np.ndarray] | None = None

    def parse(
        self,
        dictionary: Any,
        parse_new: Callable[[Any], tuple[np.ndarray, np.ndarray, np.ndarray]],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points, blank flags and errors of each text of ``dictionary`` (distinct texts).

        ``parse_new`` gives them for the texts not met before.
        """
        import pyarrow as pa

        dictionary = dictionary.cast(pa.large_string())
        known = self._known
        at = self._positions(dictionary, known)
        if known is not None and (at >= 0).all():
            return known[1][at], known[2][at], known[3][at]
        with self._parsing:
            if self._known is not known:  # another thread parsed meanwhile
                known = self._known
                at = self._positions(dictionary, known)
            new = np.flatnonzero(at < 0)
            fresh = dictionary.take(new)
            parsed = parse_new(fresh)
            self._remember(fresh, *parsed)
        if len(new) == len(dictionary):
            return parsed
        old = np.flatnonzero(at >= 0)
        out = tuple(np.empty(len(dictionary), dtype=now.dtype) for now in parsed)
        for whole, before, now in zip(out, known[1:], parsed):  # type: ignore[index]
            whole[old] = before[at[old]]
            whole[new] = now
        return out  # type: ignore[return-value]

    @staticmethod
    def _positions(dictionary: Any, known: Any) -> np.ndarray:
        """Where each text is among the known ones (-1 when it is not)."""
        import pyarrow.compute as pc

        if known is None:
            return np.full(len(dictionary), -1, dtype=np.intp)
        return np.asarray(pc.index_in(dictionary, value_set=known[0]).fill_null(-1), np.intp)

    def _remember(
        self, texts: Any, points: np.ndarray, missing: np.ndarray, errors: np.ndarray
    ) -> None:
        """Add new texts while there is room (called holding the parsing lock)."""
        import pyarrow as pa

        known = self._known
        room = _PARSE_CACHE_SIZE - (0 if known is None else len(known[0]))
        n = min(len(texts), max(room, 0))
        if not n:
            return
        added = (texts.slice(0, n), points[:n], missing[:n], errors[:n])
        if known is None:
            self._known = added
        else:
            self._known = (
                pa.concat_arrays([known[0], added[0]]),
                *(np.concatenate([a, b]) for a, b in zip(known[1:], added[1:])),
            )


# Up to this many rows, cells are parsed one by one as Python objects. The vectorised path makes
# several pandas and Arrow passes per column, a fixed cost that dominates one survey submission.
# Both paths give the same result for every cell (tests/test_scoring.py compares them).
SMALL_BATCH_ROWS = 64


def _parse_cells(
    values: pd.Series, parse: Callable[[Key], tuple[Any, str | None]]
) -> tuple[list[Any], np.ndarray, np.ndarray, list[str], list[str]]:
    """Parse a few cells one distinct value at a time, without per-column pandas passes.

    Returns what the vectorised path computes: the parsed value of each cell (None when blank),
    which cells are blank, and the positions, shown values and reasons of the invalid ones.
    Cells are told apart as :func:`factorize_cells` tells them apart (never a bool from 1).
    """
    cells = values.tolist()
    seen: dict[Any, tuple[Any, bool, str | None]] = {}
    parsed: list[Any] = []
    missing = np.zeros(len(cells), dtype=bool)
    error_rows: list[int] = []
    error_values: list[str] = []
    error_reasons: list[str] = []
    for i, cell in enumerate(cells):
        pre = _prekey(cell)
        known = seen.get(pre)
        if known is None:
            key = cell_key(pre)
            if key is None:
                known = (None, True, None)
            else:
                value, error = parse(key)
                known = (value, False, error)
            seen[pre] = known
        value, blank, error = known
        parsed.append(value)
        missing[i] = blank
        if error is not None:
            error_rows.append(i)
            error_values.append(_shown(cell))
            error_reasons.append(error)
    return parsed, missing, np.array(error_rows, dtype=int), error_values, error_reasons


# A column's distinct texts repeat from chunk to chunk of a big file (a multi-choice column of 15
# options has thousands of combinations, each parsed in Python): each text is parsed once per
# process. A parse depends only on the text, so the cache cannot change a result.
_PARSE_CACHE_SIZE = 1 << 15  # per parser: a few MB at most, kept while the process runs


def _memoised(parse: Callable[[Key], Any]) -> Callable[[Key], Any]:
    return functools.lru_cache(maxsize=_PARSE_CACHE_SIZE)(parse)


def _profile_parser(field_: ProfileField) -> Callable[[Key], tuple[Any, str | None]]:
    """The field's parser of cell keys: one value, or None and the reason it is not one."""
    if field_.type == "choice":
        lookup: dict[str, str] = {}
        for option in field_.options:
            for key in (option.value, option.zh, option.en):
                lookup.setdefault(answer_key(key), option.value)
        shown = [o.value for o in field_.options]
        values = allowed(shown if len(shown) <= 12 else shown[:12] + ["..."])

        def parse_choice(text: str) -> tuple[Any, str | None]:
            value = lookup.get(text.casefold())
            if value is None:
                return None, f"not an option; expected one of {values} (or an option's label)"
            return value, None

        return one_value(parse_choice, f"one of {values} (or an option's label)", None)
    if field_.type == "number":
        low = field_.min if field_.min is not None else -math.inf
        high = field_.max if field_.max is not None else math.inf
        expected = number_range(field_.min, field_.max)

        def parse_number_field(text: str) -> tuple[Any, str | None]:
            number = parse_number(text, percent=False)  # "35%" is not 35 employees
            if number is None:
                return None, f"not a number; expected {expected}"
            if not low <= number <= high:
                return None, f"{fmt(number)} is out of range; expected {expected}"
            return number, None

        return one_value(parse_number_field, expected, None)
    return one_value(lambda text: (text, None), "text", None)


def _parse_profile(
    values: pd.Series | None,
    n: int,
    field_: ProfileField,
    parse: Callable[[Key], tuple[Any, str | None]],
    small: bool,
) -> tuple[pd.Series, np.ndarray, np.ndarray, list[str], list[str]]:
    # choices are Arrow-backed text (``str``) in every path; free text stays as written
    dtype = {"number": "float64", "choice": "str"}.get(field_.type, "object")
    if values is None:
        return pd.Series([None] * n, dtype=dtype), np.ones(n, bool), np.empty(0, int), [], []
    if field_.type == "text":  # free text is kept as written, never rejected
        text = _small_id_text(values) if small else _id_text(values)
        missing = text == ""
        return (
            pd.Series(np.where(missing, None, text), dtype=object),
            missing,
            np.empty(0, int),
            [],
            [],
        )
    if small:
        parsed, missing, bad, bad_values, reasons = _parse_cells(values, parse)
        out = pd.Series(parsed, dtype=object)
        return (
            (out if dtype == "object" else out.astype(dtype)),
            missing,
            bad,
            bad_values,
            reasons,
        )
    codes, uniques = factorize_cells(values)
    parsed_u: list[Any] = [None] * (len(uniques) + 1)
    errors: list[str | None] = [None] * (len(uniques) + 1)
    missing_u = np.zeros(len(uniques) + 1, dtype=bool)
    missing_u[-1] = True
    for j, key in enumerate(_unique_texts(uniques).tolist()):
        if key is None:
            missing_u[j] = True
            continue
        parsed_u[j], errors[j] = parse(key)
    if dtype == "str":
        # the choices are gathered in Arrow: a column of Python strings would cost more to
        # build, and again to write
        import pyarrow as pa

        slots = np.where(codes < 0, len(uniques), codes)
        out = pd.Series(pd.array(pa.array(parsed_u, type=pa.string()).take(slots), dtype="str"))
    else:
        out = pd.Series(np.array(parsed_u, dtype=object)[codes], dtype=object).astype("float64")
    has_error = np.array([e is not None for e in errors], dtype=bool)
    bad = np.flatnonzero(has_error[codes])
    return (
        out,
        missing_u[codes],
        bad,
        [_shown(v) for v in values.iloc[bad].tolist()],
        [errors[c] or "" for c in codes[bad]],
    )


@dataclass
class ProfileColumn:
    """A profile field's column read as :func:`encode_answers` reads it for ``dmi score``
    (:func:`read_profile_column`).

    Attributes
    ----------
    values : Series
        Each row's answer: a choice's value, a number, a text (missing where blank or bad).
    missing : ndarray of bool
        The blank cells.
    bad : ndarray of int
        The positions of the cells that are no answer of the field.
    bad_values : list of str
        Those cells, as the rejects show them.
    reasons : list of str
        Why each of them is none (``not an option; expected one of ...``).
    """

    values: pd.Series
    missing: np.ndarray
    bad: np.ndarray
    bad_values: list[str]
    reasons: list[str]


def read_profile_column(instrument: Instrument, code: str, values: pd.Series) -> ProfileColumn:
    """The cells of the instrument's profile field ``code`` read as ``dmi score`` reads them:
    the field's parser of :func:`encode_answers` (an option's value or label, a number in the
    field's range), with the reasons it rejects a cell with.

    Raises
    ------
    KeyError
        The instrument has no profile field ``code``.
    """
    found = next(((f, parse) for f, parse in _plan(instrument).profile if f.code == code), None)
    if found is None:
        raise KeyError(f"instrument {instrument.id!r} has no profile field {code!r}")
    field_, parse = found
    n = len(values)
    return ProfileColumn(
        *_parse_profile(_cells(values), n, field_, parse, small=n <= SMALL_BATCH_ROWS)
    )


def _small_id_text(values: pd.Series) -> np.ndarray:
    """:func:`id_text` of a few cells, one :func:`normalise_cell` each."""
    return np.array([normalise_cell(v) or "" for v in values.tolist()], dtype=object)


def _not_one_value(values: pd.Series, small: bool) -> tuple[np.ndarray, list[str]]:
    """Positions of the cells that are a list or another object, not one value, and why."""
    if values.dtype != object or _plain_column(values):
        return np.empty(0, dtype=np.intp), []  # text or numbers throughout
    if small:
        keys = [cell_key(v) for v in values.tolist()]
        bad = np.array([isinstance(k, Cell) for k in keys], dtype=bool)
        return np.flatnonzero(bad), [k.what for k in keys if isinstance(k, Cell)]
    codes, uniques = factorize_cells(values)
    keys = _unique_texts(uniques)
    is_cell = np.fromiter((isinstance(k, Cell) for k in keys), dtype=bool, count=len(keys))
    if not is_cell.any():
        return np.empty(0, dtype=np.intp), []
    bad = np.flatnonzero(np.append(is_cell, False)[codes])
    return bad, [keys[c].what for c in codes[bad]]


@dataclass
class _Plan:
    """What encoding needs of an instrument, worked out once per instrument."""

    items: list[tuple[Item, Parser]]  # each item's parser, its parse memoised
    memos: list[_TextMemo]  # one per item
    policies: list[str]
    scenario_items: list[Item]
    scenario_columns: list[int]  # per item, its column of scenario_levels (-1: not a scenario)
    profile: list[tuple[ProfileField, Callable[[Key], tuple[Any, str | None]]]]
    counting_dimensions: list[tuple[Dimension, np.ndarray]]
    raw_parser: Parser


_PLANS: weakref.WeakKeyDictionary[Instrument, _Plan] = weakref.WeakKeyDictionary()


def dimension_column(code: str) -> str:
    """The rejects' column of a dimension's own problem (no answered item in it)."""
    return f"dim_{code}"


def left_unanswered(instrument: Instrument) -> dict[str, tuple[tuple[str, str | None], ...]]:
    """Each column -> the rejects' columns whose answer a blank in it can leave missing, each
    with the column that must be given for the blank to be why (None: none): an item's own and
    its dimension's (no answered item in it, :func:`dimension_column`), and a raw column's
    derived items' (``derive``) and their dimensions', where the item's other raw column is
    given (with both raw numbers blank the answer is missing whatever the unread one held)."""
    dimension_of = {p.item.code: dimension_column(p.dimension.code) for p in instrument.item_paths}
    out: dict[str, tuple[tuple[str, str | None], ...]] = {
        c: ((c, None), (d, None)) for c, d in dimension_of.items()
    }
    for item in instrument.derived_items:
        assert item.derive is not None
        raws = (item.derive.part, item.derive.whole)
        for raw, other in zip(raws, reversed(raws)):
            made = ((item.code, other), (dimension_of[item.code], other))
            out[raw] = (*out.get(raw, ((raw, None),)), *made)
    return out


def _plan(instrument: Instrument) -> _Plan:
    plan = _PLANS.get(instrument)
    if plan is None:
        items = []
        for item in instrument.items:
            parser = item_type(item).parser(item, instrument)
            items.append((item, dataclasses.replace(parser, parse=_memoised(parser.parse))))
        scenario_items = list(instrument.scenario_items())
        plan = _Plan(
            items=items,
            memos=[_TextMemo() for _ in items],
            policies=[instrument.missing_policy(item) for item in instrument.items],
            scenario_items=scenario_items,
            scenario_columns=[
                next((k for k, s in enumerate(scenario_items) if s.code == item.code), -1)
                for item in instrument.items
            ],
            profile=[(f, _memoised(_profile_parser(f))) for f in instrument.profile],
            # a dimension that counts must have at least one answered item
            counting_dimensions=[
                (
                    dimension,
                    np.array(
                        [j for j, p in enumerate(instrument.item_paths) if p.dimension is dimension]
                    ),
                )
                for dimension in instrument.dimensions
                if instrument.dimension_weight(dimension) > 0
            ],
            raw_parser=raw_parser(),
        )
        _PLANS[instrument] = plan
    return plan


def encode_answers(
    instrument: Instrument,
    answers: pd.DataFrame,
    *,
    first_row: int = 2,
    id_column: str = ID_COLUMN,
    rows: np.ndarray | None = None,
    free_text: bool = True,
    unique_ids: bool = False,
) -> EncodedAnswers:
    """Check every cell of an answers table against the instrument and score each item.

    Parameters
    ----------
    instrument
        The instrument the answers belong to.
    answers
        One row per respondent, one column per item code (plus ``respondent_id`` and profile
        fields). Columns the instrument does not know are ignored here (the reader reports them).
        An item whose column is absent counts as missing on every row.
    first_row
        The source row number of the first row of ``answers`` (2 for a file with a header line).
    id_column
        The column that identifies respondents. When it is absent, the row numbers are used.
    rows
        The source row number of every row (overrides ``first_row`` when a reader skipped
        rows, so that numbers are not consecutive).
    free_text
        Whether ``profile`` holds the optional free-text fields (a company name, say) that are
        not peer groups. They are never checked or scored, so leaving them out changes nothing
        else; it saves normalising text that scoring does not output.
    unique_ids
        True when the caller has already rejected every repeated id (the file pipeline's
        duplicate pass does, across the whole file): the check within this batch is skipped.

    Returns
    -------
    EncodedAnswers
    """
    n = len(answers)
    if rows is None:
        rows = np.arange(first_row, first_row + n, dtype=np.int64)
    else:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.shape != (n,):
            raise ValueError(f"expected {n} row numbers, got {rows.shape[0]}")
    plan = _plan(instrument)
    small = n <= SMALL_BATCH_ROWS
    columns = {name: _cells(values) for name, values in answers.items()}  # made once
    problem_rows = np.zeros(n, dtype=bool)
    reject_positions: list[np.ndarray] = []
    reject_columns: list[str] = []
    reject_values: list[str] = []
    reject_reasons: list[str] = []

    def add_rejects(
        positions: np.ndarray, column: str, values: Sequence[str], reasons: Sequence[str] | str
    ) -> None:
        if len(positions) == 0:
            return
        problem_rows[positions] = True
        reject_positions.append(np.asarray(positions, dtype=np.int64))
        reject_columns.extend([column] * len(positions))
        reject_values.extend(values)
        reject_reasons.extend([reasons] * len(positions) if isinstance(reasons, str) else reasons)

    # respondent ids (text, trimmed; full-width forms folded so "ＡＢ１" and "AB1" are one id)
    ids: Any
    if id_column in columns:
        arrow_ids = None if small else arrow_id_text(columns[id_column])
        if arrow_ids is not None:  # kept in Arrow: the scores table takes them as they are
            ids = pd.array(arrow_ids, dtype="str")
        else:
            ids = _small_id_text(columns[id_column]) if small else _id_text(columns[id_column])
        is_blank = np.asarray(ids == "", dtype=bool)
        blank = np.flatnonzero(is_blank)
        add_rejects(blank, id_column, [""] * len(blank), "respondent_id is blank")
        not_one, what = _not_one_value(columns[id_column], small)
        reasons = [f"expected one text or number, got {w}" for w in what]
        add_rejects(not_one, id_column, ids[not_one].tolist(), reasons)
        doubtful, shown, reasons = doubtful_ids(columns[id_column])
        add_rejects(doubtful, id_column, shown, reasons)
        if unique_ids:
            id_codes, dup_positions = np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
        else:
            id_codes, id_uniques = pd.factorize(ids)
            counts = np.bincount(id_codes, minlength=len(id_uniques))
            dup_positions = np.flatnonzero((counts[id_codes] > 1) & ~is_blank)
        if len(dup_positions):
            rows_of: dict[int, list[int]] = {}
            for pos in dup_positions.tolist():
                rows_of.setdefault(int(id_codes[pos]), []).append(int(rows[pos]))
            reasons = []
            for pos in dup_positions.tolist():
                same = rows_of[int(id_codes[pos])]
                shown = ", ".join(str(r) for r in same[:5]) + (" ..." if len(same) > 5 else "")
                reasons.append(f"duplicate respondent_id (rows {shown})")
            add_rejects(dup_positions, id_column, ids[dup_positions].tolist(), reasons)
    else:
        ids = rows.astype(str).astype(object)

    # raw numbers behind banded items (read once per column, shared by the items they feed)
    derivations: dict[str, Derivation] = {}
    if instrument.derived_items:
        raw_numbers: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for code in instrument.raw_columns:
            read = parse_column(columns.get(code), n, plan.raw_parser, small=small)
            add_rejects(read.error_rows, code, read.error_values, read.error_reasons)
            raw_numbers[code] = (read.raw, read.missing)
        derivations = derive(instrument, raw_numbers, add_rejects)

    # items
    # column-major: each item's column is written, and later read, as one contiguous run
    scores = np.empty((n, len(plan.items)), dtype=np.float64, order="F")
    missing_masks: list[np.ndarray] = []
    scenario_levels = np.full((n, len(plan.scenario_items)), -1, dtype=np.int16)
    for j, ((item, parser), policy) in enumerate(zip(plan.items, plan.policies)):
        result = parse_column(columns.get(item.code), n, parser, small=small, memo=plan.memos[j])
        add_rejects(result.error_rows, item.code, result.error_values, result.error_reasons)
        derivation = derivations.get(item.code)
        if derivation is not None:
            check_given(item, derivation, result.raw, columns.get(item.code), _shown, add_rejects)
            # a blank answer takes the band of the value derived from the raw numbers
            fill = result.missing & ~np.isnan(derivation.points)
            result.raw = np.where(fill, derivation.points, result.raw)
            result.missing = result.missing & ~fill
        if policy == "required":
            required_missing = np.flatnonzero(result.missing)
            add_rejects(
                required_missing, item.code, [""] * len(required_missing), "required answer missing"
            )
        missing_masks.append(result.missing)
        item_scores = item_type(item).score(item, instrument, result.raw)
        if policy == "lowest":
            item_scores = np.where(result.missing, 0.0, item_scores)
        scores[:, j] = item_scores
        k = plan.scenario_columns[j]
        if k >= 0:
            scenario_levels[:, k] = np.where(np.isnan(result.raw), -1, result.raw).astype(np.int16)

    # profile fields
    profile: dict[str, pd.Series] = {}
    for field_, parse_field in plan.profile:
        if field_.type == "text" and not (free_text or field_.required or field_.peer_group):
            continue
        values, missing, bad, bad_values, reasons = _parse_profile(
            columns.get(field_.code), n, field_, parse_field, small
        )
        add_rejects(bad, field_.code, bad_values, reasons)
        if field_.required:
            required_missing = np.flatnonzero(missing)
            add_rejects(
                required_missing,
                field_.code,
                [""] * len(required_missing),
                "required answer missing",
            )
        profile[field_.code] = values

    # a dimension that counts must have at least one answered item
    for dimension, item_columns in plan.counting_dimensions:
        unanswered = np.flatnonzero(np.isnan(scores[:, item_columns]).all(axis=1) & ~problem_rows)
        add_rejects(
            unanswered,
            dimension_column(dimension.code),
            [""] * len(unanswered),
            f"no answered item in dimension {dimension.code!r} ({dimension.en})",
        )

    valid = ~problem_rows
    scores[~valid] = np.nan
    imputed: dict[str, int] = {}
    excluded: dict[str, int] = {}
    for (item, _), policy, item_missing in zip(plan.items, plan.policies, missing_masks):
        count = int((item_missing & valid).sum())
        if count:
            (imputed if policy == "lowest" else excluded)[item.code] = count

    if reject_positions:
        positions = np.concatenate(reject_positions)
        rejects = pd.DataFrame(
            {
                "row": rows[positions],
                "respondent_id": np.asarray(ids[positions], dtype=object),
                "column": reject_columns,
                "value": reject_values,
                "reason": reject_reasons,
            }
        )
        rejects = rejects.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
    else:
        rejects = pd.DataFrame(
            {c: pd.Series(dtype="int64" if c == "row" else "object") for c in REJECT_COLUMNS}
        )
    return EncodedAnswers(
        item_codes=[item.code for item, _ in plan.items],
        scores=scores,
        scenario_codes=[item.code for item in plan.scenario_items],
        scenario_levels=scenario_levels,
        respondent_id=ids,
        row=rows,
        valid=valid,
        rejects=rejects,
        imputed=imputed,
        excluded=excluded,
        profile=pd.DataFrame(profile),
        # a derived value is a result column only where the answers had the item's raw columns
        derived={
            item.code: derivations[item.code].value
            for item in instrument.derived_items_given(columns)
        },
    )

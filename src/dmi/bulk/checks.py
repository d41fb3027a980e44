"""The row checks of a chunk that come before scoring: what a file holds that is not a company.

A blank line, a line that looks like a totals row (合计/总计/Total ...) and a cell the reader could
not read become rejects with these reasons; ragged lines come from the reader already rejected.
:func:`dmi.bulk.kernel.prepare_chunk` applies them (with the duplicate check of
:mod:`dmi.bulk.duplicates`) to every chunk, on either engine.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from dmi.columns import REJECT_COLUMNS
from dmi.text import match_key

__all__ = [
    "REASON_BLANK",
    "REASON_HEADER",
    "REASON_TOTALS",
    "TOTALS_WORDS",
    "all_blank",
    "control_characters",
    "control_reason",
    "control_shown",
    "looks_like_totals",
    "rejects_frame",
    "repeats_header",
]

TOTALS_WORDS = frozenset(
    {"合计", "总计", "小计", "汇总", "总数", "total", "totals", "grandtotal", "sum", "subtotal"}
    | {"平均", "平均值", "均值", "average", "mean", "avg"}
)
"""Words that mark a totals (or average) row when they are the whole id or first cell, alone or
with a note in brackets (总计(10家), Total (10 firms)); case, width and spaces ignored:
spreadsheets exported by agencies often end with one."""

_NOTE = re.compile(r"[(\[【].*[)\]】]$")  # after NFKC, （） are ()

REASON_BLANK = "blank line"
REASON_TOTALS = "looks like a totals row"
REASON_HEADER = "repeats the header row (files joined together?)"


def _totals_key(text: str) -> str:
    key = match_key(text)
    return _NOTE.sub("", key).rstrip(":：")


_CONTROL = r"[\x00-\x1f\x7f]"


def control_characters(values: pd.Series) -> np.ndarray:
    """Which cells hold a control character (U+0000 to U+001F, U+007F), as a mask: an id is
    printable text, and a NUL, a tab or a line break in it breaks the next tool that reads the
    outputs. (Arrow's strings: only the cells that are not printable ASCII, nearly none, are
    searched: 0.3 ms a 50,000-row chunk against 2.4 ms for a search of every cell.)"""
    if isinstance(values.array, pd.arrays.ArrowStringArray):
        import pyarrow.compute as pc

        array = values.array._pa_array
        doubt = np.flatnonzero(~np.asarray(pc.ascii_is_printable(array).fill_null(True)))
        out = np.zeros(len(values), dtype=bool)
        if len(doubt):
            found = pc.match_substring_regex(array.take(doubt), _CONTROL).fill_null(False)
            out[doubt] = np.asarray(found, dtype=bool)
        return out
    text = values.astype("str") if values.dtype == object else values
    return text.str.contains(_CONTROL, regex=True, na=False).to_numpy(dtype=bool)


def control_shown(text: str) -> str:
    """An id as the rejects show it: each control character written as ``\\xNN``."""
    return re.sub(_CONTROL, lambda m: f"\\x{ord(m.group()):02x}", text)


def control_reason(text: str) -> str:
    """The reason an id with a control character is rejected, naming the first one."""
    first = re.search(_CONTROL, text)
    assert first is not None, "only for an id with a control character"
    code = ord(first.group())
    return f"respondent_id holds a control character (U+{code:04X}); an id is printable text"


def looks_like_totals(values: pd.Series) -> np.ndarray:
    """Which cells are a totals word (case, width and spaces ignored), as a mask."""
    out = np.zeros(len(values), dtype=bool)
    if not len(values):
        return out
    text = values.astype("str") if values.dtype == object else values
    # ids carry digits and totals words do not (but for a note in brackets): only the few
    # digit-free cells, and those with a bracket, are looked at (one search of each cell)
    pattern = r"^[^0-9０-９]*$|[(（\[【]"
    if isinstance(text.array, pd.arrays.ArrowStringArray):
        import pyarrow.compute as pc

        found = pc.match_substring_regex(text.array._pa_array, pattern).fill_null(False)
        candidates = np.flatnonzero(np.asarray(found, dtype=bool))
    else:
        candidates = np.flatnonzero(
            text.str.contains(pattern, regex=True, na=False).to_numpy(dtype=bool)
        )
    if len(candidates):
        subset = values.iloc[candidates]
        codes, uniques = pd.factorize(subset, use_na_sentinel=True)
        flags = np.array(
            [isinstance(v, str) and _totals_key(v) in TOTALS_WORDS for v in uniques] + [False],
            dtype=bool,
        )
        out[candidates] = flags[codes]
    return out


def rejects_frame(rows: Any, ids: Any, columns: Any, values: Any, reasons: Any) -> pd.DataFrame:
    """A rejects table (``row, respondent_id, column, value, reason``); a column or reason
    given as one text applies to every row."""
    return pd.DataFrame(
        {
            "row": np.asarray(rows, dtype=np.int64),
            "respondent_id": list(ids),
            "column": columns if isinstance(columns, str) else list(columns),
            "value": list(values),
            "reason": reasons if isinstance(reasons, str) else list(reasons),
        },
        columns=REJECT_COLUMNS,
    )


def all_blank(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is blank or only spaces, column by column (no frame of flags is
    built; after the first column only the rows still blank are looked at, nearly none)."""
    blank = np.ones(len(frame), dtype=bool)
    for _, column in frame.items():
        at = np.flatnonzero(blank)
        cells = column if len(at) == len(column) else column.iloc[at]
        blank[at] = cells.isna().to_numpy() | _only_spaces(cells)
        if not blank.any():
            break
    return blank


def _only_spaces(cells: pd.Series) -> np.ndarray:
    """Which cells are text of nothing but spaces, or empty (a mask; numbers are not)."""
    if isinstance(cells.array, pd.arrays.ArrowStringArray):
        import pyarrow.compute as pc

        text = cells.array._pa_array
        spaces = pc.or_(pc.utf8_is_space(text), pc.equal(pc.binary_length(text), 0))
        return np.asarray(spaces.fill_null(False), dtype=bool)
    if cells.dtype != object and not pd.api.types.is_string_dtype(cells.dtype):
        return np.zeros(len(cells), dtype=bool)
    return np.fromiter((isinstance(v, str) and not v.strip() for v in cells), bool, len(cells))


def repeats_header(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Which rows repeat the header: the cells of the first two of ``columns`` (the id's and
    the next one read; the one, when there is one) are their headers as written, trimmed, as in
    a file made of several exports joined together. Two columns, not every one: a row of text
    where numbers go is one row to reject, and comparing two columns costs next to nothing."""
    found = np.zeros(len(frame), dtype=bool)
    if not columns or not len(frame):
        return found
    found[:] = True
    for column in columns[:2]:
        cells = frame[column].astype("string").str.strip()
        found &= (cells == column.strip()).fillna(False).to_numpy(dtype=bool)
    return found

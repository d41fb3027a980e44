"""Respondent ids that a spreadsheet has already changed, whatever the file they come in.

Excel keeps 15 significant digits: an 18-digit 统一社会信用代码 typed as a number has lost its
last digits, and in a CSV file opened in Excel and saved again it is written as Excel shows it
(``9.13101E+17``). Excel also turns some ids into dates (``1-5``), and a formula that failed
into an error value (``#VALUE!``); a file written for Excel to show an id as text wraps it in a
formula (``="0012"``). None of these is the firm's id any more: the row is rejected
with the reason, never scored under it (nor taken for a repeat of another firm's id).
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DATE_ID", "EXCEL_ERROR_ID", "EXCEL_TEXT_FORMULA_ID", "LOST_DIGITS", "doubtful_ids"]

LOST_DIGITS = (
    "a number with more than 15 significant digits has lost digits in Excel; store ids as text"
)
DATE_ID = "a date, not an id: Excel turned the id into a date; store ids as text"
EXCEL_ERROR_ID = "an Excel error value, not an id: correct it in the workbook and save it again"
EXCEL_TEXT_FORMULA_ID = (
    'an Excel formula (="..."), not an id: the file wraps ids for Excel to show them as text; '
    "give the id itself (open the file in Excel and save it again)"
)

# Excel's display of a big number (9.13101E+17) and its error values, as text
_SHORTENED = r"[+-]?\d+(?:\.\d+)?[eE]\+?\d+"
_ERRORS = r"#(?:VALUE!|N/A|REF!|DIV/0!|NAME\?|NUM!|NULL!|SPILL!|CALC!|GETTING_DATA)"
_TEXT_FORMULA = r'=\s*"[^"]*"'  # ="0012": Excel shows 0012, as text
_DOUBTFUL_TEXT = rf"^\s*(?:{_SHORTENED}|{_ERRORS}|{_TEXT_FORMULA})\s*$"


def doubtful_ids(values: pd.Series) -> tuple[np.ndarray, list[str], list[str]]:
    """Ids that a spreadsheet has already changed: positions, the cells as shown, the reasons.

    - A number of 16 digits or more (1e15 and up), stored as a float or written as Excel shows
      it (``9.13101E+17``): it has lost digits.
    - A date (an XLSX cell): an id Excel took for one.
    - An Excel error value (``#VALUE!``, ``#N/A`` ...), as text.
    - An id wrapped in Excel's text formula (``="0012"``), as text.

    Other text ids, integers (exact, as Parquet stores them) and whole floats below 1e15
    (``1001.0`` is the id ``"1001"``) are left alone; so is a text date (``2024/1/5`` may be a
    code), which only a workbook's cell type tells apart.
    """
    none = (np.empty(0, dtype=np.intp), [], [])
    if values.dtype.kind == "f":
        numbers = values.to_numpy()
        at = np.flatnonzero(np.abs(np.nan_to_num(numbers)) >= 1e15)
        return at, [f"{numbers[i]:.15G}" for i in at], [LOST_DIGITS] * len(at)
    if values.dtype != object:
        if not pd.api.types.is_string_dtype(values.dtype):
            return none
        # text (a CSV's column): only the few cells that look like one are looked at
        at = np.flatnonzero(_looks_doubtful(values))
        cells = [str(v) for v in values.iloc[at].tolist()]
        reasons = [_text_doubt(c) for c in cells]
        keep = [i for i, r in enumerate(reasons) if r is not None]
        return at[keep], [cells[i] for i in keep], [reasons[i] for i in keep]  # type: ignore[misc]

    def doubt(value: Any) -> str | None:
        if isinstance(value, (float, np.floating)) and math.isfinite(value) and abs(value) >= 1e15:
            return LOST_DIGITS
        if isinstance(value, (datetime.date, datetime.time)):
            return DATE_ID
        if isinstance(value, str):
            return _text_doubt(value)
        return None

    # cell by cell: an id column of objects (XLSX, the API) may hold lists or dicts, which
    # cannot be factorised, and a date must be seen as the date it is
    cells = values.to_numpy(dtype=object)
    found_cells = [(i, r) for i, r in enumerate(map(doubt, cells)) if r is not None]
    if not found_cells:
        return none
    at = np.array([i for i, _ in found_cells], dtype=np.intp)
    reasons = [r for _, r in found_cells]
    shown = [_shown(cells[i], r) for i, r in found_cells]
    return at, shown, reasons


def _looks_doubtful(values: pd.Series) -> np.ndarray:
    """Which text cells may be Excel's shortened number, error value or text formula: for
    Arrow's strings, those holding a ``+``, a ``#`` or an ``=`` (an Arrow kernel, without a
    Python call a cell; nearly none do), which :func:`_text_doubt` then decides, as it decides
    every other column's cells (one rule: Arrow's regex would take ``\\s`` for ASCII space only)."""
    array = values.array
    if isinstance(array, pd.arrays.ArrowStringArray):
        import pyarrow.compute as pc

        marked = pc.match_substring_regex(array._pa_array, "[+#=]").fill_null(False)
        return np.asarray(marked, dtype=bool)
    return values.str.contains(_DOUBTFUL_TEXT, regex=True, na=False).to_numpy(dtype=bool)


def _text_doubt(text: str) -> str | None:
    """The reason a text id is doubtful, or None."""
    text = text.strip()
    if re.fullmatch(_ERRORS, text):
        return EXCEL_ERROR_ID
    if re.fullmatch(_TEXT_FORMULA, text):
        return EXCEL_TEXT_FORMULA_ID
    if re.fullmatch(_SHORTENED, text):
        try:
            return LOST_DIGITS if abs(float(text)) >= 1e15 else None
        except ValueError:
            return None
    return None


def _shown(value: Any, reason: str) -> str:
    if isinstance(value, str):
        return value
    if reason == LOST_DIGITS:
        return f"{value:.15G}"
    return value.isoformat()

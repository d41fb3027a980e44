"""KoboToolbox (and ODK) data exports read as answers, from the form ``dmi xlsform`` writes.

The rules (docs/survey-tools.md says them for users):

- Headers are question names or labels (either language), with their groups before them,
  joined by ``/`` (``foundation/network``): the longest tail of a header that is a column's code
  or text names the column.
- Answers are XML values (the choices' names, as the template writes them) or labels in either
  language; a ``select_multiple`` is one column of space-separated values (or labels) or, split,
  one 0/1 column per choice headed ``question/choice``. When a question has both, its one column
  is read and the split columns are listed as ignored.
- Meta columns (``_id``, ``_uuid``, ``_submission_time``, ``_index``, ``_validation_status``,
  ``start``, ``end``, ``meta/instanceID`` ... : a name starting with ``_``, or a known meta name
  or group) are dropped, and listed in the summary; the respondent id is the column chosen
  (``--id-column``), by default ``_uuid``, else ``_id``.
- A label that names no choice is kept as written, so the item rejects it with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dmi.columns import ID_COLUMN
from dmi.errors import FileFormatError, UsageError
from dmi.instruments import Instrument
from dmi.io.readers import TableReader
from dmi.io.tools import (
    PlainColumn,
    Source,
    SourceLayout,
    combine_flags,
    mapped,
    norm,
    plain_columns,
    text_targets,
)

__all__ = ["DEFAULT_ID_COLUMN", "KoboLayout"]

DEFAULT_ID_COLUMN = "_uuid"
"""The column the respondent id is taken from unless another is chosen."""

_META_NAMES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "simserial",
        "subscriberid",
        "phonenumber",
        "audit",
        "instanceid",
        "__version__",
    }
)
_META_GROUPS = frozenset({"meta", "formhub"})


def _is_meta(header: str) -> bool:
    parts = [p.strip() for p in header.split("/")]
    return (
        parts[-1].startswith("_")
        or parts[-1].casefold() in _META_NAMES
        or parts[0].casefold() in _META_GROUPS
    )


@dataclass
class _Split:
    """A split ``select_multiple`` column: its question and choice value."""

    code: str
    value: str
    header: str


class KoboLayout(SourceLayout):
    """The layout of one KoboToolbox export (see the module for its rules)."""

    name = "kobo"

    def __init__(self, reader: TableReader, instrument: Instrument, source: Source) -> None:
        super().__init__()
        headers = list(reader.columns)
        columns = plain_columns(instrument)
        texts = text_targets(instrument)
        meta: list[str] = []
        unmatched: list[str] = []
        whole: dict[str, str] = {}  # code -> header
        splits: dict[str, list[_Split]] = {}
        id_header = source.id_column
        if id_header is not None and id_header not in headers:
            raise UsageError(
                f"{reader.path}: no column {id_header!r} to take the respondent id from; the "
                f"file's columns are {', '.join(headers)}"
            )
        if id_header is None:
            id_header = next((h for h in (DEFAULT_ID_COLUMN, "_id") if h in headers), None)
        for header in headers:
            if header == id_header:
                continue
            if _is_meta(header):
                meta.append(header)
                continue
            found = _question(header, texts)
            if found is not None and found != ID_COLUMN:
                if found in whole:
                    unmatched.append(header)
                else:
                    whole[found] = header
                continue
            split = _split(header, texts, columns)
            if split is not None:
                splits.setdefault(split.code, []).append(split)
            else:
                unmatched.append(header)
        self._make: dict[str, tuple[list[str], Any]] = {}
        self._split_codes: set[str] = set()
        ignored: list[str] = []
        for code in columns:
            if code in whole:
                self._make[code] = ([whole[code]], self._whole(columns[code]))
                ignored += [s.header for s in splits.get(code, [])]
            elif code in splits:
                parts = splits[code]
                self._make[code] = ([s.header for s in parts], self._flags(parts))
                self._split_codes.add(code)
        if not self._make:
            raise FileFormatError(
                f"{reader.path}: no column of this KoboToolbox export matches a question of "
                f"{instrument.id}; expected the question names of `dmi xlsform "
                f"{instrument.id}` (such as {instrument.items[0].code}), with or without "
                f"their groups (unmatched: {', '.join(unmatched[:8])})",
                path=reader.path,
                problem="no_items",
                instrument=instrument.id,
            )
        if id_header is not None:
            self._make = {ID_COLUMN: ([id_header], None), **self._make}
        self.id_source = id_header
        self.columns = list(self._make)
        self.notes.append("read as a KoboToolbox export")
        if id_header is None:
            self.notes.append(
                "KoboToolbox export without _uuid or _id: each row's respondent_id is its row "
                "number (choose a column with --id-column)"
            )
        else:
            self.notes.append(f"KoboToolbox respondent ids from column {id_header}")
        if meta:
            self.notes.append("KoboToolbox meta columns dropped: " + ", ".join(meta))
        if ignored:
            self.notes.append(
                "KoboToolbox split select_multiple columns ignored (the question's own column "
                "is read): " + ", ".join(ignored)
            )
        if unmatched:
            self.notes.append(
                f"KoboToolbox columns matching no question of {instrument.id} (ignored): "
                + ", ".join(unmatched)
            )

    def _whole(self, column: PlainColumn) -> Any:
        if column.kind == "value":
            return None

        def one(cell: str) -> str:
            value = column.lookup.get(norm(cell))
            return cell if value is None else value

        def several(cell: str) -> str:
            # values are names without spaces; labels may hold spaces: read the words as the
            # fewest labels or values that cover them, else keep the cell for the item to reject
            words = cell.split()
            found = _cover(words, column.lookup)
            return cell if found is None else ";".join(found)

        return one if column.kind == "single" else several

    def _flags(self, parts: list[_Split]) -> Any:
        values = [s.value for s in parts]
        headers = [s.header for s in parts]

        def make(cells: list[np.ndarray]) -> np.ndarray:
            answers, bad = combine_flags(cells, values, len(cells[0]))
            for at in np.flatnonzero(bad):
                for column, header in zip(cells, headers):
                    if column[at] is not None and column[at] not in ("0", "1"):
                        answers[at] = f"{header}: {column[at]}"
                        break
            return answers

        return make

    def sources(self, column: str) -> list[str]:
        return list(self._make[column][0])

    def convert(self, frame: pd.DataFrame, rows: np.ndarray, wanted: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for code in wanted:
            headers, make = self._make[code]
            if len(headers) > 1 or code in self._split_codes:
                out[code] = make([mapped(frame[h]) for h in headers])
            else:
                out[code] = mapped(frame[headers[0]], make)
        return out


def _question(header: str, texts: dict[str, str]) -> str | None:
    """The column a header names: its longest tail (after group names) that is a code or text."""
    parts = header.split("/")
    for start in range(len(parts)):
        found = texts.get(norm("/".join(parts[start:])))
        if found is not None:
            return found
    return None


def _split(header: str, texts: dict[str, str], columns: dict[str, PlainColumn]) -> _Split | None:
    """A split ``select_multiple`` column ``[group/]question/choice``, or None."""
    parts = header.split("/")
    for cut in range(len(parts) - 1, 0, -1):
        code = _question("/".join(parts[:cut]), texts)
        if code is None or columns[code].kind != "multi":
            continue
        value = columns[code].lookup.get(norm("/".join(parts[cut:])))
        if value is not None:
            return _Split(code, value, header)
    return None


def _cover(words: list[str], lookup: dict[str, str]) -> list[str] | None:
    """The fewest choices whose values or labels, one after another, are ``words`` (None when
    they cannot be read so); ``lookup`` maps a :func:`norm` text to a choice's value."""
    n = len(words)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(end):
            before = best[start]
            value = None if before is None else lookup.get(norm("".join(words[start:end])))
            if value is None or before is None:
                continue
            current = best[end]
            if current is None or len(before) + 1 < len(current):
                best[end] = [*before, value]
    return best[n]

"""KoboToolbox (and ODK) data exports read as answers, from the form ``dmi xlsform`` writes.

The rules (docs/survey-tools.md says them for users):

- Headers are question names or labels (either language), with their groups before them,
  joined by the export's group separator, ``/`` by default, or ``.`` or ``:``
  (``foundation/network``, ``foundation.network``): the longest tail of a header after a
  separator that is a column's code or text names the column.
- Answers are XML values (the choices' names, as the template writes them) or labels in either
  language; a ``select_multiple`` is one column of space-separated values (or labels) or, split,
  one 0/1 column per choice headed ``question/choice``. When a question has both, its one column
  is read and the split columns are listed as ignored.
- Values and labels are both read (``auto``): an instrument refuses a label that is another
  choice's value, so a cell is never both. Choosing one (``Source.kobo_answers``,
  ``--kobo-answers values|labels``) reads only it, which settles a select_multiple cell of labels
  holding spaces that two ways of cutting it would read differently, and stops the read at a cell
  written the other way (a label in a values export, a value in a labels one), naming row,
  column and cell.
- Meta columns (``_id``, ``_uuid``, ``_submission_time``, ``_index``, ``_validation_status``,
  ``start``, ``end``, ``meta/instanceID`` ... : a name starting with ``_``, or a known meta name
  or group) are dropped, and listed in the summary; the respondent id is the column chosen
  (``--id-column``), by default a question of the id (named by :data:`dmi.io.ID_ALIASES`, in a
  group or not: the column ``dmi eligibility`` takes too), else ``_uuid``, else ``_id``.
- A label that names no choice is kept as written, so the item rejects it with its reason (which
  lists the choices); a split column's cell that is not 0, 1 or blank rejects its row, naming
  the column, the cell and what was expected, and so does a 1 in the split column of a choice
  the question does not have (``foundation/network/F``, added to the form in KoboToolbox).
- A custom column map (``--map``) names the export's own headers: each it sends to a column is
  that column's one column, before the rules above match the others; ``""`` leaves a header
  out; a split 0/1 column can only be left out.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dmi.columns import ID_COLUMN
from dmi.errors import FileFormatError
from dmi.instruments import Instrument
from dmi.io.readers import TableReader, UnreadableCells
from dmi.io.tools import (
    EXPORT_ID_COLUMNS,
    Contradiction,
    PlainColumn,
    Source,
    SourceLayout,
    bad_cells,
    combine_flags,
    detected_hint,
    lacking_note,
    layout_note,
    map_id,
    mapped,
    norm,
    option_column,
    plain_columns,
    reject_reason,
    text_targets,
)

__all__ = ["DEFAULT_ID_COLUMN", "KoboLayout", "meta_headers"]

DEFAULT_ID_COLUMN = EXPORT_ID_COLUMNS["kobo"][0]  # _uuid
"""The column the respondent id is taken from unless another is chosen or a question asks
for the id."""

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
_FLAG_EXPECTED = reject_reason("kobo_zero_one")
_SEPARATORS = re.compile(r"[/.:]")
"""The group separators of KoboToolbox's exports: ``/`` (its default), ``.`` and ``:``."""


def meta_headers(headers: list[str]) -> list[str]:
    """The headers, as written, that are a KoboToolbox export's own columns (``_uuid``,
    ``start``, ``meta/instanceID`` ...), never a question's."""
    return [h for h in headers if _is_meta(h)]


def _is_meta(header: str) -> bool:
    parts = [p.strip() for p in _SEPARATORS.split(header)]
    return (
        parts[-1].startswith("_")
        or parts[-1].casefold() in _META_NAMES
        or parts[0].casefold() in _META_GROUPS
    )


@dataclass
class _Split:
    """A split ``select_multiple`` column: its question and choice value (None: a choice the
    instrument's question does not have)."""

    code: str
    value: str | None
    header: str


class KoboLayout(SourceLayout):
    """The layout of one KoboToolbox export (see the module for its rules); ``read_elsewhere``
    names its headers another reader of the file reads (:meth:`SourceLayout.read_headers`)."""

    name = "kobo"

    def __init__(
        self,
        reader: TableReader,
        instrument: Instrument,
        source: Source,
        column_map: dict[str, str] | None = None,
        *,
        read_elsewhere: Collection[str] = (),
    ) -> None:
        super().__init__()
        headers, mapped = self.read_headers(reader, instrument, column_map, read_elsewhere)
        columns = plain_columns(instrument)
        texts = text_targets(instrument)
        meta: list[str] = []
        unmatched: list[str] = []
        whole: dict[str, str] = {}  # code -> header
        splits: dict[str, list[_Split]] = {}
        id_header = map_id(reader, source, mapped)  # or the column the map sends to the id
        if id_header is None and ID_COLUMN in headers and not any(map(_is_meta, headers)):
            # dmi's own template (its respondent_id, no column KoboToolbox adds): read as an
            # export, every id would become its row number
            raise FileFormatError(
                f"{reader.path}: not a KoboToolbox export: it has a {ID_COLUMN} column and none "
                "that KoboToolbox adds (_uuid, _id, _submission_time ...); read it as a plain "
                "file (--from plain, or auto)",
                path=reader.path,
            )
        if id_header is None:
            # a question of the respondent's id (a form's respondent_id, 统一社会信用代码), else
            # the submission's: the ids dmi eligibility takes from the same export, as 问卷星's
            # layout takes an id question before 序号
            asked = (h for h in headers if h not in mapped and _question(h, texts) == ID_COLUMN)
            given = (h for h in EXPORT_ID_COLUMNS["kobo"] if h in headers and h not in mapped)
            id_header = next(asked, None) or next(given, None)
        # the headers the column map sends to a column take it first
        for header, code in mapped.items():
            if code in ("", ID_COLUMN):
                continue
            split = _split(header, texts, columns)
            if split is not None and split.code == code:
                raise option_column(header, code, code)
            if code in whole:
                unmatched.append(header)
            else:
                whole[code] = header
        for header in headers:
            if header == id_header or header in mapped:
                continue
            found = _question(header, texts)
            if found is not None and found != ID_COLUMN:
                if found in whole:
                    unmatched.append(header)
                else:
                    whole[found] = header
                continue
            if _is_meta(header):
                meta.append(header)
                continue
            split = _split(header, texts, columns)
            if split is not None:
                splits.setdefault(split.code, []).append(split)
            else:
                unmatched.append(header)
        self.path = reader.path
        self.instrument = instrument
        self.answers = source.kobo_answers
        self.forced = self.answers != "auto"
        self._make: dict[str, tuple[list[str], Any]] = {}
        self._split_codes: set[str] = set()
        ignored_of: dict[str, str] = {}  # header -> the question whose own column is read
        lacking: list[str] = []
        for code in columns:
            if code in whole:
                self._make[code] = ([whole[code]], self._whole(columns[code], whole[code]))
                ignored_of |= {s.header: code for s in splits.get(code, [])}
            elif any(s.value is not None for s in splits.get(code, [])):
                parts = splits[code]
                self._make[code] = ([s.header for s in parts], self._flags(parts))
                self._split_codes.add(code)
                lacking += [s.header for s in parts if s.value is None]
            else:  # only choices the question does not have: no column of it
                unmatched += [s.header for s in splits.get(code, [])]
        if not self._make:
            raise FileFormatError(
                f"{reader.path}: no column of this KoboToolbox export matches a question of "
                f"{instrument.id}; expected the question names of `dmi xlsform "
                f"{instrument.id}` (such as {instrument.items[0].code}), with or without "
                f"their groups (unmatched: {', '.join(unmatched[:8])})"
                + detected_hint(source, "KoboToolbox"),
                path=reader.path,
                problem="no_items",
                instrument=instrument.id,
            )
        if id_header is not None:
            self._make = {ID_COLUMN: ([id_header], None), **self._make}
        self.id_source = id_header
        self.columns = list(self._make)
        self.notes.append(
            "read as a KoboToolbox export"
            + (f" (choices as {self.answers}, chosen)" if self.forced else "")
            + layout_note(source)
        )
        if id_header is None:
            self.notes.append(
                "KoboToolbox export without _uuid or _id: each row's respondent_id is its row "
                "number (choose a column with --id-column)"
            )
        else:
            self.notes.append(f"KoboToolbox respondent ids from column {id_header}")
        if meta:
            self.notes.append("KoboToolbox meta columns dropped: " + ", ".join(meta))
        if ignored_of:
            self.notes.append(
                "KoboToolbox split select_multiple columns ignored (the question's own column "
                "is read): " + ", ".join(ignored_of)
            )
        self.note_map("KoboToolbox", mapped)
        if lacking:
            self.notes.append(lacking_note("KoboToolbox", lacking))
        if unmatched:
            self.notes.append(
                f"KoboToolbox columns matching no question of {instrument.id} (ignored): "
                + ", ".join(unmatched)
            )
        answers: dict[str, str] = {}
        options: dict[str, str] = {}
        for code, (sources, _) in self._make.items():
            for header in sources if code != ID_COLUMN else ():
                (options if code in self._split_codes else answers)[header] = code
        self.set_uses(
            headers,
            id={id_header: ID_COLUMN} if id_header is not None else {},
            lacking={h: options[h] for h in lacking if h in options},
            answer=answers,
            option=options,
            meta=meta,
            split_ignored=ignored_of,
            left_out=[h for h, c in mapped.items() if not c],
            unmatched=unmatched,
        )

    def _whole(self, column: PlainColumn, header: str) -> Any:
        if column.kind == "value":
            return None
        if self.forced:
            lookup = column.values if self.answers == "values" else column.labels
            # the other way of writing the choices: a cell in it contradicts the choice
            other = column.labels if self.answers == "values" else column.values
        else:
            lookup, other = column.lookup, {}

        def one(cell: str) -> str:
            value = lookup.get(norm(cell))
            if value is None and norm(cell) in other:
                raise Contradiction(header, cell, column)
            return cell if value is None else value

        def several(cell: str) -> str:
            # values are names without spaces; labels may hold spaces: read the words as the
            # fewest labels or values that cover them, else keep the cell for the item to reject
            words = cell.split()
            found = _cover(words, lookup)
            if found is None and other and _cover(words, other) is not None:
                raise Contradiction(header, cell, column)
            return cell if found is None else ";".join(found)

        return one if column.kind == "single" else several

    def _flags(self, parts: list[_Split]) -> Any:
        values = [s.value for s in parts]
        headers = [s.header for s in parts]
        lacking = reject_reason(
            "lacking_kobo", question=parts[0].code, instrument=self.instrument.id
        )

        def make(cells: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[str, np.ndarray, str]]]:
            answers, bad = combine_flags(cells, values, len(cells[0]))
            odd = []
            for column, header, value in zip(cells, headers, values):
                wrong = pd.notna(column) & (column != "0") & (column != "1")
                if wrong.any():
                    odd.append((header, wrong, _FLAG_EXPECTED))
                if value is None and (column == "1").any():
                    odd.append((header, column == "1", lacking))
            for _, rows, _ in odd:
                bad = bad | rows
            answers[bad] = None  # a row with an odd cell is rejected for it
            return answers, odd

        return make

    def sources(self, column: str) -> list[str]:
        return list(self._make[column][0])

    def convert(
        self, frame: pd.DataFrame, rows: np.ndarray, wanted: list[str]
    ) -> tuple[dict[str, Any], list[UnreadableCells]]:
        out: dict[str, Any] = {}
        bad: list[UnreadableCells] = []
        for code in wanted:
            headers, make = self._make[code]
            if len(headers) > 1 or code in self._split_codes:
                cells = {h: mapped(frame[h]) for h in headers}
                out[code], odd = make(list(cells.values()))
                bad += [bad_cells(code, h, cells[h], rows, wrong, why) for h, wrong, why in odd]
                continue
            try:
                out[code] = mapped(frame[headers[0]], make)
            except Contradiction as contradiction:
                raise self._contradiction(contradiction, frame, rows) from None
        return out, bad

    def _contradiction(
        self, bad: Contradiction, frame: pd.DataFrame, rows: np.ndarray
    ) -> FileFormatError:
        """The error of a cell that contradicts the choice of values or labels."""
        at = int(np.flatnonzero(mapped(frame[bad.header]) == bad.cell)[0])
        row = int(rows[at])
        if self.answers == "values":
            what, expected = "a choice's label, not its value", "the choices' names (XML values)"
            shown = ", ".join(str(c.value) for c in bad.column.choices[:8])
        else:
            what, expected = "a choice's value (XML value), not its label", "the choices' labels"
            shown = ", ".join(c.zh for c in bad.column.choices[:8])
        other = "labels" if self.answers == "values" else "values"
        return FileFormatError(
            f"{self.path}: row {row}, column {bad.header}: {bad.cell!r} is {what}, but the "
            f"KoboToolbox export is read as {self.answers} (--kobo-answers {self.answers}); "
            f"expected {expected}: {shown}. Choose --kobo-answers {other} (or auto) if the "
            f"export holds {other}",
            path=self.path,
            row=row,
            column=bad.header,
            value=bad.cell,
        )


def _cuts(header: str) -> list[int]:
    """Where a header may be cut into groups, question and choice: at each group separator."""
    return [m.start() for m in _SEPARATORS.finditer(header)]


def _question(header: str, texts: dict[str, str]) -> str | None:
    """The column a header names: its longest tail (after group names) that is a code or text."""
    for start in [-1, *_cuts(header)]:
        found = texts.get(norm(header[start + 1 :]))
        if found is not None:
            return found
    return None


def _split(header: str, texts: dict[str, str], columns: dict[str, PlainColumn]) -> _Split | None:
    """A split ``select_multiple`` column ``[group/]question/choice``, or None. A choice that is
    none of the question's (added to the form in KoboToolbox) is a split column too, of value
    None: a row choosing it is rejected."""
    found = None
    for cut in reversed(_cuts(header)):
        code = _question(header[:cut], texts)
        if code is None or columns[code].kind != "multi":
            continue
        value = columns[code].lookup.get(norm(header[cut + 1 :]))
        if value is not None:
            return _Split(code, value, header)
        found = found or _Split(code, None, header)
    return found


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

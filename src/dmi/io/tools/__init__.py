"""Exports of survey tools read as answers files: 问卷星 (wjx.cn) and KoboToolbox.

A survey tool's export is a table like any other (CSV, XLSX), in the tool's own layout: its
meta columns, its headers (``N、题干``, ``group/question``), its ways of writing a multiple
choice (``┋``-joined, one 0/1 column per option) and a skipped question (``-2``, ``(跳过)``).
A :class:`SourceLayout` turns the file's columns into the plain layout of ``dmi template``
(``respondent_id``, profile fields, one column per item, answers as the template writes them),
chunk by chunk, and a :class:`LayoutReader` hands those chunks on exactly as the
:class:`~dmi.io.readers.TableReader` it wraps read them: the same rows, the same row numbers,
the same ragged lines. Nothing is dropped: a cell the layout cannot read (an option number
the question does not have, a 0/1 column holding something else) rejects its row, naming the
file's column, the cell and what was expected.

:func:`open_source` opens a file in the layout asked for (``plain``, ``wjx``, ``kobo``) or the
one its headers show (``auto``, see :func:`detect_source`).
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmi.columns import ID_COLUMN
from dmi.errors import FileFormatError, UsageError
from dmi.instruments import Instrument
from dmi.instruments.items import Choice, item_type
from dmi.io.mapping import ID_ALIASES, ColumnMapping, check_map_codes, map_columns, map_entries
from dmi.io.readers import (
    Chunk,
    RaggedRow,
    StrayCells,
    TableReader,
    UnbalancedLine,
    UnreadableCells,
    open_table,
)
from dmi.text import folded, match_key

__all__ = [
    "DEFAULT_MIN_SECONDS_PER_QUESTION",
    "KOBO_ANSWERS",
    "SOURCES",
    "WJX_VARIANTS",
    "LayoutReader",
    "Source",
    "SourceLayout",
    "EXPORT_ID_COLUMNS",
    "HEADER_USES",
    "HeaderUse",
    "REJECT_REASONS",
    "chosen_id_header",
    "detect_source",
    "export_id_header",
    "map_source",
    "open_source",
    "tool_layout",
]

Skipped = RaggedRow | UnbalancedLine | StrayCells
"""A line or row the reader skipped (see :attr:`dmi.io.Chunk.ragged`)."""


@dataclass(frozen=True)
class PlainLine:
    """A line the reader skipped, as a survey tool's layout hands it on in the plain layout.

    The run takes a skipped line's respondent id from its field under the id column: here
    the fields the :class:`LayoutReader` can place, one per column it gives, are the export's
    id column's under the plain ``respondent_id`` and the line's own under a column handed on
    as the file has it (:attr:`LayoutReader.kept`); the others, and a field the line ends
    before, are blank. What the rejects show of the line is the line as written
    (:attr:`value`), with its row, reason and column.

    Attributes
    ----------
    line : RaggedRow or UnbalancedLine or StrayCells
        The line as the reader skipped it.
    fields : list of str
        Its fields laid out as the reader's columns (see above).
    column : str
        The column the rejects name (as the file writes its header; "" for none).
    """

    line: Skipped
    fields: list[str]
    column: str = ""

    @property
    def row(self) -> int:
        return self.line.row

    @property
    def blank(self) -> bool:
        return self.line.blank

    @property
    def reason(self) -> str:
        return self.line.reason

    @property
    def value(self) -> str:
        """The line's fields as written (see the reader's line)."""
        return self.line.value


SOURCES = ("auto", "plain", "wjx", "kobo")
"""The layouts an answers file may be read in (``dmi score --from``)."""

WJX_VARIANTS = ("auto", "codes", "texts")
"""问卷星's export variants (``dmi score --wjx-variant``): ``codes`` 按选项序号 (option numbers),
``texts`` 按选项文本 (option texts), ``auto`` told from the cells."""

KOBO_ANSWERS = ("auto", "values", "labels")
"""How a KoboToolbox export writes its choices (``dmi score --kobo-answers``): ``values`` (XML
values, the choices' names), ``labels`` (in either language), ``auto`` both."""

DEFAULT_MIN_SECONDS_PER_QUESTION = 2.0
"""问卷星: answers given in less time than this per question answered are flagged as implausibly
fast (not rejected)."""

SAMPLE_ROWS = 2000
"""The first rows of a file whose cells tell how it writes its answers (问卷星's variant,
KoboToolbox's values or labels) when that is not chosen."""


@dataclass(frozen=True)
class Source:
    """How to read an answers file: its layout and the layout's settings.

    Attributes
    ----------
    kind : {"auto", "plain", "wjx", "kobo"}, default="auto"
        The layout; ``auto`` takes the one the headers show (:func:`detect_source`).
    id_column : str, optional
        The file's column that holds the respondent id (a header of the file). Default: a
        question of the id (企业编号, 统一社会信用代码 ...), else 问卷星's ``序号``,
        KoboToolbox's ``_uuid``.
    min_seconds_per_question : float, default=2.0
        问卷星: answers given faster than this per question are flagged in the run summary.
    wjx_variant : {"auto", "codes", "texts"}, default="auto"
        问卷星: the export variant, 按选项序号 (``codes``) or 按选项文本 (``texts``); ``auto``
        tells it from the cells, which cannot tell it when every option is written as a number
        that is also an option's text (the summary then says so). A variant chosen that the
        file contradicts (an option text in ``codes``, an option number in ``texts``) stops the
        read with an error naming the row, column and cell.
    kobo_answers : {"auto", "values", "labels"}, default="auto"
        KoboToolbox: the choices as XML values or as labels (either language); ``auto`` reads
        both (an instrument has no label that is another choice's value). A choice chosen that
        a cell contradicts stops the read with an error naming the row, column and cell.
    """

    kind: str = "auto"
    id_column: str | None = None
    min_seconds_per_question: float = DEFAULT_MIN_SECONDS_PER_QUESTION
    wjx_variant: str = "auto"
    kobo_answers: str = "auto"

    def __post_init__(self) -> None:
        if self.kind not in SOURCES:
            raise UsageError(
                f"unknown input layout {self.kind!r}; expected one of {', '.join(SOURCES)}"
            )
        if self.wjx_variant not in WJX_VARIANTS:
            raise UsageError(
                f"unknown 问卷星 export variant {self.wjx_variant!r}; expected one of "
                f"{', '.join(WJX_VARIANTS)}"
            )
        if self.kobo_answers not in KOBO_ANSWERS:
            raise UsageError(
                f"unknown KoboToolbox answer format {self.kobo_answers!r}; expected one of "
                f"{', '.join(KOBO_ANSWERS)}"
            )
        if not 0 <= self.min_seconds_per_question < math.inf:
            raise UsageError(
                "the fewest seconds per question must be a finite number of at least 0, got "
                f"{self.min_seconds_per_question!r}"
            )


def layout_note(source: Source) -> str:
    """What the first note of a survey tool's layout ends with: how the layout was chosen
    (its headers, when the source is ``auto``; what the layout reads from the cells, such as
    问卷星's variant, is said apart)."""
    return "; the layout detected from its headers" if source.kind == "auto" else ""


def norm(text: Any) -> str:
    """A header or label as matched: NFKC, no white space, any case."""
    return match_key(str(text))


def _as_text(value: Any) -> str | None:
    """One cell as text (None when blank): a workbook's number as written, ``1.0`` -> ``"1"``,
    so that option numbers and 0/1 flags read alike from CSV and XLSX."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def objects(values: list[Any]) -> np.ndarray:
    """A list as a 1-d object array (whatever its elements are)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _distinct(values: Any) -> tuple[np.ndarray, list[Any]]:
    """Each cell's position among the column's distinct cells (-1 when blank), and those cells.

    An Arrow-backed text column (what the CSV reader gives) is dictionary-encoded by Arrow, with
    no Python object per cell; any other column goes through :func:`pandas.factorize`.
    """
    array = getattr(values, "array", None)
    if hasattr(array, "__arrow_array__"):
        import pyarrow as pa
        import pyarrow.compute as pc

        data = pa.array(array)
        if isinstance(data, pa.ChunkedArray):
            data = data.combine_chunks()
        if pa.types.is_string(data.type) or pa.types.is_large_string(data.type):
            encoded = pc.dictionary_encode(data)
            codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            return np.asarray(codes, dtype=np.int64), encoded.dictionary.to_pylist()
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return codes, list(uniques)


def mapped(values: Any, convert: Any = None) -> np.ndarray:
    """The cells of a column as text (None where blank), passed through ``convert`` when given.

    ``convert`` is called once per distinct cell, and the results spread back by the cells'
    codes (:func:`_distinct`): no Python call per row.
    """
    codes, uniques = _distinct(values)
    texts = [_as_text(u) for u in uniques]
    converted = [convert(t) if convert is not None and t is not None else t for t in texts]
    return objects([*converted, None])[codes]


def mapped_tagged(
    values: Any, read: Any, mark: str | None = None
) -> tuple[np.ndarray, dict[str, int], np.ndarray]:
    """Like :func:`mapped`, with ``read(text) -> (value, tag or None)``: the values, how many
    cells got each tag (counted from the distinct cells' counts), and which cells got the tag
    ``mark``."""
    codes, uniques = _distinct(values)
    results = [(None, None) if t is None else read(t) for t in map(_as_text, uniques)]
    out = objects([value for value, _ in results] + [None])[codes]
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    tags: dict[str, int] = {}
    for (_, tag), count in zip(results, counts):
        if tag is not None:
            tags[tag] = tags.get(tag, 0) + int(count)
    marked = np.array([tag == mark for _, tag in results] + [False], dtype=bool)[codes]
    return out, tags, marked


def bad_cells(
    code: str, header: str, cells: np.ndarray, rows: np.ndarray, bad: np.ndarray, reason: str
) -> UnreadableCells:
    """The cells of a survey tool's column that the layout cannot read as an answer of the
    plain column ``code`` (its rows are rejected, naming the file's column and what was
    expected). ``cells`` holds the column's cells as text (None where blank: shown empty, as
    the file has it), ``bad`` which of them."""
    shown = ["" if c is None else str(c) for c in cells[bad]]
    return UnreadableCells(code, rows[bad], shown, f"{header}: {reason}")


@dataclass(frozen=True)
class PlainColumn:
    """A column of the plain layout, as a survey tool asks it.

    Attributes
    ----------
    code : str
        The column (``respondent_id``, a profile field's or an item's code).
    kind : {"single", "multi", "value"}
        One choice, several, or a value written as it is (a number, a text, the id).
    choices : tuple of Choice
        The choices offered, in order (values as the template writes them).
    """

    code: str
    kind: str
    choices: tuple[Choice, ...] = ()

    @cached_property
    def lookup(self) -> dict[str, str]:
        """A choice's value or either label (as :func:`norm` gives it) -> the value."""
        found: dict[str, str] = {}
        for choice in self.choices:
            for written in (choice.value, choice.zh, choice.en):
                found.setdefault(norm(written), str(choice.value))
        return found

    @cached_property
    def values(self) -> dict[str, str]:
        """A choice's value (as :func:`norm` gives it) -> the value."""
        return {norm(c.value): str(c.value) for c in self.choices}

    @cached_property
    def labels(self) -> dict[str, str]:
        """A choice's label in either language (as :func:`norm` gives it) -> the value."""
        found: dict[str, str] = {}
        for choice in self.choices:
            for written in (choice.zh, choice.en):
                found.setdefault(norm(written), str(choice.value))
        return found


def sample_cells(reader: TableReader, headers: list[str]) -> dict[str, set[str]]:
    """The distinct cells (as text, trimmed; blanks left out) of each of ``headers`` (as the
    file writes them, :attr:`~dmi.io.readers.TableReader.written`) in the file's first
    :data:`SAMPLE_ROWS` rows: what a layout tells the file's way of writing its answers from."""
    name = dict(zip(reader.written, reader.columns))
    wanted = list(dict.fromkeys(headers))
    if not wanted:
        return {}
    sample = open_table(
        reader.path,
        encoding=reader.encoding,
        sheet=reader.sheet,
        delimiter=reader.delimiter,
        chunk_rows=SAMPLE_ROWS,
        header_row=reader.header_row,
    )
    for chunk in sample.chunks([name[h] for h in wanted]):
        frame = chunk.frame
        return {h: {c for c in pd.unique(mapped(frame[name[h]], str.strip)) if c} for h in wanted}
    return {h: set() for h in wanted}


def find_header(reader: TableReader, header: str) -> str | None:
    """A header the user named (``--id-column``) as the file writes it: given as written, or
    as it is matched (NFKC: ``编号(新)`` for ``编号（新）``); None when the file has no such
    header."""
    if header in reader.written:
        return header
    matched = dict(zip(reader.columns, reader.written))
    return matched.get(header) or matched.get(folded(header).strip())


class Contradiction(Exception):
    """A cell that contradicts the way of writing answers chosen for the file (问卷星's variant,
    KoboToolbox's values or labels): the file's column, the cell, and its position in the chunk
    when known. The layout turns it into a :class:`~dmi.errors.FileFormatError` naming the row.
    """

    def __init__(self, header: str, cell: str, column: PlainColumn, at: int | None = None):
        super().__init__(header)
        self.header, self.cell, self.column, self.at = header, cell, column, at


def plain_columns(instrument: Instrument) -> dict[str, PlainColumn]:
    """Every column of the plain layout, in the template's order, as a survey asks it, then
    the raw-number columns (:attr:`~dmi.instruments.Instrument.raw_columns`)."""
    columns = {ID_COLUMN: PlainColumn(ID_COLUMN, "value")}
    for f in instrument.profile:
        if f.type == "choice":
            choices = tuple(Choice(o.value, o.zh, o.en) for o in f.options)
            columns[f.code] = PlainColumn(f.code, "single", choices)
        else:
            columns[f.code] = PlainColumn(f.code, "value")
    for item in instrument.items:
        widget = item_type(item).widget(item, instrument)
        choices = tuple(Choice(str(c.value), c.zh, c.en) for c in widget.choices)
        kind = {"radio": "single", "multiselect": "multi"}.get(widget.kind, "value")
        columns[item.code] = PlainColumn(item.code, kind, choices)
    # the raw numbers behind banded items (equipment_total ...): optional, asked by their code
    for code in instrument.raw_columns:
        columns.setdefault(code, PlainColumn(code, "value"))
    return columns


def text_targets(instrument: Instrument) -> dict[str, str]:
    """A column's code or question text in either language (as :func:`norm` gives it) -> the
    code; the id's aliases -> ``respondent_id``; a raw-number column's code -> itself."""
    found = {norm(ID_COLUMN): ID_COLUMN}
    for alias in ID_ALIASES:
        found.setdefault(norm(alias), ID_COLUMN)
    for entry in (*instrument.profile, *instrument.items):
        for written in (entry.code, entry.zh, entry.en):
            found.setdefault(norm(written), entry.code)
    for code in instrument.raw_columns:
        found.setdefault(norm(code), code)
    return found


def combine_flags(
    flags: list[np.ndarray], values: list[str | None], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """One multiple-choice answer per row from one 0/1 column per option.

    ``flags[j]`` holds option ``values[j]``'s cells as text; ``values[j]`` is None for an option
    the instrument's question does not have (a row ticking it is the caller's to reject, see
    :data:`REJECT_REASONS`). Returns the answers (the ticked values joined by ``;``, None where
    nothing is ticked) and which rows hold a cell that is neither 0, 1 nor blank (the caller
    says what they hold). The ticks of a row are read as one string of bytes and each distinct
    one joined once: no Python per row.
    """
    ticks = np.zeros((n, max(len(flags), 1)), dtype=np.uint8)
    bad = np.zeros(n, dtype=bool)
    for j, column in enumerate(flags):
        ticked = column == "1"
        ticks[:, j] = ticked
        bad |= ~(ticked | (column == "0") | pd.isna(column))
    rows = np.ascontiguousarray(ticks).view(f"S{ticks.shape[1]}").ravel()
    codes, uniques = pd.factorize(rows)
    joined = [
        ";".join(v for v, t in zip(values, unique.ljust(len(values), b"\0")) if t and v) or None
        for unique in uniques
    ]
    return objects(joined)[codes], bad


REJECT_REASONS: dict[str, str] = {
    # 问卷星
    "wjx_not_number": (
        "not an option number of {question}; expected a number from 1 to {high}, or -2 or -3 "
        "(skipped)"
    ),
    "wjx_not_number_multi": (
        "not an option number of {question}; expected a number from 1 to {high} (several "
        "joined by ┋), or -2 or -3 (skipped)"
    ),
    "wjx_not_text": (
        "not an option of {question}; expected one of its options' texts ({options}, or in "
        "English), or (跳过) (skipped)"
    ),
    "wjx_not_text_multi": (
        "not an option of {question}; expected one of its options' texts (several joined by "
        "┋) ({options}, or in English), or (跳过) (skipped)"
    ),
    "zero_one": (
        "not a 0/1 cell of 第{number}题's options; expected 1 (ticked), 0 (not ticked), or -2 "
        "or -3 (skipped)"
    ),
    "zero_one_blank": (
        "a blank among 第{number}题's 0/1 cells; expected 1 (ticked) or 0 (not ticked)"
    ),
    "zero_one_skip": (
        "-2 or -3 (skipped) beside 第{number}题's answered 0/1 cells; expected 1 (ticked) or 0 "
        "(not ticked)"
    ),
    "lacking_wjx": (
        "ticked, but not an option of 第{number}题 in {instrument}; expected 0 (not ticked), or "
        "-2 or -3 (skipped)"
    ),
    # KoboToolbox
    "kobo_zero_one": (
        "not a 0/1 cell of a split select_multiple column; expected 1 (chosen), 0 (not chosen) "
        "or blank (not asked)"
    ),
    "lacking_kobo": (
        "ticked, but not an option of {question} in {instrument}; expected 0 (not chosen) or "
        "blank (not asked)"
    ),
}
"""Every reason a survey tool's layout rejects a cell with (after the file's column: see
:func:`bad_cells`), by key, its fields in braces: the layouts make their reasons from this table
only (:func:`reject_reason`), and the app words each in its language from it
(:func:`dmi.service.bulkview.reason_text`, the texts ``agency.reason_<key>``). A rejected option
that the instrument's question lacks (``lacking_*``: an option added to the survey in the tool)
is rejected as the text layouts reject the option's text, not scored as if it had not been
ticked."""


def reject_reason(key: str, **fields: Any) -> str:
    """The reason ``key`` of :data:`REJECT_REASONS`, its fields filled."""
    return REJECT_REASONS[key].format(**fields)


def lacking_note(tool: str, headers: list[str]) -> str:
    """The note naming the 0/1 columns of options the instrument's questions do not have."""
    return (
        f"{tool} options the instrument's questions do not have (a row ticking one is "
        "rejected): " + ", ".join(headers)
    )


def map_id(reader: TableReader, source: Source, mapped: dict[str, str]) -> str | None:
    """The export's id column as written: the one chosen (``--id-column``, found as written or
    as matched), or the one the column map sends to ``respondent_id``; both, they must be one.

    Raises
    ------
    UsageError
        The chosen column is not in the file, or the map and the choice name two columns.
    """
    chosen = None if source.id_column is None else find_header(reader, source.id_column)
    if source.id_column is not None and chosen is None:
        raise UsageError(
            f"{reader.path}: no column {source.id_column!r} to take the respondent id from; "
            f"the file's columns are {', '.join(reader.written)}"
        )
    named = [h for h, c in mapped.items() if c == ID_COLUMN]
    if named and chosen is not None and named[0] != chosen:
        raise UsageError(
            f"the map sends {named[0]!r} to {ID_COLUMN}, and --id-column chooses {chosen!r}: "
            "name the id column once"
        )
    return chosen if chosen is not None else (named[0] if named else None)


def option_column(header: str, code: str, question: str) -> FileFormatError:
    """The error of a custom column map that sends a split multiple choice's 0/1 column (one
    option's cells) to a question: what ``--map`` can do with such a column."""
    return FileFormatError(
        f"the map sends {header!r} to {code!r}: {header!r} is one option's 0/1 column of "
        f'{question}: the map can only leave it out (code ""); the question\'s options are '
        "read from such columns by their texts. The map can send to a column the headers that "
        "hold one answer a cell: a question (N、题干), a matrix row, a meta column, or the id"
    )


HEADER_USES = (
    "answer",
    "option",
    "lacking",
    "id",
    "time",
    "meta",
    "other",
    "split_ignored",
    "left_out",
    "unmatched",
)
"""What a survey tool's layout does with a header of its export (:class:`HeaderUse`):

``answer``
    the one column of an answer (a question, a matrix row, a column the map names);
``option``
    one option's 0/1 column of a multiple choice, read with the question's others;
``lacking``
    the 0/1 column of an option the instrument's question does not have (a row ticking it
    is rejected);
``id``
    the respondent id;
``time``
    问卷星's 所用时间, read for the speed check;
``meta``
    a meta column of the tool, dropped;
``other``
    an "其他" (other) fill-in or option the instrument has no answer for, ignored;
``split_ignored``
    a KoboToolbox split 0/1 column of a question whose own column is read, ignored;
``left_out``
    left out by the column map (``--map``, code ``""``);
``unmatched``
    matching no question of the instrument, ignored."""


@dataclass(frozen=True)
class HeaderUse:
    """What a survey tool's layout does with one header of its export.

    Attributes
    ----------
    kind : str
        One of :data:`HEADER_USES`.
    column : str
        The plain column the header feeds (``respondent_id``, an item's or profile field's
        code) for ``answer``, ``option``, ``lacking`` and ``id``, the question whose own
        column is read for ``split_ignored``; else "".
    """

    kind: str
    column: str = ""

    @property
    def feeds(self) -> bool:
        """Whether the header's cells are read into :attr:`column`."""
        return self.kind in ("answer", "option", "lacking", "id")


class SourceLayout(ABC):
    """A survey tool's layout of one file's columns, and how to turn it into the plain one.

    Attributes
    ----------
    name : str
        The layout's name (``wjx``, ``kobo``).
    columns : list of str
        The plain columns it gives (``respondent_id`` first when there is an id).
    notes : list of str
        What the summary says about the layout (which it is, what was dropped or unmatched).
    passthrough : list of str
        Columns of :attr:`columns` that are no answers but go to the scores as they are (see
        :attr:`dmi.io.mapping.ColumnMapping.passthrough`).
    unused_map : list of str
        The entries of a custom column map (``--map``) naming no header of the export.
    uses : dict of str to HeaderUse
        What the layout does with each of the export's headers (as the file writes them, in
        its order; but those another reader of the file reads, :meth:`read_headers`): the
        column it feeds, or why it feeds none; the same lists the notes name.
    """

    name: str = ""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.notes: list[str] = []
        self.id_source: str | None = None
        self.passthrough: list[str] = []
        self.unused_map: list[str] = []
        self.uses: dict[str, HeaderUse] = {}
        self._tallies: dict[int, dict[str, Any]] = {}

    def read_headers(
        self,
        reader: TableReader,
        instrument: Instrument,
        column_map: dict[str, str] | None,
        read_elsewhere: Collection[str] = (),
    ) -> tuple[list[str], dict[str, str]]:
        """The export's headers as it writes them (for the messages), but those another reader
        of the file reads (``read_elsewhere``, as the file writes them or as the reader matches
        them, such as the facts of ``dmi eligibility``: the layout matches none of them to a
        column and names none of them in its notes), and the entries of the custom column map
        that name one of them (its others are :attr:`unused_map`); a map sending a header to no
        column of ``instrument`` is refused."""
        elsewhere = set(read_elsewhere)
        headers = [
            written
            for written, matched in zip(reader.written, reader.columns)
            if written not in elsewhere and matched not in elsewhere
        ]
        check_map_codes(instrument, column_map)
        mapped, self.unused_map = map_entries(headers, column_map)
        return headers, mapped

    def keep_columns(self, columns: Collection[str]) -> None:
        """Give only ``columns`` of the plain layout, in its order (the others are not read):
        for a run that reads part of an export, such as the survey's items that
        ``dmi eligibility`` reads beside the facts."""
        wanted = set(columns)
        self.columns = [c for c in self.columns if c in wanted]
        self.passthrough = [c for c in self.passthrough if c in wanted]

    def set_uses(self, headers: list[str], **groups: Any) -> None:
        """Say what each of ``headers`` is (:attr:`uses`): ``groups`` maps a kind of
        :data:`HEADER_USES` to the headers of that kind, as a list (no column) or a dict of
        header -> column. A header of no group matches nothing (``unmatched``)."""
        found: dict[str, HeaderUse] = {}
        for kind, listed in groups.items():
            assert kind in HEADER_USES, kind
            pairs = listed.items() if isinstance(listed, dict) else ((h, "") for h in listed)
            for header, column in pairs:
                found.setdefault(header, HeaderUse(kind, column))
        self.uses = {h: found.get(h, HeaderUse("unmatched")) for h in headers}

    @abstractmethod
    def sources(self, column: str) -> list[str]:
        """The file's headers that the plain ``column`` is made from."""

    @abstractmethod
    def convert(
        self, frame: pd.DataFrame, rows: np.ndarray, wanted: list[str]
    ) -> tuple[dict[str, Any], list[UnreadableCells]]:
        """The plain columns ``wanted`` of a chunk's rows (``frame`` holds at least their
        sources), as arrays of the frame's length, and the cells that are no answer in the
        tool's layout (blank in the arrays; see :func:`bad_cells`); may tally what it met (see
        :meth:`tally`)."""

    def note_map(self, tool: str, mapped: dict[str, str]) -> None:
        """Say what a custom column map (``--map``) made of the export's headers: the headers
        read as the columns it names, and those it leaves out."""
        read = [f"{h} -> {c}" for h, c in mapped.items() if c]
        if read:
            self.notes.append(f"{tool} columns read as the column map says: " + ", ".join(read))
        left_out = [h for h, c in mapped.items() if not c]
        if left_out:
            self.notes.append(f"{tool} columns the column map leaves out: " + ", ".join(left_out))

    def tally(self, rows: np.ndarray, counts: dict[str, Any]) -> None:
        """Keep what a chunk's conversion met, under the chunk's first row: a chunk read again
        (to redo repeated ids) replaces its own tally instead of adding to it."""
        if len(rows):
            self._tallies[int(rows[0])] = counts

    def run_notes(self) -> list[str]:
        """The notes of what the reads met (added to :attr:`notes` at the end of a run)."""
        return []

    def tallies(self) -> list[dict[str, Any]]:
        return [self._tallies[k] for k in sorted(self._tallies)]


@dataclass
class LayoutReader:
    """A :class:`~dmi.io.readers.TableReader` whose chunks come in the plain layout.

    It has the reader's interface (``columns``, ``chunks``, ``path``, ``encoding`` ...): the
    columns are the reader's own columns :attr:`kept` (none unless asked for), then the
    layout's plain columns, and each chunk keeps its rows, row numbers and ragged lines (each a
    :class:`PlainLine`: its id from the export's id column, so that its rejects name the
    respondent, and its fields as written). The layout names the file's columns as the file
    writes them (:attr:`~dmi.io.readers.TableReader.written`, what its messages quote); they
    are translated to the reader's and back here only.

    Attributes
    ----------
    reader : TableReader
        The export, as read.
    layout : SourceLayout
        Its survey tool's layout.
    kept : tuple of str
        Columns of the reader (as it names them, :attr:`~dmi.io.readers.TableReader.columns`)
        handed on as they are, before the plain ones: what another reader of the export reads
        (the facts of ``dmi eligibility``, whose headers the layout leaves alone, see
        :meth:`SourceLayout.read_headers`). Their unreadable cells keep their column's name.
    """

    reader: TableReader
    layout: SourceLayout
    kept: tuple[str, ...] = ()
    _positions: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # the layout names the file's columns as the file writes them (its messages quote
        # them so); the reader, as they are matched: translated here, on the way in and out
        self._positions = {h: i for i, h in enumerate(self.reader.written)}
        self._name = dict(zip(self.reader.written, self.reader.columns))
        self._written = dict(zip(self.reader.columns, self.reader.written))
        unknown = [c for c in self.kept if c not in self._written]
        if unknown:
            raise ValueError(f"kept columns the file does not have: {', '.join(unknown)}")
        clash = set(self.kept) & set(self.layout.columns)
        if clash:
            raise ValueError(f"kept columns named as plain ones: {', '.join(sorted(clash))}")

    # the reader's own attributes, unchanged
    @property
    def path(self) -> Path:
        return self.reader.path

    @property
    def kind(self) -> str:
        return self.reader.kind

    @property
    def encoding(self) -> str | None:
        return self.reader.encoding

    @property
    def delimiter(self) -> str | None:
        return self.reader.delimiter

    @property
    def sheet(self) -> str | None:
        return self.reader.sheet

    @property
    def lines(self) -> int | None:
        return self.reader.lines

    @property
    def where(self) -> str:
        return self.reader.where

    @property
    def sheet_hint(self) -> str:
        return self.reader.sheet_hint

    def encoding_hint(self, named: Callable[[list[str]], int], what: str) -> str:
        return self.reader.encoding_hint(named, what)

    @property
    def other_sheets(self) -> list[str]:
        return self.reader.other_sheets

    @property
    def chunk_rows(self) -> int:
        return self.reader.chunk_rows

    @property
    def columns(self) -> list[str]:
        return [*self.kept, *self.layout.columns]

    @property
    def passthrough(self) -> list[str]:
        """The columns that go to the scores as they are (:attr:`SourceLayout.passthrough`)."""
        return list(self.layout.passthrough)

    @property
    def notes(self) -> list[str]:
        """The reader's notes, the layout's, then what the reads met."""
        return [*self.reader.notes, *self.layout.notes, *self.layout.run_notes()]

    def chunks(self, columns: list[str] | None = None) -> Iterator[Chunk]:
        """The file's chunks: the columns kept as they are, then the plain layout's (only
        ``columns`` of them, when given)."""
        wanted = self.columns if columns is None else list(columns)
        kept = set(self.kept)
        plain = [c for c in wanted if c not in kept]
        raw: list[str] | None = None
        if columns is not None:
            needed = {h for c in plain for h in self.layout.sources(c)}
            raw = [
                name
                for name, header in zip(self.reader.columns, self.reader.written)
                if header in needed or name in kept
            ]
        for chunk in self.reader.chunks(raw):
            written = [self._written[c] for c in chunk.frame.columns]
            arrays, bad = self.layout.convert(
                chunk.frame.set_axis(written, axis=1), chunk.rows, plain
            )
            index = pd.RangeIndex(len(chunk.frame))
            frame = pd.DataFrame({c: arrays[c] for c in plain}, index=index)
            if kept:
                as_read = chunk.frame[[c for c in wanted if c in kept]].set_axis(index)
                frame = pd.concat([as_read, frame], axis=1)[wanted]
            yield Chunk(
                frame,
                chunk.rows,
                [self._ragged(r) for r in chunk.ragged],
                [self._unreadable(cells) for cells in chunk.unreadable]
                + [cells for cells in bad if len(cells.rows)],
                chunk.lines,
            )

    def read_all(self) -> pd.DataFrame:
        parts = [chunk.frame for chunk in self.chunks()]
        if parts:
            return pd.concat(parts, ignore_index=True)
        return pd.DataFrame({c: pd.Series(dtype=object) for c in self.columns})

    def _ragged(self, line: Skipped) -> Skipped | PlainLine:
        """A skipped line in the plain layout (where it has an id, or columns kept): its
        fields laid out as :attr:`columns` (:class:`PlainLine`), the line as written."""
        at = self._positions.get(self.layout.id_source or "")
        has_id = at is not None and ID_COLUMN in self.layout.columns
        if not has_id and not self.kept:
            return line
        places = {c: self._positions[self._written[c]] for c in self.kept}
        if has_id:
            places[ID_COLUMN] = at
        fields = []
        for column in self.columns:
            place = places.get(column)
            within = place is not None and place < len(line.fields)
            fields.append(line.fields[place] if within else "")
        return PlainLine(line, fields, self._written.get(line.column, line.column))

    def _unreadable(self, cells: Any) -> Any:
        """Unreadable cells named by the plain column they feed (so that a run using it
        rejects their rows, naming the file's column in the reason)."""
        header = self._written.get(cells.column, cells.column)
        for column in self.layout.columns:
            if header in self.layout.sources(column):
                reason = cells.reason
                named = (
                    f"{header}: {reason}"
                    if isinstance(reason, str)
                    else [f"{header}: {r}" for r in reason]
                )
                return replace(cells, column=column, reason=named)
        return cells


# -- which layout ------------------------------------------------------------------------------

_WJX_META = ("序号", "提交答卷时间", "所用时间")
_WJX_QUESTION = re.compile(r"^\s*(?:\d+\s*[、：:.．]|(?:第\s*\d+\s*题|\d+)\s*[(（])")
_KOBO_META = ("_uuid", "_submission_time")


EXPORT_ID_COLUMNS: dict[str, tuple[str, ...]] = {"wjx": ("序号",), "kobo": ("_uuid", "_id")}
"""The columns a survey tool's export names its respondents by (the first it has), unless a
question asks for the id or another column is chosen: 问卷星's 序号, KoboToolbox's _uuid, else
its _id."""


def export_id_header(source: str, headers: list[str]) -> str | None:
    """The header, as written, that an export of ``source`` (``wjx``, ``kobo``) names its
    respondents by (:data:`EXPORT_ID_COLUMNS`); None for a plain file or when it has none."""
    written = {}
    for header in headers:
        written.setdefault(str(header).strip(), header)
    return next((written[n] for n in EXPORT_ID_COLUMNS.get(source, ()) if n in written), None)


def detect_source(headers: list[str]) -> str:
    """The layout a file's headers show: ``wjx`` (问卷星's question headers ``N、题干``,
    ``第N题(...)`` or ``N(...)``: one beside two of its meta columns 序号, 提交答卷时间,
    所用时间, or at least two and more of them than of other headers), ``kobo``
    (KoboToolbox's ``_uuid`` or ``_submission_time``, or ``_id`` with ``_index``), else
    ``plain``: meta columns alone do not make a 问卷星 export (an agency's own file may have a
    序号 and a 提交答卷时间 beside the template's columns)."""
    stripped = [str(h).strip() for h in headers]
    numbered = sum(1 for h in stripped if _WJX_QUESTION.match(h))
    if numbered and sum(h in stripped for h in _WJX_META) >= 2:
        return "wjx"
    if any(h in stripped for h in _KOBO_META) or {"_id", "_index"} <= set(stripped):
        return "kobo"
    if numbered >= 2 and numbered > len(stripped) - numbered:
        return "wjx"
    return "plain"


def detected_hint(source: Source, tool: str) -> str:
    """What a survey tool's layout's refusal of a file ends with when the layout was told
    from the headers (``--from auto``): that it was, and how to read the file as a plain one."""
    if source.kind != "auto":
        return ""
    return f" (read as a {tool} export from its headers; if it is not one, choose --from plain)"


def open_source(
    path: str | Path,
    instrument: Instrument,
    source: Source | str = "auto",
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
    chunk_rows: int = 100_000,
    header_row: int = 1,
    column_map: dict[str, str] | None = None,
) -> TableReader | LayoutReader:
    """Open an answers file in its layout: a plain file as :func:`~dmi.io.readers.open_table`
    does, a survey tool's export as a :class:`LayoutReader` giving the plain layout.

    ``column_map`` (``--map``) sends an export's own headers to the instrument's columns (a
    question, a matrix row, a meta column: a header holding one answer a cell) or leaves them
    out (``""``), before the layout matches the others; a plain file's map is applied by
    :func:`map_source`, which takes the same map.

    Raises
    ------
    FileFormatError
        The file cannot be read, or is not in the layout asked for (naming what was expected),
        or the map sends a header to no column of the instrument, or a 0/1 option column to a
        question.
    """
    reader = open_table(
        path,
        encoding=encoding,
        sheet=sheet,
        delimiter=delimiter,
        chunk_rows=chunk_rows,
        header_row=header_row,
    )
    layout = tool_layout(reader, instrument, source, column_map)
    return reader if layout is None else LayoutReader(reader, layout)


def tool_layout(
    reader: TableReader,
    instrument: Instrument,
    source: Source | str = "auto",
    column_map: dict[str, str] | None = None,
    *,
    read_elsewhere: Collection[str] = (),
) -> SourceLayout | None:
    """The survey tool's layout of an opened file, in the layout asked for or the one its
    headers show (``auto``, :func:`detect_source`); None for a plain file.

    What :func:`open_source` reads an export with, and ``dmi eligibility`` the survey's
    answers of an export that also holds the firms' facts: ``read_elsewhere`` names the
    headers it reads itself (the facts, the id), which the layout leaves alone
    (:meth:`SourceLayout.read_headers`). ``column_map`` as for :func:`open_source`.

    Raises
    ------
    UsageError
        An id column chosen for a plain file.
    FileFormatError
        The file is not in the layout asked for (``problem="no_items"``: no question of the
        instrument in it), or the map sends a header to no column of the instrument, or a 0/1
        option column to a question.
    """
    if isinstance(source, str):
        source = Source(source)
    kind = detect_source(reader.columns) if source.kind == "auto" else source.kind
    if kind == "plain":
        if source.id_column is not None:
            raise _id_column_of_a_plain_file(reader, source.id_column)
        return None
    if kind == "wjx":
        from dmi.io.tools.wjx import WjxLayout

        return WjxLayout(reader, instrument, source, column_map, read_elsewhere=read_elsewhere)
    from dmi.io.tools.kobo import KoboLayout

    return KoboLayout(reader, instrument, source, column_map, read_elsewhere=read_elsewhere)


def _id_column_of_a_plain_file(reader: TableReader, id_column: str) -> UsageError:
    """The error of an id column chosen (``--id-column``) for a file that is no survey tool's
    export."""
    return UsageError(
        f"{reader.path}: an id column ({id_column}) is chosen only for a 问卷星 or KoboToolbox "
        "export; a plain file's id column is respondent_id (or --map)"
    )


def chosen_id_header(
    reader: TableReader, source: Source, column_map: dict[str, str] | None = None
) -> str | None:
    """The header of an export that :attr:`Source.id_column` chooses (``--id-column``), as the
    file writes it; None when none is chosen.

    The column a survey tool's layout takes the respondent ids from (:func:`map_id`, with the
    same refusals), for a run that matches the export's other headers itself before the layout
    reads them (``dmi eligibility``'s facts, whose id is the one chosen): the file is in the
    layout of ``source`` (the one its headers show for ``auto``, :func:`detect_source`), and
    ``column_map``'s entries for the file's headers are those the layout is given.

    Raises
    ------
    UsageError
        An id column chosen for a plain file, a column the file does not have, or the map
        sending another header to ``respondent_id``.
    """
    if source.id_column is None:
        return None
    kind = detect_source(reader.columns) if source.kind == "auto" else source.kind
    if kind == "plain":
        raise _id_column_of_a_plain_file(reader, source.id_column)
    mapped, _ = map_entries(reader.written, column_map)
    return map_id(reader, source, mapped)


def map_source(
    reader: TableReader | LayoutReader,
    instrument: Instrument,
    column_map: dict[str, str] | None = None,
) -> ColumnMapping:
    """How the columns of a reader :func:`open_source` gave map to the instrument's.

    A plain file's headers are matched by :func:`~dmi.io.mapping.map_columns`, the custom
    ``column_map`` with them. A survey tool's export gives the plain layout already, the map
    applied to the export's own headers by its layout: each column is itself, and the map's
    entries naming no header of the export are :attr:`~ColumnMapping.unused_map`. Give the map
    :func:`open_source` was given.
    """
    if isinstance(reader, LayoutReader):
        mapping = map_columns(instrument, reader.columns, None, reader.passthrough)
        mapping.unused_map = list(reader.layout.unused_map)
        return mapping
    return map_columns(instrument, reader.columns, column_map)

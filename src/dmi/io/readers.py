"""Reading answer files (CSV, XLSX, Parquet) in chunks and writing result files safely.

- CSV encodings: a byte-order mark means UTF-8 (or UTF-16); NUL bytes in every other position
  mean UTF-16 without one; otherwise the start of the file is tried as strict UTF-8 and,
  failing that, read as GB18030 (a superset of GBK and GB2312, which Chinese Excel writes by
  default). A file guessed UTF-8 whose later part is not, while all of it is GB18030 and all
  before is ASCII, is read as GB18030, with a note (:attr:`TableReader.notes`). ``encoding=``
  overrides the guess, and is never changed. A file that does not decode is refused naming the
  row and the line of the first byte that does not.
- A file that is not CSV text (an XLSX workbook or other zip archive, XLS, Parquet, binary
  bytes) is refused naming what it looks like.
- CSV delimiters are sniffed among comma, semicolon, tab and ``|``; lines end in LF, CRLF or CR.
- Every physical line is accounted for: a row over several lines (a quoted cell holding a line
  break) is one row; a quote that opens and swallows whole rows
  (:func:`dmi.io.csvstream.swallowed_at`) has each of its lines rejected as ``unbalanced quote
  from line N to M``; :attr:`Chunk.lines` counts the lines each chunk spans.
- Every CSV cell is read as text (blank = missing) so that nothing is converted behind the
  validator's back: ``"007"`` stays ``"007"`` and ``"NA"`` is an answer to be checked, not NaN.
- XLSX: the active sheet is read unless ``sheet=`` names another (a hidden active sheet is
  refused: which sheet is meant is then in doubt). A cell keeps the meaning its number format
  gives it (a percentage is ``"45%"``, a date a date, ``000123`` stays ``"000123"``); a formula
  without a computed value, an error value and a number its format shows scaled (``#,##0,``,
  ``0!.0,"万"``) are :class:`UnreadableCells`. A value in a column without a header skips its row
  as :class:`StrayCells`, naming the cell; the table ends at its last row with a value under the
  header (the empty rows below it are not rows). How much a workbook may make dmi read and hold
  is bounded by the ``XLSX_MAX_*`` settings below, checked from the zip directory before
  anything is parsed.
- Parquet: text columns stay text, integer, boolean, decimal and date columns become their
  text, float columns stay numbers; list, struct, map and binary cells are
  :class:`UnreadableCells`.
- Headers are matched to the instrument by item code, by the zh or en question text, or by an
  alias from a mapping file; :class:`ColumnMapping` reports what matched, what is unknown and what
  is missing.
- Written CSV and XLSX files escape text cells that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmi.errors import FileFormatError, MissingFileError, UsageError
from dmi.instruments import Instrument
from dmi.io import csvstream as _csvstream
from dmi.io import xlsx as _xlsxread
from dmi.io.csvstream import (
    LINE_BREAK,
    CsvLayout,
    CsvLayoutError,
    clean_header,
    csv_layout,
    dedupe_headers,
    detect_encoding,
    find_undecodable,
    first_block_bytes,
    may_hold_line_breaks,
    open_arrow_csv,
    split_fields,
    split_record,
    swallowed_at,
)
from dmi.io.mapping import map_columns, require_item_columns

__all__ = [
    "XLSX_MAX_CELL_CHARS",
    "XLSX_MAX_PART_BYTES",
    "XLSX_MAX_SHARED_STRINGS_BYTES",
    "XLSX_MAX_SHEET_BYTES",
    "Chunk",
    "RaggedRow",
    "StrayCells",
    "TableReader",
    "UnbalancedLine",
    "UnreadableCells",
    "detect_encoding",
    "best_header_row",
    "find_header_row",
    "open_table",
    "read_answers",
]

_XLSX_SUFFIXES = (".xlsx", ".xlsm")

_ZIP = b"PK\x03\x04"
"""How an .xlsx workbook (a zip archive) starts."""

_BIFF = bytes.fromhex("D0CF11E0A1B11AE1")
"""How an Excel 97-2003 workbook (.xls: BIFF records in an OLE2 compound file) starts."""

XLS_IS_XLSX_NOTE = "the .xls file is an .xlsx workbook (Excel 2007 or later): read as one"
"""The note of an .xls file read as the .xlsx workbook it is (as survey tools download one)."""


def _is_xlsx(path: Path) -> bool:
    """Whether a file is read as an XLSX workbook: by its extension, ``.xls`` by its content.

    A survey tool's "Excel" download may be named ``.xls`` and be an .xlsx workbook (a zip
    archive): it is read as one. An ``.xls`` that is an Excel 97-2003 workbook, or no workbook
    at all (an HTML page, text), is refused saying what to do: dmi's XLSX reader streams a sheet
    and checks its cells, and the same answers download as .xlsx or CSV.

    Raises
    ------
    FileFormatError
        ``problem="xls"``: an ``.xls`` file that is no .xlsx workbook.
    """
    suffix = path.suffix.lower()
    if suffix != ".xls":
        return suffix in _XLSX_SUFFIXES
    with path.open("rb") as file:
        start = file.read(8)
    if start.startswith(_ZIP):
        return True
    what = (
        "an Excel 97-2003 workbook (.xls), which dmi does not read"
        if start == _BIFF
        else "named .xls but not an Excel workbook"
    )
    raise FileFormatError(
        f"{path}: {what}; open it in Excel or WPS and save it as .xlsx (Excel workbook), or "
        "download the answers as .xlsx or CSV",
        path=path,
        problem="xls",
    )


XLSX_MAX_SHEET_BYTES = 2 << 30
"""Largest worksheet dmi reads: bytes of its XML, uncompressed (2 GiB). A full Excel sheet of
1,048,576 rows by 40 columns is about 1.5 GB; the sheet is parsed as a stream, so this bounds
the time a file can take, not memory."""

XLSX_MAX_SHARED_STRINGS_BYTES = 256 << 20
"""Largest shared-strings part dmi reads: bytes of its XML, uncompressed (256 MiB). The shared
strings (the text of the cells, each distinct text once) are held while the sheet is read, in
about as many bytes as their text: a million rows with three distinct texts each fit easily."""

XLSX_MAX_CELL_CHARS = 32_767
"""Longest text of one cell, in characters: Excel's own limit, so a longer cell was not made by a
spreadsheet. Checked as the text is parsed, before it is held."""

XLSX_MAX_PART_BYTES = 64 << 20
"""Largest of the parts read whole (the workbook, its relationships, the styles): 64 MiB."""


@dataclass
class RaggedRow:
    """A line whose number of fields differs from the header's (skipped by the reader).

    Attributes
    ----------
    row
        Spreadsheet row number (the header is row 1).
    expected, got
        Number of fields in the header and in this row.
    fields
        The row's fields as far as they could be split (for the rejects table).
    """

    row: int
    expected: int
    got: int
    fields: list[str]

    @property
    def blank(self) -> bool:
        """Whether the line holds nothing but spaces: a blank line, whatever its width."""
        return not any(field.strip() for field in self.fields)

    @property
    def reason(self) -> str:
        return f"ragged row: expected {self.expected} fields, got {self.got}"

    @property
    def column(self) -> str:
        """The column to name in the rejects table: none, the whole row is wrong."""
        return ""

    @property
    def value(self) -> str:
        """What the rejects table shows of the line: its fields (at most 200 characters)."""
        return _fields_shown(self.fields)


@dataclass
class UnbalancedLine:
    """One physical line of a stretch that a quote swallowed (skipped by the reader).

    A quoted cell that opens and does not close on its line makes a parser that allows line
    breaks in values read the lines after it into that cell, whole rows with it (see
    :func:`dmi.io.csvstream.swallowed_at`); each of those lines is rejected, with its own row
    number, so each company in them is accounted for.

    Attributes
    ----------
    row
        Spreadsheet row number of the line (the first line's is the row the stretch starts on;
        the stretch's lines take one row each).
    first_line, last_line
        The physical lines of the stretch (the header's first line is line 1).
    fields
        The line split on its own (its first field is the id where ids come first).
    column
        The header of the column whose quote opened the stretch.
    """

    row: int
    first_line: int
    last_line: int
    fields: list[str]
    column: str = ""

    blank = False
    """Never a blank line: it is part of what the quote swallowed, whatever it holds."""

    @property
    def reason(self) -> str:
        return f"unbalanced quote from line {self.first_line} to {self.last_line}"

    @property
    def value(self) -> str:
        """What the rejects table shows of the line: its fields (at most 200 characters)."""
        return _fields_shown(self.fields)


def _fields_shown(fields: list[str]) -> str:
    """A skipped line's fields as the rejects table shows them (at most 200 characters)."""
    return ",".join(fields)[:200]


STRAY_SHOWN = 3
"""How many cells right of the header a :class:`StrayCells` reason names, with their text."""


@dataclass
class StrayCells:
    """A row of a sheet with a value in a column without a header (skipped by the reader).

    A CSV line of more fields than the header is ragged; in a sheet, the cells right of the
    header (a remark typed beside a firm, a stray value far below the table) are named by
    their reference, so that they can be found. Nothing of the row is read: what the cell
    means to the row is not known. A row with a value only there is not a row of the table:
    the empty rows above it are not blank lines (see :meth:`dmi.io.xlsx.Workbook.blocks`).

    Attributes
    ----------
    row
        Spreadsheet row number.
    fields
        The row's cells under the header, as text (its id where the ids are).
    cells
        ``(reference, text)`` of each cell right of the header (``("E3", "备注：数据待核实")``).
    """

    row: int
    fields: list[str]
    cells: list[tuple[str, str]]

    blank = False
    """Never a blank line: it holds a value."""

    column = ""
    """The column to name in the rejects table: none, the value has no column."""

    @property
    def reason(self) -> str:
        if len(self.cells) == 1:
            ref, text = self.cells[0]
            return (
                f'cell {ref} has a value ("{_clipped(text)}") in a column without a header; '
                "give the column a header or clear the cell"
            )
        named = ", ".join(f'{ref} ("{_clipped(text)}")' for ref, text in self.cells[:STRAY_SHOWN])
        more = len(self.cells) - STRAY_SHOWN
        if more > 0:
            named += f" and {more} more"
        return (
            f"cells {named} have values in columns without a header; give the columns headers "
            "or clear the cells"
        )

    @property
    def value(self) -> str:
        """What the rejects table shows: the cells' text (at most 200 characters)."""
        return ", ".join(text for _, text in self.cells)[:200]


def _clipped(text: str, limit: int = 60) -> str:
    """A cell's text as a reason quotes it: on one line, at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class UnreadableCells:
    """Cells of one column that hold no value dmi can read; in the chunk's frame they are blank.

    A reader cannot know which columns a run uses: the pipeline rejects the rows of these
    cells when their column is mapped to the instrument, and leaves them alone otherwise.

    Attributes
    ----------
    column
        The file's header of the column.
    rows
        Spreadsheet row number of each cell (rows of the chunk's frame).
    values
        What each cell holds, as text (the formula, the error value, the list ...): a list of
        text, or an Arrow array shown as text by :meth:`shown`.
    reason
        Why the cells cannot be read, and what to do: one text for every cell, or a list of one
        a cell (an XLSX number shown scaled names its own number).
    """

    column: str
    rows: np.ndarray
    values: Any
    reason: str | list[str]

    def shown(self) -> list[str]:
        """What each cell holds, as text (at most 200 characters each)."""
        values = self.values if isinstance(self.values, list) else self.values.to_pylist()
        return [str(v)[:200] for v in values]

    def reasons(self) -> list[str]:
        """Why each cell cannot be read."""
        return [self.reason] * len(self.rows) if isinstance(self.reason, str) else self.reason


@dataclass
class Chunk:
    """A stretch of a file: the well-formed rows as a frame, and the lines skipped on the way.

    Attributes
    ----------
    frame
        Rows with the header's number of fields (every cell text or None for CSV).
    rows
        Spreadsheet row number of each row of ``frame`` (the header is row 1; a blank line or a
        skipped ragged row still takes its number, so numbers need not be consecutive).
    ragged
        Rows skipped because their number of fields is wrong (:class:`RaggedRow`), the lines
        of stretches an unclosed quote swallowed (:class:`UnbalancedLine`) and, in a sheet, the
        rows with a value in a column without a header (:class:`StrayCells`), in file order.
    lines
        Physical lines of the file the chunk spans (for CSV; the rows' count elsewhere). Over a
        whole read, the chunks' lines add up to the file's lines after the header, and
        ``lines - n_read`` is the number of line breaks inside quoted cells of rows kept whole.
        Rows skipped because their number of fields is wrong, with their row numbers.
    unreadable
        Cells of ``frame`` that hold no value dmi can read (blank in ``frame``), by column.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    ragged: list[RaggedRow | UnbalancedLine | StrayCells] = field(default_factory=list)
    unreadable: list[UnreadableCells] = field(default_factory=list)
    lines: int = -1

    def __post_init__(self) -> None:
        if self.lines < 0:  # one line a row (XLSX, Parquet)
            self.lines = self.n_read

    @property
    def n_read(self) -> int:
        """Rows read: the frame's, the ragged rows and the swallowed lines, each with its own
        row number (what ``read = scored + rejected`` counts)."""
        return len(self.frame) + len(self.ragged)


def _has_line_break(array: Any) -> bool:
    """Whether any value of a string array holds CR or LF (one look at its data buffer, in
    place and by numpy, which lets the other threads run meanwhile)."""
    import pyarrow as pa

    if len(array) == 0 or array.null_count == len(array):
        return False
    _, offsets, data = array.buffers()
    if data is None:
        return False
    kind = np.int64 if pa.types.is_large_string(array.type) else np.int32
    size = np.dtype(kind).itemsize
    first = np.frombuffer(offsets, dtype=kind, count=1, offset=array.offset * size)
    last = np.frombuffer(offsets, dtype=kind, count=1, offset=(array.offset + len(array)) * size)
    start, end = int(first[0]), int(last[0])
    chars = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    return bool((chars == ord("\n")).any() or (chars == ord("\r")).any())


def _open_at_end(path: Path, encoding: str | None) -> bool:
    """Whether a file that ends with a line break ends inside a quoted value whose text ends
    with that line break (its record's last value): a value closed there would show the line
    break, then its closing quote, then the file's last line end."""
    import codecs

    with path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - 64) // 4 * 4)  # whole UTF-16 and UTF-32 code units
        tail = file.read()
    codec = codecs.lookup(encoding or "utf-8").name
    if codec == "utf-16":  # the byte-order mark says which; the tail has none
        with path.open("rb") as file:
            codec = "utf-16-be" if file.read(2) == codecs.BOM_UTF16_BE else "utf-16-le"
    text = tail.decode(codec, errors="replace")
    for end in ("\r\n", "\n", "\r"):
        if text.endswith(end):
            return not text[: -len(end)].endswith(('\n"', '\r"'))
    return False


def _multiline(batch: Any, width: int, delimiter: str) -> tuple[np.ndarray, np.ndarray] | None:
    """For each record of a block: the line breaks inside its cells, and the position of the
    cell that swallowed rows (-1 for none; :func:`dmi.io.csvstream.swallowed_at`'s rule, on
    whole columns). None when no cell of the block holds a line break."""
    import pyarrow.compute as pc

    n = batch.num_rows
    breaks: np.ndarray | None = None
    opened = np.full(n, -1, dtype=np.int64)
    for k, column in enumerate(batch.columns):
        if not _has_line_break(column):
            continue
        lines = pc.split_pattern_regex(column, LINE_BREAK.pattern)  # a list of lines a value
        offsets = lines.offsets.to_numpy()
        spans = np.diff(offsets)  # a null value has no lines
        inner = np.maximum(spans - 1, 0)
        breaks = inner if breaks is None else breaks + inner
        if width < 2 or batch.num_columns != width:
            continue
        counts = pc.count_substring(lines.flatten(), delimiter).to_numpy(zero_copy_only=False)
        multi = np.flatnonzero(spans > 1)
        first = counts[offsets[multi]]
        # the most delimiters in a later line: the first lines out, then a max per value
        later = np.append(counts, -1)
        later[offsets[multi]] = -1
        most = np.maximum.reduceat(later, offsets[:-1])[multi]
        swallows = ((first >= 1) & (k + first >= width - 1)) | (most >= width - 1)
        at = multi[swallows]
        opened[at[opened[at] < 0]] = k
    return None if breaks is None else (breaks, opened)


class _CsvState:
    """Where a CSV read has got to, and what the chunk being gathered has met.

    Arrow numbers the records it parses (the header's lines count as rows) and reports each
    ragged one, with its number, before it hands over the block that holds it. :meth:`place`
    gives each record of a block, ragged ones included, its spreadsheet row and its physical
    lines, and splits a record that swallowed rows into its lines. :meth:`mark` notes the state
    when a chunk is handed out, :meth:`rewind` goes back to it when the file must be read again
    (with bigger blocks, or in another encoding).
    """

    def __init__(self, header_lines: int = 1) -> None:
        self.offset = header_lines - 1  # a record's row = Arrow's number - offset + shift
        self.next = header_lines + 1  # Arrow's number of the next record
        self.shift = 0  # rows the swallowed stretches so far added (one a line)
        self.line = header_lines + 1  # the physical line the next record starts on
        self.pending: dict[int, tuple[str, int]] = {}  # ragged records not placed: text, fields
        self.handed_out = 0  # Arrow's well-formed records in the chunks handed out
        self.rejected: list[RaggedRow | UnbalancedLine] = []
        self.lines = 0
        # the last record placed, when its last value ends with a line break: (whether it
        # swallowed rows, its rejected lines); see :meth:`end_of_file`
        self.tail: tuple[bool, int] | None = None
        self.mark()

    @property
    def row(self) -> int:
        """The spreadsheet row of the next record."""
        return self.next - self.offset + self.shift

    def mark(self) -> None:
        self._saved = (
            self.next,
            self.shift,
            self.line,
            dict(self.pending),
            self.handed_out,
            self.tail,
        )

    def rewind(self) -> None:
        self.next, self.shift, self.line, pending, self.handed_out, self.tail = self._saved
        self.pending = dict(pending)
        self.rejected, self.lines = [], 0

    def report(self, number: int, text: str, got: int) -> None:
        """Note a ragged record Arrow reported (once: a read again reports it again)."""
        if number >= self.next and number not in self.pending:
            self.pending[number] = (text, got)

    def place(self, batch: Any, columns: list[str], delimiter: str) -> tuple[Any, np.ndarray]:
        """Number a block's records (``batch`` None: the ragged ones left at the end of the
        file); return the block without the records that swallowed rows, and its rows."""
        n = 0 if batch is None else batch.num_rows
        if batch is not None and n == 0:
            return batch, np.empty(0, dtype=np.int64)
        if self.pending:
            skipped = np.fromiter(self.pending, dtype=np.int64)
            candidates = np.arange(self.next, self.next + n + len(skipped), dtype=np.int64)
            numbers = candidates[~np.isin(candidates, skipped)][:n]
            last = int(numbers[-1]) if n else np.iinfo(np.int64).max
            placed = sorted(k for k in self.pending if k < last)
        else:
            numbers = np.arange(self.next, self.next + n, dtype=np.int64)
            placed = []
        found = None if batch is None else _multiline(batch, len(columns), delimiter)
        if not placed and found is None:  # the common case: one line a record
            self.tail = None if n else self.tail
            self.next += n
            self.line += n
            self.lines += n
            return batch, numbers - self.offset + self.shift
        return self._place_records(batch, numbers, placed, found, columns, delimiter)

    def end_of_file(self, path: Path, encoding: str | None) -> None:
        """Once the file has been read: when its last record's quote never closed, Arrow gave
        that record's last value the file's last line end, which ends its last line and is
        not a line of its own."""
        if self.tail is None or not _open_at_end(path, encoding):
            return
        swallowed, entries = self.tail
        self.tail = None
        self.lines -= 1
        self.line -= 1
        if swallowed:  # the stretch's last "line" is the nothing after that line end
            self.rejected.pop()
            self.shift -= 1
            for entry in self.rejected[len(self.rejected) - entries + 1 :]:
                if isinstance(entry, UnbalancedLine):
                    entry.last_line -= 1

    def _place_records(
        self,
        batch: Any,
        numbers: np.ndarray,
        placed: list[int],
        found: tuple[np.ndarray, np.ndarray] | None,
        columns: list[str],
        delimiter: str,
    ) -> tuple[Any, np.ndarray]:
        """:meth:`place` where a record is ragged or holds a line break: the numbering on
        whole arrays; Python only for the ragged records and the swallowed ones."""
        import pyarrow as pa

        n, width = len(numbers), len(columns)
        texts = [self.pending.pop(k) for k in placed]
        numbers = np.concatenate([numbers, np.array(placed, dtype=np.int64)])
        inner = np.zeros(len(numbers), dtype=np.int64)  # line breaks inside each record
        opened = np.full(len(numbers), -1, dtype=np.int64)  # the cell that swallowed rows
        if found is not None:
            inner[:n], opened[:n] = found
        fields = [split_fields(text, delimiter) for text, _ in texts]
        for j, (text, _) in enumerate(texts):
            inner[n + j] = len(LINE_BREAK.findall(text))
            if inner[n + j]:
                opened[n + j] = swallowed_at(fields[j], width, delimiter)
        swallowed = opened >= 0
        extra = np.where(swallowed, inner, 0)  # a swallowed stretch takes a row a line
        order = np.argsort(numbers, kind="stable")
        rows, first = np.empty_like(numbers), np.empty_like(numbers)
        spans = 1 + inner[order]
        rows[order] = numbers[order] - self.offset + self.shift + np.cumsum(extra[order])
        rows[order] -= extra[order]
        first[order] = self.line + np.cumsum(spans) - spans
        self.next = int(numbers.max()) + 1 if len(numbers) else self.next
        self.shift += int(extra.sum())
        self.line += int(spans.sum())
        self.lines += int(spans.sum())
        rejected = swallowed.copy()
        rejected[n:] = True
        for i in order[rejected[order]].tolist():
            if not swallowed[i]:
                self.rejected.append(RaggedRow(int(rows[i]), width, texts[i - n][1], fields[i - n]))
                continue
            if i < n:
                values = [batch.column(j)[i].as_py() for j in range(batch.num_columns)]
                text = delimiter.join("" if v is None else v for v in values)
            else:
                text = texts[i - n][0]
            name = columns[opened[i]] if opened[i] < width else ""
            last = int(first[i] + inner[i])
            for j, piece in enumerate(LINE_BREAK.split(text)):
                line = UnbalancedLine(
                    int(rows[i]) + j, int(first[i]), last, split_fields(piece, delimiter), name
                )
                self.rejected.append(line)
        self.tail = None
        end = int(order[-1]) if len(order) else -1
        if 0 <= end < n and inner[end] and batch.num_columns == width:
            value = batch.column(width - 1)[end].as_py() or ""
            if value.endswith(("\n", "\r")):
                self.tail = (bool(swallowed[end]), int(inner[end]) + 1 if swallowed[end] else 0)
        keep = ~swallowed[:n]
        if batch is not None and not keep.all():
            batch = batch.filter(pa.array(keep))
        return batch, rows[:n][keep]


@dataclass
class TableReader:
    """An opened table: its columns, how it was decoded, and its rows in chunks.

    Attributes
    ----------
    encoding
        For CSV: as given, or as guessed; a read that finds a file guessed UTF-8 to be GB18030
        further on changes it to ``gb18030`` (and says so in ``notes``).
    header_lines, header_only
        For CSV: the header's physical lines; whether it is the whole file.
    encoding_guessed
        Whether ``encoding`` was guessed (only a guess is changed by a read).
    notes
        What a read had to decide, for the run summary (e.g. the encoding changed).
    lines
        For CSV: the physical lines after the header, counted by the last complete read (None
        before one, and for XLSX and Parquet).
    sheet
        For XLSX: the name of the sheet read (the one asked for, or the active one).
    other_sheets
        For XLSX: the workbook's other visible worksheets (not read).
    header_row
        For XLSX: the sheet row of the header (1 unless title rows stand above it, see
        :func:`find_header_row`); rows keep their sheet numbers.
    written
        The header cells as the file writes them, one per column (``columns`` are them as
        matched: NFKC, so that ``（人）`` and ``(人)`` are one header); what a message quotes.
        As ``columns`` when not given.
    blanks
        Column -> the cell texts (trimmed) read as blank in it: a survey tool's marks of a
        question skipped or left empty where the column is the respondent id (问卷星's
        ``(跳过)``), so that every reader of the chunks (the duplicate pass, the row checks)
        takes the row for one without an id, never for a firm named ``(跳过)``.
    """

    path: Path
    kind: str
    columns: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    chunk_rows: int = 100_000
    bytes_per_row: float = 200.0
    longest_line: int = 1 << 14
    header_lines: int = 1
    header_only: bool = False
    encoding_guessed: bool = False
    notes: list[str] = field(default_factory=list)
    lines: int | None = None
    _quoted: bool | None = field(default=None, repr=False, compare=False)
    workbook: Any = field(default=None, repr=False, compare=False)
    header_row: int = 1
    other_sheets: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    blanks: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.written) != len(self.columns):
            self.written = list(self.columns)

    @property
    def where(self) -> str:
        """The file, and for XLSX the sheet read, as a message names them."""
        return str(self.path) if self.sheet is None else f"{self.path}, sheet {self.sheet!r}"

    @property
    def sheet_hint(self) -> str:
        """For a workbook of several sheets, the others and how to choose one ("" else)."""
        if not self.other_sheets:
            return ""
        others = ", ".join(repr(name) for name in self.other_sheets)
        return f"; the workbook's other sheets: {others} (choose one with --sheet NAME)"

    def encoding_hint(self, named: Callable[[list[str]], int], what: str) -> str:
        """For a CSV file read in the encoding given (``--encoding``) whose headers name
        nothing: the encoding found without it, when the headers read so name ``what``
        (``named`` counts them); "" else. An encoding that reads any byte (``latin-1``) reads
        a Chinese header as other characters without an error."""
        import codecs

        if self.kind != "csv" or self.encoding_guessed or self.encoding is None:
            return ""
        try:
            found = csv_layout(self.path, delimiter=self.delimiter)
        except CsvLayoutError:
            return ""
        if codecs.lookup(found.encoding).name == codecs.lookup(self.encoding).name:
            return ""
        count = named(list(found.columns))
        if not count:
            return ""
        return (
            f"; read as {found.encoding} (the encoding found without --encoding), {count} of "
            f"its headers name {what}: leave out --encoding {self.encoding}"
        )

    def chunks(self, columns: list[str] | None = None) -> Iterator[Chunk]:
        """Yield the file's rows in :class:`Chunk` s of about ``chunk_rows`` rows.

        Parameters
        ----------
        columns
            Read only these columns (the rows and their numbers stay the same: a cheap pass
            over the id column reads the file this way).

        Raises
        ------
        FileFormatError
            The file cannot be decoded or parsed at some point (names the file, the row and
            the line).
        """
        if self.kind == "csv":
            chunks = self._csv_chunks(columns)
        elif self.kind == "xlsx":
            chunks = self._xlsx_chunks(columns)
        else:
            chunks = self._parquet_chunks(columns)
        if not self.blanks:
            yield from chunks
            return
        for chunk in chunks:
            yield self._blanked(chunk)

    def _blanked(self, chunk: Chunk) -> Chunk:
        """The chunk with the cells :attr:`blanks` names made blank."""
        frame = chunk.frame
        for column, marks in self.blanks.items():
            if column not in frame.columns:
                continue
            cells = frame[column]
            text = cells.astype("str").str.strip()  # a workbook's numbers as their text
            marked = text.isin(marks).to_numpy(dtype=bool) & cells.notna().to_numpy()
            if marked.any():
                frame = frame.assign(**{column: cells.mask(marked)})
        if frame is chunk.frame:
            return chunk
        return dataclasses.replace(chunk, frame=frame)

    def read_all(self) -> pd.DataFrame:
        """Every well-formed row in one frame (ragged rows are left out, unreadable cells are
        blank: :func:`read_answers` refuses them)."""
        parts = [chunk.frame for chunk in self.chunks()]
        return (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame({c: pd.Series(dtype=object) for c in self.columns})
        )

    def _csv_chunks(self, columns: list[str] | None) -> Iterator[Chunk]:
        import pyarrow as pa

        state = _CsvState(self.header_lines)
        # a chunk is gathered from blocks of about a megabyte (see _csvstream.BLOCK_BYTES)
        block = first_block_bytes(self.bytes_per_row, self.chunk_rows, self.longest_line)
        lines = 0
        while True:
            encoding = self.encoding
            try:
                for chunk in self._csv_pass(columns, block, state, encoding):
                    lines += chunk.lines
                    yield chunk
                break
            except pa.ArrowInvalid as exc:
                # a row longer than a block, further down than the sample: read again with
                # bigger blocks, from where the chunks handed out so far end
                if "straddl" in str(exc) and block < _csvstream.MAX_BLOCK_BYTES:
                    block = min(block * 16, _csvstream.MAX_BLOCK_BYTES)
                    state.rewind()
                    continue
                failure: BaseException = exc
            except (UnicodeDecodeError, LookupError) as exc:
                failure = exc
            self._recover(failure, state, str(encoding))
            state.rewind()  # in the encoding _recover chose, from where the chunks end
        self.lines = lines

    def _recover(self, exc: BaseException, state: _CsvState, encoding: str) -> None:
        """After a failed read: change a guessed UTF-8 to GB18030 where the file is that, or
        raise the :class:`FileFormatError` that names the row and line that failed."""
        if isinstance(exc, LookupError):
            raise FileFormatError(
                f"{self.path}: unknown encoding {encoding}",
                path=self.path,
                problem="decode",
                encoding=encoding,
            ) from None
        found = find_undecodable(self.path, encoding, state.line)
        if found is None:  # not an encoding problem
            raise FileFormatError(
                f"{self.path}: cannot read the file as CSV after row {state.row - 1} "
                f"(line {state.line - 1}): {_arrow_message(exc)}",
                path=self.path,
                problem="csv_unreadable",
                encoding=encoding,
                row=state.row - 1,
            ) from None
        if found.line >= state.line:
            row = self._row_at_end(found.text, state.row)
        else:  # before the rows read (a read of a few columns skips the others' text)
            start = find_undecodable(self.path, encoding, self.header_lines + 1)
            row = self._row_at_end(start.text if start else "", 2)
        if (
            self.encoding_guessed
            and encoding == "utf-8"
            and found.ascii_before
            and find_undecodable(self.path, "gb18030") is None
        ):
            # the rows read so far are ASCII, which GB18030 reads the same: go on as GB18030
            self.encoding = "gb18030"
            note = (
                f"read as gb18030: the file is not utf-8 from line {found.line} (row {row}) "
                "on, and all of it is gb18030"
            )
            if note not in self.notes:
                self.notes.append(note)
            return
        advice = (
            "the rows before it are utf-8: the file mixes encodings; save it again as UTF-8"
            if encoding.startswith("utf-8") and not found.ascii_before
            else "pass --encoding to say which encoding the file uses"
        )
        raise FileFormatError(
            f"{self.path}: cannot read row {row} (line {found.line}) as {encoding}: "
            f"{found.reason}; {advice}",
            path=self.path,
            problem="csv_unreadable",
            encoding=encoding,
            row=row,
        ) from None

    def _row_at_end(self, text: str, row: int) -> int:
        """The row of the record that ``text`` (which starts a record, ``row``) ends in."""
        delimiter, width, pos = self.delimiter or ",", len(self.columns), 0
        while pos < len(text):
            fields, end, complete = split_record(text, delimiter, pos)
            if end >= len(text) and not (complete and text.endswith(("\r", "\n"))):
                return row  # the text ends inside this record
            inner = len(LINE_BREAK.findall(text, pos, end)) - 1
            row += 1 + (inner if inner and swallowed_at(fields, width, delimiter) >= 0 else 0)
            pos = end
        return row

    def _may_hold_line_breaks(self) -> bool:
        if self._quoted is None:
            self._quoted = may_hold_line_breaks(self.path)
        return self._quoted

    def _layout(self, encoding: str | None) -> CsvLayout:
        return CsvLayout(
            tuple(self.columns),
            str(encoding),
            self.delimiter or ",",
            self.bytes_per_row,
            self.longest_line,
            self.header_lines,
            self.header_only,
            tuple(self.written),
        )

    def _csv_pass(
        self, columns: list[str] | None, block: int, state: _CsvState, encoding: str | None
    ) -> Iterator[Chunk]:
        """One read of the file from the start, handing out the chunks after ``state``'s."""
        import pyarrow as pa

        if self.header_only:
            return
        delimiter = self.delimiter or ","

        def on_invalid(row: Any) -> str:
            if row.number is not None:
                state.report(int(row.number), row.text, int(row.actual_columns))
            return "skip"

        # a record's lines are only known from all its cells: a read of some columns converts
        # them all when a quoted cell may hold a line break, and keeps the ones asked for
        convert = columns if columns is None or not self._may_hold_line_breaks() else None
        early = None
        if columns is None and state.handed_out == 0:  # a full read from the start
            early = _csvstream.claim_early_read(self.path, self._layout(encoding), block)
        reader = (
            early.replay(on_invalid)
            if early is not None
            else open_arrow_csv(
                self.path,
                self.columns,
                encoding,
                delimiter,
                block,
                convert,
                on_invalid,
                self.header_lines,
            )
        )
        batches: list[Any] = []
        row_parts: list[np.ndarray] = []
        gathered = raw = 0
        full = False  # a chunk is full; it is handed out when the next block comes
        to_skip = state.handed_out  # well-formed records already in chunks handed out

        def gathered_chunk() -> Chunk:
            nonlocal gathered, raw
            # one contiguous array per column: factorising 17 pieces cost twice as much
            table = pa.Table.from_batches(batches, schema=reader.schema).combine_chunks()
            if columns is not None and convert is None:
                table = table.select(columns)
            frame = table.to_pandas()
            rows = np.concatenate(row_parts) if row_parts else np.empty(0, dtype=np.int64)
            chunk = Chunk(frame, rows, state.rejected, lines=state.lines)
            state.rejected, state.lines = [], 0
            batches.clear()
            row_parts.clear()
            state.handed_out += raw
            gathered = raw = 0
            state.mark()
            return chunk

        for batch in reader:
            if to_skip:
                if to_skip >= batch.num_rows:
                    to_skip -= batch.num_rows
                    continue
                batch, to_skip = batch.slice(to_skip), 0
            if full:  # not the last chunk: see state.end_of_file
                yield gathered_chunk()
                full = False
            raw += batch.num_rows
            # numbered per block: the ragged records in it were reported before it came
            kept, rows = state.place(batch, self.columns, delimiter)
            row_parts.append(rows)
            batches.append(kept)
            gathered += len(rows)
            full = gathered >= self.chunk_rows
        state.place(None, self.columns, delimiter)  # ragged records after the last block
        state.end_of_file(self.path, encoding)
        if batches or state.rejected or state.lines:
            yield gathered_chunk()

    def _xlsx_chunks(self, columns: list[str] | None) -> Iterator[Chunk]:
        book: _xlsxread.Workbook = self.workbook
        sheet = book.pick(self.sheet)
        width = len(self.columns)
        wanted = list(range(width)) if columns is None else [self.columns.index(c) for c in columns]
        names = [self.columns[i] for i in wanted]
        blocks = book.blocks(sheet, width, self.chunk_rows, header_row=self.header_row)
        self._note_merges(book, sheet)
        while True:
            try:
                block = next(blocks, None)
            except _xlsxread.XlsxError as exc:
                raise FileFormatError(
                    f"{self.path}: {exc}", path=self.path, problem=exc.problem, **exc.details
                ) from None
            if block is None:
                return
            frame = pd.DataFrame(block.values[:, wanted], columns=names, dtype=object)
            ragged = [
                StrayCells(
                    row, cells, [(_xlsxread.column_letters(at) + str(row), t) for at, t in extra]
                )
                for row, cells, extra in block.ragged
            ]
            yield Chunk(frame, block.rows, ragged, _unreadable_cells(block, self.columns, wanted))

    def _note_merges(self, book: _xlsxread.Workbook, sheet: _xlsxread.Sheet) -> None:
        """Say which merged ranges of data rows were read how (Excel keeps a merged range's
        value in its first cell; a reader of the rows would see blanks in the others)."""
        try:
            merges = book.data_merges(sheet, self.header_row)
        except _xlsxread.XlsxError as exc:
            raise FileFormatError(f"{self.path}: {exc}", path=self.path) from None
        down = [m.ref for m in merges if m.one_column]
        across = [m.ref for m in merges if not m.one_column]
        notes = []
        if down:
            notes.append(
                "merged cells read as their first cell's value in every row of the range: "
                + ", ".join(down)
            )
        if across:
            notes.append(
                "merged cells over several columns read in their first cell only (the other "
                "columns are blank): " + ", ".join(across)
            )
        self.notes.extend(n for n in notes if n not in self.notes)

    def _parquet_chunks(self, columns: list[str] | None) -> Iterator[Chunk]:
        import pyarrow as pa

        first = 2
        file = _parquet_file(self.path)
        stored = file.schema_arrow.names  # self.columns are these, blank or repeated ones renamed
        at = range(len(stored)) if columns is None else [self.columns.index(c) for c in columns]
        names = [self.columns[i] for i in at]
        # a repeated name cannot pick its column: then every column is read and picked here
        by_name = columns is not None and len(set(stored)) == len(stored)
        batches = file.iter_batches(
            batch_size=self.chunk_rows, columns=[stored[i] for i in at] if by_name else None
        )
        while True:
            try:
                batch = next(batches, None)
            except (OSError, pa.ArrowException) as exc:  # a corrupt page, a bad encoding
                raise FileFormatError(
                    f"{self.path}: cannot read the Parquet file near row {first} "
                    f"({_arrow_message(exc)}): the file is damaged",
                    path=self.path,
                    problem="parquet_unreadable",
                ) from None
            if batch is None:
                return
            arrays = batch.columns if by_name else [batch.column(i) for i in at]
            frame, unreadable = _parquet_frame(arrays, names, batch.num_rows, first)
            yield Chunk(frame, np.arange(first, first + len(frame), dtype=np.int64), [], unreadable)
            first += len(frame)


def _unreadable_cells(
    block: _xlsxread.Block, headers: list[str], wanted: list[int]
) -> list[UnreadableCells]:
    """A block's problem cells in the columns read, as :class:`UnreadableCells` by column (one
    for all the cells of a column, whatever their reasons: a column of numbers shown scaled
    has a reason a cell)."""
    by_column: dict[int, list[_xlsxread.Problem]] = {}
    keep = set(wanted)
    for problem in block.problems:
        if problem.column in keep:
            by_column.setdefault(problem.column, []).append(problem)
    out = []
    for column, problems in sorted(by_column.items()):
        reasons = [p.reason for p in problems]
        out.append(
            UnreadableCells(
                headers[column],
                block.rows[[p.position for p in problems]],
                [p.shown for p in problems],
                reasons[0] if reasons.count(reasons[0]) == len(reasons) else reasons,
            )
        )
    return out


def _parquet_file(path: Path) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # pages written with checksums are checked: a damaged one is an error, not wrong values
        return pq.ParquetFile(path, page_checksum_verification=True)
    except (OSError, pa.ArrowException) as exc:
        raise FileFormatError(
            f"{path}: not a readable Parquet file ({_arrow_message(exc)})",
            path=path,
            problem="parquet_unreadable",
        ) from None


def _parquet_frame(
    arrays: list[Any], names: list[str], n: int, first: int
) -> tuple[pd.DataFrame, list[UnreadableCells]]:
    """A Parquet batch's columns as a frame the validator reads like a spreadsheet's.

    Text stays text; integers, booleans, decimals, dates and times become their text (an
    integer id 1001 is the id ``"1001"``); floats stay numbers (Python floats, as from an
    XLSX file); a list, struct, map, union, duration or binary cell (non-UTF-8) is not one
    value: blank, and listed in the :class:`UnreadableCells` of its column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    columns: dict[str, Any] = {}
    unreadable: list[UnreadableCells] = []
    for name, array in zip(names, arrays):
        kind = array.type
        if pa.types.is_dictionary(kind):
            array = array.dictionary_decode()
            kind = array.type
        if pa.types.is_floating(kind):
            columns[name] = pd.Series(array.to_pylist(), dtype=object)
            continue
        text = None
        if not (pa.types.is_nested(kind) or pa.types.is_duration(kind)):
            try:
                text = array if pa.types.is_string(kind) else array.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                text = None
        if text is not None:
            columns[name] = text.to_pandas()
            continue
        present = pc.is_valid(array)
        at = np.flatnonzero(np.asarray(present.to_numpy(zero_copy_only=False), dtype=bool))
        if len(at):
            unreadable.append(
                UnreadableCells(
                    name,
                    at + first,
                    array.filter(present),
                    f"not one value (a Parquet {kind} cell); expected text or a number "
                    "in each cell",
                )
            )
        columns[name] = pd.Series([None] * len(array), dtype=object)
    return pd.DataFrame(columns, index=pd.RangeIndex(n)), unreadable


def _xlsx_limits() -> _xlsxread.Limits:
    """The ``XLSX_MAX_*`` settings as they are now (a caller may have changed them)."""
    return _xlsxread.Limits(
        sheet_bytes=XLSX_MAX_SHEET_BYTES,
        shared_strings_bytes=XLSX_MAX_SHARED_STRINGS_BYTES,
        cell_chars=XLSX_MAX_CELL_CHARS,
        part_bytes=XLSX_MAX_PART_BYTES,
    )


def _arrow_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text


def open_table(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
    chunk_rows: int = 100_000,
    header_row: int = 1,
) -> TableReader:
    """Open a CSV, XLSX or Parquet file of answers (the format is taken from the extension).

    Parameters
    ----------
    path : str or Path
        The file.
    encoding : str, optional
        A CSV's encoding (default: guessed from its bytes, as the module says: UTF-8, UTF-16,
        GB18030).
    sheet : str, optional
        An XLSX sheet (default: the active one).
    delimiter : str, optional
        A CSV's delimiter (default: sniffed among comma, semicolon, tab and ``|``).
    chunk_rows : int, default=100_000
        Rows per chunk of :meth:`TableReader.chunks`.
    header_row : int, default=1
        For XLSX: the sheet row that names the columns; the rows above it are titles and are
        not read (:func:`find_header_row` finds it). Other files have their header first.

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        The file cannot be read as a table (a folder, unknown extension, empty file, no header,
        unknown sheet, a hidden active sheet, an XLSX bigger than the ``XLSX_MAX_*`` settings
        allow), with a message naming the file and what was expected.
    """
    path = Path(path)
    if path.is_dir():
        raise FileFormatError(f"{path} is a folder; expected a CSV, XLSX or Parquet file")
    if not path.is_file():
        raise MissingFileError(f"no such file: {path}")
    suffix = path.suffix.lower()
    xlsx = _is_xlsx(path)
    if header_row != 1 and not xlsx:
        raise UsageError(f"header_row applies to XLSX files only; {path.name} is not one")
    if sheet is not None and not xlsx:
        raise UsageError(f"a sheet ({sheet!r}) applies to XLSX files only; {path.name} is not one")
    if suffix in _csvstream.CSV_SUFFIXES:
        try:
            layout = csv_layout(path, encoding, delimiter)
        except CsvLayoutError as exc:
            raise FileFormatError(
                f"{path}: {exc}", path=path, problem=exc.problem, **exc.details
            ) from None
        return TableReader(
            path,
            "csv",
            list(layout.columns),
            layout.encoding,
            layout.delimiter,
            None,
            chunk_rows,
            layout.bytes_per_row,
            layout.longest_line,
            layout.header_lines,
            layout.header_only,
            encoding is None,
            written=list(layout.written),
        )
    if xlsx:
        try:
            book = _xlsxread.Workbook(path, _xlsx_limits())
            chosen = book.pick(sheet)
            header = book.header(chosen, header_row)
        except _xlsxread.XlsxError as exc:
            raise FileFormatError(
                f"{path}: {exc}", path=path, problem=exc.problem, **exc.details
            ) from None
        if not any(h is not None for h in header):
            which = "the first row" if header_row == 1 else f"row {header_row}"
            raise FileFormatError(
                f"{path}: {which} of sheet {chosen.name!r} is empty; expected a header row",
                path=path,
                problem="no_header",
            )
        columns = [clean_header(_xlsxread.shown(h)) for h in header]
        while columns and not columns[-1]:
            columns.pop()
        written = [_xlsxread.shown(h).strip() for h in header[: len(columns)]]
        reader = TableReader(
            path,
            "xlsx",
            dedupe_headers(columns),
            None,
            None,
            chosen.name,
            chunk_rows,
            workbook=book,
            header_row=header_row,
            written=dedupe_headers(written),
        )
        reader.other_sheets = book.other_worksheets(chosen)
        if suffix not in _XLSX_SUFFIXES:
            reader.notes.append(XLS_IS_XLSX_NOTE)
        if sheet is None and reader.other_sheets:
            reader.notes.append(
                f"read the active sheet {chosen.name!r}; not read: "
                + ", ".join(repr(name) for name in reader.other_sheets)
                + " (choose a sheet with --sheet NAME)"
            )
        try:
            merged = book.header_merges(chosen, header_row)
        except _xlsxread.XlsxError as exc:
            raise FileFormatError(f"{path}: {exc}", path=path) from None
        if merged:
            reader.notes.append(
                "header cells merged over several columns (the header is the first column's; "
                "the others have none and are not read): " + ", ".join(m.ref for m in merged)
            )
        return reader
    if suffix == ".parquet":
        names = dedupe_headers(_parquet_file(path).schema_arrow.names)
        return TableReader(path, "parquet", names, None, None, None, chunk_rows)
    raise FileFormatError(
        f"{path}: unknown file type {suffix or '(none)'}; expected .csv, .tsv, .xlsx (or an "
        ".xls that is one) or .parquet",
        path=path,
        problem="file_type",
        suffix=suffix or "(none)",
    )


HEADER_SEARCH_ROWS = 20
"""How far down an XLSX sheet :func:`find_header_row` looks for the header: a report's title,
its date and notes take a few rows, never a screenful."""


def find_header_row(
    path: str | Path,
    instrument: Instrument,
    *,
    sheet: str | None = None,
    rows: int = HEADER_SEARCH_ROWS,
) -> int:
    """The row of an XLSX sheet that names the instrument's columns: 1 unless title rows stand
    above the header (a report's title, its date ...). Other files: 1.

    Each of the sheet's first ``rows`` rows is read as a header and matched to the instrument
    (:func:`dmi.io.map_columns`); the header is the first of the rows that match the most
    question columns, ties broken by the most columns matched in all (profile, id).

    Raises
    ------
    FileFormatError
        ``problem="no_header_row"``: none of those rows names a question of the instrument
        (also when the file cannot be read, as :func:`open_table` says).
    """
    items = {item.code for item in instrument.items}

    def matched(headers: list[str]) -> tuple[int, int]:
        targets = set(map_columns(instrument, headers).rename.values())
        return len(targets & items), len(targets)

    found, sheet_name = best_header_row(path, matched, sheet=sheet, rows=rows)
    if found is None:
        raise FileFormatError(
            f"{path}: none of the first {rows} rows of sheet {sheet_name!r} names a question "
            f"of {instrument.id}; expected a header row with the questions' codes or texts",
            path=Path(path),
            problem="no_header_row",
            rows=rows,
            sheet=sheet_name,
            instrument=instrument.id,
        )
    return found


def workbook_sheets(path: str | Path) -> list[str]:
    """The visible worksheets of an XLSX workbook, the one it opens on first (when visible),
    read from the workbook's list alone (no sheet is read: a blank or hidden active sheet
    does not hide the others); [] for another file.

    Raises
    ------
    FileFormatError
        A workbook that cannot be opened (as :func:`open_table` says).
    """
    path = Path(path)
    if not path.is_file() or not _is_xlsx(path):
        return []
    try:
        book = _xlsxread.Workbook(path, _xlsx_limits())
    except _xlsxread.XlsxError as exc:
        raise FileFormatError(
            f"{path}: {exc}", path=path, problem=exc.problem, **exc.details
        ) from None
    first = book.sheets[book.active] if 0 <= book.active < len(book.sheets) else None
    others = book.other_worksheets(first)  # the visible worksheets, but the first
    if first is None or first.state != "visible" or first.part is None:
        return others
    return [first.name, *others]


def best_header_row(
    path: str | Path,
    matched: Callable[[list[str]], tuple[int, int]],
    *,
    sheet: str | None = None,
    rows: int = HEADER_SEARCH_ROWS,
) -> tuple[int | None, str | None]:
    """The row of an XLSX sheet whose cells, read as a header, ``matched`` ranks first (the
    first of the best), and the sheet's name: the core of :func:`find_header_row`, for any
    columns. Other files: ``(1, None)``.

    ``matched(headers)`` gives a key to rank a row by, whose first number must not be 0 (the
    columns that matter, matched): the row is None when no row has one.

    Raises
    ------
    FileFormatError
        When the file cannot be read (as :func:`open_table` says).
    """
    path = Path(path)
    if not path.is_file() or not _is_xlsx(path):
        return 1, None
    reader = open_table(path, sheet=sheet)  # refuses what cannot be read at all
    book: _xlsxread.Workbook = reader.workbook
    chosen = book.pick(reader.sheet)
    try:
        top = book.top_rows(chosen, rows)
    except _xlsxread.XlsxError as exc:
        raise FileFormatError(
            f"{path}: {exc}", path=path, problem=exc.problem, **exc.details
        ) from None
    best, best_key = None, (0, 0)
    for number in sorted(top):
        headers = [clean_header(_xlsxread.shown(h)) for h in top[number]]
        key = matched(dedupe_headers([h for h in headers if h]))
        if key > best_key:
            best, best_key = number, key
    return (best if best_key[0] > 0 else None), chosen.name


def require_items_read(
    reader: Any,
    mapping: Any,
    instrument: Instrument,
    path: str | Path,
    column_map: dict[str, str] | None = None,
) -> None:
    """:func:`~dmi.io.mapping.require_item_columns` for a file read: the refusal names the
    workbook's other sheets, or the encoding whose headers name items
    (:meth:`TableReader.encoding_hint`)."""
    items = {item.code for item in instrument.items}

    def named(headers: list[str]) -> int:
        return len(set(map_columns(instrument, headers, column_map).rename.values()) & items)

    require_item_columns(
        mapping,
        instrument,
        path,
        where=reader.where,
        hint=lambda: reader.sheet_hint + reader.encoding_hint(named, "an item"),
    )


def read_answers(
    path: str | Path,
    instrument: Instrument,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    column_map: dict[str, str] | None = None,
    source: Any = "auto",
) -> pd.DataFrame:
    """Read a whole answers file (CSV/XLSX/Parquet), its headers mapped to item codes.

    Parameters
    ----------
    path : str or Path
        The file.
    instrument : Instrument
        Whose items the headers are matched to.
    encoding, sheet
        As for :func:`open_table`.
    column_map : dict of str to str, optional
        Header -> item code (or ``""`` to leave a column out), before the automatic matching.
    source : Source or {"auto", "plain", "wjx", "kobo"}, default="auto"
        The file's layout (a :class:`dmi.io.tools.Source` or its kind): a survey tool's export
        is read into the plain layout first.

    Returns
    -------
    pandas.DataFrame
        One row per answer row, columns ``respondent_id`` and the item codes found.

    Raises
    ------
    FileFormatError
        When the file cannot be read, no column matches an item of the instrument, or a
        column that does holds cells that cannot be read (:class:`UnreadableCells`: a formula
        without a computed value, say), which would otherwise be read as blank.
    """
    from dmi.io.tools import map_source, open_source  # the layouts build on this module

    reader = open_source(
        path, instrument, source, encoding=encoding, sheet=sheet, column_map=column_map
    )
    mapping = map_source(reader, instrument, column_map)
    require_items_read(reader, mapping, instrument, path, column_map)
    parts = []
    for chunk in reader.chunks():
        bad = [cells for cells in chunk.unreadable if cells.column in mapping.rename]
        if bad:
            first = min(bad, key=lambda cells: cells.rows[0])
            raise FileFormatError(
                f"{path}: row {first.rows[0]}, column {first.column!r} cannot be read "
                f"({first.shown()[0]}): {first.reasons()[0]}"
            )
        parts.append(chunk.frame)
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({c: pd.Series(dtype=object) for c in reader.columns})
    )
    return frame.rename(columns=mapping.rename)

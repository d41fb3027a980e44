"""Reading answer files (CSV, XLSX, Parquet) in chunks and writing result files safely.

- CSV encodings: a byte-order mark means UTF-8 (or UTF-16); otherwise the start of the file is
  tried as strict UTF-8 and, failing that, read as GB18030 (a superset of GBK and GB2312, which
  Chinese Excel writes by default). ``encoding=`` overrides the guess.
- CSV delimiters are sniffed among comma, semicolon, tab and ``|``.
- Every cell is read as text (blank = missing) so that nothing is converted behind the
  validator's back: ``"007"`` stays ``"007"`` and ``"NA"`` is an answer to be checked, not NaN.
- Headers are matched to the instrument by item code, by the zh or en question text, or by an
  alias from a mapping file; :class:`ColumnMapping` reports what matched, what is unknown and what
  is missing.
- Written CSV and XLSX files escape text cells that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
import shutil
import stat
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmi import _csvstream
from dmi._csvstream import (
    CsvLayout,
    CsvLayoutError,
    clean_header,
    csv_layout,
    dedupe_headers,
    detect_encoding,
    first_block_bytes,
    open_arrow_csv,
)
from dmi.instrument import Instrument
from dmi.scoring.answers import ID_COLUMN

__all__ = [
    "ID_ALIASES",
    "PARTIAL_MARK",
    "PROFILE_ALIASES",
    "Chunk",
    "ColumnMapping",
    "RaggedRow",
    "FileFormatError",
    "PendingFile",
    "TableReader",
    "TableWriter",
    "detect_encoding",
    "escape_formulas",
    "map_columns",
    "open_table",
    "read_answers",
    "read_mapping_file",
    "require_item_columns",
    "write_table",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_REGEX = r"^[=+\-@\t\r]"  # the same starts, for Arrow's regex kernel


class FileFormatError(ValueError):
    """A file cannot be read as a table (a file-level failure, not a problem of one row)."""


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
    def reason(self) -> str:
        return f"ragged row: expected {self.expected} fields, got {self.got}"


@dataclass
class Chunk:
    """A stretch of a file: the well-formed rows as a frame, and the ragged rows met on the way.

    Attributes
    ----------
    frame
        Rows with the header's number of fields (every cell text or None for CSV).
    rows
        Spreadsheet row number of each row of ``frame`` (the header is row 1; a blank line or a
        skipped ragged row still takes its number, so numbers need not be consecutive).
    ragged
        Rows skipped because their number of fields is wrong, with their row numbers.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    ragged: list[RaggedRow] = field(default_factory=list)

    @property
    def n_read(self) -> int:
        return len(self.frame) + len(self.ragged)


class _CsvState:
    """Where a CSV read has got to: row numbers, ragged rows met, rows handed out in chunks.

    :meth:`mark` notes the state when a chunk is handed out, :meth:`rewind` goes back to it
    when the file must be read again (with bigger blocks).
    """

    def __init__(self) -> None:
        self.numbers = _RowNumbers()
        self.ragged: list[RaggedRow] = []
        self.seen_ragged: set[int] = set()
        self.handed_out = 0
        self.mark()

    def mark(self) -> None:
        self._saved = (
            self.numbers.next,
            list(self.numbers.skipped),
            list(self.ragged),
            set(self.seen_ragged),
        )

    def rewind(self) -> None:
        next_row, skipped, ragged, seen = self._saved
        self.numbers.next, self.numbers.skipped = next_row, list(skipped)
        self.ragged[:] = ragged
        self.seen_ragged = set(seen)


class _RowNumbers:
    """Gives the well-formed rows of a stream their row numbers.

    The CSV parser skips ragged rows (reporting each one's number to its handler before it hands
    over the batch that follows it); every other record takes the next number not taken by a
    skipped one.
    """

    def __init__(self, first: int = 2) -> None:
        self.next = first
        self.skipped: list[int] = []

    def take(self, n: int) -> np.ndarray:
        if not self.skipped:  # no ragged row pending: the next n numbers
            rows = np.arange(self.next, self.next + n, dtype=np.int64)
            self.next += n
            return rows
        pending = np.array(sorted(r for r in self.skipped if r >= self.next), dtype=np.int64)
        candidates = np.arange(self.next, self.next + n + len(pending), dtype=np.int64)
        rows = candidates[~np.isin(candidates, pending)][:n]
        if n:
            self.next = int(rows[-1]) + 1
        # skipped rows right after the last well-formed one are passed over as well
        while self.next in set(self.skipped):
            self.next += 1
        self.skipped = [r for r in self.skipped if r >= self.next]
        return rows


@dataclass
class TableReader:
    """An opened table: its columns, how it was decoded, and its rows in chunks."""

    path: Path
    kind: str
    columns: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    chunk_rows: int = 100_000
    bytes_per_row: float = 200.0
    longest_line: int = 1 << 14

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
            The file cannot be decoded or parsed at some point (names the file and the row).
        """
        if self.kind == "csv":
            yield from self._csv_chunks(columns)
        elif self.kind == "xlsx":
            yield from self._xlsx_chunks(columns)
        else:
            yield from self._parquet_chunks(columns)

    def read_all(self) -> pd.DataFrame:
        """Every well-formed row in one frame (ragged rows are left out)."""
        parts = [chunk.frame for chunk in self.chunks()]
        return (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame({c: pd.Series(dtype=object) for c in self.columns})
        )

    def _csv_chunks(self, columns: list[str] | None) -> Iterator[Chunk]:
        import pyarrow as pa

        state = _CsvState()
        # a chunk is gathered from blocks of about a megabyte (see _csvstream.BLOCK_BYTES)
        block = first_block_bytes(self.bytes_per_row, self.chunk_rows, self.longest_line)
        while True:
            try:
                yield from self._csv_pass(columns, block, state)
                break
            except pa.ArrowInvalid as exc:
                # a row longer than a block, further down than the sample: read again with
                # bigger blocks, from where the chunks handed out so far end
                if "straddl" not in str(exc) or block >= _csvstream.MAX_BLOCK_BYTES:
                    raise self._unreadable(exc, state.numbers.next) from None
                block = min(block * 16, _csvstream.MAX_BLOCK_BYTES)
                state.rewind()
            except (UnicodeDecodeError, LookupError) as exc:
                raise self._unreadable(exc, state.numbers.next) from None
        if state.ragged:  # ragged rows after the last well-formed one (e.g. a truncated last line)
            yield Chunk(
                pd.DataFrame({c: pd.Series(dtype="str") for c in (columns or self.columns)}),
                np.empty(0, dtype=np.int64),
                sorted(state.ragged, key=lambda r: r.row),
            )

    def _unreadable(self, exc: BaseException, row: int) -> FileFormatError:
        return FileFormatError(
            f"{self.path}: cannot read the file as {self.encoding} CSV near row {row}: "
            f"{_arrow_message(exc)}; pass --encoding to say which encoding it uses"
        )

    def _csv_pass(self, columns: list[str] | None, block: int, state: _CsvState) -> Iterator[Chunk]:
        """One read of the file from the start, handing out the chunks after ``state``'s."""
        import pyarrow as pa

        width = len(self.columns)
        delimiter = self.delimiter or ","
        numbers, ragged = state.numbers, state.ragged

        def on_invalid(row: Any) -> str:
            number = int(row.number) if row.number is not None else -1
            if number in state.seen_ragged:  # met before this read was restarted
                return "skip"
            state.seen_ragged.add(number)
            fields = next(csv.reader([row.text], delimiter=delimiter), [])
            ragged.append(RaggedRow(number, width, int(row.actual_columns), fields))
            numbers.skipped.append(number)
            return "skip"

        early = None
        if columns is None and state.handed_out == 0:  # a full read from the start
            layout = CsvLayout(
                tuple(self.columns),
                str(self.encoding),
                delimiter,
                self.bytes_per_row,
                self.longest_line,
            )
            early = _csvstream.claim_early_read(self.path, layout, block)
        reader = (
            early.replay(on_invalid)
            if early is not None
            else open_arrow_csv(
                self.path, self.columns, self.encoding, delimiter, block, columns, on_invalid
            )
        )
        batches: list[Any] = []
        row_parts: list[np.ndarray] = []
        gathered = 0
        to_skip = state.handed_out  # well-formed rows already in chunks handed out

        def gathered_chunk() -> Chunk:
            nonlocal gathered
            # one contiguous array per column: factorising 17 pieces cost twice as much
            table = pa.Table.from_batches(batches, schema=reader.schema).combine_chunks()
            frame = table.to_pandas()
            rows = np.concatenate(row_parts) if row_parts else np.empty(0, dtype=np.int64)
            done, ragged[:] = (
                [r for r in ragged if r.row < numbers.next],
                [r for r in ragged if r.row >= numbers.next],
            )
            batches.clear()
            row_parts.clear()
            gathered = 0
            state.handed_out += len(frame)
            state.mark()
            return Chunk(frame, rows, done)

        for batch in reader:
            if to_skip:
                if to_skip >= batch.num_rows:
                    to_skip -= batch.num_rows
                    continue
                batch, to_skip = batch.slice(to_skip), 0
            # row numbers are taken per block: the ragged rows skipped so far are known
            row_parts.append(numbers.take(batch.num_rows))
            batches.append(batch)
            gathered += batch.num_rows
            if gathered >= self.chunk_rows:
                yield gathered_chunk()
        if batches:
            yield gathered_chunk()

    def _xlsx_chunks(self, columns: list[str] | None) -> Iterator[Chunk]:
        from openpyxl import load_workbook

        workbook = load_workbook(self.path, read_only=True, data_only=True)
        try:
            sheet = workbook[self.sheet] if self.sheet else workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            next(rows, None)  # header
            width = len(self.columns)
            buffer: list[tuple] = []
            numbers: list[int] = []
            ragged: list[RaggedRow] = []
            number = 1
            for values in rows:
                number += 1
                extra = [v for v in values[width:] if v is not None and str(v).strip()]
                if extra:
                    cells = ["" if v is None else str(v) for v in values]
                    while cells and not cells[-1].strip():
                        cells.pop()
                    ragged.append(RaggedRow(number, width, len(cells), cells))
                    continue
                buffer.append(tuple(values[:width]) + (None,) * (width - len(values)))
                numbers.append(number)
                if len(buffer) >= self.chunk_rows:
                    yield Chunk(
                        _xlsx_frame(buffer, self.columns, columns), np.array(numbers), ragged
                    )
                    buffer, numbers, ragged = [], [], []
            if buffer or ragged:
                yield Chunk(
                    _xlsx_frame(buffer, self.columns, columns),
                    np.array(numbers, dtype=np.int64),
                    ragged,
                )
        finally:
            workbook.close()

    def _parquet_chunks(self, columns: list[str] | None) -> Iterator[Chunk]:
        import pyarrow.parquet as pq

        first = 2
        for batch in pq.ParquetFile(self.path).iter_batches(
            batch_size=self.chunk_rows, columns=columns
        ):
            frame = batch.to_pandas()
            yield Chunk(frame, np.arange(first, first + len(frame), dtype=np.int64))
            first += len(frame)


def _arrow_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text


def _xlsx_frame(rows: list[tuple], names: list[str], columns: list[str] | None) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    if columns is not None:
        frame = frame[columns]
    # Excel stores whole numbers as floats and text as text: keep both as the validator expects
    return frame.where(frame.notna(), None)


def open_table(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
    chunk_rows: int = 100_000,
) -> TableReader:
    """Open a CSV, XLSX or Parquet file of answers (the format is taken from the extension).

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError
        The file cannot be read as a table (unknown extension, empty file, no header, unknown
        sheet), with a message naming the file and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in _csvstream.CSV_SUFFIXES:
        try:
            layout = csv_layout(path, encoding, delimiter)
        except CsvLayoutError as exc:
            raise FileFormatError(f"{path}: {exc}") from None
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
        )
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise FileFormatError(f"{path}: not a readable XLSX workbook ({exc})") from None
        try:
            if sheet is not None and sheet not in workbook.sheetnames:
                raise FileFormatError(
                    f"{path}: no sheet named {sheet!r}; the sheets are "
                    f"{', '.join(workbook.sheetnames)}"
                )
            ws = workbook[sheet] if sheet else workbook.worksheets[0]
            header = next(ws.iter_rows(values_only=True, max_row=1), None)
        finally:
            workbook.close()
        if not header or not any(h is not None for h in header):
            raise FileFormatError(f"{path}: the first row is empty; expected a header row")
        columns = [clean_header("" if h is None else str(h)) for h in header]
        while columns and not columns[-1]:
            columns.pop()
        return TableReader(path, "xlsx", dedupe_headers(columns), None, None, sheet, chunk_rows)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses
            raise FileFormatError(f"{path}: not a readable Parquet file ({exc})") from None
        return TableReader(path, "parquet", list(schema.names), None, None, None, chunk_rows)
    raise FileFormatError(
        f"{path}: unknown file type {suffix or '(none)'}; expected .csv, .tsv, .xlsx or .parquet"
    )


# -- header mapping ----------------------------------------------------------------------------


@dataclass
class ColumnMapping:
    """How a file's headers map to the instrument's columns.

    Attributes
    ----------
    rename
        File header -> instrument column (item code, profile field or ``respondent_id``).
    unmatched
        File headers that match nothing (ignored, listed in the report).
    missing_items
        Item codes with no column in the file (every row then misses that answer).
    """

    rename: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    missing_items: list[str] = field(default_factory=list)
    missing_profile: list[str] = field(default_factory=list)

    @property
    def id_header(self) -> str | None:
        """The file header mapped to ``respondent_id``, if any."""
        return next((h for h, c in self.rename.items() if c == ID_COLUMN), None)

    @property
    def matched_items(self) -> int:
        return sum(1 for target in self.rename.values() if target not in ("respondent_id",))

    def to_dict(self) -> dict[str, Any]:
        """The mapping report (for the run summary)."""
        return {
            "matched": dict(self.rename),
            "unmatched": list(self.unmatched),
            "missing_items": list(self.missing_items),
            "missing_profile": list(self.missing_profile),
        }


ID_ALIASES: tuple[str, ...] = (
    "id",
    "编号",
    "企业编号",
    "企业ID",
    "统一社会信用代码",
    "信用代码",
    "credit code",
    "unified social credit code",
    "company id",
    "respondent",
)
"""Headers taken as the ``respondent_id`` column (matched ignoring case, spaces and width)."""

PROFILE_ALIASES: dict[str, str] = {
    "企业名称": "company_name",
    "公司名称": "company_name",
    "行业": "sector",
    "所属行业": "sector",
    "行业类别": "sector",
    "行业代码": "sector",
    "所属行业代码": "sector",
    "industry": "sector",
    "地区": "region",
    "省份": "region",
    "所在地区": "region",
    "province": "region",
    "企业规模": "size_class",
    "规模": "size_class",
    "从业人数": "employees",
    "员工人数": "employees",
    "营业收入": "revenue_band",
    "营业收入区间": "revenue_band",
}
"""Common headers of agency exports for the profile fields (used when the instrument has them)."""


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def read_mapping_file(path: str | Path) -> dict[str, str]:
    """Read a custom header mapping: a CSV or YAML with ``column`` (file header) -> ``code``."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise FileFormatError(f"{path}: expected a mapping of file header: instrument code")
        return {str(k): str(v) for k, v in data.items()}
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"column", "code"} <= set(frame.columns):
        raise FileFormatError(
            f"{path}: expected columns 'column' and 'code', got {', '.join(frame.columns)}"
        )
    return dict(zip(frame["column"], frame["code"]))


def map_columns(
    instrument: Instrument, headers: list[str], custom: dict[str, str] | None = None
) -> ColumnMapping:
    """Match file headers to instrument columns by code, zh/en text or a custom mapping."""
    known = {i.code for i in instrument.items} | {f.code for f in instrument.profile}
    targets: dict[str, str] = {_key(ID_COLUMN): ID_COLUMN}
    for alias in ID_ALIASES:
        targets.setdefault(_key(alias), ID_COLUMN)
    for alias, code in PROFILE_ALIASES.items():
        if code in known:
            targets.setdefault(_key(alias), code)
    for item in instrument.items:
        for key in (item.code, item.zh, item.en):
            targets.setdefault(_key(key), item.code)
    for field_ in instrument.profile:
        for key in (field_.code, field_.zh, field_.en):
            targets.setdefault(_key(key), field_.code)
    custom = {_key(k): v for k, v in (custom or {}).items()}
    valid_codes = (
        {ID_COLUMN} | {i.code for i in instrument.items} | {f.code for f in instrument.profile}
    )
    for header, code in custom.items():
        if code not in valid_codes:
            raise FileFormatError(
                f"the mapping sends {header!r} to {code!r}, which is not a "
                f"column of instrument {instrument.id}"
            )
    mapping = ColumnMapping()
    taken: set[str] = set()
    for header in headers:
        target = custom.get(_key(header)) or targets.get(_key(header))
        if target is None or target in taken:
            mapping.unmatched.append(header)
            continue
        taken.add(target)
        mapping.rename[header] = target
    mapping.missing_items = [i.code for i in instrument.items if i.code not in taken]
    mapping.missing_profile = [f.code for f in instrument.profile if f.code not in taken]
    return mapping


# -- writing -----------------------------------------------------------------------------------


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ``'`` to text cells a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``).

    Only text cells are touched: numbers stay numbers, so a negative score is not escaped. Tabs
    and carriage returns at the start are escaped too (OWASP's list for CSV injection).
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
            risky = series.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
            if risky.any():
                out[column] = series.where(~risky, "'" + series)
            continue
        if series.dtype != object:
            continue
        values = series.to_numpy()
        risky = np.fromiter(
            (isinstance(v, str) and v.startswith(_FORMULA_START) for v in values),
            dtype=bool,
            count=len(values),
        )
        if risky.any():
            escaped = values.copy()
            escaped[risky] = ["'" + v for v in values[risky]]
            out[column] = pd.Series(escaped, index=series.index, dtype=object)
    return out


def _arrow_column(series: pd.Series) -> Any:
    import pyarrow as pa

    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects: written as their text
        array = pa.array(series.astype(str).where(series.notna(), None), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    return array


def _escaped_arrow_table(frame: pd.DataFrame) -> Any:
    """The frame as an Arrow table, text cells escaped as :func:`escape_formulas` does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = []
    for name in frame.columns:
        array = _arrow_column(frame[name])
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            risky = pc.match_substring_regex(array, _FORMULA_REGEX).fill_null(False)
            if pc.any(risky).as_py():
                quoted = pc.binary_join_element_wise(
                    pa.scalar("'", array.type), array, pa.scalar("", array.type)
                )
                array = pc.if_else(risky, quoted, array)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


PARTIAL_MARK = ".dmi-partial-"
"""Part of the name of an output being written (``.scores.csv.dmi-partial-1a2b3c4d``)."""


class PendingFile:
    """An output file written under a name no one takes for a result, then moved into place.

    The file is made beside its destination, in the same folder (so the move is one atomic
    rename on one file system), as ``.<name>.dmi-partial-<random>``: hidden, and without the
    destination's extension, so no ``*.csv`` pattern picks it up. :meth:`commit` moves it onto
    the destination; :meth:`discard` removes it. Until :meth:`commit`, the destination is not
    touched.

    - A destination that is a symbolic link stays one: the file it points to is replaced.
    - A destination that exists keeps its permission bits (a private file stays private, while
      it is written too); a new one gets what the umask gives any new file. The file is
      replaced, not rewritten: other hard links to it keep the old contents.

    Parameters
    ----------
    destination : str or Path
        Where the file is to appear.

    Raises
    ------
    FileNotFoundError
        The destination's folder does not exist.
    FileFormatError
        The destination is a folder.
    """

    def __init__(self, destination: str | Path) -> None:
        self.destination = Path(destination)
        self.target = Path(os.path.realpath(self.destination))  # through links, as open() goes
        if not self.target.parent.is_dir():
            raise FileNotFoundError(
                f"{self.destination}: no such folder: {self.destination.parent}"
            )
        if self.target.is_dir():
            raise FileFormatError(f"{self.destination} is a folder; expected a file name")
        self.path = _new_file_beside(self.target)
        self.committed = False
        try:
            os.chmod(self.path, stat.S_IMODE(self.target.stat().st_mode))
        except FileNotFoundError:
            pass  # a new output: the mode the umask gave it

    def commit(self) -> None:
        """Move the file onto its destination (it replaces a file there)."""
        os.replace(self.path, self.target)
        self.committed = True

    def discard(self) -> None:
        """Remove the file, unless it was moved into place."""
        if not self.committed:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> PendingFile:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def _new_file_beside(target: Path) -> Path:
    """Create an empty file named for ``target`` in its folder, as a new file is created
    (mode 0o666 less the umask, which the system applies: no need to read it)."""
    for _ in range(100):
        path = target.with_name(f".{target.name}{PARTIAL_MARK}{secrets.token_hex(4)}")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"cannot make a new file beside {target}")


class TableWriter:
    """Write a result table chunk by chunk: CSV (UTF-8 with BOM), XLSX or Parquet by extension.

    The rows go to a :class:`PendingFile` beside the output: :meth:`commit` moves it into place
    when the whole table is written, :meth:`discard` removes it (used as a context manager, the
    writer commits when its block ends normally and discards when it raises). CSV and Parquet are
    written as the chunks come (memory stays flat); XLSX rows are streamed into a write-only
    workbook. CSV and XLSX text cells are escaped with :func:`escape_formulas`.

    The writer counts what it writes, from the tables it hands to the format's writer:
    :attr:`rows`, and with ``count_distinct`` the distinct values of that column, write by write,
    in :attr:`distinct`.

    Parameters
    ----------
    path : str, Path or None
        The output file; its extension chooses the format. None: nothing is written, the rows
        are only counted (a run's rejects when no rejects file is asked for).
    columns : list of str
        The column names, written even when no chunk arrives.
    schema : pyarrow.Schema, optional
        For Parquet: the arrow schema of the file, every chunk cast to it (a chunk whose text
        column is all blank would otherwise get another type than the others, and the file's
        bytes would depend on the pandas dtypes of the first chunk).
    count_distinct : str, optional
        A column whose distinct values are counted in each write and summed (the rejects'
        ``row``: a row with several problems has several lines, all in one write).

    Attributes
    ----------
    rows : int
        Rows written.
    distinct : int
        The sum over writes of the distinct values of ``count_distinct`` (0 without it).
    """

    def __init__(
        self,
        path: str | Path | None,
        columns: list[str],
        schema: Any = None,
        *,
        count_distinct: str | None = None,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.columns = list(columns)
        self.schema = schema
        self.count_distinct = count_distinct
        self.kind = "none" if self.path is None else _output_kind(self.path)
        self.pending = None if self.path is None else PendingFile(self.path)
        self.rows = 0
        self.distinct = 0
        self._started = False
        # CSV (and counting only): where each write's rows end, how many rows and distinct
        # values it wrote; and where the header ends
        self._header_end = 0
        self._writes: list[tuple[int, int, int]] = []
        self._writer: Any = None
        self._workbook: Any = None
        self._sheet: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (columns in the writer's order)."""
        frame = frame.reindex(columns=self.columns)
        if self.kind == "none":
            counts = (len(frame), self._distinct_in(frame))
            self._writes.append((0, *counts))
        elif self.kind == "csv":
            counts = self._write_csv(frame)
        elif self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
            if self.schema is not None:
                # the file's schema is the one given: pandas' metadata would record the dtypes
                # of the first chunk, which depend on how it was made (a Dask worker, say)
                table = table.replace_schema_metadata(self.schema.metadata)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self._file, table.schema)
            self._writer.write_table(table)
            counts = (table.num_rows, self._distinct_in(table))
        else:
            if self._workbook is None:
                from openpyxl import Workbook

                self._workbook = Workbook(write_only=True)
                self._sheet = self._workbook.create_sheet()
                self._sheet.append(self.columns)
            safe = escape_formulas(frame).astype(object)
            safe = safe.where(safe.notna(), None)
            appended = 0
            for values in safe.itertuples(index=False, name=None):
                self._sheet.append([_xlsx_cell(v) for v in values])
                appended += 1
            counts = (appended, self._distinct_in(safe))
        self._started = True
        self.rows += counts[0]
        self.distinct += counts[1]

    @property
    def _file(self) -> Path:
        """The file the rows go to until :meth:`commit`."""
        if self.pending is None:
            raise ValueError("this writer only counts rows: it has no file")
        return self.pending.path

    def _distinct_in(self, table: Any) -> int:
        """The distinct values of the ``count_distinct`` column of a frame or Arrow table."""
        if self.count_distinct is None or not len(table):
            return 0
        if isinstance(table, pd.DataFrame):
            return int(table[self.count_distinct].nunique(dropna=False))
        import pyarrow.compute as pc

        return int(pc.count_distinct(table.column(self.count_distinct), mode="all").as_py())

    def _write_csv(self, frame: pd.DataFrame) -> tuple[int, int]:
        """Append rows with Arrow's CSV writer (UTF-8; a BOM and the header first).

        Text cells are always quoted, blanks (None/NaN) are empty, numbers are written in their
        shortest round-trip form (``100``, ``40.675``, ``1e-7``), and text a spreadsheet would
        run as a formula is escaped as :func:`escape_formulas` does.
        """

        with open(self._file, "ab" if self._started else "wb") as sink:
            if not self._started:
                header = io.StringIO()
                csv.writer(header, lineterminator="\n").writerow(self.columns)
                sink.write(b"\xef\xbb\xbf" + header.getvalue().encode("utf-8"))
                self._header_end = sink.tell()
            counts = self._csv_rows(frame, sink)
            self._writes.append((sink.tell(), *counts))
        return counts

    def _csv_rows(self, frame: pd.DataFrame, sink: Any) -> tuple[int, int]:
        """Write the rows to an open file; how many, and their distinct values counted."""
        import pyarrow.csv as pacsv

        table = _escaped_arrow_table(frame)
        if table.num_rows:
            pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
        return table.num_rows, self._distinct_in(table)

    def replace_writes(self, replacements: Mapping[int, pd.DataFrame]) -> None:
        """Write the CSV file again from the first replaced write on, with the rows of some
        earlier writes replaced.

        ``replacements[k]`` (columns in the writer's order) takes the place of the rows that
        the k-th call of :meth:`write` wrote; the other writes' bytes stay as they are. The file
        (still pending) is written in place; the old rows from the first replaced write on wait
        in a temporary file meanwhile. A writer that only counts replaces the counts.
        """
        if not replacements:
            return
        self._check_writes(replacements)
        first = min(replacements)
        writes = self._writes[:first]
        if self.kind == "none":
            for k in range(first, len(self._writes)):
                if k in replacements:
                    frame = replacements[k].reindex(columns=self.columns)
                    writes.append((0, len(frame), self._distinct_in(frame)))
                else:
                    writes.append(self._writes[k])
        else:
            start = self._start_of(first)
            with open(self._file, "r+b") as file, tempfile.TemporaryFile() as old:
                file.seek(start)
                shutil.copyfileobj(file, old)
                file.seek(start)
                file.truncate()
                for k in range(first, len(self._writes)):
                    end, *counts = self._writes[k]
                    if k in replacements:
                        counts = self._csv_rows(replacements[k].reindex(columns=self.columns), file)
                    else:
                        _copy_bytes(old, file, self._start_of(k) - start, end - start)
                    writes.append((file.tell(), *counts))
        self._writes = writes
        self.rows = sum(rows for _, rows, _ in writes)
        self.distinct = sum(distinct for _, _, distinct in writes)

    def _start_of(self, k: int) -> int:
        return self._header_end if k == 0 else self._writes[k - 1][0]

    def _check_writes(self, numbers: Iterable[int]) -> None:
        if self.kind not in ("csv", "none"):
            raise ValueError(f"{self.path}: only a CSV file's writes can be replaced")
        if not all(0 <= k < len(self._writes) for k in numbers):
            raise ValueError(
                f"write numbers: expected 0 to {len(self._writes) - 1}, got {sorted(numbers)}"
            )

    def close(self) -> None:
        """Finish the file (a header-only file when nothing was written); it stays pending."""
        if not self._started:
            self.write(pd.DataFrame(columns=self.columns))
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._workbook is not None:
            self._workbook.save(self._file)
            self._workbook = None

    def commit(self) -> None:
        """Finish the file and move it into place."""
        self.close()
        if self.pending is not None:
            self.pending.commit()

    def discard(self) -> None:
        """Remove the file being written (nothing appears at the output)."""
        try:
            with contextlib.suppress(Exception):
                if self._writer is not None:
                    self._writer.close()
                if self._workbook is not None:
                    # saving is the one way to end a write-only workbook's row stream and
                    # remove openpyxl's own temporary file; the result is removed below
                    self._workbook.save(self._file)
        finally:
            self._writer = self._workbook = None
            if self.pending is not None:
                self.pending.discard()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def _copy_bytes(source: Any, target: Any, start: int, end: int) -> None:
    """Copy bytes ``start`` to ``end`` of one open file to the end of another."""
    source.seek(start)
    left = end - start
    while left > 0:
        block = source.read(min(left, 1 << 20))
        if not block:
            raise OSError(f"{source.name}: ended at byte {end - left}, expected {end}")
        target.write(block)
        left -= len(block)


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _output_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    kinds = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
    if suffix not in kinds:
        raise FileFormatError(
            f"{path}: unknown output type {suffix or '(none)'}; expected .csv, .xlsx or .parquet"
        )
    return kinds[suffix]


def write_table(
    frame: pd.DataFrame, path: str | Path | PendingFile, *, append: bool = False
) -> None:
    """Write a table as CSV (UTF-8 with BOM, which Excel opens correctly), XLSX or Parquet.

    Parameters
    ----------
    frame : DataFrame
        The table.
    path : str, Path or PendingFile
        The output, its extension choosing the format. A file name is written beside it and
        moved into place when complete (a failed write leaves no part of a table); a
        :class:`PendingFile` is written and left for its owner to commit with others.
    append : bool, default=False
        CSV only: add the rows to an existing file, in place.
    """
    pending = path if isinstance(path, PendingFile) else None
    destination = pending.destination if pending is not None else Path(path)
    kind = _output_kind(destination)
    if append:
        if kind != "csv":
            raise ValueError(f"{kind} output cannot be appended; use TableWriter")
        if destination.exists():
            escape_formulas(frame).to_csv(
                destination, mode="a", header=False, index=False, encoding="utf-8"
            )
            return
    if pending is None:
        with PendingFile(destination) as own:
            _write_frame(frame, own.path, kind)
    else:
        _write_frame(frame, pending.path, kind)


def _write_frame(frame: pd.DataFrame, path: Path, kind: str) -> None:
    if kind == "csv":
        escape_formulas(frame).to_csv(path, index=False, encoding="utf-8-sig")
    elif kind == "xlsx":
        escape_formulas(frame).to_excel(path, index=False, engine="openpyxl")
    else:
        frame.to_parquet(path, index=False)


def require_item_columns(mapping: ColumnMapping, instrument: Instrument, source: Any) -> None:
    """Refuse a file none of whose columns is an item of the instrument.

    Raises
    ------
    FileFormatError
        Naming the file and the headers expected.
    """
    if not set(mapping.rename.values()) & {item.code for item in instrument.items}:
        raise FileFormatError(
            f"{source}: no column matches an item of {instrument.id}; expected headers such "
            "as the ones `dmi template` writes (or a column mapping: --map FILE)"
        )


def read_answers(
    path: str | Path,
    instrument: Instrument,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    column_map: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Read a whole answers file (CSV/XLSX/Parquet), its headers mapped to item codes.

    Raises
    ------
    FileFormatError
        When the file cannot be read or no column matches an item of the instrument.
    """
    reader = open_table(path, encoding=encoding, sheet=sheet)
    mapping = map_columns(instrument, reader.columns, column_map)
    require_item_columns(mapping, instrument, path)
    return reader.read_all().rename(columns=mapping.rename)

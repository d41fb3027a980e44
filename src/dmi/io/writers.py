"""Writing result tables: CSV (UTF-8 with BOM), XLSX and Parquet, chunk by chunk, each file
written beside its destination and moved into place only when finished; text a spreadsheet would
run as a formula is escaped."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmi.errors import FileFormatError, MissingFileError

__all__ = [
    "PARTIAL_MARK",
    "PendingFile",
    "TableWriter",
    "check_output",
    "csv_bytes",
    "escape_formulas",
    "unescaped",
    "write_table",
    "xlsx_row",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# the same starts as bytes: a cell's first byte (a character that is not ASCII starts with a
# byte of 0x80 or more, none of these)
_FORMULA_BYTE = np.zeros(256, dtype=bool)
_FORMULA_BYTE[[ord(c) for c in _FORMULA_START]] = True


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


def unescaped(value: Any) -> Any:
    """A cell of a CSV file dmi wrote, as it was before :func:`escape_formulas` (the ``'``
    put before formula-like text taken off): for showing the file's cells on a page."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] and value[1] in _FORMULA_START:
        return value[1:]
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as the CSV file :func:`write_table` writes: UTF-8 with a BOM, text cells a
    spreadsheet would run as a formula escaped (:func:`escape_formulas`). For downloads."""
    return _csv_cells(frame).to_csv(index=False).encode("utf-8-sig")


def _csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's cells as the CSV writers put them: text a spreadsheet would run as a formula
    escaped (:func:`escape_formulas`), and a whole number in a float column written as the Arrow
    writer of the big outputs writes it, ``60`` (pandas would write ``60.0``), a blank blank."""
    out = escape_formulas(frame)
    for column in out.columns:
        series = out[column]
        if not pd.api.types.is_float_dtype(series.dtype):
            continue
        # in the column's own precision: a float32 0.1 is 0.1, not 0.10000000149011612
        own = np.float32 if series.dtype == np.float32 else np.float64
        values = series.to_numpy(dtype=own, na_value=np.nan)
        whole = np.isfinite(values) & (np.abs(values) < 2.0**53)
        whole[whole] = values[whole] == np.trunc(values[whole])
        if not whole.any():
            continue
        text = values.astype(str).astype(object)
        text[whole] = values[whole].astype(np.int64).astype(str)
        text[np.isnan(values)] = None
        out[column] = pd.Series(text, index=series.index, dtype=object)
    return out


def _arrow_column(series: pd.Series) -> Any:
    import pyarrow as pa

    try:
        array = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects: written as their text
        array = pa.array(series.astype(str).where(series.notna(), None), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array


def _formula_cells(array: Any) -> np.ndarray:
    """Which cells of a string array a spreadsheet would run as a formula (a blank is not one).

    Read from the array's buffers: each cell's first byte, looked up in :data:`_FORMULA_BYTE`
    (a pattern kernel would go through every cell's text, the long ``gaps`` among them).
    """
    import pyarrow as pa

    n = len(array)
    _, offsets_buffer, data_buffer = array.buffers()
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)[array.offset : array.offset + n + 1]
    starts = offsets[:-1]
    filled = offsets[1:] > starts
    first = np.zeros(n, dtype=np.uint8)
    if data_buffer is not None and filled.any():
        first[filled] = np.frombuffer(data_buffer, dtype=np.uint8)[starts[filled]]
    risky = _FORMULA_BYTE[first] & filled
    if array.null_count:
        risky &= array.is_valid().to_numpy(zero_copy_only=False)
    return risky


def _escaped_text(array: Any) -> Any:
    """A string array with the cells a spreadsheet would run as a formula escaped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return array
    risky = _formula_cells(array)
    if not risky.any():
        return array
    quoted = pc.binary_join_element_wise(
        pa.scalar("'", array.type), array, pa.scalar("", array.type)
    )
    return pc.if_else(pa.array(risky), quoted, array)


@functools.lru_cache(maxsize=64)
def _category_texts(categories: tuple[str, ...], escaped: bool) -> Any:
    """The texts of a categorical column's categories (escaped, for a spreadsheet), after a
    blank (code -1 + 1)."""
    import pyarrow as pa

    texts = pa.array(categories, pa.large_string())
    return pa.concat_arrays(
        [pa.nulls(1, pa.large_string()), _escaped_text(texts) if escaped else texts]
    )


def _spelled_categories(series: pd.Series, *, escaped: bool = True) -> Any:
    """A categorical column of text as an Arrow string array, the categories escaped once
    (``escaped``, for a CSV file a spreadsheet opens).

    The categories' texts are kept for the next chunk (a run's state columns share a few), and
    the cells are taken from them by the codes: no Arrow dictionary array is made per column
    (nor a Python string per cell, as pyarrow's conversion of a pandas categorical of Arrow
    text makes). None when a category is not text (the column goes the general way).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    categories = tuple(series.cat.categories)
    if not all(type(c) is str for c in categories):
        return None
    codes = series.cat.codes.to_numpy()
    if len(categories) < 255:
        codes = codes.astype(np.uint8) + np.uint8(1)  # -1 (a blank) wraps to 255, then to 0
    else:
        codes = codes.astype(np.int64) + 1
    return pc.take(_category_texts(categories, escaped), pa.array(codes))


def _parquet_table(frame: pd.DataFrame, schema: Any) -> Any:
    """The frame as an Arrow table of ``schema`` (None: pandas' own conversion, its metadata
    kept): the categorical text columns spelled from their categories first
    (:func:`_spelled_categories`), the others converted by pyarrow."""
    import pyarrow as pa

    if schema is None:
        return pa.Table.from_pandas(frame, preserve_index=False)
    frame = frame.copy(deep=False)
    for k, dtype in enumerate(frame.dtypes):
        if isinstance(dtype, pd.CategoricalDtype):
            spelled = _spelled_categories(frame.iloc[:, k], escaped=False)
            if spelled is not None:
                frame.isetitem(k, pd.arrays.ArrowExtensionArray(spelled))
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    # the file's schema is the one given: pandas' metadata would record the dtypes of the
    # first chunk, which depend on how it was made (a Dask worker, say)
    return table.replace_schema_metadata(schema.metadata)


def _escaped_arrow_table(frame: pd.DataFrame) -> Any:
    """The frame as an Arrow table, text cells escaped as :func:`escape_formulas` does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = []
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.CategoricalDtype):
            spelled = _spelled_categories(series)
            if spelled is not None:
                arrays.append(spelled)
                continue
        array = _arrow_column(series)
        if pa.types.is_dictionary(array.type):
            # a categorical column: its few values are escaped once, then spelled out per row
            array = pc.take(_escaped_text(array.dictionary), array.indices)
        else:
            array = _escaped_text(array)
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
        The destination is a folder or another file that is not a regular one (a device, a
        pipe), or its folder cannot be written in.
    """

    def __init__(self, destination: str | Path) -> None:
        self.destination = Path(destination)
        self.target = Path(os.path.realpath(self.destination))  # through links, as open() goes
        if self.target.parent.is_file():
            raise FileFormatError(
                f"{self.destination}: {self.destination.parent} is a file, not a folder"
            )
        if not self.target.parent.is_dir():
            raise MissingFileError(f"{self.destination}: no such folder: {self.destination.parent}")
        check_output(self.destination, table=False)
        if self.target.exists() and not self.target.is_file():
            # the finished file is moved onto the destination: it would take a device's place
            raise FileFormatError(
                f"{self.destination} is not a regular file (a device, a pipe or a socket); "
                "expected a file name"
            )
        try:
            self.path = _new_file_beside(self.target)
        except OSError as exc:  # a folder dmi may not write in (permissions, a read-only disk)
            raise FileFormatError(
                f"{self.destination}: cannot write in {self.destination.parent}: "
                f"{exc.strerror or exc}",
                path=self.destination,
            ) from None
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
        self.kind = "none" if self.path is None else check_output(self.path)
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
            import pyarrow.parquet as pq

            table = _parquet_table(frame, self.schema)
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
            cells = frame.astype(object)
            cells = cells.where(cells.notna(), None)
            appended = 0
            for values in cells.itertuples(index=False, name=None):
                self._sheet.append(xlsx_row(self._sheet, values))
                appended += 1
            counts = (appended, self._distinct_in(cells))
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


_XLSX_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""The control characters an XLSX cell cannot hold as they are (a tab and line breaks it can)."""

# the "_" of text that reads as an escape: one underscore may end an escape and start the next
_XLSX_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def _xlsx_escaped(text: str) -> str:
    """Text as OOXML stores it: a control character as its escape ``_xHHHH_`` (a form feed
    pasted from Word is ``_x000C_``), and text that reads as such an escape with its ``_``
    escaped (``_x005F_``), so that a spreadsheet, and dmi's reader, read the cell as it was."""
    text = _XLSX_ESCAPE.sub("_x005F_", text)
    return _XLSX_CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """A row's values as openpyxl appends them to ``sheet``, text kept as text.

    An XLSX cell has a type, and a spreadsheet runs only a formula cell: text is stored as
    text, as it is (no ``'`` as in CSV, which has no types). openpyxl would store text that
    starts with ``=`` as a formula: such a cell is made a text cell. A control character is
    stored escaped (:func:`_xlsx_escaped`: openpyxl refuses it). numpy scalars are made Python
    numbers.
    """
    from openpyxl.cell import WriteOnlyCell

    out: list[Any] = []
    for value in values:
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, str) and ("_x" in value or _XLSX_CONTROL.search(value)):
            value = _xlsx_escaped(value)
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            value = cell
        out.append(value)
    return out


_TABLE_KINDS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
_TABLE_NAMES = ".csv, .xlsx or .parquet"


def check_output(path: str | Path, *, table: bool = True) -> str | None:
    """Refuse an output no file can be written to, before anything is read or written.

    Parameters
    ----------
    path : str or Path
        The output.
    table : bool, default=True
        A table (:func:`write_table`, :class:`TableWriter`): its extension chooses the format,
        so it must be one dmi writes. False: any file name (a run's JSON summary).

    Returns
    -------
    str or None
        The table's format (``csv``, ``xlsx`` or ``parquet``); None when not ``table``.

    Raises
    ------
    FileFormatError
        The path is a folder, or a table's extension is none of .csv, .xlsx and .parquet.
    """
    path = Path(path)
    if path.is_dir():  # checked first: a folder has no suffix, or one that says nothing
        expected = f"a file name ending {_TABLE_NAMES}" if table else "a file name"
        raise FileFormatError(f"{path} is a folder; expected {expected}", path=path)
    if not table:
        return None
    suffix = path.suffix.lower()
    if suffix not in _TABLE_KINDS:
        raise FileFormatError(
            f"{path}: unknown output type {suffix or '(none)'}; expected {_TABLE_NAMES}",
            path=path,
        )
    return _TABLE_KINDS[suffix]


def write_table(
    frame: pd.DataFrame,
    path: str | Path | PendingFile,
    *,
    append: bool = False,
    schema: Any = None,
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
    schema : pyarrow.Schema, optional
        For Parquet: the file's schema, whatever the rows (a column all blank, or no row at
        all, would otherwise be of Arrow's type ``null``).
    """
    pending = path if isinstance(path, PendingFile) else None
    destination = pending.destination if pending is not None else Path(path)
    kind = check_output(destination)
    if append:
        if kind != "csv":
            raise ValueError(f"{kind} output cannot be appended; use TableWriter")
        if destination.exists():
            _csv_cells(frame).to_csv(
                destination, mode="a", header=False, index=False, encoding="utf-8"
            )
            return
    if pending is None:
        with PendingFile(destination) as own:
            _write_frame(frame, own.path, kind, schema)
    else:
        _write_frame(frame, pending.path, kind, schema)


def _write_frame(frame: pd.DataFrame, path: Path, kind: str, schema: Any = None) -> None:
    if kind == "csv":
        _csv_cells(frame).to_csv(path, index=False, encoding="utf-8-sig")
    elif kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append([str(c) for c in frame.columns])
        cells = frame.astype(object)
        for values in cells.where(cells.notna(), None).itertuples(index=False, name=None):
            sheet.append(xlsx_row(sheet, values))
        book.save(path)
    elif schema is not None:
        import pyarrow.parquet as pq

        pq.write_table(_parquet_table(frame, schema), path)
    else:
        frame.to_parquet(path, index=False)

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

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dmi.instrument import Instrument
from dmi.scoring.answers import ID_COLUMN

__all__ = [
    "ColumnMapping",
    "FileFormatError",
    "TableReader",
    "detect_encoding",
    "escape_formulas",
    "map_columns",
    "open_table",
    "read_mapping_file",
    "write_table",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SNIFF_BYTES = 1 << 20


class FileFormatError(ValueError):
    """A file cannot be read as a table (a file-level failure, not a problem of one row)."""


def detect_encoding(sample: bytes) -> str:
    """Guess the text encoding of a CSV file from its first bytes."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the end of the sample is still UTF-8
        if exc.start >= len(sample) - 3 and exc.reason in ("unexpected end of data",):
            return "utf-8"
    return "gb18030"


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        return max(counts, key=counts.get) if max(counts.values()) > 0 else ","


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

    def chunks(self) -> Iterator[tuple[int, pd.DataFrame]]:
        """Yield ``(first_row, frame)``; rows are numbered as in a spreadsheet (header = 1)."""
        if self.kind == "csv":
            yield from self._csv_chunks()
        elif self.kind == "xlsx":
            yield from self._xlsx_chunks()
        else:
            yield from self._parquet_chunks()

    def read_all(self) -> pd.DataFrame:
        """Every row in one frame."""
        parts = [frame for _, frame in self.chunks()]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=self.columns)

    def _csv_chunks(self) -> Iterator[tuple[int, pd.DataFrame]]:
        reader = pd.read_csv(
            self.path,
            sep=self.delimiter,
            encoding=self.encoding,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            chunksize=self.chunk_rows,
            header=0,
            names=self.columns,
            engine="c",
        )
        first = 2
        try:
            for frame in reader:
                yield first, frame.reset_index(drop=True)
                first += len(frame)
        except pd.errors.ParserError as exc:
            raise FileFormatError(
                f"{self.path}: cannot parse the CSV near row {first}: {exc}"
            ) from None
        except UnicodeDecodeError as exc:
            raise FileFormatError(
                f"{self.path}: the file is not valid {self.encoding} text near row {first} "
                f"({exc.reason}); pass --encoding to say which encoding it uses"
            ) from None

    def _xlsx_chunks(self) -> Iterator[tuple[int, pd.DataFrame]]:
        from openpyxl import load_workbook

        workbook = load_workbook(self.path, read_only=True, data_only=True)
        try:
            sheet = workbook[self.sheet] if self.sheet else workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            next(rows, None)  # header
            width = len(self.columns)
            buffer: list[tuple] = []
            first = 2
            for values in rows:
                buffer.append(tuple(values[:width]) + (None,) * (width - len(values)))
                if len(buffer) >= self.chunk_rows:
                    yield first, _xlsx_frame(buffer, self.columns)
                    first += len(buffer)
                    buffer = []
            if buffer:
                yield first, _xlsx_frame(buffer, self.columns)
        finally:
            workbook.close()

    def _parquet_chunks(self) -> Iterator[tuple[int, pd.DataFrame]]:
        import pyarrow.parquet as pq

        first = 2
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.chunk_rows):
            frame = batch.to_pandas()
            yield first, frame
            first += len(frame)


def _xlsx_frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
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
    if suffix in (".csv", ".txt", ".tsv"):
        sample = path.open("rb").read(_SNIFF_BYTES)
        if not sample.strip():
            raise FileFormatError(f"{path}: the file is empty; expected a header row of columns")
        chosen = encoding or detect_encoding(sample)
        try:
            text = sample.decode(chosen, errors="strict" if encoding else "replace")
        except (LookupError, UnicodeDecodeError) as exc:
            raise FileFormatError(f"{path}: cannot decode as {chosen}: {exc}") from None
        sep = delimiter or ("\t" if suffix == ".tsv" else _sniff_delimiter(text))
        header_line = next(csv.reader(io.StringIO(text), delimiter=sep), [])
        columns = [_clean_header(h) for h in header_line]
        if not any(columns):
            raise FileFormatError(f"{path}: the first line is blank; expected a header row")
        return TableReader(path, "csv", _dedupe(columns), chosen, sep, None, chunk_rows)
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
        columns = [_clean_header("" if h is None else str(h)) for h in header]
        while columns and not columns[-1]:
            columns.pop()
        return TableReader(path, "xlsx", _dedupe(columns), None, None, sheet, chunk_rows)
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


def _clean_header(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lstrip("\ufeff")


def _dedupe(columns: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(columns):
        name = name or f"unnamed_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


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
    def matched_items(self) -> int:
        return sum(1 for target in self.rename.values() if target not in ("respondent_id",))


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
    targets: dict[str, str] = {
        _key(ID_COLUMN): ID_COLUMN,
        _key("id"): ID_COLUMN,
        _key("编号"): ID_COLUMN,
        _key("企业编号"): ID_COLUMN,
    }
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

    Only text cells are touched: numbers stay numbers, so a negative score is not escaped.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
            continue
        text = series.astype(object)
        is_text = text.map(lambda v: isinstance(v, str))
        risky = is_text & text.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
        if risky.any():
            out[column] = np.where(risky, "'" + text.astype(str), text)
    return out


def write_table(frame: pd.DataFrame, path: str | Path, *, append: bool = False) -> None:
    """Write a table as CSV (UTF-8 with BOM, which Excel opens correctly), XLSX or Parquet."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        safe = escape_formulas(frame)
        if append and path.exists():
            safe.to_csv(path, mode="a", header=False, index=False, encoding="utf-8")
        else:
            safe.to_csv(path, index=False, encoding="utf-8-sig")
    elif suffix == ".xlsx":
        if append:
            raise ValueError("XLSX output cannot be appended; collect the rows first")
        escape_formulas(frame).to_excel(path, index=False, engine="openpyxl")
    elif suffix == ".parquet":
        if append:
            raise ValueError("Parquet output cannot be appended; collect the rows first")
        frame.to_parquet(path, index=False)
    else:
        raise FileFormatError(
            f"{path}: unknown output type {suffix or '(none)'}; expected .csv, .xlsx or .parquet"
        )

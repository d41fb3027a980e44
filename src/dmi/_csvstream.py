"""How a CSV file is laid out and parsed by Arrow, with nothing heavier than pyarrow.

:mod:`dmi.io` reads CSV files through these functions. They import neither pandas nor the rest
of dmi, so that ``dmi score FILE.csv`` can start parsing the file (:func:`start_early_read`)
while Python imports pandas and dmi, about a second in which the second core would idle.
Arrow parses without holding the GIL, so the two overlap. The chunk reader then takes the
parsed blocks over (:func:`claim_early_read`) when it opens the same file with the same options,
and parses on from there; otherwise the early read is dropped. Either way the rows, their
numbers and the ragged lines met are the same.
"""

from __future__ import annotations

import csv
import io
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dmi._background import Ahead

SNIFF_BYTES = 1 << 20
"""How much of the start of a file the encoding, delimiter and row lengths are guessed from."""

BLOCK_BYTES = 1 << 20
"""Arrow parses a block at a time: blocks of about a megabyte stay in the CPU's caches (20 MB
blocks parsed 2.3x slower), so a chunk is gathered from several."""

MAX_BLOCK_BYTES = 1 << 30
"""The biggest block a row longer than the others makes the reader try."""

CSV_SUFFIXES = (".csv", ".txt", ".tsv")


class CsvLayoutError(ValueError):
    """The start of a CSV file cannot be read as a header row (the message says why).

    ``problem`` (``empty``, ``decode`` or ``no_header``) and ``details`` say it as data, for
    :class:`dmi.io.FileFormatError`.
    """

    def __init__(self, message: str, problem: str, **details: Any) -> None:
        super().__init__(message)
        self.problem = problem
        self.details = details


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


def sniff_delimiter(text: str) -> str:
    """The delimiter among comma, semicolon, tab and ``|`` that the first lines use."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        return max(counts, key=counts.get) if max(counts.values()) > 0 else ","


def clean_header(name: str) -> str:
    """A header cell as it is matched: NFKC, trimmed, without a byte-order mark."""
    return unicodedata.normalize("NFKC", name).strip().lstrip("\ufeff")


def dedupe_headers(columns: Sequence[str]) -> list[str]:
    """Blank headers named by position and repeated ones numbered (``x``, ``x.1``, ...)."""
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


@dataclass(frozen=True)
class CsvLayout:
    """What the start of a CSV file says about all of it.

    Attributes
    ----------
    columns
        The header's cells, cleaned and deduplicated.
    encoding, delimiter
        As given, or as guessed from the start of the file.
    bytes_per_row, longest_line
        Of the sample: they size the blocks Arrow parses.
    """

    columns: tuple[str, ...]
    encoding: str
    delimiter: str
    bytes_per_row: float
    longest_line: int


def csv_layout(path: Path, encoding: str | None = None, delimiter: str | None = None) -> CsvLayout:
    """Read the start of a CSV file: its encoding, delimiter and header.

    Raises
    ------
    CsvLayoutError
        The file is empty, cannot be decoded as ``encoding``, or its first line is blank.
    """
    with path.open("rb") as file:
        sample = file.read(SNIFF_BYTES)
    if not sample.strip():
        raise CsvLayoutError("the file is empty; expected a header row of columns", "empty")
    chosen = encoding or detect_encoding(sample)
    try:
        text = sample.decode(chosen, errors="strict" if encoding else "replace")
    except (LookupError, UnicodeDecodeError) as exc:
        raise CsvLayoutError(
            f"cannot decode as {chosen}: {exc}", "decode", encoding=chosen
        ) from None
    sep = delimiter or ("\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text))
    header_line = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    columns = [clean_header(h) for h in header_line]
    if not any(columns):
        raise CsvLayoutError("the first line is blank; expected a header row", "no_header")
    lines = sample.split(b"\n")
    per_row = len(sample) / max(len(lines), 1)
    longest = max(len(line) for line in lines)
    return CsvLayout(tuple(dedupe_headers(columns)), chosen, sep, per_row, longest)


def first_block_bytes(bytes_per_row: float, chunk_rows: int, longest_line: int) -> int:
    """The block size a read starts with: whole rows, never less than a few of the longest."""
    return int(
        min(
            max(min(bytes_per_row * chunk_rows, BLOCK_BYTES), 4 * longest_line, 1 << 10),
            1 << 28,
        )
    )


def open_arrow_csv(
    path: Path,
    columns: Sequence[str],
    encoding: str | None,
    delimiter: str,
    block: int,
    include_columns: Sequence[str] | None,
    on_invalid: Callable[[Any], str],
) -> Any:
    """Arrow's streaming reader of the rows after the header, every cell as text or null."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    # utf-8 and utf-8-sig are read natively (the BOM sits on the skipped header line);
    # other encodings are transcoded by the reader
    native = encoding in (None, "utf-8", "utf-8-sig", "utf8")
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            column_names=list(columns),
            skip_rows=1,
            block_size=block,
            use_threads=False,  # row numbers of skipped rows are only known this way
            encoding="utf8" if native else str(encoding),
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=on_invalid,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in columns},
            include_columns=list(include_columns) if include_columns else None,
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )


# -- the early read ----------------------------------------------------------------------------

EARLY_BYTES = 1 << 28
"""At most this much text (in blocks, at least two) waits parsed for the chunk reader."""

_SCHEMA, _BATCH, _INVALID = range(3)


def read_key(path: Path, layout: CsvLayout, block: int) -> tuple[Any, ...]:
    """What a full read of a file depends on: an early read serves only a read of the same key."""
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, layout, block)


def _arrow_items(path: Path, layout: CsvLayout, block: int) -> Iterator[tuple[int, Any]]:
    """What Arrow's reader of a whole file hands out, in order: the ragged lines it reports
    while it opens the file (parsing the first block), its schema, then each block after the
    ragged lines reported while it was parsed."""
    reported: list[Any] = []

    def invalid(row: Any) -> str:
        reported.append(row)
        return "skip"

    def ragged() -> Iterator[tuple[int, Any]]:
        yield from ((_INVALID, row) for row in reported)
        reported.clear()

    reader = open_arrow_csv(
        path, layout.columns, layout.encoding, layout.delimiter, block, None, invalid
    )
    yield from ragged()
    yield _SCHEMA, reader.schema
    for batch in reader:
        yield from ragged()
        yield _BATCH, batch


class EarlyRead:
    """A full read of a CSV file parsed ahead in a thread, for one reader to take over.

    The ragged lines are queued with the blocks, at the point the parser reported them, and
    :meth:`replay` passes them to the taker's handler at the same point.
    """

    def __init__(self, key: tuple[Any, ...], path: Path, layout: CsvLayout, block: int) -> None:
        self.key = key
        self._items = Ahead(
            _arrow_items(path, layout, block), max(2, EARLY_BYTES // block), "dmi-early-read"
        )

    def replay(self, on_invalid: Callable[[Any], str]) -> Replay:
        """The read, from its start, as the taker's own reader would give it."""
        return Replay(self._items, on_invalid)

    def stop(self) -> None:
        """End the parsing thread (the blocks not taken are dropped)."""
        self._items.close()


class Replay:
    """An :class:`EarlyRead` seen as Arrow's streaming reader: ``schema``, then the blocks."""

    def __init__(self, items: Ahead, on_invalid: Callable[[Any], str]) -> None:
        self._items = items
        self._on_invalid = on_invalid
        # an error opening the file is raised here, as Arrow's own reader raises it
        try:
            for kind, value in items:
                if kind == _SCHEMA:
                    self.schema = value
                    return
                on_invalid(value)
            raise RuntimeError("internal error: an early read ended before its schema")
        except BaseException:
            items.close()
            raise

    def __iter__(self) -> Iterator[Any]:
        try:
            for kind, value in self._items:
                if kind == _BATCH:
                    yield value
                else:
                    self._on_invalid(value)
        finally:
            self._items.close()


_early_read: EarlyRead | None = None
_early_lock = threading.Lock()


def claim_early_read(path: Path, layout: CsvLayout, block: int) -> EarlyRead | None:
    """The early read of this full read of a file, once (the first full read takes it).

    A full read of another file, or with other options, drops the early read: it would not be
    taken any more.
    """
    global _early_read
    with _early_lock:
        early, _early_read = _early_read, None
    if early is not None and early.key != read_key(path, layout, block):
        early.stop()
        return None
    return early


def drop_early_read() -> None:
    """Stop an early read nobody took (the run ended before reading, say)."""
    global _early_read
    with _early_lock:
        early, _early_read = _early_read, None
    if early is not None:
        early.stop()


def start_early_read(argv: Sequence[str]) -> None:
    """For ``score FILE.csv ...`` (the first words of ``argv``), start reading FILE in a thread.

    Anything else, or anything unexpected (no such file, an option this does not read), starts
    nothing: the run itself then reads the file, and reports whatever is wrong with it.
    """
    global _early_read
    if len(argv) < 2 or argv[0] != "score" or argv[1].startswith("-"):
        return
    path = Path(argv[1])
    if path.suffix.lower() not in CSV_SUFFIXES:
        return
    options: dict[str, str] = {}
    words = list(argv[2:])
    for i, word in enumerate(words):
        name, equals, value = word.partition("=")
        if name in ("--encoding", "--chunk-rows"):
            if not equals:
                value = words[i + 1] if i + 1 < len(words) else ""
            options[name] = value
    try:
        chunk_rows = int(options.get("--chunk-rows", "100000"))
        if chunk_rows < 1 or not path.is_file():
            return
        layout = csv_layout(path, options.get("--encoding") or None)
        block = first_block_bytes(layout.bytes_per_row, chunk_rows, layout.longest_line)
        early = EarlyRead(read_key(path, layout, block), path, layout, block)
    except (OSError, ValueError):
        return
    with _early_lock:
        previous, _early_read = _early_read, early
    if previous is not None:
        previous.stop()


__all__ = [
    "BLOCK_BYTES",
    "CSV_SUFFIXES",
    "EARLY_BYTES",
    "MAX_BLOCK_BYTES",
    "SNIFF_BYTES",
    "CsvLayout",
    "CsvLayoutError",
    "EarlyRead",
    "Replay",
    "claim_early_read",
    "clean_header",
    "csv_layout",
    "dedupe_headers",
    "detect_encoding",
    "drop_early_read",
    "first_block_bytes",
    "open_arrow_csv",
    "read_key",
    "sniff_delimiter",
    "start_early_read",
]

"""How a CSV file is laid out and parsed by Arrow, with nothing heavier than pyarrow.

:mod:`dmi.io` reads CSV files through these functions. They import neither pandas nor the rest
of dmi, so that ``dmi score FILE.csv`` can start parsing the file (:func:`start_early_read`)
while Python imports pandas and dmi, about a second in which the second core would idle.
Arrow parses without holding the GIL, so the two overlap. The chunk reader then takes the
parsed blocks over (:func:`claim_early_read`) when it opens the same file with the same options,
and parses on from there; otherwise the early read is dropped. Either way the rows, their
numbers and the ragged lines met are the same.

What the start of a file says (:func:`csv_layout`): a file that is not CSV text at all (an XLSX
workbook or another zip archive, an XLS, Parquet or PDF file, binary bytes) is refused naming
what it looks like; the encoding is a byte-order mark's, UTF-16 without one (NUL bytes in every
other position), UTF-8, or else GB18030; lines may end in LF, CRLF or CR alone (Excel for Mac);
the header row may hold cells over several lines, and may be the whole file.

:func:`split_record` splits text the way Arrow's parser does (quotes open only at the start of a
field, ``""`` is a quote inside one), for the few lines dmi splits itself: the header, ragged
lines and lines swallowed by an unclosed quote (:func:`swallowed_at`).
"""

from __future__ import annotations

import csv
import re
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dmi.io.background import Ahead
from dmi.text import folded

SNIFF_BYTES = 1 << 20
"""How much of the start of a file the encoding, delimiter and row lengths are guessed from."""

BLOCK_BYTES = 1 << 20
"""Arrow parses a block at a time: blocks of about a megabyte stay in the CPU's caches (20 MB
blocks parsed 2.3x slower), so a chunk is gathered from several."""

MAX_BLOCK_BYTES = 1 << 30
"""The biggest block a row longer than the others makes the reader try."""

CSV_SUFFIXES = (".csv", ".txt", ".tsv")

SCAN_BYTES = 1 << 22
"""How much of a file :func:`find_undecodable` decodes at a time."""


class CsvLayoutError(ValueError):
    """The start of a CSV file cannot be read as a header row (the message says why).

    ``problem`` (``empty``, ``decode``, ``not_text`` or ``no_header``) and ``details`` say it as
    data, for
    :class:`dmi.io.FileFormatError`.
    """

    def __init__(self, message: str, problem: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.problem = problem
        self.details = details


LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""What ends a physical line, here as for Arrow's parser: LF, CRLF or CR alone."""

_TRUNCATED = ("unexpected end of data", "incomplete multibyte sequence", "truncated data")
"""Python's reasons for a multi-byte character cut by the end of the bytes given."""


def _utf16_order(sample: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the sample looks like UTF-16 text without a BOM.

    CSV text is full of ASCII (delimiters, digits, line ends), which UTF-16 writes with a NUL
    byte beside each: NULs crowd one of the two byte positions and are rare in the other (a
    CJK character has one only when its code ends in 00). The sample must then decode, and a
    short one must hold a line break (a one-line file of 4 KiB is UTF-16 on its NULs alone).
    """
    sample = sample[: 1 << 16]
    sample = sample[: len(sample) // 2 * 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    for order, many, few in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if many >= 0.05 * pairs and many >= 4 * few:
            try:
                text = sample.decode(order)
            except UnicodeDecodeError as exc:
                if exc.reason not in _TRUNCATED:  # a surrogate pair cut by the sample's end
                    continue
                text = sample[: exc.start].decode(order)
            # and it holds a line break as a whole character: UTF-8 text with a stray NUL,
            # read two bytes at a time, has none (the LF byte pairs with a letter)
            if "\x00" not in text and ("\n" in text or "\r" in text or len(sample) >= 4096):
                return order
    return None


def detect_encoding(sample: bytes) -> str:
    """Guess the text encoding of a CSV file from its first bytes.

    A byte-order mark decides (UTF-8 or UTF-16); then UTF-16 without one (see
    :func:`_utf16_order`); then strict UTF-8; else GB18030 (a superset of GBK and GB2312).
    """
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    order = _utf16_order(sample) if b"\x00" in sample else None
    if order is not None:
        return order
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the end of the sample is still UTF-8
        if exc.start >= len(sample) - 3 and exc.reason in ("unexpected end of data",):
            return "utf-8"
        # UTF-8 text (several characters, not a GB18030 pair that happens to be one) before a
        # line that is not: a file of mixed encodings, which GB18030 would misread from the
        # start without a word; read as UTF-8, the reader names the line that is not
        before = sample[: exc.start].decode("utf-8")
        if sum(1 for c in before if ord(c) > 127) >= _UTF8_EVIDENCE:
            return "utf-8"
    return "gb18030"


_UTF8_EVIDENCE = 4
"""Non-ASCII characters decoded as UTF-8 that make a file UTF-8 with a line that is not."""


_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an Excel 97-2003 workbook (.xls), not CSV text: save it as .xlsx",
    ),
    (b"PAR1", "a Parquet file, not CSV text: name it .parquet"),
    (b"%PDF", "a PDF document, not CSV text: export the table as CSV or XLSX"),
    (b"\x1f\x8b", "a gzip archive, not CSV text: unpack it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive, not CSV text: unpack it first"),
    (b"Rar!", "a RAR archive, not CSV text: unpack it first"),
)

_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r") + b"\x7f"
"""Bytes no CSV text holds (tab, LF and CR aside)."""


def _zip_kind(path: Path) -> str:
    """What a zip archive holds, as the end of a message."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, RuntimeError):
        names, mimetype = [], b""
    if any(name.startswith("xl/") for name in names):
        return "an XLSX workbook (a zip archive), not CSV text: save it as .xlsx"
    if b"spreadsheet" in mimetype:
        return "an OpenDocument spreadsheet (a zip archive), not CSV text: save it as .xlsx"
    if any(name.startswith("word/") for name in names):
        return "a Word document (a zip archive), not CSV text: export the table as CSV or XLSX"
    return "a zip archive, not CSV text: unzip it, or export the table as CSV or XLSX"


def not_text(path: Path, sample: bytes, encoding: str) -> str | None:
    """Why the file is not CSV text ("looks like ..."), or None when it may be.

    Known signatures (zip, so XLSX; XLS; Parquet; PDF; archives) name the format; UTF-16 text
    read as another encoding is named; otherwise a sample of which more than 1% is control
    bytes (NUL, ...) is binary, unless it is UTF-16 or UTF-32 text, where NULs are part of the
    characters.
    """
    if sample.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "looks like " + _zip_kind(path)
    for signature, what in _SIGNATURES:
        if sample.startswith(signature):
            return "looks like " + what
    if encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32", "utf16", "utf32")):
        return None
    order = _utf16_order(sample) if b"\x00" in sample else None
    if order is not None:  # an encoding was given, and it is not this one
        return f"looks like {order} text, not {encoding}: pass --encoding {order}, or leave it out"
    control = len(sample) - len(sample.translate(None, _CONTROL))
    if control > 0.01 * len(sample):
        return (
            f"looks like a binary file, not CSV text ({control} of its first {len(sample)} bytes "
            "are control characters such as NUL): export the table as CSV or XLSX"
        )
    return None


def sniff_delimiter(text: str) -> str:
    """The delimiter among comma, semicolon, tab and ``|`` that the first lines use."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except (csv.Error, ValueError, TypeError):
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        return max(counts, key=counts.get) if max(counts.values()) > 0 else ","


def clean_header(name: str) -> str:
    """A header cell as it is matched: folded (:func:`dmi.text.folded`: no byte-order mark
    left), trimmed."""
    return folded(name).strip()


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


_STOPS: dict[str, re.Pattern[str]] = {}


def split_record(text: str, delimiter: str, start: int = 0) -> tuple[list[str], int, bool]:
    """The fields of the record starting at ``start`` of ``text``, split as Arrow's parser does.

    A field that starts with ``"`` is quoted up to the next lone ``"`` (``""`` is one quote
    inside it) and may hold delimiters and line breaks; text after its closing quote belongs to
    the field too; a ``"`` elsewhere is text. A line break outside quotes ends the record.

    Returns
    -------
    fields : list of str
    end : int
        Where the next record starts (after the line break; ``len(text)`` at the end).
    complete : bool
        False when ``text`` ends inside a quoted field.
    """
    stops = _STOPS.get(delimiter)
    if stops is None:
        stops = _STOPS[delimiter] = re.compile(f"[{re.escape(delimiter)}\r\n]")
    fields: list[str] = []
    i, n = start, len(text)
    while True:
        parts = []
        if i < n and text[i] == '"':
            j = i + 1
            while True:
                k = text.find('"', j)
                if k < 0:  # the quote never closes
                    parts.append(text[j:])
                    fields.append("".join(parts))
                    return fields, n, False
                if text.startswith('"', k + 1):
                    parts.append(text[j : k + 1])
                    j = k + 2
                    continue
                parts.append(text[j:k])
                i = k + 1
                break
        stop = stops.search(text, i)
        end = stop.start() if stop else n
        parts.append(text[i:end])
        fields.append("".join(parts))
        if stop is None:
            return fields, n, True
        if text[end] == delimiter:
            i = end + 1
            continue
        return fields, end + (2 if text.startswith("\r\n", end) else 1), True


def split_fields(text: str, delimiter: str) -> list[str]:
    """The fields of one line (or of one record's text), as Arrow's parser splits them."""
    return split_record(text, delimiter)[0]


def swallowed_at(values: Sequence[str | None], width: int, delimiter: str) -> int:
    """Where a record's cells show a quote that opened and swallowed whole rows, or -1.

    A quoted value may hold line breaks (an address over two lines). One that swallowed rows
    (a quote opened by mistake and closed lines later, or never) shows it. This returns the
    position ``k`` of the first value, in a record whose header has ``width`` >= 2 columns,
    that holds a line break and either

    - whose first line holds at least one delimiter and, with the ``k`` cells before the value,
      at least ``width - 1`` of them: the line the quote opened on is a whole row on its own;
    - or one of whose later lines (after a line break, up to the next one or the value's end)
      holds at least ``width - 1`` delimiters: a whole row on its own.

    So a cell over several lines is kept while no line of it could be a row of the file. In a
    file of two or three columns a cell with a delimiter in each line may be taken for
    swallowed rows; a file of one column cannot tell.
    """
    if width < 2:
        return -1
    for k, value in enumerate(values):
        if not value or ("\n" not in value and "\r" not in value):
            continue
        first, *later = LINE_BREAK.split(value)
        opened = first.count(delimiter)
        if opened >= 1 and k + opened >= width - 1:
            return k
        if any(line.count(delimiter) >= width - 1 for line in later):
            return k
    return -1


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
    header_lines
        Physical lines the header row takes (a header cell may hold a line break).
    header_only
        The header ends the file without a line end: there are no rows (Arrow could not skip
        the header and would fail).
    written
        The header's cells as the file writes them (trimmed, deduplicated, not NFKC): what
        messages quote. Empty: as ``columns``.
    """

    columns: tuple[str, ...]
    encoding: str
    delimiter: str
    bytes_per_row: float
    longest_line: int
    header_lines: int = 1
    header_only: bool = False
    written: tuple[str, ...] = ()


def csv_layout(path: Path, encoding: str | None = None, delimiter: str | None = None) -> CsvLayout:
    """Read the start of a CSV file: its encoding, delimiter and header.

    Raises
    ------
    CsvLayoutError
        The file is empty, is not CSV text (:func:`not_text` says what it looks like), cannot
        be decoded as ``encoding``, or its first line is blank, or its header's quote does not
        close.
    """
    with path.open("rb") as file:
        sample = file.read(SNIFF_BYTES)
        whole = not file.read(1)
    if not sample.strip():
        raise CsvLayoutError("the file is empty; expected a header row of columns", "empty")
    chosen = encoding or detect_encoding(sample)
    problem = not_text(path, sample, chosen)
    if problem:
        # UTF-16 read as another encoding is a matter of the encoding; the others, of the file
        kind = (
            "decode"
            if problem.startswith(("looks like utf-16", "looks like utf-32"))
            else "not_text"
        )
        raise CsvLayoutError(problem, kind, encoding=chosen)
    try:
        text = sample.decode(chosen, errors="strict" if encoding else "replace")
    except (LookupError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError) and not whole and exc.reason in _TRUNCATED:
            text = sample[: exc.start].decode(chosen)  # a character cut by the sample's end
        else:
            raise CsvLayoutError(
                f"cannot decode as {chosen}: {exc}", "decode", encoding=chosen
            ) from None
    text = text.lstrip("\ufeff")
    sep = delimiter or ("\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text))
    header, end, complete = split_record(text, sep)
    if not complete:
        raise CsvLayoutError(
            f"the header row's quote in column {len(header)} does not close; expected a header "
            "row of columns"
        )
    columns = [clean_header(h) for h in header]
    if not any(columns):
        raise CsvLayoutError("the first line is blank; expected a header row", "no_header")
    header_only = whole and end == len(text) and not text.endswith(("\r", "\n"))
    header_lines = 1 + len(LINE_BREAK.findall(text[:end].rstrip("\r\n")))
    lines = sample.splitlines() or [sample]
    per_row = len(sample) / len(lines)
    longest = max(len(line) for line in lines)
    return CsvLayout(
        tuple(dedupe_headers(columns)),
        chosen,
        sep,
        per_row,
        longest,
        header_lines,
        header_only,
        tuple(dedupe_headers([h.strip() for h in header])),
    )


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
    skip_lines: int = 1,
) -> Any:
    """Arrow's streaming reader of the rows after the header, every cell as text or null.

    ``skip_lines`` is the header's number of physical lines: Arrow skips lines, not records.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    _quiet_undecodable_rows()

    def handler(row: Any) -> str:
        return on_invalid(row)

    handler._dmi_invalid_row_handler = True  # type: ignore[attr-defined]
    # utf-8 and utf-8-sig are read natively (the BOM sits on the skipped header line);
    # other encodings are transcoded by the reader
    native = encoding in (None, "utf-8", "utf-8-sig", "utf8")
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            column_names=list(columns),
            skip_rows=skip_lines,
            block_size=block,
            use_threads=False,  # row numbers of skipped rows are only known this way
            encoding="utf8" if native else str(encoding),
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=handler,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in columns},
            include_columns=list(include_columns) if include_columns else None,
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )


def _quiet_undecodable_rows() -> None:
    """Keep pyarrow from printing a traceback when a ragged row's bytes are not UTF-8.

    pyarrow decodes an invalid row's text as UTF-8 before it calls the handler; when it cannot,
    it prints the error as "Exception ignored in ..." (a traceback on stderr) and the read then
    fails with a parse error, which dmi reports in one line (see :func:`find_undecodable`).
    Only that print, for dmi's own handlers, is dropped; the hook is put back on top whenever a
    reader opens (a test runner may have swapped hooks meanwhile).
    """
    previous = sys.unraisablehook
    if getattr(previous, "_dmi_quiet", False):
        return

    def hook(unraisable: Any) -> None:
        if issubclass(unraisable.exc_type, UnicodeDecodeError) and getattr(
            unraisable.object, "_dmi_invalid_row_handler", False
        ):
            return
        previous(unraisable)

    hook._dmi_quiet = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


def may_hold_line_breaks(path: Path) -> bool:
    """Whether any value of the file may hold a line break: only a quoted one can, and the file
    has no ``"`` byte (in any encoding dmi reads, ``"`` is that byte)."""
    with path.open("rb") as file:
        while block := file.read(1 << 24):
            if b'"' in block:
                return True
    return False


@dataclass(frozen=True)
class Undecodable:
    """Where a file first stops being text of an encoding.

    Attributes
    ----------
    offset
        Of the first byte that does not decode.
    line
        The physical line it is on (the header's first line is line 1).
    ascii_before
        Whether every character before it is ASCII (then any ASCII-compatible encoding reads
        that part the same).
    text
        The decoded text from the start of the line asked for (``from_line``) to that byte.
    reason
        What the decoder said.
    """

    offset: int
    line: int
    ascii_before: bool
    text: str
    reason: str


def find_undecodable(path: Path, encoding: str, from_line: int = 1) -> Undecodable | None:
    """The first byte of the file that does not decode as ``encoding``, or None.

    Reads the file from the start, a few megabytes at a time (the chunk reader calls it only
    when a read has failed).
    """
    import codecs

    codec = codecs.lookup(encoding).name
    with path.open("rb") as file:
        head = file.read(4)
        # a byte-order mark is read once, here: each block is then decoded on its own
        skip = 0
        if codec == "utf-8-sig":
            codec, skip = "utf-8", 3 if head.startswith(codecs.BOM_UTF8) else 0
        elif codec == "utf-16":
            codec = "utf-16-be" if head.startswith(codecs.BOM_UTF16_BE) else "utf-16-le"
            skip = 2 if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else 0
        file.seek(skip)
        lines = _LineCounter(from_line)
        carry, offset, ascii_before = b"", skip, True
        while True:
            block = file.read(SCAN_BYTES)
            data = carry + block
            try:
                text, used = data.decode(codec), len(data)
            except UnicodeDecodeError as exc:
                used = exc.start
                text = data[:used].decode(codec)
                if not (exc.reason in _TRUNCATED and exc.end == len(data) and block):
                    lines.feed(text)
                    return Undecodable(
                        offset + used,
                        lines.line,
                        ascii_before and text.isascii(),
                        "".join(lines.kept),
                        f"{exc.reason} (byte 0x{data[used]:02x})",
                    )
                # else a character cut by the block's end: decoded with the next block
            lines.feed(text)
            ascii_before = ascii_before and text.isascii()
            offset += used
            carry = data[used:]
            if not block:
                return None


class _LineCounter:
    """Counts the physical lines of a text fed in pieces, and keeps it from line ``from_line``.

    A CRLF may be cut between two pieces: the LF then ends no line of its own.
    """

    def __init__(self, from_line: int) -> None:
        self.line = 1
        self.from_line = from_line
        self.kept: list[str] = []
        self.keeping = from_line <= 1
        self.fresh = self.keeping  # keeping, and nothing kept yet
        self.cr = False

    def feed(self, text: str) -> None:
        if not text:
            return
        lf_of_crlf = 1 if self.cr and text.startswith("\n") else 0
        if self.keeping:
            self.kept.append(text[lf_of_crlf:] if self.fresh else text)
            self.fresh = False
        else:
            line = self.line
            for match in LINE_BREAK.finditer(text, lf_of_crlf):
                line += 1
                if line == self.from_line:
                    self.kept.append(text[match.end() :])
                    self.keeping = True
                    self.fresh = match.end() == len(text)
                    break
        self.line += len(LINE_BREAK.findall(text, lf_of_crlf))
        self.cr = text.endswith("\r")


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
        path,
        layout.columns,
        layout.encoding,
        layout.delimiter,
        block,
        None,
        invalid,
        layout.header_lines,
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
        if layout.header_only:
            return  # nothing to read
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
    "LINE_BREAK",
    "EarlyRead",
    "Replay",
    "Undecodable",
    "claim_early_read",
    "clean_header",
    "csv_layout",
    "dedupe_headers",
    "detect_encoding",
    "drop_early_read",
    "find_undecodable",
    "first_block_bytes",
    "may_hold_line_breaks",
    "not_text",
    "open_arrow_csv",
    "read_key",
    "sniff_delimiter",
    "split_fields",
    "split_record",
    "start_early_read",
    "swallowed_at",
]

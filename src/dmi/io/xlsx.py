"""Reading XLSX worksheets as a stream of rows, with what a cell means and how much a file may
make dmi hold (private: :mod:`dmi.io` builds its chunks and its errors on this).

A workbook is a zip of XML parts. The small parts (the workbook, its relationships, the styles)
are parsed whole; the shared strings are kept in Arrow arrays (their text and an offset each,
not a Python object each); a worksheet is parsed as it is decompressed, by expat, one block at a
time, so memory does not grow with the sheet. Every size is checked against :class:`Limits`
before it is read: the uncompressed sizes from the zip directory (``zipfile`` never decompresses
more than a member's declared size), the text of each cell as it arrives.

A cell keeps the meaning it has in Excel, not only its stored number:

- a number formatted as a percentage (``0%``, ``0.0%`` ...) is the text ``"45%"`` for a stored
  0.45, as a person typed it and as a CSV export shows it;
- a whole number formatted with leading zeros (``000000``) is that text (``"000123"``);
- a number formatted as a date or time is a ``date`` / ``datetime`` / ``time``;
- a number whose format shows it scaled (``#,##0,`` shows 12000000 as ``12,000``;
  ``0!.0,"万"`` as ``1200.0万``: :class:`ScalingFormat`) is not the number a person sees: the
  cell is a :class:`Problem` naming the format, the number and what Excel shows;
- other numbers are floats (Excel holds every number as a double), booleans are bools;
- a formula without a computed value (never opened in a spreadsheet, or in a workbook that asks
  to be recalculated when opened) and an error value (``#N/A``, ``#REF!`` ...) are not values:
  the cell is blank and reported as a :class:`Problem`.
"""

from __future__ import annotations

import array
import datetime as dt
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

import numpy as np

READ_BLOCK = 1 << 20  # a part is decompressed and parsed a megabyte at a time
# XML bytes without a parsing event: a giant tag or attribute, which expat would hold whole
LONGEST_TAG = 8 << 20
# cells of one block at most: a block of a sheet 16,384 columns wide is short
BLOCK_CELLS = 4_000_000
# a sheet's size in Excel (the last cell is XFD1048576)
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384

FORMULA_NO_VALUE = (
    "formula without a computed value: open and save the file in Excel, or export values"
)
ERROR_VALUE = "an Excel error value (a formula that failed): correct it in the workbook"


def scaled_number(code: str, stored: str, text: str) -> str:
    """Why a number whose format shows it scaled is not read: ``code`` shows ``stored`` as
    ``text`` (see :class:`ScalingFormat`)."""
    return (
        f"number format '{code}' shows {stored} scaled (\"{text}\"); write the number in the "
        "column's unit"
    )


class XlsxError(Exception):
    """The workbook cannot be read (the message names what and where, not the file).

    ``problem`` and ``details`` say it as data, for :class:`dmi.io.FileFormatError`:
    ``xlsx_unreadable`` (not a workbook, or damaged), ``no_sheet`` (``sheet``, ``sheets``) and
    ``sheet_in_doubt`` (``sheet``, ``sheets``: the active sheet is hidden or not a worksheet);
    None for the others (the message says it).
    """

    def __init__(self, message: str, problem: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.problem = problem
        self.details = details


@dataclass(frozen=True)
class Limits:
    """How much one workbook may make dmi read and hold (see the settings in :mod:`dmi.io`)."""

    sheet_bytes: int
    shared_strings_bytes: int
    cell_chars: int
    part_bytes: int


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook: its name, visibility and where its XML is."""

    name: str
    state: str  # visible, hidden or veryHidden
    part: str | None  # the zip member, None when it is not a worksheet (a chart sheet ...)
    kind: str  # worksheet, chartsheet, dialogsheet, macrosheet ...


@dataclass(frozen=True)
class Merge:
    """A merged range of cells (Excel keeps its value in the first cell only)."""

    ref: str  # as the sheet writes it: "B3:B6"
    first_row: int  # sheet row numbers
    last_row: int
    first_column: int  # 0-based columns
    last_column: int

    @property
    def one_column(self) -> bool:
        return self.first_column == self.last_column


@dataclass
class Problem:
    """A cell that holds no value dmi can use."""

    position: int  # the row's position in its block
    column: int  # 0-based column
    shown: str  # what the cell holds (the formula, the error value)
    reason: str


Stray = tuple[int, list[str], list[tuple[int, str]]]
"""A row with values right of the header: its number, its cells under the header as text, and
the 0-based column and text of each cell right of it."""


@dataclass
class Block:
    """Consecutive rows of a sheet.

    ``values`` has one row per well-formed row (``width`` columns, blanks None); ``ragged``
    lists the rows with a value in a column without a header, as ``(row number, the cells
    under the header as text, (column, text) of each cell right of it)``; ``problems`` the
    cells of ``values`` that hold no value.
    """

    values: np.ndarray
    rows: np.ndarray
    ragged: list[Stray] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


# -- number formats ---------------------------------------------------------------------------

GENERAL, PERCENT, DATE, ZEROS = 0, 1, 2, 3

# built-in format ids (ECMA-376 18.8.30) that are dates or times, with the East Asian ones
# (27-36, 50-58) that zh, ja and ko Excel write without listing them in the styles part
_DATE_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_PERCENT_IDS = frozenset({9, 10})
_QUOTED = re.compile(r'"[^"]*"|\\.|_.|\*.')  # literal text, escaped characters, padding
_BRACKETS = re.compile(r"\[[^\]]*\]")  # colours, conditions, locales ([$-804]), [DBNum1]
_DATE_CODES = re.compile(r"[dmyhs]|AM/PM|A/P", re.IGNORECASE)


def format_kind(code: str) -> tuple[int, int]:
    """``(kind, width)`` of a number format code: what the format does to a number's meaning.

    Only the first section (positive numbers) counts. ``width`` is the number of digits of a
    ``ZEROS`` format.
    """
    section = code.split(";", 1)[0]
    plain = _BRACKETS.sub("", _QUOTED.sub("", section)).strip()
    if plain.casefold() == "general" or not plain:
        return GENERAL, 0
    if "%" in plain:
        return PERCENT, 0
    if re.fullmatch(r"00+", plain):  # "0" alone only rounds: no zero is added
        return ZEROS, len(plain)
    # elapsed times ([h]:mm) are durations: a bracketed h, m or s counts as a date code too
    elapsed = re.search(r"\[(h+|m+|s+)\]", section, re.IGNORECASE)
    if elapsed or _DATE_CODES.search(plain.replace("General", "")):
        return DATE, 0
    return GENERAL, 0


def _builtin_kind(number_format_id: int) -> tuple[int, int]:
    if number_format_id in _PERCENT_IDS:
        return PERCENT, 0
    if number_format_id in _DATE_IDS:
        return DATE, 0
    return GENERAL, 0


def percent_text(text: str) -> str:
    """The stored number of a percent cell as the text a person sees: ``"0.455"`` -> ``"45.5%"``.

    Decimal arithmetic on the shortest form of the double, so 0.45 is ``45%``, not
    ``45.00000000000001%``.
    """
    shifted = Decimal(repr(float(text))).scaleb(2).normalize()
    return f"{shifted:f}%"


# a format code's tokens: quoted text, a character escaped (\ or !), padding (_x), a fill (*x),
# a bracket ([Red], [$-804], [>=100]), "General", or one character
_TOKEN = re.compile(
    r'"(?P<quoted>[^"]*)"?|[\\!](?P<escaped>.)|_.|\*.|\[(?P<bracket>[^\]]*)\]?'
    r"|(?P<general>general)|(?P<char>.)",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"\s*(<=|>=|<>|<|>|=)\s*([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*$")
_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
}
_DIGIT, _POINT, _COMMA, _TEXT = "digit", "point", "comma", "text"


@dataclass(frozen=True)
class _Section:
    """One section of a number format (the codes between semicolons) as tokens."""

    tokens: tuple[tuple[str, str], ...]  # (kind, text): digit placeholders, the point, text
    condition: tuple[str, float] | None  # [>=10000]: the numbers the section is for
    numeric: bool  # digits only: no date, time, fraction, exponent or text placeholder
    commas: int  # the number shown is divided by 1,000 for each scaling comma
    grouped: bool  # a comma between integer digits: thousands separators
    inserted: bool  # a point written as text between integer digits (0!.0000)
    percents: int

    @property
    def scales(self) -> bool:
        return self.numeric and (self.commas > 0 or self.inserted)


def _section(code: str) -> _Section:
    tokens: list[tuple[str, str]] = []
    condition: tuple[str, float] | None = None
    numeric = True
    percents = 0
    for match in _TOKEN.finditer(code):
        quoted, escaped, bracket = match.group("quoted", "escaped", "bracket")
        char = match.group("char")
        if quoted is not None:
            tokens.append((_TEXT, quoted))
        elif escaped is not None:
            tokens.append((_TEXT, escaped))
        elif match.group(0)[0] == "_":
            tokens.append((_TEXT, " "))
        elif bracket is not None:
            found = _CONDITION.fullmatch(bracket)
            if found:
                condition = (found.group(1), float(found.group(2)))
            elif bracket.startswith("$"):  # a currency: [$¥-804] shows ¥
                tokens.append((_TEXT, bracket[1:].split("-", 1)[0]))
            elif re.fullmatch(r"h+|m+|s+", bracket, re.IGNORECASE):
                numeric = False  # an elapsed time
        elif match.group("general") is not None or char is None:
            continue  # General, or a fill
        elif char in "0#?":
            tokens.append((_DIGIT, char))
        elif char == "." and all(kind != _POINT for kind, _ in tokens):
            tokens.append((_POINT, char))
        elif char == ",":
            tokens.append((_COMMA, char))
        elif char == "%":
            percents += 1
            tokens.append((_TEXT, char))
        elif char in "/@" or (char in "Ee" and code[match.end() : match.end() + 1] in "+-"):
            numeric = False
        elif _DATE_CODES.match(char):
            numeric = False
        else:
            tokens.append((_TEXT, char))
    commas, grouped = 0, False
    kinds = [kind for kind, _ in tokens]
    for at, kind in enumerate(kinds):
        if kind != _COMMA:
            continue
        before = next((k for k in reversed(kinds[:at]) if k != _COMMA), None)
        after = next((k for k in kinds[at + 1 :] if k != _COMMA), None)
        if before == _DIGIT and after == _DIGIT:
            grouped = True
        elif before == _DIGIT:  # after the last digit: 12000000 shows as 12,000
            commas += 1
    integer = kinds[: kinds.index(_POINT)] if _POINT in kinds else kinds
    digits = [at for at, kind in enumerate(integer) if kind == _DIGIT]
    inserted = (
        any(
            kind == _TEXT and "." in tokens[at][1] and digits[0] < at < digits[-1]
            for at, kind in enumerate(integer)
        )
        if digits
        else False
    )
    numeric = numeric and bool(digits or _POINT in kinds)
    return _Section(tuple(tokens), condition, numeric, commas, grouped, inserted, percents)


def _split_sections(code: str) -> list[str]:
    """A format code's sections: split at the semicolons outside text and brackets."""
    sections: list[str] = []
    start = 0
    for match in _TOKEN.finditer(code):
        if match.group("char") == ";":
            sections.append(code[start : match.start()])
            start = match.end()
    sections.append(code[start:])
    return sections


@dataclass(frozen=True)
class ScalingFormat:
    """A number format that shows some numbers scaled: divided by 1,000 for each comma after
    the last digit (``#,##0,`` shows 12000000 as ``12,000``), or with a point written as text
    between the digits (``0!.0000"万"`` shows 12345678 as ``1234.5678万``). The number a
    person sees is not the number stored: read as stored, 1200万 would be taken as 12000000万.
    """

    code: str
    sections: tuple[_Section, ...]

    def section(self, number: float) -> tuple[_Section | None, bool]:
        """The section that shows ``number``, and whether a minus sign goes before it."""
        numbers = self.sections[:3]  # a fourth section is for text
        if any(s.condition is not None for s in numbers):
            for s in numbers:
                if s.condition is None or _COMPARE[s.condition[0]](number, s.condition[1]):
                    return s, number < 0
            return None, False  # no section: Excel shows ####
        if number < 0 and len(numbers) > 1:
            return numbers[1], False  # the negative numbers' section writes its own sign
        return numbers[0], number < 0

    def shows(self, number: float) -> str | None:
        """What Excel shows for ``number`` when it is shown scaled, else None (zero, or a
        section that does not scale)."""
        if number == 0 or number != number:
            return None
        section, minus = self.section(number)
        if section is None or not section.scales:
            return None
        return ("-" if minus else "") + _shown_scaled(section, abs(number))


def scaling_format(code: str) -> ScalingFormat | None:
    """The format as a :class:`ScalingFormat` when one of its sections scales the number it
    shows, else None (a thousands separator, a unit written after the number, a comma in
    quotes or escaped: ``#,##0``, ``#,##0"万元"``, ``0",万"``, ``0\\,``)."""
    sections = tuple(_section(part) for part in _split_sections(code))
    return ScalingFormat(code, sections) if any(s.scales for s in sections[:3]) else None


def _shown_scaled(section: _Section, number: float) -> str:
    """The text of a positive number in a numeric section: digits laid into the placeholders
    (the leftmost integer one takes the digits left over), text where it is written."""
    value = Decimal(repr(number)).scaleb(2 * section.percents - 3 * section.commas)
    kinds = [kind for kind, _ in section.tokens]
    point = kinds.index(_POINT) if _POINT in kinds else len(kinds)
    places = sum(1 for kind in kinds[point:] if kind == _DIGIT)
    with localcontext() as exact:  # every digit of the largest float (1.8e308) and its places
        exact.prec = 330 + places
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    whole, _, fraction = f"{rounded:f}".partition(".")
    whole = whole.lstrip("0")
    # the integer part, right to left
    slots = [at for at in range(point) if kinds[at] == _DIGIT]
    out: list[str] = []
    placed = 0
    for at in range(point - 1, -1, -1):
        kind, text = section.tokens[at]
        if kind == _TEXT:
            out.append(text)
        elif kind == _DIGIT:
            take, whole = (whole, "") if at == slots[0] else (whole[-1:], whole[:-1])
            if not take:
                take = {"0": "0", "?": " "}.get(text, "")
            for char in reversed(take):
                if section.grouped and placed and placed % 3 == 0 and char.isdigit():
                    out.append(",")
                out.append(char)
                placed += char.isdigit()
    # without an integer placeholder (.00,) the integer's digits stand before the point
    text = "".join(reversed(out)) + whole
    # the fraction, left to right; trailing zeros dropped where # asks
    pieces: list[list[str]] = []
    for at in range(point, len(kinds)):
        kind, token = section.tokens[at]
        if kind == _POINT:
            pieces.append([".", "text"])
        elif kind == _TEXT:
            pieces.append([token, "text"])
        elif kind == _DIGIT:
            digit, fraction = fraction[:1] or "0", fraction[1:]
            pieces.append([digit, token])
    for piece in reversed(pieces):
        if piece[1] == "text":
            continue
        if piece[0] != "0" or piece[1] == "0":
            break
        piece[0] = "" if piece[1] == "#" else " "
    return text + "".join(piece[0] for piece in pieces)


_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def excel_date(serial: float, date1904: bool) -> Any:
    """The date, datetime or time an Excel serial number stands for (None when it cannot be one).

    The 1900 system counts 1900-02-29, a day that did not exist (Lotus 1-2-3's leap-year
    mistake, kept by Excel): serials before it are one day later than a plain count.
    """
    if not (0 <= serial < 2_958_466):  # 9999-12-31 is the last day Excel shows
        return None
    if date1904:
        moment = _EPOCH_1904 + dt.timedelta(days=serial)
    elif serial < 60:
        moment = _EPOCH_1900 + dt.timedelta(days=serial + 1)
    elif serial < 61:  # 1900-02-29, which did not exist: the day before is as near as any
        moment = dt.datetime(1900, 2, 28) + dt.timedelta(days=serial - 60)
    else:
        moment = _EPOCH_1900 + dt.timedelta(days=serial)
    moment = _round_to_millisecond(moment)
    if serial < 1:
        return moment.time()
    if moment.time() == dt.time(0):
        return moment.date()
    return moment


def _round_to_millisecond(moment: dt.datetime) -> dt.datetime:
    extra = moment.microsecond % 1000
    moment -= dt.timedelta(microseconds=extra)
    return moment + dt.timedelta(milliseconds=1) if extra >= 500 else moment


def shown(value: Any) -> str:
    """A cell value as text, for messages and the rejects table (``3.0`` -> ``"3"``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15G}" if abs(value) >= 1e15 else repr(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """OOXML writes control characters as ``_xHHHH_`` (a carriage return is ``_x000D_``); an
    escape of half a surrogate pair stays as it is written (it is no character)."""
    return _ESCAPED.sub(_escaped_character, text) if "_x" in text else text


def _escaped_character(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)


def column_index(letters: str) -> int:
    """0-based index of a column's letters (``A`` -> 0, ``AB`` -> 27)."""
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1


def column_letters(index: int) -> str:
    """The letters of a 0-based column index (27 -> ``AB``)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# -- the workbook -----------------------------------------------------------------------------

_STRICT_OR_TRANSITIONAL = re.compile(r"/relationships/(\w+)$")
# what reading a damaged zip member raises (RuntimeError: a member encrypted with a password)
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attribute(element: Any, name: str) -> str | None:
    """An attribute by its local name, whatever its namespace (``r:id``)."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


class Workbook:
    """An opened XLSX file: its sheets, their formats and shared strings, and its rows.

    Parameters
    ----------
    path
        The file.
    limits
        The sizes it may have (checked from the zip directory before anything is parsed).

    Raises
    ------
    XlsxError
        The file is not a workbook, is damaged, or is bigger than ``limits`` allow.
    """

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        try:
            with zipfile.ZipFile(path) as archive:
                self._members = {info.filename: info for info in archive.infolist()}
                self._folded = {name.casefold(): name for name in self._members}
                self._read_structure(archive)
        except zipfile.BadZipFile as exc:
            raise XlsxError(
                f"not a readable XLSX workbook ({exc}; an .xls file or a password-protected "
                "workbook is not a zip archive: save it as .xlsx)",
                "xlsx_unreadable",
            ) from None
        except (*_READ_ERRORS, ElementTree.ParseError) as exc:
            raise XlsxError(
                f"not a readable XLSX workbook ({type(exc).__name__}: {exc})", "xlsx_unreadable"
            ) from None
        self._strings: Any = None
        self._blank_strings: np.ndarray | None = None
        self._merges: dict[str, list[Merge]] = {}

    # the parts read whole --------------------------------------------------------------------

    def _member(self, name: str) -> str | None:
        name = name.lstrip("/")
        return name if name in self._members else self._folded.get(name.casefold())

    def _xml(self, archive: zipfile.ZipFile, name: str) -> Any:
        size = self._members[name].file_size
        if size > self.limits.part_bytes:
            raise XlsxError(
                f"the part {name} is {size:,} bytes uncompressed, more than "
                f"XLSX_MAX_PART_BYTES ({self.limits.part_bytes:,})"
            )
        return ElementTree.fromstring(archive.read(name))

    def _relationships(self, archive: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
        """``(id, type, target part)`` of a part's relationships."""
        folder, name = posixpath.split(part)
        rels = self._member(posixpath.join(folder, "_rels", name + ".rels"))
        if rels is None:
            return []
        out = []
        for rel in self._xml(archive, rels):
            if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            target = (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            kind = _STRICT_OR_TRANSITIONAL.search(rel.get("Type", ""))
            out.append((rel.get("Id", ""), kind.group(1) if kind else "", target))
        return out

    def _read_structure(self, archive: zipfile.ZipFile) -> None:
        document = next(
            (t for _, k, t in self._relationships(archive, "") if k == "officeDocument"),
            "xl/workbook.xml",
        )
        workbook_part = self._member(document)
        if workbook_part is None:
            raise XlsxError(
                "not a readable XLSX workbook (it has no workbook part)", "xlsx_unreadable"
            )
        root = self._xml(archive, workbook_part)
        rels = {
            rid: (kind, self._member(target))
            for rid, kind, target in self._relationships(archive, workbook_part)
        }
        self.sheets: list[Sheet] = []
        self.active = 0
        self.date1904 = False
        self.recalculate = False  # the writer asks for every formula to be computed on opening
        views = 0
        for element in root.iter():
            tag = _local(element.tag)
            if tag == "sheet":
                kind, part = rels.get(_attribute(element, "id") or "", ("", None))
                self.sheets.append(
                    Sheet(
                        element.get("name", ""),
                        element.get("state", "visible"),
                        part if kind == "worksheet" else None,
                        kind or "sheet of an unknown kind",
                    )
                )
            elif tag == "workbookView":
                if not views:  # the first window's is the one Excel opens with
                    self.active = _int(element.get("activeTab"), 0)
                views += 1
            elif tag == "workbookPr":
                self.date1904 = element.get("date1904", "0").lower() in ("1", "true")
            elif tag == "calcPr":
                self.recalculate = element.get("fullCalcOnLoad", "0").lower() in ("1", "true")
        if not self.sheets:
            raise XlsxError("the workbook has no sheets")
        kinds = {kind: part for kind, part in rels.values()}
        self._shared_part = kinds.get("sharedStrings") or self._member("xl/sharedStrings.xml")
        styles = kinds.get("styles") or self._member("xl/styles.xml")
        # the cell styles whose format scales the number shown, by their index
        self.scaling: dict[int, ScalingFormat] = {}
        self.formats = self._read_formats(archive, styles) if styles else []
        if self._shared_part is not None:
            size = self._members[self._shared_part].file_size
            if size > self.limits.shared_strings_bytes:
                raise XlsxError(
                    f"the shared strings part is {size:,} bytes uncompressed, more than "
                    f"XLSX_MAX_SHARED_STRINGS_BYTES ({self.limits.shared_strings_bytes:,}); "
                    "split the file or save it as CSV"
                )

    def _read_formats(self, archive: zipfile.ZipFile, part: str) -> list[tuple[int, int]]:
        """``(kind, width)`` of each cell style (``s`` attribute) that changes a number; the
        styles that scale it go to :attr:`scaling` (no built-in format does)."""
        root = self._xml(archive, part)
        codes: dict[int, str] = {}
        kinds: list[tuple[int, int]] = []
        for element in root:
            tag = _local(element.tag)
            if tag == "numFmts":
                for fmt in element:
                    codes[_int(fmt.get("numFmtId"), -1)] = fmt.get("formatCode", "")
            elif tag == "cellXfs":
                for xf in element:
                    number_format = _int(xf.get("numFmtId"), 0)
                    code = codes.get(number_format)
                    kinds.append(
                        format_kind(code) if code is not None else _builtin_kind(number_format)
                    )
                    scaling = scaling_format(code) if code is not None else None
                    if scaling is not None:
                        self.scaling[len(kinds) - 1] = scaling
        return kinds

    # sheets -----------------------------------------------------------------------------------

    def pick(self, name: str | None) -> Sheet:
        """The sheet to read: the one named, or else the active one (the one Excel shows).

        Raises
        ------
        XlsxError
            No sheet has that name, or the active sheet is hidden or not a worksheet (then it
            is not clear which sheet is meant: the message lists them and asks for --sheet).
        """
        listing = ", ".join(
            f"{s.name!r}" + ("" if s.state == "visible" else f" ({s.state})") for s in self.sheets
        )
        names = ", ".join(s.name for s in self.sheets)
        choose = "choose one with --sheet NAME (sheet= in Python)"
        if name is not None:
            sheet = next((s for s in self.sheets if s.name == name), None)
            if sheet is None:
                raise XlsxError(
                    f"no sheet named {name!r}; the sheets are {listing}",
                    "no_sheet",
                    sheet=name,
                    sheets=names,
                )
        elif not 0 <= self.active < len(self.sheets):
            raise XlsxError(
                f"the workbook's active sheet ({self.active + 1}) is not one of its sheets "
                f"{listing}: {choose}",
                "sheet_in_doubt",
                sheet=str(self.active + 1),
                sheets=names,
            )
        else:
            sheet = self.sheets[self.active]
            if sheet.state != "visible":
                raise XlsxError(
                    f"the active sheet {sheet.name!r} is {sheet.state}, so which sheet holds "
                    f"the answers is in doubt; the sheets are {listing}: {choose}",
                    "sheet_in_doubt",
                    sheet=sheet.name,
                    sheets=names,
                )
        if sheet.part is None:
            what = "its part is missing" if sheet.kind == "worksheet" else f"it is a {sheet.kind}"
            raise XlsxError(f"sheet {sheet.name!r} has no cells to read ({what}); {choose}")
        return sheet

    def check_size(self, sheet: Sheet) -> None:
        assert sheet.part is not None
        info = self._members[sheet.part]
        if info.file_size > self.limits.sheet_bytes:
            raise XlsxError(
                f"sheet {sheet.name!r} is {info.file_size:,} bytes uncompressed, more than "
                f"XLSX_MAX_SHEET_BYTES ({self.limits.sheet_bytes:,}); split the file or save "
                "it as CSV"
            )

    def merges(self, sheet: Sheet) -> list[Merge]:
        """The sheet's merged ranges (read once, on first use).

        They follow the cells in the sheet's XML, so the part is scanned for them before its
        rows are read (a search for one word, not a parse: 0.3 s against a read of 7.0 s for
        50,000 rows of 45 columns).
        """
        assert sheet.part is not None
        found = self._merges.get(sheet.part)
        if found is None:
            found = self._merges[sheet.part] = self._read_merges(sheet)
        return found

    def _read_merges(self, sheet: Sheet) -> list[Merge]:
        out: list[Merge] = []
        tail = b""
        with zipfile.ZipFile(self.path) as archive:
            try:
                with archive.open(sheet.part) as stream:  # type: ignore[arg-type]
                    while block := stream.read(READ_BLOCK):
                        text = tail + block
                        start = text.find(b"mergeCell")
                        if start >= 0:
                            for match in _MERGE.finditer(text, max(start - 64, 0)):
                                out.append(_merge(match))
                            text = text[_last_end(text) :]
                        tail = text[-_MERGE_TAIL:]
            except _READ_ERRORS as exc:
                raise XlsxError(f"sheet {sheet.name!r} cannot be read ({exc})") from None
        return list(dict.fromkeys(out))  # a range the sheet lists twice is one

    # shared strings ---------------------------------------------------------------------------

    def strings(self) -> Any:
        """The shared strings as one Arrow ``large_string`` array (read once, on first use)."""
        if self._strings is None:
            self._strings = self._read_strings()
        return self._strings

    def blank_strings(self) -> np.ndarray:
        """Which shared strings are blank or spaces only (a cell of one is no value that makes
        its row a row of the table), as a mask (computed once, on first use)."""
        if self._blank_strings is None:
            import pyarrow.compute as pc

            trimmed = pc.utf8_trim_whitespace(self.strings())
            self._blank_strings = np.asarray(pc.equal(trimmed, "").fill_null(True), dtype=bool)
        return self._blank_strings

    def _read_strings(self) -> Any:
        """Parse the shared strings into one Arrow array, built from its two buffers (the UTF-8
        text and the offsets) as the strings come: no Python object is kept per string, and
        the text is never held twice."""
        import pyarrow as pa

        text = bytearray()
        offsets = array.array("q", [0])
        if self._shared_part is None:
            return pa.array([], type=pa.large_string())
        limit = self.limits.cell_chars
        pieces: list[str] = []
        length = 0
        depth_phonetic = 0
        in_text = False
        in_item = False

        def start(name: str, attrs: Any) -> None:
            nonlocal in_text, in_item, length, depth_phonetic
            local = name.rpartition(":")[2]
            if local == "si":
                in_item = True
                pieces.clear()
                length = 0
            elif local == "t" and in_item and not depth_phonetic:
                in_text = True
            elif local == "rPh":
                depth_phonetic += 1

        def end(name: str) -> None:
            nonlocal in_text, in_item, depth_phonetic
            local = name.rpartition(":")[2]
            if local == "t":
                in_text = False
            elif local == "rPh":
                depth_phonetic -= 1
            elif local == "si":
                in_item = False
                text.extend(_unescape("".join(pieces)).encode("utf-8"))
                offsets.append(len(text))

        def data(piece: str) -> None:
            nonlocal length
            if in_text:
                length += len(piece)
                if length > limit:
                    raise XlsxError(
                        f"shared string {len(offsets) - 1} is longer than XLSX_MAX_CELL_CHARS "
                        f"({limit:,} characters, Excel's own limit)"
                    )
                pieces.append(piece)

        parser = _expat_parser()
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = data
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(self._shared_part) as stream:
                fed = 0
                while block := stream.read(READ_BLOCK):
                    parser.Parse(block, False)
                    fed += len(block)
                    _check_progress(parser, fed, "the shared strings part")
                parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise XlsxError(f"the shared strings part is not well-formed XML ({exc})") from None
        except _READ_ERRORS as exc:
            raise XlsxError(f"the shared strings part is damaged ({exc})") from None
        return pa.LargeStringArray.from_buffers(
            len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(text)
        )

    # rows -------------------------------------------------------------------------------------

    def header(self, sheet: Sheet, row: int = 1) -> list[Any]:
        """The values of the sheet's row ``row`` (its header; an empty list when it is empty)."""
        return self.top_rows(sheet, row).get(row, [])

    def top_rows(self, sheet: Sheet, rows: int) -> dict[int, list[Any]]:
        """The values of the sheet's rows 1 to ``rows``, each as wide as it is, by row number
        (rows without a value are left out): where a header below title rows is looked for."""
        return {
            int(block.rows[0]): list(block.values[0])
            for block in self.blocks(sheet, width=None, block_rows=1, header=True, header_row=rows)
        }

    def blocks(
        self,
        sheet: Sheet,
        width: int | None,
        block_rows: int,
        header: bool = False,
        header_row: int = 1,
    ) -> Iterator[Block]:
        """The sheet's rows after the header, in blocks of ``block_rows`` rows.

        Rows keep their sheet numbers. The table ends at its last row with a value under the
        header: an empty row before it is a row of blanks (a blank line), the empty rows after
        it are not rows at all. A row with a value right of the header is in ``ragged`` (below
        the table too, without the empty rows before it). The header is row
        ``header_row``: the rows above it are titles, not rows of the table. ``width=None``
        with ``header=True`` reads only rows 1 to ``header_row``, each as wide as it is.
        """
        assert sheet.part is not None
        if header_row < 1:
            raise ValueError(f"header_row must be a row number of at least 1, got {header_row}")
        self.check_size(sheet)
        blocks = _SheetReader(self, sheet, width, block_rows, header, header_row).blocks()
        merges = [] if header else self.data_merges(sheet, header_row)
        filled = [m for m in merges if m.one_column]
        yield from _filled_down(blocks, filled) if filled else blocks

    def data_merges(self, sheet: Sheet, header_row: int = 1) -> list[Merge]:
        """The merged ranges below the header (a title merged above it, or a header merged
        over two rows, is not data)."""
        found = [
            m
            for m in self.merges(sheet)
            if m.first_row > header_row and (m.last_row > m.first_row or not m.one_column)
        ]
        return sorted(found, key=lambda m: (m.first_row, m.first_column))

    def header_merges(self, sheet: Sheet, header_row: int = 1) -> list[Merge]:
        """The ranges of the header row merged over several columns (the header is in the
        first column only: the others have none)."""
        found = [
            m
            for m in self.merges(sheet)
            if m.first_row <= header_row <= m.last_row and not m.one_column
        ]
        return sorted(found, key=lambda m: m.first_column)

    def other_worksheets(self, sheet: Sheet | None) -> list[str]:
        """The names of the workbook's visible worksheets other than ``sheet``."""
        return [
            s.name
            for s in self.sheets
            if s is not sheet and s.state == "visible" and s.part is not None
        ]


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _check_progress(parser: Any, fed: int, where: str) -> None:
    """Refuse XML that goes on for :data:`LONGEST_TAG` bytes without an element: expat holds a
    tag whole, so a tag or attribute of hundreds of megabytes would be held whole too."""
    if fed - parser.CurrentByteIndex > LONGEST_TAG:
        raise XlsxError(
            f"{where} has a tag longer than {LONGEST_TAG:,} bytes: not a part a spreadsheet writes"
        )


def _expat_parser() -> Any:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    return parser


class _Stop(Exception):
    """Raised from a handler when no more of the sheet is needed."""


_DIGITS = "0123456789"


_MERGE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_MERGE_TAIL = 256  # bytes kept from one block to the next: a merge cut by the block's end


def _merge(match: re.Match[bytes]) -> Merge:
    first_letters, first_row, last_letters, last_row = (g.decode() for g in match.groups())
    return Merge(
        f"{first_letters}{first_row}:{last_letters}{last_row}",
        int(first_row),
        int(last_row),
        column_index(first_letters),
        column_index(last_letters),
    )


def _last_end(text: bytes) -> int:
    """Where the last whole merge element in ``text`` ends (0 if none)."""
    end = 0
    for match in _MERGE.finditer(text):
        end = match.end()
    return end


def _filled_down(blocks: Iterator[Block], merges: list[Merge]) -> Iterator[Block]:
    """The blocks with each blank cell of a merged one-column range of data rows given the
    value of the range's first cell (as Excel shows it)."""
    first_values: dict[Merge, Any] = {}
    for block in blocks:
        rows, values = block.rows, block.values
        width = values.shape[1] if values.ndim == 2 else 0
        for merge in merges:
            column = merge.first_column
            if column >= width:
                continue
            inside = np.flatnonzero((rows >= merge.first_row) & (rows <= merge.last_row))
            if not len(inside):
                continue
            if rows[inside[0]] == merge.first_row:
                first_values[merge] = values[inside[0], column]
            value = first_values.get(merge)
            if value is None:
                continue
            for position in inside.tolist():
                if values[position, column] is None:
                    values[position, column] = value
        yield block


class _SheetReader:
    """One pass over a worksheet's XML, handing out :class:`Block` s.

    The expat handlers are the hot loop of an XLSX read (a few calls per cell): element names
    are compared as they come (with the sheet's namespace prefix, if it uses one), and a cell's
    text is one string.
    """

    def __init__(
        self,
        book: Workbook,
        sheet: Sheet,
        width: int | None,
        block_rows: int,
        header: bool,
        header_row: int = 1,
    ) -> None:
        self.book = book
        self.sheet = sheet
        self.header_only = header
        self.header_row = header_row
        self.width = width if width is not None else 0
        self.block_rows = max(1, min(block_rows, BLOCK_CELLS // max(self.width, 1)))
        # the styles that change what a number means, by their ``s`` attribute: its kind, and
        # the format when it may show the number scaled
        self.special = {
            str(i): (kind, book.scaling.get(i))
            for i, kind in enumerate(book.formats)
            if kind[0] != GENERAL or i in book.scaling
        }
        self.strings = book.strings() if book._shared_part is not None else None
        self.blank_strings = book.blank_strings() if self.strings is not None else None
        # rows read and not yet handed out
        self.values: list[list[Any]] = []
        self.numbers: list[int] = []
        self.ragged: list[Stray] = []
        self.problems: list[Problem] = []
        self.shared_at: list[tuple[int, int, int]] = []  # (position, column, string index)
        self.last_row = 0

    def blocks(self) -> Iterator[Block]:  # noqa: C901 - one state machine, kept in one place
        sheet, width, header_only = self.sheet, self.width, self.header_only
        limit = self.book.limits.cell_chars
        date1904 = self.book.date1904
        recalculate = self.book.recalculate
        special = self.special
        strings = self.strings
        blank_strings = self.blank_strings
        n_strings = len(strings) if strings is not None else 0
        values, numbers, ragged, problems = self.values, self.numbers, self.ragged, self.problems
        shared_at = self.shared_at
        names = ("c", "v", "f", "is", "t", "row", "rPh", "sheetData")
        n_c, n_v, n_f, n_is, n_t, n_row, n_rph, n_data = names
        columns_of: dict[str, int] = {}

        header_row = self.header_row
        # the first of the empty rows not yet known to be followed by a value under the header
        blank_from = header_row + 1
        # the rows since then with values only right of the header: rejects, not blank rows
        stray_rows: list[int] = []
        # the row being read
        row_number = 0
        row: list[Any] = []
        row_extra: dict[int, Any] | None = None
        row_shared: list[tuple[int, int]] = []
        row_problems: list[tuple[int, str, str]] = []
        row_has_value = False
        column = -1
        # the cell being read: text is None until a <v> or <is> starts
        cell_ref: str | None = None
        cell_type: str | None = None
        cell_style: str | None = None
        text: str | None = None
        formula: str | None = None
        collecting = 0  # 1: the value's text, 2: the formula's
        in_inline = False
        phonetic = 0

        def too_long() -> XlsxError:
            where = cell_ref or f"{column_letters(column + 1)}{row_number}"
            return XlsxError(
                f"sheet {sheet.name!r}, cell {where}: the cell is longer than "
                f"XLSX_MAX_CELL_CHARS ({limit:,} characters, Excel's own limit)"
            )

        def first_start(name: str, attrs: dict[str, str]) -> None:
            # the root element tells the namespace prefix the sheet uses (usually none)
            nonlocal n_c, n_v, n_f, n_is, n_t, n_row, n_rph, n_data
            prefix = name[: name.find(":") + 1]
            n_c, n_v, n_f, n_is, n_t, n_row, n_rph, n_data = (prefix + n for n in names)
            parser.StartElementHandler = start

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal cell_ref, cell_type, cell_style, text, formula, collecting, in_inline
            nonlocal phonetic, row_number, row, row_extra, row_has_value, column
            if name == n_c:
                cell_ref = attrs.get("r")
                cell_type = attrs.get("t")
                cell_style = attrs.get("s")
                text = formula = None
            elif name == n_v:
                collecting = 1
                text = ""
            elif name == n_row:
                number = attrs.get("r")
                row_number = int(number) if number else row_number + 1
                if not 0 < row_number <= MAX_ROWS:
                    raise XlsxError(
                        f"sheet {sheet.name!r}: row number {row_number} is not a row of a sheet "
                        f"(1 to {MAX_ROWS:,}): the file is damaged"
                    )
                row = [None] * width
                row_extra = None
                row_shared.clear()
                row_problems.clear()
                row_has_value = False
                column = -1
            elif name == n_t:
                if in_inline and not phonetic:
                    collecting = 1
            elif name == n_is:
                in_inline = True
                text = ""
            elif name == n_f:
                collecting = 2
                formula = ""
            elif name == n_rph:
                phonetic += 1

        def data(piece: str) -> None:
            nonlocal text, formula
            if collecting == 1:
                text += piece  # type: ignore[operator]
                if len(text) > limit:  # type: ignore[arg-type]
                    raise too_long()
            elif collecting == 2:
                formula += piece  # type: ignore[operator]
                if len(formula) > limit:  # type: ignore[arg-type]
                    raise too_long()

        def end(name: str) -> None:
            nonlocal collecting, in_inline, phonetic, column, row_has_value, row_extra
            if name == n_v or name == n_t or name == n_f:
                collecting = 0
                return
            if name != n_c:
                if name == n_row:
                    end_row()
                elif name == n_is:
                    in_inline = False
                elif name == n_rph:
                    phonetic -= 1
                elif name == n_data:
                    raise _Stop
                return
            # the end of a cell
            if cell_ref:
                letters = cell_ref.rstrip(_DIGITS)
                at = columns_of.get(letters)
                if at is None:
                    at = columns_of[letters] = column_index(letters) if letters else -1
                column = at if at >= 0 else column + 1
            else:
                column += 1
            if column >= MAX_COLUMNS:
                raise XlsxError(
                    f"sheet {sheet.name!r}: cell {cell_ref or column + 1} in row {row_number} is "
                    f"right of the last column of a sheet (XFD): the file is damaged"
                )
            if header_only and column >= len(row):
                row.extend([None] * (column + 1 - len(row)))
            kept = column < width or header_only
            if formula is not None and (
                recalculate or text is None or (text == "" and cell_type != "str")
            ):
                if kept:  # a formula right of the header has no column: left alone
                    shown_formula = "=" + formula if formula else "=(shared formula)"
                    row_problems.append((column, shown_formula, FORMULA_NO_VALUE))
                    row_has_value = True
                return
            if not text:
                return
            value: Any
            if cell_type is None or cell_type == "n":
                try:
                    value = float(text)
                except ValueError:  # not a number after all: kept as the text it is
                    value = text
                else:
                    if cell_style is not None and cell_style in special:
                        kind, scaling = special[cell_style]
                        # a number shown scaled is not the number a person sees
                        if (
                            scaling is not None
                            and kept
                            and (scaled := scaling.shows(value)) is not None
                        ):
                            stored = shown(value)
                            reason = scaled_number(scaling.code, stored, scaled)
                            row_problems.append((column, stored, reason))
                            row_has_value = True
                            return
                        if kind[0] != GENERAL:
                            value = formatted(value, text, kind)
            elif cell_type == "s":
                index = int(text)
                if not 0 <= index < n_strings:
                    raise XlsxError(
                        f"sheet {sheet.name!r}, cell {cell_ref}: shared string {index} does "
                        f"not exist (the workbook has {n_strings})"
                    )
                if column < width:  # looked up a block at a time (see take)
                    row_shared.append((column, index))
                    # spaces alone are no value: a " " far below the table makes no rows
                    if not blank_strings[index]:  # type: ignore[index]
                        row_has_value = True
                    return
                assert strings is not None
                value = _unescape(strings[index].as_py())
            elif cell_type == "str" or cell_type == "inlineStr":
                value = _unescape(text)
            elif cell_type == "b":
                value = text.strip() in ("1", "true")
            elif cell_type == "e":
                if kept:
                    row_problems.append((column, text, ERROR_VALUE))
                    row_has_value = True
                return
            elif cell_type == "d":
                try:
                    value = dt.datetime.fromisoformat(text)
                except ValueError:
                    value = text
            else:
                value = text
            if kept:
                row[column] = value
                if not (isinstance(value, str) and not value.strip()):
                    row_has_value = True
            elif not (isinstance(value, str) and not value.strip()):
                if row_extra is None:
                    row_extra = {}
                row_extra[column] = value

        def formatted(number: float, text: str, kind: tuple[int, int]) -> Any:
            if kind[0] == PERCENT:
                return percent_text(text)
            if kind[0] == ZEROS:
                if number.is_integer() and 0 <= number < 1e15:
                    return str(int(number)).rjust(kind[1], "0")
                return number
            date = excel_date(number, date1904)
            return number if date is None else date

        def end_row() -> None:
            nonlocal blank_from
            if header_only:  # the rows down to the header (see Workbook.top_rows)
                if row_number <= header_row and row_has_value:
                    values.append(row)
                    numbers.append(row_number)
                if row_number >= header_row:
                    raise _Stop
                return
            if row_number <= self.last_row:
                raise XlsxError(
                    f"sheet {sheet.name!r}: row {row_number} comes after row "
                    f"{self.last_row} (rows out of order): the file is damaged"
                )
            self.last_row = row_number
            if row_number <= header_row:
                return  # a title row above the header, or the header (see Workbook.header)
            if row_extra:  # a value right of the header: the row is skipped, naming the cells
                if row_has_value:
                    flush_blank(row_number)
                else:  # not a row of the table: the empty rows before it do not become rows
                    stray_rows.append(row_number)
                cells = [shown(v) for v in row]
                for at, index in row_shared:
                    cells[at] = _unescape(strings[index].as_py())  # type: ignore[index]
                extra = [(at, shown(value)) for at, value in sorted(row_extra.items())]
                ragged.append((row_number, cells, extra))
                return
            if not row_has_value:
                return  # an empty row: counted once a row with a value follows it
            flush_blank(row_number)
            position = len(values)
            for at, index in row_shared:
                shared_at.append((position, at, index))
            for at, shown_text, reason in row_problems:
                problems.append(Problem(position, at, shown_text, reason))
            values.append(row)
            numbers.append(row_number)

        blank_row = [None] * width  # one list for every blank row: none is ever changed

        def flush_blank(before: int) -> None:
            """The empty rows before row ``before`` (which has a value under the header) are
            rows of the table: blank rows, but for those with values right of the header."""
            nonlocal blank_from
            if before > blank_from:
                empty: Any = range(blank_from, before)
                if stray_rows:
                    skipped = set(stray_rows)
                    empty = [number for number in empty if number not in skipped]
                values.extend([blank_row] * len(empty))
                numbers.extend(empty)
            stray_rows.clear()
            blank_from = before + 1

        parser = _expat_parser()
        parser.StartElementHandler = first_start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = data
        where = f"sheet {sheet.name!r}"
        with zipfile.ZipFile(self.book.path) as archive:
            try:
                stream = archive.open(sheet.part)  # type: ignore[arg-type]
            except _READ_ERRORS as exc:
                raise XlsxError(f"{where} cannot be read ({exc})") from None
            with stream:
                fed = 0
                while True:
                    near = max(row_number, self.last_row)
                    try:
                        block = stream.read(READ_BLOCK)
                        parser.Parse(block, not block)
                        fed += len(block)
                        _check_progress(parser, fed, f"{where}, near row {near},")
                    except _Stop:
                        block = b""
                    except expat.ExpatError as exc:
                        raise XlsxError(
                            f"{where} is not well-formed XML near row {near} "
                            f"({expat.ErrorString(exc.code)}): the file is damaged or cut short"
                        ) from None
                    except _READ_ERRORS as exc:
                        raise XlsxError(f"{where} is damaged near row {near} ({exc})") from None
                    except ValueError as exc:  # a row or string number that is not a number
                        raise XlsxError(
                            f"{where} has a malformed cell near row {near} ({exc})"
                        ) from None
                    while len(values) >= self.block_rows:
                        yield self.take(self.block_rows)
                    if not block:
                        break
        if values or ragged:
            yield self.take(len(values), last=True)

    def take(self, n: int, last: bool = False) -> Block:
        """Hand out the first ``n`` rows read and the ragged rows among or before them (all
        that are left, for the ``last`` block)."""
        values, numbers = self.values, self.numbers
        out = np.empty((n, len(values[0]) if values else self.width), dtype=object)
        if n:
            out[:] = values[:n]
        if self.shared_at:  # the shared strings of the block, looked up at once by Arrow
            import pyarrow as pa

            at = np.array(self.shared_at, dtype=np.int64)
            mine = at[:, 0] < n
            if mine.any():
                picked = at[mine]
                assert self.strings is not None
                texts = self.strings.take(pa.array(picked[:, 2])).to_numpy(zero_copy_only=False)
                for (position, column, _), text in zip(picked.tolist(), texts.tolist()):
                    out[position, column] = _unescape(text) if text else None
            rest = at[~mine]
            rest[:, 0] -= n
            self.shared_at[:] = [tuple(r) for r in rest.tolist()]
        mine_problems = [p for p in self.problems if p.position < n]
        self.problems[:] = [
            Problem(p.position - n, p.column, p.shown, p.reason)
            for p in self.problems
            if p.position >= n
        ]
        end = numbers[n - 1] if n and not last else self.last_row
        mine_ragged = [r for r in self.ragged if r[0] <= end]
        self.ragged[:] = [r for r in self.ragged if r[0] > end]
        block = Block(out, np.array(numbers[:n], dtype=np.int64), mine_ragged, mine_problems)
        del values[:n], numbers[:n]
        return block

"""Matching a file's headers to an instrument's columns: item codes, question texts, aliases,
or a mapping file; what matched, what is unknown, what is missing."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dmi.columns import ID_COLUMN
from dmi.errors import FileFormatError, MissingFileError
from dmi.instruments import Instrument
from dmi.text import match_key

__all__ = [
    "ID_ALIASES",
    "PROFILE_ALIASES",
    "ColumnMapping",
    "assign_headers",
    "check_map_codes",
    "header_unit",
    "loose_key",
    "map_columns",
    "map_entries",
    "match_unmatched",
    "read_mapping_file",
    "require_item_columns",
]


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
    duplicates
        File header -> the column it matches, for headers whose column another header took
        first (ignored, listed in the report apart from the unmatched: they do match).
    unused_map
        Headers the custom mapping names that the file does not have (a typo in the map, or
        the map of another layout): listed, so that a mapping that did nothing is seen.
    missing_items
        Item codes with no column in the file (every row then misses that answer).
    passthrough
        File headers copied as they are to the scores of the rows scored (what a survey tool's
        layout adds, such as 问卷星's ``too_fast`` flag): neither matched nor unmatched.
    units
        Column -> the unit its header names where that is not the column's own (a fact of
        ``dmi eligibility`` in 万元 under ``上年营业收入（元）``): the column is converted.
    few_items
        Headers named like items of an optional survey, too few of them to be its answers
        (``dmi eligibility``'s MIIT survey): left unmatched, and said so.
    """

    rename: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    missing_items: list[str] = field(default_factory=list)
    missing_profile: list[str] = field(default_factory=list)
    passthrough: list[str] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)
    unused_map: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    few_items: list[str] = field(default_factory=list)

    @property
    def id_header(self) -> str | None:
        """The file header mapped to ``respondent_id``, if any."""
        return next((h for h, c in self.rename.items() if c == ID_COLUMN), None)

    @property
    def notes(self) -> list[str]:
        """What the mapping means for the run, for its summary: a file without an id column
        has its rows named by their row numbers."""
        return [] if self.id_header is not None else [NO_ID_NOTE]

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
            "duplicates": dict(self.duplicates),
            "unused_map": list(self.unused_map),
        }

    def duplicates_note(self) -> str:
        """The ignored second columns, each with the header its column was read from."""
        taken_by = {code: header for header, code in self.rename.items()}
        return ", ".join(
            f"{header} (also {code}, read from {taken_by[code]!r})"
            for header, code in self.duplicates.items()
        )

    def ignored_lines(self, unmatched_why: str) -> list[str]:
        """What the header mapping left out, a line each (for the command line's stderr):
        the headers that match nothing (``unmatched_why`` says why), the second columns of
        one code, and the map's entries for headers the file does not have."""
        lines = []
        if self.unmatched:
            lines.append(f"ignored columns ({unmatched_why}): {', '.join(self.unmatched)}")
        if self.duplicates:
            lines.append(
                f"ignored columns (a second column for the same code): {self.duplicates_note()}"
            )
        if self.unused_map:
            lines.append(
                f"the map names columns the file does not have: {', '.join(self.unused_map)}"
            )
        return lines


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
    "respondent id",
)
"""Headers taken as the ``respondent_id`` column (matched ignoring case, spaces and width)."""

NO_ID_NOTE = (
    "no id column (respondent_id, id, 编号, 企业编号, 统一社会信用代码 ...): each row's "
    "respondent_id is its row number, and a respondent given twice is not found (send the id "
    "column to respondent_id with --map)"
)
"""The note of a run whose file has no column for ``respondent_id``."""

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


# what a questionnaire or a spreadsheet adds to a header: a question's number before it (Q5.,
# 5、, 第5题:) and a unit after it: in brackets ((万元), （%）, [人], 单位：万元), after a slash
# (/万元, ／元) or, for a percentage, as it is (资产负债率%)
_NUMBERING = re.compile(r"^(?:(?:q|第)?\d{1,3}(?:题)?[.、:)\]]|q\d{1,3}(?=\D))")
_UNITS = (
    r"百万元|万元|亿元|千元|元|百万|万|亿|千|%|‰|人|个|项|件|位|年|名|分|级|家|次|yuan|people|persons"
    r"|years|points"
)
_UNIT = re.compile(
    rf"(?:[(\[【]\s*(?:单位[:]?|unit[:]?)?\s*(?P<unit>{_UNITS})\s*[)\]】]"
    rf"|(?<=[^/])/(?P<after_slash>{_UNITS})"
    r"|(?<=[^/(\[【%‰])(?P<bare>%|‰))$"
)


def loose_key(text: str) -> str:
    """A header's key without a question's number before it and a unit after it
    (``Q5.上年研发费用``, ``上年营业收入（万元）``, ``上年营业收入/万元`` give ``上年研发费用``,
    ``上年营业收入``)."""
    key = match_key(text)
    key = _UNIT.sub("", _NUMBERING.sub("", key, count=1), count=1)
    return key or match_key(text)


def header_unit(header: str, *, bracketed: bool = False) -> str | None:
    """The unit a header names after its text, in brackets or after a slash
    (``上年营业收入（元）`` and ``上年营业收入/元`` give ``元``, ``资产负债率(%)`` and
    ``资产负债率%`` ``%``), folded as headers are matched; None when it names none
    (``bracketed``: none in brackets)."""
    found = _UNIT.search(match_key(header))
    if found is None:
        return None
    if bracketed:
        return found.group("unit")
    return found.group("unit") or found.group("after_slash") or found.group("bare")


_YAML_NULLS = frozenset({"~", "null", "Null", "NULL"})


def read_mapping_file(path: str | Path) -> dict[str, str]:
    """Read a custom header mapping: a CSV or YAML with ``column`` (file header) -> ``code``.

    The text's encoding is found as an input file's is (a BOM, UTF-8, else GB18030: Excel on a
    Chinese Windows saves CSV in GBK). A file that is not such a mapping is a
    :class:`FileFormatError` naming it (the CSV parser's and YAML's own errors are not).
    """
    import io

    import yaml

    from dmi.io.csvstream import detect_encoding
    from dmi.yamlfile import load_unique

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"no such column mapping file: {path}")
    try:
        data = path.read_bytes()
        text = data.decode(detect_encoding(data))
        if path.suffix.lower() in (".yaml", ".yml"):
            found = load_unique(text, as_text=True)  # a header "yes" is no True
            if not isinstance(found, dict):
                raise FileFormatError(
                    f"{path}: expected a mapping of file header: instrument code", path=path
                )
            # YAML's null (~, null) is no code, as a blank is: the header left out
            entries = [
                (str(k), "" if v in _YAML_NULLS else str(v), f"key {str(k)!r}")
                for k, v in found.items()
            ]
            return _one_code_per_header(path, entries)
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except FileFormatError:
        raise
    except (ValueError, yaml.YAMLError) as exc:  # decoding and pandas' parser errors too
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise FileFormatError(f"{path}: not a column mapping file ({problem})", path=path) from None
    if not {"column", "code"} <= set(frame.columns):
        raise FileFormatError(
            f"{path}: expected columns 'column' and 'code', got {', '.join(frame.columns)}",
            path=path,
        )
    # rows as a spreadsheet numbers them: the header is row 1
    entries = [
        (c, v, f"row {i + 2}") for i, (c, v) in enumerate(zip(frame["column"], frame["code"]))
    ]
    return _one_code_per_header(path, entries)


def _one_code_per_header(path: Path, entries: list[tuple[str, str, str]]) -> dict[str, str]:
    """The mapping of ``(header, code, where)`` entries; a header given two codes (as headers
    match: case, width and spaces aside) is a :class:`FileFormatError` naming both entries,
    where the last would otherwise win without a word."""
    seen: dict[str, tuple[str, str, str]] = {}
    clashes: list[str] = []
    for header, code, where in entries:
        first = seen.setdefault(match_key(header), (header, code, where))
        if first[1] != code:
            clashes.append(
                f"{header!r} is sent to {first[1]!r} ({first[2]}) and to {code!r} ({where})"
            )
    if clashes:
        raise FileFormatError(
            f"{path}: a header can be sent to one column only: " + "; ".join(clashes), path=path
        )
    return {header: code for header, code, _ in entries}


def _unused_map_entries(custom: Mapping[str, str] | None, headers: Sequence[str]) -> list[str]:
    """The headers a custom mapping names (its keys, as given) that are not in ``headers``."""
    have = {match_key(h) for h in headers}
    return [k for k in (custom or {}) if match_key(k) not in have]


def map_entries(
    headers: Sequence[str], custom: Mapping[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """A custom mapping's entries for a file's headers, matched as headers are (width, case and
    spaces aside: ``编号（新）`` is ``编号(新)``): each header it names -> its column (``""``: left
    out), and the entries naming no header of the file (its keys as given)."""
    own = {match_key(k): v for k, v in (custom or {}).items()}
    found = {h: own[match_key(h)] for h in headers if match_key(h) in own}
    return found, _unused_map_entries(custom, headers)


def check_map_codes(instrument: Instrument, custom: Mapping[str, str] | None) -> None:
    """Refuse a custom mapping that sends a header to a column the instrument does not have.

    Raises
    ------
    FileFormatError
        Naming the header and the column.
    """
    valid_codes = (
        {ID_COLUMN}
        | {i.code for i in instrument.items}
        | {f.code for f in instrument.profile}
        | set(instrument.raw_columns)
    )
    for header, code in (custom or {}).items():
        if code and code not in valid_codes:
            raise FileFormatError(
                f"the mapping sends {header!r} to {code!r}, which is not a "
                f"column of instrument {instrument.id}"
            )


def map_columns(
    instrument: Instrument,
    headers: list[str],
    custom: dict[str, str] | None = None,
    passthrough: list[str] | tuple[str, ...] = (),
) -> ColumnMapping:
    """Match file headers to instrument columns by code, zh/en text or a custom mapping.

    ``custom`` maps a header to a column (an item or profile code, or ``respondent_id``), or to
    ``""`` to leave it out; its entries take their columns before the other headers are
    matched by text. The ``passthrough`` headers are kept apart, for the scores
    (:attr:`ColumnMapping.passthrough`).
    """
    known = {i.code for i in instrument.items} | {f.code for f in instrument.profile}
    targets: dict[str, str] = {match_key(ID_COLUMN): ID_COLUMN}
    for alias in ID_ALIASES:
        targets.setdefault(match_key(alias), ID_COLUMN)
    for alias, code in PROFILE_ALIASES.items():
        if code in known:
            targets.setdefault(match_key(alias), code)
    for item in instrument.items:
        for key in (item.code, item.zh, item.en):
            targets.setdefault(match_key(key), item.code)
    for field_ in instrument.profile:
        for key in (field_.code, field_.zh, field_.en):
            targets.setdefault(match_key(key), field_.code)
    for raw in instrument.raw_columns:  # the raw numbers banded items are derived from
        targets.setdefault(match_key(raw), raw)
    check_map_codes(instrument, custom)
    mapping = assign_headers(headers, targets, custom, passthrough)
    taken = set(mapping.rename.values())
    mapping.missing_items = [i.code for i in instrument.items if i.code not in taken]
    mapping.missing_profile = [f.code for f in instrument.profile if f.code not in taken]
    return mapping


def _repeated_headers(headers: Sequence[str]) -> dict[str, str]:
    """The headers the readers renamed because they repeat an earlier one (``x.1``, ``x.2``
    after ``x``, as :func:`dmi.io.csvstream.dedupe_headers` numbers them), each with the header
    it repeats."""
    seen: set[str] = set()
    out: dict[str, str] = {}
    for header in headers:
        base, dot, number = header.rpartition(".")
        if dot and number.isdigit() and base in seen:
            out[header] = base
        seen.add(header)
    return out


def assign_headers(
    headers: Sequence[str],
    targets: Mapping[str, str],
    custom: Mapping[str, str] | None = None,
    passthrough: Sequence[str] = (),
) -> ColumnMapping:
    """Each header to the column it gives: the custom mapping's first, then by its text.

    ``targets`` maps a header's matching key (:func:`_key`: width, case and spaces folded) to
    its column; ``custom`` maps a header as written to a column, or to ``""`` to leave it out.
    A header the custom mapping sends somewhere takes its column first, so that a header
    matched by its text never takes the column a custom entry asked for; then a column is
    taken by the first header that gives it, and the others that give it are duplicates (a
    header repeated in the file, numbered ``x.1`` by the reader, gives its first's column).
    The ``passthrough`` headers are kept apart. Returns the mapping without its missing
    columns (the caller's to say).
    """
    own = {match_key(k): v for k, v in (custom or {}).items()}
    entries, unused = map_entries(headers, custom)
    repeat_of = _repeated_headers(headers)
    mapping = ColumnMapping(passthrough=[h for h in headers if h in passthrough])
    chosen: dict[str, str] = {}
    for header, code in entries.items():
        if header not in passthrough and code and code not in chosen.values():
            chosen[header] = code
    taken = set(chosen.values())
    for header in headers:
        if header in passthrough:
            continue
        if header in chosen:
            mapping.rename[header] = chosen[header]
            continue
        key = match_key(header)
        # a custom entry's column (another header took it first), or "": left out
        target = (own[key] or None) if key in own else targets.get(key)
        if target is None and header in repeat_of:  # a repeated header: its first's column
            target = mapping.rename.get(repeat_of[header])
        if target is None:
            mapping.unmatched.append(header)
        elif target in taken:
            mapping.duplicates[header] = target
        else:
            taken.add(target)
            mapping.rename[header] = target
    _match_loosely(mapping, list(headers), targets, custom)
    mapping.unused_map = unused
    return mapping


def _match_loosely(
    mapping: ColumnMapping,
    headers: list[str],
    targets: Mapping[str, str],
    custom: Mapping[str, str] | None,
) -> None:
    """Match the headers left unmatched by :func:`loose_key` (a question's number and a unit
    left out), where that key names one column only (:func:`match_unmatched`)."""
    loose: dict[str, str | None] = {}
    for key, column in targets.items():
        found = loose_key(key)
        loose[found] = column if loose.get(found, column) == column else None  # None: two

    def column_of(header: str) -> str | None:
        key = loose_key(header)
        return loose.get(key) if key != match_key(header) else None

    match_unmatched(mapping, headers, column_of, custom)


def match_unmatched(
    mapping: ColumnMapping,
    headers: Sequence[str],
    column_of: Callable[[str], str | None],
    custom: Mapping[str, str] | None = None,
) -> None:
    """Match the headers left unmatched by another rule: ``column_of(header)`` gives a
    header's column (None: none). A column no header took is taken; a column taken makes the
    header a duplicate (listed apart, with it); a header the custom mapping leaves out
    (``""``) is not matched. In place, the matched headers kept in the file's order."""
    own = {match_key(k): v for k, v in (custom or {}).items()}
    taken = set(mapping.rename.values())
    matched: dict[str, str] = {}
    for header in mapping.unmatched:
        column = None if own.get(match_key(header)) == "" else column_of(header)
        if column is None:
            continue
        if column in taken:  # a second column of one code: listed apart, as one
            mapping.duplicates[header] = column
        else:
            taken.add(column)
            matched[header] = column
    gone = set(matched) | set(mapping.duplicates)
    mapping.unmatched = [h for h in mapping.unmatched if h not in gone]
    if matched:
        both = {**mapping.rename, **matched}
        mapping.rename = {h: both[h] for h in headers if h in both}


def require_item_columns(
    mapping: ColumnMapping,
    instrument: Instrument,
    source: Any,
    *,
    where: str | None = None,
    hint: str | Callable[[], str] = "",
) -> None:
    """Refuse a file none of whose columns is an item of the instrument.

    ``where`` names the file as the message should (with the sheet read, for XLSX), ``hint``
    follows the message (the workbook's other sheets; a callable is asked only when the file
    is refused).

    Raises
    ------
    FileFormatError
        Naming the file and the headers expected.
    """
    if not set(mapping.rename.values()) & {item.code for item in instrument.items}:
        raise FileFormatError(
            f"{where or source}: no column matches an item of {instrument.id}; expected headers "
            "such as the ones `dmi template` writes (or a column mapping: --map FILE)"
            + (hint() if callable(hint) else hint),
            path=source,
            problem="no_items",
            instrument=instrument.id,
        )

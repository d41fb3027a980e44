"""问卷星 (wjx.cn) exports read as answers: both variants, "按选项序号" (option numbers) and
"按选项文本" (option texts), from CSV (GBK/GB18030 or UTF-8 with BOM) or XLSX.

The rules (docs/survey-tools.md says them for users):

- Meta columns: ``序号`` is the respondent id unless another column is chosen (``--id-column``)
  or a question asks for the id (``企业编号``, ``统一社会信用代码`` ...); ``所用时间`` is read
  (``2分3秒``, ``123秒``, ``1时2分3秒``, ``1小时2分3秒`` or a number of seconds) for the speed
  check; the others (``提交答卷时间``, ``来源``, ``来源详情``, ``来自IP``, ``总分`` ...) are
  dropped, and listed in the summary. The id is read as a fill-in: a skip mark there is a blank
  id (its row is rejected).
- A question header ``N、题干`` (or ``N：题干``, ``N.题干``; full-width digits and marks are
  read as ASCII) is matched by its text to an item or profile field (its code, zh or en text, as
  ``dmi wjx`` writes it) or a raw-number column (its code); when every question matched by text
  has the number ``dmi wjx`` gave it, the file comes from a dmi-made survey and the other
  questions are matched by their number.
- ``第N题(X)`` (or ``N(X)``) columns: a matrix's rows when an ``X`` is an item's text, each row
  by its own (in a dmi-made survey, an edited row by its place, a row added ignored), else one
  0/1 column per option of the multiple-choice question that has most of them (an option it
  lacks is a column of it all the same: a row ticking it is rejected).
- A multiple choice in one cell is its options joined by ``┋`` (a ``┋`` typed into an option's
  fill-in, between 〖〗, joins nothing).
- The variant is chosen (``Source.wjx_variant``, ``--wjx-variant``) or told from the choice
  questions' cells of the first rows: option texts count for 按选项文本, option numbers that are
  no option's text for 按选项序号, and the more decide; other text that is no number means
  按选项文本 only where no option number was seen (a stray word is a bad cell); cells that are only
  numbers which are also option texts (options written as digits) cannot tell, are read as
  option numbers and the summary says so. A chosen variant that a cell contradicts (an option's
  text in 按选项序号, an option number in 按选项文本) stops the read, naming row, column and cell.
- Skipped and not shown (``-2``, ``-3`` in the number export, ``(跳过)`` in the text export)
  and an empty fill-in (``(空)``) are blank answers, counted in the summary; the instrument's
  missing-answer policy then applies as to any blank.
- "其他" fill-in columns (``N、(其他（请补充）:)``, or an "其他" option the item does not have) are
  ignored, with a note; so is an "其他" the question does not have among a multiple choice's
  ``┋``-joined options (``网络┋其他〖自建系统〗`` is 网络), counted in a note.
- An option number the question does not have (an option text the question does not have,
  in the text export), or a 0/1 cell holding something else (or blank beside the question's
  filled ones, or -2/-3 beside its answered ones), rejects its row: the reject names
  the row, the item's column, the cell as written, and in the reason the file's column and what
  the question expects (``1、题干: not an option number of 第1题; expected a number from 1
  to 5, or -2 or -3 (skipped)``).
- Answers given faster than ``min_seconds_per_question`` per question matched are flagged in the
  summary (rows counted and listed), not rejected.
- A custom column map (``--map``) names the export's own headers: each it sends to a column is
  read as that column's one answer a cell, before the rules above match the others; ``""``
  leaves a header out; a 0/1 option column can only be left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dmi.columns import ID_COLUMN
from dmi.errors import FileFormatError
from dmi.instruments import Instrument
from dmi.instruments.export.wjx import WjxQuestion, wjx_questions
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
    mapped_tagged,
    norm,
    option_column,
    plain_columns,
    reject_reason,
    sample_cells,
    text_targets,
)

__all__ = [
    "BLANK_MARKS",
    "META_COLUMNS",
    "PASSTHROUGH",
    "WjxLayout",
    "blank_marks",
    "meta_headers",
    "parse_duration",
]

META_COLUMNS = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP")
"""问卷星's leading meta columns, in their order."""

PASSTHROUGH = ("answer_seconds", "too_fast")
"""The columns a 问卷星 export adds to the scores: ``answer_seconds`` (所用时间 in seconds) and
``too_fast`` (``1`` when faster than the setting allows, ``0`` when not; blank without a time)."""

_MORE_META = ("总分", "答题序号", "IP", "填写设备", "操作系统", "浏览器", "来自")


def meta_headers(headers: list[str]) -> list[str]:
    """The headers, as written, that are a 问卷星 export's own columns (:data:`META_COLUMNS`
    and the others it may add: 总分, 填写设备 ...), never a question's."""
    return [h for h in headers if _is_meta(h)]


def _is_meta(header: str) -> bool:
    stripped = str(header).strip()
    return stripped in META_COLUMNS or stripped in _MORE_META


_ID_META = EXPORT_ID_COLUMNS["wjx"][0]  # 序号
_TIME = "所用时间"
_HEADER = re.compile(r"^\s*(\d+)\s*[、：:.．]\s*(.*?)\s*$", re.S)
_SPLIT = re.compile(r"^\s*(?:第\s*(\d+)\s*题|(\d+))\s*[(（](.*)[)）]\s*$", re.S)
_TYPE_MARK = re.compile(r"[\[【](?:单选题|多选题|填空题|矩阵单选题|矩阵题|量表题)[\]】]\s*$")
_SKIP_CODES = frozenset({"-2", "-3"})
_SKIP_TEXTS = frozenset({"(跳过)", "（跳过）"})
_EMPTY_TEXTS = frozenset({"(空)", "（空）"})
BLANK_MARKS = _SKIP_CODES | _SKIP_TEXTS | _EMPTY_TEXTS
"""Every mark of a question skipped, not shown or left empty, in either export."""


def blank_marks(variant: str | None) -> frozenset[str]:
    """The marks of a question skipped, not shown or left empty in the export ``variant``
    (``codes``: 按选项序号, whose -2 and -3 are marks too, ``-2.0``/``-3.0`` as a workbook's
    numbers read; ``texts``: 按选项文本, where -3 is a value; None: not known, every mark)."""
    numbers = _SKIP_CODES | {f"{code}.0" for code in _SKIP_CODES}
    texts = _SKIP_TEXTS | _EMPTY_TEXTS
    return texts if variant == "texts" else texts | numbers


_MULTI_JOIN = "┋"
_JOINS = re.compile(r"┋|〖[^〗]*(?:〗|$)")
"""What a text export's multiple-choice cell is cut at: ``┋``, never one inside the 〖…〗 of an
option's fill-in (``其他〖MES┋ERP〗``: what the respondent typed)."""
_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)\s*(?:小时|时|h))?\s*(?:(\d+(?:\.\d+)?)\s*(?:分钟|分|m|min))?"
    r"\s*(?:(\d+(?:\.\d+)?)\s*(?:秒|s|sec))?\s*$",
    re.I,
)
_VARIANTS = {"codes": "按选项序号, option numbers", "texts": "按选项文本, option texts"}


def parse_duration(text: str | None) -> float:
    """Seconds of a 问卷星 ``所用时间`` (``2分3秒``, ``123秒``, ``1时2分3秒``, ``1小时2分``, or a
    plain number of seconds); NaN when blank or not a duration."""
    if text is None:
        return float("nan")
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION.match(text)
    if not text or match is None or not any(match.groups()):
        return float("nan")
    h, m, s = (float(g) if g else 0.0 for g in match.groups())
    return h * 3600 + m * 60 + s


def _is_other(text: str) -> bool:
    """An "其他" fill-in: ``(其他（请补充）:)``, ``其他（请注明）`` ..."""
    return "其他" in text and (text.startswith(("(", "（")) or "请" in text or text == "其他")


@dataclass
class _Question:
    """One question header of the file."""

    header: str
    number: int | None
    text: str


_Made = tuple[np.ndarray, dict[str, int], list[tuple[str, np.ndarray, str]]]
"""A plain column made from a chunk's cells: its values, what was met (``skipped``, ``empty``
counts), and the bad cells of each source column (header, which cells, why)."""


@dataclass
class _Converter:
    """How one plain column is made: its sources and the function of their cells."""

    sources: list[str]
    make: Callable[[list[pd.Series]], _Made]
    cells: bool = True  # one answer a cell (not one 0/1 column per option)


def _token(token: str, column: PlainColumn) -> str:
    """What one option of a cell is: ``number`` (an option number of the question, or -2/-3,
    and no option's text), ``text`` (an option's text and no option number), ``both``, or
    ``other`` (neither)."""
    number = token in _SKIP_CODES or (token.isdecimal() and 1 <= int(token) <= len(column.choices))
    text = norm(token) in column.labels
    if number and text:
        return "both"
    return "number" if number else "text" if text else "other"


class WjxLayout(SourceLayout):
    """The layout of one 问卷星 export (see the module for its rules); ``read_elsewhere``
    names its headers another reader of the file reads (:meth:`SourceLayout.read_headers`)."""

    name = "wjx"

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
        self.instrument = instrument
        self.path = reader.path
        headers, mapped = self.read_headers(reader, instrument, column_map, read_elsewhere)
        plan = {q.number: q for q in wjx_questions(instrument)}
        number_of = {code: q.number for q in plan.values() for code in q.codes}
        columns = plain_columns(instrument)
        texts = text_targets(instrument)
        meta: list[str] = []
        others: list[str] = []
        unmatched: list[str] = []
        questions: list[_Question] = []
        splits: dict[int, list[tuple[str, str]]] = {}
        for header in headers:
            stripped = header.strip()
            if header in mapped:
                continue  # the column map says what it is
            if _is_meta(stripped):
                meta.append(header)
            elif match := _SPLIT.match(stripped):
                number = int(match.group(1) or match.group(2))
                splits.setdefault(number, []).append((match.group(3).strip(), header))
            elif match := _HEADER.match(stripped):
                text = match.group(2)
                if _is_other(text):
                    others.append(header)
                else:
                    questions.append(_Question(header, int(match.group(1)), text))
            elif norm(stripped) in texts:
                questions.append(_Question(header, None, stripped))
            else:
                unmatched.append(header)
        if not splits and all(q.number is None for q in questions):
            raise FileFormatError(
                f"{reader.path}: not a 问卷星 export: expected question headers such as "
                f"'1、题干' or '第1题(选项)' after the meta columns {', '.join(META_COLUMNS)}; "
                f"got {', '.join(headers[:8])}{' ...' if len(headers) > 8 else ''}"
                + detected_hint(source, "问卷星"),
                path=reader.path,
                problem="no_items",
                instrument=instrument.id,
            )
        # the questions matched by text, then (in a dmi-made survey) the others by number
        targets: dict[str, tuple[str, int | None]] = {}  # header -> (code, number)
        for q in questions:
            code = texts.get(norm(_TYPE_MARK.sub("", q.text)))
            if code is not None:
                targets[q.header] = (code, q.number)
        agree = [number_of.get(c) == n for c, n in targets.values() if c != ID_COLUMN]
        for number, subs in splits.items():  # a matrix's rows, a multiple choice's options
            rows = [texts.get(norm(x)) for x, _ in subs]
            multi = self._multi_of(number, subs, columns, plan, False)
            agree += [number_of.get(c) == number for c in rows if _is_row(c, columns)]
            agree += [number_of.get(multi.code) == number] if multi is not None else []
        by_number = bool(agree) and all(agree)
        numbered: list[str] = []
        if by_number:
            for q in questions:
                known = plan.get(q.number) if q.number is not None else None
                if q.header not in targets and known is not None and len(known.codes) == 1:
                    targets[q.header] = (known.codes[0], q.number)
                    numbered.append(q.header)
        converters: dict[str, _Converter] = {}
        self.variant = "codes"  # decided below from the cells
        self.forced = source.wjx_variant != "auto"
        # the columns holding option numbers or texts (not the 0/1 ones), by header
        self._choice_columns: dict[str, PlainColumn] = {}

        claimed: set[str] = set()  # the headers read

        def claim(code: str, converter: _Converter, header: str) -> None:
            if code in converters:
                # a second column for the same answer
                unmatched.extend(converter.sources if not converter.cells else [header])
            else:
                converters[code] = converter
                claimed.update(converter.sources)
                if columns[code].kind != "value" and converter.cells:
                    self._choice_columns[header] = columns[code]

        # the headers the column map sends to a column take it first (the id below)
        for header, code in mapped.items():
            if code in ("", ID_COLUMN):
                continue
            split, question = _SPLIT.match(header.strip()), _HEADER.match(header.strip())
            number = int(split.group(1) or split.group(2)) if split else None
            if split and columns[code].kind == "multi":
                raise option_column(header, code, f"第{number}题")
            if question:
                number = int(question.group(1))
            claim(code, self._cell_converter(header, columns[code], number), header)
        for q in questions:
            if q.header not in targets:
                unmatched.append(q.header)
                continue
            code, number = targets[q.header]
            claim(code, self._cell_converter(q.header, columns[code], number), q.header)
        ignored_options: list[str] = []
        lacking: list[str] = []
        for number, subs in splits.items():
            known = plan.get(number) if by_number else None
            rows: list[str | None] = [texts.get(norm(x)) for x, _ in subs]
            rows = [c if _is_row(c, columns) else None for c in rows]
            column = None if any(rows) else self._multi_of(number, subs, columns, plan, by_number)
            if column is None and (any(rows) or (known is not None and known.kind == "matrix")):
                # a matrix: its rows by their text; in a dmi-made survey, an edited row by
                # its place, and a row added is none of the items (ignored, named)
                if known is not None and known.kind == "matrix":
                    placed = _by_place(rows, known.codes)
                    numbered += [h for (_, h), r, p in zip(subs, rows, placed) if p != r]
                    rows = placed
                for code, (_, header) in zip(rows, subs):
                    if code is None:
                        unmatched.append(header)
                    else:
                        claim(code, self._cell_converter(header, columns[code], number), header)
                continue
            if column is None:
                unmatched.extend(h for _, h in subs)
                continue
            # each option's value; None: an option the instrument's question does not have
            options: list[tuple[str | None, str]] = []
            for x, header in subs:
                if _is_other(x) or x.strip() == "其他":
                    ignored_options.append(header)
                else:
                    options.append((column.lookup.get(norm(x)), header))
            if known is not None and known.codes == (column.code,):
                # in a dmi-made survey, an edited option by its place among the question's
                found = [value for value, _ in options]
                placed = _by_place(found, tuple(str(c.value) for c in known.choices))
                numbered += [h for (_, h), f, p in zip(options, found, placed) if p != f]
                options = [(p, h) for p, (_, h) in zip(placed, options)]
            if any(value is not None for value, _ in options):
                claim(column.code, self._flags_converter(number, options), options[0][1])
                lacking += [h for value, h in options if value is None and h in claimed]
        # the respondent id: the chosen column, an id question, else 序号
        id_header = map_id(reader, source, mapped)  # or the column the map sends to the id
        serial = [h for h in headers if h.strip() == _ID_META and h not in mapped]
        if id_header is not None:
            converters.pop(ID_COLUMN, None)
            for code, converter in list(converters.items()):
                if converter.sources == [id_header]:
                    del converters[code]  # the chosen id is not also an answer
            for group in (meta, unmatched, others):
                if id_header in group:
                    group.remove(id_header)
        elif ID_COLUMN not in converters and serial:
            id_header = serial[0]
            meta.remove(id_header)
        elif ID_COLUMN in converters:
            id_header = converters[ID_COLUMN].sources[0]
        if id_header is not None:  # read as a fill-in: a skip mark is a blank id
            converters[ID_COLUMN] = self._cell_converter(id_header, columns[ID_COLUMN], None)
        self.id_source = id_header
        order = list(columns)
        self._converters = {c: converters[c] for c in order if c in converters}
        self.columns = list(self._converters)
        if not any(c != ID_COLUMN and c in converters for c in order):
            raise FileFormatError(
                f"{reader.path}: no question of this 问卷星 export matches a question of "
                f"{instrument.id}; expected the questions `dmi wjx {instrument.id}` writes "
                f"(unmatched: {', '.join(unmatched[:8])})" + detected_hint(source, "问卷星"),
                path=reader.path,
                problem="no_items",
                instrument=instrument.id,
            )
        # the speed check: 所用时间 against the questions the file answers
        self.time_header = next((h for h in headers if h.strip() == _TIME), None)
        if self.time_header is not None:
            self.passthrough = list(PASSTHROUGH)
            self.columns += self.passthrough
        answered = {number_of.get(c, c) for c in self._converters if c != ID_COLUMN}
        self.n_questions = len(answered)
        self.min_seconds = source.min_seconds_per_question * self.n_questions
        undecided: list[str] = []
        if self.forced:
            self.variant = source.wjx_variant
        else:
            self.variant, undecided = self._variant(reader)
        how = "chosen" if self.forced else "told from its cells"
        self.notes.append(
            f"read as a 问卷星 export ({_VARIANTS[self.variant]}; {how}){layout_note(source)}"
        )
        if undecided:
            self.notes.append(
                "问卷星 export variant not told by the cells (every option is written as a "
                f"number that is also an option's text: {', '.join(undecided[:5])}); read as "
                "按选项序号 (option numbers); if the file is the 按选项文本 export, choose "
                "--wjx-variant texts"
            )
        if numbered:
            self.notes.append(
                "问卷星 questions matched by their number in the dmi survey: " + ", ".join(numbered)
            )
        dropped = [h for h in meta if h != self.time_header]
        if dropped:
            self.notes.append("问卷星 meta columns dropped: " + ", ".join(dropped))
        if others or ignored_options:
            self.notes.append(
                "问卷星 '其他' (other) columns ignored (the instrument has no such answer): "
                + ", ".join(others + ignored_options)
            )
        self.note_map("问卷星", mapped)
        if lacking:
            self.notes.append(lacking_note("问卷星", lacking))
        if unmatched:
            self.notes.append(
                f"问卷星 columns matching no question of {instrument.id} (ignored): "
                + ", ".join(unmatched)
            )
        answers: dict[str, str] = {}
        options: dict[str, str] = {}
        for code, converter in self._converters.items():
            for header in converter.sources if code != ID_COLUMN else ():
                (answers if converter.cells else options)[header] = code
        self.set_uses(
            headers,
            id={id_header: ID_COLUMN} if id_header is not None else {},
            lacking={h: options[h] for h in lacking if h in options},
            answer=answers,
            option=options,
            time=[self.time_header] if self.time_header is not None else [],
            meta=dropped,
            other=others + ignored_options,
            left_out=[h for h, c in mapped.items() if not c],
            unmatched=unmatched,
        )

    # -- building --------------------------------------------------------------------------
    def _multi_of(
        self,
        number: int,
        subs: list[tuple[str, str]],
        columns: dict[str, PlainColumn],
        plan: dict[int, WjxQuestion],
        by_number: bool,
    ) -> PlainColumn | None:
        """The multiple-choice question whose options the ``第N题(X)`` columns are: in a
        dmi-made survey, its question ``N``; else the one that has most of the ``X`` (more
        than half: an option added in 问卷星 is one it lacks, a question that shares an option
        such as 无 is not it), the dmi survey's question ``N`` among several."""
        named = [norm(x) for x, _ in subs if not (_is_other(x) or x.strip() == "其他")]
        hits = {
            c.code: sum(x in c.lookup for x in named) for c in columns.values() if c.kind == "multi"
        }
        most = max(hits.values(), default=0)
        known = plan.get(number)
        ours = known.codes[0] if known is not None and known.kind == "multi" else None
        if by_number and ours is not None:
            return columns[ours]
        if most == 0 or 2 * most <= len(named):
            return None
        best = [code for code, n in hits.items() if n == most]
        if len(best) == 1:
            return columns[best[0]]
        return columns[ours] if ours in best else None

    def _cell_converter(self, header: str, column: PlainColumn, number: int | None) -> _Converter:
        if column.kind == "value":

            def make(cells: list[pd.Series]) -> _Made:
                return self._value_cells(cells[0])

        else:
            label = f"第{number}题" if number is not None else header

            def make(cells: list[pd.Series]) -> _Made:
                return self._choice_cells(cells[0], column, label, header)

        return _Converter([header], make)

    def _flags_converter(self, number: int, options: list[tuple[str | None, str]]) -> _Converter:
        values = [v for v, _ in options]
        headers = [h for _, h in options]
        fields = {"number": number, "instrument": self.instrument.id}
        lacking_reason = reject_reason("lacking_wjx", **fields)
        reason = reject_reason("zero_one", **fields)
        blank_reason = reject_reason("zero_one_blank", **fields)
        skip_reason = reject_reason("zero_one_skip", **fields)

        def make(series: list[pd.Series]) -> _Made:
            cells = [mapped(s) for s in series]
            n = len(cells[0])
            skips = [_isin(column, _SKIP_CODES) for column in cells]
            given = [np.asarray(pd.notna(column), dtype=bool) for column in cells]
            # 问卷星 writes a question skipped as -2 or -3 in every one of its cells, and an
            # answered one as 0 or 1 in every one: a blank beside filled cells is a cell lost
            # (not "not ticked"), a skip mark beside answered ones a contradiction (not the
            # ticks thrown away); all blank is the question unanswered
            filled = np.logical_or.reduce(given)
            answered = np.logical_or.reduce([g & ~k for g, k in zip(given, skips)])
            odd: list[tuple[str, np.ndarray, str]] = []
            for column, header, skip, cell, value in zip(cells, headers, skips, given, values):
                checks = (
                    (cell & ~skip & ~_isin(column, ("0", "1")), reason),
                    (filled & ~cell, blank_reason),
                    (answered & skip, skip_reason),
                    (column == "1" if value is None else np.zeros(n, bool), lacking_reason),
                )
                odd += [(header, rows, why) for rows, why in checks if rows.any()]
            flags = [np.where(skip, None, column) for column, skip in zip(cells, skips)]
            answers, _ = combine_flags(flags, values, n)
            skipped = np.logical_or.reduce(skips) & ~answered & np.logical_and.reduce(given)
            rejected = np.logical_or.reduce([rows for _, rows, _ in odd] or [np.zeros(n, bool)])
            answers[~answered | rejected] = None  # a row with an odd cell is rejected for it
            return answers, {"skipped": int(skipped.sum())}, odd

        return _Converter(headers, make, cells=False)

    # -- cells -------------------------------------------------------------------------------
    def _value_cells(self, cells: pd.Series) -> _Made:
        """A fill-in (or the id): skip marks blank, the rest as written."""
        marks = _SKIP_TEXTS | (_SKIP_CODES if self.variant == "codes" else frozenset())

        def read(cell: str) -> tuple[str | None, str | None]:
            text = cell.strip()
            if text in marks:
                return None, "skipped"
            return (None, "empty") if text in _EMPTY_TEXTS else (cell, None)

        out, tags, _ = mapped_tagged(cells, read)
        return out, tags, []

    def _choice_cells(
        self, cells: pd.Series, column: PlainColumn, label: str, header: str
    ) -> _Made:
        """One choice (or ``┋``-joined choices) per cell, as option numbers or option texts;
        a cell that is none is a bad cell, naming what the question expects."""
        codes = self.variant == "codes"
        skips = _SKIP_TEXTS | (_SKIP_CODES if codes else frozenset())
        choices = [str(c.value) for c in column.choices]
        # the cell that contradicts a chosen variant: an option's text in the number export,
        # an option number (or -2/-3) in the text export
        against = ("text" if codes else "number") if self.forced else None

        def one(token: str) -> tuple[str | None, bool]:
            token = token.strip()
            contradicts = against is not None and _token(token, column) == against
            if codes:
                if token.isdecimal() and 1 <= int(token) <= len(choices):
                    return choices[int(token) - 1], contradicts
                return None, contradicts
            return column.lookup.get(norm(token)), contradicts

        def read(cell: str) -> tuple[str | None, str | None]:
            text = cell.strip()
            if text in skips:
                return None, "skipped"
            if text in _EMPTY_TEXTS:
                return None, "empty"
            parts = _options(text) if column.kind == "multi" else [text]
            others = [p for p in parts if _other_part(p, column)]
            if column.kind == "multi" and others:
                # an "其他" option the question does not have, ticked with a fill-in or not
                # ("其他〖...〗"): ignored, as its 0/1 column is in the number export
                parts = [p for p in parts if p not in others]
                if not parts:
                    return None, "other"
            values = [one(p) for p in parts]
            if any(contradicts for _, contradicts in values):
                return None, "contradiction"
            if all(v is not None for v, _ in values):
                return ";".join(v for v, _ in values if v is not None), "other" if others else None
            return None, "bad"

        out, tags, bad = mapped_tagged(cells, read, mark="bad")
        if tags.get("contradiction"):
            # the read stops at the first such cell
            _, _, contradicting = mapped_tagged(cells, read, mark="contradiction")
            at = int(np.flatnonzero(contradicting)[0])
            raise Contradiction(header, str(mapped(cells)[at]), column, at)
        odd = [(header, bad, self._expected(column, label))] if bad.any() else []
        return out, tags, odd

    def _expected(self, column: PlainColumn, label: str) -> str:
        """Why a cell is no answer of a choice question, and what the question expects."""
        several = "_multi" if column.kind == "multi" else ""
        if self.variant == "codes":
            return reject_reason(
                f"wjx_not_number{several}", question=label, high=len(column.choices)
            )
        texts = [c.zh for c in column.choices]
        shown = ", ".join(texts[:8]) + (" ..." if len(texts) > 8 else "")
        return reject_reason(f"wjx_not_text{several}", question=label, options=shown)

    def _variant(self, reader: TableReader) -> tuple[str, list[str]]:
        """``codes`` or ``texts`` from the choice questions' cells of the first rows, and the
        questions whose cells could not tell (when none could).

        An option's text counts for the text export, an option number that is no option's
        text (or -2/-3) for the number export, and the more decide (then the fewer contradict
        the variant: one error naming the cell). Other text that is no number (``(跳过)``)
        tells the text export only where no option number was seen: in a number export it is
        a bad cell of its row (a 不适用 typed in). A number that is also an option's text
        tells nothing."""
        read = {h for c in self._converters.values() for h in c.sources}
        sample = sample_cells(reader, [h for h in self._choice_columns if h in read])
        undecided: list[str] = []
        texts = numbers = other_texts = 0
        for header, cells in sample.items():
            column = self._choice_columns[header]
            for cell in cells:
                if cell in _EMPTY_TEXTS:
                    continue
                parts = _options(cell) if column.kind == "multi" else [cell]
                for part in (p.strip() for p in parts):
                    kind = _token(part, column)
                    if kind == "text":
                        texts += 1
                    elif kind == "other" and not _is_number(part):
                        other_texts += 1
                    elif kind == "number":
                        numbers += 1
                    elif kind == "both" and header not in undecided:
                        undecided.append(header)
        if texts > numbers or (not numbers and other_texts):
            return "texts", []
        return "codes", [] if numbers else undecided

    # -- converting ----------------------------------------------------------------------------
    def sources(self, column: str) -> list[str]:
        if column in PASSTHROUGH:
            return [self.time_header] if self.time_header is not None else []
        return list(self._converters[column].sources)

    def convert(
        self, frame: pd.DataFrame, rows: np.ndarray, wanted: list[str]
    ) -> tuple[dict[str, Any], list[UnreadableCells]]:
        out: dict[str, Any] = {}
        bad: list[UnreadableCells] = []
        counts: dict[str, Any] = {"skipped": {}, "empty": 0}
        timing: dict[str, np.ndarray] | None = None
        for code in wanted:
            if code in PASSTHROUGH:
                timing = timing or self._timing(frame)
                out[code] = timing[code]
                continue
            converter = self._converters[code]
            try:
                out[code], met, odd = converter.make([frame[h] for h in converter.sources])
            except Contradiction as contradiction:
                raise self._contradiction(contradiction, int(rows[contradiction.at or 0])) from None
            for header, cells, reason in odd:
                bad.append(bad_cells(code, header, mapped(frame[header]), rows, cells, reason))
            if met.get("skipped"):
                counts["skipped"][code] = met["skipped"]
            counts["empty"] += met.get("empty", 0)
            counts["other"] = counts.get("other", 0) + met.get("other", 0)
        if wanted == self.columns:
            timing = timing or self._timing(frame)
            counts["fast"] = rows[timing["fast"]].tolist() if timing else []
            counts["no_time"] = rows[timing["unreadable"]].tolist() if timing else []
            self.tally(rows, counts)
        return out, bad

    def _contradiction(self, bad: Contradiction, row: int) -> FileFormatError:
        """The error of a cell that contradicts the variant chosen."""
        if self.variant == "codes":
            what = "an option's text, not an option number"
            expected = f"option numbers 1-{len(bad.column.choices)}, -2 or -3"
            other = "texts"
        else:
            what = "an option number, not an option's text"
            shown = ", ".join(c.zh for c in bad.column.choices[:6])
            more = " ..." if len(bad.column.choices) > 6 else ""
            expected = f"the options' texts ({shown}{more}) or (跳过)"
            other = "codes"
        return FileFormatError(
            f"{self.path}: row {row}, column {bad.header}: {bad.cell!r} is {what}, but the "
            f"file is read as the 问卷星 {_VARIANTS[self.variant].split(',')[0]} export "
            f"(--wjx-variant {self.variant}); expected {expected}. Choose --wjx-variant "
            f"{other} (or auto) if the file is the {_VARIANTS[other].split(',')[0]} export",
            path=self.path,
            row=row,
            column=bad.header,
            value=bad.cell,
        )

    def _timing(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """The seconds each row took (text), whether it was too fast (``1``/``0``; blank when
        the time is), and which rows were too fast or have a time that is no duration."""
        if self.time_header is None or self.time_header not in frame:
            return {}
        cells = mapped(frame[self.time_header])
        seconds = pd.Series(mapped(frame[self.time_header], parse_duration), dtype=float)
        values = seconds.to_numpy()
        known = ~np.isnan(values)
        fast = known & (values < self.min_seconds)
        return {
            "answer_seconds": mapped(seconds.where(known), lambda v: f"{float(v):g}"),
            "too_fast": np.where(known, np.where(fast, "1", "0"), None).astype(object),
            "fast": fast,
            "unreadable": pd.notna(cells) & ~known,
        }

    def run_notes(self) -> list[str]:
        tallies = self.tallies()
        if not tallies:
            return []
        notes = []
        skipped: dict[str, int] = {}
        for t in tallies:
            for code, n in t["skipped"].items():
                skipped[code] = skipped.get(code, 0) + n
        if skipped:
            # in the instrument's order, whatever order the chunks met them in
            shown = ", ".join(f"{c} {skipped[c]}" for c in self.columns if c in skipped)
            marks = "-2, -3, (跳过)" if self.variant == "codes" else "(跳过)"  # -3: a text's value
            notes.append(
                f"问卷星 skipped or not shown answers ({marks}) read as blank: "
                f"{sum(skipped.values())} ({shown})"
            )
        empty = sum(t["empty"] for t in tallies)
        if empty:
            notes.append(f"问卷星 empty fill-ins ((空)) read as blank: {empty}")
        other = sum(t.get("other", 0) for t in tallies)
        if other:
            notes.append(
                f"问卷星 '其他' (other) options the questions do not have, ignored in {other} "
                "multiple-choice answers"
            )
        fast = [r for t in tallies for r in t["fast"]]
        if fast:
            notes.append(
                f"Rows answered implausibly fast (under {self.min_seconds:g} seconds for "
                f"{self.n_questions} questions; flagged, not rejected): {len(fast)} (row "
                f"numbers: {_rows(fast)})"
            )
        no_time = [r for t in tallies for r in t["no_time"]]
        if no_time:
            notes.append(
                "Rows whose 所用时间 is not a duration (such as 2分3秒 or 123秒), not checked "
                f"for speed: {len(no_time)} (row numbers: {_rows(no_time)})"
            )
        return notes


def _is_row(code: str | None, columns: dict[str, PlainColumn]) -> bool:
    """Whether a ``第N题(X)`` column's ``X`` names a column a matrix row can be (a single
    choice: 问卷星's matrix is of single choices)."""
    return code is not None and columns[code].kind == "single"


def _by_place(found: list[str | None], places: tuple[str, ...]) -> list[str | None]:
    """What a dmi-made survey's ``第N题(X)`` columns are, by their place among question N's.

    ``found[i]`` is what the i-th column's ``X`` names by its text (None: nothing, its text was
    edited in 问卷星), ``places`` what the dmi survey's question has at each place (its matrix
    rows, its options). When every column found by its text stands at its own place, each
    other column is what its place has (if there is that place, and no column took it); a row
    or option added beyond the last place stays None. When one stands elsewhere (a row or
    option inserted before it), places tell nothing and ``found`` is returned as it is.
    """
    if any(f is not None and (i >= len(places) or places[i] != f) for i, f in enumerate(found)):
        return found
    taken = {f for f in found if f is not None}
    return [
        f if f is not None or i >= len(places) or places[i] in taken else places[i]
        for i, f in enumerate(found)
    ]


def _options(cell: str) -> list[str]:
    """The options of a text export's multiple-choice cell: the cell cut at each ``┋`` outside
    an option's 〖…〗 fill-in."""
    parts, start = [], 0
    for found in _JOINS.finditer(cell):
        if found.group() == _MULTI_JOIN:
            parts.append(cell[start : found.start()])
            start = found.end()
    return [*parts, cell[start:]]


def _other_part(text: str, column: PlainColumn) -> bool:
    """A multiple choice's "其他" option (``其他``, ``其他〖自建系统〗``) the question lacks."""
    text = text.strip()
    return text.startswith("其他") and norm(text) not in column.lookup


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _isin(cells: np.ndarray, values: Any) -> np.ndarray:
    """Which cells (an object array of text or None) are one of ``values``."""
    found = np.zeros(len(cells), dtype=bool)
    for value in values:
        found |= cells == value
    return found


def _rows(rows: list[int], limit: int = 20) -> str:
    """The first ``limit`` row numbers, then ``...`` for the others (the note gives how many
    there are: no words of one language in the list the page puts in either)."""
    shown = ", ".join(map(str, rows[:limit]))
    return shown + (" ..." if len(rows) > limit else "")

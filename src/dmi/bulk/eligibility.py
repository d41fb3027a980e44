"""The 梯度培育 ladder for whole files: ``dmi eligibility INPUT -o OUT``.

The same run as ``dmi score`` (:mod:`dmi.bulk.run`): the same readers (encodings, XLSX,
Parquet), row checks (blank, ragged, totals rows, unreadable cells), repeated ids across the
whole file, chunk loop (:func:`dmi.bulk.run.run_chunks`), engine, pending outputs moved into
place together, and reconciliation (``read == evaluated + rejected``, each count from its own
source); only the kernel differs: :class:`EligibilityKernel` evaluates the chunk's facts
(:func:`dmi.eligibility.evaluate_batch`) instead of scoring answers.

When the file also holds the MIIT survey's item columns, each row that answered them is scored
with the official :class:`~dmi.IndexModel` (as ``dmi score`` does) and its level is the
``digital_level_computed`` the 2022 专精特新 数字化水平 indicator reads; a row whose answers are
invalid is rejected with their reasons, and a stated ``digital_level`` that disagrees with the
computed one is flagged (``flags``) and counted (the summary's ``digital_level``).

A 问卷星 or KoboToolbox export (:func:`dmi.io.tools.detect_source`) has its facts matched as in
any file and the survey's questions read by the tool's layout (:func:`dmi.io.tools.tool_layout`,
the code ``dmi score`` reads the export with): its question headers, option numbers or texts,
0/1 option columns, matrix rows and skip marks; a cell the layout cannot read rejects its row as
``dmi score`` rejects it (:func:`_read_export_survey`). A 问卷星 export's rows answered implausibly
fast (its 所用时间, the layout's speed check: ``dmi score``'s ``too_fast``) are flagged
(``flags``, :func:`_flag_too_fast`), not rejected. The survey's profile answers (所在省份,
所属行业, 从业人员数) give the facts ``province``, ``sector`` and ``staff`` the export has no
column of (:func:`_profile_feeds`, the facts table's ``survey_profile``): read by the layout,
checked as ``dmi score`` checks them and written as the facts
(:mod:`dmi.eligibility.profile`), so that a cohort counts each firm where it said it is.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dmi.bulk.kernel import ChunkResult, PreparedChunk, merged_rejects
from dmi.bulk.run import (
    DUPLICATE_POLICIES,
    _count_problems,
    _most_common_first,
    _Outputs,
    _ReadCount,
    check_outputs,
    run_chunks,
)
from dmi.columns import ID_COLUMN
from dmi.eligibility import (
    FACTS,
    RUNGS,
    STATUSES,
    Cohort,
    EligibilityBatch,
    application_year,
    cohort,
    evaluate_batch,
    load_policy,
    output_columns,
)
from dmi.eligibility.cohorts import (
    CANDIDATE_COLUMNS,
    candidates_schema,
    cohort_schema,
    rung_conditions,
)
from dmi.eligibility.facts import BARE_NUMBER, FactsTally, facts_table, headed_reasons
from dmi.eligibility.headers import (
    check_map_codes,
    few_items_note,
    header_spellings,
    map_fact_columns,
)
from dmi.eligibility.ladder import BESIDE_TEXT
from dmi.eligibility.profile import ProfileFacts, ProfileFeed, read_profile_facts
from dmi.eligibility.survey import SURVEY_INSTRUMENT, survey_least_items
from dmi.errors import FileFormatError, ReconciliationError, UsageError
from dmi.io import ColumnMapping, open_table, write_table
from dmi.io.mapping import map_entries, match_unmatched
from dmi.io.readers import HEADER_SEARCH_ROWS, TableReader
from dmi.io.tools import (
    LayoutReader,
    Source,
    SourceLayout,
    chosen_id_header,
    detect_source,
    export_id_header,
    tool_layout,
)
from dmi.io.tools.kobo import meta_headers as kobo_meta_headers
from dmi.io.tools.wjx import WjxLayout, blank_marks, meta_headers
from dmi.locales import text
from dmi.scoring.answers import left_unanswered
from dmi.text import counted

if TYPE_CHECKING:
    from dmi.instruments import Instrument

__all__ = [
    "EligibilityKernel",
    "EligibilitySummary",
    "evaluate_file",
]


def _read_export_survey(
    reader: TableReader,
    instrument: Instrument,
    source: str,
    custom: dict[str, str] | None = None,
    id_header: str | None = None,
) -> tuple[TableReader | LayoutReader, ColumnMapping] | None:
    """A survey tool's export that holds the firms' facts and the survey's answers: its facts
    matched as in any file, the survey's questions read by the tool's layout.

    The facts and the id are matched by :func:`map_fact_columns` (the column chosen,
    ``id_header``, is the id; else the export's own id column when no id is matched: 问卷星's
    序号, KoboToolbox's _uuid or _id); the other headers go to the
    layout of ``source`` (:func:`dmi.io.tools.tool_layout`, as ``dmi score`` reads the export),
    which reads the survey's items from them, as ``dmi score`` does: question headers matched
    by their text (or, in a dmi-made survey, their number), option numbers or texts, a multiple
    choice's 0/1 columns, matrix rows, skip marks. The entries of ``custom`` that send a header
    to a fact (or the id) are the facts', those to an item the layout's; ``""`` leaves a header
    out of both. An entry sending the survey's own profile question to the fact it gives
    (``profile/sector`` -> ``sector``) is the layout's, read as the profile's answers are
    (:func:`_feed_mapped_profile_questions`).

    The survey's profile fields that give a fact (the facts table's ``survey_profile``) whose
    fact no header of the export is are read by the layout too: their plain columns are
    renamed to the facts (``region`` -> ``province``, see :func:`_profile_feeds`), and their
    questions are not unmatched. A KoboToolbox export's own profile question named by a
    fact's code (``profile/sector``, in the form's profile group) is the survey's, not a
    column of that fact.

    Parameters
    ----------
    reader : TableReader
        The export, opened.
    instrument : Instrument
        The MIIT survey (:data:`dmi.eligibility.survey.SURVEY_INSTRUMENT`).
    source : {"wjx", "kobo"}
        The tool (:func:`dmi.io.tools.detect_source`).
    custom : dict, optional
        Header -> fact or item code (``""``: left out).
    id_header : str, optional
        The header (as the reader names it) chosen to hold the respondent ids
        (``--id-column``, :func:`dmi.io.tools.chosen_id_header`), given to the layout as
        ``dmi score`` gives it (:attr:`dmi.io.tools.Source.id_column`).

    Returns
    -------
    (reader, mapping) or None
        A :class:`~dmi.io.tools.LayoutReader` handing on the facts' columns as the file has
        them, the items in the plain layout and, from a 问卷星 export with its 所用时间, the
        speed check's ``answer_seconds`` and ``too_fast`` (the mapping's
        :attr:`~dmi.io.ColumnMapping.passthrough`, for :func:`_flag_too_fast`), and the mapping
        of its columns; or ``reader`` itself and the facts' mapping when the items the layout
        found are too few to be the survey's answers
        (:func:`~dmi.eligibility.survey.survey_least_items`: their headers are
        :attr:`~dmi.io.ColumnMapping.few_items`); None when the export holds none of the
        survey's questions (read as any facts file).

    Raises
    ------
    FileFormatError
        The mapping sends a header to a column that is neither a fact nor an item, or a 0/1
        option column to a question.
    """
    items = {item.code for item in instrument.items}
    check_map_codes(custom, items)
    own = custom or {}
    facts_map = {h: c for h, c in own.items() if not c or c in FACTS}
    items_map = {h: c for h, c in own.items() if not c or c in items}
    # the survey's own profile questions (KoboToolbox's profile/sector, as `dmi xlsform` names
    # them) are the survey's, read by the layout: not a column of the fact of that code
    survey_own = {h: "" for h in _survey_profile_headers(reader.columns, instrument, source)}
    mapping = _export_facts(reader, source, {**survey_own, **facts_map}, custom, id_header)
    try:
        # a map entry sending the survey's own profile question to the fact it gives
        # (profile/sector -> sector) names what the profile's answers give anyway: read by the
        # layout through the question's choices, not as the fact's text (C25, an option number)
        _feed_mapped_profile_questions(reader, instrument, source, mapping, facts_map, items_map)
        kept = tuple(mapping.rename)  # the facts' headers and the id's, as the reader names them
        layout = tool_layout(
            reader,
            instrument,
            Source(source, id_column=mapping.id_header),
            items_map,
            read_elsewhere=kept,
        )
    except FileFormatError as exc:
        if exc.problem == "no_items":  # no question of the survey: a facts file
            return None
        raise
    assert layout is not None  # an export's source is a tool's
    found = [c for c in layout.columns if c in items]
    if not found:
        return None
    _, mapping.unused_map = map_entries(reader.columns, custom)
    if len(found) < survey_least_items(len(items)):
        # too few to be the survey's answers (a helper column named like an item), as in
        # any file: left unmatched, and said so (its profile's questions too: no survey)
        few = list(_survey_headers(reader, layout, found))
        if survey_own:
            mapping = _export_facts(reader, source, facts_map, custom, id_header)
            _, mapping.unused_map = map_entries(reader.columns, custom)
        mapping.few_items = few
        return reader, mapping
    # the facts the export has no column of that the survey's profile answers give
    taken = set(mapping.rename.values())
    fed = {
        e.field: e.fact
        for e in FACTS.survey_profile
        if e.fact not in taken and e.field in layout.columns
    }
    # the item columns a survey question feeds, or that its own column makes needless
    # (KoboToolbox's split 0/1 columns beside it), the profile's questions read as facts,
    # and 问卷星's 所用时间 (the speed check's), are not unmatched
    name = dict(zip(reader.written, reader.columns))
    read_by_layout = {
        name[h]
        for h, use in layout.uses.items()
        if use.column in found or use.column in fed or use.kind == "time"
    }
    mapping.unmatched = [h for h in mapping.unmatched if h not in read_by_layout]
    # the items, the profile's answers that give facts, and the speed check's
    # answer_seconds and too_fast (flags, not facts)
    layout.keep_columns([*found, *fed, *layout.passthrough])
    mapping.passthrough = list(layout.passthrough)
    mapping.rename.update({code: code for code in found})
    mapping.rename.update(fed)  # the field's plain column is read as its fact's
    mapping.missing_items = [item.code for item in instrument.items if item.code not in found]
    mapping.missing_profile = [f for f in mapping.missing_profile if f not in fed.values()]
    return LayoutReader(reader, layout, kept=kept), mapping


def _feed_mapped_profile_questions(
    reader: TableReader,
    instrument: Instrument,
    source: str,
    mapping: ColumnMapping,
    facts_map: dict[str, str],
    items_map: dict[str, str],
) -> None:
    """Hand the layout the survey's profile questions that the map sends to the facts they
    give (``--map profile/sector,sector``; 问卷星's ``1、所属行业…,sector``): their answers are
    read as the profile's are (:func:`_profile_feeds`), through the question's choices (a
    KoboToolbox choice's name or label, a 问卷星 option's number or text), checked as ``dmi
    score`` checks them and written as the fact (``C25 金属制品业``), not read as the fact's
    text as the export writes them (``C25``, ``21``, ``C99``). In place: such headers leave
    ``mapping.rename`` (the fact is then the profile's); the other headers that name the fact
    stay its duplicates, as the map made them.

    A header the map sends to a fact that is no profile question of the survey, or a profile
    question sent to another fact, is the fact's column, as the map says.
    """
    gives = {e.fact: e.field for e in FACTS.survey_profile}
    mapped, _ = map_entries(reader.columns, facts_map)
    asked = {h: c for h, c in mapped.items() if c in gives and mapping.rename.get(h) == c}
    if not asked:
        return
    probe = tool_layout(
        reader,
        instrument,
        Source(source, id_column=mapping.id_header),
        items_map,
        read_elsewhere=[h for h in mapping.rename if h not in asked],
    )
    assert probe is not None  # an export's source is a tool's
    written = dict(zip(reader.columns, reader.written))
    for header, fact in asked.items():
        use = probe.uses.get(written[header])
        if use is not None and use.feeds and use.column == gives[fact]:
            del mapping.rename[header]
            mapping.units.pop(fact, None)


def _export_facts(
    reader: TableReader,
    source: str,
    facts_map: dict[str, str],
    custom: dict[str, str] | None,
    id_header: str | None,
) -> ColumnMapping:
    """A survey tool's export's facts and id matched (:func:`map_fact_columns`, the map's
    entries for facts ``facts_map``), its rows named as the export names them."""
    mapping = map_fact_columns(reader.columns, custom=facts_map)
    _name_rows_as_the_export_does(mapping, source, reader.columns, custom, id_header)
    return mapping


def _survey_profile_headers(headers: list[str], instrument: Instrument, source: str) -> list[str]:
    """The headers of a KoboToolbox export that are the survey's profile questions giving a
    fact, as `dmi xlsform` names them: the field in the form's profile group
    (``profile/sector``, :func:`dmi.instruments.export.xlsform.profile_group`). The field's
    code may be a fact's (``sector``): so named, the question is the survey's all the same,
    its answer read as ``dmi score`` reads it. A fact's own question is named otherwise
    (``facts/sector``, ``所属行业``). An export without the group names (KoboToolbox's option,
    told by the survey's items headed by their bare codes) heads them by the bare field
    (``region``, ``sector``): the survey's too."""
    if source != "kobo":
        return []
    from dmi.instruments.export.xlsform import profile_group

    group = profile_group(instrument)
    fields = [
        e.field for e in FACTS.survey_profile if e.field in {f.code for f in instrument.profile}
    ]
    asked = {f"{group}/{field}" for field in fields}
    written = {str(h).strip() for h in headers}
    if any(item.code in written for item in instrument.items):  # exported without groups
        asked |= set(fields)
    return [h for h in headers if str(h).strip() in asked]


def _profile_feeds(
    reader: TableReader | LayoutReader, mapping: ColumnMapping, instrument: Instrument | None
) -> tuple[ProfileFeed, ...]:
    """The survey's profile fields that give a fact in a run (:func:`_read_export_survey`): a
    field whose plain column the export's layout gives, read as its fact."""
    if instrument is None or not isinstance(reader, LayoutReader):
        return ()
    plain = set(reader.layout.columns)
    return tuple(
        ProfileFeed(instrument, e)
        for e in FACTS.survey_profile
        if e.field in plain and mapping.rename.get(e.field) == e.fact
    )


def _survey_headers(reader: TableReader, layout: SourceLayout, items: list[str]) -> dict[str, str]:
    """The headers of an export (as the reader names them, in its order) whose cells the
    layout reads into one of the survey's ``items``, each with its item."""
    name = dict(zip(reader.written, reader.columns))
    wanted = set(items)
    return {
        name[h]: use.column for h, use in layout.uses.items() if use.feeds and use.column in wanted
    }


def _headers_read(reader: TableReader | LayoutReader, mapping: ColumnMapping) -> dict[str, str]:
    """Each header of the file that a run reads (as the reader names it, in the file's order)
    -> its fact or item: a survey tool's items by the export's headers that feed them."""
    if not isinstance(reader, LayoutReader):
        return dict(mapping.rename)
    plain = set(reader.layout.columns)
    read = {h: c for h, c in mapping.rename.items() if h not in plain}
    # a profile question by the fact it gives (3、所在省份 -> province)
    layout = _survey_headers(reader.reader, reader.layout, reader.layout.columns)
    read |= {h: mapping.rename.get(c, c) for h, c in layout.items()}
    return {h: read[h] for h in reader.reader.columns if h in read}


def unit_notes(mapping: ColumnMapping) -> list[str]:
    """A note for each column converted from the unit its header names (for the summary)."""
    table = facts_table()
    notes = []
    for header, code in mapping.rename.items():
        if code not in mapping.units:
            continue
        fact, unit = table[code], mapping.units[code]
        ratio = table.ratio(fact, unit)
        how = f"÷ {ratio.denominator}" if ratio < 1 else f"× {ratio.numerator}"
        notes.append(f"{header}: in {unit}, read as {code} in {fact.unit} ({how})")
    return notes


def _profile_facts_notes(
    reader: TableReader | LayoutReader, mapping: ColumnMapping, feeds: tuple[ProfileFeed, ...]
) -> list[str]:
    """The summary's note of the facts the survey's profile answers give (the export has no
    column of them): each question, as the file writes it, and its fact."""
    if not feeds or not isinstance(reader, LayoutReader):
        return []
    written = dict(zip(reader.reader.columns, reader.reader.written))
    fields = {feed.entry.field for feed in feeds}
    asked = _survey_headers(reader.reader, reader.layout, list(fields))
    read = ", ".join(f"{written[h]} -> {mapping.rename[f]}" for h, f in asked.items())
    return [
        "facts the file has no column of, read from the survey's profile answers (as dmi "
        f"score reads them): {read}"
    ]


def wjx_blanks(frame: pd.DataFrame, marks: frozenset[str]) -> tuple[pd.DataFrame, Counter, Counter]:
    """A 问卷星 export's fact columns with its ``marks`` of a question skipped or left empty
    (:func:`dmi.io.tools.wjx.blank_marks` of the export's variant) made blank, how many each
    column had, and how many bare whole numbers each number fact with words had in an
    option-number export (``numbered``, see :func:`wjx_numbered_note`).

    In the option-number export (or one whose variant is not known) ``-2`` and ``-3`` (``-3.0``
    as a workbook holds it) are marks in any fact: a net profit of exactly -3万元 cannot be told
    from a skip there, so the summary's note counts the marks per column. In the option-text
    export a skip is ``(跳过)``, and -3 is the value written.
    """
    counts: Counter = Counter()
    numbered: Counter = Counter()
    blanked = {}
    by_number = "-3" in marks  # the option-number export, or not known
    for code in frame.columns:
        if code == ID_COLUMN or code not in FACTS:  # the id's marks: the reader's (blanks)
            continue
        column = frame[code]
        # text as pandas' str (a workbook's -3 is -3.0; blanks stay missing), by Arrow
        text = column.astype("str").str.strip()
        marked = text.isin(marks).to_numpy(dtype=bool)
        if marked.any():
            counts[code] = int(marked.sum())
            blanked[code] = column.mask(marked)
        if by_number and FACTS[code].words:
            # a level asked as a single choice is written as its option's number there
            bare = text.str.fullmatch(BARE_NUMBER).fillna(False).to_numpy(dtype=bool)
            if (bare & ~marked).any():
                numbered[code] = int((bare & ~marked).sum())
    return (frame.assign(**blanked) if blanked else frame), counts, numbered


def wjx_numbered_note(counts: Counter, known: bool = True) -> str:
    """The summary's note of the bare numbers of a fact with words (the digital level: 未达一级
    … 四级) in a 问卷星 export read as option numbers (``known``), or one whose variant is not
    known (no survey question tells it): read as the number written, which is one more than
    the level where the question was a single choice (1 for 未达一级)."""
    listed = ", ".join(
        f"{code} {counts[code]}" for code in [f.code for f in FACTS] if code in counts
    )
    which = "of option numbers" if known else "(option numbers or texts: not known)"
    return (
        f"问卷星 export {which}: bare numbers in a level's column are read as the level "
        f"written ({listed}); where the question was a single choice they are option numbers "
        "(1 for 未达一级, one more than the level): download the 按选项文本 export to be sure"
    )


def wjx_note(counts: Counter, marks: frozenset[str]) -> str:
    """The summary's note of a 问卷星 export's marks read as blank."""
    order = [f.code for f in FACTS if counts.get(f.code)]
    listed = ", ".join(f"{code} {counts[code]}" for code in order) or "none"
    n = sum(counts.values())
    said = "(跳过), (空), -2 and -3" if "-3" in marks else "(跳过) and (空)"
    return (
        f"read as a 问卷星 export: {said} in a fact's column are a question "
        f"skipped or left empty, read as blank: {counted(n, 'cell')} ({listed})"
    )


def _wjx_variant(reader: TableReader | LayoutReader) -> str | None:
    """A 问卷星 export's variant (``codes`` or ``texts``) as its layout found it (or was told),
    when the export holds the survey; else None (not known)."""
    layout = reader.layout if isinstance(reader, LayoutReader) else None
    return layout.variant if isinstance(layout, WjxLayout) else None


@dataclass(frozen=True)
class _SpeedCheck:
    """问卷星's speed check of an export's rows, as its layout made it for the run
    (:class:`dmi.io.tools.wjx.WjxLayout`, the same as for ``dmi score``): a row answered in
    less than ``least_seconds`` for the ``questions`` the file answers is too fast.

    Attributes
    ----------
    least_seconds : float
        The fewest seconds a row may take (2 a question, ``dmi score --min-seconds``'s default).
    questions : int
        The questions the file answers, that ``least_seconds`` is for.
    """

    least_seconds: float
    questions: int


def _flag_too_fast(
    results: pd.DataFrame,
    rows: np.ndarray,
    timing: pd.DataFrame,
    timing_rows: np.ndarray,
    speed: _SpeedCheck,
    lang: str,
) -> pd.DataFrame:
    """The evaluated ``results`` with each row answered implausibly fast flagged, as ``dmi
    score`` marks it (``too_fast`` ``1``).

    The flag (``eligibility.too_fast``: the row's time, the fewest seconds and the questions)
    follows the row's other flags, joined by their separator (``eligibility.separator``, as
    :func:`dmi.eligibility.ladder._flags_column` joins them); a row is never rejected for it.
    Only the rows flagged are worded (few): the column of the others is kept as it is.

    Parameters
    ----------
    results : DataFrame
        The chunk's evaluated rows (:attr:`dmi.eligibility.EligibilityBatch.results`).
    rows : ndarray
        The row number of each row of ``results``.
    timing : DataFrame
        The chunk's ``answer_seconds`` and ``too_fast`` (the 问卷星 layout's columns), one row
        per row number of ``timing_rows`` (increasing; ``rows`` among them).
    timing_rows : ndarray
        The row numbers of ``timing``.
    speed : _SpeedCheck
        The fewest seconds and the questions the flag names.
    lang : {"zh", "en"}
        The language of the flag.
    """
    at = np.searchsorted(timing_rows, rows)
    fast = np.flatnonzero(timing["too_fast"].to_numpy(dtype=object)[at] == "1")
    if not len(fast):
        return results
    seconds = timing["answer_seconds"].to_numpy(dtype=object)[at[fast]]
    least = f"{speed.least_seconds:g}"
    worded = [
        text("eligibility.too_fast", lang, seconds=s, least=least, questions=speed.questions)
        for s in seconds
    ]
    separator = text("eligibility.separator", lang)
    flags = results["flags"].copy()
    before = flags.iloc[fast].tolist()
    flags.iloc[fast] = [f"{b}{separator}{w}" if b else w for b, w in zip(before, worded)]
    return results.assign(flags=flags)


@dataclass
class EligibilityChunk:
    """What the eligibility kernel hands the run beside a chunk's rows (its tallies)."""

    statuses: Counter = field(default_factory=Counter)
    computed: int = 0
    imputed: Counter = field(default_factory=Counter)
    disagrees: int = 0
    cohort: Cohort | None = None
    facts: FactsTally = field(default_factory=FactsTally)
    skipped: Counter = field(default_factory=Counter)  # 问卷星's skip marks, per fact
    numbered: Counter = field(default_factory=Counter)  # a level's bare numbers (wjx_blanks)


@dataclass(frozen=True)
class EligibilityKernel:
    """The chunk kernel of ``dmi eligibility``: a prepared chunk's facts evaluated.

    Pure, as :class:`dmi.bulk.kernel.ScoringKernel` is: the same chunk gives the same rows.

    Parameters
    ----------
    policy : Policy
        The loaded rules.
    year : int or None
        The application year (None: :func:`dmi.eligibility.application_year`'s).
    lang : {"zh", "en"}
        The language of ``gaps`` and ``flags``.
    max_gaps : int or None
        Gaps listed per row.
    survey : bool
        Score the MIIT survey's answers on the rows that hold them (the computed level, see
        :mod:`dmi.eligibility.survey`).
    conditions : dict, optional
        :func:`dmi.eligibility.cohorts.rung_conditions`, when the run counts a cohort.
    units : dict, optional
        Fact -> the unit its column is in (:attr:`ColumnMapping.units`), converted as read.
    wjx : bool
        The file is a 问卷星 export: its marks of a skipped or empty question are blank
        (:func:`wjx_blanks`), and a bare number in a category, yes/no or text fact is an option's
        number, refused (:data:`dmi.eligibility.facts.NUMBERED_OPTION`).
    wjx_marks : frozenset of str
        Those marks (:func:`dmi.io.tools.wjx.blank_marks` of the export's variant).
    speed : _SpeedCheck, optional
        A 问卷星 export's speed check: the rows its ``too_fast`` column marks (a chunk's
        :attr:`~dmi.bulk.kernel.PreparedChunk.passthrough`) are flagged
        (:func:`_flag_too_fast`).
    profile : tuple of ProfileFeed
        The survey's profile fields whose answers give a fact (:func:`_profile_feeds`): read
        as ``dmi score`` reads them and written as the fact
        (:func:`dmi.eligibility.profile.read_profile_facts`); a row with an answer that is
        none of its field's is rejected, with its other problems.
    headers : dict, optional
        Fact -> the file's header it is read from, where that is not its code
        (:func:`fact_headers`): a fact's reasons start with the header, as ``dmi score``'s
        reasons of a survey tool's questions do, so that the rejects name the file's column.
    """

    policy: Any
    year: int | None
    lang: str
    max_gaps: int | None
    survey: bool = True
    conditions: dict | None = None
    units: dict[str, str] | None = None
    wjx: bool = False
    wjx_marks: frozenset[str] = frozenset()
    speed: _SpeedCheck | None = None
    profile: tuple[ProfileFeed, ...] = ()
    headers: dict[str, str] | None = None

    def _batch(
        self, frame: pd.DataFrame, rows: np.ndarray, max_gaps: int | None
    ) -> EligibilityBatch:
        return evaluate_batch(
            frame,
            self.policy,
            year=self.year,
            lang=self.lang,
            max_gaps=max_gaps,
            rows=rows,
            unique_ids=True,  # the run rejects repeated ids across the whole file
            survey=self.survey,
            units=self.units,
            numbered_options=self.wjx,
        )

    def _own_problems(
        self, frame: pd.DataFrame, rows: np.ndarray, extra: EligibilityChunk
    ) -> pd.DataFrame:
        """The problems of rows rejected already (a repeated id, a profile answer none of its
        field's), checked so that the rejects list every problem of a row: never evaluated for
        the output (no gaps). Their percentage columns are tallied in ``extra`` (a column's
        unit is said from every row read)."""
        batch = self._batch(frame, rows, max_gaps=0)
        extra.facts.add(batch.facts_tally.of_columns())
        return batch.rejects

    def _facts_of(
        self, frame: pd.DataFrame, rows: np.ndarray, extra: EligibilityChunk
    ) -> tuple[pd.DataFrame, ProfileFacts | None]:
        """A chunk's rows as their facts are evaluated: the survey's profile answers written as
        the facts they give (before 问卷星's marks are blanked: an answer is read as dmi score
        reads it), then 问卷星's marks of a skipped or empty question blank (counted in
        ``extra``). Returns the frame and the profile's reading (None without one)."""
        profile = read_profile_facts(frame, rows, self.profile) if self.profile else None
        if profile is not None:
            frame = profile.frame
        if self.wjx:
            frame, skipped, numbered = wjx_blanks(frame, self.wjx_marks)
            extra.skipped.update(skipped)
            extra.numbered.update(numbered)
        return frame, profile

    def __call__(self, prepared: PreparedChunk) -> ChunkResult:
        extra = EligibilityChunk()
        frame = prepared.frame
        # the layout's columns beside the facts (问卷星's answer_seconds, too_fast): flags
        beside = list(prepared.passthrough)
        timing = frame[beside] if beside else None
        frame = frame.drop(columns=beside) if beside else frame
        rows = prepared.rows
        found = []
        frame, profile = self._facts_of(frame, rows, extra)
        if profile is not None and profile.rejected.any():
            # a row whose answer is none of its field's is rejected, with its other problems
            bad = profile.rejected
            found += [
                profile.rejects,
                self._own_problems(frame[bad].reset_index(drop=True), rows[bad], extra),
            ]
            frame, rows = frame[~bad].reset_index(drop=True), rows[~bad]
        batch = self._batch(frame, rows, self.max_gaps)
        if timing is not None and self.speed is not None:
            batch.results = _flag_too_fast(
                batch.results, batch.rows, timing, prepared.rows, self.speed, self.lang
            )
        found.append(batch.rejects)
        if prepared.checked is not None:  # the own problems of rows rejected already
            checked, checked_rows = prepared.checked.frame, prepared.checked.rows
            checked = checked.drop(columns=beside) if beside else checked
            checked, checked_profile = self._facts_of(checked, checked_rows, extra)
            if checked_profile is not None:
                found.append(checked_profile.rejects)
            problems = self._own_problems(checked, checked_rows, extra)
            if prepared.checked.blanked:  # the survey's dimensions: where a blank item counts
                from dmi.instruments import load_instrument

                survey = load_instrument(SURVEY_INSTRUMENT)
                problems = prepared.checked.own_problems(problems, left_unanswered(survey))
            found.append(problems)
        extra.computed = batch.digital_computed
        extra.imputed.update(batch.survey_imputed)
        extra.facts.add(batch.facts_tally)
        results = batch.results
        for rung in RUNGS:
            # by the rules each firm was judged under (a 2026 小巨人 复核 is judged under 2022)
            extra.statuses.update(_pairs_counted(results, rung))
        assert batch.digital_disagrees is not None
        extra.disagrees = int(batch.digital_disagrees.sum())
        if self.conditions is not None:
            extra.cohort = cohort(batch, conditions=self.conditions, lang=self.lang)
        rejects = merged_rejects(prepared.rejects, *found)
        if self.headers:
            rejects = headed_reasons(rejects, self.headers)
        return ChunkResult(results, rejects, prepared.n_read, extra=extra)


def fact_headers(mapping: ColumnMapping, written: Mapping[str, str]) -> dict[str, str]:
    """Each fact a file's header other than its code is read as -> that header as the file
    writes it (``written``: the header as read -> as written; ``资产负债率（%）``, not its
    folded ``资产负债率(%)``), on one line (a header broken over lines in its cell is joined
    by a space). Not the id: its reasons name it already."""
    return {
        code: " ".join(written.get(header, header).split())
        for header, code in mapping.rename.items()
        if code in FACTS and code != ID_COLUMN and header != code
    }


def _pairs_counted(results: pd.DataFrame, rung: str) -> Counter:
    """The rows of each (rung, policy, status) of a rung's two categorical columns.

    Counted by their codes in one ``bincount`` (a pandas ``groupby`` of two categoricals cost
    more than the counting, on every chunk)."""
    policy, status = results[f"{rung}_policy"].cat, results[f"{rung}_status"].cat
    width = len(status.categories)
    p_codes, s_codes = policy.codes.to_numpy(), status.codes.to_numpy()
    known = (p_codes >= 0) & (s_codes >= 0)  # a blank is not counted, as groupby left it out
    codes = p_codes[known].astype(np.int64) * width + s_codes[known]
    counts = np.bincount(codes, minlength=len(policy.categories) * width)
    return Counter(
        {
            (rung, str(policy.categories[k // width]), str(status.categories[k % width])): int(
                counts[k]
            )
            for k in np.flatnonzero(counts)
        }
    )


@dataclass
class EligibilitySummary:
    """What happened to every row of a facts file (``read == evaluated + rejected``).

    As :class:`dmi.bulk.run.RunSummary`: ``read`` from the reader, ``evaluated`` and
    ``rejected`` (distinct row numbers) from the writers. ``statuses`` counts the evaluated
    firms per rung and status, ``statuses_by_policy`` per rung, rule version applied and
    status (``{rung: {policy: {status: n}}}``); ``digital_level`` how many of the evaluated
    rows had their level computed from survey answers and how many of them disagree with a
    stated ``digital_level``; ``survey_imputed``, per survey item, the answers missing on those
    rows that were scored as the lowest option (as ``dmi score``'s ``imputed``). A rejected row
    counts in none of them, whatever rejected it (a fact, a survey or profile answer, its id);
    ``policy_file`` the rule file read (None for a shipped version) and ``policy_hash`` its
    content's hash.
    """

    input: str
    output: str
    policy: str
    year: int
    lang: str
    read: int = 0
    evaluated: int = 0
    rejected: int = 0
    problems: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rejected_rows_by_reason: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    statuses_by_policy: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    digital_level: dict[str, int] = field(default_factory=lambda: {"computed": 0, "disagrees": 0})
    survey_items: int = 0
    survey_imputed: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    lines: int | None = None
    notes: list[str] = field(default_factory=list)
    sheet: str | None = None
    duplicates: str = "reject"
    unmatched_columns: list[str] = field(default_factory=list)
    mapping: dict[str, Any] = field(default_factory=dict)
    # the rules read: None for a shipped version, else the file (a copy keeps the id it says);
    # the hash names the exact content either way
    policy_file: str | None = None
    policy_hash: str = ""
    # the sheet row of the header (an XLSX's title rows above it; else 1)
    header_row: int = 1
    # the options that change the outputs, besides the policy, year, language and duplicates:
    # the gaps listed per firm (None: all), whether the survey's answers were scored (False:
    # --no-survey) and the id column chosen (--id-column; None: the file's own)
    max_gaps: int | None = 3
    survey: bool = True
    id_column: str | None = None

    @property
    def scored(self) -> int:
        """``evaluated`` (the name :class:`~dmi.errors.ReconciliationError` reads)."""
        return self.evaluated

    @property
    def reconciles(self) -> bool:
        return self.read == self.evaluated + self.rejected

    def to_json(self) -> str:
        return json.dumps(
            asdict(self) | {"reconciles": self.reconciles}, ensure_ascii=False, indent=1
        )

    def line(self) -> str:
        """The one-line reconciliation printed at the end of a run."""
        source = f" from sheet {self.sheet!r}" if self.sheet is not None else ""
        text = (
            f"read {counted(self.read, 'row')}{source}: {self.evaluated} evaluated, "
            f"{self.rejected} rejected ({counted(self.problems, 'problem')})"
        )
        if self.digital_level.get("computed"):
            disagree = self.digital_level.get("disagrees", 0)
            text += (
                f"; {counted(self.digital_level['computed'], 'digital level')} computed from the "
                f"survey, {disagree} {'disagrees' if disagree == 1 else 'disagree'} with the "
                "level given"
            )
        imputed = sum(self.survey_imputed.values())
        if imputed:
            text += (
                f"; {counted(imputed, 'missing survey answer')} scored as lowest (instrument "
                "policy)"
            )
        return text


@dataclass
class _Tally:
    problems: int = 0
    reasons: Counter = field(default_factory=Counter)
    row_reasons: Counter = field(default_factory=Counter)
    extra: EligibilityChunk = field(default_factory=EligibilityChunk)

    @classmethod
    def of(cls, result: ChunkResult) -> _Tally:
        tally = cls(extra=result.extra)
        _count_problems(result.rejects, tally)
        return tally


def _schema(columns: list[str]) -> Any:
    import pyarrow as pa

    return pa.schema(
        [pa.field(c, pa.float64() if c.endswith("_points") else pa.string()) for c in columns]
    )


def evaluate_file(
    input_path: str | Path,
    output_path: str | Path,
    *,
    policy: Any = None,
    year: int | None = None,
    lang: str = "zh",
    max_gaps: int | None = 3,
    rejects_path: str | Path | None = None,
    summary_path: str | Path | None = None,
    cohort_path: str | Path | None = None,
    candidates_path: str | Path | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    column_map: dict[str, str] | None = None,
    id_column: str | None = None,
    chunk_rows: int = 50_000,
    duplicates: str = "reject",
    threads: int | None = None,
    header_row: int = 1,
    survey: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[EligibilitySummary, ColumnMapping]:
    """Evaluate the ladder for every row of a facts file; write every output or none.

    Parameters
    ----------
    input_path, output_path : str or Path
        CSV/XLSX/Parquet in, CSV/XLSX/Parquet out (by extension). The output has the columns
        of :func:`dmi.eligibility.output_columns`.
    policy : {"2026", "2022"}, path, Policy or None, default=None
        The rules (a shipped version or a rule file; None: the version in force today, see
        :func:`dmi.eligibility.policy_in_force`).
    year : int, optional
        The application year (routing, award windows); default the policy's first year
        (:func:`dmi.eligibility.application_year`).
    lang : {"zh", "en"}, default="zh"
        The language of ``gaps`` and ``flags``.
    max_gaps : int or None, default=3
        Gaps listed per row (then "N more").
    rejects_path, summary_path : str or Path, optional
        The rejected rows' problems (``row, respondent_id, column, value, reason``); the
        :class:`EligibilitySummary` as JSON.
    cohort_path, candidates_path : str or Path, optional
        :meth:`dmi.eligibility.Cohort.table` of the evaluated firms (firms per rung × status
        by province, city and sector; one condition away; the conditions most often missing)
        and its candidates (eligible, manual review left, or one condition away).
    encoding, sheet, column_map
        For the reader and the header mapping (``column_map``: header -> fact or item code;
        in a survey tool's export, an item's entry names the export's own header, as for
        ``dmi score --map``).
    id_column : str, optional
        A 问卷星 or KoboToolbox export's column that holds the respondent ids (a header of the
        file, as ``dmi score --id-column`` names it): its rows are named by it instead of by an
        id question, 序号, _uuid or _id (or by their row numbers, an export without any).
    chunk_rows : int, default=50_000
        Rows per chunk: memory stays flat whatever the file size; the outputs are the same
        bytes whatever the chunk size. (Half of ``dmi score``'s: a row of results is about
        60 columns and a text of gaps, and two chunks are evaluated at once.)
    duplicates : {"reject", "keep-first", "keep-last"}, default="reject"
        Repeated respondent ids, as for ``dmi score``.
    threads : int, optional
        Chunks evaluated at once (default 2, or 1 on one core).
    header_row : int, default=1
        For XLSX: the sheet row of the header, below title rows (:func:`fact_header_row`);
        rows keep their sheet numbers.
    survey : bool, default=True
        Score the MIIT survey's item columns when the file has them (the computed level); a
        问卷星 or KoboToolbox export's questions are read as ``dmi score`` reads them
        (:func:`_read_export_survey`), and its profile's answers give the province, sector and
        staff it has no column of (:func:`_profile_feeds`).
    progress : callable, optional
        Called with the number of rows done after each chunk.

    Returns
    -------
    summary : EligibilitySummary
    mapping : ColumnMapping
        How the file's headers were matched.

    Raises
    ------
    UsageError
        An unknown ``duplicates`` policy or language, two outputs that are one file, or an
        ``id_column`` the file cannot give (a plain file, a column it does not have, or
        another column the map sends to ``respondent_id``).
    PolicyError
        A rule file that cannot be loaded.
    FileFormatError
        The file cannot be read, or no column is a fact; or an output is a folder or a table of
        an unknown type (:func:`dmi.bulk.run.check_outputs`, before the input is read).
    ReconciliationError
        The counts do not add up: a bug in dmi (nothing is moved into place).
    """
    from dmi.bulk.engines.local import LocalEngine

    if duplicates not in DUPLICATE_POLICIES:
        raise UsageError(
            f"unknown duplicates policy {duplicates!r}; expected one of "
            f"{', '.join(DUPLICATE_POLICIES)}"
        )
    if lang not in ("zh", "en"):
        raise UsageError(f"unknown language {lang!r}; expected zh or en")
    check_outputs(
        output_path,
        rejects_path,
        cohort_path,
        summary_path,
        candidates_path,
        input_path=input_path,
    )
    loaded = load_policy(policy)
    the_year = application_year(loaded, year)
    table = open_table(
        input_path, encoding=encoding, sheet=sheet, chunk_rows=chunk_rows, header_row=header_row
    )
    instrument = None
    if survey:
        from dmi.instruments import load_instrument

        instrument = load_instrument(SURVEY_INSTRUMENT)
    source = detect_source(table.columns)
    # the export's id column chosen, found and refused as dmi score's layout finds it
    chosen = chosen_id_header(table, Source(source, id_column=id_column), column_map)
    id_header = None if chosen is None else dict(zip(table.written, table.columns))[chosen]
    export = None
    if instrument is not None and source != "plain":
        # the survey's questions as the tool writes them, read by its layout (dmi score's)
        export = _read_export_survey(table, instrument, source, column_map, id_header)
    reader: TableReader | LayoutReader
    if export is not None:
        reader, mapping = export
    else:
        reader = table
        mapping = map_fact_columns(table.columns, instrument=instrument, custom=column_map)
        _name_rows_as_the_export_does(mapping, source, table.columns, column_map, id_header)
    id_notes = []
    if id_header is not None:
        # a fact's column chosen as the ids is read as the ids alone: said, as dmi score says
        # an item's column so chosen is missing
        facts_map = {h: c for h, c in (column_map or {}).items() if not c or c in FACTS}
        was = map_fact_columns([id_header], custom=facts_map).rename.get(id_header)
        if was is not None and was != ID_COLUMN:
            id_notes.append(f"{chosen}: the id column chosen (--id-column), so not read as {was}")
    feeds = _profile_feeds(reader, mapping, instrument)
    # the survey's profile answers alone make no file of facts
    fed = {feed.fact for feed in feeds}
    facts = {c for c in mapping.rename.values() if c in FACTS and c not in fed and c != ID_COLUMN}
    if not facts:
        raise FileFormatError(
            f"{reader.where}: no column is a fact of the 梯度培育 ladder; expected headers such as "
            "the ones `dmi eligibility template` writes (revenue_y1, rd_y1, debt_ratio ...)"
            + _lower_header_hint(input_path, sheet, header_row)
            + reader.sheet_hint
            + reader.encoding_hint(
                lambda headers: _facts_matched(headers, column_map)[0], "a fact"
            ),
            path=input_path,
            problem="no_facts_other_sheets" if reader.other_sheets else "no_facts",
            sheet=reader.sheet,
            others=", ".join(reader.other_sheets),
        )
    items = tuple(c for c in mapping.rename.values() if c not in FACTS and c != ID_COLUMN)
    columns = output_columns(loaded, year=the_year)
    summary = EligibilitySummary(
        input=str(input_path),
        output=str(output_path),
        policy=loaded.id,
        year=the_year,
        policy_file=None if _shipped(loaded) else loaded.source,
        policy_hash=loaded.hash,
        header_row=header_row,
        lang=lang,
        max_gaps=max_gaps,
        survey=survey,
        id_column=id_column,
        survey_items=len(items),
        encoding=reader.encoding,
        delimiter=reader.delimiter,
        sheet=reader.sheet,
        duplicates=duplicates,
        unmatched_columns=mapping.unmatched,
        mapping={
            "matched": _headers_read(reader, mapping),
            "unmatched": list(mapping.unmatched),
            "duplicates": dict(mapping.duplicates),
            "unused_map": list(mapping.unused_map),
            "units": dict(mapping.units),
            # of those unmatched, a survey tool's own columns (问卷星's 序号, 所用时间 ...,
            # KoboToolbox's _uuid, start ...): never facts
            "export_meta": (
                meta_headers(list(mapping.unmatched))
                if source == "wjx"
                else kobo_meta_headers(list(mapping.unmatched))
                if source == "kobo"
                else []
            ),
        },
    )
    counting = cohort_path is not None or candidates_path is not None
    wjx = source == "wjx"
    variant = _wjx_variant(reader) if wjx else None
    marks = blank_marks(variant) if wjx else frozenset()
    if wjx and mapping.id_header is not None:
        # a skipped id question is a row without an id (as dmi score's layout reads it), for
        # the duplicate pass and the row checks alike: never a firm named (跳过)
        table.blanks[mapping.id_header] = marks
    kernel = EligibilityKernel(
        loaded,
        the_year,
        lang,
        max_gaps,
        bool(items),
        rung_conditions(loaded, year=the_year) if counting else None,
        mapping.units,
        wjx=wjx,
        wjx_marks=marks,
        speed=_speed_check(reader),
        profile=feeds,
        headers=fact_headers(mapping, dict(zip(table.columns, table.written))),
    )
    outputs = _Outputs(
        output_path,
        rejects_path,
        cohort_path,
        summary_path,
        columns,
        _schema(columns),
        candidates_path=candidates_path,
    )
    try:
        read = _ReadCount(reader.chunks())
        tallies = run_chunks(
            reader,
            mapping,
            outputs,
            read,
            duplicates=duplicates,
            progress=progress,
            make_engine=lambda stop: LocalEngine(threads=threads, stop=stop, kernel=kernel),
            collect=_Tally.of,
        )
        _fill(summary, tallies, tuple(i.code for i in instrument.items) if instrument else ())
        summary.encoding, summary.lines = reader.encoding, reader.lines
        facts_tally = FactsTally()
        for tally in tallies:
            facts_tally.add(tally.extra.facts)
        summary.notes = [
            *reader.notes,
            *mapping.notes,
            *id_notes,
            *unit_notes(mapping),
            *_profile_facts_notes(reader, mapping, feeds),
            *([few_items_note(mapping, len(instrument.items))] if mapping.few_items else []),
            *facts_tally.notes(export=source != "plain"),
        ]
        if counting:
            summary.notes += _ungrouped_note(mapping, feeds)
        if wjx:
            skipped: Counter = Counter()
            numbered: Counter = Counter()
            for tally in tallies:
                skipped.update(tally.extra.skipped)
                numbered.update(tally.extra.numbered)
            summary.notes.append(wjx_note(skipped, marks))
            if numbered:
                summary.notes.append(wjx_numbered_note(numbered, known=variant == "codes"))
        summary.read = read.rows
        summary.evaluated = outputs.scores.rows
        summary.rejected = outputs.rejects.distinct
        if not summary.reconciles:
            raise ReconciliationError(summary)
        if counting:
            found = Cohort.combine(t.extra.cohort for t in tallies if t.extra.cohort is not None)
            if outputs.cohort is not None:
                write_table(found.table(), outputs.cohort, schema=cohort_schema())
            if outputs.candidates is not None:
                candidates = found.candidates[CANDIDATE_COLUMNS]
                write_table(candidates, outputs.candidates, schema=candidates_schema())
        if outputs.summary is not None:
            outputs.summary.path.write_text(summary.to_json(), encoding="utf-8")
        outputs.commit()
    except BaseException as exc:
        outputs.discard()
        exc.add_note(outputs.note())
        raise
    return summary, mapping


def _ungrouped_note(mapping: ColumnMapping, feeds: tuple[ProfileFeed, ...]) -> list[str]:
    """A cohort asked for without a province, city or sector column: said, with the headers
    read as each (its tables have no groups by it, which nothing else would show)."""
    read = set(mapping.rename.values()) | {feed.entry.fact for feed in feeds}
    absent = [by for by in BESIDE_TEXT if by not in read]
    if not absent:
        return []
    table = facts_table()
    headers = "; ".join(f"{by}: {', '.join(header_spellings(table[by]))}" for by in absent)
    return [
        f"the cohort has no groups by {' or '.join(absent)}: no column is read as "
        f"{'it' if len(absent) == 1 else 'them'} (headers read so: {headers}; --map names "
        "another)"
    ]


def _speed_check(reader: TableReader | LayoutReader) -> _SpeedCheck | None:
    """The speed check of a 问卷星 export read with its 所用时间 (the layout's ``too_fast``
    column handed on), else None."""
    layout = reader.layout if isinstance(reader, LayoutReader) else None
    if not isinstance(layout, WjxLayout) or "too_fast" not in layout.passthrough:
        return None
    return _SpeedCheck(layout.min_seconds, layout.n_questions)


def _name_rows_as_the_export_does(
    mapping: ColumnMapping,
    source: str,
    headers: list[str],
    custom: dict[str, str] | None,
    chosen: str | None = None,
) -> None:
    """A survey tool's export has its rows named as ``dmi score`` names them: by the column
    ``chosen`` (``--id-column``, a header of ``headers``) when there is one, whatever else
    matched the id; else, without an id column matched (no id question, none mapped), by the
    export's own id column (问卷星's 序号, KoboToolbox's _uuid:
    :func:`dmi.io.tools.export_id_header`), not by row number, unless the map leaves that
    column out (``""``), as for any match (:func:`match_unmatched`)."""
    if chosen is not None:
        _take_as_id(mapping, headers, chosen)
        return
    if mapping.id_header is not None:
        return
    header = export_id_header(source, headers)
    if header is not None:
        match_unmatched(mapping, headers, lambda h: ID_COLUMN if h == header else None, custom)


def _take_as_id(mapping: ColumnMapping, headers: list[str], chosen: str) -> None:
    """Make the header ``chosen`` the mapping's id, as a survey tool's layout takes the id
    column chosen: not also a fact, and a header matched as the id otherwise (an id question
    such as 企业编号) is left unmatched. In place, in the file's order."""
    replaced = mapping.id_header
    if replaced == chosen:
        return
    rename = {h: c for h, c in mapping.rename.items() if h != chosen and c != ID_COLUMN}
    rename[chosen] = ID_COLUMN
    mapping.rename = {h: rename[h] for h in headers if h in rename}
    read = set(mapping.rename.values())  # a fact's unit goes with its column
    mapping.units = {code: unit for code, unit in mapping.units.items() if code in read}
    mapping.duplicates.pop(chosen, None)
    unmatched = (set(mapping.unmatched) - {chosen}) | ({replaced} if replaced else set())
    mapping.unmatched = [h for h in headers if h in unmatched]


def _facts_matched(headers: list[str], column_map: dict[str, str] | None = None) -> tuple[int, int]:
    """How many facts a row of headers names (with ``column_map``, as a run reads them), and
    how many columns in all (for :func:`fact_header_row`)."""
    mapping = map_fact_columns(headers, custom=column_map)
    named = set(mapping.rename.values())
    return len(named - {ID_COLUMN}), len(named)


def fact_header_row(
    path: str | Path,
    *,
    sheet: str | None = None,
    rows: int = HEADER_SEARCH_ROWS,
    column_map: dict[str, str] | None = None,
) -> int:
    """The row of an XLSX sheet of firms that names their facts: 1 unless title rows stand
    above the header (:func:`dmi.io.readers.best_header_row`). Other files: 1. A header
    ``column_map`` sends to a fact names it, as the run will read it.

    Raises
    ------
    FileFormatError
        ``problem="no_fact_header_row"``: none of the sheet's first ``rows`` rows names a fact.
    """
    from dmi.io.readers import best_header_row

    def matched(headers: list[str]) -> tuple[int, int]:
        # a header the map sends to a fact names it (only those of this row)
        own = {h: c for h, c in (column_map or {}).items() if h in headers}
        return _facts_matched(headers, own or None)

    found, sheet_name = best_header_row(path, matched, sheet=sheet, rows=rows)
    if found is None:
        opened = open_table(path, sheet=sheet)  # its other sheets: where the facts may be
        raise FileFormatError(
            f"{path}: none of the first {rows} rows of sheet {sheet_name!r} names a fact of the "
            "梯度培育 ladder; expected a header row with the facts' codes or names (as `dmi "
            "eligibility template` writes them)" + opened.sheet_hint,
            path=Path(path),
            problem=(
                "no_fact_header_row_other_sheets" if opened.other_sheets else "no_fact_header_row"
            ),
            rows=rows,
            sheet=sheet_name,
            others=", ".join(opened.other_sheets),
        )
    return found


def _lower_header_hint(path: str | Path, sheet: str | None, header_row: int) -> str:
    """For a workbook read from row 1 that names no fact there: the row below that does."""
    if header_row != 1:
        return ""
    try:
        found = fact_header_row(path, sheet=sheet)
    except FileFormatError:
        return ""
    if found == 1:
        return ""
    return (
        f"; row {found} of the sheet names facts: the header is read from row 1 here (delete "
        f"the {found - 1} title row{'s' if found > 2 else ''} above it, or upload the workbook "
        "on the app's bulk page, which finds it)"
    )


def _shipped(policy: Any) -> bool:
    """Whether loaded rules are a shipped version's file (however they were asked for)."""
    from dmi.eligibility._data import DATA

    return str(policy.source) == str(DATA.joinpath(f"policy-{policy.id}.yaml"))


def _fill(summary: EligibilitySummary, tallies: list[_Tally], items: tuple[str, ...]) -> None:
    """The summary's problem and status counts, in an order that does not depend on chunks
    (the answers scored as lowest in the order of the survey's ``items``)."""
    reasons: Counter = Counter()
    row_reasons: Counter = Counter()
    statuses: Counter = Counter()
    imputed: Counter = Counter()
    for tally in tallies:
        summary.problems += tally.problems
        reasons.update(tally.reasons)
        row_reasons.update(tally.row_reasons)
        statuses.update(tally.extra.statuses)
        summary.digital_level["computed"] += tally.extra.computed
        summary.digital_level["disagrees"] += tally.extra.disagrees
        imputed.update(tally.extra.imputed)
    summary.rejected_by_reason = _most_common_first(reasons)
    summary.rejected_rows_by_reason = _most_common_first(row_reasons)
    # every item with an answer missing, however few they are (survey_items() would take
    # fewer than half the survey's items for no survey at all, and drop their counts)
    summary.survey_imputed = {c: imputed[c] for c in items if imputed[c]}
    policies = sorted({policy for _, policy, _ in statuses})
    # every status, a count of 0 too (a table made of them needs no filling in); per rule
    # version, those a rung's firms were judged under
    summary.statuses_by_policy = {
        rung: {
            policy: {s: statuses[(rung, policy, s)] for s in STATUSES}
            for policy in policies
            if any(statuses[(rung, policy, s)] for s in STATUSES)
        }
        for rung in RUNGS
    }
    summary.statuses = {
        rung: {s: sum(statuses[(rung, policy, s)] for policy in policies) for s in STATUSES}
        for rung in RUNGS
    }

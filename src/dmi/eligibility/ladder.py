"""``evaluate``: where a firm (a dict) or a million firms (a frame) stand on the ladder.

One code path serves both: a dict is a one-row frame, checked by the same
:func:`~dmi.eligibility.facts.parse_facts`, evaluated by the same vectorised
:func:`~dmi.eligibility.engine.evaluate_columns`, and its row of the output is the same row a
frame would give; the typed :class:`FirmResult` adds the detail behind it (each condition's
values, source and confidence, the points per indicator and group, every gap).

Every row is evaluated on its own, so a file read in chunks gives the same rows as the whole
file, and the output columns depend only on the policy and the year, never on the data.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, overload

import numpy as np
import pandas as pd

from dmi.eligibility._data import check_lang
from dmi.eligibility.engine import (
    MANUAL,
    MET,
    NA,
    NOT_MET,
    STATES,
    STATUSES,
    UNKNOWN,
    Evaluation,
    Plan,
    RungEval,
    applies_for,
    evaluate_columns,
    facts_read,
    holds,
    plan,
    version_of,
)
from dmi.eligibility.facts import (
    COMPUTED,
    ID,
    FactColumns,
    FactsError,
    FactsTally,
    award_after_year,
    duplicate_ids,
    facts_table,
    headed_reasons,
    id_texts,
    parse_facts,
)
from dmi.eligibility.gaps import Gap, Piece, _spread, _worded, joined_rows, rung_gaps, t
from dmi.eligibility.policy import (
    RUNGS,
    Compare,
    Is,
    Manual,
    Member,
    Policy,
    ScorecardPass,
    application_year,
    indicator_range,
    iter_leaves,
    least_sure,
    load_policy,
)
from dmi.eligibility.survey import SURVEY_INSTRUMENT, computed_levels, survey_items
from dmi.errors import FactsNoteWarning, IgnoredColumnsWarning, ParameterError

__all__ = [
    "ConditionResult",
    "EligibilityBatch",
    "FirmResult",
    "GroupResult",
    "IndicatorResult",
    "RungResult",
    "ScorecardResult",
    "evaluate",
    "evaluate_batch",
    "evaluate_firms",
    "output_columns",
    "state_label",
    "status_label",
]


# -- typed results of one firm -----------------------------------------------------------------


@dataclass(frozen=True)
class ConditionResult:
    """One condition (or route) of a rung for one firm.

    ``state`` is ``met``, ``not_met``, ``unknown`` or ``manual`` (``""`` when skipped, e.g.
    growth for a 复核). ``values`` are the facts and derived values behind it (None: a fact it
    needs is not given; NaN: a derived value that cannot be computed, a share of revenue 0);
    ``via`` names the route and option that replaced it; ``evidence`` what to prepare for a
    manual review. ``own_state`` is the condition's state on its own, before the routes that
    replace it (a condition not met on its own is ``unknown`` while a route that would replace
    it waits on a fact); ``""`` for a route. ``waits_on``, for such a condition, the facts
    those routes wait on (of their options still open).
    """

    id: str
    kind: str  # condition | direct | exemption
    state: str
    label: str
    source: str
    confidence: str
    policy: str
    values: dict[str, Any]
    via: str | None = None
    evidence: tuple[str, ...] = ()
    own_state: str = ""
    waits_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicatorResult:
    """Points of one scorecard indicator (``points`` None while a fact it needs is missing, or
    while a claim it scores waits on a review)."""

    id: str
    label: str
    group: str
    points: float | None
    points_at_least: float
    max_points: float


@dataclass(frozen=True)
class GroupResult:
    """Points of one scorecard group, with its floor."""

    id: str
    label: str
    points: float | None
    points_at_least: float
    max_points: float
    floor: float | None
    floor_strict: bool


@dataclass(frozen=True)
class ScorecardResult:
    """A scorecard for one firm: its points (``points``, None while a fact it needs is missing;
    ``points_at_least`` and ``points_at_most`` bound them), groups, indicators, pass mark and
    state."""

    id: str
    label: str
    source: str
    confidence: str
    state: str
    points: float | None
    points_at_least: float
    points_at_most: float
    pass_mark: float
    groups: tuple[GroupResult, ...]
    indicators: tuple[IndicatorResult, ...]


@dataclass(frozen=True)
class RungResult:
    """One rung for one firm."""

    rung: str
    label: str
    status: str  # eligible | not_yet | unknown | manual
    policy: str
    applicant: str  # new | recheck
    source: str
    confidence: str
    points: float | None
    scorecard: ScorecardResult | None
    conditions: tuple[ConditionResult, ...]
    routes: tuple[ConditionResult, ...]
    route_used: str | None
    path: str | None
    gaps: tuple[Gap, ...]
    # the routing entry that sent the firm to these rules (a 2026 小巨人 复核 to 2022's): its
    # source and mark; None when the file's own rung applies with no entry
    routing_source: str | None = None
    routing_confidence: str | None = None
    # the rule file whose rung was applied, where ``policy`` names another version (2026's
    # tier 1 keeps the 2022 standards: policy 2022, its paths and routes the 2026 file's)
    defined_in: str | None = None
    # the firm holds the title (holds_<rung> = yes), or one above it, or stands for 复核 of one
    # above (a 小巨人 is 专精特新 and 创新型): it does not apply for this rung, whose status and
    # gaps are then for reference (dmi.eligibility.engine.applies_for, as the gaps column and
    # the cohort's candidates have it)
    held: bool = False
    # the loaded rules applied to the rung (a rule file of one's own, whatever its id says:
    # its titles and documents are the ones a page shows); not compared, not in the repr
    rules: Policy | None = field(default=None, repr=False, compare=False)

    def condition(self, cid: str) -> ConditionResult:
        """The condition or route ``cid`` of this rung.

        Raises
        ------
        KeyError
            When the rung has none of that id, naming those it has.
        """
        for c in self.conditions + self.routes:
            if c.id == cid:
                return c
        ids = ", ".join(c.id for c in self.conditions + self.routes)
        raise KeyError(f"{cid!r} is no condition or route of {self.rung} here; it has: {ids}")


@dataclass(frozen=True)
class FirmResult:
    """Where one firm stands on the ladder.

    ``row`` is the firm's row of the frame :func:`evaluate` gives for many firms (statuses,
    points, policy versions, condition states, ``gaps`` and ``flags``) as a dict, a blank
    cell None: a dict without ``respondent_id`` has ``row["respondent_id"]`` None, as
    ``respondent_id`` (a frame's row always has one: without the column, its row number).
    """

    respondent_id: str | None
    policy: str
    year: int
    lang: str
    rungs: dict[str, RungResult]
    gaps: str
    flags: tuple[str, ...]
    row: dict[str, Any]
    # the loaded rules the firm was evaluated under (``policy`` is their id, which a rule file
    # of one's own may share with a shipped one); not compared, not in the repr
    rules: Policy | None = field(default=None, repr=False, compare=False)

    def __getitem__(self, rung: str) -> RungResult:
        try:
            return self.rungs[rung]
        except KeyError:
            raise KeyError(f"{rung!r} is no rung; the rungs are {', '.join(self.rungs)}") from None


@dataclass
class EligibilityBatch:
    """The evaluated rows and every problem of the others; ``n_read == n_evaluated + n_rejected``.

    Attributes
    ----------
    results : DataFrame
        One row per valid input row, the columns of :func:`output_columns`.
    rejects : DataFrame
        ``row, respondent_id, column, value, reason``: every problem of every rejected row.
    rows : ndarray
        The source row number of each row of ``results``.
    unmatched_columns : list of str
        Input columns that are not facts (ignored).
    beside : DataFrame
        For each row of ``results``, the facts a cohort is grouped and sifted by (not in the
        output): ``province``, ``city``, ``sector`` (trimmed text, None when blank) and
        ``holds_<rung>`` (``no`` / ``yes`` / ``recheck``, None when blank).
    digital_disagrees : ndarray of bool
        For each row of ``results``: a given ``digital_level`` differs from the computed one.
    digital_computed : int
        How many of the evaluated rows (``results``) had their digital level computed from
        their survey answers (:mod:`dmi.eligibility.survey`); a rejected row is not counted,
        whatever rejected it.
    survey_imputed : dict of str to int
        Per survey item, the answers missing on those rows that were scored as the lowest
        option (the survey's policy, as ``dmi score`` counts them on the rows it scores).
    facts_tally : FactsTally
        What the facts say as a whole: percentages that may be fractions (judged on every
        row read, rejected ones too), rows evaluated with an id and no fact; its ``notes()``
        are the run's notes about them.
    policy : Policy or None
        The rules the rows were evaluated under (a cohort of the batch counts by them).
    year : int or None
        The application year they were evaluated for.
    """

    results: pd.DataFrame
    rejects: pd.DataFrame
    n_read: int
    rows: np.ndarray
    unmatched_columns: list[str]
    beside: pd.DataFrame | None = None
    digital_disagrees: np.ndarray | None = None
    digital_computed: int = 0
    survey_imputed: dict[str, int] = field(default_factory=dict)
    facts_tally: FactsTally = field(default_factory=FactsTally)
    policy: Policy | None = None
    year: int | None = None

    @property
    def n_evaluated(self) -> int:
        return len(self.results)

    @property
    def n_rejected(self) -> int:
        return self.n_read - self.n_evaluated


# -- the entry points --------------------------------------------------------------------------


def _settle(
    policy: str | int | Path | Policy | None,
    year: int | None,
    lang: str,
    max_gaps: int | None = None,
) -> Plan:
    check_lang(lang)
    if max_gaps is not None and (
        isinstance(max_gaps, bool) or not isinstance(max_gaps, numbers.Integral) or max_gaps < 0
    ):
        raise ParameterError(
            f"max_gaps must be None or a whole number of at least 0, got {max_gaps!r}",
            parameter="max_gaps",
        )
    loaded = load_policy(policy)
    return plan(loaded, application_year(loaded, year))


def status_label(status: str, lang: str = "zh") -> str:
    """A rung status (``eligible``, ``not_yet``, ``unknown``, ``manual``) in words."""
    check_lang(lang)
    if status not in STATUSES:
        raise ParameterError(
            f"status must be one of {', '.join(STATUSES)}, got {status!r}", parameter="status"
        )
    return {
        "eligible": t("eligibility.status_eligible", lang),
        "not_yet": t("eligibility.status_not_yet", lang),
        "unknown": t("eligibility.status_unknown", lang),
        "manual": t("eligibility.status_manual", lang),
    }[status]


def state_label(state: str, lang: str = "zh") -> str:
    """A condition state (``met``, ``not_met``, ``unknown``, ``manual``) in words."""
    check_lang(lang)
    if state not in STATES:
        raise ParameterError(
            f"state must be one of {', '.join(STATES)}, got {state!r}", parameter="state"
        )
    return {
        "met": t("eligibility.state_met", lang),
        "not_met": t("eligibility.state_not_met", lang),
        "unknown": t("eligibility.state_unknown", lang),
        "manual": t("eligibility.state_manual", lang),
    }[state]


def output_columns(
    policy: str | int | Path | Policy | None = None, *, year: int | None = None
) -> list[str]:
    """The columns :func:`evaluate` gives under a policy and year (the same for every batch)."""
    the_plan = _settle(policy, year, "zh")
    cols = [ID]
    for rung in RUNGS:
        cols += [f"{rung}_status", f"{rung}_points", f"{rung}_policy"]
    paths = [f"{rung}_path" for rung in the_plan.path_ids]
    # the gaps last, as the issue lays the output out ("... then gaps")
    return cols + the_plan.condition_ids + paths + ["flags", "gaps"]


@overload
def evaluate(
    facts: pd.DataFrame,
    policy: str | int | Path | Policy | None = None,
    *,
    year: int | None = None,
    lang: str = "zh",
    max_gaps: int | None = 3,
    survey: bool = True,
) -> pd.DataFrame: ...


@overload
def evaluate(
    facts: Mapping[str, Any],
    policy: str | int | Path | Policy | None = None,
    *,
    year: int | None = None,
    lang: str = "zh",
    max_gaps: int | None = 3,
    survey: bool = True,
) -> FirmResult: ...


def evaluate(
    facts: Mapping[str, Any] | pd.DataFrame,
    policy: str | int | Path | Policy | None = None,
    *,
    year: int | None = None,
    lang: str = "zh",
    max_gaps: int | None = 3,
    survey: bool = True,
) -> FirmResult | pd.DataFrame:
    """Evaluate the 梯度培育 ladder for one firm or for a frame of firms.

    Parameters
    ----------
    facts : dict or DataFrame
        One firm's facts (a dict of fact codes, see :data:`dmi.eligibility.FACTS`; an unknown
        key is an error), or one row per firm, its columns matched as ``dmi eligibility``
        matches a file's headers (codes in any case, labels, units in brackets; the others
        named in an :class:`~dmi.errors.IgnoredColumnsWarning`; a frame without a
        ``respondent_id`` column whose index is named so takes its ids from the index). A
        missing or blank fact is unknown, never taken as failing.
    policy : {"2026", "2022"}, int, path, Policy or None, default=None
        The rules (a shipped version, also as a number, or a rule file; None: the version in
        force today, see :func:`dmi.eligibility.policy_in_force`). Its routing decides which
        version's rung applies to a new applicant or a 复核 (``holds_<rung> = recheck``).
    year : int, optional
        The application year (routing, award windows); default the policy's first year
        (:func:`application_year`).
    lang : {"zh", "en"}, default="zh"
        Language of the gaps and flags.
    max_gaps : int or None, default=3
        At most this many gaps in the ``gaps`` text (a frame's column, a firm's
        ``FirmResult.gaps``; then "N more"); None for all; 0 leaves it empty (the text is most
        of the time of a big frame). ``RungResult.gaps`` always lists every gap.
    survey : bool, default=True
        Where a firm's facts also hold the MIIT survey's answers (keys or columns named by its
        item codes), score them and take their level as the computed digital level
        (``digital_level_computed``, read before a stated ``digital_level``; a disagreement is
        flagged), as ``dmi eligibility`` does. Invalid answers are problems of the row.

    Returns
    -------
    FirmResult or DataFrame
        For a dict, the typed result; for a frame, the columns of :func:`output_columns`, a
        row per row of the frame, under the frame's index (joined back, each firm gets its
        own result).

    Raises
    ------
    dmi.errors.ParameterError
        When an argument is not one taken: ``facts`` neither a dict nor a DataFrame, a
        ``policy`` of another kind, a ``year`` that is not a whole number, ``lang`` or
        ``max_gaps`` out of their values (also a ``ValueError`` and a ``TypeError``).
    dmi.errors.MissingFileError
        When ``policy`` is no shipped version, or a rule file that is not there (also a
        ``FileNotFoundError``).
    dmi.eligibility.PolicyError
        When the rule file is invalid, listing every problem.
    dmi.errors.ApplicationYearError
        When ``year`` is before the policy applies, or too far ahead
        (:data:`~dmi.eligibility.YEARS_AHEAD`).
    dmi.eligibility.FactsError
        When a value is invalid; ``rejects`` lists every problem (row, column, value, reason).
        :func:`evaluate_batch` evaluates the valid rows and returns the rejects instead.
        (Each error here is a :class:`dmi.DmiError`.)

    Warns
    -----
    dmi.errors.IgnoredColumnsWarning
        Naming the columns (or a dict's survey item keys) left out, each once, with why.
    dmi.errors.FactsNoteWarning
        A note each of what the facts say as a whole (a debt ratio of fractions, amounts
        likely in yuan, R&D above revenue ...: :class:`~dmi.eligibility.facts.FactsTally`),
        the notes ``dmi eligibility`` prints; the firms are evaluated as given.
    """
    if not isinstance(facts, (Mapping, pd.DataFrame)):
        hint = (
            ": a frame's row is a Series, pass row.to_dict() (or frame.iloc[[i]], a frame)"
            if isinstance(facts, pd.Series)
            else ""
        )
        raise ParameterError(
            "facts must be a dict (one firm) or a DataFrame (many), got "
            f"{type(facts).__name__}{hint}",
            parameter="facts",
        )
    _check_flags(survey=survey)
    the_plan = _settle(policy, year, lang, max_gaps)
    if isinstance(facts, Mapping):
        facts, answers_refused = _with_survey_level(facts, survey)
        parsed = parse_facts(facts)
        if answers_refused is not None:  # every problem of the firm, its answers' first
            rejects = pd.concat([answers_refused, parsed.rejects], ignore_index=True)
            raise FactsError(rejects, None)
        if not parsed.valid.all():
            raise FactsError(parsed.rejects, None)
        _warn_notes(FactsTally.of(parsed.table, the_plan.year).firm_notes())
        ev = evaluate_columns(parsed.table, the_plan)
        (found,) = _firms(ev, _frame(ev, lang, max_gaps), lang)
        return found
    results = _whole_frame(facts, the_plan, lang, max_gaps, survey).results
    # row for row with the frame given, under its index: joined back, each firm gets its own
    # (a default index from 0 said the rows of a filtered frame were other firms)
    return results.set_axis(facts.index, axis=0)


def evaluate_firms(
    facts: pd.DataFrame,
    policy: str | int | Path | Policy | None = None,
    *,
    year: int | None = None,
    lang: str = "zh",
    max_gaps: int | None = 3,
    survey: bool = True,
) -> list[FirmResult]:
    """Evaluate the 梯度培育 ladder for every firm of a frame, each as a typed result.

    Each firm's result is the one :func:`evaluate` gives for its dict (its rungs, conditions,
    scorecards and gaps with their numbers), worked out for all the rows at once: for a
    frame of many firms, many times faster than a dict at a time. (A frame without a
    ``respondent_id`` column names each firm by its row number, the header being row 1, as
    :func:`evaluate`'s frame does; a dict without one has none.) The results are held in
    memory, each with its row: for a file of any size, ``dmi eligibility`` or
    :func:`evaluate_batch` give the rows alone.

    Parameters
    ----------
    facts : DataFrame
        One row per firm, as for :func:`evaluate`: a DataFrame only (one firm's dict is
        :func:`evaluate`'s).
    policy, year, lang, max_gaps, survey
        As for :func:`evaluate` (``max_gaps`` caps each ``row["gaps"]`` only: every result
        lists all its gaps).

    Returns
    -------
    list of FirmResult
        One per row, in the frame's order.

    Raises
    ------
    dmi.errors.ParameterError
        When ``facts`` is not a DataFrame, or another argument is not one taken; the other
        errors of the arguments as for :func:`evaluate`.
    dmi.eligibility.FactsError
        When a value is invalid; ``rejects`` lists every problem (row, column, value, reason).
    """
    _check_flags(survey=survey)
    the_plan = _settle(policy, year, lang, max_gaps)
    firms: list[FirmResult] = []
    _whole_frame(facts, the_plan, lang, max_gaps, survey, firms)
    return firms


def evaluate_batch(
    facts: pd.DataFrame,
    policy: str | int | Path | Policy | None = None,
    *,
    year: int | None = None,
    lang: str = "zh",
    max_gaps: int | None = 3,
    first_row: int = 2,
    rows: np.ndarray | None = None,
    unique_ids: bool = False,
    survey: bool = True,
    units: Mapping[str, str] | None = None,
    numbered_options: bool = False,
) -> EligibilityBatch:
    """Evaluate the valid rows of a frame and reject the others with every reason.

    The chunk kernel of a bulk run: an invalid row is rejected, not raised.

    Parameters
    ----------
    facts : DataFrame
        One row per firm, headed by fact codes (a :class:`~dmi.errors.ParameterError` for
        anything else; the columns that are no fact are listed in ``unmatched_columns``).
    policy, year, lang, max_gaps, survey
        As for :func:`evaluate`.
    first_row : int, default=2
        The source row number of the frame's first row (the header is row 1).
    rows : ndarray of int of shape (n_rows,), optional
        The source row number of each row, instead of ``first_row`` onwards.
    unique_ids : bool, default=False
        Skip the repeated-id check (the caller checks ids across the whole file).
    units : dict of str to str, optional
        Fact -> the unit its column is in, where that is not the fact's own (converted).
    numbered_options : bool, default=False
        The facts are a 问卷星 export: a bare number in a category or yes/no fact is an
        option's number, refused (:func:`dmi.eligibility.parse_facts`).

    Returns
    -------
    EligibilityBatch
        The evaluated rows' results, the rejects (one row per problem), the row numbers kept
        and the counts of the facts read.
    """
    _check_flags(unique_ids=unique_ids, survey=survey, numbered_options=numbered_options)
    if isinstance(first_row, bool) or not isinstance(first_row, numbers.Integral):
        raise ParameterError(
            f"first_row must be a whole number (the header is row 1), got {first_row!r}",
            parameter="first_row",
        )
    if first_row < 2:
        raise ParameterError(
            f"first_row must be at least 2 (the header is row 1), got {first_row}",
            parameter="first_row",
        )
    if rows is not None and isinstance(facts, pd.DataFrame) and len(rows) != len(facts):
        raise ParameterError(
            f"rows must give one row number per row of facts: expected {len(facts)}, got "
            f"{len(rows)}",
            parameter="rows",
        )
    the_plan = _settle(policy, year, lang, max_gaps)
    return _run(
        facts,
        the_plan,
        lang,
        max_gaps,
        int(first_row),
        rows,
        unique_ids,
        survey,
        units,
        numbered_options,
    )


def _check_flags(**flags: Any) -> None:
    """Refuse a yes/no parameter given as anything but True or False ("no" is a true
    string: a check asked off by it was skipped)."""
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise ParameterError(f"{name} must be True or False, got {value!r}", parameter=name)


def _whole_frame(
    facts: pd.DataFrame,
    the_plan: Plan,
    lang: str,
    max_gaps: int | None,
    survey: bool,
    firms: list[FirmResult] | None = None,
) -> EligibilityBatch:
    """A caller's whole frame evaluated (:func:`evaluate`, :func:`evaluate_firms`): its
    columns read as the command reads a file's headers (:func:`_as_read`), rows numbered from
    2 (the header is row 1), ids checked across it; any invalid row raises, with every
    problem."""
    if isinstance(facts, pd.DataFrame) and _ids_in_index(facts):
        facts = facts.reset_index()  # the firms named by the index: their ids, not row numbers
    facts, units, headers = _as_read(facts, survey)
    batch = _run(
        facts,
        the_plan,
        lang,
        max_gaps,
        first_row=2,
        rows=None,
        unique_ids=False,
        survey=survey,
        units=units,
        firms=firms,
    )
    if batch.n_rejected:
        # a fact read from a header of the frame's own is said by it, as the command says a
        # file's (上年末资产负债率（%）: 180 is above ...)
        raise FactsError(headed_reasons(batch.rejects, headers), batch.n_read)
    _warn_notes(batch.facts_tally.notes(year_option="year="), stacklevel=4)
    return batch


def _ids_in_index(facts: pd.DataFrame) -> bool:
    """Whether a frame's firms are named by its index: no column is the id, and the index's
    name is one a file's id column may have (``respondent_id``, ``企业编号``, ``id``,
    ``统一社会信用代码``: :func:`dmi.eligibility.headers.map_fact_columns`'s). An unnamed
    index is the frame's own: its rows are numbered."""
    name = facts.index.name
    if facts.index.nlevels != 1 or not isinstance(name, str) or name in facts.columns:
        return False
    if name == ID:
        return ID not in facts.columns
    from dmi.eligibility.headers import map_fact_columns

    columns = [str(c) for c in facts.columns]
    if map_fact_columns([name]).rename.get(name) != ID:
        return False
    return ID not in map_fact_columns(columns).rename.values()


def _warn_notes(notes: list[str], stacklevel: int = 3) -> None:
    """The notes of a caller's facts (:class:`FactsTally`'s), a :class:`FactsNoteWarning`
    each, at the caller of :func:`evaluate` or :func:`evaluate_firms` (``stacklevel``)."""
    for note in notes:
        warnings.warn(note, FactsNoteWarning, stacklevel=stacklevel)


def _as_read(
    facts: pd.DataFrame, survey: bool
) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """A frame's columns matched as ``dmi eligibility`` matches a file's headers
    (:func:`dmi.eligibility.headers.map_fact_columns`: a fact's code in any case, its labels,
    an alias, a unit in brackets; with ``survey``, the survey's item codes and texts; a
    repeated name numbered as the readers number it, ``备注.1``): the frame with the columns
    matched, renamed to their codes, the units its headers name, and each fact read from a
    header other than its code -> that header (for the reasons of its cells). The columns left out
    are named in an :class:`~dmi.errors.IgnoredColumnsWarning`, in the lines the command
    prints for a file.

    A frame of fact codes alone is taken as it is (no copy, nothing more imported); one whose
    header :func:`parse_facts` refuses (two rows, a fact's code twice) is left for it to refuse.
    """
    if not isinstance(facts, pd.DataFrame) or facts.columns.nlevels != 1:
        return facts, {}, {}  # refused by _run or parse_facts, naming what they got
    codes = {*facts_table().codes, ID}
    names = [str(c) for c in facts.columns]
    if any(names.count(c) > 1 for c in codes.intersection(names)):
        return facts, {}, {}
    if set(names) <= codes:
        return facts, {}, {}
    from dmi.eligibility.headers import few_items_note, ignored_lines, map_fact_columns
    from dmi.instruments import load_instrument
    from dmi.io.csvstream import dedupe_headers

    instrument = load_instrument(SURVEY_INSTRUMENT) if survey else None
    headers = dedupe_headers(names)
    mapping = map_fact_columns(headers, instrument=instrument)
    ignored = ignored_lines(mapping)  # the command's words
    if mapping.few_items and instrument is not None:
        ignored.append(few_items_note(mapping, len(instrument.items)))
    if ignored:
        # the caller of evaluate() or evaluate_firms(), through _whole_frame
        warnings.warn("; ".join(ignored), IgnoredColumnsWarning, stacklevel=4)
    keep = [i for i, header in enumerate(headers) if header in mapping.rename]
    read = facts.iloc[:, keep].set_axis([mapping.rename[headers[i]] for i in keep], axis=1)
    named = {}
    for i in keep:
        code = mapping.rename[headers[i]]
        if code in codes and code not in (headers[i], ID):
            named[code] = " ".join(headers[i].split())
    return read, mapping.units, named


def _with_survey_level(
    facts: Mapping[str, Any], survey: bool
) -> tuple[Mapping[str, Any], pd.DataFrame | None]:
    """One firm's facts with its keys that are the survey's item codes taken out: with
    ``survey``, replaced by the level they give (as a frame's columns are, :func:`_run`), and
    the problems of its answers (None: none), named by its ``respondent_id``. Item keys too few
    to be the survey's answers, or any with ``survey=False``, are left out, named in an
    :class:`~dmi.errors.IgnoredColumnsWarning` in a frame's words (:func:`_as_read`). Any
    other key is left for :func:`parse_facts` (a dict's unknown key is an error)."""
    codes = {*facts_table().codes, ID}
    others = [k for k in facts if k not in codes]
    if not others:
        return facts, None
    from dmi.instruments import load_instrument

    instrument = load_instrument(SURVEY_INSTRUMENT)
    keys = [k for k in others if k in {i.code for i in instrument.items}]
    if not keys:
        return facts, None
    rest = {k: v for k, v in facts.items() if k not in keys}
    items = survey_items(keys) if survey else []
    if not items:
        from dmi.eligibility.headers import few_items_note, ignored_lines, map_fact_columns

        mapping = map_fact_columns(keys, instrument=instrument if survey else None)
        ignored = ignored_lines(mapping)
        if mapping.few_items and survey:
            ignored.append(few_items_note(mapping, len(instrument.items)))
        warnings.warn("; ".join(ignored), IgnoredColumnsWarning, stacklevel=3)  # evaluate's
        return rest, None
    named = {ID: [facts[ID]]} if ID in facts else {}
    found = computed_levels(
        pd.DataFrame({**named, **{k: [facts[k]] for k in items}}), np.array([2])
    )
    assert found is not None
    if found.rejected.any():  # a dict without an id has none (a frame's row is named by its number)
        return rest, found.rejects if named else found.rejects.assign(respondent_id="")
    if np.isfinite(found.levels[0]):
        rest["digital_level_computed"] = float(found.levels[0])
    return rest, None


CHUNK_ROWS = 100_000
"""Rows evaluated at a time: a bigger frame is done in pieces (every row is on its own), which
bounds the memory of the intermediate columns and texts."""


def _run(
    facts: pd.DataFrame,
    the_plan: Plan,
    lang: str,
    max_gaps: int | None,
    first_row: int,
    rows: np.ndarray | None,
    unique_ids: bool,
    survey: bool = True,
    units: Mapping[str, str] | None = None,
    numbered_options: bool = False,
    firms: list[FirmResult] | None = None,
) -> EligibilityBatch:
    """The rows of ``facts`` evaluated chunk by chunk; with ``firms``, each valid row's typed
    result is appended to it too (:func:`evaluate_firms`)."""
    if not isinstance(facts, pd.DataFrame):
        raise ParameterError(
            "expected a DataFrame of facts (one row per firm), got "
            f"{type(facts).__name__}"
            + (": evaluate() takes one firm's dict" if isinstance(facts, Mapping) else ""),
            parameter="facts",
        )
    n = len(facts)
    row_numbers = (
        np.arange(first_row, first_row + n, dtype=np.int64)
        if rows is None
        else np.asarray(rows, dtype=np.int64)
    )
    if row_numbers.shape != (n,):
        raise ValueError(f"expected {n} row numbers, got {row_numbers.shape[0]}")
    rejects: list[pd.DataFrame] = []
    repeated = np.zeros(n, dtype=bool)
    if not unique_ids and ID in facts.columns and n > CHUNK_ROWS:
        # repeated ids are a matter of the whole frame: found once, before the pieces
        ids = id_texts(facts[ID])
        dup, reasons = duplicate_ids(ids, row_numbers)
        repeated[dup] = True
        rejects.append(
            pd.DataFrame(
                {
                    "row": row_numbers[dup],
                    "respondent_id": ids[dup],
                    "column": ID,
                    "value": ids[dup],
                    "reason": reasons,
                }
            )
        )
        unique_ids = True
    results: list[pd.DataFrame] = []
    kept_rows: list[np.ndarray] = []
    besides: list[pd.DataFrame] = []
    disagrees: list[np.ndarray] = []
    unmatched: list[str] = []
    computed = 0
    imputed: Counter[str] = Counter()
    tally = FactsTally()
    for start in range(0, max(n, 1), CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        chunk = facts if (start, stop) == (0, n) else facts.iloc[start:stop]
        valid = ~repeated[start:stop]
        levels = computed_levels(chunk, row_numbers[start:stop]) if survey else None
        if levels is not None:
            found_levels: Any = levels.levels
            if COMPUTED[0] in chunk.columns:  # a row without answers keeps the level given
                given = chunk[COMPUTED[0]].to_numpy(dtype=object)
                found_levels = np.where(
                    np.isfinite(found_levels), found_levels.astype(object), given
                )
            chunk = chunk.assign(digital_level_computed=found_levels)
            rejects.append(levels.rejects)
            valid = valid & ~levels.rejected
        parsed = parse_facts(
            chunk,
            rows=row_numbers[start:stop],
            unique_ids=unique_ids,
            units=units,
            numbered_options=numbered_options,
        )
        valid = parsed.valid & valid
        if levels is not None:
            # the levels and the answers scored as lowest of the rows evaluated only, as dmi
            # score counts the rows it scores: a row rejected for its facts is not counted
            scored = np.isfinite(levels.levels)
            computed += int((scored & valid).sum())
            imputed.update(levels.imputed)
            dropped = np.flatnonzero(scored & ~valid)
            if len(dropped):  # the few rows rejected: their own answers scored again
                again = computed_levels(chunk.iloc[dropped], row_numbers[start:stop][dropped])
                assert again is not None
                imputed.subtract(again.imputed)
                imputed = +imputed  # the items left with none
        table = parsed.table if valid.all() else parsed.table.take(valid)
        tally.add(FactsTally.of(table, the_plan.year, read=parsed.table))
        ev = evaluate_columns(table, the_plan)
        results.append(_frame(ev, lang, max_gaps))
        if firms is not None:
            firms += _firms(ev, results[-1], lang)
        rejects.append(parsed.rejects)
        kept_rows.append(table.rows)
        besides.append(_beside(table, chunk.columns))
        disagrees.append(np.asarray(table.digital_disagrees, dtype=bool))
        unmatched = parsed.unmatched_columns
    found = [r for r in rejects if len(r)]
    if len(found) > 1:
        all_rejects = pd.concat(found, ignore_index=True)
        all_rejects = all_rejects.sort_values(["row", "column"], kind="stable")
        all_rejects = all_rejects.reset_index(drop=True)
    else:
        all_rejects = found[0] if found else rejects[-1]
    return EligibilityBatch(
        results=results[0] if len(results) == 1 else pd.concat(results, ignore_index=True),
        rejects=all_rejects,
        n_read=n,
        rows=np.concatenate(kept_rows),
        unmatched_columns=unmatched,
        beside=besides[0] if len(besides) == 1 else pd.concat(besides, ignore_index=True),
        digital_disagrees=np.concatenate(disagrees),
        digital_computed=computed,
        survey_imputed=dict(imputed),
        facts_tally=tally,
        policy=the_plan.policy,
        year=the_plan.year,
    )


BESIDE_TEXT = ("province", "city", "sector")
"""The text facts a cohort groups by (:attr:`EligibilityBatch.beside`)."""


def _beside(table: FactColumns, columns: Iterable[str]) -> pd.DataFrame:
    """The grouping facts and the titles held of typed rows, as text (see ``beside``): the
    grouping facts the frame read has a column of (``columns``), so that a cohort counts no
    group of a place the file does not give, as :func:`dmi.eligibility.cohort` counts a
    ``beside`` without it.

    The columns stay object arrays: pandas would otherwise make each into Arrow strings, one
    Python call per cell, for a frame that is only grouped."""
    facts = facts_table()
    given = set(columns)
    out: dict[str, Any] = {c: table.text[c] for c in BESIDE_TEXT if c in given}
    for rung in RUNGS:
        code = f"holds_{rung}"
        values = facts[code].value_codes
        names = np.array([*values, None], dtype=object)
        codes = table.values[code]
        out[code] = names[np.where(np.isnan(codes), len(values), codes).astype(np.intp)]
    return pd.DataFrame({k: pd.Series(v, dtype=object, copy=False) for k, v in out.items()})


# -- the frame -----------------------------------------------------------------------------------


# made once: a dtype made from its categories on every call took most of a column's time
_STATUS_DTYPE = pd.CategoricalDtype(STATUSES)
_STATE_DTYPE = pd.CategoricalDtype(STATES)


def _frame(ev: Evaluation, lang: str, max_gaps: int | None) -> pd.DataFrame:
    n = ev.n
    the_plan = ev.plan
    # text columns are kept as they come (objects as objects, Arrow strings as Arrow): made into
    # the other they would be copied once more, a Python call per cell
    ids = ev.facts.ids
    cols: dict[str, Any] = {ID: pd.Series(ids, dtype=ids.dtype, copy=False)}
    policies = pd.CategoricalDtype(the_plan.policy_ids)
    for rung in RUNGS:
        status = np.zeros(n, dtype=np.int8)
        points = np.full(n, np.nan)
        which = np.zeros(n, dtype=np.int8)
        for part in ev.parts[rung]:
            r = part.ev
            status[part.rows] = r.status[part.at]
            if r.points is not None:
                points[part.rows] = r.points[part.at]
            which[part.rows] = the_plan.policy_ids.index(version_of(r.policy, rung))
        cols[f"{rung}_status"] = pd.Categorical.from_codes(status, dtype=_STATUS_DTYPE)
        cols[f"{rung}_points"] = points
        cols[f"{rung}_policy"] = pd.Categorical.from_codes(which, dtype=policies)
    for cid in the_plan.condition_ids:
        state = np.full(n, NA, dtype=np.int8)
        for rung in RUNGS:
            for part in ev.parts[rung]:
                found = part.ev.conditions.get(cid)
                if found is None:
                    found = part.ev.routes.get(cid)
                if found is not None:
                    state[part.rows] = found[part.at]
        codes = np.where(state == NA, -1, state).astype(np.int8)
        cols[cid] = pd.Categorical.from_codes(codes, dtype=_STATE_DTYPE)
    for rung, ids in the_plan.path_ids.items():
        chosen = np.full(n, -1, dtype=np.int8)
        for part in ev.parts[rung]:
            chosen[part.rows] = the_plan.path_codes(part.ev)[part.at]
        cols[f"{rung}_path"] = pd.Categorical.from_codes(chosen, dtype=pd.CategoricalDtype(ids))
    cols["flags"] = _flags_column(ev.facts, lang, the_plan.year)
    cols["gaps"] = _gaps_column(ev, lang, max_gaps)  # last, as output_columns lays them out
    return pd.DataFrame(cols, copy=False)


def _target_rung(ev: Evaluation) -> np.ndarray:
    """Per row, the lowest rung the firm applies for and is not eligible for (-1: none).

    A firm applies for a rung unless it holds it, or holds (or has re-checked) a rung above:
    a 小巨人 is 专精特新 and 创新型, and its 复核 is an application for 小巨人, as the cohort
    counts it (:func:`dmi.eligibility.cohort`)."""
    target = np.full(ev.n, -1, dtype=np.int8)
    for i, rung in enumerate(RUNGS):
        applying = applies_for(rung, lambda r, v: holds(ev.facts, r, v))
        target[(target == -1) & applying & (ev.status(rung) != MET)] = i
    return target


def _rung_prefix(r: RungEval, lang: str) -> str:
    spec = r.policy.rungs[r.rung]
    return t(
        "eligibility.rung_prefix", lang, label=spec.label(lang), policy=version_of(r.policy, r.rung)
    )


def _gaps_column(ev: Evaluation, lang: str, max_gaps: int | None) -> pd.Series:
    """The ``gaps`` text of every row (``str``, "" for none): the gaps of its next rung, joined
    by Arrow (:func:`dmi.eligibility.gaps.joined_rows`) for every rung and policy, and kept in
    Arrow (the column is pandas' ``str``, Arrow's strings: no Python string is made per row,
    and the writers take it as it is)."""
    import pyarrow as pa

    shown: list[np.ndarray] = []
    texts: list[Any] = []
    target = _target_rung(ev) if max_gaps != 0 else np.full(ev.n, -1, dtype=np.int8)
    for i, rung in enumerate(RUNGS):
        for part in ev.parts[rung]:
            local = np.flatnonzero(target[part.rows] == i)
            if len(local) == 0:
                continue
            r = part.ev
            pieces, total = rung_gaps(r, part.at[local], lang, max_gaps)
            to_batch = np.full(r.ctx.n, -1)
            to_batch[part.at] = part.rows
            counts = np.zeros(ev.n, dtype=np.int32)
            counts[part.rows[local]] = total
            rows, text = joined_rows(
                ev.n, pieces, to_batch, max_gaps, lang, counts, prefix=_rung_prefix(r, lang)
            )
            shown.append(rows)
            texts.append(text)
    # each row is shown by one rung and one part at most; the others are ""
    every = pa.concat_arrays(texts) if texts else pa.array([], pa.large_string())
    rows = np.concatenate(shown) if shown else np.zeros(0, dtype=np.intp)
    return _text_series(_spread(every, rows, ev.n))


_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' ``str``


def _text_series(column: Any) -> pd.Series:
    """An Arrow string array as a column of pandas' ``str``, without a copy."""
    return pd.Series(pd.arrays.ArrowStringArray(column, dtype=_TEXT), copy=False)


def _flags_column(facts: FactColumns, lang: str, year: int) -> pd.Series:
    """The ``flags`` text of every row (``str``, "" for none): a stated digital level that
    disagrees with the computed one, and an award year after the application year ``year``
    (outside every window of the rules: a year not given, ``--year``, is the policy's first).

    Each distinct flag is worded once and gathered to the rows by Arrow (no Python string per
    row); a row's flags are joined by the separator of the gaps.
    """
    n = facts.n
    kinds: list[tuple[list[str], np.ndarray]] = []  # per kind: words ("" first), which per row
    rows = np.flatnonzero(facts.digital_disagrees)
    pairs = np.zeros(n, dtype=np.int64)  # 0: no flag, else 1 + the pair's position
    words = [""]
    if len(rows):
        given = facts.values["digital_level"][rows].astype(np.int64)
        computed = facts.values["digital_level_computed"][rows].astype(np.int64)
        found, at = np.unique(np.stack([given, computed], axis=1), axis=0, return_inverse=True)
        words += [t("eligibility.disagree", lang, given=int(g), computed=int(c)) for g, c in found]
        pairs[rows] = 1 + at.ravel()
    kinds.append((words, pairs))
    rows = np.flatnonzero(award_after_year(facts, year))
    if len(rows):
        years = facts.values["award_year"][rows].astype(np.int64)
        found, at = np.unique(years, return_inverse=True)
        which = np.zeros(n, dtype=np.int64)
        which[rows] = 1 + at.ravel()
        later = [t("eligibility.after_year", lang, award=int(y), year=year) for y in found]
        kinds.append(([""] + later, which))
    if len(kinds) == 1:
        return _text_series(_worded(words, pairs, large=True))
    # one text per combination of the kinds' flags met
    key = np.zeros(n, dtype=np.int64)
    for kind_words, which in kinds:
        key = key * len(kind_words) + which
    combos, at = np.unique(key, return_inverse=True)
    separator = t("eligibility.separator", lang)
    texts = []
    for combo in combos:
        shown = []
        for kind_words, _ in reversed(kinds):
            combo, k = divmod(int(combo), len(kind_words))
            shown.append(kind_words[k])
        texts.append(separator.join(w for w in reversed(shown) if w))
    return _text_series(_worded(texts, at.ravel(), large=True))


# -- each firm in detail -------------------------------------------------------------------------


def _fact_value(r: RungEval, name: str, at: int) -> Any:
    """A fact's or derived value's value for one firm: None when a fact it needs is not given,
    NaN when it is derived and cannot be computed from what is given (a share of revenue 0)."""
    facts = facts_table()
    values, missing = r.ctx.get(name)
    if missing[at]:
        return None
    v = float(values[at])
    if name in facts and facts[name].type == "category":
        return facts[name].values[int(v)].value
    if name in facts and facts[name].type == "yesno":
        return "yes" if v == 1.0 else "no"
    if np.isnan(v):
        return math.nan if name in r.policy.metrics else None
    return v


def _waits_on(r: RungEval, cid: str, at: int) -> tuple[str, ...]:
    """For a condition not met on its own and unknown for the routes that would replace it:
    the facts missing in those routes' options still open (their leaves unknown); else ()."""
    # (unknown on its own, its own facts are what it waits on; a route cannot make a met or a
    # manual condition unknown)
    if r.conditions[cid][at] != UNKNOWN or r.raw[cid][at] != NOT_MET:
        return ()
    found: dict[str, None] = {}
    for rid, route in r.policy.routes.items():
        if cid not in route.replaces or rid not in r.routes or r.routes[rid][at] != UNKNOWN:
            continue
        for option in route.options:
            if r.options[rid][option.id][at] != UNKNOWN:
                continue
            for leaf in iter_leaves(option.test):
                if isinstance(leaf, (Compare, Member, Is)) and r.ctx.state(leaf)[at] == UNKNOWN:
                    # the facts it reads (a metric's inputs: rd_y2 of rd_mean_2y), in the
                    # facts table's order, that the firm left blank
                    read = facts_read(r.policy, leaf)
                    for name in (f.code for f in facts_table() if f.code in read):
                        if _fact_value(r, name, at) is None:
                            found[name] = None
    return tuple(found)


def _confidence_at(r: RungEval, rule_id: str, tests: list[Any], at: int) -> str:
    """How sure a condition's or route's result is for the firm at ``at``: the rule's mark,
    or the less sure mark of a province's block of a scorecard its tests pass (the firm's
    province: its scorecard is as sure as that block, :func:`_scorecard_result`)."""
    confidence = r.policy.confidence_of(rule_id)
    for test in tests:
        for leaf in iter_leaves(test):
            if isinstance(leaf, ScorecardPass):
                ev = r.ctx.scorecard(leaf.scorecard)
                block = int(ev.block[at])
                if block >= 0:
                    confidence = least_sure(confidence, ev.scorecard.provinces[block].confidence)
    return confidence


def _values_of(r: RungEval, tests: list[Any], at: int, lang: str) -> dict[str, Any]:
    """The values a condition's tests compare, by fact; a scorecard's points and pass mark, and
    the groups short of their floors (``<id>_floors_short``: (label, fewest points, most
    points, floor, strict) each, the points a range while a fact they need is missing; a
    scorecard failed on a floor whatever its total)."""
    out: dict[str, Any] = {}
    for test in tests:
        for leaf in iter_leaves(test):
            if isinstance(leaf, (Compare, Member, Is)):
                out.setdefault(leaf.of, _fact_value(r, leaf.of, at))
                window = getattr(leaf, "window", None)
                if window is not None:
                    out.setdefault(window.fact, _fact_value(r, window.fact, at))
            elif isinstance(leaf, ScorecardPass):
                sc = r.ctx.scorecard(leaf.scorecard)
                out[f"{leaf.scorecard}_points"] = float(sc.lo[at])
                out[f"{leaf.scorecard}_pass_mark"] = float(sc.pass_mark[at])
                short = [
                    (
                        g.label(lang),
                        float(sc.group_lo[g.id][at]),
                        float(sc.group_hi[g.id][at]),
                        g.floor if g.floor is not None else g.floor_above,
                        g.floor is None,  # strict: the points must be above floor_above
                    )
                    for g in sc.scorecard.groups
                    if g.id in sc.group_floor_short and sc.group_floor_short[g.id][at]
                ]
                if short:
                    out[f"{leaf.scorecard}_floors_short"] = tuple(short)
    return out


def _evidence(tests: list[Any], lang: str, r: RungEval, at: int) -> tuple[str, ...]:
    """What to prepare for the reviews a condition (or route) waits on: its own, and those of a
    scorecard's claims that wait on one for this firm (a product said to fill a gap)."""
    found: list[str] = []
    for test in tests:
        for leaf in iter_leaves(test):
            if isinstance(leaf, Manual):
                found.append(leaf.manual.get(lang))
            elif isinstance(leaf, ScorecardPass) and r.ctx.state(leaf)[at] == MANUAL:
                for ind in r.policy.scorecards[leaf.scorecard].indicators:
                    for step in ind.first_of or ():
                        if r.ctx.state(step.test)[at] == MANUAL:
                            found += [
                                sub.manual.get(lang)
                                for sub in iter_leaves(step.test)
                                if isinstance(sub, Manual)
                            ]
    return tuple(found)


def _state_name(code: int) -> str:
    return "" if code == NA else STATES[code]


def _scorecard_result(r: RungEval, sid: str, lang: str, at: int) -> ScorecardResult:
    ev = r.ctx.scorecard(sid)
    sc = ev.scorecard
    indicators = list(sc.indicators)
    block = int(ev.block[at])
    if block >= 0:
        indicators += list(sc.provinces[block].indicators)
    ind_results = []
    for ind in indicators:
        lo, hi = float(ev.ind_lo[ind.id][at]), float(ev.ind_hi[ind.id][at])
        ind_results.append(
            IndicatorResult(
                ind.id,
                ind.label(lang),
                ind.group,
                lo if lo == hi else None,
                lo,
                indicator_range(ind)[1],
            )
        )
    groups = []
    for g in sc.groups:
        lo, hi = float(ev.group_lo[g.id][at]), float(ev.group_hi[g.id][at])
        floor = g.floor if g.floor is not None else g.floor_above
        groups.append(
            GroupResult(
                g.id,
                g.label(lang),
                lo if lo == hi else None,
                lo,
                g.points,
                floor,
                g.floor_above is not None,
            )
        )
    lo, hi = float(ev.lo[at]), float(ev.hi[at])
    source, confidence = sc.source, r.policy.confidence_of(sid)
    if block >= 0:  # the province's block: its settings are as sure as it is, or less
        source = f"{sc.source}; {sc.provinces[block].source}"
        confidence = least_sure(confidence, sc.provinces[block].confidence)
    return ScorecardResult(
        id=sid,
        label=sc.label(lang),
        source=source,
        confidence=confidence,
        state=STATES[int(ev.state[at])],
        points=lo if lo == hi else None,
        points_at_least=lo,
        points_at_most=hi,
        pass_mark=float(ev.pass_mark[at]),
        groups=tuple(groups),
        indicators=tuple(ind_results),
    )


def _gap_objects(r: RungEval, pieces: list[Piece]) -> dict[int, list[Gap]]:
    """The gaps of each position the pieces are on (positions in ``r``), in the pieces' order:
    for every row, what its gaps would be worked out alone."""
    out: dict[int, list[Gap]] = {}

    def number(a: np.ndarray | None, k: int) -> float | None:
        return None if a is None or np.isnan(a[k]) else float(a[k])

    for p in pieces:
        if len(p.positions) == 0:
            continue
        texts = p.texts()
        changes: dict[int, list[tuple[str, float]]] = {}
        for fact, local, change in p.amount_changes():
            for k, c in zip(local.tolist(), change.tolist(), strict=True):
                if math.isfinite(c):
                    # to a hundredth of a 元 in 万元, as amounts are read: 2060.22 as the text
                    # says it, not the 2060.2200000000003 of a difference of floats
                    changes.setdefault(k, []).append((fact, round(c, 6) + 0.0))
        for k, position in enumerate(p.positions.tolist()):
            out.setdefault(position, []).append(
                Gap(
                    rung=r.rung,
                    condition=p.condition,
                    kind=p.kind,
                    text=str(texts[k]) + p.suffix,
                    fact=p.fact,
                    current=number(p.current, k),
                    target=number(p.target, k),
                    change=number(p.change, k),
                    points=number(p.points, k),
                    changes=tuple(changes.get(k, ())),
                )
            )
    return out


def _rung_result(r: RungEval, lang: str, at: int, gaps: list[Gap]) -> RungResult:
    """The rung of the firm at position ``at`` of ``r``, its ``gaps`` worked out beforehand
    (:func:`_gap_objects`)."""
    policy = r.policy
    spec = policy.rungs[r.rung]
    conditions = []
    path = None
    card = spec.points  # the scorecard of the points shown: the path's own if it has one
    assessed = set(spec.conditions)  # the conditions the status rests on: the path's too
    if r.path is not None:
        chosen = spec.paths[int(r.path[at])]
        path, card = chosen.id, chosen.points or spec.points
        assessed |= set(chosen.conditions)
    route_used = None
    via: dict[str, str] = {}
    route_results = []
    for rid in spec.routes:
        route = policy.routes[rid]
        state = int(r.routes[rid][at])
        met_options = [o.id for o in route.options if r.options[rid][o.id][at] == MET]
        if state == MET and met_options:
            name = f"{rid}:{met_options[0]}"
            if assessed.intersection(route.replaces):  # not a route of the path not taken
                route_used = route_used or name
            for cid in route.replaces:
                via.setdefault(cid, name)
        tests = [o.test for o in route.options]
        route_results.append(
            ConditionResult(
                id=rid,
                kind=route.kind,
                state=_state_name(state),
                label=route.label(lang),
                source=route.source,
                confidence=_confidence_at(r, rid, tests, at),
                policy=policy.origin.get(rid, policy.id),
                values=_values_of(r, tests, at, lang),
                via=f"{rid}:{met_options[0]}" if met_options else None,
                evidence=_evidence(tests, lang, r, at),
            )
        )
    recheck = bool(r.recheck[at])
    listed = list(spec.conditions) + [c for p in spec.paths for c in p.conditions]
    for cid in listed:
        cond = policy.conditions[cid]
        test = r.test(cid, recheck)
        tests = [] if test == "skip" else [test]
        conditions.append(
            ConditionResult(
                id=cid,
                kind="condition",
                state=_state_name(int(r.conditions[cid][at])),
                label=cond.label(lang),
                source=cond.source,
                confidence=_confidence_at(r, cid, tests, at),
                policy=policy.origin.get(cid, policy.id),
                values=_values_of(r, tests, at, lang),
                via=via.get(cid) if r.raw[cid][at] != MET else None,
                evidence=_evidence(tests, lang, r, at),
                own_state=_state_name(int(r.raw[cid][at])),
                waits_on=_waits_on(r, cid, at),
            )
        )
    status = STATUSES[int(r.status[at])]
    version = version_of(policy, r.rung)
    return RungResult(
        rung=r.rung,
        label=spec.label(lang),
        status=status,
        policy=version,
        applicant="recheck" if recheck else "new",
        source=spec.source,
        confidence=spec.confidence,
        points=None if r.points is None else float(r.points[at]),
        scorecard=_scorecard_result(r, card, lang, at) if card else None,
        conditions=tuple(conditions),
        routes=tuple(route_results),
        route_used=route_used,
        path=path,
        gaps=tuple(gaps),
        defined_in=policy.id if version != policy.id else None,
        rules=policy,
    )


def _firms(ev: Evaluation, frame: pd.DataFrame, lang: str) -> list[FirmResult]:
    """Every row's typed result (``frame``: its rows, :func:`_frame`). A rung's gaps are worked
    out once for all the rows of each part that are not eligible, as the frame's are."""
    rungs: list[dict[str, RungResult]] = [{} for _ in range(ev.n)]
    for rung in RUNGS:
        held = ~applies_for(rung, lambda r, v: holds(ev.facts, r, v))
        for part in ev.parts[rung]:
            r = part.ev
            open_ = part.at[
                r.status[part.at] != MET
            ]  # a status is coded as a state: eligible is MET
            gaps = _gap_objects(r, rung_gaps(r, open_, lang)[0]) if len(open_) else {}
            for row, at in zip(part.rows.tolist(), part.at.tolist(), strict=True):
                found = _rung_result(r, lang, at, gaps.get(at, []))
                entry = ev.plan.entries[rung, found.applicant]
                if entry is not None:
                    found = replace(
                        found, routing_source=entry.source, routing_confidence=entry.confidence
                    )
                rungs[row][rung] = replace(found, held=bool(held[row])) if held[row] else found
    separator = t("eligibility.separator", lang)
    out = []
    for i, values in enumerate(frame.to_dict("records")):
        row = {k: (None if pd.isna(v) else v) for k, v in values.items()}
        # a dict without an id has none ("" in the frame's column: a frame's row always has
        # one, its row number at least): None, a blank as every blank of the row
        row[ID] = row[ID] or None
        out.append(
            FirmResult(
                respondent_id=ev.facts.ids[i] or None,
                policy=ev.plan.policy.id,
                year=ev.plan.year,
                lang=lang,
                rungs=rungs[i],
                gaps=str(row["gaps"]),
                flags=tuple(f for f in str(row["flags"]).split(separator) if f),
                row=row,
                rules=ev.plan.policy,
            )
        )
    return out

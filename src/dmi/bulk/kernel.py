"""The chunk kernel: one chunk of a file in, its scores and its rejects out.

Both engines (:mod:`dmi.bulk.engines.local`, :mod:`dmi.bulk.engines.dask`) run this and nothing
else, so they write the same rows:

- :func:`prepare_chunk` applies the row checks (ragged lines, unreadable cells in the columns
  used, blank lines, totals rows, repeated ids) and renames the other rows' columns to the
  instrument's codes;
- a *kernel* turns the prepared chunk into its result: :class:`ScoringKernel` (``dmi score``:
  :func:`score_chunk` validates and scores every row left with :meth:`dmi.IndexModel.score_batch`
  and adds tiers and the ``--also`` targets' comparable measures) or
  :class:`dmi.bulk.eligibility.EligibilityKernel` (``dmi eligibility``); the run, the engines
  and the row checks are the same for both;
- a :class:`ChunkTask` is a chunk as the run hands it to an engine, with what is known of the
  file's repeated ids (the index, or the duplicate pass still finding it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from dmi.bulk.checks import (
    REASON_BLANK,
    REASON_HEADER,
    REASON_TOTALS,
    all_blank,
    control_characters,
    control_reason,
    control_shown,
    looks_like_totals,
    rejects_frame,
    repeats_header,
)
from dmi.bulk.duplicates import DuplicateIndex, IdLedger, RunStopped
from dmi.columns import ID_COLUMN
from dmi.io import Chunk, ColumnMapping
from dmi.scoring.answers import id_text, left_unanswered

if TYPE_CHECKING:  # the scoring model needs scikit-learn: imported where a run scores
    from dmi.scoring.crosswalk import AlsoTarget
    from dmi.scoring.model import IndexModel
    from dmi.tiers import TierModel

__all__ = [
    "CheckedRows",
    "ChunkResult",
    "ChunkTask",
    "Kernel",
    "PreparedChunk",
    "ScoringKernel",
    "merged_rejects",
    "output_columns",
    "prepare_chunk",
    "score_chunk",
]


@dataclass
class CheckedRows:
    """Rows the file-level checks rejected (a repeated id, an id with a control character, a
    cell the reader could not read) whose other cells are checked too, so that the rejects list
    every problem of a row.

    Attributes
    ----------
    frame : DataFrame
        The rows' cells, columns named as the instrument's; a cell the reader could not read
        is blank.
    rows : ndarray of shape (n_rows,)
        Their row numbers, ascending.
    blanked : dict
        Column -> the row numbers whose cell in it the reader could not read (its problem
        said already by the reader's check).
    """

    frame: pd.DataFrame
    rows: np.ndarray
    blanked: dict[str, np.ndarray] = field(default_factory=dict)

    def own_problems(
        self,
        rejects: pd.DataFrame,
        unanswered: Mapping[str, Iterable[tuple[str, str | None]]] | None = None,
    ) -> pd.DataFrame:
        """The problems ``rejects`` (the check of these rows) found, but those a blanked cell
        makes by being blank: an answer missing (a problem with no value) under its own column
        (``required answer missing``, ``respondent_id is blank``) and, with ``unanswered``
        (:func:`dmi.scoring.answers.left_unanswered`: column -> the columns a blank in it can
        leave unanswered, each with the column that must be given for the blank to be why),
        under its dimension (no answered item in it) and the items derived from it. The unread
        cell's own problem says it: the cell was not blank."""
        if not self.blanked or not len(rejects):
            return rejects
        made: set[tuple[int, str]] = set()
        for column, rows in self.blanked.items():
            for name, needs in {(column, None), *(unanswered or {}).get(column, ())}:
                why = rows
                if needs is not None:  # only where that column is given
                    if needs not in self.frame:
                        continue
                    cells = self.frame[needs].to_numpy(dtype=object)[
                        np.searchsorted(self.rows, rows)
                    ]
                    why = rows[np.array([_is_given(v) for v in cells.tolist()], dtype=bool)]
                made.update((int(r), name) for r in why.tolist())
        found = zip(rejects["row"].tolist(), rejects["column"].tolist(), rejects["value"].tolist())
        keep = np.array([(int(r), c) not in made or v != "" for r, c, v in found], dtype=bool)
        return rejects if keep.all() else rejects[keep].reset_index(drop=True)


def _is_given(cell: Any) -> bool:
    """A cell that holds something (not missing, not only spaces)."""
    return not pd.isna(cell) and str(cell).strip() != ""


@dataclass
class PreparedChunk:
    """A chunk after the file-level checks: the rows to score, and the rows already rejected.

    An engine takes it as it takes a :class:`ChunkTask` whose index was known: :meth:`prepare`
    is the chunk itself, :meth:`run` gives it to the kernel.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    rejects: pd.DataFrame
    n_read: int
    passthrough: tuple[str, ...] = ()
    checked: CheckedRows | None = None
    """Rows already rejected for a repeated id or a cell the reader could not read: never
    scored, but their cells are checked too, so that the rejects list every problem of a row."""

    def prepare(self) -> PreparedChunk:
        return self

    def run(self, kernel: Kernel) -> ChunkResult:
        return kernel(self)


@dataclass
class ChunkResult:
    """What the kernel made of one prepared chunk.

    ``scores`` are the rows written to the run's main output (scores, or the eligibility
    results); ``extra`` is what a kernel hands the run beside them (the eligibility kernel's
    cohort counts of the chunk), None for scoring.
    """

    scores: pd.DataFrame
    rejects: pd.DataFrame
    n_read: int
    imputed: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    extra: Any = None


class Kernel(Protocol):
    """What a run does to a chunk after the row checks: a prepared chunk in, its result out.

    Pure: the same chunk gives the same result in any thread or process, so a chunk may be
    done again (a run that reads the file once redoes the chunks holding a repeated id).
    """

    def __call__(self, prepared: PreparedChunk) -> ChunkResult: ...


@dataclass(frozen=True)
class ScoringKernel:
    """``dmi score``'s kernel: :func:`score_chunk` with a fitted model (and tier model, and
    the ``--also`` targets)."""

    model: IndexModel
    tier_model: TierModel | None = None
    also: tuple[AlsoTarget, ...] = ()

    def __call__(self, prepared: PreparedChunk) -> ChunkResult:
        if not self.also:  # the call of a run without --also, as it always was
            return score_chunk(prepared, self.model, self.tier_model)
        return score_chunk(prepared, self.model, self.tier_model, self.also)


def prepare_chunk(
    chunk: Chunk,
    mapping: ColumnMapping,
    duplicates: DuplicateIndex,
    policy: str = "reject",
    headers: list[str] | None = None,
) -> PreparedChunk:
    """Apply the file-level checks to one chunk: ragged rows, unreadable cells in the columns
    used, blank lines, totals rows and duplicated ids become rejects; the other rows are renamed
    to instrument columns."""
    headers = headers or list(chunk.frame.columns)
    parts: list[pd.DataFrame] = []
    id_header = mapping.id_header
    id_at = headers.index(id_header) if id_header in headers else None
    if chunk.ragged:
        # a line of only spaces is a blank line, not one of the wrong width
        parts.append(
            rejects_frame(
                [r.row for r in chunk.ragged],
                [
                    (r.fields[id_at].strip() if id_at is not None and id_at < len(r.fields) else "")
                    for r in chunk.ragged
                ],
                [r.column for r in chunk.ragged],
                ["" if r.blank else r.value for r in chunk.ragged],
                [REASON_BLANK if r.blank else r.reason for r in chunk.ragged],
            )
        )
    frame = chunk.frame
    rows = chunk.rows
    n = len(frame)
    drop = np.zeros(n, dtype=bool)
    repeated = np.zeros(0, dtype=np.intp)
    # cells the reader could not read (a formula without a value ...) in the columns used
    unreadable = [cells for cells in chunk.unreadable if cells.column in mapping.rename]
    if n:
        bad = np.zeros(n, dtype=bool)
        for cells in unreadable:
            bad[np.searchsorted(rows, cells.rows)] = True
        blank = all_blank(frame) & ~bad
        if len(frame.columns):
            first = frame.iloc[:, 0]
            totals = looks_like_totals(first)
            if id_header is not None and id_header != frame.columns[0]:
                totals |= looks_like_totals(frame[id_header])
        else:
            totals = np.zeros(n, dtype=bool)
        # a totals row, a header again (exports joined together): one reason, not one per
        # cell; one with an unread cell (a SUM without its value) is rejected for that cell
        # and, not a firm, has no other cell checked
        not_a_firm = totals.copy()
        totals &= ~blank & ~bad
        read = [c for c in (id_header, *mapping.rename) if c in frame.columns]
        header = repeats_header(frame, list(dict.fromkeys(read)))
        not_a_firm |= header
        header &= ~blank & ~bad & ~totals
        # the ids are needed only for rows rejected here (rare): made only then
        needs_ids = bad.any() or blank.any() or totals.any() or header.any()
        # an id with a control character is a problem of its row (with an unread cell's too:
        # its problems are all listed), and is shown escaped wherever its row is named
        control = np.zeros(n, dtype=bool)
        if id_header is not None:
            control = control_characters(frame[id_header]) & ~(blank | totals | header)
        needs_ids = needs_ids or bool(duplicates.rows) or control.any()
        ids = (
            id_text(frame[id_header])
            if id_header is not None and needs_ids
            else np.full(n, "", dtype=object)
        )
        if control.any():
            ids = ids.copy()  # (it may be the frame's own cells)
            ids[control] = [control_shown(str(v)) for v in frame[id_header][control].tolist()]
        for cells in unreadable:
            at = np.searchsorted(rows, cells.rows)
            parts.append(
                rejects_frame(cells.rows, ids[at], cells.column, cells.shown(), cells.reason)
            )
        if blank.any():
            parts.append(
                rejects_frame(rows[blank], ids[blank], "", [""] * blank.sum(), REASON_BLANK)
            )
        if totals.any():
            shown = frame.iloc[:, 0][totals].astype(object).where(lambda s: s.notna(), "")
            parts.append(
                rejects_frame(
                    rows[totals], ids[totals], headers[0], shown.astype(str), REASON_TOTALS
                )
            )
        if header.any():
            shown = frame[read[0]][header].astype(str).tolist()  # the header's first cell
            ids_shown = [""] * len(shown)
            parts.append(rejects_frame(rows[header], ids_shown, read[0], shown, REASON_HEADER))
        drop = bad | blank | totals | header
        if control.any():  # (ids holds them escaped)
            why = [control_reason(str(v)) for v in frame[id_header][control].tolist()]
            parts.append(rejects_frame(rows[control], ids[control], ID_COLUMN, ids[control], why))
            drop |= control
        # a row with a cell the reader could not read is an occurrence of its id all the same
        # (the index counts it): a repeat is one more of its problems
        counted = ~drop | (bad & ~control)
        dup, reasons = duplicates.reasons(ids[counted], rows[counted], policy)
        if dup.any():
            positions = np.flatnonzero(counted)[dup]
            parts.append(
                rejects_frame(rows[positions], ids[positions], ID_COLUMN, ids[positions], reasons)
            )
            drop[positions] = True
            repeated = positions
    kept = _as_columns(frame[~drop] if drop.any() else frame, mapping)
    rejects = pd.concat(parts, ignore_index=True) if parts else rejects_frame([], [], [], [], [])
    checked = None
    # the rows rejected for a repeated id, an id with a control character or an unread cell
    # have their other cells checked, an unread cell blank (its problem is said already)
    again = np.union1d(repeated, np.flatnonzero((bad | control) & ~not_a_firm)) if n else repeated
    if len(again):
        cells = frame.iloc[again].copy()
        blanked: dict[str, np.ndarray] = {}
        for unread in unreadable:
            these = unread.rows[np.isin(unread.rows, rows[again])]  # not a totals row's
            if len(these):
                at = np.searchsorted(rows[again], these)
                cells.iloc[at, cells.columns.get_loc(unread.column)] = None
                column = mapping.rename[unread.column]
                blanked[column] = np.union1d(blanked.get(column, these), these)
        if control[again].any():  # its problems name its id escaped, as the others do
            cells.loc[cells.index[control[again]], id_header] = ids[again][control[again]]
        checked = CheckedRows(_as_columns(cells, mapping), rows[again], blanked)
    return PreparedChunk(
        kept, rows[~drop], rejects, chunk.n_read, tuple(mapping.passthrough), checked
    )


def _as_columns(frame: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame:
    """The rows with only the columns read, named as the instrument's."""
    # only the columns read go on (an ignored header may be spelt as a column's code: renamed
    # beside it, two columns would have one name)
    read = [c for c in frame.columns if c in mapping.rename or c in mapping.passthrough]
    if len(read) < frame.shape[1]:
        frame = frame[read]
    return frame.rename(columns=mapping.rename).reset_index(drop=True)


def score_chunk(
    prepared: PreparedChunk,
    model: IndexModel,
    tier_model: TierModel | None = None,
    also: tuple[AlsoTarget, ...] = (),
) -> ChunkResult:
    """The scoring kernel of a prepared chunk: validate and score every row, add tiers and the
    comparable measures of each of ``also`` (:meth:`~dmi.scoring.crosswalk.AlsoTarget.scores`
    of the scored rows' answers, the cells the model read: the file is not read again).

    Pure: the same chunk and models give the same result in any process (local or a Dask
    worker). Rejects come sorted by row.
    """
    # every repeated id of the file is rejected through the duplicate index (a chunk scored
    # before the index was complete is scored again when one of its ids repeats): no check
    # within the chunk
    result = model.score_batch(prepared.frame, rows=prepared.rows, unique_ids=True)
    scores = result.scores
    if tier_model is not None:
        scores = _with_tiers(scores, tier_model)
    if prepared.passthrough:
        # the input's passthrough cells of the rows scored, found by their row numbers
        at = np.searchsorted(prepared.rows, result.rows)
        scores = scores.assign(
            **{c: prepared.frame[c].to_numpy(dtype=object)[at] for c in prepared.passthrough}
        )
    if also:
        scores = _with_also(scores, prepared, result.rows, also)
    found = [result.rejects]
    if prepared.checked is not None:  # the own problems of rows rejected already
        checked = prepared.checked
        problems = model.score_batch(checked.frame, rows=checked.rows, unique_ids=True).rejects
        found.append(checked.own_problems(problems, left_unanswered(model.instrument)))
    rejects = merged_rejects(prepared.rejects, *found)
    return ChunkResult(scores, rejects, prepared.n_read, result.imputed, result.excluded)


def merged_rejects(first: pd.DataFrame, *more: pd.DataFrame) -> pd.DataFrame:
    """Rejects of one chunk in one table, by row; a row's from ``first`` (the row checks')
    before the others."""
    parts = [r for r in (first, *more) if len(r)]
    if not parts:
        return more[0] if more else first
    if len(parts) == 1 and parts[0] is not first:  # the kernel's come sorted by row
        return parts[0]
    rejects = pd.concat(parts, ignore_index=True)
    return rejects.sort_values("row", kind="stable").reset_index(drop=True)


def _with_also(
    scores: pd.DataFrame,
    prepared: PreparedChunk,
    scored_rows: np.ndarray,
    also: tuple[AlsoTarget, ...],
) -> pd.DataFrame:
    """``scores`` with each target's columns (last, in the order of ``also``) of the rows
    scored, from their answers in the prepared chunk (found by their row numbers)."""
    frame = prepared.frame
    if len(scored_rows) < len(prepared.rows):  # some rows rejected: only the scored ones
        needed = {c for t in also for r in t.crosswalk.rules for c in r.sources}
        at = np.searchsorted(prepared.rows, scored_rows)
        frame = frame[[c for c in frame.columns if c in needed]].take(at)
    parts = [target.scores(frame).set_axis(scores.index) for target in also]
    return pd.concat([scores, *parts], axis=1)


def _with_tiers(scores: pd.DataFrame, tier_model: TierModel) -> pd.DataFrame:
    """Insert ``tier`` and ``tier_confidence`` right after the dimension scores."""
    if not len(scores):
        scores = scores.assign(
            tier=pd.Series(dtype="int64"), tier_confidence=pd.Series(dtype=float)
        )
        assigned = scores
    else:
        assigned = tier_model.assign(scores, missing="na")
    dims = [c for c in scores.columns if c.startswith("dim_")]
    base = [c for c in scores.columns if c not in ("tier", "tier_confidence")]
    at = base.index(dims[-1]) + 1 if dims else len(base)
    order = base[:at] + ["tier", "tier_confidence"] + base[at:]
    return assigned[order]


def output_columns(
    model: IndexModel,
    tier_model: TierModel | None = None,
    passthrough: tuple[str, ...] = (),
    raw_columns: Iterable[str] = (),
    also: tuple[AlsoTarget, ...] = (),
) -> list[str]:
    """The columns of the scores table, in order (see :meth:`~dmi.IndexModel.output_columns`),
    the input's ``passthrough`` columns, then each of ``also``'s columns. ``raw_columns`` are
    the instrument columns the file's header gives (so every chunk of one file has the same
    columns)."""
    instrument = model.instrument_
    columns = ["respondent_id", *model.output_columns(raw_columns)]
    columns += [f"dim_{d.code}" for d in instrument.dimensions]
    if tier_model is not None:
        columns += ["tier", "tier_confidence"]
    columns += [f.code for f in instrument.profile if f.peer_group]
    return columns + list(passthrough) + [c for target in also for c in target.columns]


@dataclass
class ChunkTask:
    """A chunk as the run hands it to an engine, with what is known of the file's repeated ids.

    ``duplicates`` is the file's :class:`~dmi.bulk.duplicates.DuplicateIndex`, or the duplicate
    pass still finding it (a future). In a run that reads the file once, the index is empty and
    ``ledger`` notes the chunk's ids (``number`` is its place in the file).

    An engine that scores in this process calls :meth:`run`: while the pass runs, the chunk is
    scored at once as if no id repeated, and scored again when one of its ids turns out to. An
    engine that ships chunks elsewhere calls :meth:`prepare`, which waits for the pass. Either
    way the result is what :func:`prepare_chunk` with the finished index then
    :func:`score_chunk` give.
    """

    chunk: Chunk
    mapping: ColumnMapping
    policy: str
    headers: list[str]
    duplicates: DuplicateIndex | Future[DuplicateIndex]
    number: int = 0
    ledger: IdLedger | None = None
    stop: threading.Event | None = None

    @property
    def n_read(self) -> int:
        """The rows the reader met in the chunk."""
        return self.chunk.n_read

    def prepare(self) -> PreparedChunk:
        """The chunk after the row checks, with the file's index (waits for the pass)."""
        if self.ledger is not None:
            self.ledger.add(self.number, self.chunk)
        return self._prepared(self._index())

    def run(self, kernel: Kernel) -> ChunkResult:
        """:meth:`prepare` then ``kernel``, without waiting for the pass to start."""
        pending = isinstance(self.duplicates, Future) and not self.duplicates.done()
        if not pending:
            return kernel(self.prepare())
        result = kernel(self._prepared(DuplicateIndex()))
        index = self._index()
        if index.repeats(self._ids()).any():
            result = kernel(self._prepared(index))
        return result

    def _prepared(self, duplicates: DuplicateIndex) -> PreparedChunk:
        return prepare_chunk(self.chunk, self.mapping, duplicates, self.policy, self.headers)

    def _index(self) -> DuplicateIndex:
        """The file's index, once the pass ends (RunStopped if the run stops first)."""
        if not isinstance(self.duplicates, Future):
            return self.duplicates
        while True:
            try:
                return self.duplicates.result(timeout=0.05)
            except TimeoutError:
                if self.stop is not None and self.stop.is_set():
                    raise RunStopped("the run ended before the duplicate pass") from None

    def _ids(self) -> np.ndarray:
        id_header = self.mapping.id_header
        if id_header is None:
            return np.empty(0, dtype=object)
        return id_text(self.chunk.frame[id_header])

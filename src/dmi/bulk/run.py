"""Scoring whole files: read in chunks, map headers, validate, score, write, reconcile.

Every row of the input ends in exactly one of two places, and the counts say so
(``read == scored + rejected``):

- the scores file, or
- the rejects file (``row, respondent_id, column, value, reason``), for one of these reasons:
  a blank line, a line that looks like a totals row (合计/总计/Total ...), a ragged line (too many
  or too few fields), a line of a stretch an unclosed quote swallowed (``unbalanced quote from
  line N to M``), a cell the reader could not read in a column the run uses (an XLSX formula
  without a computed value or an error value, a Parquet list cell ...), a duplicated
  respondent id (per the ``duplicates`` policy), or any cell the instrument does not accept
  (all the row's problems are listed).

The three counts come from three places, so the check can fail: ``read`` from the reader, as it
hands out its chunks; ``scored`` from the scores writer, the rows it wrote; ``rejected`` from the
rejects writer, the distinct row numbers it wrote (counted even when no rejects file is asked
for). A run whose counts do not reconcile is a bug: it raises :class:`ReconciliationError`.

A run's outputs (scores, rejects, cohort, summary) appear together or not at all: each is written
beside its destination under a name no one takes for a result
(``.scores.csv.dmi-partial-1a2b3c4d``) and moved into place when the run has succeeded and its
counts reconcile, the summary last. A run that fails or is stopped removes them and leaves what
was at the destinations as it was.

Row numbers are spreadsheet row numbers: the header is row 1, and blank or ragged lines keep
their numbers. Duplicated ids are found across the whole file, so the policy works across chunks
with flat memory. The same kernel (:func:`score_chunk`, built on
:meth:`dmi.IndexModel.score_batch`) scores every chunk locally or on Dask
(:mod:`dmi.bulk.engines.dask`), so both engines write the same rows.

Locally the work overlaps in threads, because Arrow and numpy do most of it without holding the
GIL: the next chunk is read while two are scored, and the scores are written behind. How repeated
ids are found depends on the output:

- CSV (scores and rejects): the file is read once. Each chunk is scored as if no id repeated
  and its ids are noted; when the whole file has been read, the chunks holding an id that
  repeats are read and scored again, and their rows written over (most files repeat none).
  When the first chunk already repeats an id, the run takes the duplicate pass instead.
- otherwise, and on Dask: a cheap first pass over the id column (the duplicate pass) finds
  them. Locally it runs beside the first chunks, which are scored provisionally and scored again
  if one of their ids repeats.

Results come back in file order, so the output does not depend on the number of threads, the
chunk size or the way repeated ids were found.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmi.errors import ReconciliationError
from dmi.io import (
    Chunk,
    ColumnMapping,
    FileFormatError,
    PendingFile,
    TableReader,
    TableWriter,
    map_columns,
    open_table,
    require_item_columns,
    write_table,
)
from dmi.io.background import prefetched
from dmi.scoring.answers import ID_COLUMN, REJECT_COLUMNS, arrow_id_text, id_text
from dmi.scoring.model import IndexModel
from dmi.tiers import TierModel

__all__ = [
    "DUPLICATE_POLICIES",
    "TOTALS_WORDS",
    "ChunkResult",
    "DuplicateIndex",
    "PreparedChunk",
    "ReconciliationError",
    "RunStopped",
    "RunSummary",
    "find_duplicates",
    "prepare_chunk",
    "score_chunk",
    "score_file",
]

DUPLICATE_POLICIES = ("reject", "keep-first", "keep-last")

TOTALS_WORDS = frozenset(
    {"合计", "总计", "小计", "汇总", "总数", "total", "totals", "grandtotal", "sum", "subtotal"}
)
"""Words that mark a totals row when they are the whole id or first cell (case and spaces
ignored): spreadsheets exported by agencies often end with one."""

REASON_BLANK = "blank line"
REASON_TOTALS = "looks like a totals row"


@dataclass
class RunSummary:
    """What happened to every row of an input file (``read == scored + rejected``).

    ``read`` is the reader's count of the rows it met; ``scored`` and ``rejected`` are the
    writers' counts of the rows they wrote (``rejected`` counts distinct row numbers), so
    :attr:`reconciles` checks the outputs against the input. :func:`score_file` writes no
    output of a run that does not reconcile.

    ``rejected_by_reason`` counts problems (a rejected row may have several);
    ``rejected_rows_by_reason`` counts each rejected row once, under its first problem, so its
    values add up to ``rejected``. ``tiers`` counts the scored rows that have a tier (a row
    with a dimension left out has none). Every mapping is in the same order whatever the chunk
    size, so the summary JSON is too.

    ``lines`` is the number of physical lines after the header that the reader met in a CSV
    file (None for XLSX and Parquet): at least ``read``, more by the line breaks inside quoted
    cells of rows read whole. ``encoding`` is the one the file was read in, and ``notes`` say
    what the reader had to decide (a guessed UTF-8 read as GB18030 from some line on).
    """

    input: str
    output: str
    instrument: str
    method: dict[str, Any]
    read: int = 0
    scored: int = 0
    rejected: int = 0
    problems: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rejected_rows_by_reason: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    tiers: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    lines: int | None = None
    notes: list[str] = field(default_factory=list)
    sheet: str | None = None
    duplicates: str = "reject"
    engine: str = "local"
    unmatched_columns: list[str] = field(default_factory=list)
    missing_items: list[str] = field(default_factory=list)
    mapping: dict[str, Any] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        return self.read == self.scored + self.rejected

    def to_json(self) -> str:
        return json.dumps(
            asdict(self) | {"reconciles": self.reconciles}, ensure_ascii=False, indent=1
        )

    def line(self) -> str:
        """The one-line reconciliation printed at the end of a run."""
        source = f" from sheet {self.sheet!r}" if self.sheet is not None else ""
        text = (
            f"read {self.read} rows{source}: {self.scored} scored, {self.rejected} rejected"
            f" ({self.problems} problems)"
        )
        imputed = sum(self.imputed.values())
        if imputed:
            text += f"; {imputed} missing answers scored as lowest (instrument policy)"
        excluded = sum(self.excluded.values())
        if excluded:
            text += f"; {excluded} missing answers excluded and reweighted (instrument policy)"
        return text


def _reason_key(reason: str) -> str:
    """Group reasons that differ only by detail (row lists, field counts) for the summary."""
    for prefix in ("duplicate respondent_id", "ragged row", "unbalanced quote"):
        if reason.startswith(prefix):
            return prefix
    return reason


def _totals_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).casefold().split()).rstrip(":：")


def _looks_like_totals(values: pd.Series) -> np.ndarray:
    out = np.zeros(len(values), dtype=bool)
    if not len(values):
        return out
    text = values.astype("str") if values.dtype == object else values
    # ids carry digits and totals words do not: only the few digit-free cells are looked at
    candidates = np.flatnonzero(
        (text.notna() & ~text.str.contains(r"[0-9０-９]", regex=True)).to_numpy(dtype=bool)
    )
    if len(candidates):
        subset = values.iloc[candidates]
        codes, uniques = pd.factorize(subset, use_na_sentinel=True)
        flags = np.array(
            [isinstance(v, str) and _totals_key(v) in TOTALS_WORDS for v in uniques] + [False],
            dtype=bool,
        )
        out[candidates] = flags[codes]
    return out


# -- duplicates --------------------------------------------------------------------------------


@dataclass
class DuplicateIndex:
    """Rows of every respondent id that occurs more than once in a file.

    Attributes
    ----------
    rows
        Normalised id -> its row numbers, ascending (only ids seen twice or more).
    """

    rows: dict[str, list[int]] = field(default_factory=dict)

    def repeats(self, ids: np.ndarray) -> np.ndarray:
        """Which of these normalised ids repeat in the file."""
        if not self.rows:
            return np.zeros(len(ids), dtype=bool)
        return pd.Series(ids, dtype=object).isin(self.rows.keys()).to_numpy()

    def reasons(self, ids: np.ndarray, rows: np.ndarray, policy: str) -> tuple[np.ndarray, list]:
        """Which of these rows the policy rejects, and why (naming the other rows)."""
        reject = np.zeros(len(ids), dtype=bool)
        reasons: list[str] = []
        if not self.rows:
            return reject, reasons
        candidates = np.flatnonzero(self.repeats(ids))
        for i in candidates.tolist():
            rid, row = ids[i], int(rows[i])
            same = self.rows[rid]
            if policy == "keep-first" and row == same[0]:
                continue
            if policy == "keep-last" and row == same[-1]:
                continue
            reject[i] = True
            if policy == "reject":
                others = [r for r in same if r != row]
                shown = ", ".join(map(str, others[:5])) + (" ..." if len(others) > 5 else "")
                reasons.append(f"duplicate respondent_id (also on rows {shown})")
            else:
                kept = same[0] if policy == "keep-first" else same[-1]
                reasons.append(f"duplicate respondent_id (row {kept} is kept: {policy})")
        return reject, reasons


class RunStopped(RuntimeError):
    """The run was stopped (an error elsewhere, or the caller gave up) before this finished."""


def _id_keys(column: pd.Series, rows: np.ndarray) -> tuple[Any, np.ndarray]:
    """A chunk's normalised ids and their row numbers, as the duplicate index counts them.

    Blank ids and totals rows are left out (they are rejected for their own reason). The ids
    stay in Arrow (a CSV's text column): only the repeated ones become Python text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = arrow_id_text(column)
    if ids is None:
        ids = pa.array(id_text(column), type=pa.large_string())
    keep = (np.asarray(pc.binary_length(ids)) > 0) & ~_looks_like_totals(column)
    return ids.filter(keep).cast(pa.large_string()), rows[keep]


def _repeated_ids(keys: list[Any], numbers: list[np.ndarray]) -> tuple[DuplicateIndex, np.ndarray]:
    """The index of the ids that occur more than once among ``keys`` (from :func:`_id_keys`),
    and the positions of their rows in the keys laid end to end."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not keys:
        return DuplicateIndex(), np.empty(0, dtype=np.intp)
    all_ids = pa.chunked_array(keys, type=pa.large_string()).combine_chunks()
    all_rows = np.concatenate(numbers)
    codes = np.asarray(pc.dictionary_encode(all_ids).indices, dtype=np.int64)  # without the GIL
    repeated = np.flatnonzero(np.bincount(codes)[codes] > 1) if len(codes) else codes
    index: dict[str, list[int]] = {}
    for rid, row in zip(all_ids.take(repeated).to_pylist(), all_rows[repeated].tolist()):
        index.setdefault(rid, []).append(row)
    for rows in index.values():
        rows.sort()
    return DuplicateIndex(index), repeated


def find_duplicates(
    reader: TableReader, id_header: str | None, stop: threading.Event | None = None
) -> DuplicateIndex:
    """The cheap first pass: read only the id column and find the ids that repeat.

    Blank ids and totals rows are left out (they are rejected for their own reason). Memory
    is one text column of the file, not the file. When ``stop`` is set, the pass ends at the
    next chunk with :class:`RunStopped`.
    """
    if id_header is None:
        return DuplicateIndex()
    keys: list[Any] = []
    numbers: list[np.ndarray] = []
    for chunk in reader.chunks(columns=[id_header]):
        if stop is not None and stop.is_set():
            raise RunStopped("the duplicate pass was stopped: the run ended before it")
        ids, rows = _id_keys(chunk.frame[id_header], chunk.rows)
        keys.append(ids)
        numbers.append(rows)
    return _repeated_ids(keys, numbers)[0]


# -- the per-chunk steps ------------------------------------------------------------------------


@dataclass
class PreparedChunk:
    """A chunk after the file-level checks: the rows to score, and the rows already rejected."""

    frame: pd.DataFrame
    rows: np.ndarray
    rejects: pd.DataFrame
    n_read: int


@dataclass
class ChunkResult:
    """What the kernel made of one prepared chunk."""

    scores: pd.DataFrame
    rejects: pd.DataFrame
    n_read: int
    imputed: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)


def _rejects_frame(rows: Any, ids: Any, columns: Any, values: Any, reasons: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": np.asarray(rows, dtype=np.int64),
            "respondent_id": list(ids),
            "column": columns if isinstance(columns, str) else list(columns),
            "value": list(values),
            "reason": reasons if isinstance(reasons, str) else list(reasons),
        },
        columns=REJECT_COLUMNS,
    )


def _all_blank(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is blank, column by column (no frame of flags is built)."""
    blank = np.ones(len(frame), dtype=bool)
    for _, column in frame.items():
        blank &= column.isna().to_numpy()
        if not blank.any():
            break
    return blank


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
        parts.append(
            _rejects_frame(
                [r.row for r in chunk.ragged],
                [
                    (r.fields[id_at].strip() if id_at is not None and id_at < len(r.fields) else "")
                    for r in chunk.ragged
                ],
                [r.column for r in chunk.ragged],
                [",".join(r.fields)[:200] for r in chunk.ragged],
                [r.reason for r in chunk.ragged],
            )
        )
    frame = chunk.frame
    rows = chunk.rows
    n = len(frame)
    drop = np.zeros(n, dtype=bool)
    # cells the reader could not read (a formula without a value ...) in the columns used
    unreadable = [cells for cells in chunk.unreadable if cells.column in mapping.rename]
    if n:
        bad = np.zeros(n, dtype=bool)
        for cells in unreadable:
            bad[np.searchsorted(rows, cells.rows)] = True
        blank = _all_blank(frame) & ~bad
        if len(frame.columns):
            first = frame.iloc[:, 0]
            totals = _looks_like_totals(first)
            if id_header is not None and id_header != frame.columns[0]:
                totals |= _looks_like_totals(frame[id_header])
        else:
            totals = np.zeros(n, dtype=bool)
        totals &= ~blank & ~bad
        # the ids are needed only for rows rejected here (rare): made only then
        needs_ids = bad.any() or blank.any() or totals.any() or bool(duplicates.rows)
        ids = (
            id_text(frame[id_header])
            if id_header is not None and needs_ids
            else np.full(n, "", dtype=object)
        )
        for cells in unreadable:
            at = np.searchsorted(rows, cells.rows)
            parts.append(
                _rejects_frame(cells.rows, ids[at], cells.column, cells.shown(), cells.reason)
            )
        if blank.any():
            parts.append(
                _rejects_frame(rows[blank], ids[blank], "", [""] * blank.sum(), REASON_BLANK)
            )
        if totals.any():
            shown = frame.iloc[:, 0][totals].astype(object).where(lambda s: s.notna(), "")
            parts.append(
                _rejects_frame(
                    rows[totals], ids[totals], headers[0], shown.astype(str), REASON_TOTALS
                )
            )
        drop = bad | blank | totals
        dup, reasons = duplicates.reasons(ids[~drop], rows[~drop], policy)
        if dup.any():
            positions = np.flatnonzero(~drop)[dup]
            parts.append(
                _rejects_frame(rows[positions], ids[positions], ID_COLUMN, ids[positions], reasons)
            )
            drop[positions] = True
    kept = frame[~drop] if drop.any() else frame
    kept = kept.rename(columns=mapping.rename).reset_index(drop=True)
    rejects = pd.concat(parts, ignore_index=True) if parts else _rejects_frame([], [], [], [], [])
    return PreparedChunk(kept, rows[~drop], rejects, chunk.n_read)


def score_chunk(
    prepared: PreparedChunk, model: IndexModel, tier_model: TierModel | None = None
) -> ChunkResult:
    """The scoring kernel of a prepared chunk: validate and score every row, add tiers.

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
    rejects = result.rejects
    if len(prepared.rejects):
        rejects = pd.concat(
            [prepared.rejects, rejects] if len(rejects) else [prepared.rejects],
            ignore_index=True,
        )
        rejects = rejects.sort_values("row", kind="stable").reset_index(drop=True)
    return ChunkResult(scores, rejects, prepared.n_read, result.imputed, result.excluded)


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


def output_columns(model: IndexModel, tier_model: TierModel | None = None) -> list[str]:
    """The columns of the scores table, in order (see :meth:`~dmi.IndexModel.output_columns`)."""
    instrument = model.instrument_
    columns = ["respondent_id", *model.output_columns()]
    columns += [f"dim_{d.code}" for d in instrument.dimensions]
    if tier_model is not None:
        columns += ["tier", "tier_confidence"]
    columns += [f.code for f in instrument.profile if f.peer_group]
    return columns


def _output_schema(model: IndexModel, tier_model: TierModel | None) -> Any:
    import pyarrow as pa

    numbers = {f.code for f in model.instrument_.profile if f.type == "number"}
    fields = []
    for name in output_columns(model, tier_model):
        if name in ("level", "indicative_level", "tier"):
            kind = pa.int64()
        elif (
            name in ("dmi", "bod_uncapped", "official_dmi", "tier_confidence")
            or name.startswith("dim_")
            or name in numbers
        ):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)


def _rejects_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [pa.field(c, pa.int64() if c == "row" else pa.string()) for c in REJECT_COLUMNS]
    )


# -- the whole file ----------------------------------------------------------------------------


def _ordered_map(
    function: Callable[[Any], Any],
    items: Iterable[Any],
    threads: int,
    stop: threading.Event | None = None,
) -> Iterator[Any]:
    """``map(function, items)`` on ``threads`` threads, in order, ``threads`` items in flight.

    Closing it (or an error, or Ctrl-C while it waits) sets ``stop``, for work that waits on
    something else to give up, lets the work in flight end and closes ``items``.
    """
    try:
        if threads <= 1:
            yield from map(function, items)
            return
        pending: list[Future[Any]] = []
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dmi-score") as pool:
            try:
                for item in items:
                    pending.append(pool.submit(function, item))
                    if len(pending) >= threads:
                        yield pending.pop(0).result()
                while pending:
                    yield pending.pop(0).result()
            finally:
                if stop is not None:
                    stop.set()
                for future in pending:
                    future.cancel()
    finally:
        if hasattr(items, "close"):
            items.close()


class _BackgroundWrites:
    """Writes run in one background thread, in order, one chunk behind the scoring.

    Arrow's CSV writer works without the GIL; a failed write (a full disk, say) is raised at
    the next :meth:`submit` or at :meth:`finish`.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dmi-write")
        self._pending: Future[Any] | None = None

    def submit(self, write: Callable[..., Any], *args: Any) -> None:
        self.wait()
        self._pending = self._executor.submit(write, *args)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def finish(self) -> None:
        try:
            self.wait()
        finally:
            self._executor.shutdown(wait=True)


def _counts(values: pd.Series) -> dict[Any, int]:
    """How often each value occurs (blanks left out), without a Python object per row."""
    counted = values.value_counts(dropna=True, sort=False)
    return {k.item() if hasattr(k, "item") else k: int(v) for k, v in counted.items()}


@dataclass
class _Tally:
    """What chunks add to a run's summary, but for the counts that reconcile: the reader counts
    the rows read (:class:`_ReadCount`), the writers the rows written (:class:`_Outputs`)."""

    problems: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    row_reasons: Counter[str] = field(default_factory=Counter)
    levels: Counter[Any] = field(default_factory=Counter)
    tiers: Counter[Any] = field(default_factory=Counter)
    imputed: Counter[str] = field(default_factory=Counter)
    excluded: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, result: ChunkResult) -> _Tally:
        scores, rejects = result.scores, result.rejects
        tally = cls(problems=len(rejects))
        if len(rejects):
            tally.reasons.update(_reason_key(r) for r in rejects["reason"])
            firsts = rejects.drop_duplicates("row")["reason"]
            tally.row_reasons.update(_reason_key(r) for r in firsts)
        tally.levels.update(_counts(scores["level"]))
        if "tier" in scores:
            tally.tiers.update(_counts(scores["tier"]))
        tally.imputed.update(result.imputed)
        tally.excluded.update(result.excluded)
        return tally

    @classmethod
    def total(cls, tallies: Iterable[_Tally]) -> _Tally:
        total = cls()
        for tally in tallies:
            total.problems += tally.problems
            for name in ("reasons", "row_reasons", "levels", "tiers", "imputed", "excluded"):
                getattr(total, name).update(getattr(tally, name))
        return total

    def fill(self, summary: RunSummary, instrument: Any) -> None:
        """Set the summary's problem counts, every mapping in an order that does not depend on
        the chunk size."""
        summary.problems = self.problems
        summary.rejected_by_reason = _most_common_first(self.reasons)
        summary.rejected_rows_by_reason = _most_common_first(self.row_reasons)
        summary.levels = {str(k): v for k, v in sorted(self.levels.items())}
        summary.tiers = {str(k): v for k, v in sorted(self.tiers.items())}
        # in the instrument's item order: the order they were met in depends on the chunk size
        items = [i.code for i in instrument.items]
        summary.imputed = {c: self.imputed[c] for c in items if c in self.imputed}
        summary.excluded = {c: self.excluded[c] for c in items if c in self.excluded}


def _most_common_first(counts: Counter[str]) -> dict[str, int]:
    """Most common first, ties by name."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _finish_run(
    stop: threading.Event, results: Any, writes: _BackgroundWrites, outputs: _Outputs
) -> None:
    """End a run's threads (at once when it stopped early), then finish the files."""
    stop.set()
    if hasattr(results, "close"):
        results.close()
    try:
        writes.finish()
    finally:
        outputs.scores.close()
        outputs.rejects.close()


def _write_chunk(outputs: _Outputs, scores: pd.DataFrame, rejects: pd.DataFrame | None) -> None:
    outputs.scores.write(scores)
    if rejects is not None:
        outputs.rejects.write(rejects)


def _rows_read(chunk: Chunk) -> int:
    """The rows the reader met in ``chunk``, well-formed or ragged: the run's ``read``.

    The one place the ``read`` of the reconciliation is taken from: the records of the file as
    the reader handed them out. When the reader also counts the physical lines it met
    (``Chunk.lines`` for CSV), that count plugs in here, so that a line swallowed into another
    record cannot go uncounted either.
    """
    return chunk.n_read


class _ReadCount:
    """The chunks of a run's one read of the file, counting the rows read as they are handed out.

    Counted before any step of the run sees the chunk, so a row or a whole chunk lost between
    the reader and the files shows in the reconciliation (scored and rejected are counted by the
    writers). Chunks read again to redo repeated ids are not counted: they are read once more
    from the reader, not through this.
    """

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        self._chunks = chunks
        self.rows = 0

    def __iter__(self) -> Iterator[Chunk]:
        for chunk in self._chunks:
            self.rows += _rows_read(chunk)
            yield chunk


class _Outputs:
    """A run's output files, written beside their destinations (:class:`dmi.io.PendingFile`)
    and moved into place together when the run succeeded, the summary last; removed otherwise.

    The rejects always have a writer: without a rejects file it only counts, so the rejected
    rows are counted the same way whether they are written or not.
    """

    def __init__(
        self,
        scores_path: str | Path,
        rejects_path: str | Path | None,
        cohort_path: str | Path | None,
        summary_path: str | Path | None,
        columns: list[str],
        schema: Any,
    ) -> None:
        named = [Path(p) for p in (scores_path, rejects_path, cohort_path, summary_path) if p]
        seen: dict[str, Path] = {}
        for path in named:
            real = os.path.realpath(path)
            if real in seen:
                raise ValueError(f"two outputs are the same file: {seen[real]} and {path}")
            seen[real] = path
        self.written: list[Path] = []
        self._files: list[Any] = []  # in the order they are moved into place
        try:
            self.scores = self._add(TableWriter(scores_path, columns, schema=schema))
            self.rejects = self._add(
                TableWriter(
                    rejects_path, REJECT_COLUMNS, schema=_rejects_schema(), count_distinct="row"
                )
            )
            self.cohort = self._add(PendingFile(cohort_path)) if cohort_path else None
            self.summary = self._add(PendingFile(summary_path)) if summary_path else None
        except BaseException:
            self.discard()
            raise

    def _add(self, file: Any) -> Any:
        self._files.append(file)
        return file

    def commit(self) -> None:
        """Move every file into place, the summary last."""
        for file in self._files:
            if isinstance(file, TableWriter) and file.pending is None:
                continue
            file.commit()
            self.written.append(file.path if isinstance(file, TableWriter) else file.destination)

    def discard(self) -> None:
        """Remove the files not moved into place."""
        for file in self._files:
            with contextlib.suppress(Exception):
                file.discard()

    def note(self) -> str:
        """What a failed run says about its outputs."""
        if not self.written:
            return "no output was written"
        return (
            f"only {', '.join(map(str, self.written))} had been moved into place; "
            "the other outputs were not written"
        )


def prepared_chunks(
    reader: TableReader,
    mapping: ColumnMapping,
    policy: str = "reject",
    chunks: Iterable[Chunk] | None = None,
) -> Iterator[PreparedChunk]:
    """The file's chunks (``chunks``, by default the reader's) after the file-level checks
    (runs the duplicate pass first)."""
    id_header = mapping.id_header
    duplicates = find_duplicates(reader, id_header)
    for chunk in reader.chunks() if chunks is None else chunks:
        yield prepare_chunk(chunk, mapping, duplicates, policy, reader.columns)


@dataclass
class _Provisional:
    """A chunk read while the duplicate pass is still running (see :func:`_overlapped_chunks`).

    It is scored as if no id of the file repeated. When the pass ends and one of the chunk's ids
    does repeat, the chunk is prepared and scored again with the pass's index: the result is
    always what :func:`prepare_chunk` with the finished index then :func:`score_chunk` give.
    """

    chunk: Chunk
    mapping: ColumnMapping
    policy: str
    headers: list[str]
    duplicates: Future[DuplicateIndex]
    stop: threading.Event | None = None

    def score(self, model: IndexModel, tier_model: TierModel | None) -> ChunkResult:
        result = score_chunk(self._prepared(DuplicateIndex()), model, tier_model)
        index = self._index()
        if index.repeats(self._ids()).any():
            result = score_chunk(self._prepared(index), model, tier_model)
        return result

    def _prepared(self, duplicates: DuplicateIndex) -> PreparedChunk:
        return prepare_chunk(self.chunk, self.mapping, duplicates, self.policy, self.headers)

    def _index(self) -> DuplicateIndex:
        """The duplicate pass's index, once it ends (RunStopped if the run stops first)."""
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


def _overlapped_chunks(
    reader: TableReader,
    mapping: ColumnMapping,
    policy: str = "reject",
    stop: threading.Event | None = None,
    chunks: Iterable[Chunk] | None = None,
) -> Iterator[PreparedChunk | _Provisional]:
    """:func:`prepared_chunks`, with the duplicate pass in a thread beside the first chunks.

    The pass reads only the id column (about a second for a million rows, all of it before the
    first row could be scored); the chunks read meanwhile are scored provisionally.
    """
    id_header = mapping.id_header
    chunks = reader.chunks() if chunks is None else chunks
    if id_header is None:
        for chunk in chunks:
            yield prepare_chunk(chunk, mapping, DuplicateIndex(), policy, reader.columns)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dmi-duplicates") as pool:
        duplicates = pool.submit(find_duplicates, reader, id_header, stop)
        for chunk in chunks:
            if duplicates.done():
                yield prepare_chunk(chunk, mapping, duplicates.result(), policy, reader.columns)
            else:
                yield _Provisional(chunk, mapping, policy, reader.columns, duplicates, stop)


class _IdLedger:
    """The ids of the chunks of a run that has no duplicate pass (see :func:`_optimistic_chunks`).

    Each chunk adds its ids as it is scored. Once the reader has said how many chunks the file
    has (:meth:`expect`) and all of them have, the ids that repeat are worked out in a thread,
    beside the scoring and writing of the last chunks; :meth:`settle` gives the result.
    """

    def __init__(self, id_header: str) -> None:
        self.id_header = id_header
        self.active = True  # False when the run took the duplicate pass after all
        self._keys: dict[int, tuple[Any, np.ndarray]] = {}
        self._lock = threading.Lock()
        self._total: int | None = None
        self._settled: Future[tuple[DuplicateIndex, list[int]]] | None = None

    def add(self, number: int, chunk: Chunk) -> tuple[Any, np.ndarray]:
        """Note the ids of chunk ``number`` (once), and return them as :func:`_id_keys` does."""
        keys = self._keys.get(number)
        if keys is None:
            keys = _id_keys(chunk.frame[self.id_header], chunk.rows)
            with self._lock:
                self._keys[number] = keys
                self._start_when_complete()
        return keys

    def expect(self, total: int) -> None:
        """The file has ``total`` chunks."""
        with self._lock:
            self._total = total
            self._start_when_complete()

    def settle(self) -> tuple[DuplicateIndex, list[int]]:
        """The index of the ids that repeat in the file, and the chunks holding one of them."""
        with self._lock:
            settled = self._settled
        return self._repeats() if settled is None else settled.result()

    def _start_when_complete(self) -> None:
        if self._settled is None and len(self._keys) == self._total:
            settled = self._settled = Future()

            def work() -> None:
                try:
                    settled.set_result(self._repeats())
                except BaseException as exc:  # raised by settle()
                    settled.set_exception(exc)

            threading.Thread(target=work, name="dmi-ledger", daemon=True).start()

    def _repeats(self) -> tuple[DuplicateIndex, list[int]]:
        numbers = sorted(self._keys)
        index, repeated = _repeated_ids(
            [self._keys[j][0] for j in numbers], [self._keys[j][1] for j in numbers]
        )
        chunk_of = np.repeat(
            np.array(numbers, dtype=np.intp), [len(self._keys[j][1]) for j in numbers]
        )
        return index, sorted(set(chunk_of[repeated].tolist()))


@dataclass
class _Optimistic:
    """A chunk of a run without a duplicate pass, scored as if no id of the file repeated.

    Its ids go to the run's :class:`_IdLedger`. A chunk with an id that turns out to repeat is
    read and scored again once the whole file has been (:func:`_rescore_repeats`), so the end
    result is what :func:`prepare_chunk` with the file's index then :func:`score_chunk` give.
    """

    number: int
    chunk: Chunk
    mapping: ColumnMapping
    policy: str
    headers: list[str]
    ledger: _IdLedger

    def score(self, model: IndexModel, tier_model: TierModel | None) -> ChunkResult:
        self.ledger.add(self.number, self.chunk)
        prepared = prepare_chunk(
            self.chunk, self.mapping, DuplicateIndex(), self.policy, self.headers
        )
        return score_chunk(prepared, model, tier_model)


def _optimistic_chunks(
    reader: TableReader,
    mapping: ColumnMapping,
    policy: str,
    stop: threading.Event | None,
    ledger: _IdLedger,
    chunks: Iterable[Chunk] | None = None,
) -> Iterator[PreparedChunk | _Provisional | _Optimistic]:
    """The file's chunks for a run that reads the file once, without the duplicate pass.

    Most files repeat no id, and the pass is a whole read of the file, run beside the first
    chunks on the cores they need. So each chunk is scored at once and its ids noted; the few
    chunks that hold an id repeated elsewhere are scored again at the end. When the first
    chunk already repeats an id, the file is one with many repeats, and the run takes the
    duplicate pass instead (:func:`_overlapped_chunks`): scoring most chunks twice costs more.
    """
    import pyarrow.compute as pc

    chunks = iter(reader.chunks() if chunks is None else chunks)
    first = next(chunks, None)
    if first is None:
        return
    ids, _ = ledger.add(0, first)
    if pc.count_distinct(ids).as_py() < len(ids):
        ledger.active = False
        yield from _overlapped_chunks(
            reader, mapping, policy, stop, itertools.chain([first], chunks)
        )
        return
    total = 0
    for number, chunk in enumerate(itertools.chain([first], chunks)):
        yield _Optimistic(number, chunk, mapping, policy, reader.columns, ledger)
        total = number + 1
    ledger.expect(total)


def _redo_repeats(
    reader: TableReader,
    mapping: ColumnMapping,
    policy: str,
    ledger: _IdLedger,
    n_read: list[int],
    score: Callable[[Any], ChunkResult],
    threads: int,
    writes: _BackgroundWrites,
    outputs: _Outputs,
) -> dict[int, ChunkResult]:
    """:func:`_rescore_repeats`, then the new rows written over the old ones.

    The files are still pending: when this fails or is stopped, the run removes them, so rows
    scored before the repeats were known never look final.
    """
    redone = _rescore_repeats(reader, mapping, policy, ledger, n_read, score, threads)
    writes.wait()
    outputs.scores.replace_writes({j: r.scores for j, r in redone.items()})
    outputs.rejects.replace_writes({j: r.rejects for j, r in redone.items()})
    return redone


def _rewritable(*writers: TableWriter) -> bool:
    """Whether these outputs' earlier chunks can be written again (CSV files, and a writer
    that only counts, can)."""
    return all(w.kind in ("csv", "none") for w in writers)


def _rescore_repeats(
    reader: TableReader,
    mapping: ColumnMapping,
    policy: str,
    ledger: _IdLedger,
    n_read: list[int],
    score: Callable[[Any], ChunkResult],
    threads: int,
) -> dict[int, ChunkResult]:
    """Score again, with the file's duplicate index, the chunks holding an id that repeats.

    ``n_read`` is the number of rows each chunk read the first time: the file is read again
    and must give the same chunks. Returns the new results by chunk number.
    """
    index, affected = ledger.settle()
    if not affected:
        return {}
    wanted = set(affected)

    changed = FileFormatError(
        f"{reader.path}: the file changed while it was being scored; score it again"
    )

    def again() -> Iterator[PreparedChunk]:
        for number, chunk in enumerate(reader.chunks()):
            if number in wanted:
                if number >= len(n_read) or chunk.n_read != n_read[number]:
                    raise changed
                yield prepare_chunk(chunk, mapping, index, policy, reader.columns)
            if number == affected[-1]:
                return
        raise changed  # the file ended before the last of them

    return dict(zip(affected, _ordered_map(score, prefetched(again()), threads), strict=True))


def _score_local(
    item: PreparedChunk | _Provisional | _Optimistic,
    model: IndexModel,
    tier_model: TierModel | None,
) -> ChunkResult:
    if isinstance(item, (_Provisional, _Optimistic)):
        return item.score(model, tier_model)
    return score_chunk(item, model, tier_model)


def score_file(
    input_path: str | Path,
    output_path: str | Path,
    model: IndexModel,
    *,
    rejects_path: str | Path | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    column_map: dict[str, str] | None = None,
    chunk_rows: int = 100_000,
    progress: Callable[[int], None] | None = None,
    tier_model: TierModel | None = None,
    duplicates: str = "reject",
    cohort_path: str | Path | None = None,
    summary_path: str | Path | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    client: Any = None,
    threads: int | None = None,
) -> tuple[RunSummary, ColumnMapping]:
    """Score every row of an answers file and write the results, all of them or none.

    Every output is written beside its destination under a name no one takes for a result
    (``.scores.csv.dmi-partial-1a2b3c4d``, see :class:`dmi.io.PendingFile`) and moved into place
    only when the whole run succeeded and its counts reconcile, the summary last. A run that
    fails or is stopped (Ctrl-C) removes them: a file already at an output stays as it was, and
    the error carries the note "no output was written".

    Parameters
    ----------
    input_path, output_path : str or Path
        CSV/XLSX/Parquet in, CSV/XLSX/Parquet out (by extension).
    model : IndexModel
        A fitted :class:`~dmi.IndexModel`.
    rejects_path : str or Path, optional
        Where to write the rejects table (``row, respondent_id, column, value, reason``).
        Without it the rejected rows are still counted.
    encoding, sheet, column_map
        Passed to the reader and the header mapping.
    chunk_rows : int, default=100_000
        Rows per chunk: memory stays flat whatever the file size.
    progress : callable, optional
        Called with the number of rows done after each chunk.
    tier_model : TierModel, optional
        A fitted :class:`~dmi.tiers.TierModel` for the same instrument: adds ``tier`` and
        ``tier_confidence`` after the dimension scores.
    duplicates : {"reject", "keep-first", "keep-last"}, default="reject"
        ``reject`` (every occurrence of a repeated id, naming the other rows), ``keep-first``
        or ``keep-last`` (the first / last occurrence in the file is scored, the others are
        rejected).
    cohort_path : str or Path, optional
        Also write :func:`dmi.bulk.cohort.cohort_summary` of the scored rows here.
    summary_path : str or Path, optional
        Also write the :class:`RunSummary` here as JSON.
    engine : {"local", "dask"}, default="local"
        ``local`` or ``dask`` (the same kernel on a Dask cluster, see :mod:`dmi.bulk.engines.dask`).
    scheduler, client
        For ``engine="dask"``: a scheduler address, or a ``distributed.Client`` to use (without
        either, a LocalCluster is started for the run).
    threads : int, optional
        For the local engine: chunks scored at once, in threads (default 2, or 1 on a machine
        with one core). Arrow and numpy work without the GIL, so two threads use two cores
        for much of the work; the output is the same, in the same order, whatever the number.
        The next chunk is always read in the background, and the last one written.

    Returns
    -------
    summary : RunSummary
        What happened to every row: ``read`` as the reader counted the rows it met, ``scored``
        and ``rejected`` as the writers counted the rows they wrote (the rejects' distinct row
        numbers), so ``read == scored + rejected`` is a check, not a subtraction.
    mapping : ColumnMapping
        How the file's headers were matched.

    Raises
    ------
    FileFormatError
        The file cannot be read, or no column matches an item of the instrument.
    FileNotFoundError
        The input, or an output's folder, does not exist.
    ReconciliationError
        The counts do not add up: a bug in dmi (nothing is moved into place).
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(
            f"unknown duplicates policy {duplicates!r}; expected one of "
            f"{', '.join(DUPLICATE_POLICIES)}"
        )
    if engine not in ("local", "dask"):
        raise ValueError(f"unknown engine {engine!r}; expected local or dask")
    instrument = model.instrument_
    if tier_model is not None:
        tier_model.check_instrument(instrument)
    reader = open_table(input_path, encoding=encoding, sheet=sheet, chunk_rows=chunk_rows)
    mapping = map_columns(instrument, reader.columns, column_map)
    require_item_columns(mapping, instrument, input_path)
    summary = RunSummary(
        input=str(input_path),
        output=str(output_path),
        instrument=f"{instrument.id} {instrument.version}",
        method=model.params(),
        encoding=reader.encoding,
        delimiter=reader.delimiter,
        sheet=reader.sheet,
        duplicates=duplicates,
        engine=engine,
        unmatched_columns=mapping.unmatched,
        missing_items=mapping.missing_items,
        mapping=mapping.to_dict(),
    )
    columns = output_columns(model, tier_model)
    outputs = _Outputs(
        output_path,
        rejects_path,
        cohort_path,
        summary_path,
        columns,
        _output_schema(model, tier_model),
    )
    try:
        read = _ReadCount(reader.chunks())
        tallies, cohort_parts = _score_chunks(
            reader,
            mapping,
            model,
            tier_model,
            outputs,
            read,
            duplicates=duplicates,
            progress=progress,
            cohort=cohort_path is not None,
            engine=engine,
            scheduler=scheduler,
            client=client,
            threads=threads,
        )
        _Tally.total(tallies).fill(summary, instrument)
        # what the reader found out while reading (a changed encoding, the lines it met)
        summary.encoding, summary.lines, summary.notes = reader.encoding, reader.lines, reader.notes
        # the counts that reconcile, each from its own source
        summary.read = read.rows
        summary.scored = outputs.scores.rows
        summary.rejected = outputs.rejects.distinct
        if not summary.reconciles:
            raise ReconciliationError(summary)
        if outputs.cohort is not None:
            from dmi.bulk.cohort import cohort_summary

            collected = (
                pd.concat(cohort_parts, ignore_index=True)
                if cohort_parts
                else pd.DataFrame(columns=columns)
            )
            write_table(cohort_summary(collected), outputs.cohort)
        if outputs.summary is not None:
            outputs.summary.path.write_text(summary.to_json(), encoding="utf-8")
        outputs.commit()
    except BaseException as exc:
        outputs.discard()
        exc.add_note(outputs.note())
        raise
    return summary, mapping


def _score_chunks(
    reader: TableReader,
    mapping: ColumnMapping,
    model: IndexModel,
    tier_model: TierModel | None,
    outputs: _Outputs,
    read: _ReadCount,
    *,
    duplicates: str,
    progress: Callable[[int], None] | None,
    cohort: bool,
    engine: str,
    scheduler: str | None,
    client: Any,
    threads: int | None,
) -> tuple[list[_Tally], list[pd.DataFrame]]:
    """Score the chunks ``read`` hands out into the pending ``outputs`` (see
    :func:`score_file`); the tally of each chunk and, when ``cohort``, its cohort columns."""
    tallies: list[_Tally] = []  # chunk by chunk: a chunk scored again replaces its own
    n_read: list[int] = []
    cohort_parts: list[pd.DataFrame] = []
    stop = threading.Event()  # set when the run ends, however it ends: its threads stop too
    ledger: _IdLedger | None = None
    if engine == "dask":
        from dmi.bulk.engines.dask import score_chunks_dask

        results = score_chunks_dask(
            prepared_chunks(reader, mapping, duplicates, iter(read)),
            model,
            tier_model,
            scheduler=scheduler,
            client=client,
        )
    else:
        if threads is None:
            threads = min(2, os.cpu_count() or 1)
        score = partial(_score_local, model=model, tier_model=tier_model)
        # a CSV's earlier chunks can be written again: the file is read once (see
        # _optimistic_chunks); other outputs wait for the duplicate pass where they must
        id_header = mapping.id_header
        if id_header is not None and _rewritable(outputs.scores, outputs.rejects):
            ledger = _IdLedger(id_header)
            chunks = _optimistic_chunks(reader, mapping, duplicates, stop, ledger, iter(read))
        else:
            chunks = _overlapped_chunks(reader, mapping, duplicates, stop, iter(read))
        results = _ordered_map(score, prefetched(chunks), threads, stop)
    writes = _BackgroundWrites()
    try:
        done = 0
        for result in results:
            tallies.append(_Tally.of(result))
            n_read.append(result.n_read)
            # a run that may write chunks again writes each one's rejects, even none: the
            # k-th write of either file is then chunk k
            rejects = result.rejects if len(result.rejects) or ledger is not None else None
            writes.submit(_write_chunk, outputs, result.scores, rejects)
            if cohort:
                from dmi.bulk.cohort import cohort_columns

                cohort_parts.append(result.scores[cohort_columns(result.scores)])
            done += result.n_read
            if progress is not None:
                progress(done)
        if ledger is not None and ledger.active:
            redone = _redo_repeats(
                reader, mapping, duplicates, ledger, n_read, score, threads, writes, outputs
            )
            for j, result in redone.items():
                tallies[j] = _Tally.of(result)
                if cohort:
                    cohort_parts[j] = result.scores[cohort_parts[j].columns]
    except BaseException:
        # the first error is the one reported: a write failing while the run stops after it
        # (a full disk, say) would otherwise replace it
        with contextlib.suppress(Exception):
            _finish_run(stop, results, writes, outputs)
        raise
    _finish_run(stop, results, writes, outputs)
    return tallies, cohort_parts

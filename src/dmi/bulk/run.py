"""Scoring whole files: read in chunks, map headers, validate, score, write, reconcile.

Every row of the input ends in exactly one of two places, and the counts say so
(``read == scored + rejected``):

- the scores file, or
- the rejects file (``row, respondent_id, column, value, reason``), for one of these reasons:
  a blank line, a line that looks like a totals row (合计/总计/Total ...), a ragged line (too many
  or too few fields; in a sheet, a value in a column without a header), a line of a stretch an
  unclosed quote swallowed (``unbalanced quote from line N to M``), a cell the reader could not
  read in a column the run uses (an XLSX formula without a computed value, an error value or a
  number its format shows scaled, a Parquet list cell ...), a duplicated respondent id (per the
  ``duplicates`` policy; the row's cells are checked too), or any cell the instrument does not
  accept (all the row's problems are listed).

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
their numbers.

The run reads the file, hands its chunks to an engine and writes what comes back; the engine is
chosen in one place (:func:`_engine`): threads of this process (:mod:`dmi.bulk.engines.local`)
or a Dask cluster (:mod:`dmi.bulk.engines.dask`). Both run the same chunk kernel
(:mod:`dmi.bulk.kernel`), so both write the same rows. Locally the work overlaps in threads,
because Arrow and numpy do most of it without holding the GIL: the next chunk is read while two
are scored, and the scores are written behind.

Duplicated ids are found across the whole file, with flat memory, in one of two ways
(:mod:`dmi.bulk.duplicates`), chosen by the outputs, whatever the engine:

- CSV (scores and rejects): the file is read once. Each chunk is scored as if no id repeated
  and its ids are noted; when the whole file has been read, the chunks holding an id that
  repeats are read and scored again, and their rows written over (most files repeat none).
  This saves the duplicate pass's read of the file: about a fifth of the run on a million rows.
  When the first chunk already repeats an id, the run takes the duplicate pass instead.
- otherwise (XLSX or Parquet outputs): a cheap first pass over the id column (the duplicate
  pass) finds them, in a thread beside the first chunks, which the local engine scores
  provisionally (and again if one of their ids repeats); the Dask engine waits for it.

Results come back in file order, so the output does not depend on the engine, the number of
threads, the chunk size or the way repeated ids were found.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dmi.bulk.duplicates import DuplicateIndex, IdLedger, RunStopped, find_duplicates
from dmi.bulk.engines import Engine
from dmi.bulk.kernel import ChunkResult, ChunkTask, output_columns
from dmi.columns import REJECT_COLUMNS
from dmi.errors import ReconciliationError, UsageError
from dmi.instruments.crosswalk import Crosswalk
from dmi.io import (
    Chunk,
    ColumnMapping,
    FileFormatError,
    PendingFile,
    TableReader,
    TableWriter,
    check_output,
    require_items_read,
    write_table,
)
from dmi.io.background import prefetched
from dmi.io.tools import Source, map_source, open_source
from dmi.text import counted

if TYPE_CHECKING:  # the scoring model needs scikit-learn: imported where a run scores
    from dmi.scoring.crosswalk import AlsoTarget
    from dmi.scoring.model import IndexModel
    from dmi.tiers import TierModel

__all__ = [
    "DUPLICATE_POLICIES",
    "ReconciliationError",
    "RunStopped",
    "RunSummary",
    "check_outputs",
    "score_file",
]

DUPLICATE_POLICIES = ("reject", "keep-first", "keep-last")


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

    ``also`` is there only for a run with ``--also`` targets (see :func:`score_file`): per target
    id, the items ``mapped`` and ``unmapped`` (with the reason of each), how the unmapped items
    are treated (``unmapped_items_are``), and the scored rows with and without a target score
    (``rows_with_score`` + ``rows_without_score`` == ``scored``, counted chunk by chunk).
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
    also: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        return self.read == self.scored + self.rejected and all(
            t["rows_with_score"] + t["rows_without_score"] == self.scored
            for t in self.also.values()
        )

    def to_json(self) -> str:
        data = asdict(self)
        also = data.pop("also")
        data["reconciles"] = self.reconciles
        if also:  # a run without --also writes what it always wrote
            data["also"] = also
        return json.dumps(data, ensure_ascii=False, indent=1)

    def line(self) -> str:
        """The one-line reconciliation printed at the end of a run."""
        source = f" from sheet {self.sheet!r}" if self.sheet is not None else ""
        text = (
            f"read {counted(self.read, 'row')}{source}: {self.scored} scored, "
            f"{self.rejected} rejected ({counted(self.problems, 'problem')})"
        )
        imputed = sum(self.imputed.values())
        if imputed:
            text += f"; {counted(imputed, 'missing answer')} scored as lowest (instrument policy)"
        excluded = sum(self.excluded.values())
        if excluded:
            text += (
                f"; {counted(excluded, 'missing answer')} excluded and reweighted (instrument "
                "policy)"
            )
        return text


# a cross check's, a fact's range: after the file's header where the reason starts with it
# (dmi eligibility's ``28、上年营业收入（万元）: ...``,
# :func:`dmi.eligibility.facts.headed_reasons`)
_HEADED = r"^((?s:.+?: )?)"
_AMOUNTS = re.compile(_HEADED + r"(\w+) \([^)]*\) is above (\w+) \([^)]*\)")
_OUT_OF_RANGE = re.compile(_HEADED + r"\S+(?= is (?:below the minimum|above the maximum) )")
# an XLSX number shown scaled (dmi.io.xlsx.scaled_number): the format's, not the cell's
_SCALED = re.compile(r"^(number format '.*?') shows \S+ scaled \(\".*\"\)(; .*)$", re.DOTALL)
# an XLSX cell right of the header (dmi.io.StrayCells): one reason, whatever the cells
_STRAY = re.compile(r"^cells? [A-Z]+\d+ .* without a header; give the columns? ", re.DOTALL)
_STRAY_KEY = "a value in a column without a header"


def reason_key(reason: str, column: str = "") -> str:
    """Group reasons that differ only by detail (row lists, field counts, the cell's value)
    for the summary: a fact's range reason is its column's ("180 is above the maximum 100 %"
    of debt_ratio is "debt_ratio is above the maximum 100 %"), a cross check's is without the
    amounts, a number shown scaled is its format's, a value right of the header is one."""
    for prefix in ("duplicate respondent_id", "ragged row", "unbalanced quote"):
        if reason.startswith(prefix):
            return prefix
    if reason.startswith("number format "):
        return _SCALED.sub(r"\1 shows numbers scaled\2", reason)
    if reason.startswith("cell") and _STRAY.match(reason):
        return _STRAY_KEY
    if column:
        reason = _OUT_OF_RANGE.sub(lambda m: m[1] + column, reason, count=1)
    return _AMOUNTS.sub(r"\1\2 is above \3", reason)


def _output_schema(
    model: IndexModel,
    tier_model: TierModel | None,
    passthrough: tuple[str, ...] = (),
    raw_columns: tuple[str, ...] = (),
    also: tuple[AlsoTarget, ...] = (),
) -> Any:
    import pyarrow as pa

    numbers = {f.code for f in model.instrument_.profile if f.type == "number"}
    flags = {f.code for f in model.instrument_.levels.flags}
    # the --also columns in the dtypes the kernel gives them
    also_kinds = {"float64": pa.float64(), "Int64": pa.int64(), "int64": pa.int64()}
    also_types = {c: also_kinds.get(d, pa.bool_()) for t in also for c, d in t.dtypes.items()}
    fields = []
    for name in output_columns(model, tier_model, passthrough, raw_columns, also):
        if name in also_types:
            kind = also_types[name]
        elif name in ("level", "indicative_level", "tier"):
            kind = pa.int64()
        elif (
            name in ("dmi", "bod_uncapped", "official_dmi", "tier_confidence", "score")
            or name.startswith(("dim_", "derived_"))
            or name in numbers
        ):
            kind = pa.float64()
        elif name in flags:
            kind = pa.bool_()
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


def _count_problems(rejects: pd.DataFrame, tally: Any) -> None:
    """Add a chunk's problems to a tally's ``problems`` and ``reasons``, and its rejected rows,
    each under its first problem, to ``row_reasons`` (what a run's summary counts)."""
    tally.problems += len(rejects)
    if len(rejects):
        keys = [reason_key(str(r), str(c)) for r, c in zip(rejects["reason"], rejects["column"])]
        tally.reasons.update(keys)
        firsts = ~rejects["row"].duplicated().to_numpy()
        tally.row_reasons.update(k for k, first in zip(keys, firsts) if first)


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
    # per --also target id: the scored rows with a target score, and without
    also_scored: Counter[str] = field(default_factory=Counter)
    also_blank: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, result: ChunkResult, also: tuple[AlsoTarget, ...] = ()) -> _Tally:
        scores = result.scores
        tally = cls()
        _count_problems(result.rejects, tally)
        tally.levels.update(_counts(scores["level"]))
        if "tier" in scores:
            tally.tiers.update(_counts(scores["tier"]))
        tally.imputed.update(result.imputed)
        tally.excluded.update(result.excluded)
        for target in also:
            blank = int(scores[target.crosswalk.prefix + "dmi"].isna().sum())
            tally.also_blank[target.crosswalk.target.id] += blank
            tally.also_scored[target.crosswalk.target.id] += len(scores) - blank
        return tally

    @classmethod
    def total(cls, tallies: Iterable[_Tally]) -> _Tally:
        total = cls()
        for tally in tallies:
            total.problems += tally.problems
            for name in (
                "reasons",
                "row_reasons",
                "levels",
                "tiers",
                "imputed",
                "excluded",
                "also_scored",
                "also_blank",
            ):
                getattr(total, name).update(getattr(tally, name))
        return total

    def fill(self, summary: RunSummary, instrument: Any, also: tuple[AlsoTarget, ...] = ()) -> None:
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
        for target in also:
            crosswalk = target.crosswalk
            summary.also[crosswalk.target.id] = {
                "mapped": [r.target for r in crosswalk.rules if r.mapped],
                "unmapped": {r.target: r.none for r in crosswalk.rules if not r.mapped},
                "unmapped_items_are": crosswalk.unmapped,
                "rows_with_score": self.also_scored[crosswalk.target.id],
                "rows_without_score": self.also_blank[crosswalk.target.id],
            }


def _most_common_first(counts: Counter[str]) -> dict[str, int]:
    """Most common first, ties by name."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _finish_run(
    stop: threading.Event,
    results: Any,
    engine: Engine,
    writes: _BackgroundWrites,
    outputs: _Outputs,
) -> None:
    """End a run's threads (at once when it stopped early) and its engine, then finish the
    files: each step runs, whatever the one before it did."""
    stop.set()
    with contextlib.ExitStack() as steps:  # run last in, first out
        steps.callback(outputs.rejects.close)
        steps.callback(outputs.scores.close)
        steps.callback(writes.finish)
        steps.callback(engine.close)
        if hasattr(results, "close"):
            results.close()


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


def _same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: through symbolic links, or as hard links."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def check_outputs(
    scores_path: str | Path,
    rejects_path: str | Path | None = None,
    cohort_path: str | Path | None = None,
    summary_path: str | Path | None = None,
    candidates_path: str | Path | None = None,
    *,
    input_path: str | Path | None = None,
    reads: Mapping[str, str | Path | None] | None = None,
) -> None:
    """Refuse a run's outputs that cannot be written, before anything is read or written.

    ``dmi score`` and ``dmi eligibility`` alike (:func:`score_file`,
    :func:`dmi.bulk.eligibility.evaluate_file`, and their commands before they read a map or
    fit a method), so that a run is not made only to fail at its end.

    Parameters
    ----------
    scores_path, rejects_path, cohort_path, candidates_path : str or Path
        The tables (``rejects_path``, ``cohort_path``, ``candidates_path`` optional).
    summary_path : str or Path, optional
        The JSON summary (any file name).
    input_path : str or Path, optional
        The input, which no output may be.
    reads : mapping, optional
        The other files the run reads, which no output may be either, by what they are (``{"the
        column map": "map.yaml", "the rule file": "rules.yaml"}``; None values: not given).

    Raises
    ------
    FileFormatError
        An output that is a folder, or a table whose extension is none of .csv, .xlsx and
        .parquet (:func:`dmi.io.check_output`).
    UsageError
        Two outputs that are one file, or an output that is the input file or another file
        the run reads.
    """
    tables = (scores_path, rejects_path, cohort_path, candidates_path)
    for table in tables:
        if table:
            check_output(table)
    if summary_path:
        check_output(summary_path, table=False)
    seen: dict[str, Path] = {}
    for path in [Path(p) for p in (*tables, summary_path) if p]:
        real = os.path.realpath(path)
        if real in seen:
            raise UsageError(f"two outputs are the same file: {seen[real]} and {path}")
        read = {"the input file": input_path, **(reads or {})}
        for what, source in read.items():
            # a file only: a shipped rule version (2026), none or input is no path
            if source is not None and os.path.isfile(source) and _same_file(path, source):
                raise UsageError(
                    f"{path} is {what} {source}: the results would replace it; name another output"
                )
        seen[real] = path


class _Outputs:
    """A run's output files, written beside their destinations (:class:`dmi.io.PendingFile`)
    and moved into place together when the run succeeded, the summary last; removed otherwise.

    The rejects always have a writer: without a rejects file it only counts, so the rejected
    rows are counted the same way whether they are written or not. ``candidates_path`` is
    ``dmi eligibility``'s list of candidates, pending like the cohort. The paths are checked
    before the run reads its input (:func:`check_outputs`).
    """

    def __init__(
        self,
        scores_path: str | Path,
        rejects_path: str | Path | None,
        cohort_path: str | Path | None,
        summary_path: str | Path | None,
        columns: list[str],
        schema: Any,
        candidates_path: str | Path | None = None,
    ) -> None:
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
            self.candidates = self._add(PendingFile(candidates_path)) if candidates_path else None
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


# -- the chunks handed to the engine, and how repeated ids are found ---------------------------


def _tasks_with_pass(
    reader: TableReader,
    mapping: ColumnMapping,
    policy: str,
    stop: threading.Event,
    chunks: Iterable[Chunk],
) -> Iterator[ChunkTask]:
    """The file's chunks, with the duplicate pass in a thread beside the first of them.

    The pass reads only the id column (about a second for a million rows, all of it before the
    first row could be scored); the chunks read meanwhile carry the pass's future, the others
    its index.
    """
    id_header = mapping.id_header
    if id_header is None:
        for chunk in chunks:
            yield ChunkTask(chunk, mapping, policy, reader.columns, DuplicateIndex())
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dmi-duplicates") as pool:
        duplicates: Future[DuplicateIndex] = pool.submit(find_duplicates, reader, id_header, stop)
        for chunk in chunks:
            found = duplicates.result() if duplicates.done() else duplicates
            yield ChunkTask(chunk, mapping, policy, reader.columns, found, stop=stop)


def _tasks_read_once(
    reader: TableReader,
    mapping: ColumnMapping,
    policy: str,
    stop: threading.Event,
    ledger: IdLedger,
    chunks: Iterable[Chunk],
) -> Iterator[ChunkTask]:
    """The file's chunks for a run that reads the file once, without the duplicate pass.

    Most files repeat no id, and the pass is a whole read of the file, run beside the first
    chunks on the cores they need. So each chunk is scored at once and its ids noted in the
    ``ledger``; the few chunks that hold an id repeated elsewhere are scored again at the end
    (:func:`_redo_repeats`). When the first chunk already repeats an id, the file is one with
    many repeats, and the run takes the duplicate pass instead (:func:`_tasks_with_pass`):
    scoring most chunks twice costs more.
    """
    import pyarrow.compute as pc

    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:
        return
    ids, _ = ledger.add(0, first)
    if pc.count_distinct(ids).as_py() < len(ids):
        ledger.active = False
        yield from _tasks_with_pass(reader, mapping, policy, stop, itertools.chain([first], chunks))
        return
    total = 0
    for number, chunk in enumerate(itertools.chain([first], chunks)):
        yield ChunkTask(
            chunk, mapping, policy, reader.columns, DuplicateIndex(), number=number, ledger=ledger
        )
        total = number + 1
    ledger.expect(total)


def _rewritable(*writers: TableWriter) -> bool:
    """Whether these outputs' earlier chunks can be written again (CSV files, and a writer
    that only counts, can)."""
    return all(w.kind in ("csv", "none") for w in writers)


def _redo_repeats(
    reader: TableReader,
    mapping: ColumnMapping,
    policy: str,
    ledger: IdLedger,
    n_read: list[int],
    engine: Engine,
    writes: _BackgroundWrites,
    outputs: _Outputs,
) -> dict[int, ChunkResult]:
    """:func:`_rescore_repeats`, then the new rows written over the old ones.

    The files are still pending: when this fails or is stopped, the run removes them, so rows
    scored before the repeats were known never look final.
    """
    redone = _rescore_repeats(reader, mapping, policy, ledger, n_read, engine)
    writes.wait()
    outputs.scores.replace_writes({j: r.scores for j, r in redone.items()})
    outputs.rejects.replace_writes({j: r.rejects for j, r in redone.items()})
    return redone


def _rescore_repeats(
    reader: TableReader,
    mapping: ColumnMapping,
    policy: str,
    ledger: IdLedger,
    n_read: list[int],
    engine: Engine,
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

    def again() -> Iterator[ChunkTask]:
        for number, chunk in enumerate(reader.chunks()):
            if number in wanted:
                if number >= len(n_read) or chunk.n_read != n_read[number]:
                    raise changed
                yield ChunkTask(chunk, mapping, policy, reader.columns, index, number=number)
            if number == affected[-1]:
                return
        raise changed  # the file ended before the last of them

    return dict(zip(affected, engine.score(prefetched(again())), strict=True))


def _engine(
    name: str,
    model: IndexModel,
    tier_model: TierModel | None,
    *,
    threads: int | None,
    scheduler: str | None,
    client: Any,
    stop: threading.Event,
    also: tuple[AlsoTarget, ...] = (),
) -> Engine:
    """The engine of a run: the one place it is chosen."""
    if name == "dask":
        from dmi.bulk.engines.dask import DaskEngine

        return DaskEngine(model, tier_model, scheduler=scheduler, client=client, also=also)
    from dmi.bulk.engines.local import LocalEngine

    return LocalEngine(model, tier_model, threads=threads, stop=stop, also=also)


def _also_targets(instrument: Any, also: Sequence[Crosswalk]) -> tuple[AlsoTarget, ...]:
    """The crosswalks of a run fitted once (:class:`AlsoTarget`), each target once; a crosswalk
    from another instrument is a :class:`UsageError`."""
    targets: dict[str, AlsoTarget] = {}
    for crosswalk in also:
        if crosswalk.source.id != instrument.id:
            raise UsageError(
                f"the crosswalk {crosswalk.source.id} -> {crosswalk.target.id} reads "
                f"{crosswalk.source.id} answers; the file is scored with {instrument.id}"
            )
        if crosswalk.target.id not in targets:
            from dmi.scoring.crosswalk import AlsoTarget

            targets[crosswalk.target.id] = AlsoTarget.of(crosswalk)
    return tuple(targets.values())


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
    header_row: int = 1,
    source: Source | str = "auto",
    also: Sequence[Crosswalk] = (),
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
    header_row : int, default=1
        For XLSX: the sheet row of the header, below title rows (see
        :func:`dmi.io.find_header_row`); rows keep their sheet numbers.
    source : Source or {"auto", "plain", "wjx", "kobo"}, default="auto"
        The file's layout: a plain table, or a survey tool's export read into the plain layout
        (:mod:`dmi.io.tools`); ``auto`` takes the one its headers show, and the summary's notes
        say which.
    threads : int, optional
        For the local engine: chunks scored at once, in threads (default 2, or 1 on a machine
        with one core). Arrow and numpy work without the GIL, so two threads use two cores
        for much of the work; the output is the same, in the same order, whatever the number.
        The next chunk is always read in the background, and the last one written.
    also : sequence of Crosswalk, optional
        Crosswalks from the model's instrument (:func:`dmi.instruments.crosswalk.find_crosswalk`):
        each target's comparable measures of every scored row
        (:func:`dmi.scoring.crosswalk.also_scores`, columns prefixed with its id) are added
        after the other columns, computed by the chunk kernel from the answers it scored, in
        the same pass; the summary's ``also`` says what each could not map.

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
    UsageError
        An unknown ``duplicates`` policy or ``engine``, two outputs that are one file, or a
        crosswalk in ``also`` from another instrument than the model's.
    FileFormatError
        The file cannot be read, or no column matches an item of the instrument; or an output
        is a folder or a table of an unknown type (:func:`check_outputs`, before the input is
        read).
    FileNotFoundError
        The input, or an output's folder, does not exist.
    ReconciliationError
        The counts do not add up: a bug in dmi (nothing is moved into place).
    """
    if duplicates not in DUPLICATE_POLICIES:
        raise UsageError(
            f"unknown duplicates policy {duplicates!r}; expected one of "
            f"{', '.join(DUPLICATE_POLICIES)}"
        )
    if engine not in ("local", "dask"):
        raise UsageError(f"unknown engine {engine!r}; expected local or dask")
    check_outputs(output_path, rejects_path, cohort_path, summary_path, input_path=input_path)
    instrument = model.instrument_
    if tier_model is not None:
        tier_model.check_instrument(instrument)
    targets = _also_targets(instrument, also)
    reader = open_source(
        input_path,
        instrument,
        source,
        encoding=encoding,
        sheet=sheet,
        chunk_rows=chunk_rows,
        header_row=header_row,
        column_map=column_map,  # a survey tool's export: applied to its own headers
    )
    mapping = map_source(reader, instrument, column_map)
    require_items_read(reader, mapping, instrument, input_path, column_map)
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
    # the derived values of the items whose raw columns the header has (decided once per file)
    raw_columns = tuple(c for c in mapping.rename.values() if c in instrument.raw_columns)
    passthrough = tuple(mapping.passthrough)
    columns = output_columns(model, tier_model, passthrough, raw_columns, targets)
    outputs = _Outputs(
        output_path,
        rejects_path,
        cohort_path,
        summary_path,
        columns,
        _output_schema(model, tier_model, passthrough, raw_columns, targets),
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
            also=targets,
        )
        _Tally.total(tallies).fill(summary, instrument, targets)
        # what the reader found out while reading (a changed encoding, the lines it met)
        summary.encoding, summary.lines = reader.encoding, reader.lines
        summary.notes = [*reader.notes, *mapping.notes]
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
    also: tuple[AlsoTarget, ...] = (),
) -> tuple[list[_Tally], list[pd.DataFrame]]:
    """Score the chunks ``read`` hands out into the pending ``outputs`` (see
    :func:`score_file`); the tally of each chunk and, when ``cohort``, its cohort columns."""

    def collect(result: ChunkResult) -> tuple[_Tally, pd.DataFrame | None]:
        # the call of a run without --also as it always was
        tally = _Tally.of(result, also) if also else _Tally.of(result)
        if not cohort:
            return tally, None
        from dmi.bulk.cohort import cohort_columns

        return tally, result.scores[cohort_columns(result.scores)]

    records = run_chunks(
        reader,
        mapping,
        outputs,
        read,
        duplicates=duplicates,
        progress=progress,
        make_engine=lambda stop: _engine(
            engine,
            model,
            tier_model,
            threads=threads,
            scheduler=scheduler,
            client=client,
            stop=stop,
            also=also,
        ),
        collect=collect,
    )
    tallies = [tally for tally, _ in records]
    cohort_parts = [part for _, part in records if part is not None]
    return tallies, cohort_parts


def run_chunks(
    reader: TableReader,
    mapping: ColumnMapping,
    outputs: _Outputs,
    read: _ReadCount,
    *,
    duplicates: str,
    progress: Callable[[int], None] | None,
    make_engine: Callable[[threading.Event], Engine],
    collect: Callable[[ChunkResult], Any],
) -> list[Any]:
    """The chunk loop of every kind of run: the chunks ``read`` hands out, through the engine
    ``make_engine`` makes (its kernel: scoring or eligibility), into the pending ``outputs``.

    Repeated ids are found as :func:`score_file` says (read once when the outputs can be
    written again, else the duplicate pass). ``collect`` is called with each chunk's result in
    file order, in this thread; returns what it gave for each chunk, a chunk done again (one of
    its ids repeats in the file) replacing its own.
    """
    records: list[Any] = []  # chunk by chunk: a chunk scored again replaces its own
    n_read: list[int] = []
    stop = threading.Event()  # set when the run ends, however it ends: its threads stop too
    ledger: IdLedger | None = None
    # a CSV's earlier chunks can be written again: the file is read once (see
    # _tasks_read_once); other outputs wait for the duplicate pass where they must
    id_header = mapping.id_header
    if id_header is not None and _rewritable(outputs.scores, outputs.rejects):
        ledger = IdLedger(id_header)
        tasks = _tasks_read_once(reader, mapping, duplicates, stop, ledger, read)
    else:
        tasks = _tasks_with_pass(reader, mapping, duplicates, stop, read)
    scorer = make_engine(stop)
    results = scorer.score(prefetched(tasks))
    writes = _BackgroundWrites()
    try:
        done = 0
        for result in results:
            records.append(collect(result))
            n_read.append(result.n_read)
            # a run that may write chunks again writes each one's rejects, even none: the
            # k-th write of either file is then chunk k
            rejects = result.rejects if len(result.rejects) or ledger is not None else None
            writes.submit(_write_chunk, outputs, result.scores, rejects)
            done += result.n_read
            if progress is not None:
                progress(done)
        if ledger is not None and ledger.active:
            redone = _redo_repeats(
                reader, mapping, duplicates, ledger, n_read, scorer, writes, outputs
            )
            for j, result in redone.items():
                records[j] = collect(result)
    except BaseException:
        # the first error is the one reported: a write failing while the run stops after it
        # (a full disk, say) would otherwise replace it
        with contextlib.suppress(Exception):
            _finish_run(stop, results, scorer, writes, outputs)
        raise
    _finish_run(stop, results, scorer, writes, outputs)
    return records

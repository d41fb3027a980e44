"""The Dask engine: the chunk kernel on a Dask cluster (``dmi score --engine dask``).

The file is read, numbered and checked (ragged, blank, totals, duplicated ids) in this process by
the same code as the local engine (:meth:`dmi.bulk.kernel.ChunkTask.prepare`); windows of prepared
chunks become the partitions of a Dask DataFrame and ``map_partitions`` runs
:func:`dmi.bulk.kernel.score_chunk` on the workers. Scores do not depend on
how rows are batched (see ``tests/test_properties.py``), and results come back in file order, so
the output is the local engine's, row for row. Memory stays flat: one window of chunks is in flight
at a time.

Needs the optional extra: ``pip install "dmi[distributed]"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from dmi.bulk.kernel import (
    CheckedRows,
    ChunkResult,
    ChunkTask,
    PreparedChunk,
    output_columns,
    score_chunk,
)
from dmi.columns import REJECT_COLUMNS
from dmi.errors import MissingExtraError, UsageError
from dmi.scoring.crosswalk import AlsoTarget
from dmi.scoring.model import IndexModel
from dmi.tiers import TierModel

__all__ = ["DaskEngine", "local_client", "score_partition"]

_ROW = "__row"
_KIND = "__kind"
_COUNT = "__count"
_BLANKED = "__blanked"  # a checked row's cells the reader could not read: their columns
_SEP = "\x1f"  # between those columns (a unit separator: in no column's name)
_PRE = [f"r_{c}" for c in REJECT_COLUMNS]  # the reader-made rejects' columns in a packed chunk


def _import_dask() -> Any:
    try:
        import dask
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise MissingExtraError(
            "--engine dask needs the optional extra: pip install 'dmi[distributed]'"
        ) from None
    return dask


@contextmanager
def local_client(
    n_workers: int = 2, threads_per_worker: int = 1, processes: bool = True
) -> Iterator[Any]:
    """A LocalCluster and its client for one run (closed afterwards)."""
    _import_dask()
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _envelope_meta(
    answer_columns: list[str],
    model: IndexModel,
    tier_model: TierModel | None,
    passthrough: tuple[str, ...] = (),
    also: tuple[AlsoTarget, ...] = (),
) -> pd.DataFrame:
    """The one frame a partition returns: score rows, reject rows and count rows, tagged."""
    columns = output_columns(model, tier_model, passthrough, answer_columns, also)
    frame = {c: pd.Series(dtype=object) for c in columns}
    for c in REJECT_COLUMNS:
        frame[f"r_{c}"] = pd.Series(dtype=object)
    frame[_KIND] = pd.Series(dtype=object)
    frame[_COUNT] = pd.Series(dtype="int64")
    return pd.DataFrame(frame)


def score_partition(
    partition: pd.DataFrame,
    model: IndexModel,
    tier_model: TierModel | None,
    meta_columns: list[str],
    passthrough: tuple[str, ...] = (),
    also: tuple[AlsoTarget, ...] = (),
) -> pd.DataFrame:
    """Run the kernel on one partition of prepared rows (what ``map_partitions`` calls).

    The partition holds the rows to score plus ``__row`` (their row numbers), ``__kind`` marking
    rows that are rejects already made by the reader's checks (``pre``) or rows rejected for a
    repeated id or an unread cell whose cells are checked too (``checked``; ``__blanked`` names
    the columns of a row's unread cells, :class:`~dmi.bulk.kernel.CheckedRows`), and the
    chunk's read count in ``__count``. The result packs scores, rejects and the
    imputed/excluded counts into one frame (Dask partitions are frames), unpacked by
    :func:`_unpack`.
    """
    kind = partition[_KIND].to_numpy()
    is_pre = kind == "pre"
    pre = partition[is_pre]
    answers = partition[kind == "answer"]
    repeated = partition[kind == "checked"]
    pre_rejects = pd.DataFrame(
        {c: pre[f"r_{c}"].to_numpy() for c in REJECT_COLUMNS}, columns=REJECT_COLUMNS
    )
    if len(pre_rejects):
        pre_rejects["row"] = pre_rejects["row"].astype(np.int64)

    def cells(part: pd.DataFrame) -> pd.DataFrame:
        return part.drop(
            columns=[c for c in partition.columns if c.startswith(("__", "r_"))]
        ).reset_index(drop=True)

    checked = None
    if len(repeated):
        rows = repeated[_ROW].to_numpy(dtype=np.int64)
        blanked: dict[str, list[int]] = {}
        if _BLANKED in repeated:
            for row, names in zip(rows.tolist(), repeated[_BLANKED].tolist()):
                for name in names.split(_SEP) if isinstance(names, str) and names else ():
                    blanked.setdefault(name, []).append(row)
        checked = CheckedRows(
            cells(repeated), rows, {k: np.array(v, dtype=np.int64) for k, v in blanked.items()}
        )
    prepared = PreparedChunk(
        cells(answers), answers[_ROW].to_numpy(dtype=np.int64), pre_rejects, 0, passthrough, checked
    )
    # a run without --also calls the kernel as it always did
    result = (
        score_chunk(prepared, model, tier_model, also)
        if also
        else score_chunk(prepared, model, tier_model)
    )
    parts = [result.scores.astype(object).assign(**{_KIND: "score"})]
    if len(result.rejects):
        parts.append(
            result.rejects.rename(columns={c: f"r_{c}" for c in REJECT_COLUMNS})
            .astype(object)
            .assign(**{_KIND: "reject"})
        )
    counts = [("imputed", k, v) for k, v in result.imputed.items()] + [
        ("excluded", k, v) for k, v in result.excluded.items()
    ]
    if counts:
        parts.append(
            pd.DataFrame(
                {
                    _KIND: [c[0] for c in counts],
                    "r_column": [c[1] for c in counts],
                    _COUNT: [c[2] for c in counts],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True).reindex(columns=meta_columns)
    out[_COUNT] = out[_COUNT].fillna(0).astype("int64")
    return out.astype({c: object for c in meta_columns if c != _COUNT})


def _pack(prepared: PreparedChunk) -> pd.DataFrame:
    """A prepared chunk as one frame: the answers, then its reader-made rejects.

    The frame always has the rejects' columns (blank when the chunk has none):
    :func:`score_partition` reads them from every partition.
    """
    frame = prepared.frame.astype(object).assign(**{_ROW: prepared.rows, _KIND: "answer"})
    parts = [frame]
    if prepared.checked is not None:  # rows rejected already: their cells checked, not scored
        checked = prepared.checked
        # per row, the columns of its cells the reader could not read (blank in the frame)
        names: list[list[str]] = [[] for _ in checked.rows]
        for column, rows in checked.blanked.items():
            for at in np.searchsorted(checked.rows, rows).tolist():
                names[at].append(column)
        parts.append(
            checked.frame.astype(object).assign(
                **{_ROW: checked.rows, _KIND: "checked", _BLANKED: [_SEP.join(n) for n in names]}
            )
        )
    if len(prepared.rejects):
        pre = prepared.rejects.rename(columns=dict(zip(REJECT_COLUMNS, _PRE))).astype(object)
        pre[_ROW] = prepared.rejects["row"].to_numpy()
        pre[_KIND] = "pre"
        parts.append(pre)
    columns = [*frame.columns, *_PRE, *([_BLANKED] if prepared.checked is not None else [])]
    if len(parts) > 1:
        return pd.concat(parts, ignore_index=True).reindex(columns=columns)
    return frame.reindex(columns=columns)


def _unpack(
    frame: pd.DataFrame,
    n_read: int,
    model: IndexModel,
    tier_model: TierModel | None,
    passthrough: tuple[str, ...] = (),
    answer_columns: tuple[str, ...] = (),
    also: tuple[AlsoTarget, ...] = (),
) -> ChunkResult:
    """The envelope of one chunk back into the local engine's :class:`ChunkResult`."""
    columns = output_columns(model, tier_model, passthrough, answer_columns, also)
    kind = frame[_KIND].to_numpy()
    scores = frame.loc[kind == "score", columns].reset_index(drop=True)
    scores = scores.infer_objects()
    floats = (
        "dmi",
        "bod_uncapped",
        "official_dmi",
        "tier_confidence",
        *[c for c in columns if c.startswith(("dim_", "derived_"))],
    )
    for name in floats:
        if name in scores:
            scores[name] = scores[name].astype(np.float64)
    for name in ("level", "indicative_level", "tier"):
        if name in scores:
            scores[name] = scores[name].astype(np.int64)
    for target in also:  # blanks where a row has no target score: the kernel's dtypes back
        scores = scores.astype(target.dtypes)
    rejects = frame.loc[kind == "reject", [f"r_{c}" for c in REJECT_COLUMNS]]
    rejects.columns = REJECT_COLUMNS
    rejects = rejects.reset_index(drop=True)
    rejects["row"] = rejects["row"].astype(np.int64)
    counts = frame[np.isin(kind, ["imputed", "excluded"])]
    imputed = {
        str(c): int(n)
        for k, c, n in zip(counts[_KIND], counts["r_column"], counts[_COUNT])
        if k == "imputed"
    }
    excluded = {
        str(c): int(n)
        for k, c, n in zip(counts[_KIND], counts["r_column"], counts[_COUNT])
        if k == "excluded"
    }
    return ChunkResult(scores, rejects, n_read, imputed, excluded)


def _windows(tasks: Iterable[Any], size: int) -> Iterator[list[Any]]:
    window: list[Any] = []
    for task in tasks:
        window.append(task)
        if len(window) >= size:
            yield window
            window = []
    if window:
        yield window


class DaskEngine:
    """Score chunks on a Dask cluster, results in file order.

    Parameters
    ----------
    model, tier_model
        Fitted models; shipped to the workers with each window's tasks.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); when None and no ``client`` is
        given, a LocalCluster of 2 worker processes runs until :meth:`close`.
    client : distributed.Client, optional
        An existing client (takes precedence over ``scheduler``; not closed by :meth:`close`).
    also : tuple of AlsoTarget, optional
        The ``--also`` targets the kernel adds (fitted once, shipped with the models).
    window : int, optional
        Chunks in flight at once (default: twice the number of workers). Memory stays flat:
        one window of chunks is in flight at a time.
    """

    name = "dask"

    def __init__(
        self,
        model: IndexModel,
        tier_model: TierModel | None = None,
        *,
        scheduler: str | None = None,
        client: Any = None,
        window: int | None = None,
        also: tuple[AlsoTarget, ...] = (),
    ) -> None:
        self._dask = _import_dask()
        from distributed import Client

        self.model = model
        self.tier_model = tier_model
        self.also = also
        self.window = window
        self._own: Any = None
        if client is None:
            if scheduler is not None:
                try:
                    client = self._own = Client(scheduler)
                except OSError as exc:  # no scheduler there (a time-out is an OSError too)
                    raise UsageError(
                        f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})"
                    ) from None
            else:
                self._own = local_client()
                client = self._own.__enter__()
        self.client = client

    def score(self, tasks: Iterable[ChunkTask | PreparedChunk]) -> Iterator[ChunkResult]:
        import dask.dataframe as dd

        workers = max(len(self.client.scheduler_info().get("workers", {})), 1)
        size = self.window or 2 * workers
        model, tier_model, also = self.model, self.tier_model, self.also
        # object columns must stay objects: Dask's default conversion to Arrow strings would
        # turn Excel numbers into text and change how some answers parse
        with self._dask.config.set({"dataframe.convert-string": False}):
            for group in _windows(tasks, size):
                prepared = [task.prepare() for task in group]
                packed = [_pack(p) for p in prepared]
                columns = sorted(set().union(*(p.columns for p in packed)))
                packed = [p.reindex(columns=columns).astype(object) for p in packed]
                # the input's columns copied to the scores (the same in every chunk of a file)
                passthrough = prepared[0].passthrough if prepared else ()
                meta_frame = _envelope_meta(columns, model, tier_model, passthrough, also)
                meta_columns = list(meta_frame.columns)
                parts = [dd.from_pandas(p, npartitions=1, sort=False) for p in packed]
                frame = dd.concat(parts, interleave_partitions=False)
                scored = frame.map_partitions(
                    score_partition,
                    model,
                    tier_model,
                    meta_columns,
                    passthrough,
                    also,
                    meta=meta_frame,
                )
                outputs = self.client.compute(scored.to_delayed())
                for task, future in zip(group, outputs):
                    yield _unpack(
                        future.result(),
                        task.n_read,
                        model,
                        tier_model,
                        passthrough,
                        tuple(columns),
                        also,
                    )

    def close(self) -> None:
        """Close the cluster or client the engine started (a given client stays open)."""
        own, self._own = self._own, None
        if own is not None:
            if hasattr(own, "__exit__"):
                own.__exit__(None, None, None)
            else:
                own.close()

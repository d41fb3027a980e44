"""The local engine: chunks scored in threads of this process (``dmi score``'s default).

Arrow and numpy do most of the work without holding the GIL, so two threads use two cores for
much of it. Results come back in order, so the output does not depend on the number of threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from dmi.bulk.kernel import ChunkResult, ChunkTask, Kernel, PreparedChunk, ScoringKernel

if TYPE_CHECKING:  # the scoring model needs scikit-learn: imported where a run scores
    from dmi.scoring.crosswalk import AlsoTarget
    from dmi.scoring.model import IndexModel
    from dmi.tiers import TierModel

__all__ = ["LocalEngine", "ordered_map"]


def ordered_map(
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


class LocalEngine:
    """Score chunks in ``threads`` threads of this process.

    Parameters
    ----------
    model : IndexModel, optional
        A fitted model (the scoring kernel's).
    tier_model : TierModel, optional
        A fitted tier model (adds ``tier`` and ``tier_confidence``).
    threads : int, optional
        Chunks scored at once (default 2, or 1 on a machine with one core).
    stop : threading.Event, optional
        Set when a :meth:`score` ends early, for work that waits on something else (the
        duplicate pass) to give up.
    kernel : Kernel, optional
        What is done to each chunk (default: the scoring kernel of ``model``, ``tier_model``
        and ``also``); ``dmi eligibility`` passes its own.
    also : tuple of AlsoTarget, optional
        The ``--also`` targets the scoring kernel adds (see :func:`dmi.bulk.kernel.score_chunk`).
    """

    name = "local"

    def __init__(
        self,
        model: IndexModel | None = None,
        tier_model: TierModel | None = None,
        *,
        threads: int | None = None,
        stop: threading.Event | None = None,
        kernel: Kernel | None = None,
        also: tuple[AlsoTarget, ...] = (),
    ) -> None:
        if kernel is None:
            if model is None:
                raise TypeError("LocalEngine needs a model or a kernel")
            kernel = ScoringKernel(model, tier_model, also)
        self.model = model
        self.tier_model = tier_model
        self.kernel = kernel
        self.threads = min(2, os.cpu_count() or 1) if threads is None else threads
        self.stop = stop

    def score(self, tasks: Iterable[ChunkTask | PreparedChunk]) -> Iterator[ChunkResult]:
        return ordered_map(self._score, tasks, self.threads, self.stop)

    def _score(self, task: ChunkTask | PreparedChunk) -> ChunkResult:
        return task.run(self.kernel)

    def close(self) -> None:
        """Nothing to release: each :meth:`score` ends its own threads."""

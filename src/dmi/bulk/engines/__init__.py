"""Where the chunks of a run are scored: the :class:`Engine` interface and its two engines.

- :class:`dmi.bulk.engines.local.LocalEngine`: threads of this process (the default);
- :class:`dmi.bulk.engines.dask.DaskEngine`: a Dask cluster (``pip install "dmi[distributed]"``).

Both run the same chunk kernel (:mod:`dmi.bulk.kernel`) and give results in file order, so they
write the same bytes. The run (:func:`dmi.bulk.run.score_file`) chooses one, hands it the file's
chunks, and writes what it gives back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dmi.bulk.kernel import ChunkResult, ChunkTask, PreparedChunk

__all__ = ["Engine"]


class Engine(Protocol):
    """Scores chunks with the run's models.

    Attributes
    ----------
    name : str
        ``"local"`` or ``"dask"`` (the run summary's ``engine``).
    """

    name: str

    def score(self, tasks: Iterable[ChunkTask | PreparedChunk]) -> Iterator[ChunkResult]:
        """The result of each task, in the order of ``tasks`` (the file's order).

        A task is a :class:`~dmi.bulk.kernel.ChunkTask` (what the run hands out), or a
        :class:`~dmi.bulk.kernel.PreparedChunk` (a chunk already through the row checks).

        May be called more than once in a run (a run that reads the file once scores some
        chunks again at the end). Closing the iterator early stops the work in flight.
        """
        ...

    def close(self) -> None:
        """Release what the engine holds (threads, a cluster it started)."""
        ...

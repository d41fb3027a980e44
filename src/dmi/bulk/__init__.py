"""Scoring whole files: read in chunks, check rows, score, write, reconcile.

- :mod:`~dmi.bulk.run`: :func:`score_file`, the run, its summary and its outputs; it chooses
  the engine and the way repeated ids are found;
- :mod:`~dmi.bulk.kernel`: the chunk kernel (a chunk in, its scores and rejects out), built on
  the row checks of :mod:`~dmi.bulk.checks` and the duplicate index of
  :mod:`~dmi.bulk.duplicates`;
- :mod:`~dmi.bulk.engines`: where chunks are scored (threads here, or a Dask cluster), behind
  one interface;
- :mod:`~dmi.bulk.cohort`: counts, means and quartiles of a scored file by group.
"""

from dmi.bulk.run import DUPLICATE_POLICIES, RunSummary, score_file

__all__ = ["DUPLICATE_POLICIES", "RunSummary", "score_file"]

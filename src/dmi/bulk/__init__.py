"""Scoring whole files: read in chunks, check rows, score, write, reconcile.

- :mod:`~dmi.bulk.run`: :func:`score_file`, the run, its summary and its outputs;
- :mod:`~dmi.bulk.engines`: where chunks are scored (threads here, or a Dask cluster);
- :mod:`~dmi.bulk.cohort`: counts, means and quartiles of a scored file by group.
"""

from dmi.bulk.run import DUPLICATE_POLICIES, RunSummary, score_file

__all__ = ["DUPLICATE_POLICIES", "RunSummary", "score_file"]

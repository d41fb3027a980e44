"""Ranks and percentiles that treat equal scores as equal.

Two companies with the same points can carry indices that differ in the last bit (44.6 reached as
40 + 4.6 or as 42.1 + 2.5). Compared as floats they would rank apart, and in a group of two get
percentiles 25 and 75 instead of 50 and 50. Every rank and percentile in dmi therefore compares
values rounded to :data:`RANK_DECIMALS` decimals, the precision the levels use
(:data:`dmi.scoring.levels.level_precision`): values equal to 9 decimals are ties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from dmi.scoring.levels import level_precision

__all__ = ["RANK_DECIMALS", "average_ranks", "comparable", "distribution", "share_below"]

RANK_DECIMALS = level_precision
"""Decimals values are rounded to before they are ranked or compared with a distribution."""


def comparable(values: ArrayLike) -> np.ndarray:
    """``values`` as floats rounded to :data:`RANK_DECIMALS` decimals (NaN stays NaN; -0.0 is 0)."""
    return np.round(np.asarray(values, dtype=float), RANK_DECIMALS) + 0.0


def distribution(values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The distinct comparable values (ascending) of the non-NaN ``values`` and their counts."""
    x = comparable(values)
    return np.unique(x[~np.isnan(x)], return_counts=True)


def share_below(values: ArrayLike, counts: ArrayLike, x: ArrayLike) -> np.ndarray:
    """The share of a distribution below each ``x``, ties counted half, in [0, 1].

    Parameters
    ----------
    values : array_like of shape (k,)
        The distribution's values, ascending (as :func:`distribution` gives them; values stored
        at another precision are made comparable here too).
    counts : array_like of shape (k,)
        How often each value occurs.
    x : array_like
        The values to place; NaN gives NaN.

    Returns
    -------
    numpy.ndarray
        ``(below + 0.5 * equal) / total`` per ``x``: ``scipy.stats.percentileofscore(kind="mean")
        / 100`` on the comparable values.
    """
    v = comparable(values)
    c = np.asarray(counts, dtype=float)
    q = comparable(x)
    below = np.concatenate([[0.0], np.cumsum(c)])
    left = np.searchsorted(v, q, side="left")
    right = np.searchsorted(v, q, side="right")
    share = (below[left] + 0.5 * (below[right] - below[left])) / below[-1]
    return np.where(np.isnan(q), np.nan, share)


def average_ranks(values: ArrayLike, *, ascending: bool = True) -> np.ndarray:
    """Ranks 1..n of ``values`` with ties (equal comparable values) given their average rank;
    NaN gets NaN."""
    return (
        pd.Series(comparable(values))
        .rank(ascending=ascending, method="average")
        .to_numpy(dtype=float)
    )

"""Effective weights: how much each indicator and dimension really drives the index.

A nominal weight says how much a node *should* count; what it does count depends on how it
varies and correlates with the others (Paruolo, Saisana and Saltelli 2013). For each node this
module gives, beside its nominal share of the index:

- Pearson's correlation of the node's score with the index;
- the main effect ``S_i = Var(E[index | node]) / Var(index)``: the share of the index's variance
  that the node alone explains (its first-order sensitivity index). ``E[index | node]`` is
  estimated by the mean index within each distinct value of the node (nodes with few values,
  as most survey scores are) or within equal-count bins of it (``bins``); the estimate is the
  correlation ratio ``eta^2`` of the index on those groups;
- the node's share of the main effects of its level, ``S_i / sum_j S_j``, to put beside its
  nominal share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dmi.analysis.structure import NotComputable, varies
from dmi.analysis.text import msg, text_column

__all__ = ["effective_weights", "main_effect"]


def main_effect(x: np.ndarray, y: np.ndarray, *, bins: int = 20) -> float:
    """First-order effect of ``x`` on ``y``: ``Var(E[y | x]) / Var(y)`` (the correlation ratio).

    Parameters
    ----------
    x, y : ndarray of shape (n,)
        Rows where either is NaN are left out.
    bins : int, default=20
        ``x`` with at most this many distinct values is grouped by value; otherwise by
        equal-count bins (at most ``bins``, and at most one per 10 rows).

    Raises
    ------
    NotComputable
        Fewer than 3 rows, or a constant ``y``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(y) < 3:
        raise NotComputable(msg("nc_main_rows", n=len(y)))
    total = ((y - y.mean()) ** 2).sum()
    if not total > 0:
        raise NotComputable(msg("nc_index_constant"))
    values, groups = np.unique(x, return_inverse=True)
    if len(values) > bins:
        n_bins = max(2, min(bins, len(y) // 10))
        edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
        groups = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(groups)
    sums = np.bincount(groups, weights=y)
    present = counts > 0
    means = sums[present] / counts[present]
    between = (counts[present] * (means - y.mean()) ** 2).sum()
    return float(between / total)


def effective_weights(
    nodes: pd.DataFrame,
    index: np.ndarray,
    nominal: pd.Series,
    *,
    level: str,
    bins: int = 20,
) -> pd.DataFrame:
    """Correlation and main effect of each node beside its nominal share.

    Parameters
    ----------
    nodes : DataFrame of shape (n, k)
        The nodes' scores (columns: codes).
    index : ndarray of shape (n,)
        The index.
    nominal : Series
        Nominal share of the index of each node (index: codes).
    level : str
        Written into the table (``indicator``, ``dimension``...).
    bins : int, default=20
        See :func:`main_effect`.

    Returns
    -------
    pandas.DataFrame
        ``level, code, nominal_weight, correlation, main_effect, effective_share, note``;
        ``effective_share`` is the node's main effect over the sum of its level's (NaN with a
        note where it cannot be computed, e.g. a constant node).
    """
    y = np.asarray(index, dtype=float)
    rows = []
    for code in nodes.columns:
        x = nodes[code].to_numpy(dtype=float)
        keep = ~(np.isnan(x) | np.isnan(y))
        r = effect = np.nan
        note = ""
        if keep.sum() < 3:
            note = msg("note_effective_rows", n=int(keep.sum()))
        elif not varies(x[keep]):
            note = msg("note_effective_constant")
            effect = 0.0
        elif not varies(y[keep]):
            note = msg("note_index_constant")
        else:
            r = float(np.corrcoef(x[keep], y[keep])[0, 1])
            effect = main_effect(x, y, bins=bins)
        rows.append(
            {
                "level": level,
                "code": str(code),
                "nominal_weight": float(nominal.get(code, np.nan)),
                "correlation": r,
                "main_effect": effect,
                "note": note,
            }
        )
    table = pd.DataFrame(rows)
    table["note"] = text_column(row["note"] for row in rows)
    total = table["main_effect"].sum(skipna=True)
    table["effective_share"] = table["main_effect"] / total if total > 0 else np.nan
    return table[
        [
            "level",
            "code",
            "nominal_weight",
            "correlation",
            "main_effect",
            "effective_share",
            "note",
        ]
    ]

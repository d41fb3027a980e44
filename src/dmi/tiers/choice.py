"""The choice of the number of tiers, K, when ``n_tiers="auto"``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dmi.errors import DataError
from dmi.tiers.cluster import Clustering, fit_once

__all__ = ["SILHOUETTE_ROWS", "KChoice", "choose_k"]

SILHOUETTE_ROWS = 10_000
"""The silhouette (quadratic in the rows) is computed on a sample of at most this many rows."""


@dataclass(frozen=True)
class KChoice:
    """How the number of tiers was chosen.

    Attributes
    ----------
    mode
        ``"fixed"`` (given as ``n_tiers``) or ``"auto"``.
    criterion
        ``"silhouette"`` (higher is better), ``"bic"`` (lower is better) or None when fixed.
    scores
        The criterion for every K tried.
    chosen
        The number of tiers.
    reason
        Why ``chosen`` won, in one sentence.
    """

    mode: str
    criterion: str | None
    scores: dict[int, float]
    chosen: int
    reason: str


def choose_k(
    z: np.ndarray, ks: list[int], method: str, seed: int, rng: np.random.Generator
) -> tuple[KChoice, Clustering]:
    """Fit every K in ``ks`` and keep the best: the highest silhouette (k-means, Ward; on a
    sample of at most :data:`SILHOUETTE_ROWS` rows drawn with ``rng``) or the lowest BIC
    (mixture).

    Returns
    -------
    (KChoice, Clustering)
        How K was chosen (every K tried, its criterion and why the winner won), and the
        winner's clustering.

    Raises
    ------
    DataError
        When no K gives two or more tiers on these rows.
    """
    fits: dict[int, Clustering] = {}
    scores: dict[int, float] = {}
    if method == "gmm":
        criterion = "bic"
        for k in ks:
            fits[k] = fit_once(z, k, method, seed)
            scores[k] = float(fits[k].bic)
    else:
        from sklearn.metrics import silhouette_score

        criterion = "silhouette"
        m = min(len(z), SILHOUETTE_ROWS)
        sub = (
            np.sort(rng.choice(len(z), size=m, replace=False)) if m < len(z) else np.arange(len(z))
        )
        for k in ks:
            fits[k] = fit_once(z, k, method, seed)
            labels = fits[k].kernel().label(z[sub])
            scores[k] = (
                float(silhouette_score(z[sub], labels))
                if len(np.unique(labels)) > 1
                else float("nan")
            )
    sign = -1.0 if criterion == "bic" else 1.0
    ranked = sorted((k for k in ks if np.isfinite(scores[k])), key=lambda k: (-sign * scores[k], k))
    if not ranked:
        raise DataError(f"no K in {ks[0]}..{ks[-1]} gave two or more tiers on these data")
    best = ranked[0]
    span = f"K = {ks[0]}..{ks[-1]}"
    if criterion == "bic":
        reason = f"K = {best} has the lowest BIC ({scores[best]:.1f}) among {span}"
        if len(ranked) > 1:
            margin = scores[ranked[1]] - scores[best]
            reason += (
                f"; the runner-up K = {ranked[1]} is {margin:.1f} higher (BIC weighs "
                "fit against the number of parameters)"
            )
    else:
        reason = (
            f"K = {best} has the highest silhouette ({scores[best]:.3f}) among {span} "
            f"on {len(sub)} sampled rows"
        )
        if len(ranked) > 1:
            reason += (
                f"; the runner-up is K = {ranked[1]} ({scores[ranked[1]]:.3f}); "
                "silhouette is how much closer companies are to their own tier than "
                "to the next one"
            )
    return KChoice("auto", criterion, scores, best, reason), fits[best]

"""One clustering of standardised rows, and the sample a large population is fitted on.

k-means (``n_init`` = 10), a Gaussian mixture (full covariances, ``n_init`` = 3) or Ward's
hierarchical clustering, summarised by its centroids. scikit-learn is imported only here, and
runs on one thread, so the same seed gives the same model on any machine.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dmi.tiers.kernel import Kernel

METHODS = ("kmeans", "gmm", "ward")
"""The clustering methods of :class:`~dmi.tiers.TierModel`."""

__all__ = [
    "GMM_N_INIT",
    "METHODS",
    "KMEANS_N_INIT",
    "WARD_MAX_ROWS",
    "Clustering",
    "fit_once",
    "stratified_sample",
]

KMEANS_N_INIT = 10
GMM_N_INIT = 3
WARD_MAX_ROWS = 5_000
"""Ward's memory and time grow with the square of the rows: it is fitted on at most this many."""


@dataclass
class Clustering:
    """One clustering of standardised rows (components in the algorithm's arbitrary order)."""

    centroids: np.ndarray
    weights: np.ndarray | None
    covariances: np.ndarray | None
    labels: np.ndarray | None  # hard membership (kmeans, ward)
    resp: np.ndarray | None  # soft membership (gmm)
    bic: float | None
    notes: list[str]

    def kernel(self) -> Kernel:
        return Kernel.build(self.centroids, self.weights, self.covariances)

    def placed_mean(self, values: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over the rows ``z`` each component holds as the model places them
        (the nearest centroid; a mixture's most probable component), which the tiers are
        ordered and summarised by; a component that holds none: its members' mean
        (:meth:`member_mean`)."""
        k = len(self.centroids)
        placed = self.kernel().label(z)
        counts = np.bincount(placed, minlength=k)
        sums = np.bincount(placed, values, minlength=k)
        return np.where(counts > 0, sums / np.maximum(counts, 1), self.member_mean(values))

    def member_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each component's members (responsibility-weighted for gmm)."""
        k = len(self.centroids)
        if self.resp is not None:
            return (self.resp * values[:, None]).sum(axis=0) / self.resp.sum(axis=0)
        counts = np.bincount(self.labels, minlength=k)
        return np.bincount(self.labels, values, minlength=k) / np.maximum(counts, 1)


def fit_once(z: np.ndarray, k: int, method: str, seed: int) -> Clustering:
    """Cluster standardised rows into ``k`` groups; scikit-learn is imported only here."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    # One thread: multi-threaded k-means sums in an order that depends on the core count, so the
    # same seed would give different last bits on another machine; and on small fits (every
    # bootstrap refit) threads cost more than they save.
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1):
        warnings.simplefilter("always", ConvergenceWarning)
        if method == "kmeans":
            from sklearn.cluster import KMeans

            est = KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=seed).fit(z)
            fit = Clustering(
                est.cluster_centers_.copy(),
                None,
                None,
                est.labels_.astype(np.int64),
                None,
                None,
                [],
            )
        elif method == "gmm":
            from sklearn.mixture import GaussianMixture

            est = GaussianMixture(
                n_components=k, covariance_type="full", n_init=GMM_N_INIT, random_state=seed
            ).fit(z)
            fit = Clustering(
                est.means_.copy(),
                est.weights_.copy(),
                est.covariances_.copy(),
                None,
                est.predict_proba(z),
                float(est.bic(z)),
                [],
            )
        else:
            from sklearn.cluster import AgglomerativeClustering

            labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(z).labels_
            labels = labels.astype(np.int64)
            counts = np.bincount(labels, minlength=k)
            centroids = np.stack(
                [np.bincount(labels, z[:, j], minlength=k) / counts for j in range(z.shape[1])],
                axis=1,
            )
            fit = Clustering(centroids, None, None, labels, None, None, [])
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            fit.notes.append(str(w.message).strip())
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return fit


def stratified_sample(
    frame: pd.DataFrame, dmi: np.ndarray, m: int, rng: np.random.Generator
) -> tuple[np.ndarray, str]:
    """Row indices of a proportional stratified sample of ``m`` rows (sorted)."""
    n = len(dmi)
    if "level" in frame.columns:
        strata = pd.factorize(frame["level"].astype(str), sort=True)[0]
        name = "level"
    else:
        ranks = np.empty(n, dtype=np.int64)
        ranks[np.argsort(dmi, kind="stable")] = np.arange(n)
        strata = ranks * 5 // n
        name = "dmi quintiles"
    counts = np.bincount(strata)
    quota = counts * (m / n)
    alloc = np.floor(quota).astype(np.int64)
    # largest remainders get the rows that rounding down left over, so the total is exactly m
    extra = m - int(alloc.sum())
    if extra > 0:
        alloc[np.argsort(-(quota - alloc), kind="stable")[:extra]] += 1
    order = np.lexsort((rng.random(n), strata))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, counts)
    return np.flatnonzero(rank < alloc[strata]), name

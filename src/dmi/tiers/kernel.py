"""The tier kernel: the scores of rows against the fitted tiers, and what :meth:`TierModel.predict`
makes of them, chunk by chunk.

Only numpy and the stored parameters (never a scikit-learn object): every operation is
element-wise over rows with a fixed order over features and tiers, so a row's tier and confidence
do not depend on how many rows are computed with it, and a loaded model gives bit-identical tiers
on one row or on a million.

Membership confidence
---------------------
- mixture (``gmm``): the posterior probability of the chosen component;
- centroids (``kmeans``, ``ward``): ``1 - d1 / d2``, where ``d1`` and ``d2`` are the Euclidean
  distances (in standardised units) to the nearest and the second-nearest centroid: 0 on the
  border between two tiers, 1 at a centroid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["CHUNK", "Kernel", "evaluate", "margin", "standardise"]

CHUNK = 16_384
"""Rows scored at once: the buffers of one chunk stay in the cache."""
# beyond this many standard deviations squares would overflow; no real score gets near it
_Z_LIMIT = 1e12
_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class Kernel:
    """The prediction kernel: per-tier scores (higher = closer), element by element.

    Every operation is element-wise over rows with a fixed order over features and tiers, so a
    row's result does not depend on how many rows are computed with it.
    """

    centroids: np.ndarray  # (K, d), standardised units
    prec_chol: np.ndarray | None = None  # (K, d, d) lower-triangular L^-1 with L L' = covariance
    log_norm: np.ndarray | None = None  # (K,) log weight + log normalising constant

    @classmethod
    def build(
        cls,
        centroids: np.ndarray,
        weights: np.ndarray | None = None,
        covariances: np.ndarray | None = None,
    ) -> Kernel:
        """The kernel of centroids (``kmeans``, ``ward``) or of a mixture (``gmm``: with its
        ``weights`` and ``covariances``), all in standardised units, tier 1 first."""
        if covariances is None:
            return cls(np.asarray(centroids, dtype=float))
        k, d = centroids.shape
        prec = np.empty((k, d, d))
        log_norm = np.empty(k)
        for j in range(k):
            lower = np.linalg.cholesky(covariances[j])
            prec[j] = np.tril(np.linalg.solve(lower, np.eye(d)))
            log_norm[j] = (
                math.log(weights[j]) - 0.5 * d * _LOG_2PI + float(np.sum(np.log(np.diag(prec[j]))))
            )
        return cls(np.asarray(centroids, dtype=float), prec, log_norm)

    def scores(self, z: np.ndarray) -> np.ndarray:
        """``(n, K)``: minus the squared distance, or the log of weight x density (mixture)."""
        n = z.shape[0]
        k, d = self.centroids.shape
        cols = np.ascontiguousarray(z.T)
        out = np.empty((n, k))
        # a few reused buffers: fresh large temporaries cost page faults that dwarf the arithmetic
        diff = np.empty((d, n))
        acc, y, tmp = np.empty(n), np.empty(n), np.empty(n)
        for t in range(k):
            np.subtract(cols, self.centroids[t][:, None], out=diff)
            if self.prec_chol is None:
                np.multiply(diff[0], diff[0], out=acc)
                for j in range(1, d):
                    np.multiply(diff[j], diff[j], out=tmp)
                    np.add(acc, tmp, out=acc)
                np.negative(acc, out=out[:, t])
            else:
                p = self.prec_chol[t]
                for i in range(d):
                    np.multiply(diff[0], p[i, 0], out=y)
                    for j in range(1, i + 1):
                        np.multiply(diff[j], p[i, j], out=tmp)
                        np.add(y, tmp, out=y)
                    if i == 0:
                        np.multiply(y, y, out=acc)
                    else:
                        np.multiply(y, y, out=tmp)
                        np.add(acc, tmp, out=acc)
                np.multiply(acc, 0.5, out=acc)
                np.subtract(self.log_norm[t], acc, out=out[:, t])
        return out

    def label(self, z: np.ndarray) -> np.ndarray:
        """0-based index of the best component, in chunks."""
        out = np.empty(z.shape[0], dtype=np.int64)
        for start in range(0, z.shape[0], CHUNK):
            out[start : start + CHUNK] = np.argmax(self.scores(z[start : start + CHUNK]), axis=1)
        return out


def standardise(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Rows in standardised units (clipped far beyond any real score, so squares stay finite)."""
    with np.errstate(over="ignore"):
        return np.clip((x - mean) / scale, -_Z_LIMIT, _Z_LIMIT)


def evaluate(
    kernel: Kernel, mean: np.ndarray, scale: np.ndarray, x: np.ndarray, proba: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Tiers (1..K), confidences and, when asked, posteriors (mixture) of a feature matrix.

    No input validation: ``x`` is a finite ``(n, n_features)`` matrix in the features' own units.
    """
    n = x.shape[0]
    k = kernel.centroids.shape[0]
    tiers = np.empty(n, dtype=np.int64)
    confidence = np.empty(n)
    posterior = np.empty((n, k)) if proba else None
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        s = kernel.scores(standardise(x[start:stop], mean, scale))
        best = np.argmax(s, axis=1)
        tiers[start:stop] = best + 1
        if kernel.prec_chol is None:
            # smallest and second-smallest squared distance, tier by tier
            first = -s[:, 0]
            second = np.full(len(s), np.inf)
            for t in range(1, k):
                value = -s[:, t]
                second = np.minimum(second, np.maximum(first, value))
                first = np.minimum(first, value)
            d1, d2 = np.sqrt(first), np.sqrt(second)
            with np.errstate(invalid="ignore", divide="ignore"):
                conf = np.where(d2 > 0, 1.0 - d1 / d2, 0.0)
        else:
            top = s[np.arange(stop - start), best]
            e = np.exp(s - top[:, None])
            total = e[:, 0].copy()
            for t in range(1, k):
                total += e[:, t]
            conf = 1.0 / total
            if posterior is not None:
                posterior[start:stop] = e / total[:, None]
        confidence[start:stop] = np.clip(conf, 0.0, 1.0)
    return tiers, confidence, posterior


def margin(
    kernel: Kernel, mean: np.ndarray, scale: np.ndarray, y: np.ndarray, tier: int
) -> np.ndarray:
    """> 0 exactly when the rows ``y`` are placed above ``tier`` (argmax takes the first)."""
    s = kernel.scores(standardise(y, mean, scale))
    return s[:, tier:].max(axis=1) - s[:, :tier].max(axis=1)

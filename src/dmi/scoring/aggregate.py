"""Aggregation of weighted scores (OECD/JRC Handbook, step 7).

Each function combines the columns of ``X`` (n_units, k) with weights ``w`` (k,) into one value per
unit. NaN marks an excluded input: it is left out and the remaining weights are rescaled, so an
excluded answer never counts as a zero. A unit with no usable input gets NaN.

Sums run over columns in a fixed order with elementwise numpy operations (never a BLAS matrix
product, whose blocking depends on the batch size), so a unit's result is bit-for-bit the same
whether it is scored alone or inside a batch of a million.

- ``arithmetic``: sum w x / sum w — fully compensatory.
- ``geometric``: exp(sum w ln(x + c) / sum w) - c — partly compensatory. The logarithm needs
  positive inputs; a zero is handled by the explicit offset ``c`` (default 0.01, i.e. one point on
  the 0-100 scale), which keeps 0 -> 0 and 1 -> 1 and the result monotone.
- ``mazziotta_pareto``: z = 100 + 10 (x - mean) / sd with the reference mean and population sd of
  each input (:func:`mazziotta_pareto_reference`, as Mazziotta and Pareto define it); MPI- = M_z -
  S_z cv with M_z, S_z the (weighted) mean and population sd of a unit's z values and cv = S_z /
  M_z — it penalises unbalanced profiles. It is not monotone everywhere: when an input's
  reference sd is small, a high value of it lies far above the mean and the penalty can outgrow
  the gain, so raising that input lowers the index (:func:`mazziotta_pareto_decreasing` finds
  where).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from dmi.errors import UsageError

__all__ = [
    "AGGREGATIONS",
    "aggregate",
    "arithmetic",
    "arithmetic_of_columns",
    "geometric",
    "mazziotta_pareto",
    "mazziotta_pareto_decreasing",
    "mazziotta_pareto_reference",
]

AGGREGATIONS = ("arithmetic", "geometric", "mazziotta-pareto")


def _weighted_parts(X: np.ndarray, w: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    values, weights = [], []
    for j in range(X.shape[1]):
        x = X[:, j]
        present = ~np.isnan(x)
        values.append(np.where(present, x, 0.0))
        weights.append(np.where(present, w[j], 0.0))
    return values, weights


def _column_sum(parts: list[np.ndarray], n: int) -> np.ndarray:
    total = np.zeros(n)
    for part in parts:
        total = total + part
    return total


def _check(X: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    w = np.asarray(w, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D (units x inputs) array, got shape {X.shape}")
    if w.shape != (X.shape[1],):
        raise ValueError(f"expected {X.shape[1]} weights, got shape {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights must be finite and non-negative, got {w.tolist()}")
    return X, w


def arithmetic(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted arithmetic mean of each row, skipping NaN inputs."""
    X, w = _check(X, w)
    return arithmetic_of_columns(X.T, w, X.shape[0])


def arithmetic_of_columns(columns: Iterable[np.ndarray], w: Sequence[float], n: int) -> np.ndarray:
    """:func:`arithmetic` of the matrix whose columns are ``columns`` (``n`` values each).

    The columns may be views (of a Fortran-ordered matrix, say), so no matrix is copied. The
    weights must already be checked (finite, non-negative). Each present value adds ``x * w``
    to the numerator and ``w`` to the denominator, column after column: the same operations in
    the same order as ever, so the results are the same to the bit.
    """
    numerator = np.zeros(n)
    denominator = np.zeros(n)
    for x, weight in zip(columns, w):
        present = ~np.isnan(x)
        numerator += np.where(present, x * weight, 0.0)
        denominator += np.where(present, weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def geometric(X: np.ndarray, w: np.ndarray, offset: float = 0.01) -> np.ndarray:
    """Weighted geometric mean of each row with an explicit offset for zeros, skipping NaN."""
    X, w = _check(X, w)
    if offset < 0:
        raise UsageError(f"offset must be non-negative, got {offset}")
    finite = X[~np.isnan(X)]
    if finite.size and finite.min() + offset <= 0:
        raise ValueError(
            f"geometric aggregation needs inputs above {-offset} (offset {offset}); got "
            f"{finite.min()}: use a bounded normalisation or a larger offset"
        )
    values, weights = _weighted_parts(X, w)
    n = X.shape[0]
    logs = [np.log(v + offset) * wt for v, wt in zip(values, weights)]
    numerator = _column_sum(logs, n)
    denominator = _column_sum(weights, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, np.exp(numerator / denominator) - offset, np.nan)


def mazziotta_pareto(X: np.ndarray, w: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Mazziotta-Pareto index (MPI-, the penalised version) of each row, skipping NaN."""
    X, w = _check(X, w)
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    safe_sd = np.where(sd > 0, sd, 1.0)
    Z = 100.0 + 10.0 * (X - mean) / safe_sd
    Z = np.where(sd > 0, Z, np.where(np.isnan(X), np.nan, 100.0))
    m_z = arithmetic(Z, w)
    deviations = (Z - m_z[:, None]) ** 2
    s_z = np.sqrt(arithmetic(deviations, w))
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(m_z != 0, s_z / m_z, 0.0)
    return m_z - s_z * cv


def mazziotta_pareto_reference(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference mean and population sd of each input (NaN skipped), for
    :func:`mazziotta_pareto`.

    Mazziotta and Pareto standardise with the population standard deviation (divisor n,
    M. Mazziotta and A. Pareto, "On a generalized non-compensatory composite index for
    measuring socio-economic phenomena", *Social Indicators Research* 127, 2016). A column
    with no value has mean NaN and sd 0; a constant column sd 0 (its z is then 100).
    """
    X = np.asarray(X, dtype=float)
    present = ~np.isnan(X)
    count = present.sum(axis=0)
    filled = np.where(present, X, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, filled.sum(axis=0) / count, np.nan)
        deviations = np.where(present, X - mean, 0.0)
        sd = np.where(count > 0, np.sqrt((deviations * deviations).sum(axis=0) / count), 0.0)
    return mean, sd


def mazziotta_pareto_decreasing(
    X: np.ndarray, w: np.ndarray, mean: np.ndarray, sd: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Where raising one input lowers :func:`mazziotta_pareto`: a boolean (n_units, k) array.

    Entry ``(i, j)`` is True when, for unit ``i`` with the other inputs as they are, MPI- falls
    somewhere on the way from ``X[i, j]`` up to ``upper[j]``. With the weights ``a`` normalised
    over the unit's present inputs, ``M`` and ``S^2`` its weighted mean and variance of z,
    ``dMPI/dz_j = a_j (2 M^2 - 2 z_j M + sum_k a_k z_k^2) / M^2``; along ``z_j`` the bracket is
    a quadratic whose minimum on the segment is at an end or at its vertex, so the test is
    exact (where ``M`` reaches 0 on the way the index has a pole, which counts too). Missing
    inputs, inputs of weight 0 and inputs with a reference sd of 0 never count.
    """
    X, w = _check(X, w)
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    upper = np.asarray(upper, dtype=float)
    n, k = X.shape
    present = ~np.isnan(X)
    safe_sd = np.where(sd > 0, sd, 1.0)
    Z = np.where(present, 100.0 + 10.0 * (X - mean) / safe_sd, 0.0)
    Z = np.where(present & (sd > 0), Z, np.where(present, 100.0, 0.0))
    a_all = np.where(present, w, 0.0)
    total = a_all.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_all = np.where(total > 0, a_all / total, 0.0)
    out = np.zeros((n, k), dtype=bool)
    for j in range(k):
        a = a_all[:, j]
        c = (a_all * Z).sum(axis=1) - a * Z[:, j]
        q = (a_all * Z * Z).sum(axis=1) - a * Z[:, j] ** 2
        lo = Z[:, j]
        hi = np.maximum(lo, 100.0 + 10.0 * (upper[j] - mean[j]) / safe_sd[j])

        def bracket(t: np.ndarray, a=a, c=c, q=q) -> np.ndarray:
            return (2 * a * a - a) * t * t + (4 * c * a - 2 * c) * t + 2 * c * c + q

        low = np.minimum(bracket(lo), bracket(hi))
        with np.errstate(invalid="ignore", divide="ignore"):
            vertex = np.where(a > 0, -c / np.where(a > 0, a, 1.0), lo)
        inside = (2 * a * a - a > 0) & (vertex > lo) & (vertex < hi)
        low = np.where(inside, np.minimum(low, bracket(vertex)), low)
        scale = 2 * c * c + q + 1.0
        # where M_z reaches 0 the index has a pole: no direction is safe there
        pole = np.minimum(c + a * lo, c + a * hi) <= 0
        out[:, j] = present[:, j] & (a > 0) & (sd[j] > 0) & ((low < -1e-12 * scale) | pole)
    return out


def aggregate(
    method: str,
    X: np.ndarray,
    w: np.ndarray,
    *,
    offset: float = 0.01,
    mean: np.ndarray | None = None,
    sd: np.ndarray | None = None,
) -> np.ndarray:
    """Dispatch to the aggregation ``method`` (one of :data:`AGGREGATIONS`)."""
    if method == "arithmetic":
        return arithmetic(X, w)
    if method == "geometric":
        return geometric(X, w, offset)
    if method == "mazziotta-pareto":
        if mean is None or sd is None:
            raise ValueError("Mazziotta-Pareto aggregation needs the reference mean and sd")
        return mazziotta_pareto(X, w, mean, sd)
    raise UsageError(f"unknown aggregation {method!r}; expected one of {', '.join(AGGREGATIONS)}")

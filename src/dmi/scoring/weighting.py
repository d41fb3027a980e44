"""Low-level indicator weighting schemes for the composite Digital Maturity Index.

Every function here is pure and works on plain numpy arrays (array-likes are accepted and
converted with ``np.asarray(..., dtype=float)``).  Data matrices are laid out as
``(n_units, m_indicators)``: one row per enterprise (or region, sector, ...), one column
per indicator.

Schemes
-------
equal
    ``n`` equal weights.
entropy
    Shannon-entropy (information content) weights.
critic
    CRITIC weights (Diakoulaki et al., 1995): contrast intensity times conflict.
pca
    Factor-analytic weights following the OECD/JRC *Handbook on Constructing Composite
    Indicators* (2008): principal components of the correlation matrix, varimax rotation,
    squared scaled loadings.
ahp
    Analytic Hierarchy Process weights from a pairwise comparison matrix (n <= 15), with
    Saaty's consistency ratio; :func:`pairwise_matrix` and :func:`parse_judgement` read
    judgements as people write them (``1/3``, ``0.333``).
bod
    Benefit of the Doubt (DEA-style) unit-specific endogenous weights.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from dmi.errors import FileFormatError, MissingFileError, ParameterError, UsageError
from dmi.yamlfile import load_unique

WEIGHTINGS = ("instrument", "equal", "entropy", "critic", "pca", "ahp", "bod")
"""The weighting schemes of :class:`~dmi.IndexModel` (here, without the model, for the CLI)."""
WEIGHT_LEVELS = ("item", "indicator", "dimension")
"""Where data-driven weights are computed."""

__all__ = [
    "BOD_VERTEX_MAX_DIM",
    "WEIGHTINGS",
    "WEIGHT_LEVELS",
    "RANDOM_INDEX",
    "AHPResult",
    "BoDResult",
    "CR_THRESHOLD",
    "PCA_RETAIN",
    "PCA_ROTATIONS",
    "PCAWeights",
    "RECIPROCAL_ATOL",
    "ahp",
    "ahp_from_judgements",
    "bod",
    "bod_score",
    "check_pca_retain",
    "critic",
    "entropy",
    "equal",
    "pairwise_from_judgements",
    "pairwise_matrix",
    "parse_judgement",
    "pca",
    "read_pairwise_file",
]

#: Saaty's random consistency index RI, keyed by matrix order ``n`` (n = 1..15): the mean
#: consistency index of random reciprocal matrices, as tabulated in T. L. Saaty, *The Analytic
#: Hierarchy Process* (McGraw-Hill, 1980). The dip at n = 12 (1.48) is in the published table.
RANDOM_INDEX: Mapping[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}

#: Saaty's rule: judgements with a consistency ratio at or above this are not acceptable.
CR_THRESHOLD = 0.10

#: How far the smaller entry of a pair written in a table may be from the reciprocal of the
#: larger one: half a unit in the second decimal, so 0.33 or 0.333 is read as 1/3 and 0.14 as
#: 1/7 (two neighbouring points of Saaty's 1-9 scale differ by far more).
RECIPROCAL_ATOL = 0.005

#: ``bod(method="auto")`` enumerates polytope vertices only up to this many indicators; the
#: vertex count grows combinatorially with m, so above it one LP per unit is solved instead.
BOD_VERTEX_MAX_DIM = 6

_AHP_RTOL = 1e-6
_BOUND_TOL = 1e-12
_PRUNE_MAX_WORK = 2_000_000_000  # n^2 m element comparisons allowed for Pareto pruning
_PRUNE_CHUNK = 20_000_000  # elements per vectorised dominance block
_LP_ADD = 20  # reference rows added per row-generation round


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _as_2d(X: ArrayLike, name: str = "X") -> np.ndarray:
    """Convert to a float 2-D array or raise a ``ValueError`` explaining the expected shape."""
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2:
        raise UsageError(
            f"{name}: expected a 2-D (units x indicators) array, got an array of shape {arr.shape}"
        )
    return arr


def _check_finite(arr: np.ndarray, name: str = "X") -> None:
    """Raise ``ValueError`` naming the first NaN/inf cell (row, column) and its value."""
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise UsageError(
            f"{name}: column {j} contains a non-finite value {arr[i, j]!r} (row {i}); "
            "impute or drop missing values before weighting"
        )


def _check_non_negative(arr: np.ndarray, name: str = "X") -> None:
    """Raise ``ValueError`` naming the first negative cell (row, column) and its value."""
    neg = arr < 0
    if neg.any():
        i, j = np.argwhere(neg)[0]
        raise UsageError(
            f"{name}: column {j} contains a negative value {arr[i, j]!r} (row {i}); "
            "this method requires non-negative data"
        )


def _equal_array(m: int) -> np.ndarray:
    return np.full(m, 1.0 / m)


# --------------------------------------------------------------------------------------
# equal
# --------------------------------------------------------------------------------------


def equal(n: int) -> np.ndarray:
    """Return ``n`` equal weights summing to one.

    Parameters
    ----------
    n : int
        Number of indicators (must be >= 1).

    Returns
    -------
    numpy.ndarray
        Array of shape ``(n,)`` filled with ``1 / n``.

    Raises
    ------
    ValueError
        If ``n < 1``.
    TypeError
        If ``n`` is not an integer.
    """
    n = operator.index(n)
    if n < 1:
        raise UsageError(f"equal weights need n >= 1 indicators, got n = {n}")
    return _equal_array(n)


# --------------------------------------------------------------------------------------
# entropy
# --------------------------------------------------------------------------------------


def entropy(X: ArrayLike) -> np.ndarray:
    """Shannon-entropy weights.

    With ``p_ij = x_ij / sum_i x_ij`` the entropy of indicator ``j`` is
    ``e_j = -(1 / ln n) * sum_i p_ij ln p_ij`` (using ``0 ln 0 = 0``), its degree of
    diversification is ``d_j = 1 - e_j`` and the weights are ``w = d / sum(d)``.

    A column that is all zero or constant carries no information and gets ``d_j = 0``
    exactly (hence weight 0).  If *every* column is constant (``sum(d) == 0``) the
    function returns equal weights ``1 / m``.

    Parameters
    ----------
    X : array_like, shape (n_units, m)
        Non-negative indicator values, at least 2 rows.

    Returns
    -------
    numpy.ndarray
        Weights of shape ``(m,)``, non-negative, summing to one.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has fewer than 2 rows, or contains a negative, NaN or infinite
        value (the message names the column index and the offending value).
    """
    X = _as_2d(X)
    n, m = X.shape
    if n < 2:
        raise UsageError(f"entropy weights need at least 2 units (rows), got {n}")
    if m < 1:
        raise UsageError("entropy weights need at least 1 indicator (column), got 0")
    _check_finite(X)
    _check_non_negative(X)

    informative = X.max(axis=0) > X.min(axis=0)  # excludes constant and all-zero columns
    d = np.zeros(m)
    if informative.any():
        Xi = X[:, informative]
        P = Xi / Xi.sum(axis=0)
        plogp = np.zeros_like(P)
        pos = P > 0
        plogp[pos] = P[pos] * np.log(P[pos])
        e = -plogp.sum(axis=0) / np.log(n)
        d[informative] = np.clip(1.0 - e, 0.0, None)
    total = d.sum()
    if total <= 0:
        return _equal_array(m)
    return d / total


# --------------------------------------------------------------------------------------
# CRITIC
# --------------------------------------------------------------------------------------


def _corr(Z: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns of ``Z`` (none constant), clipped to [-1, 1]."""
    C = Z - Z.mean(axis=0)
    C = C / np.sqrt((C * C).sum(axis=0))
    r = C.T @ C
    np.clip(r, -1.0, 1.0, out=r)
    np.fill_diagonal(r, 1.0)
    return r


def critic(X: ArrayLike) -> np.ndarray:
    """CRITIC weights (Criteria Importance Through Intercriteria Correlation).

    Each column is min-max normalised over the rows.  With ``sd_j`` the sample standard
    deviation (``ddof=1``) of normalised column ``j`` and ``r`` the Pearson correlation matrix
    of the normalised columns, the information content is ``C_j = sd_j * sum_k (1 - r_jk)``
    and ``w = C / sum(C)`` (Diakoulaki et al., 1995).

    A constant column carries no information and its correlation with the others is
    undefined: it gets weight 0 and is left out of every other column's conflict sum, so the
    other columns get exactly the weights CRITIC gives them without it.  With a single
    non-constant column, that column gets weight 1; if the ``C_j`` of the non-constant columns
    are all zero (they are perfectly correlated), those columns share the weight equally.  If
    every column is constant, equal weights ``1 / m`` are returned.

    Parameters
    ----------
    X : array_like, shape (n_units, m)
        Indicator values (any sign), at least 2 rows.

    Returns
    -------
    numpy.ndarray
        Weights of shape ``(m,)``, non-negative, summing to one.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has fewer than 2 rows, or contains NaN/inf.
    """
    X = _as_2d(X)
    n, m = X.shape
    if n < 2:
        raise UsageError(f"CRITIC weights need at least 2 units (rows), got {n}")
    if m < 1:
        raise UsageError("CRITIC weights need at least 1 indicator (column), got 0")
    _check_finite(X)

    lo = X.min(axis=0)
    rng = X.max(axis=0) - lo
    varying = rng > 0
    k = int(varying.sum())
    if k == 0:
        return _equal_array(m)
    w = np.zeros(m)
    if k == 1:
        w[varying] = 1.0
        return w
    Z = (X[:, varying] - lo[varying]) / rng[varying]
    sd = Z.std(axis=0, ddof=1)
    C = np.clip(sd * (1.0 - _corr(Z)).sum(axis=1), 0.0, None)
    total = C.sum()
    w[varying] = C / total if total > 0 else _equal_array(k)
    return w


# --------------------------------------------------------------------------------------
# PCA / factor analysis (OECD-JRC Handbook 2008)
# --------------------------------------------------------------------------------------


#: Factor-retention rules of :func:`pca` by name; a whole number ``k`` keeps the first ``k``.
PCA_RETAIN = ("kaiser+10%", "cumulative-60%")
#: Varimax rotations of :func:`pca` (:class:`dmi.IndexModel`'s ``pca_rotation``): raw, or on the
#: Kaiser-normalised loadings.
PCA_ROTATIONS = ("varimax", "varimax-kaiser")


@dataclass(frozen=True, eq=False)
class PCAWeights:
    """Result of :func:`pca`.

    Attributes
    ----------
    weights : numpy.ndarray
        Indicator weights, shape ``(m,)``, non-negative, summing to one.
    eigenvalues : numpy.ndarray
        All ``m`` eigenvalues of the correlation matrix, in descending order.
    explained_share : numpy.ndarray
        Share of the retained (rotated) variance carried by each kept factor, shape ``(k,)``,
        summing to one.
    loadings : numpy.ndarray
        Rotated loadings, shape ``(m, k)``; factors ordered by decreasing rotated variance.
    assigned_factor : numpy.ndarray
        Integer index (into the kept factors) of the factor each indicator is assigned to.
    n_factors : int
        Number of kept factors ``k``.
    note : str
        Empty unless something needs saying: no factor met the retention rule (the first was
        kept), the kept factors explain less than ``min_cumulative`` of the variance, or the
        rotation did not converge.
    retain : str or int
        The retention rule used (one of :data:`PCA_RETAIN`, or the fixed number of factors).
    kaiser_normalisation : bool
        Whether the varimax rotation was Kaiser-normalised.
    criterion : float
        The varimax criterion of the rotated loadings (see :func:`_varimax_criterion`).
    """

    weights: np.ndarray
    eigenvalues: np.ndarray
    explained_share: np.ndarray
    loadings: np.ndarray
    assigned_factor: np.ndarray
    n_factors: int
    note: str = ""
    retain: str | int = "kaiser+10%"
    kaiser_normalisation: bool = False
    criterion: float = float("nan")


def _varimax_criterion(L: np.ndarray, gamma: float = 1.0) -> float:
    """Orthomax criterion ``sum_j [mean_i l_ij^4 - gamma * (mean_i l_ij^2)^2]``.

    With ``gamma = 1`` (varimax) it is the sum over factors of the population variance of the
    squared loadings.
    """
    L2 = L * L
    return float(((L2 * L2).mean(axis=0) - gamma * L2.mean(axis=0) ** 2).sum())


def _planar_sweep(Lr: np.ndarray, T: np.ndarray, gamma: float) -> None:
    """One sweep of Kaiser's planar rotations over every pair of factors, in place.

    Each pair of columns is turned by the angle that maximises the criterion in their plane
    (closed form: ``tan 4 phi = (D - 2 gamma A B / p) / (C - gamma (A^2 - B^2) / p)``), and the
    rotation matrix ``T`` is turned with it, so ``Lr`` stays ``L @ T``.
    """
    p, k = Lr.shape
    for i in range(k - 1):
        for j in range(i + 1, k):
            x, y = Lr[:, i].copy(), Lr[:, j].copy()
            u, v = x * x - y * y, 2.0 * x * y
            a, b = u.sum(), v.sum()
            c, d = (u * u - v * v).sum(), 2.0 * (u * v).sum()
            phi = 0.25 * np.arctan2(d - 2.0 * gamma * a * b / p, c - gamma * (a * a - b * b) / p)
            cos, sin = np.cos(phi), np.sin(phi)
            Lr[:, i], Lr[:, j] = cos * x + sin * y, cos * y - sin * x
            ti, tj = T[:, i].copy(), T[:, j].copy()
            T[:, i], T[:, j] = cos * ti + sin * tj, cos * tj - sin * ti


def _varimax(
    L: np.ndarray,
    gamma: float = 1.0,
    *,
    kaiser_normalisation: bool = False,
    tol: float = 1e-14,
    max_iter: int = 1000,
    max_sweeps: int = 10_000,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Varimax (orthomax with ``gamma``) rotation, iterated until the criterion converges.

    First the SVD iteration (the criterion gradient's orthogonal polar factor, started from
    the identity, as R's ``stats::varimax`` and factor_analyzer do) runs while it raises the
    criterion by more than ``tol`` (relative), at most ``max_iter`` times. Near a saddle it can
    crawl for thousands of steps, so it is followed by sweeps of Kaiser's planar rotations
    (each pair of factors turned by its optimal angle) until a whole sweep raises the criterion
    by at most ``tol`` (relative), at most ``max_sweeps`` sweeps. With
    ``kaiser_normalisation`` each row is divided by its communality's square root before the
    rotation and multiplied back after.

    Returns
    -------
    (rotated_loadings, rotation, converged)
        ``rotated_loadings = L @ rotation`` with ``rotation`` orthogonal ``(k, k)``;
        ``converged`` is False only when ``max_sweeps`` ran out.
    """
    p, k = L.shape
    T = np.eye(k)
    if k < 2:
        return L.copy(), T, True
    h = np.sqrt((L * L).sum(axis=1)) if kaiser_normalisation else np.ones(p)
    h = np.where(h > 0, h, 1.0)
    A = L / h[:, None]
    f = _varimax_criterion(A, gamma)
    for _ in range(max_iter):
        Ar = A @ T
        G = A.T @ (Ar**3 - (gamma / p) * Ar * (Ar * Ar).sum(axis=0))
        U, _s, Vt = np.linalg.svd(G)
        f_new = _varimax_criterion(A @ (U @ Vt), gamma)
        if f_new < f:
            break  # rounding noise at the optimum: keep the better rotation
        T = U @ Vt
        done = f_new - f <= tol * abs(f_new)
        f = f_new
        if done:
            break
    Ar = A @ T
    converged = False
    for _ in range(max_sweeps):
        _planar_sweep(Ar, T, gamma)
        f_new = _varimax_criterion(Ar, gamma)
        done = f_new - f <= tol * abs(f_new)
        f = max(f, f_new)
        if done:
            converged = True
            break
    return L @ T, T, converged


def _orient(L: np.ndarray) -> np.ndarray:
    """Flip factor signs so the largest-magnitude loading of each factor is positive."""
    if L.size == 0:
        return L
    idx = np.abs(L).argmax(axis=0)
    signs = np.sign(L[idx, np.arange(L.shape[1])])
    signs[signs == 0] = 1.0
    return L * signs


def check_pca_retain(retain: object) -> str | int:
    """``retain`` if it is a retention rule of :func:`pca` (a name of :data:`PCA_RETAIN` or a
    whole number of factors, at least 1).

    Raises
    ------
    UsageError
        Naming what was expected and what was given.
    """
    if isinstance(retain, str) and retain in PCA_RETAIN:
        return retain
    if isinstance(retain, (int, np.integer)) and not isinstance(retain, bool) and retain >= 1:
        return int(retain)
    raise UsageError(
        f"retain must be one of {', '.join(PCA_RETAIN)} or a whole number of factors (1 or "
        f"more); got {retain!r}"
    )


def pca(
    X: ArrayLike,
    *,
    retain: str | int = "kaiser+10%",
    eigen_threshold: float = 1.0,
    min_share: float = 0.10,
    min_cumulative: float = 0.60,
    kaiser_normalisation: bool = False,
) -> PCAWeights:
    """Factor-analytic weights following the OECD/JRC Handbook (2008, section 6.1).

    Procedure
    ---------
    1. Standardise every column to z-scores (sample sd, ``ddof=1``) and form the
       correlation matrix ``R``; eigen-decompose it (eigenvalues sorted descending,
       variance share of factor ``j`` = ``lambda_j / m``).
    2. **Factor retention.**  A factor is *eligible* when its eigenvalue is
       ``> eigen_threshold`` **and** its variance share is ``>= min_share``; both decrease
       with the factor index, so the eligible factors are the leading ones.

       * ``retain="kaiser+10%"`` (default): keep every eligible factor, as the Handbook's
         worked example does (its third condition, a cumulative share above
         ``min_cumulative``, is then a check: :attr:`PCAWeights.note` says when the kept
         factors explain less).
       * ``retain="cumulative-60%"``: add eligible factors in order and stop at the first
         whose cumulative share reaches ``min_cumulative`` (later eligible factors are
         dropped); all eligible factors are kept if they never reach it.
       * ``retain=k`` (a whole number): keep the first ``k`` factors whatever their
         eigenvalues (the note says when one of them fails the eligibility tests).

       If no factor is eligible (and ``retain`` is a rule) the first factor alone is kept and
       the note says so.
    3. Unrotated loadings ``L = v_j * sqrt(lambda_j)`` of the kept factors are rotated with
       varimax (``gamma = 1``), raw or with ``kaiser_normalisation``, iterated until the
       criterion converges (see :func:`_varimax`); with one kept factor there is no
       rotation.  Rotated factors are ordered by decreasing variance and signed so their
       largest loading is positive.
    4. Squared rotated loadings are scaled to sum to one per factor.  Each indicator is
       assigned to the factor on which its scaled squared loading is largest; its weight is
       that scaled squared loading times the factor's share of explained variance
       (rotated factor variance divided by the total over the kept factors).  Weights are
       renormalised to sum to one.

    Parameters
    ----------
    X : array_like, shape (n_units, m)
        Indicator values; at least 2 rows, no constant column.
    retain : {"kaiser+10%", "cumulative-60%"} or int, default "kaiser+10%"
        The retention rule (step 2); the percentages are those of ``min_share`` and
        ``min_cumulative``; a whole number keeps that many factors (at most ``m``).
    eigen_threshold : float, default 1.0
        Minimum eigenvalue (strict) for an eligible factor (Kaiser criterion).
    min_share : float, default 0.10
        Minimum individual share of total variance for an eligible factor.
    min_cumulative : float, default 0.60
        Cumulative share of total variance: the stopping point of ``"cumulative-60%"``, a
        check under ``"kaiser+10%"``.
    kaiser_normalisation : bool, default False
        Rotate the Kaiser-normalised loadings (each row scaled to unit communality, the default
        of SPSS, R's ``varimax`` and factor_analyzer) instead of the raw ones.

    Returns
    -------
    PCAWeights
        Weights and diagnostics.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has fewer than 2 rows, contains NaN/inf or has a constant
        column (its correlation is undefined), or if a parameter is out of range.
    """
    retain = check_pca_retain(retain)
    X = _as_2d(X)
    n, m = X.shape
    if n < 2:
        raise UsageError(f"PCA weights need at least 2 units (rows), got {n}")
    if m < 1:
        raise UsageError("PCA weights need at least 1 indicator (column), got 0")
    _check_finite(X)
    if not (0.0 <= min_share < 1.0):
        raise UsageError(f"min_share must lie in [0, 1), got {min_share}")
    if not (0.0 <= min_cumulative <= 1.0):
        raise UsageError(f"min_cumulative must lie in [0, 1], got {min_cumulative}")
    if not np.isfinite(eigen_threshold):
        raise UsageError(f"eigen_threshold must be finite, got {eigen_threshold}")
    if isinstance(retain, int) and retain > m:
        raise UsageError(f"retain: expected at most {m} factors (one per indicator), got {retain}")

    sd = X.std(axis=0, ddof=1)
    const = np.flatnonzero(~(sd > 0))
    if const.size:
        listed = ", ".join(f"column {int(j)} = {float(X[0, j]):g}" for j in const)
        raise UsageError(
            f"PCA weights: {listed} in every row (constant); drop "
            f"{'them' if const.size > 1 else 'it'} before computing correlation-based weights"
        )
    Z = (X - X.mean(axis=0)) / sd
    R = Z.T @ Z / (n - 1)
    R = 0.5 * (R + R.T)

    evals, evecs = np.linalg.eigh(R)
    order = np.argsort(evals)[::-1]
    evals = evals[order]
    evecs = evecs[:, order]
    share = evals / evals.sum()

    eligible = (evals > eigen_threshold) & (share >= min_share)
    n_eligible = int(np.argmin(eligible)) if not eligible.all() else m
    notes = []
    if isinstance(retain, int):
        k = retain
        if k > n_eligible:
            notes.append(
                f"{k - n_eligible} of the {k} factors kept by number "
                f"{'fails' if k - n_eligible == 1 else 'fail'} the eigenvalue > "
                f"{eigen_threshold:g} and {100 * min_share:g}% tests"
            )
    elif n_eligible == 0:
        k = 1
        notes.append(
            f"no factor has eigenvalue > {eigen_threshold} and variance share >= {min_share}; "
            f"fell back to the first factor (eigenvalue {evals[0]:.4g}, "
            f"share {share[0]:.4g})"
        )
    elif retain == "cumulative-60%":
        cum = np.cumsum(share[:n_eligible])
        crossed = np.flatnonzero(cum >= min_cumulative)
        k = int(crossed[0]) + 1 if crossed.size else n_eligible
    else:
        k = n_eligible
    kept = float(share[:k].sum())
    if n_eligible and kept < min_cumulative and not isinstance(retain, int):
        notes.append(
            f"the {k} kept factor{'s explain' if k > 1 else ' explains'} {100 * kept:.1f}% of "
            f"the variance, less than {100 * min_cumulative:g}%"
        )

    L = evecs[:, :k] * np.sqrt(np.clip(evals[:k], 0.0, None))
    L_rot, _, converged = _varimax(L, kaiser_normalisation=kaiser_normalisation)
    if not converged:
        notes.append("the varimax rotation did not converge")
    var = (L_rot * L_rot).sum(axis=0)
    fac_order = np.argsort(-var, kind="stable")
    L_rot = _orient(L_rot[:, fac_order])
    var = var[fac_order]
    explained = var / var.sum()

    scaled = (L_rot * L_rot) / var
    assigned = scaled.argmax(axis=1)
    w = scaled[np.arange(m), assigned] * explained[assigned]
    w = w / w.sum()
    return PCAWeights(
        weights=w,
        eigenvalues=evals,
        explained_share=explained,
        loadings=L_rot,
        assigned_factor=assigned.astype(int),
        n_factors=k,
        note="; ".join(notes),
        retain=retain,
        kaiser_normalisation=kaiser_normalisation,
        criterion=_varimax_criterion(L_rot),
    )


# --------------------------------------------------------------------------------------
# AHP
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AHPResult:
    """Result of :func:`ahp`.

    Attributes
    ----------
    weights : numpy.ndarray
        Principal right eigenvector, positive, normalised to sum to one.
    lambda_max : float
        Principal eigenvalue.
    ci : float
        Consistency index ``(lambda_max - n) / (n - 1)`` (0 for ``n <= 2``).
    cr : float
        Consistency ratio ``ci / RI[n]`` (0 for ``n <= 2``).
    consistent : bool
        ``cr < CR_THRESHOLD`` (0.10, Saaty's rule).
    n : int
        Matrix order.
    """

    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float
    consistent: bool
    n: int


def _validate_pairwise(P: np.ndarray) -> None:
    if P.ndim != 2 or P.shape[0] != P.shape[1]:
        raise UsageError(
            f"expected a square (n x n) pairwise comparison matrix, got shape {P.shape}"
        )
    n = P.shape[0]
    if n < 1:
        raise UsageError("pairwise comparison matrix must have n >= 1, got an empty matrix")
    if n > max(RANDOM_INDEX):
        raise UsageError(
            f"AHP supports n <= {max(RANDOM_INDEX)} criteria (Saaty's random index is "
            f"tabulated up to n = {max(RANDOM_INDEX)}), got n = {n}; group criteria "
            "hierarchically"
        )
    bad = ~(np.isfinite(P) & (P > 0))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise UsageError(
            f"pairwise comparison matrix must be finite and positive; cell ({i}, {j}) = {P[i, j]!r}"
        )
    for i in range(n):
        if not np.isclose(P[i, i], 1.0, rtol=_AHP_RTOL, atol=0.0):
            raise UsageError(
                f"pairwise comparison matrix diagonal must be 1; cell ({i}, {i}) = {P[i, i]!r}"
            )
    for i in range(n):
        for j in range(i + 1, n):
            if not np.isclose(P[j, i], 1.0 / P[i, j], rtol=_AHP_RTOL, atol=0.0):
                raise UsageError(
                    f"pairwise comparison matrix is not reciprocal at cell ({i}, {j}): "
                    f"P[{i}, {j}] = {P[i, j]!r} but P[{j}, {i}] = {P[j, i]!r} "
                    f"(expected {1.0 / P[i, j]!r})"
                )


def ahp(P: ArrayLike) -> AHPResult:
    """Analytic Hierarchy Process weights with Saaty's consistency ratio.

    Parameters
    ----------
    P : array_like, shape (n, n)
        Positive reciprocal pairwise comparison matrix: ``P[i, j]`` is how much more
        important criterion ``i`` is than ``j``; ``P[i, i] == 1`` and
        ``P[j, i] == 1 / P[i, j]`` (relative tolerance ``1e-6``; a table written by hand,
        with 0.333 for 1/3, is read with :func:`pairwise_matrix` first).  ``1 <= n <= 15``.

    Returns
    -------
    AHPResult
        ``weights`` = principal right eigenvector (real part, normalised to sum 1),
        ``lambda_max``, ``ci = (lambda_max - n) / (n - 1)``, ``cr = ci / RI[n]`` with
        Saaty's random index :data:`RANDOM_INDEX` (``ci`` and ``cr`` are 0 for
        ``n <= 2``; rounding noise making ``lambda_max`` fractionally below ``n`` is
        clipped to ``ci = 0``), ``consistent = cr < CR_THRESHOLD`` (0.10).

    Raises
    ------
    ValueError
        If ``P`` is not square, is empty, has ``n > 15``, has a non-positive or non-finite
        entry, a diagonal entry different from 1 or a non-reciprocal pair; the message
        names the offending cell ``(i, j)`` and its values.
    """
    P = np.asarray(P, dtype=float)
    _validate_pairwise(P)
    n = P.shape[0]
    vals, vecs = np.linalg.eig(P)
    idx = int(np.argmax(vals.real))
    lam = float(vals[idx].real)
    v = vecs[:, idx].real
    w = v / v.sum()
    w = np.clip(w, 0.0, None)
    w = w / w.sum()
    if n <= 2:
        ci = 0.0
        cr = 0.0
    else:
        ci = max(0.0, (lam - n) / (n - 1))
        cr = ci / RANDOM_INDEX[n]
    return AHPResult(
        weights=w, lambda_max=lam, ci=ci, cr=cr, consistent=bool(cr < CR_THRESHOLD), n=n
    )


def parse_judgement(value: object) -> float:
    """One pairwise judgement as written by people: a number or a fraction such as ``1/3``.

    Parameters
    ----------
    value : number or str
        ``3``, ``0.333``, ``"1/3"``, ``" 1 / 3 "``.

    Returns
    -------
    float
        The judgement, positive and finite.

    Raises
    ------
    ValueError
        If the value is not a positive finite number or fraction (the message quotes it).
    """
    expected = "expected a positive number or a fraction such as 1/3"
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a judgement: {expected}")
    try:
        if isinstance(value, str):
            text = value.strip()
            top, slash, bottom = text.partition("/")
            number = float(top) / float(bottom) if slash else float(text)
        else:
            number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError(f"{value!r} is not a judgement: {expected}") from None
    if not (np.isfinite(number) and number > 0):
        raise ValueError(f"{value!r} is not a judgement: {expected}")
    return number


def pairwise_matrix(
    table: ArrayLike, labels: Sequence[str] | None = None, *, atol: float = RECIPROCAL_ATOL
) -> np.ndarray:
    """The exact reciprocal matrix of a pairwise table written by hand.

    Of each pair of cells ``(i, j)`` and ``(j, i)``, the one at least 1 is the judgement and
    the other must be its reciprocal as people write it: within ``atol`` (default 0.005, half
    a unit in the second decimal), so 0.33 and 0.333 both stand for 1/3. The returned matrix
    holds the judgement and its exact reciprocal. A blank cell (NaN) is the reciprocal of its
    mirror; a blank diagonal is 1.

    Parameters
    ----------
    table : array_like, shape (n, n)
        The judgements; NaN for a blank cell.
    labels : sequence of str, optional
        Criterion names, for the messages (default: the indices).
    atol : float, default RECIPROCAL_ATOL
        How far the smaller cell of a pair may be from the reciprocal of the larger.

    Returns
    -------
    numpy.ndarray
        Positive reciprocal matrix of shape ``(n, n)`` with ones on the diagonal, ready for
        :func:`ahp`.

    Raises
    ------
    ValueError
        If the table is not square, a cell is not positive, a diagonal cell is not 1, both
        cells of a pair are blank, or a pair is not reciprocal within ``atol``; the message
        names the cells and their values.
    """
    T = np.asarray(table, dtype=float)
    if T.ndim != 2 or T.shape[0] != T.shape[1]:
        raise ParameterError(
            f"expected a square (n x n) pairwise table, got shape {T.shape}", parameter="table"
        )
    n = T.shape[0]
    names = [str(x) for x in labels] if labels is not None else [str(i) for i in range(n)]
    bad = ~np.isnan(T) & ~(np.isfinite(T) & (T > 0))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ParameterError(
            f"pairwise table cell ({names[i]}, {names[j]}) = {T[i, j]:g}: expected a positive "
            "judgement",
            parameter="table",
        )
    P = np.eye(n)
    for i in range(n):
        if not (np.isnan(T[i, i]) or np.isclose(T[i, i], 1.0, rtol=_AHP_RTOL, atol=0.0)):
            raise ParameterError(
                f"pairwise table cell ({names[i]}, {names[i]}) = {T[i, i]:g}: a criterion "
                "compared with itself is 1",
                parameter="table",
            )
        for j in range(i + 1, n):
            a, b = T[i, j], T[j, i]
            if np.isnan(a) and np.isnan(b):
                raise ParameterError(
                    f"missing judgement for pair ({names[i]!r}, {names[j]!r})", parameter="table"
                )
            if np.isnan(b) or (not np.isnan(a) and a >= b):
                judged, small, forward = a, b, True
            else:
                judged, small, forward = b, a, False
            if not (
                np.isnan(small)
                or abs(small - 1.0 / judged) <= atol + 1e-12  # 0.12 for 1/8 is on the edge
                or np.isclose(small * judged, 1.0, rtol=_AHP_RTOL, atol=0.0)
            ):
                big_at, small_at = ((i, j), (j, i)) if forward else ((j, i), (i, j))
                raise ParameterError(
                    f"pairwise table is not reciprocal: ({names[big_at[0]]}, "
                    f"{names[big_at[1]]}) = {judged:g} but ({names[small_at[0]]}, "
                    f"{names[small_at[1]]}) = {small:g}; expected 1/{judged:g} = "
                    f"{1.0 / judged:.4g} (within {atol:g})",
                    parameter="table",
                )
            upper = judged if forward else 1.0 / judged
            P[i, j] = upper
            P[j, i] = 1.0 / upper
    return P


def pairwise_from_judgements(
    labels: Sequence[str], judgements: Mapping[tuple[str, str], object]
) -> np.ndarray:
    """The reciprocal matrix of upper-triangle pairwise judgements.

    Parameters
    ----------
    labels : sequence of str
        Criterion names, in the order of the matrix rows (unique).
    judgements : mapping (str, str) -> number or str
        ``judgements[(a, b)] = s`` means criterion ``a`` is ``s`` times as important as
        ``b`` (``s`` as :func:`parse_judgement` reads it: ``3``, ``0.5``, ``"1/3"``).  Every
        unordered pair must be given exactly once in either orientation (``(b, a)`` is
        inverted).  Self-pairs ``(a, a)`` are accepted only with value 1.

    Returns
    -------
    numpy.ndarray
        Positive reciprocal matrix of shape ``(n, n)``.

    Raises
    ------
    ValueError
        If a label is duplicated, a key names an unknown label, a pair is missing or given
        twice, or a judgement is not a positive finite number.
    """
    labels = list(labels)
    if len(set(labels)) != len(labels):
        dup = next(lab for lab in labels if labels.count(lab) > 1)
        raise UsageError(f"duplicate criterion label {dup!r}")
    pos = {lab: k for k, lab in enumerate(labels)}
    n = len(labels)
    P = np.eye(n)
    seen: dict[tuple[int, int], tuple[str, str]] = {}
    for key, value in judgements.items():
        a, b = key
        for lab in (a, b):
            if lab not in pos:
                raise UsageError(f"judgement {key!r} names unknown criterion {lab!r}")
        try:
            s = parse_judgement(value)
        except ValueError as exc:
            raise UsageError(f"judgement {key!r}: {exc}") from None
        i, j = pos[a], pos[b]
        if i == j:
            if not np.isclose(s, 1.0, rtol=_AHP_RTOL, atol=0.0):
                raise UsageError(f"self-comparison {key!r} must be 1, got {value!r}")
            continue
        cell = (min(i, j), max(i, j))
        if cell in seen:
            raise UsageError(f"pair {key!r} is judged twice (also as {seen[cell]!r})")
        seen[cell] = (a, b)
        upper = s if i < j else 1.0 / s
        P[cell] = upper
        P[cell[1], cell[0]] = 1.0 / upper
    for i in range(n):
        for j in range(i + 1, n):
            if (i, j) not in seen:
                raise UsageError(f"missing judgement for pair ({labels[i]!r}, {labels[j]!r})")
    return P


def ahp_from_judgements(
    labels: Sequence[str], judgements: Mapping[tuple[str, str], object]
) -> AHPResult:
    """AHP weights from upper-triangle pairwise judgements.

    ``ahp(pairwise_from_judgements(labels, judgements))``: see
    :func:`pairwise_from_judgements` for the judgements and the errors, :func:`ahp` for the
    result.
    """
    return ahp(pairwise_from_judgements(labels, judgements))


# --------------------------------------------------------------------------------------
# Benefit of the Doubt
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BoDResult:
    """Result of :func:`bod`.

    Attributes
    ----------
    scores : numpy.ndarray
        Composite score per unit, shape ``(n,)``; in ``[0, 1]`` for units inside the
        reference hull (1 = on the frontier).
    weights : numpy.ndarray
        Each unit's optimal weights, shape ``(n, m)`` (``scores == (weights * X).sum(1)``).
    vertices : numpy.ndarray
        Candidate weight vectors, shape ``(k, m)``: the vertices of the feasible weight
        polytope (or, after the per-unit fallback, the distinct optimal weight vectors).
        Apply them to new data with :func:`bod_score`.
    note : str
        Empty unless the per-unit linear-programming path was used (fallback after a failed
        vertex enumeration, ``method="lp"``, or ``m > BOD_VERTEX_MAX_DIM`` with
        ``method="auto"``).
    """

    scores: np.ndarray
    weights: np.ndarray
    vertices: np.ndarray
    note: str = ""


def _dedupe_rows(V: np.ndarray) -> np.ndarray:
    """Drop numerically duplicate rows (relative tolerance ~1e-9), keep lexicographic order."""
    if V.shape[0] == 0:
        return V
    scale = float(np.abs(V).max()) or 1.0
    keys = np.round(V / scale, 9) + 0.0  # + 0.0 turns -0.0 into 0.0
    _, first = np.unique(keys, axis=0, return_index=True)
    return V[first]


def _share_constraints(m: int, lower: float, upper: float) -> np.ndarray:
    """Rows ``S`` with ``S @ w <= 0`` expressing the share bounds (trivial bounds omitted)."""
    eye = np.eye(m)
    ones = np.ones((m, m))
    blocks = [np.empty((0, m))]
    if lower > 0:
        blocks.append(lower * ones - eye)  # lower * sum(w) - w_k <= 0
    if upper < 1:
        blocks.append(eye - upper * ones)  # w_k - upper * sum(w) <= 0
    return np.vstack(blocks)


def _weight_constraints(R: np.ndarray, lower: float, upper: float) -> tuple[np.ndarray, np.ndarray]:
    """Inequalities ``A @ w <= b`` describing the BoD weight polytope (``w >= 0`` included)."""
    m = R.shape[1]
    S = _share_constraints(m, lower, upper)
    A = np.vstack([-np.eye(m), R, S])
    b = np.concatenate([np.zeros(m), np.ones(R.shape[0]), np.zeros(S.shape[0])])
    return A, b


def _polytope_vertices(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Vertices of the bounded, full-dimensional polytope ``{w : A w <= b}``."""
    # imported here, so that importing dmi (every command) does not load them
    from scipy.optimize import linprog
    from scipy.spatial import HalfspaceIntersection

    m = A.shape[1]
    norms = np.linalg.norm(A, axis=1)
    # Chebyshev centre: maximise r subject to A w + r ||a_i|| <= b.
    c = np.zeros(m + 1)
    c[-1] = -1.0
    res = linprog(
        c,
        A_ub=np.column_stack([A, norms]),
        b_ub=b,
        bounds=[(None, None)] * m + [(0.0, None)],
        method="highs",
    )
    if res.status != 0:
        raise ValueError(f"Chebyshev centre LP failed: {res.message}")
    centre, radius = res.x[:m], float(res.x[-1])
    if not radius > 1e-12 * (1.0 + np.abs(centre).max()):
        raise UsageError(f"weight polytope has an empty interior (radius {radius:.3g})")
    hs = HalfspaceIntersection(np.column_stack([A, -b]), centre)
    V = np.asarray(hs.intersections, dtype=float)
    V = V[np.isfinite(V).all(axis=1)]
    if V.shape[0] == 0:
        raise ValueError("no finite vertices returned")
    scale = max(1.0, float(np.abs(V).max()))
    slack = A @ V.T - b[:, None]
    if slack.max() > 1e-7 * scale:
        raise ValueError(f"vertex enumeration inaccurate (max violation {slack.max():.3g})")
    V[V < 1e-12 * scale] = 0.0  # clip rounding noise around the w >= 0 facets
    return _dedupe_rows(V)


def _pareto_prune(R: np.ndarray) -> np.ndarray:
    """Drop reference rows dominated by another row (their constraint is implied when w >= 0).

    ``R`` must have unique rows.  The pairwise check costs ``O(n^2 m)``; it is skipped for very
    large references, where Qhull / the LPs simply carry the redundant rows.
    """
    n, m = R.shape
    if n < 2 or n * n * m > _PRUNE_MAX_WORK:
        return R
    dominated = np.zeros(n, dtype=bool)
    step = max(1, _PRUNE_CHUNK // (n * m))
    for start in range(0, n, step):
        C = R[start : start + step, None, :]
        ge = (R[None, :, :] >= C).all(axis=2)
        gt = (R[None, :, :] > C).any(axis=2)
        dominated[start : start + step] = (ge & gt).any(axis=1)
    return R[~dominated]


def _per_unit_lp(R: np.ndarray, lower: float, upper: float, X: np.ndarray) -> np.ndarray:
    """Solve ``max x_i . w`` over the BoD weight set for each distinct row of ``X``.

    Row generation: each LP carries the share constraints and a working subset of the
    reference rows (initially the row with the largest value in each column, which keeps
    the relaxation bounded); reference rows violated by the relaxed optimum are added
    (up to ``_LP_ADD`` most violated at a time) until none is violated by more than
    ``1e-9``, at which point the relaxed optimum is optimal for the full problem.  The
    working set is kept across units.  Returns the distinct optimal weight vectors plus the
    origin (all feasible points).
    """
    from scipy.optimize import linprog

    n_ref, m = R.shape
    S = _share_constraints(m, lower, upper)
    working = np.zeros(n_ref, dtype=bool)
    working[R.argmax(axis=0)] = True
    working[R.sum(axis=1).argmax()] = True
    sols = [np.zeros(m)]
    for x in np.unique(X, axis=0):
        if not (x > 0).any():
            continue  # every feasible w scores 0; the origin covers it
        while True:
            A = np.vstack([R[working], S])
            b = np.concatenate([np.ones(int(working.sum())), np.zeros(S.shape[0])])
            res = linprog(-x, A_ub=A, b_ub=b, bounds=[(0.0, None)] * m, method="highs")
            if res.status != 0:
                raise RuntimeError(
                    f"BoD linear programme failed for unit values {x}: {res.message}"
                )
            w = np.clip(res.x, 0.0, None)
            excess = R @ w - 1.0
            excess[working] = -np.inf
            violated = np.flatnonzero(excess > 1e-9)
            if violated.size == 0:
                break
            worst = violated[np.argsort(excess[violated])[::-1][:_LP_ADD]]
            working[worst] = True
        sols.append(w)
    return _dedupe_rows(np.vstack(sols))


_LP_NOTE = (
    "`vertices` holds the distinct optimal weight vectors of the scored units (exact for them); "
    "bod_score on other data gives a lower bound of the exact BoD score"
)


def _bounded_vertices(
    R: np.ndarray, X: np.ndarray, lower: float, upper: float, method: str
) -> tuple[np.ndarray, str]:
    """Candidate weight vectors for a bounded BoD polytope (every column of R has a positive)."""
    m = R.shape[1]
    if m == 1:
        return np.array([[0.0], [1.0 / R.max()]]), ""
    if np.isclose(lower, 1.0 / m, rtol=0, atol=_BOUND_TOL) or np.isclose(
        upper, 1.0 / m, rtol=0, atol=_BOUND_TOL
    ):
        # Either bound pins every share to 1/m: the polytope is the segment t * (1/m, ..., 1/m).
        t = 1.0 / R.mean(axis=1).max()
        return np.vstack([np.zeros(m), np.full(m, t / m)]), ""
    R = _pareto_prune(R)
    if method == "lp" or (method == "auto" and m > BOD_VERTEX_MAX_DIM):
        reason = (
            "method='lp'"
            if method == "lp"
            else f"m = {m} > {BOD_VERTEX_MAX_DIM} indicators, vertex enumeration skipped"
        )
        return _per_unit_lp(R, lower, upper, X), f"solved one LP per unit ({reason}); {_LP_NOTE}"
    try:
        return _polytope_vertices(*_weight_constraints(R, lower, upper)), ""
    except Exception as exc:  # noqa: BLE001 - any Qhull/LP failure triggers the fallback
        note = (
            f"polytope vertex enumeration failed ({type(exc).__name__}: {exc}); solved one "
            f"LP per unit instead; {_LP_NOTE}"
        )
        return _per_unit_lp(R, lower, upper, X), note


def bod(
    X: ArrayLike,
    *,
    lower: float = 0.0,
    upper: float = 1.0,
    reference: ArrayLike | None = None,
    method: str = "auto",
) -> BoDResult:
    """Benefit-of-the-Doubt composite scores (DEA with unit input).

    For each unit ``i`` the weights ``w >= 0`` maximise ``w @ x_i`` subject to
    ``w @ x_r <= 1`` for every reference unit ``r`` and the share bounds
    ``lower * sum(w) <= w_k <= upper * sum(w)``.  The constraints do not depend on ``i``,
    so the feasible set is a single polytope: its vertices are computed once
    (``scipy.spatial.HalfspaceIntersection`` around the Chebyshev centre found by
    ``scipy.optimize.linprog``) and every unit is scored as ``max_v v @ x_i`` in one
    vectorised step; the maximising vertex gives the unit's weights (ties resolved by the
    first vertex in lexicographic order).

    Special cases
    -------------
    * Reference rows that are all zero add no constraint and are dropped, as are duplicate
      rows and rows dominated component-wise by another reference row (their constraint is
      implied because ``w >= 0``).  At least one non-zero reference row is required.
    * ``m == 1``: the polytope is the segment ``[0, 1 / max_r x_r]``.
    * ``lower == 1/m`` or ``upper == 1/m`` pin every share to ``1/m``: the polytope is a
      segment of equal weights (no vertex enumeration).
    * Columns that are zero in every reference row (e.g. an all-zero column of ``X``) get
      weights that are only limited by the share bounds.  If those bounds keep them bounded
      (``lower > 0`` or ``n_zero_columns * upper < 1``) the polytope is enumerated as
      usual.  Otherwise the polytope is unbounded along those columns; the scores of units
      that are zero there do not depend on them, so the vertices are computed for the
      remaining columns (where the share bounds are then non-binding) and lifted by
      spreading the smallest admissible total weight ``max(0, max(u) / upper - sum(u))``
      equally over the zero columns (zero when ``upper == 1``).  A unit of ``X`` with a
      positive value in such a column would have an unbounded score: ``ValueError``.
    * If vertex enumeration fails (degenerate geometry, Qhull error, inaccurate result),
      one ``linprog`` per distinct unit is solved instead, ``vertices`` then holds the
      distinct optimal weight vectors (plus the origin) and :attr:`BoDResult.note` says so.
      Scores of the units of ``X`` stay exact; :func:`bod_score` applied to *other* data
      with these vectors gives a lower bound of the exact score.
    * The number of vertices grows combinatorially with ``m`` (uniform random data:
      ~1.5k at m = 6, ~20k at m = 8, ~110k at m = 9 for 500 units), so with
      ``method="auto"`` vertex enumeration is only attempted for
      ``m <= BOD_VERTEX_MAX_DIM`` (6); above that the per-unit LP path is taken directly
      (with the same note).

    Parameters
    ----------
    X : array_like, shape (n_units, m)
        Non-negative (normalised) indicator values of the units to score.
    lower, upper : float, default 0.0 and 1.0
        Bounds on each indicator's share ``w_k / sum(w)``; ``0 <= lower <= 1/m <= upper <= 1``.
    reference : array_like, shape (n_ref, m), optional
        Units defining the frontier; defaults to ``X``.
    method : {"auto", "vertices", "lp"}, default "auto"
        ``"vertices"`` always enumerates the polytope (falling back to LPs only on failure),
        ``"lp"`` always solves one LP per distinct unit, ``"auto"`` picks ``"vertices"`` for
        ``m <= BOD_VERTEX_MAX_DIM`` and ``"lp"`` above.

    Returns
    -------
    BoDResult
        ``scores`` (in ``[0, 1]`` for units within the reference hull), per-unit
        ``weights`` and the ``vertices`` for :func:`bod_score`.

    Raises
    ------
    ValueError
        On non-2-D, non-finite or negative input, mismatched column counts, invalid bounds,
        an all-zero reference, or an unbounded score (see above).
    """
    if method not in ("auto", "vertices", "lp"):
        raise UsageError(f"method must be 'auto', 'vertices' or 'lp', got {method!r}")
    X = _as_2d(X)
    n, m = X.shape
    if m < 1:
        raise UsageError("BoD needs at least 1 indicator (column), got 0")
    _check_finite(X)
    _check_non_negative(X)
    if reference is None:
        ref = X
    else:
        ref = _as_2d(reference, "reference")
        if ref.shape[1] != m:
            raise UsageError(f"reference has {ref.shape[1]} indicator columns but X has {m}")
        _check_finite(ref, "reference")
        _check_non_negative(ref, "reference")
    lower = float(lower)
    upper = float(upper)
    if not (0.0 <= lower <= 1.0 / m + _BOUND_TOL and 1.0 / m - _BOUND_TOL <= upper <= 1.0):
        raise UsageError(
            f"share bounds (bod_bounds): expected 0 <= lower <= 1/m <= upper <= 1 with m = {m} "
            f"weighted nodes, got lower = {lower:g}, upper = {upper:g}"
        )

    R = ref[(ref > 0).any(axis=1)]
    if R.shape[0] == 0:
        raise UsageError("reference has no non-zero row: the BoD weights are unbounded")
    R = np.unique(R, axis=0)

    zero_cols = ~(R > 0).any(axis=0)
    n_zero = int(zero_cols.sum())
    unbounded = lower <= 0.0 and n_zero > 0 and n_zero * upper >= 1.0 - _BOUND_TOL
    if unbounded:
        hit = np.argwhere(X[:, zero_cols] > 0)
        if hit.size:
            i, jz = hit[0]
            j = int(np.flatnonzero(zero_cols)[jz])
            raise UsageError(
                f"unit {i} has value {X[i, j]!r} in column {j}, which is zero for every "
                "reference unit, and the share bounds leave its weight unbounded: the BoD "
                "score is infinite (set lower > 0 or a tighter upper bound)"
            )
        keep = ~zero_cols
        U, note = _bounded_vertices(R[:, keep], X[:, keep], 0.0, 1.0, method)
        s_u = U.sum(axis=1)
        s_v = np.clip(U.max(axis=1) / upper - s_u, 0.0, None)
        V = np.zeros((U.shape[0], m))
        V[:, keep] = U
        V[:, zero_cols] = (s_v / n_zero)[:, None]
    else:
        V, note = _bounded_vertices(R, X, lower, upper, method)

    scores, weights = bod_score(X, V)
    return BoDResult(scores=scores, weights=weights, vertices=V, note=note)


def bod_score(X: ArrayLike, vertices: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Score units with stored BoD weight vertices (the fitted-model path).

    Parameters
    ----------
    X : array_like, shape (n_units, m)
        Indicator values, on the same scale as the data the vertices were fitted on.
    vertices : array_like, shape (k, m)
        :attr:`BoDResult.vertices` from :func:`bod`.

    Returns
    -------
    scores : numpy.ndarray
        ``max_v v @ x_i`` per unit, shape ``(n,)``; above 1 for units beyond the reference
        frontier.
    weights : numpy.ndarray
        The maximising vertex per unit, shape ``(n, m)`` (first one on ties).

    Raises
    ------
    ValueError
        If an input is not 2-D, contains NaN/inf, ``vertices`` is empty or the column
        counts differ.
    """
    X = _as_2d(X)
    V = _as_2d(vertices, "vertices")
    if V.shape[0] == 0:
        raise UsageError("vertices is empty")
    if V.shape[1] != X.shape[1]:
        raise UsageError(f"vertices have {V.shape[1]} indicator columns but X has {X.shape[1]}")
    _check_finite(X)
    _check_finite(V, "vertices")
    values = X @ V.T
    best = values.argmax(axis=1)
    scores = values[np.arange(X.shape[0]), best]
    return scores, V[best].copy()


def read_pairwise_file(path: str | Path, nodes: list[str]) -> np.ndarray:
    """An AHP matrix file (``dmi weights --method ahp:FILE``, ``dmi analyse --ahp FILE``): a CSV
    with node codes as header and first column, or YAML judgements.

    Cells and judgements are numbers or fractions (``3``, ``1/3``, ``0.333``). In the CSV the
    smaller cell of each pair may be the larger one's reciprocal written to two decimals
    (:data:`~dmi.scoring.weighting.RECIPROCAL_ATOL`) or left blank.
    """
    import pandas as pd

    file = Path(path)
    if not file.is_file():
        raise MissingFileError(f"no such AHP matrix file: {path}")
    if file.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = load_unique(file.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problem = " ".join(str(exc).split())  # YAML's message spans lines
            raise FileFormatError(f"{file}: not a YAML file ({problem})", path=file) from None
        rows = data.get("judgements") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise UsageError(f"{path}: expected a 'judgements' list of [a, b, value] rows")
        judgements: dict[tuple[str, str], object] = {}
        for number, row in enumerate(rows, 1):
            if not (isinstance(row, list) and len(row) == 3):
                raise UsageError(
                    f"{path}: judgement {number} is {row!r}; expected [a, b, value], e.g. "
                    f"[{nodes[0]}, {nodes[-1]}, 1/3]"
                )
            key = (str(row[0]), str(row[1]))
            if key in judgements:
                raise UsageError(f"{path}: the pair ({key[0]}, {key[1]}) is judged twice")
            judgements[key] = row[2]
        try:
            return pairwise_from_judgements(nodes, judgements)
        except ValueError as exc:
            raise UsageError(f"{path}: {exc} (the nodes are {', '.join(nodes)})") from None
    try:
        frame = pd.read_csv(file, index_col=0, dtype=str, keep_default_na=False)
    except ValueError as exc:  # pandas' parser, empty-file and decoding errors are ValueErrors
        problem = " ".join(str(exc).split())
        raise FileFormatError(f"{path}: not a CSV matrix ({problem})", path=path) from None
    codes = [str(c).strip() for c in frame.columns]
    rows = [str(r).strip() for r in frame.index]
    if sorted(codes) != sorted(nodes) or sorted(rows) != sorted(nodes):
        raise UsageError(
            f"{path}: the matrix must have exactly the nodes {', '.join(nodes)} as "
            f"header and first column, got {', '.join(codes)}"
        )
    table = np.full((len(rows), len(codes)), np.nan)
    for i, row in enumerate(rows):
        for j, code in enumerate(codes):
            cell = frame.iat[i, j].strip()
            if not cell:
                continue  # blank: the reciprocal of its mirror
            try:
                table[i, j] = parse_judgement(cell)
            except ValueError as exc:
                raise UsageError(f"{path}: row {row}, column {code}: {exc}") from None
    order_rows = [rows.index(code) for code in nodes]
    order_cols = [codes.index(code) for code in nodes]
    try:
        return pairwise_matrix(table[np.ix_(order_rows, order_cols)], nodes)
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None

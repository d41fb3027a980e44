"""Support tiers (梯度培育, tiered cultivation): a few ordered groups of companies, each with its
own support package.

The index says how mature a company is; the tier says what help it should get. A
:class:`TierModel` is fitted once on a reference population's score table (its ``dim_*`` columns)
and then places any company, one row or a million, into tier 1 (the most basic support) ... K (the
most advanced), with a membership confidence and an explanation of why it is there and what would
move it up.

Method
------
1. The features (by default every ``dim_<code>`` column) are standardised with the mean and
   standard deviation of the rows fitted on.
2. The standardised rows are clustered by k-means (``n_init`` = 10), a Gaussian mixture (full
   covariances) or Ward's hierarchical clustering; Ward's clusters are summarised by their
   centroids, and a company belongs to the nearest one.
3. Clusters become tiers in the order of their members' mean index (``dmi``): tier 1 has the
   lowest. The instrument's ``tiers`` section labels them when it describes exactly K tiers;
   otherwise the labels are the generic "第 k 梯队 / Tier k" and the fit report says so.
4. ``n_tiers="auto"`` tries every K in ``k_range`` and keeps the one with the highest silhouette
   (k-means, Ward; on a sample of at most 10,000 rows) or the lowest BIC (mixture).
5. Stability is measured as in Hennig's clusterboot: the model is refitted on ``n_bootstrap``
   resamples, each refit labels the rows fitted on, and the labels are compared with the main
   fit by the adjusted Rand index and, per tier, by the Jaccard index of the best-matching cluster.

Prediction uses only numpy and the stored parameters (never a scikit-learn object), element by
element, so a loaded model gives bit-identical tiers on one row or on a million.

Membership confidence
---------------------
- ``gmm``: the posterior probability of the chosen component.
- ``kmeans`` and ``ward``: ``1 - d1 / d2``, where ``d1`` and ``d2`` are the Euclidean distances (in
  standardised units) to the nearest and the second-nearest centroid: 0 on the border between two
  tiers, 1 at a centroid.

Design choices
--------------
- A constant feature column is an error (it cannot separate tiers and cannot be standardised);
  leave it out with ``features=``.
- Rows with a missing (NaN) feature are an error in :meth:`TierModel.fit` and
  :meth:`TierModel.predict`; :meth:`TierModel.assign` can instead leave their tier empty.
- Ward's clustering needs memory and time that grow with the square of the rows, so it is fitted
  on a stratified sample of at most :data:`WARD_MAX_ROWS` rows.
- Clustering runs on one thread, so the same seed gives the same model on any machine.
- Stability refits use resamples of at most ``bootstrap_rows`` rows (drawn with replacement from
  the rows fitted on), so that checking a 200,000-row fit does not take 20 full refits.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd

from dmi.errors import (
    FileFormatError,
    ModelFileError,
    TierStabilityWarning,
    UsageError,
)
from dmi.instruments import Instrument, load_instrument, shipped_path

__all__ = [
    "METHODS",
    "TIER_MODEL_FORMAT",
    "WARD_MAX_ROWS",
    "DimensionChange",
    "DimensionGap",
    "KChoice",
    "TierExplanation",
    "TierFitReport",
    "TierLabel",
    "TierModel",
    "TierStability",
    "TierStabilityWarning",
    "TierSummary",
    "format_tier_report",
    "load_shipped_tier_model",
    "shipped_tier_model_path",
    "tier_report",
]

TIER_MODEL_FORMAT = "dmi-tier-model/1"
METHODS = ("kmeans", "gmm", "ward")

KMEANS_N_INIT = 10
GMM_N_INIT = 3
WARD_MAX_ROWS = 5_000
SILHOUETTE_ROWS = 10_000
MIN_ROWS_PER_TIER = 5
SCORE_MAX = 100.0
"""Top of the dimension-score scale; the move-up search never suggests a score above it."""

_CHUNK = 16_384
# beyond this many standard deviations squares would overflow; no real score gets near it
_Z_LIMIT = 1e12
_LOG_2PI = math.log(2.0 * math.pi)

Method = Literal["kmeans", "gmm", "ward"]
_PARAM_KEYS = (
    "n_tiers",
    "method",
    "random_state",
    "k_range",
    "max_fit_rows",
    "n_bootstrap",
    "features",
    "bootstrap_rows",
    "min_ari",
    "min_jaccard",
)


# -- small result types -------------------------------------------------------------------------


@dataclass(frozen=True)
class TierLabel:
    """The name and support package of one tier, in Chinese and English.

    ``generic`` is true for the fallback labels "第 k 梯队 / Tier k", used when the instrument does
    not describe exactly as many tiers as the model has.
    """

    tier: int
    zh: str
    en: str
    support_zh: str
    support_en: str
    generic: bool = False

    def name(self, lang: str = "en") -> str:
        """The label in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.zh if lang == "zh" else self.en

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "zh": self.zh,
            "en": self.en,
            "support": {"zh": self.support_zh, "en": self.support_en},
            "generic": self.generic,
        }


def _generic_label(tier: int) -> TierLabel:
    return TierLabel(
        tier,
        f"第 {tier} 梯队",
        f"Tier {tier}",
        "（测评工具未描述该梯队的帮扶措施）",
        "(the instrument does not describe the support for this tier)",
        True,
    )


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


@dataclass(frozen=True)
class TierStability:
    """Bootstrap stability of the tiers (the clusterboot approach).

    ``ari_*`` compare each refit's labelling of the rows fitted on with the main fit's (adjusted
    Rand index, 1 = identical, about 0 = chance); ``jaccard_*[k]`` is, for tier k + 1, the Jaccard
    index of the refit's best-matching cluster, averaged (or minimised) over the resamples.
    """

    n_bootstrap: int
    resample_rows: int
    ari_mean: float
    ari_min: float
    jaccard_mean: tuple[float, ...]
    jaccard_min: tuple[float, ...]
    min_ari: float
    min_jaccard: float
    stable: bool


@dataclass(frozen=True)
class TierSummary:
    """One tier in the fit report: size in the rows fitted on and centroid in 0-100 units."""

    tier: int
    zh: str
    en: str
    size: int
    share: float
    dmi: float
    centroid: dict[str, float]


@dataclass(frozen=True)
class TierFitReport:
    """What :meth:`TierModel.fit` did and found.

    Attributes
    ----------
    method
        ``kmeans``, ``gmm`` or ``ward``.
    n_tiers
        The number of tiers.
    k_choice
        How the number was chosen (every K tried and its criterion when ``"auto"``).
    n_rows, n_fit_rows
        Rows given to ``fit``, and rows the clustering was fitted on (a stratified sample when
        fewer).
    stratified_by
        ``"level"``, ``"dmi quintiles"`` or None when every row was used.
    features
        The feature columns.
    tiers
        Size, share, mean index and centroid of each tier, tier 1 first.
    stability
        Bootstrap stability, or None when ``n_bootstrap == 0``.
    instrument
        ``"<id> <version>"`` of the instrument, or None.
    data_hash
        SHA-256 of the feature and ``dmi`` values given to ``fit``.
    warnings
        Everything a user should know: unstable tiers, generic labels, non-convergence.
    """

    method: str
    n_tiers: int
    k_choice: KChoice
    n_rows: int
    n_fit_rows: int
    stratified_by: str | None
    features: tuple[str, ...]
    tiers: tuple[TierSummary, ...]
    stability: TierStability | None
    instrument: str | None
    data_hash: str
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (K keys as strings)."""
        data = asdict(self)
        data["k_choice"]["scores"] = {str(k): v for k, v in self.k_choice.scores.items()}
        return _jsonable(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TierFitReport:
        """Rebuild a report written by :meth:`to_dict`."""
        k = data["k_choice"]
        stability = data["stability"]
        return cls(
            method=str(data["method"]),
            n_tiers=int(data["n_tiers"]),
            k_choice=KChoice(
                str(k["mode"]),
                k["criterion"],
                {int(key): _float(v) for key, v in k["scores"].items()},
                int(k["chosen"]),
                str(k["reason"]),
            ),
            n_rows=int(data["n_rows"]),
            n_fit_rows=int(data["n_fit_rows"]),
            stratified_by=data["stratified_by"],
            features=tuple(str(f) for f in data["features"]),
            tiers=tuple(
                TierSummary(
                    int(t["tier"]),
                    str(t["zh"]),
                    str(t["en"]),
                    int(t["size"]),
                    float(t["share"]),
                    float(t["dmi"]),
                    {str(f): float(v) for f, v in t["centroid"].items()},
                )
                for t in data["tiers"]
            ),
            stability=None
            if stability is None
            else TierStability(
                int(stability["n_bootstrap"]),
                int(stability["resample_rows"]),
                float(stability["ari_mean"]),
                float(stability["ari_min"]),
                tuple(float(v) for v in stability["jaccard_mean"]),
                tuple(float(v) for v in stability["jaccard_min"]),
                float(stability["min_ari"]),
                float(stability["min_jaccard"]),
                bool(stability["stable"]),
            ),
            instrument=data["instrument"],
            data_hash=str(data["data_hash"]),
            warnings=tuple(str(w) for w in data["warnings"]),
        )

    def to_text(self) -> str:
        """A plain-text summary for the command line."""
        lines = [
            f"tier model: {self.method}, {self.n_tiers} tiers"
            + (f", instrument {self.instrument}" if self.instrument else "")
        ]
        if self.n_fit_rows < self.n_rows:
            why = (
                f"; Ward's cost grows with the square of the rows, so it is capped at "
                f"{WARD_MAX_ROWS}"
                if self.method == "ward"
                else ""
            )
            lines.append(
                f"fitted on a stratified sample of {self.n_fit_rows} of {self.n_rows} "
                f"rows (strata: {self.stratified_by}){why}"
            )
        else:
            lines.append(f"fitted on all {self.n_rows} rows")
        lines.append(f"features: {', '.join(self.features)}")
        choice = self.k_choice
        if choice.mode == "auto":
            tried = ", ".join(f"K={k}: {v:.4g}" for k, v in sorted(choice.scores.items()))
            lines.append(f"number of tiers: {choice.chosen} chosen by {choice.criterion} ({tried})")
            lines.append(f"  {choice.reason}")
        else:
            lines.append(f"number of tiers: {choice.chosen} (fixed)")
        names = [f.removeprefix("dim_") for f in self.features]
        width = max([len(n) for n in names] + [6])
        lines.append("")
        lines.append(
            "tier   size   share     dmi  " + "  ".join(f"{n:>{width}}" for n in names) + "  label"
        )
        for t in self.tiers:
            values = "  ".join(f"{t.centroid[f]:>{width}.1f}" for f in self.features)
            lines.append(
                f"{t.tier:>4} {t.size:>6} {t.share:>6.1%} {t.dmi:>7.1f}  {values}  {t.zh} / {t.en}"
            )
        lines.append("")
        s = self.stability
        if s is None:
            lines.append("stability: not measured (n_bootstrap = 0)")
        else:
            pairs = zip(s.jaccard_mean, s.jaccard_min, strict=True)
            jac = ", ".join(
                f"tier {k + 1} {m:.2f} (min {lo:.2f})" for k, (m, lo) in enumerate(pairs)
            )
            lines.append(
                f"stability over {s.n_bootstrap} bootstrap refits of {s.resample_rows} "
                f"rows: {'stable' if s.stable else 'NOT stable'}"
            )
            lines.append(
                f"  adjusted Rand index mean {s.ari_mean:.3f}, min {s.ari_min:.3f} "
                f"(needs mean >= {s.min_ari:g})"
            )
            lines.append(
                f"  Jaccard per tier, mean (min): {jac} (needs each mean >= {s.min_jaccard:g})"
            )
        if self.warnings:
            lines.append("warnings:")
            lines.extend(f"  - {w}" for w in self.warnings)
        return "\n".join(lines)


@dataclass(frozen=True)
class DimensionGap:
    """One feature of an explained company, against its tier's and the next tier's centroid."""

    feature: str
    zh: str
    en: str
    value: float
    tier_centroid: float
    next_centroid: float | None
    below_tier_centroid: bool
    points_to_next: float
    """Points needed to reach the next tier's centroid value (0 when at or above it, or top)."""


@dataclass(frozen=True)
class DimensionChange:
    """One suggested change: raise ``feature`` by ``points`` (``from_value`` -> ``to_value``)."""

    feature: str
    zh: str
    en: str
    points: float
    from_value: float
    to_value: float


@dataclass(frozen=True)
class TierExplanation:
    """Why a company is in its tier and what would move it up.

    Attributes
    ----------
    tier, n_tiers, label, confidence
        The company's tier (1..K), the number of tiers, the tier's label and support package, and
        the membership confidence.
    next_tier
        ``tier + 1``, or None in the top tier.
    dimensions
        Every feature: value, own and next tier centroid, points short of the next centroid.
    holding
        The features that hold the company in its tier: below the next tier's centroid (below its
        own tier's centroid in the top tier), largest gap in standard deviations first.
    move_up
        The smallest set of increases found that makes :meth:`TierModel.predict` give a higher
        tier (empty in the top tier or when no increase within 0-100 does it).
    move_up_tier
        The tier that ``predict`` gives after ``move_up`` (checked by calling it), or None.
    zh, en
        The explanation as sentences.
    """

    respondent_id: str | None
    tier: int
    n_tiers: int
    label: TierLabel
    confidence: float
    next_tier: int | None
    dimensions: tuple[DimensionGap, ...]
    holding: tuple[str, ...]
    move_up: tuple[DimensionChange, ...]
    move_up_tier: int | None
    zh: tuple[str, ...]
    en: tuple[str, ...]

    def text(self, lang: str = "en") -> str:
        """The sentences in ``lang`` (``"zh"`` or ``"en"``), one per line."""
        return "\n".join(self.zh if lang == "zh" else self.en)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


# -- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kernel:
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
    ) -> _Kernel:
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
        for start in range(0, z.shape[0], _CHUNK):
            out[start : start + _CHUNK] = np.argmax(self.scores(z[start : start + _CHUNK]), axis=1)
        return out


@dataclass
class _Fit:
    """One clustering of standardised rows (components in the algorithm's arbitrary order)."""

    centroids: np.ndarray
    weights: np.ndarray | None
    covariances: np.ndarray | None
    labels: np.ndarray | None  # hard membership (kmeans, ward)
    resp: np.ndarray | None  # soft membership (gmm)
    bic: float | None
    notes: list[str]

    def kernel(self) -> _Kernel:
        return _Kernel.build(self.centroids, self.weights, self.covariances)

    def member_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean of ``values`` over each component's members (responsibility-weighted for gmm)."""
        k = len(self.centroids)
        if self.resp is not None:
            return (self.resp * values[:, None]).sum(axis=0) / self.resp.sum(axis=0)
        counts = np.bincount(self.labels, minlength=k)
        return np.bincount(self.labels, values, minlength=k) / np.maximum(counts, 1)


def _fit_once(z: np.ndarray, k: int, method: str, seed: int) -> _Fit:
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
            fit = _Fit(
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
            fit = _Fit(
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
            fit = _Fit(centroids, None, None, labels, None, None, [])
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            fit.notes.append(str(w.message).strip())
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return fit


class TierModel:
    """Ordered support tiers fitted on a reference population's dimension scores.

    Parameters
    ----------
    n_tiers
        Number of tiers (an integer >= 2), or ``"auto"`` to choose it within ``k_range``.
    method
        ``"kmeans"``, ``"gmm"`` (Gaussian mixture, full covariances) or ``"ward"``.
    random_state
        Seed for sampling, initialisation and the bootstrap; the same seed and data give the
        same tiers. None draws fresh entropy.
    k_range
        ``(smallest, largest)`` K tried by ``"auto"``, both included.
    max_fit_rows
        Larger tables are fitted on a stratified sample of this many rows (by ``level`` when the
        table has it, else by ``dmi`` quintiles); prediction covers every row.
    n_bootstrap
        Bootstrap refits for the stability check (0 skips it).
    features
        Feature columns; default: the instrument's ``dim_<code>`` columns, or every ``dim_*``
        column of the table when no instrument is given.
    instrument
        The instrument (or a shipped name) whose scores these are: it labels the tiers and is
        recorded, so that the model refuses another instrument's scores
        (:meth:`check_instrument`).
    bootstrap_rows
        Rows per bootstrap resample (drawn with replacement from the rows fitted on; fewer when
        fewer were fitted on).
    min_ari, min_jaccard
        Stability thresholds: the tiers are ``stable_`` when the mean adjusted Rand index is at
        least ``min_ari`` and every tier's mean Jaccard index at least ``min_jaccard`` (0.6 is
        clusterboot's "pattern in the data" line, 0.75 its "stable" line).

    Attributes
    ----------
    n_tiers_ : int
    features_ : tuple of str
    mean_, scale_ : ndarray
        The standardisation (feature means and standard deviations of the rows fitted on).
    centroids_ : ndarray, shape (n_tiers_, n_features)
        Tier centres in standardised units, tier 1 first (the component means for ``gmm``).
    weights_, covariances_ : ndarray or None
        Mixture weights and covariances (``gmm`` only), tier 1 first.
    tier_dmi_ : ndarray
        Mean index of each tier's members at fit: the tiers' order.
    labels_ : tuple of TierLabel
    feature_labels_ : dict
        Feature -> ``(zh, en)`` name.
    instrument_id_, instrument_version_, instrument_hash_ : str or None
    data_hash_ : str
    report_ : TierFitReport
    stable_ : bool or None
        None when stability was not measured.
    """

    def __init__(
        self,
        n_tiers: int | Literal["auto"] = 4,
        method: Method = "kmeans",
        random_state: int | None = None,
        k_range: tuple[int, int] = (2, 6),
        max_fit_rows: int = 200_000,
        n_bootstrap: int = 20,
        features: Sequence[str] | None = None,
        *,
        instrument: Instrument | str | None = None,
        bootstrap_rows: int = 20_000,
        min_ari: float = 0.75,
        min_jaccard: float = 0.6,
    ) -> None:
        self.n_tiers = n_tiers
        self.method = method
        self.random_state = random_state
        self.k_range = k_range
        self.max_fit_rows = max_fit_rows
        self.n_bootstrap = n_bootstrap
        self.features = features
        self.instrument = instrument
        self.bootstrap_rows = bootstrap_rows
        self.min_ari = min_ari
        self.min_jaccard = min_jaccard

    # -- parameters ---------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """The constructor parameters (JSON-able), except the instrument."""
        return {
            "n_tiers": self.n_tiers,
            "method": self.method,
            "random_state": self.random_state,
            "k_range": list(self.k_range),
            "max_fit_rows": self.max_fit_rows,
            "n_bootstrap": self.n_bootstrap,
            "features": None if self.features is None else list(self.features),
            "bootstrap_rows": self.bootstrap_rows,
            "min_ari": self.min_ari,
            "min_jaccard": self.min_jaccard,
        }

    def _check_params(self) -> None:
        problems = []

        def whole(value: Any, low: int) -> bool:
            return (
                isinstance(value, (int, np.integer))
                and not isinstance(value, bool)
                and value >= low
            )

        if not (self.n_tiers == "auto" or whole(self.n_tiers, 2)):
            problems.append(
                f"n_tiers: expected a whole number >= 2 or 'auto', got {self.n_tiers!r}"
            )
        if self.method not in METHODS:
            problems.append(f"method: expected one of {', '.join(METHODS)}, got {self.method!r}")
        if self.random_state is not None and not whole(self.random_state, 0):
            problems.append(
                f"random_state: expected None or a whole number >= 0, got {self.random_state!r}"
            )
        k_range = self.k_range
        if not (
            isinstance(k_range, (tuple, list))
            and len(k_range) == 2
            and whole(k_range[0], 2)
            and whole(k_range[1], 2)
            and k_range[0] <= k_range[1]
        ):
            problems.append(
                f"k_range: expected (smallest, largest) whole numbers with "
                f"2 <= smallest <= largest, got {k_range!r}"
            )
        if not whole(self.max_fit_rows, 2):
            problems.append(
                f"max_fit_rows: expected a whole number >= 2, got {self.max_fit_rows!r}"
            )
        if not whole(self.n_bootstrap, 0):
            problems.append(f"n_bootstrap: expected a whole number >= 0, got {self.n_bootstrap!r}")
        if not whole(self.bootstrap_rows, 2):
            problems.append(
                f"bootstrap_rows: expected a whole number >= 2, got {self.bootstrap_rows!r}"
            )
        for name in ("min_ari", "min_jaccard"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value <= 1
            ):
                problems.append(f"{name}: expected a number in [0, 1], got {value!r}")
        if self.features is not None and (
            isinstance(self.features, str)
            or not all(isinstance(f, str) for f in self.features)
            or len(self.features) == 0
            or len(set(self.features)) != len(self.features)
        ):
            problems.append(
                f"features: expected None or a non-empty list of distinct column "
                f"names, got {self.features!r}"
            )
        if problems:
            raise UsageError("; ".join(problems))

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, scores: pd.DataFrame, y: None = None) -> TierModel:
        """Fit the tiers on a score table (columns ``dmi`` and the features).

        Parameters
        ----------
        scores
            A score table as :meth:`dmi.IndexModel.score` returns: ``dmi``, ``dim_<code>`` and,
            optionally, ``level`` (used to stratify the sample of a large table).
        y
            Ignored (scikit-learn convention).

        Returns
        -------
        TierModel
            ``self``.

        Raises
        ------
        ValueError
            Bad parameters; missing, non-numeric, NaN or constant columns; too few rows or
            distinct rows for the number of tiers.
        """
        self._check_params()
        inst = None if self.instrument is None else _resolve_instrument(self.instrument)
        frame = _as_frame(scores, "fit")
        features = self._choose_features(frame, inst)
        matrix = _numeric(frame, [*features, "dmi"], "fit")
        x, dmi = matrix[:, :-1], matrix[:, -1]
        n = len(x)
        ks = (
            list(range(self.k_range[0], self.k_range[1] + 1))
            if self.n_tiers == "auto"
            else [int(self.n_tiers)]
        )
        need = MIN_ROWS_PER_TIER * max(ks)
        if n < need:
            raise UsageError(
                f"too few rows: fitting {max(ks)} tiers needs at least {need} rows "
                f"({MIN_ROWS_PER_TIER} per tier), got {n}"
            )
        seeds = np.random.SeedSequence(self.random_state).spawn(4)
        cap = min(self.max_fit_rows, WARD_MAX_ROWS) if self.method == "ward" else self.max_fit_rows
        stratified_by = None
        if n > cap:
            index, stratified_by = _stratified_sample(
                frame, dmi, cap, np.random.default_rng(seeds[0])
            )
        else:
            index = np.arange(n)
        xs, dmi_s = x[index], dmi[index]
        mean = xs.mean(axis=0)
        scale = xs.std(axis=0)
        constant = [
            f
            for f, s, m in zip(features, scale, mean, strict=True)
            if not s > 1e-12 * max(1.0, abs(m))
        ]
        if constant:
            values = {f: xs[0, features.index(f)] for f in constant}
            raise UsageError(
                "; ".join(
                    f"column {f!r} is constant (every row fitted on is {values[f]:g}): it cannot "
                    "separate tiers; leave it out with features=[...]"
                    for f in constant
                )
            )
        z = (xs - mean) / scale
        distinct = len(np.unique(z, axis=0))
        if distinct < max(ks):
            raise UsageError(
                f"too few distinct rows: fitting {max(ks)} tiers needs at least "
                f"{max(ks)} different score profiles, got {distinct}"
            )
        est_seed = int(seeds[1].generate_state(1)[0] >> 1)
        if self.n_tiers == "auto":
            choice, fit = self._choose_k(z, ks, est_seed, np.random.default_rng(seeds[2]))
        else:
            k = int(self.n_tiers)
            fit = _fit_once(z, k, self.method, est_seed)
            choice = KChoice("fixed", None, {}, k, f"n_tiers = {k} was given")
        k = choice.chosen
        key = fit.member_mean(dmi_s)
        order = np.argsort(key, kind="stable")

        self.n_tiers_ = k
        self.features_ = tuple(features)
        self.mean_ = mean
        self.scale_ = scale
        self.centroids_ = fit.centroids[order]
        self.weights_ = None if fit.weights is None else fit.weights[order]
        self.covariances_ = None if fit.covariances is None else fit.covariances[order]
        self.tier_dmi_ = key[order]
        self.feature_labels_ = _feature_labels(features, inst)
        if inst is not None:
            self.instrument_id_, self.instrument_version_, self.instrument_hash_ = (
                inst.id,
                inst.version,
                inst.hash,
            )
        else:
            self.instrument_id_ = self.instrument_version_ = self.instrument_hash_ = None
        self.data_hash_ = _data_hash(features, matrix)
        notes = [f"fit: {m}" for m in dict.fromkeys(fit.notes)]
        self.labels_, label_note = _labels_for(inst, k)
        if label_note:
            notes.append(label_note)
        self._kernel = _Kernel.build(self.centroids_, self.weights_, self.covariances_)

        labels = self._kernel.label(z)
        sizes = np.bincount(labels, minlength=k)
        empty = [t + 1 for t in range(k) if sizes[t] == 0]
        if empty:
            notes.append(
                f"tier(s) {', '.join(map(str, empty))} have no member among the rows "
                "fitted on (a mixture component that never has the highest posterior)"
            )
        stability = None
        if self.n_bootstrap > 0:
            stability, boot_notes = self._stability(z, labels, k, seeds[3])
            notes.extend(boot_notes)
        self.stable_ = None if stability is None else stability.stable
        if stability is not None and not stability.stable:
            message = _instability_message(stability)
            notes.append(message)
            warnings.warn(message, TierStabilityWarning, stacklevel=2)
        centres = self.centroid_values()
        tiers = tuple(
            TierSummary(
                t + 1,
                self.labels_[t].zh,
                self.labels_[t].en,
                int(sizes[t]),
                float(sizes[t] / len(z)),
                float(self.tier_dmi_[t]),
                {f: float(centres[t, j]) for j, f in enumerate(features)},
            )
            for t in range(k)
        )
        self.report_ = TierFitReport(
            method=self.method,
            n_tiers=k,
            k_choice=choice,
            n_rows=n,
            n_fit_rows=len(z),
            stratified_by=stratified_by,
            features=tuple(features),
            tiers=tiers,
            stability=stability,
            instrument=None if inst is None else f"{inst.id} {inst.version}",
            data_hash=self.data_hash_,
            warnings=tuple(notes),
        )
        return self

    def _choose_features(self, frame: pd.DataFrame, inst: Instrument | None) -> list[str]:
        if self.features is not None:
            features = list(self.features)
        elif inst is not None:
            features = [f"dim_{d.code}" for d in inst.dimensions]
        else:
            features = [str(c) for c in frame.columns if str(c).startswith("dim_")]
            if not features:
                raise UsageError(
                    f"no dim_* columns: expected a score table with dmi and "
                    f"dim_<code> columns, got columns {_some(frame.columns)}"
                )
        if inst is not None:
            known = [f"dim_{d.code}" for d in inst.dimensions]
            foreign = [f for f in features if f not in known]
            if foreign:
                raise UsageError(
                    f"features {', '.join(foreign)} are not dimensions of instrument "
                    f"{inst.id} (expected some of {', '.join(known)})"
                )
        return features

    def _choose_k(
        self, z: np.ndarray, ks: list[int], seed: int, rng: np.random.Generator
    ) -> tuple[KChoice, _Fit]:
        fits: dict[int, _Fit] = {}
        scores: dict[int, float] = {}
        if self.method == "gmm":
            criterion = "bic"
            for k in ks:
                fits[k] = _fit_once(z, k, self.method, seed)
                scores[k] = float(fits[k].bic)
        else:
            from sklearn.metrics import silhouette_score

            criterion = "silhouette"
            m = min(len(z), SILHOUETTE_ROWS)
            sub = (
                np.sort(rng.choice(len(z), size=m, replace=False))
                if m < len(z)
                else np.arange(len(z))
            )
            for k in ks:
                fits[k] = _fit_once(z, k, self.method, seed)
                labels = fits[k].kernel().label(z[sub])
                scores[k] = (
                    float(silhouette_score(z[sub], labels))
                    if len(np.unique(labels)) > 1
                    else float("nan")
                )
        sign = -1.0 if criterion == "bic" else 1.0
        ranked = sorted(
            (k for k in ks if np.isfinite(scores[k])), key=lambda k: (-sign * scores[k], k)
        )
        if not ranked:
            raise UsageError(f"no K in {ks[0]}..{ks[-1]} gave two or more tiers on these data")
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

    def _stability(
        self, z: np.ndarray, main: np.ndarray, k: int, seed: np.random.SeedSequence
    ) -> tuple[TierStability, list[str]]:
        from sklearn.metrics import adjusted_rand_score

        rng = np.random.default_rng(seed)
        n = len(z)
        m = min(self.bootstrap_rows, n)
        if self.method == "ward":
            m = min(m, WARD_MAX_ROWS)
        main_sizes = np.bincount(main, minlength=k)
        aris, jaccards = [], []
        failed = unconverged = 0
        for _ in range(self.n_bootstrap):
            idx = rng.integers(0, n, size=m)
            fit_seed = int(rng.integers(0, 2**31 - 1))
            zb = z[idx]
            if len(np.unique(zb, axis=0)) < k:
                failed += 1
                aris.append(0.0)
                jaccards.append(np.zeros(k))
                continue
            fit = _fit_once(zb, k, self.method, fit_seed)
            unconverged += bool(fit.notes)
            boot = fit.kernel().label(z)
            aris.append(float(adjusted_rand_score(main, boot)))
            table = np.bincount(main * k + boot, minlength=k * k).reshape(k, k)
            union = main_sizes[:, None] + np.bincount(boot, minlength=k)[None, :] - table
            with np.errstate(invalid="ignore", divide="ignore"):
                jac = np.where(union > 0, table / np.maximum(union, 1), 0.0).max(axis=1)
            jaccards.append(jac)
        jac_all = np.vstack(jaccards)
        ari_mean = float(np.mean(aris))
        jac_mean = jac_all.mean(axis=0)
        stable = bool(ari_mean >= self.min_ari and np.all(jac_mean >= self.min_jaccard))
        notes = []
        if failed:
            notes.append(
                f"{failed} of {self.n_bootstrap} bootstrap resamples had fewer than {k} "
                "distinct rows and count as complete disagreement"
            )
        if unconverged:
            notes.append(f"{unconverged} of {self.n_bootstrap} bootstrap refits did not converge")
        return TierStability(
            n_bootstrap=self.n_bootstrap,
            resample_rows=m,
            ari_mean=ari_mean,
            ari_min=float(np.min(aris)),
            jaccard_mean=tuple(float(v) for v in jac_mean),
            jaccard_min=tuple(float(v) for v in jac_all.min(axis=0)),
            min_ari=float(self.min_ari),
            min_jaccard=float(self.min_jaccard),
            stable=stable,
        ), notes

    # -- prediction ---------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise RuntimeError(
                "this TierModel is not fitted yet: call fit(scores) or TierModel.load(path) first"
            )

    def _standardise(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.clip((x - self.mean_) / self.scale_, -_Z_LIMIT, _Z_LIMIT)

    def _evaluate(
        self, x: np.ndarray, proba: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Tiers (1..K), confidences and, when asked, posteriors (gmm) of a feature matrix."""
        n = x.shape[0]
        k = self.n_tiers_
        tiers = np.empty(n, dtype=np.int64)
        confidence = np.empty(n)
        posterior = np.empty((n, k)) if proba else None
        for start in range(0, n, _CHUNK):
            stop = min(start + _CHUNK, n)
            s = self._kernel.scores(self._standardise(x[start:stop]))
            best = np.argmax(s, axis=1)
            tiers[start:stop] = best + 1
            if self._kernel.prec_chol is None:
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

    def _matrix(self, scores: Any, allow_nan: bool = False) -> np.ndarray:
        self._check_fitted()
        if isinstance(scores, np.ndarray):
            x = np.asarray(scores, dtype=float)
            if x.ndim == 1:
                x = x[None, :]
            if x.ndim != 2 or x.shape[1] != len(self.features_):
                raise ValueError(
                    f"expected an array of shape (n, {len(self.features_)}) with "
                    f"columns {', '.join(self.features_)}, got shape {x.shape}"
                )
            if np.isinf(x).any() or (not allow_nan and np.isnan(x).any()):
                raise ValueError(
                    "the array has NaN or infinite values; every company needs a "
                    "finite score on every feature to be placed in a tier"
                )
            return x
        return _numeric(
            _as_frame(scores, "predict"), list(self.features_), "predict", allow_nan=allow_nan
        )

    def predict(
        self, scores: pd.DataFrame | pd.Series | Mapping[str, Any] | np.ndarray
    ) -> np.ndarray:
        """Tier of every row: 1 (most basic support) ... ``n_tiers_`` (most advanced).

        Parameters
        ----------
        scores
            A score table with the feature columns (extra columns are ignored), one row as a
            Series or mapping, or an ``(n, n_features)`` array in ``features_`` order.

        Returns
        -------
        numpy.ndarray of int64
        """
        return self._evaluate(self._matrix(scores))[0]

    def predict_with_confidence(
        self, scores: pd.DataFrame | pd.Series | Mapping[str, Any] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Tiers and membership confidences (see the module docstring for the formula)."""
        tiers, confidence, _ = self._evaluate(self._matrix(scores))
        return tiers, confidence

    def predict_confidence(
        self, scores: pd.DataFrame | pd.Series | Mapping[str, Any] | np.ndarray
    ) -> np.ndarray:
        """Membership confidence in [0, 1] of every row's tier."""
        return self.predict_with_confidence(scores)[1]

    def predict_proba(
        self, scores: pd.DataFrame | pd.Series | Mapping[str, Any] | np.ndarray
    ) -> np.ndarray:
        """Posterior probability of each tier, ``(n, n_tiers_)``; ``gmm`` models only."""
        self._check_fitted()
        if self._kernel.prec_chol is None:
            raise ValueError(
                f"predict_proba needs a mixture model (method='gmm'), got "
                f"method={self.method!r}; use predict_confidence"
            )
        return self._evaluate(self._matrix(scores), proba=True)[2]

    def assign(
        self, scores: pd.DataFrame, *, missing: Literal["error", "na"] = "error"
    ) -> pd.DataFrame:
        """A copy of ``scores`` with ``tier`` and ``tier_confidence`` columns.

        Parameters
        ----------
        missing
            ``"error"`` (default) raises on a NaN feature; ``"na"`` leaves those rows' ``tier``
            empty (nullable integer) and their confidence NaN.
        """
        if missing not in ("error", "na"):
            raise UsageError(f"missing: expected 'error' or 'na', got {missing!r}")
        frame = _as_frame(scores, "assign")
        x = self._matrix(frame, allow_nan=missing == "na")
        complete = ~np.isnan(x).any(axis=1)
        values = np.zeros(len(x), dtype=np.int64)
        confidence = np.full(len(x), np.nan)
        if complete.any():
            t, c, _ = self._evaluate(x[complete])
            values[complete] = t
            confidence[complete] = c
        tiers = pd.arrays.IntegerArray(values, ~complete)  # empty where a feature is NaN
        out = frame.copy()
        out["tier"] = tiers if missing == "na" else tiers.astype("int64")
        out["tier_confidence"] = confidence
        return out

    def centroid_values(self) -> np.ndarray:
        """Tier centroids in the features' own units (0-100), ``(n_tiers_, n_features)``."""
        self._check_fitted()
        return self.mean_ + self.scale_ * self.centroids_

    # -- explanation --------------------------------------------------------------------------
    def explain(self, row: pd.Series | pd.DataFrame | Mapping[str, Any]) -> TierExplanation:
        """Why one company is in its tier, and the smallest change found that moves it up.

        The move-up search raises, greedily, the dimension that most increases the margin of
        the higher tiers over the lower ones, each to the next tier's centroid value, until
        :meth:`predict` gives a higher tier; it then drops any change that is not needed,
        shrinks the rest proportionally as far as the tier still holds and rounds the points up
        to 0.1. When reaching the centroid values is not enough it moves further along the same
        direction (and then towards 100 on every dimension). The result is checked by calling
        :meth:`predict`. Scores are never lowered and never raised above 100.
        """
        frame = _as_frame(row, "explain")
        if len(frame) != 1:
            raise UsageError(f"explain takes one company (one row), got {len(frame)} rows")
        x = self._matrix(frame)[0]
        rid = None
        if "respondent_id" in frame.columns and pd.notna(frame["respondent_id"].iloc[0]):
            rid = str(frame["respondent_id"].iloc[0])
        tiers, confidence, _ = self._evaluate(x[None, :])
        tier, conf = int(tiers[0]), float(confidence[0])
        k = self.n_tiers_
        centres = self.centroid_values()
        own = centres[tier - 1]
        nxt = centres[tier] if tier < k else None
        gaps = []
        for j, f in enumerate(self.features_):
            zh, en = self.feature_labels_[f]
            short = 0.0 if nxt is None else max(0.0, float(nxt[j] - x[j]))
            gaps.append(
                DimensionGap(
                    f,
                    zh,
                    en,
                    float(x[j]),
                    float(own[j]),
                    None if nxt is None else float(nxt[j]),
                    bool(x[j] < own[j]),
                    short,
                )
            )
        reference = own if nxt is None else nxt
        gap_sd = (reference - x) / self.scale_
        holding = tuple(
            self.features_[j] for j in np.argsort(-gap_sd, kind="stable") if gap_sd[j] > 0
        )
        changes: tuple[DimensionChange, ...] = ()
        moved_to = None
        if nxt is not None:
            target = self._search_up(x, tier, nxt)
            if target is not None:
                check = pd.DataFrame([target], columns=list(self.features_))
                moved_to = int(self.predict(check)[0])
                if moved_to > tier:
                    changes = tuple(
                        DimensionChange(
                            f,
                            *self.feature_labels_[f],
                            float(target[j] - x[j]),
                            float(x[j]),
                            float(target[j]),
                        )
                        for j, f in enumerate(self.features_)
                        if target[j] > x[j]
                    )
                else:  # cannot happen: the search checks the same kernel; kept as a guard
                    moved_to = None
        zh_lines, en_lines = self._sentences(tier, conf, gaps, holding, changes, moved_to)
        return TierExplanation(
            rid,
            tier,
            k,
            self.labels_[tier - 1],
            conf,
            None if nxt is None else tier + 1,
            tuple(gaps),
            holding,
            changes,
            moved_to,
            tuple(zh_lines),
            tuple(en_lines),
        )

    def _margin(self, y: np.ndarray, tier: int) -> np.ndarray:
        """> 0 exactly when ``predict`` gives a tier above ``tier`` (argmax takes the first)."""
        s = self._kernel.scores(self._standardise(y))
        return s[:, tier:].max(axis=1) - s[:, :tier].max(axis=1)

    def _search_up(self, x: np.ndarray, tier: int, target: np.ndarray) -> np.ndarray | None:
        top = np.maximum(SCORE_MAX, x)
        goal = np.minimum(target, top)
        y = x.copy()
        chosen: list[int] = []
        remaining = [j for j in range(len(x)) if goal[j] > x[j]]
        while self._margin(y[None, :], tier)[0] <= 0 and remaining:
            trials = np.repeat(y[None, :], len(remaining), axis=0)
            for i, j in enumerate(remaining):
                trials[i, j] = goal[j]
            best = int(np.argmax(self._margin(trials, tier)))
            y = trials[best]
            chosen.append(remaining.pop(best))
        if self._margin(y[None, :], tier)[0] <= 0:
            y = None
            grid = np.linspace(0.0, 1.0, 257)[1:]
            for direction in (np.maximum(goal - x, 0.0), top - x):
                if not np.any(direction > 0):
                    continue
                # from the current point along the direction until every score is at the top
                reach = np.where(
                    direction > 0, (top - x) / np.where(direction > 0, direction, 1), 0.0
                ).max()
                steps = np.minimum(x + grid[:, None] * reach * direction[None, :], top)
                ok = np.flatnonzero(self._margin(steps, tier) > 0)
                if len(ok):
                    y = steps[ok[0]]
                    break
            if y is None:
                return None
        else:
            for j in sorted(chosen, key=lambda j: y[j] - x[j]):
                trial = y.copy()
                trial[j] = x[j]
                if self._margin(trial[None, :], tier)[0] > 0:
                    y = trial
        delta = y - x
        lam = np.linspace(0.0, 1.0, 201)[1:]
        steps = x + lam[:, None] * delta[None, :]
        ok = np.flatnonzero(self._margin(steps, tier) > 0)
        y = steps[ok[0]] if len(ok) else y
        # round the suggested points up to 0.1 (what a person can act on) when that still works
        rounded = np.where(y > x, np.minimum(x + np.ceil(np.round((y - x) * 10, 6)) / 10, top), x)
        if self._margin(rounded[None, :], tier)[0] > 0:
            y = rounded
        return y

    def _sentences(
        self,
        tier: int,
        conf: float,
        gaps: list[DimensionGap],
        holding: tuple[str, ...],
        changes: tuple[DimensionChange, ...],
        moved_to: int | None,
    ) -> tuple[list[str], list[str]]:
        label = self.labels_[tier - 1]
        k = self.n_tiers_
        by_feature = {g.feature: g for g in gaps}
        zh = [
            f"所在梯队：第 {tier} 梯队（共 {k} 个梯队）——{label.zh}，归属置信度 {conf:.2f}。",
            f"帮扶措施：{label.support_zh}",
        ]
        en = [
            f"Tier {tier} of {k}: {label.en} (membership confidence {conf:.2f}).",
            f"Support: {label.support_en}",
        ]
        if tier == k:
            if holding:
                zh.append(
                    "已处于最高梯队；低于本梯队平均水平的维度："
                    + "；".join(
                        f"{by_feature[f].zh}（{by_feature[f].value:.1f} 分，本梯队平均 "
                        f"{by_feature[f].tier_centroid:.1f} 分）"
                        for f in holding
                    )
                    + "。"
                )
                en.append(
                    "Already in the most advanced tier; below this tier's average on: "
                    + "; ".join(
                        f"{by_feature[f].en} ({by_feature[f].value:.1f} vs "
                        f"{by_feature[f].tier_centroid:.1f})"
                        for f in holding
                    )
                    + "."
                )
            else:
                zh.append("已处于最高梯队，各维度均不低于本梯队平均水平。")
                en.append(
                    "Already in the most advanced tier, at or above its average on every dimension."
                )
            return zh, en
        up = tier + 1
        if holding:
            zh.append(
                f"低于第 {up} 梯队平均水平的维度（差距从大到小）："
                + "；".join(
                    f"{by_feature[f].zh}（{by_feature[f].value:.1f} 分，第 {up} 梯队平均 "
                    f"{by_feature[f].next_centroid:.1f} 分，"
                    f"差 {by_feature[f].points_to_next:.1f} 分）"
                    for f in holding
                )
                + "。"
            )
            en.append(
                f"Below the tier {up} average on (largest gap first): "
                + "; ".join(
                    f"{by_feature[f].en} ({by_feature[f].value:.1f} vs "
                    f"{by_feature[f].next_centroid:.1f}, {by_feature[f].points_to_next:.1f} points "
                    "short)"
                    for f in holding
                )
                + "."
            )
        else:
            zh.append(f"各维度均不低于第 {up} 梯队的平均水平，但整体组合仍更接近当前梯队。")
            en.append(
                f"At or above the tier {up} average on every dimension, yet the profile as "
                "a whole is still closer to the current tier."
            )
        if changes and moved_to is not None:
            zh.append(
                f"进入第 {moved_to} 梯队的最小改进："
                + "、".join(
                    f"{c.zh}提高 {c.points:.1f} 分（至 {c.to_value:.1f} 分）" for c in changes
                )
                + "。"
            )
            en.append(
                f"Smallest change found that moves it to tier {moved_to}: "
                + ", ".join(
                    f"raise {c.en} by {c.points:.1f} points (to {c.to_value:.1f})" for c in changes
                )
                + "."
            )
        else:
            zh.append(f"在 0-100 分范围内提高各维度得分都不能使其进入第 {up} 梯队。")
            en.append(
                f"No increase of the dimension scores within 0-100 moves it to tier {up} "
                "under this model."
            )
        return zh, en

    # -- instrument ---------------------------------------------------------------------------
    def check_instrument(self, instrument: Instrument | str) -> None:
        """Raise ``ValueError`` unless this model fits scores of ``instrument``.

        The id and version must match the ones recorded at fit (the content hash is recorded
        but not compared: editing a label does not change the tiers), and every feature must be
        one of the instrument's dimensions.
        """
        self._check_fitted()
        inst = _resolve_instrument(instrument)
        if self.instrument_id_ is not None and (self.instrument_id_, self.instrument_version_) != (
            inst.id,
            inst.version,
        ):
            raise ModelFileError(
                "tier model",
                "instrument",
                f"this tier model was fitted for instrument {self.instrument_id_} version "
                f"{self.instrument_version_}, not {inst.id} version {inst.version}: fit one for "
                f"it (dmi tiers fit REFERENCE -o MODEL.json --instrument {inst.id})",
            )
        known = [f"dim_{d.code}" for d in inst.dimensions]
        foreign = [f for f in self.features_ if f not in known]
        if foreign:
            raise ModelFileError(
                "tier model",
                "features",
                f"this tier model uses {', '.join(foreign)}, which instrument "
                f"{inst.id} does not have (its dimensions: {', '.join(known)})",
            )

    # -- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain, versioned JSON-able data (no training rows)."""
        self._check_fitted()
        return {
            "format": TIER_MODEL_FORMAT,
            "params": _jsonable(self.params()),
            "instrument": None
            if self.instrument_id_ is None
            else {
                "id": self.instrument_id_,
                "version": self.instrument_version_,
                "hash": self.instrument_hash_,
            },
            "n_tiers": self.n_tiers_,
            "features": list(self.features_),
            "feature_labels": {
                f: {"zh": zh, "en": en} for f, (zh, en) in self.feature_labels_.items()
            },
            "scaler": {"mean": self.mean_.tolist(), "scale": self.scale_.tolist()},
            "centroids": self.centroids_.tolist(),
            "mixture": None
            if self.weights_ is None
            else {"weights": self.weights_.tolist(), "covariances": self.covariances_.tolist()},
            "tier_dmi": self.tier_dmi_.tolist(),
            "labels": [label.to_dict() for label in self.labels_],
            "data_hash": self.data_hash_,
            "stable": self.stable_,
            "report": self.report_.to_dict(),
        }

    def save(self, path: str | Path) -> None:
        """Write the fitted model to a JSON file."""
        Path(path).write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )

    @classmethod
    def from_dict(
        cls, data: Any, instrument: Instrument | str | None = None, *, source: str = "(in memory)"
    ) -> TierModel:
        """Rebuild a fitted model from :meth:`to_dict` data, checking every field.

        Raises
        ------
        ValueError
            ``"tier model file <source>: missing 'centroids'"`` and the like for a truncated or
            edited file; a model for another instrument id or version when ``instrument`` is
            given.
        """
        check = _Checker(source)
        if not isinstance(data, dict):
            check.fail(f"expected a JSON object, got {type(data).__name__}")
        fmt = check.get(data, "format")
        if fmt != TIER_MODEL_FORMAT:
            check.fail(f"expected format {TIER_MODEL_FORMAT!r}, got {fmt!r}")
        params = check.get(data, "params", dict)
        for key in _PARAM_KEYS:
            check.get(params, key, where="params")
        model = cls(
            **{
                key: tuple(params[key])
                if key == "k_range" and isinstance(params[key], list)
                else params[key]
                for key in _PARAM_KEYS
            }
        )
        try:
            model._check_params()
        except ValueError as exc:
            check.fail(f"'params': {exc}")
        k = check.get(data, "n_tiers", int)
        if k < 2:
            check.fail(f"'n_tiers' must be >= 2, got {k}")
        features = check.get(data, "features", list)
        if not features or not all(isinstance(f, str) for f in features):
            check.fail(f"'features' must be a non-empty list of column names, got {features!r}")
        d = len(features)
        meta = check.get(data, "instrument", (dict, type(None)))
        if meta is not None:
            for key in ("id", "version", "hash"):
                check.get(meta, key, str, where="instrument")
        labels_data = check.get(data, "feature_labels", dict)
        feature_labels = {}
        for f in features:
            entry = check.get(labels_data, f, dict, where="feature_labels")
            feature_labels[f] = (
                check.get(entry, "zh", str, where=f"feature_labels.{f}"),
                check.get(entry, "en", str, where=f"feature_labels.{f}"),
            )
        scaler = check.get(data, "scaler", dict)
        mean = check.array(check.get(scaler, "mean", where="scaler"), (d,), "scaler.mean")
        scale = check.array(check.get(scaler, "scale", where="scaler"), (d,), "scaler.scale")
        if not np.all(scale > 0):
            check.fail("'scaler.scale' must be positive")
        centroids = check.array(check.get(data, "centroids"), (k, d), "centroids")
        mixture = check.get(data, "mixture", (dict, type(None)))
        weights = covariances = None
        if (mixture is None) != (model.method != "gmm"):
            check.fail(
                f"'mixture' must be {'an object' if model.method == 'gmm' else 'null'} "
                f"for method {model.method!r}"
            )
        if mixture is not None:
            weights = check.array(
                check.get(mixture, "weights", where="mixture"), (k,), "mixture.weights"
            )
            covariances = check.array(
                check.get(mixture, "covariances", where="mixture"), (k, d, d), "mixture.covariances"
            )
            if not np.all(weights > 0) or abs(weights.sum() - 1) > 1e-6:
                check.fail("'mixture.weights' must be positive and sum to 1")
            for t in range(k):
                if not np.allclose(covariances[t], covariances[t].T) or np.any(
                    np.linalg.eigvalsh(covariances[t]) <= 0
                ):
                    check.fail(
                        f"'mixture.covariances' of tier {t + 1} is not symmetric positive definite"
                    )
        tier_dmi = check.array(check.get(data, "tier_dmi"), (k,), "tier_dmi")
        labels = []
        for t, entry in enumerate(check.get(data, "labels", list)):
            where = f"labels[{t}]"
            if not isinstance(entry, dict):
                check.fail(f"'{where}' must be an object")
            support = check.get(entry, "support", dict, where=where)
            labels.append(
                TierLabel(
                    check.get(entry, "tier", int, where=where),
                    check.get(entry, "zh", str, where=where),
                    check.get(entry, "en", str, where=where),
                    check.get(support, "zh", str, where=f"{where}.support"),
                    check.get(support, "en", str, where=f"{where}.support"),
                    check.get(entry, "generic", bool, where=where),
                )
            )
        if [label.tier for label in labels] != list(range(1, k + 1)):
            check.fail(
                f"'labels' must describe tiers 1..{k} in order, got "
                f"{[label.tier for label in labels]}"
            )
        data_hash = check.get(data, "data_hash", str)
        stable = check.get(data, "stable", (bool, type(None)))
        report_data = check.get(data, "report", dict)
        try:
            report = TierFitReport.from_dict(report_data)
        except KeyError as exc:
            check.fail(f"missing 'report.{exc.args[0]}'")
        except (TypeError, ValueError, AttributeError) as exc:
            check.fail(f"'report' is malformed ({exc})")
        if report.n_tiers != k or len(report.tiers) != k:
            check.fail(f"'report' describes {report.n_tiers} tiers but 'n_tiers' is {k}")

        model.n_tiers_ = k
        model.features_ = tuple(features)
        model.mean_, model.scale_, model.centroids_ = mean, scale, centroids
        model.weights_, model.covariances_ = weights, covariances
        model.tier_dmi_ = tier_dmi
        model.labels_ = tuple(labels)
        model.feature_labels_ = feature_labels
        model.instrument_id_ = None if meta is None else meta["id"]
        model.instrument_version_ = None if meta is None else meta["version"]
        model.instrument_hash_ = None if meta is None else meta["hash"]
        model.data_hash_ = data_hash
        model.stable_ = stable
        model.report_ = report
        model._kernel = _Kernel.build(centroids, weights, covariances)
        if instrument is not None:
            try:
                model.check_instrument(instrument)
            except ValueError as exc:
                check.fail(str(exc))
        return model

    @classmethod
    def load(cls, path: str | Path, instrument: Instrument | str | None = None) -> TierModel:
        """Read a model written by :meth:`save`; with ``instrument``, check it matches."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no such tier model file: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelFileError(
                f"tier model file {path}", "", f"not valid JSON, perhaps truncated ({exc})"
            ) from None
        return cls.from_dict(data, instrument, source=str(path))

    def __repr__(self) -> str:
        defaults = TierModel().params()
        shown = [
            f"{key}={value!r}" for key, value in self.params().items() if value != defaults[key]
        ]
        if self.instrument is not None:
            name = (
                self.instrument.id if isinstance(self.instrument, Instrument) else self.instrument
            )
            shown.append(f"instrument={name!r}")
        return f"TierModel({', '.join(shown)})"


# -- reports by group --------------------------------------------------------------------------


def tier_report(
    scores: pd.DataFrame,
    by: Sequence[str] | str = ("sector", "region", "size_class"),
    *,
    tier_column: str = "tier",
    n_tiers: int | None = None,
) -> pd.DataFrame:
    """Counts and shares of companies per tier, overall and by each grouping column present.

    Parameters
    ----------
    scores
        A table with a ``tier`` column (whole numbers >= 1), e.g. from :meth:`TierModel.assign`.
    by
        Grouping columns; the ones absent from ``scores`` are skipped (listed in
        ``result.attrs["skipped"]``). A blank group value is reported as ``"(missing)"``.
    n_tiers
        Report tiers 1..n_tiers (default: up to the largest tier present), zeros included.

    Returns
    -------
    pandas.DataFrame
        Columns ``by, group, tier, count, share`` (share within the group); ``by == "all"`` holds
        the overall counts. For every grouping column the counts add up to the number of rows.
    """
    if tier_column not in scores.columns:
        raise FileFormatError(
            f"no {tier_column!r} column: expected a score table with tiers "
            f"(TierModel.assign, or `dmi score` with a tier model), got columns "
            f"{_some(scores.columns)}"
        )
    raw = scores[tier_column]
    tiers = pd.to_numeric(raw, errors="coerce")
    bad = tiers.isna() | (tiers < 1) | (tiers != np.floor(tiers))
    if bad.any():
        first = raw[bad].iloc[0]
        raise FileFormatError(
            f"column {tier_column!r} has {int(bad.sum())} values that are not a tier "
            f"(a whole number >= 1), first {first!r}"
        )
    tiers = tiers.astype(np.int64).to_numpy()
    k = int(n_tiers if n_tiers is not None else (tiers.max() if len(tiers) else 1))
    columns = [by] if isinstance(by, str) else list(by)
    present = [c for c in columns if c in scores.columns]
    parts = [_group_counts("all", np.full(len(tiers), "all", dtype=object), tiers, k)]
    for column in present:
        values = scores[column].astype(object)
        groups = np.where(values.isna(), "(missing)", values.astype(str)).astype(object)
        parts.append(_group_counts(column, groups, tiers, k))
    table = pd.concat(parts, ignore_index=True)
    table.attrs["skipped"] = [c for c in columns if c not in scores.columns]
    return table


def _group_counts(name: str, groups: np.ndarray, tiers: np.ndarray, k: int) -> pd.DataFrame:
    counts = (
        pd.DataFrame({"group": groups, "tier": tiers})
        .groupby(["group", "tier"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=range(1, k + 1), fill_value=0)
    )
    counts = counts.sort_index()
    counts.columns.name = "tier"
    counts.index.name = "group"
    long = counts.stack().rename("count").reset_index()
    totals = long.groupby("group")["count"].transform("sum")
    long["share"] = np.where(totals > 0, long["count"] / totals.clip(lower=1), 0.0)
    long.insert(0, "by", name)
    return long[["by", "group", "tier", "count", "share"]]


def format_tier_report(table: pd.DataFrame, labels: Sequence[TierLabel] | None = None) -> str:
    """The :func:`tier_report` table as plain text: one block per grouping column."""
    lines: list[str] = []
    k = int(table["tier"].max()) if len(table) else 0
    if labels:
        lines.append("tiers: " + "; ".join(f"{lab.tier} = {lab.zh} / {lab.en}" for lab in labels))
    for name, block in table.groupby("by", sort=False):
        wide = block.pivot(index="group", columns="tier", values="count")
        width = max([len(str(g)) for g in wide.index] + [5])
        total = int(wide.sum(axis=1).sum())
        lines.append("")
        lines.append(f"by {name} ({total} rows)" if name != "all" else f"all ({total} rows)")
        lines.append(
            f"  {'group':<{width}}"
            + "".join(f"  {'tier ' + str(t):>14}" for t in range(1, k + 1))
            + "    total"
        )
        for group, row in wide.iterrows():
            n = int(row.sum())
            cells = "".join(
                f"  {int(row[t]):>7} {row[t] / n if n else 0:>6.1%}" for t in range(1, k + 1)
            )
            lines.append(f"  {str(group):<{width}}{cells}  {n:>7}")
    skipped = table.attrs.get("skipped") or []
    if skipped:
        lines.append("")
        lines.append(f"skipped (no such column): {', '.join(skipped)}")
    return "\n".join(lines).lstrip("\n")


# -- shipped models ----------------------------------------------------------------------------


def shipped_tier_model_path(instrument: Instrument | str) -> Path:
    """Where the shipped default tier model of an instrument lives (it may not exist)."""
    name = instrument.id if isinstance(instrument, Instrument) else str(instrument)
    return shipped_path("models", f"tiers-{name}.json")


def load_shipped_tier_model(instrument: Instrument | str) -> TierModel:
    """The shipped default tier model of an instrument, checked against it."""
    inst = _resolve_instrument(instrument)
    path = shipped_tier_model_path(inst)
    if not path.is_file():
        raise FileNotFoundError(
            f"no shipped tier model for instrument {inst.id} (looked for "
            f"{path}); fit one with `dmi tiers fit REFERENCE -o MODEL.json`"
        )
    return TierModel.load(path, inst)


# -- helpers -----------------------------------------------------------------------------------


def _resolve_instrument(instrument: Instrument | str | Path) -> Instrument:
    return instrument if isinstance(instrument, Instrument) else load_instrument(instrument)


def _as_frame(scores: Any, what: str) -> pd.DataFrame:
    if isinstance(scores, pd.DataFrame):
        return scores
    if isinstance(scores, pd.Series):
        return scores.to_frame().T.reset_index(drop=True)
    if isinstance(scores, Mapping):
        return pd.DataFrame([dict(scores)])
    raise UsageError(
        f"{what}: expected a score table (pandas DataFrame), one row (Series or "
        f"mapping) or an array, got {type(scores).__name__}"
    )


def _some(columns: Any, limit: int = 12) -> str:
    names = [str(c) for c in columns]
    shown = ", ".join(names[:limit])
    return (shown + f", ... ({len(names)} in all)") if len(names) > limit else (shown or "none")


def _numeric(
    frame: pd.DataFrame, columns: list[str], what: str, allow_nan: bool = False
) -> np.ndarray:
    """The columns as a float matrix; every problem of every column in one ``ValueError``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{what}: missing columns {', '.join(missing)}: expected a score table "
            f"with {', '.join(columns)}; got columns {_some(frame.columns)}"
        )
    problems = []
    out = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        series = frame[column]
        if isinstance(series, pd.DataFrame):
            problems.append(f"column {column!r} appears more than once")
            continue
        if pd.api.types.is_bool_dtype(series.dtype):
            problems.append(f"column {column!r} holds true/false values, expected numbers")
            continue
        if not pd.api.types.is_numeric_dtype(series.dtype):
            text = series.astype(object)
            text = text.where(text.notna(), None).map(
                lambda v: v.strip() if isinstance(v, str) else v
            )
            blank = text.isna() | (text == "")
            converted = pd.to_numeric(text.where(~blank, np.nan), errors="coerce")
            failed = converted.isna() & ~blank
            if failed.any():
                first = failed.to_numpy().nonzero()[0][0]
                problems.append(
                    f"column {column!r} has {int(failed.sum())} non-numeric values "
                    f"(first {series.iloc[first]!r} in row {first + 1})"
                )
                continue
            values = converted.to_numpy(dtype=float)
        else:
            values = series.to_numpy(dtype=float)
        nan = np.isnan(values)
        if nan.any() and not allow_nan:
            first = int(np.flatnonzero(nan)[0])
            problems.append(
                f"column {column!r} has {int(nan.sum())} missing values (NaN), first "
                f"in row {first + 1}: every company needs a score on every feature"
            )
        inf = np.isinf(values)
        if inf.any():
            first = int(np.flatnonzero(inf)[0])
            problems.append(
                f"column {column!r} has {int(inf.sum())} infinite values, first in row {first + 1}"
            )
        out[:, j] = values
    if problems:
        raise UsageError(f"{what}: " + "; ".join(problems))
    return out


def _stratified_sample(
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


def _data_hash(features: list[str], matrix: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([*features, "dmi"]).encode("utf-8"))
    digest.update(np.ascontiguousarray(matrix, dtype="<f8").tobytes())
    return "sha256:" + digest.hexdigest()


def _feature_labels(features: list[str], inst: Instrument | None) -> dict[str, tuple[str, str]]:
    names = {} if inst is None else {f"dim_{d.code}": (d.zh, d.en) for d in inst.dimensions}
    return {f: names.get(f, (f.removeprefix("dim_"), f.removeprefix("dim_"))) for f in features}


def _labels_for(inst: Instrument | None, k: int) -> tuple[tuple[TierLabel, ...], str | None]:
    if inst is not None and len(inst.tiers) == k:
        return tuple(
            TierLabel(t.tier, t.zh, t.en, t.support.zh, t.support.en) for t in inst.tiers
        ), None
    generic = tuple(_generic_label(t) for t in range(1, k + 1))
    if inst is None:
        return generic, None
    return generic, (
        f"instrument {inst.id} describes {len(inst.tiers)} tiers but the model has "
        f"{k}: the tiers get the generic labels 第 k 梯队 / Tier k and no support "
        "package"
    )


def _instability_message(s: TierStability) -> str:
    weak = [
        f"tier {t + 1} mean Jaccard {v:.2f}"
        for t, v in enumerate(s.jaccard_mean)
        if v < s.min_jaccard
    ]
    parts = [f"mean adjusted Rand index {s.ari_mean:.2f} (needs >= {s.min_ari:g})"]
    if weak:
        parts.append(", ".join(weak) + f" (each needs >= {s.min_jaccard:g})")
    return (
        "the tiers are not stable: refitted on bootstrap resamples they change too much ("
        + "; ".join(parts)
        + "). Which companies share a tier depends on who happens to be "
        "in the reference population; try fewer tiers, another method or a larger population"
    )


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _jsonable(value: Any) -> Any:
    """Plain JSON types; NaN becomes None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class _Checker:
    """Field checks for a tier model file, each failure one clear ``ModelFileError``."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, problem: str) -> NoReturn:
        raise ModelFileError(f"tier model file {self.source}", "", problem)

    def get(
        self, data: Mapping[str, Any], key: str, kind: Any = None, where: str | None = None
    ) -> Any:
        name = f"{where}.{key}" if where else key
        if not isinstance(data, Mapping) or key not in data:
            self.fail(f"missing {name!r}")
        value = data[key]
        if kind is not None:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            bad_bool = isinstance(value, bool) and bool not in kinds
            if bad_bool or not isinstance(value, kinds):
                expected = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
                self.fail(f"{name!r} must be {expected}, got {type(value).__name__}")
        return value

    def array(self, value: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
        try:
            if _has_non_number(value):
                raise TypeError
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            array = None
        if array is None or array.shape != shape:
            got = "non-numbers" if array is None else f"shape {array.shape}"
            self.fail(f"{name!r} must be numbers of shape {shape}, got {got}")
        if not np.all(np.isfinite(array)):
            self.fail(f"{name!r} must be finite numbers")
        return array


def _has_non_number(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_non_number(v) for v in value)
    return isinstance(value, bool) or not isinstance(value, (int, float))

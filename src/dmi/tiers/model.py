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
2. The standardised rows are clustered (:mod:`dmi.tiers.cluster`) by k-means, a Gaussian mixture
   or Ward's hierarchical clustering; Ward's clusters are summarised by their centroids, and a
   company belongs to the nearest one.
3. Clusters become tiers in the order of the mean index (``dmi``) of the rows each holds as the
   model places them (the nearest centroid, a mixture's most probable component): tier 1 has
   the lowest. The instrument's ``tiers`` section labels them when it describes exactly K tiers;
   otherwise the labels are the generic "第 k 梯队 / Tier k" and the fit report says so.
4. ``n_tiers="auto"`` tries every K in ``k_range`` (:mod:`dmi.tiers.choice`).
5. Stability is measured on bootstrap refits (:mod:`dmi.tiers.stability`).

Prediction (:mod:`dmi.tiers.kernel`) uses only numpy and the stored parameters, element by
element, so a loaded model gives bit-identical tiers on one row or on a million. The explanation
is :mod:`dmi.tiers.explain`, the fit report and the counts by group :mod:`dmi.tiers.report`, the
file format :mod:`dmi.tiers.files`.

Design choices
--------------
- A constant feature column is an error (it cannot separate tiers and cannot be standardised);
  leave it out with ``features=``.
- Rows with a missing (NaN) feature are an error in :meth:`TierModel.fit` and
  :meth:`TierModel.predict`; :meth:`TierModel.assign` can instead leave their tier empty.
- Ward's clustering needs memory and time that grow with the square of the rows, so it is fitted
  on a stratified sample of at most :data:`~dmi.tiers.cluster.WARD_MAX_ROWS` rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions

from dmi.base import DmiEstimator, str_options
from dmi.errors import (
    DataError,
    MissingFileError,
    ModelFileError,
    ParameterError,
    TierStabilityWarning,
)
from dmi.instruments import Instrument, load_instrument
from dmi.io.modelfile import check, dmi_version, read_json
from dmi.tiers.choice import KChoice, choose_k
from dmi.tiers.cluster import METHODS, WARD_MAX_ROWS, fit_once, stratified_sample
from dmi.tiers.explain import TierExplanation, TierLabel, explain_row, labels_for
from dmi.tiers.files import TIER_MODEL_FORMAT, TierModelFile, jsonable, shipped_tier_model_path
from dmi.tiers.kernel import Kernel, evaluate
from dmi.tiers.report import TierFitReport, TierSummary, some_columns
from dmi.tiers.stability import bootstrap_stability, instability_message

__all__ = ["METHODS", "MIN_ROWS_PER_TIER", "TierModel", "load_shipped_tier_model"]

MIN_ROWS_PER_TIER = 5

Method = Literal["kmeans", "gmm", "ward"]


class TierModel(DmiEstimator):
    """Ordered support tiers fitted on a reference population's dimension scores.

    A scikit-learn estimator: ``get_params``, ``set_params`` and ``clone`` work, the parameters
    are checked by :meth:`fit`, and using an unfitted model raises
    :class:`~dmi.errors.NotFittedError`.

    Parameters
    ----------
    n_tiers : int or "auto", default=4
        Number of tiers (an integer >= 2), or ``"auto"`` to choose it within ``k_range``.
    method : {"kmeans", "gmm", "ward"}, default="kmeans"
        k-means, a Gaussian mixture (full covariances) or Ward's hierarchical clustering.
    random_state : int or None, default=None
        Seed for sampling, initialisation and the bootstrap; the same seed and data give the
        same tiers. None draws fresh entropy.
    k_range : (int, int), default=(2, 6)
        ``(smallest, largest)`` K tried by ``"auto"``, both included.
    max_fit_rows : int, default=200_000
        Larger tables are fitted on a stratified sample of this many rows (by ``level`` when the
        table has it, else by ``dmi`` quintiles); prediction covers every row.
    n_bootstrap : int, default=20
        Bootstrap refits for the stability check (0 skips it).
    features : list of str, default=None
        Feature columns; default: the instrument's ``dim_<code>`` columns, or every ``dim_*``
        column of the table when no instrument is given.
    instrument : Instrument or str, default=None
        The instrument (or a shipped name) whose scores these are: it labels the tiers and is
        recorded, so that the model refuses another instrument's scores
        (:meth:`check_instrument`).
    bootstrap_rows : int, default=20_000
        Rows per bootstrap resample (drawn with replacement from the rows fitted on; fewer when
        fewer were fitted on).
    min_ari, min_jaccard : float, default=0.75 and 0.6
        Stability thresholds: the tiers are ``stable_`` when the mean adjusted Rand index is at
        least ``min_ari`` and every tier's mean Jaccard index at least ``min_jaccard`` (0.6 is
        clusterboot's "pattern in the data" line, 0.75 its "stable" line).

    Attributes
    ----------
    n_tiers_ : int
    features_ : tuple of str
    mean_, scale_ : ndarray of shape (n_features,)
        The standardisation (feature means and standard deviations of the rows fitted on).
    centroids_ : ndarray of shape (n_tiers_, n_features)
        Tier centres in standardised units, tier 1 first (the component means for ``gmm``).
    weights_ : ndarray of shape (n_tiers_,) or None
        Mixture weights (``gmm`` only), tier 1 first.
    covariances_ : ndarray of shape (n_tiers_, n_features, n_features) or None
        Mixture covariances (``gmm`` only), tier 1 first.
    tier_dmi_ : ndarray of shape (n_tiers_,)
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

    _parameter_constraints: ClassVar[dict[str, list[object]]] = {
        "n_tiers": [Interval(Integral, 2, None, closed="left"), StrOptions({"auto"})],
        "method": [str_options(METHODS)],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "k_range": [tuple, list],  # two whole numbers: see _check_param_combinations
        "max_fit_rows": [Interval(Integral, 2, None, closed="left")],
        "n_bootstrap": [Interval(Integral, 0, None, closed="left")],
        "features": ["array-like", None],
        "instrument": [Instrument, str, os.PathLike, None],
        "bootstrap_rows": [Interval(Integral, 2, None, closed="left")],
        "min_ari": [Interval(Real, 0, 1, closed="both")],
        "min_jaccard": [Interval(Real, 0, 1, closed="both")],
    }
    _fit_hint = "call fit(scores) or TierModel.load(path) first"

    def __init__(
        self,
        n_tiers: int | Literal["auto"] = 4,
        *,
        method: Method = "kmeans",
        random_state: int | None = None,
        k_range: tuple[int, int] = (2, 6),
        max_fit_rows: int = 200_000,
        n_bootstrap: int = 20,
        features: Sequence[str] | None = None,
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
        """The constructor parameters as JSON-able data, except the instrument (what the model
        file records; :meth:`get_params` gives them as they were given)."""
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

    def _check_param_combinations(self) -> None:
        """What the constraint table cannot say: the contents of ``k_range`` and ``features``."""
        k_range = self.k_range
        if not (
            len(k_range) == 2
            and all(isinstance(k, Integral) and not isinstance(k, bool) for k in k_range)
            and 2 <= k_range[0] <= k_range[1]
        ):
            raise ParameterError(
                f"k_range: expected (smallest, largest) whole numbers with "
                f"2 <= smallest <= largest, got {k_range!r}",
                parameter="k_range",
            )
        features = self.features
        if features is not None and (
            not all(isinstance(f, str) for f in features)
            or len(features) == 0
            or len(set(features)) != len(features)
        ):
            raise ParameterError(
                f"features: expected None or a non-empty list of distinct column "
                f"names, got {features!r}",
                parameter="features",
            )

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, scores: pd.DataFrame, y: None = None) -> TierModel:
        """Fit the tiers on a score table (columns ``dmi`` and the features).

        Parameters
        ----------
        scores : DataFrame
            A score table as :meth:`dmi.IndexModel.score` returns: ``dmi``, ``dim_<code>`` and,
            optionally, ``level`` (used to stratify the sample of a large table).
        y : Ignored
            Not used, present for the scikit-learn convention.

        Returns
        -------
        TierModel
            ``self``.

        Raises
        ------
        ParameterError
            A parameter this model does not accept.
        DataError
            Missing, non-numeric, NaN or constant columns; too few rows or distinct rows for the
            number of tiers.
        """
        self._validate_params()
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
            raise DataError(
                f"too few rows: fitting {max(ks)} tiers needs at least {need} rows "
                f"({MIN_ROWS_PER_TIER} per tier), got {n}"
            )
        seeds = np.random.SeedSequence(self.random_state).spawn(4)
        cap = min(self.max_fit_rows, WARD_MAX_ROWS) if self.method == "ward" else self.max_fit_rows
        stratified_by = None
        if n > cap:
            index, stratified_by = stratified_sample(
                frame, dmi, cap, np.random.default_rng(seeds[0])
            )
        else:
            index = np.arange(n)
        dmi_s = dmi[index]
        mean, scale, z = _standardised(x[index], features, max(ks))
        est_seed = int(seeds[1].generate_state(1)[0] >> 1)
        if self.n_tiers == "auto":
            choice, fit = choose_k(z, ks, self.method, est_seed, np.random.default_rng(seeds[2]))
        else:
            k = int(self.n_tiers)
            fit = fit_once(z, k, self.method, est_seed)
            choice = KChoice("fixed", None, {}, k, f"n_tiers = {k} was given")
        k = choice.chosen
        # by the companies each tier holds as the model places them: a mixture's members by
        # responsibility, or Ward's by its tree, can order two tiers the other way round
        key = fit.placed_mean(dmi_s, z)
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
        self.labels_, label_note = labels_for(inst, k)
        if label_note:
            notes.append(label_note)
        self._kernel = Kernel.build(self.centroids_, self.weights_, self.covariances_)

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
            stability, boot_notes = bootstrap_stability(
                z,
                labels,
                k,
                self.method,
                seeds[3],
                n_bootstrap=self.n_bootstrap,
                bootstrap_rows=self.bootstrap_rows,
                min_ari=self.min_ari,
                min_jaccard=self.min_jaccard,
            )
            notes.extend(boot_notes)
        self.stable_ = None if stability is None else stability.stable
        if stability is not None and not stability.stable:
            message = instability_message(stability)
            notes.append(message)
            warnings.warn(message, TierStabilityWarning, stacklevel=2)
        centres = self.mean_ + self.scale_ * self.centroids_  # as centroid_values()
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
        # last: the model counts as fitted from here on (see __sklearn_is_fitted__)
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
                raise DataError(
                    f"no dim_* columns: expected a score table with dmi and "
                    f"dim_<code> columns, got columns {some_columns(frame.columns)}"
                )
        if inst is not None:
            known = [f"dim_{d.code}" for d in inst.dimensions]
            foreign = [f for f in features if f not in known]
            if foreign:
                raise ParameterError(
                    f"features {', '.join(foreign)} are not dimensions of instrument "
                    f"{inst.id} (expected some of {', '.join(known)})",
                    parameter="features",
                )
        return features

    # -- prediction ---------------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        # report_ is learned last: a fit that stopped half-way is not a fitted model
        return hasattr(self, "report_")

    def _evaluate(
        self, x: np.ndarray, proba: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Tiers (1..K), confidences and, when asked, posteriors (gmm) of a feature matrix."""
        return evaluate(self._kernel, self.mean_, self.scale_, x, proba)

    def _matrix(self, scores: Any, allow_nan: bool = False) -> np.ndarray:
        self._check_fitted()
        if isinstance(scores, np.ndarray):
            x = np.asarray(scores, dtype=float)
            if x.ndim == 1:
                x = x[None, :]
            if x.ndim != 2 or x.shape[1] != len(self.features_):
                raise DataError(
                    f"expected an array of shape (n, {len(self.features_)}) with "
                    f"columns {', '.join(self.features_)}, got shape {x.shape}"
                )
            if np.isinf(x).any() or (not allow_nan and np.isnan(x).any()):
                raise DataError(
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
            raise ParameterError(
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
        scores : DataFrame
            A score table with the feature columns.
        missing : {"error", "na"}, default="error"
            ``"error"`` raises on a NaN feature; ``"na"`` leaves those rows' ``tier``
            empty (nullable integer) and their confidence NaN.
        """
        if missing not in ("error", "na"):
            raise ParameterError(f"missing: expected 'error' or 'na', got {missing!r}")
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
            raise DataError(f"explain takes one company (one row), got {len(frame)} rows")
        x = self._matrix(frame)[0]
        rid = None
        if "respondent_id" in frame.columns and pd.notna(frame["respondent_id"].iloc[0]):
            rid = str(frame["respondent_id"].iloc[0])
        return explain_row(self, x, rid)

    # -- instrument ---------------------------------------------------------------------------
    def check_instrument(self, instrument: Instrument | str) -> None:
        """Raise :class:`~dmi.errors.DataError` unless this model fits scores of ``instrument``.

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
            raise DataError(
                f"this tier model was fitted for instrument {self.instrument_id_} version "
                f"{self.instrument_version_}, not {inst.id} version {inst.version}: fit one for "
                f"it (dmi tiers fit REFERENCE -o MODEL.json --instrument {inst.id})",
            )
        known = [f"dim_{d.code}" for d in inst.dimensions]
        foreign = [f for f in self.features_ if f not in known]
        if foreign:
            raise DataError(
                f"this tier model uses {', '.join(foreign)}, which instrument "
                f"{inst.id} does not have (its dimensions: {', '.join(known)})",
            )

    # -- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain, versioned JSON-able data (format ``dmi-tier-model/1``,
        schema :class:`~dmi.tiers.files.TierModelFile`; no training rows), with the dmi version
        writing it."""
        self._check_fitted()
        return {
            "format": TIER_MODEL_FORMAT,
            "dmi_version": dmi_version(),
            "params": jsonable(self.params()),
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
        cls,
        data: Any,
        instrument: Instrument | str | None = None,
        *,
        source: str = "tier model (in memory)",
    ) -> TierModel:
        """Rebuild a fitted model from :meth:`to_dict` data, checking every field.

        Parameters
        ----------
        data : dict
            The decoded JSON.
        instrument : Instrument or str, default=None
            When given, the model must be one for its id and version (see
            :meth:`check_instrument`).
        source : str
            How a message names the data (``"tier model file m.json"``).

        Raises
        ------
        ModelFileError
            Naming ``source`` and the field: a missing field, a value of the wrong type or
            shape, an unknown format, parameters the model does not accept, or a model for
            another instrument id or version.
        """
        doc = check(TierModelFile, data, source)
        params = dict(data["params"])
        if isinstance(params["k_range"], list):
            params["k_range"] = tuple(params["k_range"])
        model = cls(**params)
        try:
            model._validate_params()
        except ParameterError as exc:
            raise ModelFileError(source, f"params.{exc.parameter}", str(exc)) from None
        mixture = doc.mixture
        model.n_tiers_ = doc.n_tiers
        model.features_ = tuple(doc.features)
        model.mean_ = np.asarray(doc.scaler.mean, dtype=float)
        model.scale_ = np.asarray(doc.scaler.scale, dtype=float)
        model.centroids_ = np.asarray(doc.centroids, dtype=float)
        model.weights_ = None if mixture is None else np.asarray(mixture.weights, dtype=float)
        model.covariances_ = (
            None if mixture is None else np.asarray(mixture.covariances, dtype=float)
        )
        model.tier_dmi_ = np.asarray(doc.tier_dmi, dtype=float)
        model.labels_ = tuple(
            TierLabel(t.tier, t.zh, t.en, t.support.zh, t.support.en, t.generic) for t in doc.labels
        )
        model.feature_labels_ = {
            f: (doc.feature_labels[f].zh, doc.feature_labels[f].en) for f in doc.features
        }
        meta = doc.instrument
        model.instrument_id_ = None if meta is None else meta.id
        model.instrument_version_ = None if meta is None else meta.version
        model.instrument_hash_ = None if meta is None else meta.hash
        model.data_hash_ = doc.data_hash
        model.stable_ = doc.stable
        model._kernel = Kernel.build(model.centroids_, model.weights_, model.covariances_)
        model.report_ = TierFitReport.from_dict(data["report"])  # last: fitted from here on
        if instrument is not None:
            try:
                model.check_instrument(instrument)
            except DataError as exc:
                raise ModelFileError(source, "instrument", str(exc)) from None
        return model

    @classmethod
    def load(cls, path: str | Path, instrument: Instrument | str | None = None) -> TierModel:
        """Read a model written by :meth:`save`; with ``instrument``, check it matches.

        Raises
        ------
        FileNotFoundError
            No such file.
        ModelFileError
            The file is not a valid tier model (of ``instrument``); see :meth:`from_dict`.
        """
        data, source = read_json(path, "tier model")
        return cls.from_dict(data, instrument, source=source)


def load_shipped_tier_model(instrument: Instrument | str) -> TierModel:
    """The shipped default tier model of an instrument, checked against it."""
    inst = _resolve_instrument(instrument)
    path = shipped_tier_model_path(inst)
    if not path.is_file():
        raise MissingFileError(
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
    raise DataError(
        f"{what}: expected a score table (pandas DataFrame), one row (Series or "
        f"mapping) or an array, got {type(scores).__name__}"
    )


def _standardised(
    xs: np.ndarray, features: list[str], k_max: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows fitted on in standardised units, with their means and standard deviations.

    Raises
    ------
    DataError
        A constant column (it cannot separate tiers nor be standardised), or fewer distinct
        rows than the largest number of tiers tried.
    """
    mean = xs.mean(axis=0)
    scale = xs.std(axis=0)
    constant = [
        f for f, s, m in zip(features, scale, mean, strict=True) if not s > 1e-12 * max(1.0, abs(m))
    ]
    if constant:
        values = {f: xs[0, features.index(f)] for f in constant}
        raise DataError(
            "; ".join(
                f"column {f!r} is constant (every row fitted on is {values[f]:g}): it cannot "
                "separate tiers; fit on a reference population in which it varies (from "
                "Python, TierModel(features=[...]) can also leave it out)"
                for f in constant
            )
        )
    z = (xs - mean) / scale
    distinct = len(np.unique(z, axis=0))
    if distinct < k_max:
        raise DataError(
            f"too few distinct rows: fitting {k_max} tiers needs at least "
            f"{k_max} different score profiles, got {distinct}"
        )
    return mean, scale, z


def _numeric(
    frame: pd.DataFrame, columns: list[str], what: str, allow_nan: bool = False
) -> np.ndarray:
    """The columns as a float matrix; every problem of every column in one ``DataError``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what}: missing columns {', '.join(missing)}: expected a score table "
            f"with {', '.join(columns)}; got columns {some_columns(frame.columns)}"
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
        raise DataError(f"{what}: " + "; ".join(problems))
    return out


def _data_hash(features: list[str], matrix: np.ndarray) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([*features, "dmi"]).encode("utf-8"))
    digest.update(np.ascontiguousarray(matrix, dtype="<f8").tobytes())
    return "sha256:" + digest.hexdigest()


def _feature_labels(features: list[str], inst: Instrument | None) -> dict[str, tuple[str, str]]:
    names = {} if inst is None else {f"dim_{d.code}": (d.zh, d.en) for d in inst.dimensions}
    return {f: names.get(f, (f.removeprefix("dim_"), f.removeprefix("dim_"))) for f in features}

"""The tier model file (``dmi-tier-model/1``, JSON, no pickle): its schema, written by
:meth:`~dmi.tiers.TierModel.save` and checked by :meth:`~dmi.tiers.TierModel.load` before
anything is built, and where the shipped models are.

The file holds the features, the scaler, the centroids (or mixture parameters) in tier order, the
labels, the instrument's id, version and hash, a hash of the fitted data and the fit report; never
a training row. The constructor parameters are checked by the estimator itself (its
``_parameter_constraints``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from dmi.instruments import Instrument, shipped_path
from dmi.io.modelfile import ModelFile, Part

__all__ = [
    "TIER_MODEL_FORMAT",
    "TierModelFile",
    "jsonable",
    "shipped_tier_model_path",
]

TIER_MODEL_FORMAT = "dmi-tier-model/1"


class Bilingual(Part):
    zh: str
    en: str


class InstrumentRef(Part):
    id: str
    version: str
    hash: str


class TierParams(Part):
    """The constructor parameters, except the instrument."""

    n_tiers: Any  # a whole number or "auto": the estimator's constraints check it
    method: str
    random_state: int | None
    k_range: list[int]
    max_fit_rows: int
    n_bootstrap: int
    features: list[str] | None
    bootstrap_rows: int
    min_ari: float
    min_jaccard: float


class Scaler(Part):
    mean: list[float]
    scale: list[float]


class Mixture(Part):
    weights: list[float]
    covariances: list[list[list[float]]]


class LabelPart(Part):
    tier: int
    zh: str
    en: str
    support: Bilingual
    generic: bool


class KChoicePart(Part):
    mode: str
    criterion: str | None
    scores: dict[str, float | None]  # None: the criterion was not a number (NaN) for that K
    chosen: int
    reason: str


class TierSummaryPart(Part):
    tier: int
    zh: str
    en: str
    size: int
    share: float
    dmi: float
    centroid: dict[str, float]


class StabilityPart(Part):
    n_bootstrap: int
    resample_rows: int
    ari_mean: float
    ari_min: float
    jaccard_mean: list[float]
    jaccard_min: list[float]
    min_ari: float
    min_jaccard: float
    stable: bool


class ReportPart(Part):
    method: str
    n_tiers: int
    k_choice: KChoicePart
    n_rows: int
    n_fit_rows: int
    stratified_by: str | None
    features: list[str]
    tiers: list[TierSummaryPart]
    stability: StabilityPart | None
    instrument: str | None
    data_hash: str
    warnings: list[str]


class TierModelFile(ModelFile):
    """A fitted :class:`~dmi.tiers.TierModel`."""

    FORMAT = TIER_MODEL_FORMAT
    KIND = "tier model"

    params: TierParams
    instrument: InstrumentRef | None
    n_tiers: int
    features: list[str]
    feature_labels: dict[str, Bilingual]
    scaler: Scaler
    centroids: list[list[float]]
    mixture: Mixture | None
    tier_dmi: list[float]
    labels: list[LabelPart]
    data_hash: str
    stable: bool | None
    report: ReportPart

    def problems(self) -> Iterator[tuple[str, str]]:
        """(field, problem) for what the types alone do not catch: shapes that must agree,
        finite numbers, a mixture exactly for ``gmm``, labels of tiers 1..K."""
        k, features = self.n_tiers, self.features
        if k < 2:
            yield "n_tiers", f"expected a whole number >= 2, got {k}"
            return
        if not features or len(set(features)) != len(features):
            yield "features", f"expected distinct column names, got {features}"
            return
        d = len(features)
        for f in features:
            if f not in self.feature_labels:
                yield f"feature_labels.{f}", "missing"
        yield from _numbers("scaler.mean", self.scaler.mean, (d,))
        yield from _numbers("scaler.scale", self.scaler.scale, (d,))
        if any(s <= 0 for s in self.scaler.scale):
            yield "scaler.scale", "expected standard deviations above 0"
        yield from _numbers("centroids", self.centroids, (k, d))
        yield from _numbers("tier_dmi", self.tier_dmi, (k,))
        gmm = self.params.method == "gmm"
        if (self.mixture is None) == gmm:
            yield (
                "mixture",
                f"expected {'an object' if gmm else 'null'} for method {self.params.method!r}",
            )
        if self.mixture is not None:
            yield from _mixture_problems(self.mixture, k, d)
        tiers = [label.tier for label in self.labels]
        if tiers != list(range(1, k + 1)):
            yield "labels", f"expected the labels of tiers 1..{k} in order, got tiers {tiers}"
        if self.report.n_tiers != k or len(self.report.tiers) != k:
            yield (
                "report",
                f"describes {self.report.n_tiers} tiers ({len(self.report.tiers)} listed) but "
                f"n_tiers is {k}",
            )


def _numbers(field: str, value: list[Any], shape: tuple[int, ...]) -> Iterator[tuple[str, str]]:
    """Finite numbers of the given shape (JSON may hold NaN and Infinity: a model may not)."""
    array = np.asarray(value, dtype=float) if _rectangular(value, len(shape)) else None
    if array is None or array.shape != shape:
        got = "ragged lists" if array is None else f"shape {array.shape}"
        yield field, f"expected numbers of shape {shape}, got {got}"
    elif not np.all(np.isfinite(array)):
        yield field, "expected finite numbers (not NaN or Infinity)"


def _rectangular(value: Any, depth: int) -> bool:
    if depth == 0:
        return True
    if not isinstance(value, list):
        return False
    if depth == 1 or not value:
        return True
    width = len(value[0]) if isinstance(value[0], list) else -1
    return all(isinstance(v, list) and len(v) == width for v in value) and all(
        _rectangular(v, depth - 1) for v in value
    )


def _mixture_problems(mixture: Mixture, k: int, d: int) -> Iterator[tuple[str, str]]:
    weights, covariances = mixture.weights, mixture.covariances
    yield from _numbers("mixture.weights", weights, (k,))
    yield from _numbers("mixture.covariances", covariances, (k, d, d))
    if len(weights) == k and (
        not all(w > 0 for w in weights) or abs(math.fsum(weights) - 1) > 1e-6
    ):
        yield "mixture.weights", "expected positive weights that sum to 1"
    if np.shape(covariances) == (k, d, d):
        array = np.asarray(covariances, dtype=float)
        for t in range(k):
            if not np.all(np.isfinite(array[t])):
                continue
            if not np.allclose(array[t], array[t].T) or np.any(np.linalg.eigvalsh(array[t]) <= 0):
                yield f"mixture.covariances[{t}]", "not symmetric positive definite"


def jsonable(value: Any) -> Any:
    """Plain JSON types; NaN becomes None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def shipped_tier_model_path(instrument: Instrument | str) -> Path:
    """Where the shipped default tier model of an instrument lives (it may not exist)."""
    name = instrument.id if isinstance(instrument, Instrument) else str(instrument)
    return shipped_path("models", f"tiers-{name}.json")

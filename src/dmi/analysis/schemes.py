"""The index under many schemes at once: a vectorised form of :class:`dmi.IndexModel` for
analyses that need hundreds or thousands of variants of one method.

:class:`Kernel` holds a population's scores of the weight-level nodes (and those of the reference
population the method is fitted on). For a normalisation and an aggregation it scores every
company under a whole matrix of weight vectors at once: an arithmetic mean is one matrix product
per parent node, a geometric mean the same on logarithms, Mazziotta-Pareto the same on
standardised values with the reference's means and standard deviations. With a method's own
weights it gives what ``IndexModel(...).fit(reference).score(...)`` gives (the tests compare them
for every normalisation, weighting and aggregation); it exists so that an uncertainty analysis does
not re-read answers or refit a model per replication.

:func:`compare_schemes` puts the weighting schemes side by side (expert, equal, entropy, CRITIC,
PCA, AHP, benefit of the doubt): their weights, their rank correlations with the nominal scheme,
the biggest movers, and the companies whose band or tier changes. A band under any scheme but the
instrument's own is indicative, never a level.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from dmi.analysis.compare import compare_rankings
from dmi.analysis.structure import Hierarchy, NotComputable, Population
from dmi.analysis.text import join, msg, reason, text_column
from dmi.errors import DataError, ParameterError
from dmi.instruments import Instrument
from dmi.scoring import weighting as weighting_methods
from dmi.scoring.aggregate import AGGREGATIONS, mazziotta_pareto_reference
from dmi.scoring.levels import level_precision, levels_of, requirements_hold
from dmi.scoring.model import OFFICIAL_METHOD, WEIGHTINGS, IndexModel
from dmi.scoring.normalise import Normaliser, bounded, canonical_name

__all__ = [
    "Kernel",
    "LevelRule",
    "MethodSettings",
    "Scheme",
    "SchemeComparison",
    "band_names",
    "check_bod_bounds",
    "check_schemes",
    "compare_schemes",
    "rank_desc",
]

_BLOCK_CELLS = 4_000_000  # values per (rows x nodes x weight vectors) block of the kernel


@dataclass(frozen=True)
class Scheme:
    """A composite-index method: its weighting, normalisation and aggregation."""

    weighting: str
    normalisation: str = "goalposts"
    aggregation: str = "arithmetic"

    @property
    def is_official(self) -> bool:
        """The instrument's own method: its band is the official level."""
        return (self.weighting, canonical_name(self.normalisation), self.aggregation) == tuple(
            OFFICIAL_METHOD.values()
        )

    @property
    def name(self) -> str:
        return f"{self.weighting}/{canonical_name(self.normalisation)}/{self.aggregation}"


def band_names(scheme: Scheme, *, treated: bool = False) -> tuple[str, str]:
    """What a scheme's band and tier are called: ``("level", "tier")`` when they are the official
    level and tier, ``("indicative_level", "indicative_tier")`` otherwise.

    They are official only when both the method and the data are the official ones: the
    instrument's own method (:attr:`Scheme.is_official`) on the answers as given. Data changed
    by a treatment (outliers winsorised or logged, answers imputed: ``treated``) give an
    indicative band whatever the method, as another method does.
    """
    if scheme.is_official and not treated:
        return "level", "tier"
    return "indicative_level", "indicative_tier"


@dataclass(frozen=True)
class MethodSettings:
    """Every setting of a method besides its weighting, normalisation and aggregation.

    They are :class:`Kernel`'s keyword arguments (:class:`dmi.IndexModel`'s of the same names),
    held in one object that an analysis hands to each of its parts: the nominal index, the
    schemes side by side and the uncertainty analysis build every kernel they score with through
    :meth:`kernel`, so that they score the same method (a setting passed to one part and not to
    another gave the comparison and the uncertainty analysis another index than the nominal
    table's).

    Attributes
    ----------
    ahp_matrix : array-like of shape (k, k), optional
        Pairwise comparisons of the weight-level nodes, for ``weighting="ahp"``.
    bod_bounds : tuple of float, default=(0.0, 1.0)
        Benefit of the doubt's bounds on each weight's share.
    geometric_offset : float, default=0.01
        The offset ``c`` of geometric aggregation.
    target_quantile : float, default=0.9
        The reference quantile of the ``target`` normalisation.
    pca_retain : str or int, default="kaiser+10%"
    pca_rotation : str, default="varimax"
        PCA's factor retention and rotation.
    """

    ahp_matrix: Any = None
    bod_bounds: tuple[float, float] = (0.0, 1.0)
    geometric_offset: float = 0.01
    target_quantile: float = 0.9
    pca_retain: str | int = "kaiser+10%"
    pca_rotation: str = "varimax"

    @classmethod
    def of(cls, settings: MethodSettings | None, given: dict[str, Any]) -> MethodSettings:
        """``settings`` (default: every default) with the fields ``given`` by name, which win.

        Raises
        ------
        TypeError
            A name that is no setting (as for any unexpected keyword argument).
        """
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise TypeError(
                f"unexpected keyword argument {unknown[0]!r}; the method's settings are "
                + ", ".join(names)
            )
        base = settings if settings is not None else cls()
        return replace(base, **given) if given else base

    def kernel(
        self,
        instrument: Instrument,
        level: str,
        nodes: np.ndarray,
        reference: np.ndarray | None = None,
    ) -> Kernel:
        """A :class:`Kernel` with these settings (the one way the analysis builds one)."""
        options = {f.name: getattr(self, f.name) for f in fields(self)}
        return Kernel(instrument, level, nodes, reference, **options)


def rank_desc(values: np.ndarray) -> np.ndarray:
    """Ranks along the first axis, 1 = highest; values equal at the levels' precision (9
    decimals) share their average rank, so that two equal indices reached through different
    floating-point sums tie."""
    from scipy.stats import rankdata

    rounded = np.round(np.asarray(values, dtype=float), level_precision)
    return rankdata(-rounded, method="average", axis=0, nan_policy="omit")


class LevelRule:
    """The instrument's levels for many index values at once.

    Whether a band's scenario requirement holds does not depend on the index, so it is found
    once per company (:func:`dmi.scoring.levels.requirements_hold`); a matrix of indices is then
    read by :func:`dmi.scoring.levels.levels_of`, the one rule :func:`assign_levels` reads a
    single index by (the levels' scale and edge convention included), for any number of runs.
    """

    def __init__(self, instrument: Instrument, scenario_levels: np.ndarray, codes: list[str]):
        self.instrument = instrument
        self.bands = list(instrument.levels.bands)
        # holds[i, b]: company i's scenarios allow band b
        self.holds = requirements_hold(instrument, np.asarray(scenario_levels), codes)

    def levels(self, index: np.ndarray) -> np.ndarray:
        """Levels of ``index`` (n,) or (n, runs); -1 where the index is NaN."""
        return levels_of(self.instrument, index, self.holds)


def _wmean(V: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted arithmetic mean over the middle axis, NaN left out and the weights rescaled.

    ``V`` is (n, c) shared by every weight vector or (n, c, R); ``W`` is (c, R). Returns (n, R).
    """
    present = ~np.isnan(V)
    complete = bool(present.all())
    if V.ndim == 2:
        numerator = (V if complete else np.where(present, V, 0.0)) @ W
        denominator = W.sum(axis=0)[None, :] if complete else present.astype(float) @ W
    else:
        filled = V if complete else np.where(present, V, 0.0)
        numerator = np.einsum("ncr,cr->nr", filled, W)
        if complete:
            denominator = W.sum(axis=0)[None, :]
        else:
            denominator = np.einsum("ncr,cr->nr", present.astype(float), W)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def _column_stats(V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference mean and population sd of each input, over rows: the standardisation of
    Mazziotta-Pareto, computed as :class:`dmi.IndexModel` fits it (one implementation)."""
    return mazziotta_pareto_reference(V)


@contextmanager
def _quiet() -> Iterator[None]:
    """No RuntimeWarning for an all-NaN column: its statistic is NaN, and handled."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _mazziotta_pareto(V: np.ndarray, W: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """MPI- of each row for each weight vector (the formula of
    :func:`dmi.scoring.aggregate.mazziotta_pareto`): ``M - S^2 / M`` with ``M`` and ``S^2`` the
    weighted mean and variance of the standardised values; the variance is taken as
    ``E[z^2] - M^2``, two matrix products instead of a deviation per row, input and run."""
    safe = np.where(sd > 0, sd, 1.0)
    Z = 100.0 + 10.0 * (V - mean) / safe
    Z = np.where(sd > 0, Z, np.where(np.isnan(V), np.nan, 100.0))
    m = _wmean(Z, W)
    s2 = np.clip(_wmean(Z * Z, W) - m * m, 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m != 0, m - s2 / m, m)


class Kernel:
    """Score a population under many weight vectors of one method at once.

    Parameters
    ----------
    instrument : Instrument
    level : {"item", "indicator", "dimension"}
        The weight level.
    nodes : ndarray of shape (n, k)
        Scores (0-1) of the weight-level nodes of the companies analysed.
    reference : ndarray of shape (m, k), optional
        The same for the reference population the method learns from; None: the companies
        analysed are their own reference.
    ahp_matrix : array-like of shape (k, k), optional
        Pairwise comparisons for ``weighting="ahp"``.
    bod_bounds, geometric_offset, target_quantile, pca_retain, pca_rotation
        As :class:`dmi.IndexModel`.
    """

    def __init__(
        self,
        instrument: Instrument,
        level: str,
        nodes: np.ndarray,
        reference: np.ndarray | None = None,
        *,
        ahp_matrix: Any = None,
        bod_bounds: tuple[float, float] = (0.0, 1.0),
        geometric_offset: float = 0.01,
        target_quantile: float = 0.9,
        pca_retain: str | int = "kaiser+10%",
        pca_rotation: str = "varimax",
    ):
        self.instrument = instrument
        self.hierarchy = Hierarchy.from_instrument(instrument)
        self.level = level
        self.codes = list(self.hierarchy.codes(level))
        self.nodes = np.asarray(nodes, dtype=float)
        self.same = reference is None
        self.reference = self.nodes if reference is None else np.asarray(reference, dtype=float)
        for name, matrix in (("nodes", self.nodes), ("reference", self.reference)):
            if matrix.ndim != 2 or matrix.shape[1] != len(self.codes):
                raise ParameterError(
                    f"{name}: expected (rows, {len(self.codes)}) scores of the {level} nodes, "
                    f"got shape {matrix.shape}",
                    parameter=name,
                )
        self.ahp_matrix = ahp_matrix
        self.bod_bounds = bod_bounds
        self.geometric_offset = geometric_offset
        self.target_quantile = target_quantile
        self.pca_retain = weighting_methods.check_pca_retain(pca_retain)
        if pca_rotation not in weighting_methods.PCA_ROTATIONS:
            raise ParameterError(
                f"pca_rotation: expected one of {', '.join(weighting_methods.PCA_ROTATIONS)}, "
                f"got {pca_rotation!r}",
                parameter="pca_rotation",
            )
        self.pca_rotation = pca_rotation
        self._normalised: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._normalisation_notes: dict[str, list[Any]] = {}
        self._weights: dict[tuple[str, str], tuple[np.ndarray, list[str]]] = {}
        self._bod: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.instrument_weights = IndexModel(instrument, weight_level=level).fit().weights_

    @classmethod
    def from_populations(
        cls,
        population: Population,
        level: str,
        reference: Population | None = None,
        **kwargs: Any,
    ) -> Kernel:
        """A kernel on a population's node scores (fitted on ``reference``, default itself)."""
        return cls(
            population.instrument,
            level,
            population.nodes(level),
            None if reference is None else reference.nodes(level),
            **kwargs,
        )

    # -- fitted on the reference --------------------------------------------------------------
    def normalised(self, normalisation: str) -> tuple[np.ndarray, np.ndarray]:
        """(companies, reference) node scores under a normalisation fitted on the reference."""
        key = canonical_name(normalisation)
        if key not in self._normalised:
            normaliser = Normaliser(key, target_quantile=self.target_quantile).fit(self.reference)
            ref = normaliser.transform(self.reference)
            data = ref if self.same else normaliser.transform(self.nodes)
            self._normalised[key] = (data, ref)
            self._normalisation_notes[key] = self._target_notes(normaliser.fallbacks_)
        return self._normalised[key]

    def normalisation_notes(self, normalisation: str) -> list[Any]:
        """What a normalisation fitted on the reference has to say (``target``: the nodes
        whose reference quantile is 0, see :class:`dmi.scoring.normalise.Normaliser`)."""
        self.normalised(normalisation)
        return list(self._normalisation_notes[canonical_name(normalisation)])

    def _target_notes(self, fallbacks: list[dict[str, Any]]) -> list[Any]:
        quantile = f"{self.target_quantile:g}"
        top = [self.codes[f["column"]] for f in fallbacks if f["rule"] == "maximum"]
        zero = [self.codes[f["column"]] for f in fallbacks if f["rule"] == "goalposts"]
        notes: list[Any] = []
        if top:
            notes.append(msg("note_target_maximum", codes=", ".join(top), quantile=quantile))
        if zero:
            notes.append(msg("note_target_zero", codes=", ".join(zero)))
        return notes

    def weights(
        self, weighting: str, normalisation: str = "goalposts"
    ) -> tuple[np.ndarray, list[str]]:
        """The global weights (summing to 1) a weighting gives the nodes, and its notes.

        Raises
        ------
        NotComputable
            When the weighting cannot run on these data (too few complete rows, a constant
            column for PCA, an AHP matrix of the wrong size or none ...); the message says why.
        """
        key = (weighting, canonical_name(normalisation))
        if key in self._weights:
            return self._weights[key]
        check_schemes([weighting], name="weighting")
        notes: list[Any] = []
        k = len(self.codes)
        try:
            if weighting == "instrument":
                w = np.asarray(self.instrument_weights, dtype=float)
            elif weighting == "equal":
                w = weighting_methods.equal(k)
            elif weighting == "ahp":
                if self.ahp_matrix is None:
                    raise NotComputable(msg("nc_ahp_none"))
                result = weighting_methods.ahp(np.asarray(self.ahp_matrix, dtype=float))
                if result.n != k:
                    raise NotComputable(
                        msg(
                            "nc_ahp_size",
                            n=result.n,
                            k=k,
                            level=msg(f"level_{self.level}"),
                            codes=", ".join(self.codes),
                        )
                    )
                if not result.consistent:
                    notes.append(msg("note_ahp_inconsistent", cr=f"{result.cr:.3f}"))
                w = np.asarray(result.weights, dtype=float)
            elif weighting == "bod":
                w = self._bod_fit(normalisation)[2]
            else:
                complete = self._complete(normalisation, weighting)
                constant = [
                    code
                    for code, column in zip(self.codes, complete.T)
                    if not column.max() > column.min()
                ]
                if weighting in ("entropy", "critic") and constant:
                    # as IndexModel says it: such a node carries no information
                    notes.append(
                        msg("note_constant_weight0", weighting=weighting, codes=", ".join(constant))
                    )
                if weighting == "entropy":
                    w = np.asarray(weighting_methods.entropy(complete), dtype=float)
                elif weighting == "critic":
                    w = np.asarray(weighting_methods.critic(complete), dtype=float)
                else:
                    if constant:
                        raise NotComputable(msg("nc_pca_constant", codes=", ".join(constant)))
                    result = weighting_methods.pca(
                        complete,
                        retain=self.pca_retain,
                        kaiser_normalisation=self.pca_rotation == "varimax-kaiser",
                    )
                    notes.extend(pca_notes(result))
                    w = np.asarray(result.weights, dtype=float)
        except NotComputable:
            raise
        except ParameterError as exc:
            if exc.parameter == "bod_bounds":  # the method's setting, not the data
                raise
            raise NotComputable(msg("nc_weights", weighting=weighting, reason=str(exc))) from None
        except ValueError as exc:  # the weighting's own explanation of why it cannot run
            raise NotComputable(msg("nc_weights", weighting=weighting, reason=str(exc))) from None
        self._weights[key] = (w, notes)
        return w, notes

    def _complete(self, normalisation: str, weighting: str) -> np.ndarray:
        ref = self.normalised(normalisation)[1]
        complete = ref[~np.isnan(ref).any(axis=1)]
        if len(complete) < 2:
            raise NotComputable(
                msg(
                    "nc_complete_rows",
                    weighting=weighting,
                    level=msg(f"level_{self.level}"),
                    n=len(complete),
                )
            )
        if not bounded(normalisation):  # entropy, CRITIC and BoD need non-negative inputs
            low, high = complete.min(axis=0), complete.max(axis=0)
            complete = (complete - low) / np.where(high > low, high - low, 1.0)
        return complete

    def _bod_fit(self, normalisation: str) -> tuple[np.ndarray, tuple, np.ndarray]:
        key = canonical_name(normalisation)
        if key not in self._bod:
            if self.level != "dimension":
                raise NotComputable(msg("nc_bod_level", level=msg(f"level_{self.level}")))
            if len(self.codes) > weighting_methods.BOD_VERTEX_MAX_DIM:
                raise NotComputable(
                    msg("nc_bod_dims", max=weighting_methods.BOD_VERTEX_MAX_DIM, k=len(self.codes))
                )
            lower, upper = self.bod_bounds
            check_bod_bounds(lower, upper, len(self.codes))
            ref = self.normalised(normalisation)[1]
            complete_raw = ref[~np.isnan(ref).any(axis=1)]
            complete = self._complete(normalisation, "bod")
            if not (complete > 0).any():
                # every reference company is 0 on every dimension (companies all alike under a
                # normalisation that maps them to 0): no frontier bounds the weights
                raise NotComputable(msg("nc_bod_zero", normalisation=canonical_name(normalisation)))
            result = weighting_methods.bod(
                complete,
                lower=lower,
                upper=upper,
                reference=_frontier(complete),
                method="vertices",
            )
            vertices = np.asarray(result.vertices, dtype=float)
            mean = np.asarray(result.weights, dtype=float).mean(axis=0)
            w = mean / mean.sum() if mean.sum() > 0 else weighting_methods.equal(len(self.codes))
            span = (complete_raw.min(axis=0), complete_raw.max(axis=0))
            self._bod[key] = (vertices, span, w)
        return self._bod[key]

    # -- scoring ------------------------------------------------------------------------------
    def evaluate(
        self, normalisation: str, aggregation: str, W: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Dimension scores and index (0-100) of every company under every weight vector.

        Parameters
        ----------
        normalisation, aggregation : str
        W : ndarray of shape (k,) or (k, R)
            Global weights of the nodes (one column per run).

        Returns
        -------
        dimensions : ndarray of shape (n, n_dimensions, R)
        index : ndarray of shape (n, R)
        """
        if aggregation not in AGGREGATIONS:
            raise ParameterError(
                f"aggregation: expected one of {', '.join(AGGREGATIONS)}, got {aggregation!r}",
                parameter="aggregation",
            )
        W = np.asarray(W, dtype=float)
        W = W[:, None] if W.ndim == 1 else W
        if W.shape[0] != len(self.codes) or (W < 0).any() or not np.isfinite(W).all():
            raise ParameterError(
                f"W: expected finite non-negative weights of shape ({len(self.codes)}, runs), "
                f"got shape {W.shape}",
                parameter="W",
            )
        if aggregation == "geometric" and not bounded(normalisation):
            raise NotComputable(msg("nc_geometric_negative"))
        data, ref = self.normalised(normalisation)
        scaled = aggregation == "mazziotta-pareto" or not bounded(normalisation)
        need_reference = scaled and not self.same
        dims, index, ref_dims, ref_index = self._upward(
            data, ref if need_reference else None, aggregation, W
        )
        if scaled:
            return _to_100(dims, ref_dims), _to_100(index, ref_index)
        return np.round(100.0 * dims, level_precision), np.round(100.0 * index, level_precision)

    def _upward(
        self, X: np.ndarray, ref: np.ndarray | None, aggregation: str, W: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Aggregate node values up to dimensions (n, D, R) and the index (n, R).

        ``ref`` holds the reference's node values, aggregated alongside (Mazziotta-Pareto takes
        its statistics from them, the rescaling of unbounded outputs its minimum and maximum);
        None when ``X`` is the reference itself. Returns ``(dimensions, index, reference
        dimensions, reference index)``.
        """
        h = self.hierarchy
        R = W.shape[1]
        values, ref_values, weights = X, ref, W  # (rows, k) shared, then (rows, p, R)
        fallback_level = self.level
        for _, parent_of, n_parents in h.steps_above(self.level):
            fallback = h.own_weights(fallback_level)
            parents = np.empty((len(values), n_parents, R))
            ref_parents = None if ref_values is None else np.empty((len(ref_values), n_parents, R))
            parent_weights = np.zeros((n_parents, R))
            for p in range(n_parents):
                children = np.flatnonzero(parent_of == p)
                Wc = weights[children]
                total = Wc.sum(axis=0)
                parent_weights[p] = total
                # a parent whose children all weigh 0 is still reported, with the instrument's
                # weights of its children
                Wc = np.where(total > 0, Wc, fallback[children][:, None])
                out, out_ref = self._aggregate(
                    _children(values, children), _children(ref_values, children), aggregation, Wc
                )
                parents[:, p, :] = out
                if ref_parents is not None:
                    ref_parents[:, p, :] = out_ref
            values, ref_values, weights = parents, ref_parents, parent_weights
            fallback_level = "indicator" if fallback_level == "item" else "dimension"
        values = _per_run(values, R)
        ref_values = None if ref_values is None else _per_run(ref_values, R)
        index, ref_index = self._aggregate(values, ref_values, aggregation, weights)
        if ref_values is None:
            return values, index, values, index
        return values, index, ref_values, ref_index

    def _aggregate(
        self, V: np.ndarray, ref: np.ndarray | None, aggregation: str, W: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One aggregation step of ``V`` and of the reference's values ``ref`` (None: ``V`` is
        the reference; its result is returned twice)."""
        if aggregation == "arithmetic":
            out = _wmean(V, W)
            return out, out if ref is None else _wmean(ref, W)
        if aggregation == "geometric":
            c = self.geometric_offset

            def geometric(M: np.ndarray) -> np.ndarray:
                with np.errstate(invalid="ignore", divide="ignore"):
                    return np.exp(_wmean(np.log(M + c), W)) - c

            out = geometric(V)
            return out, out if ref is None else geometric(ref)
        if aggregation == "mazziotta-pareto":
            mean, sd = _column_stats(V if ref is None else ref)
            out = _mazziotta_pareto(V, W, mean, sd)
            return out, out if ref is None else _mazziotta_pareto(ref, W, mean, sd)
        raise ParameterError(
            f"aggregation: expected one of {', '.join(AGGREGATIONS)}, got {aggregation!r}",
            parameter="aggregation",
        )

    def evaluate_bod(self, normalisation: str) -> tuple[np.ndarray, np.ndarray]:
        """Dimension scores and index (0-100) under benefit of the doubt: ``(n, D, 1)`` and
        ``(n, 1)`` (each company has its own weights; nothing to perturb)."""
        vertices, (low, high), _ = self._bod_fit(normalisation)
        data, ref = self.normalised(normalisation)

        def index(X: np.ndarray) -> np.ndarray:
            filled = np.where(np.isnan(X), 0.0, X)
            if not bounded(normalisation):
                filled = (filled - low) / np.where(high > low, high - low, 1.0)
            scores, _ = weighting_methods.bod_score(filled, vertices)
            return np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)[:, None]

        dims, idx = data[:, :, None], index(data)
        if bounded(normalisation):
            return np.round(100.0 * dims, level_precision), np.round(100.0 * idx, level_precision)
        ref_dims, ref_idx = (dims, idx) if self.same else (ref[:, :, None], index(ref))
        return _to_100(dims, ref_dims), _to_100(idx, ref_idx)


def check_bod_bounds(lower: float, upper: float, m: int) -> None:
    """Refuse benefit-of-the-doubt share bounds that no weights of ``m`` nodes keep to.

    The shares sum to 1, so some share is at most ``1/m`` and some at least ``1/m``: the bounds
    need ``lower <= 1/m <= upper`` (``[0.3, 1]`` over 4 dimensions leaves no weights at all).

    Raises
    ------
    ParameterError
        ``parameter="bod_bounds"``, with a message (zh and en) naming the bounds and ``m``. A
        comparison or an uncertainty analysis in which benefit of the doubt is one alternative
        lists it as not run with this reason; under a nominal benefit of the doubt it is the
        user's mistake in the method.
    """
    tolerance = 1e-12
    if not (lower <= 1.0 / m + tolerance and 1.0 / m - tolerance <= upper):
        raise ParameterError(
            msg(
                "nc_bod_bounds",
                lower=f"{lower:g}",
                upper=f"{upper:g}",
                m=m,
                share=f"{1.0 / m:.4g}",
            ),
            parameter="bod_bounds",
        )


def pca_notes(
    result: weighting_methods.PCAWeights,
    *,
    eigen_threshold: float = 1.0,
    min_share: float = 0.10,
    min_cumulative: float = 0.60,
) -> list[Any]:
    """What a PCA fit has to say (as :func:`dmi.scoring.weighting.pca`'s note, with its
    default thresholds), as messages of the report."""
    m = len(result.eigenvalues)
    share = result.eigenvalues / result.eigenvalues.sum()
    eligible = (result.eigenvalues > eigen_threshold) & (share >= min_share)
    n_eligible = int(np.argmin(eligible)) if not eligible.all() else m
    k = result.n_factors
    tests = {"eigen": f"{eigen_threshold:g}", "share": f"{100 * min_share:g}%"}
    notes: list[Any] = []
    if isinstance(result.retain, (int, np.integer)):
        if k > n_eligible:
            notes.append(msg("note_pca_fixed", k=k, failing=k - n_eligible, **tests))
    elif n_eligible == 0:
        notes.append(msg("note_pca_fallback", first=f"{result.eigenvalues[0]:.4g}", **tests))
    elif share[:k].sum() < min_cumulative:
        notes.append(
            msg(
                "note_pca_short",
                k=k,
                explained=f"{100 * share[:k].sum():.1f}%",
                target=f"{100 * min_cumulative:g}%",
            )
        )
    if "did not converge" in result.note:
        notes.append(msg("note_pca_not_converged"))
    return notes


def _frontier(R: np.ndarray) -> np.ndarray:
    """The rows of ``R`` that no other row dominates (>= everywhere, > somewhere).

    The benefit-of-the-doubt weights are bounded by ``w . r <= 1`` for every reference row; a
    dominated row's constraint is implied by its dominator's (``w >= 0``), so the frontier gives
    the same weight polytope, vertices and scores, found in ``O(n f m)`` (``f`` frontier rows)
    instead of comparing every pair of rows. A row's dominators have a larger sum, so rows are
    visited by decreasing sum and each is checked against the frontier found so far (a row
    dominated by a dominated row is dominated by that row's dominator, met earlier).
    """
    rows = R[np.argsort(-R.sum(axis=1), kind="stable")]
    frontier = np.empty_like(rows)
    size = 0
    for x in rows:
        kept = frontier[:size]
        if size and ((kept >= x).all(axis=1) & (kept > x).any(axis=1)).any():
            continue
        frontier[size] = x
        size += 1
    return frontier[:size]


def _children(values: np.ndarray | None, children: np.ndarray) -> np.ndarray | None:
    if values is None:
        return None
    return values[:, children] if values.ndim == 2 else values[:, children, :]


def _per_run(values: np.ndarray, R: int) -> np.ndarray:
    """(rows, k) node values shared by every run as (rows, k, R) (a view, nothing copied)."""
    return values if values.ndim == 3 else np.broadcast_to(values[:, :, None], (*values.shape, R))


def _to_100(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Rescale to 0-100 by the reference's minimum and maximum of each output (per run),
    clipped; a constant output is 50 (as :class:`dmi.IndexModel` rescales unbounded outputs)."""
    with _quiet():
        low = np.nanmin(reference, axis=0)
        high = np.nanmax(reference, axis=0)
    span = high - low
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(
            span > 0,
            100.0 * np.clip((values - low) / np.where(span > 0, span, 1.0), 0.0, 1.0),
            np.where(np.isnan(values), np.nan, 50.0),
        )
    return np.round(out, level_precision)


# -- weighting schemes side by side ------------------------------------------------------------


@dataclass
class SchemeComparison:
    """Weighting schemes side by side against the nominal scheme.

    Attributes
    ----------
    nominal : str
        The scheme the others are compared with.
    weights : pandas.DataFrame
        One row per weight-level node (``code``), one column per scheme that ran (global
        weights; benefit of the doubt: the mean of the companies' own weights, at the dimension
        level).
    summary : pandas.DataFrame
        One row per scheme: ``scheme, level, spearman, kendall, band_changed, tier_changed,
        largest_move, mean_abs_move, notes``. ``spearman`` and ``kendall`` are NaN where they
        are undefined (constant ranks under a scheme), and ``notes`` says why.
    companies : pandas.DataFrame
        ``respondent_id`` and, per scheme, ``dmi_<s>``, ``rank_<s>``, ``band_<s>`` and (with a
        tier model) ``tier_<s>``. Under any scheme but the instrument's own, and under every
        scheme on treated data, the band is an indicative band and the tier an indicative tier
        (the tier model's placement of that scheme's dimension scores), never the official level
        or tier: ``band_names`` says which.
    movers : dict of str to pandas.DataFrame
        Per scheme, the companies that move most against the nominal scheme.
    bands, tiers : dict of str to pandas.DataFrame
        Per scheme, the cross-table of its band (tier) against the nominal one.
    not_run : dict of str to str
        Schemes that could not run, with the reason.
    band_names : dict of str to str
        Per scheme, ``level`` (the official method on the data as given) or
        ``indicative_level`` (:func:`band_names`); its tier is official with it.
    """

    nominal: str
    weights: pd.DataFrame
    summary: pd.DataFrame
    companies: pd.DataFrame
    movers: dict[str, pd.DataFrame]
    bands: dict[str, pd.DataFrame]
    tiers: dict[str, pd.DataFrame]
    not_run: dict[str, str] = field(default_factory=dict)
    band_names: dict[str, str] = field(default_factory=dict)


def _tiers_of(tier_model: Any, dims: np.ndarray, dimension_codes: list[str]) -> np.ndarray:
    """Tiers of (n, D) dimension scores by a fitted tier model; -1 where a score is missing."""
    features = list(tier_model.features_)
    order = [dimension_codes.index(f[len("dim_") :]) for f in features]
    X = dims[:, order]
    out = np.full(len(X), -1, dtype=np.int64)
    complete = ~np.isnan(X).any(axis=1)
    if complete.any():
        out[complete] = tier_model.predict(X[complete])
    return out


def check_tier_model(tier_model: Any, instrument: Instrument) -> None:
    """Refuse a tier model whose features are not this instrument's dimension scores."""
    codes = {f"dim_{d.code}" for d in instrument.dimensions}
    missing = [f for f in tier_model.features_ if f not in codes]
    if missing:
        raise ParameterError(
            f"tier_model: the tier model uses {', '.join(missing)}, which are not dimension "
            f"scores of {instrument.id} (expected {', '.join(sorted(codes))})",
            parameter="tier_model",
        )


def check_schemes(schemes: list[str], *, name: str = "schemes") -> list[str]:
    """``schemes`` when every one is a weighting :func:`compare_schemes` runs.

    Raises
    ------
    ParameterError
        Naming every unknown scheme (as ``name``, the option it came from) and the weightings.
    """
    unknown = [s for s in schemes if s not in WEIGHTINGS]
    if unknown:
        raise ParameterError(
            f"{name}: expected weightings among {', '.join(WEIGHTINGS)}, got "
            f"{', '.join(repr(s) for s in unknown)}",
            parameter=name.lstrip("-"),
        )
    return list(schemes)


def compare_schemes(
    population: Population,
    *,
    schemes: list[str] | None = None,
    nominal: Scheme | None = None,
    level: str = "indicator",
    reference: Population | None = None,
    nodes: np.ndarray | None = None,
    reference_nodes: np.ndarray | None = None,
    tier_model: Any = None,
    settings: MethodSettings | None = None,
    treated: bool = False,
    top: int = 10,
    **setting: Any,
) -> SchemeComparison:
    """Weighting schemes side by side: weights, rank agreement, movers, band and tier changes.

    Parameters
    ----------
    population : Population
        The companies compared.
    schemes : list of str, optional
        Weightings (default: instrument, equal, entropy, critic, pca, ahp, bod); each runs with
        the nominal scheme's normalisation and aggregation. ``bod`` runs at the dimension level
        with arithmetic aggregation (its own definition) and says so.
    nominal : Scheme, optional
        What the others are compared with (default: the instrument's own method).
    level : str, default="indicator"
        The weight level.
    reference : Population, optional
        The population data-driven schemes are fitted on (default: the companies themselves).
    nodes, reference_nodes : ndarray, optional
        Treated node scores at ``level`` to use instead of the populations' own.
    tier_model : TierModel, optional
        Adds each scheme's tier (indicative under any scheme but the instrument's own).
    settings : MethodSettings, optional
        The method's other settings (AHP judgements of the nodes at ``level`` for ``ahp``, BoD
        bounds, geometric offset, PCA options ...), the same for every scheme; default:
        :class:`MethodSettings` ().
    treated : bool, default=False
        The scores were changed by a data treatment (outliers treated, answers imputed): then
        no band is the official level, the instrument's own method's included
        (:func:`band_names`).
    top : int, default=10
        Movers kept per scheme.
    **setting
        Any of :class:`MethodSettings`' fields by name (``bod_bounds=(0, 0.5)``,
        ``ahp_matrix=...``), as this function took them before ``settings``: they win over
        ``settings``'.

    A scheme that cannot run is listed in ``not_run`` with the reason, never left out silently.
    """
    instrument = population.instrument
    nominal = nominal or Scheme(**OFFICIAL_METHOD)
    schemes = check_schemes(list(schemes or WEIGHTINGS))
    check_schemes([nominal.weighting], name="nominal")
    if population.n < 2:
        raise DataError(
            f"comparing schemes needs at least 2 companies, got {population.n} "
            f"({population.n_read} rows read)"
        )
    if tier_model is not None:
        check_tier_model(tier_model, instrument)
    settings = MethodSettings.of(settings, setting)
    kernel = settings.kernel(
        instrument,
        level,
        population.nodes(level) if nodes is None else nodes,
        _reference_nodes(reference, reference_nodes, level),
    )
    dim_kernel = kernel if level == "dimension" else None  # BoD works on the dimensions
    rule = LevelRule(instrument, population.scenario_levels, population.scenario_codes)
    dimension_codes = [d.code for d in instrument.dimensions]
    order = [nominal.weighting] + [s for s in schemes if s != nominal.weighting]
    results: dict[str, dict[str, Any]] = {}
    not_run: dict[str, str] = {}
    weights_table = pd.DataFrame({"code": kernel.codes})
    for weighting in order:
        scheme = Scheme(weighting, nominal.normalisation, nominal.aggregation)
        notes: list[str] = []
        try:
            if weighting == "bod":
                if dim_kernel is None:
                    dim_kernel = settings.kernel(
                        instrument,
                        "dimension",
                        population.nodes("dimension"),
                        None if reference is None else reference.nodes("dimension"),
                    )
                scheme = Scheme("bod", nominal.normalisation, "arithmetic")
                dims, index = dim_kernel.evaluate_bod(nominal.normalisation)
                w = dim_kernel.weights("bod", nominal.normalisation)[0]
                notes = dim_kernel.normalisation_notes(nominal.normalisation)
                if level != "dimension" or nominal.aggregation != "arithmetic":
                    notes.append(msg("note_bod_dimension"))
                weights_table["bod (dimension level)"] = _dimension_weights_on(
                    kernel, dimension_codes, w
                )
            else:
                w, weight_notes = kernel.weights(weighting, nominal.normalisation)
                dims, index = kernel.evaluate(nominal.normalisation, nominal.aggregation, w)
                notes = kernel.normalisation_notes(nominal.normalisation) + list(weight_notes)
                weights_table[weighting] = w
        except NotComputable as exc:
            if weighting == nominal.weighting:
                raise NotComputable(
                    msg("nc_nominal_scheme", scheme=scheme.name, reason=reason(exc))
                ) from None
            not_run[weighting] = reason(exc)
            continue
        except ParameterError as exc:
            # bounds no weights keep to: the method's mistake under a nominal BoD, else one
            # scheme that cannot run
            if exc.parameter != "bod_bounds" or weighting == nominal.weighting:
                raise
            not_run[weighting] = reason(exc)
            continue
        results[weighting] = {
            "scheme": scheme,
            "index": index[:, 0],
            "dims": dims[:, :, 0],
            "band": rule.levels(index[:, 0]),
            "notes": notes,
        }
        if tier_model is not None:
            results[weighting]["tier"] = _tiers_of(tier_model, dims[:, :, 0], dimension_codes)

    base = results[nominal.weighting]
    companies = pd.DataFrame({"respondent_id": population.respondent_id})
    summary, movers, bands, tiers, names = [], {}, {}, {}, {}
    for weighting, r in results.items():
        companies[f"dmi_{weighting}"] = r["index"]
        companies[f"rank_{weighting}"] = rank_desc(r["index"])
        companies[f"band_{weighting}"] = r["band"]
        if "tier" in r:
            companies[f"tier_{weighting}"] = r["tier"]
        names[weighting] = band_names(r["scheme"], treated=treated)[0]
        if weighting == nominal.weighting:
            continue
        a = _score_table(population.respondent_id, base)
        b = _score_table(population.respondent_id, r)
        cmp = compare_rankings(a, b, names=(nominal.weighting, weighting))
        moves = cmp.movers["rank_change"].abs()
        summary.append(
            {
                "scheme": weighting,
                "method": r["scheme"].name,
                "spearman": cmp.spearman,
                "kendall": cmp.kendall,
                "band_changed": cmp.level_changed,
                "tier_changed": cmp.tier_changed,
                "largest_move": float(moves.max()),
                "mean_abs_move": float(moves.mean()),
                "notes": join([*r["notes"], cmp.correlation_note]),
            }
        )
        movers[weighting] = cmp.movers.head(top)
        bands[weighting] = cmp.levels
        if cmp.tiers is not None:
            tiers[weighting] = cmp.tiers
    for weighting, why in not_run.items():
        summary.append(
            {
                "scheme": weighting,
                "method": "",
                "spearman": np.nan,
                "kendall": np.nan,
                "band_changed": None,
                "tier_changed": None,
                "largest_move": np.nan,
                "mean_abs_move": np.nan,
                "notes": msg("note_not_run", reason=why),
            }
        )
    summary_table = pd.DataFrame(
        summary,
        columns=[
            "scheme",
            "method",
            "spearman",
            "kendall",
            "band_changed",
            "tier_changed",
            "largest_move",
            "mean_abs_move",
            "notes",
        ],
    )
    summary_table["notes"] = text_column(row["notes"] for row in summary)
    for counted in ("band_changed", "tier_changed"):  # whole numbers; none for a scheme not run
        summary_table[counted] = summary_table[counted].astype("Int64")
    return SchemeComparison(
        nominal=Scheme(nominal.weighting, nominal.normalisation, nominal.aggregation).name,
        weights=weights_table,
        summary=summary_table,
        companies=companies,
        movers=movers,
        bands=bands,
        tiers=tiers,
        not_run=not_run,
        band_names=names,
    )


def _reference_nodes(
    reference: Population | None, reference_nodes: np.ndarray | None, level: str
) -> np.ndarray | None:
    if reference_nodes is not None:
        return reference_nodes
    return None if reference is None else reference.nodes(level)


def _dimension_weights_on(kernel: Kernel, dimension_codes: list[str], w: np.ndarray) -> list:
    """BoD's dimension weights shown on the rows of the weight-level nodes: each node gets its
    dimension's weight split by the instrument's weights within the dimension (at the dimension
    level, the weights themselves)."""
    if kernel.level == "dimension":
        return list(w)
    h = kernel.hierarchy
    own = h.own_weights(kernel.level)
    dim_of = h.dimension_of(kernel.level)
    out = []
    for j in range(len(kernel.codes)):
        siblings = dim_of == dim_of[j]
        total = own[siblings].sum()
        share = own[j] / total if total > 0 else 1.0 / siblings.sum()
        out.append(float(w[dim_of[j]] * share))
    return out


def _score_table(ids: np.ndarray, result: dict[str, Any]) -> pd.DataFrame:
    table = pd.DataFrame({"respondent_id": ids, "dmi": result["index"], "level": result["band"]})
    if "tier" in result:
        table["tier"] = result["tier"]
    return table

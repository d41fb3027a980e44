"""``IndexModel``: fit a composite-index method on a reference population, then score anyone.

The pipeline (DESIGN.md, "Flow"):

1. answers -> item scores in [0, 1] (:func:`dmi.scoring.answers.encode_answers`);
2. below the *weight level*, nodes are combined with the instrument's own weights by weighted
   arithmetic means (the instrument's scoring rule: points add up);
3. at the weight level (``item``, ``indicator`` or ``dimension``), node scores are normalised and
   weighted by the chosen method;
4. above it, nodes are aggregated into their parents (indicator -> dimension -> index) with the
   chosen aggregation; a parent's weight is the sum of its children's weights;
5. dimension scores and the index are reported on 0-100, and the index gets its level.

With the instrument's weights, goalposts normalisation and arithmetic aggregation (the
*official* method, :attr:`IndexModel.is_official`), the index is the instrument's official point
total (rescaled to 0-100) and ``level`` its official level. Under any other method ``dmi`` is that
method's index and its band is reported as ``indicative_level``; ``official_dmi`` and ``level``
are then the official index and level of the same answers, so ``level`` always means the
official level.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from dmi.base import DmiEstimator, str_options
from dmi.errors import (
    AnswerError,
    DataError,
    MethodWarning,
    ModelFileError,
    NotFittedError,
    ParameterError,
)
from dmi.instruments import Instrument, load_instrument
from dmi.io.modelfile import check, dmi_version, read_json, without_dmi_version
from dmi.scoring import weighting as weighting_methods
from dmi.scoring.aggregate import (
    AGGREGATIONS,
    aggregate,
    arithmetic_of_columns,
    mazziotta_pareto_decreasing,
    mazziotta_pareto_reference,
)
from dmi.scoring.answers import EncodedAnswers, encode_answers
from dmi.scoring.files import MODEL_FORMAT, IndexModelFile
from dmi.scoring.levels import assign_flags, assign_levels, level_precision
from dmi.scoring.normalise import Normaliser, bounded, canonical_name
from dmi.scoring.weighting import WEIGHT_LEVELS, WEIGHTINGS

__all__ = [
    "MODEL_FORMAT",
    "OFFICIAL_METHOD",
    "WEIGHTINGS",
    "WEIGHT_LEVELS",
    "AnswerError",
    "BatchResult",
    "IndexModel",
    "NotFittedError",
]

_DATA_DRIVEN = {"entropy", "critic", "pca", "bod"}
OFFICIAL_METHOD = {
    "weighting": "instrument",
    "normalisation": "goalposts",
    "aggregation": "arithmetic",
}
"""The instrument's own method: its index is the official point total at every weight level."""


@dataclass
class BatchResult:
    """Scores of the valid rows, and every problem of the others.

    ``n_read == n_scored + n_rejected`` always holds.
    """

    scores: pd.DataFrame
    rejects: pd.DataFrame
    n_read: int
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    imputed: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def n_scored(self) -> int:
        return len(self.scores)

    @property
    def n_rejected(self) -> int:
        return self.n_read - self.n_scored


def _resolve_instrument(instrument: Instrument | str | Path) -> Instrument:
    return instrument if isinstance(instrument, Instrument) else load_instrument(instrument)


class IndexModel(DmiEstimator):
    """A composite-index method: normalisation, weighting and aggregation over an instrument.

    A scikit-learn estimator: ``get_params``, ``set_params`` and ``clone`` work, the parameters
    are checked by :meth:`fit`, and using an unfitted model raises
    :class:`~dmi.errors.NotFittedError`.

    Parameters
    ----------
    instrument : Instrument, str or path
        An :class:`~dmi.instruments.Instrument`, or a shipped name or path to load one.
    weighting : str, default="instrument"
        ``instrument`` (the file's own weights, e.g. official points), ``equal``, ``entropy``,
        ``critic``, ``pca`` (OECD procedure), ``ahp`` (needs ``ahp_matrix``) or ``bod``
        (benefit of the doubt: each company gets the weights most favourable to it, within
        ``bod_bounds``, against the frontier of the reference population).
    normalisation : str, default="goalposts"
        ``goalposts`` (the instrument's 0 and maximum points), ``minmax``, ``zscore``,
        ``percentile`` (``rank``) or ``target``; see :mod:`dmi.scoring.normalise`.
    aggregation : str, default="arithmetic"
        ``arithmetic``, ``geometric`` or ``mazziotta-pareto``; see :mod:`dmi.scoring.aggregate`.
    weight_level : str, default="indicator"
        The level of the hierarchy whose nodes are normalised and weighted: ``item``,
        ``indicator`` or ``dimension``. Below it the instrument's own weights combine nodes.
    ahp_matrix : array-like of shape (n_nodes, n_nodes), default=None
        For ``weighting="ahp"``: a pairwise comparison matrix over the nodes of ``weight_level``
        in instrument order (see :meth:`nodes`), as nested lists or an array.
    bod_bounds : (float, float), default=(0.0, 1.0)
        For ``weighting="bod"``: (lower, upper) bounds on each node's share of the total weight.
    geometric_offset : float, default=0.01
        The explicit offset (>= 0) that lets geometric aggregation handle zero scores.
    target_quantile : float, default=0.9
        For ``normalisation="target"``: the reference quantile (in (0, 1]) taken as the target.
    pca_retain : {"kaiser+10%", "cumulative-60%"} or int, default="kaiser+10%"
        For ``weighting="pca"``: which factors are kept. ``kaiser+10%`` (the default) keeps
        every factor with eigenvalue > 1 and at least 10 % of the variance, as the OECD/JRC
        Handbook's worked example does (its 60 % cumulative share is then a check, noted when
        not met); ``cumulative-60%`` stops at the first factor that takes the cumulative share
        to 60 %, dropping later factors however large; a whole number keeps that many factors.
        See :func:`dmi.scoring.weighting.pca`.
    pca_rotation : {"varimax", "varimax-kaiser"}, default="varimax"
        For ``weighting="pca"``: varimax on the raw loadings (the default, the weights dmi has
        always given), or on the Kaiser-normalised loadings (the default of SPSS, R's
        ``varimax`` and factor_analyzer).

    Attributes
    ----------
    instrument_ : Instrument
    nodes_ : list of str
        Codes of the weighted nodes.
    weights_ : ndarray of shape (n_nodes,)
        Global weight of each node (they sum to 1; for ``bod``, the mean of the per-company
        weights on the reference).
    normaliser_ : Normaliser
    ahp_ : dmi.scoring.weighting.AHPResult or None
    pca_ : dmi.scoring.weighting.PCAWeights or None
        For ``weighting="pca"``: eigenvalues, kept factors, rotated loadings and notes.
    bod_vertices_ : ndarray of shape (n_vertices, n_nodes) or None
    output_scale_ : dict
        ``dim_<code>`` and ``dmi`` -> the reference's [low, high] on the method's scale, for
        methods whose values are not within 0-1.
    fit_info_ : dict
        Rows used, a hash of the reference data, notes (e.g. PCA fallbacks) and warnings
        (inconsistent AHP judgements, a Mazziotta-Pareto index that is not monotone on the
        reference; each also raised as a :class:`~dmi.errors.MethodWarning`).
    """

    _parameter_constraints: ClassVar[dict[str, list[object]]] = {
        "instrument": [Instrument, str, os.PathLike],
        "weighting": [str_options(WEIGHTINGS)],
        "normalisation": [str],  # names and aliases in any case: canonical_name checks them
        "aggregation": [str_options(AGGREGATIONS)],
        "weight_level": [str_options(WEIGHT_LEVELS)],
        "ahp_matrix": ["array-like", None],
        "bod_bounds": ["array-like"],
        "geometric_offset": [Interval(Real, 0, None, closed="left")],
        "target_quantile": [Interval(Real, 0, 1, closed="right")],
        "pca_retain": [
            str_options(weighting_methods.PCA_RETAIN),
            Interval(Integral, 1, None, closed="left"),
        ],
        "pca_rotation": [str_options(weighting_methods.PCA_ROTATIONS)],
    }
    _fit_hint = "call fit() first (fit() with no data is enough for the instrument's own weights)"

    def __init__(
        self,
        instrument: Instrument | str | Path,
        *,
        weighting: str = "instrument",
        normalisation: str = "goalposts",
        aggregation: str = "arithmetic",
        weight_level: str = "indicator",
        ahp_matrix: Any = None,
        bod_bounds: tuple[float, float] = (0.0, 1.0),
        geometric_offset: float = 0.01,
        target_quantile: float = 0.9,
        pca_retain: str | int = "kaiser+10%",
        pca_rotation: str = "varimax",
    ):
        self.instrument = instrument
        self.weighting = weighting
        self.normalisation = normalisation
        self.aggregation = aggregation
        self.weight_level = weight_level
        self.ahp_matrix = ahp_matrix
        self.bod_bounds = bod_bounds
        self.geometric_offset = geometric_offset
        self.target_quantile = target_quantile
        self.pca_retain = pca_retain
        self.pca_rotation = pca_rotation

    # -- structure --------------------------------------------------------------------------
    def _structure(self, instrument: Instrument) -> None:
        """Node codes at the weight level, and the parent maps above it (at fit and load)."""
        self._dimensions = [d.code for d in instrument.dimensions]
        self._indicators = [i.code for i in instrument.indicators]
        self._items = [i.code for i in instrument.items]
        self._item_indicator = np.array(
            [self._indicators.index(p.indicator.code) for p in instrument.item_paths]
        )
        self._indicator_dimension = np.array(
            [self._dimensions.index(d.code) for d in instrument.dimensions for _ in d.indicators]
        )
        self._item_weight = np.array([instrument.item_weight(i) for i in instrument.items])
        self._indicator_weight = np.array(
            [instrument.indicator_weight(i) for i in instrument.indicators]
        )
        self._dimension_weight = np.array(
            [instrument.dimension_weight(d) for d in instrument.dimensions]
        )
        self.nodes_ = _node_codes(instrument, self.weight_level)

    def nodes(self) -> list[str]:
        """The codes of the nodes that are weighted (the rows and columns of an AHP matrix).

        Needs no fit (and fits nothing): they follow from the instrument and ``weight_level``.
        """
        self._validate_params()
        return _node_codes(_resolve_instrument(self.instrument), self.weight_level)

    def _instrument_global_weights(self) -> np.ndarray:
        """Each weight-level node's share of the index under the instrument's own weights."""
        dim_share = self._dimension_weight / self._dimension_weight.sum()
        if self.weight_level == "dimension":
            return dim_share
        ind_share = _within_parent(self._indicator_weight, self._indicator_dimension)
        ind_global = ind_share * dim_share[self._indicator_dimension]
        if self.weight_level == "indicator":
            return ind_global
        item_share = _within_parent(self._item_weight, self._item_indicator)
        return item_share * ind_global[self._item_indicator]

    def _below(self, item_scores: np.ndarray) -> np.ndarray:
        """Scores of the weight-level nodes, from item scores, with the instrument's weights."""
        if self.weight_level == "item":
            return item_scores
        indicators = _group_mean(
            item_scores, self._item_weight, self._item_indicator, len(self._indicators)
        )
        if self.weight_level == "indicator":
            return indicators
        return _group_mean(
            indicators, self._indicator_weight, self._indicator_dimension, len(self._dimensions)
        )

    # -- validation -------------------------------------------------------------------------
    def _check_param_combinations(self) -> None:
        """What the constraint table cannot say: the normalisation's name and the parameters
        that only go together."""
        try:
            normalisation = canonical_name(self.normalisation)
        except ValueError as exc:
            raise ParameterError(str(exc), parameter="normalisation") from None
        if isinstance(self.pca_retain, bool):
            raise ParameterError(
                "pca_retain: expected one of kaiser+10%, cumulative-60% or a whole number of "
                f"factors, got {self.pca_retain!r}",
                parameter="pca_retain",
            )
        if np.shape(self.bod_bounds) != (2,):
            raise ParameterError(
                f"bod_bounds: expected (lower, upper), got {self.bod_bounds!r}",
                parameter="bod_bounds",
            )
        if self.aggregation == "geometric" and not bounded(normalisation):
            raise ParameterError(
                "geometric aggregation needs non-negative inputs, but zscore "
                "normalisation gives negative values: choose another normalisation",
                parameter="aggregation",
            )
        if self.weighting == "bod" and self.aggregation != "arithmetic":
            raise ParameterError(
                "benefit-of-the-doubt weighting is a weighted sum: use "
                f"aggregation='arithmetic', not {self.aggregation!r}",
                parameter="aggregation",
            )
        if self.weighting == "bod" and self.weight_level != "dimension":
            raise ParameterError(
                "benefit-of-the-doubt weighting is exact for new companies only over a few "
                f"nodes: use weight_level='dimension', not {self.weight_level!r}",
                parameter="weight_level",
            )
        if self.weighting == "ahp" and self.ahp_matrix is None:
            raise ParameterError(
                "weighting='ahp' needs ahp_matrix, a pairwise comparison matrix "
                "over the weighted nodes (see IndexModel.nodes())",
                parameter="ahp_matrix",
            )

    @property
    def is_official(self) -> bool:
        """True for the instrument's own method (:data:`OFFICIAL_METHOD`, at any weight level).

        Its index is the instrument's official point total and its level the official level;
        every other method's index is a research index whose band is only indicative. This is
        the one place that decides it.
        """
        try:
            normalisation = canonical_name(self.normalisation)
        except ValueError:
            return False
        return (self.weighting, normalisation, self.aggregation) == tuple(OFFICIAL_METHOD.values())

    @property
    def method_id(self) -> str:
        """What identifies the index this fitted model gives.

        Two models with the same ``method_id`` give every company the same index, so only then
        is a difference of two indices a change of the company: every official model of an
        instrument has ``"<id> <version> #<hash> official"``; any other model adds its method
        and a hash of everything it learned (another fit of the same method is another index).
        """
        self._check_fitted()
        instrument = self.instrument_
        head = f"{instrument.id} {instrument.version} #{instrument.hash[:8]}"
        if self.is_official:
            return f"{head} official"
        # what the model is, not how it was made nor which dmi wrote it
        content = {k: v for k, v in without_dmi_version(self.to_dict()).items() if k != "fit_info"}
        digest = hashlib.sha256(
            json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
        ).hexdigest()[:12]
        method = "/".join(
            [
                self.weighting,
                canonical_name(self.normalisation),
                self.aggregation,
                self.weight_level,
            ]
        )
        return f"{head} {method} #{digest}"

    def output_columns(self, raw_columns: Iterable[str] = ()) -> list[str]:
        """The index and level columns of a score table, in order (after ``respondent_id``).

        ``dmi, level`` for the official method; ``dmi, indicative_level, official_dmi, level``
        for any other, with ``bod_uncapped`` after ``dmi`` for benefit of the doubt (the index
        without the cap at 100, so companies beyond the reference frontier stay apart).
        ``raw_columns`` are the columns of the answers: an item derived from raw numbers gets
        its ``derived_<item>`` column only when they hold its raw columns.
        """
        extra = _extra_columns(self.instrument_, raw_columns)
        if self.is_official:
            return ["dmi", "level", *extra]
        uncapped = ["bod_uncapped"] if self.weighting == "bod" else []
        return ["dmi", *uncapped, "indicative_level", "official_dmi", "level", *extra]

    def needs_data(self) -> bool:
        """True when :meth:`fit` learns from a reference population (it needs ``answers``).

        The instrument's, equal and AHP weights with goalposts normalisation and arithmetic or
        geometric aggregation learn nothing: ``fit()`` with no data fits them.
        """
        return (
            self.weighting in _DATA_DRIVEN
            or canonical_name(self.normalisation) != "goalposts"
            or self.aggregation == "mazziotta-pareto"
        )

    # -- fit --------------------------------------------------------------------------------
    def fit(self, answers: pd.DataFrame | EncodedAnswers | None = None) -> IndexModel:
        """Learn what the method needs from a reference population.

        Parameters
        ----------
        answers : DataFrame, EncodedAnswers or None, default=None
            The reference population's answers (rows with invalid answers are left out of the
            fit; see ``fit_info_``). May be None when nothing is learned from data (see
            :meth:`needs_data`).

        Returns
        -------
        IndexModel
            self

        Raises
        ------
        ParameterError
            A parameter this model does not accept, or parameters that do not go together.
        DataError
            No data, or too few valid rows, for a method that learns from data.
        """
        self._validate_params()
        instrument = _resolve_instrument(self.instrument)
        self.instrument_ = instrument
        self._structure(instrument)
        notes: list[str] = []
        self._fit_warnings: list[str] = []
        if answers is None:
            if self.needs_data():
                raise DataError(
                    f"weighting={self.weighting!r}, normalisation={self.normalisation!r}, "
                    f"aggregation={self.aggregation!r} learn from data: pass the reference "
                    "population's answers to fit()"
                )
            nodes = np.empty((0, len(self.nodes_)))
            n_rows, n_rejected, data_hash = 0, 0, None
        else:
            encoded = (
                answers
                if isinstance(answers, EncodedAnswers)
                else encode_answers(instrument, answers)
            )
            n_rows, n_rejected = encoded.n_rows, encoded.n_rows - encoded.n_valid
            nodes = self._below(encoded.scores[encoded.valid])
            data_hash = hashlib.sha256(
                np.ascontiguousarray(
                    np.nan_to_num(encoded.scores[encoded.valid], nan=-1.0)
                ).tobytes()
            ).hexdigest()[:16]
            if self.needs_data() and len(nodes) < 2:
                raise DataError(
                    f"fitting needs at least 2 valid reference rows, got {len(nodes)}"
                    f" ({n_rejected} of {n_rows} rows were rejected)"
                )

        self.normaliser_ = Normaliser(self.normalisation, target_quantile=self.target_quantile)
        self.normaliser_.fit(nodes)
        notes.extend(self._target_notes())
        normalised = self.normaliser_.transform(nodes)
        self.ahp_ = None
        self.pca_: weighting_methods.PCAWeights | None = None
        self.bod_vertices_: np.ndarray | None = None
        self.weights_ = self._fit_weights(normalised, notes)

        # reference statistics for Mazziotta-Pareto and for rescaling unbounded outputs to 0-100
        self._aggregation_stats = {}
        self.output_scale_: dict[str, list[float]] = {}
        if self.aggregation == "mazziotta-pareto" or not bounded(self.normalisation):
            self._fit_aggregation(normalised)
        self._official = self._official_model(instrument)
        self.fit_info_ = {
            "rows": n_rows,
            "rows_rejected": n_rejected,
            "rows_used": int(len(nodes)),
            "data_hash": data_hash,
            "notes": notes,
            "warnings": self._fit_warnings,
        }
        for text in self._fit_warnings:
            warnings.warn(text, MethodWarning, stacklevel=2)
        return self

    def _target_notes(self) -> list[str]:
        """What the target normalisation did where the reference quantile is 0."""
        fallbacks = getattr(self.normaliser_, "fallbacks_", [])
        if not fallbacks:
            return []
        q = f"{self.target_quantile:g}"
        top = [f for f in fallbacks if f["rule"] == "maximum"]
        none = [f for f in fallbacks if f["rule"] == "goalposts"]
        notes = []
        if top:
            listed = ", ".join(f"{self.nodes_[f['column']]} ({f['target']:.4g})" for f in top)
            notes.append(
                f"target normalisation: the reference's {q} quantile of "
                f"{', '.join(self.nodes_[f['column']] for f in top)} is 0, and min(x / 0, 1) "
                "would give every company full marks; the target is the reference maximum "
                f"instead: {listed}"
            )
        if none:
            notes.append(
                f"target normalisation: {', '.join(self.nodes_[f['column']] for f in none)} "
                f"{'is' if len(none) == 1 else 'are'} 0 for every reference company (the "
                f"reference's {q} quantile is 0): scored as they are, the instrument's maximum "
                "being the target"
            )
        return notes

    def _official_model(self, instrument: Instrument) -> IndexModel | None:
        """The official method over the same instrument, for ``official_dmi`` and ``level``
        (None when this model is the official one). It learns nothing from data."""
        if self.is_official:
            return None
        return IndexModel(instrument).fit()

    def _fit_weights(self, X: np.ndarray, notes: list[str]) -> np.ndarray:
        method = self.weighting
        k = len(self.nodes_)
        if method == "instrument":
            return self._instrument_global_weights()
        if method == "equal":
            return weighting_methods.equal(k)
        if method == "ahp":
            result = weighting_methods.ahp(np.asarray(self.ahp_matrix, dtype=float))
            if result.n != k:
                raise ParameterError(
                    f"the AHP matrix is {result.n}x{result.n} but there are {k} "
                    f"{self.weight_level} nodes ({', '.join(self.nodes_)})",
                    parameter="ahp_matrix",
                )
            self.ahp_ = result
            if not result.consistent:
                self._fit_warnings.append(
                    f"AHP consistency ratio {result.cr:.3f} is not below "
                    f"{weighting_methods.CR_THRESHOLD:.2f}: the pairwise judgements contradict "
                    "each other (Saaty's rule), so the weights are not reliable; revise them"
                )
            return np.asarray(result.weights, dtype=float)
        complete = X[~np.isnan(X).any(axis=1)]
        if len(complete) < 2:
            raise DataError(
                f"{method} weights need at least 2 reference rows with every "
                f"{self.weight_level} answered, got {len(complete)}"
            )
        if not bounded(self.normalisation):  # entropy, CRITIC and BoD need non-negative inputs
            low, high = complete.min(axis=0), complete.max(axis=0)
            complete = (complete - low) / np.where(high > low, high - low, 1.0)
        if method in ("entropy", "critic"):
            constant = [
                code
                for code, column in zip(self.nodes_, complete.T)
                if not column.max() > column.min()
            ]
            if constant:
                notes.append(
                    f"{method}: {', '.join(constant)} "
                    f"{'is' if len(constant) == 1 else 'are'} the same for every reference "
                    "company (no information): weight 0"
                )
            weigh = weighting_methods.entropy if method == "entropy" else weighting_methods.critic
            return np.asarray(weigh(complete), dtype=float)
        if method == "pca":
            constant = [
                f"{code} = {float(column[0]):g}"
                for code, column in zip(self.nodes_, complete.T)
                if not column.max() > column.min()
            ]
            if constant:
                raise DataError(
                    f"PCA weights: {', '.join(constant)} for every reference company: a node "
                    "that does not vary has no correlations, so PCA cannot weigh it; use "
                    "another weighting, or a reference population in which every node varies"
                )
            if isinstance(self.pca_retain, Integral) and self.pca_retain > k:
                raise ParameterError(
                    f"pca_retain: expected at most {k} factors (one per {self.weight_level} "
                    f"node), got {self.pca_retain}",
                    parameter="pca_retain",
                )
            result = weighting_methods.pca(
                complete,
                retain=self.pca_retain,
                kaiser_normalisation=self.pca_rotation == "varimax-kaiser",
            )
            self.pca_ = result
            if result.note:
                notes.append(f"PCA: {result.note}")
            return np.asarray(result.weights, dtype=float)
        lower, upper = self.bod_bounds
        if k > weighting_methods.BOD_VERTEX_MAX_DIM:
            raise ParameterError(
                f"benefit-of-the-doubt weighting supports at most "
                f"{weighting_methods.BOD_VERTEX_MAX_DIM} dimensions, got {k}",
                parameter="weighting",
            )
        result = weighting_methods.bod(complete, lower=lower, upper=upper, method="vertices")
        self.bod_vertices_ = np.asarray(result.vertices, dtype=float)
        mean = np.asarray(result.weights, dtype=float).mean(axis=0)
        return mean / mean.sum() if mean.sum() > 0 else weighting_methods.equal(k)

    # -- the aggregation upward ---------------------------------------------------------------
    def _parents(self) -> list[tuple[str, np.ndarray, int]]:
        """Aggregation steps above the weight level: (level name, child->parent map, n)."""
        steps = []
        if self.weight_level == "item":
            steps.append(("indicator", self._item_indicator, len(self._indicators)))
        if self.weight_level in ("item", "indicator"):
            steps.append(("dimension", self._indicator_dimension, len(self._dimensions)))
        return steps

    def _upward(self, X: np.ndarray, fitting: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Aggregate weight-level values to (dimension values, index values)."""
        values, weights = X, np.asarray(self.weights_, dtype=float)
        # fallback shares so a parent whose children all weigh 0 is still reported
        fallback = {"item": self._item_weight, "indicator": self._indicator_weight}
        codes = {"item": self._items, "indicator": self._indicators, "dimension": self._dimensions}
        child_level = self.weight_level
        for level, parent_of, n_parents in self._parents():
            parent_values = np.empty((len(values), n_parents))
            parent_weights = np.zeros(n_parents)
            for p in range(n_parents):
                children = np.flatnonzero(parent_of == p)
                w = weights[children]
                parent_weights[p] = w.sum()
                if w.sum() <= 0:
                    w = fallback[child_level][children]
                names = [codes[child_level][c] for c in children]
                parent_values[:, p] = self._aggregate(
                    f"{level}:{p}", values[:, children], w, fitting, names, child_level
                )
            values, weights, child_level = parent_values, parent_weights, level
        dimensions = values
        if self.weighting == "bod":
            index = self._bod_index(X)
        else:
            index = self._aggregate(
                "index", dimensions, weights, fitting, self._dimensions, child_level
            )
        return dimensions, index

    def _aggregate(
        self, key: str, X: np.ndarray, w: np.ndarray, fitting: bool, names: list[str], level: str
    ) -> np.ndarray:
        """Aggregate the columns of ``X`` (the nodes ``names`` of ``level``) into step ``key``;
        when fitting, learn the step's reference statistics."""
        method = self.aggregation if self.weighting != "bod" else "arithmetic"
        if method != "mazziotta-pareto":
            return aggregate(method, X, w, offset=self.geometric_offset)
        if fitting:
            mean, sd = mazziotta_pareto_reference(X)
            self._aggregation_stats[key] = {"mean": mean.tolist(), "sd": sd.tolist()}
            self._check_monotone(key, X, w, mean, sd, names, level)
        stats = self._aggregation_stats[key]
        return aggregate(method, X, w, mean=np.array(stats["mean"]), sd=np.array(stats["sd"]))

    def _check_monotone(
        self,
        key: str,
        X: np.ndarray,
        w: np.ndarray,
        mean: np.ndarray,
        sd: np.ndarray,
        names: list[str],
        level: str,
    ) -> None:
        """Record where raising an input of this Mazziotta-Pareto step lowers its value for a
        reference company (up to 1 for a bounded normalisation at the weight level, else up to
        the input's reference maximum); :meth:`fit` turns the records into one warning."""
        if level == self.weight_level and bounded(self.normalisation):
            upper = np.ones(X.shape[1])
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
                upper = np.nan_to_num(np.nanmax(X, axis=0))
        falls = mazziotta_pareto_decreasing(X, w, mean, sd, upper)
        parent_level, _, p = key.partition(":")
        codes = {"indicator": self._indicators, "dimension": self._dimensions}
        parent = codes[parent_level][int(p)] if p else "the index"
        for j in np.flatnonzero(falls.any(axis=0)):
            self._not_monotone.append((names[j], parent, float(falls[:, j].mean())))

    def _bod_index(self, X: np.ndarray) -> np.ndarray:
        """The benefit-of-the-doubt scores, not capped: 1 is the reference frontier."""
        assert self.bod_vertices_ is not None
        filled = np.where(np.isnan(X), 0.0, X)
        if not bounded(self.normalisation):
            low, high = self._bod_range
            filled = (filled - low) / np.where(high > low, high - low, 1.0)
        scores, _ = weighting_methods.bod_score(filled, self.bod_vertices_)
        return np.asarray(scores, dtype=float)

    def _fit_aggregation(self, normalised: np.ndarray) -> None:
        if self.weighting == "bod" and not bounded(self.normalisation):
            complete = normalised[~np.isnan(normalised).any(axis=1)]
            self._bod_range = (complete.min(axis=0), complete.max(axis=0))
        self._not_monotone: list[tuple[str, str, float]] = []
        dimensions, index = self._upward(normalised, fitting=True)
        if self.weighting == "bod":
            index = np.clip(index, 0.0, 1.0)
        if self._not_monotone:
            self._fit_warnings.append(_not_monotone_warning(self._not_monotone))
        if bounded(self.normalisation) and self.aggregation != "mazziotta-pareto":
            return
        for j, code in enumerate(self._dimensions):
            column = dimensions[:, j]
            self.output_scale_[f"dim_{code}"] = [float(np.nanmin(column)), float(np.nanmax(column))]
        self.output_scale_["dmi"] = [float(np.nanmin(index)), float(np.nanmax(index))]

    def _to_100(self, name: str, values: np.ndarray) -> np.ndarray:
        if name not in self.output_scale_:
            out = 100.0 * values
        else:
            low, high = self.output_scale_[name]
            if high <= low:
                out = np.where(np.isnan(values), np.nan, 50.0)
            else:
                out = 100.0 * np.clip((values - low) / (high - low), 0.0, 1.0)
        return np.round(out, level_precision)

    # -- score ------------------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        # fit_info_ is learned last: a fit that stopped half-way is not a fitted model
        return hasattr(self, "fit_info_")

    def _index(self, encoded: EncodedAnswers) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(dimension values on the method's scale, index on 0-100, and for benefit of the
        doubt the uncapped index ``bod_uncapped``, else None) of the valid rows."""
        nodes = self._below(_rows_of(encoded.scores, encoded.valid))
        dimensions, index = self._upward(self.normaliser_.transform(nodes))
        uncapped = None
        if self.weighting == "bod":
            # companies beyond the reference frontier score above 1: dmi caps them at 100,
            # bod_uncapped keeps them apart
            uncapped = np.round(100.0 * index, level_precision)
            index = np.clip(index, 0.0, 1.0)
        return dimensions, self._to_100("dmi", index), uncapped

    def score_encoded(self, encoded: EncodedAnswers) -> pd.DataFrame:
        """Score already-encoded answers (the valid rows only); the kernel behind every path."""
        self._check_fitted()
        if encoded.item_codes != self._items:
            raise DataError("these answers were encoded for another instrument")
        valid = encoded.valid
        dimensions, dmi, uncapped = self._index(encoded)
        scenario_levels = encoded.scenario_levels[valid]
        out: dict[str, Any] = {"respondent_id": encoded.respondent_id[valid]}
        out["dmi"] = dmi
        if uncapped is not None:
            out["bod_uncapped"] = uncapped
        levels = assign_levels(self.instrument_, dmi, scenario_levels, encoded.scenario_codes)
        if self._official is None:
            out["level"] = levels
        else:
            # the method's band is only indicative: `level` stays the official one
            official = self._official._index(encoded)[1]
            out["indicative_level"] = levels
            out["official_dmi"] = official
            out["level"] = assign_levels(
                self.instrument_, official, scenario_levels, encoded.scenario_codes
            )
        _add_extra_columns(out, self.instrument_, out.get("official_dmi", dmi), encoded)
        for j, code in enumerate(self._dimensions):
            out[f"dim_{code}"] = self._to_100(f"dim_{code}", dimensions[:, j])
        for field_ in self.instrument_.profile:
            if field_.peer_group and field_.code in encoded.profile:
                values = encoded.profile[field_.code].array
                values = values if valid.all() else values[valid]
                # Arrow-backed text stays in Arrow; other columns as before
                out[field_.code] = values if values.dtype == "str" else values.to_numpy()
        return pd.DataFrame(out)  # built once: adding columns one by one costs more per call

    def score_batch(
        self,
        answers: pd.DataFrame,
        *,
        first_row: int = 2,
        rows: np.ndarray | None = None,
        unique_ids: bool = False,
    ) -> BatchResult:
        """Score every valid row and list every problem of the others.

        Parameters
        ----------
        answers
            One row per respondent (columns: item codes, ``respondent_id``, profile fields).
        first_row
            Source row number of the first row (for the rejects table).
        rows
            Source row number of every row, when they are not consecutive.
        unique_ids
            True when repeated ids were already rejected (see :func:`~dmi.encode_answers`).
        """
        self._check_fitted()
        encoded = encode_answers(
            self.instrument_,
            answers,
            first_row=first_row,
            rows=rows,
            free_text=False,
            unique_ids=unique_ids,
        )
        return BatchResult(
            self.score_encoded(encoded),
            encoded.rejects,
            encoded.n_rows,
            encoded.row[encoded.valid],
            encoded.imputed,
            encoded.excluded,
        )

    def score(self, answers: pd.DataFrame) -> pd.DataFrame:
        """Score answers; raise :class:`AnswerError` listing every problem if any row is invalid.

        Returns
        -------
        pandas.DataFrame
            ``respondent_id, dmi, level, dim_<code>...`` and the peer-group profile fields; under
            a method other than the official one, ``respondent_id, dmi, indicative_level,
            official_dmi, level, dim_<code>...`` (see :meth:`output_columns`).
        """
        result = self.score_batch(answers)
        if len(result.rejects):
            raise AnswerError(result.rejects, result.n_read)
        return result.scores

    def fit_score(self, answers: pd.DataFrame) -> pd.DataFrame:
        """``fit(answers)`` then ``score(answers)``."""
        return self.fit(answers).score(answers)

    # -- explanation support ----------------------------------------------------------------
    def node_scores(self, encoded: EncodedAnswers) -> dict[str, pd.DataFrame]:
        """Item, indicator and dimension scores (0-100, instrument weights) of the valid rows."""
        self._check_fitted()
        items = encoded.scores[encoded.valid]
        indicators = _group_mean(
            items, self._item_weight, self._item_indicator, len(self._indicators)
        )
        dimensions = _group_mean(
            indicators, self._indicator_weight, self._indicator_dimension, len(self._dimensions)
        )
        return {
            "item": pd.DataFrame(100 * items, columns=self._items),
            "indicator": pd.DataFrame(100 * indicators, columns=self._indicators),
            "dimension": pd.DataFrame(100 * dimensions, columns=self._dimensions),
        }

    def node_weights(self) -> pd.DataFrame:
        """Every node's global share of the index under this model: item, indicator, dimension."""
        self._check_fitted()
        level_order = ["item", "indicator", "dimension"]
        at = level_order.index(self.weight_level)
        shares: dict[str, np.ndarray] = {self.weight_level: np.asarray(self.weights_, float)}
        # below the weight level: split a node's share by the instrument's weights
        if at >= 1:
            ind = (
                shares["indicator"]
                if at == 1
                else (
                    _within_parent(self._indicator_weight, self._indicator_dimension)
                    * shares["dimension"][self._indicator_dimension]
                )
            )
            shares["indicator"] = ind
            shares["item"] = (
                _within_parent(self._item_weight, self._item_indicator) * ind[self._item_indicator]
            )
        # above: sums of children
        if at == 0:
            shares["indicator"] = np.bincount(
                self._item_indicator, shares["item"], len(self._indicators)
            )
        if at <= 1:
            shares["dimension"] = np.bincount(
                self._indicator_dimension, shares["indicator"], len(self._dimensions)
            )
        codes = {"item": self._items, "indicator": self._indicators, "dimension": self._dimensions}
        return pd.DataFrame(
            [
                {"level": level, "code": code, "weight": float(w)}
                for level in level_order
                for code, w in zip(codes[level], shares[level])
            ]
        )

    # -- persistence ------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """The constructor parameters as JSON-able data, except the instrument (what a run's
        summary records as its method; :meth:`get_params` gives them as they were given)."""
        return {
            "weighting": self.weighting,
            "normalisation": self.normalisation,
            "aggregation": self.aggregation,
            "weight_level": self.weight_level,
            "ahp_matrix": None
            if self.ahp_matrix is None
            else np.asarray(self.ahp_matrix, dtype=float).tolist(),
            "bod_bounds": list(self.bod_bounds),
            "geometric_offset": self.geometric_offset,
            "target_quantile": self.target_quantile,
            # only a PCA model has them: other models' files (and method ids) stay as they were
            **(
                {"pca_retain": self.pca_retain, "pca_rotation": self.pca_rotation}
                if self.weighting == "pca"
                else {}
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as plain, versioned JSON-able data (format ``dmi-index-model/1``,
        schema :class:`~dmi.scoring.files.IndexModelFile`), with the dmi version writing it."""
        self._check_fitted()
        instrument = self.instrument_
        data = {
            "format": MODEL_FORMAT,
            "dmi_version": dmi_version(),
            "instrument": {
                "id": instrument.id,
                "version": instrument.version,
                "hash": instrument.hash,
            },
            "params": self.params(),
            "nodes": list(self.nodes_),
            "weights": [float(w) for w in self.weights_],
            "normaliser": self.normaliser_.to_dict(),
            "aggregation_stats": self._aggregation_stats,
            "output_scale": self.output_scale_,
            "bod_vertices": None if self.bod_vertices_ is None else self.bod_vertices_.tolist(),
            "bod_range": None
            if not hasattr(self, "_bod_range")
            else [np.asarray(a).tolist() for a in self._bod_range],
            "ahp": None
            if self.ahp_ is None
            else {"cr": float(self.ahp_.cr), "lambda_max": float(self.ahp_.lambda_max)},
            "fit_info": self.fit_info_,
        }
        if self.pca_ is not None:
            data["pca"] = _pca_dict(self.pca_)
        return data

    def save(self, path: str | Path) -> None:
        """Write the fitted model to a JSON file."""
        Path(path).write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8"
        )

    @classmethod
    def from_dict(
        cls,
        data: Any,
        instrument: Instrument | str | Path,
        *,
        source: str = "index model (in memory)",
    ) -> IndexModel:
        """Rebuild a fitted model from :meth:`to_dict` data, checking every field.

        Parameters
        ----------
        data : dict
            The decoded JSON.
        instrument : Instrument, str or path
            The instrument it was fitted for (same id, version and content hash).
        source : str
            How a message names the data (``"index model file model.json"``).

        Raises
        ------
        ModelFileError
            Naming ``source`` and the field: a missing field, a value of the wrong type or
            shape, an unknown format, parameters the model does not accept, or a model of
            another instrument.
        """
        doc = check(IndexModelFile, data, source)
        inst = _resolve_instrument(instrument)
        meta = doc.instrument
        if (meta.id, meta.version, meta.hash) != (inst.id, inst.version, inst.hash):
            raise ModelFileError(
                source,
                "instrument",
                f"this model was fitted for instrument {meta.id} version {meta.version} "
                f"(hash {meta.hash}), not {inst.id} version {inst.version} "
                f"(hash {inst.hash}): refit it",
            )
        # Built from the checked data itself, not from the schema's copy of it (which reads
        # every number as a float): the loaded model dumps the very values it was read from,
        # and method_id and reference versions are hashes of them.
        params = dict(data["params"])
        params["bod_bounds"] = tuple(params["bod_bounds"])
        model = cls(inst, **params)
        try:
            model._validate_params()
        except ParameterError as exc:
            raise ModelFileError(source, f"params.{exc.parameter}", str(exc)) from None
        model.instrument_ = inst
        model._structure(inst)
        if list(model.nodes_) != doc.nodes:
            raise ModelFileError(
                source,
                "nodes",
                f"expected the {model.weight_level} codes of {inst.id} "
                f"({', '.join(model.nodes_)}), got {', '.join(doc.nodes)}",
            )
        for field_, problem in model._learned_problems(doc):
            raise ModelFileError(source, field_, problem)
        model.weights_ = np.asarray(data["weights"], dtype=float)
        model.normaliser_ = Normaliser.from_dict(data["normaliser"])
        model._aggregation_stats = data["aggregation_stats"]
        model.output_scale_ = data["output_scale"]
        model.bod_vertices_ = (
            None if data["bod_vertices"] is None else np.asarray(data["bod_vertices"], dtype=float)
        )
        if data.get("bod_range") is not None:
            model._bod_range = tuple(np.asarray(a, dtype=float) for a in data["bod_range"])
        model.ahp_ = None
        if model.weighting == "ahp":
            model.ahp_ = weighting_methods.ahp(np.asarray(model.ahp_matrix, dtype=float))
        model.pca_ = (
            None if data.get("pca") is None else _pca_from_dict(data["pca"], model.weights_)
        )
        model._official = model._official_model(inst)
        model.fit_info_ = data["fit_info"]  # last: the model counts as fitted from here
        return model

    def _learned_problems(self, doc: IndexModelFile) -> list[tuple[str, str]]:
        """What a loaded model needs beyond the file's own rules, given the parameters and the
        instrument: (field, problem) for each thing missing."""
        problems = []
        if canonical_name(doc.normaliser.method) != canonical_name(self.normalisation):
            problems.append(
                (
                    "normaliser.method",
                    f"expected {canonical_name(self.normalisation)} "
                    f"(params.normalisation), got {doc.normaliser.method}",
                )
            )
        if self.weighting != "pca" and (
            doc.params.pca_retain is not None or doc.params.pca_rotation is not None
        ):
            problems.append(("params.pca_retain", "only a model with weighting 'pca' has it"))
        if self.weighting == "bod":
            if doc.bod_vertices is None:
                problems.append(("bod_vertices", "missing for weighting 'bod'"))
            if not bounded(self.normalisation) and doc.bod_range is None:
                problems.append(("bod_range", "missing for weighting 'bod' with zscore"))
        if self.aggregation == "mazziotta-pareto" and self.weighting != "bod":
            keys = ["index"] + [f"{level}:{p}" for level, _, n in self._parents() for p in range(n)]
            absent = [key for key in keys if key not in doc.aggregation_stats]
            if absent:
                problems.append(
                    ("aggregation_stats", f"missing {', '.join(absent)} for mazziotta-pareto")
                )
        if not bounded(self.normalisation) or self.aggregation == "mazziotta-pareto":
            names = [f"dim_{code}" for code in self._dimensions] + ["dmi"]
            absent = [name for name in names if name not in doc.output_scale]
            if absent:
                problems.append(("output_scale", f"missing {', '.join(absent)}"))
        return problems

    @classmethod
    def load(cls, path: str | Path, instrument: Instrument | str | Path) -> IndexModel:
        """Read a fitted model from a JSON file written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            No such file.
        ModelFileError
            The file is not a valid index model of ``instrument`` (see :meth:`from_dict`).
        """
        data, source = read_json(path, "index model")
        return cls.from_dict(data, instrument, source=source)


def _pca_dict(result: weighting_methods.PCAWeights) -> dict[str, Any]:
    """What a PCA fit found, as the model file keeps it (schema ``PCAPart``)."""
    return {
        "retain": result.retain,
        "kaiser_normalisation": bool(result.kaiser_normalisation),
        "n_factors": int(result.n_factors),
        "eigenvalues": [float(v) for v in result.eigenvalues],
        "explained_share": [float(v) for v in result.explained_share],
        "loadings": np.asarray(result.loadings, dtype=float).tolist(),
        "assigned_factor": [int(v) for v in result.assigned_factor],
        "criterion": float(result.criterion),
        "note": result.note,
    }


def _pca_from_dict(data: dict[str, Any], weights: np.ndarray) -> weighting_methods.PCAWeights:
    """:func:`_pca_dict` read back (the weights are the model's own)."""
    return weighting_methods.PCAWeights(
        weights=np.asarray(weights, dtype=float).copy(),
        eigenvalues=np.asarray(data["eigenvalues"], dtype=float),
        explained_share=np.asarray(data["explained_share"], dtype=float),
        loadings=np.asarray(data["loadings"], dtype=float),
        assigned_factor=np.asarray(data["assigned_factor"], dtype=int),
        n_factors=int(data["n_factors"]),
        note=data["note"],
        retain=data["retain"],
        kaiser_normalisation=bool(data["kaiser_normalisation"]),
        criterion=float(data["criterion"]),
    )


def _node_codes(instrument: Instrument, level: str) -> list[str]:
    """The codes of the nodes at ``level`` (``item``, ``indicator`` or ``dimension``)."""
    nodes = {
        "item": instrument.items,
        "indicator": instrument.indicators,
        "dimension": instrument.dimensions,
    }[level]
    return [node.code for node in nodes]


def _not_monotone_warning(found: list[tuple[str, str, float]]) -> str:
    """One sentence for the Mazziotta-Pareto steps that fall when an input rises."""
    found = sorted(found, key=lambda f: -f[2])
    shown = ", ".join(
        f"{child} (in {parent}, {100 * share:.1f}%)" for child, parent, share in found[:5]
    )
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return (
        "Mazziotta-Pareto is not monotone on this reference population: raising "
        f"{shown}{more} lowers the index for that share of the reference companies. An input "
        "with a small reference sd lies far above its mean when high, and the penalty for an "
        "unbalanced profile then outweighs the gain; improvement advice leaves such changes out"
    )


def _within_parent(weights: np.ndarray, parent_of: np.ndarray) -> np.ndarray:
    """Each child's share of its parent's total weight (equal shares when the total is 0)."""
    totals = np.bincount(parent_of, weights)
    counts = np.bincount(parent_of)
    out = np.empty(len(weights))
    for i, (w, p) in enumerate(zip(weights, parent_of)):
        out[i] = w / totals[p] if totals[p] > 0 else 1.0 / counts[p]
    return out


def _rows_of(X: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``X[mask]``, keeping a column-major matrix column-major (and uncopied when all rows are
    selected)."""
    if mask.all():
        return X
    return X.T[:, mask].T if X.flags.f_contiguous else X[mask]


def _extra_columns(instrument: Instrument, raw_columns: Iterable[str] = ()) -> list[str]:
    """The columns after ``level`` that only some instruments have: the index on the levels'
    own scale (``score``, e.g. 0-12), the level flags, and the value of each derived item
    whose raw columns are among ``raw_columns``."""
    columns = ["score"] if instrument.levels.scale != 100.0 else []
    columns += [flag.code for flag in instrument.levels.flags]
    given = instrument.derived_items_given(raw_columns)
    return columns + [f"derived_{item.code}" for item in given]


def _add_extra_columns(
    out: dict[str, Any], instrument: Instrument, official: np.ndarray, encoded: EncodedAnswers
) -> None:
    """Add :func:`_extra_columns` of the valid rows to ``out`` (flags from the official index)."""
    levels = instrument.levels
    if levels.scale != 100.0:
        # the official index on the levels' scale: 4 of 12 points is 4, not 3.99999999996
        out["score"] = np.round(np.asarray(official, dtype=float) * levels.scale / 100.0, 6)
    out.update(assign_flags(instrument, official))
    for item in instrument.derived_items:
        values = encoded.derived.get(item.code)
        if values is not None:  # only the items whose raw columns the answers had
            out[f"derived_{item.code}"] = values[encoded.valid]


def _group_mean(X: np.ndarray, w: np.ndarray, parent_of: np.ndarray, n_parents: int) -> np.ndarray:
    """Weighted arithmetic mean of the children of each parent (NaN children skipped)."""
    out = np.empty((X.shape[0], n_parents), order="F")
    columns = X.T  # views of the children's columns: nothing is copied
    for p in range(n_parents):
        children = np.flatnonzero(parent_of == p)
        weights = w[children]
        if weights.sum() <= 0:
            weights = np.ones(len(children))
        out[:, p] = arithmetic_of_columns((columns[c] for c in children), weights, X.shape[0])
    return out

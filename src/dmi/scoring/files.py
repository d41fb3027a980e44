"""The index model file (``dmi-index-model/1``): its schema, written by
:meth:`dmi.IndexModel.save` and checked by :meth:`dmi.IndexModel.load` before anything is built.

The method's parameters are checked by the estimator itself (its ``_parameter_constraints``);
what depends on the instrument (the nodes, the aggregation statistics of each parent) is checked
when the model is rebuilt against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dmi.io.modelfile import ModelFile, Part, is_number, shown

__all__ = ["MODEL_FORMAT", "IndexModelFile"]

MODEL_FORMAT = "dmi-index-model/1"

# the parameters each normalisation learns per node (see dmi.scoring.normalise)
_NORMALISER_KEYS = {
    "goalposts": (),
    "minmax": ("min", "max"),
    "zscore": ("mean", "sd"),
    "percentile": ("values", "counts"),
    "target": ("target",),
}


class InstrumentRef(Part):
    """The instrument a model was fitted for."""

    id: str
    version: str
    hash: str


class IndexParams(Part):
    """The constructor parameters, except the instrument."""

    weighting: str
    normalisation: str
    aggregation: str
    weight_level: str
    ahp_matrix: list[list[float]] | None
    bod_bounds: list[float]
    geometric_offset: float
    target_quantile: float
    # a PCA model's retention rule and rotation (absent in other models and in earlier files)
    pca_retain: str | int | None = None
    pca_rotation: str | None = None


class NormaliserPart(Part):
    """A fitted :class:`~dmi.scoring.normalise.Normaliser`."""

    method: str
    target_quantile: float
    params: list[dict[str, Any]]  # per node; the keys and values depend on the method


class MazziottaParetoStats(Part):
    """Reference mean and standard deviation of the children of one parent."""

    mean: list[float]
    sd: list[float]


class PCAPart(Part):
    """What a PCA fit found (:class:`dmi.scoring.weighting.PCAWeights`)."""

    retain: str | int
    kaiser_normalisation: bool
    n_factors: int
    eigenvalues: list[float]
    explained_share: list[float]
    loadings: list[list[float]]
    assigned_factor: list[int]
    criterion: float
    note: str


class AHPPart(Part):
    cr: float
    lambda_max: float


class FitInfo(Part):
    rows: int
    rows_rejected: int
    rows_used: int
    data_hash: str | None
    notes: list[str]
    warnings: list[str] = []  # a method that misbehaves on this population (files before: none)


class IndexModelFile(ModelFile):
    """A fitted :class:`~dmi.IndexModel`."""

    FORMAT = MODEL_FORMAT
    KIND = "index model"

    instrument: InstrumentRef
    params: IndexParams
    nodes: list[str]
    weights: list[float]
    normaliser: NormaliserPart
    aggregation_stats: dict[str, MazziottaParetoStats]
    output_scale: dict[str, list[float]]
    bod_vertices: list[list[float]] | None
    bod_range: list[list[float]] | None = None  # absent in files of the first releases
    ahp: AHPPart | None
    pca: PCAPart | None = None  # a PCA model's factors (absent in earlier files)
    fit_info: FitInfo

    def problems(self) -> Iterator[tuple[str, str]]:
        """(field, problem) for what the types alone do not catch: lengths and shapes."""
        k = len(self.nodes)
        if len(self.weights) != k:
            yield "weights", f"expected {k} weights (one per node), got {len(self.weights)}"
        if len(self.params.bod_bounds) != 2:
            yield "params.bod_bounds", f"expected [lower, upper], got {self.params.bod_bounds}"
        normaliser = self.normaliser
        if len(normaliser.params) != k:
            yield (
                "normaliser.params",
                f"expected {k} entries (one per node), got {len(normaliser.params)}",
            )
        keys = _NORMALISER_KEYS.get(normaliser.method)
        if keys is None:
            yield "normaliser.method", f"expected one of {', '.join(_NORMALISER_KEYS)}"
        else:
            for j, entry in enumerate(normaliser.params):
                if sorted(entry) != sorted(keys):
                    yield (
                        f"normaliser.params[{j}]",
                        f"expected the keys {', '.join(keys) or '(none)'} of "
                        f"{normaliser.method}, got {', '.join(entry) or '(none)'}",
                    )
                    return
                yield from _entry_problems(entry, f"normaliser.params[{j}]")
                target = entry.get("target")
                if normaliser.method == "target" and is_number(target) and not target > 0:
                    yield (
                        f"normaliser.params[{j}].target",
                        f"expected a target above 0, got {shown(target)} (a target of 0 gave "
                        "every company full marks on this node): refit the model",
                    )
        for name, stats in self.aggregation_stats.items():
            if len(stats.mean) != len(stats.sd):
                yield f"aggregation_stats.{name}", "mean and sd differ in length"
        for name, bounds in self.output_scale.items():
            if len(bounds) != 2:
                yield f"output_scale.{name}", f"expected [low, high], got {len(bounds)} values"
        if self.bod_vertices is not None and any(len(v) != k for v in self.bod_vertices):
            yield "bod_vertices", f"expected vertices of {k} weights (one per node)"
        if self.pca is not None:
            pca = self.pca
            if len(pca.loadings) != k or any(len(row) != pca.n_factors for row in pca.loadings):
                yield "pca.loadings", f"expected {k} rows of {pca.n_factors} loadings"
            elif len(pca.explained_share) != pca.n_factors or len(pca.assigned_factor) != k:
                yield "pca", f"expected {pca.n_factors} shares and {k} assigned factors"
            elif any(not 0 <= f < pca.n_factors for f in pca.assigned_factor):
                yield "pca.assigned_factor", f"expected factors 0 to {pca.n_factors - 1}"
        if self.bod_range is not None and (
            len(self.bod_range) != 2 or any(len(v) != k for v in self.bod_range)
        ):
            yield "bod_range", f"expected [low, high], each of {k} values"


def _entry_problems(entry: dict[str, Any], where: str) -> Iterator[tuple[str, str]]:
    """One node's normalisation parameters: numbers, or (percentile) the reference's distinct
    values, increasing, and how many times each occurs."""
    if "values" not in entry:
        for key, value in entry.items():
            if not is_number(value):
                yield f"{where}.{key}", f"expected a number, got {shown(value)}"
        return
    values, counts = entry["values"], entry["counts"]
    if not (isinstance(values, list) and all(is_number(v) for v in values)):
        yield f"{where}.values", f"expected a list of numbers, got {shown(values)}"
    elif not (
        isinstance(counts, list)
        and all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in counts)
    ):
        yield f"{where}.counts", f"expected a list of whole numbers above 0, got {shown(counts)}"
    elif len(values) != len(counts):
        yield where, f"{len(values)} values but {len(counts)} counts"
    elif any(b <= a for a, b in zip(values, values[1:])):
        yield f"{where}.values", "expected increasing values"

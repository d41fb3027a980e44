"""The method file: one YAML file that describes a whole analysis, so that a reader reruns it.

Every field has a default; an empty file (or none) is the default analysis. A field that is
wrong is named with the file (``method.yaml, field uncertainty.runs: ...``), as every file dmi
reads. Paths in the file (an instrument, a reference population, AHP judgements, a tier model)
are relative to the file's folder. The method's settings (AHP judgements, ``pca``,
``bod_bounds``, ``geometric_offset``, ``target_quantile``) reach every part of the analysis
alike through :meth:`Method.settings`: the nominal index, the schemes side by side and every
uncertainty run.

.. code-block:: yaml

    format: dmi-analysis-method/1
    instrument: miit-2024-manufacturing     # a shipped name or a YAML path
    reference: input                        # input (the companies analysed) or a file
    level: indicator                        # the weight level: item | indicator | dimension
    nominal: {weighting: instrument, normalisation: goalposts, aggregation: arithmetic}
    pca: {retain: kaiser+10%, rotation: varimax}   # or cumulative-60% or a number; varimax-kaiser
    bod_bounds: [0.0, 1.0]                  # benefit of the doubt: bounds on each weight's share
    geometric_offset: 0.01                  # c of geometric aggregation
    target_quantile: 0.9                    # target normalisation: the reference quantile,
                                            # 0 < q <= 1 (1: the reference maximum)
    ahp:                                    # pairwise judgements of the nodes at `level`
      judgements: [[foundation, management, 3], [management, performance, "1/2"], ...]
    tiers: shipped                          # shipped | none | a tier model JSON
    treatment: {coverage_min: 0.65, outliers: none, imputation: none}  # group-mean/-median:
                                            # group_by: a profile field (sector, region ...),
                                            # given with those two only
    reliability: {alpha_min: 0.7, item_total_min: 0.3, ci: 0.95}
    comparison: {schemes: [instrument, equal, entropy, critic, pca, ahp, bod]}
    uncertainty:
      normalisations: [goalposts, minmax, zscore, percentile]
      weightings: [instrument, equal, entropy, critic, pca, bod]
      aggregations: [arithmetic, geometric, mazziotta-pareto]
      perturbation: 0.25
      runs: 1000                            # at most 1,000,000, and what fits in half the
                                            # machine's memory (12 bytes per company and run)
      seed: 0
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from dmi.analysis.schemes import MethodSettings
from dmi.errors import MissingFileError, ModelFileError, UsageError
from dmi.scoring.aggregate import AGGREGATIONS
from dmi.scoring.model import WEIGHTINGS
from dmi.scoring.normalise import NORMALISATIONS, canonical_name
from dmi.scoring.weighting import PCA_RETAIN, check_pca_retain, read_pairwise_file
from dmi.yamlfile import load_unique

__all__ = [
    "METHOD_FORMAT",
    "Method",
    "load_method",
    "read_ahp_matrix",
]

METHOD_FORMAT = "dmi-analysis-method/1"

Weighting = Literal["instrument", "equal", "entropy", "critic", "pca", "ahp", "bod"]
Aggregation = Literal["arithmetic", "geometric", "mazziotta-pareto"]
Level = Literal["item", "indicator", "dimension"]
assert set(Weighting.__args__) == set(WEIGHTINGS)  # type: ignore[attr-defined]
assert set(Aggregation.__args__) == set(AGGREGATIONS)  # type: ignore[attr-defined]


def _normalisation(value: Any) -> str:
    try:
        return canonical_name(str(value))
    except ValueError:
        raise ValueError(
            f"expected one of {', '.join(NORMALISATIONS)} (or rank), got {value!r}"
        ) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NominalMethod(_Strict):
    """The method the others are compared with (default: the instrument's own)."""

    weighting: Weighting = "instrument"
    normalisation: str = "goalposts"
    aggregation: Aggregation = "arithmetic"

    _check_normalisation = field_validator("normalisation", mode="before")(_normalisation)


class AHPSettings(_Strict):
    """Pairwise judgements: ``judgements`` inline, or ``file`` (YAML judgements or a CSV
    matrix with node codes as header and first column); values may be written ``1/3``."""

    judgements: list[tuple[str, str, float | str]] | None = None
    file: str | None = None


class PCASettings(_Strict):
    """The PCA weighting's factor retention and rotation (as :class:`dmi.IndexModel`'s
    ``pca_retain`` and ``pca_rotation``): ``kaiser+10%`` keeps every factor with eigenvalue > 1
    and at least 10 % of the variance (the OECD/JRC Handbook's worked example, the default),
    ``cumulative-60%`` stops once 60 % is explained, a number keeps that many factors."""

    retain: str | int = "kaiser+10%"
    rotation: Literal["varimax", "varimax-kaiser"] = "varimax"

    @field_validator("retain", mode="before")
    @classmethod
    def _retain(cls, value: Any) -> Any:
        try:
            return check_pca_retain(value)
        except ValueError:
            raise ValueError(
                f"expected {', '.join(PCA_RETAIN)} or a whole number of factors (1 or more), "
                f"got {value!r}"
            ) from None


class TreatmentSettings(_Strict):
    """Coverage, outliers and imputation (:func:`dmi.analysis.treat`). A ``group-*``
    imputation needs ``group_by``, the profile field it groups by (checked against the answers'
    profile fields when the analysis runs); ``group_by`` with any other imputation (``none``,
    ``mean``, ``median``) is refused, never ignored."""

    coverage_min: float = Field(0.65, gt=0, le=1)
    outliers: Literal["none", "winsorise", "log", "winsorise-then-log"] = "none"
    max_points: int = Field(5, ge=0)
    skew_max: float = Field(2.0, gt=0)
    kurtosis_max: float = 3.5
    imputation: Literal["none", "mean", "median", "group-mean", "group-median"] = "none"
    group_by: str | None = Field(None, validate_default=True)

    @field_validator("group_by")
    @classmethod
    def _group(cls, value: str | None, info: ValidationInfo) -> str | None:
        imputation = info.data.get("imputation", "none")
        if str(imputation).startswith("group") and not value:
            raise ValueError(
                f"imputation {imputation} groups the companies by a profile field: expected "
                "one such as sector, size_class or region, got none"
            )
        if value and not str(imputation).startswith("group"):
            # it was ignored: the cells were imputed over everyone though groups were asked for
            raise ValueError(
                f"a group applies to a group imputation only: expected imputation group-mean "
                f"or group-median with group_by {value!r} (or no group_by), got imputation "
                f"{imputation}"
            )
        return value


class ReliabilitySettings(_Strict):
    alpha_min: float = Field(0.7, ge=0, le=1)
    item_total_min: float = Field(0.3, ge=-1, le=1)
    ci: float = Field(0.95, gt=0, lt=1)


class ComparisonSettings(_Strict):
    schemes: list[Weighting] = Field(default_factory=lambda: list(WEIGHTINGS), min_length=1)


class UncertaintySettings(_Strict):
    normalisations: list[str] = Field(
        default_factory=lambda: ["goalposts", "minmax", "zscore", "percentile"], min_length=1
    )
    weightings: list[Weighting] = Field(
        default_factory=lambda: ["instrument", "equal", "entropy", "critic", "pca", "bod"],
        min_length=1,
    )
    aggregations: list[Aggregation] = Field(
        default_factory=lambda: list(AGGREGATIONS), min_length=1
    )
    perturbation: float = Field(0.25, ge=0, lt=1)
    runs: int = Field(1000, ge=1, le=1_000_000)
    seed: int = Field(0, ge=0)
    resamples: int = Field(100, ge=10)

    @field_validator("normalisations", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_normalisation(v) for v in value]
        return value


class EffectiveSettings(_Strict):
    bins: int = Field(20, ge=2)


class Method(_Strict):
    """A whole analysis: what is analysed and how (see the module docstring)."""

    format: Literal["dmi-analysis-method/1"] = METHOD_FORMAT
    instrument: str | None = None
    reference: str = "input"
    level: Level = "indicator"
    nominal: NominalMethod = NominalMethod()
    ahp: AHPSettings | None = None
    pca: PCASettings = PCASettings()
    bod_bounds: tuple[float, float] = (0.0, 1.0)
    geometric_offset: float = Field(0.01, ge=0)
    target_quantile: float = Field(0.9, gt=0, le=1)
    tiers: str = "shipped"
    treatment: TreatmentSettings = TreatmentSettings()
    reliability: ReliabilitySettings = ReliabilitySettings()
    comparison: ComparisonSettings = ComparisonSettings()
    uncertainty: UncertaintySettings = UncertaintySettings()
    effective: EffectiveSettings = EffectiveSettings()

    def settings(self, ahp_matrix: Any = None) -> MethodSettings:
        """The method's settings beside its weighting, normalisation and aggregation, as every
        part of the analysis scores with them.

        Parameters
        ----------
        ahp_matrix : array-like of shape (k, k), optional
            The pairwise matrix read from the method's ``ahp`` judgements (or a file that
            overrides them): :func:`ahp_matrix`.
        """
        return MethodSettings(
            ahp_matrix=ahp_matrix,
            bod_bounds=tuple(self.bod_bounds),
            geometric_offset=self.geometric_offset,
            target_quantile=self.target_quantile,
            pca_retain=self.pca.retain,
            pca_rotation=self.pca.rotation,
        )

    @field_validator("bod_bounds")
    @classmethod
    def _bounds(cls, value: tuple[float, float]) -> tuple[float, float]:
        lower, upper = value
        if not 0 <= lower <= upper <= 1:
            raise ValueError(
                "expected [lower, upper], the bounds of each dimension's share of the "
                f"weights, with 0 <= lower <= upper <= 1, got [{lower:g}, {upper:g}]"
            )
        return value

    def to_yaml(self) -> str:
        """The method as YAML (every field, defaults included): what a reader reruns."""
        return yaml.safe_dump(
            self.model_dump(mode="json"), allow_unicode=True, sort_keys=False, width=100
        )


def _field(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def method_from_dict(data: Any, source: str) -> Method:
    """Validate a method's data; a problem names ``source`` and the field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ModelFileError(
            source, "", f"expected a mapping of settings, got {type(data).__name__}"
        )
    try:
        return Method.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        problem = first["msg"].removeprefix("Value error, ")
        if first.get("type") == "extra_forbidden":
            problem = "unknown setting"
        elif first.get("type") != "value_error" and "input" in first:
            problem += f", got {first['input']!r}"
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ModelFileError(source, _field(first["loc"]), problem + more) from None


def load_method(path: str | Path | None) -> tuple[Method, dict[str, Any]]:
    """Read a method file (None: the default method).

    Returns
    -------
    (Method, dict)
        The method and what identifies the file: ``path``, ``sha256`` (of its bytes; None for
        the default method).
    """
    if path is None:
        return Method(), {"path": None, "sha256": None}
    file = Path(path)
    if not file.is_file():
        raise MissingFileError(f"no such method file: {path}")
    raw = file.read_bytes()
    try:
        data = load_unique(raw.decode("utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(str(path), "", f"not a valid YAML file ({reason})") from None
    method = method_from_dict(data, str(path))
    return method, {"path": str(path), "sha256": hashlib.sha256(raw).hexdigest()}


def resolve(path: str, base: str | Path | None) -> str:
    """A path of the method file, relative to the file's folder."""
    candidate = Path(path)
    if base is None or candidate.is_absolute():
        return str(candidate)
    return str(Path(base).parent / candidate)


# -- AHP judgements ------------------------------------------------------------------------------


def _number(value: Any, where: str) -> float:
    try:
        number = float(Fraction(str(value).strip())) if isinstance(value, str) else float(value)
    except (ValueError, ZeroDivisionError, TypeError):
        raise UsageError(
            f"{where}: expected a positive number such as 3 or 1/3, got {value!r}"
        ) from None
    if not (np.isfinite(number) and number > 0):
        raise UsageError(f"{where}: expected a positive number such as 3 or 1/3, got {value!r}")
    return number


def ahp_matrix_from_judgements(
    nodes: list[str], judgements: list[tuple[str, str, Any]], source: str
) -> np.ndarray:
    """The pairwise matrix of ``[a, b, value]`` judgements (``a`` is ``value`` times as
    important as ``b``); every pair of ``nodes`` must be judged once."""
    index = {code: i for i, code in enumerate(nodes)}
    n = len(nodes)
    matrix = np.eye(n)
    seen: dict[tuple[int, int], int] = {}
    for number, entry in enumerate(judgements, start=1):
        if not isinstance(entry, (list, tuple)) or len(entry) != 3:
            raise UsageError(f"{source}: judgement {number}: expected [a, b, value], got {entry!r}")
        a, b, value = entry
        for code in (a, b):
            if str(code) not in index:
                raise UsageError(
                    f"{source}: judgement {number} names {code!r}, which is not one of "
                    f"{', '.join(nodes)}"
                )
        i, j = index[str(a)], index[str(b)]
        v = _number(value, f"{source}: judgement {number} ({a}, {b})")
        if i == j:
            continue
        pair = (min(i, j), max(i, j))
        if pair in seen:
            raise UsageError(
                f"{source}: the pair ({a}, {b}) is judged twice (judgements {seen[pair]} and "
                f"{number})"
            )
        seen[pair] = number
        matrix[i, j], matrix[j, i] = v, 1.0 / v
    missing = [
        f"({nodes[i]}, {nodes[j]})" for i in range(n) for j in range(i + 1, n) if (i, j) not in seen
    ]
    if missing:
        raise UsageError(
            f"{source}: {len(missing)} pairs are not judged: {', '.join(missing[:6])}"
            + (" ..." if len(missing) > 6 else "")
        )
    return matrix


def read_ahp_matrix(path: str | Path, nodes: list[str]) -> np.ndarray:
    """A pairwise matrix from a file: YAML ``judgements: [[a, b, value], ...]``, or a CSV matrix
    with the node codes as header and first column (cells may be written ``1/3`` or ``0.333``,
    the smaller of a pair left blank): the one reader of ``dmi weights --method ahp:FILE``
    (:func:`dmi.scoring.weighting.read_pairwise_file`)."""
    return read_pairwise_file(path, list(nodes))


def ahp_matrix(method: Method, nodes: list[str], method_path: str | None) -> np.ndarray | None:
    """The method's AHP matrix over ``nodes`` (None when it gives no judgements)."""
    if method.ahp is None:
        return None
    if method.ahp.file:
        return read_ahp_matrix(resolve(method.ahp.file, method_path), nodes)
    if method.ahp.judgements:
        return ahp_matrix_from_judgements(
            nodes, [list(j) for j in method.ahp.judgements], f"{method_path or 'method'}: ahp"
        )
    return None

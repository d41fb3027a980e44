"""Normalisation of indicator scores (OECD/JRC Handbook, step 5).

Every method works on a matrix of scores in [0, 1] (one column per indicator, NaN where an
indicator is excluded), learns what it needs from a reference population in ``fit`` and applies it
column by column in ``transform``, so one row transforms exactly as it would inside any batch.

| name | fitted on the reference | value |
|---|---|---|
| ``goalposts`` | nothing (the instrument's own 0 and maximum points) | x |
| ``minmax`` | min and max | (x - min) / (max - min), clipped to [0, 1] |
| ``zscore`` | mean and sd (ddof=1) | (x - mean) / sd (unbounded) |
| ``percentile`` (``rank``) | the distribution | share of the reference below x, ties half |
| ``target`` | a quantile of the reference (default 0.9) | min(x / target, 1) |

``target`` is undefined at a quantile of 0 (most of the reference has no points: every company
would get full marks). The target of such a column is the reference's maximum instead (the
OECD/JRC Handbook's distance to the leader); a column that is 0 for every reference company
keeps its own score (the instrument's maximum is the target), as ``minmax`` keeps a constant
column. :attr:`Normaliser.fallbacks_` lists those columns, for the fit's notes.

``percentile`` counts values equal to 9 decimals as ties (:mod:`dmi.scoring.ranks`), so two equal
scores reached through different floating-point sums get the same percentile.

A column that is constant on the reference carries no information about differences: ``minmax``
and ``zscore`` then return the goalposts value x (and 0 for ``zscore``), said once here rather than
producing NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dmi.errors import DataError, UsageError
from dmi.scoring.ranks import distribution, share_below

__all__ = ["NORMALISATIONS", "Normaliser", "bounded", "make_normaliser"]

NORMALISATIONS = ("goalposts", "minmax", "zscore", "percentile", "target")
_ALIASES = {"rank": "percentile", "min-max": "minmax", "z-score": "zscore", "distance": "target"}


def canonical_name(name: str) -> str:
    """The canonical name of a normalisation method (aliases resolved)."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in NORMALISATIONS:
        raise UsageError(
            f"unknown normalisation {name!r}; expected one of {', '.join(NORMALISATIONS)} (or rank)"
        )
    return key


def bounded(name: str) -> bool:
    """True when the method's values lie in [0, 1] (every method except ``zscore``)."""
    return canonical_name(name) != "zscore"


class Normaliser:
    """Fit-then-transform normalisation of a score matrix, column by column.

    Parameters
    ----------
    method
        One of ``goalposts``, ``minmax``, ``zscore``, ``percentile`` (``rank``), ``target``.
    target_quantile
        For ``target``: the reference quantile taken as the target (0.9 = the top decile's edge).

    Attributes
    ----------
    params_ : list of dict
        Per column, what the method learned (``target``: ``{"target": t}``, t > 0).
    fallbacks_ : list of dict
        ``target`` only: the columns whose reference quantile is 0, each
        ``{"column": j, "quantile_value": 0.0, "target": t, "rule": "maximum" | "goalposts"}``
        (``maximum``: the reference maximum is the target; ``goalposts``: the column is 0 for
        every reference company and keeps its own score).
    """

    def __init__(self, method: str = "goalposts", target_quantile: float = 0.9):
        self.method = method
        self.target_quantile = target_quantile

    def fit(self, X: np.ndarray) -> Normaliser:
        """Learn the method's parameters from reference scores ``X`` (n_units, n_columns)."""
        X = np.asarray(X, dtype=float)
        method = canonical_name(self.method)
        if not 0 < self.target_quantile <= 1:
            raise UsageError(f"target_quantile must be in (0, 1], got {self.target_quantile}")
        self.method_ = method
        self.n_columns_ = X.shape[1]
        self.params_: list[dict[str, Any]] = []
        self.fallbacks_: list[dict[str, Any]] = []
        for j in range(X.shape[1]):
            column = X[:, j]
            column = column[~np.isnan(column)]
            if method != "goalposts" and len(column) == 0:
                raise UsageError(f"column {j} has no values in the reference population")
            if method != "target":
                self.params_.append(self._fit_column(method, column))
                continue
            target, rule = self._target(column)
            self.params_.append({"target": target})
            if rule is not None:
                self.fallbacks_.append(
                    {"column": j, "quantile_value": 0.0, "target": target, "rule": rule}
                )
        return self

    def _fit_column(self, method: str, column: np.ndarray) -> dict[str, Any]:
        if method == "goalposts":
            return {}
        if method == "minmax":
            return {"min": float(column.min()), "max": float(column.max())}
        if method == "zscore":
            sd = float(column.std(ddof=1)) if len(column) > 1 else 0.0
            return {"mean": float(column.mean()), "sd": sd}
        if method == "percentile":
            values, counts = distribution(column)
            return {"values": values.tolist(), "counts": counts.tolist()}
        raise AssertionError(f"unknown normalisation {method!r}")  # target: see _target

    def _target(self, column: np.ndarray) -> tuple[float, str | None]:
        """The target of one reference column and the rule that set it: None (the quantile),
        ``"maximum"`` or ``"goalposts"`` when the quantile is 0 and ``min(x / q, 1)`` would
        give every company full marks."""
        target = float(np.quantile(column, self.target_quantile))
        if target > 0:
            return target, None
        top = float(column.max())
        if top > 0:
            return top, "maximum"  # the leader of the reference (the Handbook's reference)
        return 1.0, "goalposts"  # nobody has points: x itself, as minmax keeps a constant column

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Normalise ``X`` column by column with the fitted parameters (NaN stays NaN)."""
        X = np.asarray(X, dtype=float)
        if X.shape[1] != self.n_columns_:
            raise ValueError(f"expected {self.n_columns_} columns, got {X.shape[1]}")
        out = np.empty_like(X)
        for j, params in enumerate(self.params_):
            out[:, j] = self._transform_column(X[:, j], params)
        return out

    def _transform_column(self, x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
        method = self.method_
        if method == "goalposts":
            return x.copy()
        if method == "minmax":
            span = p["max"] - p["min"]
            if span <= 0:
                return x.copy()
            return np.clip((x - p["min"]) / span, 0.0, 1.0)
        if method == "zscore":
            if p["sd"] <= 0:
                return np.where(np.isnan(x), np.nan, 0.0)
            return (x - p["mean"]) / p["sd"]
        if method == "percentile":
            return share_below(p["values"], p["counts"], x)
        target = p["target"]
        if not target > 0:  # never fitted so; a model file with it is refused on load
            raise DataError(f"target normalisation: expected a target above 0, got {target}")
        return np.minimum(x / target, 1.0)

    def to_dict(self) -> dict[str, Any]:
        """The fitted normaliser as plain JSON-able data."""
        return {
            "method": self.method_,
            "target_quantile": self.target_quantile,
            "params": self.params_,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normaliser:
        """Rebuild a fitted normaliser from :meth:`to_dict` output."""
        normaliser = cls(data["method"], data.get("target_quantile", 0.9))
        normaliser.method_ = canonical_name(data["method"])
        normaliser.params_ = list(data["params"])
        normaliser.n_columns_ = len(normaliser.params_)
        return normaliser


def make_normaliser(method: str, **kwargs: Any) -> Normaliser:
    """A new :class:`Normaliser` for ``method`` (validated now rather than at fit)."""
    canonical_name(method)
    return Normaliser(method, **kwargs)

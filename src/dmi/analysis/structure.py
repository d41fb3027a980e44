"""What every analysis works on: the instrument's hierarchy as arrays, and a population's item
scores (the valid rows of an answers table, with which answers were really given).

A statistic that cannot be computed on the data it was given (too few respondents, a constant
item, an all-missing column) raises :class:`NotComputable` with the reason; the per-dimension
tables and the report catch it and show the reason in place of the value, never a bare NaN.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from dmi.errors import NotComputable, ParameterError
from dmi.instruments import Instrument
from dmi.scoring.aggregate import arithmetic
from dmi.scoring.answers import encode_answers

__all__ = ["LEVELS", "Hierarchy", "NotComputable", "Population", "varies"]

LEVELS = ("item", "indicator", "dimension")


def varies(values: np.ndarray, axis: int | None = None) -> np.ndarray | bool:
    """Whether the values (no NaN) are not all equal, along ``axis``.

    Compared exactly (maximum above minimum), not by a standard deviation above 0: the mean of
    n equal values can differ from them in the last bit, leaving a standard deviation of about
    1e-17 for a constant column (twenty companies with the same answers), which then passed for
    one that varies and gave statistics of rounding noise and NumPy's and SciPy's warnings.
    """
    values = np.asarray(values)
    if values.size == 0:
        return False if axis is None else np.zeros(values.shape[1 - axis], dtype=bool)
    if axis is None:
        return bool(values.max() > values.min())
    return values.max(axis=axis) > values.min(axis=axis)


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """An instrument's items, indicators and dimensions as codes, parent maps and weights.

    Attributes
    ----------
    items, indicators, dimensions : tuple of str
        Codes in file order.
    item_indicator : ndarray of shape (n_items,)
        Index (into ``indicators``) of each item's indicator.
    indicator_dimension : ndarray of shape (n_indicators,)
        Index (into ``dimensions``) of each indicator's dimension.
    item_weight, indicator_weight, dimension_weight : ndarray
        The instrument's own weights (each within its parent; the dimension weights in the
        index), as :class:`~dmi.instruments.Instrument` gives them.
    """

    items: tuple[str, ...]
    indicators: tuple[str, ...]
    dimensions: tuple[str, ...]
    item_indicator: np.ndarray
    indicator_dimension: np.ndarray
    item_weight: np.ndarray
    indicator_weight: np.ndarray
    dimension_weight: np.ndarray

    @classmethod
    def from_instrument(cls, instrument: Instrument) -> Hierarchy:
        indicators = [i.code for i in instrument.indicators]
        dimensions = [d.code for d in instrument.dimensions]
        return cls(
            items=tuple(i.code for i in instrument.items),
            indicators=tuple(indicators),
            dimensions=tuple(dimensions),
            item_indicator=np.array(
                [indicators.index(p.indicator.code) for p in instrument.item_paths], dtype=int
            ),
            indicator_dimension=np.array(
                [dimensions.index(d.code) for d in instrument.dimensions for _ in d.indicators],
                dtype=int,
            ),
            item_weight=np.array([instrument.item_weight(i) for i in instrument.items]),
            indicator_weight=np.array(
                [instrument.indicator_weight(i) for i in instrument.indicators]
            ),
            dimension_weight=np.array(
                [instrument.dimension_weight(d) for d in instrument.dimensions]
            ),
        )

    def codes(self, level: str) -> tuple[str, ...]:
        """The node codes of ``level`` (``item``, ``indicator`` or ``dimension``)."""
        return {"item": self.items, "indicator": self.indicators, "dimension": self.dimensions}[
            _check_level(level)
        ]

    def parent_map(self, level: str) -> np.ndarray | None:
        """Index of each node's parent one level up (None for dimensions: their parent is the
        index)."""
        return {"item": self.item_indicator, "indicator": self.indicator_dimension}.get(
            _check_level(level)
        )

    def own_weights(self, level: str) -> np.ndarray:
        """The instrument's weights of the nodes of ``level`` (within their parents)."""
        return {
            "item": self.item_weight,
            "indicator": self.indicator_weight,
            "dimension": self.dimension_weight,
        }[_check_level(level)]

    def steps_above(self, level: str) -> list[tuple[str, np.ndarray, int]]:
        """The aggregation steps from ``level`` up to the dimensions: ``(parent level, child ->
        parent map, number of parents)``; empty at the dimension level."""
        steps = []
        if level == "item":
            steps.append(("indicator", self.item_indicator, len(self.indicators)))
        if level in ("item", "indicator"):
            steps.append(("dimension", self.indicator_dimension, len(self.dimensions)))
        return steps

    def dimension_of(self, level: str) -> np.ndarray:
        """Index of each node's dimension."""
        if level == "dimension":
            return np.arange(len(self.dimensions))
        if level == "indicator":
            return self.indicator_dimension
        return self.indicator_dimension[self.item_indicator]

    def nodes(self, item_scores: np.ndarray, level: str) -> np.ndarray:
        """Scores of the nodes of ``level`` from item scores (0-1), combined with the
        instrument's weights by weighted arithmetic means, missing items left out: the engine's
        rule below the weight level (:class:`dmi.IndexModel`)."""
        values = np.asarray(item_scores, dtype=float)
        if _check_level(level) == "item":
            return values
        values = _group_mean(values, self.item_weight, self.item_indicator, len(self.indicators))
        if level == "indicator":
            return values
        return _group_mean(
            values, self.indicator_weight, self.indicator_dimension, len(self.dimensions)
        )


def _check_level(level: str) -> str:
    if level not in LEVELS:
        raise ParameterError(
            f"level: expected one of {', '.join(LEVELS)}, got {level!r}", parameter="level"
        )
    return level


def _group_mean(X: np.ndarray, w: np.ndarray, parent_of: np.ndarray, n_parents: int) -> np.ndarray:
    out = np.empty((X.shape[0], n_parents))
    for p in range(n_parents):
        children = np.flatnonzero(parent_of == p)
        weights = w[children]
        if weights.sum() <= 0:  # a parent whose children all weigh 0: equal shares
            weights = np.ones(len(children))
        out[:, p] = arithmetic(X[:, children], weights)
    return out


@dataclass(eq=False)
class Population:
    """The valid rows of an answers table, scored item by item.

    Attributes
    ----------
    instrument : Instrument
    respondent_id : ndarray of str
    item_scores : ndarray of shape (n, n_items)
        Item scores in [0, 1]; NaN where an answer is missing under the ``exclude`` policy.
    answered : ndarray of bool, shape (n, n_items)
        True where the answer was given (a missing answer scored as lowest is False here).
    scenario_levels : ndarray of shape (n, n_scenarios)
    scenario_codes : list of str
    profile : pandas.DataFrame
        The profile fields of the rows.
    n_read : int
        Rows in the table; ``n_read - n`` were rejected (``rejects`` says why).
    rejects : pandas.DataFrame
    source : str
        Where the rows came from (a file name, or "data frame").
    """

    instrument: Instrument
    respondent_id: np.ndarray
    item_scores: np.ndarray
    answered: np.ndarray
    scenario_levels: np.ndarray
    scenario_codes: list[str]
    profile: pd.DataFrame
    n_read: int
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = "data frame"

    @classmethod
    def from_answers(
        cls, instrument: Instrument, answers: pd.DataFrame, *, source: str = "data frame"
    ) -> Population:
        """Score an answers table (rows with invalid answers are left out and counted)."""
        encoded = encode_answers(instrument, answers)
        valid = encoded.valid
        answered = np.ones((len(answers), len(encoded.item_codes)), dtype=bool)
        for j, code in enumerate(encoded.item_codes):
            if code not in answers.columns:
                answered[:, j] = False
                continue
            column = answers[code]
            blank = column.isna().to_numpy().copy()
            text = column[~blank].astype(str).str.strip()
            blank[~blank] = (text == "").to_numpy()
            answered[:, j] = ~blank
        profile = encoded.profile[valid].reset_index(drop=True) if len(encoded.profile) else None
        return cls(
            instrument=instrument,
            respondent_id=np.asarray(encoded.respondent_id[valid], dtype=object).astype(str),
            item_scores=np.asarray(encoded.scores[valid], dtype=float),
            answered=answered[valid],
            scenario_levels=np.asarray(encoded.scenario_levels[valid]),
            scenario_codes=list(encoded.scenario_codes),
            profile=profile if profile is not None else pd.DataFrame(index=range(int(valid.sum()))),
            n_read=encoded.n_rows,
            rejects=encoded.rejects,
            source=source,
        )

    @property
    def n(self) -> int:
        """Valid rows."""
        return len(self.item_scores)

    @cached_property
    def hierarchy(self) -> Hierarchy:
        return Hierarchy.from_instrument(self.instrument)

    def nodes(self, level: str) -> np.ndarray:
        """Node scores (0-1) of ``level``, with the instrument's weights below it."""
        return self.hierarchy.nodes(self.item_scores, level)

    def frame(self, level: str) -> pd.DataFrame:
        """Node scores of ``level`` as a table (columns: codes; 0-1)."""
        return pd.DataFrame(self.nodes(level), columns=list(self.hierarchy.codes(level)))

    @cached_property
    def data_hash(self) -> str:
        """A hash of the item scores and ids: two populations with the same hash are the same
        data."""
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(np.nan_to_num(self.item_scores, nan=-1.0)).tobytes())
        digest.update("\x1f".join(self.respondent_id.tolist()).encode("utf-8"))
        return digest.hexdigest()[:16]

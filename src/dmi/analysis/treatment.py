"""Data coverage and treatment: what is missing, what is extreme, and what was done about it.

- :func:`coverage`: the share of answers given per item, of fully answered indicators per
  indicator and per company, against the JRC's 65 % rule (an indicator should have data for at
  least 65 % of the units, a unit for at least 65 % of the indicators);
- :func:`outliers`: skewness and kurtosis per column and the COINr rule (an outlier column has
  ``|skew| >= 2`` and ``kurtosis >= 3.5``, both the bias-corrected sample statistics, kurtosis in
  excess of the normal's);
- :func:`winsorise`, :func:`log_transform`: the two treatments of such a column;
- :func:`impute`: missing answers replaced by the mean or median of the answers given (overall or
  within a group such as the sector), in place of the instrument's own missing-answer rule;
- :func:`treat`: all of it on a population, with a log of every change (:class:`Treatment`).

Nothing is changed silently: every imputed cell and every treated column is a row of the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dmi.analysis.structure import LEVELS, NotComputable, Population, varies
from dmi.analysis.text import join, msg, reason, text_column
from dmi.errors import ParameterError

__all__ = [
    "IMPUTATIONS",
    "OUTLIER_TREATMENTS",
    "Coverage",
    "Treatment",
    "coverage",
    "impute",
    "log_transform",
    "outliers",
    "skew_kurtosis",
    "treat",
    "winsorise",
]

OUTLIER_TREATMENTS = ("none", "winsorise", "log", "winsorise-then-log")
IMPUTATIONS = ("none", "mean", "median", "group-mean", "group-median")
_LOG_SHIFT = 0.01  # share of the range added before the logarithm, so that the minimum is finite


# -- coverage ---------------------------------------------------------------------------------


@dataclass
class Coverage:
    """Data coverage of a population.

    Attributes
    ----------
    items : pandas.DataFrame
        ``item, indicator, answered, share, below`` (share of companies that answered).
    indicators : pandas.DataFrame
        ``indicator, dimension, complete, share, below``: share of companies that answered every
        item of the indicator.
    units : pandas.DataFrame
        ``respondent_id, indicators_complete, share, below``: share of the indicators a company
        answered completely.
    threshold : float
    """

    items: pd.DataFrame
    indicators: pd.DataFrame
    units: pd.DataFrame
    threshold: float

    @property
    def n_units_below(self) -> int:
        return int(self.units["below"].sum())


def coverage(population: Population, *, threshold: float = 0.65) -> Coverage:
    """Coverage per item, indicator and company against ``threshold`` (the JRC's 65 %).

    An answer scored by the instrument's missing-answer rule (as lowest, or left out) counts as
    missing here: coverage is about what the companies said.
    """
    if not 0 < threshold <= 1:
        raise ParameterError(
            f"threshold: expected a share in (0, 1], got {threshold}", parameter="threshold"
        )
    h = population.hierarchy
    n = population.n
    if n == 0:
        raise NotComputable(msg("nc_coverage_empty"))
    answered = population.answered
    items = pd.DataFrame(
        {
            "item": list(h.items),
            "indicator": [h.indicators[i] for i in h.item_indicator],
            "answered": answered.sum(axis=0),
            "share": answered.mean(axis=0),
        }
    )
    complete = np.column_stack(
        [answered[:, h.item_indicator == i].all(axis=1) for i in range(len(h.indicators))]
    )
    indicators = pd.DataFrame(
        {
            "indicator": list(h.indicators),
            "dimension": [h.dimensions[d] for d in h.indicator_dimension],
            "complete": complete.sum(axis=0),
            "share": complete.mean(axis=0),
        }
    )
    units = pd.DataFrame(
        {
            "respondent_id": population.respondent_id,
            "indicators_complete": complete.sum(axis=1),
            "share": complete.mean(axis=1),
        }
    )
    for table in (items, indicators, units):
        table["below"] = table["share"] < threshold
    return Coverage(items, indicators, units, threshold)


# -- outliers ---------------------------------------------------------------------------------


def skew_kurtosis(x: np.ndarray) -> tuple[float, float]:
    """Bias-corrected sample skewness and excess kurtosis of the non-missing values (the
    definitions of COINr, e1071 type 2 and Excel's SKEW and KURT).

    Raises
    ------
    NotComputable
        Fewer than 4 values, or all values equal.
    """
    from scipy.stats import kurtosis, skew

    values = np.asarray(x, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 4:
        raise NotComputable(msg("nc_skew_values", n=len(values)))
    if not varies(values):
        raise NotComputable(msg("nc_skew_constant"))
    return float(skew(values, bias=False)), float(kurtosis(values, fisher=True, bias=False))


def _is_outlier(skewness: float, kurt: float, skew_max: float, kurtosis_max: float) -> bool:
    return abs(skewness) >= skew_max and kurt >= kurtosis_max


def outliers(
    frame: pd.DataFrame, *, skew_max: float = 2.0, kurtosis_max: float = 3.5
) -> pd.DataFrame:
    """Skewness, kurtosis and the COINr outlier rule of every column.

    Parameters
    ----------
    frame : pandas.DataFrame
        One column per indicator (NaN where missing).
    skew_max, kurtosis_max : float, default=2.0, 3.5
        A column is an outlier when ``|skew| >= skew_max`` and ``kurtosis >= kurtosis_max``.

    Returns
    -------
    pandas.DataFrame
        ``column, n, skew, kurtosis, outlier, note`` (``note`` says why a column could not be
        judged; then ``outlier`` is False and the statistics NaN).
    """
    rows = []
    for column in frame.columns:
        x = frame[column].to_numpy(dtype=float)
        try:
            s, k = skew_kurtosis(x)
            rows.append(
                {
                    "column": str(column),
                    "n": int((~np.isnan(x)).sum()),
                    "skew": s,
                    "kurtosis": k,
                    "outlier": _is_outlier(s, k, skew_max, kurtosis_max),
                    "note": "",
                }
            )
        except NotComputable as exc:
            rows.append(
                {
                    "column": str(column),
                    "n": int((~np.isnan(x)).sum()),
                    "skew": np.nan,
                    "kurtosis": np.nan,
                    "outlier": False,
                    "note": reason(exc),
                }
            )
    table = pd.DataFrame(rows, columns=["column", "n", "skew", "kurtosis", "outlier", "note"])
    table["note"] = text_column(row["note"] for row in rows)
    return table


@dataclass(frozen=True)
class Winsorised:
    """Result of :func:`winsorise`.

    Attributes
    ----------
    values : ndarray
        The treated column.
    points : int
        How many data points (rows) were replaced; a point moved in several steps counts once.
    changes : list of (int, float, float)
        ``(row, original value, final value)`` of every replaced point, in the order they were
        first moved.
    passes : bool
        Whether the column is within the thresholds after the treatment.
    """

    values: np.ndarray
    points: int
    changes: list[tuple[int, float, float]]
    passes: bool


def winsorise(
    x: np.ndarray, *, max_points: int = 5, skew_max: float = 2.0, kurtosis_max: float = 3.5
) -> Winsorised:
    """Winsorise a column until it passes the outlier rule, replacing at most ``max_points``.

    At each step the most extreme value on the side of the skew (the highest when the skew is
    positive), with every value tied with it, is set to the next value inward; the steps stop
    when the column passes (``|skew| < skew_max`` or ``kurtosis < kurtosis_max``), when the next
    step would bring the data points replaced to more than ``max_points`` in all, or when it
    would leave the column constant (a 0/1 column is never flattened). A point already replaced
    is tied with the new extreme and moves with it: it counts once.
    """
    values = np.asarray(x, dtype=float).copy()
    original: dict[int, float] = {}  # row -> its value before the first step that moved it

    def result(passes: bool) -> Winsorised:
        changes = [(row, old, float(values[row])) for row, old in original.items()]
        return Winsorised(values, len(changes), changes, passes)

    while True:
        try:
            s, k = skew_kurtosis(values)
        except NotComputable:
            return result(True)
        if not _is_outlier(s, k, skew_max, kurtosis_max):
            return result(True)
        present = values[~np.isnan(values)]
        high = s > 0
        extreme = present.max() if high else present.min()
        inward = present[present < extreme] if high else present[present > extreme]
        rows = np.flatnonzero(values == extreme)
        # stop where one more step would exceed the budget or leave the column constant
        moved = len(original.keys() | set(rows.tolist()))
        if len(np.unique(inward)) < 2 or moved > max_points:
            return result(False)
        for row in rows.tolist():
            original.setdefault(int(row), float(extreme))
        values[rows] = inward.max() if high else inward.min()


def log_transform(x: np.ndarray) -> np.ndarray:
    """A logarithmic transformation that keeps the column's order and range.

    For a positive skew ``y = ln(x - min + c)`` with ``c = 0.01 (max - min)``; for a negative
    skew the column is reflected first (``ln(max - x + c)``, negated). ``y`` is then mapped
    linearly back onto ``[min, max]``, so that the treated column stays on the scale of the
    others (scores in [0, 1]). NaN stays NaN.
    """
    values = np.asarray(x, dtype=float)
    present = values[~np.isnan(values)]
    if len(present) == 0 or not present.max() > present.min():
        return values.copy()
    low, high = float(present.min()), float(present.max())
    shift = _LOG_SHIFT * (high - low)
    try:
        positive = skew_kurtosis(values)[0] >= 0
    except NotComputable:
        positive = True
    y = np.log(values - low + shift) if positive else -np.log(high - values + shift)
    y_low, y_high = np.nanmin(y), np.nanmax(y)
    return low + (y - y_low) / (y_high - y_low) * (high - low)


# -- imputation -------------------------------------------------------------------------------


def impute(
    values: np.ndarray,
    answered: np.ndarray,
    method: str,
    *,
    groups: np.ndarray | None = None,
    columns: list[str] | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Replace the unanswered cells of each column by a statistic of its answered cells.

    Parameters
    ----------
    values : ndarray of shape (n, k)
    answered : ndarray of bool, shape (n, k)
        True where the value was given.
    method : {"mean", "median", "group-mean", "group-median"}
        ``group-*`` use the statistic of the row's group (``groups``); a group with no answered
        cell in a column falls back to the whole column's statistic, and the log says so.
    groups : ndarray of shape (n,), optional
        Required by the ``group-*`` methods.
    columns : list of str, optional
        Column names for the log.

    Returns
    -------
    (ndarray, pandas.DataFrame)
        The imputed values and the log: ``column, cells, method, value, note`` (one row per
        column and group that had a cell imputed, or that could not be).
    """
    if method not in IMPUTATIONS or method == "none":
        raise ParameterError(
            f"method: expected one of {', '.join(IMPUTATIONS[1:])}, got {method!r}",
            parameter="method",
        )
    values = np.asarray(values, dtype=float).copy()
    answered = np.asarray(answered, dtype=bool)
    n, k = values.shape
    columns = columns or [str(j) for j in range(k)]
    statistic = np.nanmedian if method.endswith("median") else np.nanmean
    grouped = method.startswith("group")
    if grouped:
        if groups is None:
            raise ParameterError(
                f"groups: imputation {method!r} expected a group for every row, got none",
                parameter="groups",
            )
        groups = np.asarray(groups, dtype=object)
        no_group = msg("no_group")
        groups = np.array([no_group if pd.isna(g) else str(g) for g in groups], dtype=object)
    log = []
    for j in range(k):
        missing = ~answered[:, j]
        if not missing.any():
            continue
        given = values[answered[:, j], j]
        given = given[~np.isnan(given)]
        if len(given) == 0:
            log.append(
                {
                    "column": columns[j],
                    "group": "",
                    "cells": int(missing.sum()),
                    "method": method,
                    "value": np.nan,
                    "note": msg("note_not_imputed"),
                }
            )
            continue
        overall = float(statistic(given))
        if not grouped:
            values[missing, j] = overall
            log.append(
                {
                    "column": columns[j],
                    "group": "",
                    "cells": int(missing.sum()),
                    "method": method,
                    "value": overall,
                    "note": "",
                }
            )
            continue
        for group in np.unique(groups[missing]):
            in_group = groups == group
            cells = missing & in_group
            own = values[answered[:, j] & in_group, j]
            own = own[~np.isnan(own)]
            value, note = (float(statistic(own)), "") if len(own) else (overall, "")
            if not len(own):
                note = msg("note_group_fallback")
            values[cells, j] = value
            log.append(
                {
                    "column": columns[j],
                    "group": group,
                    "cells": int(cells.sum()),
                    "method": method,
                    "value": value,
                    "note": note,
                }
            )
    table = pd.DataFrame(log, columns=["column", "group", "cells", "method", "value", "note"])
    for column in ("group", "note"):
        table[column] = text_column(row[column] for row in log)
    return values, table


# -- the whole treatment ----------------------------------------------------------------------


@dataclass
class Treatment:
    """The data an analysis works on after treatment, and what was done.

    Attributes
    ----------
    item_scores : ndarray of shape (n, n_items)
        Item scores after imputation (the population's own when there was none).
    nodes : ndarray of shape (n, k)
        Scores of the weight-level nodes after outlier treatment.
    level : str
        The weight level.
    outliers_before, outliers_after : pandas.DataFrame
        :func:`outliers` of the nodes before and after the treatment.
    imputation : pandas.DataFrame
        The imputation log (empty when there was none).
    log : pandas.DataFrame
        One row per treated column: ``column, action, points, note``.
    settings : dict
    """

    item_scores: np.ndarray
    nodes: np.ndarray
    level: str
    outliers_before: pd.DataFrame
    outliers_after: pd.DataFrame
    imputation: pd.DataFrame
    log: pd.DataFrame
    settings: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether any value was changed (imputed or treated)."""
        return bool(self.imputation["cells"].sum() if len(self.imputation) else 0) or bool(
            (self.log["action"] != "none").any() if len(self.log) else False
        )


def treat(
    population: Population,
    *,
    level: str = "indicator",
    outlier_treatment: str = "none",
    imputation: str = "none",
    group_by: str | None = None,
    max_points: int = 5,
    skew_max: float = 2.0,
    kurtosis_max: float = 3.5,
) -> Treatment:
    """Impute missing answers (items), then treat outlier columns (weight-level nodes).

    Parameters
    ----------
    population : Population
    level : {"item", "indicator", "dimension"}
        The weight level: the columns checked for outliers.
    outlier_treatment : {"none", "winsorise", "log", "winsorise-then-log"}
        ``winsorise-then-log`` is COINr's default: winsorise (at most ``max_points``) and, when
        that does not bring the column within the thresholds, log-transform the original
        column instead. ``none`` only reports.
    imputation : {"none", "mean", "median", "group-mean", "group-median"}
        ``none`` keeps the instrument's missing-answer rule (scored as lowest, or left out).
    group_by : str, optional
        The profile field of the ``group-*`` imputations (e.g. ``sector``); refused with any
        other imputation (it would be ignored).
    max_points : int, default=5
        The most data points winsorising may replace in a column (:func:`winsorise`).
    skew_max, kurtosis_max : float, default=2.0, 3.5
        The outlier rule (COINr's): a column is an outlier when ``|skew| >= skew_max`` and
        ``kurtosis >= kurtosis_max``.
    """
    _check_treatment(population, level, outlier_treatment, imputation, group_by)
    h = population.hierarchy
    items = population.item_scores
    imputation_log = pd.DataFrame(columns=["column", "group", "cells", "method", "value", "note"])
    if imputation != "none":
        groups = None
        if imputation.startswith("group"):
            groups = population.profile[group_by].to_numpy()
        items, imputation_log = impute(
            items, population.answered, imputation, groups=groups, columns=list(h.items)
        )
    nodes = h.nodes(items, level)
    codes = list(h.codes(level))
    before = outliers(
        pd.DataFrame(nodes, columns=codes), skew_max=skew_max, kurtosis_max=kurtosis_max
    )
    treated = nodes.copy()
    log = []
    for j, row in enumerate(before.itertuples()):
        if not row.outlier:
            action, points, note = msg("action_none"), 0, row.note or msg("note_within")
        elif outlier_treatment == "none":
            action, points, note = msg("action_none"), 0, msg("note_reported_only")
        else:
            action, points, note = _treat_column(
                treated, j, outlier_treatment, max_points, skew_max, kurtosis_max
            )
        log.append({"column": row.column, "action": action, "points": points, "note": note})
    after = outliers(
        pd.DataFrame(treated, columns=codes), skew_max=skew_max, kurtosis_max=kurtosis_max
    )
    return Treatment(
        item_scores=items,
        nodes=treated,
        level=level,
        outliers_before=before,
        outliers_after=after,
        imputation=imputation_log,
        log=_log_table(log),
        settings={
            "level": level,
            "outlier_treatment": outlier_treatment,
            "imputation": imputation,
            "group_by": group_by,
            "max_points": max_points,
            "skew_max": skew_max,
            "kurtosis_max": kurtosis_max,
        },
    )


def _check_treatment(
    population: Population,
    level: str,
    outlier_treatment: str,
    imputation: str,
    group_by: str | None,
) -> None:
    """Refuse settings :func:`treat` does not know, naming the value and what is allowed."""
    for name, value, allowed in (
        ("level", level, LEVELS),
        ("outlier_treatment", outlier_treatment, OUTLIER_TREATMENTS),
        ("imputation", imputation, IMPUTATIONS),
    ):
        if value not in allowed:
            raise ParameterError(
                f"{name}: expected one of {', '.join(allowed)}, got {value!r}", parameter=name
            )
    fields = [str(c) for c in population.profile.columns]
    if group_by and not imputation.startswith("group"):
        raise ParameterError(
            f"group_by: a group applies to a group imputation only: expected imputation "
            f"group-mean or group-median (or no group_by), got imputation {imputation!r} with "
            f"group_by {group_by!r}",
            parameter="group_by",
        )
    if imputation.startswith("group") and group_by not in fields:
        raise ParameterError(
            f"group_by: imputation {imputation!r} groups the companies by a profile field of "
            f"the answers ({', '.join(fields) or 'none'}), got {group_by!r}",
            parameter="group_by",
        )


def _log_table(log: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(log, columns=["column", "action", "points", "note"])
    for column in ("action", "note"):
        table[column] = text_column(row[column] for row in log)
    return table


def _treat_column(
    X: np.ndarray, j: int, how: str, max_points: int, skew_max: float, kurtosis_max: float
) -> tuple[str, int, str]:
    original = X[:, j].copy()
    if how in ("winsorise", "winsorise-then-log"):
        result = winsorise(
            original, max_points=max_points, skew_max=skew_max, kurtosis_max=kurtosis_max
        )
        if result.passes or how == "winsorise":
            X[:, j] = result.values
            moved = ", ".join(f"{old:g} -> {new:g}" for _, old, new in result.changes[:5])
            notes = [msg("note_winsorised", points=result.points, moved=moved)]
            if not result.passes:
                notes.append(
                    msg("note_still_outlier_winsorised", points=result.points, max=max_points)
                )
            return msg("action_winsorised"), result.points, join(notes)
    X[:, j] = log_transform(original)
    notes = [
        msg("note_log_after_winsorising", max=max_points)
        if how == "winsorise-then-log"
        else msg("note_log")
    ]
    try:
        if _is_outlier(*skew_kurtosis(X[:, j]), skew_max, kurtosis_max):
            notes.append(msg("note_still_outlier_log"))
    except NotComputable:
        pass
    return msg("action_log"), int((~np.isnan(original)).sum()), join(notes)

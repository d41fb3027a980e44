"""Reliability of the instrument's scales: do the items of a dimension measure one thing?

- :func:`cronbach_alpha`: Cronbach's alpha with Feldt's confidence interval, the corrected
  item-total correlation of each item and alpha if the item is deleted;
- :func:`kmo`: the Kaiser-Meyer-Olkin measure of sampling adequacy, overall and per item;
- :func:`bartlett`: Bartlett's test of sphericity (is the correlation matrix the identity?);
- :func:`reliability`: all of them per dimension of an instrument, with the flags a reviewer
  looks for (alpha below 0.7, a negative correlation inside a dimension, an item or indicator
  that barely correlates with the rest of its dimension).

Every function takes a table with one row per respondent and one numeric column per item. Rows
with a missing value are left out (listwise) and counted. A statistic that cannot be computed
(too few respondents, fewer than two items, a constant or all-missing column, a singular
correlation matrix) raises :class:`~dmi.analysis.structure.NotComputable` with the reason.
Formulas and references: ``docs/methodology.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dmi.analysis.structure import NotComputable, Population, varies
from dmi.analysis.text import join, msg, reason, text_column

__all__ = [
    "AlphaResult",
    "BartlettResult",
    "DimensionReliability",
    "KMOResult",
    "Reliability",
    "bartlett",
    "cronbach_alpha",
    "kmo",
    "reliability",
]

_SINGULAR_CONDITION = 1e12  # a correlation matrix worse conditioned than this has no inverse


# -- input ------------------------------------------------------------------------------------


def _numeric_table(data: pd.DataFrame | np.ndarray, what: str) -> pd.DataFrame:
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(np.asarray(data, float))
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(
            frame[column]
        ):
            try:
                frame[column] = pd.to_numeric(frame[column])
            except (TypeError, ValueError):
                raise NotComputable(
                    msg(
                        "nc_not_numeric",
                        what=what,
                        column=column,
                        value=repr(frame[column].iloc[0]),
                    )
                ) from None
        frame[column] = frame[column].astype(float)
    return frame


def _complete_rows(frame: pd.DataFrame, what: str) -> tuple[np.ndarray, int]:
    """The rows with every column present, and how many were dropped; an all-missing column is
    named rather than silently emptying the table."""
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        raise NotComputable(msg("nc_no_values", what=what, columns=", ".join(empty)))
    values = frame.to_numpy(dtype=float)
    keep = ~np.isnan(values).any(axis=1)
    return values[keep], int((~keep).sum())


def _constant_columns(values: np.ndarray, columns: list[str]) -> list[str]:
    if len(values) == 0:
        return []
    return [c for c, moves in zip(columns, varies(values, axis=0)) if not moves]


def _correlation(values: np.ndarray) -> np.ndarray:
    centred = values - values.mean(axis=0)
    norms = np.sqrt((centred * centred).sum(axis=0))
    R = (centred.T @ centred) / np.outer(norms, norms)
    R = 0.5 * (R + R.T)
    np.fill_diagonal(R, 1.0)
    return np.clip(R, -1.0, 1.0)


# -- Cronbach's alpha -------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha of a set of items.

    Attributes
    ----------
    alpha : float
    ci : tuple of float
        Feldt's confidence interval (``ci_level``).
    ci_level : float
    n : int
        Respondents used (every item answered).
    n_dropped : int
        Respondents left out for a missing value.
    k : int
        Items.
    items : pandas.DataFrame
        One row per item: ``item, mean, sd, item_total`` (corrected item-total correlation: the
        item against the sum of the other items), ``alpha_if_deleted`` and ``note`` (why a value
        is missing, e.g. a constant item).
    """

    alpha: float
    ci: tuple[float, float]
    ci_level: float
    n: int
    n_dropped: int
    k: int
    items: pd.DataFrame

    def __iter__(self):
        """``alpha, ci = cronbach_alpha(data)``, as pingouin's ``cronbach_alpha`` unpacks."""
        return iter((self.alpha, self.ci))


def _alpha(values: np.ndarray) -> float:
    """Cronbach's alpha of complete rows (no checks)."""
    k = values.shape[1]
    C = np.cov(values, rowvar=False, ddof=1)
    total = C.sum()
    return float(k / (k - 1) * (1.0 - np.trace(C) / total))


def cronbach_alpha(
    data: pd.DataFrame | np.ndarray, *, ci: float = 0.95, what: str = "Cronbach's alpha"
) -> AlphaResult:
    """Cronbach's alpha, its confidence interval, item-total correlations, alpha if deleted.

    ``alpha = k / (k - 1) * (1 - sum of item variances / variance of the total)`` on the rows
    with every item answered; the interval is Feldt's (1965), from the F distribution with
    ``n - 1`` and ``(n - 1)(k - 1)`` degrees of freedom.

    Parameters
    ----------
    data : DataFrame of shape (n_respondents, k_items)
        Numeric item scores.
    ci : float, default=0.95
        Confidence level of the interval.
    what : str
        Names the item set in messages (a dimension, say).

    Returns
    -------
    AlphaResult

    Raises
    ------
    NotComputable
        Fewer than 2 items, fewer than 3 complete rows, an all-missing column, or a total score
        that does not vary.
    """
    from scipy.stats import f

    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    frame = _numeric_table(data, what)
    columns = list(frame.columns)
    k = len(columns)
    if k < 2:
        raise NotComputable(msg("nc_items", what=what, k=k))
    values, dropped = _complete_rows(frame, what)
    n = len(values)
    if n < 3:
        if dropped:
            raise NotComputable(msg("nc_alpha_rows_dropped", what=what, n=n, dropped=dropped))
        raise NotComputable(msg("nc_alpha_rows", what=what, n=n))
    total = values.sum(axis=1)
    if not varies(total):
        raise NotComputable(msg("nc_total_constant", what=what))
    alpha = _alpha(values)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - ci) / 2
    interval = (
        float(1 - (1 - alpha) * f.isf(tail, df1, df2)),
        float(1 - (1 - alpha) * f.isf(1 - tail, df1, df2)),
    )
    constant = set(_constant_columns(values, columns))
    rows = []
    for j, column in enumerate(columns):
        rest = total - values[:, j]
        notes = []
        item_total = alpha_if_deleted = np.nan
        if column in constant:
            notes.append(msg("note_constant_item"))
        elif not varies(rest):
            notes.append(msg("note_rest_constant"))
        else:
            item_total = float(np.corrcoef(values[:, j], rest)[0, 1])
        if k < 3:
            notes.append(msg("note_deleted_needs_3"))
        else:
            others = np.delete(values, j, axis=1)
            if varies(others.sum(axis=1)):
                alpha_if_deleted = _alpha(others)
            else:
                notes.append(msg("note_without_constant"))
        note = join(notes)
        rows.append(
            {
                "item": column,
                "mean": float(values[:, j].mean()),
                "sd": float(values[:, j].std(ddof=1)),
                "item_total": item_total,
                "alpha_if_deleted": alpha_if_deleted,
                "note": note,
            }
        )
    table = pd.DataFrame(rows)
    table["note"] = text_column(row["note"] for row in rows)
    return AlphaResult(alpha, interval, ci, n, dropped, k, table)


# -- KMO and Bartlett -------------------------------------------------------------------------


@dataclass(frozen=True)
class KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy.

    Attributes
    ----------
    overall : float
    per_item : pandas.Series
        The measure of each item (index: item); NaN for an item uncorrelated with every other
        (0/0), named in ``notes``.
    n, n_dropped : int
        Respondents used, and left out for a missing value.
    notes : dict of str to str
        Why an item's measure is missing.
    """

    overall: float
    per_item: pd.Series
    n: int
    n_dropped: int
    notes: dict[str, str] = field(default_factory=dict)

    def __iter__(self):
        """``per_item, overall = kmo(data)``, as factor_analyzer's ``calculate_kmo`` unpacks."""
        return iter((self.per_item.to_numpy(), self.overall))


def _checked_correlation(
    data: pd.DataFrame | np.ndarray, what: str
) -> tuple[np.ndarray, list[str], int, int]:
    frame = _numeric_table(data, what)
    columns = list(frame.columns)
    p = len(columns)
    if p < 2:
        raise NotComputable(msg("nc_items", what=what, k=p))
    values, dropped = _complete_rows(frame, what)
    n = len(values)
    if n <= p:
        raise NotComputable(msg("nc_more_rows", what=what, n=n, p=p))
    constant = _constant_columns(values, columns)
    if constant:
        raise NotComputable(msg("nc_constant_item", what=what, items=", ".join(constant)))
    R = _correlation(values)
    if np.linalg.cond(R) > _SINGULAR_CONDITION:
        raise NotComputable(msg("nc_singular", what=what))
    return R, columns, n, dropped


def kmo(data: pd.DataFrame | np.ndarray, *, what: str = "KMO") -> KMOResult:
    """The Kaiser-Meyer-Olkin measure, overall and per item.

    With ``r`` the correlations and ``a`` the partial (anti-image) correlations
    ``a_ij = -S_ij / sqrt(S_ii S_jj)``, ``S`` the inverse of the correlation matrix:
    ``KMO_j = sum_i r_ij^2 / (sum_i r_ij^2 + sum_i a_ij^2)`` over ``i != j``, and the overall
    measure is the same ratio summed over every pair (Kaiser 1970; Kaiser and Rice 1974).

    Raises
    ------
    NotComputable
        Fewer than 2 items, no more complete rows than items, a constant or all-missing
        column, a singular correlation matrix.
    """
    R, columns, n, dropped = _checked_correlation(data, what)
    S = np.linalg.inv(R)
    d = np.sqrt(np.diag(S))
    A = -S / np.outer(d, d)
    np.fill_diagonal(A, 0.0)
    r2 = R * R
    np.fill_diagonal(r2, 0.0)
    a2 = A * A
    if not (r2.sum() + a2.sum()) > 0:
        raise NotComputable(msg("nc_uncorrelated", what=what))
    denominator = r2.sum(axis=0) + a2.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_item = np.where(denominator > 0, r2.sum(axis=0) / denominator, np.nan)
    notes = {c: msg("note_kmo_uncorrelated") for c, d in zip(columns, denominator) if not d > 0}
    overall = r2.sum() / (r2.sum() + a2.sum())
    return KMOResult(
        float(overall), pd.Series(per_item, index=columns, name="kmo"), n, dropped, notes
    )


@dataclass(frozen=True)
class BartlettResult:
    """Bartlett's test of sphericity: ``statistic`` ~ chi-square with ``df`` degrees of freedom."""

    statistic: float
    df: int
    p_value: float
    n: int
    n_dropped: int

    def __iter__(self):
        """``chi2, p = bartlett(data)``, as factor_analyzer's ``calculate_bartlett_sphericity``
        unpacks."""
        return iter((self.statistic, self.p_value))


def bartlett(data: pd.DataFrame | np.ndarray, *, what: str = "Bartlett's test") -> BartlettResult:
    """Bartlett's test that the items are uncorrelated (the correlation matrix is the identity).

    ``chi2 = -(n - 1 - (2p + 5) / 6) ln det R`` with ``p (p - 1) / 2`` degrees of freedom
    (Bartlett 1950).

    Raises
    ------
    NotComputable
        As :func:`kmo`, or when ``n - 1 - (2p + 5) / 6`` is not positive (too few respondents).
    """
    from scipy.stats import chi2

    R, columns, n, dropped = _checked_correlation(data, what)
    p = len(columns)
    factor = n - 1 - (2 * p + 5) / 6
    if factor <= 0:
        raise NotComputable(msg("nc_bartlett_rows", what=what, n=n, p=p))
    sign, logdet = np.linalg.slogdet(R)
    if sign <= 0:
        raise NotComputable(msg("nc_not_positive_definite", what=what))
    statistic = float(-factor * logdet)
    df = p * (p - 1) // 2
    return BartlettResult(statistic, df, float(chi2.sf(statistic, df)), n, dropped)


# -- per dimension ------------------------------------------------------------------------------


@dataclass
class DimensionReliability:
    """The reliability statistics of one dimension's items.

    ``alpha``, ``kmo`` and ``bartlett`` are None when not computable; ``notes`` then says why
    (``{"alpha": reason, ...}``).
    """

    dimension: str
    items: list[str]
    alpha: AlphaResult | None
    kmo: KMOResult | None
    bartlett: BartlettResult | None
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Reliability:
    """Reliability of every dimension, the indicator-dimension correlations and the flags.

    Attributes
    ----------
    dimensions : list of DimensionReliability
    indicators : pandas.DataFrame
        One row per indicator: ``dimension, indicator, r_rest`` (its correlation with the
        instrument-weighted mean of the other indicators of its dimension), ``note``.
    correlation : pandas.DataFrame
        Pearson correlations of the indicator scores (pairwise complete rows).
    flags : pandas.DataFrame
        ``kind, dimension, where, value, threshold, message``; kinds ``alpha_low``,
        ``negative_correlation``, ``weak_item``, ``weak_indicator``, ``not_computable``.
    thresholds : dict
    n : int
        Respondents.
    """

    dimensions: list[DimensionReliability]
    indicators: pd.DataFrame
    correlation: pd.DataFrame
    flags: pd.DataFrame
    thresholds: dict[str, float]
    n: int

    def table(self) -> pd.DataFrame:
        """One row per dimension: items, n, alpha and its interval, KMO, Bartlett, notes."""
        rows = []
        for d in self.dimensions:
            rows.append(
                {
                    "dimension": d.dimension,
                    "items": len(d.items),
                    "n": d.alpha.n if d.alpha else None,
                    "alpha": d.alpha.alpha if d.alpha else None,
                    "alpha_ci_low": d.alpha.ci[0] if d.alpha else None,
                    "alpha_ci_high": d.alpha.ci[1] if d.alpha else None,
                    "kmo": d.kmo.overall if d.kmo else None,
                    "bartlett_chi2": d.bartlett.statistic if d.bartlett else None,
                    "bartlett_df": d.bartlett.df if d.bartlett else None,
                    "bartlett_p": d.bartlett.p_value if d.bartlett else None,
                    "note": join(
                        msg("note_statistic", statistic=k, reason=v) for k, v in d.notes.items()
                    ),
                }
            )
        table = pd.DataFrame(rows)
        if rows:
            table["note"] = text_column(row["note"] for row in rows)
        return table


def reliability(
    population: Population,
    *,
    alpha_min: float = 0.7,
    item_total_min: float = 0.3,
    ci: float = 0.95,
) -> Reliability:
    """Reliability per dimension of a population's item scores, and the flags.

    Only the answers given count (:attr:`Population.answered`): an item not answered, which the
    score may count as the lowest answer, is missing here, its row left out of its dimension's
    statistics (and counted in ``n_dropped``); the indicators are scored from the answers given.

    Parameters
    ----------
    population : Population
    alpha_min : float, default=0.7
        Alpha below this is flagged (Nunnally 1978).
    item_total_min : float, default=0.3
        A corrected item-total (item) or rest-of-dimension (indicator) correlation below this
        is flagged.
    ci : float, default=0.95
    """
    h = population.hierarchy
    # an answer not given is no answer, though the score may count it as the lowest (the MIIT
    # rule): left out, as a missing value is (listwise, counted)
    given = np.where(population.answered, population.item_scores, np.nan)
    items = pd.DataFrame(given, columns=list(h.items))
    item_dimension = h.dimension_of("item")
    flags: list[dict] = []

    def flag(kind, dimension, where, value, threshold, message):
        flags.append(
            {
                "kind": kind,
                "dimension": dimension,
                "where": where,
                "value": value,
                "threshold": threshold,
                "message": message,
            }
        )

    results = []
    for d, dimension in enumerate(h.dimensions):
        codes = [h.items[j] for j in np.flatnonzero(item_dimension == d)]
        table = items[codes]
        notes: dict[str, str] = {}
        stats: dict[str, object] = {}
        for name, function in (("alpha", cronbach_alpha), ("kmo", kmo), ("bartlett", bartlett)):
            try:
                kwargs = {"ci": ci} if name == "alpha" else {}
                stats[name] = function(
                    table, what=msg("what_dimension", dimension=dimension), **kwargs
                )
            except NotComputable as exc:
                stats[name] = None
                notes[name] = reason(exc)
                flag("not_computable", dimension, name, None, None, reason(exc))
        alpha = stats["alpha"]
        if alpha is not None:
            if alpha.alpha < alpha_min:
                flag(
                    "alpha_low",
                    dimension,
                    "alpha",
                    alpha.alpha,
                    alpha_min,
                    msg(
                        "flag_alpha_low",
                        dimension=dimension,
                        alpha=alpha.alpha,
                        threshold=alpha_min,
                    ),
                )
            for row in alpha.items.itertuples():
                if not np.isnan(row.item_total) and row.item_total < item_total_min:
                    flag(
                        "weak_item",
                        dimension,
                        row.item,
                        row.item_total,
                        item_total_min,
                        msg(
                            "flag_weak_item",
                            item=row.item,
                            r=row.item_total,
                            dimension=dimension,
                            threshold=item_total_min,
                        ),
                    )
        corr = table.corr(min_periods=3).to_numpy()
        for a in range(len(codes)):
            for b in range(a + 1, len(codes)):
                if corr[a, b] < 0:
                    flag(
                        "negative_correlation",
                        dimension,
                        f"{codes[a]} ~ {codes[b]}",
                        float(corr[a, b]),
                        0.0,
                        msg(
                            "flag_negative_correlation",
                            a=codes[a],
                            b=codes[b],
                            dimension=dimension,
                            r=float(corr[a, b]),
                        ),
                    )
        results.append(
            DimensionReliability(dimension, codes, alpha, stats["kmo"], stats["bartlett"], notes)
        )

    indicators = h.nodes(given, "indicator")
    rows = []
    for i, code in enumerate(h.indicators):
        d = h.indicator_dimension[i]
        siblings = [j for j in np.flatnonzero(h.indicator_dimension == d) if j != i]
        r, note = np.nan, ""
        if not siblings:
            note = msg("note_only_indicator", dimension=h.dimensions[d])
        else:
            w = h.indicator_weight[siblings]
            w = w if w.sum() > 0 else np.ones(len(siblings))
            rest = _weighted_mean(indicators[:, siblings], w)
            keep = ~(np.isnan(rest) | np.isnan(indicators[:, i]))
            x, y = indicators[keep, i], rest[keep]
            if keep.sum() < 3:
                note = msg("note_needs_3", n=int(keep.sum()))
            elif not varies(x):
                note = msg("note_constant_indicator")
            elif not varies(y):
                note = msg("note_rest_dimension_constant")
            else:
                r = float(np.corrcoef(x, y)[0, 1])
        if note:
            flag(
                "not_computable",
                h.dimensions[d],
                code,
                None,
                None,
                msg("flag_indicator_not_computable", indicator=code, reason=note),
            )
        elif r < item_total_min:
            flag(
                "weak_indicator",
                h.dimensions[d],
                code,
                r,
                item_total_min,
                msg(
                    "flag_weak_indicator",
                    indicator=code,
                    r=r,
                    dimension=h.dimensions[d],
                    threshold=item_total_min,
                ),
            )
        rows.append({"dimension": h.dimensions[d], "indicator": code, "r_rest": r, "note": note})
    correlation = pd.DataFrame(indicators, columns=list(h.indicators)).corr(min_periods=3)
    indicator_table = pd.DataFrame(rows)
    indicator_table["note"] = text_column(row["note"] for row in rows)
    flag_table = pd.DataFrame(
        flags, columns=["kind", "dimension", "where", "value", "threshold", "message"]
    )
    flag_table["message"] = text_column(f["message"] for f in flags)
    return Reliability(
        dimensions=results,
        indicators=indicator_table,
        correlation=correlation,
        flags=flag_table,
        thresholds={"alpha_min": alpha_min, "item_total_min": item_total_min, "ci": ci},
        n=population.n,
    )


def _weighted_mean(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    present = ~np.isnan(X)
    numerator = np.where(present, X, 0.0) @ w
    denominator = present @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)

"""Cohort summaries of a scored population: counts, means and quartiles by group.

An agency that scores a province wants to see the population at a glance: how many companies
reach each level and tier, and how the index and each dimension are distributed by sector,
region and size class. :func:`cohort_summary` computes that table exactly (quartiles too) from
the scored rows; the pipeline collects only the few columns it needs from each chunk (a few MB
for a million companies), so the summary costs no second pass over the file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COHORT_GROUPS", "cohort_columns", "cohort_summary", "distribution"]

COHORT_GROUPS = ("level", "indicative_level", "tier", "sector", "region", "size_class")
"""The columns a cohort summary groups by, when the scores have them: ``level`` is the official
level; ``indicative_level`` (a method other than the official one) the band of that method's
index."""


def _metrics(scores: pd.DataFrame) -> list[str]:
    official = ["official_dmi"] if "official_dmi" in scores.columns else []
    return ["dmi", *official] + [c for c in scores.columns if str(c).startswith("dim_")]


def cohort_columns(scores: pd.DataFrame) -> list[str]:
    """The columns of a scores table that :func:`cohort_summary` uses."""
    return [c for c in _metrics(scores) if c in scores.columns] + [
        c for c in COHORT_GROUPS if c in scores.columns
    ]


def _describe(values: np.ndarray) -> list[float]:
    values = values[~np.isnan(values)]
    if not len(values):
        return [np.nan] * 5
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    return [
        float(np.mean(values)),
        float(q1),
        float(median),
        float(q3),
        float(np.std(values)),
    ]


def cohort_summary(scores: pd.DataFrame, groups: tuple[str, ...] = COHORT_GROUPS) -> pd.DataFrame:
    """Counts, shares, means and quartiles of ``dmi`` and every ``dim_*`` by group.

    Parameters
    ----------
    scores
        A scores table (``dmi``, ``dim_<code>``, and some of the group columns).
    groups
        Columns to group by; those absent from ``scores`` are skipped.

    Returns
    -------
    pandas.DataFrame
        One row for the whole population (``by="all"``) and one per value of each group column:
        ``by, group, n, share``, then ``<metric>_mean, _q1, _median, _q3, _sd`` for ``dmi``
        (and ``official_dmi`` when the scores come from a method other than the official one)
        and each dimension. Quartiles are exact (numpy's default linear interpolation).
    """
    metrics = [m for m in _metrics(scores) if m in scores.columns]
    total = len(scores)
    stats = ("mean", "q1", "median", "q3", "sd")
    records: list[dict[str, object]] = []

    def add(by: str, group: object, part: pd.DataFrame) -> None:
        record: dict[str, object] = {
            "by": by,
            "group": group,
            "n": len(part),
            "share": len(part) / total if total else np.nan,
        }
        for metric in metrics:
            values = pd.to_numeric(part[metric], errors="coerce").to_numpy(dtype=float)
            for name, value in zip(stats, _describe(values)):
                record[f"{metric}_{name}"] = value
        records.append(record)

    add("all", "all", scores)
    for by in groups:
        if by not in scores.columns:
            continue
        column = scores[by].astype(object).where(scores[by].notna(), "(blank)")
        for group, part in scores.groupby(column.astype(str), sort=True):
            add(by, group, part)
    columns = ["by", "group", "n", "share"] + [f"{m}_{s}" for m in metrics for s in stats]
    return pd.DataFrame(records, columns=columns)


def distribution(scores: pd.DataFrame, by: str, of: str = "level") -> pd.DataFrame:
    """Counts of ``of`` (level or tier) per value of ``by`` (sector, region, ...).

    Returns
    -------
    pandas.DataFrame
        One row per group of ``by`` (blank values as ``(blank)``), one column per value of
        ``of`` (blank as ``(none)``), and a ``total`` column; the rows sum to the table's size.
    """
    for column in (by, of):
        if column not in scores.columns:
            raise ValueError(f"the scores have no {column!r} column")
    groups = scores[by].astype(object).where(scores[by].notna(), "(blank)").astype(str)
    values = scores[of].astype("Int64").astype(object).where(scores[of].notna(), "(none)")
    table = pd.crosstab(groups.rename(by), values.astype(str).rename(of))
    table["total"] = table.sum(axis=1)
    return table

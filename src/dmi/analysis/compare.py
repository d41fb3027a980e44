"""Compare the rankings two index schemes give the same companies.

Used by the weights lab: how far do two choices of normalisation, weighting and aggregation
agree (Spearman's rho, Kendall's tau-b), who moves most, and how many companies change band or
tier. A scheme's band is its ``level`` when it is the official method and its
``indicative_level`` otherwise; ``level`` itself is always the official level, the same under
every scheme for the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

from dmi.analysis.text import msg
from dmi.errors import DataError, ParameterError
from dmi.scoring.ranks import average_ranks, comparable

__all__ = ["RankingComparison", "compare_rankings", "rank_correlations"]


@dataclass(frozen=True)
class RankingComparison:
    """How two schemes rank the same companies.

    Attributes
    ----------
    n
        Companies scored under both schemes.
    spearman, kendall
        Rank correlations of the two indices (Kendall's tau-b, which handles ties), over the
        companies with an index under both; NaN when they are undefined, and then
        ``correlation_note`` says why.
    movers
        Per company: ``respondent_id, dmi_a, dmi_b, rank_a, rank_b, rank_change`` (rank 1 = best,
        ties share the average rank; ``rank_change`` > 0 means B ranks the company higher), the
        largest moves first.
    level_changed
        Companies whose (official) ``level`` differs.
    levels
        Cross-table of ``level`` under A (rows) by ``level`` under B (columns).
    tier_changed, tiers
        The same for tiers, when both score tables carry a ``tier`` column; else None.
    band_changed, bands
        The same for each scheme's band of its own index: ``indicative_level`` when the table
        has one (a method other than the official one), else ``level``.
    indicative
        True when either band is indicative (a table has ``indicative_level``): then the bands
        must be shown as indicative, never as levels.
    correlation_note
        Why ``spearman`` and ``kendall`` are undefined (a message in both languages: every
        company has the same index under a scheme, so its ranks are constant; or fewer than 2
        companies have both indices), else ``""``.
    """

    n: int
    spearman: float
    kendall: float
    movers: pd.DataFrame
    level_changed: int
    levels: pd.DataFrame
    tier_changed: int | None
    tiers: pd.DataFrame | None
    band_changed: int = 0
    bands: pd.DataFrame | None = None
    indicative: bool = False
    correlation_note: str = ""


def compare_rankings(
    scores_a: pd.DataFrame, scores_b: pd.DataFrame, *, names: tuple[str, str] = ("A", "B")
) -> RankingComparison:
    """Compare two score tables of the same companies (matched on ``respondent_id``).

    Parameters
    ----------
    scores_a, scores_b : pandas.DataFrame
        ``respondent_id``, ``dmi``, ``level`` (and ``tier``, ``indicative_level`` if any).
    names : (str, str), default=("A", "B")
        What the two schemes are called in ``correlation_note``.

    Raises
    ------
    ParameterError
        A table without ``respondent_id``, ``dmi`` or ``level``.
    DataError
        When the tables share fewer than two companies.
    """
    for name, table in (("A", scores_a), ("B", scores_b)):
        missing = {"respondent_id", "dmi", "level"} - set(table.columns)
        if missing:
            raise ParameterError(
                f"score table {name} lacks {', '.join(sorted(missing))}: expected the columns "
                "respondent_id, dmi and level",
                parameter=f"scores_{name.lower()}",
            )
    keep = ["respondent_id", "dmi", "level"]
    with_tiers = "tier" in scores_a.columns and "tier" in scores_b.columns
    if with_tiers:
        keep.append("tier")
    tables = []
    for table in (scores_a, scores_b):
        band = table["indicative_level"] if "indicative_level" in table else table["level"]
        tables.append(table[keep].assign(band=band))
    merged = tables[0].merge(tables[1], on="respondent_id", suffixes=("_a", "_b"))
    if len(merged) < 2:
        raise DataError(
            f"the two score tables share {len(merged)} companies; at least 2 are needed"
        )
    # indices equal to dmi.scoring.ranks.RANK_DECIMALS decimals are ties
    rank_a = average_ranks(merged["dmi_a"], ascending=False)
    rank_b = average_ranks(merged["dmi_b"], ascending=False)
    movers = pd.DataFrame(
        {
            "respondent_id": merged["respondent_id"],
            "dmi_a": merged["dmi_a"],
            "dmi_b": merged["dmi_b"],
            "rank_a": rank_a,
            "rank_b": rank_b,
            "rank_change": rank_a - rank_b,
        }
    )
    order = np.argsort(-movers["rank_change"].abs().to_numpy(), kind="stable")
    movers = movers.iloc[order].reset_index(drop=True)
    rho, tau, note = rank_correlations(
        comparable(merged["dmi_a"]), comparable(merged["dmi_b"]), names
    )
    levels = pd.crosstab(merged["level_a"], merged["level_b"])
    tiers = tier_changed = None
    if with_tiers:
        both = merged.dropna(subset=["tier_a", "tier_b"])
        tiers = pd.crosstab(both["tier_a"].astype(int), both["tier_b"].astype(int))
        tier_changed = int((both["tier_a"] != both["tier_b"]).sum())
    return RankingComparison(
        n=int(len(merged)),
        spearman=rho,
        kendall=tau,
        movers=movers,
        level_changed=int((merged["level_a"] != merged["level_b"]).sum()),
        levels=levels,
        tier_changed=tier_changed,
        tiers=tiers,
        band_changed=int((merged["band_a"] != merged["band_b"]).sum()),
        bands=pd.crosstab(merged["band_a"], merged["band_b"]),
        indicative="indicative_level" in scores_a or "indicative_level" in scores_b,
        correlation_note=note,
    )


def rank_correlations(
    a: np.ndarray, b: np.ndarray, names: tuple[str, str]
) -> tuple[float, float, Any]:
    """Spearman's rho and Kendall's tau-b of the companies with both indices (NaN in neither),
    or NaN with the reason they are undefined (scipy would warn and return NaN): fewer than 2
    companies, or every company with the same index under a scheme (``names``: a and b's)."""
    both = ~(np.isnan(a) | np.isnan(b))
    a, b = a[both], b[both]
    if len(a) < 2:
        return np.nan, np.nan, msg("note_rank_too_few", n=len(a))
    constant = [name for name, x in zip(names, (a, b)) if (x == x[0]).all()]
    if len(constant) == 2:
        return np.nan, np.nan, msg("note_rank_constant_both")
    if constant:
        return np.nan, np.nan, msg("note_rank_constant", scheme=constant[0])
    return float(spearmanr(a, b).statistic), float(kendalltau(a, b).statistic), ""

"""Compare the rankings two index schemes give the same companies.

Used by the weights lab: how far do two choices of normalisation, weighting and aggregation
agree (Spearman's rho, Kendall's tau-b), who moves most, and how many companies change level or
tier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

__all__ = ["RankingComparison", "compare_rankings"]


@dataclass(frozen=True)
class RankingComparison:
    """How two schemes rank the same companies.

    Attributes
    ----------
    n
        Companies scored under both schemes.
    spearman, kendall
        Rank correlations of the two indices (Kendall's tau-b, which handles ties).
    movers
        Per company: ``respondent_id, dmi_a, dmi_b, rank_a, rank_b, rank_change`` (rank 1 = best,
        ties share the average rank; ``rank_change`` > 0 means B ranks the company higher), the
        largest moves first.
    level_changed
        Companies whose level differs.
    levels
        Cross-table of level under A (rows) by level under B (columns).
    tier_changed, tiers
        The same for tiers, when both score tables carry a ``tier`` column; else None.
    """

    n: int
    spearman: float
    kendall: float
    movers: pd.DataFrame
    level_changed: int
    levels: pd.DataFrame
    tier_changed: int | None
    tiers: pd.DataFrame | None


def compare_rankings(scores_a: pd.DataFrame, scores_b: pd.DataFrame) -> RankingComparison:
    """Compare two score tables of the same companies (matched on ``respondent_id``).

    Raises
    ------
    ValueError
        When the tables share fewer than two companies.
    """
    for name, table in (("A", scores_a), ("B", scores_b)):
        missing = {"respondent_id", "dmi", "level"} - set(table.columns)
        if missing:
            raise ValueError(f"score table {name} lacks {', '.join(sorted(missing))}")
    keep = ["respondent_id", "dmi", "level"]
    with_tiers = "tier" in scores_a.columns and "tier" in scores_b.columns
    if with_tiers:
        keep.append("tier")
    merged = scores_a[keep].merge(scores_b[keep], on="respondent_id", suffixes=("_a", "_b"))
    if len(merged) < 2:
        raise ValueError(
            f"the two score tables share {len(merged)} companies; at least 2 are needed"
        )
    rank_a = merged["dmi_a"].rank(ascending=False, method="average")
    rank_b = merged["dmi_b"].rank(ascending=False, method="average")
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
    rho = spearmanr(merged["dmi_a"], merged["dmi_b"]).statistic
    tau = kendalltau(merged["dmi_a"], merged["dmi_b"]).statistic
    levels = pd.crosstab(merged["level_a"], merged["level_b"])
    tiers = tier_changed = None
    if with_tiers:
        both = merged.dropna(subset=["tier_a", "tier_b"])
        tiers = pd.crosstab(both["tier_a"].astype(int), both["tier_b"].astype(int))
        tier_changed = int((both["tier_a"] != both["tier_b"]).sum())
    return RankingComparison(
        n=int(len(merged)),
        spearman=float(rho),
        kendall=float(tau),
        movers=movers,
        level_changed=int((merged["level_a"] != merged["level_b"]).sum()),
        levels=levels,
        tier_changed=tier_changed,
        tiers=tiers,
    )

"""Ranking comparison, checked on a case worked by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from dmi.analysis.compare import compare_rankings
from dmi.bulk.cohort import distribution


def test_a_hand_worked_comparison():
    a = pd.DataFrame(
        {
            "respondent_id": ["p", "q", "r", "s"],
            "dmi": [90, 70, 50, 30],
            "level": [4, 3, 2, 1],
            "tier": [4, 3, 2, 1],
        }
    )
    # B swaps q and r, and drops s to the bottom level
    b = pd.DataFrame(
        {
            "respondent_id": ["s", "r", "q", "p"],
            "dmi": [10, 75, 60, 95],
            "level": [0, 3, 3, 4],
            "tier": [1, 3, 2, 4],
        }
    )
    result = compare_rankings(a, b)
    assert result.n == 4
    # ranks A: p1 q2 r3 s4; B: p1 r2 q3 s4 -> d^2 = 0+1+1+0, rho = 1 - 6*2/(4*15) = 0.8
    assert result.spearman == pytest.approx(0.8)
    # one discordant pair (q, r) out of 6: tau = (5 - 1) / 6
    assert result.kendall == pytest.approx(4 / 6)
    movers = result.movers.set_index("respondent_id")["rank_change"]
    assert movers.to_dict() == {"q": -1.0, "r": 1.0, "p": 0.0, "s": 0.0}
    assert set(result.movers["respondent_id"].head(2)) == {"q", "r"}
    assert result.level_changed == 2  # r 2 -> 3, s 1 -> 0
    assert result.tier_changed == 2
    assert int(result.levels.to_numpy().sum()) == 4


def test_too_few_shared_companies():
    a = pd.DataFrame({"respondent_id": ["p"], "dmi": [1.0], "level": [0]})
    with pytest.raises(ValueError, match="share 1 companies; at least 2"):
        compare_rankings(a, a)
    with pytest.raises(ValueError, match="score table B lacks level"):
        compare_rankings(a, a.drop(columns="level"))


def test_distribution_counts_reconcile():
    scores = pd.DataFrame(
        {"sector": ["C13", "C13", "C34", None], "level": [1, 2, 2, 0], "tier": [1, None, 2, 1]}
    )
    levels = distribution(scores, "sector", "level")
    assert levels.loc["C13", "1"] == 1 and levels.loc["C13", "2"] == 1
    assert levels.loc["(blank)", "0"] == 1
    assert levels["total"].sum() == len(scores)
    tiers = distribution(scores, "sector", "tier")
    assert tiers.loc["C13", "(none)"] == 1
    with pytest.raises(ValueError, match="no 'region' column"):
        distribution(scores, "region")

"""Ranking comparison, checked on a case worked by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, spearmanr

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
    from dmi.errors import DataError, ParameterError

    a = pd.DataFrame({"respondent_id": ["p"], "dmi": [1.0], "level": [0]})
    with pytest.raises(DataError, match="share 1 companies; at least 2"):
        compare_rankings(a, a)
    with pytest.raises(ParameterError, match="score table B lacks level"):
        compare_rankings(a, a.drop(columns="level"))


def _table(values, ids=None):
    ids = ids or [f"c{i}" for i in range(len(values))]
    return pd.DataFrame({"respondent_id": ids, "dmi": values, "level": [1] * len(values)})


@pytest.mark.parametrize(
    "a,b,constant",
    [
        ([10.0, 20.0, 30.0], [100.0, 100.0, 100.0], "B"),  # every company on the BoD frontier
        ([50.0, 50.0, 50.0, 50.0], [1.0, 3.0, 2.0, 4.0], "A"),
        ([44.6, 44.599999999999994, 44.6], [1.0, 2.0, 3.0], "A"),  # equal at 9 decimals
        ([7.0, 7.0], [7.0, 7.0], "both"),
    ],
)
def test_a_correlation_with_constant_ranks_is_undefined_and_says_why(a, b, constant):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no scipy ConstantInputWarning leaks
        result = compare_rankings(_table(a), _table(b), names=("official", "bod"))
    assert np.isnan(result.spearman) and np.isnan(result.kendall)
    note = result.correlation_note
    assert "undefined" in note and "constant ranks" in note
    named = {"A": "official", "B": "bod", "both": "both schemes"}[constant]
    assert named in note
    assert "无定义" in note.render("zh")


@pytest.mark.parametrize("seed", range(8))
def test_defined_correlations_are_scipys_with_no_note(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 30))
    a = np.round(rng.uniform(0, 100, n), int(rng.integers(0, 3)))  # ties, sometimes
    b = a + rng.normal(0, 20, n)
    result = compare_rankings(_table(a), _table(b))
    assert result.spearman == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    assert result.kendall == pytest.approx(kendalltau(a, b).statistic, abs=1e-12)
    assert result.correlation_note == ""


def test_companies_without_an_index_are_left_out_of_the_correlations():
    a = _table([10.0, 20.0, 30.0, 40.0])
    b = _table([1.0, 2.0, np.nan, 3.0])
    result = compare_rankings(a, b)
    assert result.spearman == pytest.approx(1.0) and result.kendall == pytest.approx(1.0)
    few = compare_rankings(a, _table([1.0, np.nan, np.nan, np.nan]))
    assert np.isnan(few.spearman) and "under both schemes are 1," in few.correlation_note


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

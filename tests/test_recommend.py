"""Next-best improvements: exact gains, checked by hand and by re-scoring."""

from __future__ import annotations

import pandas as pd
import pytest

import dmi
from dmi.results.recommend import improvements

from .conftest import best_answers, worst_answers


@pytest.fixture(scope="module")
def official(miit):
    return dmi.IndexModel(miit).fit()


def test_worst_company_gets_the_biggest_single_steps_first(miit, official):
    # by hand from the official points: energy intensity "increased" -> "unchanged" +3.5,
    # pass rate "decreased" -> "unchanged" +3.5, IT coverage none -> one link +2.5,
    # network: one more kind +2
    top = improvements(official, {"respondent_id": "w", **worst_answers(miit)}, top=4)
    assert [(i.item, i.gain) for i in top] == [
        ("energy_intensity", 3.5),
        ("pass_rate", 3.5),
        ("it_coverage", 2.5),
        ("network", 2.0),
    ]
    assert top[0].new_dmi == pytest.approx(3.5)
    assert top[0].change_zh and top[0].change_en


def test_gains_equal_rescoring_the_changed_answers(miit, official):
    from dmi.instruments.synth import synthesise

    company = synthesise(miit, 1, seed=8, missing_rate=0).iloc[0].to_dict()
    base = official.score(pd.DataFrame([company]))["dmi"].iloc[0]
    for imp in improvements(official, company, top=10):
        changed = {**company, imp.item: imp.answer}
        again = official.score(pd.DataFrame([changed]))["dmi"].iloc[0]
        assert again - base == pytest.approx(imp.gain)
        assert imp.gain > 0


def test_a_perfect_company_has_nothing_left(miit, official):
    assert improvements(official, {"respondent_id": "b", **best_answers(miit)}) == []


def test_works_for_other_methods(miit):
    model = dmi.IndexModel(miit, weighting="equal", weight_level="dimension").fit()
    top = improvements(model, {"respondent_id": "w", **worst_answers(miit)}, top=3)
    # operations counts under equal weights: a scenario step is worth 100/4 * (1/4)/16 points
    assert any(
        i.dimension == "operations"
        for i in improvements(model, {"respondent_id": "w", **worst_answers(miit)}, top=40)
    )
    assert all(i.gain > 0 for i in top)


def test_a_change_that_does_not_raise_the_index_is_never_advised(miit):
    from dmi.results.recommend import GAIN_DECIMALS, candidate_rows, rank_candidates

    answers = {"respondent_id": "w", **worst_answers(miit)}
    _, candidates = candidate_rows(miit, answers)
    n = len(candidates)
    assert n >= 5 and GAIN_DECIMALS == 6
    # the company at 50; candidates that lower the index, leave it, raise it by float noise
    # only (a gain of 0 as reported), or raise it for real
    base = 50.0
    values = [base - 0.5, base, base + 2e-9, base + 4.9e-7, base + 0.25] + [base - 1.0] * (n - 5)
    scored = pd.DataFrame({"dmi": [base, *values], "level": 2})
    found = rank_candidates(candidates, scored, top=n)
    assert [(imp.item, imp.gain) for imp in found] == [(candidates[4].item.code, 0.25)]
    assert all(imp.gain > 0 for imp in found)
    # a gain of exactly the reported precision is kept
    values[3] = base + 1e-6
    found = rank_candidates(candidates, pd.DataFrame({"dmi": [base, *values], "level": 2}), top=n)
    assert sorted(imp.gain for imp in found) == [1e-6, 0.25]

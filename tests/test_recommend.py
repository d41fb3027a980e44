"""Next-best improvements: exact gains, checked by hand and by re-scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dmi
from dmi.errors import InstrumentError
from dmi.instruments import parse_instrument, shipped_path
from dmi.instruments.items import item_type
from dmi.instruments.synth import synthesise
from dmi.results.recommend import candidate_rows, improvements

from .conftest import ALL_TYPES_YAML, best_answers, worst_answers


@pytest.fixture(scope="module")
def official(miit):
    return dmi.IndexModel(miit).fit()


def test_worst_company_gets_the_biggest_single_steps_first(miit, official):
    # by hand from the official points: IT coverage none -> one link +2.5, network: one more
    # kind +2, investment to the next band +1.875, one more management rule +1.875 (ties by
    # code); energy intensity and pass rate (+3.5 each) are outcomes, never advised
    top = improvements(official, {"respondent_id": "w", **worst_answers(miit)}, top=4)
    assert [(i.item, i.gain) for i in top] == [
        ("it_coverage", 2.5),
        ("network", 2.0),
        ("investment", 1.875),
        ("mechanisms", 1.875),
    ]
    assert top[0].new_dmi == pytest.approx(2.5)
    assert top[0].change_zh and top[0].change_en
    # the banded investment share says what to reach, not a range to pick
    assert top[2].change_zh == "把数字化投入占营业收入的比例提高到 10% 以上"
    assert top[2].change_en == "raise digital investment as a share of revenue above 10%"


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


# -- only changes a company can make, worded as what to do --------------------------------------

OUTCOMES = {"energy_intensity", "pass_rate", "revenue_per_employee", "cost_ratio"}


def _every_answer(instrument, item):
    """Every answer an item can have (blank included), as the survey would store it."""
    if item.type in ("single", "multi"):
        return [None, *(o.value for o in item.options)]
    if item.type == "number" and item.bands:
        return [None, *(b.value for b in item.bands)]
    if item.type == "scenario":
        return [None, *(lv.value for lv in instrument.scenario_levels)]
    if item.type == "yesno":
        return [None, "no", "yes"]
    if item.type == "likert":
        return [None, *range(item.scale.min, item.scale.max + 1)]
    return [None, item.min, item.max]


def test_the_shipped_instrument_marks_its_outcome_questions(miit):
    # the four questions of 数字化成效 that ask how a result changed (energy intensity, pass
    # rate, revenue per employee, costs); the others are things a company does
    assert {i.code for i in miit.items if not i.actionable} == OUTCOMES
    assert all(miit.item(code).type == "single" for code in OUTCOMES)


def test_no_advice_for_an_outcome_question_whatever_the_answers(miit, official):
    companies = synthesise(miit, 60, seed=21, missing_rate=0.1).to_dict("records")
    companies.append({"respondent_id": "w", **worst_answers(miit)})
    for item in miit.items:
        if item.actionable:
            continue
        for answer in _every_answer(miit, item):
            # the item's own type would propose a better answer; the advice never does
            _, found = candidate_rows(miit, {**worst_answers(miit), item.code: answer})
            assert item.code not in {c.item.code for c in found}
    for company in companies:
        advised = improvements(official, company, top=100)
        assert not {i.item for i in advised} & OUTCOMES
        assert all(miit.item(i.item).actionable for i in advised)


def test_every_advice_raises_the_index_by_what_it_says(miit, official):
    companies = synthesise(miit, 25, seed=5, missing_rate=0.15).to_dict("records")
    for company in companies:
        base = official.score(pd.DataFrame([company]))["dmi"].iloc[0]
        advised = improvements(official, company, top=100)
        changed = pd.DataFrame(
            [{**company, "respondent_id": f"c{n}", i.item: i.answer} for n, i in enumerate(advised)]
        )
        if advised:
            again = official.score(changed)["dmi"].to_numpy()
            assert np.all(again > base)
            assert again - base == pytest.approx([i.gain for i in advised])


def test_every_actionable_item_that_counts_is_advised_to_the_weakest_company(miit, official):
    # the official index counts foundation, management and performance (the scenarios of
    # 数字化经营 are reported apart): every actionable item there has a step up from the worst
    advised = {i.item for i in improvements(official, worst_answers(miit), top=200)}
    counted = {
        p.item.code
        for p in miit.item_paths
        if p.dimension.code != "operations" and p.item.actionable
    }
    assert advised == counted


def test_a_banded_number_is_advised_as_the_edge_to_pass_not_a_band_to_pick(miit):
    for item in miit.items:
        if item.type != "number" or not item.bands:
            continue
        kind = item_type(item)
        for at, band in enumerate(item.bands[:-1]):
            (step,) = kind.improvements(item, miit, band.value)
            nxt = item.bands[at + 1]
            edge = f"{nxt.lower:g}{item.unit}"
            assert step.answer == nxt.value
            assert step.zh == f"把{item.subject.zh}提高到 {edge} 以上"
            assert step.en == f"raise {item.subject.en} above {edge}"
            # no range label ("10%以上至20%") offered as a choice
            assert nxt.zh not in step.zh and nxt.en not in step.en
        assert kind.improvements(item, miit, item.bands[-1].value) == []


def test_a_band_closed_on_the_left_is_reached_at_its_edge_and_the_subject_is_optional():
    text = ALL_TYPES_YAML.replace(
        '            unit: "%"\n', '            unit: "%"\n            closed: left\n', 1
    )
    assert "closed: left" in text
    instrument = parse_instrument(text, source="left.yaml")
    share = instrument.item("share")
    (step,) = item_type(share).improvements(share, instrument, "A")
    assert (step.zh, step.en) == ("提高到至少 50%", "raise it to at least 50%")


def _shipped_text() -> str:
    return shipped_path("miit-2024-manufacturing.yaml").read_text(encoding="utf-8")


def test_advice_settings_are_validated_and_keep_the_content_hash(miit):
    text = _shipped_text()
    plain = text.replace(
        "            actionable: false  # an outcome: no advice to answer otherwise\n", ""
    )
    assert plain != text
    # marking outcomes changes no score: every model fitted on the instrument stays valid
    assert parse_instrument(plain, source="plain.yaml").hash == miit.hash
    unmarked = parse_instrument(plain, source="plain.yaml")
    assert all(item.actionable for item in unmarked.items)
    bad = text.replace("actionable: false  #", "actionable: sometimes  #", 1)
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(bad, source="bad.yaml")
    assert "energy_intensity" in str(caught.value) and "actionable" in str(caught.value)

"""Survey pages and per-page checks agree with the scoring encoder."""

from __future__ import annotations

import pandas as pd

import dmi
from dmi.instruments.export import template
from dmi.service.survey import (
    answers_frame,
    check_page,
    clean_answers,
    missing_before_submit,
    survey_pages,
)

from .conftest import best_answers


def test_pages_cover_the_profile_and_every_item_once(miit):
    pages = survey_pages(miit)
    assert pages[0].code == "profile" and [p.code for p in pages[1:]] == [
        d.code for d in miit.dimensions
    ]
    codes = [c for p in pages[1:] for c in p.codes]
    assert codes == [i.code for i in miit.items]


def test_page_checks_name_the_question_and_reason(miit):
    pages = {p.code: p for p in survey_pages(miit)}
    foundation = pages["foundation"]
    problems = check_page(miit, foundation, {"network": "Z"}, "en")
    assert "not an option" in problems["network"]
    assert problems.keys() <= set(foundation.codes)
    answers = best_answers(miit)
    assert check_page(miit, foundation, answers, "en") == {}
    profile = check_page(miit, pages["profile"], {"employees": -5, "sector": "X99"}, "en")
    assert "expected between" in profile["employees"]
    assert "not one of the options" in profile["sector"]


def test_complete_answers_have_nothing_missing_and_score_as_dmi_score(miit, tmp_path):
    answers = {**best_answers(miit), "network": ["B", "C"], "sector": "C34"}
    assert missing_before_submit(miit, answers, "en") == {}
    assert clean_answers({"a": ["x", "y"], "b": "", "c": None, "d": 0}) == {"a": "x;y", "d": 0}
    row = answers_frame(miit, answers, "me")
    assert list(row.columns) == list(template(miit).columns)
    path = tmp_path / "one.csv"
    row.to_csv(path, index=False)
    from dmi.cli import main

    assert main(["score", str(path), "-o", str(tmp_path / "out.csv"), "-q"]) == 0
    scored = pd.read_csv(tmp_path / "out.csv")
    direct = (
        dmi.IndexModel(miit)
        .fit()
        .score(pd.DataFrame([{"respondent_id": "me", **clean_answers(answers)}]))
    )
    assert scored["dmi"].iloc[0] == direct["dmi"].iloc[0]


def test_the_survey_asks_every_question_even_where_scoring_would_impute(miit):
    foundation = survey_pages(miit)[1]
    problems = check_page(miit, foundation, {"network": "B"}, "en")
    assert set(problems) == set(foundation.codes) - {"network"}
    assert set(problems.values()) == {"please answer this question"}
    assert check_page(miit, foundation, {}, "zh")["network"] == "必答题，请作答"
    # the instrument's own policy (treat as lowest) accepts blanks
    assert check_page(miit, foundation, {}, "en", require_all=False) == {}

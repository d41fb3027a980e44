"""An agency's counts at the edges: "one condition away" on the 2026 tier 1 (common conditions
and the better of its two paths), a condition met through an exemption, a 复核 kept among the
candidates and a holder left out; worked by hand."""

from __future__ import annotations

import pandas as pd

import dmi.eligibility as el

from .test_eligibility_edges_ladder import GATE, TS60

# 专精特新 2026 at every edge; sr26_share is manual
SR = {
    **GATE,
    "holds_innovative": "yes",
    "niche_years": 3,
    "revenue_y1": 1500,
    "revenue_y2": 1500,
    "main_revenue_y1": 1200,
    "debt_ratio": 80,
    "rd_y1": 100,
    "rd_y2": 100,
    "ip_class1": 1,
    "eval_score": 50,
}

FIRMS = [
    {**TS60, "respondent_id": "T_ok", "province": "广东"},  # eligible by 科技型
    # 科技型 fails on size only; 创新型's scorecard facts are missing (unknown): one away either
    # way -> the first path with the fewest: in22_score
    {**TS60, "respondent_id": "T_size", "staff": 501, "province": "广东"},
    # both 科技型 conditions fail (size, staff share 19 % -> 8 points: 56); 创新型 fails its
    # scorecard only -> one away, in22_score
    {
        **TS60,
        "respondent_id": "T_two",
        "staff": 501,
        "rd_staff": 95,
        "province": "江苏",
        "strategic_emerging": "no",
        "main_revenue_y1": 100,
        "main_revenue_y2": 100,
        "debt_ratio": 90,
        "innovation_title": "no",
        "equity_3y": 0,
        "ip_class1_own": "no",
        "ip_class1_high_value": "no",
    },
    {**SR, "respondent_id": "S_manual", "province": "江苏"},  # only the manual one left
    {**SR, "respondent_id": "S_one", "debt_ratio": 80.01, "province": "江苏"},
    {**SR, "respondent_id": "S_held", "debt_ratio": 80.01, "holds_specialised": "yes"},
    # a 复核: the score of either year; debt fails -> one away, kept as a candidate
    {
        **SR,
        "respondent_id": "S_re",
        "debt_ratio": 80.01,
        "holds_specialised": "recheck",
        "eval_score": 40,
        "eval_score_prev": 50,
    },
    # no class-I IP, but the exemption (a provincial R&D institution): not missing
    {**SR, "respondent_id": "S_waived", "ip_class1": 0, "rd_institution": "provincial"},
    # two conditions fail: not one away
    {**SR, "respondent_id": "S_two", "debt_ratio": 81, "niche_years": 2},
]


def test_one_away_and_candidates_by_hand():
    batch = el.evaluate_batch(pd.DataFrame(FIRMS), "2026")
    assert batch.n_rejected == 0
    res = batch.results.set_index("respondent_id")
    assert res.loc["T_ok", "innovative_status"] == "eligible"
    assert res.loc["T_two", "ts_score"] == "not_met" and res.loc["T_two", "in22_score"] == "not_met"
    assert res.loc["S_waived", "sr26_ip"] == "met"
    found = el.cohort(batch)
    cand = found.candidates
    sr = cand[cand["rung"] == "specialised"].set_index("respondent_id")
    # S_held holds the title: left out; S_two is two away
    assert set(sr.index) == {"S_manual", "S_one", "S_re", "S_waived"}
    assert sr.loc["S_manual", "status"] == "manual" and not sr.loc["S_manual", "one_away"]
    assert sr.loc["S_waived", "status"] == "manual" and not sr.loc["S_waived", "one_away"]
    for rid in ("S_one", "S_re"):
        assert sr.loc[rid, "one_away"] and sr.loc[rid, "missing"] == "sr26_debt"
    inn = cand[cand["rung"] == "innovative"].set_index("respondent_id")
    assert inn.loc["T_ok", "status"] == "eligible"
    assert inn.loc["T_size", "missing"] == "in22_score" and inn.loc["T_size", "one_away"]
    assert inn.loc["T_two", "missing"] == "in22_score" and inn.loc["T_two", "one_away"]
    table = found.table()
    away = table[(table["table"] == "one_away") & (table["by"] == "province")]
    spec = away[away["rung"] == "specialised"].set_index("group")["n"]
    # 江苏: S_one; blank province: S_re (S_held holds the title: neither counted nor listed)
    assert spec.to_dict() == {"江苏省": 1, "(blank)": 1}
    status = table[(table["table"] == "status") & (table["by"] == "all")]
    for rung in el.RUNGS:
        assert status[status["rung"] == rung]["n"].sum() == len(FIRMS)


def test_of_two_paths_one_short_each_the_missing_one_is_of_the_path_the_status_took():
    # 创新型 fails its scorecard (not_met); 科技型 lacks a fact its score needs (unknown): one
    # short either way. The status, the points and the gaps are 科技型's (the better state):
    # the condition missing is too (it was in22_score, the first path's, beside "unknown")
    t_two = next(f for f in FIRMS if f["respondent_id"] == "T_two")
    tie = {**t_two, "respondent_id": "T_tie", "staff": 100, "rd_staff": 19}
    del tie["standard_lead"]
    batch = el.evaluate_batch(pd.DataFrame([tie]), "2026")
    row = batch.results.iloc[0]
    assert (row["in22_score"], row["ts_size"], row["ts_score"]) == ("not_met", "met", "unknown")
    assert row["innovative_status"] == "unknown" and "standard_lead" in row["gaps"]
    found = el.cohort(batch).candidates.iloc[0]
    assert found["one_away"] and found["missing"] == "ts_score"
    # the first path still goes first when the states tie too (T_size's in22_score above)

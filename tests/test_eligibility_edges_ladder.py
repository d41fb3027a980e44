"""The ladder as a whole at its edges: scorecard totals, group floors, direct routes, the IP
exemptions, prerequisites, version routing, the digital level, value checks and the gaps.

Worked by hand from issue #16 and reference/cultivation.md (not from the code). Firms are
written out with their points indicator by indicator in the comments.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import dmi.eligibility as el
from dmi.cli.main import main

from .test_eligibility import SR22 as SR22_SCORED

GATE = {"sme": "yes", "credit_clean": "yes", "product_allowed": "yes", "no_incident": "yes"}

# 科技型 (115号) at 60 points exactly: staff 20 % -> 12, R&D 4 % of revenue -> 30, 3 class-II items
# -> 18; no direct route
TS60 = {
    **GATE,
    "staff": 100,
    "rd_staff": 20,
    "revenue_y1": 10000,
    "assets_y1": 5000,
    "cost_y1": 100000,
    "rd_y1": 400,
    "ip_class1": 0,
    "ip_class2": 3,
    "high_tech_title": "no",
    "award": "none",
    "rd_institution": "none",
    "standard_lead": "no",
}


def firm(base: dict, **changes) -> dict:
    out = {**base, **changes}
    return {k: v for k, v in out.items() if v is not None}


def cond(result: el.FirmResult, rung: str, cid: str) -> el.ConditionResult:
    return result[rung].condition(cid)


# -- 创新型 scorecard (63号附件1): pass ≥ 60 and floors 创新能力 ≥ 20, 成长性 ≥ 15, 专业化 ≥ 15 ----
#   创新能力: one class-II item 5; R&D 300 / 10000 = 3 % -> 15                      = 20 (floor)
#   成长性:   main growth 6300 / 6000 - 1 = 5 % -> 10; debt 75 % -> (55, 75] 5      = 15 (floor)
#   专业化:   strategic emerging 10; main share 6300 / 10000 = 63 % -> [60, 70) 15  = 25
#   total 60 = the pass mark: every edge at once
IN60 = {
    **GATE,
    "ip_class1": 0,
    "ip_class2": 1,
    "rd_y1": 300,
    "revenue_y1": 10000,
    "main_revenue_y1": 6300,
    "main_revenue_y2": 6000,
    "debt_ratio": 75,
    "strategic_emerging": "yes",
    # no direct route
    "award": "none",
    "high_tech_title": "no",
    "innovation_title": "no",
    "rd_institution": "none",
    "equity_3y": 0,
}


def test_the_innovative_scorecard_at_the_pass_mark_and_every_floor():
    r = el.evaluate(IN60, "2022")
    sc = r["innovative"].scorecard
    assert {g.id: g.points for g in sc.groups} == {
        "innovation": 20,
        "growth": 15,
        "specialisation": 25,
    }
    assert sc.points == 60 and sc.pass_mark == 60 and sc.state == "met"
    assert r["innovative"].status == "eligible" and r["innovative"].points == 60
    assert r["innovative"].route_used is None


@pytest.mark.parametrize(
    "changes, total, short",
    [
        # R&D 299.99 / 10000 = 2.9999 % -> 10: 创新能力 15 < 20 (total 55 too)
        ({"rd_y1": 299.99}, 55, "innovation"),
        # debt 75.01 % -> 0: 成长性 10 < 15
        ({"debt_ratio": 75.01}, 55, "growth"),
        # not strategic emerging -> 5: total 55 < 60 though every floor holds
        ({"strategic_emerging": "no"}, 55, None),
    ],
)
def test_the_innovative_scorecard_just_below(changes, total, short):
    r = el.evaluate(firm(IN60, **changes), "2022")
    sc = r["innovative"].scorecard
    assert sc.points == total and sc.state == "not_met"
    assert r["innovative"].status == "not_yet"
    if short:
        group = next(g for g in sc.groups if g.id == short)
        assert group.points < group.floor


def test_a_group_floor_fails_even_with_points_to_spare():
    # 创新能力: no IP 0; R&D 1 % -> 5 = 5 < 20. 成长性: growth 15 % -> 20; debt 55 -> 10 = 30.
    # 专业化: strategic 10, main 92 % -> 20 = 30. Total 65 ≥ 60, yet not met.
    f = firm(
        IN60, ip_class2=0, rd_y1=100, main_revenue_y1=9200, main_revenue_y2=8000, debt_ratio=55
    )
    sc = el.evaluate(f, "2022")["innovative"].scorecard
    assert sc.points == 65 and sc.state == "not_met"


def test_a_missing_fact_leaves_the_scorecard_unknown_only_while_it_could_change_the_outcome():
    # strategic emerging blank: 5 or 10 -> 55 to 60: unknown
    r = el.evaluate(firm(IN60, strategic_emerging=None), "2022")
    sc = r["innovative"].scorecard
    assert (sc.points_at_least, sc.points_at_most, sc.state) == (55, 60, "unknown")
    assert r["innovative"].status == "unknown"
    assert "strategic_emerging" in r.gaps
    # main share 92 % (20) and growth 15 % (20): the blank makes 65 or 70, met whatever it is
    r = el.evaluate(
        firm(IN60, strategic_emerging=None, main_revenue_y1=9200, main_revenue_y2=8000), "2022"
    )
    assert r["innovative"].scorecard.state == "met" and r["innovative"].status == "eligible"


@pytest.mark.parametrize(
    "route, option",
    [
        ({"high_tech_title": "yes"}, "high_tech"),
        ({"innovation_title": "yes"}, "demonstration"),
        ({"rd_institution": "national"}, "lab"),
        ({"award": "provincial", "award_year": 2020}, "award"),
    ],
)
def test_the_innovative_direct_route_overrides_a_failing_scorecard_and_is_named(route, option):
    r = el.evaluate(firm(IN60, strategic_emerging="no", **route), "2022")
    rung = r["innovative"]
    assert rung.scorecard.state == "not_met" and rung.points == 55
    assert rung.status == "eligible"
    assert rung.route_used == f"in22_direct:{option}"
    assert rung.condition("in22_score").state == "met"
    assert rung.condition("in22_score").via == f"in22_direct:{option}"


def test_the_equity_route_leaves_the_investors_to_a_reviewer():
    r = el.evaluate(firm(IN60, strategic_emerging="no", equity_3y=500), "2022")
    rung = r["innovative"]
    assert rung.condition("in22_score").state == "manual" and rung.status == "manual"
    assert rung.route_used is None
    assert any("合格机构投资者" in e for e in rung.condition("in22_direct").evidence)


# -- 专精特新 2022 scorecard (63号附件2): pass ≥ 60, no floors; 特色化 given as featured_points ----
#   专业化: main 85 % -> 5; growth mean(11.1 %, 13.3 %) -> 10; niche 6 -> 3; six_bases 3  = 21
#   精细化: level 2 -> 3; 1 quality item -> 3; margin 6 % -> 6; debt 55 % -> 3           = 15
#   创新能力: in-house class-I 8; R&D max(120万 -> 2, 6 % -> 6) 6; staff 12 % -> 3; city 4 = 21
#   = 57 + 特色化 (featured_points): test_eligibility's SR22 without its id and its 特色化 points
SR22 = {k: v for k, v in SR22_SCORED.items() if k not in ("respondent_id", "featured_points")}


@pytest.mark.parametrize(
    "featured, total, state",
    [(3, 60, "met"), (2, 59, "not_met"), (15, 72, "met"), (0, 57, "not_met")],
)
def test_the_specialised_2022_scorecard_at_its_pass_mark(featured, total, state):
    r = el.evaluate(firm(SR22, featured_points=featured), "2022")
    sc = r["specialised"].scorecard
    assert sc.points == total and sc.state == state
    assert r["specialised"].condition("sr22_score").state == state
    assert r["specialised"].status == ("eligible" if state == "met" else "not_yet")


@pytest.mark.parametrize(
    "featured, total, state",
    [(2.99, 59.99, "not_met"), (2.9999999, 59.9999999, "not_met"), (7.35, 64.35, "met")],
)
def test_points_with_decimals_are_added_exactly_as_written(featured, total, state):
    # a province's assessed points may have decimals: 57 + 2.9999999 is short of 60, and
    # 57 + 2.99 is written 59.99 (not 59.9900016784668, as in single precision)
    one = el.evaluate(firm(SR22, featured_points=featured), "2022")["specialised"]
    assert one.points == pytest.approx(total, abs=1e-12) and one.scorecard.state == state
    frame = el.evaluate(pd.DataFrame([firm(SR22, featured_points=featured)]), "2022")
    assert frame.loc[0, "specialised_points"] == pytest.approx(total, abs=1e-12)
    assert repr(float(frame.loc[0, "specialised_points"])) == repr(total)


def test_the_featured_group_of_a_province_without_indicators_is_unknown():
    # no province block and no featured_points: 57 + 0..15 -> unknown
    r = el.evaluate(firm(SR22, province="广东"), "2022")
    sc = r["specialised"].scorecard
    assert (sc.points_at_least, sc.points_at_most, sc.state) == (57, 72, "unknown")
    assert r["specialised"].status == "unknown"


@pytest.mark.parametrize(
    "route, option",
    [
        ({"award": "provincial", "award_rank": 3}, "award"),
        ({"award": "national", "award_rank": 5}, "award"),
        ({"rd_y1": 1000, "rd_y2": 1000, "revenue_y1": 20000, "revenue_y2": 20000}, "rd"),
        ({"makers_china": "top500"}, "makers"),
    ],
)
def test_the_specialised_2022_direct_route_replaces_the_scorecard(route, option):
    r = el.evaluate(firm(SR22, featured_points=0, **route), "2022")
    rung = r["specialised"]
    assert rung.scorecard.state == "not_met"
    assert rung.status == "eligible" and rung.route_used == f"sr22_direct:{option}"
    assert rung.condition("sr22_score").via == f"sr22_direct:{option}"


@pytest.mark.parametrize(
    "route",
    [
        {"award": "provincial", "award_rank": 4},
        {"award": "national", "award_rank": 6},
        {"rd_y1": 999.99, "rd_y2": 1000, "revenue_y1": 20000, "revenue_y2": 20000},
        {"award": "national", "award_rank": 1, "award_year": 2018},  # 2022 - 4: out of window
    ],
)
def test_the_specialised_2022_direct_route_just_missed(route):
    r = el.evaluate(firm(SR22, featured_points=0, **route), "2022")
    assert r["specialised"].status == "not_yet" and r["specialised"].route_used is None


def test_a_direct_route_replaces_only_what_it_says():
    # 63号附件2: the route replaces sr22_score, not the R&D condition
    r = el.evaluate(firm(SR22, featured_points=0, makers_china="top500", rd_y1=99), "2022")
    rung = r["specialised"]
    assert rung.condition("sr22_score").state == "met"
    assert rung.condition("sr22_rd").state == "not_met" and rung.status == "not_yet"
    # 63号附件3: the 小巨人 route replaces R&D, the R&D institution and IP, not the debt ratio
    lg = {
        **GATE,
        "award": "national",
        "award_rank": 3,
        "ip_class1": 0,
        "rd_institution": "none",
        "debt_ratio": 70.01,
    }
    r = el.evaluate(lg, "2022")["little_giant"]
    assert {c: r.condition(c).state for c in ["lg22_rd", "lg22_lab", "lg22_ip", "lg22_debt"]} == {
        "lg22_rd": "met",
        "lg22_lab": "met",
        "lg22_ip": "met",
        "lg22_debt": "not_met",
    }
    assert r.route_used == "lg22_direct:award"


# -- the IP exemptions of 2026 --------------------------------------------------------------------

SR26 = {
    **GATE,
    "holds_innovative": "yes",
    "niche_years": 3,
    "revenue_y1": 1500,
    "revenue_y2": 3333.33,
    "main_revenue_y1": 1200,  # exactly 80 %
    "debt_ratio": 80,
    "rd_y1": 100,
    "rd_y2": 100,  # 6.67 % and 3.0000003 %
    "ip_class1": 0,
    "award": "none",
    "rd_institution": "none",
    "eval_score": 50,
}


def test_the_specialised_2026_firm_at_every_edge_fails_only_for_ip():
    r = el.evaluate(SR26)["specialised"]
    states = {c.id: c.state for c in r.conditions}
    assert states.pop("sr26_ip") == "not_met" and states.pop("sr26_share") == "manual"
    assert set(states.values()) == {"met"}
    assert r.status == "not_yet"


@pytest.mark.parametrize(
    "waiver, option",
    [({"rd_institution": "provincial"}, "lab"), ({"award": "national", "award_rank": 2}, "award")],
)
def test_the_specialised_2026_ip_exemption_is_named(waiver, option):
    r = el.evaluate(firm(SR26, **waiver))["specialised"]
    assert r.condition("sr26_ip").state == "met"
    assert r.condition("sr26_ip").via == f"sr26_ip_waiver:{option}"
    assert r.route_used == f"sr26_ip_waiver:{option}"
    assert r.status == "manual"  # the market position is still the reviewer's


def test_the_little_giant_2026_ip_exemption_needs_a_national_award_in_3_years():
    lg = {**GATE, "ip_class1": 2, "rd_institution": "national"}
    for award, state in [
        ({"award": "national", "award_rank": 3, "award_year": 2023}, "met"),
        ({"award": "national", "award_rank": 3, "award_year": 2022}, "not_met"),
        ({"award": "national", "award_rank": 4}, "not_met"),
        ({"award": "provincial", "award_rank": 1}, "not_met"),
    ]:
        r = el.evaluate(firm(lg, **award), year=2026)["little_giant"]
        assert r.condition("lg26_ip").state == state, award


# -- prerequisites and version routing ------------------------------------------------------------


def test_each_rung_needs_a_valid_title_of_the_rung_below_in_2026():
    r = el.evaluate({**GATE, "holds_innovative": "no", "holds_specialised": "no"})
    assert r["specialised"].condition("sr26_prereq").state == "not_met"
    assert r["little_giant"].condition("lg26_prereq").state == "not_met"
    assert r["specialised"].status == r["little_giant"].status == "not_yet"
    r = el.evaluate({**GATE, "holds_innovative": "recheck", "holds_specialised": "recheck"})
    assert r["specialised"].condition("sr26_prereq").state == "met"
    assert r["little_giant"].condition("lg26_prereq").state == "met"


def test_routing_in_2026_new_applicants_and_rechecks():
    new = el.evaluate({**GATE})
    # tier 1: the 2022 standards 2号第三十条 keeps (63号附件1, and 115号's 科技型)
    assert {k: (new[k].policy, new[k].applicant) for k in el.RUNGS} == {
        "innovative": ("2022", "new"),
        "specialised": ("2026", "new"),
        "little_giant": ("2026", "new"),
    }
    recheck = el.evaluate(
        {
            **GATE,
            "holds_innovative": "recheck",
            "holds_specialised": "recheck",
            "holds_little_giant": "recheck",
        }
    )
    # tier 2 by the 2026 file, tier 1 by the 2022 standards it keeps; the 2026 小巨人 复核 by
    # 63号 (117号)
    assert {k: (recheck[k].policy, recheck[k].applicant) for k in el.RUNGS} == {
        "innovative": ("2022", "recheck"),
        "specialised": ("2026", "recheck"),
        "little_giant": ("2022", "recheck"),
    }
    ids = {c.id for c in recheck["little_giant"].conditions}
    assert "lg22_rd" in ids and "lg26_rd" not in ids
    # after 2026: the 2026 rule without the growth test, the score on either of two years
    later = el.evaluate(
        {**GATE, "holds_little_giant": "recheck", "eval_score": 10, "eval_score_prev": 60},
        year=2027,
    )["little_giant"]
    assert (later.policy, later.applicant) == ("2026", "recheck")
    assert later.condition("lg26_growth").state in ("", None)
    assert later.condition("lg26_score").state == "met"
    # 2022 rules: 63号 for everyone
    old = el.evaluate({**GATE, "holds_little_giant": "recheck"}, "2022")
    assert {old[k].policy for k in el.RUNGS} == {"2022"}


def test_routing_in_a_frame_and_at_the_cli(tmp_path, capsys):
    rows = pd.DataFrame(
        [
            {**GATE, "respondent_id": "N", "holds_little_giant": "no", "revenue_y1": 6000},
            {**GATE, "respondent_id": "R", "holds_little_giant": "recheck", "revenue_y1": 6000},
        ]
    )
    out = el.evaluate(rows).set_index("respondent_id")
    assert (
        out.loc["N", "little_giant_policy"] == "2026"
        and out.loc["R", "little_giant_policy"] == "2022"
    )
    # a rule of the other version is blank on that row
    assert out.loc["N", "lg26_rev"] == "met" and pd.isna(out.loc["N", "lg22_niche"])
    assert pd.isna(out.loc["R", "lg26_rev"]) and out.loc["R", "lg22_niche"] == "unknown"
    src, dst = tmp_path / "f.csv", tmp_path / "o.csv"
    rows.to_csv(src, index=False)
    assert main(["eligibility", str(src), "-o", str(dst), "-q"]) == 0
    capsys.readouterr()
    cli = pd.read_csv(dst, dtype=str, keep_default_na=False).set_index("respondent_id")
    assert (
        cli.loc["N", "little_giant_policy"] == "2026"
        and cli.loc["R", "little_giant_policy"] == "2022"
    )
    assert cli.loc["N", "lg22_niche"] == "" and cli.loc["R", "lg26_rev"] == ""


def test_a_year_before_the_policy_is_refused():
    with pytest.raises(Exception, match="2025"):
        el.evaluate({**GATE}, "2026", year=2025)


# -- the digital level: computed from the survey before the stated one; a disagreement flagged -----


@pytest.mark.parametrize(
    "given, computed, points, flagged",
    [
        (2, 3, 5, True),
        (3, 2, 3, True),
        (4, 1, 0, True),
        (None, 3, 5, False),
        (2, None, 3, False),
        (3, 3, 5, False),
        (None, None, None, False),
    ],
)
def test_the_digital_level_used_by_the_2022_scorecard(given, computed, points, flagged):
    f = firm(SR22, featured_points=3, digital_level=given, digital_level_computed=computed)
    for lang in ("zh", "en"):
        r = el.evaluate(f, "2022", lang=lang)
        ind = next(i for i in r["specialised"].scorecard.indicators if i.id == "sr22s_digital")
        assert ind.points == points
        if points is None:
            assert (ind.points_at_least, ind.max_points) == (0, 5)
        assert bool(r.flags) == flagged
        if flagged:
            (flag,) = r.flags
            assert str(given) in flag and str(computed) in flag
    frame = el.evaluate(pd.DataFrame([{**f, "respondent_id": "D"}]), "2022", lang="en")
    assert bool(frame.loc[0, "flags"]) == flagged


# -- value checks: rejected with the reason, never evaluated ---------------------------------------


@pytest.mark.parametrize(
    "changes, column, reason",
    [
        ({"debt_ratio": 180}, "debt_ratio", "180 is above the maximum 100"),
        ({"debt_ratio": -0.01}, "debt_ratio", "below the minimum 0"),
        ({"market_share": 100.01}, "market_share", "above the maximum 100"),
        ({"main_revenue_y1": 2000.01}, "main_revenue_y1", "above revenue_y1"),
        ({"main_revenue_y2": 1800.01}, "main_revenue_y2", "above revenue_y2"),
        ({"main_revenue_y3": 1600.01}, "main_revenue_y3", "above revenue_y3"),
        ({"staff": -1, "rd_staff": 0}, "staff", "below the minimum 0"),
        (
            {"ip_class1": -1, "ip_class1_own": None, "ip_class1_high_value": None},
            "ip_class1",
            "below the minimum 0",
        ),
        ({"ip_class2": 1.5}, "ip_class2", "whole number"),
        ({"rd_staff": 101}, "rd_staff", "above staff"),
        ({"ip_class1": 0}, "ip_class1_own", "needs at least one class-I IP"),
        ({"equity_2y": 600, "equity_3y": 500}, "equity_2y", "above equity_3y"),
        ({"digital_level": 5}, "digital_level", "above the maximum 4"),
        ({"award": "provincal"}, "award", "expected one of"),
    ],
)
def test_an_impossible_value_is_rejected_with_its_reason(changes, column, reason, tmp_path, capsys):
    bad = firm(SR22, respondent_id="BAD", **changes)
    with pytest.raises(el.FactsError) as info:
        el.evaluate(bad, "2022")
    assert column in str(info.value) and reason in str(info.value)
    batch = el.evaluate_batch(pd.DataFrame([bad, firm(SR22, respondent_id="OK")]), "2022")
    assert list(batch.results["respondent_id"]) == ["OK"]
    hit = batch.rejects[batch.rejects["column"] == column]
    assert len(hit) == 1 and reason in hit.iloc[0]["reason"] and hit.iloc[0]["row"] == 2
    # the CLI: one reject line naming the row, the column and the reason; counts reconcile
    src, dst, rej = tmp_path / "f.csv", tmp_path / "o.csv", tmp_path / "r.csv"
    pd.DataFrame([bad, firm(SR22, respondent_id="OK")]).to_csv(src, index=False)
    assert main(["eligibility", str(src), "-o", str(dst), "--rejects", str(rej), "-q"]) == 0
    capsys.readouterr()
    rejects = pd.read_csv(rej, dtype=str, keep_default_na=False)
    line = rejects[rejects["column"] == column].iloc[0]
    assert line["row"] == "2" and line["respondent_id"] == "BAD" and reason in line["reason"]
    assert list(pd.read_csv(dst, dtype=str)["respondent_id"]) == ["OK"]


# -- gaps: the arithmetic by hand, both languages, and no silent break of a met condition ----------


def gaps_of(f: dict, rung: str, policy: str = "2026", lang: str = "en") -> dict[str, el.Gap]:
    r = el.evaluate(f, policy, lang=lang, max_gaps=None)
    return {g.condition: g for g in r[rung].gaps if g.condition}


SR26_OK = {
    **GATE,
    "holds_innovative": "yes",
    "niche_years": 3,
    "revenue_y1": 4000,
    "revenue_y2": 3600,
    "main_revenue_y1": 3600,  # 90 %
    "debt_ratio": 60,
    "rd_y1": 200,  # 5 %
    "rd_y2": 200,  # 5.6 %
    "ip_class1": 1,
    "eval_score": 55,
}


@pytest.mark.parametrize(
    "changes, cid, fact, current, target, change, text",
    [
        # 3 % of 4000 = 120: +24 to the 96 there is
        ({"rd_y1": 96}, "sr26_rd", "rd_y1", 2.4, 3, 24, "2.4% → 3% (+24万元"),
        # 3 % of 3600 = 108: +18
        ({"rd_y2": 100, "revenue_y2": 3600}, "sr26_rd", "rd_y2", 2.78, 3, 8, "→ 3% (+8万元"),
        # the amount: 100 - 99 = 1
        (
            {"rd_y1": 99, "revenue_y1": 1980, "main_revenue_y1": 1600},
            "sr26_rd",
            "rd_y1",
            99,
            100,
            1,
            "99万元 → 100万元 (+1万元)",
        ),
        # 3 % of 3333.34 = 100.0002: +0.0002, rounded up to 0.01万元; 2.99999 shown as 2.99
        (
            {"rd_y1": 100, "revenue_y1": 3333.34, "main_revenue_y1": 3000},
            "sr26_rd",
            "rd_y1",
            2.999994,
            3,
            0.01,
            "2.99% → 3% (+0.01万元",
        ),
        # p / (p + 1000) = 80 %: p = 4000, +1000 to the 3000 there is
        (
            {"main_revenue_y1": 3000},
            "sr26_main",
            "main_revenue_y1",
            75,
            80,
            1000,
            "75% → 80% (+1000万元",
        ),
        ({"debt_ratio": 81}, "sr26_debt", "debt_ratio", 81, 80, -1, "81% → 80%"),
        ({"debt_ratio": 80.5}, "sr26_debt", "debt_ratio", 80.5, 80, -0.5, "80.5% → 80%"),
        (
            {"revenue_y1": 1200, "main_revenue_y1": 1100, "rd_y1": 100, "equity_2y": 0},
            "sr26_rev",
            "main_revenue_y1",  # more revenue is more main-business revenue: the share kept
            1200,
            1500,
            300,
            "(+300万元 last year's main revenue, last year's revenue +300万元 too)",
        ),
        (
            {"revenue_y1": 1200, "main_revenue_y1": None, "rd_y1": 100, "equity_2y": 0},
            "sr26_rev",
            "revenue_y1",  # no main-business revenue given: revenue itself
            1200,
            1500,
            300,
            "(+300万元)",
        ),
        ({"niche_years": 2.5}, "sr26_niche", "niche_years", 2.5, 3, 0.5, "2.5"),
        ({"eval_score": 45.5}, "sr26_score", "eval_score", 45.5, 50, 4.5, "45.5"),
    ],
)
def test_gap_arithmetic_by_hand(changes, cid, fact, current, target, change, text):
    g = gaps_of(firm(SR26_OK, **changes), "specialised")[cid]
    assert g.fact == fact
    assert g.current == pytest.approx(current, abs=0.01)
    assert g.target == pytest.approx(target) and g.change == pytest.approx(change)
    assert text in g.text and cid in g.text


LG26_OK = {
    **GATE,
    "holds_specialised": "yes",
    "niche_years": 3,
    "revenue_y1": 6000,
    "revenue_y2": 5600,
    "revenue_y3": 5000,
    "main_revenue_y1": 5700,
    "debt_ratio": 60,
    "rd_y1": 700,
    "rd_y2": 600,
    "ip_class1": 4,
    "market_share": 12,
    "product_field": "six_bases",
    "eval_score": 65,
}


def test_growth_and_sum_gaps_by_hand():
    # CAGR 5000 -> 5400: sqrt(1.08) - 1 = 3.92 %; 5 % needs 5000 x 1.05² = 5512.5: +112.5
    g = gaps_of(firm(LG26_OK, revenue_y1=5400, main_revenue_y1=5100), "little_giant")
    assert g["lg26_growth"].fact == "main_revenue_y1"  # more revenue by the main business
    assert g["lg26_growth"].change == pytest.approx(112.5)
    assert "3.92% → 5% (+112.5万元" in g["lg26_growth"].text
    # R&D 500 + 600 = 1100 < 1200: +100, asked of the last year's R&D (a change the follow-ups
    # make, and check the shares after)
    g = gaps_of(firm(LG26_OK, rd_y1=500), "little_giant")
    assert g["lg26_rd"].change == pytest.approx(100) and g["lg26_rd"].fact == "rd_y1"
    assert "1100万元 → 1200万元 (+100万元 last year's R&D)" in g["lg26_rd"].text
    # debt 75.5 -> 75
    g = gaps_of(firm(LG26_OK, debt_ratio=75.5), "little_giant")
    assert g["lg26_debt"].change == pytest.approx(-0.5)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_gap_texts_render_in_both_languages(lang):
    f = firm(SR26_OK, rd_y1=96, debt_ratio=81, main_revenue_y1=3000, niche_years=None)
    r = el.evaluate(f, lang=lang, max_gaps=None)
    text = r.gaps
    for part in ["81% → 80%", "2.4% → 3%", "75% → 80%", "+1000万元", "+24万元", "niche_years"]:
        assert part in text, (part, text)
    for junk in ["{", "}", "None", "nan"]:
        assert junk not in text
    if lang == "zh":
        assert "专精特新中小企业" in text and "资产负债率" in text and "满足" in text
    else:
        assert "Specialised" in text and "debt ratio" in text and "meets" in text


def _apply(f: dict, gaps: list[el.Gap]) -> dict:
    """The firm after every change of a gap list, as the gap text says it: an amount is added to
    its fact; a main-business amount is revenue too (the share gap p / (p + rest))."""
    out = dict(f)
    for g in gaps:
        if g.fact is None and g.condition == "lg26_rd":  # the 2-year sum: either year will do
            _add(out, "rd_y1", g.change)
        if g.kind == "points":  # a scorecard's moves of amounts
            for fact, change in g.changes:
                _add(out, fact, change)
            continue
        if g.fact is None or g.change is None:
            continue
        if g.fact in ("debt_ratio", "market_share", "eval_score", "niche_years"):
            out[g.fact] = g.target
            continue
        _add(out, g.fact, g.change)
    return out


def _add(f: dict, fact: str, change: float) -> None:
    f[fact] = f.get(fact, 0) + change
    # a part grows its whole alike (main revenue is revenue, 2-year equity is 3-year equity, R&D
    # is costs), as the facts table's checks say which is part of which
    from dmi.eligibility.facts import facts_table

    for check in facts_table().checks:
        if check.fact == fact and check.at_most is not None and check.at_most in f:
            f[check.at_most] += change


def _met(r: el.RungResult) -> set[str]:
    return {c.id for c in r.conditions if c.state == "met"}


@pytest.mark.parametrize(
    "f",
    [
        firm(SR26_OK, debt_ratio=81),
        firm(SR26_OK, rd_y1=96),
        firm(SR26_OK, niche_years=2),
        firm(LG26_OK, rd_y1=500),
        firm(LG26_OK, revenue_y1=5400, main_revenue_y1=5100),
    ],
)
def test_applying_the_gaps_makes_the_firm_meet_them_and_keeps_what_was_met(f):
    rung = "specialised" if "holds_innovative" in f else "little_giant"
    before = el.evaluate(f)[rung]
    after = el.evaluate(_apply(f, list(before.gaps)))[rung]
    assert _met(before) <= _met(after)
    assert {c.id for c in after.conditions if c.state == "not_met"} == set()


def test_a_main_share_gap_does_not_silently_break_the_rd_share():
    # R&D 120 / 4000 = 3 % (met); main 3000 / 4000 = 75 % < 80 %.
    # The gap: main +1000 (p / (p + 1000) = 80 %) -> revenue 5000 -> R&D 2.4 %: sr26_rd breaks.
    f = firm(SR26_OK, rd_y1=120, main_revenue_y1=3000)
    before = el.evaluate(f)["specialised"]
    assert before.condition("sr26_rd").state == "met"
    # the main-share change first, then what it would break (R&D 2.4 % of 5000 -> +30)
    assert [g.condition for g in before.gaps if g.condition] == ["sr26_main", "sr26_rd"]
    assert [g.change for g in before.gaps] == [1000, 30]
    after = el.evaluate(_apply(f, list(before.gaps)))["specialised"]
    assert after.condition("sr26_main").state == "met"
    assert _met(before) <= _met(after)


def test_a_revenue_gap_does_not_silently_break_the_main_share():
    # revenue 1200 < 1500, no equity; main 1000 / 1200 = 83 % (met). The gap was revenue +300,
    # as other business: main 1000 / 1500 = 66.7 % broke sr26_main, whose gap then asked for
    # +500 main revenue on top (a reviewer: "+9000万元 main revenue" where +1000 meets both).
    # More revenue is now more main-business revenue: 1300 / 1500 = 86.7 %, nothing broken
    f = firm(SR26_OK, revenue_y1=1200, main_revenue_y1=1000, rd_y1=100, equity_2y=0)
    before = el.evaluate(f)["specialised"]
    assert before.condition("sr26_main").state == "met"
    assert [(g.condition, g.fact, g.change) for g in before.gaps if g.condition] == [
        ("sr26_rev", "main_revenue_y1", 300)
    ]
    after = el.evaluate(_apply(f, list(before.gaps)))["specialised"]
    assert after.condition("sr26_rev").state == after.condition("sr26_main").state == "met"
    assert _met(before) <= _met(after)
    # a main share short too: one change of main revenue, the bigger, meets both
    f = firm(SR26_OK, revenue_y1=1200, main_revenue_y1=700, rd_y1=100, equity_2y=0)
    gaps = [g for g in el.evaluate(f, lang="en")["specialised"].gaps if g.condition]
    assert [(g.condition, g.fact) for g in gaps] == [("sr26_main", "main_revenue_y1")]
    assert gaps[0].text.endswith("meets sr26_main, sr26_rev")
    after = el.evaluate(_apply(f, gaps))["specialised"]
    assert after.condition("sr26_rev").state == after.condition("sr26_main").state == "met"


def test_gap_amounts_are_never_short_of_the_threshold():
    # random firms: the R&D amount proposed meets 3 % exactly; 0.01万元 less does not
    import numpy as np

    rng = np.random.default_rng(7)
    for _ in range(40):
        rev = float(rng.integers(400_000, 2_000_000)) / 100
        rd = math.floor(rev * 0.03 * 100 * float(rng.uniform(0.5, 0.999))) / 100
        f = firm(SR26_OK, revenue_y1=rev, main_revenue_y1=round(rev * 0.9, 2), rd_y1=max(rd, 100))
        if f["rd_y1"] * 100 >= 3 * rev:
            continue
        g = gaps_of(f, "specialised")["sr26_rd"]
        meets = el.evaluate(firm(f, rd_y1=round(f["rd_y1"] + g.change, 2)))["specialised"]
        assert meets.condition("sr26_rd").state == "met"
        short = el.evaluate(firm(f, rd_y1=round(f["rd_y1"] + g.change - 0.01, 2)))["specialised"]
        assert short.condition("sr26_rd").state == "not_met"


# -- the route named is the one the result rests on ----------------------------------------------


def test_the_route_named_belongs_to_the_path_assessed():
    # 科技型: the standard route replaces the score, but 600 staff fail the size test;
    # 创新型: facts missing -> the 创新型 path (unknown) is the better one
    f = {**GATE, "standard_lead": "yes", "staff": 600, "revenue_y1": 1000, "assets_y1": 1000}
    r = el.evaluate(f)["innovative"]
    assert r.path == "innovative" and r.status == "unknown"
    assert r.condition("ts_size").state == "not_met"
    assert r.route_used is None or r.route_used.startswith("in22_direct")


def test_an_award_after_the_application_year_is_not_within_the_window():
    f = {**GATE, "ip_class1": 0, "rd_institution": "none", "award": "national", "award_rank": 1}
    assert (
        el.evaluate({**f, "award_year": 2026}, year=2026)["little_giant"].condition("lg26_ip").state
        == "met"
    )
    later = el.evaluate({**f, "award_year": 2027}, year=2026)["little_giant"]
    assert later.condition("lg26_ip").state == "not_met"


def test_the_points_shown_are_those_of_the_tier_1_path_assessed():
    # 科技型: staff 20 % -> 12, R&D 4 % of revenue -> 30, 3 class-II items -> 18 = 60: eligible
    facts = TS60
    r = el.evaluate(facts)["innovative"]
    assert r.status == "eligible" and r.path == "tech"
    assert r.scorecard.id == "ts115s" and r.points == 60


def test_a_scorecard_gap_does_not_silently_lose_points_elsewhere():
    # IN60 with debt 60 % (5) and no growth (5): 成长性 10 < 15, total 55.
    # The gap: growth 0 % -> 5 % (+300 last year's main revenue). Revenue 10000 -> 10300, R&D 300 /
    # 10300
    # = 2.91 % -> 10 points: 创新能力 15 < 20. So the gaps go on: R&D +9 (309 / 10300 = 3 %).
    f = firm(IN60, debt_ratio=60, main_revenue_y1=6000, main_revenue_y2=6000)
    r = el.evaluate(f, "2022", lang="en")
    assert r["innovative"].scorecard.points == 55
    points, restore = r["innovative"].gaps
    assert "+300万元 last year's main revenue" in points.text
    assert points.changes == (("main_revenue_y1", 300.0),)
    assert (restore.condition, restore.fact, restore.change) == ("in22_score", "rd_y1", 9.0)
    assert restore.text == (
        "after the changes above, last year's R&D share 2.91% → 3% (+9万元 last year's R&D) meets "
        "in22_score"
    )
    followed = firm(f, main_revenue_y1=6300, revenue_y1=10300, rd_y1=309)
    assert el.evaluate(followed, "2022")["innovative"].status == "eligible"
    assert el.evaluate(firm(followed, rd_y1=308.99), "2022")["innovative"].status == "not_yet"


def test_the_api_and_the_cli_agree_on_a_row_with_survey_answers(tmp_path, capsys):
    from dmi.instruments import load_instrument
    from dmi.instruments.synth import synthesise

    items = [i.code for i in load_instrument("miit-2024-manufacturing").items]
    answers = (
        synthesise("miit-2024-manufacturing", 6, 11)[items].astype(object).reset_index(drop=True)
    )
    firms = pd.DataFrame(
        [
            {**SR22, "featured_points": 3, "respondent_id": f"S{i}", "digital_level": 0}
            for i in range(6)
        ]
    )
    rows = pd.concat([firms, answers], axis=1)
    rows.to_csv(tmp_path / "in.csv", index=False)
    args = [
        "eligibility",
        str(tmp_path / "in.csv"),
        "-o",
        str(tmp_path / "o.csv"),
        "--policy",
        "2022",
    ]
    assert main([*args, "-q"]) == 0
    capsys.readouterr()
    cli = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert (cli["flags"] != "").any()  # some computed level differs from the stated 0
    api = el.evaluate(rows, "2022")
    assert list(api["specialised_points"].astype(float)) == list(
        cli["specialised_points"].astype(float)
    )
    assert list(api["flags"].fillna("")) == list(cli["flags"])

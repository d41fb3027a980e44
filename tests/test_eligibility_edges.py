"""Every condition of both rule files at its edges, worked by hand from the rule texts.

A second reading of issue #16 and the reference (reference/cultivation.md), not of the code: for
each condition id of the 2022 (63号) and 2026 (2号) files, firms just below, exactly at and just
above each threshold under the edge convention the reference gives ("以上 / 不低于 / 达到" = ≥,
"不高于 / 以下" = ≤), float edges included (a share computed as rd / revenue that is exactly 3 %
in decimals meets "≥ 3 %"), a missing fact (`unknown`, never `not_met`), qualitative conditions
(`manual`), direct routes and exemptions (the replaced condition is met and the result names the
route), prerequisites and version routing. Each case is then run again as one frame and through
`dmi eligibility` (CSV) and must give the same states.

A case gives only the facts its condition reads, plus the gate every rung shares: a condition's
state depends on its own facts only.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import dmi.eligibility as el
from dmi.cli.main import main
from dmi.eligibility.policy import Compare

GATE = {"sme": "yes", "credit_clean": "yes", "product_allowed": "yes", "no_incident": "yes"}

MET, NOT, UNK, MAN = "met", "not_met", "unknown", "manual"


def case(policy: str, cid: str, expected: str, rung: str, **facts) -> pytest.param:
    words = ",".join(f"{k}={v}" for k, v in facts.items())
    return pytest.param(
        policy, rung, cid, facts, expected, id=f"{policy}-{cid}-{words}->{expected}"
    )


SR, LG, IN = "specialised", "little_giant", "innovative"

# every option of the 创新型 direct route fails
NO_ROUTE_IN22 = {
    "award": "none",
    "high_tech_title": "no",
    "innovation_title": "no",
    "rd_institution": "none",
    "equity_3y": 0,
}

# no option of the 小巨人 2022 direct route (it replaces lg22_rd, lg22_lab, lg22_ip)
NO_ROUTE_LG22 = {"award": "none", "makers_china": "none"}

# no option of the 科技型 direct route
NO_ROUTE_TS = {
    "high_tech_title": "no",
    "award": "none",
    "rd_institution": "none",
    "standard_lead": "no",
}

# the shares of two years that are exactly 3 % and 6 %, for conditions that read both years
R3 = {"rd_y1": 300, "revenue_y1": 10000, "rd_y2": 300, "revenue_y2": 10000}

CASES = [
    # -- the gate (every rung, both versions): yes/no facts; a blank is unknown ------------------
    *[
        case(p, cid, st, SR, **{fact: v})
        for p in ("2022", "2026")
        for cid, fact in [
            ("base_sme", "sme"),
            ("base_credit", "credit_clean"),
            ("base_product", "product_allowed"),
            ("base_incident", "no_incident"),
        ]
        for v, st in [("yes", MET), ("no", NOT), (None, UNK)]
    ],
    # -- 专精特新 2022 (63号附件2) ---------------------------------------------------------------
    case("2022", "sr22_niche", NOT, SR, niche_years=1.99),
    case("2022", "sr22_niche", MET, SR, niche_years=2),
    case("2022", "sr22_niche", MET, SR, niche_years=2.01),
    case("2022", "sr22_niche", UNK, SR),
    # R&D ≥ 100万 and ≥ 3 % of revenue
    case("2022", "sr22_rd", MET, SR, rd_y1=100, revenue_y1=3333.33),  # 3.0000003 %
    case("2022", "sr22_rd", NOT, SR, rd_y1=100, revenue_y1=3333.34),  # 2.9999970 %
    case("2022", "sr22_rd", MET, SR, rd_y1=120, revenue_y1=4000),  # exactly 3 %
    case("2022", "sr22_rd", MET, SR, rd_y1=128.64, revenue_y1=4288),  # 3 %; float 2.99999...
    case("2022", "sr22_rd", MET, SR, rd_y1=130.89, revenue_y1=4363),  # 3 %; float 2.99999...
    case("2022", "sr22_rd", NOT, SR, rd_y1=99.99, revenue_y1=1000),  # the amount fails
    case("2022", "sr22_rd", NOT, SR, rd_y1=45.0, revenue_y1=1500),  # 3 % but 45 < 100
    case("2022", "sr22_rd", NOT, SR, rd_y1=99),  # the amount fails whatever the revenue
    case("2022", "sr22_rd", UNK, SR, rd_y1=100),
    case("2022", "sr22_rd", UNK, SR, revenue_y1=1000),
    case("2022", "sr22_rd", NOT, SR, rd_y1=100, revenue_y1=0),  # a share of nothing: not met
    # revenue ≥ 1000万, else equity ≥ 2000万 from qualified investors (manual)
    case("2022", "sr22_rev", MET, SR, revenue_y1=1000),
    case("2022", "sr22_rev", MAN, SR, revenue_y1=999.99, equity_2y=2000),
    case("2022", "sr22_rev", NOT, SR, revenue_y1=999.99, equity_2y=1999.99),
    case("2022", "sr22_rev", UNK, SR, revenue_y1=999.99),
    # -- 小巨人 2022 (63号附件3) -----------------------------------------------------------------
    case("2022", "lg22_prereq", NOT, LG, holds_specialised="no"),
    case("2022", "lg22_prereq", MET, LG, holds_specialised="yes"),
    case("2022", "lg22_prereq", MET, LG, holds_specialised="recheck"),
    case("2022", "lg22_prereq", UNK, LG),
    case("2022", "lg22_niche", NOT, LG, niche_years=2.99),
    case("2022", "lg22_niche", MET, LG, niche_years=3),
    case("2022", "lg22_main", NOT, LG, main_revenue_y1=6999, revenue_y1=10000),
    case("2022", "lg22_main", MET, LG, main_revenue_y1=7000, revenue_y1=10000),
    case("2022", "lg22_main", MET, LG, main_revenue_y1=763.7, revenue_y1=1091),  # 70 % exactly
    case("2022", "lg22_main", UNK, LG, main_revenue_y1=7000),
    # 近2年主营业务收入平均增长率 as the mean of the two yearly rates (the file's formula [U])
    case(
        "2022",
        "lg22_growth",
        MET,
        LG,
        main_revenue_y3=100,
        main_revenue_y2=105,
        main_revenue_y1=110.25,
    ),
    # mean(0 %, 10 %) = 5 % meets it, though the compound rate (4.88 %) would not
    case(
        "2022",
        "lg22_growth",
        MET,
        LG,
        main_revenue_y3=100,
        main_revenue_y2=100,
        main_revenue_y1=110,
    ),
    case(
        "2022",
        "lg22_growth",
        NOT,
        LG,
        main_revenue_y3=100,
        main_revenue_y2=100,
        main_revenue_y1=109.99,
    ),
    case("2022", "lg22_growth", UNK, LG, main_revenue_y2=100, main_revenue_y1=110),
    case("2022", "lg22_is", MET, LG, info_system="yes"),
    case("2022", "lg22_is", NOT, LG, info_system="no"),
    case("2022", "lg22_cert", MET, LG, certification="yes"),
    case("2022", "lg22_cert", NOT, LG, certification="no"),
    case("2022", "lg22_cert", UNK, LG),
    case("2022", "lg22_debt", MET, LG, debt_ratio=70),
    case("2022", "lg22_debt", NOT, LG, debt_ratio=70.01),
    case("2022", "lg22_debt", MET, LG, debt_ratio=0),
    # a share of 10 % still needs the evidence of reputation: manual, never met
    case("2022", "lg22_share", MAN, LG, market_share=10),
    case("2022", "lg22_share", NOT, LG, market_share=9.99),
    case("2022", "lg22_share", UNK, LG),
    case("2022", "lg22_brand", MET, LG, own_brand="yes"),
    case("2022", "lg22_brand", NOT, LG, own_brand="no"),
    # R&D intensity by revenue band (edges at 1亿 and 5000万 taken as ≥ [U])
    case(
        "2022", "lg22_rd", MET, LG, **R3
    ),  # met by itself: the route is not needed  # ≥ 1亿: 3 % in both years
    case("2022", "lg22_rd", NOT, LG, **{**R3, **NO_ROUTE_LG22, "rd_y2": 299.99}),
    # failing by itself, but the direct route's facts are missing: it may still be met
    case("2022", "lg22_rd", UNK, LG, **{**R3, "rd_y2": 299.99}),
    case("2022", "lg22_rd", NOT, LG, **{**R3, **NO_ROUTE_LG22, "revenue_y1": 9999.99}),  # 6 %
    case("2022", "lg22_rd", MET, LG, **{**R3, "revenue_y1": 9999.99, "rd_y1": 600, "rd_y2": 600}),
    case(
        "2022",
        "lg22_rd",
        MET,
        LG,
        rd_y1=300,
        revenue_y1=5000,
        rd_y2=300,
        revenue_y2=5000,
    ),
    case(
        "2022",
        "lg22_rd",
        NOT,
        LG,
        **NO_ROUTE_LG22,
        rd_y1=299.99,
        revenue_y1=5000,
        rd_y2=300,
        revenue_y2=5000,
    ),
    # < 5000万: equity ≥ 8000万, R&D ≥ 3000万 in 2 years and R&D staff ≥ 50 % (+ investors: manual)
    *[
        case(
            "2022",
            "lg22_rd",
            st,
            LG,
            revenue_y1=4999.99,
            revenue_y2=4000,
            rd_y1=1500,
            rd_y2=rd2,
            equity_2y=eq,
            staff=100,
            rd_staff=rs,
            **NO_ROUTE_LG22,
        )
        for rd2, eq, rs, st in [
            (1500, 8000, 50, MAN),
            (1499.99, 8000, 50, NOT),
            (1500, 7999.99, 50, NOT),
            (1500, 8000, 49, NOT),
        ]
    ],
    case("2022", "lg22_lab", NOT, LG, rd_institution="none", **NO_ROUTE_LG22),
    case("2022", "lg22_lab", MET, LG, rd_institution="below_city"),
    case("2022", "lg22_lab", UNK, LG),
    case("2022", "lg22_ip", NOT, LG, ip_class1=1, **NO_ROUTE_LG22),
    case("2022", "lg22_ip", UNK, LG, ip_class1=1),
    case(
        "2022",
        "lg22_ip",
        NOT,
        LG,
        ip_class1=1,
        award="national",
        award_rank=4,
        makers_china="top500",
    ),
    case("2022", "lg22_ip", MAN, LG, ip_class1=2),
    case("2022", "lg22_chain", MAN, LG, key_chain_link="yes"),
    case("2022", "lg22_chain", NOT, LG, key_chain_link="no"),
    case("2022", "lg22_field", MAN, LG, product_field="six_bases"),
    # the network-power fields have no fact: a product in none of the fields named is for a
    # reviewer, not not_met
    case("2022", "lg22_field", MAN, LG, product_field="other", strategic_emerging="no"),
    case("2022", "lg22_field", MAN, LG),
    case("2022", "lg22_field", MAN, LG, product_field="other", strategic_emerging="yes"),
    # -- 创新型 2022: the direct route with a manual option --------------------------------------
    # (the scorecard itself: test_innovative_scorecard_* below)
    *[
        case("2022", "in22_direct", st, IN, **{**NO_ROUTE_IN22, **facts})
        for facts, st in [
            ({}, NOT),
            ({"equity_3y": 500}, MAN),
            ({"equity_3y": 499.99}, NOT),
            ({"high_tech_title": "yes"}, MET),
            ({"innovation_title": "yes"}, MET),
            ({"rd_institution": "provincial"}, MET),
            ({"rd_institution": "city"}, NOT),
            ({"award": "provincial"}, MET),  # no award year: within the window
            ({"award": "national", "award_year": 2019}, MET),  # 2022 - 3
            ({"award": "national", "award_year": 2018}, NOT),
            ({"high_tech_title": None}, UNK),
        ]
    ],
    # -- 专精特新 2026 (2号附件1) ----------------------------------------------------------------
    case("2026", "sr26_prereq", NOT, SR, holds_innovative="no"),
    case("2026", "sr26_prereq", MET, SR, holds_innovative="yes"),
    case("2026", "sr26_prereq", MET, SR, holds_innovative="recheck"),
    case("2026", "sr26_prereq", UNK, SR),
    case("2026", "sr26_niche", NOT, SR, niche_years=2.99),
    case("2026", "sr26_niche", MET, SR, niche_years=3),
    case("2026", "sr26_niche", MET, SR, niche_years=3.01),
    case("2026", "sr26_rev", NOT, SR, revenue_y1=1499.99, equity_2y=1999.99),
    case("2026", "sr26_rev", MAN, SR, revenue_y1=1499.99, equity_2y=2000),
    case("2026", "sr26_rev", UNK, SR, revenue_y1=1499.99),
    case("2026", "sr26_rev", MET, SR, revenue_y1=1500),
    case("2026", "sr26_rev", MET, SR, revenue_y1=1500.01),
    case("2026", "sr26_main", NOT, SR, main_revenue_y1=7999.99, revenue_y1=10000),
    case("2026", "sr26_main", MET, SR, main_revenue_y1=8000, revenue_y1=10000),
    case("2026", "sr26_main", MET, SR, main_revenue_y1=872.8, revenue_y1=1091),  # 80 % exactly
    case("2026", "sr26_main", UNK, SR, revenue_y1=10000),
    case("2026", "sr26_debt", MET, SR, debt_ratio=79.99),
    case("2026", "sr26_debt", MET, SR, debt_ratio=80),
    case("2026", "sr26_debt", NOT, SR, debt_ratio=80.01),
    case("2026", "sr26_debt", UNK, SR),
    # each of two years: ≥ 100万 and ≥ 3 %
    case("2026", "sr26_rd", MET, SR, rd_y1=100, revenue_y1=3333.33, rd_y2=100, revenue_y2=3333.33),
    case("2026", "sr26_rd", NOT, SR, rd_y1=100, revenue_y1=3333.33, rd_y2=100, revenue_y2=3333.34),
    case("2026", "sr26_rd", NOT, SR, rd_y1=100, revenue_y1=1000, rd_y2=99.99, revenue_y2=1000),
    case("2026", "sr26_rd", MET, SR, rd_y1=128.64, revenue_y1=4288, rd_y2=130.89, revenue_y2=4363),
    case("2026", "sr26_rd", NOT, SR, rd_y1=45.0, revenue_y1=1500, rd_y2=100, revenue_y2=1000),
    case("2026", "sr26_rd", UNK, SR, rd_y1=100, revenue_y1=1000, rd_y2=100),
    case("2026", "sr26_rd", NOT, SR, rd_y1=100, revenue_y1=4000, rd_y2=100),  # y1 2.5 % fails
    # one class-I IP item (in use: manual), or the exemption
    case("2026", "sr26_ip", MAN, SR, ip_class1=1),
    case("2026", "sr26_ip", NOT, SR, ip_class1=0, award="none", rd_institution="none"),
    case("2026", "sr26_ip", UNK, SR, ip_class1=0),  # the exemption's facts are missing
    case("2026", "sr26_ip", MET, SR, ip_class1=0, award="none", rd_institution="provincial"),
    case("2026", "sr26_ip", MET, SR, ip_class1=0, award="provincial", award_rank=3),
    case(
        "2026",
        "sr26_ip",
        NOT,
        SR,
        ip_class1=0,
        award="provincial",
        award_rank=4,
        rd_institution="city",
    ),
    case(
        "2026",
        "sr26_ip",
        NOT,
        SR,
        ip_class1=0,
        award="national",
        award_rank=1,
        award_year=2022,  # 2026 - 4: out of the 3-year window
        rd_institution="none",
    ),
    case("2026", "sr26_share", MAN, SR, market_share=99),
    case("2026", "sr26_share", MAN, SR),
    case("2026", "sr26_score", NOT, SR, eval_score=49.99),
    case("2026", "sr26_score", MET, SR, eval_score=50),
    case("2026", "sr26_score", UNK, SR),
    # a new applicant: last year's score does not count
    case("2026", "sr26_score", NOT, SR, eval_score=40, eval_score_prev=80),
    # 复核: either of the two years
    case(
        "2026",
        "sr26_score",
        MET,
        SR,
        holds_specialised="recheck",
        eval_score=40,
        eval_score_prev=50,
    ),
    case(
        "2026",
        "sr26_score",
        NOT,
        SR,
        holds_specialised="recheck",
        eval_score=40,
        eval_score_prev=49,
    ),
    case("2026", "sr26_score", UNK, SR, holds_specialised="recheck", eval_score=40),
    case("2026", "sr26_score", MET, SR, holds_specialised="recheck", eval_score=50),
    # -- 小巨人 2026 (2号附件2), new applicants ---------------------------------------------------
    case("2026", "lg26_prereq", NOT, LG, holds_specialised="no"),
    case("2026", "lg26_prereq", MET, LG, holds_specialised="yes"),
    case("2026", "lg26_prereq", UNK, LG),
    case("2026", "lg26_niche", NOT, LG, niche_years=2.99),
    case("2026", "lg26_niche", MET, LG, niche_years=3),
    case("2026", "lg26_rev", NOT, LG, revenue_y1=4999.99),
    case("2026", "lg26_rev", MET, LG, revenue_y1=5000),
    case("2026", "lg26_rev", MET, LG, revenue_y1=5000.01),
    case("2026", "lg26_rev", NOT, LG, revenue_y1=4999.99, equity_2y=100000),  # no equity way
    case("2026", "lg26_main", NOT, LG, main_revenue_y1=8999.99, revenue_y1=10000),
    case("2026", "lg26_main", MET, LG, main_revenue_y1=9000, revenue_y1=10000),
    case("2026", "lg26_main", MET, LG, main_revenue_y1=981.9, revenue_y1=1091),  # 90 % exactly
    # the compound rate of revenue_y3 -> revenue_y1: (y1 / y3)^(1/2) - 1 ≥ 5 %; y1 = 1.1025 y3
    case("2026", "lg26_growth", MET, LG, revenue_y3=4000, revenue_y2=4200, revenue_y1=4410),
    case("2026", "lg26_growth", NOT, LG, revenue_y3=4000, revenue_y2=4200, revenue_y1=4409.99),
    case("2026", "lg26_growth", MET, LG, revenue_y3=4000, revenue_y2=4200, revenue_y1=4410.01),
    # compound, not mean: only the ends count (4000 -> 3000 -> 4410 is still 5 %)
    case("2026", "lg26_growth", MET, LG, revenue_y3=4000, revenue_y2=3000, revenue_y1=4410),
    case("2026", "lg26_growth", NOT, LG, revenue_y3=100, revenue_y2=100, revenue_y1=110),
    # float: sqrt(20669.67 / 18748) - 1 is 0.04999999999999982 in binary floating point
    case("2026", "lg26_growth", MET, LG, revenue_y3=18748, revenue_y2=19000, revenue_y1=20669.67),
    case("2026", "lg26_growth", UNK, LG, revenue_y2=4200, revenue_y1=4410),
    case("2026", "lg26_debt", MET, LG, debt_ratio=75),
    case("2026", "lg26_debt", NOT, LG, debt_ratio=75.01),
    case("2026", "lg26_debt", MET, LG, debt_ratio=74.99),
    # R&D of 2 years ≥ 1200万 together and ≥ 3 % in each year
    case("2026", "lg26_rd", MET, LG, rd_y1=600, revenue_y1=20000, rd_y2=600, revenue_y2=20000),
    case("2026", "lg26_rd", NOT, LG, rd_y1=600, revenue_y1=20000, rd_y2=599.99, revenue_y2=19000),
    case("2026", "lg26_rd", NOT, LG, rd_y1=700, revenue_y1=20000, rd_y2=600, revenue_y2=20000.01),
    case("2026", "lg26_rd", MET, LG, rd_y1=1100, revenue_y1=20000, rd_y2=100, revenue_y2=3333.33),
    case("2026", "lg26_rd", UNK, LG, rd_y1=600, revenue_y1=20000, rd_y2=600),
    case("2026", "lg26_ip", MAN, LG, ip_class1=4),
    case("2026", "lg26_ip", NOT, LG, ip_class1=3, award="none"),
    case("2026", "lg26_ip", UNK, LG, ip_class1=3),
    case("2026", "lg26_ip", MET, LG, ip_class1=3, award="national", award_rank=3),
    case("2026", "lg26_ip", NOT, LG, ip_class1=3, award="national", award_rank=4),
    # only a national award waives it (a provincial one or an R&D institution does not)
    case("2026", "lg26_ip", NOT, LG, ip_class1=3, award="provincial", award_rank=1),
    case("2026", "lg26_ip", NOT, LG, ip_class1=0, award="none", rd_institution="national"),
    case("2026", "lg26_share", MET, LG, market_share=10),
    case("2026", "lg26_share", NOT, LG, market_share=9.99, domestic_rank=4),
    case("2026", "lg26_share", MET, LG, market_share=9.99, domestic_rank=3),
    case("2026", "lg26_share", UNK, LG, market_share=9.99),
    case("2026", "lg26_share", MET, LG, domestic_rank=1),
    case("2026", "lg26_field", MAN, LG, product_field="gap_filler"),
    case("2026", "lg26_field", MAN, LG, product_field="other", key_chain_link="yes"),
    # the key fields of traditional and future industries have no fact: a reviewer decides
    case(
        "2026",
        "lg26_field",
        MAN,
        LG,
        product_field="other",
        key_chain_link="no",
        strategic_emerging="no",
    ),
    case("2026", "lg26_field", MAN, LG),
    case("2026", "lg26_score", NOT, LG, eval_score=59.99),
    case("2026", "lg26_score", MET, LG, eval_score=60),
    case("2026", "lg26_score", NOT, LG, eval_score=59, eval_score_prev=90),
    case("2026", "lg26_excl", MAN, LG),
    # -- 2026 tier 1: the 科技型 size test (115号) -----------------------------------------------
    case("2026", "ts_size", MET, IN, staff=500, revenue_y1=20000, assets_y1=20000),
    case("2026", "ts_size", NOT, IN, staff=501, revenue_y1=20000, assets_y1=20000),
    case("2026", "ts_size", NOT, IN, staff=500, revenue_y1=20000.01, assets_y1=20000),
    case("2026", "ts_size", NOT, IN, staff=500, revenue_y1=20000, assets_y1=20000.01),
    case("2026", "ts_size", UNK, IN, staff=500, revenue_y1=20000),
    # the 科技型 scorecard (115号 §3.3): pass ≥ 60 with the staff indicator above 0; hand totals
    *[
        case("2026", "ts_score", st, IN, **{**NO_ROUTE_TS, **facts})
        for facts, st in [
            # staff 20 % -> 12, R&D 4 % of revenue -> 30, 3 class-II items -> 18: 60
            (
                {
                    "rd_staff": 20,
                    "staff": 100,
                    "rd_y1": 400,
                    "revenue_y1": 10000,
                    "cost_y1": 100000,
                    "ip_class1": 0,
                    "ip_class2": 3,
                },
                MET,
            ),
            # staff 19.99 % -> 8: 56
            (
                {
                    "rd_staff": 1999,
                    "staff": 10000,
                    "rd_y1": 400,
                    "revenue_y1": 10000,
                    "cost_y1": 100000,
                    "ip_class1": 0,
                    "ip_class2": 3,
                },
                NOT,
            ),
            # R&D 1 % of revenue -> 0 but 20 % of costs -> 30: the better, 60
            (
                {
                    "rd_staff": 20,
                    "staff": 100,
                    "rd_y1": 100,
                    "revenue_y1": 10000,
                    "cost_y1": 500,
                    "ip_class1": 0,
                    "ip_class2": 3,
                },
                MET,
            ),
            # costs unknown: 4 % of revenue (30) is sure, 60 already
            (
                {
                    "rd_staff": 20,
                    "staff": 100,
                    "rd_y1": 400,
                    "revenue_y1": 10000,
                    "ip_class1": 0,
                    "ip_class2": 3,
                },
                MET,
            ),
            # costs unknown: 3 % of revenue (20) gives 50, the costs could give up to 50 more
            (
                {
                    "rd_staff": 20,
                    "staff": 100,
                    "rd_y1": 300,
                    "revenue_y1": 10000,
                    "ip_class1": 0,
                    "ip_class2": 3,
                },
                UNK,
            ),
            # staff 9.99 % -> 0: 80 points but the staff indicator is 0
            (
                {
                    "rd_staff": 999,
                    "staff": 10000,
                    "rd_y1": 600,
                    "revenue_y1": 10000,
                    "cost_y1": 100000,
                    "ip_class1": 1,
                },
                NOT,
            ),
            # staff exactly 10 % -> 4: 84
            (
                {
                    "rd_staff": 10,
                    "staff": 100,
                    "rd_y1": 600,
                    "revenue_y1": 10000,
                    "cost_y1": 100000,
                    "ip_class1": 1,
                },
                MET,
            ),
            # the direct route replaces the score
            ({"rd_staff": 0, "staff": 100, "high_tech_title": "yes"}, MET),
            ({"rd_staff": 0, "staff": 100, "standard_lead": "yes"}, MET),
            (
                {
                    "rd_staff": 0,
                    "staff": 100,
                    "award": "national",
                    "award_rank": 3,
                    "award_year": 2021,
                },
                MET,
            ),
            (
                {
                    "rd_staff": 0,
                    "staff": 100,
                    "award": "national",
                    "award_rank": 3,
                    "award_year": 2020,
                },
                NOT,
            ),
            ({"rd_staff": 0, "staff": 100, "award": "provincial", "award_rank": 1}, NOT),
            ({"rd_staff": 0, "staff": 100, "rd_institution": "provincial"}, MET),
        ]
    ],
]


def firm_of(facts: dict, rid: str | None = None) -> dict:
    out = {**GATE, **{k: v for k, v in facts.items() if v is not None}}
    for k, v in facts.items():
        if v is None:
            out.pop(k, None)
    if rid is not None:
        out["respondent_id"] = rid
    return out


@pytest.mark.parametrize("policy, rung, cid, facts, expected", CASES)
def test_each_condition_at_its_edges(policy, rung, cid, facts, expected):
    result = el.evaluate(firm_of(facts), policy)
    rung_result = result[rung]
    conds = {c.id: c for c in (*rung_result.conditions, *rung_result.routes)}
    assert conds[cid].state == expected, conds[cid].values
    if rung_result.path is not None:
        return  # 2026 tier 1: common conditions and the better path (tested below)
    # a rung's status never says more than its weakest condition
    order = ["not_yet", "unknown", "manual", "eligible"]
    states = ["not_met", "unknown", "manual", "met"]
    weakest = min(states.index(c.state) for c in rung_result.conditions if c.state)
    assert rung_result.status == order[weakest]


def _frame_of(policy: str) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    rows, expect = [], []
    for i, p in enumerate(CASES):
        pol, rung, cid, facts, expected = p.values
        if pol != policy:
            continue
        rid = f"C{i:03d}"
        rows.append(firm_of(facts, rid))
        expect.append((rid, cid, expected))
    return pd.DataFrame(rows), expect


@pytest.mark.parametrize("policy", ["2022", "2026"])
def test_the_same_cases_as_one_frame_give_the_same_states(policy):
    frame, expect = _frame_of(policy)
    out = el.evaluate(frame, policy).set_index("respondent_id")
    got = {(rid, cid): out.loc[rid, cid] for rid, cid, _ in expect}
    want = {(rid, cid): e for rid, cid, e in expect}
    assert got == want
    # and each row of the frame is the firm evaluated on its own
    for rid in out.index[:: max(1, len(out) // 12)]:
        one = el.evaluate(frame[frame["respondent_id"] == rid].iloc[0].dropna().to_dict(), policy)
        for rung in el.RUNGS:
            assert out.loc[rid, f"{rung}_status"] == one[rung].status


@pytest.mark.parametrize("policy", ["2022", "2026"])
def test_the_same_cases_through_the_cli_give_the_same_states(policy, tmp_path, capsys):
    frame, expect = _frame_of(policy)
    src, out = tmp_path / "firms.csv", tmp_path / "out.csv"
    frame.to_csv(src, index=False)
    code = main(["eligibility", str(src), "-o", str(out), "--policy", policy, "-q"])
    capsys.readouterr()
    assert code == 0
    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    got = got.set_index("respondent_id")
    assert {(r, c): got.loc[r, c] for r, c, _ in expect} == {(r, c): e for r, c, e in expect}
    api = el.evaluate(frame, policy).set_index("respondent_id")
    for rung in el.RUNGS:
        assert list(got[f"{rung}_status"]) == list(api[f"{rung}_status"].astype(str))
        assert list(got[f"{rung}_policy"]) == list(api[f"{rung}_policy"].astype(str))


# -- float edges as a rule: random amounts against exact decimal arithmetic -----------------------


def _cents(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return rng.integers(int(lo * 100), int(hi * 100), n)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_share_meets_its_threshold_exactly_as_decimal_arithmetic_says(seed):
    """R&D share ≥ 3 % (sr26_rd, both years) and main share ≥ 80 % at and next to the edge."""
    rng = np.random.default_rng(seed)
    n = 400
    rev = _cents(rng, 3500, 2_000_000, n)  # 万元 in cents: R&D ≥ 100万 at 3 %
    # R&D at 3 % of revenue rounded to the cent, then 0-2 cents off either way
    rd = np.round(rev * 3 / 100) + rng.integers(-2, 3, n)
    main_ = np.round(rev * 80 / 100) + rng.integers(-2, 3, n)
    frame = pd.DataFrame(
        {
            "respondent_id": [f"F{i}" for i in range(n)],
            "revenue_y1": rev / 100,
            "revenue_y2": rev / 100,
            "rd_y1": rd / 100,
            "rd_y2": rd / 100,
            "main_revenue_y1": main_ / 100,
        }
    )
    out = el.evaluate(frame, "2026", max_gaps=0)
    want_rd = [
        MET if Fraction(int(d), int(r)) * 100 >= 3 and d >= 10000 else NOT
        for d, r in zip(rd, rev, strict=True)
    ]
    want_main = [
        MET if Fraction(int(m), int(r)) * 100 >= 80 else NOT
        for m, r in zip(main_, rev, strict=True)
    ]
    assert list(out["sr26_rd"]) == want_rd
    assert list(out["sr26_main"]) == want_main
    assert MET in want_rd and NOT in want_rd  # the draw straddles the edge


@pytest.mark.parametrize("seed", [1, 2])
def test_compound_growth_meets_5_percent_exactly_as_decimal_arithmetic_says(seed):
    """lg26_growth: (y1 / y3)^(1/2) - 1 ≥ 5 %  ⇔  400 y1 ≥ 441 y3, exactly."""
    rng = np.random.default_rng(seed)
    n = 400
    y3 = rng.integers(1000, 500_000, n) * 400  # cents, a multiple of 400: 1.1025 y3 is whole
    y1 = y3 * 441 // 400 + rng.integers(-2, 3, n)
    frame = pd.DataFrame(
        {
            "respondent_id": [f"G{i}" for i in range(n)],
            "revenue_y3": y3 / 100,
            "revenue_y2": y3 / 100,
            "revenue_y1": y1 / 100,
        }
    )
    out = el.evaluate(frame, "2026", max_gaps=0)
    want = [MET if 400 * int(a) >= 441 * int(b) else NOT for a, b in zip(y1, y3, strict=True)]
    assert list(out["lg26_growth"]) == want
    assert MET in want and NOT in want


def test_a_compound_growth_needs_only_the_first_and_last_years():
    """(y1 / y3)^(1/2) - 1 does not use y2: a blank y2 leaves lg26_growth known (it was
    unknown, and its gap asked for revenue_y2). The mean of the yearly rates (lg22) uses it."""
    firms = pd.DataFrame(
        {
            "respondent_id": ["slow", "fast", "no_y1"],
            "revenue_y3": [10000.0, 10000.0, 10000.0],
            "revenue_y2": [np.nan, np.nan, 10500.0],
            "revenue_y1": [10400.0, 11025.0, np.nan],
        }
    )
    out = el.evaluate(firms, "2026")
    assert list(out["lg26_growth"]) == [NOT, MET, "unknown"]
    assert list(el.evaluate(firms, "2022")["lg22_growth"]) == ["unknown"] * 3
    one = el.evaluate(firms.iloc[0].dropna().to_dict(), "2026", lang="en")
    growth = next(c for c in one["little_giant"].conditions if c.id == "lg26_growth")
    assert growth.state == NOT and "revenue_y2" not in str(growth.values)


@pytest.mark.parametrize("seed", [1, 2])
def test_mean_growth_meets_5_percent_exactly_as_decimal_arithmetic_says(seed):
    """lg22_growth: (y2/y3 - 1 + y1/y2 - 1) / 2 ≥ 5 %, exactly (the file's mean_rate)."""
    rng = np.random.default_rng(seed)
    n = 300
    y3 = rng.integers(100_00, 100_000_00, n)
    y2 = y3 + rng.integers(0, 20, n) * y3 // 100  # grows 0-19 %
    # y1 with y1/y2 = 1.1 - y2/y3 + 1 exactly would be the edge; rounded to cents, ± 2 cents
    exact = [
        Fraction(int(b)) * (Fraction(11, 10) - Fraction(int(b), int(c)) + 1)
        for b, c in zip(y2, y3, strict=True)
    ]
    y1 = np.array([round(e) for e in exact]) + rng.integers(-2, 3, n)
    frame = pd.DataFrame(
        {
            "respondent_id": [f"M{i}" for i in range(n)],
            "main_revenue_y3": y3 / 100,
            "main_revenue_y2": y2 / 100,
            "main_revenue_y1": y1 / 100,
        }
    )
    out = el.evaluate(frame, "2022", max_gaps=0)
    want = [
        MET
        if (Fraction(int(b), int(c)) + Fraction(int(a), int(b)) - 2) / 2 >= Fraction(5, 100)
        else NOT
        for a, b, c in zip(y1, y2, y3, strict=True)
    ]
    assert list(out["lg22_growth"]) == want
    assert MET in want and NOT in want


# -- scorecards: points per indicator at every band edge (a shared edge: the higher band) ---------


def pts(policy: str, rung: str, indicator: str, points: float, **facts) -> pytest.param:
    words = ",".join(f"{k}={v}" for k, v in facts.items())
    return pytest.param(policy, rung, indicator, facts, points, id=f"{indicator}-{words}->{points}")


def _share(pct: float, of: float = 10000) -> float:
    return round(pct * of / 100, 2)


POINTS = [
    # 创新型 (63号附件1) §3.1
    *[
        pts("2022", IN, "in22s_rd", p, rd_y1=_share(s), revenue_y1=10000)
        for s, p in [
            (0.99, 0),
            (1, 5),
            (1.99, 5),
            (2, 10),
            (2.99, 10),
            (3, 15),
            (4.99, 15),
            (5, 20),
        ]
    ],
    pts("2022", IN, "in22s_rd", 15, rd_y1=128.64, revenue_y1=4288),  # exactly 3 %
    *[
        pts("2022", IN, "in22s_growth", p, main_revenue_y2=10000, main_revenue_y1=10000 + g * 100)
        for g, p in [
            (-0.01, 0),
            (0, 5),
            (4.99, 5),
            (5, 10),
            (9.99, 10),
            (10, 15),
            (14.99, 15),
            (15, 20),
        ]
    ],
    *[
        pts("2022", IN, "in22s_debt", p, debt_ratio=d)
        for d, p in [(0, 10), (55, 10), (55.01, 5), (75, 5), (75.01, 0), (100, 0)]
    ],
    pts("2022", IN, "in22s_emerging", 10, strategic_emerging="yes"),
    pts("2022", IN, "in22s_emerging", 5, strategic_emerging="no"),
    *[
        pts("2022", IN, "in22s_main", p, main_revenue_y1=_share(m), revenue_y1=10000)
        for m, p in [
            (49.99, 0),
            (50, 5),
            (54.99, 5),
            (55, 10),
            (59.99, 10),
            (60, 15),
            (69.99, 15),
            (70, 20),
        ]
    ],
    pts("2022", IN, "in22s_ip", 20, ip_class1=1, ip_class1_high_value="yes", ip_class1_own="no"),
    pts("2022", IN, "in22s_ip", 15, ip_class1=1, ip_class1_high_value="no", ip_class1_own="yes"),
    pts("2022", IN, "in22s_ip", 10, ip_class1=1, ip_class1_high_value="no", ip_class1_own="no"),
    pts("2022", IN, "in22s_ip", 5, ip_class1=0, ip_class2=1),
    pts("2022", IN, "in22s_ip", 0, ip_class1=0, ip_class2=0),
    # 专精特新 2022 (63号附件2) §3.2
    *[
        pts("2022", SR, "sr22s_main", p, main_revenue_y1=_share(m), revenue_y1=10000)
        for m, p in [(59.99, 0), (60, 1), (69.99, 1), (70, 3), (79.99, 3), (80, 5)]
    ],
    *[
        pts("2022", SR, "sr22s_niche", p, niche_years=n)
        for n, p in [
            (1.99, 0),
            (2, 1),
            (3.99, 1),
            (4, 2),
            (6, 3),
            (8, 4),
            (9.99, 4),
            (10, 5),
            (30, 5),
        ]
    ],
    pts("2022", SR, "sr22s_field", None, product_field="gap_filler"),  # 0 to 5: a review's
    pts("2022", SR, "sr22s_field", 3, product_field="six_bases"),
    pts("2022", SR, "sr22s_field", 0, product_field="other"),
    *[
        pts("2022", SR, "sr22s_digital", p, digital_level=lv)
        for lv, p in [(0, 0), (1, 0), (2, 3), (3, 5), (4, 5)]
    ],
    *[
        pts("2022", SR, "sr22s_quality", p, quality_items=q)
        for q, p in [(0, 0), (1, 3), (2, 5), (4, 5)]
    ],
    *[
        pts("2022", SR, "sr22s_margin", p, net_profit_y1=_share(m), revenue_y1=10000)
        for m, p in [
            (-5, 0),
            (1.99, 0),
            (2, 2),
            (3.99, 2),
            (4, 4),
            (6, 6),
            (8, 8),
            (9.99, 8),
            (10, 10),
        ]
    ],
    *[
        pts("2022", SR, "sr22s_debt", p, debt_ratio=d)
        for d, p in [(50, 5), (50.01, 3), (60, 3), (60.01, 1), (70, 1), (70.01, 0)]
    ],
    pts("2022", SR, "sr22s_ip", 10, ip_class1=2, ip_class1_high_value="yes", ip_class1_own="yes"),
    pts("2022", SR, "sr22s_ip", 8, ip_class1=2, ip_class1_high_value="no", ip_class1_own="yes"),
    pts("2022", SR, "sr22s_ip", 6, ip_class1=2, ip_class1_high_value="no", ip_class1_own="no"),
    pts("2022", SR, "sr22s_ip", 2, ip_class1=0, ip_class2=3),
    # R&D: the better of the amount and the share
    *[
        pts("2022", SR, "sr22s_rd", p, rd_y1=a, revenue_y1=1_000_000)  # share ≤ 0.05 %
        for a, p in [
            (99.99, 0),
            (100, 2),
            (199.99, 2),
            (200, 4),
            (300, 6),
            (400, 8),
            (499.99, 8),
            (500, 10),
        ]
    ],
    *[
        pts("2022", SR, "sr22s_rd", p, rd_y1=_share(s, 900), revenue_y1=900)  # amount < 100
        for s, p in [(2.99, 0), (3, 2), (4, 4), (6, 6), (8, 8), (10, 10)]
    ],
    pts("2022", SR, "sr22s_rd", 6, rd_y1=300, revenue_y1=10000),  # 300万 -> 6 beats 3 % -> 2
    pts("2022", SR, "sr22s_rd", 8, rd_y1=160, revenue_y1=2000),  # 8 % -> 8 beats 160万 -> 2
    *[
        pts("2022", SR, "sr22s_rd_staff", p, rd_staff=r, staff=s)
        for r, s, p in [
            (499, 10000, 0),
            (5, 100, 1),
            (999, 10000, 1),
            (10, 100, 3),
            (1999, 10000, 3),
            (20, 100, 5),
        ]
    ],
    *[
        pts("2022", SR, "sr22s_lab", p, rd_institution=v)
        for v, p in [
            ("none", 0),
            ("below_city", 2),
            ("city", 4),
            ("provincial", 8),
            ("national", 10),
        ]
    ],
]


@pytest.mark.parametrize("policy, rung, indicator, facts, expected", POINTS)
def test_scorecard_points_per_indicator_at_the_band_edges(policy, rung, indicator, facts, expected):
    sc = el.evaluate(firm_of(facts), policy)[rung].scorecard
    got = next(i for i in sc.indicators if i.id == indicator)
    assert got.points == expected


# -- a spreadsheet's float error at an edge: a formula's 55.00000000000001 is 55 ------------------


def _compares(test):
    """The number comparisons of a test, however nested."""
    if isinstance(test, Compare):
        yield test
    for child in getattr(test, "all", None) or getattr(test, "any", None) or ():
        yield from _compares(child)


def _nudged(value: float, toward: float, ulps: int = 2) -> float:
    for _ in range(ulps):
        value = float(np.nextafter(value, toward))
    return value


def _edge_pairs(policy: str):
    """(column, fact, edge, edge a few ulps off) for every comparison of a fact as given, off
    to the side where float error would change the comparison."""
    rules = el.load_policy(policy)
    tests = [(cid, c.test) for cid, c in rules.conditions.items()]
    tests += [
        (cid, c.recheck) for cid, c in rules.conditions.items() if c.recheck not in (None, "skip")
    ]
    tests += [(rid, o.test) for rid, r in rules.routes.items() for o in r.options]
    for column, test in tests:
        for leaf in _compares(test):
            if leaf.of in rules.metrics:
                continue  # derived values: rounded to the policy's precision (tested above)
            for edge, toward in [
                (leaf.at_least, -np.inf),
                (leaf.at_most, np.inf),
                (leaf.above, np.inf),
                (leaf.below, -np.inf),
            ]:
                if edge is not None and edge != 0:
                    yield column, leaf.of, edge, _nudged(edge, toward)


@pytest.mark.parametrize("policy", ["2022", "2026"])
def test_a_fact_a_few_ulps_off_an_edge_is_judged_as_the_edge(policy):
    # a debt ratio a spreadsheet computed as =0.8*100 ... or 550/1000*100 is 55.00000000000001:
    # read as written, it failed "at most 55" and fell in the band above; a count computed
    # as =0.3*10 (3.0000000000000004) was refused as not whole. A number is read to the 15
    # significant digits a spreadsheet keeps and shows, so each pair gives the same state
    pairs = list(_edge_pairs(policy))
    assert len(pairs) > 15
    rows = []
    for i, (_, fact, edge, off) in enumerate(pairs):
        rows.append(firm_of({fact: edge}, f"E{i}"))
        rows.append(firm_of({fact: off}, f"O{i}"))
    out = el.evaluate(pd.DataFrame(rows), policy, max_gaps=0).set_index("respondent_id")
    assert len(out) == len(rows)  # none refused
    for i, (column, fact, edge, off) in enumerate(pairs):
        assert out.at[f"O{i}", column] == out.at[f"E{i}", column], (column, fact, edge, off)


@pytest.mark.parametrize("policy", ["2022", "2026"])
def test_scorecard_points_a_few_ulps_off_a_band_edge_are_the_edge_s(policy):
    rules = el.load_policy(policy)
    rung_of = {r.points: rid for rid, r in rules.rungs.items() if r.points}
    cases = []
    for sid, sc in rules.scorecards.items():
        if sid not in rung_of:  # a scorecard the result shows (a rung's points)
            continue
        for ind in sc.indicators:
            if ind.of is None or ind.of in rules.metrics or not ind.bands:
                continue
            for band in ind.bands:
                for edge in (band.min, band.max):
                    if edge is not None and edge != 0:
                        cases.append((sid, ind.id, ind.of, edge))
    assert cases
    for sid, iid, fact, edge in cases:
        points = []
        for value in (edge, _nudged(edge, -np.inf), _nudged(edge, np.inf)):
            card = el.evaluate(firm_of({fact: value}), policy)[rung_of[sid]].scorecard
            points.append(next(i.points for i in card.indicators if i.id == iid))
        assert points[1] == points[0] == points[2], (sid, iid, edge, points)

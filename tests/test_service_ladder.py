"""The 梯度培育 pre-check behind the app: the facts form, the stored facts and evaluation, and the
ladder as the firm reads it (dmi.service.ladder, Store.save_ladder / ladder, dmi.results.ladder).

The firm below is worked by hand from the 2026 rules (reference/cultivation.md §2.6): revenue
4000万, main-business revenue 3600万 (a 90% share), R&D 96万 last year (2.4% of revenue) and
120万 the year before (3.33% of 3600万), a debt ratio of 81%. So for 专精特新: sr26_debt is not
met (81 > 80) and sr26_rd is not met (96 < 100 and 2.4% < 3%); the R&D share reaches 3% with
4000 × 3% − 96 = +24万.
"""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import date, timedelta

import pandas as pd
import pytest
from sqlalchemy import MetaData, Table, create_engine, insert, inspect

import dmi.eligibility as el
from dmi.eligibility import FACTS, RUNGS
from dmi.eligibility.facts import IMPLAUSIBLE_AMOUNT
from dmi.locales import text
from dmi.results.ladder import fact_value_text, ladder_view, number_text
from dmi.service import ladder as service
from dmi.service import store as store_module
from dmi.service.store import Store, hash_token, new_token
from dmi.text import mid_sentence

MIIT = "miit-2024-manufacturing"
FIRM = {
    "holds_innovative": "yes",
    "revenue_y1": 4000,
    "revenue_y2": 3600,
    "main_revenue_y1": 3600,
    "rd_y1": 96,
    "rd_y2": 120,
    "debt_ratio": 81,
    "niche_years": 4,
    "ip_class1": 1,
    "eval_score": 55,
    "sme": "yes",
    "credit_clean": "yes",
    "product_allowed": "yes",
    "no_incident": "yes",
}
CODE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")  # a fact or condition id


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'dmi.sqlite'}", retention_days=30)


# -- the form ------------------------------------------------------------------------------------


def test_the_form_asks_every_fact_once_but_the_id_and_the_computed_level():
    asked = [f.code for g in service.form_groups() for f in g.facts]
    assert len(asked) == len(set(asked))
    assert set(asked) == set(FACTS.codes) - {"respondent_id", "digital_level_computed"}
    titles = [g.title("zh") for g in service.form_groups()]
    assert len(set(titles)) == len(titles) and all(titles)


def test_a_fact_no_group_names_is_still_asked_in_the_last_group(monkeypatch):
    groups = tuple(g for g in service._GROUPS if g[0] != "people")
    monkeypatch.setattr(service, "_GROUPS", groups)
    found = service.form_groups()
    assert found[-1].key == "other"
    assert [f.code for f in found[-1].facts] == ["staff", "rd_staff"]
    assert found[-1].title("en") == "Other"


def test_facts_of_several_years_are_one_row_last_year_first():
    finance = next(g for g in service.form_groups() if g.key == "finance")
    rows = [[f.code for f in row] for row in service.rows_by_year(finance.facts)]
    assert rows[0] == ["revenue_y1", "revenue_y2", "revenue_y3"]
    assert rows[1] == ["main_revenue_y1", "main_revenue_y2", "main_revenue_y3"]
    assert ["net_profit_y1"] in rows and ["debt_ratio"] in rows


def test_blanks_are_left_out_and_whole_numbers_stay_whole():
    values = {
        "revenue_y1": 4000.0,
        "revenue_y2": None,
        "staff": 120.0,
        "debt_ratio": 55.5,
        "sme": None,
        "province": "  广东 ",
        "sector": "",
        "award": "none",
        "digital_level_computed": 4,  # never taken from the form
        "not_a_fact": 1,
    }
    facts = service.form_facts(values)
    assert facts == {
        "revenue_y1": 4000.0,
        "staff": 120,
        "debt_ratio": 55.5,
        "province": "广东",
        "award": "none",
    }
    assert isinstance(facts["staff"], int)


def test_the_surveys_province_sector_and_employees_are_the_facts_the_form_starts_from():
    from dmi.instruments import load_instrument

    miit = load_instrument("miit-2024-manufacturing")
    got = service.profile_facts(miit, {"region": "44", "sector": "C39", "employees": 3})
    # the facts table's survey_profile, as a bulk run of the survey's export reads it
    assert got == {
        "province": "广东省",
        "sector": "C39 计算机、通信和其他电子设备制造业",
        "staff": 3,
    }
    # the staff only where the fact takes the employees given: 从业人员数 is a yearly average
    # (120.5 would be refused in the form, said nowhere to come from the survey)
    cases = [("120", 120), (120.0, 120), ("1,200", 1200), (120.5, None), ("很多", None), (-3, None)]
    for employees, staff in cases:
        got_staff = service.profile_facts(miit, {"employees": employees}).get("staff")
        assert got_staff == staff and type(got_staff) is type(staff), employees
    # blank fields give nothing; a value that is not an option is kept as given (trimmed)
    assert service.profile_facts(miit, {"region": None, "sector": " "}) == {}
    assert service.profile_facts(miit, {"region": " 江苏 "}) == {"province": "江苏"}
    # an instrument without a region field gives its sector alone
    eu = load_instrument("eu-dma-sme")
    assert service.profile_facts(eu, {"region": "44", "sector": "C"}) == {"sector": "C 制造业"}
    # the form takes them as the firm's facts
    assert service.form_facts(got) == got


def test_a_blank_is_unknown_never_not_met():
    blank = service.evaluate_facts(
        service.form_facts(dict.fromkeys(FACTS.codes)), "2026", None, "zh"
    )
    for rung in RUNGS:
        assert blank[rung].status == "unknown"
        states = {c.state for c in blank[rung].conditions}
        assert "not_met" not in states and "met" not in states
    # one blank among given facts: that condition is unknown, the others as given
    without_debt = {k: v for k, v in FIRM.items() if k != "debt_ratio"}
    result = service.evaluate_facts(without_debt, "2026", None, "en")
    assert result["specialised"].condition("sr26_debt").state == "unknown"
    assert result["specialised"].condition("sr26_rd").state == "not_met"


@pytest.mark.parametrize(("level", "points"), [(3, 5.0), (4, 5.0), (2, 3.0), (1, 0.0), (0, 0.0)])
def test_the_surveys_level_is_the_digital_level_of_the_2022_scorecard(level, points):
    # 63号附件2 数字化水平: 三级 or 四级 5 points, 二级 3, else 0 (reference §3.2)
    given = {**FIRM, "digital_level": 1}  # stated before the survey: the survey's level wins
    result = service.evaluate_facts(given, "2022", level, "zh")
    indicators = {i.id: i.points for i in result["specialised"].scorecard.indicators}
    assert indicators["sr22s_digital"] == points
    # the stated level is kept, and a disagreement flagged as the library flags it (it was
    # dropped without a word)
    year = service.application_year_now("2022")
    api = el.evaluate({**given, "digital_level_computed": level}, "2022", year=year, lang="zh")
    assert result.row == api.row
    assert bool(result.flags) == (level != 1) and result.flags == api.flags
    # without a survey the stated level counts
    stated = service.evaluate_facts({**FIRM, "digital_level": 2}, "2022", None, "zh")
    assert {i.id: i.points for i in stated["specialised"].scorecard.indicators}[
        "sr22s_digital"
    ] == 3.0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_facts_that_contradict_each_other_are_named_in_the_pages_language(lang):
    bad = {**FIRM, "main_revenue_y1": 5000, "staff": 10, "rd_staff": 12}
    with pytest.raises(el.FactsError) as caught:
        service.evaluate_facts(bad, "2026", None, lang)
    lines = service.problems(caught.value.rejects, bad, lang)
    assert len(lines) == 2
    main = FACTS["main_revenue_y1"].label(lang)
    revenue = FACTS["revenue_y1"].label(lang)
    line = next(x for x in lines if main in x)
    assert revenue in line and "5000" in line and "4000" in line
    assert not re.search(r"[a-z]+_[a-z0-9_]+", line)  # no column code
    if lang == "zh":
        assert "不能大于" in line
    else:
        assert "cannot be more than" in line
    own = {**FIRM, "ip_class1": 0, "ip_class1_own": "yes"}
    with pytest.raises(el.FactsError) as caught:
        service.evaluate_facts(own, "2026", None, lang)
    (line,) = service.problems(caught.value.rejects, own, lang)
    assert FACTS["ip_class1"].label(lang) in line and "1" in line


@pytest.mark.parametrize(
    "given, refused, says",
    [
        ({"revenue_y1": 100, "main_revenue_y1": -5}, "main_revenue_y1", "check_min"),
        ({"staff": 10, "rd_staff": -3}, "rd_staff", "check_min"),
        ({"staff": 10, "rd_staff": 2.5}, "rd_staff", "check_whole"),
        ({"revenue_y1": 100, "main_revenue_y1": 120}, "main_revenue_y1", "check_at_most"),
    ],
)
def test_a_fact_that_has_a_check_across_facts_is_named_for_its_own_problem(given, refused, says):
    # a negative main revenue read "(-5万元) cannot be more than Revenue (100万元)": a fact that
    # has a check across two facts took that check's wording whatever its value's problem was
    from dmi.locales import text

    bad = {**FIRM, **given}
    with pytest.raises(el.FactsError) as caught:
        service.evaluate_facts(bad, "2026", None, "en")
    (line,) = service.problems(caught.value.rejects, bad, "en")
    assert FACTS[refused].label("en") in line
    words = {
        "check_min": text("ladder.check_min", "en", fact="", value="", low="").split("()")[-1],
        "check_whole": "must be a whole number",
        "check_at_most": "cannot be more than",
    }
    assert words[says].strip() in line
    assert "cannot be more than" not in line or says == "check_at_most"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_valid_facts_are_evaluated_and_the_refused_ones_left_out(lang):
    # a refused value stopped the whole evaluation (and the page saved nothing after it)
    bad = {**FIRM, "debt_ratio": 180, "main_revenue_y1": 5000, "staff": 10, "rd_staff": 12}
    checked = service.check_facts(bad, "2026", None, lang)
    refused = {"debt_ratio": 180, "main_revenue_y1": 5000, "rd_staff": 12}
    assert checked.refused == refused
    kept = {k: v for k, v in bad.items() if k not in refused}
    assert checked.facts == kept
    year = service.application_year_now("2026")
    assert checked.result.row == el.evaluate(kept, "2026", year=year, lang=lang).row
    # each message at the field it names first, as problems() words it
    with pytest.raises(el.FactsError) as caught:
        service.evaluate_facts(bad, "2026", None, lang)
    assert sorted(checked.messages.values()) == sorted(
        [m] for m in service.problems(caught.value.rejects, bad, lang)
    )
    assert set(checked.messages) == set(refused)
    assert FACTS["revenue_y1"].label(lang) in checked.messages["main_revenue_y1"][0]
    # nothing refused: the facts as given
    fine = service.check_facts(FIRM, "2026", None, lang)
    assert fine.facts == FIRM and fine.refused == {} and fine.messages == {}


@pytest.mark.parametrize("huge", [1e20, 2.0**63, 1e300])
def test_a_huge_whole_number_from_the_form_is_a_number_not_a_crash(huge):
    # the form keeps a whole number as an int: 10**20 staff stopped the page with an
    # OverflowError (Arrow takes no int beyond 64 bits) where the float was evaluated
    facts = service.form_facts({**FIRM, "staff": huge, "ip_class1": huge})
    assert isinstance(facts["staff"], int)
    checked = service.check_facts(facts, "2026", None, "zh")
    assert checked.refused == {}
    assert checked.result.row == el.evaluate({**FIRM, "staff": huge, "ip_class1": huge}).row
    assert checked.result.row["ts_size"] == "not_met"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_whole_number_with_decimals_is_refused_naming_the_fact(lang):
    # a staff of 2.5 became 2 without a word: the CLI refuses it, and so does the page
    firm = {**FIRM, "staff": 2.5, "award_year": 2024}
    assert service.form_facts(firm)["staff"] == 2.5  # kept as given, not rounded
    with pytest.raises(el.FactsError) as caught:
        service.evaluate_facts(service.form_facts(firm), "2026", None, lang)
    (line,) = service.problems(caught.value.rejects, firm, lang)
    assert FACTS["staff"].label(lang) in line and "2.5" in line
    assert ("整数" in line) if lang == "zh" else ("whole number" in line)
    assert not re.search(r"[a-z]{4,}", line) if lang == "zh" else "expected" not in line


def test_the_forms_help_names_no_fact_by_its_code():
    # "with award_year the window of each rule is checked": a code where a name was meant
    for group in service.form_groups():
        for fact in group.facts:
            for lang in ("zh", "en"):
                shown = fact.help.get(lang) if fact.help else ""
                assert not CODE.search(shown), (fact.code, lang, shown)


@pytest.mark.parametrize(
    "policy, today, year, why",
    [
        ("2026", date(2026, 12, 6), 2026, "today"),
        ("2026", date(2027, 3, 1), 2027, "today"),  # the 2026 rules' later routing
        ("2022", date(2026, 12, 6), 2026, "today"),  # its routing sends every year to itself
        ("2026", date(2025, 6, 1), 2026, "first"),  # a year before the rules is refused
    ],
)
def test_the_application_year_is_the_year_a_company_applies_in_today(policy, today, year, why):
    # the 2022 rules were applied for 2022 whatever the day: a national award of 2025 did
    # not count in 2026, where the 2026 rules counted it
    assert service.application_year_now(policy, today) == year
    note = service.year_note(policy, year, "en", today)
    said = text("ladder.year_today", "en") if why == "today" else "2026-04-01"
    assert said in note
    award = {**FIRM, "award": "national", "award_year": year - 1}
    result = service.evaluate_facts(award, policy, None, "en", today=today)
    assert result.year == year
    assert result["innovative"].status == "eligible"
    assert result["innovative"].route_used == "in22_direct:award"


# -- the ladder as the firm reads it ----------------------------------------------------------


def test_numbers_are_shown_with_at_most_two_decimals():
    assert [number_text(v) for v in (80.0, 2.4, 10 / 3, -0.001, 1234567.0)] == [
        "80",
        "2.4",
        "3.33",
        "0",
        "1234567",
    ]
    assert fact_value_text("debt_ratio", 81.0, "zh") == "81%"
    assert fact_value_text("revenue_y1", 4000, "en") == "4000万元"
    assert fact_value_text("staff", 120, "en") == "120"
    assert fact_value_text("sme", "yes", "zh") == "是"
    assert fact_value_text("award", "provincial", "en") == "provincial or ministerial"
    assert fact_value_text("award", None, "zh") == "未填"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_view_says_each_rung_and_condition_as_the_api_decides(lang):
    result = el.evaluate(FIRM, policy="2026", lang=lang)
    views = ladder_view(result)
    assert [v.rung for v in views] == list(RUNGS)
    for view in views:
        assert view.status == result[view.rung].status
        assert view.label == result[view.rung].label
        conditions = result[view.rung].conditions + result[view.rung].routes
        assert [c.id for c in view.conditions + view.routes] == [c.id for c in conditions]
        assert [c.state for c in view.conditions + view.routes] == [c.state for c in conditions]
    specialised = views[1]
    assert specialised.status_text == ("暂未达到" if lang == "zh" else "Not yet")
    lines = {c.id: c for c in specialised.conditions}
    debt, share = FACTS["debt_ratio"].short_label(lang), lines["sr26_main"].values
    assert lines["sr26_debt"].values == (f"{debt} 81%")
    assert share.endswith(" 90%")  # 3600 / 4000
    assert lines["sr26_debt"].state_text == ("不满足" if lang == "zh" else "not met")
    assert lines["sr26_niche"].state_text == ("满足" if lang == "zh" else "met")
    # manual conditions say what to prepare; every line names its source and confidence
    assert lines["sr26_share"].state == "manual" and lines["sr26_share"].evidence
    assert all(c.source for c in specialised.conditions)
    mark = "来自汇编，待核实" if lang == "zh" else "from compilations"
    cited = {"zh": "2号附件1", "en": "No. 2 annex 1"}[lang]  # the documents in the page's words
    assert mark in lines["sr26_debt"].source and cited in lines["sr26_debt"].source
    # no id inside what is read: labels, values and gap texts (ids stay apart, as references)
    for view in views:
        for line in view.conditions + view.routes:
            assert not CODE.search(line.values), line
        for gap in view.gaps:
            assert not CODE.search(gap.text), gap


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_gaps_are_in_the_firms_own_numbers(lang):
    views = {v.rung: v for v in ladder_view(el.evaluate(FIRM, policy="2026", lang=lang))}
    gaps = {g.condition: g for g in views["specialised"].gaps}
    assert set(gaps) == {"sr26_debt", "sr26_rd"}
    assert "81%" in gaps["sr26_debt"].text and "80%" in gaps["sr26_debt"].text
    assert "2.4%" in gaps["sr26_rd"].text and "+24万元" in gaps["sr26_rd"].text  # 4000×3% − 96
    # an unknown rung lists the facts to give by their labels (of a firm without the title:
    # a title held has no gaps to show)
    assert views["innovative"].held and not views["innovative"].gaps
    unheld = el.evaluate({**FIRM, "holds_innovative": "no"}, policy="2026", lang=lang)
    views = {v.rung: v for v in ladder_view(unheld)}
    missing = [g for g in views["innovative"].gaps if g.kind == "missing"]
    assert len(missing) == 1 and missing[0].condition == ""
    assert FACTS["high_tech_title"].label(lang) in missing[0].text


def _labels(lang: str) -> list[str]:
    """Every fact's and every shipped rule's condition and route label in ``lang``."""
    found = [f.label(lang) for f in FACTS]
    for version in el.available_policies():
        policy = el.load_policy(version)
        found += [c.label(lang) for c in (*policy.conditions.values(), *policy.routes.values())]
    return found


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_facts_to_provide_and_the_conditions_to_review_are_told_apart(lang):
    # "Facts to provide: Main-business revenue, the year before, New equity paid in ..., last
    # 3 years": labels holding commas were joined with commas
    sep = text("ladder.item_sep", lang)
    assert not [label for label in _labels(lang) if sep.strip() in label]
    firm = {**FIRM, "holds_specialised": "no", "debt_ratio": 80, "rd_y1": 120}
    result = el.evaluate(firm, policy="2026", lang=lang)
    heads = {
        "missing": text("ladder.gap_missing", lang, facts=""),
        "manual": text("ladder.gap_manual", lang, items=""),
    }
    seen = set()
    for view in ladder_view(result):
        rung = result[view.rung]
        for gap, line in zip(rung.gaps, view.gaps):
            if line.kind not in heads:
                continue
            seen.add(line.kind)
            # the engine's own list: ids joined by commas
            listed = gap.text.partition(":" if lang == "en" else "：")[2]
            ids = listed.split(",") if lang == "en" else listed.split("、")
            ids = [i.strip() for i in ids]
            if line.kind == "missing":
                labels = [FACTS[i].label(lang) for i in ids]
            else:
                labels = [rung.condition(i).label for i in ids]
            assert line.text.startswith(heads[line.kind])
            assert line.text.removeprefix(heads[line.kind]).split(sep) == labels
    assert seen == {"missing", "manual"}


# 小巨人 2026 (worked by the reviewer): main-business share 80% → 90% takes +4290万元 of main
# revenue, which makes revenue 8580万元 and so meets lg26_rev (≥ 5000万元) too
ONE_CHANGE_TWO_CONDITIONS = {
    **FIRM,
    "holds_specialised": "yes",
    "revenue_y1": 4290,
    "revenue_y2": 4290,
    "main_revenue_y1": 3432,
    "debt_ratio": 80,
    "rd_y1": 128.7,
    "rd_y2": 128.7,
    "niche_years": 3,
    "eval_score": 50,
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_change_that_meets_two_conditions_names_them_as_the_firm_reads_them(lang):
    # "主营收入占比 80% → 90%（+4290万元 上年主营收入） 满足 lg26_main，lg26_rev": raw ids
    result = el.evaluate(ONE_CHANGE_TWO_CONDITIONS, policy="2026", lang=lang)
    rung = result["little_giant"]
    engine = next(g for g in rung.gaps if g.condition == "lg26_main")
    assert "lg26_rev" in engine.text  # the engine names both (the CLI's codes)
    little = ladder_view(result)[2]
    line = next(g for g in little.gaps if g.condition == "lg26_main")
    assert not CODE.search(line.text), line.text
    assert line.also == ("lg26_rev",)  # the references, kept apart as for one condition
    assert rung.condition("lg26_rev").label in line.text
    assert "90%" in line.text and "+4290万元" in line.text
    # a change of one condition reads as before: no id, nothing added
    debt = next(g for g in little.gaps if g.condition == "lg26_debt")
    assert debt.also == () and debt.text.endswith("75%")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_share_of_revenue_0_is_said_to_be_uncomputable_not_missing(lang):
    # both revenues given as 0: the main-business share cannot be computed; the page said
    # "主营收入占比 未填" (not given) under a condition not met, and its gap named sr26_main
    gate = ("sme", "credit_clean", "product_allowed", "no_incident")
    facts = {**dict.fromkeys(gate, "yes"), "revenue_y1": 0, "main_revenue_y1": 0}
    result = el.evaluate(facts, policy="2026", year=2026, lang=lang)
    share = result["specialised"].condition("sr26_main")
    assert share.state == "not_met" and math.isnan(share.values["main_share_y1"])
    assert result["specialised"].condition("sr26_rd").values["rd_share_y1"] is None  # not given
    for view in ladder_view(result)[1:]:
        cid = {"specialised": "sr26_main", "little_giant": "lg26_main"}[view.rung]
        line = next(c for c in view.conditions if c.id == cid)
        assert text("eligibility.undefined_bare", lang) in line.values
        assert text("ladder.no_value", lang) not in line.values
        gap = next(g for g in view.gaps if g.condition == cid)
        assert not CODE.search(gap.text), gap.text
        assert gap.text.endswith(text("eligibility.needed_for", lang, cid=line.label))


def test_a_yes_or_no_behind_a_condition_reads_in_the_sentences_case():
    # the English page read "SME Yes" beside "innovative title yes (valid)"
    view = ladder_view(el.evaluate(FIRM, policy="2026", lang="en"))[0]
    sme = next(c for c in view.conditions if c.id == "base_sme")
    assert sme.values == "SME yes"
    chinese = ladder_view(el.evaluate(FIRM, policy="2026", lang="zh"))[0]
    assert next(c for c in chinese.conditions if c.id == "base_sme").values.endswith("是")


@pytest.mark.parametrize(
    "debt, cautioned",
    [(0.8, True), (1, True), (0.001, True), (0, False), (1.5, False), (80, False)],
)
def test_a_debt_ratio_of_at_most_1_is_taken_with_a_caution(debt, cautioned):
    checked = service.check_facts({**FIRM, "debt_ratio": debt}, "2026", None, "en")
    assert checked.facts["debt_ratio"] == debt and not checked.refused
    if cautioned:
        (line,) = checked.cautions["debt_ratio"]
        assert line.startswith(FACTS["debt_ratio"].label("en")) and "multiplied by 100" in line
    else:
        assert checked.cautions == {}
    # a market share of 0.8 % is many a firm's: never cautioned
    assert "market_share" not in service.fraction_cautions({"market_share": 0.8}, "zh")


@pytest.mark.parametrize(
    "revenue, cautioned",
    [(40_000_000, True), (IMPLAUSIBLE_AMOUNT, True), (999_999, False), (4000, False)],
)
def test_an_amount_far_beyond_an_sme_is_taken_with_a_caution(revenue, cautioned):
    # revenue typed in yuan (40,000,000 for 4000万元) met both revenue floors without a word
    facts = {**FIRM, "revenue_y1": revenue, "net_profit_y1": -2_000_000}
    for lang in ("zh", "en"):
        checked = service.check_facts(facts, "2026", None, lang)
        assert checked.facts["revenue_y1"] == revenue and not checked.refused
        lines = checked.cautions.get("revenue_y1", [])
        assert bool(lines) == cautioned
        if cautioned:
            (line,) = lines
            assert FACTS["revenue_y1"].label(lang) in line and "5000" in line
            big = revenue / (10_000 if lang == "zh" else 100_000)
            assert number_text(big) in line
        # a loss as large is said too
        assert len(checked.cautions["net_profit_y1"]) == 1


@pytest.mark.parametrize(
    "rd, revenue, cautioned",
    [(15000, 12000, True), (12000.01, 12000, True), (12000, 12000, False), (600, 12000, False)],
)
def test_r_and_d_above_the_year_s_revenue_is_taken_with_a_caution(rd, revenue, cautioned):
    # R&D typed in yuan beside revenue in 万元 (a share of 125 %) met every R&D floor without a
    # word on the form, where the library and the bulk page note it
    facts = {**FIRM, "revenue_y2": revenue, "rd_y2": rd}
    for lang in ("zh", "en"):
        checked = service.check_facts(facts, "2026", None, lang)
        assert checked.facts["rd_y2"] == rd and not checked.refused
        lines = checked.cautions.get("rd_y2", [])
        assert bool(lines) == cautioned, lines
        if cautioned:
            (line,) = lines
            label = mid_sentence(FACTS["revenue_y2"].label(lang))  # within the sentence
            assert FACTS["rd_y2"].label(lang) in line and label in line
            assert number_text(rd) in line and number_text(revenue) in line
            assert "万元" in line
        assert "rd_y1" not in checked.cautions
    # a revenue of 0 or not given: no share to speak of (the share cannot be computed)
    for other in (0, None):
        checked = service.check_facts(
            {**FIRM, "revenue_y2": other, "rd_y2": rd}, "2026", None, "zh"
        )
        assert "rd_y2" not in checked.cautions


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_scorecard_at_its_pass_mark_but_short_in_a_group_names_no_id(lang):
    # "in22_score [创新能力 15 → 20]：上年研发费用占比 2.35% → 3% …": the total is at the pass
    # mark, only the group's floor is short, and the engine's line starts with the id
    firm = {
        **{k: FIRM[k] for k in ("sme", "credit_clean", "product_allowed", "no_incident")},
        "revenue_y1": 25209.2,
        "revenue_y2": 22971.96,
        "main_revenue_y1": 24656.19,
        "main_revenue_y2": 22573.06,
        "rd_y1": 592.79,
        "net_profit_y1": -1106.07,
        "debt_ratio": 47.8,
        "staff": 100,
        "rd_staff": 16,
        "ip_class1": 0,
        "ip_class2": 3,
        "award": "none",
        "high_tech_title": "no",
        "innovation_title": "no",
        "rd_institution": "none",
        "equity_3y": 0,
    }
    result = el.evaluate(firm, policy="2026", lang=lang)
    (gap,) = result["innovative"].gaps
    bracket = text("eligibility.group_open", lang)  # " [" / "【"
    assert gap.text.startswith("in22_score" + bracket)
    (line,) = ladder_view(result)[0].gaps
    assert line.condition == "in22_score" and not CODE.search(line.text), line.text
    assert line.text.startswith(bracket.strip()) and "+163.49万元" in line.text
    # the same gap as a follow-up ("after the changes above, in22_score [...]"): still no id,
    # and still said to come after the changes
    after = text("eligibility.after_changes", lang)
    rung = result["innovative"]
    follow_up = dataclasses.replace(rung, gaps=(dataclasses.replace(gap, text=after + gap.text),))
    moved = dataclasses.replace(result, rungs={**result.rungs, "innovative": follow_up})
    (again,) = ladder_view(moved)[0].gaps
    assert again.text == after + line.text


def test_a_direct_route_says_which_one_replaced_the_scorecard():
    firm = {**FIRM, "high_tech_title": "yes"}
    for lang, words in (("zh", "有效期内的高新技术企业"), ("en", "high-tech")):
        innovative = ladder_view(el.evaluate(firm, policy="2026", lang=lang))[0]
        assert innovative.status == "eligible"
        assert words in innovative.route
        replaced = {c.id: c for c in innovative.conditions}["in22_score"]
        assert replaced.via is not None and words in replaced.via
        assert innovative.gaps == ()


def test_a_recheck_is_said_and_the_routing_version_shown():
    firm = {**FIRM, "holds_specialised": "yes", "holds_little_giant": "recheck"}
    little = ladder_view(el.evaluate(firm, policy="2026", year=2026, lang="zh"))[2]
    api = el.evaluate(firm, policy="2026", year=2026)["little_giant"]
    assert api.applicant == "recheck"
    assert "复核" in little.meta and api.policy in little.meta


# -- the store ---------------------------------------------------------------------------------


def _row(firm, policy="2026"):
    return el.evaluate(firm, policy=policy).row


def _plain(row):
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def test_facts_and_evaluation_are_kept_with_the_code_and_replaced(store):
    token = store.new_draft(MIIT, "zh")
    other = store.new_draft(MIIT, "zh")
    assert store.ladder(token) is None
    store.save_ladder(token, FIRM, "2026", _row(FIRM))
    kept = store.ladder(token)
    assert kept.facts == FIRM
    assert kept.policy == "2026" and kept.submission_id is None
    assert kept.evaluation == _plain(_row(FIRM))
    assert kept.evaluation["specialised_status"] == "not_yet"
    assert store.ladder(other) is None  # another code sees nothing

    changed = {**FIRM, "debt_ratio": 80, "rd_y1": 120}
    store.save_ladder(token, changed, "2022", _row(changed, "2022"), submission_id=7)
    kept = store.ladder(token)
    assert kept.facts["debt_ratio"] == 80 and kept.policy == "2022" and kept.submission_id == 7
    assert kept.evaluation == _plain(_row(changed, "2022"))
    with pytest.raises(KeyError, match="unknown"):
        store.save_ladder(new_token(), FIRM, "2026", {})


def test_values_refused_are_kept_apart_from_the_facts(store):
    # a refused value is not a fact (never evaluated), but what the firm typed comes back in
    # its field with the code: it had been lost with every later change
    token = store.new_draft(MIIT, "zh")
    given = {"sme": "yes"}
    store.save_ladder(token, given, "2026", _row(given), refused={"debt_ratio": 180})
    kept = store.ladder(token)
    assert kept.facts == {"sme": "yes"} and kept.refused == {"debt_ratio": 180}
    store.save_ladder(token, {"sme": "yes", "debt_ratio": 80}, "2026", _row({"sme": "yes"}))
    assert store.ladder(token).refused == {}


def _older_schema(without_column: str | None = None) -> MetaData:
    """The store's tables as an earlier version made them: without ``ladder_checks``, or with
    it but without ``without_column``."""
    older = MetaData()
    for name, table in store_module.metadata.tables.items():
        if name != "ladder_checks":
            table.to_metadata(older)
    if without_column is not None:
        kept = [c._copy() for c in store_module.ladder_checks.c if c.name != without_column]
        Table("ladder_checks", older, *kept)
    return older


def test_an_older_pre_check_table_gets_the_refused_values_column(tmp_path):
    # a database whose ladder_checks table was made before the refused values were kept
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    older = _older_schema(without_column="refused")
    engine = create_engine(url)
    older.create_all(engine)
    assert "refused" not in {c["name"] for c in inspect(engine).get_columns("ladder_checks")}
    engine.dispose()
    opened = Store(url)
    token = opened.new_draft(MIIT, "zh")
    opened.save_ladder(token, FIRM, "2026", _row(FIRM), refused={"staff": 2.5})
    assert Store(url).ladder(token).refused == {"staff": 2.5}  # and a second opening finds it


def test_a_pre_check_expires_with_the_retention_period(store):
    token = store.new_draft(MIIT)
    store.save_ladder(token, FIRM, "2026", _row(FIRM))
    soon = pd.Timestamp.now(tz="UTC").to_pydatetime() + timedelta(days=29)
    later = soon + timedelta(days=2)
    store.purge_expired(soon)
    assert store.ladder(token) is not None
    store.purge_expired(later)
    assert store.ladder(token) is None


def test_an_older_database_without_the_table_opens_and_keeps_its_drafts(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    older = _older_schema()
    engine = create_engine(url)
    older.create_all(engine)
    token = new_token()
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    with engine.begin() as conn:
        conn.execute(
            insert(older.tables["drafts"]).values(
                token_hash=hash_token(token),
                instrument_id=MIIT,
                lang="zh",
                answers={"sector": "C34"},
                page=1,
                created_at=now,
                updated_at=now,
                expires_at=now + timedelta(days=30),
            )
        )
    assert "ladder_checks" not in inspect(engine).get_table_names()
    engine.dispose()

    opened = Store(url)
    assert "ladder_checks" in inspect(opened.engine).get_table_names()
    assert opened.draft(token).answers == {"sector": "C34"}
    opened.save_ladder(token, FIRM, "2026", _row(FIRM))
    assert Store(url).ladder(token).facts == FIRM  # and a second opening finds it


def test_evidence_to_prepare_is_shown_only_for_a_condition_left_to_a_reviewer():
    # sr26_rev met by revenue alone asked for the investors' papers of its other way
    base = {"sme": "yes", "holds_innovative": "yes", "debt_ratio": 50}
    lines = {}
    for name, facts in {
        "met": {**base, "revenue_y1": 2000},
        "manual": {**base, "revenue_y1": 1000, "equity_2y": 2500},
        "not_met": {**base, "revenue_y1": 1000, "equity_2y": 100},
    }.items():
        (view,) = [v for v in ladder_view(el.evaluate(facts, "2026")) if v.rung == "specialised"]
        lines[name] = next(c for c in view.conditions if c.id == "sr26_rev")
    assert {k: line.state for k, line in lines.items()} == {
        "met": "met",
        "manual": "manual",
        "not_met": "not_met",
    }
    assert lines["manual"].evidence and "合格机构投资者" in lines["manual"].evidence
    assert lines["met"].evidence is None and lines["not_met"].evidence is None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_value_refused_for_another_reason_is_worded_in_the_page_s_language(lang):
    # "上年营业收入: expected a finite number": the library's English on the Chinese page
    facts = {"revenue_y1": float("inf")}
    with pytest.raises(el.FactsError) as caught:
        el.evaluate(facts, "2026")
    (line,) = service.problems(caught.value.rejects, facts, lang)
    assert line == text(
        "ladder.check_unreadable", lang, fact=FACTS["revenue_y1"].label(lang), value="inf"
    )
    assert "expected" not in line or lang == "en"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_bar_the_firm_fails_is_named_by_its_conditions_label(lang):
    # "SME: no, which fails base_sme (a bar, …)": the page names the condition, not its id
    result = el.evaluate({**FIRM, "sme": "no"}, policy="2026", lang=lang)
    (line,) = [g for g in ladder_view(result)[1].gaps if g.condition == "base_sme"]
    label = result["specialised"].condition("base_sme").label
    assert line.text.endswith(text("eligibility.fixed_bar", lang, cid=label)), line.text
    assert not CODE.search(line.text), line.text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_direct_route_s_gap_names_what_it_stands_in_place_of_by_label(lang):
    # "… meets sr22_direct, in place of sr22_score" reached the page and the report with the ids
    from .test_eligibility_gaps import NEAR_ROUTE

    result = el.evaluate(NEAR_ROUTE, "2022", lang=lang, max_gaps=None)
    view = ladder_view(result)[1]
    (line,) = [g for g in view.gaps if g.condition == "sr22_direct"]
    assert "sr22_direct" not in line.text and "sr22_score" not in line.text, line.text
    score = result["specialised"].condition("sr22_score").label
    assert line.text.endswith(text("ladder.gap_in_place_of", lang, conditions=score))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_value_refused_is_said_as_refused_beside_its_condition_not_as_not_given(lang):
    # a debt ratio of 180 was refused under its field, and the conditions list read "debt
    # ratio not given": as if the firm had never typed it. The number box gives floats: said as
    # the form writes numbers (180%, not 180.0), and a share worked out from a refused amount
    # names it
    facts = {**FIRM, "debt_ratio": 180.0, "revenue_y1": 2000.0, "main_revenue_y1": 2500.0}
    checked = service.check_facts(facts, "2026", None, lang)
    assert checked.refused == {"debt_ratio": 180.0, "main_revenue_y1": 2500.0}

    def said(code: str, value: str) -> str:
        return text("ladder.value", lang, label=FACTS[code].short_label(lang), value=value)

    refused_debt = said("debt_ratio", text("ladder.value_refused", lang, value="180%"))
    missing_debt = said("debt_ratio", text("ladder.no_value", lang))
    views = {v.rung: v for v in ladder_view(checked.result, checked.refused)}
    line = next(c for c in views["specialised"].conditions if c.id == "sr26_debt")
    assert line.state == "unknown" and refused_debt in line.values, line.values
    assert missing_debt not in line.values
    main = next(c for c in views["specialised"].conditions if c.id == "sr26_main")
    typed = said("main_revenue_y1", text("ladder.value_refused", lang, value="2500万元"))
    assert text("ladder.value_from_refused", lang, values=typed) in main.values, main.values
    # a fact never given is still "not given"
    plain = el.evaluate({**FIRM, "debt_ratio": None}, "2026", lang=lang)
    line = next(c for c in ladder_view(plain)[1].conditions if c.id == "sr26_debt")
    assert missing_debt in line.values


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_scorecard_failed_on_a_group_floor_says_which_group(lang):
    # 科技型: 60 points at a pass mark of 60, but the S&T staff group scores 0 (it must score
    # above 0): the line read "不满足 · 评价得分 60 分（及格线 60 分）", nothing saying why
    facts = {
        "holds_innovative": "no", "staff": 120, "rd_staff": 5, "revenue_y1": 1400,
        "revenue_y2": 1200, "main_revenue_y1": 1200, "main_revenue_y2": 1000, "rd_y1": 60,
        "rd_y2": 50, "ip_class1": 1, "ip_class1_own": "yes", "sme": "yes",
        "credit_clean": "yes", "product_allowed": "yes", "no_incident": "yes",
        "no_incident_recent": "yes", "cost_y1": 1300, "assets_y1": 2000, "ip_class2": 3,
        # no direct route: the scorecard decides
        "high_tech_title": "no", "award": "none", "rd_institution": "none", "standard_lead": "no",
    }  # fmt: skip
    result = el.evaluate(facts, "2026", lang=lang)
    view = ladder_view(result)[0]
    line = next(c for c in view.conditions if c.id == "ts_score")
    sc = el.load_policy("2026").scorecards["ts115s"]
    staff = next(g for g in sc.groups if g.id == "staff")
    cond = result["innovative"].condition("ts_score")
    assert cond.state == "not_met"
    assert cond.values["ts115s_points"] >= cond.values["ts115s_pass_mark"]
    said = text("ladder.floor_above", lang, group=staff.label(lang), points="0", floor="0")
    assert said in line.values
    # a floor met is not said
    met = el.evaluate({**facts, "rd_staff": 30}, "2026", lang=lang)
    line = next(c for c in ladder_view(met)[0].conditions if c.id == "ts_score")
    assert staff.label(lang) not in line.values


def test_a_group_below_its_floor_of_at_least_is_said_too():
    # the 2022 创新型 scorecard: 65 points, but 创新能力 has 15 of the 20 it needs at least
    from .test_eligibility import IN22

    firm = {**IN22, "ip_class1": 0, "ip_class2": 0, "ip_class1_own": "no"}
    result = el.evaluate(firm, "2022", lang="zh")
    cond = result["innovative"].condition("in22_score")
    assert cond.state == "not_met" and cond.values["in22s_points"] == 65
    line = next(c for c in ladder_view(result)[0].conditions if c.id == "in22_score")
    group = next(
        g for g in el.load_policy("2022").scorecards["in22s"].groups if g.id == "innovation"
    )
    said = text("ladder.floor_at_least", "zh", group=group.label("zh"), points="15", floor="20")
    assert said in line.values


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_condition_unknown_only_for_a_route_says_what_the_route_waits_on(lang):
    # 2022 小巨人: R&D and IP not met on their own, "缺少数据" beside values that all fail, for
    # the direct route whose 创客中国 result is blank: the line named no missing fact
    from .test_eligibility import SR22

    firm = {**SR22, "holds_specialised": "yes", "makers_china": None}
    result = el.evaluate(firm, "2022", lang=lang)
    rung = result["little_giant"]
    rd = rung.condition("lg22_rd")
    assert (rd.state, rd.own_state, rd.waits_on) == ("unknown", "not_met", ("makers_china",))
    route = next(r for r in rung.routes if r.id == "lg22_direct")
    line = next(c for c in ladder_view(result)[2].conditions if c.id == "lg22_rd")
    assert line.via == text(
        "ladder.waits_on_route", lang, routes=route.label, facts=FACTS["makers_china"].label(lang)
    )
    # the award it also reads is none: its year and rank are not waited on
    assert "award_year" not in rd.waits_on and "award_rank" not in rd.waits_on
    # a condition unknown for its own facts waits on them, not on the route
    own = rung.condition("lg22_is")
    assert own.state == "unknown" and own.own_state == "unknown" and own.waits_on == ()
    # a title held is no application: nothing is asked of it
    held = el.evaluate({**firm, "holds_little_giant": "yes"}, "2022", lang=lang)
    line = next(c for c in ladder_view(held)[2].conditions if c.id == "lg22_rd")
    assert line.via is None
    # with the route's fact given (no result), the condition is not met, and says nothing more
    given = el.evaluate({**firm, "makers_china": "none"}, "2022", lang=lang)["little_giant"]
    assert given.condition("lg22_rd").state == "not_met"
    assert given.condition("lg22_rd").waits_on == ()


def test_a_route_waiting_on_a_derived_value_names_the_facts_it_lacks():
    # the 专精特新 direct route compares the mean R&D of two years: with the year before blank
    # the line ended "缺少数据：" naming nothing (rd_mean_2y is no fact)
    from .test_eligibility import SR22

    firm = {
        **SR22, "featured_points": 0, "ip_class1": 0, "ip_class1_own": "no", "debt_ratio": 90,
        "digital_level": 1, "quality_items": 0, "product_field": "other", "niche_years": 2,
        "net_profit_y1": -10, "revenue_y2": 2000, "main_revenue_y2": 1700,
    }  # fmt: skip
    firm.pop("rd_y2")
    result = el.evaluate(firm, "2022", lang="zh")
    cond = result["specialised"].condition("sr22_score")
    assert (cond.state, cond.own_state, cond.waits_on) == ("unknown", "not_met", ("rd_y2",))
    line = next(c for c in ladder_view(result)[1].conditions if c.id == "sr22_score")
    assert line.via.endswith("缺少数据：" + FACTS["rd_y2"].label("zh"))


def test_a_group_short_of_its_floor_while_a_fact_is_missing_says_its_range():
    # 创新能力 has 10–15 points while the in-house IP fact is blank: the line said "15 分", the
    # gap on the same page "10 → 20"
    from .test_eligibility import IN22

    firm = {**IN22, "rd_y1": 10}
    firm.pop("ip_class1_own")
    result = el.evaluate(firm, "2022", lang="zh")
    line = next(c for c in ladder_view(result)[0].conditions if c.id == "in22_score")
    group = next(
        g for g in el.load_policy("2022").scorecards["in22s"].groups if g.id == "innovation"
    )
    points = text("ladder.points_range", "zh", low="10", high="15")
    said = text("ladder.floor_at_least", "zh", group=group.label("zh"), points=points, floor="20")
    assert said in line.values


def test_an_english_page_starts_from_the_english_names_and_they_count_as_the_chinese():
    # the English pre-check showed 江苏省 and C34 通用设备制造业 in its fields
    import dmi.eligibility as el
    from dmi.instruments import load_instrument

    miit = load_instrument("miit-2024-manufacturing")
    answers = {"region": "32", "sector": "C34", "employees": 3}
    english = service.profile_facts(miit, answers, "en")
    chinese = service.profile_facts(miit, answers, "zh")
    assert english["province"] == "Jiangsu" and chinese["province"] == "江苏省"
    assert english["sector"].startswith("C34 ") and english["sector"].isascii()
    # the same results, and one group of the cohort, whichever the firm kept
    firms = el.synthetic_firms(60, seed=3)
    results = {}
    for lang, facts in (("en", english), ("zh", chinese)):
        frame = firms.assign(province=facts["province"], sector=facts["sector"])
        batch = el.evaluate_batch(frame, "2022")
        results[lang] = batch.results
        groups = el.cohort(batch).table()
        assert set(groups.loc[groups["by"] == "province", "group"]) == {"江苏省"}
    pd.testing.assert_frame_equal(results["en"], results["zh"])


def test_an_r_and_d_above_revenue_is_said_with_the_revenue_within_the_sentence():
    said = service.rd_cautions({"rd_y2": 5000, "revenue_y2": 3500}, "en")["rd_y2"][0]
    assert " is above revenue, the year before 3500万元 " in said, said
    assert "上年" not in service.rd_cautions({"rd_y1": 50, "revenue_y1": 10}, "en")["rd_y1"][0]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_fact_the_form_skips_is_not_said_not_given_beside_a_condition(lang):
    # the form no longer asks an award's year and rank without an award, and the conditions'
    # lines still said "award year not given, award rank not given"
    year, rank = FACTS["award_year"].short_label(lang), FACTS["award_rank"].short_label(lang)

    def lines(facts: dict) -> list[str]:
        views = ladder_view(el.evaluate({"sme": "yes", **facts}, "2026", lang=lang))
        return [c.values for v in views for c in (*v.conditions, *v.routes)]

    award = FACTS["award"].short_label(lang)
    without = [line for line in lines({"award": "none"}) if award in line]
    assert without and not any(year in line or rank in line for line in without)
    with_award = lines({"award": "national"})
    assert any(year in line and rank in line for line in with_award)  # asked: not given

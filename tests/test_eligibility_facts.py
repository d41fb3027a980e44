"""The facts table and the checks on the facts: every bad value is one reject with its reason."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest

import dmi.eligibility as el
from dmi.eligibility.facts import REJECT_COLUMNS, FactsTally

from .conftest import ROOT
from .test_eligibility import SR26, firm

ISSUE_FACTS = (
    "respondent_id holds_innovative holds_specialised holds_little_giant revenue_y1 revenue_y2 "
    "revenue_y3 main_revenue_y1 main_revenue_y2 main_revenue_y3 rd_y1 rd_y2 net_profit_y1 "
    "equity_2y equity_3y debt_ratio market_share niche_years staff rd_staff ip_class1 ip_class2 "
    "domestic_rank award_rank quality_items ip_class1_own ip_class1_high_value high_tech_title "
    "strategic_emerging key_chain_link info_system certification own_brand sme credit_clean "
    "product_allowed no_incident award makers_china rd_institution product_field digital_level "
    "eval_score eval_score_prev province sector"
).split()


def test_the_table_holds_the_issue_facts_and_marks_what_dmi_added():
    codes = [f.code for f in el.FACTS]
    assert set(ISSUE_FACTS) <= set(codes)
    added = {f.code for f in el.FACTS if f.added}
    assert added == set(codes) - set(ISSUE_FACTS)
    assert added == {
        "assets_y1",
        "cost_y1",
        "innovation_title",
        "standard_lead",
        "no_incident_recent",
        "award_year",
        "digital_level_computed",
        "featured_points",
        "city",
    }
    for fact in el.FACTS:
        assert fact.zh and fact.en
        if fact.type == "number" and fact.code != "award_year":  # a calendar year: no unit
            assert fact.unit, fact.code
        if fact.type == "category":
            assert all(v.zh and v.en for v in fact.values)
    assert el.FACTS["revenue_y1"].unit == "万元"
    assert el.FACTS["award"].value_codes == ("none", "provincial", "national")
    table = el.FACTS.to_frame("en")
    assert list(table["code"]) == codes and table.loc[0, "label"] == "Respondent id"


def test_every_fact_a_rule_reads_is_in_the_table():
    from dmi.eligibility.engine import facts_read

    for name in el.available_policies():
        policy = el.load_policy(name)
        for metric in policy.metrics.values():
            for fact in facts_read(policy, metric.id):
                assert fact in el.FACTS, (name, metric.id, fact)


LEVEL_WORDS = (
    "expected a whole number from 0 to 4, or one of: 未达一级, 一级, 二级, 三级, 四级, 0级, 1级, "
    "2级, 3级, 4级, below level 1, level 0, level 1, level 2, level 3, level 4"
)


def batch(rows: list[dict]) -> el.EligibilityBatch:
    return el.evaluate_batch(pd.DataFrame(rows, dtype=object), "2026")


@pytest.mark.parametrize(
    ("changes", "column", "value", "reason"),
    [
        ({"debt_ratio": 180}, "debt_ratio", "180", "180 is above the maximum 100 %"),
        ({"debt_ratio": "180%"}, "debt_ratio", "180%", "180 is above the maximum 100 %"),
        (
            {"revenue_y1": 1000, "main_revenue_y1": 1200},
            "main_revenue_y1",
            "1200",
            "main_revenue_y1 (1200 万元) is above revenue_y1 (1000 万元): "
            "main-business revenue is part of revenue",
        ),
        ({"ip_class1": -1}, "ip_class1", "-1", "-1 is below the minimum 0"),
        ({"staff": 12.5}, "staff", "12.5", "expected a whole number"),
        ({"revenue_y1": "abc"}, "revenue_y1", "abc", "expected a number (万元)"),
        ({"revenue_y1": "12%"}, "revenue_y1", "12%", "expected a number (万元)"),
        ({"award": "maybe"}, "award", "maybe", "expected one of: none, provincial, national"),
        ({"own_brand": "perhaps"}, "own_brand", "perhaps", "expected yes or no"),
        (
            {"holds_innovative": "sometimes"},
            "holds_innovative",
            "sometimes",
            "expected one of: no, yes, recheck",
        ),
        ({"digital_level": 5}, "digital_level", "5", "5 is above the maximum 4"),
        # a level in words none of the facts table's: the reason names the range and the words
        ({"digital_level": "三级及以上"}, "digital_level", "三级及以上", LEVEL_WORDS),
        ({"digital_level": "Level 3+"}, "digital_level", "Level 3+", LEVEL_WORDS),
        ({"eval_score": 101}, "eval_score", "101", "101 is above the maximum 100"),
        (
            {"staff": 10, "rd_staff": 11},
            "rd_staff",
            "11",
            "rd_staff (11) is above staff (10): R&D staff are part of the staff",
        ),
        (
            # 115号's R&D share of costs: R&D expense is part of the costs (it scored 200 %)
            {"rd_y1": 200, "cost_y1": 100},
            "rd_y1",
            "200",
            "rd_y1 (200 万元) is above cost_y1 (100 万元): R&D expense is part of total costs",
        ),
        (
            {"ip_class1": 0, "ip_class1_own": "yes"},
            "ip_class1_own",
            "yes",
            "ip_class1_own is yes but ip_class1 is 0",
        ),
        # the cell as the firm wrote it, not as it was read (是, not yes; 1,200, not 1200)
        (
            {"ip_class1": 0, "ip_class1_own": "是"},
            "ip_class1_own",
            "是",
            "ip_class1_own is yes but ip_class1 is 0",
        ),
        (
            {"staff": "1,000", "rd_staff": " 1,200 "},
            "rd_staff",
            "1,200",
            "rd_staff (1200) is above staff (1000): R&D staff are part of the staff",
        ),
        ({"respondent_id": "  "}, "respondent_id", "", "respondent_id is blank"),
        # a start year where the years are asked says it looks like one; a count of years
        # above the maximum that is no year does not
        (
            {"niche_years": "2019"},
            "niche_years",
            "2019",
            "2019 is above the maximum 200 (a year? expected the number of years)",
        ),
        ({"niche_years": 250}, "niche_years", "250", "250 is above the maximum 200"),
    ],
)
def test_a_bad_value_is_rejected_with_its_reason(changes, column, value, reason):
    rows = [firm(SR26, respondent_id="OK1"), firm(SR26, **changes), firm(SR26, respondent_id="OK3")]
    result = batch(rows)
    assert (result.n_read, result.n_evaluated, result.n_rejected) == (3, 2, 1)
    assert list(result.rejects.columns) == REJECT_COLUMNS
    assert len(result.rejects) == 1
    reject = result.rejects.iloc[0]
    assert (reject["row"], reject["column"], reject["value"]) == (3, column, value)
    assert reason in reject["reason"]
    assert "year?" not in reject["reason"] or "year?" in reason
    assert list(result.results["respondent_id"]) == ["OK1", "OK3"]
    assert list(result.rows) == [2, 4]


def test_every_problem_of_a_row_is_listed_and_counts_reconcile():
    rows = [
        firm(SR26, respondent_id="A", debt_ratio=180, award="maybe", ip_class1=-2),
        firm(SR26, respondent_id="B"),
        firm(SR26, respondent_id="A"),
        firm(SR26, respondent_id="C", staff="many"),
    ]
    result = batch(rows)
    assert result.n_read == result.n_evaluated + result.n_rejected == 4
    assert list(result.results["respondent_id"]) == ["B"]
    got = {(r.row, r.column) for r in result.rejects.itertuples()}
    assert got == {
        (2, "award"),
        (2, "debt_ratio"),
        (2, "ip_class1"),
        (2, "respondent_id"),
        (4, "respondent_id"),
        (5, "staff"),
    }
    dup = result.rejects[result.rejects["column"] == "respondent_id"]
    assert set(dup["reason"]) == {"duplicate respondent_id (rows 2, 4)"}
    # the same as one error from evaluate()
    with pytest.raises(el.FactsError) as info:
        el.evaluate(pd.DataFrame(rows, dtype=object), "2026")
    assert "3 of 4 rows have invalid facts (6 problems)" in str(info.value)
    pd.testing.assert_frame_equal(info.value.rejects, result.rejects)


def test_row_numbers_follow_the_file_and_ids_checked_elsewhere_may_repeat():
    rows = [firm(SR26, respondent_id="A"), firm(SR26, respondent_id="A", debt_ratio=-1)]
    result = el.evaluate_batch(
        pd.DataFrame(rows, dtype=object), "2026", rows=np.array([10, 20]), unique_ids=True
    )
    assert list(result.rejects["row"]) == [20]
    assert list(result.rows) == [10]


@pytest.mark.parametrize("dtype", [object, "str"])
@pytest.mark.parametrize("others", [["B2", "C3"], ["Ｂ２", "C3"]])  # all ASCII, or not
def test_ids_are_trimmed_and_blanks_rejected_whatever_the_column_holds(dtype, others):
    # a file's text column comes as pandas' str (Arrow), a frame of the API as objects; the
    # ids the results carry and the rejects are the same whichever way they came
    ids = ["  A1 ", *others, "   ", None]
    rows = [firm(SR26, respondent_id=i) for i in ids]
    frame = pd.DataFrame(rows, dtype=object).astype({"respondent_id": dtype})
    result = el.evaluate_batch(frame, "2026")
    assert list(result.results["respondent_id"]) == ["A1", "B2", "C3"]
    assert list(result.rejects["row"]) == [5, 6]
    assert set(result.rejects["reason"]) == {"respondent_id is blank"}


def test_people_write_numbers_and_words_in_many_ways():
    rows = [
        firm(
            SR26,
            respondent_id="Ａ１",
            revenue_y1="2,000",
            debt_ratio="60%",
            niche_years="３",
            sme="是",
            holds_innovative="是",
            own_brand=True,
            award="国家级",
            award_rank=1,
            digital_level="三级",
            rd_institution="省级",
        ),
    ]
    result = batch(rows)
    assert result.n_rejected == 0, result.rejects
    row = result.results.iloc[0]
    assert row["respondent_id"] == "A1"
    assert row["sr26_debt"] == "met" and row["sr26_niche"] == "met"
    assert row["sr26_prereq"] == "met"


@pytest.mark.parametrize(
    "fact, cell, code",
    [
        # a spreadsheet's 1 / 0 column, and once pandas wrote it with a blank in it: 1.0 / 0.0
        ("sme", "1.0", 1.0),
        ("sme", "0.0", 0.0),
        ("sme", "✔", 1.0),
        ("sme", "✘", 0.0),
        ("holds_specialised", "1", "yes"),
        ("holds_specialised", "1.0", "yes"),
        ("holds_specialised", "0", "no"),
        ("holds_specialised", "0.0", "no"),
        ("holds_specialised", "Y", "yes"),
        ("digital_level", "2级", 2.0),
        ("digital_level", "３级", 3.0),  # full-width
        ("digital_level", "0级", 0.0),
        # a sheet ticked with √ / × throughout, titles too; a 0.00 number format's 1.00 / 0.00
        ("holds_specialised", "√", "yes"),
        ("holds_specialised", "×", "no"),
        ("holds_specialised", "1.00", "yes"),
        ("holds_specialised", "0.00", "no"),
        ("sme", "1.00", 1.0),
        ("sme", "0.000", 0.0),
        # "none" answered as no: 没有 / 否 / 0 were refused where 无 was read
        ("award", "没有", "none"),
        ("makers_china", "否", "none"),
        ("rd_institution", "0", "none"),
    ],
)
def test_the_ways_spreadsheets_write_yes_no_and_levels_are_read(fact, cell, code):
    result = batch([firm(SR26, **{fact: cell})])
    assert result.n_rejected == 0, result.rejects
    if fact.startswith("holds_"):
        assert result.beside.iloc[0][fact] == code
    else:
        # the 2022 rules read the level (the 专精特新 数字化水平 indicator) and sme
        assert el.evaluate({**firm(SR26), fact: cell}, "2022") == el.evaluate(
            {**firm(SR26), fact: code if fact != "sme" else ("yes" if code else "no")}, "2022"
        )


@pytest.mark.parametrize(
    "fact, cell", [("sme", "2"), ("holds_specialised", "2"), ("digital_level", "5级")]
)
def test_other_numbers_for_yes_no_and_levels_are_refused(fact, cell):
    assert batch([firm(SR26, **{fact: cell})]).n_rejected == 1


@pytest.mark.parametrize(
    "cell, value",
    [
        ("1 000", 1000.0),
        ("12 345.6", 12345.6),
        ("1\u00a0234\u00a0567", 1234567.0),  # no-break spaces between groups
        ("2,000", 2000.0),
        ("35 %", 35.0),
        (" 12 ", 12.0),
        ("1 0", None),  # not groups of three: two numbers, or a typo; never 10
        ("1 2 3", None),
        ("10 00", None),
        ("1 ,000", None),
    ],
)
def test_a_space_in_a_number_is_only_a_thousands_separator(cell, value):
    from dmi.eligibility.facts import _number

    text = unicodedata.normalize("NFKC", cell).strip()
    assert _number(text, percent=True) == value
    result = el.evaluate_batch(pd.DataFrame({"respondent_id": ["A"], "debt_ratio": [cell]}), "2026")
    if value is None:
        assert result.n_rejected == 1 and "expected a number" in result.rejects["reason"].iloc[0]
    elif value <= 100:
        assert result.n_rejected == 0


@pytest.mark.parametrize(
    "fact, typed, meant",
    [
        ("product_field", "属于工业“六基”、中华老字号或产业链龙头企业配套", "six_bases"),
        ("revenue_y1", "2000\u200b", 2000),  # a zero-width space pasted from a web page
        ("debt_ratio", "\ufeff45", 45),
        ("sme", "是\u2060", "yes"),
        ("holds_innovative", "yes\u200d", "yes"),
    ],
)
def test_curly_quotes_and_invisible_characters_are_read_as_the_text_they_look_like(
    fact, typed, meant
):
    # the label with “” (as Chinese input methods and official texts write it) was refused
    # where the same label with "" was read; a cell with a zero-width character was refused
    # showing a value that looks exactly like a valid one
    result = batch([firm(SR26, **{fact: typed})])
    assert result.n_rejected == 0, result.rejects
    assert el.evaluate(firm(SR26, **{fact: typed}), "2026") == el.evaluate(
        firm(SR26, **{fact: meant}), "2026"
    )


def test_ids_that_differ_by_an_invisible_character_are_one_id_repeated():
    rows = [firm(SR26, respondent_id="B1"), firm(SR26, respondent_id="B1\u200b")]
    result = batch(rows)
    assert result.n_rejected == 2
    assert set(result.rejects["reason"]) == {"duplicate respondent_id (rows 2, 3)"}


@pytest.mark.parametrize("one_firm", [True, False])
def test_a_cell_holding_several_values_is_a_problem_of_its_row_listed_with_the_others(one_firm):
    # a frame's list or dict cell was a bare TypeError (unhashable type), a dict's a
    # ParameterError at the first: code catching FactsError, as the docs say, missed both
    facts = {
        "respondent_id": "A1",
        "revenue_y1": [1, 2],
        "sme": {"a": 1},
        "province": {"广东"},
        "debt_ratio": 180,
    }
    with pytest.raises(el.FactsError) as refused:
        el.evaluate(facts if one_firm else pd.DataFrame([facts], dtype=object), "2026")
    rejects = refused.value.rejects
    assert rejects[["column", "reason"]].values.tolist() == [
        ["debt_ratio", "180 is above the maximum 100 %"],
        ["province", "expected one value (a number or text), got a set"],
        ["revenue_y1", "expected one value (a number or text), got a list"],
        ["sme", "expected one value (a number or text), got a dict"],
    ]
    assert rejects["value"].tolist()[1:] == ["{'广东'}", "[1, 2]", "{'a': 1}"]
    if not one_firm:
        # an id that is no single value: said once, not also as a blank id
        frame = pd.DataFrame({"respondent_id": [["A1"], "A2"], "debt_ratio": [50, 60]})
        result = el.evaluate_batch(frame, "2026")
        assert result.rejects[["row", "reason"]].values.tolist() == [
            [2, "expected one value (a number or text), got a list"]
        ]
        assert result.results["respondent_id"].tolist() == ["A2"]


@pytest.mark.parametrize("one_firm", [True, False])
def test_a_complex_number_is_no_amount(one_firm):
    # 81+5j was read as 81 (numpy dropped the imaginary part with only a warning)
    facts = {"respondent_id": "A1", "debt_ratio": 81 + 5j}
    with pytest.raises(el.FactsError) as refused:
        el.evaluate(facts if one_firm else pd.DataFrame([facts]), "2026")
    assert refused.value.rejects[["column", "value", "reason"]].values.tolist() == [
        ["debt_ratio", "(81+5j)", "expected a number (%)"]
    ]


@pytest.mark.parametrize(
    "fact, cell, reason",
    [
        ("staff", "120人", "expected a whole number alone, without the unit after it (人)"),
        ("staff", "12 人", "expected a whole number alone, without the unit after it (人)"),
        ("revenue_y1", "1500万元", "expected a number alone, without the unit after it (万元)"),
        ("revenue_y1", "2,000万", "expected a number alone, without the unit after it (万)"),
        # another unit of the kind: the number alone would be read in the column's unit
        (
            "revenue_y1",
            "1500元",
            "expected a number alone, without the unit after it (元); the column is in 万元: a "
            "column in 元 names it in its header",
        ),
        (
            "debt_ratio",
            "500‰",
            "expected a number alone, without the unit after it (‰); the column is in %: a "
            "column in ‰ names it in its header",
        ),
        # a unit of another kind
        (
            "staff",
            "3项",
            "expected a whole number alone, without the unit after it (项); the column is in 人",
        ),
        ("staff", "x", "expected a whole number"),  # no number with a unit: as before
    ],
)
def test_a_number_written_with_its_unit_is_refused_saying_so(fact, cell, reason):
    # "120人" was refused as "expected a whole number", which 120 is
    from dmi.service.ladderbulk import fact_reason

    result = batch([firm(SR26, **{fact: cell})])
    assert result.rejects[["column", "value", "reason"]].values.tolist() == [[fact, cell, reason]]
    assert fact_reason(reason, "en", fact) == reason
    worded = fact_reason(reason, "zh", fact)
    assert worded != reason and not re.search("[a-z]", worded), worded  # all in Chinese


@pytest.mark.parametrize(
    "cells, noted",
    [
        (["0.45%", "0.9 %", "0.3％"], None),  # percent, as written: no fraction to multiply
        (["0.45", "0.9", "0.3"], "all 3 values given are at most 1"),
        (["0.45%", "0.9", "85"], "1 of the 3 values given is at most 1"),  # the bare 0.9 only
        ([0.45, 0.9, 0.3], "all 3 values given are at most 1"),
    ],
)
def test_a_debt_ratio_written_with_its_percent_sign_is_no_fraction(cells, noted, tmp_path, capsys):
    # "0.45%" was counted as a likely fraction: the note said to multiply the column by 100,
    # which would have made 0.45% a 45% debt ratio
    frame = pd.DataFrame({"respondent_id": ["A", "B", "C"], "debt_ratio": cells})
    notes = [n for n in batch(frame.to_dict("records")).facts_tally.notes() if "debt_ratio" in n]
    if noted is None:
        assert notes == []
    else:
        (note,) = notes
        assert note.startswith(f"debt_ratio: {noted}"), note
    from dmi.cli.main import main

    src = tmp_path / "f.csv"
    frame.to_csv(src, index=False)
    assert main(["eligibility", str(src), "-o", str(tmp_path / "o.csv"), "-q"]) == 0
    err = capsys.readouterr().err
    assert ("debt_ratio:" in err) == (noted is not None), err


def test_a_dict_with_an_unknown_fact_is_an_error_that_says_which():
    with pytest.raises(el.FactsError, match="unknown fact 'revenu_y1'; did you mean 'revenue_y1'"):
        el.evaluate({"revenu_y1": 1000}, "2026")
    with pytest.raises(el.FactsError, match="180 is above the maximum 100"):
        el.evaluate(firm(SR26, debt_ratio=180), "2026")


def test_a_frame_s_other_columns_are_listed_not_read():
    frame = pd.DataFrame([firm(SR26, respondent_id="A")], dtype=object)
    frame["strategy"] = "B"  # a survey answer on the same row
    result = el.evaluate_batch(frame, "2026")
    assert result.unmatched_columns == ["strategy"] and result.n_rejected == 0


def test_a_missing_column_is_unknown_not_a_reject():
    frame = pd.DataFrame({"respondent_id": ["A", "B"], "revenue_y1": [1000.0, np.nan]})
    result = el.evaluate_batch(frame, "2026")
    assert result.n_rejected == 0
    assert set(result.results["sr26_debt"]) == {"unknown"}
    assert list(result.results["sr26_rev"]) == ["unknown", "unknown"]


def test_numbers_typed_columns_and_nullable_dtypes():
    frame = pd.DataFrame(
        {
            "respondent_id": pd.array(["A", "B", "C"], dtype="str"),
            "ip_class1": pd.array([1, None, 3], dtype="Int64"),
            "debt_ratio": [60.0, 180.0, np.nan],
            "own_brand": pd.array([True, False, None], dtype="boolean"),
            "award": pd.Categorical(["none", "national", None]),
        }
    )
    result = el.evaluate_batch(frame, "2026")
    assert list(result.rejects["row"]) == [3] and list(result.rejects["column"]) == ["debt_ratio"]
    assert list(result.results["respondent_id"]) == ["A", "C"]


def test_one_firm_s_invalid_facts_are_named_by_fact_not_by_a_row_number():
    # a dict has no rows: the message names the facts, counts the problems in words that fit
    with pytest.raises(el.FactsError) as info:
        el.evaluate(firm(SR26, debt_ratio=180), "2026")
    message = str(info.value)
    assert message.splitlines()[0] == "the firm's facts are invalid (1 problem):"
    assert message.splitlines()[1].startswith("  debt_ratio: '180' - 180 is above the maximum")
    assert "row" not in message
    with pytest.raises(el.FactsError) as info:
        el.evaluate(firm(SR26, debt_ratio=180, staff=-1), "2026")
    assert str(info.value).startswith("the firm's facts are invalid (2 problems):")


# -- what the facts say as a whole ----------------------------------------------------------------


def tally_of(rows: list[dict], first_row: int = 2) -> FactsTally:
    return el.evaluate_batch(pd.DataFrame(rows), first_row=first_row).facts_tally


@pytest.mark.parametrize(
    ("values", "noted"),
    [
        (["0.45", "0.62", "", "1"], True),  # fractions, 1 (100 %) among them
        (["0.45"], True),
        (["0.45", "1.5"], "some"),  # beside a value above 1: that one counted
        (["0", "0", ""], False),  # nothing above 0: no sign of fractions
        (["", ""], False),
        (["45", "62"], False),
    ],
)
def test_a_percentage_column_of_values_at_most_1_is_noted(values, noted):
    # 0.45 read as 0.45 % passed every debt-ratio ceiling, with no word said
    rows = [
        {"respondent_id": f"F{i}", "revenue_y1": "100", "debt_ratio": v}
        for i, v in enumerate(values)
    ]
    tally = tally_of(rows)
    given = sum(v != "" for v in values)
    assert tally.percent_given["debt_ratio"] == given
    notes = [n for n in tally.notes() if n.startswith("debt_ratio:")]
    assert bool(notes) is bool(noted)
    if noted is True:
        assert "multiply it by 100" in notes[0]
        assert ("the value given is" if given == 1 else f"all {given} values given are") in notes[0]
    elif noted == "some":
        assert f"1 of the {given} values given is at most 1 (above 0)" in notes[0]
        assert "multiply them by 100" in notes[0]
    assert not [n for n in tally.notes() if n.startswith("market_share:")]  # not in the file


def test_a_percentage_column_is_judged_on_every_row_read_rejected_ones_too():
    # the unit is the column's: nine rows of 40-48 % rejected for another fact (sme) and one
    # of 0.5 said the column held fractions, and multiplying it by 100 would have broken them
    rows = [{"respondent_id": f"R{i}", "debt_ratio": str(40 + i), "sme": "maybe"} for i in range(9)]
    rows.append({"respondent_id": "R9", "debt_ratio": "0.5", "sme": "yes"})
    batch = el.evaluate_batch(pd.DataFrame(rows))
    assert batch.n_rejected == 9
    tally = batch.facts_tally
    assert (tally.percent_given["debt_ratio"], tally.percent_above_one["debt_ratio"]) == (10, 9)
    # not the column's note (multiply it by 100): the one value's, counted
    [note] = [n for n in tally.notes() if n.startswith("debt_ratio:")]
    assert note.startswith("debt_ratio: 1 of the 10 values given is at most 1")
    # a cell refused is no value of the column: 180 % is rejected, not a sign of percent
    rows = [
        {"respondent_id": "A", "debt_ratio": "0.45"},
        {"respondent_id": "B", "debt_ratio": "180"},
    ]
    tally = el.evaluate_batch(pd.DataFrame(rows)).facts_tally
    assert tally.percent_given["debt_ratio"] == 1
    assert [n for n in tally.notes() if n.startswith("debt_ratio:")]


def test_small_market_shares_are_not_taken_for_fractions():
    # many an SME's market share is below 1 %: only a debt ratio is doubtful at <= 1
    rows = [{"respondent_id": f"F{i}", "market_share": v} for i, v in enumerate(["0.8", "0.3"])]
    tally = tally_of(rows)
    assert tally.percent_given == {"debt_ratio": 0} and tally.notes() == []
    assert [f.code for f in el.FACTS if f.fractions_doubtful] == ["debt_ratio"]


def test_rows_with_an_id_and_no_fact_are_counted_and_named():
    blank = {"revenue_y1": "", "province": "", "debt_ratio": ""}
    rows = [{"respondent_id": "F1", "revenue_y1": "100", "province": "", "debt_ratio": ""}]
    rows += [{"respondent_id": f"注{i}", **blank} for i in range(7)]
    rows += [{"respondent_id": "F2", "revenue_y1": "", "province": "广东", "debt_ratio": ""}]
    tally = tally_of(rows, first_row=10)
    assert tally.id_only == 7
    assert tally.id_only_rows == [11, 12, 13, 14, 15]  # the first five, by row number
    (note,) = tally.notes()
    assert note.startswith("7 rows with an id and no fact (rows 11, 12, 13, 14, 15 ...)")
    one = tally_of(rows[:2])
    assert one.id_only == 1 and one.notes() == [
        "1 row with an id and no fact (row 3): evaluated with every fact unknown (a note or a "
        "footnote in the id column?)"
    ]
    # added up chunk by chunk: the same as at once
    whole = tally_of(rows, first_row=2)
    parts = tally_of(rows[:4], first_row=2).add(tally_of(rows[4:], first_row=6))
    assert parts == whole


def test_a_row_whose_survey_answers_give_its_level_is_not_id_only():
    from dmi.eligibility.survey import survey_items

    answers = pd.read_csv(ROOT / "data" / "example-bulk.csv", dtype=str).head(2)
    items = [c for c in answers.columns if c in survey_items(answers.columns)]
    frame = answers[["respondent_id", *items]]
    assert tally_of(frame.to_dict("records")).id_only == 0
    assert tally_of(frame[["respondent_id"]].assign(revenue_y1="").to_dict("records")).id_only == 2


def test_a_column_in_another_unit_of_its_kind_is_converted_exactly():
    from dmi.errors import ParameterError

    frame = pd.DataFrame(
        {
            "revenue_y1": ["12000000", "12345678.9", "1"],  # 元
            "revenue_y2": ["0.36", "1.2", "0.00001"],  # 亿元
            "debt_ratio": ["805", "1000", "0"],  # ‰
            "staff": ["50", "7", "1"],  # 名: another name of 人
        }
    )
    units = {"revenue_y1": "元", "revenue_y2": "亿元", "debt_ratio": "‰", "staff": "名"}
    parsed = el.parse_facts(frame, units=units)
    values = parsed.table.values
    assert parsed.valid.all()
    # as if written in 万元 and %: the decimal moved, no float error
    assert values["revenue_y1"].tolist() == [1200.0, 1234.56789, 0.0001]
    assert values["revenue_y2"].tolist() == [3600.0, 12000.0, 0.1]
    assert values["debt_ratio"].tolist() == [80.5, 100.0, 0.0]
    assert values["staff"].tolist() == [50.0, 7.0, 1.0]
    # the range is checked in the unit written: 1001 ‰ is above 100 %
    bad = el.parse_facts(pd.DataFrame({"debt_ratio": ["1001"]}), units={"debt_ratio": "‰"})
    assert bad.rejects["reason"].tolist() == ["1001 is above the maximum 1000 ‰"]
    with pytest.raises(
        ParameterError, match=r"rd_y1: a column in 人 cannot be read; expected 万元"
    ):
        el.parse_facts(frame.rename(columns={"staff": "rd_y1"}), units={"rd_y1": "人"})


@pytest.mark.parametrize("fact", ["no_incident", "no_incident_recent", "credit_clean"])
@pytest.mark.parametrize("cell", ["无", "没有", "有"])
def test_have_or_have_not_is_refused_for_a_fact_said_in_the_negative(fact, cell):
    # 近三年未发生重大…事故 answered 无 (no incident) was read as no: the firm failed the
    # condition it meets. 有/无 answer "was there one?", not "is this so?": refused, with how
    # to write it; 是/否 are read
    result = batch([firm(SR26, **{fact: cell})])
    assert result.rejects["column"].tolist() == [fact]
    reason = result.rejects["reason"].iloc[0]
    assert reason.startswith(f"{cell} is unclear for a fact said in the negative"), reason
    assert "yes (是)" in reason and "no (否)" in reason
    assert batch([firm(SR26, **{fact: "是"})]).n_rejected == 0
    from dmi.service.ladderbulk import fact_reason

    assert fact_reason(reason, "zh", fact).startswith(f"「{cell}」含义不明：该项为否定表述（")
    assert fact_reason(reason, "en", fact).endswith(f"({el.FACTS[fact].en}): expected yes or no")
    # a fact said plainly keeps 有/无
    assert batch([firm(SR26, **{"sme": "有", "holds_specialised": "无"})]).n_rejected == 0


def test_a_level_in_words_none_of_the_tables_is_worded_on_the_bulk_page_too():
    from dmi.service.ladderbulk import fact_reason

    reason = batch([firm(SR26, digital_level="三级及以上")]).rejects["reason"].iloc[0]
    assert reason == LEVEL_WORDS
    assert fact_reason(reason, "zh", "digital_level") == (
        "应为 0 至 4 的整数，或以下之一：未达一级, 一级, 二级, 三级, 四级, 0级, 1级, 2级, 3级, "
        "4级, below level 1, level 0, level 1, level 2, level 3, level 4"
    )
    assert fact_reason(reason, "en", "digital_level") == LEVEL_WORDS


def test_the_english_words_of_facts_and_rules_hold_no_chinese_but_names_and_units():
    # "特色化 points", "科技型's window", "recheck (due ...)" reached the English page
    import re

    from dmi.eligibility import load_policy

    allowed = {"万元", "万", "亿", "号", "专精特新", "小巨人", "高企", "创客中国", "一级", "二级"}
    allowed |= {"三级", "四级"}  # the MIIT levels, as the survey names them
    texts: list[tuple[str, str]] = []
    for fact in el.FACTS:
        texts += [(fact.code, fact.en), (fact.code, fact.short_label("en"))]
        texts += [(fact.code, fact.help.en)] if fact.help else []
        texts += [(f"{fact.code}={v.value}", v.en) for v in fact.values]
    for version in ("2022", "2026"):
        policy = load_policy(version)
        rules = [*policy.conditions.values(), *policy.routes.values(), *policy.metrics.values()]
        rules += list(policy.scorecards.values())
        rules += [i for sc in policy.scorecards.values() for i in sc.indicators]
        rules += [g for sc in policy.scorecards.values() for g in sc.groups]
        rules += [o for r in policy.routes.values() for o in r.options]
        texts += [(f"{version}:{r.id}", r.en) for r in rules]
    for where, words in texts:
        for found in re.findall(r"[\u3400-\u9fff]+", words or ""):
            assert found in allowed, (where, found, words)


@pytest.mark.parametrize("minus", ["\u2212", "\uff0d", "\ufe63", "-"])
def test_a_negative_number_is_read_whatever_minus_sign_it_is_written_with(minus):
    # U+2212 (typeset text's minus) was refused as "expected a number"; NFKC folds the others
    import dmi.eligibility as el

    frame = pd.DataFrame(
        {"respondent_id": ["A", "B"], "net_profit_y1": [f"{minus}5", f"{minus}1,250.5"]}
    )
    parsed = el.parse_facts(frame)
    assert parsed.table.values["net_profit_y1"].tolist() == [-5.0, -1250.5]
    assert parsed.rejects.empty


@pytest.mark.parametrize(
    ("key", "code", "unit"),
    [("上年末资产负债率", "debt_ratio", ""), ("上年营业收入（元）", "revenue_y1", "元")],
)
def test_a_firm_s_key_a_file_header_could_be_names_the_fact_s_code(key, code, unit):
    # a frame's column of that name is matched; a dict's key was "unknown", with no hint
    import dmi.eligibility as el

    with pytest.raises(el.FactsError, match=rf"unknown fact '{key}'; did you mean '{code}'\?") as e:
        el.evaluate({"respondent_id": "A", key: "55"}, "2026")
    # a key in another unit: the value is to be given in the fact's own
    assert (f"where the key says {unit}: give the value in 万元" in str(e.value)) is bool(unit)


@pytest.mark.parametrize(
    ("values", "said"),
    [
        (["40000000", "25000000"], "all 2 values given are"),  # a column in yuan
        (["50000000"], "the value given is"),
        (["4000", "1000000", "", "-2000000"], None),  # revenue's floor is 0: -2e6 refused
        (["4000", "999999.99"], False),
    ],
)
def test_an_amount_column_far_beyond_an_sme_is_noted(values, said):
    # revenue in yuan (40000000 for 4000万元) passed every revenue floor with no word said
    rows = [{"respondent_id": f"F{i}", "revenue_y1": v} for i, v in enumerate(values)]
    tally = tally_of(rows)
    notes = [n for n in tally.notes() if n.startswith("revenue_y1:")]
    if said is False:
        assert notes == []
        return
    (note,) = notes
    if said is None:  # one of the three given (the negative one is refused, not counted)
        given = sum(v not in ("", "-2000000") for v in values)
        assert f"1 of the {given} values given is 1000000万元 (100亿元) or more" in note
    else:
        assert f"revenue_y1: {said} 1000000万元 (100亿元) or more" in note
    assert "营业收入（元）" in note
    assert tally.amount_given["revenue_y1"] == sum(v not in ("", "-2000000") for v in values)


def test_a_loss_far_beyond_an_sme_is_noted_too():
    tally = tally_of([{"respondent_id": "F1", "net_profit_y1": "-3000000"}])
    assert tally.amount_huge["net_profit_y1"] == 1
    assert [n for n in tally.notes() if n.startswith("net_profit_y1: the value given is")]


def test_values_at_most_1_beside_percents_of_a_merged_sheet_are_noted():
    # 0.45 and 0.9 beside 85%: read as 0.45 % and 0.9 %, every debt ceiling passed, no word
    rows = [
        {"respondent_id": r, "debt_ratio": v, "revenue_y1": "2000"}
        for r, v in (("A", "0.45"), ("B", "0.9"), ("C", "85%"))
    ]
    [note] = [n for n in tally_of(rows).notes() if n.startswith("debt_ratio:")]
    assert note.startswith("debt_ratio: 2 of the 3 values given are at most 1 (above 0)")
    from dmi.service.bulkview import note_text

    assert note_text(note, "zh").startswith(
        "资产负债率 (debt_ratio)：所填的 3 个值中有 2 个不超过 1"
    )


# -- numbers read to the 15 significant digits a spreadsheet keeps ---------------------------------

FORMULA_RESULTS = [  # (what a formula gives, what it means)
    (550 / 1000 * 100, 55.0),  # 55.00000000000001
    (0.29 * 100, 29.0),  # 28.999999999999996
    (1.1 * 3, 3.3),  # 3.3000000000000003
    (0.1 * 3 * 10000 / 3, 1000.0),  # 1000.0000000000001
    (float(np.nextafter(5000.0, 0)), 5000.0),
    (-(0.1 + 0.2) * 1000, -300.0),  # -300.00000000000006
]


@pytest.mark.parametrize(
    "written",
    [
        "number",  # a numeric column (an XLSX's or a Parquet file's, a frame's)
        "text",  # a CSV's text, Arrow's cast
        "grouped",  # 1,000.0000000000001: read cell by cell
    ],
)
def test_a_formula_s_float_error_is_read_as_the_number_it_means(written):
    noisy = [v for v, _ in FORMULA_RESULTS]
    cells = {
        "number": noisy,
        "text": [repr(v) for v in noisy],
        "grouped": [f"{v:,.17g}" for v in noisy],
    }[written]
    parsed = el.parse_facts(pd.DataFrame({"net_profit_y1": cells}))
    assert parsed.rejects.empty
    assert parsed.table.values["net_profit_y1"].tolist() == [m for _, m in FORMULA_RESULTS]


@pytest.mark.parametrize(
    "cell", [float(np.nextafter(100.0, 200.0)), "100.00000000000001", "100.00000000000001%"]
)
def test_a_percentage_a_hair_above_100_from_a_formula_is_100_not_refused(cell):
    parsed = el.parse_facts(pd.DataFrame({"debt_ratio": [cell], "staff": [0.3 * 10]}))
    assert parsed.rejects.empty, parsed.rejects
    assert parsed.table.values["debt_ratio"].tolist() == [100.0]
    assert parsed.table.values["staff"].tolist() == [3.0]  # whole: 3.0000000000000004 was not


@pytest.mark.parametrize("seed", [5, 6])
def test_a_number_is_read_as_python_writes_it_to_15_significant_digits(seed):
    # the oracle: Python's own decimal rounding; typed numbers (cents) are kept exactly, and
    # the same numbers a few ulps off (a formula's error) are read as them
    rng = np.random.default_rng(seed)
    typed = rng.integers(-(10**12), 10**12, 2000) / 10.0 ** rng.integers(0, 8, 2000)
    off = np.array([np.nextafter(v, np.inf if i % 2 else -np.inf) for i, v in enumerate(typed)])
    tiny_and_huge = np.array([1.23456789012345678e-9, 9.87654321098765432e16, 0.1 + 0.2])
    for values in (typed, off, tiny_and_huge):
        for cells in (values, [repr(float(v)) for v in values]):
            read = el.parse_facts(pd.DataFrame({"net_profit_y1": cells})).table.values
            want = [float(f"{v:.15g}") for v in values]
            assert read["net_profit_y1"].tolist() == want
    assert (
        el.parse_facts(pd.DataFrame({"net_profit_y1": typed}))
        .table.values["net_profit_y1"]
        .tolist()
        == typed.tolist()
    )


def test_a_column_of_python_numbers_is_read_as_a_numeric_column_is():
    # a Parquet file's or a workbook's numbers reach the facts as Python objects: read whole,
    # with the values and the problems of the same numbers in a numeric column
    cells = [1200.5, 7, None, float("nan"), -3, float("inf"), 550 / 1000 * 100]
    as_objects = pd.Series(cells, dtype=object)
    as_floats = pd.Series(cells, dtype=float)
    got = [
        el.parse_facts(pd.DataFrame({"staff": c, "net_profit_y1": c}))
        for c in (as_objects, as_floats)
    ]
    for column in ("staff", "net_profit_y1"):
        np.testing.assert_array_equal(got[0].table.values[column], got[1].table.values[column])
    pd.testing.assert_frame_equal(got[0].rejects, got[1].rejects)
    assert got[0].table.values["net_profit_y1"].tolist()[-1] == 55.0
    # a cell that is no number (text, a bool) leaves the column to the cell-by-cell reading
    mixed = el.parse_facts(pd.DataFrame({"staff": pd.Series([12, "1,200", True], dtype=object)}))
    assert mixed.table.values["staff"].tolist()[:2] == [12.0, 1200.0]


def test_the_whole_column_rounding_is_python_s_near_a_half_and_at_a_tie():
    # the vectorised rounding decides a product within 1/16 of a half by its exact value; the
    # values here are built to fall there (and on exact ties, rounded to even, as Python does)
    from dmi.eligibility.facts import spreadsheet_number, spreadsheet_numbers

    rng = np.random.default_rng(11)
    whole = rng.integers(10**14, 10**15, 4000).astype(np.float64)
    decades = 10.0 ** rng.integers(0, 12, 4000)
    halves = (whole + 0.5) / decades  # the 16th digit a 5: a half, or next to one
    values = np.concatenate(
        [halves, np.nextafter(halves, np.inf), np.nextafter(halves, -np.inf), -halves]
    )
    values = np.concatenate([values, [0.5, 1.5, 2.5, 0.125, 1e-8, 1e15, -0.0, 5e-324]])
    got = spreadsheet_numbers(values)
    assert got.tolist() == [spreadsheet_number(v) for v in values.tolist()]


@pytest.mark.parametrize(
    ("cells", "values", "refused"),
    [
        ([12.5, True], [12.5, None], 1),  # a bool after a float was read as 1.0
        ([3, np.float16(1.5)], [3.0, 1.5], 0),  # a float after an int was cut to 1.0
        ([3, np.complex128(1 + 2j)], [3.0, None], 1),
        ([12.5, None, 10**30], [12.5, None, 1e30], 0),  # beyond 64 bits: cell by cell
    ],
)
def test_a_column_of_python_objects_is_read_by_the_kind_of_every_cell(cells, values, refused):
    parsed = el.parse_facts(pd.DataFrame({"net_profit_y1": pd.Series(cells, dtype=object)}))
    got = [None if np.isnan(v) else v for v in parsed.table.values["net_profit_y1"].tolist()]
    assert got == values and len(parsed.rejects) == refused


def test_a_cross_check_says_a_value_in_its_column_s_unit_as_the_cell_holds_it():
    # 4387.48 元 came back from 万元 as 4387.4800000000005 元 in the reason (an API review)
    facts = pd.DataFrame(
        {"respondent_id": ["A"], "revenue_y1": ["4387.48"], "main_revenue_y1": ["5000"]}
    )
    parsed = el.parse_facts(facts, units={"revenue_y1": "元", "main_revenue_y1": "元"})
    assert parsed.rejects["reason"].tolist() == [
        "main_revenue_y1 (5000 元) is above revenue_y1 (4387.48 元): main-business revenue is "
        "part of revenue"
    ]


def test_a_fact_is_skipped_only_at_the_value_its_rule_names():
    year, own = el.FACTS["award_year"], el.FACTS["ip_class1_own"]
    assert year.skipped({"award": "none"}) and year.skipped({"award": " none "})
    assert not year.skipped({"award": "national"})
    assert not year.skipped({}) and not year.skipped({"award": None})  # blank: asked
    assert own.skipped({"ip_class1": 0}) and own.skipped({"ip_class1": np.int64(0)})
    assert own.skipped({"ip_class1": 0.0})
    assert not own.skipped({"ip_class1": 2}) and not own.skipped({"ip_class1": np.nan})
    assert not own.skipped({"ip_class1": False})  # no number
    assert not el.FACTS["revenue_y1"].skipped({"award": "none"})  # no rule: always asked


@pytest.mark.parametrize("dtype", ["float32", "Float32", "float32[pyarrow]"])
def test_a_float32_column_is_read_as_the_decimal_it_shows(dtype):
    # a float32 holds 128.64 as 128.63999938964844: an R&D share of exactly 3 % (128.64 of
    # 4288) was not met, and 234 of 500 gap texts showed other amounts (1241.7 for 1241.71)
    edge = pd.DataFrame(
        {"revenue_y1": [4288.0], "revenue_y2": [4288.0], "rd_y2": [128.64], "rd_y1": [128.64]},
        index=pd.Index(["A"], name="respondent_id"),
    )
    narrow = edge.assign(rd_y1=edge["rd_y1"].astype(dtype))
    assert el.evaluate(narrow, "2026")["sr26_rd"].tolist() == ["met"]
    firms = el.synthetic_firms(200, seed=5)
    floats = [c for c in firms.columns if firms[c].dtype == np.float64]
    cast = firms.astype({c: dtype for c in floats})
    # what each float32 shows, as a float64: the numbers the firm wrote, where float32 holds
    # them (seven digits), and the nearest it shows where it does not
    shown = firms.astype({c: np.float32 for c in floats}).astype({c: str for c in floats})
    shown = shown.astype({c: np.float64 for c in floats})
    pd.testing.assert_frame_equal(
        el.evaluate(cast, "2026", max_gaps=None), el.evaluate(shown, "2026", max_gaps=None)
    )


@pytest.mark.parametrize(
    ("written", "level"),
    [
        ("Level 3", 3),
        ("level  2", 2),
        ("LEVEL 4", 4),
        ("Level3", 3),
        ("Below level 1", 0),
        ("三级", 3),
        ("三 级", 3),
    ],
)
def test_a_digital_level_in_english_words_is_read_in_any_case(written, level):
    # "Level 3", as the English app shows a level, was refused with a hint of Chinese words only
    parsed = el.parse_facts(pd.DataFrame({"respondent_id": ["A"], "digital_level": [written]}))
    assert parsed.table.values["digital_level"].tolist() == [level]


def test_the_codebook_labels_a_level_s_words_in_both_languages():
    book = el.facts_codebook()
    levels = book[(book["column"] == "digital_level") & (book["type"] == "value")]
    assert levels[["value", "label_zh", "label_en"]].values.tolist() == [
        ["0", "未达一级", "below level 1"],
        ["1", "一级", "level 1"],
        ["2", "二级", "level 2"],
        ["3", "三级", "level 3"],
        ["4", "四级", "level 4"],
    ]

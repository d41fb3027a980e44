"""The provincial-level units of 梯度培育 (`dmi.eligibility.places`) and the cohort's provinces.

Spellings an agency's files hold (short and full Chinese names, English names in any case, the
survey's codes) are read as one unit, checked against pairs written out by hand and against the
survey's own list of provinces; a cohort counts a province's firms together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dmi.eligibility as el
from dmi.eligibility.places import (
    canonical_provinces,
    city_names,
    place_key,
    province_names,
    province_of,
)
from dmi.instruments import load_instrument

BY_HAND = {
    "广东": "广东省",
    "广东省": "广东省",
    "Guangdong": "广东省",
    " guangdong province ": "广东省",
    "GUANGDONG": "广东省",
    "ＧＵＡＮＧＤＯＮＧ": "广东省",  # full-width, as a Chinese input method types it
    "44": "广东省",
    "44 广东省": "广东省",
    "440000": "广东省",  # the six-digit division code (GB/T 2260) of a province
    "440000 广东省": "广东省",
    "44.0": "广东省",  # a code in a column of numbers with blanks, as pandas writes it to CSV
    "440000.0": "广东省",
    "440300.00": "深圳市",
    "110000": "北京市",
    "440300": "深圳市",  # a designated city's own code
    "北京": "北京市",
    "Beijing Municipality": "北京市",
    "内蒙古": "内蒙古自治区",
    "Inner Mongolia Autonomous Region": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "新疆": "新疆维吾尔自治区",
    "宁夏回族自治区": "宁夏回族自治区",
    "Tibet": "西藏自治区",
    "Xizang (Tibet)": "西藏自治区",
    "Shaanxi": "陕西省",
    "Shanxi": "山西省",
    "深圳": "深圳市",  # a city designated in the state plan: its own unit, not 广东省
    "Shenzhen City": "深圳市",
    "宁波市": "宁波市",
    "兵团": "新疆生产建设兵团",
    "吉林市": "吉林省",  # a province column's 吉林市 is read as the province (documented)
}


@pytest.mark.parametrize(("spelling", "unit"), BY_HAND.items())
def test_a_spelling_names_its_unit(spelling, unit):
    found = province_of(spelling)
    assert found is not None and found.zh == unit


@pytest.mark.parametrize(
    "text",
    [
        *("苏州", "Hong Kong", "香港特别行政区", "", "4", "441", "广东深圳", "440100", "4400"),
        *("990000", "44.5", "44.", ".44", "4.4"),
    ],
)
def test_other_text_names_no_unit(text):
    assert province_of(text) is None


def test_the_units():
    units = canonical_provinces()
    assert len(units) == 31 + 5 + 1  # the mainland's, the 计划单列市, the Corps
    assert len({u.zh for u in units}) == len(units)
    assert sum(len(u.code) == 2 for u in units) == 31


def test_the_survey_names_each_province_as_the_table_does():
    region = load_instrument("miit-2024-manufacturing").profile_field("region")
    for option in region.options:
        for spelling in (option.value, option.zh, option.en):
            found = province_of(spelling)
            assert found is not None, spelling
            assert (found.code, found.zh, found.en) == (option.value, option.zh, option.en)


def test_place_key_folds_case_spaces_width_and_one_suffix():
    assert place_key(" Guangdong  Province ") == place_key("guangdong") == "guangdong"
    assert place_key("广东省") == "广东"
    assert place_key("新疆维吾尔自治区") == "新疆"
    assert place_key("省") == "省"  # a suffix alone is kept


def test_province_names_keep_other_text_and_blanks():
    column = pd.Series(["广东", None, " 苏州 ", "Guangdong", "", "44"], name="province")
    assert province_names(column).tolist() == ["广东省", None, "苏州", "广东省", None, "广东省"]
    numbers = pd.Series([44.0, np.nan, 440000.0, 32], name="province", dtype=object)
    assert province_names(numbers).tolist() == ["广东省", None, "广东省", "江苏省"]


def test_a_cohort_counts_a_province_together_however_spelled():
    firms = el.synthetic_firms(8, seed=3)
    firms["province"] = ["广东", "广东省", "Guangdong", "44", "江苏", "Jiangsu", None, "苏州"]
    results = el.evaluate(firms, "2026")
    found = el.cohort(results, firms, policy="2026")
    table = found.table()
    by = table[(table["table"] == "status") & (table["rung"] == "specialised")]
    by = by[by["by"] == "province"].groupby("group")["n"].sum().to_dict()
    assert by == {"广东省": 4, "江苏省": 2, "(blank)": 1, "苏州": 1}
    provinces = set(found.candidates["province"].dropna())
    assert provinces <= {"广东省", "江苏省", "苏州"}


CITY_SPELLINGS = {
    # written as firms type a city: one group per city, whatever its suffix, case or width
    "广州市": "广州",
    "广州": "广州",
    " 广州市 ": "广州",
    "ＧＵＡＮＧＺＨＯＵ": "Guangzhou",
    "guangzhou city": "Guangzhou",
    "Guangzhou City": "Guangzhou",
    "xi'an": "Xi'an",
    "Ma'anshan  city": "Ma'anshan",
    "GuangzhouCity": "Guangzhou",
    "Guangzhou Municipality": "Guangzhou",
    "Ürümqi": "Ürümqi",
    "ÜRÜMQI": "Ürümqi",  # a Latin name's case whatever its letters
    # a name of one character before 市 keeps it (沙市 is a district, not 沙), as a province
    # block's name does; other units as written: no suffix is put on or taken off but those of
    # place_key
    "沙市": "沙市",
    "延边朝鲜族自治州": "延边朝鲜族自治州",
    "海淀区": "海淀区",
    "city": "City",
}


@pytest.mark.parametrize(("written", "group"), CITY_SPELLINGS.items())
def test_a_city_is_one_group_however_a_row_spells_it(written, group):
    from dmi.eligibility.places import city_names

    assert city_names(pd.Series([written]))[0] == group


def test_a_cohort_counts_a_city_written_with_and_without_its_suffix_together():
    # 广州 and 广州市 were two groups of an agency's cohort (cities were grouped as written);
    # the group's name does not depend on which spellings a chunk holds
    firms = el.synthetic_firms(6, 1)
    firms["city"] = ["广州市", "广州", "Guangzhou city", "guangzhou", "  ", "深圳市"]
    table = el.cohort(el.evaluate_batch(firms, "2026")).table()
    cities = table[(table["by"] == "city") & (table["table"] == "status")]
    counted = cities[cities["rung"] == "innovative"].groupby("group")["n"].sum().to_dict()
    assert counted == {"广州": 2, "Guangzhou": 2, "深圳": 1, "(blank)": 1}
    for half in (firms.iloc[:3], firms.iloc[3:]):
        part = el.cohort(el.evaluate_batch(half, "2026")).table()
        groups = set(part[part["by"] == "city"]["group"])
        assert groups <= {"广州", "Guangzhou", "深圳", "(blank)"}


def test_a_name_of_one_character_before_its_suffix_keeps_it():
    # 沙市 (a district of 荆州) was matched as 沙; a province block's name and a city alike
    assert place_key("沙市") == "沙市" and place_key("广州市") == "广州"
    assert place_key("吉林省") == "吉林"


@pytest.mark.parametrize(
    ("lang", "shanghai", "shenzhen"), [("zh", "上海", "深圳"), ("en", "Shanghai", "Shenzhen")]
)
def test_a_city_that_is_a_unit_of_the_table_is_one_group_in_either_language(
    lang, shanghai, shenzhen
):
    # 上海 16 beside Shanghai 8 on the bulk page (an agency review): the municipalities and the
    # 计划单列市 are in provinces.yaml; another city's two names stay two groups
    cities = pd.Series(
        [
            "上海",
            "Shanghai",
            "上海市",
            "SHANGHAI CITY",
            "深圳市",
            "Shenzhen",
            "吉林市",
            "广州",
            "Guangzhou",
        ]
    )
    named = city_names(cities, lang).tolist()
    assert named[:4] == [shanghai] * 4 and named[4:6] == [shenzhen] * 2
    assert named[6] == "吉林"  # a city of 吉林省, not a unit: as written, its suffix off
    assert named[7:] == ["广州", "Guangzhou"]

"""The agency's dashboard (dmi.service.dashboard) on a store of hand-made submissions.

Every expected number below is counted by hand from the table of :data:`PEOPLE`.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import update

import dmi
from dmi.service import dashboard
from dmi.service.dashboard import Filters
from dmi.service.store import Store, submissions

MIIT = dmi.load_instrument("miit-2024-manufacturing")
REF = "miit-2024-manufacturing@000000000000"

# company: profile answers, then its submissions (when, index, level, tier), oldest first
PEOPLE = {
    "A": (
        {"company_name": "甲公司", "region": "33", "city": "杭州市", "sector": "C14",
         "size_class": "small", "employees": 85.0},
        [("2026-03-01 09:00", 35.0, 1, 1), ("2026-06-01 00:00", 52.5, 2, 2)],
    ),
    "B": (
        {"company_name": "乙公司", "region": "33", "city": "宁波市", "sector": "C33",
         "size_class": "medium"},
        [("2026-03-05 12:00", 61.0, 3, 3), ("2026-07-01 08:00", 58.0, 2, 3)],
    ),
    "C": (
        {"company_name": "丙公司", "region": "44", "city": "深圳市", "sector": "C14",
         "size_class": "micro"},
        [("2026-04-10 10:00", 15.0, 0, 1)],
    ),
    "D": (
        {"company_name": '=HYPERLINK("http://x")', "region": "33", "city": "",
         "size_class": "small"},
        [("2026-05-01 23:59", 45.0, 2, None), ("2026-05-20 10:00", 47.5, 2, 2)],
    ),
    "E": (
        {"sector": "C33", "size_class": "small"},
        [("2026-08-01 10:00", 82.0, 4, 4)],
    ),
}  # fmt: skip


def _reference(store: Store) -> None:
    from sqlalchemy import insert

    from dmi.service.store import _now, references

    with store.engine.begin() as conn:
        conn.execute(
            insert(references).values(
                version=REF,
                instrument_id=MIIT.id,
                created_at=_now(),
                is_current=False,
                source="test",
                n_companies=0,
                created_by="",
                document="{}",
            )
        )


def populate(db: Store) -> None:
    """Store :data:`PEOPLE`'s submissions, with their times."""
    _reference(db)
    # submitted in time order across companies, as an app would (ids follow time)
    made = []
    for name, (answers, rounds) in PEOPLE.items():
        token = db.new_draft(MIIT.id)
        for when, value, level, tier in rounds:
            made.append((when, token, name, answers, value, level, tier))
    for when, token, name, answers, value, level, tier in sorted(made):
        scores = {"dmi": value, "level": level, "tier": tier}
        done = db.submit(token, {**answers, "sentinel": name}, REF, scores)
        moment = datetime.fromisoformat(when).replace(tzinfo=UTC)
        with db.engine.begin() as conn:
            conn.execute(
                update(submissions).where(submissions.c.id == done.id).values(submitted_at=moment)
            )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = Store(f"sqlite:///{tmp_path_factory.mktemp('dash') / 'dmi.sqlite'}")
    populate(db)
    return db


@pytest.fixture(scope="module")
def frame(store):
    return dashboard.submissions(store, MIIT)


def test_the_submissions_table_has_one_row_per_submission_and_one_company_per_code(store, frame):
    assert len(frame) == 8
    raw = store.submission_table(MIIT.id)
    # the company key is the same for every submission of one code, and not the code's hash
    by_sentinel = {a["sentinel"]: c for a, c in zip(raw["answers"], raw["company"])}
    assert frame.groupby("company").size().to_dict() == {
        by_sentinel["A"]: 2,
        by_sentinel["B"]: 2,
        by_sentinel["C"]: 1,
        by_sentinel["D"]: 2,
        by_sentinel["E"]: 1,
    }
    a = frame[frame["company"] == by_sentinel["A"]]
    assert a["round"].tolist() == [0, 1] and a["dmi"].tolist() == [35.0, 52.5]
    assert by_sentinel["A"] == f"S{a['submission'].min()}"
    # blank answers are None, not ''
    d = frame[frame["company"] == by_sentinel["D"]].iloc[0]
    assert d["city"] is None and d["sector"] is None
    assert frame["tier"].isna().sum() == 1


def test_the_overview_counts_companies_by_their_latest_submission(frame):
    seen = dashboard.overview(frame)
    assert (seen.companies, seen.submissions, seen.resubmitted) == (5, 8, 3)
    assert seen.mean_index == pytest.approx((52.5 + 58.0 + 15.0 + 47.5 + 82.0) / 5)
    empty = dashboard.overview(frame.iloc[:0])
    assert (empty.companies, empty.submissions, empty.mean_index) == (0, 0, None)


def _counts(frame, group, lang="zh"):
    table = dashboard.counts(frame, group, MIIT, lang)
    return list(zip(table["name"], table["companies"]))


def test_counts_by_level_and_tier_list_every_one_by_name(frame):
    assert _counts(frame, "level") == [
        ("未达一级", 1), ("一级", 0), ("二级", 3), ("三级", 0), ("四级", 1)
    ]  # fmt: skip
    assert _counts(frame, "level", "en")[2] == ("Level 2", 3)
    table = dashboard.counts(frame, "level", MIIT, "zh")
    assert table["mean_index"].iloc[2] == pytest.approx((52.5 + 58.0 + 47.5) / 3)
    assert table["share"].iloc[2] == pytest.approx(3 / 5)
    assert _counts(frame, "tier") == [
        ("数字化启蒙帮扶", 1), ("关键环节改造帮扶", 2), ("集成贯通提升帮扶", 1),
        ("标杆示范引领帮扶", 1),
    ]  # fmt: skip


def test_counts_by_profile_name_the_values_in_the_instruments_order_blank_last(frame):
    assert _counts(frame, "region") == [("浙江省", 3), ("广东省", 1), ("未填写", 1)]
    assert _counts(frame, "region", "en") == [("Zhejiang", 3), ("Guangdong", 1), ("not given", 1)]
    assert _counts(frame, "sector") == [("食品制造业", 2), ("金属制品业", 2), ("未填写", 1)]
    assert _counts(frame, "size_class") == [("微型企业", 1), ("小型企业", 3), ("中型企业", 1)]
    assert _counts(frame, "city") == [
        ("宁波市", 1), ("杭州市", 1), ("深圳市", 1), ("未填写", 2)
    ]  # fmt: skip
    table = dashboard.counts(frame, "region", MIIT, "zh")
    assert table["value"].tolist() == ["33", "44", None]
    assert table["share"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown group"):
        dashboard.counts(frame, "colour", MIIT, "zh")


def test_regions_are_counted_by_province_and_city(frame):
    table = dashboard.region_table(frame, MIIT, "zh")
    assert list(zip(table["province"], table["city"], table["companies"])) == [
        ("浙江省", "宁波市", 1),
        ("浙江省", "杭州市", 1),
        ("浙江省", "未填写", 1),
        ("广东省", "深圳市", 1),
        ("未填写", "未填写", 1),
    ]
    assert table["mean_index"].tolist() == [58.0, 52.5, 47.5, 15.0, 82.0]


def test_progress_pairs_each_resubmitting_companys_first_and_latest(frame):
    pairs, summary = dashboard.progress(frame, MIIT, "zh")
    assert pairs["company_name"].tolist() == ["甲公司", '=HYPERLINK("http://x")', "乙公司"]
    assert pairs["change"].tolist() == pytest.approx([17.5, 2.5, -3.0])
    assert pairs["moved"].tolist() == ["up", "same", "down"]
    assert list(zip(pairs["level_t0"], pairs["level_t1"])) == [
        ("一级", "二级"), ("二级", "二级"), ("三级", "二级")
    ]  # fmt: skip
    assert (summary.companies, summary.up, summary.down, summary.same) == (3, 1, 1, 1)
    assert summary.mean_change == pytest.approx((17.5 + 2.5 - 3.0) / 3)
    none, nothing = dashboard.progress(frame[frame["round"] == 0], MIIT, "en")
    assert len(none) == 0 and nothing.mean_change is None and nothing.companies == 0


@pytest.mark.parametrize(
    ("filters", "companies", "submissions", "pairs"),
    [
        (Filters.of(regions=["33"]), 3, 6, 3),
        (Filters.of(regions=["33"], cities=["杭州市"]), 1, 2, 1),
        (Filters.of(sectors=["C14"], sizes=["small"]), 1, 2, 1),
        (Filters.of(sizes=["small", "micro"]), 4, 6, 2),  # A, C, D, E
        # days are whole and both ends included: the 23:59 submission of 1 May is in
        (Filters.of(since=date(2026, 6, 1)), 3, 3, 0),
        (Filters.of(until=date(2026, 5, 1)), 4, 4, 0),
        (Filters.of(until=date(2026, 4, 30)), 3, 3, 0),
        (Filters.of(since=date(2026, 3, 1), until=date(2026, 5, 31)), 4, 5, 1),
        (Filters.of(regions=["11"]), 0, 0, 0),
    ],
)
def test_filters_keep_the_submissions_asked_for(frame, filters, companies, submissions, pairs):
    chosen = dashboard.select(frame, filters)
    seen = dashboard.overview(chosen)
    assert (seen.companies, seen.submissions) == (companies, submissions)
    assert dashboard.progress(chosen, MIIT, "zh")[1].companies == pairs
    assert dashboard.counts(chosen, "level", MIIT, "zh")["companies"].sum() == companies


def test_a_filtered_pair_is_the_first_and_latest_submission_in_the_range(frame):
    chosen = dashboard.select(frame, Filters.of(since=date(2026, 3, 1), until=date(2026, 5, 31)))
    pairs, _ = dashboard.progress(chosen, MIIT, "en")
    assert pairs["company_name"].tolist() == ['=HYPERLINK("http://x")']
    assert (pairs["dmi_t0"].iloc[0], pairs["dmi_t1"].iloc[0]) == (45.0, 47.5)


def test_the_index_histogram_bands_are_closed_on_the_left_and_100_is_in_the_last():
    table = dashboard.histogram([0.0, 9.99, 10.0, 52.5, 58.0, 99.9, 100.0, float("nan")])
    assert table["band"].tolist()[:2] == ["0-10", "10-20"] and len(table) == 10
    assert table["companies"].tolist() == [2, 1, 0, 0, 0, 2, 0, 0, 0, 2]


def test_the_export_names_everything_and_keeps_formula_like_names_as_text(frame):
    data = dashboard.export_workbook(frame, MIIT, "zh")
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["企业", "地区", "行业", "企业规模", "等级", "帮扶梯度", "前后对比"]
    rows = list(book["企业"].iter_rows(values_only=True))
    assert rows[0] == (
        "企业名称", "省份", "城市", "行业", "企业规模", "提交时间（UTC）", "提交次数",
        "数字化发展指数", "等级", "帮扶梯度",
    )  # fmt: skip
    people = {r[0]: r for r in rows[1:]}
    assert people["甲公司"][1:5] == ("浙江省", "杭州市", "食品制造业", "小型企业")
    assert people["甲公司"][6:] == (2, 52.5, "二级", "关键环节改造帮扶")
    assert people["未填写"][1] == "未填写" and people["未填写"][8] == "四级"
    # the company named like a formula is a text cell, shown as its name, never run
    assert '=HYPERLINK("http://x")' in people
    named = [
        c
        for row in book["企业"].iter_rows()
        for c in row
        if c.value == people['=HYPERLINK("http://x")'][0]
    ]
    assert [c.data_type for c in named] == ["s"]
    cells = [v for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert not {"C14", "C33", "33", "44", "small", "medium", "micro"} & {str(v) for v in cells}
    progress = list(book["前后对比"].iter_rows(values_only=True))
    assert progress[1] == ("甲公司", 35.0, 52.5, 17.5, "一级", "二级", "上升")
    levels = list(book["等级"].iter_rows(values_only=True))
    assert levels[3] == ("二级", 3, 0.6, 52.7)
    english = load_workbook(io.BytesIO(dashboard.export_workbook(frame, MIIT, "en")))
    assert english.sheetnames[0] == "Companies"
    assert pd.DataFrame(english["Companies"].values).iloc[0, 0] == "Company"

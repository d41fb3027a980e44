"""Raw numbers behind banded questions, checked against issue #19: equipment counts, digital
spend and revenue are accepted, the band is derived from them (the derivation in the results),
and a row whose raw numbers contradict each other (a part over its whole, a negative number) or
the band also given is rejected, naming row, column, value and what was expected. The same
numbers come through a 问卷星 or KoboToolbox export whose survey asked them by their names.

The shipped MIIT instrument derives 生产设备数字化率 from ``equipment_digitised_count`` /
``equipment_total``, 联网率 from ``equipment_networked_count`` / ``equipment_total`` and 数字化投入
占比 from ``digital_spend`` / ``revenue``; its bands are A (<= 10 %), B (10-20 %], C (20-40 %],
D (40-60 %], E (> 60 %).
"""

from __future__ import annotations

import pandas as pd
import pytest

import dmi
from dmi.cli import main

from .conftest import mixed_answers

MIIT = "miit-2024-manufacturing"
BANDS = ["equipment_digitised", "equipment_networked", "investment"]


@pytest.fixture(scope="module")
def base() -> dict:
    """The hand-worked mixed case without its three banded answers."""
    answers = mixed_answers(dmi.load_instrument(MIIT))
    return {k: v for k, v in answers.items() if k not in BANDS}


def score(tmp_path, capsys, frame: pd.DataFrame, name: str = "a.csv", *more):
    path, out, rejects = tmp_path / name, tmp_path / "s.csv", tmp_path / "r.csv"
    # cells as written (a whole number stays whole beside blanks)
    frame = frame.map(lambda v: None if pd.isna(v) else v if isinstance(v, str) else str(v))
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    code = main(
        ["score", str(path), "-o", str(out), "--rejects", str(rejects), "--tier-model", "none"]
        + list(more)
    )
    stdout, err = capsys.readouterr()
    assert code == 0, err
    scores = pd.read_csv(out, dtype=str, keep_default_na=False)
    bad = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    # a cell starting with - is written '-1 (so that no spreadsheet takes it for a formula)
    bad["value"] = bad["value"].str.removeprefix("'")
    return scores, bad, stdout


# (digitised, networked, total, spend, revenue) -> the three bands, worked by hand
DERIVED = [
    ((7, 1, 20, 15, 100), ("C", "A", "B"), ("35", "5", "15")),
    ((2, 4, 20, 10, 100), ("A", "B", "A"), ("10", "20", "10")),  # band edges: closed right
    ((8, 13, 20, 61, 100), ("C", "E", "E"), ("40", "65", "61")),
    ((0, 20, 20, 0, 50), ("A", "E", "A"), ("0", "100", "0")),
]


def test_the_band_is_derived_and_the_derivation_is_in_the_results(tmp_path, capsys, base):
    raw = pd.DataFrame(
        [
            base
            | {
                "respondent_id": f"r{k}",
                "equipment_digitised_count": d,
                "equipment_networked_count": n,
                "equipment_total": t,
                "digital_spend": s,
                "revenue": r,
            }
            for k, ((d, n, t, s, r), _, _) in enumerate(DERIVED)
        ]
    )
    banded = pd.DataFrame(
        [
            base | {"respondent_id": f"r{k}"} | dict(zip(BANDS, bands))
            for k, (_, bands, _) in enumerate(DERIVED)
        ]
    )
    got, bad, stdout = score(tmp_path, capsys, raw)
    assert bad.empty and f"read {len(DERIVED)} rows: {len(DERIVED)} scored" in stdout
    for code, k in zip(BANDS, range(3)):
        assert list(got[f"derived_{code}"]) == [p[k] for _, _, p in DERIVED]
    expected, _, _ = score(tmp_path, capsys, banded, "b.csv")
    derived = [c for c in got.columns if c.startswith("derived_")]
    pd.testing.assert_frame_equal(got.drop(columns=derived), expected)


# (raw numbers and a band, the rejected column, its value, parts of the reason)
CONTRADICTIONS = [
    ({"equipment_digitised_count": 21, "equipment_total": 20}, "equipment_digitised_count", "21",
     ["exceeds equipment_total (20)"]),
    ({"equipment_networked_count": 3, "equipment_total": -1}, "equipment_total", "-1",
     ["negative", "expected a number of at least 0"]),
    ({"digital_spend": -5, "revenue": 100}, "digital_spend", "-5", ["negative"]),
    ({"digital_spend": 120, "revenue": 100}, "digital_spend", "120", ["exceeds revenue (100)"]),
    ({"equipment_digitised_count": 7, "equipment_total": 20, "equipment_digitised": "A"},
     "equipment_digitised", "A", ["contradicts", "35%", "band C"]),
    ({"digital_spend": 15, "revenue": 100, "investment": "D"}, "investment", "D",
     ["contradicts", "15%", "band B"]),
    ({"equipment_digitised_count": "七", "equipment_total": 20}, "equipment_digitised_count",
     "七", ["not a number"]),
]  # fmt: skip


def test_raw_numbers_that_contradict_reject_the_row_naming_column_value_and_why(
    tmp_path, capsys, base
):
    rows = [base | {"respondent_id": "ok", "equipment_digitised": "C"}]
    for k, (raw, _, _, _) in enumerate(CONTRADICTIONS):
        rows.append(base | {"respondent_id": f"bad{k}"} | raw)
    scores, bad, stdout = score(tmp_path, capsys, pd.DataFrame(rows, dtype=object))
    n = len(CONTRADICTIONS)
    assert f"read {n + 1} rows: 1 scored, {n} rejected" in stdout
    assert list(scores["respondent_id"]) == ["ok"]
    assert list(bad["row"]) == [str(k + 3) for k in range(n)]  # the header is row 1
    for got, (_, column, value, reason) in zip(bad.itertuples(), CONTRADICTIONS):
        assert (got.column, got.value) == (column, value), got
        assert all(part in got.reason for part in reason), got.reason


def test_raw_numbers_come_through_survey_tool_exports(tmp_path, capsys, base):
    meta = {"序号": ["1", "2"], "提交答卷时间": ["x", "x"], "所用时间": ["10分0秒"] * 2}
    wjx = pd.DataFrame(
        meta
        | {
            "31、equipment_digitised_count": ["7", "30"],
            "32、equipment_total": ["20", "20"],
            "33、strategy": ["A", "B"],
        }
    )
    scores, bad, _ = score(tmp_path, capsys, wjx, "wjx.csv")
    assert list(scores["derived_equipment_digitised"]) == ["35"]
    assert bad[["row", "column", "value"]].values.tolist() == [
        ["3", "equipment_digitised_count", "30"]
    ]
    kobo = pd.DataFrame(
        {
            "_uuid": ["u1", "u2"],
            "foundation/equipment_networked_count": ["4", "-1"],
            "foundation/equipment_total": ["20", "20"],
            "management/strategy": ["A", "B"],
        }
    )
    scores, bad, _ = score(tmp_path, capsys, kobo, "kobo.csv")
    assert list(scores["derived_equipment_networked"]) == ["20"]
    assert bad[["row", "column", "value"]].values.tolist() == [
        ["3", "equipment_networked_count", "-1"]
    ]

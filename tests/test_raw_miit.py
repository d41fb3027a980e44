"""The shipped MIIT instrument takes the raw numbers behind its banded shares (its ``derive``
blocks): its content hash and fitted models are those of the file without them, a file with raw
numbers only scores as the same file with the bands, contradictions are rejected with their
reasons through ``dmi score``, and a file without raw columns gets the columns it always had."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

import dmi
from dmi.cli.main import main
from dmi.instruments import parse_instrument, shipped_path
from dmi.instruments.export import codebook
from dmi.tiers.model import load_shipped_tier_model

from .conftest import MIXED, mixed_answers

MIIT = "miit-2024-manufacturing"
RAW = {
    "equipment_digitised": ("equipment_digitised_count", "equipment_total"),
    "equipment_networked": ("equipment_networked_count", "equipment_total"),
    "investment": ("digital_spend", "revenue"),
}
# the hand-worked mixed case's three shares (35 %, 5 %, 15 %: bands C, A, B) as raw numbers
MIXED_RAW = {
    "equipment_digitised_count": 7,
    "equipment_networked_count": 1,
    "equipment_total": 20,
    "digital_spend": 15,
    "revenue": 100,
}
MIXED_POINTS = 40.675  # worked by hand in tests/test_scoring.py


@pytest.fixture(scope="module")
def miit() -> dmi.Instrument:
    return dmi.load_instrument(MIIT)


def test_the_shipped_items_declare_their_raw_columns(miit):
    assert {i.code: (i.derive.part, i.derive.whole) for i in miit.derived_items} == RAW
    item_codes = {i.code for i in miit.items} | {f.code for f in miit.profile}
    assert not set(miit.raw_columns) & item_codes


def test_derive_is_not_hashed_and_the_shipped_models_still_load(miit):
    data = yaml.safe_load(shipped_path(f"{MIIT}.yaml").read_text(encoding="utf-8"))
    for dim in data["dimensions"]:
        for ind in dim["indicators"]:
            for item in ind["items"]:
                item.pop("derive", None)
    without = parse_instrument(yaml.safe_dump(data, allow_unicode=True), source="plain.yaml")
    assert without.derived_items == ()
    assert miit.hash == without.hash
    # ... while a change that scores differently does change it
    data["dimensions"][0]["indicators"][0]["items"][1]["bands"][1]["points"] = 2
    changed = parse_instrument(yaml.safe_dump(data, allow_unicode=True), source="b.yaml")
    assert changed.hash != miit.hash
    assert load_shipped_tier_model(miit) is not None  # refuses an instrument of another hash


def _answers(rows: list[dict], with_bands: bool) -> pd.DataFrame:
    out = []
    for k, raw in enumerate(rows):
        row = {"respondent_id": f"r{k}", **mixed_answers(dmi.load_instrument(MIIT))}
        if not with_bands:
            for code in RAW:
                row[code] = None
        out.append(row | raw)
    return pd.DataFrame(out)


def _score(tmp_path, frame: pd.DataFrame, *extra: str) -> tuple[int, pd.DataFrame, pd.DataFrame]:
    answers, out, rejects = tmp_path / "a.csv", tmp_path / "s.csv", tmp_path / "r.csv"
    frame.to_csv(answers, index=False)
    code = main(["score", str(answers), "-o", str(out), "--rejects", str(rejects), *extra])
    scores = pd.read_csv(out)
    bad = pd.read_csv(rejects) if rejects.exists() and rejects.stat().st_size else pd.DataFrame()
    return code, scores, bad


def test_raw_numbers_only_score_as_the_bands(tmp_path, capsys):
    code, raw, _ = _score(tmp_path, _answers([MIXED_RAW] * 3, with_bands=False))
    assert code == 0
    assert raw["dmi"].tolist() == [pytest.approx(MIXED_POINTS)] * 3
    assert raw["derived_equipment_digitised"].tolist() == [35.0] * 3
    assert raw["derived_equipment_networked"].tolist() == [5.0] * 3
    assert raw["derived_investment"].tolist() == [15.0] * 3
    # the same file with the bands instead of the raw numbers: the same scores, no derived_
    bands = _answers([{}] * 3, with_bands=True)
    assert bands["equipment_digitised"][0] == MIXED["equipment_digitised"]
    code, plain, _ = _score(tmp_path, bands)
    assert code == 0
    assert not [c for c in plain.columns if c.startswith("derived_")]
    derived = [c for c in raw.columns if c.startswith("derived_")]
    pd.testing.assert_frame_equal(raw.drop(columns=derived), plain)


def test_only_the_items_whose_raw_columns_the_header_has_get_a_derived_column(tmp_path):
    # equipment numbers only; the first chunk gives none of them (blank cells), later ones do
    rows = [{}] * 3 + [{k: MIXED_RAW[k] for k in RAW["equipment_digitised"]}] * 3
    frame = _answers(rows, with_bands=True)
    frame.loc[3:, "equipment_digitised"] = None
    code, scores, _ = _score(tmp_path, frame, "--chunk-rows", "2")
    assert code == 0
    derived = [c for c in scores.columns if c.startswith("derived_")]
    assert derived == ["derived_equipment_digitised"]
    assert scores["derived_equipment_digitised"].isna().tolist() == [True] * 3 + [False] * 3
    assert scores["dmi"].tolist() == [pytest.approx(MIXED_POINTS)] * 6


CONTRADICTIONS = [
    ({"equipment_digitised_count": 21}, "equipment_digitised_count", "exceeds equipment_total"),
    ({"equipment_networked_count": 30}, "equipment_networked_count", "exceeds equipment_total"),
    ({"digital_spend": 101}, "digital_spend", "exceeds revenue (100)"),
    ({"revenue": -5}, "revenue", "negative"),
    ({"equipment_total": -1}, "equipment_total", "negative"),
    ({"equipment_digitised_count": -2}, "equipment_digitised_count", "negative"),
    ({"revenue": 0, "digital_spend": 0}, "revenue", "is 0"),
    ({"digital_spend": 15, "investment": "E"}, "investment", "contradicts digital_spend/revenue"),
    ({"equipment_digitised": "A"}, "equipment_digitised", "(band C"),
]


def test_contradictions_are_rejected_with_reasons_and_the_counts_reconcile(tmp_path, capsys):
    rows = [MIXED_RAW]
    for raw, _, _ in CONTRADICTIONS:
        rows += [MIXED_RAW | raw, MIXED_RAW]
    code, scores, bad = _score(tmp_path, _answers(rows, with_bands=False))
    assert code == 0
    n_bad = len(CONTRADICTIONS)
    assert len(scores) == len(rows) - n_bad
    assert scores["respondent_id"].tolist() == [f"r{k}" for k in range(0, len(rows), 2)]
    assert bad["row"].tolist() == [3 + 2 * k for k in range(n_bad)]  # header is row 1
    for (_, column, reason), got in zip(CONTRADICTIONS, bad.itertuples()):
        assert got.column == column
        assert reason in got.reason, got.reason
    assert f"read {len(rows)} rows: {len(rows) - n_bad} scored, {n_bad} rejected" in (
        capsys.readouterr().out
    )


def test_the_codebook_lists_the_raw_columns_as_optional(miit):
    book = codebook(miit)
    raw = book[book["type"] == "raw"]
    assert raw["column"].tolist() == [
        "equipment_digitised_count",
        "equipment_total",
        "equipment_networked_count",
        "digital_spend",
        "revenue",
    ]
    assert set(raw["missing"]) == {"allowed"} and set(raw["min"]) == {0}
    shared = raw.set_index("column").loc["equipment_total", "item"]
    assert shared == "whole of equipment_digitised; whole of equipment_networked"
    # listed right after the first item they feed
    columns = book["column"].tolist()
    at = columns.index("equipment_digitised_count")
    assert columns[at - 1] == "equipment_digitised"

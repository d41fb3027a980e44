"""Raw numbers behind banded questions (an item's ``derive`` block): the band derived from
the raw counts at every edge of the bands, the derived value in the results, and every row
whose raw numbers contradict each other or the band also given rejected with its reason,
on the small and the vectorised path alike, with the counts reconciling through the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import dmi
from dmi.cli.main import main
from dmi.instruments import parse_instrument, shipped_path
from dmi.scoring.answers import SMALL_BATCH_ROWS

from .conftest import best_answers

DERIVE = {
    "equipment_digitised": {
        "part": "equipment_digitised_count",
        "whole": "equipment_total",
        "zh": "数字化生产设备数 ÷ 生产设备总数",
        "en": "digitised machines / all machines",
    },
    "equipment_networked": {
        "part": "equipment_networked_count",
        "whole": "equipment_total",
        "zh": "联网生产设备数 ÷ 生产设备总数",
        "en": "networked machines / all machines",
    },
    "investment": {
        "part": "digital_spend",
        "whole": "revenue",
        "zh": "数字化投入 ÷ 营业收入",
        "en": "digital spend / revenue",
    },
}


def _derive_text(changes: dict[str, dict], drop_bands: bool = False) -> str:
    """The shipped MIIT file with ``derive`` blocks on the items named in ``changes``."""
    data = yaml.safe_load(shipped_path("miit-2024-manufacturing.yaml").read_text(encoding="utf-8"))
    data["id"] = "miit-raw"
    for dim in data["dimensions"]:
        for ind in dim["indicators"]:
            for item in ind["items"]:
                if item["code"] in changes:
                    item["derive"] = changes[item["code"]]
                    if drop_bands:
                        del item["bands"], item["closed"]
                        item["goalposts"] = {"low": 0, "high": 100}
    return yaml.safe_dump(data, allow_unicode=True)


def _with_derive(changes: dict[str, dict], drop_bands: bool = False) -> dmi.Instrument:
    return parse_instrument(_derive_text(changes, drop_bands), source="miit-raw.yaml")


@pytest.fixture(scope="module")
def raw_miit() -> dmi.Instrument:
    return _with_derive(DERIVE)


@pytest.fixture(scope="module")
def model(raw_miit) -> dmi.IndexModel:
    return dmi.IndexModel(raw_miit).fit()


def _base(instrument) -> dict:
    answers = best_answers(instrument)
    for code in DERIVE:
        answers[code] = None  # the band comes from the raw numbers
    return answers


def _rows(instrument, raws: list[dict]) -> pd.DataFrame:
    base = _base(instrument)
    return pd.DataFrame(
        [
            base | {"respondent_id": f"r{k}", "revenue": 100, "digital_spend": 70} | raw
            for k, raw in enumerate(raws)
        ]
    )


# (digitised, total) -> the band of the digitisation rate, intervals (lower, upper]
EDGES = [
    (0, 5, "A", 0.0),
    (1, 10, "A", 10.0),  # exactly 10%: the first band, (0, 10]
    (11, 100, "B", 11.0),
    (2, 10, "B", 20.0),
    (3, 10, "C", 30.0),
    (4, 10, "C", 40.0),
    (6, 10, "D", 60.0),
    (61, 100, "E", 61.0),
    (7, 7, "E", 100.0),
]


@pytest.mark.parametrize("many", [False, True])
def test_the_band_is_derived_at_every_edge(raw_miit, model, many):
    raws = [
        {"equipment_digitised_count": p, "equipment_total": t, "equipment_networked_count": 0}
        for p, t, _, _ in EDGES
    ]
    if many:  # the vectorised path: more rows than are parsed cell by cell
        raws = raws * (SMALL_BATCH_ROWS // len(raws) + 2)
    frame = _rows(raw_miit, raws)
    result = model.score_batch(frame)
    assert result.rejects.empty, result.rejects.to_dict("records")
    derived = result.scores["derived_equipment_digitised"].to_numpy()
    expected = np.array([v for _, _, _, v in EDGES] * (len(raws) // len(EDGES)))
    np.testing.assert_array_equal(derived, expected)
    # the same answers given as bands score the same
    by_band = frame.drop(columns=list(raw_miit.raw_columns))
    by_band["equipment_digitised"] = [b for _, _, b, _ in EDGES] * (len(raws) // len(EDGES))
    by_band["equipment_networked"] = "A"
    by_band["investment"] = "E"
    plain = dmi.IndexModel(dmi.load_instrument("miit-2024-manufacturing")).fit()
    np.testing.assert_array_equal(result.scores["dmi"], plain.score(by_band)["dmi"])
    assert result.scores["derived_investment"].tolist() == [70.0] * len(raws)


# (the raw numbers and the answer given, the rejected column, a part of the reason)
CONTRADICTIONS = [
    (
        {"equipment_digitised_count": 12, "equipment_total": 10},
        "equipment_digitised_count",
        "exceeds equipment_total (10)",
    ),
    (
        {"equipment_digitised_count": -1, "equipment_total": 10},
        "equipment_digitised_count",
        "negative; expected a number of at least 0",
    ),
    (
        {"equipment_digitised_count": "many", "equipment_total": 10},
        "equipment_digitised_count",
        "not a number",
    ),
    ({"equipment_digitised_count": 3}, "equipment_total", "blank while equipment_digitised_count"),
    ({"equipment_digitised_count": 0, "equipment_total": 0}, "equipment_total", "is 0"),
    (
        {"equipment_digitised_count": 3, "equipment_total": 10, "equipment_digitised": "E"},
        "equipment_digitised",
        "contradicts equipment_digitised_count/equipment_total = 30% (band C",
    ),
    (
        {"equipment_digitised_count": 1, "equipment_total": 10, "equipment_digitised": "10.5"},
        "equipment_digitised",
        "(band A: 0-10%)",
    ),
    ({"digital_spend": 120, "revenue": 100}, "digital_spend", "exceeds revenue (100)"),
]


@pytest.mark.parametrize("raw, column, reason", CONTRADICTIONS)
def test_contradictions_reject_the_row_with_the_reason(raw_miit, model, raw, column, reason):
    good = {"equipment_digitised_count": 3, "equipment_total": 10, "equipment_networked_count": 1}
    rows = [good, {"equipment_networked": "B"} | raw, good]
    for many in (False, True):
        frame = _rows(raw_miit, rows * (30 if many else 1))
        result = model.score_batch(frame)
        bad = result.rejects
        assert len(result.scores) + bad["row"].nunique() == len(frame)  # counts reconcile
        assert bad["row"].nunique() == (30 if many else 1)
        assert set(bad["column"]) == {column}, bad.to_dict("records")
        assert all(reason in r for r in bad["reason"]), bad["reason"].tolist()


def test_an_answer_in_the_derived_band_is_consistent(raw_miit, model):
    rows = [
        {"equipment_digitised_count": 3, "equipment_total": 10, "equipment_digitised": "C"},
        {"equipment_digitised_count": 3, "equipment_total": 10, "equipment_digitised": 35},
        {"equipment_digitised": "D"},  # no raw numbers: the answer as given
    ]
    rows = [{"equipment_networked_count": 0, "equipment_total": 10} | r for r in rows]
    rows[2] = {"equipment_networked": "A", "equipment_digitised": "D"}
    result = model.score_batch(_rows(raw_miit, rows))
    assert result.rejects.empty, result.rejects.to_dict("records")
    derived = result.scores["derived_equipment_digitised"].tolist()
    assert derived[:2] == [30.0, 30.0] and np.isnan(derived[2])


def test_a_whole_alone_derives_nothing_and_the_missing_policy_applies(raw_miit, model):
    # the networked count is given with the shared total; the digitised count is not, so the
    # digitisation rate is missing and, under MIIT's policy, imputed as the lowest answer
    rows = [{"equipment_total": 10, "equipment_networked_count": 10}]
    result = model.score_batch(_rows(raw_miit, rows))
    assert result.rejects.empty
    assert result.imputed == {"equipment_digitised": 1}
    # without its part's column the file has no derivation of the item to show
    assert "derived_equipment_digitised" not in result.scores
    assert result.scores["derived_equipment_networked"][0] == 100.0


def test_the_cli_writes_the_derivation_and_reconciles(raw_miit, tmp_path, capsys):
    source = tmp_path / "miit-raw.yaml"
    source.write_text(_derive_text(DERIVE), encoding="utf-8")
    rows = [
        {"equipment_digitised_count": 3, "equipment_total": 10, "equipment_networked_count": 10},
        {"equipment_digitised_count": 11, "equipment_total": 10, "equipment_networked_count": 1},
    ]
    answers = tmp_path / "answers.csv"
    _rows(raw_miit, rows).to_csv(answers, index=False)
    out, rejects = tmp_path / "scores.csv", tmp_path / "rejects.csv"
    code = main(
        [
            "score",
            str(answers),
            "--instrument",
            str(source),
            "-o",
            str(out),
            "--rejects",
            str(rejects),
        ]
    )
    assert code == 0
    scores = pd.read_csv(out)
    assert scores["derived_equipment_digitised"].tolist() == [30.0]
    assert scores["derived_equipment_networked"].tolist() == [100.0]
    bad = pd.read_csv(rejects)
    assert bad[["row", "column"]].values.tolist() == [[3, "equipment_digitised_count"]]
    assert "read 2 rows: 1 scored, 1 rejected" in capsys.readouterr().out


def test_a_derive_block_is_checked_when_the_file_is_loaded():
    with pytest.raises(dmi.InstrumentError, match="derive needs bands"):
        _with_derive({"investment": DERIVE["investment"]}, drop_bands=True)
    with pytest.raises(dmi.InstrumentError, match="already used by"):
        _with_derive({"investment": DERIVE["investment"] | {"whole": "employees"}})
    with pytest.raises(dmi.InstrumentError, match="does not apply to a 'single' item"):
        _with_derive({"it_coverage": DERIVE["investment"]})

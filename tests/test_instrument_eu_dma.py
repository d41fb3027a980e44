"""The EU Digital Maturity Assessment for SMEs (eu-dma-sme): its published scoring on rows
worked by hand (each question's 0-10 scaling, dimension = mean of its questions x 10, overall
= plain mean of the six), every band edge under its convention (Basic <= 25 ...), the
uncertain rules as settings of the file, and T0/T1 kept as the store keeps MIIT's."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

import dmi
from dmi.instruments import load_instrument, parse_instrument, shipped_path
from dmi.instruments.export import codebook
from dmi.io import read_answers
from dmi.scoring.levels import assign_levels, explain_level
from dmi.service.reference import shipped_reference
from dmi.service.store import Store

DMA = "eu-dma-sme"
D1_AREAS = [
    "product_design",
    "project_planning",
    "operations",
    "inbound_logistics",
    "marketing_sales",
    "delivery",
    "admin_hr",
    "purchasing",
    "security_compliance",
    "finance",
]
ADVANCED = ["adv_sim", "adv_vr", "adv_cad", "adv_mes", "adv_iot", "adv_blockchain", "adv_am"]
AI = ["ai_nlp", "ai_vision", "ai_audio", "ai_robots", "ai_decision"]
PRACTICES = [
    "green_certified",
    "green_priority",
    "green_tracking",
    "green_suppliers",
    "green_reporting",
]


def _ticks(n: int, none: str = "none") -> str:
    """The first ``n`` options of a checklist (a, b, c ...), or its exclusive option."""
    return ";".join("abcdefghij"[:n]) if n else none


def row(
    *,
    areas=("none",) * 10,
    ready=0,
    basic=0,
    advanced=(0,) * 7,
    upskilling=0,
    engage=0,
    data=0,
    security=0,
    ai=(0,) * 5,
    green=0,
    practices=("no",) * 5,
    rid="r1",
) -> dict:
    answers = {"respondent_id": rid}
    answers |= {f"d1_{a}": v for a, v in zip(D1_AREAS, areas)}
    answers |= {
        "d1_ready": _ticks(ready),
        "d2_basic_tech": _ticks(basic),
        "d3_upskilling": _ticks(upskilling),
        "d3_engage": _ticks(engage),
        "d4_data": _ticks(data, "not_digital"),
        "d4_secure": _ticks(security),
        "d6_green_tech": _ticks(green),
    }
    answers |= dict(zip(ADVANCED, advanced)) | dict(zip(AI, ai)) | dict(zip(PRACTICES, practices))
    return answers


@pytest.fixture(scope="module")
def dma() -> dmi.Instrument:
    return load_instrument(DMA)


@pytest.fixture(scope="module")
def model(dma) -> dmi.IndexModel:
    return dmi.IndexModel(dma).fit()


def _score(model, *rows) -> pd.DataFrame:
    result = model.score_batch(pd.DataFrame(list(rows)))
    assert result.rejects.empty, result.rejects.to_dict("records")
    return result.scores


def test_a_row_worked_by_hand(model):
    # D1: rows 4 done (1), 2 planned (0.5), 4 none -> 5/10; readiness 3/10 -> (0.5 + 0.3)/2
    # D2: basic 5/10; advanced one row at 5 -> 5/35;  D3: 7/7 and 0/8;  D4: not digital (0)
    # and security 3/6;  D5: every row at 5;  D6: 2/10 and yes, partly, no x3 = 1.5/5
    answers = row(
        areas=("done",) * 4 + ("planned",) * 2 + ("none",) * 4,
        ready=3,
        basic=5,
        advanced=(5, 0, 0, 0, 0, 0, 0),
        upskilling=7,
        engage=0,
        data=0,
        security=3,
        ai=(5,) * 5,
        green=2,
        practices=("yes", "partly", "no", "no", "no"),
    )
    dims = {
        "strategy": (0.5 + 0.3) / 2 * 100,
        "readiness": (0.5 + 5 / 35) / 2 * 100,
        "human": (1 + 0) / 2 * 100,
        "data": (0 + 0.5) / 2 * 100,
        "automation": 100.0,
        "green": (0.2 + 0.3) / 2 * 100,
    }
    scores = _score(model, answers).iloc[0]
    for code, value in dims.items():
        assert scores[f"dim_{code}"] == pytest.approx(value, abs=1e-9), code
    overall = sum(dims.values()) / 6  # 45.357...
    assert scores["dmi"] == pytest.approx(overall, abs=1e-9)
    assert scores["level"] == 2  # Average: above 25, at most 50


def test_overall_is_the_plain_mean_of_the_six_dimensions(dma, model):
    population = read_answers(shipped_path("reference", f"{DMA}.csv"), dma)
    scores = model.score_batch(population).scores
    assert len(scores) > 900
    dims = scores[[f"dim_{d.code}" for d in dma.dimensions]]
    assert len(dims.columns) == 6
    np.testing.assert_allclose(scores["dmi"], dims.mean(axis=1), atol=1e-8)


# Rows built so that the overall score lands exactly on a band edge (each dimension worked
# out: strategy = (rows + readiness)/2, automation = 4 x the sum of its five ratings, green =
# 5 x (ticks + tenths of the practices) ...), and just above it.
AT_25 = row(ready=5, basic=5, engage=4, security=3, ai=(1, 1, 1, 1, 1), green=2)
AT_25 |= dict(zip(PRACTICES, ("yes", "yes", "no", "no", "no")))  # 25 25 25 25 20 30
ABOVE_25 = AT_25 | {"green_tracking": "partly"}  # green 35: overall 25.83
AT_50 = row(
    areas=("planned",) * 10,
    ready=5,
    basic=10,
    upskilling=7,
    data=7,
    ai=(1, 1, 1, 1, 1),
    green=8,
    practices=("yes",) * 4 + ("no",),
)  # 50 50 50 50 20 80
ABOVE_50 = AT_50 | {"green_reporting": "partly"}  # green 85
AT_75 = row(
    areas=("done",) * 10,
    ready=5,
    basic=10,
    advanced=(5, 5, 5, 5, 5, 5, 5),  # readiness 100
    upskilling=7,
    engage=4,  # human 75
    data=7,
    security=3,  # data 75
    ai=(3, 3, 3, 3, 3),  # automation 60
    green=8,
    practices=("yes", "yes", "yes", "yes", "partly"),  # green 85
)  # 75 100 75 75 60 85 = 470: need 450 -> readiness back to 80
AT_75 |= dict(zip(ADVANCED, (3, 3, 3, 3, 3, 3, 3)))  # advanced 21/35 = 0.6: readiness 80
ABOVE_75 = AT_75 | {"adv_am": 4}


@pytest.mark.parametrize(
    "answers, expected, level",
    [
        (AT_25, 25.0, 1),
        (ABOVE_25, 155 / 6, 2),
        (AT_50, 50.0, 2),
        (ABOVE_50, 305 / 6, 3),
        (AT_75, 75.0, 3),
        (ABOVE_75, 75 + (100 / 70) / 6, 4),
    ],
)
def test_every_band_edge_belongs_to_the_band_below_it(model, answers, expected, level):
    scores = _score(model, answers).iloc[0]
    assert scores["dmi"] == pytest.approx(expected, abs=1e-9)
    assert scores["level"] == level


def test_the_bands_by_value_under_each_edge_convention(dma):
    values = np.array([0, 12.5, 25, 25.000001, 50, 50.01, 75, 75.0001, 100])
    none = np.empty((len(values), 0))
    assert assign_levels(dma, values, none, []).tolist() == [1, 1, 1, 2, 2, 3, 3, 4, 4]
    # the convention is a setting: closed left puts each edge in the band above it
    data = yaml.safe_load(shipped_path(f"{DMA}.yaml").read_text(encoding="utf-8"))
    data["levels"]["closed"] = "left"
    left = parse_instrument(yaml.safe_dump(data, allow_unicode=True))
    assert assign_levels(left, values, none, []).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 4]


def test_the_level_explanation_follows_the_convention(dma):
    why = explain_level(dma, 25.0, np.empty(0), [])
    assert why.level == 1 and "Basic" in why.en
    why = explain_level(dma, 60.0, np.empty(0), [])
    assert (
        why.level == 3
        and "Moderately advanced" in why.en
        and "Advanced, which needs an index above 75" in why.en
    )


def test_the_uncertain_rules_are_settings_marked_in_the_notes(dma):
    notes = {n.topic: n for n in dma.notes}
    assert notes["D1 row scoring"].confidence == "U"
    assert notes["data not collected digitally"].confidence == "U"
    assert "DEFAULT CHOSEN" in notes["D1 row scoring"].text
    assert notes["bands"].confidence == "I"
    d1 = dma.item("d1_finance")
    assert [(o.value, o.points) for o in d1.options] == [
        ("none", 0),
        ("planned", 0.5),
        ("done", 1),
    ]
    not_digital = dma.item("d4_data").options[-1]
    assert (not_digital.value, not_digital.exclusive) == ("not_digital", True)


def test_not_collected_digitally_is_exclusive_by_default_and_counted_when_set_so(dma, model):
    mixed = row(data=0) | {"d4_data": "not_digital;a"}
    result = model.score_batch(pd.DataFrame([mixed]))
    assert result.rejects["column"].tolist() == ["d4_data"]
    assert "cannot be ticked together" in result.rejects["reason"][0]
    # the other reading: the option is one of 8 ticks (7 + it = 8/8)
    data = yaml.safe_load(shipped_path(f"{DMA}.yaml").read_text(encoding="utf-8"))
    for dim in data["dimensions"]:
        for ind in dim["indicators"]:
            for item in ind["items"]:
                if item["code"] == "d4_data":
                    item["options"][-1]["exclusive"] = False
    counted = parse_instrument(yaml.safe_dump(data, allow_unicode=True))
    other = dmi.IndexModel(counted).fit()
    only = row(data=0)  # not_digital alone: 1 of 8
    scores = _score(other, only).iloc[0]
    assert scores["dim_data"] == pytest.approx((1 / 8 + 0) / 2 * 100)


def test_every_question_scales_to_0_10_in_the_codebook(dma):
    book = codebook(dma)
    for item in dma.items:
        rows = book[book["column"] == item.code]
        top = dma.max_points(item)
        if item.type == "checklist":
            assert top == 10
            counted = rows[~rows["label_en"].str.contains("cannot be combined")]
            assert counted["points"].sum() == pytest.approx(10)
        else:
            assert rows["points"].max() == pytest.approx(top)


def test_t0_and_t1_are_kept_under_the_same_instrument_id(tmp_path, model):
    store = Store(f"sqlite:///{tmp_path / 'dmi.sqlite'}", retention_days=30)
    token = store.new_draft(DMA, "en")
    t0 = dmi.assess(model, row(rid="x"))
    t1 = dmi.assess(model, AT_50)
    store.add_reference(shipped_reference(DMA))
    version = store.list_references(DMA)[0].version
    store.publish(version)
    first = store.submit(token, row(rid="x"), version, t0.scores_row)
    second = store.submit(token, AT_50, version, t1.scores_row)
    history = store.submissions(token)
    assert [s.id for s in history] == [first.id, second.id]
    assert [s.level for s in history] == [1, 2]
    assert history[1].dmi == pytest.approx(50.0)
    assert {s.instrument_id for s in history} == {DMA}
    assert math.isclose(history[0].dmi, 0.0)

"""One company's assessment: the breakdown adds up to the index, and every part is consistent."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import dmi
from dmi.instruments import shipped_reference_population
from dmi.results.assess import assess
from dmi.results.peers import PeerBenchmark
from dmi.tiers import load_shipped_tier_model

from .conftest import mixed_answers


@pytest.fixture(scope="module")
def official(miit):
    return dmi.IndexModel(miit).fit()


def test_points_add_up_to_the_index(miit, official):
    result = assess(official, mixed_answers(miit))
    assert result.dmi == pytest.approx(40.675)
    assert result.level == 2 and result.level_label == {"zh": "二级", "en": "Level 2"}
    items = [n for n in result.nodes if n.level == "item"]
    assert math.fsum(n.points for n in items if n.weight > 0) == pytest.approx(40.675)
    # an item's share of the index times its score is its contribution in points
    assert math.fsum(n.weight * n.score for n in items) == pytest.approx(40.675)
    by_code = {n.code: n for n in result.nodes}
    assert by_code["it_coverage"].points == 5 and by_code["it_coverage"].max_points == 10
    assert by_code["foundation"].score == pytest.approx(31.1)
    assert "40.7" in result.level_explanation.en and "二级" in result.level_explanation.zh


def test_same_numbers_as_the_batch_path(miit, official):
    result = assess(official, {"sector": "C13", "size_class": "small", **mixed_answers(miit)})
    batch = official.score(
        pd.DataFrame(
            [{"respondent_id": "x", "sector": "C13", "size_class": "small", **mixed_answers(miit)}]
        )
    )
    assert result.dmi == batch["dmi"].iloc[0]
    assert result.dimensions["foundation"] == batch["dim_foundation"].iloc[0]


def test_with_tiers_and_peers(miit, official):
    reference = pd.read_csv(
        shipped_reference_population("miit-2024-manufacturing"),
        dtype=str,
        keep_default_na=False,
        na_values=[""],
    )
    scores = official.score_batch(reference).scores
    peers = PeerBenchmark(min_group_size=30).fit(scores)
    tiers = load_shipped_tier_model(miit)
    result = assess(
        official,
        {"sector": "C13", "size_class": "small", **mixed_answers(miit)},
        tier_model=tiers,
        peers=peers,
    )
    assert 1 <= result.tier.tier <= 4
    assert result.peers is not None and result.peers.size >= 30
    assert 0 <= result.peers.percentile["dmi"] <= 100


def test_invalid_answer_raises_with_the_rejects(miit, official):
    with pytest.raises(dmi.AnswerError) as info:
        assess(official, mixed_answers(miit) | {"strategy": "Z"})
    assert info.value.rejects["column"].tolist() == ["strategy"]

"""Why a company has its level, in both languages: whole sentences worked by hand from the
shipped instrument's bands (一级 20, 二级 40, 三级 60, 四级 80) and its scenario rule (off as
shipped; on here: 二级 needs 6 scenarios at level 2 or above, 3 of them mandatory; 三级 8 at 3,
5 mandatory; 四级 10 at 4, 6 mandatory)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from dmi.instruments import parse_instrument
from dmi.scoring import explain_level


@pytest.fixture(scope="module")
def ruled(miit):
    data = yaml.safe_load(open(miit.source, encoding="utf-8"))
    data["levels"]["scenario_rule"]["enabled"] = True
    return parse_instrument(yaml.safe_dump(data, allow_unicode=True))


def _scenarios(instrument, mandatory: int, other: int) -> tuple[np.ndarray, list[str]]:
    """The levels of the rule's scenarios: ``mandatory`` for the 10 mandatory ones, ``other``
    for the 6 others."""
    items = instrument.scenario_items(instrument.levels.scenario_rule.dimension)
    assert sum(i.mandatory for i in items) == 10 and len(items) == 16
    levels = np.array([mandatory if i.mandatory else other for i in items])
    return levels, [i.code for i in items]


@pytest.mark.parametrize(
    ("index", "zh", "en"),
    [
        (
            39.95,
            "指数 39.9 达到「一级」的分数线 20；距「二级」（40 分）还差 0.1 分。",
            "The index 39.9 reaches the Level 1 threshold of 20; 0.1 points short of Level 2 (40).",
        ),
        (
            100.0,
            "指数 100.0 达到「四级」的分数线 80。",
            "The index 100.0 reaches the Level 4 threshold of 80.",
        ),
        (
            0.0,
            "指数 0.0 达到「未达一级」的分数线 0；距「一级」（20 分）还差 20.0 分。",
            "The index 0.0 reaches the Below level 1 threshold of 0; 20.0 points short of "
            "Level 1 (20).",
        ),
    ],
)
def test_the_band_and_the_gap_to_the_next(miit, index, zh, en):
    why = explain_level(miit, index, np.empty(0), [])
    assert (why.zh, why.en) == (zh, en)


def test_a_requirement_not_met_lowers_the_level_and_says_the_counts(ruled):
    # >= 4: the 6 others and no mandatory one; >= 3: all 16, 10 mandatory
    levels, codes = _scenarios(ruled, mandatory=3, other=4)
    why = explain_level(ruled, 92.4, levels, codes)
    assert (why.level, why.score_level) == (3, 4)
    assert why.zh == (
        "指数 92.4 达到「四级」的分数线 80。"
        "「四级」还要求至少 10 个场景达到 4 级（其中约束性场景至少 6 个），"
        "目前为 6 个（约束性 0 个）。"
        "因此评定为「三级」。"
    )
    assert why.en == (
        "The index 92.4 reaches the Level 4 threshold of 80. "
        "Level 4 also requires at least 10 scenarios at level 4 or above (6 of them mandatory); "
        "you have 6 (0 mandatory). The level is therefore Level 3."
    )


def test_every_band_passed_over_is_named_highest_first(ruled):
    # everything at 2: none at 3 or 4, all 16 at 2 (10 mandatory) -> 二级
    levels, codes = _scenarios(ruled, mandatory=2, other=2)
    why = explain_level(ruled, 65.0, levels, codes)
    assert (why.level, why.score_level) == (2, 3)
    assert why.zh == (
        "指数 65.0 达到「三级」的分数线 60；距「四级」（80 分）还差 15.0 分。"
        "「三级」还要求至少 8 个场景达到 3 级（其中约束性场景至少 5 个），"
        "目前为 0 个（约束性 0 个）。"
        "因此评定为「二级」。"
    )
    why = explain_level(ruled, 85.0, levels, codes)
    assert why.en == (
        "The index 85.0 reaches the Level 4 threshold of 80. "
        "Level 4 also requires at least 10 scenarios at level 4 or above (6 of them mandatory); "
        "you have 0 (0 mandatory). "
        "Level 3 also requires at least 8 scenarios at level 3 or above (5 of them mandatory); "
        "you have 0 (0 mandatory). The level is therefore Level 2."
    )


def test_a_requirement_met_adds_nothing(ruled, miit):
    levels, codes = _scenarios(ruled, mandatory=4, other=4)
    assert explain_level(ruled, 92.4, levels, codes) == explain_level(miit, 92.4, levels, codes)

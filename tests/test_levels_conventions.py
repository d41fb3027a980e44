"""The levels' edge conventions (``closed``) and scales everywhere a level is read or written:
the many-schemes level rule of ``dmi compare``, the report's band legend and the explanation of a
level. Expected values are worked by hand from the shipped bands: MIIT left-closed on 0-100
(0, 20, 40, 60, 80), EU DMA right-closed on 0-100 (0, 25, 50, 75), Eurostat DII left-closed on a
score of 12 (0, 4, 7, 10)."""

from __future__ import annotations

import numpy as np
import pytest

from dmi.analysis.schemes import LevelRule
from dmi.instruments import load_instrument
from dmi.scoring import explain_level
from dmi.scoring.levels import assign_levels, band_ranges

# (index on 0-100, level by hand)
MIIT_CASES = [
    (0, 0),
    (19.99, 0),
    (20, 1),
    (39.9, 1),
    (40, 2),
    (60, 3),
    (79.99, 3),
    (80, 4),
    (100, 4),
]
DMA_CASES = [(0, 1), (25, 1), (25.01, 2), (50, 2), (50.01, 3), (75, 3), (75.01, 4), (100, 4)]
# a DII score s of 12 is the index s * 100 / 12
DII_CASES = [
    (s * 100 / 12, lvl)
    for s, lvl in [(0, 1), (3, 1), (4, 2), (6, 2), (7, 3), (9, 3), (10, 4), (12, 4)]
]


@pytest.fixture(scope="module")
def dma():
    return load_instrument("eu-dma-sme")


@pytest.fixture(scope="module")
def dii():
    return load_instrument("eurostat-dii-2023")


def _cases(request, name):
    instrument = request.getfixturevalue(name)
    cases = {"miit": MIIT_CASES, "dma": DMA_CASES, "dii": DII_CASES}[name]
    index = np.array([c[0] for c in cases], dtype=float)
    return instrument, index, np.array([c[1] for c in cases])


@pytest.mark.parametrize("name", ["miit", "dma", "dii"])
def test_the_many_schemes_rule_gives_the_instruments_levels_at_every_edge(request, name):
    instrument, index, expected = _cases(request, name)
    n = len(index)
    none = np.empty((n, 0), dtype=int)
    assert assign_levels(instrument, index, none, []).tolist() == expected.tolist()
    rule = LevelRule(instrument, none, [])
    assert rule.levels(index).tolist() == expected.tolist()
    # a matrix of runs: each column read by the same rule; NaN has no level
    runs = np.column_stack([index, index[::-1], np.full(n, np.nan)])
    got = rule.levels(runs)
    assert got[:, 0].tolist() == expected.tolist()
    assert got[:, 1].tolist() == expected[::-1].tolist()
    assert got[:, 2].tolist() == [-1] * n


def test_the_many_schemes_rule_keeps_the_scenario_rule(miit):
    import yaml

    from dmi.instruments import parse_instrument

    data = yaml.safe_load(open(miit.source, encoding="utf-8"))
    data["levels"]["scenario_rule"]["enabled"] = True
    ruled = parse_instrument(yaml.safe_dump(data, allow_unicode=True))
    items = ruled.scenario_items(ruled.levels.scenario_rule.dimension)
    codes = [i.code for i in items]
    # all 16 scenarios at level 3 (10 mandatory): 二级 and 三级 hold, 四级 (10 at 4) does not
    scen = np.full((3, len(items)), 3)
    index = np.array([45.0, 85.0, 60.0])
    expected = assign_levels(ruled, index, scen, codes).tolist()
    assert expected == [2, 3, 3]
    assert LevelRule(ruled, scen, codes).levels(index).tolist() == expected


@pytest.mark.parametrize(
    ("name", "zh", "en"),
    [
        (
            "miit",
            [
                "未达一级 < 20",
                "一级 20 ≤ x < 40",
                "二级 40 ≤ x < 60",
                "三级 60 ≤ x < 80",
                "四级 ≥ 80",
            ],
            [
                "Below level 1 < 20",
                "Level 1 20 ≤ x < 40",
                "Level 2 40 ≤ x < 60",
                "Level 3 60 ≤ x < 80",
                "Level 4 ≥ 80",
            ],
        ),
        (
            "dma",
            ["基础 ≤ 25", "一般 25 < x ≤ 50", "较为先进 50 < x ≤ 75", "先进 > 75"],
            [
                "Basic ≤ 25",
                "Average 25 < x ≤ 50",
                "Moderately advanced 50 < x ≤ 75",
                "Advanced > 75",
            ],
        ),
        (
            "dii",
            [
                "很低 < 4（满分 12）",
                "低 4 ≤ x < 7（满分 12）",
                "高 7 ≤ x < 10（满分 12）",
                "很高 ≥ 10（满分 12）",
            ],
            [
                "Very low < 4 (of 12)",
                "Low 4 ≤ x < 7 (of 12)",
                "High 7 ≤ x < 10 (of 12)",
                "Very high ≥ 10 (of 12)",
            ],
        ),
    ],
)
def test_each_bands_range_is_worded_by_its_convention_and_scale(request, name, zh, en):
    instrument = request.getfixturevalue(name)
    assert band_ranges(instrument, "zh") == zh
    assert band_ranges(instrument, "en") == en


@pytest.mark.parametrize("name", ["miit", "dma", "dii"])
def test_the_reports_method_note_states_the_ranges(request, name):
    from dmi.report.content import _band_legend

    instrument = request.getfixturevalue(name)
    for lang, sep in (("zh", "；"), ("en", "; ")):
        assert _band_legend(instrument, lang) == sep.join(band_ranges(instrument, lang))


@pytest.mark.parametrize(
    ("index", "en", "zh"),
    [
        # exactly at 50: Average (25 < x <= 50), nothing is short; the next band needs more
        (
            50.0,
            "The index 50.0 is in the Average band (25 < x ≤ 50), at its upper edge; "
            "Moderately advanced needs an index above 50.",
            "指数 50.0 属于「一般」（25 < x ≤ 50），位于其上限；「较为先进」需要指数高于 50。",
        ),
        (
            25.0,
            "The index 25.0 is in the Basic band (≤ 25), at its upper edge; "
            "Average needs an index above 25.",
            "指数 25.0 属于「基础」（≤ 25），位于其上限；「一般」需要指数高于 25。",
        ),
        (
            40.0,
            "The index 40.0 is in the Average band (25 < x ≤ 50), 10.0 points below the edge "
            "of Moderately advanced, which needs an index above 50.",
            "指数 40.0 属于「一般」（25 < x ≤ 50），距「较为先进」的下限还差 10.0 分"
            "（需要指数高于 50）。",
        ),
        (
            75.01,
            "The index 75.1 is in the Advanced band (> 75).",
            "指数 75.1 属于「先进」（> 75）。",
        ),
    ],
)
def test_the_explanation_at_and_near_a_right_closed_edge(dma, index, en, zh):
    why = explain_level(dma, index, np.empty(0), [])
    assert (why.en, why.zh) == (en, zh)
    assert "0.0 points short" not in why.en


@pytest.mark.parametrize(
    ("score", "en"),
    [
        # 33.3 would be below the edge 33.33..., so the index is written 33.4 (format_index)
        (
            4,
            "The index 33.4 (4.0 of 12) reaches the Low threshold of 4 of 12; 3.0 points "
            "short of High (7 of 12).",
        ),
        (
            6,
            "The index 50.0 (6.0 of 12) reaches the Low threshold of 4 of 12; 1.0 points "
            "short of High (7 of 12).",
        ),
        (12, "The index 100.0 (12.0 of 12) reaches the Very high threshold of 10 of 12."),
    ],
)
def test_the_explanation_on_a_scale_of_12(dii, score, en):
    why = explain_level(dii, score * 100 / 12, np.empty(0), [])
    assert why.en == en
    if score == 4:
        assert (
            why.zh == "指数 33.4 (4.0/12) 达到「低」的分数线 4/12；距「高」（7/12 分）还差 3.0 分。"
        )

"""The official score stays official.

``level`` (一级…四级) always means the instrument's official level, from its own method; another
method's band is named as indicative; scores never depend on who else is in the file unless the
user asks; a displayed number never contradicts the level.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dmi
from dmi.instruments import shipped_path
from dmi.instruments.synth import synthesise
from dmi.scoring import assign_levels, explain_level, format_gap, format_index

from .conftest import mixed_answers

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

NON_OFFICIAL = [
    {"weighting": "equal"},
    {"weighting": "entropy"},
    {"weighting": "critic", "weight_level": "item"},
    {"weighting": "pca", "weight_level": "dimension"},
    {"weighting": "bod", "weight_level": "dimension"},
    {"weighting": "instrument", "normalisation": "minmax"},
    {"weighting": "instrument", "normalisation": "zscore"},
    {"weighting": "instrument", "aggregation": "geometric"},
    {"weighting": "instrument", "aggregation": "mazziotta-pareto"},
]


@pytest.fixture(scope="module")
def population(miit) -> pd.DataFrame:
    return synthesise(miit, 300, seed=7, missing_rate=0.02)


def _band(instrument: dmi.Instrument, values) -> np.ndarray:
    """The band of each value under the instrument's bands, computed apart from the library
    (the shipped instrument's scenario rule is off, so the band is the level rule)."""
    edges = [b.min for b in instrument.levels.bands]
    levels = [b.level for b in instrument.levels.bands]
    at = np.searchsorted(edges, np.round(np.asarray(values, dtype=float), 9), side="right") - 1
    return np.array([levels[i] for i in at])


@pytest.mark.parametrize(
    ("params", "official"),
    [
        ({}, True),
        ({"weight_level": "item"}, True),
        ({"weight_level": "dimension"}, True),
        ({"normalisation": "Goalposts"}, True),
        ({"weighting": "equal"}, False),
        ({"normalisation": "rank"}, False),
        ({"aggregation": "geometric"}, False),
        ({"weighting": "entropy"}, False),
    ],
)
def test_what_counts_as_the_official_method(miit, params, official):
    assert dmi.IndexModel(miit, **params).is_official is official


@pytest.mark.parametrize("level", ["item", "indicator", "dimension"])
def test_the_official_method_keeps_its_columns(miit, population, level):
    scores = dmi.IndexModel(miit, weight_level=level).fit().score_batch(population).scores
    dims = [f"dim_{d.code}" for d in miit.dimensions]
    assert list(scores.columns[: 3 + len(dims)]) == ["respondent_id", "dmi", "level", *dims]
    assert "indicative_level" not in scores and "official_dmi" not in scores


@pytest.mark.parametrize("params", NON_OFFICIAL, ids=lambda p: "-".join(p.values()))
def test_level_is_the_official_level_under_every_method(miit, population, params):
    model = dmi.IndexModel(miit, **params).fit(population)
    scores = model.score_batch(population).scores
    official = dmi.IndexModel(miit).fit().score_batch(population).scores
    dims = [f"dim_{d.code}" for d in miit.dimensions]
    # benefit of the doubt adds its uncapped index beside dmi
    uncapped = ["bod_uncapped"] if params["weighting"] == "bod" else []
    assert list(scores.columns[: 5 + len(uncapped) + len(dims)]) == [
        "respondent_id",
        "dmi",
        *uncapped,
        "indicative_level",
        "official_dmi",
        "level",
        *dims,
    ]
    assert scores["respondent_id"].tolist() == official["respondent_id"].tolist()
    # the official index and level of the same answers, bit for bit
    assert scores["official_dmi"].tolist() == official["dmi"].tolist()
    assert scores["level"].tolist() == official["level"].tolist()
    assert (scores["level"] == _band(miit, official["dmi"])).all()
    # the method's own index, banded by the instrument's bands, is only indicative
    assert (scores["indicative_level"] == _band(miit, scores["dmi"])).all()


def test_equal_weights_hand_worked_indicative_band(miit):
    """The mixed case: 40.675 official points (二级); equal dimension weights give the plain
    mean of its four dimension scores, worked out here from its points."""
    answers = pd.DataFrame([{"respondent_id": "m", **mixed_answers(miit)}])
    official = dmi.IndexModel(miit).fit().score(answers).iloc[0]
    model = dmi.IndexModel(miit, weighting="equal", weight_level="dimension").fit()
    row = model.score(answers).iloc[0]
    mean = np.mean([official[f"dim_{d.code}"] for d in miit.dimensions])
    assert row["dmi"] == pytest.approx(mean, abs=1e-9)
    assert row["official_dmi"] == 40.675 and row["level"] == 2
    assert row["indicative_level"] == _band(miit, [mean])[0]
    assert row["indicative_level"] != row["level"]  # the case where naming matters


def test_a_saved_model_keeps_the_official_columns(miit, population, tmp_path):
    model = dmi.IndexModel(miit, weighting="entropy").fit(population)
    model.save(tmp_path / "m.json")
    again = dmi.IndexModel.load(tmp_path / "m.json", miit)
    pd.testing.assert_frame_equal(
        again.score_batch(population).scores, model.score_batch(population).scores
    )
    assert again.method_id == model.method_id


def test_method_id_says_when_two_indices_can_be_compared(miit, population):
    official = dmi.IndexModel(miit).fit()
    assert official.method_id == dmi.IndexModel(miit, weight_level="item").fit().method_id
    entropy = dmi.IndexModel(miit, weighting="entropy").fit(population)
    other_fit = dmi.IndexModel(miit, weighting="entropy").fit(population.head(150))
    assert len({official.method_id, entropy.method_id, other_fit.method_id}) == 3
    again = dmi.IndexModel(miit, weighting="entropy").fit(population)
    assert again.method_id == entropy.method_id


# -- a displayed number never contradicts the level -------------------------------------------

EDGE_CASES = [
    (19.96, "19.9"),
    (39.95, "39.9"),
    (39.975, "39.9"),
    (39.999, "39.9"),
    (39.9999999, "39.9"),
    (59.95, "59.9"),
    (79.96, "79.9"),
    (79.975, "79.9"),
    (40.0, "40.0"),
    (59.99999999999999, "60.0"),  # a total of exactly 60 reached through float sums: 三级
    (60.04, "60.0"),
    (47.125, "47.1"),  # away from an edge: rounded as before
    (40.675, "40.7"),
    (0.0, "0.0"),
    (100.0, "100.0"),
]


def _level(instrument: dmi.Instrument, value: float) -> int:
    return int(assign_levels(instrument, np.array([value]), np.empty((1, 0)), [])[0])


@pytest.mark.parametrize(("value", "shown"), EDGE_CASES)
def test_an_index_is_never_written_in_another_band(miit, value, shown):
    assert format_index(value, miit) == shown
    assert _level(miit, float(shown)) == _level(miit, value)


@given(st.floats(0, 100, allow_nan=False) | st.integers(0, 100_000).map(lambda n: n / 1000))
def test_any_index_is_written_in_its_own_band_within_a_tenth(value):
    miit = dmi.load_instrument("miit-2024-manufacturing")
    shown = format_index(value, miit)
    assert _level(miit, float(shown)) == _level(miit, value)
    assert abs(float(shown) - value) < 0.1 + 1e-9
    assert re.fullmatch(r"\d+\.\d", shown)


@pytest.mark.parametrize("edge", [20, 40, 60, 80])
@pytest.mark.parametrize("short", [1e-7, 0.001, 0.01, 0.04, 0.05, 0.06, 0.1, 0.14, 0.15, 2.0])
def test_a_gap_that_is_there_is_never_written_as_zero(miit, edge, short):
    value = edge - short
    gap = format_gap(edge - value)
    assert float(gap) > 0 and float(gap) >= round(edge - value, 9) - 1e-12
    # what is written adds up: the written index plus the written gap reaches the edge
    assert float(format_index(value, miit)) + float(gap) >= edge - 1e-9


@pytest.mark.parametrize(
    ("value", "index", "gap"),
    [
        (39.95, "39.9", "0.1"),
        (79.96, "79.9", "0.1"),
        (59.95, "59.9", "0.1"),
        (19.96, "19.9", "0.1"),
        (39.85, "39.9", "0.2"),
        (35.175, "35.2", "4.9"),
    ],
)
def test_the_level_explanation_writes_the_index_and_the_gap_consistently(miit, value, index, gap):
    why = explain_level(miit, value, np.empty(0), [])
    band = miit.level_band(_level(miit, value))
    following = miit.level_band(_level(miit, value) + 1)
    assert f"指数 {index} 达到「{band.zh}」" in why.zh
    assert f"距「{following.zh}」（{following.min:g} 分）还差 {gap} 分" in why.zh
    assert f"The index {index} reaches the {band.en}" in why.en
    assert f"{gap} points short of {following.en}" in why.en
    assert "0.0 分" not in why.zh and " 0.0 points" not in why.en


@pytest.fixture(scope="module")
def reference_answers(miit) -> pd.DataFrame:
    from dmi.io import read_answers
    from dmi.service.reference import shipped_reference_population

    return read_answers(shipped_reference_population(miit), miit)


def _company(population: pd.DataFrame, rid: str) -> dict[str, object]:
    row = population[population["respondent_id"] == rid].iloc[0]
    return {k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))}


@pytest.mark.parametrize(
    ("rid", "index", "level_zh", "gap"),
    [("SYN-0000870", "39.9", "一级", "0.1"), ("SYN-0002755", "59.9", "二级", "0.1")],
)
def test_the_report_writes_an_index_below_an_edge_in_its_band(
    miit, reference_answers, rid, index, level_zh, gap
):
    from dmi.report import render_html
    from dmi.results.assess import assess

    result = assess(dmi.IndexModel(miit).fit(), _company(reference_answers, rid))
    assert float(index) < result.dmi < float(index) + 0.1  # 39.95 and 59.95
    page = render_html(result, instrument=miit, lang="zh")
    assert f'<div class="value">{index}</div>' in page
    assert f'<div class="value">{level_zh}</div>' in page
    assert f"指数 {index} 达到" in page and f"还差 {gap} 分" in page
    shown = f"{float(index) + 0.1:.1f}"
    assert f'<div class="value">{shown}</div>' not in page and "还差 0.0 分" not in page


def test_dmi_report_prints_the_index_in_its_band(miit, tmp_path, capsys):
    from dmi.cli import main
    from dmi.service.reference import shipped_reference_population

    out = tmp_path / "r.html"
    args = ["report", str(shipped_reference_population(miit)), "-o", str(out), "--lang", "en"]
    code = main([*args, "--row", "SYN-0000870", "--reference", "none", "--tier-model", "none"])
    assert code == 0
    assert "index 39.9, Level 1" in capsys.readouterr().out
    assert "points short of Level 2" in out.read_text("utf-8")


def test_a_research_assessment_keeps_the_official_index_and_level(miit, population):
    """Equal dimension weights move the mixed case (40.675 points, 二级) into another band:
    everything that says level is still the official one, the band is named indicative."""
    from dmi.report import render_html
    from dmi.results.assess import assess

    answers = mixed_answers(miit)
    official = assess(dmi.IndexModel(miit).fit(), answers)
    model = dmi.IndexModel(miit, weighting="equal", weight_level="dimension").fit()
    research = assess(model, answers)
    assert official.official and official.indicative_level is None
    assert official.official_dmi == official.dmi == 40.675
    assert not research.official
    assert research.official_dmi == 40.675 and research.level == official.level == 2
    assert research.level_explanation == official.level_explanation
    assert research.indicative_level == _band(miit, [research.dmi])[0] != 2
    for imp in research.improvements:
        assert imp.new_indicative_level == _band(miit, [imp.new_dmi])[0]
        assert imp.new_level == _band(miit, [imp.new_official_dmi])[0]
    page = render_html(research, instrument=miit, lang="zh")
    cells = re.findall(
        r'<div class="label">(.*?)</div>\s*<div class="value[^"]*">(.*?)</div>', page
    )
    assert ("数字化发展指数（官方方法）", "40.7") in cells
    assert ("数字化水平等级", "二级") in cells
    assert ("研究方法指数", format_index(research.dmi, miit)) in cells
    band = miit.level_band(research.indicative_level).zh
    assert f"参考等级（非官方方法）：{band}" in page
    assert "改后研究方法指数（参考等级）" in page


def test_a_change_across_methods_is_not_shown_as_progress(miit):
    from dmi.locales import text
    from dmi.report import PreviousResult, render_html
    from dmi.results.assess import assess

    answers = mixed_answers(miit)
    now = assess(dmi.IndexModel(miit).fit(), answers)
    research = dmi.IndexModel(miit, weighting="equal", weight_level="dimension").fit()
    then = PreviousResult.from_assessment(assess(research, answers), "2024-11-02")
    assert then.method == research.method_id and not then.comparable(now)
    page = render_html(now, instrument=miit, lang="en", previous=then)
    cells = [c for c in re.findall(r"<td[^>]*>(.*?)</td>", page)]
    i = cells.index("Index")
    assert cells[i + 3] == "method changed"
    assert cells[cells.index("Level") + 3] == "method changed"
    assert text("report.method_changed_text", "en") in page
    assert not any(re.fullmatch(r"[+-]\d+(\.\d)?", c) for c in cells[i:])  # no delta at all
    # the same method (any official reference) is a change of the company
    same = PreviousResult(35.175, 1, submitted_at="2024-11-02", method=now.method)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", render_html(now, instrument=miit, previous=same))
    i = cells.index("数字化发展指数")
    assert cells[i : i + 4] == ["数字化发展指数", "35.2", "40.7", "+5.5"]


def test_a_scored_file_names_the_bands_the_same_way_in_every_format(miit, population, tmp_path):
    import pyarrow.parquet as pq

    from dmi.bulk.run import score_file

    src = tmp_path / "in.csv"
    population.to_csv(src, index=False)
    model = dmi.IndexModel(miit, weighting="entropy").fit(population)
    expected = model.score_batch(population).scores
    summary, _ = score_file(
        src, tmp_path / "out.parquet", model, cohort_path=tmp_path / "cohort.csv", chunk_rows=70
    )
    table = pq.read_table(tmp_path / "out.parquet")
    kinds = {f.name: str(f.type) for f in table.schema}
    assert table.column_names[:5] == [
        "respondent_id",
        "dmi",
        "indicative_level",
        "official_dmi",
        "level",
    ]
    assert kinds["indicative_level"] == kinds["level"] == "int64"
    assert kinds["official_dmi"] == kinds["dmi"] == "double"
    got = table.to_pandas()
    assert got["level"].tolist() == expected["level"].tolist()
    assert got["indicative_level"].tolist() == expected["indicative_level"].tolist()
    # the summary's levels are the official levels
    official = expected["level"].value_counts()
    assert summary.levels == {str(k): int(official[k]) for k in sorted(official.index)}
    cohort = pd.read_csv(tmp_path / "cohort.csv")
    assert {"official_dmi_mean", "dmi_mean"} <= set(cohort.columns)
    bands = cohort[cohort["by"] == "indicative_level"].set_index("group")["n"]
    counts = expected["indicative_level"].value_counts()
    assert {int(k): int(v) for k, v in bands.items()} == {int(k): int(v) for k, v in counts.items()}
    everyone = cohort[cohort["by"] == "all"].iloc[0]
    assert everyone["official_dmi_mean"] == pytest.approx(expected["official_dmi"].mean())


def test_the_dask_engine_writes_the_same_research_rows(miit, population, tmp_path):
    pytest.importorskip("distributed")
    from dmi.bulk.engines.dask import local_client
    from dmi.bulk.run import score_file

    src = tmp_path / "in.csv"
    lines = synthesise(miit, 300, seed=8, messy=True).to_csv(index=False).split("\n")
    # a blank line: a file whose reader rejects no line at all fails on the Dask engine today
    # (KeyError 'r_row', in the official method too), which is not this test's subject
    lines.insert(40, "")
    src.write_text("\n".join(lines), encoding="utf-8")
    model = dmi.IndexModel(miit, weighting="critic").fit(population)
    with local_client(n_workers=1, processes=False) as client:
        score_file(src, tmp_path / "dask.csv", model, chunk_rows=100, engine="dask", client=client)
    score_file(src, tmp_path / "local.csv", model, chunk_rows=100)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


# -- scores never depend on who else is in the file -------------------------------------------


@pytest.fixture(scope="module")
def files(miit, tmp_path_factory):
    """300 companies, and the first 150 of them alone."""
    folder = tmp_path_factory.mktemp("files")
    everyone = synthesise(miit, 300, seed=3, missing_rate=0.05)
    everyone.to_csv(folder / "all.csv", index=False)
    everyone.head(150).to_csv(folder / "half.csv", index=False)
    return folder


def _score(capsys, *args) -> tuple[int, str]:
    from dmi.cli import main

    code = main(["score", *map(str, args)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "method",
    [
        ["--weights", "entropy"],
        ["--weights", "pca", "--level", "dimension"],
        ["--normalisation", "minmax"],
        ["--aggregation", "mazziotta-pareto"],
    ],
)
def test_a_company_scores_the_same_alone_or_among_others_by_default(capsys, files, method):
    code, err = _score(capsys, files / "half.csv", "-o", files / "half-out.csv", *method)
    assert code == 0
    assert "fitted on the instrument's shipped reference population" in err
    assert "3000 valid rows" in err
    code, _ = _score(capsys, files / "all.csv", "-o", files / "all-out.csv", *method, "-q")
    assert code == 0
    half = (files / "half-out.csv").read_bytes().splitlines()
    everyone = (files / "all-out.csv").read_bytes().splitlines()
    assert len(half) == 151 and half == everyone[:151]  # byte for byte, header included


def test_fitting_on_the_input_is_asked_for_and_said(capsys, files):
    method = ["--weights", "entropy", "--reference", "input"]
    code, err = _score(capsys, files / "half.csv", "-o", files / "h.csv", *method)
    assert code == 0
    assert "fitted on the input file itself" in err and "150 valid rows" in err
    assert "the scores depend on which companies are in the file" in err
    _score(capsys, files / "all.csv", "-o", files / "a.csv", *method)
    half = pd.read_csv(files / "h.csv")
    everyone = pd.read_csv(files / "a.csv").head(150)
    assert not np.allclose(half["dmi"], everyone["dmi"])  # what the default protects from
    # the official columns do not depend on the population whatever it is
    assert half["official_dmi"].tolist() == everyone["official_dmi"].tolist()
    assert half["level"].tolist() == everyone["level"].tolist()


def test_another_reference_file_is_used_as_given(capsys, files, miit):
    code, err = _score(
        capsys,
        files / "half.csv",
        "-o",
        files / "r.csv",
        "--weights",
        "critic",
        "--reference",
        files / "all.csv",
    )
    assert code == 0 and f"fitted on {files / 'all.csv'}, 300 valid rows" in err
    population = pd.read_csv(files / "all.csv")
    model = dmi.IndexModel(miit, weighting="critic").fit(population)
    expected = model.score(pd.read_csv(files / "half.csv"))
    assert pd.read_csv(files / "r.csv")["dmi"].to_numpy() == pytest.approx(
        expected["dmi"].to_numpy(), abs=1e-9
    )


def test_an_instrument_without_a_shipped_population_needs_a_reference(capsys, files, tmp_path):

    text = shipped_path("miit-2024-manufacturing.yaml").read_text("utf-8")
    own = tmp_path / "own.yaml"
    own.write_text(text.replace("id: miit-2024-manufacturing", "id: own-survey", 1), "utf-8")
    args = [files / "half.csv", "-o", tmp_path / "o.csv", "--instrument", own]
    code, err = _score(capsys, *args, "--weights", "entropy")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(
        "dmi: error: no reference population is shipped for instrument 'own-survey'"
    )
    assert "--reference FILE" in err
    # the official method learns nothing from data: no reference needed
    assert _score(capsys, *args, "-q")[0] == 0


# -- a research reference is never the companies' default -------------------------------------


def test_what_a_new_reference_changes_is_said_apart_for_research_and_official(
    miit, reference_answers
):
    from dmi.service.reference import compare_references, fit_reference, shipped_reference

    sample = reference_answers.head(400)
    shipped = shipped_reference(miit)
    research = fit_reference(miit, sample, weighting="entropy", n_bootstrap=0, source="t")
    refit = fit_reference(miit, sample, n_tiers=3, n_bootstrap=0, source="t")
    assert shipped.is_official and refit.is_official and not research.is_official
    assert research.summary()["use"] == "research only"
    assert research.summary()["method"]["official"] is False
    assert refit.summary()["use"] == "companies (official method)"

    official = dmi.IndexModel(miit).fit().score_batch(sample).scores
    entropy = research.index_model.score_batch(sample).scores
    change = compare_references(shipped, research, sample)
    assert not change.same_index and not change.official
    assert change.level_changed == 0  # the level is the official one under both
    assert change.band_changed == int((official["level"] != entropy["indicative_level"]).sum()) > 0
    assert change.max_abs_index_change == pytest.approx(
        (entropy["dmi"] - official["dmi"]).abs().max()
    )
    # an official refit changes tiers and peers, never the index
    change = compare_references(shipped, refit, sample)
    assert change.same_index and change.official
    assert change.max_abs_index_change == 0 and change.level_changed == change.band_changed == 0
    assert change.tier_changed is not None

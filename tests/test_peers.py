"""Peer percentiles against scipy, and the minimum group size."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import dmi
from dmi.results.peers import PeerBenchmark


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    n = 600
    frame = pd.DataFrame(
        {
            "dmi": rng.integers(0, 101, n).astype(float),
            "dim_a": rng.uniform(0, 100, n).round(1),
            "sector": rng.choice(["C13", "C14", "C99"], n, p=[0.6, 0.38, 0.02]),
            "size_class": rng.choice(["small", "medium"], n),
        }
    )
    return frame


def test_percentile_within_the_group_matches_scipy(scores):
    bench = PeerBenchmark(min_group_size=30).fit(scores)
    row = {"dmi": 57.0, "dim_a": 33.3, "sector": "C13", "size_class": "small"}
    pos = bench.position(row)
    group = scores[(scores.sector == "C13") & (scores.size_class == "small")]
    assert pos.group == {"sector": "C13", "size_class": "small"}
    assert pos.size == len(group)
    assert pos.percentile["dmi"] == pytest.approx(
        stats.percentileofscore(group["dmi"], 57.0, kind="mean")
    )
    assert pos.percentile["dim_a"] == pytest.approx(
        stats.percentileofscore(group["dim_a"], 33.3, kind="mean")
    )
    assert pos.median["dmi"] == pytest.approx(group["dmi"].median())


def test_small_groups_fall_back_to_broader_ones(scores):
    bench = PeerBenchmark(min_group_size=30).fit(scores)
    assert (scores.sector == "C99").sum() < 30
    pos = bench.position({"dmi": 50.0, "dim_a": 50.0, "sector": "C99", "size_class": "medium"})
    assert pos.group == {"size_class": "medium"}  # C99 is too small at both levels
    assert pos.size == (scores.size_class == "medium").sum()
    alone = PeerBenchmark(levels=[("sector",)], min_group_size=30).fit(scores)
    assert alone.position({"dmi": 50.0, "sector": "C99"}) is None  # hidden, never shown


def test_json_round_trip(scores, tmp_path):
    bench = PeerBenchmark().fit(scores)
    bench.save(tmp_path / "peers.json")
    again = PeerBenchmark.load(tmp_path / "peers.json")
    row = {"dmi": 12.0, "dim_a": 80.0, "sector": "C14", "size_class": "medium"}
    assert again.position(row) == bench.position(row)


def test_missing_columns_are_named(scores):
    with pytest.raises(ValueError, match="region"):
        PeerBenchmark(levels=[("region",), ()]).fit(scores)


# -- the benchmark file ------------------------------------------------------------------------

GONE = object()


def _edited(data: dict, change: tuple) -> dict:
    """A copy of the JSON with one change: (keys..., value); GONE deletes the last key."""
    copy = json.loads(json.dumps(data))
    *keys, value = change
    target = copy
    for key in keys[:-1]:
        target = target[key]
    if value is GONE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return copy


def test_the_file_records_the_dmi_version_and_files_without_it_still_load(scores, tmp_path):
    bench = PeerBenchmark(min_group_size=30).fit(scores)
    data = bench.to_dict()
    assert data["dmi_version"] == dmi.__version__
    before = {key: value for key, value in data.items() if key != "dmi_version"}
    (tmp_path / "old.json").write_text(json.dumps(before), encoding="utf-8")
    again = PeerBenchmark.load(tmp_path / "old.json")
    row = {"dmi": 40.0, "dim_a": 10.0, "sector": "C13", "size_class": "small"}
    assert again.position(row) == bench.position(row)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (("groups", GONE), "groups", "missing"),
        (("n", "600"), "n", "valid integer, got the text '600'"),
        (("levels", 0, 0, 5), "levels[0][0]", "valid string, got the number 5"),
        (
            ("groups", "*", "distribution", "dmi", "median", "mid"),
            "groups.*.distribution.dmi.median",
            "valid number",
        ),
        (("groups", "*", "distribution", "dim_a", GONE), "groups.*.distribution.dim_a", "missing"),
        (
            ("groups", "*", "distribution", "dmi", "counts", [1]),
            "groups.*.distribution.dmi",
            "values but 1 counts",
        ),
        (("format", "dmi-peer-benchmark/2"), "format", "unknown format 'dmi-peer-benchmark/2'"),
        (("min_group_size", 0), "min_group_size", "expected a whole number >= 1"),
    ],
)
def test_a_broken_benchmark_file_names_the_file_and_the_field(
    scores, tmp_path, change, field, problem
):
    data = PeerBenchmark(min_group_size=30).fit(scores).to_dict()
    path = tmp_path / "peers.json"
    path.write_text(json.dumps(_edited(data, change)), encoding="utf-8")
    with pytest.raises(dmi.ModelFileError) as caught:
        PeerBenchmark.load(path)
    assert (caught.value.source, caught.value.field) == (f"peer benchmark file {path}", field)
    assert problem in caught.value.problem


def test_a_truncated_benchmark_file_and_unfitted_use(scores, tmp_path):
    path = tmp_path / "peers.json"
    PeerBenchmark().fit(scores).save(path)
    path.write_text(path.read_text(encoding="utf-8")[:100], encoding="utf-8")
    with pytest.raises(dmi.ModelFileError, match="peer benchmark file .*: not valid JSON"):
        PeerBenchmark.load(path)
    with pytest.raises(dmi.NotFittedError, match="call fit"):
        PeerBenchmark().position({"dmi": 1.0})


# -- ties: equal scores reached through different floating-point sums ---------------------------

# 44.6 points written down, and 44.6 points added up (35 + 9.6 as shares of 100)
WRITTEN, ADDED = 44.6, (0.35 + 0.096) * 100


def test_the_two_paths_really_differ_in_the_last_bit():
    assert WRITTEN != ADDED and abs(WRITTEN - ADDED) < 1e-13


def test_equal_points_are_ties_in_a_peer_group():
    bench = PeerBenchmark(levels=[()], min_group_size=1).fit(
        pd.DataFrame({"dmi": [WRITTEN, ADDED]})
    )
    for value in (WRITTEN, ADDED):
        assert bench.position({"dmi": value}).percentile["dmi"] == 50.0


def test_peer_percentiles_of_distinct_values_are_half_counted_by_hand():
    # two companies 0.0000005 points apart are not tied: 25 and 75 (ties half: 0.5 / 2, 1.5 / 2),
    # whichever side of a rounding edge they fall
    for low, high in ((44.6, 44.6000005), (44.5999995, 44.6), (12.0000004, 12.0000015)):
        bench = PeerBenchmark(levels=[()], min_group_size=1).fit(pd.DataFrame({"dmi": [low, high]}))
        assert bench.position({"dmi": low}).percentile["dmi"] == 25.0
        assert bench.position({"dmi": high}).percentile["dmi"] == 75.0
        assert bench.position({"dmi": (low + high) / 2}).percentile["dmi"] == 50.0


def test_percentile_normalisation_counts_equal_scores_as_ties():
    from dmi.scoring.normalise import Normaliser

    reference = np.array([[WRITTEN / 100], [ADDED / 100]])
    normaliser = Normaliser("percentile").fit(reference)
    np.testing.assert_array_equal(normaliser.transform(reference), [[0.5], [0.5]])
    again = Normaliser.from_dict(normaliser.to_dict())
    np.testing.assert_array_equal(again.transform(reference[::-1]), [[0.5], [0.5]])


def test_rank_comparison_counts_equal_scores_as_ties():
    from dmi.analysis.compare import compare_rankings

    a = pd.DataFrame({"respondent_id": ["x", "y", "z"], "dmi": [WRITTEN, ADDED, 50.0], "level": 2})
    b = pd.DataFrame({"respondent_id": ["x", "y", "z"], "dmi": [ADDED, WRITTEN, 50.0], "level": 2})
    movers = compare_rankings(a, b).movers.set_index("respondent_id")
    assert movers.loc["x", "rank_a"] == movers.loc["y", "rank_a"] == 2.5
    assert (movers["rank_change"] == 0).all()
    assert compare_rankings(a, b).spearman == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_and_ranks_ignore_float_noise_and_match_scipy(seed):
    from dmi.scoring.ranks import RANK_DECIMALS, average_ranks, distribution, share_below

    assert RANK_DECIMALS == 9
    rng = np.random.default_rng(seed)
    exact = rng.integers(0, 400, 300) / 8.0  # many ties, exact in binary
    noisy = exact * (1 + rng.choice([-1, 0, 1], 300) * 2.0**-50)  # the same points, other bits
    assert (noisy != exact).any()
    values, counts = distribution(noisy)
    probe = np.concatenate([exact[:50], noisy[:50], [-1.0, 60.0, np.nan]])
    got = share_below(values, counts, probe)
    expected = [
        np.nan
        if np.isnan(x)
        else stats.percentileofscore(exact, round(x * 8) / 8, kind="mean") / 100
        for x in probe
    ]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(average_ranks(noisy), stats.rankdata(exact))
    np.testing.assert_array_equal(average_ranks(noisy, ascending=False), stats.rankdata(-exact))
    bench = PeerBenchmark(levels=[()], min_group_size=1).fit(pd.DataFrame({"dmi": noisy}))
    for x in exact[:20]:
        assert bench.position({"dmi": x}).percentile["dmi"] == pytest.approx(
            stats.percentileofscore(exact, x, kind="mean"), abs=1e-12
        )

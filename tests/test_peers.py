"""Peer percentiles against scipy, and the minimum group size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

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

"""The Eurostat Digital Intensity Index (eurostat-dii-<year>): 12 yes/no indicators, a score of
0-12, levels very low 0-3 / low 4-6 / high 7-9 / very high 10-12 and the "basic" flag (>= 4),
checked at every edge through the CLI and the API; the year is part of the id and the file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import dmi
from dmi.cli.main import main
from dmi.instruments import available_instruments, load_instrument, parse_instrument, shipped_path
from dmi.scoring.levels import assign_flags, assign_levels

DII = "eurostat-dii-2023"


@pytest.fixture(scope="module")
def dii() -> dmi.Instrument:
    return load_instrument(DII)


def _row(yes: int, rid: str = "r") -> dict:
    """A company answering yes to the first ``yes`` indicators and no to the others."""
    return {"respondent_id": rid} | {
        item.code: "yes" if k < yes else "no" for k, item in enumerate(load_instrument(DII).items)
    }


def test_the_year_is_part_of_the_id_and_the_file(dii):
    assert DII in available_instruments()
    assert shipped_path(f"{DII}.yaml").is_file() and dii.id == DII
    assert dii.version.startswith("2023")
    assert len(dii.items) == 12 and {i.type for i in dii.items} == {"yesno"}


# (yes answers, level, basic): every edge of the levels and of the flag, and the ends
EDGES = [
    (0, 1, False),
    (3, 1, False),
    (4, 2, True),
    (6, 2, True),
    (7, 3, True),
    (9, 3, True),
    (10, 4, True),
    (12, 4, True),
]


@pytest.mark.parametrize("yes, level, basic", EDGES)
def test_levels_and_basic_at_every_edge(dii, yes, level, basic):
    scores = dmi.IndexModel(dii).fit().score(pd.DataFrame([_row(yes)])).iloc[0]
    assert scores["score"] == yes
    assert scores["dmi"] == pytest.approx(100 * yes / 12, abs=1e-9)
    assert scores["level"] == level
    assert bool(scores["basic"]) is basic


def test_every_score_through_the_cli(dii, tmp_path, capsys):
    answers = tmp_path / "dii.csv"
    pd.DataFrame([_row(k, f"c{k:02d}") for k in range(13)]).to_csv(answers, index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", str(answers), "--instrument", DII, "-o", str(out)]) == 0
    scores = pd.read_csv(out)
    assert scores.columns.tolist()[:5] == ["respondent_id", "dmi", "level", "score", "basic"]
    assert scores["score"].tolist() == list(range(13))
    assert scores["level"].tolist() == [1] * 4 + [2] * 3 + [3] * 3 + [4] * 3
    assert scores["basic"].tolist() == [False] * 4 + [True] * 9


def test_the_flag_and_levels_read_the_index_on_the_score_scale(dii):
    # the index of 4 of 12 points, however the sum rounds, is on the edge written as 4
    index = np.array([100 * 4 / 12, 4 / 12 * 100, 33.333333333, 33.33333332, np.nan])
    assert assign_levels(dii, index, np.empty((5, 0)), []).tolist() == [2, 2, 2, 1, -1]
    assert assign_flags(dii, index)["basic"].tolist() == [True, True, True, False, False]


def test_another_year_is_another_file_with_its_own_edges(tmp_path):
    data = yaml.safe_load(shipped_path(f"{DII}.yaml").read_text(encoding="utf-8"))
    data["id"] = "eurostat-dii-2099"
    data["levels"]["flags"][0]["min"] = 5  # a setting, not a constant
    other = parse_instrument(yaml.safe_dump(data, allow_unicode=True))
    index = np.array([100 * 4 / 12, 100 * 5 / 12])
    assert assign_flags(other, index)["basic"].tolist() == [False, True]


def test_an_edge_above_the_scale_is_refused():
    data = yaml.safe_load(shipped_path(f"{DII}.yaml").read_text(encoding="utf-8"))
    data["levels"]["bands"][-1]["min"] = 13
    with pytest.raises(dmi.InstrumentError, match="edge 13 is above the levels' scale 12"):
        parse_instrument(yaml.safe_dump(data, allow_unicode=True))


def test_miit_keeps_its_columns_and_its_hash():
    miit = load_instrument("miit-2024-manufacturing")
    model = dmi.IndexModel(miit).fit()
    assert model.output_columns() == ["dmi", "level"]
    assert miit.levels.scale == 100 and miit.levels.closed == "left" and not miit.levels.flags
    assert "scale" not in miit.to_dict()["levels"]  # left out while at its default

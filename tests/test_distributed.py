"""The Dask engine gives the local engine's output exactly (a LocalCluster of 2 workers).

The cluster runs its workers as threads (``processes=False``): process workers take several
seconds each to start, which buys nothing for a test of equality.
"""

from __future__ import annotations

import pandas as pd
import pytest

import dmi
from dmi.pipeline import score_file
from dmi.synth import synthesise

pytest.importorskip("distributed")

MIIT = dmi.load_instrument("miit-2024-manufacturing")


@pytest.fixture(scope="module")
def client():
    from dmi.distributed import local_client

    with local_client(n_workers=2, processes=False) as c:
        yield c


def test_dask_and_local_engines_write_the_same_rows(tmp_path, client):
    frame = synthesise(MIIT, 400, seed=8, messy=True)
    frame.loc[5, "respondent_id"] = frame.loc[300, "respondent_id"]  # a cross-chunk duplicate
    path = tmp_path / "in.csv"
    text = frame.to_csv(index=False, lineterminator="\n").split("\n")
    text.insert(40, "")  # a blank line
    text.insert(90, "a,b")  # a ragged line
    text.append("合计" + "," * (len(frame.columns) - 1))
    path.write_text("\n".join(text), encoding="utf-8")
    model = dmi.IndexModel(MIIT).fit()
    outputs = {}
    for engine in ("local", "dask"):
        out, rej = tmp_path / f"{engine}.csv", tmp_path / f"{engine}-rejects.csv"
        summary, _ = score_file(
            path,
            out,
            model,
            rejects_path=rej,
            chunk_rows=60,
            engine=engine,
            client=client if engine == "dask" else None,
        )
        outputs[engine] = (
            summary,
            pd.read_csv(out, encoding="utf-8-sig", dtype=str),
            pd.read_csv(rej, encoding="utf-8-sig", dtype=str),
            out.read_bytes(),
        )
    local, dask = outputs["local"], outputs["dask"]
    assert local[0].read == dask[0].read == local[0].scored + local[0].rejected
    assert local[0].rejected_by_reason == dask[0].rejected_by_reason
    assert local[0].imputed == dask[0].imputed
    pd.testing.assert_frame_equal(local[1], dask[1], check_exact=True)
    pd.testing.assert_frame_equal(local[2], dask[2], check_exact=True)
    assert local[3] == dask[3]  # byte for byte

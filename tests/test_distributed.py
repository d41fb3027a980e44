"""The Dask engine gives the local engine's output exactly (a LocalCluster of 2 workers).

The cluster runs its workers as threads (``processes=False``): process workers take several
seconds each to start, which buys nothing for a test of equality.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import dmi
from dmi.bulk.run import score_file
from dmi.instruments.synth import synthesise

pytest.importorskip("distributed")

MIIT = dmi.load_instrument("miit-2024-manufacturing")
MODEL = dmi.IndexModel(MIIT).fit()


@pytest.fixture(scope="module")
def client():
    from dmi.bulk.engines.dask import local_client

    with local_client(n_workers=2, processes=False) as c:
        yield c


def _messy(path: Path) -> None:
    """Messy answers with a blank line, a ragged line, a cross-chunk duplicate and a totals row."""
    frame = synthesise(MIIT, 400, seed=8, messy=True)
    frame.loc[5, "respondent_id"] = frame.loc[300, "respondent_id"]  # a cross-chunk duplicate
    text = frame.to_csv(index=False, lineterminator="\n").split("\n")
    text.insert(40, "")  # a blank line
    text.insert(90, "a,b")  # a ragged line
    text.append("合计" + "," * (len(frame.columns) - 1))
    path.write_text("\n".join(text), encoding="utf-8")


def _clean(path: Path) -> None:
    """Valid answers only: no line of the file is rejected by the reader's checks."""
    synthesise(MIIT, 150, seed=3, missing_rate=0.0).to_csv(path, index=False)


def _all_rejected(path: Path) -> None:
    """Every row has an answer the instrument does not accept (no reader-made reject either)."""
    frame = synthesise(MIIT, 90, seed=5, missing_rate=0.0)
    frame[MIIT.items[0].code] = "not an option"
    frame.to_csv(path, index=False)


def _one_row(path: Path) -> None:
    synthesise(MIIT, 1, seed=9, missing_rate=0.0).to_csv(path, index=False)


def _repeated_with_bad_cells(path: Path) -> None:
    """An id repeated across chunks whose rows hold a bad cell each: every problem listed."""
    frame = synthesise(MIIT, 200, seed=6, missing_rate=0.0).astype(object)
    frame.loc[150, "respondent_id"] = frame.loc[10, "respondent_id"]
    frame.loc[150, MIIT.items[0].code] = "not an option"
    frame.loc[10, MIIT.items[1].code] = "nor this"
    frame.to_csv(path, index=False)


FILES = {
    "clean": _clean,
    "messy": _messy,
    "all rejected": _all_rejected,
    "one row": _one_row,
    "repeated, bad cells": _repeated_with_bad_cells,
}


def _run(path: Path, folder: Path, suffix: str, **kwargs) -> tuple:
    folder.mkdir()
    out, rej = folder / f"scores{suffix}", folder / f"rejects{suffix}"
    summary, _ = score_file(path, out, MODEL, rejects_path=rej, chunk_rows=60, **kwargs)
    text = summary.to_json().replace(str(folder), "FOLDER").replace('"dask"', '"local"')
    return summary, out.read_bytes(), rej.read_bytes(), text


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("name", list(FILES))
def test_dask_and_local_engines_write_the_same_bytes(tmp_path, client, name, suffix):
    path = tmp_path / "in.csv"
    FILES[name](path)
    local = _run(path, tmp_path / "local", suffix)
    dask = _run(path, tmp_path / "dask", suffix, engine="dask", client=client)
    summary = local[0]
    # no cell of these files holds a line break: every line after the header is one row read
    assert summary.read == len(path.read_text(encoding="utf-8").splitlines()) - 1
    assert summary.reconciles
    if name == "all rejected":
        assert summary.scored == 0 and summary.rejected == summary.read == 90
    if name == "one row":
        assert (summary.read, summary.scored) == (1, 1)
    if name == "clean":
        assert (summary.read, summary.scored, summary.rejected) == (150, 150, 0)
    if name == "repeated, bad cells":
        # each of the two rows: its repeated id, then its own cell (it hid behind the id)
        assert (summary.rejected, summary.problems) == (2, 4)
    assert dask[1] == local[1]  # the scores, byte for byte
    assert dask[2] == local[2]  # the rejects
    assert dask[3] == local[3]  # the summary, but for the engine's name


def test_dmi_score_on_dask_scores_a_file_the_reader_rejects_nothing_of(
    tmp_path, capsys, monkeypatch
):
    import dmi.bulk.engines.dask
    from dmi.cli import main

    # the command's own cluster, with thread workers (process workers take seconds to start)
    real = dmi.bulk.engines.dask.local_client
    monkeypatch.setattr(dmi.bulk.engines.dask, "local_client", lambda: real(processes=False))
    path = tmp_path / "clean.csv"
    _clean(path)
    out, expected = tmp_path / "dask.csv", tmp_path / "local.csv"
    assert main(["score", str(path), "-o", str(expected), "-q"]) == 0
    assert main(["score", str(path), "-o", str(out), "--engine", "dask", "-q"]) == 0
    assert "read 150 rows: 150 scored, 0 rejected" in capsys.readouterr().out
    assert out.read_bytes() == expected.read_bytes()


def _repeats_after_the_first_chunk(path: Path) -> None:
    """300 valid answers whose only repeated id is on rows 12 and 252 (two chunks of 60 apart)."""
    frame = synthesise(MIIT, 300, seed=4, missing_rate=0.0)
    frame.loc[250, "respondent_id"] = frame.loc[10, "respondent_id"]
    frame.to_csv(path, index=False)


@pytest.mark.parametrize(("suffix", "rounds"), [(".csv", 2), (".parquet", 1)])
def test_dask_finds_repeated_ids_the_way_the_run_chose(
    tmp_path, client, monkeypatch, suffix, rounds
):
    """A CSV output is read once (the chunks holding a repeated id are scored again, on the
    cluster too); another output takes the duplicate pass: the engine is called once."""
    from dmi.bulk.engines.dask import DaskEngine

    path = tmp_path / "in.csv"
    _repeats_after_the_first_chunk(path)
    calls = []
    real_score = DaskEngine.score

    def score(self, tasks):
        calls.append(1)
        return real_score(self, tasks)

    monkeypatch.setattr(DaskEngine, "score", score)
    local = _run(path, tmp_path / "local", suffix)
    assert calls == []
    dask = _run(path, tmp_path / "dask", suffix, engine="dask", client=client)
    assert len(calls) == rounds
    assert dask[1:] == local[1:]
    summary = local[0]
    assert (summary.read, summary.scored, summary.rejected) == (300, 298, 2)
    rejects = pd.read_csv(tmp_path / "dask" / "rejects.csv") if suffix == ".csv" else None
    if rejects is not None:
        assert rejects["row"].tolist() == [12, 252]
        assert rejects["reason"].tolist() == [
            "duplicate respondent_id (also on row 252)",
            "duplicate respondent_id (also on row 12)",
        ]


def test_both_engines_give_the_kernel_s_results_for_prepared_chunks(tmp_path, client):
    """The engine interface on chunks already through the row checks: the same results, in
    the order given, from threads and from the cluster."""
    from dmi.bulk.duplicates import find_duplicates
    from dmi.bulk.engines.dask import DaskEngine
    from dmi.bulk.engines.local import LocalEngine
    from dmi.bulk.kernel import prepare_chunk, score_chunk
    from dmi.io import map_columns, open_table

    path = tmp_path / "in.csv"
    _messy(path)
    reader = open_table(path, chunk_rows=60)
    mapping = map_columns(MIIT, reader.columns)
    index = find_duplicates(reader, mapping.id_header)
    prepared = [prepare_chunk(c, mapping, index, "reject", reader.columns) for c in reader.chunks()]
    expected = [score_chunk(p, MODEL) for p in prepared]
    assert len(expected) > 3 and any(len(r.rejects) for r in expected)
    for engine in (LocalEngine(MODEL, threads=3), DaskEngine(MODEL, client=client)):
        got = list(engine.score(prepared))
        engine.close()
        assert [r.n_read for r in got] == [r.n_read for r in expected]
        for mine, truth in zip(got, expected, strict=True):
            # text comes back from the cluster as object columns (written the same, see above)
            pd.testing.assert_frame_equal(
                mine.scores, truth.scores, check_dtype=False, check_exact=True
            )
            pd.testing.assert_frame_equal(
                mine.rejects, truth.rejects, check_dtype=False, check_exact=True
            )
            assert (mine.imputed, mine.excluded) == (truth.imputed, truth.excluded)


def test_rows_with_cells_the_reader_cannot_read_list_every_problem_in_either_engine(
    tmp_path, client
):
    # formulas without a value (openpyxl writes none) are cells the reader cannot read: each
    # rejects its row, whose other problems are listed too (a bad answer, a repeated id), and
    # none that only the unread cell's absence makes (a blank id)
    items = [item.code for item in MIIT.items]
    frame = synthesise(MIIT, 120, seed=4, missing_rate=0.0).astype(object)
    frame.loc[3, items[0]] = "=1+1"
    frame.loc[3, items[1]] = "nor this"
    frame.loc[70, "respondent_id"] = "=A1"
    frame.loc[100, items[2]] = "=B2"
    frame.loc[100, "respondent_id"] = frame.loc[20, "respondent_id"]
    path = tmp_path / "in.xlsx"
    frame.to_excel(path, index=False)
    local = _run(path, tmp_path / "local", ".csv")
    dask = _run(path, tmp_path / "dask", ".csv", engine="dask", client=client)
    assert local[1:] == dask[1:]
    rejects = pd.read_csv(tmp_path / "local" / "rejects.csv", dtype=str, keep_default_na=False)
    assert rejects[["row", "column"]].values.tolist() == [
        ["5", items[0]],
        ["5", items[1]],
        ["22", "respondent_id"],
        ["72", "respondent_id"],
        ["102", items[2]],
        ["102", "respondent_id"],
    ]
    assert "also on row 102" in rejects["reason"][2] and "also on row 22" in rejects["reason"][5]
    assert (local[0].read, local[0].scored, local[0].rejected) == (120, 116, 4)

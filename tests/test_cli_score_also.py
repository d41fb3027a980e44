"""``dmi score --also`` in the one scoring pass: the input is read once, the comparable measures
are computed by the chunk kernel on the rows it scored and written with the other columns, in
their number formatting, whatever the chunk size or the engine; the summary's ``also`` block
comes from the run. Hand-worked truths: the DII score is the count of the four mapped
indicators' yes; the EU DMA overall is the plain mean of its six dimensions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dmi
from dmi.bulk.run import score_file
from dmi.cli.main import main
from dmi.columns import REJECT_COLUMNS
from dmi.errors import UsageError
from dmi.instruments.crosswalk import find_crosswalk
from dmi.instruments.synth import synthesise
from dmi.io.readers import TableReader
from dmi.scoring.crosswalk import also_scores

from .test_crosswalk import DMA_DIMS, DMA_OVERALL, miit_row

MIIT = "miit-2024-manufacturing"
TARGETS = ("eu-dma-sme", "eurostat-dii-2023")
DMA, DII = "eu_dma_sme_", "eurostat_dii_2023_"
DMA_DIM_COLUMNS = [f"{DMA}dim_{d}" for d in DMA_DIMS]


def _fifty(path: Path) -> pd.DataFrame:
    """50 rows: blanks, two answers MIIT refuses, a repeated id, a blank line, a talent left
    blank (no EU DMA score: its human-centric dimension reads only that) and a row whose
    scenarios give a DII score of 4."""
    frame = synthesise(MIIT, 48, seed=11, missing_rate=0.05)
    frame.loc[3, "it_coverage"] = "Z"  # not an option: rejected
    frame.loc[20, "sc_finance"] = 7  # not a level: rejected
    frame.loc[30, "respondent_id"] = frame.loc[9, "respondent_id"]  # repeated id
    frame.loc[12, "talent"] = None
    frame.loc[40, ["sc_finance", "sc_marketing", "sc_decision_support"]] = [2, 3, 4]
    text = frame.to_csv(index=False, lineterminator="\n").split("\n")
    text.insert(25, "")  # a blank line: rejected by the reader's checks
    text.insert(26, ",".join([f"{frame.iloc[0, 0]}-late", *[""] * (len(frame.columns) - 1)]))
    path.write_text("\n".join(text), encoding="utf-8")
    return frame


def _score(path: Path, out: Path, *extra: str) -> int:
    argv = ["score", str(path), "-o", str(out), "-q"]
    for target in TARGETS:
        argv += ["--also", target]
    return main([*argv, *extra])


def _text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture
def fifty(tmp_path) -> Path:
    path = tmp_path / "fifty.csv"
    _fifty(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_input_is_read_once(tmp_path, monkeypatch, suffix):
    path = tmp_path / "answers.csv"
    synthesise(MIIT, 30, seed=5).to_csv(path, index=False)  # no repeated id: no chunk redone
    passes = []
    chunks = TableReader.chunks

    def counted(self, *args, **kwargs):
        if Path(self.path) == path:
            passes.append(kwargs.get("columns", args[0] if args else None))
        return chunks(self, *args, **kwargs)

    monkeypatch.setattr(TableReader, "chunks", counted)
    assert _score(path, tmp_path / f"out{suffix}", "--chunk-rows", "7") == 0
    # the scoring pass (and for an output that cannot be written again, the pass over the ids
    # that finds the repeated ones), no other
    assert sorted(passes, key=str) == ([None] if suffix == ".csv" else [None, ["respondent_id"]])


def test_the_other_columns_are_the_run_without_also_byte_for_byte(tmp_path, fifty):
    plain, also = tmp_path / "plain.csv", tmp_path / "also.csv"
    assert main(["score", str(fifty), "-o", str(plain), "-q", "--duplicates", "keep-first"]) == 0
    assert _score(fifty, also, "--duplicates", "keep-first") == 0
    plain_lines = plain.read_text(encoding="utf-8").splitlines()
    also_lines = also.read_text(encoding="utf-8").splitlines()
    assert len(also_lines) == len(plain_lines) == 1 + 50 - 4  # 2 refused, 1 repeat, 1 blank
    n_plain = len(_text(plain).columns)
    for before, after in zip(plain_lines, also_lines, strict=True):
        # no also cell holds a comma: the first n_plain fields are the other columns
        assert ",".join(after.split(",")[:n_plain]) == before


def test_the_also_numbers_are_written_as_the_other_score_columns(tmp_path, fifty):
    out = tmp_path / "also.csv"
    assert _score(fifty, out) == 0
    table = _text(out)
    floats = [f"{DMA}dmi", *DMA_DIM_COLUMNS, f"{DII}dmi", f"{DII}score", f"{DII}dim_intensity"]
    shortest = re.compile(r"^-?\d+(\.\d*[1-9])?$")  # 50, 37.81746, never 50.0
    for column in [*floats, "dmi", "dim_performance"]:
        written = [v for v in table[column] if v]
        assert written and all(shortest.match(v) for v in written), column
    for column in (f"{DMA}indicative_level", f"{DII}indicative_level", f"{DMA}unmapped"):
        assert all(re.match(r"^\d+$", v) for v in table[column] if v), column
    assert set(table[f"{DII}basic"]) <= {"true", "false"}  # as the DII's own basic column
    # text cells quoted as always (a second pass rewrote them unquoted)
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith('"')


def test_chunks_of_seven_rows_write_what_one_chunk_writes(tmp_path, fifty):
    one, seven = tmp_path / "one.csv", tmp_path / "seven.csv"
    rej_one, rej_seven = tmp_path / "one-rej.csv", tmp_path / "seven-rej.csv"
    sum_one, sum_seven = tmp_path / "one.json", tmp_path / "seven.json"
    assert _score(fifty, one, "--rejects", str(rej_one), "--summary", str(sum_one)) == 0
    assert (
        _score(
            fifty,
            seven,
            "--chunk-rows",
            "7",
            "--rejects",
            str(rej_seven),
            "--summary",
            str(sum_seven),
        )
        == 0
    )
    assert seven.read_bytes() == one.read_bytes()
    assert rej_seven.read_bytes() == rej_one.read_bytes()
    also_one = json.loads(sum_one.read_text(encoding="utf-8"))["also"]
    assert json.loads(sum_seven.read_text(encoding="utf-8"))["also"] == also_one


def test_the_summary_counts_the_rows_each_target_could_not_score(tmp_path, fifty):
    out, summary_path = tmp_path / "also.csv", tmp_path / "summary.json"
    assert _score(fifty, out, "--chunk-rows", "7", "--summary", str(summary_path)) == 0
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    scores = _text(out)
    assert summary["scored"] == len(scores) == 45 and summary["reconciles"]  # 2 repeats out
    dma = summary["also"]["eu-dma-sme"]
    blank = int((scores[f"{DMA}dmi"] == "").sum())
    assert blank >= 1  # the row without talent at least
    assert (dma["rows_with_score"], dma["rows_without_score"]) == (45 - blank, blank)
    assert dma["unmapped_items_are"] == "exclude" and "adv_sim" in dma["unmapped"]
    assert len(dma["mapped"]) == 23
    dii = summary["also"]["eurostat-dii-2023"]
    assert (dii["rows_with_score"], dii["rows_without_score"]) == (45, 0)
    assert dii["unmapped_items_are"] == "lowest" and len(dii["unmapped"]) == 8


def test_rejected_rows_have_no_also_columns_and_a_kept_repeat_has_them(tmp_path, fifty):
    frame = pd.read_csv(fifty, dtype=str, keep_default_na=False)
    out, rejects = tmp_path / "also.csv", tmp_path / "rejects.csv"
    assert _score(fifty, out, "--rejects", str(rejects), "--duplicates", "keep-first") == 0
    assert list(_text(rejects).columns) == REJECT_COLUMNS
    scores = _text(out)
    refused = {frame.loc[3, "respondent_id"], frame.loc[20, "respondent_id"]}
    assert refused.isdisjoint(scores["respondent_id"])
    kept = scores[scores["respondent_id"] == frame.loc[9, "respondent_id"]]
    assert len(kept) == 1 and kept[f"{DII}score"].item() != ""
    assert kept[f"{DMA}unmapped"].item() != ""


def test_the_targets_scores_by_hand(tmp_path, fifty):
    """DII: the score counts ERP (finance level 2+), CRM (marketing 2+), AI (decision support
    4) and data analytics (decision support 3+), a blank source as no; band 1 below 4, 2 at
    4; basic at 4. EU DMA: the overall score is the plain mean of the six dimensions."""
    out = tmp_path / "also.csv"
    assert _score(fifty, out, "--chunk-rows", "7") == 0
    scores = pd.read_csv(out, dtype={"respondent_id": str}, encoding="utf-8-sig")
    answers = pd.read_csv(fifty, dtype={"respondent_id": str}).dropna(how="all")
    answers = answers.drop_duplicates("respondent_id").set_index("respondent_id")
    given = answers.loc[scores["respondent_id"]]

    def level(code: str) -> pd.Series:
        return pd.to_numeric(given[code], errors="coerce").fillna(-1).to_numpy()

    decision = level("sc_decision_support")
    count = (
        (level("sc_finance") >= 2).astype(int)
        + (level("sc_marketing") >= 2)
        + (decision == 4)
        + (decision >= 3)
    )
    assert scores[f"{DII}score"].tolist() == count.tolist()
    assert 4 in count.tolist()  # the row made to reach basic
    assert scores[f"{DII}indicative_level"].tolist() == np.where(count >= 4, 2, 1).tolist()
    assert scores[f"{DII}basic"].tolist() == (count >= 4).tolist()
    assert scores[f"{DII}dmi"].to_numpy() == pytest.approx(count * 100 / 12, abs=1e-8)
    # the 8 indicators without a rule, and those whose source is blank (two read decision)
    blank = 8 + (level("sc_finance") < 0) + (level("sc_marketing") < 0) + 2 * (decision < 0)
    assert scores[f"{DII}unmapped"].tolist() == blank.tolist()
    assert 9 in blank.tolist()
    scored = scores[scores[f"{DMA}dmi"].notna()]
    assert len(scored) >= 30
    mean = scored[DMA_DIM_COLUMNS].mean(axis=1).to_numpy()
    assert scored[f"{DMA}dmi"].to_numpy() == pytest.approx(mean, abs=1e-8)
    unscored = scores[scores[f"{DMA}dmi"].isna()]
    assert unscored[[*DMA_DIM_COLUMNS, f"{DMA}indicative_level"]].isna().all().all()
    # the API on the same answers gives the same numbers
    api = also_scores(find_crosswalk(MIIT, "eu-dma-sme"), given.reset_index())
    assert scores[f"{DMA}dmi"].to_numpy() == pytest.approx(
        api[f"{DMA}dmi"].to_numpy(dtype=float), abs=1e-8, nan_ok=True
    )


def test_the_worked_row_through_the_cli(tmp_path):
    path, out = tmp_path / "worked.csv", tmp_path / "scores.csv"
    rows = [miit_row(), miit_row(respondent_id="rich", sc_marketing=3, sc_decision_support=4)]
    pd.DataFrame(rows).to_csv(path, index=False)
    assert _score(path, out) == 0
    scores = pd.read_csv(out, dtype={"respondent_id": str}, encoding="utf-8-sig")
    assert scores[f"{DMA}dmi"][0] == pytest.approx(DMA_OVERALL, abs=1e-8)
    for code, value in DMA_DIMS.items():
        assert scores[f"{DMA}dim_{code}"][0] == pytest.approx(value, abs=1e-8), code
    assert scores[f"{DMA}indicative_level"][0] == 2
    # worked: analytics only (decision support 3) = 1; rich: crm, ai, analytics = 3
    assert scores[f"{DII}score"].tolist() == [1, 3]


def _run_api(path: Path, out: Path, **kwargs) -> tuple:
    crosswalks = [find_crosswalk(MIIT, t) for t in TARGETS]
    model = dmi.IndexModel(dmi.load_instrument(MIIT)).fit()
    summary, _ = score_file(path, out, model, chunk_rows=9, also=crosswalks, **kwargs)
    return out.read_bytes(), json.loads(summary.to_json())["also"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_every_engine_writes_the_same_bytes(tmp_path, fifty, suffix):
    one = _run_api(fifty, tmp_path / f"one{suffix}", threads=1)
    two = _run_api(fifty, tmp_path / f"two{suffix}", threads=2)
    if suffix != ".xlsx":  # a workbook's bytes hold the time it was written
        assert two[0] == one[0]
    assert two[1] == one[1]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(tmp_path / f"one{suffix}")
        assert str(schema.field(f"{DII}indicative_level").type) == "int64"
        assert str(schema.field(f"{DII}basic").type) == "bool"
        assert str(schema.field(f"{DMA}dmi").type) == "double"
        table = pq.read_table(tmp_path / f"one{suffix}")
        assert table.column(f"{DMA}dmi").null_count >= 1
    pytest.importorskip("distributed")
    from dmi.bulk.engines.dask import local_client

    with local_client(n_workers=2, processes=False) as client:
        dask = _run_api(fifty, tmp_path / f"dask{suffix}", engine="dask", client=client)
    if suffix != ".xlsx":
        assert dask[0] == one[0]
    assert dask[1] == one[1]


def test_a_crosswalk_from_another_instrument_is_refused(tmp_path, fifty):
    model = dmi.IndexModel(dmi.load_instrument(MIIT)).fit()
    crosswalk = find_crosswalk("eu-dma-sme", "eurostat-dii-2023")
    out = tmp_path / "out.csv"
    with pytest.raises(UsageError, match="reads eu-dma-sme answers; the file is scored with"):
        score_file(fifty, out, model, also=[crosswalk])
    assert not out.exists()


def test_a_file_whose_rows_are_all_rejected_has_the_also_columns(tmp_path):
    frame = synthesise(MIIT, 5, seed=2, missing_rate=0.0)
    frame["it_coverage"] = "Z"
    path, out, summary = tmp_path / "bad.csv", tmp_path / "out.csv", tmp_path / "s.json"
    frame.to_csv(path, index=False)
    assert _score(path, out, "--summary", str(summary)) == 0
    header = _text(out).columns
    assert f"{DMA}dmi" in header and f"{DII}unmapped" == header[-1]
    also = json.loads(summary.read_text(encoding="utf-8"))["also"]
    assert also["eu-dma-sme"]["rows_with_score"] == also["eu-dma-sme"]["rows_without_score"] == 0


def test_the_dii_scored_as_itself_writes_parquet(tmp_path):
    path, out = tmp_path / "dii.csv", tmp_path / "dii.parquet"
    synthesise("eurostat-dii-2023", 20, seed=1).to_csv(path, index=False)
    csv_out = tmp_path / "dii.csv.out.csv"
    argv = ["score", str(path), "--instrument", "eurostat-dii-2023", "-q"]
    assert main([*argv, "-o", str(out)]) == 0
    assert main([*argv, "-o", str(csv_out)]) == 0
    written = pd.read_parquet(out)
    assert written["score"].dtype == np.float64 and written["basic"].dtype == bool
    from_csv = pd.read_csv(csv_out, dtype={"respondent_id": str}, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(written, from_csv, check_dtype=False)

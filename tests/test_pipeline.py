"""Scoring whole messy files: every row accounted for (dmi.pipeline and `dmi score`)."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dmi
import dmi.pipeline
from dmi.cli import main
from dmi.cohort import cohort_summary
from dmi.pipeline import score_file
from dmi.synth import synthesise

FIXTURES = Path(__file__).parent / "fixtures"
MIIT = dmi.load_instrument("miit-2024-manufacturing")
MODEL = dmi.IndexModel(MIIT).fit()


def run(path: Path, tmp_path: Path, **kwargs):
    tmp_path.mkdir(parents=True, exist_ok=True)
    out, rej = tmp_path / "scores.csv", tmp_path / "rejects.csv"
    summary, mapping = score_file(path, out, MODEL, rejects_path=rej, **kwargs)
    scores = pd.read_csv(out, encoding="utf-8-sig", dtype={"respondent_id": str})
    rejects = pd.read_csv(rej, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert summary.reconciles
    assert summary.scored == len(scores)
    assert summary.rejected == rejects["row"].nunique()
    assert sum(summary.rejected_rows_by_reason.values()) == summary.rejected
    return summary, scores, rejects


@pytest.mark.parametrize(
    ("name", "read", "rejected", "rows", "reason"),
    [
        ("ragged.csv", 4, 2, ["3", "5"], "ragged row: expected 38 fields, got 39"),
        ("blank-lines.csv", 6, 2, ["3", "5"], "blank line"),
        ("totals-row.csv", 5, 1, ["6"], "looks like a totals row"),
        ("duplicates.csv", 6, 3, ["3", "4", "6"], "duplicate respondent_id (also on rows 4, 6)"),
    ],
)
def test_each_kind_of_bad_input_is_rejected_with_its_reason(
    tmp_path, name, read, rejected, rows, reason
):
    summary, _, rejects = run(FIXTURES / name, tmp_path)
    assert (summary.read, summary.rejected) == (read, rejected)
    assert rejects["row"].tolist() == rows
    assert rejects["reason"].iloc[0] == reason


@pytest.mark.parametrize(
    ("policy", "kept_row", "rejected_rows"),
    [("keep-first", 3, ["4", "6"]), ("keep-last", 6, ["3", "4"])],
)
def test_duplicate_policies_across_chunks(tmp_path, policy, kept_row, rejected_rows):
    summary, scores, rejects = run(
        FIXTURES / "duplicates.csv", tmp_path, duplicates=policy, chunk_rows=1
    )
    assert rejects["row"].tolist() == rejected_rows
    assert all(f"row {kept_row} is kept" in r for r in rejects["reason"])
    assert scores["respondent_id"].tolist().count("F-002") == 1
    assert summary.duplicates == policy


def test_labels_numbers_and_aliases_are_normalised(tmp_path):
    gbk, a, _ = run(FIXTURES / "labels-gbk.csv", tmp_path / "g")
    utf8, b, _ = run(FIXTURES / "labels-utf8.csv", tmp_path / "u")
    assert gbk.scored == utf8.scored == 4
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert gbk.mapping["matched"]["企业编号"] == "respondent_id"
    people, _, rejects = run(FIXTURES / "semicolon-numbers.csv", tmp_path / "p")
    # 35%, ３５ and 35.0 are the same answer; "1,2" is ambiguous and rejected with a reason
    assert people.scored == 3 and rejects["value"].tolist() == ["1,2"]
    assert "not a number" in rejects["reason"].iloc[0]


def test_formula_like_ids_are_escaped_in_csv_and_xlsx(tmp_path):
    from openpyxl import load_workbook

    run(FIXTURES / "injection.csv", tmp_path)
    csv_ids = pd.read_csv(tmp_path / "scores.csv", encoding="utf-8-sig", dtype=str)
    assert csv_ids["respondent_id"].str.startswith("'").all()
    xlsx = tmp_path / "scores.xlsx"
    score_file(FIXTURES / "injection.csv", xlsx, MODEL)
    cells = [r[0].value for r in load_workbook(xlsx).active.iter_rows(min_row=2)]
    assert cells == ["'=HYPERLINK(1)", "'+1+1", "'-2", "'@SUM(A1)"]


def test_outputs_agree_across_formats_and_cohort(tmp_path):
    path = tmp_path / "in.csv"
    synthesise(MIIT, 300, seed=4, messy=True).to_csv(path, index=False)
    cohort = tmp_path / "cohort.csv"
    summary, _ = score_file(path, tmp_path / "s.csv", MODEL, cohort_path=cohort)
    score_file(path, tmp_path / "s.parquet", MODEL)
    a = pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig")
    b = pd.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_series_equal(a["dmi"], b["dmi"])
    table = pd.read_csv(cohort, encoding="utf-8-sig")
    assert table.loc[0, "n"] == summary.scored
    levels = table[table["by"] == "level"]
    assert levels["n"].sum() == summary.scored
    assert table.loc[0, "dmi_median"] == pytest.approx(a["dmi"].median())
    assert set(table["by"]) >= {"all", "level", "sector", "region", "size_class"}


def test_cohort_summary_quartiles():
    scores = pd.DataFrame(
        {"dmi": [10.0, 20, 30, 40], "dim_a": [1.0, 2, 3, 4], "level": [0, 0, 1, 1]}
    )
    table = cohort_summary(scores)
    row = table.iloc[0]
    assert (row["n"], row["dmi_q1"], row["dmi_median"], row["dmi_q3"]) == (4, 17.5, 25.0, 32.5)
    assert table[table["by"] == "level"]["n"].tolist() == [2, 2]


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes_and_summary_json(capsys, tmp_path):
    summary = tmp_path / "summary.json"
    out = tmp_path / "s.csv"
    code, stdout, _ = cli(
        capsys, "score", FIXTURES / "ragged.csv", "-o", out, "--summary", summary, "-q"
    )
    assert code == 0 and "read 4 rows: 2 scored, 2 rejected" in stdout
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["reconciles"] and data["rejected_rows_by_reason"] == {"ragged row": 2}
    assert data["mapping"]["unmatched"] == [] and "matched" in data["mapping"]
    assert cli(capsys, "score", FIXTURES / "ragged.csv", "-o", out, "--strict", "-q")[0] == 1
    code, _, err = cli(capsys, "score", FIXTURES / "binary.csv", "-o", out, "-q")
    assert code == 2 and err.count("\n") == 1 and "binary.csv" in err
    assert "Traceback" not in err


# -- messy files, generated -------------------------------------------------------------------

GOOD = synthesise(MIIT, 12, seed=21, missing_rate=0.0).astype(str)
JUNK = st.sampled_from(
    ["", " ", "合计", "Total", "=1+1", "Z", "１２", "35%", "是", "\u3000", "x,y"]
)


@st.composite
def messy_files(draw):
    frame = GOOD.sample(draw(st.integers(1, 12)), random_state=draw(st.integers(0, 99)))
    frame = frame.reset_index(drop=True)
    for _ in range(draw(st.integers(0, 6))):
        row = draw(st.integers(0, len(frame) - 1))
        column = draw(st.sampled_from(list(frame.columns)))
        frame.loc[row, column] = draw(JUNK)
    quoting = draw(st.sampled_from([0, 1]))  # csv.QUOTE_MINIMAL, csv.QUOTE_ALL
    text = frame.to_csv(index=False, quoting=quoting, lineterminator="\n")
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 3))):  # blank and ragged lines
        at = draw(st.integers(1, len(lines) - 1))
        lines.insert(at, draw(st.sampled_from(["", "a,b", "x" + "," * 40])))
    text = "\n".join(lines)
    if draw(st.booleans()):  # a truncated last line
        text = text.rstrip("\n")
        text = text[: len(text) - draw(st.integers(0, 30))]
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
    return text.encode(encoding, errors="replace")


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=messy_files(), chunk_rows=st.sampled_from([2, 100_000]))
def test_messy_files_never_crash_and_always_reconcile(tmp_path_factory, data, chunk_rows):
    folder = tmp_path_factory.mktemp("messy")
    path = folder / "in.csv"
    path.write_bytes(data)
    out, rej = folder / "s.csv", folder / "r.csv"
    try:
        summary, _ = score_file(path, out, MODEL, rejects_path=rej, chunk_rows=chunk_rows)
    except dmi.io.FileFormatError:
        return  # a file-level failure (e.g. a header cut away): one plain message, exit 2
    assert summary.reconciles
    scores = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    rejects = pd.read_csv(rej, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(scores) == summary.scored
    assert rejects["row"].nunique() == summary.rejected
    rows = rejects["row"].astype(int)
    assert rows.min() >= 2 if len(rows) else True


@pytest.fixture(scope="module")
def messy_3000(tmp_path_factory):
    """3,000 messy companies (duplicated ids, bad cells, totals rows ...) as a CSV file."""
    path = tmp_path_factory.mktemp("messy3000") / "in.csv"
    synthesise(MIIT, 3000, 11, messy=True).to_csv(path, index=False)
    return path


def test_threads_and_chunks_do_not_change_a_byte_of_the_output(tmp_path, messy_3000):
    # chunks of 700 rows take the vectorised path; 3 threads keep 3 chunks in flight
    outputs = {}
    for threads, chunk_rows in ((1, 100_000), (2, 700), (3, 700), (2, 40)):
        folder = tmp_path / f"{threads}-{chunk_rows}"
        folder.mkdir()
        summary, _ = score_file(
            messy_3000,
            folder / "s.csv",
            MODEL,
            rejects_path=folder / "r.csv",
            chunk_rows=chunk_rows,
            threads=threads,
        )
        assert summary.reconciles and summary.rejected > 0 and summary.scored > 2000
        outputs[threads, chunk_rows] = (
            (folder / "s.csv").read_bytes(),
            (folder / "r.csv").read_bytes(),
            summary.to_json().replace(str(folder), "FOLDER"),  # key order included
        )
    first = outputs[1, 100_000]
    for key, output in outputs.items():
        assert output == first, key


@pytest.mark.parametrize("policy", ["reject", "keep-first", "keep-last"])
def test_chunks_scored_before_the_duplicate_pass_ends_are_redone_when_an_id_repeats(
    tmp_path, messy_3000, monkeypatch, policy
):
    import dmi.pipeline

    expected = run(messy_3000, tmp_path / "plain", duplicates=policy, chunk_rows=300, threads=1)
    assert any(r.startswith("duplicate") for r in expected[0].rejected_by_reason)
    real_pass = dmi.pipeline.find_duplicates
    provisional = []
    three_waiting = threading.Event()

    class Provisional(dmi.pipeline._Provisional):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            provisional.append(len(self.chunk.frame))
            if len(provisional) == 3:
                three_waiting.set()

    def late_pass(*args, **kwargs):
        # the pass ends only once three chunks have been read before it (two being scored,
        # one waiting), whatever the speed of the machine
        assert three_waiting.wait(timeout=120), "fewer than three chunks read before the pass"
        return real_pass(*args, **kwargs)

    monkeypatch.setattr(dmi.pipeline, "find_duplicates", late_pass)
    monkeypatch.setattr(dmi.pipeline, "_Provisional", Provisional)
    monkeypatch.setattr(dmi.pipeline, "_rewritable", lambda *writers: False)  # the pass, always
    got = run(messy_3000, tmp_path / "overlapped", duplicates=policy, chunk_rows=300)
    assert len(provisional) >= 3
    assert got[0].rejected_by_reason == expected[0].rejected_by_reason
    pd.testing.assert_frame_equal(got[1], expected[1])
    pd.testing.assert_frame_equal(got[2], expected[2])


def test_a_failed_write_stops_the_run_with_its_error(tmp_path, messy_3000, monkeypatch):
    from dmi.io import TableWriter

    calls = []
    real_write = TableWriter.write

    def write(self, frame):
        calls.append(len(frame))
        if len(calls) == 3:
            raise OSError("No space left on device")
        return real_write(self, frame)

    monkeypatch.setattr(TableWriter, "write", write)
    before = set(threading.enumerate())
    with pytest.raises(OSError, match="No space left"):
        score_file(messy_3000, tmp_path / "s.csv", MODEL, chunk_rows=200)
    assert len(calls) < 3000 / 200  # the run stopped soon after, instead of reading on
    # and its reading, scoring and writing threads have ended
    assert not [t.name for t in set(threading.enumerate()) - before if t.is_alive()]


def test_the_first_error_is_the_one_reported(tmp_path, messy_3000, monkeypatch):
    from dmi.io import TableWriter

    gave_up = threading.Event()

    def write(self, frame):
        # still writing when the run stops, then failing as it ends
        assert gave_up.wait(timeout=120), "the run did not stop"
        raise OSError("No space left on device")

    def progress(done):
        gave_up.set()
        raise ValueError("the caller gave up")

    monkeypatch.setattr(TableWriter, "write", write)
    with pytest.raises(ValueError, match="gave up"):
        score_file(messy_3000, tmp_path / "s.csv", MODEL, chunk_rows=300, progress=progress)


def test_a_run_that_fails_early_does_not_wait_for_the_duplicate_pass(
    tmp_path, messy_3000, monkeypatch
):
    from dmi.io import TableReader

    real_chunks = TableReader.chunks
    real_pass = dmi.pipeline.find_duplicates
    stops: list[threading.Event] = []
    pass_chunks = []

    def find_duplicates(reader, id_header, stop=None):
        stops.append(stop)
        return real_pass(reader, id_header, stop)

    def interrupted_id_pass(self, columns=None):
        for chunk in real_chunks(self, columns):
            if columns is not None:  # the duplicate pass (it reads the id column only)
                pass_chunks.append(len(chunk.frame))
                if len(pass_chunks) == 2:
                    # Ctrl-C while the pass runs: a real SIGINT, which wakes the main thread
                    # waiting on a lock; the pass goes on only once the run has begun to stop
                    os.kill(os.getpid(), signal.SIGINT)
                    assert stops[0].wait(timeout=120), "the run did not stop"
            yield chunk

    monkeypatch.setattr(dmi.pipeline, "find_duplicates", find_duplicates)
    monkeypatch.setattr(TableReader, "chunks", interrupted_id_pass)
    monkeypatch.setattr(dmi.pipeline, "_rewritable", lambda *writers: False)  # the pass, always
    before = set(threading.enumerate())
    # SIGINT raises KeyboardInterrupt as in a terminal, even where this process was started with
    # SIGINT ignored (in the background, say), which Python then keeps
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            score_file(messy_3000, tmp_path / "s.csv", MODEL, chunk_rows=300)
    finally:
        signal.signal(signal.SIGINT, previous)
    # the pass ended at its next chunk instead of reading the other 8 of the file's 10
    assert len(pass_chunks) == 2
    assert not [t.name for t in set(threading.enumerate()) - before if t.is_alive()]


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_chunk_rows_must_be_a_positive_whole_number(capsys, value):
    with pytest.raises(SystemExit) as stop:
        main(["score", str(FIXTURES / "duplicates.csv"), "-o", "x.csv", "--chunk-rows", value])
    assert stop.value.code == 2
    assert f"expected a whole number of at least 1; got '{value}'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def repeats_later(tmp_path_factory):
    """2,000 messy companies whose ids repeat only after the first 300 rows (and across them)."""
    frame = synthesise(MIIT, 2000, 5, messy=True)
    ids = frame["respondent_id"]
    frame = frame[ids.isna() | ~ids.duplicated()].reset_index(drop=True)  # the planted one
    for copy, of in ((700, 5), (1200, 800), (1900, 800), (1950, 1951), (1400, 350)):
        frame.loc[copy, "respondent_id"] = frame.loc[of, "respondent_id"]
    path = tmp_path_factory.mktemp("later") / "in.csv"
    frame.to_csv(path, index=False)
    with path.open("a", encoding="utf-8") as out:  # a blank line, and a totals row at the end
        out.write("\n合计" + "," * (len(frame.columns) - 1) + "\n")
    return path


def _outputs(folder: Path, path: Path, **kwargs) -> tuple[bytes, ...]:
    folder.mkdir(parents=True)
    summary, _ = score_file(
        path,
        folder / "s.csv",
        MODEL,
        rejects_path=folder / "r.csv",
        cohort_path=folder / "c.csv",
        **kwargs,
    )
    assert summary.reconciles
    text = summary.to_json().replace(str(folder), "FOLDER")
    return tuple((folder / n).read_bytes() for n in ("s.csv", "r.csv", "c.csv")) + (text,)


@pytest.mark.parametrize("policy", ["reject", "keep-first", "keep-last"])
def test_a_file_read_once_gives_the_bytes_of_a_run_with_the_duplicate_pass(
    tmp_path, repeats_later, monkeypatch, policy
):
    passes, redone = [], []
    real_pass, real_rescore = dmi.pipeline.find_duplicates, dmi.pipeline._rescore_repeats

    def counted_pass(*args, **kwargs):
        passes.append(1)
        return real_pass(*args, **kwargs)

    def counted_rescore(*args, **kwargs):
        results = real_rescore(*args, **kwargs)
        redone.append(sorted(results))
        return results

    monkeypatch.setattr(dmi.pipeline, "find_duplicates", counted_pass)
    monkeypatch.setattr(dmi.pipeline, "_rescore_repeats", counted_rescore)
    runs = {}
    # chunks of 300 rows gather about 600 (whole blocks), short of row 700, which repeats row 5
    for threads, chunk_rows in ((1, 300), (2, 300), (2, 150), (1, 100_000)):
        for once in (True, False):
            monkeypatch.setattr(dmi.pipeline, "_rewritable", lambda *w, once=once: once)
            passes.clear()
            redone.clear()
            runs[threads, chunk_rows, once] = _outputs(
                tmp_path / f"{threads}-{chunk_rows}-{once}",
                repeats_later,
                duplicates=policy,
                threads=threads,
                chunk_rows=chunk_rows,
            )
            if not once:
                assert passes == [1] and redone == []
            elif chunk_rows == 100_000:  # one chunk that repeats ids: the pass after all
                assert passes == [1] and redone == []
            else:  # read once; the chunks holding a repeated id are scored again
                assert passes == [] and redone and 0 in redone[0] and len(redone[0]) >= 3, (
                    threads,
                    chunk_rows,
                    passes,
                    redone,
                )
    expected = runs[1, 100_000, False]
    assert b"duplicate respondent_id" in expected[1]
    for key, output in runs.items():
        assert output == expected, key


@pytest.mark.parametrize("change", ["rows deleted", "chunks fewer"])
def test_a_file_that_changes_between_its_reads_is_a_file_level_error(
    tmp_path, repeats_later, monkeypatch, capsys, change
):
    from dmi.io import TableReader

    copy = tmp_path / "in.csv"
    copy.write_bytes(repeats_later.read_bytes())
    real_settle, real_chunks = dmi.pipeline._IdLedger.settle, TableReader.chunks
    settled = []

    def settle(self):
        if not settled and change == "rows deleted":  # chunks of other sizes the second time
            lines = copy.read_text(encoding="utf-8").splitlines(keepends=True)
            copy.write_text("".join(lines[:100] + lines[150:]), encoding="utf-8")
        settled.append(1)
        return real_settle(self)

    def chunks(self, columns=None):
        for number, chunk in enumerate(real_chunks(self, columns)):
            if settled and number == 1:  # the second time, the file ends after one chunk
                return
            yield chunk

    monkeypatch.setattr(dmi.pipeline._IdLedger, "settle", settle)
    if change == "chunks fewer":
        monkeypatch.setattr(TableReader, "chunks", chunks)
    out = tmp_path / "s.csv"
    assert main(["score", str(copy), "-o", str(out), "--chunk-rows", "300"]) == 2
    err = capsys.readouterr().err
    assert "the file changed while it was being scored" in err and "Traceback" not in err
    # the rows scored before the repeats were known are cut off: chunk 0 holds one of them
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 1


def test_a_run_stopped_while_repeats_are_redone_leaves_no_rows_that_look_final(
    tmp_path, repeats_later, monkeypatch
):
    from dmi.io import TableWriter

    def full_disk(self, replacements):
        raise OSError("No space left on device")

    monkeypatch.setattr(TableWriter, "replace_writes", full_disk)
    with pytest.raises(OSError, match="No space left"):
        score_file(
            repeats_later,
            tmp_path / "s.csv",
            MODEL,
            rejects_path=tmp_path / "r.csv",
            chunk_rows=300,
        )
    for name in ("s.csv", "r.csv"):  # cut before chunk 0, the first chunk to redo
        assert len((tmp_path / name).read_text(encoding="utf-8-sig").splitlines()) == 1

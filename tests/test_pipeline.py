"""Scoring whole messy files: every row accounted for (dmi.bulk.run and `dmi score`)."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dmi
import dmi.bulk.duplicates
import dmi.bulk.kernel
import dmi.bulk.run
from dmi.bulk.cohort import cohort_summary
from dmi.bulk.engines.local import LocalEngine
from dmi.bulk.run import score_file
from dmi.cli import main
from dmi.instruments.synth import synthesise

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


def test_ids_and_cells_that_differ_by_an_invisible_character_are_read_alike(tmp_path):
    # a zero-width space pasted after an id made "F-002" a second firm; in an answer it made a
    # valid answer a rejected one that looked exactly like a valid one
    lines = (FIXTURES / "duplicates.csv").read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("F-002,", "F-002\u200b,", 1)  # the third F-002, row 5
    lines[1] = lines[1].replace(",micro,", ",micro\u2060,", 1)
    src = tmp_path / "zw.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    plain, scores, rejects = run(FIXTURES / "duplicates.csv", tmp_path / "plain")
    summary, scores_zw, rejects_zw = run(src, tmp_path / "zw")
    assert (summary.read, summary.rejected) == (plain.read, plain.rejected) == (6, 3)
    assert rejects_zw["row"].tolist() == rejects["row"].tolist() == ["3", "4", "6"]
    pd.testing.assert_frame_equal(scores_zw, scores)


@pytest.mark.parametrize(
    ("policy", "kept_row", "rejected_rows"),
    [("keep-first", 3, ["4", "6"]), ("keep-last", 6, ["3", "4"])],
)
def test_duplicate_policies_across_chunks(tmp_path, policy, kept_row, rejected_rows):
    summary, scores, rejects = run(
        FIXTURES / "duplicates.csv", tmp_path, duplicates=policy, chunk_rows=1
    )
    assert rejects["row"].tolist() == rejected_rows
    # the row the policy takes is named, not said to be kept: it may be rejected for its own
    # cells (then no row of the firm is scored, and the rejects say why each one was not)
    assert all(f"row {kept_row} is the one taken: {policy}" in r for r in rejects["reason"])
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


def test_formula_like_ids_are_escaped_in_csv_and_kept_as_text_in_xlsx(tmp_path):
    # CSV has no cell types: a spreadsheet runs "=..." as a formula, so it is escaped with '.
    # An XLSX cell has its type: text is stored as text, never run, and kept as it is (the '
    # was part of the cell there: an id -001 read back as '-001, a phone +86... as '+86...)
    from openpyxl import load_workbook

    run(FIXTURES / "injection.csv", tmp_path)
    csv_ids = pd.read_csv(tmp_path / "scores.csv", encoding="utf-8-sig", dtype=str)
    assert csv_ids["respondent_id"].str.startswith("'").all()
    given = ["=HYPERLINK(1)", "+1+1", "-2", "@SUM(A1)"]
    for xlsx in (tmp_path / "scores.xlsx", tmp_path / "small.xlsx"):
        if xlsx.name == "scores.xlsx":
            score_file(FIXTURES / "injection.csv", xlsx, MODEL)
        else:
            dmi.io.write_table(pd.DataFrame({"respondent_id": given, "n": [1, 2, 3, 4]}), xlsx)
        cells = [r[0] for r in load_workbook(xlsx).active.iter_rows(min_row=2)]
        assert [c.value for c in cells] == given
        assert {c.data_type for c in cells} == {"s"}  # text, not a formula


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
    import dmi.bulk.run

    expected = run(messy_3000, tmp_path / "plain", duplicates=policy, chunk_rows=300, threads=1)
    assert any(r.startswith("duplicate") for r in expected[0].rejected_by_reason)
    real_pass = dmi.bulk.run.find_duplicates
    provisional = []
    three_waiting = threading.Event()

    class Task(dmi.bulk.run.ChunkTask):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if isinstance(self.duplicates, Future):  # read before the pass ended
                provisional.append(len(self.chunk.frame))
                if len(provisional) == 3:
                    three_waiting.set()

    def late_pass(*args, **kwargs):
        # the pass ends only once three chunks have been read before it (two being scored,
        # one waiting), whatever the speed of the machine
        assert three_waiting.wait(timeout=120), "fewer than three chunks read before the pass"
        return real_pass(*args, **kwargs)

    monkeypatch.setattr(dmi.bulk.run, "find_duplicates", late_pass)
    monkeypatch.setattr(dmi.bulk.run, "ChunkTask", Task)
    monkeypatch.setattr(dmi.bulk.run, "_rewritable", lambda *writers: False)  # the pass, always
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


def _main_thread_waits_for_a_result() -> bool:
    frame = sys._current_frames().get(threading.main_thread().ident)
    while frame is not None:
        code = frame.f_code
        if code.co_name == "result" and "concurrent" in code.co_filename:
            return True
        frame = frame.f_back
    return False


def _until(condition, limit: float = 120.0) -> bool:
    """Wait until ``condition()`` holds (checked every 10 ms; False after ``limit`` seconds)."""
    pause = threading.Event()
    for _ in range(int(limit / 0.01)):
        if condition():
            return True
        pause.wait(0.01)
    return False


def test_a_run_that_fails_early_does_not_wait_for_the_duplicate_pass(
    tmp_path, messy_3000, monkeypatch
):
    from dmi.io import TableReader

    real_chunks = TableReader.chunks
    real_pass = dmi.bulk.run.find_duplicates
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
                    # waiting on a lock; the pass goes on only once the run has begun to stop.
                    # It is sent once the main thread waits for the first chunk's result (it then
                    # is not starting a scoring thread, which a pool could leave un-joined)
                    assert _until(_main_thread_waits_for_a_result), "the run never waited"
                    os.kill(os.getpid(), signal.SIGINT)
                    assert stops[0].wait(timeout=120), "the run did not stop"
            yield chunk

    monkeypatch.setattr(dmi.bulk.run, "find_duplicates", find_duplicates)
    monkeypatch.setattr(TableReader, "chunks", interrupted_id_pass)
    monkeypatch.setattr(dmi.bulk.run, "_rewritable", lambda *writers: False)  # the pass, always
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
    real_pass, real_rescore = dmi.bulk.run.find_duplicates, dmi.bulk.run._rescore_repeats

    def counted_pass(*args, **kwargs):
        passes.append(1)
        return real_pass(*args, **kwargs)

    def counted_rescore(*args, **kwargs):
        results = real_rescore(*args, **kwargs)
        redone.append(sorted(results))
        return results

    monkeypatch.setattr(dmi.bulk.run, "find_duplicates", counted_pass)
    monkeypatch.setattr(dmi.bulk.run, "_rescore_repeats", counted_rescore)
    runs = {}
    # chunks of 300 rows gather about 600 (whole blocks), short of row 700, which repeats row 5
    for threads, chunk_rows in ((1, 300), (2, 300), (2, 150), (1, 100_000)):
        for once in (True, False):
            monkeypatch.setattr(dmi.bulk.run, "_rewritable", lambda *w, once=once: once)
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
    real_settle, real_chunks = dmi.bulk.duplicates.IdLedger.settle, TableReader.chunks
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

    monkeypatch.setattr(dmi.bulk.duplicates.IdLedger, "settle", settle)
    if change == "chunks fewer":
        monkeypatch.setattr(TableReader, "chunks", chunks)
    out = tmp_path / "s.csv"
    assert main(["score", str(copy), "-o", str(out), "--chunk-rows", "300"]) == 2
    err = capsys.readouterr().err
    assert "the file changed while it was being scored" in err and "Traceback" not in err
    # no row scored before the repeats were known is left: no output at all
    assert err.endswith("; no output was written\n") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


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
    assert not list(tmp_path.iterdir())  # nothing that looks final, nothing left beside


# -- outputs appear whole, or not at all -------------------------------------------------------

OUTPUT_NAMES = ("s.csv", "r.csv", "c.csv", "summary.json")


def _valid(path: Path, rows: int = 1200, bad_row: int | None = None) -> Path:
    """A UTF-8 file (with BOM) of ``rows`` valid rows, but for a byte no encoding of it allows
    on spreadsheet row ``bad_row``: the reader fails there, after earlier chunks were written."""
    frame = synthesise(MIIT, rows, seed=2, missing_rate=0.0)
    lines = frame.to_csv(index=False, lineterminator="\n").encode("utf-8").split(b"\n")
    if bad_row is not None:
        lines[bad_row - 1] = lines[bad_row - 1].replace(b",", b",\xff", 1)
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines))
    return path


def _score_args(folder: Path, path: Path, *extra) -> list[str]:
    s, r, c, summary = (folder / n for n in OUTPUT_NAMES)
    return ["score", str(path), "-o", str(s), "--rejects", str(r), "--cohort", str(c)] + [
        "--summary",
        str(summary),
        "-q",
        *map(str, extra),
    ]


@pytest.mark.parametrize("existing", [True, False])
def test_a_run_that_fails_part_way_leaves_the_outputs_as_they_were(
    tmp_path, capsys, monkeypatch, existing
):
    from dmi.io import TableWriter

    path = _valid(tmp_path / "in.csv", bad_row=1001)
    out = tmp_path / "out"
    out.mkdir()
    before = {}
    if existing:  # last month's results, which a failed run must not touch
        for name in OUTPUT_NAMES:
            (out / name).write_bytes(f"last month's {name}".encode())
            before[name] = (out / name).read_bytes()
    seen = []
    real_write = TableWriter.write

    def write(self, frame):
        real_write(self, frame)
        if self.kind == "csv" and self.count_distinct is None and len(frame):
            # rows of the run are on disk, beside the output, under a name no one takes for it
            seen.append(sorted(p.name for p in out.iterdir()))

    monkeypatch.setattr(TableWriter, "write", write)
    code = main(_score_args(out, path, "--chunk-rows", 100))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "cannot read row 1001 (line 1001)" in err  # the one row, exactly
    assert err.endswith("; no output was written\n")
    assert seen, "no chunk was written before the failure"
    partial = [n for n in seen[0] if n not in OUTPUT_NAMES]
    assert {n.split(".dmi-partial-")[0] for n in partial} == {".s.csv", ".r.csv", ".c.csv"} | {
        ".summary.json"
    }
    assert all(n.startswith(".") and len(n.split(".dmi-partial-")[1]) == 8 for n in partial)
    assert sorted(n for n in seen[0] if n in OUTPUT_NAMES) == sorted(before)
    # afterwards: what was there is there, byte for byte, and nothing else
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_ctrl_c_removes_the_run_s_files_and_says_so(tmp_path, capsys, monkeypatch):
    path = _valid(tmp_path / "in.csv")
    out = tmp_path / "out"
    out.mkdir()
    (out / "s.csv").write_text("kept")
    calls = []
    real_of = dmi.bulk.run._Tally.of

    def interrupted(result):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_of(result)

    monkeypatch.setattr(dmi.bulk.run._Tally, "of", interrupted)
    assert main(_score_args(out, path, "--chunk-rows", 100)) == 130
    assert capsys.readouterr().err == "dmi: interrupted; no output was written\n"
    assert {p.name: p.read_text() for p in out.iterdir()} == {"s.csv": "kept"}
    calls.clear()
    with pytest.raises(KeyboardInterrupt) as stopped:
        score_file(path, out / "s.csv", MODEL, rejects_path=out / "r.csv", chunk_rows=100)
    assert stopped.value.__notes__ == ["no output was written"]
    assert {p.name: p.read_text() for p in out.iterdir()} == {"s.csv": "kept"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_outputs_get_the_mode_of_a_new_file_or_keep_their_own(tmp_path, suffix):
    folder = tmp_path / "out"
    folder.mkdir()
    private = folder / f"private{suffix}"
    private.write_bytes(b"old")
    private.chmod(0o600)
    old = os.umask(0o027)
    try:
        score_file(
            FIXTURES / "ragged.csv",
            folder / f"s{suffix}",
            MODEL,
            rejects_path=private,
            cohort_path=folder / f"c{suffix}",
            summary_path=folder / "summary.json",
        )
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}
    # new files as umask 027 makes them (not a temporary file's 600); a private one stays so
    assert modes == {f"s{suffix}": 0o640, f"c{suffix}": 0o640, "summary.json": 0o640} | {
        f"private{suffix}": 0o600
    }
    assert private.read_bytes() != b"old"


def test_a_linked_output_stays_a_link_to_the_new_results(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "scores.csv").write_text("old")
    links = tmp_path / "links"
    links.mkdir()
    (links / "s.csv").symlink_to(data / "scores.csv")
    (links / "dangling.csv").symlink_to(data / "rejects.csv")  # a link to a file to make
    summary, _ = score_file(
        FIXTURES / "ragged.csv", links / "s.csv", MODEL, rejects_path=links / "dangling.csv"
    )
    assert (links / "s.csv").is_symlink() and (links / "dangling.csv").is_symlink()
    scores = pd.read_csv(data / "scores.csv", encoding="utf-8-sig")
    rejects = pd.read_csv(data / "rejects.csv", encoding="utf-8-sig")
    assert (len(scores), rejects["row"].nunique()) == (summary.scored, summary.rejected) == (2, 2)
    # nothing left beside the link or beside the file it points to
    assert sorted(p.name for p in data.iterdir()) == ["rejects.csv", "scores.csv"]
    assert sorted(p.name for p in links.iterdir()) == ["dangling.csv", "s.csv"]


def test_two_outputs_that_are_one_file_are_refused(tmp_path, capsys):
    out = tmp_path / "s.csv"
    code = main(["score", str(FIXTURES / "ragged.csv"), "-o", str(out), "--rejects", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and f"two outputs are the same file: {out} and {out}" in err
    assert not list(tmp_path.iterdir())


def test_an_output_in_a_missing_folder_is_refused_before_the_run(tmp_path, capsys):
    out = tmp_path / "no such folder" / "s.csv"
    assert main(["score", str(FIXTURES / "ragged.csv"), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert err == f"dmi: error: {out}: no such folder: {out.parent}\n"


# -- the counts reconcile from what was written -------------------------------------------------


def test_rejected_rows_are_counted_once_from_the_rejects_written(tmp_path):
    # row 3 has two bad cells (two lines in the rejects file), row 5 one: 2 rows rejected
    frame = synthesise(MIIT, 4, seed=11, missing_rate=0.0)
    items = [i.code for i in MIIT.items if i.type == "single"]
    frame = frame.astype(object)
    frame.loc[1, items[0]] = frame.loc[1, items[1]] = frame.loc[3, items[0]] = "nonsense"
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    for rejects in (tmp_path / "r.csv", None):
        summary, _ = score_file(path, tmp_path / "s.csv", MODEL, rejects_path=rejects)
        assert (summary.read, summary.scored, summary.rejected, summary.problems) == (4, 2, 2, 3)
        assert summary.rejected_rows_by_reason and summary.reconciles
    assert pd.read_csv(tmp_path / "r.csv", encoding="utf-8-sig")["row"].tolist() == [3, 3, 5]


def _drop_one_row(monkeypatch, which: str) -> None:
    """Make the writers lose (or repeat) one row: the scores' first, or one rejected row."""
    from dmi.io import TableWriter

    real_write = TableWriter.write
    done = []

    def write(self, frame):
        rejects = self.count_distinct is not None
        if not done and len(frame) and which.startswith("rejects" if rejects else "scores"):
            done.append(1)
            if which.endswith("twice"):
                frame = pd.concat([frame, frame.iloc[:1]], ignore_index=True)
            else:  # every line of the first row in it
                frame = frame[frame["row"] != frame["row"].iloc[0]] if rejects else frame.iloc[1:]
        return real_write(self, frame)

    monkeypatch.setattr(TableWriter, "write", write)


@pytest.mark.parametrize(
    ("which", "rejects_file", "says"),
    [
        ("scores", True, "1 missing"),
        ("rejects", True, "1 missing"),
        ("rejects", False, "1 missing"),  # counted though no rejects file is written
        ("scores twice", False, "1 too many"),
    ],
)
def test_a_row_lost_on_the_way_to_the_files_fails_the_run(
    tmp_path, capsys, monkeypatch, which, rejects_file, says
):
    _drop_one_row(monkeypatch, which)
    out = tmp_path / "s.csv"
    argv = ["score", str(FIXTURES / "duplicates.csv"), "-o", str(out), "--summary"]
    argv += [str(tmp_path / "summary.json")]
    argv += ["--rejects", str(tmp_path / "r.csv")] if rejects_file else []
    assert main(argv) == 3
    captured = capsys.readouterr()
    assert captured.err.startswith("dmi: internal error: the row counts do not reconcile: read 6")
    assert f"({says}); this is a bug in dmi" in captured.err
    # a bug: what happened in one line, then how to see the traceback and report it
    problem, hint = captured.err.splitlines()
    assert problem.endswith("; no output was written")
    assert hint.startswith("dmi: this is a bug in dmi") and "--debug" in hint
    assert "Traceback" not in captured.err
    assert not list(tmp_path.iterdir())  # nothing moved into place, nothing left beside


def test_a_chunk_or_row_lost_before_the_writers_fails_the_run(tmp_path, monkeypatch):
    path = _valid(tmp_path / "in.csv", rows=3000)
    real_score, real_kernel = LocalEngine.score, dmi.bulk.kernel.score_chunk
    sizes = []

    def loses_a_chunk(self, tasks):
        results = real_score(self, tasks)
        yield next(results)
        sizes.append(next(results).n_read)  # the second chunk never reaches the files
        yield from results

    monkeypatch.setattr(LocalEngine, "score", loses_a_chunk)
    with pytest.raises(dmi.bulk.run.ReconciliationError, match="read 3000 rows") as failed:
        score_file(path, tmp_path / "s.csv", MODEL, chunk_rows=300)
    lost = failed.value.summary
    assert lost.read - lost.scored - lost.rejected == sizes[0] > 0
    monkeypatch.setattr(LocalEngine, "score", real_score)

    def loses_a_row(prepared, model, tier_model=None):
        result = real_kernel(prepared, model, tier_model)
        result.scores = result.scores.iloc[1:]
        return result

    monkeypatch.setattr(dmi.bulk.kernel, "score_chunk", loses_a_row)
    with pytest.raises(dmi.bulk.run.ReconciliationError, match=r"\(1 missing\)") as failed:
        score_file(FIXTURES / "ragged.csv", tmp_path / "s.csv", MODEL)
    assert failed.value.__notes__ == ["no output was written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_an_output_folder_that_cannot_be_written_in_is_one_plain_line(
    tmp_path, capsys, monkeypatch
):
    import dmi.io.writers

    def refused(target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(dmi.io.writers, "_new_file_beside", refused)
    out = tmp_path / "s.csv"
    code = main(["score", str(FIXTURES / "duplicates.csv"), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{out}: cannot write in {tmp_path}: Permission denied" in err


@pytest.mark.parametrize(
    ("command", "read", "what", "text"),
    [
        ("eligibility", "--map", "the column map", "编号,respondent_id\n"),
        ("eligibility", "--policy", "the rule file", None),
        ("score", "--map", "the column map", "编号,respondent_id\n"),
        ("score", "--model", "the model", "{}"),
        ("score", "--tier-model", "the tier model", "{}"),
        ("score", "--reference", "the reference file", None),
    ],
)
@pytest.mark.parametrize("option", ["-o", "--rejects", "--summary"])
def test_an_output_that_is_another_file_the_run_reads_is_refused(
    tmp_path, capsys, command, read, what, text, option
):
    # only the input was protected: -o map.csv --map map.csv replaced the agency's map with
    # the results, --summary rules.yaml --policy rules.yaml the rule file with the summary
    import dmi.eligibility as el

    source = tmp_path / "in.csv"
    if command == "score":
        source.write_bytes((FIXTURES / "ragged.csv").read_bytes())
    else:
        el.synthetic_firms(5, seed=1).to_csv(source, index=False)
    suffix = ".csv" if option != "--summary" and read != "--policy" else ".yaml"
    if option == "--summary":
        suffix = ".json"
    other = tmp_path / f"read{suffix}"
    if text is None:  # a file of its own kind: a rule file, a reference population
        if read == "--policy":
            from dmi.eligibility import load_policy

            other = tmp_path / ("rules.csv" if option != "--summary" else "rules.json")
            other.write_text(Path(load_policy("2026").source).read_text("utf-8"), "utf-8")
        else:
            other.write_bytes(source.read_bytes())
    else:
        other.write_text(text, "utf-8")
    before = other.read_bytes()
    outputs = {"-o": tmp_path / "out.csv", option: other}
    argv = [command, str(source), read, str(other)]
    argv += [str(a) for pair in outputs.items() for a in pair]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{other} is {what} {other}" in err and len(err.splitlines()) == 1
    assert other.read_bytes() == before


@pytest.mark.parametrize(
    "argv",
    [
        ["eligibility", "--policy", "2026", "--summary", "2026"],
        ["score", "--tier-model", "none", "--summary", "none"],
        ["score", "--summary", "miit-2024-manufacturing"],
    ],
)
def test_a_read_option_that_names_no_file_is_no_file_an_output_could_replace(
    tmp_path, capsys, monkeypatch, argv
):
    # a shipped version, none, an instrument's id: an output of that name was refused
    import dmi.eligibility as el

    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in.csv"
    if argv[0] == "score":
        source.write_bytes((FIXTURES / "ragged.csv").read_bytes())
    else:
        el.synthetic_firms(5, seed=1).to_csv(source, index=False)
    code = main([argv[0], str(source), "-o", "out.csv", "-q", *argv[1:]])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / argv[-1]).is_file()


@pytest.mark.parametrize("command", ["score", "eligibility"])
@pytest.mark.parametrize("option", ["-o", "--rejects", "--summary", "--cohort"])
@pytest.mark.parametrize("how", ["same", "link", "hard link", "relative"])
def test_an_output_that_is_the_input_is_refused(
    tmp_path, capsys, monkeypatch, command, option, how
):
    # the input is read while the outputs are written: an output onto it would replace the
    # agency's own file with the results, and the run would end "ok"
    import dmi.eligibility as el

    source = tmp_path / "in.csv"
    if command == "score":
        source.write_bytes((FIXTURES / "ragged.csv").read_bytes())
    else:
        el.synthetic_firms(5, seed=1).to_csv(source, index=False)
    before = source.read_bytes()
    target = {"same": source, "link": tmp_path / "link.csv", "hard link": tmp_path / "hard.csv"}
    target["relative"] = Path("in.csv")
    if how == "link":
        target[how].symlink_to(source)
    elif how == "hard link":
        os.link(source, target[how])
    monkeypatch.chdir(tmp_path)
    outputs = {"-o": tmp_path / "out.csv", option: target[how]}
    argv = [command, str(source)] + [str(a) for pair in outputs.items() for a in pair]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{target[how]} is the input file" in err and len(err.splitlines()) == 1
    assert source.read_bytes() == before
    made = {"link": ["link.csv"], "hard link": ["hard.csv"]}.get(how, [])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.csv", *made])  # no output


@pytest.mark.parametrize("command", ["score", "eligibility"])
def test_an_id_with_a_control_character_is_rejected_naming_it(tmp_path, capsys, command):
    # a NUL, a tab or a line break inside a quoted id went through to the outputs, where it
    # breaks the next tool that reads them; an id is printable text
    import dmi.eligibility as el

    if command == "score":
        frame = synthesise(MIIT, 6, seed=2)
    else:
        frame = el.synthetic_firms(6, seed=2)
    frame["respondent_id"] = frame["respondent_id"].astype(str)
    frame.loc[1, "respondent_id"] = "A\x00B"
    frame.loc[3, "respondent_id"] = "C\tD"
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    out, rejects = tmp_path / "out.csv", tmp_path / "rej.csv"
    assert main([command, str(src), "-o", str(out), "--rejects", str(rejects), "-q"]) == 0
    capsys.readouterr()
    got = pd.read_csv(rejects, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert got["row"].tolist() == ["3", "5"]
    assert got["reason"].tolist() == [
        "respondent_id holds a control character (U+0000); an id is printable text",
        "respondent_id holds a control character (U+0009); an id is printable text",
    ]
    assert got["value"].tolist() == ["A\\x00B", "C\\x09D"]  # shown, not written raw
    assert b"\x00" not in out.read_bytes() + rejects.read_bytes()
    assert len(pd.read_csv(out, encoding="utf-8-sig")) == 4


@pytest.mark.parametrize(
    "cell, summary_row",
    [
        ("合计", True),
        ("总计(10家)", True),
        ("合计（共 10 家）", True),
        ("Total (10 firms)", True),
        ("平均", True),
        ("平均值", True),
        ("Average", True),
        ("mean", True),
        ("总计公司", False),  # a name that starts like one is a name
        ("A-1 (total)", False),
        ("2024 合计", False),
    ],
)
def test_a_totals_or_average_row_is_told_by_its_first_cell(cell, summary_row):
    # an agency's sheet ends with 总计(10家) or 平均: scored, it was a company of index 0
    from dmi.bulk.checks import looks_like_totals

    assert looks_like_totals(pd.Series([cell, "F1"], dtype=object)).tolist() == [summary_row, False]
    assert looks_like_totals(pd.Series([cell], dtype="str")).tolist() == [summary_row]


@pytest.mark.parametrize("blank", ["   ", " \t ", "\u3000", "{fields}"])
def test_a_line_of_only_spaces_is_a_blank_line(tmp_path, blank):
    # a line of spaces (or of cells that hold only spaces) has nothing in it: it is a blank
    # line, not a row of the wrong width nor a row whose respondent_id is missing
    lines = (FIXTURES / "blank-lines.csv").read_text(encoding="utf-8").splitlines()
    width = len(lines[0].split(","))
    blank = blank.format(fields=",".join([" "] * width))
    path = tmp_path / "spaces.csv"
    path.write_text("\n".join([lines[0], lines[1], blank, lines[3]]) + "\n", encoding="utf-8")
    summary, scores, rejects = run(path, tmp_path / "out")
    assert (summary.read, summary.scored, summary.rejected) == (3, 2, 1)
    assert rejects[["row", "column", "value", "reason"]].values.tolist() == [
        ["3", "", "", "blank line"]
    ]


@pytest.mark.parametrize("dtype", [object, "str", "string[python]"])
def test_all_blank_takes_cells_of_spaces_as_blank(dtype):
    from dmi.bulk.checks import all_blank

    frame = pd.DataFrame(
        {
            "a": pd.Series(["x", " ", None, "\u3000", "", "y"], dtype=dtype),
            "b": pd.Series([" ", "\t", None, " ", "  ", None], dtype=dtype),
            "n": [np.nan, np.nan, np.nan, np.nan, np.nan, 0.0],
        }
    )
    assert all_blank(frame).tolist() == [False, True, True, True, True, False]


def test_an_eligibility_row_with_a_bad_survey_cell_lists_its_bad_fact_too(capsys, tmp_path):
    # a 问卷星 export of facts and the MIIT survey: a row with a bad debt ratio and an option
    # number the question does not have is rejected with both problems, as a plain file lists
    # them (the survey cell's problem had hidden the fact's until the next run)
    from tests.survey_tools_data import plain_answers
    from tests.test_eligibility_tool_exports import wjx_with_facts, write

    miit = dmi.load_instrument("miit-2024-manufacturing")
    export = wjx_with_facts(plain_answers(miit, 6, seed=29), miit, "codes", None)
    debt = next(h for h in export.columns if "资产负债率" in h)
    question = next(h for h in export.columns if h.startswith("10、"))
    export.loc[2, debt] = "150"
    export.loc[2, question] = "9"
    export.loc[4, question] = "9"
    write(export, tmp_path / "export.csv")
    code = main(
        [
            "eligibility",
            str(tmp_path / "export.csv"),
            "-o",
            str(tmp_path / "out.csv"),
            "--rejects",
            str(tmp_path / "rejects.csv"),
            "-q",
        ]
    )
    capsys.readouterr()
    assert code == 0
    rejects = pd.read_csv(tmp_path / "rejects.csv", dtype=str, keep_default_na=False)
    assert rejects[["row", "column", "value"]].values.tolist() == [
        ["4", "it_coverage", "9"],
        ["4", "debt_ratio", "150"],
        ["6", "it_coverage", "9"],
    ]
    evaluated = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert len(evaluated) == 4  # 6 read: 4 evaluated, 2 rejected

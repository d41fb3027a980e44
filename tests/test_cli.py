"""The `dmi` command, run as a user would (in-process through main())."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dmi.cli import main
from dmi.errors import DmiError, FileFormatError, ModelFileError, UsageError
from dmi.instruments import shipped_reference_population

from .conftest import ROOT

EXAMPLE = ROOT / "data" / "example-bulk.csv"
REFERENCE = shipped_reference_population("miit-2024-manufacturing")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_score_example_reconciles_and_writes_rejects(capsys, tmp_path):
    out, rej, summ = tmp_path / "s.csv", tmp_path / "r.csv", tmp_path / "sum.json"
    code, stdout, _ = run(
        capsys, "score", EXAMPLE, "-o", out, "--rejects", rej, "--summary", summ, "-q"
    )
    assert code == 0
    scores = pd.read_csv(out, encoding="utf-8-sig")
    rejects = pd.read_csv(rej, encoding="utf-8-sig")
    summary = json.loads(summ.read_text(encoding="utf-8"))
    n_rows = len(pd.read_csv(EXAMPLE, dtype=str, encoding="utf-8-sig"))
    assert summary["read"] == n_rows == summary["scored"] + summary["rejected"]
    assert summary["scored"] == len(scores)
    assert summary["rejected"] == rejects["row"].nunique()
    assert list(scores.columns[:7]) == [
        "respondent_id",
        "dmi",
        "level",
        "dim_foundation",
        "dim_operations",
        "dim_management",
        "dim_performance",
    ]
    assert set(rejects.columns) == {"row", "respondent_id", "column", "value", "reason"}
    assert f"read {n_rows} rows: {len(scores)} scored" in stdout


def test_strict_exits_1_when_rows_are_rejected(capsys, tmp_path):
    code, _, _ = run(capsys, "score", EXAMPLE, "-o", tmp_path / "s.csv", "--strict", "-q")
    assert code == 1


def test_missing_input_is_one_line_and_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "score", tmp_path / "nope.csv", "-o", tmp_path / "s.csv")
    assert code == 2
    assert err.strip().count("\n") == 0 and "nope.csv" in err and "Traceback" not in err


def test_file_without_matching_columns_is_exit_2(capsys, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("name,age\nx,3\n", encoding="utf-8")
    code, _, err = run(capsys, "score", path, "-o", tmp_path / "s.csv")
    assert code == 2 and "no column matches an item" in err


@pytest.mark.parametrize("saved_as, found", [("utf-8", "utf-8"), ("gbk", "gb18030")])
def test_an_encoding_given_that_hides_every_item_names_the_one_found(
    capsys, tmp_path, saved_as, found
):
    # latin-1 reads any byte: the Chinese question headers come out as other characters
    from dmi.instruments import load_instrument

    instrument = load_instrument("miit-2024-manufacturing")
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame = frame.rename(columns={item.code: item.zh for item in instrument.items})
    path = tmp_path / "zh.csv"
    frame.to_csv(path, index=False, encoding=saved_as)
    code, _, err = run(capsys, "score", path, "-o", tmp_path / "s.csv", "--encoding", "latin-1")
    assert code == 2 and "no column matches an item" in err
    assert (
        f"; read as {found} (the encoding found without --encoding), 31 of its headers name "
        "an item: leave out --encoding latin-1" in err
    )
    # a file whose headers name no item in any encoding gets no such hint
    (tmp_path / "other.csv").write_text("名称,年龄\nx,3\n", encoding="utf-8")
    code, _, err = run(
        capsys, "score", tmp_path / "other.csv", "-o", tmp_path / "s.csv", "--encoding", "latin-1"
    )
    assert code == 2 and "no column matches an item" in err and "read as" not in err


def test_gbk_and_utf8_copies_score_identically(capsys, tmp_path):
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame["company_name"] = "合成企业（测试）"
    frame["strategy"] = frame["strategy"].replace({"C": "已制定数字化转型规划及保障措施"})
    utf8, gbk = tmp_path / "u.csv", tmp_path / "g.csv"
    frame.to_csv(utf8, index=False, encoding="utf-8")
    frame.to_csv(gbk, index=False, encoding="gbk")
    for src in (utf8, gbk):
        assert run(capsys, "score", src, "-o", tmp_path / f"{src.stem}-out.csv", "-q")[0] == 0
    a = pd.read_csv(tmp_path / "u-out.csv", encoding="utf-8-sig")
    b = pd.read_csv(tmp_path / "g-out.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(a, b)


def test_codebook_has_one_row_per_allowed_value(capsys, tmp_path, miit):
    path = tmp_path / "codebook.csv"
    assert run(capsys, "codebook", "miit-2024-manufacturing", "-o", path)[0] == 0
    book = pd.read_csv(path, encoding="utf-8-sig", dtype={"value": str})
    assert list(book.columns[:8]) == [
        "column",
        "item",
        "dimension",
        "type",
        "value",
        "label_zh",
        "label_en",
        "points",
    ]
    scored = book[book["dimension"].isin(["foundation", "management", "performance"])]
    scored = scored[scored["type"] != "raw"]  # the optional raw numbers behind three bands
    assert len(scored) == 79  # the 79 options and bands of the scheme
    # the best answer of each question: every tick of a multi item, the top option otherwise
    best = scored.groupby("column").apply(
        lambda g: g["points"].sum() if g["type"].iloc[0] == "multi" else g["points"].max(),
        include_groups=False,
    )
    assert best.sum() == pytest.approx(100)
    bands = book[book["column"] == "investment"]
    assert bands[["min", "max"]].values.tolist() == [
        [0, 10],
        [10, 20],
        [20, 40],
        [40, 60],
        [60, 100],
    ]
    scenarios = book[book["type"] == "scenario"]
    assert len(scenarios) == 16 * 5
    assert set(book["column"]) >= {i.code for i in miit.items}


def test_template_headers(capsys, tmp_path, miit):
    path = tmp_path / "t.csv"
    assert run(capsys, "template", "miit-2024-manufacturing", "-o", path)[0] == 0
    header = pd.read_csv(path, encoding="utf-8-sig").columns.tolist()
    assert header[0] == "respondent_id"
    assert header[-len(miit.items) :] == [i.code for i in miit.items]


def test_instrument_check_reports_problems_with_exit_1(capsys, tmp_path, miit):
    data = yaml.safe_load(Path(miit.source).read_text(encoding="utf-8"))
    data["dimensions"][0]["indicators"][0]["items"][0]["options"][1]["points"] = -2
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, out, _ = run(capsys, "instrument", "check", bad)
    assert code == 1
    assert "bad.yaml" in out and "item 'network'" in out and "greater than or equal to 0" in out
    code, out, _ = run(capsys, "instrument", "check", miit.source)
    assert code == 0 and "ok" in out


def test_weights_json(capsys):
    code, out, _ = run(
        capsys, "weights", REFERENCE, "--method", "equal", "--level", "dimension", "--json"
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["weights"] == {
        "foundation": 0.25,
        "operations": 0.25,
        "management": 0.25,
        "performance": 0.25,
    }
    code, out, _ = run(capsys, "weights", REFERENCE, "--method", "instrument", "--json")
    weights = json.loads(out)["weights"]
    assert weights["equipment"] == pytest.approx(0.2)  # 20 of 100 points
    assert weights["lifecycle"] == 0  # operations: weight 0


def test_weights_ahp_from_a_matrix_file(capsys, tmp_path):
    matrix = tmp_path / "ahp.csv"
    codes = ["foundation", "operations", "management", "performance"]
    pd.DataFrame(
        [[1, 3, 3, 5], [1 / 3, 1, 1, 2], [1 / 3, 1, 1, 2], [1 / 5, 1 / 2, 1 / 2, 1]],
        index=codes,
        columns=codes,
    ).to_csv(matrix)
    code, out, _ = run(
        capsys, "weights", REFERENCE, "--method", f"ahp:{matrix}", "--level", "dimension"
    )
    assert code == 0 and "AHP consistency ratio" in out and "acceptable" in out


def test_synth_is_seeded(capsys, tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for path, seed in ((a, 3), (b, 3), (c, 4)):
        assert (
            run(capsys, "synth", "miit-2024-manufacturing", "-n", 50, "--seed", seed, "-o", path)[0]
            == 0
        )
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_shipped_data_is_what_the_seeded_commands_make(capsys, tmp_path):
    # Makefile target `data`: the shipped files must be reproducible from their seeds
    again = tmp_path / "example.csv"
    run(capsys, "synth", "miit-2024-manufacturing", "-n", 40, "--seed", 7, "--messy", "-o", again)
    assert again.read_bytes() == EXAMPLE.read_bytes()


# -- one error family: the user's mistakes exit 2, dmi's bugs exit 3 ---------------------------


def _raising(exc: BaseException):
    def command(*args, **kwargs):
        raise exc

    return command


def _score_raising(monkeypatch, exc: BaseException) -> None:
    """`dmi score` raises ``exc`` where it starts scoring the file."""
    import dmi.cli.score

    monkeypatch.setattr(dmi.cli.score, "score_file", _raising(exc))


SCORE = ["score", EXAMPLE, "-o", "never.csv", "-q"]


@pytest.mark.parametrize(
    "exc",
    [
        KeyError("weights"),
        ValueError("bad"),
        RuntimeError("oops"),
        TypeError("x"),
        AssertionError(),
    ],
)
def test_a_bug_is_exit_3_with_how_to_see_it_and_report_it(capsys, monkeypatch, exc):
    _score_raising(monkeypatch, exc)
    code, _, err = run(capsys, *SCORE)
    assert code == 3
    problem, hint = err.splitlines()
    said = {"KeyError": "KeyError: 'weights'", "ValueError": "ValueError: bad"}
    said |= {"RuntimeError": "RuntimeError: oops", "TypeError": "TypeError: x"}
    assert problem == f"dmi: internal error: {said.get(type(exc).__name__, 'AssertionError')}"
    assert hint.startswith("dmi: this is a bug in dmi, not a problem with your input")
    assert "run the command again with --debug" in hint and "issue tracker" in hint
    assert "Traceback" not in err


@pytest.mark.parametrize("where", ["before the command", "after it"])
def test_debug_shows_the_traceback_of_a_bug(capsys, monkeypatch, where):
    _score_raising(monkeypatch, KeyError("weights"))
    argv = ["--debug", *SCORE] if where == "before the command" else [*SCORE, "--debug"]
    code, _, err = run(capsys, *argv)
    assert code == 3
    assert err.startswith("Traceback (most recent call last):")
    assert "KeyError: 'weights'" in err and "dmi/cli/score.py" in err
    assert err.splitlines()[-2] == "dmi: internal error: KeyError: 'weights'"
    assert "the traceback is above" in err.splitlines()[-1]


def test_debug_shows_the_traceback_of_a_user_mistake_too(capsys):
    code, _, err = run(capsys, "--debug", *SCORE[:-1], "--weights", "magic")
    assert code == 2
    assert err.startswith("Traceback") and "ParameterError: The 'weighting' parameter" in err
    assert err.splitlines()[-1].startswith("dmi: error: The 'weighting' parameter")


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        (UsageError("--x: expected y"), "--x: expected y"),
        (FileFormatError("a.csv: not a table"), "a.csv: not a table"),
        (ModelFileError("m.json", "weights", "missing"), "m.json, field weights: missing"),
        (DmiError("anything dmi was given"), "anything dmi was given"),
        (FileNotFoundError("no such file: a.csv"), "no such file: a.csv"),
        (PermissionError(13, "Permission denied", "out.csv"), "out.csv: Permission denied"),
        (IsADirectoryError(21, "Is a directory", "folder"), "folder: Is a directory"),
        (OSError(28, "No space left on device"), "No space left on device"),
    ],
)
def test_what_the_user_gave_is_exit_2_in_one_plain_line(capsys, monkeypatch, exc, line):
    _score_raising(monkeypatch, exc)
    code, _, err = run(capsys, *SCORE)
    assert (code, err) == (2, f"dmi: error: {line}\n")


def test_an_os_error_that_names_no_file_of_the_user_is_a_bug(capsys, monkeypatch):
    _score_raising(monkeypatch, ConnectionResetError(104, "Connection reset by peer"))
    code, _, err = run(capsys, *SCORE)
    assert code == 3 and err.startswith("dmi: internal error: ConnectionResetError:")


def test_ctrl_c_is_130_and_a_closed_pipe_is_0(capsys, monkeypatch):
    _score_raising(monkeypatch, KeyboardInterrupt())
    assert run(capsys, *SCORE)[::2] == (130, "dmi: interrupted\n")
    _score_raising(monkeypatch, BrokenPipeError(32, "Broken pipe"))
    assert run(capsys, *SCORE)[::2] == (0, "")


def _ahp(tmp_path, text: str, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return f"ahp:{path}"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--weights", "magic"], "'weighting' parameter of IndexModel must be a str among"),
        (["--normalisation", "nope"], "unknown normalisation 'nope'"),
        (["--aggregation", "geometric", "--normalisation", "zscore"], "non-negative inputs"),
        (["--weights", "bod"], "use weight_level='dimension'"),
        (
            ["--weights", "{zero}", "--level", "dimension"],
            "judgement ('foundation', 'operations')",
        ),
        (["--weights", "{broken}", "--level", "dimension"], "not a YAML file"),
        (["--weights", "{words}", "--level", "dimension"], "row foundation, column operations"),
        (["--map", "{badmap}"], "not a column mapping file"),
        (["--model", "{notjson}"], "not valid JSON, perhaps truncated"),
        (["--tier-model", "{notjson}"], "not valid JSON, perhaps truncated"),
        (["--model", "{folder}"], "a folder, not a file"),
    ],
)
def test_bad_option_values_and_files_are_user_errors(capsys, tmp_path, argv, says):
    nodes = "foundation,operations,management,performance"
    words = "\n".join(
        [f",{nodes}"] + [f"{n},1,x,1,1" for n in nodes.split(",")]  # 'x' in every row
    )
    files = {
        "zero": _ahp(tmp_path, "judgements:\n - [foundation, operations, 0]\n"),
        "broken": _ahp(tmp_path, "judgements: [\n", "b.yaml"),
        "words": _ahp(tmp_path, words + "\n", "w.csv"),
        "badmap": str(tmp_path / "map.yaml"),
        "notjson": str(tmp_path / "model.json"),
        "folder": str(tmp_path),
    }
    (tmp_path / "map.yaml").write_text("a: [\n", encoding="utf-8")
    (tmp_path / "model.json").write_text('{"format": ', encoding="utf-8")
    argv = [a.format(**files) for a in argv]
    code, _, err = run(capsys, "score", EXAMPLE, "-o", tmp_path / "s.csv", "-q", *argv)
    assert code == 2, err
    assert err.startswith("dmi: error: ") and says in err and "Traceback" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["synth", "miit-2024-manufacturing", "-n", "0", "--seed", "1"], "n must be at least 1"),
        (
            ["synth", "miit-2024-manufacturing", "-n", "3", "--seed", "1", "--missing-rate", "2"],
            "missing_rate must be in [0, 1)",
        ),
        (["tiers", "fit", EXAMPLE, "--k", "1"], "--k: expected a whole number >= 2"),
        (["tiers", "fit", EXAMPLE, "--k", "9"], "too few rows: fitting 9 tiers"),
        (["report", EXAMPLE, "--row", "nobody"], "no row has respondent_id 'nobody'"),
    ],
)
def test_other_commands_say_user_errors_in_one_line(capsys, tmp_path, argv, says):
    suffix = ".html" if argv[0] == "report" else ".json" if argv[0] == "tiers" else ".csv"
    code, _, err = run(capsys, *argv, "-o", tmp_path / f"out{suffix}")
    assert code == 2, err
    assert err.splitlines()[-1].startswith("dmi: error: ") and says in err
    assert "internal error" not in err and "Traceback" not in err


def test_tiers_fit_on_a_constant_dimension_says_what_to_do_on_the_command_line(capsys, tmp_path):
    import pandas as pd

    code, _, err = run(capsys, "score", EXAMPLE, "-o", tmp_path / "s.csv", "-q")
    assert code == 0, err
    scores = pd.read_csv(tmp_path / "s.csv")
    scores["dim_operations"] = 50.0
    scores.to_csv(tmp_path / "flat.csv", index=False)
    code, _, err = run(capsys, "tiers", "fit", tmp_path / "flat.csv", "-o", tmp_path / "m.json")
    assert code == 2, err
    assert "column 'dim_operations' is constant (every row fitted on is 50)" in err
    assert "reference population in which it varies" in err  # what a command-line user can do


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("-o", "a file name ending .csv, .xlsx or .parquet"),
        ("--rejects", "a file name ending .csv, .xlsx or .parquet"),
        ("--cohort", "a file name ending .csv, .xlsx or .parquet"),
        ("--summary", "a file name"),
    ],
)
def test_an_output_that_is_a_folder_is_named_before_anything_is_read(
    capsys, tmp_path, option, expected
):
    folder = tmp_path / "adir"
    folder.mkdir()
    given = {"-o": tmp_path / "s.csv", option: folder}
    argv = [a for pair in given.items() for a in pair]
    code, _, err = run(capsys, "score", EXAMPLE, *argv, "-q")
    assert code == 2
    assert err == f"dmi: error: {folder} is a folder; expected {expected}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["adir"]
    # before a file is read: the fit on the input itself (--reference input) is not made
    code, _, err = run(capsys, "score", tmp_path / "nope.csv", *argv, "--reference", "input")
    assert code == 2 and "is a folder" in err

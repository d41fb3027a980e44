"""问卷星 (wjx.cn): the survey text `dmi wjx` writes, and its exports read back by `dmi score`.

The exports are made here from the survey text (tests/survey_tools_data.py), in both variants
(按选项序号 and 按选项文本), as CSV (GBK, UTF-8 with BOM) and XLSX; each must score exactly as
the same answers in the plain template do.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from dmi.cli import main
from dmi.instruments.export.wjx import wjx_questions, wjx_text
from dmi.io.tools import Source, detect_source
from dmi.io.tools.wjx import parse_duration
from tests.survey_tools_data import parse_wjx_text, plain_answers, wjx_export


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write(frame: pd.DataFrame, path, encoding: str = "utf-8-sig") -> None:
    if str(path).endswith(".xlsx"):
        # as 问卷星 writes a workbook: numbers (序号, option numbers, 0/1, -3) as numbers
        frame = frame.map(lambda v: int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v)
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, encoding=encoding)


def score(capsys, path, tmp_path, *more) -> tuple[pd.DataFrame, dict, str]:
    """Score a file (no tiers); the scores, the summary and stderr."""
    out, summary = tmp_path / f"{path.stem}-scores.csv", tmp_path / f"{path.stem}-summary.json"
    code, _, err = run(
        capsys, "score", path, "-o", out, "--summary", summary, "--tier-model", "none", *more
    )
    assert code == 0, err
    return (
        pd.read_csv(out, dtype=str, keep_default_na=False),
        json.loads(summary.read_text(encoding="utf-8")),
        err,
    )


@pytest.fixture(scope="module")
def survey(miit):
    plan = wjx_questions(miit)
    return plan, wjx_text(miit, "zh"), wjx_text(miit, "en")


# -- the survey text ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["miit", "all_types"])
def test_every_column_is_asked_once_in_numbered_questions(name, request):
    instrument = request.getfixturevalue(name)
    plan = wjx_questions(instrument)
    assert [q.number for q in plan] == list(range(1, len(plan) + 1))
    codes = [c for q in plan for c in q.codes]
    expected = [f.code for f in instrument.profile] + [i.code for i in instrument.items]
    assert codes == expected  # the template's order, each column once
    for lang in ("zh", "en"):
        asked = parse_wjx_text(wjx_text(instrument, lang))
        assert [a["number"] for a in asked] == [q.number for q in plan]
        for q, a in zip(plan, asked):
            assert a["title"] == " ".join(q.title(lang).split())
            assert a["options"] == [" ".join(c.label(lang).split()) for c in q.choices]
            assert len(a["rows"]) == (len(q.codes) if q.kind == "matrix" else 0)


def test_the_miit_survey_asks_each_indicators_scenarios_as_one_matrix(miit, survey):
    plan, zh, _ = survey
    matrices = [q for q in plan if q.kind == "matrix"]
    scenarios = [i.code for i in miit.items if i.type == "scenario"]
    in_matrices = [c for q in matrices for c in q.codes]
    assert set(scenarios) <= set(in_matrices)
    # lifecycle 4, production 6, supply chain 2, decision 4 (+ the two equipment rates)
    assert sorted(len(q.codes) for q in matrices) == [2, 2, 4, 4, 6]
    kinds = {q.codes[0]: q.kind for q in plan if len(q.codes) == 1}
    assert kinds["network"] == "multi" and kinds["strategy"] == "single"
    assert kinds["employees"] == "fill" and kinds["company_name"] == "fill"
    assert "7. 贵企业已建成哪些网络连接？（可多选）[多选题]" in zh.splitlines()


def test_dmi_wjx_writes_the_text(capsys, tmp_path, miit):
    out = tmp_path / "survey.txt"
    code, stdout, _ = run(capsys, "wjx", "miit-2024-manufacturing", "-o", out, "--lang", "en")
    assert code == 0 and "24 questions" in stdout
    assert out.read_text(encoding="utf-8") == wjx_text(miit, "en")


# -- reading exports back ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "lang", "file", "encoding"),
    [
        ("codes", "zh", "export.csv", "gbk"),
        ("codes", "zh", "export.csv", "utf-8-sig"),
        ("texts", "zh", "export.csv", "gbk"),
        ("texts", "zh", "export.csv", "utf-8-sig"),
        ("texts", "en", "export.xlsx", None),
        ("codes", "zh", "export.xlsx", None),
    ],
)
def test_an_export_scores_as_the_plain_template(
    capsys, tmp_path, miit, survey, variant, lang, file, encoding
):
    plan, zh, en = survey
    plain = plain_answers(miit, 40, seed=7)
    write(plain, tmp_path / "plain.csv")
    export = wjx_export(plain, zh if lang == "zh" else en, plan, variant)
    write(export, tmp_path / file, encoding or "utf-8")
    expected, plain_summary, _ = score(capsys, tmp_path / "plain.csv", tmp_path)
    got, summary, err = score(capsys, tmp_path / file, tmp_path)
    assert list(got.columns[-2:]) == ["answer_seconds", "too_fast"]
    assert list(got["answer_seconds"]) == [str(300 + 7 * i) for i in range(40)]
    assert set(got["too_fast"]) == {"0"}
    pd.testing.assert_frame_equal(got.iloc[:, :-2], expected)
    assert summary["read"] == summary["scored"] == 40 and summary["reconciles"]
    assert summary["imputed"] == plain_summary["imputed"]
    layout = "按选项序号" if variant == "codes" else "按选项文本"
    # the layout is told from the headers, the variant from the cells: each said as such
    words = "option numbers" if variant == "codes" else "option texts"
    assert summary["notes"][0] == (
        f"read as a 问卷星 export ({layout}, {words}; told from its cells); "
        "the layout detected from its headers"
    )
    assert "detected from its headers" in err
    assert summary["missing_items"] == [] and summary["unmatched_columns"] == []
    blanks = int(plain.drop(columns="respondent_id").isna().sum().sum())
    fills = int(plain[["employees", "company_name"]].isna().sum().sum())
    skipped = next(n for n in summary["notes"] if "skipped or not shown" in n)
    # every blank answer but the empty fill-ins was exported as skipped
    assert f"read as blank: {blanks - fills} (" in skipped
    assert f"empty fill-ins ((空)) read as blank: {fills}" in " ".join(summary["notes"])


def test_an_all_types_export_scores_as_the_plain_template(tmp_path, all_types):
    from dmi.bulk.run import score_file
    from dmi.scoring.model import IndexModel

    model = IndexModel(all_types).fit()
    plan = wjx_questions(all_types)
    plain = plain_answers(all_types, 30, seed=3)
    write(plain, tmp_path / "plain.csv")
    expected, _ = score_file(tmp_path / "plain.csv", tmp_path / "p.csv", model)
    for variant in ("codes", "texts"):
        export = wjx_export(plain, wjx_text(all_types, "zh"), plan, variant)
        write(export, tmp_path / f"{variant}.csv")
        summary, _ = score_file(tmp_path / f"{variant}.csv", tmp_path / f"{variant}-s.csv", model)
        assert (summary.read, summary.scored, summary.rejected) == (
            expected.read,
            expected.scored,
            expected.rejected,
        )
        got = pd.read_csv(tmp_path / f"{variant}-s.csv", dtype=str)
        pd.testing.assert_frame_equal(
            got.drop(columns=["answer_seconds", "too_fast"]),
            pd.read_csv(tmp_path / "p.csv", dtype=str),
        )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2分3秒", 123),
        ("123秒", 123),
        ("1时2分3秒", 3723),
        ("1小时2分", 3720),
        ("0分59秒", 59),
        ("45", 45),
        (" 10秒 ", 10),
    ],
)
def test_time_taken_is_read_in_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "2分钟左右", None, "秒"])
def test_a_time_that_is_no_duration_is_nan(text):
    assert math.isnan(parse_duration(text))


def test_implausibly_fast_rows_are_flagged_not_rejected(capsys, tmp_path, miit, survey):
    plan, zh, _ = survey
    plain = plain_answers(miit, 6, seed=1)
    # 24 questions x 2 s = 48 s: 47 s is too fast, 48 s is not; "?" is no duration
    seconds = [47, 48, 300, 5, 100, 60]
    export = wjx_export(plain, zh, plan, "codes", seconds=seconds)
    export.loc[5, "所用时间"] = "?"
    write(export, tmp_path / "fast.csv")
    got, summary, _ = score(capsys, tmp_path / "fast.csv", tmp_path)
    assert summary["scored"] == 6 and summary["rejected"] == 0
    # the scores say it too, row by row: the seconds, and the flag (blank without a time)
    assert list(got["answer_seconds"]) == ["47", "48", "300", "5", "100", ""]
    assert list(got["too_fast"]) == ["1", "0", "0", "1", "0", ""]
    notes = " ".join(summary["notes"])
    assert "Rows answered implausibly fast (under 48 seconds for 24 questions" in notes
    assert "(row numbers: 2, 5)" in notes  # spreadsheet rows of the 47 s and 5 s answers
    assert "Rows whose 所用时间 is not a duration" in notes and "speed: 1 (row numbers: 7)" in notes
    # the setting: 4 s a question makes 96 s the line
    _, summary, _ = score(capsys, tmp_path / "fast.csv", tmp_path, "--min-seconds", "4")
    notes = " ".join(summary["notes"])
    assert "Rows answered implausibly fast (under 96 seconds" in notes
    assert "rejected): 3 (row numbers: 2, 3, 5)" in notes


def test_minus_two_and_minus_three_are_blank_and_counted(capsys, tmp_path, miit, survey):
    plan, zh, _ = survey
    plain = plain_answers(miit, 4, seed=2, blank=0.0)
    export = wjx_export(plain, zh, plan, "codes")
    strategy = next(h for h in export.columns if h.startswith(f"{_number(plan, 'strategy')}、"))
    export.loc[0, strategy] = "-2"
    export.loc[1, strategy] = "-3"
    write(export, tmp_path / "skips.csv")
    _, summary, _ = score(capsys, tmp_path / "skips.csv", tmp_path)
    assert summary["imputed"] == {"strategy": 2}  # MIIT: a missing answer scores as lowest
    assert any("read as blank: 2 (strategy 2)" in n for n in summary["notes"])


def test_a_bad_option_number_or_flag_rejects_the_row_naming_the_question(
    capsys, tmp_path, miit, survey
):
    plan, zh, _ = survey
    plain = plain_answers(miit, 4, seed=2, blank=0.0)
    export = wjx_export(plain, zh, plan, "codes")
    n_strategy, n_network = _number(plan, "strategy"), _number(plan, "network")
    strategy = next(h for h in export.columns if h.startswith(f"{n_strategy}、"))
    export.loc[1, strategy] = "9"  # the question has 6 options
    flag = next(h for h in export.columns if h.startswith(f"第{n_network}题("))
    export.loc[2, flag] = "7"
    write(export, tmp_path / "bad.csv")
    rejects = tmp_path / "rejects.csv"
    _, summary, _ = score(capsys, tmp_path / "bad.csv", tmp_path, "--rejects", rejects)
    assert (summary["read"], summary["scored"], summary["rejected"]) == (4, 2, 2)
    table = pd.read_csv(rejects, dtype=str).set_index("row")
    # the item's column, the cell as written, and the file's column with what it expects
    assert table.loc["3", "column"] == "strategy" and table.loc["3", "value"] == "9"
    assert table.loc["3", "reason"] == (
        # the header as the file writes it (？, not the ? NFKC gives)
        f"{strategy}: not an option number of 第{n_strategy}题; "
        "expected a number from 1 to 6, "
        "or -2 or -3 (skipped)"
    )
    assert table.loc["4", "column"] == "network" and table.loc["4", "value"] == "7"
    assert table.loc["4", "reason"].startswith(f"{flag}: not a 0/1 cell of 第{n_network}题's")


def test_other_columns_meta_and_unmatched_columns_are_named(capsys, tmp_path, miit, survey):
    plan, zh, _ = survey
    plain = plain_answers(miit, 3, seed=4)
    export = wjx_export(plain, zh, plan, "texts")
    export.insert(10, "7、(其他（请补充）:)", ["云网络", None, None])
    export["99、股东人数"] = ["2", "3", "1"]
    export["总分"] = ["0", "0", "0"]
    write(export, tmp_path / "extra.csv")
    got, summary, _ = score(capsys, tmp_path / "extra.csv", tmp_path)
    notes = summary["notes"]
    assert "问卷星 meta columns dropped: 提交答卷时间, 来源, 来源详情, 来自IP, 总分" in notes
    # the header as the file writes it, its full-width brackets kept
    assert any("'其他' (other) columns ignored" in n and "7、(其他（请补充）:)" in n for n in notes)
    assert any(n.endswith("(ignored): 99、股东人数") for n in notes)
    assert summary["scored"] == 3


def test_edited_question_texts_are_matched_by_their_number(capsys, tmp_path, miit, survey):
    plan, zh, _ = survey
    plain = plain_answers(miit, 5, seed=5)
    write(plain, tmp_path / "plain.csv")
    export = wjx_export(plain, zh, plan, "texts")
    n = _number(plan, "it_coverage")
    old = next(h for h in export.columns if h.startswith(f"{n}、"))
    export = export.rename(columns={old: f"{n}、信息系统覆盖情况"})
    write(export, tmp_path / "edited.csv")
    expected, _, _ = score(capsys, tmp_path / "plain.csv", tmp_path)
    got, summary, _ = score(capsys, tmp_path / "edited.csv", tmp_path)
    pd.testing.assert_frame_equal(got.iloc[:, :-2], expected)
    assert (
        f"问卷星 questions matched by their number in the dmi survey: {n}、信息系统覆盖情况"
        in (summary["notes"])
    )
    # renumbered (another survey): numbers are not trusted, the edited question is unmatched
    shifted = export.rename(columns=lambda h: _renumber(h, 100))
    write(shifted, tmp_path / "other.csv")
    _, summary, _ = score(capsys, tmp_path / "other.csv", tmp_path)
    unmatched = next(x for x in summary["notes"] if x.startswith("问卷星 columns matching no"))
    assert unmatched.endswith(f"(ignored): {n + 100}、信息系统覆盖情况")
    assert "it_coverage" in summary["missing_items"]


def test_the_id_column_can_be_chosen(capsys, tmp_path, miit, survey):
    plan, zh, _ = survey
    plain = plain_answers(miit, 3, seed=6, blank=0.0)
    export = wjx_export(plain, zh, plan, "texts")
    name = next(h for h in export.columns if h.startswith(f"{_number(plan, 'company_name')}、"))
    write(export, tmp_path / "ids.csv")
    got, _, _ = score(capsys, tmp_path / "ids.csv", tmp_path, "--id-column", name)
    assert list(got["respondent_id"]) == list(plain["company_name"])
    code, _, err = run(
        capsys, "score", tmp_path / "ids.csv", "-o", tmp_path / "x.csv", "--id-column", "编号X"
    )
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("dmi: error: ") and "no column '编号X'" in err


def test_from_wjx_refuses_a_file_that_is_not_an_export(capsys, tmp_path):
    code, _, err = run(
        capsys, "score", "data/example-bulk.csv", "-o", tmp_path / "x.csv", "--from", "wjx"
    )
    assert code == 2 and err.count("\n") == 1
    assert "not a 问卷星 export" in err and "data/example-bulk.csv" in err


def test_the_layout_is_detected_from_the_headers():
    assert detect_source(["序号", "提交答卷时间", "所用时间", "1、a"]) == "wjx"
    assert detect_source(["1、行业", "2、规模", "第3题(无)", "respondent_id"]) == "wjx"
    assert detect_source(["respondent_id", "1、行业", "network", "strategy"]) == "plain"
    assert detect_source(["_id", "_uuid", "network"]) == "kobo"
    assert detect_source(["respondent_id", "network", "strategy"]) == "plain"
    with pytest.raises(ValueError, match="unknown input layout 'csv'"):
        Source("csv")


def _number(plan, code: str) -> int:
    return next(q.number for q in plan if code in q.codes)


def _renumber(header: str, by: int) -> str:
    import re

    header = re.sub(r"^(\d+)、", lambda m: f"{int(m.group(1)) + by}、", header)
    return re.sub(r"^第(\d+)题", lambda m: f"第{int(m.group(1)) + by}题", header)


def test_ragged_lines_and_repeated_ids_are_rejected_as_in_a_plain_file(
    capsys, tmp_path, miit, survey
):
    plan, zh, _ = survey
    plain = plain_answers(miit, 5, seed=8, blank=0.0)
    export = wjx_export(plain, zh, plan, "codes")
    export.loc[3, "序号"] = "3"  # row 5 repeats the id of row 4
    lines = export.to_csv(index=False, lineterminator="\n").splitlines()
    lines[2] += ",extra"  # row 3 (序号 2) has one field too many
    (tmp_path / "messy.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    rejects = tmp_path / "rejects.csv"
    for output in ("s.csv", "s.xlsx"):  # read once (CSV), or with the duplicate pass (XLSX)
        code, out, err = run(
            capsys,
            "score",
            tmp_path / "messy.csv",
            "-o",
            tmp_path / output,
            "--rejects",
            rejects,
            "--tier-model",
            "none",
        )
        assert code == 0, err
        assert "read 5 rows: 2 scored, 3 rejected" in out
        table = pd.read_csv(rejects, dtype=str)
        assert list(table["row"]) == ["3", "4", "5"]
        assert list(table["respondent_id"]) == ["2", "3", "3"]  # the ragged line's is its 序号
        assert table["reason"][0].startswith("ragged row")
        assert table["reason"][1].startswith("duplicate respondent_id")


@pytest.mark.parametrize("output", ["scores.parquet", "scores.xlsx"])
def test_the_speed_columns_reach_every_output_kind(capsys, tmp_path, miit, survey, output):
    plan, zh, _ = survey
    plain = plain_answers(miit, 3, seed=1)
    write(wjx_export(plain, zh, plan, "codes", seconds=[10, 200, 30]), tmp_path / "w.csv")
    code, _, err = run(capsys, "score", tmp_path / "w.csv", "-o", tmp_path / output, "-q")
    assert code == 0, err
    if output.endswith(".parquet"):
        got = pd.read_parquet(tmp_path / output)
    else:
        got = pd.read_excel(tmp_path / output, dtype=str)
    assert list(got["too_fast"]) == ["1", "0", "1"]
    assert list(got["answer_seconds"]) == ["10", "200", "30"]


def test_the_dask_engine_writes_the_same_scores_and_speed_columns(tmp_path, miit, survey):
    from dmi.bulk.engines.dask import local_client
    from dmi.bulk.run import score_file
    from dmi.scoring.model import IndexModel

    plan, zh, _ = survey
    plain = plain_answers(miit, 30, seed=12)
    write(
        wjx_export(plain, zh, plan, "codes", seconds=[20 * i for i in range(30)]),
        tmp_path / "w.csv",
    )
    model = IndexModel(miit).fit()
    local, _ = score_file(tmp_path / "w.csv", tmp_path / "local.csv", model, chunk_rows=7)
    with local_client(n_workers=1, processes=False) as client:
        remote, _ = score_file(
            tmp_path / "w.csv",
            tmp_path / "dask.csv",
            model,
            chunk_rows=7,
            engine="dask",
            client=client,
        )
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert pd.read_csv(tmp_path / "dask.csv", dtype=str)["too_fast"].tolist()[:4] == [
        "1",
        "1",
        "1",
        "0",
    ]
    assert remote.notes == local.notes


# -- a matrix edited in 问卷星 -------------------------------------------------------------------


def _matrix_rows(export: pd.DataFrame, number: int) -> list[str]:
    return [h for h in export.columns if h.startswith(f"第{number}题(")]


def test_an_edited_matrix_row_is_matched_by_its_place_in_a_dmi_survey(
    capsys, tmp_path, miit, survey
):
    # one row's text edited in 问卷星 made every row of the matrix unmatched: the whole
    # matrix missing for every company, exit 0 even with --strict
    plan, zh, _ = survey
    plain = plain_answers(miit, 6, seed=12)
    write(plain, tmp_path / "plain.csv")
    n = _number(plan, "sc_quality")
    export = wjx_export(plain, zh, plan, "codes")
    row = next(h for h in _matrix_rows(export, n) if "质量管理" in h)
    edited = row[:-1] + "（含质量追溯）)"
    write(export.rename(columns={row: edited}), tmp_path / "edited.csv")
    expected, _, _ = score(capsys, tmp_path / "plain.csv", tmp_path)
    got, summary, _ = score(capsys, tmp_path / "edited.csv", tmp_path, "--strict")
    pd.testing.assert_frame_equal(got.iloc[:, :-2], expected)
    numbered = next(x for x in summary["notes"] if "matched by their number" in x)
    assert numbered.endswith(edited) and summary["missing_items"] == []
    # renumbered (another survey): the edited row alone is unmatched, its matrix read
    shifted = export.rename(columns={row: edited}).rename(columns=lambda h: _renumber(h, 100))
    write(shifted, tmp_path / "other.csv")
    got, summary, _ = score(capsys, tmp_path / "other.csv", tmp_path)
    unmatched = next(x for x in summary["notes"] if x.startswith("问卷星 columns matching no"))
    assert unmatched.endswith(f"(ignored): {_renumber(edited, 100)}")
    assert summary["missing_items"] == ["sc_quality"]
    same = [c for c in expected.columns if c not in ("dmi", "level") and not c.startswith("dim_")]
    pd.testing.assert_frame_equal(got[same], expected[same])


@pytest.mark.parametrize("at", ["end", "start"])
def test_a_row_added_to_a_matrix_is_ignored_on_its_own(capsys, tmp_path, miit, survey, at):
    # a scenario row added to a matrix in another version of the survey dropped the matrix
    plan, zh, _ = survey
    plain = plain_answers(miit, 6, seed=13)
    write(plain, tmp_path / "plain.csv")
    n = _number(plan, "sc_after_sales")
    export = wjx_export(plain, zh, plan, "texts")
    rows = _matrix_rows(export, n)
    added = f"第{n}题(在“研发管理”场景中，贵企业的数字化达到了哪一级？)"
    where = export.columns.get_loc(rows[-1]) + 1 if at == "end" else export.columns.get_loc(rows[0])
    export.insert(where, added, export[rows[0]])
    write(export, tmp_path / "added.csv")
    expected, _, _ = score(capsys, tmp_path / "plain.csv", tmp_path)
    got, summary, _ = score(capsys, tmp_path / "added.csv", tmp_path, "--strict")
    pd.testing.assert_frame_equal(got.iloc[:, :-2], expected)
    unmatched = next(x for x in summary["notes"] if x.startswith("问卷星 columns matching no"))
    assert unmatched.endswith(f"(ignored): {added}")
    if at == "start":
        # a row added in front, another edited: the rows matched by their text no longer
        # stand at their places, so the edited one is not matched by its place (it would be
        # the wrong item's)
        edited = rows[1][:-1] + "（修订）)"
        write(export.rename(columns={rows[1]: edited}), tmp_path / "both.csv")
        _, summary, _ = score(capsys, tmp_path / "both.csv", tmp_path)
        unmatched = next(x for x in summary["notes"] if x.startswith("问卷星 columns matching no"))
        assert unmatched.endswith(f"(ignored): {added}, {edited}")
        assert summary["missing_items"] == [plan[n - 1].codes[1]]


def test_a_plain_file_with_wjx_meta_columns_is_read_as_a_plain_file(capsys, tmp_path, miit):
    # an agency's own file with 序号 and 提交答卷时间 beside the template's columns was refused
    # as "not a 问卷星 export", though no 问卷星 layout was asked for
    assert detect_source(["序号", "提交答卷时间", "respondent_id", "network"]) == "plain"
    assert detect_source(["序号", "提交答卷时间", "所用时间", "企业编号", "network"]) == "plain"
    assert detect_source(["序号", "提交答卷时间", "第3题(无)"]) == "wjx"
    plain = plain_answers(miit, 4, seed=9)
    write(plain, tmp_path / "plain.csv")
    both = plain.copy()
    both.insert(0, "提交答卷时间", "2024/5/6")
    both.insert(0, "序号", ["1", "2", "3", "4"])
    write(both, tmp_path / "both.csv")
    expected, _, _ = score(capsys, tmp_path / "plain.csv", tmp_path)
    got, summary, _ = score(capsys, tmp_path / "both.csv", tmp_path)
    pd.testing.assert_frame_equal(got, expected)
    assert summary["unmatched_columns"] == ["序号", "提交答卷时间"]
    # forced, it is refused as before; detected from question headers that match nothing of
    # the instrument, the error says how to read it as a plain file
    code, _, err = run(capsys, "score", tmp_path / "both.csv", "-o", tmp_path / "x.csv",
                       "--from", "wjx")  # fmt: skip
    assert code == 2 and "not a 问卷星 export" in err and "--from plain" not in err
    other = pd.DataFrame({"序号": ["1"], "1、联系人": ["张三"], "2、电话": ["1"]})
    write(other, tmp_path / "other.csv")
    code, _, err = run(capsys, "score", tmp_path / "other.csv", "-o", tmp_path / "x.csv")
    assert code == 2 and err.count("\n") == 1
    assert "no question of this 问卷星 export matches" in err
    assert "read as a 问卷星 export from its headers; if it is not one, choose --from plain" in err


# -- --map on an export ------------------------------------------------------------------------


def _map_file(path, entries: dict[str, str]):
    pd.DataFrame({"column": list(entries), "code": list(entries.values())}).to_csv(
        path, index=False, encoding="utf-8-sig"
    )
    return path


def test_map_sends_an_exports_own_headers_to_the_instruments_columns(
    capsys, tmp_path, miit, survey
):
    # --map was applied to the columns the layout had already made: a header of the export
    # was "a column the file does not have", and nothing could repair an unmatched question
    plan, zh, _ = survey
    plain = plain_answers(miit, 5, seed=14)
    write(plain, tmp_path / "plain.csv")
    n = _number(plan, "sc_quality")
    export = wjx_export(plain, zh, plan, "codes")
    row = next(h for h in _matrix_rows(export, n) if "质量管理" in h)
    export = export.rename(columns={row: row[:-1] + "（含质量追溯）)"})
    export = export.rename(columns=lambda h: _renumber(h, 100))
    edited = _renumber(row[:-1] + "（含质量追溯）)", 100)
    write(export, tmp_path / "other.csv")
    expected, _, _ = score(capsys, tmp_path / "plain.csv", tmp_path)
    # as the file writes the header, or as the notes used to name it (NFKC)
    for name, header in [
        ("written", edited),
        ("nfkc", edited.replace("，", ",").replace("？", "?")),
    ]:
        table = _map_file(tmp_path / f"{name}.csv", {header: "sc_quality"})
        got, summary, err = score(capsys, tmp_path / "other.csv", tmp_path, "--map", table)
        pd.testing.assert_frame_equal(got.iloc[:, :-2], expected)
        assert summary["missing_items"] == [] and "map names columns" not in err
        assert (
            f"问卷星 columns read as the column map says: {edited} -> sc_quality"
            in (summary["notes"])
        )
    # a header the file does not have is named as such; "" leaves a question out
    name = next(h for h in export.columns if h.startswith(f"{_number(plan, 'strategy') + 100}、"))
    table = _map_file(tmp_path / "more.csv", {"没有这列": "network", name: ""})
    _, summary, err = score(capsys, tmp_path / "other.csv", tmp_path, "--map", table)
    assert "the map names columns the file does not have: 没有这列" in err
    assert summary["mapping"]["unused_map"] == ["没有这列"]
    assert "strategy" in summary["missing_items"]
    assert f"问卷星 columns the column map leaves out: {name}" in summary["notes"]


def test_map_names_the_id_and_refuses_an_option_column(capsys, tmp_path, miit, survey):
    plan, zh, _ = survey
    plain = plain_answers(miit, 3, seed=15, blank=0.0)
    export = wjx_export(plain, zh, plan, "codes")
    name = next(h for h in export.columns if h.startswith(f"{_number(plan, 'company_name')}、"))
    write(export, tmp_path / "ids.csv")
    table = _map_file(tmp_path / "id.csv", {name: "respondent_id"})
    got, _, _ = score(capsys, tmp_path / "ids.csv", tmp_path, "--map", table)
    assert list(got["respondent_id"]) == list(plain["company_name"])
    # a 0/1 column is one option's cells: --map can leave it out, not send it to a question
    option = next(h for h in export.columns if h.startswith(f"第{_number(plan, 'network')}题("))
    table = _map_file(tmp_path / "option.csv", {option: "network"})
    code, _, err = run(capsys, "score", tmp_path / "ids.csv", "-o", tmp_path / "x.csv",
                       "--map", table)  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert f"{option!r} is one option's 0/1 column of 第" in err and "leave it out" in err

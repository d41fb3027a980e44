"""`dmi eligibility` on a 问卷星 or KoboToolbox export that holds the MIIT survey's answers beside
the firms' facts: the survey's questions are read by the tool's layout (dmi.io.tools), as
`dmi score` reads the same export, and the facts by their codes and labels, as in any file.

The exports are made here from the survey text `dmi wjx` writes and the form `dmi xlsform`
writes (tests/survey_tools_data.py), with fact questions added after the survey's, as an agency
adds them to the questionnaire. What each firm should get is what `dmi score` gives the same
export: its level is the firm's computed digital level, so the results must be those of a plain
facts file that gives that level as ``digital_level_computed``.
"""

from __future__ import annotations

import json
import unicodedata

import pandas as pd
import pytest

import dmi.eligibility as el
from dmi.bulk.eligibility import evaluate_file
from dmi.cli.main import main
from dmi.instruments.export.wjx import wjx_questions, wjx_text
from dmi.instruments.export.xlsform import xlsform_sheets
from dmi.io.tools.wjx import META_COLUMNS
from tests.survey_tools_data import kobo_export, plain_answers, wjx_export

N = 12
# the firms' facts: the same for each firm but its revenue, and its stated digital level (the
# level `dmi score` gives its answers, so that a level computed otherwise is a disagreement)
FACTS = {
    "revenue_y1": [str(3000 + 100 * i) for i in range(N)],
    "revenue_y2": ["2800"] * N,
    "rd_y1": ["150"] * N,
    "debt_ratio": ["50"] * N,
    "staff": ["80"] * N,
    "quality_items": ["2"] * N,
}
# how a 问卷星 survey asks them, after the survey's 24 questions
WJX_FACTS = {
    "revenue_y1": "25、上年营业收入（万元）",
    "revenue_y2": "26、前年营业收入（万元）",
    "rd_y1": "27、上年研发费用（万元）",
    "debt_ratio": "28、上年末资产负债率（%）",
    "staff": "29、职工总数（人）",
    "quality_items": "30、质量管理项数",
    "digital_level": "31、数字化水平等级",
}
# how a KoboToolbox form names them: in a group of their own
KOBO_FACTS = {code: f"facts/{code}" for code in WJX_FACTS}


def matched_name(header: str) -> str:
    """A header as a run's summary names it (as the readers match it: NFKC)."""
    return unicodedata.normalize("NFKC", header)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def write(frame: pd.DataFrame, path) -> None:
    if str(path).endswith(".xlsx"):
        # as the tools write a workbook: numbers (序号, option numbers, 0/1, -3) as numbers
        frame = frame.map(lambda v: int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v)
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def answers(miit) -> pd.DataFrame:
    return plain_answers(miit, N, seed=29)


def dmi_score(capsys, path, tmp_path, *more) -> pd.DataFrame:
    """``dmi score PATH`` (official method, no tiers, ``more`` options), which must end well:
    its scores (its other outputs where ``more`` names them)."""
    out = tmp_path / f"{path.stem}-scores.csv"
    code, _, err = run(capsys, "score", path, "-o", out, "--tier-model", "none", *more)
    assert code == 0, err
    return read(out)


def levels_by_score(capsys, path, tmp_path) -> pd.Series:
    """The official level `dmi score` gives each respondent of ``path``."""
    scores = dmi_score(capsys, path, tmp_path)
    assert len(scores) == N, "the export's answers are all valid"
    return scores.set_index("respondent_id")["level"]


def wjx_with_facts(
    answers, miit, variant: str, levels: pd.Series | None, seconds: list[int] | None = None
) -> pd.DataFrame:
    """The 问卷星 export of ``answers`` (ids 1 ... N in 序号) with the fact questions after the
    survey's; the stated digital level is ``levels`` (blank without), the time each row took
    (所用时间) ``seconds`` (default: 5 minutes and more, none too fast)."""
    questions = wjx_questions(miit)
    export = wjx_export(answers, wjx_text(miit, "zh"), questions, variant, seconds=seconds)
    for code, header in WJX_FACTS.items():
        export[header] = _fact_cells(code, levels, list(export["序号"]))
    return export


def kobo_with_facts(answers, miit, values: str, multi: str, levels) -> pd.DataFrame:
    """The KoboToolbox export of ``answers`` (ids ``uuid-1`` ... in _uuid) with the facts'
    group before the meta columns."""
    export = kobo_export(answers, xlsform_sheets(miit), answers=values, multi=multi)
    at = list(export.columns).index("_id")
    for k, (code, header) in enumerate(KOBO_FACTS.items()):
        export.insert(at + k, header, _fact_cells(code, levels, list(export["_uuid"])))
    return export


def _fact_cells(code: str, levels: pd.Series | None, ids: list[str]) -> list[str]:
    if code == "digital_level":
        return [levels[i] if levels is not None else "" for i in ids]
    return FACTS[code][: len(ids)]


def plain_twin(ids: list[str], levels: pd.Series, path) -> None:
    """The same firms in a plain facts file, their level given as computed before."""
    frame = pd.DataFrame({"respondent_id": ids, **FACTS})
    frame["digital_level"] = [levels[i] for i in ids]
    frame["digital_level_computed"] = [levels[i] for i in ids]
    frame.to_csv(path, index=False)


def eligibility(capsys, path, tmp_path, *more) -> tuple[pd.DataFrame, dict, str]:
    """``dmi eligibility`` under the 2022 rules (whose 专精特新 scorecard reads the level):
    the results, the summary and stderr."""
    out, summary = tmp_path / f"{path.stem}-out.csv", tmp_path / f"{path.stem}-summary.json"
    code, _, err = run(
        capsys, "eligibility", path, "-o", out, "--summary", summary, "--policy", "2022", *more
    )
    assert code == 0, err
    return read(out), json.loads(summary.read_text(encoding="utf-8")), err


def assert_rejects_as_dmi_score(capsys, path, tmp_path, found: pd.DataFrame) -> None:
    """``found`` (the rejects of ``dmi eligibility`` on ``path``) are the rows, columns, cells and
    reasons ``dmi score`` gives the same export."""
    scored = tmp_path / "score-rejects.csv"
    dmi_score(capsys, path, tmp_path, "--rejects", scored)
    pd.testing.assert_frame_equal(found, read(scored))


def read_at_the_levels_of_dmi_score(capsys, path, tmp_path, miit, levels) -> tuple[dict, str]:
    """``dmi eligibility`` on an export whose stated levels are ``dmi score``'s: every row read,
    every level computed from the survey and none disagreeing, the results those of the plain
    facts file with those levels. The summary and stderr."""
    results, summary, err = eligibility(capsys, path, tmp_path)
    assert summary["read"] == summary["evaluated"] + summary["rejected"] == N
    assert summary["rejected"] == 0
    assert summary["survey_items"] == len(miit.items)
    assert summary["digital_level"] == {"computed": N, "disagrees": 0}
    same_as_the_plain_twin(capsys, tmp_path, results, list(levels.index), levels)
    return summary, err


def same_as_the_plain_twin(capsys, tmp_path, results, ids, levels) -> None:
    plain_twin(ids, levels, tmp_path / "plain.csv")
    expected, _, _ = eligibility(capsys, tmp_path / "plain.csv", tmp_path)
    pd.testing.assert_frame_equal(results, expected)


@pytest.mark.parametrize(
    ("variant", "suffix"), [("codes", ".csv"), ("texts", ".csv"), ("codes", ".xlsx")]
)
def test_a_wjx_export_gives_the_digital_level_dmi_score_gives(
    capsys, tmp_path, miit, answers, variant, suffix
):
    # the survey's questions were matched as a plain file's headers: too few of them by their
    # text (第N题(选项) 0/1 columns and matrix rows are no item's name), so no level was computed,
    # and the ones matched were read as option numbers or texts the scoring does not know
    path = tmp_path / f"wjx-{variant}{suffix}"
    write(wjx_with_facts(answers, miit, variant, None), path)
    levels = levels_by_score(capsys, path, tmp_path)
    assert levels.nunique() > 1, "the firms' levels differ, so a wrong one shows"
    write(wjx_with_facts(answers, miit, variant, levels), path)
    summary, err = read_at_the_levels_of_dmi_score(capsys, path, tmp_path, miit, levels)
    # what was read and what was not, in the file's own headers
    matched = summary["mapping"]["matched"]
    assert matched[matched_name(WJX_FACTS["revenue_y1"])] == "revenue_y1"
    assert matched["序号"] == "respondent_id"
    options = [h for h in matched if h.startswith("第7题(")]
    assert variant == "texts" or (options and {matched[h] for h in options} == {"network"})
    assert not [h for h in summary["unmatched_columns"] if h.startswith("第")]
    assert "6、企业名称" in summary["unmatched_columns"]  # the survey's profile: no fact
    assert summary["notes"][0].startswith("read as a 问卷星 export (按选项")
    assert f"note: {summary['notes'][0]}\n" in err
    assert not any("matching no question" in n and "上年营业收入" in n for n in summary["notes"])


@pytest.mark.parametrize(("values", "multi"), [("values", "one"), ("zh", "split")])
def test_a_kobo_export_gives_the_digital_level_dmi_score_gives(
    capsys, tmp_path, miit, answers, values, multi
):
    # a select_one's XML value or label, a select_multiple's space-separated values or its
    # split 0/1 columns: read as `dmi score` reads them, not as a plain file's cells
    path = tmp_path / f"kobo-{values}-{multi}.csv"
    write(kobo_with_facts(answers, miit, values, multi, None), path)
    levels = levels_by_score(capsys, path, tmp_path)
    write(kobo_with_facts(answers, miit, values, multi, levels), path)
    summary, _ = read_at_the_levels_of_dmi_score(capsys, path, tmp_path, miit, levels)
    matched = summary["mapping"]["matched"]
    assert matched["facts/revenue_y1"] == "revenue_y1" and matched["_uuid"] == "respondent_id"
    assert summary["notes"][0].startswith("read as a KoboToolbox export")
    assert "KoboToolbox respondent ids from column _uuid" in summary["notes"]


def test_the_python_api_reads_a_tool_export_as_the_command_does(capsys, tmp_path, miit, answers):
    path = tmp_path / "wjx.csv"
    write(wjx_with_facts(answers, miit, "codes", None), path)
    levels = levels_by_score(capsys, path, tmp_path)
    write(wjx_with_facts(answers, miit, "codes", levels), path)
    summary, mapping = evaluate_file(path, tmp_path / "api.csv", policy="2022")
    assert summary.reconciles and (summary.read, summary.rejected) == (N, 0)
    assert summary.digital_level == {"computed": N, "disagrees": 0}
    assert {c for c in mapping.rename.values() if c not in el.FACTS} == {i.code for i in miit.items}
    cli, _, _ = eligibility(capsys, path, tmp_path)
    pd.testing.assert_frame_equal(read(tmp_path / "api.csv"), cli)
    # without the survey step the answers are not read (the stated level is)
    summary, mapping = evaluate_file(path, tmp_path / "facts.csv", policy="2022", survey=False)
    assert summary.digital_level["computed"] == 0 and summary.survey_items == 0
    assert summary.reconciles and summary.evaluated == N


def test_a_bad_answer_in_a_wjx_export_rejects_its_row_naming_row_column_and_value(
    capsys, tmp_path, miit, answers
):
    export = wjx_with_facts(answers, miit, "codes", None)
    single = next(h for h in export.columns if h.startswith("10、"))  # it_coverage
    option = "第7题(车间工控网络)"  # one of network's 0/1 columns
    export.loc[2, single] = "9"  # no such option: 第10题 has fewer
    export.loc[5, option] = "x"
    path = tmp_path / "bad.csv"
    write(export, path)
    out, rejects, summ = tmp_path / "o.csv", tmp_path / "r.csv", tmp_path / "s.json"
    args = ("--policy", "2022", "--rejects", rejects, "--summary", summ)
    code, stdout, err = run(capsys, "eligibility", path, "-o", out, *args)
    assert code == 0, err
    summary = json.loads(summ.read_text(encoding="utf-8"))
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (N, N - 2, 2)
    assert f"read {N} rows: {N - 2} evaluated, 2 rejected" in stdout
    found = read(rejects)
    assert found[["row", "respondent_id", "column", "value"]].values.tolist() == [
        ["4", "3", "it_coverage", "9"],  # the header is row 1: 序号 3 is row 4
        ["7", "6", "network", "x"],
    ]
    assert found["reason"][0].startswith(f"{single}: not an option number of 第10题; expected")
    assert found["reason"][1].startswith(f"{option}: not a 0/1 cell of 第7题's options")
    # the rows and reasons `dmi score` gives the same cells
    assert_rejects_as_dmi_score(capsys, path, tmp_path, found)


def test_a_bad_answer_in_a_kobo_export_rejects_its_row_as_dmi_score_does(
    capsys, tmp_path, miit, answers
):
    export = kobo_with_facts(answers, miit, "values", "split", None)
    split = next(h for h in export.columns if h.startswith("foundation/network/"))
    single = "foundation/it_coverage"
    export.loc[1, split] = "2"  # a 0/1 column
    export.loc[8, single] = "Z"  # no choice of it_coverage
    path = tmp_path / "bad-kobo.csv"
    write(export, path)
    rejects = tmp_path / "r.csv"
    _, summary, _ = eligibility(capsys, path, tmp_path, "--rejects", rejects)
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (N, N - 2, 2)
    found = read(rejects)
    assert found[["row", "respondent_id", "column", "value"]].values.tolist() == [
        ["3", "uuid-2", "network", "2"],
        ["10", "uuid-9", "it_coverage", "Z"],
    ]
    assert found["reason"][0].startswith(f"{split}: not a 0/1 cell")
    assert_rejects_as_dmi_score(capsys, path, tmp_path, found)


@pytest.mark.parametrize("tool", ["wjx", "kobo"])
def test_a_few_survey_questions_in_a_tool_export_are_not_the_survey(capsys, tmp_path, miit, tool):
    # as in a plain file: items too few to be the survey's answers (scored, the others would
    # count as the lowest answers) are left unmatched, and said so
    answers = plain_answers(miit, N, seed=31, blank=0.0)
    if tool == "wjx":
        export = wjx_with_facts(answers, miit, "texts", None)
        meta = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
        few = [h for h in export.columns if h.startswith(("10、", "17、"))]
        facts = list(WJX_FACTS.values())[:-1]
    else:
        export = kobo_with_facts(answers, miit, "values", "one", None)
        meta = ["start", "end", "_id", "_uuid", "_submission_time", "_index"]
        few = ["management/strategy", "management/investment"]
        facts = list(KOBO_FACTS.values())[:-1]
    path = tmp_path / "few.csv"
    write(export[meta + few + facts], path)
    _, summary, _ = eligibility(capsys, path, tmp_path)
    assert summary["survey_items"] == 0 and summary["digital_level"]["computed"] == 0
    assert summary["read"] == summary["evaluated"] == N
    (note,) = [n for n in summary["notes"] if n.startswith("columns named like items")]
    assert note.endswith(
        "(2 of 31; the digital level is computed from a file with at least 16): "
        + ", ".join(map(matched_name, few))
    )
    assert set(map(matched_name, few)) <= set(summary["unmatched_columns"])


@pytest.mark.parametrize("chunk_size", ["50000", "5"])
def test_repeated_ids_and_a_broken_line_of_a_tool_export_are_rejected_as_dmi_score_does(
    capsys, tmp_path, miit, answers, chunk_size
):
    # an id question repeated, and a line cut short: the rows are named by the id question (as
    # `dmi score` names them), every row is evaluated or rejected; in chunks of 5 rows the
    # repeated id's rows are in two chunks (the first done again)
    export = wjx_with_facts(answers, miit, "codes", None)
    export.insert(6, "32、企业编号", [f"E{i}" for i in range(N)])
    export.loc[4, "32、企业编号"] = "E3"
    path = tmp_path / "ids.csv"
    write(export, path)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{N + 1},2026/11/30 10:00:00,3分0秒,手机提交,直接访问,10.0.0.1,E{N},1,2\n")
    rejects = tmp_path / "r.csv"
    results, summary, _ = eligibility(
        capsys, path, tmp_path, "--rejects", rejects, "--chunk-size", chunk_size
    )
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (N + 1, N - 2, 3)
    assert summary["digital_level"]["computed"] == N - 2
    found = read(rejects)
    assert found[["row", "respondent_id", "column"]].values.tolist() == [
        ["5", "E3", "respondent_id"],
        ["6", "E3", "respondent_id"],
        [str(N + 2), f"E{N}", ""],  # its id from the id question's field
    ]
    assert found["reason"][2].startswith("ragged row: expected")
    assert_rejects_as_dmi_score(capsys, path, tmp_path, found)
    assert "E3" not in set(results["respondent_id"])


def test_a_map_sends_an_exports_headers_to_facts_and_to_the_surveys_questions(
    capsys, tmp_path, miit, answers
):
    # one map for both: a fact's header and a question's header the form renamed, and a
    # fact's header left out
    export = kobo_with_facts(answers, miit, "values", "one", None)
    renamed = export.rename(columns={"foundation/network": "net", "facts/rd_y1": "研发"})
    path = tmp_path / "renamed.csv"
    write(renamed, path)
    without_staff = tmp_path / "kobo.csv"
    write(export.drop(columns=["facts/staff"]), without_staff)
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "column,code\nnet,network\n研发,rd_y1\nfacts/staff,\nnotthere,staff\n", encoding="utf-8"
    )
    results, summary, err = eligibility(capsys, path, tmp_path, "--map", mapping)
    expected, _, _ = eligibility(capsys, without_staff, tmp_path)
    pd.testing.assert_frame_equal(results, expected)
    matched = summary["mapping"]["matched"]
    assert (matched["net"], matched["研发"]) == ("network", "rd_y1")
    assert "facts/staff" not in matched and "facts/staff" in summary["unmatched_columns"]
    assert summary["mapping"]["unused_map"] == ["notthere"]
    assert "KoboToolbox columns read as the column map says: net -> network" in summary["notes"]
    assert summary["digital_level"]["computed"] == N


@pytest.mark.parametrize("layout", ["plain", "wjx"])
def test_the_missing_answers_scored_as_lowest_are_counted_as_dmi_score_counts_them(
    capsys, tmp_path, miit, layout
):
    # fewer than half the survey's items had an answer missing: their counts were dropped from
    # the summary (and its line), as if the answers were too few to be the survey's
    answers = plain_answers(miit, 6, seed=5)
    if layout == "plain":
        facts = {code: cells[:6] for code, cells in FACTS.items()}
        frame = answers[["respondent_id", *[i.code for i in miit.items]]].assign(**facts)
    else:
        frame = wjx_with_facts(answers, miit, "texts", None)
    path = tmp_path / f"{layout}.csv"
    write(frame, path)
    scored = tmp_path / "score-summary.json"
    dmi_score(capsys, path, tmp_path, "--summary", scored)
    imputed = json.loads(scored.read_text(encoding="utf-8"))["imputed"]
    assert 0 < len(imputed) < len(miit.items) // 2
    _, summary, _ = eligibility(capsys, path, tmp_path)
    assert summary["survey_imputed"] == imputed
    assert list(summary["survey_imputed"]) == list(imputed)  # in the survey's order


def kobo_without_its_ids(answers, miit) -> tuple[pd.DataFrame, list[str]]:
    """A KoboToolbox export without _uuid and _id (a form's own id question instead,
    ``facts/firm_code``), and the ids that column holds."""
    export = kobo_with_facts(answers, miit, "values", "one", None).drop(columns=["_uuid", "_id"])
    ids = [f"F{i:03d}" for i in range(N)]
    export.insert(list(export.columns).index("facts/revenue_y1"), "facts/firm_code", ids)
    return export, ids


def test_a_kobo_export_without_uuid_or_id_takes_its_ids_from_the_column_its_note_names(
    capsys, tmp_path, miit, answers
):
    # the note told the user to "choose a column with --id-column", an option dmi eligibility
    # did not have: the rows stayed named by their row numbers
    export, ids = kobo_without_its_ids(answers, miit)
    path = tmp_path / "no-uuid.csv"
    write(export, path)
    # the levels `dmi score --id-column` gives, stated in the export (as the other tests do)
    scores = dmi_score(capsys, path, tmp_path, "--id-column", "facts/firm_code")
    levels = scores.set_index("respondent_id")["level"]
    assert list(levels.index) == ids
    export["facts/digital_level"] = [levels[i] for i in ids]
    write(export, path)
    note = (
        "KoboToolbox export without _uuid or _id: each row's respondent_id is its row number "
        "(choose a column with --id-column)"
    )
    results, summary, err = eligibility(capsys, path, tmp_path)
    assert note in summary["notes"] and f"note: {note}\n" in err
    assert list(results["respondent_id"]) == [str(row) for row in range(2, N + 2)]
    # the option the note names: the ids from that column, as `dmi score --id-column` takes them
    results, summary, err = eligibility(capsys, path, tmp_path, "--id-column", "facts/firm_code")
    assert list(results["respondent_id"]) == ids
    assert summary["read"] == summary["evaluated"] + summary["rejected"] == N
    assert summary["rejected"] == 0
    assert summary["digital_level"] == {"computed": N, "disagrees": 0}
    assert summary["mapping"]["matched"]["facts/firm_code"] == "respondent_id"
    assert "facts/firm_code" not in summary["unmatched_columns"]
    assert "KoboToolbox respondent ids from column facts/firm_code" in summary["notes"]
    assert not [n for n in summary["notes"] if "row number" in n], summary["notes"]
    same_as_the_plain_twin(capsys, tmp_path, results, ids, levels)
    # the Python API takes it too, and gives the command's results
    api, _ = evaluate_file(path, tmp_path / "api.csv", policy="2022", id_column="facts/firm_code")
    assert api.reconciles and api.evaluated == N
    pd.testing.assert_frame_equal(read(tmp_path / "api.csv"), results)
    # without the survey step too: the facts' rows are named by the column chosen
    facts_only, _ = evaluate_file(
        path, tmp_path / "facts.csv", policy="2022", id_column="facts/firm_code", survey=False
    )
    assert facts_only.digital_level["computed"] == 0
    assert list(read(tmp_path / "facts.csv")["respondent_id"]) == ids


def test_a_wjx_export_takes_its_ids_from_the_column_chosen_instead_of_its_serial_number(
    capsys, tmp_path, miit, answers
):
    export = wjx_with_facts(answers, miit, "codes", None)
    ids = [f"F{i:03d}" for i in range(N)]
    export.insert(6, "32、申报材料号", ids)  # no id alias: without the option, 序号 names the rows
    path = tmp_path / "wjx-ids.csv"
    write(export, path)
    results, summary, _ = eligibility(capsys, path, tmp_path)
    assert list(results["respondent_id"]) == [str(i) for i in range(1, N + 1)]  # 序号
    results, summary, _ = eligibility(capsys, path, tmp_path, "--id-column", "32、申报材料号")
    assert list(results["respondent_id"]) == ids
    assert summary["mapping"]["matched"]["32、申报材料号"] == "respondent_id"
    assert summary["read"] == summary["evaluated"] == N
    assert summary["digital_level"]["computed"] == N


def test_an_id_column_chosen_that_was_a_fact_is_said_to_be_read_as_the_ids_only(
    capsys, tmp_path, miit, answers
):
    # the revenue column chosen as the ids: its fact is read from no column then, and the run
    # says so (it had stopped reading it without a word)
    export = wjx_with_facts(answers, miit, "codes", None)
    revenue = next(h for h in export.columns if "上年营业收入" in h)
    path = tmp_path / "wjx-revenue-ids.csv"
    write(export, path)
    results, summary, err = eligibility(capsys, path, tmp_path, "--id-column", revenue)
    assert list(results["respondent_id"]) == list(export[revenue])
    assert summary["mapping"]["matched"][matched_name(revenue)] == "respondent_id"
    said = f"{revenue}: the id column chosen (--id-column), so not read as revenue_y1"
    assert said in summary["notes"] and said in err
    # a unit the chosen column had goes with it (the summary named one for no column)
    export = export.rename(columns={revenue: "25、上年营业收入（元）"})
    write(export, path)
    _, summary, _ = eligibility(capsys, path, tmp_path, "--id-column", "25、上年营业收入（元）")
    assert "revenue_y1" not in summary["mapping"]["units"]


def test_an_id_column_goes_with_a_map_that_names_the_surveys_questions(
    capsys, tmp_path, miit, answers
):
    # the check of the note above read the whole map without the survey: an entry sending a
    # header to a question was refused as neither a fact nor an item, and the run stopped
    export, ids = kobo_without_its_ids(answers, miit)
    export = export.rename(columns={"foundation/network": "net"})
    path = tmp_path / "kobo-net.csv"
    write(export, path)
    mapped = tmp_path / "map.csv"
    mapped.write_text("column,code\nnet,network\n", encoding="utf-8")
    results, summary, _ = eligibility(
        capsys, path, tmp_path, "--map", mapped, "--id-column", "facts/firm_code"
    )
    assert list(results["respondent_id"]) == ids
    assert summary["mapping"]["matched"]["net"] == "network"
    assert summary["digital_level"]["computed"] == N


@pytest.mark.parametrize(
    ("layout", "more", "said"),
    [
        ("kobo", ("--id-column", "facts/firm_id"), "no column 'facts/firm_id' to take the "
         "respondent id from; the file's columns are "),
        ("plain", ("--id-column", "firm_code"), "an id column (firm_code) is chosen only for a "
         "问卷星 or KoboToolbox export; a plain file's id column is respondent_id (or --map)"),
        ("kobo", ("--id-column", "facts/firm_code", "--map", "MAP"), "the map sends "
         "'facts/revenue_y2' to respondent_id, and --id-column chooses 'facts/firm_code': name "
         "the id column once"),
    ],
)  # fmt: skip
def test_an_id_column_the_file_cannot_give_is_a_usage_error_in_one_line(
    capsys, tmp_path, miit, answers, layout, more, said
):
    if layout == "kobo":
        export, _ = kobo_without_its_ids(answers, miit)
    else:
        export = pd.DataFrame({"firm_code": ["F1", "F2"], **{c: v[:2] for c, v in FACTS.items()}})
    path = tmp_path / f"{layout}.csv"
    write(export, path)
    mapping = tmp_path / "map.csv"
    mapping.write_text("column,code\nfacts/revenue_y2,respondent_id\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    argv = [a if a != "MAP" else mapping for a in more]
    code, stdout, err = run(capsys, "eligibility", path, "-o", out, "--policy", "2022", *argv)
    assert code == 2  # a problem with what the user gave, as the CLI's other usage errors
    assert err.startswith("dmi: error: ") and said in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and stdout == ""


def test_a_wjx_exports_rows_answered_too_fast_are_flagged_in_the_output_as_dmi_score_marks_them(
    capsys, tmp_path, miit, answers
):
    # the note said the rows answered implausibly fast were "flagged, not rejected", but the
    # results had no such flag: only dmi score's too_fast column marked them
    seconds = [300 + 7 * i for i in range(N)]
    seconds[2], seconds[7] = 20, 35  # under 2 seconds a question
    path = tmp_path / "wjx-fast.csv"
    write(wjx_with_facts(answers, miit, "codes", None, seconds), path)
    scores = tmp_path / "scores.csv"
    code, _, err = run(capsys, "score", path, "-o", scores, "--tier-model", "none")
    assert code == 0, err  # its notes (err) are compared below
    scored = read(scores).set_index("respondent_id")
    marked = list(scored.index[scored["too_fast"] == "1"])
    assert marked == ["3", "8"]
    # the third firm's stated level disagrees with its computed one: two flags, joined
    levels = scored["level"].copy()
    levels["3"] = "4" if levels["3"] != "4" else "1"
    write(wjx_with_facts(answers, miit, "codes", levels, seconds), path)
    (note,) = [n for n in scored_notes(err) if "implausibly fast" in n]
    for lang, fast, disagree in [
        ("en", "answered implausibly fast: {s} seconds, under 48 for 24 questions",
         "digital level: {given} given, {computed} computed from the survey (the computed one "
         "used)"),
        ("zh", "答题过快：用时 {s} 秒，24 道题少于 48 秒",
         "数字化水平：填报 {given} 级，依问卷计算为 {computed} 级，采用计算值"),
    ]:  # fmt: skip
        results, summary, err = eligibility(capsys, path, tmp_path, "--lang", lang)
        assert summary["read"] == summary["evaluated"] == N
        assert note in summary["notes"] and f"note: {note}\n" in err
        flags = results.set_index("respondent_id")["flags"]
        assert list(flags.index[flags != ""]) == marked, flags
        separator = "; " if lang == "en" else "；"
        given, computed = levels["3"], scored["level"]["3"]
        assert flags["3"] == disagree.format(given=given, computed=computed) + separator + (
            fast.format(s=20)
        )
        assert flags["8"] == fast.format(s=35)
        # 所用时间 is read (for the speed check), not ignored
        assert "所用时间" not in summary["unmatched_columns"]
    # the same flags whatever the chunks
    chunked, _, _ = eligibility(capsys, path, tmp_path, "--lang", lang, "--chunk-size", "5")
    pd.testing.assert_frame_equal(chunked, results)


def scored_notes(err: str) -> list[str]:
    """The notes a run printed on stderr."""
    return [line[len("note: ") :] for line in err.splitlines() if line.startswith("note: ")]


# 问卷星's marks of an id question skipped or left empty, as each variant (and a workbook) writes
# them: a row without an id (as dmi score reads it), never a firm named "(跳过)"
ID_MARKS = {
    "codes": ["(跳过)", "（空）", "-3", "-2"],
    "texts": ["(跳过)", "(空)", "（跳过）", "（空）"],
}


@pytest.mark.parametrize(
    ("variant", "suffix"), [("codes", ".csv"), ("texts", ".csv"), ("codes", ".xlsx")]
)
def test_a_skipped_id_question_is_a_blank_id_as_dmi_score_reads_it(
    capsys, tmp_path, miit, answers, variant, suffix
):
    export = wjx_with_facts(answers, miit, variant, None)
    ids = [f"E{i}" for i in range(N)]
    marks = ID_MARKS[variant]
    for k, mark in enumerate(marks):  # rows 2, 5, 8, ...: two of a mark are no repeated id
        ids[1 + 3 * k] = mark
    export.insert(6, "32、企业编号", ids)
    path = tmp_path / f"ids-{variant}{suffix}"
    write(export, path)
    rejects = tmp_path / "r.csv"
    results, summary, _ = eligibility(capsys, path, tmp_path, "--rejects", rejects)
    assert (summary["read"], summary["rejected"]) == (N, len(marks))
    found = read(rejects)
    assert found["reason"].tolist() == ["respondent_id is blank"] * len(marks)
    assert found["row"].tolist() == [str(2 + 1 + 3 * k) for k in range(len(marks))]
    assert not set(results["respondent_id"]) & set(marks)
    if suffix == ".csv":
        assert_rejects_as_dmi_score(capsys, path, tmp_path, found)


@pytest.mark.parametrize("with_survey", [True, False])
def test_a_wjx_facts_file_reads_its_id_marks_as_blank_ids(
    capsys, tmp_path, miit, answers, with_survey
):
    # without the survey's questions the variant is not known: every mark is one
    export = wjx_with_facts(answers, miit, "codes", None)
    if not with_survey:
        keep = [*META_COLUMNS, *WJX_FACTS.values()]
        export = export[[c for c in export.columns if c in keep]]
    export.insert(6, "32、企业编号", ["(跳过)", "-3", "（空）"] + [f"E{i}" for i in range(3, N)])
    path = tmp_path / "ids.csv"
    write(export, path)
    results, summary, _ = eligibility(capsys, path, tmp_path)
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (N, N - 3, 3)
    assert list(results["respondent_id"]) == [f"E{i}" for i in range(3, N)]


@pytest.mark.parametrize(("variant", "blank"), [("codes", True), ("texts", False)])
def test_minus_three_in_a_fact_is_a_skip_only_in_the_option_number_export(
    capsys, tmp_path, miit, answers, variant, blank
):
    # a loss of 3万元 is a value in the option-text export, whose skip mark is (跳过); the
    # variant is the one the survey's answers tell. A staff count of -3 shows how it was read:
    # blank (a skip), or the value written, refused as a count below 0
    export = wjx_with_facts(answers, miit, variant, None)
    export["33、上年净利润（万元）"] = ["-3"] * N
    export.loc[0, WJX_FACTS["staff"]] = "-3"
    path = tmp_path / f"profit-{variant}.csv"
    write(export, path)
    rejects = tmp_path / "r.csv"
    results, summary, _ = eligibility(capsys, path, tmp_path, "--rejects", rejects)
    note = next(n for n in summary["notes"] if n.startswith("read as a 问卷星 export: "))
    found = read(rejects)
    if blank:
        assert "-2 and -3" in note and f"net_profit_y1 {N}, staff 1" in note
        assert summary["rejected"] == 0
    else:
        assert "-3" not in note and "net_profit_y1" not in note
        assert summary["rejected"] == 1
        # (the CSV escapes a cell a spreadsheet would take for a formula)
        assert found[["row", "column", "value"]].values.tolist() == [["2", "staff", "'-3"]]


@pytest.mark.parametrize(("variant", "noted"), [("codes", True), ("texts", False)])
def test_bare_numbers_of_a_level_in_an_option_number_export_are_noted(
    capsys, tmp_path, miit, answers, variant, noted
):
    # 问卷星's 按选项序号 export writes a level asked as a single choice (未达一级 … 四级) as its
    # option's number, one more than the level: it was read as the level without a word
    export = wjx_with_facts(answers, miit, variant, None)
    levels = ["3", "2", "三级", "", "4", "1", "0", "2", "-3", "1", "2", "3"]
    export[WJX_FACTS["digital_level"]] = levels
    path = tmp_path / f"levels-{variant}.csv"
    write(export, path)
    _, summary, err = eligibility(capsys, path, tmp_path)  # the survey's cells tell the variant
    found = [n for n in summary["notes"] if n.startswith("问卷星 export of option numbers")]
    if not noted:  # the option-text export writes the option's text (三级): a number is one
        assert found == []
        return
    bare = sum(v not in ("三级", "", "-3") for v in levels)  # -3: a skip mark there
    assert len(found) == 1 and f"(digital_level {bare})" in found[0]
    assert f"note: {found[0]}\n" in err
    from dmi.service.bulkview import note_text

    zh = note_text(found[0], "zh")
    assert zh.startswith("问卷星“按选项序号”导出") and f"数字化水平 (digital_level) {bare}" in zh


def test_the_option_text_exports_skip_note_is_worded_in_chinese():
    from collections import Counter

    from dmi.bulk.eligibility import wjx_note
    from dmi.io.tools.wjx import blank_marks
    from dmi.service.bulkview import note_text

    note = wjx_note(Counter({"rd_y1": 2}), blank_marks("texts"))
    assert "-3" not in note
    zh = note_text(note, "zh")
    assert zh != note and "按选项文本" in zh and "-3" not in zh and "共 2 格" in zh


def test_the_level_note_of_an_export_whose_variant_is_not_known_says_so(capsys, tmp_path):
    # an export of the facts alone (no survey question tells the variant) was said to be of
    # option numbers; and the bulk page's English said "1 cells"
    from collections import Counter

    from dmi.bulk.eligibility import wjx_note
    from dmi.io.tools.wjx import blank_marks
    from dmi.service.bulkview import note_text

    frame = pd.DataFrame(
        {
            **{c: ["1", "2"] for c in META_COLUMNS},
            WJX_FACTS["revenue_y1"]: ["3000", "3100"],
            WJX_FACTS["digital_level"]: ["3", "二级"],
        }
    )
    path = tmp_path / "facts-only.csv"
    write(frame, path)
    _, summary, _ = eligibility(capsys, path, tmp_path)
    [note] = [n for n in summary["notes"] if "bare numbers in a level's column" in n]
    assert note.startswith("问卷星 export (option numbers or texts: not known): ")
    assert "(digital_level 1)" in note
    assert note_text(note, "zh").startswith("问卷星导出（无法判断")
    one = note_text(wjx_note(Counter({"rd_y1": 1}), blank_marks(None)), "en")
    assert "1 cells" not in one and "cells: 1" in one


def test_a_respondent_who_answered_no_fact_question_is_not_guessed_a_footnote(capsys, tmp_path):
    # a 问卷星 export of the facts alone: a respondent who skipped every fact question was noted
    # as "(a note or a footnote in the id column?)", a guess for a spreadsheet, not an export
    from dmi.service.bulkview import note_text

    meta = {
        "序号": ["1", "2", "3"],
        "提交答卷时间": ["2026/11/30 10:00:00"] * 3,
        "所用时间": ["300秒"] * 3,
        "来源": ["手机提交"] * 3,
        "来源详情": ["直接访问"] * 3,
        "来自IP": ["1.2.3.4(浙江-杭州)"] * 3,
    }
    facts = {
        header: [FACTS[code][0], FACTS[code][1], ""]
        for code, header in WJX_FACTS.items()
        if code in FACTS
    }
    path = tmp_path / "facts-only.csv"
    write(pd.DataFrame({**meta, **facts}), path)
    out, summary = tmp_path / "o.csv", tmp_path / "s.json"
    code, _, err = run(capsys, "eligibility", path, "-o", out, "--summary", summary)
    assert code == 0, err
    notes = [n for n in json.loads(summary.read_text("utf-8"))["notes"] if "no fact" in n]
    assert notes == [
        "1 row with an id and no fact (row 4): evaluated with every fact unknown (respondents "
        "who answered none of the facts' questions)"
    ]
    assert "这些答卷未回答任何企业信息题" in note_text(notes[0], "zh")
    assert note_text(notes[0], "en") == (
        "Rows with an id and no fact: 1 (row numbers: 4); evaluated with every fact unknown "
        "(respondents who answered none of the facts' questions)"
    )


def _facts_cells(firms: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The firms' facts as a form's answers: text, None where blank."""
    return pd.DataFrame(
        {
            name: [
                None if pd.isna(v) else v if isinstance(v, str) else f"{v:g}"
                for v in firms[name].tolist()
            ]
            for name in names
        },
        dtype=object,
    )


def _group_questions(sheets: dict, group: str) -> list[str]:
    """The names of the questions a form asks in ``group``."""
    rows = sheets["survey"].to_dict("records")
    start = next(i for i, r in enumerate(rows) if r["type"] == "begin_group" and r["name"] == group)
    end = next(i for i in range(start, len(rows)) if rows[i]["type"] == "end_group")
    return [r["name"] for r in rows[start + 1 : end]]


@pytest.mark.parametrize("answers", ["values", "zh", "en"])
@pytest.mark.parametrize("survey", [False, True])
def test_dmis_facts_form_exported_by_kobotoolbox_reads_as_the_plain_file(
    capsys, tmp_path, miit, answers, survey
):
    # an agency collecting the facts on KoboToolbox typed the questions in itself; dmi's own
    # form names each question and choice by the fact's code and value, so that the export
    # (values or labels) reads back as the plain file of the same facts does
    sheets = el.facts_xlsform(survey=survey)
    asked = _group_questions(sheets, "facts")
    assert asked[0] == "respondent_id" and "revenue_y1" in asked
    # with the survey, what it gives is not asked again: its profile's facts, the level
    assert not (survey and {"province", "sector", "staff", "digital_level"} & set(asked))
    # a form of its own (an upload of it would otherwise replace the survey's form)
    form_id = sheets["settings"]["form_id"].iat[0]
    assert form_id == ("miit-2024-manufacturing-facts" if survey else "dmi-cultivation-facts")
    types = dict(zip(sheets["survey"]["name"], sheets["survey"]["type"]))
    assert types["sme"] == "select_one yes_no" and types["holds_specialised"].endswith("title_held")
    if survey:  # 从业人员数 gives the staff, a whole number
        assert types["employees"] == "integer"
    firms = el.synthetic_firms(40, seed=11)
    facts = _facts_cells(firms, asked)
    form = facts
    if survey:
        survey_answers = plain_answers(miit, len(firms), seed=5).drop(columns="respondent_id")
        # the firms' staff as the survey asks it (从业人员数): the facts' R&D staff are of it
        survey_answers["employees"] = _facts_cells(firms, ["staff"])["staff"].tolist()
        form = pd.concat([survey_answers.reset_index(drop=True), facts], axis=1)
    export = kobo_export(form, sheets, answers=answers)
    assert "facts/revenue_y1" in export.columns
    write(export, tmp_path / "kobo.csv")
    got, summary, err = eligibility(capsys, tmp_path / "kobo.csv", tmp_path, "--policy", "2026")
    assert summary["rejected"] == 0, summary
    assert got["respondent_id"].tolist() == facts["respondent_id"].tolist()  # the form's ids
    if survey:  # every firm's level computed from its survey answers
        assert summary["digital_level"]["computed"] == len(firms)
        assert summary["digital_level"]["disagrees"] == 0  # no level given beside it
    # the same firms in a plain file of the facts the form asked (with the survey, and the
    # staff its profile gives): the same conditions met or not
    if survey:
        facts = facts.assign(staff=_facts_cells(firms, ["staff"])["staff"])
        facts = pd.concat([facts, survey_answers[[i.code for i in miit.items]]], axis=1)
    facts.to_csv(tmp_path / "plain.csv", index=False)
    want, _, _ = eligibility(capsys, tmp_path / "plain.csv", tmp_path, "--policy", "2026")
    if survey:  # the survey's province and sector are the groups only: the rest is equal
        got, want = got.drop(columns=["flags"]), want.drop(columns=["flags"])
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("survey", [False, True])
def test_the_facts_form_skips_an_awards_year_without_an_award(survey):
    # an award's year and rank were asked of a firm without an award, and whether its class-I
    # IP is in-house of a firm with none; a blank count (NaN in XPath) skips nothing
    rows = el.facts_xlsform(survey=survey)["survey"]
    names = rows["name"].tolist()
    relevant = {n: r for n, r in zip(names, rows["relevant"]) if r}
    assert relevant == {
        "award_year": "${award} != 'none'",
        "award_rank": "${award} != 'none'",
        "ip_class1_own": "${ip_class1} != 0",
        "ip_class1_high_value": "${ip_class1} != 0",
    }
    # each asked after the question it depends on (the table lists the rank among the counts)
    for name, expression in relevant.items():
        depends = expression[2 : expression.index("}")]
        assert names.index(depends) < names.index(name)
    assert names.index("award_rank") == names.index("award") + 1

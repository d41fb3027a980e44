"""KoboToolbox exports of the form `dmi xlsform` writes, read back by `dmi score`.

The exports are made here from the form's sheets (tests/survey_tools_data.py) in every layout
KoboToolbox offers (XML values or labels in either language, a select_multiple as one column,
split 0/1 columns or both, headers with groups or as labels); each must score exactly as the
same answers in the plain template do.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dmi.cli import main
from dmi.instruments.export.xlsform import xlsform_sheets
from tests.survey_tools_data import kobo_export, plain_answers


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def score(capsys, path, tmp_path, *more) -> tuple[pd.DataFrame, dict]:
    out, summary = tmp_path / f"{path.stem}-scores.csv", tmp_path / f"{path.stem}-summary.json"
    code, _, err = run(
        capsys, "score", path, "-o", out, "--summary", summary, "--tier-model", "none", *more
    )
    assert code == 0, err
    return (
        pd.read_csv(out, dtype=str, keep_default_na=False),
        json.loads(summary.read_text(encoding="utf-8")),
    )


@pytest.fixture(scope="module")
def sheets(miit):
    return xlsform_sheets(miit)


@pytest.fixture(scope="module")
def answers(miit):
    return plain_answers(miit, 40, seed=11)


def _plain(answers, tmp_path):
    """The plain file of the same answers, ids as Kobo's _uuid."""
    plain = answers.assign(respondent_id=[f"uuid-{r}" for r in answers["respondent_id"]])
    plain.to_csv(tmp_path / "plain.csv", index=False, encoding="utf-8-sig")
    return tmp_path / "plain.csv"


@pytest.mark.parametrize(
    ("values", "multi", "headers", "suffix"),
    [
        ("values", "one", "names", ".csv"),
        ("values", "split", "names", ".csv"),
        ("values", "both", "names", ".xlsx"),
        ("zh", "one", "names", ".csv"),
        ("en", "one", "names", ".xlsx"),
        ("zh", "split", "names", ".csv"),
        ("en", "split", "en", ".csv"),
        ("zh", "one", "zh", ".csv"),
    ],
)
def test_an_export_scores_as_the_plain_template(
    capsys, tmp_path, sheets, answers, values, multi, headers, suffix
):
    export = kobo_export(answers, sheets, answers=values, multi=multi, headers=headers)
    path = tmp_path / f"kobo{suffix}"
    if suffix == ".xlsx":
        # as KoboToolbox writes a workbook: 0/1 flags and ids as numbers
        export.map(lambda v: int(v) if isinstance(v, str) and v.isdigit() else v).to_excel(
            path, index=False
        )
    else:
        export.to_csv(path, index=False, encoding="utf-8-sig")
    expected, plain_summary = score(capsys, _plain(answers, tmp_path), tmp_path)
    got, summary = score(capsys, path, tmp_path)
    pd.testing.assert_frame_equal(got, expected)
    assert summary["read"] == summary["scored"] == 40 and summary["reconciles"]
    assert summary["imputed"] == plain_summary["imputed"]
    assert summary["missing_items"] == []
    notes = summary["notes"]
    assert notes[0] == "read as a KoboToolbox export; the layout detected from its headers"
    assert "KoboToolbox respondent ids from column _uuid" in notes
    assert (
        "KoboToolbox meta columns dropped: start, end, _id, _submission_time, "
        "_validation_status, _index" in notes
    )
    ignored = [n for n in notes if "split select_multiple columns ignored" in n]
    assert bool(ignored) == (multi == "both")
    if multi == "both":
        assert "foundation/network/A" in ignored[0]


def test_the_id_column_can_be_chosen(capsys, tmp_path, sheets, answers):
    export = kobo_export(answers, sheets)
    export.to_csv(tmp_path / "kobo.csv", index=False)
    got, summary = score(capsys, tmp_path / "kobo.csv", tmp_path, "--id-column", "_id")
    assert list(got["respondent_id"]) == [str(1000 + i) for i in range(40)]
    assert "KoboToolbox respondent ids from column _id" in summary["notes"]
    code, _, err = run(
        capsys, "score", tmp_path / "kobo.csv", "-o", tmp_path / "x.csv", "--id-column", "uuid"
    )
    assert code == 2 and err.count("\n") == 1 and "no column 'uuid'" in err


def test_a_label_naming_no_choice_rejects_the_row_with_it(capsys, tmp_path, sheets, miit):
    answers = plain_answers(miit, 3, seed=2, blank=0.0)
    export = kobo_export(answers, sheets, answers="en")
    export.loc[1, "management/strategy"] = "We have a vague idea"
    # a split column of a choice the question lacks, beside the question's own column: the
    # question's column is read, the split one ignored (as any split column beside it)
    export["foundation/network/Z"] = "1"
    export.to_csv(tmp_path / "kobo.csv", index=False)
    rejects = tmp_path / "rejects.csv"
    _, summary = score(capsys, tmp_path / "kobo.csv", tmp_path, "--rejects", rejects)
    assert (summary["read"], summary["scored"], summary["rejected"]) == (3, 2, 1)
    table = pd.read_csv(rejects, dtype=str)
    assert list(table["row"]) == ["3"] and list(table["column"]) == ["strategy"]
    assert list(table["value"]) == ["We have a vague idea"]
    assert any(
        n.startswith("KoboToolbox split select_multiple columns ignored")
        and n.endswith(": foundation/network/Z")
        for n in summary["notes"]
    )


def test_a_split_flag_that_is_not_zero_or_one_rejects_the_row(capsys, tmp_path, sheets, miit):
    answers = plain_answers(miit, 3, seed=2, blank=0.0)
    export = kobo_export(answers, sheets, multi="split")
    export.loc[0, "foundation/network/B"] = "yes"
    export.to_csv(tmp_path / "kobo.csv", index=False)
    rejects = tmp_path / "rejects.csv"
    _, summary = score(capsys, tmp_path / "kobo.csv", tmp_path, "--rejects", rejects)
    assert summary["rejected"] == 1
    table = pd.read_csv(rejects, dtype=str)
    assert list(table["row"]) == ["2"] and list(table["column"]) == ["network"]
    assert list(table["value"]) == ["yes"]
    assert table["reason"][0].startswith("foundation/network/B: not a 0/1 cell")
    assert "expected 1 (chosen), 0 (not chosen) or blank" in table["reason"][0]


def test_a_file_with_no_question_of_the_form_is_refused(capsys, tmp_path):
    pd.DataFrame({"_uuid": ["a"], "q1": ["x"]}).to_csv(tmp_path / "k.csv", index=False)
    code, _, err = run(capsys, "score", tmp_path / "k.csv", "-o", tmp_path / "x.csv")
    assert code == 2 and err.count("\n") == 1
    assert "no column of this KoboToolbox export matches a question" in err
    assert "export from its headers; if it is not one, choose --from plain" in err
    code, _, err = run(
        capsys, "score", tmp_path / "k.csv", "-o", tmp_path / "x.csv", "--from", "kobo"
    )
    assert code == 2 and "--from plain" not in err  # asked for: nothing to guess


def test_all_types_round_trip(tmp_path, all_types):
    from dmi.bulk.run import score_file
    from dmi.scoring.model import IndexModel

    model = IndexModel(all_types).fit()
    answers = plain_answers(all_types, 30, seed=9)
    _plain(answers, tmp_path)
    score_file(tmp_path / "plain.csv", tmp_path / "p.csv", model)
    sheets = xlsform_sheets(all_types)
    for values in ("values", "zh", "en"):
        for multi in ("one", "split"):
            export = kobo_export(answers, sheets, answers=values, multi=multi)
            export.to_csv(tmp_path / "k.csv", index=False)
            summary, _ = score_file(tmp_path / "k.csv", tmp_path / "k-s.csv", model)
            assert summary.reconciles and summary.read == 30
            assert (tmp_path / "k-s.csv").read_bytes() == (tmp_path / "p.csv").read_bytes()


def test_a_ragged_line_is_rejected_with_its_uuid(capsys, tmp_path, sheets, miit):
    answers = plain_answers(miit, 3, seed=2, blank=0.0)
    export = kobo_export(answers, sheets)
    lines = export.to_csv(index=False, lineterminator="\n").splitlines()
    lines[2] += ",extra"  # row 3: one field too many; its _uuid is near the end of the line
    (tmp_path / "kobo.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    _, summary = score(capsys, tmp_path / "kobo.csv", tmp_path, "--rejects", rejects)
    assert (summary["read"], summary["scored"], summary["rejected"]) == (3, 2, 1)
    table = pd.read_csv(rejects, dtype=str)
    assert list(table["respondent_id"]) == ["uuid-2"]
    assert table["reason"][0].startswith("ragged row")


def test_without_uuid_or_id_the_row_number_is_the_id(capsys, tmp_path, sheets, miit):
    answers = plain_answers(miit, 3, seed=1)
    kobo_export(answers, sheets).drop(columns=["_uuid", "_id"]).to_csv(
        tmp_path / "k.csv", index=False
    )
    got, summary = score(capsys, tmp_path / "k.csv", tmp_path)
    assert list(got["respondent_id"]) == ["2", "3", "4"]
    assert any("each row's respondent_id is its row number" in n for n in summary["notes"])


def test_a_skipped_line_keeps_its_fields_as_written_and_its_own_id(capsys, tmp_path, sheets, miit):
    # a line cut short before its _uuid was rejected under the id of its start timestamp, and
    # a long line's fields were shown with the _uuid moved in front
    answers = plain_answers(miit, 4, seed=3, blank=0.0)
    export = kobo_export(answers, sheets)
    lines = export.to_csv(index=False, lineterminator="\n").splitlines()
    short = ",".join(lines[2].split(",")[:20])  # row 3: cut before its _uuid
    lines[2] = short
    lines[3] += ",extra"  # row 4: one field too many
    (tmp_path / "kobo.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    _, summary = score(capsys, tmp_path / "kobo.csv", tmp_path, "--rejects", rejects)
    assert (summary["read"], summary["scored"], summary["rejected"]) == (4, 2, 2)
    table = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert table["row"].tolist() == ["3", "4"]
    assert table["respondent_id"].tolist() == ["", "uuid-3"]
    assert table["value"].tolist() == [short, lines[3][:200]]

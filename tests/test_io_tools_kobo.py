"""KoboToolbox exports, checked sentence by sentence against issue #19 ("XLSForm export ...
and KoboToolbox's exports read back") and the reference on what KoboToolbox writes.

The form is the XLSForm ``dmi xlsform`` writes, opened here with openpyxl; the exports are made
by hand from that form's sheets in each of KoboToolbox's layouts (XML values or labels, group
separator ``/``, ``.`` or ``:``, headers with or without groups, a select_multiple as one
space-separated column or split 0/1 columns, meta columns around them), and each must score as
the same answers in the plain template do.
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

import dmi
from dmi.bulk.run import score_file
from dmi.cli import main
from dmi.errors import FileFormatError, InstrumentError, UsageError
from dmi.instruments import parse_instrument
from dmi.io import read_answers
from dmi.io.tools import Source
from tests.survey_tools_data import plain_answers

MIIT = "miit-2024-manufacturing"
ZH, EN = "label::中文 (zh)", "label::English (en)"


def sheet(path, name: str) -> list[dict]:
    rows = list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture(scope="module")
def form(tmp_path_factory):
    path = tmp_path_factory.mktemp("form") / "form.xlsx"
    assert main(["xlsform", MIIT, "-o", str(path)]) == 0
    return {"survey": sheet(path, "survey"), "choices": sheet(path, "choices")}


@pytest.fixture(scope="module")
def model():
    return dmi.IndexModel(dmi.load_instrument(MIIT)).fit()


@pytest.fixture(scope="module")
def answers():
    return plain_answers(dmi.load_instrument(MIIT), 30, seed=23)


def kobo(plain, form, *, answers="values", multi="one", sep="/", groups=True, meta=True):
    """``plain``'s answers as KoboToolbox exports them from ``form``: ``answers`` values, or
    the ``zh``/``en`` labels; a select_multiple as ``one`` column (space-separated) or
    ``split`` 0/1 columns headed question{sep}choice; headers with their groups joined by
    ``sep`` or without groups; meta columns start, end, _id, _uuid (``uuid-<id>``),
    _submission_time, _index."""
    n = len(plain)
    out: dict[str, list] = {}
    if meta:
        out["start"] = ["2026-11-30T10:00:00.000+08:00"] * n
        out["end"] = ["2026-11-30T10:25:00.000+08:00"] * n
    label = {"zh": ZH, "en": EN}.get(answers)
    path: list[str] = []
    for row in form["survey"]:
        kind, name = row["type"], row["name"]
        if kind == "begin_group":
            path.append(name)
            continue
        if kind == "end_group":
            path.pop()
            continue
        head = sep.join([*path, name]) if groups else name
        cells = list(plain[name])
        if not kind.startswith("select_"):
            out[head] = cells
            continue
        listed = [c for c in form["choices"] if c["list_name"] == kind.split()[1]]
        written = {c["name"]: (c[label] if label else c["name"]) for c in listed}
        if kind.startswith("select_one"):
            out[head] = [None if v is None else written[v] for v in cells]
        elif multi == "one":
            out[head] = [
                None if v is None else " ".join(written[x] for x in v.split(";")) for v in cells
            ]
        else:
            for c in listed:
                out[f"{head}{sep}{written[c['name']]}"] = [
                    None if v is None else ("1" if c["name"] in v.split(";") else "0")
                    for v in cells
                ]
    if meta:
        out["_id"] = [str(500 + i) for i in range(n)]
        out["_uuid"] = [f"uuid-{r}" for r in plain["respondent_id"]]
        out["_submission_time"] = ["2026-11-30T02:25:00"] * n
        out["_index"] = [str(i + 1) for i in range(n)]
    return pd.DataFrame(out, dtype=object)


def scores_of(path, model, tmp_path, **source) -> tuple[pd.DataFrame, list[str]]:
    out = tmp_path / f"{path.stem}-scores.csv"
    summary, _ = score_file(path, out, model, source=Source(**source))
    assert summary.reconciles and summary.rejected == 0, summary.notes
    return pd.read_csv(out, dtype=str), summary.notes


@pytest.fixture(scope="module")
def expected(answers, model, tmp_path_factory):
    """The scores of the same answers in the plain template (ids as Kobo's _uuid)."""
    folder = tmp_path_factory.mktemp("plain")
    plain = answers.assign(respondent_id=[f"uuid-{r}" for r in answers["respondent_id"]])
    plain.to_csv(folder / "plain.csv", index=False)
    score_file(folder / "plain.csv", folder / "scores.csv", model)
    return pd.read_csv(folder / "scores.csv", dtype=str)


@pytest.mark.parametrize("written", ["values", "zh", "en"])
@pytest.mark.parametrize("multi", ["one", "split"])
def test_xml_values_or_labels_score_as_the_plain_template(
    tmp_path, form, answers, model, expected, written, multi
):
    kobo(answers, form, answers=written, multi=multi).to_csv(tmp_path / "k.csv", index=False)
    got, notes = scores_of(tmp_path / "k.csv", model, tmp_path)
    pd.testing.assert_frame_equal(got, expected)
    assert notes[0].startswith("read as a KoboToolbox export")


@pytest.mark.parametrize("sep", ["/", ".", ":"])
@pytest.mark.parametrize("multi", ["one", "split"])
def test_every_group_separator_and_headers_without_groups(
    tmp_path, form, answers, model, expected, sep, multi
):
    export = kobo(answers, form, sep=sep, multi=multi, answers="en")
    if multi == "split":  # "foundation{sep}network{sep}Industrial ..." (group/q/option)
        assert any(h.startswith(f"foundation{sep}network{sep}") for h in export.columns)
    export.to_csv(tmp_path / "k.csv", index=False)
    got, notes = scores_of(tmp_path / "k.csv", model, tmp_path)
    pd.testing.assert_frame_equal(got, expected)
    assert not any("matching no question" in n for n in notes), notes
    # without the groups: "network", and split "network{sep}B" (q/option)
    export = kobo(answers, form, sep=sep, multi=multi, groups=False)
    if multi == "split":
        assert f"network{sep}B" in export.columns
    export.to_csv(tmp_path / "k.csv", index=False)
    got, notes = scores_of(tmp_path / "k.csv", model, tmp_path)
    pd.testing.assert_frame_equal(got, expected)


def test_meta_columns_give_the_id_and_are_dropped_and_named(tmp_path, form, answers, model):
    kobo(answers, form).to_csv(tmp_path / "k.csv", index=False)
    frame = read_answers(tmp_path / "k.csv", dmi.load_instrument(MIIT))
    assert list(frame["respondent_id"]) == [f"uuid-{r}" for r in answers["respondent_id"]]
    assert not {"_id", "_uuid", "_submission_time", "_index", "start", "end"} & set(frame.columns)
    _, notes = scores_of(tmp_path / "k.csv", model, tmp_path)
    assert "KoboToolbox respondent ids from column _uuid" in notes
    assert "KoboToolbox meta columns dropped: start, end, _id, _submission_time, _index" in notes
    got, notes = scores_of(tmp_path / "k.csv", model, tmp_path, id_column="_id")
    assert list(got["respondent_id"]) == [str(500 + i) for i in range(len(answers))]
    # with _id but no _uuid, _id is the id
    kobo(answers, form).drop(columns="_uuid").to_csv(tmp_path / "k2.csv", index=False)
    got, notes = scores_of(tmp_path / "k2.csv", model, tmp_path)
    assert list(got["respondent_id"])[:2] == ["500", "501"]


@pytest.mark.parametrize(
    "header",
    [
        "facts/respondent_id",
        "respondent_id",
        "统一社会信用代码",
        # in a group, and the facts table's label: the two commands took other columns
        "facts/统一社会信用代码",
        "facts/企业ID",
        "Respondent id",
    ],
)
def test_an_id_question_gives_the_ids_before_the_submissions_uuid(
    tmp_path, form, answers, model, header
):
    # a form with a question of the firm's id: dmi score took _uuid, dmi eligibility the
    # question, so the two outputs of one export could not be joined (and a firm submitting
    # twice was rejected by one and scored twice by the other)
    export = kobo(answers, form)
    export.insert(2, header, [f"9133{i:04d}" for i in range(len(answers))])
    export.insert(3, "facts/revenue_y1", "3000")  # a fact: the export holds the facts too
    export.to_csv(tmp_path / "k.csv", index=False)
    got, notes = scores_of(tmp_path / "k.csv", model, tmp_path)
    assert list(got["respondent_id"]) == [f"9133{i:04d}" for i in range(len(answers))]
    assert f"KoboToolbox respondent ids from column {header}" in notes
    assert any(n.startswith("KoboToolbox meta columns dropped:") and "_uuid" in n for n in notes)
    eligibility = tmp_path / "ladder.csv"
    main(["eligibility", str(tmp_path / "k.csv"), "-o", str(eligibility), "-q"])
    assert list(pd.read_csv(eligibility, dtype=str)["respondent_id"]) == list(got["respondent_id"])
    # chosen, _uuid is the id again
    got, _ = scores_of(tmp_path / "k.csv", model, tmp_path, id_column="_uuid")
    assert list(got["respondent_id"]) == [f"uuid-{r}" for r in answers["respondent_id"]]


# -- values or labels, chosen ---------------------------------------------------------------


def test_choosing_values_or_labels_reads_the_export_alike(tmp_path, form, answers, model, expected):
    for written, chosen in [("values", "values"), ("zh", "labels"), ("en", "labels")]:
        kobo(answers, form, answers=written).to_csv(tmp_path / "k.csv", index=False)
        got, notes = scores_of(tmp_path / "k.csv", model, tmp_path, kobo_answers=chosen)
        pd.testing.assert_frame_equal(got, expected)
        assert notes[0].startswith(f"read as a KoboToolbox export (choices as {chosen}, chosen)")


@pytest.mark.parametrize(
    ("written", "chosen", "column", "cell", "what"),
    [
        ("zh", "labels", "management/strategy", "C", "is a choice's value (XML value)"),
        ("values", "values", "management/strategy", "We have a plan", "is a choice's label"),
        ("en", "labels", "foundation/network", "B C", "is a choice's value (XML value)"),
        ("values", "values", "foundation/network", "无", "is a choice's label"),
    ],
)
def test_a_cell_contradicting_the_choice_is_one_error_naming_row_column_and_cell(
    capsys, tmp_path, form, miit, written, chosen, column, cell, what
):
    answers = plain_answers(miit, 4, seed=3, blank=0.0)
    export = kobo(answers, form, answers=written)
    if cell == "We have a plan":
        cell = next(c[EN] for c in form["choices"] if c["list_name"] == "strategy")
    export.loc[2, column] = cell  # spreadsheet row 4: the other way of writing the choices
    export.to_csv(tmp_path / "k.csv", index=False)
    with pytest.raises(FileFormatError) as caught:
        read_answers(tmp_path / "k.csv", miit, source=Source(kobo_answers=chosen))
    assert caught.value.details == {"row": 4, "column": column, "value": cell}
    assert f"row 4, column {column}: {cell!r} {what}" in str(caught.value)
    out = tmp_path / "s.csv"
    code = main(["score", str(tmp_path / "k.csv"), "-o", str(out), "--kobo-answers", chosen])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and f"row 4, column {column}" in err
    assert not out.exists()
    # read without the choice (auto), the same cell is simply read
    assert len(read_answers(tmp_path / "k.csv", miit)) == 4


def test_values_and_labels_cannot_be_confused(miit):
    # auto reads both: safe because an instrument cannot have a label that is another
    # choice's value (a cell would then name two choices)
    with pytest.raises(InstrumentError, match="also another option's value"):
        parse_instrument(
            """
format: dmi-instrument/1
id: clash
version: "1"
title: {zh: 冲突, en: Clash}
levels:
  bands:
    - {level: 0, min: 0, zh: 零, en: Zero}
dimensions:
  - code: d
    zh: 维度
    en: Dimension
    indicators:
      - code: i
        zh: 指标
        en: Indicator
        items:
          - code: q
            type: single
            zh: 题
            en: Question
            options:
              - {value: "1", zh: "0", en: "0", points: 0}
              - {value: "2", zh: "1", en: "1", points: 1}
""",
            source="clash.yaml",
        )
    with pytest.raises(UsageError, match="unknown KoboToolbox answer format 'names'"):
        Source(kobo_answers="names")


def test_a_split_cell_that_is_not_0_or_1_rejects_its_row_naming_what_was_expected(
    tmp_path, form, miit, model
):
    answers = plain_answers(miit, 3, seed=4, blank=0.0)
    export = kobo(answers, form, multi="split")
    export.loc[1, "foundation/network/C"] = "2"
    export.to_csv(tmp_path / "k.csv", index=False)
    rejects = tmp_path / "r.csv"
    summary, _ = score_file(tmp_path / "k.csv", tmp_path / "s.csv", model, rejects_path=rejects)
    assert (summary.read, summary.scored, summary.rejected) == (3, 2, 1)
    table = pd.read_csv(rejects, dtype=str)
    assert table[["row", "column", "value"]].values.tolist() == [["3", "network", "2"]]
    assert table["reason"][0].startswith("foundation/network/C: not a 0/1 cell")
    assert "expected 1 (chosen), 0 (not chosen) or blank" in table["reason"][0]


def test_a_plain_file_read_as_a_kobo_export_is_refused(tmp_path, answers, capsys):
    # dmi's own template (respondent_id, item codes), read with --from kobo: every id was
    # replaced by its row number, and respondent_id listed as matching no question
    path = tmp_path / "plain.csv"
    answers.to_csv(path, index=False)
    with pytest.raises(FileFormatError, match="not a KoboToolbox export"):
        read_answers(path, dmi.load_instrument(MIIT), source=Source("kobo"))
    code = main(["score", str(path), "-o", str(tmp_path / "s.csv"), "--from", "kobo"])
    err = capsys.readouterr().err
    assert code == 2 and "--from plain" in err and len(err.splitlines()) == 1


def test_a_split_choice_the_form_does_not_have_rejects_the_rows_choosing_it(
    tmp_path, form, answers, model
):
    # a choice F added to the network question in another version of the form: its column was
    # ignored, and a row that chose only F scored as not answering the question
    export = kobo(answers.head(4), form, multi="split")
    columns = [c for c in export if c.startswith("foundation/network/")]
    export[columns] = "0"
    export.loc[0, "foundation/network/B"] = "1"
    export.insert(export.columns.get_loc(columns[-1]) + 1, "foundation/network/F", "0")
    export.loc[1, "foundation/network/F"] = "1"  # only the new choice
    export.loc[2, ["foundation/network/B", "foundation/network/F"]] = "1"
    export.loc[3, "foundation/network/F"] = None  # not asked: blank
    export.to_csv(tmp_path / "k.csv", index=False)
    rejects = tmp_path / "rejects.csv"
    summary, _ = score_file(tmp_path / "k.csv", tmp_path / "s.csv", model, rejects_path=rejects)
    assert (summary.read, summary.scored, summary.rejected) == (4, 2, 2)
    table = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert table[["row", "column", "value"]].values.tolist() == [
        ["3", "network", "1"],
        ["4", "network", "1"],
    ]
    assert set(table["reason"]) == {
        "foundation/network/F: ticked, but not an option of network in "
        f"{MIIT}; expected 0 (not chosen) or blank (not asked)"
    }
    assert (
        "KoboToolbox options the instrument's questions do not have (a row ticking one is "
        "rejected): foundation/network/F" in summary.notes
    )
    scores = pd.read_csv(tmp_path / "s.csv", dtype=str)
    assert scores["respondent_id"].tolist() == export["_uuid"].iloc[[0, 3]].tolist()


def test_notes_quote_the_headers_as_the_file_writes_them(tmp_path, form, answers, model):
    # full-width brackets were named as ASCII ones (the reader's NFKC)
    export = kobo(answers.head(3), form)
    export["备注（内部）"] = "x"
    export.to_excel(tmp_path / "k.xlsx", index=False)
    summary, _ = score_file(tmp_path / "k.xlsx", tmp_path / "s.csv", model)
    assert any(n.endswith("(ignored): 备注（内部）") for n in summary.notes)


def test_map_sends_an_exports_own_headers_to_the_instruments_columns(
    tmp_path, form, answers, model
):
    export = kobo(answers.head(4), form)
    export = export.rename(columns={"foundation/network": "foundation/网络（新）"})
    export.to_csv(tmp_path / "k.csv", index=False)
    summary, mapping = score_file(tmp_path / "k.csv", tmp_path / "s.csv", model)
    assert "network" in summary.missing_items
    summary, mapping = score_file(
        tmp_path / "k.csv",
        tmp_path / "m.csv",
        model,
        column_map={"foundation/网络(新)": "network", "nothere": "strategy"},
    )
    assert "network" not in summary.missing_items and mapping.unused_map == ["nothere"]
    kobo(answers.head(4), form).to_csv(tmp_path / "p.csv", index=False)
    score_file(tmp_path / "p.csv", tmp_path / "p-s.csv", model)
    assert (tmp_path / "m.csv").read_bytes() == (tmp_path / "p-s.csv").read_bytes()

"""What the bulk page shows of a run (dmi.service.bulkview): every reason a run gives in the
page's language, the mapping as the page edits it, the scores for people."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import dmi
from dmi.bulk.run import score_file
from dmi.io import map_columns
from dmi.service import bulkview

from .conftest import ROOT

MIIT = dmi.load_instrument("miit-2024-manufacturing")
MODEL = dmi.IndexModel(MIIT).fit()
EXAMPLE = pd.read_csv(
    ROOT / "data" / "example-bulk.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False
).head(6)


def _bad_file(tmp_path) -> tuple[str, pd.DataFrame]:
    """A file with a row for each way a row is rejected (file checks and item checks)."""
    rows = EXAMPLE.copy()
    good = rows.iloc[0].copy()
    extra = []
    for change in (
        {"respondent_id": "R-dup"},
        {"respondent_id": "R-dup"},
        {"respondent_id": ""},
        {"respondent_id": "R-opt", "it_coverage": "Z"},
        {"respondent_id": "R-sector", "sector": "C99"},
        {"respondent_id": "R-employees", "employees": "乱写"},  # "from 0 to inf", in English
        {"respondent_id": "R-num", "equipment_digitised": "about half"},
        {"respondent_id": "R-range", "equipment_digitised": "135%"},
        {"respondent_id": "R-none", "network": "A;B"},
        {"respondent_id": "合计"},
        {"respondent_id": "R\x00NUL"},
        {"respondent_id": "9.13101E+17"},
        {"respondent_id": "#N/A"},
    ):
        row = good.copy()
        for column, value in change.items():
            row[column] = value
        extra.append(row)
    frame = pd.concat([rows, pd.DataFrame(extra)], ignore_index=True)
    path = tmp_path / "bad.csv"
    text = frame.to_csv(index=False)
    # a blank line, a ragged line and a quote left open at the end
    text += "\n" + ",".join(["R-ragged"] * 3) + '\nR-quote,"C13\n'
    path.write_text(text, encoding="utf-8")
    return str(path), frame


@pytest.mark.parametrize("policy", ["reject", "keep-first"])
def test_every_reason_of_a_run_is_worded_in_chinese(tmp_path, policy):
    path, _ = _bad_file(tmp_path)
    rejects_path = tmp_path / "rejects.csv"
    summary, _ = score_file(
        path, tmp_path / "s.csv", MODEL, rejects_path=rejects_path, duplicates=policy
    )
    rejects = pd.read_csv(rejects_path, dtype=str, keep_default_na=False)
    reasons = set(rejects["reason"]) | set(summary.rejected_rows_by_reason)
    assert len(reasons) >= 10
    for reason in reasons:
        worded = bulkview.reason_text(reason, "zh")
        english = re.search(r"[a-z]{4,}", worded.replace("Excel", ""))  # a name, not English
        assert worded != reason and not english, (reason, worded)
        assert bulkview.reason_text(reason, "en") != ""
    named = bulkview.named_rejects(rejects, MIIT, "zh")
    assert list(named.columns) == ["行号", "企业编号", "列", "填写的值", "原因"]
    assert len(named) == len(rejects)
    question = MIIT.item("it_coverage").zh
    assert question in named["列"].tolist() and "it_coverage" not in named["列"].tolist()
    table = bulkview.reasons_table(summary.rejected_rows_by_reason, "en")
    assert table["Rows"].sum() == summary.rejected


@pytest.mark.parametrize("rows", ["8", "4, 6"])
def test_a_repeated_id_s_reason_is_worded_for_one_row_or_several(rows):
    # "also on rows 8": the library says "row" for one, and both are worded
    word = "row" if "," not in rows else "rows"
    reason = f"duplicate respondent_id (also on {word} {rows})"
    assert bulkview.reason_text(reason, "zh") == f"企业编号重复（另见第 {rows} 行）"
    assert bulkview.reason_text(reason, "en") == f"repeated respondent id (also on row(s) {rows})"


def test_a_number_shown_scaled_is_worded_with_its_format_and_numbers():
    reason = (
        'number format \'0!.0,"万"\' shows 12000000 scaled ("1200.0万"); write the number in '
        "the column's unit"
    )
    assert bulkview.reason_text(reason, "zh") == (
        "数字格式 '0!.0,\"万\"' 把 12000000 缩放显示为“1200.0万”；请按该列的单位填写数字"
    )
    key = "number format '#,##0,' shows numbers scaled; write the number in the column's unit"
    assert (
        bulkview.reason_text(key, "zh")
        == "数字格式 '#,##0,' 把数字缩放显示；请按该列的单位填写数字"
    )
    assert "'#,##0,'" in bulkview.reason_text(key, "en")


AFTER = "，但所在的列没有表头；"


@pytest.mark.parametrize(
    ("reason", "zh"),
    [
        (
            'cell E3 has a value ("备注：数据待核实") in a column without a header; give the '
            "column a header or clear the cell",
            f"单元格 E3 有值（“备注：数据待核实”）{AFTER}请给该列加上表头，或清空该单元格",
        ),
        (
            'cells C9 ("y"), E9 ("5") have values in columns without a header; give the columns '
            "headers or clear the cells",
            f'单元格 C9 ("y"), E9 ("5") 有值{AFTER}请给这些列加上表头，或清空这些单元格',
        ),
        (
            'cells C9 ("y"), E9 ("5"), F9 ("6") and 2 more have values in columns without a '
            "header; give the columns headers or clear the cells",
            f'单元格 C9 ("y"), E9 ("5"), F9 ("6") 及另外 2 个有值{AFTER}请给这些列加上表头，'
            "或清空这些单元格",
        ),
        ("a value in a column without a header", "没有表头的列中有值"),
    ],
)
def test_a_value_in_a_column_without_a_header_is_worded_with_its_cells(reason, zh):
    assert bulkview.reason_text(reason, "zh") == zh
    assert bulkview.reason_text(reason, "en") != ""


def test_an_unknown_reason_or_note_is_shown_as_it_is():
    assert bulkview.reason_text("something new", "zh") == "something new"
    assert bulkview.note_text("something new", "zh") == "something new"
    for note in (
        "merged cells read as their first cell's value in every row of the range: B3:B6, C3:C5",
        "merged cells over several columns read in their first cell only (the other columns "
        "are blank): B7:C9",
    ):
        worded = bulkview.note_text(note, "zh")
        assert worded != note and not re.search(r"[a-z]{4,}", worded)
        assert worded.endswith(note.rsplit(": ", 1)[1])  # the ranges, as they are
    note = "read as gb18030: the file is not utf-8 from line 7 (row 6) on, and all of it is gb18030"
    assert bulkview.note_text(note, "zh").startswith("文件自第 7 行（表格第 6 行）起不是 UTF-8")


def test_the_mapping_table_round_trips_and_an_edit_changes_the_mapping():
    headers = ["编号", "备注", *EXAMPLE.columns[1:]]
    auto = map_columns(MIIT, headers)
    for lang in ("zh", "en"):
        table = bulkview.mapping_table(headers, auto, MIIT, lang)
        choices = bulkview.mapping_choices(MIIT, lang)
        assert set(table["column"]) <= set(choices) and len(set(choices)) == len(choices)
        custom = bulkview.edited_mapping(table, MIIT, lang)
        assert map_columns(MIIT, headers, custom) == auto  # unedited: the same mapping
        # the note column sent to the strategy question, the strategy column left out
        table.loc[table["header"] == "备注", "column"] = getattr(MIIT.item("strategy"), lang)
        table.loc[table["header"] == "strategy", "column"] = choices[0]
        edited = map_columns(MIIT, headers, bulkview.edited_mapping(table, MIIT, lang))
        assert edited.rename["备注"] == "strategy" and "strategy" in edited.unmatched


def test_the_scores_for_people_name_levels_tiers_sectors_and_carry_company_names(tmp_path):
    source = tmp_path / "a.csv"
    frame = EXAMPLE.copy()
    frame.loc[1, "company_name"] = "=HYPERLINK(1)"
    frame.loc[2, "region"] = ""
    frame.to_csv(source, index=False)
    out = tmp_path / "s.csv"
    reference = dmi.service.reference.shipped_reference(MIIT.id)
    summary, used = score_file(source, out, reference.index_model, tier_model=reference.tier_model)
    scores = pd.read_csv(out, dtype={"respondent_id": str, "sector": str, "region": str})
    names = bulkview.company_names(source, used)
    assert names == dict(zip(frame["respondent_id"], frame["company_name"]))
    table = bulkview.named_scores(scores, MIIT, "zh", names)
    assert table["企业名称"].tolist() == frame["company_name"].tolist()
    bands = {b.level: b.zh for b in MIIT.levels.bands}
    assert table["等级"].tolist() == [bands[v] for v in scores["level"]]
    tiers = {t.tier: t.zh for t in MIIT.tiers}
    assert table["帮扶梯度"].tolist() == [tiers[v] for v in scores["tier"]]
    sectors = {o.value: o.zh for o in MIIT.profile_field("sector").options}
    assert table[MIIT.profile_field("sector").zh].tolist() == [sectors[v] for v in frame["sector"]]
    region = table[MIIT.profile_field("region").zh]
    assert (
        pd.isna(region.iloc[2])
        and region.iloc[0]
        == {o.value: o.zh for o in MIIT.profile_field("region").options}[frame["region"].iloc[0]]
    )
    # without an id column there are no names to join
    assert bulkview.company_names(source, map_columns(MIIT, ["x"])) == {}


SURVEY_TOOL_NOTES = [
    "read as a 问卷星 export (按选项序号, option numbers; told from its cells); the layout "
    "detected from its headers",
    "read as a 问卷星 export (按选项文本, option texts; chosen)",
    "问卷星 export variant not told by the cells (every option is written as a number that is "
    "also an option's text: 第3题); read as 按选项序号 (option numbers); if the file is the "
    "按选项文本 export, choose --wjx-variant texts",
    "问卷星 questions matched by their number in the dmi survey: 3. 网络",
    "问卷星 meta columns dropped: 提交答卷时间, 来源",
    "问卷星 '其他' (other) columns ignored (the instrument has no such answer): 第5题(其他)",
    "问卷星 columns matching no question of miit-2024-manufacturing (ignored): 备注",
    "问卷星 options the instrument's questions do not have (a row ticking one is rejected): "
    "第7题(云)",
    "问卷星 skipped or not shown answers (-2, -3, (跳过)) read as blank: 4 (network 3, tools 1)",
    "问卷星 skipped or not shown answers ((跳过)) read as blank: 4 (network 3, tools 1)",
    "问卷星 empty fill-ins ((空)) read as blank: 2",
    "问卷星 '其他' (other) options the questions do not have, ignored in 3 multiple-choice answers",
    "Rows answered implausibly fast (under 90 seconds for 45 questions; flagged, not "
    "rejected): 2 (row numbers: 3, 7)",
    "Rows whose 所用时间 is not a duration (such as 2分3秒 or 123秒), not checked for speed: 1 "
    "(row numbers: 4)",
    "read as a KoboToolbox export; the layout detected from its headers",
    "read as a KoboToolbox export (choices as labels, chosen)",
    "KoboToolbox export without _uuid or _id: each row's respondent_id is its row number "
    "(choose a column with --id-column)",
    "KoboToolbox respondent ids from column _uuid",
    "KoboToolbox meta columns dropped: _id, _submission_time",
    "KoboToolbox split select_multiple columns ignored (the question's own column is read): "
    "tools/a",
    "KoboToolbox columns matching no question of miit-2024-manufacturing (ignored): note",
    "问卷星 columns read as the column map says: 7、网络情况 -> network",
    "KoboToolbox columns the column map leaves out: note",
    "KoboToolbox options the instrument's questions do not have (a row ticking one is "
    "rejected): network/F",
]


@pytest.mark.parametrize("note", SURVEY_TOOL_NOTES)
def test_the_survey_tools_notes_are_worded_in_chinese(note):
    # the bulk page showed the 问卷星 and KoboToolbox readers' notes in English
    worded = bulkview.note_text(note, "zh")
    names = re.sub(r"_uuid|_id|_submission_time|tools/a|network|tools|note|labels", "", worded)
    assert worded != note and not re.search(r"[a-z]{4,}", names.replace("KoboToolbox", ""))
    english = bulkview.note_text(note, "en")
    if "--id-column" in note:  # the command's option: the page chooses the id in its table
        assert "--id-column" not in english and "column table" in english
        return
    assert english == note or "matching no question" in note


def test_every_note_the_survey_tool_readers_make_has_its_wording():
    # the notes above are the readers' own: each format string of dmi.io.tools is one of them
    import ast
    from pathlib import Path

    import dmi.io.tools

    folder = Path(dmi.io.tools.__file__).parent
    made = 0
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "append"
                and isinstance(node.func.value, (ast.Name, ast.Attribute))
                and (getattr(node.func.value, "attr", None) or node.func.value.id) == "notes"
            ):
                made += 1
    # the two "read as" notes and the skipped answers' (per variant) have two forms above
    assert made == len(SURVEY_TOOL_NOTES) - 3


def test_the_bulk_pages_mapping_sends_only_what_was_edited(tmp_path):
    # --map now applies to a survey tool's own headers: the page sent every header, those it
    # matched to nothing as left out, and a 问卷星 upload lost its 0/1 and matrix columns
    from dmi.instruments.export.wjx import wjx_questions, wjx_text
    from tests.survey_tools_data import plain_answers, wjx_export

    plain = plain_answers(MIIT, 4, seed=5)
    export = wjx_export(plain, wjx_text(MIIT, "zh"), wjx_questions(MIIT), "codes")
    path = tmp_path / "wjx.csv"
    export.to_csv(path, index=False, encoding="utf-8-sig")
    headers = list(export.columns)
    auto = map_columns(MIIT, headers)
    table = bulkview.mapping_table(headers, auto, MIIT, "zh")
    assert bulkview.edited_mapping(table, MIIT, "zh", auto) == {}
    model = dmi.service.reference.shipped_reference(MIIT.id).index_model
    custom = bulkview.edited_mapping(table, MIIT, "zh", auto)
    score_file(path, tmp_path / "a.csv", model, column_map=custom)
    score_file(path, tmp_path / "b.csv", model)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    matched = next(iter(auto.rename))  # a question the page matched by its text
    table.loc[table["header"] == matched, "column"] = bulkview.mapping_choices(MIIT, "zh")[0]
    assert bulkview.edited_mapping(table, MIIT, "zh", auto) == {matched: ""}


def _english_words(worded: str, *names: str) -> list[str]:
    """The English words of a text worded in Chinese, names (ids, headers) aside."""
    for name in names:
        worded = worded.replace(name, "")
    return re.findall(r"[A-Za-z]{4,}", worded.replace("KoboToolbox", ""))


def test_a_kobo_split_cell_and_a_wjx_bad_option_are_worded_on_the_chinese_page(tmp_path):
    # the bulk page showed these survey-tool reasons in English on its Chinese page
    from dmi.instruments.export.wjx import wjx_questions, wjx_text
    from dmi.instruments.export.xlsform import xlsform_sheets
    from tests.survey_tools_data import kobo_export, plain_answers, wjx_export

    plain = plain_answers(MIIT, 4, seed=4, blank=0.0)
    kobo = kobo_export(plain, xlsform_sheets(MIIT), multi="split")
    split = next(c for c in kobo.columns if c.endswith("network/C"))
    kobo.loc[1, split] = "2"
    kobo.to_csv(tmp_path / "kobo.csv", index=False)
    files = [tmp_path / "kobo.csv"]
    questions = {q.codes[0]: q.number for q in wjx_questions(MIIT) if q.kind == "single"}
    for variant, cell in (("codes", "99"), ("texts", "乱写")):
        wjx = wjx_export(plain, wjx_text(MIIT, "zh"), wjx_questions(MIIT), variant)
        header = next(c for c in wjx.columns if c.startswith(f"{questions['strategy']}、"))
        wjx.loc[1, header] = cell
        wjx.to_csv(tmp_path / f"wjx-{variant}.csv", index=False, encoding="utf-8-sig")
        files.append(tmp_path / f"wjx-{variant}.csv")
    for path in files:
        summary, _ = score_file(path, tmp_path / "s.csv", MODEL)
        (reason,) = summary.rejected_rows_by_reason
        worded = bulkview.reason_text(reason, "zh")
        column = reason.partition(": ")[0]
        assert worded.startswith(f"{column}：")
        assert not _english_words(worded, column), (reason, worded)


def _sample(template: str) -> str:
    """A layout's reason with sample values in its fields."""
    from string import Formatter

    samples = {"number": "7", "instrument": MIIT.id, "question": "第7题", "high": "5"}
    fields = {f for _, f, _, _ in Formatter().parse(template) if f}
    return template.format(**{f: samples.get(f, "有, 无") for f in fields})


def test_every_reason_the_survey_tool_layouts_give_is_worded():
    # each reason a layout rejects a cell with is one of dmi.io.tools.REJECT_REASONS: a new
    # one without the page's wording in zh and en fails here
    from dmi.io.tools import REJECT_REASONS

    assert len(REJECT_REASONS) >= 10
    for key, template in REJECT_REASONS.items():
        reason = f"第7题(无): {_sample(template)}"
        worded = bulkview.reason_text(reason, "zh")
        assert worded.startswith("第7题(无)：") and worded != reason, key
        assert not _english_words(worded, MIIT.id), (key, worded)
        assert bulkview.reason_text(reason, "en").startswith("第7题(无): ")
        assert bulkview.reason_text(_sample(template), "zh") != _sample(template), key


def test_the_survey_tool_layouts_make_their_reasons_from_the_one_table():
    # a reason written inline in a layout would escape the test above: every text of
    # dmi.io.tools saying what was expected is the table's, a docstring's or an error's
    import ast
    from pathlib import Path

    import dmi.io.tools

    def skipped(node, parents) -> bool:
        for parent in parents:
            if isinstance(parent, ast.Call):
                name = getattr(parent.func, "id", None) or getattr(parent.func, "attr", "")
                if name.endswith("Error"):
                    return True
            if isinstance(parent, (ast.AnnAssign, ast.Assign)):
                targets = getattr(parent, "targets", None) or [parent.target]
                if any(getattr(t, "id", "") == "REJECT_REASONS" for t in targets):
                    return True
            if isinstance(parent, ast.Expr) and parent.value is node:
                return True  # a docstring
        return False

    inline = []
    for path in Path(dmi.io.tools.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def walk(node, parents, path=path):
            for child in ast.iter_child_nodes(node):
                if (
                    isinstance(child, ast.Constant)
                    and isinstance(child.value, str)
                    and "expected" in child.value
                    and not skipped(child, [*parents, node])
                ):
                    inline.append(f"{path.name}:{child.lineno}: {child.value[:60]}")
                walk(child, [*parents, node])

        walk(tree, [])
    assert inline == []


def test_the_mapping_table_of_an_export_shows_what_its_layout_reads(tmp_path):
    # the bulk page matched a 问卷星 upload's headers as a plain file's: its 0/1 option columns
    # and matrix rows were listed as left out and unmatched, though the layout reads them
    from dmi.instruments.export.wjx import wjx_questions, wjx_text
    from dmi.instruments.export.xlsform import xlsform_sheets
    from tests.survey_tools_data import kobo_export, plain_answers, wjx_export

    plain = plain_answers(MIIT, 4, seed=5)
    export = wjx_export(plain, wjx_text(MIIT, "zh"), wjx_questions(MIIT), "codes")
    export["备注"] = "x"
    path = tmp_path / "wjx.csv"
    export.to_csv(path, index=False, encoding="utf-8-sig")
    found = bulkview.file_mapping(path, MIIT)
    assert found.layout == "wjx" and found.headers == list(export.columns)
    table = bulkview.mapping_table(found.headers, found.mapping, MIIT, "zh", found.uses)
    shown = dict(zip(table["header"], zip(table["column"], table["how"])))
    names = bulkview.column_labels(MIIT, "zh")
    multi = next(q for q in wjx_questions(MIIT) if q.kind == "multi")
    matrix = next(q for q in wjx_questions(MIIT) if q.kind == "matrix")
    options = [h for h in export.columns if h.startswith(f"第{multi.number}题(")]
    rows = [h for h in export.columns if h.startswith(f"第{matrix.number}题(")]
    assert options and rows
    for header in options:
        assert shown[header] == (names[multi.codes[0]], text_of("use_option"))
    for header, code in zip(rows, matrix.codes):
        assert shown[header] == (names[code], text_of("use_answer"))
    assert shown["序号"][0] == names["respondent_id"]
    assert shown["所用时间"][1] == text_of("use_time")
    assert shown["提交答卷时间"] == (text_of("left_out"), text_of("use_meta"))
    assert shown["备注"] == (text_of("left_out"), text_of("use_unmatched"))
    assert found.mapping.unmatched == ["备注"] and found.mapping.missing_items == []
    # as the run's notes say it
    summary, _ = score_file(path, tmp_path / "s.csv", MODEL)
    meta = next(n for n in summary.notes if n.startswith("问卷星 meta columns dropped: "))
    assert meta.split(": ", 1)[1].split(", ") == [
        h for h, u in found.uses.items() if u.kind == "meta"
    ]
    assert any(n.endswith("(ignored): 备注") for n in summary.notes)
    # unedited, nothing is sent; a 0/1 column left out is sent alone, and read so
    assert bulkview.edited_mapping(table, MIIT, "zh", found.mapping) == {}
    table.loc[table["header"] == options[0], "column"] = text_of("left_out")
    custom = bulkview.edited_mapping(table, MIIT, "zh", found.mapping)
    assert custom == {options[0]: ""}
    again = bulkview.file_mapping(path, MIIT, custom)
    assert again.uses[options[0]].kind == "left_out"
    assert again.uses[options[1]].kind == "option"
    # a KoboToolbox export's split columns: under their question
    kobo = kobo_export(plain, xlsform_sheets(MIIT), multi="split")
    kobo.to_csv(tmp_path / "kobo.csv", index=False)
    found = bulkview.file_mapping(tmp_path / "kobo.csv", MIIT)
    split = next(c for c in kobo.columns if c.endswith("network/C"))
    assert found.layout == "kobo" and found.uses[split].kind == "option"
    assert found.mapping.rename[split] == "network" and split not in found.mapping.unmatched
    assert found.uses["_uuid"].kind == "id" and found.uses["start"].kind == "meta"


def text_of(name: str) -> str:
    from dmi.locales import text

    return text(f"agency.{name}", "zh")


@pytest.mark.parametrize("cell", ["zzz", "zzz;yyy", ";;", "NO", "BCE", "B C zzz"])
def test_a_multiple_choice_cell_refused_is_worded_on_the_chinese_page(cell):
    # its reason ("'zzz' is not an option; expected option values from A, ... separated by
    # ';'") was shown in English on both bulk pages
    from dmi.eligibility.survey import computed_levels

    item = next(i for i in MIIT.items if i.type == "multi")
    answers = {i.code: [""] for i in MIIT.items} | {item.code: [cell], "respondent_id": ["A"]}
    levels = computed_levels(pd.DataFrame(answers), np.array([2]))
    assert levels is not None
    reasons = set(levels.rejects["reason"])
    if not reasons:
        pytest.skip(f"{cell!r} is read by the item")
    for reason in reasons:
        worded = bulkview.reason_text(reason, "zh")
        assert worded != reason and not _english_words(worded), (reason, worded)
        assert bulkview.reason_text(reason, "en") != reason


def test_an_xls_read_as_the_workbook_it_is_is_said_in_the_pages_language():
    # a 问卷星 download named .xls: the note was the library's English on the Chinese page
    from dmi.io.readers import XLS_IS_XLSX_NOTE

    worded = bulkview.note_text(XLS_IS_XLSX_NOTE, "zh")
    assert worded.startswith("该 .xls 文件实为 .xlsx 工作簿") and "read as" not in worded
    assert ".xls" in worded and ".xlsx" in worded


@pytest.mark.parametrize(
    "absent", [["province"], ["province", "city", "sector"]], ids=["province", "all three"]
)
def test_the_notes_on_a_firm_s_place_are_worded_in_chinese(tmp_path, capsys, absent):
    # the notes on provinces that name no unit and on a cohort without a place column, as a
    # run makes them, were shown in English on the Chinese bulk page
    import json

    import dmi.eligibility as el
    from dmi.cli.main import main

    firms = el.synthetic_firms(6, seed=2)
    firms["province"] = ["粤", "广东", "未知", None, "广东省广州市", "44"]
    firms.to_csv(tmp_path / "a.csv", index=False)
    firms.drop(columns=absent).to_csv(tmp_path / "b.csv", index=False)
    notes = []
    for name in ("a.csv", "b.csv"):
        summary = tmp_path / "s.json"
        argv = [tmp_path / name, "-o", tmp_path / "o.csv", "--cohort", tmp_path / "c.csv"]
        assert main(["eligibility", *map(str, argv), "--summary", str(summary)]) == 0
        notes += json.loads(summary.read_text("utf-8"))["notes"]
    capsys.readouterr()
    placed = [n for n in notes if n.startswith(("province:", "the cohort has no groups"))]
    assert len(placed) == 2
    for note in placed:
        worded = bulkview.note_text(note, "zh")
        assert worded != note
        leftover = re.sub(
            r"\b(province|city|sector|Province|City|Sector|Guangdong|region|prefecture)\b",
            "",
            worded,
        )
        assert not re.search(r"[a-z]{5,}", leftover), worded
        assert bulkview.note_text(note, "en") != note  # the page's own wording, no --map


def test_a_province_note_naming_a_cell_with_a_line_break_is_worded():
    from dmi.eligibility.facts import FactsTally

    tally = FactsTally(unplaced=1, unplaced_rows=[4], unplaced_names=Counter({"广东\n广州": 1}))
    (note,) = tally.notes()
    assert bulkview.note_text(note, "zh").startswith(
        "1 行的省份不是省级单位（广东\n广州 ×1；第 4 行）"
    )


def test_a_long_list_of_rows_in_a_speed_note_has_no_english_in_chinese():
    # 25 rows too fast: "第 2, 3, … 21 and 5 more 行" on the zh page
    from dmi.io.tools.wjx import _rows

    rows = _rows(list(range(2, 27)))
    note = (
        "Rows answered implausibly fast (under 48 seconds for 24 questions; flagged, not "
        f"rejected): 25 (row numbers: {rows})"
    )
    worded = bulkview.note_text(note, "zh")
    assert worded != note and "more" not in worded and "第 2, 3" in worded and "21 ..." in worded

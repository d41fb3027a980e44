"""问卷星 (wjx.cn) exports, checked sentence by sentence against issue #19 ("Survey tools in and
out") and the reference on what 问卷星 writes: files made here by hand in 问卷星's layout, each
expected answer worked out from the survey's option list, not from the reader.

The instrument ``digits`` has a question whose options are written as numbers (``0``, ``1``,
``2``, ``3个及以上``): in such a survey option number 2 is the option ``1``, so the two export
variants (按选项序号: option numbers; 按选项文本: option texts) read the same cell differently and
the agency must be able to say which export the file is.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import dmi
from dmi.cli import main
from dmi.errors import FileFormatError, UsageError
from dmi.instruments import parse_instrument
from dmi.io import read_answers
from dmi.io.tools import Source, open_source

DIGITS_YAML = """
format: dmi-instrument/1
id: digits
version: "1"
title: {zh: 数字选项, en: Digit options}
defaults: {missing: exclude}
levels:
  bands:
    - {level: 0, min: 0, zh: 未达一级, en: Below level 1}
    - {level: 1, min: 50, zh: 一级, en: Level 1}
dimensions:
  - code: first
    zh: 第一
    en: First
    indicators:
      - code: people
        zh: 人员
        en: People
        items:
          - code: staff
            type: single
            zh: 专职数字化人员数
            en: Digital staff
            options:
              - {value: A, zh: "0", en: "0", points: 0}
              - {value: B, zh: "1", en: "1", points: 1}
              - {value: C, zh: "2", en: "2", points: 2}
              - {value: D, zh: 3个及以上, en: 3 or more, points: 3}
      - code: planning
        zh: 规划
        en: Planning
        items:
          - {code: plan, type: yesno, zh: 是否有数字化规划, en: Has a digital plan, points: 2}
      - code: systems
        zh: 系统
        en: Systems
        items:
          - code: tools
            type: multi
            zh: 已使用哪些系统
            en: Systems in use
            options:
              - {value: A, zh: 无, en: None, points: 0, exclusive: true}
              - {value: B, zh: 网络, en: Network, points: 1}
              - {value: C, zh: 平台, en: Platform, points: 1}
              - {value: D, zh: 数据, en: Data, points: 1}
          - code: hours
            type: number
            zh: 培训时长
            en: Training hours
            min: 0
            max: 40
            goalposts: {low: 0, high: 20}
"""
# the survey `dmi wjx digits` writes: 1 staff (single), 2 plan (single), 3 tools (multiple),
# 4 hours (fill-in); option k of a question is the k-th line under it
STAFF, PLAN, TOOLS, HOURS = (
    "1、专职数字化人员数",
    "2、是否有数字化规划",
    "3、已使用哪些系统",
    "4、培训时长",
)


@pytest.fixture(scope="module")
def digits() -> dmi.Instrument:
    return parse_instrument(DIGITS_YAML, source="digits.yaml")


@pytest.fixture
def digits_file(tmp_path):
    path = tmp_path / "digits.yaml"
    path.write_text(DIGITS_YAML, encoding="utf-8")
    return path


def meta(n: int, seconds: list[str] | None = None) -> dict[str, list[str]]:
    """问卷星's six leading meta columns, in their order, for ``n`` rows (ids 1 ... n)."""
    return {
        "序号": [str(i + 1) for i in range(n)],
        "提交答卷时间": ["2026/11/30 10:00:00"] * n,
        "所用时间": seconds or ["5分0秒"] * n,
        "来源": ["手机提交"] * n,
        "来源详情": ["直接访问"] * n,
        "来自IP": ["10.0.0.1(浙江-杭州)"] * n,
    }


def write(columns: dict[str, list], path, encoding: str = "utf-8-sig"):
    frame = pd.DataFrame(columns, dtype=object)
    if str(path).endswith(".xlsx"):
        # as 问卷星 writes a workbook: numbers as numbers
        frame = frame.map(
            lambda v: int(v) if isinstance(v, str) and re.fullmatch(r"-?\d+", v) else v
        )
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, encoding=encoding)
    return path


def read(path, instrument, **source):
    """The plain columns a file gives, its notes, and its bad cells (row, column, cell, reason)."""
    reader = open_source(path, instrument, Source(**source))
    chunks = list(reader.chunks())
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    bad = [
        (int(r), cells.column, value, reason)
        for chunk in chunks
        for cells in chunk.unreadable
        for r, value, reason in zip(cells.rows, cells.shown(), cells.reasons())
    ]
    return blanks_as_none(frame), reader.notes, bad


def blanks_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def scored_with_rejects(capsys, path, instrument_file, rejects, *more) -> tuple[str, pd.DataFrame]:
    """``dmi score PATH --instrument FILE --rejects REJECTS`` (and ``more``), which must end
    well: its standard output and the rejects table (text cells, blank as "")."""
    code, out, err = run(
        capsys,
        "score",
        path,
        "--instrument",
        instrument_file,
        "-o",
        rejects.with_name("s.csv"),
        "--rejects",
        rejects,
        *more,
    )
    assert code == 0, err
    return out, pd.read_csv(rejects, dtype=str, keep_default_na=False)


# -- the variant: told from the cells, or chosen --


def test_cells_that_are_numbers_and_option_texts_alike_cannot_tell_the_variant(tmp_path, digits):
    # every answered choice is a number that is both an option number and an option's text
    path = write(meta(3) | {STAFF: ["1", "2", "1"], HOURS: ["5", "6", "7"]}, tmp_path / "a.csv")
    frame, notes, _ = read(path, digits)
    # read as option numbers: 1 is the first option (0 staff, A), 2 the second (1 staff, B)
    assert list(frame["staff"]) == ["A", "B", "A"]
    assert notes[0].startswith("read as a 问卷星 export (按选项序号")
    assert any("variant not told by the cells" in n and STAFF in n for n in notes)
    assert any("--wjx-variant texts" in n for n in notes)
    # chosen: the text export's "1" is the option written "1" (B), "2" the option "2" (C)
    frame, notes, _ = read(path, digits, wjx_variant="texts")
    assert list(frame["staff"]) == ["B", "C", "B"]
    assert notes[0].startswith("read as a 问卷星 export (按选项文本, option texts; chosen)")
    assert not any("not told" in n for n in notes)
    frame, notes, _ = read(path, digits, wjx_variant="codes")
    assert list(frame["staff"]) == ["A", "B", "A"] and not any("not told" in n for n in notes)


@pytest.mark.parametrize(
    ("cells", "variant", "staff"),
    [
        (["1", "0"], "texts", ["B", "A"]),  # 0 is no option number: the text export
        (["1", "3个及以上"], "texts", ["B", "D"]),
        (["1", "4"], "codes", ["A", "D"]),  # 4 is an option number and no option's text
        (["2", "-3"], "codes", ["B", None]),  # -3: not shown, in the number export
        (["2", "(跳过)"], "texts", ["C", None]),
    ],
)
def test_auto_tells_the_variant_from_any_cell_that_can(tmp_path, digits, cells, variant, staff):
    path = write(meta(2) | {STAFF: cells}, tmp_path / "a.csv")
    frame, notes, bad = read(path, digits)
    assert list(frame["staff"]) == staff and bad == []
    layout = {"codes": "按选项序号", "texts": "按选项文本"}[variant]
    assert notes[0].startswith(f"read as a 问卷星 export ({layout}")
    assert not any("not told" in n for n in notes)


@pytest.mark.parametrize(
    ("variant", "cell", "what"),
    [
        ("codes", "3个及以上", "is an option's text, not an option number"),
        ("codes", "网络┋平台", "is an option's text, not an option number"),
        ("texts", "4", "is an option number, not an option's text"),
        ("texts", "-2", "is an option number, not an option's text"),
    ],
)
def test_a_chosen_variant_a_cell_contradicts_is_one_error_naming_row_column_and_cell(
    capsys, tmp_path, digits, digits_file, variant, cell, what
):
    column = TOOLS if "┋" in cell else STAFF
    other = {STAFF: "2", TOOLS: "网络" if variant == "texts" else "2"}
    cells = {column: [other[column]] * 4}
    cells[column][2] = cell  # spreadsheet row 4
    path = write(meta(4) | cells, tmp_path / "c.csv")
    with pytest.raises(FileFormatError) as caught:
        read(path, digits, wjx_variant=variant)
    assert caught.value.details == {"row": 4, "column": column, "value": cell}
    message = str(caught.value)
    assert f"row 4, column {column}: {cell!r} {what}" in message
    assert f"--wjx-variant {variant}" in message
    # the command line: one line, exit 2, nothing written
    out = tmp_path / "scores.csv"
    code, _, err = run(
        capsys, "score", path, "--instrument", digits_file, "-o", out, "--wjx-variant", variant
    )
    assert code == 2 and err.count("\n") == 1 and err.startswith("dmi: error: ")
    assert f"row 4, column {column}: {cell!r}" in err and not out.exists()


def test_the_variant_is_an_option_of_the_api_and_the_command(capsys, tmp_path, digits_file):
    with pytest.raises(UsageError, match="unknown 问卷星 export variant 'numbers'"):
        Source("wjx", wjx_variant="numbers")
    path = write(meta(2) | {STAFF: ["1", "2"]}, tmp_path / "a.csv")
    with pytest.raises(SystemExit) as exited:
        main(["score", str(path), "-o", str(tmp_path / "s.csv"), "--wjx-variant", "x"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--wjx-variant: invalid choice: 'x'" in err and "'codes', 'texts'" in err
    summary = tmp_path / "summary.json"
    code, _, err = run(
        capsys,
        "score",
        path,
        "--instrument",
        digits_file,
        "-o",
        tmp_path / "s.csv",
        "--summary",
        summary,
        "--wjx-variant",
        "texts",
    )
    assert code == 0, err
    notes = json.loads(summary.read_text(encoding="utf-8"))["notes"]
    assert "read as a 问卷星 export (按选项文本, option texts; chosen)" in notes[0]


def test_score_file_takes_the_variant(tmp_path, digits):
    from dmi.bulk.run import score_file

    model = dmi.IndexModel(digits).fit()
    path = write(meta(2) | {STAFF: ["1", "2"], PLAN: ["是", "否"]}, tmp_path / "a.csv")
    plain = write(
        {"respondent_id": ["1", "2"], "staff": ["B", "C"], "plan": ["yes", "no"]},
        tmp_path / "p.csv",
    )
    score_file(plain, tmp_path / "expected.csv", model)
    score_file(path, tmp_path / "got.csv", model, source=Source("wjx", wjx_variant="texts"))
    got = pd.read_csv(tmp_path / "got.csv", dtype=str)
    expected = pd.read_csv(tmp_path / "expected.csv", dtype=str)
    pd.testing.assert_frame_equal(got[expected.columns], expected)


# -- the meta columns --


def test_meta_columns_give_the_id_and_the_time_and_the_others_are_dropped_and_named(
    tmp_path, digits
):
    columns = meta(2, ["2分3秒", "10秒"]) | {"总分": ["0", "0"], STAFF: ["2", "3"]}
    frame, notes, _ = read(write(columns, tmp_path / "a.csv"), digits)
    assert list(frame.columns) == ["respondent_id", "staff", "answer_seconds", "too_fast"]
    assert list(frame["respondent_id"]) == ["1", "2"]  # 序号
    assert list(frame["answer_seconds"]) == ["123", "10"]  # 所用时间
    assert "问卷星 meta columns dropped: 提交答卷时间, 来源, 来源详情, 来自IP, 总分" in notes


# -- question headers --


@pytest.mark.parametrize(
    "header",
    [
        "1、专职数字化人员数",
        "1：专职数字化人员数",
        "1:专职数字化人员数",
        "1.专职数字化人员数",
        "１、专职数字化人员数",  # full-width digit
        "１：专职数字化人员数",
        "1、专职数字化人员数[单选题]",
        "1、Digital staff",  # the English survey
        "12、专职数字化人员数",  # another number: matched by its text
    ],
)
def test_a_question_header_is_matched_by_its_text(tmp_path, digits, header):
    columns = meta(2) | {header: ["2", "4"], "2、是否有数字化规划": ["1", "2"]}
    frame, notes, _ = read(write(columns, tmp_path / "h.csv"), digits)
    assert list(frame["staff"]) == ["B", "D"] and list(frame["plan"]) == ["yes", "no"]
    assert not any("matching no question" in n for n in notes)


# -- multiple choice --


def test_a_multiple_choice_as_joined_texts_or_as_0_1_columns_reads_the_same(tmp_path, digits):
    # the same three answers: 网络+数据, 无, 平台
    texts = meta(3) | {TOOLS: ["网络┋数据", "无", "平台"]}
    codes = meta(3) | {
        "第3题(无)": ["0", "1", "0"],
        "第3题(网络)": ["1", "0", "0"],
        "第3题(平台)": ["0", "0", "1"],
        "第3题(数据)": ["1", "0", "0"],
    }
    short = meta(3) | {k.replace("第3题", "3"): v for k, v in codes.items() if k.startswith("第")}
    english = meta(3) | {"3、Systems in use": ["Network┋Data", "None", "Platform"]}
    expected = ["B;D", "A", "C"]
    for name, columns in [("t", texts), ("c", codes), ("s", short), ("e", english)]:
        frame, _, bad = read(write(columns, tmp_path / f"{name}.csv"), digits)
        assert list(frame["tools"]) == expected, name
        assert bad == []


def test_skipped_and_not_shown_are_blank_and_counted(tmp_path, digits):
    codes = meta(4) | {
        STAFF: ["-2", "-3", "1", "2"],
        "第3题(无)": ["-3", "0", "1", "-2"],
        "第3题(网络)": ["-3", "1", "0", "-2"],
        HOURS: ["-2", "3", "(空)", "4"],
    }
    frame, notes, bad = read(write(codes, tmp_path / "c.csv"), digits)
    assert list(frame["staff"]) == [None, None, "A", "B"]
    assert list(frame["tools"]) == [None, "B", "A", None]
    assert list(frame["hours"]) == [None, "3", None, "4"]
    assert bad == []
    assert any(n.startswith("问卷星 skipped or not shown answers") and ": 5 (" in n for n in notes)
    assert "问卷星 empty fill-ins ((空)) read as blank: 1" in notes
    texts = meta(3) | {STAFF: ["(跳过)", "0", "（跳过）"], TOOLS: ["(跳过)", "网络", "无"]}
    frame, notes, _ = read(write(texts, tmp_path / "t.csv"), digits)
    assert list(frame["staff"]) == [None, "A", None] and list(frame["tools"]) == [None, "B", "A"]
    # the option-text export's mark is (跳过) alone (-3 is a value there): its note says so
    said = "问卷星 skipped or not shown answers ((跳过)) read as blank: 3 (staff 2, tools 1)"
    assert said in notes


def test_the_skipped_answers_note_lists_questions_in_the_instruments_order_at_any_chunk_size(
    tmp_path, digits
):
    # the second question is skipped in the first half of the rows, the first only in the
    # second half: a note built chunk by chunk would list them in the order the chunks met them
    n = 4000
    half = n // 2
    codes = meta(n) | {
        STAFF: ["1"] * half + ["-2"] * half,
        "第3题(无)": ["-3"] * half + ["0"] * half,
        "第3题(网络)": ["-3"] * half + ["1"] * half,
        HOURS: ["3"] * (n - 1) + ["-2"],
    }
    path = write(codes, tmp_path / "c.csv")
    notes = set()
    for chunk_rows in (500, n):
        reader = open_source(path, digits, Source(), chunk_rows=chunk_rows)
        for _ in reader.chunks():
            pass
        notes.add(next(n for n in reader.notes if n.startswith("问卷星 skipped")))
    assert notes == {
        "问卷星 skipped or not shown answers (-2, -3, (跳过)) read as blank: "
        f"{n + 1} (staff {half}, tools {half}, hours 1)"
    }


def test_other_fill_in_columns_are_ignored_with_a_note(tmp_path, digits):
    # the survey in 问卷星 got an "其他" option with a fill-in that the instrument does not have
    texts = meta(3) | {
        TOOLS: ["网络┋其他〖自建系统〗", "其他", "平台┋数据"],
        "3、(其他（请补充）:)": ["自建系统", "", ""],
    }
    frame, notes, bad = read(write(texts, tmp_path / "t.csv"), digits)
    assert list(frame.columns) == ["respondent_id", "tools", "answer_seconds", "too_fast"]
    assert list(frame["tools"]) == ["B", None, "C;D"] and bad == []
    assert any("'其他' (other) columns ignored" in n and "3、(其他（请补充）:)" in n for n in notes)
    assert any("'其他' (other) options" in n and "ignored in 2 multiple-choice" in n for n in notes)
    # the number export: the option's 0/1 column is ignored, with a note; the answers alike
    codes = meta(3) | {
        "第3题(无)": ["0", "0", "0"],
        "第3题(网络)": ["1", "0", "0"],
        "第3题(平台)": ["0", "0", "1"],
        "第3题(数据)": ["0", "0", "1"],
        "第3题(其他)": ["1", "1", "0"],
        "3、(其他（请补充）:)": ["自建系统", "", ""],
    }
    frame, notes, bad = read(write(codes, tmp_path / "c.csv"), digits)
    assert list(frame["tools"]) == ["B", None, "C;D"] and bad == []
    note = next(n for n in notes if "'其他' (other) columns ignored" in n)
    assert "3、(其他（请补充）:)" in note and "第3题(其他)" in note


# -- the time taken --


def test_the_time_taken_is_read_and_fast_answers_are_flagged_not_rejected(tmp_path, digits):
    # 3 questions answered (staff, plan, hours) x 2 seconds: under 6 seconds is too fast
    seconds = ["2分3秒", "123秒", "1小时2分3秒", "5秒", "6秒", "0分5秒", "很快"]
    columns = meta(7, seconds) | {
        STAFF: ["1"] * 7,
        PLAN: ["1"] * 7,
        HOURS: ["3"] * 7,
    }
    frame, notes, bad = read(write(columns, tmp_path / "t.csv"), digits)
    assert bad == []
    assert list(frame["answer_seconds"]) == ["123", "123", "3723", "5", "6", "5", None]
    assert list(frame["too_fast"]) == ["0", "0", "0", "1", "0", "1", None]
    fast = next(n for n in notes if "implausibly fast" in n)
    assert fast.startswith("Rows answered implausibly fast (under 6 seconds for 3 questions")
    assert fast.endswith("(row numbers: 5, 7)")  # spreadsheet rows (the header is row 1)
    slow = [n for n in notes if n.startswith("Rows whose 所用时间 is not a duration")]
    assert len(slow) == 1 and slow[0].endswith(": 1 (row numbers: 8)")
    # the threshold is a setting: 3 seconds a question makes 9 seconds the line
    _, notes, _ = read(tmp_path / "t.csv", digits, min_seconds_per_question=3)
    assert any(n.startswith("Rows answered implausibly fast (under 9 seconds") for n in notes)


# -- files --


@pytest.mark.parametrize(
    ("name", "encoding"),
    [("a.csv", "gbk"), ("a.csv", "gb18030"), ("a.csv", "utf-8-sig"), ("a.xlsx", None)],
)
def test_gbk_utf8_with_bom_and_xlsx_read_alike(tmp_path, digits, name, encoding):
    columns = meta(3) | {
        STAFF: ["3个及以上", "0", "(跳过)"],
        PLAN: ["是", "否", "是"],
        TOOLS: ["网络┋平台", "无", "数据"],
        HOURS: ["12", "(空)", "0"],
    }
    frame = read_answers(write(columns, tmp_path / name, encoding), digits)
    assert blanks_as_none(frame).to_dict("list") == {
        "respondent_id": ["1", "2", "3"],
        "staff": ["D", "A", None],
        "plan": ["yes", "no", "yes"],
        "tools": ["B;C", "A", "D"],
        "hours": ["12", None, "0"],
        "answer_seconds": ["300", "300", "300"],
        "too_fast": ["0", "0", "0"],
    }


def test_an_xlsx_number_export_reads_its_numbers_as_option_numbers(tmp_path, digits):
    columns = meta(2) | {STAFF: ["4", "-3"], "第3题(网络)": ["1", "0"], "第3题(无)": ["0", "1"]}
    frame = blanks_as_none(read_answers(write(columns, tmp_path / "n.xlsx"), digits))
    assert list(frame["staff"]) == ["D", None] and list(frame["tools"]) == ["B", "A"]


def test_an_xlsx_number_shown_scaled_is_a_bad_cell_of_its_question(tmp_path, digits):
    # a 问卷星 workbook whose fill-in column someone formatted to show thousands (#,##0,)
    from openpyxl import load_workbook

    columns = meta(3) | {STAFF: ["1", "1", "1"], HOURS: ["12", "3000", "15000"]}
    path = write(columns, tmp_path / "scaled.xlsx")
    book = load_workbook(path)
    for row in (3, 4):
        book.active.cell(row=row, column=len(columns)).number_format = "#,##0,"
    book.save(path)
    frame, _, bad = read(path, digits)
    assert frame["hours"].tolist() == ["12", None, None]
    why = "number format '#,##0,' shows {} scaled (\"{}\"); write the number in the column's unit"
    assert bad == [
        (3, "hours", "3000", f"{HOURS}: " + why.format("3000", "3")),
        (4, "hours", "15000", f"{HOURS}: " + why.format("15000", "15")),
    ]


# -- bad cells --


def test_every_bad_cell_rejects_its_row_naming_row_column_cell_and_what_was_expected(
    capsys, tmp_path, digits_file
):
    codes = meta(4) | {
        STAFF: ["1", "5", "2", "1"],
        "第3题(无)": ["0", "0", "x", "1"],
        "第3题(网络)": ["1", "1", "1", "0"],
        HOURS: ["3", "3", "3", "99"],
    }
    path = write(codes, tmp_path / "bad.csv")
    rejects = tmp_path / "rejects.csv"
    out, table = scored_with_rejects(capsys, path, digits_file, rejects)
    assert "read 4 rows: 1 scored, 3 rejected" in out
    got = {r.row: r for r in table.itertuples()}
    assert set(got) == {"3", "4", "5"}
    assert (got["3"].column, got["3"].value) == ("staff", "5")
    assert got["3"].reason.startswith(f"{STAFF}: not an option number of 第1题")
    assert "expected a number from 1 to 4" in got["3"].reason
    assert (got["4"].column, got["4"].value) == ("tools", "x")
    assert got["4"].reason.startswith("第3题(无): ") and "expected 1 (ticked), 0" in got["4"].reason
    assert (got["5"].column, got["5"].value) == ("hours", "99")
    assert "0 to 40" in got["5"].reason
    texts = meta(2) | {STAFF: ["0", "很多"], TOOLS: ["网络┋云", "无"]}
    path = write(texts, tmp_path / "bad-t.csv")
    _, table = scored_with_rejects(capsys, path, digits_file, rejects)
    assert table[["row", "column", "value"]].values.tolist() == [
        ["2", "tools", "网络┋云"],
        ["3", "staff", "很多"],
    ]
    assert all("expected one of its options' texts" in r for r in table["reason"])
    assert "(0, 1, 2, 3个及以上" in table["reason"][1]


def test_a_row_with_a_bad_cell_lists_its_other_problems_and_none_its_blank_cell_makes(
    capsys, tmp_path, digits_file
):
    # option 5 of staff's 4 is a cell the layout cannot read: it rejects its row, and the row's
    # other problems are listed with it (one run tells every fix): hours 99 of 0 to 40, and an
    # id that repeats. A problem only the unread cell's absence makes is not: row 4's staff is
    # its dimension's only answer (tools and hours skipped), which read as blank is a dimension
    # without an answer
    codes = meta(5) | {
        STAFF: ["1", "5", "5", "1", "1"],
        "第3题(无)": ["0", "0", "-3", "0", "0"],
        "第3题(网络)": ["1", "1", "-3", "1", "1"],
        HOURS: ["3", "99", "-2", "3", "3"],
    }
    codes["序号"][4] = "2"  # row 6 repeats row 3's id
    path = write(codes, tmp_path / "two.csv")
    out, table = scored_with_rejects(capsys, path, digits_file, tmp_path / "rejects.csv")
    assert "read 5 rows: 2 scored, 3 rejected (5 problems)" in out
    # a row's problems the reading found first, then the scoring's
    assert table[["row", "column", "value"]].values.tolist() == [
        ["3", "staff", "5"],
        ["3", "respondent_id", "2"],
        ["3", "hours", "99"],
        ["4", "staff", "5"],
        ["6", "respondent_id", "2"],
    ]
    assert "also on row 6" in table["reason"][1] and "0 to 40" in table["reason"][2]
    assert "also on row 3" in table["reason"][4]


def test_a_bad_cell_of_a_required_question_is_one_problem_not_also_a_missing_answer(
    capsys, tmp_path
):
    # every answer required: the unread staff cell is not also "required answer missing"
    instrument = tmp_path / "required.yaml"
    instrument.write_text(DIGITS_YAML.replace("missing: exclude", "missing: required"), "utf-8")
    codes = meta(2) | {
        STAFF: ["5", "1"],
        PLAN: ["1", "1"],
        "第3题(无)": ["0", "0"],
        "第3题(网络)": ["1", "1"],
        HOURS: ["3", "99"],
    }
    path = write(codes, tmp_path / "required.csv")
    out, table = scored_with_rejects(capsys, path, instrument, tmp_path / "rejects.csv")
    assert "read 2 rows: 0 scored, 2 rejected (2 problems)" in out
    assert table[["row", "column", "value"]].values.tolist() == [
        ["2", "staff", "5"],
        ["3", "hours", "99"],
    ]


# -- the round trip: dmi wjx -> 问卷星 -> export -> dmi score --

_QUESTION = re.compile(r"^(\d+)\. (.+)\[(单选题|多选题|填空题|矩阵单选题)\]$")


def numbered(text: str) -> list[dict]:
    """The questions of a 问卷星 import text as 问卷星 numbers them: a line ``N. title[type]``,
    then the option lines (a matrix: its row lines, 【选项】, the option lines), blank lines
    between questions; the first line is the survey's title."""
    out = []
    for block in text.strip().split("\n\n")[1:]:
        first, *lines = block.splitlines()
        match = _QUESTION.match(first)
        assert match, first
        rows: list[str] = []
        if "【选项】" in lines:
            at = lines.index("【选项】")
            rows, lines = lines[:at], lines[at + 1 :]
        out.append(
            {
                "n": int(match[1]),
                "title": match[2],
                "type": match[3],
                "rows": rows,
                "options": lines,
            }
        )
    return out


def as_wjx(plain: pd.DataFrame, instrument, questions: list[dict], variant: str) -> dict:
    """The plain answers as 问卷星 exports the survey: each question's column(s) from the text,
    the plain columns it fills taken in the template's order, an answer's option number from
    the instrument's choices in that order."""
    from dmi.instruments.items import item_type

    order = [f.code for f in instrument.profile] + [i.code for i in instrument.items]
    choices = {}
    for f in instrument.profile:
        choices[f.code] = [o.value for o in f.options]
    for item in instrument.items:
        widget = item_type(item).widget(item, instrument)
        choices[item.code] = [str(c.value) for c in widget.choices]
    out = meta(len(plain))
    out["序号"] = list(plain["respondent_id"])
    at = 0
    skip = "-3" if variant == "codes" else "(跳过)"
    for q in questions:
        codes = order[at : at + max(len(q["rows"]), 1)]
        at += len(codes)

        def cell(code, v, q=q):
            if v is None:
                return skip
            k = choices[code].index(v)
            return str(k + 1) if variant == "codes" else q["options"][k]

        if q["type"] == "矩阵单选题":
            for code, row in zip(codes, q["rows"], strict=True):
                out[f"第{q['n']}题({row})"] = [cell(code, v) for v in plain[code]]
        elif q["type"] == "填空题":
            out[f"{q['n']}、{q['title']}"] = ["(空)" if v is None else v for v in plain[codes[0]]]
        elif q["type"] == "单选题":
            out[f"{q['n']}、{q['title']}"] = [cell(codes[0], v) for v in plain[codes[0]]]
        elif variant == "codes":
            for k, option in enumerate(q["options"]):
                value = choices[codes[0]][k]
                out[f"第{q['n']}题({option})"] = [
                    skip if v is None else str(int(value in v.split(";"))) for v in plain[codes[0]]
                ]
        else:
            out[f"{q['n']}、{q['title']}"] = [
                skip
                if v is None
                else "┋".join(q["options"][choices[codes[0]].index(x)] for x in v.split(";"))
                for v in plain[codes[0]]
            ]
    assert at == len(order)  # every column asked once
    return out


@pytest.mark.parametrize(
    ("name", "variant", "lang", "suffix"),
    [
        ("miit-2024-manufacturing", "codes", "zh", ".csv"),
        ("miit-2024-manufacturing", "texts", "en", ".xlsx"),
        ("digits", "texts", "zh", ".csv"),
        ("digits", "codes", "en", ".xlsx"),
    ],
)
def test_the_round_trip_instrument_to_wjx_text_to_export_to_scores(
    capsys, tmp_path, digits, digits_file, name, variant, lang, suffix
):
    from tests.survey_tools_data import plain_answers

    instrument = digits if name == "digits" else dmi.load_instrument(name)
    source = digits_file if name == "digits" else name
    survey = tmp_path / "survey.txt"
    code, _, err = run(capsys, "wjx", source, "-o", survey, "--lang", lang)
    assert code == 0, err
    questions = numbered(survey.read_text(encoding="utf-8"))
    assert [q["n"] for q in questions] == list(range(1, len(questions) + 1))
    plain = plain_answers(instrument, 25, seed=31)
    write(plain.to_dict("list"), tmp_path / "plain.csv")
    export = write(as_wjx(plain, instrument, questions, variant), tmp_path / f"export{suffix}")
    outputs = {}
    for path in (tmp_path / "plain.csv", export):
        out = tmp_path / f"{path.stem}-scores.csv"
        code, stdout, err = run(
            capsys,
            "score",
            path,
            "--instrument",
            source,
            "-o",
            out,
            "--tier-model",
            "none",
            "--wjx-variant" if path == export else "--from",
            variant if path == export else "plain",
        )
        assert code == 0, err
        assert "read 25 rows" in stdout
        outputs[path.stem] = pd.read_csv(out, dtype=str)
    got = outputs["export"].drop(columns=["answer_seconds", "too_fast"])
    pd.testing.assert_frame_equal(got, outputs["plain"])


def test_auto_goes_by_most_cells_and_a_stray_text_is_one_bad_cell(tmp_path, digits):
    # one cell of a number export holding a word (不适用) made the whole file the text export,
    # and every row was rejected: the cells that can tell are counted, the most decide, and the
    # word is that row's bad cell
    staff = ["1", "2", "4", "3", "不适用", "2"]
    path = write(meta(6) | {STAFF: staff}, tmp_path / "a.csv")
    frame, notes, bad = read(path, digits)
    assert notes[0].startswith("read as a 问卷星 export (按选项序号")
    assert list(frame["staff"])[:4] == ["A", "B", "D", "C"]
    assert [(row, cell) for row, _, cell, _ in bad] == [(6, "不适用")]
    # two exports pasted together: the fewer cells are bad cells of the variant the most tell
    mixed = write(meta(5) | {STAFF: ["1", "4", "4", "3个及以上", "2"]}, tmp_path / "b.csv")
    frame, notes, bad = read(mixed, digits)
    assert notes[0].startswith("read as a 问卷星 export (按选项序号")
    assert [(row, cell) for row, _, cell, _ in bad] == [(5, "3个及以上")]


def test_a_blank_0_1_cell_beside_the_questions_others_is_a_bad_cell(tmp_path, digits):
    # a blank among a question's 0/1 cells was read as not ticked: a 网络 lost, silently
    codes = meta(3) | {
        "第3题(无)": ["0", "", ""],
        "第3题(网络)": ["", "0", ""],
        "第3题(平台)": ["1", "1", ""],
        "第3题(数据)": ["1", "0", ""],
    }
    frame, _, bad = read(write(codes, tmp_path / "c.csv"), digits)
    assert sorted(row for row, *_ in bad) == [2, 3] and {c for _, c, _, _ in bad} == {"tools"}
    assert all("a blank among 第3题's 0/1 cells" in reason for *_, reason in bad)
    assert frame["tools"].tolist()[2] is None  # every cell blank: no answer, not a bad cell


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_the_fewest_seconds_a_question_is_a_finite_number(capsys, tmp_path, seconds):
    # infinitely many seconds a question would flag every row as answered too fast
    with pytest.raises(UsageError, match="a finite number of at least 0"):
        Source("wjx", min_seconds_per_question=seconds)
    path = write(meta(2) | {STAFF: ["1", "2"]}, tmp_path / "a.csv")
    code, _, err = run(
        capsys, "score", path, "-o", tmp_path / "s.csv", "--min-seconds", str(seconds)
    )
    assert code == 2 and "a finite number of at least 0" in err


def test_the_0_1_cell_reasons_are_worded_in_chinese(tmp_path, digits):
    # the app's bulk page words every reason in its language: the 问卷星 0/1 cells' were shown
    # in English, and so was any reason a survey tool's column put its header before
    from dmi.service.bulkview import reason_text

    codes = meta(3) | {
        "第3题(无)": ["0", "", "2"],
        "第3题(网络)": ["", "0", "1"],
        "第3题(平台)": ["1", "1", "0"],
        "第3题(数据)": ["1", "0", "0"],
    }
    _, _, bad = read(write(codes, tmp_path / "c.csv"), digits)
    reasons = {reason for *_, reason in bad}
    assert len(reasons) == 3  # two blanks beside filled cells, one "2"
    for reason in reasons:
        header = reason.split(": ", 1)[0]
        worded = reason_text(reason, "zh")
        assert worded.startswith(f"{header}：") and "第3题" in worded, worded
        assert not re.search(r"[a-z]{4,}", worded), worded
        assert reason_text(reason, "en") == reason
    # a known reason after a column's header is worded, the header kept as written
    assert reason_text("第3题(无): blank line", "zh") == "第3题(无)：空行"
    assert reason_text("第3题(无): something new", "zh") == "第3题(无): something new"


def test_a_blank_0_1_cell_is_written_empty_in_the_rejects_not_as_none(
    capsys, tmp_path, digits, digits_file
):
    # the rejects file showed the blank cell as the text "None", which no file held
    codes = meta(2) | {
        "第3题(无)": ["0", "0"],
        "第3题(网络)": ["", "1"],
        "第3题(平台)": ["1", "0"],
        "第3题(数据)": ["1", ""],
    }
    path = write(codes, tmp_path / "c.csv")
    _, _, bad = read(path, digits)
    assert [(row, value) for row, _, value, _ in bad] == [(2, ""), (3, "")]
    rejects = tmp_path / "rejects.csv"
    _, table = scored_with_rejects(capsys, path, digits_file, rejects)
    assert table[["row", "column", "value"]].values.tolist() == [
        ["2", "tools", ""],
        ["3", "tools", ""],
    ]
    assert "None" not in rejects.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize(
    ("cell", "tools"),
    [
        ("网络┋其他〖自建系统, 含MES┋ERP〗", "B"),  # a ┋ typed into the fill-in
        ("其他〖MES┋ERP┋WMS〗┋平台┋数据", "C;D"),
        ("其他〖┋〗", None),  # the fill-in is all there is: a blank answer
        ("网络┋平台", "B;C"),
    ],
)
def test_a_join_mark_inside_an_other_fill_in_does_not_split_the_cell(tmp_path, digits, cell, tools):
    # the text between 〖〗 is what the respondent typed: a ┋ in it rejected the row as
    # holding an option the question does not have
    path = write(meta(2) | {TOOLS: [cell, "无"], STAFF: ["0", "1"]}, tmp_path / "t.csv")
    frame, _, bad = read(path, digits)
    assert bad == []
    assert frame["tools"].tolist() == [tools, "A"]


@pytest.mark.parametrize("variant", ["codes", "texts"])
def test_a_skip_mark_in_the_id_question_is_a_blank_id_not_an_id(
    capsys, tmp_path, digits, digits_file, variant
):
    # (跳过) and (空) became respondent ids, scored, and two such rows a "duplicate"
    skipped = "-2" if variant == "codes" else "(跳过)"
    staff = ["1", "2", "1", "2", "1"] if variant == "codes" else ["0", "1", "0", "1", "0"]
    ids = ["91330100MA20000001", skipped, "(空)", "（空）", "91330100MA20000005"]
    columns = meta(5) | {"5、统一社会信用代码": ids, STAFF: staff}
    path = write(columns, tmp_path / "ids.csv")
    frame, _, _ = read(path, digits, wjx_variant=variant)
    assert frame["respondent_id"].tolist() == [ids[0], None, None, None, ids[4]]
    rejects = tmp_path / "rejects.csv"
    out, table = scored_with_rejects(capsys, path, digits_file, rejects, "--wjx-variant", variant)
    assert "read 5 rows: 2 scored, 3 rejected" in out
    assert table["row"].tolist() == ["3", "4", "5"]
    assert set(table["reason"]) == {"respondent_id is blank"}
    # the column chosen with --id-column reads alike
    frame, _, _ = read(path, digits, wjx_variant=variant, id_column="5、统一社会信用代码")
    assert frame["respondent_id"].tolist() == [ids[0], None, None, None, ids[4]]


def test_a_skip_mark_beside_a_questions_answered_0_1_cells_is_a_bad_cell(tmp_path, digits):
    # -2 in 第3题(无) beside ticks was read as the question skipped: the ticks thrown away
    codes = meta(5) | {
        "第3题(无)": ["-2", "0", "-3", "-2", "-2"],
        "第3题(网络)": ["1", "-3", "-3", "-2", ""],
        "第3题(平台)": ["1", "0", "-3", "-3", "-2"],
        "第3题(数据)": ["0", "0", "-3", "-2", "-2"],
    }
    frame, notes, bad = read(write(codes, tmp_path / "c.csv"), digits)
    # rows 2 and 3: a skip mark beside 1s, beside 0s; rows 4 and 5 skipped (the blank of
    # row 6 is a cell lost beside the question's skip marks, as beside 0/1 cells)
    assert sorted((row, value) for row, _, value, _ in bad) == [(2, "-2"), (3, "-3"), (6, "")]
    assert {c for _, c, _, _ in bad} == {"tools"}
    assert bad[0][3] == (
        "第3题(无): -2 or -3 (skipped) beside 第3题's answered 0/1 cells; expected 1 (ticked) "
        "or 0 (not ticked)"
    )
    assert frame["tools"].tolist() == [None] * 5
    assert any("read as blank: 2 (tools 2)" in n for n in notes)


@pytest.mark.parametrize(
    "reason",
    [
        "第7题(无): -2 or -3 (skipped) beside 第7题's answered 0/1 cells; expected 1 (ticked) "
        "or 0 (not ticked)",
        "第7题(云): ticked, but not an option of 第7题 in miit-2024-manufacturing; expected 0 "
        "(not ticked), or -2 or -3 (skipped)",
        "foundation/network/F: ticked, but not an option of network in "
        "miit-2024-manufacturing; expected 0 (not chosen) or blank (not asked)",
    ],
)
def test_the_new_0_1_reasons_are_worded_in_chinese(reason):
    from dmi.service.bulkview import reason_text

    header = reason.split(": ", 1)[0]
    worded = reason_text(reason, "zh")
    assert worded.startswith(f"{header}："), worded
    rest = re.sub(r"miit-2024-manufacturing|network", "", worded[len(header) :])
    assert not re.search(r"[a-z]{4,}", rest), worded
    assert reason_text(reason, "en") == reason


# -- an option the instrument does not have --


def tools_with_cloud(number: int) -> dict[str, list[str]]:
    """第N题's 0/1 columns with an option 云 added in 问卷星 (ids 1-5): row 2 ticks 网络, row
    3 only the new 云, row 4 网络 and 云, row 5 none of them, row 6 skipped."""
    return {
        f"第{number}题(无)": ["0", "0", "0", "1", "-3"],
        f"第{number}题(网络)": ["1", "0", "1", "0", "-3"],
        f"第{number}题(云)": ["0", "1", "1", "0", "-3"],
        f"第{number}题(平台)": ["0", "0", "0", "0", "-3"],
        f"第{number}题(数据)": ["1", "0", "0", "0", "-3"],
    }


@pytest.mark.parametrize("renumbered", [False, True])
def test_an_option_added_in_wjx_keeps_the_question_and_rejects_the_rows_ticking_it(
    capsys, tmp_path, digits, digits_file, renumbered
):
    # the question was dropped for every company when the survey was renumbered, and a row
    # that ticked only the new option was scored as not answering it, with a file-level note
    number = 4 if renumbered else 3
    staff = "2、专职数字化人员数" if renumbered else STAFF
    columns = meta(5) | {staff: ["1"] * 5} | tools_with_cloud(number)
    path = write(columns, tmp_path / "c.csv")
    frame, notes, bad = read(path, digits)
    assert frame["tools"].tolist()[0] == "B;D" and frame["tools"].tolist()[3:] == ["A", None]
    assert sorted((row, column, value) for row, column, value, _ in bad) == [
        (3, "tools", "1"),
        (4, "tools", "1"),
    ]
    assert {reason for *_, reason in bad} == {
        f"第{number}题(云): ticked, but not an option of 第{number}题 in digits; expected 0 "
        "(not ticked), or -2 or -3 (skipped)"
    }
    assert (
        "问卷星 options the instrument's questions do not have (a row ticking one is rejected): "
        f"第{number}题(云)" in (notes)
    )
    assert not any("matching no question" in n for n in notes)
    rejects = tmp_path / "rejects.csv"
    code, out, err = run(
        capsys, "score", path, "--instrument", digits_file, "-o", tmp_path / "s.csv",
        "--rejects", rejects, "--strict",
    )  # fmt: skip
    assert code == 1 and "read 5 rows: 3 scored, 2 rejected" in out, err


def test_the_text_export_rejects_an_option_the_instrument_does_not_have_alike(tmp_path, digits):
    texts = meta(3) | {TOOLS: ["网络┋数据", "云", "网络┋云"]}
    frame, _, bad = read(write(texts, tmp_path / "t.csv"), digits)
    assert frame["tools"].tolist()[0] == "B;D"
    assert [(row, value) for row, _, value, _ in bad] == [(3, "云"), (4, "网络┋云")]


def test_a_question_is_the_multiple_choice_most_of_whose_options_it_has(tmp_path, digits):
    # a question added to the survey that shares one option (无) with the instrument's is not
    # taken for it: its ticks would reject rows
    columns = meta(2) | {
        "第3题(无)": ["0", "1"],
        "第3题(网络)": ["1", "0"],
        "第3题(平台)": ["0", "0"],
        "第3题(数据)": ["1", "0"],
        "第9题(无)": ["1", "0"],
        "第9题(自建机房)": ["0", "1"],
    }
    frame, notes, bad = read(write(columns, tmp_path / "c.csv"), digits)
    assert frame["tools"].tolist() == ["B;D", "A"] and bad == []
    assert any(n.endswith("(ignored): 第9题(无), 第9题(自建机房)") for n in notes)


def test_an_edited_option_of_a_dmi_survey_is_matched_by_its_place(tmp_path, digits):
    # as an edited question is matched by its number: the options matched by their text all
    # stand at their places, so the edited one is the option at its place
    columns = meta(3) | {
        STAFF: ["1", "2", "3"],
        "第3题(无)": ["0", "1", "0"],
        "第3题(网络连接)": ["1", "0", "1"],
        "第3题(平台)": ["0", "0", "1"],
        "第3题(数据)": ["1", "0", "0"],
    }
    frame, notes, bad = read(write(columns, tmp_path / "c.csv"), digits)
    assert frame["tools"].tolist() == ["B;D", "A", "B;C"] and bad == []
    assert "问卷星 questions matched by their number in the dmi survey: 第3题(网络连接)" in notes
    # in another survey (renumbered) the edited option is one the instrument does not have
    renumbered = {k.replace("第3题", "第5题").replace("1、", "2、"): v for k, v in columns.items()}
    frame, notes, bad = read(write(renumbered, tmp_path / "r.csv"), digits)
    assert [(row, value) for row, _, value, _ in bad] == [(2, "1"), (4, "1")]
    assert any(n.endswith("is rejected): 第5题(网络连接)") for n in notes)


def test_notes_and_rejects_quote_the_headers_as_the_file_writes_them(tmp_path, digits):
    # the notes and reasons named headers as NFKC gives them: （） became (), １ became 1
    staff = "１、专职数字化人员数"
    columns = meta(3) | {
        staff: ["1", "9", "2"],
        "第３题（无）": ["0", "1", "0"],
        "第３题（网络）": ["1", "0", "x"],
        "3、(其他（请补充）:)": ["自建", "", ""],
        "备注（内部）": ["", "", ""],
    }
    path = write(columns, tmp_path / "w.csv")
    frame, notes, bad = read(path, digits)
    assert frame["staff"].tolist() == ["A", None, "B"]
    assert {reason.split(": ")[0] for *_, reason in bad} == {staff, "第３题（网络）"}
    assert any(n.endswith("such answer): 3、(其他（请补充）:)") for n in notes)
    assert any(n.endswith("(ignored): 备注（内部）") for n in notes)
    # a cell contradicting a chosen variant names its column as written
    with pytest.raises(FileFormatError, match=f"row 3, column {staff}: '4'"):
        read(write(meta(2) | {staff: ["0", "4"]}, tmp_path / "c.csv"), digits, wjx_variant="texts")
    # the id column is chosen as written, or as the notes used to name it
    for name in ("备注（内部）", "备注(内部)"):
        frame, _, _ = read(path, digits, id_column=name)
        assert frame["respondent_id"].tolist() == [None, None, None]


# -- 问卷星's .xls downloads --


def test_an_xlsx_workbook_named_xls_is_read_as_the_workbook_it_is(tmp_path, digits):
    # 问卷星 offers its exports as Excel downloads named .xls: "unknown file type .xls"
    columns = meta(2) | {STAFF: ["4", "-3"], "第3题(网络)": ["1", "0"], "第3题(无)": ["0", "1"]}
    workbook = write(columns, tmp_path / "n.xlsx")
    named = tmp_path / "All_Data_Original.xls"
    named.write_bytes(workbook.read_bytes())
    frame, notes, bad = read(named, digits)
    assert frame["staff"].tolist() == ["D", None] and frame["tools"].tolist() == ["B", "A"]
    assert bad == []
    assert "the .xls file is an .xlsx workbook (Excel 2007 or later): read as one" in notes


@pytest.mark.parametrize(
    ("start", "what"),
    [
        (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504), "an Excel 97-2003 workbook"),
        ("<html><body><table><tr><td>序号</td></tr></table>".encode(), "not an Excel workbook"),
    ],
)
def test_an_xls_that_is_no_xlsx_workbook_is_refused_saying_what_to_do(
    capsys, tmp_path, digits, start, what
):
    path = tmp_path / "All_Data_Original.xls"
    path.write_bytes(start)
    with pytest.raises(FileFormatError) as caught:
        read(path, digits)
    assert caught.value.problem == "xls"
    message = str(caught.value)
    assert what in message and "save it as .xlsx" in message and "CSV" in message
    code, _, err = run(capsys, "score", path, "-o", tmp_path / "s.csv")
    assert code == 2 and err.count("\n") == 1 and what in err


def test_a_dmi_survey_question_with_half_its_options_edited_is_still_its_question(tmp_path, digits):
    columns = meta(2) | {
        STAFF: ["1", "2"],
        "第3题(无)": ["0", "1"],
        "第3题(网络连接)": ["1", "0"],
        "第3题(云平台)": ["1", "0"],
        "第3题(数据)": ["0", "0"],
    }
    frame, notes, bad = read(write(columns, tmp_path / "c.csv"), digits)
    assert frame["tools"].tolist() == ["B;C", "A"] and bad == []
    assert any(n.endswith("第3题(网络连接), 第3题(云平台)") for n in notes)

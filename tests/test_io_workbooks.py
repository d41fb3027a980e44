"""XLSX and Parquet input that loses nothing and never crashes (dmi.io, dmi.io.xlsx).

Workbooks are built here, in tmp_path: with openpyxl where it writes what a program writes
(formulas without values, hidden sheets), and part by part (:func:`package`) where the test
needs exact XML (what Excel writes, damaged or oversized parts).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

import dmi
import dmi.io
import dmi.io.readers
from dmi.bulk.run import score_file
from dmi.cli import main
from dmi.instruments.synth import synthesise
from dmi.io import FileFormatError, open_table, read_answers
from dmi.io.ids import DATE_ID, LOST_DIGITS, doubtful_ids
from dmi.io.xlsx import (
    DATE,
    ERROR_VALUE,
    FORMULA_NO_VALUE,
    GENERAL,
    PERCENT,
    ZEROS,
    excel_date,
    format_kind,
    percent_text,
    scaling_format,
)
from dmi.service import bulkview

MIIT = dmi.load_instrument("miit-2024-manufacturing")
MODEL = dmi.IndexModel(MIIT).fit()
PERCENT_ITEMS = ["equipment_digitised", "equipment_networked", "investment"]


def answers(n: int, seed: int = 5) -> pd.DataFrame:
    frame = synthesise("miit-2024-manufacturing", n, seed=seed, missing_rate=0.0)
    frame["respondent_id"] = [f"F-{i:03d}" for i in range(1, n + 1)]
    return frame


def run(path: Path, tmp_path: Path, **kwargs):
    """Score a file; the scores, the rejects and the summary, counts checked."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    out, rej = tmp_path / "scores.csv", tmp_path / "rejects.csv"
    summary, _ = score_file(path, out, MODEL, rejects_path=rej, **kwargs)
    scores = pd.read_csv(out, encoding="utf-8-sig", dtype={"respondent_id": str})
    rejects = pd.read_csv(rej, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert summary.reconciles and summary.scored == len(scores)
    assert summary.rejected == rejects["row"].nunique()
    return summary, scores, rejects


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_book(path: Path, frame: pd.DataFrame, formats: dict[str, str] | None = None) -> None:
    """One sheet with the frame's header and rows (openpyxl: a program's workbook)."""
    book = Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    for values in frame.itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in values])
    for column, number_format in (formats or {}).items():
        at = list(frame.columns).index(column) + 1
        for row in sheet.iter_rows(min_row=2, min_col=at, max_col=at):
            row[0].number_format = number_format
    book.save(path)


# -- workbooks part by part ------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"


def cell(ref: str, value, style: int | None = None, formula: str | None = None) -> str:
    """A cell's XML as Excel writes it: numbers, inline text, bools, errors, formulas."""
    s = f' s="{style}"' if style is not None else ""
    f = f"<f>{escape(formula)}</f>" if formula is not None else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b">{f}<v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{s}>{f}<v>{value!r}</v></c>'
    if value is None:
        return f'<c r="{ref}"{s}>{f}</c>'
    if isinstance(value, tuple):  # (type, raw <v> text): errors, formula text results ...
        kind, raw = value
        v = "" if raw is None else f"<v>{escape(raw)}</v>"
        return f'<c r="{ref}"{s} t="{kind}">{f}{v}</c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def letters(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def sheet_xml(rows: list[list], first_row: int = 1, styles: dict | None = None) -> str:
    """A worksheet of rows of cell values (a ``(value, style)`` pair sets a cell's style)."""
    body = []
    for n, values in enumerate(rows, start=first_row):
        cells = []
        for j, value in enumerate(values):
            style = None
            if isinstance(value, list):  # [value, style, formula]
                value, style, formula = (value + [None, None])[:3]
                cells.append(cell(f"{letters(j)}{n}", value, style, formula))
                continue
            cells.append(cell(f"{letters(j)}{n}", value, style))
        body.append(f'<row r="{n}">{"".join(cells)}</row>')
    return f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(body)}</sheetData></worksheet>'


def styles_xml(formats: list[tuple[int, str | None]]) -> str:
    """Cell styles 0..n: style i has number format id ``formats[i][0]`` (custom code if given)."""
    custom = "".join(
        f'<numFmt numFmtId="{i}" formatCode="{escape(code, {chr(34): "&quot;"})}"/>'
        for i, code in formats
        if code is not None
    )
    xfs = "".join(f'<xf numFmtId="{i}"/>' for i, _ in formats)
    return (
        f'<styleSheet xmlns="{MAIN}"><numFmts>{custom}</numFmts>'
        f"<cellXfs>{xfs}</cellXfs></styleSheet>"
    )


def package(
    path: Path,
    sheets: list[tuple[str, str, str]],
    *,
    active: int | None = 0,
    styles: str | None = None,
    shared: str | None = None,
    workbook_extra: str = "",
    sizes: dict[str, int] | None = None,
) -> Path:
    """Write an XLSX zip from its parts: ``sheets`` is ``(name, state, sheet XML)``.

    ``sizes`` patches the uncompressed size the zip directory declares for a part (a cheap
    stand-in for a huge part: dmi must refuse from the directory, before it reads a byte).
    """
    rels = [
        f'<Relationship Id="rId{i + 1}" Type="{RELS}/worksheet" '
        f'Target="worksheets/sheet{i + 1}.xml"/>'
        for i in range(len(sheets))
    ]
    if styles is not None:
        rels.append(f'<Relationship Id="rIdS" Type="{RELS}/styles" Target="styles.xml"/>')
    if shared is not None:
        rels.append(
            f'<Relationship Id="rIdT" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    view = (
        f'<bookViews><workbookView activeTab="{active}"/></bookViews>' if active is not None else ""
    )
    listed = "".join(
        f'<sheet name="{escape(name)}" sheetId="{i + 1}" state="{state}" r:id="rId{i + 1}"/>'
        for i, (name, state, _) in enumerate(sheets)
    )
    kinds = {f"/xl/worksheets/sheet{i + 1}.xml": "worksheet" for i in range(len(sheets))}
    kinds["/xl/workbook.xml"] = "sheet.main"
    if styles is not None:
        kinds["/xl/styles.xml"] = "styles"
    if shared is not None:
        kinds["/xl/sharedStrings.xml"] = "sharedStrings"
    types = "".join(
        f'<Override PartName="{name}" ContentType="application/vnd.openxmlformats-'
        f'officedocument.spreadsheetml.{kind}+xml"/>'
        for name, kind in kinds.items()
    )
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        f'ContentType="application/xml"/>{types}</Types>',
        "_rels/.rels": f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}">{view}'
        f"<sheets>{listed}</sheets>{workbook_extra}</workbook>",
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE_RELS}">'
        f"{''.join(rels)}</Relationships>",
    }
    for i, (_, _, xml) in enumerate(sheets):
        parts[f"xl/worksheets/sheet{i + 1}.xml"] = xml
    if styles is not None:
        parts["xl/styles.xml"] = styles
    if shared is not None:
        parts["xl/sharedStrings.xml"] = shared
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            if isinstance(text, (str, bytes)):
                archive.writestr(name, text.encode("utf-8") if isinstance(text, str) else text)
                continue
            with archive.open(name, "w", force_zip64=True) as stream:  # written piece by piece
                for piece in text:
                    stream.write(piece)
    for name, size in (sizes or {}).items():
        declare_size(path, name, size)
    return path


def declare_size(path: Path, member: str, size: int) -> None:
    """Make the zip directory (central and local headers) declare ``size`` bytes for a part."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    # central directory entry: signature, then the uncompressed size at offset 24
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_length]) == name:
            struct.pack_into("<I", data, at + 24, size)
            local = struct.unpack_from("<I", data, at + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def simple_book(path: Path, rows: list[list], **kwargs) -> Path:
    return package(path, [("Sheet1", "visible", sheet_xml(rows))], **kwargs)


# -- 1. which sheet ---------------------------------------------------------------------------


def two_year_book(path: Path) -> Path:
    """Last year's answers on a hidden first sheet, this year's on the visible active one."""
    old, new = answers(3, seed=1), answers(4, seed=2)
    old["respondent_id"] = ["OLD-1", "OLD-2", "OLD-3"]
    book = Workbook()
    first = book.active
    first.title = "2024"
    for sheet, frame in ((first, old), (book.create_sheet("2025"), new)):
        sheet.append(list(frame.columns))
        for values in frame.itertuples(index=False):
            sheet.append(list(values))
    first.sheet_state = "hidden"
    book.active = 1
    book.save(path)
    return path


def test_the_active_sheet_is_read_not_a_hidden_one_before_it(tmp_path, capsys):
    path = two_year_book(tmp_path / "two-years.xlsx")
    reader = open_table(path)
    assert reader.sheet == "2025"
    frame = reader.read_all()
    assert frame["respondent_id"].tolist() == ["F-001", "F-002", "F-003", "F-004"]
    summary, scores, _ = run(path, tmp_path)
    assert summary.sheet == "2025" and summary.read == 4
    assert json.loads(summary.to_json())["sheet"] == "2025"
    assert scores["respondent_id"].tolist() == ["F-001", "F-002", "F-003", "F-004"]
    code, out, _ = cli(capsys, "score", path, "-o", tmp_path / "s.csv", "-q")
    assert code == 0 and "read 4 rows from sheet '2025': 4 scored" in out
    # --sheet still chooses, hidden or not
    summary, scores, _ = run(path, tmp_path / "old", sheet="2024")
    assert summary.sheet == "2024" and scores["respondent_id"].tolist() == [
        "OLD-1",
        "OLD-2",
        "OLD-3",
    ]
    code, out, _ = cli(capsys, "score", path, "-o", tmp_path / "s.csv", "--sheet", "2024", "-q")
    assert code == 0 and "read 3 rows from sheet '2024': 3 scored" in out


def test_a_hidden_active_sheet_is_refused_naming_the_sheets(tmp_path, capsys):
    path = package(
        tmp_path / "doubt.xlsx",
        [
            ("2024", "hidden", sheet_xml([["respondent_id", "network"], ["a", "B"]])),
            ("2025", "visible", sheet_xml([["respondent_id", "network"], ["b", "B"]])),
        ],
        active=0,
    )
    with pytest.raises(FileFormatError) as caught:
        open_table(path)
    message = str(caught.value)
    assert "active sheet '2024' is hidden" in message
    assert "'2024' (hidden), '2025'" in message and "--sheet" in message
    code, _, err = cli(capsys, "score", path, "-o", tmp_path / "s.csv")
    assert code == 2 and err.startswith("dmi: error: ") and err.count("\n") == 1
    assert open_table(path, sheet="2025").read_all()["respondent_id"].tolist() == ["b"]


def test_without_a_window_the_first_sheet_is_active_and_unknown_names_list_the_sheets(
    tmp_path,
):
    path = package(
        tmp_path / "plain.xlsx",
        [
            ("A", "visible", sheet_xml([["respondent_id"], ["x"]])),
            ("B", "visible", sheet_xml([["respondent_id"], ["y"]])),
        ],
        active=None,
    )
    assert open_table(path).sheet == "A"
    with pytest.raises(FileFormatError, match="no sheet named 'C'; the sheets are 'A', 'B'"):
        open_table(path, sheet="C")


def test_csv_and_parquet_summaries_name_no_sheet(tmp_path):
    path = tmp_path / "a.csv"
    answers(2).to_csv(path, index=False)
    summary, _, _ = run(path, tmp_path)
    assert summary.sheet is None and "from sheet" not in summary.line()


# -- 2. number formats --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("General", (GENERAL, 0)),
        ("0%", (PERCENT, 0)),
        ("0.0%", (PERCENT, 0)),
        ("0.00%;[Red]-0.00%", (PERCENT, 0)),
        ('0"%"', (GENERAL, 0)),  # a literal percent sign: the number is not divided
        ("0\\%", (GENERAL, 0)),
        ("#,##0.00", (GENERAL, 0)),
        ("0.00E+00", (GENERAL, 0)),
        ("@", (GENERAL, 0)),
        ("[Red]0.00", (GENERAL, 0)),
        ("000000", (ZEROS, 6)),
        ("yyyy-mm-dd", (DATE, 0)),
        ('yyyy"年"m"月"d"日"', (DATE, 0)),
        ("[$-804]yyyy年m月", (DATE, 0)),
        ("h:mm AM/PM", (DATE, 0)),
        ("[h]:mm:ss", (DATE, 0)),
        ('"Q"0', (GENERAL, 0)),
    ],
)
def test_number_format_kinds(code, kind):
    assert format_kind(code) == kind


@pytest.mark.parametrize(
    ("stored", "text"),
    [
        ("0.45", "45%"),
        ("0.455", "45.5%"),
        ("1", "100%"),
        ("0.07", "7%"),
        ("0.1", "10%"),  # not 10.000000000000002%: a band edge stays on its side
        ("0.001", "0.1%"),
        ("-0.5", "-50%"),
        ("0.45000000000000001", "45%"),
    ],
)
def test_percent_text_is_what_was_typed(stored, text):
    assert percent_text(stored) == text


@pytest.mark.parametrize(
    ("serial", "system", "value"),
    [
        (45296, False, dt.date(2024, 1, 5)),
        (1, False, dt.date(1900, 1, 1)),
        (59, False, dt.date(1900, 2, 28)),
        (61, False, dt.date(1900, 3, 1)),
        (45296.5, False, dt.datetime(2024, 1, 5, 12)),
        (0.75, False, dt.time(18)),
        (0, True, dt.time(0)),
        (1, True, dt.date(1904, 1, 2)),
        (-1, False, None),
    ],
)
def test_excel_dates(serial, system, value):
    assert excel_date(serial, system) == value


def percent_twins(tmp_path: Path) -> tuple[Path, Path]:
    """20 companies twice: a CSV with "45%" texts and an XLSX with 0.45 in percent cells."""
    frame = answers(20, seed=9)
    # the band edges (10, 20, 40, 60) and values between them, on every percent item
    shares = [0.1, 0.2, 0.4, 0.6, 0.45, 0.455, 0.07, 1.0, 0.0, 0.333]
    xlsx_frame = frame.copy()
    csv_frame = frame.copy().astype(object)
    for k, code in enumerate(PERCENT_ITEMS):
        values = [shares[(i + k) % len(shares)] for i in range(len(frame))]
        xlsx_frame[code] = values
        csv_frame[code] = [percent_text(repr(v)) for v in values]
    xlsx = tmp_path / "twin.xlsx"
    formats = {code: "0%" if k != 1 else "0.0%" for k, code in enumerate(PERCENT_ITEMS)}
    write_book(xlsx, xlsx_frame, formats)
    csv = tmp_path / "twin.csv"
    csv_frame.to_csv(csv, index=False)
    return csv, xlsx


def test_percent_cells_score_as_their_csv_twin(tmp_path):
    csv, xlsx = percent_twins(tmp_path)
    assert open_table(csv).read_all()["equipment_digitised"].iloc[4] == "45%"
    assert open_table(xlsx).read_all()["equipment_digitised"].iloc[4] == "45%"
    _, from_csv, _ = run(csv, tmp_path / "csv")
    _, from_xlsx, _ = run(xlsx, tmp_path / "xlsx")
    assert len(from_csv) == 20
    pd.testing.assert_frame_equal(from_csv, from_xlsx)
    # and by hand: 45% on equipment_digitised is band D (over 40 up to 60): 4.5 of 6 points
    batch = MODEL.score_batch(open_table(xlsx).read_all())
    encoded = dmi.scoring.answers.encode_answers(MIIT, open_table(xlsx).read_all())
    j = encoded.item_codes.index("equipment_digitised")
    assert encoded.scores[4, j] == pytest.approx(4.5 / 6)
    assert encoded.scores[0, j] == 0.0  # 10% or less: band A
    assert batch.rejects.empty


def test_leading_zero_formats_and_text_ids_keep_their_digits(tmp_path):
    path = package(
        tmp_path / "zeros.xlsx",
        [
            (
                "S",
                "visible",
                sheet_xml(
                    [
                        ["respondent_id", "region"],
                        [[123, 1], [33, 1]],
                        ["007", [7, 2]],
                    ]
                ),
            )
        ],
        styles=styles_xml([(0, None), (164, "000000"), (49, None)]),
    )
    frame = open_table(path).read_all()
    # what Excel shows: 000123 and 000033 (a zero-padded format); a text id stays as typed; a
    # number in a text-formatted cell (@) is the number it holds
    assert frame["respondent_id"].tolist() == ["000123", "007"]
    assert frame["region"].tolist() == ["000033", 7.0]


def test_dates_in_the_id_column_are_rejected(tmp_path):
    frame = answers(3)
    frame["respondent_id"] = frame["respondent_id"].astype(object)
    frame.loc[1, "respondent_id"] = dt.date(2024, 1, 5)  # "1-5" typed, taken for a date
    write_book(tmp_path / "d.xlsx", frame)
    summary, scores, rejects = run(tmp_path / "d.xlsx", tmp_path)
    assert scores["respondent_id"].tolist() == ["F-001", "F-003"]
    assert rejects[["row", "column", "value", "reason"]].values.tolist() == [
        ["3", "respondent_id", "2024-01-05", DATE_ID]
    ]


# numbers a format shows scaled: (code, stored number, what Excel shows; None where the number
# shown is the number stored)
SCALED_SHOWN = [
    ('0!.0,"万"', 12000000, "1200.0万"),  # a point inserted as text, and a thousands comma
    ('0\\.0,"万"', 12000000, "1200.0万"),
    ('0"."0000', 12345678, "1234.5678"),  # the inserted point alone: 万 to four places
    ('#,##0.00,,"百万"', 12000000, "12.00百万"),
    ("#,##0,", 12000000, "12,000"),
    ("#,##0,", 400, "0"),
    ("#,", 400, ""),  # nothing shown at all
    ('0.0,,"M"', 12345678, "12.3M"),
    ("0,.00", 12345, "12.35"),  # a comma after the last integer digit scales too
    ("[Red]#,##0,", 12000000, "12,000"),
    ('[$-804]#,##0,"千"', 12000000, "12,000千"),
    ("[$¥-804]#,##0,", 12000000, "¥12,000"),
    ("#,##0,", -12000000, "-12,000"),
    ("#,##0,;(#,##0,)", -12000000, "(12,000)"),
    ("#,##0;[Red]-#,##0,", -12000000, "-12,000"),  # the negative numbers' section scales
    ("#,##0;[Red]-#,##0,", 12000000, None),  # ... the positive numbers' does not
    ('[>=10000]0!.0,"万";0', 12000000, "1200.0万"),  # a section chosen by a condition
    ('[>=10000]0!.0,"万";0', 9000, None),
    ('0!.0,"万"', 0, None),  # zero is zero at any scale
    ("#,##0", 12000000, None),  # thousands separators only
    ("#,##0.00", 12000000, None),
    ('0",万"', 12000000, None),  # a comma in quotes is text
    ("0\\,", 12000000, None),  # and an escaped one
    ('#,##0"万元"', 1200, None),  # a unit after the number: the number is typed in it
    ('0.00"万"', 1200, None),
    ("#,##0.00_);(#,##0.00)", 12000000, None),  # _) pads, it is no comma
    ('_-* #,##0_-;-* #,##0_-;_-* "-"_-;_-@_-', 12000000, None),
    ("000\\-0000", 1234567, None),  # digits split by a dash are not scaled
    ("0.00E+00", 12000000, None),
    ("General", 12000000, None),
    ("yyyy-mm-dd", 45296, None),
    ("0%", 0.45, None),
]


@pytest.mark.parametrize(("code", "number", "text"), SCALED_SHOWN)
def test_number_formats_that_show_a_number_scaled(code, number, text):
    found = scaling_format(code)
    assert (found.shows(number) if found is not None else None) == text


def scaled_reason(code: str, stored: str, text: str) -> str:
    return (
        f"number format '{code}' shows {stored} scaled (\"{text}\"); write the number in the "
        "column's unit"
    )


def scaled_book(path: Path) -> Path:
    """Revenues of 12000000 yuan formatted to show 万 or 百万, as a finance sheet has them."""
    formats = [(0, None), (164, '0!.0,"万"'), (165, '#,##0.00,,"百万"'), (166, "#,##0,"), (3, None)]
    formats.append((167, "#,"))
    rows = [
        ["respondent_id", "revenue_y1", "debt_ratio", "备注"],
        ["F1", [12000000, 1], 50, [5, 1]],  # scaled in a column no run reads, too
        ["F2", [12000000, 2], 50],
        ["F3", [12000000, 3], [40, 3]],
        ["F4", [12000000, 4], 50],  # a thousands separator only: the number as stored
        ["F5", [0, 1], 50],  # zero is zero at any scale
        ["F6", [400, 5], 50],  # shown as nothing at all
    ]
    return package(path, [("S", "visible", sheet_xml(rows))], styles=styles_xml(formats))


def test_a_number_shown_scaled_is_a_problem_of_its_cell_not_its_stored_value(tmp_path, capsys):
    # Excel shows 1200.0万; the file holds 12000000, which dmi eligibility took as 12000000万元
    # (10,000 times the revenue) without a word
    path = scaled_book(tmp_path / "scaled.xlsx")
    chunk = next(open_table(path).chunks())
    assert chunk.frame["revenue_y1"].tolist() == [None, None, None, 12000000.0, 0.0, None]
    assert chunk.frame["备注"].tolist() == [None] * 6
    out, rej, summ = tmp_path / "o.csv", tmp_path / "r.csv", tmp_path / "s.json"
    code, stdout, _ = cli(
        capsys, "eligibility", path, "-o", out, "--rejects", rej, "--summary", summ
    )
    assert code == 0
    rejects = pd.read_csv(rej, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rejects.values.tolist() == [
        ["2", "F1", "revenue_y1", "12000000", scaled_reason('0!.0,"万"', "12000000", "1200.0万")],
        [
            "3",
            "F2",
            "revenue_y1",
            "12000000",
            scaled_reason('#,##0.00,,"百万"', "12000000", "12.00百万"),
        ],
        ["4", "F3", "revenue_y1", "12000000", scaled_reason("#,##0,", "12000000", "12,000")],
        ["4", "F3", "debt_ratio", "40", scaled_reason("#,##0,", "40", "0")],
        ["7", "F6", "revenue_y1", "400", scaled_reason("#,", "400", "")],
    ]
    summary = json.loads(summ.read_text(encoding="utf-8"))
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (6, 2, 4)
    # one reason a format in the summary, whatever the numbers
    unit = "shows numbers scaled; write the number in the column's unit"
    assert summary["rejected_rows_by_reason"] == {
        f"number format '0!.0,\"万\"' {unit}": 1,
        f"number format '#,##0.00,,\"百万\"' {unit}": 1,
        f"number format '#,##0,' {unit}": 1,
        f"number format '#,' {unit}": 1,
    }
    assert "read 6 rows from sheet 'S': 2 evaluated, 4 rejected" in stdout
    assert pd.read_csv(out, dtype=str)["respondent_id"].tolist() == ["F4", "F5"]


def test_a_scaled_number_in_a_column_dmi_score_reads_rejects_its_row(tmp_path):
    frame = answers(3).astype(object)
    frame["employees"] = [1200, 1200, 1200]
    frame["total"] = [5000, 5000, 5000]  # a helper column dmi ignores may show anything
    path = tmp_path / "scaled.xlsx"
    write_book(path, frame, {"total": "#,##0,"})
    book = load_workbook(path)
    book.active.cell(
        row=3, column=list(frame.columns).index("employees") + 1
    ).number_format = "0.0,"
    book.save(path)
    summary, scores, rejects = run(path, tmp_path)
    assert scores["respondent_id"].tolist() == ["F-001", "F-003"]
    assert rejects[["row", "column", "value", "reason"]].values.tolist() == [
        ["3", "employees", "1200", scaled_reason("0.0,", "1200", "1.2")]
    ]
    with pytest.raises(FileFormatError) as caught:
        read_answers(path, MIIT)
    assert str(caught.value) == (
        f"{path}: row 3, column 'employees' cannot be read (1200): "
        + scaled_reason("0.0,", "1200", "1.2")
    )


# -- 3. formulas ------------------------------------------------------------------------------


def test_formulas_without_values_are_rejected_per_row_in_used_columns_only(tmp_path):
    frame = answers(5)
    frame["total"] = None
    frame = frame.astype(object)
    frame.loc[1, "equipment_digitised"] = "=10*4"  # openpyxl writes a formula, no value
    frame.loc[3, "network"] = '=CONCAT("B",";","C")'
    frame.loc[3, "sector"] = "=A1"
    frame["total"] = [f"=SUM(I{i}:J{i})" for i in range(2, 7)]  # not a column dmi uses
    write_book(tmp_path / "f.xlsx", frame)
    summary, scores, rejects = run(tmp_path / "f.xlsx", tmp_path)
    assert summary.read == 5 and summary.scored == 3
    assert scores["respondent_id"].tolist() == ["F-001", "F-003", "F-005"]
    # (the rejects file escapes a formula's text, as it does any text that starts with "=")
    assert rejects.values.tolist() == [
        ["3", "F-002", "equipment_digitised", "'=10*4", FORMULA_NO_VALUE],
        ["5", "F-004", "sector", "'=A1", FORMULA_NO_VALUE],  # in the file's column order
        ["5", "F-004", "network", '\'=CONCAT("B",";","C")', FORMULA_NO_VALUE],
    ]
    assert summary.rejected_rows_by_reason == {FORMULA_NO_VALUE: 2}
    with pytest.raises(FileFormatError, match="row 3, column 'equipment_digitised'"):
        read_answers(tmp_path / "f.xlsx", MIIT)


@pytest.fixture(scope="module")
def every_answer_required() -> dmi.IndexModel:
    """The MIIT instrument with every answer required (a missing one rejects its row)."""
    from dmi.instruments import parse_instrument
    from dmi.instruments.loading import shipped_path

    text = shipped_path("miit-2024-manufacturing.yaml").read_text("utf-8")
    assert "  missing: lowest" in text
    instrument = parse_instrument(text.replace("  missing: lowest", "  missing: required"))
    return dmi.IndexModel(instrument).fit()


def rejects_of(path: Path, tmp_path: Path, model: dmi.IndexModel) -> pd.DataFrame:
    out, rej = tmp_path / "scores.csv", tmp_path / "rejects.csv"
    summary, _ = score_file(path, out, model, rejects_path=rej)
    assert summary.reconciles
    return pd.read_csv(rej, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_an_unread_raw_number_leaves_no_missing_answer_of_the_item_derived_from_it(
    tmp_path, every_answer_required
):
    # equipment_digitised is derived from its count over equipment_total: a total whose
    # formula has no value is that cell's problem only, not also the derived answer missing;
    # a bad answer of its own in the row is listed with it
    frame = answers(4).astype(object)
    frame["equipment_digitised_count"] = pd.Series([5] * 4, dtype=object)
    frame["equipment_total"] = pd.Series([10] * 4, dtype=object)
    frame["equipment_digitised"] = None  # derived: 5 of 10
    frame.loc[1, "equipment_total"] = "=SUM(X1:X9)"
    frame.loc[2, "equipment_digitised_count"] = "=2+2"
    frame.loc[2, "equipment_digitised"] = "lots"
    # the total unread and the count blank too: the answer is missing whatever the total held
    frame.loc[3, "equipment_total"] = "=SUM(X1:X9)"
    frame.loc[3, "equipment_digitised_count"] = None
    write_book(tmp_path / "raw.xlsx", frame)
    rejects = rejects_of(tmp_path / "raw.xlsx", tmp_path, every_answer_required)
    assert rejects[["row", "column", "value"]].values.tolist() == [
        ["3", "equipment_total", "'=SUM(X1:X9)"],
        ["4", "equipment_digitised_count", "'=2+2"],
        ["4", "equipment_digitised", "lots"],
        ["5", "equipment_total", "'=SUM(X1:X9)"],
        ["5", "equipment_digitised", ""],
    ]
    assert rejects["reason"].tolist()[-1] == "required answer missing"


def test_a_totals_row_of_formulas_is_its_formulas_problems_and_no_firm_s(
    tmp_path, every_answer_required
):
    # a program-written sheet's SUM row (no values): its formulas are said, and it is not
    # checked as a firm (every answer required would be missing from it)
    frame = answers(3).astype(object)
    total = {c: None for c in frame.columns} | {
        "respondent_id": "合计",
        "equipment_digitised": "=SUM(I2:I4)",
        "employees": "=SUM(E2:E4)",
    }
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    write_book(tmp_path / "totals.xlsx", frame)
    rejects = rejects_of(tmp_path / "totals.xlsx", tmp_path, every_answer_required)
    assert sorted(rejects["column"]) == ["employees", "equipment_digitised"]
    assert set(rejects["row"]) == {"5"} and set(rejects["reason"]) == {FORMULA_NO_VALUE}


@pytest.mark.parametrize("first", ["totals", "firm"])
def test_a_totals_row_of_formulas_beside_an_unread_firm_row_blanks_only_that_row_s_cell(
    tmp_path, first
):
    # a 小计 row of formulas and a firm row with a formula and a bad answer, in either order in
    # one chunk: the firm's bad answer is listed (the totals row's cell had been blanked in the
    # firm's row, or past the rows checked: a crash)
    frame = answers(2).astype(object)
    frame.loc[1, "network"] = "=1+1"
    frame.loc[1, "equipment_digitised"] = "lots"
    total = {c: None for c in frame.columns} | {
        "respondent_id": "小计",
        "equipment_digitised": "=SUM(I2:I3)",
    }
    rows = [pd.DataFrame([total]), frame] if first == "totals" else [frame, pd.DataFrame([total])]
    write_book(tmp_path / "sub.xlsx", pd.concat(rows, ignore_index=True))
    rejects = rejects_of(tmp_path / "sub.xlsx", tmp_path, MODEL)
    firm = "4" if first == "totals" else "3"
    total_row = "2" if first == "totals" else "4"
    got = sorted(map(tuple, rejects[["row", "column", "value"]].values.tolist()))
    assert got == sorted(
        [
            (firm, "network", "'=1+1"),
            (firm, "equipment_digitised", "lots"),
            (total_row, "equipment_digitised", "'=SUM(I2:I3)"),
        ]
    )


def test_an_unread_row_s_id_with_a_control_character_is_its_problem_and_no_repeat(tmp_path):
    # rows 3 and 4 share an id with a tab, row 4 has a formula without a value: each lists its
    # id's control character (shown escaped), and neither is a repeat of the other (an id
    # that is no id is not compared)
    frame = answers(4).astype(object)
    frame.loc[1, "respondent_id"] = "A\tB"
    frame.loc[2, "respondent_id"] = "A\tB"
    frame.loc[2, "network"] = "=1+1"
    frame.loc[2, "it_coverage"] = "ZZ"  # its other problem names its id escaped too
    frame.loc[1, "it_coverage"] = "YY"  # and a row with no unread cell lists its other too
    write_book(tmp_path / "control.xlsx", frame)
    rejects = rejects_of(tmp_path / "control.xlsx", tmp_path, MODEL)
    assert rejects[["row", "respondent_id", "column", "value"]].values.tolist() == [
        ["3", "A\\x09B", "respondent_id", "A\\x09B"],
        ["3", "A\\x09B", "it_coverage", "YY"],
        ["4", "A\\x09B", "network", "'=1+1"],
        ["4", "A\\x09B", "respondent_id", "A\\x09B"],
        ["4", "A\\x09B", "it_coverage", "ZZ"],
    ]
    assert not rejects["reason"].str.contains("duplicate").any()


@pytest.mark.parametrize("policy", ["reject", "keep-first", "keep-last"])
def test_an_id_with_a_control_character_is_no_occurrence_of_the_id_it_looks_like(tmp_path, policy):
    # "F-001" and "F-001" with a line break after it: the second is no id (rejected for the
    # control character), so the first is not a repeat of it, under any policy (it had been
    # rejected as one, with or without another problem of the second row)
    frame = answers(3).astype(object)
    frame.loc[2, "respondent_id"] = "F-001\n"
    write_book(tmp_path / "break.xlsx", frame)
    rejects = rejects_of(tmp_path / "break.xlsx", tmp_path, MODEL)
    summary, _ = score_file(tmp_path / "break.xlsx", tmp_path / "s.csv", MODEL, duplicates=policy)
    assert rejects[["row", "column"]].values.tolist() == [["4", "respondent_id"]]
    assert "control character" in rejects["reason"][0]
    assert (summary.scored, summary.rejected) == (2, 1)


def formula_book(path: Path, cells: list, workbook_extra: str = "") -> Path:
    """One data row: respondent_id, then ``cells`` for network and equipment_digitised."""
    rows = [["respondent_id", "network", "equipment_digitised"], ["r1", *cells]]
    return package(path, [("S", "visible", sheet_xml(rows))], workbook_extra=workbook_extra)


def test_formula_values_computed_by_a_spreadsheet_are_read(tmp_path):
    # Excel's XML: the formula and its cached value; an empty text result is a blank answer
    path = formula_book(
        tmp_path / "ok.xlsx", [[("str", "B;C"), None, 'IF(1,"B;C")'], [45, None, "40+5"]]
    )
    frame = open_table(path).read_all()
    assert frame.iloc[0].tolist() == ["r1", "B;C", 45.0]
    blank = formula_book(tmp_path / "blank.xlsx", [[("str", ""), None, '""'], 3])
    chunk = next(open_table(blank).chunks())
    assert chunk.frame.iloc[0].tolist() == ["r1", None, 3.0] and not chunk.unreadable


def test_cached_values_of_a_workbook_that_asks_to_be_recalculated_are_not_trusted(tmp_path):
    # XlsxWriter-style: every formula "cached" as 0, and the workbook asks Excel to compute
    # them all on opening (fullCalcOnLoad): 0 is not the answer
    path = formula_book(
        tmp_path / "calc.xlsx",
        ["B", [0, None, "40+5"]],
        workbook_extra='<calcPr fullCalcOnLoad="1"/>',
    )
    chunk = next(open_table(path).chunks())
    assert chunk.frame.iloc[0].tolist() == ["r1", "B", None]
    [cells] = chunk.unreadable
    assert (cells.column, cells.rows.tolist(), cells.shown(), cells.reason) == (
        "equipment_digitised",
        [2],
        ["=40+5"],
        FORMULA_NO_VALUE,
    )


def test_error_values_are_rejected_not_read_as_text(tmp_path):
    rows = [
        ["respondent_id", "network"],
        [[("e", "#REF!"), None, "A1"], "B"],
        ["ok", "B"],
        ["bad", [("e", "#N/A"), None, "VLOOKUP(1,A:A,2)"]],
    ]
    path = package(tmp_path / "e.xlsx", [("S", "visible", sheet_xml(rows))])
    summary, scores, rejects = run(path, tmp_path)
    assert scores["respondent_id"].tolist() == ["ok"]
    assert rejects[["row", "column", "value", "reason"]].values.tolist() == [
        ["2", "respondent_id", "#REF!", ERROR_VALUE],
        ["4", "network", "#N/A", ERROR_VALUE],
    ]


# -- 4. ids -----------------------------------------------------------------------------------


def test_long_numeric_ids_are_rejected_and_whole_float_ids_read_as_integers(tmp_path):
    frame = answers(4).astype(object)
    frame.loc[0, "respondent_id"] = 1001.0
    frame.loc[1, "respondent_id"] = 1002
    frame.loc[2, "respondent_id"] = 913501001234567890  # 18 digits, typed as a number
    frame.loc[3, "respondent_id"] = 1234567890123456.0  # 16 digits
    write_book(tmp_path / "ids.xlsx", frame)
    summary, scores, rejects = run(tmp_path / "ids.xlsx", tmp_path)
    assert scores["respondent_id"].tolist() == ["1001", "1002"]
    assert rejects[["row", "column", "value", "reason"]].values.tolist() == [
        ["4", "respondent_id", "9.13501001234568E+17", LOST_DIGITS],
        ["5", "respondent_id", "1.23456789012346E+15", LOST_DIGITS],
    ]


def test_doubtful_ids_rule():
    values = pd.Series(
        [1001.0, 9.13501001234567e17, "913501001234567890", dt.date(2024, 1, 5), 10**17, None],
        dtype=object,
    )
    at, shown, reasons = doubtful_ids(values)
    assert at.tolist() == [1, 3]
    assert shown == ["9.13501001234567E+17", "2024-01-05"]
    assert reasons == [LOST_DIGITS, DATE_ID]
    floats = pd.Series([999999999999999.0, 1e15, np.nan])
    assert doubtful_ids(floats)[0].tolist() == [1]
    assert doubtful_ids(pd.Series([10**17], dtype="int64"))[0].tolist() == []  # exact


# -- 5. damaged files -------------------------------------------------------------------------


def test_a_sheet_cut_short_is_one_plain_error(tmp_path, capsys):
    frame = answers(30)
    whole = tmp_path / "whole.xlsx"
    write_book(whole, frame)
    with zipfile.ZipFile(whole) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet[: len(sheet) * 2 // 3]
    cut = tmp_path / "cut.xlsx"
    with zipfile.ZipFile(cut, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    reader = open_table(cut)
    with pytest.raises(FileFormatError, match=r"cut.xlsx: sheet 'Sheet' is not well-formed XML"):
        list(reader.chunks())
    code, _, err = cli(capsys, "score", cut, "-o", tmp_path / "s.csv")
    assert code == 2 and err.startswith("dmi: error: ") and err.count("\n") == 1


def test_a_damaged_zip_member_is_one_plain_error(tmp_path, capsys):
    frame = answers(200)
    whole = tmp_path / "whole.xlsx"
    write_book(whole, frame)
    data = bytearray(whole.read_bytes())
    with zipfile.ZipFile(whole) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + info.compress_size // 2, start + info.compress_size // 2 + 64):
        data[i] ^= 0x5A  # garble compressed bytes in the middle of the sheet
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"bad.xlsx: sheet 'Sheet'"):
        list(open_table(bad).chunks())
    code, _, err = cli(capsys, "score", bad, "-o", tmp_path / "s.csv")
    assert code == 2 and err.startswith("dmi: error: ") and err.count("\n") == 1
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(FileFormatError, match="truncated.xlsx: not a readable XLSX workbook"):
        open_table(truncated)


def test_a_password_protected_zip_member_is_one_plain_error(tmp_path):
    path = simple_book(tmp_path / "locked.xlsx", [["respondent_id"], ["a"]])
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at != -1:  # mark the sheet's entry encrypted (general purpose flag bit 0)
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == b"xl/worksheets/sheet1.xml":
            data[at + 8] |= 1
            data[struct.unpack_from("<I", data, at + 42)[0] + 6] |= 1
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="locked.xlsx: sheet 'Sheet1' cannot be read"):
        open_table(path)


def parquet_with_two_row_groups(path: Path, frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, row_group_size=len(frame) // 2, write_page_checksum=True)


def test_a_corrupt_parquet_page_is_one_plain_error_while_reading(tmp_path, capsys):
    frame = answers(400)
    path = tmp_path / "a.parquet"
    parquet_with_two_row_groups(path, frame)
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(1).column(frame.columns.get_loc("company_name"))
    start = column.data_page_offset
    data = bytearray(path.read_bytes())
    for i in range(start + 40, start + 60):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    reader = open_table(path, chunk_rows=100)  # the file opens: the damage is further in
    chunks = reader.chunks()
    assert len(next(chunks).frame) == 100
    with pytest.raises(FileFormatError, match=r"a.parquet: cannot read the Parquet file near row"):
        list(chunks)
    code, _, err = cli(capsys, "score", path, "-o", tmp_path / "s.csv")
    assert code == 2 and err.startswith("dmi: error: ") and err.count("\n") == 1


def test_parquet_numeric_ids_are_read_as_their_text(tmp_path, capsys):
    frame = answers(4)
    frame["respondent_id"] = [1001, 1002, 913501001234567890, 1004]  # int64: exact
    path = tmp_path / "ints.parquet"
    frame.to_parquet(path, index=False)
    summary, scores, rejects = run(path, tmp_path)
    assert scores["respondent_id"].tolist() == ["1001", "1002", "913501001234567890", "1004"]
    assert rejects.empty
    floats = frame.copy()
    floats["respondent_id"] = [1001.0, None, 1003.0, 1004.0]  # pandas' floats for ids with a gap
    floats.to_parquet(tmp_path / "floats.parquet", index=False)
    summary, scores, rejects = run(tmp_path / "floats.parquet", tmp_path)
    assert scores["respondent_id"].tolist() == ["1001", "1003", "1004"]
    assert rejects[["row", "reason"]].values.tolist() == [["3", "respondent_id is blank"]]
    code, out, _ = cli(capsys, "score", path, "-o", tmp_path / "s.csv", "-q")
    assert code == 0 and "read 4 rows: 4 scored" in out


def test_parquet_list_and_struct_cells_are_rejected_when_their_column_is_used(tmp_path):
    frame = answers(3)
    table = pa.Table.from_pandas(frame.drop(columns=["network"]), preserve_index=False)
    table = table.append_column(
        "network", pa.array([["B", "C"], None, ["D"]], type=pa.list_(pa.string()))
    )
    table = table.append_column(
        "extra", pa.array([{"a": 1}, {"a": 2}, None], type=pa.struct([("a", pa.int64())]))
    )
    path = tmp_path / "nested.parquet"
    pq.write_table(table, path)
    summary, scores, rejects = run(path, tmp_path)
    # row 3's list cell is null: a missing answer, scored (network is scored as lowest)
    assert scores["respondent_id"].tolist() == ["F-002"]
    assert rejects[["row", "column", "value"]].values.tolist() == [
        ["2", "network", "['B', 'C']"],
        ["4", "network", "['D']"],
    ]
    assert rejects["reason"].str.startswith("not one value (a Parquet list<").all()
    assert "extra" in summary.unmatched_columns  # the struct column is not used: ignored


def test_parquet_repeated_column_names_keep_their_own_cells(tmp_path):
    table = pa.table(
        [pa.array(["a", "b"]), pa.array(["B", "C"]), pa.array(["x", "y"])],
        names=["respondent_id", "network", "network"],
    )
    path = tmp_path / "twice.parquet"
    pq.write_table(table, path)
    reader = open_table(path)
    assert reader.columns == ["respondent_id", "network", "network.1"]
    assert reader.read_all()["network.1"].tolist() == ["x", "y"]
    only = next(reader.chunks(columns=["network.1", "respondent_id"])).frame
    assert only.values.tolist() == [["x", "a"], ["y", "b"]]


# -- 6. bounds --------------------------------------------------------------------------------


class _PartsRead:
    """The parts of workbooks dmi opens while the test runs, and the bytes it reads from each
    (decompressed): what a refusal "from the zip directory" or "as it is read" must keep small.
    Asserted instead of a time, which a shared machine makes flaky."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bytes: dict[str, int] = {}
        original = zipfile.ZipFile.open
        counts = self.bytes

        def counted_open(archive, name, *args, **kwargs):
            stream = original(archive, name, *args, **kwargs)
            part = name if isinstance(name, str) else name.filename
            counts.setdefault(part, 0)
            read = stream.read

            def counting_read(size=-1):
                data = read(size)
                counts[part] += len(data)
                return data

            stream.read = counting_read
            return stream

        monkeypatch.setattr(zipfile.ZipFile, "open", counted_open)


def test_a_huge_shared_strings_part_is_refused_from_the_zip_directory(tmp_path, monkeypatch):
    shared = f'<sst xmlns="{MAIN}"><si><t>x</t></si></sst>'
    path = simple_book(
        tmp_path / "big.xlsx",
        [["respondent_id"], [("s", "0")]],
        shared=shared,
        sizes={"xl/sharedStrings.xml": 3_000_000_000},
    )
    parts = _PartsRead(monkeypatch)
    with pytest.raises(FileFormatError) as caught:
        open_table(path)
    assert "xl/sharedStrings.xml" not in parts.bytes  # refused before it is opened
    assert "shared strings part is 3,000,000,000 bytes" in str(caught.value)
    assert "XLSX_MAX_SHARED_STRINGS_BYTES (268,435,456)" in str(caught.value)


def test_three_million_shared_strings_over_a_lower_limit_are_refused_quickly(tmp_path, monkeypatch):
    # the real thing, written part by part: 3,000,000 distinct strings (about 80 MB of XML,
    # under a megabyte compressed); openpyxl took minutes and most of a gigabyte on such a file
    items = "".join(f"<si><t>s{i:09d}</t></si>" for i in range(3_000_000))
    shared = f'<sst xmlns="{MAIN}" uniqueCount="3000000">{items}</sst>'
    path = simple_book(tmp_path / "many.xlsx", [["respondent_id"], [("s", "0")]], shared=shared)
    monkeypatch.setattr(dmi.io.readers, "XLSX_MAX_SHARED_STRINGS_BYTES", 64 << 20)
    parts = _PartsRead(monkeypatch)
    with pytest.raises(FileFormatError, match=r"XLSX_MAX_SHARED_STRINGS_BYTES \(67,108,864\)"):
        open_table(path)
    assert "xl/sharedStrings.xml" not in parts.bytes  # refused before it is opened


def test_a_400_mb_cell_is_refused_as_it_is_read(tmp_path, monkeypatch):
    # one shared string of 400 MB (about 400 KB compressed): refused by the part's size; one of
    # 40 MB, under that limit: refused by the cell's length while it is parsed, before it is held
    def shared(size: int):
        yield f'<sst xmlns="{MAIN}"><si><t>'.encode()
        block = b"x" * (1 << 20)
        for _ in range(size >> 20):
            yield block
        yield b"</t></si></sst>"

    for size, expected in (
        (400 << 20, "the shared strings part is 419,430,4"),
        (40 << 20, "shared string 0 is longer than XLSX_MAX_CELL_CHARS (32,767 characters"),
    ):
        path = simple_book(
            tmp_path / f"long-{size}.xlsx", [["respondent_id"], [("s", "0")]], shared=shared(size)
        )
        parts = _PartsRead(monkeypatch)
        with pytest.raises(FileFormatError) as caught:
            open_table(path)
        assert expected in str(caught.value)
        # the 400 MB part is not opened; the 40 MB cell is refused a few blocks in
        assert parts.bytes.get("xl/sharedStrings.xml", 0) < min(size, 40 << 20) // 4


def test_a_long_inline_cell_is_refused_naming_the_cell(tmp_path):
    rows = [["respondent_id", "company_name"], ["a", "ok"], ["b", "y" * 40_000]]
    path = package(tmp_path / "inline.xlsx", [("S", "visible", sheet_xml(rows))])
    with pytest.raises(FileFormatError, match=r"sheet 'S', cell B3: .*XLSX_MAX_CELL_CHARS"):
        list(open_table(path).chunks())


def test_a_huge_sheet_or_part_is_refused_from_the_zip_directory(tmp_path):
    path = simple_book(
        tmp_path / "sheet.xlsx",
        [["respondent_id"], ["a"]],
        sizes={"xl/worksheets/sheet1.xml": 4_000_000_000},
    )
    with pytest.raises(
        FileFormatError,
        match=r"sheet 'Sheet1' is 4,000,000,000 bytes .*"
        r"XLSX_MAX_SHEET_BYTES \(2,147,483,648\)",
    ):
        open_table(path)
    path = simple_book(
        tmp_path / "styles.xlsx",
        [["respondent_id"], ["a"]],
        styles=styles_xml([(0, None)]),
        sizes={"xl/styles.xml": 1_000_000_000},
    )
    with pytest.raises(
        FileFormatError,
        match=r"xl/styles.xml is 1,000,000,000 bytes .*"
        r"XLSX_MAX_PART_BYTES",
    ):
        open_table(path)


def test_a_giant_tag_is_refused_before_it_is_held(tmp_path, monkeypatch):
    # an attribute of 64 MB: expat would hold the whole tag; dmi stops after XLSX's LONGEST_TAG
    def sheet():
        yield f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr">'.encode()
        yield b"<is><t>respondent_id</t></is></c></row>"
        yield b'<row r="2"><c r="A2" t="inlineStr" x="'
        for _ in range(64):
            yield b"z" * (1 << 20)
        yield b'"><is><t>a</t></is></c></row></sheetData></worksheet>'

    path = package(tmp_path / "tag.xlsx", [("S", "visible", sheet())])
    # the scan for merged ranges reads the part through a block at a time, holding no tag;
    # what is counted here is the parse of the rows
    monkeypatch.setattr(dmi.io.xlsx.Workbook, "_read_merges", lambda self, sheet: [])
    parts = _PartsRead(monkeypatch)
    with pytest.raises(FileFormatError, match=r"sheet 'S', near row 2, has a tag longer than"):
        list(open_table(path).chunks())
    # stopped a block or two after LONGEST_TAG (8 MiB), not at the tag's end (64 MiB)
    assert parts.bytes["xl/worksheets/sheet1.xml"] < 16 << 20


def test_a_wide_sheet_is_read_in_shorter_blocks_with_every_row(tmp_path, monkeypatch):
    import dmi.io.xlsx

    monkeypatch.setattr(dmi.io.xlsx, "BLOCK_CELLS", 1000)  # a header 100 wide: 10 rows a block
    header = ["respondent_id"] + [f"c{j}" for j in range(99)]
    rows = [header] + [[f"r{i}"] + [None] * 98 + [i] for i in range(2, 60)]
    path = package(tmp_path / "wide.xlsx", [("S", "visible", sheet_xml(rows))])
    chunks = list(open_table(path, chunk_rows=1000).chunks())
    assert max(len(c.frame) for c in chunks) == 10
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    assert np.concatenate([c.rows for c in chunks]).tolist() == list(range(2, 60))
    assert frame["c98"].tolist() == [float(i) for i in range(2, 60)]


# -- rows -------------------------------------------------------------------------------------


def test_missing_rows_are_blank_rows_and_empty_rows_at_the_end_are_not_rows(tmp_path):
    xml = sheet_xml([["respondent_id", "network"], ["a", "B"]])
    xml = xml.replace(
        "</sheetData>",
        '<row r="5"><c r="A5" t="inlineStr"><is><t>b</t></is></c></row>'
        '<row r="6"/><row r="9"><c r="B9" s="0"/></row><row r="1048576"/></sheetData>',
    )
    path = package(tmp_path / "gaps.xlsx", [("S", "visible", xml)])
    chunks = list(open_table(path, chunk_rows=2).chunks())
    rows = np.concatenate([c.rows for c in chunks]).tolist()
    assert rows == [2, 3, 4, 5]
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    assert frame["respondent_id"].tolist() == ["a", None, None, "b"]
    summary, _, rejects = run(path, tmp_path)
    assert summary.read == 4 and rejects["reason"].tolist().count("blank line") == 2


def test_a_stray_value_far_down_makes_blank_rows_not_a_memory_bomb(tmp_path):
    xml = sheet_xml([["respondent_id", "network"], ["a", "B"]])
    far = '<row r="300000"><c r="A300000" t="inlineStr"><is><t>z</t></is></c></row>'
    path = package(
        tmp_path / "far.xlsx", [("S", "visible", xml.replace("</sheetData>", far + "</sheetData>"))]
    )
    chunks = list(open_table(path).chunks())
    rows = np.concatenate([c.rows for c in chunks])
    assert len(rows) == 299_999 and rows[0] == 2 and rows[-1] == 300_000
    last = chunks[-1].frame
    assert last["respondent_id"].iloc[-1] == "z" and last["network"].isna().all()


def stray_reason(cell: str, text: str) -> str:
    return (
        f'cell {cell} has a value ("{text}") in a column without a header; give the column a '
        "header or clear the cell"
    )


@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_a_value_in_a_column_without_a_header_is_one_reject_naming_its_cell(tmp_path, chunk_rows):
    # headed A1:B1; D4, C6, C9 and E9, D5000 hold values in columns without a header. They were
    # "ragged row: expected 2 fields, got 4", and the empty rows before D5000 were 4,990 blank
    # lines, each read and rejected
    xml = sheet_xml([["respondent_id", "network"], ["a", "B"]])
    tail = (
        '<row r="4"><c r="D4" t="inlineStr"><is><t>x</t></is></c></row>'
        '<row r="6"><c r="A6" t="inlineStr"><is><t>b</t></is></c>'
        '<c r="C6" t="inlineStr"><is><t>备注：数据待核实</t></is></c></row>'
        '<row r="7"><c r="C7" t="inlineStr"><is><t>  </t></is></c></row>'  # only spaces: none
        '<row r="9"><c r="C9" t="inlineStr"><is><t>y</t></is></c><c r="E9"><v>5</v></c></row>'
        '<row r="5000"><c r="D5000" t="inlineStr"><is><t>见附件</t></is></c></row>'
    )
    path = package(
        tmp_path / "stray.xlsx",
        [("S", "visible", xml.replace("</sheetData>", tail + "</sheetData>"))],
    )
    chunks = list(open_table(path, chunk_rows=chunk_rows).chunks())
    # the table ends at row 6, its last row with a value under the header: rows 3 and 5 are
    # blank lines inside it, the empty rows after it are not rows
    assert np.concatenate([c.rows for c in chunks]).tolist() == [2, 3, 5]
    skipped = [(r.row, r.fields, r.reason) for c in chunks for r in c.ragged]
    assert skipped == [
        (4, ["", ""], stray_reason("D4", "x")),
        (6, ["b", ""], stray_reason("C6", "备注：数据待核实")),
        (
            9,
            ["", ""],
            'cells C9 ("y"), E9 ("5") have values in columns without a header; give the '
            "columns headers or clear the cells",
        ),
        (5000, ["", ""], stray_reason("D5000", "见附件")),
    ]
    assert sum(c.n_read for c in chunks) == 7
    summary, scores, rejects = run(path, tmp_path / "run", chunk_rows=chunk_rows)
    assert (summary.read, summary.scored, summary.rejected) == (7, 1, 6)
    assert rejects[["row", "respondent_id", "column", "value"]].values.tolist() == [
        ["3", "", "", ""],
        ["4", "", "", "x"],
        ["5", "", "", ""],
        ["6", "b", "", "备注：数据待核实"],
        ["9", "", "", "y, 5"],
        ["5000", "", "", "见附件"],
    ]
    assert summary.rejected_rows_by_reason == {
        "blank line": 2,
        "a value in a column without a header": 4,
    }


def test_a_row_of_many_cells_without_a_header_names_three_and_counts_the_others(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["respondent_id", "network"])
    sheet.append(["F1", "B", "x" * 80, "待核实\n见附件", 3, 4, 5])
    book.save(tmp_path / "wide.xlsx")
    [chunk] = open_table(tmp_path / "wide.xlsx").chunks()
    [row] = chunk.ragged
    # each text on one line and at most 60 characters in the reason; whole in the value
    assert row.reason == (
        f'cells C2 ("{"x" * 59}…"), D2 ("待核实 见附件"), E2 ("3") and 2 more have values in '
        "columns without a header; give the columns headers or clear the cells"
    )
    assert row.value == f"{'x' * 80}, 待核实\n见附件, 3, 4, 5"
    assert len(chunk.frame) == 0 and chunk.n_read == 1


@pytest.mark.parametrize("command", ["eligibility", "score"])
def test_a_remark_beside_the_table_and_a_stray_cell_far_below_are_named_by_cell(
    tmp_path, capsys, command
):
    # the reviewer's sheet: a remark in E3 beside a firm (headed A:C for eligibility), and one
    # stray cell at row 1000 of a 3-firm sheet ("read 999 rows ... 996 rejected")
    if command == "eligibility":
        header = ["respondent_id", "revenue_y1", "debt_ratio"]
        rows = [[f"F{i}", 3000, 40] for i in range(1, 4)]
    else:
        frame = answers(3)
        header, rows = list(frame.columns), frame.values.tolist()
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    beyond = letters(len(header) + 1)  # a column right of the header, one left empty between
    sheet[f"{beyond}3"] = "备注：数据待核实"
    sheet[f"{beyond}1000"] = "见附件"
    path = tmp_path / "firms.xlsx"
    book.save(path)
    out, rej, summ = tmp_path / "o.csv", tmp_path / "r.csv", tmp_path / "s.json"
    code, stdout, _ = cli(capsys, command, path, "-o", out, "--rejects", rej, "--summary", summ)
    assert code == 0
    done = "evaluated" if command == "eligibility" else "scored"
    assert f"read 4 rows from sheet 'Sheet': 2 {done}, 2 rejected (2 problems)" in stdout
    rejects = pd.read_csv(rej, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    first = rows[1][header.index("respondent_id")]
    assert rejects.values.tolist() == [
        ["3", first, "", "备注：数据待核实", stray_reason(f"{beyond}3", "备注：数据待核实")],
        ["1000", "", "", "见附件", stray_reason(f"{beyond}1000", "见附件")],
    ]
    summary = json.loads(summ.read_text(encoding="utf-8"))
    assert (summary["read"], summary[done], summary["rejected"]) == (4, 2, 2)
    assert summary["rejected_rows_by_reason"] == {"a value in a column without a header": 2}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('<row r="1048577"><c r="A1048577"><v>1</v></c></row>', "row number 1048577 is not a row"),
        ('<row r="3"><c r="XFE3"><v>1</v></c></row>', "cell XFE3 in row 3 is right of the last"),
        ('<row r="2"><c r="B2"><v>1</v></c></row>', "row 2 comes after row 2"),
    ],
)
def test_rows_and_cells_outside_a_sheet_are_a_damaged_file(tmp_path, row, message):
    xml = sheet_xml([["respondent_id", "network"], ["a", "B"]])
    path = package(
        tmp_path / "x.xlsx", [("S", "visible", xml.replace("</sheetData>", row + "</sheetData>"))]
    )
    with pytest.raises(FileFormatError, match=message):
        list(open_table(path).chunks())


def test_shared_strings_rich_text_and_phonetic_runs(tmp_path):
    shared = (
        f'<sst xmlns="{MAIN}"><si><t>respondent_id</t></si><si><t>network</t></si>'
        '<si><r><t>A</t></r><r><rPr/><t>1</t></r><rPh sb="0" eb="1"><t>phonetic</t></rPh></si>'
        "<si><t>B;C_x000D_</t></si></sst>"
    )
    rows = [[("s", "0"), ("s", "1")], [("s", "2"), ("s", "3")]]
    path = simple_book(tmp_path / "sst.xlsx", rows, shared=shared)
    reader = open_table(path)
    assert reader.columns == ["respondent_id", "network"]
    assert reader.read_all().iloc[0].tolist() == ["A1", "B;C\r"]


# -- 7. any cell ------------------------------------------------------------------------------

CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**18), 10**18),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.sampled_from(["A", "B;C", "3", "45%", "", " ", "合计", "=1+1", "=SUM(A1:B2)", "#N/A"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.integers(32_760, 32_775).map(lambda n: "x" * n),  # about Excel's longest cell
)


ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


@settings(max_examples=25)
@given(
    rows=st.lists(st.lists(CELLS, min_size=3, max_size=5), min_size=1, max_size=6),
    chunk_rows=st.sampled_from([1, 1000]),
)
def test_any_cells_reconcile_or_fail_with_a_file_error(tmp_path_factory, rows, chunk_rows):
    folder = tmp_path_factory.mktemp("any")
    path = folder / "any.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["respondent_id", "network", "equipment_digitised"])
    for values in rows:
        sheet.append(values)
    book.save(path)
    try:
        summary, _ = score_file(
            path, folder / "s.csv", MODEL, rejects_path=folder / "r.csv", chunk_rows=chunk_rows
        )
    except FileFormatError as exc:  # the documented refusals: a cell over 32,767 characters
        assert "XLSX_MAX_CELL_CHARS" in str(exc)
        return

    # the table ends at its last row with a value under the header (3 columns): the rows
    # after it are not rows, but for each with a value right of the header (there a blank
    # text, a formula or an error value is no value)
    def no_value(v) -> bool:
        return isinstance(v, str) and (not v.strip() or v.startswith("=") or v in ERRORS)

    # under the header, a cell of spaces alone is no value either (it does not extend the
    # table: a ' ' typed far below made hundreds of rejected blank lines)
    def blank(v) -> bool:
        return v is None or (isinstance(v, str) and not v.strip())

    headed = [i + 1 for i, values in enumerate(rows) if not all(blank(v) for v in values[:3])]
    right = [
        i + 1
        for i, values in enumerate(rows)
        if any(v is not None and not no_value(v) for v in values[3:])
    ]
    last = max(headed, default=0)
    read = last + sum(1 for number in right if number > last)
    assert summary.reconciles and summary.read == read
    rejects = pd.read_csv(folder / "r.csv", dtype=str, keep_default_na=False)
    assert rejects["row"].nunique() == summary.rejected


# -- title rows above the header (dmi.io.find_header_row) ----------------------------------------


def titled_book(path: Path, frame: pd.DataFrame, titles: list[list]) -> Path:
    """A sheet with ``titles`` rows (a report's title, its date, a blank row ...) above the
    frame's header and rows, as agencies' exports have them."""
    book = Workbook()
    sheet = book.active
    for values in titles:
        sheet.append(values)
    sheet.append(list(frame.columns))
    for values in frame.itertuples(index=False):
        sheet.append([None if pd.isna(v) else v for v in values])
    book.save(path)
    return path


TITLES = {
    0: [],
    1: [["2026年某省中小企业数字化水平评测汇总表"]],
    # a title wider than the table, a date, a blank row: none of them a row of the table
    3: [["汇总表", None, None, None, None, None, None, None, None, None, None, None, None, None,
         None, None, None, None, None, None, None, None, None, None, None, None, None, None,
         None, None, None, None, None, None, None, None, None, None, None, None, "第1页"],
        ["导出日期", dt.date(2026, 11, 30)],
        []],
}  # fmt: skip


@pytest.mark.parametrize("n_titles", sorted(TITLES))
def test_the_header_below_title_rows_is_found_and_the_rows_keep_their_sheet_numbers(
    tmp_path, n_titles
):
    frame = answers(12, seed=n_titles + 3)
    # headers as agencies write them: question texts, the id under an alias
    by_text = {i.code: i.zh for i in MIIT.items[:5]}
    frame = frame.rename(columns={**by_text, "respondent_id": "企业编号"})
    frame.loc[4, MIIT.items[6].code] = "not an answer"  # one row rejected, by its sheet row
    plain = titled_book(tmp_path / "plain.xlsx", frame, [])
    path = titled_book(tmp_path / "titled.xlsx", frame, TITLES[n_titles])

    header = dmi.io.find_header_row(path, MIIT)
    assert header == 1 + len(TITLES[n_titles])
    summary, scores, rejects = run(path, tmp_path / "titled", header_row=header)
    _, expected, _ = run(plain, tmp_path / "plain")
    # the title rows are not rows of the table: 12 read, one rejected at its own sheet row
    assert (summary.read, summary.scored, summary.rejected) == (12, 11, 1)
    assert rejects["row"].unique().tolist() == [str(header + 5)]
    assert rejects["column"].unique().tolist() == [MIIT.items[6].code]
    pd.testing.assert_frame_equal(scores, expected)


def test_the_header_is_the_first_row_that_matches_the_most_questions(tmp_path):
    frame = answers(3)
    codes = [i.code for i in MIIT.items]
    # a note row naming two questions, then the header, then a second copy of the header
    titles = [["说明", codes[0], codes[1]]]
    path = titled_book(tmp_path / "notes.xlsx", frame, titles)
    assert dmi.io.find_header_row(path, MIIT) == 2
    book = Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    sheet.append(list(frame.columns))  # the same match: the first one is the header
    book.save(tmp_path / "twice.xlsx")
    assert dmi.io.find_header_row(tmp_path / "twice.xlsx", MIIT) == 1
    # a CSV's header is its first line
    frame.to_csv(tmp_path / "a.csv", index=False)
    assert dmi.io.find_header_row(tmp_path / "a.csv", MIIT) == 1
    with pytest.raises(ValueError, match="XLSX files only"):
        open_table(tmp_path / "a.csv", header_row=2)


@pytest.mark.parametrize("where", ["none", "too_far"])
def test_a_sheet_whose_first_rows_name_no_question_is_refused_plainly(tmp_path, where):
    frame = answers(3)
    if where == "none":
        frame.columns = [f"列{j}" for j in range(frame.shape[1])]
        titles = [["汇总表"]]
    else:  # the header below the rows looked at
        titles = [[f"说明 {j}"] for j in range(dmi.io.readers.HEADER_SEARCH_ROWS)]
    path = titled_book(tmp_path / "x.xlsx", frame, titles)
    with pytest.raises(FileFormatError) as caught:
        dmi.io.find_header_row(path, MIIT)
    error = caught.value
    assert error.problem == "no_header_row"
    assert error.details == {"rows": 20, "sheet": "Sheet", "instrument": MIIT.id}
    assert "none of the first 20 rows of sheet 'Sheet' names a question" in str(error)
    # the rows looked at are a setting: 21 rows find the header below 20 title rows
    if where == "too_far":
        assert dmi.io.find_header_row(path, MIIT, rows=21) == 21


# -- the column mapping a user edits (the bulk page) -------------------------------------------


def test_a_custom_mapping_takes_its_columns_first_and_can_leave_a_header_out():
    strategy = MIIT.item("strategy")
    headers = ["编号", strategy.zh, "备注", "talent"]
    auto = dmi.io.map_columns(MIIT, headers)
    assert auto.rename == {"编号": "respondent_id", strategy.zh: "strategy", "talent": "talent"}
    # 备注 sent to strategy takes it from the header that names it, which is then unmatched;
    # talent left out (""), although its header is its code
    edited = dmi.io.map_columns(MIIT, headers, {"备注": "strategy", "talent": ""})
    assert edited.rename == {"编号": "respondent_id", "备注": "strategy"}
    assert edited.unmatched == ["talent"] and edited.duplicates == {strategy.zh: "strategy"}
    assert "talent" in edited.missing_items and "strategy" not in edited.missing_items
    # two headers sent to one column: the first keeps it, the second is a second column of it
    twice = dmi.io.map_columns(MIIT, ["a", "b"], {"a": "talent", "b": "talent"})
    assert twice.rename == {"a": "talent"} and twice.duplicates == {"b": "talent"}
    assert twice.unmatched == []
    with pytest.raises(FileFormatError, match="not a column of instrument"):
        dmi.io.map_columns(MIIT, ["a"], {"a": "nope"})


def test_merged_cells_are_read_as_their_first_cell_in_every_row_of_the_range(tmp_path):
    # an agency's sheet merges a province over the rows of its firms: Excel keeps the value in
    # the range's first cell only, and the others were read as blanks (5 firms counted under
    # "(blank)"); each cell of a merged range of data rows now reads the first cell's value,
    # and a note says which ranges. A title merged above the header, and a merged header, stay
    book = Workbook()
    sheet = book.active
    sheet.append(["2025 年度企业名单", None, None, None])  # a title over the header
    sheet.merge_cells("A1:D1")
    sheet.append(["respondent_id", "province", "sme", "staff"])
    rows = [
        ["F1", "四川", "yes", 10],
        ["F2", None, None, 20],
        ["F3", None, None, "30"],
        ["F4", None, "no", 40],
        ["F5", "河南", "no", 50],
        ["F6", None, None, 60],
    ]
    for r in rows:
        sheet.append(r)
    sheet.merge_cells("B3:B6")  # 四川 over F1-F4
    sheet.merge_cells("C3:C5")  # yes over F1-F3
    sheet.merge_cells("B7:B8")  # 河南 over F5-F6
    path = tmp_path / "firms.xlsx"
    book.save(path)
    for chunk_rows in (1, 2, 100):
        reader = open_table(path, chunk_rows=chunk_rows, header_row=2)
        frame = reader.read_all()
        assert frame["province"].tolist() == ["四川"] * 4 + ["河南"] * 2
        assert frame["sme"].tolist() == ["yes", "yes", "yes", "no", "no", None]
        assert frame["staff"].tolist() == [10, 20, "30", 40, 50, 60]
        assert reader.notes == [
            "merged cells read as their first cell's value in every row of the range: "
            "B3:B6, C3:C5, B7:B8"
        ]


def _sheets_book(path: Path, first: str, *others: str, hidden: str | None = None) -> Path:
    """A workbook whose active sheet is ``first`` (a table of two firms' facts, unless it is
    an instructions sheet, 说明), then ``others`` (tables too) and a ``hidden`` sheet."""
    book = Workbook()
    for k, name in enumerate([first, *others]):
        sheet = book.active if k == 0 else book.create_sheet(name)
        sheet.title = name
        if name == "说明":
            sheet.append(["填表说明：金额单位为万元"])
            sheet.append(["请勿修改表头"])
            continue
        sheet.append(["respondent_id", "revenue_y1", "debt_ratio"])
        sheet.append([f"{name}-1", 1000, 50])
        sheet.append([f"{name}-2", 2000, 60])
    if hidden is not None:
        book.create_sheet(hidden).sheet_state = "hidden"
    book.active = 0
    book.save(path)
    return path


def test_a_workbook_of_several_sheets_names_those_not_read(tmp_path):
    # an agency's workbook of one sheet per city: only the active one was read, and nothing
    # said the others were there
    path = _sheets_book(tmp_path / "cities.xlsx", "苏州", "无锡", "南通", hidden="旧表")
    reader = open_table(path)
    assert reader.other_sheets == ["无锡", "南通"]  # the hidden one is not the agency's data
    note = (
        "read the active sheet '苏州'; not read: '无锡', '南通' (choose a sheet with --sheet NAME)"
    )
    assert reader.notes == [note]
    worded = bulkview.note_text(note, "zh")
    assert "'无锡', '南通'" in worded and "choose" not in worded and "sheet" not in worded
    # a sheet chosen: the choice was made, nothing to say
    assert open_table(path, sheet="无锡").notes == []
    assert open_table(_sheets_book(tmp_path / "one.xlsx", "苏州")).notes == []


@pytest.mark.parametrize("command", ["eligibility", "score"])
def test_a_sheet_without_the_columns_is_named_with_the_others(tmp_path, capsys, command):
    # the active sheet is the instructions: the message named neither it nor the data's sheet
    path = _sheets_book(tmp_path / "book.xlsx", "说明", "数据")
    code = main([command, str(path), "-o", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"dmi: error: {path}, sheet '说明': no column ")
    assert err.rstrip().endswith(
        "; the workbook's other sheets: '数据' (choose one with --sheet NAME)"
    )
    if command == "eligibility":
        assert main([command, str(path), "--sheet", "数据", "-o", str(tmp_path / "o.csv")]) == 0


def test_a_header_merged_over_columns_is_noted(tmp_path):
    # a header merged over three years' columns: the two others had no header, were ignored
    # as unnamed columns, and no note said why
    book = Workbook()
    sheet = book.active
    sheet.append(["respondent_id", "debt_ratio", "营业收入", None, None, "staff"])
    sheet.merge_cells("C1:E1")
    sheet.append(["F1", 50, 1000, 900, 800, 10])
    path = tmp_path / "merged-header.xlsx"
    book.save(path)
    note = (
        "header cells merged over several columns (the header is the first column's; the "
        "others have none and are not read): C1:E1"
    )
    assert open_table(path).notes == [note]
    worded = bulkview.note_text(note, "zh")
    assert worded.endswith("C1:E1") and not re.search(r"[a-z]{4,}", worded)


@pytest.mark.parametrize("block", [7, 50, 1 << 20])
def test_merged_ranges_are_found_whatever_blocks_the_part_is_read_in(tmp_path, monkeypatch, block):
    # the scan keeps the end of each block for the next: a range cut by a block's end is found
    # once
    import dmi.io.xlsx as xlsx

    prefixed = b'<x:mergeCells count="2"><x:mergeCell ref="A1:B2"/><mergeCell  ref="C3:C9" />'
    assert [xlsx._merge(m).ref for m in xlsx._MERGE.finditer(prefixed)] == ["A1:B2", "C3:C9"]

    book = Workbook()
    sheet = book.active
    for i in range(1, 40):
        sheet.append([f"r{i}", "x", "y"])
    refs = ["A2:A5", "B7:C9", "B11:B30", "C33:C34"]
    for ref in refs:
        sheet.merge_cells(ref)
    path = tmp_path / "m.xlsx"
    book.save(path)
    monkeypatch.setattr(xlsx, "READ_BLOCK", block)
    workbook = xlsx.Workbook(path, dmi.io.readers._xlsx_limits())
    found = workbook.merges(workbook.pick(None))
    assert sorted(m.ref for m in found) == sorted(refs)
    assert {m.ref: (m.first_row, m.last_row, m.first_column, m.last_column) for m in found}[
        "B7:C9"
    ] == (7, 9, 1, 2)


@pytest.mark.parametrize(("code", "number"), [("0!.0000", 1e28), ("#,##0,", 1e300)])
def test_a_huge_number_shown_scaled_is_a_reason_not_a_crash(tmp_path, capsys, code, number):
    # the text Excel would show was worked out in decimal at 28 digits: InvalidOperation, exit 3
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["respondent_id", "revenue_y1"])
    sheet.append(["F1", number])
    sheet["B2"].number_format = code
    path = tmp_path / "huge.xlsx"
    book.save(path)
    rej = tmp_path / "r.csv"
    code_, _, _ = cli(capsys, "eligibility", path, "-o", tmp_path / "o.csv", "--rejects", rej)
    assert code_ == 0
    rejects = pd.read_csv(rej, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rejects["column"].tolist() == ["revenue_y1"]
    assert rejects["reason"].iloc[0].startswith(f"number format {code!r} shows")


@pytest.mark.parametrize(
    "text",
    [
        "苏州\x0b工业园区",  # a soft line break pasted from Word
        "5\x0b0",
        "a\x00b\x1fc",
        "_x0041_ as written",  # reads as OOXML's escape of A: kept as written
        "_x0041_x0042_",  # two such, sharing an underscore
        "_x005F_x000D_",
        "tab\tand\nline breaks",  # an XLSX cell holds these as they are
        "=1+1",
    ],
)
def test_a_workbook_written_keeps_every_text_as_it_was(tmp_path, text):
    # a control character crashed the XLSX writer (openpyxl refuses it): no output at all
    path = tmp_path / "out.xlsx"
    frame = pd.DataFrame({"id": ["A1"], "text": [text], "n": [1.5]})
    dmi.io.write_table(frame, path)
    back = dmi.io.open_table(path).read_all()
    assert back.loc[0, "text"] == text
    cell = load_workbook(path).active["B2"]
    assert cell.data_type == "s"  # text, never a formula


@pytest.mark.parametrize("kind", ["shared", "inline"])
@pytest.mark.parametrize("spaces", [" ", "\u3000", "  \t "])
def test_a_cell_of_spaces_below_the_table_makes_no_rows(tmp_path, kind, spaces):
    # a " " in B1000 made 994 rows of blanks, each a rejected "blank line"
    rows = [["respondent_id", "revenue_y1"], ["R1", 2000], ["R2", 3000]]
    if kind == "shared":  # as Excel writes text: an index into the shared strings
        shared = f'<sst xmlns="{MAIN}"><si><t xml:space="preserve">{escape(spaces)}</t></si></sst>'
        far = '<row r="6"><c r="B6" t="s"><v>0</v></c></row>'
        far += '<row r="1000"><c r="A1000" t="s"><v>0</v></c></row>'
        xml = sheet_xml(rows).replace("</sheetData>", far + "</sheetData>")
        path = package(tmp_path / "spaces.xlsx", [("Sheet", "visible", xml)], shared=shared)
    else:
        xml = sheet_xml(rows).replace(
            "</sheetData>", f'<row r="6">{cell("B6", spaces)}</row></sheetData>'
        )
        path = package(tmp_path / "spaces.xlsx", [("Sheet", "visible", xml)])
    frame = dmi.io.open_table(path).read_all()
    assert frame["respondent_id"].tolist() == ["R1", "R2"]
    # spaces inside the table keep their row (a row of blanks, as an empty row there is)
    book = Workbook()
    book.active.append(["respondent_id", "revenue_y1"])
    book.active.append(["R1", 2000])
    book.active.append([spaces, None])
    book.active.append(["R3", 4000])
    book.save(tmp_path / "inside.xlsx")
    inside = dmi.io.open_table(tmp_path / "inside.xlsx").read_all()
    assert len(inside) == 3 and inside["respondent_id"].iloc[2] == "R3"

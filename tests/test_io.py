"""Reading messy agency files and writing safe result files (dmi.io)."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import dmi
import dmi.io
from dmi.io import (
    FileFormatError,
    TableWriter,
    csv_bytes,
    detect_encoding,
    escape_formulas,
    map_columns,
    open_table,
    require_item_columns,
    write_table,
)

FIXTURES = Path(__file__).parent / "fixtures"


def chunks_of(path: Path, **kwargs):
    reader = open_table(path, **kwargs)
    return reader, list(reader.chunks())


def test_detect_encoding():
    text = "企业编号,行业\n合计,1\n"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(text.encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding(text.encode("gbk")) == "gb18030"
    # a multi-byte character cut by the end of the sample is still UTF-8
    assert detect_encoding(text.encode("utf-8")[:-6]) == "utf-8"


def test_gbk_and_utf8_files_read_the_same_cells():
    gbk, a = chunks_of(FIXTURES / "labels-gbk.csv")
    utf8, b = chunks_of(FIXTURES / "labels-utf8.csv")
    assert gbk.encoding == "gb18030" and utf8.encoding == "utf-8-sig"
    assert gbk.columns == utf8.columns and gbk.columns[0] == "企业编号"
    pd.testing.assert_frame_equal(a[0].frame, b[0].frame)
    assert a[0].frame.loc[0, "company_name"] == "合成企业（测试）"


def test_semicolon_delimiter_is_sniffed_and_cells_stay_text():
    reader, chunks = chunks_of(FIXTURES / "semicolon-numbers.csv")
    assert reader.delimiter == ";"
    assert chunks[0].frame["equipment_digitised"].tolist() == ["35%", "３５", "35.0", "1,2"]


def test_ragged_rows_are_skipped_with_their_row_numbers():
    _, chunks = chunks_of(FIXTURES / "ragged.csv")
    rows = np.concatenate([c.rows for c in chunks]).tolist()
    ragged = [r for c in chunks for r in c.ragged]
    assert rows == [2, 4]
    assert [(r.row, r.expected, r.got) for r in ragged] == [(3, 38, 39), (5, 38, 5)]
    assert ragged[0].reason == "ragged row: expected 38 fields, got 39"
    assert ragged[1].fields[0] == "F-004"


def test_blank_lines_keep_their_row_numbers():
    _, chunks = chunks_of(FIXTURES / "blank-lines.csv")
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    rows = np.concatenate([c.rows for c in chunks]).tolist()
    assert rows == [2, 3, 4, 5, 6, 7]
    blank = frame.isna().all(axis=1).tolist()
    assert blank == [False, True, False, True, False, False]


def _many_rows_file(tmp_path):
    """200 lines with ragged, blank and two-line rows: (path, well-formed rows, ragged rows)."""
    header = "respondent_id,a,b"
    lines = [header]
    expected_rows, expected_ragged = [], []
    for i in range(2, 200):
        if i % 7 == 0:
            lines.append(f"x{i},1")  # ragged
            expected_ragged.append(i)
        elif i % 11 == 0:
            lines.append("")  # blank line
            expected_rows.append(i)
        elif i % 13 == 0:
            lines.append(f'"x{i}\nwith a newline",1,2')  # one row over two physical lines
            expected_rows.append(i)
        else:
            lines.append(f"x{i},1,{'z' * 100}")  # long enough for ~10 rows a block
            expected_rows.append(i)
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, expected_rows, expected_ragged


def test_row_numbers_stay_right_across_small_chunks(tmp_path):
    path, expected_rows, expected_ragged = _many_rows_file(tmp_path)
    reader = open_table(path, chunk_rows=10)
    chunks = list(reader.chunks())
    assert len(chunks) > 3
    assert np.concatenate([c.rows for c in chunks]).tolist() == expected_rows
    assert [r.row for c in chunks for r in c.ragged] == expected_ragged
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    for rid, row in zip(frame["respondent_id"], expected_rows):
        assert (pd.isna(rid) and row % 11 == 0) or rid.startswith(f"x{row}")
    # reading one column only (the duplicate pass) gives the same row numbers
    only = list(reader.chunks(columns=["respondent_id"]))
    assert np.concatenate([c.rows for c in only]).tolist() == expected_rows


def test_a_chunk_gathers_many_blocks_and_keeps_every_row_number(tmp_path, monkeypatch):
    # Arrow parses blocks of about a megabyte and a chunk is gathered from several: with tiny
    # blocks, each chunk here spans many, and ragged rows fall inside and between them
    import dmi.io

    monkeypatch.setattr(dmi.io.csvstream, "BLOCK_BYTES", 600)
    path, expected_rows, expected_ragged = _many_rows_file(tmp_path)
    reader = open_table(path, chunk_rows=50)
    assert reader.bytes_per_row * reader.chunk_rows > 600  # a chunk needs several blocks
    chunks = list(reader.chunks())
    sizes = [len(c.frame) for c in chunks]
    assert all(size >= 50 for size in sizes[:-1]) and sum(sizes) == len(expected_rows)
    assert max(sizes) < 50 + 15  # at most one block (about 6 rows of these) over
    assert np.concatenate([c.rows for c in chunks]).tolist() == expected_rows
    assert [r.row for c in chunks for r in c.ragged] == expected_ragged
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    whole = pd.concat([c.frame for c in open_table(path, chunk_rows=10**6).chunks()])
    pd.testing.assert_frame_equal(frame, whole.reset_index(drop=True))


def test_a_row_longer_than_a_block_is_read_again_with_bigger_blocks(tmp_path, monkeypatch):
    # the blocks are sized from the first lines; a far longer row further down makes Arrow
    # fail ("straddles two block boundaries"), and the reader starts again with bigger blocks
    # from where the chunks it handed out end: the same rows, numbers and ragged rows
    import dmi.io

    lines = ["respondent_id,a,b"]
    for i in range(2, 300):
        if i % 37 == 0:
            lines.append(f"x{i},1")  # ragged
        elif i == 200:
            lines.append(f'x{i},"{"long " * 2000}\nstill the same cell",2')
        else:
            lines.append(f"x{i},1,2")
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # the sample ends before the long row
    monkeypatch.setattr(dmi.io.csvstream, "SNIFF_BYTES", 2000)

    def read(block_bytes):
        monkeypatch.setattr(dmi.io.csvstream, "BLOCK_BYTES", block_bytes)
        chunks = list(open_table(path, chunk_rows=20).chunks())
        frame = pd.concat([c.frame for c in chunks], ignore_index=True)
        rows = np.concatenate([c.rows for c in chunks]).tolist()
        return frame, rows, [(r.row, r.got) for c in chunks for r in c.ragged]

    small, rows, ragged = read(600)
    big, big_rows, big_ragged = read(1 << 20)
    pd.testing.assert_frame_equal(small, big)
    assert rows == big_rows and ragged == big_ragged
    assert len(rows) == 298 - len(ragged) and 200 in rows
    assert [row for row, _ in ragged] == [i for i in range(2, 300) if i % 37 == 0]
    assert small.loc[rows.index(200), "a"].endswith("still the same cell")


def test_truncated_quote_on_the_last_line_is_a_ragged_row(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text('respondent_id,a,b\nx,1,2\ny,"1,2', encoding="utf-8")
    _, chunks = chunks_of(path)
    assert [r.row for c in chunks for r in c.ragged] == [3]


def test_file_level_failures_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_table(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(FileFormatError, match="empty.csv: the file is empty"):
        open_table(empty)
    other = tmp_path / "x.doc"
    other.write_text("a", encoding="utf-8")
    with pytest.raises(FileFormatError, match="unknown file type .doc"):
        open_table(other)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match="bad.xlsx: not a readable XLSX"):
        open_table(bad)


def test_undecodable_text_is_a_file_level_error(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"respondent_id,a\n" + b"x,1\n" * 10 + b"\xff\xfe\xfa,2\n")
    with pytest.raises(
        FileFormatError, match=re.escape("mixed.csv: cannot read row 12 (line 12) as gb18030")
    ):
        list(open_table(path).chunks())


def _workbook_of_rows(path, rows):
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)


@pytest.mark.parametrize(
    ("name", "content", "options", "problem", "details"),
    [
        ("a.csv", b"", {}, "empty", {}),
        ("a.csv", b"  \n", {}, "empty", {}),
        ("a.csv", b",,\nx,1,2\n", {}, "no_header", {}),
        (
            "a.csv",
            "企业编号,行业\n".encode("gb18030"),
            {"encoding": "utf-8"},
            "decode",
            {"encoding": "utf-8"},
        ),
        ("a.csv", b"a\n", {"encoding": "no-such-codec"}, "decode", {"encoding": "no-such-codec"}),
        ("a.json", b"{}", {}, "file_type", {"suffix": ".json"}),
        ("a", b"x", {}, "file_type", {"suffix": "(none)"}),
        ("a.xlsx", b"not a zip", {}, "xlsx_unreadable", {}),
        ("a.parquet", b"not parquet", {}, "parquet_unreadable", {}),
        ("a.xlsx", [[None, None], ["x", 1]], {}, "no_header", {}),
        (
            "a.xlsx",
            [["respondent_id"], ["x"]],
            {"sheet": "答卷"},
            "no_sheet",
            {"sheet": "答卷", "sheets": "Sheet"},
        ),
    ],
)
def test_file_errors_say_what_is_wrong_as_data(tmp_path, name, content, options, problem, details):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        _workbook_of_rows(path, content)
    with pytest.raises(FileFormatError) as caught:
        list(open_table(path, **options).chunks())
    assert (caught.value.problem, caught.value.details) == (problem, details)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")  # the command line's message is unchanged


def test_a_file_failing_further_down_says_where_as_data(tmp_path):
    path = tmp_path / "late.csv"
    # the start (the first MiB) decodes; a byte that is not UTF-8 comes much later
    path.write_bytes(b"respondent_id,a\n" + b"x,1\n" * 400_000 + b"\xff,2\n")
    with pytest.raises(FileFormatError) as caught:
        list(open_table(path, encoding="utf-8").chunks())
    error = caught.value
    assert (error.problem, error.path, error.details["encoding"]) == (
        "csv_unreadable",
        path,
        "utf-8",
    )
    assert 2 <= error.details["row"] <= 400_002
    assert f"cannot read row {error.details['row']} " in str(error)


def test_a_file_without_item_columns_is_named_as_given(miit):
    mapping = map_columns(miit, ["respondent_id", "备注"])
    with pytest.raises(FileFormatError, match="^答卷.csv: no column matches") as caught:
        require_item_columns(mapping, miit, "答卷.csv")
    error = caught.value
    assert (error.problem, error.details, error.path) == (
        "no_items",
        {"instrument": miit.id},
        Path("答卷.csv"),
    )


def test_headers_match_by_code_label_and_alias(miit):
    headers = ["企业编号", "所属行业", "Network", "network_security", "备注"]
    mapping = map_columns(miit, headers)
    assert mapping.rename["企业编号"] == "respondent_id"
    assert mapping.rename["所属行业"] == "sector"
    assert mapping.rename["Network"] == "network"
    assert mapping.unmatched == ["备注"]
    report = mapping.to_dict()
    assert "network" not in report["missing_items"] and "strategy" in report["missing_items"]
    custom = map_columns(miit, ["备注"], {"备注": "strategy"})
    assert custom.rename == {"备注": "strategy"}
    with pytest.raises(FileFormatError, match="not a column"):
        map_columns(miit, ["x"], {"x": "nope"})


def test_a_map_entry_for_a_header_the_file_lacks_is_listed(miit):
    # matched as headers are (case, width, spaces): "ＮＥＴＷＯＲＫ " is the file's Network
    custom = {"nothere": "network", "ＮＥＴＷＯＲＫ ": "network", "备注": ""}
    mapping = map_columns(miit, ["Network", "备注"], custom)
    assert mapping.unused_map == ["nothere"]
    assert mapping.to_dict()["unused_map"] == ["nothere"]
    assert map_columns(miit, ["Network"]).unused_map == []


def test_a_second_header_of_one_column_is_a_duplicate_not_unmatched(miit):
    # 企业编号 and respondent_id both name the id; Network and network one item: the first
    # takes it, the second is ignored and reported as what it is (it was called "no match")
    headers = ["企业编号", "Network", "respondent_id", "network", "备注"]
    mapping = map_columns(miit, headers)
    assert mapping.rename == {"企业编号": "respondent_id", "Network": "network"}
    assert mapping.duplicates == {"respondent_id": "respondent_id", "network": "network"}
    assert mapping.unmatched == ["备注"]
    assert mapping.to_dict()["duplicates"] == mapping.duplicates
    assert mapping.duplicates_note() == (
        "respondent_id (also respondent_id, read from '企业编号'), "
        "network (also network, read from 'Network')"
    )


def test_a_repeated_header_is_a_second_column_of_its_first(miit, tmp_path):
    # a header written twice is numbered by the reader (network.1): that column is a second
    # column of what the first gives, not a header that matches nothing; a header that only
    # looks numbered ("备注.1" with no 备注 before it, "x.a") is a header of its own
    headers = ["respondent_id", "network", "备注", "network.1", "备注.1", "sector.1", "x.a"]
    mapping = map_columns(miit, headers)
    assert mapping.duplicates == {"network.1": "network"}
    assert mapping.unmatched == ["备注", "备注.1", "sector.1", "x.a"]
    # through a reader, which numbers the repeated headers: also a map's column, repeated
    path = tmp_path / "in.csv"
    path.write_text("respondent_id,网络,网络,备注\nF1,A,B,x\n", encoding="utf-8")
    reader = open_table(path)
    assert reader.columns == ["respondent_id", "网络", "网络.1", "备注"]
    mapping = map_columns(miit, reader.columns, {"网络": "network"})
    assert mapping.rename == {"respondent_id": "respondent_id", "网络": "network"}
    assert mapping.duplicates == {"网络.1": "network"} and mapping.unmatched == ["备注"]


def test_xlsx_reader_numbers_rows_and_flags_extra_cells(tmp_path):
    path = tmp_path / "in.xlsx"
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["respondent_id", "network"])
    sheet.append(["a", "B"])
    sheet.append([None, None])
    sheet.append(["b", "C", "surplus"])
    sheet.append(["c", 3])
    book.save(path)
    _, chunks = chunks_of(path)
    assert np.concatenate([c.rows for c in chunks]).tolist() == [2, 3, 5]
    assert [(r.row, r.fields, r.reason) for c in chunks for r in c.ragged] == [
        (
            4,
            ["b", "C"],
            'cell C4 has a value ("surplus") in a column without a header; give the column a '
            "header or clear the cell",
        )
    ]
    assert chunks[0].frame["network"].tolist() == ["B", None, 3]


RISKY = ["=1+1", "+A1", "-2", "@SUM(A1)", "\tx", "ok", None]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_escape_formulas_touches_only_risky_text(dtype):
    frame = pd.DataFrame({"t": pd.Series(RISKY, dtype=dtype), "n": [-1.5] * 7})
    safe = escape_formulas(frame)
    assert safe["t"].tolist()[:6] == ["'=1+1", "'+A1", "'-2", "'@SUM(A1)", "'\tx", "ok"]
    assert pd.isna(safe["t"].iloc[6])
    assert safe["n"].tolist() == [-1.5] * 7  # numbers are never escaped


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_written_files_are_escaped(tmp_path, suffix):
    frame = pd.DataFrame({"respondent_id": RISKY[:6], "dmi": [-1.0, 2, 3, 4, 5, 6]})
    path = tmp_path / f"out{suffix}"
    with TableWriter(path, ["respondent_id", "dmi"]) as writer:
        writer.write(frame.iloc[:3])
        writer.write(frame.iloc[3:])
    if suffix == ".csv":
        back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
        cells = back["respondent_id"].tolist()
    else:
        sheet = load_workbook(path).active
        cells = [row[0].value for row in sheet.iter_rows(min_row=2)]
        assert [row[1].value for row in sheet.iter_rows(min_row=2)][0] == -1
        assert all(row[0].data_type == "s" for row in sheet.iter_rows(min_row=2))
    if suffix == ".csv":  # CSV has no cell types: escaped with '
        assert cells == ["'=1+1", "'+A1", "'-2", "'@SUM(A1)", "'\tx", "ok"]
    else:  # an XLSX text cell is never run: kept as it is
        assert cells == ["=1+1", "+A1", "-2", "@SUM(A1)", "\tx", "ok"]
    one_shot = tmp_path / f"one{suffix}"
    write_table(frame, one_shot)
    assert one_shot.stat().st_size > 0


def test_csv_bytes_are_the_file_write_table_writes(tmp_path):
    frame = pd.DataFrame({"respondent_id": RISKY, "dmi": [-1.5, 0, 1, 2, 3, 4, 5]})
    data = csv_bytes(frame)
    write_table(frame, tmp_path / "out.csv")
    assert data == (tmp_path / "out.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False)
    assert back["respondent_id"].tolist() == ["'=1+1", "'+A1", "'-2", "'@SUM(A1)", "'\tx", "ok", ""]
    assert back["dmi"].tolist()[0] == -1.5


def test_whole_numbers_are_written_as_the_big_outputs_write_them(tmp_path):
    # a float column (a blank makes pandas hold whole numbers as floats) is written 60, not
    # 60.0, as the Arrow writer of the main outputs writes it; other numbers keep every digit
    frame = pd.DataFrame(
        {"points": [60.0, 62.5, np.nan, -3.0, 0.1 + 0.2, 1e20], "n": [1, 2, 3, 4, 5, 6]}
    )
    with TableWriter(tmp_path / "big.csv", ["points", "n"]) as writer:
        writer.write(frame)
    write_table(frame, tmp_path / "small.csv")
    big = (tmp_path / "big.csv").read_text(encoding="utf-8-sig").splitlines()
    small = (tmp_path / "small.csv").read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in small] == [
        "points",
        "60",
        "62.5",
        "",
        "-3",
        "0.30000000000000004",
        "1e+20",
    ]
    assert csv_bytes(frame) == (tmp_path / "small.csv").read_bytes()
    firsts = [line.split(",")[0] for line in small]
    assert [line.split(",")[0].strip('"') for line in big] == firsts
    back = pd.read_csv(tmp_path / "small.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(back, frame)
    # a float32 column in its own precision, as Arrow writes it (widened, 0.1 had 17 digits)
    single = pd.DataFrame({"a": np.array([0.1, 60, np.nan], dtype=np.float32), "b": 1})
    assert csv_bytes(single).decode("utf-8-sig").splitlines() == ["a,b", "0.1,1", "60,1", ",1"]


def test_parquet_writer_keeps_one_schema(tmp_path):
    import pyarrow as pa

    schema = pa.schema([("respondent_id", pa.string()), ("sector", pa.string())])
    path = tmp_path / "out.parquet"
    with TableWriter(path, ["respondent_id", "sector"], schema=schema) as writer:
        writer.write(pd.DataFrame({"respondent_id": ["a"], "sector": [None]}))
        writer.write(pd.DataFrame({"respondent_id": ["b"], "sector": ["C13"]}))
    back = pd.read_parquet(path)
    assert back["respondent_id"].tolist() == ["a", "b"]
    assert back["sector"].isna().tolist() == [True, False]


def test_parquet_writer_spells_categorical_text_as_its_cells(tmp_path):
    # categorical text columns are spelled from their categories (not through Python strings):
    # the file holds what the same column as plain text gives, blanks as nulls
    import pyarrow as pa
    import pyarrow.parquet as pq

    many = [f"c{k}" for k in range(300)]  # more categories than one byte of codes holds
    frame = pd.DataFrame(
        {
            "state": pd.Categorical(["met", None, "not_met", "met"], categories=["not_met", "met"]),
            "wide": pd.Categorical(["c299", "c0", None, "c7"], categories=many),
            "level": pd.Categorical([1, 2, None, 1]),  # not text: converted as pyarrow does
            "points": [1.5, None, 3.0, 0.0],
        }
    )
    schema = pa.schema(
        [
            ("state", pa.string()),
            ("wide", pa.string()),
            ("level", pa.float64()),
            ("points", pa.float64()),
        ]
    )
    with TableWriter(tmp_path / "a.parquet", list(frame.columns), schema=schema) as writer:
        writer.write(frame)
        writer.write(frame.iloc[1:3])
    back = pq.read_table(tmp_path / "a.parquet")
    assert back.schema.equals(schema)
    assert back.column("state").to_pylist() == ["met", None, "not_met", "met", None, "not_met"]
    assert back.column("wide").to_pylist() == ["c299", "c0", None, "c7", "c0", None]
    assert back.column("level").to_pylist() == [1.0, 2.0, None, 1.0, 2.0, None]


def test_replace_writes_rewrites_only_the_chunks_it_is_given(tmp_path):
    columns = ["respondent_id", "dmi"]
    frame = lambda ids, values: pd.DataFrame({"respondent_id": ids, "dmi": values})  # noqa: E731
    a, b, c = frame(["a1", "=a2"], [1.5, 2.0]), frame([], []), frame(["c1"], [3.25])
    new_a, new_b = frame(["x1"], [9.0]), frame(["y1", "@y2", "y3"], [0.5, None, 7.0])
    target = tmp_path / "kept" / "target.csv"
    target.parent.mkdir()
    target.write_text("old")
    target.chmod(0o600)
    (tmp_path / "once.csv").symlink_to(target)  # an output that is a link to a private file
    with TableWriter(tmp_path / "once.csv", columns) as writer:
        for part in (a, b, c):
            writer.write(part)
        writer.replace_writes({1: new_b, 0: new_a})
        assert writer.rows == 5
        writer.replace_writes({2: c})  # a second time, from the new file's writes
    with TableWriter(tmp_path / "direct.csv", columns) as direct:
        for part in (new_a, new_b, c):
            direct.write(part)
    assert target.read_bytes() == (tmp_path / "direct.csv").read_bytes()
    # written in place: the link is still a link, the file still private, nothing left beside
    assert (tmp_path / "once.csv").is_symlink() and target.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "direct.csv",
        "kept",
        "once.csv",
        "target.csv",
    ]
    with pytest.raises(ValueError, match="expected 0 to 2, got \\[3\\]"):
        writer.replace_writes({3: a})
    with TableWriter(tmp_path / "s.parquet", columns) as parquet:
        parquet.write(a)
        with pytest.raises(ValueError, match="only a CSV"):
            parquet.replace_writes({0: a})


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", None])
def test_writers_count_the_rows_and_distinct_values_they_write(tmp_path, suffix):
    import pyarrow as pa

    def frame(rows):
        return pd.DataFrame({"row": pd.Series(rows, dtype="int64"), "reason": ["x"] * len(rows)})

    path = None if suffix is None else tmp_path / f"r{suffix}"
    schema = pa.schema([("row", pa.int64()), ("reason", pa.string())])
    with TableWriter(path, ["row", "reason"], schema, count_distinct="row") as writer:
        writer.write(frame([2, 2, 5]))  # row 2 has two problems: two lines, one row
        writer.write(frame([]))
        writer.write(frame([7, 8, 8, 8]))
        assert (writer.rows, writer.distinct) == (7, 4)
        if suffix in (".csv", None):
            writer.replace_writes({0: frame([3]), 1: frame([4, 4])})
            assert (writer.rows, writer.distinct) == (7, 4)  # 1 + 2 + 4 lines; rows 3, 4, 7, 8
            writer.replace_writes({2: frame([])})
            assert (writer.rows, writer.distinct) == (3, 2)
    if suffix is None:
        assert not list(tmp_path.iterdir())  # a writer that only counts writes nothing
    elif suffix == ".csv":
        back = pd.read_csv(path, encoding="utf-8-sig")
        assert back["row"].tolist() == [3, 4, 4]
    else:
        back = pd.read_parquet(path) if suffix == ".parquet" else pd.read_excel(path)
        assert back["row"].tolist() == [2, 2, 5, 7, 8, 8, 8]
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if path is None else [path.name])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_a_table_whose_writing_fails_leaves_no_file(tmp_path, monkeypatch, suffix):
    path = tmp_path / f"t{suffix}"
    path.write_bytes(b"yesterday's table")
    with pytest.raises(RuntimeError, match="disk gone"):
        with TableWriter(path, ["a"]) as writer:
            writer.write(pd.DataFrame({"a": [1, 2]}))
            raise RuntimeError("disk gone")

    def half_then_full(self, target, *args, **kwargs):
        Path(target).write_bytes(b"half a table")
        raise OSError("No space left on device")

    if suffix == ".xlsx":
        from openpyxl import Workbook

        def sheets_closed_then_half(self, target, *args, **kwargs):
            # as openpyxl's own save begins: a write-only sheet's row stream is ended (left
            # open, it was closed by the garbage collector later, in another test, with a
            # warning about a closed file)
            for sheet in self.worksheets:
                sheet.close()
            half_then_full(self, target)

        monkeypatch.setattr(Workbook, "save", sheets_closed_then_half)
    else:
        method = {".csv": "to_csv", ".parquet": "to_parquet"}[suffix]
        monkeypatch.setattr(pd.DataFrame, method, half_then_full)
    with pytest.raises(OSError, match="No space left"):
        write_table(pd.DataFrame({"a": [1, 2]}), path)
    # the file there is untouched, and nothing is left beside it
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert path.read_bytes() == b"yesterday's table"


# -- reading every line: unbalanced quotes, line counts, file-level failures ---------------------


def physical_lines(data: bytes, encoding: str = "utf-8-sig") -> int:
    """The lines of a file as a text editor counts them (``\\n``, ``\\r\\n`` or ``\\r`` end one;
    a last line without an end still counts)."""
    if encoding == "utf-8":
        encoding = "utf-8-sig"  # a BOM is no text
    text = data.decode(encoding, errors="replace")
    parts = re.split(r"\r\n|\r|\n", text)
    return len(parts) - (parts[-1] == "")


def read_lines(reader) -> tuple[list[int], list[tuple[int, str, str]], int, int]:
    """(rows of the frames, (row, first field, reason) of the lines rejected by the reader,
    rows read, physical lines) of a whole read."""
    chunks = list(reader.chunks())
    rows = np.concatenate([c.rows for c in chunks]).tolist() if chunks else []
    rejected = [
        (r.row, r.fields[0] if r.fields else "", r.reason) for c in chunks for r in c.ragged
    ]
    return rows, rejected, sum(c.n_read for c in chunks), sum(c.lines for c in chunks)


def test_a_quote_left_open_rejects_every_line_it_swallowed():
    # F-001's name opens a quote that F-004's name closes: lines 2 to 5 were one record
    path = FIXTURES / "unbalanced-quote.csv"
    reader = open_table(path)
    rows, rejected, n_read, lines = read_lines(reader)
    reason = "unbalanced quote from line 2 to 5"
    assert rejected == [(2, "F-001", reason), (3, "F-002", reason)] + [
        (4, "F-003", reason),
        (5, "F-004", reason),
    ]
    assert rows == list(range(6, 14))
    assert (n_read, lines) == (12, 12)
    frame = pd.concat([c.frame for c in reader.chunks()], ignore_index=True)
    assert frame["respondent_id"].tolist() == [f"F-{i:03d}" for i in range(5, 13)]
    assert {r.column for c in reader.chunks() for r in c.ragged} == {"company_name"}


def test_a_quote_left_open_is_rejected_and_the_other_rows_scored_as_their_own(tmp_path):
    from dmi.bulk.run import score_file

    model = dmi.IndexModel(dmi.load_instrument("miit-2024-manufacturing")).fit()
    path = FIXTURES / "unbalanced-quote.csv"
    summary, _ = score_file(path, tmp_path / "s.csv", model, rejects_path=tmp_path / "r.csv")
    assert (summary.read, summary.scored, summary.rejected, summary.lines) == (12, 8, 4, 12)
    assert summary.rejected_rows_by_reason == {"unbalanced quote": 4}
    rejects = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False)
    assert rejects["row"].tolist() == ["2", "3", "4", "5"]
    assert rejects["respondent_id"].tolist() == ["F-001", "F-002", "F-003", "F-004"]
    assert set(rejects["reason"]) == {"unbalanced quote from line 2 to 5"}
    # the truth: the eight lines the quote did not touch, scored on their own
    text = path.read_text(encoding="utf-8").splitlines()
    clean = tmp_path / "clean.csv"
    clean.write_text("\n".join([text[0]] + text[5:]) + "\n", encoding="utf-8")
    score_file(clean, tmp_path / "truth.csv", model)
    got = pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig")
    truth = pd.read_csv(tmp_path / "truth.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(got, truth)


HEADER3 = "id,a,b\n"
LINE_CASES = {
    # the shape users met: the quote closes three lines later, inside a cell
    "closed three lines on": (
        'A1,"Acme,B\nA2,x,y\nA3,x,y\nA4,x",y\nA5,x,y\n',
        [(6, "A5")],
        [(2, "A1", 2, 5), (3, "A2", 2, 5), (4, "A3", 2, 5), (5, "A4", 2, 5)],
    ),
    # the line the quote opens on is a whole row already (it has the header's 3 fields)
    "closed on the next line": (
        'A1,"Acme,B\nA2,x",y\nA3,x,y\n',
        [(4, "A3")],
        [(2, "A1", 2, 3), (3, "A2", 2, 3)],
    ),
    # real files quote every name: the next name's opening quote closes the open one
    "quoted names": (
        'A1,"Acme, B,y\nA2,"Co2",y\nA3,x,y\n',
        [(4, "A3")],
        [(2, "A1", 2, 3), (3, "A2", 2, 3)],
    ),
    # the quote opens with no delimiter after it, but a later line holds a whole row
    "a later line is a row": (
        'A1,"Acme\nA2,x,y\nA3",z\nA4,x,y\n',
        [(5, "A4")],
        [(2, "A1", 2, 4), (3, "A2", 2, 4), (4, "A3", 2, 4)],
    ),
    # closed at the end of a line: the record is ragged too (2 fields), still split per line
    "closed at a line end": (
        'A1,"Acme,B\nA2,x,y\nA3,x,y"\nA4,x,y\n',
        [(5, "A4")],
        [(2, "A1", 2, 4), (3, "A2", 2, 4), (4, "A3", 2, 4)],
    ),
    # never closed: every line to the end of the file
    "never closed": (
        'A1,x,y\nA2,"open\nA3,x,y\nA4,x,y\n',
        [(2, "A1")],
        [(3, "A2", 3, 5), (4, "A3", 3, 5), (5, "A4", 3, 5)],
    ),
    # never closed, in the last column: the record has its 3 fields, and the file's last line
    # end is the end of its last line, not one more line
    "never closed, in the last column": (
        'A1,x,y\nA2,x,"open\nA3,x,y\nA4,x,y\n',
        [(2, "A1")],
        [(3, "A2", 3, 5), (4, "A3", 3, 5), (5, "A4", 3, 5)],
    ),
    "a last cell left open on the last line": ('A1,x,y\nA2,x,"y\n', [(2, "A1"), (3, "A2")], []),
    "a last cell closed after a line break": ('A1,x,"y\n"\n', [(2, "A1")], []),
    # lines ended by CR alone (Excel for Mac)
    "CR only": (
        'A1,"Acme,B\rA2,x,y\rA3,x",y\rA4,x,y\r',
        [(5, "A4")],
        [(2, "A1", 2, 4), (3, "A2", 2, 4), (4, "A3", 2, 4)],
    ),
    # legitimate cells over several lines
    "an address in the last column": (
        'A1,x,"Beijing\nHaidian"\nA2,x,y\n',
        [(2, "A1"), (3, "A2")],
        [],
    ),
    "a first cell whose last line ends the row": (
        '"A1\nsecond",x,y\nA2,x,y\n',
        [(2, "A1\nsecond"), (3, "A2")],
        [],
    ),
    # one delimiter short of a row on the later line: not a row, the cell is kept
    "a later line one field short": (
        'A1,"note\nsee x,y\nend",z\nA2,x,y\n',
        [(2, "A1"), (3, "A2")],
        [],
    ),
}


@pytest.mark.parametrize("name", LINE_CASES)
def test_quoted_cells_that_swallow_rows_are_told_from_cells_over_several_lines(tmp_path, name):
    body, kept, swallowed = LINE_CASES[name]
    path = tmp_path / "in.csv"
    data = (HEADER3 + body).encode()
    if "\r" in body:
        data = data.replace(b"\n", b"\r")
    path.write_bytes(data)
    reader = open_table(path, chunk_rows=1)
    rows, rejected, n_read, lines = read_lines(reader)
    frame = pd.concat([c.frame for c in reader.chunks()], ignore_index=True)
    assert list(zip(rows, frame["id"])) == kept
    assert rejected == [
        (row, rid, f"unbalanced quote from line {first} to {last}")
        for row, rid, first, last in swallowed
    ]
    assert n_read == len(kept) + len(swallowed)
    assert lines == physical_lines(data) - 1


def test_a_ragged_row_over_several_lines_is_one_ragged_row(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(HEADER3 + '"A1\nx",a,b,c\nA2,x,y\n', encoding="utf-8")
    rows, rejected, n_read, lines = read_lines(open_table(path))
    assert rows == [3] and rejected == [(2, "A1\nx", "ragged row: expected 3 fields, got 4")]
    assert (n_read, lines) == (2, 3)


def test_a_one_column_file_keeps_its_cells_over_several_lines(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('id\n"A1\nA2"\nA3\n', encoding="utf-8")
    reader = open_table(path)
    rows, rejected, n_read, lines = read_lines(reader)
    assert (rows, rejected, n_read, lines) == ([2, 3], [], 2, 3)


FIXTURE_HEADER_LINES = {"multiline-header.csv": 2}


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.glob("*.csv") if p.name != "binary.csv")
)
@pytest.mark.parametrize("chunk_rows", [1, 100_000])
def test_every_physical_line_of_every_fixture_is_counted(name, chunk_rows):
    path = FIXTURES / name
    reader = open_table(path, chunk_rows=chunk_rows)
    encoding = "gb18030" if reader.encoding == "gb18030" else "utf-8-sig"
    expected = physical_lines(path.read_bytes(), encoding) - FIXTURE_HEADER_LINES.get(name, 1)
    _, _, n_read, lines = read_lines(reader)
    assert lines == expected and n_read <= lines
    # a read of the id column only (the duplicate pass) meets the same rows and lines
    only = list(reader.chunks(columns=[reader.columns[0]]))
    assert sum(c.lines for c in only) == expected
    assert [r for c in only for r in c.rows.tolist()] == read_lines(reader)[0]


def test_cells_over_several_lines_keep_their_line_breaks():
    rows, rejected, n_read, lines = read_lines(open_table(FIXTURES / "multiline-cells.csv"))
    assert (rows, rejected, n_read, lines) == ([2, 3, 4, 5], [], 4, 7)
    frame = next(open_table(FIXTURES / "multiline-cells.csv").chunks()).frame
    assert frame["company_name"].tolist()[1:3] == ["合成企业\n二部", "a\r\nb\r\nc"]
    assert frame["respondent_id"].tolist()[-1] == "F-004"


def test_a_header_over_two_lines_is_the_header():
    reader = open_table(FIXTURES / "multiline-header.csv")
    assert reader.columns[-1] == "备注\n(选填)"
    rows, rejected, n_read, lines = read_lines(reader)
    assert (rows, rejected, n_read, lines) == ([2, 3, 4, 5], [], 4, 4)
    frame = next(reader.chunks()).frame
    assert frame["respondent_id"].tolist() == ["F-001", "F-002", "F-003", "F-004"]


def test_lines_ended_by_cr_alone_are_read_with_their_row_numbers(tmp_path):
    # Excel for Mac's "CSV (Macintosh)"; the same lines ended by LF are the truth
    cr = FIXTURES / "cr-only.csv"
    lf = tmp_path / "lf.csv"
    lf.write_bytes(cr.read_bytes().replace(b"\r", b"\n"))
    got, truth = open_table(cr), open_table(lf)
    assert got.columns == truth.columns and got.delimiter == ","
    assert read_lines(got) == read_lines(truth)
    assert read_lines(got)[:2] == (
        [2, 4, 5],
        [(3, "F-002", "ragged row: expected 38 fields, got 39")],
    )
    pd.testing.assert_frame_equal(got.read_all(), truth.read_all())


def test_a_file_of_only_a_header_without_a_line_end_has_no_rows(tmp_path):
    from dmi.bulk.run import score_file

    reader = open_table(FIXTURES / "header-only.csv")
    assert len(reader.columns) == 38 and read_lines(reader) == ([], [], 0, 0)
    model = dmi.IndexModel(dmi.load_instrument("miit-2024-manufacturing")).fit()
    summary, _ = score_file(FIXTURES / "header-only.csv", tmp_path / "s.csv", model)
    assert (summary.read, summary.scored, summary.rejected, summary.lines) == (0, 0, 0, 0)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_detected(tmp_path, encoding):
    path = tmp_path / "in.csv"
    for source in ("labels-utf8.csv", "ragged.csv"):
        text = (FIXTURES / source).read_text(encoding="utf-8-sig")
        path.write_bytes(text.encode(encoding))
        got, truth = open_table(path), open_table(FIXTURES / source)
        assert got.encoding == encoding and got.columns == truth.columns
        assert read_lines(got) == read_lines(truth)
        pd.testing.assert_frame_equal(got.read_all(), truth.read_all())


@pytest.mark.parametrize(
    "data",
    [
        b"respondent_id,revenue_y1\nA\x00B,1\n",  # one NUL in a cell
        b"respondent_id,network\nA\x00\x00B,1\nC,\x00\x002\n",
        "企业编号,上年营业收入\nA\x00B,1\n".encode(),
    ],
)
def test_a_nul_byte_in_utf8_text_is_not_utf16(data):
    # one NUL in a small UTF-8 file made it UTF-16-BE: a garbled header and "no column is a
    # fact"; UTF-16 text has its line breaks as whole characters, which these decode without
    assert detect_encoding(data) == "utf-8"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_short_utf16_text_without_a_mark_is_still_utf16(encoding):
    for text in ("a,b\n1,2\n", "企业编号,上年营业收入\n甲,1\n", "企业编号\n甲乙\n"):
        assert detect_encoding(text.encode(encoding)) == encoding


def _workbook(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["respondent_id", "network"])
    book.active.append(["A1", "B"])
    book.save(path)
    return path


def _binary_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    import zipfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    files = {}
    files["xlsx"] = (
        _workbook(tmp_path / "book.csv"),
        "looks like an XLSX workbook (a zip archive), not CSV text: save it as .xlsx",
    )
    with zipfile.ZipFile(tmp_path / "archive.csv", "w") as archive:
        archive.writestr("answers.csv", "respondent_id,network\nA1,B\n")
    files["zip"] = (tmp_path / "archive.csv", "looks like a zip archive, not CSV text")
    pq.write_table(pa.table({"respondent_id": ["A1"]}), tmp_path / "table.csv")
    files["parquet"] = (tmp_path / "table.csv", "looks like a Parquet file, not CSV text")
    (tmp_path / "old.csv").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    files["xls"] = (tmp_path / "old.csv", "looks like an Excel 97-2003 workbook (.xls)")
    files["bytes"] = (FIXTURES / "binary.csv", "looks like a binary file, not CSV text")
    return files


@pytest.mark.parametrize("kind", ["xlsx", "zip", "parquet", "xls", "bytes"])
def test_a_binary_file_named_csv_is_refused_saying_what_it_looks_like(tmp_path, capsys, kind):
    from dmi.cli import main

    path, message = _binary_files(tmp_path)[kind]
    with pytest.raises(FileFormatError, match=re.escape(f"{path}: {message}")):
        open_table(path)
    assert main(["score", str(path), "-o", str(tmp_path / "s.csv"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dmi: error: ") and err.count("\n") == 1 and message in err


def late_gbk_file(path: Path, ragged: bool = False) -> tuple[Path, int, int]:
    """ASCII rows past the first megabyte (one cell over two lines near the start), then a row
    with a Chinese name in GBK: (path, its row number, its line number)."""
    lines = ["respondent_id,company_name,network"]
    for i in range(2, 24_002):
        name = '"Acme\nline two"' if i == 100 else f"Acme {i:05d} {'x' * 30}"
        lines.append(f"A{i},{name},B")
    row = len(lines) + 1
    lines.append(f"A{row},合成企业,B" + (",extra" if ragged else ""))
    lines.append(f"A{row + 1},Acme,C")
    data = "\n".join(lines[:-2]).encode() + b"\n" + "\n".join(lines[-2:]).encode("gbk") + b"\n"
    path.write_bytes(data)
    assert data.index("合".encode("gbk")) > (1 << 20)
    return path, row, row + 1  # the cell over two lines put its rows one line further


@pytest.mark.parametrize("ragged", [False, True])
def test_gbk_after_the_first_megabyte_is_read_as_gb18030_and_said(tmp_path, capfd, ragged):
    path, row, line = late_gbk_file(tmp_path / "late.csv", ragged)
    reader = open_table(path)
    assert reader.encoding == "utf-8"  # the first megabyte is ASCII
    rows, rejected, n_read, lines = read_lines(reader)
    assert reader.encoding == "gb18030"
    assert reader.notes == [
        f"read as gb18030: the file is not utf-8 from line {line} (row {row}) on, "
        "and all of it is gb18030"
    ]
    frame = reader.read_all()
    if ragged:
        assert rejected == [(row, f"A{row}", "ragged row: expected 3 fields, got 4")]
    else:
        assert frame["company_name"].iloc[-2] == "合成企业" and rows[-2] == row
    assert rows[-1] == row + 1 and frame["network"].iloc[-1] == "C"
    assert lines == physical_lines(path.read_bytes(), "gb18030") - 1
    assert "Exception ignored" not in capfd.readouterr().err  # pyarrow's print is kept quiet


def test_the_gb18030_fallback_reaches_the_run_summary_and_stderr(tmp_path, capsys):
    from dmi.cli import main

    path, row, line = late_gbk_file(tmp_path / "late.csv")
    args = ["score", str(path), "-o", str(tmp_path / "s.csv"), "--summary", str(tmp_path / "j")]
    assert main(args) == 0
    summary = json.loads((tmp_path / "j").read_text(encoding="utf-8"))
    assert summary["encoding"] == "gb18030" and f"line {line} (row {row})" in summary["notes"][0]
    assert (
        f"note: read as gb18030: the file is not utf-8 from line {line}" in capsys.readouterr().err
    )


def _one_row_and_line(message: str) -> tuple[int, int]:
    rows = re.findall(r"\brow (\d+)", message)
    lines = re.findall(r"\bline (\d+)", message)
    assert len(rows) == 1 and len(lines) == 1, message
    return int(rows[0]), int(lines[0])


def test_an_undecodable_byte_is_named_by_its_one_row_and_line(tmp_path):
    # UTF-8 with Chinese from the start, a cell over two lines, then, past the first megabyte
    # (so the guess is UTF-8), a stray GBK byte pair: not GB18030 as a whole file would be read
    body = ["respondent_id,company_name,network", "A2,合成企业,B", 'A3,"two\nlines",B']
    body += [f"A{i},合成企业{i:05d} {'样本' * 20},C" for i in range(4, 12_000)]
    bad = len(body) + 1
    data = "\n".join(body).encode() + f"\nA{bad},".encode() + b"\xba\xcf,C\nA0,x,C\n"
    assert data.index(b"\xba\xcf") > (1 << 20)
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    with pytest.raises(FileFormatError, match=f"mixed.csv: cannot read row {bad} .* as utf-8"):
        list(open_table(path).chunks())
    with pytest.raises(FileFormatError) as info:
        list(open_table(path, chunk_rows=1000).chunks())
    assert _one_row_and_line(str(info.value)) == (bad, bad + 1)
    assert "the rows before it are utf-8: the file mixes encodings" in str(info.value)


def test_a_small_file_of_utf8_with_a_gbk_line_is_refused_naming_the_line(tmp_path):
    # the whole file is in the sample the encoding is guessed from: it is not all UTF-8, but
    # its first rows are UTF-8 Chinese, which GB18030 would read as other characters (河南 as
    # 娌冲崡) without a word; the row that is not UTF-8 is named instead
    body = ["respondent_id,company_name,network", "A2,河南合成企业,B", "A3,上海样本,C"]
    data = ("\n".join(body) + "\n").encode() + "A4,四川企业,B\n".encode("gbk") + b"A5,x,C\n"
    assert detect_encoding(data) == "utf-8"
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    with pytest.raises(FileFormatError) as info:
        list(open_table(path).chunks())
    message = str(info.value)
    assert _one_row_and_line(message) == (4, 4)
    assert "the rows before it are utf-8: the file mixes encodings" in message
    # a file that is GB18030 from its first non-ASCII byte is still read as GB18030
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("\n".join(body).encode("gbk") + b"\n")
    assert detect_encoding(gbk.read_bytes()) == "gb18030"
    assert open_table(gbk).read_all()["company_name"].tolist() == ["河南合成企业", "上海样本"]


def test_a_given_encoding_is_never_changed(tmp_path):
    path, row, line = late_gbk_file(tmp_path / "late.csv")
    with pytest.raises(FileFormatError) as info:
        list(open_table(path, encoding="utf-8").chunks())
    assert _one_row_and_line(str(info.value)) == (row, line)


# -- any bytes: a result whose counts reconcile, or one plain FileFormatError --------------------

_CELLS = ["a", "B", "B;C", "1", "企业", ",", ";", "\t", "|", '"', '""', "\r", "\n", "\r\n", " "]
_CELLS += ["r1,A,B\n", 'r2,"x,A\n', "r3,A\n"]  # whole rows, an opened quote, a short row
_TEXT = st.lists(st.sampled_from(_CELLS + ["\x00", "\ufeff", "合计", "-2"]), max_size=60).map(
    "".join
)
_HEADERS = st.sampled_from(
    ["", "respondent_id,network,strategy\n", "respondent_id;network\r\n", '"id","network"\r']
)
_ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16-le", "utf-16-be", "utf-16"])
FILES = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda h, t, e: (h + t).encode(e), _HEADERS, _TEXT, _ENCODINGS),
)
MODEL = dmi.IndexModel(dmi.load_instrument("miit-2024-manufacturing")).fit()


@settings(max_examples=150, deadline=None)
@given(data=FILES, chunk_rows=st.sampled_from([1, 3, 100_000]))
def test_any_bytes_are_scored_with_counts_that_reconcile_or_refused_plainly(data, chunk_rows):
    import tempfile

    from dmi.bulk.run import score_file

    with tempfile.TemporaryDirectory() as folder:
        path, out, rejects = (Path(folder) / name for name in ("in.csv", "s.csv", "r.csv"))
        path.write_bytes(data)
        try:
            summary, _ = score_file(
                path, out, MODEL, rejects_path=rejects, chunk_rows=chunk_rows, threads=1
            )
        except FileFormatError as exc:  # a file-level problem, told in one line
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)
            return
        scored = len(pd.read_csv(out, encoding="utf-8-sig", dtype=str))
        rejected = pd.read_csv(rejects, encoding="utf-8-sig", dtype=str)["row"].nunique()
        assert summary.reconciles and (scored, rejected) == (summary.scored, summary.rejected)
        # every physical line after the header was met, and a line is at most one row
        reader = open_table(path)
        text_lines = physical_lines(data, summary.encoding)
        assert summary.lines == text_lines - reader.header_lines >= summary.read


def _every_kind_of_line(path: Path, newline: str) -> tuple[list, list, int]:
    """A file of every kind of line, and what a read must give: (kept (row, id), rejected
    (row, first field, reason), physical lines after the header), worked out line by line."""
    lines, kept, rejected = ["id,a,b"], [], []
    row, line = 2, 2
    for i in range(240):
        kind = i % 8
        if kind == 1:  # too few fields
            lines.append(f"x{i},1")
            rejected.append((row, f"x{i}", "ragged row: expected 3 fields, got 2"))
            row, line = row + 1, line + 1
        elif kind == 2:  # blank
            lines.append("")
            kept.append((row, None))
            row, line = row + 1, line + 1
        elif kind == 3:  # a cell over two lines: one row, two lines
            lines.append(f'x{i},"line one{newline}line two",2')
            kept.append((row, f"x{i}"))
            row, line = row + 1, line + 2
        elif kind == 5:  # a quote that swallows the next two rows: three rows rejected
            lines += [f'x{i},"open,q', f"y{i},1,2", f'z{i},3",2']
            reason = f"unbalanced quote from line {line} to {line + 2}"
            rejected += [(row + j, f"{c}{i}", reason) for j, c in enumerate("xyz")]
            row, line = row + 3, line + 3
        else:
            lines.append(f"x{i},{i},{'z' * 60}")
            kept.append((row, f"x{i}"))
            row, line = row + 1, line + 1
    path.write_bytes((newline.join(lines) + newline).encode())
    return kept, rejected, line - 2


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize(("block_bytes", "chunk_rows"), [(1 << 20, 100_000), (600, 7), (600, 1)])
def test_rows_rejects_and_lines_stay_right_across_blocks_and_chunks(
    tmp_path, monkeypatch, newline, block_bytes, chunk_rows
):
    # tiny blocks: stretches and cells over several lines fall across block ends, and a
    # record longer than a block makes the reader start again with bigger blocks
    import dmi.io.csvstream

    monkeypatch.setattr(dmi.io.csvstream, "BLOCK_BYTES", block_bytes)
    path = tmp_path / "every.csv"
    kept, rejected, lines = _every_kind_of_line(path, newline)
    assert lines == physical_lines(path.read_bytes()) - 1
    reader = open_table(path, chunk_rows=chunk_rows)
    chunks = list(reader.chunks())
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    got_kept = list(zip(np.concatenate([c.rows for c in chunks]).tolist(), frame["id"]))
    assert [(r, None if pd.isna(i) else i) for r, i in got_kept] == kept
    assert [(r.row, r.fields[0], r.reason) for c in chunks for r in c.ragged] == rejected
    assert sum(c.lines for c in chunks) == lines == reader.lines
    assert sum(c.n_read for c in chunks) == len(kept) + len(rejected)
    only = list(reader.chunks(columns=["id"]))  # the duplicate pass: the same rows
    assert [r for c in only for r in c.rows.tolist()] == [r for r, _ in kept]


def test_swallowed_lines_are_the_same_rows_whatever_the_output(tmp_path):
    # a Parquet output takes the duplicate pass over the id column: the same rows
    from dmi.bulk.run import score_file

    path = tmp_path / "every.csv"
    kept, rejected, lines = _every_kind_of_line(path, "\n")
    model = dmi.IndexModel(dmi.load_instrument("miit-2024-manufacturing")).fit()
    columns = {"id": "respondent_id", "a": "network", "b": "strategy"}
    summaries = []
    for out in ("s.csv", "s.parquet"):
        summary, _ = score_file(
            path,
            tmp_path / out,
            model,
            rejects_path=tmp_path / f"r-{out}.csv",
            column_map=columns,
            chunk_rows=13,
        )
        summaries.append(summary)
        rejects = pd.read_csv(tmp_path / f"r-{out}.csv", dtype=str, keep_default_na=False)
        unbalanced = rejects[rejects["reason"].str.startswith("unbalanced")]
        assert list(zip(unbalanced["row"].astype(int), unbalanced["respondent_id"])) == [
            (row, rid) for row, rid, reason in rejected if reason.startswith("unbalanced")
        ]
        assert summary.read == len(kept) + len(rejected) and summary.lines == lines
    same = [{k: v for k, v in json.loads(x.to_json()).items() if k != "output"} for x in summaries]
    assert same[0] == same[1]


def test_utf16_read_with_another_encoding_given_is_named_as_utf16(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes("respondent_id,network\nA1,B\n".encode("utf-16-le"))
    with pytest.raises(FileFormatError, match="looks like utf-16-le text, not utf-8: pass"):
        open_table(path, encoding="utf-8")
    assert open_table(path, encoding="utf-16-le").columns == ["respondent_id", "network"]


def test_cells_over_several_lines_in_every_row_are_read_column_by_column(tmp_path, monkeypatch):
    # a clean file whose every row holds an address over two lines: the rule runs on whole
    # columns (Arrow), never on a row at a time in Python
    import dmi.io.csvstream
    import dmi.io.readers

    calls = []
    for name in ("split_fields", "swallowed_at"):  # what dmi splits or checks in Python
        real = getattr(dmi.io.csvstream, name)
        monkeypatch.setattr(dmi.io.readers, name, lambda *a, real=real: calls.append(a) or real(*a))
    path = tmp_path / "addresses.csv"
    rows = [f'A{i},"北京市海淀区\n中关村大街{i}号",B' for i in range(5000)]
    path.write_text("id,address,network\n" + "\n".join(rows) + "\nA5000,x,\n", encoding="utf-8")
    rows, rejected, n_read, lines = read_lines(open_table(path, chunk_rows=1000))
    assert (rows, rejected, n_read, lines) == (list(range(2, 5003)), [], 5001, 10_001)
    assert calls == []


_PIECES = st.sampled_from(["a", ",", "x,y,z", "\n", "\r\n", "\r", "", "企"])


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(1, 4),
    rows=st.lists(st.lists(st.one_of(st.none(), st.lists(_PIECES).map("".join))), max_size=8),
)
def test_the_rule_on_whole_columns_is_the_rule_on_one_record(width, rows):
    import pyarrow as pa

    from dmi.io.csvstream import LINE_BREAK, swallowed_at
    from dmi.io.readers import _multiline

    rows = [(row + [None] * width)[:width] for row in rows]
    batch = pa.record_batch(
        [pa.array([row[k] for row in rows], pa.string()) for k in range(width)],
        names=[f"c{k}" for k in range(width)],
    )
    found = _multiline(batch, width, ",")
    breaks = [sum(len(LINE_BREAK.findall(v or "")) for v in row) for row in rows]
    opened = [swallowed_at(row, width, ",") for row in rows]
    if found is None:
        assert not any(breaks)
    else:
        assert found[0].tolist() == breaks and found[1].tolist() == opened


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.lists(_PIECES).map("".join)), max_size=8),
    start=st.integers(0, 8),
    length=st.integers(0, 8),
    large=st.booleans(),
)
def test_a_line_break_is_found_in_exactly_the_values_of_a_slice(values, start, length, large):
    # the search looks at the slice's own bytes of the data buffer: not those of the values
    # before or after it (Arrow hands a reader's columns over as slices of a bigger block)
    import pyarrow as pa

    from dmi.io.readers import _has_line_break

    kind = pa.large_string() if large else pa.string()
    array = pa.array(values, kind).slice(start, length)
    expected = any("\n" in v or "\r" in v for v in array.to_pylist() if v is not None)
    assert _has_line_break(array) is expected


def test_a_categorical_column_is_written_as_its_text_escaped_like_any_text(tmp_path):
    # categorical columns are escaped on their categories, then spelled out per row: the file
    # must be the bytes of the same column as plain text, blanks and formula-like values included
    values = ["met", "=1+1", None, "-x", "met", "@sum", "unknown", None]
    plain = pd.DataFrame({"id": range(8), "state": pd.Series(values, dtype=object)})
    coded = plain.assign(
        state=pd.Categorical(values, categories=["unknown", "met", "=1+1", "-x", "@sum", "unused"])
    )
    for name, frame in (("plain.csv", plain), ("coded.csv", coded)):
        with TableWriter(tmp_path / name, ["id", "state"]) as writer:
            writer.write(frame)
    written = (tmp_path / "coded.csv").read_bytes()
    assert written == (tmp_path / "plain.csv").read_bytes()
    assert b'"\'=1+1"' in written and b'"\'-x"' in written and b'"\'@sum"' in written


@pytest.mark.parametrize(
    "values",
    [
        ["met", None, "=x", "met"],
        [1.5, 2.0, None, 1.5],
        [3, 4, 3, 3],
        [True, False, True, True],
    ],
)
def test_a_categorical_column_counts_and_writes_as_its_values(tmp_path, values):
    # categories of any type (text, numbers, booleans): the bytes written, and the distinct
    # values counted in the column, are those of the same column uncoded
    plain = pd.DataFrame({"id": pd.Series(values, dtype=object), "n": range(len(values))})
    coded = plain.assign(id=pd.Categorical(values))
    counted = []
    for name, frame in (("plain.csv", plain), ("coded.csv", coded)):
        with TableWriter(tmp_path / name, ["id", "n"], count_distinct="id") as writer:
            writer.write(frame)
            writer.write(frame.iloc[:2])
            counted.append(writer.distinct)
    assert (tmp_path / "coded.csv").read_bytes() == (tmp_path / "plain.csv").read_bytes()
    distinct = len(set(values[:2]))  # None counts as a value of its own, as in the plain column
    assert counted == [len(set(values)) + distinct] * 2


def test_an_output_onto_a_device_or_a_pipe_is_refused(tmp_path):
    # the finished file is moved onto its destination: onto a device or a pipe that would put a
    # plain file in its place (as root, /dev/full was replaced so)
    from dmi.errors import FileFormatError
    from dmi.io import PendingFile

    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    device = tmp_path / "null.csv"
    device.symlink_to(os.devnull)  # a link to a device: the device is where the file would go
    for target in (pipe, device):
        with pytest.raises(FileFormatError, match="is not a regular file"):
            PendingFile(target)
        with pytest.raises(FileFormatError, match="is not a regular file"):
            TableWriter(target, ["a"])
    assert pipe.is_fifo() and Path(os.devnull).is_char_device()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null.csv", "pipe.csv"]  # nothing new


def test_a_folder_given_as_the_input_is_named_as_a_folder(tmp_path, capsys):
    from dmi.cli import main
    from dmi.io import open_table

    folder = tmp_path / "answers.csv"
    folder.mkdir()
    with pytest.raises(FileFormatError, match="answers.csv is a folder; expected a CSV, XLSX"):
        open_table(folder)
    for command in ("score", "eligibility"):
        code = main([command, str(folder), "-o", str(tmp_path / "out.csv")])
        err = capsys.readouterr().err
        assert code == 2 and "is a folder" in err and len(err.splitlines()) == 1


def test_a_sheet_for_a_csv_file_and_an_output_under_a_file_are_named(tmp_path, capsys):
    from dmi.cli import main
    from dmi.errors import UsageError
    from dmi.io import PendingFile, open_table

    src = tmp_path / "in.csv"
    src.write_text("respondent_id,network\nA,1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="a sheet \\('S1'\\) applies to XLSX files only"):
        open_table(src, sheet="S1")
    with pytest.raises(FileFormatError, match="in.csv is a file, not a folder"):
        PendingFile(src / "x.csv")
    code = main(["score", str(src), "-o", str(tmp_path / "o.csv"), "--sheet", "S1"])
    err = capsys.readouterr().err
    assert code == 2 and "applies to XLSX files only" in err and len(err.splitlines()) == 1


def test_a_yaml_map_refuses_a_header_given_twice_as_a_csv_map_does(tmp_path):
    # YAML kept the last entry: 收入2025 was read as revenue_y2, without a word
    path = tmp_path / "map.yaml"
    path.write_text("编号: respondent_id\n收入2025: revenue_y1\n收入2025: revenue_y2\n", "utf-8")
    with pytest.raises(FileFormatError, match=r"'收入2025' is given twice \(lines 2 and 3\)"):
        dmi.io.read_mapping_file(path)


def test_a_yaml_map_reads_every_header_and_code_as_the_text_written(tmp_path):
    # YAML read the header yes as True, a blank code as None ("sent to 'None'") and no as False
    path = tmp_path / "map.yaml"
    path.write_text(
        "yes: debt_ratio\n2024: revenue_y2\n备注:\nno: ''\n说明: ~\n附注: null\n", "utf-8"
    )
    assert dmi.io.read_mapping_file(path) == {
        "yes": "debt_ratio",
        "2024": "revenue_y2",
        "备注": "",  # left out, as "" says (YAML's nulls too)
        "no": "",
        "说明": "",
        "附注": "",
    }

"""Reading messy agency files and writing safe result files (dmi.io)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from dmi.io import (
    FileFormatError,
    TableWriter,
    detect_encoding,
    escape_formulas,
    map_columns,
    open_table,
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

    monkeypatch.setattr(dmi._csvstream, "BLOCK_BYTES", 600)
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
    monkeypatch.setattr(dmi._csvstream, "SNIFF_BYTES", 2000)

    def read(block_bytes):
        monkeypatch.setattr(dmi._csvstream, "BLOCK_BYTES", block_bytes)
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
    with pytest.raises(FileFormatError, match="mixed.csv: cannot read the file as .* near row"):
        list(open_table(path).chunks())


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
    assert [(r.row, r.got) for c in chunks for r in c.ragged] == [(4, 3)]
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
    assert cells == ["'=1+1", "'+A1", "'-2", "'@SUM(A1)", "'\tx", "ok"]
    one_shot = tmp_path / f"one{suffix}"
    write_table(frame, one_shot)
    assert one_shot.stat().st_size > 0


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

    method = {".csv": "to_csv", ".xlsx": "to_excel", ".parquet": "to_parquet"}[suffix]
    monkeypatch.setattr(pd.DataFrame, method, half_then_full)
    with pytest.raises(OSError, match="No space left"):
        write_table(pd.DataFrame({"a": [1, 2]}), path)
    # the file there is untouched, and nothing is left beside it
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert path.read_bytes() == b"yesterday's table"

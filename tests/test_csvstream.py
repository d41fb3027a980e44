"""The early read of `dmi score FILE.csv`: what it hands over is what the reader reads itself."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dmi.io.csvstream as csvstream
from dmi.__main__ import main as launcher_main
from dmi.cli import main as cli_main
from dmi.instruments.synth import synthesise

FIXTURES = Path(__file__).parent / "fixtures"


def _early_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "dmi-early-read" and t.is_alive()]


@pytest.fixture
def replays(monkeypatch):
    """How many reads took an early read over."""
    taken = []
    real = csvstream.EarlyRead.replay

    def replay(self, on_invalid):
        taken.append(self.key)
        return real(self, on_invalid)

    monkeypatch.setattr(csvstream.EarlyRead, "replay", replay)
    return taken


@pytest.fixture(scope="module")
def long_row_file(tmp_path_factory):
    """Ragged rows and blank lines in many blocks, and past the sniffed sample (the first
    megabyte), a row longer than a block."""
    import dmi

    frame = synthesise(dmi.load_instrument("miit-2024-manufacturing"), 9000, 3, messy=True)
    path = tmp_path_factory.mktemp("early") / "in.csv"
    frame.to_csv(path, index=False)
    lines = path.read_text(encoding="utf-8").splitlines()
    for at in (40, 2500, 6000, 8999):
        lines[at] = lines[at] + ",extra"  # ragged: one field too many
    lines[41] = lines[7000] = ""  # blank lines
    at = lines[0].split(",").index("company_name")
    cells = lines[8000].split(",")  # the synthetic cells hold no commas or quotes
    cells[at] = '"' + "长文本 " * 30_000 + '\n第二行"'  # longer than a block, over two lines
    lines[8000] = ",".join(cells)
    lines[8500] = "SYN-x,1,2"  # ragged: too few fields
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert len("\n".join(lines[:8000]).encode()) > csvstream.SNIFF_BYTES  # past the sample
    return path


@pytest.fixture(scope="module")
def built_files(tmp_path_factory, long_row_file):
    """Files too big, or too binary, to keep in git: a GBK row after the first megabyte of ASCII
    (a ragged GBK row before it, and a cell over two lines); the ragged fixture in UTF-16."""
    folder = tmp_path_factory.mktemp("built")
    head = ["respondent_id,company_name,network"] + [
        f"A{i},{'Acme' if i != 50 else chr(34) + 'Acme' + chr(10) + 'Ltd' + chr(34)} {'x' * 40},B"
        for i in range(2, 22_000)
    ]
    tail = ["Z1,合成,企业,B", "Z2,合成企业,C", "Z3,x,D"]
    late = folder / "gbk-late.csv"
    late.write_bytes(("\n".join(head) + "\n").encode() + ("\n".join(tail) + "\n").encode("gbk"))
    utf16 = folder / "utf16.csv"
    utf16.write_bytes((FIXTURES / "ragged.csv").read_text(encoding="utf-8").encode("utf-16-le"))
    return {"long": long_row_file, "gbk-late": late, "utf16": utf16}


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("long", ["--chunk-rows", "300"]),
        ("long", ["--chunk-rows=100000"]),
        ("labels-gbk.csv", ["--encoding", "gb18030"]),
        ("labels-gbk.csv", []),
        ("ragged.csv", ["--chunk-rows", "1"]),
        ("blank-lines.csv", []),
        ("cr-only.csv", []),
        ("unbalanced-quote.csv", ["--chunk-rows", "2"]),
        ("multiline-cells.csv", []),
        ("multiline-header.csv", []),
        ("header-only.csv", []),
        ("gbk-late", ["--chunk-rows", "5000"]),
        ("utf16", []),
    ],
)
def test_an_early_read_gives_the_bytes_the_run_reads_itself(
    tmp_path, capsys, replays, built_files, name, options
):
    source = built_files.get(name, FIXTURES / name)
    outputs = []
    for entry in (cli_main, launcher_main):
        folder = tmp_path / entry.__module__
        folder.mkdir()
        args = ["score", str(source), "-o", str(folder / "s.csv"), "--rejects"]
        args += [str(folder / "r.csv"), "--summary", str(folder / "summary.json"), "-q"]
        assert entry(args + options) == 0, capsys.readouterr().err
        summary = (folder / "summary.json").read_text(encoding="utf-8")
        outputs.append(
            (
                (folder / "s.csv").read_bytes(),
                (folder / "r.csv").read_bytes(),
                summary.replace(str(folder), "FOLDER"),
            )
        )
    assert outputs[0] == outputs[1]
    # the launcher's run took its early read over (a file of only a header has none)
    assert len(replays) == (name != "header-only.csv")
    assert not _early_threads() and csvstream._early_read is None
    if name == "long":
        assert outputs[0][1].count(b"ragged row") == 5
    if name == "gbk-late":  # the early read failed at the GBK row; the run read on in GB18030
        assert '"encoding": "gb18030"' in outputs[0][2]
        assert outputs[0][1].count(b"ragged row") == 1 and "合成,企业".encode() in outputs[0][1]
        assert b'"Z2"' in outputs[0][0] and b'"Z3"' in outputs[0][0]
    if name == "unbalanced-quote.csv":
        assert outputs[0][1].count(b"unbalanced quote from line 2 to 5") == 4


def test_an_early_read_of_a_file_that_is_not_csv_fails_as_the_run_does(tmp_path, capsys):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["respondent_id", "network"])
    path = tmp_path / "book.csv"
    book.save(path)
    errors = []
    for entry in (cli_main, launcher_main):
        assert entry(["score", str(path), "-o", str(tmp_path / "s.csv")]) == 2
        errors.append(capsys.readouterr().err)
    assert errors[0] == errors[1] and errors[0].count("\n") == 1
    assert "looks like an XLSX workbook (a zip archive), not CSV text" in errors[0]
    assert not _early_threads() and csvstream._early_read is None


@pytest.mark.parametrize(
    "argv",
    [
        ["fit", "in.csv", "-o", "m.json"],
        ["score", "-o", "out.csv", "in.csv"],  # options first: not looked for
        ["score", "in.xlsx", "-o", "out.csv"],
        ["score", "missing.csv", "-o", "out.csv"],
        ["score", "in.csv", "-o", "out.csv", "--chunk-rows", "0"],
        ["score", "in.csv", "-o", "out.csv", "--encoding", "no-such-codec"],
    ],
)
def test_only_a_score_of_a_readable_csv_starts_an_early_read(tmp_path, monkeypatch, argv):
    (tmp_path / "in.csv").write_text("respondent_id,network\nA1,A\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    csvstream.start_early_read(argv)
    assert csvstream._early_read is None and not _early_threads()


def test_an_early_read_nobody_takes_is_stopped(tmp_path, capsys, long_row_file):
    # the run fails before it reads the file: the early read must not outlive it
    args = ["score", str(long_row_file), "-o", str(tmp_path / "s.csv"), "--map", "missing.yaml"]
    assert launcher_main(args) == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert csvstream._early_read is None and not _early_threads()


def test_a_read_of_other_options_drops_the_early_read(tmp_path, replays, long_row_file):
    from dmi.io import open_table

    csvstream.start_early_read(["score", str(long_row_file), "--chunk-rows", "300"])
    # started (its thread may already have parsed the whole file and ended: not asked here)
    assert csvstream._early_read is not None
    reader = open_table(long_row_file, encoding="utf-8-sig")  # another encoding
    assert sum(c.n_read for c in reader.chunks()) > 8900
    assert replays == [] and csvstream._early_read is None and not _early_threads()


def test_importing_dmi_and_the_launcher_leaves_pandas_unimported():
    code = (
        "import sys, dmi, dmi.__main__; "
        "print('pandas' in sys.modules, 'pyarrow' in sys.modules, dmi.IndexModel.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "IndexModel"]
    import dmi

    for name in dmi.__all__:  # every public name is where the lazy import looks for it
        assert getattr(dmi, name) is not None, name
    assert set(dmi.__all__) <= set(dir(dmi))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='ab,;"\r\n ', max_size=24))
def test_split_record_splits_the_first_record_as_arrow_does(text):
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    fields, end, complete = csvstream.split_record(text, ",")
    # (a file that starts with an empty line has no width for Arrow to take)
    assume(complete and not text.startswith(("\r", "\n")))
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode()),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, use_threads=False),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=lambda row: "skip",
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(30)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            ),
        )
    except pa.ArrowInvalid:  # e.g. an empty file: no first record to compare
        assume(False)
    assume(table.num_rows > 0)
    assert list(table.slice(0, 1).to_pylist()[0].values()) == fields
    # the record's text ends where Arrow's second record starts: split on from there, the same
    # row (an empty line is a record of nulls to Arrow; a ragged one it skips)
    second = csvstream.split_record(text, ",", end)[0]
    if table.num_rows > 1 and text[end : end + 1] not in ("", "\r", "\n"):
        if len(second) == len(fields):
            assert second == list(table.slice(1, 1).to_pylist()[0].values())


@pytest.mark.parametrize(
    ("values", "at"),
    [
        (["A1", "Acme,B\nA2,x,y\nA3,x"], 1),  # both: the first line and a later one are rows
        (["A1", "Acme,B\nA2,x"], 1),  # the first line, with the cell before it, is a row
        (["A1", "Acme\nA2,x,y"], 1),  # a later line is a row
        (["A1", "Acme\nA2,x"], -1),  # no line is a row
        (["A1,x", "y"], -1),  # no line break
        (["Acme,B,C\nx", "y", "z"], 0),  # the first cell's first line alone is a row
        (["Acme\nx,y", None, "z"], -1),  # one delimiter short on the later line
        (["A1", "B", "Beijing\nHaidian"], -1),  # an address over two lines, last column
        (["A1", "B", "Beijing, Haidian\nroad"], 2),  # ... whose first line completes a row
        (["A1", "B;C\r\nD;E;F"], -1),  # another delimiter is no delimiter
    ],
)
def test_swallowed_at_finds_the_cell_whose_lines_are_rows(values, at):
    assert csvstream.swallowed_at(values, 3, ",") == at
    assert csvstream.swallowed_at(values, 1, ",") == -1  # one column: cannot tell


_BAD = {"utf-8": b"\xff", "gb18030": b"\xff", "utf-16-le": b"\x00\xdc", "utf-16": b"\x00\xdc"}


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("encoding", list(_BAD))
@pytest.mark.parametrize("scan", [3, 5, 1 << 22])
def test_find_undecodable_names_the_line_whatever_the_blocks_it_reads(
    tmp_path, monkeypatch, newline, encoding, scan
):
    # tiny blocks cut characters and CRLFs in two: the count must not change
    monkeypatch.setattr(csvstream, "SCAN_BYTES", scan)
    good = newline.join(["h1,h2", "企业,1", f'a,"x{newline}y"', "b,2", "c,"]).encode(encoding)
    path = tmp_path / "in.csv"
    path.write_bytes(
        good + _BAD[encoding] + "3\n".encode({"utf-16": "utf-16-le"}.get(encoding, encoding))
    )
    found = csvstream.find_undecodable(path, encoding, from_line=3)
    assert (found.offset, found.line, found.ascii_before) == (len(good), 6, False)
    assert found.text == newline.join(['a,"x', 'y"', "b,2", "c,"])
    path.write_bytes(good)
    assert csvstream.find_undecodable(path, encoding) is None
    ascii_only = "h1,h2\na,1\n".encode(encoding)
    path.write_bytes(ascii_only + _BAD[encoding])
    assert csvstream.find_undecodable(path, encoding).ascii_before  # characters, not bytes

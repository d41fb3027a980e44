"""The early read of `dmi score FILE.csv`: what it hands over is what the reader reads itself."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

import dmi._csvstream as csvstream
from dmi.__main__ import main as launcher_main
from dmi.cli import main as cli_main
from dmi.synth import synthesise

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


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("long", ["--chunk-rows", "300"]),
        ("long", ["--chunk-rows=100000"]),
        ("labels-gbk.csv", ["--encoding", "gb18030"]),
        ("labels-gbk.csv", []),
        ("ragged.csv", ["--chunk-rows", "1"]),
        ("blank-lines.csv", []),
    ],
)
def test_an_early_read_gives_the_bytes_the_run_reads_itself(
    tmp_path, capsys, replays, long_row_file, name, options
):
    source = long_row_file if name == "long" else FIXTURES / name
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
    assert len(replays) == 1  # the launcher's run took its early read over
    assert not _early_threads() and csvstream._early_read is None
    if name == "long":
        assert outputs[0][1].count(b"ragged row") == 5


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

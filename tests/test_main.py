"""The ``dmi`` console script (dmi.__main__): the same commands as dmi.cli, started early."""

from __future__ import annotations

import gc
import subprocess
import sys

from dmi.__main__ import main


def test_the_collector_is_left_as_it_was_found(capsys):
    assert main(["instrument", "list"]) == 0
    assert "miit-2024-manufacturing" in capsys.readouterr().out
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        assert main(["instrument", "list"]) == 0
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_python_dash_m_dmi_runs_the_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "dmi", "score", "no-such-file.csv", "-o", "out.csv"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == "dmi: error: no such file: no-such-file.csv"

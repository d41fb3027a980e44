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
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert main(["instrument", "list"]) == 0
        assert gc.get_freeze_count() == frozen  # a caller's frozen objects stay frozen
    finally:
        gc.unfreeze()


def test_python_dash_m_dmi_runs_the_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "dmi", "score", "no-such-file.csv", "-o", "out.csv"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == "dmi: error: no such file: no-such-file.csv"


def test_ctrl_c_while_starting_is_one_line():
    # a SIGINT a moment after start lands in the imports: one line and exit 130, no traceback
    import os
    import signal

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    process = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "dmi", "instrument", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    # wait for the imports to begin (importtime reports each one on stderr), then interrupt
    assert process.stderr is not None
    for line in process.stderr:
        if "pandas" in line:
            process.send_signal(signal.SIGINT)
            break
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 130, rest
    assert "Traceback" not in rest and "dmi: interrupted" in rest

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
    # a caller's frozen objects stay frozen: one of them is not back among the collected ones
    # (the frozen count itself may fall while main runs: a frozen object another thread lets go
    # of is freed, so it is no measure)
    marker = [object()]
    gc.freeze()
    try:
        assert main(["instrument", "list"]) == 0
        assert gc.get_freeze_count() > 0
        assert not any(o is marker for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is marker for o in gc.get_objects())  # as thawing shows it


def test_python_dash_m_dmi_runs_the_command_line():
    out = subprocess.run(
        [sys.executable, "-m", "dmi", "score", "no-such-file.csv", "-o", "out.csv"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == "dmi: error: no such file: no-such-file.csv"


# Run in a fresh interpreter: an import hook sends this process a real SIGINT the moment
# pandas is first looked for, so the interrupt always lands inside dmi's imports (a signal sent
# from outside at a moment chosen by the clock could land after them, and the run exit 0).
# The script first gives SIGINT Python's usual handler, as in a terminal: a process started in the
# background inherits SIGINT ignored (as pytest's workers may be), and Python then keeps it so.
_CTRL_C_DURING_IMPORTS = """
import os, runpy, signal, sys

signal.signal(signal.SIGINT, signal.default_int_handler)

class CtrlCOnPandas:
    def find_spec(self, name, path=None, target=None):
        if name == "pandas":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlCOnPandas())
sys.argv = ["dmi", "instrument", "list"]
runpy.run_module("dmi", run_name="__main__", alter_sys=True)
"""


def test_ctrl_c_while_starting_is_one_line():
    out = subprocess.run(
        [sys.executable, "-c", _CTRL_C_DURING_IMPORTS], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 130, out.stderr
    assert out.stderr.strip() == "dmi: interrupted"
    assert out.stdout == ""  # the command never ran

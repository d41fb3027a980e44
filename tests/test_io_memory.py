"""The memory pool of whole-file runs (:mod:`dmi.io.memory`): jemalloc where Arrow has it, the
user's choice kept, and the console script the one that chooses, before it reads early."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import pandas as pd
import pytest

import dmi.__main__
import dmi.io.memory
from dmi.eligibility import synthetic_firms
from dmi.instruments import load_instrument
from dmi.instruments.synth import synthesise

ASK = (
    "import pyarrow as pa, sys; from dmi.io.memory import use_bulk_memory_pool; "
    "print(use_bulk_memory_pool(sys.argv[1]), pa.default_memory_pool().backend_name)"
)


def _pools(command: str = "eligibility", **env: str) -> list[str]:
    """What ``use_bulk_memory_pool`` says, and Arrow's default pool after it, in a process of
    its own (the pool is the process's)."""
    clean = {k: v for k, v in os.environ.items() if k != dmi.io.memory.POOL_VARIABLE}
    done = subprocess.run(
        [sys.executable, "-c", ASK, command],
        env=clean | env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == ""
    return done.stdout.split()


def _arrow_default() -> str:
    """The pool Arrow itself would use here: jemalloc if this build has it, else its default."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pyarrow as pa\n"
            "try:\n    print(pa.jemalloc_memory_pool().backend_name)\n"
            "except NotImplementedError:\n    print(pa.default_memory_pool().backend_name)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("command", sorted(dmi.io.memory.DECAY_MS))
def test_a_run_allocates_from_jemalloc_where_arrow_has_it(command):
    expected = _arrow_default()
    assert _pools(command) == [expected, expected]


def test_only_a_whole_file_command_has_a_pool():
    with pytest.raises(ValueError, match="'fit' is not a whole-file command"):
        dmi.io.memory.use_bulk_memory_pool("fit")


@pytest.mark.parametrize("chosen", ["system", "mimalloc"])
def test_the_pool_the_user_chose_is_kept(chosen):
    assert _pools(**{dmi.io.memory.POOL_VARIABLE: chosen}) == [chosen, chosen]


def test_the_module_imports_neither_pandas_nor_the_rest_of_dmi():
    # it is imported by the console script before the early read, which must start at once
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, dmi.io.memory; "
            "print(sorted(m for m in sys.modules if m == 'pandas' or m.startswith('dmi.')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "['dmi.errors', 'dmi.io', 'dmi.io.memory']"


@pytest.mark.parametrize("command", ["score", "eligibility"])
def test_the_bulk_commands_choose_the_pool_before_they_read(command, tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(dmi.__main__, "use_bulk_memory_pool", calls.append)
    real_start = dmi.__main__.start_early_read

    def start(argv):
        calls.append("early read")
        real_start(argv)

    monkeypatch.setattr(dmi.__main__, "start_early_read", start)
    src = tmp_path / "in.csv"
    if command == "score":
        synthesise(load_instrument("miit-2024-manufacturing"), 30, seed=3).to_csv(src, index=False)
    else:
        synthetic_firms(30, seed=3).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert dmi.__main__.main([command, str(src), "-o", str(out), "-q"]) == 0
    assert calls == [command, "early read"]
    assert len(pd.read_csv(out)) == 30


@pytest.mark.parametrize("words", [["fit", "--help"], ["--version"], []])
def test_other_commands_keep_arrows_pool(words, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(dmi.__main__, "use_bulk_memory_pool", calls.append)
    with contextlib.suppress(SystemExit):
        dmi.__main__.main(words)
    assert calls == []

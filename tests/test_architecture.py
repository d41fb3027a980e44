"""The package's layers (pyproject's [tool.importlinter]): no module imports a layer above."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(*args: str, cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dmi_keeps_its_layers():
    done = _lint(cwd=ROOT, pythonpath=ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dmi's layers KEPT" in done.stdout


def test_a_module_that_reaches_up_breaks_the_contract(tmp_path):
    # the same kind of contract on a made-up package whose lower layer imports the upper one:
    # the check must see it (else the test above could never fail)
    package = tmp_path / "made_up"
    (package / "high").mkdir(parents=True)
    (package / "low").mkdir()
    (package / "__init__.py").write_text("")
    (package / "high" / "__init__.py").write_text("from made_up import low\n")
    (package / "low" / "__init__.py").write_text("from made_up.high import thing\n")
    (package / "high" / "thing.py").write_text("")
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = made_up\n\n"
        "[importlinter:contract:layers]\nname = layers\ntype = layers\n"
        "layers =\n    made_up.high\n    made_up.low\n"
    )
    done = _lint(cwd=tmp_path, pythonpath=tmp_path)
    assert done.returncode == 1
    assert "made_up.low is not allowed to import made_up.high" in done.stdout

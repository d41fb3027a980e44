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


def test_the_parser_and_a_ladder_run_import_no_scikit_learn(tmp_path):
    # scikit-learn and scipy.stats cost about a second at start-up: only a command that fits or
    # scores may import them (a fresh interpreter, so that other tests' imports do not count)
    import subprocess
    import sys

    import dmi.eligibility as el

    el.synthetic_firms(20, seed=3).to_csv(tmp_path / "firms.csv", index=False)
    code = (
        "import sys\n"
        "from dmi.cli.main import build_parser, main\n"
        "build_parser()\n"
        f"assert main(['eligibility', {str(tmp_path / 'firms.csv')!r}, '-o', "
        f"{str(tmp_path / 'out.csv')!r}, '-q']) == 0\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] == 'sklearn' or m == 'scipy.stats']\n"
        "print(sorted(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"

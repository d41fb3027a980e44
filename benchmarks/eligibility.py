"""The 梯度培育 ladder at national scale (issue 16): `dmi eligibility` beside `dmi score`.

Run: `.venv/bin/python benchmarks/eligibility.py [-n 1000000] [--repeat 3] [--survey FILE]`

It writes ``n`` synthetic firms once (:func:`dmi.eligibility.synthetic_firms`, seeded; cached as
CSV under ``benchmarks/data/``, which git ignores) and takes the survey file of
``benchmarks/bulk.py`` (``n`` synthetic answers, cached the same way) unless ``--survey`` names
one. Then, in the same run, alternately, ``--repeat`` times, each in a fresh process:

(a) ``dmi eligibility FIRMS -o OUT.csv -q`` (2026 rules, gaps in Chinese, 3 a firm);
(b) ``dmi score SURVEY -o OUT.csv -q`` (the official method, tiers);
(c) with ``--without-gaps``, also ``dmi eligibility FIRMS -o OUT.csv -q --max-gaps 0``: the same
    run without the gap texts (an agency that needs only the statuses), to show what the gaps
    cost.

For each it reports the wall time and the peak resident memory of the command's process (each
is started by a small Python process of its own, whose ``RUSAGE_CHILDREN`` is then that
command's alone), and the ratio a / b of each pair, with the median. Goal: eligibility no slower
than scoring (ratio <= 1), peak memory under 1 GiB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# as benchmarks/bulk.py: run as an installed program does, its bytecode cached
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "seconds = time.perf_counter() - start\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "print(f'{seconds} {peak}')\n"
)


def firms_file(n: int, seed: int) -> Path:
    """The cached file of ``n`` synthetic firms (written once)."""
    path = HERE / "data" / f"firms-{n}-seed{seed}.csv"
    if not path.exists():
        from dmi.eligibility import synthetic_firms

        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} ...", flush=True)
        synthetic_firms(n, seed).to_csv(path, index=False)
    return path


def measure(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MiB) of one command, in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv],
        check=True,
        capture_output=True,
        text=True,
        env=ENV,
    )
    seconds, peak = done.stdout.split()
    return float(seconds), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--survey", type=Path, help="a survey answers file for dmi score")
    parser.add_argument(
        "--without-gaps",
        action="store_true",
        help="also time dmi eligibility --max-gaps 0 (no gap texts), beside the others",
    )
    args = parser.parse_args()
    firms = firms_file(args.n, args.seed)
    if args.survey is None:
        from bulk import data_file  # benchmarks/bulk.py's cached survey answers

        survey = data_file(args.n, args.seed)
    else:
        survey = args.survey
    for path in (firms, survey):
        print(f"{path.name}: {path.stat().st_size / 2**20:.0f} MiB")
    print(f"{os.cpu_count()} CPUs")
    dmi = [sys.executable, "-m", "dmi"]
    with tempfile.TemporaryDirectory() as tmp:
        out_a, out_b = Path(tmp) / "eligibility.csv", Path(tmp) / "scores.csv"
        a_cmd = [*dmi, "eligibility", str(firms), "-o", str(out_a), "-q"]
        b_cmd = [*dmi, "score", str(survey), "-o", str(out_b), "-q"]
        subprocess.run(
            [sys.executable, "-c", "import dmi.__main__, dmi.bulk.eligibility, dmi.bulk.run"],
            check=True,
            env=ENV,
        )  # the bytecode cached, untimed
        c_cmd = [*a_cmd, "--max-gaps", "0"] if args.without_gaps else None
        ratios, ratios_c, peaks_a, peaks_b = [], [], [], []
        head = f"{'run':>4} {'eligibility s':>14} {'score s':>8} {'ratio':>6} {'peak MiB a/b':>14}"
        print(head + (f" {'no gaps s':>10} {'ratio':>6}" if c_cmd else ""))
        for i in range(args.repeat):
            started = time.perf_counter()
            a, peak_a = measure(a_cmd)
            b, peak_b = measure(b_cmd)
            ratios.append(a / b)
            peaks_a.append(peak_a)
            peaks_b.append(peak_b)
            line = f"{i + 1:>4} {a:14.2f} {b:8.2f} {a / b:6.2f} {peak_a:6.0f}/{peak_b:<6.0f}"
            if c_cmd is not None:
                c, _ = measure(c_cmd)
                ratios_c.append(c / b)
                line += f"  {c:10.2f} {c / b:6.2f}"
            print(f"{line}  ({time.perf_counter() - started:.0f} s)", flush=True)
        print(
            f"median ratio {statistics.median(ratios):.2f} (goal <= 1); peak RSS of dmi "
            f"eligibility {max(peaks_a):.0f} MiB (goal < 1024), of dmi score {max(peaks_b):.0f} MiB"
        )
        if ratios_c:
            print(
                "without the gap texts (--max-gaps 0): median ratio "
                f"{statistics.median(ratios_c):.2f}"
            )


if __name__ == "__main__":
    main()

"""Bulk import at national scale (issue #4): `dmi score` end to end against a hand-written pipeline.

Run: `.venv/bin/python benchmarks/bulk.py [-n 1000000] [--repeat 3]`

It generates ``n`` synthetic companies once (seeded; cached as CSV under ``benchmarks/data/``,
which git ignores), then measures in the same run, alternately, ``--repeat`` times:

(a) ``dmi score FILE -o OUT.csv`` in a subprocess: read, validate every cell, score, level, tier,
    write; peak RSS of the subprocess from ``getrusage(RUSAGE_CHILDREN)``;
(b) the fastest pipeline a data engineer would write for the same arithmetic without validation:
    a polars lazy scan that maps option codes to points, sums the weighted points per dimension
    and ``sink_csv`` s the result (needs the ``bench`` extra: polars).

The machine may be shared, so (a) and (b) alternate and the ratio of each pair is reported, with
the median. Goal: (a) within 2x of (b), peak memory of (a) under 1 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dmi
from dmi.instruments.synth import synthesise

HERE = Path(__file__).resolve().parent
INSTRUMENT = "miit-2024-manufacturing"


def data_file(n: int, seed: int) -> Path:
    """The cached synthetic file of ``n`` companies (generated once)."""
    path = HERE / "data" / f"bulk-{n}-seed{seed}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {path.name} ...", flush=True)
        synthesise(INSTRUMENT, n, seed).to_csv(path, index=False)
    return path


# Both pipelines run as an installed program does: with its modules' bytecode cached (an
# environment that says PYTHONDONTWRITEBYTECODE would make every run compile dmi, pandas and
# pyarrow's Python modules again, ~3 s here, which no installed copy pays).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def warm_up() -> None:
    """Cache the bytecode of what both runs import (untimed)."""
    subprocess.run(
        [sys.executable, "-c", "import dmi.__main__, dmi.cli, dmi.bulk.run, polars, pyarrow.csv"],
        check=True,
        env=ENV,
    )


def run_dmi(path: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of `dmi score` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "dmi", "score", str(path), "-o", str(out), "-q"],
        check=True,
        stdout=subprocess.DEVNULL,
        env=ENV,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss is the largest child so far; runs of (a) come first in a fresh interpreter
    return seconds, max(peak, before) / 1024


def polars_script(path: Path, out: Path) -> str:
    """The hand-written polars pipeline as source (run in its own process, like (a))."""
    instrument = dmi.load_instrument(INSTRUMENT)
    dims: dict[str, list[str]] = {}
    lines = [
        "import warnings",
        "warnings.filterwarnings('ignore', category=DeprecationWarning)  # polars renames cut",
        "import polars as pl",
        f"lf = pl.scan_csv({str(path)!r}, infer_schema=False)",
        "exprs = []",
    ]
    for path_ in instrument.item_paths:
        item = path_.item
        dim = path_.dimension.code
        weight = instrument.dimension_weight(path_.dimension)
        if weight <= 0:
            continue
        code = item.code
        # the item's points; blank answers count 0 (the shipped items are `lowest` or required)
        if item.type == "single":
            mapping = {o.value: float(o.points) for o in item.options}
            expr = (
                f"pl.col({code!r}).replace_strict({mapping!r}, default=0.0, "
                "return_dtype=pl.Float64)"
            )
        elif item.type == "multi":
            mapping = {o.value: float(o.points) for o in item.options}
            expr = (
                f"pl.col({code!r}).fill_null('').str.split(';').list.eval("
                f"pl.element().replace_strict({mapping!r}, default=0.0, return_dtype=pl.Float64)"
                f").list.sum().clip(0, {instrument.max_points(item)})"
            )
        elif item.type == "number" and item.bands:
            edges = [b.upper for b in item.bands[:-1]]
            points = [float(b.points) for b in item.bands]
            labels = [str(i) for i in range(len(points))]
            expr = (
                f"pl.col({code!r}).cast(pl.Float64).cut({edges!r}, labels={labels!r})"
                f".cast(pl.String).replace_strict({dict(zip(labels, points))!r}, default=0.0,"
                " return_dtype=pl.Float64)"
            )
        else:  # goalposts, scenario or yes/no: a linear share of the points
            top = instrument.max_points(item)
            expr = f"pl.col({code!r}).cast(pl.Float64).fill_null(0).clip(0, {top})"
        lines.append(f"exprs.append(({expr}).fill_null(0.0).alias({code!r}))")
        dims.setdefault(dim, []).append(code)
    maxima = {
        d.code: sum(instrument.max_points(i) for ind in d.indicators for i in ind.items)
        for d in instrument.dimensions
    }
    total = sum(maxima[d] for d in dims)
    lines.append("lf = lf.with_columns(exprs)")
    sums, points = [], []
    for dim, codes in dims.items():
        cols = " + ".join(f"pl.col({c!r})" for c in codes)
        sums.append(f"(({cols}) * {100.0 / maxima[dim]}).alias('dim_{dim}')")
        points.append(f"({cols})")
    lines += [
        f"lf = lf.with_columns([{', '.join(sums)}, (({' + '.join(points)}) * {100.0 / total})"
        ".alias('dmi')])",
        "lf.select(['respondent_id', 'dmi'] + "
        f"{[f'dim_{d}' for d in dims]!r}).sink_csv({str(out)!r})",
    ]
    return "\n".join(lines)


def run_polars(script: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", script], check=True, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = data_file(args.n, args.seed)
    size = path.stat().st_size / 2**20
    print(f"{path.name}: {args.n} rows, {size:.0f} MiB; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        out_a, out_b = Path(tmp) / "dmi.csv", Path(tmp) / "polars.csv"
        script = polars_script(path, out_b)
        warm_up()
        ratios = []
        peaks = []
        print(f"{'run':>4} {'dmi score s':>12} {'polars s':>9} {'ratio':>6} {'dmi peak MiB':>13}")
        for i in range(args.repeat):
            a, peak = run_dmi(path, out_a)
            b = run_polars(script)
            ratios.append(a / b)
            peaks.append(peak)
            print(f"{i + 1:>4} {a:12.1f} {b:9.1f} {a / b:6.2f} {peak:13.0f}", flush=True)
        print(
            f"median ratio {statistics.median(ratios):.2f} (goal <= 2); "
            f"peak RSS of dmi score {max(peaks):.0f} MiB (goal < 1024)"
        )


if __name__ == "__main__":
    main()

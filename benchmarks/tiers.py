"""Tier model throughput: fit on 200k rows, predict on 1M rows (issue #3).

Run: `.venv/bin/python benchmarks/tiers.py [--quick] [--methods kmeans gmm ward] [--bootstrap 20]`

The score tables are built directly with numpy (not by synthesising and scoring answers, which
would dominate the run): every company has a latent maturity, each ``dim_*`` score of the MIIT
instrument is that maturity plus its own noise (clipped to 0-100), ``dmi`` is the instrument's
weighted sum (foundation 50, management 30, performance 20, operations 0) and ``level`` comes from
the instrument's bands. Building the tables is not timed.

For each method it prints the fit time (stratified sample of at most 200k rows, plus the bootstrap
stability check) and the time and rows/s of ``predict_with_confidence`` on the large table, as wall
time and as this process's CPU time (on a busy machine wall time overstates the cost). ``--quick``
fits on 20k rows and predicts 100k.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import dmi
from dmi.tiers import TierModel, TierStabilityWarning

WEIGHTS = {"foundation": 0.5, "operations": 0.0, "management": 0.3, "performance": 0.2}


def score_table(n: int, seed: int, instrument: dmi.Instrument) -> pd.DataFrame:
    """A synthetic score table of ``n`` companies with the MIIT dimensions."""
    rng = np.random.default_rng(seed)
    maturity = rng.normal(50, 18, n)
    columns = {}
    for code in WEIGHTS:
        columns[f"dim_{code}"] = np.clip(maturity + rng.normal(0, 12, n), 0, 100).round(2)
    frame = pd.DataFrame(columns)
    frame.insert(0, "dmi", sum(w * frame[f"dim_{code}"] for code, w in WEIGHTS.items()))
    bounds = [band.min for band in instrument.levels.bands[1:]]
    frame.insert(1, "level", np.digitize(frame["dmi"], bounds))
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fit 20k rows, predict 100k")
    parser.add_argument("--methods", nargs="+", default=["kmeans", "gmm", "ward"])
    parser.add_argument("--bootstrap", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n_fit, n_predict = (20_000, 100_000) if args.quick else (200_000, 1_000_000)
    instrument = dmi.load_instrument("miit-2024-manufacturing")
    reference = score_table(n_fit, args.seed, instrument)
    population = score_table(n_predict, args.seed + 1, instrument)
    print(
        f"fit on {n_fit} rows, predict {n_predict} rows, {args.bootstrap} bootstrap refits",
        flush=True,
    )
    print(
        f"{'method':>7} {'fit rows':>9} {'fit s':>8} {'fit cpu':>8} {'predict s':>10} "
        f"{'pred cpu':>9} {'rows/s':>12} stable"
    )
    for method in args.methods:
        model = TierModel(4, method=method, random_state=args.seed, n_bootstrap=args.bootstrap)
        start, cpu = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TierStabilityWarning)
            model.fit(reference)
        fit_seconds, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        tiers, confidence = model.predict_with_confidence(population)
        seconds, predict_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert len(tiers) == n_predict and np.all((confidence >= 0) & (confidence <= 1))
        print(
            f"{method:>7} {model.report_.n_fit_rows:>9} {fit_seconds:8.1f} {fit_cpu:8.1f} "
            f"{seconds:10.2f} {predict_cpu:9.2f} {n_predict / seconds:12,.0f} {model.stable_}",
            flush=True,
        )


if __name__ == "__main__":
    main()

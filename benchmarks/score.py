"""In-memory scoring throughput: 10k / 100k / 1M synthetic rows (issue #2).

Run: `.venv/bin/python benchmarks/score.py [--sizes 10000 100000 1000000] [--method instrument]`

For each size it generates the answers once (seeded, not timed), then times
`IndexModel.score_batch` (validate every cell + score + level) and reports rows per second and the
peak memory of the scoring step (tracemalloc: Python-level allocations, numpy included). A second
method (`--compare entropy`) is timed in the same run so the two can be compared side by side.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc

import dmi
from dmi.synth import synthesise


def measure(model: dmi.IndexModel, answers) -> tuple[float, float]:
    gc.collect()
    tracemalloc.start()
    start = time.perf_counter()
    result = model.score_batch(answers)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.n_read == result.n_scored + result.n_rejected
    return seconds, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--compare", default="entropy", help="a second weighting to time")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    instrument = dmi.load_instrument("miit-2024-manufacturing")
    reference = synthesise(instrument, 3000, seed=20241)
    models = {
        "instrument": dmi.IndexModel(instrument).fit(),
        args.compare: dmi.IndexModel(instrument, weighting=args.compare).fit(reference),
    }
    print(f"{'rows':>9} {'method':>11} {'seconds':>8} {'rows/s':>10} {'peak MiB':>9}")
    for n in args.sizes:
        answers = synthesise(instrument, n, seed=args.seed)
        for name, model in models.items():
            seconds, peak = measure(model, answers)
            print(f"{n:>9} {name:>11} {seconds:8.2f} {n / seconds:10.0f} {peak:9.0f}", flush=True)
        del answers


if __name__ == "__main__":
    main()

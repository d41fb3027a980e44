"""In-memory scoring throughput: 10k / 100k / 1M synthetic rows (issue #2).

Run: `.venv/bin/python benchmarks/score.py [--sizes 10000 100000 1000000] [--compare entropy]`

Each (size, method) runs in a fresh child process: it generates the answers (seeded, not timed),
then times `IndexModel.score_batch` (validate every cell + score + level) and reports rows per
second and the peak resident memory the scoring step added on top of the generated input
(ru_maxrss minus the resident size just before scoring). The official method and a second,
data-driven one (`--compare`, fitted on 3,000 reference companies) run side by side.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def child(n: int, method: str, seed: int) -> None:
    import dmi
    from dmi.instruments.synth import synthesise

    instrument = dmi.load_instrument("miit-2024-manufacturing")
    if method == "instrument":
        model = dmi.IndexModel(instrument).fit()
    else:
        reference = synthesise(instrument, 3000, seed=20241)
        model = dmi.IndexModel(instrument, weighting=method).fit(reference)
    answers = synthesise(instrument, n, seed=seed)
    model.score_batch(answers.head(10))  # warm caches and lazy imports, not timed
    before = _resident_mib()
    start = time.perf_counter()
    result = model.score_batch(answers)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert result.n_read == result.n_scored + result.n_rejected == n
    print(json.dumps({"seconds": seconds, "peak_added_mib": max(peak - before, 0.0)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--compare", default="entropy", help="a second weighting to time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("N", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1], args.seed)
        return
    print(f"{'rows':>9} {'method':>11} {'seconds':>8} {'rows/s':>10} {'added MiB':>10}")
    for n in args.sizes:
        for method in ("instrument", args.compare):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(n), method, "--seed", str(args.seed)],
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            seconds = result["seconds"]
            print(
                f"{n:>9} {method:>11} {seconds:8.2f} {n / seconds:10.0f} "
                f"{result['peak_added_mib']:10.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""App benchmark: server time per submission, and time to the first rendered page.

Goals (issue #5): scoring a submission and building its results under 300 ms on the server;
the first page under 5 s.

(a) Per submission, on a warm server (the reference is loaded once per process, as the app caches
    it): ``Reference.assess`` (index, level and why, tier and why, peers, improvements found by
    re-scoring) and ``Store.submit`` (SQLite). The reports are built only when the company
    downloads them, and are timed separately.
(c) Streamlit's full garbage collection after every run of the script (it holds the
    interpreter's lock), in this process once it has loaded what the app loads: before and after
    the app's ``freeze_loaded_modules``.
(b) First page: a real ``streamlit run`` server and headless Chromium (when installed), from
    navigation to the survey page rendered with no script running; the server's cold start
    (imports, first reference build) is reported separately.

Run: ``.venv/bin/python benchmarks/app.py [--submissions 50]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return f"median {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"


def submissions(n: int) -> None:
    from dmi import load_instrument
    from dmi.io import read_answers
    from dmi.report import render_html, render_pdf
    from dmi.service.reference import shipped_reference, shipped_reference_population
    from dmi.service.store import Store

    instrument = load_instrument("miit-2024-manufacturing")
    t0 = time.perf_counter()
    reference = shipped_reference(instrument)
    print(f"reference build (once per server process): {time.perf_counter() - t0:.2f} s")
    population = read_answers(shipped_reference_population(instrument), instrument)
    rows = [
        {k: v for k, v in row.items() if isinstance(v, str) and v != ""}
        for row in population.head(n).to_dict("records")
    ]
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.sqlite")
        version = store.add_reference(reference)
        store.publish(version)
        server, server_cpu, htmls, pdfs = [], [], [], []
        for answers in rows:
            token = store.new_draft(instrument.id)
            start = time.perf_counter()
            cpu = time.process_time()
            result = reference.assess(answers)
            scores = dict(result.scores_row)
            if result.tier is not None:
                scores["tier"] = result.tier.tier
            store.submit(token, answers, version, scores)
            server.append(time.perf_counter() - start)
            server_cpu.append(time.process_time() - cpu)
            start = time.perf_counter()
            render_html(result, instrument=instrument, lang="zh", reference_version=version)
            htmls.append(time.perf_counter() - start)
            start = time.perf_counter()
            render_pdf(result, instrument=instrument, lang="zh", reference_version=version)
            pdfs.append(time.perf_counter() - start)
    print(f"(a) score a submission and build its results, {len(server)} companies:")
    print(f"    wall {_ms(server)}; CPU {_ms(server_cpu)} (CPU time is what a busy machine keeps)")
    print(f"    HTML report on download: {_ms(htmls)}")
    print(f"    PDF report on download: {_ms(pdfs)}")


def collection_after_a_run(repeat: int = 5) -> None:
    sys.path.insert(0, str(ROOT / "app"))
    import dmi_ui
    import plotly.graph_objects  # noqa: F401  (the results page's charts)

    import dmi.eligibility  # noqa: F401  (the ladder pages)

    def full_collections() -> list[float]:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            gc.collect()
            times.append(time.perf_counter() - start)
        return times

    objects = len(gc.get_objects())
    before = full_collections()
    dmi_ui.freeze_loaded_modules()
    after = full_collections()
    gc.unfreeze()
    print(f"(c) full collection after a run ({objects} objects alive), {repeat} times:")
    print(f"    as loaded: {_ms(before)}; after freeze_loaded_modules: {_ms(after)}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def first_page() -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("(b) skipped: playwright is not installed")
        return
    if not Path(chromium).exists():
        print("(b) skipped: chromium is not installed")
        return
    port = _free_port()
    folder = tempfile.mkdtemp()
    # the server runs as an installed app does, with its modules' bytecode cached (an
    # environment that says PYTHONDONTWRITEBYTECODE would compile streamlit and pandas anew
    # on every start); the cache is written once, untimed
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["DMI_DATABASE_URL"] = f"sqlite:///{folder}/app.sqlite"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import streamlit, plotly, dmi.service.reference, dmi.service.store",
        ],
        check=True,
        env=env,
    )
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app/streamlit_app.py",
         "--server.headless", "true", "--server.port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://localhost:{port}"
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.2)
        print(f"    server start (imports): {time.perf_counter() - start:.1f} s")
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium,
                headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu",
                      "--disable-background-networking"],
            )  # fmt: skip
            for label in ("cold (first visitor: builds the reference)", "warm"):
                page = browser.new_page()
                start = time.perf_counter()
                page.goto(f"{url}/?lang=zh", wait_until="commit", timeout=300_000)
                page.wait_for_selector(".st-key-start", timeout=300_000)
                page.wait_for_selector("[data-test-script-state='notRunning']", timeout=300_000)
                print(f"(b) first page, {label}: {time.perf_counter() - start:.2f} s")
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=50)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    submissions(args.submissions)
    collection_after_a_run()
    if not args.no_browser:
        first_page()


if __name__ == "__main__":
    main()

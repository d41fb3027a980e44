"""The app's server, the browser and a fresh visitor for each browser test (see drive.py)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import dmi
from dmi.service.auth import secrets_entry

from .drive import ACCOUNTS, BIN, CHROMIUM, MIIT, MISSING_BROWSER, ROOT, new_visitor

if MISSING_BROWSER is None:
    from playwright.sync_api import Browser, Page, sync_playwright


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the browser tests where there is no browser; in CI (``DMI_REQUIRE_BROWSER=1``) that
    is a failure instead."""
    if MISSING_BROWSER is None:
        return
    if os.environ.get("DMI_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(
            f"end-to-end tests required (DMI_REQUIRE_BROWSER=1): {MISSING_BROWSER}"
        )
    skip = pytest.mark.skip(reason=f"end-to-end tests skipped: {MISSING_BROWSER}")
    for item in items:
        if item.nodeid.startswith("tests/e2e/"):
            item.add_marker(skip)


# -- the server ---------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the server process: end it when pytest ends, even when pytest is killed (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
            return answer.read().strip() == b"ok"
    except OSError:
        return False


def _start(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )


@contextlib.contextmanager
def app_server(work: Path, database: str) -> Iterator[str]:
    """``streamlit run`` on a free port with the accounts of ``drive.ACCOUNTS`` (secrets in
    ``work``) and the database ``database``; yields the URL, and stops the server after.

    Each xdist worker starts its own servers (``work`` is in the worker's own temporary folder);
    a port taken by another process between the choice and the server's start is chosen again.
    """
    secrets = work / "secrets.toml"
    secrets.write_text(
        "".join(secrets_entry(name, pw, roles) for name, (pw, roles) in ACCOUNTS.items()),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DMI_DATABASE_URL": database,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    command = [str(BIN / "streamlit"), "run", "app/streamlit_app.py", "--server.headless", "true"]
    # the tests change no source file while the server runs: nothing to watch
    command += ["--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    command += ["--secrets.files", str(secrets)]
    log_path = work / "server.log"
    for attempt in range(3):
        port = _free_port()
        process = _start(command + ["--server.port", str(port)], env, log_path)
        url = f"http://localhost:{port}"
        deadline = time.monotonic() + 120
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        else:
            break
        log = log_path.read_text(errors="replace")
        taken = "is not available" in log or "already in use" in log
        if process.poll() is None or not taken or attempt == 2:
            process.kill()
            process.wait()
            pytest.fail("the app did not start:\n" + log)
    try:
        yield url
    finally:
        # nothing of the server's is kept (its database is a temporary file): no need to wait
        # for its orderly shutdown, which takes seconds on a loaded machine
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def server_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite file of the shared app server (``server``), in this worker's own folder."""
    return tmp_path_factory.mktemp("e2e-server") / "app.sqlite"


@pytest.fixture(scope="session")
def server(server_database: Path) -> Iterator[str]:
    """The app on its own database and accounts, for every journey; yields the URL."""
    with app_server(server_database.parent, f"sqlite:///{server_database}") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--no-first-run",
                "--metrics-recording-only",
                "--disable-extensions",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    """A fresh visitor (own cookies, own Streamlit session)."""
    tab = new_visitor(browser, server)
    yield tab
    tab.context.close()


@pytest.fixture(scope="session")
def miit() -> dmi.Instrument:
    return dmi.load_instrument(MIIT)

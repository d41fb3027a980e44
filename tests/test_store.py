"""The store: hashed tokens, drafts, submissions T0/T1, references, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dmi.service.store import Store, hash_token, new_token


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'dmi.sqlite'}", retention_days=30)


def test_tokens_are_random_and_only_their_hash_is_stored(store, tmp_path):
    token = store.new_draft("miit-2024-manufacturing", "zh")
    assert len(token) >= 24 and token != new_token()
    store.save_draft(token, {"sector": "C34", "network": ["A", "B"]}, page=1)
    raw = (tmp_path / "dmi.sqlite").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("dmi.sqlite-*")
    )
    assert token.encode() not in raw
    assert hash_token(token).encode() in raw
    assert hash_token(token) == __import__("hashlib").sha256(token.encode()).hexdigest()


def test_a_draft_comes_back_by_its_token_only(store):
    token = store.new_draft("miit-2024-manufacturing", "en")
    store.save_draft(token, {"sector": "C34", "investment": "C", "employees": 120}, page=2)
    draft = store.draft(token)
    assert draft.answers == {"sector": "C34", "investment": "C", "employees": 120}
    assert (draft.page, draft.lang, draft.instrument_id) == (2, "en", "miit-2024-manufacturing")
    assert store.draft(token + "x") is None
    assert store.draft(new_token()) is None
    with pytest.raises(KeyError, match="unknown resume token"):
        store.save_draft(new_token(), {}, page=0)


def test_submissions_keep_t0_and_t1_with_exact_scores(store):
    token = store.new_draft("miit-2024-manufacturing")
    other = store.new_draft("miit-2024-manufacturing")
    ref = "miit-2024-manufacturing@000000000000"
    _publish_dummy(store, ref)
    first = store.submit(token, {"a": 1}, ref, {"dmi": 40.675, "level": 2, "tier": None})
    second = store.submit(token, {"a": 2}, ref, {"dmi": 1 / 3, "level": 0, "tier": 1})
    store.submit(other, {"a": 3}, ref, {"dmi": 50.0, "level": 2})
    history = store.submissions(token)
    assert [s.id for s in history] == [first.id, second.id]
    assert history[0].dmi == 40.675 and history[1].scores["dmi"] == 1 / 3  # full precision
    assert history[1].tier == 1 and history[0].tier is None
    latest = store.latest_answers("miit-2024-manufacturing")
    assert sorted(latest["a"]) == [2, 3]  # one row per token, its latest
    assert not latest["respondent_id"].str.contains(token).any()
    assert store.count_submissions("miit-2024-manufacturing") == 3


def test_expired_rows_are_purged(store):
    token = store.new_draft("miit-2024-manufacturing")
    ref = "miit-2024-manufacturing@000000000000"
    _publish_dummy(store, ref)
    store.submit(token, {}, ref, {"dmi": 1.0, "level": 0})
    soon = store.draft(token).expires_at - timedelta(seconds=1)
    assert store.purge_expired(soon) == (0, 0)
    later = store.draft(token).expires_at + timedelta(days=1)
    assert store.purge_expired(later) == (1, 1)
    assert store.draft(token) is None and store.submissions(token) == []


def _publish_dummy(store, version):
    from sqlalchemy import insert

    from dmi.service.store import _now, references

    with store.engine.begin() as conn:
        conn.execute(
            insert(references).values(
                version=version,
                instrument_id="miit-2024-manufacturing",
                created_at=_now(),
                is_current=False,
                source="test",
                n_companies=0,
                created_by="",
                document="{}",
            )
        )
    store.publish(version)
    assert store.current_reference("miit-2024-manufacturing").version == version


def test_retention_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="retention_days must be at least 1, got 0"):
        Store(f"sqlite:///{tmp_path / 'x.sqlite'}", retention_days=0)


# Run in a fresh Python of its own: it imports dmi.service.store once, then forks the twenty
# children while it has no other thread (a fork of the test process, which has threads, could
# deadlock, and a forkserver another test started would not have dmi.service.store imported). A
# barrier releases them together; each reports what opening the new database gave.
_TWENTY_AT_ONCE = """
import multiprocessing, sys
from dmi.service.store import Store

def open_store(url, barrier, results):
    barrier.wait()
    try:
        Store(url)
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")
    else:
        results.put("ok")

if __name__ == "__main__":
    url, n = sys.argv[1], int(sys.argv[2])
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(n), context.Queue()
    children = [
        context.Process(target=open_store, args=(url, barrier, results)) for _ in range(n)
    ]
    for child in children:
        child.start()
    # one report from each (a child that died sends none: the wait ends with an error)
    outcomes = [results.get(timeout=600) for _ in children]
    for child in children:
        child.join()
    print(repr(outcomes), [child.exitcode for child in children])
"""


def test_a_new_database_another_process_is_creating_is_waited_for(tmp_path):
    # the flake behind the test below (1 of 20 processes, by chance): switching a new file to
    # WAL while another connection holds its write lock fails at once, without SQLite's busy
    # wait ("database is locked" in 0 s), and the creation's passes were spent in a blink
    import sqlite3
    import threading

    path = tmp_path / "new.sqlite"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE elsewhere (x)")  # a rollback journal, the write lock held
    threading.Timer(0.5, other.execute, ("COMMIT",)).start()
    store = Store(f"sqlite:///{path}")
    assert store.draft(store.new_draft("miit-2024-manufacturing")) is not None
    other.close()


def test_twenty_processes_create_one_new_database_at_once(tmp_path):
    import subprocess
    import sys

    n = 20
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    done = subprocess.run(
        [sys.executable, "-c", _TWENTY_AT_ONCE, url, str(n)],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    assert done.stdout.strip() == f"{['ok'] * n!r} {[0] * n!r}", done.stdout + done.stderr
    store = Store(url)
    token = store.new_draft("miit-2024-manufacturing")
    assert store.draft(token) is not None

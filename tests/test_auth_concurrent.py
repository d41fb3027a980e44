"""Edits of the secrets file at the same time (two admins, the app and ``dmi app ...``): each
takes effect, or is refused with :class:`dmi.errors.SecretsChanged`; no change is ever lost."""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
import tomllib

import pytest

from dmi.errors import SecretsChanged, UsageError
from dmi.service import auth
from dmi.service.auth import SecretsFile, accounts_from_secrets, hash_password, verify_password

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the lock is a POSIX flock")


@pytest.fixture
def secrets_file(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text(
        "# kept\n"
        f'[dmi.users.alice]\npassword_hash = "{hash_password("alice-password")}"\n'
        'roles = ["agency"]\n\n'
        f'[dmi.users.boss]\npassword_hash = "{hash_password("boss-password")}"\n'
        'roles = ["admin"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def slow_hash(monkeypatch):
    """Each new hash takes a while longer: the time between an edit's read and its write, in
    which an edit without the lock would overwrite another's."""
    real = auth.hash_password

    def slow(password, **kwargs):
        time.sleep(0.05)
        return real(password, **kwargs)

    monkeypatch.setattr(auth, "hash_password", slow)


def _accounts(path):
    return accounts_from_secrets(tomllib.loads(path.read_text(encoding="utf-8")))


def _together(*jobs):
    """Run the jobs in threads started at the same moment; each one's exception or None."""
    start = threading.Barrier(len(jobs))
    outcome: list[BaseException | None] = [None] * len(jobs)

    def run(i, job):
        start.wait()
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 (reported to the test)
            outcome[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome


def test_accounts_added_at_the_same_time_are_all_kept(secrets_file, slow_hash):
    names = [f"user{i}" for i in range(6)]
    jobs = [
        lambda n=n: SecretsFile(secrets_file, min_length=1).add(n, f"{n}-password", ["agency"])
        for n in names
    ]
    assert _together(*jobs) == [None] * len(jobs)
    accounts = _accounts(secrets_file)
    assert set(accounts) == {"alice", "boss", *names}
    assert all(verify_password(f"{n}-password", accounts[n][0]) for n in names)
    assert secrets_file.read_text(encoding="utf-8").startswith("# kept\n")
    assert list(secrets_file.parent.iterdir()) == [secrets_file]  # no lock or partial file


def test_two_admins_editing_other_accounts_at_once_both_take_effect(secrets_file, slow_hash):
    # both read the file first (as the app's page does), then save at the same moment
    first, second = SecretsFile(secrets_file), SecretsFile(secrets_file)
    first.accounts()
    second.accounts()
    assert _together(
        lambda: first.reset_password("alice", "alice-new-password"),
        lambda: second.reset_password("boss", "boss-new-password"),
    ) == [None, None]
    accounts = _accounts(secrets_file)
    assert verify_password("alice-new-password", accounts["alice"][0])
    assert verify_password("boss-new-password", accounts["boss"][0])


def test_the_second_edit_of_one_account_is_refused_not_lost(secrets_file, slow_hash):
    first, second = SecretsFile(secrets_file), SecretsFile(secrets_file)
    first.account("alice")
    second.account("alice")
    outcome = _together(
        lambda: first.reset_password("alice", "first-password"),
        lambda: second.reset_password("alice", "second-password"),
    )
    # exactly one was written; the other was told so, and the file has the one written
    (refused,) = [exc for exc in outcome if exc is not None]
    assert isinstance(refused, SecretsChanged) and isinstance(refused, UsageError)
    assert refused.name == "alice" and refused.path == secrets_file
    assert "'alice' was changed by someone else since it was read" in str(refused)
    won = "second-password" if outcome[0] is not None else "first-password"
    lost = {"first-password", "second-password"} - {won}
    hash_now = _accounts(secrets_file)["alice"][0]
    assert verify_password(won, hash_now) and not verify_password(lost.pop(), hash_now)


def test_a_change_since_the_read_refuses_only_edits_of_that_account(secrets_file):
    page = SecretsFile(secrets_file, min_length=1)
    page.accounts()
    SecretsFile(secrets_file).reset_password("alice", "changed-elsewhere")  # someone else
    before = secrets_file.read_bytes()
    with pytest.raises(SecretsChanged):
        page.reset_password("alice", "mine")
    with pytest.raises(SecretsChanged):
        page.remove("alice")
    assert secrets_file.read_bytes() == before
    # another account is edited on the file as it is now: the other change is kept
    page.reset_password("boss", "boss-new-password")
    accounts = _accounts(secrets_file)
    assert verify_password("changed-elsewhere", accounts["alice"][0])
    assert verify_password("boss-new-password", accounts["boss"][0])
    # its own edits are not someone else's: the next edit of boss goes through
    page.reset_password("boss", "boss-third-password")
    # an account added elsewhere under a name read as free, and one removed elsewhere
    SecretsFile(secrets_file, min_length=1).add("carol", "carol-password", ["agency"])
    with pytest.raises(SecretsChanged):
        page.add("carol", "page-carol", ["admin"])
    fresh = SecretsFile(secrets_file)
    fresh.accounts()
    SecretsFile(secrets_file, min_length=1).add("dave", "dave-password", ["admin"])
    SecretsFile(secrets_file).remove("alice")
    with pytest.raises(SecretsChanged):
        fresh.reset_password("alice", "too-late-password")
    assert set(_accounts(secrets_file)) == {"boss", "carol", "dave"}


def test_two_admins_cannot_remove_each_other_at_once(secrets_file, slow_hash):
    SecretsFile(secrets_file, min_length=1).add("root", "root-password", ["admin"])
    outcome = _together(
        lambda: SecretsFile(secrets_file).remove("boss"),
        lambda: SecretsFile(secrets_file).remove("root"),
    )
    # the lock makes the second see the first's removal: it would remove the last admin
    (refused,) = [exc for exc in outcome if exc is not None]
    assert "is the last admin account" in str(refused)
    admins = [n for n, (_, a) in _accounts(secrets_file).items() if "admin" in a.roles]
    assert len(admins) == 1


def _add_in_process(path, names, start):
    start.wait()
    for name in names:
        SecretsFile(path, min_length=1).add(name, f"{name}-password", ["researcher"])


def test_processes_adding_accounts_at_once_lose_none(secrets_file):
    fork = multiprocessing.get_context("fork")  # a copy of this process: nothing to import
    start = fork.Barrier(3)
    groups = [[f"p{p}u{i}" for i in range(3)] for p in range(3)]
    workers = [
        fork.Process(target=_add_in_process, args=(secrets_file, names, start)) for names in groups
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert set(_accounts(secrets_file)) == {"alice", "boss", *sum(groups, [])}

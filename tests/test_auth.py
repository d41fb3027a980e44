"""Accounts: scrypt hashes checked against hashlib directly, roles, the secrets file; failed
sign-ins throttled per account name and per client, counted in the store, on a set clock."""

from __future__ import annotations

import base64
import hashlib
import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from dmi.service.auth import (
    Account,
    SignInGuard,
    Throttle,
    accounts_from_secrets,
    authenticate,
    client_address,
    hash_password,
    secrets_entry,
    verify_password,
    write_secrets,
)
from dmi.service.store import Store


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_hash_is_scrypt_of_the_password_with_its_salt():
    stored = hash_password("correct horse", salt=b"s" * 16)
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    expected = hashlib.scrypt(b"correct horse", salt=b"s" * 16, n=16384, r=8, p=1, dklen=32)
    assert _unb64(salt) == b"s" * 16
    assert _unb64(digest) == expected


def test_verify_accepts_the_password_and_refuses_others():
    stored = hash_password("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horse ", stored)
    assert not verify_password("", stored)
    assert not verify_password("correct horse", stored.replace("scrypt", "md5"))
    assert not verify_password("correct horse", "garbage")
    # two hashes of one password differ (random salt)
    assert hash_password("correct horse") != stored
    with pytest.raises(ValueError, match="empty"):
        hash_password("")


def test_accounts_roles_and_authentication():
    text = secrets_entry("alice", "pw-1", ["agency"]) + secrets_entry("root", "pw-2", ["admin"])
    conf = tomllib.loads(text)
    accounts = accounts_from_secrets(conf)
    assert set(accounts) == {"alice", "root"}
    alice = authenticate(conf, "alice", "pw-1")
    assert alice == Account("alice", frozenset({"agency"}))
    assert alice.may("agency") and not alice.may("admin") and not alice.may("researcher")
    root = authenticate(conf, "root", "pw-2")
    assert root.may("agency") and root.may("researcher") and root.may("admin")
    assert authenticate(conf, "alice", "pw-2") is None
    assert authenticate(conf, "mallory", "pw-1") is None
    assert authenticate({}, "alice", "pw-1") is None


def test_bad_entries_are_named():
    with pytest.raises(ValueError, match="'bob' in the secrets has no password_hash"):
        accounts_from_secrets({"dmi": {"users": {"bob": {"roles": ["agency"]}}}})
    with pytest.raises(ValueError, match="'bob' has unknown roles boss"):
        accounts_from_secrets(
            {"dmi": {"users": {"bob": {"password_hash": "x", "roles": ["boss"]}}}}
        )
    with pytest.raises(ValueError, match="account name"):
        secrets_entry("bad name", "pw", ["agency"])


def test_write_secrets_creates_once_and_keeps_only_the_hash(tmp_path):
    path = tmp_path / ".streamlit" / "secrets.toml"
    password = write_secrets(path)
    assert password and len(password) >= 16
    text = path.read_text(encoding="utf-8")
    assert password not in text
    assert authenticate(tomllib.loads(text), "admin", password).may("admin")
    assert path.stat().st_mode & 0o077 == 0
    assert write_secrets(path) is None  # never overwritten
    assert path.read_text(encoding="utf-8") == text


# -- throttling failed sign-ins -----------------------------------------------------------------
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def conf():
    return tomllib.loads(
        secrets_entry("alice", "right-pw", ["agency"]) + secrets_entry("bob", "bob-pw", ["admin"])
    )


@pytest.fixture
def db(tmp_path):
    return Store(f"sqlite:///{tmp_path / 'auth.sqlite'}")


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        # failures -> seconds to wait right after the last one (worked by hand from the rule:
        # nothing before backoff_after, then delay doubling, lock_for from lock_after on)
        (Throttle(), {0: 0, 1: 0, 2: 0, 3: 1, 4: 2, 5: 4, 8: 32, 9: 64, 10: 900, 25: 900}),
        (
            Throttle(
                backoff_after=2,
                delay=timedelta(seconds=5),
                lock_after=4,
                lock_for=timedelta(seconds=60),
            ),
            {1: 0, 2: 5, 3: 10, 4: 60, 7: 60},
        ),
        # the back-off never waits longer than a lock
        (Throttle(backoff_after=1, lock_after=20, lock_for=timedelta(seconds=8)), {4: 8, 12: 8}),
    ],
)
def test_throttle_waits_by_the_number_of_failures(policy, expected):
    for failures, seconds in expected.items():
        assert policy.wait(failures, T0, T0) == timedelta(seconds=seconds), failures
        # the wait counts from the last failure
        later = T0 + timedelta(seconds=seconds / 2)
        assert policy.wait(failures, T0, later) == timedelta(seconds=seconds / 2), failures
        assert policy.wait(failures, T0, T0 + timedelta(seconds=seconds)) == timedelta(0)
    # failures are forgotten forget_after the last one
    assert policy.wait(25, T0, T0 + policy.forget_after) == timedelta(0)
    assert policy.wait(25, None, T0) == timedelta(0)


def test_throttle_refuses_a_policy_that_cannot_hold():
    with pytest.raises(ValueError, match="backoff_after <= lock_after, got 5 and 4"):
        Throttle(backoff_after=5, lock_after=4)
    with pytest.raises(ValueError, match="positive"):
        Throttle(lock_for=timedelta(0))


def test_twenty_five_wrong_passwords_in_a_row_are_slowed_then_locked(conf, db):
    clock = Clock()
    guard = SignInGuard(db, clock=clock)
    # typed as fast as possible: three are checked, then every attempt is told to wait and
    # is not checked, not even the right password
    outcomes = [guard.sign_in(conf, "alice", f"guess-{i}", "203.0.113.9") for i in range(25)]
    assert [o.retry_after for o in outcomes] == [0, 0, 0] + [1] * 22
    assert all(o.account is None for o in outcomes)
    assert db.failures("account:alice")[0] == 3
    assert guard.sign_in(conf, "alice", "right-pw", "203.0.113.9").retry_after == 1

    # an attacker who waits each time as told: 1, 2, 4 ... 64 s, then a lock of 15 minutes
    waits = []
    for i in range(7):
        clock.advance(guard.sign_in(conf, "alice", "x", "203.0.113.9").retry_after)
        assert guard.sign_in(conf, "alice", f"again-{i}", "203.0.113.9").account is None
        waits.append(guard.sign_in(conf, "alice", "x", "203.0.113.9").retry_after)
    assert waits == [2, 4, 8, 16, 32, 64, 900]
    assert db.failures("account:alice")[0] == 10
    clock.advance(899)
    assert guard.sign_in(conf, "alice", "right-pw", "203.0.113.9") == guard.sign_in(
        conf, "alice", "right-pw", "203.0.113.9"
    )
    assert guard.sign_in(conf, "alice", "right-pw", "203.0.113.9").retry_after == 1
    clock.advance(1)
    # the lock is over: the right password signs in and the name's count starts again
    assert guard.sign_in(conf, "alice", "right-pw", "203.0.113.9").account.name == "alice"
    assert db.failures("account:alice") == (0, None)
    assert guard.sign_in(conf, "alice", "wrong", "203.0.113.9").retry_after == 0


def test_a_failure_after_a_lock_locks_again(conf, db):
    clock = Clock()
    guard = SignInGuard(db, clock=clock)
    for _ in range(10):
        clock.advance(3600)  # slow enough for the back-off, not for the daily count
        assert guard.sign_in(conf, "alice", "wrong", "198.51.100.1").retry_after == 0
    assert guard.sign_in(conf, "alice", "right-pw", "198.51.100.2").retry_after == 900
    clock.advance(900)
    assert guard.sign_in(conf, "alice", "wrong", "198.51.100.3").retry_after == 0
    assert guard.sign_in(conf, "alice", "right-pw", "198.51.100.4").retry_after == 900
    # a day after the last failure they are forgotten
    clock.advance(24 * 3600)
    assert guard.sign_in(conf, "alice", "right-pw", "198.51.100.5").account is not None


def test_unknown_names_are_answered_as_accounts_are(conf, db):
    clock = Clock()
    guard = SignInGuard(db, clock=clock)

    def attempts(name: str, client: str) -> list[tuple[bool, int]]:
        out = []
        for _ in range(12):
            outcome = guard.sign_in(conf, name, "wrong", client)
            out.append((outcome.account is None, outcome.retry_after))
            clock.advance(outcome.retry_after or 0.5)
        return out

    start = clock.now
    known = attempts("alice", "192.0.2.1")
    clock.now = start
    assert attempts("mallory", "192.0.2.2") == known


def test_one_client_trying_many_names_is_throttled_and_others_are_not(conf, db):
    clock = Clock()
    guard = SignInGuard(db, clock=clock)
    for i in range(10):
        assert guard.sign_in(conf, f"name{i}", "pw", "203.0.113.7").retry_after == 0
    # each name failed once only, but the client ten times: it waits, even for a real account
    assert guard.sign_in(conf, "bob", "bob-pw", "203.0.113.7").retry_after == 1
    assert guard.sign_in(conf, "bob", "bob-pw", "203.0.113.8").account.name == "bob"
    # a success does not clear the client's count; an hour after its last failure it is gone
    clock.advance(3600)
    assert guard.sign_in(conf, "bob", "bob-pw", "203.0.113.7").account.name == "bob"


def test_failures_are_counted_in_the_store_across_processes(conf, tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    clock = Clock()
    for _ in range(3):  # each attempt from another server process (its own Store)
        assert (
            SignInGuard(Store(url), clock=clock).sign_in(conf, "alice", "no", "::1").account is None
        )
    again = SignInGuard(Store(url), clock=clock).sign_in(conf, "alice", "right-pw", "::1")
    assert again == again.__class__(None, 1)
    # only hashes of the names and addresses are stored
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("shared.sqlite*"))
    assert b"alice" not in raw and hashlib.sha256(b"account:alice").hexdigest().encode() in raw


def test_failures_are_forgotten_after_the_retention_period(tmp_path):
    db = Store(f"sqlite:///{tmp_path / 'r.sqlite'}", retention_days=30)
    db.record_failure("account:old", T0, T0 - timedelta(days=1))
    db.record_failure("account:new", T0 + timedelta(days=20), T0)
    db.purge_expired(T0 + timedelta(days=31))
    assert db.failures("account:old") == (0, None)
    assert db.failures("account:new")[0] == 1


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.5", [], 0, "203.0.113.5"),
        # the header is anyone's to send: ignored unless proxies are trusted
        ("203.0.113.5", ["198.51.100.1"], 0, "203.0.113.5"),
        (None, ["198.51.100.1"], 0, "local"),
        # one trusted proxy: the address it saw is the last one it appended
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], 1, "198.51.100.1"),
        (None, ["6.6.6.6", "198.51.100.1"], 1, "198.51.100.1"),
        # two trusted proxies: the outer one appended the client, the inner one the outer one
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1, 10.0.0.1"], 2, "198.51.100.1"),
        # fewer hops than trusted proxies: the first one given
        ("10.0.0.2", [], 1, "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.1"], 3, "198.51.100.1"),
        # one IPv6 subscriber is a /64; an IPv4 address in IPv6 form is the IPv4 address
        ("2001:db8:1:2:aaaa::1", [], 0, "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", [], 0, "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.4", [], 0, "192.0.2.4"),
        ("10.0.0.2", ["not-an-address"], 1, "not-an-address"),
    ],
)
def test_client_address(remote, forwarded, trusted, expected):
    assert client_address(remote, forwarded, trusted) == expected


def test_client_address_refuses_a_negative_count():
    with pytest.raises(ValueError, match="trusted_proxies must be 0 or more, got -1"):
        client_address("192.0.2.1", [], -1)

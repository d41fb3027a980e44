"""Accounts: scrypt hashes checked against hashlib directly, roles, the secrets file; failed
sign-ins throttled per account name and per client, counted in the store, on a set clock."""

from __future__ import annotations

import base64
import hashlib
import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from dmi.errors import FileFormatError, PasswordTooShort, UsageError
from dmi.service.auth import (
    Account,
    SecretsFile,
    SignInGuard,
    Throttle,
    accounts_from_secrets,
    authenticate,
    check_new_password,
    client_address,
    hash_password,
    min_password_length,
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


# -- new passwords and the secrets file --------------------------------------------------------
@pytest.mark.parametrize(
    ("setting", "expected"), [(None, 10), ("", 10), ("12", 12), ("1", 1), (" 8 ", 8)]
)
def test_the_minimum_password_length_is_a_setting_of_default_10(setting, expected):
    environ = {} if setting is None else {"DMI_PASSWORD_MIN_LENGTH": setting}
    assert min_password_length(environ) == expected


@pytest.mark.parametrize("setting", ["0", "-3", "ten", "2.5"])
def test_a_minimum_length_that_is_not_a_whole_number_of_1_or_more_is_refused(setting):
    with pytest.raises(UsageError, match=f"DMI_PASSWORD_MIN_LENGTH='{setting}'"):
        min_password_length({"DMI_PASSWORD_MIN_LENGTH": setting})


@pytest.mark.parametrize("minimum", [1, 4, 10, 17])
def test_a_new_password_needs_the_minimum_number_of_characters(minimum):
    # characters, not bytes: a Chinese password of `minimum` characters is long enough
    check_new_password("密" * minimum, minimum)
    check_new_password("x" * (minimum + 3), minimum)
    for short in range(minimum):
        with pytest.raises(PasswordTooShort) as caught:
            check_new_password("密" * short, minimum)
        assert (caught.value.length, caught.value.min_length) == (short, minimum)


def test_the_password_1_is_refused_by_default_with_a_clear_message(monkeypatch):
    monkeypatch.delenv("DMI_PASSWORD_MIN_LENGTH", raising=False)
    with pytest.raises(
        PasswordTooShort, match="^the password has 1 character; a password needs at least 10$"
    ):
        check_new_password("1")
    monkeypatch.setenv("DMI_PASSWORD_MIN_LENGTH", "3")
    check_new_password("123")


SECRETS = """# our accounts (comment kept)
[auth]
redirect_uri = "https://dmi.example.org/oauth2callback"

[dmi.users.alice]
password_hash = "{alice}"
roles = ["agency"]

[dmi.users."boss@example.org"]
# the first admin
password_hash = "{boss}"
roles = ["admin"]

[dmi.sso_roles]
"carol@example.org" = ["researcher"]
"""


@pytest.fixture
def secrets_file(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text(
        SECRETS.format(alice=hash_password("alice-password"), boss=hash_password("boss-password")),
        encoding="utf-8",
    )
    return path


def _others(text: str) -> dict:
    """Everything of a secrets file but its accounts."""
    data = tomllib.loads(text)
    data["dmi"].pop("users")
    return data


def test_add_remove_and_reset_touch_only_the_one_account(secrets_file):
    original = secrets_file.read_text(encoding="utf-8")
    hashes = {n: h for n, (h, _) in accounts_from_secrets(tomllib.loads(original)).items()}
    secrets = SecretsFile(secrets_file, min_length=10)

    secrets.add("dave", "dave-password", ["researcher", "admin"])
    text = secrets_file.read_text(encoding="utf-8")
    assert text.startswith(original)  # appended, nothing else changed
    accounts = accounts_from_secrets(tomllib.loads(text))
    assert accounts["dave"][1] == Account("dave", frozenset({"researcher", "admin"}))
    assert verify_password("dave-password", accounts["dave"][0])
    assert "dave-password" not in text
    assert secrets_file.stat().st_mode & 0o777 == 0o600

    secrets.reset_password("boss@example.org", "a-new-boss-password")
    after = tomllib.loads(secrets_file.read_text(encoding="utf-8"))
    accounts = accounts_from_secrets(after)
    assert verify_password("a-new-boss-password", accounts["boss@example.org"][0])
    assert not verify_password("boss-password", accounts["boss@example.org"][0])
    assert accounts["boss@example.org"][1].roles == frozenset({"admin"})
    assert accounts["alice"][0] == hashes["alice"]
    assert "# the first admin" in secrets_file.read_text(encoding="utf-8")

    secrets.remove("alice")
    text = secrets_file.read_text(encoding="utf-8")
    assert set(accounts_from_secrets(tomllib.loads(text))) == {"boss@example.org", "dave"}
    assert _others(text) == _others(original)
    assert text.startswith("# our accounts (comment kept)")
    assert secrets_file.stat().st_mode & 0o777 == 0o600


def test_the_last_admin_cannot_be_removed(secrets_file):
    secrets = SecretsFile(secrets_file)
    before = secrets_file.read_bytes()
    with pytest.raises(UsageError, match="'boss@example.org' is the last admin account"):
        secrets.remove("boss@example.org")
    assert secrets_file.read_bytes() == before
    # with a second admin, the first may go; the second is then the last
    secrets.add("root", "root-password", ["admin"])
    secrets.remove("boss@example.org")
    with pytest.raises(UsageError, match="'root' is the last admin account"):
        secrets.remove("root")
    secrets.remove("alice")  # not an admin: always removable
    assert set(secrets.accounts()) == {"root"}


def test_refused_edits_leave_the_file_as_it_was(secrets_file):
    secrets = SecretsFile(secrets_file, min_length=10)
    before = secrets_file.read_bytes()
    with pytest.raises(PasswordTooShort, match="1 character; a password needs at least 10"):
        secrets.reset_password("alice", "1")
    with pytest.raises(PasswordTooShort):
        secrets.add("erin", "123456789", ["agency"])
    with pytest.raises(UsageError, match="already has an account 'alice'"):
        secrets.add("alice", "long-enough-pw", ["agency"])
    with pytest.raises(UsageError, match=r"no account 'zed' \(accounts: alice, boss@example.org\)"):
        secrets.remove("zed")
    with pytest.raises(UsageError, match="no account 'zed'"):
        secrets.reset_password("zed", "long-enough-pw")
    assert secrets_file.read_bytes() == before
    assert list(secrets_file.parent.iterdir()) == [secrets_file]


def test_accounts_written_in_another_layout_are_not_edited(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text(
        f'[dmi.users]\nalice = {{ password_hash = "{hash_password("x")}", roles = ["agency"] }}\n'
        f'bob = {{ password_hash = "{hash_password("y")}", roles = ["admin"] }}\n',
        encoding="utf-8",
    )
    before = path.read_bytes()
    with pytest.raises(FileFormatError, match="edit the file by hand"):
        SecretsFile(path).remove("alice")
    with pytest.raises(FileFormatError, match="edit the file by hand"):
        SecretsFile(path).reset_password("alice", "long-enough-pw")
    assert path.read_bytes() == before


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_partial_file(
    secrets_file, monkeypatch
):
    import os

    before = secrets_file.read_bytes()

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        SecretsFile(secrets_file).reset_password("alice", "long-enough-pw")
    assert secrets_file.read_bytes() == before
    assert list(secrets_file.parent.iterdir()) == [secrets_file]


def test_an_unreadable_secrets_file_is_named(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text("[dmi.users.alice\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="secrets.toml: not a valid TOML file"):
        SecretsFile(path).accounts()

"""Accounts: scrypt hashes checked against hashlib directly, roles, the secrets file."""

from __future__ import annotations

import base64
import hashlib
import tomllib

import pytest

from dmi.auth import (
    Account,
    accounts_from_secrets,
    authenticate,
    hash_password,
    secrets_entry,
    verify_password,
    write_secrets,
)


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

"""Accounts for the app's restricted pages: hashed passwords and roles.

Passwords are never stored: a secrets file holds ``scrypt`` hashes (salted, memory-hard) and the
roles of each account::

    [dmi.users.alice]
    password_hash = "scrypt$16384$8$1$<salt>$<hash>"
    roles = ["agency", "researcher"]

Roles: ``agency`` (bulk import), ``researcher`` (weights lab), ``admin`` (reference model, and
everything else).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ROLES",
    "Account",
    "accounts_from_secrets",
    "authenticate",
    "hash_password",
    "secrets_entry",
    "verify_password",
    "write_secrets",
]

ROLES = ("agency", "researcher", "admin")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


@dataclass(frozen=True)
class Account:
    """A user of the restricted pages."""

    name: str
    roles: frozenset[str]

    def may(self, role: str) -> bool:
        """Whether this account may open pages of ``role`` (admins may open all)."""
        return role in self.roles or "admin" in self.roles


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """A salted scrypt hash of ``password``: ``scrypt$n$r$p$salt$hash``."""
    if not password:
        raise ValueError("the password is empty")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password` (constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def accounts_from_secrets(secrets_: Mapping[str, Any]) -> dict[str, tuple[str, Account]]:
    """The accounts configured under ``[dmi.users]``: name -> (password hash, account).

    Entries without a password hash, or with unknown roles, are refused with a message.

    Raises
    ------
    ValueError
        Naming the account and what is wrong with it.
    """
    users = (secrets_.get("dmi") or {}).get("users") or {}
    accounts: dict[str, tuple[str, Account]] = {}
    for name, entry in users.items():
        if not isinstance(entry, Mapping) or not entry.get("password_hash"):
            raise ValueError(f"account {name!r} in the secrets has no password_hash")
        roles = entry.get("roles", [])
        roles = [roles] if isinstance(roles, str) else list(roles)
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValueError(
                f"account {name!r} has unknown roles {', '.join(unknown)}; "
                f"expected some of {', '.join(ROLES)}"
            )
        accounts[str(name)] = (str(entry["password_hash"]), Account(str(name), frozenset(roles)))
    return accounts


def authenticate(secrets_: Mapping[str, Any], name: str, password: str) -> Account | None:
    """The account when the name and password match, else None."""
    found = accounts_from_secrets(secrets_).get(name.strip())
    if found is None:
        # spend the same time on unknown names as on wrong passwords
        verify_password(password, hash_password("x", salt=b"0" * 16))
        return None
    stored, account = found
    return account if verify_password(password, stored) else None


def secrets_entry(name: str, password: str, roles: Iterable[str]) -> str:
    """The TOML lines of one account, for a ``secrets.toml`` file."""
    if not _NAME.match(name):
        raise ValueError(f"account name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    roles = list(roles)
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown roles {', '.join(unknown)}; expected some of {', '.join(ROLES)}")
    quoted = ", ".join(f'"{role}"' for role in roles)
    return (
        f'[dmi.users."{name}"]\npassword_hash = "{hash_password(password)}"\nroles = [{quoted}]\n'
    )


def write_secrets(
    path: str | Path, name: str = "admin", roles: Iterable[str] = ROLES
) -> str | None:
    """Create a secrets file with one account and a random password, unless it exists.

    Returns
    -------
    str or None
        The new password (shown once; only its hash is written), or None when the file existed.
    """
    target = Path(path)
    if target.exists():
        return None
    password = secrets.token_urlsafe(12)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        "# dmi accounts: only scrypt hashes of the passwords are kept here.\n"
        "# Add one with `dmi app add-user NAME --roles agency,researcher`.\n\n"
        + secrets_entry(name, password, roles),
        encoding="utf-8",
    )
    target.chmod(0o600)
    return password

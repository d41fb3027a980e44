"""Accounts for the app's restricted pages: hashed passwords and roles.

Passwords are never stored: a secrets file holds ``scrypt`` hashes (salted, memory-hard) and the
roles of each account::

    [dmi.users.alice]
    password_hash = "scrypt$16384$8$1$<salt>$<hash>"
    roles = ["agency", "researcher"]

Roles: ``agency`` (bulk import), ``researcher`` (weights lab), ``admin`` (reference model, and
everything else).

Failed sign-ins are counted in the app's store, per account name and per client address, so a
password cannot be guessed by trying many: after a few failures each further attempt must wait,
twice as long each time, and after more the name (or the client) is locked for a while
(:class:`Throttle`, :class:`SignInGuard`). Names that are not accounts are counted the same way,
so the answers do not tell which accounts exist.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import ipaddress
import math
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from dmi.errors import FileFormatError, PasswordTooShort, SecretsChanged, UsageError

__all__ = [
    "ACCOUNT_THROTTLE",
    "CLIENT_THROTTLE",
    "DEFAULT_MIN_PASSWORD_LENGTH",
    "ROLES",
    "Account",
    "SecretsFile",
    "SignIn",
    "SignInGuard",
    "Throttle",
    "accounts_from_secrets",
    "authenticate",
    "check_new_password",
    "client_address",
    "hash_password",
    "min_password_length",
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
        raise UsageError("the password is empty")
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
            raise FileFormatError(f"account {name!r} in the secrets has no password_hash")
        roles = entry.get("roles", [])
        roles = [roles] if isinstance(roles, str) else list(roles)
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise FileFormatError(
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
        raise UsageError(f"account name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    roles = list(roles)
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise UsageError(f"unknown roles {', '.join(unknown)}; expected some of {', '.join(ROLES)}")
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
    password = secrets.token_urlsafe(12)  # 16 characters
    SecretsFile(target, min_length=1).add(name, password, roles)
    return password


# -- new passwords and editing the secrets file -------------------------------------------------
DEFAULT_MIN_PASSWORD_LENGTH = 10
"""Characters a new password needs unless ``DMI_PASSWORD_MIN_LENGTH`` says otherwise."""


def min_password_length(environ: Mapping[str, str] | None = None) -> int:
    """The characters a new password needs: ``DMI_PASSWORD_MIN_LENGTH``, default 10.

    Raises
    ------
    UsageError
        When the setting is not a whole number of at least 1.
    """
    value = (os.environ if environ is None else environ).get("DMI_PASSWORD_MIN_LENGTH", "")
    if not value.strip():
        return DEFAULT_MIN_PASSWORD_LENGTH
    try:
        length = int(value)
    except ValueError:
        length = 0
    if length < 1:
        raise UsageError(f"DMI_PASSWORD_MIN_LENGTH={value!r}: expected a whole number of 1 or more")
    return length


def check_new_password(password: str, min_length: int | None = None) -> None:
    """Refuse a new password shorter than ``min_length`` characters (default:
    :func:`min_password_length`). Every path that sets a password a person chose goes through
    this (:class:`SecretsFile`, hence ``dmi app add-user`` and ``reset-password`` and the
    app's account page).

    Raises
    ------
    PasswordTooShort
        With the length given and the length needed.
    """
    needed = min_password_length() if min_length is None else min_length
    if len(password) < needed:
        raise PasswordTooShort(len(password), needed)


# a table header of one account: [dmi.users.NAME], [dmi.users."NAME"] or [dmi.users.'NAME']
_ACCOUNT_HEADER = re.compile(
    r"""^\s*\[\s*dmi\s*\.\s*users\s*\.\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*\]\s*(?:\#.*)?$"""
)
_ANY_HEADER = re.compile(r"^\s*\[")
_HASH_LINE = re.compile(r"^\s*password_hash\s*=")


class SecretsFile:
    """The app's accounts in a secrets file (``.streamlit/secrets.toml``), edited safely.

    Each edit reads the file, changes only the lines of the one account (the rest of the file,
    comments and other sections included, stays as it was), checks that the result reads back
    with exactly the intended change, and replaces the file in one atomic rename (mode 600): a
    crash leaves the old file or the new one, never half of one. Passwords are checked by
    :func:`check_new_password` and only their scrypt hashes are written.

    Two edits at once (two admins, the app and ``dmi app ...``) never lose one another: each
    edit holds an exclusive lock (``flock`` on the file's folder, on POSIX systems) from its
    read to its rename, so the second reads what the first wrote. An edit after
    :meth:`accounts` (or :meth:`account`) read the file is made on the file as it is now: a
    change of other accounts since is kept (merged), a change of the same account refuses the
    edit with :class:`dmi.errors.SecretsChanged`, the file left as the other change made it.

    Parameters
    ----------
    path : str or Path
        The secrets file.
    min_length : int, optional
        Characters a new password needs (default: :func:`min_password_length`).
    """

    def __init__(self, path: str | Path, *, min_length: int | None = None) -> None:
        self.path = Path(path)
        self.min_length = min_length
        # the accounts as this object last read or wrote them (None: not read yet)
        self._loaded: dict[str, tuple[str, Account]] | None = None

    # -- reading --------------------------------------------------------------------------------
    def text(self) -> str:
        """The file's text ('' when it does not exist)."""
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def _parse(self, text: str) -> dict[str, tuple[str, Account]]:
        import tomllib

        try:
            return accounts_from_secrets(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise FileFormatError(
                f"{self.path}: not a valid TOML file ({exc})", path=self.path
            ) from None

    def accounts(self) -> dict[str, tuple[str, Account]]:
        """The accounts of the file: name -> (password hash, account). An edit made after
        this is refused when its account changed in the file since (see the class)."""
        self._loaded = self._parse(self.text())
        return dict(self._loaded)

    def account(self, name: str) -> Account:
        """The account ``name``; a :class:`UsageError` naming the accounts there are when it
        is not one."""
        accounts = self.accounts()
        self._known(name, accounts)
        return accounts[name][1]

    # -- editing --------------------------------------------------------------------------------
    def add(self, name: str, password: str, roles: Iterable[str]) -> Account:
        """Add an account; refused when the name is taken or the password too short."""
        with self._locked():
            self._add(name, password, roles)
        return Account(name, frozenset(roles))

    def _add(self, name: str, password: str, roles: Iterable[str]) -> None:
        text, before = self._current(name)
        if name in before:
            raise UsageError(f"{self.path} already has an account {name!r}")
        check_new_password(password, self.min_length)
        entry = secrets_entry(name, password, roles)
        if not text:
            text = (
                "# dmi accounts: only scrypt hashes of the passwords are kept here.\n"
                "# Add one with `dmi app add-user NAME --roles agency,researcher`.\n"
            )
        new = text + ("" if text.endswith("\n") else "\n") + "\n" + entry
        account = Account(name, frozenset(roles))
        self._write(new, before, {**before, name: (None, account)}, name, password)

    def remove(self, name: str) -> None:
        """Remove an account; refused for an unknown name and for the last admin."""
        with self._locked():
            self._remove(name)

    def _remove(self, name: str) -> None:
        text, before = self._current(name)
        self._known(name, before)
        admins = [n for n, (_, a) in before.items() if "admin" in a.roles]
        if admins == [name]:
            raise UsageError(
                f"{name!r} is the last admin account of {self.path}; add another admin first "
                "(dmi app add-user NAME --roles admin)"
            )
        lines = text.splitlines(keepends=True)
        start, end = self._block(lines, name)
        kept = lines[:start] + lines[end:]
        new = re.sub(r"\n{3,}", "\n\n", "".join(kept))
        after = {n: v for n, v in before.items() if n != name}
        self._write(new, before, after, None, None)

    def reset_password(self, name: str, password: str) -> None:
        """Give an account a new password (its roles unchanged)."""
        with self._locked():
            self._reset_password(name, password)

    def _reset_password(self, name: str, password: str) -> None:
        text, before = self._current(name)
        self._known(name, before)
        check_new_password(password, self.min_length)
        lines = text.splitlines(keepends=True)
        start, end = self._block(lines, name)
        found = [i for i in range(start + 1, end) if _HASH_LINE.match(lines[i])]
        if len(found) != 1:
            raise FileFormatError(
                f"{self.path}: the account {name!r} does not have one `password_hash = ...` line "
                "in its own table; edit the file by hand",
                path=self.path,
            )
        lines[found[0]] = f'password_hash = "{hash_password(password)}"\n'
        after = {**before, name: (None, before[name][1])}
        self._write("".join(lines), before, after, name, password)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive lock of the file's folder (the file itself is replaced by each
        edit, so a lock on it would be on the old file; a lock file would be left beside it)."""
        folder = Path(os.path.realpath(self.path)).parent
        try:
            import fcntl
        except ImportError:  # not a POSIX system: edits are not serialised there
            yield
            return
        folder.mkdir(parents=True, exist_ok=True)
        # flock, not lockf: each open() is its own lock, so threads of one process exclude
        # one another too
        handle = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock

    def _current(self, name: str) -> tuple[str, dict[str, tuple[str, Account]]]:
        """The file's text and accounts now (under the lock); refused with
        :class:`SecretsChanged` when ``name`` changed since :meth:`accounts` read it."""
        text = self.text()
        now = self._parse(text)
        if self._loaded is not None and self._loaded.get(name) != now.get(name):
            raise SecretsChanged(self.path, name)
        return text, now

    def _known(self, name: str, accounts: Mapping[str, Any]) -> None:
        if name not in accounts:
            listed = ", ".join(sorted(accounts)) or "none"
            raise UsageError(f"{self.path} has no account {name!r} (accounts: {listed})")

    def _block(self, lines: list[str], name: str) -> tuple[int, int]:
        """The lines [start, end) of the account's own table."""
        starts = [
            i
            for i, line in enumerate(lines)
            if (m := _ACCOUNT_HEADER.match(line)) and next(g for g in m.groups() if g) == name
        ]
        if len(starts) != 1:
            raise FileFormatError(
                f"{self.path}: the account {name!r} is not written as one [dmi.users.{name}] "
                "table; edit the file by hand",
                path=self.path,
            )
        start = starts[0]
        end = next(
            (i for i in range(start + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines)
        )
        return start, end

    def _write(
        self,
        text: str,
        before: Mapping[str, tuple[str, Account]],
        expected: Mapping[str, tuple[str | None, Account]],
        changed: str | None,
        password: str | None,
    ) -> None:
        """Replace the file with ``text`` once it reads back as ``expected``: the same accounts
        with the same hashes and roles, but ``changed``, whose hash is of ``password``."""
        from dmi.io import PendingFile

        after = self._parse(text)
        same = set(after) == set(expected) and all(
            after[n][1] == account
            and (
                verify_password(password or "", after[n][0])
                if n == changed
                else after[n][0] == before[n][0]
            )
            for n, (_, account) in expected.items()
        )
        if not same:  # an unusual layout: better no edit than a wrong one
            raise FileFormatError(
                f"{self.path}: the accounts are not laid out as dmi writes them "
                "([dmi.users.NAME] tables); edit the file by hand",
                path=self.path,
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with PendingFile(self.path) as pending:
            pending.path.chmod(0o600)
            with open(pending.path, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        if self._loaded is not None:  # this edit's own change is no one else's
            self._loaded = after


# -- throttling failed sign-ins -----------------------------------------------------------------
@dataclass(frozen=True)
class Throttle:
    """When sign-ins are refused after failures of one account name, or from one client.

    Parameters
    ----------
    backoff_after : int, default=3
        Failures after which each further attempt must wait: ``delay`` after this many, twice
        as long after each one more.
    delay : timedelta, default=1 second
        The first wait.
    lock_after : int, default=10
        Failures after which attempts are refused for ``lock_for`` after the last one; a failure
        after the lock locks again.
    lock_for : timedelta, default=15 minutes
        How long a lock lasts; also the longest wait of the back-off.
    forget_after : timedelta, default=1 day
        Failures are forgotten this long after the last one.
    """

    backoff_after: int = 3
    delay: timedelta = timedelta(seconds=1)
    lock_after: int = 10
    lock_for: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if not 1 <= self.backoff_after <= self.lock_after:
            raise ValueError(
                f"expected 1 <= backoff_after <= lock_after, got {self.backoff_after} "
                f"and {self.lock_after}"
            )
        if min(self.delay, self.lock_for, self.forget_after) <= timedelta(0):
            raise ValueError("delay, lock_for and forget_after must be positive durations")

    def wait(self, failures: int, last_failure: datetime | None, now: datetime) -> timedelta:
        """How long from ``now`` until the next attempt is allowed (zero: allowed now)."""
        if failures <= 0 or last_failure is None or now - last_failure >= self.forget_after:
            return timedelta(0)
        if failures >= self.lock_after:
            pause = self.lock_for
        elif failures >= self.backoff_after:
            pause = min(self.delay * 2 ** (failures - self.backoff_after), self.lock_for)
        else:
            return timedelta(0)
        return max(last_failure + pause - now, timedelta(0))


ACCOUNT_THROTTLE = Throttle()
"""Per account name: wait after 3 failures (1 s, 2 s, 4 s, ...), locked 15 minutes after 10."""

CLIENT_THROTTLE = Throttle(backoff_after=10, lock_after=30, forget_after=timedelta(hours=1))
"""Per client address (which many names may be tried from, and several people may share):
wait after 10 failures, locked 15 minutes after 30, forgotten an hour after the last."""


class FailureCounts(Protocol):
    """Where failed sign-ins are counted (:class:`dmi.service.store.Store` is one)."""

    def failures(self, key: str) -> tuple[int, datetime | None]: ...

    def record_failure(self, key: str, now: datetime, forget_before: datetime) -> None: ...

    def clear_failures(self, key: str) -> None: ...


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt.

    Attributes
    ----------
    account : Account or None
        The account, when the name and password matched.
    retry_after : int
        Seconds (rounded up) until another attempt is allowed, when this one was refused
        without checking the password because of earlier failures; 0 otherwise.
    """

    account: Account | None
    retry_after: int = 0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SignInGuard:
    """Sign in with a name and password, refusing attempts after too many failures.

    Failures are counted in ``counts`` (the app's store, so that the count holds across
    sessions and server processes) under the account name tried, whether or not it is an
    account, and under the client's address. A success clears the name's count only: a
    client's count is forgotten with time (an attacker's own account would otherwise reset it).

    Parameters
    ----------
    counts : FailureCounts
        Where the failures are counted.
    account, client : Throttle
        The rules per account name and per client address.
    clock : callable, default=now in UTC
        Returns the current time (tests set it).
    """

    def __init__(
        self,
        counts: FailureCounts,
        account: Throttle = ACCOUNT_THROTTLE,
        client: Throttle = CLIENT_THROTTLE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.counts = counts
        self.throttles = {"account": account, "client": client}
        self.clock = clock if clock is not None else _utcnow

    def sign_in(self, secrets_: Mapping[str, Any], name: str, password: str, client: str) -> SignIn:
        """Check ``name`` and ``password`` unless the name or the client must wait.

        Parameters
        ----------
        secrets_
            The app's secrets (the accounts, see :func:`accounts_from_secrets`).
        name, password
            As typed.
        client
            The client's address, from :func:`client_address`.
        """
        now = self.clock()
        keys = {"account": f"account:{name.strip()}", "client": f"client:{client}"}
        wait = timedelta(0)
        for kind, key in keys.items():
            failures, last = self.counts.failures(key)
            wait = max(wait, self.throttles[kind].wait(failures, last, now))
        if wait > timedelta(0):
            return SignIn(None, math.ceil(wait.total_seconds()))
        found = authenticate(secrets_, name, password)
        if found is not None:
            self.counts.clear_failures(keys["account"])
            return SignIn(found)
        for kind, key in keys.items():
            self.counts.record_failure(key, now, now - self.throttles[kind].forget_after)
        return SignIn(None)


def client_address(
    remote: str | None, forwarded_for: Sequence[str] = (), trusted_proxies: int = 0
) -> str:
    """The address sign-in failures of a client are counted under.

    Parameters
    ----------
    remote
        The address the connection came from (None when it is this machine).
    forwarded_for
        The values of the request's ``X-Forwarded-For`` headers. They are read only when
        ``trusted_proxies`` says how many proxies of one's own the request passed: anyone
        can send the header, so the client is the address the outermost trusted proxy saw
        (the ``trusted_proxies``-th from the right, the connection's own address counting).
    trusted_proxies
        How many reverse proxies of one's own stand before the app (0: none, the header is
        ignored).

    Returns
    -------
    str
        An IPv4 address, an IPv6 /64 network (one subscriber's usual share), ``local`` for this
        machine, or the text given when it is not an address.
    """
    if trusted_proxies < 0:
        raise ValueError(f"trusted_proxies must be 0 or more, got {trusted_proxies}")
    hops = [remote or "local"]
    if trusted_proxies:
        listed = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
        hops = listed + hops
    chosen = hops[max(len(hops) - 1 - trusted_proxies, 0)]
    try:
        address = ipaddress.ip_address(chosen)
        if address.version == 6:
            if address.ipv4_mapped is not None:
                return str(address.ipv4_mapped)
            return str(ipaddress.ip_network(f"{address.exploded}/64", strict=False))
    except ValueError:
        return chosen[:100]
    return str(address)

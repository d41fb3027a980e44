"""``dmi app``: set up accounts for the app's restricted pages.

``dmi app init-secrets`` creates ``.streamlit/secrets.toml`` with an ``admin`` account and a
random password (printed once) unless the file exists; ``dmi app add-user`` appends an account.
Only scrypt hashes of passwords are written.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import tomllib
from pathlib import Path
from typing import Any

from dmi.errors import FileFormatError, UsageError
from dmi.service.auth import ROLES, accounts_from_secrets, secrets_entry, write_secrets

__all__ = ["add_commands"]

DEFAULT_SECRETS = ".streamlit/secrets.toml"


def _roles(text: str) -> list[str]:
    roles = [r.strip() for r in text.split(",") if r.strip()]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(ROLES)}; got {text!r}"
        )
    return roles


def cmd_init_secrets(args: argparse.Namespace) -> int:
    password = write_secrets(args.secrets, name=args.name)
    if password is None:
        print(f"{args.secrets} exists; accounts unchanged")
    else:
        print(
            f"created {args.secrets} with account {args.name!r} (all roles); "
            f"its password, shown only now: {password}"
        )
    return 0


def cmd_add_user(args: argparse.Namespace) -> int:
    path = Path(args.secrets)
    existing: dict[str, Any] = {}
    if path.exists():
        try:
            existing = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise FileFormatError(f"{path}: not a valid TOML file ({exc})", path=path) from None
    if args.name in accounts_from_secrets(existing):
        raise UsageError(f"{path} already has an account {args.name!r}")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
    entry = secrets_entry(args.name, password, args.roles)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(("\n" if existing else "") + entry)
    path.chmod(0o600)
    print(f"added account {args.name!r} ({', '.join(args.roles)}) to {path}")
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``app init-secrets`` and ``app add-user`` to the main parser's subparsers."""
    parser = subparsers.add_parser("app", help="accounts for the app's restricted pages")
    sub = parser.add_subparsers(dest="app_action", required=True, metavar="ACTION")

    p = sub.add_parser("init-secrets", help="create the secrets file with an admin account")
    p.add_argument("--secrets", default=DEFAULT_SECRETS, metavar="FILE")
    p.add_argument("--name", default="admin")
    p.set_defaults(func=cmd_init_secrets)

    p = sub.add_parser("add-user", help="add an account (password asked for, stored hashed)")
    p.add_argument("name")
    p.add_argument(
        "--roles", type=_roles, required=True, help=f"comma-separated: {', '.join(ROLES)}"
    )
    p.add_argument("--secrets", default=DEFAULT_SECRETS, metavar="FILE")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.set_defaults(func=cmd_add_user)

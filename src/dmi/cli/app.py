"""``dmi app``: accounts for the app's restricted pages, and serving the app.

``dmi app init-secrets`` creates ``.streamlit/secrets.toml`` with an ``admin`` account and a
random password (printed once) unless the file exists; ``add-user``, ``remove-user`` and
``reset-password`` edit it (:class:`dmi.service.auth.SecretsFile`: one account's lines, checked,
replaced atomically; the last admin is never removed). Only scrypt hashes of passwords are
written, and a new password needs ``DMI_PASSWORD_MIN_LENGTH`` characters (default 10).

``dmi app serve`` runs ``streamlit run`` with the host names it will be reached by allowed
(``server.allowedHosts``, which Streamlit checks on the websocket) and prints only the
addresses that work: Streamlit's own banner would also print a public "External URL" that the
allowed hosts refuse.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dmi.errors import UsageError
from dmi.service.auth import ROLES, SecretsFile, check_new_password, write_secrets

__all__ = ["ServePlan", "add_commands", "lan_addresses", "serve_plan"]

DEFAULT_SECRETS = ".streamlit/secrets.toml"
DEFAULT_APP = "app/streamlit_app.py"
_ALL = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (listening on every address is asked for)
_LOCAL = frozenset({"localhost", "127.0.0.1", "::1"})


def _roles(text: str) -> list[str]:
    roles = [r.strip() for r in text.split(",") if r.strip()]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(ROLES)}; got {text!r}"
        )
    return roles


# -- accounts -----------------------------------------------------------------------------------
def _new_password(name: str, from_stdin: bool) -> str:
    """A new password: one line of standard input, or typed twice without echo. Checked for
    length before anything is written (and again by :class:`SecretsFile`)."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = getpass.getpass(f"new password for {name}: ")
            check_new_password(password)  # say so before asking again
            again = getpass.getpass("the same password again: ")
        except EOFError:  # the input is closed (</dev/null, a script): nothing to type into
            raise UsageError(
                "no password was typed (the input is closed); give one line on standard input "
                "with --password-stdin"
            ) from None
        if again != password:
            raise UsageError("the two passwords differ; nothing was changed")
    check_new_password(password)
    return password


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
    secrets = SecretsFile(args.secrets)
    if args.name in secrets.accounts():  # before asking for a password
        raise UsageError(f"{args.secrets} already has an account {args.name!r}")
    secrets.add(args.name, _new_password(args.name, args.password_stdin), args.roles)
    print(f"added account {args.name!r} ({', '.join(args.roles)}) to {args.secrets}")
    return 0


def cmd_remove_user(args: argparse.Namespace) -> int:
    SecretsFile(args.secrets).remove(args.name)
    print(f"removed account {args.name!r} from {args.secrets}")
    return 0


def cmd_reset_password(args: argparse.Namespace) -> int:
    secrets = SecretsFile(args.secrets)
    secrets.account(args.name)  # an unknown name is said before a password is asked for
    secrets.reset_password(args.name, _new_password(args.name, args.password_stdin))
    print(f"new password set for {args.name!r} in {args.secrets}")
    return 0


# -- serving ------------------------------------------------------------------------------------
def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses on its networks (not the loopback), best first."""
    found: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        # connecting a UDP socket sends nothing: it only picks the interface of the route out
        probe.connect(("10.254.254.254", 1))
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    usable = []
    for address in found:
        ip = ipaddress.ip_address(address)
        if not (ip.is_loopback or ip.is_unspecified or ip.is_link_local) and address not in usable:
            usable.append(address)
    return usable


@dataclass(frozen=True)
class ServePlan:
    """How the app is served: what Streamlit is told, and the addresses printed.

    Attributes
    ----------
    address : str
        ``server.address``: where the server listens.
    allowed_hosts : list of str
        ``server.allowedHosts``: the host names the app answers to (websocket ``Host``).
    urls : list of (str, str)
        (what, URL) of every address of this machine the app is reached at; each host is in
        ``allowed_hosts``.
    """

    address: str
    allowed_hosts: list[str]
    urls: list[tuple[str, str]]


def _url(host: str, port: int, base: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/{base + '/' if base else ''}"


def serve_plan(
    address: str, port: int, hosts: list[str], base_path: str = "", lan: list[str] | None = None
) -> ServePlan:
    """The settings and the printed addresses for serving on ``address``.

    Parameters
    ----------
    address
        Where to listen: ``0.0.0.0`` (every network of this machine), ``localhost`` (this
        machine only) or one of its addresses.
    port
        The port.
    hosts
        More host names to answer to: the domain of a reverse proxy in front of the app.
    base_path
        ``server.baseUrlPath`` (the app under ``/dmi/``, say).
    lan
        This machine's network addresses (default: :func:`lan_addresses`).
    """
    base = base_path.strip("/")
    lan = lan_addresses() if lan is None else lan
    if address in _ALL:
        shown = [("Local URL", "localhost")] + [("Network URL", ip) for ip in lan]
        allowed = ["localhost", "127.0.0.1", *lan]
    elif address in _LOCAL:
        shown = [("Local URL", "localhost")]
        allowed = ["localhost", "127.0.0.1"]
    else:
        shown = [("Network URL", address)]
        allowed = [address]
    for host in hosts:
        if host and host not in allowed:
            allowed.append(host)
    return ServePlan(address, allowed, [(what, _url(h, port, base)) for what, h in shown])


def _streamlit() -> str:
    found = Path(sys.executable).parent / "streamlit"
    if not found.exists():
        raise UsageError('the app needs Streamlit, which is not installed: pip install "dmi[app]"')
    return str(found)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}_stcore/health", timeout=2) as answer:  # noqa: S310
            return answer.read().strip() == b"ok"
    except OSError:
        return False


def _stop_with(process: subprocess.Popen) -> None:
    """Stop the app with this command: a service manager's SIGTERM (or a closed terminal's
    SIGHUP) reaches only this process, and would leave Streamlit running, orphaned, on the
    port. (Ctrl-C reaches both: see :func:`cmd_serve`.)"""

    def stop(_signum: int, _frame: Any) -> None:
        # passed on only: this command then ends as Streamlit does (waiting here would wait
        # on the wait the signal interrupted, which holds the child's lock)
        process.terminate()

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):  # SIGHUP is not on Windows
            signal.signal(getattr(signal, name), stop)


def _exit_status(returncode: int) -> int:
    """A child's return code as a shell's exit status (ended by signal N: 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


def cmd_serve(args: argparse.Namespace) -> int:
    app = Path(args.app)
    if not app.is_file():
        raise UsageError(f"{app}: no such file; run this in the dmi folder or give --app")
    plan = serve_plan(args.address, args.port, args.host, args.base_url_path)
    command = [
        _streamlit(),
        "run",
        str(app),
        "--server.address",
        plan.address,
        "--server.port",
        str(args.port),
        # Streamlit's banner would list addresses the allowed hosts refuse: ours lists the others
        "--logger.hideWelcomeMessage",
        "true",
    ]
    for host in plan.allowed_hosts:
        command += ["--server.allowedHosts", host]
    if args.base_url_path.strip("/"):
        command += ["--server.baseUrlPath", args.base_url_path.strip("/")]
    extra = args.streamlit_args[1:] if args.streamlit_args[:1] == ["--"] else args.streamlit_args
    process = subprocess.Popen([*command, *extra])  # noqa: S603 (our own command)
    _stop_with(process)
    check = (
        plan.urls[0][1]
        if plan.address not in _ALL | _LOCAL
        else _url("127.0.0.1", args.port, args.base_url_path.strip("/"))
    )
    try:
        deadline = time.monotonic() + args.wait
        while not _healthy(check):
            if process.poll() is not None:
                return _exit_status(process.returncode) or 1
            if time.monotonic() > deadline:
                print(f"dmi: the app did not answer within {args.wait:.0f} s", file=sys.stderr)
                break
            time.sleep(0.3)
        else:
            print("\n  The dmi app is running; open it at:\n", flush=True)
            for what, url in plan.urls:
                print(f"  {what}: {url}", flush=True)
            print(f"\n  Host names allowed: {', '.join(plan.allowed_hosts)}\n", flush=True)
        return _exit_status(process.wait())
    except KeyboardInterrupt:  # Ctrl-C reached Streamlit too: let it end
        with contextlib.suppress(subprocess.TimeoutExpired):
            return process.wait(timeout=10)
        process.terminate()
        return 130


def add_commands(subparsers: Any) -> None:
    """Add the ``app`` commands to the main parser's subparsers."""
    parser = subparsers.add_parser(
        "app", help="accounts for the app's restricted pages, and serving the app"
    )
    sub = parser.add_subparsers(dest="app_action", required=True, metavar="ACTION")

    p = sub.add_parser("init-secrets", help="create the secrets file with an admin account")
    p.add_argument("--secrets", default=DEFAULT_SECRETS, metavar="FILE")
    p.add_argument("--name", default="admin")
    p.set_defaults(func=cmd_init_secrets)

    stdin_help = "read the new password from one line of standard input (else asked twice)"
    p = sub.add_parser("add-user", help="add an account (password asked for, stored hashed)")
    p.add_argument("name")
    p.add_argument(
        "--roles", type=_roles, required=True, help=f"comma-separated: {', '.join(ROLES)}"
    )
    p.add_argument("--secrets", default=DEFAULT_SECRETS, metavar="FILE")
    p.add_argument("--password-stdin", action="store_true", help=stdin_help)
    p.set_defaults(func=cmd_add_user)

    p = sub.add_parser("remove-user", help="remove an account (never the last admin)")
    p.add_argument("name")
    p.add_argument("--secrets", default=DEFAULT_SECRETS, metavar="FILE")
    p.set_defaults(func=cmd_remove_user)

    p = sub.add_parser("reset-password", help="give an account a new password")
    p.add_argument("name")
    p.add_argument("--secrets", default=DEFAULT_SECRETS, metavar="FILE")
    p.add_argument("--password-stdin", action="store_true", help=stdin_help)
    p.set_defaults(func=cmd_reset_password)

    p = sub.add_parser(
        "serve",
        help="run the app and print the addresses it is reached at",
        description=(
            "Run the Streamlit app with the host names it answers to set to this machine's "
            "addresses (and --host names), and print the addresses that work. Arguments after "
            "-- go to streamlit run."
        ),
    )
    p.add_argument("--app", default=DEFAULT_APP, metavar="FILE")
    p.add_argument(
        "--address",
        default="0.0.0.0",  # noqa: S104
        help="where to listen: 0.0.0.0 (every network, default), localhost, or one address",
    )
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8501")))
    p.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME",
        help="another host name to answer to (a reverse proxy's domain); repeatable",
    )
    p.add_argument(
        "--base-url-path", default="", metavar="PATH", help="serve under /PATH/ (behind a proxy)"
    )
    p.add_argument("--wait", type=float, default=120, help=argparse.SUPPRESS)
    p.add_argument("streamlit_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)

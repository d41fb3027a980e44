"""``dmi app``: the account commands as a user runs them (in-process through main()), and
``dmi app serve``: the addresses it prints are the ones the server answers on, checked by
opening the app's websocket with each address as the Host header, as a browser does."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from dmi.cli import main
from dmi.cli.app import serve_plan
from dmi.service.auth import accounts_from_secrets, hash_password, verify_password

from .conftest import ROOT


def run(capsys, monkeypatch, *argv, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def secrets(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text(
        f'[dmi.users.root]\npassword_hash = "{hash_password("root-password")}"\n'
        'roles = ["admin"]\n\n'
        f'[dmi.users.ann]\npassword_hash = "{hash_password("ann-password")}"\n'
        'roles = ["agency"]\n',
        encoding="utf-8",
    )
    return path


def accounts(path: Path) -> dict:
    return accounts_from_secrets(tomllib.loads(path.read_text(encoding="utf-8")))


def test_a_short_password_is_one_line_exit_2_and_nothing_written(capsys, monkeypatch, secrets):
    monkeypatch.delenv("DMI_PASSWORD_MIN_LENGTH", raising=False)
    before = secrets.read_bytes()
    for argv in (
        ("app", "add-user", "bob", "--roles", "agency"),
        ("app", "reset-password", "ann"),
    ):
        code, out, err = run(
            capsys, monkeypatch, *argv, "--secrets", secrets, "--password-stdin", stdin="1\n"
        )
        assert code == 2
        assert err == "dmi: error: the password has 1 character; a password needs at least 10\n"
        assert out == ""
    assert secrets.read_bytes() == before
    # the minimum is a setting
    monkeypatch.setenv("DMI_PASSWORD_MIN_LENGTH", "4")
    code, _, err = run(
        capsys, monkeypatch, "app", "reset-password", "ann", "--secrets", secrets,
        "--password-stdin", stdin="abc\n",
    )  # fmt: skip
    assert (code, err) == (
        2,
        "dmi: error: the password has 3 characters; a password needs at least 4\n",
    )
    code, _, _ = run(
        capsys, monkeypatch, "app", "reset-password", "ann", "--secrets", secrets,
        "--password-stdin", stdin="abcd\n",
    )  # fmt: skip
    assert code == 0
    assert verify_password("abcd", accounts(secrets)["ann"][0])


def test_reset_password_asks_twice_without_echo(capsys, monkeypatch, secrets):
    import getpass

    typed = iter(["a-new-password", "a-new-password"])
    prompts = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or next(typed))
    code, out, err = run(capsys, monkeypatch, "app", "reset-password", "root", "--secrets", secrets)
    assert (code, err) == (0, "")
    assert out == f"new password set for 'root' in {secrets}\n"
    assert len(prompts) == 2
    found = accounts(secrets)
    assert verify_password("a-new-password", found["root"][0])
    assert verify_password("ann-password", found["ann"][0])  # the other account untouched
    assert found["root"][1].roles == frozenset({"admin"})


def test_two_different_passwords_change_nothing(capsys, monkeypatch, secrets):
    import getpass

    typed = iter(["a-new-password", "a-new-passwort"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(typed))
    before = secrets.read_bytes()
    code, _, err = run(capsys, monkeypatch, "app", "reset-password", "root", "--secrets", secrets)
    assert (code, err) == (2, "dmi: error: the two passwords differ; nothing was changed\n")
    assert secrets.read_bytes() == before


@pytest.mark.parametrize(
    "command", [["reset-password", "root"], ["add-user", "bo", "--roles", "agency"]]
)
def test_no_password_typed_is_one_line_exit_2(capsys, monkeypatch, secrets, command):
    # with its input closed (</dev/null, a script) the prompt ended in EOFError: exit 3, "a bug"
    import getpass

    def closed(prompt):
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", closed)
    before = secrets.read_bytes()
    code, _, err = run(capsys, monkeypatch, "app", *command, "--secrets", secrets)
    assert code == 2, err
    assert err == (
        "dmi: error: no password was typed (the input is closed); give one line on standard "
        "input with --password-stdin\n"
    )
    assert secrets.read_bytes() == before


def test_an_unknown_name_is_said_before_a_password_is_asked(capsys, monkeypatch, secrets):
    import getpass

    monkeypatch.setattr(getpass, "getpass", lambda prompt: pytest.fail("asked for a password"))
    code, _, err = run(capsys, monkeypatch, "app", "reset-password", "zed", "--secrets", secrets)
    assert code == 2
    assert err == f"dmi: error: {secrets} has no account 'zed' (accounts: ann, root)\n"
    code, _, err = run(
        capsys, monkeypatch, "app", "add-user", "ann", "--roles", "agency", "--secrets", secrets
    )
    assert (code, err) == (2, f"dmi: error: {secrets} already has an account 'ann'\n")


def test_remove_user_keeps_the_last_admin(capsys, monkeypatch, secrets):
    code, _, err = run(capsys, monkeypatch, "app", "remove-user", "root", "--secrets", secrets)
    assert code == 2
    assert err.startswith("dmi: error: 'root' is the last admin account of")
    assert err.count("\n") == 1
    assert set(accounts(secrets)) == {"root", "ann"}
    code, out, _ = run(capsys, monkeypatch, "app", "remove-user", "ann", "--secrets", secrets)
    assert (code, out) == (0, f"removed account 'ann' from {secrets}\n")
    assert set(accounts(secrets)) == {"root"}
    assert secrets.stat().st_mode & 0o777 == 0o600


def test_add_user_then_sign_in_with_it(capsys, monkeypatch, tmp_path):
    path = tmp_path / "new" / "secrets.toml"
    code, _, _ = run(
        capsys, monkeypatch, "app", "add-user", "bob", "--roles", "researcher,agency",
        "--secrets", path, "--password-stdin", stdin="bob-password-1\n",
    )  # fmt: skip
    assert code == 0
    hashed, account = accounts(path)["bob"]
    assert verify_password("bob-password-1", hashed)
    assert account.roles == frozenset({"researcher", "agency"})
    assert path.stat().st_mode & 0o777 == 0o600


# -- serving ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "hosts", "base", "allowed", "urls"),
    [
        (
            "0.0.0.0",
            [],
            "",
            ["localhost", "127.0.0.1", "192.168.1.20", "10.0.0.5"],
            ["http://localhost:8501/", "http://192.168.1.20:8501/", "http://10.0.0.5:8501/"],
        ),
        ("localhost", ["dmi.example.org"], "", ["localhost", "127.0.0.1", "dmi.example.org"],
         ["http://localhost:8501/"]),
        ("192.168.1.20", [], "/dmi/", ["192.168.1.20"], ["http://192.168.1.20:8501/dmi/"]),
    ],
)  # fmt: skip
def test_every_printed_address_is_an_allowed_host(address, hosts, base, allowed, urls):
    plan = serve_plan(address, 8501, hosts, base, lan=["192.168.1.20", "10.0.0.5"])
    assert plan.allowed_hosts == allowed
    assert [url for _, url in plan.urls] == urls
    for _, url in plan.urls:
        host = re.match(r"http://\[?([^\]/]+?)\]?:\d+/", url).group(1)
        assert host in plan.allowed_hosts


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _websocket_status(connect: tuple[str, int], host: str) -> str:
    """The status line the app's websocket answers a browser's opening handshake with."""
    with socket.create_connection(connect, timeout=20) as conn:
        conn.sendall(
            (
                "GET /_stcore/stream HTTP/1.1\r\n"
                f"Host: {host}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n\r\n"
            ).encode("ascii")
        )
        return conn.recv(4096).split(b"\r\n")[0].decode("ascii")


def _is_this_machines(address: str) -> bool:
    try:
        with socket.socket() as s:
            s.bind((address, 0))  # only an address of this machine can be bound
        return True
    except OSError:
        return False


def test_make_run_serves_the_app_and_every_address_it_prints_works(tmp_path):
    """The command ``make run`` runs: the server listens on every network; each address it
    prints, the local one and the machine's network address, opens the app's websocket with
    that address as the Host (101), while an unknown host name is refused (403)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(VENV)/bin/dmi app serve --port $(PORT) --address $(ADDRESS)" in makefile
    port = _free_port()
    env = {
        **os.environ,
        "DMI_DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "dmi"), "app", "serve", "--port", str(port),
         "--address", "0.0.0.0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lines = []
        deadline = time.monotonic() + 180
        while not any(line.strip().startswith("Host names allowed") for line in lines):
            line = server.stdout.readline()
            if not line and server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the app did not start:\n" + "".join(lines))
            lines.append(line)
        urls = re.findall(r"(?:Local|Network) URL: (http://\S+)", "".join(lines))
        assert urls[0] == f"http://localhost:{port}/"
        network = [u for u in urls if "localhost" not in u]
        if not network:
            pytest.skip("this machine has no network address")
        assert "External URL" not in "".join(lines)
        for url in urls:
            host, url_port = re.match(r"http://([^/:]+):(\d+)/", url).groups()
            assert int(url_port) == port
            if host != "localhost":
                assert _is_this_machines(host) and not host.startswith("127.")
            connect = ("127.0.0.1" if host == "localhost" else host, port)
            assert (
                _websocket_status(connect, f"{host}:{port}") == "HTTP/1.1 101 Switching Protocols"
            )
        lan = re.match(r"http://([^/:]+):", network[0]).group(1)
        assert (
            _websocket_status((lan, port), f"dmi.evil.example:{port}") == "HTTP/1.1 403 Forbidden"
        )
        # stopped as a service manager stops it (SIGTERM), the app goes with it: Streamlit,
        # its child, had been left running, orphaned, holding the port
        server.terminate()
        server.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _listening(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _listening(port), "the app still answers after dmi app serve was stopped"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

"""The admin, account and weights-lab pages without a browser (Streamlit's AppTest): the
signed-in user in the sidebar; a password changed on the account page (a short one refused in
the page's language, nothing written); the reference page's tables; the weights lab's labels and
weights, checked against the library on the same file."""

from __future__ import annotations

import os
import tomllib

import pytest

from dmi import locales
from dmi.service.auth import Account, accounts_from_secrets, secrets_entry, verify_password

from .conftest import ROOT

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 300
ACCOUNTS = {
    "boss": ("boss-password-1", ["admin"]),
    "scholar": ("scholar-password", ["researcher"]),
}


def a(key: str, lang: str, **values: object) -> str:
    return locales.text(f"admin.{key}", lang, **values)


def t(key: str, lang: str, **values: object) -> str:
    return locales.text(f"app.{key}", lang, **values)


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'app.sqlite'}"
    old = os.environ.get("DMI_DATABASE_URL")
    os.environ["DMI_DATABASE_URL"] = url
    from streamlit.runtime.caching import cache_resource

    cache_resource.clear()
    yield url
    cache_resource.clear()
    if old is None:
        os.environ.pop("DMI_DATABASE_URL", None)
    else:
        os.environ["DMI_DATABASE_URL"] = old


@pytest.fixture
def secrets_file(tmp_path, monkeypatch):
    """The accounts in a secrets file the app reads (and the account page writes)."""
    from streamlit import config

    path = tmp_path / "secrets.toml"
    path.write_text(
        "".join(secrets_entry(n, pw, roles) for n, (pw, roles) in ACCOUNTS.items()),
        encoding="utf-8",
    )
    old = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(path)])
    monkeypatch.delenv("DMI_PASSWORD_MIN_LENGTH", raising=False)
    yield path
    config.set_option("secrets.files", old)


def _app(lang: str, secrets_path=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    text = (
        secrets_path.read_text(encoding="utf-8")
        if secrets_path is not None
        else "".join(secrets_entry(n, pw, roles) for n, (pw, roles) in ACCOUNTS.items())
    )
    for key, value in tomllib.loads(text).items():
        at.secrets[key] = value
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _signed_in(lang: str, name: str, page: str, secrets_path=None) -> AppTest:
    at = _app(lang, secrets_path).run()
    at.session_state["account"] = Account(name, frozenset(ACCOUNTS[name][1]))
    at.switch_page(page).run()
    _ok(at)
    return at


# -- the signed-in user and the password --------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_account_page_says_who_is_signed_in_and_signs_out(lang):
    at = _signed_in(lang, "boss", "app_pages/account.py")
    roles = t("role_admin", lang)
    assert at.title[0].value == a("account_title", lang)
    assert at.success[0].value == t("login_as", lang, name="boss", roles=roles)
    assert [c.value for c in at.sidebar.caption] == [t("login_as", lang, name="boss", roles=roles)]
    at.button(key="account_logout").click().run()
    _ok(at)
    assert "account" not in at.session_state
    assert at.text_input(key="login_name") is not None
    assert not at.sidebar.caption


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_short_password_is_refused_in_the_page_and_nothing_written(lang, secrets_file):
    at = _signed_in(lang, "boss", "app_pages/account.py", secrets_file)
    before = secrets_file.read_bytes()
    _fill(at, "boss-password-1", "1", "1")
    assert [e.value for e in at.error] == [a("password_short", lang, length=1, min=10)]
    assert secrets_file.read_bytes() == before
    # nine characters are one short; ten are enough
    _fill(at, "boss-password-1", "123456789", "123456789")
    assert [e.value for e in at.error] == [a("password_short", lang, length=9, min=10)]
    assert secrets_file.read_bytes() == before
    _fill(at, "boss-password-1", "1234567890", "1234567890")
    assert [s.value for s in at.success][-1] == a("password_changed", lang)
    hashed = accounts_from_secrets(tomllib.loads(secrets_file.read_text(encoding="utf-8")))
    assert verify_password("1234567890", hashed["boss"][0])
    assert verify_password("scholar-password", hashed["scholar"][0])


def _submit(at: AppTest) -> None:
    next(b for b in at.button if b.proto.is_form_submitter).click().run()


def _fill(at: AppTest, current: str, new: str, again: str) -> None:
    at.text_input(key="pw_current").input(current)
    at.text_input(key="pw_new").input(new)
    at.text_input(key="pw_again").input(again)
    _submit(at)
    _ok(at)


def test_the_current_password_and_a_repeat_are_checked(secrets_file):
    at = _signed_in("en", "boss", "app_pages/account.py", secrets_file)
    before = secrets_file.read_bytes()
    _fill(at, "boss-password-1", "a-long-new-password", "a-long-new-passwort")
    assert [e.value for e in at.error] == [a("password_differ", "en")]
    _fill(at, "not-the-password", "a-long-new-password", "a-long-new-password")
    assert [e.value for e in at.error] == [a("password_wrong", "en")]
    assert secrets_file.read_bytes() == before


def test_an_account_in_no_file_the_app_reads_is_told_where_to_change_it(tmp_path):
    from streamlit import config

    old = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(tmp_path / "none.toml")])
    try:
        at = _signed_in("en", "boss", "app_pages/account.py")
        _fill(at, "boss-password-1", "a-long-new-password", "a-long-new-password")
        assert [e.value for e in at.error] == [a("password_elsewhere", "en", name="boss")]
    finally:
        config.set_option("secrets.files", old)

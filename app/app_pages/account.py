"""Sign in and out; a signed-in user changes their own password.

The new password is checked and written by the library (:class:`dmi.service.auth.SecretsFile`,
the same path as ``dmi app reset-password``): it needs ``DMI_PASSWORD_MIN_LENGTH`` characters
(default 10), and only its hash is written, in the secrets file that holds the account.
"""

from pathlib import Path

import dmi_ui as ui
import streamlit as st

from dmi.errors import DmiError, PasswordTooShort, SecretsChanged
from dmi.locales import text
from dmi.service.auth import (
    SecretsFile,
    SignInGuard,
    check_new_password,
    min_password_length,
)


def accounts_file(name: str) -> SecretsFile | None:
    """The secrets file the account's entry comes from (the last one holding it wins, as
    Streamlit merges them), or None when no file the app reads holds it."""
    found = None
    for path in st.get_option("secrets.files"):
        if not str(path).endswith(".toml") or not Path(path).is_file():
            continue
        candidate = SecretsFile(path)
        try:
            if name in candidate.accounts():
                found = candidate
        except DmiError:
            continue
    return found


def change_password(name: str) -> None:
    st.subheader(text("admin.password_title", ui.lang()))
    minimum = min_password_length()
    with st.form("password", clear_on_submit=True):
        current = st.text_input(
            text("admin.password_current", ui.lang()), type="password", key="pw_current"
        )
        new = st.text_input(
            text("admin.password_new", ui.lang(), min=minimum), type="password", key="pw_new"
        )
        again = st.text_input(
            text("admin.password_again", ui.lang()), type="password", key="pw_again"
        )
        submitted = st.form_submit_button(text("admin.password_change", ui.lang()))
    if not submitted:
        return
    if new != again:
        st.error(text("admin.password_differ", ui.lang()))
        return
    try:
        # the length first: it is what people get wrong, and it needs no password check
        check_new_password(new, minimum)
    except PasswordTooShort as exc:
        st.error(text("admin.password_short", ui.lang(), length=exc.length, min=exc.min_length))
        return
    # the current password, counted as a sign-in attempt (so it cannot be guessed here)
    outcome = SignInGuard(ui.store()).sign_in(st.secrets.to_dict(), name, current, ui.client())
    if outcome.retry_after:
        seconds = outcome.retry_after
        wait = (
            ui.t("wait_seconds", n=seconds)
            if seconds < 60
            else ui.t("wait_minutes", n=-(-seconds // 60))
        )
        st.error(ui.t("login_throttled", wait=wait))
        return
    if outcome.account is None:
        st.error(text("admin.password_wrong", ui.lang()))
        return
    target = accounts_file(name)
    if target is None:
        st.error(text("admin.password_elsewhere", ui.lang(), name=ui.literal(name)))
        return
    try:
        # the file as read above: a change of this account since refuses the edit (never lost)
        target.min_length = minimum
        target.reset_password(name, new)
    except SecretsChanged:
        st.error(text("app_polish.secrets_changed", ui.lang(), name=ui.literal(name)))
        return
    except DmiError as exc:
        st.error(text("admin.password_file_error", ui.lang(), reason=ui.literal(exc)))
        return
    st.success(text("admin.password_changed", ui.lang()))


current = ui.account()
if current is None:
    st.title(ui.t("login_title"))
    ui.login_form()
else:
    st.title(text("admin.account_title", ui.lang()))
    roles = ", ".join(ui.t(f"role_{r}") for r in sorted(current.roles)) or "-"
    st.success(ui.t("login_as", name=ui.literal(current.name), roles=roles))
    if st.button(ui.t("logout"), key="account_logout"):
        ui.sign_out()
    change_password(current.name)

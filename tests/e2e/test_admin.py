"""The admin in a browser, in Chinese and in English: signed in, the sidebar names the user and
their role (instead of "sign in") and offers a sign-out; the reference page shows tables, not
raw JSON; a password of one character is refused on the account page with a message in the
page's language."""

from __future__ import annotations

import re

import pytest

from dmi import locales

from .drive import (
    Page,
    errors,
    expect,
    key,
    navigate,
    open_page,
    settle,
    shot,
    sign_in,
    text,
)


def admin_text(entry: str, lang: str, **values: object) -> str:
    return locales.text(f"admin.{entry}", lang, **values)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_admin_sees_who_is_signed_in_the_reference_as_tables_and_a_short_password_refused(
    page: Page, lang: str
) -> None:
    open_page(page, f"/account?lang={lang}")
    nav = page.locator("[data-testid='stSidebarNavLink']")
    expect(nav.filter(has_text=text("nav_account", lang))).to_have_count(1)
    sign_in(page, "boss")

    # the sidebar: the account's name and role instead of "sign in", and a sign-out button
    who = admin_text("nav_signed_in", lang, name="boss", roles=text("role_admin", lang))
    expect(nav.filter(has_text=who)).to_have_count(1)
    expect(nav.filter(has_text=text("nav_account", lang))).to_have_count(0)
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.locator(key("logout"))).to_be_visible()
    expect(sidebar).to_contain_text(
        text("login_as", lang, name="boss", roles=text("role_admin", lang))
    )

    # a password of one character: refused, in the page's language
    page.locator(f"{key('pw_current')} input").fill("pw-admin-e2e")
    page.locator(f"{key('pw_new')} input").fill("1")
    page.locator(f"{key('pw_again')} input").fill("1")
    page.locator("[data-testid='stFormSubmitButton'] button").click()
    settle(page, rerun=True)
    expect(page.locator("[data-testid='stAlertContentError']")).to_have_text(
        admin_text("password_short", lang, length=1, min=10)
    )
    shot(page, f"account-short-password-{lang}")

    # the reference page: tables (method, weights, tiers, versions), no raw JSON
    navigate(page, text("nav_admin_ref", lang))
    main = page.locator("[data-testid='stMain']")
    expect(main.locator(key("admin_source"))).to_be_visible()
    # method, dimension weights, tiers and the versions are shown (the question weights are
    # a table in a closed expander)
    frames = main.locator("[data-testid='stDataFrame']")
    expect(frames).to_have_count(5)
    for shown in (frames.nth(0), frames.nth(1), frames.nth(2), frames.last):
        expect(shown).to_be_visible()
    for title in ("ref_method", "ref_dimension_weights", "ref_tiers"):
        heading = re.compile(f"^{re.escape(admin_text(title, lang))}$")
        expect(main.locator("strong").filter(has_text=heading)).to_be_visible()
    assert main.locator("[data-testid='stJson']").count() == 0
    expect(main.locator(f"{key('current_download')} button")).to_have_text(
        admin_text("ref_download", lang)
    )
    assert not errors(page), errors(page)
    shot(page, f"admin-reference-{lang}")

    # signing out from the sidebar: "sign in" again
    page.locator(f"{key('logout')} button").click()
    settle(page, rerun=True)
    expect(nav.filter(has_text=text("nav_account", lang))).to_have_count(1)
    expect(nav.filter(has_text=who)).to_have_count(0)

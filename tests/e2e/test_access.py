"""Who may open which page: the signed-in pages open, an anonymous visitor is refused."""

from __future__ import annotations

from pathlib import Path

from dmi.service.store import Store

from .drive import (
    MIIT,
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


def test_signed_in_pages_open(page: Page) -> None:
    """The reference administration and the weights lab open for the admin, signed in once."""
    open_page(page, "/admin?lang=zh")
    sign_in(page, "boss")
    page.locator(key("admin_source")).wait_for()
    assert not errors(page), errors(page)
    shot(page, "admin")
    navigate(page, text("nav_weights", "zh"))
    page.locator(key("A_weight")).wait_for()
    assert page.locator(key("login_name")).count() == 0  # the session kept its sign-in
    assert not errors(page), errors(page)
    shot(page, "weights-lab")


def test_an_anonymous_visitor_cannot_open_restricted_pages(page: Page) -> None:
    open_page(page, "/bulk?lang=en")
    for title, role, widget in [
        ("nav_bulk", "agency", "bulk_file"),
        ("nav_weights", "researcher", "A_weight"),
        ("nav_admin_ref", "admin", "admin_source"),
    ]:
        if title != "nav_bulk":
            navigate(page, text(title, "en"))
        notice = page.locator("[data-testid='stAlertContentInfo']")
        expect(notice).to_have_text(text("login_needed", "en", role=text(f"role_{role}", "en")))
        expect(page.locator(key("login_name"))).to_be_visible()
        assert page.locator(key(widget)).count() == 0
        assert page.locator("[data-testid='stFileUploader']").count() == 0


def test_the_survey_opens_at_its_own_address(page: Page, server_database: Path) -> None:
    # "…/survey?resume=CODE&lang=en" (docs/app.md) showed Streamlit's "Page not found": the
    # survey, the default page, was served only at the app's root
    code = Store(f"sqlite:///{server_database}").new_draft(MIIT, "zh")
    open_page(page, f"/survey?resume={code}&lang=en")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(code)).to_be_visible()  # the draft resumed
    expect(page.locator(key("lang_switch")).locator("input").nth(1)).to_be_checked()
    assert page.get_by_role("dialog").count() == 0, page.get_by_role("dialog").all_inner_texts()
    assert not errors(page), errors(page)
    # the app's root opens it too, at its own address, the code and language kept
    open_page(page, f"/?resume={code}&lang=en")
    page.wait_for_url(f"**/survey?*resume={code}*")
    settle(page)
    expect(sidebar.get_by_text(code)).to_be_visible()
    assert "lang=en" in page.url
    assert page.get_by_role("dialog").count() == 0


def test_the_tab_s_title_is_in_the_visit_s_language(page: Page) -> None:
    # an English page's tab read "dmi · 中小企业数字化发展指数"
    open_page(page, "/survey?lang=en")
    expect(page).to_have_title("dmi · SME Digital Maturity Index")
    open_page(page, "/survey?lang=zh")
    expect(page).to_have_title("dmi · 中小企业数字化发展指数")

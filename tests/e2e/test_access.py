"""Who may open which page: the signed-in pages open, an anonymous visitor is refused."""

from __future__ import annotations

from .drive import (
    Page,
    errors,
    expect,
    key,
    navigate,
    open_page,
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

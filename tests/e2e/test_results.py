"""The results page in a real browser: the address carries the read-only link, not the resume
code; the link opens the results (not the survey) on a 390 x 844 phone, where every
improvement's points are on screen; in Chinese and in English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import dmi
from dmi.locales import text as say
from dmi.service.store import view_token

from .drive import Page, errors, expect, key, metrics, new_visitor, settle, shot, text

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def company(server: str, server_database: Path, miit: dmi.Instrument) -> str:
    """A company that has submitted, stored in the app server's own database; its resume code."""
    from dmi.service.reference import shipped_reference
    from dmi.service.store import Store

    store = Store(f"sqlite:///{server_database}")
    stored = store.ensure_reference(lambda: shipped_reference(miit.id), miit.id)
    answers = {"sector": "C34", "size_class": "small", "region": "33", "employees": 85}
    answers["company_name"] = "𠮷祥精密"
    for item in miit.items:  # the lowest answers: room to improve everywhere
        if item.type in ("single", "multi"):
            answers[item.code] = min(item.options, key=lambda o: o.points).value
        elif item.type == "number":
            answers[item.code] = item.bands[0].value
        elif item.type == "scenario":
            answers[item.code] = 0
    token = store.new_draft(miit.id, "zh")
    store.save_draft(token, answers, page=0)
    result = stored.load().assess(answers)
    store.submit(token, answers, stored.version, dict(result.scores_row))
    return token


@pytest.fixture
def phone(browser, server: str) -> Iterator[Page]:
    """A visitor on a 390 x 844 phone, with no session of the company's."""
    tab = new_visitor(
        browser, server, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    yield tab
    tab.context.close()


def _points_on_screen(page: Page, width: int) -> int:
    """Check that every improvement card's points (its first, bold words) lie within the
    viewport's width; return how many cards there are."""
    cards = page.locator("[class*='st-key-improvement_']")
    expect(cards.first).to_be_visible()
    n = cards.count()
    for i in range(n):
        points = cards.nth(i).locator("strong").first
        points.scroll_into_view_if_needed()
        expect(points).to_be_visible()
        box = points.bounding_box()
        assert box is not None and box["width"] > 0
        assert 0 <= box["x"] and box["x"] + box["width"] <= width, (i, box)
        assert points.inner_text().startswith("+")
    return n


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_read_only_link_opens_the_results_and_not_the_survey(
    page: Page, phone: Page, company: str, lang: str
) -> None:
    view = view_token(company)
    # the company (its code in the address, as an older link had it) at 1280 px
    page.goto(f"/results?resume={company}&lang={lang}")
    settle(page)
    assert not errors(page), errors(page)
    page.wait_for_url(f"**view={view}**")
    assert company not in page.url
    expect(page.locator(key("edit_answers"))).to_be_visible()
    link = page.locator("[data-testid='stCode']").inner_text().strip()
    assert f"view={view}" in link and company not in link and f"lang={lang}" in link
    assert _points_on_screen(page, 1280) >= 3
    if lang == "zh":
        shot(page, "results-share", page.locator("[data-testid='stCode']"))

    # anyone with the link, on a phone: the results, read-only, every card's points on screen
    phone.goto(link)
    settle(phone)
    assert not errors(phone), errors(phone)
    shown = metrics(phone)
    assert text("index", lang) in shown and shown[text("index", lang)]
    expect(phone.get_by_text(say("results.read_only", lang))).to_be_visible()
    assert phone.locator(key("edit_answers")).count() == 0
    assert phone.locator("[data-testid='stCode']").count() == 0
    assert _points_on_screen(phone, PHONE["width"]) >= 3
    if lang == "zh":
        shot(phone, "results-phone", phone.locator("[class*='st-key-improvement_']").first)

    # the view token is no resume code: the survey does not open with it
    phone.goto(f"/?resume={view}&lang={lang}")
    settle(phone)
    expect(phone.get_by_text(text("resume_unknown", lang))).to_be_visible()
    assert phone.locator(key("submit")).count() == 0
    assert phone.locator(key("next")).count() == 0

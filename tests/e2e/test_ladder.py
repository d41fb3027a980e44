"""A company takes the 梯度培育 pre-check in a real browser (Chinese at 1280 px, English on a
390 × 844 phone): it fills in its facts and sees, rung by rung, the statuses
``dmi.eligibility.evaluate`` gives for the same facts, on a page no wider than the screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import dmi.eligibility as el
from dmi.locales import text
from dmi.results.ladder import status_text
from dmi.service.store import Store

from .drive import (
    Page,
    choose,
    errors,
    expect,
    key,
    new_visitor,
    open_page,
    pick,
    saved,
    settle,
    shot,
)

# a firm worked by hand in tests/test_service_ladder.py: 专精特新 not yet (debt 81%, R&D 2.4%)
FIRM = {
    "holds_innovative": "yes",
    "sme": "yes",
    "credit_clean": "yes",
    "product_allowed": "yes",
    "no_incident": "yes",
    "revenue_y1": 4000,
    "revenue_y2": 3600,
    "main_revenue_y1": 3600,
    "debt_ratio": 81,
    "rd_y1": 96,
    "rd_y2": 120,
    "ip_class1": 1,
    "niche_years": 4,
    "eval_score": 55,
}
YESNO = [None, "yes", "no"]  # the order of the page's yes/no options
LANGUAGE_NAME = {"zh": "中文", "en": "English"}  # the sidebar's switch


@pytest.fixture
def phone(browser, server) -> Iterator[Page]:
    """A fresh visitor on a 390 × 844 phone screen."""
    tab = new_visitor(
        browser,
        server,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield tab
    tab.context.close()


def _open_groups(page: Page) -> None:
    """Open every group of the form (the first two are open already). Opening is the
    browser's own (no rerun); the next action waits for its widget to show.

    From the last group up: a group opening moves everything below it while it unfolds, and a
    click waits until its target stands still (about a second a group, top down); the groups
    above one that opens stay where they are."""
    groups = page.locator("[data-testid='stMain'] [data-testid='stExpander'] details").all()
    for details in reversed(groups):
        if details.get_attribute("open") is None:
            details.locator("summary").click()


def fill_facts(page: Page, facts: dict, lang: str) -> None:
    for code, value in facts.items():
        fact = el.FACTS[code]
        name = f"f_{code}"
        if not page.locator(key(name)).is_visible():
            _open_groups(page)
        if fact.type == "number":
            box = page.locator(f"{key(name)} input")
            box.fill(str(value))
            box.press("Tab")  # Streamlit takes a typed value when the field loses focus
        elif fact.type == "yesno":
            pick(page, name, YESNO.index(value))
        else:
            label = next(v for v in fact.values if v.value == value).label(lang)
            choose(page, name, label)
        saved(page)  # every change reruns the page (saved and evaluated again)


def _head(page: Page, rung: str):
    """The first line of a rung's box: its name and status badge."""
    return page.locator(f"{key('ladder_rung_' + rung)} [data-testid='stMarkdownContainer']").first


def shown_statuses(page: Page) -> dict[str, str]:
    return {rung: _head(page, rung).inner_text().replace("\u2060", "") for rung in el.RUNGS}


def start_check(tab: Page, lang: str) -> None:
    """Open the pre-check on its own, agree to the notice and start: a new code."""
    open_page(tab, f"/ladder?lang={lang}")
    assert not errors(tab), errors(tab)
    tab.locator(f"{key('ladder_consent')} label").click()
    saved(tab)
    tab.locator(f"{key('ladder_start')} button").click()
    tab.wait_for_url("**resume=*")
    settle(tab)
    expect(tab.locator(key("ladder_policy"))).to_be_visible()


@pytest.mark.parametrize(("lang", "width"), [("zh", 1280), ("en", 390)])
def test_a_company_sees_the_ladder_the_api_gives(
    request: pytest.FixtureRequest, lang: str, width: int
) -> None:
    tab: Page = request.getfixturevalue("phone" if width == 390 else "page")
    start_check(tab, lang)

    fill_facts(tab, FIRM, lang)
    assert not errors(tab), errors(tab)
    expect(tab.locator(key("ladder_rung_little_giant"))).to_be_visible()

    result = el.evaluate(FIRM, policy="2026", lang=lang)
    shown = shown_statuses(tab)
    for rung in el.RUNGS:
        held = result[rung].held  # the firm holds 创新型: said as held, not by its evaluation
        status = (
            text("ladder.status_held", lang) if held else status_text(result[rung].status, lang)
        )
        assert result[rung].label in shown[rung], shown[rung]
        assert status in shown[rung], shown[rung]
    assert result["specialised"].status == "not_yet"
    # the gap in the firm's own numbers
    gaps = tab.locator(key("ladder_rung_specialised")).inner_text()
    assert "81%" in gaps and "80%" in gaps
    if width == 390:
        # nothing wider than the phone: no sideways scrolling of the page
        wide = tab.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, wide
        main = tab.locator("[data-testid='stMain']")
        assert main.evaluate("(e) => e.scrollWidth <= e.clientWidth + 1")
        shot(tab, "ladder-phone", at=_head(tab, "specialised"))
    else:
        shot(tab, "ladder", at=_head(tab, "innovative"))

    # a reload with the code brings the result back (kept with the code)
    tab.reload()
    settle(tab)
    expect(tab.locator(key("ladder_rung_specialised"))).to_be_visible()
    assert shown_statuses(tab) == shown

    # the other language: the dropdowns show their choice in it (the browser kept the name of
    # the language before, while the list offered the new one)
    other = "en" if lang == "zh" else "zh"
    switch = tab.locator(f"{key('lang_switch')} label").filter(has_text=LANGUAGE_NAME[other])
    if width == 390:
        tab.get_by_test_id("stExpandSidebarButton").click()
    switch.click()
    settle(tab, rerun=True)
    held = next(v for v in el.FACTS["holds_innovative"].values if v.value == "yes")
    expect(tab.locator(f"{key('f_holds_innovative')} input")).to_have_value(held.label(other))
    # and the yes/no answers stay ticked (no option was: the answers kept, but looking lost),
    # the one never given on "not given"
    for name, value in (("f_sme", "yes"), ("f_high_tech_title", None)):
        ticked = tab.locator(f"{key(name)} [role='radiogroup'] input").nth(YESNO.index(value))
        expect(ticked).to_be_checked()
    title = el.load_policy("2026").title.get(other)
    box = tab.locator(f"{key('ladder_policy')} input")
    expect(box).to_have_value(re.compile(re.escape(title)))


def test_a_number_emptied_in_the_box_is_unknown_again(page: Page, server_database: Path) -> None:
    # the box came back with the number saved before ("60.00") and the result kept using it
    start_check(page, "zh")
    code = page.url.split("resume=")[1].split("&")[0]
    group = page.locator("[data-testid='stExpander']").filter(has=page.locator(key("f_debt_ratio")))
    group.locator("summary").click()  # only its group: opening all costs seconds
    box = page.locator(f"{key('f_debt_ratio')} input")
    box.fill("60")
    box.press("Tab")
    saved(page)
    # a change after the number's: the number now comes from the store
    fill_facts(page, {"sme": "yes"}, "zh")
    expect(box).to_have_value(re.compile(r"^60"))
    box.click()
    box.press("ControlOrMeta+a")
    box.press("Delete")
    box.press("Tab")
    saved(page)
    expect(box).to_have_value("")
    assert Store(f"sqlite:///{server_database}").ladder(code).facts == {"sme": "yes"}

"""The survey as it flows, in a real browser (issue 17): the language chosen holds against the
browser's own and keeps unsaved answers, "none" is exclusive, the scenario matrix on a phone is
scored as ``dmi score`` scores it, the browser's back and forward buttons move between pages,
and the review opens one page to edit and comes back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import dmi
from dmi.service.survey import answer_summary, item_widget, survey_pages

from .drive import (
    Page,
    cli_scores,
    click,
    company_answers,
    errors,
    expect,
    fill_page,
    key,
    metrics,
    new_visitor,
    next_page,
    open_page,
    pick,
    pill,
    saved,
    settle,
    shot,
    start_survey,
    text,
    tick,
)

HEADING = "[data-testid='stHeading'] h2"
OTHER = {"zh": "en", "en": "zh"}
LABEL = {"zh": "中文", "en": "English"}


def _visitor(browser, server: str, locale: str, width: int = 1280, height: int = 900) -> Page:
    return new_visitor(browser, server, viewport={"width": width, "height": height}, locale=locale)


@pytest.fixture
def visitors(browser, server) -> Iterator[list[Page]]:
    """Visitors made by the test (each its own browser context), closed after it."""
    made: list[Page] = []
    yield made
    for tab in made:
        tab.context.close()


def _switch_language(page: Page, lang: str) -> None:
    page.locator(f"{key('lang_switch')} label").filter(has_text=LABEL[lang]).click()
    settle(page, rerun=True)


@pytest.mark.parametrize(("locale", "chosen"), [("en-US", "zh"), ("zh-CN", "en")])
def test_the_language_chosen_holds_and_keeps_unsaved_answers(
    browser, server: str, miit: dmi.Instrument, visitors: list[Page], locale: str, chosen: str
) -> None:
    page = _visitor(browser, server, locale)
    visitors.append(page)
    open_page(page, "/")
    first = OTHER[chosen]  # the browser's language
    expect(page.locator(key("start"))).to_contain_text(text("start", first))
    _switch_language(page, chosen)
    assert f"lang={chosen}" in page.url
    page.locator(f"{key('consent')} label").click()
    saved(page)
    click(page, "start")
    pages = survey_pages(miit)
    heading = page.locator(HEADING).first
    expect(heading).to_have_text(pages[0].title(chosen))  # not the browser's language
    assert f"lang={chosen}" in page.url
    next_page(page)  # the profile is optional
    expect(heading).to_have_text(pages[1].title(chosen))

    # answers given and not yet sent with a button: a radio choice and two ticks
    coverage = item_widget(miit, miit.item("it_coverage"), None, chosen)
    pick(page, "q_it_coverage", 2)
    saved(page)
    network = miit.item("network")
    ticked = [o for o in network.options if not o.exclusive][:2]
    for option in ticked:
        tick(page, "q_network", option.zh if chosen == "zh" else option.en)
    _switch_language(page, first)
    expect(heading).to_have_text(pages[1].title(first))
    assert f"lang={first}" in page.url
    radio = page.locator(f"{key('q_it_coverage')} input[type='radio']").nth(2)
    expect(radio).to_be_checked()
    relabelled = item_widget(miit, miit.item("it_coverage"), None, first).labels
    expect(page.locator(key("q_it_coverage"))).to_contain_text(relabelled[coverage.values[2]])
    for option in ticked:  # the chips say it in the new language, still ticked
        expect(
            pill(page, "q_network", option.zh if first == "zh" else option.en)
        ).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"{key('q_network')} button[aria-pressed='true']")).to_have_count(2)
    # a reload keeps the language and the answers (the address carries both)
    page.reload()
    settle(page)
    expect(heading).to_have_text(pages[1].title(first))
    expect(page.locator(f"{key('q_it_coverage')} input[type='radio']").nth(2)).to_be_checked()
    assert not errors(page), errors(page)

    # a link with ?lang= opens in that language in a browser set to the other one
    link = _visitor(browser, server, "en-US" if chosen == "zh" else "zh-CN")
    visitors.append(link)
    open_page(link, f"/?lang={chosen}")
    expect(link.locator(key("start"))).to_contain_text(text("start", chosen))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_none_is_exclusive_and_nothing_is_in_another_language(
    page: Page, miit: dmi.Instrument, lang: str
) -> None:
    start_survey(page, lang)
    next_page(page)
    network = miit.item("network")
    none = next(o for o in network.options if o.exclusive)
    others = [o for o in network.options if not o.exclusive]

    def name(option) -> str:
        return option.zh if lang == "zh" else option.en

    pressed = page.locator(f"{key('q_network')} button[aria-pressed='true']")
    for option in others[:2]:
        tick(page, "q_network", name(option))
    expect(pressed).to_have_count(2)
    tick(page, "q_network", name(none))  # ticking "none" clears the others
    expect(pressed).to_have_count(1)
    expect(pill(page, "q_network", name(none))).to_have_attribute("aria-pressed", "true")
    tick(page, "q_network", name(others[2]))  # and another clears "none"
    expect(pressed).to_have_count(1)
    expect(pill(page, "q_network", name(others[2]))).to_have_attribute("aria-pressed", "true")
    assert page.get_by_text("Select all", exact=True).count() == 0  # Streamlit's own
    assert not errors(page), errors(page)


def test_on_a_phone_the_matrix_the_review_and_the_back_button_work_and_score_as_dmi_score(
    browser, server: str, miit: dmi.Instrument, visitors: list[Page], tmp_path: Path
) -> None:
    page = _visitor(browser, server, "zh-CN", width=390, height=844)
    visitors.append(page)
    lang = "zh"
    answers = company_answers(miit)
    start_survey(page, lang)
    pages = survey_pages(miit)
    heading = page.locator(HEADING).first
    for number, survey_page in enumerate(pages):
        expect(heading).to_have_text(survey_page.title(lang))
        fill_page(page, miit, survey_page, answers, lang)
        if survey_page.code == "operations":
            shot(page, "survey-matrix-phone", page.locator(key(f"row_{survey_page.items[0].code}")))
            # every row and its five levels fit on the phone's screen
            for item in survey_page.items:
                box = page.locator(key(f"q_{item.code}")).bounding_box()
                assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        next_page(page)
        if number == 1:
            # the browser's back button opens the page before, forward the one after;
            # pressed once the page after is shown and settled, as a visitor would
            expect(heading).to_have_text(pages[2].title(lang))
            assert "page=3" in page.url
            settle(page)
            page.go_back()
            settle(page)
            expect(heading).to_have_text(pages[1].title(lang))
            assert "page=2" in page.url
            page.go_forward()
            settle(page)
            expect(heading).to_have_text(pages[2].title(lang))

    # the review shows every answer's label, grouped by page
    summary = answer_summary(miit, answers, lang)
    for survey_page, rows in summary:
        box = page.locator(key(f"summary_{survey_page.code}"))
        expect(box).to_contain_text(survey_page.title(lang))
        for _question, answer in rows[:3] + rows[-2:]:
            if answer is not None and survey_page.code != "profile":
                expect(box).to_contain_text(answer)
    shot(page, "survey-review-phone", page.locator(key("summary_foundation")))

    # edit one page: it opens alone and comes back to the review
    click(page, "edit_foundation")
    foundation = next(p for p in pages if p.code == "foundation")
    expect(heading).to_have_text(foundation.title(lang))
    widget = item_widget(miit, miit.item("it_coverage"), None, lang)
    changed = next(v for v in widget.values if v != answers["it_coverage"])
    pick(page, "q_it_coverage", widget.values.index(changed))
    saved(page)
    answers["it_coverage"] = changed
    expect(page.locator(key("next"))).to_contain_text("返回检查页")
    click(page, "next")
    expect(page.locator(key("summary_foundation"))).to_contain_text(widget.labels[changed])
    assert "page=review" in page.url

    click(page, "submit")
    page.wait_for_url("**/results**")
    settle(page)
    assert not errors(page), errors(page)
    row = cli_scores(answers, miit, tmp_path)
    assert metrics(page)[text("index", lang)] == f"{float(row['dmi']):.1f}"
    # the matrix's answers were stored by value: the answers file gives dmi score's result
    with page.expect_download() as download:
        page.locator(f"{key('download_csv')} button").click()
    stored = pd.read_csv(download.value.path(), encoding="utf-8-sig").iloc[0]
    for item in next(p for p in pages if p.code == "operations").items:
        assert int(stored[item.code]) == answers[item.code], item.code

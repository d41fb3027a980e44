"""A company completes the survey in Chinese and in English and sees what ``dmi score`` gives
for the same answers; a reload resumes the draft; the report downloads."""

from __future__ import annotations

from pathlib import Path

import pytest

import dmi
from dmi.service.survey import survey_pages

from .drive import (
    COMPANY_NAME,
    Page,
    cli_scores,
    click,
    company_answers,
    errors,
    expect,
    expect_answers_shown,
    expect_shown_as_text,
    expect_the_report_downloads,
    fill_page,
    metrics,
    next_page,
    settle,
    shot,
    start_survey,
    text,
)

# -- the tests ---------------------------------------------------------------------------------
# A page load costs far more than a rerun on a slow machine (the browser compiles Streamlit's
# scripts again): the tests load as few pages as they can and move between pages by the sidebar.


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_company_completes_the_survey_and_sees_the_dmi_score_result(
    page: Page, miit: dmi.Instrument, lang: str, tmp_path: Path
) -> None:
    answers = company_answers(miit)
    token = start_survey(page, lang)
    if lang == "zh":
        shot(page, "survey-profile")
    pages = survey_pages(miit)
    heading = page.locator("[data-testid='stHeading'] h2").first
    for number, survey_page in enumerate(pages):
        expect(heading).to_have_text(survey_page.title(lang))
        if lang == "zh" and survey_page.code == "foundation":
            shot(page, "survey-page-zh")
        fill_page(page, miit, survey_page, answers, lang)
        next_page(page)
        if lang == "en" and number == 1:
            # a reload mid-survey resumes the draft on the page reached, its answers kept
            page.reload()
            settle(page)
            assert f"resume={token}" in page.url
            expect(heading).to_have_text(pages[2].title(lang))
            click(page, "back")
            expect(heading).to_have_text(survey_page.title(lang))
            expect_answers_shown(page, miit, survey_page, answers)
            next_page(page)
    click(page, "submit")
    page.wait_for_url("**/results**")
    settle(page)
    assert not errors(page), errors(page)
    shown = metrics(page)

    row = cli_scores(answers, miit, tmp_path)
    band = miit.level_band(int(row["level"]))
    assert shown[text("index", lang)] == f"{float(row['dmi']):.1f}"
    assert shown[text("level", lang)] == (band.zh if lang == "zh" else band.en)
    # the company name is shown as the text it is: no tag, link or image is made of it
    expect_shown_as_text(page, page.locator("h3", has_text="精密机械").first, COMPANY_NAME)
    if lang == "zh":
        shot(page, "results")
    else:
        expect_the_report_downloads(page, shown[text("index", lang)])

"""An agency runs a file of firm facts on the 梯度培育 ladder on the bulk page."""

from __future__ import annotations

from pathlib import Path

from dmi.eligibility.synthetic import synthetic_firms
from dmi.locales import text

from .drive import Page, click, errors, expect, key, open_page, saved, settle, sign_in


def test_the_bulk_page_runs_a_facts_file_on_the_ladder(page: Page, tmp_path: Path) -> None:
    firms = synthetic_firms(30, seed=5).drop(columns=["digital_level_computed"]).astype(object)
    firms.loc[0, "debt_ratio"] = 180  # one row rejected
    source = tmp_path / "企业情况.csv"
    firms.to_csv(source, index=False)

    open_page(page, "/bulk?lang=zh")
    sign_in(page, "agent")
    page.locator(
        f"{key('bulk_what')} label", has_text=text("ladder_bulk.what_ladder", "zh")
    ).click()
    saved(page)
    page.locator(
        f"{key('ladder_file')} [data-testid='stFileUploaderDropzoneInput']"
    ).set_input_files(str(source))
    settle(page, rerun=True)
    click(page, "ladder_run")
    success = page.locator("[data-testid='stAlertContentSuccess']")
    expect(success).to_have_text(
        text("ladder_bulk.reconcile", "zh", read=30, evaluated=29, rejected=1)
    )
    # the downloads come last in the run that drew the counts: waited for, not counted at once
    expect(page.locator(key("ladder_download_candidates"))).to_have_count(1)
    assert not errors(page), errors(page)

"""An agency scores a GBK file with bad rows on the bulk page."""

from __future__ import annotations

from pathlib import Path

from .drive import (
    ROOT,
    Page,
    click,
    errors,
    expect,
    expect_shown_as_text,
    key,
    open_page,
    settle,
    shot,
    sign_in,
    text,
)


def test_the_bulk_page_scores_a_gbk_file_with_bad_rows(page: Page, tmp_path: Path) -> None:
    source = ROOT / "data" / "example-bulk.csv"
    gbk = tmp_path / "企业问卷.csv"
    # with one more column, whose header is markup (ignored, listed as unrecognised)
    lines = source.read_text(encoding="utf-8-sig").splitlines()
    header = "[Verify](http://127.0.0.1:9/v) ![t](http://127.0.0.1:9/t.png)"
    lines = [lines[0] + f',"{header}"'] + [line + ",x" for line in lines[1:]]
    gbk.write_bytes("\n".join(lines).encode("gb18030"))

    open_page(page, "/bulk?lang=en")
    shot(page, "sign-in")
    sign_in(page, "agent")
    page.locator(f"{key('bulk_file')} [data-testid='stFileUploaderDropzoneInput']").set_input_files(
        str(gbk)
    )
    settle(page, rerun=True)
    page.locator(f"{key('bulk_score')} button").wait_for()
    listed = page.locator("[data-testid='stMarkdownContainer']", has_text="Verify")
    expect_shown_as_text(page, listed.last, header)
    click(page, "bulk_score")
    success = page.locator("[data-testid='stAlertContentSuccess']")
    # dmi score on the same file: 40 rows read, 32 scored, 8 rejected
    expect(success).to_have_text(text("reconcile", "en", read=40, scored=32, rejected=8))
    assert not errors(page), errors(page)
    shot(page, "bulk", at=success)

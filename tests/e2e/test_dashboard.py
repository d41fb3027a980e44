"""An agency, in a real browser: an XLSX export with title rows above its header on the bulk
page, then the dashboard of the app's submissions, filtered and exported.

The dashboard counts what is in the app's database, so this file starts an app server of its
own on a database holding the hand-made submissions of tests/test_service_dashboard.py (counted
by hand there); the shared server's database holds whatever the other journeys submitted.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from dmi.locales import text as locale_text
from dmi.service.store import Store

from ..test_service_dashboard import populate
from .conftest import app_server
from .drive import (
    MISSING_BROWSER,
    ROOT,
    click,
    errors,
    expect,
    key,
    metrics,
    navigate,
    new_visitor,
    open_page,
    settle,
    shot,
    sign_in,
    text,
)

if MISSING_BROWSER is None:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run`` on a database of the hand-made submissions; yields the URL."""
    work = tmp_path_factory.mktemp("e2e-dashboard")
    database = f"sqlite:///{work / 'app.sqlite'}"
    populate(Store(database))
    with app_server(work, database) as url:
        yield url


@pytest.fixture
def agency_page(browser: Browser, own_server: str) -> Iterator[Page]:
    tab = new_visitor(browser, own_server)
    yield tab
    tab.context.close()


def agency(name: str, lang: str, **values) -> str:
    return locale_text(f"agency.{name}", lang, **values)


def titled_workbook(path: Path) -> Path:
    """The shipped example as an XLSX export with a title and a date above the header."""
    source = pd.read_csv(
        ROOT / "data" / "example-bulk.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    book = Workbook()
    sheet = book.active
    sheet.title = "汇总"
    sheet.append(["2026年中小企业数字化水平评测汇总表"])
    sheet.append(["导出日期", "2026-11-30"])
    sheet.append(list(source.columns))
    for values in source.itertuples(index=False):
        sheet.append([v if v != "" else None for v in values])
    book.save(path)
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_agency_reads_a_titled_workbook_and_its_dashboard(
    agency_page: Page, tmp_path: Path, lang: str
) -> None:
    page = agency_page
    open_page(page, f"/bulk?lang={lang}")
    sign_in(page, "agent")
    # Streamlit's own button label (English "Upload") gives way to the page's word
    label = page.locator(f"{key('bulk_file')} [data-testid='stFileUploaderDropzone'] button p")
    shown = label.first.evaluate("(p) => getComputedStyle(p, '::after').content")
    assert shown == f'"{agency("upload_button", lang)}"'
    if lang == "zh":
        shot(page, "bulk-empty-zh", at=page.locator(key("bulk_file")))
    workbook = titled_workbook(tmp_path / "汇总表.xlsx")
    page.locator(f"{key('bulk_file')} [data-testid='stFileUploaderDropzoneInput']").set_input_files(
        str(workbook)
    )
    settle(page, rerun=True)
    # the header row found below the two title rows, and said so
    info = page.locator("[data-testid='stAlertContentInfo']").first
    expect(info).to_have_text(agency("header_row", lang, row=3, titles=2))
    # Streamlit's English limits line is hidden; the page says it in its language
    expect(page.locator("[data-testid='stFileUploaderDropzoneInstructions']")).to_be_hidden()
    click(page, "bulk_score")
    success = page.locator("[data-testid='stAlertContentSuccess']")
    # dmi score on the same rows (the CSV): 40 read, 32 scored, 8 rejected
    expect(success).to_have_text(text("reconcile", lang, read=40, scored=32, rejected=8))
    assert not errors(page), errors(page)
    shot(page, f"bulk-title-rows-{lang}", at=success)

    navigate(page, agency("nav_dashboard", lang))
    page.locator("[data-testid='stMetric']").first.wait_for()
    # counted by hand in tests/test_service_dashboard.py
    assert list(metrics(page).values()) == ["5", "8", "3", "51.0"]
    shot(page, f"dashboard-{lang}")
    body = page.locator("[data-testid='stMain']").inner_text()
    assert "C14" not in body and "C33" not in body
    # filter: Zhejiang only
    box = page.locator(f"{key('dash_regions')} input")
    box.click()
    box.fill({"zh": "浙江", "en": "Zhejiang"}[lang])
    page.locator("[role='option']").first.click()
    page.keyboard.press("Escape")
    settle(page, rerun=True)
    expect(page.locator("[data-testid='stMetricValue']").first).to_have_text("3")
    assert list(metrics(page).values())[:3] == ["3", "6", "3"]
    # the export: the selection, by name
    with page.expect_download() as waiting:
        page.locator(f"{key('dash_export')} button").click()
    book = load_workbook(io.BytesIO(Path(waiting.value.path()).read_bytes()))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 4  # a header and the three companies of Zhejiang
    province = {"zh": "浙江省", "en": "Zhejiang"}[lang]
    assert {r[1] for r in rows[1:]} == {province}

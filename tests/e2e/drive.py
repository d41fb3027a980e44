"""Driving the app in a headless Chromium (Playwright): what every browser test uses.

When Chromium or Playwright is missing, the browser tests are skipped (``conftest.py``), unless
``DMI_REQUIRE_BROWSER=1`` (as in CI), where that is a failure. Widgets are found by their key
(Streamlit gives a widget with ``key="x"`` the CSS class ``st-key-x``) and texts are taken from the
app's entries of :mod:`dmi.locales`, so the tests do not depend on the display language. With
``DMI_SCREENSHOTS=1`` the tests save screenshots to ``docs/screenshots/``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pandas as pd

import dmi
from dmi import locales
from dmi.cli import main as cli_main
from dmi.service.survey import answers_frame, item_widget

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the environment's own streamlit command
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"  # Debian's package
SCREENSHOTS = ROOT / "docs" / "screenshots"
SAVE_SCREENSHOTS = os.environ.get("DMI_SCREENSHOTS") == "1"
MIIT = "miit-2024-manufacturing"
ACCOUNTS = {"agent": ("pw-agency-e2e", ["agency"]), "boss": ("pw-admin-e2e", ["admin"])}
COMPANY_NAME = (
    "精密机械 <b>e2e</b> ![t](http://127.0.0.1:9/t.png) [Verify](http://127.0.0.1:9/v) "
    "www.example.com a@example.com *em*"
)
# the first submit builds the shipped reference: slow on a shared machine; but a page that never
# shows what is expected (an app error) must fail in minutes, not hold CI for an hour
WAIT_MS = int(os.environ.get("DMI_E2E_TIMEOUT_MS", "180000"))


def _missing_browser() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


MISSING_BROWSER = _missing_browser()
"""Why the browser tests cannot run here (None when they can): see ``conftest.py``."""

if MISSING_BROWSER is None or "playwright" not in MISSING_BROWSER:
    from playwright.sync_api import (  # noqa: E402
        Page,
        expect,
    )
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

    expect.set_options(timeout=WAIT_MS)  # assertions wait as long as actions


# -- interface text -----------------------------------------------------------------------------
def text(key: str, lang: str, **values: Any) -> str:
    """The app's interface text, as ``dmi_ui.t`` gives it."""
    return locales.text(f"app.{key}", lang, **values)


# -- driving Streamlit --------------------------------------------------------------------------
# The app's script runs, counted in the page as they end (the state attribute leaves "running"),
# so that a wait for the rerun an action caused cannot miss one that started and ended before it
# looked: every visitor's context carries this script (``new_visitor``).
RUN_COUNTER = """
window.__dmiDone = 0;
window.__dmiSeen = 0;
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.oldValue === "running") window.__dmiDone += 1;
  }
}).observe(document, {
  subtree: true,
  attributes: true,
  attributeOldValue: true,
  attributeFilter: ["data-test-script-state"],
});
"""
# a run has started (and maybe ended) since the page last settled
_RAN = """() => window.__dmiDone + (document.querySelector(
  "[data-test-script-state='running']") ? 1 : 0) > window.__dmiSeen"""
# an action that causes no rerun (a value typed again) costs this long, and no more
RERUN_START_MS = 3000


def new_visitor(browser: Any, base_url: str, **options: Any) -> Page:
    """A fresh visitor of the app at ``base_url``: its own browser context (cookies, Streamlit
    session), the run counter installed, every step waiting at most ``WAIT_MS``. ``options`` go
    to ``Browser.new_context`` (viewport, locale, ...)."""
    context = browser.new_context(
        **{"viewport": {"width": 1280, "height": 900}, "accept_downloads": True, **options},
        base_url=base_url,
    )
    context.set_default_timeout(WAIT_MS)
    context.add_init_script(RUN_COUNTER)
    return context.new_page()


def _ran(page: Page) -> None:
    """Wait until a run has started since the page last settled (bounded: an action may cause
    none)."""
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(_RAN, timeout=RERUN_START_MS)


# the app is connected, the script has finished and nothing is stale, all at one moment (both
# states are on the app's visible root); then the runs seen so far are counted, in the same look
_IDLE = """() => {
  const shown = (selector) => {
    const found = document.querySelector(selector);
    return found !== null && found.getClientRects().length > 0
      && getComputedStyle(found).visibility !== "hidden";
  };
  if (!shown("[data-testid='stApp'][data-test-connection-state='CONNECTED']")) return false;
  if (!shown("[data-test-script-state='notRunning']")) return false;
  if (document.querySelector("[data-testid='stSkeleton'], [data-stale='true']")) return false;
  if (window.__dmiDone === undefined) {
    throw new Error("the page has no run counter: make it with new_visitor()");
  }
  window.__dmiSeen = window.__dmiDone;
  return true;
}"""


def _idle(page: Page) -> None:
    """Wait until the app is connected, the script has finished and nothing is stale; count the
    runs seen so far. One look in the page checks all three (a look each cost two more round
    trips to the browser at every step of a journey)."""
    page.wait_for_function(_IDLE)


def settle(page: Page, rerun: bool = False) -> None:
    """Wait until the app is connected, the script has finished and nothing is stale.

    With ``rerun`` (after a click), first wait for the rerun the click caused to start, so that
    the state of the previous run is not taken for the result. A button's run may end in
    ``st.rerun()`` (or a page switch), which starts a second run just after the first ends: the
    short pause lets it begin before the page is taken as settled.
    """
    if rerun:
        _ran(page)
    page.wait_for_timeout(200)
    _idle(page)


def saved(page: Page) -> None:
    """After one widget's value changed: wait for the one run that saves it to start and end
    (a widget's change reruns the page once: no ``st.rerun()`` follows, so no pause is needed)."""
    _ran(page)
    _idle(page)


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    settle(page)


def key(name: str) -> str:
    return f".st-key-{name}"


def click(page: Page, name: str) -> None:
    """Click the button with key ``name`` and wait for the rerun."""
    page.locator(f"{key(name)} button").click()
    settle(page, rerun=True)


def choose(page: Page, name: str, label: str) -> None:
    """Pick ``label`` in the selectbox or multiselect with key ``name``."""
    box = page.locator(f"{key(name)} input")
    box.click()
    box.fill(label)
    page.locator("[role='option']").filter(has_text=label).first.click()
    # a multiselect keeps its list open: Escape closes it. A selectbox's list is closed by the
    # click, and Escape in a clearable selectbox clears what was just chosen: not pressed then
    if (
        page.locator("[role='listbox']").count()
        and page.locator("[role='listbox']").first.is_visible()
    ):
        page.keyboard.press("Escape")


def shot(page: Page, name: str, at: Any = None) -> None:
    """Save a screenshot of the page, scrolled to ``at`` (a locator) or else to its top."""
    if SAVE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # a click further down scrolls the main area: show the top, or what the test looks at
        target = at or page.locator("[data-testid='stMain'] h1, [data-testid='stMain'] h2").first
        if target.count():
            target.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def errors(page: Page) -> list[str]:
    """Error boxes and exceptions on the page."""
    boxes = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    return boxes.all_inner_texts()


def sign_in(page: Page, name: str) -> None:
    page.locator(f"{key('login_name')} input").fill(name)
    page.locator(f"{key('login_password')} input").fill(ACCOUNTS[name][0])
    page.locator("[data-testid='stFormSubmitButton'] button").click()
    settle(page, rerun=True)


# -- a company's answers ------------------------------------------------------------------------
def company_answers(instrument: dmi.Instrument) -> dict[str, Any]:
    """A middling company, as the widgets give answers (codes, lists, ints)."""
    answers: dict[str, Any] = {
        "sector": "C34",
        "size_class": "small",
        "region": "32",
        "employees": 120,
        "revenue_band": "3m_20m",
        # markup of every kind, to be shown as the text it is (the addresses lead nowhere)
        "company_name": COMPANY_NAME,
    }
    for number, item in enumerate(instrument.items):
        answers[item.code] = _MIDDLING[item.type](instrument, item, number)
    return answers


# a middling answer to the number-th item, by item type
_MIDDLING = {
    "single": lambda instrument, item, number: (
        item.options[min(1 + number % 3, len(item.options) - 1)].value
    ),
    "multi": lambda instrument, item, number: [o.value for o in item.options if not o.exclusive][
        : 1 + number % 2
    ],
    "number": lambda instrument, item, number: item.bands[number % len(item.bands)].value,
    "scenario": lambda instrument, item, number: (number * 3) % len(instrument.scenario_levels),
    "likert": lambda instrument, item, number: item.scale.max - 1,
    "yesno": lambda instrument, item, number: "yes",
}


def _multiselect(instrument: dmi.Instrument, item: Any) -> bool:
    """Whether the survey page asks the item with pills to tick (else with radio buttons)."""
    return item_widget(instrument, item, None, "en").kind == "multiselect"


def _in_matrix(instrument: dmi.Instrument, item: Any) -> bool:
    """Whether the survey page asks the item as a row of a matrix (a segmented control)."""
    return bool(item_widget(instrument, item, None, "en").scale)


def pill(page: Page, name: str, label: str) -> Any:
    """The pill labelled ``label`` of the multiple choice with key ``name``."""
    return page.locator(key(name)).get_by_role("button", name=label, exact=True)


def tick(page: Page, name: str, label: str) -> None:
    """Tick (or untick) the pill ``label`` of the multiple choice ``name``; wait for the save."""
    pill(page, name, label).click()
    saved(page)


def rate(page: Page, name: str, value: Any) -> None:
    """Choose ``value`` in the matrix row (segmented control) with key ``name``."""
    option = page.locator(key(name)).get_by_role("radio", name=str(value), exact=True)
    option.click()
    saved(page)
    expect(option).to_have_attribute("aria-checked", "true")


def _options(instrument: dmi.Instrument, item: Any) -> list[Any]:
    """The radio options of an item in the order the survey page shows them."""
    return item_widget(instrument, item, None, "en").values


def fill_page(
    page: Page, instrument: dmi.Instrument, survey_page: Any, answers: dict[str, Any], lang: str
) -> None:
    """Answer one survey page, once its heading is shown (each change reruns the page once, which
    saves it to the draft)."""
    # the page's heading can show while the run that draws it is still going (on a loaded machine
    # the rerun may even start after settle stopped looking for it): answers ticked then can be
    # lost when the run ends, so wait for it to end first. The heading is drawn by the last run
    # of a change of page (that run starts no other): once it shows, no pause for one to follow,
    # as settle makes
    heading = page.locator("[data-testid='stHeading'] h2").first
    expect(heading).to_have_text(survey_page.title(lang))
    _idle(page)
    for field in survey_page.profile:
        value = answers.get(field.code)
        if value is None:  # an optional field left blank
            continue
        if field.type == "choice":
            option = next(o for o in field.options if o.value == value)
            choose(page, f"p_{field.code}", option.zh if lang == "zh" else option.en)
        else:
            box = page.locator(f"{key('p_' + field.code)} input")
            box.fill(str(value))
            box.press("Tab")  # Streamlit takes a typed value when the field loses focus
        saved(page)  # every change is saved at once
    for item in survey_page.items:
        value = answers[item.code]
        if _multiselect(instrument, item):
            labels = {o.value: (o.zh if lang == "zh" else o.en) for o in item.options}
            for chosen in value:
                tick(page, f"q_{item.code}", labels[chosen])
        elif _in_matrix(instrument, item):
            rate(page, f"q_{item.code}", value)
        else:
            pick(page, f"q_{item.code}", _options(instrument, item).index(value))
            saved(page)


def pick(page: Page, name: str, index: int) -> None:
    """Tick option ``index`` of the radio group with key ``name``, and see that it took.

    A click that lands while the page is still being redrawn can be lost (seen once in ~20
    runs: the form then said the question was unanswered), so it is retried.
    """
    option = page.locator(f"{key(name)} [role='radiogroup'] label").nth(index)
    for attempt in range(3):
        option.click()
        try:
            expect(option.locator("input")).to_be_checked(timeout=2000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def start_survey(page: Page, lang: str) -> str:
    """Open the survey, check the consent notice, agree, start; the resume code from the address."""
    open_page(page, f"/?lang={lang}")
    expect(page.locator(key("consent"))).to_be_visible()
    expect(page.locator(key("start"))).to_be_visible()
    assert not errors(page), errors(page)
    if lang == "zh":
        shot(page, "survey-start")
    page.locator(f"{key('consent')} label").click()
    saved(page)
    click(page, "start")
    page.wait_for_url("**resume=*")
    token = page.url.split("resume=")[1].split("&")[0]
    assert token
    return token


def next_page(page: Page) -> None:
    click(page, "next")
    assert not errors(page), errors(page)


def expect_answers_shown(
    page: Page, instrument: dmi.Instrument, survey_page: Any, answers: dict[str, Any]
) -> None:
    """The page's widgets show the saved answers (English labels)."""
    for item in survey_page.items:
        widget = page.locator(key(f"q_{item.code}"))
        if _multiselect(instrument, item):
            labels = {o.value: o.en for o in item.options}
            chosen = widget.locator("button[aria-pressed='true']")
            expect(chosen).to_have_count(len(answers[item.code]))
            for value in answers[item.code]:
                expect(pill(page, f"q_{item.code}", labels[value])).to_have_attribute(
                    "aria-pressed", "true"
                )
        elif _in_matrix(instrument, item):
            option = widget.get_by_role("radio", name=str(answers[item.code]), exact=True)
            expect(option).to_have_attribute("aria-checked", "true")
        else:
            index = _options(instrument, item).index(answers[item.code])
            expect(widget.locator("input[type='radio']").nth(index)).to_be_checked()


def cli_scores(answers: dict[str, Any], instrument: dmi.Instrument, folder: Path) -> pd.Series:
    """What ``dmi score`` gives for the answers as a one-row table.

    The command's own entry point runs in this process: a second Python starting up beside the
    browser and the app server would only slow both down.
    """
    folder.mkdir(parents=True, exist_ok=True)
    answers_frame(instrument, answers).to_csv(folder / "answers.csv", index=False)
    code = cli_main(["score", str(folder / "answers.csv"), "-o", str(folder / "out.csv")])
    assert code == 0, f"dmi score exited with {code}"
    return pd.read_csv(folder / "out.csv", encoding="utf-8-sig").iloc[0]


def navigate(page: Page, title: str) -> None:
    """Open another page of the app from the sidebar: the same session, no page load."""
    page.locator("[data-testid='stSidebarNavLink']").filter(has_text=title).first.click()
    settle(page, rerun=True)


def metrics(page: Page) -> dict[str, str]:
    found = {}
    for metric in page.locator("[data-testid='stMetric']").all():
        label = metric.locator("[data-testid='stMetricLabel']").inner_text().strip()
        found[label] = metric.locator("[data-testid='stMetricValue']").inner_text().strip()
    return found


def expect_shown_as_text(page: Page, element: Any, text: str) -> None:
    """``element`` shows ``text`` as it is, and no text on the page became a link or image."""
    expect(element).to_be_visible()
    assert element.inner_text().replace("\u2060", "") == text
    assert element.locator("a, img, b, em").count() == 0
    # (headings carry their own anchor: a link to "#...")
    made = page.locator(
        "[data-testid='stMain'] :is([data-testid='stMarkdownContainer'], h1, h2, h3) "
        ":is(a:not([href^='#']), img)"
    )
    assert made.count() == 0, made.evaluate_all("(found) => found.map((e) => e.outerHTML)")


def expect_the_report_downloads(page: Page, index: str) -> None:
    """The results page's report downloads as HTML and as PDF, both with the index shown."""
    with page.expect_download() as html_download:
        page.locator(f"{key('download_html')} button").click()
    html = Path(html_download.value.path()).read_text(encoding="utf-8")
    assert "<html" in html.lower()
    assert index in html

    with page.expect_download() as pdf_download:
        page.locator(f"{key('download_pdf')} button").click()
    pdf = Path(pdf_download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert pdf_download.value.suggested_filename.endswith(".pdf")

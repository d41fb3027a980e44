"""The Streamlit app's page logic, without a browser (Streamlit's AppTest).

Each test drives the real pages: a company answers the survey and sees the score the library
gives for the same answers; a draft comes back by its resume code; the restricted pages refuse an
anonymous visitor and open for the right account; the weights lab and the reference
administration work end to end; user text (company names, file headers) is shown as text, never
as Markdown.
"""

from __future__ import annotations

import contextlib
import gc
import html
import os
import re
import sys

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy.stats import spearmanr

import dmi
from dmi.service.auth import secrets_entry
from dmi.service.survey import clean_answers, item_widget, survey_pages

from .conftest import ROOT, app_database

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 300  # the first run builds the shipped reference; shared CI machines are slow
HOSTILE = (
    "![t](http://example.com/t.png) [Verify](https://example.com/v) <b>x</b> www.example.com "
    "a@example.com :red[x] $x$ *em* # 精密机械"
)

# -- what Markdown shows (CommonMark's escapes, written here apart from the app) ---------------
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
# GFM's bare links: http(s)://..., www.<host>, name@host (read after escapes are resolved)
_BARE_LINK = re.compile(r"(?i)https?://|www\.|[-.\w+]@")


def shown(markdown: str) -> str:
    """The text Markdown source made only of text and escapes shows (word joiners unseen)."""
    return _ESCAPE.sub(r"\1", markdown).replace("\u2060", "")


def markup_in(markdown: str) -> list[str]:
    """Punctuation left unescaped (where a link, image, emphasis, tag ... could start), and
    bare links GFM would make."""
    return _PUNCTUATION.findall(_ESCAPE.sub("", markdown)) + _BARE_LINK.findall(
        _ESCAPE.sub(r"\1", markdown)
    )


def _dmi_ui():
    if str(ROOT / "app") not in sys.path:
        sys.path.insert(0, str(ROOT / "app"))
    import dmi_ui

    return dmi_ui


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    with app_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def own_database(tmp_path, monkeypatch):
    """A database of the test's own (sign-in failures are counted there), then the module's."""
    from streamlit.runtime.caching import cache_resource

    monkeypatch.setenv("DMI_DATABASE_URL", f"sqlite:///{tmp_path / 'own.sqlite'}")
    cache_resource.clear()
    yield
    cache_resource.clear()


@pytest.fixture
def downloads(monkeypatch):
    """What each download button of a run offers, by key (a callable's bytes made at once)."""
    from streamlit.delta_generator import DeltaGenerator

    offered: dict[str, bytes] = {}
    original = DeltaGenerator.download_button

    def recording(self, label, data, *args, **kwargs):
        offered[kwargs["key"]] = data() if callable(data) else data
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    return offered


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cells(data: bytes) -> pd.DataFrame:
    """A downloaded CSV file's cells, as text (it starts with a BOM, for Excel)."""
    import io

    assert data.startswith(b"\xef\xbb\xbf")
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _unescaped_formulas(cells: pd.DataFrame) -> list[str]:
    return [v for column in cells for v in cells[column] if v.startswith(FORMULA_START)]


def _secrets(at: AppTest) -> None:
    import tomllib

    text = (
        secrets_entry("agent", "pw-agency", ["agency"])
        + secrets_entry("scholar", "pw-research", ["researcher"])
        + secrets_entry("boss", "pw-admin", ["admin"])
    )
    for key, value in tomllib.loads(text).items():
        at.secrets[key] = value


def _app(lang: str = "zh", **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    _secrets(at)
    return at


@given(st.text(alphabet=st.sampled_from(list("![](){}<>*_`~#$:@.|-+=\\/&;%'\"1 hwtpsW精aZ09"))))
@example("资产负债率（%）")
@example("1. R&D (万元)")
@example("- &amp; x &#x41; R&D")
@example("\\&")
@example("\\:")
def test_a_label_shows_as_it_is_and_escapes_only_what_starts_markup(text):
    # a label is also its field's aria-label as given: a backslash before "%" is read aloud
    from markdown_it import MarkdownIt

    label = _dmi_ui().label_text(text)
    shown_text = " ".join(text.split())
    rendered = MarkdownIt("commonmark").enable("strikethrough").render(label)
    expected = f"<p>{html.escape(shown_text, quote=True)}</p>\n" if shown_text else ""
    assert rendered.replace("\u2060", "") == expected.replace("&#x27;", "'")
    bare = label.replace("\\\\", "")  # an escaped backslash is a backslash shown
    for harmless in "%/,;'\"(":  # never markup in a label (")" ends a list number: "1)")
        assert f"\\{harmless}" not in bare


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("资产负债率（%）", "资产负债率（%）"),
        ("R&D share (%)", "R&D share (%)"),
        ("MIIT digital level (0-4: 一级 to 四级)", "MIIT digital level (0-4: 一级 to 四级)"),
        ("&amp; :red[x] :smile: $x$", "\\&amp; \\:red\\[x\\] \\:smile: \\$x\\$"),
        ("1. a", "1\\. a"),
        ("- a", "\\- a"),
    ],
)
def test_a_label_escapes_an_entity_a_directive_a_formula_and_a_list_only(text, label):
    assert _dmi_ui().label_text(text) == label


@given(
    st.text(alphabet=st.sampled_from(list("![](){}<>*_`~#$:@.|-+=\\/&; hwtpsHTWPS精aZ09\n")))
    | st.text()
)
@example(HOSTILE)
@example("HTTPS://x.org http://y WWW.z.com mailto:a@b.c xmpp:a@b.c")
def test_literal_text_shows_as_it_is_and_starts_no_markup(text):
    markdown = _dmi_ui().literal(text)
    assert shown(markdown) == text.replace("\u2060", "")
    assert markup_in(markdown) == []


def company_answers(instrument: dmi.Instrument) -> dict[str, object]:
    """A middling company, as the app's widgets give answers (codes, lists, ints)."""
    answers: dict[str, object] = {
        "sector": "C34",
        "size_class": "small",
        "region": "32",
        "employees": 120,
        "revenue_band": instrument.profile_field("revenue_band").options[1].value,
        "company_name": "<script>alert(1)</script> " + HOSTILE,
    }
    for number, item in enumerate(instrument.items):
        answers[item.code] = _MIDDLING[item.type](item, number)
    return answers


# a middling answer to the number-th item, by item type
_MIDDLING = {
    "single": lambda item, number: item.options[min(1 + number % 3, len(item.options) - 1)].value,
    "multi": lambda item, number: [o.value for o in item.options if not o.exclusive][
        : 2 + number % 2
    ],
    "number": lambda item, number: item.bands[min(2, len(item.bands) - 1)].value,
    "scenario": lambda item, number: number % 5,
    "likert": lambda item, number: item.scale.max - 1,
    "yesno": lambda item, number: "yes",
}


def fill(at: AppTest, instrument: dmi.Instrument, page, answers: dict[str, object]) -> None:
    for field_ in page.profile:
        value = answers.get(field_.code)
        if value is None:  # an optional field left blank
            continue
        key = f"p_{field_.code}"
        if field_.type == "choice":
            at.selectbox(key=key).set_value(value)
        elif field_.type == "number":
            at.number_input(key=key).set_value(value)
        else:
            at.text_input(key=key).input(value)
    for item in page.items:
        value = answers[item.code]
        key = f"q_{item.code}"
        widget = item_widget(instrument, item, None, "en")
        if widget.kind == "multiselect":
            at.pills(key=key).set_value(value)
        elif widget.scale:  # a row of a matrix
            at.segmented_control(key=key).set_value(value)
        else:
            at.radio(key=key).set_value(value)
        at.run()  # each change is saved as it is made


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_a_run_that_imported_modules_leaves_them_out_of_the_full_collections():
    # Streamlit collects fully after every run: the app's loaded libraries (~200,000 objects)
    # are frozen after the run that imported them, so that pass walks only a run's own objects
    ui = _dmi_ui()
    gc.unfreeze()
    ui._modules_when_frozen = 0
    try:
        _ok(_app("zh").run())
        frozen = gc.get_freeze_count()
        assert frozen > 50_000
        assert len(gc.get_objects()) < frozen / 5
        # a run that imported nothing new freezes nothing more (a visitor's state stays
        # collectable); frozen objects nothing refers to any more are still freed
        modules = len(sys.modules)
        _ok(_app("zh").run())
        assert len(sys.modules) == modules
        assert gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_the_garbage_of_the_run_that_freezes_is_still_collected():
    # the freeze came before Streamlit's collection of that run: its cycles were frozen with
    # the modules, never to be freed
    import weakref

    class Node:
        pass

    ui = _dmi_ui()
    gc.unfreeze()
    ui._modules_when_frozen = 0
    node = Node()
    node.me = node  # a cycle: only a collection frees it
    gone = weakref.ref(node)
    del node
    try:
        ui.freeze_loaded_modules()
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()


def test_a_company_answers_in_chinese_and_sees_the_library_score(miit):
    answers = company_answers(miit)
    expected = (
        dmi.IndexModel(miit)
        .fit()
        .score(pd.DataFrame([{"respondent_id": "x", **clean_answers(answers)}]))
        .iloc[0]
    )

    at = _app("zh").run()
    _ok(at)
    at.button(key="start").click().run()
    assert "请先勾选同意" in at.error[0].value  # consent first
    at.checkbox(key="consent").check().run()
    at.button(key="start").click().run()
    _ok(at)
    token = at.session_state["token"]
    assert at.query_params["resume"] == [token] or at.query_params["resume"] == token

    pages = survey_pages(miit)
    for number, page in enumerate(pages):
        if number == 1:  # a dimension page refuses to go on with unanswered questions
            at.button(key="next").click().run()
            assert at.error and "必答题" in at.error[0].value
            assert at.header[0].value == page.zh  # still on the same page
        fill(at, miit, page, answers)
        at.button(key="next").click().run()
        _ok(at)
        assert not at.error, [e.value for e in at.error]
    at.button(key="submit").click().run()
    _ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["数字化发展指数"] == f"{expected['dmi']:.1f}"
    level = miit.level_band(int(expected["level"])).zh
    assert metrics["数字化水平等级"] == level
    # the company name is shown as text, never as HTML or Markdown
    names = [h.value for h in at.subheader if "script" in h.value]
    assert [shown(n) for n in names] == [answers["company_name"]]
    assert markup_in(names[0]) == []
    assert not any(m.proto.allow_html for m in at.markdown)
    assert {b.key for b in at.get("download_button")} >= {
        "download_html",
        "download_pdf",
        "download_csv",
    }

    # a reload (a new session with the resume code in the address) comes back to the result
    again = _app("en", resume=token).run()
    _ok(again)
    again.switch_page("app_pages/results.py").run()
    _ok(again)
    metrics = {m.label: m.value for m in again.metric}
    assert metrics["Digital Maturity Index"] == f"{expected['dmi']:.1f}"


def test_a_draft_comes_back_on_the_page_reached(miit):
    answers = company_answers(miit)
    at = _app("en").run()
    at.checkbox(key="consent").check().run()
    at.button(key="start").click().run()
    token = at.session_state["token"]
    first = survey_pages(miit)[0]
    fill(at, miit, first, answers)
    at.button(key="next").click().run()
    _ok(at)

    resumed = _app("en", resume=token).run()
    _ok(resumed)
    second = survey_pages(miit)[1]
    assert resumed.header[0].value == second.en  # the page after the saved one
    resumed.button(key="back").click().run()
    assert resumed.selectbox(key="p_sector").value == "C34"  # the saved answer is back

    unknown = _app("en", resume="not-a-code").run()
    _ok(unknown)
    assert "unknown or has expired" in unknown.error[0].value


@pytest.mark.parametrize(
    ("page", "user", "password", "widget"),
    [
        ("app_pages/bulk.py", "agent", "pw-agency", "bulk_file"),
        ("app_pages/weights_lab.py", "scholar", "pw-research", "A_weight"),
        ("app_pages/admin.py", "boss", "pw-admin", "admin_source"),
    ],
)
def test_restricted_pages_need_the_right_account(page, user, password, widget):
    at = _app("en").run()
    at.switch_page(page).run()
    _ok(at)
    assert "needs signing in" in at.info[0].value
    assert widget not in {w.key for w in at.get("file_uploader")} | {
        w.key for w in at.selectbox
    } | {w.key for w in at.radio}

    at.text_input(key="login_name").input("agent" if user != "agent" else "scholar")
    at.text_input(key="login_password").input(password)
    at.button(key="FormSubmitter:login-Sign in").click().run()
    assert "Wrong username or password" in at.error[0].value

    at.text_input(key="login_name").input(user)
    at.text_input(key="login_password").input(password)
    at.button(key="FormSubmitter:login-Sign in").click().run()
    _ok(at)
    keys = (
        {w.key for w in at.get("file_uploader")}
        | {w.key for w in at.selectbox}
        | {w.key for w in at.radio}
    )
    assert widget in keys


def test_sign_in_slows_down_after_failures_and_says_the_same_for_unknown_names(
    own_database, monkeypatch
):
    from datetime import UTC, datetime, timedelta

    import dmi.service.auth

    now = [datetime(2030, 1, 1, tzinfo=UTC)]
    monkeypatch.setattr(dmi.service.auth, "_utcnow", lambda: now[0])

    def attempt(at: AppTest, name: str, password: str) -> list[str]:
        at.text_input(key="login_name").input(name)
        at.text_input(key="login_password").input(password)
        next(b for b in at.button if b.form_id == "login").click().run()
        _ok(at)
        return [e.value for e in at.error]

    def four_attempts(name: str, password: str) -> list[list[str]]:
        at = _app("en").run()
        at.switch_page("app_pages/account.py").run()
        said = [attempt(at, name, "wrong") for _ in range(3)]
        said.append(attempt(at, name, password))  # the right password, too soon
        assert "account" not in at.session_state
        return said

    wrong, wait = ["Wrong username or password."], ["Too many failed sign-ins: try again in 1 s."]
    assert four_attempts("agent", "pw-agency") == [wrong, wrong, wrong, wait]
    assert four_attempts("ghost", "pw-agency") == [wrong, wrong, wrong, wait]
    # the wait is counted in the store: a new session (a reload) waits as well
    at = _app("zh").run()
    at.switch_page("app_pages/account.py").run()
    assert attempt(at, "agent", "pw-agency") == ["登录失败次数过多，请在 1 秒后再试。"]
    now[0] += timedelta(seconds=1)
    assert attempt(at, "agent", "pw-agency") == []
    assert at.session_state["account"].name == "agent"


def _agency(lang: str = "en") -> AppTest:
    at = _app(lang).run()
    at.session_state["account"] = dmi.service.auth.Account("agent", frozenset({"agency"}))
    at.switch_page("app_pages/bulk.py").run()
    _ok(at)
    return at


def _with_column(header: str, value: str) -> bytes:
    """The shipped example file with one more column."""
    lines = (ROOT / "data" / "example-bulk.csv").read_text(encoding="utf-8-sig").splitlines()
    quoted = '"' + header.replace('"', '""') + '"'
    cell = '"' + value.replace('"', '""') + '"'
    return "\n".join([lines[0] + "," + quoted] + [line + "," + cell for line in lines[1:]]).encode()


def test_the_bulk_page_shows_a_files_headers_as_text():
    at = _agency()
    at.file_uploader(key="bulk_file").upload("answers.csv", _with_column(HOSTILE, "v"), "text/csv")
    at.run()
    _ok(at)
    listed = [m.value for m in at.markdown if "Verify" in m.value]
    assert [shown(m) for m in listed] == [HOSTILE]
    assert markup_in(listed[0]) == []


def test_the_answers_download_escapes_what_a_spreadsheet_would_run(miit, downloads):
    from dmi.service.reference import shipped_reference
    from dmi.service.store import Store

    store = Store()
    stored = store.ensure_reference(lambda: shipped_reference(miit.id), miit.id)
    answers = clean_answers(
        {**company_answers(miit), "company_name": '=HYPERLINK("http://127.0.0.1:9/","Verify")'}
    )
    token = store.new_draft(miit.id, "en")
    result = stored.load().assess(answers)
    store.submit(token, answers, stored.version, dict(result.scores_row))

    at = _app("en", resume=token).run()
    at.switch_page("app_pages/results.py").run()
    _ok(at)
    assert set(downloads) == {"download_html", "download_pdf", "download_csv"}
    cells = _csv_cells(downloads["download_csv"])
    assert cells["company_name"].tolist() == ["'" + answers["company_name"]]
    assert cells["employees"].tolist() == ["120"]  # numbers stay numbers
    assert _unescaped_formulas(cells) == []
    # the reports carry the name as text, not as a formula or markup
    assert "=HYPERLINK(&quot;" in downloads["download_html"].decode("utf-8")
    assert downloads["download_pdf"].startswith(b"%PDF")


def test_every_bulk_download_escapes_what_a_spreadsheet_would_run(downloads):
    import csv
    import io

    rows = list(csv.reader(io.StringIO(_with_column("note", "n").decode())))
    header = rows[0]
    formula = '=HYPERLINK("http://127.0.0.1:9/","x")'
    rows[1][header.index("respondent_id")] = formula  # a row that is scored
    rows[1][header.index("note")] = "+cmd"  # an ignored column
    rows[2][header.index("network")] = "@SUM(1)"  # a row rejected for this value
    text = io.StringIO()
    csv.writer(text).writerows(rows[:12])

    at = _agency()
    at.file_uploader(key="bulk_file").upload("answers.csv", text.getvalue().encode(), "text/csv")
    at.run()
    at.button(key="bulk_score").click().run()
    _ok(at)
    assert set(downloads) == {
        "download_scores",
        "download_rejects",
        "download_cohort",
        "download_scores_named",
        "download_rejects_named",
    }
    scores = _csv_cells(downloads["download_scores"])
    assert "'" + formula in scores["respondent_id"].tolist()
    rejects = _csv_cells(downloads["download_rejects"])
    assert "'@SUM(1)" in rejects["value"].tolist()
    for name in downloads:
        assert _unescaped_formulas(_csv_cells(downloads[name])) == [], name


@pytest.fixture
def uploads(tmp_path, monkeypatch):
    """The app's upload folder, and every run folder the pages make (checked to be gone).

    The system's temporary folder is pointed at an empty one: a page that made a folder of
    its own there, outside dmi.service.uploads, would leave it behind.
    """
    import tempfile

    import dmi.service.uploads

    root = tmp_path / "uploads"
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setenv("DMI_UPLOAD_DIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    made: list = []
    original = dmi.service.uploads.upload_folder

    @contextlib.contextmanager
    def recorded(*args, **kwargs):
        with original(*args, **kwargs) as folder:
            made.append(folder)
            yield folder

    monkeypatch.setattr(dmi.service.uploads, "upload_folder", recorded)
    yield root, made
    assert list(system_temp.iterdir()) == []


def _error(at: AppTest) -> str:
    """The page's one error message, as shown."""
    assert len(at.error) == 1, [e.value for e in at.error]
    return shown(at.error[0].value)


def _no_trace_of_the_server(message: str, root) -> None:
    assert str(root) not in message and "/tmp" not in message and "upload." not in message
    assert not re.search(r"(^|\s)--\w", message), message  # no command-line flags


@pytest.mark.parametrize(
    ("lang", "encoding", "expected"),
    [
        ("zh", "utf-8", "无法按 utf-8 编码读取文件 企业[问卷].csv：请在上方选择文件的编码"),
        ("en", "utf-8", "企业[问卷].csv cannot be read as utf-8 text: choose its encoding above"),
    ],
)
def test_a_bulk_file_error_names_the_upload_in_the_pages_language(
    uploads, lang, encoding, expected
):
    root, made = uploads
    gbk = (ROOT / "data" / "example-bulk.csv").read_text(encoding="utf-8-sig").encode("gb18030")
    at = _agency(lang)
    at.selectbox(key="bulk_encoding").set_value(encoding).run()
    at.file_uploader(key="bulk_file").upload("企业[问卷].csv", gbk, "text/csv")
    at.run()
    _ok(at)
    message = _error(at)
    assert message.startswith(expected), message
    _no_trace_of_the_server(message, root)
    assert "bulk_score" not in {b.key for b in at.button}
    assert made and not any(folder.exists() for folder in made)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "文件 report.csv 不是 CSV 文本（像是二进制文件、压缩包或其他格式的文件）"),
        ("en", "report.csv is not CSV text (it looks like a binary file, an archive"),
    ],
)
@pytest.mark.parametrize("data", [b"\x00\x01\x02binary" * 50, b"PK\x03\x04" + b"\x00" * 60])
def test_a_file_that_is_not_text_is_refused_in_the_pages_language(uploads, lang, expected, data):
    # the Chinese page said "无法读取文件 broken.csv： broken.csv: looks like a binary file ..."
    root, _ = uploads
    at = _agency(lang)
    at.file_uploader(key="bulk_file").upload("report.csv", data, "text/csv")
    at.run()
    _ok(at)
    message = _error(at)
    assert message.startswith(expected), message
    assert message.count("report.csv") == 1
    if lang == "zh":
        assert not re.search(r"[a-z]{4,}", message.replace("report.csv", "")), message
    _no_trace_of_the_server(message, root)


def test_a_bulk_file_without_questions_is_refused_before_scoring(uploads):
    root, made = uploads
    at = _agency("en")
    at.file_uploader(key="bulk_file").upload("list.csv", b"name,phone\nA,1\n", "text/csv")
    at.run()
    _ok(at)
    message = _error(at)
    assert message.startswith(
        "No column of list.csv is a question of SME Digital Maturity Assessment (Manufacturing"
    )
    _no_trace_of_the_server(message, root)
    assert at.button(key="bulk_score").disabled  # until a column is mapped to a question
    assert made and not any(folder.exists() for folder in made)


def test_a_bulk_file_failing_while_scored_is_named_and_its_folder_removed(uploads):
    root, made = uploads
    # the start decodes as UTF-8 (the first MiB is sniffed); a byte further down does not
    lines = (ROOT / "data" / "example-bulk.csv").read_text(encoding="utf-8-sig").splitlines()
    body = "\n".join(lines[1:]).encode() + b"\n"
    bad = lines[1].replace("合成企业", "\udcff", 1).encode("utf-8", "surrogateescape")  # 0xff
    data = lines[0].encode() + b"\n" + body * (1_200_000 // len(body)) + bad + b"\n"
    at = _agency("en")
    at.selectbox(key="bulk_encoding").set_value("utf-8").run()
    at.file_uploader(key="bulk_file").upload("big.csv", data, "text/csv")
    at.run()
    _ok(at)
    assert not at.error
    at.button(key="bulk_score").click().run()
    _ok(at)
    message = _error(at)
    assert re.match(r"big\.csv cannot be read as utf-8 CSV near row \d+: choose its", message)
    _no_trace_of_the_server(message, root)
    assert len(made) == 2  # the header's read and the scoring run
    assert not any(folder.exists() for folder in made)
    assert list(root.iterdir()) == []


def test_bulk_folders_go_when_the_run_ends_and_leftovers_at_the_start(uploads):
    import time

    from dmi.service.uploads import STALE_AFTER, uploads_root

    root, made = uploads
    leftover = uploads_root(root) / "run-killed"
    leftover.mkdir()
    (leftover / "upload.csv").write_text("x\n")
    old = time.time() - STALE_AFTER.total_seconds() - 60
    for entry in (leftover / "upload.csv", leftover):
        os.utime(entry, (old, old))
    busy = root / "run-another-session"  # a run in progress: changed a moment ago
    busy.mkdir()

    at = _agency("en")
    at.file_uploader(key="bulk_file").upload(
        "answers.csv", (ROOT / "data" / "example-bulk.csv").read_bytes(), "text/csv"
    )
    at.run()
    _ok(at)
    assert not leftover.exists() and busy.exists()
    at.button(key="bulk_score").click().run()
    _ok(at)
    assert at.success[0].value == "40 rows read = 32 scored + 8 rejected"
    assert len(made) == 2
    assert not any(folder.exists() for folder in made)
    assert [p.name for p in root.iterdir()] == ["run-another-session"]
    # the results stay with the session: a rerun shows them and offers the files again
    at.run()
    _ok(at)
    assert at.success[0].value == "40 rows read = 32 scored + 8 rejected"
    assert len(made) == 2


def test_an_unreadable_population_upload_is_named_and_its_folder_removed(uploads):
    root, made = uploads
    at = _app("zh").run()
    at.session_state["account"] = dmi.service.auth.Account("boss", frozenset({"admin"}))
    at.switch_page("app_pages/admin.py").run()
    at.radio(key="admin_source").set_value("upload").run()
    at.file_uploader(key="admin_file").upload("人群.xlsx", b"not a workbook", "application/zip")
    at.run()
    at.button(key="admin_fit").click().run()
    _ok(at)
    message = _error(at)
    assert message == "文件 人群.xlsx 不是可读取的 XLSX 工作簿。"
    assert len(made) == 1 and not made[0].exists()


def test_weights_lab_compares_two_schemes(miit):
    at = _app("en").run()
    at.session_state["account"] = dmi.service.auth.Account("scholar", frozenset({"researcher"}))
    at.switch_page("app_pages/weights_lab.py").run()
    _ok(at)
    metrics = {m.label: m.value for m in at.metric}
    # the same two schemes computed here, independently of the page
    from dmi.io import read_answers
    from dmi.service.reference import shipped_reference_population

    population = read_answers(shipped_reference_population(miit), miit)
    a = dmi.IndexModel(miit).fit().score_batch(population).scores
    b = dmi.IndexModel(miit, weighting="entropy").fit(population).score_batch(population).scores
    rho = spearmanr(a["dmi"], b["dmi"]).statistic
    assert metrics["Spearman rank correlation"] == f"{rho:.3f}"
    # entropy's band is indicative: never called a level change
    moved = int((a["level"] != b["indicative_level"]).sum())
    assert metrics["Indicative band (non-official method) changes"] == f"{moved:,} / 3,000"
    assert "Level changes" not in metrics
    assert {b.key for b in at.get("download_button")} == {
        "download_method_A",
        "download_method_B",
    }


def _admin() -> AppTest:
    at = _app("en").run()
    at.session_state["account"] = dmi.service.auth.Account("boss", frozenset({"admin"}))
    at.switch_page("app_pages/admin.py").run()
    _ok(at)
    return at


def test_admin_refits_reviews_and_publishes_and_old_results_keep_their_version(miit):
    """An official refit (new tiers and peers) is published after a confirmation that says
    the index and level stay the same and what does change."""
    from dmi.service.store import Store

    at = _admin()
    store = Store()
    before = store.current_reference(miit.id).version
    at.radio(key="admin_source").set_value("shipped")
    at.selectbox(key="admin_weighting").set_value("instrument")
    at.number_input(key="admin_tiers").set_value(3)
    at.button(key="admin_fit").click().run()
    _ok(at)
    assert any("index and level stay the same" in i.value for i in at.info)
    assert any("change support tier" in i.value for i in at.info)
    assert at.button(key="admin_publish").label == "Publish to companies"
    at.button(key="admin_publish").click().run()
    _ok(at)
    assert store.current_reference(miit.id).version == before  # not before the confirmation
    assert any("Publish" in w.value and "stay the same" in w.value for w in at.warning)
    at.button(key="admin_confirm").click().run()
    _ok(at)
    after = store.current_reference(miit.id).version
    assert after != before
    assert any(after in s.value for s in at.success)
    # the earlier reference is kept, so results scored with it stay reproducible
    assert store.reference(before) is not None


def _company_answers_at_39_95(miit: dmi.Instrument) -> dict[str, object]:
    """A reference company whose official index is 39.95 (一级), its one missing answer (a
    scenario, of no weight in the official index) filled in."""
    from dmi.io import read_answers
    from dmi.service.reference import shipped_reference_population

    population = read_answers(shipped_reference_population(miit), miit)
    row = population[population["respondent_id"] == "SYN-0000870"].iloc[0]
    answers = {k: v for k, v in row.items() if k != "respondent_id" and not pd.isna(v)}
    answers["sc_product_design"] = 0
    answers["employees"] = int(answers["employees"])
    return answers


def _submit(store, miit: dmi.Instrument, answers: dict, token: str | None = None):
    """Submit through the survey's own review page (the path a company takes)."""
    token = token or store.new_draft(miit.id, "zh")
    store.save_draft(token, answers, page=len(survey_pages(miit)), lang="zh")
    at = _app("zh", resume=token).run()
    _ok(at)
    at.button(key="submit").click().run()
    _ok(at)
    return at, token


def _index_metrics(at: AppTest) -> list:
    return [m for m in at.metric if m.label == "数字化发展指数"]


def test_a_research_reference_never_changes_what_a_company_sees(miit):
    from dmi.service.store import Store

    store = Store()
    answers = _company_answers_at_39_95(miit)
    official = dmi.IndexModel(miit).fit()
    assert official.score(pd.DataFrame([answers])).iloc[0]["dmi"] == pytest.approx(39.95)

    at, token = _submit(store, miit, answers)
    shown = _index_metrics(at)
    assert [m.value for m in shown] == ["39.9"]  # never 40.0 beside 一级
    assert {m.label: m.value for m in at.metric}["数字化水平等级"] == "一级"
    companies = store.current_reference(miit.id).version

    # the admin fits entropy weights and tries to publish them: only a research reference
    admin = _admin()
    admin.radio(key="admin_source").set_value("shipped")
    admin.selectbox(key="admin_weighting").set_value("entropy")
    admin.button(key="admin_fit").click().run()
    _ok(admin)
    assert any("cannot be published to companies" in w.value for w in admin.warning)
    assert admin.button(key="admin_publish").label == "Store as a research reference"
    admin.button(key="admin_publish").click().run()
    assert any("Companies will not see it" in w.value for w in admin.warning)
    admin.button(key="admin_confirm").click().run()
    _ok(admin)
    research = next(r for r in store.list_references(miit.id) if r.version != companies)
    assert not research.load().is_official
    assert store.current_reference(miit.id).version == companies
    assert any("research reference" in s.value and companies in s.value for s in admin.success)

    # the company resubmits identical answers: the same index and level, no regress
    at, _ = _submit(store, miit, answers, token)
    headline, since = _index_metrics(at)
    assert headline.value == since.value == "39.9"
    assert since.proto.delta == "0.0"
    assert {m.label: m.value for m in at.metric}["数字化水平等级"] == "一级"
    assert store.submissions(token)[-1].reference_version == companies

    # a database in which an earlier version of the app published the research reference
    store.publish(research.version)
    try:
        at, _ = _submit(store, miit, answers, token)
        assert [m.value for m in _index_metrics(at)] == ["39.9", "39.9"]
        assert store.submissions(token)[-1].reference_version != research.version
        # a result recorded with the research reference is shown with the official method,
        # and a change across methods is shown as "method changed", with no delta
        research_row = research.load().score(pd.DataFrame([{"respondent_id": "x", **answers}]))
        fresh = store.new_draft(miit.id, "zh")
        store.save_draft(fresh, answers, page=0, lang="zh")
        store.submit(fresh, answers, research.version, research_row.iloc[0].to_dict())
        at = _app("zh", resume=fresh).run()
        at.switch_page("app_pages/results.py").run()
        _ok(at)
        assert [m.value for m in _index_metrics(at)] == ["39.9"]
        assert any("重新计算" in i.value for i in at.info)
        at, _ = _submit(store, miit, answers, fresh)
        headline, since = _index_metrics(at)
        assert headline.value == "39.9" and not since.proto.delta
        assert any("方法已变更" in i.value for i in at.info)
    finally:
        store.publish(companies)


def test_a_run_whose_counts_do_not_reconcile_is_said_plainly_on_the_bulk_page(uploads, monkeypatch):
    import dmi.bulk.run

    def lost_a_row(*args, **kwargs):
        summary, mapping = real(*args, **kwargs)
        summary.scored -= 1
        raise dmi.bulk.run.ReconciliationError(summary)

    real = dmi.bulk.run.score_file
    monkeypatch.setattr(dmi.bulk.run, "score_file", lost_a_row)
    at = _agency("zh")
    at.file_uploader(key="bulk_file").upload(
        "答卷.csv", (ROOT / "data" / "example-bulk.csv").read_bytes(), "text/csv"
    )
    at.run()
    at.button(key="bulk_score").click().run()
    _ok(at)  # no exception shown
    message = _error(at)
    assert message.startswith("内部错误：行数核对不一致") and "没有生成任何结果文件" in message
    assert not at.get("download_button")

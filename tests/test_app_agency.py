"""The agency's pages through Streamlit's AppTest (no browser): the bulk page and the dashboard,
in Chinese and English, with names where the library keeps codes.

What the pages show is checked against what the library computes on its own (score_file,
read_answers, dmi.service.dashboard on a store of hand-made submissions).
"""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from openpyxl import Workbook

import dmi
from dmi.bulk.run import score_file
from dmi.service.auth import Account

from .conftest import ROOT, app_database

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 300
EXAMPLE = ROOT / "data" / "example-bulk.csv"
MIIT = dmi.load_instrument("miit-2024-manufacturing")
ITEM_CODES = [i.code for i in MIIT.items]
SECTOR_CODE = re.compile(r"\bC(1[3-9]|[23]\d|4[0-3])\b")


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    with app_database(tmp_path_factory.mktemp("db"), "agency.sqlite") as url:
        yield url


@pytest.fixture
def downloads(monkeypatch):
    """What each download button of a run offers, by key."""
    from streamlit.delta_generator import DeltaGenerator

    offered: dict[str, bytes] = {}
    original = DeltaGenerator.download_button

    def recording(self, label, data, *args, **kwargs):
        offered[kwargs["key"]] = (label, data() if callable(data) else data)
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", recording)
    return offered


def _page(path: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    at.run()
    at.session_state["account"] = Account("agent", frozenset({"agency"}))
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, name: str, data: bytes, kind: str = "text/csv") -> AppTest:
    at.file_uploader(key="bulk_file").upload(name, data, kind)
    at.run()
    assert not at.exception, at.exception
    return at


def _score(at: AppTest) -> AppTest:
    at.button(key="bulk_score").click().run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest, skip_headers: bool = True) -> list[str]:
    """Every text the page shows: titles, Markdown, captions, alerts, labels, table cells and
    headers; the mapping editor's first column (the file's own headers) left out."""
    found: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "success", "info", "warning"):
        found += [str(e.value) for e in getattr(at, kind)]
    found += [str(e.value) for e in at.error]
    found += [t.label for t in at.tabs]
    found += [b.label for b in at.button]
    for frame in at.dataframe:
        table = frame.value
        if skip_headers and list(table.columns) == ["header", "column", "how"]:
            table = table[["column", "how"]]
        else:
            found += [str(c) for c in table.columns] + [str(i) for i in table.index]
        found += [str(v) for v in table.to_numpy().ravel()]
    return found


def _no_codes(texts: list[str], lang: str = "zh") -> None:
    """No item, profile or sector code, no internal word, in ``texts``. In English the codes
    that are words (network, strategy ...) are words of the questions too: there only the
    codes no text holds (it_coverage, sc_finance ...) are looked for."""
    joined = "\n".join(texts)
    codes = [*ITEM_CODES, "respondent_id", "size_class", "company_name", "revenue_band"]
    for code in codes if lang == "zh" else [c for c in codes if "_" in c]:
        assert not re.search(rf"(?<![\w]){code}(?![\w])", joined), code
    assert not SECTOR_CODE.search(joined), SECTOR_CODE.search(joined)
    for word in ("goalposts", "keep-first", "keep-last", "(blank)", "(none)", "total"):
        assert word not in joined, word


def _cli_run(tmp_path, path, **kwargs):
    reference = dmi.service.reference.shipped_reference(MIIT.id)
    out = tmp_path / "cli-scores.csv"
    summary, _ = score_file(
        path, out, reference.index_model, tier_model=reference.tier_model, **kwargs
    )
    return summary, pd.read_csv(out, dtype={"respondent_id": str, "sector": str, "region": str})


def test_the_charts_by_place_and_sector_keep_the_levels_and_tiers_in_order():
    # Streamlit's stacked chart ordered the series by name (一级, 三级, 二级, 四级, 未达一级),
    # so a level's colour changed with the language
    import json

    from dmi.service.dashboard import labels

    domains = {}
    for lang in ("zh", "en"):
        at = _score(_upload(_page("app_pages/bulk.py", lang), "answers.csv", EXAMPLE.read_bytes()))
        specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
        domains[lang] = [
            s["encoding"]["color"]["scale"]["domain"]
            for s in specs
            if "scale" in s.get("encoding", {}).get("color", {})
        ]
        ordered = [list(labels(MIIT, of, lang).values()) for of in ("level", "tier")] * 2
        assert len(domains[lang]) == 4  # level and tier, by region and by sector
        for domain, names in zip(domains[lang], ordered):
            assert domain == [n for n in names if n in domain] and len(domain) >= 3
    # the same series in the same places in either language: the same colours
    assert [len(d) for d in domains["zh"]] == [len(d) for d in domains["en"]]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_bulk_page_names_everything_in_the_pages_language(tmp_path, downloads, lang):
    at = _score(_upload(_page("app_pages/bulk.py", lang), "answers.csv", EXAMPLE.read_bytes()))
    summary, scores = _cli_run(tmp_path, EXAMPLE)
    texts = _texts(at)
    _no_codes(texts, lang)
    line = {
        "zh": "读取 40 行 = 计分 32 行 + 拒绝 8 行",
        "en": "40 rows read = 32 scored + 8 rejected",
    }[lang]
    assert at.success[0].value == line
    # the filled-in-as-lowest count is the one dmi score reports (23 for this file)
    imputed = sum(summary.imputed.values())
    assert imputed == 23
    said = {"zh": f"{imputed} 个缺答按最低档计分", "en": f"{imputed} missing answers were scored"}
    assert any(said[lang] in t for t in texts)
    missing = next(
        f.value
        for f in at.dataframe
        if f.value.shape[1] == 3 and len(f.value) > 5 and "how" not in f.value.columns
    )
    assert missing.iloc[:, 1].sum() == imputed
    question = getattr(MIIT.item("equipment_networked"), lang)
    assert missing.iloc[0].tolist()[:2] == [question, summary.imputed["equipment_networked"]]
    # reasons in the page's language, counted as dmi score counts them
    heads = {"zh": ["原因", "行数"], "en": ["Reason", "Rows"]}[lang]
    reasons = next(f.value for f in at.dataframe if list(f.value.columns) == heads)
    first = {"zh": "企业编号重复", "en": "repeated respondent id"}[lang]
    assert reasons.iloc[0].tolist() == [first, 2]
    assert reasons.iloc[:, 1].sum() == summary.rejected
    # distributions: provinces and sectors by name, counts as the scores file has them
    provinces = {getattr(o, lang) for o in MIIT.profile_field("region").options}
    by_region = [f.value for f in at.dataframe if f.value.index.name in ("省份", "Province")]
    assert by_region and set(by_region[0].index) <= provinces
    assert by_region[0].iloc[:, -1].sum() == len(scores)
    zhejiang = {"zh": "浙江省", "en": "Zhejiang"}[lang]
    if (scores["region"] == "33").any():
        assert by_region[0].loc[zhejiang].iloc[-1] == (scores["region"] == "33").sum()
    # the downloads: for people (names) and for dmi (codes, said so in the label)
    label, named = downloads["download_scores_named"]
    table = pd.read_csv(io.BytesIO(named), encoding="utf-8-sig", dtype=str)
    source = pd.read_csv(EXAMPLE, encoding="utf-8-sig", dtype=str)
    names = dict(zip(source["respondent_id"], source["company_name"]))
    id_col, name_col = {"zh": ("企业编号", "企业名称"), "en": ("Respondent id", "Company")}[lang]
    assert len(table) == summary.scored
    assert table[name_col].tolist() == [names[i] for i in table[id_col]]
    level_col = {"zh": "等级", "en": "Level"}[lang]
    bands = {str(b.level): getattr(b, lang) for b in MIIT.levels.bands}
    assert table[level_col].tolist() == [bands[str(v)] for v in scores["level"]]
    _no_codes([*table.columns, *map(str, table.drop(columns=[id_col]).to_numpy().ravel())], lang)
    codes_label, codes = downloads["download_scores"]
    assert {"zh": "代码格式", "en": "codes"}[lang] in codes_label
    assert pd.read_csv(io.BytesIO(codes), encoding="utf-8-sig", dtype=str).columns[0] == (
        "respondent_id"
    )


def test_the_run_is_shown_again_after_a_look_at_another_page(downloads):
    # back from the dashboard the choices were kept but the results gone, with the upload
    at = _score(_upload(_page("app_pages/bulk.py", "en"), "answers.csv", EXAMPLE.read_bytes()))
    line = at.success[0].value
    _, named = downloads.pop("download_scores_named")
    at.switch_page("app_pages/dashboard.py").run()
    at.switch_page("app_pages/bulk.py").run()
    # a browser drops the upload with its widget on the other page (the test keeps it)
    at.file_uploader(key="bulk_file").clear().run()
    assert not at.exception, at.exception
    assert at.success and at.success[0].value == line
    last = "These are the results of the last run (answers.csv)"
    assert any(i.value.startswith(last.replace(".", "\\.")) for i in at.info), at.info
    assert "bulk_score" not in {b.key for b in at.button}  # a run needs the file again
    # the readable download still names the companies, from the upload the run read
    assert downloads["download_scores_named"][1] == named
    # another instrument asks for another run: the last one is not shown for it
    other = next(i for i in dmi.available_instruments() if i != MIIT.id)
    at.selectbox(key="bulk_instrument").set_value(other).run()
    assert not at.exception, at.exception
    assert not at.success and not at.info


def test_the_duplicates_policy_is_the_one_dmi_score_takes(tmp_path):
    at = _page("app_pages/bulk.py", "en")
    at.radio(key="bulk_duplicates").set_value("keep-first").run()
    at = _score(_upload(at, "answers.csv", EXAMPLE.read_bytes()))
    summary, _ = _cli_run(tmp_path, EXAMPLE, duplicates="keep-first")
    assert (summary.read, summary.scored, summary.rejected) == (40, 33, 7)
    assert at.success[0].value == "40 rows read = 33 scored + 7 rejected"
    assert any("the first kept" in c.value for c in at.caption)
    rejects = [f.value for f in at.dataframe if "Reason" in f.value.columns and "Row" in f.value]
    taken = "repeated respondent id (row 2 is the one taken: keep the first)"
    assert taken in rejects[0]["Reason"].tolist()


def _titled(path, titles: list[list]) -> bytes:
    source = pd.read_csv(EXAMPLE, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    book = Workbook()
    sheet = book.active
    sheet.title = "汇总"
    for row in titles:
        sheet.append(row)
    sheet.append(list(source.columns))
    for values in source.itertuples(index=False):
        sheet.append([v if v != "" else None for v in values])
    book.save(path)
    return path.read_bytes()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_xlsx_with_title_rows_is_read_from_its_header_row(tmp_path, lang):
    data = _titled(tmp_path / "t.xlsx", [["2026年企业数字化评测汇总"], ["导出日期：2026-11-30"]])
    at = _upload(_page("app_pages/bulk.py", lang), "汇总表.xlsx", data, XLSX)
    said = {"zh": "列名在第 3 行：其上的 2 行是标题", "en": "The column names are in row 3"}
    assert said[lang] in at.info[0].value
    at = _score(at)
    plain, _ = _cli_run(tmp_path, EXAMPLE)
    line = {
        "zh": f"读取 {plain.read} 行 = 计分 {plain.scored} 行 + 拒绝 {plain.rejected} 行",
        "en": f"{plain.read} rows read = {plain.scored} scored + {plain.rejected} rejected",
    }[lang]
    assert at.success[0].value == line
    # rows keep their sheet numbers: two rows further down than in the CSV
    row = {"zh": "行号", "en": "Row"}[lang]
    shown = next(f.value for f in at.dataframe if row in f.value.columns)
    assert sorted(shown[row].astype(int).unique())[:2] == [4, 11]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "文件 名单.xlsx 的工作表 汇总 前 20 行中没有哪一行是问卷"),
        ("en", "None of the first 20 rows of sheet 汇总 of 名单.xlsx names the questions"),
    ],
)
def test_an_xlsx_whose_rows_name_no_question_is_refused_plainly(tmp_path, lang, expected):
    book = Workbook()
    book.active.title = "汇总"
    book.active.append(["名单"])
    book.active.append(["姓名", "电话"])
    book.active.append(["张三", "1"])
    book.save(tmp_path / "x.xlsx")
    at = _upload(
        _page("app_pages/bulk.py", lang), "名单.xlsx", (tmp_path / "x.xlsx").read_bytes(), XLSX
    )
    assert len(at.error) == 1
    message = at.error[0].value.replace("\\", "")
    assert message.startswith(expected), message
    assert "/tmp" not in message and "--" not in message and "upload." not in message
    assert "bulk_score" not in {b.key for b in at.button}


# -- the dashboard -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def submitted(database):
    """The hand-made submissions of tests/test_service_dashboard.py in the app's database."""
    from dmi.service.store import Store

    from .test_service_dashboard import populate

    populate(Store(database))


def _metrics(at: AppTest) -> list[str]:
    return [m.value for m in at.metric]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_dashboard_shows_the_library_numbers_by_name(submitted, downloads, lang):
    at = _page("app_pages/dashboard.py", lang)
    # counted by hand in tests/test_service_dashboard.py
    assert _metrics(at) == ["5", "8", "3", "51.0"]
    texts = _texts(at)
    _no_codes(texts, lang)
    joined = "\n".join(texts)
    assert not re.search(r"(?m)^(33|44)$", joined)  # provinces by name, not code
    tables = {f.value.columns[0]: f.value for f in at.dataframe}  # by their first header
    level, province, company = {
        "zh": ("等级", "省份", "企业名称"),
        "en": ("Level", "Province", "Company"),
    }[lang]
    levels = tables[level]
    assert levels.iloc[:, 0].tolist() == [getattr(b, lang) for b in MIIT.levels.bands]
    assert levels.iloc[:, 1].tolist() == [1, 0, 3, 0, 1]
    regions = tables[province]
    zhejiang, hangzhou = {"zh": ("浙江省", "杭州市"), "en": ("Zhejiang", "杭州市")}[lang]
    assert regions.iloc[:, 0].tolist()[:3] == [zhejiang] * 3
    assert hangzhou in regions.iloc[:, 1].tolist()
    pairs = tables[company]
    assert pairs.iloc[:, 0].tolist() == ["甲公司", '=HYPERLINK("http://x")', "乙公司"]
    assert pairs.iloc[:, 3].tolist() == [17.5, 2.5, -3.0]
    line = {"zh": "上升 1 家、下降 1 家、不变 1 家；指数平均变化 +5.7 分", "en": "+5.7 points"}
    assert any(line[lang] in t for t in texts)
    label, data = downloads["dash_export"]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == {"zh": "企业", "en": "Companies"}[lang]
    assert len(list(book.worksheets[0].iter_rows())) == 6  # a header and 5 companies


def test_the_dashboard_filters_by_region_and_day(submitted):
    from datetime import date

    at = _page("app_pages/dashboard.py", "zh")
    at.multiselect(key="dash_regions").set_value(["33"]).run()
    assert _metrics(at) == ["3", "6", "3", f"{(52.5 + 58.0 + 47.5) / 3:.1f}"]
    at.date_input(key="dash_days").set_value((date(2026, 3, 1), date(2026, 5, 31))).run()
    assert _metrics(at) == ["3", "4", "1", f"{(35.0 + 61.0 + 47.5) / 3:.1f}"]
    pairs = next(f.value for f in at.dataframe if f.value.columns[0] == "企业名称")
    assert pairs.iloc[:, 3].tolist() == [2.5]


def test_the_dashboard_is_for_agencies_only(submitted):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = "en"
    at.run()
    at.switch_page("app_pages/dashboard.py").run()
    assert not at.metric and not at.dataframe
    assert [i.value for i in at.info] == ["This page needs signing in (agency)."]
    at.session_state["account"] = Account("scholar", frozenset({"researcher"}))
    at.run()
    assert not at.metric and [e.value for e in at.error] == ["Your account may not open this page."]


def test_the_bulk_pages_mapping_of_a_wjx_upload_shows_what_its_layout_reads(tmp_path):
    # the page matched a 问卷星 upload's headers as a plain file's: its 0/1 option columns
    # (第7题(无) ...) and matrix rows showed as left out and unrecognised, though read
    from dmi.instruments.export.wjx import wjx_questions, wjx_text
    from dmi.service import bulkview
    from tests.survey_tools_data import plain_answers, wjx_export

    plain = plain_answers(MIIT, 5, seed=3)
    export = wjx_export(plain, wjx_text(MIIT, "zh"), wjx_questions(MIIT), "codes")
    data = export.to_csv(index=False).encode("utf-8-sig")
    at = _upload(_page("app_pages/bulk.py", "zh"), "问卷星.csv", data)
    table = next(f.value for f in at.dataframe if "how" in f.value.columns)
    left_out = bulkview.mapping_choices(MIIT, "zh")[0]
    read = table[table["column"] != left_out]["header"].tolist()
    options = [h for h in export.columns if h.startswith("第")]
    assert options and set(options) <= set(read)
    assert "**未识别的列（将被忽略）** (0)" in [m.value for m in at.markdown]
    assert not at.button(key="bulk_score").disabled
    _score(at)
    assert at.success[0].value == "读取 5 行 = 计分 5 行 + 拒绝 0 行"


def _mapping_editor(at: AppTest) -> tuple[str, pd.DataFrame]:
    """The bulk page's column mapping editor: its key and the table it shows."""
    editor = next(e for e in at.data_editor if e.key and e.key.startswith("bulk_mapping_"))
    return editor.key, editor.value


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_mapping_says_how_each_column_is_read_as_edited(lang):
    # edited, the mapping table still said how each column was read before the edit: a
    # column left out "read as its answer", a column sent to a question "ignored"
    from dmi.locales import text as locale_text
    from dmi.service import bulkview

    source = pd.read_csv(EXAMPLE, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    source["IT coverage (checked)"] = source["it_coverage"]  # matches no question
    at = _upload(
        _page("app_pages/bulk.py", lang), "answers.csv", source.to_csv(index=False).encode()
    )
    key, first = _mapping_editor(at)
    how = dict(zip(first["header"], first["how"]))
    read_as_answer, left_out, unmatched, duplicate = (
        locale_text(f"agency.use_{kind}", lang)
        for kind in ("answer", "left_out", "unmatched", "duplicate")
    )
    assert how["network"] == how["it_coverage"] == read_as_answer
    assert how["IT coverage (checked)"] == unmatched

    rows = {header: row for row, header in enumerate(first["header"])}
    choices = bulkview.mapping_choices(MIIT, lang)
    it_coverage = bulkview.column_labels(MIIT, lang)["it_coverage"]
    edits = {rows["network"]: {"column": choices[0]}}  # left out
    edits[rows["IT coverage (checked)"]] = {"column": it_coverage}  # sent to it_coverage
    at.session_state[key] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    key_after, table = _mapping_editor(at)
    assert key_after == key
    # the editor's own column stays as matched: the edits are the browser's, drawn over it
    assert table["column"].tolist() == first["column"].tolist()
    how = dict(zip(table["header"], table["how"]))
    assert how["network"] == left_out
    # a header sent to a question takes it first: the file's own it_coverage comes second
    assert how["IT coverage (checked)"] == read_as_answer and how["it_coverage"] == duplicate
    assert how["data_collection"] == read_as_answer  # the others as before

    # the file's own column left out too: said so, not a duplicate any more
    edits[rows["it_coverage"]] = {"column": choices[0]}
    at.session_state[key] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    table = _mapping_editor(at)[1]
    how = dict(zip(table["header"], table["how"]))
    assert how["it_coverage"] == left_out and how["IT coverage (checked)"] == read_as_answer
    # undone, every column is read as the file was matched
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    assert _mapping_editor(at)[1]["how"].tolist() == first["how"].tolist()


def test_an_edit_the_file_cannot_be_read_with_is_said_under_the_editor_to_undo_it():
    # the table says how the file is read as edited, so it is read before the table is drawn:
    # an edit it cannot be read with (every question of a 问卷星 export left out) is said
    # with the table still there, where the edit is undone
    from dmi.instruments.export.wjx import wjx_questions, wjx_text
    from dmi.service import bulkview
    from tests.survey_tools_data import plain_answers, wjx_export

    plain = plain_answers(MIIT, 5, seed=3)
    export = wjx_export(plain, wjx_text(MIIT, "zh"), wjx_questions(MIIT), "codes")
    data = export.to_csv(index=False).encode("utf-8-sig")
    at = _upload(_page("app_pages/bulk.py", "en"), "wjx.csv", data)
    key, table = _mapping_editor(at)
    left_out = bulkview.mapping_choices(MIIT, "en")[0]
    questions = table.index[table["column"] != left_out][1:]  # all but the respondent id
    edits = {int(row): {"column": left_out} for row in questions}
    at.session_state[key] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "No column of wjx\\.csv is a question of SME Digital Maturity Assessment "
        "\\(Manufacturing\\, 2024 edition\\): the headers should be the questions' codes or "
        "texts, as in the survey's template."
    ]
    assert _mapping_editor(at)[0] == key
    at.session_state[key] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception and not at.error
    assert not at.button(key="bulk_score").disabled


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_workbook_naming_no_question_names_the_instrument_by_its_title(lang, tmp_path):
    # the error named the instrument by its id (miit-2024-manufacturing)
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["说明"])
    book.active.append(["本表为企业名单"])
    path = tmp_path / "none.xlsx"
    book.save(path)
    at = _page("app_pages/bulk.py", lang)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    _upload(at, "none.xlsx", path.read_bytes(), xlsx)
    [error] = [e.value for e in at.error]
    title = dmi.load_instrument("miit-2024-manufacturing").title.get(lang)
    assert title in error.replace("\\", "") and "miit-2024" not in error, error

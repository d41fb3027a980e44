"""The survey as it flows (issue 17), without a browser: widgets that fit the question, the
language, the scenario matrix, the review, drafts and the page in the address, a new company,
the consent notice and the 统一社会信用代码 (GB 32100-2015)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dmi
from dmi.service.store import Store
from dmi.service.survey import (
    answer_summary,
    check_credit_code,
    check_page,
    clean_answers,
    item_widget,
    survey_pages,
    tick,
)

from .conftest import ROOT, app_database, sent_by_old_names

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 300  # the first run builds the shipped reference; shared CI machines are slow

# -- the 统一社会信用代码, written out from GB 32100-2015 (not taken from the code under test) --
# the 31 characters in the order of their values: no I, O, Z, S, V
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# the weight of positions 1..17: 3^(i-1) mod 31
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def _check_character(body: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def test_the_check_character_worked_by_hand():
    # 91350100M000100Y4?: 9*1 + 1*3 + 3*9 + 5*27 + 1*26 + M=21*20 + 1*8 + Y=30*30 + 4*28
    # = 9 + 3 + 27 + 135 + 26 + 420 + 8 + 900 + 112 = 1640 = 52*31 + 28 -> 31 - 28 = 3
    assert check_credit_code("91350100M000100Y43") is None
    # 91110000600037341?: 9 + 3 + 9 + 27 + 6*20 + 3*8 + 7*24 + 3*10 + 4*30 + 1*28
    # = 538 = 17*31 + 11 -> 31 - 11 = 20 = L
    assert check_credit_code("91110000600037341L") is None
    # a sum that is a multiple of 31 takes 0 (31 - 0 would be out of the alphabet)
    assert check_credit_code("0" * 18) is None
    # any other 18th character is refused, and the message says which one is expected
    for other in ALPHABET.replace("3", ""):
        message = check_credit_code(f"91350100M000100Y4{other}", "en")
        assert message is not None and '"3"' in message and f'"{other}"' in message


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_exactly_one_check_character_fits_every_code(body):
    right = _check_character(body)
    accepted = [c for c in ALPHABET if check_credit_code(body + c) is None]
    assert accepted == [right]


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_the_letters_gb_32100_leaves_out_are_named_with_their_position(letter):
    code = f"91350100M000100{letter}43"
    zh = check_credit_code(code, "zh")
    en = check_credit_code(code, "en")
    assert zh is not None and "第 16 位" in zh and f"“{letter}”" in zh
    assert en is not None and "Character 16" in en and f'"{letter}"' in en


def test_the_length_is_named_and_the_code_is_read_as_written_on_a_licence():
    assert "17" in check_credit_code("91350100M000100Y4", "zh")
    assert "19" in check_credit_code("91350100M000100Y433", "en")
    # full-width characters, small letters, spaces and hyphens as people type them
    assert check_credit_code("９１３５０１００ｍ０００１００ｙ４３") is None
    assert check_credit_code(" 913501-00m000 100y43 ") is None


def test_the_profile_page_checks_the_code_in_the_page_language(miit):
    profile = survey_pages(miit)[0]
    assert "credit_code" in profile.codes
    assert check_page(miit, profile, {"credit_code": "91350100M000100Y43"}, "zh") == {}
    assert check_page(miit, profile, {}, "zh") == {}  # optional
    problem = check_page(miit, profile, {"credit_code": "91350100M000100Y44"}, "zh")
    assert list(problem) == ["credit_code"]
    assert "“3”" in problem["credit_code"] and not re.search("[A-Za-z]{2}", problem["credit_code"])


# -- the exclusive option ("none") --------------------------------------------------------------
def _network(miit, lang="zh"):
    return item_widget(miit, miit.item("network"), None, lang)


def test_ticking_none_clears_the_others_and_another_clears_none(miit):
    widget = _network(miit)
    none = next(o.value for o in miit.item("network").options if o.exclusive)
    others = [o.value for o in miit.item("network").options if not o.exclusive]
    assert widget.exclusive == {none}
    assert tick(widget, others[:2], [*others[:2], none]) == [none]
    assert tick(widget, [none], [none, others[2]]) == [others[2]]
    assert tick(widget, others[:3], others[:1] + others[2:3]) == [others[0], others[2]]
    assert tick(widget, [], [none, others[0]]) == [none]  # both at once: "none" wins


@given(st.lists(st.integers(min_value=0, max_value=4), max_size=30))
def test_no_sequence_of_ticks_holds_none_with_another(miit, toggles):
    widget = _network(miit)
    state: list = []
    for position in toggles:
        value = widget.values[position]
        after = [v for v in state if v != value] if value in state else [*state, value]
        state = tick(widget, state, after)
        assert not (set(state) & widget.exclusive and len(state) > 1)
        if value in after and value not in widget.exclusive:
            assert value in state and not set(state) & widget.exclusive
        if value in after and value in widget.exclusive:
            assert state == [value]
        assert state == [v for v in widget.values if v in state]  # the widget's order


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_none_with_another_is_named_by_its_label_never_its_code(miit, lang):
    item = miit.item("network")
    none = next(o for o in item.options if o.exclusive)
    other = next(o for o in item.options if not o.exclusive)
    page = next(p for p in survey_pages(miit) if "network" in p.codes)
    problems = check_page(miit, page, {"network": [none.value, other.value]}, lang)
    label = none.zh if lang == "zh" else none.en
    assert label in problems["network"]
    assert f"option {none.value}" not in problems["network"]
    if lang == "zh":
        assert not re.search("[A-Za-z]", problems["network"])


def test_an_answer_the_scoring_refuses_is_said_in_chinese_on_a_chinese_page(miit):
    page = next(p for p in survey_pages(miit) if "it_coverage" in p.codes)
    zh = check_page(miit, page, {"it_coverage": "Z"}, "zh")["it_coverage"]
    assert not re.search("[A-Za-z]", zh)
    assert "expected" in check_page(miit, page, {"it_coverage": "Z"}, "en")["it_coverage"]


# -- the review's summary -----------------------------------------------------------------------
def test_the_summary_shows_every_question_with_its_answers_label(miit):
    network = miit.item("network")
    answers = {
        "employees": 120.0,
        "sector": "C34",
        "network": [network.options[1].value, network.options[2].value],
        "sc_product_design": 2,
        "company_name": "精密机械",
    }
    summary = answer_summary(miit, answers, "zh")
    assert [page.code for page, _ in summary] == [p.code for p in survey_pages(miit)]
    rows = {question: answer for _, page_rows in summary for question, answer in page_rows}
    assert len(rows) == sum(len(p.codes) for p in survey_pages(miit))
    assert rows["从业人员数（人）"] == "120"
    assert rows[network.zh] == f"{network.options[1].zh}、{network.options[2].zh}"
    sector = miit.profile_field("sector")
    assert rows[sector.zh] == next(o.zh for o in sector.options if o.value == "C34")
    assert rows[miit.item("sc_product_design").zh] == "2 · 系统规范作业"
    assert rows[miit.item("it_coverage").zh] is None  # unanswered
    assert rows["企业名称"] == "精密机械"
    english = dict(row for _, page_rows in answer_summary(miit, answers, "en") for row in page_rows)
    assert english[network.en] == f"{network.options[1].en}; {network.options[2].en}"


# -- the app ------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    with app_database(tmp_path_factory.mktemp("db"), "survey.sqlite") as url:
        yield url


def _app(lang: str | None = "zh", **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if lang:
        at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _param(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _draft(miit, answers=None, page=0, lang="zh") -> str:
    store = Store()
    token = store.new_draft(miit.id, lang)
    store.save_draft(token, answers or {}, page=page, lang=lang)
    return token


def _complete(miit) -> dict:
    """Every question answered, each differently (scenario levels 0-4 in turn)."""
    answers: dict = {"sector": "C34", "size_class": "small", "employees": 85.0}
    for n, item in enumerate(miit.items):
        widget = item_widget(miit, item, None, "en")
        if widget.kind == "multiselect":
            answers[item.code] = [v for v in widget.values if v not in widget.exclusive][
                : 1 + n % 3
            ]
        else:
            answers[item.code] = widget.values[n % len(widget.values)]
    return answers


def _start(lang: str | None = "zh") -> tuple[AppTest, str]:
    at = _app(lang).run()
    at.checkbox(key="consent").check().run()
    at.button(key="start").click().run()
    _ok(at)
    return at, at.session_state["token"]


def _page_of(miit, code: str) -> int:
    return next(i for i, p in enumerate(survey_pages(miit)) if p.code == code)


def test_multiple_choices_are_pills_and_none_is_exclusive(miit):
    at, token = _start("zh")
    for number, page in enumerate(survey_pages(miit)):
        at.query_params["page"] = str(number + 1)
        at.run()
        _ok(at)
        assert not at.multiselect  # no Streamlit "Select all", nothing in English
        multi = {f"q_{i.code}" for i in page.items if i.type == "multi"}
        assert multi <= {w.key for w in at.get("button_group")}
    at.query_params["page"] = str(_page_of(miit, "foundation") + 1)
    at.run()
    item = miit.item("network")
    none = next(o for o in item.options if o.exclusive)
    b, c = [o.value for o in item.options if not o.exclusive][:2]
    pills = at.pills(key="q_network")
    assert pills.options[[o.value for o in item.options].index(none.value)] == none.zh
    pills.set_value([b, c]).run()
    assert at.pills(key="q_network").value == [b, c]
    at.pills(key="q_network").set_value([b, c, none.value]).run()
    assert at.pills(key="q_network").value == [none.value]
    assert Store().draft(token).answers["network"] == [none.value]
    at.pills(key="q_network").set_value([none.value, c]).run()
    assert at.pills(key="q_network").value == [c]
    assert Store().draft(token).answers["network"] == [c]


def test_switching_language_keeps_every_answer_given_and_relabels_it(miit):
    at, token = _start("zh")
    at.number_input(key="p_employees").set_value(85.0).run()
    at.selectbox(key="p_size_class").set_value("small").run()
    at.query_params["page"] = str(_page_of(miit, "foundation") + 1)
    at.run()
    network = miit.item("network")
    coverage = item_widget(miit, miit.item("it_coverage"), None, "zh")
    ticked = [o.value for o in network.options if not o.exclusive][1:3]
    at.pills(key="q_network").set_value(ticked).run()
    at.radio(key="q_it_coverage").set_value(coverage.values[2]).run()
    # no "next" pressed: the answers are on the page only
    at.radio(key="lang_switch").set_value("en").run()
    _ok(at)
    assert _param(at, "lang") == "en"
    assert at.header[0].value == survey_pages(miit)[_page_of(miit, "foundation")].en
    assert at.pills(key="q_network").value == ticked
    assert at.pills(key="q_network").options == [o.en for o in network.options]
    english = item_widget(miit, miit.item("it_coverage"), None, "en")
    assert at.radio(key="q_it_coverage").value == coverage.values[2]
    assert at.radio(key="q_it_coverage").options == [english.labels[v] for v in english.values]
    # back on the profile, in English, the number and the choice are still there
    at.button(key="back").click().run()
    assert at.number_input(key="p_employees").value == 85.0
    assert at.selectbox(key="p_size_class").value == "small"
    at.radio(key="lang_switch").set_value("zh").run()
    assert at.number_input(key="p_employees").value == 85.0
    assert at.header[0].value == "企业概况"
    # stored by value, never by label
    saved = Store().draft(token).answers
    assert saved["network"] == ticked and saved["it_coverage"] == coverage.values[2]
    assert saved["employees"] == 85.0 and saved["size_class"] == "small"


# after a switch of language, a run the browser asked for before it had drawn the new names
# sends each choice by its old name: none of them is an answer, and none may be saved as one
def test_a_profile_choice_sent_in_the_language_before_changes_no_answer(miit, monkeypatch):
    at, token = _start("zh")
    at.selectbox(key="p_size_class").set_value("small").run()
    at.radio(key="lang_switch").set_value("en").run()
    _ok(at)
    size = next(f for f in miit.profile if f.code == "size_class")
    small_zh = next(o.zh for o in size.options if o.value == "small")
    sent_by_old_names(monkeypatch, at, {"p_size_class": small_zh})
    at.run()
    monkeypatch.undo()
    _ok(at)
    assert at.selectbox(key="p_size_class").value == "small"
    assert Store().draft(token).answers["size_class"] == "small"


def test_the_answers_sent_in_the_language_before_change_no_answer(miit, monkeypatch):
    at, token = _start("en")
    at.query_params["page"] = str(_page_of(miit, "foundation") + 1)
    at.run()
    network = miit.item("network")
    ticked = [o.value for o in network.options if not o.exclusive][1:3]
    coverage = item_widget(miit, miit.item("it_coverage"), None, "zh")
    at.pills(key="q_network").set_value(ticked).run()
    at.radio(key="q_it_coverage").set_value(coverage.values[2]).run()
    at.radio(key="lang_switch").set_value("zh").run()
    english = item_widget(miit, miit.item("it_coverage"), None, "en")
    names = {o.value: o.en for o in network.options}
    sent_by_old_names(
        monkeypatch,
        at,
        {
            "q_network": [names[v] for v in ticked],
            "q_it_coverage": english.labels[coverage.values[2]],
        },
    )
    at.run()
    monkeypatch.undo()
    _ok(at)
    saved = Store().draft(token).answers
    assert saved["network"] == ticked and saved["it_coverage"] == coverage.values[2]
    assert at.pills(key="q_network").value == ticked
    assert at.radio(key="q_it_coverage").value == coverage.values[2]


def test_the_chosen_language_holds_for_the_visit_and_travels_in_links(miit):
    # a link with ?lang=en opens in English
    at, _ = _start("en")
    assert at.header[0].value == "Company profile"
    assert _param(at, "lang") == "en"
    # no ?lang (a browser of any language): choosing 中文 holds through the start button
    at = _app(None).run()
    at.radio(key="lang_switch").set_value("zh").run()
    assert _param(at, "lang") == "zh"
    at.checkbox(key="consent").check().run()
    at.button(key="start").click().run()
    assert at.header[0].value == "企业概况"
    assert _param(at, "lang") == "zh"
    # a page opened without the parameter (st.switch_page drops them) gets it back
    at.switch_page("app_pages/results.py").run()
    _ok(at)
    assert _param(at, "lang") == "zh"


def test_the_scenarios_are_a_matrix_scored_as_the_library_scores_them(miit):
    answers = _complete(miit)
    operations = _page_of(miit, "operations")
    token = _draft(miit, {k: v for k, v in answers.items() if not k.startswith("sc_")}, 0)
    at = _app("zh", resume=token, page=str(operations + 1)).run()
    _ok(at)
    scenarios = [i for i in survey_pages(miit)[operations].items]
    assert not [r for r in at.radio if r.key != "lang_switch"]  # no wall of radio options
    rows = {c.key: c for c in at.segmented_control}
    assert set(rows) == {f"q_{i.code}" for i in scenarios}
    levels = miit.scenario_levels
    for row in rows.values():
        assert row.options == [str(lv.value) for lv in levels]  # compact: the values
    legend = [e for e in at.expander if e.label == "等级说明"]
    assert len(legend) == 1
    legend_text = "".join(m.value for m in legend[0].markdown)
    for level in levels:  # each description once, as written in the instrument
        assert legend_text.count(level.zh) == 1
    for item in scenarios:
        at.segmented_control(key=f"q_{item.code}").set_value(answers[item.code]).run()
    at.button(key="next").click().run()
    _ok(at)
    at.query_params["page"] = "review"
    at.run()
    at.button(key="submit").click().run()
    _ok(at)
    stored = Store().submissions(token)[-1].scores
    expected = (
        dmi.IndexModel(miit)
        .fit()
        .score(pd.DataFrame([{"respondent_id": "x", **clean_answers(answers)}]))
        .iloc[0]
    )
    for column in [c for c in expected.index if c == "dmi" or c.startswith("dim_")]:
        assert stored[column] == pytest.approx(float(expected[column]), abs=1e-9), column


def test_the_review_lists_every_answer_and_edits_one_page(miit):
    answers = {**_complete(miit), "company_name": "精密机械"}
    pages = survey_pages(miit)
    token = _draft(miit, answers, page=len(pages))
    at = _app("zh", resume=token).run()  # a complete draft opens on the review
    _ok(at)
    assert _param(at, "page") == "review"
    summary = answer_summary(miit, answers, "zh")
    shown = "".join(m.value for m in at.markdown).replace("\\", "")
    for _page, rows in summary:
        for question, answer in rows:
            assert question in shown
            if answer is not None:
                assert answer in shown
    assert [h.value for h in at.subheader] == [p.zh for p in pages]
    foundation = _page_of(miit, "foundation")
    at.button(key="edit_foundation").click().run()
    _ok(at)
    assert at.header[0].value == pages[foundation].zh
    assert _param(at, "page") == str(foundation + 1)
    assert at.button(key="next").label == "保存并返回检查页"
    assert at.button(key="back").disabled
    coverage = item_widget(miit, miit.item("it_coverage"), None, "zh")
    new_value = next(v for v in coverage.values if v != answers["it_coverage"])
    at.radio(key="q_it_coverage").set_value(new_value).run()
    at.button(key="next").click().run()
    _ok(at)
    assert _param(at, "page") == "review"
    assert coverage.labels[new_value] in "".join(m.value for m in at.markdown).replace("\\", "")


def test_the_page_is_in_the_address_and_each_change_is_saved_at_once(miit):
    pages = survey_pages(miit)
    token = _draft(miit, {"sector": "C34"}, page=1)
    at = _app("en", resume=token).run()  # no page asked: where the draft was left
    assert at.header[0].value == pages[1].en and _param(at, "page") == "2"
    at.query_params["page"] = "4"  # the browser's back/forward buttons change the address
    at.run()
    assert at.header[0].value == pages[3].en
    assert Store().draft(token).page == 3
    at.button(key="back").click().run()
    assert _param(at, "page") == "3" and at.header[0].value == pages[2].en
    item = pages[2].items[0]
    at.segmented_control(key=f"q_{item.code}").set_value(3).run()
    assert Store().draft(token).answers[item.code] == 3  # no button pressed
    # a reload is a new session: the address brings back the page and the answer
    again = _app("en", resume=token, page="3").run()
    assert again.segmented_control(key=f"q_{item.code}").value == 3
    # without the code in the address, the session still knows its draft
    at.query_params.pop("resume")
    at.query_params.pop("page")
    at.run()
    assert at.header[0].value == pages[2].en and _param(at, "resume") == token
    unknown_page = _app("en", resume=token, page="99").run()
    assert unknown_page.header[0].value == pages[2].en


def test_a_consultant_starts_a_new_company_after_a_submission(miit):
    answers = _complete(miit)
    pages = survey_pages(miit)
    token = _draft(miit, answers, page=len(pages))
    at = _app("zh", resume=token).run()
    assert "new_company" not in {b.key for b in at.button}  # nothing submitted yet
    at.button(key="submit").click().run()
    _ok(at)
    at.button(key="new_company").click().run()
    _ok(at)
    new = at.session_state["token"]
    assert new != token
    assert Store().draft(new).answers == {} and Store().draft(new).instrument_id == miit.id
    assert at.header[0].value == "企业概况"
    assert at.session_state["visit_codes"] == [token]
    assert token in [c.value for c in at.sidebar.code]
    assert Store().submissions(token)  # the first company's result stays


def test_the_consent_notice_names_the_controller_the_hash_and_the_days():
    at = _app("zh")
    at.secrets["dmi"] = {"controller": {"name": "某市工信局", "contact": "dmi@example.gov.cn"}}
    at.run()
    notice = " ".join(m.value for m in at.markdown).replace("\\", "").replace("\u2060", "")
    assert "某市工信局" in notice and "dmi@example.gov.cn" in notice
    assert "单向散列" in notice and "加密散列" not in notice
    assert "365 天" in notice
    # the pre-check's facts (revenue, profit, R&D ...) are stored with the same code: said
    assert "梯度培育预评估" in notice and "营业收入" in notice and "不用于参考模型" in notice
    at = _app("en").run()
    notice = " ".join(m.value for m in at.markdown)
    assert "one-way hash" in notice and "not set by the administrator" in notice
    assert "ladder pre-check" in notice and "revenue" in notice
    assert "not for the reference model" in notice


def test_a_run_whose_address_is_already_right_sends_no_new_address(miit, monkeypatch):
    """Each address the app sends becomes a new entry in the browser's history when it differs
    from the one shown. A run that only repeats the address still sent it: arriving late, after
    the visitor pressed back, it pushed the page left behind and the forward button lost its
    page (the flaky browser test of issue 17). A rerun now sends nothing when nothing moved."""
    from streamlit.runtime.state.query_params import QueryParams

    sent: list[str] = []
    original = QueryParams._send_query_param_msg

    def counted(self) -> None:
        sent.append(str(dict(self._query_params)))
        original(self)

    monkeypatch.setattr(QueryParams, "_send_query_param_msg", counted)
    token = _draft(miit, {"sector": "C34"}, page=1)
    at = _app("en", resume=token, page="2").run()
    _ok(at)
    sent.clear()
    at.run()  # a widget's change or a late rerun: the address already says where it is
    _ok(at)
    assert sent == []
    at.button(key="back").click().run()  # a move sends the new page, once
    _ok(at)
    assert _param(at, "page") == "1"
    assert len(sent) == 1 and "'page': '1'" in sent[0]

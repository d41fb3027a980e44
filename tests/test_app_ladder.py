"""The app's 梯度培育 pre-check page, without a browser (Streamlit's AppTest).

A company fills in its facts (zh and en) and sees, rung by rung, the statuses
``dmi.eligibility.evaluate`` gives for the same facts; a blank is unknown, never failing; the
facts and the result come back with the resume code; the digital level is carried over from the
company's survey and not asked again.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

import dmi.eligibility as el
from dmi.locales import text
from dmi.results.ladder import ladder_view, status_text
from dmi.service.ladder import application_year_now, profile_facts
from dmi.service.store import Store

from .conftest import ROOT, app_database, sent_by_old_names
from .test_service_ladder import FIRM

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 300
# a rung's heading: its name and status badge (a subheader, so that a screen reader can go from
# rung to rung)
BADGE = re.compile(r"^(?P<label>.+) :(?P<colour>\w+)-badge\[(?P<status>.+)\]$")
ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
CONDITION_ID = re.compile(r"\b(base|in22|ts|sr22|sr26|lg22|lg26)_[a-z0-9_]+")


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    with app_database(tmp_path_factory.mktemp("db"), "ladder.sqlite") as url:
        yield url


def _app(lang: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _shown(markdown: str) -> str:
    return ESCAPE.sub(r"\1", markdown).replace("\u2060", "")


def under(at: AppTest, key: str):
    """The element drawn right after the widget ``key`` (in the page's order), or None."""
    elements = [n for n in at.main if not hasattr(n, "children")]
    keys = [getattr(n, "key", None) for n in elements]
    at_ = keys.index(key)
    return elements[at_ + 1] if at_ + 1 < len(elements) else None


def statuses(at: AppTest) -> dict[str, str]:
    """Rung label -> the status shown in its badge, as the page shows them."""
    found = {}
    for m in at.subheader:
        hit = BADGE.match(m.value)
        if hit:
            found[_shown(hit["label"])] = _shown(hit["status"])
    return found


def expected(facts: dict, lang: str, policy: str = "2026", **extra) -> dict[str, str]:
    """What the API gives for the facts, applying in the year the page applies in."""
    year = application_year_now(policy)
    result = el.evaluate({**facts, **extra}, policy=policy, year=year, lang=lang)
    return {result[r].label: heading(result[r], lang) for r in el.RUNGS}


def heading(r: el.RungResult, lang: str) -> str:
    """A rung's status as its heading says it: a title the firm holds as held (its evaluation
    only for reference), else the API's status in words."""
    return text("ladder.status_held", lang) if r.held else status_text(r.status, lang)


def held_line(r: el.RungResult, lang: str) -> str:
    """The line under a title held: its evaluation by the rules applied, for reference."""
    status = el.status_label(r.status, lang)
    return text("ladder.rung_meta_held", lang, policy=r.policy, status=status)


def fill(at: AppTest, facts: dict) -> None:
    for code, value in facts.items():
        fact = el.FACTS[code]
        key = f"f_{code}"
        if fact.type == "number":
            at.number_input(key=key).set_value(value)
        elif fact.type == "yesno":
            at.radio(key=key).set_value(value)
        elif fact.type == "category":
            at.selectbox(key=key).set_value(value)
        else:
            at.text_input(key=key).input(value)


def start(lang: str) -> tuple[AppTest, str]:
    """Open the page on its own, agree to the notice, start: a new resume code."""
    at = _app(lang).run()
    at.switch_page("app_pages/ladder.py").run()
    _ok(at)
    at.button(key="ladder_start").click().run()
    assert at.error and at.error[0].value == text("app.consent_needed", lang)
    at.checkbox(key="ladder_consent").check().run()
    at.button(key="ladder_start").click().run()
    _ok(at)
    return at, at.session_state["token"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_company_fills_its_facts_and_sees_what_the_api_gives(lang):
    at, token = start(lang)
    assert at.title[0].value == text("ladder.title", lang)
    assert at.selectbox(key="ladder_policy").value == "2026"  # the rules in force
    assert statuses(at) == {}  # nothing before the facts are given
    assert text("ladder.autosave", lang) in [c.value for c in at.caption]
    fill(at, FIRM)
    at.run()
    _ok(at)
    shown = statuses(at)
    assert shown == expected(FIRM, lang)
    assert len(shown) == 3
    result = el.evaluate(FIRM, policy="2026", lang=lang)
    assert result["specialised"].status == "not_yet"  # 81% debt, 2.4% R&D (hand-worked)
    # the condition ids are small references (captions), never the text a condition is read by
    heads = [m.value for m in at.markdown if not BADGE.match(m.value)]
    assert not [h for h in heads if CONDITION_ID.search(_shown(h).split(":gray[")[0])]
    assert any("sr26_debt" in _shown(c.value) for c in at.caption)
    # the gaps in the firm's own numbers
    assert any("81%" in _shown(m.value) and "80%" in _shown(m.value) for m in at.markdown)
    # kept with the code: the facts as given and the result row the API gives
    kept = Store().ladder(token)
    assert kept.facts == FIRM and kept.policy == "2026"
    assert kept.evaluation["specialised_status"] == "not_yet"
    assert kept.evaluation["sr26_debt"] == "not_met"


def test_blank_facts_are_unknown_never_not_met():
    at, _ = start("zh")
    fill(at, {"province": "广东"})  # a fact no rule reads: every other one blank
    at.run()
    _ok(at)
    assert statuses(at) == expected({}, "zh")
    assert set(statuses(at).values()) == {"信息不足"}
    not_met = text("ladder.state_not_met", "zh")
    assert not any(f"**{not_met}**" in m.value for m in at.markdown)
    # a blank among the facts: that one condition is unknown
    without = {k: v for k, v in FIRM.items() if k != "debt_ratio"}
    fill(at, without)
    at.run()
    _ok(at)
    assert statuses(at) == expected(without, "zh")


def test_the_code_brings_back_the_facts_and_the_result_and_a_change_is_evaluated_again():
    at, token = start("en")
    fill(at, FIRM)
    at.run()
    _ok(at)

    again = _app("zh", resume=token).run()
    again.switch_page("app_pages/ladder.py").run()
    _ok(again)
    assert again.number_input(key="f_revenue_y1").value == 4000
    assert again.number_input(key="f_debt_ratio").value == 81
    assert again.radio(key="f_sme").value == "yes"
    assert again.selectbox(key="f_holds_innovative").value == "yes"
    assert again.number_input(key="f_market_share").value is None  # never given: blank
    assert statuses(again) == expected(FIRM, "zh")  # shown without pressing anything
    before = Store().ladder(token).updated_at
    again.run()
    assert Store().ladder(token).updated_at == before  # nothing changed: nothing written

    changed = {**FIRM, "debt_ratio": 80, "rd_y1": 120}
    again.number_input(key="f_debt_ratio").set_value(80)
    again.number_input(key="f_rd_y1").set_value(120)
    again.run()
    _ok(again)
    assert statuses(again) == expected(changed, "zh")
    assert el.evaluate(changed, "2026")["specialised"].status == "manual"  # only manual left
    kept = Store().ladder(token)
    assert kept.facts == changed and kept.evaluation["specialised_status"] == "manual"


def test_a_change_of_language_keeps_what_was_typed():
    at, token = start("zh")
    fill(at, FIRM)
    at.run()
    at.sidebar.radio(key="lang_switch").set_value("en").run()
    _ok(at)
    assert at.title[0].value == text("ladder.title", "en")
    assert at.number_input(key="f_debt_ratio").value == 81
    assert at.radio(key="f_sme").value == "yes"
    assert at.radio(key="f_high_tech_title").value == ""  # "not given" (the page's BLANK_CHOICE)
    # each choice sent to the browser by its new name: the browser keeps a radio's choice by
    # its shown name, and showed no option ticked (the answers kept, but looking lost)
    for name, value in (("f_sme", "ladder.answer_yes"), ("f_high_tech_title", "ladder.blank")):
        radio = at.radio(key=name).proto
        assert radio.set_value and radio.raw_value == text(value, "en"), name
    assert statuses(at) == expected(FIRM, "en")
    assert Store().ladder(token).facts == FIRM


def test_another_policy_is_applied_and_kept():
    at, token = start("en")
    fill(at, FIRM)
    at.selectbox(key="ladder_policy").set_value("2022")
    at.run()
    _ok(at)
    assert statuses(at) == expected(FIRM, "en", policy="2022")
    assert Store().ladder(token).policy == "2022"


def test_rules_chosen_before_any_fact_are_kept():
    # choosing the 2022 rules with no fact entered saved nothing: on resume the page was back
    # on the rules in force
    at, token = start("en")
    at.selectbox(key="ladder_policy").set_value("2022").run()
    _ok(at)
    assert Store().ladder(token).policy == "2022"
    again = _reopen("en", token)
    assert again.selectbox(key="ladder_policy").value == "2022"
    # the rules in force and nothing given: still nothing to keep
    fresh, other = start("en")
    assert Store().ladder(other) is None


def test_facts_that_contradict_each_other_are_refused_in_the_pages_language():
    at, token = start("zh")
    fill(at, {**FIRM, "main_revenue_y1": 5000})
    at.run()
    _ok(at)
    # at the field the message names first, not in a box under the whole form
    (error,) = at.error
    assert under(at, "f_main_revenue_y1") == error
    message = _shown(error.value)
    assert "上年主营业务收入" in message and "上年营业收入" in message and "不能大于" in message
    assert "main_revenue_y1" not in message
    # the fact named first is left out (unknown), the rest kept, and the ladder drawn from them
    without = {k: v for k, v in FIRM.items() if k != "main_revenue_y1"}
    assert statuses(at) == expected(without, "zh")
    kept = Store().ladder(token)
    assert kept.facts == without
    assert kept.refused == {"main_revenue_y1": 5000}


def test_the_surveys_level_is_carried_over_and_not_asked_again(miit):
    from .test_app import _submit, company_answers

    store = Store()
    _, token = _submit(store, miit, company_answers(miit))
    level = store.submissions(token)[-1].level

    at = _app("zh", resume=token).run()
    at.switch_page("app_pages/ladder.py").run()
    _ok(at)
    assert miit.level_band(level).zh in at.info[0].value
    assert not [w for w in at.number_input if w.key == "f_digital_level"]
    fill(at, FIRM)
    at.selectbox(key="ladder_policy").set_value("2022")
    at.run()
    _ok(at)
    assert statuses(at) == expected(FIRM, "zh", policy="2022", digital_level_computed=level)
    # the 2022 专精特新 scorecard counts the level (数字化水平): its points as the API gives them
    with_level = ladder_view(el.evaluate({**FIRM, "digital_level_computed": level}, "2022"))
    without = ladder_view(el.evaluate(FIRM, "2022"))
    assert with_level[1].points != without[1].points
    assert with_level[1].points in [_shown(m.value) for m in at.markdown]
    assert store.ladder(token).submission_id == store.submissions(token)[-1].id
    # the results page offers the pre-check and puts it in the report
    at.switch_page("app_pages/results.py").run()
    _ok(at)
    assert at.button(key="open_ladder")
    labels = [_shown(m.value) for m in at.markdown]
    assert any(el.evaluate(FIRM, "2022", lang="zh")["specialised"].label in x for x in labels)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_first_visit_starts_from_the_province_and_sector_the_survey_gave(miit, lang):
    from .test_app import _submit, company_answers

    store = Store()
    answers = company_answers(miit)  # region 32, sector C34
    _, token = _submit(store, miit, answers)
    at = _app(lang, resume=token).run()
    at.switch_page("app_pages/ladder.py").run()
    _ok(at)
    # in the page's language (an English page showed 江苏省): a cohort counts a province's
    # firms together in either
    province = miit.profile_field("region").options
    sector = miit.profile_field("sector").options
    jiangsu = getattr(next(o for o in province if o.value == "32"), lang)
    assert jiangsu == ("江苏省" if lang == "zh" else "Jiangsu")
    assert at.text_input(key="f_province").value == jiangsu
    assert at.text_input(key="f_sector").value.startswith("C34 ")
    machinery = getattr(next(o for o in sector if o.value == "C34"), lang)
    assert at.text_input(key="f_sector").value[4:] == machinery
    # what the survey gave is not yet the firm's answer: no result, nothing kept
    assert not statuses(at) and store.ladder(token) is None
    fill(at, {"revenue_y1": 3000})
    at.run()
    _ok(at)
    assert store.ladder(token).facts["province"] == jiangsu
    # what the firm changes is what is kept, and comes back so
    at.text_input(key="f_province").input("上海市").run()
    again = _app(lang, resume=token).run()
    again.switch_page("app_pages/ladder.py").run()
    assert again.text_input(key="f_province").value == "上海市"


def test_a_survey_submitted_after_the_pre_check_fills_the_facts_left_blank(miit):
    # the pre-check done first kept no staff; the survey then answered 120 employees, and the
    # form stayed blank (the profile was carried over on a first visit only)
    from .test_app import _submit, company_answers

    at, token = start("zh")
    fill(at, {**FIRM, "province": "上海市"})  # a province of its own; no staff, no sector
    at.run()
    _ok(at)
    store = Store()
    answers = company_answers(miit)  # region 32 (江苏省), sector C34, its employees
    _submit(store, miit, answers, token=token)
    profile = profile_facts(miit, answers)  # what the survey gives the pre-check
    assert "staff" in profile and profile["province"] == "江苏省"
    again = _app("zh", resume=token).run()
    again.switch_page("app_pages/ladder.py").run()
    _ok(again)
    assert again.number_input(key="f_staff").value == profile["staff"]
    assert again.text_input(key="f_sector").value == profile["sector"]
    assert again.text_input(key="f_province").value == "上海市"  # its own answer kept
    kept = store.ladder(token).facts
    assert kept["staff"] == profile["staff"] and kept["province"] == "上海市"
    # once kept, a fact the firm then empties stays empty
    again.number_input(key="f_staff").set_value(None).run()
    _ok(again)
    later = _app("zh", resume=token).run()
    later.switch_page("app_pages/ladder.py").run()
    assert later.number_input(key="f_staff").value is None
    assert "staff" not in store.ladder(token).facts


def test_the_code_is_put_in_the_address_when_the_page_is_reached_from_the_sidebar():
    # from the survey or the results in the sidebar, the code is in the session, not in the
    # address: a reload then showed the start screen as if new
    at, token = start("zh")
    at.query_params.pop("resume", None)
    at.switch_page("app_pages/survey.py").run()
    at.query_params.pop("resume", None)
    at.switch_page("app_pages/ladder.py").run()
    _ok(at)
    assert at.query_params["resume"] == token
    reloaded = _app("zh", resume=token).run()
    reloaded.switch_page("app_pages/ladder.py").run()
    assert reloaded.session_state["token"] == token and not reloaded.error


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_debt_ratio_typed_as_a_fraction_is_taken_and_said_under_its_field(lang):
    # 0.8 for 80 %: read as 0.8 %, it met both ceilings without a word (a file's column of such
    # values gets a note); taken, as a firm may owe that little, and said right under the field
    at, token = start(lang)
    fill(at, {**FIRM, "debt_ratio": 0.8})
    at.run()
    _ok(at)
    assert not at.error
    fact = el.FACTS["debt_ratio"]
    caution = under(at, "f_debt_ratio")
    assert caution is not None and caution in at.warning
    said = _shown(caution.value)
    assert fact.label(lang) in said and "0.8%" in said and "100" in said, said
    assert statuses(at) == expected({**FIRM, "debt_ratio": 0.8}, lang)
    assert Store().ladder(token).facts["debt_ratio"] == 0.8
    # a debt ratio above 1 (or of 0) is no doubt: nothing said
    at.number_input(key="f_debt_ratio").set_value(45).run()
    assert not at.warning and under(at, "f_debt_ratio") not in at.warning
    # revenue typed in yuan: taken, and said under its field
    at.number_input(key="f_revenue_y1").set_value(40_000_000).run()
    _ok(at)
    caution = under(at, "f_revenue_y1")
    assert caution is not None and caution in at.warning
    assert el.FACTS["revenue_y1"].label(lang) in _shown(caution.value)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_value_out_of_its_range_is_refused_in_the_pages_language(lang):
    # the form's own bounds gave Streamlit's English message and kept the old value in the
    # result without a word: the value is taken, refused by the facts' rule, and said so
    at, token = start(lang)
    fill(at, {**FIRM, "debt_ratio": 180, "staff": -5})
    at.run()
    _ok(at)
    shown = [_shown(e.value) for e in at.error]
    debt, staff = el.FACTS["debt_ratio"], el.FACTS["staff"]
    assert len(shown) == 2, shown
    # each message right under its field (it was one box under the whole form, off screen)
    at_debt, at_staff = _shown(under(at, "f_debt_ratio").value), _shown(under(at, "f_staff").value)
    assert debt.label(lang) in at_debt and "180" in at_debt and "100" in at_debt, at_debt
    assert staff.label(lang) in at_staff and "-5" in at_staff, at_staff
    # the ladder still drawn, from the valid facts (the refused ones unknown), and said once
    without = {k: v for k, v in FIRM.items() if k != "debt_ratio"}
    assert statuses(at) == expected(without, lang)
    said = [_shown(w.value) for w in at.warning]
    names = text("ladder.item_sep", lang).join([debt.label(lang), staff.label(lang)])
    assert said == [text("ladder.left_out", lang, facts=names)], said
    if lang == "zh":
        assert not any(re.search(r"[a-z]{4,}", m) for m in shown), shown
    # the valid facts kept, the refused values apart (not facts)
    kept = Store().ladder(token)
    assert kept.facts == {k: v for k, v in FIRM.items() if k != "debt_ratio"}
    assert kept.refused == {"debt_ratio": 180, "staff": -5}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_fields_labels_carry_no_escapes_a_screen_reader_would_read(lang):
    # a label is its field's aria-label as given: "资产负债率（\%）" was read "backslash percent"
    at, _ = start(lang)
    widgets = [*at.number_input, *at.text_input, *at.radio, *at.selectbox]
    labels = {w.key: w.label for w in widgets if str(w.key).startswith("f_")}
    assert len(labels) >= 40
    assert not {k: v for k, v in labels.items() if "\\" in v}
    assert labels["f_debt_ratio"] == el.FACTS["debt_ratio"].label(lang) + (
        "（%）" if lang == "zh" else " (%)"
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_fields_units_are_said_in_the_page_s_language(lang):
    # the English form read "Staff (人)", "IP items (项)", "Year of the award (年)"
    at, _ = start(lang)
    labels = {w.key: w.label for w in [*at.number_input] if str(w.key).startswith("f_")}
    facts = el.FACTS
    expected = {
        "f_staff": facts["staff"].label(lang) + ("（人）" if lang == "zh" else ""),
        "f_niche_years": facts["niche_years"].label(lang)
        + ("（年）" if lang == "zh" else " (years)"),
        "f_award_year": facts["award_year"].label(lang),  # a calendar year: no unit
        "f_revenue_y1": facts["revenue_y1"].label(lang)
        + ("（万元）" if lang == "zh" else " (万元)"),
    }
    assert {k: labels[k] for k in expected} == expected
    if lang == "en":
        assert not [v for v in labels.values() if re.search(r"\((人|项|名|级|分|年)\)", v)]
        # 万元 stays the unit (the files' and the rules' own), said once in English words
        assert [c.value for c in at.caption if "万元" in c.value and "10,000 yuan" in c.value]


def _reopen(lang: str, token: str) -> AppTest:
    """The page opened anew with the code (a reload: a new session)."""
    at = _app(lang, resume=token).run()
    at.switch_page("app_pages/ladder.py").run()
    _ok(at)
    return at


def test_a_number_emptied_is_unknown_again_and_kept_so():
    # the field's default was the stored value, which Streamlit puts back when the box is
    # emptied: a number once saved could not be taken back, even after a reload
    at, token = start("zh")
    fill(at, {**FIRM, "debt_ratio": 60})
    at.run()
    again = _reopen("zh", token)
    assert again.number_input(key="f_debt_ratio").value == 60
    again.number_input(key="f_debt_ratio").set_value(None).run()
    _ok(again)
    assert again.number_input(key="f_debt_ratio").value is None
    without = {k: v for k, v in FIRM.items() if k != "debt_ratio"}
    assert Store().ladder(token).facts == without
    assert statuses(again) == expected(without, "zh")
    assert _reopen("zh", token).number_input(key="f_debt_ratio").value is None


def test_a_number_emptied_frees_a_firm_from_a_check_it_broke():
    # costs of 10 saved, then R&D of 50: refused (R&D above costs); emptying the costs is the
    # way out, and the refusal stayed because the box came back with 10
    at, token = start("zh")
    fill(at, {"cost_y1": 10})
    at.run()
    again = _reopen("zh", token)
    fill(again, {"rd_y1": 50})
    again.run()
    assert again.error and "上年成本费用总额" in _shown(again.error[0].value)
    again.number_input(key="f_cost_y1").set_value(None).run()
    _ok(again)
    assert not again.error
    assert Store().ladder(token).facts == {"rd_y1": 50}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_drop_down_left_blank_says_not_known_in_the_page_s_language(lang):
    # an empty choice showed Streamlit's own "Choose an option", also after "不清楚 / 未填"
    at, _ = start(lang)
    boxes = [b for b in at.selectbox if str(b.key).startswith("f_")]
    assert len(boxes) >= 7 and all(b.value is None for b in boxes)
    assert {b.key: b.proto.placeholder for b in boxes} == {
        b.key: text("ladder.blank", lang) for b in boxes
    }
    fill(at, {"award": "national"})
    at.run()
    at.selectbox(key="f_award").set_value(None).run()
    _ok(at)
    chosen = at.selectbox(key="f_award")
    assert chosen.value is None and chosen.proto.placeholder == text("ladder.blank", lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_whole_number_typed_with_decimals_is_refused_not_cut(lang):
    # a staff of 2.5 became 2 without a word (the box took whole numbers only)
    at, token = start(lang)
    fill(at, {**FIRM, "staff": 2.5})
    at.run()
    _ok(at)
    assert at.number_input(key="f_staff").value == 2.5  # shown as typed
    shown = [_shown(e.value) for e in at.error]
    staff = el.FACTS["staff"]
    assert any(staff.label(lang) in m and "2.5" in m for m in shown), shown
    kept = Store().ladder(token)
    assert kept.facts == FIRM and kept.refused == {"staff": 2.5}  # not a fact
    at.number_input(key="f_staff").set_value(3).run()
    _ok(at)
    assert Store().ladder(token).facts["staff"] == 3


def test_the_application_year_is_this_year_and_the_page_says_so():
    # under the 2022 rules the page applied for 2022 ("申请年度 2022"): an award of last year
    # was out of its window there, and met the direct route under the 2026 rules
    this_year = date.today().year
    award = {**FIRM, "award": "national", "award_year": this_year - 1}
    at, token = start("zh")
    fill(at, award)
    at.selectbox(key="ladder_policy").set_value("2022")
    at.run()
    _ok(at)
    result = el.evaluate(award, policy="2022", year=this_year, lang="zh")
    assert result["innovative"].status == "eligible"
    assert statuses(at) == {result[r].label: heading(result[r], "zh") for r in el.RUNGS}
    said = [_shown(c.value) for c in at.caption]
    assert any(f"申请年度 {this_year}" in c and text("ladder.year_today", "zh") in c for c in said)
    assert Store().ladder(token).evaluation["innovative_status"] == "eligible"


def test_a_choice_the_browser_sends_in_the_language_before_is_read_as_the_stored_one(monkeypatch):
    # after a switch of language, a run the browser asked for before it had drawn the new names
    # sends a choice by its old name ("是（有效期内）" on the English page): it was taken as no
    # option at all, the box went blank and the fact was saved as unknown
    at, token = start("zh")
    fill(at, FIRM)
    at.run()
    chinese = at.selectbox(key="ladder_policy").options  # the rules by their Chinese names
    at.sidebar.radio(key="lang_switch").set_value("en").run()
    _ok(at)
    not_chosen = chinese[el.available_policies().index("2022")]  # 2026 is the one chosen
    sent_by_old_names(
        monkeypatch,
        at,
        {
            "f_holds_innovative": el.FACTS["holds_innovative"].values[1].label("zh"),
            "f_sme": text("ladder.answer_yes", "zh"),
            "f_high_tech_title": text("ladder.blank", "zh"),  # not given
            "ladder_policy": not_chosen,
        },
    )
    at.run()
    monkeypatch.undo()
    _ok(at)
    assert at.selectbox(key="f_holds_innovative").value == "yes"
    assert at.radio(key="f_sme").value == "yes"
    assert at.radio(key="f_high_tech_title").value == ""  # "not given" (the page's BLANK_CHOICE)
    assert Store().ladder(token).facts == FIRM
    assert Store().ladder(token).policy == "2026"
    assert statuses(at) == expected(FIRM, "en")


def test_after_a_refused_value_every_later_change_is_still_kept():
    # one value refused (a debt ratio of 180) and the page stopped saving: the changes after it
    # were lost without a word, though the page says every change is saved
    at, token = start("zh")
    for code, value in [
        ("sme", "yes"),
        ("debt_ratio", 180),
        ("revenue_y1", 3000),
        ("niche_years", 5),
        ("holds_innovative", "yes"),
    ]:
        fill(at, {code: value})
        at.run()
        _ok(at)
    facts = {"holds_innovative": "yes", "sme": "yes", "revenue_y1": 3000, "niche_years": 5}
    kept = Store().ladder(token)
    assert kept.facts == facts and kept.refused == {"debt_ratio": 180}
    year = application_year_now("2026")
    assert kept.evaluation == _plain_row(el.evaluate(facts, "2026", year=year, lang="zh").row)
    # the code brings the facts back, and the refused value in its field, refused again
    again = _reopen("zh", token)
    assert again.number_input(key="f_debt_ratio").value == 180
    assert again.number_input(key="f_revenue_y1").value == 3000
    assert again.selectbox(key="f_holds_innovative").value == "yes"
    shown = [_shown(e.value) for e in again.error]
    assert any("上年末资产负债率（180%）应在 0 至 100 之间" in m for m in shown), shown
    # put right: a fact like the others, nothing refused left
    again.number_input(key="f_debt_ratio").set_value(60).run()
    _ok(again)
    kept = Store().ladder(token)
    assert kept.facts == {**facts, "debt_ratio": 60} and kept.refused == {}
    assert not again.error


def _plain_row(row: dict) -> dict:
    import json

    return json.loads(json.dumps(row, default=str))


def test_a_stated_level_the_survey_disagrees_with_is_kept_and_flagged(miit):
    # the stated level vanished once the survey was taken (its field gone, the points down, no
    # word), where the library uses the computed one and flags the disagreement
    from .test_app import _submit, company_answers

    at, token = start("zh")
    at.selectbox(key="ladder_policy").set_value("2022")
    stated = {**FIRM, "digital_level": 4}
    fill(at, stated)
    at.run()
    _ok(at)
    store = Store()
    _submit(store, miit, company_answers(miit), token)
    level = store.submissions(token)[-1].level
    assert level != 4

    again = _reopen("zh", token)
    assert again.number_input(key="f_digital_level").value == 4  # the stated level, kept
    facts = {**stated, "digital_level_computed": level}
    result = el.evaluate(facts, "2022", year=application_year_now("2022"), lang="zh")
    assert statuses(again) == expected(stated, "zh", policy="2022", digital_level_computed=level)
    # the library's own flag, shown as the page shows every flag
    (flag,) = result.flags
    assert "填报 4 级" in flag
    assert text("ladder.flag", "zh", text=flag) in [_shown(i.value) for i in again.info]
    # the computed level counts: the points are the library's with both levels
    points = ladder_view(result)[1].points
    assert points in [_shown(m.value) for m in again.markdown]
    kept = store.ladder(token)
    assert kept.facts["digital_level"] == 4 and kept.evaluation["flags"]
    # emptied, the field stays for this visit and the flag goes
    again.number_input(key="f_digital_level").set_value(None).run()
    _ok(again)
    assert again.number_input(key="f_digital_level").value is None
    assert not [i for i in again.info if "填报" in i.value]
    assert "digital_level" not in store.ladder(token).facts


def test_another_surveys_level_is_not_taken_for_the_miit_level():
    # an EU DMA submission's band 2 (一般) was carried as the MIIT 二级, and earned the 2022
    # 专精特新 scorecard's 数字化水平 3 points; the pre-check takes the MIIT survey's level only
    import dmi

    from .conftest import best_answers
    from .test_app import _submit

    eu = dmi.load_instrument("eu-dma-sme")
    answers = best_answers(eu)
    store = Store()
    _, token = _submit(store, eu, answers)
    assert store.submissions(token)[-1].instrument_id == "eu-dma-sme"
    at = _app("zh", resume=token).run()
    at.switch_page("app_pages/ladder.py").run()
    _ok(at)
    assert not at.info, [i.value for i in at.info]
    assert [w for w in at.number_input if w.key == "f_digital_level"]  # asked of the firm
    # the results page's ladder is the pre-check's: no level (it took the EU band as the
    # MIIT's, and listed 专精特新 eligible where the pre-check said not enough information)
    from .test_eligibility import SR22

    facts = {k: v for k, v in SR22.items() if k not in ("digital_level", "respondent_id")}
    facts["featured_points"] = 3
    at_level_4 = el.evaluate({**facts, "digital_level_computed": 4}, "2022")
    assert at_level_4["specialised"].status != el.evaluate(facts, "2022")["specialised"].status
    fill(at, facts)
    at.selectbox(key="ladder_policy").set_value("2022")
    at.run()
    _ok(at)
    assert statuses(at) == expected(facts, "zh", policy="2022")
    at.switch_page("app_pages/results.py").run()
    _ok(at)
    result = el.evaluate(facts, "2022", lang="zh", year=application_year_now("2022"))
    listed = [_shown(m.value) for m in at.markdown]
    for rung in el.RUNGS:
        line = f"**{result[rung].label}**: {status_text(result[rung].status, 'zh')}"
        assert any(line in x for x in listed), (line, listed)


def test_the_results_page_names_the_values_the_pre_check_left_out(miit):
    # the page said a refused value was left out as unknown; the results page and its report
    # showed the ladder without a word of it
    from dmi.results.ladder import left_out

    from .test_app import _submit, company_answers

    store = Store()
    _, token = _submit(store, miit, company_answers(miit))
    at = _app("zh", resume=token).run()
    at.switch_page("app_pages/ladder.py").run()
    fill(at, {**FIRM, "debt_ratio": 180})
    at.run()
    _ok(at)
    assert Store().ladder(token).refused == {"debt_ratio": 180}
    at.switch_page("app_pages/results.py").run()
    _ok(at)
    said = [_shown(w.value) for w in at.warning]
    assert left_out({"debt_ratio": 180}, "zh", on_the_page=False) in said, said


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_pre_check_offers_its_ladder_as_a_report_without_a_survey(lang):
    # a pre-check done on its own had no result anywhere else and no report to keep (the
    # report's content: tests/test_report_ladder.py)
    at, _ = start(lang)
    fill(at, FIRM)
    at.run()
    _ok(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert text("app.download_html", lang) in labels and text("app.download_pdf", lang) in labels


# a title held (``holds_<rung> = yes``), and the rungs below a title held or under 复核: no new
# application, no gaps (the rule of the firm-level gaps, dmi.eligibility.engine.applies_for);
# a 复核 (``recheck``) is evaluated as one, gaps and all
HOLDS = {
    "specialised": ({"holds_specialised": "yes"}, {"innovative", "specialised"}),
    "little_giant": ({"holds_little_giant": "yes"}, {"innovative", "specialised", "little_giant"}),
    "little_giant_recheck": ({"holds_little_giant": "recheck"}, {"innovative", "specialised"}),
    "nothing": ({}, set()),
}


def rung_lines(at: AppTest, lang: str) -> dict[str, list[str]]:
    """Rung label -> the texts drawn under its badge (markdown and captions, in the page's
    order, the collapsed conditions too), up to the next rung's badge."""
    found: dict[str, list[str]] = {}
    current = None
    from dmi.results.ladder import confidence_note

    end = confidence_note(lang)
    for node in at.main:
        value = getattr(node, "value", None)
        if hasattr(node, "children") or not isinstance(value, str):
            continue
        if _shown(value) == end:
            break
        hit = BADGE.match(value)
        if hit:
            current = _shown(hit["label"])
            found[current] = []
        elif current is not None:
            found[current].append(_shown(value))
    return found


@pytest.mark.parametrize("case", list(HOLDS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_title_held_is_shown_as_held_with_no_gaps(lang, case):
    # a 专精特新 firm read "待人工审核 · 2026 版 · 新申请", then "还差什么": as if it had to
    # apply again for the title it holds
    holds, held = HOLDS[case]
    facts = {**FIRM, "holds_innovative": "no", **holds}
    at, _ = start(lang)
    fill(at, facts)
    at.run()
    _ok(at)
    assert statuses(at) == expected(facts, lang)  # the results as the API gives them
    result = el.evaluate(facts, "2026", year=application_year_now("2026"), lang=lang)
    shown = rung_lines(at, lang)
    gaps = f"**{text('ladder.gaps', lang)}**"
    prepare = text("ladder.evidence", lang, items="").strip()
    for rung in el.RUNGS:
        r = result[rung]
        lines = shown[r.label]
        applicant = text(f"ladder.applicant_{r.applicant}", lang)
        if rung in held:
            assert gaps not in lines, (rung, lines)
            assert not any(applicant in line for line in lines), (rung, lines)
            assert not any(prepare in line for line in lines), (rung, lines)
            assert lines[0].startswith(held_line(r, lang)), (rung, lines)
        else:
            meta = text("ladder.rung_meta", lang, policy=r.policy, applicant=applicant)
            assert lines[0].startswith(meta), (rung, lines)
            assert r.gaps and gaps in lines, (rung, lines)
    if case == "little_giant_recheck":
        assert result["little_giant"].applicant == "recheck"


def test_an_awards_year_and_rank_are_not_asked_without_an_award():
    # the form asked a firm without an award the award's year and rank; the rule that skips
    # them (the facts table's skipped_when) is the KoboToolbox form's too
    at, token = start("zh")

    def asked() -> set[str]:
        return {str(w.key) for w in at.number_input}

    assert {"f_award_year", "f_award_rank"} <= asked()  # award not given: asked
    fill(at, {"award": "national"})
    at.run()
    fill(at, {"award_year": 2025, "award_rank": 2, "ip_class1": 0})
    at.run()
    _ok(at)
    assert {"f_award_year", "f_award_rank"} <= asked()
    assert not {str(r.key) for r in at.radio} & {"f_ip_class1_own", "f_ip_class1_high_value"}
    assert Store().ladder(token).facts["award_year"] == 2025
    fill(at, {"award": "none"})
    at.run()
    _ok(at)
    assert not {"f_award_year", "f_award_rank"} & asked()
    kept = Store().ladder(token).facts
    assert kept == {"award": "none", "ip_class1": 0}  # the year and rank given are let go
    assert statuses(at) == expected(kept, "zh")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_says_what_the_documents_it_cites_are(lang):
    # "No. 2 annex 1" beside each rule and nowhere what No. 2 is (a review in English)
    from dmi.results.ladder import documents_cited

    at, _ = start(lang)
    fill(at, FIRM)
    at.run()
    _ok(at)
    cited = documents_cited(el.evaluate(FIRM, policy="2026", lang=lang))
    captions = [_shown(c.value) for c in at.caption]
    heading = f"**{text('ladder.documents_cited', lang)}**"
    listed = next(c for c in captions if c.startswith(heading))
    assert cited and all(_shown(d) in listed for d in cited)
    marks = [re.findall(r"[(（]([VIU])[)）]", c) for c in captions]
    assert ["V", "I", "U"] in marks  # each mark a rule is shown with, said what it means


@pytest.mark.parametrize(("first", "then"), [("zh", "en"), ("en", "zh")])
def test_a_change_of_language_on_a_first_visit_keeps_nothing_and_shows_the_names_anew(
    miit, first, then
):
    # the fields still held 江苏省 after a switch to English, which no longer matched the
    # (English) profile: the survey's names were kept as the firm's facts, and a result shown
    from .test_app import _submit, company_answers

    store = Store()
    _, token = _submit(store, miit, company_answers(miit))  # region 32, sector C34
    at = _app(first, resume=token).run()
    at.switch_page("app_pages/ladder.py").run()
    _ok(at)
    at.sidebar.radio(key="lang_switch").set_value(then).run()
    _ok(at)
    region = next(o for o in miit.profile_field("region").options if o.value == "32")
    jiangsu = getattr(region, then)
    assert at.text_input(key="f_province").value == jiangsu
    assert store.ladder(token) is None and not statuses(at)
    fill(at, {"revenue_y1": 3000})  # the firm's first fact: now kept, with the names shown
    at.run()
    _ok(at)
    assert store.ladder(token).facts["province"] == jiangsu

"""The company report's 梯度培育 section: there only when the company gave its facts, in the
report's language, with each rung's status, points and top gaps (HTML and PDF)."""

from __future__ import annotations

import html
import re
from io import BytesIO

import pytest

import dmi
import dmi.eligibility as el
from dmi.errors import UsageError
from dmi.locales import text
from dmi.report import render_html, render_pdf
from dmi.report.content import build_ladder_report, build_report
from dmi.report.html import render_ladder_html
from dmi.results import assess
from dmi.results.ladder import ladder_view

from .conftest import mixed_answers
from .test_app_ladder import heading, held_line
from .test_service_ladder import FIRM, ONE_CHANGE_TWO_CONDITIONS

pypdf = pytest.importorskip("pypdf")
pytest.importorskip("reportlab")

TITLE = {"zh": "梯度培育预评估", "en": "Cultivation ladder pre-check"}
STATUS = {
    "zh": {
        "eligible": "符合条件",
        "not_yet": "暂未达到",
        "unknown": "信息不足",
        "manual": "待人工审核",
    },
    "en": {
        "eligible": "Eligible",
        "not_yet": "Not yet",
        "unknown": "Not enough information",
        "manual": "Needs manual review",
    },
}


@pytest.fixture(scope="module")
def result(miit):
    return assess(dmi.IndexModel(miit).fit(), mixed_answers(miit))


def _section(report, lang):
    found = [s for s in report.sections if s.title == TITLE[lang]]
    return found[0] if found else None


def _heading(section, key, lang):
    return next(b for b in section.blocks if getattr(b, "text", None) == text(key, lang))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_section_says_why_each_rung_is_what_it_is_condition_by_condition(lang):
    # the report said "Eligible · score 45–80 (pass mark 60)" and no more: not the direct route
    # that made it eligible, nor the conditions, their values and sources the page lists
    firm = {**FIRM, "holds_innovative": "no", "high_tech_title": "yes"}
    ladder = el.evaluate(firm, policy="2026", year=2026, lang=lang)
    section = build_ladder_report(ladder).sections[0]
    views = ladder_view(ladder)
    innovative = views[0]
    assert ladder["innovative"].status == "eligible" and innovative.route and innovative.path
    notes = [b.text for b in section.blocks if getattr(b, "style", None) == "note"]
    assert f"{innovative.label}: {innovative.route}" in notes
    assert f"{innovative.label}: {innovative.path}" in notes
    table = section.blocks[
        section.blocks.index(_heading(section, "ladder.report_conditions", lang)) + 1
    ]
    lines = [(v.label, line) for v in views for line in v.conditions + v.routes]
    assert (
        len(table.rows)
        == len(lines)
        == sum(len(ladder[r].conditions) + len(ladder[r].routes) for r in el.RUNGS)
    )
    for row, (rung, line) in zip(table.rows, lines):
        assert row[:3] == [rung, line.label, line.state_text] and row[4] == line.source
        for part in (line.values, line.via, line.evidence):
            assert part is None or part in row[3]
    debt = next(row for row, (_, line) in zip(table.rows, lines) if line.id == "sr26_debt")
    assert "81%" in debt[3] and debt[2] == text("ladder.state_not_met", lang)
    page = html.unescape(render_ladder_html(ladder))
    assert innovative.route in page and text("ladder.report_conditions", lang) in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_section_shows_each_rung_as_the_api_decides(miit, result, lang):
    ladder = el.evaluate(FIRM, policy="2026", lang=lang)
    report = build_report(result, miit, lang, None, None, None, None, None, ladder=ladder)
    section = _section(report, lang)
    assert section is not None
    # right after the improvements
    titles = [s.title for s in report.sections]
    improvements = text("report.improvements", lang)
    assert titles.index(TITLE[lang]) == titles.index(improvements) + 1
    table = section.blocks[1]
    assert [row[0] for row in table.rows] == [ladder[r].label for r in el.RUNGS]
    assert [row[1] for row in table.rows] == [
        text("ladder.status_held", lang) if ladder[r].held else STATUS[lang][ladder[r].status]
        for r in el.RUNGS
    ]
    # the 2026 innovative scorecard: 45–80 while facts are missing (the API's bounds), pass 60
    sc = ladder["innovative"].scorecard
    assert (sc.points_at_least, sc.points_at_most, sc.pass_mark) == (45.0, 80.0, 60.0)
    assert "45–80" in table.rows[0][2] and "60" in table.rows[0][2]
    headings = [b.text for b in section.blocks if getattr(b, "style", None) == "heading3"]
    assert text("ladder.report_gaps", lang) in headings
    gaps = section.blocks[section.blocks.index(_heading(section, "ladder.report_gaps", lang)) + 1]
    by_rung = {}
    for rung_label, gap in gaps.rows:
        by_rung.setdefault(rung_label, []).append(gap)
    specialised = by_rung[ladder["specialised"].label]
    assert any("81%" in g and "80%" in g for g in specialised)  # debt ratio, in its numbers
    # every gap the page lists, in its order: a saved report is read without the page (it
    # listed three, then "3 more on the ladder pre-check page")
    for view in ladder_view(ladder):
        if view.status != "eligible" and view.gaps:
            assert by_rung[view.label] == [g.text for g in view.gaps]
    assert not any(re.search(r"\b(sr|lg|in|ts)\d\d_", g) for g in sum(by_rung.values(), []))


def test_without_facts_there_is_no_section_and_the_languages_must_agree(miit, result):
    for lang in ("zh", "en"):
        report = build_report(result, miit, lang, None, None, None, None, None)
        assert _section(report, lang) is None
        page = render_html(result, instrument=miit, lang=lang)
        assert TITLE[lang] not in page
    english = el.evaluate(FIRM, policy="2026", lang="en")
    with pytest.raises(UsageError, match="lang='zh'"):
        render_html(result, instrument=miit, lang="zh", ladder=english)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_and_pdf_carry_the_section(miit, result, lang):
    ladder = el.evaluate(FIRM, policy="2026", lang=lang)
    page = html.unescape(render_html(result, instrument=miit, lang=lang, ladder=ladder))
    assert f"<h2>{TITLE[lang]}</h2>" in page
    for rung in el.RUNGS:
        assert ladder[rung].label in page
    assert STATUS[lang]["not_yet"] in page
    pdf = render_pdf(result, instrument=miit, lang=lang, ladder=ladder)
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(pdf)).pages)
    squeezed = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", TITLE[lang]) in squeezed
    assert re.sub(r"\s+", "", STATUS[lang]["not_yet"]) in squeezed
    plain = render_pdf(result, instrument=miit, lang=lang)
    plain_text = "".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(plain)).pages)
    assert re.sub(r"\s+", "", TITLE[lang]) not in re.sub(r"\s+", "", plain_text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_change_that_meets_two_conditions_is_worded_without_ids(miit, result, lang):
    # the report said "… 满足 lg26_main，lg26_rev" where one condition's gap had no id
    ladder = el.evaluate(ONE_CHANGE_TWO_CONDITIONS, policy="2026", lang=lang)
    page = html.unescape(render_html(result, instrument=miit, lang=lang, ladder=ladder))
    assert ladder["little_giant"].condition("lg26_rev").label in page
    assert not re.search(r"\b(sr|lg|in|ts)(22|26)?_[a-z]", page)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_section_carries_the_remarks_the_page_shows(miit, result, lang):
    # a stated level the survey disagrees with, an award year after the application year: the
    # page said so beside the ladder, the report did not
    firm = {**FIRM, "digital_level": 4, "digital_level_computed": 2}
    firm |= {"award": "provincial", "award_year": 2027}
    ladder = el.evaluate(firm, policy="2022", year=2026, lang=lang)
    assert len(ladder.flags) == 2
    page = html.unescape(render_html(result, instrument=miit, lang=lang, ladder=ladder))
    for flag in ladder.flags:
        assert text("ladder.flag", lang, text=flag) in page
    pdf = render_pdf(result, instrument=miit, lang=lang, ladder=ladder)
    squeezed = re.sub(
        r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(pdf)).pages)
    )
    for flag in ladder.flags:
        assert re.sub(r"\s+", "", flag)[:12] in squeezed


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_section_lists_the_scorecard_points_and_every_gap(miit, result, lang):
    # each indicator's points were only on the page's data; a rung's gaps past the first 3 were
    # cut without a word
    from dmi.results.ladder import ladder_view

    from .test_eligibility import SR22

    ladder = el.evaluate(SR22, policy="2022", year=2026, lang=lang, max_gaps=None)
    page = html.unescape(render_html(result, instrument=miit, lang=lang, ladder=ladder))
    views = ladder_view(ladder)
    for lines in views[1].indicators:
        for line in lines:
            assert line in page
    many = [v for v in views if v.status != "eligible" and len(v.gaps) > 3]
    assert many
    for v in many:
        for gap in v.gaps:
            assert gap.text in page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_section_names_the_values_left_out_as_refused(miit, result, lang):
    # a debt ratio of 180 was refused on the page and left out: the report read as if the firm
    # had never given it
    from dmi.results.ladder import left_out

    ladder = el.evaluate(FIRM, policy="2026", lang=lang)
    refused = {"debt_ratio": 180, "main_revenue_y1": 5000}
    report = build_report(
        result, miit, lang, None, None, None, None, None, ladder=ladder, ladder_refused=refused
    )
    said = [b.text for b in _section(report, lang).blocks if hasattr(b, "text")]
    assert left_out(refused, lang, on_the_page=False) in said
    page = html.unescape(
        render_html(result, instrument=miit, lang=lang, ladder=ladder, ladder_refused=refused)
    )
    assert left_out(refused, lang, on_the_page=False) in page
    assert left_out(refused, lang, on_the_page=False) not in html.unescape(
        render_html(result, instrument=miit, lang=lang, ladder=ladder)
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_pre_check_on_its_own_has_a_report_of_its_ladder(lang):
    # a firm that took the pre-check without the survey had no report of it anywhere
    from dmi.report import render_ladder_html, render_ladder_pdf
    from dmi.results.ladder import ladder_view, left_out

    ladder = el.evaluate(FIRM, policy="2026", lang=lang)
    refused = {"debt_ratio": 180}
    page = html.unescape(render_ladder_html(ladder, refused=refused, generated_at="2026-12-07"))
    assert f"<h1>{TITLE[lang]}</h1>" in page and "2026-12-07" in page
    for view in ladder_view(ladder):
        assert view.label in page and view.status_text in page
        for gap in view.gaps:
            assert gap.text in page
    assert left_out(refused, lang, on_the_page=False) in page
    assert "<script" not in page
    pdf = render_ladder_pdf(ladder, refused=refused, generated_at="2026-12-07")
    squeezed = re.sub(
        r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(pdf)).pages)
    )
    for rung in el.RUNGS:
        assert re.sub(r"\s+", "", ladder[rung].label)[:8] in squeezed
    assert pdf == render_ladder_pdf(ladder, refused=refused, generated_at="2026-12-07")


# a title held, and the rungs below a title held or under 复核 (the rule of the firm-level gaps,
# dmi.eligibility.engine.applies_for): drawn as held, no gaps; a 复核 keeps its gaps
HOLDS = {
    "specialised": ({"holds_specialised": "yes"}, {"innovative", "specialised"}),
    "little_giant": ({"holds_little_giant": "yes"}, {"innovative", "specialised", "little_giant"}),
    "little_giant_recheck": ({"holds_little_giant": "recheck"}, {"innovative", "specialised"}),
    "nothing": ({}, set()),
}


@pytest.mark.parametrize("case", list(HOLDS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_title_held_is_reported_as_held_with_no_gaps(miit, result, lang, case):
    # the report listed a 专精特新 firm's 专精特新 as "2026 版 · 新申请" with its "主要差距"
    holds, held = HOLDS[case]
    facts = {**FIRM, "holds_innovative": "no", **holds}
    ladder = el.evaluate(facts, policy="2026", year=2026, lang=lang)
    alone = build_ladder_report(ladder).sections[0]
    within = _section(
        build_report(result, miit, lang, None, None, None, None, None, ladder=ladder), lang
    )
    prepare = text("ladder.evidence", lang, items="").strip()
    for section in (alone, within):
        rungs = section.blocks[1]
        headings = [b.text for b in section.blocks if getattr(b, "style", None) == "heading3"]
        gap_rows = (
            section.blocks[
                section.blocks.index(_heading(section, "ladder.report_gaps", lang)) + 1
            ].rows
            if text("ladder.report_gaps", lang) in headings
            else []
        )
        conditions = section.blocks[
            section.blocks.index(_heading(section, "ladder.report_conditions", lang)) + 1
        ].rows
        for rung, row in zip(el.RUNGS, rungs.rows, strict=True):
            r = ladder[rung]
            # the result as the API's: a title held said as held, its evaluation beside it
            assert row[:2] == [r.label, heading(r, lang)]
            applicant = text(f"ladder.applicant_{r.applicant}", lang)
            gaps = [g for label, g in gap_rows if label == r.label]
            if rung in held:
                assert not gaps, (rung, gaps)
                assert applicant not in row[3], (rung, row)
                assert not any(c[0] == r.label and prepare in c[3] for c in conditions)
                assert row[3].startswith(held_line(r, lang)), (rung, row)
            else:
                meta = text("ladder.rung_meta", lang, policy=r.policy, applicant=applicant)
                assert row[3].startswith(meta), (rung, row)
                assert r.gaps and gaps, rung
    if case == "little_giant_recheck":
        assert ladder["little_giant"].applicant == "recheck"


@pytest.mark.parametrize(("lang", "no2"), [("zh", "2号："), ("en", "No. 2: ")])
def test_the_documents_each_rule_cites_are_named_by_their_titles(lang, no2):
    # "No. 2 annex 1", "No. 117" beside each rule, and nowhere what No. 2 is (a review in English)
    from dmi.eligibility.policy import cited_documents
    from dmi.results.ladder import documents_cited

    ladder = el.evaluate(FIRM, policy="2026", lang=lang)
    cited = documents_cited(ladder)
    titles = el.load_policy("2026").documents
    assert f"{no2}{titles['2号']}" in cited
    assert any("63号" in d for d in cited)  # 创新型's rules, of the 2022 file, by its title
    assert len(cited) == len(set(cited))
    # every document a rule of the ladder names is there, by the file's key it starts with
    sources = [c.source for r in ladder.rungs.values() for c in (*r.conditions, *r.routes)]
    keys = {k for p in ("2022", "2026") for k in el.load_policy(p).documents if k[0].isdigit()}
    for source in sources:
        for document in cited_documents(source):
            key = max((k for k in keys if document.startswith(k)), key=len, default=None)
            if key is not None:
                shown = key if lang == "zh" else f"No. {key[:-1]}"
                assert any(d.startswith(shown) for d in cited), document
    page = html.unescape(render_ladder_html(ladder, generated_at="2026-12-07"))
    assert text("ladder.documents_cited", lang) in page
    assert all(d in page for d in cited)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_reports_say_the_cautions_the_page_says_under_the_fields(miit, result, lang):
    # revenue of 40000000万元 (typed in yuan) and R&D above the year's revenue were said on the
    # page under their fields, and the downloaded report printed the values without a word
    from dmi.report import render_ladder_html, render_ladder_pdf
    from dmi.service.ladder import caution_lines, check_facts

    facts = {**FIRM, "revenue_y1": 40_000_000, "revenue_y2": 3500, "rd_y2": 5000}
    checked = check_facts(facts, "2026", None, lang)
    lines = caution_lines(checked.cautions)
    assert len(lines) >= 2 and set(checked.cautions) >= {"revenue_y1", "rd_y2"}
    page = html.unescape(render_ladder_html(checked.result, cautions=lines))
    assert all(line in page for line in lines)
    assert render_ladder_pdf(checked.result, cautions=lines) != render_ladder_pdf(checked.result)
    with_ladder = {"ladder": checked.result, "ladder_cautions": lines}
    survey_report = html.unescape(render_html(result, instrument=miit, lang=lang, **with_ladder))
    assert all(line in survey_report for line in lines)
    assert not any(line in html.unescape(render_ladder_html(checked.result)) for line in lines)


def test_a_rule_file_of_one_s_own_is_shown_by_its_own_titles_whatever_its_id(tmp_path):
    # the view and the reports loaded the rules by their id: a copy keeping id "2026" was
    # shown the shipped documents, and one of its own id ("mine") could not be shown at all
    import yaml

    from dmi.eligibility._data import DATA
    from dmi.report import render_ladder_html
    from dmi.results.ladder import documents_cited, rules_of

    data = yaml.safe_load(DATA.joinpath("policy-2026.yaml").read_text(encoding="utf-8"))
    data["documents"]["2号"] = "MY OWN TITLE OF No. 2"
    data["title"] = {"zh": "我的规则", "en": "My rules"}
    same_id = tmp_path / "same.yaml"
    same_id.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    data["id"] = "mine"
    for entry in data["routing"]:
        if entry["policy"] == "2026":
            entry["policy"] = "mine"
    own_id = tmp_path / "own.yaml"
    own_id.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for path in (same_id, own_id):
        ladder = el.evaluate(FIRM, policy=path, lang="en")
        assert rules_of(ladder).source == el.load_policy(path).source
        cited = documents_cited(ladder)
        assert "No. 2: MY OWN TITLE OF No. 2" in cited
        page = html.unescape(render_ladder_html(ladder, generated_at="2026-12-07"))
        assert "My rules" in page and "MY OWN TITLE OF No. 2" in page


def test_a_document_key_is_cited_only_by_a_citation_of_it():
    # the files' one-letter keys (S, a third-party scorecard) took "SJ/T 11" for theirs
    from dmi.eligibility.policy import document_titles

    documents = {"S": "a scorecard", "2号": "《办法》", "63号": "《暂行办法》"}
    assert document_titles(documents, ["SJ/T 11-2020"]) == []
    assert document_titles(documents, ["2号附件1; 63号 第五条", "S"]) == [
        "2号：《办法》",
        "63号：《暂行办法》",
        "S：a scorecard",
    ]
    assert document_titles(documents, ["20号"]) == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_note_on_the_marks_says_the_words_shown_beside_the_rules(lang):
    # the note spoke of "verified" and "from compilations", which no rule showed
    from dmi.results.ladder import confidence_note

    note = confidence_note(lang)
    for mark in ("V", "I", "U"):
        assert f"{text(f'ladder.confidence_{mark}', lang)}" in note
    page = html.unescape(render_ladder_html(el.evaluate(FIRM, policy="2026", lang=lang)))
    assert note in page

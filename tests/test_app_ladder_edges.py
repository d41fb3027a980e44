"""The pre-check page on the cases the first page tests do not fill in: a 复核 routed to the
2022 rules, a direct route and an IP exemption named, the 2026 tier-1 path, and firms at the
edges of the 2026 rules (what the page shows is what ``dmi.eligibility.evaluate`` gives)."""

from __future__ import annotations

from datetime import date

import pytest

import dmi.eligibility as el
from dmi.locales import text
from dmi.results.ladder import ladder_view
from dmi.service import ladder as ladder_service
from dmi.service.store import Store

from .conftest import app_database
from .test_app_ladder import CONDITION_ID, _ok, _shown, expected, fill, start, statuses
from .test_eligibility_edges_ladder import GATE, TS60
from .test_service_ladder import ONE_CHANGE_TWO_CONDITIONS

pytest.importorskip("streamlit")


# 专精特新 2026 at every edge (revenue 1500, main 80 %, debt 80 %, R&D 100 and 3 % in y2, score
# 50); no class-I IP but a provincial R&D institution: the exemption; the market position is
# manual. 小巨人: due for 复核 in 2026 -> the 63号 rules. 创新型: the high-tech title, a direct
# route.
EDGE = {
    **GATE,
    "holds_innovative": "yes",
    "holds_specialised": "yes",
    "holds_little_giant": "recheck",
    "niche_years": 3,
    "revenue_y1": 1500,
    "revenue_y2": 3333.33,
    "main_revenue_y1": 1200,
    "debt_ratio": 80,
    "rd_y1": 100,
    "rd_y2": 100,
    "ip_class1": 0,
    "rd_institution": "provincial",
    "award": "none",
    "high_tech_title": "yes",
    "eval_score": 50,
}


@pytest.fixture(autouse=True)
def in_2026(monkeypatch):
    """The page applies in the year of its day: these cases are 2026's (a 复核 of 2026 goes by
    the 2022 rules, later ones by the 2026 rules)."""
    monkeypatch.setattr(ladder_service, "_today", lambda: date(2026, 12, 6))


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    with app_database(tmp_path_factory.mktemp("db"), "ladder-edges.sqlite") as url:
        yield url


def shown_lines(at) -> list[str]:
    return [_shown(m.value) for m in (*at.markdown, *at.caption)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_routing_routes_and_exemptions_are_shown_as_the_api_gives_them(lang):
    at, token = start(lang)
    fill(at, EDGE)
    at.run()
    _ok(at)
    result = el.evaluate(EDGE, "2026", lang=lang)
    # worked by hand: the exemption meets sr26_ip; the market position is left -> manual;
    # the 小巨人 复核 of 2026 goes by the 2022 rules
    assert result["specialised"].status == "manual"
    assert result["specialised"].condition("sr26_ip").via == "sr26_ip_waiver:lab"
    assert (result["little_giant"].policy, result["little_giant"].applicant) == ("2022", "recheck")
    assert result["innovative"].route_used == "in22_direct:high_tech"
    assert statuses(at) == expected(EDGE, lang)
    lines = shown_lines(at)
    views = {v.rung: v for v in ladder_view(result)}
    # the rules applied and the applicant, per rung
    meta = text(
        "ladder.rung_meta",
        lang,
        policy="2022",
        applicant=text("ladder.applicant_recheck", lang),
    )
    # ... with the routing that chose those rules, its source and how sure it is
    shown = views["little_giant"].meta
    cited = "117号" if lang == "zh" else "No. 117"
    assert shown.startswith(meta) and cited in shown and "(I)" in shown.replace("（I）", "(I)")
    assert shown in lines, [line for line in lines if line.startswith(meta)]
    # the route and the exemption used, named
    assert views["innovative"].route and views["innovative"].route in lines
    assert views["specialised"].route and views["specialised"].route in lines
    kept = Store().ladder(token)
    assert kept.evaluation["little_giant_policy"] == "2022"
    assert kept.evaluation["sr26_ip"] == "met"


@pytest.mark.parametrize(
    "change, rung, status",
    [
        ({"debt_ratio": 80.01}, "specialised", "not_yet"),
        ({"rd_y2": 99.99}, "specialised", "not_yet"),
        ({"revenue_y1": 1499.99}, "specialised", "unknown"),  # equity not given
    ],
)
def test_one_step_past_an_edge_changes_the_page_as_the_api(change, rung, status):
    at, _ = start("zh")
    facts = {**EDGE, **change}
    fill(at, facts)
    at.run()
    _ok(at)
    assert el.evaluate(facts, "2026")[rung].status == status
    assert statuses(at) == expected(facts, "zh")


def test_the_2026_tier_1_path_is_named():
    # 科技型 by its own scorecard: staff 20 % -> 12, R&D 4 % -> 30, 3 class-II items -> 18 = 60
    facts = TS60
    at, _ = start("en")
    fill(at, facts)
    at.run()
    _ok(at)
    result = el.evaluate(facts, "2026", lang="en")
    assert result["innovative"].status == "eligible" and result["innovative"].path == "tech"
    assert statuses(at) == expected(facts, "en")
    view = ladder_view(result)[0]
    assert view.path and view.path in shown_lines(at)


def test_a_change_that_meets_two_conditions_names_them_without_ids():
    # "主营收入占比 80% → 90%（+4290万元 上年主营收入） 满足 lg26_main，lg26_rev" on the page
    at, _ = start("zh")
    fill(at, ONE_CHANGE_TWO_CONDITIONS)
    at.run()
    _ok(at)
    view = ladder_view(el.evaluate(ONE_CHANGE_TWO_CONDITIONS, "2026", lang="zh"))[2]
    merged = next(g for g in view.gaps if g.also)
    listed = [x for m in at.markdown for x in _shown(m.value).splitlines() if x.startswith("- ")]
    shown = next(x for x in listed if merged.text in x)
    words, _, references = shown.partition(" :gray[")
    assert not CONDITION_ID.search(words), words
    assert "lg26_main" in references and "lg26_rev" in references  # the small grey references


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("policy", ["2022", "2026"])
def test_a_gap_that_then_waits_for_a_review_names_no_condition_id(lang, policy):
    # "近两年股权融资 0万元 → 8000万元（+8000万元） 满足 lg22_rd（另需人工审核）": the id is a
    # reference beside the line, the review still said
    from .test_eligibility import LG26, SR22

    then = text("eligibility.then_manual", lang).strip()
    seen = 0
    for base in (SR22, LG26):
        facts = {k: v for k, v in base.items() if k != "respondent_id"}
        result = el.evaluate(facts, policy, lang=lang, max_gaps=None)
        for view in ladder_view(result):
            for gap in view.gaps:
                assert not CONDITION_ID.search(gap.text), gap.text
                seen += then in gap.text
    assert seen  # the case is there


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    ("changes", "cid", "shown"),
    [
        # 1599.9 / 2000 = 79.995 %: rounded to 80 % it read as the 80 % it is not met by
        ({"main_revenue_y1": 1599.9}, "sr26_main", "79.995%"),
        ({"debt_ratio": 80.004}, "sr26_debt", "80.004%"),
        ({"debt_ratio": 79.996}, "sr26_debt", "79.996%"),  # met, and not shown as 80
        ({"debt_ratio": 80.0}, "sr26_debt", "80%"),  # the edge itself stays short
        ({"debt_ratio": 81.234}, "sr26_debt", "81.23%"),  # two decimals keep it apart
    ],
)
def test_a_value_beside_its_threshold_is_shown_on_its_side_of_it(lang, changes, cid, shown):
    from .test_eligibility import SR26

    result = el.evaluate({**SR26, **changes}, "2026", lang=lang)
    (line,) = [c for c in ladder_view(result)[1].conditions if c.id == cid]
    assert shown in line.values, line.values


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_pair_of_values_is_shown_apart(lang):
    # "上年主营业务收入（100万元）不能大于上年营业收入（100万元）"
    facts = {"revenue_y1": 100, "main_revenue_y1": 100.0000001}
    with pytest.raises(el.FactsError) as caught:
        el.evaluate(facts, "2026")
    (line,) = ladder_service.problems(caught.value.rejects, facts, lang)
    assert "100.0000001" in line and "100万元" in line, line


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_scorecard_indicator_is_shown_with_its_points_under_its_group(lang):
    # the "scorecard points per indicator": the page showed the groups only
    from .test_eligibility import SR22

    result = el.evaluate(SR22, "2022", lang=lang)
    view = ladder_view(result)[1]
    sc = result["specialised"].scorecard
    assert len(view.indicators) == len(view.groups) == len(sc.groups)
    for group, lines in zip(sc.groups, view.indicators):
        mine = [i for i in sc.indicators if i.group == group.id]
        assert len(lines) == len(mine)
        for line, indicator in zip(lines, mine):
            assert line == text(
                "ladder.group_points",
                lang,
                group=indicator.label,
                points=f"{indicator.points:g}",
                most=f"{indicator.max_points:g}",
            )
    # the digital level carried over earns 3 of 5 (二级)
    assert any(line.endswith("3/5 分" if lang == "zh" else "3/5") for line in view.indicators[1])
    assert ladder_view(result)[2].indicators == ()  # 小巨人 2022 has no scorecard


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_scorecard_not_yet_sure_reads_the_same_in_its_condition_as_in_its_header(lang):
    # header "评价得分 85–90 分", the condition's line "评价得分 85 分" (facts missing)
    from .test_eligibility import SR22

    result = el.evaluate(SR22, "2022", lang=lang)
    sc = result["innovative"].scorecard
    assert sc.points is None and sc.points_at_least < sc.points_at_most
    view = ladder_view(result)[0]
    (line,) = [c for c in view.conditions if c.id == "in22_score"]
    assert view.points is not None and view.points in line.values


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_shows_each_indicator_s_points_under_its_group(lang):
    from .test_service_ladder import FIRM

    at, _ = start(lang)
    fill(at, {k: v for k, v in FIRM.items() if k in el.FACTS and k != "respondent_id"})
    at.run()
    _ok(at)
    year = ladder_service.application_year_now("2026")
    view = ladder_view(el.evaluate(FIRM, "2026", year=year, lang=lang))[0]
    assert view.indicators and view.indicators[0]
    (box,) = [e for e in at.expander if e.label == text("ladder.indicators", lang)]
    shown = "\n".join(_shown(m.value) for m in box.markdown)
    for group, lines in zip(view.groups, view.indicators):
        assert group in shown
        for line in lines:
            assert line in shown


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_points_short_of_the_pass_mark_are_not_shown_as_it(lang):
    # "Score 60 points (pass mark 60)" beside "Not yet": 59.9999 rounded to the mark it misses
    from .test_eligibility import SR22

    result = el.evaluate({**SR22, "featured_points": 2.9999}, "2022", lang=lang)
    assert result["specialised"].status == "not_yet"
    view = ladder_view(result)[1]
    assert "59.9999" in view.points
    (line,) = [c for c in view.conditions if c.id == "sr22_score"]
    assert "59.9999" in line.values


def test_a_value_apart_from_a_number_only_past_15_digits_is_shown_whole():
    from dmi.results.ladder import number_text

    assert number_text(1000.0000000000002, (1000,)) == "1000.0000000000002"
    assert number_text(75.00000000000001, (75,)) == "75.00000000000001"
    assert number_text(75.00000000000001) == "75"  # nothing to keep apart from: two decimals

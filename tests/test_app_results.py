"""The results page (Streamlit's AppTest, no browser): the read-only link, and what the page
writes (numbers, peer group, tier, improvements as cards with their points)."""

from __future__ import annotations

import pytest

from dmi.locales import text
from dmi.report.content import confidence_phrase
from dmi.service.store import view_token
from dmi.service.survey import clean_answers

from .conftest import ROOT, app_database

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 300


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    with app_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def _answers(miit) -> dict:
    """A company with room to improve everywhere (the lowest answers), 85 employees."""
    answers = {
        "sector": "C34",
        "size_class": "small",
        "region": "33",
        "employees": 85.0,  # as a number widget gives it
        "company_name": "甲乙精密",
    }
    for item in miit.items:
        if item.type in ("single", "multi"):
            answers[item.code] = min(item.options, key=lambda o: o.points).value
        elif item.type == "number":
            answers[item.code] = item.bands[0].value
        elif item.type == "scenario":
            answers[item.code] = 0
    return clean_answers(answers)


def _submitted(miit) -> str:
    from dmi.service.reference import shipped_reference
    from dmi.service.store import Store

    store = Store()
    stored = store.ensure_reference(lambda: shipped_reference(miit.id), miit.id)
    answers = _answers(miit)
    token = store.new_draft(miit.id, "zh")
    store.save_draft(token, answers, page=0)
    result = stored.load().assess(answers)
    store.submit(token, answers, stored.version, dict(result.scores_row))
    return token


def _results(lang: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("app_pages/results.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _params(at: AppTest) -> dict[str, str]:
    return {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_company_gets_a_read_only_link_and_no_code_in_the_address(miit, lang):
    token = _submitted(miit)
    at = _results(lang, resume=token)
    params = _params(at)
    assert "resume" not in params
    assert params["view"] == view_token(token) != token
    # the share box holds the read-only link, never the resume code
    (box,) = at.code
    assert f"view={view_token(token)}" in box.value and token not in box.value
    assert f"lang={lang}" in box.value
    assert at.button(key="edit_answers")
    assert text("results.share_title", lang) in [h.value for h in at.header]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_read_only_link_shows_the_results_and_nothing_to_edit(miit, lang):
    token = _submitted(miit)
    at = _results(lang, view=view_token(token))
    index = "数字化发展指数" if lang == "zh" else "Digital Maturity Index"
    assert index in {m.label for m in at.metric}
    assert text("results.read_only", lang) in [i.value for i in at.info]
    keys = {b.key for b in at.button}
    assert "edit_answers" not in keys
    assert not at.code  # no share box: that is the company's
    assert not at.text_input  # and no code to type
    assert "token" not in at.session_state
    assert _params(at)["view"] == view_token(token)


def test_a_view_token_is_no_resume_code(miit):
    token = _submitted(miit)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = "zh"
    at.query_params["resume"] = view_token(token)
    at.run()
    # the survey does not open: the code is unknown
    assert text("app.resume_unknown", "zh") in [e.value for e in at.error]
    assert "submit" not in {b.key for b in at.button}


def test_an_unknown_link_says_so_and_shows_nothing(miit):
    at = _results("zh", view="not-a-link")
    assert text("results.link_unknown", "zh") in [w.value for w in at.warning]
    assert not at.metric


def test_the_page_writes_numbers_labels_and_phrases_as_people_do(miit):
    token = _submitted(miit)
    at = _results("zh", resume=token)
    page = _texts(at)
    # 85, not 85.00; the peer group and profile by their labels
    assert "从业人员数（人） 85" in page and "85.0" not in page
    assert "通用设备制造业" in page and "C34" not in page and "=small" not in page
    # the tier: its support once, the confidence as a phrase (the number only on hover)
    from dmi.service.store import Store

    stored = Store().current_reference(miit.id)
    result = stored.load().assess(_answers(miit))
    support = result.tier.label.support_zh
    assert page.count(support) == 1
    assert confidence_phrase(result.tier.confidence, "zh") in page
    assert "归属置信度" not in page  # the number and what it means are in the hover help


def test_improvements_are_cards_with_their_points_first_and_only_actionable(miit):
    token = _submitted(miit)
    at = _results("zh", resume=token)
    from dmi.service.store import Store

    result = Store().current_reference(miit.id).load().assess(_answers(miit))
    assert result.improvements
    cards = [m.value for m in at.markdown if m.value.startswith("**+")]
    assert len(cards) == len(result.improvements)
    for card, imp in zip(cards, result.improvements):
        points = card[2 : card.index("**", 2)]
        assert points == text("results.gain", "zh", points=f"{round(imp.gain, 3):g}")
        assert miit.item(imp.item).actionable
    assert not any("选择「" in c for c in cards)
    assert text("results.outcomes_note", "zh") in [c.value for c in at.caption]


def test_no_change_shows_no_arrow_and_no_colour(miit):
    from streamlit.proto.Metric_pb2 import Metric

    from dmi.service.store import Store

    token = _submitted(miit)
    store = Store()
    first = store.submissions(token)[0]
    # the same answers again (T1 = T0): every difference is 0
    store.submit(token, first.answers, first.reference_version, first.scores)
    at = _results("en", resume=token)
    changes = [m for m in at.metric if m.proto.delta]
    assert len(changes) == 1 + len([d for d in miit.dimensions])  # the index and each dimension
    for metric in changes:
        assert metric.proto.delta == "0.0"
        assert metric.proto.direction == Metric.MetricDirection.NONE
        assert metric.proto.color == Metric.MetricColor.GRAY

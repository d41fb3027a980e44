"""The app's survey with the EU DMA and the DII (Streamlit's AppTest, no browser): a company
picks the instrument, answers every page with the generic widgets (rating radios, checklist
multiselects), and sees the score and band the library gives the same answers (T0/T1 in the
store: tests/test_instrument_eu_dma.py)."""

from __future__ import annotations

import pandas as pd
import pytest

import dmi
from dmi.service.survey import clean_answers, item_widget, survey_pages

from .conftest import ROOT, app_database
from .test_app import fill

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app" / "streamlit_app.py")
TIMEOUT = 300


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    with app_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def _answers(instrument: dmi.Instrument, step: int) -> dict[str, object]:
    """Answers as the widgets give them: the ``step``-th choice of each radio (wrapping), the
    first ``step`` options of each multiselect (or its exclusive option for 0)."""
    answers: dict[str, object] = {}
    for field_ in instrument.profile:
        if field_.type == "choice":
            answers[field_.code] = field_.options[0].value
        else:
            answers[field_.code] = "测试企业"
    for item in instrument.items:
        widget = item_widget(instrument, item, None, "en")
        if widget.kind == "multiselect":
            plain = [o.value for o in item.options if not o.exclusive]
            none = [o.value for o in item.options if o.exclusive]
            answers[item.code] = plain[:step] if step else none
        else:
            answers[item.code] = widget.values[step % len(widget.values)]
    return answers


_fill = fill  # the survey's widgets, as tests/test_app.py drives them


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("name", ["eu-dma-sme", "eurostat-dii-2023"])
def test_a_company_answers_a_new_instrument_and_sees_the_library_score(name):
    instrument = dmi.load_instrument(name)
    model = dmi.IndexModel(instrument).fit()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["lang"] = "en"
    at.run()
    at.selectbox(key="instrument").set_value(name).run()
    at.checkbox(key="consent").check().run()
    at.button(key="start").click().run()
    _ok(at)
    answers = _answers(instrument, 2)
    expected = model.score(pd.DataFrame([{"respondent_id": "x", **clean_answers(answers)}])).iloc[0]
    for page in survey_pages(instrument):
        _fill(at, instrument, page, answers)
        at.button(key="next").click().run()
        _ok(at)
    at.button(key="submit").click().run()
    _ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert f"{expected['dmi']:.1f}" in metrics.values()
    assert instrument.level_band(int(expected["level"])).en in metrics.values()

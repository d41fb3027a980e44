"""Small app defects (Streamlit's AppTest, no browser): the results page writes every score with
one decimal, in the table as in the metrics (never "75" beside "33.3"), under headers of its
own; the account page says so in the page's language when the account was changed by someone
else while the password was being saved, and writes nothing then."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from dmi.locales import text
from dmi.service.auth import SecretsFile, accounts_from_secrets, verify_password
from dmi.service.survey import clean_answers

from .conftest import app_database
from .test_app_admin import _fill, _signed_in
from .test_app_admin import secrets_file as secrets_file  # the fixture, shared
from .test_app_results import _results

pytest.importorskip("streamlit")

ONE_DECIMAL = re.compile(r"\d{1,3}\.\d")


@pytest.fixture(scope="module", autouse=True)
def database(tmp_path_factory):
    """One database for the module (the app caches its store for the process)."""
    with app_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def _answers(miit, pick) -> dict:
    """Answers of a company: the option ``pick`` chooses of each choice item, the band it
    chooses of each number item, each scenario at 0."""
    answers = {"sector": "C34", "size_class": "small", "region": "33", "employees": 85.0}
    for item in miit.items:
        if item.type in ("single", "multi"):
            answers[item.code] = pick(sorted(item.options, key=lambda o: o.points)).value
        elif item.type == "number":
            answers[item.code] = pick(item.bands).value
        elif item.type == "scenario":
            answers[item.code] = 0
    return clean_answers(answers)


def _submit(miit, *answer_sets) -> tuple[str, list]:
    from dmi.service.reference import shipped_reference
    from dmi.service.store import Store

    store = Store()
    stored = store.ensure_reference(lambda: shipped_reference(miit.id), miit.id)
    token = store.new_draft(miit.id, "en")
    results = []
    for answers in answer_sets:
        store.save_draft(token, answers, page=0)
        result = stored.load().assess(answers)
        store.submit(token, answers, stored.version, dict(result.scores_row))
        results.append(result)
    return token, results


def _near(shown: str, value: float) -> bool:
    """``shown`` is ``value`` with one decimal: a digit after the point, within half of it."""
    return bool(ONE_DECIMAL.fullmatch(shown)) and abs(float(shown) - value) <= 0.05 + 1e-9


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_score_of_the_dimension_table_has_one_decimal(miit, lang):
    # the lowest answers: every dimension scores a whole 0 (shown "0.0", never "0"); the peer
    # medians of the shipped reference are whole and not (50.0 beside 57.5)
    token, (result,) = _submit(miit, _answers(miit, lambda options: options[0]))
    assert all(v == 0 for v in result.dimensions.values())
    at = _results(lang, resume=token)
    (table,) = at.dataframe
    frame = table.value
    dims = [d for d in miit.dimensions if f"dim_{d.code}" in result.scores_row]
    assert list(frame["you"]) == ["0.0"] * len(dims)
    medians = [float(result.peers.median[f"dim_{d.code}"]) for d in dims]
    assert any(m == int(m) for m in medians) and any(m != int(m) for m in medians)
    assert all(_near(shown, m) for shown, m in zip(frame["peers"], medians, strict=True))
    assert list(frame["dimension"]) == [d.zh if lang == "zh" else d.en for d in dims]
    # headers read whole in the narrow column: the dimension's, and short ones for the scores
    config = json.loads(table.proto.columns)
    labels = {name: config[name].get("label") for name in frame.columns}
    assert labels == {
        "dimension": text("app_polish.col_dimension", lang),
        "you": text("app_polish.col_you", lang),
        "peers": text("app.radar_peers", lang),
    }


def test_the_table_and_the_change_metrics_write_a_score_alike(miit):
    # two submissions (a change to show); mixed answers give scores with decimals, the
    # highest give whole ones (100.0): the same text in the table and in the metrics
    middle = _answers(miit, lambda options: options[len(options) // 2])
    highest = _answers(miit, lambda options: options[-1])
    for first, second in ((highest, middle), (middle, highest)):
        token, (_, result) = _submit(miit, first, second)
        at = _results("en", resume=token)
        frame = at.dataframe[0].value
        dims = [d for d in miit.dimensions if f"dim_{d.code}" in result.scores_row]
        assert all(_near(shown, result.dimensions[d.code]) for shown, d in zip(frame["you"], dims))
        shown = {m.label: m.value for m in at.metric}
        assert [shown[d.en] for d in dims] == list(frame["you"])
    assert any(v == int(v) for v in result.dimensions.values())  # the whole ones were shown


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_password_saved_after_someone_else_changed_the_account_is_refused(
    secrets_file, monkeypatch, lang
):
    # someone else (an admin at the command line) resets boss's password while boss's page
    # is saving: between the page's read of the file and its write
    original = SecretsFile._locked
    meddled = []

    def meanwhile(self):
        if not meddled:  # the other edit, before the page's takes the lock
            meddled.append(self.path)
            SecretsFile(self.path, min_length=1).reset_password("boss", "set-by-another-admin")
        return original(self)

    monkeypatch.setattr(SecretsFile, "_locked", meanwhile)
    at = _signed_in(lang, "boss", "app_pages/account.py", secrets_file)
    _fill(at, "boss-password-1", "my-own-new-password", "my-own-new-password")
    assert meddled == [secrets_file]
    assert [e.value for e in at.error] == [text("app_polish.secrets_changed", lang, name="boss")]
    assert text("admin.password_changed", lang) not in [s.value for s in at.success]
    accounts = accounts_from_secrets(tomllib.loads(secrets_file.read_text(encoding="utf-8")))
    assert verify_password("set-by-another-admin", accounts["boss"][0])  # not lost
    assert verify_password("scholar-password", accounts["scholar"][0])


def test_a_password_saved_while_another_account_changed_keeps_both(secrets_file, monkeypatch):
    original = SecretsFile._locked
    meddled = []

    def meanwhile(self):
        if not meddled:  # the other edit, before the page's takes the lock
            meddled.append(self.path)
            SecretsFile(self.path, min_length=1).reset_password("scholar", "scholar-new-pw")
        return original(self)

    monkeypatch.setattr(SecretsFile, "_locked", meanwhile)
    at = _signed_in("en", "boss", "app_pages/account.py", secrets_file)
    _fill(at, "boss-password-1", "my-own-new-password", "my-own-new-password")
    assert meddled == [secrets_file]
    assert not at.error
    assert [s.value for s in at.success][-1] == text("admin.password_changed", "en")
    accounts = accounts_from_secrets(tomllib.loads(secrets_file.read_text(encoding="utf-8")))
    assert verify_password("my-own-new-password", accounts["boss"][0])
    assert verify_password("scholar-new-pw", accounts["scholar"][0])

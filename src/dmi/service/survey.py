"""The survey as a respondent walks through it: pages, per-page checks, answers as a table row.

The app renders these pages; everything it needs to decide (which questions are on a page,
whether a page's answers are acceptable, what is missing before submitting) is decided here, by
the same encoder that scores the answers, so that a page accepted by the app is never rejected by
the scoring.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dmi.instruments import Instrument, Item, ProfileField
from dmi.instruments.export import template
from dmi.instruments.items import item_type
from dmi.locales import text
from dmi.scoring.answers import encode_answers, normalise_cell

__all__ = [
    "ItemWidget",
    "SurveyPage",
    "answers_frame",
    "check_page",
    "clean_answers",
    "item_widget",
    "missing_before_submit",
    "survey_pages",
]


@dataclass(frozen=True)
class SurveyPage:
    """One page of the survey: the profile, or one dimension's items."""

    code: str
    zh: str
    en: str
    profile: tuple[ProfileField, ...] = ()
    items: tuple[Item, ...] = ()

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.profile) + tuple(i.code for i in self.items)


def survey_pages(instrument: Instrument) -> list[SurveyPage]:
    """The profile page, then one page per dimension, in the instrument's order."""
    title = (text("survey.profile_title", "zh"), text("survey.profile_title", "en"))
    pages = [SurveyPage("profile", *title, profile=instrument.profile)]
    for dim in instrument.dimensions:
        items = tuple(item for ind in dim.indicators for item in ind.items)
        pages.append(SurveyPage(dim.code, dim.zh, dim.en, items=items))
    return pages


@dataclass(frozen=True)
class ItemWidget:
    """How the app asks one question: the item type's widget in one language, with the
    saved answer as the widget's value.

    ``kind`` is ``radio`` (``value`` one of ``values`` or None), ``multiselect`` (``value`` a
    list of ``values``) or ``number`` (``value`` a float or None, from ``min`` to ``max``, in
    ``unit``); ``labels`` maps each of ``values`` to its label.
    """

    kind: str
    values: list[Any]
    labels: dict[Any, str]
    value: Any
    horizontal: bool = False
    unit: str = ""
    min: float | None = None
    max: float | None = None


def item_widget(instrument: Instrument, item: Item, answer: Any, lang: str) -> ItemWidget:
    """The widget of one question (see :meth:`dmi.instruments.items.ItemType.widget`) with
    ``answer`` (as saved in a draft) as its value; an answer it does not offer is no value."""
    hint = item_type(item).widget(item, instrument)
    values = [c.value for c in hint.choices]
    labels = {c.value: c.label(lang) for c in hint.choices}
    value: Any
    if hint.kind == "multiselect":
        if isinstance(answer, (list, tuple)):
            value = list(answer)
        else:
            value = [v for v in str(answer).split(";") if v in labels] if answer else []
    elif hint.kind == "number":
        try:
            value = None if _blank(answer) else float(answer)
        except (TypeError, ValueError):
            value = None
    else:  # a radio: the choice the answer names, whether it was kept as 3, 3.0 or "3"
        by_text = {normalise_cell(v): v for v in values}
        value = None if _blank(answer) else by_text.get(normalise_cell(answer))
    return ItemWidget(
        hint.kind, values, labels, value, hint.horizontal, hint.unit, hint.min, hint.max
    )


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, (list, tuple, set)):
        return len(value) == 0
    return isinstance(value, str) and not value.strip()


def clean_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Answers as the scoring reads them: lists joined with ``;``, blanks dropped."""
    cleaned: dict[str, Any] = {}
    for code, value in answers.items():
        if _blank(value):
            continue
        if isinstance(value, (list, tuple, set)):
            value = ";".join(str(v) for v in value)
        cleaned[code] = value
    return cleaned


def _profile_problems(
    fields: Iterable[ProfileField], answers: Mapping[str, Any], lang: str
) -> dict[str, str]:
    problems: dict[str, str] = {}
    for field_ in fields:
        value = answers.get(field_.code)
        if _blank(value):
            if field_.required:
                problems[field_.code] = text("survey.required", lang)
            continue
        if field_.type == "choice" and field_.options:
            if str(value) not in {o.value for o in field_.options}:
                problems[field_.code] = text("survey.not_an_option", lang, value=value)
        elif field_.type == "number":
            try:
                number = float(value)
            except (TypeError, ValueError):
                problems[field_.code] = text("survey.not_a_number", lang)
                continue
            low = -math.inf if field_.min is None else field_.min
            high = math.inf if field_.max is None else field_.max
            if not low <= number <= high:
                problems[field_.code] = text(
                    "survey.out_of_range", lang, min=field_.min, max=field_.max
                )
    return problems


def check_page(
    instrument: Instrument,
    page: SurveyPage,
    answers: Mapping[str, Any],
    lang: str = "zh",
    *,
    require_all: bool = True,
) -> dict[str, str]:
    """Problems with one page's answers: code -> reason (empty when the page is acceptable).

    Every given answer is checked by the scoring encoder itself. With ``require_all`` (the
    survey's default) every question must be answered: the instrument's missing-answer policies
    are for imported data, where nobody can be asked again; without it, a blank is a problem
    only when the item's policy is ``required``.
    """
    if page.profile:
        return _profile_problems(page.profile, answers, lang)
    codes = [item.code for item in page.items]
    given = clean_answers({c: answers.get(c) for c in codes})
    # every question of the page is a column, so that a blank one counts as unanswered
    row = {"respondent_id": "draft", **{c: given.get(c) for c in codes}}
    encoded = encode_answers(instrument, pd.DataFrame([row]))
    rejects = encoded.rejects
    problems: dict[str, str] = {}
    if require_all:
        for code in codes:
            if code not in given:
                problems[code] = _reason("missing answer", lang)
    for column, reason in zip(rejects["column"], rejects["reason"]):
        if column in codes and column not in problems:
            problems[column] = _reason(reason, lang)
    return {code: problems[code] for code in codes if code in problems}


def _reason(reason: str, lang: str) -> str:
    if reason.startswith("missing answer"):
        return text("survey.unanswered", lang)
    return reason


def missing_before_submit(
    instrument: Instrument,
    answers: Mapping[str, Any],
    lang: str = "zh",
    *,
    require_all: bool = True,
) -> dict[str, dict[str, str]]:
    """Problems on every page, by page code (pages without problems are left out)."""
    found: dict[str, dict[str, str]] = {}
    for page in survey_pages(instrument):
        problems = check_page(instrument, page, answers, lang, require_all=require_all)
        if problems:
            found[page.code] = problems
    return found


def answers_frame(
    instrument: Instrument, answers: Mapping[str, Any], respondent_id: str = "company"
) -> pd.DataFrame:
    """One company's answers as a one-row table with the columns `dmi template` writes.

    Scoring this table with ``dmi score`` gives the same result as the app.
    """
    cleaned = clean_answers(answers)
    columns = list(template(instrument).columns)
    row = {"respondent_id": respondent_id, **cleaned}
    return pd.DataFrame([{c: row.get(c, "") for c in columns}], columns=columns)

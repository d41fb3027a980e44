"""The survey as a respondent walks through it: pages, per-page checks, answers as a table row.

The app renders these pages; everything it needs to decide (which questions are on a page,
whether a page's answers are acceptable, what is missing before submitting) is decided here, by
the same encoder that scores the answers, so that a page accepted by the app is never rejected by
the scoring.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dmi.instruments import Instrument, Item, ProfileField
from dmi.instruments.export import template
from dmi.instruments.items import item_type
from dmi.locales import text
from dmi.scoring.answers import encode_answers, normalise_cell
from dmi.text import folded

__all__ = [
    "CREDIT_CODE",
    "ItemWidget",
    "SurveyPage",
    "answer_summary",
    "answers_frame",
    "check_credit_code",
    "check_page",
    "clean_answers",
    "item_widget",
    "matrix_rows",
    "missing_before_submit",
    "normalise_credit_code",
    "survey_pages",
    "tick",
]

CREDIT_CODE = ProfileField(
    code="credit_code",
    zh="统一社会信用代码",
    en="Unified social credit code",
    type="text",
    required=False,
    help={
        "zh": "18 位，见营业执照；选填。",
        "en": "18 characters, on the business licence; optional.",
    },
)
"""The company's 统一社会信用代码 (GB 32100-2015), asked on the profile page of every
instrument after the instrument's own fields and checked with its check character. It is kept
with the answers (to tell companies apart) and is no column of the scoring."""


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
    """The profile page (the instrument's fields and :data:`CREDIT_CODE`), then one page per
    dimension, in the instrument's order."""
    title = (text("survey.profile_title", "zh"), text("survey.profile_title", "en"))
    profile = instrument.profile
    if all(f.code != CREDIT_CODE.code for f in profile):
        profile = (*profile, CREDIT_CODE)
    pages = [SurveyPage("profile", *title, profile=profile)]
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
    ``unit``); ``labels`` maps each of ``values`` to its label. ``exclusive`` holds the values
    that cannot be ticked with another (see :func:`tick`); items of one ``scale`` are asked as a
    matrix whose ``legend`` (value -> description) is shown once (see :func:`matrix_rows`).
    """

    kind: str
    values: list[Any]
    labels: dict[Any, str]
    value: Any
    horizontal: bool = False
    unit: str = ""
    min: float | None = None
    max: float | None = None
    exclusive: frozenset[Any] = frozenset()
    scale: str = ""
    legend: dict[Any, str] = field(default_factory=dict)


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
        hint.kind,
        values,
        labels,
        value,
        hint.horizontal,
        hint.unit,
        hint.min,
        hint.max,
        frozenset(c.value for c in hint.choices if c.exclusive),
        hint.scale,
        {c.value: c.label(lang) for c in hint.legend},
    )


def tick(widget: ItemWidget, before: Iterable[Any], after: Iterable[Any]) -> list[Any]:
    """The options of a multiple choice after a change from ``before`` to ``after``, with
    its exclusive options ("none") kept apart, in the widget's order.

    Ticking an exclusive option clears every other; ticking another option clears the
    exclusive ones; unticking changes nothing else. So the answer never holds an exclusive
    option with another, whatever was ticked last.
    """
    before = list(before)
    after = [v for v in widget.values if v in set(after)]
    added = [v for v in after if v not in before]
    if not added:
        return after
    chosen_exclusive = [v for v in added if v in widget.exclusive]
    if chosen_exclusive:
        return chosen_exclusive[-1:]
    return [v for v in after if v not in widget.exclusive]


def matrix_rows(widgets: list[ItemWidget]) -> list[tuple[int, int]]:
    """Which questions of a page are asked together as a matrix: ``(start, stop)`` ranges
    of at least two widgets in a row on one ``scale`` with the same choices."""
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(widgets) + 1):
        first = widgets[start]
        same = (
            i < len(widgets)
            and bool(first.scale)
            and widgets[i].scale == first.scale
            and widgets[i].values == first.values
        )
        if not same:
            if first.scale and i - start >= 2:
                runs.append((start, i))
            start = i
    return runs


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


# GB 32100-2015: the 31 characters of a 统一社会信用代码 (digits and capitals without I, O, Z,
# S, V), each standing for its position; character i (from 1) of the first 17 weighs 3^(i-1)
# mod 31, and the 18th makes the weighted sum a multiple of 31
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def normalise_credit_code(code: str) -> str:
    """A 统一社会信用代码 as written on a licence: full-width characters made ASCII,
    capitals, no spaces or hyphens around or inside."""
    plain = folded(str(code)).upper()
    return "".join(ch for ch in plain if not ch.isspace() and ch != "-")


def check_credit_code(code: str, lang: str = "zh") -> str | None:
    """What is wrong with a 统一社会信用代码 (GB 32100-2015), in ``lang``; None when it is
    well formed and its check character (the 18th) is right.

    The code is read by :func:`normalise_credit_code` first. It has 18 characters from
    ``0-9`` and the capitals without I, O, Z, S and V; the 18th is the check character:
    ``(31 - sum(value(c_i) * 3^(i-1) mod 31) mod 31) mod 31`` over the first 17.
    """
    plain = normalise_credit_code(code)
    if len(plain) != 18:
        return text("flow.credit_code_length", lang, n=len(plain))
    for position, char in enumerate(plain, start=1):
        if char not in _USCC_ALPHABET:
            return text("flow.credit_code_char", lang, position=position, char=char)
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(plain, _USCC_WEIGHTS))
    expected = _USCC_ALPHABET[(31 - total % 31) % 31]
    if plain[17] != expected:
        return text("flow.credit_code_check", lang, char=plain[17], expected=expected)
    return None


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
        if field_.code == CREDIT_CODE.code:
            problem = check_credit_code(str(value), lang)
            if problem:
                problems[field_.code] = problem
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
    # "none" with another option, named by the labels the page shows (the encoder's reason
    # names option codes, in English)
    for item in page.items:
        widget = item_widget(instrument, item, answers.get(item.code), lang)
        ticked = set(widget.value) if widget.kind == "multiselect" else set()
        if ticked & widget.exclusive and len(ticked) > 1 and item.code not in problems:
            exclusive = [widget.labels[v] for v in widget.values if v in ticked & widget.exclusive]
            problems[item.code] = text("flow.exclusive", lang, option="、".join(exclusive))
    for column, reason in zip(rejects["column"], rejects["reason"]):
        if column in codes and column not in problems:
            problems[column] = _reason(reason, lang)
    return {code: problems[code] for code in codes if code in problems}


def _reason(reason: str, lang: str) -> str:
    """A reason of the scoring encoder in the page's language (its details, which name codes
    in English, only on an English page)."""
    if reason.startswith("missing answer"):
        return text("survey.unanswered", lang)
    return reason if lang == "en" else text("flow.not_valid", lang)


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


def answer_summary(
    instrument: Instrument, answers: Mapping[str, Any], lang: str
) -> list[tuple[SurveyPage, list[tuple[str, str | None]]]]:
    """Every question of the survey with its answer as the company gave it, by page.

    Each answer is its label in ``lang`` (options joined with ``、`` or ``; ``; a number with
    its unit), or None when the question is unanswered. Codes are never shown: an answer the
    question does not offer is shown as None too.
    """
    summary: list[tuple[SurveyPage, list[tuple[str, str | None]]]] = []
    joiner = "、" if lang == "zh" else "; "
    for page in survey_pages(instrument):
        rows: list[tuple[str, str | None]] = []
        for field_ in page.profile:
            value = answers.get(field_.code)
            shown: str | None = None
            if not _blank(value):
                if field_.type == "choice":
                    by_value = {o.value: o.zh if lang == "zh" else o.en for o in field_.options}
                    shown = by_value.get(str(value))
                elif field_.type == "number":
                    shown = _number(value)
                else:
                    shown = str(value)
            rows.append((field_.zh if lang == "zh" else field_.en, shown))
        for item in page.items:
            widget = item_widget(instrument, item, answers.get(item.code), lang)
            if widget.kind == "multiselect":
                shown = joiner.join(widget.labels[v] for v in widget.value) or None
            elif widget.kind == "number":
                shown = None if widget.value is None else _number(widget.value)
                if shown is not None and widget.unit:
                    shown = f"{shown} {widget.unit}"
            else:
                shown = None if widget.value is None else widget.labels[widget.value]
            rows.append((item.text(lang), shown))
        summary.append((page, rows))
    return summary


def _number(value: Any) -> str | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return str(int(number)) if number.is_integer() else f"{number:g}"


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

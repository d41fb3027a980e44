"""The 问卷星 (wjx.cn) survey of an instrument: its numbered questions, and the text to paste
into 问卷星's text import ("批量导入"/"文本导入").

The numbering is the contract between the survey and its export: :func:`wjx_questions` gives
every question its number, and :mod:`dmi.io.tools.wjx` reads a 问卷星 export back by these
numbers (and by the question texts). The order is the template's: the profile fields, then the
items in instrument order. Items of one indicator that are asked with the same choices (the
scenarios of an indicator, say) form one matrix question, one row per item; an item answered
with a number (no bands) is a fill-in; every other item is a single or multiple choice whose
options are the choices the app offers (a banded number item is asked by its bands).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dmi.instruments.format import Instrument
from dmi.instruments.items import Choice, item_type
from dmi.locales import text

__all__ = ["WjxQuestion", "wjx_questions", "wjx_text"]

Kind = Literal["single", "multi", "fill", "matrix"]

TYPE_MARKS: dict[str, str] = {
    "single": "[单选题]",
    "multi": "[多选题]",
    "fill": "[填空题]",
    "matrix": "[矩阵单选题]",
}
"""The question-type marks of 问卷星's text import (Chinese in either language: they are
问卷星's syntax, not text for respondents)."""


@dataclass(frozen=True)
class WjxQuestion:
    """One numbered question of the 问卷星 survey.

    Attributes
    ----------
    number : int
        The question's number in the survey (1, 2, ...): the ``N`` of the export's ``N、题干``
        and ``第N题(...)`` headers.
    kind : {"single", "multi", "fill", "matrix"}
        The 问卷星 question type.
    codes : tuple of str
        The instrument columns it fills: one item or profile code, or for a matrix one item
        code per row.
    zh, en : str
        The question text in each language.
    rows : tuple of Choice
        For a matrix: one row per item (``value`` the item code, the labels its texts).
    choices : tuple of Choice
        The options in survey order (option number ``k`` is ``choices[k - 1]``); empty for a
        fill-in. ``value`` is the answer the plain template holds for it.
    exclusive : tuple of str
        The values of options that cannot be combined with another (multiple choice).
    """

    number: int
    kind: Kind
    codes: tuple[str, ...]
    zh: str
    en: str
    rows: tuple[Choice, ...] = ()
    choices: tuple[Choice, ...] = ()
    exclusive: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def _choice_key(choices: tuple[Choice, ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple((str(c.value), c.zh, c.en) for c in choices)


def wjx_questions(instrument: Instrument) -> list[WjxQuestion]:
    """The numbered questions of the instrument's 问卷星 survey (see the module)."""
    questions: list[WjxQuestion] = []

    def add(kind: Kind, codes: tuple[str, ...], zh: str, en: str, **more: object) -> None:
        questions.append(WjxQuestion(len(questions) + 1, kind, codes, zh, en, **more))  # type: ignore[arg-type]

    for field in instrument.profile:
        if field.type == "choice":
            choices = tuple(Choice(o.value, o.zh, o.en) for o in field.options)
            add("single", (field.code,), field.zh, field.en, choices=choices)
        else:
            add("fill", (field.code,), field.zh, field.en)
    for indicator in instrument.indicators:
        items = list(indicator.items)
        at = 0
        while at < len(items):
            item = items[at]
            widget = item_type(item).widget(item, instrument)
            # a run of items asked with the same radio choices: one matrix question
            run = [item]
            if widget.kind == "radio":
                key = _choice_key(widget.choices)
                for other in items[at + 1 :]:
                    w = item_type(other).widget(other, instrument)
                    if w.kind != "radio" or _choice_key(w.choices) != key:
                        break
                    run.append(other)
            if len(run) > 1:
                rows = tuple(Choice(i.code, i.zh, i.en) for i in run)
                add(
                    "matrix",
                    tuple(i.code for i in run),
                    text("tools.wjx_matrix_title", "zh", indicator=indicator.zh),
                    text("tools.wjx_matrix_title", "en", indicator=indicator.en),
                    rows=rows,
                    choices=tuple(_plain(c) for c in widget.choices),
                )
            elif widget.kind == "number":
                add("fill", (item.code,), item.zh, item.en)
            else:
                exclusive = tuple(o.value for o in item.options if o.exclusive)
                add(
                    "multi" if widget.kind == "multiselect" else "single",
                    (item.code,),
                    item.zh,
                    item.en,
                    choices=tuple(_plain(c) for c in widget.choices),
                    exclusive=exclusive if widget.kind == "multiselect" else (),
                )
            at += len(run)
    return questions


def _plain(choice: Choice) -> Choice:
    """A choice whose value is written as the plain template writes it (text)."""
    return Choice(str(choice.value), choice.zh, choice.en)


def wjx_text(instrument: Instrument, lang: str = "zh") -> str:
    """The survey as text for 问卷星's text import, in ``lang``.

    Each question is ``N. text[type]`` followed by its options one a line (a matrix: its rows,
    then ``【选项】`` and the options), questions separated by a blank line. The first line is the
    survey's title.
    """
    lines = [instrument.title.zh if lang == "zh" else instrument.title.en, ""]
    for q in wjx_questions(instrument):
        title = " ".join(q.title(lang).split())
        lines.append(f"{q.number}. {title}{TYPE_MARKS[q.kind]}")
        if q.kind == "matrix":
            lines += [" ".join(r.label(lang).split()) for r in q.rows]
            lines.append("【选项】")
        for choice in q.choices:
            lines.append(" ".join(choice.label(lang).split()))
        lines.append("")
    return "\n".join(lines)

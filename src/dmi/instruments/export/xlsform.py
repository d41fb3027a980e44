"""The XLSForm of an instrument (KoboToolbox, ODK): sheets ``survey``, ``choices``, ``settings``.

The form asks what the template holds, in the template's order: the profile fields in a group
``profile``, then each dimension's items in a group named after the dimension, so that a
KoboToolbox export heads its columns ``foundation/network`` (:mod:`dmi.io.tools.kobo` reads
them back). Each question is named after its column (item or profile code) and asked as the
app asks it (:meth:`~dmi.instruments.items.ItemType.widget`): one choice is ``select_one``, several
``select_multiple``, a number (an item's or a profile field's) ``decimal`` with its range as a
constraint; a choice's name is the answer the template holds. An exclusive "none"
option becomes the constraint ``not(selected(., 'A') and count-selected(.) > 1)``. Labels, hints
and constraint messages are in both languages (``label::中文 (zh)``, ``label::English (en)``).
A question is required when the instrument's missing-answer policy for it is ``required``. The
instrument format has no conditional questions; a question of a group after the instrument's
(:class:`FormQuestion`) may have a ``relevant`` expression (the 梯度培育 facts: an award's year
is not asked without an award).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dmi.instruments.format import Instrument
from dmi.instruments.items import Choice, item_type
from dmi.locales import text

__all__ = [
    "LANGUAGES",
    "FormGroup",
    "FormQuestion",
    "profile_group",
    "xlsform_bytes",
    "xlsform_sheets",
]

LANGUAGES: dict[str, str] = {"zh": "中文 (zh)", "en": "English (en)"}
"""The XLSForm language of each interface language: its name, then its code in parentheses."""

_SURVEY_COLUMNS = [
    "type",
    "name",
    *(f"label::{name}" for name in LANGUAGES.values()),
    *(f"hint::{name}" for name in LANGUAGES.values()),
    "required",
    "relevant",
    "constraint",
    *(f"constraint_message::{name}" for name in LANGUAGES.values()),
]
_CHOICE_COLUMNS = ["list_name", "name", *(f"label::{name}" for name in LANGUAGES.values())]


@dataclass(frozen=True)
class FormQuestion:
    """A question another part of dmi asks in the form (the 梯度培育 facts): ``kind`` is
    ``select_one`` (of ``choices``), ``integer``, ``decimal`` (within ``min`` and ``max``) or
    ``text``; ``hint`` has ``zh`` and ``en`` (or is None)."""

    name: str
    kind: str
    zh: str
    en: str
    hint: Any = None
    required: bool = False
    choices: tuple[Choice, ...] = ()
    min: float | None = None
    max: float | None = None
    list_name: str | None = None  # the choices' list (default: the question's name)
    relevant: str = ""  # when it is asked (XLSForm's expression; "": always)


@dataclass(frozen=True)
class FormGroup:
    """A group of :class:`FormQuestion` asked after the instrument's (``name``: the group's, which
    a KoboToolbox export puts before each question's: ``facts/revenue_y1``)."""

    name: str
    zh: str
    en: str
    questions: tuple[FormQuestion, ...]


def profile_group(instrument: Instrument) -> str:
    """The name of the group the form asks the profile fields in: ``profile``, or
    ``profile_group`` when a field or an item is named ``profile`` (a KoboToolbox export heads
    the fields' columns ``profile/region``)."""
    codes = {i.code for i in instrument.items} | {f.code for f in instrument.profile}
    return "profile" if "profile" not in codes else "profile_group"


def _labels(prefix: str, zh: str, en: str) -> dict[str, str]:
    return {f"{prefix}::{LANGUAGES['zh']}": zh, f"{prefix}::{LANGUAGES['en']}": en}


def _range(low: float | None, high: float | None) -> tuple[str, dict[str, str]]:
    """The constraint of a number's range, and its message in both languages."""
    if low is None and high is None:
        return "", {}
    lo = "" if low is None else f"{low:g}"
    hi = "" if high is None else f"{high:g}"
    if low is not None and high is not None:
        constraint = f". >= {lo} and . <= {hi}"
        zh, en = (text("tools.xlsform_range", lang, min=lo, max=hi) for lang in ("zh", "en"))
    elif low is not None:
        constraint = f". >= {lo}"
        zh, en = (text("tools.xlsform_min", lang, min=lo) for lang in ("zh", "en"))
    else:
        constraint = f". <= {hi}"
        zh, en = (text("tools.xlsform_max", lang, max=hi) for lang in ("zh", "en"))
    return constraint, _labels("constraint_message", zh, en)


def xlsform_sheets(
    instrument: Instrument | None,
    groups: Sequence[FormGroup] = (),
    *,
    title: str | None = None,
    form_id: str | None = None,
    whole_numbers: Collection[str] = (),
) -> dict[str, pd.DataFrame]:
    """The three sheets of the instrument's XLSForm, by name (``survey``, ``choices``,
    ``settings``), as tables of text; ``groups`` asked after the instrument's questions (or
    alone, without an instrument: then ``title`` and ``form_id`` name the form), the profile's
    number fields named in ``whole_numbers`` asked as ``integer``."""
    survey: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    lists: dict[tuple[tuple[str, str, str], ...], str] = {}

    def choice_list(name: str, options: tuple[Choice, ...]) -> str:
        """The list of these choices (one list for every question asking the same ones)."""
        key = tuple((str(c.value), c.zh, c.en) for c in options)
        if key not in lists:
            lists[key] = name
            choices.extend(
                {"list_name": name, "name": str(c.value), **_labels("label", c.zh, c.en)}
                for c in options
            )
        return lists[key]

    def question(row: dict[str, Any], zh: str, en: str, help_: Any, required: bool) -> None:
        row |= _labels("label", zh, en)
        if help_ is not None:
            row |= _labels("hint", help_.zh, help_.en)
        row["required"] = "yes" if required else ""
        survey.append(row)

    def group(name: str, zh: str, en: str) -> None:
        survey.append({"type": "begin_group", "name": name, **_labels("label", zh, en)})

    codes = (
        {i.code for i in instrument.items} | {f.code for f in instrument.profile}
        if instrument is not None
        else set()
    )
    if instrument is not None and instrument.profile:
        group(
            profile_group(instrument),
            text("tools.xlsform_profile", "zh"),
            text("tools.xlsform_profile", "en"),
        )
        for field in instrument.profile:
            row: dict[str, Any] = {"name": field.code}
            if field.type == "choice":
                options = tuple(Choice(o.value, o.zh, o.en) for o in field.options)
                row["type"] = f"select_one {choice_list(field.code, options)}"
            elif field.type == "number":
                row["type"] = "integer" if field.code in whole_numbers else "decimal"
                row["constraint"], messages = _range(field.min, field.max)
                row |= messages
            else:
                row["type"] = "text"
            question(row, field.zh, field.en, field.help, field.required)
        survey.append({"type": "end_group"})
    for dimension in instrument.dimensions if instrument is not None else ():
        group(
            dimension.code if dimension.code not in codes else f"{dimension.code}_group",
            dimension.zh,
            dimension.en,
        )
        for indicator in dimension.indicators:
            for item in indicator.items:
                widget = item_type(item).widget(item, instrument)
                row = {"name": item.code}
                if widget.kind == "number":
                    row["type"] = "decimal"
                    row["constraint"], messages = _range(widget.min, widget.max)
                    row |= messages
                else:
                    kind = "select_one" if widget.kind == "radio" else "select_multiple"
                    row["type"] = f"{kind} {choice_list(item.code, widget.choices)}"
                    exclusive = [o.value for o in item.options if o.exclusive]
                    if kind == "select_multiple" and exclusive:
                        row["constraint"] = " and ".join(
                            f"not(selected(., '{v}') and count-selected(.) > 1)" for v in exclusive
                        )
                        labels = {o.value: o for o in item.options}
                        row |= _labels(
                            "constraint_message",
                            text("tools.xlsform_exclusive", "zh", option=labels[exclusive[0]].zh),
                            text("tools.xlsform_exclusive", "en", option=labels[exclusive[0]].en),
                        )
                required = instrument.missing_policy(item) == "required"
                question(row, item.zh, item.en, item.help, required)
        survey.append({"type": "end_group"})
    for extra in groups:
        group(extra.name if extra.name not in codes else f"{extra.name}_group", extra.zh, extra.en)
        for q in extra.questions:
            row = {"name": q.name}
            if q.kind == "select_one":
                row["type"] = f"select_one {choice_list(q.list_name or q.name, q.choices)}"
            else:
                row["type"] = q.kind
                if q.kind in ("integer", "decimal"):
                    row["constraint"], messages = _range(q.min, q.max)
                    row |= messages
            if q.relevant:
                row["relevant"] = q.relevant
            question(row, q.zh, q.en, q.hint, q.required)
        survey.append({"type": "end_group"})
    settings = {
        "form_title": title if title is not None else instrument.title.zh if instrument else "",
        "form_id": form_id if form_id is not None else instrument.id if instrument else "",
        "version": instrument.version if instrument is not None else _dmi_version(),
        "default_language": LANGUAGES["zh"],
    }
    return {
        "survey": pd.DataFrame(survey, columns=_SURVEY_COLUMNS, dtype=object).fillna(""),
        "choices": pd.DataFrame(choices, columns=_CHOICE_COLUMNS),
        "settings": pd.DataFrame([settings]),
    }


def xlsform_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An XLSForm's sheets (:func:`xlsform_sheets`) as the bytes of its .xlsx workbook, every
    cell written as text (nothing in a label is taken for a formula)."""
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, table in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append([str(c) for c in table.columns])
        for row in table.itertuples(index=False):
            sheet.append(["" if v is None else str(v) for v in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                cell.data_type = "s"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _dmi_version() -> str:
    """The version of dmi, the version of a form no instrument names."""
    from dmi import __version__

    return __version__

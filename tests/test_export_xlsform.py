"""The XLSForm ``dmi xlsform`` writes, checked against issue #19 and the XLSForm facts of the
reference: opened with openpyxl, sheets ``survey``, ``choices``, ``settings``, labels
``label::中文 (zh)`` and ``label::English (en)``, numbers constrained to their range, the "none"
option exclusive. The constraints are evaluated here (a small evaluator of the two XPath forms
the reference names) on answers worked out by hand, so that a constraint that reads well but
lets a wrong answer through fails. The round trip (form -> KoboToolbox export -> scores) is in
tests/test_io_tools_kobo.py.
"""

from __future__ import annotations

import re

import openpyxl
import pytest

import dmi
from dmi.cli import main
from tests.conftest import ALL_TYPES_YAML

ZH, EN = "中文 (zh)", "English (en)"


def rows(path, name: str) -> list[dict]:
    table = list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))
    return [dict(zip(table[0], r)) for r in table[1:]]


@pytest.fixture(scope="module", params=["miit", "all_types"])
def made(request, tmp_path_factory):
    """(instrument, form path) for the shipped MIIT instrument and one of every item type."""
    folder = tmp_path_factory.mktemp("xlsform")
    if request.param == "miit":
        source = "miit-2024-manufacturing"
    else:
        source = folder / "all-types.yaml"
        source.write_text(ALL_TYPES_YAML, encoding="utf-8")
    path = folder / "form.xlsx"
    assert main(["xlsform", str(source), "-o", str(path)]) == 0
    return dmi.load_instrument(source), path


def test_the_form_opens_in_openpyxl_with_its_sheets_and_columns(made):
    instrument, path = made
    book = openpyxl.load_workbook(path)
    assert {"survey", "choices", "settings"} <= set(book.sheetnames)
    survey = [c.value for c in book["survey"][1]]
    for column in ("type", "name", f"label::{ZH}", f"label::{EN}", "constraint", "required"):
        assert column in survey
    choices = [c.value for c in book["choices"][1]]
    assert {"list_name", "name", f"label::{ZH}", f"label::{EN}"} <= set(choices)
    settings = rows(path, "settings")
    assert len(settings) == 1 and settings[0]["form_id"] == instrument.id
    assert settings[0]["version"] == instrument.version
    assert settings[0]["default_language"] == ZH


def test_every_question_and_choice_has_both_labels_and_every_list_exists(made):
    instrument, path = made
    survey, choices = rows(path, "survey"), rows(path, "choices")
    lists: dict[str, list[str]] = {}
    for c in choices:
        assert c[f"label::{ZH}"] and c[f"label::{EN}"], c
        lists.setdefault(c["list_name"], []).append(str(c["name"]))
    for names in lists.values():
        assert len(names) == len(set(names))  # a choice's name once in its list
    questions = [r for r in survey if r["type"] not in ("begin_group", "end_group")]
    for q in questions:
        assert q[f"label::{ZH}"] and q[f"label::{EN}"], q
        if q["type"].startswith("select_"):
            assert q["type"].split()[1] in lists, q
    # one question per template column, named after it
    expected = [f.code for f in instrument.profile] + [i.code for i in instrument.items]
    assert [q["name"] for q in questions] == expected
    groups = [r["type"] for r in survey if r["type"] in ("begin_group", "end_group")]
    assert groups.count("begin_group") == groups.count("end_group")


def _holds(constraint: str, value) -> bool:
    """Evaluate a constraint of the forms ``. >= a and . <= b`` and
    ``not(selected(., 'X') and count-selected(.) > 1)`` (joined by ``and``) for ``value``: a
    number, or the set of chosen names."""
    text = constraint
    text = re.sub(r"selected\(\.,\s*'([^']*)'\)", lambda m: repr(m.group(1) in value), text)
    text = re.sub(r"count-selected\(\.\)", lambda m: str(len(value)), text)
    text = re.sub(r"(?<![\w'])\.(?![\w'])", lambda m: repr(value), text)
    text = text.replace("not(", "not (")
    return bool(eval(text, {"__builtins__": {}}))  # only the forms above are evaluated


def test_numbers_are_constrained_to_their_range(made):
    instrument, path = made
    survey = {r["name"]: r for r in rows(path, "survey")}
    numbers = [i for i in instrument.items if i.type == "number" and not i.bands]
    numbers += [f for f in instrument.profile if f.type == "number"]
    assert numbers
    for entry in numbers:
        row = survey[entry.code]
        assert row["type"] in ("decimal", "integer"), row
        low, high = entry.min, entry.max
        if low is None and high is None:
            continue
        assert row["constraint"], row
        assert row[f"constraint_message::{ZH}"] and row[f"constraint_message::{EN}"]
        if low is not None:
            assert _holds(row["constraint"], low) and not _holds(row["constraint"], low - 0.5)
        if high is not None:
            assert _holds(row["constraint"], high) and not _holds(row["constraint"], high + 0.5)


def test_the_none_option_is_exclusive(made):
    instrument, path = made
    survey = {r["name"]: r for r in rows(path, "survey")}
    multis = [i for i in instrument.items if any(o.exclusive for o in getattr(i, "options", ()))]
    assert multis
    for item in multis:
        row = survey[item.code]
        if not row["type"].startswith("select_multiple"):
            continue
        none = next(o.value for o in item.options if o.exclusive)
        others = [o.value for o in item.options if not o.exclusive]
        constraint = row["constraint"]
        assert f"selected(., '{none}')" in constraint and "count-selected(.)" in constraint
        assert _holds(constraint, {none})
        assert _holds(constraint, set(others[:2]))
        assert not _holds(constraint, {none, others[0]})
        assert not _holds(constraint, {none, *others})


def test_the_evaluator_reads_the_reference_forms():
    # the reference's own example, evaluated by hand
    rule = "not(selected(., 'A') and count-selected(.) > 1)"
    assert _holds(rule, {"A"}) and _holds(rule, {"B", "C"}) and not _holds(rule, {"A", "B"})
    assert _holds(". >= 0 and . <= 100", 100) and not _holds(". >= 0 and . <= 100", -1)

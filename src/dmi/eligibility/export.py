"""The bulk-import template and the codebook of the 梯度培育 facts, from the one facts table;
the codebook of the rules (the output's condition and route columns), from the rule files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dmi.eligibility.engine import plan, version_of
from dmi.eligibility.facts import COMPUTED, ID, Fact, facts_table, unit_text, yes_no_words
from dmi.eligibility.gaps import t
from dmi.eligibility.policy import (
    Condition,
    Policy,
    ScorecardPass,
    application_year,
    iter_leaves,
    least_sure,
    load_policy,
)

if TYPE_CHECKING:
    from dmi.eligibility.facts import FactsTable
    from dmi.instruments.export.xlsform import FormQuestion

__all__ = [
    "COMPUTED",
    "FACTS_CODEBOOK_COLUMNS",
    "FACTS_FORM_ID",
    "RULES_CODEBOOK_COLUMNS",
    "facts_codebook",
    "facts_template",
    "facts_xlsform",
    "rules_codebook",
]

COMPUTED_NOTE = (
    "computed: dmi fills it from the MIIT survey's answers on the row (not a template column); "
    "a file's column of it, a level dmi computed before, is read by its code only, never by "
    "its labels; a level the firm states goes in digital_level"
)
"""The codebook's note on a fact of :data:`COMPUTED`, as :mod:`dmi.eligibility.headers` matches
headers: a person's column is never taken for dmi's level, which outranks the stated one."""


FACTS_CODEBOOK_COLUMNS = [
    "column",
    "type",
    "unit",
    "value",
    "label_zh",
    "label_en",
    "min",
    "max",
    "integer",
    "help_zh",
    "help_en",
    "aliases",
    "note",
]


def facts_template() -> pd.DataFrame:
    """The empty bulk-import table: ``respondent_id``, then every fact a firm states, in the
    facts table's order (``dmi eligibility template``)."""
    return pd.DataFrame(columns=[f.code for f in facts_table() if f.code not in COMPUTED])


FACTS_FORM_ID = "dmi-cultivation-facts"
"""The form id of the facts' XLSForm asked alone."""


def _skip_logic(questions: list[FormQuestion], table: FactsTable) -> list[FormQuestion]:
    """The questions with the facts' ``skipped_when`` as XLSForm's ``relevant`` (an award's
    year: ``${award} != 'none'``; a number compared as one, so that a blank answer, NaN in
    XPath, skips nothing), each asked after the question it depends on (the table lists
    ``award_rank`` among the counts, before ``award``). A question whose fact is not asked in
    the form (given by the survey) is asked always."""
    from dataclasses import replace

    asked = {q.name for q in questions}
    out: list[FormQuestion] = []
    waiting: dict[str, list[FormQuestion]] = {}
    for q in questions:
        rule = table[q.name].skipped_when
        if rule is not None and rule.fact in asked:
            value = f"'{rule.is_}'" if isinstance(rule.is_, str) else f"{rule.is_:g}"
            q = replace(q, relevant=f"${{{rule.fact}}} != {value}")
            if all(o.name != rule.fact for o in out):  # asked later: wait for it
                waiting.setdefault(rule.fact, []).append(q)
                continue
        out.append(q)
        out += waiting.pop(q.name, [])
    return out


def facts_xlsform(survey: bool = True) -> dict[str, pd.DataFrame]:
    """The XLSForm (KoboToolbox, ODK) asking the facts of :func:`facts_template`, in a group
    ``facts`` after the MIIT survey's questions (``survey=False``: alone), as the sheets of
    :func:`dmi.instruments.export.xlsform.xlsform_sheets`.

    Each fact is a question named by its code, so that a KoboToolbox export heads its column
    ``facts/revenue_y1`` and ``dmi eligibility`` reads it as the fact; a category or yes/no is a
    ``select_one`` whose choices are named by the values (``yes``, ``recheck``, ``national``:
    read as they are, whatever the labels), a number an ``integer`` or ``decimal`` within the
    fact's range, its unit in its label; the id is required. With the survey, one export gives
    each firm's computed digital level and its facts, and ``dmi score`` reads it too; the facts
    the survey's profile gives (province, sector, staff) are not asked again.

    Parameters
    ----------
    survey : bool, default=True
        Ask the MIIT survey (:data:`dmi.eligibility.survey.SURVEY_INSTRUMENT`) first.

    Returns
    -------
    dict of str to DataFrame
        The sheets ``survey``, ``choices`` and ``settings``, as tables of text.
    """
    from dmi.eligibility.survey import SURVEY_INSTRUMENT
    from dmi.instruments import load_instrument
    from dmi.instruments.export.xlsform import FormGroup, FormQuestion, xlsform_sheets
    from dmi.instruments.items import Choice

    yes_no = tuple(
        Choice(v, t(f"eligibility.{v}_word", "zh"), t(f"eligibility.{v}_word", "en"))
        for v in ("yes", "no")
    )
    table = facts_table()
    # with the survey, the facts its profile questions give are not asked again (所在省份 is
    # the province, 从业人员数 the staff: read from the answers), nor the level it computes
    given = {p.fact for p in table.survey_profile} | {"digital_level"} if survey else set()
    questions = []
    for fact in table:
        if fact.code in COMPUTED or fact.code in given:
            continue
        unit = fact.unit if fact.unit and fact.unit not in fact.zh else None
        zh = f"{fact.zh}（{unit}）" if unit else fact.zh
        unit_en = unit_text(unit, "en")
        en = f"{fact.en} ({unit_en})" if unit_en else fact.en
        list_name = None
        if fact.type == "category":
            choices = tuple(Choice(v.value, v.zh, v.en) for v in fact.values)
            kind = "select_one"
            if fact.code.startswith("holds_"):  # the three titles' lists are one
                list_name = "title_held"
        elif fact.type == "yesno":
            choices, kind, list_name = yes_no, "select_one", "yes_no"
        elif fact.type == "number":
            choices, kind = (), "integer" if fact.integer else "decimal"
        else:  # the id, the province, city and sector as written
            choices, kind = (), "text"
        questions.append(
            FormQuestion(
                fact.code,
                kind,
                zh,
                en,
                fact.help,
                fact.code == ID,
                choices,
                fact.min,
                fact.max,
                list_name,
            )
        )
    questions = _skip_logic(questions, table)
    group = FormGroup(
        "facts", t("tools.xlsform_facts", "zh"), t("tools.xlsform_facts", "en"), tuple(questions)
    )
    instrument = load_instrument(SURVEY_INSTRUMENT) if survey else None
    # a form of its own (not the survey's id: an upload would replace the survey's form)
    title = group.zh if instrument is None else f"{instrument.title.zh}（含{group.zh}）"
    form_id = FACTS_FORM_ID if instrument is None else f"{instrument.id}-facts"
    # a profile question giving a whole-number fact asks a whole number (从业人员数 is the staff:
    # 210.5 passed the form, then its row was refused)
    whole = {p.field for p in table.survey_profile if table[p.fact].integer}
    return xlsform_sheets(instrument, [group], title=title, form_id=form_id, whole_numbers=whole)


def facts_codebook() -> pd.DataFrame:
    """One row per fact, and one more per allowed value of a category or yes/no fact and per
    number a number fact also takes in words (digital_level's 三级).

    Columns :data:`FACTS_CODEBOOK_COLUMNS`: the column name, its type, unit (万元, %, 人 ...),
    the allowed value (a category's or yes/no's code, a number; blank on the fact's own row),
    zh/en labels, the range (inclusive), whether whole numbers only, zh/en help, the other
    spellings accepted (on a fact's row: as the header; on a value's row: as the cell, from the
    tables the reader reads cells with, :func:`dmi.eligibility.facts.yes_no_words` and
    ``Fact.words``), and a note (``added by dmi``: a fact a rule needs that the issue's
    list lacked; :data:`COMPUTED_NOTE`: dmi fills it, and reads a file's column of it by its
    code only).
    """
    rows: list[dict[str, object]] = []
    for fact in facts_table():
        note = COMPUTED_NOTE if fact.code in COMPUTED else ("added by dmi" if fact.added else "")
        base: dict[str, object] = {
            "column": fact.code,
            "type": fact.type,
            "unit": fact.unit or "",
            "value": "",
            "label_zh": fact.zh,
            "label_en": fact.en,
            "min": fact.min,
            "max": fact.max,
            "integer": bool(fact.integer) if fact.type == "number" else None,
            "help_zh": fact.help.zh if fact.help else "",
            "help_en": fact.help.en if fact.help else "",
            "aliases": "|".join(fact.aliases),
            "note": "required" if fact.code == ID else note,
        }
        rows.append(base)
        if fact.type == "category":
            for v in fact.values:
                rows.append(_value_row(fact, v.value, v.zh, v.en, v.aliases))
        elif fact.type == "yesno":
            words = yes_no_words(fact)  # what the reader takes: Y, 1, TRUE, 有 ...
            for value in ("yes", "no"):
                zh, en = t(f"eligibility.{value}_word", "zh"), t(f"eligibility.{value}_word", "en")
                rows.append(_value_row(fact, value, zh, en, _others(words[value], value, zh, en)))
        elif fact.words:  # a number also given in words (三级, 3级 for digital_level 3)
            for number, spelled in _number_words(fact).items():
                # labelled by its first word in each language: 三级, level 3
                zh = next((w for w in spelled if not w.isascii()), "")
                en = next((w for w in spelled if w.isascii() and any(c.isalpha() for c in w)), "")
                rows.append(_value_row(fact, f"{number:g}", zh, en, _others(spelled, zh, en)))
    return pd.DataFrame(rows, columns=FACTS_CODEBOOK_COLUMNS)


def _value_row(
    fact: Fact, value: str, zh: str, en: str, aliases: tuple[str, ...]
) -> dict[str, object]:
    """A codebook row of one value a cell of ``fact`` may hold, and its other spellings."""
    return {
        **{k: "" for k in FACTS_CODEBOOK_COLUMNS},
        "column": fact.code,
        "type": "value",
        "value": value,
        "label_zh": zh,
        "label_en": en,
        "min": None,
        "max": None,
        "integer": None,
        "aliases": "|".join(aliases),
    }


def _others(words: tuple[str, ...], *shown: str) -> tuple[str, ...]:
    """The spellings of ``words`` not already shown as the value or a label (case folded)."""
    said = {s.casefold() for s in shown}
    return tuple(w for w in words if w.casefold() not in said)


def _number_words(fact: Fact) -> dict[float, tuple[str, ...]]:
    """``Fact.words`` (the words the reader takes for a number) by number, in the table's
    order: {3.0: ("三级", "3级"), ...}."""
    found: dict[float, list[str]] = {}
    for word, number in fact.words.items():
        found.setdefault(float(number), []).append(word)
    return {number: tuple(words) for number, words in found.items()}


RULES_CODEBOOK_COLUMNS = [
    "column",
    "kind",
    "rungs",
    "applicants",
    "paths",
    "policies",
    "label_zh",
    "label_en",
    "recheck",
    "replaces",
    "source",
    "confidence",
    "result_confidence",
]

_LISTED = ("rungs", "applicants", "paths", "policies")
"""The codebook's columns that list every value the rule takes in the year's routing."""


def rules_codebook(
    policy: str | int | Path | Policy | None = None, *, year: int | None = None
) -> pd.DataFrame:
    """One row per condition or route column of the output under ``policy`` and ``year``
    (``dmi eligibility rules``), in the output's order: what each column's state is the state
    of, and how sure its rule is.

    Columns :data:`RULES_CODEBOOK_COLUMNS`: the column (the condition or route id); ``kind``
    (``condition``, ``direct``: a direct route, ``exemption``); the ``rungs`` it is a rule of,
    the ``applicants`` it is applied to that year (``new``, ``recheck``: the routing may send
    a 复核 to another version's rules), the ``paths`` it belongs to (2026 tier 1:
    ``innovative`` or ``tech``; blank for a rule of the whole rung) and the ``policies`` the
    results name in ``<rung>_policy`` where it applies, each ``|``-joined; zh/en labels (each
    version's file words a column it applies in its own way: every wording, `` | ``-joined);
    ``recheck``, how a 复核 is judged on a condition (``same``, ``own test``, ``skipped``; blank
    for a route); ``replaces``, the conditions a route stands in place of (``|``-joined);
    ``source`` (each file's, as the labels); ``confidence``, the rule's own mark, the least
    sure of the files' (``V`` official wording seen verbatim,
    ``I`` third-party compilations only, ``U`` unconfirmed or conflicting), and
    ``result_confidence``, as sure as a result of the column is: the least sure of its own
    mark and those of the formulas and scorecards it rests on
    (:meth:`~dmi.eligibility.policy.Policy.confidence_of`), and of the province blocks of those
    scorecards (a block applies to its province's firms).

    Parameters as :func:`dmi.eligibility.output_columns`.
    """
    loaded = load_policy(policy)
    the_plan = plan(loaded, application_year(loaded, year))
    found: dict[str, dict[str, Any]] = {}
    for (rung_id, applicant), applied in the_plan.routes.items():
        rung = applied.rungs[rung_id]
        in_path = {c: p.id for p in rung.paths for c in p.conditions}
        ids = list(rung.conditions) + [c for p in rung.paths for c in p.conditions]
        for cid in ids + list(rung.routes):
            own = _rule_row(applied, cid)
            row = found.setdefault(cid, {k: [] for k in RULES_CODEBOOK_COLUMNS})
            taken = (rung_id, applicant, in_path.get(cid, ""), version_of(applied, rung_id))
            for name, value in [*zip(_LISTED, taken), *own.items()]:
                if value not in row[name]:
                    row[name].append(value)
    rows = []
    for cid in the_plan.condition_ids:
        row = found[cid]
        # one test whichever version applies it (plan refuses two), but each version words
        # and cites it in its own file: every wording and source said, the least sure mark
        marks = {k: least_sure(*row[k]) for k in ("confidence", "result_confidence")}
        joined = {k: _JOINED.get(k, "|").join(v for v in row[k] if v) for k in row}
        rows.append({**joined, **marks})
    return pd.DataFrame(rows, columns=RULES_CODEBOOK_COLUMNS)


_JOINED = {"label_zh": " | ", "label_en": " | ", "source": " | "}
"""How the codebook joins a column's values under two versions: texts apart from ids."""


def _rule_row(applied: Policy, cid: str) -> dict[str, Any]:
    """What ``applied``'s file says of its condition or route ``cid`` (the codebook's columns
    but those the routing fills, :data:`_LISTED`)."""
    condition = applied.conditions.get(cid)
    element: Any = condition if condition is not None else applied.routes[cid]
    if isinstance(element, Condition):
        kind, replaces = "condition", ""
        recheck = (
            "same"
            if element.recheck is None
            else ("skipped" if element.recheck == "skip" else "own test")
        )
    else:
        kind, replaces, recheck = element.kind, "|".join(element.replaces), ""
    return {
        "column": cid,
        "kind": kind,
        "label_zh": element.zh,
        "label_en": element.en,
        "recheck": recheck,
        "replaces": replaces,
        "source": element.source,
        "confidence": element.confidence,
        "result_confidence": least_sure(
            applied.confidence_of(cid),
            # a province's block of a scorecard it passes: that province's firms' results are
            # as sure as the block (as their ConditionResult.confidence says)
            *(
                block.confidence
                for test in _tests_of(element)
                for leaf in iter_leaves(test)
                if isinstance(leaf, ScorecardPass)
                for block in applied.scorecards[leaf.scorecard].provinces
            ),
        ),
    }


def _tests_of(element: Any) -> list[Any]:
    """The tests of a condition (its own and its 复核's) or of a route's options."""
    if isinstance(element, Condition):
        return [t for t in (element.test, element.recheck) if t not in (None, "skip")]
    return [option.test for option in element.options]

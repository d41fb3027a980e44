"""What the app's 梯度培育 pre-check page needs besides the library: the facts form and its values.

The form is made from the one facts table (:data:`dmi.eligibility.FACTS`): its groups are named
here (the firm, finances by year in 万元, R&D, people, IP, market, awards and scores), every
fact not named falls into a last group of its own, so a fact added to the table is asked for
without a change here. Widgets give ``None`` for a blank (an unknown fact, never a failing one);
:func:`form_facts` keeps only what was given, as :func:`dmi.eligibility.evaluate` takes it.
:func:`evaluate_facts` adds the digital level carried over from the company's survey,
:func:`problems` words the facts that were refused in the page's language, and
:func:`check_facts` evaluates the facts that are valid, the refused ones left out (unknown), each
refusal worded for the field it names first.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dmi.eligibility import (
    FACTS,
    Fact,
    FactsError,
    FirmResult,
    application_year,
    evaluate,
    load_policy,
    profile_fact_text,
)
from dmi.eligibility.facts import (
    IMPLAUSIBLE_AMOUNT,
    RD_OF_REVENUE,
    out_of_range,
    parse_cell,
    rd_above_revenue,
)
from dmi.eligibility.survey import SURVEY_INSTRUMENT
from dmi.errors import FactsNoteWarning
from dmi.locales import text
from dmi.results.ladder import fact_value_text, left_out, number_text
from dmi.text import mid_sentence

__all__ = [
    "CARRIED",
    "Checked",
    "FormGroup",
    "NOT_ASKED",
    "amount_cautions",
    "caution_lines",
    "cautions_of",
    "application_year_now",
    "asks_stated_level",
    "check_facts",
    "evaluate_facts",
    "form_facts",
    "form_groups",
    "fraction_cautions",
    "left_out",
    "miit_submission",
    "problems",
    "profile_facts",
    "rd_cautions",
    "rows_by_year",
    "year_note",
]

CARRIED = "digital_level_computed"
"""The fact the survey's level is given as (the MIIT level dmi computed from the answers)."""


def miit_submission(history: Sequence[Any]) -> Any | None:
    """The latest of a company's submissions (oldest first) that is of the MIIT survey
    (:data:`dmi.eligibility.survey.SURVEY_INSTRUMENT`): the one whose level is the rules'
    数字化水平. Another instrument's levels are not the MIIT's (the EU DMA's band 2, 一般, is no
    二级), so a company that answered only another survey is asked its level. None without one.
    """
    return next((s for s in reversed(history) if s.instrument_id == SURVEY_INSTRUMENT), None)


NOT_ASKED = frozenset({"respondent_id", CARRIED})
"""Facts the form never asks: the id (the resume code stands for it) and the computed level."""

# the form's groups, in order; a fact of the table named in none goes to "other"
_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("titles", ("holds_innovative", "holds_specialised", "holds_little_giant")),
    (
        "firm",
        (
            "province",
            "city",
            "sector",
            "sme",
            "credit_clean",
            "product_allowed",
            "no_incident",
            "no_incident_recent",
        ),
    ),
    (
        "finance",
        (
            "revenue_y1",
            "revenue_y2",
            "revenue_y3",
            "main_revenue_y1",
            "main_revenue_y2",
            "main_revenue_y3",
            "net_profit_y1",
            "assets_y1",
            "cost_y1",
            "debt_ratio",
            "equity_2y",
            "equity_3y",
        ),
    ),
    ("rd", ("rd_y1", "rd_y2", "rd_institution", "standard_lead")),
    ("people", ("staff", "rd_staff")),
    ("ip", ("ip_class1", "ip_class2", "ip_class1_own", "ip_class1_high_value")),
    (
        "market",
        (
            "niche_years",
            "market_share",
            "domestic_rank",
            "product_field",
            "strategic_emerging",
            "key_chain_link",
            "own_brand",
            "info_system",
            "certification",
            "quality_items",
        ),
    ),
    (
        "awards",
        (
            "award",
            "award_year",
            "award_rank",
            "makers_china",
            "high_tech_title",
            "innovation_title",
            "eval_score",
            "eval_score_prev",
            "featured_points",
        ),
    ),
    ("digital", ("digital_level",)),
)
_BY_YEAR = re.compile(r"^(?P<stem>.+)_y(?P<year>[123])$")


@dataclass(frozen=True)
class FormGroup:
    """One titled group of the form: ``title`` is the ``ladder.group_<key>`` text."""

    key: str
    facts: tuple[Fact, ...]

    def title(self, lang: str) -> str:
        key = self.key  # (a local: the locales test reads the key's family from the call)
        return text(f"ladder.group_{key}", lang)


def asks_stated_level(level: int | None, stated: Any, shown: bool) -> bool:
    """Whether the form asks the stated ``digital_level``: without a level from the survey;
    with one, when a level was stated (``stated``, kept from before the survey: it stays in
    view, to be seen beside the flag of a disagreement and changed or emptied) or its field
    is already ``shown`` in this visit (emptied, it does not vanish under the cursor)."""
    return level is None or not _blank(stated) or shown


def form_groups() -> list[FormGroup]:
    """The form's groups, every fact of :data:`FACTS` but :data:`NOT_ASKED` in exactly one."""
    named: set[str] = set()
    groups = []
    for key, codes in _GROUPS:
        facts = tuple(FACTS[c] for c in codes if c in FACTS)
        named.update(codes)
        if facts:
            groups.append(FormGroup(key, facts))
    rest = tuple(f for f in FACTS if f.code not in named and f.code not in NOT_ASKED)
    if rest:
        groups.append(FormGroup("other", rest))
    return groups


def rows_by_year(facts: tuple[Fact, ...]) -> list[tuple[Fact, ...]]:
    """The group's facts as rows: one fact of several years (``revenue_y1``, ``_y2``, ``_y3``)
    is one row, last year first; every other fact a row of its own."""
    rows: list[list[Fact]] = []
    stems: dict[str, list[Fact]] = {}
    for fact in facts:
        found = _BY_YEAR.match(fact.code)
        stem = found["stem"] if found else None
        if stem is not None and stem in stems:
            stems[stem].append(fact)
            continue
        row = [fact]
        rows.append(row)
        if stem is not None:
            stems[stem] = row
    return [tuple(r) for r in rows]


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def form_facts(values: Mapping[str, Any]) -> dict[str, Any]:
    """The facts the form gave, blanks left out (unknown), in :data:`FACTS` order.

    Whole numbers are kept as ``int`` (a count, a year), text is trimmed; keys that are not
    facts, and the facts the form never asks (:data:`NOT_ASKED`), are dropped.
    """
    out: dict[str, Any] = {}
    for fact in FACTS:
        if fact.code in NOT_ASKED or fact.code not in values:
            continue
        value = values[fact.code]
        if _blank(value):
            continue
        if fact.type == "number":
            number = float(value)
            value = int(number) if fact.integer and number.is_integer() else number
        elif isinstance(value, str):
            value = value.strip()
        out[fact.code] = value
    return out


def profile_facts(instrument: Any, answers: Mapping[str, Any], lang: str = "zh") -> dict[str, Any]:
    """The facts the company's survey answers already give, as the form starts from them: the
    facts table's ``survey_profile`` (:attr:`dmi.eligibility.FACTS.survey_profile`, the one
    rule a bulk run of a survey tool's export follows too), each answer written as its fact by
    :func:`dmi.eligibility.profile_fact_text` in ``lang``, the page's: the province by its
    name (广东省, Guangdong), the sector by its code and name (C39 计算机、通信和其他电子设备制造业;
    a cohort counts a province's firms together in either language); the staff as
    the employees given, read as a bulk run reads them (the fact's parser: 1,200 is 1200; one
    it refuses, 120.5, is not started from). A field the
    instrument lacks, or left blank, gives nothing; an answer that is none of its field's
    choices is kept as given (trimmed), for the form to check.
    """
    out: dict[str, Any] = {}
    for entry in FACTS.survey_profile:
        field = next((f for f in instrument.profile if f.code == entry.field), None)
        value = answers.get(entry.field)
        if field is None or _blank(value):
            continue
        given = str(value).strip()
        if entry.written_as == "value":
            # read as a bulk run reads it (the fact's own parser); one it refuses (120.5 staff)
            # is not started from: the firm says it in the form
            fact = FACTS[entry.fact]
            number = parse_cell(fact, value)
            if number is not None:
                out[entry.fact] = int(number) if fact.integer else number
        elif any(o.value == given for o in field.options):
            out[entry.fact] = profile_fact_text(field, entry, given, lang)
        else:
            out[entry.fact] = given
    return out


def _today() -> dt.date:
    return dt.date.today()


def application_year_now(policy: str, today: dt.date | None = None) -> int:
    """The year a company applies in today under ``policy``: this year, or the policy's first
    when it applies only from a later year (an earlier one is refused by
    :func:`dmi.eligibility.application_year`).

    The app's one default, for the pre-check and the agency's bulk page alike (which differed:
    the same firm met a direct route on one and not on the other). Not the command line's
    default (the policy's first year, so that a file gives the same results whatever the day):
    a company, and an agency looking at its firms, ask where they stand now; the bulk page
    shows the year and takes another, as ``--year``. A year after the rules were replaced is
    theirs to judge too (the 2022 rules route every rung and year to themselves): its award
    windows end this year, as the rules in force would have them.
    """
    rules = load_policy(policy)
    this_year = (today or _today()).year
    return application_year(rules, max(this_year, rules.effective.year))


def year_note(policy: str, year: int, lang: str, today: dt.date | None = None) -> str:
    """Why the page applies for ``year`` (:func:`application_year_now`), in ``lang``."""
    if year == (today or _today()).year:
        return text("ladder.year_today", lang)
    return text("ladder.year_first", lang, date=load_policy(policy).effective.isoformat())


def evaluate_facts(
    facts: Mapping[str, Any],
    policy: str,
    level: int | None,
    lang: str,
    today: dt.date | None = None,
) -> FirmResult:
    """The ladder for the form's facts, the survey's level (when known) as the computed level,
    applying in the year a company applies in on ``today`` (:func:`application_year_now`).

    A stated ``digital_level`` (given before the survey was taken, say) is kept: the computed
    level is the one used, and a disagreement is in the result's ``flags``, as the library and
    the command line have it (it was dropped without a word).

    Raises
    ------
    dmi.eligibility.FactsError
        When facts contradict each other; :func:`problems` words them.
    """
    given = dict(facts)
    if level is not None:
        given[CARRIED] = int(level)
    year = application_year_now(policy, today)
    with warnings.catch_warnings():
        # the form says what one firm's facts say (its units, its flags): not a file's notes
        warnings.simplefilter("ignore", FactsNoteWarning)
        result = evaluate(given, policy=policy, year=year, lang=lang)
    assert isinstance(result, FirmResult)
    return result


@dataclass(frozen=True)
class Checked:
    """The form's facts checked: ``result`` evaluated from ``facts``, the valid ones; the
    values refused (``refused``: fact code -> the value as given) are left out, unknown; each
    refusal's message in the page's language is in ``messages`` under the fact it names first
    (the field to show it at: for main-business revenue above revenue, the main-business
    revenue). ``cautions`` are values taken that may not mean what they say (a debt ratio of
    0.8 %, a fraction perhaps: :func:`fraction_cautions`; revenue typed in yuan:
    :func:`amount_cautions`; R&D above the year's revenue: :func:`rd_cautions`), under their
    facts."""

    result: FirmResult
    facts: dict[str, Any]
    refused: dict[str, Any]
    messages: dict[str, list[str]]
    cautions: dict[str, list[str]] = field(default_factory=dict)


def check_facts(
    facts: Mapping[str, Any],
    policy: str,
    level: int | None,
    lang: str,
    today: dt.date | None = None,
) -> Checked:
    """:func:`evaluate_facts` of the facts that are valid: every fact refused is left out and
    the rest evaluated, so that one refused value neither hides the ladder nor stops the
    facts given with it from being kept.

    A check across two facts refuses the one it names first (main-business revenue above
    revenue: the main-business revenue), as :func:`problems` words it; the other stays.
    """
    given = dict(facts)
    refused: dict[str, Any] = {}
    messages: dict[str, list[str]] = {}
    while True:
        try:
            result = evaluate_facts(given, policy, level, lang, today)
        except FactsError as exc:
            codes = [str(c) for c in exc.rejects["column"]]
            if not any(c in given for c in codes):
                raise  # not a fact the form gave (the carried level): nothing to leave out
            for code, line in zip(codes, problems(exc.rejects, facts, lang)):
                messages.setdefault(code, []).append(line)
                if code in given:
                    refused[code] = given.pop(code)
            continue
        return Checked(result, given, refused, messages, cautions_of(given, lang))


def cautions_of(facts: Mapping[str, Any], lang: str) -> dict[str, list[str]]:
    """The values taken that may not mean what they say, under their facts: a percentage of
    at most 1 (:func:`fraction_cautions`), an amount typed in yuan (:func:`amount_cautions`),
    R&D above the year's revenue (:func:`rd_cautions`); the page says them under the fields,
    and the report (:func:`caution_lines`) under its ladder."""
    cautions = fraction_cautions(facts, lang)
    for found in (amount_cautions(facts, lang), rd_cautions(facts, lang)):
        for code, lines in found.items():
            cautions.setdefault(code, []).extend(lines)
    return cautions


def caution_lines(cautions: Mapping[str, list[str]]) -> list[str]:
    """:func:`cautions_of`'s lines in the form's order of their facts, for a report."""
    return [line for fact in FACTS if fact.code in cautions for line in cautions[fact.code]]


def amount_cautions(facts: Mapping[str, Any], lang: str) -> dict[str, list[str]]:
    """For each amount in 万元 given at :data:`IMPLAUSIBLE_AMOUNT` or more (either sign): taken
    as given, and said under its field as likely typed in yuan."""
    found = {}
    for fact in FACTS:
        value = facts.get(fact.code)
        if fact.unit != "万元" or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value) and abs(value) >= IMPLAUSIBLE_AMOUNT:
            words = text(
                "ladder.amount_caution",
                lang,
                fact=fact.label(lang),
                value=fact_value_text(fact.code, value, lang),
                # 亿元 (10^8 yuan) in Chinese, billions (10^9) in English
                big=number_text(value / (10_000 if lang == "zh" else 100_000)),
            )
            found[fact.code] = [words]
    return found


def rd_cautions(facts: Mapping[str, Any], lang: str) -> dict[str, list[str]]:
    """For each year's R&D expense above that year's revenue (:data:`RD_OF_REVENUE`): taken as
    given (a firm living on investment may spend more), and said under the R&D field, as a
    bulk run notes it of a file: an R&D share above 100 % passes every R&D floor, and R&D
    typed in yuan beside revenue in 万元 is the likely cause."""
    found = {}
    for rd, revenue in RD_OF_REVENUE:
        spent, earned = facts.get(rd), facts.get(revenue)
        if len(_numbers(spent, earned)) == 2 and rd_above_revenue(spent, earned):
            found[rd] = [
                text(
                    "ladder.rd_caution",
                    lang,
                    rd=FACTS[rd].label(lang),
                    # shown apart from each other: 1000.004 is not the 1000 it is above
                    spent=fact_value_text(rd, spent, lang, (earned,)),
                    revenue=mid_sentence(FACTS[revenue].label(lang)),
                    earned=fact_value_text(revenue, earned, lang, (spent,)),
                    share=number_text(spent / earned * 100, (100,)),
                )
            ]
    return found


def fraction_cautions(facts: Mapping[str, Any], lang: str) -> dict[str, list[str]]:
    """For each percentage the facts table marks ``fractions_doubtful`` (the debt ratio) given
    above 0 and at most 1: read as a percentage, it passes every ceiling, while it is likely a
    fraction (0.8 for 80 %). Said under its field, as a bulk run says it of a column."""
    found = {}
    for fact in FACTS:
        value = facts.get(fact.code)
        if not fact.fractions_doubtful or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and 0 < value <= 1:
            shown = fact_value_text(fact.code, value, lang)
            words = text("ladder.fraction_caution", lang, fact=fact.label(lang), value=shown)
            found[fact.code] = [words]
    return found


def _label(code: str, lang: str) -> str:
    return FACTS[code].label(lang) if code in FACTS else code


def _numbers(*values: Any) -> tuple[float, ...]:
    """The finite numbers among ``values`` (numpy's too; not a bool): what a refused value is
    shown apart from (100.0000001 is not the 100万元 of revenue it may not exceed)."""
    out = []
    for v in values:
        if isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return tuple(out)


def _wholes_beside(value: Any) -> tuple[float, ...]:
    """The whole numbers either side of a number (2.0000001 is not shown as the 2 it is not)."""
    return tuple(float(f(v)) for v in _numbers(value) for f in (math.floor, math.ceil))


def problems(rejects: pd.DataFrame, facts: Mapping[str, Any], lang: str) -> list[str]:
    """Each refused fact as one line in ``lang``, naming the facts and values involved, in the
    order of ``rejects``.

    A broken check across two facts (main-business revenue above revenue, ...) is worded from
    the facts table's checks, a value out of range or not whole from the fact's; anything else
    (an infinite number) names the fact and its value as unreadable, in ``lang`` too.
    """
    checks = {c.fact: c for c in FACTS.checks}
    lines = []
    for row in rejects.itertuples():
        code = str(row.column)
        check = checks.get(code)
        # the check's wording only for the check's own reason, which names the other fact: a
        # fact with a check can be refused for its own value (a negative main revenue)
        other = None if check is None else (check.at_most or check.requires)
        if other is None or other not in str(row.reason):
            check = None
        if check is not None and check.at_most is not None:
            lines.append(
                text(
                    "ladder.check_at_most",
                    lang,
                    fact=_label(code, lang),
                    value=fact_value_text(
                        code, facts.get(code), lang, _numbers(facts.get(check.at_most))
                    ),
                    other=_label(check.at_most, lang),
                    other_value=fact_value_text(
                        check.at_most, facts.get(check.at_most), lang, _numbers(facts.get(code))
                    ),
                )
            )
        elif check is not None and check.requires is not None:
            lines.append(
                text(
                    "ladder.check_requires",
                    lang,
                    fact=_label(code, lang),
                    other=_label(check.requires, lang),
                    at_least=f"{check.at_least:g}",
                )
            )
        elif code in FACTS and _not_whole(FACTS[code], facts.get(code)):
            lines.append(
                text(
                    "ladder.check_whole",
                    lang,
                    fact=_label(code, lang),
                    value=fact_value_text(
                        code, facts.get(code), lang, _wholes_beside(facts.get(code))
                    ),
                )
            )
        elif code in FACTS and _out_of_range(FACTS[code], facts.get(code)):
            fact = FACTS[code]
            shown = fact_value_text(code, facts.get(code), lang, _numbers(fact.min, fact.max))
            if fact.max is None:
                line = text(
                    "ladder.check_min",
                    lang,
                    fact=_label(code, lang),
                    value=shown,
                    low=_bound(fact.min),
                )
            else:
                line = text(
                    "ladder.check_range",
                    lang,
                    fact=_label(code, lang),
                    value=shown,
                    low=_bound(fact.min),
                    high=_bound(fact.max),
                )
            lines.append(line)
        else:  # anything else (an infinite number): in the page's language, not the library's
            lines.append(
                text(
                    "ladder.check_unreadable",
                    lang,
                    fact=_label(code, lang),
                    value=str(facts.get(code, row.value)),
                )
            )
    return lines


def _not_whole(fact: Any, value: Any) -> bool:
    """Whether the form's number has decimals where its fact counts whole ones (staff)."""
    return (
        fact.integer
        and isinstance(value, float)
        and math.isfinite(value)
        and not value.is_integer()
    )


def _out_of_range(fact: Any, value: Any) -> bool:
    """Whether the form's number is outside its fact's range (the form takes any number)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and out_of_range(fact, value)
    )


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"

"""The facts a firm states for the 梯度培育 ladder: one declarative table, and the checks on them.

The table lives in ``instruments/data/cultivation/facts.yaml`` (name, type, unit, allowed values,
zh/en label and help of every fact); the template, the codebook, the API and the app all read it
through :data:`FACTS`. :func:`parse_facts` turns a frame (or one firm's dict) into typed columns,
column by column: each column is factorised, its distinct cells parsed once, and the results
gathered back with numpy, so a million rows cost a few thousand parses. Every bad cell and every
broken check across facts becomes a row of one rejects table (``row, respondent_id, column,
value, reason``); a row with any problem is rejected as a whole, with all its problems listed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dmi.eligibility._data import (
    DATA,
    Problem,
    check_lang,
    describe_error,
    describe_location,
    load_yaml,
    yaml_words,
)
from dmi.eligibility.places import unplaced_provinces
from dmi.errors import FactsError, FactsFileError, ParameterError
from dmi.io.ids import doubtful_ids
from dmi.text import counted, folded, match_key

__all__ = [
    "COMPUTED",
    "FACTS",
    "ID",
    "REJECT_COLUMNS",
    "Fact",
    "FactColumns",
    "FactValue",
    "FactsError",
    "FactsTally",
    "FactsFileError",
    "ParsedFacts",
    "SurveyProfileFact",
    "NO_WORDS",
    "YES_WORDS",
    "cell_problem",
    "duplicate_ids",
    "facts_table",
    "headed_reasons",
    "id_texts",
    "out_of_range",
    "parse_cell",
    "parse_facts",
    "yes_no_words",
]

ID = "respondent_id"

COMPUTED = ("digital_level_computed",)
"""Facts dmi fills itself (the MIIT level scored from survey answers on the same row): not a
column of the template, never a fact asked for; the codebook lists them, marked ``computed``."""
REJECT_COLUMNS = ["row", "respondent_id", "column", "value", "reason"]
FORMAT = "dmi-cultivation-facts/1"

_CODE = r"^[a-z][a-z0-9_]*$"
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
# 1.0 / 0.0: a yes/no column of 1 and 0 with a blank in it, once pandas has written it
YES_WORDS = ("yes", "是", "y", "1", "1.0", "true", "t", "有", "√", "✓", "✔")
"""The cells a yes/no fact reads as yes (case and width folded); the codebook lists them."""
NO_WORDS = ("no", "否", "n", "0", "0.0", "false", "f", "无", "没有", "×", "✗", "✘")
"""The cells a yes/no fact reads as no (case and width folded); the codebook lists them."""
# "is there one?" answered: yes or no only to a fact said plainly (Fact.negative)
_HAVE = frozenset({"有", "无", "没有"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.zh if lang == "zh" else self.en


def _skip_problem(fact: Fact, codes: Mapping[str, Fact]) -> str | None:
    """What is wrong with a fact's ``skipped_when`` (None: nothing): the other fact must be
    another fact of the table, the value one it can have."""
    rule = fact.skipped_when
    assert rule is not None
    other = codes.get(rule.fact)
    if other is None or other.code == fact.code:
        return f"expected another fact of the table, got {rule.fact!r}"
    value = rule.is_
    if other.type == "category":
        allowed = other.value_codes
    elif other.type == "yesno":
        allowed = ("yes", "no")
    elif other.type == "number":
        if isinstance(value, str):
            return f"expected a number ({other.code} is a number), got {value!r}"
        low = -math.inf if other.min is None else other.min
        high = math.inf if other.max is None else other.max
        if low <= value <= high:
            return None
        bounds = [f"at least {low:g}"] * (other.min is not None)
        bounds += [f"at most {high:g}"] * (other.max is not None)
        return f"expected a value {' and '.join(bounds)} ({other.code}), got {value:g}"
    else:
        return f"expected a category, yes/no or number fact, got {other.code} ({other.type})"
    if value not in allowed:
        return f"expected one of {', '.join(allowed)} ({other.code}), got {value!r}"
    return None


class FactValue(_Strict):
    """One allowed value of a category fact, its labels and the other spellings accepted."""

    value: str = Field(pattern=_CODE)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _words(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: yaml_words(v) for k, v in data.items()}
        return data

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class _SaysIs(_Strict):
    """A model with a field ``is`` (``is_``), which a file may write as YAML's bare yes/no:
    read as the word."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _words(cls, data: Any) -> Any:
        if isinstance(data, dict) and "is" in data:
            data = {**data, "is": yaml_words(data["is"])}
        return data


class SkipRule(_SaysIs):
    """When a fact is not asked: another fact (``fact``) has the value ``is`` (a category's
    value, ``yes``/``no``, or a number). An award's year and rank are not asked of a firm
    without an award: every rule reads them beside the award."""

    fact: str
    is_: str | float = Field(alias="is")


class Fact(_Strict):
    """One fact: a column of the bulk file, a field of the app's form.

    ``type`` is ``id`` (the respondent id), ``text`` (free text: province, sector), ``category``
    (one of ``values``), ``yesno`` or ``number`` (with ``unit``, ``min``/``max`` inclusive and
    ``integer``). ``words`` maps other spellings of a number to it (``三级`` -> 3). ``added``
    marks a fact dmi added to the issue's list because a rule needs it. ``yes_if`` (a yes/no
    fact) names a yes/no fact whose yes stands for this one's when this one is blank (no
    incident in 3 years is none in the last two); a no given stays no. ``fractions_doubtful``
    (a percentage) asks for a note when every value of a file is at most 1: a debt ratio of
    0.45 % is no one's, a market share of 0.8 % is many a firm's. ``negative`` (a yes/no fact)
    marks one said in the negative (未发生…事故): 有 and 无 answer "was there one?", so
    they are refused there, not read as yes and no. ``fixed`` (a yes/no fact) marks one a firm
    cannot change by acting on it now (a past incident, its size, a credit record, its
    products): a condition it fails is a bar, and its gap says so, not "否 → 是".
    ``calendar_year`` (a number) marks a calendar year (an award's), which a rule's window
    counts back from the application year; a number of years (``niche_years``) is not one.
    ``skipped_when`` (:class:`SkipRule`) says when the fact is not asked (the app's form hides
    it, a KoboToolbox form's ``relevant`` skips it): every rule reading it reads the other fact
    beside it, so that its answer there changes no result.
    """

    code: str = Field(pattern=_CODE)
    type: Literal["id", "text", "category", "yesno", "number"]
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    short: Text | None = None
    help: Text | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    values: tuple[FactValue, ...] = ()
    words: dict[str, float] = Field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    added: bool = False
    yes_if: str | None = None
    fractions_doubtful: bool = False
    negative: bool = False
    fixed: bool = False
    calendar_year: bool = False
    skipped_when: SkipRule | None = None

    def skipped(self, given: Mapping[str, Any]) -> bool:
        """Whether the fact is not asked, given the other facts' values (``given``: fact ->
        value as the form holds it; a blank or absent fact skips nothing)."""
        rule = self.skipped_when
        if rule is None:
            return False
        value = given.get(rule.fact)
        if isinstance(rule.is_, str):
            return isinstance(value, str) and value.strip() == rule.is_
        # a number: NaN (blank) equals nothing
        is_number = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
        return is_number and float(value) == rule.is_

    def label(self, lang: str) -> str:
        """The fact's label in ``lang``."""
        return self.zh if lang == "zh" else self.en

    def short_label(self, lang: str) -> str:
        """A short label in ``lang`` (for gap texts), else the label."""
        return self.short.get(lang) if self.short else self.label(lang)

    def value_index(self, value: str) -> int:
        """Position of a category value (its code in the typed columns)."""
        for i, v in enumerate(self.values):
            if v.value == value:
                return i
        raise KeyError(value)

    @property
    def value_codes(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)


class Check(_SaysIs):
    """A check across two facts; a row that breaks it is rejected with ``reason``.

    Either ``fact`` must be at most the fact ``at_most``; or, when ``fact`` is ``is`` (yes/no),
    the number fact ``requires`` must be at least ``at_least``.
    """

    fact: str
    at_most: str | None = None
    is_: Literal["yes", "no"] | None = Field(default=None, alias="is")
    requires: str | None = None
    at_least: float | None = None
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        pair = self.at_most is not None
        implies = self.is_ is not None and self.requires is not None and self.at_least is not None
        if pair == implies:
            raise ValueError("a check has either 'at_most', or 'is', 'requires' and 'at_least'")
        return self


class HeaderUnit(_Strict):
    """The units a header may name for a column of facts in one unit: other names of that unit
    (``same``) and units of its kind, each with how many of that unit one of them is (``per``,
    exact decimal text: ``元: "0.0001"`` for 万元)."""

    same: tuple[str, ...] = ()
    per: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _exact_ratios(self) -> HeaderUnit:
        for unit, ratio in self.per.items():
            try:
                positive = Fraction(ratio) > 0
            except ValueError:
                positive = False
            if not positive:
                raise ValueError(f"per.{unit}: expected a positive decimal number, got {ratio!r}")
        return self


class SurveyProfileFact(_Strict):
    """A profile question of the MIIT survey whose answer gives a fact: in a survey tool's
    export of the survey with no column of the fact's own, the answer (read by the tool's
    layout, as ``dmi score`` reads it) is the fact.

    ``field`` is the survey's profile field (``region``), ``fact`` the fact it gives
    (``province``), ``written_as`` how the answer is written as the fact: ``name`` (a
    choice's Chinese name, 广东省), ``code_name`` (a choice's code and Chinese name, C34
    通用设备制造业) or ``value`` (the answer as given, a number). Written ``as`` in the file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str = Field(pattern=_CODE)
    fact: str
    written_as: Literal["name", "code_name", "value"] = Field(alias="as")


class _FactsSpec(_Strict):
    format: Literal["dmi-cultivation-facts/1"]
    facts: tuple[Fact, ...]
    survey_profile: tuple[SurveyProfileFact, ...] = ()
    header_units: dict[str, HeaderUnit] = Field(default_factory=dict)
    checks: tuple[Check, ...] = ()


class FactsTable:
    """The loaded facts table: every fact by code, in file order, the checks, and the survey's
    profile questions that give a fact (:attr:`survey_profile`)."""

    def __init__(self, spec: _FactsSpec, source: str):
        self.source = source
        self.facts: tuple[Fact, ...] = spec.facts
        self.checks: tuple[Check, ...] = spec.checks
        self.survey_profile: tuple[SurveyProfileFact, ...] = spec.survey_profile
        self.header_units: dict[str, HeaderUnit] = spec.header_units
        self._by_code = {f.code: f for f in spec.facts}

    def __getitem__(self, code: str) -> Fact:
        try:
            return self._by_code[code]
        except KeyError:
            close = _closest(str(code), self.codes) or next(
                (c for c in self.codes if str(code) and c.startswith(str(code))), None
            )
            hint = f"; did you mean {close!r}?" if close else " (FACTS.codes lists them)"
            raise KeyError(f"{code!r} is no fact{hint}") from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self):
        return iter(self.facts)

    def __len__(self) -> int:
        return len(self.facts)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.facts)

    def ratio(self, fact: Fact, unit: str) -> Fraction:
        """How many of the fact's unit one ``unit`` is (1 for its own unit or another name of
        it), for a column whose header names ``unit`` (:data:`header_units`).

        Raises
        ------
        KeyError
            When ``unit`` is not of the fact's kind (a count of people for an amount of money),
            or the fact has no unit.
        """
        own = self.header_units.get(fact.unit or "")
        key = unit_key(unit)
        if fact.unit and key == unit_key(fact.unit):
            return Fraction(1)
        if own is not None:
            if key in {unit_key(u) for u in own.same}:
                return Fraction(1)
            for other, ratio in own.per.items():
                if key == unit_key(other):
                    return Fraction(ratio)
        raise KeyError(unit)

    def units_read(self, fact: Fact) -> list[str]:
        """The units a column of ``fact`` may be given in: its own, then the others."""
        own = self.header_units.get(fact.unit or "")
        if not fact.unit:
            return []
        return [fact.unit, *(own.same if own else ()), *(own.per if own else ())]

    def to_frame(self, lang: str = "zh") -> pd.DataFrame:
        """The table as a frame: code, type, unit, allowed values, label and help."""
        check_lang(lang)
        return pd.DataFrame(
            {
                "code": [f.code for f in self.facts],
                "type": [f.type for f in self.facts],
                "unit": [f.unit or "" for f in self.facts],
                "min": [f.min for f in self.facts],
                "max": [f.max for f in self.facts],
                "values": ["|".join(f.value_codes) for f in self.facts],
                "label": [f.label(lang) for f in self.facts],
                "help": [f.help.get(lang) if f.help else "" for f in self.facts],
                "added": [f.added for f in self.facts],
            }
        )


def parse_facts_table(text: str, source: str) -> FactsTable:
    """Validate a facts table's YAML text; :class:`FactsFileError` names the field."""
    data = load_yaml(text, source, FactsFileError)
    try:
        spec = _FactsSpec.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(describe_location(data, err["loc"]), describe_error(err))
            for err in exc.errors()
        ]
        raise FactsFileError(source, problems) from None
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, fact in enumerate(spec.facts):
        where = f"facts[{i}] (code {fact.code!r})"
        if fact.code in seen:
            problems.append(Problem(where, "code is used twice"))
        seen.add(fact.code)
        if fact.type == "category" and not fact.values:
            problems.append(Problem(where, "a category fact needs 'values'"))
        if fact.type != "category" and fact.values:
            problems.append(Problem(where, "'values' is only for category facts"))
    codes = {f.code: f for f in spec.facts}
    if [f.code for f in spec.facts if f.type == "id"] != [ID]:
        problems.append(Problem("facts", f"exactly one fact of type id, named {ID!r}"))
    for i, fact in enumerate(spec.facts):
        where = f"facts[{i}] (code {fact.code!r})"
        if fact.yes_if is not None and not (
            fact.type == "yesno" and fact.yes_if in codes and codes[fact.yes_if].type == "yesno"
        ):
            problems.append(Problem(f"{where}.yes_if", "a yes/no fact, standing for a yes/no fact"))
        if fact.negative and fact.type != "yesno":
            problems.append(Problem(f"{where}.negative", "only for a yes/no fact"))
        if fact.fixed and fact.type != "yesno":
            problems.append(Problem(f"{where}.fixed", "only for a yes/no fact"))
        if fact.fractions_doubtful and fact.unit != "%":
            problems.append(Problem(f"{where}.fractions_doubtful", "only for a percentage"))
        if fact.skipped_when is not None:
            problem = _skip_problem(fact, codes)
            if problem:
                problems.append(Problem(f"{where}.skipped_when", problem))
    for unit in spec.header_units:
        if not any(f.unit == unit for f in spec.facts):
            problems.append(Problem(f"header_units.{unit}", "no fact is in this unit"))
    for i, check in enumerate(spec.checks):
        where = f"checks[{i}]"
        for name in (check.fact, check.at_most, check.requires):
            if name is not None and name not in codes:
                problems.append(Problem(where, f"unknown fact {name!r}"))
    problems += _survey_profile_problems(spec.survey_profile, codes)
    if problems:
        raise FactsFileError(source, problems)
    return FactsTable(spec, source)


def _survey_profile_problems(
    entries: tuple[SurveyProfileFact, ...], codes: Mapping[str, Fact]
) -> list[Problem]:
    """What is wrong with the table's survey profile entries: a fact unknown, the id or one
    dmi computes, a fact or a field named twice, a way of writing the answer the fact cannot
    hold (a choice's name for a number fact, a number as given for a text fact). A field the
    survey does not have gives no fact (the survey's to say, where it is read)."""
    problems: list[Problem] = []
    fed: dict[str, str] = {}
    fields: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"survey_profile[{i}] (field {entry.field!r})"
        if entry.fact not in codes:
            problems.append(Problem(where, f"unknown fact {entry.fact!r}"))
        elif codes[entry.fact].type == "id" or entry.fact in COMPUTED:
            problems.append(
                Problem(
                    where,
                    f"{entry.fact!r} is not a fact an answer gives (not the id, "
                    "nor one dmi computes)",
                )
            )
        elif entry.written_as == "value" and codes[entry.fact].type != "number":
            problems.append(
                Problem(where, f"as 'value' gives a number, and {entry.fact!r} is no number fact")
            )
        elif entry.written_as != "value" and codes[entry.fact].type != "text":
            problems.append(
                Problem(
                    where,
                    f"as {entry.written_as!r} writes text, and {entry.fact!r} is no text fact",
                )
            )
        if entry.fact in fed:
            problems.append(
                Problem(where, f"{entry.fact!r} is fed by two fields ({fed[entry.fact]!r} too)")
            )
        fed.setdefault(entry.fact, entry.field)
        if entry.field in fields:
            problems.append(Problem(where, "the field is given twice"))
        fields.add(entry.field)
    return problems


@cache
def facts_table() -> FactsTable:
    """The shipped facts table (read once)."""
    resource = DATA.joinpath("facts.yaml")
    return parse_facts_table(resource.read_text(encoding="utf-8"), str(resource))


class _LazyFacts:
    """:data:`FACTS`, read on first use (importing the package reads no file)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(facts_table(), name)

    def __getitem__(self, code: str) -> Fact:
        return facts_table()[code]

    def __contains__(self, code: object) -> bool:
        return code in facts_table()

    def __iter__(self):
        return iter(facts_table())

    def __len__(self) -> int:
        return len(facts_table())

    def __repr__(self) -> str:
        return f"<dmi.eligibility.FACTS: {len(self)} facts>"


FACTS: Any = _LazyFacts()
"""The facts table: ``FACTS["revenue_y1"].unit``, ``for fact in FACTS``, ``FACTS.to_frame()``."""


# -- typed columns ------------------------------------------------------------------------------


@dataclass
class FactColumns:
    """Typed facts of a batch of firms, one numpy array per fact.

    Numbers are float64 with NaN for a missing fact; yes/no facts are 1.0/0.0; category facts
    are the position of their value in the fact's ``values`` (0.0, 1.0 ...). Text facts are
    object arrays (None when missing). A fact without a column is an all-NaN (read-only) array.
    Respondent ids ("" when blank) are an object array, or the Arrow strings of pandas' ``str``
    when they came so from the file (see :func:`_id_column`).
    """

    n: int
    rows: np.ndarray
    ids: np.ndarray | pd.api.extensions.ExtensionArray
    values: dict[str, np.ndarray]
    text: dict[str, np.ndarray]
    given: frozenset[str] = frozenset()
    digital_disagrees: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    percent_signed: dict[str, np.ndarray] = field(default_factory=dict)
    """Per ``fractions_doubtful`` fact given, the cells written with a % sign (``0.45%``):
    percent as written, whatever their size (no fraction of a merged sheet)."""

    def take(self, index: np.ndarray) -> FactColumns:
        """The rows at ``index`` (positions or a boolean mask); columns are taken when read."""
        index = np.asarray(index)
        rows = self.rows[index]
        return FactColumns(
            n=len(rows),
            rows=rows,
            ids=self.ids[index],
            values=_Taken(self.values, index),
            text=_Taken(self.text, index),
            given=self.given,
            digital_disagrees=self.digital_disagrees[index],
            percent_signed=_Taken(self.percent_signed, index),
        )


class _Taken(dict):
    """Some rows of a dict of columns, each column taken the first time it is read."""

    def __init__(self, source: Mapping[str, np.ndarray], index: np.ndarray):
        super().__init__()
        self._source = source
        self._index = index

    def __missing__(self, key: str) -> np.ndarray:
        value = self._source[key][self._index]
        self[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._source

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self._source else default

    def keys(self):  # type: ignore[override]
        return self._source.keys()

    def items(self):  # type: ignore[override]
        return ((k, self[k]) for k in self._source)

    def __iter__(self):
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)


@dataclass
class ParsedFacts:
    """Every row's typed facts, which rows are valid, and every problem of the others."""

    table: FactColumns
    valid: np.ndarray
    rejects: pd.DataFrame
    unmatched_columns: list[str]

    @property
    def n_rows(self) -> int:
        return self.table.n


_ROWS_NAMED = 5
"""Rows a note names (then "..."): enough to find them, short enough to read."""

IMPLAUSIBLE_AMOUNT = 1_000_000
"""An amount in 万元 at or above which it is said to be far beyond an SME (100亿元: five times
the largest SME revenue ceiling, 20亿元 in real estate, 工信部联企业〔2011〕300号): typed in
yuan, likely (5000万元 as 50000000). Taken as given all the same, and said: a file's column
in a note (:class:`FactsTally`), the app's field under it."""


def award_after_year(table: FactColumns, year: int) -> np.ndarray:
    """Per row: an award (not ``none``) whose year is after the application year ``year``,
    which no window of the rules counts (flagged on the row, noted in a run)."""
    award_year = table.values.get("award_year")
    if award_year is None:
        return np.zeros(table.n, dtype=bool)
    with np.errstate(invalid="ignore"):
        later = award_year > year
    award = table.values.get("award")
    if award is not None:
        later &= award != facts_table()["award"].value_index("none")
    return later


RD_OF_REVENUE = (("rd_y1", "revenue_y1"), ("rd_y2", "revenue_y2"))
"""The R&D expense of a year and that year's revenue, of which the R&D shares are taken: an
expense above the revenue is noted (:class:`FactsTally`, :func:`rd_above_revenue`)."""


def rd_above_revenue(rd: Any, revenue: Any) -> Any:
    """Whether a year's R&D expense is above that year's revenue, a share above 100 % (numbers
    or arrays; False where either is missing, and where the revenue is 0 or less: no share is
    taken of it). The file's note and the pre-check's caution both say it by this rule."""
    with np.errstate(invalid="ignore"):
        return (np.asarray(revenue) > 0) & (np.asarray(rd) > np.asarray(revenue))


@dataclass
class FactsTally:
    """What the evaluated rows' facts say about a file as a whole, added up chunk by chunk:
    the things no one cell shows, said as notes (:meth:`notes`), not rejects.

    - A percentage column marked ``fractions_doubtful`` (``debt_ratio``) whose every value
      read (on the rejected rows too) is at most 1, some above 0: likely fractions (0.45 for
      45 %), which are read as percent (0.45 %), so a debt ratio passes every ceiling. (A
      market share of 0.8 % is many a firm's: not marked.) Some such values beside others
      above 1 (85%, 60) are noted too, counted: a sheet merged from two may hold both.
    - Rows that give an id and no fact at all: a note or a footnote under the table, say,
      evaluated as a firm whose every fact is unknown.
    - Rows whose award year is after the application year: the award is outside every window
      (flagged on the row too); the year not given is the policy's first (``--year``).
    - Amounts in 万元 of :data:`IMPLAUSIBLE_AMOUNT` or more (either sign): a column in yuan,
      likely, which would pass every revenue floor; counted per fact (on every row read).
    - Rows whose R&D expense of a year is above that year's revenue (:data:`RD_OF_REVENUE`):
      an R&D share above 100 %, which passes every R&D floor; an R&D column in yuan beside
      revenue in 万元, likely (a firm living on investment may truly spend more, so the row
      is evaluated as given, not rejected).
    - Rows whose province names no unit of ``provinces.yaml`` (粤, 未知, 广东省广州市): their
      own group in a cohort, matched by no province block but one for that very name.

    Attributes
    ----------
    percent_given, percent_above_one, percent_above_zero : dict of str to int
        Per percentage fact, the values given (on every row read), and those above 1 and above 0.
    amount_given, amount_huge : dict of str to int
        Per amount in 万元, the values given (on every row read), and those of
        :data:`IMPLAUSIBLE_AMOUNT` or more.
    id_only : int
        Rows with an id and no fact.
    id_only_rows : list of int
        The first :data:`_ROWS_NAMED` of them (row numbers, ascending).
    award_after_year : int
        Rows whose ``award_year`` is after the application year ``year``.
    award_after_rows : list of int
        The first :data:`_ROWS_NAMED` of them.
    rd_above_revenue : int
        Rows evaluated whose R&D expense is above the revenue of its year.
    rd_above_rows : list of int
        The first :data:`_ROWS_NAMED` of them.
    unplaced : int
        Rows evaluated whose ``province`` names no unit of ``provinces.yaml`` (粤, 未知, a
        city): a cohort counts them under the name as written.
    unplaced_rows : list of int
        The first :data:`_ROWS_NAMED` of them.
    unplaced_names : Counter
        Those names, with how many rows give each.
    year : int or None
        The application year.
    """

    percent_given: dict[str, int] = field(default_factory=dict)
    percent_above_one: dict[str, int] = field(default_factory=dict)
    percent_above_zero: dict[str, int] = field(default_factory=dict)
    amount_given: dict[str, int] = field(default_factory=dict)
    amount_huge: dict[str, int] = field(default_factory=dict)
    id_only: int = 0
    id_only_rows: list[int] = field(default_factory=list)
    award_after_year: int = 0
    award_after_rows: list[int] = field(default_factory=list)
    rd_above_revenue: int = 0
    rd_above_rows: list[int] = field(default_factory=list)
    unplaced: int = 0
    unplaced_rows: list[int] = field(default_factory=list)
    unplaced_names: Counter = field(default_factory=Counter)
    year: int | None = None

    @classmethod
    def of(
        cls, table: FactColumns, year: int | None = None, read: FactColumns | None = None
    ) -> FactsTally:
        """The tally of a batch's typed rows (``table``: the rows evaluated), applying in
        ``year``; the percentage columns are judged on ``read`` when given (every row read,
        rejected ones too, their refused cells blank: the unit is the column's, and a row
        rejected for another fact still shows it)."""
        tally = cls(year=year)
        columns = table if read is None else read
        if year is not None:
            later = np.flatnonzero(award_after_year(table, year))
            tally.award_after_year = len(later)
            tally.award_after_rows = [int(r) for r in np.sort(table.rows[later])[:_ROWS_NAMED]]
        for fact in facts_table():
            if fact.unit == "万元" and fact.code in columns.values:
                values = columns.values[fact.code]
                given = ~np.isnan(values)
                tally.amount_given[fact.code] = int(given.sum())
                tally.amount_huge[fact.code] = int(
                    (np.abs(values[given]) >= IMPLAUSIBLE_AMOUNT).sum()
                )
            if not fact.fractions_doubtful:
                continue
            values = columns.values[fact.code]
            given = ~np.isnan(values)
            signed = columns.percent_signed.get(fact.code)
            # 0.45% written so is percent: only a bare value at most 1 may be a fraction
            small = (values > 0) & (values <= 1) & given
            if signed is not None:
                small &= ~signed
            tally.percent_given[fact.code] = int(given.sum())
            tally.percent_above_one[fact.code] = int((values[given] > 1).sum())
            tally.percent_above_zero[fact.code] = tally.percent_above_one[fact.code] + int(
                small.sum()
            )
        above = np.zeros(table.n, dtype=bool)
        for rd, revenue in RD_OF_REVENUE:
            if rd in table.values and revenue in table.values:
                above |= rd_above_revenue(table.values[rd], table.values[revenue])
        found = np.flatnonzero(above)
        tally.rd_above_revenue = len(found)
        tally.rd_above_rows = [int(r) for r in np.sort(table.rows[found])[:_ROWS_NAMED]]
        if table.text.get("province") is not None:
            found, names = unplaced_provinces(table.text["province"])
            tally.unplaced = len(found)
            tally.unplaced_rows = [int(r) for r in np.sort(table.rows[found])[:_ROWS_NAMED]]
            tally.unplaced_names = names
        # a fact not given is NaN (numbers) or None (text); the computed level counts as given
        nothing = np.ones(table.n, dtype=bool)
        for code in table.values:  # a taken table's columns are taken when read: by key
            if not nothing.any():
                break
            nothing &= np.isnan(table.values[code])
        for code in table.text:
            if not nothing.any():
                break
            nothing &= pd.isna(table.text[code])
        found = np.flatnonzero(nothing)
        tally.id_only = len(found)
        tally.id_only_rows = [int(r) for r in np.sort(table.rows[found])[:_ROWS_NAMED]]
        return tally

    def of_columns(self) -> FactsTally:
        """The tally of the columns alone (the percentage facts' values), without the rows
        counted as evaluated: the rows a bulk run rejected before evaluating them (a repeated
        id) still show a column's unit."""
        return FactsTally(
            percent_given=dict(self.percent_given),
            percent_above_one=dict(self.percent_above_one),
            percent_above_zero=dict(self.percent_above_zero),
            amount_given=dict(self.amount_given),
            amount_huge=dict(self.amount_huge),
            year=self.year,
        )

    def add(self, other: FactsTally) -> FactsTally:
        """This tally with ``other``'s added in (in place; returns self)."""
        for mine, theirs in (
            (self.percent_given, other.percent_given),
            (self.percent_above_one, other.percent_above_one),
            (self.percent_above_zero, other.percent_above_zero),
            (self.amount_given, other.amount_given),
            (self.amount_huge, other.amount_huge),
        ):
            for code, n in theirs.items():
                mine[code] = mine.get(code, 0) + n
        self.id_only += other.id_only
        self.id_only_rows = sorted(self.id_only_rows + other.id_only_rows)[:_ROWS_NAMED]
        self.award_after_year += other.award_after_year
        self.award_after_rows = sorted(self.award_after_rows + other.award_after_rows)[:_ROWS_NAMED]
        self.rd_above_revenue += other.rd_above_revenue
        self.rd_above_rows = sorted(self.rd_above_rows + other.rd_above_rows)[:_ROWS_NAMED]
        self.unplaced += other.unplaced
        self.unplaced_rows = sorted(self.unplaced_rows + other.unplaced_rows)[:_ROWS_NAMED]
        self.unplaced_names.update(other.unplaced_names)
        self.year = self.year if other.year is None else other.year
        return self

    def firm_notes(self) -> list[str]:
        """The notes of one firm's facts (a tally of one row), worded for a firm, not a file
        (English, as the library's reasons are)."""
        notes = []
        for code, given in self.percent_given.items():
            above_one = self.percent_above_one.get(code, 0)
            if given and self.percent_above_zero.get(code, 0) > above_one:
                notes.append(
                    f"{code}: the value given is at most 1, read as percent (0.45 is 0.45%); if "
                    "it is a fraction (0.45 for 45%), multiply it by 100"
                )
        for code, huge in self.amount_huge.items():
            if huge:
                notes.append(
                    f"{code}: the value given is {IMPLAUSIBLE_AMOUNT}万元 "
                    f"({IMPLAUSIBLE_AMOUNT // 10_000}亿元) or more, far beyond an SME, taken as "
                    "given; amounts are in 万元"
                )
        if self.rd_above_revenue:
            notes.append(
                "the R&D expense is above the year's revenue: an R&D share above 100%, taken as "
                "given; amounts are in 万元"
            )
        if self.award_after_year:
            notes.append(
                f"the award year is after the application year {self.year}: outside every award "
                "window, and flagged; the application year is the policy's first unless one is "
                "given (year=)"
            )
        return notes

    def notes(self, year_option: str = "--year", export: bool = False) -> list[str]:
        """The notes of the whole file (English, as the library's reasons are); a year is
        given with ``year_option`` (the command's ``--year``, the API's ``year=``). In a survey
        tool's ``export``, a row with an id and no fact is a respondent who answered none of
        the facts' questions (not a note in the id column, as a spreadsheet's may be)."""
        notes = []
        for code, given in self.percent_given.items():
            above_one = self.percent_above_one.get(code, 0)
            small = self.percent_above_zero.get(code, 0) - above_one  # in (0, 1]
            if given and small and not above_one:
                values = "the value given is" if given == 1 else f"all {given} values given are"
                notes.append(
                    f"{code}: {values} at most 1, read as percent (0.45 is 0.45%); if the "
                    "column holds fractions (0.45 for 45%), multiply it by 100"
                )
            elif small:  # beside values above 1 (85%, 60): likely fractions of a merged sheet
                verb = "is" if small == 1 else "are"
                notes.append(
                    f"{code}: {small} of the {given} values given {verb} at most 1 (above 0), "
                    "read as percent (0.45 is 0.45%); if they are fractions (0.45 for 45%), "
                    "multiply them by 100"
                )
        for code, given in self.amount_given.items():
            huge = self.amount_huge.get(code, 0)
            if huge:
                if huge == given:
                    which = "the value given is" if given == 1 else f"all {given} values given are"
                else:
                    which = f"{huge} of the {given} values given {'is' if huge == 1 else 'are'}"
                yi = IMPLAUSIBLE_AMOUNT // 10_000  # 亿元
                notes.append(
                    f"{code}: {which} {IMPLAUSIBLE_AMOUNT}万元 ({yi}亿元) or more, far beyond an "
                    "SME, taken as given; amounts are in 万元: a column in yuan is converted when "
                    "its header names the unit (营业收入（元）)"
                )
        if self.id_only:
            notes.append(
                f"{counted(self.id_only, 'row')} with an id and no fact "
                f"({_rows_named(self.id_only, self.id_only_rows)}): evaluated with every fact "
                + (
                    "unknown (respondents who answered none of the facts' questions)"
                    if export
                    else "unknown (a note or a footnote in the id column?)"
                )
            )
        if self.award_after_year:
            n = self.award_after_year
            notes.append(
                f"{counted(n, 'row')} give{'s' if n == 1 else ''} an award year after the "
                f"application year {self.year} ({_rows_named(n, self.award_after_rows)}): "
                "outside every award window, and flagged; the application year is the policy's "
                f"first unless one is given ({year_option})"
            )
        if self.rd_above_revenue:
            n = self.rd_above_revenue
            notes.append(
                f"{counted(n, 'row')} give{'s' if n == 1 else ''} an R&D expense above the year's "
                f"revenue ({_rows_named(n, self.rd_above_rows)}): an R&D share above 100%, "
                "taken as given; amounts are in 万元: an R&D column in yuan is converted when its "
                "header names the unit (研发费用（元）)"
            )
        if self.unplaced:
            n = self.unplaced
            ranked = sorted(self.unplaced_names.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = ", ".join(f"{name} ×{count}" for name, count in ranked[:_NAMES_SHOWN])
            shown += ", ..." if len(ranked) > _NAMES_SHOWN else ""
            notes.append(
                f"province: {counted(n, 'row')} name{'s' if n == 1 else ''} no unit of "
                f"provinces.yaml ({shown}; {_rows_named(n, self.unplaced_rows)}): a cohort "
                "counts them under the name as written, and only a rule file's block for that "
                "name applies to them (a province, a 计划单列市 or the Corps is expected: "
                "广东, 广东省, Guangdong, 44)"
            )
        return notes


_NAMES_SHOWN = 5


def _rows_named(n: int, first: list[int]) -> str:
    """The first of ``n`` rows by number: ``row 2``, ``rows 2, 5``, ``rows 2, 5 ...`` (more)."""
    listed = ", ".join(str(r) for r in first)
    return f"row {listed}" if n == 1 else f"rows {listed}{' ...' if n > len(first) else ''}"


def _text(value: Any) -> str | None:
    """A cell as trimmed folded text (:func:`dmi.text.folded`: full-width forms, typographic
    quotes, invisible characters), None when blank."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, np.floating):
        return _text(float(value))
    text = folded(str(value)).strip()
    return text or None


def _number(text: str, percent: bool) -> float | None:
    # the minus sign (U+2212) as typeset text writes it, which NFKC leaves as it is (it folds
    # the full-width and small hyphen-minus)
    t = text.replace("\u2212", "-")
    if percent and t.endswith("%"):
        t = t[:-1].rstrip()
    if " " in t:
        # a space only between groups of three digits (1 000, as in SI): "1 0" is two numbers
        # or a typo, never 10
        t = t.replace(" ", ",")
        if not _THOUSANDS.match(t):
            return None
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        return None
    number = float(t)
    if not math.isfinite(number):
        return None
    # at most 15 significant digits read back as themselves (see _text_numbers): a shorter
    # text needs no rounding
    return spreadsheet_number(number) if len(t) >= 16 else number


SPREADSHEET_DIGITS = 15
"""The significant digits a number of a fact is read to: those a spreadsheet keeps and shows
(Excel's 15). A formula's float error lies below them (550 / 1000 * 100 is 55.00000000000001,
=0.3*10 is 3.0000000000000004), so the number read is the one the cell shows and the firm
means: a debt ratio of exactly 55 % meets "at most 55 %", a count is whole."""


def spreadsheet_number(number: float) -> float:
    """``number`` rounded to :data:`SPREADSHEET_DIGITS` significant digits (``%.15g``)."""
    return float(f"{number:.{SPREADSHEET_DIGITS}g}")


_POWERS_OF_TEN = 10.0 ** np.arange(0, 23)  # each exact in float64
_DECADES = np.array([float(f"1e{e}") for e in range(-7, 15)])  # 1e-7 ... 1e14, as floats


def spreadsheet_numbers(values: np.ndarray) -> np.ndarray:
    """``values`` rounded as :func:`spreadsheet_number` rounds one (a new array; NaN kept).

    The speed trick, for whole columns: between 1e-7 and 1e15 (every amount, share and count
    a firm gives), ``rint(v * 10**k) / 10**k`` with ``k`` the decimals of 15 significant
    digits (the decade of ``v`` found among the floats 1e-7 ... 1e14, exactly): the scaled
    value is below 1e15, so it is off the exact product by at most 1/16 and its integer is
    the right one unless the product is that close to a half, where the exact product decides
    (:func:`_exact_product_above`); dividing that integer by an exact power of ten rounds
    correctly. Numbers outside the span (rare) are rounded one by one.
    """
    values = np.asarray(values, dtype=np.float64)
    size = np.abs(values)
    usual = (size >= _DECADES[0]) & (size < 1e15)
    decade = np.searchsorted(_DECADES, size, side="right") - 1  # 0 for 1e-7 ... 21 for 1e14
    scale = _POWERS_OF_TEN[np.clip(SPREADSHEET_DIGITS + 6 - decade, 0, 22)]
    taken = np.where(usual, values, 0.0)
    scaled = taken * scale
    whole = np.rint(scaled)
    near = np.flatnonzero(np.abs(np.abs(scaled - whole) - 0.5) <= 0.0625)
    if len(near):
        low = np.floor(scaled[near])
        above = _exact_product_above(taken[near], scale[near], low + 0.5)
        tie = above == 0  # a half exactly: to the even one, as decimal formatting rounds
        up = (above > 0) | (tie & (low % 2 == 1))
        whole[near] = low + up
    out = np.where(usual, whole / scale, values)
    other = np.flatnonzero(~usual & np.isfinite(values) & (values != 0))
    if len(other):
        out[other] = [spreadsheet_number(v) for v in values[other].tolist()]
    return out


def _exact_product_above(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The sign of ``a * b - c`` in exact arithmetic, where ``c`` is within 1/8 of the float
    product (Dekker's error-free product: the float product plus its exact error)."""
    product = a * b
    a_hi, a_lo = _halves(a)
    b_hi, b_lo = _halves(b)
    error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    # product - c is exact (they are that close); adding the error keeps its sign
    return np.sign((product - c) + error)


def _halves(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp's split of each float into two of 26 bits that add up to it exactly."""
    spread = x * 134217729.0  # 2**27 + 1
    high = spread - (spread - x)
    return high, x - high


_Parsed = tuple[float, str | None]  # (value or NaN, reason when bad)


BARE_NUMBER = r"(\d+)(?:\.0+)?"
"""A whole number alone, with zero decimals or not (``3``, ``1.00``): how 问卷星's option-number
export writes an answer, and a spreadsheet's 0.00 format a 1 / 0 column."""
_OPTION_NUMBER = re.compile(BARE_NUMBER)
NUMBERED_OPTION = (
    "an option number of 问卷星's 按选项序号 export: expected the answer's text, as its "
    "按选项文本 export writes it"
)
"""The reason of a bare number in a category, yes/no or text fact of a 问卷星 export: its number
export writes an answer as the option's position in the question (1 is the first option, 否
as often as 是), which only the questionnaire can tell."""


def _is_option_number(text: str) -> bool:
    """Whether a cell is a bare number, what a 问卷星 number export writes for an answer
    (:data:`NUMBERED_OPTION`)."""
    return _OPTION_NUMBER.fullmatch(text) is not None


def _trailing_zeros_off(word: str) -> str:
    """A whole number written with decimals (``1.00``, as a spreadsheet's 0.00 format exports
    a 1 / 0 column) as its digits (``1``), which the yes/no and category words hold."""
    whole = _OPTION_NUMBER.fullmatch(word)
    return word if whole is None else whole.group(1)


def yes_no_words(fact: Fact) -> dict[str, tuple[str, ...]]:
    """The cells a yes/no fact reads as ``yes`` and as ``no`` (:data:`YES_WORDS`,
    :data:`NO_WORDS`; case and width folded): without 有/无/没有 for a fact said in the
    negative (``Fact.negative``), which refuses them. The reader and the codebook use this."""
    refused = _HAVE if fact.negative else frozenset()
    return {
        "yes": tuple(w for w in YES_WORDS if w not in refused),
        "no": tuple(w for w in NO_WORDS if w not in refused),
    }


def parse_cell(fact: Fact, cell: Any) -> float | None:
    """One cell of ``fact`` read as a file's cell is read (``1,200`` staff is 1200, ``是`` is
    yes): its value as the facts' columns hold it (a category by its position, yes as 1.0),
    None when the cell is blank or the fact refuses it (120.5 staff, ``很多``)."""
    text = _text(cell)
    if text is None:
        return None
    value, reason = _cell_parser(fact)(text)
    return None if reason is not None or math.isnan(value) else float(value)


def cell_problem(fact: Fact, cell: Any) -> tuple[str, str] | None:
    """Why ``fact`` refuses one cell, as a file's column of it would (:func:`parse_cell`):
    the cell as text and the reason (``("120.5", "expected a whole number")`` for staff);
    None when the cell is blank or read."""
    text = _text(cell)
    if text is None:
        return None
    _, reason = _cell_parser(fact)(text)
    return None if reason is None else (text, reason)


def _cell_parser(fact: Fact, numbered_options: bool = False):
    """A function text -> (value, reason) for one fact: run once per distinct cell.

    ``numbered_options``: the file may write an answer as its option's number
    (:data:`NUMBERED_OPTION`): a bare number in a category or yes/no fact is refused, not read
    as an alias (``1`` is yes); a text fact's are refused by :func:`_text_cells`.
    """
    if numbered_options and fact.type in ("yesno", "category"):
        plain = _cell_parser(fact)

        def parse_numbered(text: str) -> _Parsed:
            if _is_option_number(text):
                return math.nan, NUMBERED_OPTION
            return plain(text)

        return parse_numbered
    if fact.type == "yesno":
        said = yes_no_words(fact)
        yes, no = frozenset(said["yes"]), frozenset(said["no"])

        def parse(text: str) -> _Parsed:
            word = _trailing_zeros_off(text.casefold())
            if fact.negative and word in _HAVE:
                return math.nan, (
                    f"{text} is unclear for a fact said in the negative ({fact.zh}): "
                    "expected yes (是) or no (否)"
                )
            if word in yes:
                return 1.0, None
            if word in no:
                return 0.0, None
            return math.nan, "expected yes or no"

        return parse
    if fact.type == "category":
        lookup: dict[str, float] = {}
        for i, v in enumerate(fact.values):
            for spelling in (v.value, v.zh, v.en, *v.aliases):
                lookup[folded(spelling).strip().casefold()] = float(i)
        expected = "expected one of: " + ", ".join(fact.value_codes)

        def parse(text: str) -> _Parsed:
            code = lookup.get(_trailing_zeros_off(text.casefold()))
            return (code, None) if code is not None else (math.nan, expected)

        return parse

    # a word in any case and spacing (Level 3, level  3, Level3), as the app shows it
    words = {"".join(folded(k).casefold().split()): v for k, v in fact.words.items()}
    expected = _expected_number(fact)

    def parse(text: str) -> _Parsed:
        number = words.get("".join(text.casefold().split())) if words else None
        if number is None:
            number = _number(text, fact.unit == "%")
        if number is None:
            return math.nan, _with_unit_problem(fact, text) or expected
        return number, _range_problem(fact, number)

    return parse


@cache
def _unit_after() -> re.Pattern[str]:
    """A number with a unit written after it (``120人``, ``1500万元``): a unit of a fact or
    one a header may name (the facts table's, :meth:`FactsTable.units_read`), but % (a
    percentage's own sign, read with its number; ``12%`` is no amount)."""
    table = facts_table()
    units = {u for fact in table for u in table.units_read(fact)} - {"%"}
    alternatives = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    return re.compile(rf"[-+]?[\d.,]*\d\s*(?P<unit>{alternatives})", re.IGNORECASE)


def _with_unit_problem(fact: Fact, text: str) -> str | None:
    """The reason of a number cell written with a unit after it (``120人``, ``1500元``), or
    None: the number alone is asked for, and a unit other than the column's is said to go in
    its header (removed from the cell, 1500 under a 万元 header is 1500万元)."""
    found = _unit_after().fullmatch(text)
    if found is None:
        return None
    kind = "a whole number" if fact.integer else "a number"
    written = found["unit"]
    reason = f"expected {kind} alone, without the unit after it ({written})"
    if fact.unit:
        try:
            ratio = facts_table().ratio(fact, written)
        except KeyError:  # a unit of another kind (3项 of staff)
            return f"{reason}; the column is in {fact.unit}"
        if ratio != 1:  # written alone, 1500 under its header would be 1500万元
            reason += f"; the column is in {fact.unit}: a column in {written} names it in "
            reason += "its header"
    return reason


def _expected_number(fact: Fact) -> str:
    """The reason of a cell that is no number of ``fact`` (``expected a number (万元)``); a
    fact with words (``Fact.words``) names its range and its words, all it takes besides
    numbers (``三级及以上`` is none of them)."""
    kind = "a whole number" if fact.integer else "a number"
    said = unit_text(fact.unit, "en")  # the library's reasons are English
    if not fact.words:
        return f"expected {kind}{f' ({said})' if said else ''}"
    unit = f" {said}" if said else ""
    if fact.min is not None and fact.max is not None:
        kind += f" from {_show(fact.min)} to {_show(fact.max)}{unit}"
    elif fact.min is not None:
        kind += f" of at least {_show(fact.min)}{unit}"
    elif fact.max is not None:
        kind += f" of at most {_show(fact.max)}{unit}"
    return f"expected {kind}, or one of: {', '.join(fact.words)}"


_UNIT_WORDS = {
    "en": {"人": "", "项": "", "年": "", "分": "", "级": "", "名": ""},
    "zh": {"名": ""},
}
"""The units said in each language: a count's Chinese measure word (人, 项 ...) is not said in
English; a rank (名) in neither."""


def unit_key(unit: str) -> str:
    """A unit as headers are matched (width, case and spaces folded: ％ is %)."""
    return match_key(unit)


def unit_text(unit: str | None, lang: str) -> str:
    """A fact's unit as said in ``lang`` ("" for none): 万元 and % as they are."""
    if not unit:
        return ""
    return _UNIT_WORDS["en" if lang != "zh" else "zh"].get(unit, unit)


A_YEAR_NOT_YEARS = "(a year? expected the number of years)"
"""Said after the reason of a count of years above its maximum that reads as a calendar year:
a niche market entered in 2019 is often written 2019 where the years in it are asked."""
_CALENDAR_YEARS = (1900, 2100)


def _range_problem(fact: Fact, number: float) -> str | None:
    said = unit_text(fact.unit, "en")  # the library's reasons are English
    unit = f" {said}" if said else ""
    if fact.integer and not float(number).is_integer():
        return f"expected a whole number{f' ({said})' if said else ''}"
    if not out_of_range(fact, number):
        return None
    if fact.min is not None and number < fact.min:
        return f"{_show(number)} is below the minimum {_show(fact.min)}{unit}"
    above = f"{_show(number)} is above the maximum {_show(fact.max)}{unit}"
    low, high = _CALENDAR_YEARS
    if fact.unit == "年" and float(number).is_integer() and low <= number <= high:
        return f"{above} {A_YEAR_NOT_YEARS}"
    return above


def out_of_range(fact: Fact, number: float) -> bool:
    """Whether a number is below its fact's minimum or above its maximum."""
    return (fact.min is not None and number < fact.min) or (
        fact.max is not None and number > fact.max
    )


def _show(number: float) -> str:
    """A number as a reason shows it: a whole one without ``.0``, a huge one as ``1e+308``
    (not its 309 digits)."""
    value = float(number)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


class _Rejects:
    """Problems collected column by column (pandera-style), turned into one table at the end."""

    def __init__(self, n: int):
        self.bad = np.zeros(n, dtype=bool)
        self.positions: list[np.ndarray] = []
        self.columns: list[str] = []
        self.values: list[Any] = []
        self.reasons: list[str] = []

    def add(
        self, positions: np.ndarray, column: str, values: Sequence[Any], reasons: Sequence[str]
    ) -> None:
        if len(positions) == 0:
            return
        self.bad[positions] = True
        self.positions.append(np.asarray(positions, dtype=np.int64))
        self.columns.extend([column] * len(positions))
        self.values.extend(values)
        self.reasons.extend(reasons)

    def table(self, rows: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
        if not self.positions:
            return pd.DataFrame(
                {c: pd.Series(dtype="int64" if c == "row" else "object") for c in REJECT_COLUMNS}
            )
        positions = np.concatenate(self.positions)
        frame = pd.DataFrame(
            {
                "row": rows[positions],
                "respondent_id": np.asarray(ids[positions], dtype=object),
                "column": self.columns,
                "value": ["" if v is None else str(v) for v in self.values],
                "reason": self.reasons,
            }
        )
        return frame.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def _numeric_column(column: pd.Series) -> np.ndarray | None:
    """A column's values as float64 (NaN for missing) when its dtype is numeric, or when it
    holds Python numbers alone (a Parquet file's or a workbook's column as the reader gives
    it: read whole, not number by number), else None."""
    dtype = column.dtype
    if pd.api.types.is_object_dtype(dtype):
        return _object_numbers(column)
    if (
        pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_complex_dtype(dtype)  # 81+5j is no amount: read as text, refused
        or not pd.api.types.is_numeric_dtype(dtype)
    ):
        return None
    if dtype == np.float64:
        return column.to_numpy(copy=False)
    held = np.dtype(getattr(dtype, "numpy_dtype", dtype))  # pandas' Float32, Arrow's float
    if held.kind == "f" and held.itemsize < 8:
        # a float32 holds 128.64 as 128.63999938964844: read as the number it stands for (its
        # shortest decimal), or an R&D share of exactly 3 % fell below it
        narrow = column.to_numpy(dtype=held, na_value=np.nan)
        return narrow.astype(str).astype(np.float64)
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float"})
"""What pandas infers of a column of numbers alone (blanks aside): a bool, a complex number, a
decimal or text among them is another kind."""


def _object_numbers(column: pd.Series) -> np.ndarray | None:
    """An object column of numbers and blanks as float64; None when a cell is anything else
    (text, a bool, a complex number, a decimal, an integer beyond 64 bits: read cell by cell).

    The kind of every cell is checked first: Arrow, left to infer a type, takes it from the
    first cells and casts the others to it (``[12.5, True]`` was ``[12.5, 1.0]``, ``[3, 1.5]``
    as numpy scalars ``[3, 1]``)."""
    import pyarrow as pa

    if pd.api.types.infer_dtype(column, skipna=True) not in _NUMBER_KINDS:
        return None
    try:
        array = pa.array(column, type=pa.float64(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)


_PLAIN_NUMBER = r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$"
"""A number written plainly in ASCII (what :data:`_NUMBER` accepts of ASCII text): Arrow's
parse of these is Python's, so they need no Python call each."""


def _cast_numbers(trimmed: Any, plain: Any) -> Any:
    """Arrow's float64 of the cells of ``trimmed`` (Arrow strings); only the ``plain`` ones count.

    The speed trick of :func:`_text_numbers`: a column of plain numbers and blanks (nearly
    every column of a real file) is cast whole, blanks made null, which costs a fifth of
    blanking the cells that are not plain first; the cast is cell by cell, so a plain cell's
    value is the same either way. Where Arrow refuses some cell of the whole column, only the
    plain cells are cast. None when Arrow refuses a plain cell.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    null = pa.scalar(None, trimmed.type)
    try:
        return pc.cast(pc.if_else(pc.equal(trimmed, ""), null, trimmed), pa.float64())
    except pa.ArrowInvalid:
        pass
    try:
        return pc.cast(pc.if_else(plain, trimmed, null), pa.float64())
    except pa.ArrowInvalid:
        return None


def _whole_column_numbers(
    array: Any, fact: Fact
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(values, fast, blank)`` of a column of text that Arrow casts whole, its empty cells
    made null (``fast``: the values taken as they are); None when Arrow refuses some cell.

    The speed trick of :func:`_text_numbers` for the usual column (plain numbers and empty
    cells): no trimming and no pattern per cell. Arrow's cast takes exactly the plain ASCII
    decimals and the spellings of NaN and infinity (no spaces, no ``1_000``, no other
    digits), so its finite values are the plain numbers :func:`_parse_column` would give;
    the non-finite ones (``nan``, ``inf``, ``1e400``) and a fact's own spellings go to the
    per-cell parser as before.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        parsed = pc.cast(
            pc.if_else(pc.equal(array, ""), pa.scalar(None, array.type), array), pa.float64()
        )
    except pa.ArrowInvalid:
        return None
    values = parsed.to_numpy(zero_copy_only=False, writable=True)
    blank = parsed.is_null().to_numpy(zero_copy_only=False)
    fast = np.isfinite(values)
    if fact.words:
        spelled = pa.array(list(fact.words), type=array.type)
        fast &= ~pc.is_in(array, value_set=spelled).fill_null(False).to_numpy(zero_copy_only=False)
    return values, fast, blank


def _plain_cell_numbers(array: Any, fact: Fact) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(values, fast, blank)`` of a column of text some cell of which Arrow refuses: the
    cells that are a plain ASCII number once trimmed, cast by Arrow (see :func:`_cast_numbers`);
    None when Arrow refuses one of those."""
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(array)
    plain = pc.match_substring_regex(trimmed, _PLAIN_NUMBER).fill_null(False)
    if fact.words:
        spelled = pa.array(list(fact.words), type=trimmed.type)
        plain = pc.and_(plain, pc.invert(pc.is_in(trimmed, value_set=spelled)))
    parsed = _cast_numbers(trimmed, plain)
    if parsed is None:
        return None
    values = parsed.to_numpy(zero_copy_only=False, writable=True)
    fast = plain.to_numpy(zero_copy_only=False) & np.isfinite(values)
    blank = pc.equal(trimmed, "").fill_null(True).to_numpy(zero_copy_only=False)
    return values, fast, blank


def _text_numbers(column: pd.Series, fact: Fact, rejects: _Rejects) -> np.ndarray | None:
    """A number fact's column of text (what a CSV gives) as float64, vectorised.

    The fast path of :func:`_parse_column`, same values and same problems: the cells that are
    a plain ASCII number once trimmed are parsed by Arrow in one call (no Python per cell,
    which costs seconds a column on a million rows: amounts are nearly all distinct); blank
    cells are missing; the few others (``1,500``, ``35%``, full-width digits, ``三级``, bad
    text) go through the per-distinct-cell parser. None when the column is not text.
    """
    if not (column.dtype == object or isinstance(column.dtype, pd.StringDtype)):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # mixed objects; a huge int
        return None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_null(array.type):
        return np.full(len(column), np.nan)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return None
    found = _whole_column_numbers(array, fact) or _plain_cell_numbers(array, fact)
    if found is None:  # Arrow refuses a cell Python takes: all by the slow path
        return None
    values, fast, blank = found
    values[~fast] = np.nan
    # a number of at most 15 significant digits reads back as itself (IEEE double's 15 decimal
    # digits): only a text of 16 characters or more can be changed
    long = pc.greater_equal(pc.utf8_length(array), 16).fill_null(False)
    longer = np.flatnonzero(fast & long.to_numpy(zero_copy_only=False))
    if len(longer):
        values[longer] = spreadsheet_numbers(values[longer])
    rest = np.flatnonzero(~fast & ~blank)
    if len(rest):
        values[rest] = _parse_column(column.iloc[rest].reset_index(drop=True), fact, rejects, rest)
    # the range of the numbers parsed by Arrow (problems are rare: worded one by one)
    bad = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        if fact.min is not None:
            bad |= values < fact.min
        if fact.max is not None:
            bad |= values > fact.max
        if fact.integer:
            bad |= values != np.floor(values)
    bad &= fast
    positions = np.flatnonzero(bad)
    if len(positions):
        shown = pc.utf8_trim_whitespace(array.take(pa.array(positions))).to_pylist()
        reasons = [_range_problem(fact, float(v)) or "" for v in values[positions]]
        rejects.add(positions, fact.code, shown, reasons)
        values[positions] = np.nan
    return values


def _parse_column(
    column: pd.Series,
    fact: Fact,
    rejects: _Rejects,
    at: np.ndarray | None = None,
    numbered_options: bool = False,
) -> np.ndarray:
    """One fact's column as float64, every bad cell added to ``rejects``.

    ``at`` places the column's cells in the batch (the rows of a subset), for the rejects;
    ``numbered_options`` as :func:`_cell_parser`.
    """
    n = len(column)
    # a column of numbers first: an object column's kind is told without Arrow's conversion
    numeric = _numeric_column(column) if fact.type == "number" else None
    if numeric is None and fact.type == "number" and at is None:
        found = _text_numbers(column, fact, rejects)
        if found is not None:
            return found
    if numeric is not None:
        values = spreadsheet_numbers(numeric)
        finite = np.isfinite(values) | np.isnan(values)
        bad = ~finite
        checks = []
        if fact.min is not None:
            checks.append(values < fact.min)
        if fact.max is not None:
            checks.append(values > fact.max)
        if fact.integer:
            with np.errstate(invalid="ignore"):
                checks.append(~np.isnan(values) & (values != np.floor(values)))
        for mask in checks:
            bad |= mask
        positions = np.flatnonzero(bad)
        if len(positions):
            cells = values[positions]
            reasons = [_range_problem(fact, float(v)) or "expected a finite number" for v in cells]
            rejects.add(
                positions if at is None else at[positions],
                fact.code,
                [_show(float(v)) for v in cells],
                reasons,
            )
            values[positions] = np.nan  # a new array (spreadsheet_numbers')
        return values
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        uniques = list(column.cat.categories)
    else:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        uniques = list(uniques)
        if column.dtype == object and any(isinstance(u, (bool, np.bool_)) for u in uniques):
            # Python counts True == 1: factorise bools apart from numbers, by their text
            cells = np.array([_text(v) for v in column.to_numpy(dtype=object)], dtype=object)
            codes, uniques = pd.factorize(cells, use_na_sentinel=True)
            uniques = list(uniques)
    parse = _cell_parser(fact, numbered_options)
    table = np.full(len(uniques) + 1, np.nan)  # the last slot: blank cells (code -1)
    bad_codes: dict[int, tuple[str, str]] = {}
    for i, cell in enumerate(uniques):
        text = _text(cell)
        if text is None:
            continue
        value, reason = parse(text)
        if reason is not None:
            bad_codes[i] = (text, reason)
        else:
            table[i] = value
    codes = np.asarray(codes, dtype=np.intp)
    values = table[codes]  # -1 picks the last slot: NaN
    if bad_codes:
        is_bad = np.zeros(len(uniques) + 1, dtype=bool)
        is_bad[list(bad_codes)] = True
        positions = np.flatnonzero(is_bad[codes])
        pos_codes = codes[positions].tolist()
        rejects.add(
            positions if at is None else at[positions],
            fact.code,
            [bad_codes[c][0] for c in pos_codes],
            [bad_codes[c][1] for c in pos_codes],
        )
    assert len(values) == n
    return values


def _percent_signed(column: pd.Series) -> np.ndarray:
    """Which cells of a column are text written with a % sign (``0.45%``, ``45 ％``: a number
    is read only with the sign after it); a column of numbers has none. Arrow's strings are
    searched by an Arrow kernel (a CSV's column: no copy, no Python call a cell)."""
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return np.zeros(len(column), dtype=bool)
    array = column.array
    if isinstance(array, pd.arrays.ArrowStringArray):
        import pyarrow.compute as pc

        arrow = array._pa_array
        signed = pc.or_(pc.match_substring(arrow, "%"), pc.match_substring(arrow, "％"))
        return np.asarray(signed.fill_null(False), dtype=bool)
    return column.astype("str").str.contains("[%％]", regex=True, na=False).to_numpy(dtype=bool)


def _one_value_each(
    column: pd.Series, code: str, rejects: _Rejects
) -> tuple[pd.Series, np.ndarray]:
    """``column`` with its cells that hold more than one value (a list, a dict, a set, an
    array: what a frame built in Python may hold) rejected and blanked, the others as they
    are; and a mask of those cells.

    Only a column of mixed objects is looked at cell by cell (pandas' ``infer_dtype`` says
    which, without a Python call per cell)."""
    several = np.zeros(len(column), dtype=bool)
    if column.dtype != object or not pd.api.types.infer_dtype(column, skipna=True).startswith(
        "mixed"
    ):
        return column, several
    several[:] = [not pd.api.types.is_scalar(v) for v in column.to_numpy(dtype=object)]
    if not several.any():
        return column, several
    positions = np.flatnonzero(several)
    cells = column.to_numpy(dtype=object)[positions]
    rejects.add(
        positions,
        code,
        [_shown_object(v) for v in cells],
        [f"expected one value (a number or text), got a {type(v).__name__}" for v in cells],
    )
    return column.where(~several, None), several


def _shown_object(value: Any) -> str:
    """A cell that is no single value, as the rejects show it (at most 200 characters)."""
    shown = repr(value)
    return shown if len(shown) <= 200 else shown[:199] + "…"


def _parse_in_unit(column: pd.Series, fact: Fact, unit: str, rejects: _Rejects) -> np.ndarray:
    """A number fact's column written in another unit of its kind, in the fact's unit.

    The cells are checked in the unit they are written in (a debt ratio's 100 % is 1000 ‰),
    then converted and rounded to a millionth (a hundredth of a 元 in 万元): 0.36 亿元 is
    3600 万元, not 3600.0000000000005.
    """
    try:
        ratio = facts_table().ratio(fact, unit)
    except KeyError:
        raise ParameterError(
            f"{fact.code}: a column in {unit} cannot be read; expected "
            f"{', '.join(facts_table().units_read(fact)) or 'no unit'}",
            parameter="units",
        ) from None
    if ratio == 1:
        return _parse_column(column, fact, rejects)
    written_in = fact.model_copy(
        update={
            "unit": unit,
            "min": None if fact.min is None else float(Fraction(fact.min) / ratio),
            "max": None if fact.max is None else float(Fraction(fact.max) / ratio),
        }
    )
    values = _parse_column(column, written_in, rejects)
    with np.errstate(over="ignore"):
        converted = np.round(values * ratio.numerator / ratio.denominator, 6)
    beyond = np.flatnonzero(np.isinf(converted))  # 1e305 亿元 is no float in 万元
    if len(beyond):
        rejects.add(
            beyond,
            fact.code,
            [_show(float(v)) for v in values[beyond]],
            [f"too large to be read in {fact.unit}: expected a finite number"] * len(beyond),
        )
        converted[beyond] = np.nan
    return converted


def _text_column(column: pd.Series) -> np.ndarray:
    """Cells as trimmed folded text (None when blank): each distinct cell folded once."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    table = np.array([_text(u) for u in uniques] + [None], dtype=object)
    return table[np.asarray(codes, dtype=np.intp)]


def _text_cells(
    column: pd.Series, fact: Fact, rejects: _Rejects, numbered_options: bool
) -> np.ndarray:
    """A text fact's cells (:func:`_text_column`); with ``numbered_options``, a bare number is
    an option's place in its question (a province question's 22nd option is no province code
    22): refused (:data:`NUMBERED_OPTION`), each distinct cell matched once."""
    cells = _text_column(column)
    if not numbered_options:
        return cells
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    bare = np.array([_is_option_number(u) for u in uniques] + [False], dtype=bool)
    at = np.flatnonzero(bare[np.asarray(codes, dtype=np.intp)])
    if len(at):
        rejects.add(at, fact.code, cells[at].tolist(), [NUMBERED_OPTION] * len(at))
        cells[at] = None
    return cells


def _id_column(column: pd.Series) -> Any:
    """Respondent ids as :func:`_text` gives them (None or NA when blank): an object array, or
    for a text column whose ids are all ASCII, the Arrow strings of pandas' ``str``.

    Ids are nearly all distinct, so normalising each distinct one would mean a Python call per
    row: text columns are trimmed by pandas' vectorised string methods instead, and only the
    ids that are not ASCII are folded one by one. The speed trick: ASCII ids (which folding
    leaves as they are) stay in Arrow, so no Python string is made per id, here or when the
    results are written.
    """
    is_text = isinstance(column.dtype, pd.StringDtype) or (
        column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) == "string"
    )
    if not is_text:
        return _text_column(column)
    trimmed = column.astype("str").str.strip()
    plain = trimmed.str.isascii().to_numpy(dtype=bool, na_value=True)
    if plain.all():
        return trimmed.where(trimmed != "").array
    out = trimmed.to_numpy(dtype=object, na_value=None)
    odd = np.flatnonzero(~plain)
    out[odd] = [_text(v) for v in out[odd]]
    out[out == ""] = None
    return out


def id_texts(column: pd.Series) -> np.ndarray:
    """A column of respondent ids as the checks see them (trimmed folded text, "" when blank)."""
    ids = _id_column(column)
    if not isinstance(ids, np.ndarray):
        ids = ids.to_numpy(dtype=object, na_value=None)
    ids[np.equal(ids, None)] = ""
    return ids


def duplicate_ids(ids: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Positions of the ids that occur more than once (blanks aside), each with its reason."""
    codes, uniques = pd.factorize(ids)
    counts = np.bincount(codes, minlength=len(uniques))
    dup = np.flatnonzero((counts[codes] > 1) & (ids != ""))
    rows_of: dict[int, list[int]] = {}
    for pos in dup.tolist():
        rows_of.setdefault(int(codes[pos]), []).append(int(rows[pos]))
    reasons = []
    for pos in dup.tolist():
        same = rows_of[int(codes[pos])]
        shown = ", ".join(map(str, same[:5])) + (" ..." if len(same) > 5 else "")
        reasons.append(f"duplicate respondent_id (rows {shown})")
    return dup, reasons


def parse_facts(
    facts: pd.DataFrame | Mapping[str, Any],
    *,
    first_row: int = 2,
    rows: np.ndarray | None = None,
    unique_ids: bool = False,
    units: Mapping[str, str] | None = None,
    numbered_options: bool = False,
) -> ParsedFacts:
    """Check and type a frame of facts (or one firm's dict).

    Parameters
    ----------
    facts : DataFrame or mapping
        One row per firm, columns named by fact code (other columns are ignored and listed in
        ``unmatched_columns``). A mapping is one firm; an unknown key in it is a problem.
    first_row : int, default=2
        Row number of the first row (spreadsheet style: the header is row 1).
    rows : ndarray of shape (n_rows,), optional
        Row numbers, when the rows are not consecutive (a chunk of a file).
    unique_ids : bool, default=False
        True when the caller has already rejected repeated ids (a file read in chunks is checked
        across the whole file): the check within this batch is skipped.
    units : mapping, optional
        Fact code -> the unit its column is in, where a header named another unit than the
        fact's (``{"revenue_y1": "元"}``): the column is read in that unit (a value out of range
        is told in it) and converted (:meth:`FactsTable.ratio`).
    numbered_options : bool, default=False
        The facts are a 问卷星 export, which may write an answer as its option's number: a bare
        number in a category, yes/no or text fact is refused (:data:`NUMBERED_OPTION`), where
        elsewhere ``1`` is yes and ``44`` a province code.

    Returns
    -------
    ParsedFacts
        ``table`` holds every row (rows with a problem have NaN where the cell was bad),
        ``valid`` marks the rows without any problem, ``rejects`` lists every problem.
    """
    spec = facts_table()
    single = isinstance(facts, Mapping)
    if single:
        for k in facts:
            if not isinstance(k, str):
                raise ParameterError(
                    f"expected fact codes (text) as the keys, got {k!r}", parameter="facts"
                )
        unknown = [k for k in facts if k not in spec]
        frame = pd.DataFrame({k: [v] for k, v in facts.items() if k in spec})
        n = 1
    else:
        if not isinstance(facts, pd.DataFrame):
            raise TypeError(f"expected a DataFrame or a dict of facts, got {type(facts).__name__}")
        if isinstance(facts.columns, pd.MultiIndex):
            raise ParameterError(
                f"expected one header row of fact codes, got {facts.columns.nlevels} "
                "(a MultiIndex)",
                parameter="facts",
            )
        named = pd.Index(facts.columns)
        twice = sorted({str(c) for c in named[named.duplicated()] if c in spec})
        if twice:
            raise ParameterError(
                f"the facts have two columns named {', '.join(twice)}; expected one column per "
                "fact",
                parameter="facts",
            )
        unknown = [str(c) for c in facts.columns if c not in spec]
        frame = facts
        n = len(frame)
    if rows is None:
        row_numbers = np.arange(first_row, first_row + n, dtype=np.int64)
    else:
        row_numbers = np.asarray(rows, dtype=np.int64)
        if row_numbers.shape != (n,):
            raise ValueError(f"expected {n} row numbers, got {row_numbers.shape[0]}")
    rejects = _Rejects(n)
    columns: dict[str, pd.Series] = {}
    no_single_id = np.zeros(n, dtype=bool)
    for k in frame.columns:
        column = frame[k]
        if k in spec:
            column, several = _one_value_each(column, str(k), rejects)
            if k == ID:
                no_single_id = several
        columns[str(k)] = column

    # respondent ids: trimmed text; blank and repeated ids are problems of a batch
    if ID in columns:
        ids = _id_column(columns[ID])
        blank = np.flatnonzero(pd.isna(ids))
        if len(blank):
            ids[blank] = ""
            blank = blank[~no_single_id[blank]]  # the others are rejected as no single value
        if not single:
            rejects.add(blank, ID, [""] * len(blank), ["respondent_id is blank"] * len(blank))
            doubtful, shown, reasons = doubtful_ids(columns[ID])
            rejects.add(doubtful, ID, shown, reasons)
        if not unique_ids and not single:
            dup, reasons = duplicate_ids(ids, row_numbers)
            rejects.add(dup, ID, ids[dup].tolist(), reasons)
    elif single:
        ids = np.array([""], dtype=object)
    else:
        ids = row_numbers.astype(str).astype(object)

    values: dict[str, np.ndarray] = {}
    text: dict[str, np.ndarray] = {}
    missing_column = np.broadcast_to(np.float64(np.nan), (n,))
    for fact in spec:
        if fact.type == "id":
            continue
        column = columns.get(fact.code)
        if fact.type == "text":
            text[fact.code] = (
                _text_cells(column, fact, rejects, numbered_options)
                if column is not None
                else np.full(n, None, dtype=object)
            )
            continue
        if column is None:
            values[fact.code] = missing_column
        elif units and fact.code in units:
            values[fact.code] = _parse_in_unit(column, fact, units[fact.code], rejects)
        else:
            values[fact.code] = _parse_column(
                column, fact, rejects, numbered_options=numbered_options
            )

    for fact in spec:
        if fact.yes_if is not None:  # a blank stands for yes where the broader fact says yes
            own, broader = values[fact.code], values[fact.yes_if]
            values[fact.code] = np.where(np.isnan(own) & (broader == 1.0), 1.0, own)

    for check in spec.checks:
        a = values[check.fact]
        if check.at_most is not None:
            b = values[check.at_most]
            with np.errstate(invalid="ignore"):
                broken = np.flatnonzero(a > b)
            reasons = [
                f"{check.fact} ({_as_written(spec[check.fact], a[p], units)}) is above "
                f"{check.at_most} ({_as_written(spec[check.at_most], b[p], units)}): "
                f"{check.reason}"
                for p in broken.tolist()
            ]
        else:
            assert check.requires is not None and check.at_least is not None
            wanted = 1.0 if check.is_ == "yes" else 0.0
            b = values[check.requires]
            with np.errstate(invalid="ignore"):
                broken = np.flatnonzero((a == wanted) & (b < check.at_least))
            reasons = [
                f"{check.fact} is {check.is_} but {check.requires} is {_show(b[p])}: {check.reason}"
                for p in broken.tolist()
            ]
        shown = (
            _cells(columns[check.fact], broken)
            if check.fact in columns
            else [check.is_ or _show(a[p]) for p in broken]  # a fact stood in for (yes_if)
        )
        rejects.add(broken, check.fact, shown, reasons)

    if single and unknown:
        from dmi.eligibility.headers import map_fact_columns

        # a key a file's header could be (a label, a unit in brackets): its fact's code named,
        # and the fact's own unit where the key says another (元 for 万元: the value changes)
        headers = map_fact_columns(list(unknown))
        for key in unknown:
            close = headers.rename.get(key) or _closest(key, spec.codes)
            hint = f"; did you mean {close!r}?" if close else ""
            if close and key in headers.rename and close in headers.units:
                unit, own = headers.units[close], spec[close].unit
                hint += f" (in {own}, where the key says {unit}: give the value in {own})"
            rejects.add(
                np.array([0]),
                key,
                [_text(facts[key]) or ""],  # type: ignore[index]
                [f"unknown fact {key!r}{hint}"],
            )

    given, computed = values["digital_level"], values["digital_level_computed"]
    with np.errstate(invalid="ignore"):
        disagrees = (given != computed) & ~np.isnan(given) & ~np.isnan(computed)
    table = FactColumns(
        n=n,
        rows=row_numbers,
        ids=ids,
        values=values,
        text=text,
        given=frozenset(c for c in columns if c in spec),
        digital_disagrees=disagrees,
        percent_signed={
            f.code: _percent_signed(columns[f.code])
            for f in spec
            if f.fractions_doubtful and f.code in columns
        },
    )
    return ParsedFacts(
        table=table,
        valid=~rejects.bad,
        rejects=rejects.table(row_numbers, ids),
        unmatched_columns=[] if single else unknown,
    )


def _as_written(fact: Fact, value: float, units: Mapping[str, str] | None) -> str:
    """A fact's value with its unit, in the unit its column is written in (a header's 元), as
    a range reason says it: ``15000000 元`` beside a cell of 15000000, not ``1500``."""
    unit = (units or {}).get(fact.code) or fact.unit
    if unit != fact.unit:
        # back in the column's unit, to the digits a cell holds: 4387.48 元, not the
        # 4387.4800000000005 the division gives
        value = spreadsheet_number(float(value / facts_table().ratio(fact, unit)))
    said = unit_text(unit, "en")  # the library's reasons are English
    return f"{_show(value)} {said}" if said else _show(value)


def _cells(column: pd.Series, positions: np.ndarray) -> list[str]:
    """A column's cells at ``positions`` as the firm wrote them (trimmed, width folded:
    ``是``, ``1,200``), for a reject that is not of the cell alone (a cross check)."""
    return [_text(v) or "" for v in column.iloc[positions].tolist()]


def headed_reasons(rejects: pd.DataFrame, headers: Mapping[str, str]) -> pd.DataFrame:
    """``rejects`` with the reason of each fact in ``headers`` (fact -> the file's header)
    starting with the header: ``28、上年营业收入（万元）: expected a number ...``, as ``dmi
    score`` words a survey tool's question (one that does already is left as it is); a
    frame's header too (:func:`dmi.eligibility.evaluate`'s :class:`FactsError`)."""
    if not len(rejects):
        return rejects
    header = rejects["column"].map(headers)
    named = header.notna().to_numpy()
    if not named.any():
        return rejects
    reasons = rejects["reason"].astype(object).to_numpy().copy()
    for at in np.flatnonzero(named):
        head = f"{header.iat[at]}: "
        if not str(reasons[at]).startswith(head):
            reasons[at] = head + str(reasons[at])
    return rejects.assign(reason=reasons)


def _closest(word: str, choices: Sequence[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return found[0] if found else None

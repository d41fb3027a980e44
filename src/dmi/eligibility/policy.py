"""梯度培育 rule files: one YAML file per policy version, validated into a :class:`Policy`.

A rule file holds the three rungs (``innovative``, ``specialised``, ``little_giant``), each a list
of conditions (hard tests on the firm's facts), optional alternative paths, direct routes and
exemptions that replace named conditions, scorecards with bands, group floors and a pass mark,
the province blocks of the 特色化 indicators, the derived quantities (shares, growth rates) with
their formulas, and the routing that says which version's rung applies to a new applicant or a
复核 in a given year. Every threshold is a number in the file and every rule carries its
``source`` and ``confidence`` (V / I / U). The format is documented in ``docs/eligibility.md``.

A broken file raises :class:`PolicyError` listing every problem, each naming the file and the
field (``conditions[3] (id 'sr26_rd').test.all[0].at_least: ...``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import numbers
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from dmi.eligibility._data import (
    A_TEST,
    DATA,
    Problem,
    check_lang,
    describe_error,
    describe_location,
    load_yaml,
    yaml_words,
)
from dmi.eligibility.facts import Fact, facts_table
from dmi.eligibility.places import province_key
from dmi.errors import (
    ApplicationYearError,
    MissingFileError,
    ParameterError,
    PolicyError,
)

__all__ = [
    "FORMAT",
    "RUNGS",
    "Band",
    "Condition",
    "Indicator",
    "Metric",
    "Policy",
    "PolicyError",
    "Route",
    "Rung",
    "Scorecard",
    "YEARS_AHEAD",
    "application_year",
    "available_policies",
    "citation",
    "least_sure",
    "load_policy",
    "parse_policy",
]

FORMAT = "dmi-cultivation-policy/1"
RUNGS = ("innovative", "specialised", "little_giant")
# how far ahead an application year may be: a year past it is a typo (`--year 99999` ended every
# award window long before), and no one can say which rules will apply then
YEARS_AHEAD = 10
RungId = Literal["innovative", "specialised", "little_giant"]
Confidence = Literal["V", "I", "U"]
_SURENESS = ("V", "I", "U")  # most sure first


def least_sure(*marks: str) -> str:
    """The least sure of confidence marks: a result resting on rules of several marks is as
    sure as its least sure rule (``least_sure("V", "U") == "U"``)."""
    return max(marks, key=_SURENESS.index)


Edges = Literal["higher_points", "lower_points"]
_ID = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(_Strict):
    """A text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class _Labelled(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def label(self, lang: str) -> str:
        """The label in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.zh if lang == "zh" else self.en


class Note(_Strict):
    topic: str
    source: str = ""
    confidence: Confidence | Literal["D"]
    text: str


# -- tests ---------------------------------------------------------------------------------------


class Window(_Strict):
    """The leaf is met only when the number fact ``fact`` (a year) is at least year - ``years``.

    A blank ``fact`` is taken as within the window (the fact's definition says so).
    """

    fact: str
    years: int = Field(ge=0)


class Compare(_Strict):
    """``of`` (a fact or metric) compared with a number: exactly one of the four bounds.

    ``at_least`` is ≥ (以上, 不低于, 达到), ``above`` is >, ``at_most`` is ≤ (不高于, 以下) and
    ``below`` is <. ``gap: false`` marks a leaf that selects a case (e.g. a revenue band) and
    that no gap should ask the firm to change; ``gap: bar`` a limit the firm is not asked to
    move to (115号's size cap: 500 staff at most), which a gap names as a bar it fails.
    """

    of: str
    at_least: float | None = Field(default=None, allow_inf_nan=False)
    above: float | None = Field(default=None, allow_inf_nan=False)
    at_most: float | None = Field(default=None, allow_inf_nan=False)
    below: float | None = Field(default=None, allow_inf_nan=False)
    window: Window | None = None
    gap: bool | Literal["bar"] = True

    @model_validator(mode="after")
    def _one_bound(self) -> Compare:
        given = [b for b in (self.at_least, self.above, self.at_most, self.below) if b is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of at_least, above, at_most, below")
        return self

    @property
    def op(self) -> str:
        for name in ("at_least", "above", "at_most", "below"):
            if getattr(self, name) is not None:
                return name
        raise AssertionError

    @property
    def threshold(self) -> float:
        value = getattr(self, self.op)
        assert value is not None
        return float(value)


class Member(_Strict):
    """A category fact ``of`` is one of ``in``."""

    of: str
    in_: tuple[str, ...] = Field(alias="in", min_length=1)
    window: Window | None = None
    gap: bool = True

    @model_validator(mode="before")
    @classmethod
    def _yaml_words(cls, data: Any) -> Any:
        if isinstance(data, dict) and "in" in data:
            data = {**data, "in": yaml_words(data["in"])}
        return data


class Is(_Strict):
    """A yes/no fact ``of`` is ``is`` (yes or no)."""

    of: str
    is_: Literal["yes", "no"] = Field(alias="is")
    gap: bool = True

    @model_validator(mode="before")
    @classmethod
    def _yaml_words(cls, data: Any) -> Any:
        if isinstance(data, dict) and "is" in data:
            data = {**data, "is": yaml_words(data["is"])}
        return data


class Manual(_Strict):
    """A qualitative test: never auto-passed, always ``manual``, with the evidence to prepare."""

    manual: Text


class ScorecardPass(_Strict):
    """The firm passes a scorecard (its pass mark and group floors)."""

    scorecard: str


class AllOf(_Strict):
    """Every test holds."""

    all: tuple[Test, ...] = Field(min_length=1)


class AnyOf(_Strict):
    """At least one test holds."""

    any: tuple[Test, ...] = Field(min_length=1)


def _test_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key, tag in (
            ("all", "all"),
            ("any", "any"),
            ("manual", "manual"),
            ("scorecard", "scorecard"),
            ("in", "member"),
            ("is", "is"),
        ):
            if key in value:
                return tag
        return "compare"
    return {
        AllOf: "all",
        AnyOf: "any",
        Manual: "manual",
        ScorecardPass: "scorecard",
        Member: "member",
        Is: "is",
        Compare: "compare",
    }.get(type(value))


Test = Annotated[
    Union[  # noqa: UP007 (pydantic's tagged unions want Union here)
        Annotated[Compare, Tag("compare")],
        Annotated[Member, Tag("member")],
        Annotated[Is, Tag("is")],
        Annotated[Manual, Tag("manual")],
        Annotated[ScorecardPass, Tag("scorecard")],
        Annotated[AllOf, Tag("all")],
        Annotated[AnyOf, Tag("any")],
    ],
    Discriminator(_test_kind),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()

Leaf = Compare | Member | Is | Manual | ScorecardPass


def iter_leaves(test: Any) -> Iterator[Any]:
    """Every leaf of a test, in order."""
    if isinstance(test, AllOf):
        for t in test.all:
            yield from iter_leaves(t)
    elif isinstance(test, AnyOf):
        for t in test.any:
            yield from iter_leaves(t)
    else:
        yield test


# -- the rule file's elements ------------------------------------------------------------------


class _Rule(_Labelled):
    source: str = Field(min_length=1)
    confidence: Confidence


class Metric(_Rule):
    """A quantity derived from facts; its formula is a setting.

    ``kind``: ``ratio`` (``of: [numerator, denominator]`` x ``scale``), ``share`` (a ratio whose
    numerator is part of the denominator, e.g. main-business revenue in revenue), ``growth``
    (``of``: the series oldest first; ``method: cagr`` = compound rate over the span,
    ``mean_rate`` = mean of the yearly rates), ``sum``, ``mean``, ``first`` (the first fact of
    ``of`` that is given).
    """

    id: str = Field(pattern=_ID)
    short: Text | None = None
    unit: str = ""
    kind: Literal["ratio", "share", "growth", "sum", "mean", "first"]
    of: tuple[str, ...] = Field(min_length=1)
    method: Literal["cagr", "mean_rate"] | None = None
    scale: float = Field(default=100.0, allow_inf_nan=False)

    def short_label(self, lang: str) -> str:
        """A short label in ``lang`` (for gap texts), else the label."""
        return self.short.get(lang) if self.short else self.label(lang)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The facts or metrics the value is worked out from: all of ``of``, but the first and
        last of a compound rate's span (the years between set its length, not its value)."""
        return (self.of[0], self.of[-1]) if self.method == "cagr" else self.of

    @property
    def span(self) -> int:
        """Years a growth runs over (``of`` is the series, oldest first)."""
        return len(self.of) - 1

    @model_validator(mode="after")
    def _shape(self) -> Metric:
        n = len(self.of)
        if self.kind in ("ratio", "share") and n != 2:
            raise ValueError(f"a {self.kind} takes of: [numerator, denominator]")
        if self.kind in ("growth", "sum", "mean") and n < 2:
            raise ValueError(f"a {self.kind} takes at least two facts")
        if self.kind == "growth" and n > 2 and self.method is None:
            raise ValueError("a growth over more than one year needs method: cagr or mean_rate")
        if self.method is not None and self.kind != "growth":
            raise ValueError("'method' is only for growth")
        return self


class Condition(_Rule):
    """A hard condition of a rung. ``recheck`` replaces ``test`` for a 复核 (``skip``: none)."""

    id: str = Field(pattern=_ID)
    test: Test
    recheck: Test | Literal["skip"] | None = None
    note: str = ""


class RouteOption(_Labelled):
    """One of a route's alternatives."""

    id: str = Field(pattern=_ID)
    test: Test


class Route(_Rule):
    """A direct route (直通) or an exemption: when any option holds, ``replaces`` are met."""

    id: str = Field(pattern=_ID)
    kind: Literal["direct", "exemption"]
    replaces: tuple[str, ...] = Field(min_length=1)
    options: tuple[RouteOption, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _options_once(self) -> Route:
        ids = [o.id for o in self.options]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:  # "via" names the option: two of one id could not be told apart
            raise ValueError(f"option id {', '.join(map(repr, twice))} is used twice")
        return self


class Band(_Strict):
    """``min`` to ``max`` (either open-ended) earns ``points``.

    Whether a band holds its edges comes from the scorecard's (or indicator's) ``edges``
    convention unless ``include_min`` / ``include_max`` say so.
    """

    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)
    points: float = Field(ge=0)
    include_min: bool | None = None
    include_max: bool | None = None

    @model_validator(mode="after")
    def _order(self) -> Band:
        if self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.min is None and self.max is None:
            raise ValueError("a band needs min or max")
        return self


class RulePoints(_Labelled):
    """One step of a ``first_of`` indicator: the first step whose test holds earns its points."""

    test: Test
    points: float = Field(ge=0)


class SubIndicator(_Strict):
    """One alternative of a ``best_of`` indicator (bands on one quantity)."""

    of: str
    bands: tuple[Band, ...] = Field(min_length=1)
    edges: Edges | None = None
    else_points: float = Field(default=0.0, ge=0)


class Indicator(_Labelled):
    """One scorecard indicator, of exactly one kind.

    ``bands`` on the quantity ``of``; ``categories`` (value -> points) of the category or yes/no
    fact ``of``; ``first_of`` (ordered tests, the first that holds earns its points); or
    ``best_of`` (the best of several banded quantities). ``else_points`` when nothing applies.
    """

    id: str = Field(pattern=_ID)
    group: str
    of: str | None = None
    bands: tuple[Band, ...] | None = None
    categories: dict[str, float] | None = None
    first_of: tuple[RulePoints, ...] | None = None
    best_of: tuple[SubIndicator, ...] | None = None
    else_points: float = Field(default=0.0, ge=0)
    edges: Edges | None = None
    source: str = ""
    confidence: Confidence | None = None

    @field_validator("categories", mode="before")
    @classmethod
    def _category_words(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {yaml_words(k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Indicator:
        kinds = [k for k in ("bands", "categories", "first_of", "best_of") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("give exactly one of bands, categories, first_of, best_of")
        if kinds[0] in ("bands", "categories") and self.of is None:
            raise ValueError(f"{kinds[0]} need 'of'")
        if kinds[0] in ("first_of", "best_of") and self.of is not None:
            raise ValueError(f"{kinds[0]} takes no 'of'")
        return self

    @property
    def kind(self) -> str:
        for k in ("bands", "categories", "first_of", "best_of"):
            if getattr(self, k):
                return k
        raise AssertionError


class Group(_Labelled):
    """A group of indicators: ``points`` is its most; a floor is ≥ ``floor`` or > ``floor_above``.

    ``province: true`` marks the 特色化 group, whose indicators come from the province blocks.
    """

    id: str = Field(pattern=_ID)
    points: float = Field(gt=0)
    floor: float | None = Field(default=None, ge=0)
    floor_above: float | None = Field(default=None, ge=0)
    province: bool = False

    @model_validator(mode="after")
    def _one_floor(self) -> Group:
        if self.floor is not None and self.floor_above is not None:
            raise ValueError("give floor (at least) or floor_above (more than), not both")
        return self


class ProvinceBlock(_Strict):
    """A province's settings: its 特色化 indicators and, optionally, its own pass mark."""

    names: tuple[str, ...] = Field(min_length=1)
    pass_mark: float | None = Field(default=None, ge=0)
    indicators: tuple[Indicator, ...] = ()

    @field_validator("names", mode="before")
    @classmethod
    def _codes_as_text(cls, value: Any) -> Any:
        # a province's code written bare (names: [44]) is read by YAML as a number
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value

    source: str = Field(min_length=1)
    confidence: Confidence


class Scorecard(_Rule):
    """Points per indicator, per group and in total; passes at ``pass_mark`` with group floors."""

    id: str = Field(pattern=_ID)
    pass_mark: float = Field(ge=0)
    edges: Edges = "higher_points"
    groups: tuple[Group, ...] = Field(min_length=1)
    indicators: tuple[Indicator, ...] = Field(min_length=1)
    provinces: tuple[ProvinceBlock, ...] = ()
    province_fact: str | None = None

    @model_validator(mode="after")
    def _one_block_a_place(self) -> Scorecard:
        problems = []
        block_of: dict[str, int] = {}
        for i, block in enumerate(self.provinces):
            for name in block.names:
                key = province_key(name)  # as the evaluation matches a firm's province
                if block_of.setdefault(key, i) != i:
                    problems.append(
                        f"provinces[{i}]: {name!r} is the place of provinces[{block_of[key]}] "
                        "too; a place has one block"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class RungPath(_Labelled):
    """One alternative set of conditions of a rung (e.g. 创新型 or 科技型 in 2026); ``points``:
    the scorecard whose total is the firm's points when this path is the one assessed (else
    the rung's)."""

    id: str = Field(pattern=_ID)
    conditions: tuple[str, ...] = Field(min_length=1)
    points: str | None = None


class Rung(_Rule):
    """A rung: all ``conditions``, and all conditions of at least one of ``paths`` if any.

    ``version`` is the rule version the rung's results name (``<rung>_policy``) when it is not
    the file's own: the 2026 file's tier 1 is the standards 2号第三十条 keeps, 63号's (2022)
    创新型 scorecard and 115号's 科技型, so its results say 2022.
    """

    conditions: tuple[str, ...] = ()
    paths: tuple[RungPath, ...] = ()
    routes: tuple[str, ...] = ()
    points: str | None = None
    version: str | None = None

    @model_validator(mode="after")
    def _something_to_meet(self) -> Rung:
        # a rung with nothing to meet would make every firm eligible
        if not self.conditions and not self.paths:
            raise ValueError(
                "no conditions and no paths: every firm would be eligible; list the rung's "
                "conditions (ids of conditions), or its paths"
            )
        return self


class Years(_Strict):
    from_: int | None = Field(default=None, alias="from")
    to: int | None = None

    @model_validator(mode="after")
    def _in_order(self) -> Years:
        if self.from_ is not None and self.to is not None and self.from_ > self.to:
            raise ValueError(f"from {self.from_} is after to {self.to}: no year is in it")
        return self

    def holds(self, year: int) -> bool:
        return (self.from_ is None or year >= self.from_) and (self.to is None or year <= self.to)


class Routing(_Rule):
    """Which version's rung applies to an applicant (``new`` or ``recheck``) in some years."""

    zh: str = "路由"
    en: str = "routing"
    rung: RungId
    applicant: Literal["new", "recheck"]
    policy: str
    years: Years | None = None


class Import(_Strict):
    """Conditions and routes taken from another version's file, with all they refer to."""

    policy: str
    conditions: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()


class _PolicySpec(_Strict):
    format: Literal["dmi-cultivation-policy/1"]
    id: str = Field(pattern=r"^[0-9a-z][0-9a-z_-]*$")
    version: str = "1"
    title: Text
    effective: dt.date
    documents: dict[str, str] = Field(default_factory=dict)
    notes: tuple[Note, ...] = ()
    precision: int = Field(default=12, ge=0, le=15)
    imports: tuple[Import, ...] = ()
    metrics: tuple[Metric, ...] = ()
    conditions: tuple[Condition, ...] = ()
    routes: tuple[Route, ...] = ()
    scorecards: tuple[Scorecard, ...] = ()
    rungs: dict[RungId, Rung]
    routing: tuple[Routing, ...] = ()

    @field_validator("id", "version", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, (int, float)) else value


# -- the loaded policy ---------------------------------------------------------------------------


class Policy:
    """A validated rule file, with the conditions, routes, scorecards and metrics it imports.

    Build one with :func:`load_policy`. ``hash`` identifies the exact content.
    """

    def __init__(
        self,
        spec: _PolicySpec,
        source: str,
        content_hash: str,
        metrics: dict[str, Metric],
        conditions: dict[str, Condition],
        routes: dict[str, Route],
        scorecards: dict[str, Scorecard],
        origin: dict[str, str],
        base: Path | None,
        homes: dict[str, Policy] | None = None,
        drawn_on: tuple[tuple[str, str], ...] = (),
        text: str = "",
    ):
        self._spec = spec
        self.source = source
        self.hash = content_hash
        self.metrics = metrics
        self.conditions = conditions
        self.routes = routes
        self.scorecards = scorecards
        self.origin = origin  # element id -> the policy id it was defined in
        self._base = base
        self._homes = homes or {}  # an imported element's id -> the file it was defined in
        # (path, text) of each rule file read from disk that this one imports or routes to,
        # and those they draw on: the parse is reused only while they are unchanged
        self._drawn_on = drawn_on
        self._text = text  # the YAML read
        self._confidence: dict[str, Confidence] = {}  # confidence_of, per rule

    @property
    def id(self) -> str:
        return self._spec.id

    @property
    def title(self) -> Text:
        return self._spec.title

    @property
    def effective(self) -> dt.date:
        return self._spec.effective

    @property
    def precision(self) -> int:
        return self._spec.precision

    @property
    def documents(self) -> dict[str, str]:
        return dict(self._spec.documents)

    def documents_drawn_on(self) -> dict[str, str]:
        """:attr:`documents`, then those of the files it imports rules from, not named here
        (an imported rule cites its own file's documents: 39号 of the 2022 file)."""
        found = self.documents
        for home in self._homes.values():
            for key, title in home.documents_drawn_on().items():
                found.setdefault(key, title)
        return found

    @property
    def notes(self) -> tuple[Note, ...]:
        return self._spec.notes

    @property
    def rungs(self) -> dict[str, Rung]:
        return dict(self._spec.rungs)

    @property
    def routing(self) -> tuple[Routing, ...]:
        return self._spec.routing

    def __repr__(self) -> str:
        return f"<Policy {self.id!r} from {self.source}>"

    def route(self, rung: str, applicant: str, year: int) -> tuple[Policy, Routing | None]:
        """The policy whose ``rung`` applies to an applicant (``new``/``recheck``) in ``year``.

        The first routing entry that matches decides; without one the rung of this file applies.
        """
        for entry in self._spec.routing:
            if entry.rung != rung or entry.applicant != applicant:
                continue
            if entry.years is not None and not entry.years.holds(year):
                continue
            if entry.policy == self.id:
                return self, entry
            return _resolve(entry.policy, self._base), entry
        return self, None

    def confidence_of(self, rule_id: str) -> Confidence:
        """How sure the result of a condition, route or scorecard is: its own mark, or the less
        sure mark of a formula (a metric) or a scorecard its tests rest on.

        ``lg22_growth`` is marked V (its wording is seen verbatim), but whether its
        "近2年平均增长率" is a mean of the two yearly rates or a compound rate is unconfirmed
        (the metric ``main_growth_2y`` is U): its result is as sure as that, U. A rule taken
        from another file (2026's tier 1 keeps 63号's scorecard) is as sure as it is there,
        with that file's formulas. Worked out once per rule.
        """
        found = self._confidence.get(rule_id)
        if found is None:
            found = self.home_of(rule_id)._rests_on(rule_id)
            self._confidence[rule_id] = found
        return found

    def home_of(self, rule_id: str) -> Policy:
        """The rules a condition, route or scorecard was defined in: this file's, or those of
        the file it was imported from (read from that file, not looked up by its id)."""
        return self._homes.get(rule_id, self)

    def _unchanged(self) -> bool:
        """Whether every rule file this one draws on still holds the text it was read with."""
        for path, text in self._drawn_on:
            try:
                if _rule_file_text(Path(path)) != text:
                    return False
            except (OSError, UnicodeDecodeError):
                return False
        return True

    def _rests_on(self, rule_id: str) -> Confidence:
        """:meth:`confidence_of` worked out in this file."""
        if rule_id in self.scorecards:
            card = self.scorecards[rule_id]
            marks = [card.confidence]
            for ind in card.indicators:
                marks += [ind.confidence] if ind.confidence else []
                for name in _indicator_names(ind):
                    marks += self._metric_marks(name)
                for step in ind.first_of or ():
                    marks += self._test_marks(step.test)
            return least_sure(*marks)  # type: ignore[return-value]
        if rule_id in self.routes:
            route = self.routes[rule_id]
            marks = [route.confidence]
            for option in route.options:
                marks += self._test_marks(option.test)
            return least_sure(*marks)  # type: ignore[return-value]
        cond = self.conditions[rule_id]
        marks = [cond.confidence, *self._test_marks(cond.test)]
        if cond.recheck not in (None, "skip"):
            marks += self._test_marks(cond.recheck)
        return least_sure(*marks)  # type: ignore[return-value]

    def _test_marks(self, test: Any) -> list[str]:
        marks: list[str] = []
        for leaf in iter_leaves(test):
            if isinstance(leaf, ScorecardPass):
                marks.append(self.confidence_of(leaf.scorecard))
            elif isinstance(leaf, (Compare, Member, Is)):
                marks += self._metric_marks(leaf.of)
        return marks

    def _metric_marks(self, name: str) -> list[str]:
        """The marks of a metric and of the metrics it is worked out from (none for a fact)."""
        metric = self.metrics.get(name)
        if metric is None:
            return []
        return [metric.confidence, *(m for part in metric.of for m in self._metric_marks(part))]

    def value_names(self) -> set[str]:
        """Every name a test may compare: facts and metrics."""
        return set(facts_table().codes) | set(self.metrics)

    def to_dict(self) -> dict[str, Any]:
        return self._spec.model_dump(mode="json", by_alias=True)


_CHINESE_DIGITS = {c: k for k, c in enumerate("零一二三四五六七八九")}


def _chinese_number(words: str) -> int:
    """A number written in Chinese up to 99 (五 5, 十 10, 三十 30, 三十二 32)."""
    tens, _, ones = words.rpartition("十")
    if "十" not in words:
        return _CHINESE_DIGITS[words]
    return (_CHINESE_DIGITS[tens] if tens else 1) * 10 + (_CHINESE_DIGITS[ones] if ones else 0)


def _cited_in_english(document: str) -> str:
    """A document reference in English: ``2号附件1`` is ``No. 2 annex 1``, ``2号附件2/附件3``
    ``No. 2 annex 2/annex 3``, ``63号 第五条`` ``No. 63 art. 5``, ``32号/56号``
    ``No. 32/No. 56``."""
    text = re.sub(r"(\d+)号", r"No. \1", document)
    text = re.sub(r"(?<=[^\s/])\s*附件", " 附件", text)  # "2号附件1": a space before it
    text = re.sub(r"附件\s*(\d+)", r"annex \1", text)
    return re.sub(
        r"\s*第([零一二三四五六七八九十]+)条", lambda m: f" art. {_chinese_number(m[1])}", text
    )


def cited_documents(source: str) -> list[str]:
    """The documents a rule's ``source`` names, each once, in order, without the notes for
    researchers (``"2号附件1 (G, P); 75号"`` gives ``["2号附件1", "75号"]``)."""
    bare = re.sub(r"\s*\([^()]*\)", "", source)
    documents = []
    for part in re.split(r";\s*", bare):
        for document in part.split(": ")[0].split(", "):
            if document.strip():
                documents.append(document.strip())
    return list(dict.fromkeys(documents))


def document_titles(
    documents: Mapping[str, str], sources: Iterable[str], lang: str = "zh"
) -> list[str]:
    """The documents the ``sources`` cite that ``documents`` (rule files' ``documents``: key ->
    title) name, each once, as ``2号：工信部企业〔2026〕2号《优质中小企业梯度培育管理办法》…``
    (in English ``No. 2: …``, the title as the file gives it): what a company reads to check
    a rule. A cited part (``2号附件1``, ``63号 第五条``) is its document's (``2号``, ``63号``)."""
    check_lang(lang)
    keys = sorted(documents, key=len, reverse=True)
    out: dict[str, str] = {}
    for source in sources:
        for cited in cited_documents(source):
            # a key and what follows it in the citation (2号附件1, 63号 第五条), not a longer
            # name that starts with it (SJ/T 11 is no "S")
            key = next(
                (
                    k
                    for k in keys
                    if cited.startswith(k)
                    and not (cited[len(k) : len(k) + 1].isascii() and cited[len(k) :][:1].isalnum())
                ),
                None,
            )
            if key is not None and key not in out:
                shown = _cited_in_english(key) if lang == "en" else key
                sep = ": " if lang == "en" else "："
                out[key] = f"{shown}{sep}{documents[key]}"
    return list(out.values())


def citation(source: str, lang: str = "zh") -> str:
    """The documents a rule's ``source`` names, for a company to read: the source less its
    notes for researchers (in brackets, or after ``": "``), documents joined by ``、``
    (``"117号 (N): 2026 复核 use the 63号 standard"`` gives ``117号``); in English
    (``lang="en"``) as ``No. 2 annex 1, No. 75`` (:func:`_cited_in_english`)."""
    check_lang(lang)
    documents = cited_documents(source)
    if lang == "en":
        return ", ".join(_cited_in_english(d) for d in documents)
    return "、".join(documents)


def available_policies() -> list[str]:
    """The ids of the shipped rule files (``policy-<id>.yaml``)."""
    names = [p.name for p in DATA.iterdir() if p.name.startswith("policy-")]
    return sorted(n.removeprefix("policy-").removesuffix(".yaml") for n in names)


def policy_in_force(today: dt.date | None = None) -> str:
    """The shipped rules in force on ``today`` (default: today): of the versions in effect, the
    latest (``"2026"`` from 2026-04-01, ``"2022"`` before); the first before any."""
    today = today or dt.date.today()
    dated = sorted((load_policy(p).effective, p) for p in available_policies())
    in_force = [p for effective, p in dated if effective <= today]
    return in_force[-1] if in_force else dated[0][1]


def application_year(policy: str | int | Path | Policy | None, year: int | None = None) -> int:
    """The application year a policy is applied for: ``year``, else the policy's first.

    ``policy`` is a loaded :class:`Policy` or what :func:`load_policy` takes (``"2026"``).

    The year picks the routing entries that apply (the 2026 rules send a 2026 小巨人 to 63号 and
    later years elsewhere) and ends the award windows. Without one, the policy's first year:
    the same command on the same file gives the same results whatever day it is run.

    Raises
    ------
    ParameterError
        When ``year`` is not a whole number.
    ApplicationYearError
        When ``year`` is before the policy applies, or more than :data:`YEARS_AHEAD` years after
        today's (a ``UsageError``).
    """
    policy = load_policy(policy)
    start = policy.effective.year
    if year is None:
        return start
    if isinstance(year, bool) or not isinstance(year, numbers.Integral):
        raise ParameterError(
            f"year must be a whole number (a calendar year), got {year!r}", parameter="year"
        )
    latest = dt.date.today().year + YEARS_AHEAD
    where = {"year": int(year), "policy": policy.id, "effective": policy.effective}
    if year < start:
        raise ApplicationYearError(
            f"policy {policy.id} applies from {policy.effective.isoformat()}: year {year} is "
            "before it (use an earlier policy)",
            problem="before",
            latest=latest,
            **where,
        )
    if year > latest:
        raise ApplicationYearError(
            f"year {year} is more than {YEARS_AHEAD} years ahead (the latest is {latest}): "
            "give the year the firms apply in",
            problem="ahead",
            latest=latest,
            **where,
        )
    return int(year)


def load_policy(policy: str | int | Path | Policy | None = None) -> Policy:
    """Load and validate a rule file.

    Parameters
    ----------
    policy : str, int, path, Policy or None
        A shipped version (``"2022"``, ``"2026"``, or the year as a number; see
        :func:`available_policies`) or a path to a YAML rule file. A Policy is returned as it
        is; None is the version in force today (:func:`policy_in_force`).

    Returns
    -------
    Policy

    Raises
    ------
    PolicyError
        Listing every problem in the file, each naming the field and what was wrong.
    dmi.errors.MissingFileError
        When there is no such file or shipped version (also a ``FileNotFoundError``).
    dmi.errors.ParameterError
        When ``policy`` is of another kind (a float, a list ...) or blank text.
    """
    if isinstance(policy, Policy):
        return policy
    if policy is None:
        policy = policy_in_force()
    if isinstance(policy, numbers.Integral) and not isinstance(policy, bool):
        policy = str(policy)  # a version is a year: 2026 is "2026"
    if isinstance(policy, Path):
        return _read_rule_file(policy)
    if not isinstance(policy, str):
        raise ParameterError(
            "policy must be a version (2022, 2026, or as text), the path of a rule file, a "
            f"Policy or None; got {type(policy).__name__} {policy!r}",
            parameter="policy",
        )
    if not policy.strip():  # "" is no version, nor the current folder as a rule file
        raise ParameterError(
            "policy must be a version (2022, 2026) or the path of a rule file; got blank text "
            f"{policy!r}",
            parameter="policy",
        )
    if policy.strip() in available_policies():
        policy = policy.strip()  # " 2026 " as typed in a form or a config
    return _resolve(policy, None)


def _resolve(name: str, base: Path | None) -> Policy:
    """A policy by shipped id, or by path (relative to ``base``, the referring file's folder).

    A shipped id is the shipped version whatever files or folders bear its name (an agency's
    folder ``2022`` beside its data): a file so named is ``./2022``."""
    looks_like_path = name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name
    if not looks_like_path:
        resource = DATA.joinpath(f"policy-{name}.yaml")
        if resource.is_file():
            return _parse_cached(resource.read_text(encoding="utf-8"), str(resource), None)
    path = Path(name)
    if base is not None and not path.is_absolute():
        path = base / path
    if not looks_like_path and not path.exists():
        names = ", ".join(available_policies()) or "none"
        raise MissingFileError(
            f"no policy named {name!r}: expected a shipped version ({names}) or a path "
            f"to a YAML rule file"
        )
    return _read_rule_file(path)


def _read_rule_file(path: Path) -> Policy:
    if path.is_dir():
        raise PolicyError(str(path), [Problem("file", "is a folder; expected a YAML rule file")])
    if not path.is_file():
        raise MissingFileError(f"rule file not found: {path}")
    try:
        text = _rule_file_text(path)
    except UnicodeDecodeError as exc:
        raise PolicyError(
            str(path),
            [Problem("file", f"not UTF-8 text (byte {exc.start}); save the rule file as UTF-8")],
        ) from None
    return _parse_cached(text, str(path), str(path.resolve().parent))


def _rule_file_text(path: Path) -> str:
    """A rule file's text, as it is parsed (UTF-8, a byte-order mark left out)."""
    return path.read_bytes().decode("utf-8-sig")


def parse_policy(text: str, source: str = "<string>", base: Path | None = None) -> Policy:
    """Validate rule-file YAML text; see :func:`load_policy`."""
    return _parse_cached(text, source, str(base) if base is not None else None)


# the files this thread is loading (a file met again among them imports itself): per thread,
# as two app sessions may load one file at once
_LOADING = threading.local()
_PARSED: dict[tuple[str, str, str | None], Policy] = {}


def _parse_cached(text: str, source: str, base: str | None) -> Policy:
    """:func:`_parse`, its result reused for the same text while the files it imports or
    routes to are unchanged (a notebook that edits an imported file and loads again gets the
    edit)."""
    key = (text, source, base)
    found = _PARSED.get(key)
    if found is not None and found._unchanged():
        return found
    loading: set[str] = _LOADING.__dict__.setdefault("files", set())
    if source in loading:
        raise PolicyError(source, [Problem("imports", "the files import each other in a cycle")])
    loading.add(source)
    try:
        found = _parse(text, source, Path(base) if base else None)
    finally:
        loading.discard(source)
    _PARSED[key] = found
    return found


def _in_one_line(exc: Exception) -> str:
    """The error of a file this one imports or routes to, every problem said, on one line."""
    if isinstance(exc, PolicyError):
        return f"{exc.source}: " + "; ".join(str(p) for p in exc.problems)
    return str(exc)


def _parse(text: str, source: str, base: Path | None) -> Policy:
    data = load_yaml(text, source, PolicyError)
    try:
        spec = _PolicySpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # "skip" or a test: a value that is neither fails both, said once
        either = {err["loc"][:-1] for err in errors if err["type"] == "literal_error"} & {
            err["loc"][:-1] for err in errors if err["type"] == "union_tag_not_found"
        }
        problems = []
        for err in errors:
            if err["loc"][:-1] not in either:
                problems.append(Problem(describe_location(data, err["loc"]), describe_error(err)))
            elif err["type"] == "literal_error":
                expected = err.get("ctx", {}).get("expected", "")
                problems.append(
                    Problem(
                        describe_location(data, err["loc"]),
                        f"expected {expected} or {A_TEST}, got {err.get('input')!r}",
                    )
                )
        raise PolicyError(source, problems) from None
    problems: list[Problem] = []
    metrics: dict[str, Metric] = {}
    conditions: dict[str, Condition] = {}
    routes: dict[str, Route] = {}
    scorecards: dict[str, Scorecard] = {}
    origin: dict[str, str] = {}
    homes: dict[str, Policy] = {}

    def claim(
        kind: str,
        table: dict[str, Any],
        item: Any,
        where: str,
        owner: str,
        home: Policy | None = None,
    ) -> None:
        if item.id in table:
            # the same element imported twice is one element; anything else is a clash
            if owner == spec.id or origin[item.id] == spec.id or table[item.id] != item:
                problems.append(Problem(where, f"{kind} id {item.id!r} is already defined"))
            return
        table[item.id] = item
        origin[item.id] = owner
        if home is not None:
            homes[item.id] = home.home_of(item.id)

    for i, m in enumerate(spec.metrics):
        claim("metric", metrics, m, f"metrics[{i}] (id {m.id!r})", spec.id)
    for i, c in enumerate(spec.conditions):
        claim("condition", conditions, c, f"conditions[{i}] (id {c.id!r})", spec.id)
    for i, r in enumerate(spec.routes):
        claim("route", routes, r, f"routes[{i}] (id {r.id!r})", spec.id)
    for i, s in enumerate(spec.scorecards):
        claim("scorecard", scorecards, s, f"scorecards[{i}] (id {s.id!r})", spec.id)

    for i, imp in enumerate(spec.imports):
        where = f"imports[{i}]"
        try:
            other = _resolve(imp.policy, base)
        except (FileNotFoundError, PolicyError) as exc:
            problems.append(Problem(f"{where}.policy", _in_one_line(exc)))
            continue
        wanted_conditions = list(imp.conditions)
        for rid in imp.routes:
            if rid not in other.routes:
                problems.append(Problem(f"{where}.routes", f"{imp.policy} has no route {rid!r}"))
                continue
            claim("route", routes, other.routes[rid], where, other.origin[rid], other)
            wanted_conditions += [c for c in other.routes[rid].replaces if c not in conditions]
        for cid in wanted_conditions:
            if cid not in other.conditions:
                problems.append(
                    Problem(f"{where}.conditions", f"{imp.policy} has no condition {cid!r}")
                )
                continue
            claim("condition", conditions, other.conditions[cid], where, other.origin[cid], other)
        # and everything those refer to
        tests = [c.test for c in conditions.values()] + [
            o.test for r in routes.values() for o in r.options
        ]
        for sid in sorted({leaf.scorecard for t in tests for leaf in _scorecard_leaves(t)}):
            if sid in other.scorecards and sid not in scorecards:
                claim(
                    "scorecard", scorecards, other.scorecards[sid], where, other.origin[sid], other
                )

        # the metrics the elements taken from ``other`` compare, as ``other`` defines them: a
        # metric of this file's own that they do not use may have a formula of its own
        used = _names_used(
            _taken_from(other, conditions, other.conditions, origin, spec.id),
            _taken_from(other, routes, other.routes, origin, spec.id),
            _taken_from(other, scorecards, other.scorecards, origin, spec.id),
        )
        for name in sorted(used):
            _claim_metric(name, other, metrics, origin, problems, where)
        # and a metric this file's own elements compare without defining it
        for name in sorted(_names_used(conditions, routes, scorecards) - used):
            if name not in metrics:
                _claim_metric(name, other, metrics, origin, problems, where)

    # the cross checks read the tables whole: run unless an import left them short (its rules
    # would all be "unknown"); an id defined twice keeps its first definition, checked too
    if not any(p.where.startswith("imports[") for p in problems):
        problems += _check(spec, metrics, conditions, routes, scorecards, base)
    if problems:
        raise PolicyError(source, problems)
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    # the rules applied are this file's and those it imports or routes firms to: their
    # content is part of this one's
    others = {imp.policy for imp in spec.imports} | {
        entry.policy for entry in spec.routing if entry.policy != spec.id
    }
    resolved = [_resolve(name, base) for name in sorted(others)]
    parts = [canonical, *sorted(other.hash for other in resolved)]
    content_hash = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:16]
    drawn_on: dict[str, str] = {}
    for other in resolved:
        if other._base is not None:  # read from a file (a shipped version has no folder)
            drawn_on[other.source] = other._text
        drawn_on.update(other._drawn_on)
    return Policy(
        spec,
        source,
        content_hash,
        metrics,
        conditions,
        routes,
        scorecards,
        origin,
        base,
        homes,
        tuple(drawn_on.items()),
        text,
    )


def _taken_from(
    other: Policy, table: dict[str, Any], theirs: dict[str, Any], origin: dict[str, str], own: str
) -> dict[str, Any]:
    """The elements of ``table`` taken from ``other`` (not the file's own, ``own``)."""
    return {
        k: v
        for k, v in table.items()
        if k in theirs and origin[k] != own and origin[k] == other.origin[k]
    }


def _scorecard_leaves(test: Any) -> Iterator[ScorecardPass]:
    for leaf in iter_leaves(test):
        if isinstance(leaf, ScorecardPass):
            yield leaf


def _claim_metric(
    name: str,
    other: Policy,
    metrics: dict[str, Metric],
    origin: dict[str, str],
    problems: list[Problem],
    where: str,
) -> None:
    if name not in other.metrics:
        return
    metric = other.metrics[name]
    if name in metrics:
        mine = metrics[name]
        if (mine.kind, mine.of, mine.method, mine.scale) != (
            metric.kind,
            metric.of,
            metric.method,
            metric.scale,
        ):
            problems.append(
                Problem(where, f"metric {name!r} has another formula in {other.id}, which uses it")
            )
        return
    metrics[name] = metric
    origin[name] = other.origin[name]
    for part in metric.of:
        _claim_metric(part, other, metrics, origin, problems, where)


def _names_used(
    conditions: dict[str, Condition], routes: dict[str, Route], scorecards: dict[str, Scorecard]
) -> set[str]:
    """Every fact or metric name the tests and indicators compare."""
    names: set[str] = set()
    tests: list[Any] = []
    for c in conditions.values():
        tests.append(c.test)
        if c.recheck not in (None, "skip"):
            tests.append(c.recheck)
    tests += [o.test for r in routes.values() for o in r.options]
    for s in scorecards.values():
        for ind in _all_indicators(s):
            names |= _indicator_names(ind)
            tests += [step.test for step in ind.first_of or ()]
    for t in tests:
        for leaf in iter_leaves(t):
            if isinstance(leaf, (Compare, Member, Is)):
                names.add(leaf.of)
            if isinstance(leaf, (Compare, Member)) and leaf.window is not None:
                names.add(leaf.window.fact)
    return names


def _indicator_names(ind: Indicator) -> set[str]:
    names = {ind.of} if ind.of else set()
    for sub in ind.best_of or ():
        names.add(sub.of)
    return names


def _all_indicators(scorecard: Scorecard) -> Iterator[Indicator]:
    yield from scorecard.indicators
    for block in scorecard.provinces:
        yield from block.indicators


# -- bands ---------------------------------------------------------------------------------------


def resolve_bands(
    bands: tuple[Band, ...], edges: Edges, else_points: float
) -> list[tuple[float, float, bool, bool, float]]:
    """Each band as ``(low, high, holds_low, holds_high, points)``, edges settled.

    A band holds an edge it shares with a neighbour (another band, or the region no band covers,
    which earns ``else_points``) when it scores higher (``edges: higher_points``, the default:
    "以上/以下含本数") or lower (``lower_points``) than the neighbour; ``include_min`` /
    ``include_max`` on a band override the convention. On a tie the band above holds it.
    """
    out = []
    for band in bands:
        low = -math.inf if band.min is None else band.min
        high = math.inf if band.max is None else band.max
        out.append([low, high, None, None, band.points, band])
    for entry in out:
        low, high, _, _, points, band = entry
        below = [e for e in out if e[1] == low and e is not entry]
        above = [e for e in out if e[0] == high and e is not entry]
        below_points = below[0][4] if below else else_points
        above_points = above[0][4] if above else else_points
        if band.include_min is not None:
            holds_low = band.include_min
        elif edges == "higher_points":
            holds_low = points >= below_points
        else:
            holds_low = points <= below_points
        if band.include_max is not None:
            holds_high = band.include_max
        elif edges == "higher_points":
            holds_high = points > above_points
        else:
            holds_high = points < above_points
        entry[2], entry[3] = holds_low, holds_high
    return [(e[0], e[1], bool(e[2]), bool(e[3]), e[4]) for e in out]


def _band_problems(
    bands: tuple[Band, ...], edges: Edges, else_points: float, where: str
) -> list[Problem]:
    problems = []
    resolved = sorted(resolve_bands(bands, edges, else_points), key=lambda b: (b[0], b[1]))
    for a, b in zip(resolved, resolved[1:]):
        if a[1] > b[0]:
            problems.append(Problem(where, f"bands overlap: up to {a[1]:g} and from {b[0]:g}"))
        elif a[1] == b[0] and a[3] and b[2]:
            problems.append(Problem(where, f"two bands hold the edge {a[1]:g}"))
        elif a[1] == b[0] and not a[3] and not b[2]:
            problems.append(Problem(where, f"no band holds the edge {a[1]:g}"))
    return problems


def indicator_range(ind: Indicator) -> tuple[float, float]:
    """The fewest and most points an indicator can earn."""
    if ind.bands:
        points = [b.points for b in ind.bands] + [ind.else_points]
    elif ind.categories:
        points = [*ind.categories.values(), ind.else_points]
    elif ind.first_of:
        points = [s.points for s in ind.first_of] + [ind.else_points]
    else:
        assert ind.best_of
        points = [b.points for s in ind.best_of for b in s.bands] + [
            s.else_points for s in ind.best_of
        ]
    return min(points), max(points)


# -- checks across the file ----------------------------------------------------------------------


def _check(
    spec: _PolicySpec,
    metrics: dict[str, Metric],
    conditions: dict[str, Condition],
    routes: dict[str, Route],
    scorecards: dict[str, Scorecard],
    base: Path | None,
) -> list[Problem]:
    facts = facts_table()
    problems: list[Problem] = []

    def add(where: str, problem: str) -> None:
        problems.append(Problem(where, problem))

    names = set(facts.codes) | set(metrics)
    for i, m in enumerate(spec.metrics):
        where = f"metrics[{i}] (id {m.id!r})"
        if m.id in facts:
            add(where, f"a metric may not take a fact's name ({m.id!r})")
        for part in m.of:
            if part not in names:
                add(f"{where}.of", f"unknown fact or metric {part!r}")
            elif part in facts and facts[part].type != "number":
                add(f"{where}.of", f"{part!r} is a {facts[part].type} fact, not a number")
        cycle = _cycle(m.id, lambda name: metrics[name].of if name in metrics else ())
        if cycle:
            add(f"{where}.of", f"a metric cannot be worked out from itself ({' → '.join(cycle)})")

    def rests_on_a_fact(test: Any) -> bool:
        """Whether every way the test holds needs a fact (or metric) to hold too."""
        if isinstance(test, AllOf):
            return any(rests_on_a_fact(sub) for sub in test.all)
        if isinstance(test, AnyOf):
            return all(rests_on_a_fact(sub) for sub in test.any)
        return not isinstance(test, Manual)

    def check_test(test: Any, where: str, in_scorecard: bool = False) -> None:
        has_manual = any(isinstance(leaf, Manual) for leaf in iter_leaves(test))
        if in_scorecard and has_manual and not rests_on_a_fact(test):
            # a claim's points may wait on a review (all of: the fact, then manual), but a step
            # a review alone can make hold would leave the points of firms without the fact open
            add(where, "a scorecard step cannot be manual alone (give the fact it rests on)")
        for leaf in iter_leaves(test):
            if isinstance(leaf, Manual):
                continue
            if isinstance(leaf, ScorecardPass):
                if leaf.scorecard not in scorecards:
                    add(where, f"unknown scorecard {leaf.scorecard!r}")
                continue
            if leaf.of not in names:
                add(where, f"unknown fact or metric {leaf.of!r}")
                continue
            fact: Fact | None = facts[leaf.of] if leaf.of in facts else None
            if isinstance(leaf, Compare):
                if fact is not None and fact.type != "number":
                    add(where, f"{leaf.of!r} is a {fact.type} fact: compare it with 'in' or 'is'")
            elif isinstance(leaf, Member):
                if fact is None or fact.type != "category":
                    add(where, f"'in' needs a category fact, {leaf.of!r} is not one")
                else:
                    for v in leaf.in_:
                        if v not in fact.value_codes:
                            add(
                                where,
                                f"{v!r} is not a value of {leaf.of!r} "
                                f"(expected {', '.join(fact.value_codes)})",
                            )
            elif isinstance(leaf, Is) and (fact is None or fact.type != "yesno"):
                add(where, f"'is' needs a yes/no fact, {leaf.of!r} is not one")
            window = getattr(leaf, "window", None)
            if window is not None and (
                window.fact not in facts or not facts[window.fact].calendar_year
            ):
                years = [f.code for f in facts if f.calendar_year]
                add(
                    where,
                    f"the window needs a fact that is a calendar year ({', '.join(years)}), got "
                    f"{window.fact!r}",
                )

    for i, c in enumerate(spec.conditions):
        where = f"conditions[{i}] (id {c.id!r})"
        check_test(c.test, f"{where}.test")
        if c.recheck not in (None, "skip"):
            check_test(c.recheck, f"{where}.recheck")
    for i, r in enumerate(spec.routes):
        where = f"routes[{i}] (id {r.id!r})"
        for j, o in enumerate(r.options):
            check_test(o.test, f"{where}.options[{j}] (id {o.id!r}).test")
        for cid in r.replaces:
            if cid not in conditions:
                add(f"{where}.replaces", f"unknown condition {cid!r}")

    for i, s in enumerate(spec.scorecards):
        where = f"scorecards[{i}] (id {s.id!r})"
        problems += _scorecard_problems(s, where, names, check_test)
        cycle = _cycle(
            s.id, lambda sid: _scorecards_tested(scorecards[sid]) if sid in scorecards else ()
        )
        if cycle:
            add(where, f"passes only if it passes ({' → '.join(cycle)}): it cannot test itself")

    used_conditions: set[str] = set()
    used_routes: set[str] = set()
    for rung_id, rung in spec.rungs.items():
        where = f"rungs.{rung_id}"
        listed = list(rung.conditions) + [c for p in rung.paths for c in p.conditions]
        for cid in listed:
            if cid not in conditions:
                add(where, f"unknown condition {cid!r}")
        for cid in sorted({c for c in listed if listed.count(c) > 1}):
            add(where, f"condition {cid!r} is listed twice")
        used_conditions |= set(listed)
        for rid in sorted({r for r in rung.routes if rung.routes.count(r) > 1}):
            add(f"{where}.routes", f"route {rid!r} is listed twice")
        used_routes |= set(rung.routes)
        for rid in rung.routes:
            if rid not in routes:
                add(f"{where}.routes", f"unknown route {rid!r}")
                continue
            for cid in routes[rid].replaces:
                if cid not in listed:
                    add(f"{where}.routes", f"route {rid!r} replaces {cid!r}, not a condition here")
        if rung.points is not None and rung.points not in scorecards:
            add(f"{where}.points", f"unknown scorecard {rung.points!r}")
        for j, p in enumerate(rung.paths):
            if any(q.id == p.id for q in rung.paths[:j]):
                add(f"{where}.paths[{j}]", f"path id {p.id!r} is used twice")
            if p.points is not None and p.points not in scorecards:
                add(f"{where}.paths[{j}].points", f"unknown scorecard {p.points!r}")
    for rung_id in RUNGS:
        if rung_id not in spec.rungs:
            add("rungs", f"rung {rung_id!r} is missing")
    for i, c in enumerate(spec.conditions):
        if c.id not in used_conditions:
            add(f"conditions[{i}] (id {c.id!r})", "not used by any rung")
    for i, r in enumerate(spec.routes):
        where = f"routes[{i}] (id {r.id!r})"
        if r.id not in used_routes:
            add(where, "not used by any rung")
        if r.id in conditions:
            # both are columns of the output, by id
            add(where, "a condition has this id too; a route needs an id of its own")
    if spec.routing and not _own_rungs_apply(spec):
        others = sorted({entry.policy for entry in spec.routing})
        add(
            "routing",
            f"every entry sends its firms to other rules ({', '.join(others)}): this file's own "
            f"rungs apply to no one (an entry for this file names its id, {spec.id!r})",
        )

    for i, entry in enumerate(spec.routing):
        where = f"routing[{i}]"
        before = [
            j
            for j, e in enumerate(spec.routing[:i])
            if (e.rung, e.applicant) == (entry.rung, entry.applicant)
        ]
        last = _span(entry)[1]
        if last < spec.effective.year:
            # no application year of this file is that early (application_year refuses it)
            add(
                f"{where}.years",
                f"never applies: its years end in {last:g}, before the file applies "
                f"(effective {spec.effective.isoformat()})",
            )
        if before and _covered(_span(entry), [_span(spec.routing[j]) for j in before]):
            # the first entry that applies is taken: this one never is
            earlier = " and ".join(f"routing[{j}]" for j in before)
            add(
                where,
                f"never applies: {earlier} before it {'covers' if len(before) == 1 else 'cover'} "
                "its rung, applicant and years",
            )
        if entry.policy == spec.id:
            continue
        try:
            other = _resolve(entry.policy, base)
        except (FileNotFoundError, PolicyError) as exc:
            add(f"{where}.policy", _in_one_line(exc))
            continue
        if entry.rung not in other.rungs:
            add(where, f"{entry.policy} has no rung {entry.rung!r}")
    return problems


def _cycle(start: str, refers_to: Any) -> list[str] | None:
    """A path of names from ``start`` back to it through ``refers_to(name)`` (a metric's
    parts, the scorecards a scorecard's steps test), or None."""

    leads_nowhere: set[str] = set()  # names walked from without reaching ``start``

    def walk(path: list[str]) -> list[str] | None:
        for name in refers_to(path[-1]):
            if name == start:
                return [*path, name]
            if name not in path and name not in leads_nowhere:
                found = walk([*path, name])
                if found:
                    return found
                leads_nowhere.add(name)
        return None

    return walk([start])


def _scorecards_tested(card: Scorecard) -> set[str]:
    """The scorecards a scorecard's steps (``first_of``) test."""
    return {
        leaf.scorecard
        for ind in _all_indicators(card)
        for step in ind.first_of or ()
        for leaf in _scorecard_leaves(step.test)
    }


def _span(entry: Routing) -> tuple[float, float]:
    """A routing entry's years, first and last (infinite where open)."""
    years = entry.years
    return (
        -math.inf if years is None or years.from_ is None else years.from_,
        math.inf if years is None or years.to is None else years.to,
    )


def _covered(span: tuple[float, float], others: list[tuple[float, float]]) -> bool:
    """Whether every year of ``span`` is in one of ``others``."""
    start, end = span
    reached = start - 1  # the years up to here are covered
    for first, last in sorted(others):
        if first > reached + 1:
            break
        reached = max(reached, last)
    return reached >= end


def _own_rungs_apply(spec: _PolicySpec) -> bool:
    """Whether some rung, applicant and year is routed to the file itself: an entry names its
    id, or no entry covers some year of a rung and applicant (the file's rung then applies)."""
    if any(entry.policy == spec.id for entry in spec.routing):
        return True
    for rung in RUNGS:
        for applicant in ("new", "recheck"):
            spans = [_span(e) for e in spec.routing if (e.rung, e.applicant) == (rung, applicant)]
            if not _covered((-math.inf, math.inf), spans):
                return True  # some years have no entry
    return False


def _scorecard_problems(
    s: Scorecard, where: str, names: set[str], check_test: Any
) -> list[Problem]:
    facts = facts_table()
    problems: list[Problem] = []

    def add(w: str, p: str) -> None:
        problems.append(Problem(w, p))

    groups = {g.id: g for g in s.groups}
    for g in s.groups:
        if sum(other.id == g.id for other in s.groups) > 1:
            add(f"{where}.groups", f"group id {g.id!r} is used twice")
            break
    province_groups = [g for g in s.groups if g.province]
    if len(province_groups) > 1:
        add(f"{where}.groups", "at most one province group")
    indicator_ids: set[str] = set()
    max_of_group = dict.fromkeys(groups, 0.0)

    def check_indicator(ind: Indicator, w: str, ids: set[str]) -> None:
        if ind.id in ids:
            add(w, f"indicator id {ind.id!r} is used twice")
        ids.add(ind.id)
        if ind.group not in groups:
            add(w, f"unknown group {ind.group!r}")
        banded = {ind.of} if ind.bands else {sub.of for sub in ind.best_of or ()}
        for name in _indicator_names(ind):
            if name not in names:
                add(w, f"unknown fact or metric {name!r}")
            elif name in facts and name in banded and facts[name].type != "number":
                add(w, f"bands need a number, {name!r} is a {facts[name].type} fact")
        if ind.categories is not None and ind.of in names and ind.of not in facts:
            add(w, f"categories need a category or yes/no fact, {ind.of!r} is a metric")
        if ind.categories is not None and ind.of in facts:
            fact = facts[ind.of]
            allowed = fact.value_codes if fact.type == "category" else ("yes", "no")
            if fact.type not in ("category", "yesno"):
                add(w, f"categories need a category or yes/no fact, {ind.of!r} is not one")
            for v in ind.categories:
                if v not in allowed:
                    add(w, f"{v!r} is not a value of {ind.of!r} (expected {', '.join(allowed)})")
        edges = ind.edges or s.edges
        if ind.bands:
            problems.extend(_band_problems(ind.bands, edges, ind.else_points, f"{w}.bands"))
        for j, sub in enumerate(ind.best_of or ()):
            problems.extend(
                _band_problems(sub.bands, sub.edges or edges, sub.else_points, f"{w}.best_of[{j}]")
            )
        for j, step in enumerate(ind.first_of or ()):
            check_test(step.test, f"{w}.first_of[{j}].test", in_scorecard=True)

    for i, ind in enumerate(s.indicators):
        check_indicator(ind, f"{where}.indicators[{i}] (id {ind.id!r})", indicator_ids)
        if ind.group in groups:
            if groups[ind.group].province:
                add(f"{where}.indicators[{i}]", "province indicators go in 'provinces'")
            max_of_group[ind.group] += indicator_range(ind)[1]
    for g in s.groups:
        if g.province:
            continue
        if not math.isclose(max_of_group[g.id], g.points):
            add(
                f"{where}.groups (id {g.id!r})",
                f"points {g.points:g} but its indicators add up to {max_of_group[g.id]:g}",
            )
    for g in s.groups:
        for floor in (g.floor, g.floor_above):
            if floor is not None and floor > g.points:
                add(f"{where}.groups (id {g.id!r})", f"floor {floor:g} is above its {g.points:g}")
    total = sum(g.points for g in s.groups)
    if s.pass_mark > total:
        add(f"{where}.pass_mark", f"{s.pass_mark:g} is above the total {total:g}")
    if s.provinces and not province_groups:
        add(f"{where}.provinces", "province blocks need a group with province: true")
    if s.province_fact is not None and not province_groups:
        add(f"{where}.province_fact", "needs a group with province: true, which it gives")
    for i, block in enumerate(s.provinces):
        w = f"{where}.provinces[{i}]"
        block_max = 0.0
        # an id may recur across provinces, not within one nor as the scorecard's own
        block_ids = set(indicator_ids)
        for j, ind in enumerate(block.indicators):
            check_indicator(ind, f"{w}.indicators[{j}] (id {ind.id!r})", block_ids)
            if ind.group in groups and not groups[ind.group].province:
                add(f"{w}.indicators[{j}]", f"group {ind.group!r} is not the province group")
            block_max += indicator_range(ind)[1]
        if province_groups and block_max > province_groups[0].points:
            add(w, f"its indicators add up to {block_max:g}, above {province_groups[0].points:g}")
        if block.pass_mark is not None and block.pass_mark > total:
            add(f"{w}.pass_mark", f"{block.pass_mark:g} is above the total {total:g}")
    if s.province_fact is not None and (
        s.province_fact not in facts or facts[s.province_fact].type != "number"
    ):
        add(f"{where}.province_fact", f"needs a number fact, got {s.province_fact!r}")
    return problems

"""Instruments: questionnaires with their scoring rules, loaded from YAML files.

An instrument is data, not code (see ``docs/instrument-format.md``). This module parses and
validates an instrument file, collecting every problem into one error that names the file, the
element and what was wrong, and exposes the derived structure the scoring engine needs (the flat
item list, the hierarchy, maximum points and default weights).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dmi.errors import InstrumentProblem
from dmi.instruments.items import ITEM_TYPES, item_type
from dmi.instruments.items.base import check_unambiguous_labels, check_unique_values

__all__ = [
    "FORMAT",
    "Band",
    "Dimension",
    "Indicator",
    "Instrument",
    "Item",
    "Derive",
    "LevelBand",
    "LevelFlag",
    "Option",
    "ProfileField",
    "Text",
]

FORMAT = "dmi-instrument/1"

CONTENT_HASH = "content_hash"
"""The serialisation context key (``model_dump(context={CONTENT_HASH: True})``) under which an
instrument is dumped for its content hash: settings that change no score are left out."""

_CODE = r"^[a-z][a-z0-9_]*$"
MissingPolicy = Literal["required", "lowest", "exclude"]
Direction = Literal["higher_is_better", "lower_is_better"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Versioned(_Strict):
    """A model with settings added after ``dmi-instrument/1`` was first published.

    Such a setting is left out of the model's dump while it holds its default, so a file that
    does not use it keeps the content hash it had before (fitted models record that hash and
    refuse an instrument whose hash differs).
    """

    _added_later: ClassVar[tuple[str, ...]] = ()
    # settings that change no score (only the advice): left out of the content hash, so that
    # marking an item as not actionable keeps every fitted model of the instrument valid
    _not_hashed: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _leave_out_unused_settings(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self._added_later:
                if getattr(self, name) == type(self).model_fields[name].default:
                    data.pop(name, None)
            if isinstance(info.context, dict) and info.context.get(CONTENT_HASH):
                for name in self._not_hashed:
                    data.pop(name, None)
        return data


class Text(_Strict):
    """A text in both languages."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """Return the text in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.zh if lang == "zh" else self.en


class Note(_Strict):
    topic: str
    source: str = ""
    confidence: Literal["V", "I", "U", "D"]
    text: str


class _Valued(_Strict):
    """A choice with a ``value``: YAML numbers (``1``, ``2.5``) become their text."""

    @model_validator(mode="before")
    @classmethod
    def _value_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("value"), (int, float)):
            data = {**data, "value": _number_text(data["value"])}
        return data


class Option(_Valued):
    """One answer option of a ``single`` or ``multi`` item."""

    value: str
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    points: float | None = Field(default=None, ge=0)  # a checklist's options have none
    exclusive: bool = False


class Band(_Valued):
    """One band of a banded ``number`` item."""

    value: str
    lower: float
    upper: float
    points: float = Field(ge=0)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Goalposts(_Strict):
    low: float
    high: float


class LikertScale(_Strict):
    min: int
    max: int
    zh_low: str = ""
    en_low: str = ""
    zh_high: str = ""
    en_high: str = ""


class Derive(_Strict):
    """How a banded ``number`` item is derived from raw numbers in other columns.

    The item's value is ``part * scale / whole`` (a share in % with the default ``scale``);
    both raw columns must be numbers of at least 0, with ``part`` at most ``whole`` and
    ``whole`` above 0. A row that gives the raw numbers and also the item's answer must give
    an answer in the same band as the derived value.
    """

    part: Annotated[str, Field(pattern=_CODE)]
    whole: Annotated[str, Field(pattern=_CODE)]
    scale: float = Field(default=100.0, gt=0)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class ScenarioLevel(_Strict):
    value: int = Field(ge=0)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Item(_Versioned):
    """One question. Its answer is scored into [0, 1] (points earned / maximum points)."""

    _added_later: ClassVar[tuple[str, ...]] = (
        "letter_runs",
        "actionable",
        "subject",
        "labels",
        "derive",
    )
    # ``derive`` only says where a band answer may come from, never how it scores
    _not_hashed: ClassVar[tuple[str, ...]] = ("actionable", "subject", "derive")

    code: Annotated[str, Field(pattern=_CODE)]
    type: str  # a name of ITEM_TYPES
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    help: Text | None = None
    missing: MissingPolicy | None = None
    weight: float | None = Field(default=None, ge=0)
    points: float | None = Field(default=None, gt=0)
    options: tuple[Option, ...] = ()
    max_points: float | None = Field(default=None, gt=0)
    scale: LikertScale | None = None
    direction: Direction = "higher_is_better"
    unit: str = ""
    min: float | None = None
    max: float | None = None
    closed: Literal["right", "left"] = "right"
    bands: tuple[Band, ...] = ()
    goalposts: Goalposts | None = None
    mandatory: bool = False
    letter_runs: bool | None = None  # multi: "BCE" read as B;C;E (None: defaults.letter_runs)
    # advice only (not hashed): False for an outcome question (cost, revenue, pass rate ...),
    # which a company cannot change by answering otherwise, so no improvement is advised
    actionable: bool = True
    subject: Text | None = None  # what the item measures, named in advice ("生产设备数字化率")
    labels: tuple[Text, ...] = ()  # rating: one label per point of the scale
    derive: Derive | None = None  # number with bands: derived from raw numbers

    @field_validator("type", mode="before")
    @classmethod
    def _a_known_type(cls, value: Any) -> Any:
        if not (isinstance(value, str) and value in ITEM_TYPES):
            names = [repr(name) for name in ITEM_TYPES]
            expected = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
            raise PydanticCustomError(
                "literal_error", "Input should be {expected}", {"expected": expected}
            )
        return value

    def text(self, lang: str) -> str:
        """The question in ``lang``."""
        return self.zh if lang == "zh" else self.en

    def letter_codes(self) -> dict[str, int]:
        """Each option value's position, when every value is a single letter and all are in
        one case (only then can a run of letters such as ``BCE`` stand for options); else {}."""
        values = [o.value for o in self.options]
        letters = all(len(v) == 1 and v.isalpha() for v in values)
        one_case = all(v.isupper() for v in values) or all(v.islower() for v in values)
        return {v: i for i, v in enumerate(values)} if values and letters and one_case else {}


class Indicator(_Strict):
    code: Annotated[str, Field(pattern=_CODE)]
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    weight: float | None = Field(default=None, ge=0)
    items: tuple[Item, ...] = Field(min_length=1)


class Dimension(_Strict):
    code: Annotated[str, Field(pattern=_CODE)]
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    weight: float | None = Field(default=None, ge=0)
    indicators: tuple[Indicator, ...] = Field(min_length=1)


class ProfileOption(_Valued):
    value: str
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class ProfileField(_Strict):
    code: Annotated[str, Field(pattern=_CODE)]
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    type: Literal["choice", "text", "number"]
    help: Text | None = None
    required: bool = False
    peer_group: bool = False
    options: tuple[ProfileOption, ...] = ()
    min: float | None = None
    max: float | None = None


class LevelBand(_Strict):
    level: int = Field(ge=0)
    min: float = Field(ge=0)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class LevelFlag(_Strict):
    """A yes/no mark on the index (e.g. Eurostat's "at least basic"): output column ``code``,
    True when the index reaches ``min`` (on the levels' ``scale``, with their ``closed``)."""

    code: Annotated[str, Field(pattern=_CODE)]
    min: float = Field(ge=0)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class ScenarioRequirement(_Strict):
    level: int
    min_scenario_level: int = Field(ge=1)
    count: int = Field(ge=0)
    mandatory_count: int = Field(default=0, ge=0)


class ScenarioRule(_Strict):
    enabled: bool = False
    dimension: str
    requirements: tuple[ScenarioRequirement, ...] = ()


class Levels(_Versioned):
    """Level bands on the index.

    ``scale`` is the scale the band edges are written on (100: the index itself; 12: a score of
    12 points, whose edges the index reaches at ``edge * 100 / 12``). ``closed`` is the edge
    convention: ``left`` (an index exactly at an edge is in the band above it, as MIIT's
    ``[40, 60)``) or ``right`` (it is in the band below it, as "Basic <= 25").
    """

    _added_later: ClassVar[tuple[str, ...]] = ("scale", "closed", "flags")

    bands: tuple[LevelBand, ...] = Field(min_length=1)
    scenario_rule: ScenarioRule | None = None
    scale: float = Field(default=100.0, gt=0)
    closed: Literal["left", "right"] = "left"
    flags: tuple[LevelFlag, ...] = ()

    def edge(self, value: float) -> float:
        """An edge written on :attr:`scale`, on the index's 0-100 scale."""
        return value if self.scale == 100.0 else value * 100.0 / self.scale


class Tier(_Strict):
    tier: int = Field(ge=1)
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    support: Text


class Defaults(_Versioned):
    _added_later: ClassVar[tuple[str, ...]] = ("letter_runs",)

    missing: MissingPolicy = "required"
    letter_runs: bool = False


class _InstrumentSpec(_Strict):
    format: Literal["dmi-instrument/1"]
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    version: str = Field(min_length=1)
    title: Text
    description: Text | None = None
    notes: tuple[Note, ...] = ()
    defaults: Defaults = Defaults()
    profile: tuple[ProfileField, ...] = ()
    scenario_levels: tuple[ScenarioLevel, ...] = ()
    levels: Levels
    tiers: tuple[Tier, ...] = ()
    dimensions: tuple[Dimension, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _version_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("version"), (int, float)):
            data = {**data, "version": str(data["version"])}
        return data


@dataclass(frozen=True)
class ItemPath:
    """Where an item sits in the hierarchy."""

    item: Item
    indicator: Indicator
    dimension: Dimension


class Instrument:
    """A loaded, validated instrument.

    Build one with :func:`load_instrument`. The object is immutable; its ``hash`` identifies the
    exact content it was loaded from, so fitted models can refuse a different instrument.
    """

    def __init__(self, spec: _InstrumentSpec, source: str, content_hash: str):
        self._spec = spec
        self.source = source
        self.hash = content_hash

    # -- plain attributes -------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._spec.id

    @property
    def version(self) -> str:
        return self._spec.version

    @property
    def title(self) -> Text:
        return self._spec.title

    @property
    def description(self) -> Text | None:
        return self._spec.description

    @property
    def notes(self) -> tuple[Note, ...]:
        return self._spec.notes

    @property
    def dimensions(self) -> tuple[Dimension, ...]:
        return self._spec.dimensions

    @property
    def profile(self) -> tuple[ProfileField, ...]:
        return self._spec.profile

    @property
    def scenario_levels(self) -> tuple[ScenarioLevel, ...]:
        return self._spec.scenario_levels

    @property
    def levels(self) -> Levels:
        return self._spec.levels

    @property
    def tiers(self) -> tuple[Tier, ...]:
        return self._spec.tiers

    def __repr__(self) -> str:
        return (
            f"Instrument(id={self.id!r}, version={self.version!r}, "
            f"dimensions={len(self.dimensions)}, items={len(self.items)})"
        )

    # -- derived structure ------------------------------------------------------------------
    @cached_property
    def item_paths(self) -> tuple[ItemPath, ...]:
        """Every item with its indicator and dimension, in file order."""
        return tuple(
            ItemPath(item, indicator, dimension)
            for dimension in self.dimensions
            for indicator in dimension.indicators
            for item in indicator.items
        )

    @cached_property
    def items(self) -> tuple[Item, ...]:
        """Every item, in file order."""
        return tuple(p.item for p in self.item_paths)

    @cached_property
    def indicators(self) -> tuple[Indicator, ...]:
        """Every indicator, in file order."""
        return tuple(ind for dim in self.dimensions for ind in dim.indicators)

    @cached_property
    def raw_columns(self) -> tuple[str, ...]:
        """The raw-number columns that banded items are derived from (``derive``), in order."""
        seen: dict[str, None] = {}
        for item in self.items:
            if item.derive is not None:
                seen.setdefault(item.derive.part)
                seen.setdefault(item.derive.whole)
        return tuple(seen)

    @cached_property
    def derived_items(self) -> tuple[Item, ...]:
        """The items with a ``derive`` block, in file order."""
        return tuple(i for i in self.items if i.derive is not None)

    def derived_items_given(self, columns: Iterable[str]) -> tuple[Item, ...]:
        """The :attr:`derived_items` whose raw columns (``part`` and ``whole``) are all among
        ``columns`` (a file's columns): only these get a ``derived_<item>`` result column, so
        a file without raw numbers gives the same table as before they existed."""
        have = set(columns)
        return tuple(
            i
            for i in self.derived_items
            if {i.derive.part, i.derive.whole} <= have  # type: ignore[union-attr]
        )

    def item(self, code: str) -> Item:
        """The item with this code (KeyError naming the code if there is none)."""
        try:
            return self._items_by_code[code]
        except KeyError:
            raise KeyError(f"instrument {self.id!r} has no item {code!r}") from None

    @cached_property
    def _items_by_code(self) -> dict[str, Item]:
        return {item.code: item for item in self.items}

    def missing_policy(self, item: Item) -> MissingPolicy:
        """The item's missing-answer policy (its own, else the instrument default)."""
        return item.missing or self._spec.defaults.missing

    def letter_runs(self, item: Item) -> bool:
        """Whether a ``multi`` item reads a run of option letters (``BCE``) as ``B;C;E``.

        The item's own ``letter_runs``, else ``defaults.letter_runs``; always False for the
        item types without the ``letter_runs`` key.
        """
        return "letter_runs" in item_type(item).keys and _letter_runs(item, self._spec)

    def max_points(self, item: Item) -> float:
        """The maximum points an item can earn."""
        return item_type(item).max_points(item, self)

    def item_weight(self, item: Item) -> float:
        """The item's weight within its indicator (explicit, else its maximum points)."""
        return item.weight if item.weight is not None else self.max_points(item)

    def indicator_weight(self, indicator: Indicator) -> float:
        """The indicator's weight within its dimension (explicit, else the sum of item weights)."""
        if indicator.weight is not None:
            return indicator.weight
        return math.fsum(self.item_weight(i) for i in indicator.items)

    def dimension_weight(self, dimension: Dimension) -> float:
        """The dimension's weight in the index (explicit, else the sum of indicator weights)."""
        if dimension.weight is not None:
            return dimension.weight
        return math.fsum(self.indicator_weight(i) for i in dimension.indicators)

    def scenario_items(self, dimension: str | None = None) -> tuple[Item, ...]:
        """The ``scenario`` items (of one dimension when ``dimension`` is given)."""
        return tuple(
            p.item
            for p in self.item_paths
            if item_type(p.item).scenario and (dimension is None or p.dimension.code == dimension)
        )

    def level_band(self, level: int) -> LevelBand:
        """The level band with this level number."""
        for band in self.levels.bands:
            if band.level == level:
                return band
        raise KeyError(f"instrument {self.id!r} has no level {level}")

    def tier(self, tier: int) -> Tier | None:
        """The description of support tier ``tier`` (None when the file has none)."""
        return next((t for t in self.tiers if t.tier == tier), None)

    def profile_field(self, code: str) -> ProfileField:
        for field in self.profile:
            if field.code == code:
                return field
        raise KeyError(f"instrument {self.id!r} has no profile field {code!r}")

    def iter_texts(self) -> Iterator[tuple[str, str, str]]:
        """Yield ``(code, zh, en)`` for every dimension, indicator and item."""
        for dim in self.dimensions:
            yield dim.code, dim.zh, dim.en
            for ind in dim.indicators:
                yield ind.code, ind.zh, ind.en
                for item in ind.items:
                    yield item.code, item.zh, item.en

    def to_dict(self) -> dict[str, Any]:
        """The instrument as plain data (what the YAML file said, with defaults filled in)."""
        return self._spec.model_dump(mode="json", exclude_none=True)


def _letter_runs(item: Item, spec: _InstrumentSpec) -> bool:
    return item.letter_runs if item.letter_runs is not None else spec.defaults.letter_runs


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# -- loading ----------------------------------------------------------------------------------


def _semantic_problems(spec: _InstrumentSpec) -> list[InstrumentProblem]:
    problems: list[InstrumentProblem] = []
    # what the item types ask of the instrument while its items are checked
    checking = Instrument(spec, source="", content_hash="")

    def add(where: str, problem: str) -> None:
        problems.append(InstrumentProblem(where, problem))

    seen: dict[str, str] = {}

    def claim(code: str, where: str) -> None:
        if code in seen:
            add(where, f"code {code!r} is already used by {seen[code]}")
        else:
            seen[code] = where

    for field in spec.profile:
        where = f"profile field {field.code!r}"
        claim(field.code, where)
        if field.type == "choice" and not field.options:
            add(where, "a choice field needs options")
        check_unique_values([o.value for o in field.options], where, add)
        check_unambiguous_labels(
            [(o.value, (o.zh, o.en)) for o in field.options], "option", where, add
        )
    if spec.id and "respondent_id" in seen:
        add("profile field 'respondent_id'", "respondent_id is reserved for the respondent column")

    scenario_values = [s.value for s in spec.scenario_levels]
    check_unambiguous_labels(
        [(str(s.value), (s.zh, s.en)) for s in spec.scenario_levels],
        "scenario level",
        "scenario_levels",
        add,
    )
    if scenario_values and scenario_values != list(range(len(scenario_values))):
        add("scenario_levels", f"values must be 0, 1, 2, ... in order, got {scenario_values}")

    index_weight = 0.0
    for dim in spec.dimensions:
        dim_where = f"dimension {dim.code!r}"
        claim(dim.code, dim_where)
        dim_total = 0.0
        for ind in dim.indicators:
            ind_where = f"indicator {ind.code!r}"
            claim(ind.code, ind_where)
            ind_total = 0.0
            for item in ind.items:
                where = f"item {item.code!r}"
                claim(item.code, where)
                _check_item(item, checking, where, add)
                ind_total += item.weight if item.weight is not None else _safe_max(item, checking)
            if (ind.weight if ind.weight is not None else ind_total) < 0:
                add(ind_where, "weight must not be negative")
            dim_total += ind.weight if ind.weight is not None else ind_total
        index_weight += dim.weight if dim.weight is not None else dim_total
    if index_weight <= 0:
        add("dimensions", "the dimension weights add up to 0: at least one must be positive")

    bands = spec.levels.bands
    levels = [b.level for b in bands]
    if levels != sorted(levels) or len(set(levels)) != len(levels):
        add("levels.bands", f"levels must be distinct and ascending, got {levels}")
    mins = [b.min for b in bands]
    if any(b <= a for a, b in zip(mins, mins[1:])):
        add("levels.bands", f"lower bounds must strictly increase, got {mins}")
    if mins and mins[0] != 0:
        add(
            "levels.bands",
            f"the first band must start at 0 so every index has a level, got {mins[0]}",
        )
    scale = spec.levels.scale
    for where, value in [("levels.bands", m) for m in mins] + [
        (f"levels.flags ({f.code!r})", f.min) for f in spec.levels.flags
    ]:
        if value > scale:
            add(where, f"edge {value:g} is above the levels' scale {scale:g}")
    for flag in spec.levels.flags:
        claim(flag.code, f"level flag {flag.code!r}")
    for item in (i for d in spec.dimensions for ind in d.indicators for i in ind.items):
        if item.derive is not None:
            for raw in (item.derive.part, item.derive.whole):
                if seen.get(raw, "").startswith("raw column"):
                    continue  # two items may share a raw column (equipment_total)
                claim(raw, f"raw column {raw!r} of item {item.code!r}")
    rule = spec.levels.scenario_rule
    if rule is not None:
        dims = {d.code: d for d in spec.dimensions}
        if rule.dimension not in dims:
            add("levels.scenario_rule", f"dimension {rule.dimension!r} is not in the instrument")
        elif not any(
            item_type(i).scenario for ind in dims[rule.dimension].indicators for i in ind.items
        ):
            add("levels.scenario_rule", f"dimension {rule.dimension!r} has no scenario items")
        top = max(scenario_values, default=0)
        for req in rule.requirements:
            where = f"levels.scenario_rule (level {req.level})"
            if req.level not in levels:
                add(where, f"level {req.level} is not one of the bands {levels}")
            if req.min_scenario_level > top:
                add(
                    where,
                    f"min_scenario_level {req.min_scenario_level} exceeds the top level {top}",
                )
            if req.mandatory_count > req.count:
                add(where, "mandatory_count cannot exceed count")

    tier_numbers = [t.tier for t in spec.tiers]
    if tier_numbers and tier_numbers != list(range(1, len(tier_numbers) + 1)):
        add("tiers", f"tiers must be numbered 1, 2, ... in order, got {tier_numbers}")
    return problems


def _safe_max(item: Item, instrument: Instrument) -> float:
    try:
        return item_type(item).max_points(item, instrument)
    except ValueError:
        return 0.0


# the keys every item has; any other key belongs to the types that list it
_ITEM_KEYS = frozenset(
    {"code", "type", "zh", "en", "help", "missing", "weight", "actionable", "subject"}
)


def _check_item(item: Item, instrument: Instrument, where: str, add: Any) -> None:
    kind = item_type(item)
    for key in sorted(item.model_fields_set - _ITEM_KEYS - kind.keys):
        add(where, f"key {key!r} does not apply to a {item.type!r} item")
    kind.check(item, instrument, where, add)

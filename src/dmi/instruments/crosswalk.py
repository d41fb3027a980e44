"""Crosswalks: how the answers to one instrument give answers to another (data, not code).

A crosswalk file (``dmi-crosswalk/1``, shipped under ``data/crosswalks/``, see
``docs/crosswalk.md``) names a ``source`` and a ``target`` instrument and, for every item of
the target, either a rule that derives its answer from source answers or ``none:`` with the
reason there is no mapping. A rule is one of:

- ``from: CODE`` with ``values: {source value: target value}`` — a one-valued source answer
  (an option, a band, a level) becomes the target's option (or rating, or yes/no);
- ``when: {from: CODE, any: [values]}`` — a yes/no target: yes when the source answer holds
  any of the values, else no;
- ``options: {target option: {from: CODE, any: [values]}}`` — a multiple-choice or checklist
  target: each listed option ticked when its condition holds (the options not listed are never
  ticked: say so with ``match: partial``); with none ticked, the target's exclusive option.

Every value is a value of the codebook (``dmi codebook``) of its instrument; each rule says how
closely the questions match (``same``, ``close`` or ``partial``). A target answer is blank when
a source answer it needs is blank. :func:`dmi.scoring.crosswalk.map_answers` applies a
crosswalk to a whole table,
one pass per distinct cell of each source column; :mod:`dmi.scoring.crosswalk` applies it (the
scoring reads the cells).
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dmi.errors import InstrumentError, InstrumentProblem, MissingFileError
from dmi.instruments.format import Instrument, Item
from dmi.instruments.items import item_type
from dmi.instruments.loading import load_instrument
from dmi.yamlfile import load_unique

__all__ = [
    "Crosswalk",
    "available_crosswalks",
    "find_crosswalk",
    "load_crosswalk",
]

_CODE = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    source: Annotated[str, Field(alias="from", pattern=_CODE)]
    any: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _texts(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("any"), list):
            data = {**data, "any": [str(v) for v in data["any"]]}
        return data


class Rule(_Strict):
    """How one target item is answered (or why it is not)."""

    target: Annotated[str, Field(pattern=_CODE)]
    match: Literal["same", "close", "partial"] | None = None
    source: Annotated[str | None, Field(alias="from")] = None
    values: dict[str, str] | None = None
    when: Condition | None = None
    options: dict[str, Condition] | None = None
    none: str | None = None
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _texts(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("values"), dict):
            data = {**data, "values": {str(k): str(v) for k, v in data["values"].items()}}
        return data

    @property
    def mapped(self) -> bool:
        return self.none is None

    @property
    def sources(self) -> tuple[str, ...]:
        """The source items the rule reads."""
        if self.source is not None:
            return (self.source,)
        if self.when is not None:
            return (self.when.source,)
        return tuple(dict.fromkeys(c.source for c in (self.options or {}).values()))


class _CrosswalkSpec(_Strict):
    format: Literal["dmi-crosswalk/1"]
    source: str
    target: str
    unmapped: Literal["exclude", "lowest"] = "exclude"
    notes: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = Field(min_length=1)


class Crosswalk:
    """A loaded, checked crosswalk from ``source`` answers to ``target`` answers.

    Attributes
    ----------
    source, target : Instrument
    unmapped : {"exclude", "lowest"}
        How the target scores an item no rule answers: left out (its siblings reweighted; a
        dimension the crosswalk does not reach is left out of the index) or as its lowest
        answer (the target's score is then a lower bound, as for the DII's count of yes).
    rules : tuple of Rule
    """

    def __init__(self, spec: _CrosswalkSpec, source: Instrument, target: Instrument, path: str):
        self._spec = spec
        self.source = source
        self.target = target
        self.path = path

    @property
    def unmapped(self) -> str:
        return self._spec.unmapped

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._spec.rules

    @property
    def notes(self) -> tuple[str, ...]:
        return self._spec.notes

    @cached_property
    def unmapped_items(self) -> tuple[str, ...]:
        """The target items no rule answers, in the target's order."""
        mapped = {r.target for r in self.rules if r.mapped}
        return tuple(i.code for i in self.target.items if i.code not in mapped)

    @property
    def prefix(self) -> str:
        """The prefix of the columns ``dmi score --also`` adds (the target id with ``_``)."""
        return self.target.id.replace("-", "_") + "_"

    def __repr__(self) -> str:
        return f"Crosswalk({self.source.id!r} -> {self.target.id!r}, {len(self.rules)} rules)"


def _folder() -> Path:
    return Path(str(files("dmi.instruments").joinpath("data", "crosswalks")))


def available_crosswalks() -> list[tuple[str, str]]:
    """(source, target) of every shipped crosswalk."""
    pairs = []
    for path in sorted(_folder().glob("*.yaml")):
        source, _, target = path.stem.partition("--")
        pairs.append((source, target))
    return pairs


def find_crosswalk(source: str, target: str) -> Crosswalk:
    """The shipped crosswalk from instrument ``source`` to ``target``.

    Raises
    ------
    FileNotFoundError
        Naming the targets there are crosswalks to from ``source``.
    """
    path = _folder() / f"{source}--{target}.yaml"
    if not path.is_file():
        reachable = [t for s, t in available_crosswalks() if s == source]
        raise MissingFileError(
            f"no crosswalk from {source} to {target}; from {source} there are crosswalks to: "
            f"{', '.join(reachable) or 'none'}"
        )
    return load_crosswalk(path)


@lru_cache(maxsize=16)
def _load(path: str) -> Crosswalk:
    raw = load_unique(Path(path).read_text(encoding="utf-8"))
    try:
        spec = _CrosswalkSpec.model_validate(raw)
    except ValidationError as exc:
        problems = [
            InstrumentProblem(".".join(str(p) for p in err["loc"]) or "file", err["msg"])
            for err in exc.errors()
        ]
        raise InstrumentError(path, problems) from None
    source = load_instrument(spec.source)
    target = load_instrument(spec.target)
    problems = _problems(spec, source, target)
    if problems:
        raise InstrumentError(path, problems)
    return Crosswalk(spec, source, target, path)


def load_crosswalk(path: str | Path) -> Crosswalk:
    """Load and check a crosswalk file; every problem is listed in one InstrumentError."""
    return _load(str(Path(path)))


def _values(instrument: Instrument, item: Item) -> set[str]:
    """The values a cell of ``item`` can stand for (its codebook's values)."""
    rows = item_type(item).codebook_rows(item, instrument)
    return {str(r["value"]) for r in rows if str(r["value"]) != ""}


def _problems(spec: _CrosswalkSpec, source: Instrument, target: Instrument) -> list[Any]:
    problems: list[InstrumentProblem] = []
    source_items = {i.code: i for i in source.items}
    target_items = {i.code: i for i in target.items}
    seen: set[str] = set()

    def add(where: str, problem: str) -> None:
        problems.append(InstrumentProblem(where, problem))

    def check_condition(where: str, condition: Condition) -> None:
        item = source_items.get(condition.source)
        if item is None:
            add(where, f"{condition.source!r} is not an item of {source.id}")
            return
        unknown = sorted(set(condition.any) - _values(source, item))
        if unknown:
            add(where, f"{', '.join(unknown)} are not values of {source.id} item {item.code!r}")

    for k, rule in enumerate(spec.rules):
        where = f"rules[{k}] ({rule.target})"
        target_item = target_items.get(rule.target)
        if target_item is None:
            add(where, f"{rule.target!r} is not an item of {target.id}")
            continue
        if rule.target in seen:
            add(where, f"{rule.target!r} has more than one rule")
        seen.add(rule.target)
        kinds = [
            name
            for name, given in (
                ("values", rule.values is not None),
                ("when", rule.when is not None),
                ("options", rule.options is not None),
                ("none", rule.none is not None),
            )
            if given
        ]
        if len(kinds) != 1:
            add(where, f"expected exactly one of values, when, options or none; got {kinds}")
            continue
        if rule.mapped and rule.match is None:
            add(where, "a mapping needs match: same, close or partial")
        targets = _values(target, target_item)
        if rule.values is not None:
            item = source_items.get(rule.source or "")
            if item is None:
                add(where, f"from: {rule.source!r} is not an item of {source.id}")
                continue
            unknown = sorted(set(rule.values) - _values(source, item))
            if unknown:
                add(where, f"{', '.join(unknown)} are not values of {source.id} {item.code!r}")
            wrong = sorted(set(rule.values.values()) - targets)
            if wrong:
                add(where, f"{', '.join(wrong)} are not values of {target.id} {rule.target!r}")
        elif rule.when is not None:
            if targets != {"yes", "no"}:
                add(where, f"when: needs a yes/no target; {rule.target!r} is not one")
            check_condition(where, rule.when)
        elif rule.options is not None:
            options = {o.value for o in target_item.options}
            if not options:
                add(where, f"options: needs a target with options; {rule.target!r} has none")
            for value, condition in rule.options.items():
                if value not in options:
                    add(where, f"{value!r} is not an option of {target.id} {rule.target!r}")
                check_condition(f"{where}.options.{value}", condition)
    missing = [code for code in target_items if code not in seen]
    if missing:
        add(
            "rules",
            f"every item of {target.id} needs a rule or none: (the reason there is no "
            f"mapping); missing: {', '.join(missing)}",
        )
    return problems

"""The provincial-level units of 梯度培育, and a province as a file spells it read as one of them.

A cohort counts the firms of a province together whatever spelling each row uses (广东省,
广东, Guangdong, ``guangdong province``), and a rule file's province block matches the same
spellings. The units and their names are data: ``provinces.yaml`` beside the rule files.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dmi.eligibility._data import DATA, Problem, check_lang, load_yaml
from dmi.text import folded, match_key

__all__ = [
    "Province",
    "ProvincesError",
    "canonical_provinces",
    "city_names",
    "names_as_known",
    "place_key",
    "province_key",
    "province_names",
    "province_of",
    "unplaced_provinces",
]

# one suffix is taken off a name: the longest that fits first (维吾尔自治区 before 自治区)
_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "autonomousregion",
    "municipality",
    "province",
    "自治区",
    "city",
    "省",
    "市",
)


def place_key(name: str) -> str:
    """A place name folded for matching (:func:`dmi.text.match_key`), one suffix taken off
    (``广东省`` and ``Guangdong Province`` give ``广东`` and ``guangdong``)."""
    text = match_key(name)
    for suffix in _SUFFIXES:
        # a name of two characters or more is left (沙市 is a district's name, not 沙's)
        if text.endswith(suffix) and len(text) - len(suffix) >= 2:
            return text[: -len(suffix)]
    return text


class ProvincesError(ValueError):
    """The table of provinces is not valid (a shipped file's fault: raised when it is read)."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Province:
    """A provincial-level unit: its GB/T 2260 code ("" for none; a spelling of it too, as the
    survey's answers hold it) and its names."""

    code: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.zh, self.en, *self.aliases)


@functools.cache
def _table() -> tuple[tuple[Province, ...], dict[str, Province]]:
    source = "provinces.yaml"
    data = load_yaml(DATA.joinpath(source).read_text(encoding="utf-8"), source, ProvincesError)
    problems: list[Problem] = []
    provinces: list[Province] = []
    for i, entry in enumerate(data.get("provinces") or []):
        where = f"provinces[{i}]"
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and entry[k].strip() for k in ("zh", "en")
        ):
            problems.append(Problem(where, "needs a zh and an en name"))
            continue
        aliases = entry.get("aliases") or []
        provinces.append(
            Province(str(entry.get("code", "")), entry["zh"], entry["en"], tuple(map(str, aliases)))
        )
    by_key: dict[str, Province] = {}
    for i, province in enumerate(provinces):
        for name in (*province.names, *([province.code] if province.code else [])):
            key = place_key(name)
            other = by_key.setdefault(key, province)
            if other is not province:
                problems.append(
                    Problem(f"provinces[{i}]", f"{name!r} is also a name of {other.zh}")
                )
    if not provinces:
        problems.append(Problem("provinces", "expected a list of provinces"))
    if problems:
        raise ProvincesError(source, problems)
    return tuple(provinces), by_key


def canonical_provinces() -> tuple[Province, ...]:
    """The provincial-level units, in the file's order."""
    return _table()[0]


def province_of(name: str) -> Province | None:
    """The unit a spelling names: any of its names or its code (``44``, or the six-digit
    ``440000``, also written as a number with zero decimals, ``44.0``, as a column of numbers
    with blanks is written to CSV), or its code followed by a name (``44 广东``, as survey tools
    export a choice); None when it is none of them (a city, a typo)."""
    by_key = _table()[1]
    whole = _WHOLE_NUMBER.fullmatch(name.strip())
    if whole is not None:
        name = whole[1]
    found = by_key.get(place_key(name))
    if found is None:
        code, _, rest = name.strip().partition(" ")
        if code.isdigit() and (rest or len(code) == 6):
            found = by_key.get(code) or by_key.get(_province_code(code))
    return found


_WHOLE_NUMBER = re.compile(r"(\d+)\.0+")


def _province_code(code: str) -> str:
    """A six-digit division code of a province (``440000``) as its two digits (``44``)."""
    return code[:2] if len(code) == 6 and code.endswith("0000") else code


def province_key(name: str) -> str:
    """A province block's name or a firm's province as one key: a provincial-level unit's
    Chinese name for any of its spellings (Guangdong, 广东, 广东省), else the folded name
    without its suffix (a province block's city: 苏州 and 苏州市 are one; a cohort's city column
    is grouped by :func:`city_names`)."""
    found = province_of(name)
    return found.zh if found is not None else place_key(name)


def province_names(column: pd.Series, lang: str = "zh") -> pd.Series:
    """A province column with each known spelling as the unit's name in ``lang``
    (``Guangdong`` -> ``广东省``; ``广东`` -> ``Guangdong`` in English) and any other text as
    written, trimmed; blanks stay blank."""
    check_lang(lang)

    def name(text: str) -> str | None:
        found = province_of(text)
        return None if found is None else found.zh if lang == "zh" else found.en

    return names_as_known(column, name)


def city_names(column: pd.Series, lang: str = "zh") -> pd.Series:
    """A city column with the spellings of one name as one group (广州市, 广州 and `` 广州 ``
    are 广州; ``Guangzhou City``, ``guangzhou`` and full-width ``ＧＵＡＮＧＺＨＯＵ`` are
    ``Guangzhou``), matched as a province block's name is (:func:`place_key`: NFKC, case,
    spaces and one suffix ignored), named by that key, a Latin one capitalised (the name
    depends on the spelling only, so each chunk of a file names a group alike). A city that is
    a unit of ``provinces.yaml`` (the four municipalities and the five 计划单列市: 上海,
    Shanghai, 深圳市) is one group in either language, named in ``lang`` (上海, Shanghai);
    another city's Chinese and Latin names are two groups (dmi has no table of cities); blanks
    stay blank."""
    check_lang(lang)

    def name(text: str) -> str:
        unit = province_of(text)
        if unit is not None and unit.zh.endswith("市"):  # 吉林市 is 吉林省's: not one of them
            return unit.zh.removesuffix("市") if lang == "zh" else unit.en
        # the key is folded to lower case: its first letter in capitals names the group
        return place_key(text).capitalize()

    return names_as_known(column, name)


def unplaced_provinces(column: Any) -> tuple[np.ndarray, Counter]:
    """The positions of the cells of a province column (trimmed text, None when blank) that
    name no unit of ``provinces.yaml``, and how many cells say each such name; each distinct
    name is looked up once."""
    codes, uniques = pd.factorize(np.asarray(column, dtype=object), use_na_sentinel=True)
    unknown = np.array([province_of(str(u)) is None for u in uniques] + [False], dtype=bool)
    found = np.flatnonzero(unknown[codes])
    counts = np.bincount(codes[found], minlength=len(uniques))
    return found, Counter({str(uniques[i]): int(c) for i, c in enumerate(counts) if c})


def names_as_known(column: pd.Series, known: Callable[[str], str | None]) -> pd.Series:
    """A column of names (places, sectors) with each cell ``known`` names (given its trimmed
    NFKC text) as that name, any other text as written, trimmed; blanks stay blank. Each
    distinct cell is read once."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    named = []
    for value in uniques:
        text = folded(str(value)).strip()
        named.append((known(text) if text else None) or text or None)
    table = np.array([*named, None], dtype=object)
    out = table[np.where(codes < 0, len(uniques), codes)]
    return pd.Series(out, index=column.index, dtype=object, name=column.name)

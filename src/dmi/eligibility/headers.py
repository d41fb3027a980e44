"""A file's headers matched to the facts of the 梯度培育 ladder (and to the MIIT survey's items).

One matching for every way facts come in: ``dmi eligibility`` and the app's bulk page read a
file's headers with :func:`map_fact_columns`, and :func:`dmi.eligibility.evaluate` reads a
frame's columns with it too, so a header the command reads (a fact's code in any case, its zh or
en label, an alias, a unit in brackets) is read the same way by the Python API.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from dmi.columns import ID_COLUMN
from dmi.eligibility.export import COMPUTED
from dmi.eligibility.facts import FACTS, facts_table, parse_cell
from dmi.eligibility.survey import survey_least_items
from dmi.errors import FileFormatError
from dmi.io import ID_ALIASES, ColumnMapping
from dmi.io.mapping import assign_headers, header_unit, loose_key, match_unmatched
from dmi.text import match_key

__all__ = [
    "check_map_codes",
    "few_items_note",
    "header_spellings",
    "ignored_lines",
    "map_fact_columns",
]

_BRACKETED = re.compile(r"[（(][^）)]*[）)]")  # a label's note: 年限（截至上年末）


def _key(text: str) -> str:
    return match_key(str(text))


def header_spellings(fact: Any) -> list[str]:
    """The headers a file's column of ``fact`` is read from (:func:`map_fact_columns`), in the
    order they are tried; case, width and spaces aside, and a unit in brackets after them."""
    return list(dict.fromkeys(name for tier in _spelling_tiers(fact) for name in tier))


def _spelling_tiers(fact: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A fact's header spellings in the three tiers headers are matched by: its code, zh and en
    labels and aliases; the short labels of the gap texts (资产负债率, last year's revenue); a label
    without its notes in brackets (从事特定细分市场年限). A level dmi computed
    (digital_level_computed) is read by its code only, as evaluate() reads it: a person's
    "数字化水平" is the stated level."""
    if fact.code in COMPUTED:
        return (fact.code, *fact.aliases), (), ()
    own = (fact.code, fact.zh, fact.en, *fact.aliases)
    short = tuple(fact.short_label(lang) for lang in ("zh", "en")) if fact.short else ()
    unbracketed = {label: _BRACKETED.sub("", label) for label in (fact.zh, fact.en)}
    bare = tuple(b for label, b in unbracketed.items() if b != label and _key(b))
    return own, short, bare


def map_fact_columns(
    headers: list[str],
    *,
    instrument: Any = None,
    custom: dict[str, str] | None = None,
) -> ColumnMapping:
    """Match a file's headers to facts (code, zh/en label, aliases) and, given the survey's
    ``instrument``, to its items (code, zh/en text); a custom mapping (header -> code) first.

    A fact takes a header before an item does; a header the custom mapping sends somewhere
    takes its target first (``""``: the header is left out), then a target is taken by the
    first header that matches it, and the others that match it are listed as duplicates
    (ignored, :attr:`ColumnMapping.duplicates`), as :func:`dmi.io.map_columns` does.

    A fact's header may name its column's unit (``上年营业收入（元）``): another unit of the
    fact's kind is recorded in :attr:`ColumnMapping.units` (the column is converted as it is
    read), a unit of another kind is refused.

    Raises
    ------
    FileFormatError
        When the custom mapping names a column that is neither a fact nor an item, or a header
        names a unit its fact cannot be given in.
    """
    targets: dict[str, str] = {}
    for alias in ID_ALIASES:
        targets.setdefault(_key(alias), ID_COLUMN)
    # every fact's own names first, then the short labels, then the bare labels: a header is
    # the first fact's that takes it in that order
    for tier in range(3):
        for fact in FACTS:
            for name in _spelling_tiers(fact)[tier]:
                targets.setdefault(_key(name), fact.code)
    items: set[str] = set()
    if instrument is not None:
        for item in instrument.items:
            items.add(item.code)
            for name in (item.code, item.zh, item.en):
                targets.setdefault(_key(name), item.code)
    check_map_codes(custom, items)
    mapping = assign_headers(headers, targets, custom)
    codes = {_key(f.code): f.code for f in FACTS}
    # an id question in a group (``facts/统一社会信用代码``) by the names dmi score's layout of
    # a survey tool's export takes it by (:data:`dmi.io.ID_ALIASES`): the two commands name
    # the rows of one export alike
    codes |= {_key(alias): ID_COLUMN for alias in ID_ALIASES}
    match_unmatched(
        mapping,
        headers,
        lambda header: _group_tail(header, codes) or _worded_as_asked(header, targets),
        custom,
    )
    mapping.units = _header_units(mapping)
    if instrument is not None:
        _set_aside_few_items(mapping, headers, items, len(instrument.items))
    taken = set(mapping.rename.values())
    mapping.missing_items = sorted(items - taken) if items & taken else []
    mapping.missing_profile = [
        f.code for f in FACTS if f.code not in taken and f.code not in COMPUTED
    ]
    return mapping


def check_map_codes(custom: dict[str, str] | None, items: set[str]) -> None:
    """Refuse a custom mapping that sends a header to a column that is neither a fact nor one
    of the survey's ``items``."""
    valid = {f.code for f in FACTS} | items
    for header, code in (custom or {}).items():
        if code and code not in valid:
            raise FileFormatError(
                f"the mapping sends {_key(header)!r} to {code!r}, which is neither a fact nor an "
                "item of the survey (see `dmi eligibility codebook`)"
            )


def _group_tail(header: str, codes: dict[str, str]) -> str | None:
    """The fact a header names as a question in a group, as KoboToolbox exports do
    (``finance/revenue_y1``, ``a/b/niche_years``): its longest tail after a ``/`` that is a
    fact's code (``codes``: matching key -> code), or a name of the id. Codes only: ``研发人员/
    职工总数`` is a ratio, not staff."""
    parts = header.split("/")
    for k in range(1, len(parts)):
        code = codes.get(_key("/".join(parts[k:])))
        if code is not None:
            return code
    return None


_ASKED = "是否"  # 是否高新技术企业: a yes/no (or a title's) question
_COUNTED = ("数量", "个数", "数")  # Ⅰ类知识产权数量: a count


def _worded_as_asked(header: str, targets: dict[str, str]) -> str | None:
    """The fact a header names as a question or a count of it (``是否高新技术企业`` is
    ``high_tech_title``, ``Ⅰ类知识产权数量（项）`` ``ip_class1``): its key without a leading
    是否 or a trailing 数量 / 个数 / 数 (a whole-number fact
    only), a unit after it aside, matching a fact's name. A 是否 question is a fact's only
    where 是 and 否 are answers of it (a yes/no fact, a title held)."""
    key = loose_key(header)
    table = FACTS
    if key.startswith(_ASKED):
        code = targets.get(key[len(_ASKED) :])
        # a question answered 是 or 否: not one of an award's level (是否科技奖励 is no award)
        if code in table and all(parse_cell(table[code], w) is not None for w in ("是", "否")):
            return code
    for tail in _COUNTED:
        if key.endswith(tail):
            code = targets.get(key[: -len(tail)])
            if code in table and table[code].type == "number" and table[code].integer:
                return code
    return None


def _set_aside_few_items(
    mapping: ColumnMapping, headers: list[str], items: set[str], n_items: int
) -> None:
    """Leave unmatched the survey's item columns when they are too few to be its answers (a
    helper column named ``investment``): scored, the items missing would count as the lowest
    answers, and their level would be put before the stated one."""
    found = [h for h, c in mapping.rename.items() if c in items]
    if not found or len(found) >= survey_least_items(n_items):
        return
    for header in found:
        del mapping.rename[header]
    unmatched = set(mapping.unmatched) | set(found)
    mapping.unmatched = [h for h in headers if h in unmatched]
    mapping.few_items = found


IGNORED_WHY = "not a fact or a survey item"
"""Why a header that matches nothing is ignored, in the "ignored columns" line."""


def ignored_lines(mapping: ColumnMapping) -> list[str]:
    """What the mapping of a facts file's headers left out, a line each
    (:meth:`~dmi.io.ColumnMapping.ignored_lines`), each column named once, in the line that
    says why: the item columns too few to be the survey's answers are left to
    :func:`few_items_note` (they are unmatched, but not for matching nothing)."""
    few = set(mapping.few_items)
    unmatched = [h for h in mapping.unmatched if h not in few]
    return replace(mapping, unmatched=unmatched).ignored_lines(IGNORED_WHY)


def few_items_note(mapping: ColumnMapping, n_items: int) -> str:
    """The summary's note of item columns too few to be the survey's answers."""
    return (
        f"columns named like items of the MIIT survey, too few to be its answers "
        f"({len(mapping.few_items)} of {n_items}; the digital level is computed from a file "
        f"with at least {survey_least_items(n_items)}): {', '.join(mapping.few_items)}"
    )


def _header_units(mapping: ColumnMapping) -> dict[str, str]:
    """Fact -> the unit its header names, where that is another unit than the fact's.

    A header whose unit after a slash or a bare % is of another kind than its fact's
    (``研发人员%``, a share, is no count of R&D staff) is no header of the fact: left unmatched
    (in place); one in brackets is refused, as it says the unit plainly."""
    table = facts_table()
    units: dict[str, str] = {}
    for header, code in list(mapping.rename.items()):
        unit = header_unit(header)
        fact = table[code] if code in table else None
        # a year, a count without a measure word: what a header says of it is not checked
        if unit is None or fact is None or fact.type != "number" or not fact.unit:
            continue
        try:
            ratio = table.ratio(fact, unit)
        except KeyError:
            if header_unit(header, bracketed=True) is None:
                del mapping.rename[header]
                mapping.unmatched = [*mapping.unmatched, header]
                continue
            raise FileFormatError(
                f"the header {header!r} gives {code} in {unit}; {code} is in {fact.unit}: "
                f"expected {', '.join(table.units_read(fact))} (or another header, or a --map "
                "entry leaving the column out)",
                problem="header_unit",
                header=header,
                fact=code,
                unit=unit,
                expected=", ".join(table.units_read(fact)),
            ) from None
        if ratio != 1:
            units[code] = unit
    return units

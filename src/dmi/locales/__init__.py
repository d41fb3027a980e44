"""Every fixed text dmi shows people, in Chinese and English, in one table.

The table is package data: one YAML file per area of the interface, ``app.yaml`` (the app's
pages), ``survey.yaml`` (the survey's checks), ``items.yaml`` (the item types' wording: the next
better answer, labels of choices), ``report.yaml`` (the company report), ``levels.yaml`` (why a
company has its level) and ``tiers.yaml`` (a company's tier, and what would move it up).
A text's key is ``<area>.<name>``, the area being the name of its file, so that a key is unique
across the files by construction; a name repeated inside one file is refused when the table is
read (YAML itself would keep the last one silently).

Each entry has exactly two texts, ``zh`` and ``en``, with the same ``{field}`` names::

    peers_text:
      zh: 在 {group}的 {size} 家参考企业中 ...
      en: Among the {size} reference companies in {group} ...

Texts that come from an instrument (questions, options, level and tier names) stay in the
instrument file; the tier model's sentences are still written in :mod:`dmi.tiers`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Any

import yaml

from dmi.yamlfile import load_unique

__all__ = ["LANGS", "fields", "table", "text"]

LANGS = ("zh", "en")
"""The interface languages, in the order they are offered."""


def fields(template: str) -> frozenset[str]:
    """The names of the ``{field}``s of a text (format specs such as ``{p:.0f}`` aside).

    Raises
    ------
    ValueError
        When a brace is unmatched or a field has no name (``{}``); a literal brace is written
        ``{{`` or ``}}``.
    """
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier():
            raise ValueError(f"the field {{{name}}} is not a name")
        names.add(name)
    return frozenset(names)


def _read_area(source: str, document: str) -> dict[str, dict[str, str]]:
    """The entries of one area file, checked: each has a ``zh`` and an ``en`` text, nothing else,
    with the same fields."""
    try:
        data = load_unique(document)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not a readable YAML table: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a mapping of text keys, got {type(data).__name__}")
    entries: dict[str, dict[str, str]] = {}
    for name, entry in data.items():
        where = f"{source}: {name}"
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{where}: a text key is a name of letters, digits and _")
        if not isinstance(entry, dict) or set(entry) != set(LANGS):
            got = sorted(map(str, entry)) if isinstance(entry, dict) else type(entry).__name__
            raise ValueError(f"{where}: expected exactly the texts {', '.join(LANGS)}, got {got}")
        for lang in LANGS:
            if not isinstance(entry[lang], str):
                raise ValueError(f"{where}.{lang}: expected a text, got {entry[lang]!r}")
        try:
            named = {lang: fields(entry[lang]) for lang in LANGS}
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if len(set(named.values())) != 1:
            listed = "; ".join(f"{lang} {sorted(named[lang])}" for lang in LANGS)
            raise ValueError(f"{where}: the languages name different fields: {listed}")
        entries[name] = {lang: entry[lang] for lang in LANGS}
    return entries


def _read_table(folder: Traversable) -> dict[str, dict[str, str]]:
    """Every entry of the ``*.yaml`` files of ``folder``, by ``<file name>.<key>``."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".yaml"):
            continue
        area = path.name.removesuffix(".yaml")
        for name, entry in _read_area(path.name, path.read_text(encoding="utf-8")).items():
            found[f"{area}.{name}"] = entry
    return found


@cache
def table() -> Mapping[str, Mapping[str, str]]:
    """The whole table, read once: key -> ``{"zh": ..., "en": ...}`` (read-only).

    Raises
    ------
    ValueError
        When a shipped file breaks the rules above (a defect of dmi, not of its input).
    """
    found = _read_table(files(__name__))
    return MappingProxyType({key: MappingProxyType(entry) for key, entry in found.items()})


def text(key: str, lang: str, **values: Any) -> str:
    """The text ``key`` in ``lang``, its ``{field}``s filled with ``values``.

    Parameters
    ----------
    key : str
        ``<area>.<name>``, e.g. ``"report.title"``.
    lang : {"zh", "en"}
        The language.
    **values
        A value for every field of the text (more are ignored).

    Raises
    ------
    KeyError
        When there is no text ``key``, or a field is given no value.
    ValueError
        When ``lang`` is not one of :data:`LANGS`.
    """
    if lang not in LANGS:
        raise ValueError(f"the language must be one of {', '.join(LANGS)}, got {lang!r}")
    try:
        entry = table()[key]
    except KeyError:
        raise KeyError(f"no interface text {key!r}") from None
    return entry[lang].format(**values)

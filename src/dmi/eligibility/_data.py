"""Where the shipped cultivation files live, and how YAML is read (shared by facts and policies)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from dmi.errors import ParameterError
from dmi.yamlfile import load_unique

__all__ = ["A_TEST", "DATA", "Problem", "describe_error", "describe_location", "load_yaml"]

# read through importlib.resources so that an installed wheel finds them too; the folder is plain
# package data of ``dmi`` (see pyproject.toml), not a package of its own
DATA: Traversable = resources.files("dmi").joinpath("instruments", "data", "cultivation")


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: where (a field path) and what."""

    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


def load_yaml(text: str, source: str, error: type[Exception]) -> dict[str, Any]:
    """Parse YAML text that must hold a mapping; ``error(source, [Problem])`` otherwise."""
    try:
        data = load_unique(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(source, [Problem(where, f"not valid YAML: {problem}")]) from None
    except ValueError as exc:  # a value the loader cannot make (a date is said where it is)
        raise error(source, [Problem("file", f"not valid YAML: {exc}")]) from None
    if data is None:
        raise error(source, [Problem("file", "the file is empty; expected a mapping of settings")])
    if not isinstance(data, dict):
        raise error(
            source, [Problem("file", f"expected a mapping at the top, got {type(data).__name__}")]
        )
    return data


def describe_location(data: Any, loc: tuple[Any, ...]) -> str:
    """A pydantic location as a path that names ids: ``conditions[3] (id 'sr26_rd').test``.

    The tags of tagged unions (``compare``, ``all`` ...) are pydantic's, not the file's: a tag
    is skipped when the next key applies to the node the tag is at rather than to the node the
    tag would lead to, so the path is the one a reader follows in the file.
    """
    parts: list[str] = []
    node = data
    missing = object()
    # pydantic names the members of a union it tried (``literal['skip']``, ``tagged-union[...]``):
    # not keys of the file, which never hold a bracket
    loc = tuple(k for k in loc if not (isinstance(k, str) and "[" in k))
    for i, key in enumerate(loc):
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if isinstance(key, str) and key in _TAGS and isinstance(node, dict):
            as_field = node.get(key, missing)
            if as_field is missing or (
                nxt is not None and _applies(node, nxt) and not _applies(as_field, nxt)
            ):
                continue
        if isinstance(key, int) and isinstance(node, list):
            node = node[key] if 0 <= key < len(node) else None
            label = f"[{key}]"
            if isinstance(node, dict):
                for name in ("id", "code", "value"):
                    if name in node:
                        label += f" ({name} {node[name]!r})"
                        break
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return ".".join(parts) or "file"


def _applies(node: Any, key: Any) -> bool:
    return (isinstance(node, dict) and key in node) or (
        isinstance(node, list) and isinstance(key, int)
    )


_TAGS = frozenset({"compare", "member", "is", "manual", "scorecard", "all", "any"})


A_TEST = (
    "a test (a comparison such as {of: rd_y1, at_least: 100}, in, is, manual, scorecard, all or "
    "any)"
)
"""What a rule file's test is, as an error says it expected one."""


_PERCENT = re.compile(r"\s*(?P<number>[-+]?\d+(?:\.\d+)?)\s*%\s*")
"""A number with its percent sign (``70%``; ``７０％`` once NFKC has made it ASCII)."""


def describe_error(err: dict[str, Any]) -> str:
    """One pydantic error as a plain sentence."""
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return f"unknown key (value {err.get('input')!r})"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":  # "Input should be 'V', 'I' or 'U'": the values as they are
        msg = str(err["msg"])
        return f"{msg[:1].lower()}{msg[1:]}, got {err.get('input')!r}"
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        return f"expected {A_TEST}, got {err.get('input')!r}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    got = err.get("input")
    if isinstance(got, (dict, list)):  # a whole element: the location names it already
        return msg
    if kind == "float_parsing" and isinstance(got, str):
        percent = _PERCENT.fullmatch(unicodedata.normalize("NFKC", got))
        if percent is not None:  # a percentage is written as its number: the unit is the percent
            number = percent["number"]
            return f"{msg} (got {got!r}); write the number alone, {number} for {number}%"
    return f"{msg} (got {got!r})"


def check_lang(lang: Any) -> None:
    """Refuse a language other than ``zh`` and ``en`` (a label asked in ``fr`` came back in
    English, or Chinese, without a word)."""
    if lang not in ("zh", "en"):
        raise ParameterError(f"lang must be 'zh' or 'en', got {lang!r}", parameter="lang")


def yaml_words(value: Any) -> Any:
    """A value of a YAML file with its bare yes/no as the words: YAML 1.1 reads ``no`` as
    False, and the facts table and the rule files mean the word (in a list too)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return [yaml_words(v) for v in value]
    return value

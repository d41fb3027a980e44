"""How dmi reads YAML: safely, and never a key given twice in one mapping.

YAML itself keeps the last of a key given twice, so a rule file's ``pass_mark: 60`` then
``pass_mark: 90`` would say 90, and a column map's second entry for one header would win,
without a word. Every YAML file dmi reads (instruments, crosswalks, rule files, the facts
table, the interface texts, column maps, method files, AHP matrices) goes through
:class:`UniqueKeyLoader`, which refuses it naming the lines.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["UniqueKeyLoader", "load_unique"]

# libyaml's parser when PyYAML was built with it: the same documents, several times faster
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UniqueKeyLoader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, refusing a key given twice in one mapping (a
    :class:`yaml.constructor.ConstructorError` naming the key and its lines), and a value
    YAML reads as a date that is none (``2026-13-01``), naming where it is."""

    def construct_document(self, node: Any) -> Any:
        _keys_once(node, set())  # the document as written, before merges are put in
        return super().construct_document(node)

    def _timestamp(self, node: Any) -> Any:
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError as exc:  # datetime's own error, which has no place in the file
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{node.value!r} reads as a date and is none ({exc}); quote it to give text",
                node.start_mark,
            ) from None


UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", UniqueKeyLoader._timestamp)


class _UniqueKeyTextLoader(getattr(yaml, "CBaseLoader", yaml.BaseLoader)):  # type: ignore[misc]
    """:class:`UniqueKeyLoader` with every scalar read as the text it is (``no``, ``2024``
    and a blank stay ``"no"``, ``"2024"`` and ``""``): for a file of names, a column map."""

    def construct_document(self, node: Any) -> Any:
        _keys_once(node, set())
        return super().construct_document(node)


def load_unique(text: str, *, as_text: bool = False) -> Any:
    """A YAML document read by :class:`UniqueKeyLoader`; ``as_text``: every scalar as its text
    (YAML would read a header ``yes`` as True and a blank value as None).

    Raises
    ------
    yaml.YAMLError
        Text that is not YAML, or a mapping that gives a key twice.
    """
    loader = _UniqueKeyTextLoader if as_text else UniqueKeyLoader
    return yaml.load(text, Loader=loader)  # noqa: S506 (a safe loader, or the base one)


def _keys_once(node: Any, seen: set[int]) -> None:
    """Raise on a mapping that gives a key twice (the keys of ``<<: *merge`` may repeat one)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_line: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            _keys_once(value_node, seen)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if key in first_line:
                lines = sorted({first_line[key], line})
                where = ("lines " if len(lines) > 1 else "line ") + " and ".join(map(str, lines))
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key_node.value!r} is given twice ({where}); say each setting once",
                    key_node.start_mark,
                )
            first_line[key] = line
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _keys_once(item, seen)

"""The analysis's sentences in both languages.

A note, a flag or the reason a statistic is not computable is a :class:`Message`: a ``str``
(its English text, what the API, the JSON and an exception's message show) that also knows its
locale key (``analysis.<key>`` in ``dmi/locales/analysis.yaml``) and values, so that the report
writes it again in Chinese. A value may itself be a message (a reason inside a flag).

Tables keep messages in ``object`` columns (:func:`text_column`): pandas would otherwise store
them as plain strings and the key would be lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from dmi.locales import text

__all__ = ["Message", "join", "localise", "msg", "reason", "text_column"]


class Message(str):
    """A sentence of the analysis: its English text, and how to write it in any language."""

    key: str
    values: Mapping[str, Any]

    def __new__(cls, key: str, values: Mapping[str, Any]) -> Message:
        self = super().__new__(cls, _render(key, values, "en"))
        self.key = key
        self.values = dict(values)
        return self

    def render(self, lang: str) -> str:
        """The sentence in ``lang`` (``zh`` or ``en``)."""
        return _render(self.key, self.values, lang)

    def __reduce__(self):  # copies and pickles keep the key
        return (Message, (self.key, self.values))


def _render(key: str, values: Mapping[str, Any], lang: str) -> str:
    if key == "_join":  # several sentences: "a; b" / "a；b"
        parts = [localise(v, lang) for v in values["parts"]]
        return ("；" if lang == "zh" else "; ").join(parts)
    return text(f"analysis.{key}", lang, **{k: localise(v, lang) for k, v in values.items()})


def msg(key: str, **values: Any) -> Message:
    """The message ``analysis.<key>`` with its ``{field}`` values."""
    return Message(key, values)


def join(parts: Iterable[Any]) -> str:
    """Several messages as one (empty parts left out); ``""`` when there is none."""
    kept = [p for p in parts if p]
    if not kept:
        return ""
    if len(kept) == 1:
        return kept[0]
    return Message("_join", {"parts": kept})


def localise(value: Any, lang: str) -> Any:
    """A message in ``lang``; any other value as it is."""
    return value.render(lang) if isinstance(value, Message) else value


def reason(exc: BaseException) -> str:
    """What an exception says, as the message it was raised with when it is one."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Message) else str(exc)


def text_column(values: Iterable[Any]) -> pd.Series:
    """A column of messages (and plain strings) that keeps them as they are."""
    return pd.Series(list(values), dtype=object)

"""The JSON files dmi writes and reads back: index models, tier models, peer benchmarks and
reference documents.

Each has a pydantic schema, a subclass of :class:`ModelFile` that lives beside the class it
stores. A file is read in two steps, :func:`read_json` (the text) and :func:`check` (the schema);
whatever is wrong, truncated JSON, a missing field, a value of the wrong type or an unknown
format, is one :class:`~dmi.errors.ModelFileError` that names the file and the field.

Every file records the dmi version that wrote it (``dmi_version``); files written before dmi
recorded it have none and still load. The version says who wrote a file, not what it holds:
content hashes (:attr:`dmi.IndexModel.method_id`, reference versions) leave it out
(:func:`without_dmi_version`), so the same model is the same version under any dmi release.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from dmi.errors import MissingFileError, ModelFileError

__all__ = [
    "VERSION_FIELD",
    "ModelFile",
    "Part",
    "check",
    "dmi_version",
    "is_number",
    "read_json",
    "shown",
    "without_dmi_version",
]

VERSION_FIELD = "dmi_version"

Schema = TypeVar("Schema", bound="ModelFile")


def dmi_version() -> str:
    """The version of this dmi, recorded in every file it writes."""
    from dmi import __version__

    return __version__


class Part(BaseModel):
    """A part of a model file: strict types (``"4"`` is not a number, ``1`` not true) and no
    field the format does not define."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ModelFile(Part):
    """A whole model file: its format, the dmi version that wrote it, and the subclass's fields.

    A subclass sets ``FORMAT`` (the ``format`` value it reads) and ``KIND`` (what the file is
    called in messages, e.g. ``"tier model"``).
    """

    FORMAT: ClassVar[str]
    KIND: ClassVar[str]

    format: str
    dmi_version: str | None = None

    def problems(self) -> Iterator[tuple[str, str]]:
        """``(field, problem)`` for every rule the field types alone do not express (lengths
        that must agree, say); a subclass adds its own."""
        return iter(())


def read_json(path: str | Path, kind: str) -> tuple[Any, str]:
    """The decoded JSON of a file, and how messages name it (``"<kind> file <path>"``).

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    ModelFileError
        When the file is not JSON text (a truncated file, say).
    """
    path = Path(path)
    source = f"{kind} file {path}"
    if path.is_dir():
        raise ModelFileError(source, "", "a folder, not a file")
    if not path.is_file():
        raise MissingFileError(f"no such {kind} file: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8")), source
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(source, "", f"not valid JSON, perhaps truncated ({exc})") from None


def check(schema: type[Schema], data: Any, source: str) -> Schema:
    """``data`` checked against ``schema``: the format first, then every field.

    Parameters
    ----------
    schema
        The file's :class:`ModelFile` subclass.
    data
        The decoded JSON.
    source
        How messages name the file (``"tier model file m.json"``, ``"reference document"``).

    Raises
    ------
    ModelFileError
        Naming ``source`` and the first field that is wrong (and how many others are).
    """
    if not isinstance(data, Mapping):
        raise ModelFileError(source, "", f"expected a JSON object, got {shown(data)}")
    written_by = data.get(VERSION_FIELD)
    by = f" (written by dmi {written_by})" if isinstance(written_by, str) else ""
    if "format" not in data:
        raise ModelFileError(
            source, "format", f"missing: expected {schema.FORMAT!r} ({schema.KIND} files have it)"
        )
    if data["format"] != schema.FORMAT:
        raise ModelFileError(
            source,
            "format",
            f"unknown format {data['format']!r}{by}: this dmi ({dmi_version()}) reads "
            f"{schema.FORMAT!r}",
        )
    try:
        document = schema.model_validate(dict(data))
    except ValidationError as exc:
        found = [
            (_field(error["loc"]), _problem(error, schema, by))
            for error in exc.errors(include_url=False)
        ]
    else:
        found = list(document.problems())
        if not found:
            return document
    field, problem = found[0]
    if len(found) > 1:
        problem += f" (and {len(found) - 1} more problem{'s' if len(found) > 2 else ''})"
    raise ModelFileError(source, field, problem) from None


def without_dmi_version(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a file's top level without ``dmi_version``: what content hashes are taken of."""
    return {key: value for key, value in document.items() if key != VERSION_FIELD}


def _field(loc: tuple[Any, ...]) -> str:
    """``("labels", 2, "zh")`` -> ``labels[2].zh``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(error: Mapping[str, Any], schema: type[ModelFile], by: str) -> str:
    kind, message = error["type"], str(error["msg"])
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return f"not a field of {schema.FORMAT}{by}"
    if kind == "value_error":  # raised by one of the schema's own checks: already a sentence
        return message.removeprefix("Value error, ")
    return f"{message[:1].lower()}{message[1:]}, got {shown(error.get('input'))}"


def is_number(value: Any) -> bool:
    """True for a JSON number (not true or false)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def shown(value: Any) -> str:
    """A JSON value as a message shows it: its kind, and the value when it is short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the text {value if len(value) <= 40 else value[:37] + '...'!r}"
    if isinstance(value, list):
        return f"a list of {len(value)} value{'s' if len(value) != 1 else ''}"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__

"""Loading instruments: the shipped ones (package data, found with :mod:`importlib.resources`,
so an installed wheel finds them as a checkout does) and any YAML file.

Every problem of a file is collected into one :class:`~dmi.errors.InstrumentError` that names the
file, the element and what was wrong.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dmi.errors import InstrumentError, InstrumentProblem, MissingFileError
from dmi.instruments.format import (
    CONTENT_HASH,
    Instrument,
    _InstrumentSpec,
    _semantic_problems,
)
from dmi.yamlfile import load_unique

__all__ = [
    "available_instruments",
    "load_instrument",
    "parse_instrument",
    "shipped_path",
    "shipped_reference_population",
]


def shipped_path(*parts: str) -> Path:
    """A file shipped with dmi under ``dmi/instruments/data/`` (package data).

    Parameters
    ----------
    *parts : str
        The path below the data folder, e.g. ``"miit-2024-manufacturing.yaml"`` or
        ``"reference", "miit-2024-manufacturing.csv"``.
    """
    return Path(str(files("dmi.instruments").joinpath("data", *parts)))


def shipped_reference_population(instrument: Any) -> Path:
    """The shipped synthetic reference population (answers) of an instrument
    (``data/reference/<instrument id>.csv``, made by ``make data``).

    Data-driven methods are fitted on it by default, so that a company's score never depends
    on who else is in the file it is scored with.

    Parameters
    ----------
    instrument : Instrument or str
        The instrument or its id.

    Raises
    ------
    FileNotFoundError
        When no population is shipped for the instrument.
    """
    name = instrument.id if isinstance(instrument, Instrument) else str(instrument)
    path = shipped_path("reference", f"{name}.csv")
    if not path.is_file():
        raise MissingFileError(
            f"no reference population is shipped for instrument {name!r}: pass one with "
            "--reference FILE (answers of the companies to fit the method on)"
        )
    return path


def available_instruments() -> list[str]:
    """Names of the instruments shipped with dmi (``dmi/instruments/data/*.yaml``)."""
    folder = shipped_path()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_instrument(name_or_path: str | Path) -> Instrument:
    """Load and validate an instrument.

    Parameters
    ----------
    name_or_path
        A shipped instrument's name (see :func:`available_instruments`), or a path to a YAML file.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        Listing every problem in the file, each naming the element and what was wrong.
    FileNotFoundError
        When there is no such file or shipped instrument.
    """
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        shipped = shipped_path(f"{name_or_path}.yaml")
        if not shipped.exists():
            names = ", ".join(available_instruments()) or "none"
            raise MissingFileError(
                f"no instrument named {str(name_or_path)!r}: expected a shipped name "
                f"({names}) or a path to a YAML file"
            )
        path = shipped
    if not path.is_file():
        raise MissingFileError(f"instrument file not found: {path}")
    raw = path.read_bytes()
    return parse_instrument(raw, source=str(path))


def parse_instrument(raw: bytes | str, source: str = "<string>") -> Instrument:
    """Parse and validate instrument YAML text; see :func:`load_instrument`."""
    text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    return _parse_text(text, source)


# An Instrument is immutable, so the same text from the same place can share one: the app loads
# its instrument on every page run, and parsing and validating it costs more than the page.
@lru_cache(maxsize=32)
def _parse_text(text: str, source: str) -> Instrument:
    try:
        data = load_unique(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "file"
        problem = getattr(exc, "problem", None) or str(exc)
        raise InstrumentError(
            source, [InstrumentProblem(where, f"not valid YAML: {problem}")]
        ) from None
    if not isinstance(data, dict):
        raise InstrumentError(
            source,
            [
                InstrumentProblem(
                    "file", f"expected a mapping at the top, got {type(data).__name__}"
                )
            ],
        )
    try:
        spec = _InstrumentSpec.model_validate(data)
    except ValidationError as exc:
        problems = [
            InstrumentProblem(_describe_location(data, err["loc"]), _describe_error(err))
            for err in exc.errors()
        ]
        raise InstrumentError(source, problems) from None
    problems = _semantic_problems(spec)
    if problems:
        raise InstrumentError(source, problems)
    dumped = spec.model_dump(mode="json", context={CONTENT_HASH: True})
    canonical = json.dumps(dumped, sort_keys=True, ensure_ascii=False)
    content_hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
    return Instrument(spec, source, content_hash)


def _describe_location(data: Any, loc: tuple[Any, ...]) -> str:
    """Turn a pydantic location into a path that names codes, e.g. ``item 'network'.options[2]``."""
    parts: list[str] = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            node = node[key]
            code = node.get("code") if isinstance(node, dict) else None
            if code is not None and parts:
                kind = {
                    "dimensions": "dimension",
                    "indicators": "indicator",
                    "items": "item",
                    "profile": "profile field",
                }.get(parts[-1].split(".")[-1])
                if kind:
                    parts[-1] = f"{kind} {code!r}"
                    continue
            if isinstance(node, dict) and "value" in node and parts:
                parts[-1] = f"{parts[-1]}[{key}] (value {node['value']!r})"
                continue
            parts[-1] = f"{parts[-1]}[{key}]"
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    # keep the innermost named element and what follows it
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].startswith(("item ", "indicator ", "dimension ", "profile field ")):
            return ".".join(parts[i:])
    return ".".join(parts) or "file"


def _describe_error(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return f"unknown key (value {err.get('input')!r})"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"{err['msg'].lower()}, got {err.get('input')!r}"
    return f"{err['msg']} (got {err.get('input')!r})"

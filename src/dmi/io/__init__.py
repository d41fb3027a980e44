"""Files in and out: readers (CSV, XLSX, Parquet) in chunks, the mapping of a file's headers to
an instrument, and writers of result tables.

- :mod:`~dmi.io.readers`: :func:`open_table`, :class:`TableReader` and its chunks;
- :mod:`~dmi.io.csvstream`, :mod:`~dmi.io.xlsx`: the CSV layout and early read, the streaming
  XLSX reader (neither imports pandas);
- :mod:`~dmi.io.mapping`: :func:`map_columns` and :class:`ColumnMapping`;
- :mod:`~dmi.io.writers`: :class:`TableWriter`, :func:`write_table`, formula escaping;
- :mod:`~dmi.io.memory`: the Arrow memory pool of whole-file runs (no pandas either).

The XLSX limits are settings of :mod:`dmi.io.readers` (``XLSX_MAX_*``). The names below are
imported when first used: ``dmi score`` imports :mod:`dmi.io.csvstream`
before pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

from dmi.errors import FileFormatError

_HOMES = {
    "Chunk": "readers",
    "RaggedRow": "readers",
    "StrayCells": "readers",
    "TableReader": "readers",
    "UnbalancedLine": "readers",
    "UnreadableCells": "readers",
    "detect_encoding": "readers",
    "find_header_row": "readers",
    "open_table": "readers",
    "workbook_sheets": "readers",
    "read_answers": "readers",
    "require_items_read": "readers",
    "ID_ALIASES": "mapping",
    "PROFILE_ALIASES": "mapping",
    "ColumnMapping": "mapping",
    "map_columns": "mapping",
    "read_mapping_file": "mapping",
    "require_item_columns": "mapping",
    "PARTIAL_MARK": "writers",
    "PendingFile": "writers",
    "TableWriter": "writers",
    "check_output": "writers",
    "csv_bytes": "writers",
    "escape_formulas": "writers",
    "xlsx_row": "writers",
    "unescaped": "writers",
    "write_table": "writers",
}

__all__ = [
    "Chunk",
    "ColumnMapping",
    "FileFormatError",
    "ID_ALIASES",
    "PARTIAL_MARK",
    "PROFILE_ALIASES",
    "PendingFile",
    "RaggedRow",
    "StrayCells",
    "TableReader",
    "TableWriter",
    "UnbalancedLine",
    "UnreadableCells",
    "check_output",
    "csv_bytes",
    "detect_encoding",
    "escape_formulas",
    "find_header_row",
    "map_columns",
    "open_table",
    "read_answers",
    "read_mapping_file",
    "require_item_columns",
    "require_items_read",
    "unescaped",
    "workbook_sheets",
    "write_table",
    "xlsx_row",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""The data dictionary agencies fill their files from, and the empty bulk-import template."""

from __future__ import annotations

import pandas as pd

from dmi.columns import ID_COLUMN
from dmi.instruments import Instrument
from dmi.instruments.items import item_type

__all__ = ["CODEBOOK_COLUMNS", "codebook", "template"]

CODEBOOK_COLUMNS = [
    "column",
    "item",
    "dimension",
    "type",
    "value",
    "label_zh",
    "label_en",
    "points",
    "min",
    "max",
    "missing",
]


def codebook(instrument: Instrument) -> pd.DataFrame:
    """One row per allowed answer value (or number band) of every column of the bulk file.

    Columns: ``column, item, dimension, type, value, label_zh, label_en, points, min, max,
    missing``. ``points`` is what the answer earns; ``min``/``max`` bound number bands and ranges;
    ``missing`` is the item's missing-answer policy. Profile fields come first (type ``profile``,
    no points), then the items in instrument order.
    """
    rows: list[dict[str, object]] = [
        {
            "column": ID_COLUMN,
            "item": "respondent_id",
            "dimension": "",
            "type": "id",
            "value": "",
            "label_zh": "企业（答卷）唯一编号",
            "label_en": "Unique respondent identifier",
            "points": None,
            "min": None,
            "max": None,
            "missing": "required",
        }
    ]
    for field in instrument.profile:
        base = {
            "column": field.code,
            "item": field.en,
            "dimension": "profile",
            "type": f"profile:{field.type}",
            "points": None,
            "min": None,
            "max": None,
            "missing": "required" if field.required else "allowed",
        }
        if field.type == "choice":
            rows += [
                {**base, "value": o.value, "label_zh": o.zh, "label_en": o.en}
                for o in field.options
            ]
        else:
            rows.append(
                {
                    **base,
                    "value": "",
                    "label_zh": field.zh,
                    "label_en": field.en,
                    "min": field.min,
                    "max": field.max,
                }
            )
    for path in instrument.item_paths:
        item = path.item
        kind = item_type(item)
        base = {
            "column": kind.column(item),
            "item": item.en,
            "dimension": path.dimension.code,
            "type": item.type,
            "min": None,
            "max": None,
            "missing": instrument.missing_policy(item),
        }
        rows += [{**base, **row} for row in kind.codebook_rows(item, instrument)]
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS)


def template(instrument: Instrument) -> pd.DataFrame:
    """The empty bulk-import table: ``respondent_id``, the profile fields, then every item."""
    items = [item_type(item).column(item) for item in instrument.items]
    columns = [ID_COLUMN] + [f.code for f in instrument.profile] + items
    return pd.DataFrame(columns=columns)

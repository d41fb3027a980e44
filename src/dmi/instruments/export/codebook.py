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
    no points), then the items in instrument order; an item derived from raw numbers (its
    ``derive`` block) is followed by its raw columns not listed before (type ``raw``, missing
    ``allowed``: a file may give the raw numbers instead of, or beside, the item's answer).
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
    listed: set[str] = set()
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
        rows += _raw_rows(instrument, path.dimension.code, item.code, listed)
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS)


def _raw_rows(
    instrument: Instrument, dimension: str, code: str, listed: set[str]
) -> list[dict[str, object]]:
    """The codebook rows of item ``code``'s raw columns not yet in ``listed`` (which grows):
    a raw column shared by several items (``equipment_total``) is listed once, naming them all."""
    item = instrument.item(code)
    if item.derive is None:
        return []
    rows: list[dict[str, object]] = []
    for raw in (item.derive.part, item.derive.whole):
        if raw in listed:
            continue
        listed.add(raw)
        uses = [
            (i, "part" if i.derive.part == raw else "whole")  # type: ignore[union-attr]
            for i in instrument.derived_items
            if raw in (i.derive.part, i.derive.whole)  # type: ignore[union-attr]
        ]
        rows.append(
            {
                "column": raw,
                "item": "; ".join(f"{role} of {i.code}" for i, role in uses),
                "dimension": dimension,
                "type": "raw",
                "value": "",
                "label_zh": "；".join(
                    f"{i.derive.zh}（{'分子' if role == 'part' else '分母'}）"  # type: ignore[union-attr]
                    for i, role in uses
                ),
                "label_en": "; ".join(f"{i.derive.en} ({role})" for i, role in uses),  # type: ignore[union-attr]
                "points": None,
                "min": 0,
                "max": None,
                "missing": "allowed",
            }
        )
    return rows


def template(instrument: Instrument) -> pd.DataFrame:
    """The empty bulk-import table: ``respondent_id``, the profile fields, then every item."""
    items = [item_type(item).column(item) for item in instrument.items]
    columns = [ID_COLUMN] + [f.code for f in instrument.profile] + items
    return pd.DataFrame(columns=columns)

"""The data dictionary agencies fill their files from, and the empty bulk-import template."""

from __future__ import annotations

import pandas as pd

from dmi.columns import ID_COLUMN
from dmi.instruments import Instrument

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
        base = {
            "column": item.code,
            "item": item.en,
            "dimension": path.dimension.code,
            "type": item.type,
            "min": None,
            "max": None,
            "missing": instrument.missing_policy(item),
        }
        if item.type in ("single", "multi"):
            rows += [
                {
                    **base,
                    "value": o.value,
                    "label_zh": o.zh + ("（不可与其他选项同选）" if o.exclusive else ""),
                    "label_en": o.en + (" (cannot be combined)" if o.exclusive else ""),
                    "points": o.points,
                }
                for o in item.options
            ]
        elif item.type == "number" and item.bands:
            rows += [
                {
                    **base,
                    "value": b.value,
                    "label_zh": b.zh,
                    "label_en": b.en,
                    "points": b.points,
                    "min": b.lower,
                    "max": b.upper,
                }
                for b in item.bands
            ]
        elif item.type == "number":
            assert item.goalposts is not None
            rows.append(
                {
                    **base,
                    "value": "",
                    "label_zh": f"数值（{item.unit}）",
                    "label_en": f"number ({item.unit})",
                    "points": item.points or 1.0,
                    "min": item.min,
                    "max": item.max,
                }
            )
        elif item.type == "scenario":
            top = max(level.value for level in instrument.scenario_levels)
            full = instrument.max_points(item)
            rows += [
                {
                    **base,
                    "value": str(level.value),
                    "label_zh": level.zh,
                    "label_en": level.en,
                    "points": full * level.value / top,
                }
                for level in instrument.scenario_levels
            ]
        elif item.type == "likert":
            assert item.scale is not None
            span = item.scale.max - item.scale.min
            full = instrument.max_points(item)
            for v in range(item.scale.min, item.scale.max + 1):
                share = (v - item.scale.min) / span
                if item.direction == "lower_is_better":
                    share = 1 - share
                label_zh = (
                    item.scale.zh_low
                    if v == item.scale.min
                    else item.scale.zh_high
                    if v == item.scale.max
                    else ""
                )
                label_en = (
                    item.scale.en_low
                    if v == item.scale.min
                    else item.scale.en_high
                    if v == item.scale.max
                    else ""
                )
                rows.append(
                    {
                        **base,
                        "value": str(v),
                        "label_zh": label_zh,
                        "label_en": label_en,
                        "points": full * share,
                    }
                )
        else:  # yesno
            full = instrument.max_points(item)
            rows += [
                {**base, "value": "yes", "label_zh": "是", "label_en": "yes", "points": full},
                {**base, "value": "no", "label_zh": "否", "label_en": "no", "points": 0.0},
            ]
    return pd.DataFrame(rows, columns=CODEBOOK_COLUMNS)


def template(instrument: Instrument) -> pd.DataFrame:
    """The empty bulk-import table: ``respondent_id``, the profile fields, then every item."""
    columns = (
        [ID_COLUMN] + [f.code for f in instrument.profile] + [i.code for i in instrument.items]
    )
    return pd.DataFrame(columns=columns)

"""The bulk-import template and the codebook of the 梯度培育 facts, from the one facts table."""

from __future__ import annotations

import pandas as pd

from dmi.eligibility.facts import COMPUTED, ID, facts_table
from dmi.eligibility.gaps import t

__all__ = ["COMPUTED", "FACTS_CODEBOOK_COLUMNS", "facts_codebook", "facts_template"]


FACTS_CODEBOOK_COLUMNS = [
    "column",
    "type",
    "unit",
    "value",
    "label_zh",
    "label_en",
    "min",
    "max",
    "integer",
    "help_zh",
    "help_en",
    "aliases",
    "note",
]


def facts_template() -> pd.DataFrame:
    """The empty bulk-import table: ``respondent_id``, then every fact a firm states, in the
    facts table's order (``dmi eligibility template``)."""
    return pd.DataFrame(columns=[f.code for f in facts_table() if f.code not in COMPUTED])


def facts_codebook() -> pd.DataFrame:
    """One row per fact, and one more per allowed value of a category or yes/no fact.

    Columns :data:`FACTS_CODEBOOK_COLUMNS`: the column name, its type, unit (万元, %, 人 ...),
    the allowed value (a category's or yes/no's code; blank on the fact's own row), zh/en
    labels, the range (inclusive), whether whole numbers only, zh/en help, the other spellings
    accepted as the header, and a note (``added by dmi``: a fact a rule needs that the issue's
    list lacked; ``computed``: dmi fills it).
    """
    rows: list[dict[str, object]] = []
    for fact in facts_table():
        note = "computed" if fact.code in COMPUTED else ("added by dmi" if fact.added else "")
        base: dict[str, object] = {
            "column": fact.code,
            "type": fact.type,
            "unit": fact.unit or "",
            "value": "",
            "label_zh": fact.zh,
            "label_en": fact.en,
            "min": fact.min,
            "max": fact.max,
            "integer": bool(fact.integer) if fact.type == "number" else None,
            "help_zh": fact.help.zh if fact.help else "",
            "help_en": fact.help.en if fact.help else "",
            "aliases": "|".join(fact.aliases),
            "note": "required" if fact.code == ID else note,
        }
        rows.append(base)
        if fact.type == "category":
            for v in fact.values:
                rows.append(
                    {
                        **{k: "" for k in FACTS_CODEBOOK_COLUMNS},
                        "column": fact.code,
                        "type": "value",
                        "value": v.value,
                        "label_zh": v.zh,
                        "label_en": v.en,
                        "min": None,
                        "max": None,
                        "integer": None,
                        "aliases": "|".join(v.aliases),
                    }
                )
        elif fact.type == "yesno":
            for value, zh, en in (
                ("yes", t("eligibility.yes_word", "zh"), t("eligibility.yes_word", "en")),
                ("no", t("eligibility.no_word", "zh"), t("eligibility.no_word", "en")),
            ):
                rows.append(
                    {
                        **{k: "" for k in FACTS_CODEBOOK_COLUMNS},
                        "column": fact.code,
                        "type": "value",
                        "value": value,
                        "label_zh": zh,
                        "label_en": en,
                        "min": None,
                        "max": None,
                        "integer": None,
                    }
                )
    return pd.DataFrame(rows, columns=FACTS_CODEBOOK_COLUMNS)

"""The digital level a row's MIIT survey answers give (the 2022 专精特新 数字化水平 indicator).

A row of facts may also hold the answers of the MIIT survey (columns named by its item codes).
Such a row is scored with the survey's official :class:`~dmi.IndexModel`, as ``dmi score``
does, and its level becomes ``digital_level_computed``, which the ladder reads before a stated
``digital_level``. One step for :func:`dmi.eligibility.evaluate`, ``evaluate_batch`` and
``dmi eligibility``, so that the API and the CLI give one firm the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from dmi.eligibility.facts import ID, facts_table

__all__ = [
    "SURVEY_INSTRUMENT",
    "SurveyLevels",
    "computed_levels",
    "survey_items",
    "survey_least_items",
]

SURVEY_INSTRUMENT = "miit-2024-manufacturing"
"""The MIIT survey whose answers, on the same row, give the computed digital level."""


@lru_cache(maxsize=1)
def _survey() -> tuple[Any, tuple[str, ...]]:
    """The survey's official model (nothing to learn) and its item codes, loaded once."""
    from dmi.instruments import load_instrument
    from dmi.scoring.model import IndexModel

    instrument = load_instrument(SURVEY_INSTRUMENT)
    return IndexModel(instrument).fit(), tuple(i.code for i in instrument.items)


def survey_least_items(n_items: int) -> int:
    """How many of the survey's items a row's columns must name to be its answers: half (a
    helper column named ``investment`` is not the survey)."""
    return -(-n_items // 2)


def survey_items(columns: Iterable[Any]) -> list[str]:
    """The survey's item codes among ``columns``, in the survey's order; none ([]) when they
    are fewer than :func:`survey_least_items` of its items (scored, the items missing would
    count as the lowest answers, and that level would be put before the stated one)."""
    facts = facts_table()
    names = {str(c) for c in columns} - set(facts.codes)
    if not names:  # only facts: the survey is not even loaded (nor dmi's scoring)
        return []
    codes = _survey()[1]
    found = [code for code in codes if code in names]
    return found if len(found) >= survey_least_items(len(codes)) else []


@dataclass
class SurveyLevels:
    """What the survey answers of a batch gave.

    Attributes
    ----------
    levels : ndarray of shape (n_rows,)
        The computed level of each row (NaN: no answers, or answers rejected).
    rejects : DataFrame
        ``row, respondent_id, column, value, reason`` of the rows whose answers are invalid.
    rejected : ndarray of bool, shape (n_rows,)
        The rows with a problem in their answers (not evaluated).
    imputed : dict of str to int
        Per item, the answers missing on the rows scored that the survey's policy scored as
        the lowest option (as ``dmi score`` counts them).
    """

    levels: np.ndarray
    rejects: pd.DataFrame
    rejected: np.ndarray
    imputed: dict[str, int] = field(default_factory=dict)

    @property
    def computed(self) -> int:
        """How many levels were computed."""
        return int(np.isfinite(self.levels).sum())


def _answered(answers: pd.DataFrame) -> np.ndarray:
    """The rows with at least one answer (a cell that is neither missing nor blank text)."""
    found = np.zeros(len(answers), dtype=bool)
    for _, column in answers.items():
        filled = column.notna().to_numpy(dtype=bool, copy=True)
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            filled &= (
                column.astype("string").str.strip().ne("").to_numpy(dtype=bool, na_value=False)
            )
        found |= filled
    return found


def computed_levels(frame: pd.DataFrame, rows: np.ndarray) -> SurveyLevels | None:
    """Score the rows of ``frame`` that answered the survey (None: no item column).

    Parameters
    ----------
    frame : DataFrame
        Facts and survey answers, columns named by code.
    rows : ndarray of shape (n_rows,)
        The source row number of each row (for the rejects).
    """
    items = survey_items(frame.columns)
    if not items:
        return None
    n = len(frame)
    levels = np.full(n, np.nan)
    rejected = np.zeros(n, dtype=bool)
    answered = np.flatnonzero(_answered(frame[items]))
    if not len(answered):
        return SurveyLevels(levels, frame.iloc[:0, :0], rejected)
    columns = ([ID] if ID in frame.columns else []) + items
    scored = _survey()[0].score_batch(
        frame.iloc[answered][columns].reset_index(drop=True),
        rows=rows[answered],
        unique_ids=True,  # repeated ids are a problem of the facts, said there
    )
    at = pd.Index(rows).get_indexer(scored.rows)
    levels[at] = scored.scores["level"].to_numpy(np.float64)
    # the id is the facts' to check (parse_facts): its problems are said there, once
    problems = scored.rejects[scored.rejects["column"] != ID].reset_index(drop=True)
    if len(problems):
        bad = np.unique(problems["row"].to_numpy(dtype=np.int64))
        rejected[np.isin(rows, bad)] = True
    return SurveyLevels(levels, problems, rejected, dict(scored.imputed))

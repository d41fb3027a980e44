"""The next-best improvements: which single change to a company's answers is worth most points.

Every candidate is one concrete change to one answer (the next better option, one more tick, the
next band, the next scenario level), as the item's type proposes it
(:meth:`dmi.instruments.items.ItemType.improvements`), reading the current answer as the scoring
reads it, and worded as what to do. Items marked ``actionable: false`` in the instrument (outcome
questions: energy intensity, pass rate, revenue, costs) get no advice. All candidates are scored
together with the company's model in one batch, so the gains are exact for any method (weights,
normalisation, aggregation), not a linear approximation. Only changes that raise the index are
advised: under Mazziotta-Pareto aggregation a better answer can lower it
(:func:`~dmi.scoring.aggregate.mazziotta_pareto_decreasing` says where), and a change whose gain is
0 at the precision reported (:data:`GAIN_DECIMALS`) is no advice either."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dmi.instruments import Instrument, Item
from dmi.instruments.items import Step, item_type
from dmi.scoring.answers import cell_key
from dmi.scoring.model import IndexModel

__all__ = [
    "GAIN_DECIMALS",
    "Candidate",
    "Improvement",
    "candidate_rows",
    "improvements",
    "rank_candidates",
]

GAIN_DECIMALS = 6
"""Decimals of a reported gain; a change is advised only when its rounded gain is above 0."""


@dataclass(frozen=True)
class Improvement:
    """One change to one answer and what it is worth.

    ``gain`` and ``new_dmi`` are in the model's index; ``new_level`` is the official level after
    the change (of ``new_official_dmi``). Under a method other than the official one,
    ``new_indicative_level`` is the band of ``new_dmi`` (else None).
    """

    item: str
    dimension: str
    question_zh: str
    question_en: str
    answer: Any
    change_zh: str
    change_en: str
    gain: float
    new_dmi: float
    new_level: int
    new_official_dmi: float | None = None
    new_indicative_level: int | None = None

    def __post_init__(self) -> None:
        if self.new_official_dmi is None:  # under the official method the index is official
            object.__setattr__(self, "new_official_dmi", self.new_dmi)


def _candidates(instrument: Instrument, item: Item, current: Any) -> list[Step]:
    """The next better answers of one item, the current answer read as the scoring reads it;
    none for an item marked ``actionable: false`` (an outcome, such as a change of costs, that a
    company cannot reach by answering otherwise)."""
    if not item.actionable:
        return []
    return item_type(item).improvements(item, instrument, cell_key(current))


def improvements(
    model: IndexModel, answers: Mapping[str, Any], top: int = 5, dimension: str | None = None
) -> list[Improvement]:
    """The ``top`` single-answer changes that raise the company's index most.

    Parameters
    ----------
    model
        A fitted :class:`~dmi.IndexModel`.
    answers
        One company's answers (item code -> answer, as in a bulk file row).
    top
        How many improvements to return (the best first; only changes that raise the index:
        a gain of 0 or less, rounded to :data:`GAIN_DECIMALS`, is never returned).
    dimension
        Only consider items of this dimension.

    Returns
    -------
    list of Improvement
    """
    rows, candidates = candidate_rows(model.instrument_, answers, dimension)
    scored = model.score(pd.DataFrame(rows))
    return rank_candidates(candidates, scored, top)


@dataclass(frozen=True)
class Candidate:
    """One single-answer change to try (see :func:`candidate_rows`)."""

    item: Item
    dimension: str
    answer: Any
    change_zh: str
    change_en: str


def candidate_rows(
    instrument: Instrument, answers: Mapping[str, Any], dimension: str | None = None
) -> tuple[list[dict[str, Any]], list[Candidate]]:
    """The company's row first, then one row per candidate change, and the candidates.

    Score the rows in one batch and pass the scores to :func:`rank_candidates`; the first row's
    score is the company's own (one row scores the same alone or in any batch).
    """
    base = dict(answers)
    base.setdefault("respondent_id", "base")
    rows = [base]
    found: list[Candidate] = []
    for path in instrument.item_paths:
        if dimension is not None and path.dimension.code != dimension:
            continue
        for answer, zh, en in _candidates(instrument, path.item, answers.get(path.item.code)):
            rows.append({**base, "respondent_id": f"candidate-{len(rows)}", path.item.code: answer})
            found.append(Candidate(path.item, path.dimension.code, answer, zh, en))
    return rows, found


def rank_candidates(
    candidates: list[Candidate], scored: pd.DataFrame, top: int = 5
) -> list[Improvement]:
    """The ``top`` candidates that gain most, one per item, from the scores of
    :func:`candidate_rows`' rows (the company first). A candidate whose gain, rounded to
    :data:`GAIN_DECIMALS`, is not above 0 is left out: it would lower the index or leave it."""
    if len(scored) != len(candidates) + 1:
        raise ValueError(
            f"expected scores for the company and {len(candidates)} candidates, "
            f"got {len(scored)} rows"
        )
    dmi_values = scored["dmi"].to_numpy(dtype=float)
    level_values = scored["level"].to_numpy()
    official = "official_dmi" not in scored
    official_values = scored["dmi" if official else "official_dmi"].to_numpy(dtype=float)
    bands = None if official else scored["indicative_level"].to_numpy()
    base_dmi = float(dmi_values[0])
    found = []
    for i, (candidate, value, level) in enumerate(
        zip(candidates, dmi_values[1:], level_values[1:]), 1
    ):
        gain = round(float(value) - base_dmi, GAIN_DECIMALS)
        if gain > 0:
            item = candidate.item
            found.append(
                Improvement(
                    item.code,
                    candidate.dimension,
                    item.zh,
                    item.en,
                    candidate.answer,
                    candidate.change_zh,
                    candidate.change_en,
                    gain,
                    float(value),
                    int(level),
                    float(official_values[i]),
                    None if bands is None else int(bands[i]),
                )
            )
    found.sort(key=lambda imp: (-imp.gain, imp.item))
    best_per_item: dict[str, Improvement] = {}
    for imp in found:
        best_per_item.setdefault(imp.item, imp)
    return sorted(best_per_item.values(), key=lambda imp: (-imp.gain, imp.item))[:top]

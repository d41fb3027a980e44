"""One company's result, explained: where every point came from and what to do next.

:func:`assess` is what the company report and the survey app show: item -> indicator -> dimension
-> index, the level and why, the tier and why (when a tier model is given), the standing among
peers (when a peer benchmark is given) and the next-best improvements. It only combines the
library's parts; it computes nothing the batch path does not (the index comes from the same
:meth:`~dmi.IndexModel.score`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dmi.results.peers import PeerBenchmark, PeerPosition
from dmi.results.recommend import Improvement, candidate_rows, rank_candidates
from dmi.scoring.answers import encode_answers
from dmi.scoring.levels import LevelExplanation, explain_level
from dmi.scoring.model import AnswerError, IndexModel
from dmi.tiers import TierExplanation, TierModel

__all__ = ["Assessment", "NodeScore", "assess"]


@dataclass(frozen=True)
class NodeScore:
    """A node of the hierarchy with its score (0-100) and, for items, the points earned."""

    level: str
    code: str
    zh: str
    en: str
    parent: str
    score: float
    weight: float
    points: float | None = None
    max_points: float | None = None


@dataclass(frozen=True)
class Assessment:
    """Everything a company sees about its result.

    ``level`` (with ``level_label`` and ``level_explanation``) is always the official level, of
    ``official_dmi``. ``dmi`` is the model's index: the same number under the official method
    (``official`` True); under any other method a research index, whose band under the
    instrument's bands is ``indicative_level`` (None under the official method). ``method`` is
    the model's :attr:`~dmi.IndexModel.method_id`: two results can be compared as a change of
    the company only when their methods are the same.
    """

    respondent_id: str
    dmi: float
    level: int
    level_label: dict[str, str]
    level_explanation: LevelExplanation
    dimensions: dict[str, float]
    nodes: tuple[NodeScore, ...]
    improvements: tuple[Improvement, ...]
    tier: TierExplanation | None = None
    peers: PeerPosition | None = None
    imputed: tuple[str, ...] = field(default_factory=tuple)
    scores_row: dict[str, Any] = field(default_factory=dict)
    official: bool = True
    official_dmi: float | None = None
    indicative_level: int | None = None
    method: str = ""

    def __post_init__(self) -> None:
        if self.official_dmi is None:  # built by hand for the official method
            object.__setattr__(self, "official_dmi", self.dmi)


def assess(
    model: IndexModel,
    answers: Mapping[str, Any],
    *,
    tier_model: TierModel | None = None,
    peers: PeerBenchmark | None = None,
    top: int = 5,
) -> Assessment:
    """Score one company and explain the result.

    Parameters
    ----------
    model
        A fitted :class:`~dmi.IndexModel`.
    answers
        The company's answers (item code -> answer; profile fields such as ``sector`` too).
    tier_model, peers
        Optional: add the tier with its explanation, and the peer-group standing.
    top
        Number of improvements to list.

    Raises
    ------
    dmi.AnswerError
        When an answer is invalid (its ``rejects`` table says which and why).
    """
    instrument = model.instrument_
    row = {"respondent_id": "company", **answers}
    # the company and every candidate improvement in one batch: one encoding, exact gains
    rows, candidates = candidate_rows(instrument, row)
    encoded = encode_answers(instrument, pd.DataFrame(rows))
    if not encoded.valid[0]:
        rejects = encoded.rejects
        raise AnswerError(rejects[rejects["row"] == rejects["row"].min()], 1)
    if not encoded.valid.all():  # a candidate the encoder refuses would be a bug in recommend
        raise RuntimeError("an improvement candidate was not a valid answer")
    scores = model.score_encoded(encoded)
    result = scores.iloc[0].to_dict()
    node_tables = model.node_scores(encoded)
    shares = model.node_weights().set_index(["level", "code"])["weight"]

    nodes: list[NodeScore] = []
    for dim in instrument.dimensions:
        nodes.append(
            NodeScore(
                "dimension",
                dim.code,
                dim.zh,
                dim.en,
                "",
                float(result[f"dim_{dim.code}"]),
                float(shares[("dimension", dim.code)]),
            )
        )
        for ind in dim.indicators:
            nodes.append(
                NodeScore(
                    "indicator",
                    ind.code,
                    ind.zh,
                    ind.en,
                    dim.code,
                    float(node_tables["indicator"][ind.code].iloc[0]),
                    float(shares[("indicator", ind.code)]),
                )
            )
            for item in ind.items:
                score = float(node_tables["item"][item.code].iloc[0])
                maximum = instrument.max_points(item)
                nodes.append(
                    NodeScore(
                        "item",
                        item.code,
                        item.zh,
                        item.en,
                        ind.code,
                        score,
                        float(shares[("item", item.code)]),
                        points=None if pd.isna(score) else round(score / 100 * maximum, 6),
                        max_points=maximum,
                    )
                )

    level = int(result["level"])
    band = instrument.level_band(level)
    official_dmi = float(result.get("official_dmi", result["dmi"]))
    why = explain_level(
        instrument, official_dmi, encoded.scenario_levels[0], encoded.scenario_codes
    )
    tier = None
    if tier_model is not None:
        tier_model.check_instrument(instrument)
        tier = tier_model.explain(scores.iloc[0])
    position = peers.position({**row, **result}) if peers is not None else None
    return Assessment(
        respondent_id=str(row["respondent_id"]),
        dmi=float(result["dmi"]),
        level=level,
        level_label={"zh": band.zh, "en": band.en},
        level_explanation=why,
        dimensions={d.code: float(result[f"dim_{d.code}"]) for d in instrument.dimensions},
        nodes=tuple(nodes),
        improvements=tuple(rank_candidates(candidates, scores, top)),
        tier=tier,
        peers=position,
        imputed=tuple(sorted(encoded.imputed)),
        scores_row=result,
        official=model.is_official,
        official_dmi=official_dmi,
        indicative_level=None if model.is_official else int(result["indicative_level"]),
        method=model.method_id,
    )

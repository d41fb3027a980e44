"""Why a company is in its tier and what would move it up: the tiers' labels and explanations.

Every Chinese and English sentence the tiers show a company is in the table of interface text
(``dmi/locales/tiers.yaml``, keys ``tiers.<name>``); nothing here holds wording.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dmi.locales import text
from dmi.tiers.files import jsonable
from dmi.tiers.kernel import margin

if TYPE_CHECKING:
    from dmi.instruments import Instrument
    from dmi.tiers.model import TierModel

__all__ = [
    "SCORE_MAX",
    "DimensionChange",
    "DimensionGap",
    "TierExplanation",
    "TierLabel",
    "explain_row",
    "generic_label",
    "labels_for",
]

SCORE_MAX = 100.0
"""Top of the dimension-score scale; the move-up search never suggests a score above it."""

LANGS = ("zh", "en")

# -- every sentence of the tiers, zh and en --------------------------------------------------------


@dataclass(frozen=True)
class TierLabel:
    """The name and support package of one tier, in Chinese and English.

    ``generic`` is true for the fallback labels "第 k 梯队 / Tier k", used when the instrument does
    not describe exactly as many tiers as the model has.
    """

    tier: int
    zh: str
    en: str
    support_zh: str
    support_en: str
    generic: bool = False

    def name(self, lang: str = "en") -> str:
        """The label in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.zh if lang == "zh" else self.en

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "zh": self.zh,
            "en": self.en,
            "support": {"zh": self.support_zh, "en": self.support_en},
            "generic": self.generic,
        }


def generic_label(tier: int) -> TierLabel:
    """The label of a tier the instrument does not describe: "第 k 梯队 / Tier k"."""
    return TierLabel(
        tier,
        text("tiers.generic_name", "zh", tier=tier),
        text("tiers.generic_name", "en", tier=tier),
        text("tiers.generic_support", "zh"),
        text("tiers.generic_support", "en"),
        True,
    )


def labels_for(inst: Instrument | None, k: int) -> tuple[tuple[TierLabel, ...], str | None]:
    """The instrument's tier labels when it describes exactly ``k`` tiers, else the generic
    ones; and, for the fit report, a note when the instrument's could not be used."""
    if inst is not None and len(inst.tiers) == k:
        return tuple(
            TierLabel(t.tier, t.zh, t.en, t.support.zh, t.support.en) for t in inst.tiers
        ), None
    generic = tuple(generic_label(t) for t in range(1, k + 1))
    if inst is None:
        return generic, None
    return generic, (
        f"instrument {inst.id} describes {len(inst.tiers)} tiers but the model has "
        f"{k}: the tiers get the generic labels 第 k 梯队 / Tier k and no support "
        "package"
    )


@dataclass(frozen=True)
class DimensionGap:
    """One feature of an explained company, against its tier's and the next tier's centroid."""

    feature: str
    zh: str
    en: str
    value: float
    tier_centroid: float
    next_centroid: float | None
    below_tier_centroid: bool
    points_to_next: float
    """Points needed to reach the next tier's centroid value (0 when at or above it, or top)."""


@dataclass(frozen=True)
class DimensionChange:
    """One suggested change: raise ``feature`` by ``points`` (``from_value`` -> ``to_value``)."""

    feature: str
    zh: str
    en: str
    points: float
    from_value: float
    to_value: float


@dataclass(frozen=True)
class TierExplanation:
    """Why a company is in its tier and what would move it up.

    Attributes
    ----------
    tier, n_tiers, label, confidence
        The company's tier (1..K), the number of tiers, the tier's label and support package, and
        the membership confidence.
    next_tier
        ``tier + 1``, or None in the top tier.
    dimensions
        Every feature: value, own and next tier centroid, points short of the next centroid.
    holding
        The features that hold the company in its tier: below the next tier's centroid (below its
        own tier's centroid in the top tier), largest gap in standard deviations first.
    move_up
        The smallest set of increases found that makes :meth:`TierModel.predict` give a higher
        tier (empty in the top tier or when no increase within 0-100 does it).
    move_up_tier
        The tier that ``predict`` gives after ``move_up`` (checked by calling it), or None.
    zh, en
        The explanation as sentences.
    """

    respondent_id: str | None
    tier: int
    n_tiers: int
    label: TierLabel
    confidence: float
    next_tier: int | None
    dimensions: tuple[DimensionGap, ...]
    holding: tuple[str, ...]
    move_up: tuple[DimensionChange, ...]
    move_up_tier: int | None
    zh: tuple[str, ...]
    en: tuple[str, ...]

    def text(self, lang: str = "en") -> str:
        """The sentences in ``lang`` (``"zh"`` or ``"en"``), one per line."""
        return "\n".join(self.zh if lang == "zh" else self.en)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


def explain_row(model: TierModel, x: np.ndarray, respondent_id: str | None) -> TierExplanation:
    """The explanation of one company's feature values ``x`` (checked, in ``features_`` order)
    under a fitted model; see :meth:`TierModel.explain`."""
    tiers, confidence, _ = model._evaluate(x[None, :])
    tier, conf = int(tiers[0]), float(confidence[0])
    k = model.n_tiers_
    centres = model.centroid_values()
    own = centres[tier - 1]
    nxt = centres[tier] if tier < k else None
    gaps = []
    for j, f in enumerate(model.features_):
        zh, en = model.feature_labels_[f]
        short = 0.0 if nxt is None else max(0.0, float(nxt[j] - x[j]))
        gaps.append(
            DimensionGap(
                f,
                zh,
                en,
                float(x[j]),
                float(own[j]),
                None if nxt is None else float(nxt[j]),
                bool(x[j] < own[j]),
                short,
            )
        )
    reference = own if nxt is None else nxt
    gap_sd = (reference - x) / model.scale_
    holding = tuple(model.features_[j] for j in np.argsort(-gap_sd, kind="stable") if gap_sd[j] > 0)
    changes: tuple[DimensionChange, ...] = ()
    moved_to = None
    if nxt is not None:
        target = _search_up(model, x, tier, nxt)
        if target is not None:
            moved_to = int(model.predict(target[None, :])[0])
            if moved_to > tier:
                changes = tuple(
                    DimensionChange(
                        f,
                        *model.feature_labels_[f],
                        float(target[j] - x[j]),
                        float(x[j]),
                        float(target[j]),
                    )
                    for j, f in enumerate(model.features_)
                    if target[j] > x[j]
                )
            else:  # cannot happen: the search checks the same kernel; kept as a guard
                moved_to = None
    label = model.labels_[tier - 1]
    lines = {
        lang: _sentences(lang, tier, k, label, conf, gaps, holding, changes, moved_to)
        for lang in LANGS
    }
    return TierExplanation(
        respondent_id,
        tier,
        k,
        label,
        conf,
        None if nxt is None else tier + 1,
        tuple(gaps),
        holding,
        changes,
        moved_to,
        tuple(lines["zh"]),
        tuple(lines["en"]),
    )


def _search_up(model: TierModel, x: np.ndarray, tier: int, target: np.ndarray) -> np.ndarray | None:
    """The smallest increase of ``x`` found that moves it above ``tier`` (None when no increase
    within 0-100 does).

    Raises, greedily, the dimension that most increases the margin of the higher tiers over the
    lower ones, each to ``target`` (the next tier's centroid), until the tier moves; then drops
    any change that is not needed, shrinks the rest proportionally as far as the tier still
    holds and rounds the points up to 0.1. When reaching ``target`` is not enough it moves
    further along the same direction (and then towards 100 on every dimension).
    """

    def moves(y: np.ndarray) -> np.ndarray:
        return margin(model._kernel, model.mean_, model.scale_, y, tier)

    top = np.maximum(SCORE_MAX, x)
    goal = np.minimum(target, top)
    y = x.copy()
    chosen: list[int] = []
    remaining = [j for j in range(len(x)) if goal[j] > x[j]]
    while moves(y[None, :])[0] <= 0 and remaining:
        trials = np.repeat(y[None, :], len(remaining), axis=0)
        for i, j in enumerate(remaining):
            trials[i, j] = goal[j]
        best = int(np.argmax(moves(trials)))
        y = trials[best]
        chosen.append(remaining.pop(best))
    if moves(y[None, :])[0] <= 0:
        y = None
        grid = np.linspace(0.0, 1.0, 257)[1:]
        for direction in (np.maximum(goal - x, 0.0), top - x):
            if not np.any(direction > 0):
                continue
            # from the current point along the direction until every score is at the top
            reach = np.where(
                direction > 0, (top - x) / np.where(direction > 0, direction, 1), 0.0
            ).max()
            steps = np.minimum(x + grid[:, None] * reach * direction[None, :], top)
            ok = np.flatnonzero(moves(steps) > 0)
            if len(ok):
                y = steps[ok[0]]
                break
        if y is None:
            return None
    else:
        for j in sorted(chosen, key=lambda j: y[j] - x[j]):
            trial = y.copy()
            trial[j] = x[j]
            if moves(trial[None, :])[0] > 0:
                y = trial
    delta = y - x
    lam = np.linspace(0.0, 1.0, 201)[1:]
    steps = x + lam[:, None] * delta[None, :]
    ok = np.flatnonzero(moves(steps) > 0)
    y = steps[ok[0]] if len(ok) else y
    # round the suggested points up to 0.1 (what a person can act on) when that still works
    rounded = np.where(y > x, np.minimum(x + np.ceil(np.round((y - x) * 10, 6)) / 10, top), x)
    if moves(rounded[None, :])[0] > 0:
        y = rounded
    return y


def _sentences(
    lang: str,
    tier: int,
    k: int,
    label: TierLabel,
    conf: float,
    gaps: list[DimensionGap],
    holding: tuple[str, ...],
    changes: tuple[DimensionChange, ...],
    moved_to: int | None,
) -> list[str]:
    """The explanation in ``lang``, sentence by sentence."""
    by_feature = {g.feature: g for g in gaps}
    join = text("tiers.list_separator", lang).join
    lines = [
        text("tiers.tier", lang, tier=tier, k=k, label=label.name(lang), conf=conf),
        text("tiers.support", lang, support=label.support_zh if lang == "zh" else label.support_en),
    ]
    if tier == k:
        if holding:
            items = join(
                text(
                    "tiers.top_below_item",
                    lang,
                    name=getattr(by_feature[f], lang),
                    value=by_feature[f].value,
                    centroid=by_feature[f].tier_centroid,
                )
                for f in holding
            )
            lines.append(text("tiers.top_below", lang, items=items))
        else:
            lines.append(text("tiers.top_none_below", lang))
        return lines
    up = tier + 1
    if holding:
        items = join(
            text(
                "tiers.below_next_item",
                lang,
                name=getattr(by_feature[f], lang),
                value=by_feature[f].value,
                up=up,
                centroid=by_feature[f].next_centroid,
                short=by_feature[f].points_to_next,
            )
            for f in holding
        )
        lines.append(text("tiers.below_next", lang, up=up, items=items))
    else:
        lines.append(text("tiers.none_below_next", lang, up=up))
    if changes and moved_to is not None:
        items = text("tiers.change_separator", lang).join(
            text(
                "tiers.move_up_item",
                lang,
                name=getattr(c, lang),
                points=c.points,
                to=c.to_value,
            )
            for c in changes
        )
        lines.append(text("tiers.move_up", lang, tier=moved_to, items=items))
    else:
        lines.append(text("tiers.no_move_up", lang, up=up))
    return lines

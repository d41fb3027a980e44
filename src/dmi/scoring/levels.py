"""Levels: the instrument's bands on the index, and its optional scenario-count rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dmi.instrument import Instrument

__all__ = ["LevelExplanation", "assign_levels", "explain_level", "level_precision"]

level_precision = 9
"""Decimals the index is rounded to before it is compared with band edges, so that a point total
of exactly 60 reached through floating-point sums (59.99999999999999) is level 三级, not 二级."""


def _rule_requirements(instrument: Instrument):
    rule = instrument.levels.scenario_rule
    if rule is None or not rule.enabled:
        return None, {}
    return rule, {req.level: req for req in rule.requirements}


def _rule_columns(
    instrument: Instrument, scenario_codes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    rule = instrument.levels.scenario_rule
    assert rule is not None
    codes = {item.code for item in instrument.scenario_items(rule.dimension)}
    columns = np.array([i for i, c in enumerate(scenario_codes) if c in codes], dtype=int)
    mandatory = np.array(
        [instrument.item(scenario_codes[i]).mandatory for i in columns], dtype=bool
    )
    return columns, mandatory


def assign_levels(
    instrument: Instrument,
    index: np.ndarray,
    scenario_levels: np.ndarray,
    scenario_codes: list[str],
) -> np.ndarray:
    """The level of each unit.

    Parameters
    ----------
    instrument
        Supplies the bands (lower bounds, inclusive) and the scenario rule.
    index
        Index values on 0-100 (NaN gives level -1).
    scenario_levels
        ``(n, n_scenarios)`` levels of the scenario items (-1 when missing), used by the rule.
    scenario_codes
        The codes of the columns of ``scenario_levels``.

    Returns
    -------
    numpy.ndarray
        Integer levels; the highest band whose lower bound the index reaches and, when the
        scenario rule is enabled, whose requirement holds.
    """
    bands = instrument.levels.bands
    rounded = np.round(np.asarray(index, dtype=float), level_precision)
    result = np.full(len(rounded), -1, dtype=np.int64)
    rule, requirements = _rule_requirements(instrument)
    if rule is not None:
        columns, mandatory = _rule_columns(instrument, scenario_codes)
        chosen = scenario_levels[:, columns]
    for band in bands:  # ascending: later bands overwrite earlier ones
        meets = rounded >= band.min
        requirement = requirements.get(band.level)
        if requirement is not None:
            high_enough = chosen >= requirement.min_scenario_level
            meets &= high_enough.sum(axis=1) >= requirement.count
            meets &= (high_enough & mandatory).sum(axis=1) >= requirement.mandatory_count
        result = np.where(meets, band.level, result)
    return result


@dataclass(frozen=True)
class LevelExplanation:
    """Why a unit has its level, in both languages."""

    level: int
    score_level: int
    zh: str
    en: str


def explain_level(
    instrument: Instrument, index: float, scenario_levels: np.ndarray, scenario_codes: list[str]
) -> LevelExplanation:
    """Explain one unit's level: the band its index reaches and any scenario requirement."""
    levels = np.asarray(scenario_levels).reshape(1, -1)
    level = int(assign_levels(instrument, np.array([index]), levels, scenario_codes)[0])
    rounded = round(float(index), level_precision)
    by_score = [b for b in instrument.levels.bands if rounded >= b.min]
    score_band = by_score[-1]
    band = instrument.level_band(level)
    bands = list(instrument.levels.bands)
    following = next((b for b in bands if b.min > rounded), None)
    zh = f"指数 {rounded:.1f} 达到「{score_band.zh}」的分数线 {score_band.min:g}"
    en = f"The index {rounded:.1f} reaches the {score_band.en} threshold of {score_band.min:g}"
    if following is not None:
        zh += f"；距「{following.zh}」（{following.min:g} 分）还差 {following.min - rounded:.1f} 分"
        en += f"; {following.min - rounded:.1f} points short of {following.en} ({following.min:g})"
    zh += "。"
    en += "."
    rule, requirements = _rule_requirements(instrument)
    if rule is not None and level < score_band.level:
        columns, mandatory = _rule_columns(instrument, scenario_codes)
        chosen = levels[0, columns]
        failed = []
        for b in reversed(bands):
            req = requirements.get(b.level)
            if b.level <= level or b.level > score_band.level or req is None:
                continue
            high = chosen >= req.min_scenario_level
            failed.append((b, req, int(high.sum()), int((high & mandatory).sum())))
        for b, req, count, mandatory_count in failed:
            zh += (
                f"「{b.zh}」还要求至少 {req.count} 个场景达到 {req.min_scenario_level} 级"
                f"（其中约束性场景至少 {req.mandatory_count} 个），目前为 {count} 个"
                f"（约束性 {mandatory_count} 个）。"
            )
            en += (
                f" {b.en} also requires at least {req.count} scenarios at level "
                f"{req.min_scenario_level} or above ({req.mandatory_count} of them mandatory); "
                f"you have {count} ({mandatory_count} mandatory)."
            )
        zh += f"因此评定为「{band.zh}」。"
        en += f" The level is therefore {band.en}."
    return LevelExplanation(level, score_band.level, zh, en)

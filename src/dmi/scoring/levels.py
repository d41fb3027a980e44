"""Levels: the instrument's bands on the index, and its optional scenario-count rule; and the
one way an index value or a gap to a band is written for people (:func:`format_index`,
:func:`format_gap`), so that a number shown never contradicts the level shown beside it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from dmi.instruments import Instrument, LevelBand
from dmi.locales import LANGS, text

if TYPE_CHECKING:
    from dmi.instruments.format import ScenarioRequirement

__all__ = [
    "LevelExplanation",
    "assign_flags",
    "assign_levels",
    "explain_level",
    "format_gap",
    "format_index",
    "level_precision",
]

level_precision = 9
"""Decimals the index is rounded to before it is compared with band edges, so that a point total
of exactly 60 reached through floating-point sums (59.99999999999999) is level 三级, not 二级."""

_DASH = "—"


def _exact(value: float) -> Decimal:
    """The value as compared with band edges (rounded to :data:`level_precision`), exactly."""
    return Decimal(repr(round(float(value), level_precision)))


def _band_of(value: Decimal, edges: list[Decimal], closed: str = "left") -> int:
    """How many band edges ``value`` reaches (ascending; the first always, the others
    inclusive when ``closed`` is ``left``, exceeded when it is ``right``)."""
    if closed == "left":
        return sum(value >= edge for edge in edges)
    return sum(value >= edge if i == 0 else value > edge for i, edge in enumerate(edges))


def band_edges(instrument: Instrument) -> list[float]:
    """The lower edges of the level bands on the index's 0-100 scale, rounded as the index is
    (:data:`level_precision`), so that 4 of 12 points reaches an edge written as 4 on a scale
    of 12."""
    levels = instrument.levels
    return [round(levels.edge(b.min), level_precision) for b in levels.bands]


def reaches(instrument: Instrument, value: Any, edge: float, first: bool = False) -> Any:
    """Whether ``value`` (rounded index, scalar or array) reaches ``edge`` under the levels'
    edge convention (the lowest band's edge is always inclusive)."""
    if first or instrument.levels.closed == "left":
        return value >= edge
    return value > edge


def format_index(value: float | None, instrument: Instrument | None = None, digits: int = 1) -> str:
    """An index value written for people: ``digits`` decimals, never across a band edge.

    The value is rounded as the levels round it (:data:`level_precision`) and then to
    ``digits`` decimals as Python formats numbers, except where that would write a number in
    another band than the value's: 39.95 (一级, below the 40 of 二级) is written 39.9, not
    40.0. More decimals are used only for an edge finer than ``digits``.

    Parameters
    ----------
    value : float or None
        An index value on 0-100 (None or NaN is written as a dash).
    instrument : Instrument, optional
        Whose band edges the written number must respect; without one, plain rounding.
    digits : int, default=1
        Decimals.
    """
    if value is None or math.isnan(float(value)):
        return _DASH
    rounded = round(float(value), level_precision)
    if instrument is None:
        return f"{rounded:.{digits}f}"
    exact = _exact(rounded)
    edges = [Decimal(repr(e)) for e in band_edges(instrument)]
    closed = instrument.levels.closed
    band = _band_of(exact, edges, closed)
    for places in range(digits, level_precision + 1):
        step = Decimal(1).scaleb(-places)
        for written in (
            f"{rounded:.{places}f}",
            str(exact.quantize(step, rounding=ROUND_FLOOR)),
            str(exact.quantize(step, rounding=ROUND_CEILING)),
        ):
            if _band_of(Decimal(written), edges, closed) == band:
                return written
    return repr(rounded)


def format_gap(gap: float | None, digits: int = 1) -> str:
    """Points still needed (to a band edge), written for people: rounded UP to ``digits``
    decimals, so that a gap that is there is never written as 0.0 (a gap of 0.05 is 0.1).

    Parameters
    ----------
    gap : float or None
        Points still needed (None or NaN is written as a dash; 0 or less as 0).
    digits : int, default=1
        Decimals.
    """
    if gap is None or math.isnan(float(gap)):
        return _DASH
    exact = _exact(max(float(gap), 0.0))
    return str(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_CEILING))


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
    edges = band_edges(instrument)
    for i, band in enumerate(bands):  # ascending: later bands overwrite earlier ones
        meets = reaches(instrument, rounded, edges[i], first=i == 0)
        requirement = requirements.get(band.level)
        if requirement is not None:
            high_enough = chosen >= requirement.min_scenario_level
            meets &= high_enough.sum(axis=1) >= requirement.count
            meets &= (high_enough & mandatory).sum(axis=1) >= requirement.mandatory_count
        result = np.where(meets, band.level, result)
    return result


def assign_flags(instrument: Instrument, index: np.ndarray) -> dict[str, np.ndarray]:
    """Each level flag of the instrument (``levels.flags``): True where the index reaches the
    flag's edge (on the levels' scale and edge convention); False where the index is NaN."""
    levels = instrument.levels
    if not levels.flags:
        return {}
    rounded = np.round(np.asarray(index, dtype=float), level_precision)
    return {
        flag.code: np.asarray(
            reaches(instrument, rounded, round(levels.edge(flag.min), level_precision)),
            dtype=bool,
        )
        for flag in levels.flags
    }


@dataclass(frozen=True)
class LevelExplanation:
    """Why a unit has its level, in both languages."""

    level: int
    score_level: int
    zh: str
    en: str


def _name(band: LevelBand, lang: str) -> str:
    return band.zh if lang == "zh" else band.en


def explain_level(
    instrument: Instrument, index: float, scenario_levels: np.ndarray, scenario_codes: list[str]
) -> LevelExplanation:
    """Explain one unit's level: the band its index reaches and any scenario requirement."""
    levels = np.asarray(scenario_levels).reshape(1, -1)
    level = int(assign_levels(instrument, np.array([index]), levels, scenario_codes)[0])
    rounded = round(float(index), level_precision)
    bands = list(instrument.levels.bands)
    edges = band_edges(instrument)
    reach = [reaches(instrument, rounded, e, first=i == 0) for i, e in enumerate(edges)]
    score_band = [b for b, r in zip(bands, reach) if r][-1]
    at = next((i for i, r in enumerate(reach) if not r), None)
    following = None if at is None else bands[at]
    gap = None
    if at is not None:
        gap = format_gap(float(_exact(edges[at]) - _exact(rounded)))
    rule, requirements = _rule_requirements(instrument)
    # the requirements of the bands between the level and the band of the score, highest first
    failed: list[tuple[LevelBand, ScenarioRequirement, int, int]] = []
    lowered = rule is not None and level < score_band.level
    if lowered:
        columns, mandatory = _rule_columns(instrument, scenario_codes)
        chosen = levels[0, columns]
        for b in reversed(bands):
            req = requirements.get(b.level)
            if b.level <= level or b.level > score_band.level or req is None:
                continue
            high = chosen >= req.min_scenario_level
            failed.append((b, req, int(high.sum()), int((high & mandatory).sum())))
    shown = format_index(rounded, instrument)
    band = instrument.level_band(level)
    why = {}
    for lang in LANGS:
        reached = {
            "index": shown,
            "band": _name(score_band, lang),
            "min": edges[bands.index(score_band)],
        }
        if following is None:
            sentences = [text("levels.reaches", lang, **reached)]
        else:
            sentences = [
                text(
                    "levels.reaches_short_of",
                    lang,
                    **reached,
                    next=_name(following, lang),
                    next_min=edges[at],
                    gap=gap,
                )
            ]
        for b, req, count, mandatory_count in failed:
            sentences.append(
                text(
                    "levels.scenario_requirement",
                    lang,
                    band=_name(b, lang),
                    count=req.count,
                    scenario_level=req.min_scenario_level,
                    mandatory=req.mandatory_count,
                    have=count,
                    have_mandatory=mandatory_count,
                )
            )
        if lowered:
            sentences.append(text("levels.therefore", lang, band=_name(band, lang)))
        why[lang] = text("levels.sentence_sep", lang).join(sentences)
    return LevelExplanation(level, score_band.level, why["zh"], why["en"])

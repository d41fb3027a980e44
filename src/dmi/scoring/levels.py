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
    "band_range",
    "band_ranges",
    "levels_of",
    "requirements_hold",
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


def _on_scale(instrument: Instrument, value: str, lang: str) -> str:
    """A number written on the levels' scale: itself on 0-100, "4 of 12" on another scale."""
    scale = instrument.levels.scale
    if scale == 100.0:
        return value
    return text("levels.on_scale", lang, value=value, scale=f"{scale:g}")


def band_range(instrument: Instrument, i: int, lang: str) -> str:
    """The range of the ``i``-th band (0-based) on the levels' scale, by their edge convention:
    "< 20", "20 ≤ x < 40", "≥ 80" (left-closed); "≤ 25", "25 < x ≤ 50", "> 75" (right-closed);
    with the scale named when it is not 0-100 ("4 ≤ x < 7 (of 12)")."""
    levels = instrument.levels
    bands = levels.bands
    low = f"{bands[i].min:g}"
    high = f"{bands[i + 1].min:g}" if i + 1 < len(bands) else None
    if high is None:  # the top band (a lone band takes everything from its edge)
        words = f"≥ {low}" if levels.closed == "left" or i == 0 else f"> {low}"
    elif levels.closed == "left":
        words = f"< {high}" if i == 0 else f"{low} ≤ x < {high}"
    else:
        words = f"≤ {high}" if i == 0 else f"{low} < x ≤ {high}"
    if levels.scale == 100.0:
        return words
    return text("levels.range_on_scale", lang, range=words, scale=f"{levels.scale:g}")


def band_ranges(instrument: Instrument, lang: str) -> list[str]:
    """Each band's name and range (:func:`band_range`), e.g. "Average 25 < x ≤ 50"."""
    return [
        f"{_name(b, lang)} {band_range(instrument, i, lang)}"
        for i, b in enumerate(instrument.levels.bands)
    ]


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


def requirements_hold(
    instrument: Instrument,
    scenario_levels: np.ndarray,
    scenario_codes: list[str],
    n: int | None = None,
) -> np.ndarray:
    """Whether each unit's scenarios allow each band (the scenario rule; True without one).

    ``n`` is the number of units when it is not ``len(scenario_levels)`` (scenario levels are
    not looked at, and may be empty, when the rule is off).

    Returns
    -------
    numpy.ndarray
        ``(n, n_bands)`` booleans, in the order of the instrument's bands.
    """
    bands = instrument.levels.bands
    n = len(scenario_levels) if n is None else n
    holds = np.ones((n, len(bands)), dtype=bool)
    rule, requirements = _rule_requirements(instrument)
    if rule is None:
        return holds
    columns, mandatory = _rule_columns(instrument, scenario_codes)
    chosen = np.asarray(scenario_levels)[:, columns]
    for i, band in enumerate(bands):
        requirement = requirements.get(band.level)
        if requirement is not None:
            high_enough = chosen >= requirement.min_scenario_level
            holds[:, i] = (high_enough.sum(axis=1) >= requirement.count) & (
                (high_enough & mandatory).sum(axis=1) >= requirement.mandatory_count
            )
    return holds


def levels_of(instrument: Instrument, index: np.ndarray, holds: np.ndarray) -> np.ndarray:
    """The levels of ``index`` ((n,) or (n, runs)) given :func:`requirements_hold`'s ``holds``:
    the highest band whose edge the index reaches (on the levels' scale and edge convention) and
    whose requirement holds; -1 where the index is NaN. The one rule every level is read by."""
    rounded = np.round(np.asarray(index, dtype=float), level_precision)
    result = np.full(rounded.shape, -1, dtype=np.int64)
    edges = band_edges(instrument)
    for i, band in enumerate(instrument.levels.bands):  # ascending: later bands overwrite
        allowed = holds[:, i] if rounded.ndim == 1 else holds[:, i, None]
        meets = reaches(instrument, rounded, edges[i], first=i == 0) & allowed
        result = np.where(meets, band.level, result)
    return result


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
        Supplies the bands (edges on the levels' scale, with their edge convention) and the
        scenario rule.
    index
        Index values on 0-100 (NaN gives level -1).
    scenario_levels
        ``(n, n_scenarios)`` levels of the scenario items (-1 when missing), used by the rule.
    scenario_codes
        The codes of the columns of ``scenario_levels``.

    Returns
    -------
    numpy.ndarray
        Integer levels; the highest band whose edge the index reaches and, when the scenario
        rule is enabled, whose requirement holds.
    """
    index = np.asarray(index, dtype=float)
    holds = requirements_hold(instrument, scenario_levels, scenario_codes, n=len(index))
    return levels_of(instrument, index, holds)


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
    """Explain one unit's level: the band its index reaches and any scenario requirement.

    Parameters
    ----------
    instrument : Instrument
        Its level bands and scenario rule.
    index : float
        The unit's index (0-100).
    scenario_levels : numpy.ndarray of shape (n_scenarios,)
        The unit's level in each scenario (NaN: not answered).
    scenario_codes : list of str
        The scenarios' item codes, in the order of ``scenario_levels``.

    Returns
    -------
    LevelExplanation
        The level, the level of the index alone (``score_level``), and why, in zh and en: the
        gap to the next band and the scenario requirements that held the level down.
    """
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
    scale = instrument.levels.scale
    if scale != 100.0:
        # the score on the levels' own scale, written on the side of its edges (never across)
        down = ROUND_FLOOR if instrument.levels.closed == "left" else ROUND_CEILING
        score = Decimal(repr(round(rounded * scale / 100.0, level_precision)))
        written_score = str(score.quantize(Decimal("0.1"), rounding=down))
        if at is not None:
            gap = format_gap(float(Decimal(repr(following.min)) - score))
    band = instrument.level_band(level)
    why = {}
    for lang in LANGS:
        index_text = shown
        if scale != 100.0:
            index_text = text(
                "levels.index_on_scale", lang, index=shown, score=written_score, scale=f"{scale:g}"
            )
        at_score = bands.index(score_band)
        reached = {
            "index": index_text,
            "band": _name(score_band, lang),
            "min": _on_scale(instrument, f"{score_band.min:g}", lang),
        }
        upper = {}
        if following is not None:
            upper = {
                "next": _name(following, lang),
                "next_min": _on_scale(instrument, f"{following.min:g}", lang),
                "gap": gap,
            }
        if instrument.levels.closed == "right":
            # a right-closed band takes its upper edge: at the edge nothing is "short", the next
            # band needs more than the edge
            reached = {**reached, "range": band_range(instrument, at_score, lang)}
            if following is None:
                sentence = text("levels.in_band", lang, **reached)
            elif _exact(edges[at]) == _exact(rounded):
                sentence = text("levels.in_band_at_edge", lang, **reached, **upper)
            else:
                sentence = text("levels.in_band_below", lang, **reached, **upper)
        elif following is None:
            sentence = text("levels.reaches", lang, **reached)
        else:
            sentence = text("levels.reaches_short_of", lang, **reached, **upper)
        sentences = [sentence]
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

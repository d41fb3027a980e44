"""Seeded, realistic synthetic answers in the bulk-import format.

Every company has a latent digital maturity made of a sector, size-class and region effect plus its
own variation; each dimension's maturity is correlated with it (``dimension_correlation``), and each
answer follows its dimension's maturity through an ordered response model: better-rated options,
more ticks and higher percentages become likelier as maturity rises. Some answers are left blank
(``missing_rate``) so that the instrument's missing-answer policies are exercised.

The output is clearly synthetic: ids start with ``SYN-`` and company names with 合成企业.
``messy=True`` additionally plants the kinds of problems real agency files have (unknown option
codes, out-of-range percentages, "none" ticked with other options, duplicate and blank ids, labels
instead of codes, full-width digits, percent signs), each on its own row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from dmi.errors import UsageError
from dmi.instruments import Instrument, Item, load_instrument

__all__ = ["PLANTED_PROBLEMS", "synthesise"]

# Provinces with many manufacturing SMEs are sampled more often (rough shares, by region code).
_REGION_WEIGHT = {
    "44": 10,
    "32": 10,
    "33": 10,
    "37": 7,
    "35": 4,
    "41": 4,
    "42": 3.5,
    "34": 3.5,
    "13": 3,
    "51": 3,
    "31": 3,
    "43": 3,
    "36": 2.5,
    "50": 2,
    "21": 2,
    "11": 2,
    "12": 1.5,
    "61": 1.5,
    "45": 1.5,
    "14": 1.2,
    "53": 1,
    "52": 1,
    "22": 0.8,
    "15": 0.6,
    "23": 0.6,
    "62": 0.5,
    "65": 0.4,
    "64": 0.3,
    "63": 0.2,
    "46": 0.2,
    "54": 0.1,
}
_EAST = {"11", "12", "13", "31", "32", "33", "35", "37", "44", "46", "21"}
_WEST = {"15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
_SIZE = {"micro": (0.25, -0.45), "small": (0.5, 0.0), "medium": (0.25, 0.45)}

PLANTED_PROBLEMS = (
    "unknown option code",
    "percentage out of range",
    "none ticked with other options",
    "duplicate respondent_id",
    "blank respondent_id",
    "not a number",
    "unknown sector",
)
"""The problems ``messy=True`` plants, one row each (the rest of the messy rows stay valid)."""


def synthesise(
    instrument: Instrument | str,
    n: int,
    seed: int,
    *,
    missing_rate: float = 0.02,
    dimension_correlation: float = 0.75,
    messy: bool = False,
) -> pd.DataFrame:
    """Generate ``n`` synthetic companies' answers.

    Parameters
    ----------
    instrument
        The instrument (or its shipped name / path).
    n
        Number of companies.
    seed
        Seed of the random generator: the same seed gives the same file.
    missing_rate
        Share of item answers left blank.
    dimension_correlation
        Correlation of each dimension's maturity with the company's overall maturity.
    messy
        Also plant realistic formatting variants and one row per :data:`PLANTED_PROBLEMS`.

    Returns
    -------
    pandas.DataFrame
        One row per company: ``respondent_id``, profile fields, then one column per item.
    """
    if n < 1:
        raise UsageError(f"n must be at least 1, got {n}")
    if not 0 <= missing_rate < 1:
        raise UsageError(f"missing_rate must be in [0, 1), got {missing_rate}")
    inst = instrument if isinstance(instrument, Instrument) else load_instrument(instrument)
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {"respondent_id": [f"SYN-{i:07d}" for i in range(1, n + 1)]}
    maturity = np.zeros(n)
    size_pick: np.ndarray | None = None

    for field in inst.profile:
        if field.code == "company_name":
            columns[field.code] = [f"合成企业{i:07d}" for i in range(1, n + 1)]
        elif field.code == "sector" and field.options:
            values = [o.value for o in field.options]
            share = rng.dirichlet(np.full(len(values), 2.0))
            effect = rng.normal(0, 0.35, len(values))
            pick = rng.choice(len(values), size=n, p=share)
            columns[field.code] = np.array(values, dtype=object)[pick]
            maturity += effect[pick]
        elif field.code == "size_class" and field.options:
            values = [o.value for o in field.options]
            share = np.array([_SIZE.get(v, (1.0, 0.0))[0] for v in values])
            effect = np.array([_SIZE.get(v, (1.0, 0.0))[1] for v in values])
            pick = rng.choice(len(values), size=n, p=share / share.sum())
            columns[field.code] = np.array(values, dtype=object)[pick]
            maturity += effect[pick]
            size_pick = np.array(values, dtype=object)[pick]
        elif field.code == "region" and field.options:
            values = [o.value for o in field.options]
            share = np.array([_REGION_WEIGHT.get(v, 1.0) for v in values])
            effect = np.array([0.3 if v in _EAST else -0.3 if v in _WEST else 0.0 for v in values])
            pick = rng.choice(len(values), size=n, p=share / share.sum())
            columns[field.code] = np.array(values, dtype=object)[pick]
            maturity += effect[pick]
        elif field.type == "choice" and field.options:
            values = [o.value for o in field.options]
            columns[field.code] = np.array(values, dtype=object)[rng.integers(len(values), size=n)]
        elif field.type == "number":
            columns[field.code] = None  # filled below once the size class is known
    maturity += rng.normal(0, 1, n)

    if "employees" in columns:
        sizes = size_pick
        low = {"micro": (3, 19), "small": (20, 299), "medium": (300, 999)}
        if sizes is None:
            columns["employees"] = rng.integers(5, 999, size=n)
        else:
            employees = np.empty(n, dtype=np.int64)
            for name, (a, b) in low.items():
                mask = sizes == name
                employees[mask] = np.exp(rng.uniform(np.log(a), np.log(b), mask.sum())).round()
            columns["employees"] = employees
    if (
        "revenue_band" in columns
        and columns["revenue_band"] is not None
        and "size_class" in columns
    ):
        band_by_size = {
            "micro": ["lt3m", "3m_20m"],
            "small": ["3m_20m", "20m_100m"],
            "medium": ["20m_100m", "100m_400m", "ge400m"],
        }
        allowed = {o.value for o in inst.profile_field("revenue_band").options}
        revenue = np.empty(n, dtype=object)
        for name, bands in band_by_size.items():
            mask = columns["size_class"] == name
            choices = [b for b in bands if b in allowed] or sorted(allowed)
            revenue[mask] = np.array(choices, dtype=object)[
                rng.integers(len(choices), size=mask.sum())
            ]
        columns["revenue_band"] = revenue

    rho = dimension_correlation
    for dimension in inst.dimensions:
        dim_maturity = rho * maturity + np.sqrt(1 - rho**2) * rng.normal(0, 1, n)
        for indicator in dimension.indicators:
            for item in indicator.items:
                latent = 0.8 * dim_maturity + 0.6 * rng.normal(0, 1, n)
                columns[item.code] = _answers(inst, item, latent, rng)

    frame = pd.DataFrame(columns)
    if missing_rate > 0:
        for item in inst.items:
            if inst.missing_policy(item) == "required":
                continue
            blank = rng.random(n) < missing_rate
            frame.loc[blank, item.code] = None
    if messy:
        frame = _make_messy(inst, frame, rng)
    return frame


def _ordinal(latent: np.ndarray, n_levels: int, shift: float) -> np.ndarray:
    """Ordered response: level k with cut points spread evenly on the latent scale."""
    cuts = np.linspace(-1.6, 1.6, n_levels - 1) + shift
    return np.searchsorted(cuts, latent).astype(np.int64)


def _answers(
    inst: Instrument, item: Item, latent: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    n = len(latent)
    if item.type == "single":
        order = np.argsort([o.points for o in item.options], kind="stable")
        level = _ordinal(latent, len(order), shift=0.2)
        return np.array([item.options[i].value for i in order], dtype=object)[level]
    if item.type == "multi":
        ticks = [(i, o) for i, o in enumerate(item.options) if not o.exclusive]
        difficulty = np.linspace(-0.6, 1.0, len(ticks))
        rng.shuffle(difficulty)
        mask = np.zeros(n, dtype=np.int64)
        for bit, ((_, _option), d) in enumerate(zip(ticks, difficulty)):
            ticked = rng.random(n) < ndtr(1.1 * latent - d)
            mask |= ticked.astype(np.int64) << bit
        none = next((o.value for o in item.options if o.exclusive), "")
        uniques, inverse = np.unique(mask, return_inverse=True)
        texts = [
            ";".join(ticks[b][1].value for b in range(len(ticks)) if m >> b & 1) or none
            for m in uniques.tolist()
        ]
        answers = np.array(texts, dtype=object)[inverse]
        return np.where(answers == "", None, answers)
    if item.type == "number":
        assert item.min is not None and item.max is not None
        share = ndtr(0.9 * latent - 0.1 + rng.normal(0, 0.3, n))
        value = item.min + share * (item.max - item.min)
        if item.code == "investment":  # digital investment is a small share of revenue
            value = item.min + (item.max - item.min) * share**2.5 * 0.9
        return np.round(value, 1)
    if item.type == "scenario":
        top = max(level.value for level in inst.scenario_levels)
        shift = 0.6 if item.mandatory else 0.9
        return _ordinal(latent, top + 1, shift)
    if item.type == "likert":
        assert item.scale is not None
        level = _ordinal(latent, item.scale.max - item.scale.min + 1, 0.0)
        if item.direction == "lower_is_better":
            level = item.scale.max - item.scale.min - level
        return item.scale.min + level
    return np.where(rng.random(n) < ndtr(latent), "yes", "no").astype(object)


def _make_messy(inst: Instrument, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Plant formatting variants everywhere and one row per problem kind."""
    frame = frame.astype(object)
    n = len(frame)
    items = list(inst.items)
    # harmless variants: labels for codes, "%" suffixes, full-width digits, lower-case codes
    for item in items:
        column = frame[item.code]
        pick = rng.random(n) < 0.05
        if item.type == "single":
            labels = {o.value: o.zh for o in item.options}
            frame.loc[pick, item.code] = column[pick].map(lambda v, to=labels: to.get(v, v))
        elif item.type == "number" and item.unit == "%":
            frame.loc[pick, item.code] = column[pick].map(
                lambda v: v if v is None or pd.isna(v) else f"{v}%"
            )
        elif item.type == "scenario":
            full_width = str.maketrans("01234", "０１２３４")
            frame.loc[pick, item.code] = column[pick].map(
                lambda v, table=full_width: v if pd.isna(v) else str(v).translate(table)
            )
        elif item.type == "multi":
            frame.loc[pick, item.code] = column[pick].map(
                lambda v: v if not isinstance(v, str) else v.lower().replace(";", "，")
            )
    if n < len(PLANTED_PROBLEMS) + 2:
        return frame
    rows = rng.choice(np.arange(1, n), size=len(PLANTED_PROBLEMS), replace=False)
    first = lambda kind: next(i for i in items if i.type == kind)  # noqa: E731
    for row, problem in zip(rows.tolist(), PLANTED_PROBLEMS):
        if problem == "unknown option code":
            frame.at[row, first("single").code] = "Z"
        elif problem == "percentage out of range":
            frame.at[row, first("number").code] = "135%"
        elif problem == "none ticked with other options":
            multi = first("multi")
            none = next(o.value for o in multi.options if o.exclusive)
            other = next(o.value for o in multi.options if not o.exclusive)
            frame.at[row, multi.code] = f"{none};{other}"
        elif problem == "duplicate respondent_id":
            frame.at[row, "respondent_id"] = frame.at[0, "respondent_id"]
        elif problem == "blank respondent_id":
            frame.at[row, "respondent_id"] = None
        elif problem == "not a number":
            frame.at[row, first("number").code] = "about half"
        elif problem == "unknown sector" and "sector" in frame.columns:
            frame.at[row, "sector"] = "C99"
    return frame

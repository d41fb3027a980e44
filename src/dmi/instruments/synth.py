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

from dmi.errors import UsageError
from dmi.instruments import Instrument, load_instrument
from dmi.instruments.items import item_type

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
                columns[item.code] = item_type(item).synthesise(item, inst, latent, rng)

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


def _make_messy(inst: Instrument, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Plant formatting variants everywhere and one row per problem kind."""
    frame = frame.astype(object)
    n = len(frame)
    items = list(inst.items)
    # harmless variants: labels for codes, "%" suffixes, full-width digits, lower-case codes
    for item in items:
        column = frame[item.code]
        # drawn for every item, with a variant or without: the later draws stay where they are
        pick = rng.random(n) < 0.05
        variant = item_type(item).messy_variant(item)
        if variant is not None:
            frame.loc[pick, item.code] = column[pick].map(variant)
    if n < len(PLANTED_PROBLEMS) + 2:
        return frame
    rows = rng.choice(np.arange(1, n), size=len(PLANTED_PROBLEMS), replace=False)
    # the invalid answers the item types can plant: the first item's for each problem
    planted: dict[str, tuple[str, object]] = {}
    for item in items:
        for problem, value in item_type(item).planted(item).items():
            planted.setdefault(problem, (item.code, value))
    for row, problem in zip(rows.tolist(), PLANTED_PROBLEMS):
        if problem in planted:
            code, value = planted[problem]
            frame.at[row, code] = value
        elif problem == "duplicate respondent_id":
            frame.at[row, "respondent_id"] = frame.at[0, "respondent_id"]
        elif problem == "blank respondent_id":
            frame.at[row, "respondent_id"] = None
        elif problem == "unknown sector" and "sector" in frame.columns:
            frame.at[row, "sector"] = "C99"
    return frame

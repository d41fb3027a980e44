"""Seeded synthetic firms for tests and the benchmark: every fact, plausible and correlated.

The same ``(n, seed, missing_rate)`` always gives the same frame. Numbers are float64 (NaN when
blank), yes/no and category facts are text, as a CSV reader gives them. The population is
spread so that every rung has firms in every state it can reach (专精特新 2026 and 小巨人 have
manual conditions, so they are never `eligible` without a reviewer).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dmi.eligibility.facts import facts_table

__all__ = ["synthetic_firms"]

_PROVINCES = (
    "广东",
    "江苏",
    "浙江",
    "山东",
    "北京",
    "上海",
    "湖北",
    "四川",
    "河南",
    "福建",
    "安徽",
    "湖南",
)
_CITIES = {
    "广东": ("广州", "深圳", "佛山"),
    "江苏": ("南京", "苏州", "无锡"),
    "浙江": ("杭州", "宁波", "温州"),
    "山东": ("济南", "青岛", "烟台"),
    "北京": ("北京",),
    "上海": ("上海",),
    "湖北": ("武汉", "襄阳", "宜昌"),
    "四川": ("成都", "绵阳", "德阳"),
    "河南": ("郑州", "洛阳", "新乡"),
    "福建": ("福州", "厦门", "泉州"),
    "安徽": ("合肥", "芜湖", "滁州"),
    "湖南": ("长沙", "株洲", "湘潭"),
}
_SECTORS = (
    "C34 通用设备",
    "C39 电子设备",
    "C26 化学原料",
    "C35 专用设备",
    "C38 电气机械",
    "I65 软件",
)


def _choice(
    rng: np.random.Generator, values: tuple[str, ...], p: list[float], n: int
) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def synthetic_firms(n: int, seed: int = 0, *, missing_rate: float = 0.03) -> pd.DataFrame:
    """A frame of ``n`` synthetic firms with every fact of :data:`dmi.eligibility.FACTS`.

    Parameters
    ----------
    n : int
        Number of firms.
    seed : int, default=0
        Seed of the random generator (same seed, same frame).
    missing_rate : float, default=0.03
        Share of the cells of each fact (other than the id) left blank.

    Returns
    -------
    DataFrame
        Ids ``SYN-E0000001`` ...; amounts in 万元.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= missing_rate < 1.0:
        raise ValueError(f"missing_rate must be in [0, 1), got {missing_rate}")
    rng = np.random.default_rng(seed)
    out: dict[str, object] = {}
    out["respondent_id"] = np.char.add("SYN-E", np.char.zfill(np.arange(1, n + 1).astype(str), 7))

    def money(x: np.ndarray) -> np.ndarray:
        return np.round(x, 2)

    revenue1 = money(np.exp(rng.normal(np.log(3000), 1.1, n)))
    growth1 = rng.normal(0.08, 0.12, n)
    growth2 = rng.normal(0.08, 0.12, n)
    revenue2 = money(revenue1 / np.maximum(1 + growth1, 0.2))
    revenue3 = money(revenue2 / np.maximum(1 + growth2, 0.2))
    main = rng.beta(9, 1.2, n)
    out["revenue_y1"], out["revenue_y2"], out["revenue_y3"] = revenue1, revenue2, revenue3
    for k, rev in ((1, revenue1), (2, revenue2), (3, revenue3)):
        share = np.clip(main + rng.normal(0, 0.02, n), 0.0, 1.0)
        out[f"main_revenue_y{k}"] = np.minimum(money(rev * share), rev)
    rd_share = np.exp(rng.normal(np.log(0.03), 0.6, n))
    out["rd_y1"] = money(revenue1 * rd_share)
    out["rd_y2"] = money(revenue2 * rd_share * np.exp(rng.normal(0, 0.15, n)))
    margin = rng.normal(0.06, 0.07, n)
    out["net_profit_y1"] = money(revenue1 * margin)
    funded = rng.random(n) < 0.15
    equity2 = np.where(funded, money(np.exp(rng.normal(np.log(1500), 1.0, n))), 0.0)
    out["equity_2y"] = equity2
    out["equity_3y"] = money(equity2 + np.where(rng.random(n) < 0.1, rng.gamma(2, 300, n), 0.0))
    out["assets_y1"] = money(revenue1 * rng.uniform(0.6, 2.0, n))
    out["cost_y1"] = money(np.maximum(revenue1 * (1 - margin), out["rd_y1"]))  # type: ignore[call-overload]
    out["debt_ratio"] = np.round(rng.beta(4, 5, n) * 100, 1)
    out["market_share"] = np.round(np.clip(np.exp(rng.normal(np.log(3), 1.0, n)), 0, 100), 1)
    out["niche_years"] = rng.poisson(6, n).astype(np.float64)
    staff = np.maximum(np.round(np.exp(rng.normal(np.log(80), 0.9, n))), 1)
    out["staff"] = staff
    out["rd_staff"] = rng.binomial(staff.astype(np.int64), rng.beta(2, 8, n)).astype(np.float64)
    out["ip_class1"] = rng.poisson(1.5, n).astype(np.float64)
    out["ip_class2"] = rng.poisson(3, n).astype(np.float64)
    out["domestic_rank"] = (rng.geometric(0.15, n)).astype(np.float64)
    award = _choice(rng, ("none", "provincial", "national"), [0.85, 0.11, 0.04], n)
    out["award"] = award
    has_award = award != "none"
    out["award_rank"] = np.where(has_award, rng.integers(1, 11, n), np.nan)
    out["award_year"] = np.where(
        has_award & (rng.random(n) < 0.5), rng.integers(2018, 2027, n), np.nan
    )
    out["quality_items"] = rng.integers(0, 5, n).astype(np.float64)
    has_ip1 = out["ip_class1"] > 0  # type: ignore[operator]
    yes_no = np.array(["no", "yes"], dtype=object)
    for code, p in (
        ("ip_class1_own", 0.7),
        ("ip_class1_high_value", 0.15),
    ):
        out[code] = yes_no[(has_ip1 & (rng.random(n) < p)).astype(np.intp)]
    for code, p in (
        ("high_tech_title", 0.3),
        ("innovation_title", 0.03),
        ("standard_lead", 0.08),
        ("strategic_emerging", 0.45),
        ("key_chain_link", 0.2),
        ("info_system", 0.75),
        ("certification", 0.6),
        ("own_brand", 0.55),
        ("sme", 0.97),
        ("credit_clean", 0.97),
        ("product_allowed", 0.99),
        ("no_incident", 0.97),
    ):
        out[code] = yes_no[(rng.random(n) < p).astype(np.intp)]
    out["makers_china"] = _choice(rng, ("none", "top500", "top50"), [0.95, 0.04, 0.01], n)
    out["rd_institution"] = _choice(
        rng,
        ("none", "below_city", "city", "provincial", "national"),
        [0.45, 0.15, 0.25, 0.13, 0.02],
        n,
    )
    out["product_field"] = _choice(rng, ("gap_filler", "six_bases", "other"), [0.1, 0.25, 0.65], n)
    out["digital_level"] = rng.choice(5, size=n, p=[0.1, 0.35, 0.35, 0.15, 0.05]).astype(np.float64)
    out["digital_level_computed"] = np.full(n, np.nan)
    out["eval_score"] = np.round(np.clip(rng.normal(52, 12, n), 0, 100), 1)
    out["eval_score_prev"] = np.round(np.clip(out["eval_score"] + rng.normal(0, 6, n), 0, 100), 1)  # type: ignore[operator]
    out["featured_points"] = rng.integers(0, 16, n).astype(np.float64)
    holds = ("no", "yes", "recheck")
    innovative = _choice(rng, holds, [0.55, 0.4, 0.05], n)
    specialised = np.where(innovative != "no", _choice(rng, holds, [0.7, 0.25, 0.05], n), "no")
    little = np.where(specialised != "no", _choice(rng, holds, [0.85, 0.1, 0.05], n), "no")
    out["holds_innovative"], out["holds_specialised"], out["holds_little_giant"] = (
        innovative,
        specialised,
        little,
    )
    out["province"] = _choice(rng, _PROVINCES, [1 / len(_PROVINCES)] * len(_PROVINCES), n)
    out["sector"] = _choice(rng, _SECTORS, [1 / len(_SECTORS)] * len(_SECTORS), n)
    # the city has a generator of its own: the other facts stay those of earlier versions
    city_rng = np.random.default_rng([seed, 1])
    pick = city_rng.random(n)
    province_of = pd.Series(out["province"]).to_numpy(dtype=object)
    city = np.empty(n, dtype=object)
    for province, cities in _CITIES.items():
        rows = province_of == province
        city[rows] = np.asarray(cities, dtype=object)[(pick[rows] * len(cities)).astype(np.intp)]
    out["city"] = city
    # added later, so with a generator of its own too: none in 3 years is none in the last two
    incident_rng = np.random.default_rng([seed, 2])
    recent = (out["no_incident"] == "yes") | (incident_rng.random(n) < 0.5)
    out["no_incident_recent"] = yes_no[recent.astype(np.intp)]

    frame = pd.DataFrame({f.code: out[f.code] for f in facts_table()})
    if missing_rate > 0:
        # a blank never breaks a check across facts: a check needs both of its facts
        for code in frame.columns:
            if code == "respondent_id":
                continue
            own = {"city": city_rng, "no_incident_recent": incident_rng}
            blank = own.get(code, rng).random(n) < missing_rate
            if not blank.any():
                continue
            if frame[code].dtype == np.float64:
                frame.loc[blank, code] = np.nan
            else:
                frame[code] = frame[code].where(~blank, None)
    return frame

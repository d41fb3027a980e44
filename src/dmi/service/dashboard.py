"""The agency's dashboard of the submissions made in the app: who took the survey, where they
stand, and how the companies that submitted again moved.

Every number the dashboard page shows or exports is computed here, from the store's
:meth:`~dmi.service.store.Store.submission_table`; the page only draws it. Values are kept as
the instrument's codes (``33``, ``C14``, level ``2``) until they are shown: :func:`labels` names
them in the page's language, and every table made for people (:func:`counts`,
:func:`progress`, :func:`export_workbook`) carries the names.

Counts are of companies, each counted once with its latest submission among those selected
(:func:`select`); the T0 → T1 progress pairs each company's first and latest selected
submission. A company is the holder of one resume code (``company`` = ``S<id of its first
submission>``): the code itself never leaves the store.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from dmi.instruments import Instrument
from dmi.locales import text
from dmi.service.store import Store

__all__ = [
    "GROUPS",
    "Filters",
    "Overview",
    "ProgressSummary",
    "companies_table",
    "counts",
    "export_workbook",
    "for_people",
    "histogram",
    "labels",
    "latest",
    "overview",
    "pairs_for_people",
    "progress",
    "region_table",
    "select",
    "submissions",
]

PROFILE = ("company_name", "region", "city", "sector", "size_class")
"""The answers the dashboard reads from each submission (``city`` when the survey asks it)."""

GROUPS = ("region", "city", "sector", "size_class", "level", "tier")
"""What companies are counted by."""


def submissions(store: Store, instrument: Instrument) -> pd.DataFrame:
    """Every stored submission of ``instrument``, oldest first, its profile answers as columns.

    Returns
    -------
    pandas.DataFrame
        ``submission, company, submitted_at, round`` (0 for a company's first submission, T0;
        1 for its second, T1; ...), ``dmi, level, tier`` and the :data:`PROFILE` answers as
        text (None when not given).
    """
    table = store.submission_table(instrument.id)
    frame = table.drop(columns=["answers", "reference_version"])
    for code in PROFILE:
        frame[code] = pd.Series(  # object: a blank answer stays None
            [_text(answers.get(code)) for answers in table["answers"]],
            index=frame.index,
            dtype=object,
        )
    frame["round"] = frame.groupby("company", sort=False).cumcount()
    order = ["submission", "company", "submitted_at", "round", "dmi", "level", "tier"]
    return frame[order + list(PROFILE)]


def _text(value: Any) -> str | None:
    """An answer as the text a group is named by: blank is None, a whole number has no '.0'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    shown = str(value).strip()
    return shown or None


@dataclass(frozen=True)
class Filters:
    """Which submissions the dashboard counts: each given set keeps the submissions whose
    answer is in it (an empty set keeps all); ``since`` and ``until`` are days (UTC), both
    included."""

    regions: frozenset[str] = frozenset()
    cities: frozenset[str] = frozenset()
    sectors: frozenset[str] = frozenset()
    sizes: frozenset[str] = frozenset()
    since: date | None = None
    until: date | None = None

    @classmethod
    def of(
        cls,
        *,
        regions: Iterable[str] = (),
        cities: Iterable[str] = (),
        sectors: Iterable[str] = (),
        sizes: Iterable[str] = (),
        since: date | None = None,
        until: date | None = None,
    ) -> Filters:
        return cls(
            frozenset(regions),
            frozenset(cities),
            frozenset(sectors),
            frozenset(sizes),
            since,
            until,
        )


def select(frame: pd.DataFrame, filters: Filters | None = None) -> pd.DataFrame:
    """The submissions of :func:`submissions` that ``filters`` keep (all when None)."""
    if filters is None:
        return frame
    keep = pd.Series(True, index=frame.index)
    for column, wanted in (
        ("region", filters.regions),
        ("city", filters.cities),
        ("sector", filters.sectors),
        ("size_class", filters.sizes),
    ):
        if wanted:
            keep &= frame[column].isin(wanted)
    if filters.since is not None:
        keep &= frame["submitted_at"] >= _utc_day(filters.since)
    if filters.until is not None:
        keep &= frame["submitted_at"] < _utc_day(filters.until) + timedelta(days=1)
    return frame[keep]


def _utc_day(day: date) -> pd.Timestamp:
    return pd.Timestamp(datetime.combine(day, time()), tz="UTC")


def latest(frame: pd.DataFrame) -> pd.DataFrame:
    """Each company's latest submission among ``frame``'s (one row per company)."""
    ordered = frame.sort_values(["submitted_at", "submission"], kind="stable")
    return ordered.drop_duplicates("company", keep="last").sort_values("submission")


@dataclass(frozen=True)
class Overview:
    """The headline numbers: companies, submissions, companies that submitted more than once
    (among the selected submissions), and the mean index of the companies' latest ones."""

    companies: int
    submissions: int
    resubmitted: int
    mean_index: float | None


def overview(frame: pd.DataFrame) -> Overview:
    """The :class:`Overview` of the selected submissions."""
    last = latest(frame)
    per_company = frame.groupby("company").size()
    return Overview(
        companies=len(last),
        submissions=len(frame),
        resubmitted=int((per_company > 1).sum()),
        mean_index=float(last["dmi"].mean()) if len(last) else None,
    )


# -- names ---------------------------------------------------------------------------------------


def labels(instrument: Instrument, group: str, lang: str) -> dict[str, str]:
    """The names of a group's values in ``lang``, keyed by the value as text, in the
    instrument's order: options of a profile field (``"33"`` → 浙江省), level bands (``"2"`` →
    二级), tiers (``"1"`` → 数字化启蒙帮扶). A group without fixed values (``city``): empty."""
    zh = lang == "zh"
    if group == "level":
        return {str(b.level): b.zh if zh else b.en for b in instrument.levels.bands}
    if group == "tier":
        return {str(t.tier): t.zh if zh else t.en for t in instrument.tiers}
    known = {f.code: f for f in instrument.profile}
    if group in known:
        return {o.value: o.zh if zh else o.en for o in known[group].options}
    return {}


def _named(values: pd.Series, names: Mapping[str, str], lang: str) -> pd.Series:
    """Each value by its name; one not in ``names`` as itself; blank as 'not given'."""
    blank = text("agency.not_given", lang)
    return pd.Series(
        [blank if _blank(v) else names.get(str(v), str(v)) for v in values],
        index=values.index,
        dtype=object,
    )


def _as_text(values: pd.Series) -> pd.Series:
    """Level and tier numbers as text keys (blank stays None)."""
    return pd.Series(
        [None if _blank(v) else str(int(v)) for v in values], index=values.index, dtype=object
    )


# -- counts ------------------------------------------------------------------------------------


def counts(frame: pd.DataFrame, group: str, instrument: Instrument, lang: str) -> pd.DataFrame:
    """How many companies (their latest selected submission) have each value of ``group``.

    Parameters
    ----------
    frame : DataFrame
        Selected submissions (:func:`select`).
    group : {"region", "city", "sector", "size_class", "level", "tier"}
    lang : {"zh", "en"}

    Returns
    -------
    pandas.DataFrame
        ``value`` (the code as text, None for not given), ``name`` (in ``lang``),
        ``companies``, ``share`` (of the companies counted) and ``mean_index``; levels and
        tiers list every one of the instrument's (0 companies included), other groups the
        values met, in the instrument's order, then the others by name, 'not given' last.
    """
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}; expected one of {', '.join(GROUPS)}")
    last = latest(frame)
    values = _as_text(last[group]) if group in ("level", "tier") else last[group]
    names = labels(instrument, group, lang)
    found = pd.DataFrame({"value": values, "dmi": last["dmi"]})
    table = (
        found.groupby("value", dropna=False, sort=False)["dmi"]
        .agg(companies="size", mean_index="mean")
        .reset_index()
    )
    table["value"] = _objects(table["value"])
    if group in ("level", "tier"):
        every = pd.DataFrame({"value": list(names)})
        table = every.merge(table, on="value", how="outer")
        table["companies"] = table["companies"].fillna(0).astype(int)
    order = {value: i for i, value in enumerate(names)}
    table["name"] = _named(table["value"], names, lang)
    table["_order"] = [
        (2, "", 0) if _blank(v) else (0, "", order[v]) if v in order else (1, str(n), 0)
        for v, n in zip(table["value"], table["name"])
    ]
    table = table.sort_values("_order", kind="stable").reset_index(drop=True)
    total = len(last)
    table["share"] = table["companies"] / total if total else np.nan
    table["companies"] = table["companies"].astype(int)
    return table[["value", "name", "companies", "share", "mean_index"]]


def for_people(table: pd.DataFrame, group: str, lang: str) -> pd.DataFrame:
    """A :func:`counts` or :func:`region_table` table as the page shows it: names only,
    headed in ``lang``, shares as percentages and mean indexes to one decimal."""
    t = _headers(lang)
    if "province" in table:
        named = {t["province"]: table["province"], t["city"]: table["city"]}
    else:
        named = {text(f"agency.group_{group}", lang): table["name"]}
    return pd.DataFrame(
        {
            **named,
            t["companies"]: table["companies"].astype(int),
            t["share"]: (table["share"] * 100).round(1),
            t["mean_index"]: table["mean_index"].round(1),
        }
    )


def pairs_for_people(pairs: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The :func:`progress` pairs as the page and the export show them."""
    t = _headers(lang)
    return pd.DataFrame(
        {
            t["company_name"]: _named(pairs["company_name"], {}, lang),
            t["dmi_t0"]: pairs["dmi_t0"].round(1),
            t["dmi_t1"]: pairs["dmi_t1"].round(1),
            t["change"]: pairs["change"].round(1),
            t["level_t0"]: pairs["level_t0"],
            t["level_t1"]: pairs["level_t1"],
            t["moved"]: [text(f"agency.moved_{m}", lang) for m in pairs["moved"]],
        }
    )


def region_table(frame: pd.DataFrame, instrument: Instrument, lang: str) -> pd.DataFrame:
    """Companies by province and, within it, by city (the survey's ``city`` answer).

    Returns
    -------
    pandas.DataFrame
        ``region, province, city, companies, share, mean_index``: one row per province and
        city met (``city`` 'not given' where the answer is blank), provinces in the
        instrument's order.
    """
    last = latest(frame)
    names = labels(instrument, "region", lang)
    found = pd.DataFrame(
        {
            "region": last["region"],
            "city": last["city"].astype(object).where(last["city"].notna(), None),
            "dmi": last["dmi"],
        }
    )
    table = (
        found.groupby(["region", "city"], dropna=False, sort=False)["dmi"]
        .agg(companies="size", mean_index="mean")
        .reset_index()
    )
    for column in ("region", "city"):
        table[column] = _objects(table[column])
    blank = text("agency.not_given", lang)
    order = {value: i for i, value in enumerate(names)}
    table["province"] = _named(table["region"], names, lang)
    table["city"] = _named(table["city"], {}, lang)
    table["_order"] = [
        (2 if _blank(r) else 0 if r in order else 1, order.get(r, 0), str(p), c == blank, c)
        for r, p, c in zip(table["region"], table["province"], table["city"])
    ]
    table = table.sort_values("_order", kind="stable").reset_index(drop=True)
    total = len(last)
    table["share"] = table["companies"] / total if total else np.nan
    return table[["region", "province", "city", "companies", "share", "mean_index"]]


def histogram(values: Iterable[float], width: float = 10.0) -> pd.DataFrame:
    """How many index values fall in each band of ``width`` points from 0 to 100.

    Bands are closed on the left, the last one on both sides (100 is in 90-100).

    Returns
    -------
    pandas.DataFrame
        ``band`` (``"0-10"``, ...), ``start``, ``companies``.
    """
    edges = np.arange(0.0, 100.0 + width / 2, width)
    data = np.asarray(list(values), dtype=float)
    data = data[~np.isnan(data)]
    found, _ = np.histogram(data, bins=edges)
    return pd.DataFrame(
        {
            "band": [f"{a:g}-{b:g}" for a, b in zip(edges[:-1], edges[1:])],
            "start": edges[:-1],
            "companies": found.astype(int),
        }
    )


# -- progress ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressSummary:
    """The companies with two or more selected submissions, T0 (first) against T1 (latest):
    how many, how many moved up or down a level or stayed, and the mean change of the index
    (T1 - T0; None when there is no pair)."""

    companies: int
    up: int
    down: int
    same: int
    mean_change: float | None


def progress(
    frame: pd.DataFrame, instrument: Instrument, lang: str
) -> tuple[pd.DataFrame, ProgressSummary]:
    """T0 → T1 of the companies that submitted again: each company's first and latest
    selected submission, paired.

    Returns
    -------
    pairs : DataFrame
        One row per company, largest rise first: ``company, company_name, dmi_t0, dmi_t1,
        change, level_t0, level_t1`` (the levels by name) and ``moved`` (``up``, ``down`` or
        ``same``: the level's move), ``submitted_t0, submitted_t1``.
    summary : ProgressSummary
    """
    ordered = frame.sort_values(["submitted_at", "submission"], kind="stable")
    repeated = ordered[ordered.groupby("company")["company"].transform("size") > 1]
    first = repeated.drop_duplicates("company", keep="first").set_index("company")
    last = repeated.drop_duplicates("company", keep="last").set_index("company")
    last = last.loc[first.index]
    names = labels(instrument, "level", lang)
    move = np.sign(last["level"].to_numpy() - first["level"].to_numpy())
    pairs = pd.DataFrame(
        index=pd.RangeIndex(len(first)),
        data={
            "company": first.index.to_numpy(),
            "company_name": [
                b if _blank(a) else a for a, b in zip(last["company_name"], first["company_name"])
            ],
            "dmi_t0": first["dmi"].to_numpy(),
            "dmi_t1": last["dmi"].to_numpy(),
            "change": last["dmi"].to_numpy() - first["dmi"].to_numpy(),
            "level_t0": [names.get(str(v), str(v)) for v in first["level"]],
            "level_t1": [names.get(str(v), str(v)) for v in last["level"]],
            "moved": np.select([move > 0, move < 0], ["up", "down"], "same"),
            "submitted_t0": first["submitted_at"].to_numpy(),
            "submitted_t1": last["submitted_at"].to_numpy(),
        },
    )
    pairs = pairs.sort_values(["change", "company"], ascending=[False, True], kind="stable")
    pairs = pairs.reset_index(drop=True)
    summary = ProgressSummary(
        companies=len(pairs),
        up=int((pairs["moved"] == "up").sum()),
        down=int((pairs["moved"] == "down").sum()),
        same=int((pairs["moved"] == "same").sum()),
        mean_change=float(pairs["change"].mean()) if len(pairs) else None,
    )
    return pairs, summary


# -- export ------------------------------------------------------------------------------------


_COLUMNS = (
    "company_name", "province", "city", "sector", "size_class", "submitted_at", "submissions",
    "dmi", "level", "tier", "companies", "share", "mean_index", "dmi_t0", "dmi_t1",
    "change", "level_t0", "level_t1", "moved",
)  # fmt: skip


def _headers(lang: str) -> dict[str, str]:
    """The export's column headers in ``lang``, by column."""
    return {name: text(f"agency.col_{name}", lang) for name in _COLUMNS}


def companies_table(frame: pd.DataFrame, instrument: Instrument, lang: str) -> pd.DataFrame:
    """The companies' latest selected submissions, for people: names, not codes; the
    columns headed in ``lang``."""
    last = latest(frame)
    t = _headers(lang)
    return pd.DataFrame(
        {
            t["company_name"]: _named(last["company_name"], {}, lang),
            t["province"]: _named(last["region"], labels(instrument, "region", lang), lang),
            t["city"]: _named(last["city"], {}, lang),
            t["sector"]: _named(last["sector"], labels(instrument, "sector", lang), lang),
            t["size_class"]: _named(
                last["size_class"], labels(instrument, "size_class", lang), lang
            ),
            t["submitted_at"]: [v.strftime("%Y-%m-%d %H:%M") for v in last["submitted_at"]],
            t["submissions"]: last["round"].to_numpy() + 1,
            t["dmi"]: last["dmi"].round(1).to_numpy(),
            t["level"]: _named(_as_text(last["level"]), labels(instrument, "level", lang), lang),
            t["tier"]: _named(_as_text(last["tier"]), labels(instrument, "tier", lang), lang),
        }
    )


def export_workbook(frame: pd.DataFrame, instrument: Instrument, lang: str) -> bytes:
    """The selected submissions as an Excel workbook for people (openpyxl): the companies,
    the counts by each group, and the T0 → T1 progress, every value by its name in ``lang``.

    Text is stored as text cells, as in every workbook dmi writes (:func:`dmi.io.xlsx_row`):
    a company named ``=HYPERLINK(...)`` is shown as that name, never run.
    """
    from openpyxl import Workbook

    from dmi.io import xlsx_row

    t = _headers(lang)
    sheets: list[tuple[str, pd.DataFrame]] = [
        (text("agency.sheet_companies", lang), companies_table(frame, instrument, lang))
    ]
    regions = region_table(frame, instrument, lang)
    sheets.append(
        (
            text("agency.sheet_regions", lang),
            pd.DataFrame(
                {
                    t["province"]: regions["province"],
                    t["city"]: regions["city"],
                    t["companies"]: regions["companies"],
                    t["share"]: regions["share"].round(4),
                    t["mean_index"]: regions["mean_index"].round(1),
                }
            ),
        )
    )
    for group in ("sector", "size_class", "level", "tier"):
        table = counts(frame, group, instrument, lang)
        sheets.append(
            (
                text(f"agency.group_{group}", lang),
                pd.DataFrame(
                    {
                        t[group]: table["name"],
                        t["companies"]: table["companies"],
                        t["share"]: table["share"].round(4),
                        t["mean_index"]: table["mean_index"].round(1),
                    }
                ),
            )
        )
    pairs, _ = progress(frame, instrument, lang)
    sheets.append((text("agency.sheet_progress", lang), pairs_for_people(pairs, lang)))
    book = Workbook()
    book.remove(book.active)
    for title, table in sheets:
        sheet = book.create_sheet(title[:31])  # Excel's longest sheet name
        sheet.append(list(table.columns))
        for row in table.astype(object).itertuples(index=False):
            sheet.append(xlsx_row(sheet, [None if _blank(v) else _plain(v) for v in row]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _blank(value: Any) -> bool:
    """A missing value, however pandas holds it (None, NaN, NA)."""
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _objects(values: pd.Series) -> pd.Series:
    """``values`` as objects, missing ones None (pandas' text columns hold NaN)."""
    return pd.Series([None if _blank(v) else v for v in values], index=values.index, dtype=object)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value

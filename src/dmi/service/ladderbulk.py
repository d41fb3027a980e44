"""What the agency's bulk page shows of a facts file run on the 梯度培育 ladder, in the page's
language.

The run is :func:`dmi.bulk.eligibility.evaluate_file`, the same as ``dmi eligibility --cohort
--candidates``; its files keep codes (rung ``specialised``, condition ``sr26_rd``, status
``not_yet``) so that they can be read again. This module names them for people: rungs,
statuses and conditions in ``lang`` (a condition's id only beside its name), provinces and
sectors by name where the value is one of the survey's codes (``33`` → 浙江省, ``C34`` →
通用设备制造业), and the rejects' reasons.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dmi.columns import ID_COLUMN
from dmi.eligibility import (
    RUNGS,
    STATUSES,
    YEARS_AHEAD,
    application_year,
    facts_codebook,
    facts_template,
    load_policy,
    rules_codebook,
)
from dmi.eligibility.facts import A_YEAR_NOT_YEARS, FACTS, NUMBERED_OPTION
from dmi.eligibility.places import province_of
from dmi.eligibility.survey import SURVEY_INSTRUMENT
from dmi.errors import ApplicationYearError
from dmi.io import csv_bytes, unescaped
from dmi.locales import text
from dmi.results.ladder import status_text
from dmi.service.bulkview import column_labels, company_names, reason_text
from dmi.service.ladder import application_year_now
from dmi.text import folded, mid_sentence

__all__ = [
    "POLICIES",
    "LadderRun",
    "codebook_bytes",
    "columns_read",
    "export_columns",
    "column_map",
    "condition_labels",
    "group_name",
    "groupings",
    "missing_table",
    "named_candidates",
    "path_labels",
    "named_rejects",
    "fact_choices",
    "file_columns",
    "file_headers",
    "ignored_columns",
    "listed_headers",
    "one_away_by",
    "one_away_counts",
    "reasons_table",
    "rung_labels",
    "run_file",
    "sheets",
    "status_table",
    "template_bytes",
    "year_problem",
]

POLICIES = ("2026", "2022")
"""The policy versions the page offers, the one in force first."""

BY = ("all", "province", "city", "sector")
_BLANK = "(blank)"


@dataclass
class LadderRun:
    """A run's summary, the files it wrote (bytes, codes kept) and the tables read back."""

    summary: object
    files: dict[str, bytes]
    cohort: pd.DataFrame
    candidates: pd.DataFrame
    rejects: pd.DataFrame
    # the file's column of company names (read beside the facts, not a fact) and each
    # respondent id's name; None and {} for a file without one
    name_header: str | None = None
    names: dict[str, str] = field(default_factory=dict)


def run_file(
    source: Path,
    folder: Path,
    *,
    policy: str,
    lang: str,
    year: int | None = None,
    encoding: str | None = None,
    duplicates: str = "reject",
    column_map: dict[str, str] | None = None,
    sheet: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> LadderRun:
    """Run ``source`` through the ladder as ``dmi eligibility --cohort --candidates --year``
    does, writing into ``folder``; the outputs are read back as bytes (the folder may go). A
    workbook's header is found below its title rows (the summary's ``header_row``). ``year``:
    the application year, by default the app's (:func:`dmi.service.ladder.application_year_now`,
    the pre-check's), not the command line's (the policy's first). ``column_map``: header ->
    fact, as ``--map`` (:func:`column_map`); ``sheet``: a workbook's sheet (None: the active
    one)."""
    from dmi.bulk.eligibility import evaluate_file, fact_header_row

    paths = {n: folder / f"{n}.csv" for n in ("results", "rejects", "cohort", "candidates")}
    summary, _ = evaluate_file(
        source,
        paths["results"],
        # below an XLSX's title rows, the map's headers naming their facts
        header_row=fact_header_row(source, sheet=sheet, column_map=column_map),
        sheet=sheet,
        policy=policy,
        year=application_year_now(policy) if year is None else year,
        lang=lang,
        rejects_path=paths["rejects"],
        cohort_path=paths["cohort"],
        candidates_path=paths["candidates"],
        encoding=encoding,
        duplicates=duplicates,
        column_map=column_map or None,
        progress=progress,
    )
    files = {n: p.read_bytes() for n, p in paths.items()}
    # what the results' condition columns stand for, under the rules and year of the run
    files["rules"] = csv_bytes(rules_codebook(policy, year=summary.year))

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)

    cohort = read("cohort")
    cohort["n"] = cohort["n"].astype("int64")
    name_header, names = _company_names(
        source,
        summary,
        encoding=encoding,
        sheet=sheet,
        header_row=summary.header_row,
        duplicates=duplicates,
    )
    return LadderRun(
        summary, files, cohort, read("candidates"), read("rejects"), name_header, names
    )


def _company_names(source: Path, summary: Any, **read: Any) -> tuple[str | None, dict[str, str]]:
    """The column of a facts file that names the companies (企业名称, company name ...: as the
    survey's bulk page finds it) and the name of each respondent id, read as that page reads
    them (:func:`dmi.service.bulkview.company_names`); ``(None, {})`` for a file without one,
    or without an id column."""
    from dmi.instruments import load_instrument
    from dmi.io import map_columns

    mapping = summary.mapping or {}
    id_header = next((h for h, c in mapping.get("matched", {}).items() if c == ID_COLUMN), None)
    unread = list(mapping.get("unmatched", []))
    if id_header is None or not unread:
        return None, {}
    survey = load_instrument(SURVEY_INSTRUMENT)
    found = map_columns(survey, unread)
    name = next((h for h, c in found.rename.items() if c == "company_name"), None)
    if name is None:
        return None, {}
    pair = map_columns(survey, [id_header, name], {id_header: ID_COLUMN, name: "company_name"})
    return name, company_names(source, pair, **read)


def year_problem(policy: str, year: int, lang: str) -> str | None:
    """Why ``year`` cannot be the application year under ``policy``, in ``lang`` (the command
    line's refusal of ``--year`` by :func:`dmi.eligibility.application_year`, worded from its
    :class:`~dmi.errors.ApplicationYearError`); None when it can."""
    try:
        application_year(policy, year)
    except ApplicationYearError as exc:
        if exc.problem == "before":
            return text(
                "ladder_bulk.year_before",
                lang,
                policy=exc.policy,
                date=exc.effective.isoformat(),
                year=exc.year,
            )
        return text(
            "ladder_bulk.year_ahead", lang, year=exc.year, ahead=YEARS_AHEAD, latest=exc.latest
        )
    return None


def template_bytes() -> bytes:
    """The facts template (``dmi eligibility template``) as a CSV download."""
    return csv_bytes(facts_template())


def xlsform_bytes() -> bytes:
    """The KoboToolbox form of the MIIT survey and the facts (``dmi eligibility xlsform``) as
    an XLSX download."""
    from dmi.eligibility import facts_xlsform
    from dmi.instruments.export.xlsform import xlsform_bytes as workbook

    return workbook(facts_xlsform())


def codebook_bytes() -> bytes:
    """The facts' codebook (``dmi eligibility codebook``: every column's name in Chinese and
    English, its unit and the values it takes) as a CSV download."""
    return csv_bytes(facts_codebook())


# -- the file's columns ------------------------------------------------------------------------


def ignored_columns(found: LadderRun) -> list[str]:
    """The file's headers a run did not read: those that name no fact nor survey question,
    then the second columns of one fact; not a survey tool's export's own columns
    (:func:`export_columns`), which hold no fact to map (``dmi eligibility`` lists those among
    its ignored columns on stderr). The column of company names is read, for the candidates'
    list."""
    mapping = getattr(found.summary, "mapping", {}) or {}
    repeated = list(mapping.get("duplicates", {}))  # header -> the fact it repeats
    own = set(export_columns(found))
    unread = [h for h in mapping.get("unmatched", []) if h != found.name_header and h not in own]
    return [*unread, *repeated]


def export_columns(found: LadderRun) -> list[str]:
    """A survey tool's export's own columns the run did not read (问卷星's 序号, 提交答卷时间,
    所用时间, 来源 ...; KoboToolbox's _uuid, start ...: the summary's ``mapping.export_meta``):
    listed apart, never offered as facts to map."""
    mapping = getattr(found.summary, "mapping", {}) or {}
    return list(mapping.get("export_meta", []))


def listed_headers(headers: list[str], lang: str) -> str:
    """Headers listed in a sentence, each in quotes: a header may hold the list's own
    separator (``2、企业规模``), so that ``来自IP、2、企业规模`` read as three columns."""
    if lang == "zh":
        return "、".join(f"“{h}”" for h in headers)
    return ", ".join(f'"{h}"' for h in headers)


def columns_read(found: LadderRun, lang: str) -> pd.DataFrame:
    """How a run read the file's columns: each header read, and the fact (by name, its code
    beside it) or survey question it was read as; the company names too."""
    matched = dict((getattr(found.summary, "mapping", {}) or {}).get("matched", {}))
    if found.name_header is not None:
        matched[found.name_header] = "company_name"
    as_what = {
        ID_COLUMN: text("agency.col_respondent_id", lang),
        "company_name": text("agency.col_company_name", lang),
    }
    return pd.DataFrame(
        {
            text("agency.file_column", lang): list(matched),
            text("ladder_bulk.col_read_as", lang): [
                as_what.get(code) or f"{_fact_label(code, lang)} ({code})"
                for code in matched.values()
            ],
        }
    )


WIDEST_SEARCH_ROWS = 200
"""Rows of a sheet looked at for one wider than its first (:func:`file_headers`)."""


def file_headers(source: Path, encoding: str | None = None, sheet: str | None = None) -> list[str]:
    """The headers of a facts file as a run matches them (an XLSX's first row: none below
    names a fact), for the page to map when none of them names a fact; none ([]) when a row
    of the sheet's first rows is wider than the first, which is then a title above a header
    further down (mapping the title read the titles as firms, and was refused again)."""
    from dmi.io import open_table
    from dmi.io.readers import best_header_row

    # the first of the widest rows (a header has a cell per column; a title, a few), looked for
    # further down than a header is (the header may be below the rows looked at for it)
    widest, _ = best_header_row(
        source, lambda headers: (len(headers), 0), sheet=sheet, rows=WIDEST_SEARCH_ROWS
    )
    if widest not in (None, 1):
        return []
    return list(open_table(source, encoding=encoding, sheet=sheet).columns)


def sheets(source: Path) -> list[str]:
    """A workbook's visible sheets, the one it opens on first ([] for a CSV or Parquet file):
    from its list of sheets, so that a blank or hidden first sheet does not hide the others."""
    from dmi.io import workbook_sheets

    return workbook_sheets(source)


def fact_choices(lang: str) -> dict[str, str]:
    """What a column can be read as on the page, by name (its code beside it) -> code: not
    read, the respondent id, or one of the facts a file can give (not the level dmi
    computes)."""
    choices = {text("ladder_bulk.map_none", lang): ""}
    for fact in FACTS:
        if fact.code != "digital_level_computed":
            choices[f"{fact.label(lang)} ({fact.code})"] = fact.code
    return choices


def column_map(headers: list[str], chosen: list[str]) -> dict[str, str]:
    """The ``--map`` of the page's choices: each header and the fact chosen for it, by its
    :func:`fact_choices` name in either language (a choice made before the page's language
    was switched holds); those left not read are left out."""
    codes = fact_choices("zh") | fact_choices("en")
    return {h: codes[c] for h, c in zip(headers, chosen) if codes.get(c)}


# -- names -------------------------------------------------------------------------------------


def rung_labels(policy: str, lang: str) -> dict[str, str]:
    """Each rung's name in ``lang``."""
    rungs = load_policy(policy).rungs
    return {r: rungs[r].label(lang) for r in RUNGS if r in rungs}


def path_labels(policy: str, lang: str) -> dict[str, str]:
    """Each way of a rung that has several (the 2026 tier 1: 创新型, 科技型), by id, in ``lang``."""
    return {p.id: p.label(lang) for spec in load_policy(policy).rungs.values() for p in spec.paths}


def condition_labels(policy: str, lang: str) -> dict[str, str]:
    """Every condition a firm can be routed to under ``policy`` (the version applied to new
    applicants and to 复核, every year), by id, named in ``lang``."""
    loaded = load_policy(policy)
    found: dict[str, str] = {}
    versions = [loaded]
    year = application_year(loaded)
    for entry in loaded.routing:
        applied, _ = loaded.route(entry.rung, entry.applicant, year)
        versions.append(applied)
        if entry.policy != loaded.id:
            versions.append(load_policy(entry.policy))
    for version in versions:
        for cid, condition in version.conditions.items():
            found.setdefault(cid, condition.label(lang))
    return found


def _group_names(by: str, lang: str) -> dict[str, str]:
    if by not in ("province", "sector"):
        return {}
    from dmi.instruments import load_instrument
    from dmi.service.dashboard import labels

    return labels(
        load_instrument(SURVEY_INSTRUMENT), "region" if by == "province" else "sector", lang
    )


_LEADING_CODE = re.compile(r"^(?P<code>[A-Z]?\d{2,4})\s+(?P<name>\S.*)$")


def group_name(value: str, by: str, lang: str, names: dict[str, str] | None = None) -> str:
    """A province or sector as a name: a provincial-level unit by its name in ``lang``
    (:mod:`dmi.eligibility.places`: 广东, Guangdong, 44), a survey code (``C34``, or ``C34
    通用设备``) by the survey's name of it, another code followed by a name (``I65 软件``) by
    that name, any other text as it is; blank as 'not given'."""
    if value is None or value in ("", _BLANK):  # None: a cohort's own frame, not its file
        return text("agency.not_given", lang)
    if by == "province" and (province := province_of(value)) is not None:
        return province.zh if lang == "zh" else province.en
    names = _group_names(by, lang) if names is None else names
    if value in names:
        return names[value]
    found = _LEADING_CODE.match(value)
    if found:  # a code and a name: the survey's name of the code, else the name given
        return names.get(found["code"], found["name"])
    return value


# -- tables ------------------------------------------------------------------------------------


def groupings(cohort: pd.DataFrame) -> tuple[str, ...]:
    """The groupings of :data:`BY` a run's cohort table counts: ``all``, and the places the
    file gives a column of (one it does not give has no rows, and no tab)."""
    present = set(cohort["by"])
    return tuple(by for by in BY if by == "all" or by in present)


def status_table(cohort: pd.DataFrame, rung: str, by: str, lang: str) -> pd.DataFrame:
    """Firms per status of ``rung`` (columns, by name, then the total) for each group of
    ``by`` (rows, by name; ``all``: one row, of zeros for a run that evaluated no firm, under
    no heading: the rung is the table's), from the cohort table of a run."""
    part = cohort[(cohort["table"] == "status") & (cohort["rung"] == rung) & (cohort["by"] == by)]
    wide = part.pivot_table(index="group", columns="value", values="n", aggfunc="sum")
    if by == "all":
        wide = wide.reindex(["all"])
    wide = wide.reindex(columns=list(STATUSES)).fillna(0).astype("int64")
    wide[text("ladder_bulk.col_total", lang)] = wide.sum(axis=1)
    names = _group_names(by, lang)
    wide.index = [
        text("ladder_bulk.all_firms", lang) if g == "all" else group_name(g, by, lang, names)
        for g in wide.index
    ]
    # a code and its name given in one file ("C34", "C34 通用设备") are one group
    wide = wide.groupby(level=0, sort=False).sum()
    wide.index.name = (
        text(f"agency.group_{'region' if by == 'province' else by}", lang) if by != "all" else None
    )
    # headings, as the pre-check heads a rung ("Not yet" beside "Total", not "not yet")
    wide.columns = [
        c if c not in STATUSES else status_text(c, lang) for c in wide.columns.astype(str)
    ]
    if by != "all":
        wide = wide.sort_values(wide.columns[-1], ascending=False, kind="stable")
    return wide


def one_away_counts(cohort: pd.DataFrame) -> dict[str, int]:
    """Firms one condition away, per rung (every firm counted once)."""
    part = cohort[(cohort["table"] == "one_away") & (cohort["by"] == "all")]
    return {r: int(part.loc[part["rung"] == r, "n"].sum()) for r in RUNGS}


def missing_table(cohort: pd.DataFrame, rung: str, policy: str, lang: str) -> pd.DataFrame:
    """Among the firms one condition away from ``rung``: each condition missing, by name (its
    id beside it), with how many firms miss it, most often first."""
    part = cohort[
        (cohort["table"] == "missing") & (cohort["rung"] == rung) & (cohort["by"] == "all")
    ]
    part = part.sort_values("n", ascending=False, kind="stable")
    labels = condition_labels(policy, lang)
    return pd.DataFrame(
        {
            text("ladder_bulk.col_condition", lang): [labels.get(c, c) for c in part["value"]],
            text("ladder_bulk.col_condition_id", lang): part["value"].to_numpy(),
            text("ladder_bulk.col_firms", lang): part["n"].to_numpy(dtype="int64"),
        }
    )


def one_away_by(cohort: pd.DataFrame, rung: str, by: str, policy: str, lang: str) -> pd.DataFrame:
    """Firms one condition away from ``rung`` in each group of ``by`` (rows, by name, most
    first), with the condition most often missing there (by name, its id beside it; conditions
    missing as often, each of them, in their ids' order) and how many of them miss it; from the
    cohort table of a run."""
    names = _group_names(by, lang)

    def part(table: str) -> pd.DataFrame:
        c = cohort
        rows = c[(c["table"] == table) & (c["rung"] == rung) & (c["by"] == by)]
        # by the name shown: spellings of one group are one row, as in the status table
        return rows.assign(shown=[group_name(g, by, lang, names) for g in rows["group"]])

    firms = part("one_away").groupby("shown", sort=False)["n"].sum()
    missing = part("missing").groupby(["shown", "value"], sort=False)["n"].sum().reset_index()
    # every condition missing as often as the most: one of two tied was shown as if the only one
    most = missing.groupby("shown")["n"].transform("max")
    tied = missing[missing["n"] == most].sort_values(["shown", "value"], kind="stable")
    labels = condition_labels(policy, lang)
    sep = text("ladder.item_sep", lang)
    top = tied.groupby("shown", sort=False).agg(
        ids=("value", lambda ids: ", ".join(ids)),
        named=("value", lambda ids: sep.join(labels.get(c, c) for c in ids)),
        n=("n", "first"),
    )
    top = top.reindex(firms.index)
    table = pd.DataFrame(
        {
            text(f"agency.group_{'region' if by == 'province' else by}", lang): firms.index,
            text("ladder_bulk.col_firms", lang): firms.to_numpy(dtype="int64"),
            text("ladder_bulk.col_top_missing", lang): top["named"].to_numpy(),
            text("ladder_bulk.col_condition_id", lang): top["ids"].to_numpy(),
            text("ladder_bulk.col_top_missing_firms", lang): top["n"].to_numpy(dtype="int64"),
        }
    )
    return table.sort_values(table.columns[1], ascending=False, kind="stable").reset_index(
        drop=True
    )


def named_candidates(
    candidates: pd.DataFrame, policy: str, lang: str, names: dict[str, str] | None = None
) -> pd.DataFrame:
    """The candidates' list for people: rungs, statuses, places and conditions by name; each
    company's name beside its id when the file gave them (``names``: id -> name)."""
    rungs = rung_labels(policy, lang)
    conditions = condition_labels(policy, lang)
    out = {
        text("agency.col_respondent_id", lang): candidates["respondent_id"].to_numpy(),
    }
    if names:  # by the id as the file has it (the list's CSV escapes one like =A1)
        out[text("agency.col_company_name", lang)] = [
            names.get(unescaped(i), "") for i in candidates["respondent_id"]
        ]
    for by in ("province", "city", "sector"):
        groups = _group_names(by, lang)
        out[text(f"agency.col_{by}", lang)] = [
            group_name(v, by, lang, groups) for v in candidates[by]
        ]
    out[text("ladder_bulk.col_rung", lang)] = [rungs.get(r, r) for r in candidates["rung"]]
    out[text("ladder_bulk.rules_applied", lang)] = candidates["policy"].to_numpy()
    if candidates["path"].notna().any():  # the way a row is judged on (2026 tier 1)
        ways = path_labels(policy, lang)
        out[text("ladder_bulk.col_path", lang)] = [
            ways.get(p, p) if isinstance(p, str) else "" for p in candidates["path"]
        ]
    out[text("ladder_bulk.col_status", lang)] = [
        status_text(s, lang) if s in STATUSES else s for s in candidates["status"]
    ]
    out[text("ladder_bulk.col_points", lang)] = candidates["points"].to_numpy()
    out[text("ladder_bulk.col_condition", lang)] = [
        conditions.get(c, c) if c else "" for c in candidates["missing"]
    ]
    return pd.DataFrame(out)


_FACT_REASONS = [
    (re.compile(r"(?P<value>.+) is below the minimum (?P<limit>\S+) ?(?P<unit>.*)"), "below"),
    (
        re.compile(
            r"(?P<value>.+) is above the maximum (?P<limit>\S+) ?(?P<unit>.*?) "
            + re.escape(A_YEAR_NOT_YEARS)
        ),
        "above_year",
    ),
    (re.compile(r"(?P<value>.+) is above the maximum (?P<limit>\S+) ?(?P<unit>.*)"), "above"),
    (re.compile(re.escape(NUMBERED_OPTION)), "numbered_option"),
    (
        re.compile(
            r"expected (?P<kind>a number|a whole number) alone, without the unit after it "
            r"\((?P<written>[^)]*)\)(?:; the column is in (?P<own>[^:]+?)"
            r"(?P<header>: a column in \S+ names it in its header)?)?"
        ),
        "unit_after",
    ),
    (re.compile(r"expected a number \((?P<unit>.*)\)"), "number"),
    (re.compile(r"expected a number"), "number_plain"),
    (re.compile(r"expected a whole number \((?P<unit>.*)\)"), "whole"),
    (
        re.compile(
            r"expected a whole number from (?P<low>\S+) to (?P<high>\S+), or one of: (?P<words>.+)"
        ),
        "whole_or_words",
    ),
    (re.compile(r"expected a whole number"), "whole_plain"),
    (re.compile(r"expected a finite number"), "number_plain"),
    (re.compile(r"too large to be read in (?P<unit>\S+): expected a finite number"), "too_large"),
    (re.compile(r"expected yes or no"), "yes_no"),
    (
        re.compile(
            r"(?P<value>.+) is unclear for a fact said in the negative \(.*\): expected yes "
            r"\(是\) or no \(否\)"
        ),
        "negative",
    ),
    (re.compile(r"expected one of: (?P<values>.+)"), "one_of"),
    # a run's count of a cross check: the facts, without the amounts of a row
    (
        re.compile(r"(?P<fact>[a-z][a-z0-9_]*) is above (?P<other>[a-z][a-z0-9_]*)(?::.*)?"),
        "above_fact",
    ),
    (
        re.compile(
            r"(?P<fact>\w+) \((?P<value>[^)]*)\) is above (?P<other>\w+) \((?P<other_value>[^)]*)\)"
            r"(?::.*)?"
        ),
        "at_most",
    ),
]


def _fact_label(code: str, lang: str) -> str:
    """A reject's column by name: a fact's label, a survey question's text (its answers beside
    the facts give the digital level), else as it is (a header as written)."""
    if code in FACTS:
        return FACTS[code].label(lang)
    return _survey_labels(lang).get(code, code)


@functools.cache
def _survey_labels(lang: str) -> dict[str, str]:
    from dmi.instruments import load_instrument

    return column_labels(load_instrument(SURVEY_INSTRUMENT), lang)


def without_header(reason: str, column: str, headers: Mapping[str, str] | None) -> str:
    """A fact's reason without the file's header it starts with
    (:func:`dmi.eligibility.facts.headed_reasons`): ``headers`` (fact -> the header as the run
    read it, :func:`file_columns`) says which, compared folded and on one line (the header may
    hold ": " itself, or full-width forms the reason keeps as written)."""
    header = (headers or {}).get(column)
    if header is None:
        return reason
    wanted = _one_line(header)
    at = reason.find(": ")
    while at >= 0:
        if _one_line(reason[:at]) == wanted:
            return reason[at + 2 :]
        at = reason.find(": ", at + 2)
    return reason


def _one_line(text: str) -> str:
    return " ".join(folded(text).split())


def fact_reason(reason: str, lang: str, column: str | None = None) -> str:
    """A reject's reason in ``lang``: the facts' range and cross checks worded here, the
    readers' and row checks' as the survey bulk page words them; any other as it is.
    ``column``, the fact refused, names a category's values in ``lang``. A fact's reason that
    starts with the file's header is worded by :func:`without_header` first (the page names
    the column beside it)."""
    for pattern, key in _FACT_REASONS:
        found = pattern.fullmatch(reason)
        if found:
            fields = dict(found.groupdict())
            if key == "one_of" and column in FACTS and FACTS[column].values:
                sep = text("ladder.list_sep", lang)  # 、 in Chinese
                fields["values"] = sep.join(v.label(lang) for v in FACTS[column].values)
            if key == "negative":
                fields["fact"] = _fact_label(column or "", lang)
            if key == "unit_after":  # the number's kind, and the column's own unit if said
                own, header = fields.pop("own"), fields.pop("header")
                whole = "whole" if "whole" in fields["kind"] else "number"
                fields["kind"] = text(f"ladder_bulk.kind_{whole}", lang)
                key += "_header" if header else "_other" if own else ""
                fields.update({"own": own} if own else {})
            if key in ("below", "above", "above_year") and fields["value"] in FACTS:
                # a run's count of a range check names the fact where a row's has its value
                fields["value"] = _fact_label(fields["value"], lang)
            for name in ("fact", "other"):
                if name in fields:
                    fields[name] = _fact_label(fields[name], lang)
            if "other" in fields:  # within the sentence: "… is above revenue, the year before"
                fields["other"] = mid_sentence(fields["other"])
            if fields.get("unit"):
                fields["unit"] = fields["unit"].strip()
                if key not in ("number", "whole") and fields["unit"] != "%":
                    fields["unit"] = " " + fields["unit"]
            return text(f"ladder_bulk.reason_{key}", lang, **fields)
    return reason_text(reason, lang)


def reasons_table(
    rejects: pd.DataFrame, lang: str, headers: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The rejected rows by column and reason, as a run's summary counts them (each row once,
    under its first problem, reasons that differ only by the cell's value together:
    :func:`dmi.bulk.run.reason_key`), the column named as the rejects name it
    (:func:`named_rejects`: "expected a whole number" of the staff and of the R&D staff are two
    lines), each reason worded in ``lang`` knowing its fact (a category's values, a cross
    check's facts by name), most first; from a run's rejects table. A reason that starts with
    its fact's header in ``headers`` (:func:`file_columns`) is worded without it
    (:func:`without_header`)."""
    from dmi.bulk.run import reason_key

    first = rejects[~rejects["row"].duplicated()]
    counted: dict[tuple[str, str], int] = {}
    for column, reason in zip(first["column"].astype(str), first["reason"]):
        bare = without_header(unescaped(reason), column, headers)
        key = (
            _column_named(column, lang, headers),
            fact_reason(reason_key(bare, column), lang, column),
        )
        counted[key] = counted.get(key, 0) + 1
    table = pd.DataFrame(
        {
            text("agency.col_column", lang): [c for c, _ in counted],
            text("agency.col_reason", lang): [r for _, r in counted],
            text("agency.col_rows", lang): list(counted.values()),
        }
    )
    return table.sort_values(table.columns[2], ascending=False, kind="stable").reset_index(
        drop=True
    )


def file_columns(found: LadderRun) -> dict[str, str]:
    """Each fact or question a run read -> the file's header it was read from."""
    matched = (getattr(found.summary, "mapping", {}) or {}).get("matched", {})
    return {code: header for header, code in matched.items()}


def _column_named(code: str, lang: str, headers: dict[str, str] | None) -> str:
    """A reject's column: the fact's name, after the file's own header where that differs."""
    named = _fact_label(code, lang)
    header = (headers or {}).get(code)
    if header is None or header in (code, named):
        return named
    return f"{header}（{named}）" if lang == "zh" else f"{header} ({named})"


def named_rejects(
    rejects: pd.DataFrame, lang: str, headers: dict[str, str] | None = None
) -> pd.DataFrame:
    """A rejects table (``row, respondent_id, column, value, reason``) for people: headed in
    ``lang``, each fact by its name, each reason in ``lang`` (each distinct one worded once).
    ``headers`` (fact -> the file's header read as it, :func:`file_columns`): a fact read from
    a header of another wording is named by that header first, as the file has it."""
    # the file's cells as the firm wrote them: the ' the CSV put before formula-like text is
    # the file's, not the page's
    columns = rejects["column"].astype(object)
    pairs = list(zip(columns, rejects["reason"]))
    reasons = {
        (c, r): fact_reason(without_header(unescaped(r), str(c), headers), lang, str(c))
        for c, r in dict.fromkeys(pairs)
    }
    return pd.DataFrame(
        {
            text("agency.col_row", lang): rejects["row"].to_numpy(),
            text("agency.col_respondent_id", lang): rejects["respondent_id"].to_numpy(),
            text("agency.col_column", lang): [_column_named(c, lang, headers) for c in columns],
            text("agency.col_value", lang): [unescaped(v) for v in rejects["value"]],
            text("agency.col_reason", lang): [reasons[p] for p in pairs],
        }
    )

"""An agency's view of many firms on the ladder: counts by place and sector, "one condition
away", and the candidates.

:func:`cohort` takes the results of :func:`~dmi.eligibility.evaluate` (a frame) or of
:func:`~dmi.eligibility.evaluate_batch` and gives a :class:`Cohort`:

- ``status``: firms per rung × status, for everyone (``by = all``) and by ``province``, ``city``
  and ``sector`` (when given);
- ``one_away``: per rung, the firms whose only condition not met or unknown is one (a manual
  condition is not counted: it is a reviewer's, not a change the firm makes), among those that
  apply for the rung (not holding it, ``holds_<rung> = yes``, nor a rung above it, held or up
  for 复核: :func:`dmi.eligibility.engine.applies_for`; a 复核 of the rung itself is counted);
- ``missing``: among those, how often each condition is the one missing (most often first);
- ``candidates``: one row per firm and rung it is eligible for, has only manual review left
  for, or is one condition away from, among those that apply for the rung (as above).

A cohort is made chunk by chunk and added up (``a + b``, :meth:`Cohort.combine`): the counts
of a file read in chunks are those of the whole file, whatever the chunk size, and the
``status`` counts of ``by = all`` add up to the firms evaluated.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmi.eligibility._data import check_lang
from dmi.eligibility.engine import (
    BAR_WEIGHT,
    STATES,
    STATUSES,
    applies_for,
    fails_as_bar,
    version_of,
)
from dmi.eligibility.facts import ID, facts_table, parse_cell
from dmi.eligibility.ladder import BESIDE_TEXT, EligibilityBatch, _settle
from dmi.eligibility.places import city_names, names_as_known, province_names
from dmi.eligibility.policy import (
    RUNGS,
    Policy,
    available_policies,
    load_policy,
    policy_in_force,
)
from dmi.eligibility.survey import SURVEY_INSTRUMENT
from dmi.errors import ApplicationYearError, DataError, ParameterError
from dmi.text import match_key

__all__ = [
    "CANDIDATE_COLUMNS",
    "COHORT_COLUMNS",
    "Cohort",
    "RungConditions",
    "candidates_schema",
    "cohort",
    "cohort_schema",
    "rung_conditions",
    "sector_names",
]

COHORT_COLUMNS = ["table", "rung", "by", "group", "value", "n"]
"""The columns of :meth:`Cohort.table`."""

CANDIDATE_COLUMNS = [
    "respondent_id",
    *BESIDE_TEXT,
    "rung",
    "policy",
    "path",
    "status",
    "points",
    "one_away",
    "missing",
]
"""The columns of :attr:`Cohort.candidates`."""


def candidates_schema() -> Any:
    """The Arrow schema of the candidates' file (Parquet): the same whatever the rows."""
    import pyarrow as pa

    kinds = {"points": pa.float64(), "one_away": pa.bool_()}
    return pa.schema([(c, kinds.get(c, pa.string())) for c in CANDIDATE_COLUMNS])


def cohort_schema() -> Any:
    """The Arrow schema of the cohort's file (Parquet): the same whatever the rows."""
    import pyarrow as pa

    return pa.schema([(c, pa.int64() if c == "n" else pa.string()) for c in COHORT_COLUMNS])


_TABLES = ("status", "one_away", "missing")
_BY = ("all", *BESIDE_TEXT)
BLANK = "(blank)"
"""The group of firms whose province, city or sector is blank."""


@dataclass(frozen=True)
class RungConditions:
    """The conditions of one rung under one policy version: common ones and alternative paths
    (the 2026 tier 1: 创新型 or 科技型); a firm meets the common ones and the best path."""

    common: tuple[str, ...]
    paths: tuple[tuple[str, ...], ...] = ()
    path_ids: tuple[str, ...] = ()  # the paths' ids, as ``<rung>_path`` names them
    # the conditions that, not met, are a bar no change meets (an SME's size, a past incident:
    # dmi.eligibility.engine.fails_as_bar): a firm failing one is not one condition away
    bars: frozenset[str] = frozenset()


def rung_conditions(
    policy: str | int | Path | Policy | None = None, *, year: int | None = None
) -> dict:
    """``{(rung, policy id): RungConditions}`` for the versions a policy routes firms to."""
    the_plan = _settle(policy, year, "zh")
    out: dict[tuple[str, str], RungConditions] = {}
    for (rung, _), applied in the_plan.routes.items():
        spec = applied.rungs[rung]
        listed = [*spec.conditions, *(c for p in spec.paths for c in p.conditions)]
        out.setdefault(
            (rung, version_of(applied, rung)),  # as the results' <rung>_policy names it
            RungConditions(
                tuple(spec.conditions),
                tuple(tuple(p.conditions) for p in spec.paths),
                tuple(p.id for p in spec.paths),
                frozenset(c for c in listed if fails_as_bar(applied.conditions[c].test)),
            ),
        )
    return out


@dataclass
class Cohort:
    """Counts of a population on the ladder, and its candidates (see the module).

    Attributes
    ----------
    counts : Counter
        ``(table, rung, by, group, value) -> n``; :meth:`table` lays them out.
    candidates : DataFrame
        The columns :data:`CANDIDATE_COLUMNS`, in file order within each rung.
    n : int
        Firms counted.
    """

    counts: Counter = field(default_factory=Counter)
    candidates: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=CANDIDATE_COLUMNS)
    )
    n: int = 0

    def __add__(self, other: Cohort) -> Cohort:
        return Cohort.combine([self, other])

    @classmethod
    def combine(cls, parts: Iterable[Cohort]) -> Cohort:
        """The cohort of the parts together (chunks of one file, in file order)."""
        parts = list(parts)
        counts: Counter = Counter()
        for part in parts:
            counts.update(part.counts)
        found = [p.candidates for p in parts if len(p.candidates)]
        candidates = (
            pd.concat(found, ignore_index=True)
            if found
            else pd.DataFrame(columns=CANDIDATE_COLUMNS)
        )
        # rung by rung, each in file order: the same whatever the chunks were
        order = np.argsort(
            candidates["rung"].map(RUNGS.index).to_numpy(dtype=np.int64), kind="stable"
        )
        candidates = candidates.iloc[order].reset_index(drop=True)
        return cls(counts, candidates, sum(p.n for p in parts))

    def table(self) -> pd.DataFrame:
        """The counts as a table: ``table, rung, by, group, value, n``.

        ``table`` is ``status`` (``value`` a status), ``one_away`` (``value`` ``one_away``) or
        ``missing`` (``value`` the condition id); ``by`` is ``all`` (``group`` ``all``),
        ``province``, ``city`` or ``sector``. Ordered by table, rung, by and group; statuses in
        their order, missing conditions most often first.
        """

        def key(item: tuple[tuple[str, str, str, str, str], int]) -> tuple[Any, ...]:
            (table, rung, by, group, value), n = item
            rank = (
                (STATUSES.index(value), "")
                if table == "status"
                else ((-n, value) if table == "missing" else (0, ""))
            )
            return (_TABLES.index(table), RUNGS.index(rung), _BY.index(by), group, *rank)

        rows = [(*k, n) for k, n in sorted(self.counts.items(), key=key)]
        frame = pd.DataFrame(rows, columns=COHORT_COLUMNS)
        frame["n"] = frame["n"].astype(np.int64)
        return frame

    def status_counts(self, rung: str, by: str = "all") -> pd.DataFrame:
        """Firms per status of ``rung`` (columns) by group of ``by`` (rows), with ``total``.

        Parameters
        ----------
        rung : {"innovative", "specialised", "little_giant"}
        by : {"all", "province", "city", "sector"}, default="all"
            A grouping absent from the firms counted (no ``city`` column) has no rows.
        """
        for name, value, allowed in (("rung", rung, RUNGS), ("by", by, _BY)):
            if value not in allowed:
                raise ParameterError(
                    f"{name} must be one of {', '.join(allowed)}, got {value!r}", parameter=name
                )
        t = self.table()
        part = t[(t["table"] == "status") & (t["rung"] == rung) & (t["by"] == by)]
        wide = part.pivot_table(index="group", columns="value", values="n", aggfunc="sum")
        wide = wide.reindex(columns=list(STATUSES)).fillna(0).astype(np.int64)
        wide["total"] = wide.sum(axis=1)
        return wide


def cohort(
    results: pd.DataFrame | EligibilityBatch,
    beside: pd.DataFrame | None = None,
    *,
    policy: str | int | Path | Policy | None = None,
    year: int | None = None,
    conditions: dict | None = None,
    lang: str = "zh",
) -> Cohort:
    """Count a population on the ladder (see the module).

    Parameters
    ----------
    results : DataFrame or EligibilityBatch
        What :func:`~dmi.eligibility.evaluate` gave for a frame (the columns of
        :func:`~dmi.eligibility.output_columns`), or an :class:`EligibilityBatch` (its
        ``beside`` is then used, and, unless ``policy`` or ``conditions`` is given, the rules
        and year it was evaluated under).
    beside : DataFrame, optional
        Aligned with ``results`` (by label where it holds the results' index labels in
        another order, else row for row): ``province``, ``city``, ``sector`` (any of them) and
        ``holds_<rung>``; those absent are left out (without ``beside``, taken from
        ``results`` where it has them, e.g. the facts frame joined to it).
    policy : {"2026", "2022"}, int, path, Policy or None, default=None
        The policy the results were evaluated under (which conditions each rung has), as for
        :func:`~dmi.eligibility.evaluate`. None: the shipped policy whose rule versions the
        results name in their ``<rung>_policy`` columns (the one in force today first, for
        results without a row). Given, its rule versions must be those the results name.
    year : int, optional
        The application year the results were evaluated for (its routing: which version
        each rung applies); default the policy's first.
    conditions : dict, optional
        Each rung's conditions per rule version, worked out once beforehand
        (``dmi.eligibility.cohorts.rung_conditions(policy, year=year)``: a bulk run passes them
        for every chunk); ``policy`` and ``year`` are then not read.
    lang : {"zh", "en"}, default="zh"
        The language a known province or sector is named in (广东省, Guangdong): the groups'
        and the candidates' names; a city and an unknown name are as written.

    Returns
    -------
    Cohort

    Raises
    ------
    ParameterError
        When ``policy`` (or ``conditions``) applies other rule versions than the results name
        (results evaluated under other rules: the message names both), when the results hold a
        column of condition states the policy has no column of (a condition of a rule file of
        one's own, which may keep a shipped version's name), when ``policy`` is None and no
        shipped policy applies the versions they name, or when ``beside`` has another number
        of rows.
    DataError
        When ``results`` lacks a column of :func:`~dmi.eligibility.output_columns` the count
        reads (a status, a rule version, a condition of a version it names), or a status or
        state is not one of its values.
    """
    check_lang(lang)
    if isinstance(results, EligibilityBatch):
        # counted by the rules it was evaluated under (a custom file's conditions and bars)
        beside = results.beside if beside is None else beside
        if policy is None and conditions is None:
            policy, year = results.policy, results.year if year is None else year
        results = results.results
    if not isinstance(results, pd.DataFrame):
        raise ParameterError(
            "results must be what evaluate() gives for a frame (a DataFrame) or an "
            f"EligibilityBatch, got {type(results).__name__}",
            parameter="results",
        )
    if beside is None:
        beside = results
    if len(beside) != len(results):
        raise ParameterError(
            f"beside has {len(beside)} rows, the results {len(results)}", parameter="beside"
        )
    if _same_labels_reordered(beside.index, results.index):
        # the firms' own labels in another order (a sorted or shuffled copy): matched by label,
        # as pandas matches them; other labels are matched row for row
        beside = beside.reindex(results.index)
    _require(results, [ID, *(f"{r}_{c}" for r in RUNGS for c in ("status", "points", "policy"))])
    named = _versions(results)
    if conditions is None:
        conditions = _conditions_named(results, named, policy, year)
    else:
        _check_versions(named, conditions, "the conditions given", None, "conditions")
    _require(
        results,
        [
            c
            for (rung, version), spec in conditions.items()
            if version in named[rung]
            for c in (*spec.common, *sum(spec.paths, ()))
        ],
        f" (the conditions of the rule versions they name: {_listed(named)})",
    )
    n = len(results)
    counts: Counter = Counter()
    groups: dict[str, tuple[np.ndarray, np.ndarray] | None] = {"all": None}
    for by in BESIDE_TEXT:
        if by in beside.columns:
            # a province's firms together, however each row spells it (广东, Guangdong)
            column = (
                province_names(beside[by], lang)
                if by == "province"
                else sector_names(beside[by], lang)
                if by == "sector"
                else city_names(beside[by], lang)  # 广州 and 广州市 together
            )
            groups[by] = _group_codes(column)
    status_names = np.asarray(STATUSES, dtype=object)
    picked = (STATUSES.index("eligible"), STATUSES.index("manual"))
    # each title column read once (no / yes / recheck per row, None where blank or refused)
    titles = {
        r: _titles(beside[f"holds_{r}"], f"holds_{r}") for r in RUNGS if f"holds_{r}" in beside
    }
    candidates: list[dict[str, Any]] = []
    for rung in RUNGS:
        status = _codes(results[f"{rung}_status"], STATUSES)
        policy_codes, policy_names = _group_codes(results[f"{rung}_policy"])
        cids: list[str] = []  # the rung's conditions under every version: ``missing`` codes
        for (r, _), spec in conditions.items():
            if r == rung:
                cids += [c for c in (*spec.common, *sum(spec.paths, ())) if c not in cids]
        missing = np.full(n, -1, dtype=np.intp)
        # the path a row is judged on: the one its results name, or the one it is one condition
        # away on (the 2026 tier 1's other path, at times: said, as its points are the first's)
        path_column = f"{rung}_path"
        judged = (  # the results' path (NaN where none)
            results[path_column].to_numpy(dtype=object) if path_column in results.columns else None
        )
        path = np.full(n, None, dtype=object)
        if judged is not None:
            named = pd.notna(judged)
            path[named] = judged[named]
        for (r, pid), spec in conditions.items():
            if r != rung or pid not in policy_names:
                continue
            rows = np.flatnonzero(policy_codes == list(policy_names).index(pid))
            if len(rows):
                _one_away(results, spec, rows, missing, cids, path)
        # a firm that holds the title is not "away" from it (a 复核 is), nor from a rung below
        # a title it holds (a 专精特新 firm from 创新型): neither counted nor listed, so that
        # the counts and the candidates' list agree
        applying = applies_for(
            rung, lambda r, v: titles[r] == v if r in titles else np.zeros(n, dtype=bool)
        )
        one_away = (missing >= 0) & applying
        missing = np.where(one_away, missing, -1)
        cid_names = np.array([*cids, ""], dtype=object)
        sel = np.flatnonzero(one_away)
        for by, codes in groups.items():
            _count(counts, "status", rung, by, codes, status, status_names)
            if len(sel):
                sub = None if codes is None else (codes[0][sel], codes[1])
                _count(counts, "one_away", rung, by, sub, np.zeros(len(sel), np.intp), _ONE)
                _count(counts, "missing", rung, by, sub, missing[sel], cid_names)
        pick = (one_away | (status == picked[0]) | (status == picked[1])) & applying
        at = np.flatnonzero(pick)
        if len(at):
            part: dict[str, Any] = {ID: results[ID].iloc[at]}
            for by in BESIDE_TEXT:
                codes = groups.get(by)
                part[by] = (
                    np.where(codes[0][at] == len(codes[1]) - 1, None, codes[1][codes[0][at]])
                    if codes is not None
                    else np.full(len(at), None, dtype=object)
                )
            part["rung"] = np.full(len(at), rung, dtype=object)
            part["policy"] = policy_names[policy_codes[at]]
            part["path"] = path[at]
            part["status"] = status_names[status[at]]
            points = _points_column(results, f"{rung}_points")[at]
            if judged is not None:
                # the points are those of the results' path: none for a row judged on another
                other = pd.notna(path[at]) & (judged[at] != path[at])
                points = np.where(other, np.nan, points)
            part["points"] = points
            part["one_away"] = one_away[at]
            part["missing"] = cid_names[missing[at]]
            candidates.append(part)
    found = (
        pd.concat(
            [pd.DataFrame({k: _column(k, v) for k, v in c.items()}) for c in candidates],
            ignore_index=True,
        )[CANDIDATE_COLUMNS]
        if candidates
        else pd.DataFrame(columns=CANDIDATE_COLUMNS)
    )
    return Cohort(counts, found, n)


def _versions(results: pd.DataFrame) -> dict[str, set[str]]:
    """Per rung, the rule versions the results name (``<rung>_policy``, as
    :func:`cohort` names them: its cells as text; blank cells left out)."""
    return {rung: {str(v) for v in pd.unique(results[f"{rung}_policy"].dropna())} for rung in RUNGS}


def _listed(versions: dict[str, set[str]]) -> str:
    """Rule versions per rung, in words: ``innovative 2022, specialised 2026, little_giant
    2022 or 2026``."""
    return ", ".join(
        f"{rung} {' or '.join(sorted(found)) if found else '(none)'}"
        for rung, found in versions.items()
    )


def _planned(conditions: dict) -> dict[str, set[str]]:
    """Per rung, the rule versions a policy applies (the keys of :func:`rung_conditions`):
    what its results name in ``<rung>_policy``."""
    found: dict[str, set[str]] = {rung: set() for rung in RUNGS}
    for rung, version in conditions:
        found[rung].add(version)
    return found


def _disagree(named: dict[str, set[str]], conditions: dict) -> bool:
    """Whether the results name a rule version the policy of ``conditions`` does not apply."""
    planned = _planned(conditions)
    return any(not named[rung] <= planned[rung] for rung in RUNGS)


def _check_versions(
    named: dict[str, set[str]],
    conditions: dict,
    given: str,
    year: int | None,
    parameter: str = "policy",
) -> None:
    """Refuse ``conditions`` (``given``: what they are of, in words) if the results name rule
    versions they do not apply: results evaluated under other rules, whose rows would be
    counted under conditions they were not evaluated on, or not at all."""
    if not _disagree(named, conditions):
        return
    found = _shipped_naming(named, year)
    hint = (
        f"they are policy {found[0]}'s results: pass policy={found[0]!r}, or policy=None for "
        "the policy they name"
        if found is not None
        else "pass the policy (and year) they were evaluated under"
    )
    raise ParameterError(
        "the results were evaluated under other rules than "
        f"{given}{'' if year is None else f' in {year}'}: their <rung>_policy columns name "
        f"{_listed(named)}, where {given} applies {_listed(_planned(conditions))}; {hint}",
        parameter=parameter,
    )


def _shipped_naming(named: dict[str, set[str]], year: int | None) -> tuple[str, dict] | None:
    """The shipped policy whose rule versions (applied in ``year``) the results name, the one
    in force today first, and its conditions; None if none does."""
    for shipped in dict.fromkeys([policy_in_force(), *reversed(available_policies())]):
        try:
            conditions = rung_conditions(shipped, year=year)
        except ApplicationYearError:  # a year the policy does not apply in: not its results
            continue
        if not _disagree(named, conditions):
            return shipped, conditions
    return None


def _conditions_named(
    results: pd.DataFrame,
    named: dict[str, set[str]],
    policy: str | int | Path | Policy | None,
    year: int | None,
) -> dict:
    """The conditions of ``policy``, checked against the rule versions the results name
    (:func:`_check_versions`); for None, of the shipped policy they name."""
    if policy is not None:
        loaded = load_policy(policy)
        conditions = rung_conditions(loaded, year=year)
        _check_versions(named, conditions, f"policy {loaded.id}", year)
        _check_states_known(results, loaded, year)
        return conditions
    found = _shipped_naming(named, year)
    if found is None:
        shipped = ", ".join(available_policies())
        raise ParameterError(
            f"the results' <rung>_policy columns name {_listed(named)}: no shipped policy "
            f"({shipped}){'' if year is None else f' in {year}'} applies those rule versions; "
            "pass the policy (a rule file, and its year) they were evaluated under",
            parameter="policy",
        )
    _check_states_known(results, found[0], year)
    return found[1]


def _same_labels_reordered(index: pd.Index, other: pd.Index) -> bool:
    """Whether ``index`` holds exactly ``other``'s labels (each once) in another order."""
    if index.equals(other) or not (index.is_unique and other.is_unique):
        return False
    return len(index) == len(other) and bool(index.isin(other).all())


def _check_states_known(
    results: pd.DataFrame, policy: str | int | Path | Policy, year: int | None
) -> None:
    """Refuse results holding a column of states (met / not_met / unknown / manual) that the
    policy gives no column of: a condition of other rules (a copy of the 2026 file with one
    more condition keeps its version's name, so the versions alone do not tell it; counted
    under the shipped rules, its firms were counted one condition away from the wrong
    conditions, without a word)."""
    from dmi.eligibility.ladder import output_columns

    known = {*output_columns(policy, year=year), *facts_table().codes}
    states = set(STATES)
    other = [
        str(c)
        for c in results.columns
        if c not in known
        and not pd.api.types.is_numeric_dtype(results[c].dtype)
        and results[c].notna().any()
        and set(pd.unique(results[c].dropna())) <= states
    ]
    if other:
        raise ParameterError(
            f"the results have condition column(s) {', '.join(other)} that the rules counted "
            f"by (policy {load_policy(policy).id}) do not have: they were evaluated under "
            "other rules; pass those (policy=the rule file, or the EligibilityBatch itself)",
            parameter="policy",
        )


def _points_column(results: pd.DataFrame, column: str) -> np.ndarray:
    """A points column as float64, a blank cell NaN: the output read back as text (``dtype=str,
    keep_default_na=False``, as the docs read a file) holds "" where a rung has no scorecard;
    a cell that is no number is a :class:`DataError` naming the column (not a bare
    ``could not convert string to float``)."""
    cells = results[column]
    if pd.api.types.is_numeric_dtype(cells.dtype):
        return cells.to_numpy(dtype=np.float64, na_value=np.nan)
    text = cells.astype(object).where(cells.notna(), "").astype(str).str.strip()
    values = pd.to_numeric(text.where(text != "", np.nan), errors="coerce")
    bad = values.isna() & (text != "")
    if bad.any():
        raise DataError(
            f"the results' column {column} holds {text[bad].iloc[0]!r}: expected a number of "
            "points or a blank"
        )
    return values.to_numpy(dtype=np.float64)


def _require(results: pd.DataFrame, columns: list[str], why: str = "") -> None:
    """Refuse results without one of ``columns`` (what :func:`cohort` reads)."""
    absent = [c for c in dict.fromkeys(columns) if c not in results.columns]
    if absent:
        raise DataError(
            f"the results have no column {', '.join(absent)}{why}: cohort() counts what "
            "evaluate() gives for a frame (the columns of output_columns(policy, year=...)) "
            "under the policy they were evaluated under"
        )


_ONE = np.array(["one_away"], dtype=object)


def _column(name: str, values: Any) -> pd.Series:
    """A candidates column in a dtype that does not depend on the chunk: text as objects."""
    if name in ("points", "one_away"):
        return pd.Series(np.asarray(values))
    return pd.Series(np.asarray(values, dtype=object), dtype=object)


def _titles(column: pd.Series, code: str) -> np.ndarray:
    """A title column (the fact ``code``) as its values (``no``, ``yes``, ``recheck``; None
    where blank or refused), its cells read as the facts read them (``是``, ``Yes``, ``1``:
    :func:`~dmi.eligibility.facts.parse_cell`), each distinct cell once."""
    fact = facts_table()[code]
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    read = [parse_cell(fact, u) for u in uniques]
    names = [None if v is None else fact.values[int(v)].value for v in read]
    table = np.array([*names, None], dtype=object)
    return table[np.where(codes < 0, len(uniques), codes)]


def _codes(column: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """A status or state column as positions in ``names`` (-1 where blank)."""
    if isinstance(column.dtype, pd.CategoricalDtype) and tuple(column.cat.categories) == names:
        return column.cat.codes.to_numpy(dtype=np.int8)
    values = column.astype(object).where(column.notna(), "").to_numpy(dtype=object)
    lookup = {name: i for i, name in enumerate(names)}
    out = np.array([lookup.get(str(v), -1) for v in values], dtype=np.int8)
    unknown = sorted({str(v) for v, c in zip(values, out) if c < 0 and v != ""})
    if unknown:
        raise DataError(f"{column.name}: not one of {', '.join(names)}: {', '.join(unknown)}")
    return out


@functools.cache
def _sectors(lang: str = "zh") -> dict[str, str]:
    """Each spelling of a sector of the MIIT survey (its code, its Chinese and English names,
    folded as :func:`dmi.eligibility.places.place_key` folds names) -> the survey's own form of
    its answer, code and name in ``lang`` (``C34 通用设备制造业``)."""
    from dmi.instruments import load_instrument

    field = next(f for f in load_instrument(SURVEY_INSTRUMENT).profile if f.code == "sector")
    found: dict[str, str] = {}
    for option in field.options:
        named = f"{option.value} {option.zh if lang == 'zh' else option.en}"
        for spelling in (
            option.value,
            option.zh,
            option.en,
            f"{option.value} {option.zh}",
            f"{option.value} {option.en}",
        ):
            found[match_key(spelling)] = named
    return found


_SECTOR_CODE = re.compile(r"^([a-tA-T])(\d{2,4})(?=\s|$)")
"""A GB/T 4754 code (sections A to T) at the start of a sector, in either case (``I65``,
``i65 软件``)."""


def sector_names(column: pd.Series, lang: str = "zh") -> pd.Series:
    """A sector column with each spelling of one of the survey's sectors as its code and
    name in ``lang`` (``C34``, ``通用设备制造业``, ``Manufacture of general-purpose machinery``
    and ``C34 通用设备`` are ``C34 通用设备制造业``; ``C34 Manufacture of general-purpose
    machinery`` in English); another sector written with a GB/T 4754 code first by that code,
    in capitals (``I65 软件``, ``i65`` and ``I65 Software`` are ``I65``: one group whatever name
    follows); any other text as written, trimmed; blanks stay blank."""
    check_lang(lang)
    sectors = _sectors(lang)

    def named(text: str) -> str | None:
        found = sectors.get(match_key(text))
        if found is None and " " in text:  # a code and a name, as survey tools export a choice
            found = sectors.get(match_key(text.split(" ", 1)[0]))
        if found is None and (code := _SECTOR_CODE.match(text)):
            # a code of no sector of the survey's: the code names the group, whatever name is
            # written after it (I65, I65 软件 and i65 Software were three groups)
            found = code[1].upper() + code[2]
        return found

    return names_as_known(column, named)


def _group_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A grouping column as codes and their names (blank as :data:`BLANK`)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    names = np.array([str(u) for u in uniques] + [BLANK], dtype=object)
    return np.where(codes < 0, len(uniques), codes).astype(np.intp), names


def _count(
    counts: Counter,
    table: str,
    rung: str,
    by: str,
    codes: tuple[np.ndarray, np.ndarray] | None,
    values: np.ndarray,
    value_names: np.ndarray,
) -> None:
    """Add the number of rows per (group, value) to ``counts``: ``values`` are positions in
    ``value_names``, ``codes`` the rows' groups (None: one group, ``all``)."""
    if not len(values):
        return
    width = len(value_names)
    if codes is None:
        found = np.bincount(values, minlength=width)
        for v in np.flatnonzero(found).tolist():
            counts[(table, rung, by, "all", str(value_names[v]))] += int(found[v])
        return
    group, names = codes
    found = np.bincount(group * width + values, minlength=len(names) * width)
    for flat in np.flatnonzero(found).tolist():
        g, v = divmod(flat, width)
        counts[(table, rung, by, str(names[g]), str(value_names[v]))] += int(found[flat])


def _one_away(
    results: pd.DataFrame,
    spec: RungConditions,
    rows: np.ndarray,
    missing: np.ndarray,
    cids: list[str],
    path_of: np.ndarray,
) -> None:
    """For the ``rows`` one condition away, set ``missing`` to the position of that condition
    in ``cids``, and ``path_of`` to the id of the path it is one condition away on, for a rung of
    paths (in place)."""
    n = len(rows)

    def states(names: tuple[str, ...]) -> np.ndarray:
        """The conditions' states (positions in STATES; -1 blank), a row a condition."""
        if not names:
            return np.zeros((0, n), dtype=np.intp)
        return np.stack([_codes(results[c], STATES)[rows] for c in names])

    def lacking(found: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        # not_met (0) or unknown (1); blank (-1), manual and met are not lacking; a bar not met
        # (no change meets it) counts as more than every other condition together
        weight = np.array([BAR_WEIGHT if c in spec.bars else 1 for c in names], dtype=np.intp)
        return ((found >= 0) & (found <= 1)) * np.where(found == 0, weight[:, None], 1)

    common = lacking(states(spec.common), spec.common)
    total = common.sum(axis=0)
    order = list(spec.common)
    chosen = common > 0
    if spec.paths:
        path_states = [states(p) for p in spec.paths]
        per_path = [lacking(found, p) for found, p in zip(path_states, spec.paths)]
        sums = np.stack([m.sum(axis=0) for m in per_path])
        # the path needing fewest; of those, the one of the best state (the one the status,
        # points and gaps are taken from: the worst of its conditions, a blank one counting as
        # met); then the first
        met = len(STATES) - 1
        state = np.stack([np.where(f < 0, met, f).min(axis=0, initial=met) for f in path_states])
        best = np.argmin(sums * len(STATES) + (met - state), axis=0)
        total = total + sums[best, np.arange(n)]
        # the conditions of every path, those of the paths not chosen masked out
        for k, (path, m) in enumerate(zip(spec.paths, per_path)):
            order += list(path)
            chosen = np.concatenate([chosen, (m > 0) & (best == k)[None, :]])
    away = total == 1
    if not away.any():
        return
    which = np.argmax(chosen[:, away], axis=0)
    position = np.array([cids.index(c) for c in order], dtype=np.intp)
    missing[rows[away]] = position[which]
    if spec.paths:
        path_of[rows[away]] = np.asarray(spec.path_ids, dtype=object)[best[away]]

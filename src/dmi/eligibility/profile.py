"""The facts the MIIT survey's profile answers give (所在省份, 所属行业, 从业人员数).

A survey tool's export of the MIIT survey (``dmi wjx``, ``dmi xlsform``) with the firms' facts
added asks each firm its province, sector and number of employees in the survey's profile.
When the export has no column of a fact's own, the profile's answer is the fact: the facts
table says which field gives which fact and how its answer is written as the fact
(:attr:`dmi.eligibility.facts.FactsTable.survey_profile`, ``survey_profile`` in
``facts.yaml``). The answer is read as ``dmi score`` reads it: the tool's layout turns the
export's cells into the field's values (:mod:`dmi.io.tools`), and the field's parser of
:func:`dmi.scoring.answers.read_profile_column` checks them, with its reasons; a row whose
answer is none of the field's is rejected as ``dmi score`` rejects it, and so is one its fact
cannot hold as given (120.5 employees: staff is a whole number), named by the field as ``dmi
score`` names it, with the fact's reason: never rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dmi.eligibility._data import check_lang
from dmi.eligibility.facts import (
    FACTS,
    ID,
    REJECT_COLUMNS,
    Fact,
    SurveyProfileFact,
    cell_problem,
    id_texts,
)

if TYPE_CHECKING:
    from dmi.instruments import Instrument, ProfileField

__all__ = ["ProfileFacts", "ProfileFeed", "profile_fact_text", "read_profile_facts"]


def profile_fact_text(
    field: ProfileField, entry: SurveyProfileFact, value: str, lang: str = "zh"
) -> str:
    """A profile answer (a choice's value, a number as given) written as its fact: a choice
    by its name (``name``: 广东省, Guangdong) or its code and name (``code_name``: C34
    通用设备制造业) in ``lang``; a ``value`` as given. A bulk run writes the Chinese names, one
    form whatever its language; the app's pre-check starts from the page's (an English page
    showed 江苏省 in its province field). A cohort counts a province's or a sector's firms
    together in either (:func:`dmi.eligibility.places.province_names`, ``sector_names``).

    Raises
    ------
    ValueError
        ``value`` is no choice of ``field`` (read the answer first: :func:`read_profile_facts`).
    """
    if entry.written_as == "value":
        return value
    option = next((o for o in field.options if o.value == value), None)
    if option is None:
        raise ValueError(f"{value!r} is no choice of the profile field {field.code!r}")
    check_lang(lang)
    name = option.zh if lang == "zh" else option.en
    return name if entry.written_as == "name" else f"{option.value} {name}"


@dataclass(frozen=True)
class ProfileFeed:
    """A profile field of the survey that gives a fact in one file (the file has no column of
    the fact's own).

    Attributes
    ----------
    instrument : Instrument
        The survey (:data:`dmi.eligibility.survey.SURVEY_INSTRUMENT`).
    entry : SurveyProfileFact
        The facts table's entry: the field, the fact, how the answer is written as it.
    """

    instrument: Instrument
    entry: SurveyProfileFact

    @property
    def field(self) -> ProfileField:
        """The survey's profile field."""
        return self.instrument.profile_field(self.entry.field)

    @property
    def fact(self) -> str:
        """The fact the field gives (``province``)."""
        return self.entry.fact


@dataclass
class ProfileFacts:
    """A chunk's facts with the profile's answers written as the facts they give.

    Attributes
    ----------
    frame : DataFrame
        The chunk, each fed fact's column holding the answer written as the fact (blank where
        the answer is blank or none of the field's).
    rejects : DataFrame
        ``row, respondent_id, column, value, reason`` of the answers that are none of their
        field's, or that their fact cannot hold (120.5 employees as staff), named by the field
        (``region``, ``employees``), as ``dmi score`` names them.
    rejected : ndarray of bool
        The rows with such an answer.
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    rejected: np.ndarray


def read_profile_facts(
    frame: pd.DataFrame, rows: np.ndarray, feeds: tuple[ProfileFeed, ...]
) -> ProfileFacts:
    """Read the survey's profile answers of a chunk as the facts they give.

    Parameters
    ----------
    frame : DataFrame
        The chunk: each fed fact's column (``province``) holds the answers of its field as the
        tool's layout gave them (a choice's value, ``44``; a number as written).
    rows : ndarray
        The source row number of each row (for the rejects).
    feeds : tuple of ProfileFeed
        The fields that give a fact in this file.
    """
    from dmi.scoring.answers import read_profile_column

    n = len(frame)
    rejected = np.zeros(n, dtype=bool)
    found: list[pd.DataFrame] = []
    written: dict[str, Any] = {}
    ids = id_texts(frame[ID]) if ID in frame.columns else rows.astype(str).astype(object)
    for feed in feeds:
        if feed.fact not in frame.columns:
            continue
        cells = frame[feed.fact]
        read = read_profile_column(feed.instrument, feed.entry.field, cells)
        good = ~read.missing
        good[read.bad] = False
        if feed.entry.written_as == "value":  # the answer as given: one its fact must hold
            given = cells.to_numpy(dtype=object)
            refused = _refused_by_fact(FACTS[feed.fact], given, good)
            if refused is not None:
                at, values, reasons = refused
                good[at] = False
                rejected[at] = True
                found.append(_rejects(rows[at], ids[at], feed.entry.field, values, reasons))
        else:
            field = feed.field
            names = {o.value: profile_fact_text(field, feed.entry, o.value) for o in field.options}
            given = read.values.map(names).to_numpy(dtype=object)
        written[feed.fact] = np.where(good, given, None)
        if len(read.bad):
            rejected[read.bad] = True
            found.append(
                _rejects(
                    rows[read.bad], ids[read.bad], feed.entry.field, read.bad_values, read.reasons
                )
            )
    if found:
        rejects = pd.concat(found, ignore_index=True)
        rejects = rejects.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
    else:
        rejects = pd.DataFrame(
            {c: pd.Series(dtype="int64" if c == "row" else "object") for c in REJECT_COLUMNS}
        )
    return ProfileFacts(frame.assign(**written) if written else frame, rejects, rejected)


def _rejects(rows: np.ndarray, ids: np.ndarray, column: str, values: Any, reasons: Any):
    """The rejects of a field's answers (``row, respondent_id, column, value, reason``)."""
    return pd.DataFrame(
        {"row": rows, "respondent_id": ids, "column": column, "value": values, "reason": reasons}
    )


def _refused_by_fact(
    fact: Fact, cells: np.ndarray, good: np.ndarray
) -> tuple[np.ndarray, list[str], list[str]] | None:
    """The answers the field reads (``good``) that its fact, given them as they are, refuses
    (120.5 employees: staff is a whole number): their positions, cells and the fact's reasons
    (:func:`dmi.eligibility.facts.cell_problem`, each distinct answer checked once); None when
    the fact holds them all."""
    positions = np.flatnonzero(good)
    if not len(positions):
        return None
    problems = {v: cell_problem(fact, v) for v in pd.unique(cells[positions])}
    at = positions[[problems[v] is not None for v in cells[positions]]]
    if not len(at):
        return None
    said = [problems[v] for v in cells[at]]
    return at, [p[0] for p in said], [p[1] for p in said]

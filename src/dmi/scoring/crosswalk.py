"""Comparable measures from one answer set: a crosswalk's target scored from source answers
(``dmi score INPUT --also eu-dma-sme``).

:func:`map_answers` derives the target's answers (vectorised: each distinct cell of a source
column is read once); :func:`also_scores` scores them with the target's own method, the items
no rule answers treated as the crosswalk's ``unmapped`` says (left out, or lowest), and names
the columns with the target's prefix. The target's band is indicative (``<prefix>
indicative_level``): it is computed from answers to another questionnaire.

``dmi score --also`` (:func:`dmi.bulk.run.score_file` with ``also=``) fits each target once
(:class:`AlsoTarget`) and scores it in the chunk kernel, on each chunk's scored rows, in the
same pass as the scored instrument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from dmi.instruments import Instrument, parse_instrument
from dmi.instruments.crosswalk import Condition, Crosswalk
from dmi.instruments.items import item_type
from dmi.scoring.answers import cell_key, factorize_cells
from dmi.scoring.model import IndexModel
from dmi.yamlfile import load_unique

__all__ = [
    "AlsoTarget",
    "also_columns",
    "also_scores",
    "map_answers",
    "scoring_target",
]


_MEMO_CELLS = 100_000
"""At most this many distinct cells of a source column are remembered (memory stays flat)."""


def map_answers(
    crosswalk: Crosswalk,
    answers: pd.DataFrame,
    memo: dict[str, dict[Any, frozenset[str] | None]] | None = None,
) -> pd.DataFrame:
    """The target's answers derived from a table of source answers (one row per row).

    Parameters
    ----------
    crosswalk : Crosswalk
    answers : DataFrame
        Source answers, columns named by the source's item codes (as :func:`dmi.read_answers`
        gives them); an absent column is blank throughout.
    memo : dict, optional
        What the distinct cells of each source column stand for, kept from one call to the
        next (the chunks of a file): a cell met before is not read again. Reading a cell is
        Python work per distinct cell (a multiple-choice answer's options), and a chunk of a
        large file has thousands of distinct ones, nearly all met in the chunks before.

    Returns
    -------
    DataFrame
        One column per mapped target item (categorical: the target value, or blank when a
        source answer it needs is blank or not valid), in the order of the rules.
    """
    n = len(answers)
    source = crosswalk.source
    read: dict[str, tuple[np.ndarray, list[frozenset[str] | None]]] = {}

    def cells(code: str) -> tuple[np.ndarray, list[frozenset[str] | None]]:
        """(each row's position in the distinct cells, what each distinct cell stands for);
        the last distinct entry is the blank one (None)."""
        if code not in read:
            item = source.item(code)
            kind = item_type(item)
            if code not in answers.columns:
                read[code] = (np.zeros(n, dtype=np.intp), [None])
            else:
                codes, uniques = factorize_cells(answers[code])
                known = {} if memo is None else memo.setdefault(code, {})
                values = []
                for cell in uniques:
                    key = cell_key(cell)
                    if key in known:
                        values.append(known[key])
                        continue
                    value = kind.answer_values(item, source, key)
                    if len(known) < _MEMO_CELLS:
                        known[key] = value  # the same for every thread that adds it
                    values.append(value)
                codes = np.where(codes < 0, len(values), codes)
                read[code] = (codes, [*values, None])
        return read[code]

    def holds(condition: Condition) -> tuple[np.ndarray, np.ndarray]:
        """(which rows meet the condition, which rows' source answer is blank or invalid)."""
        codes, values = cells(condition.source)
        wanted = frozenset(condition.any)
        met = np.array([v is not None and not wanted.isdisjoint(v) for v in values])
        blank = np.array([v is None for v in values])
        return met[codes], blank[codes]

    out: dict[str, pd.Categorical] = {}
    for rule in crosswalk.rules:
        if not rule.mapped:
            continue
        if rule.values is not None:
            assert rule.source is not None
            codes, values = cells(rule.source)
            mapped = [
                rule.values.get(next(iter(v))) if v is not None and len(v) == 1 else None
                for v in values
            ]
            out[rule.target] = _categorical(codes, mapped)
        elif rule.when is not None:
            met, blank = holds(rule.when)
            out[rule.target] = _categorical(np.where(blank, 2, met.astype(np.intp)), _NO_YES)
        else:
            assert rule.options is not None
            target_item = crosswalk.target.item(rule.target)
            names = list(rule.options)
            mask = np.zeros(n, dtype=np.int64)
            blank = np.zeros(n, dtype=bool)
            for bit, condition in enumerate(rule.options.values()):
                met, unknown = holds(condition)
                mask |= met.astype(np.int64) << bit
                blank |= unknown
            exclusive = next((o.value for o in target_item.options if o.exclusive), None)
            uniques, inverse = np.unique(mask, return_inverse=True)
            texts = [
                ";".join(names[b] for b in range(len(names)) if m >> b & 1) or exclusive
                for m in uniques.tolist()
            ]
            codes = np.where(blank, len(texts), inverse.reshape(-1))
            out[rule.target] = _categorical(codes, [*texts, None])
    return pd.DataFrame(out, index=answers.index)


_NO_YES = ["no", "yes", None]


def _categorical(codes: np.ndarray, labels: list[Any]) -> pd.Categorical:
    """The column whose row ``i`` is ``labels[codes[i]]`` (None: blank), as a categorical: the
    distinct labels are made once, not a Python object per row."""
    label_codes, categories = pd.factorize(pd.Series(labels, dtype=object), use_na_sentinel=True)
    return pd.Categorical.from_codes(
        label_codes[codes], categories=pd.Index(categories, dtype=object)
    )


def scoring_target(crosswalk: Crosswalk) -> Instrument:
    """The target instrument as the crosswalk scores it: every item's missing answer treated as
    ``unmapped`` says, and the dimensions no rule reaches given weight 0 (reported, empty, and
    left out of the index)."""
    data = load_unique(Path(crosswalk.target.source).read_text(encoding="utf-8"))
    data["defaults"] = {**data.get("defaults", {}), "missing": crosswalk.unmapped}
    mapped = {r.target for r in crosswalk.rules if r.mapped}
    for dim in data["dimensions"]:
        reached = False
        for ind in dim["indicators"]:
            for item in ind["items"]:
                item.pop("missing", None)
                reached |= item["code"] in mapped
        if not reached:
            dim["weight"] = 0
    return parse_instrument(yaml.safe_dump(data, allow_unicode=True), source=crosswalk.path)


@dataclass(frozen=True, eq=False)  # compared and hashed as itself (a model is in it)
class AlsoTarget:
    """A crosswalk made ready to score chunk after chunk: its target fitted once.

    Built once per run (:meth:`of`) and handed to the chunk kernel, in this process or on a
    Dask worker: fitting the target (:func:`scoring_target`) costs far more than scoring a
    chunk of a few rows.

    Attributes
    ----------
    crosswalk : Crosswalk
    model : IndexModel
        The fitted model of :func:`scoring_target`.
    columns : tuple of str
        The columns :meth:`scores` gives, in order (see :func:`also_columns`).
    dtypes : dict of str to str
        The pandas dtype of each column, the same in every chunk whatever its rows: ``float64``
        (index, dimensions, the levels' own scale), ``Int64`` (the band: blank where the row
        has no target score), ``boolean`` (the levels' flags) and ``int64`` (``unmapped``).
    memo : dict
        :func:`map_answers`' memo of the source cells met in the chunks scored so far.
    """

    crosswalk: Crosswalk
    model: IndexModel
    columns: tuple[str, ...]
    dtypes: dict[str, str]
    memo: dict[str, dict[Any, frozenset[str] | None]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, crosswalk: Crosswalk) -> AlsoTarget:
        """The crosswalk with its target fitted."""
        model = IndexModel(scoring_target(crosswalk)).fit()
        flags = {f.code for f in crosswalk.target.levels.flags}
        names = ["dmi", "indicative_level", *model.output_columns()[2:]]
        names += [f"dim_{d.code}" for d in crosswalk.target.dimensions] + ["unmapped"]
        dtypes = {}
        for name in names:
            if name == "indicative_level":
                dtype = "Int64"
            elif name == "unmapped":
                dtype = "int64"
            else:
                dtype = "boolean" if name in flags else "float64"
            dtypes[crosswalk.prefix + name] = dtype
        return cls(crosswalk, model, tuple(dtypes), dtypes)

    def scores(self, answers: pd.DataFrame) -> pd.DataFrame:
        """:func:`also_scores` of ``answers`` with the fitted target."""
        crosswalk = self.crosswalk
        mapped = map_answers(crosswalk, answers, self.memo)
        n = len(mapped)
        # numbered from 0 (no ids needed): the rows the target scored are positions
        scored = self.model.score_batch(mapped.reset_index(drop=True), first_row=0)
        # a row the target cannot score (a dimension without an answer) is blank here
        blank = np.ones(n, dtype=bool)
        blank[scored.rows] = False
        out: dict[str, Any] = {}
        for column in self.columns[:-1]:
            name = column.removeprefix(crosswalk.prefix)
            name = "level" if name == "indicative_level" else name
            dtype = self.dtypes[column]
            if name not in scored.scores:  # a dimension the target does not report
                out[column] = np.full(n, np.nan)
                continue
            source = scored.scores[name].to_numpy()
            values = np.zeros(n, dtype=bool if dtype == "boolean" else source.dtype)
            values[~blank] = source
            if dtype == "float64":
                out[column] = np.where(blank, np.nan, values.astype(np.float64))
            elif dtype == "Int64":
                out[column] = pd.arrays.IntegerArray(values.astype(np.int64), blank.copy())
            else:
                out[column] = pd.arrays.BooleanArray(values.astype(bool), blank.copy())
        answered = mapped.notna().sum(axis=1).to_numpy()
        out[self.columns[-1]] = len(self.model.instrument_.items) - answered.astype(np.int64)
        return pd.DataFrame(out, index=answers.index)


def also_columns(crosswalk: Crosswalk) -> list[str]:
    """The columns :func:`also_scores` adds, in order."""
    return list(AlsoTarget.of(crosswalk).columns)


def also_scores(crosswalk: Crosswalk, answers: pd.DataFrame) -> pd.DataFrame:
    """The target's scores of each row of source answers, with the target's prefix.

    Parameters
    ----------
    crosswalk : Crosswalk
    answers : DataFrame
        Source answers by item code, one row per company.

    Returns
    -------
    DataFrame
        Aligned with ``answers``: ``<prefix>dmi``, ``<prefix>indicative_level``, the target's
        own extra columns (``score``, flags), ``<prefix>dim_<code>`` and ``<prefix>unmapped``
        (how many of the target's items had no answer on the row: no rule, or a blank
        source), in the dtypes of :attr:`AlsoTarget.dtypes`. A row the target cannot score
        (no answered item in a dimension that counts) has blanks.
    """
    return AlsoTarget.of(crosswalk).scores(answers)

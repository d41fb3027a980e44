"""Comparable measures from one answer set: a crosswalk's target scored from source answers
(``dmi score INPUT --also eu-dma-sme``).

:func:`map_answers` derives the target's answers (vectorised: each distinct cell of a source
column is read once); :func:`also_scores` scores them with the target's own method, the items
no rule answers treated as the crosswalk's ``unmapped`` says (left out, or lowest), and names
the columns with the target's prefix. The target's band is indicative (``<prefix>
indicative_level``): it is computed from answers to another questionnaire.
"""

from __future__ import annotations

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

__all__ = [
    "add_also_columns",
    "also_columns",
    "also_scores",
    "map_answers",
    "scoring_target",
]


def map_answers(crosswalk: Crosswalk, answers: pd.DataFrame) -> pd.DataFrame:
    """The target's answers derived from a table of source answers (one row per row).

    Parameters
    ----------
    crosswalk : Crosswalk
    answers : DataFrame
        Source answers, columns named by the source's item codes (as :func:`dmi.read_answers`
        gives them); an absent column is blank throughout.

    Returns
    -------
    DataFrame
        One column per mapped target item (object: the target value, or None when a source
        answer it needs is blank or not valid), in the order of the rules.
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
                values = [kind.answer_values(item, source, cell_key(v)) for v in uniques]
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

    out: dict[str, np.ndarray] = {}
    for rule in crosswalk.rules:
        if not rule.mapped:
            continue
        if rule.values is not None:
            assert rule.source is not None
            codes, values = cells(rule.source)
            mapped = np.array(
                [
                    rule.values.get(next(iter(v))) if v is not None and len(v) == 1 else None
                    for v in values
                ],
                dtype=object,
            )
            out[rule.target] = mapped[codes]
        elif rule.when is not None:
            met, blank = holds(rule.when)
            out[rule.target] = np.where(blank, None, np.where(met, "yes", "no")).astype(object)
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
            texts = np.array(
                [
                    ";".join(names[b] for b in range(len(names)) if m >> b & 1) or exclusive
                    for m in uniques.tolist()
                ],
                dtype=object,
            )
            out[rule.target] = np.where(blank, None, texts[inverse.reshape(-1)]).astype(object)
    return pd.DataFrame(out, index=answers.index)


def scoring_target(crosswalk: Crosswalk) -> Instrument:
    """The target instrument as the crosswalk scores it: every item's missing answer treated as
    ``unmapped`` says, and the dimensions no rule reaches given weight 0 (reported, empty, and
    left out of the index)."""
    data = yaml.safe_load(Path(crosswalk.target.source).read_text(encoding="utf-8"))
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


def also_columns(crosswalk: Crosswalk) -> list[str]:
    """The columns :func:`also_scores` adds, in order."""
    model = IndexModel(scoring_target(crosswalk)).fit()
    columns = ["dmi", "indicative_level", *model.output_columns()[2:]]
    columns += [f"dim_{d.code}" for d in crosswalk.target.dimensions] + ["unmapped"]
    return [crosswalk.prefix + c for c in columns]


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
        source). A row the target cannot score (no answered item in a dimension that counts)
        has blanks.
    """
    target = scoring_target(crosswalk)
    mapped = map_answers(crosswalk, answers)
    frame = mapped.reset_index(drop=True)
    frame.insert(0, "respondent_id", [f"r{i}" for i in range(len(frame))])
    result = IndexModel(target).fit().score_batch(frame)
    scores = result.scores.set_index("respondent_id")
    out = pd.DataFrame(index=frame["respondent_id"])
    columns = also_columns(crosswalk)
    for column in columns[:-1]:
        name = column.removeprefix(crosswalk.prefix)
        source = "level" if name == "indicative_level" else name
        out[column] = scores[source].reindex(out.index) if source in scores else np.nan
    answered = mapped.notna().sum(axis=1).to_numpy()
    out[columns[-1]] = len(target.items) - answered
    out.index = answers.index
    return out


def add_also_columns(
    output: str | Path, answers: pd.DataFrame, crosswalks: list[Crosswalk]
) -> dict[str, dict[str, Any]]:
    """Add each crosswalk's :func:`also_scores` to a written scores table (a second pass).

    Parameters
    ----------
    output : str or Path
        The scores table ``dmi score`` wrote (CSV, XLSX or Parquet); rewritten in place, its
        rows matched to ``answers`` by ``respondent_id``.
    answers : DataFrame
        The input's answers by item code, as :func:`dmi.read_answers` gives them.
    crosswalks : list of Crosswalk
        From the scored instrument, one per ``--also`` target.

    Returns
    -------
    dict
        Per target id: ``mapped`` and ``unmapped`` (item codes with the reason), and
        ``rows_without_score`` (scored rows the target could not score: a needed source answer
        blank throughout a dimension).
    """
    from dmi.io.writers import write_table
    from dmi.scoring.answers import id_text

    path = Path(output)
    source = crosswalks[0].source if crosswalks else None
    text_columns = {"respondent_id"} | {f.code for f in source.profile} if source else set()
    scores = _read_table(path, text_columns)
    if "respondent_id" in answers.columns:
        ids = pd.Index(id_text(answers["respondent_id"]).astype(str))
    else:  # the run numbered the rows as a spreadsheet does
        ids = pd.Index([str(r) for r in range(2, len(answers) + 2)])
    keep = ~ids.duplicated(keep=False)  # a repeated id was rejected: nothing to add to
    summary: dict[str, dict[str, Any]] = {}
    for crosswalk in crosswalks:
        also = also_scores(crosswalk, answers.loc[keep])
        also.index = ids[keep]
        added = also.reindex(scores["respondent_id"].astype(str).to_numpy())
        for column in added.columns:
            values = added[column].to_numpy()
            if column.endswith("indicative_level"):
                values = pd.array(values, dtype="Int64")
            scores[column] = values
        dmi_column = crosswalk.prefix + "dmi"
        summary[crosswalk.target.id] = {
            "mapped": [r.target for r in crosswalk.rules if r.mapped],
            "unmapped": {r.target: r.none for r in crosswalk.rules if not r.mapped},
            "unmapped_items_are": crosswalk.unmapped,
            "rows_without_score": int(scores[dmi_column].isna().sum()),
        }
    write_table(scores, path)
    return summary


def _read_table(path: Path, text_columns: set[str]) -> pd.DataFrame:
    """A scores table as written: ids and profile fields as their text (``05`` stays ``05``),
    the other columns as numbers where they are numbers."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".xlsx":
        return pd.read_excel(path, dtype={c: str for c in text_columns})
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    for column in frame.columns:
        if column in text_columns:
            continue
        try:
            frame[column] = pd.to_numeric(frame[column].replace("", np.nan))
        except (ValueError, TypeError):
            pass  # text (true/false flags, labels): kept as written
    return frame

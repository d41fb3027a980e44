"""Scoring whole files: read in chunks, map headers, validate, score, write, reconcile.

The same kernel (:meth:`dmi.IndexModel.score_batch`) scores every chunk, so a file scores row for
row exactly as its rows would one by one. Duplicate respondent ids are found across chunks, not only
within one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmi.io import ColumnMapping, map_columns, open_table, write_table
from dmi.scoring.answers import ID_COLUMN, REJECT_COLUMNS
from dmi.scoring.model import IndexModel
from dmi.tiers import TierModel

__all__ = ["RunSummary", "score_file"]


@dataclass
class RunSummary:
    """What happened to every row of an input file. ``read == scored + rejected`` always."""

    input: str
    output: str
    instrument: str
    method: dict[str, Any]
    read: int = 0
    scored: int = 0
    rejected: int = 0
    problems: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    tiers: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    unmatched_columns: list[str] = field(default_factory=list)
    missing_items: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.read == self.scored + self.rejected

    def to_json(self) -> str:
        return json.dumps(
            asdict(self) | {"reconciles": self.reconciles}, ensure_ascii=False, indent=1
        )

    def line(self) -> str:
        """The one-line reconciliation printed at the end of a run."""
        text = (
            f"read {self.read} rows: {self.scored} scored, {self.rejected} rejected"
            f" ({self.problems} problems)"
        )
        imputed = sum(self.imputed.values())
        if imputed:
            text += f"; {imputed} missing answers scored as lowest (instrument policy)"
        excluded = sum(self.excluded.values())
        if excluded:
            text += f"; {excluded} missing answers excluded and reweighted (instrument policy)"
        return text


def _reason_key(reason: str) -> str:
    """Group reasons that differ only by detail (row lists, values) for the summary."""
    if reason.startswith("duplicate respondent_id"):
        return "duplicate respondent_id"
    return reason


def score_file(
    input_path: str | Path,
    output_path: str | Path,
    model: IndexModel,
    *,
    rejects_path: str | Path | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    column_map: dict[str, str] | None = None,
    chunk_rows: int = 100_000,
    progress: Callable[[int], None] | None = None,
    tier_model: TierModel | None = None,
) -> tuple[RunSummary, ColumnMapping]:
    """Score every row of an answers file and write the results.

    Parameters
    ----------
    input_path, output_path
        CSV/XLSX/Parquet in, CSV/XLSX/Parquet out (by extension).
    model
        A fitted :class:`~dmi.IndexModel`.
    rejects_path
        Where to write the rejects table (``row, respondent_id, column, value, reason``).
    encoding, sheet, column_map
        Passed to the reader and the header mapping.
    chunk_rows
        Rows per chunk: memory stays flat whatever the file size (for CSV and Parquet output).
    progress
        Called with the number of rows done after each chunk.
    tier_model
        A fitted :class:`~dmi.tiers.TierModel` for the same instrument: adds ``tier`` and
        ``tier_confidence`` after the dimension scores.
    """
    instrument = model.instrument_
    if tier_model is not None:
        tier_model.check_instrument(instrument)
    reader = open_table(input_path, encoding=encoding, sheet=sheet, chunk_rows=chunk_rows)
    mapping = map_columns(instrument, reader.columns, column_map)
    summary = RunSummary(
        input=str(input_path),
        output=str(output_path),
        instrument=f"{instrument.id} {instrument.version}",
        method=model.params(),
        encoding=reader.encoding,
        unmatched_columns=mapping.unmatched,
        missing_items=mapping.missing_items,
    )
    output_path = Path(output_path)
    streaming = output_path.suffix.lower() == ".csv"
    collected: list[pd.DataFrame] = []
    reject_parts: list[pd.DataFrame] = []
    reasons: Counter[str] = Counter()
    levels: Counter[int] = Counter()
    tiers: Counter[int] = Counter()
    imputed: Counter[str] = Counter()
    excluded: Counter[str] = Counter()
    seen_ids: dict[str, int] = {}
    wrote_header = False
    for first_row, frame in reader.chunks():
        frame = frame.rename(columns=mapping.rename)
        result = model.score_batch(frame, first_row=first_row)
        scores, rejects = result.scores, result.rejects
        scores, rejects = _cross_chunk_duplicates(scores, result.rows, rejects, seen_ids)
        if tier_model is not None:
            scores = _with_tiers(scores, tier_model)
            tiers.update(scores["tier"].tolist())
        summary.read += result.n_read
        summary.scored += len(scores)
        summary.problems += len(rejects)
        reasons.update(_reason_key(r) for r in rejects["reason"])
        levels.update(scores["level"].tolist())
        imputed.update(result.imputed)
        excluded.update(result.excluded)
        if len(rejects):
            reject_parts.append(rejects)
        if streaming:
            write_table(scores, output_path, append=wrote_header)
            wrote_header = True
        else:
            collected.append(scores)
        if progress is not None:
            progress(summary.read)
    if streaming and not wrote_header:
        write_table(_empty_scores(model, tier_model), output_path)
    if not streaming:
        write_table(
            pd.concat(collected, ignore_index=True)
            if collected
            else _empty_scores(model, tier_model),
            output_path,
        )
    summary.rejected = summary.read - summary.scored
    all_rejects = (
        pd.concat(reject_parts, ignore_index=True)
        if reject_parts
        else pd.DataFrame(columns=REJECT_COLUMNS)
    )
    if rejects_path is not None:
        write_table(all_rejects, rejects_path)
    summary.rejected_by_reason = dict(reasons.most_common())
    summary.levels = {str(k): v for k, v in sorted(levels.items())}
    summary.tiers = {str(k): v for k, v in sorted(tiers.items())}
    summary.imputed = dict(imputed)
    summary.excluded = dict(excluded)
    return summary, mapping


def _with_tiers(scores: pd.DataFrame, tier_model: TierModel) -> pd.DataFrame:
    """Insert ``tier`` and ``tier_confidence`` right after the dimension scores."""
    if not len(scores):
        return scores.assign(tier=pd.Series(dtype="int64"), tier_confidence=pd.Series(dtype=float))
    assigned = tier_model.assign(scores)
    dims = [c for c in scores.columns if c.startswith("dim_")]
    at = scores.columns.get_loc(dims[-1]) + 1 if dims else len(scores.columns)
    order = list(scores.columns[:at]) + ["tier", "tier_confidence"] + list(scores.columns[at:])
    return assigned[order]


def _empty_scores(model: IndexModel, tier_model: TierModel | None = None) -> pd.DataFrame:
    columns = ["respondent_id", "dmi", "level"] + [
        f"dim_{d.code}" for d in model.instrument_.dimensions
    ]
    if tier_model is not None:
        columns += ["tier", "tier_confidence"]
    return pd.DataFrame(columns=columns)


def _cross_chunk_duplicates(
    scores: pd.DataFrame, rows: np.ndarray, rejects: pd.DataFrame, seen: dict[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reject rows whose id was scored in an earlier chunk (duplicates within one chunk are
    already rejected by the kernel), naming the row where the id was first seen."""
    ids = scores["respondent_id"].tolist()
    earlier = np.array([rid in seen for rid in ids], dtype=bool)
    if earlier.any():
        extra = pd.DataFrame(
            {
                "row": rows[earlier],
                "respondent_id": scores["respondent_id"].to_numpy()[earlier],
                "column": ID_COLUMN,
                "value": scores["respondent_id"].to_numpy()[earlier],
                "reason": [
                    f"duplicate respondent_id (first seen on row {seen[rid]})"
                    for rid, dup in zip(ids, earlier)
                    if dup
                ],
            }
        )
        rejects = pd.concat([rejects, extra], ignore_index=True)
        scores = scores[~earlier].reset_index(drop=True)
    for rid, row in zip(ids, rows.tolist()):
        seen.setdefault(rid, row)
    return scores, rejects

"""What a tier fit found (:class:`TierFitReport`) and how many companies each tier holds, overall
and by group (:func:`tier_report`), as data and as plain text for the command line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dmi.errors import DataError
from dmi.tiers.choice import KChoice
from dmi.tiers.cluster import WARD_MAX_ROWS
from dmi.tiers.files import jsonable
from dmi.tiers.stability import TierStability

if TYPE_CHECKING:
    from dmi.tiers.explain import TierLabel

__all__ = [
    "TierFitReport",
    "TierSummary",
    "format_tier_report",
    "some_columns",
    "tier_report",
]


@dataclass(frozen=True)
class TierSummary:
    """One tier in the fit report: size in the rows fitted on and centroid in 0-100 units."""

    tier: int
    zh: str
    en: str
    size: int
    share: float
    dmi: float
    centroid: dict[str, float]


@dataclass(frozen=True)
class TierFitReport:
    """What :meth:`TierModel.fit` did and found.

    Attributes
    ----------
    method
        ``kmeans``, ``gmm`` or ``ward``.
    n_tiers
        The number of tiers.
    k_choice
        How the number was chosen (every K tried and its criterion when ``"auto"``).
    n_rows, n_fit_rows
        Rows given to ``fit``, and rows the clustering was fitted on (a stratified sample when
        fewer).
    stratified_by
        ``"level"``, ``"dmi quintiles"`` or None when every row was used.
    features
        The feature columns.
    tiers
        Size, share, mean index and centroid of each tier, tier 1 first.
    stability
        Bootstrap stability, or None when ``n_bootstrap == 0``.
    instrument
        ``"<id> <version>"`` of the instrument, or None.
    data_hash
        SHA-256 of the feature and ``dmi`` values given to ``fit``.
    warnings
        Everything a user should know: unstable tiers, generic labels, non-convergence.
    """

    method: str
    n_tiers: int
    k_choice: KChoice
    n_rows: int
    n_fit_rows: int
    stratified_by: str | None
    features: tuple[str, ...]
    tiers: tuple[TierSummary, ...]
    stability: TierStability | None
    instrument: str | None
    data_hash: str
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (K keys as strings)."""
        data = asdict(self)
        data["k_choice"]["scores"] = {str(k): v for k, v in self.k_choice.scores.items()}
        return jsonable(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TierFitReport:
        """Rebuild a report written by :meth:`to_dict`."""
        k = data["k_choice"]
        stability = data["stability"]
        return cls(
            method=str(data["method"]),
            n_tiers=int(data["n_tiers"]),
            k_choice=KChoice(
                str(k["mode"]),
                k["criterion"],
                {int(key): _float(v) for key, v in k["scores"].items()},
                int(k["chosen"]),
                str(k["reason"]),
            ),
            n_rows=int(data["n_rows"]),
            n_fit_rows=int(data["n_fit_rows"]),
            stratified_by=data["stratified_by"],
            features=tuple(str(f) for f in data["features"]),
            tiers=tuple(
                TierSummary(
                    int(t["tier"]),
                    str(t["zh"]),
                    str(t["en"]),
                    int(t["size"]),
                    float(t["share"]),
                    float(t["dmi"]),
                    {str(f): float(v) for f, v in t["centroid"].items()},
                )
                for t in data["tiers"]
            ),
            stability=None
            if stability is None
            else TierStability(
                int(stability["n_bootstrap"]),
                int(stability["resample_rows"]),
                float(stability["ari_mean"]),
                float(stability["ari_min"]),
                tuple(float(v) for v in stability["jaccard_mean"]),
                tuple(float(v) for v in stability["jaccard_min"]),
                float(stability["min_ari"]),
                float(stability["min_jaccard"]),
                bool(stability["stable"]),
            ),
            instrument=data["instrument"],
            data_hash=str(data["data_hash"]),
            warnings=tuple(str(w) for w in data["warnings"]),
        )

    def to_text(self) -> str:
        """A plain-text summary for the command line."""
        lines = [
            f"tier model: {self.method}, {self.n_tiers} tiers"
            + (f", instrument {self.instrument}" if self.instrument else "")
        ]
        if self.n_fit_rows < self.n_rows:
            why = (
                f"; Ward's cost grows with the square of the rows, so it is capped at "
                f"{WARD_MAX_ROWS}"
                if self.method == "ward"
                else ""
            )
            lines.append(
                f"fitted on a stratified sample of {self.n_fit_rows} of {self.n_rows} "
                f"rows (strata: {self.stratified_by}){why}"
            )
        else:
            lines.append(f"fitted on all {self.n_rows} rows")
        lines.append(f"features: {', '.join(self.features)}")
        choice = self.k_choice
        if choice.mode == "auto":
            tried = ", ".join(f"K={k}: {v:.4g}" for k, v in sorted(choice.scores.items()))
            lines.append(f"number of tiers: {choice.chosen} chosen by {choice.criterion} ({tried})")
            lines.append(f"  {choice.reason}")
        else:
            lines.append(f"number of tiers: {choice.chosen} (fixed)")
        names = [f.removeprefix("dim_") for f in self.features]
        width = max([len(n) for n in names] + [6])
        lines.append("")
        lines.append(
            "tier   size   share     dmi  " + "  ".join(f"{n:>{width}}" for n in names) + "  label"
        )
        for t in self.tiers:
            values = "  ".join(f"{t.centroid[f]:>{width}.1f}" for f in self.features)
            lines.append(
                f"{t.tier:>4} {t.size:>6} {t.share:>6.1%} {t.dmi:>7.1f}  {values}  {t.zh} / {t.en}"
            )
        lines.append("")
        s = self.stability
        if s is None:
            lines.append("stability: not measured (n_bootstrap = 0)")
        else:
            pairs = zip(s.jaccard_mean, s.jaccard_min, strict=True)
            jac = ", ".join(
                f"tier {k + 1} {m:.2f} (min {lo:.2f})" for k, (m, lo) in enumerate(pairs)
            )
            lines.append(
                f"stability over {s.n_bootstrap} bootstrap refits of {s.resample_rows} "
                f"rows: {'stable' if s.stable else 'NOT stable'}"
            )
            lines.append(
                f"  adjusted Rand index mean {s.ari_mean:.3f}, min {s.ari_min:.3f} "
                f"(needs mean >= {s.min_ari:g})"
            )
            lines.append(
                f"  Jaccard per tier, mean (min): {jac} (needs each mean >= {s.min_jaccard:g})"
            )
        if self.warnings:
            lines.append("warnings:")
            lines.extend(f"  - {w}" for w in self.warnings)
        return "\n".join(lines)


def tier_report(
    scores: pd.DataFrame,
    by: Sequence[str] | str = ("sector", "region", "size_class"),
    *,
    tier_column: str = "tier",
    n_tiers: int | None = None,
) -> pd.DataFrame:
    """Counts and shares of companies per tier, overall and by each grouping column present.

    Parameters
    ----------
    scores : pandas.DataFrame
        A table with a tier column (whole numbers >= 1), e.g. from :meth:`TierModel.assign`.
    by : str or sequence of str, default=("sector", "region", "size_class")
        Grouping columns; the ones absent from ``scores`` are skipped (listed in
        ``result.attrs["skipped"]``). A blank group value is reported as ``"(missing)"``.
    tier_column : str, default="tier"
        The column holding the tiers.
    n_tiers : int, optional
        Report tiers 1..n_tiers (default: up to the largest tier present), zeros included.

    Returns
    -------
    pandas.DataFrame
        Columns ``by, group, tier, count, share`` (share within the group); ``by == "all"`` holds
        the overall counts. For every grouping column the counts add up to the number of rows.
    """
    if tier_column not in scores.columns:
        raise DataError(
            f"no {tier_column!r} column: expected a score table with tiers "
            f"(TierModel.assign, or `dmi score` with a tier model), got columns "
            f"{some_columns(scores.columns)}"
        )
    raw = scores[tier_column]
    tiers = pd.to_numeric(raw, errors="coerce")
    bad = tiers.isna() | (tiers < 1) | (tiers != np.floor(tiers))
    if bad.any():
        first = raw[bad].iloc[0]
        raise DataError(
            f"column {tier_column!r} has {int(bad.sum())} values that are not a tier "
            f"(a whole number >= 1), first {first!r}"
        )
    tiers = tiers.astype(np.int64).to_numpy()
    k = int(n_tiers if n_tiers is not None else (tiers.max() if len(tiers) else 1))
    columns = [by] if isinstance(by, str) else list(by)
    present = [c for c in columns if c in scores.columns]
    parts = [_group_counts("all", np.full(len(tiers), "all", dtype=object), tiers, k)]
    for column in present:
        values = scores[column].astype(object)
        groups = np.where(values.isna(), "(missing)", values.astype(str)).astype(object)
        parts.append(_group_counts(column, groups, tiers, k))
    table = pd.concat(parts, ignore_index=True)
    table.attrs["skipped"] = [c for c in columns if c not in scores.columns]
    return table


def _group_counts(name: str, groups: np.ndarray, tiers: np.ndarray, k: int) -> pd.DataFrame:
    counts = (
        pd.DataFrame({"group": groups, "tier": tiers})
        .groupby(["group", "tier"])
        .size()
        .unstack(fill_value=0)
        .reindex(columns=range(1, k + 1), fill_value=0)
    )
    counts = counts.sort_index()
    counts.columns.name = "tier"
    counts.index.name = "group"
    long = counts.stack().rename("count").reset_index()
    totals = long.groupby("group")["count"].transform("sum")
    long["share"] = np.where(totals > 0, long["count"] / totals.clip(lower=1), 0.0)
    long.insert(0, "by", name)
    return long[["by", "group", "tier", "count", "share"]]


def format_tier_report(table: pd.DataFrame, labels: Sequence[TierLabel] | None = None) -> str:
    """The :func:`tier_report` table as plain text: one block per grouping column."""
    lines: list[str] = []
    k = int(table["tier"].max()) if len(table) else 0
    if labels:
        lines.append("tiers: " + "; ".join(f"{lab.tier} = {lab.zh} / {lab.en}" for lab in labels))
    for name, block in table.groupby("by", sort=False):
        wide = block.pivot(index="group", columns="tier", values="count")
        width = max([len(str(g)) for g in wide.index] + [5])
        total = int(wide.sum(axis=1).sum())
        lines.append("")
        lines.append(f"by {name} ({total} rows)" if name != "all" else f"all ({total} rows)")
        lines.append(
            f"  {'group':<{width}}"
            + "".join(f"  {'tier ' + str(t):>14}" for t in range(1, k + 1))
            + "    total"
        )
        for group, row in wide.iterrows():
            n = int(row.sum())
            cells = "".join(
                f"  {int(row[t]):>7} {row[t] / n if n else 0:>6.1%}" for t in range(1, k + 1)
            )
            lines.append(f"  {str(group):<{width}}{cells}  {n:>7}")
    skipped = table.attrs.get("skipped") or []
    if skipped:
        lines.append("")
        lines.append(f"skipped (no such column): {', '.join(skipped)}")
    return "\n".join(lines).lstrip("\n")


def some_columns(columns: Any, limit: int = 12) -> str:
    """Column names for a message: the first ``limit`` and how many there are."""
    names = [str(c) for c in columns]
    shown = ", ".join(names[:limit])
    return (shown + f", ... ({len(names)} in all)") if len(names) > limit else (shown or "none")


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)

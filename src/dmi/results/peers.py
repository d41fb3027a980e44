"""Peer comparison: where a company stands among similar companies.

A :class:`PeerBenchmark` is fitted once on a reference population's score table and stored as
JSON. For a company it finds the most specific peer group that is large enough (by default sector x
size class, then sector, then size class, then everyone) and reports its percentile there, with the
group's size and median profile. Groups smaller than ``min_group_size`` are never shown: a
percentile among five companies says little and could reveal them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dmi.errors import DataError, NotFittedError, ParameterError
from dmi.io.modelfile import ModelFile, Part, check, dmi_version, read_json
from dmi.scoring.ranks import distribution, share_below

__all__ = ["PEER_FORMAT", "PeerBenchmark", "PeerBenchmarkFile", "PeerPosition"]

PEER_FORMAT = "dmi-peer-benchmark/1"


class Distribution(Part):
    """One score column in one group: its distinct values (rounded to 6 decimals), increasing,
    how many companies have each, and the median."""

    values: list[float]
    counts: list[int]
    median: float


class Group(Part):
    size: int
    distribution: dict[str, Distribution]


class PeerBenchmarkFile(ModelFile):
    """A fitted :class:`PeerBenchmark` (format ``dmi-peer-benchmark/1``)."""

    FORMAT = PEER_FORMAT
    KIND = "peer benchmark"

    levels: list[list[str]]
    min_group_size: int
    columns: list[str]
    n: int
    data_hash: str
    groups: dict[str, Group]

    def problems(self) -> Iterator[tuple[str, str]]:
        """(field, problem) for what the types alone do not catch."""
        if self.min_group_size < 1:
            yield "min_group_size", f"expected a whole number >= 1, got {self.min_group_size}"
        for name, group in self.groups.items():
            for column in self.columns:
                dist = group.distribution.get(column)
                where = f"groups.{name}.distribution.{column}"
                if dist is None:
                    yield where, "missing"
                elif len(dist.values) != len(dist.counts):
                    yield where, f"{len(dist.values)} values but {len(dist.counts)} counts"
                elif any(c <= 0 for c in dist.counts):
                    yield f"{where}.counts", "expected whole numbers above 0"
                elif any(b <= a for a, b in zip(dist.values, dist.values[1:])):
                    yield f"{where}.values", "expected increasing values"


@dataclass(frozen=True)
class PeerPosition:
    """A company's standing in its peer group.

    Attributes
    ----------
    group
        The grouping used, e.g. ``{"sector": "C13", "size_class": "small"}`` (empty = everyone).
    size
        Number of reference companies in the group.
    percentile
        Per score column (``dmi``, ``dim_*``): the share of the group scoring below the company,
        ties counted half, in [0, 100]. Scores equal to 9 decimals are ties
        (:mod:`dmi.scoring.ranks`).
    median
        Per score column: the group's median.
    """

    group: dict[str, str]
    size: int
    percentile: dict[str, float]
    median: dict[str, float]


class PeerBenchmark:
    """Percentiles within peer groups, with a minimum group size.

    Parameters
    ----------
    levels
        Groupings to try, most specific first; the last should be ``()`` (everyone).
    min_group_size
        Smallest group that is reported.
    columns
        Score columns to benchmark; default ``dmi`` and every ``dim_*`` column.
    """

    def __init__(
        self,
        levels: Sequence[Sequence[str]] = (
            ("sector", "size_class"),
            ("sector",),
            ("size_class",),
            (),
        ),
        min_group_size: int = 30,
        columns: Sequence[str] | None = None,
    ):
        self.levels = levels
        self.min_group_size = min_group_size
        self.columns = columns

    def fit(self, scores: pd.DataFrame) -> PeerBenchmark:
        """Store the distribution of every score column in every large-enough group."""
        if self.min_group_size < 1:
            raise ParameterError(
                f"min_group_size must be at least 1, got {self.min_group_size}",
                parameter="min_group_size",
            )
        columns = (
            list(self.columns)
            if self.columns is not None
            else (["dmi"] + [c for c in scores.columns if str(c).startswith("dim_")])
        )
        missing = [c for c in columns if c not in scores.columns]
        if missing:
            raise DataError(f"the score table lacks the columns {', '.join(missing)}")
        levels = [tuple(level) for level in self.levels]
        for level in levels:
            absent = [c for c in level if c not in scores.columns]
            if absent:
                raise DataError(f"peer grouping {level} needs the columns {', '.join(absent)}")
        values = scores[columns].apply(pd.to_numeric, errors="coerce")
        self.columns_ = columns
        self.levels_ = levels
        self.groups_: dict[str, dict[str, Any]] = {}
        for level in levels:
            keys = scores[list(level)].astype(str) if level else None
            grouped = values.groupby([keys[c] for c in level]) if level else [((), values)]
            for key, part in grouped:
                key = key if isinstance(key, tuple) else (key,)
                if len(part) < self.min_group_size:
                    continue
                self.groups_[_group_id(level, key)] = {
                    "size": int(len(part)),
                    "distribution": {c: _distribution(part[c].to_numpy()) for c in columns},
                }
        self.n_ = int(len(scores))
        digest = hashlib.sha256(pd.util.hash_pandas_object(values, index=False).to_numpy())
        self.data_hash_ = digest.hexdigest()[:16]
        return self

    def position(self, row: Mapping[str, Any]) -> PeerPosition | None:
        """The company's percentile in its most specific large-enough peer group.

        Returns None only when even the whole reference population is below
        ``min_group_size``.
        """
        self._check_fitted()
        for level in self.levels_:
            key = tuple("" if row.get(c) is None else str(row.get(c)) for c in level)
            group = self.groups_.get(_group_id(level, key))
            if group is None:
                continue
            percentile, median = {}, {}
            for column in self.columns_:
                dist = group["distribution"][column]
                value = row.get(column)
                if value is None or pd.isna(value):
                    continue
                percentile[column] = _percentile(dist, float(value))
                median[column] = dist["median"]
            return PeerPosition(dict(zip(level, key)), group["size"], percentile, median)
        return None

    def _check_fitted(self) -> None:
        if not hasattr(self, "groups_"):
            raise NotFittedError("this PeerBenchmark is not fitted yet: call fit(scores) first")

    def to_dict(self) -> dict[str, Any]:
        """The fitted benchmark as plain JSON-able data (schema :class:`PeerBenchmarkFile`), with
        the dmi version writing it."""
        self._check_fitted()
        return {
            "format": PEER_FORMAT,
            "dmi_version": dmi_version(),
            "levels": [list(level) for level in self.levels_],
            "min_group_size": self.min_group_size,
            "columns": self.columns_,
            "n": self.n_,
            "data_hash": self.data_hash_,
            "groups": self.groups_,
        }

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "peer benchmark (in memory)") -> PeerBenchmark:
        """Rebuild a fitted benchmark from :meth:`to_dict` output, checking every field.

        Raises
        ------
        ModelFileError
            Naming ``source`` and the field that is missing, of the wrong type or inconsistent,
            or an unknown format.
        """
        check(PeerBenchmarkFile, data, source)
        # the checked data itself (not the schema's copy): the groups are kept as they were read
        model = cls(
            [tuple(x) for x in data["levels"]],
            int(data["min_group_size"]),
            list(data["columns"]),
        )
        model.levels_ = [tuple(x) for x in data["levels"]]
        model.columns_ = list(data["columns"])
        model.groups_ = dict(data["groups"])
        model.n_ = int(data["n"])
        model.data_hash_ = str(data["data_hash"])
        return model

    def save(self, path: str | Path) -> None:
        """Write the fitted benchmark to a JSON file."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> PeerBenchmark:
        """Read a benchmark written by :meth:`save` (see :meth:`from_dict` for what is checked)."""
        data, source = read_json(path, "peer benchmark")
        return cls.from_dict(data, source=source)


def _group_id(level: Sequence[str], key: Sequence[str]) -> str:
    return "|".join(f"{c}={k}" for c, k in zip(level, key)) or "*"


def _distribution(values: np.ndarray) -> dict[str, Any]:
    values = values[~np.isnan(values)]
    # scores take few distinct values (sums of points), so value counts are compact and exact
    uniques, counts = distribution(values)
    return {
        "values": uniques.tolist(),
        "counts": counts.tolist(),
        "median": float(np.median(values)) if len(values) else float("nan"),
    }


def _percentile(dist: Mapping[str, Any], value: float) -> float:
    return float(100 * share_below(dist["values"], dist["counts"], value))

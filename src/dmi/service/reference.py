"""The published reference a company is scored against: method, weights, tiers and peers.

A :class:`Reference` bundles everything the app needs to turn one company's answers into its
result: a fitted :class:`~dmi.IndexModel` (normalisation, weights, aggregation), a fitted
:class:`~dmi.tiers.TierModel` and a fitted :class:`~dmi.results.PeerBenchmark`. It is stored as one
JSON document whose content hash is its version, so a result that records the version can
always be reproduced from the stored document, and two references with the same content have
the same version. The document and each of its parts record the dmi version that wrote them
(``dmi_version``); the hash leaves it out, so the same reference has the same version under any
dmi release, and documents stored before dmi recorded it keep theirs.

:func:`fit_reference` fits a new reference on a population of answers; :func:`shipped_reference`
builds the default one from the instrument's own method, the shipped tier model and the shipped
reference population; :func:`compare_references` says what changed between two of them.

Only a reference of the instrument's official method (:attr:`Reference.is_official`) may be the
companies' reference: what a company sees as its index and level is always the official one. A
reference of another method is a *research reference*: stored and shown to researchers and
administrators, never published to companies.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from dmi.errors import DataError, ModelFileError
from dmi.instruments import Instrument, load_instrument
from dmi.instruments.loading import shipped_reference_population
from dmi.io import read_answers
from dmi.io.modelfile import ModelFile, Part, check, dmi_version, without_dmi_version
from dmi.locales import text
from dmi.results.assess import Assessment, assess
from dmi.results.peers import PeerBenchmark
from dmi.scoring.aggregate import AGGREGATIONS
from dmi.scoring.model import WEIGHT_LEVELS, WEIGHTINGS, IndexModel
from dmi.scoring.normalise import NORMALISATIONS, canonical_name
from dmi.tiers import TierModel, load_shipped_tier_model, shipped_tier_model_path

__all__ = [
    "METHOD_OPTIONS",
    "REFERENCE_FORMAT",
    "Reference",
    "ReferenceChange",
    "change_tables",
    "compare_references",
    "method_help",
    "method_label",
    "reference_tables",
    "source_label",
    "fit_reference",
    "shipped_reference",
    "shipped_reference_population",
]

REFERENCE_FORMAT = "dmi-reference/1"
_PARTS = ("index_model", "tier_model", "peers")


class _InstrumentRef(Part):
    id: str
    version: str
    hash: str


class ReferenceFile(ModelFile):
    """A reference document (format ``dmi-reference/1``). Its parts are checked by their own
    schemas when they are rebuilt (:class:`~dmi.scoring.files.IndexModelFile`,
    :class:`~dmi.tiers.files.TierModelFile`, :class:`~dmi.results.peers.PeerBenchmarkFile`)."""

    FORMAT = REFERENCE_FORMAT
    KIND = "reference"

    instrument: _InstrumentRef
    source: str
    n_companies: int
    created_at: str
    note: str = ""
    index_model: dict[str, Any]
    tier_model: dict[str, Any] | None = None
    peers: dict[str, Any]


@dataclass
class Reference:
    """A fitted, versioned reference: index model, tier model and peer benchmark.

    Attributes
    ----------
    instrument
        The instrument the models were fitted for.
    index_model, tier_model, peers
        The fitted parts; ``tier_model`` is None when the method gives no tiers.
    source
        Where the reference population came from (a file name, "stored submissions", ...).
    n_companies
        Number of scored companies the tiers and peers were fitted on.
    created_at
        ISO 8601 time of the fit (UTC).
    note
        Free text recorded with the reference.
    """

    instrument: Instrument
    index_model: IndexModel
    tier_model: TierModel | None
    peers: PeerBenchmark
    source: str
    n_companies: int
    created_at: str
    note: str = ""
    _payload: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    # -- identity -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The reference as one JSON-able document (its version is a hash of the content)."""
        if self._payload is None:
            body = {
                "format": REFERENCE_FORMAT,
                "dmi_version": dmi_version(),
                "instrument": {
                    "id": self.instrument.id,
                    "version": self.instrument.version,
                    "hash": self.instrument.hash,
                },
                "source": self.source,
                "n_companies": int(self.n_companies),
                "created_at": self.created_at,
                "note": self.note,
                "index_model": self.index_model.to_dict(),
                "tier_model": None if self.tier_model is None else self.tier_model.to_dict(),
                "peers": self.peers.to_dict(),
            }
            # normalise through JSON so that the hash of a loaded copy equals the original's
            self._payload = json.loads(json.dumps(body, ensure_ascii=False))
        return self._payload

    def to_json(self) -> str:
        """The document as compact JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @property
    def version(self) -> str:
        """``<instrument id>@<first 12 hex digits of the content hash>``.

        The hash is of the document without the ``dmi_version`` fields (its own and its
        parts'): which dmi wrote a reference does not make it another reference.
        """
        document = self.to_dict()
        content = without_dmi_version(document)
        for part in _PARTS:
            if isinstance(content.get(part), dict):
                content[part] = without_dmi_version(content[part])
        text = json.dumps(content, ensure_ascii=False, sort_keys=True)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        return f"{self.instrument.id}@{digest}"

    @classmethod
    def from_dict(
        cls,
        data: Any,
        instrument: Instrument | str | None = None,
        *,
        source: str = "reference document",
    ) -> Reference:
        """Rebuild a reference from :meth:`to_dict` data, checking every field of it and of
        its parts.

        Raises
        ------
        ModelFileError
            Naming ``source`` and the field (``index_model.weights``, say): not a reference
            document, a missing or malformed field, or one fitted for another instrument
            version.
        """
        doc = check(ReferenceFile, data, source)
        meta = doc.instrument
        inst = (
            instrument
            if isinstance(instrument, Instrument)
            else load_instrument(instrument or meta.id)
        )
        if (meta.id, meta.version, meta.hash) != (inst.id, inst.version, inst.hash):
            raise ModelFileError(
                source,
                "instrument",
                f"this reference was fitted for instrument {meta.id} version "
                f"{meta.version}, not {inst.id} version {inst.version}",
            )
        try:
            index_model = IndexModel.from_dict(data["index_model"], inst, source="index_model")
            tier_model = (
                None
                if doc.tier_model is None
                else TierModel.from_dict(data["tier_model"], inst, source="tier_model")
            )
            peers = PeerBenchmark.from_dict(data["peers"], source="peers")
        except ModelFileError as exc:  # say it of the document: field index_model.weights
            field_ = f"{exc.source}.{exc.field}" if exc.field else exc.source
            raise ModelFileError(source, field_, exc.problem) from None
        ref = cls(
            instrument=inst,
            index_model=index_model,
            tier_model=tier_model,
            peers=peers,
            source=doc.source,
            n_companies=doc.n_companies,
            created_at=doc.created_at,
            note=doc.note,
        )
        ref._payload = json.loads(json.dumps(dict(data), ensure_ascii=False))
        return ref

    @classmethod
    def from_json(
        cls,
        text: str,
        instrument: Instrument | str | None = None,
        *,
        source: str = "reference document",
    ) -> Reference:
        """Rebuild a reference from :meth:`to_json` text (see :meth:`from_dict`)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelFileError(source, "", f"not valid JSON, perhaps truncated ({exc})") from None
        return cls.from_dict(data, instrument, source=source)

    @property
    def is_official(self) -> bool:
        """True when the index method is the instrument's official one: only then may the
        reference be published to companies (otherwise it is a research reference)."""
        return self.index_model.is_official

    # -- use ------------------------------------------------------------------------------------
    def assess(self, answers: Mapping[str, Any], *, top: int = 5) -> Assessment:
        """One company's result under this reference (see :func:`dmi.results.assess.assess`)."""
        return assess(
            self.index_model, answers, tier_model=self.tier_model, peers=self.peers, top=top
        )

    def score(self, answers: pd.DataFrame) -> pd.DataFrame:
        """Score a table of valid answers: index, level, dimensions and, when fitted, tiers."""
        scores = self.index_model.score(answers)
        return scores if self.tier_model is None else self.tier_model.assign(scores)

    def summary(self) -> dict[str, Any]:
        """Facts for a review screen: method, weights, tier sizes and stability, peer groups."""
        model = self.index_model
        weights = model.node_weights()
        tiers: dict[str, Any] | None = None
        if self.tier_model is not None:
            tm = self.tier_model
            tiers = {
                "method": tm.method,
                "n_tiers": int(tm.n_tiers_),
                "stable": tm.stable_,
                "sizes": {int(s.tier): int(s.size) for s in tm.report_.tiers},
                "tier_dmi": [round(float(v), 2) for v in tm.tier_dmi_],
            }
        return {
            "version": self.version,
            "instrument": f"{self.instrument.id} {self.instrument.version}",
            "use": "companies (official method)" if self.is_official else "research only",
            "source": self.source,
            "n_companies": self.n_companies,
            "created_at": self.created_at,
            "method": {
                "official": self.is_official,
                "weighting": model.weighting,
                "normalisation": model.normalisation,
                "aggregation": model.aggregation,
                "weight_level": model.weight_level,
            },
            "weights": {
                f"{row.level}:{row.code}": round(float(row.weight), 6)
                for row in weights.itertuples()
                if row.level == model.weight_level
            },
            "tiers": tiers,
            "peer_groups": len(self.peers.groups_),
            "note": self.note,
        }


@dataclass(frozen=True)
class ReferenceChange:
    """What changed from one reference to another, measured on one population.

    Attributes
    ----------
    weight_changes
        Per weighted node: old share, new share.
    n_compared
        Companies scored under both.
    level_changed, tier_changed
        Companies whose level / tier differs.
    mean_abs_index_change, max_abs_index_change
        Of the index, in points.
    spearman
        Rank correlation of the two indices; NaN when undefined (fewer than 2 companies, or
        one reference gives every company the same index).
    same_index
        True when both give every company the same index (equal
        :attr:`~dmi.IndexModel.method_id`, e.g. two official references): only then is a
        difference of a company's index across them a change of the company.
    official
        True when the new reference is of the official method (it may be published to
        companies); False for a research reference.
    band_changed
        Companies whose band of the reference's own index differs (``level`` under the official
        method, ``indicative_level`` under another). ``level_changed`` counts official levels,
        which no reference changes.
    bands
        Per level number: companies in that band before and after.
    tiers
        Per tier: companies before and after, and the lowest and highest index after (None
        when either reference has no tier model).
    """

    weight_changes: dict[str, tuple[float, float]]
    n_compared: int
    level_changed: int
    tier_changed: int | None
    mean_abs_index_change: float
    max_abs_index_change: float
    spearman: float
    same_index: bool = True
    official: bool = True
    band_changed: int = 0
    bands: dict[int, tuple[int, int]] = field(default_factory=dict)
    tiers: dict[int, tuple[int, int, float, float]] | None = None


def compare_references(old: Reference, new: Reference, answers: pd.DataFrame) -> ReferenceChange:
    """Score ``answers`` under both references and count what moves."""
    from dmi.analysis.compare import rank_correlations

    if old.instrument.id != new.instrument.id:
        raise DataError(
            f"cannot compare references of different instruments "
            f"({old.instrument.id} and {new.instrument.id})"
        )
    before = old.index_model.score_batch(answers).scores
    after = new.index_model.score_batch(answers).scores
    keep = ["respondent_id", "dmi", "level", "band"]
    merged = _with_band(before)[keep].merge(
        _with_band(after)[keep], on="respondent_id", suffixes=("_old", "_new")
    )
    diff = (merged["dmi_new"] - merged["dmi_old"]).abs()
    tier_changed = None
    tiers = None
    if old.tier_model is not None and new.tier_model is not None and len(merged):
        t_old = old.tier_model.assign(before, missing="na").set_index("respondent_id")["tier"]
        t_new = new.tier_model.assign(after, missing="na").set_index("respondent_id")["tier"]
        ids = merged["respondent_id"]
        changed = t_old.loc[ids].to_numpy() != t_new.loc[ids].to_numpy()
        tier_changed = int(pd.array(changed, dtype="boolean").fillna(True).sum())
        tiers = _tier_counts(t_old.loc[ids], t_new.loc[ids], merged.set_index("respondent_id"))
    bands = {
        int(level): (
            int((merged["band_old"] == level).sum()),
            int((merged["band_new"] == level).sum()),
        )
        for level in sorted(b.level for b in new.instrument.levels.bands)
    }
    weights_old = _weight_shares(old.index_model)
    weights_new = _weight_shares(new.index_model)
    changes = {
        node: (weights_old.get(node, 0.0), weights_new.get(node, 0.0))
        for node in sorted(set(weights_old) | set(weights_new))
    }
    rho, _, _ = rank_correlations(
        merged["dmi_old"].to_numpy(float), merged["dmi_new"].to_numpy(float), ("old", "new")
    )
    return ReferenceChange(
        weight_changes=changes,
        n_compared=int(len(merged)),
        level_changed=int((merged["level_old"] != merged["level_new"]).sum()),
        tier_changed=tier_changed,
        mean_abs_index_change=float(diff.mean()) if len(diff) else 0.0,
        max_abs_index_change=float(diff.max()) if len(diff) else 0.0,
        spearman=rho,
        same_index=old.index_model.method_id == new.index_model.method_id,
        official=new.is_official,
        band_changed=int((merged["band_old"] != merged["band_new"]).sum()),
        bands=bands,
        tiers=tiers,
    )


def _tier_counts(
    old: pd.Series, new: pd.Series, merged: pd.DataFrame
) -> dict[int, tuple[int, int, float, float]]:
    """Per tier: companies before and after, and the index range after (NaN when empty)."""
    out = {}
    dmi_new = merged["dmi_new"].to_numpy()
    new_values = new.to_numpy(dtype="float64", na_value=np.nan)
    old_values = old.to_numpy(dtype="float64", na_value=np.nan)
    for tier in sorted(
        set(np.unique(old_values[~np.isnan(old_values)]).astype(int))
        | set(np.unique(new_values[~np.isnan(new_values)]).astype(int))
    ):
        inside = dmi_new[new_values == tier]
        out[int(tier)] = (
            int((old_values == tier).sum()),
            int(len(inside)),
            float(inside.min()) if len(inside) else float("nan"),
            float(inside.max()) if len(inside) else float("nan"),
        )
    return out


def _with_band(scores: pd.DataFrame) -> pd.DataFrame:
    """The scores with ``band``: the band of their own index (indicative under a research
    method, the level under the official one)."""
    column = "indicative_level" if "indicative_level" in scores else "level"
    return scores.assign(band=scores[column])


def _weight_shares(model: IndexModel) -> dict[str, float]:
    table = model.node_weights()
    table = table[table["level"] == "dimension"]
    return {str(code): float(w) for code, w in zip(table["code"], table["weight"])}


def fit_reference(
    instrument: Instrument | str,
    answers: pd.DataFrame,
    *,
    weighting: str = "instrument",
    normalisation: str = "goalposts",
    aggregation: str = "arithmetic",
    weight_level: str = "indicator",
    ahp_matrix: Any = None,
    n_tiers: int | str | None = None,
    tier_method: str = "kmeans",
    seed: int = 20241,
    n_bootstrap: int = 20,
    min_peer_group: int = 30,
    source: str = "",
    note: str = "",
) -> Reference:
    """Fit a new reference on a population of answers.

    Rows with invalid answers are left out of the fit (the count is in ``n_companies``).

    Parameters
    ----------
    instrument
        The instrument, or a shipped instrument's name.
    answers
        One row per company: ``respondent_id``, item codes and profile fields.
    weighting, normalisation, aggregation, weight_level, ahp_matrix
        The index method (see :class:`~dmi.IndexModel`).
    n_tiers
        Number of tiers; default the instrument's number of tier descriptions. ``"auto"`` chooses.
    tier_method
        ``"kmeans"``, ``"gmm"`` or ``"ward"``.
    seed
        Seed of the tier fit and its stability bootstrap.
    n_bootstrap
        Bootstrap refits for the tier stability check.
    min_peer_group
        Smallest peer group reported.
    source, note
        Recorded with the reference.

    Raises
    ------
    DataError
        When no row of ``answers`` is valid.
    ParameterError
        When the method's parameters are wrong.
    """
    inst = instrument if isinstance(instrument, Instrument) else load_instrument(instrument)
    model = IndexModel(
        inst,
        weighting=weighting,
        normalisation=normalisation,
        aggregation=aggregation,
        weight_level=weight_level,
        ahp_matrix=ahp_matrix,
    )
    model.fit(answers if model.needs_data() else None)
    scores = model.score_batch(answers).scores
    if len(scores) == 0:
        raise DataError("no row of the reference population has valid answers")
    k = n_tiers if n_tiers is not None else (len(inst.tiers) or 4)
    tier_model = TierModel(
        n_tiers=k, method=tier_method, random_state=seed, n_bootstrap=n_bootstrap, instrument=inst
    ).fit(scores)
    peers = PeerBenchmark(min_group_size=min_peer_group).fit(scores)
    return Reference(
        instrument=inst,
        index_model=model,
        tier_model=tier_model,
        peers=peers,
        source=source,
        n_companies=int(len(scores)),
        created_at=_now(),
        note=note,
    )


def shipped_reference(instrument: Instrument | str) -> Reference:
    """The default reference: the instrument's own method, shipped tiers, shipped peers.

    The index uses the instrument's own weights and goalposts (nothing learned from data), the
    tier model is the one shipped for the instrument, and the peer distributions come from the
    shipped reference population. ``created_at`` is fixed so that the version is the same on
    every machine.
    """
    inst = instrument if isinstance(instrument, Instrument) else load_instrument(instrument)
    model = IndexModel(inst).fit()
    population = read_answers(shipped_reference_population(inst), inst)
    scores = model.score_batch(population).scores
    tier_model = load_shipped_tier_model(inst) if shipped_tier_model_path(inst).is_file() else None
    peers = PeerBenchmark().fit(scores)
    return Reference(
        instrument=inst,
        index_model=model,
        tier_model=tier_model,
        peers=peers,
        source="shipped: the synthetic reference population (instruments/data/reference)",
        n_companies=int(len(scores)),
        created_at="2026-01-01T00:00:00+00:00",
        note="the instrument's own method; tiers and peers from the shipped synthetic population",
    )


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


# -- the reference and its changes as tables, in a language ------------------------------------
METHOD_OPTIONS: dict[str, tuple[str, ...]] = {
    "weighting": WEIGHTINGS,
    "normalisation": NORMALISATIONS,
    "aggregation": AGGREGATIONS,
    "weight_level": WEIGHT_LEVELS,
}
"""The choices of an index method, by setting: what the app's pickers offer."""


def _option_name(kind: str, key: str) -> str:
    if kind not in METHOD_OPTIONS:
        raise KeyError(f"unknown method setting {kind!r}; expected one of {sorted(METHOD_OPTIONS)}")
    name = canonical_name(key) if kind == "normalisation" else key
    if name not in METHOD_OPTIONS[kind]:
        raise KeyError(f"unknown {kind} {key!r}; expected one of {', '.join(METHOD_OPTIONS[kind])}")
    return name.replace("-", "_")


def method_label(kind: str, key: str, lang: str) -> str:
    """A method choice as people call it, in ``lang``: ``目标值法 / goalposts``.

    Parameters
    ----------
    kind : {"weighting", "normalisation", "aggregation", "weight_level"}
    key : str
        The choice as :class:`~dmi.IndexModel` takes it (``goalposts``, ``entropy`` ...).
    lang : {"zh", "en"}
    """
    name = _option_name(kind, key)
    if kind == "weighting":
        return text(f"admin.weighting_{name}", lang)
    if kind == "normalisation":
        return text(f"admin.normalisation_{name}", lang)
    if kind == "aggregation":
        return text(f"admin.aggregation_{name}", lang)
    return text(f"admin.weight_level_{name}", lang)


def method_help(kind: str, key: str, lang: str) -> str:
    """What a method choice does, in one line of ``lang``."""
    name = _option_name(kind, key)
    if kind == "weighting":
        return text(f"admin.weighting_{name}_help", lang)
    if kind == "normalisation":
        return text(f"admin.normalisation_{name}_help", lang)
    if kind == "aggregation":
        return text(f"admin.aggregation_{name}_help", lang)
    return text(f"admin.weight_level_{name}_help", lang)


def source_label(source: str, lang: str) -> str:
    """Where a reference's population came from, in ``lang`` (the sources the app and
    :func:`shipped_reference` record; any other as it was recorded)."""
    if source.startswith("shipped:"):
        return text("admin.source_shipped", lang)
    if source.startswith("upload: "):
        return text("admin.source_upload", lang, name=source[len("upload: ") :])
    found = re.fullmatch(r"stored submissions \((\d+)\)", source)
    if found:
        return text("admin.source_submissions", lang, n=int(found.group(1)))
    return source


def _pick(node: Any, lang: str) -> str:
    return node.zh if lang == "zh" else node.en


def _percent(share: float) -> float:
    return round(100 * float(share), 2)


def reference_tables(reference: Reference, lang: str) -> dict[str, pd.DataFrame]:
    """What a reference is, as tables for people (headers and labels in ``lang``).

    Returns
    -------
    dict of str to DataFrame
        ``method`` (setting, value), ``dimensions`` and ``items`` (each node's share of the
        index, in %, with the names of its dimension and indicator), and ``tiers`` (per tier:
        its name, the companies it was fitted on, their share, their mean index and the mean
        dimension scores; absent when the reference has no tiers).
    """
    inst = reference.instrument
    model = reference.index_model
    use = (
        text("admin.use_official", lang)
        if reference.is_official
        else text("admin.use_research_only", lang)
    )
    rows = [
        (text("admin.row_use", lang), use),
        (text("admin.row_weighting", lang), method_label("weighting", model.weighting, lang)),
        (
            text("admin.row_normalisation", lang),
            method_label("normalisation", model.normalisation, lang),
        ),
        (text("admin.row_aggregation", lang), method_label("aggregation", model.aggregation, lang)),
        (
            text("admin.row_weight_level", lang),
            method_label("weight_level", model.weight_level, lang),
        ),
        (text("admin.row_source", lang), source_label(reference.source, lang)),
        (text("admin.row_companies", lang), f"{reference.n_companies:,}"),
        (text("admin.row_created", lang), reference.created_at),
        (
            text("admin.row_instrument", lang),
            f"{_pick(inst.title, lang)} ({inst.id} {inst.version})",
        ),
        (text("admin.row_version", lang), reference.version),
    ]
    tables = {
        "method": pd.DataFrame(
            {
                text("admin.col_setting", lang): [k for k, _ in rows],
                text("admin.col_value", lang): [str(v) for _, v in rows],
            }
        )
    }
    weights = model.node_weights()
    share = {(r.level, r.code): float(r.weight) for r in weights.itertuples()}
    tables["dimensions"] = pd.DataFrame(
        {
            text("admin.col_dimension", lang): [_pick(d, lang) for d in inst.dimensions],
            text("admin.col_code", lang): [d.code for d in inst.dimensions],
            text("admin.col_weight", lang): [
                _percent(share[("dimension", d.code)]) for d in inst.dimensions
            ],
        }
    )
    items = []
    for dimension in inst.dimensions:
        for indicator in dimension.indicators:
            for item in indicator.items:
                items.append(
                    {
                        text("admin.col_dimension", lang): _pick(dimension, lang),
                        text("admin.col_indicator", lang): _pick(indicator, lang),
                        text("admin.col_item", lang): _pick(item, lang),
                        text("admin.col_code", lang): item.code,
                        text("admin.col_weight", lang): _percent(share[("item", item.code)]),
                    }
                )
    tables["items"] = pd.DataFrame(items)
    if reference.tier_model is not None:
        report = reference.tier_model.report_
        names = {t.tier: _pick(t, lang) for t in inst.tiers}
        rows_ = []
        for tier in report.tiers:
            row = {
                text("admin.col_tier", lang): int(tier.tier),
                text("admin.col_name", lang): names.get(int(tier.tier), _pick(tier, lang)),
                text("admin.col_companies", lang): int(tier.size),
                text("admin.col_share", lang): _percent(tier.share),
                text("admin.col_mean_index", lang): round(float(tier.dmi), 1),
            }
            for dimension in inst.dimensions:
                value = tier.centroid.get(f"dim_{dimension.code}")
                if value is not None:
                    row[_pick(dimension, lang)] = round(float(value), 1)
            rows_.append(row)
        tables["tiers"] = pd.DataFrame(rows_)
    return tables


def change_tables(
    old: Reference, new: Reference, change: ReferenceChange, lang: str
) -> dict[str, pd.DataFrame]:
    """What changes from ``old`` to ``new`` (measured by :func:`compare_references`), as tables
    for people (headers and labels in ``lang``).

    Returns
    -------
    dict of str to DataFrame
        ``summary`` (what, value), ``weights`` (each dimension's and indicator's share before
        and after, in %, and the change in points), ``cutoffs`` (each level's lowest index
        before and after), ``bands`` (companies per level before and after; after, under a
        non-official method, the indicative band) and ``tiers`` (companies per tier before and
        after, and the index range after; absent without tiers).
    """
    n = change.n_compared
    band_text = (
        text("admin.sum_level_changes", lang)
        if change.official
        else text("admin.sum_band_changes", lang)
    )
    summary = [
        (text("admin.sum_compared", lang), f"{n:,}"),
        (
            text("admin.sum_spearman", lang),
            text("admin.sum_spearman_undefined", lang)
            if np.isnan(change.spearman)
            else f"{change.spearman:.3f}",
        ),
        (band_text, f"{change.band_changed:,} / {n:,}"),
        (
            text("admin.sum_tier_changes", lang),
            "-" if change.tier_changed is None else f"{change.tier_changed:,} / {n:,}",
        ),
        (text("admin.sum_mean_change", lang), f"{change.mean_abs_index_change:.2f}"),
        (text("admin.sum_max_change", lang), f"{change.max_abs_index_change:.2f}"),
    ]
    tables = {
        "summary": pd.DataFrame(
            {
                text("admin.col_what", lang): [w for w, _ in summary],
                text("admin.col_value", lang): [v for _, v in summary],
            }
        )
    }
    inst = new.instrument
    before = old.index_model.node_weights().set_index(["level", "code"])["weight"]
    after = new.index_model.node_weights().set_index(["level", "code"])["weight"]
    rows = []
    for dimension in inst.dimensions:
        nodes = [("dimension", dimension, dimension.code)] + [
            ("indicator", indicator, indicator.code) for indicator in dimension.indicators
        ]
        for level, node, code in nodes:
            a, b = float(before[(level, code)]), float(after[(level, code)])
            rows.append(
                {
                    text("admin.col_level", lang): text(f"admin.node_{level}", lang),
                    text("admin.col_name", lang): _pick(node, lang),
                    text("admin.col_before", lang): _percent(a),
                    text("admin.col_after", lang): _percent(b),
                    text("admin.col_change_pp", lang): round(100 * (b - a), 2),
                }
            )
    tables["weights"] = pd.DataFrame(rows)
    cut_old = {b.level: b.min for b in old.instrument.levels.bands}
    tables["cutoffs"] = pd.DataFrame(
        [
            {
                text("admin.col_level", lang): _pick(band, lang),
                text("admin.col_before", lang): cut_old.get(band.level),
                text("admin.col_after", lang): band.min,
                text("admin.col_changed", lang): (
                    text("admin.yes", lang)
                    if cut_old.get(band.level) != band.min
                    else text("admin.no", lang)
                ),
            }
            for band in sorted(inst.levels.bands, key=lambda b: b.level)
        ]
    )
    after_label = (
        text("admin.col_after", lang)
        if change.official
        else text("admin.col_after_indicative", lang)
    )
    tables["bands"] = pd.DataFrame(
        [
            {
                text("admin.col_level", lang): _pick(inst.level_band(level), lang),
                text("admin.col_before", lang): counts[0],
                after_label: counts[1],
                text("admin.col_change", lang): counts[1] - counts[0],
            }
            for level, counts in change.bands.items()
        ]
    )
    if change.tiers is not None:
        names = {t.tier: _pick(t, lang) for t in inst.tiers}
        tables["tiers"] = pd.DataFrame(
            [
                {
                    text("admin.col_tier", lang): tier,
                    text("admin.col_name", lang): names.get(tier, ""),
                    text("admin.col_before", lang): was,
                    text("admin.col_after", lang): now,
                    text("admin.col_index_range", lang): (
                        "-" if now == 0 else f"{low:.1f} – {high:.1f}"
                    ),
                }
                for tier, (was, now, low, high) in change.tiers.items()
            ]
        )
    return tables

"""Researcher weights lab: two method schemes on one population, compared; AHP matrix with a
live consistency ratio; the fitted method downloadable for ``dmi score --model``; the stored
research references. A scheme other than the official one has an indicative band, never a level."""

from __future__ import annotations

import json

import dmi_ui as ui
import numpy as np
import pandas as pd
import streamlit as st

from dmi import IndexModel, load_instrument
from dmi.analysis.compare import compare_rankings
from dmi.io import read_answers
from dmi.scoring import NORMALISATIONS, WEIGHT_LEVELS, WEIGHTINGS
from dmi.scoring.aggregate import AGGREGATIONS
from dmi.scoring.weighting import ahp
from dmi.service.reference import shipped_reference_population
from dmi.tiers import TierModel

ui.require("researcher")
st.title(ui.t("nav_weights"))
st.write(ui.t("lab_intro"))

instrument = load_instrument(ui.DEFAULT_INSTRUMENT)
dimension_codes = [d.code for d in instrument.dimensions]
dimension_names = [ui.pick(d.zh, d.en) for d in instrument.dimensions]


@st.cache_data(show_spinner=False)
def population() -> pd.DataFrame:
    return read_answers(shipped_reference_population(instrument), instrument)


@st.cache_data(show_spinner=False, max_entries=16)
def fitted(params_json: str) -> tuple[str, pd.DataFrame]:
    """Fit a scheme on the population; its model JSON and scores with tiers (cached)."""
    params = json.loads(params_json)
    answers = population()
    model = IndexModel(instrument, **params)
    model.fit(answers if model.needs_data() else None)
    scores = model.score_batch(answers).scores
    tiers = TierModel(
        n_tiers=len(instrument.tiers) or 4, random_state=20241, n_bootstrap=0, instrument=instrument
    ).fit(scores)
    scores = scores.assign(tier=tiers.predict(scores))
    return json.dumps(model.to_dict(), ensure_ascii=False, indent=1), scores


def ahp_editor(key: str) -> list[list[float]] | None:
    st.markdown(f"**{ui.t('ahp_matrix')}**")
    start = pd.DataFrame(
        np.ones((len(dimension_codes),) * 2), index=dimension_codes, columns=dimension_codes
    )
    edited = st.data_editor(start, key=f"{key}_ahp", width="stretch")
    matrix = edited.to_numpy(dtype=float)
    # the upper triangle holds the judgements; the lower one is their reciprocal
    upper = np.triu_indices(len(matrix), 1)
    full = np.eye(len(matrix))
    full[upper] = matrix[upper]
    with np.errstate(divide="ignore"):
        full[(upper[1], upper[0])] = 1 / matrix[upper]
    try:
        result = ahp(full)
    except ValueError as exc:
        st.error(f"{ui.t('method_error')} {ui.literal(exc)}")
        return None
    st.write(ui.t("ahp_cr", cr=result.cr))
    (st.success if result.consistent else st.warning)(
        ui.t("ahp_ok") if result.consistent else ui.t("ahp_bad")
    )
    st.dataframe(
        pd.DataFrame(
            {"dimension": dimension_names, ui.t("weights_table"): np.round(result.weights, 4)}
        ),
        hide_index=True,
    )
    return full.tolist()


def scheme(key: str, default_weighting: str) -> dict | None:
    st.subheader(f"{ui.t('scheme')} {key}")
    params = {
        "normalisation": st.selectbox(ui.t("normalisation"), NORMALISATIONS, key=f"{key}_norm"),
        "weighting": st.selectbox(
            ui.t("weighting"),
            WEIGHTINGS,
            index=WEIGHTINGS.index(default_weighting),
            key=f"{key}_weight",
        ),
        "aggregation": st.selectbox(ui.t("aggregation"), AGGREGATIONS, key=f"{key}_agg"),
        "weight_level": st.selectbox(
            ui.t("weight_level"), WEIGHT_LEVELS, index=1, key=f"{key}_level"
        ),
    }
    if params["weighting"] in ("ahp", "bod"):
        params["weight_level"] = "dimension"
    if params["weighting"] == "ahp":
        matrix = ahp_editor(key)
        if matrix is None:
            return None
        params["ahp_matrix"] = matrix
    return params


left, right = st.columns(2)
with left:
    scheme_a = scheme("A", "instrument")
with right:
    scheme_b = scheme("B", "entropy")
st.caption(f"{ui.t('population')}: {ui.t('population_shipped')} ({len(population()):,})")

results = {}
for name, params in (("A", scheme_a), ("B", scheme_b)):
    if params is None:
        st.stop()
    try:
        results[name] = fitted(json.dumps(params, sort_keys=True))
    except ValueError as exc:
        st.error(f"{ui.t('scheme')} {name}: {ui.t('method_error')} {ui.literal(exc)}")
        st.stop()

comparison = compare_rankings(results["A"][1], results["B"][1])
st.header(ui.t("compare"))
cols = st.columns(4)
cols[0].metric(ui.t("spearman"), f"{comparison.spearman:.3f}")
cols[1].metric(ui.t("kendall"), f"{comparison.kendall:.3f}")
# the band of each scheme's own index: a level only when both schemes are official
band_label = ui.t("band_changes_lab") if comparison.indicative else ui.t("level_changes")
cols[2].metric(band_label, f"{comparison.band_changed:,} / {comparison.n:,}")
if comparison.tier_changed is not None:
    cols[3].metric(ui.t("tier_changes"), f"{comparison.tier_changed:,} / {comparison.n:,}")

st.subheader(ui.t("movers"))
st.dataframe(comparison.movers.head(15).round(2), hide_index=True, width="stretch")
left, right = st.columns(2)
left.markdown(f"**{band_label}** (A ↓ / B →)")
left.dataframe(comparison.bands, width="stretch")
if comparison.tiers is not None:
    right.markdown(f"**{ui.t('tier_changes')}** (A ↓ / B →)")
    right.dataframe(comparison.tiers, width="stretch")

cols = st.columns(2)
for col, name in zip(cols, ("A", "B")):
    ui.download(
        col,
        f"{ui.t('download_method')} · {name}",
        results[name][0].encode("utf-8"),
        f"dmi-method-{name}.json",
        key=f"download_method_{name}",
    )

# -- research references ----------------------------------------------------------------------
# references of other methods stored by an administrator: for research, never shown to companies
research = [
    (stored, found)
    for stored in ui.store().list_references(instrument.id)
    if (found := ui.reference_version(stored.version)) is not None and not found.is_official
]
st.header(ui.t("research_refs"))
if not research:
    st.write(ui.t("research_refs_none"))
for number, (stored, found) in enumerate(research):
    with st.expander(f"{stored.version} · {ui.describe_method(found)}"):
        st.json(found.summary(), expanded=1)
        st.download_button(
            ui.t("download_method"),
            json.dumps(found.index_model.to_dict(), ensure_ascii=False, indent=1).encode("utf-8"),
            f"dmi-method-{stored.version.split('@')[-1]}.json",
            "application/json",
            key=f"download_research_{number}",
            on_click="ignore",
        )

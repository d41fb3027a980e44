"""Researcher weights lab: a population (the shipped one or the researcher's own upload, read by
the library's readers, its rejects counted); every weighting method's weights side by side, the
effective weights and the reliability summary, and the ``dmi analyse`` HTML report of that
population (all from :func:`dmi.analysis.analyse`); two method schemes compared on it; an AHP
matrix with a live consistency ratio; the fitted method downloadable for ``dmi score --model``;
the stored research references. A scheme other than the official one has an indicative band,
never a level. Method choices are shown by name, in the page's language, each with one line on
what it does."""

from __future__ import annotations

import json
from pathlib import Path

import dmi_ui as ui
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dmi import IndexModel, load_instrument
from dmi.analysis import Population, analyse
from dmi.analysis.compare import compare_rankings
from dmi.analysis.text import localise
from dmi.io import FileFormatError, read_answers
from dmi.locales import text
from dmi.scoring.weighting import ahp
from dmi.service.reference import (
    METHOD_OPTIONS,
    method_help,
    method_label,
    reference_tables,
    shipped_reference_population,
)
from dmi.service.uploads import upload_folder
from dmi.tiers import TierModel

ui.require("researcher")
# the settings' names (the pickers' labels)
SETTING_NAMES = {
    "weighting": ui.t("weighting"),
    "normalisation": ui.t("normalisation"),
    "aggregation": ui.t("aggregation"),
    "weight_level": ui.t("weight_level"),
}
lang = ui.lang()
st.title(ui.t("nav_weights"))
st.write(text("admin.lab_intro", lang))

instrument = load_instrument(ui.DEFAULT_INSTRUMENT)
dimension_codes = [d.code for d in instrument.dimensions]
dimension_names = [ui.pick(d.zh, d.en) for d in instrument.dimensions]
node_names = {
    **{d.code: ui.pick(d.zh, d.en) for d in instrument.dimensions},
    **{i.code: ui.pick(i.zh, i.en) for d in instrument.dimensions for i in d.indicators},
}


# -- the population ------------------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def shipped_population() -> pd.DataFrame:
    return read_answers(shipped_reference_population(instrument), instrument)


def read_upload(upload) -> pd.DataFrame:
    """The uploaded answers, read by the library's reader from a private copy."""
    with upload_folder() as folder:
        path = folder / f"population{Path(upload.name).suffix.lower()}"
        path.write_bytes(upload.getbuffer())
        return read_answers(path, instrument)


st.header(text("admin.lab_population", lang))
sources = {
    "shipped": ui.t("population_shipped"),
    "upload": text("admin.lab_population_upload", lang),
}
source = st.radio(
    text("admin.lab_population", lang),
    list(sources),
    format_func=sources.__getitem__,
    horizontal=True,
    key="lab_source",
    label_visibility="collapsed",
)
answers, population_name = shipped_population(), sources["shipped"]
if source == "upload":
    upload = st.file_uploader(
        text("admin.lab_upload", lang), type=["csv", "xlsx", "parquet"], key="lab_file"
    )
    if upload is None:
        st.info(text("admin.lab_upload_needed", lang))
        st.stop()
    kept = st.session_state.get("lab_upload")
    if kept is None or kept[0] != upload.file_id:
        try:
            kept = (upload.file_id, read_upload(upload))
        except FileFormatError as exc:
            st.error(ui.file_error(exc, upload.name))
            st.stop()
        st.session_state["lab_upload"] = kept
    answers, population_name = kept[1], upload.name

population = Population.from_answers(instrument, answers)
rejected = population.n_read - population.n
(st.success if rejected == 0 else st.warning)(
    text(
        "admin.lab_counts",
        lang,
        name=ui.literal(population_name),
        read=f"{population.n_read:,}",
        valid=f"{population.n:,}",
        rejected=f"{rejected:,}",
    )
)
if rejected:
    with st.expander(text("admin.lab_rejects", lang, n=f"{rejected:,}")):
        st.dataframe(population.rejects, hide_index=True, width="stretch", key="lab_rejects")
        ui.download(
            st.container(),
            text("admin.lab_rejects_download", lang),
            population.rejects,
            "dmi-rejects.csv",
            key="lab_rejects_download",
        )
if population.n < 30:
    st.error(text("admin.lab_too_few", lang, n=population.n, min=30))
    st.stop()


# -- every method's weights, effective weights, reliability, the report -------------------------
def _share(value: float) -> float:
    return round(100 * float(value), 2)


def weights_table(analysis) -> pd.DataFrame:
    """Each method's weights (columns, by name) of each node (rows, by name), in %."""
    weights = analysis.comparison.weights
    table = pd.DataFrame(
        {
            text("admin.col_dimension", lang): [
                node_names[instrument_dimension[c]] for c in weights["code"]
            ],
            text("admin.col_node", lang): [node_names.get(c, c) for c in weights["code"]],
        }
    )
    for column in weights.columns[1:]:
        weighting = column.split(" ")[0]  # "bod (dimension level)": BoD's own level
        label = method_label("weighting", weighting, lang)
        if column != weighting:
            label = text("admin.lab_bod_dimension", lang, method=label)
        table[label] = [_share(v) for v in weights[column]]
    return table


instrument_dimension = {
    **{d.code: d.code for d in instrument.dimensions},
    **{i.code: d.code for d in instrument.dimensions for i in d.indicators},
}

st.header(text("admin.lab_methods", lang))
st.write(text("admin.lab_methods_intro", lang))
analysed = st.session_state.get("lab_analysis")
if analysed is not None and analysed[0] != population.data_hash:
    analysed = None
if st.button(text("admin.lab_analyse", lang), type="primary", key="lab_analyse"):
    with st.spinner(text("admin.lab_analysing", lang)):
        # the population and the method of `dmi analyse INPUT` (its default method)
        analysed = (population.data_hash, analyse(answers, instrument=instrument))
    st.session_state["lab_analysis"] = analysed

if analysed is not None:
    analysis = analysed[1]
    for part, reason in analysis.problems.items():
        st.warning(
            text(
                "admin.lab_not_computed",
                lang,
                part=text(f"analysis.part_{part}", lang),
                reason=ui.literal(localise(reason, lang)),
            )
        )
    if analysis.comparison is not None:
        table = weights_table(analysis)
        st.dataframe(table, hide_index=True, width="stretch", key="lab_weights")
        for weighting, reason in analysis.comparison.not_run.items():
            st.caption(
                text(
                    "admin.lab_not_run",
                    lang,
                    method=method_label("weighting", weighting, lang),
                    reason=ui.literal(localise(reason, lang)),
                )
            )
        figure = go.Figure(
            [
                go.Bar(name=column, x=table.iloc[:, 1], y=table[column])
                for column in table.columns[2:]
            ]
        )
        figure.update_layout(
            barmode="group",
            yaxis_title=text("admin.col_weight", lang),
            legend={"orientation": "h"},
            margin={"t": 10},
        )
        st.plotly_chart(figure, width="stretch", key="lab_weights_chart")

    if analysis.effective is not None:
        st.subheader(text("admin.lab_effective", lang))
        st.caption(text("admin.lab_effective_help", lang))
        effective = analysis.effective
        st.dataframe(
            pd.DataFrame(
                {
                    text("admin.col_level", lang): [
                        text(f"admin.node_{level}", lang) for level in effective["level"]
                    ],
                    text("admin.col_node", lang): [node_names.get(c, c) for c in effective["code"]],
                    text("admin.col_nominal", lang): [
                        _share(v) for v in effective["nominal_weight"]
                    ],
                    text("admin.col_effective", lang): [
                        _share(v) for v in effective["effective_share"]
                    ],
                    text("admin.col_correlation", lang): effective["correlation"].round(3),
                }
            ),
            hide_index=True,
            width="stretch",
            key="lab_effective",
        )

    if analysis.reliability is not None:
        st.subheader(text("admin.lab_reliability", lang))
        summary = analysis.reliability.table()
        st.dataframe(
            pd.DataFrame(
                {
                    text("admin.col_dimension", lang): [
                        node_names.get(c, c) for c in summary["dimension"]
                    ],
                    text("admin.col_items", lang): summary["items"],
                    text("admin.col_n", lang): summary["n"],
                    "Cronbach α": summary["alpha"].astype(float).round(3),
                    text("admin.col_alpha_ci", lang): [
                        "-" if pd.isna(low) else f"{low:.3f} – {high:.3f}"
                        for low, high in zip(summary["alpha_ci_low"], summary["alpha_ci_high"])
                    ],
                    "KMO": summary["kmo"].astype(float).round(3),
                    text("admin.col_bartlett_p", lang): summary["bartlett_p"].astype(float),
                }
            ),
            hide_index=True,
            width="stretch",
            key="lab_reliability",
        )
        flags = len(analysis.reliability.flags)
        st.caption(text("admin.lab_flags", lang, n=flags))

    ui.download(
        st.container(),
        text("admin.lab_report", lang),
        lambda: analysis.to_html(lang).encode("utf-8"),
        "dmi-analysis.html",
        key="lab_report",
    )
    st.caption(text("admin.lab_report_help", lang))


# -- two schemes compared -----------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def fitted(
    params_json: str, population_key: str, _answers: pd.DataFrame
) -> tuple[str, pd.DataFrame]:
    """Fit a scheme on the population; its model JSON and scores with tiers (cached by the
    scheme and the population's data hash)."""
    params = json.loads(params_json)
    model = IndexModel(instrument, **params)
    model.fit(_answers if model.needs_data() else None)
    scores = model.score_batch(_answers).scores
    tiers = TierModel(
        n_tiers=len(instrument.tiers) or 4, random_state=20241, n_bootstrap=0, instrument=instrument
    ).fit(scores)
    scores = scores.assign(tier=tiers.predict(scores))
    return json.dumps(model.to_dict(), ensure_ascii=False, indent=1), scores


def ahp_editor(key: str) -> list[list[float]] | None:
    st.markdown(f"**{ui.t('ahp_matrix')}**")
    start = pd.DataFrame(
        np.ones((len(dimension_codes),) * 2), index=dimension_names, columns=dimension_names
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
            {
                text("admin.col_dimension", lang): dimension_names,
                ui.t("weights_table"): np.round(result.weights, 4),
            }
        ),
        hide_index=True,
    )
    return full.tolist()


def choice(kind: str, key: str, default: str | None = None) -> str:
    """A picker of a method setting: its choices by name, and one line on the one chosen."""
    options = list(METHOD_OPTIONS[kind])
    chosen = st.selectbox(
        SETTING_NAMES[kind],
        options,
        format_func=lambda option: method_label(kind, option, lang),
        key=ui.shown_anew(key, default or options[0], options),
    )
    st.caption(method_help(kind, chosen, lang))
    return chosen


def scheme(key: str, default_weighting: str) -> dict | None:
    st.subheader(f"{ui.t('scheme')} {key}")
    params = {
        "normalisation": choice("normalisation", f"{key}_norm"),
        "weighting": choice("weighting", f"{key}_weight", default_weighting),
        "aggregation": choice("aggregation", f"{key}_agg"),
        "weight_level": choice("weight_level", f"{key}_level", "indicator"),
    }
    if params["weighting"] in ("ahp", "bod"):
        params["weight_level"] = "dimension"
    if params["weighting"] == "ahp":
        matrix = ahp_editor(key)
        if matrix is None:
            return None
        params["ahp_matrix"] = matrix
    return params


st.header(text("admin.lab_two_schemes", lang))
st.write(ui.t("lab_intro"))
left, right = st.columns(2)
with left:
    scheme_a = scheme("A", "instrument")
with right:
    scheme_b = scheme("B", "entropy")
st.caption(f"{ui.t('population')}: {ui.literal(population_name)} ({population.n:,})")

results = {}
for name, params in (("A", scheme_a), ("B", scheme_b)):
    if params is None:
        st.stop()
    try:
        results[name] = fitted(json.dumps(params, sort_keys=True), population.data_hash, answers)
    except ValueError as exc:
        st.error(f"{ui.t('scheme')} {name}: {ui.t('method_error')} {ui.literal(exc)}")
        st.stop()

comparison = compare_rankings(results["A"][1], results["B"][1])
st.subheader(ui.t("compare"))
cols = st.columns(4)
# an undefined correlation (a scheme ranks every company the same) is a dash, with the reason
rho, tau = comparison.spearman, comparison.kendall
cols[0].metric(ui.t("spearman"), f"{rho:.3f}" if rho == rho else "—")
cols[1].metric(ui.t("kendall"), f"{tau:.3f}" if tau == tau else "—")
if comparison.correlation_note:
    st.caption(localise(comparison.correlation_note, lang))
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
        tables = reference_tables(found, lang)
        st.dataframe(tables["method"], hide_index=True, width="stretch")
        st.dataframe(tables["dimensions"], hide_index=True, width="stretch")
        ui.download(
            st.container(),
            ui.t("download_method"),
            json.dumps(found.index_model.to_dict(), ensure_ascii=False, indent=1).encode("utf-8"),
            f"dmi-method-{stored.version.split('@')[-1]}.json",
            key=f"download_research_{number}",
        )

"""Administration of the reference model: what is published, refit from stored submissions or a
file, review what would change, publish. Earlier results keep the version that made them."""

from __future__ import annotations

from pathlib import Path

import dmi_ui as ui
import pandas as pd
import streamlit as st

from dmi import load_instrument
from dmi.io import FileFormatError, read_answers
from dmi.reference import (
    compare_references,
    fit_reference,
    shipped_reference_population,
)
from dmi.scoring import NORMALISATIONS, WEIGHTINGS
from dmi.scoring.aggregate import AGGREGATIONS
from dmi.uploads import upload_folder

MIN_COMPANIES = 30

who = ui.require("admin")
st.title(ui.t("nav_admin_ref"))
st.write(ui.t("admin_intro"))

instrument = load_instrument(ui.DEFAULT_INSTRUMENT)
db = ui.store()
current = ui.reference(instrument.id)

if "admin_published" in st.session_state:
    st.success(ui.t("published", version=st.session_state.pop("admin_published")))
st.header(ui.t("current_ref"))
st.json(current.summary(), expanded=1)

st.subheader(ui.t("all_refs"))
stored = db.list_references(instrument.id)
st.dataframe(
    pd.DataFrame(
        [
            {
                "version": r.version,
                "current": "✓" if r.is_current else "",
                "created": f"{r.created_at:%Y-%m-%d %H:%M}",
                "published": "" if r.published_at is None else f"{r.published_at:%Y-%m-%d %H:%M}",
                "companies": r.n_companies,
                "source": r.source,
                "by": r.created_by,
            }
            for r in stored
        ]
    ),
    hide_index=True,
    width="stretch",
)

st.header(ui.t("refit"))
n_stored = db.count_submissions(instrument.id)
sources = {
    "submissions": ui.t("from_submissions", n=n_stored),
    "upload": ui.t("from_upload"),
    "shipped": ui.t("from_shipped"),
}
source = st.radio(
    ui.t("refit_source"), list(sources), format_func=sources.__getitem__, key="admin_source"
)
upload = None
if source == "upload":
    upload = st.file_uploader(ui.t("upload"), type=["csv", "xlsx", "parquet"], key="admin_file")
cols = st.columns(4)
weighting = cols[0].selectbox(
    ui.t("weighting"), [w for w in WEIGHTINGS if w != "ahp"], key="admin_weighting"
)
normalisation = cols[1].selectbox(ui.t("normalisation"), NORMALISATIONS, key="admin_norm")
aggregation = cols[2].selectbox(ui.t("aggregation"), AGGREGATIONS, key="admin_agg")
n_tiers = cols[3].number_input(
    ui.t("tier"), min_value=2, max_value=8, value=len(instrument.tiers) or 4, key="admin_tiers"
)


def load_population() -> tuple[pd.DataFrame, str]:
    if source == "submissions":
        return db.latest_answers(instrument.id), f"stored submissions ({n_stored})"
    if source == "shipped":
        return read_answers(shipped_reference_population(instrument), instrument), (
            "shipped: data/reference-population.csv (synthetic)"
        )
    if upload is None:
        raise FileFormatError(ui.t("upload"))
    # read whole into memory while the run's private folder exists; it goes when the run ends
    with upload_folder() as folder:
        path = folder / f"population{Path(upload.name).suffix.lower()}"
        path.write_bytes(upload.getbuffer())
        return read_answers(path, instrument), f"upload: {upload.name}"


if st.button(ui.t("fit"), type="primary", key="admin_fit"):
    try:
        answers, label = load_population()
        if len(answers) < MIN_COMPANIES:
            st.error(ui.t("too_few", n=len(answers), min=MIN_COMPANIES))
            st.stop()
        with st.spinner(ui.t("fit")):
            candidate = fit_reference(
                instrument,
                answers,
                weighting=weighting,
                normalisation=normalisation,
                aggregation=aggregation,
                weight_level="dimension" if weighting == "bod" else "indicator",
                n_tiers=int(n_tiers),
                source=label,
            )
            change = compare_references(current, candidate, answers)
    except FileFormatError as exc:  # only an upload can be unreadable, or missing
        st.error(ui.t("upload") if upload is None else ui.file_error(exc, upload.name))
        st.stop()
    except ValueError as exc:
        st.error(f"{ui.t('method_error')} {ui.literal(exc)}")
        st.stop()
    version = db.add_reference(candidate, created_by=who.name)
    st.session_state["admin_candidate"] = (version, candidate.summary(), change)

if "admin_candidate" in st.session_state:
    version, summary, change = st.session_state["admin_candidate"]
    st.subheader(f"{ui.t('review')}: {version}")
    st.json(summary, expanded=1)
    st.markdown(f"**{ui.t('what_changed')}**")
    cols = st.columns(4)
    cols[0].metric(ui.t("spearman"), f"{change.spearman:.3f}")
    cols[1].metric(ui.t("level_changes"), f"{change.level_changed:,} / {change.n_compared:,}")
    if change.tier_changed is not None:
        cols[2].metric(ui.t("tier_changes"), f"{change.tier_changed:,} / {change.n_compared:,}")
    cols[3].metric(
        "|Δ index| mean / max",
        f"{change.mean_abs_index_change:.2f} / {change.max_abs_index_change:.2f}",
    )
    st.dataframe(
        pd.DataFrame(
            [
                {"node": k, "before": round(a, 4), "after": round(b, 4)}
                for k, (a, b) in change.weight_changes.items()
            ]
        ),
        hide_index=True,
    )
    if st.button(ui.t("publish"), key="admin_publish"):
        db.publish(version)
        st.session_state.pop("admin_candidate")
        st.session_state["admin_published"] = version
        st.rerun()

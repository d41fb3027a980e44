"""Administration of the reference model: what is published, refit from stored submissions or a
file, review what would change, publish after a confirmation that says what changes. Only a
reference of the official method is published to companies (their index and level are always the
official ones); another method is stored as a research reference. Earlier results keep the version
that made them."""

from __future__ import annotations

import json
from pathlib import Path

import dmi_ui as ui
import pandas as pd
import streamlit as st

from dmi import load_instrument
from dmi.io import FileFormatError, read_answers
from dmi.locales import text
from dmi.service.reference import (
    METHOD_OPTIONS,
    Reference,
    change_tables,
    compare_references,
    fit_reference,
    method_help,
    method_label,
    reference_tables,
    shipped_reference_population,
    source_label,
)
from dmi.service.uploads import upload_folder

MIN_COMPANIES = 30


def show_reference(ref: Reference, key: str) -> None:
    """The reference as tables (method, weights, tiers); its JSON only as a download."""
    tables = reference_tables(ref, ui.lang())
    left, right = st.columns([2, 3])
    left.markdown(f"**{text('admin.ref_method', ui.lang())}**")
    left.dataframe(tables["method"], hide_index=True, width="stretch", key=f"{key}_method")
    right.markdown(f"**{text('admin.ref_dimension_weights', ui.lang())}**")
    right.dataframe(tables["dimensions"], hide_index=True, width="stretch", key=f"{key}_dims")
    right.markdown(f"**{text('admin.ref_tiers', ui.lang())}**")
    if "tiers" in tables:
        right.dataframe(tables["tiers"], hide_index=True, width="stretch", key=f"{key}_tiers")
        right.caption(text("admin.ref_tiers_note", ui.lang()))
    else:
        right.write(text("admin.ref_no_tiers", ui.lang()))
    with st.expander(text("admin.ref_item_weights", ui.lang())):
        st.dataframe(tables["items"], hide_index=True, width="stretch", key=f"{key}_items")
    ui.download(
        left,
        text("admin.ref_download", ui.lang()),
        json.dumps(ref.to_dict(), ensure_ascii=False, indent=1).encode("utf-8"),
        f"dmi-reference-{ref.version.split('@')[-1]}.json",
        key=f"{key}_download",
    )


def choice(kind: str, key: str, where, options=None, **kwargs):
    """A picker of a method setting, its choices labelled in the page's language."""
    options = list(options or METHOD_OPTIONS[kind])
    lang = ui.lang()  # bound now: the labels are made again outside the page's run (tests)
    chosen = where.selectbox(
        SETTING_NAMES[kind],
        options,
        format_func=lambda o: method_label(kind, o, lang),
        key=ui.shown_anew(key, options[0], options),
        **kwargs,
    )
    where.caption(method_help(kind, chosen, lang))
    return chosen


who = ui.require("admin")
# the settings' names (the pickers' labels)
SETTING_NAMES = {
    "weighting": ui.t("weighting"),
    "normalisation": ui.t("normalisation"),
    "aggregation": ui.t("aggregation"),
    "weight_level": ui.t("weight_level"),
}
st.title(ui.t("nav_admin_ref"))
st.write(ui.t("admin_intro"))

instrument = load_instrument(ui.DEFAULT_INSTRUMENT)
db = ui.store()
current = ui.reference(instrument.id)

if "admin_done" in st.session_state:
    st.success(st.session_state.pop("admin_done"))
st.header(ui.t("current_ref"))
show_reference(current, "current")

st.subheader(ui.t("all_refs"))
stored = db.list_references(instrument.id)
lang = ui.lang()
st.dataframe(
    pd.DataFrame(
        [
            {
                text("admin.row_version", lang): r.version,
                text("admin.col_current", lang): "✓" if r.is_current else "",
                text("admin.row_use", lang): ui.describe_method(
                    ui.reference_version(r.version) or current
                ),
                text("admin.row_created", lang): f"{r.created_at:%Y-%m-%d %H:%M}",
                text("admin.col_published", lang): (
                    "" if r.published_at is None else f"{r.published_at:%Y-%m-%d %H:%M}"
                ),
                text("admin.row_companies", lang): r.n_companies,
                text("admin.row_source", lang): source_label(r.source, lang),
                text("admin.col_by", lang): r.created_by,
            }
            for r in stored
        ]
    ),
    hide_index=True,
    width="stretch",
    key="all_versions",
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
weighting = choice(
    "weighting",
    "admin_weighting",
    cols[0],
    [w for w in METHOD_OPTIONS["weighting"] if w != "ahp"],
)
normalisation = choice("normalisation", "admin_norm", cols[1])
aggregation = choice("aggregation", "admin_agg", cols[2])
n_tiers = cols[3].number_input(
    ui.t("tier"), min_value=2, max_value=8, value=len(instrument.tiers) or 4, key="admin_tiers"
)


def load_population() -> tuple[pd.DataFrame, str]:
    if source == "submissions":
        return db.latest_answers(instrument.id), f"stored submissions ({n_stored})"
    if source == "shipped":
        return read_answers(shipped_reference_population(instrument), instrument), (
            "shipped: the synthetic reference population (instruments/data/reference)"
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
    # nothing is stored before the confirmation below
    st.session_state["admin_candidate"] = (candidate, change)
    st.session_state.pop("admin_confirming", None)

if "admin_candidate" in st.session_state:
    candidate, change = st.session_state["admin_candidate"]
    version = candidate.version
    st.subheader(f"{ui.t('review')}: {version}")
    show_reference(candidate, "candidate")
    st.subheader(ui.t("what_changed"))
    changes = change_tables(current, candidate, change, ui.lang())
    left, right = st.columns(2)
    left.markdown(f"**{text('admin.change_summary', ui.lang())}**")
    left.dataframe(changes["summary"], hide_index=True, width="stretch", key="change_summary")
    right.markdown(f"**{text('admin.change_cutoffs', ui.lang())}**")
    right.dataframe(changes["cutoffs"], hide_index=True, width="stretch", key="change_cutoffs")
    left, right = st.columns(2)
    left.markdown(f"**{text('admin.change_bands', ui.lang())}**")
    left.dataframe(changes["bands"], hide_index=True, width="stretch", key="change_bands")
    if "tiers" in changes:
        right.markdown(f"**{text('admin.change_tiers', ui.lang())}**")
        right.dataframe(changes["tiers"], hide_index=True, width="stretch", key="change_tiers")
    st.markdown(f"**{text('admin.change_weights', ui.lang())}**")
    st.dataframe(changes["weights"], hide_index=True, width="stretch", key="change_weights")
    tiers = (
        ui.t("tiers_none")
        if change.tier_changed is None
        else ui.t("tiers_change", n=change.tier_changed, total=change.n_compared)
    )
    if change.official:
        # the index is the official one either way: say so, and what does change
        what = ui.t(
            "official_changes",
            tiers=tiers,
            source=candidate.source,
            companies=candidate.n_companies,
        )
        st.info(what)
        action, confirm = ui.t("publish"), ui.t("confirm_publish", version=version, what=what)
    else:
        what = ui.t(
            "research_only",
            method=ui.describe_method(candidate),
            mean=f"{change.mean_abs_index_change:.2f}",
            max=f"{change.max_abs_index_change:.2f}",
            bands=change.band_changed,
            total=change.n_compared,
        )
        st.warning(what)
        action = ui.t("store_research")
        confirm = ui.t("confirm_research", version=version, current=current.version)
    if st.button(action, key="admin_publish"):
        st.session_state["admin_confirming"] = version
    if st.session_state.get("admin_confirming") == version:
        st.warning(confirm)
        left, right = st.columns(2)
        if left.button(ui.t("confirm"), type="primary", key="admin_confirm"):
            db.add_reference(candidate, created_by=who.name)
            if candidate.is_official:
                db.publish(version)
                done = ui.t("published", version=version)
            else:
                done = ui.t("stored_research", version=version, current=current.version)
            for name in ("admin_candidate", "admin_confirming"):
                st.session_state.pop(name, None)
            st.session_state["admin_done"] = done
            st.rerun()
        if right.button(ui.t("cancel"), key="admin_cancel"):
            st.session_state.pop("admin_confirming", None)
            st.rerun()

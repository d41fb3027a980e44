"""Agency bulk import: upload, the column mapping (matched, then edited), scoring with the
library's own ``score_file`` (the same as ``dmi score``), reconciliation, missing answers,
rejects, charts and downloads, every text in the page's language (dmi.service.bulkview)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import NoReturn

import dmi_ui as ui
import pandas as pd
import streamlit as st
from dmi_ui import text

from dmi import available_instruments, load_instrument
from dmi.bulk.cohort import distribution
from dmi.bulk.run import DUPLICATE_POLICIES, ReconciliationError, score_file
from dmi.io import FileFormatError, csv_bytes, find_header_row
from dmi.service import bulkview
from dmi.service.dashboard import histogram
from dmi.service.uploads import upload_folder

FILE_ERRORS = (FileFormatError, ValueError)  # a decoding error is a ValueError too

ui.require("agency")
lang = ui.lang()
st.title(ui.t("nav_bulk"))
whats = {w: text(f"ladder_bulk.what_{w}") for w in ("index", "ladder")}
what = st.radio(
    text("ladder_bulk.what"),
    list(whats),
    format_func=whats.__getitem__,
    horizontal=True,
    key="bulk_what",
)
# firm facts on the 梯度培育 ladder: the page's second half (app/bulk_ladder.py)
if what == "ladder":
    import bulk_ladder

    bulk_ladder.page(lang)
    st.stop()
st.write(ui.t("bulk_intro"))

instruments = available_instruments()
default = ui.DEFAULT_INSTRUMENT if ui.DEFAULT_INSTRUMENT in instruments else instruments[0]
instrument_id = st.selectbox(
    ui.t("instrument"),
    instruments,
    format_func={i: load_instrument(i).title.get(lang) for i in instruments}.__getitem__,
    key=ui.shown_anew("bulk_instrument", default, instruments),
)
instrument = load_instrument(instrument_id)
encodings = {"": ui.t("auto"), "utf-8": "UTF-8", "gb18030": "GB18030 / GBK"}
encoding = (
    st.selectbox(
        ui.t("encoding"),
        list(encodings),
        format_func=encodings.__getitem__,
        key=ui.shown_anew("bulk_encoding", "", list(encodings)),
    )
    or None
)
policies = {p: text(f"agency.policy_{p.replace('-', '_')}") for p in DUPLICATE_POLICIES}
policy = st.radio(
    text("agency.duplicates"),
    list(policies),
    format_func=policies.__getitem__,
    horizontal=True,
    help=text("agency.duplicates_help"),
    key="bulk_duplicates",
)
upload = ui.table_uploader("bulk_file")
# back from another page, the browser has dropped the upload with its widget: the last run is
# shown again, with the upload it read (kept for the readable download's company names)
last_run = upload is None
if last_run:
    if "bulk_result" not in st.session_state or "bulk_last_upload" not in st.session_state:
        st.stop()
    upload = st.session_state["bulk_last_upload"]

# the library reads files by path: each run that reads the upload writes it to a private folder
# of its own, removed when the run ends (dmi.service.uploads); errors name the file as uploaded
if st.session_state.get("bulk_upload") != (upload.file_id, encoding, instrument_id):
    st.session_state["bulk_upload"] = (upload.file_id, encoding, instrument_id)
    for stale in ("bulk_file_info", "bulk_file_edited", "bulk_result"):
        st.session_state.pop(stale, None)
if last_run:  # unless a choice made since asks for another run
    if "bulk_result" not in st.session_state:
        st.stop()
    st.info(text("ladder_bulk.last_run", name=ui.literal(upload.name)))


def staged(folder: Path) -> Path:
    """The upload as a file in a run's folder."""
    return ui.staged_upload(upload, folder)


def refuse(exc: Exception) -> NoReturn:
    st.error(ui.file_error(exc, upload.name))
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


if "bulk_file_info" not in st.session_state:
    with upload_folder() as folder:
        try:
            path = staged(folder)
            header_row = find_header_row(path, instrument)  # below title rows, in XLSX
            # read as the run reads it: a survey tool's export by its layout
            found = bulkview.file_mapping(
                path, instrument, encoding=encoding, header_row=header_row
            )
        except FILE_ERRORS as exc:
            refuse(exc)
    st.session_state["bulk_file_info"] = (found, header_row)
found, header_row = st.session_state["bulk_file_info"]
sheet = found.sheet
if sheet is not None:
    st.caption(ui.t("sheet_read", sheet=ui.literal(sheet)))
if header_row > 1:
    st.info(text("agency.header_row", row=header_row, titles=header_row - 1))

if not last_run:  # the mapping and the run: for an upload in the browser
    st.subheader(ui.t("mapping"))
    st.caption(text("agency.mapping_help"))
    auto = found.mapping  # matched by codes, question texts and aliases, or the layout
    table = bulkview.mapping_table(found.headers, auto, instrument, lang, found.uses)
    editor_key = f"bulk_mapping_{upload.file_id}_{lang}"
    # the edits are known before the editor is drawn: it says how each column is read with them
    custom = bulkview.edited_mapping(ui.edited_table(table, editor_key), instrument, lang, auto)
    current, refused = found, None
    if custom:  # the file read again with the edits, as the run will read it: once per edit,
        # not on every rerun of the page
        edits = tuple(sorted(custom.items()))
        read_with = st.session_state.get("bulk_file_edited")
        if read_with is not None and read_with[0] == edits:
            current = read_with[1]
        else:
            with upload_folder() as folder:
                try:
                    current = bulkview.file_mapping(
                        staged(folder), instrument, custom, encoding=encoding, header_row=header_row
                    )
                    st.session_state["bulk_file_edited"] = (edits, current)
                except FILE_ERRORS as exc:  # said below the editor, where the edit is undone
                    refused = exc
    table["how"] = bulkview.how_read(table["header"], current.mapping, lang, current.uses)
    st.data_editor(
        table,
        column_config={
            "header": st.column_config.TextColumn(text("agency.file_column"), disabled=True),
            "column": st.column_config.SelectboxColumn(
                text("agency.instrument_column"),
                options=bulkview.mapping_choices(instrument, lang),
                required=True,
                width="large",
            ),
            "how": st.column_config.TextColumn(text("agency.mapping_how"), disabled=True),
        },
        hide_index=True,
        width="stretch",
        key=editor_key,
    )
    if refused is not None:
        refuse(refused)
    mapping, headers = current.mapping, current.headers
    names = bulkview.column_labels(instrument, lang)
    st.caption(f"{ui.t('mapped')}: {len(mapping.rename)} / {len(headers)}")
    cols = st.columns(2)
    cols[0].markdown(f"**{ui.t('unmatched')}** ({len(mapping.unmatched)})")
    # the file's own headers: shown as the text they are
    cols[0].markdown(
        ui.literal("、".join(mapping.unmatched) if lang == "zh" else ", ".join(mapping.unmatched))
        or "—"
    )
    cols[1].markdown(f"**{ui.t('missing_items')}** ({len(mapping.missing_items)})")
    missing = [names[c] for c in mapping.missing_items]
    cols[1].markdown(ui.literal("；".join(missing) if lang == "zh" else "; ".join(missing)) or "—")
    if mapping.id_header is None:
        st.warning(text("agency.no_id_column"))
    no_items = mapping.matched_items == 0 or not set(mapping.rename.values()) & set(
        i.code for i in instrument.items
    )
    if no_items:
        st.error(
            ui.t(
                "file_no_items", name=ui.literal(upload.name), instrument=instrument.title.get(lang)
            )
        )

    if st.button(ui.t("score_file"), type="primary", key="bulk_score", disabled=no_items):
        reference = ui.reference(instrument_id)
        bar = st.progress(0.0)
        rows_estimate = max(
            1, upload.size // 200
        )  # about 200 bytes a row: the bar needs a pace only

        def progress(done: int) -> None:
            bar.progress(min(done / rows_estimate, 1.0), text=ui.t("rows_read", n=f"{done:,}"))

        with upload_folder() as folder:
            outputs = {name: folder / f"{name}.csv" for name in ("scores", "rejects", "cohort")}
            source = staged(folder)
            try:
                summary, used = score_file(
                    source,
                    outputs["scores"],
                    reference.index_model,
                    rejects_path=outputs["rejects"],
                    encoding=encoding,
                    column_map=custom,
                    progress=progress,
                    tier_model=reference.tier_model,
                    duplicates=policy,
                    cohort_path=outputs["cohort"],
                    header_row=header_row,
                )
            except FILE_ERRORS as exc:
                refuse(exc)
            except ReconciliationError as exc:  # a bug in dmi: said plainly, nothing offered
                done = exc.summary
                line = ui.t("reconcile", read=done.read, scored=done.scored, rejected=done.rejected)
                st.error(ui.t("internal_error", line=line))
                st.stop()
            # what the page shows and offers is kept with the session; the folder goes
            files = {name: path.read_bytes() for name, path in outputs.items()}
        scores = pd.read_csv(
            io.BytesIO(files["scores"]),
            dtype={"respondent_id": str, "sector": str, "region": str, "size_class": str},
            keep_default_na=False,
            na_values={"dmi": [""], "level": [""], "tier": [""]},
        )
        rejects = pd.read_csv(io.BytesIO(files["rejects"]), dtype=str, keep_default_na=False)
        bar.progress(1.0, text=ui.t("rows_read", n=f"{summary.read:,}"))
        st.session_state["bulk_result"] = (
            summary,
            files,
            reference.version,
            scores,
            rejects,
            used,
        )
        st.session_state["bulk_last_upload"] = upload

if "bulk_result" not in st.session_state:
    st.stop()
summary, files, version, scores, rejects, used = st.session_state["bulk_result"]
line = ui.t("reconcile", read=summary.read, scored=summary.scored, rejected=summary.rejected)
(st.success if summary.reconciles else st.error)(line)
st.caption(ui.t("reference_used", version=version))
st.caption(text(f"agency.duplicates_used_{summary.duplicates.replace('-', '_')}"))
for note in summary.notes:  # what the reader had to decide (an encoding it changed, say)
    st.info(ui.literal(bulkview.note_text(note, lang)))

imputed, excluded = sum(summary.imputed.values()), sum(summary.excluded.values())
if imputed or excluded:
    st.subheader(text("agency.missing_title"))
    st.write(text("agency.missing_line", imputed=imputed, excluded=excluded))
    st.dataframe(
        bulkview.missing_answers(summary.imputed, summary.excluded, instrument, lang),
        hide_index=True,
        width="stretch",
    )

if summary.rejected:
    st.subheader(ui.t("rejects"))
    st.dataframe(
        bulkview.reasons_table(summary.rejected_rows_by_reason, lang),
        hide_index=True,
        width="stretch",
    )
    if len(rejects) > 1000:
        st.caption(text("agency.rejects_first", n=1000, total=len(rejects)))
    st.dataframe(
        bulkview.named_rejects(rejects.head(1000), instrument, lang),
        hide_index=True,
        width="stretch",
        height=240,
    )

if summary.scored:
    st.subheader(ui.t("distribution"))
    charts = st.columns(2)
    with charts[0]:
        st.markdown(f"**{text('agency.chart_levels')}**")
        levels = bulkview.level_counts(summary.levels, instrument, lang)
        st.bar_chart(levels, x=levels.columns[0], y=levels.columns[1], sort=False)
    with charts[1]:
        st.markdown(f"**{text('agency.chart_index')}**")
        bands = histogram(scores["dmi"])
        shown = pd.DataFrame(
            {
                text("agency.col_dmi_band"): bands["band"],
                text("agency.col_companies"): bands["companies"],
            }
        )
        st.bar_chart(shown, x=shown.columns[0], y=shown.columns[1], sort=False)
    tabs = st.tabs([ui.t("by_region"), ui.t("by_sector")])
    for tab, by in zip(tabs, ("region", "sector")):
        if by not in scores.columns:
            continue
        with tab:
            for of in ("level", "tier"):
                if of not in scores.columns:
                    continue
                counted = distribution(scores.replace({by: {"": None}}), by, of)
                named = bulkview.named_distribution(counted, by, of, instrument, lang)
                st.markdown(f"**{text(f'agency.group_{of}')}**")
                ui.stacked_bars(named.iloc[:, :-1])
                st.dataframe(named, width="stretch")

# the files score_file wrote keep the codes (they can be read again); the readable ones name
# everything; text a spreadsheet would run as a formula is escaped in all of them
st.subheader(text("agency.downloads"))
cols = st.columns(2)


def named_scores() -> bytes:
    """The scores for people, made when asked for (a million rows take some seconds): the
    company names are read again from the upload, which the session keeps."""
    with upload_folder() as folder:
        companies = bulkview.company_names(
            staged(folder),
            used,
            encoding=encoding,
            header_row=header_row,
            duplicates=summary.duplicates,
        )
    return csv_bytes(bulkview.named_scores(scores, instrument, lang, companies))


ui.download(
    cols[0],
    text("agency.download_scores_named"),
    named_scores,
    f"dmi-scores-{lang}.csv",
    key="download_scores_named",
)
ui.download(
    cols[1],
    text("agency.download_rejects_named"),
    lambda: csv_bytes(bulkview.named_rejects(rejects, instrument, lang)),
    f"dmi-rejects-{lang}.csv",
    key="download_rejects_named",
)
cols = st.columns(3)
for col, name in zip(cols, ("scores", "rejects", "cohort")):
    label = ui.t(f"download_{name}") + text("agency.codes_suffix")
    ui.download(col, label, files[name], f"dmi-{name}.csv", key=f"download_{name}")

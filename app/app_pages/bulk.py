"""Agency bulk import: upload, column mapping preview, scoring with the library's own
``score_file`` (the same as ``dmi score``), reconciliation, rejects, distributions, downloads."""

from __future__ import annotations

import io
from pathlib import Path
from typing import NoReturn

import dmi_ui as ui
import pandas as pd
import streamlit as st

from dmi import available_instruments, load_instrument
from dmi.bulk.cohort import distribution
from dmi.bulk.run import ReconciliationError, score_file
from dmi.io import FileFormatError, map_columns, open_table, require_item_columns
from dmi.service.uploads import upload_folder

FILE_ERRORS = (FileFormatError, ValueError)  # a decoding error is a ValueError too

ui.require("agency")
st.title(ui.t("nav_bulk"))
st.write(ui.t("bulk_intro"))

instruments = available_instruments()
instrument_id = st.selectbox(
    ui.t("instrument"),
    instruments,
    index=instruments.index(ui.DEFAULT_INSTRUMENT) if ui.DEFAULT_INSTRUMENT in instruments else 0,
    key="bulk_instrument",
)
instrument = load_instrument(instrument_id)
encodings = {"": ui.t("auto"), "utf-8": "UTF-8", "gb18030": "GB18030 / GBK"}
encoding = (
    st.selectbox(
        ui.t("encoding"), list(encodings), format_func=encodings.__getitem__, key="bulk_encoding"
    )
    or None
)
upload = st.file_uploader(ui.t("upload"), type=["csv", "txt", "xlsx", "parquet"], key="bulk_file")
if upload is None:
    st.stop()

# the library reads files by path: each run that reads the upload writes it to a private folder
# of its own, removed when the run ends (dmi.service.uploads); errors name the file as uploaded
if st.session_state.get("bulk_upload") != (upload.file_id, encoding, instrument_id):
    st.session_state["bulk_upload"] = (upload.file_id, encoding, instrument_id)
    for stale in ("bulk_mapping", "bulk_result"):
        st.session_state.pop(stale, None)


def staged(folder: Path) -> Path:
    """The upload as a file in a run's folder."""
    source = folder / f"upload{Path(upload.name).suffix.lower() or '.csv'}"
    source.write_bytes(upload.getbuffer())
    return source


def refuse(exc: Exception) -> NoReturn:
    st.error(ui.file_error(exc, upload.name))
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


if "bulk_mapping" not in st.session_state:
    with upload_folder() as folder:
        try:
            reader = open_table(staged(folder), encoding=encoding)
        except FILE_ERRORS as exc:
            refuse(exc)
    st.session_state["bulk_mapping"] = map_columns(instrument, reader.columns)
mapping = st.session_state["bulk_mapping"]

st.subheader(ui.t("mapping"))
cols = st.columns(3)
cols[0].markdown(f"**{ui.t('mapped')}** ({len(mapping.rename)})")
cols[0].dataframe(
    pd.DataFrame({"column": list(mapping.rename), "→": list(mapping.rename.values())}),
    hide_index=True,
    width="stretch",
    height=200,
)
cols[1].markdown(f"**{ui.t('unmatched')}** ({len(mapping.unmatched)})")
# the file's own headers: shown as the text they are
cols[1].markdown(ui.literal(", ".join(mapping.unmatched)) or "—")
cols[2].markdown(f"**{ui.t('missing_items')}** ({len(mapping.missing_items)})")
cols[2].markdown(ui.literal(", ".join(mapping.missing_items)) or "—")
try:
    require_item_columns(mapping, instrument, upload.name)
except FileFormatError as exc:
    refuse(exc)

if st.button(ui.t("score_file"), type="primary", key="bulk_score"):
    reference = ui.reference(instrument_id)
    bar = st.progress(0.0)
    rows_estimate = max(1, upload.size // 200)  # about 200 bytes a row: the bar needs a pace only

    def progress(done: int) -> None:
        bar.progress(min(done / rows_estimate, 1.0), text=ui.t("rows_read", n=f"{done:,}"))

    with upload_folder() as folder:
        outputs = {name: folder / f"{name}.csv" for name in ("scores", "rejects", "cohort")}
        try:
            summary, _ = score_file(
                staged(folder),
                outputs["scores"],
                reference.index_model,
                rejects_path=outputs["rejects"],
                encoding=encoding,
                progress=progress,
                tier_model=reference.tier_model,
                cohort_path=outputs["cohort"],
            )
        except FILE_ERRORS as exc:
            refuse(exc)
        except ReconciliationError as exc:  # a bug in dmi: said plainly, nothing offered
            st.error(ui.t("internal_error", line=ui.literal(exc.summary.line())))
            st.stop()
        # what the page shows and offers is kept with the session; the folder goes
        files = {name: path.read_bytes() for name, path in outputs.items()}
    bar.progress(1.0, text=ui.t("rows_read", n=f"{summary.read:,}"))
    st.session_state["bulk_result"] = (summary, files, reference.version)

if "bulk_result" not in st.session_state:
    st.stop()
summary, files, version = st.session_state["bulk_result"]
line = ui.t("reconcile", read=summary.read, scored=summary.scored, rejected=summary.rejected)
(st.success if summary.reconciles else st.error)(line)
st.caption(ui.t("reference_used", version=version))
if summary.sheet:
    st.caption(ui.t("sheet_read", sheet=ui.literal(summary.sheet)))
for note in summary.notes:  # what the reader had to decide (an encoding it changed, say)
    st.info(ui.literal(note))

if summary.rejected:
    st.subheader(ui.t("rejects"))
    reasons = pd.DataFrame(
        {
            "reason": list(summary.rejected_rows_by_reason),
            "rows": list(summary.rejected_rows_by_reason.values()),
        }
    )
    st.dataframe(reasons, hide_index=True, width="stretch")
    rejects = pd.read_csv(
        io.BytesIO(files["rejects"]), dtype=str, keep_default_na=False, nrows=1000
    )
    st.dataframe(rejects, hide_index=True, width="stretch", height=240)

if summary.scored:
    st.subheader(ui.t("distribution"))
    wanted = ["level", "tier", "sector", "region"]
    header = pd.read_csv(io.BytesIO(files["scores"]), nrows=0).columns
    scores = pd.read_csv(
        io.BytesIO(files["scores"]),
        usecols=[c for c in wanted if c in header],
        dtype={"sector": str, "region": str},
    )
    names = {b.level: ui.pick(b.zh, b.en) for b in instrument.levels.bands}
    tabs = st.tabs([ui.t("by_sector"), ui.t("by_region")])
    for tab, by in zip(tabs, ("sector", "region")):
        if by not in scores.columns:
            continue
        with tab:
            for of, title in (("level", ui.t("level")), ("tier", ui.t("tier"))):
                if of in scores.columns:
                    table = distribution(scores, by, of)
                    if of == "level":
                        table = table.rename(
                            columns=lambda c: names.get(int(c), c) if str(c).isdigit() else c
                        )
                    st.markdown(f"**{title}**")
                    st.dataframe(table, width="stretch")

# the files score_file wrote: text a spreadsheet would run as a formula is escaped in them
cols = st.columns(3)
for col, name in zip(cols, ("scores", "rejects", "cohort")):
    ui.download(
        col, ui.t(f"download_{name}"), files[name], f"dmi-{name}.csv", key=f"download_{name}"
    )

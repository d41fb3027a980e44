"""Agency bulk import: upload, column mapping preview, scoring with the library's own
``score_file`` (the same as ``dmi score``), reconciliation, rejects, distributions, downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import dmi_ui as ui
import pandas as pd
import streamlit as st

from dmi import available_instruments, load_instrument
from dmi.cohort import distribution
from dmi.io import FileFormatError, map_columns, open_table
from dmi.pipeline import score_file

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

# the library reads files by path: keep the upload in a private temporary folder
work = Path(st.session_state.setdefault("bulk_dir", tempfile.mkdtemp(prefix="dmi-bulk-")))
source = work / f"upload{Path(upload.name).suffix.lower() or '.csv'}"
if st.session_state.get("bulk_uploaded") != (upload.file_id, encoding):
    source.write_bytes(upload.getbuffer())
    st.session_state["bulk_uploaded"] = (upload.file_id, encoding)
    st.session_state.pop("bulk_result", None)

try:
    reader = open_table(source, encoding=encoding)
    mapping = map_columns(instrument, reader.columns)
except (FileFormatError, UnicodeDecodeError, ValueError) as exc:
    st.error(f"{ui.t('file_error')} {ui.literal(exc)}")
    st.stop()

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

if st.button(ui.t("score_file"), type="primary", key="bulk_score"):
    reference = ui.reference(instrument_id)
    bar = st.progress(0.0)
    size = max(source.stat().st_size, 1)
    rows_estimate = max(1, size // 200)  # about 200 bytes per row: the bar only needs a rough pace

    def progress(done: int) -> None:
        bar.progress(min(done / rows_estimate, 1.0), text=ui.t("rows_read", n=f"{done:,}"))

    outputs = {name: work / f"{name}.csv" for name in ("scores", "rejects", "cohort")}
    try:
        summary, _ = score_file(
            source,
            outputs["scores"],
            reference.index_model,
            rejects_path=outputs["rejects"],
            encoding=encoding,
            progress=progress,
            tier_model=reference.tier_model,
            cohort_path=outputs["cohort"],
        )
    except (FileFormatError, UnicodeDecodeError, ValueError) as exc:
        st.error(f"{ui.t('file_error')} {ui.literal(exc)}")
        st.stop()
    bar.progress(1.0, text=ui.t("rows_read", n=f"{summary.read:,}"))
    st.session_state["bulk_result"] = (summary, outputs, reference.version)

if "bulk_result" not in st.session_state:
    st.stop()
summary, outputs, version = st.session_state["bulk_result"]
line = ui.t("reconcile", read=summary.read, scored=summary.scored, rejected=summary.rejected)
(st.success if summary.reconciles else st.error)(line)
st.caption(ui.t("reference_used", version=version))

if summary.rejected:
    st.subheader(ui.t("rejects"))
    reasons = pd.DataFrame(
        {
            "reason": list(summary.rejected_rows_by_reason),
            "rows": list(summary.rejected_rows_by_reason.values()),
        }
    )
    st.dataframe(reasons, hide_index=True, width="stretch")
    rejects = pd.read_csv(outputs["rejects"], dtype=str, keep_default_na=False, nrows=1000)
    st.dataframe(rejects, hide_index=True, width="stretch", height=240)

if summary.scored:
    st.subheader(ui.t("distribution"))
    wanted = ["level", "tier", "sector", "region"]
    header = pd.read_csv(outputs["scores"], nrows=0).columns
    scores = pd.read_csv(
        outputs["scores"],
        usecols=[c for c in wanted if c in header],
        dtype={"sector": str, "region": str},
    )
    names = {b.level: ui.pick(b.zh, b.en) for b in instrument.levels.bands}
    tabs = st.tabs([ui.t("by_sector"), ui.t("by_region")])
    for tab, by in zip(tabs, ("sector", "region")):
        if by not in scores.columns:
            continue
        with tab:
            for of in ("level", "tier"):
                if of in scores.columns:
                    table = distribution(scores, by, of)
                    if of == "level":
                        table = table.rename(
                            columns=lambda c: names.get(int(c), c) if str(c).isdigit() else c
                        )
                    st.markdown(f"**{ui.t(of)}**")
                    st.dataframe(table, width="stretch")

# the files score_file wrote: text a spreadsheet would run as a formula is escaped in them
cols = st.columns(3)
for col, name in zip(cols, ("scores", "rejects", "cohort")):
    ui.download(
        col,
        ui.t(f"download_{name}"),
        outputs[name].read_bytes(),
        f"dmi-{name}.csv",
        key=f"download_{name}",
    )

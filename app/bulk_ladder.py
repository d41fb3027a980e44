"""The bulk page's second choice: a file of firm facts run on the 梯度培育 ladder with the
library's own eligibility run (the same as ``dmi eligibility --cohort --candidates``); what it
shows is named by :mod:`dmi.service.ladderbulk`, in the page's language."""

from __future__ import annotations

from typing import Any

import dmi_ui as ui
import pandas as pd
import streamlit as st
from dmi_ui import text

from dmi.bulk.run import DUPLICATE_POLICIES
from dmi.errors import FactsFileError, PolicyError
from dmi.io import FileFormatError, csv_bytes
from dmi.service import bulkview, ladderbulk
from dmi.service.ladder import application_year_now
from dmi.service.uploads import upload_folder

FILE_ERRORS = (FileFormatError, FactsFileError, PolicyError, ValueError)
# a file (a sheet) whose headers name no fact: the page offers to map them all
_NO_FACT_NAMED = ("no_facts", "no_fact_header_row")


def _year_typed() -> None:
    """Mark the application year as the agency's own once it types one (blank: the default
    again), so that it no longer follows the rules chosen."""
    st.session_state["ladder_bulk_year_typed"] = (
        st.session_state.get("ladder_bulk_year") is not None
    )


def page(lang: str) -> None:
    """Template, policy, encoding, repeated ids, upload, run; then the run's counts, the
    one-away tables and the downloads."""
    st.write(text("ladder_bulk.intro"))
    st.caption(text("ladder_bulk.units_note"))
    cols = st.columns(3)
    ui.download(
        cols[0],
        text("ladder_bulk.template"),
        ladderbulk.template_bytes,
        "dmi-facts-template.csv",
        key="ladder_template",
    )
    ui.download(
        cols[1],
        text("ladder_bulk.codebook"),
        ladderbulk.codebook_bytes,
        "dmi-facts-codebook.csv",
        key="ladder_codebook",
        help=text("ladder_bulk.codebook_help"),
    )
    ui.download(
        cols[2],
        text("ladder_bulk.xlsform"),
        ladderbulk.xlsform_bytes,
        "dmi-facts-kobotoolbox.xlsx",
        key="ladder_xlsform",
        help=text("ladder_bulk.xlsform_help"),
    )
    policy = st.radio(
        text("ladder_bulk.policy"),
        list(policies := {p: text(f"ladder_bulk.policy_{p}") for p in ladderbulk.POLICIES}),
        format_func=policies.__getitem__,
        horizontal=True,
        key="ladder_bulk_policy",  # not the pre-check's ladder_policy: one session, two pages
    )
    # the pre-check's year by default (one default for both pages), another as --year; the
    # default follows the rules chosen until the agency types a year of its own
    default_year = application_year_now(policy)
    shown = st.session_state.get("ladder_bulk_year")
    if shown is not None and not st.session_state.get("ladder_bulk_year_typed"):
        st.session_state["ladder_bulk_year"] = default_year
    year = st.number_input(
        text("ladder_bulk.year"),
        value=None,
        step=1,
        format="%d",
        key=ui.seeded("ladder_bulk_year", default_year),
        placeholder=str(default_year),
        help=text("ladder_bulk.year_help"),
        on_change=_year_typed,
    )
    year = default_year if year is None else int(year)
    year_problem = ladderbulk.year_problem(policy, year, lang)
    if year_problem:  # right under the field, as the command line refuses --year
        st.error(year_problem)
    encodings = {"": ui.t("auto"), "utf-8": "UTF-8", "gb18030": "GB18030 / GBK"}
    encoding = (
        st.selectbox(
            ui.t("encoding"),
            list(encodings),
            format_func=encodings.__getitem__,
            key=ui.shown_anew("ladder_encoding", "", list(encodings)),
        )
        or None
    )
    policies = {p: text(f"agency.policy_{p.replace('-', '_')}") for p in DUPLICATE_POLICIES}
    duplicates = st.radio(
        text("agency.duplicates"),
        list(policies),
        format_func=policies.__getitem__,
        horizontal=True,
        help=text("agency.duplicates_help"),
        key="ladder_duplicates",
    )
    upload = ui.table_uploader("ladder_file")
    if upload is None:
        # back from another page (the upload is gone with its widget): the last run stays
        if "ladder_result" in st.session_state:
            found, run_lang = st.session_state["ladder_result"]
            name = st.session_state.get("ladder_run_name", "")
            made = found.summary
            st.info(
                text(
                    "ladder_bulk.last_run_rules",
                    name=ui.literal(name),
                    policy=made.policy,
                    year=made.year,
                )
            )
            show(found, lang, run_lang, mappable=False)  # no upload: no table to map in
        st.stop()
    sheet = _sheet_choice(upload)
    # the columns a run of this file did not read, to be mapped to facts for the next run
    read_as = f"{upload.file_id}/{sheet}"  # what the columns not read were read from
    column_map = _column_map_editor(read_as, lang)
    # not the language: the page words the run again in another; only the results file's gaps
    # stay in the run's language, which is said
    run_key = (
        upload.file_id,
        sheet,
        encoding,
        duplicates,
        policy,
        year,
        tuple(sorted(column_map.items())),
    )
    if st.session_state.get("ladder_run_key") != run_key:
        st.session_state.pop("ladder_result", None)
    if st.button(
        text("ladder_bulk.run"), type="primary", key="ladder_run", disabled=bool(year_problem)
    ):
        bar = st.progress(0.0)
        estimate = max(1, upload.size // 300)

        def progress(done: int) -> None:
            bar.progress(min(done / estimate, 1.0), text=ui.t("rows_read", n=f"{done:,}"))

        with upload_folder() as folder:
            source = ui.staged_upload(upload, folder)
            try:
                found = ladderbulk.run_file(
                    source,
                    folder,
                    policy=policy,
                    lang=lang,
                    year=year,
                    encoding=encoding,
                    duplicates=duplicates,
                    column_map=column_map,
                    sheet=sheet,
                    progress=progress,
                )
            except FILE_ERRORS as exc:
                st.error(ui.file_error(exc, upload.name))
                headers = (
                    ladderbulk.file_headers(source, encoding, sheet)
                    if getattr(exc, "problem", None) in _NO_FACT_NAMED and not column_map
                    else []
                )
                # no column names a fact: every one is offered to the editor of the map; not a
                # title above a header further down than the rows looked at (none offered)
                if headers:
                    st.session_state["ladder_ignored"] = (read_as, headers)
                    st.info(text("ladder_bulk.map_all"))
                    _column_map_editor(read_as, lang)  # above the button from now on
                st.stop()
        bar.progress(1.0)
        st.session_state["ladder_result"] = (found, lang)
        # the editor keeps a column mapped in an earlier run (no longer ignored) to undo it
        before = st.session_state.get("ladder_ignored", (None, []))
        kept = before[1] if before[0] == read_as else []
        ignored = ladderbulk.ignored_columns(found)
        listed = (read_as, list(dict.fromkeys(kept + ignored)))
        st.session_state["ladder_ignored"] = listed
        st.session_state["ladder_run_key"] = run_key
        st.session_state["ladder_run_name"] = upload.name
        if listed[1] != kept:  # columns newly not read: their editor is drawn above the button
            st.rerun()
    if "ladder_result" not in st.session_state:
        st.stop()
    found, run_lang = st.session_state["ladder_result"]
    show(found, lang, run_lang)


def _sheet_choice(upload: Any) -> str | None:
    """A workbook of several visible sheets: the sheet to read, chosen (the one it opens on
    first); a workbook of one: that one; None for another file."""
    known = st.session_state.get("ladder_sheets")
    if not known or known[0] != upload.file_id:
        names: list[str] = []
        if upload.name.lower().endswith((".xlsx", ".xls")):
            with upload_folder() as folder:
                try:
                    names = ladderbulk.sheets(ui.staged_upload(upload, folder))
                except FILE_ERRORS:
                    names = []  # said when the run reads the file
        known = (upload.file_id, names)
        st.session_state["ladder_sheets"] = known
    if len(known[1]) < 2:  # one visible sheet is read, even when a hidden one is active
        return known[1][0] if known[1] else None
    return st.selectbox(text("ladder_bulk.sheet"), known[1], key=f"ladder_sheet_{upload.file_id}")


def _column_map_editor(read_as: str, lang: str) -> dict[str, str]:
    """The columns the last run of this file (and sheet: ``read_as``) did not read, each with
    the fact it is to be read as (edited in a table); returns that map (header -> fact) for
    the next run."""
    last = st.session_state.get("ladder_ignored")
    if not last or last[0] != read_as or not last[1]:
        return {}
    headers = last[1]
    choices = ladderbulk.fact_choices(lang)
    none = next(iter(choices))
    key = f"ladder_map_{read_as}"  # one for both languages: a choice is read in either
    table = pd.DataFrame({"header": headers, "fact": [none] * len(headers)})
    edited = ui.edited_table(table, key)  # the browser's edits, as the index half reads them
    with st.expander(text("ladder_bulk.map_title"), expanded=True):
        st.data_editor(
            table,
            column_config={
                "header": st.column_config.TextColumn(text("agency.file_column"), disabled=True),
                "fact": st.column_config.SelectboxColumn(
                    text("ladder_bulk.map_fact"),
                    options=list(choices),
                    required=True,
                    width="large",
                ),
            },
            hide_index=True,
            width="stretch",
            key=key,
        )
    return ladderbulk.column_map(list(edited["header"]), list(edited["fact"]))


def show(found: ladderbulk.LadderRun, lang: str, run_lang: str, mappable: bool = True) -> None:
    """A run's counts, tables and downloads, worded by the rules it was made under (not those
    chosen on the page since); ``mappable``: the table to map the columns not read is drawn
    above (with the file uploaded)."""
    s = found.summary
    policy = s.policy
    fields = {"read": s.read, "evaluated": s.evaluated, "rejected": s.rejected}
    if not s.reconciles:
        st.error(text("ladder_bulk.reconcile_bad", **fields))
    elif s.evaluated:
        st.success(text("ladder_bulk.reconcile", **fields))
    else:  # nothing to count: said as a warning, not a success
        why = text("ladder_bulk.all_rejected") if s.read else text("ladder_bulk.nothing_read")
        st.warning(
            text("ladder_bulk.reconcile", **fields)
            + "  \n"
            + text("ladder_bulk.nothing_evaluated", why=why)
        )
    st.caption(text(f"agency.duplicates_used_{s.duplicates.replace('-', '_')}"))
    ignored = ladderbulk.ignored_columns(found)
    if ignored:
        listed = ladderbulk.listed_headers(ignored, lang)
        columns = ui.literal(listed)
        st.warning(
            text("ladder_bulk.ignored", n=len(ignored), columns=columns)
            if mappable
            else text("ladder_bulk.ignored_upload_again", n=len(ignored), columns=columns)
        )
    own = ladderbulk.export_columns(found)
    if own:  # the export's own columns: said apart, with nothing to map
        listed = ladderbulk.listed_headers(own, lang)
        st.caption(text("ladder_bulk.export_columns", columns=ui.literal(listed)))
    read_as = ladderbulk.columns_read(found, lang)
    with st.expander(text("ladder_bulk.columns_read", n=len(read_as))):
        st.dataframe(read_as, hide_index=True, width="stretch")
    if s.header_row > 1:
        st.info(text("agency.header_row", row=s.header_row, titles=s.header_row - 1))
    computed = s.digital_level.get("computed", 0)
    if computed:  # the survey's answers beside the facts: what the command's last line says
        disagrees = s.digital_level.get("disagrees", 0)
        st.info(text("ladder_bulk.digital_line", computed=computed, disagrees=disagrees))
    imputed = sum(s.survey_imputed.values())
    if imputed:
        st.info(text("ladder_bulk.imputed_line", imputed=imputed))
    for note in s.notes:
        st.info(ui.literal(bulkview.note_text(note, lang)))
    if s.rejected:
        st.subheader(text("ladder_bulk.rejects"))
        st.markdown(f"**{text('ladder_bulk.reasons')}**")
        st.dataframe(
            ladderbulk.reasons_table(found.rejects, lang, ladderbulk.file_columns(found)),
            hide_index=True,
            width="stretch",
        )
        if len(found.rejects) > 1000:
            st.caption(text("agency.rejects_first", n=1000, total=len(found.rejects)))
        st.dataframe(
            ladderbulk.named_rejects(
                found.rejects.head(1000), lang, ladderbulk.file_columns(found)
            ),
            hide_index=True,
            width="stretch",
            height=240,
        )
    rungs = ladderbulk.rung_labels(policy, lang)
    st.subheader(text("ladder_bulk.status_title"))
    st.caption(text("ladder_bulk.status_note"))  # a holder counts as eligible, not as applying
    for rung, name in rungs.items():
        st.markdown(f"**{name}**")
        groupings = ladderbulk.groupings(found.cohort)
        tabs = st.tabs([text(f"ladder_bulk.by_{by}") for by in groupings])
        for tab, by in zip(tabs, groupings):
            with tab:
                st.dataframe(ladderbulk.status_table(found.cohort, rung, by, lang), width="stretch")
    st.subheader(text("ladder_bulk.one_away_title"))
    counts = ladderbulk.one_away_counts(found.cohort)
    for rung, name in rungs.items():
        st.markdown(text("ladder_bulk.one_away_line", rung=name, n=counts.get(rung, 0)))
        if not counts.get(rung):
            continue
        groupings = ladderbulk.groupings(found.cohort)
        tabs = st.tabs([text(f"ladder_bulk.by_{by}") for by in groupings])
        for tab, by in zip(tabs, groupings):
            with tab:
                table = (
                    ladderbulk.missing_table(found.cohort, rung, policy, lang)
                    if by == "all"
                    else ladderbulk.one_away_by(found.cohort, rung, by, policy, lang)
                )
                st.dataframe(
                    table,
                    hide_index=True,
                    width="stretch",
                    column_config={
                        text("ladder_bulk.col_condition_id"): st.column_config.TextColumn(
                            width="small"
                        )
                    },
                )
    st.subheader(text("ladder_bulk.downloads"))
    if run_lang != lang:
        zh = run_lang == "zh"
        language = text("ladder_bulk.language_zh") if zh else text("ladder_bulk.language_en")
        st.caption(text("ladder_bulk.gaps_in", language=language))
    st.caption(text("ladder_bulk.candidates_note"))
    cols = st.columns(4)
    ui.download(
        cols[0],
        text("ladder_bulk.download_results"),
        found.files["results"],
        f"dmi-eligibility-{run_lang}.csv",
        key="ladder_download_results",
        help=text("ladder_bulk.download_results_help"),
    )
    ui.download(
        cols[1],
        text("ladder_bulk.download_candidates"),
        lambda: csv_bytes(ladderbulk.named_candidates(found.candidates, policy, lang, found.names)),
        f"dmi-candidates-{lang}.csv",
        key="ladder_download_candidates",
    )
    ui.download(
        cols[2],
        text("ladder_bulk.download_rejects"),
        lambda: csv_bytes(
            ladderbulk.named_rejects(found.rejects, lang, ladderbulk.file_columns(found))
        ),
        f"dmi-eligibility-rejects-{lang}.csv",
        key="ladder_download_rejects",
    )
    ui.download(
        cols[3],
        text("ladder_bulk.download_rules"),
        found.files["rules"],
        "dmi-eligibility-rules.csv",
        key="ladder_download_rules",
        help=text("ladder_bulk.download_rules_help"),
    )

"""The agency's dashboard of the submissions made in this app: counts and distributions by
province and city, sector, size, level and tier; T0 -> T1 progress of the companies that
submitted again; filters; an Excel export. Every number comes from dmi.service.dashboard."""

from __future__ import annotations

import dmi_ui as ui
import pandas as pd
import streamlit as st
from dmi_ui import text

from dmi import available_instruments, load_instrument
from dmi.service import dashboard

ui.require("agency")
lang = ui.lang()
st.title(text("agency.dashboard_title"))
st.write(text("agency.dashboard_intro"))

instruments = available_instruments()
instrument_id = (
    st.selectbox(
        ui.t("instrument"),
        instruments,
        format_func={i: load_instrument(i).title.get(lang) for i in instruments}.__getitem__,
        key=ui.shown_anew(
            "dash_instrument",
            ui.DEFAULT_INSTRUMENT if ui.DEFAULT_INSTRUMENT in instruments else instruments[0],
            instruments,
        ),
    )
    if len(instruments) > 1
    else instruments[0]
)
instrument = load_instrument(instrument_id)
every = dashboard.submissions(ui.store(), instrument)
if every.empty:
    st.info(text("agency.no_submissions"))
    st.stop()

# -- filters -------------------------------------------------------------------------------------
st.subheader(text("agency.filters"))


def choose(column: str, group: str, key: str, where) -> list[str]:
    """A multiselect of the values met in ``column``, shown by name."""
    names = dashboard.labels(instrument, group, lang)
    present = sorted(
        {v for v in every[column] if isinstance(v, str)},
        key=lambda v: (list(names).index(v) if v in names else len(names), v),
    )
    shown = {v: names.get(v, v) for v in present}
    return where.multiselect(
        text(f"agency.group_{group}"),
        present,
        format_func=shown.__getitem__,
        placeholder=text("agency.all"),
        select_all=False,
        key=ui.shown_anew(key, [], present),
    )


cols = st.columns(4)
regions = choose("region", "region", "dash_regions", cols[0])
cities = choose("city", "city", "dash_cities", cols[1])
sectors = choose("sector", "sector", "dash_sectors", cols[2])
sizes = choose("size_class", "size_class", "dash_sizes", cols[3])
first_day = every["submitted_at"].min().date()
last_day = every["submitted_at"].max().date()
days = st.date_input(
    text("agency.date_range"),
    value=(first_day, last_day),
    format="YYYY-MM-DD",
    key="dash_days",
)
since, until = (tuple(days) + (None, None))[:2] if isinstance(days, (tuple, list)) else (days, None)
filters = dashboard.Filters.of(
    regions=regions, cities=cities, sectors=sectors, sizes=sizes, since=since, until=until
)
chosen = dashboard.select(every, filters)

# -- overview ------------------------------------------------------------------------------------
seen = dashboard.overview(chosen)
cols = st.columns(4)
cols[0].metric(text("agency.metric_companies"), f"{seen.companies:,}")
cols[1].metric(text("agency.metric_submissions"), f"{seen.submissions:,}")
cols[2].metric(text("agency.metric_resubmitted"), f"{seen.resubmitted:,}")
cols[3].metric(
    text("agency.metric_mean_index"), "—" if seen.mean_index is None else f"{seen.mean_index:.1f}"
)
if not seen.companies:
    st.info(text("agency.none_selected"))
    st.stop()

# -- distributions -------------------------------------------------------------------------------
st.subheader(text("agency.distributions"))
charts = st.columns(2)
with charts[0]:
    st.markdown(f"**{text('agency.chart_levels')}**")
    levels = dashboard.for_people(
        dashboard.counts(chosen, "level", instrument, lang), "level", lang
    )
    st.bar_chart(levels, x=levels.columns[0], y=levels.columns[1], sort=False)
with charts[1]:
    st.markdown(f"**{text('agency.chart_index')}**")
    bands = dashboard.histogram(dashboard.latest(chosen)["dmi"])
    shown = pd.DataFrame(
        {
            text("agency.col_dmi_band"): bands["band"],
            text("agency.col_companies"): bands["companies"],
        }
    )
    st.bar_chart(shown, x=shown.columns[0], y=shown.columns[1], sort=False)

groups = ["region", "sector", "size_class", "level", "tier"]
tabs = st.tabs([text(f"agency.group_{g}") for g in groups])
for tab, group in zip(tabs, groups):
    with tab:
        if group == "region":
            table = dashboard.for_people(
                dashboard.region_table(chosen, instrument, lang), group, lang
            )
        else:
            table = dashboard.for_people(
                dashboard.counts(chosen, group, instrument, lang), group, lang
            )
        st.dataframe(table, hide_index=True, width="stretch", key=f"dash_table_{group}")

# -- progress ------------------------------------------------------------------------------------
st.subheader(text("agency.progress_title"))
pairs, moved = dashboard.progress(chosen, instrument, lang)
if not moved.companies:
    st.write(text("agency.progress_none"))
else:
    st.write(
        text(
            "agency.progress_line",
            n=moved.companies,
            up=moved.up,
            down=moved.down,
            same=moved.same,
            change=f"{moved.mean_change:+.1f}",
        )
    )
    st.dataframe(
        dashboard.pairs_for_people(pairs, lang),
        hide_index=True,
        width="stretch",
        key="dash_pairs",
    )

# -- export --------------------------------------------------------------------------------------
ui.download(
    st.container(),
    text("agency.export"),
    lambda: dashboard.export_workbook(chosen, instrument, lang),
    f"dmi-dashboard-{lang}.xlsx",
    key="dash_export",
)

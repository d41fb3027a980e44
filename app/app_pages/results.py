"""A company's results: index, level and why, dimensions against peers, tier, improvements,
change since the earlier submission, and downloads (report HTML/PDF, own answers CSV)."""

from __future__ import annotations

import dmi_ui as ui
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dmi import load_instrument
from dmi.eligibility import FactsError
from dmi.locales import text
from dmi.report import PreviousResult, render_html, render_pdf
from dmi.results.ladder import ladder_view
from dmi.service.ladder import evaluate_facts
from dmi.service.survey import answers_frame

L = ui.lang()


def resume_box() -> None:
    with st.form("results_resume"):
        code = st.text_input(ui.t("resume_code"), key="results_code")
        if st.form_submit_button(ui.t("resume")) and code.strip():
            st.session_state["token"] = code.strip()
            st.query_params["resume"] = code.strip()
            st.rerun()


def change(difference: float) -> dict[str, str]:
    """A metric's delta: no arrow when it rounds to nothing (a -0.0 would show a regress)."""
    rounded = round(difference, 1)
    if rounded == 0:
        return {"delta": "0.0", "delta_color": "off", "delta_arrow": "off"}
    return {"delta": f"{rounded:+.1f}"}


st.title(ui.t("nav_results"))
token = st.session_state.get("token") or st.query_params.get("resume")
history = ui.store().submissions(token) if token else []
if not history:
    st.info(ui.t("results_none"))
    resume_box()
    st.stop()

latest = history[-1]
instrument = load_instrument(latest.instrument_id)
# a company's index and level are always the official method's: a result recorded with a
# research reference (an earlier version of the app could publish one) is shown recomputed
reference, recorded = ui.company_reference(latest.reference_version, instrument.id)
result = reference.assess(latest.answers)
company = str(latest.answers.get("company_name") or "")

# -- headline ---------------------------------------------------------------------------------
if company:
    st.subheader(ui.literal(company), anchor=False)
cols = st.columns(3)
cols[0].metric(ui.t("index"), ui.index_text(result.official_dmi, instrument))
cols[1].metric(ui.t("level"), ui.level_name(instrument, result.level))
if result.tier is not None:
    cols[2].metric(ui.t("tier"), f"{result.tier.tier} · {result.tier.label.name(L)}")
with st.expander(ui.t("why_level"), expanded=True):
    st.write(ui.pick(result.level_explanation.zh, result.level_explanation.en))
if not recorded:
    st.info(ui.t("recomputed_official", old=latest.reference_version, new=reference.version))
st.caption(
    ui.t("reference_used", version=reference.version)
    + " · "
    + ui.t("submitted_at")
    + f": {latest.submitted_at:%Y-%m-%d %H:%M} UTC"
)

# -- dimensions and peers ---------------------------------------------------------------------
st.header(ui.t("dimensions"))
dims = [d for d in instrument.dimensions if f"dim_{d.code}" in result.scores_row]
names = [ui.pick(d.zh, d.en) for d in dims]
mine = [result.dimensions[d.code] for d in dims]
left, right = st.columns([3, 2])
figure = go.Figure()
figure.add_trace(
    go.Scatterpolar(
        r=mine + mine[:1], theta=names + names[:1], fill="toself", name=ui.t("radar_you")
    )
)
if result.peers is not None:
    median = [result.peers.median.get(f"dim_{d.code}") for d in dims]
    figure.add_trace(
        go.Scatterpolar(r=median + median[:1], theta=names + names[:1], name=ui.t("radar_peers"))
    )
figure.update_layout(
    polar={"radialaxis": {"range": [0, 100]}},
    height=380,
    margin={"l": 40, "r": 40, "t": 20, "b": 20},
)
left.plotly_chart(figure, width="stretch", key="radar")
table = pd.DataFrame({ui.t("dimensions"): names, ui.t("radar_you"): [round(v, 1) for v in mine]})
if result.peers is not None:
    table[ui.t("radar_peers")] = [
        None if v is None else round(float(v), 1)
        for v in (result.peers.median.get(f"dim_{d.code}") for d in dims)
    ]
right.dataframe(table, hide_index=True, width="stretch")

st.subheader(ui.t("peers"))
if result.peers is not None and "dmi" in result.peers.percentile:
    group = ", ".join(
        f"{ui.pick(instrument.profile_field(k).zh, instrument.profile_field(k).en)}={ui.literal(v)}"
        for k, v in result.peers.group.items()
    ) or ui.t("everyone")
    st.write(
        ui.t("peer_percentile", p=result.peers.percentile["dmi"], group=group, n=result.peers.size)
    )
else:
    st.write(ui.t("peer_hidden"))

# -- tier -------------------------------------------------------------------------------------
if result.tier is not None:
    st.header(ui.t("tier"))
    tier_text = instrument.tier(result.tier.tier)
    st.markdown(f"**{result.tier.tier} · {result.tier.label.name(L)}**")
    if tier_text is not None:
        st.write(f"{ui.t('tier_offer')}: {tier_text.support.get(L)}")
    st.write(result.tier.text(L))

# -- improvements -----------------------------------------------------------------------------
st.header(ui.t("improvements"))
if result.improvements:
    st.dataframe(
        pd.DataFrame(
            {
                ui.t("improve_item"): [
                    ui.pick(i.question_zh, i.question_en) for i in result.improvements
                ],
                ui.t("improve_change"): [
                    ui.pick(i.change_zh, i.change_en) for i in result.improvements
                ],
                ui.t("improve_gain"): [round(i.gain, 2) for i in result.improvements],
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.write(ui.t("improve_none"))

# -- T0 -> T1 ---------------------------------------------------------------------------------
st.header(ui.t("change_title"))
previous = None
if len(history) >= 2:
    before = history[-2]
    previous = PreviousResult(
        dmi=before.dmi,
        level=before.level,
        dimensions={d.code: before.scores.get(f"dim_{d.code}") for d in dims},
        submitted_at=before.submitted_at,
        tier=before.tier,
        method=ui.method_of(before.reference_version),
    )
    # a difference across index methods is no progress or regress: no delta, no arrow
    same = previous.comparable(result)
    if not same:
        st.info(ui.t("method_changed"))
    cols = st.columns(len(dims) + 1)
    delta = change(result.dmi - before.dmi) if same else {}
    cols[0].metric(ui.t("index"), ui.index_text(result.dmi, instrument), **delta)
    for col, dim, value in zip(cols[1:], dims, mine):
        old = before.scores.get(f"dim_{dim.code}")
        delta = change(value - float(old)) if old is not None and same else {}
        col.metric(ui.pick(dim.zh, dim.en), f"{value:.1f}", **delta)
else:
    st.write(ui.t("change_none"))

# -- the 梯度培育 pre-check ------------------------------------------------------------------
st.header(text("ladder.title", L))
ladder = None
stored_ladder = ui.store().ladder(token)
if stored_ladder is not None:
    try:  # the facts as kept, with this result's level: what the ladder page shows
        ladder = evaluate_facts(stored_ladder.facts, stored_ladder.policy, result.level, L)
    except FactsError:  # facts the rules now refuse: the ladder page says why
        ladder = None
if ladder is not None:
    st.markdown(
        "  \n".join(
            f"**{ui.literal(view.label)}**: {ui.literal(view.status_text)}"
            for view in ladder_view(ladder)
        )
    )
else:
    st.write(text("ladder.results_teaser", L))
if st.button(text("ladder.open_results", L), key="open_ladder"):
    st.switch_page("app_pages/ladder.py", query_params={"resume": token})

# -- downloads --------------------------------------------------------------------------------
st.header(ui.t("downloads"))
# the reports are built only when asked for (the download runs the callable)
report_args = {
    "instrument": instrument,
    "lang": L,
    "previous": previous,
    "reference_version": reference.version,
    "company_name": company or None,
    "generated_at": latest.submitted_at,
    "answers": latest.answers,
    "ladder": ladder,
}
cols = st.columns(3)
ui.download(
    cols[0],
    ui.t("download_html"),
    lambda: render_html(result, **report_args).encode("utf-8"),
    "dmi-report.html",
    key="download_html",
)
ui.download(
    cols[1],
    ui.t("download_pdf"),
    lambda: render_pdf(result, **report_args),
    "dmi-report.pdf",
    key="download_pdf",
)
ui.download(
    cols[2],
    ui.t("download_csv"),
    answers_frame(instrument, latest.answers, respondent_id=f"S{latest.id}"),
    "dmi-answers.csv",
    key="download_csv",
)

if st.button(ui.t("edit_answers"), key="edit_answers"):
    ui.store().save_draft(token, latest.answers, page=0, lang=L)
    st.session_state["page_idx"] = 0
    st.switch_page("app_pages/survey.py", query_params={"resume": token})

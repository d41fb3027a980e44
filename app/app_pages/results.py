"""A company's results: index, level and why, dimensions against peers, tier, improvements,
change since the earlier submission, and downloads (report HTML/PDF, own answers CSV).

Who may see them: the company, by its resume code (kept in the session, never in this page's
address), and anyone it shares the read-only link with (``?view=TOKEN``): a view token shows the
results and nothing else; it opens no draft and the page offers no editing with it.
"""

from __future__ import annotations

import textwrap
from urllib.parse import urlencode, urlsplit

import dmi_ui as ui
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dmi import load_instrument
from dmi.eligibility import FactsError
from dmi.locales import text
from dmi.report import PreviousResult, render_html, render_pdf
from dmi.report.content import confidence_phrase, peer_group_label, plain_number, tier_sentences
from dmi.results.ladder import ladder_view, left_out
from dmi.service.ladder import caution_lines, cautions_of, evaluate_facts
from dmi.service.store import view_token
from dmi.service.survey import answers_frame

L = ui.lang()


def resume_box() -> None:
    with st.form("results_resume"):
        code = st.text_input(ui.t("resume_code"), key="results_code")
        if st.form_submit_button(ui.t("resume")) and code.strip():
            # the code stays in the session; the address gets the read-only link
            st.session_state["token"] = code.strip()
            st.query_params.pop("view", None)
            st.rerun()


def change(difference: float) -> dict[str, str]:
    """A metric's delta: no arrow and no colour when it rounds to nothing (a -0.0 would show
    a regress, a +0.0 a progress)."""
    rounded = round(difference, 1)
    if rounded == 0:
        return {"delta": "0.0", "delta_color": "off", "delta_arrow": "off"}
    return {"delta": f"{rounded:+.1f}"}


def axis_label(name: str, width: int) -> str:
    """A chart label wrapped onto lines of about ``width`` characters (a CJK character counts
    double), so that no label is cut off at the chart's edge."""
    if name.isascii():
        return "<br>".join(textwrap.wrap(name, width)) or name
    half = max(1, width // 2)
    return "<br>".join(name[i : i + half] for i in range(0, len(name), half))


def share_url(view: str) -> str:
    """The address of the read-only results, in the page's language."""
    query = urlencode({"view": view, "lang": L})
    here = str(getattr(st.context, "url", "") or "")
    if not here:
        return f"results?{query}"
    parts = urlsplit(here)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{query}"


st.title(ui.t("nav_results"))
db = ui.store()
# a resume code in the address (an older link, or the survey's hand-over) moves into the
# session: the results page's address carries only the read-only link
arrived = st.query_params.get("resume")
if arrived:
    st.session_state["token"] = arrived.strip()
    st.query_params.pop("resume", None)
token = st.session_state.get("token")
view = st.query_params.get("view")
own = bool(token) and (not view or view == view_token(token))
if own:
    history = db.submissions(token)
else:
    history = db.shared_submissions(view) if view else []
if not history:
    if view and not own:
        st.warning(text("results.link_unknown", L))
    else:
        st.info(ui.t("results_none"))
        resume_box()
    st.stop()
if own:
    link = db.results_link(token)
    ui.put_in_address(view=link)
else:
    st.info(text("results.read_only", L))

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
profile = []
for spec in instrument.profile:
    value = latest.answers.get(spec.code)
    if value in (None, "") or spec.code == "company_name":
        continue
    if spec.type == "choice":
        profile.append(peer_group_label(instrument, {spec.code: value}, L))
    elif spec.type == "number":  # 85, not 85.00
        profile.append(f"{ui.pick(spec.zh, spec.en)} {plain_number(value)}")
if profile:
    st.caption(ui.literal(" · ".join(profile)))
cols = st.columns(3)
cols[0].metric(ui.t("index"), ui.index_text(result.official_dmi, instrument))
cols[1].metric(ui.t("level"), ui.level_name(instrument, result.level))
if result.tier is not None:
    # the tier's name may be long: the number as the value, the name in full below it
    name = result.tier.label.name(L)
    cols[2].metric(
        ui.t("tier"), text("results.tier_short", L, tier=result.tier.tier), help=ui.literal(name)
    )
    cols[2].caption(ui.literal(name))
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
median = None if result.peers is None else [result.peers.median.get(f"dim_{d.code}") for d in dims]
figure = go.Figure()
# axis labels wrapped (never cut off at the chart's edge); the full name and the score as
# written everywhere on hover
axes = [axis_label(n, 14) for n in names]


def hover(values: list) -> list[list[str]]:
    return [[n, ui.score_text(v)] for n, v in zip(names + names[:1], values + values[:1])]


figure.add_trace(
    go.Scatterpolar(
        r=mine + mine[:1],
        theta=axes + axes[:1],
        fill="toself",
        name=ui.t("radar_you"),
        customdata=hover(mine),
        hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>",
    )
)
if median is not None:
    figure.add_trace(
        go.Scatterpolar(
            r=median + median[:1],
            theta=axes + axes[:1],
            name=ui.t("radar_peers"),
            customdata=hover(median),
            hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>",
        )
    )
figure.update_layout(
    polar={"radialaxis": {"range": [0, 100]}, "angularaxis": {"tickfont": {"size": 12}}},
    height=400,
    margin={"l": 90, "r": 90, "t": 40, "b": 40},
    legend={"orientation": "h", "y": -0.1},
)
left.plotly_chart(figure, width="stretch", key="radar")
# the scores as text written by the one formatter (a number column would show 75.0 as "75"
# beside "33.3"); short headers, sized to be read whole in the narrow column
table = pd.DataFrame({"dimension": names, "you": [ui.score_text(v) for v in mine]})
columns = {
    "dimension": st.column_config.TextColumn(text("app_polish.col_dimension", L)),
    "you": st.column_config.TextColumn(
        text("app_polish.col_you", L), help=ui.t("radar_you"), alignment="right", width="small"
    ),
}
if median is not None:
    table["peers"] = [ui.score_text(v) for v in median]
    columns["peers"] = st.column_config.TextColumn(ui.t("radar_peers"), alignment="right")
right.dataframe(table, hide_index=True, width="stretch", column_config=columns)

st.subheader(ui.t("peers"))
if result.peers is not None and "dmi" in result.peers.percentile:
    # the group by its labels ("通用设备制造业 · 小型企业"), never field=code
    group = (
        peer_group_label(instrument, result.peers.group, L)
        if result.peers.group
        else ui.t("everyone")
    )
    st.write(
        ui.t(
            "peer_percentile",
            p=result.peers.percentile["dmi"],
            group=ui.literal(group),
            n=result.peers.size,
        )
    )
else:
    st.write(ui.t("peer_hidden"))

# -- tier -------------------------------------------------------------------------------------
if result.tier is not None:
    st.header(ui.t("tier"))
    tier = result.tier
    st.markdown(f"**{text('results.tier_short', L, tier=tier.tier)} · {tier.label.name(L)}**")
    # the support once; the confidence as a phrase, what the number means on hover
    support = tier.label.support_zh if L == "zh" else tier.label.support_en
    st.write(f"{ui.t('tier_offer')}: {support}")
    st.markdown(
        text("results.tier_confidence", L, phrase=confidence_phrase(tier.confidence, L)),
        help=text("results.tier_confidence_help", L, conf=f"{tier.confidence:.2f}"),
    )
    for sentence in tier_sentences(tier, L):
        st.write(sentence)

# -- improvements -----------------------------------------------------------------------------
st.header(ui.t("improvements"))
if result.improvements:
    # one card per change, the points first: nothing to scroll sideways on a phone
    for n, imp in enumerate(result.improvements, 1):
        with st.container(border=True, key=f"improvement_{n}"):
            st.markdown(
                f"**{text('results.gain', L, points=plain_number(round(imp.gain, 3)))}**"
                f" · {ui.literal(ui.pick(imp.change_zh, imp.change_en))}"
            )
            question = ui.pick(imp.question_zh, imp.question_en)
            st.caption(
                text("results.labelled", L, label=ui.t("improve_item"), value=ui.literal(question))
            )
    if any(not item.actionable for item in instrument.items):
        st.caption(text("results.outcomes_note", L))
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
        col.metric(ui.pick(dim.zh, dim.en), ui.score_text(value), **delta)
else:
    st.write(ui.t("change_none"))

# -- the 梯度培育 pre-check (the company's own facts: not on a read-only link) ---------------
ladder = None
stored_ladder = ui.store().ladder(token) if own else None
if stored_ladder is not None:
    try:  # the facts as kept, with the MIIT survey's level: what the ladder page shows
        level, _ = ui.miit_level(history)
        ladder = evaluate_facts(stored_ladder.facts, stored_ladder.policy, level, L)
    except FactsError:  # facts the rules now refuse: the ladder page says why
        ladder = None
if own:
    st.header(text("ladder.title", L))
ladder_refused = stored_ladder.refused if ladder is not None and stored_ladder else {}
if ladder is not None:
    st.markdown(
        "  \n".join(
            f"**{ui.literal(view.label)}**: {ui.literal(view.status_text)}"
            for view in ladder_view(ladder, ladder_refused)
        )
    )
    if ladder_refused:  # as the pre-check says it: left out as unknown until put right
        st.warning(ui.literal(left_out(ladder_refused, L, on_the_page=False)))
elif own:
    st.write(text("ladder.results_teaser", L))
if own and st.button(text("ladder.open_results", L), key="open_ladder"):
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
    "ladder_refused": ladder_refused,
    # the values the pre-check took with a caution, said in the report as on its page
    "ladder_cautions": (
        caution_lines(cautions_of(stored_ladder.facts, L))
        if ladder is not None and stored_ladder
        else []
    ),
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

# -- share (read-only) and edit (the company only) ---------------------------------------------
if own:
    st.header(text("results.share_title", L))
    st.write(text("results.share_text", L))
    st.code(share_url(link), language=None, wrap_lines=True)
    if st.button(ui.t("edit_answers"), key="edit_answers"):
        db.save_draft(token, latest.answers, page=0, lang=L)
        st.session_state["page_idx"] = 0
        st.switch_page("app_pages/survey.py", query_params={"resume": token})

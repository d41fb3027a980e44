"""The 梯度培育 pre-check: a company's facts → where it stands on 创新型 / 专精特新 / 小巨人.

Reached from the results page (the same resume code) or on its own (a new code). The form is made
from the facts table (``dmi.service.ladder``); the company's digital level is carried over from
its latest MIIT survey submission, and a first visit starts from the province, sector and
employees it gave (a survey submitted later fills the facts left blank);
the result comes from ``dmi.eligibility.evaluate`` and is drawn
rung by rung from ``dmi.results.ladder.ladder_view``. Facts and result are kept with the code and
come back with it, evaluated again (the rules or the level may have changed since).
"""

from __future__ import annotations

from typing import Any

import dmi_ui as ui
import streamlit as st

from dmi import load_instrument
from dmi.eligibility import (
    Fact,
    FirmResult,
    available_policies,
    load_policy,
    policy_in_force,
)
from dmi.locales import LANGS, text
from dmi.report import render_ladder_html, render_ladder_pdf
from dmi.results.ladder import (
    RungView,
    confidence_note,
    documents_cited,
    ladder_view,
    rules_of,
    unit_label,
)
from dmi.service.ladder import (
    asks_stated_level,
    caution_lines,
    check_facts,
    form_facts,
    form_groups,
    left_out,
    profile_facts,
    rows_by_year,
    year_note,
)

L = ui.lang()
BADGE = {"eligible": "green", "not_yet": "orange", "unknown": "gray", "manual": "blue"}
HELD_BADGE = "violet"  # a title held: said as held, not by its evaluation
# Streamlit's own icon font (emoji may be missing on a kiosk or an old phone)
ICON = {
    "met": ":green[:material/check_circle:]",
    "not_met": ":red[:material/cancel:]",
    "unknown": ":gray[:material/help:]",
    "manual": ":blue[:material/rate_review:]",
    "": ":gray[:material/remove:]",
}


def _token() -> str | None:
    return st.session_state.get("token") or st.query_params.get("resume") or None


def _use_token(token: str) -> None:
    st.session_state["token"] = token
    ui.put_in_address(resume=token)


# -- without a code -------------------------------------------------------------------------------
def start_screen() -> None:
    st.write(text("ladder.intro", L))
    st.write(text("ladder.start_intro", L))
    with st.container(border=True):
        st.markdown(f"**{ui.t('consent_title')}**")
        st.write(ui.consent_notice())
        agreed = st.checkbox(ui.t("consent_agree"), key="ladder_consent")
    if st.button(text("ladder.start", L), type="primary", key="ladder_start"):
        if not agreed:
            st.error(ui.t("consent_needed"))
        else:
            # a code of the survey's kind: the same code takes the self-assessment later
            _use_token(ui.store().new_draft(ui.DEFAULT_INSTRUMENT, L))
            st.session_state["ladder_new_token"] = True
            st.rerun()
    st.divider()
    with st.form("ladder_resume_form"):
        code = st.text_input(ui.t("resume_code"), key="ladder_code")
        if st.form_submit_button(ui.t("resume")):
            if code.strip() and ui.store().draft(code.strip()) is not None:
                _use_token(code.strip())
                st.rerun()
            else:
                st.error(ui.t("resume_unknown"))


# -- the digital level from the survey ----------------------------------------------------------
def carried(token: str) -> tuple[int | None, str, int | None, dict[str, Any], Any]:
    """(level, its words, submission id) of the latest MIIT survey submission
    (:func:`dmi_ui.miit_level`; None, "", None without one), the facts the latest
    submission's profile gives, by language ({} each without one): the province, the sector
    and the staff (its employees) the survey asked, as the form starts from them, and when it
    was submitted (None without one).
    """
    history = ui.store().submissions(token)
    if not history:
        return None, "", None, {lang: {} for lang in LANGS}, None
    latest = history[-1]
    survey = load_instrument(latest.instrument_id)
    profile = {lang: profile_facts(survey, latest.answers, lang) for lang in LANGS}
    level, found = ui.miit_level(history)
    if found is None:  # another survey's levels are not the MIIT's: the firm is asked
        return None, "", None, profile, latest.submitted_at
    instrument = load_instrument(found.instrument_id)
    words = text(
        "ladder.digital_carried",
        L,
        level=ui.level_name(instrument, level),
        when=f"{found.submitted_at:%Y-%m-%d}",
    )
    return level, words, found.id, profile, latest.submitted_at


def _reseed_on_language_change(profiles: dict[str, dict[str, Any]]) -> None:
    """On a first visit, a field the survey's profile started in the other language and the
    firm left as it was (江苏省 on a page now in English) shows the profile in this one
    (Jiangsu): it is still no answer of the firm's, and the untouched form keeps nothing (a
    switch of language had the Chinese names kept as the firm's facts)."""
    for lang, other in profiles.items():
        if lang == L:
            continue
        for code, value in other.items():
            key = f"f_{code}"
            if st.session_state.get(key) == value and value != profiles[L].get(code):
                st.session_state[key] = profiles[L][code]


# -- the form -------------------------------------------------------------------------------------
def _label(fact: Fact) -> str:
    """The fact's label with its unit, as Markdown showing the text as it is (widget labels
    render Markdown)."""
    unit = unit_label(fact.unit, L)
    if not unit:
        return ui.label_text(fact.label(L))
    shown = f"{fact.label(L)}（{unit}）" if L == "zh" else f"{fact.label(L)} ({unit})"
    return ui.label_text(shown)


BLANK_CHOICE = ""
"""A yes/no fact's choice of "not given" (the fact unknown)."""


def fact_input(fact: Fact, current: Any) -> Any:
    """One fact's widget; ``None`` (blank) means unknown."""
    key = f"f_{fact.code}"
    help_ = ui.literal(fact.help.get(L)) if fact.help else None
    blank = text("ladder.blank", L)
    if fact.type == "number":
        # no bounds on the widget: a value out of the fact's range is taken and refused by the
        # facts' rule in the page's language (the widget's own refusal is Streamlit's English,
        # and the result went on with the value before). A whole-number fact too takes any
        # number, shown as typed: a box of whole numbers cut 2.5 to 2 without a word
        value = None if current is None else float(current)
        # no default: an emptied box is blank (unknown), not the stored value again
        return st.number_input(
            _label(fact),
            value=None,
            step=1.0,
            format="%g" if fact.integer else None,
            key=ui.seeded(key, value),
            help=help_,
            placeholder=blank,
        )
    if fact.type == "yesno":
        # blank is an option of its own, "" (a radio's None is no option ticked at all), and the
        # choice is given anew on every run: after a change of language the browser showed no
        # option ticked, the answers kept but looking lost
        options: list[Any] = [BLANK_CHOICE, "yes", "no"]
        names = {
            BLANK_CHOICE: blank,
            "yes": text("ladder.answer_yes", L),
            "no": text("ladder.answer_no", L),
        }
        chosen = st.radio(
            _label(fact),
            options,
            format_func=names.__getitem__,
            horizontal=True,
            key=ui.shown_anew(key, current if current in options else BLANK_CHOICE, options),
            help=help_,
        )
        return None if chosen in (BLANK_CHOICE, None) else chosen
    if fact.type == "category":
        options = [None, *fact.value_codes]
        names = {None: blank, **{v.value: v.label(L) for v in fact.values}}
        return st.selectbox(
            _label(fact),
            options,
            format_func=names.__getitem__,
            key=ui.shown_anew(key, current if current in options else None, options),
            help=help_,
            placeholder=blank,  # shown for None (Streamlit's own is English)
        )
    return st.text_input(_label(fact), value=str(current or ""), key=key, help=help_, max_chars=100)


def facts_form(
    stored: dict[str, Any], policy: str, level: int | None
) -> tuple[str, dict, dict[str, Any]]:
    """The facts, group by group; returns (the policy chosen, the facts given, each field's
    slot right under its widget, for a message about its value).

    No ``st.form``: every change reruns the page, which keeps it (by the widget's key, also
    across a change of language) and evaluates it again; nothing typed waits for a button.
    """
    policies = available_policies()
    names = {
        p: text(
            "ladder.policy_value",
            L,
            title=load_policy(p).title.get(L),
            **{"from": load_policy(p).effective.isoformat()},
        )
        for p in policies
    }
    chosen = st.selectbox(
        text("ladder.policy", L),
        policies,
        format_func=names.__getitem__,
        key=ui.shown_anew("ladder_policy", policy if policy in policies else policies[0], policies),
        help=text("ladder.policy_help", L),
    )
    st.caption(text("ladder.units_note", L))
    values: dict[str, Any] = {}
    slots: dict[str, Any] = {}
    shown = 0
    # with the survey's level, a level stated before is still shown (the result flags a
    # disagreement); else it is not asked again
    stated = asks_stated_level(
        level, stored.get("digital_level"), "f_digital_level" in st.session_state
    )
    for group in form_groups():
        facts = tuple(f for f in group.facts if f.code != "digital_level" or stated)
        if not facts:
            continue
        with st.expander(group.title(L), expanded=shown < 2):
            for row in rows_by_year(facts):
                # a fact of several years: one column a year (stacked on a phone)
                cols = st.columns(len(row)) if len(row) > 1 else [st.container()]
                for col, fact in zip(cols, row):
                    if fact.skipped({**stored, **values}):
                        continue  # not asked (an award's year without an award): left out
                    with col:
                        values[fact.code] = fact_input(fact, stored.get(fact.code))
                        # drawn on every run, filled or not: the fields below keep their place
                        slots[fact.code] = st.empty()
        shown += 1
    st.caption(text("ladder.autosave", L))
    return chosen, form_facts(values), slots


# -- the result -----------------------------------------------------------------------------------
def show_rung(view: RungView) -> None:
    lit = ui.literal
    with st.container(border=True, key=f"ladder_rung_{view.rung}"):
        badge = HELD_BADGE if view.held else BADGE[view.status]
        # a heading: a screen reader goes from rung to rung by it (under the result's header)
        st.subheader(f"{lit(view.label)} :{badge}-badge[{lit(view.status_text)}]", anchor=False)
        st.caption(lit(view.meta))
        if view.points:
            st.markdown(lit(view.points))
            if view.groups:
                st.caption(lit(text("ladder.list_sep", L).join(view.groups)))
            if any(view.indicators):
                # each indicator's points, under its group's: on demand, as the conditions
                with st.expander(text("ladder.indicators", L), expanded=False):
                    for group, lines in zip(view.groups, view.indicators):
                        st.markdown(
                            "\n".join([f"**{lit(group)}**", *(f"- {lit(x)}" for x in lines)])
                        )
        for line in (view.route, view.path):
            if line:
                st.markdown(lit(line))
        if view.gaps:
            st.markdown(f"**{lit(text('ladder.gaps', L))}**")
            sep = text("ladder.list_sep", L)
            st.markdown(
                "\n".join(
                    f"- {lit(g.text)}"
                    + (f" :gray[{lit(sep.join((g.condition, *g.also)))}]" if g.condition else "")
                    for g in view.gaps
                )
            )
        # the details on demand: the status, the points and the gaps stay in view on a phone (a
        # title held has no gaps: its conditions are for reference, not a to-do)
        conditions = (
            text("ladder.conditions_held", L) if view.held else text("ladder.conditions", L)
        )
        with st.expander(conditions, expanded=False):
            for line in view.conditions + view.routes:
                head = f"{ICON[line.state]} **{lit(line.state_text)}** · {lit(line.label)}"
                details = [lit(line.values)] if line.values else []
                if line.via:
                    details.append(lit(line.via))
                if line.evidence:
                    details.append(f":material/attach_file: {lit(line.evidence)}")
                st.markdown("  \n".join([head, *details]))
                st.caption(f"{lit(line.source)} · {lit(line.id)}")


def show_result(
    result: FirmResult, refused: dict[str, Any], unplaced: list[str], cautions: list[str]
) -> None:
    """The ladder of the valid facts, a title the firm holds drawn as held; the values
    ``refused`` were left out, which is said once here (their messages are under their fields;
    ``unplaced``: those of no field shown); the ``cautions`` said under their fields go in the
    reports."""
    st.header(text("ladder.result", L))
    policy = rules_of(result)
    why = year_note(result.policy, result.year, L)
    st.caption(
        ui.literal(
            text("ladder.result_of", L, policy=policy.title.get(L), year=result.year, why=why)
        )
    )
    if refused:
        st.warning(ui.literal(left_out(refused, L)))
        for line in unplaced:
            st.error(ui.literal(line))
    for flag in result.flags:
        st.info(ui.literal(text("ladder.flag", L, text=flag)))
    for view in ladder_view(result, refused):
        show_rung(view)
    st.caption(ui.literal(confidence_note(L)))
    cited = documents_cited(result)
    if cited:
        # "No. 2 annex 1" beside each rule, and here what No. 2 is
        lines = "\n".join(f"- {ui.literal(d)}" for d in cited)
        st.caption(f"**{text('ladder.documents_cited', L)}**\n\n{lines}")
    # the ladder to keep, survey or not (the results page's report carries it after a survey);
    # made only when a button is pressed
    st.subheader(ui.t("downloads"))
    cols = st.columns(2)
    ui.download(
        cols[0],
        ui.t("download_html"),
        lambda: render_ladder_html(result, refused=refused, cautions=cautions).encode("utf-8"),
        "dmi-ladder.html",
        key="ladder_download_html",
    )
    ui.download(
        cols[1],
        ui.t("download_pdf"),
        lambda: render_ladder_pdf(result, refused=refused, cautions=cautions),
        "dmi-ladder.pdf",
        key="ladder_download_pdf",
    )


# -- the page -------------------------------------------------------------------------------------
def page(token: str) -> None:
    db = ui.store()
    if db.draft(token) is None:
        st.error(ui.t("resume_unknown"))
        st.session_state.pop("token", None)
        st.query_params.pop("resume", None)
        start_screen()
        return
    # one slot, shown or not, so that the elements below keep their place (an expander that
    # moved would be a new one, folded again, on the next run)
    note = st.empty()
    ui.put_in_address(resume=token)  # reached from the sidebar: a reload comes back here
    if st.session_state.pop("ladder_new_token", False):
        note.info(f"{text('ladder.code_note', L)}\n\n`{token}`")
    with st.sidebar:
        st.caption(ui.t("resume_code"))
        st.code(token, language=None)
    st.write(text("ladder.intro", L))

    level, words, submission_id, profiles, profile_at = carried(token)
    profile = profiles[L]
    if level is not None:
        st.info(words)
    else:
        st.caption(text("ladder.digital_none", L))

    stored = db.ladder(token)
    # a first visit starts from the province, sector and employees the survey asked; the
    # values refused come back in their fields, refused again
    start = {**stored.facts, **stored.refused} if stored else profile
    if stored is None:
        _reseed_on_language_change(profiles)
    if stored is not None and profile_at is not None and profile_at > stored.updated_at:
        # a survey submitted since the facts were kept fills those left blank (the pre-check
        # done first kept no staff, and the survey's 120 employees were never carried over)
        start = {**{k: v for k, v in profile.items() if k not in start}, **start}
    policy, given, slots = facts_form(
        start,
        stored.policy if stored else policy_in_force(),
        level,
    )
    if stored is None and given == form_facts(profile) and policy == policy_in_force():
        return  # nothing given yet, the rules in force: no result to show, nothing to keep
    # the valid facts evaluated and kept, whatever else is refused
    checked = check_facts(given, policy, level, L)
    result = checked.result
    # kept when a fact or the policy changed, and when the same facts now give another result
    # (new rules, a new digital level from a later survey)
    if (
        stored is None
        or stored.facts != checked.facts
        or stored.refused != checked.refused
        or stored.policy != policy
        or stored.submission_id != submission_id
        or stored.evaluation != _plain_row(result)
    ):
        db.save_ladder(token, checked.facts, policy, result.row, submission_id, checked.refused)
    # each refusal right under the field it names first (was: one box under the whole form)
    unplaced = []
    for code, lines in checked.messages.items():
        if code in slots:
            slots[code].error("  \n".join(ui.literal(x) for x in lines))
        else:
            unplaced += lines
    # values taken that may not mean what they say (a debt ratio of 0.8 %): under their fields
    for code, lines in checked.cautions.items():
        (slots[code] if code in slots else st).warning("  \n".join(ui.literal(x) for x in lines))
    show_result(result, checked.refused, unplaced, caution_lines(checked.cautions))


def _plain_row(result: FirmResult) -> dict[str, Any]:
    """The result row as the store gives it back (JSON: numbers as floats, no NaN)."""
    import json

    return json.loads(json.dumps(result.row, default=str))


st.title(text("ladder.title", L))
token = _token()
if token:
    st.session_state["token"] = token
    page(token)
else:
    start_screen()

"""The company survey: consent, profile, one page per dimension, a review of every answer,
submit.

Every change of an answer is saved to the draft at once (the widgets' ``on_change``), so a
refresh, a language switch or a page change loses nothing; the widgets show the draft's answers
(by value, never by label) on every run. The page is in the address (``?page=3``,
``?page=review``) with the resume code (``?resume=CODE``), so the browser's back and forward
buttons move between pages and a reload comes back where it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dmi_ui as ui
import streamlit as st

from dmi import available_instruments, load_instrument
from dmi.instruments import Instrument, Item, ProfileField
from dmi.locales import text
from dmi.service.survey import (
    ItemWidget,
    SurveyPage,
    answer_summary,
    check_page,
    clean_answers,
    item_widget,
    matrix_rows,
    missing_before_submit,
    survey_pages,
    tick,
)

L = ui.lang()


# -- the resume code and the page in the address ------------------------------------------------
def _token() -> str | None:
    token = st.session_state.get("token") or st.query_params.get("resume")
    return token or None


def _use_token(token: str) -> None:
    st.session_state["token"] = token
    ui.put_in_address(resume=token)


def _forget_token() -> None:
    st.session_state.pop("token", None)
    st.query_params.pop("resume", None)
    st.query_params.pop("page", None)


def _page_in_address(n_pages: int) -> int | None:
    """The page the address asks for: 0 .. n_pages - 1, n_pages for the review; else None."""
    wanted = st.query_params.get("page")
    if wanted == "review":
        return n_pages
    try:
        number = int(str(wanted))
    except ValueError:
        return None
    return number - 1 if 1 <= number <= n_pages else None


def _address_of(idx: int, n_pages: int) -> str:
    return "review" if idx >= n_pages else str(idx + 1)


def _go(idx: int, n_pages: int) -> None:
    """Open page ``idx`` (``n_pages``: the review): a new address, so the browser's back
    button returns here."""
    ui.put_in_address(page=_address_of(idx, n_pages))
    st.rerun()


# -- start screen -------------------------------------------------------------------------------
def start_screen() -> None:
    st.title(ui.t("app_title"))
    st.write(ui.t("survey_intro"))
    instruments = available_instruments()
    titles = {name: load_instrument(name).title.get(L) for name in instruments}
    default = (
        instruments.index(ui.DEFAULT_INSTRUMENT) if ui.DEFAULT_INSTRUMENT in instruments else 0
    )
    chosen = st.selectbox(
        ui.t("instrument"),
        instruments,
        format_func=titles.get,
        key=ui.shown_anew("instrument", instruments[default], instruments),
    )
    with st.container(border=True, key="consent_box"):
        st.markdown(f"**{ui.t('consent_title')}**")
        st.write(ui.consent_notice())
        agreed = st.checkbox(ui.t("consent_agree"), key="consent")
    if st.button(ui.t("start"), type="primary", key="start"):
        if not agreed:
            st.error(ui.t("consent_needed"))
        else:
            token = ui.store().new_draft(chosen, L)
            _use_token(token)
            st.session_state["new_token"] = True
            ui.put_in_address(page="1")
            st.rerun()
    st.divider()
    st.markdown(f"**{ui.t('resume_title')}**")
    with st.form("resume_form"):
        code = st.text_input(ui.t("resume_code"), key="resume_code")
        if st.form_submit_button(ui.t("resume")):
            if code.strip() and ui.store().draft(code.strip()) is not None:
                _use_token(code.strip())
                st.query_params.pop("page", None)
                st.rerun()
            else:
                st.error(ui.t("resume_unknown"))


# -- widgets: each shows the draft's answer and saves a change at once --------------------------
def _save(
    token: str,
    code: str,
    key: str,
    widget: ItemWidget | None = None,
    options: Sequence[Any] | None = None,
) -> None:
    """A widget's ``on_change``: put its new value in the draft (the exclusive rule of a
    multiple choice applied first, and shown). ``options``: a choice's values (default: the
    item widget's, for a choice)."""
    db = ui.store()
    draft = db.draft(token)
    if draft is None:
        return
    value = st.session_state.get(key)
    if options is None and widget is not None and widget.kind != "number":
        options = widget.values
    if options is not None and not ui.offered(value, options):
        return  # a name sent in the language before (ui.offered): the draft keeps its answer
    if widget is not None and widget.kind == "multiselect":
        value = tick(widget, widget.value, value or [])
        st.session_state[key] = value
    db.save_draft(token, {**draft.answers, code: value}, page=draft.page, lang=L)


def _shown(key: str, value: Any) -> str:
    """Give the widget ``key`` the draft's value for this run; return the key."""
    st.session_state[key] = value
    return key


def item_input(token: str, instrument: Instrument, item: Item, current: Any) -> None:
    """One question, with the widget its item type asks for (any ``Widget`` kind)."""
    widget = item_widget(instrument, item, current, L)
    label = item.text(L)
    help_ = item.help.get(L) if item.help else None
    key = f"q_{item.code}"
    labels = widget.labels
    callback = {"on_change": _save, "args": (token, item.code, key, widget)}
    if widget.kind == "multiselect":
        st.pills(
            label,
            widget.values,
            selection_mode="multi",
            format_func=labels.__getitem__,
            key=_shown(key, list(widget.value)),
            help=help_ or ui.t("multi_help"),
            **callback,
        )
    elif widget.kind == "number":
        unit = f" ({widget.unit})" if widget.unit else ""
        st.number_input(
            label + unit,
            value=None,
            min_value=None if widget.min is None else float(widget.min),
            max_value=None if widget.max is None else float(widget.max),
            key=_shown(key, widget.value),
            help=help_,
            **callback,
        )
    else:
        st.radio(
            label,
            widget.values,
            index=None,
            format_func=labels.__getitem__,
            key=_shown(key, widget.value),
            help=help_,
            horizontal=widget.horizontal,
            **callback,
        )


def matrix(token: str, items: list[Item], widgets: list[ItemWidget]) -> None:
    """Questions on one scale: a row each (the question, then the scale's values as a compact
    control), the scale's names and descriptions once above."""
    scale = widgets[0]
    st.markdown(
        " · ".join(f"**{ui.literal(scale.labels[v])}**" for v in scale.values),
        help=text("flow.matrix_help", L),
    )
    if scale.legend:
        with st.expander(text("flow.legend", L)):
            for value in scale.values:
                st.markdown(f"**{ui.literal(value)}** {ui.literal(scale.legend.get(value, ''))}")
    for item, widget in zip(items, widgets):
        key = f"q_{item.code}"
        with st.container(key=f"row_{item.code}", border=True):
            question, control = st.columns([3, 2], vertical_alignment="center")
            question.markdown(
                ui.literal(item.text(L)), help=item.help.get(L) if item.help else None
            )
            with control:
                st.segmented_control(
                    item.text(L),
                    widget.values,
                    format_func=str,  # the values: the names are given once above
                    key=_shown(key, widget.value),
                    label_visibility="collapsed",
                    on_change=_save,
                    args=(token, item.code, key, widget),
                )


def profile_widget(token: str, field_: ProfileField, current: Any) -> None:
    label = ui.pick(field_.zh, field_.en) + (" *" if field_.required else "")
    help_ = field_.help.get(L) if field_.help else None
    key = f"p_{field_.code}"
    callback: dict[str, Any] = {"on_change": _save, "args": (token, field_.code, key)}
    if field_.type == "choice":
        labels = {o.value: ui.pick(o.zh, o.en) for o in field_.options}
        values = list(labels)
        callback["kwargs"] = {"options": values}
        st.selectbox(
            label,
            values,
            index=None,
            format_func=labels.__getitem__,
            key=_shown(key, current if current in labels else None),
            help=help_,
            placeholder=ui.t("choose"),
            **callback,
        )
    elif field_.type == "number":
        try:
            value = None if current in (None, "") else float(current)
        except (TypeError, ValueError):
            value = None
        st.number_input(
            label,
            value=None,
            min_value=None if field_.min is None else float(field_.min),
            max_value=None if field_.max is None else float(field_.max),
            key=_shown(key, value),
            help=help_,
            **callback,
        )
    else:
        st.text_input(
            label, key=_shown(key, str(current or "")), help=help_, max_chars=200, **callback
        )


def questions(token: str, instrument: Instrument, page: SurveyPage, answers: dict) -> None:
    """A page's questions in order; those that follow one another on one scale as a matrix."""
    for field_ in page.profile:
        profile_widget(token, field_, answers.get(field_.code))
    items = list(page.items)
    widgets = [item_widget(instrument, item, answers.get(item.code), L) for item in items]
    runs = {start: stop for start, stop in matrix_rows(widgets)}
    i = 0
    while i < len(items):
        if i in runs:
            matrix(token, items[i : runs[i]], widgets[i : runs[i]])
            i = runs[i]
        else:
            item_input(token, instrument, items[i], answers.get(items[i].code))
            i += 1


# -- pages --------------------------------------------------------------------------------------
def survey(token: str) -> None:
    db = ui.store()
    draft = db.draft(token)
    if draft is None:
        st.error(ui.t("resume_unknown"))
        _forget_token()
        if st.button(ui.t("new_survey"), key="restart"):
            st.rerun()
        return
    instrument = load_instrument(draft.instrument_id)
    pages = survey_pages(instrument)
    answers = dict(draft.answers)
    n = len(pages)
    idx = _page_in_address(n)
    if idx is None:
        # no page asked for (a resume code, the sidebar): where the draft was left, or the
        # review when every question is answered (as after a submission)
        idx = max(0, min(int(draft.page), n))
        if not missing_before_submit(instrument, answers, L):
            idx = n
        ui.put_in_address(page=_address_of(idx, n))
    ui.put_in_address(resume=token)  # a reload comes back here
    if idx != draft.page:
        db.save_draft(token, answers, page=idx, lang=L)

    st.title(instrument.title.get(L))
    if st.session_state.pop("new_token", False):
        st.info(f"{ui.t('your_code')}\n\n`{token}`")
    with st.sidebar:
        st.caption(ui.t("resume_code"))
        st.code(token, language=None)
    st.progress(idx / n, text=ui.t("page_of", page=min(idx + 1, n + 1), total=n + 1))

    if idx == n:
        review(instrument, pages, answers, token)
        return
    page = pages[idx]
    editing = st.session_state.get("edit_from_review") == page.code
    st.header(page.title(L))
    questions(token, instrument, page, answers)
    problems_box = st.container()
    left, right = st.columns(2)
    back = left.button(ui.t("back"), disabled=idx == 0 or editing, key="back")
    forward_label = text("flow.save_review", L) if editing else ui.t("save_next")
    forward = right.button(forward_label, type="primary", key="next")
    if back:
        _go(idx - 1, n)
    if forward:
        problems = check_page(instrument, page, answers, L)
        if problems:
            names = {f.code: ui.pick(f.zh, f.en) for f in page.profile}
            names.update({i.code: i.text(L) for i in page.items})
            lines = "\n".join(
                f"- {ui.literal(names.get(code, code))}: {ui.literal(reason)}"
                for code, reason in problems.items()
            )
            problems_box.error(ui.t("fix_page", n=len(problems)) + "\n" + lines)
        else:
            st.session_state.pop("edit_from_review", None)
            _go(n if editing else idx + 1, n)


def review(instrument: Instrument, pages: list, answers: dict[str, Any], token: str) -> None:
    st.session_state.pop("edit_from_review", None)
    st.header(text("flow.review_title", L))
    missing = missing_before_submit(instrument, answers, L)
    if missing:
        st.warning(ui.t("review_missing"))
    else:
        st.success(ui.t("review_text"))
    unanswered = text("flow.unanswered", L)
    for number, (page, rows) in enumerate(answer_summary(instrument, answers, L)):
        with st.container(border=True, key=f"summary_{page.code}"):
            head, edit = st.columns([4, 1], vertical_alignment="center")
            head.subheader(page.title(L))
            if page.code in missing:
                head.caption(text("flow.page_missing", L, n=len(missing[page.code])))
            if edit.button(ui.t("edit_page"), key=f"edit_{page.code}"):
                st.session_state["edit_from_review"] = page.code
                _go(number, len(pages))
            lines = [
                f"**{ui.literal(question)}**  \n"
                + (ui.literal(answer) if answer is not None else f"*{unanswered}*")
                for question, answer in rows
            ]
            st.markdown("\n\n".join(lines))
    left, right = st.columns(2)
    if left.button(ui.t("back"), key="review_back"):
        _go(len(pages) - 1, len(pages))
    if right.button(ui.t("submit"), type="primary", disabled=bool(missing), key="submit"):
        reference = ui.reference(instrument.id)
        cleaned = clean_answers(answers)
        result = reference.assess(cleaned)
        scores = dict(result.scores_row)
        if result.tier is not None:
            scores["tier"] = result.tier.tier
            scores["tier_confidence"] = result.tier.confidence
        ui.store().submit(token, cleaned, reference.version, scores)
        st.switch_page("app_pages/results.py", query_params={"resume": token})


token = _token()
if token:
    st.session_state["token"] = token
    survey(token)
else:
    start_screen()

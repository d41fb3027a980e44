"""The company survey: consent, profile, one page per dimension, submit. Drafts are saved on
every page submit and come back with the resume code (``?resume=CODE`` in the address)."""

from __future__ import annotations

from typing import Any

import dmi_ui as ui
import streamlit as st

from dmi import available_instruments, load_instrument
from dmi.instruments import Instrument, Item, ProfileField
from dmi.service.survey import (
    check_page,
    clean_answers,
    item_widget,
    missing_before_submit,
    survey_pages,
)

L = ui.lang()


def _token() -> str | None:
    token = st.session_state.get("token") or st.query_params.get("resume")
    return token or None


def _use_token(token: str) -> None:
    st.session_state["token"] = token
    st.query_params["resume"] = token


def _forget_token() -> None:
    for key in ("token", "page_idx"):
        st.session_state.pop(key, None)
    st.query_params.pop("resume", None)


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
        ui.t("instrument"), instruments, index=default, format_func=titles.get, key="instrument"
    )
    with st.container(border=True):
        st.markdown(f"**{ui.t('consent_title')}**")
        st.write(ui.t("consent_text", days=ui.retention_days()))
        agreed = st.checkbox(ui.t("consent_agree"), key="consent")
    if st.button(ui.t("start"), type="primary", key="start"):
        if not agreed:
            st.error(ui.t("consent_needed"))
        else:
            token = ui.store().new_draft(chosen, L)
            _use_token(token)
            st.session_state["page_idx"] = 0
            st.session_state["new_token"] = True
            st.rerun()
    st.divider()
    st.markdown(f"**{ui.t('resume_title')}**")
    with st.form("resume_form"):
        code = st.text_input(ui.t("resume_code"), key="resume_code")
        if st.form_submit_button(ui.t("resume")):
            if code.strip() and ui.store().draft(code.strip()) is not None:
                _use_token(code.strip())
                st.session_state.pop("page_idx", None)
                st.rerun()
            else:
                st.error(ui.t("resume_unknown"))


# -- widgets ------------------------------------------------------------------------------------
def _choice(
    label: str,
    values: list[Any],
    labels: dict[Any, str],
    current: Any,
    key: str,
    help_: str | None,
    horizontal: bool = False,
) -> Any:
    index = values.index(current) if current in values else None
    return st.radio(
        label,
        values,
        index=index,
        format_func=labels.__getitem__,
        key=key,
        help=help_,
        horizontal=horizontal,
    )


def item_input(instrument: Instrument, item: Item, current: Any) -> Any:
    label = item.text(L)
    help_ = item.help.get(L) if item.help else None
    key = f"q_{item.code}"
    widget = item_widget(instrument, item, current, L)
    if widget.kind == "multiselect":
        return st.multiselect(
            label,
            widget.values,
            default=widget.value,
            format_func=widget.labels.__getitem__,
            key=key,
            help=help_ or ui.t("multi_help"),
            placeholder=ui.t("choose"),
        )
    if widget.kind == "number":
        unit = f" ({widget.unit})" if widget.unit else ""
        return st.number_input(
            label + unit,
            value=widget.value,
            min_value=widget.min,
            max_value=widget.max,
            key=key,
            help=help_,
        )
    return _choice(label, widget.values, widget.labels, widget.value, key, help_, widget.horizontal)


def profile_widget(field_: ProfileField, current: Any) -> Any:
    label = ui.pick(field_.zh, field_.en) + (" *" if field_.required else "")
    help_ = field_.help.get(L) if field_.help else None
    key = f"p_{field_.code}"
    if field_.type == "choice":
        labels = {o.value: ui.pick(o.zh, o.en) for o in field_.options}
        values = list(labels)
        index = values.index(current) if current in values else None
        return st.selectbox(
            label,
            values,
            index=index,
            format_func=labels.__getitem__,
            key=key,
            help=help_,
            placeholder=ui.t("choose"),
        )
    if field_.type == "number":
        value = float(current) if current not in (None, "") else None
        return st.number_input(
            label, value=value, min_value=field_.min, max_value=field_.max, key=key, help=help_
        )
    return st.text_input(label, value=str(current or ""), key=key, help=help_, max_chars=200)


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
    idx = st.session_state.get("page_idx", draft.page)
    idx = max(0, min(int(idx), len(pages)))
    st.session_state["page_idx"] = idx

    st.title(instrument.title.get(L))
    if st.session_state.pop("new_token", False):
        st.info(f"{ui.t('your_code')}\n\n`{token}`")
    with st.sidebar:
        st.caption(ui.t("resume_code"))
        st.code(token, language=None)
    st.progress(
        idx / len(pages),
        text=ui.t("page_of", page=min(idx + 1, len(pages) + 1), total=len(pages) + 1),
    )

    if idx == len(pages):
        review(instrument, pages, answers, token)
        return
    page = pages[idx]
    st.header(page.title(L))
    with st.form(f"page_{page.code}"):
        values: dict[str, Any] = {}
        for field_ in page.profile:
            values[field_.code] = profile_widget(field_, answers.get(field_.code))
        for item in page.items:
            values[item.code] = item_input(instrument, item, answers.get(item.code))
        left, right = st.columns(2)
        back = left.form_submit_button(ui.t("back"), disabled=idx == 0, key="back")
        forward = right.form_submit_button(ui.t("save_next"), type="primary", key="next")
    if back or forward:
        answers.update(values)
        problems = check_page(instrument, page, answers, L) if forward else {}
        target = idx - 1 if back else (idx if problems else idx + 1)
        db.save_draft(token, answers, page=target, lang=L)
        if problems:
            names = {f.code: ui.pick(f.zh, f.en) for f in page.profile}
            names.update({i.code: i.text(L) for i in page.items})
            lines = "\n".join(
                f"- {names.get(code, code)}: {ui.literal(reason)}"
                for code, reason in problems.items()
            )
            st.error(ui.t("fix_page", n=len(problems)) + "\n" + lines)
        else:
            st.session_state["page_idx"] = target
            st.rerun()


def review(instrument: Instrument, pages: list, answers: dict[str, Any], token: str) -> None:
    st.header(ui.t("review_title"))
    missing = missing_before_submit(instrument, answers, L)
    titles = {p.code: p.title(L) for p in pages}
    if missing:
        st.warning(ui.t("review_missing"))
        for number, page in enumerate(pages):
            if page.code in missing:
                cols = st.columns([4, 1])
                cols[0].write(f"**{titles[page.code]}**: {len(missing[page.code])}")
                if cols[1].button(ui.t("edit_page"), key=f"edit_{page.code}"):
                    st.session_state["page_idx"] = number
                    st.rerun()
    else:
        st.success(ui.t("review_text"))
    left, right = st.columns(2)
    if left.button(ui.t("back"), key="review_back"):
        st.session_state["page_idx"] = len(pages) - 1
        st.rerun()
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

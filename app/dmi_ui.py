"""Shared parts of the app's pages: language, text, the store, the reference, sign-in.

Nothing here computes a score: that is the library's job (``dmi``). This module only connects
Streamlit's session to it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dmi import locales
from dmi.io import csv_bytes
from dmi.report.content import format_score
from dmi.scoring.levels import format_index
from dmi.service import bulkview
from dmi.service.auth import Account, SignInGuard, accounts_from_secrets, client_address
from dmi.service.reference import Reference, method_label, shipped_reference
from dmi.service.store import Store
from dmi.service.uploads import remove_stale_uploads

DEFAULT_INSTRUMENT = "miit-2024-manufacturing"
LANGS = {"zh": "中文", "en": "English"}


# -- the server process -------------------------------------------------------------------------

_modules_when_frozen = 0


def freeze_loaded_modules() -> None:
    """Take what the server process has loaded (modules, the cached reference) out of the
    garbage collector's full passes, after a run that imported modules.

    Streamlit collects fully after every run of the script, holding the interpreter's lock,
    and a full pass walks every object alive: with the app's libraries loaded that was about
    0.1-0.2 s of every widget change of every visitor. Frozen objects are still freed when
    nothing refers to them; only cycles among them stay. Freezing only after a run that
    imported something, and after collecting that run's garbage, keeps that to the modules and
    what was alive beside them (a few times a process, as pages are first opened), not every
    visitor's passing state.
    """
    global _modules_when_frozen
    if len(sys.modules) > _modules_when_frozen:
        gc.collect()  # this run's garbage first: frozen, its cycles would never be freed
        gc.freeze()
        _modules_when_frozen = len(sys.modules)


# -- language -----------------------------------------------------------------------------------
def lang() -> str:
    """The visit's language: ``?lang=`` in the address, else the one chosen earlier in the
    session, else the browser's locale.

    The choice is written back into the address, so that it holds on every page of the
    visit (a page that drops the address's parameters gets it back from the session), comes
    back on a reload and travels in a copied link, whatever the browser's language.
    """
    wanted = st.query_params.get("lang")
    if wanted not in LANGS:
        wanted = st.session_state.get("lang")
    if wanted not in LANGS:
        locale = str(getattr(st.context, "locale", None) or "")
        wanted = "zh" if locale.lower().startswith("zh") or not locale else "en"
    st.session_state["lang"] = wanted
    put_in_address(lang=wanted)
    return wanted


def put_in_address(**params: str) -> None:
    """Write ``params`` into the page's address, each only where it differs.

    Every write sends the whole address to the browser, which makes it a new history entry
    when it differs from the one shown. A write that only repeats the address could arrive
    after the visitor pressed back, push the page left behind and take the forward button's
    page away; so nothing is sent when nothing moved.
    """
    for name, value in params.items():
        if st.query_params.get(name) != value:
            st.query_params[name] = value


def pick(zh: str, en: str) -> str:
    """The text in the session's language, of a pair given in both."""
    return zh if lang() == "zh" else en


def t(key: str, **values: Any) -> str:
    """The app's interface text ``key`` (``app.<key>`` of :mod:`dmi.locales`) in the session's
    language, formatted with ``values``."""
    return locales.text(f"app.{key}", lang(), **values)


def text(key: str, **values: Any) -> str:
    """Any interface text ``key`` (``<area>.<name>`` of :mod:`dmi.locales`, e.g.
    ``agency.left_out``) in the session's language, formatted with ``values``."""
    return locales.text(key, lang(), **values)


# CommonMark: a backslash before any ASCII punctuation character shows that character as it is
_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")
# GFM links bare http(s)://..., www.... and name@host in the text left after escapes are read;
# an invisible word joiner (U+2060) before the ':', '.' or '@' breaks each of those patterns
_AUTOLINK = re.compile(r"(?i)(?<=https)(?=:)|(?<=http)(?=:)|(?<=www)(?=\.)|(?=@)")


# an & only before an entity's name, a : only before a shortcode's or directive's (":red[")
_LABEL_MARKUP = re.compile(r"([\\`*_\[\]!~$<>|]|&(?=#?[0-9A-Za-z]+;)|:(?=[\w+-]))")
_BLOCK_START = re.compile(r"^([-+*#>=|])|^(\d+)([.)])")


def label_text(value: object) -> str:
    """``value`` as the Markdown of a widget's label that shows the text it is, escaping only
    what can start markup in one line (emphasis, code, a link or image, a tag, an entity, a
    directive or formula, a list, heading or quote at the start).

    Not :func:`literal`: a label is also the field's ``aria-label`` as given, and a screen
    reader reads the backslash before every other punctuation mark (``资产负债率（\\%）``).
    """
    text = _LABEL_MARKUP.sub(r"\\\1", _AUTOLINK.sub("\u2060", " ".join(str(value).split())))
    return _BLOCK_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)


def literal(value: object) -> str:
    """``value`` as Markdown that Streamlit shows as the text it is.

    Every element that renders Markdown (``st.markdown``, ``st.write``, ``st.caption``, alerts,
    headers, labels, ...) must get user text (company names, file names and headers, cell
    values, messages quoting them, account names) through this: no link, image, emphasis,
    heading, list, HTML tag, formula or Streamlit directive can start in it, and no address in
    it becomes a link.
    """
    return _MARKUP.sub(r"\\\1", _AUTOLINK.sub("\u2060", str(value)))


_LAST_CHOICE = "__last_choice"  # beside a selectbox's key: the choice read last (shown_anew)


def shown_anew(key: str, default: Any, options: Sequence[Any]) -> str:
    """Give the keyed choice widget ``key`` (a selectbox, a multiselect, a radio) its value anew
    on this run (``default`` the first time) and return the key. The browser keeps a choice by
    its shown name when only the names of its options change: after a change of language a
    selectbox still showed the other language's name, a radio given an ``index`` no option
    ticked.

    A choice that is not among ``options`` (:func:`offered`: a name sent in the language before)
    is not taken: the choice this session last read is kept (it had been taken for no option, the
    box went blank and a fact was saved as unknown), else ``default``.
    """
    last = f"{key}{_LAST_CHOICE}"
    chosen = st.session_state.get(key, default)
    if not offered(chosen, options):
        chosen = st.session_state.get(last, default)
    if not offered(chosen, options):  # the options changed since (other data, say)
        chosen = default
    st.session_state[key] = chosen
    st.session_state[last] = chosen
    return key


def offered(value: Any, options: Sequence[Any]) -> bool:
    """Whether a choice widget's ``value`` is one of its ``options`` (each of them, for a
    multiple choice), or none chosen.

    The browser sends a choice by its name. A run it asks for before it has drawn the names of
    a new language sends the names of the one before, which Streamlit hands on as they are:
    none of them is an answer.
    """
    if value is None:
        return True
    if isinstance(value, list | tuple):
        return all(v in options for v in value)
    return value in options


def seeded(key: str, value: Any) -> str:
    """Give the keyed widget ``key`` its first value through the session, not as its default,
    and return the key. Streamlit puts a number box's default back when the box is emptied: a
    stored value given as the default could never be taken back (a blank is "not known")."""
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def keep_choices(*keys: str) -> None:
    """Keep the values of these widgets while another page is shown: Streamlit forgets a
    widget's value once a run does not draw it (the bulk page's choices were back to their
    defaults after a look at the dashboard)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _switch_language() -> None:
    choice = st.session_state.get("lang_switch")
    if choice in LANGS:
        st.session_state["lang"] = choice
        put_in_address(lang=choice)


def language_switch() -> None:
    """The zh/en switch in the sidebar: the whole page is drawn again in the language chosen
    (answers not yet sent anywhere are the pages' own: the survey saves each on its change)."""
    st.session_state["lang_switch"] = lang()
    st.sidebar.radio(
        t("language"),
        list(LANGS),
        format_func=LANGS.__getitem__,
        horizontal=True,
        key="lang_switch",
        on_change=_switch_language,
    )


# -- store and reference ------------------------------------------------------------------------
@st.cache_resource
def store() -> Store:
    """The database (``DMI_DATABASE_URL``, default ``var/dmi.sqlite``), expired rows purged."""
    days = int(os.environ.get("DMI_RETENTION_DAYS", "365"))
    db = Store(retention_days=days)
    db.purge_expired()
    return db


@st.cache_resource(show_spinner=False)
def _reference_by_version(version: str, _document: str) -> Reference:
    # keyed by the version alone: it is the hash of the document
    return Reference.from_json(_document)


def reference(instrument_id: str) -> Reference:
    """The companies' reference of an instrument: the published one (the shipped one is
    published on first use), which is always of the official method.

    The admin page publishes only official references. A research reference published by an
    earlier version of the app is passed over: companies get the newest published official
    one, else the shipped one (stored, so that submissions can record it).
    """
    db = store()
    stored = db.ensure_reference(lambda: shipped_reference(instrument_id), instrument_id)
    found = _reference_by_version(stored.version, stored.document)
    if found.is_official:
        return found
    for other in db.list_references(instrument_id):  # newest first
        if other.published_at is not None and other.version != stored.version:
            earlier = _reference_by_version(other.version, other.document)
            if earlier.is_official:
                return earlier
    shipped = shipped_reference(instrument_id)
    db.add_reference(shipped, created_by="system")
    return _reference_by_version(shipped.version, shipped.to_json())


def reference_version(version: str) -> Reference | None:
    """A stored reference by version (results are re-shown with the reference that made them)."""
    stored = store().reference(version)
    return None if stored is None else _reference_by_version(stored.version, stored.document)


def company_reference(version: str, instrument_id: str) -> tuple[Reference, bool]:
    """The reference a company's result is shown with, and whether it is the recorded one.

    The recorded reference when it is of the official method; otherwise (a submission scored
    with a research reference by an earlier version of the app) the companies' reference,
    because a company's index and level are always the official ones.
    """
    recorded = reference_version(version)
    if recorded is not None and recorded.is_official:
        return recorded, True
    return reference(instrument_id), False


def miit_level(history: Sequence[Any]) -> tuple[int | None, Any]:
    """The digital level the 梯度培育 rules take (their 数字化水平) from a company's submissions
    (oldest first), and the submission it is of: the latest MIIT survey submission's
    (:func:`dmi.service.ladder.miit_submission`; another survey's levels are not the MIIT's),
    the official level as its results page shows it (one recorded with a research reference by
    an earlier version of the app assessed again with the companies' one). (None, None)
    without one. The pre-check and the results page's ladder take it from here alike."""
    from dmi.eligibility import FACTS
    from dmi.service.ladder import CARRIED, miit_submission

    found = miit_submission(history)
    if found is None:
        return None, None
    reference_, recorded = company_reference(found.reference_version, found.instrument_id)
    level = found.level if recorded else reference_.assess(found.answers).level
    fact = FACTS[CARRIED]
    if not (fact.min <= level <= fact.max):  # a survey without the MIIT levels
        return None, None
    return int(level), found


def method_of(version: str) -> str:
    """The index method (``method_id``) of a stored reference; ``"unknown"`` when it is gone,
    which compares equal to no other method."""
    found = reference_version(version)
    return "unknown" if found is None else found.index_model.method_id


def describe_method(ref: Reference) -> str:
    """The reference's use and method in a few words, in the session's language."""
    model = ref.index_model
    if ref.is_official:
        return t("use_companies")
    method = " · ".join(
        method_label(kind, getattr(model, kind), lang())
        for kind in ("weighting", "normalisation", "aggregation")
    )
    return t("use_research", method=method)


@st.cache_resource(show_spinner=False)
def remove_leftover_uploads() -> None:
    """Once per server process: remove the upload folders of runs that an earlier process did
    not end (killed in the middle). The pages that take uploads do it at each run's start too."""
    with contextlib.suppress(OSError):  # a misconfigured folder is reported where it is used
        remove_stale_uploads()


def retention_days() -> int:
    return store().retention_days


def controller() -> tuple[str, str]:
    """The data controller named in the consent notice, and how to contact them: the
    secrets' ``[dmi.controller]`` ``name`` and ``contact``, else ``DMI_CONTROLLER`` and
    ``DMI_CONTROLLER_CONTACT``; empty when not configured."""
    conf = (_secrets().get("dmi") or {}).get("controller") or {}
    name = str(conf.get("name") or os.environ.get("DMI_CONTROLLER", "")).strip()
    contact = str(conf.get("contact") or os.environ.get("DMI_CONTROLLER_CONTACT", "")).strip()
    return name, contact


def consent_notice() -> str:
    """The consent notice in the page's language, naming the data controller and the days the
    data are kept (one text for every page that asks for consent)."""
    name, contact = controller()
    unset = locales.text("flow.controller_unset", lang())
    return locales.text(
        "flow.consent_text",
        lang(),
        controller=literal(name or unset),
        contact=literal(contact or unset),
        days=retention_days(),
    )


# -- the companies of this visit ----------------------------------------------------------------
def companies_box() -> None:
    """In the sidebar: the resume codes of the companies filled in during this visit and,
    once the current one has been submitted, "start a new company" (a consultant filling in
    for several companies): a clean draft of the same instrument, the previous code kept in
    the list."""
    token = st.session_state.get("token") or st.query_params.get("resume")
    earlier: list[str] = st.session_state.setdefault("visit_codes", [])
    if not token:
        return
    db = store()
    draft = db.draft(token)
    if draft is None or not db.submissions(token):
        if earlier:
            _visit_list(earlier)
        return
    _visit_list(earlier)
    if st.sidebar.button(locales.text("flow.new_company", lang()), key="new_company"):
        if token not in earlier:
            earlier.append(token)
        new = db.new_draft(draft.instrument_id, lang())
        st.session_state["token"] = new
        st.session_state["new_token"] = True
        st.switch_page(
            "app_pages/survey.py", query_params={"resume": new, "page": "1", "lang": lang()}
        )


def _visit_list(codes: list[str]) -> None:
    with st.sidebar.expander(locales.text("flow.visit_codes", lang(), n=len(codes))):
        for code in codes:
            draft = store().draft(code)
            name = (draft.answers.get("company_name") if draft else None) or "—"
            st.caption(literal(name))
            st.code(code, language=None)


# -- sign-in ------------------------------------------------------------------------------------
def _secrets() -> dict[str, Any]:
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets file, or a malformed one: no accounts (the page says so)
        return {}


def _sso_configured(conf: dict[str, Any]) -> bool:
    return bool(conf.get("auth")) and hasattr(st, "login")


def _sso_account(conf: dict[str, Any]) -> Account | None:
    user = getattr(st, "user", None)
    if user is None or not getattr(user, "is_logged_in", False):
        return None
    email = str(user.get("email") or "")
    roles = (conf.get("dmi") or {}).get("sso_roles", {}).get(email, [])
    return Account(email, frozenset(roles))


def account() -> Account | None:
    """The signed-in account, if any."""
    found = st.session_state.get("account")
    if found is not None:
        return found
    conf = _secrets()
    if _sso_configured(conf):
        return _sso_account(conf)
    return None


def require(role: str) -> Account:
    """Stop the page with a sign-in form unless an account with ``role`` is signed in."""
    current = account()
    if current is not None and current.may(role):
        return current
    if current is not None:
        st.error(t("no_role"))
        st.stop()
    st.info(t("login_needed", role=t(f"role_{role}")))
    login_form()
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def login_form() -> None:
    """Name and password form (and the identity provider's button when one is configured)."""
    conf = _secrets()
    if _sso_configured(conf):
        if st.button(t("login_sso"), key="login_sso"):
            st.login()
    try:
        known = accounts_from_secrets(conf)
    except ValueError as exc:  # names an account of the secrets file
        st.error(literal(exc))
        return
    if not known:
        st.warning(t("no_accounts"))
        return
    with st.form("login"):
        name = st.text_input(t("username"), key="login_name")
        password = st.text_input(t("password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login"))
    if submitted:
        # the same answers whether or not the name is an account (see dmi.service.auth.SignInGuard)
        outcome = SignInGuard(store()).sign_in(conf, name, password, client())
        if outcome.retry_after:
            seconds = outcome.retry_after
            wait = (
                t("wait_seconds", n=seconds)
                if seconds < 60
                else t("wait_minutes", n=-(-seconds // 60))
            )
            st.error(t("login_throttled", wait=wait))
        elif outcome.account is None:
            st.error(t("login_failed"))
        else:
            st.session_state["account"] = outcome.account
            st.rerun()


def client() -> str:
    """The visitor's address, as failed sign-ins are counted (see
    :func:`dmi.service.auth.client_address`).

    ``X-Forwarded-For`` is read only when ``DMI_TRUSTED_PROXIES`` says how many reverse proxies
    of one's own stand before the app.
    """
    trusted = int(os.environ.get("DMI_TRUSTED_PROXIES", "0"))
    forwarded = st.context.headers.get_all("X-Forwarded-For") if trusted else []
    return client_address(st.context.ip_address, forwarded, trusted)


def account_title() -> str:
    """The sidebar's entry of the account page: who is signed in (name and roles), else
    "sign in"."""
    current = account()
    if current is None:
        return t("nav_account")
    roles = ", ".join(t(f"role_{r}") for r in sorted(current.roles)) or "-"
    # a navigation label is shown as plain text: the name needs no escaping there
    return locales.text("admin.nav_signed_in", lang(), name=current.name, roles=roles)


def sign_out() -> None:
    """Forget the signed-in account (and end an identity provider's session)."""
    st.session_state.pop("account", None)
    if getattr(st, "user", None) is not None and getattr(st.user, "is_logged_in", False):
        st.logout()
    st.rerun()


def account_box() -> None:
    """Who is signed in, in the sidebar, with a sign-out button."""
    current = account()
    if current is None:
        return
    roles = ", ".join(t(f"role_{r}") for r in sorted(current.roles)) or "-"
    st.sidebar.caption(t("login_as", name=literal(current.name), roles=roles))
    if st.sidebar.button(t("logout"), key="logout"):
        sign_out()


# -- files --------------------------------------------------------------------------------------
def file_error(exc: Exception, name: str) -> str:
    """What is wrong with an uploaded file, in the session's language, as Markdown.

    The file is named as it was uploaded (``name``), never by the server's path of its copy,
    and the command line's hints (``--encoding``, ``--map``) are not given: the page's own
    widgets say how to fix it. A :class:`dmi.io.FileFormatError` says what is wrong as data
    (``problem``, ``details``); another error is shown as its message, the copy's path replaced
    by the name.
    """
    problem = getattr(exc, "problem", None)
    raw = dict(getattr(exc, "details", {}))
    if "instrument" in raw:  # by its title, as the page names it elsewhere
        raw["instrument"] = bulkview.instrument_title(str(raw["instrument"]), lang())
    details = {k: literal(v) for k, v in raw.items()}
    if problem and f"app.file_{problem}" in locales.table():
        return t(f"file_{problem}", name=literal(name), **details)
    message = str(exc)
    path = getattr(exc, "path", None)
    if path is not None:
        message = message.replace(str(path), name)
    return f"{t('file_error', name=literal(name))} {literal(message)}"


# -- uploads ------------------------------------------------------------------------------------
# .xls: survey tools name their Excel downloads so (a workbook in .xlsx form, read as one; a
# real Excel 97-2003 file is refused with what to do)
UPLOAD_TYPES = ["csv", "txt", "xlsx", "xls", "parquet"]


def staged_upload(upload: Any, folder: Path) -> Path:
    """An upload written into a run's ``folder``, named by its type (the readers go by it; a
    name without one is read as CSV)."""
    source = folder / f"upload{Path(upload.name).suffix.lower() or '.csv'}"
    source.write_bytes(upload.getbuffer())
    return source


def table_uploader(key: str) -> Any:
    """The uploader of a table file, worded in the page's language.

    Streamlit's uploader words its own button and limits in English: the limits line is hidden
    and said below in the page's language; the button's label is replaced by the page's word.
    """
    st.html(
        "<style>"
        '[data-testid="stFileUploaderDropzoneInstructions"]{display:none}'
        '[data-testid="stFileUploaderDropzone"] button p{font-size:0}'
        '[data-testid="stFileUploaderDropzone"] button p::after{content:"'
        + locales.text("agency.upload_button", lang()).replace('"', "")
        + '";font-size:0.875rem}'
        "</style>"
    )
    upload = st.file_uploader(t("upload"), type=UPLOAD_TYPES, key=key)
    st.caption(
        locales.text(
            "agency.upload_limits", lang(), size="200 MB", types="CSV, TXT, XLSX, XLS, Parquet"
        )
    )
    return upload


def edited_table(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """What ``st.data_editor(table, key=key)`` returns in this run, known before it is drawn:
    ``table`` with the cell edits the browser sent (the editor's state in the session).

    A page that shows what follows from the edits in the editor itself (a column computed
    from the edited ones) works it out from this, then draws the editor with it.
    """
    edited = table.copy()
    state = st.session_state.get(key) or {}
    for row, changes in state.get("edited_rows", {}).items():
        for column, value in changes.items():
            if column in edited.columns:
                edited.iat[int(row), edited.columns.get_loc(column)] = value
    return edited


# -- downloads ----------------------------------------------------------------------------------
_MIME = {
    ".csv": "text/csv",
    ".html": "text/html",
    ".pdf": "application/pdf",
    ".json": "application/json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def download(
    where: Any,
    label: str,
    data: pd.DataFrame | bytes | Callable[[], bytes],
    file_name: str,
    key: str,
    help: str | None = None,
) -> None:
    """A download button; every download of the app is offered through this.

    Parameters
    ----------
    where
        ``st`` or a container (a column).
    help
        What the file holds, shown beside the button (a label kept short is read whole in a
        narrow column).
    data
        A table is offered as CSV made by :func:`dmi.io.csv_bytes`, as every CSV file dmi
        writes: text a spreadsheet would run as a formula (``=HYPERLINK(...)``) is escaped.
        Bytes are files dmi's own writers made (escaped alike) or reports; a callable makes
        them only when the button is pressed.
    """
    if isinstance(data, pd.DataFrame):
        data = csv_bytes(data)
    # on_click="ignore": a download does not rerun the page (which would drop the pending
    # callables of the other buttons)
    where.download_button(
        label,
        data,
        file_name,
        _MIME[Path(file_name).suffix],
        key=key,
        help=help,
        on_click="ignore",
    )


def level_name(instrument: Any, level: int) -> str:
    """The level's label in the session's language."""
    band = instrument.level_band(int(level))
    return band.zh if lang() == "zh" else band.en


def index_text(value: float | None, instrument: Any) -> str:
    """An index value as written everywhere (never across a band edge: 39.95 is 39.9)."""
    return format_index(value, instrument)


def score_text(value: float | None) -> str:
    """A score (a dimension's, a peer group's median) as written everywhere: one decimal, as
    the report writes it (:func:`dmi.report.content.format_score`: 75 is 75.0), a dash when
    missing. A page shows its scores as this text, never as numbers left to a widget's own
    format (a table would write 75.0 as 75 beside a 33.3)."""
    return format_score(value)


# -- charts ---------------------------------------------------------------------------------------
def stacked_bars(frame: pd.DataFrame) -> None:
    """Each row of ``frame`` as a horizontal bar stacked by its columns, in the columns' order:
    the legend, the stacks and the colours follow it (levels 未达一级 to 四级, tiers 1 to 5) in
    either language. Streamlit's own chart orders the series by name, so the colour of a level
    changed with the language and 三级 came before 二级."""
    import altair as alt

    series = [str(c) for c in frame.columns]
    groups = [str(g) for g in frame.index]
    data = pd.DataFrame(frame.to_numpy(), index=groups, columns=series)
    long = data.rename_axis("group").reset_index().melt("group", var_name="series", value_name="n")
    long["order"] = long["series"].map({s: i for i, s in enumerate(series)})
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("group:N", sort=groups, title=str(frame.index.name or "")),
            x=alt.X("n:Q", stack="zero", title=None),
            color=alt.Color(
                "series:N",
                scale=alt.Scale(domain=series),
                sort=series,
                legend=alt.Legend(title=None, orient="bottom", labelLimit=0),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("group:N", title=str(frame.index.name or "")),
                alt.Tooltip("series:N", title=""),
                alt.Tooltip("n:Q", title=""),
            ],
        )
    )
    st.altair_chart(chart, width="stretch")

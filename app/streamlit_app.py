"""dmi — the SME Digital Maturity Index app (中小企业数字化发展指数).

Run with ``make run`` (or ``streamlit run app/streamlit_app.py``). Company pages are public;
the agency, research and administration pages need an account (see the README).
"""

from __future__ import annotations

import dmi_ui as ui
import streamlit as st
from dmi_ui import text

# the tab's title in the visit's language (an English page's tab was in Chinese)
st.set_page_config(page_title=f"dmi · {ui.t('app_title')}", page_icon="📈", layout="wide")
ui.remove_leftover_uploads()
survey = st.Page("app_pages/survey.py", title=ui.t("nav_survey"), url_path="survey")


def _start() -> None:
    """The app's root: the survey at its own address, with the address's parameters
    (``?resume=CODE&lang=en``). A default page is served at the root only: the survey as the
    default made its documented ``/survey?lang=en`` Streamlit's "Page not found"."""
    st.switch_page(survey, query_params=st.query_params.to_dict())


pages = {
    ui.t("nav_company"): [
        st.Page(_start, title=ui.t("nav_survey"), default=True, visibility="hidden"),
        survey,
        st.Page("app_pages/results.py", title=ui.t("nav_results"), url_path="results"),
        st.Page("app_pages/ladder.py", title=text("ladder.nav"), url_path="ladder"),
    ],
    ui.t("nav_agency"): [
        st.Page("app_pages/bulk.py", title=ui.t("nav_bulk"), url_path="bulk"),
        st.Page("app_pages/dashboard.py", title=text("agency.nav_dashboard"), url_path="dashboard"),
    ],
    ui.t("nav_research"): [
        st.Page("app_pages/weights_lab.py", title=ui.t("nav_weights"), url_path="weights"),
    ],
    ui.t("nav_admin"): [
        st.Page("app_pages/admin.py", title=ui.t("nav_admin_ref"), url_path="admin"),
        # Streamlit's own icon font: an emoji may be missing on a kiosk or an old phone (a box)
        st.Page(
            "app_pages/account.py",
            title=ui.account_title(),
            icon=":material/person:",
            url_path="account",
        ),
    ],
}
page = st.navigation(pages)
ui.keep_choices(
    "bulk_what",
    "bulk_instrument",
    "bulk_encoding",
    "bulk_duplicates",
    "ladder_bulk_policy",
    "ladder_bulk_year",
    "ladder_encoding",
    "ladder_duplicates",
)
ui.language_switch()
ui.companies_box()
ui.account_box()
try:
    page.run()
finally:  # a page ending in st.rerun() or st.stop() has imported what it needs too
    ui.freeze_loaded_modules()

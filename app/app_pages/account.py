"""Sign in and out."""

import dmi_ui as ui
import streamlit as st

st.title(ui.t("login_title"))
current = ui.account()
if current is None:
    ui.login_form()
else:
    roles = ", ".join(ui.t(f"role_{r}") for r in sorted(current.roles)) or "-"
    st.success(ui.t("login_as", name=ui.literal(current.name), roles=roles))

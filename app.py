"""Fusion Explorer — entry point: page config and navigation. No computation here."""

import streamlit as st

from ui.catalog import PAGES, PAGES_DIR
from ui.scaffold import page_boundary

st.set_page_config(page_title="Fusion Explorer", page_icon=":material/neurology:", layout="wide")

navigation = [
    st.Page(
        PAGES_DIR / page.script, title=page.title, icon=page.icon, url_path=page.url_path or None, default=page.default
    )
    for page in PAGES
]
with page_boundary("showing this page"):  # a safety net: every page also runs inside its own boundary
    st.navigation(navigation).run()

"""Fusion Explorer — entry point: page config, navigation. No computation here."""

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).parent

st.set_page_config(page_title="Fusion Explorer", page_icon="🧠", layout="wide")

PAGES = [
    st.Page(ROOT / "pages" / "home.py", title="Home", icon="🏠", default=True),
    st.Page(ROOT / "pages" / "data.py", title="Data", icon="🗂️", url_path="data"),
]

st.navigation(PAGES).run()

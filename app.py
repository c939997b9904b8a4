"""Fusion Explorer — entry point: page config and navigation. No computation here."""

import streamlit as st

from ui import recovery
from ui.catalog import PAGES, PAGES_DIR
from ui.pipeline_results import apply_pipeline_link
from ui.scaffold import page_boundary
from ui.warm_visitor import start_once as warm_the_server
from ui.warm_visitor import user_run

st.set_page_config(page_title="Fusion Explorer", page_icon=":material/neurology:", layout="wide")

navigation = [
    st.Page(
        PAGES_DIR / page.script, title=page.title, icon=page.icon, url_path=page.url_path or None, default=page.default
    )
    for page in PAGES
]
warm_the_server()  # first run in this process: a headless visitor fills every page's caches in the background
with user_run(), page_boundary("showing this page"):  # a safety net: every page also runs inside its own boundary
    recovery.restore()  # after a browser reload: this tab's scans, registrations and choices come back
    apply_pipeline_link()  # ?pipeline=<folder>&subject=<id>: a pipeline row's link opens that subject
    try:
        st.navigation(navigation).run()
    finally:  # also when the run is cut short (st.stop, a rerun, or a reload that stops a long job)
        recovery.remember()

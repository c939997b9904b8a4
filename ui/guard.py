"""Keep every page inside app.py's navigation.

Streamlit treats a folder named ``pages/`` beside the entry point as a v1 multipage app until
app.py's ``st.navigation`` has run once in the server process. So when the very first request of a
fresh server is a deep link (``/data``), Streamlit runs ``pages/data.py`` on its own: no page config,
a sidebar listing file names, no catalog. Pages call :func:`require_app_navigation` first; it
switches the process to v2 navigation and reruns, so app.py runs and routes to the same page.
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def require_app_navigation() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()

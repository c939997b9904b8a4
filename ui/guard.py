"""Keep every page inside app.py's navigation.

Streamlit treats a folder named ``pages/`` beside the entry point as a v1 multipage app until
app.py's ``st.navigation`` has run once in the server process. So when the very first request of a
fresh server is a deep link (``/data``), Streamlit runs ``pages/data.py`` on its own: no page config,
a sidebar listing file names, no catalog. Pages call :func:`require_app_navigation` first; it
switches the process to v2 navigation and reruns, so app.py runs and routes to the same page.
"""

import streamlit as st

from ui.streamlit_internals import leave_pages_directory_mode


def require_app_navigation() -> None:
    """Rerun through app.py's navigation when a deep link ran this page on its own (v1 multipage mode)."""
    if leave_pages_directory_mode():
        st.rerun()

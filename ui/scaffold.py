"""The error boundary every page runs inside, and links between pages.

A :class:`~fusion_core.errors.FusionError` is the user's to fix: its message is shown as it is.
Anything else is a bug: a plain one-line message, the exception in a folded "Details" expander, and
the traceback in the server log, never on screen. ``st.stop()`` and ``st.rerun()`` raise Streamlit's
control-flow exceptions; they pass through untouched.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import streamlit as st
from streamlit.errors import StreamlitAPIException

from fusion_core.errors import FusionError
from ui.catalog import PAGES, PAGES_DIR
from ui.streamlit_internals import ScriptControlException

logger = logging.getLogger("fusion_explorer")


def one_line(error: BaseException, *, limit: int = 200) -> str:
    """The first line of an exception's message (or its type name when empty), at most ``limit`` characters."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextlib.contextmanager
def page_boundary(doing: str) -> Iterator[None]:
    """Run a page body; turn any exception into a message on the page.

    Args:
        doing: what the page does, for "Something went wrong while <doing>", e.g. "showing the Data page".
    """
    try:
        yield
    except ScriptControlException:  # st.stop() / st.rerun(): control flow, not errors
        raise
    except FusionError as error:
        st.error(str(error))
    except Exception as error:
        logger.exception("page error while %s", doing)
        st.error(f"Something went wrong while {doing}: {one_line(error)}")
        with st.expander("Details"):
            st.code(f"{type(error).__name__}: {error}", language=None)


def link_to_page(script: str, *, label: str | None = None) -> None:
    """A link to one of the app's pages (``st.page_link``; a plain link when the page runs outside app.py)."""
    info = next(page for page in PAGES if page.script == script)
    try:
        st.page_link(PAGES_DIR / script, label=label or info.title, icon=info.icon)
    except StreamlitAPIException:
        st.markdown(f"[{label or info.title}](/{info.url_path})")

"""Every use of Streamlit's private parts, in one module (issue 22). Nothing else in ``ui/`` or ``pages/``
imports from ``streamlit.runtime`` or ``streamlit.web``.

Public API covers the rest: cookies come from ``st.context.cookies``, the URL from ``st.query_params``. What
is left has no public equivalent in Streamlit 1.67:

- the name and format of Streamlit's XSRF cookie, the one stable per-browser value a session can read (used
  to bind a tab's remembered state to its browser, :mod:`ui.recovery`);
- the exceptions behind ``st.stop()`` and ``st.rerun()`` (a page's error boundary lets them through; a job
  stopped by a reload stays marked as interrupted);
- ``PagesManager.uses_pages_directory``: with a ``pages/`` folder beside ``app.py``, Streamlit runs a deep
  link's page on its own (v1 multipage) until ``st.navigation`` has run once (:mod:`ui.guard`);
- the websocket protocol between browser and server (``/_stcore/stream``, the ``BackMsg`` / ``ForwardMsg``
  protobufs): the warm visitor (:mod:`ui.warm_visitor`) asks for a page and reads until its run ends.

``tests/app/test_streamlit_internals.py`` checks each against the installed Streamlit and says which one an
upgrade broke.
"""

from __future__ import annotations

import hashlib

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException, StopException

__all__ = [
    "STREAM_PATH",
    "XSRF_COOKIE",
    "ScriptControlException",
    "browser_key",
    "is_script_stop",
    "leave_pages_directory_mode",
    "read_run_end",
    "rerun_request",
]

XSRF_COOKIE = "_streamlit_xsrf"
STREAM_PATH = "/_stcore/stream"  # the browser's websocket to its session


def browser_key() -> str:
    """A digest of this browser's XSRF token: the same across reloads and tabs of one browser, '' when the
    session has no XSRF cookie (XSRF protection off, or no browser behind the session, as under AppTest)."""
    cookie = st.context.cookies.get(XSRF_COOKIE, "")
    token = xsrf_token(cookie if isinstance(cookie, str) else "")
    return hashlib.sha256(token).hexdigest() if token else ""


def xsrf_token(cookie: str) -> bytes:
    """The token inside an XSRF cookie ``2|mask|masked-token|time``: the mask changes whenever the server
    re-issues the cookie, the token does not. A cookie in another format is returned as it is (still one per
    browser)."""
    parts = cookie.strip("\"'").split("|")
    try:
        mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        return bytes(b ^ mask[i % len(mask)] for i, b in enumerate(masked))
    except (IndexError, ValueError, ZeroDivisionError):
        return cookie.encode()


def is_script_stop(kind: type[BaseException]) -> bool:
    """Whether an exception type is the one Streamlit raises into a script it stops (a reload, ``st.stop()``)."""
    return issubclass(kind, StopException)


def leave_pages_directory_mode() -> bool:
    """Switch this server process from v1 multipage mode (a deep link ran a page on its own) to ``app.py``'s
    ``st.navigation``; True when it was in v1 mode (the caller reruns so that ``app.py`` routes the page)."""
    if not PagesManager.uses_pages_directory:
        return False
    PagesManager.uses_pages_directory = False
    return True


def rerun_request(page: str, query: str = "") -> bytes:
    """The back-message a browser sends to run ``page`` (its URL path; "" is the default page) with ``query``."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    message.rerun_script.page_name = page
    message.rerun_script.query_string = query
    return message.SerializeToString()


def read_run_end(raw: bytes) -> tuple[str, str]:
    """(kind, detail) of one forward message: ("finished" | "rerun" | "exception" | "", the exception's text)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = ForwardMsg()
    message.ParseFromString(raw)
    kind = message.WhichOneof("type")
    if kind == "delta" and message.delta.new_element.WhichOneof("type") == "exception":
        return "exception", message.delta.new_element.exception.message
    if kind == "script_finished":
        return ("rerun" if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN else "finished"), ""
    return "", ""

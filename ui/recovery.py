"""Nothing lost on a browser reload: a tab's loaded scans, registrations and choices survive it.

A reload starts a new Streamlit session, and with it an empty ``st.session_state``. So every tab
carries a random token in its URL (``?tab=…``), and at the end of each run the session's work is
remembered under it: the active case, the registrations, the Data and Register & Fuse choices, and
any long job that was running. These are references to objects the session already holds, not
copies. A new session that opens with the same token takes them back, and says which job the reload
interrupted.

Privacy: an entry is bound to the browser that made it (the digest of its XSRF cookie, read in
:mod:`ui.streamlit_internals`), so a URL pasted into another browser restores nothing of someone else's
scans. Entries expire after an hour unused; the store keeps at most 32 tabs and ``FUSION_RESTORE_MB``
(default 2048) MB of arrays, the least recently used going first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

import numpy as np
import streamlit as st

from ui.streamlit_internals import browser_key, is_script_stop

QUERY_KEY = "tab"
TTL_SECONDS = 3600.0
MAX_ENTRIES = 32
DEFAULT_MAX_MB = 2048
# What a reload brings back: the active case, the registrations, and the widgets that choose them
# (kept across page switches too, see keep_widget_values).
REMEMBERED_KEYS = ("active_case", "rf-results")
KEPT_WIDGETS = (
    "data-source",
    "data-demo-subject",
    "data-folder",
    "data-folder-subject",
    "rf-fixed",
    "rf-mode",
    "rf-sampling",
    "rf-multistart",
    "rf-mask",
)
_RESTORED_KEY = "recovery-restored"
_JOBS_KEY = "recovery-jobs"


def held_bytes(value: Any, _seen: set[int] | None = None, _depth: int = 0) -> int:
    """Bytes of the numpy arrays reachable from ``value`` (dicts, sequences, dataclasses, objects).

    Each array counts once; the walk stops four levels down (a Case's volumes and masks are within).
    """
    seen = set() if _seen is None else _seen
    if id(value) in seen or _depth > 4 or value is None or isinstance(value, (str, bytes, int, float, bool)):
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, dict):
        children = value.values()
    elif isinstance(value, (list, tuple, set)):
        children = value
    elif dataclasses.is_dataclass(value):
        children = [getattr(value, f.name, None) for f in dataclasses.fields(value)]
    elif hasattr(value, "__dict__"):
        children = vars(value).values()
    else:
        return 0
    return sum(held_bytes(child, seen, _depth + 1) for child in children)


@dataclasses.dataclass
class Entry:
    values: dict[str, Any]
    jobs: dict[str, str]  # job id -> what it was doing, for the jobs still running at the last save
    nbytes: int
    touched: float


class RecoveryStore:
    """Tabs' remembered state by (token, browser): bounded in entries, bytes and age; thread-safe."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, max_bytes: int, ttl: float = TTL_SECONDS, clock=time.time):
        self.max_entries, self.max_bytes, self.ttl, self.clock = max_entries, max_bytes, ttl, clock
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(token: str, browser: str) -> str:
        return hashlib.sha256(f"{token}\0{browser}".encode()).hexdigest()

    def save(self, token: str, browser: str, values: dict[str, Any], jobs: dict[str, str]) -> None:
        """Remember a tab's values; an entry larger than the whole budget is not kept (said in the log)."""
        key, nbytes = self.key(token, browser), held_bytes(values)
        with self._lock:
            self._entries.pop(key, None)
            if nbytes <= self.max_bytes:
                self._entries[key] = Entry(dict(values), dict(jobs), nbytes, self.clock())
            self._evict()

    def take(self, token: str, browser: str) -> Entry | None:
        """The tab's entry when this browser made it and it has not expired."""
        key = self.key(token, browser)
        with self._lock:
            self._evict()
            entry = self._entries.get(key)
            if entry is not None:
                entry.touched = self.clock()
                self._entries.move_to_end(key)
            return entry

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self._entries.values())

    def _evict(self) -> None:
        now = self.clock()
        for key in [k for k, e in self._entries.items() if now - e.touched > self.ttl]:
            del self._entries[key]
        while self._entries and (len(self._entries) > self.max_entries or self.nbytes > self.max_bytes):
            self._entries.popitem(last=False)


@st.cache_resource(show_spinner=False)
def store() -> RecoveryStore:
    megabytes = float(os.environ.get("FUSION_RESTORE_MB", DEFAULT_MAX_MB))
    return RecoveryStore(max_bytes=int(megabytes * 2**20))


def tab_token() -> str:
    """This tab's token, put into the URL on every run (page switches drop query parameters)."""
    token = st.query_params.get(QUERY_KEY)
    if not token or len(token) > 64:
        token = st.session_state.get(QUERY_KEY) or secrets.token_urlsafe(16)
    st.session_state[QUERY_KEY] = token
    if st.query_params.get(QUERY_KEY) != token:
        st.query_params[QUERY_KEY] = token
    return token


def keep_widget_values() -> None:
    """Keep the Data and Register choices when their page is not shown (Streamlit drops a widget's value
    when a run does not draw it; assigning it makes it a session value that the widget then reads)."""
    for key in KEPT_WIDGETS:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def restore() -> None:
    """Every run: the tab's token in the URL and the kept widget values; at a session's first run also take
    back what this tab had before a reload, and say so."""
    token = tab_token()
    keep_widget_values()
    if st.session_state.get(_RESTORED_KEY):
        return
    st.session_state[_RESTORED_KEY] = True
    entry = store().take(token, browser_key())
    if entry is None:
        return
    for key, value in entry.values.items():
        st.session_state.setdefault(key, value)
    case = entry.values.get("active_case")
    if case is not None:
        st.toast(f"Restored after the reload: {case.subject_id}, with your registrations and choices.")
    for text in entry.jobs.values():
        st.warning(
            f"The page was reloaded while this was running: *{text}* It stopped; your scans and finished "
            "results are still here. Start it again when you are ready.",
            icon=":material/restart_alt:",
        )


def remember() -> None:
    """At the end of every run (also one cut short by a reload): remember this tab's state."""
    token = st.session_state.get(QUERY_KEY)
    if not token:
        return
    keys = REMEMBERED_KEYS + KEPT_WIDGETS
    values = {k: st.session_state[k] for k in keys if k in st.session_state}
    store().save(token, browser_key(), values, dict(st.session_state.get(_JOBS_KEY, {})))


class running_job:
    """Marks a long job as running for the length of a block, so a reload in the middle can say so."""

    def __init__(self, text: str) -> None:
        self.text, self.id = text, secrets.token_hex(4)

    def __enter__(self) -> running_job:
        st.session_state.setdefault(_JOBS_KEY, {})[self.id] = self.text
        remember()  # now, not at the end of the run: a reload may come before the run ends
        return self

    def __exit__(self, kind, error, traceback) -> None:
        # A reload stops the script at its next Streamlit call: the job stays marked, and the
        # end-of-run save (app.py) remembers it as interrupted.
        if kind is None or not is_script_stop(kind):
            st.session_state.get(_JOBS_KEY, {}).pop(self.id, None)

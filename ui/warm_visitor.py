"""Warm the server once in the background: a headless visitor runs every page, so users don't wait.

Every page's first visit on a fresh server pays for imports, model loading, the demo subject and
the page's computations on it (13.7 s for Cross-modal Generation). Those results are cached across
sessions (``st.cache_resource`` / ``st.cache_data``), so one visit fills them for everyone. The first
run of app.py in a server process starts a daemon thread that connects to this server like a browser
(Streamlit's websocket protocol: a ``rerun_script`` back-message per page) and visits each page once
in its own session, in the order :data:`WARM_ORDER`, each page only once no user's page is running
(users first: it shares their two cores). Pages run exactly as they do for a user, so the
caches hold exactly what a user's first visit asks for, with the page's defaults, and nothing here
knows how a page computes.

A visitor that fails (a page raised, the server is stopping) only logs: warming is an optimisation.
``FUSION_WARM=0`` turns it off (tests that time a cold page).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

logger = logging.getLogger("fusion_explorer")
WARM_ENV = "FUSION_WARM"
# Heaviest first visits first; Home needs nothing.
WARM_ORDER = ("generation", "attention", "latents", "learn", "performance", "data", "register_fuse")
PAGE_TIMEOUT_S = 600.0
VISITOR_PARAM = "warm-visitor"  # ?warm-visitor=1 marks the visitor's own runs: they never make it wait
YIELD_TIMEOUT_S = 120.0  # the longest the visitor waits for users' runs to end before a page


@dataclass
class WarmStatus:
    """What the warm visitor has done so far (one per server process)."""

    started: float = field(default_factory=time.monotonic)
    seconds: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)


def warming_enabled() -> bool:
    """Whether the server warms its pages at start: not under AppTest (no server), not with ``FUSION_WARM=0``."""
    import streamlit as st

    if st.get_option("global.appTest"):
        return False
    return os.environ.get(WARM_ENV, "1") not in ("0", "false", "no")


def start(base_url: str, pages: tuple[str, ...] = WARM_ORDER) -> WarmStatus:
    """Visit ``pages`` of the server at ``base_url`` in a daemon thread; returns its status at once."""
    status = WarmStatus()
    thread = threading.Thread(target=_visit_all, args=(base_url, pages, status), name="fusion-warm", daemon=True)
    thread.start()
    return status


class _UserRuns:
    """How many users' script runs are in progress in this process (the visitor's own are not counted)."""

    def __init__(self) -> None:
        self._count, self._lock = 0, threading.Lock()
        self._idle = threading.Condition(self._lock)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        with self._lock:
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no user's run is in progress (True), or ``timeout`` seconds passed (False)."""
        with self._lock:
            return self._idle.wait_for(lambda: self._count == 0, timeout=timeout)


USER_RUNS = _UserRuns()


@contextlib.contextmanager
def user_run() -> Iterator[None]:
    """Wrap one run of app.py: while a user's page runs, the visitor does not start its next page (users
    first: the visitor shares their two cores and the interpreter)."""
    import streamlit as st

    if st.query_params.get(VISITOR_PARAM) == "1":
        yield
        return
    with USER_RUNS.running():
        yield


def _visit_all(base_url: str, pages: tuple[str, ...], status: WarmStatus) -> None:
    try:
        for page in pages:
            USER_RUNS.wait_idle(YIELD_TIMEOUT_S)
            start_time = time.monotonic()
            try:
                asyncio.run(visit(base_url, page))
                status.seconds[page] = round(time.monotonic() - start_time, 2)
            except Exception as error:  # warming is an optimisation: a failure only logs
                status.failed[page] = f"{type(error).__name__}: {error}"
                logger.warning("warming %s failed: %s", page, error)
    finally:
        status.done.set()
        logger.info("warm visitor done in %.1f s: %s", time.monotonic() - status.started, status.seconds)


async def visit(base_url: str, page: str, timeout: float = PAGE_TIMEOUT_S) -> int:
    """Run ``page`` once in a new session of the server at ``base_url``, as a browser would; returns the
    number of forward messages received. Raises TimeoutError or RuntimeError (the page raised)."""
    from tornado.websocket import websocket_connect

    from ui.streamlit_internals import STREAM_PATH, rerun_request

    socket = await websocket_connect(base_url.replace("http", "ws", 1).rstrip("/") + STREAM_PATH)
    try:
        await socket.write_message(rerun_request(page, f"{VISITOR_PARAM}=1"), binary=True)
        return await _until_finished(socket, time.monotonic() + timeout)
    finally:
        socket.close()


async def _until_finished(socket, deadline: float) -> int:
    from ui.streamlit_internals import read_run_end

    received = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the page did not finish in time")
        raw = await asyncio.wait_for(socket.read_message(), timeout=remaining)
        if raw is None:
            raise RuntimeError("the server closed the connection")
        received += 1
        kind, detail = read_run_end(raw)
        if kind == "exception":
            raise RuntimeError(detail)
        if kind == "finished":  # "rerun" (e.g. the deep-link guard's) runs the page again: wait for that one
            return received


_lock = threading.Lock()
_status: WarmStatus | None = None


def server_url() -> str:
    """This Streamlit server's own URL on the loopback (port and base path from its config)."""
    import streamlit as st

    address = st.get_option("server.address") or "127.0.0.1"
    host = "127.0.0.1" if address in ("0.0.0.0", "::", "localhost") else address
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"http://{host}:{st.get_option('server.port')}" + (f"/{base}" if base else "")


def current() -> WarmStatus | None:
    """This server's warm visitor (None before the first run of app.py, or with warming off)."""
    return _status


def readiness_note(status: WarmStatus | None, titles: dict[str, str]) -> str | None:
    """One sentence for Home: how far the background preparation of the pages has come (None: nothing to say).

    Args:
        status: :func:`current`.
        titles: url path -> page title.
    """
    if status is None:
        return None
    ready = [titles.get(page, page) for page in status.seconds]
    if status.done.is_set():
        return f"All {len(ready)} pages are prepared on the demo cohort: first visits are quick."
    doing = next((p for p in WARM_ORDER if p not in status.seconds and p not in status.failed), None)
    return (
        f"Preparing the pages on the demo cohort in the background ({len(ready)} of {len(WARM_ORDER)} ready"
        + (f"; now {titles.get(doing, doing)}" if doing else "")
        + "). Pages open at once when ready; until then the first visit computes what it needs."
    )


def start_once() -> WarmStatus | None:
    """Start the warm visitor the first time any session runs app.py in this server process (then a no-op)."""
    global _status
    if not warming_enabled():
        return None
    with _lock:
        if _status is None:
            _status = start(server_url())
        return _status


def main(argv: list[str] | None = None) -> int:
    """CLI (``make run`` starts it beside the server): wait for the server, open Home once, so the
    server starts preparing its pages before the first user arrives."""
    import argparse
    import urllib.request

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8501")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the server")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{args.url}/_stcore/health", timeout=2).read() == b"ok":
                asyncio.run(visit(args.url, ""))
                return 0
        except OSError:
            pass
        time.sleep(0.5)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())

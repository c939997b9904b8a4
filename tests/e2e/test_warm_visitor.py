"""The warm visitor: a headless session over Streamlit's websocket runs pages on a real server."""

import asyncio
from pathlib import Path

import pytest

from tests.e2e.harness import serve_app
from ui.warm_visitor import start, visit

pytestmark = pytest.mark.e2e
SCRIPTS = Path(__file__).parent / "scripts"


def test_visitor_runs_pages_and_reports_a_broken_one():
    with serve_app() as url:
        assert asyncio.run(visit(url, "data")) > 5  # the page's elements came back, then script_finished
        status = start(url, ("learn", "no-such-page"))
        assert status.done.wait(300)
        assert set(status.seconds) | set(status.failed) == {"learn", "no-such-page"}
        assert "learn" in status.seconds and not status.failed.get("learn")
    with serve_app(script=SCRIPTS / "raises.py") as url, pytest.raises(RuntimeError, match="error"):
        asyncio.run(visit(url, ""))

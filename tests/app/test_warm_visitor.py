"""The warm visitor yields to users, and Home says how far it has come."""

import threading
import time

from ui.warm_visitor import WARM_ORDER, WarmStatus, _UserRuns, readiness_note


def test_visitor_waits_while_a_user_runs_a_page():
    runs = _UserRuns()
    assert runs.wait_idle(0.01)  # nobody: go at once
    with runs.running():
        assert not runs.wait_idle(0.05)  # a user's page is running: wait
        done = []
        waiter = threading.Thread(target=lambda: done.append(runs.wait_idle(5)))
        waiter.start()
        time.sleep(0.1)
        assert not done
    waiter.join(5)
    assert done == [True]  # the user's run ended: the visitor goes on


def test_home_note_counts_prepared_pages():
    titles = {"generation": "Cross-modal Generation", "attention": "Attention & Uncertainty"}
    assert readiness_note(None, titles) is None
    status = WarmStatus()
    status.seconds["generation"] = 3.0
    note = readiness_note(status, titles)
    assert f"1 of {len(WARM_ORDER)} ready" in note and "now Attention & Uncertainty" in note
    status.done.set()
    assert readiness_note(status, titles).startswith("All 1 pages are prepared")

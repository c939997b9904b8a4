"""A browser reload loses nothing: the tab's case, registrations and choices come back (ui.recovery)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from ui.recovery import RecoveryStore, held_bytes

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_belongs_to_the_browser_that_made_it():
    store = RecoveryStore(max_bytes=10**6)
    store.save("tok", "browser-a", {"active_case": "A's scans"}, {})
    assert store.take("tok", "browser-a").values == {"active_case": "A's scans"}
    assert store.take("tok", "browser-b") is None  # the same URL in another browser
    assert store.take("other", "browser-a") is None


def test_entries_expire_and_the_store_stays_within_its_budget():
    clock = Clock()
    store = RecoveryStore(max_entries=3, max_bytes=1000, ttl=60, clock=clock)
    arrays = {f"t{i}": np.zeros(100, np.uint8) for i in range(5)}
    for token, array in arrays.items():
        store.save(token, "b", {"x": array}, {})
    assert len(store) == 3 and store.take("t0", "b") is None and store.take("t4", "b") is not None
    store.save("big", "b", {"x": np.zeros(2000, np.uint8)}, {})  # larger than the whole budget: not kept
    assert store.take("big", "b") is None and store.nbytes <= 1000
    store.save("t5", "b", {"x": np.zeros(900, np.uint8)}, {})  # evicts the least recently used
    assert store.nbytes <= 1000 and store.take("t5", "b") is not None
    clock.now += 61
    assert store.take("t5", "b") is None and len(store) == 0


def test_held_bytes_counts_each_array_once_through_cases():
    from fusion_core.data.phantom import make_subject

    case = make_subject(1, size=24).to_case()
    expected = case.ct.array.nbytes + case.mr.array.nbytes
    assert held_bytes({"a": case, "b": [case, case.ct]}) >= expected
    assert held_bytes({"a": case, "b": [case, case.ct]}) == held_bytes(case)
    assert held_bytes("text") == 0 and held_bytes(None) == 0


def _app(token: str | None = None) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    if token:
        app.query_params["tab"] = token
    return app


def test_a_reload_brings_back_the_case_and_choices_of_that_tab_only():
    from ui import session

    ids = session.demo_subject_ids()
    first = _app()
    first.switch_page("pages/data.py").run()
    assert not first.exception, [e.value for e in first.exception]
    token = first.query_params["tab"][0] if isinstance(first.query_params["tab"], list) else first.query_params["tab"]
    assert token and len(token) >= 16
    first.selectbox(key="data-demo-subject").set_value(ids[7]).run()
    assert first.session_state["active_case"].subject_id == ids[7]

    reloaded = _app(token)  # a new session opened on the same URL: what a reload does
    reloaded.switch_page("pages/data.py").run()
    assert not reloaded.exception, [e.value for e in reloaded.exception]
    assert reloaded.session_state["active_case"].subject_id == ids[7]
    assert reloaded.selectbox(key="data-demo-subject").value == ids[7]
    assert any(ids[7] in t.value for t in reloaded.toast)

    stranger = _app("some-other-token-of-another-tab")
    stranger.switch_page("pages/data.py").run()
    assert stranger.session_state["active_case"].subject_id == ids[0]


def test_a_job_cut_short_by_a_reload_is_named_on_the_new_page():
    from ui import recovery, session

    ids = session.demo_subject_ids()
    case = session.demo_case(ids[3])
    recovery.store().save(
        "tab-with-a-job", "", {"active_case": case}, {"j1": "registering the MR of phantom-003 to its CT"}
    )
    app = _app("tab-with-a-job")
    app.switch_page("pages/register_fuse.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.session_state["active_case"].subject_id == ids[3]
    assert any("registering the MR of phantom-003" in w.value and "reloaded" in w.value for w in app.warning)


def test_the_data_choice_survives_a_visit_to_another_page():
    from ui import session

    ids = session.demo_subject_ids()
    app = _app()
    app.switch_page("pages/data.py").run()
    app.selectbox(key="data-demo-subject").set_value(ids[5]).run()
    app.switch_page("pages/register_fuse.py").run()
    app.switch_page("pages/data.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="data-demo-subject").value == ids[5]
    assert app.session_state["active_case"].subject_id == ids[5]

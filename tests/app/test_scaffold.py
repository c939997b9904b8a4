"""The page scaffold: exceptions become messages (never a traceback), st.stop passes, aligned pairs for model pages."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from fusion_core.case import Case

SCRIPTS = Path(__file__).resolve().parent / "scripts"
TIMEOUT = 120


def _run(script: str, **state) -> AppTest:
    app = AppTest.from_file(str(SCRIPTS / script), default_timeout=TIMEOUT)
    for key, value in state.items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_a_bug_becomes_a_plain_message_with_details_folded_away(caplog):
    app = _run("boundary_bug.py")
    assert [e.value for e in app.error] == [
        "Something went wrong while drawing the test page: division by zero in the test page"
    ]
    assert app.expander[0].label == "Details"
    assert "ZeroDivisionError: division by zero" in app.expander[0].code[0].value
    assert app.markdown[0].value == "before the failure"
    assert "Traceback" in caplog.text  # the traceback goes to the server log


def test_a_fusion_error_shows_its_own_message():
    app = _run("boundary_fusion_error.py")
    assert len(app.error) == 1 and "lonely has no CT and no MR" in app.error[0].value
    assert not app.expander  # the user's problem: no details needed


def test_st_stop_passes_through_the_boundary():
    app = _run("boundary_stop.py")
    assert not app.error
    assert [m.value for m in app.markdown] == ["before the stop"]


def test_aligned_page_uses_the_ground_truth_on_the_demo_case():
    app = _run("aligned_page.py")
    assert not app.error
    assert app.markdown[0].value == "source: ground truth"
    assert "phantom's ground truth" in app.caption[0].value
    assert app.markdown[1].value == "grid: True"


def test_aligned_page_without_an_alignment_says_register_and_links_there():
    from fusion_core.data.phantom import make_subject

    subject = make_subject(5, size=32)
    unregistered = Case("real-pair", ct=subject.ct, mr=subject.mr)  # no ground truth, MR off the CT grid
    app = _run("aligned_page.py", active_case=unregistered)
    assert not app.error and not any("source:" in m.value for m in app.markdown)
    assert "Register the MR to the CT first" in app.info[0].value
    link = [m.value for m in app.markdown] + [p.proto.label for p in app.get("page_link")]
    assert any("Register & Fuse" in text for text in link)


def test_aligned_page_on_a_ct_only_case_points_to_the_data_page(small_ct):
    app = _run("aligned_page.py", active_case=Case("ct-only", ct=small_ct))
    assert "has no MR" in app.info[0].value

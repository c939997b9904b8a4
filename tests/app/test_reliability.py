"""Faults, private server folders, uploads and two sessions at once, on the Data, Register & Fuse and
Fusion Performance pages: the page stays usable with a clear message and the loaded data intact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fusion_core.io import save_volume
from fusion_core.registration import RegistrationError

ROOT = Path(__file__).resolve().parents[2]


def _app(script: str, case=None) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / script), default_timeout=180)
    if case is not None:
        app.session_state["active_case"] = case
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _digest(case) -> str:
    return hashlib.sha1(case.ct.array.tobytes() + case.mr.array.tobytes()).hexdigest()


@pytest.fixture(scope="module")
def demo():
    from ui import session

    ids = session.demo_subject_ids()
    return {i: session.demo_case(ids[i]) for i in (3, 7)}


def test_folders_outside_the_data_roots_are_refused(tmp_path, monkeypatch, small_ct):
    root, secret = tmp_path / "data", tmp_path / "secret"
    (root / "cohort" / "s1").mkdir(parents=True)
    secret.mkdir()
    save_volume(small_ct, secret / "ct.nii.gz")
    (root / "link").symlink_to(secret)
    (root / "cohort" / "s1" / "ct.nii.gz").symlink_to(secret / "ct.nii.gz")  # a cohort whose scan points out
    monkeypatch.setenv("FUSION_DATA_ROOTS", str(root))
    app = _app("data.py")
    before = app.session_state["active_case"].subject_id
    app.radio(key="data-source").set_value("Folder on this machine").run()
    assert any(str(root) in caption.value for caption in app.caption)  # it says which folders it may read
    for typed in (secret, root / ".." / "secret", root / "link", Path("/etc"), root / "cohort"):
        app.text_input(key="data-folder").input(str(typed)).run()
        assert not app.exception
        assert app.error and "outside the folders this server may read" in app.error[0].value, typed
        assert not app.get("image")
    assert app.session_state["active_case"].subject_id == before  # the loaded case is untouched


def _upload_folders() -> set[Path]:
    import tempfile

    return set(Path(tempfile.gettempdir()).glob("fusion-upload-*"))


def test_a_corrupt_upload_names_the_users_file_and_keeps_the_loaded_case():
    folders = _upload_folders()
    app = _app("data.py")
    before = app.session_state["active_case"]
    app.radio(key="data-source").set_value("Upload files").run()
    broken = [("broken.nii.gz", b"\x1f\x8b" + b"x" * 500, "application/octet-stream")]
    app.file_uploader(key="data-upload").set_value(broken).run()
    assert not app.exception
    message = app.error[0].value
    assert message.startswith("cannot load 'broken.nii.gz': ") and "/tmp" not in message and "Error:" not in message
    assert app.session_state["active_case"] is before
    assert _upload_folders() <= folders  # the upload's temporary folder is gone once it was read


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (RegistrationError("the optimiser diverged"), "the optimiser diverged"),
        (RuntimeError("ITK exploded"), "Something went wrong while"),
    ],
)
def test_a_failing_registration_leaves_the_page_usable(monkeypatch, demo, error, shown):
    import ui.register_widgets as rw

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(rw, "register", fail)
    app = _app("register_fuse.py", demo[3])
    app.button(key="rf-register").click().run()
    assert not app.exception
    assert app.error and shown in app.error[0].value
    assert app.session_state["active_case"] is demo[3]
    app.button(key="rf-register").click().run()  # the page still answers
    assert not app.exception and app.button(key="rf-register")


def test_damaged_scores_leave_the_performance_page_with_a_message(monkeypatch):
    import ui.performance as perf

    def damaged(*args, **kwargs):
        raise ValueError("scores.csv: line 7 is damaged")

    perf.strategy_scores.clear()
    monkeypatch.setattr(perf, "load_strategy_scores", damaged)
    try:
        app = _app("performance.py")
        assert app.error and "scores.csv: line 7 is damaged" in app.error[0].value
    finally:
        perf.strategy_scores.clear()


def test_two_sessions_keep_their_own_data_and_results(demo):
    """Two users on one server: their own subject on Data, their own registration on Register & Fuse;
    the cached demo cases are shared and never mutated."""
    from ui import session

    ids = session.demo_subject_ids()
    digests = {i: _digest(case) for i, case in demo.items()}
    user_a, user_b = _app("data.py"), _app("data.py")
    user_a.selectbox(key="data-demo-subject").set_value(ids[3]).run()
    user_b.selectbox(key="data-demo-subject").set_value(ids[7]).run()
    assert user_a.session_state["active_case"].subject_id == ids[3]
    assert user_b.session_state["active_case"].subject_id == ids[7]
    assert ids[3] in user_a.subheader[0].value and ids[7] in user_b.subheader[0].value

    reg_a = _app("register_fuse.py", user_a.session_state["active_case"])
    reg_b = _app("register_fuse.py", user_b.session_state["active_case"])
    reg_a.select_slider(key="rf-sampling").set_value(0.02)  # the cheapest settings: this test is about sessions
    reg_a.select_slider(key="rf-multistart").set_value(0)
    reg_a.button(key="rf-register").click().run()
    assert not reg_a.exception and any(m.label == "TRE median (mm)" for m in reg_a.metric)
    reg_b.run()
    assert not any(m.label == "TRE median (mm)" for m in reg_b.metric)  # B never sees A's registration
    assert any(ids[7] in info.value for info in reg_b.info)
    assert {i: _digest(case) for i, case in demo.items()} == digests

"""AppTest of the Register & Fuse page: opens fast, registers on click, shows TRE, survives the widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fusion_core.registration import RegistrationOptions

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "register_fuse.py")


@pytest.fixture
def registered() -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == "Register & Fuse"
    assert any("press **Register**" in info.value for info in app.info)  # nothing heavy before the click
    assert app.select_slider(key="rf-sampling").value == RegistrationOptions().sampling  # the API's default
    app.button(key="rf-register").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_register_shows_tre_in_mm(registered):
    metrics = {m.label: m.value for m in registered.metric}
    assert "TRE median (mm)" in metrics and float(metrics["TRE median (mm)"]) < 1.5
    assert float(metrics["MI (bits)"]) > 0
    assert registered.selectbox(key="rf-fusion-method").value == "laplacian"  # the default, chosen by name
    assert not registered.error
    assert registered.selectbox(key="rf-init").value == "auto"  # the start is a registration option
    assert any(info.value.startswith("Registration started") for info in registered.info)  # and said in words


def test_widgets_reuse_the_stored_result(registered):
    registered.slider(key="rf-shift").set_value(10.0).run()
    assert not registered.exception
    tre = [m.value for m in registered.metric if m.label == "TRE median (mm)"]
    assert len(tre) == 2 and float(tre[1]) > 5  # the deliberate 10 mm shift shows up as error
    registered.selectbox(key="rf-fusion-method").set_value("wavelet").run()
    registered.selectbox(key="rf-norm-method").set_value("histogram_match").run()
    assert not registered.exception and not registered.error
    assert any("reference_quantiles" in c.value for c in registered.code)


def test_mr_fixed_registers_and_reports_tre_in_mr_space():
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.run()
    app.radio(key="rf-fixed").set_value("MR").run()
    app.button(key="rf-register").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(m.label == "TRE median (mm)" for m in app.metric)  # MR fixed works too, TRE in MR space


def test_model_pages_get_the_pair_aligned_by_the_users_registration(registered):
    from fusion_core.case import transform_key

    results = registered.session_state["rf-results"]
    (key, result), *_ = results.items()
    assert key[1] == "CT"
    app = AppTest.from_file(str(ROOT / "tests" / "app" / "scripts" / "aligned_page.py"), default_timeout=120)
    app.session_state["active_case"] = registered.session_state["active_case"]
    app.session_state["rf-results"] = results
    app.run()
    assert not app.exception and not app.error
    assert app.markdown[0].value == "source: given"
    assert "aligned by your registration" in app.caption[0].value
    assert transform_key(result.transform) != transform_key(registered.session_state["active_case"].true_transform)

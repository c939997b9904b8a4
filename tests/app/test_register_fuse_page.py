"""AppTest of the Register & Fuse page: opens fast, registers on click, shows TRE, survives the widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fusion_core.registration import Initialization, RegistrationOptions

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
    assert key.fixed_name == "CT"
    app = AppTest.from_file(str(ROOT / "tests" / "app" / "scripts" / "aligned_page.py"), default_timeout=120)
    app.session_state["active_case"] = registered.session_state["active_case"]
    app.session_state["rf-results"] = results
    app.run()
    assert not app.exception and not app.error
    assert app.markdown[0].value == "source: given"
    assert "aligned by your registration" in app.caption[0].value
    assert transform_key(result.transform) != transform_key(registered.session_state["active_case"].true_transform)


# Every control changes what is drawn (issue 22): each test below fails if a cache key leaves its input out.


def _waits_for_register(app: AppTest) -> bool:
    """Whether the page asks for a Register click (no stored result for the chosen fixed image and options)."""
    return any("press **Register**" in info.value for info in app.info)


def _metric(app: AppTest, label: str) -> str:
    (value,) = [m.value for m in app.metric if m.label == label]
    return value


def _image_urls(app: AppTest) -> dict[str, str]:
    """Image caption -> its media URL (a digest of the picture: a different picture, a different URL)."""
    return {img.proto.imgs[0].caption: img.proto.imgs[0].url for img in app.get("image")}


@pytest.mark.parametrize(
    ("widget", "key", "other"),
    [
        ("radio", "rf-fixed", "MR"),
        ("radio", "rf-mode", "affine"),
        ("select_slider", "rf-sampling", 0.1),
        ("select_slider", "rf-multistart", 0),
        ("checkbox", "rf-mask", False),
        ("selectbox", "rf-init", Initialization.MOMENTS),
    ],
)
def test_each_registration_option_names_its_own_result(registered, widget, key, other):
    """Another option value is another registration (Register again); going back shows the stored one."""
    mi = _metric(registered, "MI (bits)")
    control = getattr(registered, widget)(key=key)
    first = control.value
    control.set_value(other).run()
    assert not registered.exception and _waits_for_register(registered)
    assert not any(m.label == "MI (bits)" for m in registered.metric)
    getattr(registered, widget)(key=key).set_value(first).run()
    assert not _waits_for_register(registered) and _metric(registered, "MI (bits)") == mi


def test_the_fixed_image_changes_the_pictures_and_the_metrics():
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.run()
    before_ct = _image_urls(app)["before (scanner coordinates)"]
    app.button(key="rf-register").click().run()
    mi_ct = _metric(app, "MI (bits)")
    app.radio(key="rf-fixed").set_value("MR").run()
    assert _image_urls(app)["before (scanner coordinates)"] != before_ct  # the CT on the MR grid
    app.button(key="rf-register").click().run()
    assert not app.exception and _metric(app, "MI (bits)") != mi_ct
    (delta,) = [m.delta for m in app.metric if m.label == "MI (bits)"]
    assert delta != "+0.000 vs before"  # before and after are two pictures, two qualities
    app.radio(key="rf-fixed").set_value("CT").run()
    assert _metric(app, "MI (bits)") == mi_ct and _image_urls(app)["before (scanner coordinates)"] == before_ct


def test_misregistration_sliders_and_fusion_method_change_what_is_drawn(registered):
    seen_mi, seen_pictures = set(), set()
    for shift, rotation in [(5.0, 0.0), (5.0, 5.0), (0.0, 5.0)]:
        registered.slider(key="rf-shift").set_value(shift)
        registered.slider(key="rf-rot").set_value(rotation).run()
        assert not registered.exception
        seen_mi.add(_metric(registered, "Mutual information (bits)"))
        seen_pictures.add(_image_urls(registered)["checkerboard with the deliberate error"])
    assert len(seen_mi) == len(seen_pictures) == 3
    fused = _image_urls(registered)["laplacian fusion"]
    registered.selectbox(key="rf-fusion-method").set_value("wavelet").run()
    assert not registered.exception and _image_urls(registered)["wavelet fusion"] != fused


def test_each_normalisation_control_changes_the_parameters_shown():
    app = AppTest.from_file(PAGE, default_timeout=120)
    app.run()
    shown = [app.code[0].value]
    steps = [
        ("radio", "rf-norm-which", "MR"),
        ("selectbox", "rf-norm-method", "percentile_clip"),
        ("slider", "rf-norm-pct", (5.0, 95.0)),
        ("radio", "rf-norm-which", "CT"),
        ("selectbox", "rf-norm-method", "ct_window"),
        ("selectbox", "rf-norm-preset", "bone"),
    ]
    for widget, key, value in steps:
        getattr(app, widget)(key=key).set_value(value).run()
        assert not app.exception and not app.error, key
        assert app.code[0].value not in shown, key
        shown.append(app.code[0].value)

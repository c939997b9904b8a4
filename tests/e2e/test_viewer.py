"""End-to-end: the WebGL scan viewer (NiiVue in a Streamlit component) in headless Chromium.

The viewer lives in an iframe; its root element carries the test hooks ``data-slice``,
``data-position-mm`` and ``data-frames``, and each panel its own ``data-position-mm``.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from fusion_core.preprocess.window import WINDOW_PRESETS
from tests.e2e.harness import (
    browser_page,
    require_chromium,
    serve_app,
    viewer_frame,
    viewer_hooks,
    wait_for_app,
    wait_for_viewers,
)

pytestmark = pytest.mark.e2e

require_chromium()


@pytest.fixture(scope="module")
def app_url():
    with serve_app() as url:
        yield url


@pytest.fixture
def data_viewer(app_url):
    """The Data page of the demo case with its viewer drawn: (page, viewer frame)."""
    with browser_page(height=1500) as page:
        page.goto(f"{app_url}/data")
        wait_for_app(page)
        wait_for_viewers(page)
        yield page, viewer_frame(page)


def _slice(frame) -> list[int]:
    return [int(v) for v in viewer_hooks(frame)["slice"].split(",")]


def _panel_mm(frame) -> list[np.ndarray]:
    values = frame.eval_on_selector_all(".fx-panel", "els => els.map(e => e.dataset.positionMm)")
    return [np.array([float(v) for v in value.split(",")]) for value in values]


def _wait_hook_change(frame, name: str, before: str) -> None:
    frame.wait_for_function(
        "([name, before]) => document.getElementById('root').dataset[name] !== before", arg=[name, before]
    )


def test_keys_and_wheel_scroll_the_slices_on_the_client(data_viewer):
    page, frame = data_viewer
    frames_before = int(viewer_hooks(frame)["frames"])
    start = _slice(frame)
    frame.locator("canvas").first.focus()
    page.keyboard.press("ArrowUp")
    _wait_hook_change(frame, "slice", ",".join(map(str, start)))
    after_key = _slice(frame)
    assert after_key[2] == start[2] + 1 and after_key[:2] == start[:2]  # one axial slice up, x and y kept
    assert int(viewer_hooks(frame)["frames"]) > frames_before
    box = frame.locator("canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.75)  # the axial tile
    page.mouse.wheel(0, 300)
    _wait_hook_change(frame, "slice", ",".join(map(str, after_key)))
    assert _slice(frame) != after_key


def test_right_drag_changes_the_window(data_viewer):
    page, frame = data_viewer
    window = "() => { const v = fxViewer.state.panels[0].nv.volumes[0]; return [v.cal_min, v.cal_max]; }"
    before = frame.evaluate(window)
    box = frame.locator("canvas").first.bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.75
    page.mouse.move(x, y)
    page.mouse.down(button="right")
    page.mouse.move(x + 60, y + 40, steps=6)
    page.mouse.up(button="right")
    frame.wait_for_function(f"(b) => ({window})().join() !== b.join()", arg=before)
    level, width = WINDOW_PRESETS["bone"]
    frame.locator("button", has_text="Bone").click()  # a CT preset button, from the core's preset table
    assert frame.evaluate(window) == [level - width / 2, level + width / 2]


def test_a_click_moves_every_panel_to_the_same_millimetres(data_viewer):
    page, frame = data_viewer
    before = viewer_hooks(frame)["positionMm"]
    box = frame.locator("canvas").nth(1).bounding_box()  # the MR panel: a different grid from the CT
    page.mouse.click(box["x"] + box["width"] * 0.33, box["y"] + box["height"] * 0.72)
    _wait_hook_change(frame, "positionMm", before)
    cursor = np.array([float(v) for v in viewer_hooks(frame)["positionMm"].split(",")])
    ct, mr = _panel_mm(frame)
    assert np.allclose(ct, cursor, atol=0.05) and np.allclose(mr, cursor, atol=0.05)
    assert not np.allclose(cursor, [float(v) for v in before.split(",")])


def test_no_panel_is_black_where_the_scan_has_data(data_viewer):
    from PIL import Image

    _, frame = data_viewer
    canvases = frame.locator("canvas")
    assert canvases.count() == 2  # CT | MR
    assert frame.evaluate("() => fxViewer.state.panels.every(p => p.nv.opts.isRadiologicalConvention)")
    for i in range(canvases.count()):
        pixels = np.asarray(Image.open(io.BytesIO(canvases.nth(i).screenshot())).convert("L"), dtype=float)
        assert pixels.mean() > 25 and pixels.std() > 20, f"panel {i} looks blank"


def test_a_position_outside_a_scan_says_so(data_viewer):
    _, frame = data_viewer
    frame.evaluate("() => fxViewer.moveAll([0, 0, 400])")  # 40 cm above the head: outside both scans
    outside = frame.locator(".fx-outside")
    assert outside.count() == 2 and all(outside.nth(i).is_visible() for i in range(2))
    assert outside.first.inner_text().strip() == "outside this scan"
    frame.evaluate("() => fxViewer.moveAll([0, 0, 0])")
    assert not outside.first.is_visible()


def test_the_lesion_outline_overlay_appears(app_url):
    with browser_page(height=1500) as page:
        page.goto(f"{app_url}/data?subject=phantom-000")
        wait_for_app(page)
        wait_for_viewers(page)
        page.get_by_text("Outline the lesion").click()
        frame = viewer_frame(page)
        frame.wait_for_function(
            "() => fxViewer.state.panels.length && fxViewer.state.panels[0].nv.volumes.length === 2"
        )
        layer = "() => { const v = fxViewer.state.panels[0].nv.volumes[1]; return [v.colormap, v.global_max]; }"
        colormap, largest = frame.evaluate(layer)
        assert colormap == "red" and largest >= 1  # the outline has voxels, drawn in red
        assert frame.locator("button", has_text="Radiological").count() == 1


def test_generation_page_links_input_generated_and_real(app_url):
    with browser_page(height=1600) as page:
        page.goto(f"{app_url}/generation")
        wait_for_app(page)
        wait_for_viewers(page)
        frame = viewer_frame(page)
        assert frame.locator("canvas").count() == 3  # MR input | generated CT | real CT
        box = frame.locator("canvas").nth(2).bounding_box()
        before = viewer_hooks(frame)["positionMm"]
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
        _wait_hook_change(frame, "positionMm", before)
        cursor = np.array([float(v) for v in viewer_hooks(frame)["positionMm"].split(",")])
        inside = frame.eval_on_selector_all(".fx-panel", "els => els.map(e => e.dataset.inside === 'true')")
        for mm, covered in zip(_panel_mm(frame), inside, strict=True):
            assert not covered or np.allclose(mm, cursor, atol=0.05)


def test_a_browser_without_webgl_gets_server_drawn_slices(app_url):
    with browser_page(extra_args=("--disable-webgl", "--disable-3d-apis")) as page:
        page.goto(f"{app_url}/data")
        wait_for_app(page, min_images=6)  # the viewer reported no WebGL: the session switched to PNG slices
        assert page.locator("iframe[title='ui.viewer.fusion_viewer']").count() == 0
        assert "Traceback" not in page.inner_text("body")


def test_register_and_fuse_shows_fixed_and_moving_in_the_linked_viewer(app_url):
    with browser_page(height=1600) as page:
        page.goto(f"{app_url}/register_fuse")
        wait_for_app(page)
        wait_for_viewers(page)
        frame = viewer_frame(page)
        assert frame.locator("canvas").count() >= 2  # fixed | moving before (| after, once registered)
        assert viewer_hooks(frame)["layout"] == "axial"
        assert "Traceback" not in page.inner_text("body")


def test_generation_viewer_shows_the_signed_error_over_the_real_target(app_url):
    with browser_page(height=1600) as page:
        page.goto(f"{app_url}/generation")
        wait_for_app(page)
        wait_for_viewers(page)
        frame = viewer_frame(page)
        labels = frame.eval_on_selector_all(".fx-panel", "els => els.map(e => e.dataset.label)")
        assert labels[-1].startswith("real CT + error of")
        layer = (
            "() => { const v = fxViewer.state.panels[2].nv.volumes.at(-1); return [v.colormapNegative, v.cal_max]; }"
        )
        negative, top = frame.evaluate(layer)
        assert negative == "winter" and top > 0  # diverging: negative errors in their own colours
        assert frame.evaluate("() => fxViewer.state.panels[1].nv.volumes.length") == 1  # the generated CT: no map


def test_a_click_on_the_attention_viewer_sets_the_query(app_url):
    with browser_page(height=1800) as page:
        page.goto(f"{app_url}/attention")
        wait_for_app(page)
        wait_for_viewers(page, count=3)  # attention, attribution, uncertainty: the page has run to its end
        frame = viewer_frame(page)  # the first viewer: section 1, cross-modal attention
        assert viewer_hooks(frame)["layout"] == "axial"
        query_y = page.locator(".st-key-att-query-y input")
        before = query_y.input_value()
        changed = "(b) => { const r = document.querySelector('.st-key-att-query-y input'); return r && r.value !== b; }"
        for attempt in range(3):  # a click that lands while a rerun replaces the viewer is lost: click again
            box = viewer_frame(page).locator("canvas").first.bounding_box()
            page.mouse.click(box["x"] + 0.62 * box["width"], box["y"] + 0.3 * box["height"])
            try:
                page.wait_for_function(changed, arg=before, timeout=60_000)
                break
            except PlaywrightTimeoutError:
                if attempt == 2:
                    raise
                wait_for_app(page)
                wait_for_viewers(page, count=3)
        assert query_y.input_value() != before
        assert "Traceback" not in page.inner_text("body")


@pytest.mark.skip(
    reason="a click on the Scattergl map did not select one point in headless Chromium (no heading in 120 s)"
)
def test_latent_space_detail_viewer_opens_at_the_selected_slice(app_url):
    with browser_page(height=1800) as page:
        page.goto(f"{app_url}/latents")
        wait_for_app(page)
        page.get_by_text("PCA", exact=True).click()
        wait_for_app(page)
        page.locator("[data-testid='stPlotlyChart'] .nsewdrag").first.wait_for(timeout=180_000)
        x, y = page.evaluate(_FIRST_POINT)  # the first code's point on the page, from the figure's own axes
        page.mouse.click(x, y)
        heading = page.get_by_text(", slice ").first
        heading.wait_for(timeout=120_000)
        wanted = int(heading.inner_text().split(", slice ")[1].split()[0]) - 1
        wait_for_viewers(page)
        assert viewer_hooks(viewer_frame(page))["layout"] == "axial"
        assert _slice(viewer_frame(page))[2] == wanted


_FIRST_POINT = """() => {
    const gd = document.querySelector("[data-testid='stPlotlyChart'] .js-plotly-plot");
    const trace = gd._fullData.find(t => t.x && t.x.length && t.customdata);
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
    return [box.left + xa._offset + xa.l2p(trace.x[0]), box.top + ya._offset + ya.l2p(trace.y[0])];
}"""

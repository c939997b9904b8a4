"""End-to-end: a real headless Chromium opens the running app and sees the demo cohort's images."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.harness import browser_page, browser_pages, require_chromium, serve_app, wait_for_app
from ui.catalog import PAGES

pytestmark = pytest.mark.e2e

require_chromium()


@pytest.fixture(scope="module")
def app_url():
    # These tests read the pages through server-drawn slices (images); the WebGL viewer has its own tests
    # (test_viewer.py).
    with serve_app(env={"FUSION_VIEWER": "png"}) as url:
        yield url


def _no_traceback(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    assert "Traceback" not in page.inner_text("body")


def test_data_page_shows_demo_images(app_url, tmp_path):
    # Runs first on a fresh server on purpose: a deep link as the first request.
    with browser_page() as page:
        page.goto(f"{app_url}/data")
        wait_for_app(page, min_images=6)
        _no_traceback(page)
        sizes = page.eval_on_selector_all(
            "[data-testid='stImage'] img, [data-testid='stImageContainer'] img", "els => els.map(e => e.naturalWidth)"
        )
        assert len(sizes) >= 6 and min(sizes) >= 64
        assert page.get_by_text("Paired CT and MR").count() >= 1
        # A deep link as the first request must still get app.py's navigation, not file names.
        sidebar = page.inner_text("[data-testid='stSidebar']")
        assert "Home" in sidebar and "Data" in sidebar and "app" not in sidebar.split()
        page.screenshot(path=str(tmp_path / "data.png"), full_page=True)
        assert (tmp_path / "data.png").stat().st_size > 20_000


def test_home_page_explains_the_app(app_url, tmp_path):
    with browser_page() as page:
        page.goto(app_url)
        wait_for_app(page)
        page.get_by_text("Explore CT and MRI together").wait_for(timeout=60_000)
        _no_traceback(page)


def test_upload_of_corrupt_file_shows_message_not_traceback(app_url, tmp_path):
    broken = tmp_path / "broken_scan.nii.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00not really gzip")
    with browser_page() as page:
        page.goto(f"{app_url}/data")
        wait_for_app(page)
        page.get_by_text("Upload files").click()
        page.locator("input[type='file']").set_input_files(str(broken))
        alert = page.locator("[data-testid='stAlertContentError']")
        alert.wait_for(timeout=60_000)
        assert "broken_scan.nii.gz" in alert.inner_text()
        _no_traceback(page)


def test_upload_of_real_nifti_shows_it(app_url, tmp_path):
    from fusion_core.data.phantom import make_subject
    from fusion_core.io import save_volume

    save_volume(make_subject(1, size=48, modalities=("CT",)).ct, tmp_path / "head_ct.nii.gz")
    with browser_page() as page:
        page.goto(f"{app_url}/data")
        wait_for_app(page)
        page.get_by_text("Upload files").click()
        page.locator("input[type='file']").set_input_files(str(tmp_path / "head_ct.nii.gz"))
        page.get_by_text("CT only (unpaired)").wait_for(timeout=60_000)
        wait_for_app(page, min_images=3)
        _no_traceback(page)


def test_two_browsers_on_one_server_keep_their_own_data(app_url, tmp_path):
    """User A uploads a CT while user B looks at the demo pair: neither sees the other's scan."""
    from fusion_core.data.phantom import make_subject
    from fusion_core.io import save_volume

    save_volume(make_subject(2, size=48, modalities=("CT",)).ct, tmp_path / "user_a_ct.nii.gz")
    with browser_pages(2) as (user_a, user_b):
        for page in (user_a, user_b):
            page.goto(f"{app_url}/data")
            wait_for_app(page, min_images=6)
        user_a.get_by_text("Upload files").click()
        user_a.locator("input[type='file']").set_input_files(str(tmp_path / "user_a_ct.nii.gz"))
        user_a.get_by_text("CT only (unpaired)").wait_for(timeout=60_000)
        user_b.reload()
        wait_for_app(user_b, min_images=6)
        assert user_b.get_by_text("Paired CT and MR").count() >= 1
        assert user_b.get_by_text("CT only (unpaired)").count() == 0
        assert user_a.get_by_text("Paired CT and MR").count() == 0
        for page in (user_a, user_b):
            _no_traceback(page)


@pytest.mark.parametrize("url_path", [page.url_path for page in PAGES])
def test_every_page_opens_without_error(app_url, url_path):
    with browser_page() as page:
        page.goto(f"{app_url}/{url_path}")
        wait_for_app(page)
        page.locator("h1").first.wait_for(timeout=120_000)
        _no_traceback(page)
        assert page.locator("[role='dialog']").count() == 0  # e.g. no "Page not found"


def test_performance_page_draws_the_roc_chart(app_url, tmp_path):
    with browser_page() as page:
        page.goto(f"{app_url}/performance")
        wait_for_app(page)
        page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot .main-svg").first.wait_for(timeout=120_000)
        _no_traceback(page)
        assert page.locator("[data-testid='stAlertContentError']").count() == 0
        legend = page.locator("[data-testid='stPlotlyChart']").first.inner_text()
        assert "Independence bound" in legend and "AUC" in legend


def _metric_value(page, label: str) -> str:
    metric = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return metric.locator("[data-testid='stMetricValue']").inner_text()


def test_learn_slider_changes_the_fused_auc(app_url):
    with browser_page() as page:
        page.goto(f"{app_url}/learn")
        wait_for_app(page)
        page.get_by_text("Fused AUC (theory)").first.wait_for(timeout=120_000)
        _no_traceback(page)
        before = _metric_value(page, "Fused AUC (theory)")
        assert before == "0.841"
        correlation = page.get_by_role("slider").nth(2)  # d'1, d'2, then the noise correlation
        correlation.focus()
        correlation.press("End")  # correlation 0.95: the second detector repeats the first one's errors
        page.wait_for_function(
            """(before) => {
                const m = [...document.querySelectorAll("[data-testid='stMetric']")]
                    .find(e => e.innerText.includes("Fused AUC (theory)"));
                return m && !m.innerText.includes(before);
            }""",
            arg=before,
            timeout=60_000,
        )
        assert float(_metric_value(page, "Fused AUC (theory)")) < 0.8
        _no_traceback(page)


def test_generation_page_shows_images_and_the_metrics_table(app_url, tmp_path):
    with browser_page() as page:
        page.goto(f"{app_url}/generation")
        wait_for_app(page, min_images=9)  # input, generated and real CT, three planes each
        _no_traceback(page)
        page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot .main-svg").first.wait_for(timeout=120_000)
        table = page.locator("[data-testid='stTable']").first
        table.wait_for(timeout=60_000)
        text = table.inner_text()
        assert "MAE (HU)" in text and "synth-unet" in text  # the default MR→CT model
        assert page.locator("[data-testid='stAlertContentError']").count() == 0
        page.screenshot(path=str(tmp_path / "generation.png"), full_page=True)


def _looked_at_image(page) -> str:
    """The data URI of the MR attention overlay (the image inside the 'att-looked' chart)."""
    return page.locator(".st-key-att-looked .js-plotly-plot image").first.get_attribute("href")


def test_attention_click_on_the_ct_moves_the_mr_overlay(app_url):
    with browser_page(height=1600) as page:
        page.goto(f"{app_url}/attention")
        wait_for_app(page)
        page.locator(".st-key-att-looked .js-plotly-plot image").first.wait_for(timeout=300_000)
        _no_traceback(page)
        before = _looked_at_image(page)
        query_y = page.locator(".st-key-att-query-y input")
        assert query_y.input_value() == "64"
        ct = page.locator(".st-key-att-click-CT .js-plotly-plot image").first
        box = ct.bounding_box()
        page.mouse.click(box["x"] + 0.62 * box["width"], box["y"] + 0.35 * box["height"])  # upper right of centre
        page.wait_for_function(  # the click moved the query row and redrew the MR overlay (in either order)
            """(before) => {
                const img = document.querySelector(".st-key-att-looked .js-plotly-plot image");
                const row = document.querySelector(".st-key-att-query-y input");
                return img && img.getAttribute("href") !== before && row && row.value !== "64";
            }""",
            arg=before,
            timeout=120_000,
        )
        assert query_y.input_value() != "64"
        _no_traceback(page)


def _laid_out_box(page, locator, timeout_s: float = 60.0) -> dict:
    """The element's box once the page has laid it out (a chart redrawn by a rerun has none for a moment)."""
    deadline = time.monotonic() + timeout_s
    while (box := locator.bounding_box()) is None and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert box is not None, "the chart was never laid out"
    return box


def test_latent_space_lasso_shows_thumbnails(app_url, tmp_path):
    with browser_page() as page:
        page.goto(f"{app_url}/latents")
        wait_for_app(page)
        page.get_by_text("PCA", exact=True).click()  # no switch from PCA to UMAP under the mouse
        wait_for_app(page)
        for attempt in range(2):  # a lasso drawn while a rerun replaces the chart is lost: draw it again
            _lasso_the_middle(page)
            try:
                page.get_by_text("selected slices").wait_for(timeout=60_000 * (attempt + 1))
                break
            except PlaywrightTimeout:
                if attempt:
                    raise
                wait_for_app(page)
        wait_for_app(page, min_images=2)
        page.get_by_text("Open in Data").first.wait_for(timeout=120_000)  # thumbnails render after the grid
        _no_traceback(page)
        page.screenshot(path=str(tmp_path / "latents.png"), full_page=True)


def _lasso_the_middle(page) -> None:
    """Draw a lasso around the middle third of the latent map."""
    drag = page.locator("[data-testid='stPlotlyChart'] .nsewdrag").first
    drag.wait_for(timeout=180_000)
    box = _laid_out_box(page, drag)
    cx, cy, rx, ry = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] / 3, box["height"] / 3
    page.mouse.move(cx - rx, cy - ry)
    page.mouse.down()
    for x, y in ((cx + rx, cy - ry), (cx + rx, cy + ry), (cx - rx, cy + ry), (cx - rx, cy - ry + 5)):
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def _open_subject(page, app_url: str, subject_id: str) -> None:
    page.goto(f"{app_url}/data?subject={subject_id}")
    page.get_by_text(f"{subject_id}: Paired CT and MR").wait_for(timeout=120_000)
    wait_for_app(page, min_images=6)


def _wait_for_text(page, text: str, timeout_ms: int = 120_000) -> None:
    page.wait_for_function("(t) => document.body.innerText.includes(t)", arg=text, timeout=timeout_ms)


def _go_to(page, title: str) -> None:
    """Switch page through the sidebar, as a user does (the session and its data stay)."""
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)


def test_a_reload_during_a_registration_keeps_the_subject_and_says_what_stopped(app_url):
    with browser_page() as page:
        _open_subject(page, app_url, "phantom-007")
        _go_to(page, "Register & Fuse")
        wait_for_app(page)
        page.get_by_role("button", name="Register", exact=True).click()
        page.locator("[data-testid='stProgress']").first.wait_for(timeout=60_000)
        assert "tab=" in page.url
        page.reload()  # the registration is still running
        page.get_by_text("reloaded while this was running").wait_for(timeout=120_000)
        _wait_for_text(page, "registering the MR of phantom-007")
        _wait_for_text(page, "Subject phantom-007")  # the case the user loaded, not the default
        _no_traceback(page)
        _go_to(page, "Data")
        page.get_by_text("phantom-007: Paired CT and MR").wait_for(timeout=120_000)
        url = page.url
    with browser_page() as stranger:  # the same URL in another browser restores nothing of it
        stranger.goto(url)
        stranger.get_by_text("phantom-000: Paired CT and MR").wait_for(timeout=120_000)
        assert "phantom-007" not in stranger.inner_text("body")


def test_two_browsers_on_the_model_pages_see_their_own_subjects(app_url):
    subjects = ("phantom-003", "phantom-007")
    with browser_pages(2, height=1600) as users:
        for page, subject_id in zip(users, subjects, strict=True):
            _open_subject(page, app_url, subject_id)
        for title, wait_images in (("Cross-modal Generation", 9), ("Attention & Uncertainty", 0)):
            for page in users:  # both pages compute at the same time on one server
                page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
            for page, subject_id, other in zip(users, subjects, reversed(subjects), strict=True):
                _wait_for_text(page, f"Subject {subject_id}", timeout_ms=300_000)
                wait_for_app(page, min_images=wait_images, timeout_ms=300_000)
                assert f"Subject {other}" not in page.inner_text("body")
                _no_traceback(page)

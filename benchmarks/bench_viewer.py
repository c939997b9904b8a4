"""The scan viewer in headless Chromium: WebGL (NiiVue component) beside the server-drawn PNG viewer.

Measures, in one run on one server:

* a slice step (arrow key -> ``data-slice`` changed and the frame drawn), 50 steps, on the Data and
  Generation pages, for the WebGL viewer and for the PNG viewer (key -> new axial picture loaded);
* page open -> first drawn frame for the demo case and for a 512×512×400 CT with a 256×256×176 MR;
* bytes the server sent over the websocket per case, and the browser's JavaScript heap;
* a crosshair move across four linked panels (CT | MR | synthetic CT | error).

Run: ``nice -n 5 .venv/bin/python -m benchmarks.bench_viewer`` -> benchmarks/results/bench_viewer.json
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import (  # noqa: E402
    browser_page,
    serve_app,
    viewer_frame,
    wait_for_app,
    wait_for_viewers,
)

OUT = ROOT / "benchmarks" / "results" / "bench_viewer.json"
STEPS = 50
# In the viewer's iframe: time from the key event to the data-slice change (set right after the draw).
_WEBGL_ARM = """() => {
    const root = document.getElementById("root");
    const before = root.dataset.slice;
    window.__fxLatency = null;
    let keyAt = null;
    document.addEventListener("keydown", (e) => { keyAt = e.timeStamp; }, { capture: true, once: true });
    const observer = new MutationObserver(() => {
        if (root.dataset.slice !== before && keyAt !== null) {
            window.__fxLatency = performance.now() - keyAt;
            observer.disconnect();
        }
    });
    observer.observe(root, { attributes: true, attributeFilter: ["data-slice"] });
}"""
# In the page: time from the key event to a new axial picture, loaded (checked every animation frame).
_PNG_ARM = """(selector) => {
    const image = () => document.querySelector(selector);
    const before = image().getAttribute("src");
    window.__fxLatency = null;
    let keyAt = null;
    document.addEventListener("keydown", (e) => { keyAt = e.timeStamp; }, { capture: true, once: true });
    const poll = () => {
        const img = image();
        if (img && keyAt !== null && img.getAttribute("src") !== before && img.complete && img.naturalWidth) {
            window.__fxLatency = performance.now() - keyAt;
        } else {
            requestAnimationFrame(poll);
        }
    };
    requestAnimationFrame(poll);
}"""


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def _keys() -> list[str]:
    return ["ArrowUp"] * (STEPS // 2) + ["ArrowDown"] * (STEPS - STEPS // 2)


def webgl_steps(page) -> list[float]:
    """50 slice steps with the arrow keys in the viewer: ms from key event to the drawn frame."""
    frame = viewer_frame(page)
    frame.locator("canvas").first.focus()
    latencies = []
    for key in _keys():
        frame.evaluate(_WEBGL_ARM)
        page.keyboard.press(key)
        frame.wait_for_function("() => window.__fxLatency !== null", timeout=30_000)
        latencies.append(frame.evaluate("() => window.__fxLatency"))
    return latencies


def png_steps(page, key_prefix: str, min_images: int) -> list[float]:
    """50 slice steps on the PNG viewer's axial slider: ms from key event to the new picture loaded."""
    slider = page.locator(f".st-key-{key_prefix}-axial").get_by_role("slider")
    slider.focus()
    selector = "[data-testid='stImage'] img, [data-testid='stImageContainer'] img"
    latencies = []
    for key in _keys():
        page.evaluate(_PNG_ARM, selector)
        page.keyboard.press(key.replace("Up", "Right").replace("Down", "Left"))
        page.wait_for_function("() => window.__fxLatency !== null", timeout=60_000)
        latencies.append(page.evaluate("() => window.__fxLatency"))
        wait_for_app(page, min_images=min_images)
    return latencies


def _count_bytes(page) -> list[int]:
    """A running total (index 0) of bytes the page receives: websocket frames and HTTP bodies (PNG slices)."""
    total = [0]

    def add(n: int) -> None:
        total[0] += n

    def on_socket(socket):
        socket.on("framereceived", lambda payload: add(len(payload)))

    def on_finished(request):
        if "/media/" in request.url or "/component/" in request.url:
            add(max(0, request.sizes().get("responseBodySize", 0)))

    page.on("websocket", on_socket)
    page.on("requestfinished", on_finished)
    return total


def _heap_mb(page) -> float:
    """The renderer's JavaScript heap in MB (the page and its same-origin viewer iframe share it; GPU
    textures are not in it)."""
    return round(page.evaluate("() => performance.memory.usedJSHeapSize") / 1e6, 1)


def open_page(page, url: str, *, webgl: bool, min_images: int) -> dict[str, float]:
    """Open ``url``: seconds to the first drawn frame (WebGL) or all slice pictures (PNG), bytes received."""
    received = _count_bytes(page)
    start = time.perf_counter()
    page.goto(url)
    wait_for_app(page, min_images=0 if webgl else min_images, timeout_ms=600_000)
    if webgl:
        wait_for_viewers(page, timeout_ms=600_000)
    return {"first_frame_s": round(time.perf_counter() - start, 2), "mb_received": round(received[0] / 1e6, 2)}


def page_run(url: str, path: str, key_prefix: str, min_images: int) -> dict:
    """One page, WebGL then PNG (the sidebar toggle), on the same server with its caches warm."""
    result = {}
    with browser_page(height=1600) as page:  # warm-up: the server computes the case once
        open_page(page, f"{url}/{path}", webgl=True, min_images=min_images)
    with browser_page(height=1600) as page:
        result["webgl_open"] = open_page(page, f"{url}/{path}", webgl=True, min_images=min_images)
        result["webgl_step"] = _summary(webgl_steps(page))
        result["webgl_heap_mb"] = _heap_mb(page)
    print(path, json.dumps(result), flush=True)
    with browser_page(height=1600) as page:
        received = _count_bytes(page)
        page.goto(f"{url}/{path}")
        wait_for_app(page)
        page.get_by_text("Fast scan viewer (WebGL)").click(no_wait_after=True)  # off: server-drawn slices
        start = time.perf_counter()
        wait_for_app(page, min_images=min_images, timeout_ms=600_000)
        result["png_open_after_toggle_s"] = round(time.perf_counter() - start, 2)
        result["png_step"] = _summary(png_steps(page, key_prefix, min_images))
        result["png_mb_received_open_and_50_steps"] = round(received[0] / 1e6, 2)
    return result


def write_large_case(folder: Path) -> Path:
    """A 512×512×400 CT and a 256×256×176 MR (the demo pair, resampled by nearest neighbour)."""
    import nibabel as nib

    from fusion_core.data.cohorts import get_cohort_spec

    case = get_cohort_spec("demo").subject(0).to_case()
    subject = folder / "big-001"
    subject.mkdir(parents=True)
    for name, volume, size in (("ct", case.ct, (512, 512, 400)), ("mr", case.mr, (256, 256, 176))):
        extent = np.asarray(volume.extent_mm)
        picks = [
            np.minimum((np.arange(n) * old / n).astype(int), old - 1)
            for n, old in zip(size, volume.size_xyz, strict=True)
        ]
        array = volume.array[np.ix_(picks[2], picks[1], picks[0])]
        affine = np.diag([*(extent / np.asarray(size)), 1.0])
        affine[:3, 3] = volume.origin
        affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine  # LPS -> RAS for NIfTI
        dtype = np.int16 if name == "ct" else np.float32
        nib.save(nib.Nifti1Image(np.asarray(array.T, dtype=dtype), affine), subject / f"{name}.nii")
    return subject


def large_case_run(url: str, folder: Path) -> dict:
    """Open the big pair through the Data page's folder source; time to the first drawn frame."""
    with browser_page(height=1600) as page:
        received = _count_bytes(page)
        page.goto(f"{url}/data")
        wait_for_app(page)
        page.get_by_text("Folder on this machine").click()
        wait_for_app(page)
        received[0] = 0  # count only what the big pair brings
        box = page.get_by_placeholder("/path/to/cohort", exact=False)
        start = time.perf_counter()
        box.fill(str(folder))
        box.press("Enter")
        page.get_by_text("big-001: Paired CT and MR").wait_for(timeout=600_000)
        wait_for_viewers(page, timeout_ms=600_000)
        opened = time.perf_counter() - start
        notes = viewer_frame(page).eval_on_selector_all(".fx-note", "els => els.map(e => e.innerText)")
        return {
            "first_frame_s": round(opened, 2),
            "mb_received": round(received[0] / 1e6, 2),
            "resolution_shown": [n for n in notes if "voxels" in n or "shown" in n],
            "heap_mb": _heap_mb(page),
        }


_FOUR_PANELS = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    import numpy as np
    import streamlit as st
    from fusion_core.data.cohorts import get_cohort_spec
    from ui.viewer import tri_planar

    @st.cache_resource
    def volumes():
        case = get_cohort_spec("demo").subject(0).to_case()
        noise = np.random.default_rng(0).normal(0.0, 25.0, case.ct.shape).astype(np.float32)
        synthetic = case.ct.with_array(case.ct.array + noise, name="synthetic CT")
        error = case.ct.with_array(synthetic.array - case.ct.array, modality="UNKNOWN")
        return {{"CT": case.ct, "MR": case.mr, "synthetic CT": synthetic, "error": error}}

    tri_planar(volumes(), key="four")
    """
)


def four_panel_run() -> dict:
    """A crosshair move across four linked panels: ms for one move (all four redrawn), 50 moves."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "four_panels.py"
        script.write_text(_FOUR_PANELS.format(root=str(ROOT)))
        with serve_app(script=script) as url, browser_page(height=1400) as page:
            page.goto(url)
            wait_for_app(page)
            wait_for_viewers(page, timeout_ms=300_000)
            frame = viewer_frame(page)
            panels = frame.locator("canvas").count()
            times = frame.evaluate(
                """() => {
                    const start = fxViewer.state.lps.slice();
                    const times = [];
                    for (let i = 0; i < 50; i++) {
                        const t = performance.now();
                        fxViewer.moveAll([start[0] + (i % 10), start[1] - (i % 7), start[2] + (i % 5)]);
                        times.push(performance.now() - t);
                    }
                    return times;
                }"""
            )
    return {"panels": panels, **_summary(times)}


def main() -> None:
    results: dict = {"steps": STEPS, "browser": "headless Chromium, software WebGL (SwiftShader)"}
    with tempfile.TemporaryDirectory() as tmp:
        big = write_large_case(Path(tmp))
        with serve_app(env={"FUSION_DATA_ROOTS": tmp}) as url:
            results["data"] = page_run(url, "data", "data-view", 6)
            print(json.dumps(results["data"], indent=1), flush=True)
            results["generation"] = page_run(url, "generation", "gen-view", 9)
            print(json.dumps(results["generation"], indent=1), flush=True)
            results["large_ct_512x512x400_mr_256x256x176"] = large_case_run(url, big.parent)
            print(json.dumps(results["large_ct_512x512x400_mr_256x256x176"], indent=1), flush=True)
    results["crosshair_move_four_panels"] = four_panel_run()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

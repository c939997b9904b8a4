"""Benchmark: every page's first visit and its main controls on a fresh server, before and after, in one run.

Method:   for each checkout (``before``: the ``--base`` commit in a temporary git worktree; ``after``:
          this checkout), a fresh ``streamlit run app.py`` server as ``make run`` starts it, and one
          headless Chromium user who opens Home, waits ``--home-pause`` seconds, then clicks each page
          in the sidebar (one session, as a user moves). Per page:
          * first visual: from the click until the page's title and its first chart, image or scan
            viewer frame are drawn;
          * finished: until the page's script run has finished (``data-test-script-state``);
          * controls: each listed widget is moved (next option, next slider step, toggled) and timed
            from the input until the rerun it caused has finished.
Baseline: the ``before`` checkout, measured the same way in the same run (same machine, same load).
Targets:  first visual <= 3 s on every page; every control <= 0.3 s (issue 26), on a quiet machine.

Run:  .venv/bin/python -m benchmarks.bench_pages [--base 78f2053] [--home-pause 0] [--skip-before]
      (writes benchmarks/results/bench_pages.json)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from tests.e2e.harness import browser_page, chromium_path, serve_app  # noqa: E402
from ui.catalog import PAGES  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_pages.json"
BASE = "78f2053"  # main before the fast-pages work (issue 26)
TARGETS = {"first_visual_s": 3.0, "control_s": 0.3}
TIMEOUT_MS = 300_000
CONTROL_TIMEOUT_MS = 60_000
# The main controls of each page (widget keys), moved in this order after the page's first visit.
CONTROLS: dict[str, tuple[str, ...]] = {
    "data": ("data-overlay",),
    "register_fuse": ("rf-tiles", "rf-alpha", "rf-norm-method", "rf-fusion-method"),
    "generation": ("gen-ct-window", "gen-plane", "gen-scale-CT", "gen-baseline"),
    "performance": ("perf-threshold", "perf-rule", "perf-calibration-strategy", "perf-weights"),
    "latents": ("lat-colour", "lat-links", "lat-method"),
    "attention": ("att-slice", "att-method", "att-vae-inputs"),
    "learn": ("learn-d1", "learn-prior", "learn-mis-shift", "learn-unc-noisy", "learn-xor-task"),
}

# Records every change of Streamlit's script state with its time (performance.now()).
_OBSERVE = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    window.__runs = [[performance.now(), app.dataset.testScriptState]];
    new MutationObserver(() => window.__runs.push([performance.now(), app.dataset.testScriptState]))
        .observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
}"""
_IDLE = "() => document.querySelector(\"[data-testid='stApp']\")?.dataset.testScriptState === 'notRunning'"
# When the first run that started after t0 finished (performance.now()), or null while none has.
_RUN_END_AFTER = """(t0) => {
    const runs = window.__runs.filter(([t]) => t >= t0);
    const started = runs.findIndex(([, s]) => s === "running");
    const end = started < 0 ? undefined : runs.slice(started).find(([, s]) => s === "notRunning");
    return end ? end[0] : null;
}"""
# The page's title is drawn and so is its first chart, image or scan-viewer frame.
_FIRST_VISUAL = """(title) => {
    const main = document.querySelector("[data-testid='stMain']");
    const h1 = main && main.querySelector("h1");
    if (!h1 || !h1.textContent.includes(title)) return false;
    const images = [...main.querySelectorAll("[data-testid='stImage'] img, [data-testid='stImageContainer'] img")]
        .filter(i => i.complete && i.naturalWidth > 0).length;
    const charts = main.querySelectorAll(".js-plotly-plot .main-svg, [data-testid='stVegaLiteChart'] canvas").length;
    const frames = [...main.querySelectorAll("iframe[title='ui.viewer.fusion_viewer']")]
        .map(f => f.contentDocument?.getElementById("root"))
        .filter(r => r && Number(r.dataset.frames) > 0).length;
    return images + charts + frames > 0;
}"""
# What kind of widget the container of a key holds.
_KIND = """(key) => {
    const box = document.querySelector(".st-key-" + key);
    if (!box) return "missing";
    if (box.querySelector("input[type='range'], [role='slider']")) return "slider";
    if (box.querySelector("[data-testid='stRadioOption']")) return "radio";
    if (box.querySelector("[role='combobox']")) return "select";
    if (box.querySelector("[data-testid='stCheckbox'], [data-testid='stToggle'], input[type='checkbox']")) return "toggle";
    return "unknown";
}"""
_CHECKED_RADIO = (
    """(key) => [...document.querySelectorAll(".st-key-" + key + " input[type='radio']")].findIndex(r => r.checked)"""
)


@contextlib.contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """A temporary git worktree of ``ref`` (the ``before`` app), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="bench-pages-")) / "app"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), ref], check=True,
                   capture_output=True)  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)], capture_output=True)


def _now(page) -> float:
    return page.evaluate("() => performance.now()")


def _wait_run(page, t0: float, timeout_ms: int = TIMEOUT_MS) -> float:
    end = page.wait_for_function(_RUN_END_AFTER, arg=t0, timeout=timeout_ms).json_value()
    return (end - t0) / 1000


def first_visit(page, title: str) -> dict[str, float]:
    """Click the page's sidebar link; seconds to its first visual and to the end of its run."""
    t0 = _now(page)
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
    page.wait_for_function(_FIRST_VISUAL, arg=title, timeout=TIMEOUT_MS)
    visual = (_now(page) - t0) / 1000
    return {"first_visual_s": round(visual, 3), "finished_s": round(max(_wait_run(page, t0), visual), 3)}


def _actuate(page, key: str, kind: str) -> None:
    """Move the widget to its next value with real input events (keyboard, clicks)."""
    box = page.locator(f".st-key-{key}")
    if kind == "slider":
        box.locator("input[type='range'], [role='slider']").first.focus()
        page.keyboard.press("ArrowRight")
    elif kind == "radio":
        options = box.locator("[data-testid='stRadioOption']")
        options.nth((page.evaluate(_CHECKED_RADIO, key) + 1) % options.count()).click()
    elif kind == "select":
        box.locator("[role='combobox']").first.click()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
    else:
        box.locator("label").first.click()


def move_control(page, key: str) -> dict:
    """Move the widget ``key`` to its next value; seconds until the rerun it caused finished."""
    page.wait_for_function(_IDLE, timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)  # let the viewer's and charts' own events settle
    kind = page.evaluate(_KIND, key)
    if kind in ("missing", "unknown"):
        return {"kind": kind, "seconds": None}
    t0 = _now(page)
    _actuate(page, key, kind)
    try:
        return {"kind": kind, "seconds": round(_wait_run(page, t0, CONTROL_TIMEOUT_MS), 3)}
    except PlaywrightTimeout:
        return {"kind": kind, "seconds": None, "error": "no rerun followed the input"}


def measure(url: str, home_pause: float, controls: bool) -> dict:
    """One fresh user over every page of the server at ``url`` (see the module docstring)."""
    out = {"first_visit": {}, "controls": {}}
    with browser_page(height=1400) as page:
        page.goto(url)
        page.wait_for_selector("[data-testid='stMain'] h1", timeout=TIMEOUT_MS)
        page.wait_for_function(_IDLE, timeout=TIMEOUT_MS)
        page.evaluate(_OBSERVE)
        time.sleep(home_pause)
        for info in PAGES[1:]:
            name = info.url_path
            out["first_visit"][name] = first_visit(page, info.title)
            print(name, out["first_visit"][name], flush=True)
            if controls:
                out["controls"][name] = {key: move_control(page, key) for key in CONTROLS.get(name, ())}
                print("  ", out["controls"][name], flush=True)
    return out


def wait_for_warm_up(url: str, timeout_s: float = 900.0) -> float | None:
    """Reload Home until it says every page is prepared; seconds waited (None: this checkout does not warm)."""
    start = time.monotonic()
    with browser_page() as page:
        while time.monotonic() - start < timeout_s:
            page.goto(url)
            page.wait_for_selector("[data-testid='stMain'] h1", timeout=TIMEOUT_MS)
            page.wait_for_function(_IDLE, timeout=TIMEOUT_MS)
            text = page.locator("[data-testid='stMain']").inner_text()
            if "pages are prepared" in text:
                return round(time.monotonic() - start, 1)
            if "Preparing the pages" not in text:
                return None
            time.sleep(5)
    raise TimeoutError("the server did not finish preparing its pages")


def summary(result: dict) -> dict:
    firsts = [v["first_visual_s"] for v in result["first_visit"].values()]
    moves = [c["seconds"] for page in result["controls"].values() for c in page.values() if c["seconds"] is not None]
    return {
        "slowest_first_visual_s": max(firsts),
        "pages_over_target": [p for p, v in result["first_visit"].items() if v["first_visual_s"] > TARGETS["first_visual_s"]],
        "slowest_control_s": max(moves) if moves else None,
        "controls_over_target": [
            f"{p}:{k}" for p, c in result["controls"].items() for k, v in c.items()
            if v["seconds"] is not None and v["seconds"] > TARGETS["control_s"]
        ],
    }  # fmt: skip


def run_variant(folder: Path, args, env: dict[str, str]) -> dict:
    with serve_app(cwd=folder, env=env, timeout=180) as url:
        waited = wait_for_warm_up(url) if args.after_warm_up else None
        result = measure(url, args.home_pause, not args.no_controls)
    return result | {"summary": summary(result), "waited_for_warm_up_s": waited}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BASE, help="the 'before' commit")
    parser.add_argument("--home-pause", type=float, default=0.0, help="seconds a user spends on Home first")
    parser.add_argument("--skip-before", action="store_true", help="measure this checkout only")
    parser.add_argument(
        "--after-warm-up", action="store_true",
        help="first wait until Home says every page is prepared (a user arriving a minute after the server started)",
    )  # fmt: skip
    parser.add_argument("--no-controls", action="store_true")
    parser.add_argument(
        "--viewer", choices=("webgl", "png"), default="webgl",
        help="png: server-drawn slices instead of the WebGL viewer (headless Chromium has only software WebGL)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if chromium_path() is None:
        raise SystemExit("Chromium is needed (make test installs it)")
    load_before = os.getloadavg()[0]
    results: dict = {
        "targets": TARGETS,
        "home_pause_s": args.home_pause,
        "after_warm_up": args.after_warm_up,
        "viewer": args.viewer,
    }
    warm = {"FUSION_WARM": "1"} | ({"FUSION_VIEWER": "png"} if args.viewer == "png" else {})  # as make run serves it
    results["after"] = run_variant(ROOT, args, warm)
    if not args.skip_before:
        with checkout(args.base) as folder:
            results["before"] = run_variant(folder, args, warm) | {"commit": args.base}
    results["machine"] = {
        "cpu_count": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    results["command"] = "python -m benchmarks.bench_pages " + " ".join(argv or sys.argv[1:])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v.get("summary") for k, v in results.items() if isinstance(v, dict)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

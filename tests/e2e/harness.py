"""Start the app on a free local port and drive it with Debian's headless Chromium (Playwright).

Also a CLI for looking at pages by eye:
    .venv/bin/python -m tests.e2e.harness --out /tmp/shots data register
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",  # software WebGL (no GPU here): the scan viewer draws with WebGL 2
    "--enable-unsafe-swiftshader",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's Chromium, or the one named by $CHROMIUM."""
    candidate = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return candidate if Path(candidate).exists() else shutil.which("chromium")


def require_chromium() -> None:
    """Skip the calling test module without Chromium, or fail when $FUSION_REQUIRE_BROWSER says it must run."""
    import pytest  # only the test modules need it, not the screenshot command

    if chromium_path() is None:
        if os.environ.get("FUSION_REQUIRE_BROWSER"):
            raise RuntimeError("Chromium is required for the browser tests (make test installs it)")
        pytest.skip("Chromium not installed (make test installs it)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(
    *, timeout: float = 120.0, env: dict[str, str] | None = None, script: Path | None = None, cwd: Path | None = None
) -> Iterator[str]:
    """Run ``streamlit run app.py`` on 127.0.0.1 and yield its base URL; stop it afterwards.

    ``env`` adds environment variables, e.g. ``{"FUSION_VIEWER": "png"}`` for server-drawn slices;
    ``script`` serves another script instead of app.py (benchmarks of one component). The server does
    not warm its pages in the background (``FUSION_WARM=0``: tests time and drive one page at a time)
    unless ``env`` says ``{"FUSION_WARM": "1"}``, as ``make run`` does; ``cwd`` runs another checkout.
    """
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script or (cwd or ROOT) / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
    ]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=cwd or ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "FUSION_WARM": "0", **(env or {})},
        )
        try:
            _wait_healthy(url, process, log, timeout)
            yield url
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            if process.poll() is None:
                process.kill()


def _wait_healthy(url: str, process: subprocess.Popen, log, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"streamlit exited early:\n{log.read().decode(errors='replace')}")
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        time.sleep(0.5)
    raise TimeoutError(f"streamlit did not become healthy within {timeout:.0f} s")


@contextlib.contextmanager
def browser_page(width: int = 1500, height: int = 1100, extra_args: tuple[str, ...] = ()):
    """A Playwright page in a fresh headless Chromium profile (``extra_args``: more Chromium switches)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_path(),
            headless=True,
            args=[*CHROMIUM_ARGS, *extra_args],
            viewport={"width": width, "height": height},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


@contextlib.contextmanager
def browser_pages(count: int, width: int = 1500, height: int = 1100):
    """``count`` pages in separate browser contexts of one headless Chromium (separate cookies and
    sessions: separate users of one server)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            contexts = [browser.new_context(viewport={"width": width, "height": height}) for _ in range(count)]
            yield [context.new_page() for context in contexts]
        finally:
            browser.close()


def wait_for_app(page, *, min_images: int = 0, timeout_ms: int = 180_000) -> None:
    """Wait until Streamlit has finished running the script and drawn ``min_images`` images."""
    page.wait_for_selector("[data-testid='stMain']", timeout=timeout_ms)
    page.wait_for_function(
        """(n) => {
            const running = document.querySelector("[data-testid='stStatusWidget']");
            const imgs = [...document.querySelectorAll("[data-testid='stImage'] img, [data-testid='stImageContainer'] img")]
                .filter(i => i.complete && i.naturalWidth > 0);
            const spinning = document.querySelector("[data-testid='stSpinner']");  // a cached function still computing
            return !running && !spinning && imgs.length >= n;
        }""",
        arg=min_images,
        timeout=timeout_ms,
    )


VIEWER_IFRAME = "iframe[title='ui.viewer.fusion_viewer']"


def viewer_frame(page, index: int = 0):
    """The Playwright ``Frame`` of the ``index``-th scan viewer on the page (it lives in an iframe)."""
    handle = page.locator(VIEWER_IFRAME).nth(index).element_handle(timeout=180_000)
    return handle.content_frame()


def wait_for_viewers(page, *, count: int = 1, timeout_ms: int = 180_000) -> None:
    """Wait until ``count`` scan viewers have drawn at least one frame (their ``data-frames`` > 0)."""
    page.wait_for_function(
        """([selector, n]) => {
            const frames = [...document.querySelectorAll(selector)].map(f => f.contentDocument?.getElementById("root"));
            return frames.filter(r => r && Number(r.dataset.frames) > 0).length >= n;
        }""",
        arg=[VIEWER_IFRAME, count],
        timeout=timeout_ms,
    )


def viewer_hooks(frame) -> dict[str, str]:
    """The viewer's test hooks: ``slice``, ``positionMm``, ``frames`` (strings, as on the element)."""
    return frame.evaluate("() => ({...document.getElementById('root').dataset})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="*", default=[""], help="url paths, e.g. data (empty = home)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/fusion-shots"))
    parser.add_argument("--min-images", type=int, default=0)
    parser.add_argument("--height", type=int, default=2000, help="viewport height (Streamlit scrolls inside)")
    parser.add_argument(
        "--wait-selector",
        default=None,
        help="also wait for this CSS selector, e.g. '.js-plotly-plot .main-svg' (plotly charts are not images)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with serve_app() as url, browser_page(height=args.height) as page:
        for name in args.pages:
            page.goto(f"{url}/{name}")
            page.locator("[data-testid='stMain'] h1").first.wait_for(timeout=180_000)  # the page itself ran
            wait_for_app(page, min_images=args.min_images)
            if args.wait_selector and name:  # Home has no chart: don't wait for one there
                page.wait_for_selector(args.wait_selector, timeout=180_000)
            with contextlib.suppress(Exception):  # a page with a scan viewer: wait for its first frame
                page.locator(VIEWER_IFRAME).first.wait_for(timeout=15_000)
                wait_for_viewers(page)
            time.sleep(1.0)
            target = args.out / f"{name or 'home'}.png"
            page.screenshot(path=str(target), full_page=True)
            print(target)


if __name__ == "__main__":
    main()

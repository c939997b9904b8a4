"""Benchmark: a bounded load test against a local server (loopback only).

A fixed number of simulated users (separate browser contexts of one headless Chromium, so separate
Streamlit sessions) switch between pages for a fixed time, then stop by themselves. Each visit is timed
from navigation until Streamlit has finished the page's run (no running indicator); a visit counts as an
error when the page shows an exception or a "Something went wrong" message, or does not finish within
the timeout. Baseline in the same run: one user alone for the same pages (the rerun time without
contention). Writes ``benchmarks/results/bench_load.json``.

Run (the machine is shared: keep it short):
    nice -n 10 .venv/bin/python -m benchmarks.bench_load --users 3 --seconds 60
    .venv/bin/python -m benchmarks.bench_load --users 10 --seconds 60 --pages '' data learn performance \
        --out benchmarks/results/bench_load_10_users.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import numpy as np

from tests.e2e.harness import CHROMIUM_ARGS, chromium_path, serve_app
from ui.catalog import PAGES

RESULTS = Path(__file__).parent / "results" / "bench_load.json"
DEFAULT_PAGES = tuple(page.url_path for page in PAGES)  # every page of the app, the model pages included
# Every page starts with st.title: its heading exists only once this visit's script run has drawn it.
_FINISHED = """() => !document.querySelector("[data-testid='stStatusWidget']")
    && !!document.querySelector("[data-testid='stMain'] h1")"""


async def visit(page, url: str, timeout_ms: int) -> tuple[float, str | None]:
    """Open ``url`` and wait for the run to finish: (seconds, error or None)."""
    start = time.perf_counter()
    try:
        await page.goto(url, timeout=timeout_ms)
        await page.wait_for_selector("[data-testid='stMain']", timeout=timeout_ms)
        await page.wait_for_timeout(300)  # let the script run start (the status widget appears)
        await page.wait_for_function(_FINISHED, timeout=timeout_ms)
    except Exception as error:  # a timeout or a crashed page: an error of this visit
        return time.perf_counter() - start, f"{type(error).__name__}: {str(error)[:120]}"
    seconds = time.perf_counter() - start
    if await page.locator("[data-testid='stException']").count():
        return seconds, "exception on the page"
    if await page.get_by_text("Something went wrong").count():
        return seconds, "'Something went wrong' on the page"
    return seconds, None


async def user(
    browser, base: str, pages: list[str], deadline: float, offset: int, timeout_ms: int, min_visits: int
) -> list[dict]:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    visits, step = [], offset
    while time.monotonic() < deadline or len(visits) < min_visits:
        path = pages[step % len(pages)]
        seconds, error = await visit(page, f"{base}/{path}", timeout_ms)
        visits.append({"page": path or "home", "seconds": round(seconds, 3), "error": error})
        step += 1
    await context.close()
    return visits


async def run(
    base: str, users: int, seconds: float, pages: list[str], timeout_ms: int, min_visits: int = 0
) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        deadline = time.monotonic() + seconds
        batches = await asyncio.gather(
            *(user(browser, base, pages, deadline, i, timeout_ms, min_visits) for i in range(users))
        )
        await browser.close()
    return [visit for batch in batches for visit in batch]


def summary(visits: list[dict], seconds: float) -> dict:
    times = np.array([v["seconds"] for v in visits if v["error"] is None]) if visits else np.array([])
    return {
        "visits": len(visits),
        "served": int(times.size),
        "errors": sum(v["error"] is not None for v in visits),
        "error_examples": sorted({v["error"] for v in visits if v["error"]})[:5],
        "visits_per_minute": round(len(visits) / seconds * 60, 1),
        "p50_seconds": round(float(np.percentile(times, 50)), 2) if times.size else None,
        "p95_seconds": round(float(np.percentile(times, 95)), 2) if times.size else None,
        "max_seconds": round(float(times.max()), 2) if times.size else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the loaded run")
    parser.add_argument("--baseline-seconds", type=float, default=30.0, help="length of the one-user run")
    parser.add_argument("--pages", nargs="*", default=list(DEFAULT_PAGES), help="URL paths ('' is Home)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a visit counts as an error")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if chromium_path() is None:
        raise SystemExit("Chromium is needed (apt-get install chromium)")
    with serve_app(env={"FUSION_WARM": "1"}) as base:  # as make run serves it: pages prepared in the background
        assert base.startswith("http://127.0.0.1:"), base  # loopback only
        warm = asyncio.run(run(base, 1, 0, args.pages, int(args.timeout * 1000), len(args.pages)))  # fills caches
        alone = asyncio.run(run(base, 1, args.baseline_seconds, args.pages, int(args.timeout * 1000)))
        loaded = asyncio.run(run(base, args.users, args.seconds, args.pages, int(args.timeout * 1000)))
    results = {
        "users": args.users,
        "seconds": args.seconds,
        "pages": [p or "home" for p in args.pages],
        "warm_up_first_visits": {v["page"]: v["seconds"] for v in warm},
        "one_user_baseline": summary(alone, args.baseline_seconds),
        "loaded": summary(loaded, args.seconds),
        "per_page_p95_seconds": {
            page: round(float(np.percentile([v["seconds"] for v in loaded if v["page"] == page], 95)), 2)
            for page in sorted({v["page"] for v in loaded})
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

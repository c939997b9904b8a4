"""Benchmark: the Latent Space engine and page — encoding, projection, re-render and first-paint times, and
how well the shipped VAE aligns CT and MR (cross-modal retrieval against chance, mixing, CCA).

Measured (2 CPU cores unless the machine has more), each beside its baseline in the same run:

* encode: every slice of ``--subjects`` demo subjects, CT-only + MR-only + joint posteriors (~5,000 slices
  for 20 subjects), batched through ``encode_cohort``; baseline: one slice at a time.
* UMAP of 10,000 latents: first call in this process (import + numba compile, or numba's disk cache),
  once warm, and in a fresh ``python`` process each time (what a script user pays); PCA alongside.
* the page: a cached rerun and a colour change in AppTest; a fresh server's first paint (title), first
  map (PCA) and the UMAP map in headless Chromium (skipped without Chromium).
* retrieval Recall@1/5/10 (±1 slice) and chance, mixing and the top canonical correlations on the
  ``--subjects`` held-out demo subjects (every slice).

Writes ``benchmarks/results/bench_latents.json``.

Run:  nice -n 10 .venv/bin/python -m benchmarks.bench_latents [--subjects 20 --model vae-poe --no-browser]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.inference import encode, load_model
from fusion_core.latents import (
    alignment_numbers,
    encode_cohort,
    encode_cohort_posteriors,
    posterior_volumes,
    project,
    stack_tables,
)

RESULTS = Path(__file__).parent / "results" / "bench_latents.json"
ROOT = Path(__file__).resolve().parents[1]
N_UMAP = 10_000
POSTERIORS = ("CT", "MR", "joint")


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def demo_cases(n: int):
    spec = get_cohort_spec("demo")
    return [spec.subject(i).to_case().aligned() for i in range(n)]


def bench_encode(name: str, cases) -> tuple[dict, object]:
    """The three posteriors of every slice: shared experts in ONNX Runtime (the engine now) vs one
    ``encode_cohort`` per posterior in eager PyTorch (before), and one slice at a time; same latents."""
    from fusion_core.inference.runtime import Runtime

    eager, fast = load_model(name, runtime=Runtime.PYTORCH), load_model(name)
    tables, before = [], 0.0
    for posterior in POSTERIORS:
        table, s = timed(encode_cohort, eager, cases, posterior=posterior)
        tables.append(table)
        before += s
    together, after = timed(encode_cohort_posteriors, fast, cases, POSTERIORS)
    table = stack_tables([together[p] for p in POSTERIORS])
    reference = stack_tables(tables)
    n = len(table.meta)
    sample = posterior_volumes(cases[0], "joint")
    _, one = timed(encode, eager, sample, batch_size=1)
    per_slice = one / next(iter(sample.values())).shape[0]
    return {
        "slices": n,
        "runtime": str(fast.runtime),
        "seconds": after,
        "slices_per_s": n / after,
        "seconds_for_5000": 5000 * after / n,
        "before_per_posterior_pytorch_seconds_for_5000": 5000 * before / n,
        "baseline_batch_size_1_seconds_for_5000": 5000 * per_slice,
        "relative_error_vs_before": float(
            np.linalg.norm(table.latents - reference.latents) / np.linalg.norm(reference.latents)
        ),
        "target_seconds_for_5000": 10.0,
    }, table


def bench_umap(latents: np.ndarray) -> dict:
    rng = np.random.default_rng(0)
    rows = rng.integers(0, len(latents), N_UMAP)
    x = latents[rows] + rng.normal(0, 0.01, (N_UMAP, latents.shape[1])).astype(np.float32)
    _, first = timed(project, x, method="umap")
    _, warm = timed(project, x, method="umap")
    _, pca = timed(project, x, method="pca")
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "x.npy", x)
        code = (
            "import numpy as np, sys; from fusion_core.latents import project; "
            f"project(np.load(r'{tmp}/x.npy'), method='umap')"
        )
        _, fresh = timed(subprocess.run, [sys.executable, "-c", code], check=True, cwd=ROOT)
    return {
        "n": N_UMAP,
        "dims_in": int(x.shape[1]),
        "first_call_in_process_s": first,
        "warm_s": warm,
        "fresh_process_each_time_s": fresh,
        "pca_s": pca,
        "target_warm_s": 10.0,
    }


def bench_rerender() -> dict:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "pages/latents.py"), default_timeout=900)
    app.session_state["lat-method"] = "PCA"
    _, first = timed(app.run)
    reruns = [timed(app.run)[1] for _ in range(5)]
    colours = []
    for colour in ("site", "label", "modality"):
        app.selectbox(key="lat-colour").set_value(colour)
        colours.append(timed(app.run)[1])
    return {
        "settings": "page defaults (12 subjects, every 4th slice, all three posteriors), PCA",
        "first_run_s": first,
        "cached_rerun_s": statistics.median(reruns),
        "cached_reruns_s": reruns,
        "colour_change_s": statistics.median(colours),
        "target_cached_s": 0.5,
    }


def bench_first_paint() -> dict:
    from tests.e2e.harness import browser_page, chromium_path, serve_app

    if chromium_path() is None:
        return {"skipped": "no Chromium"}
    with serve_app() as url, browser_page() as page:
        start = time.perf_counter()
        page.goto(f"{url}/latents")
        page.locator("h1").first.wait_for(timeout=600_000)
        title = time.perf_counter() - start
        page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot .main-svg").first.wait_for(timeout=600_000)
        first_map = time.perf_counter() - start
        page.get_by_text("UMAP 1").first.wait_for(timeout=600_000)
        umap_map = time.perf_counter() - start
    return {
        "first_paint_title_s": title,
        "first_map_s": first_map,
        "umap_map_s": umap_map,
        "target_first_paint_s": 3.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=20)
    parser.add_argument("--model", default="vae-poe")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--page-only", action="store_true", help="only the page timings, added to the existing JSON")
    parser.add_argument(
        "--encode-only", action="store_true", help="only encoding and alignment, into the existing JSON"
    )
    args = parser.parse_args()
    if args.page_only:
        results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
        results["page"] = bench_rerender()
        save(results)
        if not args.no_browser:
            results["fresh_server"] = bench_first_paint()
            save(results)
        return
    import torch

    cases, generate_s = timed(demo_cases, args.subjects)
    previous = json.loads(RESULTS.read_text()) if args.encode_only and RESULTS.is_file() else {}
    results = previous | {
        "model": args.model,
        "subjects": args.subjects,
        "torch_threads": torch.get_num_threads(),
        "generate_subjects_s": generate_s,
    }
    results["encode"], table = bench_encode(args.model, cases)
    numbers = alignment_numbers(table)
    results["alignment"] = {
        "recall": numbers.recall,
        "chance": numbers.chance,
        "pairs": numbers.n_pairs,
        "mixing_observed": numbers.mixing.observed,
        "mixing_ideal": numbers.mixing.ideal,
        "canonical_correlations": numbers.correlations[:5].tolist(),
        "separability": vars(numbers.separability) if numbers.separability else None,
        "latent_dim": int(table.latents.shape[1]),
    }
    save(results)
    if args.encode_only:
        return
    results["umap"] = bench_umap(table.latents)
    save(results)
    results["page"] = bench_rerender()
    save(results)
    if not args.no_browser:
        results["fresh_server"] = bench_first_paint()
        save(results)


def save(results: dict) -> None:
    """Write what is measured so far (a long run on a busy machine keeps its finished parts)."""
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1), flush=True)


if __name__ == "__main__":
    main()

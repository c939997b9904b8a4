"""Benchmark the Cross-modal Generation page: first paint, slice changes, whole-volume generation per model.

Method:   the page in Streamlit's AppTest (the real script, widgets and caches, no browser) on the demo
          cohort's first subject with its defaults (MR → CT, the default model + the tissue-class baseline):
          * cold: the first run in a fresh process (loads the models, fits the baseline, generates);
          * first paint: a NEW session once the models and their volumes are cached (what the next
            user of a running server waits for), median of ``--repeats``;
          * slice change: moving the axial slider (median of ``--repeats`` moves);
          and ``impute`` of every shipped generator on the same subject (seconds per whole volume, CPU).
Baseline: the Data page (``pages/data.py``: the tri-planar viewer alone) timed the same way in the same run.
Targets:  first paint < 3 s once models are cached; a slice change < 0.3 s. Wall times depend on the
          machine's load (recorded); ``slice_change_cpu_s`` (process CPU seconds per move) does not.

Run:  .venv/bin/python benchmarks/bench_generation_page.py [--repeats 5]
      (writes benchmarks/results/bench_generation_page.json)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_generation_page.json"
TARGETS = {"first_paint_s": 3.0, "slice_change_s": 0.3}


def _run(app: AppTest) -> float:
    start = time.perf_counter()
    app.run()
    seconds = time.perf_counter() - start
    if app.exception:
        raise RuntimeError(f"{app} raised: {[e.value for e in app.exception]}")
    return seconds


def time_page(script: str, slider_key: str, repeats: int) -> dict[str, float]:
    """Cold run, then first paint of new sessions and slice changes (medians) of one page."""
    cold = _run(AppTest.from_file(str(ROOT / "pages" / script), default_timeout=600))
    paints, moves, cpu = [], [], []
    for _ in range(repeats):
        app = AppTest.from_file(str(ROOT / "pages" / script), default_timeout=600)
        paints.append(_run(app))
        slider = app.slider(key=slider_key)
        for step in (5, -5):
            start, start_cpu = time.perf_counter(), time.process_time()
            slider.set_value(slider.value + step).run()
            moves.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    return {
        "cold_first_run_s": round(cold, 3),
        "first_paint_s": round(statistics.median(paints), 3),
        "slice_change_s": round(statistics.median(moves), 3),
        "slice_change_max_s": round(max(moves), 3),
        # CPU seconds of this process per move: what a move costs on an idle core, whatever the load
        "slice_change_cpu_s": round(statistics.median(cpu), 3),
    }


def time_generators() -> dict[str, float]:
    """Seconds of one whole-volume MR → CT generation per shipped generator (models loaded beforehand)."""
    from fusion_core.data.cohorts import get_cohort_spec
    from fusion_core.evaluation import cross_modal as cm
    from fusion_core.inference import impute, list_models, load_model
    from fusion_core.inference.registry import GENERATIVE_TASKS

    case = get_cohort_spec("demo").subject(0).to_case().aligned()
    out = {}
    for name in [n for task in GENERATIVE_TASKS for n in list_models(task=task)]:
        model = load_model(name, device="cpu")
        if not cm.can_generate(model, "MR", "CT"):
            continue
        start = time.perf_counter()
        impute(model, cm.source_volumes(case, "MR"), "CT")
        out[name] = round(time.perf_counter() - start, 3)
    mapper = cm.fit_baseline()
    start = time.perf_counter()
    cm.baseline_ct(mapper, case.mr)
    out[cm.BASELINE] = round(time.perf_counter() - start, 3)
    out["slices"] = int(case.ct.shape[0])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    page = time_page("generation.py", "gen-view-axial", args.repeats)
    baseline = time_page("data.py", "data-view-axial", args.repeats)
    results = {
        "page": page,
        "baseline_data_page": baseline,
        "generation_whole_volume_s": time_generators(),
        "targets": TARGETS,
        "met": {name: page[name] < limit for name, limit in TARGETS.items()},
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
        "command": "python benchmarks/bench_generation_page.py " + " ".join(argv or sys.argv[1:]),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

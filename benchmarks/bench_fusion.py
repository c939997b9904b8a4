"""Benchmark: every fusion strategy on the demo spec's held-out split, and the Fusion Performance page's first screen.

Method:    from the shipped scores files (``assets/models/clf-*/scores.csv``, 100 demo subjects, split
           "test"): per strategy the subject-level AUC with a 1000-resample stratified bootstrap 95 % CI
           with both inputs, with MR missing and with CT missing (``missing_modality_aucs``); the
           independence bound from CT alone and MR alone, overall and per lesion type; the clinicians'
           table at Youden's J; ECE (10 bins) before and after temperature scaling, cross-fitted on the
           test split (2 label-stratified folds; the shipped files hold no validation scores). Each
           evaluation is timed. The classical baseline is included when its scores are computed
           (``python -m fusion_core.evaluation.classical``, git-ignored ``data/cache/classical``).
Page:      the first screen's computations (``ui.performance``'s cached functions: load, evaluate at
           Youden, ROC bands, bound, lesion table, missing-modality AUCs, calibration, and the four
           figures) timed cold (nothing cached, imports done), and the page itself under Streamlit's
           AppTest: first run (cold cache; the evaluation package already imported by this script,
           Streamlit's and the page's other imports included) and reruns (st.cache_data hits).
           Target: first screen under 2 s.
Shift:     with ``--shift``, AUC of a few strategies under blur / intensity-scale / noise shifts of one
           modality at three levels each, on a subset of the demo subjects (``fusion_core.evaluation.shift``).
           ``--shift-timing N`` only times one setting of the page's default strategies on N subjects, three ways
           (re-score all; reuse the shipped rows of a model blind to the shift; brain slices only).

Run:  .venv/bin/python benchmarks/bench_fusion.py [--shift] [--out benchmarks/results/bench_fusion.json]
Exit codes: 0 measured; 2 no scores file found.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fusion_core.evaluation import scores_dirs  # noqa: E402
from fusion_core.evaluation.classical import CLASSICAL_DIR  # noqa: E402
from fusion_core.evaluation.comparison import (  # noqa: E402
    bound_by_lesion_type,
    evaluate_strategies,
    missing_modality_aucs,
    unimodal_bound,
)
from fusion_core.evaluation.recalibration import calibrate_strategies, calibration_frame  # noqa: E402
from fusion_core.evaluation.strategies import load_strategy_scores  # noqa: E402
from ui.performance import clinicians_table  # noqa: E402  (the page's table: what a user downloads)

ASSETS = ROOT / "assets" / "models"
RESULTS = ROOT / "benchmarks" / "results"
NO_SCORES = 2
TARGET_FIRST_SCREEN_S = 2.0


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def auc_row(auc) -> dict[str, float]:
    """An AUC with its interval and subject count, as the JSON rows hold it."""
    return {"auc": auc.auc, "low": auc.low, "high": auc.high, "n": auc.n_pos + auc.n_neg}


def strategies_report(dirs: list[Path], n_boot: int) -> dict:
    """AUCs (complete and missing), bound, table and calibration of every strategy, each timed."""
    scores, load_s = timed(lambda: load_strategy_scores(dirs))
    evaluated, eval_s = timed(lambda: evaluate_strategies(scores, n_boot=n_boot))
    bound, bound_s = timed(lambda: unimodal_bound(scores))
    lesions, lesion_s = timed(lambda: bound_by_lesion_type(scores))
    missing, missing_s = timed(lambda: missing_modality_aucs(scores, n_boot=n_boot))
    calibration, calib_s = timed(lambda: calibrate_strategies(scores))
    table = clinicians_table(evaluated, formatted=False)
    return {
        "subjects": len(scores.rows(scores.strategies[0])),
        "strategies": scores.strategies,
        "auc_missing_modality": [
            {"strategy": m.strategy, "inputs": m.inputs, **auc_row(m.auc), "handling": m.handling} for m in missing
        ],
        "bound": {"ct_auc": bound.ct_auc, "mr_auc": bound.mr_auc, "bound": bound.bound},
        "bound_by_lesion_type": {
            b.lesion_type or "all lesions": {"positives": b.positives, **dataclasses.asdict(b.bound), **b.fusion_aucs}
            for b in lesions
        },
        "clinicians_table_youden": json.loads(table.to_json(orient="index")),
        "calibration": json.loads(calibration_frame(calibration).to_json(orient="index")),
        "seconds": {
            "load_scores": load_s,
            "roc_auc_ci_and_table_all_strategies": eval_s,
            "bound": bound_s,
            "bound_by_lesion_type": lesion_s,
            "missing_modality_aucs": missing_s,
            "calibration_cross_fitted": calib_s,
        },
        "n_boot": n_boot,
    }


def first_screen_cold(assets: Path) -> float:
    """Seconds for everything the page's first screen computes, nothing cached (imports already done)."""
    from fusion_core.evaluation.roc import roc_band
    from fusion_core.viz.auc_bars import missing_modality_figure
    from fusion_core.viz.reliability import reliability_figure
    from fusion_core.viz.roc import roc_figure
    from ui.performance import bound_sentences

    t0 = time.perf_counter()
    scores = load_strategy_scores(scores_dirs(assets) + scores_dirs(CLASSICAL_DIR, "classical-*"))
    evaluated = evaluate_strategies(scores, n_boot=1000)
    bands = {s: roc_band(*scores.scores(s), n_boot=200) for s in scores.strategies}
    bound = unimodal_bound(scores)
    bound_sentences(evaluated, bound.bound)
    clinicians_table(evaluated).to_csv()
    bound_by_lesion_type(scores)
    missing = missing_modality_aucs(scores, n_boot=1000)
    calibration = calibrate_strategies(scores)
    for fig in (
        roc_figure(evaluated, bands=bands, bound=bound),
        missing_modality_figure(missing),
        reliability_figure(calibration),
        reliability_figure(calibration, after=True),
    ):
        fig.to_json()
    return time.perf_counter() - t0


def page_under_apptest() -> dict:
    """First run (cold cache) and the median of three cached reruns of the page, in seconds."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(ROOT / "pages" / "performance.py"), default_timeout=300)
    t0 = time.perf_counter()
    app.run()
    first = time.perf_counter() - t0
    if app.exception:
        return {"error": [e.value for e in app.exception]}
    reruns = []
    for _ in range(3):
        t0 = time.perf_counter()
        app.run()
        reruns.append(time.perf_counter() - t0)
    return {"first_run_s": first, "cached_rerun_s": statistics.median(reruns)}


SHIFT_STRATEGIES = ("clf-ct", "clf-mr", "clf-poe")
# (label, setting options): three levels of each shift, on the modality it hurts most plausibly,
# and the CT gain shift again with each normalisation (the networks scale MR by percentiles already).
SHIFT_SETTINGS = (
    [("none", {})]
    + [(f"CT blur +{b} mm", {"modality": "CT", "blur_mm": b}) for b in (1.0, 2.0, 3.0)]
    + [(f"MR blur +{b} mm", {"modality": "MR", "blur_mm": b}) for b in (1.0, 2.0, 3.0)]
    + [(f"CT gain x{g}", {"modality": "CT", "scale": g}) for g in (0.9, 0.8, 0.7)]
    + [(f"CT gain x0.7, {n}", {"modality": "CT", "scale": 0.7, "normalisation": n}) for n in ("zscore", "histogram")]
    + [(f"MR noise x{k}", {"modality": "MR", "noise": k}) for k in (2.0, 4.0, 6.0)]
    + [(f"CT noise x{k}", {"modality": "CT", "noise": k}) for k in (2.0, 4.0, 6.0)]
)


def benchmark_shifts(n_subjects: int, strategies: list[str], assets: Path = ASSETS) -> dict:
    """AUC (95 % CI) of ``strategies`` on ``n_subjects`` balanced demo subjects under each shift, timed."""
    from fusion_core.data.cohorts import get_cohort_spec
    from fusion_core.data.splits import member_labels
    from fusion_core.evaluation.shift import ShiftSetting, balanced_indices, score_shift, shift_aucs
    from fusion_core.inference import load_model

    spec = get_cohort_spec("demo")
    labels = dict(zip(spec.subject_ids(), member_labels(spec).tolist(), strict=True))
    indices = balanced_indices(spec, labels, n_subjects)
    models = {name: load_model(name, device="cpu", assets_dir=assets) for name in strategies}
    out = {"subjects": [spec.subject_ids()[i] for i in indices], "strategies": strategies, "settings": {}}
    for label, options in SHIFT_SETTINGS:
        shifted, seconds = timed(lambda o=options: score_shift(models, spec, indices, ShiftSetting(**o)))
        aucs = shift_aucs(shifted)
        out["settings"][label] = {
            "seconds": seconds,
            "auc": {a.strategy: {"auc": a.auc.auc, "low": a.auc.low, "high": a.auc.high} for a in aucs},
        }
        print(f"shift {label}: {seconds:.0f} s", {a.strategy: round(a.auc.auc, 3) for a in aucs}, flush=True)
    return out


PAGE_SHIFT_STRATEGIES = ("clf-ct", "clf-mr", "clf-early", "clf-poe", "clf-uncertainty-late")  # the page's default


def benchmark_shift_timing(n_subjects: int, assets: Path = ASSETS) -> dict:
    """Seconds to score one shift setting of the page's default strategies, three ways in one run.

    ``rescore_all``: every strategy re-scored on the re-generated subjects (the previous page);
    ``reuse_unshifted``: a strategy blind to the shifted modality takes its shipped rows (the page now);
    ``brain_slices_only``: and the networks run on candidate slices only (opt-in; MC noise ~0.01-0.1).
    """
    from fusion_core.data.cohorts import get_cohort_spec
    from fusion_core.data.splits import member_labels
    from fusion_core.evaluation.shift import ShiftSetting, balanced_indices, score_shift
    from fusion_core.evaluation.strategies import load_strategy_scores
    from fusion_core.inference import load_model

    spec = get_cohort_spec("demo")
    labels = dict(zip(spec.subject_ids(), member_labels(spec).tolist(), strict=True))
    indices = balanced_indices(spec, labels, n_subjects)
    models = {name: load_model(name, device="cpu", assets_dir=assets) for name in PAGE_SHIFT_STRATEGIES}
    shipped = load_strategy_scores([assets / name for name in PAGE_SHIFT_STRATEGIES])
    setting = ShiftSetting("CT", blur_mm=1.0, noise=2.0)
    ways = {
        "rescore_all": {},
        "reuse_unshifted": {"unshifted": shipped},
        "brain_slices_only": {"unshifted": shipped, "only_candidates": True},
    }
    out = {"subjects": n_subjects, "strategies": list(PAGE_SHIFT_STRATEGIES), "setting": "CT blur +1 mm, noise x2"}
    for way, options in ways.items():
        _, seconds = timed(lambda o=options: score_shift(models, spec, indices, setting, **o))
        out[f"{way}_s"] = seconds
        print(f"shift timing {way}: {seconds:.1f} s for {n_subjects} subjects", flush=True)
    out["speedup_reuse"] = out["rescore_all_s"] / out["reuse_unshifted_s"]
    out["target_s"] = 30.0
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=Path, default=ASSETS)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shift", action="store_true", help="also score domain shifts (many minutes)")
    parser.add_argument("--shift-only", action="store_true", help="only the domain shifts (no scores files needed)")
    parser.add_argument("--shift-subjects", type=int, default=12)
    parser.add_argument("--shift-strategies", nargs="*", default=list(SHIFT_STRATEGIES))
    parser.add_argument(
        "--shift-timing", type=int, metavar="N", help="only time one page-default setting on N subjects"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_fusion.json")
    args = parser.parse_args(argv)
    if args.shift_timing:
        result = {"shift_timing": benchmark_shift_timing(args.shift_timing, args.assets)}
        result["machine"] = {"cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}
        out = args.out.with_name("bench_fusion_shift_timing.json")
        out.write_text(json.dumps(result, indent=2, default=float) + "\n")
        return 0
    if args.shift_only:
        result = {"domain_shift": benchmark_shifts(args.shift_subjects, args.shift_strategies, args.assets)}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, default=float) + "\n")
        return 0
    dirs = scores_dirs(args.assets) + scores_dirs(CLASSICAL_DIR, "classical-*")  # the baseline when computed
    if not scores_dirs(args.assets):
        print(f"bench_fusion: no scores files under {args.assets}/clf-*/scores.csv", file=sys.stderr)
        return NO_SCORES
    result: dict = {"benchmark": "fusion strategies on the demo test split", "models": [d.name for d in dirs]}
    result["held_out"] = strategies_report(dirs, args.n_boot)
    page = page_under_apptest()
    cold = [first_screen_cold(args.assets) for _ in range(args.repeats)]
    result["page_first_screen"] = {
        "computations_cold_s": statistics.median(cold),
        "computations_cold_runs_s": cold,
        **page,
        "target_s": TARGET_FIRST_SCREEN_S,
        "meets_target_cached": page.get("cached_rerun_s", 1e9) < TARGET_FIRST_SCREEN_S,
        "meets_target_cold_computations": statistics.median(cold) < TARGET_FIRST_SCREEN_S,
    }
    if args.shift:
        result["domain_shift"] = benchmark_shifts(args.shift_subjects, args.shift_strategies, args.assets)
    result["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(json.dumps({k: result[k] for k in ("page_first_screen",)}, indent=2))
    print(json.dumps(result["held_out"]["seconds"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: time for the Fusion Performance page to draw the ROC curves of every strategy.

Method:    from the shipped scores files alone (every ``assets/models/clf-*/scores.csv``): read and
           validate them, compute every input subset's ROC points and AUC with a 1000-resample
           stratified bootstrap CI (``fusion_core.evaluation.read_scores`` + ``strategy_roc``), the independence
           bound from the best CT-only and MR-only AUCs, and build the plotly figure (one trace per
           model and subset, plus the bound and the chance line). Nothing is cached between runs:
           this is the page's first draw. Median over ``--repeats`` runs; target under 1 s.
Baseline:  the same draw with the per-resample bootstrap loop the evaluation package used before
           (one rank-based AUC call per resample), i.e. what the vectorised AUC saves.
Reference: seconds to generate one demo phantom subject: without shipped scores a page would have
           to generate (and then score) every test subject, at least n_subjects x this.

Run:  .venv/bin/python benchmarks/bench_roc.py                 (writes benchmarks/results/bench_roc.json)
      .venv/bin/python benchmarks/bench_roc.py --synthetic 200 (synthetic scores files in a temp folder,
                                                                 writes bench_roc_synthetic.json)
Exit codes: 0 measured; 2 no scores file found (the classifiers do not ship scores.csv yet).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fusion_core.evaluation import (  # noqa: E402
    RocSummary,
    independence_bound,
    independence_bound_roc,
    read_scores,
    roc_curve_points,
    scores_dirs,
    strategy_roc,
    write_scores,
)
from fusion_core.evaluation.roc import AUCResult, RocCurve, check_binary  # noqa: E402

ASSETS = ROOT / "assets" / "models"
RESULTS = ROOT / "benchmarks" / "results"
NO_SCORES = 2
TARGET_S = 1.0


@dataclasses.dataclass(frozen=True)
class RocPanel:
    """Everything the page draws: the summaries, the bound and the figure."""

    summaries: list[RocSummary]
    bound_auc: float | None
    bound_inputs: tuple[str, ...]
    figure: object  # plotly.graph_objects.Figure


def unimodal_aucs(summaries: Sequence[RocSummary]) -> dict[str, float]:
    """Best AUC per single input (subsets without '+'), e.g. {"CT": 0.71, "MR-T1": 0.66}."""
    best: dict[str, float] = {}
    for s in summaries:
        if "+" not in s.subset:
            best[s.subset] = max(best.get(s.subset, 0.0), s.roc.auc.auc)
    return best


def bound_of(summaries: Sequence[RocSummary]) -> tuple[float | None, tuple[str, ...]]:
    """Independence bound of CT and the best MR input, or (None, ()) without both."""
    best = unimodal_aucs(summaries)
    mr = sorted((a, m) for m, a in best.items() if m.startswith("MR"))
    if "CT" not in best or not mr:
        return None, ()
    return independence_bound(best["CT"], mr[-1][0]), ("CT", mr[-1][1])


def build_figure(summaries: Sequence[RocSummary], bound_auc: float | None, bound_inputs: tuple[str, ...]):
    """plotly Figure: one ROC trace per model and subset, the bound's binormal ROC and chance."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for s in summaries:
        name = f"{s.model} [{s.subset}]: AUC {s.roc.auc.auc:.2f} ({s.roc.auc.low:.2f}-{s.roc.auc.high:.2f})"
        fig.add_trace(go.Scatter(x=s.roc.fpr, y=s.roc.tpr, mode="lines", name=name, line_shape="hv"))
    if bound_auc is not None:
        best = unimodal_aucs(summaries)
        fpr = np.linspace(0, 1, 201)
        tpr = independence_bound_roc(best[bound_inputs[0]], best[bound_inputs[1]], fpr)
        fig.add_trace(go.Scatter(x=fpr, y=tpr, name=f"independence bound: AUC {bound_auc:.2f}", line_dash="dash"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], name="chance", line_dash="dot", line_color="grey"))
    fig.update_layout(
        xaxis_title="False positive rate (1 - specificity)", yaxis_title="True positive rate (sensitivity)"
    )
    return fig


def draw_panel(dirs: Sequence[Path], *, n_boot: int = 1000, summarise: Callable | None = None) -> RocPanel:
    """Read every scores file and compute everything the ROC panel shows (no caching).

    Args:
        dirs: model folders holding scores.csv.
        n_boot: bootstrap resamples of each AUC interval.
        summarise: (dirs, subset, n_boot) -> list[RocSummary] over every subset of every model;
            None = the evaluation package (``roc_summaries``).
    """
    summaries = (summarise or _package_summaries)(dirs, n_boot)
    bound_auc, bound_inputs = bound_of(summaries)
    return RocPanel(summaries, bound_auc, bound_inputs, build_figure(summaries, bound_auc, bound_inputs))


def _package_summaries(dirs: Sequence[Path], n_boot: int) -> list[RocSummary]:
    """Every subset of every model through the evaluation package (each file read once)."""
    tables = [read_scores(d) for d in dirs]
    return [strategy_roc(t, subset, n_boot=n_boot) for t in tables for subset in t.subsets]


def _loop_auc_with_ci(labels: np.ndarray, scores: np.ndarray, n_boot: int, seed: int = 0) -> AUCResult:
    """The pre-vectorisation bootstrap: one rank-based AUC per resample in a Python loop."""
    from scipy.stats import rankdata

    def auc(y: np.ndarray, s: np.ndarray) -> float:
        r, n_pos = rankdata(s), int(y.sum())
        return float((r[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * (len(y) - n_pos)))

    labels, scores = check_binary(labels, scores)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    boots = []
    for _ in range(n_boot):
        i = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        boots.append(auc(labels[i], scores[i]))
    low, high = np.quantile(boots, [0.025, 0.975])
    n_pos = int(labels.sum())
    return AUCResult(auc(labels, scores), float(low), float(high), n_pos, len(labels) - n_pos, n_boot, 0.05, seed)


def _loop_summaries(dirs: Sequence[Path], n_boot: int) -> list[RocSummary]:
    out = []
    for d in dirs:
        table = read_scores(d)
        for subset in table.subsets:
            y, s = table.scores(subset)
            fpr, tpr, thr = roc_curve_points(y, s)
            auc = _loop_auc_with_ci(y, s, n_boot)
            out.append(RocSummary(table.name, subset, RocCurve(fpr, tpr, thr, auc)))
    return out


def median_seconds(fn: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    """Median wall seconds of ``repeats`` calls (after one untimed warm-up for imports)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def write_synthetic_models(root: Path, *, n_subjects: int = 200, seed: int = 0) -> list[Path]:
    """Scores files of a CT, an MR and an early-fusion model on synthetic binormal subjects.

    CT sees calcified lesions, MR oedema (so the two disagree the way the phantom's lesions do);
    the fused score adds both evidences. Returns the model folders.
    """
    rng = np.random.default_rng(seed)
    label = np.repeat([0, 1], n_subjects // 2)
    lesion = np.where(label == 1, rng.choice(["calcified", "oedema"], len(label)), "none")
    ct = rng.normal(np.where(lesion == "calcified", 1.5, np.where(lesion == "oedema", 0.3, 0.0)))
    mr = rng.normal(np.where(lesion == "oedema", 1.5, np.where(lesion == "calcified", 0.2, 0.0)))
    base = pd.DataFrame(
        {
            "subject_id": [f"syn{i:04d}" for i in range(len(label))],
            "label": label,
            "lesion_type": lesion,
            "site": rng.choice(["A", "B", "C"], len(label)),
            "spec": "synthetic",
            "split": "test",
        }
    )
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    models = {
        "clf-ct": {"score[CT]": sig(ct)},
        "clf-mr": {"score[MR-T1]": sig(mr)},
        "clf-early": {"score[CT+MR-T1]": sig(ct + mr), "score[CT]": sig(ct), "score[MR-T1]": sig(mr)},
    }
    return [write_scores(base.assign(**cols), root / name).parent for name, cols in models.items()]


def measure(dirs: Sequence[Path], *, repeats: int = 5, n_boot: int = 1000, baseline: bool = True) -> dict:
    """Timings and what was drawn, as a JSON-ready dict."""
    method_s, method_all = median_seconds(lambda: draw_panel(dirs, n_boot=n_boot), repeats)
    panel = draw_panel(dirs, n_boot=n_boot)
    result = {
        "models": [d.name for d in dirs],
        "curves": len(panel.summaries),
        "n_boot": n_boot,
        "method": {
            "name": "read scores files + vectorised bootstrap AUC + bound + plotly figure",
            "median_s": method_s,
            "runs_s": method_all,
        },
        "target_s": TARGET_S,
        "meets_target": method_s < TARGET_S,
        "auc": {f"{s.model}[{s.subset}]": s.roc.auc.as_dict() for s in panel.summaries},
        "bound": {"auc": panel.bound_auc, "inputs": list(panel.bound_inputs)},
    }
    if baseline:
        base_s, base_all = median_seconds(
            lambda: draw_panel(dirs, n_boot=n_boot, summarise=_loop_summaries), max(1, repeats // 2)
        )
        result["baseline"] = {
            "name": "same draw, per-resample bootstrap loop (the implementation before this branch)",
            "median_s": base_s,
            "runs_s": base_all,
        }
        result["speedup_vs_baseline"] = base_s / method_s
    return result


def phantom_reference() -> dict:
    """Seconds to generate one demo-sized phantom subject (128^2 in-plane)."""
    from fusion_core.data.phantom import make_subject

    t0 = time.perf_counter()
    make_subject(1234)
    return {
        "name": "generate one phantom subject (make_subject(1234)); a page without scores files needs n_subjects x this, plus scoring",
        "seconds": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=Path, default=ASSETS, help="folder of model folders (default assets/models)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--synthetic", type=int, default=0, metavar="N", help="time N synthetic subjects instead")
    parser.add_argument("--no-phantom", action="store_true", help="skip the phantom-subject reference")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        dirs = (
            write_synthetic_models(Path(tmp), n_subjects=args.synthetic) if args.synthetic else scores_dirs(args.assets)
        )
        if not dirs:
            print(
                f"bench_roc: no scores files found (looked for {args.assets}/clf-*/scores.csv); the classifiers must ship their test-split scores first.",
                file=sys.stderr,
            )
            return NO_SCORES
        print(f"bench_roc: {len(dirs)} scores files: {', '.join(d.name for d in dirs)}", flush=True)
        result = {
            "benchmark": "ROC panel from shipped scores",
            "synthetic": bool(args.synthetic),
            **measure(dirs, repeats=args.repeats, n_boot=args.n_boot),
        }
    if not args.no_phantom:
        result["reference"] = phantom_reference()
    result["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    out = args.out or RESULTS / ("bench_roc_synthetic.json" if args.synthetic else "bench_roc.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("curves", "method", "baseline", "meets_target") if k in result}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

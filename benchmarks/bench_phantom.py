"""Benchmark the phantom generator: seconds per subject, and fidelity of its analytic partial volume.

Method:   make_subject(seed) — one evaluation per voxel; partial volume and scanner blur come from a
          widened occupancy ramp (fusion_core.data.render.ramp_width), no convolution.
Baseline: make_subject(seed, supersample=2) — the naive way: hard-edged evaluation at 2x2x2 points
          per voxel, block-averaged, then a scipy Gaussian blur (8x the points + a filter pass).
Fidelity: both compared, noise-free, with a 3x3x3-supersampled reference at size 64 (mean absolute
          error inside the head; tissue-label agreement).

Run:  .venv/bin/python benchmarks/bench_phantom.py            (writes benchmarks/results/bench_phantom.json)
      .venv/bin/python benchmarks/bench_phantom.py --quick    (fewer seeds)
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
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fusion_core.data.phantom import make_subject  # noqa: E402
from fusion_core.data.sites import get_site  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_phantom.json"


def _time_subjects(seeds: list[int], label: str, **options) -> dict[str, float]:
    """Wall and CPU seconds of make_subject over ``seeds`` (after one untimed warm-up)."""
    make_subject(seeds[0], size=32, **{k: v for k, v in options.items() if k != "size"})
    wall, cpu = [], []
    for seed in tqdm(seeds, desc=label, unit="subject"):
        w0, c0 = time.perf_counter(), time.process_time()
        make_subject(seed, **options)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {
        "n": len(seeds),
        "wall_mean_s": statistics.fmean(wall),
        "wall_median_s": statistics.median(wall),
        "wall_max_s": max(wall),
        "cpu_mean_s": statistics.fmean(cpu),
        "cpu_median_s": statistics.median(cpu),
        "cpu_max_s": max(cpu),
    }


def _fidelity(seeds: list[int], size: int) -> dict[str, dict[str, float]]:
    """Noise-free MAE (inside the head) of analytic and 2x-supersampled renders against a 3x3x3 reference."""
    errors: dict[str, dict[str, list[float]]] = {"analytic": {}, "supersample_2": {}}
    for seed in tqdm(seeds, desc="fidelity vs 3x3x3 reference", unit="subject"):
        site = dataclasses.replace(get_site("B"), ct_noise_hu=0.0, mr_noise=0.0, mr_bias=0.0)
        common = {"size": size, "site": site, "label": 1}
        reference = make_subject(seed, supersample=3, **common)
        head_ct = reference.masks["head"].array > 0
        for name, k in (("analytic", 1), ("supersample_2", 2)):
            subject = make_subject(seed, supersample=k, **common)
            for scan in ("ct", "mr", "mr_t2"):
                test, ref = getattr(subject, scan).array, getattr(reference, scan).array
                region = head_ct if scan == "ct" else ref > 0.05 * ref.max()
                errors[name].setdefault(f"{scan}_mae", []).append(float(np.abs(test - ref)[region].mean()))
            if k % 2 == 1:  # an even k has no sub-voxel at the voxel centre to take labels from
                agree = float((subject.tissue.array == reference.tissue.array)[head_ct].mean())
                errors[name].setdefault("tissue_label_agreement", []).append(agree)
    return {name: {k: statistics.fmean(v) for k, v in values.items()} for name, values in errors.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="subjects timed for the method (default 10)")
    parser.add_argument("--baseline-seeds", type=int, default=3, help="subjects timed for the baseline (default 3)")
    parser.add_argument("--fidelity-seeds", type=int, default=2, help="subjects for the fidelity check (default 2)")
    parser.add_argument("--size", type=int, default=128, help="in-plane voxels (default 128)")
    parser.add_argument("--quick", action="store_true", help="3/1/1 seeds")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.baseline_seeds, args.fidelity_seeds = 3, 1, 1

    method = _time_subjects(list(range(args.seeds)), "method: analytic", size=args.size)
    baseline = _time_subjects(list(range(args.baseline_seeds)), "baseline: 2x supersampled + scipy blur",
                              size=args.size, supersample=2)  # fmt: skip
    fidelity = _fidelity(list(range(args.fidelity_seeds)), 64)
    result = {
        "benchmark": "phantom make_subject",
        "size": args.size,
        "method": {"name": "analytic partial volume + blur folded into the ramp", **method},
        "baseline": {"name": "2x2x2 hard-edged supersampling + scipy gaussian_filter", **baseline},
        "speedup_wall_median": baseline["wall_median_s"] / method["wall_median_s"],
        "speedup_cpu_median": baseline["cpu_median_s"] / method["cpu_median_s"],
        "target_under_1s_wall_median": method["wall_median_s"] < 1.0,
        "fidelity_vs_3x3x3_reference_size64_site_B": fidelity,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

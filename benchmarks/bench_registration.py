"""Benchmark: rigid CT/MR registration accuracy (TRE) and speed, ours against three baselines.

Cohort: ``--n`` phantom subjects (``make_subject(seed, max_rotation_deg=15, max_translation_mm=20)``)
with their known misalignment, plus one real anatomy: nilearn's MNI152 T1 template against a CT-like
image made from it by a non-monotonic intensity remap, under a known rigid transform.

Methods, each on the same pairs in one run:
  ours              fusion_core.registration.register_rigid (defaults)
  geometry_only     SimpleITK CenteredTransformInitializer (GEOMETRY), no optimisation
  sitk_tutorial     SimpleITK's tutorial recipe: Mattes MI (50 bins), 1 % random sampling, plain
                    gradient descent (lr 1, 100 iterations, convergence window 10), shrink 4/2/1,
                    smoothing 2/1/0 mm, geometry initialisation, no mask
  antspy_rigid      ANTsPy ``ants.registration(type_of_transform="Rigid")`` in its own virtualenv
                    (benchmarks/ants/.venv, see benchmarks/requirements-ants.txt), called through a
                    subprocess that exchanges NIfTI files; timed inside the worker (registration only)

TRE: 100 points drawn inside the CT head mask, ||T_est(p) - T_true(p)|| in mm. A pair succeeds when
its maximum TRE is below 2 mm. SimpleITK and ANTs (ITK) run with 2 threads.

Scenarios (``--scenarios``, written to bench_registration_scenarios.json instead): scans as they
arrive from two scanners. ``--n`` pairs whose MR origin is moved 200-1000 mm in a random direction
(no overlap in scanner space) and ``--n`` pairs whose MR covers only 50-80 % of the CT's z extent
(top or bottom; fusion_core.registration.scenarios), each registered with the defaults ("auto"
initialisation) and, for reference, by image centres alone. Reported: success rate, TRE, the
initialisation used, and the head coverage.

Run:  .venv/bin/python benchmarks/bench_registration.py            (20 subjects, ~10 min)
      .venv/bin/python benchmarks/bench_registration.py --n 3 --no-ants   (smoke run)
      .venv/bin/python benchmarks/bench_registration.py --scenarios [--size 128]   (2 x 20 pairs)
Create the ANTs environment once (optional):
      python3.11 -m venv benchmarks/ants/.venv && benchmarks/ants/.venv/bin/pip install -r benchmarks/requirements-ants.txt
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fusion_core.io import save_volume  # noqa: E402
from fusion_core.registration import register_rigid, sample_points_in_mask, target_registration_error  # noqa: E402
from fusion_core.volume import Volume  # noqa: E402

ANTS_PYTHON = ROOT / "benchmarks" / "ants" / ".venv" / "bin" / "python"
THREADS = 2
SUCCESS_MM = 2.0
TARGETS = {"median_tre_mm": 0.5, "max_tre_mm": 1.5, "success_rate": 1.0, "seconds_per_pair": 10.0}

# The ANTs worker: reads a JSON list of jobs, registers each pair, prints one JSON line per pair.
ANTS_WORKER = r"""
import json, sys, time
import ants
jobs = json.load(open(sys.argv[1]))
for job in jobs:
    fixed, moving = ants.image_read(job["fixed"]), ants.image_read(job["moving"])
    start = time.perf_counter()
    out = ants.registration(fixed=fixed, moving=moving, type_of_transform="Rigid", random_seed=1)
    seconds = time.perf_counter() - start
    tx = ants.read_transform(out["fwdtransforms"][0])
    # Whatever the transform class, report where it sends the origin and the unit vectors (LPS mm).
    points = [tx.apply_to_point(p) for p in ((0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1))]
    print(json.dumps({"name": job["name"], "seconds": seconds, "points": [[float(v) for v in p] for p in points]}), flush=True)
"""


# ----------------------------------------------------------------------------- baselines
def geometry_only(fixed: Volume, moving: Volume) -> sitk.Transform:
    """Align image centres only (what you get without optimisation)."""
    return sitk.CenteredTransformInitializer(
        sitk.Cast(fixed.to_sitk(), sitk.sitkFloat32),
        sitk.Cast(moving.to_sitk(), sitk.sitkFloat32),
        sitk.Euler3DTransform(),
        sitk.CenteredTransformInitializerFilter.GEOMETRY,
    )


def sitk_tutorial(fixed: Volume, moving: Volume) -> sitk.Transform:
    """The SimpleITK notebooks' introductory rigid recipe (60_Registration_Introduction)."""
    f, m = sitk.Cast(fixed.to_sitk(), sitk.sitkFloat32), sitk.Cast(moving.to_sitk(), sitk.sitkFloat32)
    initial = sitk.CenteredTransformInitializer(
        f, m, sitk.Euler3DTransform(), sitk.CenteredTransformInitializerFilter.GEOMETRY
    )
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=50)
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(0.01, 1)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsGradientDescent(
        learningRate=1.0, numberOfIterations=100, convergenceMinimumValue=1e-6, convergenceWindowSize=10
    )
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel([4, 2, 1])
    method.SetSmoothingSigmasPerLevel([2, 1, 0])
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    method.SetInitialTransform(initial, inPlace=False)
    return method.Execute(f, m)


def ours(fixed: Volume, moving: Volume) -> sitk.Transform:
    return register_rigid(fixed, moving).transform


METHODS = {"ours": ours, "geometry_only": geometry_only, "sitk_tutorial": sitk_tutorial}


# ----------------------------------------------------------------------------- data
def phantom_pairs(n: int, seed0: int, size: int = 128):
    from fusion_core.data.phantom import make_subject

    for i in range(n):
        subject = make_subject(seed0 + i, size=size, max_rotation_deg=15, max_translation_mm=20)
        points = sample_points_in_mask(subject.masks["head"], 100, seed=i)
        yield subject.subject_id, subject.ct, subject.mr, subject.true_transform, points


def scenario_pairs(n: int, seed0: int, size: int):
    """(moved-origin pairs, partial-view pairs): each as (name, fixed, moving, true transform, points, detail)."""
    from fusion_core.registration.scenarios import cropped_along_z, moved_origin

    rng = np.random.default_rng(seed0)
    moved, partial = [], []
    for name, ct, mr, true, points in phantom_pairs(n, seed0, size):
        direction = rng.normal(size=3)
        offset = rng.uniform(200.0, 1000.0) * direction / np.linalg.norm(direction)
        far, far_true = moved_origin(mr, true, offset)
        moved.append((name, ct, far, far_true, points, {"offset_mm": float(np.linalg.norm(offset))}))
        fraction, top = float(rng.uniform(0.5, 0.8)), bool(rng.integers(2))
        cropped = cropped_along_z(mr, ct, fraction, from_top=top)
        partial.append((name, ct, cropped, true, points, {"z_fraction": fraction, "kept": "top" if top else "bottom"}))
    return moved, partial


def run_scenario(pairs, desc: str) -> dict[str, dict]:
    """Ours (auto initialisation) and image-centres-only on each pair; per-method scores with details."""
    rows: dict[str, list[dict]] = {"ours": [], "geometry_only": []}
    for name, fixed, moving, true, points, detail in tqdm(pairs, desc=desc):
        start = time.perf_counter()
        result = register_rigid(fixed, moving)
        row = evaluate(name, result.transform, true, points, time.perf_counter() - start)
        used = {"initialisation": str(result.initialisation.used), "coverage": round(result.coverage, 3)}
        rows["ours"].append(row | detail | used)
        start = time.perf_counter()
        centred = geometry_only(fixed, moving)
        rows["geometry_only"].append(evaluate(name, centred, true, points, time.perf_counter() - start) | detail)
    scored = {method: score(r) for method, r in rows.items()}
    starts = [r["initialisation"] for r in rows["ours"]]
    scored["ours"]["initialisations"] = {s: starts.count(s) for s in sorted(set(starts))}
    return scored


def scenarios_main(args) -> int:
    """The moved-origin and partial-view scenarios (``--scenarios``)."""
    load_start = os.getloadavg()
    moved, partial = scenario_pairs(args.n, args.seed, args.size)
    results = {
        "moved_origin_200_1000mm": run_scenario(moved, "origins moved"),
        "mr_covers_50_80pct_of_ct_z": run_scenario(partial, "partial view"),
    }
    report = {
        "benchmark": "rigid CT/MR registration: scans from scanners that disagree, partial fields of view",
        "cohort": {
            "n_per_scenario": args.n,
            "first_seed": args.seed,
            "make_subject": {"size": args.size, "max_rotation_deg": 15, "max_translation_mm": 20},
        },
        "tre": "100 points in the CT head mask (the whole head, also outside a partial MR), ||T_est(p) - T_true(p)||",
        "success": f"pair max TRE < {SUCCESS_MM} mm",
        "threads": THREADS,
        "load_average_start_end": [load_start, os.getloadavg()],
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "sitk": sitk.Version.VersionString()},
        "scenarios": results,
    }
    out = args.out if args.out is not None else ROOT / "benchmarks" / "results" / "bench_registration_scenarios.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    for scenario, scored in results.items():
        print(f"\n{scenario}:\n" + table(scored) + f"\ninitialisations: {scored['ours']['initialisations']}")
    print(f"\nWrote {out}")
    return 0


def mni_pair(seed: int = 0):
    """MNI152 T1 (moving, under a known rigid motion) vs a CT-like remap of it (fixed)."""
    from nilearn import datasets

    image = datasets.load_mni152_template(resolution=2)
    t1 = Volume.from_ras_affine(
        np.asarray(image.get_fdata(), np.float32), image.affine, modality="MR-T1", name="MNI152 T1"
    )
    t = t1.array / max(float(t1.array.max()), 1e-6)
    # Non-monotonic: air -> -1000 HU, dark-grey T1 (CSF/skull-like) -> bright, bright T1 (white matter) -> 30 HU.
    ct = np.where(t < 0.05, -1000.0, 20.0 + 900.0 * np.exp(-(((t - 0.3) / 0.1) ** 2)) + 40.0 * t)
    rng = np.random.default_rng(seed)
    fixed = t1.with_array((ct + rng.normal(0, 8, ct.shape)).astype(np.float32), modality="CT", name="MNI152 CT-like")
    true = sitk.Euler3DTransform()
    true.SetCenter(fixed.center_mm.tolist())
    true.SetRotation(*np.deg2rad([8.0, -6.0, 10.0]))
    true.SetTranslation((12.0, -9.0, 7.0))
    # The MR shows the anatomy at p = true^-1(q) for each of its points q; its own grid is shifted.
    grid = Volume(
        np.zeros(t1.shape, np.float32),
        spacing=t1.spacing,
        origin=tuple(np.add(t1.origin, (5.0, -4.0, 3.0))),
        direction=t1.direction,
    )
    moved = sitk.Resample(t1.to_sitk(), grid.to_sitk(), true.GetInverse(), sitk.sitkLinear, 0.0)
    moving = Volume.from_sitk(moved, modality="MR-T1", name="MNI152 T1 moved")
    points = sample_points_in_mask(fixed.with_array((t > 0.2).astype(np.float32)), 100, seed=seed)
    return "MNI152", fixed, moving, true, points


# ----------------------------------------------------------------------------- ANTs
def ants_status() -> tuple[bool, str]:
    if not ANTS_PYTHON.exists():
        return (
            False,
            f"ANTsPy environment missing ({ANTS_PYTHON.relative_to(ROOT)}); see benchmarks/requirements-ants.txt",
        )
    check = subprocess.run(
        [str(ANTS_PYTHON), "-c", "import ants; print(ants.__version__)"], capture_output=True, text=True, timeout=300
    )
    if check.returncode != 0:
        return False, f"antspyx does not import: {check.stderr.strip()[-300:]}"
    return True, f"antspyx {check.stdout.strip()}"


def run_ants(pairs, workdir: Path) -> dict[str, tuple[sitk.Transform, float]]:
    """Register every pair with ANTsPy in one worker process; returns {name: (transform, seconds)}."""
    jobs = []
    for name, fixed, moving, _, _ in pairs:
        f, m = workdir / f"{name}_fixed.nii.gz", workdir / f"{name}_moving.nii.gz"
        save_volume(fixed, f)
        save_volume(moving, m)
        jobs.append({"name": name, "fixed": str(f), "moving": str(m)})
    (workdir / "jobs.json").write_text(json.dumps(jobs))
    env = os.environ | {"ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": str(THREADS), "OMP_NUM_THREADS": str(THREADS)}
    proc = subprocess.Popen(
        [str(ANTS_PYTHON), "-c", ANTS_WORKER, str(workdir / "jobs.json")], stdout=subprocess.PIPE, text=True, env=env
    )
    results = {}
    for line in tqdm(proc.stdout, total=len(jobs), desc="antspy_rigid"):
        row = json.loads(line)
        origin, *axes = np.asarray(row["points"], dtype=np.float64)
        matrix = np.stack([axis - origin for axis in axes], axis=1)  # columns: images of the unit vectors
        transform = sitk.AffineTransform(matrix.ravel().tolist(), origin.tolist(), (0.0, 0.0, 0.0))
        results[row["name"]] = (transform, row["seconds"])
    if proc.wait() != 0:
        raise RuntimeError("ANTsPy worker failed")
    return results


# ----------------------------------------------------------------------------- scoring
def score(rows: list[dict]) -> dict:
    medians = [r["tre_median_mm"] for r in rows]
    seconds = [r["seconds"] for r in rows]
    return {
        "median_tre_mm": float(np.median(medians)),
        "max_tre_mm": float(max(r["tre_max_mm"] for r in rows)),
        "success_rate": float(np.mean([r["tre_max_mm"] < SUCCESS_MM for r in rows])),
        "seconds_per_pair": float(np.mean(seconds)),
        "seconds_per_pair_max": float(max(seconds)),
        "per_pair": rows,
    }


def paired_difference(ours: dict, baseline: dict, *, n_boot: int = 5000, seed: int = 0) -> dict:
    """Per-pair median-TRE difference (ours - baseline): median, bootstrap 95% CI, Wilcoxon p."""
    from scipy.stats import wilcoxon

    diff = np.array(
        [a["tre_median_mm"] - b["tre_median_mm"] for a, b in zip(ours["per_pair"], baseline["per_pair"], strict=True)]
    )
    rng = np.random.default_rng(seed)
    boots = np.median(diff[rng.integers(0, len(diff), (n_boot, len(diff)))], axis=1)
    p_value = float(wilcoxon(diff).pvalue) if len(diff) > 1 and np.any(diff != 0) else 1.0
    return {
        "median_difference_mm": float(np.median(diff)),
        "ci95_mm": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))],
        "wilcoxon_p": p_value,
        "pairs_ours_better": int(np.sum(diff < 0)),
        "pairs": len(diff),
    }


def evaluate(name, transform, true, points, seconds) -> dict:
    tre = target_registration_error(transform, true, points)
    return {
        "pair": name,
        "tre_median_mm": float(np.median(tre)),
        "tre_max_mm": float(tre.max()),
        "seconds": float(seconds),
    }


def run_methods(pairs, desc: str) -> dict[str, list[dict]]:
    rows = {m: [] for m in METHODS}
    for name, fixed, moving, true, points in tqdm(pairs, desc=desc):
        for method, fn in METHODS.items():
            start = time.perf_counter()
            transform = fn(fixed, moving)
            rows[method].append(evaluate(name, transform, true, points, time.perf_counter() - start))
    return rows


def table(results: dict[str, dict]) -> str:
    lines = [f"{'method':<16}{'median TRE':>12}{'max TRE':>10}{'success':>9}{'s/pair':>9}"]
    for method, r in results.items():
        lines.append(
            f"{method:<16}{r['median_tre_mm']:>10.2f}mm{r['max_tre_mm']:>8.2f}mm{100 * r['success_rate']:>8.0f}%{r['seconds_per_pair']:>9.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="phantom subjects")
    parser.add_argument("--seed", type=int, default=0, help="first phantom seed")
    parser.add_argument("--no-ants", action="store_true", help="skip the ANTsPy baseline")
    parser.add_argument("--size", type=int, default=128, help="phantom in-plane voxels (128: the app's default)")
    parser.add_argument("--scenarios", action="store_true", help="moved-origin and partial-view pairs only")
    parser.add_argument("--out", type=Path, default=None, help="JSON report (default: benchmarks/results/...)")
    args = parser.parse_args(argv)
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(THREADS)
    if args.scenarios:
        return scenarios_main(args)
    args.out = args.out if args.out is not None else ROOT / "benchmarks" / "results" / "bench_registration.json"
    load_start = os.getloadavg()
    pairs = list(tqdm(phantom_pairs(args.n, args.seed, args.size), total=args.n, desc="phantom subjects"))
    real = [mni_pair()]
    phantom_rows, real_rows = run_methods(pairs, "phantom pairs"), run_methods(real, "MNI152 pair")
    ants_ok, ants_note = (False, "skipped (--no-ants)") if args.no_ants else ants_status()
    if ants_ok:
        with tempfile.TemporaryDirectory() as tmp:
            done = run_ants(pairs + real, Path(tmp))
        for rows, group in ((phantom_rows, pairs), (real_rows, real)):
            rows["antspy_rigid"] = [evaluate(n, *done[n][:1], true, pts, done[n][1]) for n, _, _, true, pts in group]
    phantom = {m: score(r) for m, r in phantom_rows.items()}
    mni = {m: score(r) for m, r in real_rows.items()}
    ours_ = phantom["ours"]
    baselines = [m for m in phantom if m != "ours"]
    best = min(baselines, key=lambda m: phantom[m]["median_tre_mm"])
    checks = {
        "median_tre_ok": ours_["median_tre_mm"] <= TARGETS["median_tre_mm"],
        "max_tre_ok": ours_["max_tre_mm"] <= TARGETS["max_tre_mm"],
        "success_ok": ours_["success_rate"] >= TARGETS["success_rate"],
        "speed_ok": ours_["seconds_per_pair"] <= TARGETS["seconds_per_pair"],
        "at_least_as_accurate_as_best_baseline": ours_["median_tre_mm"]
        <= min(phantom[m]["median_tre_mm"] for m in baselines),
        "median_tre_minus_best_baseline_mm": ours_["median_tre_mm"]
        - min(phantom[m]["median_tre_mm"] for m in baselines),
        "faster_than_antspy": (ours_["seconds_per_pair"] < phantom["antspy_rigid"]["seconds_per_pair"])
        if ants_ok
        else None,
        "best_baseline": best,
        "paired_vs_best_baseline": paired_difference(ours_, phantom[best]),
    }
    report = {
        "benchmark": "rigid CT/MR registration",
        "cohort": {
            "n": args.n,
            "first_seed": args.seed,
            "make_subject": {"max_rotation_deg": 15, "max_translation_mm": 20},
        },
        "tre": "100 points in the CT head mask (MNI: in the template's brain), ||T_est(p) - T_true(p)||",
        "success": f"pair max TRE < {SUCCESS_MM} mm",
        "threads": THREADS,
        "load_average_start_end": [load_start, os.getloadavg()],
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "sitk": sitk.Version.VersionString()},
        "antspy": {"available": ants_ok, "note": ants_note},
        "targets": TARGETS,
        "checks": checks,
        "phantom": phantom,
        "mni152": mni,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print("\nPhantom cohort:\n" + table(phantom))
    print("\nMNI152 T1 vs CT-like remap:\n" + table(mni))
    print("\nChecks:", json.dumps(checks), f"\nANTsPy: {ants_note}\nWrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: eager PyTorch vs ONNX Runtime vs torch.compile for every shipped generator, same inputs.

Method:   demo subject 0 (aligned), MR -> CT (the CT -> MR U-Net: CT -> MR), the whole volume through
          ``impute`` (``impute_with_uncertainty`` for the diffusion refiner: its default samples); each
          runtime's median of ``--repeats`` runs after one warm-up run, in this process, with torch's
          and ONNX Runtime's threads at the machine's cores. Outputs are compared with eager PyTorch:
          relative error ||a - b|| / ||b|| over the volume (target <= 1e-4), and the largest voxel
          difference in the output's units. torch.compile (inductor, CPU) is timed for the models in
          ``--compile`` (its first call compiles: reported separately).
Baseline: eager PyTorch on the same inputs in the same run.
Targets:  a U-Net synthetic CT of a demo volume <= 1.5 s; four diffusion samples <= 6 s (issue 26).

Run:  .venv/bin/python -m benchmarks.bench_runtime [--repeats 3] [--compile synth-unet]
      (writes benchmarks/results/bench_runtime.json)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fusion_core.data.cohorts import get_cohort_spec  # noqa: E402
from fusion_core.evaluation import cross_modal as cm  # noqa: E402
from fusion_core.inference import impute, impute_with_uncertainty, list_models, load_model  # noqa: E402
from fusion_core.inference.loading import LoadedModel  # noqa: E402
from fusion_core.inference.runtime import Runtime, part_paths, swap_parts  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_runtime.json"
TARGETS = {"synth-unet_s": 1.5, "diffusion-refiner_4_samples_s": 6.0, "relative_error": 1e-4}


def direction(model: LoadedModel) -> tuple[str, str]:
    """(source, target) the benchmark generates with this model."""
    return ("CT", "MR") if "CT" in model.card.inputs and "CT" not in model.card.outputs else ("MR", "CT")


def generate(model: LoadedModel, case) -> np.ndarray:
    source, target = direction(model)
    volumes = cm.source_volumes(case, source)
    if model.task == "diffusion":
        return impute_with_uncertainty(model, volumes, target, seed=0).mean.array
    return impute(model, volumes, target).array


def timed(model: LoadedModel, case, repeats: int) -> tuple[float, np.ndarray, float]:
    """(median seconds, output, first-call seconds)."""
    start = time.perf_counter()
    out = generate(model, case)
    first = time.perf_counter() - start
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = generate(model, case)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), out, first


def compiled(model: LoadedModel) -> LoadedModel:
    """The model with the parts ONNX Runtime would run wrapped by ``torch.compile`` instead (inductor, CPU)."""
    net = model.network
    parts = {path: torch.compile(net.get_submodule(path), dynamic=False) for path in part_paths(net)}
    return LoadedModel(network=net, card=model.card, source=model.source, fast_network=swap_parts(net, parts))


def compare(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    return {
        "relative_error": float(np.linalg.norm(a - b) / np.linalg.norm(b)),
        "max_abs_difference": float(np.abs(a - b).max()),
    }


def bench_model(name: str, case, repeats: int, compile_it: bool) -> dict:
    eager = load_model(name, device="cpu", runtime=Runtime.PYTORCH)
    row: dict = {"task": eager.task, "direction": "{} -> {}".format(*direction(eager))}
    eager_s, reference, _ = timed(eager, case, repeats)
    row["pytorch_s"] = round(eager_s, 3)
    fast = load_model(name, device="cpu", runtime=Runtime.ONNX)
    if fast.runtime is Runtime.ONNX:
        onnx_s, out, _ = timed(fast, case, repeats)
        row |= {"onnxruntime_s": round(onnx_s, 3), "onnx_speedup": round(eager_s / onnx_s, 2)}
        row["onnx_vs_pytorch"] = compare(out, reference)
    if compile_it:
        compiled_s, out, first = timed(compiled(eager), case, repeats)
        row |= {"compiled_s": round(compiled_s, 3), "compile_first_call_s": round(first, 1)}
        row["compiled_vs_pytorch"] = compare(out, reference)
    row["default_on_cpu"] = str(fast.runtime)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile", nargs="*", default=["synth-unet"], help="models also timed with torch.compile")
    parser.add_argument("--models", nargs="*", default=None, help="default: every shipped generator")
    args = parser.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    load_before = os.getloadavg()[0]
    case = get_cohort_spec("demo").subject(0).to_case().aligned()
    names = args.models or [n for t in ("synthesis", "diffusion", "translator") for n in list_models(task=t)]
    rows = {}
    for name in names:
        rows[name] = bench_model(name, case, args.repeats, name in args.compile)
        print(name, json.dumps(rows[name]), flush=True)
    best = {n: min(v for k, v in r.items() if k.endswith("_s") and "first" not in k) for n, r in rows.items()}
    results = {
        "subject": case.subject_id,
        "slices": int(case.ct.shape[0]),
        "models": rows,
        "targets": TARGETS,
        "met": {
            "synth-unet_s": best.get("synth-unet", 1e9) <= TARGETS["synth-unet_s"],
            "diffusion-refiner_4_samples_s": best.get("diffusion-refiner", 1e9) <= TARGETS["diffusion-refiner_4_samples_s"],
            "relative_error": all(
                r.get("onnx_vs_pytorch", {}).get("relative_error", 0) <= TARGETS["relative_error"] for r in rows.values()
            ),
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        },
        "command": "python -m benchmarks.bench_runtime " + " ".join(argv or sys.argv[1:]),
    }  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["met"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

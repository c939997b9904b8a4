"""GPU check: every shipped model on CUDA under AMP against the CPU, and batched throughput.

For each model in ``assets/models`` (``fusion_core.inference.list_models``): load it on the CPU and
on the GPU, run its tasks on one phantom subject (``make_subject(1234)``, MR on the CT grid) and
compare (tolerances below; inference runs under bf16 autocast on CUDA), then time the same calls on
a taller volume (the phantom's slices repeated, 128 x 128 in-plane) on each device: slices per second.

Tasks per card ``task``:  classifier (clf-*) -> classify;  vae -> impute CT from MR, encode CT+MR;
translator -> impute CT from MR.  Classifiers run with one deterministic pass (no MC dropout) when
``classify`` accepts ``mc_samples``, so the two devices see the same network.

Tolerances (GPU vs CPU):  subject probability |diff| < 0.02;  imputed CT: mean |diff| < 10 HU and
|MAE(GPU, true CT) - MAE(CPU, true CT)| < 10 HU (the largest voxel difference is reported, not
judged: bf16 moves single voxels at bone edges);  latents: ||GPU - CPU|| / ||CPU|| < 0.05.

Without CUDA it says so in one sentence, writes a JSON that says so (keeping an earlier CUDA result
in place) and exits 0.  ``--device cpu`` runs the whole check CPU against CPU (a smoke test).

Run:  PYTHONUNBUFFERED=1 .venv/bin/python benchmarks/gpu_check.py   (writes benchmarks/results/gpu_check.json)
"""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ASSETS = ROOT / "assets" / "models"
RESULTS = ROOT / "benchmarks" / "results" / "gpu_check.json"
SEED = 1234
TOLERANCES = {
    "probability_abs": 0.02,
    "imputed_ct_mean_abs_hu": 10.0,
    "imputed_ct_mae_vs_truth_diff_hu": 10.0,
    "latent_relative": 0.05,
}


def log(message: str) -> None:
    print(f"[gpu_check] {message}", flush=True)


def phantom_inputs(seed: int = SEED, **options) -> tuple[dict, object]:  # options: make_subject's, e.g. size
    """({"CT", "MR-T1", "MR-T2": Volume on the CT grid}, true CT) of one phantom subject."""
    from fusion_core.data.phantom import make_subject

    s = make_subject(seed, **options)
    return {"CT": s.ct, "MR-T1": s.mr_on_ct_grid(), "MR-T2": s.mr_on_ct_grid("T2")}, s.ct


def card(name: str, assets: Path = ASSETS) -> dict:
    """The model card (``assets/models/<name>/model_card.json``)."""
    return json.loads((assets / name / "model_card.json").read_text())


def inputs_for(card_inputs: list[str], volumes: Mapping) -> dict:
    """The volumes a model takes, keyed as its card names them ("MR" = T1)."""
    key = {"MR": "MR-T1"}
    return {name: volumes[key.get(name, name)] for name in card_inputs}


def tall(volumes: Mapping, repeats: int) -> dict:
    """Each volume with its slices repeated ``repeats`` times along z (same in-plane grid)."""
    from fusion_core.volume import Volume

    return {
        k: Volume(np.tile(v.array, (repeats, 1, 1)), v.spacing, v.origin, v.direction, v.modality, v.name)
        for k, v in volumes.items()
    }


def _classify_kwargs(classify: Callable) -> dict:
    return {"mc_samples": 1} if "mc_samples" in inspect.signature(classify).parameters else {}


def task_calls(task: str, inputs: dict) -> dict[str, Callable]:
    """{output name: fn(model) -> array or float} for a model's task."""
    from fusion_core.inference import classify, encode, impute

    mr_only = {k: v for k, v in inputs.items() if k.startswith("MR")}
    if task == "classifier":
        return {"probability": lambda m: classify(m, inputs, **_classify_kwargs(classify)).probability}
    if task == "vae":
        return {"impute_ct": lambda m: impute(m, mr_only, target="CT").array, "encode": lambda m: encode(m, inputs)}
    if task == "translator":
        return {"impute_ct": lambda m: impute(m, mr_only, target="CT").array}
    return {}


def compare(name: str, cpu, gpu, true_ct: np.ndarray) -> dict:
    """Differences of one output between devices, with ``ok`` against :data:`TOLERANCES`."""
    if name == "probability":
        diff = abs(float(gpu) - float(cpu))
        return {"cpu": float(cpu), "gpu": float(gpu), "abs_diff": diff, "ok": diff < TOLERANCES["probability_abs"]}
    cpu, gpu = np.asarray(cpu, float), np.asarray(gpu, float)
    if name == "impute_ct":
        mean_abs = float(np.abs(gpu - cpu).mean())
        mae_diff = abs(float(np.abs(gpu - true_ct).mean()) - float(np.abs(cpu - true_ct).mean()))
        ok = (
            mean_abs < TOLERANCES["imputed_ct_mean_abs_hu"] and mae_diff < TOLERANCES["imputed_ct_mae_vs_truth_diff_hu"]
        )
        return {"mean_abs_diff_hu": mean_abs, "max_abs_diff_hu": float(np.abs(gpu - cpu).max()),
                "mae_vs_truth_diff_hu": mae_diff, "ok": ok}  # fmt: skip
    rel = float(np.linalg.norm(gpu - cpu) / max(np.linalg.norm(cpu), 1e-12))
    return {"relative_error": rel, "ok": rel < TOLERANCES["latent_relative"]}


def slices_per_second(fn: Callable, model, n_slices: int, repeats: int) -> float:
    """Median slices/s of ``fn(model)`` over ``repeats`` timed calls after one warm-up."""
    fn(model)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(model)  # returns host arrays, so the GPU work is finished when it returns
        times.append(time.perf_counter() - t0)
    return n_slices / statistics.median(times)


def check_model(
    name: str, device: str, volumes: dict, true_ct, *, tall_repeats: int, repeats: int, deadline: float = np.inf
) -> dict:
    """Agreement and throughput of one model on ``device`` against the CPU.

    Throughput is skipped (recorded as skipped) once ``time.perf_counter()`` passes ``deadline``.
    """
    from fusion_core.inference import load_model

    c = card(name)
    inputs = inputs_for(c["inputs"], volumes)
    calls = task_calls(c["task"], inputs)
    big = tall(inputs, tall_repeats)
    big_calls = task_calls(c["task"], big)
    n_big = next(iter(big.values())).array.shape[0]
    out: dict = {"task": c["task"], "inputs": c["inputs"], "outputs": {}, "slices_per_second": {}}
    models = {"cpu": load_model(name, device="cpu"), device: load_model(name, device=device)}
    results = {d: {k: fn(m) for k, fn in calls.items()} for d, m in models.items()}
    for k in calls:
        out["outputs"][k] = compare(k, results["cpu"][k], results[device][k], true_ct.array)
        if time.perf_counter() > deadline:
            out["slices_per_second"][k] = "skipped: time budget spent"
            continue
        # the CPU is timed once: it is the slow reference, and the whole check must stay under 5 minutes
        out["slices_per_second"][k] = {
            d: slices_per_second(big_calls[k], m, n_big, repeats if d == device else 1) for d, m in models.items()
        }  # fmt: skip
    out["ok"] = all(o["ok"] for o in out["outputs"].values())
    return out


def no_cuda_result() -> dict:
    return {
        "cuda": False,
        "message": "No CUDA device: the GPU check needs a machine with an NVIDIA GPU; nothing was run.",
    }


def write(result: dict, out: Path) -> None:
    """Write the JSON, but never replace an earlier CUDA result with a no-CUDA note."""
    if not result["cuda"] and out.is_file() and json.loads(out.read_text()).get("cuda"):
        log(f"kept the earlier CUDA result in {out}")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {out}")


def run_check(
    device: str, *, models: list[str] | None = None, tall_repeats: int = 4, repeats: int = 3, budget_s: float = 240.0
) -> dict:
    """The full check on ``device`` ("cuda" or, as a smoke test, "cpu") as a JSON-ready dict.

    Agreement is checked for every model; throughput timing stops after ``budget_s`` seconds.
    """
    import torch

    from fusion_core.inference import list_models

    t0 = time.perf_counter()
    volumes, true_ct = phantom_inputs()
    names = models or list_models()
    result: dict = {"cuda": device.startswith("cuda"), "device": device, "phantom_seed": SEED,
                    "phantom_shape": list(true_ct.array.shape), "tall_slices": true_ct.array.shape[0] * tall_repeats,
                    "tolerances": TOLERANCES, "models": {}}  # fmt: skip
    if device.startswith("cuda"):
        result["gpu"] = torch.cuda.get_device_name(0)
    result["machine"] = {
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }
    for i, name in enumerate(names, 1):
        log(f"{i}/{len(names)} {name}")
        try:
            result["models"][name] = check_model(
                name, device, volumes, true_ct, tall_repeats=tall_repeats, repeats=repeats
            )
        except Exception as exc:  # one broken model must not hide the others' numbers
            result["models"][name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        log(f"   {json.dumps(result['models'][name].get('outputs', result['models'][name]))}")
    result["all_ok"] = all(m["ok"] for m in result["models"].values())
    result["seconds"] = time.perf_counter() - t0
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="default: cuda when available; 'cpu' = smoke test")
    parser.add_argument("--models", nargs="*", default=None, help="model names (default: every shipped model)")
    parser.add_argument("--tall-repeats", type=int, default=4, help="phantom slices repeated for throughput")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per measurement")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds after which throughput is skipped")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else None)
    if device is None:
        result = no_cuda_result()
        print(result["message"], flush=True)
        write(result, args.out)
        return 0
    result = run_check(
        device, models=args.models, tall_repeats=args.tall_repeats, repeats=args.repeats, budget_s=args.budget
    )
    write(result, args.out)
    log(f"all within tolerance: {result['all_ok']} ({result['seconds']:.0f} s)")
    return 0 if result["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

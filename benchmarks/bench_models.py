"""Benchmark the shipped generative models (classifiers: ``benchmarks/bench_classifiers.py``).

Measures, each side by side with its baseline in the same run:

* cross-modal generation MR->CT (PoE VAE, and the unpaired CycleGAN) against a tissue-class
  baseline (k-means on the T1 within the head, each class its mean training HU): MAE (HU, head
  mask), PSNR, SSIM, bone Dice on native-grid test volumes (the VAE's own data config and table);
* coherence: the CT-only classifier on generated CT vs on real CT (AUC against the true labels,
  agreement of the thresholded predictions);
* throughput (slices/s) of ``classify`` and ``impute`` on a phantom volume, batched vs a per-slice loop.

* the same generators on subjects of the app's demo spec (its lesion mix), to check they serve it;

Writes ``benchmarks/results/bench_models.json`` and adds the test numbers to the generators' cards.

Run:  .venv/bin/python -m benchmarks.bench_models [--n-boot 1000] [--gen-subjects 12] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from fusion_core.evaluation import auc_with_ci, fit_tissue_mapper, image_metrics
from fusion_core.inference import ASSETS_DIR, classify, crop_fraction, impute, load_model
from fusion_core.preprocess.masks import mr_head_mask
from fusion_core.preprocess.network import mr_to_unit, unit_to_ct
from fusion_core.preprocess.slices import crop_slices, resize_slices
from fusion_core.training.config import load_train_config
from fusion_core.training.slice_table import SPLITS, build_slice_table, iter_phantom_cohort, table_images

RESULTS = Path(__file__).parent / "results" / "bench_models.json"
CONFIGS = Path(__file__).parent.parent / "configs"
TEST = SPLITS.index("test")


def slice_logits(model, x: dict[str, torch.Tensor], batch: int = 256) -> np.ndarray:
    """Final logits of a classifier's network on (N, C, S, S) tensors (any subset of modalities)."""
    out = []
    with torch.inference_mode():
        for i in range(0, next(iter(x.values())).shape[0], batch):
            out.append(model.network({m: v[i : i + batch] for m, v in x.items()}).logit.float().cpu())
    return torch.cat(out).numpy()


def test_subjects(config, table, limit: int):
    """The first ``limit`` test-split subjects of the cohort (regenerated at native resolution)."""
    test_ids = set(np.unique(table["subject"][table["split"] == TEST]).tolist())
    out = []
    for i, subject in enumerate(iter_phantom_cohort(config)):
        if i in test_ids:
            out.append(subject)
        if len(out) >= limit:
            break
    return out


def fit_baseline(table):
    rows = table["split"] == SPLITS.index("train")
    return fit_tissue_mapper(table["MR"][rows], unit_to_ct(table["CT"][rows]), table["head"][rows])


def bench_generation(config, table, limit: int, device) -> dict:
    mapper = fit_baseline(table)
    vae, cyc = load_model("vae-poe", device=device), load_model("translator-cyclegan", device=device)
    per = {"vae-poe": [], "translator-cyclegan": [], "tissue-class-baseline": []}
    for subject in tqdm(test_subjects(config, table, limit), desc="generation"):
        ct, mr, head = subject.ct, subject.mr_on_ct_grid(), subject.masks["head"].array > 0.5
        base = mapper.predict(mr_to_unit(mr.array)[0], mr_head_mask(mr.array))
        per["tissue-class-baseline"].append(image_metrics(base, ct.array, head))
        per["vae-poe"].append(image_metrics(impute(vae, {"MR": mr}, "CT").array, ct.array, head))
        per["translator-cyclegan"].append(image_metrics(impute(cyc, {"MR": mr}, "CT").array, ct.array, head))
    summary = {k: {m: float(np.mean([r[m] for r in v])) for m in v[0]} for k, v in per.items()}
    b = summary["tissue-class-baseline"]["mae_hu"]
    for k in ("vae-poe", "translator-cyclegan"):
        summary[k]["mae_reduction_vs_baseline"] = 1 - summary[k]["mae_hu"] / b
    summary["n_subjects"] = len(per["vae-poe"])
    summary["baseline_classes"] = {"centers_unit": mapper.centers.tolist(), "hu": mapper.hu.tolist()}
    return summary


def bench_generation_on_demo(limit: int, device) -> dict:
    """The generators on the app's demo subjects (lesion mix of the demo spec) vs on their own test split."""
    from fusion_core.data.cohorts import get_cohort_spec

    spec = get_cohort_spec("demo")
    vae, cyc = load_model("vae-poe", device=device), load_model("translator-cyclegan", device=device)
    per = {"vae-poe": [], "translator-cyclegan": []}
    for i in tqdm(range(limit), desc="generation on demo"):
        subject = spec.subject(i)
        ct, mr, head = subject.ct, subject.mr_on_ct_grid(), subject.masks["head"].array > 0.5
        per["vae-poe"].append(image_metrics(impute(vae, {"MR": mr}, "CT").array, ct.array, head))
        per["translator-cyclegan"].append(image_metrics(impute(cyc, {"MR": mr}, "CT").array, ct.array, head))
    return {k: {m: float(np.mean([r[m] for r in v])) for m in v[0]} | {"n_subjects": limit} for k, v in per.items()}


def classifier_view(x: torch.Tensor, clf) -> torch.Tensor:
    """(N, 1, S, S) whole-FOV network slices -> the classifier's centre crop, resized to its input size."""
    crop = crop_slices(x[:, 0].float().cpu().numpy(), crop_fraction(clf))
    size = clf.config.encoder.image_size
    return torch.from_numpy(resize_slices(crop, size, mode="bilinear")).unsqueeze(1).to(x.device)


def bench_coherence(table, n_boot: int, device) -> dict:
    """CT-only classifier on VAE-generated CT (from MR alone) vs on the real CT (VAE's whole-FOV table)."""
    rows = np.flatnonzero(table["split"] == TEST)
    vae, clf = load_model("vae-poe", device=device), load_model("clf-ct", device=device)
    mr = torch.from_numpy(table_images(table, "MR", rows)).to(device)
    with torch.inference_mode():
        fake = torch.cat([vae.network({"MR": mr[i : i + 256]}).recon["CT"] for i in range(0, len(mr), 256)])
        fake = fake.clamp(-1, 1)
    real = torch.from_numpy(table_images(table, "CT", rows)).to(device)
    real_logit = slice_logits(clf, {"CT": classifier_view(real, clf)})
    fake_logit = slice_logits(clf, {"CT": classifier_view(fake, clf)})
    labels = table["label"][rows]
    return {
        "auc_on_real_ct": auc_with_ci(labels, real_logit, n_boot=n_boot).as_dict(),
        "auc_on_generated_ct": auc_with_ci(labels, fake_logit, n_boot=n_boot).as_dict(),
        "agreement_real_vs_generated": float(np.mean((real_logit > 0) == (fake_logit > 0))),
        "agreement_generated_vs_truth": float(np.mean((fake_logit > 0) == labels.astype(bool))),
    }


def time_call(fn, repeats: int = 3) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def bench_throughput(device) -> dict:
    from fusion_core.data.phantom import make_subject

    subject = make_subject(7, label=1)
    vols = {"CT": subject.ct, "MR-T1": subject.mr_on_ct_grid("T1"), "MR-T2": subject.mr_on_ct_grid("T2")}
    n = subject.ct.shape[0]
    clf, vae = load_model("clf-intermediate-concat", device=device), load_model("vae-poe", device=device)
    cases = {
        "classify_intermediate_concat": lambda bs: classify(clf, vols, mc_samples=1, batch_size=bs),
        "impute_vae_mr_to_ct": lambda bs: impute(vae, {"MR-T1": vols["MR-T1"]}, "CT", batch_size=bs),
    }
    out = {
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "n_slices": n,
        "volume_shape": list(subject.ct.shape),
    }
    for name, fn in tqdm(cases.items(), desc="throughput"):
        batched, looped = time_call(lambda fn=fn: fn(64)), time_call(lambda fn=fn: fn(1))
        out[name] = {
            "batched_slices_per_s": n / batched,
            "per_slice_loop_slices_per_s": n / looped,
            "speedup": looped / batched,
        }
    return out


def update_cards(results: dict) -> None:
    """Write the generation numbers into the generators' cards (classifiers: bench_classifiers.py)."""
    for name in ("vae-poe", "translator-cyclegan"):
        path = ASSETS_DIR / name / "model_card.json"
        card = json.loads(path.read_text())
        bench = {"source": "benchmarks/bench_models.py", "split": "test", "mr_to_ct": results["generation"][name]}
        if name == "vae-poe":
            bench["throughput"] = results["throughput"]["impute_vae_mr_to_ct"] | {
                "device": results["throughput"]["device"]
            }
            bench["coherence"] = results["coherence"]
        card["benchmarks"] = bench
        path.write_text(json.dumps(card, indent=2))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--gen-subjects", type=int, default=12)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--no-cards", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    gen_data = load_train_config(CONFIGS / "vae-poe.json").data_config()
    gen_table = build_slice_table(gen_data)
    results = {
        "generation": bench_generation(gen_data, gen_table, args.gen_subjects, device),
        "generation_on_demo": bench_generation_on_demo(args.gen_subjects, device),
        "coherence": bench_coherence(gen_table, args.n_boot, device),
        "throughput": bench_throughput(device),
        "settings": vars(args),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    if not args.no_cards:
        update_cards(results)
    print(json.dumps(headline(results), indent=2))
    return 0


def headline(r: dict) -> dict:
    return {
        "generation": {k: v for k, v in r["generation"].items() if k != "baseline_classes"},
        "generation_on_demo": r["generation_on_demo"],
        "coherence": {k: (v["auc"] if isinstance(v, dict) else v) for k, v in r["coherence"].items()},
        "throughput": r["throughput"],
    }


if __name__ == "__main__":
    raise SystemExit(main())

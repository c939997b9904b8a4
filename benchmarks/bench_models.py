"""Benchmark the shipped fusion models on the held-out test split of the phantom cohort.

Measures, each side by side with its baseline in the same run:

* classification: slice- and subject-level AUC (stratified bootstrap 95% CI) of every fusion
  strategy on the classifiers' test table, which holds only slices with a substantial brain
  section (``min_brain_fraction``), so slice position is no shortcut and the slice AUC is a
  within-brain AUC; intermediate fusion minus the best unimodal model (paired bootstrap CI), at
  slice and subject level; the PoE classifier with one modality missing against the specialist
  trained on that modality alone;
* cross-modal generation MR->CT (PoE VAE, and the unpaired CycleGAN) against a tissue-class
  baseline (k-means on the T1 within the head, each class its mean training HU): MAE (HU, head
  mask), PSNR, SSIM, bone Dice on native-grid test volumes (the VAE's own data config and table);
* coherence: the CT-only classifier on generated CT vs on real CT (AUC against the true labels,
  agreement of the thresholded predictions);
* throughput (slices/s) of ``classify`` and ``impute`` on a phantom volume, batched vs a per-slice loop.

Writes ``benchmarks/results/bench_models.json`` and adds the test numbers to each model card.

Run:  .venv/bin/python -m benchmarks.bench_models [--n-boot 1000] [--gen-subjects 12] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from fusion_core.datasets import (
    SPLITS,
    build_slice_table,
    crop_slices,
    head_mask_from_mr,
    iter_phantom_cohort,
    lesion_groups,
    mr_to_unit,
    resize_slices,
    table_images,
    unit_to_ct,
)
from tqdm import tqdm

from fusion_core.evaluation import auc_difference_ci, auc_score, auc_with_ci, fit_tissue_mapper, image_metrics
from fusion_core.inference import ASSETS_DIR, classify, crop_fraction, impute, list_models, load_model
from fusion_core.models.config import Strategy
from fusion_core.training.config import load_train_config

RESULTS = Path(__file__).parent / "results" / "bench_models.json"
CONFIGS = Path(__file__).parent.parent / "configs"
TEST = SPLITS.index("test")


def slice_logits(model, x: dict[str, torch.Tensor], batch: int = 256) -> np.ndarray:
    """Final logits of a classifier on (N, 1, S, S) tensors (any subset of modalities)."""
    out = []
    with torch.inference_mode():
        for i in range(0, next(iter(x.values())).shape[0], batch):
            out.append(model({m: v[i : i + batch] for m, v in x.items()}).logit.float().cpu())
    return torch.cat(out).numpy()


def subject_scores(probs: np.ndarray, subjects: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Top-k mean of slice probabilities per subject (the aggregation ``classify`` uses)."""
    ids = np.unique(subjects)
    return ids, np.array([np.sort(probs[subjects == s])[::-1][:k].mean() for s in ids])


def auc_block(labels, logits, table, rows, n_boot) -> dict:
    probs = 1 / (1 + np.exp(-logits))
    ids, subj = subject_scores(probs, table["subject"][rows])
    subj_labels = np.array([table["subject_label"][rows][table["subject"][rows] == s][0] for s in ids])
    return {
        "slice": auc_with_ci(labels, logits, n_boot=n_boot).as_dict(),
        "subject": auc_with_ci(subj_labels, subj, n_boot=n_boot).as_dict(),
        "scores": {"slice": (labels, logits), "subject": (subj_labels, subj)},
    }


def by_lesion_group(labels: np.ndarray, logits: np.ndarray, groups: np.ndarray) -> dict:
    """Slice AUC of each lesion group's positive slices against every negative slice."""
    out = {}
    for g in sorted(set(groups[labels == 1])):
        keep = (labels == 0) | (groups == g)
        out[g] = auc_score(labels[keep], logits[keep])
    return out


def bench_classifiers(table, data_config, n_boot: int, device) -> dict:
    rows = np.flatnonzero(table["split"] == TEST)
    x = {m: torch.from_numpy(table_images(table, m, rows)).to(device) for m in ("CT", "MR")}
    labels = table["label"][rows]
    groups = lesion_groups(data_config, table["subject"][rows])
    res: dict = {
        "n_test_slices": len(rows),
        "n_test_subjects": len(np.unique(table["subject"][rows])),
        "positive_slices_by_lesion": {g: int(((groups == g) & (labels == 1)).sum()) for g in set(groups)},
        "strategies": {},
    }
    for s in tqdm([s.value for s in Strategy], desc="classifiers"):
        model = load_model(f"clf-{s}", device=device)
        logits = slice_logits(model, x)
        res["strategies"][s] = auc_block(labels, logits, table, rows, n_boot)
        res["strategies"][s]["slice_auc_by_lesion"] = by_lesion_group(labels, logits, groups)
        if s in ("poe", "late", "uncertainty-late", "hybrid"):
            for m in ("CT", "MR"):
                res["strategies"][s][f"only_{m}"] = auc_block(
                    labels, slice_logits(model, {m: x[m]}), table, rows, n_boot
                )
    return summarise_classifiers(res, labels, n_boot)


def fusion_gain(st: dict, level: str, n_boot: int) -> dict:
    """Each intermediate strategy minus the best unimodal model at ``level`` ("slice" | "subject")."""
    best = max(("ct", "mr"), key=lambda s: st[s][level]["auc"])
    labels, best_scores = st[best]["scores"][level]
    gains = {
        s: auc_difference_ci(labels, st[s]["scores"][level][1], best_scores, n_boot=n_boot)
        for s in ("intermediate-concat", "intermediate-tensor", "intermediate-attention")
    }
    return {"best_unimodal": best, "gain": gains}


def poe_missing(st: dict, level: str, n_boot: int) -> dict:
    """PoE with one modality missing against the specialist of that modality, at ``level``, with a
    paired bootstrap CI of the difference."""
    out = {}
    for m in ("CT", "MR"):
        labels, poe_scores = st["poe"][f"only_{m}"]["scores"][level]
        diff = auc_difference_ci(labels, poe_scores, st[m.lower()]["scores"][level][1], n_boot=n_boot)
        out[m] = {
            "poe_only": st["poe"][f"only_{m}"][level]["auc"],
            "specialist": st[m.lower()][level]["auc"],
            "difference": diff["difference"],
            "low": diff["low"],
            "high": diff["high"],
            "within_0.02": diff["difference"] >= -0.02,
        }
    return out


def summarise_classifiers(res: dict, labels: np.ndarray, n_boot: int) -> dict:
    st = res["strategies"]
    res["intermediate_minus_best_unimodal"] = {lv: fusion_gain(st, lv, n_boot) for lv in ("slice", "subject")}
    res["poe_missing_vs_specialist"] = {lv: poe_missing(st, lv, n_boot) for lv in ("slice", "subject")}
    for block in st.values():
        block.pop("scores")
        for v in block.values():
            if isinstance(v, dict):
                v.pop("scores", None)
    return res


def bench_uncertainty_weights(table, device, mc_samples: int = 8) -> dict:
    """Mean fusion weight of each modality in the uncertainty-late model: clean, MR noisy, MR missing."""
    from fusion_core.models.classifiers import precision_weights

    rows = np.flatnonzero(table["split"] == TEST)
    model = load_model("clf-uncertainty-late", device=device)
    x = {m: torch.from_numpy(table_images(table, m, rows)).to(device) for m in ("CT", "MR")}
    g = torch.Generator().manual_seed(0)
    noisy = {"CT": x["CT"], "MR": torch.randn(x["MR"].shape, generator=g).clamp(-1, 1).to(device)}
    out = {}
    torch.manual_seed(0)  # the MC-dropout draws, so the weights reproduce run to run
    with torch.inference_mode():
        for name, inputs in (("clean", x), ("mr_noise", noisy), ("mr_missing", {"CT": x["CT"]})):
            o = model(inputs, mc_samples=mc_samples)
            w = precision_weights(o.branches, o.branch_mask).mean(0).cpu().numpy()
            out[name] = {"CT": float(w[0]), "MR": float(w[1])}
    return out


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
        base = mapper.predict(mr_to_unit(mr.array)[0], head_mask_from_mr(mr.array))
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
        fake = torch.cat([vae({"MR": mr[i : i + 256]}).recon["CT"] for i in range(0, len(mr), 256)]).clamp(-1, 1)
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
    vols = {"CT": subject.ct, "MR": subject.mr_on_ct_grid()}
    n = subject.ct.shape[0]
    clf, vae = load_model("clf-intermediate-concat", device=device), load_model("vae-poe", device=device)
    cases = {
        "classify_intermediate_concat": lambda bs: classify(clf, vols, mc_samples=1, batch_size=bs),
        "impute_vae_mr_to_ct": lambda bs: impute(vae, {"MR": vols["MR"]}, "CT", batch_size=bs),
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
    """Write the test-split numbers into each model card under "benchmarks"."""
    cls = results["classification"]["strategies"]
    for name in list_models():
        path = ASSETS_DIR / name / "model_card.json"
        card = json.loads(path.read_text())
        bench = {"source": "benchmarks/bench_models.py", "split": "test"}
        if name.startswith("clf-"):
            bench["auc"] = {k: v for k, v in cls[name[4:]].items()}
        elif name in results["generation"]:
            bench["mr_to_ct"] = results["generation"][name]
        if name == "clf-intermediate-concat":
            bench["throughput"] = results["throughput"]["classify_intermediate_concat"] | {
                "device": results["throughput"]["device"]
            }
        if name == "clf-uncertainty-late":
            bench["fusion_weights"] = results["uncertainty_late_weights"]
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
    clf_data = load_train_config(CONFIGS / "clf-poe.json").data_config()
    gen_data = load_train_config(CONFIGS / "vae-poe.json").data_config()
    table, gen_table = build_slice_table(clf_data), build_slice_table(gen_data)
    results = {
        "classification": bench_classifiers(table, clf_data, args.n_boot, device),
        "generation": bench_generation(gen_data, gen_table, args.gen_subjects, device),
        "coherence": bench_coherence(gen_table, args.n_boot, device),
        "uncertainty_late_weights": bench_uncertainty_weights(table, device),
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
    st = r["classification"]["strategies"]
    return {
        "slice_auc": {s: round(v["slice"]["auc"], 3) for s, v in st.items()},
        "subject_auc": {s: round(v["subject"]["auc"], 3) for s, v in st.items()},
        "slice_auc_by_lesion": {
            s: {g: round(a, 3) for g, a in v["slice_auc_by_lesion"].items()} for s, v in st.items()
        },
        "intermediate_minus_best_unimodal": {
            lv: {"best_unimodal": g["best_unimodal"]}
            | {k: [round(v[x], 3) for x in ("difference", "low", "high")] for k, v in g["gain"].items()}
            for lv, g in r["classification"]["intermediate_minus_best_unimodal"].items()
        },
        "poe_missing_vs_specialist": r["classification"]["poe_missing_vs_specialist"],
        "generation": {k: v for k, v in r["generation"].items() if k != "baseline_classes"},
        "coherence": {k: (v["auc"] if isinstance(v, dict) else v) for k, v in r["coherence"].items()},
        "uncertainty_late_weights": r["uncertainty_late_weights"],
        "throughput": r["throughput"],
    }


if __name__ == "__main__":
    raise SystemExit(main())

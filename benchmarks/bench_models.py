"""Benchmark the shipped generative models (classifiers: ``benchmarks/bench_classifiers.py``).

Measures, each side by side with its baseline in the same run, on held-out subjects of the app's
demo spec (people no generator was trained on):

* cross-modal generation with every generator (PoE VAE, unpaired CycleGAN, the same CycleGAN
  trained paired) and a tissue-class baseline (k-means on the T1 within the head, each class its
  mean training HU): MR->CT whole-head and per-tissue MAE (HU), PSNR, SSIM, bone Dice, and CT->MR
  MAE/PSNR/SSIM (``fusion_core.evaluation.generation_metrics``, the metric the page shows), with
  seconds per volume;
* VAE coherence: the CT and MR decoded from the joint, the CT-only and the MR-only posterior,
  each against the truth, and the gap between the joint and each unimodal reconstruction;
* cross-modal retrieval in the VAE's latent space: for each CT slice of ``--retrieval-subjects``
  demo subjects, all MR slices ranked by the standardised Euclidean distance between CT-only and
  MR-only posterior means; Recall@1/5/10 with +-1 slice tolerance, against chance;
* coherence with a classifier: the CT-only classifier on VAE-generated CT vs on the real CT;
* throughput (slices/s) of ``classify`` and ``impute`` on a phantom volume, batched vs a per-slice loop.

Writes ``benchmarks/results/bench_models.json`` and adds the numbers to the generators' cards.

Run:  .venv/bin/python -m benchmarks.bench_models [--gen-subjects 12] [--retrieval-subjects 20] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.evaluation import auc_with_ci, fit_tissue_mapper, generation_metrics
from fusion_core.inference import ASSETS_DIR, classify, crop_fraction, impute, load_model
from fusion_core.preprocess.masks import mr_head_mask
from fusion_core.preprocess.network import mr_to_unit, unit_to_ct
from fusion_core.preprocess.slices import crop_slices, resize_slices
from fusion_core.training.config import load_train_config
from fusion_core.training.slice_table import SPLITS, build_slice_table, table_images

RESULTS = Path(__file__).parent / "results" / "bench_models.json"
CONFIGS = Path(__file__).parent.parent / "configs"
TEST = SPLITS.index("test")
GENERATORS = ("vae-poe", "translator-cyclegan", "translator-cyclegan-paired")
BASELINE = "tissue-class-baseline"
RETRIEVAL_HEAD_FRACTION = 0.2  # slices whose head covers at least this much of the slice (as in training)


def slice_logits(model, x: dict[str, torch.Tensor], batch: int = 256) -> np.ndarray:
    """Final logits of a classifier's network on (N, C, S, S) tensors (any subset of modalities)."""
    out = []
    with torch.inference_mode():
        for i in range(0, next(iter(x.values())).shape[0], batch):
            out.append(model.network({m: v[i : i + batch] for m, v in x.items()}).logit.float().cpu())
    return torch.cat(out).numpy()


def fit_baseline(table):
    rows = table["split"] == SPLITS.index("train")
    return fit_tissue_mapper(table["MR"][rows], unit_to_ct(table["CT"][rows]), table["head"][rows])


def mean_rows(rows: list[dict[str, float]]) -> dict[str, float]:
    """Per-key mean over subjects (NaN-aware: a tissue absent from one subject does not void the mean)."""
    return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def demo_truth(subject):
    """Real CT, MR-T1 on the CT grid, head and brain masks of a demo subject."""
    brain = subject.masks.get("brain")
    return (
        subject.ct,
        subject.mr_on_ct_grid(),
        subject.masks["head"].array > 0.5,
        None if brain is None else brain.array > 0.5,
    )


def bench_generation_on_demo(limit: int, device, mapper, names: tuple[str, ...] = GENERATORS) -> dict:
    """Generators (and the baseline) on the first ``limit`` demo subjects: MR->CT, CT->MR, seconds per volume."""
    spec = get_cohort_spec("demo")
    models = {name: load_model(name, device=device) for name in names}
    rows: dict[str, dict[str, list]] = {k: {"mr_to_ct": [], "ct_to_mr": [], "seconds": []} for k in (*names, BASELINE)}
    coherence: dict[str, list] = {}
    for i in tqdm(range(limit), desc="generation on demo"):
        ct, mr, head, brain = demo_truth(spec.subject(i))
        base, dt = timed(lambda mr=mr: mapper.predict(mr_to_unit(mr.array)[0], mr_head_mask(mr.array)))
        rows[BASELINE]["mr_to_ct"].append(generation_metrics(base, ct.array, head, brain=brain).as_row())
        rows[BASELINE]["seconds"].append(dt)
        for name, model in models.items():
            fake_ct, dt = timed(lambda m=model, mr=mr: impute(m, {"MR": mr}, "CT"))
            fake_mr = impute(model, {"CT": ct}, "MR")
            rows[name]["mr_to_ct"].append(generation_metrics(fake_ct.array, ct.array, head, brain=brain).as_row())
            rows[name]["ct_to_mr"].append(
                generation_metrics(fake_mr.array, mr.array, head, target="MR", real_ct=ct.array, brain=brain).as_row()
            )
            rows[name]["seconds"].append(dt)
        if "vae-poe" in models:
            for key, value in vae_coherence(models["vae-poe"], ct, mr, head, brain).items():
                coherence.setdefault(key, []).append(value)
    summary = {
        name: {
            "mr_to_ct": mean_rows(r["mr_to_ct"]),
            **({"ct_to_mr": mean_rows(r["ct_to_mr"])} if r["ct_to_mr"] else {}),
            "seconds_per_volume": float(np.mean(r["seconds"])),
        }
        for name, r in rows.items()
    }
    b = summary[BASELINE]["mr_to_ct"]["mae"]
    for name in names:
        summary[name]["mr_to_ct"]["mae_reduction_vs_baseline"] = 1 - summary[name]["mr_to_ct"]["mae"] / b
    if coherence:
        summary["vae-poe"]["coherence"] = {k: float(np.mean(v)) for k, v in coherence.items()}
    summary["n_subjects"] = limit
    summary["volume_shape"] = list(ct.shape)
    summary["baseline_classes"] = {"centers_unit": mapper.centers.tolist(), "hu": mapper.hu.tolist()}
    return summary


def vae_coherence(vae, ct, mr, head, brain) -> dict[str, float]:
    """MAE of the CT and the MR decoded from the joint, CT-only and MR-only posteriors, and joint-vs-unimodal gaps."""
    out: dict[str, float] = {}
    given = {"joint": {"CT": ct, "MR": mr}, "ct_only": {"CT": ct}, "mr_only": {"MR": mr}}
    decoded = {(p, t): impute(vae, v, t).array for p, v in given.items() for t in ("CT", "MR")}
    for (posterior, target), array in decoded.items():
        real = ct.array if target == "CT" else mr.array
        out[f"{target.lower()}_mae_from_{posterior}"] = generation_metrics(
            array, real, head, target=target, real_ct=ct.array, brain=brain
        ).mae
    for target in ("CT", "MR"):
        for posterior in ("ct_only", "mr_only"):
            gap = np.abs(decoded[("joint", target)] - decoded[(posterior, target)])[head].mean()
            scale = 1.0 if target == "CT" else np.percentile(mr.array[head], 99)
            out[f"{target.lower()}_gap_joint_vs_{posterior}"] = float(gap / scale)
    return out


def bench_retrieval(n_subjects: int, device) -> dict:
    """Cross-modal retrieval with the VAE's CT-only and MR-only posterior means on held-out demo subjects."""
    from fusion_core.latents import encode_cohort, retrieval_chance, retrieval_recall

    spec = get_cohort_spec("demo")
    vae = load_model("vae-poe", device=device)
    subjects = [spec.subject(spec.n - 1 - i) for i in range(n_subjects)]  # the demo's last subjects
    cases = [s.to_case() for s in subjects]
    tables = {p: encode_cohort(vae, cases, posterior=p) for p in ("CT", "MR")}
    keep = np.concatenate(
        [(s.masks["head"].array > 0.5).reshape(s.ct.shape[0], -1).mean(1) >= RETRIEVAL_HEAD_FRACTION for s in subjects]
    )
    ct, mr = tables["CT"], tables["MR"]
    meta_ct, meta_mr = ct.meta[keep].reset_index(drop=True), mr.meta[keep].reset_index(drop=True)
    recall = retrieval_recall(ct.latents[keep], mr.latents[keep], meta_ct, meta_mr)
    chance = retrieval_chance(meta_ct, meta_mr)
    n = int(keep.sum())
    return {
        "recall": {f"R@{k}": v for k, v in recall.items()},
        "chance": {f"R@{k}": v for k, v in chance.items()},
        "n_slices": n,
        "n_subjects": n_subjects,
        "latent_dim": int(ct.latents.shape[1]),
        "distance": "Euclidean on standardised CT-only vs MR-only posterior means, +-1 slice",
    }


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
    demo = results["generation_on_demo"]
    for name in results["settings"]["models"]:
        path = ASSETS_DIR / name / "model_card.json"
        card = json.loads(path.read_text())
        bench = {
            "source": "benchmarks/bench_models.py",
            "cohort": {"spec": "demo", "split": "test", "n_subjects": demo["n_subjects"]},
            **demo[name],
            "baseline_mr_to_ct": demo[BASELINE]["mr_to_ct"],
            "device": results["throughput"]["device"],
        }
        if name == "vae-poe" and results["retrieval"]:
            bench["retrieval"] = results["retrieval"]
            if "impute_vae_mr_to_ct" in results["throughput"]:
                bench["throughput"] = results["throughput"]["impute_vae_mr_to_ct"]
            if results["coherence"]:
                bench["classifier_coherence"] = results["coherence"]
        card["benchmarks"] = bench
        path.write_text(json.dumps(card, indent=2))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--gen-subjects", type=int, default=12)
    p.add_argument("--retrieval-subjects", type=int, default=20)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--no-cards", action="store_true")
    p.add_argument("--models", nargs="*", default=list(GENERATORS), choices=GENERATORS, help="generators to measure")
    p.add_argument(
        "--skip", nargs="*", default=[], choices=["retrieval", "coherence", "throughput"], help="parts to leave out"
    )
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    gen_data = load_train_config(CONFIGS / "vae-poe.json").data_config()
    gen_table = build_slice_table(gen_data)
    results = {
        "generation_on_demo": bench_generation_on_demo(
            args.gen_subjects, device, fit_baseline(gen_table), tuple(args.models)
        ),
        "retrieval": {} if "retrieval" in args.skip else bench_retrieval(args.retrieval_subjects, device),
        "coherence": {} if "coherence" in args.skip else bench_coherence(gen_table, args.n_boot, device),
        "throughput": {"device": str(device)} if "throughput" in args.skip else bench_throughput(device),
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
        "generation_on_demo": {k: v for k, v in r["generation_on_demo"].items() if k != "baseline_classes"},
        "retrieval": r["retrieval"],
        "coherence": {k: (v["auc"] if isinstance(v, dict) else v) for k, v in r["coherence"].items()},
        "throughput": r["throughput"],
    }


if __name__ == "__main__":
    raise SystemExit(main())

"""Lesion classifiers on the demo spec's held-out subjects: the clinicians' table of every strategy.

Reads the shipped per-subject scores (``assets/models/clf-*/scores.csv``, written by
``python -m fusion_core.evaluation.runner --spec demo --split test --write``, i.e. every demo
subject through ``classify`` as the app runs it) and measures, with bootstrap CIs:

* the classification table (AUC, accuracy, F1, precision, recall, specificity at Youden's
  threshold) of every strategy: complete input, CT only, MR only;
* the best intermediate fusion against the best unimodal model (paired bootstrap difference);
* PoE with a modality missing against that modality's specialist;
* AUC per lesion type (each type's positives against every negative);
* the uncertainty-weighted model's per-modality fusion weights: clean, MR replaced by noise, MR missing;
* optionally (``--compare-mr A B``) two MR specialists scored on the same subjects (T1 vs T1+T2).

Usage::

    python -m benchmarks.bench_classifiers [--n-boot 1000] [--compare-mr runs/exp/mr-T1 runs/exp/mr-T1+T2]

Writes ``benchmarks/results/bench_classifiers.json`` and the test numbers into each classifier card.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from fusion_core.evaluation import (
    auc_difference_ci,
    auc_score,
    auc_with_ci,
    classification_table,
    independence_bound,
    read_scores,
    score_column,
)
from fusion_core.inference import ASSETS_DIR, list_models, load_model

RESULTS = Path(__file__).parent / "results" / "bench_classifiers.json"
INTERMEDIATE = ("intermediate-concat", "intermediate-tensor", "intermediate-attention")


def subsets_of(table) -> dict[str, str]:
    """ "complete" / "CT only" / "MR only" -> the subset key present in a scores table."""
    full = table.full_subset
    named = {"complete": full}
    for key in table.subsets:
        if key != full:
            named["CT only" if key == "CT" else "MR only"] = key
    return named


def strategy_block(table, n_boot: int) -> dict:
    frame = table.frame
    labels = frame["label"].to_numpy()
    out = {}
    for name, key in subsets_of(table).items():
        scores = frame[score_column(key)].to_numpy()
        out[name] = {
            "subset": key,
            "auc": auc_with_ci(labels, scores, n_boot=n_boot).as_dict(),
            "table": classification_table(labels, scores, n_boot=n_boot).as_dict(),
            "auc_by_lesion": by_lesion(frame, scores),
        }
    return out


def by_lesion(frame, scores: np.ndarray) -> dict[str, float]:
    """AUC of each lesion type's positive subjects against every negative subject."""
    labels, kinds = frame["label"].to_numpy(), frame["lesion_type"].to_numpy()
    out = {}
    for kind in sorted(set(kinds[labels == 1])):
        keep = (labels == 0) | (kinds == kind)
        out[kind] = auc_score(labels[keep], scores[keep])
    return out


def paired(table_a, key_a: str, table_b, key_b: str, n_boot: int) -> dict:
    """AUC(a) - AUC(b) on the same subjects, paired bootstrap CI."""
    a, b = table_a.frame.set_index("subject_id"), table_b.frame.set_index("subject_id").loc[table_a.frame["subject_id"]]
    return dict(
        auc_difference_ci(
            a["label"].to_numpy(), a[score_column(key_a)].to_numpy(), b[score_column(key_b)].to_numpy(), n_boot=n_boot
        )
    )


def fusion_gain(tables: dict, n_boot: int) -> dict:
    """Each intermediate strategy minus the best unimodal model (subject level)."""
    uni = {"ct": tables["clf-ct"], "mr": tables["clf-mr"]}
    auc = {k: auc_score(t.frame["label"], t.frame[score_column(t.full_subset)]) for k, t in uni.items()}
    best = max(auc, key=auc.get)
    best_table = uni[best]
    gains = {
        s: paired(tables[f"clf-{s}"], tables[f"clf-{s}"].full_subset, best_table, best_table.full_subset, n_boot)
        for s in INTERMEDIATE
    }
    top = max(gains, key=lambda s: gains[s]["difference"])
    return {
        "best_unimodal": best,
        "unimodal_auc": auc,
        "gain": gains,
        "best_intermediate": top,
        "target": "best intermediate >= best unimodal + 0.08 with a CI excluding 0",
        "met": bool(gains[top]["difference"] >= 0.08 and gains[top]["low"] > 0),
        "independence_bound": independence_bound(auc["ct"], auc["mr"]),
    }


def poe_missing(tables: dict, n_boot: int) -> dict:
    poe = tables["clf-poe"]
    out = {}
    for alone, specialist in (("CT", "clf-ct"), ("MR", "clf-mr")):
        key = next(k for k in poe.subsets if (k == "CT") == (alone == "CT") and k != poe.full_subset)
        spec = tables[specialist]
        diff = paired(poe, key, spec, spec.full_subset, n_boot)
        out[alone] = diff | {"within_0.03": bool(diff["difference"] >= -0.03)}
    return out


def uncertainty_weights(n_subjects: int = 6, mc_samples: int = 8) -> dict:
    """Mean precision weight per modality of the uncertainty-late model on demo subjects' brain slices."""
    from fusion_core.data.cohorts import get_cohort_spec
    from fusion_core.inference import to_network
    from fusion_core.models.classifiers import precision_weights

    model = load_model("clf-uncertainty-late", device="cpu")
    spec = get_cohort_spec("demo")
    sums = {"clean": [], "mr_noise": [], "mr_missing": []}
    torch.manual_seed(0)
    for i in range(n_subjects):
        case = spec.subject(i).to_case().aligned()
        x = to_network(model, {"CT": case.ct, **case.mr_weightings})
        noisy = {
            "CT": x["CT"],
            "MR": torch.randn(x["MR"].shape, generator=torch.Generator().manual_seed(i)).clamp(-1, 1),
        }
        with torch.inference_mode():
            for name, inputs in (("clean", x), ("mr_noise", noisy), ("mr_missing", {"CT": x["CT"]})):
                o = model.network(inputs, mc_samples=mc_samples)
                sums[name].append(precision_weights(o.branches, o.branch_mask).mean(0).numpy())
    return {k: dict(zip(("CT", "MR"), np.mean(v, axis=0).round(4).tolist(), strict=True)) for k, v in sums.items()}


def compare_mr(dirs: list[str], n_boot: int) -> dict:
    """Score MR specialists on the demo subjects (the same path as the shipped scores) and compare them."""
    from fusion_core.data.cohorts import get_cohort_spec
    from fusion_core.evaluation.runner import score_models

    models = {Path(d).name: load_model(d, device="cpu") for d in dirs}
    tables = score_models(models, get_cohort_spec("demo"), "test", progress=True)
    out = {
        name: {
            "inputs": list(models[name].card.inputs),
            "auc": auc_with_ci(t.frame["label"], t.frame[score_column(t.full_subset)], n_boot=n_boot).as_dict(),
            "auc_by_lesion": by_lesion(t.frame, t.frame[score_column(t.full_subset)].to_numpy()),
            "val_auc_slice": models[name].card.metrics.get("val_auc"),
        }
        for name, t in tables.items()
    }
    names = list(tables)
    if len(names) == 2:
        a, b = tables[names[1]], tables[names[0]]
        out[f"{names[1]} - {names[0]}"] = paired(a, a.full_subset, b, b.full_subset, n_boot)
    return out


def update_cards(results: dict) -> None:
    for name, block in results["strategies"].items():
        path = ASSETS_DIR / name / "model_card.json"
        card = json.loads(path.read_text())
        card["benchmarks"] = {"source": "benchmarks/bench_classifiers.py", "spec": "demo", "split": "test"} | block
        card["metrics"] = {k: v for k, v in card.get("metrics", {}).items() if k.startswith("val_")} | {
            "test_auc": block["complete"]["auc"]["auc"],
            "test_auc_low": block["complete"]["auc"]["low"],
            "test_auc_high": block["complete"]["auc"]["high"],
        }
        path.write_text(json.dumps(card, indent=2))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--compare-mr", nargs=2, metavar="DIR", help="two MR specialist checkpoint folders to compare")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--no-cards", action="store_true")
    args = p.parse_args(argv)
    start = time.perf_counter()
    tables = {name: read_scores(ASSETS_DIR / name) for name in list_models(task="classifier")}
    results = {
        "spec": "demo",
        "split": "test",
        "n_subjects": len(next(iter(tables.values())).frame),
        "n_positive": int(next(iter(tables.values())).frame["label"].sum()),
        "strategies": {name: strategy_block(t, args.n_boot) for name, t in tables.items()},
        "intermediate_minus_best_unimodal": fusion_gain(tables, args.n_boot),
        "poe_missing_vs_specialist": poe_missing(tables, args.n_boot),
        "uncertainty_late_weights": uncertainty_weights(),
    }
    if args.compare_mr:
        results["mr_inputs"] = compare_mr(args.compare_mr, args.n_boot)
    results["seconds"] = time.perf_counter() - start
    results["settings"] = vars(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=float))
    if not args.no_cards:
        update_cards(results)
    print(json.dumps(headline(results), indent=2, default=float))
    return 0


def headline(r: dict) -> dict:
    return {
        "auc": {
            name: {sub: [round(b["auc"][k], 3) for k in ("auc", "low", "high")] for sub, b in block.items()}
            for name, block in r["strategies"].items()
        },
        "intermediate_minus_best_unimodal": r["intermediate_minus_best_unimodal"],
        "poe_missing_vs_specialist": r["poe_missing_vs_specialist"],
        "uncertainty_late_weights": r["uncertainty_late_weights"],
        "mr_inputs": r.get("mr_inputs"),
    }


if __name__ == "__main__":
    raise SystemExit(main())

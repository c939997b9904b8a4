"""Do the classifiers' maps point at the lesion, how do the fusion weights move, and how fast is each map?

1. Agreement with the truth: on held-out lesion subjects of the demo cohort (its test split, never
   trained on), for every shipped classifier and its CT and MR maps (Grad-CAM, Integrated Gradients,
   the lesion-map heads): the share of the map's positive mass inside the lesion and the pointing
   game (maximum within 2 px of the lesion), per lesion type, on the slices through the lesion —
   against a random map over the same model window (expected values: lesion area / window area and
   grown-lesion area / window area), computed on the same slices in the same run.
2. Fusion weights vs noise: ``clf-uncertainty-late``'s precision weights as one modality is
   re-acquired with more noise by the phantom's scanner model (``evaluation.shift``), and removed.
3. Seconds per slice of each map on this machine's CPU (median over slices), against the 1 s target
   for attention and Grad-CAM. The first map of a volume also scales the whole volume for the network
   (kept for the next slices); it is timed apart.

4. The per-pair table (model x method x Grad-CAM depth, averaged over the CT and MR maps the page shows)
   is also written to ``assets/explain/agreement.json``, the table ``explain.recommended_attribution``
   (the pair the Attention page opens on) reads; only a run over every shipped classifier writes it.

Run:  .venv/bin/python -m benchmarks.bench_explain [--subjects 12] [--slices 3] [--threads 1] [--models clf-early ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from fusion_core import explain
from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.data.splits import member_labels, split_indices
from fusion_core.evaluation.shift import ShiftSetting, shifted_volumes
from fusion_core.explain.recommend import AGREEMENT_FILE, RULE
from fusion_core.inference import crop_fraction, list_models, load_model
from fusion_core.preprocess.slices import crop_window

RESULTS = Path(__file__).parent / "results" / "bench_explain.json"
NOISE_FACTORS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
TOLERANCE_PX = 2
TARGET_S = 1.0
AGREEMENT_FIELDS = ("in_lesion", "random_in_lesion", "pointing", "random_pointing")
HEAD = "lesion-map head"


def lesion_subjects(n: int) -> list[int]:
    """Up to ``n`` lesion subjects of the demo test split, alternating lesion types."""
    spec = get_cohort_spec("demo")
    labels = member_labels(spec)
    test = [i for i in split_indices(spec, "test") if labels[i] == 1]
    by_type = defaultdict(list)
    for i in test:
        by_type[spec.subject(i).meta["lesion_type"]].append(i)
    order = [i for group in zip(*by_type.values(), strict=False) for i in group]
    return (order + [i for i in test if i not in order])[:n]


def lesion_slices(mask: np.ndarray, k: int) -> list[int]:
    """The ``k`` slices with the most lesion."""
    area = mask.sum((1, 2))
    return [int(i) for i in np.argsort(area)[::-1][:k] if area[i] > 0]


def window(model, shape) -> np.ndarray:
    ys, xs = crop_window(shape, crop_fraction(model))
    out = np.zeros(shape, dtype=bool)
    out[ys, xs] = True
    return out


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def map_methods(model) -> list[tuple[str, int | None]]:
    """(method, Grad-CAM depth) pairs to measure: Grad-CAM at every encoder depth (None: the last), and IG."""
    depths = range(explain.gradcam_depths(model) - 1)
    return [("gradcam", None), *(("gradcam", d) for d in depths), ("integrated_gradients", None)]


def slice_maps(model, volumes: dict, k: int, seconds: dict, first: bool) -> dict[tuple, np.ndarray]:
    """(method, depth, modality) -> map of one slice; the default-depth maps are timed."""
    maps = {}
    for method, depth in map_methods(model):
        result, dt = timed(explain.attribution_map, model, volumes, k, method=method, depth=depth)
        if depth is None:  # the first call on a volume also scales the whole volume for the network
            seconds[f"{method} (first call on a volume)" if first and method == "gradcam" else method].append(dt)
        maps |= {(method, depth, m): a for m, a in result.items()}
    return maps


def map_label(method: str, depth: int | None) -> str:
    return method if depth is None else f"{method} (depth {depth})"


def agreement_rows(models: dict, subjects: list[int], n_slices: int, seconds: dict, on_subject=None) -> list[dict]:
    """One row per (model, map, modality, subject, slice) with the map's and a random map's agreement.

    ``on_subject(rows, subjects_done)`` runs after each subject (the table is saved as it grows).
    """
    spec = get_cohort_spec("demo")
    rows = []
    for index in subjects:
        subject = spec.subject(index)
        case = subject.to_case().aligned()
        volumes = {"CT": case.ct, **case.mr_weightings}
        mask = case.masks["lesion"].array > 0.5
        for name, model in models.items():
            lesion_maps = {}
            if model.config.lesion_maps:
                heads, dt = timed(explain.lesion_maps, model, volumes)
                seconds["lesion-map heads (whole volume, per slice)"].append(dt / case.ct.shape[0])
                lesion_maps = {k: v.array for k, v in heads.items()}
            support = window(model, mask.shape[1:])
            for j, k in enumerate(lesion_slices(mask, n_slices)):
                maps = slice_maps(model, volumes, k, seconds, first=j == 0)
                maps |= {(HEAD, None, m): a[k] for m, a in lesion_maps.items()}
                for (method, depth, modality), a in maps.items():
                    agree = explain.agreement(a, mask[k], support, tolerance_px=TOLERANCE_PX)
                    rows.append(
                        {
                            "model": name, "strategy": model.config.strategy, "map": map_label(method, depth),
                            "method": method, "depth": depth, "modality": modality,
                            "subject": subject.subject_id, "lesion_type": subject.meta["lesion_type"], "slice": k,
                            **{f: getattr(agree, f) for f in AGREEMENT_FIELDS},
                        }
                    )  # fmt: skip
        print(f"{subject.subject_id} done", flush=True)
        if on_subject is not None:
            on_subject(rows, subjects[: subjects.index(index) + 1])
    return rows


def nan_mean(values: list[float]) -> float | None:
    """Mean over the defined values (a map that is zero everywhere has no in-lesion fraction); None if none."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def grouped(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, list[dict]]:
    """Rows grouped on ``keys`` + lesion type, each row also counted under lesion type "all"."""
    groups = defaultdict(list)
    for r in rows:
        for lesion in (r["lesion_type"], "all"):
            groups[(*(r[k] for k in keys), lesion)].append(r)
    return groups


def summarise(rows: list[dict]) -> list[dict]:
    """Mean agreement per (model, map, modality, lesion type), with 'all' over types."""
    out = []
    for (model, kind, modality, lesion), rs in sorted(grouped(rows, ("model", "map", "modality")).items()):
        mean = {f: nan_mean([r[f] for r in rs]) for f in AGREEMENT_FIELDS}
        out.append(
            {
                "model": model, "map": kind, "modality": modality, "lesion_type": lesion, "n_slices": len(rs),
                **mean,
            }
        )  # fmt: skip
    return out


def pair_table(rows: list[dict]) -> list[explain.PairAgreement]:
    """Mean agreement per (model, method, depth, lesion type) over slices and the modality maps the page shows."""
    groups = grouped(rows, ("model", "method", "depth"))
    return [
        explain.PairAgreement(
            model=model,
            method=method,
            depth=depth,
            lesion_type=lesion,
            n_slices=len({(r["subject"], r["slice"]) for r in rs}),
            **{f: nan_mean([r[f] for r in rs]) for f in AGREEMENT_FIELDS},
        )
        for (model, method, depth, lesion), rs in sorted(groups.items(), key=lambda kv: str(kv[0]))
    ]


def print_pairs(pairs: list[explain.PairAgreement]) -> None:
    """The "all"-types pairs, best pointing game first."""
    print(f"{'model':28s} {'method':34s} pointing random in-lesion random")
    for p in sorted((p for p in pairs if p.lesion_type == "all"), key=lambda p: -p.pointing):
        print(
            f"{p.model:28s} {p.label:34s} {p.pointing:8.2f} {p.random_pointing:6.2f} "
            f"{p.in_lesion or float('nan'):9.2f} {p.random_in_lesion:6.2f}"
        )


def write_table(pairs: list[explain.PairAgreement], header: dict, path: Path) -> None:
    """The shipped agreement table that ``explain.recommended_attribution`` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**header, "rule": RULE, "pairs": [dataclasses.asdict(p) for p in pairs]}, indent=1))


def weight_curves(index: int, slices: list[int]) -> dict:
    """clf-uncertainty-late's mean weights over ``slices`` vs the noise factor on each modality, and removed."""
    model = load_model("clf-uncertainty-late", device="cpu")
    spec = get_cohort_spec("demo")
    curves = {}
    for noisy in ("MR", "CT"):
        levels = []
        for factor in NOISE_FACTORS:
            volumes, _ = shifted_volumes(spec, index, ShiftSetting(modality=noisy, noise=factor))
            w = [explain.fusion_weights(model, volumes, k) for k in slices]
            levels.append({m: float(np.mean([x[m] for x in w])) for m in ("CT", "MR")})
        kept = {k: v for k, v in volumes.items() if not k.startswith(noisy)}
        removed = [explain.fusion_weights(model, kept, k) for k in slices]
        curves[noisy] = {
            "noise_factor": list(NOISE_FACTORS),
            "weights": levels,
            "removed": {m: float(np.mean([x[m] for x in removed])) for m in ("CT", "MR")},
        }
    return curves


def attention_seconds(index: int, slices: list[int], seconds: dict) -> None:
    model = load_model("clf-intermediate-attention", device="cpu")
    case = get_cohort_spec("demo").subject(index).to_case().aligned()
    volumes = {"CT": case.ct, **case.mr_weightings}
    shape = case.ct.shape[1:]
    for k in slices:
        start = time.perf_counter()
        layers = explain.attention_layers(model, volumes, k)
        weights = explain.attention_view(layers["CT->MR"])
        explain.attention_on_grid(weights, (shape[0] // 2, shape[1] // 2), shape, crop_fraction(model))
        seconds["attention (all heads, one query on the grid)"].append(time.perf_counter() - start)
        _, dt = timed(explain.evidence_uncertainty, model, volumes, k)
        seconds["MC-dropout + aleatoric maps (8 draws)"].append(dt)
        _, dt = timed(explain.modality_importance, model, volumes, k)
        seconds["modality ablation"].append(dt)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=6, help="held-out lesion subjects")
    parser.add_argument("--slices", type=int, default=2, help="slices through the lesion per subject")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1: these tiny networks gain nothing from more)"
    )
    parser.add_argument("--models", nargs="+", help="only these classifiers (default: every shipped one)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--table", type=Path, default=AGREEMENT_FILE, help="the shipped agreement table (written only for every model)"
    )
    return parser.parse_args(argv)


def load_classifiers(names: list[str] | None) -> dict:
    shipped = list_models(task="classifier")
    unknown = sorted(set(names or ()) - set(shipped))
    if unknown:
        raise SystemExit(f"not shipped classifiers: {unknown}; shipped: {shipped}")
    return {name: load_model(name, device="cpu") for name in (names or shipped)}


def save_results(args: argparse.Namespace, command: str, rows: list[dict], done: list[int], **rest) -> None:
    """The results so far (and the shipped table, for a run over every model): kept after each subject."""
    pairs = pair_table(rows)
    best = explain.recommend.pick_recommended(pairs)
    cohort = {"spec": "demo", "split": "test", "subjects": done, "slices_per_subject": args.slices}
    header = {"command": command, "cohort": cohort, "tolerance_px": TOLERANCE_PX}
    result = {
        **header,
        "machine": {"cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads()},
        "agreement": summarise(rows),
        "pairs": [dataclasses.asdict(p) for p in pairs],
        "recommended": best and dataclasses.asdict(best),
        **rest,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    if args.models is None:
        write_table(pairs, header, args.table)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    subjects = lesion_subjects(args.subjects)
    models = load_classifiers(args.models)
    seconds: dict[str, list[float]] = defaultdict(list)
    case = get_cohort_spec("demo").subject(0).to_case().aligned()  # warm-up: imports
    explain.attribution_map(next(iter(models.values())), {"CT": case.ct, **case.mr_weightings}, 40)
    command = " ".join(["python -m benchmarks.bench_explain", *(sys.argv[1:] if argv is None else argv)])
    save = functools.partial(save_results, args, command)
    rows = agreement_rows(models, subjects, args.slices, seconds, on_subject=save)
    mask = get_cohort_spec("demo").subject(subjects[0]).to_case().aligned().masks["lesion"].array > 0.5
    slices = lesion_slices(mask, args.slices)
    attention_seconds(subjects[0], slices, seconds)
    result = {
        "fusion_weights_vs_noise": {"subject": subjects[0], "slices": slices, **weight_curves(subjects[0], slices)},
        "seconds_per_slice": {
            k: {"median": float(np.median(v)), "max": float(np.max(v)), "n": len(v), "target": TARGET_S}
            for k, v in seconds.items()
        },
    }
    save(rows, subjects, **result)
    pairs = pair_table(rows)
    print_pairs(pairs)
    print("recommended:", explain.recommend.pick_recommended(pairs))
    print(json.dumps(result["seconds_per_slice"], indent=1))
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

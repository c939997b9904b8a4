"""Retrain every shipped checkpoint from scratch: ``python -m fusion_core.training.train_all``.

Each ``configs/<name>.json`` whose name is listed in ``SHIPPED`` is trained into
``assets/models/<name>/`` (weights, config.json, trainer.json, metrics, model_card.json); the
resumable optimiser state goes to ``runs/<name>/`` so it never ships. Each cohort is generated once
and cached under ``fusion_core.paths.cache_dir("slices")``. Each model card records its own ``train_seconds``
and exact command;
``python -m benchmarks.bench_generation`` sums the generators' (the issue's "under 60 minutes").

Measured on 2 CPU cores: the ten classifiers about 9 min with their 200-subject cohort;
translator-cyclegan (64x64) 6 min. The 128x128 generators, each on one thread beside another
training (two at a time on the two cores, so slower than alone): synth-unet 30 epochs of 2.5-D
slices 80 min, vae-poe 8 epochs of whole slices 70 min, synth-unet-ct2mr 12 epochs 43 min
(three trainings on two cores), synth-unet-t1 10 epochs 24 min, translator-cyclegan-paired 895
steps 45 min; diffusion-refiner 5 epochs on two threads (see its card); translator-unpaired: its
pseudo-pairs (25 registrations, about 15 min) then the U-Net on two threads (see its card).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.evaluation.runner import score_models
from fusion_core.evaluation.scores_io import SCORES_FILE, write_scores
from fusion_core.inference import load_model
from fusion_core.models.config import Strategy
from fusion_core.training.config import load_train_config
from fusion_core.training.loop import train
from fusion_core.training.pseudo_pairs import build_pseudo_pairs

SHIPPED: tuple[str, ...] = (
    "vae-poe",
    *(f"clf-{s.value}" for s in Strategy),
    "translator-cyclegan",
    "translator-cyclegan-paired",
)
# the paired generators: diffusion-refiner starts from synth-unet's weights (init_from), so it comes after it
SHIPPED += ("synth-unet", "synth-unet-t1", "synth-unet-ct2mr", "diffusion-refiner")
# the unpaired U-Net: trained on pseudo-pairs of translator-train, built first (fusion_core.training.pseudo_pairs)
PSEUDO_PAIRED: tuple[str, ...] = ("translator-unpaired",)
SHIPPED += PSEUDO_PAIRED


def train_one(name: str, *, configs: Path, assets: Path, runs: Path, progress: bool) -> dict:
    """Train one shipped model from its config into ``assets``.

    Returns:
        Its name, training seconds and best validation metrics.
    """
    config = load_train_config(configs / f"{name}.json")
    if name in PSEUDO_PAIRED:  # its cohort folder first (kept when it is already complete)
        build_pseudo_pairs(out=config.data["cohort_dir"], progress=progress)
    command = (
        f"python -m fusion_core.training --config {configs / name}.json --out {assets / name} --state-dir {runs / name}"
    )
    result = train(config, assets / name, state_dir=runs / name, progress=progress, command=command)
    return {
        "name": name,
        "seconds": round(result.seconds, 1),
        "best": {k: v for k, v in result.best.items() if k.startswith("val_")},
    }


def write_demo_scores(names: list[str], assets: Path, *, progress: bool) -> None:
    """Each classifier's test scores on the demo spec (``scores.csv`` beside its card), as the app scores."""
    models = {name: load_model(assets / name, device="cpu") for name in names}
    for name, table in score_models(models, get_cohort_spec("demo"), "test", progress=progress).items():
        write_scores(table, assets / name / SCORES_FILE)


def main(argv: list[str] | None = None) -> int:
    """Command line: train every shipped model (or ``--only`` some).

    Returns:
        The exit code.
    """
    p = argparse.ArgumentParser(prog="python -m fusion_core.training.train_all", description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", help="train just these names")
    p.add_argument("--configs", default="configs")
    p.add_argument("--assets", default="assets/models")
    p.add_argument("--runs", default="runs")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-scores", action="store_true", help="skip writing the classifiers' demo scores.csv")
    args = p.parse_args(argv)
    names = args.only or list(SHIPPED)
    unknown = set(names) - set(SHIPPED)
    if unknown:
        p.error(f"unknown model(s) {sorted(unknown)}; shipped: {list(SHIPPED)}")
    start = time.perf_counter()
    for name in names:
        summary = train_one(
            name,
            configs=Path(args.configs),
            assets=Path(args.assets),
            runs=Path(args.runs),
            progress=not args.no_progress,
        )
        print(json.dumps(summary), flush=True)
    classifiers = [n for n in names if n.startswith("clf-")]
    if classifiers and not args.no_scores:
        scoring = time.perf_counter()
        write_demo_scores(classifiers, Path(args.assets), progress=not args.no_progress)
        print(json.dumps({"scores_seconds": round(time.perf_counter() - scoring, 1)}), flush=True)
    print(json.dumps({"total_seconds": round(time.perf_counter() - start, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m fusion_core.training --config CONFIG`` (also under ``torchrun --nproc_per_node=N``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys

from fusion_core.inference.registry import model_dir
from fusion_core.training.config import load_train_config
from fusion_core.training.loop import train


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the training command line."""
    p = argparse.ArgumentParser(prog="python -m fusion_core.training", description="Train one fusion model.")
    p.add_argument("--config", required=True, help="JSON TrainConfig (see configs/)")
    p.add_argument("--out", help="checkpoint folder (default runs/<name>)")
    p.add_argument("--state-dir", help="folder for the resumable state.pt (default: --out)")
    p.add_argument("--resume", action="store_true", help="continue from state.pt")
    p.add_argument("--epochs", type=int)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--num-threads", type=int)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--cohort", help="train on a cohort folder (SynthRAD layout, labels in cohort.csv) instead of the phantom"
    )
    p.add_argument(
        "--init", nargs="*", help="fine-tune: start from these checkpoint folders (e.g. assets/models/clf-early)"
    )
    return p.parse_args(argv)


def checkpoint_dir(name_or_dir: str) -> str:
    """A checkpoint folder, or a shipped model's name (``clf-early``) resolved to its folder."""
    return str(model_dir(name_or_dir))


def with_cohort_folder(config, folder: str):
    """The config trained on a cohort folder: same slicing, splits by subject of the folder's subjects."""
    return dataclasses.replace(config, data={**config.data, "cohort": "", "cohort_dir": str(folder)})


def main(argv: list[str] | None = None) -> int:
    """Command line: train one model from a JSON config.

    Returns:
        The exit code.
    """
    args = parse_args(argv)
    config = load_train_config(
        args.config,
        epochs=args.epochs,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        seed=args.seed,
        num_threads=args.num_threads,
        init_from=tuple(checkpoint_dir(name) for name in args.init) if args.init else None,
    )
    if args.cohort:
        config = with_cohort_folder(config, args.cohort)
    out = args.out or f"runs/{config.name}"
    command = "python -m fusion_core.training " + shlex.join(sys.argv[1:] if argv is None else argv)
    result = train(
        config, out, state_dir=args.state_dir, resume=args.resume, progress=not args.no_progress, command=command
    )
    if result.rank == 0:
        print(
            json.dumps(
                {
                    "out_dir": str(result.out_dir),
                    "best": result.best,
                    "steps": result.steps,
                    "seconds": round(result.seconds, 1),
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

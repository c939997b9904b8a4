"""``python -m fusion_core.pipeline --cohort DIR --out DIR --steps ... [--models ...] [--workers N] [--scheduler ADDR]``."""

from __future__ import annotations

import argparse
import json
import sys

from fusion_core.pipeline.config import DEFAULT_STEPS, Step, build_config
from fusion_core.pipeline.runner import run_pipeline


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the pipeline's command line."""
    p = argparse.ArgumentParser(
        prog="python -m fusion_core.pipeline",
        description="Register, normalise, synthesise, classify and evaluate every subject of a cohort folder.",
    )
    p.add_argument("--cohort", required=True, help="cohort folder (<id>/ct.nii.gz mr.nii.gz [...], or manifest.csv)")
    p.add_argument("--out", required=True, help="output folder (resumed when it holds an earlier run)")
    p.add_argument(
        "--steps",
        default=",".join(DEFAULT_STEPS),
        help=f"comma-separated steps among {', '.join(Step)} (default: {','.join(DEFAULT_STEPS)})",
    )
    p.add_argument("--models", nargs="*", default=[], help="generators, classifiers and encoders to run")
    p.add_argument("--workers", type=int, default=1, help="local processes (0: one after the other in this process)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (wins over --workers)")
    p.add_argument("--mc-samples", type=int, default=8, help="MC-dropout passes of each classifier")
    p.add_argument("--registration", default="{}", help="register_rigid options as JSON, e.g. '{\"sampling\": 0.05}'")
    p.add_argument(
        "--export", nargs="*", default=[], help="also write each generated volume as: dicom (a zipped series)"
    )
    p.add_argument("--force", action="store_true", help="redo every subject, current or not")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the batch pipeline on a cohort folder.

    Returns:
        The exit code.
    """
    args = parse_args(argv)
    config = build_config(
        args.steps,
        args.models,
        mc_samples=args.mc_samples,
        registration=json.loads(args.registration),
        export=tuple(args.export),
    )
    run = run_pipeline(
        args.cohort,
        args.out,
        config,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        force=args.force,
    )
    counts = {s: run.count(s) for s in ("done", "skipped", "failed")}
    print(json.dumps({"out": str(run.out), **counts, "seconds": round(run.seconds, 1), "executor": run.executor}))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""Batch pipeline throughput: a plain loop against a process pool (1 and 2 workers) and a Dask LocalCluster.

* Throughput: the same small phantom cohort through light steps (register, normalise, classify with
  one MC-dropout pass), every subject redone (``force``), with each executor; subjects per minute
  including each executor's start-up (processes, imports, one model load per worker).
* Overhead per task: trivial tasks through each executor (no pipeline work), milliseconds per task.
* Per-subject cost of the full pipeline (every step, 8 MC-dropout passes) at the demo size (128
  in-plane), per step: the basis of the README's estimate for a 540-subject cohort.

Usage::

    nice -n 10 python -m benchmarks.bench_pipeline [--n 8] [--size 32] [--full-size 128]

Writes ``benchmarks/results/bench_pipeline.json``. The machine is shared: the JSON records the load
average before and after, so figures taken under contention are labelled as such.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from fusion_core.pipeline import PipelineConfig, run_pipeline

OUT = Path(__file__).resolve().parent / "results" / "bench_pipeline.json"
LIGHT_REGISTRATION = {"multi_start_deg": 0.0, "iterations": 60}


def _noop(job):
    return job


def write_cohort(root: Path, n: int, size: int) -> Path:
    from fusion_core.data.export import cli

    cli(["--out", str(root), "--n", str(n), "--size", str(size), "--seed", "11"])
    return root


def throughput(cohort: Path, work: Path, config: PipelineConfig, how: dict) -> dict:
    start = time.perf_counter()
    if how.get("dask"):
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        with cluster, Client(cluster) as client:
            run = run_pipeline(cohort, work, config, client=client, progress=False, force=True)
    else:
        run = run_pipeline(cohort, work, config, workers=how["workers"], progress=False, force=True)
    seconds = time.perf_counter() - start
    n = run.count("done")
    task_seconds = [r.seconds for r in run.results if r.status == "done"]
    return {
        "executor": run.executor,
        "workers": run.workers,
        "subjects": n,
        "failed": run.count("failed"),
        "wall_seconds": round(seconds, 2),
        "subjects_per_minute": round(60 * n / seconds, 2),
        "mean_task_seconds": round(sum(task_seconds) / max(1, len(task_seconds)), 3),
    }


def task_overhead(kind: str, n_tasks: int = 40) -> dict:
    """Milliseconds per trivial task through an executor (after its start-up), and the start-up itself."""
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    if kind == "dask":
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        executor, label = Client(cluster), "dask"
    else:
        import multiprocessing

        executor = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))
        label = "processes"
    try:
        [f.result() for f in _submit_all(executor, label, 2)]  # start and warm the workers (pools start lazily)
        startup = time.perf_counter() - start
        t0 = time.perf_counter()
        [f.result() for f in _submit_all(executor, label, n_tasks)]
        per_task = (time.perf_counter() - t0) / n_tasks
    finally:
        executor.close() if label == "dask" else executor.shutdown()
        if label == "dask":
            cluster.close()
    return {"startup_seconds": round(startup, 2), "ms_per_task": round(1000 * per_task, 2), "tasks": n_tasks}


def _submit_all(executor, kind: str, n: int):
    if kind == "dask":
        return [executor.submit(_noop, i, pure=False) for i in range(n)]
    return [executor.submit(_noop, i) for i in range(n)]


def full_subject(root: Path, size: int) -> dict:
    """Every step on one subject at ``size`` in this process: seconds per step."""
    cohort = write_cohort(root / "full-cohort", 1, size)
    config = PipelineConfig(
        steps=("register", "normalise", "synthesise", "classify", "evaluate", "encode"),
        synthesis_models=("vae-poe",),
        classifiers=("clf-early",),
        encoders=("vae-poe",),
    )
    run = run_pipeline(cohort, root / "full-out", config, workers=0, progress=False, force=True)  # loads models
    run = run_pipeline(cohort, root / "full-out", config, workers=0, progress=False, force=True)  # models warm
    (result,) = run.results
    steps = {k.removeprefix("seconds_"): v for k, v in result.row.items() if k.startswith("seconds_")}
    return {"size": size, "status": result.status, "error": result.error, "seconds": round(result.seconds, 2),
            "seconds_per_step": steps}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=8, help="subjects of the throughput cohort")
    p.add_argument("--size", type=int, default=32, help="in-plane voxels of the throughput cohort")
    p.add_argument("--full-size", type=int, default=128, help="in-plane voxels of the full-pipeline subject")
    args = p.parse_args(argv)
    load_before = os.getloadavg()
    config = PipelineConfig(
        steps=("register", "normalise", "classify"), classifiers=("clf-early",), mc_samples=1,
        registration=LIGHT_REGISTRATION, tre_points=50,
    )  # fmt: skip
    report: dict = {"cohort": {"n": args.n, "size": args.size}, "steps": list(map(str, config.steps))}
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        root = Path(tmp)
        cohort = write_cohort(root / "cohort", args.n, args.size)
        runs = {
            "loop": {"workers": 0},
            "processes-1": {"workers": 1},
            "processes-2": {"workers": 2},
            "dask-local-2": {"dask": True},
        }
        report["throughput"] = {name: throughput(cohort, root / name, config, how) for name, how in runs.items()}
        base = report["throughput"]["loop"]["subjects_per_minute"]
        report["speedup_vs_loop"] = {
            k: round(v["subjects_per_minute"] / base, 2) for k, v in report["throughput"].items()
        }
        report["task_overhead"] = {kind: task_overhead(kind) for kind in ("processes", "dask")}
        report["full_subject"] = full_subject(root, args.full_size)
    report["machine"] = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()}
    report["note"] = (
        "Taken on a shared 2-core machine with other jobs running (see load averages): the figures are lower "
        "bounds on throughput and the scaling from 1 to 2 workers is understated."
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

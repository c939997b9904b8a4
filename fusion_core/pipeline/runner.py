"""Run the pipeline over a cohort: one task per subject on a process pool, a Dask cluster or in this process.

The three share one code path: :func:`plan_jobs` decides which subjects are due (outputs missing or
not current), an *executor* runs :func:`~fusion_core.pipeline.subject.process_subject` on each, and
results are collected as they finish (tqdm: subjects done, ETA). Process pools come from
``concurrent.futures``, clusters from ``dask.distributed``; both expose ``submit`` and futures
that ``as_completed`` yields: no scheduler of our own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import as_completed as cf_as_completed
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from fusion_core.io import load_cohort
from fusion_core.pipeline.config import PipelineConfig
from fusion_core.pipeline.files import files_digest, remove_temporaries
from fusion_core.pipeline.subject import MANIFEST, SCORES, SubjectJob, SubjectResult, process_subject
from fusion_core.pipeline.table import write_cohort_outputs

LOG_NAME = "pipeline.log"
log = logging.getLogger("fusion_core.pipeline")


@dataclasses.dataclass(frozen=True)
class PipelineRun:
    """What one run did.

    Attributes:
        out: the output folder.
        results: one result per subject of the cohort (skipped subjects included), in cohort order.
        seconds: wall time of the run.
        executor: "loop", "processes" or "dask".
        workers: parallel workers used.
    """

    out: Path
    results: list[SubjectResult]
    seconds: float
    executor: str
    workers: int

    def count(self, status: str) -> int:
        """Number of subjects with ``status``."""
        return sum(r.status == status for r in self.results)


def subject_key(inputs: dict[str, str], config: PipelineConfig) -> str:
    """Digest of a subject's input files and the run's settings."""
    text = json.dumps({"inputs": inputs, "settings": config.digest()}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def is_current(out_dir: Path, key: str) -> bool:
    """Whether a subject's outputs are complete and were made from the same inputs with the same settings.

    Complete: the manifest (written last) exists and every output it lists is present.
    """
    manifest = out_dir / MANIFEST
    try:
        record = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    return record.get("key") == key and all((out_dir / name).is_file() for name in record.get("outputs", []))


def plan_jobs(cohort, out: Path, config: PipelineConfig) -> list[SubjectJob]:
    """One job per subject of ``cohort`` (a ``fusion_core.io.Cohort``), with its input digests and key."""
    jobs = []
    for subject_id in cohort.subject_ids:
        files = cohort.files(subject_id)
        inputs = files_digest(_input_files(files))
        jobs.append(
            SubjectJob(files, str(cohort.root), str(out / subject_id), config, inputs, subject_key(inputs, config))
        )
    return jobs


def _input_files(files) -> dict[str, Path]:
    named = {"ct": files.ct, "mr": files.mr, "transform": files.transform}
    named.update({f"mask:{name}": path for name, path in files.masks.items()})
    named.update({role: path for role, (path, _) in files.extra.items()})
    return {role: path for role, path in named.items() if path is not None}


# ------------------------------------------------------------------------------------------ executors
class LoopExecutor:
    """Runs the tasks one after the other in this process, each when its result is asked for.

    The plain-loop baseline, ``--workers 0``.
    """

    def submit(self, fn: Callable, *args: Any, **_: Any) -> _Deferred:
        """Defer ``fn(*args)`` until its result is asked for (keyword options of real executors are ignored)."""
        return _Deferred(fn, args)


class _Deferred:
    def __init__(self, fn: Callable, args: tuple) -> None:
        self.fn, self.args = fn, args

    def result(self):
        return self.fn(*self.args)


def _thread_limit(workers: int) -> None:
    """Give each pool process its share of the CPU cores for torch (no oversubscription).

    Torch is not imported for it (a run without model steps never loads it).
    """
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _pool_context():
    """The multiprocessing context of the pool: fork, unless this process has imported torch.

    Fork when torch is not imported (the CLI: fast start); spawn otherwise, since a child forked after
    torch started its thread pool can deadlock in its first operation.
    """
    return multiprocessing.get_context("spawn" if "torch" in sys.modules else "fork")


@contextlib.contextmanager
def open_executor(workers: int = 1, scheduler: str | None = None, client=None) -> Iterator[tuple[Any, str, int]]:
    """The (executor, kind, workers) that runs the subjects.

    A Dask client (``client`` given, or connected to ``scheduler``), a process pool of ``workers``
    processes, or the in-process loop for ``workers`` 0.
    """
    if client is not None:
        yield client, "dask", _dask_workers(client)
    elif scheduler:
        # lazy: Dask is needed only on a cluster (--scheduler)
        from distributed import Client

        with Client(scheduler) as connected:
            yield connected, "dask", _dask_workers(connected)
    elif workers <= 0:
        yield LoopExecutor(), "loop", 1
    else:
        context = _pool_context()
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_thread_limit, initargs=(workers,)) as pool:
            yield pool, "processes", workers


def _dask_workers(client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def as_completed(futures: list, kind: str) -> Iterator:
    """The futures of ``kind``'s executor ("loop", "dask" or processes), in the order they finish."""
    if kind == "loop":
        return iter(futures)
    if kind == "dask":
        # lazy: Dask is needed only on a cluster (--scheduler)
        from distributed import as_completed as dask_as_completed

        return iter(dask_as_completed(futures))
    return cf_as_completed(futures)


def submit(executor, kind: str, job: SubjectJob):
    """Submit ``process_subject(job)`` to ``executor`` (Dask: never served from its cache).

    Returns:
        The future.
    """
    if kind == "dask":  # pure=False: a subject is redone when asked, never served from Dask's cache
        return executor.submit(process_subject, job, pure=False, key=f"subject-{job.subject_id}-{job.key}")
    return executor.submit(process_subject, job)


# ---------------------------------------------------------------------------------------------- run
def run_pipeline(
    cohort_root: str | Path,
    out: str | Path,
    config: PipelineConfig,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    client=None,
    progress: bool = True,
    force: bool = False,
) -> PipelineRun:
    """Process every subject of a cohort folder whose outputs are missing or not current.

    Args:
        cohort_root: a cohort folder (``fusion_core.io.load_cohort``: SynthRAD layout or manifest).
        out: output folder (per-subject folders, ``cohort_table.csv``/``.parquet``, ``summary.json``, log).
        config: what to run (:class:`PipelineConfig`).
        workers: processes of the local pool; 0 runs the subjects one after the other in this process.
        scheduler: address of a Dask scheduler ("tcp://host:8786"); wins over ``workers``.
        client: a ``distributed.Client`` to use (e.g. on a ``LocalCluster``); wins over both.
        progress: show a tqdm bar (subjects done, ETA).
        force: redo every subject, current or not.

    Returns:
        A :class:`PipelineRun`. Failed subjects are in its results (status "failed", with the reason),
        in the log and in the summary; they are tried again by the next run.
    """
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    handler = _file_log(out)
    try:
        removed = remove_temporaries(out)
        if removed:
            log.info("removed %d temporary files left by an interrupted run", removed)
        cohort = load_cohort(cohort_root)
        jobs = plan_jobs(cohort, out, config)
        skipped = [j for j in jobs if not force and is_current(Path(j.out_dir), j.key)]
        current = {j.subject_id for j in skipped}
        due = [j for j in jobs if j.subject_id not in current]
        log.info("cohort %s: %d subjects, %d current, %d to process", cohort.root, len(jobs), len(skipped), len(due))
        with open_executor(workers, scheduler, client) as (executor, kind, n_workers):
            done = _collect(executor, kind, due, progress)
        results = _in_order(jobs, done, [_skipped_result(j) for j in skipped])
        seconds = time.perf_counter() - start
        run = PipelineRun(out, results, seconds, kind, n_workers)
        write_cohort_outputs(out, cohort, results, config, run_info=_run_info(run))
        return run
    finally:
        logging.getLogger("fusion_core.pipeline").removeHandler(handler)
        handler.close()


def _collect(executor, kind: str, due: list[SubjectJob], progress: bool) -> dict[str, SubjectResult]:
    futures = [submit(executor, kind, job) for job in due]
    done: dict[str, SubjectResult] = {}
    with tqdm(total=len(due), desc="subjects", unit="subject", disable=not progress) as bar:
        for future in as_completed(futures, kind):
            result = future.result()
            done[result.subject_id] = result
            _log_result(result)
            bar.update(1)
            bar.set_postfix(failed=sum(r.status == "failed" for r in done.values()))
    return done


def _log_result(result: SubjectResult) -> None:
    if result.status == "failed":
        log.error("%s failed after %.1f s on %s: %s", result.subject_id, result.seconds, result.worker, result.error)
    else:
        log.info("%s done in %.1f s on %s", result.subject_id, result.seconds, result.worker)


def _skipped_result(job: SubjectJob) -> SubjectResult:
    """A current subject: its row as written by the run that made it."""
    row = json.loads((Path(job.out_dir) / SCORES).read_text())
    return SubjectResult(job.subject_id, "skipped", row)


def _in_order(jobs: list[SubjectJob], done: dict[str, SubjectResult], skipped: list[SubjectResult]):
    by_id = {r.subject_id: r for r in skipped} | done
    return [by_id[j.subject_id] for j in jobs]


def _run_info(run: PipelineRun) -> dict[str, Any]:
    return {"executor": run.executor, "workers": run.workers, "seconds": round(run.seconds, 3)}


def _file_log(out: Path) -> logging.Handler:
    """Append this run's log lines to ``<out>/pipeline.log``."""
    handler = logging.FileHandler(out / LOG_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("fusion_core.pipeline")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler

"""Batch processing of a cohort: register -> normalise -> synthesise -> classify -> evaluate (-> encode).

``python -m fusion_core.pipeline --cohort DIR --out DIR --steps register,normalise,synthesise,classify,evaluate
[--models ...] [--workers N] [--scheduler ADDR]``. Each subject is one task on a process pool or a Dask
cluster (same code path); outputs are written atomically and a run resumes where the last one stopped.
See :mod:`fusion_core.pipeline.subject` for the per-subject files and :mod:`fusion_core.pipeline.results`
for reading an output folder back.
"""

from fusion_core.pipeline.config import DEFAULT_STEPS, PipelineConfig, Step, build_config, parse_steps
from fusion_core.pipeline.results import PipelineResults, read_pipeline_latents, read_pipeline_results
from fusion_core.pipeline.runner import PipelineRun, plan_jobs, run_pipeline
from fusion_core.pipeline.subject import SubjectJob, SubjectResult, process_subject

__all__ = [
    "DEFAULT_STEPS",
    "PipelineConfig",
    "PipelineResults",
    "PipelineRun",
    "Step",
    "SubjectJob",
    "SubjectResult",
    "build_config",
    "parse_steps",
    "plan_jobs",
    "process_subject",
    "read_pipeline_latents",
    "read_pipeline_results",
    "run_pipeline",
]

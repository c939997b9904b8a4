"""One subject through the pipeline: one task for a process pool or a Dask worker.

Per subject, under ``<out>/<subject_id>/`` (a SynthRAD-style cohort folder again, so training and the
app read it like any cohort):

    ct.nii.gz  mr.nii.gz (T1 on the CT grid)  [mr_t2.nii.gz]  [mask.nii.gz  masks/<name>.nii.gz]
    registration.tfm          the estimated CT->MR transform (SimpleITK), when the register step ran
    normalisation.json        each scan's normaliser and the statistics it used
    generated/<model>_<CT|MR>.nii.gz
    latents/<model>.npy       (n_slices, d) joint posterior means, when the encode step ran
    scores.json               the subject's row of the cohort table
    manifest.json             written last: input digests, settings digest, outputs (complete = present and current)
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from fusion_core.case import Case, resample_onto
from fusion_core.evaluation import generation_metrics
from fusion_core.io import Cohort
from fusion_core.pipeline.config import PipelineConfig, Step
from fusion_core.pipeline.files import atomic_path, save_volume_atomic, write_json, write_transform_atomic
from fusion_core.pipeline.models import cached_model
from fusion_core.preprocess import ct_head_mask, normalise
from fusion_core.registration import mutual_information, register_rigid, sample_points_in_mask, tre_before_after
from fusion_core.volume import Volume

MANIFEST = "manifest.json"
SCORES = "scores.json"


@dataclasses.dataclass(frozen=True)
class SubjectJob:
    """What a worker needs to process one subject (small and picklable).

    Attributes:
        files: the subject's ``fusion_core.io`` SubjectFiles (paths, label, metadata).
        cohort_root: the input cohort folder.
        out_dir: ``<out>/<subject_id>``.
        config: the run's settings.
        inputs: role -> content digest of every input file.
        key: digest of ``inputs`` and the settings: the subject is current when its manifest holds it.
    """

    files: Any
    cohort_root: str
    out_dir: str
    config: PipelineConfig
    inputs: dict[str, str]
    key: str

    @property
    def subject_id(self) -> str:
        return self.files.subject_id


@dataclasses.dataclass(frozen=True)
class SubjectResult:
    """What happened to one subject.

    Attributes:
        subject_id: the subject.
        status: "done", "failed" or "skipped" (outputs already complete and current).
        row: its row of the cohort table (metrics, scores, seconds per step).
        error: why it failed ("" otherwise): the exception's type and message.
        seconds: wall time in the worker.
        worker: "host:pid" of the process that ran it.
    """

    subject_id: str
    status: str
    row: dict[str, Any]
    error: str = ""
    seconds: float = 0.0
    worker: str = ""


def process_subject(job: SubjectJob) -> SubjectResult:
    """Run the configured steps on one subject and write its outputs; never raises (a failure is a result)."""
    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        row = run_steps(job)
    except Exception as exc:  # one bad subject must not stop the cohort: report it with its reason
        reason = f"{type(exc).__name__}: {str(exc).strip() or 'no message'}"
        return SubjectResult(job.subject_id, "failed", {}, reason, time.perf_counter() - start, worker)
    return SubjectResult(job.subject_id, "done", row, "", time.perf_counter() - start, worker)


def load_job_case(job: SubjectJob) -> Case:
    """The subject's case read from its input files."""
    return Cohort(Path(job.cohort_root), [job.files], source="pipeline").load_case(job.subject_id)


def run_steps(job: SubjectJob) -> dict[str, Any]:
    """The configured steps, in order; returns the subject's table row (raises on a failure)."""
    config, out = job.config, Path(job.out_dir)
    case = load_job_case(job)
    row: dict[str, Any] = {"subject_id": case.subject_id, "label": case.label, **_meta_columns(case)}
    timings: dict[str, float] = {}
    with _timed(timings, "register"):
        aligned = register_step(case, config, out, row) if config.has(Step.REGISTER) else case.aligned()
        write_aligned(aligned, out)
    volumes = {"CT": aligned.ct, **aligned.mr_weightings}
    head = head_mask(aligned)
    if config.has(Step.NORMALISE):
        with _timed(timings, "normalise"):
            normalise_step(volumes, head, config, out)
    generated: dict[tuple[str, str], Volume] = {}
    if config.has(Step.SYNTHESISE):
        with _timed(timings, "synthesise"):
            generated = synthesise_step(volumes, config, out)
    if config.has(Step.CLASSIFY):
        with _timed(timings, "classify"):
            row.update(classify_step(volumes, config))
    if config.has(Step.EVALUATE):
        with _timed(timings, "evaluate"):
            row.update(evaluate_step(generated, aligned, head))
    if config.has(Step.ENCODE):
        with _timed(timings, "encode"):
            encode_step(volumes, config, out)
    row.update({f"seconds_{step}": round(s, 3) for step, s in timings.items()})
    write_json(out / SCORES, row)
    write_manifest(job, out)
    return row


class _timed:
    """Context manager adding the elapsed seconds of a block to ``timings[name]``."""

    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.name] = self.timings.get(self.name, 0.0) + time.perf_counter() - self.start


def _meta_columns(case: Case) -> dict[str, Any]:
    keep = ("site", "lesion_type")
    return {k: case.meta.get(k) for k in keep if case.meta.get(k) is not None}


# ----------------------------------------------------------------------------------------- register
def register_step(case: Case, config: PipelineConfig, out: Path, row: dict[str, Any]) -> Case:
    """Rigid MI registration of the MR onto the CT; TRE when the truth is known; MI before and after."""
    result = register_rigid(case.ct, case.mr, **config.registration)
    write_transform_atomic(result.transform, out / "registration.tfm")
    aligned = case.aligned(transform=result.transform)
    head = head_mask(aligned)
    row.update(
        registration_seconds=round(result.seconds, 3),
        registration_metric=result.final_metric,
        mi_before=_mutual_information(case.ct, _identity_resampled(case), head),
        mi_after=_mutual_information(aligned.ct, aligned.mr, head),
    )
    if case.true_transform is not None:
        row.update(_tre_columns(result.transform, case.true_transform, aligned, config))
    return aligned


def _identity_resampled(case: Case) -> Volume:
    return resample_onto(case.mr, case.ct, sitk.Transform(3, sitk.sitkIdentity))


def _mutual_information(ct: Volume, mr: Volume, head: np.ndarray) -> float:
    return float(mutual_information(ct.array, mr.array, mask=head))


def _tre_columns(estimated, true, aligned: Case, config: PipelineConfig) -> dict[str, float]:
    points = sample_points_in_mask(head_mask(aligned), config.tre_points, reference=aligned.ct, seed=config.seed)
    tre = tre_before_after(estimated, true, points)
    return {"tre_before_median_mm": tre.median_before, "tre_median_mm": tre.median_after, "tre_max_mm": tre.max_after}


def head_mask(case: Case) -> np.ndarray:
    """The case's head mask on the CT grid (its own "head" mask when it has one, else CT > -500 HU)."""
    mask = case.masks.get("head")
    if mask is not None and case.ct is not None and mask.shape == case.ct.shape:
        return mask.array > 0.5
    return ct_head_mask(case.ct.array)


def write_aligned(aligned: Case, out: Path) -> None:
    """CT, every MR weighting on the CT grid and the masks, in the SynthRAD layout ``load_cohort`` reads."""
    save_volume_atomic(aligned.ct, out / "ct.nii.gz")
    for key, volume in aligned.mr_weightings.items():
        name = "mr" if key == "MR-T1" else key.lower().replace("-", "_")
        save_volume_atomic(volume, out / f"{name}.nii.gz")
    for name, mask in aligned.masks.items():
        if mask.shape == aligned.ct.shape:
            save_volume_atomic(mask, out / ("mask.nii.gz" if name == "head" else f"masks/{name}.nii.gz"))


# ---------------------------------------------------------------------------------------- normalise
def normalise_step(volumes: dict[str, Volume], head: np.ndarray, config: PipelineConfig, out: Path) -> None:
    """Each scan's normalisation parameters (the method and the statistics used) into normalisation.json."""
    params = {}
    for key, volume in volumes.items():
        method = config.ct_normalisation if key == "CT" else config.mr_normalisation
        mask = volume.with_array(head.astype(np.float32))
        params[key] = normalise(volume, method, **({} if method == "ct_window" else {"mask": mask})).params
    write_json(out / "normalisation.json", params)


# --------------------------------------------------------------------------------------- synthesise
def synthesise_step(volumes: dict[str, Volume], config: PipelineConfig, out: Path) -> dict[tuple[str, str], Volume]:
    """Each synthesis model's CT from the MR weightings and MR from the CT (the directions it supports)."""
    generated = {}
    for name in config.synthesis_models:
        model = cached_model(name)
        for target in ("CT", "MR"):
            volume = _impute_or_none(model, volumes, target)
            if volume is not None:
                save_volume_atomic(volume, out / "generated" / f"{_safe(name)}_{target}.nii.gz")
                generated[(name, target)] = volume
    return generated


def _impute_or_none(model, volumes: dict[str, Volume], target: str) -> Volume | None:
    """``impute`` from the modalities other than ``target``; None when the model cannot make ``target``."""
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference import ModelInputError, impute

    sources = {k: v for k, v in volumes.items() if (k == "CT") != (target == "CT")}
    try:
        return impute(model, sources, target)
    except ModelInputError:
        return None


def _safe(name: str) -> str:
    return Path(str(name)).name


# ----------------------------------------------------------------------------------------- classify
def classify_step(volumes: dict[str, Volume], config: PipelineConfig) -> dict[str, float]:
    """Each classifier's lesion probability and its uncertainty."""
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference import classify

    row = {}
    for name in config.classifiers:
        result = classify(cached_model(name), volumes, mc_samples=config.mc_samples, seed=config.seed)
        row[f"{_safe(name)}.score"] = result.probability
        row[f"{_safe(name)}.uncertainty"] = result.uncertainty
    return row


# ----------------------------------------------------------------------------------------- evaluate
def evaluate_step(generated: dict[tuple[str, str], Volume], aligned: Case, head: np.ndarray) -> dict[str, float]:
    """MAE/PSNR/SSIM/bone Dice and per-tissue MAE of every generated volume against the real scan."""
    brain = aligned.masks.get("brain")
    brain = brain.array > 0.5 if brain is not None and brain.shape == aligned.ct.shape else None
    real = {"CT": aligned.ct, "MR": aligned.mr}
    row = {}
    for (name, target), volume in generated.items():
        metrics = generation_metrics(
            volume.array, real[target].array, head, target=target, real_ct=aligned.ct.array, brain=brain
        )
        row.update({f"{_safe(name)}.{target}.{k}": v for k, v in metrics.as_row().items()})
    return row


# ------------------------------------------------------------------------------------------- encode
def encode_step(volumes: dict[str, Volume], config: PipelineConfig, out: Path) -> None:
    """Per-slice joint posterior means of each encoder, (n_slices, d) float32, in latents/<model>.npy."""
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference import encode

    for name in config.encoders:
        latents = np.asarray(encode(cached_model(name), volumes), np.float32)
        with atomic_path(out / "latents" / f"{_safe(name)}.npy") as tmp:
            np.save(tmp, latents)


# ----------------------------------------------------------------------------------------- manifest
def write_manifest(job: SubjectJob, out: Path) -> None:
    """The completion record, written last: what went in, with which settings, what came out."""
    outputs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != MANIFEST)
    write_json(
        out / MANIFEST,
        {
            "subject_id": job.subject_id,
            "key": job.key,
            "inputs": job.inputs,
            "settings": job.config.as_dict(),
            "outputs": outputs,
            "finished_at": time.time(),
        },
    )

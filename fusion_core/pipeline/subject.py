"""One subject through the pipeline: one task for a process pool or a Dask worker.

Per subject, under ``<out>/<subject_id>/`` (a SynthRAD-style cohort folder again, so training and the
app read it like any cohort):

    ct.nii.gz  mr.nii.gz (T1 on the CT grid)  [mr_t2.nii.gz]  [mask.nii.gz  masks/<name>.nii.gz]
                              (an unpaired subject: its one scan on its own grid)
    registration.tfm          the estimated CT->MR transform (SimpleITK), when the register step ran
    normalisation.json        each scan's normaliser and the statistics it used
    generated/<model>_<CT|MR>.nii.gz   [generated/<model>_<CT|MR>_dicom.zip with --export dicom]
    latents/<model>.npy       (n_slices, d) joint posterior means, when the encode step ran
    scores.json               the subject's row of the cohort table
    manifest.json             written last: input digests, settings digest, outputs (complete = present and current)

An unpaired subject (MR only or CT only) skips the steps that need both scans (registration, and the
evaluation against a real scan of the other modality) and runs the rest on its one scan: a synthetic
CT from the MR alone, its latents, the scores of the classifiers that accept one modality. Its row says
which steps ran and why the others did not (``steps_run``, ``steps_skipped``); every row carries the
readers' repairs (``load_notes``) and, for a pair, how much of the CT's head the MR saw (``head_coverage``).
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
from fusion_core.io import Cohort, dicom_series_zip
from fusion_core.io.dicom_writer import dicom_reference
from fusion_core.models.config import Strategy
from fusion_core.pipeline.config import PipelineConfig, Step
from fusion_core.pipeline.files import atomic_path, save_volume_atomic, write_json, write_transform_atomic
from fusion_core.pipeline.models import cached_model
from fusion_core.preprocess import normalise
from fusion_core.preprocess.masks import case_head_mask
from fusion_core.registration import (
    head_coverage,
    mutual_information,
    overlap_mask,
    register_rigid,
    sample_points_in_mask,
    tre_before_after,
)
from fusion_core.volume import Volume

MANIFEST = "manifest.json"
SCORES = "scores.json"
#: Classifier strategies that fuse only the modalities present (a missing one is left out, not zeroed).
ONE_MODALITY_STRATEGIES = (Strategy.POE, Strategy.LATE, Strategy.UNCERTAINTY_LATE)


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
        """The subject's id."""
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


@dataclasses.dataclass
class StepPlan:
    """Which of the configured steps a subject runs, and why the others are skipped.

    Attributes:
        steps: the steps that run, in pipeline order.
        skipped: step (or "step model") -> why it did not run, in plain words.
    """

    steps: tuple[Step, ...]
    skipped: dict[str, str]

    def has(self, step: Step) -> bool:
        """True when ``step`` runs."""
        return step in self.steps

    def columns(self) -> dict[str, str]:
        """The row's ``steps_run`` and ``steps_skipped`` (``"step: why; ..."``) columns."""
        skipped = "; ".join(f"{step}: {why}" for step, why in self.skipped.items())
        return {"steps_run": ",".join(str(step) for step in self.steps), "steps_skipped": skipped}


def plan_steps(case: Case, config: PipelineConfig) -> StepPlan:
    """The configured steps a subject can run: a subject with one modality skips those needing both."""
    if case.ct is None and case.mr is None:
        raise ValueError(f"{case.subject_id} has neither a CT nor an MR scan")
    skipped: dict[str, str] = {}
    if not case.is_paired:
        have, missing = ("MR", "CT") if case.ct is None else ("CT", "MR")
        needs_both = {
            Step.REGISTER: f"{have} only: no {missing} to register it with",
            Step.EVALUATE: f"{have} only: no real {missing} to compare the synthetic {missing} with",
        }
        skipped = {str(step): why for step, why in needs_both.items() if config.has(step)}
    return StepPlan(tuple(step for step in config.steps if str(step) not in skipped), skipped)


def run_steps(job: SubjectJob) -> dict[str, Any]:
    """The configured steps, in order; returns the subject's table row (raises on a failure)."""
    config, out = job.config, Path(job.out_dir)
    case = load_job_case(job)
    plan = plan_steps(case, config)
    row: dict[str, Any] = {"subject_id": case.subject_id, "label": case.label, **_meta_columns(case)}
    timings: dict[str, float] = {}
    with _timed(timings, "register"):
        aligned = _aligned_or_alone(case, config, plan, out, row)
        write_aligned(aligned, out)
    volumes = {"CT": aligned.ct, **aligned.mr_weightings} if aligned.ct is not None else dict(aligned.mr_weightings)
    head = case_head_mask(aligned) & _in_view(case, aligned)  # metrics and normalisers: where both scans have data
    if case.is_paired:
        row["head_coverage"] = round(_coverage(aligned, head), 4)
    if plan.has(Step.NORMALISE):
        with _timed(timings, "normalise"):
            normalise_step(volumes, head, config, out)
    generated: dict[tuple[str, str], Volume] = {}
    if plan.has(Step.SYNTHESISE):
        with _timed(timings, "synthesise"):
            generated = synthesise_step(volumes, config, out, case)
    if plan.has(Step.CLASSIFY):
        with _timed(timings, "classify"):
            row.update(classify_step(volumes, config, plan))
    if plan.has(Step.EVALUATE):
        with _timed(timings, "evaluate"):
            row.update(evaluate_step(generated, aligned, head))
    if plan.has(Step.ENCODE):
        with _timed(timings, "encode"):
            encode_step(volumes, config, out)
    row.update(plan.columns())
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
    """Site and lesion type when known, and the readers' repairs of the input files (``load_notes``)."""
    keep = ("site", "lesion_type")
    columns = {k: case.meta.get(k) for k in keep if case.meta.get(k) is not None}
    return columns | {"load_notes": "; ".join(case.meta.get("load_notes", []))}


def _aligned_or_alone(case: Case, config: PipelineConfig, plan: StepPlan, out: Path, row: dict[str, Any]) -> Case:
    """A pair with its MR on the CT grid (registered, or by its known transform); one scan as it is."""
    if not case.is_paired:
        return case
    return register_step(case, config, out, row) if plan.has(Step.REGISTER) else case.aligned()


def _in_view(case: Case, aligned: Case) -> np.ndarray | bool:
    """The CT voxels the MR saw: for a pair, those inside the MR's field of view.

    The MR is 0 elsewhere on the CT grid; True for a single scan (all of it was seen).
    """
    if not case.is_paired:
        return True
    return overlap_mask(case.ct, case.mr, aligned.meta["alignment"]["transform"])


def _coverage(aligned: Case, head_in_view: np.ndarray) -> float:
    """Fraction of the CT's head that the MR saw."""
    return head_coverage(case_head_mask(aligned), head_in_view)


# ----------------------------------------------------------------------------------------- register
def register_step(case: Case, config: PipelineConfig, out: Path, row: dict[str, Any]) -> Case:
    """Rigid MI registration of the MR onto the CT, with its quality.

    TRE when the truth is known; MI before and after (both over the part of the head the registered MR
    sees); where the registration started.
    """
    result = register_rigid(case.ct, case.mr, **config.registration)
    write_transform_atomic(result.transform, out / "registration.tfm")
    aligned = case.aligned(transform=result.transform)
    head = case_head_mask(aligned) & overlap_mask(case.ct, case.mr, result.transform)
    row.update(
        registration_start=str(result.initialisation.used),
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
    points = sample_points_in_mask(case_head_mask(aligned), config.tre_points, reference=aligned.ct, seed=config.seed)
    tre = tre_before_after(estimated, true, points)
    return {"tre_before_median_mm": tre.median_before, "tre_median_mm": tre.median_after, "tre_max_mm": tre.max_after}


def _grid(case: Case) -> Volume:
    """The grid every output of the case lies on: the CT's, else the MR's."""
    return case.ct if case.ct is not None else case.mr


def write_aligned(aligned: Case, out: Path) -> None:
    """CT, every MR weighting on the CT grid and the masks, in the SynthRAD layout ``load_cohort`` reads.

    An unpaired case: its scans and the masks on their grid.
    """
    if aligned.ct is not None:
        save_volume_atomic(aligned.ct, out / "ct.nii.gz")
    for key, volume in aligned.mr_weightings.items():
        name = "mr" if key == "MR-T1" else key.lower().replace("-", "_")
        save_volume_atomic(volume, out / f"{name}.nii.gz")
    for name, mask in aligned.masks.items():
        if mask.shape == _grid(aligned).shape:
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
def synthesise_step(
    volumes: dict[str, Volume], config: PipelineConfig, out: Path, case: Case | None = None
) -> dict[tuple[str, str], Volume]:
    """Each synthesis model's CT from the MR weightings and MR from the CT (the directions it supports).

    With ``--export dicom`` also ``generated/<model>_<target>_dicom.zip`` (patient and study from the
    source scan when it was DICOM).
    """
    generated = {}
    for name in config.synthesis_models:
        model = cached_model(name)
        for target in ("CT", "MR"):
            volume = _impute_or_none(model, volumes, target)
            if volume is not None:
                save_volume_atomic(volume, out / "generated" / f"{_safe(name)}_{target}.nii.gz")
                if "dicom" in config.export:
                    _write_dicom_zip(volume, model, case, out / "generated" / f"{_safe(name)}_{target}_dicom.zip")
                generated[(name, target)] = volume
    return generated


def _write_dicom_zip(volume: Volume, model, case: Case | None, path: Path) -> None:
    source = "ct" if volume.modality != "CT" else "mr"
    data = dicom_series_zip(volume, reference=dicom_reference(case, source), model=model)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _impute_or_none(model, volumes: dict[str, Volume], target: str) -> Volume | None:
    """``impute`` from the modalities other than ``target``; None when the model cannot make ``target``."""
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference import ModelInputError, impute

    sources = {k: v for k, v in volumes.items() if (k == "CT") != (target == "CT")}
    if not sources:  # an unpaired subject: nothing of the other modality to make this target from
        return None
    try:
        return impute(model, sources, target)
    except ModelInputError:
        return None


def _safe(name: str) -> str:
    return Path(str(name)).name


# ----------------------------------------------------------------------------------------- classify
def classify_step(volumes: dict[str, Volume], config: PipelineConfig, plan: StepPlan) -> dict[str, float]:
    """Each classifier's lesion probability and its uncertainty.

    A classifier that cannot score the scans present (one modality to a classifier that would see the
    other as a blank image) is skipped, its reason added to ``plan.skipped``.
    """
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference import classify

    row = {}
    for name in config.classifiers:
        model = cached_model(name)
        why_not = _cannot_classify(model, volumes)
        if why_not:
            plan.skipped[f"classify {_safe(name)}"] = why_not
            continue
        result = classify(model, volumes, mc_samples=config.mc_samples, seed=config.seed)
        row[f"{_safe(name)}.score"] = result.probability
        row[f"{_safe(name)}.uncertainty"] = result.uncertainty
    return row


def _cannot_classify(model, volumes: dict[str, Volume]) -> str:
    """Why ``model`` cannot score a subject with only these scans ("" when it can)."""
    have_ct, have_mr = "CT" in volumes, any(key != "CT" for key in volumes)
    if have_ct and have_mr:
        return ""
    strategy = model.config.strategy
    present = "CT" if have_ct else "MR"
    if strategy in ONE_MODALITY_STRATEGIES or strategy == present.lower():
        return ""
    missing = "MR" if have_ct else "CT"
    return f"{present} only: this classifier would see the missing {missing} as a blank image"


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
    # lazy: imports torch; this module's import stays torch-free
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

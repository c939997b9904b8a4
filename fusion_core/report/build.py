"""Fill a :class:`CaseReport` from the core.

Registration, normalisation, generation, classification, attribution. Each section runs only when its
inputs exist; otherwise one line says why it is absent.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import SimpleITK as sitk

import fusion_core.report.figures as figures
from fusion_core.case import Case, resample_onto
from fusion_core.errors import CaseError, FusionError
from fusion_core.evaluation import expected_calibration_error
from fusion_core.evaluation.scores_io import read_scores
from fusion_core.preprocess import normalise
from fusion_core.registration import mutual_information, register_rigid, sample_points_in_mask, tre_before_after
from fusion_core.registration.initialisation import initialisation_note
from fusion_core.report.caveats import model_note
from fusion_core.report.model import (
    CaseReport,
    ClassifierSection,
    NormalisationRow,
    RegistrationSection,
    ScanSection,
    SynthesisSection,
)
from fusion_core.viz.views import metadata_row
from fusion_core.volume import Volume

Progress = Callable[[str], None] | None
UNCERTAINTY_SAMPLES = 4
MC_SAMPLES = 8


def build_case_report(
    case: Case,
    *,
    models: Sequence[str] = (),
    registration: Any = None,
    register: bool = True,
    registration_options: dict[str, Any] | None = None,
    attribution_method: str = "integrated_gradients",
    source: str = "",
    progress: Progress = None,
) -> CaseReport:
    """Compute and collect everything the report shows for ``case``.

    Args:
        case: the case as loaded (CT and/or MR on their own grids).
        models: shipped model names (generators and classifiers); none: no model sections.
        registration: a ``RegistrationResult`` already computed (e.g. on the Register page); else,
            with ``register``, the MR is registered to the CT here (``registration_options``).
        register: register the MR to the CT when no ``registration`` is given.
        registration_options: options of that registration (None: the defaults).
        attribution_method: "integrated_gradients" (signed, per pixel) or "gradcam" for the classifiers' maps.
        source: where the case came from, in words.
        progress: called with a short message before each step.
    """
    start = time.perf_counter()
    say = progress or (lambda message: None)
    report = CaseReport(case.subject_id, datetime.datetime.now().isoformat(timespec="seconds"), source)
    say("scans")
    report.scans = [scan_section(label, volume, case) for label, volume in _scans(case).items()]
    say("registration")
    aligned = _registration(report, case, registration, register, registration_options or {})
    volumes = {"CT": aligned.ct, **aligned.mr_weightings} if aligned.ct is not None else dict(aligned.mr_weightings)
    say("normalisation")
    report.normalisation = normalisation_rows(volumes, aligned)
    _model_sections(report, aligned, volumes, models, attribution_method, say)
    report.seconds = time.perf_counter() - start
    return report


def _scans(case: Case) -> dict[str, Volume]:
    scans = {"CT": case.ct} if case.ct is not None else {}
    scans.update(case.mr_weightings)
    return scans


def scan_section(label: str, volume: Volume, case: Case) -> ScanSection:
    """Metadata, load notes that name this scan (all of them for a one-scan case) and its middle slice."""
    notes = tuple(str(n) for n in case.meta.get("load_notes", ()))
    metadata = {key: str(value) for key, value in metadata_row(volume).items()}
    return ScanSection(label, metadata, notes, figures.scan_figure(volume, f"{label}: axial slice through the centre"))


# ------------------------------------------------------------------------------------------- registration
def _registration(report: CaseReport, case: Case, result: Any, register: bool, options: dict[str, Any]) -> Case:
    """The case with its MR on the CT grid (registered here, given, or by its known alignment)."""
    if case.ct is None or case.mr is None:
        report.omit("Registration", "the case has only one modality: nothing to register")
        return case
    if result is None and not register:
        report.omit("Registration", "not run for this report (scans placed by their known or scanner alignment)")
        return _unregistered(case)
    if result is None:
        try:
            result = register_rigid(case.ct, case.mr, **options)
        except FusionError as error:
            report.omit("Registration", f"registration failed: {error}")
            return _unregistered(case)
    aligned = case.aligned(transform=result.transform)
    report.registration = registration_section(case, aligned, result)
    return aligned


def _unregistered(case: Case) -> Case:
    """The MR on the CT grid by its known alignment, else by the scanners' coordinates as they are."""
    try:
        return case.aligned()
    except CaseError:
        return case.aligned(transform=sitk.Transform(3, sitk.sitkIdentity))


def registration_section(case: Case, aligned: Case, result: Any) -> RegistrationSection:
    """MI before/after inside the head, TRE when the truth is known, the transform, a fused view."""
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.evaluation.cross_modal import case_head_mask

    head = case_head_mask(aligned)
    before = resample_onto(case.mr, case.ct, sitk.Transform(3, sitk.sitkIdentity))
    tre_before, tre_after = _tre(case, aligned, result.transform, head)
    return RegistrationSection(
        initialisation=initialisation_text(result),
        mi_before=float(mutual_information(case.ct.array, before.array, mask=head)),
        mi_after=float(mutual_information(case.ct.array, aligned.mr.array, mask=head)),
        tre_before_mm=tre_before,
        tre_after_mm=tre_after,
        transform=transform_rows(result.transform),
        seconds=float(result.seconds),
        stop_reason=str(result.stop_reason),
        figure=figures.fused_figure(aligned.ct, aligned.mr, "registered MR (colour) over the CT (grey)"),
    )


INITIALISATION_WORDS = {
    "moments": "centres of mass of the head masks aligned (moments)",
    "geometry": "image centres aligned",
    "none": "the scanners' coordinates as they are",
}


def initialisation_text(result: Any) -> str:
    """How the search started, in words: the result's own record when it has one, else its option."""
    recorded = getattr(result, "initialisation", None)
    if hasattr(recorded, "used") and hasattr(recorded, "reason"):  # InitialisationChoice: its own sentence
        return initialisation_note(recorded)
    if recorded is None:
        recorded = getattr(result.options, "initialization", None)
    text = str(getattr(recorded, "description", None) or getattr(recorded, "value", None) or recorded or "")
    return INITIALISATION_WORDS.get(text, text or "not recorded")


def _tre(case: Case, aligned: Case, transform: Any, head: np.ndarray) -> tuple[float | None, float | None]:
    if case.true_transform is None:
        return None, None
    points = sample_points_in_mask(head, 200, reference=aligned.ct, seed=0)
    tre = tre_before_after(transform, case.true_transform, points)
    return float(tre.median_before), float(tre.median_after)


def transform_rows(transform: Any) -> tuple[tuple[str, str], ...]:
    """The transform in words: rotation (degrees) and translation (mm) of a rigid one, else its parameters."""
    name = transform.GetName()
    if name == "CompositeTransform" and transform.GetNumberOfTransforms() == 1:
        transform, name = transform.GetNthTransform(0), transform.GetNthTransform(0).GetName()
    params = np.asarray(transform.GetParameters(), dtype=float)
    if name == "Euler3DTransform":
        euler = sitk.Euler3DTransform(transform)
        return (
            ("type", "rigid (rotation + translation), CT → MR physical points"),
            ("rotation about x, y, z (°)", ", ".join(f"{np.degrees(a):.2f}" for a in params[:3])),
            ("translation x, y, z (mm)", ", ".join(f"{t:.2f}" for t in params[3:6])),
            ("centre of rotation (mm, LPS)", ", ".join(f"{c:.1f}" for c in euler.GetCenter())),
        )
    shown = ", ".join(f"{p:.4g}" for p in params[:12]) + (" …" if params.size > 12 else "")
    return (("type", name), (f"parameters ({params.size})", shown))


# ------------------------------------------------------------------------------------------ normalisation
def normalisation_rows(volumes: dict[str, Volume], aligned: Case) -> list[NormalisationRow]:
    """Each scan's default normaliser (CT window, MR z-score in the head) and the statistics it used."""
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.evaluation.cross_modal import case_head_mask

    head = case_head_mask(aligned).astype(np.float32)
    rows = []
    for key, volume in volumes.items():
        method = "ct_window" if key == "CT" else "zscore"
        mask = {} if method == "ct_window" or head.shape != volume.shape else {"mask": volume.with_array(head)}
        params = normalise(volume, method, **mask).params
        stats = ", ".join(f"{k} {_number(v)}" for k, v in params.items() if k != "method")
        rows.append(NormalisationRow(key, str(params.get("method", method)), stats))
    return rows


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# ------------------------------------------------------------------------------------------------- models
def _model_sections(
    report: CaseReport, aligned: Case, volumes: dict[str, Volume], models: Sequence[str], method: str, say
) -> None:
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference import load_model

    if not models:
        report.omit("Models", "no model was chosen for this report")
        return
    for name in models:
        say(name)
        model = load_model(name)
        try:
            if model.task == "classifier":
                report.classifiers.append(classifier_section(model, volumes, aligned, method))
            else:
                made = synthesis_sections(model, volumes, aligned)
                report.syntheses.extend(made)
                if not made:
                    report.omit(
                        name, f"{name} reads {model.card.describe_inputs()}: nothing it can make from this case"
                    )
        except FusionError as error:
            report.omit(name, f"{name} could not run on this case: {error}")


def synthesis_sections(model: Any, volumes: dict[str, Volume], aligned: Case) -> list[SynthesisSection]:
    """The model's output for each direction it can make from the case's scans."""
    # lazy: evaluation.cross_modal imports torch; this module's import stays torch-free
    from fusion_core.evaluation import cross_modal as cm

    sections = []
    for source, target in (("MR", "CT"), ("CT", "MR")):
        given = {k: v for k, v in volumes.items() if (k == "CT") == (source == "CT")}
        if given and cm.can_generate(model, source, target):
            sections.append(synthesis_section(model, given, aligned, source, target))
    return sections


def synthesis_section(
    model: Any, given: dict[str, Volume], aligned: Case, source: str, target: str
) -> SynthesisSection:
    """One generated volume, its metrics and error map against the real scan, and its spread when it has one."""
    # lazy: evaluation.cross_modal imports torch; this module's import stays torch-free
    from fusion_core.evaluation import cross_modal as cm

    generated, spread = _generate(model, given, target)
    real = cm.real_target(aligned, target)
    unit = cm.ERROR_UNITS[target]
    shown = [figures.scan_figure(generated, f"generated {target} ({model.name})", like=real)]
    metrics: dict[str, str] = {}
    remarks = []
    if real is None or real.shape != generated.shape:
        remarks.append(f"No real {target} on this grid: no metrics and no error map.")
    else:
        table = cm.metrics_table(cm.compare({model.name: generated}, aligned, target), target)
        metrics = {column: f"{value:.4g}" for column, value in table.iloc[0].items()}
        error = cm.signed_error(generated, real, cm.case_head_mask(aligned))
        shown.append(figures.error_figure(real, error, f"signed error, generated − real ({unit})", unit))
    if spread is None:
        remarks.append(f"{model.name} is deterministic: it gives no uncertainty map.")
    else:
        shown.append(figures.spread_figure(generated, spread, f"uncertainty: spread of the samples ({unit})", unit))
    note = model_note(model.card, aligned)
    return SynthesisSection(note, source, target, metrics, tuple(shown), tuple(remarks))


def _generate(model: Any, given: dict[str, Volume], target: str) -> tuple[Volume, Volume | None]:
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference import impute, impute_with_uncertainty

    if model.task == "diffusion":
        result = impute_with_uncertainty(model, given, target)
        return result.mean, result.std
    generated = impute(model, given, target)
    if model.task == "vae":
        return generated, impute_with_uncertainty(model, given, target, samples=UNCERTAINTY_SAMPLES).std
    return generated, None


def classifier_section(model: Any, volumes: dict[str, Volume], aligned: Case, method: str) -> ClassifierSection:
    """Probability and MC-dropout uncertainty, the test split's calibration, the map on the top slice."""
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.explain import attribution_map
    from fusion_core.inference import classify

    given = {k: v for k, v in volumes.items() if k in model.card.inputs}
    result = classify(model, given, mc_samples=MC_SAMPLES)
    top = int(result.top_slices[0])
    try:
        maps = attribution_map(model, given, top, method=method)
        attribution = figures.attribution_figure(given, maps, top, f"{method} attribution on slice {top}")
    except FusionError:
        attribution = None
    return ClassifierSection(
        model_note(model.card, aligned),
        float(result.probability),
        float(result.uncertainty),
        calibration_text(model.name),
        attribution,
    )


def calibration_text(name: str) -> str:
    """Expected calibration error of the model's full-input scores on its test split (scores.csv)."""
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference.registry import model_dir

    try:
        labels, scores = read_scores(model_dir(name)).scores("all")
    except (FusionError, OSError, ValueError):
        return "unknown (the model ships no test-split scores)"
    ece = expected_calibration_error(labels, scores)
    return f"expected calibration error {ece:.3f} on {len(labels)} test subjects"

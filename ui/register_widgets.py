"""Streamlit glue for the Register & Fuse page: cached computations keyed on what changes them.

Keys come from :mod:`ui.cache_keys`: a :class:`~ui.cache_keys.RegistrationKey` (case, fixed image, every
option) names a registration and everything computed from it; volumes are keyed on their own content
(:func:`~ui.cache_keys.volume_key`); display copies come from :mod:`ui.display`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import SimpleITK as sitk
import streamlit as st

from fusion_core.case import Case
from fusion_core.io import transform_to_tfm_bytes, volume_to_nifti_bytes
from fusion_core.preprocess import NormalisationResult, normalise, resample_to
from fusion_core.preprocess.masks import head_mask as shared_head_mask
from fusion_core.registration import (
    AlignmentQuality,
    MisalignmentEffect,
    MisalignmentProfile,
    RegistrationResult,
    ct_head_mask,
    ground_truth,
    misalignment_effect,
    misalignment_profile,
    register,
)
from fusion_core.registration import alignment_quality as core_alignment_quality
from fusion_core.volume import Volume
from ui import recovery
from ui.cache_keys import NormalisationKey, RegistrationKey, volume_key

RESULTS_KEY = "rf-results"


def pair_of(case: Case, fixed_name: str) -> tuple[Volume, Volume]:
    """(fixed, moving) volumes for "CT" or "MR" fixed."""
    return (case.ct, case.mr) if fixed_name == "CT" else (case.mr, case.ct)


def stored_result(key: RegistrationKey) -> RegistrationResult | None:
    """The session's result of the registration ``key`` names, or None before its Register click."""
    return st.session_state.setdefault(RESULTS_KEY, {}).get(key)


def run_registration(case: Case, key: RegistrationKey) -> RegistrationResult:
    """Register with a live progress bar and keep the result in the session (widgets do not re-run it)."""
    fixed, moving = pair_of(case, key.fixed_name)
    bar = st.progress(0.0, text="Starting registration…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(float(np.clip(fraction, 0, 1)), text=message)

    moving_name = "MR" if key.fixed_name == "CT" else "CT"
    options = {f.name: getattr(key.options, f.name) for f in dataclasses.fields(key.options)}
    with recovery.running_job(f"registering the {moving_name} of {case.subject_id} to its {key.fixed_name}"):
        result = register(fixed, moving, progress=progress, **options)
    bar.empty()
    results = st.session_state.setdefault(RESULTS_KEY, {})
    results.pop(key, None)  # re-insert: the dict runs oldest to newest (ui/aligned.py takes the newest)
    results[key] = result
    return result


@st.cache_resource(max_entries=8, show_spinner=False)
def unregistered(fingerprint: str, fixed_name: str, _case: Case) -> Volume:
    """The moving image on the fixed grid using scanner coordinates only (the "before" view); ``_case`` is the
    case with ``fingerprint``."""
    fixed, moving = pair_of(_case, fixed_name)
    return resample_to(moving, fixed)


@st.cache_resource(max_entries=4, show_spinner=False)
def truth(fingerprint: str, fixed_name: str, _case: Case) -> tuple[sitk.Transform | None, np.ndarray | None]:
    """(true transform, TRE points) of ``_case`` (the case with ``fingerprint``) with ``fixed_name`` fixed."""
    return ground_truth(_case, fixed=fixed_name)


@st.cache_resource(max_entries=8, show_spinner="Computing the mutual-information profile…")
def profile(
    key: RegistrationKey, axis: int, _fixed: Volume, _moving: Volume, _result: RegistrationResult, _true, _points, _mask
) -> MisalignmentProfile:
    """MI/TRE against a deliberate shift along ``axis``.

    ``key`` (case, fixed image, options) determines everything skipped: ``_fixed`` and ``_moving`` (the case's
    pair), ``_result`` (the seeded registration), ``_true`` and ``_points`` (the case's ground truth) and
    ``_mask`` (the fixed image's head mask).
    """
    return misalignment_profile(
        _fixed, _moving, _result.transform, axis=axis, true_transform=_true, points_mm=_points, mask=_mask
    )


@st.cache_resource(max_entries=16, show_spinner=False)
def misaligned(
    key: RegistrationKey,
    shift_mm: float,
    rotation_deg: float,
    _fixed: Volume,
    _moving: Volume,
    _result: RegistrationResult,
    _true,
    _points,
    _mask,
) -> MisalignmentEffect:
    """The registration moved ``shift_mm`` left–right and rotated ``rotation_deg`` about the head axis.

    ``key`` (case, fixed image, options) determines everything skipped: ``_fixed`` and ``_moving`` (the case's
    pair), ``_result`` (the seeded registration), ``_true`` and ``_points`` (the case's ground truth) and
    ``_mask`` (the fixed image's head mask).
    """
    return misalignment_effect(
        _fixed, _moving, _result.transform, shift_mm=(shift_mm, 0, 0), rotation_deg=(0, 0, rotation_deg),
        true_transform=_true, points_mm=_points, mask=_mask,
    )  # fmt: skip


def head_mask(volume: Volume) -> np.ndarray:
    """Boolean (z, y, x) head mask of ``volume``, once per volume (keyed on its content)."""
    return _head_mask(volume_key(volume), volume)


@st.cache_resource(max_entries=8, show_spinner=False)
def _head_mask(volume_key: str, _volume: Volume) -> np.ndarray:
    """``shared_head_mask(_volume)``; ``_volume`` is fully determined by ``volume_key`` (its content digest)."""
    return shared_head_mask(_volume)


@st.cache_resource(max_entries=12, show_spinner="Normalising…")
def normalised(key: NormalisationKey, _case: Case) -> NormalisationResult:
    """A normalisation of the case's CT or MR (reference: the other modality, masks: head masks); ``_case`` is
    the case with ``key.fingerprint``."""
    volume, reference = (_case.ct, _case.mr) if key.which == "CT" else (_case.mr, _case.ct)
    mask, reference_mask = (v.with_array(head_mask(v).astype(np.float32)) for v in (volume, reference))
    return normalise(
        volume, key.method, mask=mask, reference=reference, reference_mask=reference_mask, **dict(key.options)
    )


def alignment_quality(fixed: Volume, resampled: Volume) -> AlignmentQuality:
    """MI, edge alignment and joint histogram of the fixed image and a resampled moving image (head only for CT),
    once per pair of volumes (keyed on their content)."""
    return _alignment_quality(volume_key(fixed), volume_key(resampled), fixed, resampled)


@st.cache_resource(max_entries=16, show_spinner=False)
def _alignment_quality(fixed_key: str, resampled_key: str, _fixed: Volume, _resampled: Volume) -> AlignmentQuality:
    """``_fixed`` and ``_resampled`` are fully determined by ``fixed_key`` and ``resampled_key`` (content digests)."""
    return core_alignment_quality(_fixed.array, _resampled.array, mask=ct_head_mask(_fixed))


@st.cache_resource(max_entries=4, show_spinner="Preparing the downloads…")
def export_bytes(key: RegistrationKey, _result: RegistrationResult) -> tuple[bytes, bytes]:
    """(NIfTI of the registered image, ITK .tfm of the transform) as bytes, for download buttons; ``_result`` is
    the registration ``key`` names (seeded: the key determines it)."""
    return volume_to_nifti_bytes(_result.resampled), transform_to_tfm_bytes(_result.transform)

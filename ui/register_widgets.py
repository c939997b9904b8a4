"""Streamlit glue for the Register & Fuse page: cached computations keyed on what changes them."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from fusion_core.case import Case
from fusion_core.io import transform_to_tfm_bytes, volume_to_nifti_bytes
from fusion_core.preprocess import NormalisationResult, normalise, resample_to
from fusion_core.preprocess.masks import head_mask as shared_head_mask
from fusion_core.registration import (
    AlignmentQuality,
    MisalignmentProfile,
    RegistrationResult,
    ct_head_mask,
    ground_truth,
    misalignment_profile,
    register,
)
from fusion_core.registration import alignment_quality as core_alignment_quality
from fusion_core.viz.display import display_window
from fusion_core.viz.views import canonical
from fusion_core.volume import Volume
from ui import recovery

RESULTS_KEY = "rf-results"


def pair_of(case: Case, fixed_name: str) -> tuple[Volume, Volume]:
    """(fixed, moving) volumes for "CT" or "MR" fixed."""
    return (case.ct, case.mr) if fixed_name == "CT" else (case.mr, case.ct)


def result_key(case: Case, fixed_name: str, options: dict[str, Any]) -> tuple:
    return (case.fingerprint, fixed_name, tuple(sorted(options.items())))


def stored_result(key: tuple) -> RegistrationResult | None:
    return st.session_state.setdefault(RESULTS_KEY, {}).get(key)


def run_registration(case: Case, fixed_name: str, options: dict[str, Any], key: tuple) -> RegistrationResult:
    """Register with a live progress bar and keep the result in the session (widgets do not re-run it)."""
    fixed, moving = pair_of(case, fixed_name)
    bar = st.progress(0.0, text="Starting registration…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(float(np.clip(fraction, 0, 1)), text=message)

    moving_name = "MR" if fixed_name == "CT" else "CT"
    with recovery.running_job(f"registering the {moving_name} of {case.subject_id} to its {fixed_name}"):
        result = register(fixed, moving, progress=progress, **options)
    bar.empty()
    results = st.session_state.setdefault(RESULTS_KEY, {})
    results.pop(key, None)  # re-insert: the dict runs oldest to newest (ui/aligned.py takes the newest)
    results[key] = result
    return result


@st.cache_resource(max_entries=8, show_spinner=False)
def unregistered(case_key: str, fixed_name: str, _case: Case) -> Volume:
    """The moving image on the fixed grid using scanner coordinates only (the "before" view)."""
    fixed, moving = pair_of(_case, fixed_name)
    return resample_to(moving, fixed)


@st.cache_resource(max_entries=16, show_spinner=False)
def display_volume(case_key: str, role: str, _volume: Volume) -> Volume:
    """Canonical (display-oriented) copy of a volume; ``role`` names it in the cache key."""
    return canonical(_volume)


@st.cache_resource(max_entries=4, show_spinner=False)
def truth(case_key: str, fixed_name: str, _case: Case):
    return ground_truth(_case, fixed=fixed_name)


@st.cache_resource(max_entries=8, show_spinner="Computing the mutual-information profile…")
def profile(
    key: tuple, axis: int, _fixed: Volume, _moving: Volume, _result: RegistrationResult, _true, _points, _mask
) -> MisalignmentProfile:
    """MI/TRE against a deliberate shift; ``key`` is the registration's result key."""
    return misalignment_profile(
        _fixed, _moving, _result.transform, axis=axis, true_transform=_true, points_mm=_points, mask=_mask
    )


@st.cache_resource(max_entries=8, show_spinner=False)
def head_mask(case_key: str, which: str, _volume: Volume) -> np.ndarray:
    """Boolean (z, y, x) head mask of the case's CT or MR (``which``)."""
    return shared_head_mask(_volume)


@st.cache_resource(max_entries=8, show_spinner=False)
def mr_display_window(case_key: str, _case: Case) -> tuple[float, float]:
    """(level, width) of the case's MR: the shared display window, the same as on the Data page."""
    return display_window(_case.mr)


@st.cache_resource(max_entries=12, show_spinner="Normalising…")
def normalised(case_key: str, which: str, method: str, option_items: tuple, _case: Case) -> NormalisationResult:
    """A normalisation of the case's CT or MR (reference: the other modality, masks: head masks)."""
    volume, reference = (_case.ct, _case.mr) if which == "CT" else (_case.mr, _case.ct)
    masks = {
        name: vol.with_array(head_mask(case_key, name, vol).astype(np.float32))
        for name, vol in (("CT", _case.ct), ("MR", _case.mr))
    }
    mask, reference_mask = (masks["CT"], masks["MR"]) if which == "CT" else (masks["MR"], masks["CT"])
    return normalise(
        volume, method, mask=mask, reference=reference, reference_mask=reference_mask, **dict(option_items)
    )


@st.cache_resource(max_entries=16, show_spinner=False)
def alignment_quality(cache_key: tuple, _fixed: Volume, _resampled: Volume) -> AlignmentQuality:
    """MI, edge alignment and joint histogram of the fixed image and a resampled moving image (head only for CT)."""
    return core_alignment_quality(_fixed.array, _resampled.array, mask=ct_head_mask(_fixed))


@st.cache_resource(max_entries=4, show_spinner="Preparing the downloads…")
def export_bytes(key: tuple, _result: RegistrationResult) -> tuple[bytes, bytes]:
    """(NIfTI of the registered image, ITK .tfm of the transform) as bytes, for download buttons."""
    return volume_to_nifti_bytes(_result.resampled), transform_to_tfm_bytes(_result.transform)

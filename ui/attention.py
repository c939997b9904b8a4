"""Streamlit glue of the Attention & Uncertainty page: cached maps keyed on what changes them, the click location.

Every map is cached on (aligned case fingerprint, model, slice, method, ...): moving one slider
recomputes only the maps that depend on it. The shared cached models are never changed: the
``fusion_core.explain`` functions work on a private copy of the network.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from fusion_core import explain
from fusion_core.case import Case
from fusion_core.evaluation.shift import ShiftSetting, shifted_volumes
from fusion_core.inference import ModelInputError, crop_fraction, list_models
from fusion_core.preprocess import WINDOW_PRESETS
from fusion_core.preprocess.slices import crop_window
from fusion_core.viz.display import display_window, to_display_unit
from fusion_core.volume import Volume
from ui.models import get_model
from ui.session import demo_spec

ATTENTION_MODEL = "clf-intermediate-attention"
WEIGHTS_MODEL = "clf-uncertainty-late"
VAE_MODEL = "vae-poe"
QUERY_KEYS = {"y": "att-query-y", "x": "att-query-x"}


def volumes_of(case: Case) -> dict:
    """The model inputs of an aligned case: {"CT": ct, "MR-T1": t1, "MR-T2": t2}."""
    return {"CT": case.ct, **case.mr_weightings}


def default_slice(case: Case) -> int:
    """The slice through the most lesion (the truth, when known), else the middle slice."""
    lesion = case.masks.get("lesion")
    if lesion is not None and lesion.array.any():
        return int(lesion.array.sum((1, 2)).argmax())
    return case.ct.shape[0] // 2


def lesion_slice(case: Case, slice_index: int) -> np.ndarray | None:
    lesion = case.masks.get("lesion")
    return None if lesion is None else lesion.array[slice_index] > 0.5


@st.cache_data(max_entries=16, show_spinner=False)
def display_slices(fingerprint: str, slice_index: int, _case: Case) -> dict[str, np.ndarray]:
    """CT (brain window) and MR-T1 (head percentile window) slices in [0, 1] for the overlays; ``_case`` is determined by ``fingerprint`` (the case's fingerprint)."""
    ct = _case.ct
    mr = _case.mr_weightings.get("MR-T1", _case.mr)
    brain = WINDOW_PRESETS["brain"]
    return {
        "CT": to_display_unit(ct.array[slice_index], (brain.level, brain.width)),
        "MR": to_display_unit(mr.array[slice_index], display_window(mr)),
    }


@st.cache_data(max_entries=64, show_spinner="Computing the attribution…")
def attribution(fingerprint: str, model: str, slice_index: int, method: str, _case: Case) -> dict[str, np.ndarray]:
    """``model``'s ``method`` attribution maps of one slice; ``_case`` is determined by ``fingerprint`` (the case's fingerprint)."""
    return explain.attribution_map(get_model(model), volumes_of(_case), slice_index, method=method)


@st.cache_data(max_entries=64, show_spinner=False)
def importance(fingerprint: str, model: str, slice_index: int, _case: Case) -> dict[str, float]:
    """``model``'s modality importance on one slice; ``_case`` is determined by ``fingerprint`` (the case's fingerprint)."""
    return explain.modality_importance(get_model(model), volumes_of(_case), slice_index)


@st.cache_data(max_entries=16, show_spinner="Reading the cross-modal attention…")
def attention_layers(fingerprint: str, slice_index: int, _case: Case) -> dict[str, list[np.ndarray]]:
    """The attention model's cross-modal attention per layer on one slice; ``_case`` is determined by ``fingerprint`` (the case's fingerprint)."""
    return explain.attention_layers(get_model(ATTENTION_MODEL), volumes_of(_case), slice_index)


@st.cache_data(max_entries=8, show_spinner="Running the lesion-map heads…")
def lesion_maps(fingerprint: str, model: str, _case: Case) -> dict[str, np.ndarray]:
    """Encoder name -> (z, y, x) lesion probability of the whole volume (one run serves every slice);
    ``_case`` is determined by ``fingerprint`` (the case's fingerprint)."""
    return {k: v.array for k, v in explain.lesion_maps(get_model(model), volumes_of(_case)).items()}


@st.cache_data(max_entries=32, show_spinner="MC-dropout draws…")
def uncertainty(fingerprint: str, model: str, slice_index: int, _case: Case) -> explain.EvidenceUncertainty:
    """``model``'s evidence and MC-dropout uncertainty on one slice; ``_case`` is determined by ``fingerprint`` (the case's fingerprint)."""
    return explain.evidence_uncertainty(get_model(model), volumes_of(_case), slice_index)


def posterior_variance(fingerprint: str, inputs: tuple[str, ...], slice_index: int, _case: Case) -> np.ndarray:
    """The VAE's posterior variance map of one slice from the scans ``inputs``; ``_case`` is determined by
    ``fingerprint`` (the case's fingerprint). The whole volume is encoded once per inputs (the active
    channels are the volume's), so moving the slice costs nothing."""
    volume = _posterior_variance_volume(fingerprint, inputs, _case)
    if not 0 <= slice_index < volume.shape[0]:
        raise ModelInputError(f"slice {slice_index} is outside 0..{volume.shape[0] - 1}")
    return volume[slice_index]


@st.cache_data(max_entries=8, show_spinner="Encoding the volume with the VAE…")
def _posterior_variance_volume(fingerprint: str, inputs: tuple[str, ...], _case: Case) -> np.ndarray:
    """(z, y, x) posterior variance of the whole volume from ``inputs``; ``_case`` is determined by ``fingerprint``
    (the case's fingerprint)."""
    volumes = {k: v for k, v in volumes_of(_case).items() if k.split("-")[0] in inputs}
    return explain.posterior_variance(get_model(VAE_MODEL), volumes).volume.array


def model_window(model: str, shape: tuple[int, int]) -> np.ndarray:
    """(y, x) mask of the model's input window: where its maps exist (the random baseline's support)."""
    ys, xs = crop_window(shape, crop_fraction(get_model(model)))
    support = np.zeros(shape, dtype=bool)
    support[ys, xs] = True
    return support


def demo_index(case: Case) -> int | None:
    """The case's index in the demo cohort spec, or None when it is not a demo subject."""
    if case.meta.get("cohort_spec") != demo_spec().name:
        return None
    ids = demo_spec().subject_ids()
    return ids.index(case.subject_id) if case.subject_id in ids else None


@st.cache_resource(max_entries=6, show_spinner="Re-acquiring the subject with the degraded scanner…")
def _shifted(index: int, modality: str, blur_mm: float, noise: float) -> dict:
    return shifted_volumes(demo_spec(), index, ShiftSetting(modality=modality, blur_mm=blur_mm, noise=noise))[0]


@st.cache_data(max_entries=64, show_spinner=False)
def degraded_weights(
    index: int, modality: str, blur_mm: float, noise: float, removed: bool, slice_index: int
) -> dict[str, float]:
    """The uncertainty-late weights on demo subject ``index`` with one modality re-acquired worse, or removed."""
    volumes = _shifted(index, modality, blur_mm, noise)
    if removed:
        volumes = {k: v for k, v in volumes.items() if not k.startswith(modality)}
    return explain.fusion_weights(get_model(WEIGHTS_MODEL), volumes, slice_index)


def has_diffusion() -> bool:
    return bool(list_models(task="diffusion"))


def query_location(shape: tuple[int, int]) -> tuple[int, int]:
    """The attention query (y, x): set by a click on the query image or the two number boxes."""
    for axis, size in zip(("y", "x"), shape, strict=True):
        st.session_state.setdefault(QUERY_KEYS[axis], size // 2)
    return int(st.session_state[QUERY_KEYS["y"]]), int(st.session_state[QUERY_KEYS["x"]])


def take_click(chart_key: str) -> None:
    """on_select callback: the clicked pixel becomes the query location."""
    points = st.session_state[chart_key].selection.points
    if points:
        st.session_state[QUERY_KEYS["y"]] = round(points[0]["y"])
        st.session_state[QUERY_KEYS["x"]] = round(points[0]["x"])


@st.cache_data(max_entries=64, show_spinner="Sampling the diffusion model on this slice…")
def diffusion_spread(fingerprint: str, name: str, slice_index: int, _case: Case) -> np.ndarray:
    """(y, x) standard deviation of the diffusion model's CT samples from the MR on one axial slice (HU).

    Only that slice is sampled (a fraction of a second, not the whole volume); ``_case`` is determined
    by ``fingerprint`` (the case's fingerprint).
    """
    from fusion_core.inference import impute_with_uncertainty

    mr = {k: v for k, v in volumes_of(_case).items() if k.startswith("MR")}
    return impute_with_uncertainty(get_model(name), mr, "CT", slices=[slice_index]).std.array[slice_index]


def slice_map_volume(case: Case, slice_index: int, values: np.ndarray) -> Volume:
    """A (y, x) map of one axial slice as a one-slice volume placed where that CT slice lies, for the viewer."""
    ct = case.ct
    array = np.nan_to_num(np.asarray(values, dtype=np.float32))[None]
    origin = ct.index_to_physical([0, 0, slice_index])
    return Volume(array, spacing=ct.spacing, origin=origin, direction=ct.direction, modality="map", name="map")


def query_mm(case: Case, slice_index: int, query: tuple[int, int]) -> np.ndarray:
    """The query pixel (y, x) of ``slice_index`` in LPS mm: where the viewer's crosshair starts."""
    y, x = query
    return case.ct.index_to_physical([x, y, slice_index])


def take_viewer_click(case: Case, clicked_mm: np.ndarray | None) -> bool:
    """A click on the scan viewer becomes the query location (y, x); True when it moved the query."""
    if clicked_mm is None:
        return False
    x, y, _ = np.rint(case.ct.physical_to_index(clicked_mm)).astype(int)
    height, width = case.ct.shape[1:]
    new = (int(np.clip(y, 0, height - 1)), int(np.clip(x, 0, width - 1)))
    old = (st.session_state.get(QUERY_KEYS["y"]), st.session_state.get(QUERY_KEYS["x"]))
    st.session_state[QUERY_KEYS["y"]], st.session_state[QUERY_KEYS["x"]] = new
    return new != old

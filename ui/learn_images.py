"""Learn page, demos 4 and 5: misregistration and intensity normalisation on phantom scans."""

from __future__ import annotations

import streamlit as st

from fusion_core.errors import FusionError
from fusion_core.teaching.misregistration import misregistration_view, read_curve
from fusion_core.teaching.normalisation import Normalisation, site_pair, site_transfer
from fusion_core.viz import concepts as tviz
from ui.learn_common import Demo, open_demo
from ui.session import demo_case, demo_subject_ids

CURVE_LABELS = {
    "voxel-wise early fusion": "Voxel-wise early fusion AUC",
    "clf-early": "Early-fusion CNN AUC",
    "clf-late": "Late-fusion CNN AUC",
}
MISREGISTRATION = Demo(
    4,
    "misregistration",
    "Misregistration",
    "What happens to fusion when the MR is a few millimetres off the CT?",
)

NORMALISATION = Demo(
    5,
    "normalisation",
    "Normalisation",
    "A model learned on one hospital's MR meets another hospital's scanner: what goes wrong, and what fixes it?",
)


@st.cache_data(show_spinner="Training the voxel classifier at site A (a few seconds, once)…")
def _transfers():
    return [site_transfer(method) for method in Normalisation]


@st.cache_data(show_spinner=False, max_entries=8)
def _pair(method: str):
    return site_pair(method)


def render_normalisation() -> None:
    open_demo(NORMALISATION)
    method = st.radio(
        "Normalise every MR first by", [str(m) for m in Normalisation], horizontal=True, key="learn-norm-method"
    )
    result = next(r for r in _transfers() if r.method == method)
    m1, m2, m3 = st.columns(3)
    m1.metric("Site A (trained here): balanced accuracy", f"{result.train_balanced_accuracy:.0%}")
    m2.metric(
        "Site B (new scanner): balanced accuracy",
        f"{result.test_balanced_accuracy:.0%}",
        f"{result.test_balanced_accuracy - result.train_balanced_accuracy:+.0%} vs site A",
    )
    m3.metric("Site B: AUC (threshold-free)", f"{result.test_auc:.2f}")
    st.plotly_chart(tviz.site_pair_figure(_pair(method)), key="learn-norm-pair-figure")
    st.plotly_chart(tviz.transfer_figure(_transfers(), method), key="learn-norm-transfer-figure")
    st.caption(
        "One head scanned at two sites (top): site B's receiver gain, TR/TE and bias field move every intensity. "
        "A linear classifier (logistic regression: lesion or not, from each voxel's T1 and T2) learns its "
        "threshold on 10 site-A patients and is tested on 10 other patients at site B. Without normalisation the "
        "threshold lands in the wrong place; a per-scan z-score puts both sites on one scale. Histogram matching "
        "to one reference aligns the histograms too, but squeezes the lesion's contrast here: it costs accuracy at "
        "both sites. The MR→CT scale is the z-score given a CT head's mean and spread (HU-like numbers): for a "
        "linear classifier it changes nothing beyond the z-score."
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _view(subject_id: str, shift_mm: float, rotation_deg: float):
    return misregistration_view(demo_case(subject_id).aligned(), shift_mm=shift_mm, rotation_deg=rotation_deg)


@st.cache_data(show_spinner=False)
def _curve():
    try:
        return read_curve(), ""
    except FusionError as error:
        return None, str(error)


def render_misregistration() -> None:
    open_demo(MISREGISTRATION)
    c1, c2 = st.columns(2)
    shift = c1.slider("shift the MR left-right (mm)", -16.0, 16.0, 0.0, 1.0, key="learn-mis-shift")
    rotation = c2.slider("rotate the MR in the axial plane (°)", -15.0, 15.0, 0.0, 1.0, key="learn-mis-rotation")
    view = _view(demo_subject_ids()[0], shift, rotation)
    aligned = _view(demo_subject_ids()[0], 0.0, 0.0)
    curve, problem = _curve()
    columns = st.columns(4)
    columns[0].metric(
        "Mutual information CT–MR",
        f"{view.mutual_information:.2f} bits",
        f"{view.mutual_information - aligned.mutual_information:+.2f} vs aligned",
    )
    if curve is None:
        st.info(problem)
    else:
        at = int(abs(curve.offsets_mm - abs(shift)).argmin())
        for column, (name, label) in zip(columns[1:], CURVE_LABELS.items(), strict=True):
            if name in curve.auc:
                auc = curve.auc[name]
                column.metric(
                    f"{label} at {curve.offsets_mm[at]:g} mm", f"{auc[at]:.2f}", f"{auc[at] - auc[0]:+.2f} vs aligned"
                )
    st.plotly_chart(tviz.misregistration_figure(view, curve, shift), key="learn-mis-figure")
    if curve is not None:
        st.caption(
            "Live (first demo subject): mutual information and the early-fusion input, the CT with the MR's edges. "
            f"Precomputed: the shipped early- and late-fusion CNNs on {len(curve.subject_ids)} demo subjects "
            f"({curve.n_positive} with a lesion), and a voxel-wise early fusion (logistic regression on each voxel's "
            "CT, T1 and T2, lesions the MR shows), with the MR shifted left-right (nearest offset to the slider). "
            "Voxel-by-voxel fusion needs every voxel's CT and MR to come from one place. The subject-level CNNs "
            "pool each slice before deciding, which makes them more forgiving: " + _changes(curve) + "."
        )


def _changes(curve) -> str:
    """What the largest shift did to each curve, in words (the numbers, not a claim)."""
    largest = curve.offsets_mm[-1]
    parts = [f"{CURVE_LABELS.get(name, name)} {auc[-1] - auc[0]:+.2f}" for name, auc in curve.auc.items()]
    return f"at {largest:g} mm, " + ", ".join(parts)

"""The uncertainty-weighted fusion's per-modality weights as one scan degrades, cached per subject and scan."""

from __future__ import annotations

import streamlit as st

from fusion_core.teaching.uncertainty import WeightCurve, noise_weight_curve
from ui.models import get_model
from ui.session import demo_case


@st.cache_data(show_spinner="Running the uncertainty-weighted model at every noise level (a few seconds, once)…")
def weight_curve(subject_id: str, noisy: str) -> WeightCurve:
    """``clf-uncertainty-late``'s weights on a demo subject with more and more noise on ``noisy`` ("CT" or "MR")."""
    case = demo_case(subject_id).aligned()
    return noise_weight_curve(get_model("clf-uncertainty-late"), {"CT": case.ct, **case.mr_weightings}, noisy=noisy)

"""Learn page, demos 4 and 5: misregistration and intensity normalisation on phantom scans."""

from __future__ import annotations

import streamlit as st

from fusion_core.teaching.normalisation import Normalisation, site_pair, site_transfer
from fusion_core.viz import teaching as tviz
from ui.learn_common import Demo, open_demo

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
        "to one reference aligns the histograms too, but squeezes the lesion's contrast here: it costs accuracy at both sites."
    )

"""Learn page, demos 3 and 8: the fusion architectures with their measured AUCs, and uncertainty weights."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fusion_core.inference.registry import ASSETS_DIR
from fusion_core.teaching.architectures import AVAILABLE_INPUTS, measured_aucs, trade_off_rows
from fusion_core.viz import concepts as tviz
from ui.learn_common import Demo, open_demo
from ui.session import demo_subject_ids
from ui.uncertainty import weight_curve

ARCHITECTURES = Demo(
    3,
    "early-intermediate-late",
    "Early, intermediate, late fusion",
    "Where in the network should CT and MR meet, and what does each choice cost?",
)

UNCERTAINTY = Demo(
    8,
    "uncertainty-weights",
    "Uncertainty-weighted fusion",
    "If one scan is degraded, can the model notice and trust it less?",
)

MODELS_DIR = ASSETS_DIR  # where the shipped classifiers' scores.csv live (tests point it elsewhere)


@st.cache_data(show_spinner=False, max_entries=16)
def _measured(models_dir: str, inputs: str):
    return measured_aucs(models_dir, inputs)


def render_architectures() -> None:
    open_demo(ARCHITECTURES)
    inputs = st.radio("Scans available at test time", list(AVAILABLE_INPUTS), horizontal=True, key="learn-arch-inputs")
    measured = _measured(str(MODELS_DIR), inputs)
    columns = st.columns(len(measured))
    for column, entry in zip(columns, measured, strict=True):
        value = "—" if entry.auc is None else f"{entry.auc:.3f}"
        column.metric(
            f"{entry.architecture.capitalize()} fusion: AUC",
            value,
            help=entry.note or f"{entry.model}, {entry.n} demo subjects",
        )
    st.plotly_chart(tviz.architectures_figure(measured), key="learn-arch-figure")
    if notes := [f"{m.architecture}: {m.note}" for m in measured if m.note]:
        st.info("Not measured: " + "; ".join(notes))
    st.dataframe(pd.DataFrame(trade_off_rows()).set_index(""), key="learn-arch-table")
    st.caption(
        "AUCs are the shipped classifiers' scores on the demo subjects (people none of them trained on), "
        "with 95 % bootstrap intervals. With a scan missing, each model is given what is left."
    )


def render_uncertainty() -> None:
    open_demo(UNCERTAINTY)
    c1, c2 = st.columns([1, 2])
    noisy = c1.radio("Add noise to", ["MR", "CT"], horizontal=True, key="learn-unc-noisy")
    curve = weight_curve(demo_subject_ids()[0], noisy)
    level = c2.select_slider("noise σ", list(curve.noise_levels), 0.0, key="learn-unc-level")
    index = list(curve.noise_levels).index(level)
    m1, m2, m3 = st.columns(3)
    for column, name in zip((m1, m2), curve.weights, strict=True):
        column.metric(f"{name} weight", f"{curve.weights[name][index]:.2f}")
    m3.metric(f"{noisy} weight with the {noisy} missing", f"{curve.missing_weights[noisy]:.2f}")
    st.latex(
        r"w_i = \frac{1/\sigma_i^2}{\sum_j 1/\sigma_j^2}, \qquad \sigma_i^2 = "
        r"\underbrace{\sigma^2_{i,\text{aleatoric}}}_{\text{head's own estimate}} + "
        r"\underbrace{\sigma^2_{i,\text{epistemic}}}_{\text{spread over 8 MC-dropout passes}}"
    )
    st.plotly_chart(tviz.weight_curve_figure(curve, index), key="learn-unc-figure")
    st.caption(
        "The shipped uncertainty-late classifier reads each modality with its own head, and each head also "
        "says how unsure it is. Bury one scan in noise and its head grows unsure, so its vote counts less; "
        "leave it out and its weight is 0. Weights are averaged over 16 central slices of the first demo subject."
    )

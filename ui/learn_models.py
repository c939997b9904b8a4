"""Learn page, demos 3 and 8: the fusion architectures with their measured AUCs, and uncertainty weights."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fusion_core.inference.registry import ASSETS_DIR
from fusion_core.teaching.architectures import AVAILABLE_INPUTS, measured_aucs, trade_off_rows
from fusion_core.viz import teaching as tviz
from ui.learn_common import Demo, open_demo

ARCHITECTURES = Demo(
    3,
    "early-intermediate-late",
    "Early, intermediate, late fusion",
    "Where in the network should CT and MR meet, and what does each choice cost?",
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

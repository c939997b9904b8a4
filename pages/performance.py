"""Fusion Performance: ROC curves of every fusion strategy against the independence bound, the clinicians'
table, AUC with a modality missing, and calibration — from the shipped per-subject scores."""

from __future__ import annotations

import streamlit as st

from ui import performance as perf
from ui import performance_page as page
from ui.guard import require_app_navigation
from ui.pipeline_results import performance_section as pipeline_performance_section
from ui.scaffold import page_boundary

require_app_navigation()

with page_boundary("showing the Fusion Performance page"):
    st.title("Fusion Performance")
    fingerprint = perf.scores_fingerprint()
    if not fingerprint:
        st.info(f"No classifier ships its scores yet (assets/models/clf-*/scores.csv). Run `{page.REPRODUCE}` first.")
        st.stop()
    page.introduction(fingerprint)

    pipeline_performance_section()  # scores of a cohort processed by python -m fusion_core.pipeline
    names, chosen, evaluated = page.choose_strategies(fingerprint)
    if not evaluated:
        st.info("Pick at least one strategy above.")
        st.stop()

    st.subheader("ROC curves and the independence bound")
    bound = page.roc_section(fingerprint, evaluated)

    st.subheader("The clinicians' table")
    page.clinicians_section(evaluated)

    if bound is not None:
        st.subheader("The bound per lesion type")
        page.lesion_bound_section(fingerprint, chosen)

    st.subheader("With a modality missing")
    page.missing_section(fingerprint, names, chosen)

    st.subheader("Calibration")
    page.calibration_section(fingerprint, chosen)

    st.subheader("Under domain shift")
    page.domain_shift_intro()
    perf.domain_shift_section(fingerprint)

"""Data: choose scans (demo cohort, a folder, or uploads), see their metadata and look at them."""

from __future__ import annotations

import streamlit as st

from ui import data_sources, session
from ui.deeplink import apply_data_query_params
from ui.guard import require_app_navigation
from ui.pipeline_results import section as pipeline_results_section
from ui.report_button import case_report_button
from ui.scaffold import page_boundary

require_app_navigation()

with page_boundary("showing the Data page"):
    apply_data_query_params()  # ?subject=...&slice=... (links from the Latent Space page)
    st.title("Data")
    st.caption(
        "Pick a CT/MR pair and look at it: metadata of each scan and axial, coronal and sagittal slices, "
        "linked by physical position."
    )

    pipeline_results_section()  # a folder written by python -m fusion_core.pipeline: its cohort table

    # Errors (VolumeLoadError, CohortError, CaseError: messages that name the file) reach the page boundary.
    case = data_sources.choose_case()
    if case is not None:
        session.set_active_case(case)
        data_sources.show_case(case)
        case_report_button(
            case, label="Case report (HTML: these scans, their metadata and load notes)", key="data-dl-report",
            register=False, source="Data page",
        )  # fmt: skip

"""Register & Fuse: align MR to CT by mutual information, check the alignment, normalise and fuse."""

from __future__ import annotations

import streamlit as st

from ui import register_sections as sections
from ui.guard import require_app_navigation
from ui.scaffold import page_boundary
from ui.session import active_case

require_app_navigation()

with page_boundary("showing the Register & Fuse page"):
    st.title("Register & Fuse")
    st.caption(
        "Align the MR to the CT by maximising their mutual information, see how good the alignment is "
        "(checkerboard, blend, edges, joint histogram and, on the phantom, the true error in mm), then "
        "normalise intensities and fuse the two images pixel by pixel."
    )
    case = active_case()
    if not case.is_paired:
        st.info(
            f"Subject {case.subject_id} has only {', '.join(case.modalities) or 'no scans'}: registration needs a CT and an MR. Pick a paired subject on the Data page."
        )
        st.stop()

    st.subheader("1 · Register")
    pair = sections.register_section(case)

    st.subheader("2 · Compare before and after")
    shown = sections.compare_section(case, pair)

    if pair.result is not None:
        st.subheader("3 · Misregister on purpose")
        sections.misregister_section(case, pair, shown)

    st.subheader("4 · Normalise intensities")
    sections.normalise_section(case)

    st.subheader("5 · Fuse CT and MR pixel by pixel")
    if pair.result is None:
        st.info("Register first: pixel-level fusion needs both images on one grid.")
    else:
        sections.fusion_section(pair, shown)

    if pair.result is not None:
        st.subheader("6 · Download")
        sections.download_section(case, pair)

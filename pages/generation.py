"""Cross-modal Generation: synthetic CT from MR and back, where it is wrong, and what the models invent."""

from __future__ import annotations

import streamlit as st

from fusion_core.preprocess.window import WINDOW_PRESETS
from ui import generation as gen
from ui import generation_page as page
from ui import generation_sections as sections
from ui.guard import require_app_navigation
from ui.scaffold import page_boundary
from ui.viewer import ct_window_label, tri_planar

require_app_navigation()

with page_boundary("showing the Cross-modal Generation page"):
    st.title("Cross-modal Generation")
    st.caption(
        "Each trained model makes a CT from the MR (or an MR from the CT) of one subject; beside the real scan "
        "you see where it is wrong (signed error in HU), one table of metrics for every model, and what no "
        "model can invent."
    )
    choice = page.choose_inputs()
    case, source, target = choice.case, choice.source, choice.target
    st.caption(f"Subject {case.subject_id}: {choice.note}.")
    volumes = page.generate(choice)
    if not volumes:
        st.stop()
    real = gen.real_target(case.fingerprint, target, case)
    csv = page.metrics_section(choice, volumes, real)

    st.subheader("Input, generated and real, at one position")
    v1, v2 = st.columns(2)
    shown = v1.selectbox("Generated volume in the viewer", list(volumes), key="gen-shown")
    preset = v2.selectbox(
        "CT window", list(WINDOW_PRESETS), index=sections.DEFAULT_CT_WINDOW, key="gen-ct-window",
        format_func=ct_window_label,
    )  # fmt: skip
    ct_window = tuple(WINDOW_PRESETS[preset])
    trio = sections.viewer_volumes(case, source, target, volumes[shown], real, shown)
    windows = sections.viewer_windows(trio, ct_window)
    point = tri_planar(trio, key="gen-view", windows=windows)
    target_window = ct_window if target == "CT" else windows[f"{target} · {shown}"]
    errors = page.ErrorMaps()
    if real is not None:
        errors = page.error_section(choice, volumes, real, shown, point, target_window)

    st.subheader("Every model on the same slice")
    page.multiples_section(choice, volumes, errors, point, target_window)
    page.later_sections(choice, volumes, shown, point, target_window, real)

    st.subheader("Download")
    page.download_section(choice, volumes, shown, errors, csv)

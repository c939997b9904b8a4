"""Attention & Uncertainty: where the models look, whether that is the lesion, and how sure they are."""

from __future__ import annotations

import streamlit as st

from fusion_core.explain import METHOD_LABELS, Method, recommended_attribution
from ui import attention as att
from ui import attention_sections as sections
from ui.aligned import aligned_active_case
from ui.guard import require_app_navigation
from ui.models import get_model, model_picker, show_caveats
from ui.report_button import attention_report_button
from ui.scaffold import page_boundary

require_app_navigation()

with page_boundary("showing the Attention & Uncertainty page"):
    st.title("Attention & Uncertainty")
    st.caption(
        "For one slice of the active subject: which MR regions a CT location attends to (and back), which pixels "
        "the lesion classifiers' decision rests on, whether that is the lesion, and how sure the models are."
    )
    aligned = aligned_active_case()
    case = aligned.case
    st.caption(f"Subject {case.subject_id}, MR {aligned.note}. Pick another subject on the Data page.")

    faithful_model, faithful_method = recommended_attribution()  # measured: the pair that points at the lesion
    c1, c2, c3 = st.columns([2, 3, 2])
    with c1:
        n = case.ct.shape[0]
        slice_index = st.slider("Axial slice", 0, n - 1, att.default_slice(case), key="att-slice")
    with c2:
        model = model_picker("Classifier (fusion strategy)", task="classifier", key="att-model", default=faithful_model)
    method = c3.radio(
        "Attribution method",
        [m.value for m in Method],
        index=[m.value for m in Method].index(faithful_method),
        format_func=lambda m: METHOD_LABELS[Method(m)],
        key="att-method",
    )
    if model is None:
        st.stop()
    show_caveats(get_model(model).card, case)
    base = att.display_slices(case.fingerprint, slice_index, case)
    lesion = att.lesion_slice(case, slice_index)

    st.subheader("1 · Cross-modal attention: click a location")
    sections.attention_section(case, slice_index, base, lesion)

    st.subheader(f"2 · What {model}'s decision rests on")
    shown = sections.attribution_section(case, model, slice_index, method, base, lesion)
    sections.pointing_benchmark(model, method)

    st.subheader("3 · How sure the classifier is")
    shown |= sections.uncertainty_section(case, model, slice_index, base, lesion)

    st.subheader("4 · How sure the generative models are")
    shown |= sections.generation_section(case, slice_index, base)

    st.subheader("5 · Export")
    sections.export_section(shown, base, case, slice_index)
    attention_report_button(model, method)

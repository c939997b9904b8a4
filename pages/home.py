"""Home: what Fusion Explorer is, for whom, and what each page does."""

import streamlit as st

from ui.catalog import PAGES
from ui.guard import require_app_navigation
from ui.scaffold import page_boundary

require_app_navigation()

with page_boundary("showing the Home page"):
    st.title("Fusion Explorer")
    st.markdown(
        "Explore **CT and MRI together** — load paired or unpaired scans, align them, and see what deep "
        "multimodal fusion models make of them. Everything works out of the box on a built-in **demo cohort** "
        "of synthetic head scans whose ground truth (tissue classes, lesions, the true CT↔MR misalignment) "
        "is known exactly, so every number the app shows can be checked."
    )

    left, right = st.columns(2)
    with left:
        st.subheader("Who it is for")
        st.markdown(
            "- **Clinicians**: look at CT and MR of one patient side by side, slices linked by position.\n"
            "- **Researchers**: load your own NIfTI / MHA / NRRD / DICOM data or a SynthRAD-style cohort.\n"
            "- **Teachers**: live demos of why two modalities see different things."
        )
    with right:
        st.subheader("The pages")
        st.markdown("\n".join(f"- **{page.title}** — {page.summary}" for page in PAGES[1:]))

    st.info(
        "The demo cohort is procedural: a head phantom with scalp, fat, skull (cortical tables and diploë), "
        "CSF, grey and white matter and ventricles; some subjects carry a lesion that is clearer on CT "
        "(calcified) or on MR (oedema). CT is in Hounsfield units; MR T1/T2 come from a spin-echo signal model.",
        icon=":material/info:",
    )

"""Home: what Fusion Explorer is, for whom, and what each page does."""

import streamlit as st

from ui.catalog import PAGES
from ui.guard import require_app_navigation
from ui.scaffold import page_boundary
from ui.warm_visitor import current, readiness_note

require_app_navigation()

with page_boundary("showing the Home page"):
    st.title("Fusion Explorer")
    st.markdown(
        "Explore **CT and MRI together** — load paired or unpaired scans, align them, and see what deep "
        "multimodal fusion models make of them. Everything works out of the box on a built-in **demo cohort** "
        "of synthetic head scans whose ground truth (tissue classes, lesions, the true CT↔MR misalignment) "
        "is known exactly, so every number the app shows can be checked."
    )

    note = readiness_note(current(), {page.url_path: page.title for page in PAGES})
    if note:
        st.caption(
            note,
            help="A headless visitor opens every page once when the server starts, so "
            "results on the demo cohort are computed before users ask (reload Home to update).",
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
        "The demo cohort is procedural: 100 head phantoms with scalp, fat, skull (cortical tables and diploë), "
        "CSF, grey and white matter and ventricles. About half carry a lesion that one modality shows better: "
        "a calcification (CT), a late subacute haemorrhage (T1 and T2 MR, invisible on CT) or oedema (T2 MR, "
        "faint on CT), of varying size and contrast. CT is in Hounsfield units; MR T1/T2 come from a spin-echo "
        "signal model. The shipped models were trained on other subjects drawn from the same distribution, "
        "so their numbers on these subjects are a fair test.",
        icon=":material/info:",
    )

"""Latent Space: a 2-D map of every slice's latent code, linked to the images, with numbers that say how
well CT and MR land in one shared space."""

from __future__ import annotations

import streamlit as st

from ui.guard import require_app_navigation
from ui.scaffold import page_boundary

require_app_navigation()

with page_boundary("showing the Latent Space page"):
    st.title("Latent Space")
    st.caption(
        "Each point is one slice's latent code, drawn in 2-D: where CT-only and MR-only codes of the same slice "
        "land together, the model has learnt one shared space. Select points (lasso or box) to see their images; "
        "select a single one (a small lasso or box) for its reconstruction and nearest neighbours."
    )
    # Imported after the title: torch and plotly take seconds to import on a fresh server, the title need not wait.
    from ui import latents as lat
    from ui import latents_page as page

    models = lat.encoder_models()
    if not models:
        st.info("No shipped model has an encoder (a VAE or the product-of-experts classifier).")
        st.stop()
    inputs = page.choose_inputs(models)
    if inputs is None:
        st.stop()
    if inputs.method == "UMAP":
        lat.umap_warmup()  # numba compiles in the background while the cohort is encoded (once per server)

    table = lat.latent_table(inputs.source, inputs.folder, inputs.n, inputs.step, inputs.model, inputs.posteriors)
    shown = page.project_shown(inputs, table)
    plot, numbers = st.columns([3, 1.3])
    event = page.map_section(inputs, shown, plot)
    with numbers:
        page.numbers_section(inputs, table)
    page.selection_section(inputs, shown, event)
    page.download_button(inputs, shown)

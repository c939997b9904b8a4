"""Latent Space: a 2-D map of every slice's latent code, linked to the images, with numbers that say how
well CT and MR land in one shared space."""

from __future__ import annotations

import streamlit as st

from ui.guard import require_app_navigation
from ui.scaffold import page_boundary

METHODS = {"UMAP": "umap", "PCA": "pca", "t-SNE": "tsne"}
MAX_THUMBNAILS = 24

require_app_navigation()

with page_boundary("showing the Latent Space page"):
    st.title("Latent Space")
    st.caption(
        "Each point is one slice's latent code, drawn in 2-D: where CT-only and MR-only codes of the same slice "
        "land together, the model has learnt one shared space. Select points (lasso or box) to see their images; "
        "select a single one (a small lasso or box) for its reconstruction and nearest neighbours."
    )
    # Imported after the title: torch and plotly take seconds to import on a fresh server, the title need not wait.
    from fusion_core.latents import LatentTable, nearest_rows, subject_means
    from fusion_core.viz.latents import COLOUR_BY, POSTERIOR_LABELS, canonical_figure, latent_scatter
    from ui import latents as lat
    from ui.cache_keys import latents_key

    models = lat.encoder_models()
    if not models:
        st.info("No shipped model has an encoder (a VAE or the product-of-experts classifier).")
        st.stop()
    c1, c2, c3, c4 = st.columns([1.2, 1.2, 1, 1])
    source = c1.radio("Cohort", [lat.DEMO, "Cohort folder"], key="lat-source", horizontal=True)
    folder = ""
    if source != lat.DEMO:
        folder = c1.text_input("Cohort folder", key="lat-folder", placeholder="/path/to/cohort").strip()
        if not folder:
            st.info("Type the path of a SynthRAD-style cohort folder, or choose the demo cohort.")
            st.stop()
    model = c2.selectbox("Model", models, key="lat-model")
    shown = c2.radio("Posteriors", list(lat.POSTERIOR_CHOICES), key="lat-posteriors", horizontal=True)
    total = len(lat.subject_ids(source, folder))
    n = c3.slider("Subjects", 2, total, min(12, total), key="lat-n", help="The first n subjects of the cohort.")
    step = c3.select_slider("Every k-th slice", [1, 2, 4, 8], 4, key="lat-step")
    method = c4.radio("Projection", list(METHODS), key="lat-method", horizontal=True)
    colour_by = c4.selectbox("Colour by", COLOUR_BY, key="lat-colour")
    links = c4.toggle("CT–MR pair lines", value=False, key="lat-links")
    per_subject = c3.toggle(
        "One point per subject", value=False, key="lat-per-subject", help="The mean code of its slices."
    )
    if method == "UMAP":
        lat.umap_warmup()  # numba compiles in the background while the cohort is encoded (once per server)

    posteriors = lat.POSTERIOR_CHOICES[shown]
    table = lat.latent_table(source, folder, n, step, model, posteriors)
    rows = table.meta["posterior"].isin(posteriors).to_numpy()
    shown_table = LatentTable(table.latents[rows], table.meta[rows].reset_index(drop=True))
    shown_table = subject_means(shown_table) if per_subject else shown_table
    z, meta = shown_table.latents, shown_table.meta
    key = latents_key(source, folder, n, step, model, posteriors, per_subject=per_subject)
    coords, drawn = lat.pca(key, z, 0), "PCA"
    if METHODS[method] != "pca":
        job = lat.projection_job(key, z, METHODS[method], 0)
        if job.done():
            coords, drawn = job.result(), method
        else:
            lat.wait_for(job, method)

    plot, numbers = st.columns([3, 1.3])
    figure = latent_scatter(coords, meta, colour_by=colour_by, links=links and len(posteriors) > 1, method=drawn)
    event = plot.plotly_chart(figure, key=lat.chart_key(), on_select="rerun", selection_mode=("points", "box", "lasso"))
    plot.caption(
        f"{len(meta)} {'subject means' if per_subject else 'slices'} ({', '.join(POSTERIOR_LABELS[p] for p in posteriors)}) of {meta['subject_id'].nunique()} "
        f"subjects, {drawn} of the {z.shape[1]}-dimensional latents. ● CT only ◆ MR only ■ joint. "
        "Drag to lasso (box in the toolbar); double-click to reset the zoom."
    )
    with numbers:
        found = lat.numbers(key.table(), table, posteriors)
        lat.numbers_panel(found)
        st.plotly_chart(canonical_figure(found.correlations, found.correlations_shuffled), key="lat-cca")
        st.caption(
            "Canonical correlations of CT-only vs MR-only codes of the same slices (1 = the same information); "
            "grey: the same fit on shuffled pairs, what it finds in unrelated codes."
        )

    chosen = lat.selected_rows(event, key)
    if len(chosen) == 1:
        lat.point_detail(source, folder, model, step, meta, chosen[0], nearest_rows(z, chosen[0], k=8))
    elif chosen:
        lat.selection_grid(source, folder, meta, chosen, MAX_THUMBNAILS)
    else:
        st.info(
            "Lasso or box-select points on the map to see their slices; a selection of a single point shows its detail."
        )
    st.download_button(
        "Download latents and projection (CSV)",
        lambda: lat.csv_bytes(key, drawn, meta, z, coords),
        file_name=f"latents_{model}_{drawn.lower()}.csv",
        mime="text/csv",
        key="lat-download",
        on_click="ignore",
    )

"""The sections of the Latent Space page: inputs, the projected map with its numbers, the selection, the CSV.

The page imports this module after its title (torch and plotly take seconds to import on a fresh server);
cached work lives in :mod:`ui.latents`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from fusion_core.evaluation.latent_metrics import nearest_neighbours
from fusion_core.latents import LatentTable, subject_means
from fusion_core.viz.scatter import COLOUR_BY, POSTERIOR_LABELS, canonical_figure, latent_scatter
from ui import latents as lat
from ui.cache_keys import LatentsKey, latents_key

METHODS = {"UMAP": "umap", "PCA": "pca", "t-SNE": "tsne"}
MAX_THUMBNAILS = 24


@dataclass(frozen=True)
class Inputs:
    """What the controls at the top of the page chose."""

    source: str
    folder: str
    model: str
    posteriors: tuple[str, ...]
    n: int
    step: int
    method: str
    colour_by: str
    links: bool
    per_subject: bool

    @property
    def key(self) -> LatentsKey:
        """Names the shown points: the encoded table, and whether they are subject means."""
        return latents_key(
            self.source, self.folder, self.n, self.step, self.model, self.posteriors, per_subject=self.per_subject
        )


@dataclass(frozen=True)
class Projected:
    """The shown codes, their rows' metadata and their 2-D coordinates (``drawn``: the method that made them)."""

    latents: np.ndarray
    meta: pd.DataFrame
    coords: np.ndarray
    drawn: str


def choose_inputs(models: list[str]) -> Inputs | None:
    """Cohort, model, posteriors, subjects, slices, projection and colouring; None until a folder is typed."""
    c1, c2, c3, c4 = st.columns([1.2, 1.2, 1, 1])
    source = c1.radio("Cohort", [lat.DEMO, "Cohort folder", lat.PIPELINE], key="lat-source", horizontal=True)
    folder = ""
    if source != lat.DEMO:
        folder = c1.text_input(f"{source} folder", key="lat-folder", placeholder="/path/to/folder").strip()
        if not folder:
            st.info(
                "Type the path of a SynthRAD-style cohort folder, or of a pipeline run's output folder (its stored "
                "latents are shown, nothing is encoded again), or choose the demo cohort."
            )
            return None
    model = c2.selectbox("Model", models, key="lat-model")
    shown = c2.radio("Posteriors", list(lat.POSTERIOR_CHOICES), key="lat-posteriors", horizontal=True)
    total = len(lat.subject_ids(source, folder))
    n = total  # a slider needs a range: two subjects or fewer are all shown
    if total > 2:
        n = c3.slider("Subjects", 2, total, min(12, total), key="lat-n", help="The first n subjects of the cohort.")
    step = c3.select_slider("Every k-th slice", [1, 2, 4, 8], 4, key="lat-step")
    method = c4.radio("Projection", list(METHODS), key="lat-method", horizontal=True)
    colour_by = c4.selectbox("Colour by", COLOUR_BY, key="lat-colour")
    links = c4.toggle("CT–MR pair lines", value=False, key="lat-links")
    per_subject = c3.toggle(
        "One point per subject", value=False, key="lat-per-subject", help="The mean code of its slices."
    )
    posteriors = lat.POSTERIOR_CHOICES[shown]
    return Inputs(source, folder, model, posteriors, n, step, method, colour_by, links, per_subject)


def project_shown(inputs: Inputs, table: LatentTable) -> Projected:
    """The chosen posteriors' codes (or subject means), in 2-D: PCA at once, UMAP / t-SNE when their job is done."""
    rows = table.meta["posterior"].isin(inputs.posteriors).to_numpy()
    shown = LatentTable(table.latents[rows], table.meta[rows].reset_index(drop=True))
    shown = subject_means(shown) if inputs.per_subject else shown
    coords, drawn = lat.pca(inputs.key, shown.latents, 0), "PCA"
    if METHODS[inputs.method] != "pca":
        job = lat.projection_job(inputs.key, shown.latents, METHODS[inputs.method], 0)
        if job.done():
            coords, drawn = job.result(), inputs.method
        else:
            lat.wait_for(job, inputs.method)
    return Projected(shown.latents, shown.meta, coords, drawn)


def map_section(inputs: Inputs, shown: Projected, plot):
    """The selectable scatter of the codes in ``plot`` (a column); returns the chart's selection event."""
    meta, posteriors = shown.meta, inputs.posteriors
    figure = latent_scatter(
        shown.coords, meta, colour_by=inputs.colour_by, links=inputs.links and len(posteriors) > 1, method=shown.drawn
    )
    event = plot.plotly_chart(figure, key=lat.chart_key(), on_select="rerun", selection_mode=("points", "box", "lasso"))
    what = "subject means" if inputs.per_subject else "slices"
    plot.caption(
        f"{len(meta)} {what} ({', '.join(POSTERIOR_LABELS[p] for p in posteriors)}) of {meta['subject_id'].nunique()} "
        f"subjects, {shown.drawn} of the {shown.latents.shape[1]}-dimensional latents. ● CT only ◆ MR only ■ joint. "
        "Drag to lasso (box in the toolbar); double-click to reset the zoom."
    )
    return event


def numbers_section(inputs: Inputs, table: LatentTable) -> None:
    """How well CT and MR codes agree: retrieval and mixing numbers, canonical correlations against shuffled."""
    if not lat.has_single_modality_codes(table):
        st.caption("This pipeline run stored joint codes only; the CT-vs-MR numbers need each scan's own code.")
        return
    found = lat.numbers(inputs.key.table(), table, inputs.posteriors)
    lat.numbers_panel(found)
    st.plotly_chart(canonical_figure(found.correlations, found.correlations_shuffled), key="lat-cca")
    st.caption(
        "Canonical correlations of CT-only vs MR-only codes of the same slices (1 = the same information); "
        "grey: the same fit on shuffled pairs, what it finds in unrelated codes."
    )


def selection_section(inputs: Inputs, shown: Projected, event) -> None:
    """One selected point: its detail and nearest neighbours; several: their slices; none: a hint."""
    chosen = lat.selected_rows(event, inputs.key)
    source, folder, meta = inputs.source, inputs.folder, shown.meta
    if len(chosen) == 1:
        neighbours = nearest_neighbours(shown.latents, 8, rows=[chosen[0]])[0]
        lat.point_detail(source, folder, inputs.model, inputs.step, meta, chosen[0], neighbours)
    elif chosen:
        lat.selection_grid(source, folder, meta, chosen, MAX_THUMBNAILS)
    else:
        st.info(
            "Lasso or box-select points on the map to see their slices; a selection of a single point shows its detail."
        )


def download_button(inputs: Inputs, shown: Projected) -> None:
    """The shown codes, their metadata and their 2-D coordinates as CSV (built on click)."""
    drawn = shown.drawn
    st.download_button(
        "Download latents and projection (CSV)",
        lambda: lat.csv_bytes(inputs.key, drawn, shown.meta, shown.latents, shown.coords),
        file_name=f"latents_{inputs.model}_{drawn.lower()}.csv",
        mime="text/csv",
        key="lat-download",
        on_click="ignore",
    )

"""Streamlit glue of the Latent Space page: cached cohorts and encodings, projections computed in the
background (UMAP warmed once per server), selections kept across reruns, thumbnails and deep links.

Cached objects are shared by every session and never mutated.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from fusion_core.case import Case
from fusion_core.inference import ASSETS_DIR
from fusion_core.latents import (
    LatentTable,
    encode_cohort,
    load_table,
    project,
    reconstruct,
    save_table,
    stack_tables,
    warm_umap,
)
from fusion_core.paths import cache_dir
from fusion_core.preprocess.window import WINDOW_PRESETS
from fusion_core.viz.display import display_window
from fusion_core.viz.scatter import slice_thumbnail
from ui import loaders, session
from ui.cache_keys import LatentsKey
from ui.catalog import PAGES_DIR
from ui.models import get_model, model_cards
from ui.viewer import scan_viewer, use_webgl

DEMO = "Demo cohort"
PIPELINE = "Pipeline run"  # an output folder of fusion_core.pipeline: its stored latents, nothing encoded again
SELECTED_KEY = "lat-selected"  # (table key, [row ids]) copied from the chart's selection
CLEARS_KEY = "lat-clears"
DISK_CACHE = cache_dir("latents")
LATENTS_FORMAT = 1  # bump when encode_cohort's output changes
POSTERIOR_CHOICES = {
    "All three": ("CT", "MR", "joint"),
    "CT only": ("CT",),
    "MR only": ("MR",),
    "Joint (PoE)": ("joint",),
}


def encoder_models() -> list[str]:
    """Shipped models with an encoder: every VAE (first: they also decode) and the product-of-experts classifier."""
    cards = model_cards()
    vaes = [n for n, c in cards.items() if c.task == "vae"]
    return vaes + [n for n, c in cards.items() if c.task == "classifier" and c.strategy == "poe"]


def subject_ids(source: str, folder: str) -> list[str]:
    return session.demo_subject_ids() if source == DEMO else loaders.opened_path(folder).subject_ids


def cohort_case(source: str, folder: str, subject_id: str) -> Case:
    return session.demo_case(subject_id) if source == DEMO else loaders.cohort_case(folder, subject_id)


@st.cache_resource(max_entries=64, show_spinner=False)
def aligned_case(source: str, folder: str, subject_id: str) -> Case:
    case = cohort_case(source, folder, subject_id)
    return case.aligned() if case.is_paired else case


@st.cache_resource(max_entries=24, show_spinner=False)
def encoded(source: str, folder: str, n: int, step: int, model: str, posterior: str) -> LatentTable:
    """One posterior's latents of the first ``n`` subjects, every ``step``-th slice (cases without it skipped).

    The demo cohort's tables are also kept on disk (``cache_dir("latents")``), keyed by the model's files, so a
    fresh server shows them without generating and encoding the subjects again.
    """
    path = _disk_path(n, step, model, posterior) if source == DEMO else None
    if path is not None and path.is_file():
        return load_table(path)
    cases = [aligned_case(source, folder, sid) for sid in subject_ids(source, folder)[:n]]
    table = encode_cohort(get_model(model), cases, posterior=posterior, slice_step=step, skip_missing=True)
    if path is not None:
        save_table(table, path)
    return table


def _disk_path(n: int, step: int, model: str, posterior: str) -> Path | None:
    """Where the demo cohort's table lives on disk; None for a model that is not a shipped folder."""
    folder = ASSETS_DIR / model
    if not folder.is_dir():
        return None
    files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file())
    spec = session.demo_spec()
    key = repr((LATENTS_FORMAT, spec.name, spec.seed, spec.n, n, step, model, posterior, files))
    return DISK_CACHE / f"{model}-{posterior}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"


def latent_table(source: str, folder: str, n: int, step: int, model: str, posteriors: tuple[str, ...]) -> LatentTable:
    """The posteriors' tables stacked; CT and MR are always encoded (the numbers compare them). A pipeline
    run's table is the joint codes its encode step stored, of its first ``n`` subjects."""
    if source == PIPELINE:
        table = pipeline_latents(folder, model, step)
        keep = table.meta["subject_id"].isin(subject_ids(source, folder)[:n]).to_numpy()
        return LatentTable(table.latents[keep], table.meta[keep].reset_index(drop=True))
    wanted = tuple(dict.fromkeys(("CT", "MR", *posteriors)))
    tables = []
    for i, posterior in enumerate(wanted):
        what = f"{POSTERIOR_LABELS_LONG[posterior]} ({i + 1}/{len(wanted)})"
        with st.spinner(f"Encoding every {step}th slice of {n} subjects with {model}: {what}…"):
            tables.append(encoded(source, folder, n, step, model, posterior))
    return stack_tables(tables)


def pipeline_latents(folder: str, model: str, step: int) -> LatentTable:
    """The latents a pipeline run stored for ``model`` (re-read when a new run rewrites the folder)."""
    from ui.pipeline_results import folder_fingerprint

    return _pipeline_latents(folder_fingerprint(folder), model, step)


@st.cache_resource(max_entries=8, show_spinner="Reading the pipeline run's latents…")
def _pipeline_latents(fingerprint: tuple[str, int], model: str, step: int) -> LatentTable:
    from fusion_core.pipeline import read_pipeline_latents

    return read_pipeline_latents(fingerprint[0], model, slice_step=step)


def has_single_modality_codes(table: LatentTable) -> bool:
    """Whether the table holds CT-alone and MR-alone codes (what the alignment numbers compare)."""
    return {"CT", "MR"} <= set(table.meta["posterior"])


@st.cache_resource(show_spinner=False)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="latents-projection")


@st.cache_resource(show_spinner=False)
def umap_warmup() -> Future:
    """Compile umap's numba functions once per server, in the background (first in the projection queue)."""
    return _pool().submit(warm_umap)


@st.cache_resource(max_entries=32, show_spinner=False)
def projection_job(key: LatentsKey, _latents: np.ndarray, method: str, seed: int) -> Future:
    """A projection computed in the background; ``_latents`` are the rows ``key`` names (see ``latents_key``)."""
    umap_warmup()
    return _pool().submit(project, _latents, method=method, seed=seed)


@st.cache_data(max_entries=32, show_spinner=False)
def pca(key: LatentsKey, _latents: np.ndarray, seed: int) -> np.ndarray:
    """The PCA of ``_latents``, the rows ``key`` names (see ``latents_key``)."""
    return project(_latents, method="pca", seed=seed)


def selected_rows(event, table_key: LatentsKey) -> list[int]:
    """Row ids of the chart's selection, kept in session state so a rerun or a new figure keeps them."""
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else []
    if not points and event is not None and hasattr(event, "selection"):
        points = event.selection.get("points", [])
    ids = [int(np.ravel(p["customdata"])[0]) for p in points if p.get("customdata") is not None]
    if ids:
        st.session_state[SELECTED_KEY] = (table_key, sorted(set(ids)))
    stored_key, stored = st.session_state.get(SELECTED_KEY, ("", []))
    return stored if stored_key == table_key else []


def chart_key() -> str:
    """The map's widget key; clearing the selection moves to a fresh key, the only way to empty the chart's own."""
    clears = st.session_state.get(CLEARS_KEY, 0)
    return "lat-plot" if not clears else f"lat-plot-{clears}"


def clear_selection() -> None:
    st.session_state.pop(SELECTED_KEY, None)
    st.session_state[CLEARS_KEY] = st.session_state.get(CLEARS_KEY, 0) + 1


@st.cache_data(max_entries=256, show_spinner=False)
def thumbnails(source: str, folder: str, subject_id: str, index: int) -> dict[str, np.ndarray]:
    """RGB thumbnails of one slice: {"CT": ..., "MR": ...} (those the case has), lesion outlined when known."""
    case = aligned_case(source, folder, subject_id)
    lesion = case.masks.get("lesion")
    grid = case.ct if case.ct is not None else case.mr
    mask = lesion.array[index] if lesion is not None and lesion.shape == grid.shape else None
    out = {}
    for label, volume in (("CT", case.ct), ("MR", case.mr)):
        if volume is not None and index < volume.shape[0]:
            window = CT_WINDOW if label == "CT" else mr_window(source, folder, subject_id)
            out[label] = slice_thumbnail(volume.array[index], window, mask)
    return out


CT_WINDOW = tuple(WINDOW_PRESETS["brain"])


@st.cache_data(max_entries=128, show_spinner=False)
def mr_window(source: str, folder: str, subject_id: str) -> tuple[float, float]:
    """The MR's display window (head voxels' percentiles), once per subject."""
    return display_window(aligned_case(source, folder, subject_id).mr)


def _window(volume) -> tuple[float, float]:
    return CT_WINDOW if volume.modality == "CT" else display_window(volume)


@st.cache_resource(max_entries=8, show_spinner="Reconstructing the subject…")
def reconstruction(source: str, folder: str, subject_id: str, model: str, posterior: str, step: int) -> dict:
    """The VAE's CT and MR decoded from this posterior's inputs (the slices the map encodes)."""
    return reconstruct(get_model(model), aligned_case(source, folder, subject_id), posterior, slice_step=step)


def reconstruction_thumbnails(recon: dict, index: int) -> dict[str, np.ndarray]:
    """Decoded CT and MR of slice ``index`` as thumbnails (display windows as for the originals)."""
    out = {}
    for target, (kept, volume) in recon.items():
        row = int(np.searchsorted(kept, index))
        out[target] = slice_thumbnail(volume.array[row], _window(volume))
    return out


def data_link(subject_id: str, index: int) -> None:
    """A link opening the subject on the Data page at this axial slice (``?subject=...&slice=...``)."""
    params = {"subject": subject_id, "slice": str(index)}
    try:
        st.page_link(PAGES_DIR / "data.py", label="Open in Data", icon=":material/open_in_new:", query_params=params)
    except StreamlitAPIException:
        st.markdown(f"[Open in Data](/data?subject={subject_id}&slice={index})")


def wait_for(job: Future, method: str) -> None:
    """Say PCA is shown while ``method`` computes; a fragment polls the job and reruns the page when it is done."""
    warm = umap_warmup().done()
    st.info(
        f"Showing PCA while {method} computes in the background"
        + ("" if warm or method != "UMAP" else " (the first UMAP on this server also compiles numba: up to ~40 s)")
        + "; the map switches by itself.",
        icon=":material/hourglass_top:",
    )

    @st.fragment(run_every=1.5)
    def _poll() -> None:
        if job.done():
            st.rerun(scope="app")

    _poll()


def numbers_panel(numbers) -> None:
    """The alignment numbers as short lines a reader can check against their ideal or chance value."""
    m, sep = numbers.mixing, numbers.separability
    recall = " · ".join(f"R@{k} **{v:.0%}** ({numbers.chance[k]:.1%})" for k, v in numbers.recall.items())
    lines = [
        f"**Cross-modal retrieval**: how often a CT slice's code finds its own MR slice (±1 slice) among the "
        f"{numbers.n_pairs} MR codes' k nearest (chance in brackets): {recall}",
        f"**Modality mixing**: {m.observed:.2f} of each slice's {m.k} nearest neighbours in the full latent "
        f"space are from the other modality; ideal {m.ideal:.2f} (score {m.score:.2f}: 1 = fully mixed, "
        "0 = apart). The 2-D map can look more mixed than the codes are.",
    ]
    if sep is not None:
        lines.append(
            f"**Separability of {numbers.separated}**: silhouette {sep.silhouette:.2f}; balanced k-NN accuracy "
            f"{sep.knn_accuracy:.2f} with whole subjects held out (chance {sep.chance:.2f})."
        )
    st.markdown("\n\n".join(lines))


@st.cache_resource(max_entries=16, show_spinner="Computing the alignment numbers…")
def numbers(table_key: LatentsKey, _table: LatentTable, shown: tuple[str, ...]):
    """Retrieval, mixing and separability of the stacked table ``_table``, the one ``table_key`` names."""
    from fusion_core.latents import alignment_numbers

    return alignment_numbers(_table, shown=shown)


def _caption(row) -> str:
    lesion = {1.0: " · lesion in slice", 0.0: ""}.get(row["slice_has_lesion"], "")
    return f"{row['subject_id']} · slice {row['slice'] + 1} · {POSTERIOR_SHORT[row['posterior']]}{lesion}"


POSTERIOR_SHORT = {"CT": "CT code", "MR": "MR code", "joint": "joint code"}


def _thumbnail_cell(source: str, folder: str, row, *, link: bool) -> None:
    images = thumbnails(source, folder, row["subject_id"], int(row["slice"]))
    st.image(np.concatenate(list(images.values()), axis=1), caption=_caption(row), width="stretch")
    if link and source == DEMO:
        data_link(row["subject_id"], int(row["slice"]))


def selection_grid(source: str, folder: str, meta, chosen: list[int], limit: int) -> None:
    """Thumbnails (CT | MR side by side, lesion outlined in red) of the selected slices."""
    st.subheader(f"{len(chosen)} selected slices")
    st.button("Clear the selection", on_click=clear_selection, key="lat-clear")
    if len(chosen) > limit:
        st.caption(f"Showing the first {limit} of {len(chosen)}; select fewer to see them all.")
    picked = meta.iloc[chosen[:limit]]
    for start in range(0, len(picked), 4):
        for column, (_, row) in zip(st.columns(4), picked.iloc[start : start + 4].iterrows(), strict=False):
            with column:
                _thumbnail_cell(source, folder, row, link=True)


def point_detail(source: str, folder: str, model: str, step: int, meta, row: int, neighbours) -> None:
    """One slice: its CT and MR, the model's reconstruction from that code's inputs, and its nearest neighbours."""
    this = meta.iloc[row]
    st.subheader(f"{this['subject_id']}, slice {this['slice'] + 1} ({POSTERIOR_LABELS_LONG[this['posterior']]})")
    st.button("Clear the selection", on_click=clear_selection, key="lat-clear")
    left, right = st.columns(2)
    with left:
        _thumbnail_cell(source, folder, this, link=True)
    with right:
        if model_cards()[model].task == "vae":
            recon = reconstruction(source, folder, this["subject_id"], model, this["posterior"], step)
            images = reconstruction_thumbnails(recon, int(this["slice"]))
            st.image(np.concatenate(list(images.values()), axis=1), caption="Decoded CT | MR from this code's inputs")
        else:
            st.caption("This model has no decoder: no reconstruction to show.")
    if use_webgl():
        slice_viewer(source, folder, this["subject_id"], int(this["slice"]))
    st.markdown("**Nearest neighbours in latent space** (nearest first)")
    for start in range(0, len(neighbours), 4):
        for column, index in zip(st.columns(4), neighbours[start : start + 4], strict=False):
            with column:
                _thumbnail_cell(source, folder, meta.iloc[int(index)], link=True)


def slice_viewer(source: str, folder: str, subject_id: str, index: int) -> None:
    """The subject's CT and MR in the scan viewer, axial, its crosshair on slice ``index`` (lesion outlined)."""
    case = aligned_case(source, folder, subject_id)
    volumes = {label: v for label, v in (("CT", case.ct), ("MR", case.mr)) if v is not None}
    grid = next(iter(volumes.values()))
    nx, ny, _ = grid.size_xyz
    lesion = case.masks.get("lesion")
    overlays = {label: lesion for label in volumes} if lesion is not None else None
    start = grid.index_to_physical([nx // 2, ny // 2, index])
    scan_viewer(volumes, key="lat-detail-view", overlays=overlays, layout="axial", cursor_mm=start)


POSTERIOR_LABELS_LONG = {"CT": "code from CT alone", "MR": "code from MR alone", "joint": "joint code from CT + MR"}


@st.cache_data(max_entries=4, show_spinner=False)
def csv_bytes(key: LatentsKey, method: str, _meta, _latents, _coords) -> bytes:
    """The rows ``key`` names (``_meta``, ``_latents``) with their ``method`` projection ``_coords`` as CSV."""
    from fusion_core.latents import latents_frame

    return latents_frame(_meta, _latents, _coords, method).to_csv(index=False).encode()

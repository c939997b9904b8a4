"""The sections of the Attention & Uncertainty page: widgets in, cached maps (ui.attention) through, figures out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from fusion_core import explain
from fusion_core.case import Case
from fusion_core.errors import FusionError
from fusion_core.explain.export import maps_zip, png_bytes
from fusion_core.inference import crop_fraction
from fusion_core.viz.display import overlay_heatmap
from fusion_core.viz.overlays import modality_bar_figure, overlay_figure
from ui import attention as att
from ui.models import get_model
from ui.viewer import Heatmap, ViewerState, scan_viewer, use_webgl

OTHER = {"CT": "MR", "MR": "CT"}


def map_viewer(
    case: Case,
    slice_index: int,
    maps: dict[str, tuple[str, np.ndarray]],
    *,
    key: str,
    signed: bool = False,
    query=None,
    floor: float = 0.02,
) -> ViewerState:
    """The WebGL viewer, axial at ``slice_index``: per panel label, its scan ("CT" or "MR") under a map of that slice.

    Args:
        maps: panel label -> (scan, (y, x) map of the slice); the lesion outline (truth) on every panel.
        signed: diverging colours, symmetric about 0 (integrated gradients).
        query: (y, x) where the crosshair starts (default: the slice's centre).
        floor: the share of each map's largest value below which it stays uncoloured.
    """
    scans = {"CT": case.ct, "MR": case.mr_weightings.get("MR-T1", case.mr)}
    volumes = {label: scans[scan] for label, (scan, _) in maps.items()}
    heatmaps = {
        label: Heatmap(att.slice_map_volume(case, slice_index, values), signed=signed, opacity=0.7, floor=floor)
        for label, (_, values) in maps.items()
    }
    lesion = case.masks.get("lesion")
    overlays = {label: lesion for label in maps} if lesion is not None else None
    query = query or tuple(n // 2 for n in case.ct.shape[1:])
    start = att.query_mm(case, slice_index, query)
    return scan_viewer(volumes, key=key, overlays=overlays, heatmaps=heatmaps, layout="axial", cursor_mm=start)


def attention_section(case: Case, slice_index: int, base: dict, lesion: np.ndarray | None) -> None:
    """Click a location on one image, see where it looks in the other; head / layer / rollout selectors."""
    layers = att.attention_layers(case.fingerprint, slice_index, case)
    n_heads, n_layers = layers["CT->MR"][0].shape[0], len(layers["CT->MR"])
    c1, c2, c3 = st.columns(3)
    source = c1.radio("Look from", ["CT", "MR"], horizontal=True, key="att-from")
    head = c2.selectbox(
        "Head", [explain.MEAN_OF_HEADS, *range(n_heads)], key="att-head",
        format_func=lambda h: "mean of heads" if h == explain.MEAN_OF_HEADS else f"head {h + 1}",
    )  # fmt: skip
    layer = c3.selectbox(
        "Layer", [*range(n_layers), None], key="att-layer",
        format_func=lambda i: f"layer {i + 1}" if i is not None else "rollout (all layers)",
    )  # fmt: skip
    shape = base["CT"].shape
    query = att.query_location(shape)
    target = OTHER[source]
    weights = explain.attention_view(layers[f"{source}->{target}"], layer=layer, head=head)
    crop = crop_fraction(get_model(att.ATTENTION_MODEL))
    looked_at = explain.attention_on_grid(weights, query, shape, crop)
    received = explain.attention_received(weights, shape, crop)
    webgl = use_webgl()
    if webgl:
        maps = {f"{source}: click a location": (source, received), f"{target}: where it looks": (target, looked_at)}
        state = map_viewer(case, slice_index, maps, key="att-view", query=query, floor=0.3)  # smooth maps: their peaks
        if att.take_viewer_click(case, state.clicked_mm):
            st.rerun()
    q1, q2, _ = st.columns([1, 1, 4])
    q1.number_input("Query row (y)", 0, shape[0] - 1, key=att.QUERY_KEYS["y"])
    q2.number_input("Query column (x)", 0, shape[1] - 1, key=att.QUERY_KEYS["x"])
    window = att.model_window(att.ATTENTION_MODEL, shape)
    if not webgl:
        _attention_figures(source, target, base, received, looked_at, query, lesion, window)
    if not looked_at.any():
        st.info("The query lies outside the model's input window (the central part of the slice): click inside it.")
    st.caption(
        f"{att.ATTENTION_MODEL}: each {source} feature cell attends over the {target} feature grid "
        f"({weights.shape[0]}×{weights.shape[1]} cells across the central {crop:.0%} of the field of view), "
        f"upsampled to the image. The model has {n_layers} cross-attention layer(s) per direction and {n_heads} heads; "
        "with one layer, the rollout is that layer. "
        + ("Red outline: the lesion (truth)." if webgl else "Cyan dots: the lesion outline (truth).")
    )


def _attention_figures(source, target, base, received, looked_at, query, lesion, window) -> None:
    """The PNG path's pair of attention figures: a click on the left one (a Plotly selection) sets the query."""
    left, right = st.columns(2)
    with left:
        fig = overlay_figure(
            base[source], received, title=f"{source}: click a location (attention it receives from {target})",
            colorbar_title="attention received", query_yx=query, clickable=True, contour=lesion, support=window,
        )  # fmt: skip
        chart_key = f"att-click-{source}"
        st.plotly_chart(fig, key=chart_key, on_select=lambda: att.take_click(chart_key), selection_mode="points")
    right.plotly_chart(
        overlay_figure(
            base[target], looked_at, title=f"{target}: where the {source} location looks",
            colorbar_title="attention weight", query_yx=query, contour=lesion, support=window,
        ),
        key="att-looked",
    )  # fmt: skip


def attribution_section(case: Case, model: str, slice_index: int, method: str, base: dict, lesion) -> dict:
    """CT and MR overlays of the chosen attribution, modality ablation, lesion-map heads, agreement with the truth."""
    fp = case.fingerprint
    maps = att.attribution(fp, model, slice_index, method, case)
    signed = method == explain.Method.INTEGRATED_GRADIENTS
    window = att.model_window(model, base["CT"].shape)
    label = explain.METHOD_LABELS[method].split(" (")[0]
    if use_webgl():
        panels = {f"{modality}: {label}": (modality, heat) for modality, heat in maps.items()}
        map_viewer(case, slice_index, panels, key="att-attr-view", signed=signed)
    else:
        _attribution_figures(maps, base, method, signed, lesion, window)
    if all(not np.any(m) for m in maps.values()):
        st.info(
            "The map is zero everywhere: no feature of this slice raises the lesion logit (Grad-CAM keeps only positive evidence)."
        )
    left, right = st.columns([2, 3])
    left.plotly_chart(
        modality_bar_figure(
            att.importance(fp, model, slice_index, case), title="Remove one modality: change in p(lesion)",
            axis_title="p(all) − p(without it)",
        ),
        key="att-importance",
    )  # fmt: skip
    shown = {f"{k} {explain.METHOD_LABELS[method].split(' (')[0]}": v for k, v in maps.items()}
    if getattr(get_model(model).config, "lesion_maps", False):
        heads = {k: v[slice_index] for k, v in att.lesion_maps(fp, model, case).items()}
        shown |= {f"{k} lesion-map head": v for k, v in heads.items()}
        with right:
            cols = st.columns(len(heads))
            for col, (k, v) in zip(cols, heads.items(), strict=True):
                col.plotly_chart(
                    overlay_figure(base.get(k, base["CT"]), v, title=f"Lesion-map head ({k})", colorbar_title="p(lesion)",
                                   contour=lesion, support=window, height=320),
                    key=f"att-lesionmap-{k}",
                )  # fmt: skip
    if lesion is not None and lesion.any():
        st.markdown("**Agreement with the truth on this slice** (the phantom's lesion mask)")
        table = explain.agreement_table(shown, lesion, att.model_window(model, lesion.shape))
        st.dataframe(pd.DataFrame(table).set_index("map").style.format(precision=2), key="att-agreement")
        st.caption(
            "In-lesion fraction: share of the map's positive mass inside the lesion. Pointing game: 1 if the map's "
            "maximum lies within 2 px of the lesion. Random map: what a map of random values over the model's window "
            "scores on average (lesion area / window area). `benchmarks/bench_explain.py` measures both over the "
            "held-out demo subjects."
        )
    else:
        st.caption("No lesion on this slice (or no truth known): agreement with the truth is not defined here.")
    return shown


def _attribution_figures(maps: dict, base: dict, method: str, signed: bool, lesion, window) -> None:
    """The PNG path's attribution overlays, one figure per modality."""
    columns = st.columns(len(maps))
    for col, (modality, heat) in zip(columns, maps.items(), strict=True):
        col.plotly_chart(
            overlay_figure(
                base[modality], heat, title=f"{modality}: {explain.METHOD_LABELS[method].split(' (')[0]}",
                colorbar_title="attribution (logit units)" if signed else "Grad-CAM", diverging=signed, contour=lesion,
                support=window,
            ),
            key=f"att-attr-{modality}",
        )  # fmt: skip


def uncertainty_section(case: Case, model: str, slice_index: int, base: dict, lesion) -> dict:
    """Epistemic / aleatoric evidence maps, the uncertainty-late weights under degradation, generation uncertainty."""
    u = att.uncertainty(case.fingerprint, model, slice_index, case)
    st.markdown(
        f"Logit variance on this slice: **epistemic {u.logit_epistemic:.3f}** (MC dropout, {u.samples} draws), "
        f"**aleatoric {u.logit_aleatoric:.3f}** (predicted by the heads)."
    )
    kinds = {"epistemic": (u.epistemic, "sd of Grad-CAM"), "aleatoric": (u.aleatoric, "Grad-CAM of variance")}
    shown = {f"{modality} {kind}": maps[modality] for modality in u.epistemic for kind, (maps, _) in kinds.items()}
    if use_webgl():
        panels = {label: (label.split()[0], values) for label, values in shown.items()}
        map_viewer(case, slice_index, panels, key="att-unc-view")
    else:
        _uncertainty_figures(u, kinds, base, lesion, att.model_window(model, base["CT"].shape))
    st.caption(
        "Epistemic: how much the Grad-CAM evidence moves across MC-dropout draws of the heads (the encoders and "
        "their lesion-map heads have no dropout, so their own MC variance is zero). Aleatoric: Grad-CAM of the "
        "heads' predicted variance: the regions that make the model expect a noisy answer."
    )
    weights_panel(case, slice_index)
    return shown


def _uncertainty_figures(u, kinds: dict, base: dict, lesion, window) -> None:
    """The PNG path's uncertainty overlays: a row per modality, epistemic | aleatoric."""
    for modality in u.epistemic:
        for col, (kind, (maps, unit)) in zip(st.columns(2), kinds.items(), strict=True):
            col.plotly_chart(
                overlay_figure(base[modality], maps[modality], title=f"{modality}: {kind}", colorbar_title=unit,
                               contour=lesion, support=window, height=360),
                key=f"att-unc-{modality}-{kind}",
            )  # fmt: skip


def weights_panel(case: Case, slice_index: int) -> None:
    st.markdown(f"**Uncertainty-weighted fusion ({att.WEIGHTS_MODEL}): the weight of each modality on this slice**")
    index = att.demo_index(case)
    if index is None:
        st.info("Degrading a scan re-acquires a demo subject with the phantom's scanner model: pick a demo subject.")
        return
    c1, c2, c3, c4 = st.columns(4)
    modality = c1.radio("Degrade", ["MR", "CT"], horizontal=True, key="att-degrade")
    noise = c2.select_slider("Noise (× the site's own)", [1.0, 4.0, 16.0, 64.0], key="att-noise")
    blur = c3.select_slider("Extra blur (mm)", [0.0, 2.0, 4.0, 8.0], key="att-blur")
    removed = c4.checkbox(f"Remove the {modality}", key="att-remove")
    clean = att.degraded_weights(index, modality, 0.0, 1.0, False, slice_index)
    now = att.degraded_weights(index, modality, blur, noise, removed, slice_index)
    st.plotly_chart(
        modality_bar_figure(now, title="Precision weights w = (1/σ²) / Σ(1/σ²)", axis_title="fusion weight",
                            reference=clean, reference_name="as acquired", value_range=(0, 1.15)),
        key="att-weights",
    )  # fmt: skip


def generation_section(case: Case, slice_index: int, base: dict) -> dict:
    """The PoE VAE's posterior variance given CT, MR or both; the diffusion model's spread when one ships."""
    inputs = st.radio("VAE sees", ["CT", "MR", "CT + MR"], horizontal=True, key="att-vae-inputs")
    given = tuple(inputs.replace(" ", "").split("+"))
    left, right = st.columns(2)
    shown = {}
    try:  # the generative models are retrained apart from this page: one that no longer fits is a message here
        var = att.posterior_variance(case.fingerprint, given, slice_index, case)
        shown[f"VAE posterior variance given {inputs}"] = var
        left.plotly_chart(
            overlay_figure(base["CT"], var, title=f"{att.VAE_MODEL}: posterior variance given {inputs}",
                           colorbar_title="variance (prior = 1)"),
            key="att-vae",
        )  # fmt: skip
    except FusionError as error:
        left.info(str(error))
    if att.has_diffusion():
        try:
            shown |= diffusion_panel(case, slice_index, base, right)
        except FusionError as error:
            right.info(str(error))
    else:
        right.caption("No diffusion model ships yet: its sample spread will show here once one does.")
    return shown


def diffusion_panel(case: Case, slice_index: int, base: dict, where) -> dict:
    """Spread of the diffusion model's samples of the CT from the MR (untested until that model ships)."""
    from fusion_core.inference import list_models

    name = list_models(task="diffusion")[0]
    std = att.diffusion_spread(case.fingerprint, name, slice_index, case)
    where.plotly_chart(
        overlay_figure(base["CT"], std, title=f"{name}: sd of the CT samples from the MR",
                       colorbar_title="sd (HU)"),
        key="att-diffusion",
    )  # fmt: skip
    return {f"{name} CT sample sd": std}


def export_section(shown: dict[str, np.ndarray], base: dict, case: Case, slice_index: int) -> None:
    """PNG of the overlays (one per map) and every raw map as NIfTI on the input grid, zipped."""
    name = st.selectbox("Overlay to download as PNG", list(shown), key="att-export-map")
    modality = "MR" if name.startswith("MR") else "CT"
    signed = bool(np.nanmin(shown[name]) < 0)
    rgb = overlay_heatmap(base[modality], shown[name], diverging=signed)
    c1, c2 = st.columns(2)
    stem = f"{case.subject_id}_slice{slice_index}"
    c1.download_button(
        "Download the overlay (PNG)", png_bytes(rgb), f"{stem}_{name.replace(' ', '_')}.png", "image/png", key="att-png"
    )
    c2.download_button(
        "Download every raw map (NIfTI, zip)", maps_zip(shown, case.ct, slice_index), f"{stem}_maps.zip",
        "application/zip", key="att-nifti",
    )  # fmt: skip


def pointing_benchmark(model: str, method: str) -> None:
    """The measured pointing game of the recommended classifier x method beside the others (the shipped table)."""
    best = explain.recommended_pair()
    if best is None:
        st.caption("No pointing-game table is shipped yet: run `benchmarks/bench_explain.py` to measure every pair.")
        return
    target = explain.recommend.TARGET
    verdict = "meets" if best.pointing >= target and best.margin >= explain.recommend.MARGIN else "misses"
    st.markdown(
        f"**Which map points at the lesion?** On {best.n_slices} held-out lesion slices of the demo cohort, "
        f"{best.model} with {explain.METHOD_LABELS[best.method].split(' (')[0]} puts its maximum within 2 px of the "
        f"lesion on {best.pointing:.0%} of them (a random map: {best.random_pointing:.0%}); the page opens on it. "
        f"It {verdict} the target of {target:.0%} and random + {explain.recommend.MARGIN:.0%}."
    )
    rows = [p for p in explain.read_agreement() if p.lesion_type == "all" and p.opens_on_page]
    table = pd.DataFrame(
        [
            {
                "classifier": p.model, "method": p.method, "pointing game": p.pointing, "random map": p.random_pointing,
                "in-lesion fraction": p.in_lesion, "shown now": p.model == model and p.method == method,
            }
            for p in sorted(rows, key=lambda p: -p.pointing)
        ]
    )  # fmt: skip
    with st.expander("Pointing game of every classifier × method (benchmarks/bench_explain.py)"):
        st.dataframe(table.style.format(precision=2), hide_index=True, key="att-pointing-benchmark")

"""The sections of the Register & Fuse page: widgets in, core calls (cached in ui.register_widgets) through, render out.

Each section is one function; what a later section needs from an earlier one travels in a small dataclass
(:class:`Registered`, :class:`ComparedSlices`), never in a dict indexed by string.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import SimpleITK as sitk
import streamlit as st

from fusion_core.case import Case
from fusion_core.fusion import DEFAULT_FUSION_METHOD, FusionMethod, compare_ct_mr, fuse_ct_mr
from fusion_core.preprocess import NEEDS_REFERENCE, WINDOW_PRESETS, NormalisationMethod
from fusion_core.registration import (
    INITIALISATION_LABELS,
    AlignmentQuality,
    MaskMode,
    RegistrationMode,
    RegistrationOptions,
    RegistrationResult,
    ct_head_mask,
    tre_before_after,
)
from fusion_core.viz import fusion as fviz
from fusion_core.viz import registration as rviz
from fusion_core.viz.display import to_display_unit
from fusion_core.viz.views import extract_slice, slice_count
from fusion_core.volume import Volume
from ui import register_widgets as rw
from ui.cache_keys import NormalisationKey, RegistrationKey, normalisation_key, registration_key
from ui.display import display, mr_window
from ui.report_button import case_report_button
from ui.viewer import tri_planar, use_webgl

IMAGE_PX = 420  # slice images: large enough to read, small enough to compare side by side
DEFAULTS = RegistrationOptions()  # the widgets start at the API's defaults
OTHER = {"CT": "MR", "MR": "CT"}


@dataclass(frozen=True)
class Registered:
    """The pair as the Register section left it: which image is fixed, the result (None before the click), truth."""

    fixed_name: str
    key: RegistrationKey
    fixed: Volume
    moving: Volume
    before: Volume
    result: RegistrationResult | None
    true_transform: sitk.Transform | None
    tre_points: np.ndarray | None
    quality_before: AlignmentQuality
    quality_after: AlignmentQuality | None

    @property
    def moving_name(self) -> str:
        """ "MR" when the CT is fixed, else "CT"."""
        return OTHER[self.fixed_name]


@dataclass(frozen=True)
class ComparedSlices:
    """The axial slice the Compare section shows, its display windows and its overlay settings."""

    index: int
    ct_window: tuple[float, float]
    mr_window: tuple[float, float]
    tiles: int
    alpha: float
    fixed_view: Volume
    after_view: Volume | None
    fixed_slice: np.ndarray
    after_slice: np.ndarray | None

    def unit(self, volume: Volume) -> np.ndarray:
        """The shown slice of ``volume`` in [0, 1] (see :func:`display_slice`)."""
        return display_slice(volume, self.index, self.ct_window, self.mr_window)


def display_slice(volume: Volume, index: int, ct_window: tuple, mr_window: tuple) -> np.ndarray:
    """Axial slice ``index`` in [0, 1]: CT through the chosen window, MR through the shared MR display window."""
    window = ct_window if volume.modality == "CT" else mr_window
    return to_display_unit(extract_slice(volume, "axial", index), window)


def _registration_widgets(case: Case, c1, c2) -> RegistrationKey:
    """The registration the radios and the options expander choose (case, fixed image, options)."""
    fixed_name = c1.radio(
        "Fixed image (the reference grid)", ["CT", "MR"], horizontal=True, key="rf-fixed",
        help="The moving image is resampled onto the fixed image's grid. CT fixed / MR moving is the usual choice.",
    )  # fmt: skip
    mode = c2.radio(
        "Transform", [m.value for m in RegistrationMode], horizontal=True, key="rf-mode",
        help="rigid: 6 degrees of freedom (same patient). affine adds scaling/shear; bspline adds a smooth deformation.",
    )  # fmt: skip
    with st.expander("Registration options"):
        o1, o2, o3, o4 = st.columns(4)
        sampling = o1.select_slider(
            "Voxels sampled per iteration", [0.02, 0.05, 0.1, 0.2], value=DEFAULTS.sampling, key="rf-sampling"
        )
        multi_start = o2.select_slider(
            "Multi-start rotations (± degrees)", [0, 10, 15, 20, 30], value=int(DEFAULTS.multi_start_deg),
            key="rf-multistart",
            help="Short coarse runs from rotated starts; the best metric wins, so a wrong local optimum is not returned. 0 = one start.",
        )  # fmt: skip
        use_mask = o3.checkbox(
            f"Restrict to the head (CT above {DEFAULTS.ct_threshold_hu:g} HU)",
            value=DEFAULTS.mask is MaskMode.AUTO,
            key="rf-mask",
        )
        start = o4.selectbox(
            "Start from",
            list(INITIALISATION_LABELS),
            format_func=INITIALISATION_LABELS.get,
            key="rf-init",
            help="Automatic: the centres of the heads, unless the scans overlap and one shows only part of the head "
            "(then the scanners' own coordinates).",
        )
    return registration_key(
        case.fingerprint, fixed_name, mode=mode, sampling=sampling, multi_start_deg=float(multi_start),
        mask=MaskMode.AUTO if use_mask else MaskMode.NONE, initialization=start,
    )  # fmt: skip


def _registered(case: Case, key: RegistrationKey, result: RegistrationResult | None) -> Registered:
    """The pair, its ground truth (when known) and its alignment quality before and after."""
    fixed_name = key.fixed_name
    fixed, moving = rw.pair_of(case, fixed_name)
    true_transform, tre_points = rw.truth(case.fingerprint, fixed_name, case)
    before = rw.unregistered(case.fingerprint, fixed_name, case)
    after = rw.alignment_quality(fixed, result.resampled) if result is not None else None
    return Registered(
        fixed_name, key, fixed, moving, before, result, true_transform, tre_points,
        quality_before=rw.alignment_quality(fixed, before),
        quality_after=after,
    )  # fmt: skip


def register_section(case: Case) -> Registered:
    """Fixed image, transform and options; the Register button (live progress); the result's metrics."""
    c1, c2, c3 = st.columns([2, 2, 1])
    key = _registration_widgets(case, c1, c2)
    clicked = c3.button("Register", type="primary", key="rf-register", width="stretch")
    result = rw.stored_result(key)
    if clicked:  # a RegistrationError (bad options, no overlap) reaches the page boundary as a message
        result = rw.run_registration(case, key)
    pair = _registered(case, key, result)
    if result is None:
        st.info(
            f"Subject **{case.subject_id}**: press **Register** to align the {pair.moving_name} to the {pair.fixed_name} "
            "(a few seconds; progress is shown live). Below: how they line up before registration, from scanner coordinates alone."
        )
    else:
        _result_metrics(pair)
    return pair


def _result_metrics(pair: Registered) -> None:
    """TRE (when the truth is known), MI and edge alignment against before, time, stop reason, metric curve."""
    result, before, after = pair.result, pair.quality_before, pair.quality_after
    m = st.columns(5)
    if pair.true_transform is not None:
        tre = tre_before_after(result.transform, pair.true_transform, pair.tre_points)
        m[0].metric(
            "TRE median (mm)", f"{tre.median_after:.2f}",
            delta=f"{tre.median_after - tre.median_before:+.1f} vs before", delta_color="inverse",
            help="Target registration error: distance between where the estimated and the true transform put 100 points inside the head.",
        )  # fmt: skip
        m[1].metric("TRE max (mm)", f"{tre.max_after:.2f}", help=f"Before registration: {tre.max_before:.1f} mm.")
    else:
        m[0].metric("TRE", "unknown", help="No ground-truth transform for this case (real data).")
    mi, gc = after.mutual_information, after.gradient_correlation
    m[2].metric("MI (bits)", f"{mi:.3f}", delta=f"{mi - before.mutual_information:+.3f} vs before")
    m[3].metric(
        "Edge alignment", f"{gc:.3f}", delta=f"{gc - before.gradient_correlation:+.3f} vs before",
        help="Correlation of the two images' gradient magnitudes (1 = edges coincide).",
    )  # fmt: skip
    m[4].metric("Time (s)", f"{result.seconds:.1f}")
    st.info(result.initialisation_note)
    st.caption(f"Optimizer stop: {result.stop_reason}")
    st.plotly_chart(
        rviz.metric_curve_figure(result.metric_history, result.level_starts), width="stretch", key="rf-curve"
    )


def _slice_widgets(pair: Registered) -> tuple[Volume, Volume, Volume | None, int, tuple]:
    """(fixed, before and after display volumes, the axial slice index, the CT window) from the slider and picker."""
    fixed_view, before_view = display(pair.fixed), display(pair.before)
    after_view = display(pair.result.resampled) if pair.result else None
    s1, s2 = st.columns([3, 1])
    n_slices = slice_count(fixed_view, "axial")
    index = s1.slider("Axial slice", 0, n_slices - 1, n_slices // 2, key="rf-slice")
    ct_window = s2.selectbox(
        "CT window", list(WINDOW_PRESETS), index=list(WINDOW_PRESETS).index("soft tissue"), key="rf-window"
    )
    return fixed_view, before_view, after_view, index, WINDOW_PRESETS[ct_window]


def _before_after(tab, fixed_slice: np.ndarray, before_slice: np.ndarray, after_slice, render) -> None:
    """Two images side by side in ``tab``: ``render(fixed, moving)`` before and (once registered) after."""
    cols = tab.columns(2)
    cols[0].image(render(fixed_slice, before_slice), caption="before (scanner coordinates)", width=IMAGE_PX)
    if after_slice is None:
        cols[1].info("Register to see the result here.")
    else:
        cols[1].image(render(fixed_slice, after_slice), caption="after registration", width=IMAGE_PX)


def _linked_viewer(pair: Registered, views: tuple, ct_window: tuple, mr_levels: tuple) -> None:
    """Fixed, moving before and (once registered) after in the linked WebGL viewer; the composites stay below."""
    if not use_webgl():
        return
    fixed_view, before_view, after_view = views
    linked = {f"{pair.fixed_name} (fixed)": fixed_view, f"{pair.moving_name} before": before_view}
    linked |= {f"{pair.moving_name} after": after_view} if after_view is not None else {}
    windows = {k: tuple(ct_window) if v.modality == "CT" else mr_levels for k, v in linked.items()}
    tri_planar(linked, key="rf-view", layout="axial", windows=windows)


def compare_section(case: Case, pair: Registered) -> ComparedSlices:
    """Checkerboard, blend, edges and joint histogram of one axial slice, before and after registration."""
    fixed_view, before_view, after_view, index, ct_window = _slice_widgets(pair)
    mr_levels = mr_window(case.mr)  # one window for the MR before, after and fixed (the Data page's)
    _linked_viewer(pair, (fixed_view, before_view, after_view), ct_window, mr_levels)
    fixed_slice, before_slice, after_slice = (
        display_slice(v, index, ct_window, mr_levels) if v is not None else None
        for v in (fixed_view, before_view, after_view)
    )
    fixed_name, moving_name = pair.fixed_name, pair.moving_name
    tab_cb, tab_blend, tab_edges, tab_hist = st.tabs(["Checkerboard", "Blend", "Edges", "Joint histogram"])
    tiles = tab_cb.slider("Tiles per side", 2, 16, 8, key="rf-tiles")
    _before_after(tab_cb, fixed_slice, before_slice, after_slice, lambda a, b: rviz.checkerboard_rgb(a, b, tiles=tiles))
    tab_cb.caption(
        f"Tiles alternate {fixed_name} and {moving_name}: where the images are aligned, edges run straight across tile borders."
    )
    alpha = tab_blend.slider(f"Blend ({fixed_name} → {moving_name})", 0.0, 1.0, 0.5, 0.05, key="rf-alpha")
    _before_after(tab_blend, fixed_slice, before_slice, after_slice, lambda a, b: rviz.blend_rgb(a, b, alpha=alpha))
    tab_blend.caption(f"{fixed_name} in grey, {moving_name} in magenta; slide to fade between them.")
    _before_after(tab_edges, fixed_slice, before_slice, after_slice, rviz.edge_overlay_rgb)
    tab_edges.caption(
        f"{fixed_name} in grey with the {moving_name}'s edges in orange: aligned edges sit on the anatomy."
    )
    _joint_histogram_tab(tab_hist, pair)
    return ComparedSlices(
        index, ct_window, mr_levels, tiles, alpha, fixed_view, after_view, fixed_slice, after_slice
    )  # fmt: skip


def _joint_histogram_tab(tab, pair: Registered) -> None:
    """Joint histograms of (fixed, moving) intensities before and (once registered) after."""
    after = pair.quality_after.joint_histogram if pair.quality_after is not None else None
    tab.plotly_chart(
        rviz.joint_histogram_figure(
            pair.quality_before.joint_histogram, after, x_label=pair.fixed_name, y_label=pair.moving_name
        ),
        width="stretch",
        key="rf-jh",
    )
    tab.caption(
        "Each tissue forms a cluster of (fixed, moving) intensities; good alignment makes the clusters sharp and few."
    )


def misregister_section(pair: Registered, shown: ComparedSlices) -> None:
    """Shift and rotate the registered image away from its optimum: MI, TRE, checkerboard and the MI profile."""
    st.caption("Move the registered image away from its optimum and watch mutual information fall and the error grow.")
    t1, t2 = st.columns(2)
    shift = t1.slider("Shift left–right (mm)", -20.0, 20.0, 0.0, 0.5, key="rf-shift")
    rotation = t2.slider("Rotate about the head axis (degrees)", -20.0, 20.0, 0.0, 0.5, key="rf-rot")
    mask = ct_head_mask(pair.fixed)
    effect = rw.misaligned(
        pair.key, shift, rotation, pair.fixed, pair.moving, pair.result, pair.true_transform, pair.tre_points, mask
    )
    e = st.columns([1, 1, 2])
    mi = effect.mutual_information
    e[0].metric("Mutual information (bits)", f"{mi:.3f}", delta=f"{mi - pair.quality_after.mutual_information:+.3f}")
    if effect.tre_median_mm is not None:
        e[1].metric("TRE median (mm)", f"{effect.tre_median_mm:.2f}")
    moved_view = display(effect.resampled)
    e[2].image(
        rviz.checkerboard_rgb(shown.fixed_slice, shown.unit(moved_view), tiles=shown.tiles),
        caption="checkerboard with the deliberate error",
        width=IMAGE_PX,
    )
    if st.checkbox("Plot mutual information and TRE against the left–right shift (a few seconds)", key="rf-profile-on"):
        curve = rw.profile(
            pair.key, 0, pair.fixed, pair.moving, pair.result, pair.true_transform, pair.tre_points, mask
        )
        st.plotly_chart(
            rviz.misalignment_profile_figure(curve, current_mm=shift, axis_name="left–right"),
            width="stretch",
            key="rf-profile",
        )


def _normalisation_widgets(case: Case) -> NormalisationKey:
    """The normalisation the Normalise widgets choose (image, method and its options)."""
    n1, n2, n3 = st.columns(3)
    which = n1.radio("Image", ["CT", "MR"], horizontal=True, key="rf-norm-which")
    methods = [m.value for m in NormalisationMethod if not (which == "MR" and m is NormalisationMethod.CT_WINDOW)]
    method = n2.selectbox(
        "Method", methods, index=methods.index("zscore"), key="rf-norm-method",
        help="z-score and clipping use the head mask; histogram matching and MR→CT scale use the other modality as reference; n4 removes MR coil shading.",
    )  # fmt: skip
    if method == "ct_window":
        preset = n3.selectbox("Preset", list(WINDOW_PRESETS), key="rf-norm-preset")
        return normalisation_key(case.fingerprint, which, method, preset=preset)
    if method == "percentile_clip":
        low, high = n3.slider("Percentiles", 0.0, 100.0, (0.5, 99.5), 0.5, key="rf-norm-pct")
        return normalisation_key(case.fingerprint, which, method, lower=low, upper=high)
    return normalisation_key(case.fingerprint, which, method)


def normalise_section(case: Case) -> None:
    """Normalise the CT or the MR: histograms inside the head before and after, and the parameters used."""
    key = _normalisation_widgets(case)
    which, method = key.which, key.method
    try:
        normalised = rw.normalised(key, case)
        source = case.ct if which == "CT" else case.mr
        inside = rw.head_mask(source)
        st.plotly_chart(
            rviz.histograms_figure(
                source.array[inside], normalised.volume.array[inside],
                titles=(f"{which} before", f"{which} after {method}"),
            ),
            width="stretch",
            key="rf-norm-hist",
        )  # fmt: skip
        reference_note = f" (reference: {OTHER[which]})" if NormalisationMethod(method) in NEEDS_REFERENCE else ""
        st.caption(f"Histograms of the voxels inside the head. Parameters used{reference_note}:")
        shown = {k: (np.round(v, 3).tolist() if isinstance(v, list) else v) for k, v in normalised.params.items()}
        st.code(json.dumps(shown, indent=None if len(json.dumps(shown)) < 200 else 1)[:2000], language="json")
    except ValueError as error:
        st.error(str(error))


def fusion_section(pair: Registered, shown: ComparedSlices) -> None:
    """Fuse the registered CT and MR slice with the chosen method; every method's metrics beside it."""
    if pair.fixed_name == "CT":
        ct_slice, mr_slice, ct_view = shown.fixed_slice, shown.after_slice, shown.fixed_view
    else:
        ct_slice, mr_slice, ct_view = shown.after_slice, shown.fixed_slice, shown.after_view
    ct_hu = extract_slice(ct_view, "axial", shown.index)
    f1, f2 = st.columns([1, 2])
    fusion_methods = [m.value for m in FusionMethod]
    method = f1.selectbox(
        "Method", fusion_methods, index=fusion_methods.index(DEFAULT_FUSION_METHOD), key="rf-fusion-method",
        help="blend: weighted average · checkerboard: alternating tiles · colour: CT bone in colour over grey MR · "
        "laplacian / wavelet: keep the stronger detail of each source at every scale.",
    )  # fmt: skip
    options = {"blend": {"alpha": shown.alpha}, "checkerboard": {"tiles": shown.tiles}}
    fused = fuse_ct_mr(ct_hu, ct_slice, mr_slice, method=method, options=options.get(method))
    f1.image(fviz.fused_rgb(fused), caption=f"{method} fusion", width="stretch")
    table = compare_ct_mr(ct_hu, ct_slice, mr_slice, options)
    f2.plotly_chart(fviz.fusion_metrics_figure(table, highlight=method), width="stretch", key="rf-fusion-fig")
    f2.dataframe(pd.DataFrame(table).T.round(3), width="stretch")
    f2.caption("A = CT, B = MR, F = fused. " + " · ".join(f"**{k}**: {v}" for k, v in fviz.METRIC_HELP.items()))


def download_section(case: Case, pair: Registered) -> None:
    """The registered image (NIfTI on the fixed grid) and the transform (ITK .tfm)."""
    d1, d2 = st.columns(2)
    nifti_bytes, tfm_bytes = rw.export_bytes(pair.key, pair.result)
    fixed, moving = pair.fixed_name, pair.moving_name
    d1.download_button(
        f"Registered {moving} (NIfTI, on the {fixed} grid)",
        nifti_bytes,
        file_name=f"{case.subject_id}_{moving.lower()}_on_{fixed.lower()}.nii.gz",
        key="rf-dl-nii",
    )
    d2.download_button(
        "Transform (.tfm, ITK: fixed → moving points)",
        tfm_bytes,
        file_name=f"{case.subject_id}_{fixed.lower()}_to_{moving.lower()}.tfm",
        key="rf-dl-tfm",
    )
    case_report_button(
        case,
        label="Case report (HTML: the scans, this registration, normalisation)",
        key="rf-dl-report",
        registration=pair.result if fixed == "CT" else None,
        source="Register & Fuse page",
    )

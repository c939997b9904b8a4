"""Register & Fuse: align MR to CT by mutual information, check the alignment, normalise and fuse."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from fusion_core.fusion import DEFAULT_FUSION_METHOD, FusionMethod, compare_ct_mr, fuse_ct_mr
from fusion_core.preprocess import NEEDS_REFERENCE, WINDOW_PRESETS, NormalisationMethod
from fusion_core.registration import (
    MaskMode,
    RegistrationMode,
    RegistrationOptions,
    ct_head_mask,
    misalignment_effect,
    tre_before_after,
)
from fusion_core.viz import fusion as fviz
from fusion_core.viz import registration as rviz
from fusion_core.viz.display import to_display_unit
from fusion_core.viz.views import extract_slice, slice_count
from ui import register_widgets as rw
from ui.guard import require_app_navigation
from ui.scaffold import page_boundary
from ui.session import active_case
from ui.viewer import tri_planar, use_webgl

require_app_navigation()

with page_boundary("showing the Register & Fuse page"):
    IMAGE_PX = 420  # slice images: large enough to read, small enough to compare side by side
    DEFAULTS = RegistrationOptions()  # the widgets start at the API's defaults

    st.title("Register & Fuse")
    st.caption(
        "Align the MR to the CT by maximising their mutual information, see how good the alignment is "
        "(checkerboard, blend, edges, joint histogram and, on the phantom, the true error in mm), then "
        "normalise intensities and fuse the two images pixel by pixel."
    )

    case = active_case()
    if not case.is_paired:
        st.info(
            f"Subject {case.subject_id} has only {', '.join(case.modalities) or 'no scans'}: registration needs a CT and an MR. Pick a paired subject on the Data page."
        )
        st.stop()

    # ------------------------------------------------------------------ registration controls
    st.subheader("1 · Register")
    c1, c2, c3 = st.columns([2, 2, 1])
    fixed_name = c1.radio(
        "Fixed image (the reference grid)",
        ["CT", "MR"],
        horizontal=True,
        key="rf-fixed",
        help="The moving image is resampled onto the fixed image's grid. CT fixed / MR moving is the usual choice.",
    )
    moving_name = "MR" if fixed_name == "CT" else "CT"
    mode = c2.radio(
        "Transform",
        [m.value for m in RegistrationMode],
        horizontal=True,
        key="rf-mode",
        help="rigid: 6 degrees of freedom (same patient). affine adds scaling/shear; bspline adds a smooth deformation.",
    )
    with st.expander("Registration options"):
        o1, o2, o3 = st.columns(3)
        sampling = o1.select_slider(
            "Voxels sampled per iteration", [0.02, 0.05, 0.1, 0.2], value=DEFAULTS.sampling, key="rf-sampling"
        )
        multi_start = o2.select_slider(
            "Multi-start rotations (± degrees)",
            [0, 10, 15, 20, 30],
            value=int(DEFAULTS.multi_start_deg),
            key="rf-multistart",
            help="Short coarse runs from rotated starts; the best metric wins, so a wrong local optimum is not returned. 0 = one start.",
        )
        use_mask = o3.checkbox(
            f"Restrict to the head (CT above {DEFAULTS.ct_threshold_hu:g} HU)",
            value=DEFAULTS.mask is MaskMode.AUTO,
            key="rf-mask",
        )
    options = {
        "mode": mode,
        "sampling": sampling,
        "multi_start_deg": float(multi_start),
        "mask": "auto" if use_mask else "none",
    }
    key = rw.result_key(case, fixed_name, options)
    fixed, moving = rw.pair_of(case, fixed_name)
    clicked = c3.button("Register", type="primary", key="rf-register", width="stretch")

    result = rw.stored_result(key)
    if clicked:  # a RegistrationError (bad options, no overlap) reaches the page boundary as a message
        result = rw.run_registration(case, fixed_name, options, key)

    true_transform, tre_points = rw.truth(case.fingerprint, fixed_name, case)
    before = rw.unregistered(case.fingerprint, fixed_name, case)
    quality_before = rw.alignment_quality((case.fingerprint, fixed_name, "before"), fixed, before)
    mask = ct_head_mask(fixed)

    if result is None:
        st.info(
            f"Subject **{case.subject_id}**: press **Register** to align the {moving_name} to the {fixed_name} "
            "(a few seconds; progress is shown live). Below: how they line up before registration, from scanner coordinates alone."
        )
    else:
        tre = tre_before_after(result.transform, true_transform, tre_points) if true_transform is not None else None
        m = st.columns(5)
        if tre is not None:
            m[0].metric(
                "TRE median (mm)",
                f"{tre.median_after:.2f}",
                delta=f"{tre.median_after - tre.median_before:+.1f} vs before",
                delta_color="inverse",
                help="Target registration error: distance between where the estimated and the true transform put 100 points inside the head.",
            )
            m[1].metric("TRE max (mm)", f"{tre.max_after:.2f}", help=f"Before registration: {tre.max_before:.1f} mm.")
        else:
            m[0].metric("TRE", "unknown", help="No ground-truth transform for this case (real data).")
        q_before, q_after = quality_before, rw.alignment_quality(key, fixed, result.resampled)
        mi_before, mi_after, gc_before, gc_after = q_before["mi"], q_after["mi"], q_before["gc"], q_after["gc"]
        m[2].metric("MI (bits)", f"{mi_after:.3f}", delta=f"{mi_after - mi_before:+.3f} vs before")
        m[3].metric(
            "Edge alignment",
            f"{gc_after:.3f}",
            delta=f"{gc_after - gc_before:+.3f} vs before",
            help="Correlation of the two images' gradient magnitudes (1 = edges coincide).",
        )
        m[4].metric("Time (s)", f"{result.seconds:.1f}")
        st.caption(f"Optimizer stop: {result.stop_reason}")
        st.plotly_chart(
            rviz.metric_curve_figure(result.metric_history, result.level_starts), width="stretch", key="rf-curve"
        )

    # ------------------------------------------------------------------ compare before / after
    st.subheader("2 · Compare before and after")
    fixed_view = rw.display_volume(case.fingerprint, f"fixed-{fixed_name}", fixed)
    before_view = rw.display_volume(case.fingerprint, f"before-{fixed_name}", before)
    after_view = rw.display_volume(case.fingerprint, f"after-{key}", result.resampled) if result else None
    s1, s2 = st.columns([3, 1])
    n_slices = slice_count(fixed_view, "axial")
    index = s1.slider("Axial slice", 0, n_slices - 1, n_slices // 2, key="rf-slice")
    ct_window = s2.selectbox(
        "CT window", list(WINDOW_PRESETS), index=list(WINDOW_PRESETS).index("soft tissue"), key="rf-window"
    )

    mr_window = rw.mr_display_window(case.fingerprint, case)  # one window for the MR before, after and fixed

    def unit(volume, idx: int) -> np.ndarray:
        """A display slice in [0, 1]: CT through the chosen window, MR through the shared MR display window."""
        window = WINDOW_PRESETS[ct_window] if volume.modality == "CT" else mr_window
        return to_display_unit(extract_slice(volume, "axial", idx), window)

    if use_webgl():  # the same scans in the linked viewer (the pictures below stay for the composites)
        linked = {f"{fixed_name} (fixed)": fixed_view, f"{moving_name} before": before_view}
        linked |= {f"{moving_name} after": after_view} if after_view is not None else {}
        ct_hu_window = tuple(WINDOW_PRESETS[ct_window])
        tri_planar(
            linked,
            key="rf-view",
            layout="axial",
            windows={k: ct_hu_window if v.modality == "CT" else mr_window for k, v in linked.items()},
        )

    fixed_slice, before_slice = unit(fixed_view, index), unit(before_view, index)
    after_slice = unit(after_view, index) if after_view is not None else None
    tab_cb, tab_blend, tab_edges, tab_hist = st.tabs(["Checkerboard", "Blend", "Edges", "Joint histogram"])

    def before_after(render, tab) -> None:
        cols = tab.columns(2)
        cols[0].image(render(fixed_slice, before_slice), caption="before (scanner coordinates)", width=IMAGE_PX)
        if after_slice is None:
            cols[1].info("Register to see the result here.")
        else:
            cols[1].image(render(fixed_slice, after_slice), caption="after registration", width=IMAGE_PX)

    tiles = tab_cb.slider("Tiles per side", 2, 16, 8, key="rf-tiles")
    before_after(lambda a, b: rviz.checkerboard_rgb(a, b, tiles=tiles), tab_cb)
    tab_cb.caption(
        f"Tiles alternate {fixed_name} and {moving_name}: where the images are aligned, edges run straight across tile borders."
    )
    alpha = tab_blend.slider(f"Blend ({fixed_name} → {moving_name})", 0.0, 1.0, 0.5, 0.05, key="rf-alpha")
    before_after(lambda a, b: rviz.blend_rgb(a, b, alpha=alpha), tab_blend)
    tab_blend.caption(f"{fixed_name} in grey, {moving_name} in magenta; slide to fade between them.")
    before_after(rviz.edge_overlay_rgb, tab_edges)
    tab_edges.caption(
        f"{fixed_name} in grey with the {moving_name}'s edges in orange: aligned edges sit on the anatomy."
    )
    hist_before = quality_before["hist"]
    hist_after = rw.alignment_quality(key, fixed, result.resampled)["hist"] if result else None
    tab_hist.plotly_chart(
        rviz.joint_histogram_figure(hist_before, hist_after, x_label=fixed_name, y_label=moving_name),
        width="stretch",
        key="rf-jh",
    )
    tab_hist.caption(
        "Each tissue forms a cluster of (fixed, moving) intensities; good alignment makes the clusters sharp and few."
    )

    # ------------------------------------------------------------------ teaching: deliberate misregistration
    if result is not None:
        st.subheader("3 · Misregister on purpose")
        st.caption(
            "Move the registered image away from its optimum and watch mutual information fall and the error grow."
        )
        t1, t2 = st.columns(2)
        shift = t1.slider("Shift left–right (mm)", -20.0, 20.0, 0.0, 0.5, key="rf-shift")
        rotation = t2.slider("Rotate about the head axis (degrees)", -20.0, 20.0, 0.0, 0.5, key="rf-rot")
        effect = misalignment_effect(
            fixed,
            moving,
            result.transform,
            shift_mm=(shift, 0, 0),
            rotation_deg=(0, 0, rotation),
            true_transform=true_transform,
            points_mm=tre_points,
            mask=mask,
        )
        e = st.columns([1, 1, 2])
        e[0].metric(
            "Mutual information (bits)",
            f"{effect['mutual_information']:.3f}",
            delta=f"{effect['mutual_information'] - mi_after:+.3f}",
        )
        if effect["tre_mm"] is not None:
            e[1].metric("TRE median (mm)", f"{np.median(effect['tre_mm']):.2f}")
        moved_view = rw.display_volume(case.fingerprint, f"misaligned-{key}-{shift}-{rotation}", effect["resampled"])
        e[2].image(
            rviz.checkerboard_rgb(fixed_slice, unit(moved_view, index), tiles=tiles),
            caption="checkerboard with the deliberate error",
            width=IMAGE_PX,
        )
        if st.checkbox(
            "Plot mutual information and TRE against the left–right shift (a few seconds)", key="rf-profile-on"
        ):
            curve = rw.profile(key, 0, fixed, moving, result, true_transform, tre_points, mask)
            st.plotly_chart(
                rviz.misalignment_profile_figure(curve, current_mm=shift, axis_name="left–right"),
                width="stretch",
                key="rf-profile",
            )

    # ------------------------------------------------------------------ normalisation
    st.subheader("4 · Normalise intensities")
    n1, n2, n3 = st.columns(3)
    which = n1.radio("Image", ["CT", "MR"], horizontal=True, key="rf-norm-which")
    methods = [m.value for m in NormalisationMethod if not (which == "MR" and m is NormalisationMethod.CT_WINDOW)]
    method = n2.selectbox(
        "Method",
        methods,
        index=methods.index("zscore"),
        key="rf-norm-method",
        help="z-score and clipping use the head mask; histogram matching and MR→CT scale use the other modality as reference; n4 removes MR coil shading.",
    )
    norm_options: tuple = ()
    if method == "ct_window":
        norm_options = (("preset", n3.selectbox("Preset", list(WINDOW_PRESETS), key="rf-norm-preset")),)
    elif method == "percentile_clip":
        low, high = n3.slider("Percentiles", 0.0, 100.0, (0.5, 99.5), 0.5, key="rf-norm-pct")
        norm_options = (("lower", low), ("upper", high))
    try:
        normalised = rw.normalised(case.fingerprint, which, method, norm_options, case)
        source = case.ct if which == "CT" else case.mr
        inside = rw.head_mask(case.fingerprint, which, source)
        st.plotly_chart(
            rviz.histograms_figure(
                source.array[inside],
                normalised.volume.array[inside],
                titles=(f"{which} before", f"{which} after {method}"),
            ),
            width="stretch",
            key="rf-norm-hist",
        )
        reference_note = (
            f" (reference: {'MR' if which == 'CT' else 'CT'})" if NormalisationMethod(method) in NEEDS_REFERENCE else ""
        )
        st.caption(f"Histograms of the voxels inside the head. Parameters used{reference_note}:")
        shown = {k: (np.round(v, 3).tolist() if isinstance(v, list) else v) for k, v in normalised.params.items()}
        st.code(json.dumps(shown, indent=None if len(json.dumps(shown)) < 200 else 1)[:2000], language="json")
    except ValueError as error:
        st.error(str(error))

    # ------------------------------------------------------------------ pixel-level fusion
    st.subheader("5 · Fuse CT and MR pixel by pixel")
    if result is None:
        st.info("Register first: pixel-level fusion needs both images on one grid.")
    else:
        ct_slice, mr_slice = (fixed_slice, after_slice) if fixed_name == "CT" else (after_slice, fixed_slice)
        ct_hu = extract_slice(fixed_view if fixed_name == "CT" else after_view, "axial", index)
        f1, f2 = st.columns([1, 2])
        fusion_methods = [m.value for m in FusionMethod]
        fusion_method = f1.selectbox(
            "Method",
            fusion_methods,
            index=fusion_methods.index(DEFAULT_FUSION_METHOD),
            key="rf-fusion-method",
            help="blend: weighted average · checkerboard: alternating tiles · colour: CT bone in colour over grey MR · "
            "laplacian / wavelet: keep the stronger detail of each source at every scale.",
        )
        fusion_options = {"blend": {"alpha": alpha}, "checkerboard": {"tiles": tiles}}
        fused = fuse_ct_mr(ct_hu, ct_slice, mr_slice, method=fusion_method, options=fusion_options.get(fusion_method))
        f1.image(fviz.fused_rgb(fused), caption=f"{fusion_method} fusion", width="stretch")
        table = compare_ct_mr(ct_hu, ct_slice, mr_slice, fusion_options)
        f2.plotly_chart(
            fviz.fusion_metrics_figure(table, highlight=fusion_method), width="stretch", key="rf-fusion-fig"
        )
        f2.dataframe(pd.DataFrame(table).T.round(3), width="stretch")
        f2.caption("A = CT, B = MR, F = fused. " + " · ".join(f"**{k}**: {v}" for k, v in fviz.METRIC_HELP.items()))

    # ------------------------------------------------------------------ downloads
    if result is not None:
        st.subheader("6 · Download")
        d1, d2 = st.columns(2)
        nifti_bytes, tfm_bytes = rw.export_bytes(key, result)
        d1.download_button(
            f"Registered {moving_name} (NIfTI, on the {fixed_name} grid)",
            nifti_bytes,
            file_name=f"{case.subject_id}_{moving_name.lower()}_on_{fixed_name.lower()}.nii.gz",
            key="rf-dl-nii",
        )
        d2.download_button(
            "Transform (.tfm, ITK: fixed → moving points)",
            tfm_bytes,
            file_name=f"{case.subject_id}_{fixed_name.lower()}_to_{moving_name.lower()}.tfm",
            key="rf-dl-tfm",
        )

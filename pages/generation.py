"""Cross-modal Generation: synthetic CT from MR and back, where it is wrong, and what the models invent."""

from __future__ import annotations

import functools

import streamlit as st

from fusion_core.evaluation import cross_modal as cm
from fusion_core.viz.generation import ColourBar, comparison_rows, linked_map_panels, panel_grid_figure
from fusion_core.viz.views import CT_WINDOWS, Plane
from ui import generation as gen
from ui import generation_sections as sections
from ui.guard import require_app_navigation
from ui.models import get_model, show_caveats
from ui.scaffold import page_boundary
from ui.viewer import tri_planar

require_app_navigation()

with page_boundary("showing the Cross-modal Generation page"):
    st.title("Cross-modal Generation")
    st.caption(
        "Each trained model makes a CT from the MR (or an MR from the CT) of one subject; beside the real scan "
        "you see where it is wrong (signed error in HU), one table of metrics for every model, and what no "
        "model can invent."
    )
    c1, c2, c3 = st.columns([2, 1.2, 3])
    with c1:
        case, note = gen.subject_case(key="gen-subject")
    direction = c2.radio("Direction", list(cm.DIRECTIONS), horizontal=True, key="gen-direction")
    source, target = cm.DIRECTIONS[direction]
    names = gen.generator_names(source, target)
    chosen = c3.multiselect(
        "Models", names, default=gen.default_models(names, target, case), key=f"gen-models-{target}"
    )
    use_baseline = target == "CT" and c3.checkbox(
        "Add the tissue-class baseline (MR intensity classes → their mean HU; no deep learning)",
        value=True,
        key="gen-baseline",
    )
    st.caption(f"Subject {case.subject_id}: {note}.")
    if source not in case.modalities:
        st.info(f"{case.subject_id} has no {source} scan: choose the other direction, or another subject.")
        st.stop()
    labels = [*chosen, *([cm.BASELINE] if use_baseline else [])]
    if not labels:
        st.info("Choose at least one model.")
        st.stop()
    for name in chosen:
        show_caveats(get_model(name).card, case)
    volumes = gen.generate_all(case, labels, source, target)
    if not volumes:
        st.stop()
    labels = list(volumes)
    real = gen.real_target(case.fingerprint, target, case)
    unit = cm.ERROR_UNITS[target]

    # ------------------------------------------------------------------ metrics
    if real is None:
        st.info(
            f"No real {target} for {case.subject_id} (unpaired, or an {source} alone): the page shows the "
            f"generated {target}, but its error cannot be measured — no error map and no metrics.",
            icon=":material/info:",
        )
        csv = None
    else:
        table, csv = gen.metrics_table(case.fingerprint, tuple(labels), source, target, case)
        st.subheader(f"How close each model comes to the real {target}")
        st.table(table)  # a few rows: all visible, no scrolling
        st.caption(sections.METRICS_NOTE[target])

    # ------------------------------------------------------------------ linked views
    st.subheader("Input, generated and real, at one position")
    v1, v2 = st.columns(2)
    shown = v1.selectbox("Generated volume in the viewer", labels, key="gen-shown")
    ct_window = CT_WINDOWS[
        v2.selectbox("CT window", list(CT_WINDOWS), index=sections.DEFAULT_CT_WINDOW, key="gen-ct-window")
    ]
    trio = sections.viewer_volumes(case, source, target, volumes[shown], real, shown)
    windows = sections.viewer_windows(trio, ct_window)
    point = tri_planar(trio, key="gen-view", windows=windows)
    target_window = ct_window if target == "CT" else windows[f"{target} · {shown}"]

    errors, bar = {}, None
    if real is not None:
        on_grid = {name: gen.error_volume(case.fingerprint, name, source, target, case) for name in labels}
        errors = {name: gen.display(e) for name, e in on_grid.items()}
        limit = st.select_slider(
            f"Error colour scale (± {unit})",
            cm.ERROR_SCALES[target],
            value=gen.error_scale(case.fingerprint, shown, source, target, case),
            key=f"gen-scale-{target}",
        )
        bar = ColourBar.signed(limit, f"error ({unit})")
        base = gen.display(real)
        st.markdown(f"**Signed error of {shown}: generated − real {target}, inside the head**")
        st.plotly_chart(
            panel_grid_figure(
                [linked_map_panels(base, errors[shown], point, window=target_window, bar=bar)], bar=bar, row_height=360
            ),
            width="stretch",
            key="gen-error",
        )
        st.caption(sections.error_note(target, bar.high))

    # ------------------------------------------------------------------ small multiples
    st.subheader("Every model on the same slice")
    plane = st.radio("Plane", [p.value for p in Plane], horizontal=True, key="gen-plane")
    multiples = {name: gen.display(v) for name, v in volumes.items()}
    if real is not None:
        multiples[f"real {target}"] = base
    st.plotly_chart(
        panel_grid_figure(
            comparison_rows(multiples, errors, plane, point, window=target_window, bar=bar), bar=bar, row_height=300
        ),
        width="stretch",
        key="gen-multiples",
    )
    st.caption(
        f"Same {plane} slice through the cursor and the same window in every column"
        + ("; below, each model's error on one colour scale." if errors else ".")
    )

    # ------------------------------------------------------------------ truth, cycle, what-if, uncertainty
    if target == "CT" and real is not None:
        sections.only_ct_can_show(case, shown, ct_window)
    if target == "CT":
        sections.cycle_section(case, shown if shown != cm.BASELINE else chosen[0] if chosen else None, point)
    sections.whatif_section(case, target, point, target_window)
    sections.uncertainty_section(case, source, target, point, target_window, real)

    # ------------------------------------------------------------------ exports
    st.subheader("Download")
    d1, d2, d3 = st.columns(3)
    stem = f"{case.subject_id}_{target}_from_{source}_{shown}".replace(" ", "-")
    d1.download_button(
        f"Generated {target} ({shown}) · NIfTI",
        functools.partial(gen.nifti_bytes, volumes[shown]),
        file_name=f"{stem}.nii.gz",
        on_click="ignore",
        key="gen-dl-volume",
    )
    if real is not None:
        d2.download_button(
            f"Error map ({unit}) · NIfTI",
            functools.partial(gen.nifti_bytes, on_grid[shown]),
            file_name=f"{stem}_error.nii.gz",
            on_click="ignore",
            key="gen-dl-error",
        )
        d3.download_button(
            "Metrics table · CSV", csv, file_name=f"{stem}_metrics.csv", on_click="ignore", key="gen-dl-csv"
        )
    st.caption(
        f"Volumes keep the input's geometry ({'the CT grid' if case.ct is not None else 'the MR grid'}: origin, "
        "spacing and direction as loaded); the error map is 0 outside the head."
    )

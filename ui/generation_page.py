"""The top-level sections of the Cross-modal Generation page: inputs, metrics, error map, small multiples, downloads.

The page calls these in order; they read widgets, call the cached glue in :mod:`ui.generation` and draw
figures from :mod:`fusion_core.viz.panels` (the sections after them live in :mod:`ui.generation_sections`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import streamlit as st

from fusion_core.case import Case
from fusion_core.evaluation import cross_modal as cm
from fusion_core.io import dicom_series_zip, volume_to_nifti_bytes
from fusion_core.io.dicom_writer import dicom_reference
from fusion_core.viz.panels import ColourBar, comparison_rows, linked_map_panels, panel_grid_figure
from fusion_core.viz.views import Plane
from fusion_core.volume import Volume
from ui import generation as gen
from ui import generation_sections as sections
from ui.models import get_model, show_caveats
from ui.report_button import case_report_button
from ui.viewer import Heatmap, use_webgl


@dataclass(frozen=True)
class Choice:
    """What the user picked at the top of the page: subject, direction, models (and the baseline)."""

    case: Case
    note: str
    source: str
    target: str
    chosen: list[str]
    labels: list[str]


@dataclass
class ErrorMaps:
    """Signed error volumes (on the input grid and for display), their colour bar and the real target's view."""

    on_grid: dict[str, Volume] = field(default_factory=dict)
    shown: dict[str, Volume] = field(default_factory=dict)
    bar: ColourBar | None = None
    base: Volume | None = None


def choose_inputs() -> Choice:
    """Subject, direction and models (plus the tissue-class baseline for MR → CT)."""
    c1, c2, c3 = st.columns([2, 1.2, 3])
    with c1:
        case, note = gen.subject_case(key="gen-subject")
    direction = c2.radio(
        "Direction", cm.DIRECTIONS, horizontal=True, key="gen-direction", format_func=gen.direction_label
    )
    source, target = direction
    names = gen.generator_names(source, target)
    chosen = c3.multiselect(
        "Models (trained on paired or unpaired scans)",
        names,
        default=gen.default_models(names, target, case),
        key=f"gen-models-{target}",
        format_func=gen.model_label,
    )
    use_baseline = target == "CT" and c3.checkbox(
        "Add the tissue-class baseline (MR intensity classes → their mean HU; no deep learning)",
        value=True,
        key="gen-baseline",
    )
    labels = [*chosen, *([cm.BASELINE] if use_baseline else [])]
    return Choice(case, note, source, target, chosen, labels)


def generate(choice: Choice) -> dict[str, Volume]:
    """Every chosen model's volume (empty, with a message shown, when nothing can be generated)."""
    case, source, target = choice.case, choice.source, choice.target
    if source not in case.modalities:
        st.info(f"{case.subject_id} has no {source} scan: choose the other direction, or another subject.")
        return {}
    if not choice.labels:
        st.info("Choose at least one model.")
        return {}
    for name in choice.chosen:
        show_caveats(get_model(name).card, case)
    return gen.generate_all(case, choice.labels, source, target)


def metrics_section(choice: Choice, volumes: dict[str, Volume], real: Volume | None) -> str | None:
    """The metrics table of every model against the real target; returns it as CSV (None without a real target)."""
    case, source, target = choice.case, choice.source, choice.target
    if real is None:
        st.info(
            f"No real {target} for {case.subject_id} (unpaired, or an {source} alone): the page shows the "
            f"generated {target}, but its error cannot be measured — no error map and no metrics.",
            icon=":material/info:",
        )
        return None
    table, csv = gen.metrics_table(case.fingerprint, tuple(volumes), source, target, case)
    st.subheader(f"How close each model comes to the real {target}")
    st.table(table)  # a few rows: all visible, no scrolling
    st.caption(sections.METRICS_NOTE[target])
    return csv


def error_limit(choice: Choice, shown: str) -> float:
    """The error colour scale's end (± limit, in the target's unit), set by the user; the viewer and figures share it."""
    case, source, target = choice.case, choice.source, choice.target
    return st.select_slider(
        f"Error colour scale (± {cm.ERROR_UNITS[target]})",
        cm.ERROR_SCALES[target],
        value=gen.error_scale(case.fingerprint, shown, source, target, case),
        key=f"gen-scale-{target}",
    )


def error_overlay(choice: Choice, trio: dict[str, Volume], shown: str, limit: float | None) -> dict[str, Heatmap]:
    """WebGL only: the shown model's signed error (±limit, diverging) over the viewer's real-target panel.

    Renames that panel in ``trio`` (it stays last: input | generated | real + error, one crosshair); the
    PNG path keeps the error figure below the viewer instead.
    """
    case, source, target = choice.case, choice.source, choice.target
    real = trio.get(f"real {target}")
    if real is None or limit is None or not use_webgl():
        return {}
    label = f"real {target} + error of {shown} ({cm.ERROR_UNITS[target]})"
    trio[label] = trio.pop(f"real {target}")
    error = gen.error_volume(case.fingerprint, shown, source, target, case)
    # floor: like the error figure, no colour for errors within a few units of zero
    return {label: Heatmap(error, colormap="warm", limit=limit, signed=True, opacity=0.7, floor=0.1)}


def error_section(choice: Choice, volumes: dict, real: Volume, shown: str, point, window, limit: float) -> ErrorMaps:
    """The signed error of the shown model at the viewer's position, on the colour scale the user set."""
    case, source, target, fp = choice.case, choice.source, choice.target, choice.case.fingerprint
    unit = cm.ERROR_UNITS[target]
    on_grid = {name: gen.error_volume(fp, name, source, target, case) for name in volumes}
    errors = {name: gen.display(e) for name, e in on_grid.items()}
    bar = ColourBar.signed(limit, f"error ({unit})")
    base = gen.display(real)
    st.markdown(f"**Signed error of {shown}: generated − real {target}, inside the head**")
    st.plotly_chart(
        panel_grid_figure(
            [linked_map_panels(base, errors[shown], point, window=window, bar=bar)], bar=bar, row_height=360
        ),
        width="stretch",
        key="gen-error",
    )
    st.caption(sections.error_note(target, bar.high))
    return ErrorMaps(on_grid, errors, bar, base)


def multiples_section(choice: Choice, volumes: dict[str, Volume], errors: ErrorMaps, point, window) -> None:
    """Every model (and the real target) on the same slice and window; below, each model's error."""
    target = choice.target
    plane = st.radio("Plane", [p.value for p in Plane], horizontal=True, key="gen-plane")
    multiples = {name: gen.display(v) for name, v in volumes.items()}
    if errors.base is not None:
        multiples[f"real {target}"] = errors.base
    rows = comparison_rows(multiples, errors.shown, plane, point, window=window, bar=errors.bar)
    st.plotly_chart(panel_grid_figure(rows, bar=errors.bar, row_height=300), width="stretch", key="gen-multiples")
    st.caption(
        f"Same {plane} slice through the cursor and the same window in every column"
        + ("; below, each model's error on one colour scale." if errors.shown else ".")
    )


def download_section(choice: Choice, volumes: dict[str, Volume], shown: str, errors: ErrorMaps, csv) -> None:
    """The generated volume and its error map (NIfTI on the input grid) and the metrics table (CSV)."""
    case, source, target = choice.case, choice.source, choice.target
    d1, d2, d3 = st.columns(3)
    stem = f"{case.subject_id}_{target}_from_{source}_{shown}".replace(" ", "-")
    nifti = functools.partial(volume_to_nifti_bytes, fill_nan=0.0)  # NaN written as 0
    d1.download_button(
        f"Generated {target} ({shown}) · NIfTI", functools.partial(nifti, volumes[shown]),
        file_name=f"{stem}.nii.gz", on_click="ignore", key="gen-dl-volume",
    )  # fmt: skip
    d1.download_button(
        f"Generated {target} ({shown}) · DICOM series (zip)",
        functools.partial(
            dicom_series_zip, volumes[shown], reference=dicom_reference(case, source.lower()),
            model=None if shown == cm.BASELINE else shown,
        ),
        file_name=f"{stem}_dicom.zip", on_click="ignore", key="gen-dl-dicom",
    )  # fmt: skip
    case_report_button(
        case, label="Case report (HTML: scans, registration, these models)", key="gen-dl-report", container=d1,
        models=tuple(choice.chosen), source="Cross-modal Generation page",
    )  # fmt: skip
    if errors.on_grid:
        d2.download_button(
            f"Error map ({cm.ERROR_UNITS[target]}) · NIfTI", functools.partial(nifti, errors.on_grid[shown]),
            file_name=f"{stem}_error.nii.gz", on_click="ignore", key="gen-dl-error",
        )  # fmt: skip
        d3.download_button(
            "Metrics table · CSV", csv, file_name=f"{stem}_metrics.csv", on_click="ignore", key="gen-dl-csv"
        )
    st.caption(
        f"Volumes keep the input's geometry ({'the CT grid' if case.ct is not None else 'the MR grid'}: origin, "
        "spacing and direction as loaded); the error map is 0 outside the head."
    )


def later_sections(choice: Choice, volumes: dict, shown: str, point, window, real: Volume | None) -> None:
    """What only CT can show, the cycle, the what-if and the uncertainty sections, in the page's order."""
    case, source, target, chosen = choice.case, choice.source, choice.target, choice.chosen
    if target == "CT" and real is not None:
        sections.only_ct_can_show(case, shown, window)
    if target == "CT":
        sections.cycle_section(case, shown if shown != cm.BASELINE else chosen[0] if chosen else None, point)
    sections.whatif_section(case, target, point, window)
    sections.uncertainty_section(case, source, target, point, window, real)

"""Streamlit glue of the Cross-modal Generation page: the subject, models per direction, cached generation.

Every whole-volume result is cached (``st.cache_resource``) on the case's fingerprint, the model and
the direction (and the settings that change it), so moving a slice slider never regenerates; a function
that needs another cached result calls it rather than taking it as a skipped argument. Display copies and
MR windows (:mod:`ui.display`) are keyed on the volume itself. Long work shows a progress bar; ``impute``
gets a ``progress`` callback when it accepts one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import numpy as np
import streamlit as st

from fusion_core.case import Case
from fusion_core.errors import FusionError
from fusion_core.evaluation import cross_modal as cm
from fusion_core.inference import ModelInputError, impute, list_models
from fusion_core.inference.registry import GENERATIVE_TASKS
from fusion_core.preprocess.masks import case_head_mask
from fusion_core.viz.panels import grey_slice_rgb, panel_grid_figure
from fusion_core.viz.views import canonical, render_slice
from fusion_core.volume import Volume
from ui import recovery, session
from ui.aligned import aligned_active_case
from ui.display import display, mr_window
from ui.models import get_model

# The first of these that is shipped and can read the case's scans is the default.
PREFERRED = {"CT": ("synth-unet", "synth-unet-t1", "vae-poe"), "MR": ("synth-unet-ct2mr", "vae-poe")}
_ACTIVE = "__active__"
logger = logging.getLogger("fusion_explorer")


def direction_label(direction: cm.Direction) -> str:
    """A generation direction as the page names it: "MR → CT"."""
    return f"{direction.source} → {direction.target}"


def subject_case(*, key: str) -> tuple[Case, str]:
    """A subject picker over the demo cohort (the active case first when it is not a demo subject).

    Returns:
        (the case, MR on the CT grid when paired; a note on its alignment or on what it lacks).
    """
    active, ids = session.active_case(), session.demo_subject_ids()
    is_demo = active.meta.get("cohort_spec") == session.DEMO_SPEC and active.subject_id in ids
    options = ids if is_demo else [_ACTIVE, *ids]
    chosen = st.selectbox(
        "Subject",
        options,
        index=options.index(active.subject_id) if is_demo else 0,
        format_func=lambda sid: f"{active.subject_id} (from the Data page)" if sid == _ACTIVE else sid,
        key=key,
    )
    if chosen not in (_ACTIVE, active.subject_id):
        session.set_active_case(session.demo_case(chosen))
    case = session.active_case()
    if not case.is_paired:
        return case, f"{case.subject_id} has only {' and '.join(case.modalities) or 'no scans'} (unpaired)"
    aligned = aligned_active_case()
    return aligned.case, aligned.note


@st.cache_data(show_spinner=False)
def generator_names(source: str, target: str) -> list[str]:
    """Shipped generative models (synthesis, VAE, translator, diffusion) that can make ``target`` from ``source``."""
    names, usable = [name for task in GENERATIVE_TASKS for name in list_models(task=task)], []
    for name in names:
        try:
            model = get_model(name)
        except FusionError as error:  # e.g. a checkpoint being rebuilt: leave it out, keep the page working
            logger.warning("generation page: model %s left out: %s", name, error)
            continue
        if cm.can_generate(model, source, target):
            usable.append(name)
    return usable


@st.cache_data(show_spinner=False)
def model_label(name: str) -> str:
    """A model as the picker names it: its name and, when its card says, its training data ("paired" or
    "unpaired": CT and MR of one person, or of different people)."""
    data = get_model(name).card.training_data
    return f"{name} · {data}" if data else name


def default_models(names: list[str], target: str, case: Case | None = None) -> list[str]:
    """The page's first choice: the paired U-Net (T1+T2, else T1 alone) when shipped and the case has its
    scans, else the PoE VAE, else the first model that can read the case (any model when ``case`` is None)."""
    readable = [name for name in names if case is None or reads_case(name, target, case)]
    preferred = [name for name in PREFERRED[target] if name in readable]
    return preferred[:1] or readable[:1]


def reads_case(name: str, target: str, case: Case) -> bool:
    """Whether the case holds every source scan ``name`` reads to make ``target`` (e.g. a T2 for synth-unet)."""
    have = ({"CT"} if case.ct is not None else set()) | set(case.mr_weightings)
    needed = {i for i in get_model(name).card.inputs if (i == "CT") != (target == "CT")}
    return needed <= have


@contextlib.contextmanager
def progress_bar(text: str) -> Iterator[Callable[[float], None]]:
    """A progress bar for the duration of a block; yields ``report(fraction)``."""
    bar = st.progress(0.0, text=text)
    try:
        with recovery.running_job(text):
            yield lambda fraction: bar.progress(float(np.clip(fraction, 0.0, 1.0)), text=text)
    finally:
        bar.empty()


def run_impute(model_name: str, volumes: dict[str, Volume], target: str, text: str) -> Volume:
    with progress_bar(text) as report:
        return impute(get_model(model_name), volumes, target, progress=report)


@st.cache_resource(max_entries=32, show_spinner=False)
def generated(case_key: str, model_name: str, source: str, target: str, _case: Case) -> Volume:
    """The whole ``target`` volume generated by ``model_name`` from the case's ``source`` scan(s); ``_case`` is
    determined by ``case_key`` (its fingerprint)."""
    if model_name == cm.BASELINE:
        return cm.baseline_ct(baseline_mapper(), _case.mr)
    volumes = cm.source_volumes(_case, source)
    return run_impute(model_name, volumes, target, f"Generating the {target} with {model_name}…")


@st.cache_resource(show_spinner="Fitting the tissue-class baseline on two training subjects (once)…")
def baseline_mapper():
    return cm.fit_baseline()


def generate_all(case: Case, names: list[str], source: str, target: str) -> dict[str, Volume]:
    """Every chosen model's volume; a model that cannot read this case (e.g. it needs a T2 the case lacks)
    is left out with its reason on the page, and the others still show."""
    out = {}
    for name in names:
        try:
            out[name] = generated(case.fingerprint, name, source, target, case)
        except ModelInputError as error:
            st.warning(f"{name} is left out: {error}", icon=":material/block:")
    return out


@st.cache_resource(max_entries=32, show_spinner=False)
def error_volume(case_key: str, model_name: str, source: str, target: str, _case: Case) -> Volume:
    """generated - real inside the head (NaN outside), on the input grid; ``_case`` is determined by ``case_key``."""
    generated_volume = generated(case_key, model_name, source, target, _case)
    return cm.signed_error(generated_volume, real_target(case_key, target, _case), head(case_key, _case))


@st.cache_resource(max_entries=16, show_spinner=False)
def head(case_key: str, _case: Case) -> np.ndarray:
    """The case's head mask; ``_case`` is determined by ``case_key`` (its fingerprint)."""
    return case_head_mask(_case)


@st.cache_data(max_entries=64, show_spinner=False)
def error_scale(case_key: str, model_name: str, source: str, target: str, _case: Case) -> float:
    """The default colour limit of an error map (see ``cross_modal.default_error_scale``); ``_case`` is
    determined by ``case_key``."""
    return cm.default_error_scale(error_volume(case_key, model_name, source, target, _case).array, target)


@st.cache_resource(max_entries=16, show_spinner=False)
def real_target(case_key: str, target: str, _case: Case) -> Volume | None:
    """The case's real ``target`` scan (None when it has none); ``_case`` is determined by ``case_key``."""
    return cm.real_target(_case, target)


@st.cache_data(max_entries=32, show_spinner="Computing the metrics…")
def metrics_table(case_key: str, names: tuple[str, ...], source: str, target: str, _case: Case):
    """(metrics table as formatted text for the page, its CSV bytes at full precision) of the volumes ``names``
    generate from ``source`` (each already generated); ``_case`` is determined by ``case_key``."""
    volumes = {name: generated(case_key, name, source, target, _case) for name in names}
    table = cm.metrics_table(cm.compare(volumes, _case, target), target)
    shown = table.apply(lambda column: column.map(lambda v: "–" if np.isnan(v) else metric_format(column.name) % v))
    return shown, table.to_csv(float_format="%.4g").encode()


def metric_format(column: str) -> str:
    """Whole HU, one decimal for dB, three for ratios and MR errors."""
    return "%.0f" if "(HU)" in column else "%.1f" if "dB" in column else "%.3f"


@st.cache_resource(max_entries=8, show_spinner=False)
def cycle(case_key: str, forward: str, backward: str, _case: Case) -> cm.CycleResult:
    """MR -> CT with ``forward``, CT -> MR with ``backward``, against the input MR; ``_case`` is determined by
    ``case_key``."""
    synthetic = generated(case_key, forward, "MR", "CT", _case)
    back = run_impute(backward, {"CT": synthetic}, "MR", f"Generating the MR back with {backward}…")
    return cm.cycle_residual(synthetic, back, _case.mr, head(case_key, _case))


@st.cache_resource(max_entries=8, show_spinner=False)
def whatif(
    case_key: str, model_name: str, target: str, _case: Case
) -> tuple[dict[str, Volume], cm.PosteriorMaps | None]:
    """(given -> imputed ``target``, posterior variance maps) for CT alone, MR alone and both; ``_case`` is
    determined by ``case_key``."""
    model, imputed = get_model(model_name), {}
    inputs = {label: cm.whatif_volumes(_case, given) for label, given in cm.WHATIF_INPUTS.items()}
    with progress_bar(f"Imputing the {target} from CT alone, MR alone and both…") as report:
        for step, (label, volumes) in enumerate(inputs.items()):
            imputed[label] = impute(model, volumes, target)
            report((step + 1) / (len(inputs) + 1))
        return imputed, cm.posterior_variance_maps(model, inputs)


@st.cache_resource(max_entries=4, show_spinner=False)
def uncertain(case_key: str, model_name: str, source: str, target: str, samples: int, _case: Case):
    """``impute_with_uncertainty`` (mean, per-voxel std over ``samples`` samples, seed 0) with a progress bar;
    ``_case`` is determined by ``case_key``."""
    from fusion_core.inference import impute_with_uncertainty

    volumes = cm.source_volumes(_case, source)
    with progress_bar(f"Sampling {samples} {target} volumes with {model_name}…") as report:
        return impute_with_uncertainty(get_model(model_name), volumes, target, samples=samples, seed=0, progress=report)


@st.cache_resource(max_entries=4, show_spinner=False)
def uncertain_error(case_key: str, model_name: str, source: str, target: str, samples: int, _case: Case) -> Volume:
    """The error of :func:`uncertain`'s mean against the real ``target`` inside the head (NaN outside); ``_case``
    is determined by ``case_key``."""
    mean = uncertain(case_key, model_name, source, target, samples, _case).mean
    return cm.signed_error(mean, real_target(case_key, target, _case), head(case_key, _case))


@st.cache_resource(max_entries=8, show_spinner=False)
def mr_scaled(case_key: str, _case: Case) -> Volume:
    """The case's MR on the generated MR's 0–1000 scale; ``_case`` is determined by ``case_key``."""
    return cm.mr_on_generated_scale(_case.mr)


@st.cache_resource(max_entries=16, show_spinner=False)
def lesion_view(case_key: str, model_name: str, ct_window: tuple, _case: Case):
    """(lesion contrast, figure of real CT with the lesion, ``model_name``'s synthetic CT from the MR and the MR at
    the lesion), or (None, None); ``_case`` is determined by ``case_key``."""
    synthetic = generated(case_key, model_name, "MR", "CT", _case)
    contrast = cm.lesion_contrast(_case, synthetic)
    if contrast is None:
        return None, None
    index, lesion = contrast.slice_index, canonical(_case.masks["lesion"]).array
    ct, mr = display(_case.ct), display(_case.mr)
    panels = [
        (render_slice(ct, "axial", index, window=ct_window, overlay=lesion), "real CT · lesion (truth) in red"),
        (grey_slice_rgb(display(synthetic), "axial", index, ct_window), f"synthetic CT · {model_name}"),
        (grey_slice_rgb(mr, "axial", index, mr_window(_case.mr)), f"{_case.mr.modality} (input)"),
    ]
    return contrast, panel_grid_figure([panels], row_height=300)

"""Sections of the Cross-modal Generation page that render on their own: truth, cycle, what-if, uncertainty.

Each reads its widgets, calls the cached glue in :mod:`ui.generation` and draws figures from
:mod:`fusion_core.viz.panels`; the page calls them in order.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from fusion_core.case import Case
from fusion_core.evaluation import cross_modal as cm
from fusion_core.inference.generate import SPREAD_TASKS
from fusion_core.preprocess.window import WINDOW_PRESETS
from fusion_core.viz import views
from fusion_core.viz.panels import ColourBar, grey_slice_rgb, linked_map_panels, map_slice_rgb, panel_grid_figure
from fusion_core.volume import Volume
from ui import generation as gen
from ui.models import get_model

DEFAULT_CT_WINDOW = list(WINDOW_PRESETS).index("soft tissue")  # bone and soft tissue both readable
METRICS_NOTE = {
    "CT": "Inside the head mask, as the SynthRAD2023 challenge computes them. MAE in HU (lower is better); PSNR "
    "over 4024 HU (−1024…3000) and SSIM, one 3-D SSIM of the whole volume averaged over the head (higher is "
    "better); bone Dice: overlap of the voxels above 300 HU in the generated and the real CT; per-tissue MAE in bone "
    "(real CT > 300 HU), brain (the phantom's truth) and the other soft tissue. The same function as the "
    "generation benchmark computes these numbers.",
    "MR": "Inside the head mask, on the real MR's scale: MAE as a fraction of its 99th percentile (lower is "
    "better), PSNR and the 3-D SSIM as for CT with a data range of 1 (higher is better); per-tissue MAE with bone "
    "from the real CT. MR has no physical unit, so the generated and the real MR are both put on one 0–1000 scale "
    "(within-head 0.5/99.5 percentiles) first.",
}


def viewer_volumes(
    case: Case, source: str, target: str, generated: Volume, real: Volume | None, shown: str
) -> dict[str, Volume]:
    """Input, generated and (when known) real target, labelled for the linked viewer."""
    given = case.ct if source == "CT" else case.mr
    trio = {f"{given.modality} (input)": given, f"{target} · {shown}": generated}
    if real is not None:
        trio[f"real {target}"] = real
    return trio


def viewer_windows(trio: dict[str, Volume], ct_window: tuple[float, float]) -> dict:
    """One CT window for every CT; one MR window (the real MR's, else the generated one's) for generated and real MR."""
    mr_like = [label for label, v in trio.items() if v.modality != "CT" and "input" not in label]
    reference = trio[mr_like[-1]] if mr_like else None
    windows = {label: ct_window for label, v in trio.items() if v.modality == "CT"}
    for label, volume in trio.items():
        if volume.modality != "CT":
            own = reference if label in mr_like else volume
            windows[label] = gen.mr_window(own)
    return windows


def error_note(target: str, limit: float) -> str:
    what = "denser (higher HU) than" if target == "CT" else "brighter than"
    return (
        f"Red: the generated {target} is {what} the real one; blue: the opposite; no colour: within a few "
        f"{'HU' if target == 'CT' else 'units'} of it. The scale is symmetric and saturates at ±{limit:g} "
        f"{cm.ERROR_UNITS[target]} (first set to cover 80 % of the head's voxels for the model shown; the darkest "
        "red and blue mean this much or more), the same for every model. Outside the head no error is shown."
    )


def only_ct_can_show(case: Case, name: str, ct_window: tuple[float, float]) -> None:
    """With the phantom's truth: the lesion's contrast on the real and ``name``'s synthetic CT, and why both scans
    matter."""
    contrast, figure = gen.lesion_view(case.fingerprint, name, ct_window, case)
    if contrast is None:
        return
    st.subheader("What the synthetic CT misses")
    st.plotly_chart(figure, width="stretch", key="gen-lesion")
    recovered = contrast.recovered
    real_hu, synthetic_hu = round(contrast.real_hu), round(contrast.synthetic_hu)  # ints: never "-0"
    st.markdown(
        f"Ground truth: a **{contrast.lesion_type}** lesion (axial slice {contrast.slice_index + 1}). On the real "
        f"CT it stands **{real_hu:+d} HU** from the brain around it; on the synthetic CT **{synthetic_hu:+d} HU** "
        f"({max(recovered, 0.0):.0%} of it)."
    )
    if contrast.lesion_type == "calcified":
        st.warning(
            "A model that makes CT from MR can only show what the MR contains. A calcification is dense on CT "
            "and nearly invisible on MR, so the synthetic CT cannot show it: this is why both scans are "
            "acquired, and why a synthetic CT is no substitute for a real one when CT-only findings matter.",
            icon=":material/visibility_off:",
        )
    elif recovered < 0.5:
        st.warning(
            "The synthetic CT shows less than half of this lesion's real CT contrast: a model that makes CT from "
            "MR only shows what the MR contains. Read lesions on the real CT.",
            icon=":material/visibility_off:",
        )


def cycle_section(case: Case, forward: str | None, point: np.ndarray) -> None:
    """MR -> synthetic CT -> synthetic MR minus the MR: where the model invents or drops anatomy."""
    backs = gen.generator_names("CT", "MR")
    if forward is None or not backs or case.mr is None:
        return
    backward = forward if forward in backs else gen.default_models(backs, "MR")[0]
    st.subheader("Cycle residual: MR → synthetic CT → MR")
    if not st.toggle(
        f"Compute it ({forward} forward, {backward} back; one more whole-volume generation)", key="gen-cycle"
    ):
        st.caption("Where the round trip does not come back to the input MR, a model has invented or dropped anatomy.")
        return
    result = gen.cycle(case.fingerprint, forward, backward, case)
    mr = gen.display(gen.mr_scaled(case.fingerprint, case))
    residual = gen.display(result.residual)
    bar = ColourBar.signed(cm.symmetric_limit(result.residual.array), "residual (MR 0–1000)")
    window = gen.mr_window(mr)
    figure = panel_grid_figure([linked_map_panels(mr, residual, point, window=window, bar=bar)], bar=bar)
    st.plotly_chart(figure, width="stretch", key="gen-cycle-fig")
    st.caption(
        f"Synthetic MR after the round trip minus the input MR (both on the 0–1000 scale), at the cursor. Mean "
        f"|residual| in the head: {result.mean_abs:.0f}. Red: brighter after the round trip, blue: darker."
    )


def whatif_section(case: Case, target: str, point: np.ndarray, window: tuple[float, float]) -> None:
    """The PoE VAE's imputed target from CT alone, MR alone and both, with its posterior variance maps."""
    vaes = gen.generator_names("MR" if target == "CT" else "CT", target)
    vaes = [name for name in vaes if get_model(name).task == "vae"]
    if not vaes or not case.is_paired:
        return
    st.subheader("Missing-modality what-if (product-of-experts VAE)")
    if not st.toggle(f"Compute it with {vaes[0]} (three imputations and posteriors)", key="gen-whatif"):
        st.caption(
            f"The VAE fuses whatever scans it is given: see the {target} it imputes from CT alone, MR alone and "
            "both, and how uncertain its latent is in each case."
        )
        return
    imputed, posterior = gen.whatif(case.fingerprint, vaes[0], target, case)
    first = gen.display(next(iter(imputed.values())))
    index = views.slice_index_at(first, "axial", point)
    images, maps = [], []
    for label, volume in imputed.items():
        canon = gen.display(volume)
        images.append((grey_slice_rgb(canon, "axial", index, window), f"{target} from {label}"))
    bar = None
    if posterior is not None:
        high = max(float(np.nanmax(v.array)) for v in posterior.maps.values())
        bar = ColourBar.sequential(high, "posterior variance (1 = prior)")
        for label, variance in posterior.maps.items():
            var = gen.display(variance)
            maps.append((map_slice_rgb(first, var, "axial", index, window=window, bar=bar, alpha=1.0), label))
    st.plotly_chart(
        panel_grid_figure([images, maps] if maps else [images], bar=bar, row_height=300), width="stretch", key="gen-wi"
    )
    used = (
        f"the {len(posterior.channels)} of its {posterior.n_channels} latent channels the model uses (the others "
        "stay at the prior everywhere)"
        if posterior
        else "its latent"
    )
    st.caption(
        f"Top: the imputed {target} (from the {target} itself it is a reconstruction). Bottom: the posterior "
        f"variance of {used}, per latent location (each covers a patch of the slice); dark = the given scans pin "
        "the latent down, bright = the model falls back on its prior. Lower with both scans = fusion adds information."
    )


UNCERTAINTY_HELP = (
    "diffusion: several refinements of the U-Net's CT from different starting noise. VAE: decodes of latents "
    "drawn from its posterior; its skip paths are the same for every draw, so its spread shows only what "
    "the latent leaves open. The benchmark reports how well each spread follows the error."
)


def uncertainty_section(case: Case, source: str, target: str, point, window, real: Volume | None) -> None:
    """A sampling model's per-voxel spread beside its error: the diffusion refiner's samples, or the VAE's
    decodes of posterior draws (shown when such a model can make ``target`` from ``source``)."""
    names = [n for n in gen.generator_names(source, target) if get_model(n).task in SPREAD_TASKS]
    names.sort(key=lambda n: get_model(n).task != "diffusion")  # the diffusion model first
    if not names:
        return
    st.subheader("Where the model is unsure")
    u0, u1, u2 = st.columns([1, 1, 2])
    name = u0.selectbox("Sampling model", names, key="gen-unc-model", help=UNCERTAINTY_HELP)
    samples = u1.select_slider("Samples", [4, 8, 16], value=8, key="gen-samples")
    if not u2.toggle(f"Sample {name} {samples} times (slow: progress is shown)", key="gen-unc"):
        return
    result = gen.uncertain(case.fingerprint, name, source, target, samples, case)
    base, std = gen.display(result.mean), gen.display(result.std)
    spread = ColourBar.sequential(cm.symmetric_limit(std.array), f"spread ({cm.ERROR_UNITS[target]})")
    st.plotly_chart(
        panel_grid_figure([linked_map_panels(base, std, point, window=window, bar=spread)], bar=spread),
        width="stretch",
        key="gen-unc-std",
    )
    if real is not None:
        error = gen.display(gen.uncertain_error(case.fingerprint, name, source, target, samples, case))
        bar = ColourBar.signed(cm.symmetric_limit(error.array), f"error ({cm.ERROR_UNITS[target]})")
        st.plotly_chart(
            panel_grid_figure([linked_map_panels(base, error, point, window=window, bar=bar)], bar=bar),
            width="stretch",
            key="gen-unc-err",
        )
    st.caption(
        f"Top: per-voxel standard deviation over {result.samples} samples; below: the error of their mean. Where "
        "the model is wrong but its spread is small, it does not know it is wrong."
    )

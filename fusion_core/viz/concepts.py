"""The fusion concepts drawn: two detectors, Bayes' rule, a product of Gaussian experts, XOR fits,
architectures' AUCs, fusion weights, site transfer and misregistration (``fusion_core.teaching``'s results).
Pure functions returning ``go.Figure``.

The same colours as everywhere else: CT blue, MR vermilion, fused in the early-fusion green, the
prior and chance in grey.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from fusion_core.preprocess.window import apply_window
from fusion_core.teaching.architectures import MeasuredAUC
from fusion_core.teaching.bayes import BayesFusion
from fusion_core.teaching.detectors import DetectorFusion, SimulatedDetectors, binormal_roc, fuse_detectors
from fusion_core.teaching.misregistration import MisregistrationCurve, MisregistrationView
from fusion_core.teaching.normalisation import SitePair, SiteTransfer
from fusion_core.teaching.poe import GaussianExpert, gaussian_density
from fusion_core.teaching.posterior import PosteriorBySubset
from fusion_core.teaching.uncertainty import WeightCurve
from fusion_core.teaching.xor import ToyFit, make_xor_data
from fusion_core.viz.registration import edge_overlay_rgb
from fusion_core.viz.theme import MODALITY_COLOURS, STRATEGY_COLOURS, TEMPLATE

CT_COLOUR = MODALITY_COLOURS["CT"]
MR_COLOUR = MODALITY_COLOURS["MR-T1"]
FUSED_COLOUR = STRATEGY_COLOURS["early"]
GREY = "#888888"
NEGATIVE_COLOUR, POSITIVE_COLOUR = "#56B4E9", "#D55E00"  # no lesion / lesion (Okabe–Ito)
SCATTER_POINTS = 600  # enough to see the two clouds, few enough to stay light


def _layout(fig: go.Figure, *, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(template=TEMPLATE, height=height, title=title, margin={"t": 60, "b": 40, "l": 50, "r": 20})
    return fig


def detectors_figure(closed: DetectorFusion, simulated: SimulatedDetectors) -> go.Figure:
    """Demo 1: the simulated cases, the ROC curves (closed form and Monte Carlo) and fused AUC vs correlation."""
    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=("Simulated cases", "ROC curves", "Fused AUC vs noise correlation"),
        horizontal_spacing=0.08,
    )
    _add_cases(fig, simulated)
    _add_rocs(fig, closed, simulated)
    _add_rho_curve(fig, closed)
    return _layout(fig, height=420).update_layout(legend={"orientation": "h", "y": -0.18})


def _add_cases(fig: go.Figure, sim: SimulatedDetectors) -> None:
    step = max(1, sim.labels.size // SCATTER_POINTS)
    for label, name, colour in ((0, "no lesion", NEGATIVE_COLOUR), (1, "lesion", POSITIVE_COLOUR)):
        keep = np.flatnonzero(sim.labels == label)[::step]
        fig.add_trace(
            go.Scattergl(
                x=sim.x1[keep], y=sim.x2[keep], mode="markers", name=name, legendgroup="cases",
                marker={"size": 4, "color": colour, "opacity": 0.6},
            ),
            row=1, col=1,
        )  # fmt: skip
    fig.update_xaxes(title_text="detector 1 reading (CT)", row=1, col=1)
    fig.update_yaxes(title_text="detector 2 reading (MR)", row=1, col=1)


def _add_rocs(fig: go.Figure, closed: DetectorFusion, sim: SimulatedDetectors) -> None:
    fpr = np.linspace(0.0, 1.0, 201)
    curves = (
        (f"CT alone (AUC {closed.auc1:.3f})", binormal_roc(closed.d1, fpr), CT_COLOUR, "solid"),
        (f"MR alone (AUC {closed.auc2:.3f})", binormal_roc(closed.d2, fpr), MR_COLOUR, "solid"),
        (f"fused, theory (AUC {closed.fused_auc:.3f})", binormal_roc(closed.fused_dprime, fpr), FUSED_COLOUR, "solid"),
    )
    for name, tpr, colour, dash in curves:
        fig.add_trace(go.Scatter(x=fpr, y=tpr, name=name, line={"color": colour, "dash": dash, "width": 3}), 1, 2)
    mc_fpr, mc_tpr = sim.roc("fused")
    fig.add_trace(
        go.Scatter(
            x=mc_fpr, y=mc_tpr, name=f"fused, simulation (AUC {sim.fused_auc:.3f})",
            line={"color": "black", "dash": "dot", "width": 2},
        ),
        row=1, col=2,
    )  # fmt: skip
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], showlegend=False, line={"color": GREY, "dash": "dash"}), 1, 2)
    fig.update_xaxes(title_text="false positive rate", range=[0, 1], row=1, col=2)
    fig.update_yaxes(title_text="true positive rate", range=[0, 1], row=1, col=2)


def _add_rho_curve(fig: go.Figure, closed: DetectorFusion) -> None:
    rhos = np.linspace(-0.9, 0.95, 75)
    fused = [fuse_detectors(closed.d1, closed.d2, r).fused_auc for r in rhos]
    best = max(closed.auc1, closed.auc2)
    fig.add_trace(go.Scatter(x=rhos, y=fused, showlegend=False, line={"color": FUSED_COLOUR, "width": 3}), 1, 3)
    fig.add_trace(
        go.Scatter(x=[rhos[0], rhos[-1]], y=[best, best], name="better detector alone",
                   line={"color": GREY, "dash": "dash"}),
        row=1, col=3,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(x=[closed.rho], y=[closed.fused_auc], mode="markers", showlegend=False,
                   marker={"size": 14, "color": FUSED_COLOUR, "line": {"color": "black", "width": 2}}),
        row=1, col=3,
    )  # fmt: skip
    fig.update_xaxes(title_text="correlation of the two detectors' noise", row=1, col=3)
    fig.update_yaxes(title_text="fused AUC", range=[0.5, 1.0], row=1, col=3)


def bayes_figure(result: BayesFusion, step_names: Sequence[str]) -> go.Figure:
    """Demo 2: the probability of disease after each piece of evidence, odds written on each bar.

    Args:
        result: :func:`fusion_core.teaching.bayes.fuse_evidence`'s result.
        step_names: one name per likelihood ratio, e.g. ("CT", "MR").
    """
    names = [
        "prior",
        *(f"after {name}<br>(LR {lr:g})" for name, lr in zip(step_names, result.likelihood_ratios, strict=True)),
    ]
    colours = [GREY, CT_COLOUR, MR_COLOUR, FUSED_COLOUR][: len(names)]
    text = [f"{p:.0%}<br>odds {_odds_text(o)}" for p, o in zip(result.probabilities, result.odds, strict=True)]
    fig = go.Figure(go.Bar(x=names, y=result.probabilities, text=text, textposition="outside", marker_color=colours))
    fig.update_yaxes(title_text="probability of disease", range=[0, 1.15], tickformat=".0%")
    return _layout(fig, height=380)


def _odds_text(odds: float) -> str:
    return f"{odds:.3g}:1" if odds >= 1 else f"1:{1 / odds:.3g}"


def poe_figure(experts: Sequence[GaussianExpert], fused: GaussianExpert, *, prior: bool = True) -> go.Figure:
    """Demo 7: each expert's Gaussian belief (a missing one greyed out), the prior and their product."""
    x = np.linspace(-4.0, 4.0, 401)
    fig = go.Figure()
    colours = {"CT": CT_COLOUR, "MR": MR_COLOUR}
    for expert in experts:
        dash, width = ("solid", 2) if expert.present else ("dot", 1)
        label = f"{expert.name} expert" + ("" if expert.present else " (missing: left out)")
        colour = colours.get(expert.name, GREY) if expert.present else "#BBBBBB"
        fig.add_trace(
            go.Scatter(
                x=x, y=gaussian_density(expert, x), name=label, line={"color": colour, "dash": dash, "width": width}
            )
        )
    if prior:
        prior_expert = GaussianExpert("prior", 0.0, 1.0)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=gaussian_density(prior_expert, x),
                name="prior expert N(0, 1)",
                line={"color": GREY, "dash": "dash"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x, y=gaussian_density(fused, x), name="fused belief (product)", line={"color": FUSED_COLOUR, "width": 5}
        )
    )
    fig.update_xaxes(title_text="latent value z")
    fig.update_yaxes(title_text="belief (probability density)")
    return _layout(fig, height=380)


def posterior_information_figure(result: PosteriorBySubset, slice_index: int) -> go.Figure:
    """Demo 7, real part: information beyond the prior per slice for CT only, MR only, both, and CT + MR summed."""
    colours = {"CT only": CT_COLOUR, "MR only": MR_COLOUR, "CT + MR": FUSED_COLOUR}
    slices = np.arange(1, result.n_slices + 1)
    fig = go.Figure()
    for name, values in result.information.items():
        label = "CT and MR together" if name == "CT + MR" else name
        fig.add_trace(go.Scatter(x=slices, y=values, name=label, line={"color": colours[name], "width": 3}))
    total = result.information["CT only"] + result.information["MR only"]
    fig.add_trace(
        go.Scatter(
            x=slices, y=total, name="CT only + MR only (sum)", line={"color": "black", "dash": "dot", "width": 2}
        )
    )
    fig.add_vline(x=slice_index + 1, line={"color": GREY, "dash": "dash"}, annotation_text="this slice")
    fig.update_xaxes(title_text="axial slice")
    fig.update_yaxes(title_text="information beyond the prior (mean 1/σ² − 1)", rangemode="tozero")
    return _layout(fig, height=360).update_layout(legend={"orientation": "h", "y": -0.25})


def xor_figure(fits: Sequence[ToyFit], *, points: int = 300) -> go.Figure:
    """Demo 6: each model's predicted P(lesion) over the two modalities' values, with training points."""
    fig = make_subplots(
        rows=1, cols=len(fits), horizontal_spacing=0.1,
        subplot_titles=[f"{fit.kind} fusion: test AUC {fit.test_auc:.2f}" for fit in fits],
    )  # fmt: skip
    data = make_xor_data(points, seed=0, task=fits[0].task)
    for col, fit in enumerate(fits, start=1):
        fig.add_trace(
            go.Heatmap(
                x=fit.grid, y=fit.grid, z=fit.probability, zmin=0, zmax=1, colorscale="RdBu_r",
                colorbar={"title": "P(label = 1)"}, showscale=col == len(fits),
            ),
            row=1, col=col,
        )  # fmt: skip
        for label, colour in ((0, NEGATIVE_COLOUR), (1, POSITIVE_COLOUR)):
            keep = data.labels == label
            fig.add_trace(
                go.Scatter(
                    x=data.x[keep, 0], y=data.x[keep, 1], mode="markers", showlegend=False,
                    marker={"size": 5, "color": colour, "line": {"color": "black", "width": 0.5}},
                ),
                row=1, col=col,
            )  # fmt: skip
        limits = [float(fit.grid[0]), float(fit.grid[-1])]
        fig.update_xaxes(title_text="modality 1 value", range=limits, row=1, col=col)
        fig.update_yaxes(title_text="modality 2 value", range=limits, row=1, col=col)
    return _layout(fig, height=420)


_DIAGRAMS: dict[str, tuple[dict[str, tuple[float, float, str, str]], list[tuple[str, str]]]] = {
    # architecture -> (boxes: name -> (x, y, label, colour), arrows: (from, to)); x in [0, 8], y top 4 .. bottom 0
    "early": (
        {
            "ct": (2, 4, "CT", CT_COLOUR),
            "mr": (6, 4, "MR", MR_COLOUR),
            "stack": (4, 3, "stack as channels", GREY),
            "net": (4, 2, "one network", STRATEGY_COLOURS["early"]),
            "p": (4, 0.8, "P(lesion)", "black"),
        },
        [("ct", "stack"), ("mr", "stack"), ("stack", "net"), ("net", "p")],
    ),
    "intermediate": (
        {
            "ct": (2, 4, "CT", CT_COLOUR),
            "mr": (6, 4, "MR", MR_COLOUR),
            "ect": (2, 3, "CT encoder", CT_COLOUR),
            "emr": (6, 3, "MR encoder", MR_COLOUR),
            "fuse": (4, 2, "fuse features", STRATEGY_COLOURS["intermediate-concat"]),
            "p": (4, 0.8, "P(lesion)", "black"),
        },
        [("ct", "ect"), ("mr", "emr"), ("ect", "fuse"), ("emr", "fuse"), ("fuse", "p")],
    ),
    "late": (
        {
            "ct": (2, 4, "CT", CT_COLOUR),
            "mr": (6, 4, "MR", MR_COLOUR),
            "nct": (2, 3, "CT classifier", CT_COLOUR),
            "nmr": (6, 3, "MR classifier", MR_COLOUR),
            "avg": (4, 2, "average P_CT, P_MR", STRATEGY_COLOURS["late"]),
            "p": (4, 0.8, "P(lesion)", "black"),
        },
        [("ct", "nct"), ("mr", "nmr"), ("nct", "avg"), ("nmr", "avg"), ("avg", "p")],
    ),
}


def architectures_figure(measured: Sequence[MeasuredAUC]) -> go.Figure:
    """Demo 3: the three architectures as box-and-arrow diagrams, each above its measured AUC."""
    fig = go.Figure()
    for column, entry in enumerate(measured):
        _draw_diagram(fig, entry.architecture, offset=column * 10.0)
        text = "no scores yet" if entry.auc is None else f"AUC {entry.auc:.2f} ({entry.low:.2f}–{entry.high:.2f})"
        fig.add_annotation(x=column * 10 + 4, y=-0.2, text=f"<b>{text}</b>", showarrow=False, font={"size": 16})
        fig.add_annotation(
            x=column * 10 + 4, y=5.0, text=f"<b>{entry.architecture} fusion</b>", showarrow=False, font={"size": 18}
        )
    fig.update_xaxes(visible=False, range=[-0.5, 10 * len(measured) - 1.5])
    fig.update_yaxes(visible=False, range=[-0.6, 5.4])
    return _layout(fig, height=380).update_layout(showlegend=False, margin={"t": 10, "b": 10, "l": 10, "r": 10})


def _draw_diagram(fig: go.Figure, architecture: str, *, offset: float) -> None:
    boxes, arrows = _DIAGRAMS[architecture]
    for start, end in arrows:
        (x0, y0, *_), (x1, y1, *_) = boxes[start], boxes[end]
        fig.add_annotation(
            x=x1 + offset, y=y1 + 0.25, ax=x0 + offset, ay=y0 - 0.25, xref="x", yref="y", axref="x", ayref="y",
            showarrow=True, arrowhead=2, arrowwidth=2, arrowcolor="#555555", text="",
        )  # fmt: skip
    for x, y, label, colour in boxes.values():
        fig.add_shape(
            type="rect", x0=x + offset - 1.7, x1=x + offset + 1.7, y0=y - 0.25, y1=y + 0.25,
            line={"color": colour, "width": 2}, fillcolor="white",
        )  # fmt: skip
        fig.add_annotation(x=x + offset, y=y, text=label, showarrow=False, font={"size": 13, "color": colour})


def weight_curve_figure(curve: WeightCurve, level_index: int) -> go.Figure:
    """Demo 8: the noisy input at the chosen level beside each branch's precision weight against the noise."""
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.3, 0.7], horizontal_spacing=0.1,
        subplot_titles=(f"{curve.noisy} input, noise σ = {curve.noise_levels[level_index]:g}", "Fusion weight of each modality"),
    )  # fmt: skip
    fig.add_trace(
        go.Heatmap(z=curve.examples[level_index], colorscale="Gray", zmin=-1, zmax=1, showscale=False), row=1, col=1
    )
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False, row=1, col=1)
    fig.update_xaxes(visible=False, row=1, col=1)
    colours = {"CT": CT_COLOUR, "MR": MR_COLOUR}
    for name, weights in curve.weights.items():
        fig.add_trace(
            go.Scatter(
                x=curve.noise_levels, y=weights, name=f"{name} weight", mode="lines+markers",
                line={"color": colours.get(name, GREY), "width": 3},
            ),
            row=1, col=2,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=[curve.noise_levels[level_index]], y=[weights[level_index]], mode="markers", showlegend=False,
                marker={"size": 14, "color": colours.get(name, GREY), "line": {"color": "black", "width": 2}},
            ),
            row=1, col=2,
        )  # fmt: skip
    fig.update_xaxes(title_text=f"noise added to the {curve.noisy} (σ, input scaled to −1…1)", row=1, col=2)
    fig.update_yaxes(title_text="precision weight", range=[0, 1], row=1, col=2)
    return _layout(fig, height=380)


SITE_COLOURS = {"A": "#0072B2", "B": "#E69F00"}


def site_pair_figure(pair: SitePair) -> go.Figure:
    """Demo 5: the same T2 slice from sites A and B on one grey scale, and both sites' head histograms."""
    fig = make_subplots(
        rows=1, cols=3, column_widths=[0.25, 0.25, 0.5], horizontal_spacing=0.06,
        subplot_titles=("site A", "site B", f"T2 intensities in the head ({pair.method})"),
    )  # fmt: skip
    low, high = np.percentile(np.concatenate(list(pair.values.values())), [1, 99.5])
    for col, site in enumerate(pair.slices, start=1):
        fig.add_trace(
            go.Heatmap(z=pair.slices[site], colorscale="Gray", zmin=low, zmax=high, showscale=False), row=1, col=col
        )
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{col if col > 1 else ''}", visible=False, row=1, col=col)
        fig.update_xaxes(visible=False, row=1, col=col)
    edges = np.linspace(low, high, 61)
    for site, values in pair.values.items():
        counts, _ = np.histogram(values, bins=edges, density=True)
        fig.add_trace(
            go.Scatter(
                x=(edges[:-1] + edges[1:]) / 2, y=counts, name=f"site {site}", mode="lines",
                line={"color": SITE_COLOURS.get(site, GREY), "width": 3, "shape": "hvh"},
            ),
            row=1, col=3,
        )  # fmt: skip
    unit = "a.u." if pair.method == "none" else "normalised"
    fig.update_xaxes(title_text=f"T2 intensity ({unit})", row=1, col=3)
    fig.update_yaxes(title_text="fraction of voxels (density)", row=1, col=3)
    return _layout(fig, height=330)


def transfer_figure(results: Sequence[SiteTransfer], chosen: str) -> go.Figure:
    """Demo 5: balanced accuracy at the training site (A) and the new site (B) per normalisation."""
    fig = go.Figure()
    names = [r.method for r in results]
    for site, attr in (("A", "train_balanced_accuracy"), ("B", "test_balanced_accuracy")):
        values = [getattr(r, attr) for r in results]
        fig.add_trace(
            go.Bar(
                x=names, y=values, name=f"site {site}" + (" (trained here)" if site == "A" else " (new people, new scanner)"),
                marker_color=SITE_COLOURS[site], text=[f"{v:.0%}" for v in values], textposition="outside",
                marker_opacity=[1.0 if n == chosen else 0.35 for n in names],
            )
        )  # fmt: skip
    fig.add_hline(y=0.5, line={"color": GREY, "dash": "dash"}, annotation_text="chance")
    fig.update_xaxes(title_text="normalisation before training and testing")
    fig.update_yaxes(title_text="balanced accuracy (voxels)", range=[0, 1.1], tickformat=".0%")
    return _layout(fig, height=340).update_layout(barmode="group")


_CURVE_STYLES = {  # curve entry -> (legend, colour, dash)
    "clf-early": ("early-fusion CNN (subject AUC)", STRATEGY_COLOURS["early"], "solid"),
    "clf-late": ("late-fusion CNNs (subject AUC)", STRATEGY_COLOURS["late"], "solid"),
    "voxel-wise early fusion": ("voxel-wise early fusion (voxel AUC)", STRATEGY_COLOURS["early"], "dash"),
}
CT_TEACHING_WINDOW = (40.0, 400.0)  # level, width (HU): soft tissue and the skull's edge both visible


def misregistration_figure(view: MisregistrationView, curve: MisregistrationCurve | None, shift_mm: float) -> go.Figure:
    """Demo 4: the early-fusion input (CT with the MR's edges in colour) beside AUC and MI against the shift."""
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.38, 0.62], horizontal_spacing=0.1,
        specs=[[{}, {"secondary_y": True}]],
        subplot_titles=("Early-fusion input: CT, MR edges in orange", "What the shift costs (precomputed)"),
    )  # fmt: skip
    ct = apply_window(view.ct_slice, *CT_TEACHING_WINDOW)
    low, high = np.percentile(view.mr_slice, [1, 99.5])
    mr = np.clip((view.mr_slice - low) / max(high - low, 1e-6), 0, 1)
    fig.add_trace(go.Image(z=edge_overlay_rgb(ct, mr)), row=1, col=1)
    fig.update_xaxes(visible=False, row=1, col=1)
    fig.update_yaxes(visible=False, row=1, col=1)
    if curve is not None:
        _add_misregistration_curve(fig, curve, shift_mm)
    return _layout(fig, height=420).update_layout(legend={"orientation": "h", "y": -0.2})


def _add_misregistration_curve(fig: go.Figure, curve: MisregistrationCurve, shift_mm: float) -> None:
    for name, auc in curve.auc.items():
        label, colour, dash = _CURVE_STYLES.get(name, (name, GREY, "solid"))
        fig.add_trace(
            go.Scatter(
                x=curve.offsets_mm, y=auc, name=label, mode="lines+markers",
                line={"color": colour, "width": 3, "dash": dash},
            ),
            row=1, col=2,
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=curve.offsets_mm, y=curve.mutual_information, name="mutual information (right axis)",
            mode="lines", line={"color": GREY, "dash": "dot", "width": 2},
        ),
        row=1, col=2, secondary_y=True,
    )  # fmt: skip
    fig.add_vline(x=abs(shift_mm), line={"color": "black", "dash": "dash"}, row=1, col=2)
    fig.update_xaxes(title_text="MR shifted left-right (mm)", row=1, col=2)
    fig.update_yaxes(title_text="AUC", range=[0.4, 1.02], row=1, col=2, secondary_y=False)
    fig.update_yaxes(title_text="mutual information (bits)", rangemode="tozero", row=1, col=2, secondary_y=True)

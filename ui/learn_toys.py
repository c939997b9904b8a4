"""Learn page, demos 6 and 7 (toy part): additive vs tensor fusion, and a Gaussian product of experts."""

from __future__ import annotations

import streamlit as st

from fusion_core.teaching import GaussianExpert, product_of_gaussians
from fusion_core.teaching.posterior import posterior_by_subset
from fusion_core.teaching.xor import train_toy_fusion
from fusion_core.viz import concepts as tviz
from ui.learn_common import Demo, open_demo
from ui.models import get_model
from ui.session import demo_case, demo_subject_ids

XOR = Demo(
    6,
    "additive-vs-tensor",
    "Additive vs multiplicative fusion",
    "If the answer depends on how the two modalities combine, not on either alone, can adding their features find it?",
)
POE = Demo(
    7,
    "product-of-experts",
    "Missing modality: product of experts",
    "Each modality's encoder gives a belief with a confidence: how does a product of experts combine them, "
    "and what happens when one scan is missing?",
)
PRECISIONS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
CT_MEAN, MR_MEAN = 1.5, -1.0  # the two experts disagree, so it is visible whom the product follows


TASKS = {"how the two combine (same sign)": "interaction", "their sum": "sum"}


@st.cache_data(show_spinner="Training both models…", max_entries=64)
def _fits(task: str, seed: int):
    return [train_toy_fusion(kind, task=task, seed=seed) for kind in ("additive", "tensor")]


def render_xor() -> None:
    open_demo(XOR)
    c1, c2 = st.columns(2)
    task = c1.radio("The label depends on", list(TASKS), horizontal=True, key="learn-xor-task")
    seed = c2.number_input("random seed (data and initial weights)", 0, 99, 0, key="learn-xor-seed")
    additive, tensor = _fits(TASKS[task], int(seed))
    m1, m2 = st.columns(2)
    m1.metric("Additive fusion: test AUC", f"{additive.test_auc:.2f}")
    m2.metric("Tensor fusion: test AUC", f"{tensor.test_auc:.2f}")
    st.plotly_chart(tviz.xor_figure([additive, tensor]), key="learn-xor-figure")
    st.caption(
        "With 'same sign' the label is 1 (orange) when both values agree in sign: neither modality alone says anything. "
        "Additive fusion scores f(x₁) + g(x₂); whatever it learns, it cannot make both 'same sign' corners "
        "positive and both 'opposite sign' corners negative. Tensor fusion also sees the products of the two "
        "embeddings and draws the cross. When the label depends on the sum, both succeed: the tensor model "
        "costs more parameters, not accuracy. Both are trained live here (plain numpy, a fraction of a second)."
    )


def render_poe() -> None:
    open_demo(POE)
    _render_poe_toy()
    _render_poe_real()


def _render_poe_toy() -> None:
    c1, c2 = st.columns(2)
    ct_precision = c1.select_slider("CT expert's confidence (precision 1/σ²)", PRECISIONS, 4.0, key="learn-poe-ct")
    ct_present = c1.toggle("CT scan available", True, key="learn-poe-ct-present")
    mr_precision = c2.select_slider("MR expert's confidence (precision 1/σ²)", PRECISIONS, 1.0, key="learn-poe-mr")
    mr_present = c2.toggle("MR scan available", True, key="learn-poe-mr-present")
    experts = [
        GaussianExpert("CT", CT_MEAN, float(ct_precision), ct_present),
        GaussianExpert("MR", MR_MEAN, float(mr_precision), mr_present),
    ]
    fused = product_of_gaussians(experts)
    m1, m2, m3 = st.columns(3)
    m1.metric("Fused mean", f"{fused.mean:+.2f}")
    m2.metric("Fused variance", f"{fused.variance:.3f}")
    m3.metric(
        "Fused precision", f"{fused.precision:g}", help="the sum of the present experts' precisions and the prior's 1"
    )
    st.latex(
        r"\tau = 1 + \sum_{i\,\text{present}} \tau_i, \qquad "
        r"\mu = \frac{\sum_{i\,\text{present}} \tau_i\,\mu_i}{\tau}"
        rf"\qquad\Rightarrow\qquad \mu = {fused.mean:+.2f},\ \sigma^2 = {fused.variance:.3f}"
    )
    st.plotly_chart(tviz.poe_figure(experts, fused), key="learn-poe-figure")
    st.caption(
        f"CT believes z ≈ {CT_MEAN:+g}, MR believes z ≈ {MR_MEAN:+g}. Precisions add, so the product is "
        "narrower than any expert and sits nearer the more confident one. Switch a scan off: its expert "
        "drops out and the prior N(0, 1) keeps the belief finite; with no scan at all the prior is all that is left."
    )


@st.cache_data(show_spinner="Encoding every slice with the PoE VAE (a few seconds, once)…", max_entries=4)
def _posterior(subject_id: str):
    case = demo_case(subject_id).aligned()
    return posterior_by_subset(get_model("vae-poe"), case.ct, case.mr_weightings["MR-T1"])


def _render_poe_real() -> None:
    st.subheader("The same with the shipped PoE VAE on a real slice")
    if not st.toggle("Run the shipped PoE VAE on the first demo subject", False, key="learn-poe-real"):
        st.caption("Encodes the subject's slices three times (CT only, MR only, both): a few seconds the first time.")
        return
    result = _posterior(demo_subject_ids()[0])
    index = st.slider("axial slice", 1, result.n_slices, result.n_slices // 2, key="learn-poe-slice") - 1
    m1, m2, m3 = st.columns(3)
    for column, name in zip((m1, m2, m3), ("CT only", "MR only", "CT + MR"), strict=True):
        column.metric(
            f"{name}: information beyond the prior",
            f"{result.information[name][index]:.3f}",
            help=f"mean posterior variance {result.variance[name][index]:.3f} (the prior's is 1)",
        )
    st.plotly_chart(tviz.posterior_information_figure(result, index), key="learn-poe-real-figure")
    st.caption(
        "Information beyond the prior is the mean over the VAE's latent dimensions of 1/σ² − 1, the precision "
        "each scan adds to the prior's. With both scans it is the sum of the two (dotted line), exactly as "
        "in the toy above; with one scan missing the model simply has less, it does not break."
    )

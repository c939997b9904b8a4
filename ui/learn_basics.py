"""Learn page, demos 1 and 2: why two views help (signal detection) and Bayesian fusion of evidence."""

from __future__ import annotations

import streamlit as st

from fusion_core.teaching import fuse_detectors, fuse_evidence, simulate_detectors
from fusion_core.viz import concepts as tviz
from ui.learn_common import Demo, open_demo

TWO_VIEWS = Demo(
    1,
    "two-views",
    "Why two views help",
    "Two imperfect detectors look at the same patients: when does combining them beat the better one?",
)
BAYES = Demo(
    2,
    "bayes",
    "Bayesian fusion of evidence",
    "A CT finding and an MR finding each make a lesion more likely: how sure should we be with both?",
)
LIKELIHOOD_RATIOS = (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0)


@st.cache_data(show_spinner=False, max_entries=256)
def _simulation(d1: float, d2: float, rho: float):
    return simulate_detectors(d1, d2, rho, n=4000, seed=0)


def render_two_views() -> None:
    open_demo(TWO_VIEWS)
    c1, c2, c3 = st.columns(3)
    d1 = c1.slider("d′ of detector 1 (CT)", 0.0, 3.0, 1.0, 0.1, key="learn-d1")
    d2 = c2.slider("d′ of detector 2 (MR)", 0.0, 3.0, 1.0, 0.1, key="learn-d2")
    rho = c3.slider(
        "correlation of their noise",
        -0.9,
        0.95,
        0.0,
        0.05,
        key="learn-rho",
        help="0: the two scanners make independent mistakes. Near 1: they make the same mistakes.",
    )
    closed, sim = fuse_detectors(d1, d2, rho), _simulation(d1, d2, rho)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Better detector alone: AUC", f"{max(closed.auc1, closed.auc2):.3f}")
    m2.metric("Fused AUC (theory)", f"{closed.fused_auc:.3f}", f"{closed.gain:+.3f} from fusing")
    m3.metric("Fused AUC (simulation, 4 000 cases)", f"{sim.fused_auc:.3f}")
    m4.metric("Fused d′", f"{closed.fused_dprime:.2f}")
    st.latex(
        rf"d'^2 = \frac{{d_1'^2 + d_2'^2 - 2\rho\,d_1' d_2'}}{{1-\rho^2}}"
        rf" = \frac{{{d1:.1f}^2 + {d2:.1f}^2 - 2({rho:.2f})({d1:.1f})({d2:.1f})}}{{1-{rho:.2f}^2}}"
        rf" = {closed.fused_dprime**2:.2f}"
        r"\qquad \text{AUC} = \Phi\!\left(d'/\sqrt{2}\right)"
    )
    st.plotly_chart(tviz.detectors_figure(closed, sim), key="learn-two-views-figure")
    st.caption(
        "With independent noise (ρ = 0) the squared d′ add up: two detectors of d′ = 1 make one of d′ = 1.41. "
        "As ρ rises the second view repeats the first one's mistakes and fusion stops helping; negative ρ "
        "(errors that cancel) helps even more. The dotted black curve is the same fusion measured on simulated cases."
    )


def render_bayes() -> None:
    open_demo(BAYES)
    c1, c2, c3 = st.columns(3)
    prior = c1.slider("prior probability of a lesion", 0.01, 0.99, 0.5, 0.01, key="learn-prior")
    lr_ct = c2.select_slider("likelihood ratio of the CT finding", LIKELIHOOD_RATIOS, 2.0, key="learn-lr-ct")
    lr_mr = c3.select_slider("likelihood ratio of the MR finding", LIKELIHOOD_RATIOS, 5.0, key="learn-lr-mr")
    result = fuse_evidence(prior, [lr_ct, lr_mr])
    m1, m2, m3 = st.columns(3)
    m1.metric("Prior", f"{prior:.0%}")
    m2.metric("After CT", f"{result.probabilities[1]:.0%}")
    m3.metric("After CT and MR", f"{result.posterior:.0%}", f"{result.posterior - prior:+.0%}")
    st.latex(
        rf"\underbrace{{{result.odds[0]:.3g}}}_{{\text{{prior odds}}}} \times "
        rf"\underbrace{{{lr_ct:g}}}_{{\text{{LR}}_\text{{CT}}}} \times "
        rf"\underbrace{{{lr_mr:g}}}_{{\text{{LR}}_\text{{MR}}}} = "
        rf"\underbrace{{{result.posterior_odds:.3g}}}_{{\text{{posterior odds}}}}"
        rf"\quad\Rightarrow\quad p = \frac{{\text{{odds}}}}{{1+\text{{odds}}}} = {100 * result.posterior:.1f}\%"
    )
    st.plotly_chart(tviz.bayes_figure(result, ("CT", "MR")), key="learn-bayes-figure")
    st.caption(
        "Odds multiply; probabilities do not add. A likelihood ratio says how much more often the finding "
        "appears with a lesion than without; below 1 it argues against. This holds when the two findings are "
        "independent given the truth; correlated findings (demo 1) count less than this."
    )

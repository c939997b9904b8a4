"""The sections of the Fusion Performance page: strategies and operating point, ROC and bound, tables, calibration.

Each reads its widgets, takes cached evaluations from :mod:`ui.performance` and draws figures from
:mod:`fusion_core.viz` (ROC, AUC bars, reliability); the page calls them in order.
"""

from __future__ import annotations

import streamlit as st

from fusion_core.evaluation.comparison import StrategyEvaluation
from fusion_core.evaluation.recalibration import calibration_frame
from fusion_core.evaluation.strategies import MISSING_INPUT_HANDLING, strategy_label
from fusion_core.viz.auc_bars import missing_modality_figure
from fusion_core.viz.concepts import weight_curve_figure
from fusion_core.viz.reliability import reliability_pair_figure
from fusion_core.viz.roc import roc_figure
from ui import performance as perf
from ui.session import demo_subject_ids
from ui.uncertainty import weight_curve

REPRODUCE = "python -m fusion_core.evaluation.runner --spec demo --split test --write"


def introduction(fingerprint) -> None:
    """One paragraph: what the page shows, on how many subjects, and the command that reproduces it."""
    st.caption(
        f"How well each way of combining CT and MR detects a lesion in the {perf.n_subjects(fingerprint)} held-out "
        "subjects of the demo cohort: ROC curves against the theoretical independence bound, the clinicians' table at an operating "
        "point, what happens when a modality is missing, and whether the probabilities can be trusted. "
        f"Every number comes from the shipped per-subject scores; `{REPRODUCE}` reproduces them."
    )


def choose_strategies(fingerprint) -> tuple[dict[str, str], list[str], list[StrategyEvaluation]]:
    """Strategies to show and the operating point: (label -> strategy, chosen labels, their evaluations)."""
    names = perf.labels_of(perf.evaluations(fingerprint, None))
    chosen = st.multiselect("Strategies to show", list(names), default=list(names), key="perf-strategies")
    if not perf.has_classical(fingerprint):
        st.caption(
            "The classical baseline (logistic regression and a multiple-kernel SVM on intensity and texture "
            "features) is not computed on this machine: `python -m fusion_core.evaluation.classical` "
            "(about 8 minutes) adds it here."
        )
    st.caption(
        "Subject level: each subject's probability is the mean of its most suspicious slices' probabilities "
        "(top-k). The shipped scores hold no per-slice scores, so slice-level curves are not shown."
    )
    c1, c2 = st.columns([1, 2])
    rule = c1.radio(
        "Operating point",
        ["Youden's J per strategy", "One threshold for all"],
        key="perf-rule",
        help="Youden's J picks, per strategy, the threshold maximising sensitivity + specificity − 1.",
    )
    threshold = None
    if rule == "One threshold for all":
        threshold = c2.slider("Threshold on the lesion probability", 0.0, 1.0, 0.5, 0.01, key="perf-threshold")
    return names, chosen, [e for e in perf.evaluations(fingerprint, threshold) if e.label in chosen]


def roc_section(fingerprint, evaluated: list[StrategyEvaluation]):
    """ROC curves with bootstrap bands and the independence bound, and a sentence per strategy against it."""
    bound = perf.bound(fingerprint)
    bands = perf.bands(fingerprint) if len(evaluated) <= perf.MAX_BANDS else None
    st.plotly_chart(roc_figure(evaluated, bands=bands, bound=bound), key="perf-roc")
    st.caption(
        "Dots: each strategy's operating point. Dashed: the independence bound. AUC intervals: 1000 stratified "
        f"bootstrap resamples. Shaded (when {perf.MAX_BANDS} or fewer strategies are shown): pointwise 95 % "
        "bootstrap band of the curve (200 resamples)."
    )
    if bound is None:
        st.warning("The independence bound needs the scores of both CT alone and MR alone; one is missing.")
        return None
    sentences = perf.bound_sentences(evaluated, bound.bound)
    st.markdown(
        f"**Independence bound: AUC {bound.bound:.2f}**, from CT alone ({bound.ct_auc:.2f}) and MR alone "
        f"({bound.mr_auc:.2f}).\n" + "\n".join(f"- {sentences[e.strategy]}" for e in evaluated)
    )
    with st.expander("What the independence bound is, and how a strategy can beat it"):
        st.markdown(perf.bound_explanation(bound))
    return bound


def clinicians_section(evaluated: list[StrategyEvaluation]) -> None:
    """Sensitivity, specificity and the rest at the operating point, with a CSV download."""
    table = perf.clinicians_table(evaluated)
    st.dataframe(
        table,
        column_config={"Threshold": st.column_config.NumberColumn(format="%.3f")},
        height=perf.table_height(len(table)),
    )
    st.caption("Mean ± sd over 1000 stratified bootstrap resamples at the operating point; AUC does not depend on it.")
    st.download_button(
        "Download the table (CSV)",
        perf.clinicians_table(evaluated, formatted=False).to_csv(),
        file_name="fusion_performance_table.csv",
        mime="text/csv",
        key="perf-download",
    )


def lesion_bound_section(fingerprint, chosen: list[str]) -> None:
    """The independence bound per lesion type, beside the chosen strategies' AUCs."""
    lesions = perf.lesion_bound_table(fingerprint)
    lesions = lesions[[c for c in lesions.columns if c in perf.BOUND_COLUMNS or c in chosen]]
    st.dataframe(lesions.style.format(precision=2), key="perf-lesion-table")
    st.caption(
        "Each row: that lesion type's subjects against all subjects without a lesion. Where one modality "
        "alone is near chance, the bound is near the other modality's AUC."
    )


def missing_section(fingerprint, names: dict[str, str], chosen: list[str]) -> None:
    """AUC with one modality left out at test time, and how each strategy handles the gap."""
    chosen_names = {names[c] for c in chosen}
    shown = [m for m in perf.missing_modality(fingerprint) if m.strategy in chosen_names]
    st.plotly_chart(missing_modality_figure(shown), key="perf-missing")
    notes = [f"- **{strategy_label(s)}**: {h}" for s, h in MISSING_INPUT_HANDLING.items() if s in chosen_names]
    st.markdown("At test time, with one modality left out:\n" + "\n".join(notes))


def calibration_section(fingerprint, chosen: list[str]) -> None:
    """Reliability diagram before and after temperature scaling, the ECE table, and the precision weights."""
    results = [r for r in perf.calibration(fingerprint) if r.label in chosen]
    left, right = st.columns([3, 2])
    shown = right.selectbox("Reliability diagram of", [r.label for r in results], key="perf-calibration-strategy")
    pick = next(r for r in results if r.label == shown)
    left.plotly_chart(reliability_pair_figure(pick), key="perf-reliability")
    right.markdown(
        "Dashed: the raw probabilities; solid: after temperature scaling. A calibrated model's points lie on the "
        "dotted diagonal: of the subjects given 0.7, 70 % have a lesion. Marker area: subjects in the bin."
    )
    st.dataframe(
        calibration_frame(results).style.format(precision=3, subset=["ECE before", "ECE after temperature scaling"]),
        height=perf.table_height(len(results)),
    )
    st.caption(perf.calibration_note(results, perf.n_subjects(fingerprint)))
    if st.toggle("Show how the uncertainty-weighted model shifts weight as one scan degrades", key="perf-weights"):
        _weight_curve()


def _weight_curve() -> None:
    """The uncertainty-weighted model's precision weights as noise is added to one modality."""
    noisy = st.radio("Add noise to", ["MR", "CT"], horizontal=True, key="perf-weights-noisy")
    subject = demo_subject_ids()[0]
    curve = weight_curve(subject, noisy)
    st.plotly_chart(weight_curve_figure(curve, len(curve.noise_levels) - 1), key="perf-weights-figure")
    st.caption(
        f"Mean precision weight over 16 central slices of {subject}; with the {noisy} missing its weight is {curve.missing_weights[noisy]:.2f}."
    )


def domain_shift_intro() -> None:
    """What the domain-shift section does, in one paragraph."""
    st.caption(
        "A scanner unlike the training sites, on one modality: the phantom's site model re-acquires the same "
        "people with a wider point-spread function, another intensity gain and more noise; then the classifiers "
        "score them again, with or without normalising the shifted images first. (An MR gain change alone changes "
        "nothing: the networks scale each MR weighting by its own within-head percentiles; CT enters in HU.)"
    )

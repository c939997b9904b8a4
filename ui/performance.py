"""Cached glue of the Fusion Performance page: every result keyed on the scores files it comes from.

The key of every cached call is :func:`scores_fingerprint` (each scores file's name, size and
modification time) plus the settings that change the result (threshold), so a retrained model's
new scores are picked up and nothing else recomputes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from fusion_core.evaluation import scores_dirs
from fusion_core.evaluation.classical import CLASSICAL_DIR
from fusion_core.evaluation.comparison import (
    BoundInputs,
    BoundPosition,
    InputSetAUC,
    LesionTypeBound,
    StrategyEvaluation,
    bound_by_lesion_type,
    bound_positions,
    evaluate_strategies,
    missing_modality_aucs,
    unimodal_bound,
)
from fusion_core.evaluation.errors import EvaluationError
from fusion_core.evaluation.recalibration import CalibrationResult, calibrate_strategies
from fusion_core.evaluation.roc import AUCResult, RocBand, roc_band
from fusion_core.evaluation.strategies import StrategyScores, load_strategy_scores, strategy_label
from fusion_core.evaluation.table import METRIC_LABELS, METRICS
from fusion_core.paths import assets_dir
from ui import recovery

Fingerprint = tuple[tuple[str, int, int], ...]
# = fusion_core.inference.registry.ASSETS_DIR (a test checks it); importing that package loads torch
# (~2.5 s), which the page's first screen does not need.
ASSETS_DIR = assets_dir() / "models"
N_BOOT = 1000
N_BOOT_BANDS = 200
MAX_BANDS = 4  # more overlapping bands hide the curves
BOUND_COLUMNS = ("Positives", "CT alone AUC", "MR alone AUC", "Independence bound")


def scores_fingerprint(assets_dir: str | Path = ASSETS_DIR, classical_dir: str | Path = CLASSICAL_DIR) -> Fingerprint:
    """(folder, size, mtime_ns) of every scores file the page reads: the shipped classifiers' and, when
    computed, the classical baseline's. What every cached result depends on."""
    out = []
    for d in [*scores_dirs(assets_dir), *scores_dirs(classical_dir, "classical-*")]:
        stat = (d / "scores.csv").stat()
        out.append((str(d), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@st.cache_data(show_spinner=False, max_entries=4)
def strategy_scores(fingerprint: Fingerprint) -> StrategyScores:
    """The tidy test-split scores of every shipped classifier."""
    return load_strategy_scores([Path(d) for d, _, _ in fingerprint])


def has_classical(fingerprint: Fingerprint) -> bool:
    """Whether the classical baseline's scores are among the page's."""
    return any(Path(d).name.startswith("classical-") for d, _, _ in fingerprint)


def n_subjects(fingerprint: Fingerprint) -> int:
    """Number of test subjects in the scores (of the first strategy)."""
    scores = strategy_scores(fingerprint)
    return len(scores.rows(scores.strategies[0]))


@st.cache_data(show_spinner=False, max_entries=32)
def evaluations(fingerprint: Fingerprint, threshold: float | None) -> list[StrategyEvaluation]:
    """ROC, AUC and the clinicians' table of every strategy (threshold None: Youden's J per strategy)."""
    return evaluate_strategies(strategy_scores(fingerprint), thresholds=threshold, n_boot=N_BOOT)


@st.cache_data(show_spinner=False, max_entries=4)
def bands(fingerprint: Fingerprint) -> dict[str, RocBand]:
    """Pointwise 95 % bootstrap band of every strategy's ROC curve."""
    scores = strategy_scores(fingerprint)
    return {s: roc_band(*scores.scores(s), n_boot=N_BOOT_BANDS) for s in scores.strategies}


@st.cache_data(show_spinner=False, max_entries=4)
def bound(fingerprint: Fingerprint) -> BoundInputs | None:
    """The independence bound of CT alone and MR alone; None when either classifier has no scores."""
    try:
        return unimodal_bound(strategy_scores(fingerprint))
    except EvaluationError:
        return None


@st.cache_data(show_spinner=False, max_entries=4)
def lesion_bound_table(fingerprint: Fingerprint) -> pd.DataFrame:
    """The bound per lesion type beside each fusion strategy's AUC on the same subjects."""
    return lesion_bound_frame(bound_by_lesion_type(strategy_scores(fingerprint)))


def lesion_bound_frame(bounds: list[LesionTypeBound]) -> pd.DataFrame:
    """One row per lesion type ("all lesions" last): :data:`BOUND_COLUMNS`, then each fusion strategy's AUC
    under its display name."""
    rows = {}
    for b in bounds:
        row = dict(zip(BOUND_COLUMNS, (b.positives, b.bound.ct_auc, b.bound.mr_auc, b.bound.bound), strict=True))
        rows[b.lesion_type or "all lesions"] = row | {strategy_label(s): auc for s, auc in b.fusion_aucs.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("Lesion type")


def clinicians_table(evaluations: list[StrategyEvaluation], *, formatted: bool = True) -> pd.DataFrame:
    """The clinicians' table, one row per strategy (the form of the fusion review's Table 4).

    Args:
        evaluations: from ``evaluate_strategies``.
        formatted: True: "mean ± sd" strings over bootstrap resamples (for display); False: numeric
            columns ``<metric> mean`` and ``<metric> sd`` (for CSV download).

    Returns:
        Index: strategy display names. Columns: threshold, "Youden", then each metric.
    """
    rows = {}
    for e in evaluations:
        row: dict[str, object] = {"Threshold": e.table.threshold, "Youden": e.table.youden}
        for key in METRICS:
            m = e.table.metrics[key]
            if formatted:
                row[METRIC_LABELS[key]] = f"{m.mean:.2f} ± {m.sd:.2f}" if np.isfinite(m.mean) else "undefined"
            else:
                row[f"{METRIC_LABELS[key]} mean"], row[f"{METRIC_LABELS[key]} sd"] = m.mean, m.sd
        rows[e.label] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("Strategy")


def bound_sentence(label: str, auc: AUCResult, bound: float, position: BoundPosition) -> str:
    """One Markdown sentence a user can check: how close a strategy comes to the independence bound.

    Args:
        label: the strategy's display name.
        auc: its AUC with the 95 % interval.
        bound: the bound's AUC.
        position: where its interval lies against the bound (``comparison.bound_position``).
    """
    head = f"**{label}**: AUC {auc.auc:.2f} (95 % CI {auc.low:.2f}–{auc.high:.2f})"
    gap = auc.auc - bound
    if position is BoundPosition.INPUT:
        return f"{head}, one of the two inputs of the bound; it sees one modality only."
    if position is BoundPosition.ABOVE:
        return (
            f"{head}, {gap:+.2f} above the bound, the whole interval above it: the two modalities' evidence is "
            "not independent Gaussian (each lesion type shows on its own modality), and this strategy uses that."
        )
    if position is BoundPosition.BELOW:
        return f"{head}, {-gap:.2f} below the bound, the whole interval below it: it leaves evidence unused."
    return f"{head}, {gap:+.2f} from the bound, which lies inside its interval: on these subjects it cannot be told apart from the bound."


def bound_sentences(evaluations: list[StrategyEvaluation], bound: float) -> dict[str, str]:
    """strategy -> :func:`bound_sentence`."""
    positions = bound_positions(evaluations, bound)
    return {e.strategy: bound_sentence(e.label, e.roc.auc, bound, positions[e.strategy]) for e in evaluations}


@st.cache_data(show_spinner=False, max_entries=4)
def missing_modality(fingerprint: Fingerprint) -> list[InputSetAUC]:
    """AUC with CIs of every strategy with both inputs, CT only and MR only."""
    return missing_modality_aucs(strategy_scores(fingerprint), n_boot=N_BOOT)


@st.cache_data(show_spinner=False, max_entries=4)
def shipped_validation(fingerprint: Fingerprint) -> StrategyScores | None:
    """The validation-split rows the classifiers' scores files ship (None when none do)."""
    try:
        return load_strategy_scores(
            [Path(d) for d, _, _ in fingerprint if Path(d).name.startswith("clf-")], split="val"
        )
    except EvaluationError:
        return None


@st.cache_data(show_spinner=False, max_entries=8)
def calibration(fingerprint: Fingerprint) -> list[CalibrationResult]:
    """Reliability and ECE of every strategy before and after temperature scaling: the temperature
    fitted on the shipped validation scores, cross-fitted on the test split for a strategy without them."""
    return calibrate_strategies(strategy_scores(fingerprint), validation=shipped_validation(fingerprint))


def bound_explanation(bound: BoundInputs) -> str:
    """The bound in a few sentences a teacher can read out, with this cohort's numbers."""
    return (
        f"CT alone reaches AUC {bound.ct_auc:.2f} and MR alone {bound.mr_auc:.2f}. If, given the truth, each "
        "modality's evidence were Gaussian with equal variance and independent of the other's, each separates "
        "lesion from no lesion by d′ = √2·Φ⁻¹(AUC); the ideal observer adds the two, d′² = d′²(CT) + d′²(MR), "
        f"and reaches AUC = Φ(d′/√2) = **{bound.bound:.2f}**. A strategy beats it only where the assumptions fail, "
        "and this cohort is built so that they can: a calcification shows on CT, a subacute haemorrhage on MR, so "
        "the evidence is a mixture, not one Gaussian, and a model that learns *which* modality to trust per lesion "
        "can do better than adding. The table below shows the bound per lesion type."
    )


def calibration_note(results: list[CalibrationResult], n_test: int) -> str:
    """Where the temperatures were fitted, and what temperature scaling does and does not change."""
    from fusion_core.evaluation.recalibration import CROSS_FIT, VALIDATION

    places = {r.fitted_on for r in results}
    parts = []
    if VALIDATION in places:
        parts.append(
            "on the validation split of the classifiers' training cohort (40 subjects they were selected on, never "
            "trained on; shipped in each model's scores file)"
        )
    if CROSS_FIT in places:
        parts.append(
            f"by {CROSS_FIT} where a model ships no validation scores: the subjects are split into two halves "
            "(stratified by label) and the temperature fitted on one half rescales the other, so no subject is "
            "calibrated with its own label (`python -m fusion_core.evaluation.runner --spec classifier-train "
            "--split val --write` adds them)"
        )
    return (
        f"Temperature fitted {'; '.join(parts)}. Temperature scaling never changes the ranking: ROC curves and AUCs "
        f"above are unchanged. ECE: expected calibration error, 10 equal-width bins, on the {n_test} test subjects."
    )


def table_height(n_rows: int) -> int:
    """Pixel height that shows a dataframe's ``n_rows`` rows and header without scrolling."""
    return 35 * (n_rows + 1) + 3


def labels_of(evaluated: list[StrategyEvaluation]) -> dict[str, str]:
    """Display name -> model name, in display order."""
    return {e.label: e.strategy for e in evaluated}


# ------------------------------------------------------------------------------ domain shift
SHIFT_DEFAULT_STRATEGIES = ("clf-ct", "clf-mr", "clf-early", "clf-poe", "clf-uncertainty-late")
SHIFT_SUBJECTS = (10, 20, 40, 100)
SUBJECT_S, CLASSIFY_S = 1.2, 1.4  # s to build + align a subject, to classify it once (measured, 2 shared cores)


@st.cache_resource(max_entries=1)
def shift_store() -> dict[tuple, list]:
    """Scored shift settings of this server process: (setting, strategies, subjects) -> ``shift_aucs`` result.

    A plain dict rather than ``st.cache_data`` so that a setting scores once with a live progress
    bar and every session sees the result (the key holds everything that changes it).
    """
    return {}


def shift_key(setting, strategies: tuple[str, ...], indices: tuple[int, ...]) -> tuple:
    return (setting, strategies, indices)


def score_shift_with_progress(setting, strategies: tuple[str, ...], indices: tuple[int, ...], unshifted) -> list:
    """Re-generate and re-score the subjects under ``setting`` with a progress bar; stored in :func:`shift_store`.

    ``unshifted`` (the shipped scores) serves the strategies that read none of the shifted modality.
    """
    from fusion_core.data.cohorts import get_cohort_spec
    from fusion_core.evaluation.shift import score_shift, shift_aucs
    from ui.models import get_model

    bar = st.progress(0.0, text="Loading the classifiers…")
    models = {name: get_model(name) for name in strategies}

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Re-generating and scoring subject {done} of {total}…")

    with recovery.running_job(f"re-scoring {len(indices)} demo subjects under a domain shift"):
        scores = score_shift(models, get_cohort_spec("demo"), indices, setting, progress=progress, unshifted=unshifted)
    bar.empty()
    result = shift_aucs(scores)
    shift_store()[shift_key(setting, strategies, indices)] = result
    return result


def domain_shift_section(fingerprint: Fingerprint) -> None:
    """Widgets for one shift setting, a button that scores it (never on first paint), and the result."""
    from fusion_core.data.cohorts import get_cohort_spec
    from fusion_core.evaluation.shift import (
        NORMALISATION_LABELS,
        ShiftSetting,
        balanced_indices,
        blind_to_shift,
        shift_aucs,
    )
    from fusion_core.viz.auc_bars import shift_figure

    scores = strategy_scores(fingerprint)
    c1, c2, c3, c4 = st.columns(4)
    modality = c1.radio("Shifted modality", ["CT", "MR"], horizontal=True, key="perf-shift-modality")
    blur = c2.slider("Extra blur (PSF sigma, mm)", 0.0, 3.0, 0.0, 0.25, key="perf-shift-blur")
    scale = c3.slider("Intensity gain (×)", 0.5, 1.5, 1.0, 0.05, key="perf-shift-scale")
    noise = c4.slider("Noise (× the site's)", 1.0, 6.0, 1.0, 0.5, key="perf-shift-noise")
    n1, n2, n3 = st.columns([2, 2, 1])
    normalisation = n1.radio(
        "Normalisation of the shifted modality",
        list(NORMALISATION_LABELS),
        format_func=NORMALISATION_LABELS.get,
        key="perf-shift-norm",
    )
    deep = [s for s in scores.strategies if s.startswith("clf-")]  # the classical baseline is not re-scored
    available = [s for s in deep if s in SHIFT_DEFAULT_STRATEGIES]
    chosen = n2.multiselect(
        "Strategies to re-score",
        deep,
        default=available,
        format_func=strategy_label,
        key="perf-shift-strategies",
    )
    n_subjects = n3.select_slider("Subjects", SHIFT_SUBJECTS, value=20, key="perf-shift-n")
    setting = ShiftSetting(modality, blur, scale, noise, normalisation)
    ids = dict(zip(*[scores.rows(scores.strategies[0])[c] for c in ("subject_id", "label")], strict=True))
    indices = tuple(balanced_indices(get_cohort_spec("demo"), ids, n_subjects))
    key = shift_key(setting, tuple(chosen), indices)
    result = shift_store().get(key)
    if result is None and st.button("Score this setting", type="primary", key="perf-shift-run", disabled=not chosen):
        result = score_shift_with_progress(setting, tuple(chosen), indices, scores)
    if result is None:
        rescored = [s for s in chosen if s not in blind_to_shift(scores, chosen, modality)]  # the rest reuse rows
        st.info(
            f"Press **Score this setting** to re-generate {n_subjects} demo subjects (half with a lesion) with this "
            f"{modality} scanner and re-score {len(rescored)} strategies: about {shift_seconds(n_subjects, len(rescored))} s "
            "on two CPU cores, then kept for every visitor of this server."
        )
        return
    subject_ids = [get_cohort_spec("demo").subject_ids()[i] for i in indices]
    baseline = shift_aucs(scores.select(chosen).for_subjects(subject_ids))
    st.plotly_chart(shift_figure(baseline, result, setting_label=describe_shift(setting)), key="perf-shift-chart")
    st.dataframe(shift_table(baseline, result).style.format(precision=2))
    st.caption(
        "A shift can keep the ranking (AUC) and still move every probability: then a threshold chosen on "
        f"the training sites no longer fits. {len(indices)} subjects: intervals are wide."
    )


def shift_table(baseline: list, shifted: list) -> pd.DataFrame:
    """AUC and mean probability per class of each strategy (display names), without and under the shift."""

    def columns(a, when: str) -> dict[str, float]:
        return {
            f"AUC · {when}": a.auc.auc,
            f"Mean probability, lesion · {when}": a.mean_p_lesion,
            f"Mean probability, no lesion · {when}": a.mean_p_no_lesion,
        }

    after = {a.strategy: a for a in shifted}
    rows = {
        strategy_label(a.strategy): columns(a, "no shift") | columns(after[a.strategy], "shifted")
        for a in baseline
        if a.strategy in after
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("label")


def shift_seconds(n_subjects: int, n_strategies: int) -> int:
    """Rough wall time of one shift setting on two CPU cores (measured: see benchmarks/bench_fusion.py)."""
    return round(n_subjects * (SUBJECT_S + n_strategies * CLASSIFY_S))


def describe_shift(setting) -> str:
    """A shift setting in words, e.g. "CT: blur +1.0 mm, gain ×0.80, noise ×2.0, z-score"."""
    parts = [f"blur +{setting.blur_mm:.2f} mm", f"gain ×{setting.scale:.2f}", f"noise ×{setting.noise:.1f}"]
    return f"{setting.modality} shifted: {', '.join(parts)}, normalisation {setting.normalisation.value}"

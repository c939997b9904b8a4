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
from fusion_core.evaluation.comparison import (
    BoundInputs,
    StrategyEvaluation,
    bound_by_lesion_type,
    evaluate_strategies,
    missing_modality_aucs,
    unimodal_bound,
)
from fusion_core.evaluation.errors import EvaluationError
from fusion_core.evaluation.recalibration import CalibrationResult, calibrate_strategies
from fusion_core.evaluation.strategies import StrategyScores, load_strategy_scores
from fusion_core.viz.performance import roc_band

Fingerprint = tuple[tuple[str, int, int], ...]
# = fusion_core.inference.registry.ASSETS_DIR (a test checks it); importing that package loads torch
# (~2.5 s), which the page's first screen does not need.
ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets" / "models"
N_BOOT = 1000
N_BOOT_BANDS = 200


def scores_fingerprint(assets_dir: str | Path = ASSETS_DIR) -> Fingerprint:
    """(folder, size, mtime_ns) of every shipped classifier's scores file: what the cached results depend on."""
    out = []
    for d in scores_dirs(assets_dir):
        stat = (d / "scores.csv").stat()
        out.append((str(d), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@st.cache_data(show_spinner=False, max_entries=4)
def strategy_scores(fingerprint: Fingerprint) -> StrategyScores:
    """The tidy test-split scores of every shipped classifier."""
    return load_strategy_scores([Path(d) for d, _, _ in fingerprint])


@st.cache_data(show_spinner=False, max_entries=32)
def evaluations(fingerprint: Fingerprint, threshold: float | None) -> list[StrategyEvaluation]:
    """ROC, AUC and the clinicians' table of every strategy (threshold None: Youden's J per strategy)."""
    return evaluate_strategies(strategy_scores(fingerprint), thresholds=threshold, n_boot=N_BOOT)


@st.cache_data(show_spinner=False, max_entries=4)
def bands(fingerprint: Fingerprint) -> dict[str, tuple[np.ndarray, np.ndarray]]:
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
    return bound_by_lesion_type(strategy_scores(fingerprint))


@st.cache_data(show_spinner=False, max_entries=4)
def missing_modality(fingerprint: Fingerprint) -> pd.DataFrame:
    """AUC with CIs of every strategy with both inputs, CT only and MR only."""
    return missing_modality_aucs(strategy_scores(fingerprint), n_boot=N_BOOT)


@st.cache_data(show_spinner=False, max_entries=4)
def calibration(fingerprint: Fingerprint) -> list[CalibrationResult]:
    """Reliability and ECE of every strategy before and after (cross-fitted) temperature scaling."""
    return calibrate_strategies(strategy_scores(fingerprint))


def labels_of(evaluated: list[StrategyEvaluation]) -> dict[str, str]:
    """Display name -> model name, in display order."""
    return {e.label: e.strategy for e in evaluated}

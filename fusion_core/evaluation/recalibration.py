"""Calibration of each strategy before and after temperature scaling.

The temperature must be fitted on subjects the reported ECE is not measured on. With a validation
split's scores (the shipped scores files hold the validation split of the classifiers' training
cohort beside the test split: ``python -m fusion_core.evaluation.runner --spec classifier-train
--split val --write``) it is fitted there. Without them it is *cross-fitted* on the test split: the subjects are split into two label-stratified halves, the
temperature fitted on one half calibrates the other, and the reliability curve and ECE are computed
on the pooled out-of-fold probabilities. No subject's calibrated probability used its own label.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from fusion_core.evaluation.calibration import (
    ReliabilityCurve,
    apply_temperature,
    fit_temperature,
    probability_to_logit,
    reliability_curve,
)
from fusion_core.evaluation.strategies import StrategyScores, strategy_label

N_BINS = 10
CROSS_FIT = "2-fold cross-fitting on the test split"
VALIDATION = "the validation split"


@dataclasses.dataclass(frozen=True)
class CalibrationResult:
    """One strategy's calibration on its complete input.

    Attributes:
        strategy, label: model name and display name.
        before, after: reliability curves of the raw and the temperature-scaled probabilities.
        temperatures: the fitted temperature(s): one when fitted on validation, one per fold otherwise.
        fitted_on: :data:`VALIDATION` or :data:`CROSS_FIT`.
    """

    strategy: str
    label: str
    before: ReliabilityCurve
    after: ReliabilityCurve
    temperatures: tuple[float, ...]
    fitted_on: str

    @property
    def ece_before(self) -> float:
        """Expected calibration error of the raw probabilities."""
        return self.before.ece

    @property
    def ece_after(self) -> float:
        """Expected calibration error after temperature scaling."""
        return self.after.ece


def stratified_folds(labels: np.ndarray, *, n_folds: int = 2, seed: int = 0) -> np.ndarray:
    """(n,) fold index per sample, each class dealt round-robin over the folds after a seeded shuffle."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    folds = np.empty(len(labels), dtype=int)
    for value in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == value))
        folds[members] = np.arange(len(members)) % n_folds
    return folds


def cross_fitted_probabilities(
    labels: np.ndarray, probabilities: np.ndarray, *, n_folds: int = 2, seed: int = 0
) -> tuple[np.ndarray, tuple[float, ...]]:
    """Out-of-fold temperature-scaled probabilities and the temperature of each fold.

    Args:
        labels: (n,) 0/1 truth.
        probabilities: (n,) raw probabilities.
        n_folds: number of folds.
        seed: seed of the fold assignment.

    Returns:
        ((n,) calibrated probabilities, one temperature per fold, fitted on the other folds).
    """
    labels = np.asarray(labels, int)
    logits = probability_to_logit(probabilities)
    folds = stratified_folds(labels, n_folds=n_folds, seed=seed)
    out, temperatures = np.empty(len(labels)), []
    for k in range(n_folds):
        t = fit_temperature(labels[folds != k], logits[folds != k])
        out[folds == k] = apply_temperature(logits[folds == k], t)
        temperatures.append(t)
    return out, tuple(temperatures)


def calibrate_strategy(
    scores: StrategyScores, strategy: str, *, validation: StrategyScores | None = None, seed: int = 0
) -> CalibrationResult:
    """Reliability before/after temperature scaling of one strategy (see the module docstring).

    Args:
        scores: the test scores the ECE is measured on.
        strategy: model name.
        validation: the same strategy's validation scores to fit the temperature on (None: cross-fit).
        seed: fold assignment seed of the cross-fitting.
    """
    labels, probs = scores.scores(strategy)
    if validation is not None and strategy in validation.strategies:
        val_labels, val_probs = validation.scores(strategy)
        t = fit_temperature(val_labels, probability_to_logit(val_probs))
        after, temperatures, fitted_on = apply_temperature(probability_to_logit(probs), t), (t,), VALIDATION
    else:
        after, temperatures = cross_fitted_probabilities(labels, probs, seed=seed)
        fitted_on = CROSS_FIT
    return CalibrationResult(
        strategy,
        strategy_label(strategy),
        reliability_curve(labels, probs, n_bins=N_BINS),
        reliability_curve(labels, after, n_bins=N_BINS),
        temperatures,
        fitted_on,
    )


def calibrate_strategies(
    scores: StrategyScores, *, validation: StrategyScores | None = None, seed: int = 0
) -> list[CalibrationResult]:
    """:func:`calibrate_strategy` of every strategy, in display order."""
    return [calibrate_strategy(scores, s, validation=validation, seed=seed) for s in scores.strategies]


def calibration_frame(results: list[CalibrationResult]):
    """Return a pandas DataFrame, one row per strategy: ECE before, ECE after, temperature(s), fitted on."""
    return pd.DataFrame(
        {
            "ECE before": [r.ece_before for r in results],
            "ECE after temperature scaling": [r.ece_after for r in results],
            "Temperature": [" / ".join(f"{t:.2f}" for t in r.temperatures) for r in results],
            "Fitted on": [r.fitted_on for r in results],
        },
        index=pd.Index([r.label for r in results], name="Strategy"),
    )

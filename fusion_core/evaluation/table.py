"""The clinicians' table: AUC, accuracy, F1, precision, recall, specificity, mean ± sd over resamples.

The form of Table 4 of the medical fusion review: each metric at one operating point (a score
threshold; predictions are ``score >= threshold``), its value on the full sample and its mean and
standard deviation over stratified bootstrap resamples. The threshold is chosen once on the full
sample (Youden's J by default) and held fixed across resamples, so the spread says how stable the
metrics are at that operating point, not how stable the choice of threshold is.

Precision with no positive prediction is undefined and reported as NaN (not 0, which would read as
"every positive call was wrong"); its bootstrap mean and sd skip the resamples where it is
undefined. F1 is computed as 2 TP / (2 TP + FP + FN), which is defined whenever there are positives.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from fusion_core.evaluation.bootstrap import stratified_indices
from fusion_core.evaluation.roc import check_binary, resample_aucs, roc_curve_points

METRICS = ("auc", "accuracy", "f1", "precision", "recall", "specificity")
METRIC_LABELS = {
    "auc": "AUC",
    "accuracy": "Accuracy",
    "f1": "F1",
    "precision": "Precision",
    "recall": "Recall (sensitivity)",
    "specificity": "Specificity",
}


@dataclasses.dataclass(frozen=True)
class MetricSummary:
    """One metric: value on the full sample, and mean, sd and percentile interval over resamples."""

    value: float
    mean: float
    sd: float
    low: float
    high: float


@dataclasses.dataclass(frozen=True)
class ClassificationTable:
    """The clinicians' table at one threshold.

    Attributes:
        threshold: score threshold used (predicted positive when ``score >= threshold``).
        metrics: {"auc" | "accuracy" | "f1" | "precision" | "recall" | "specificity": MetricSummary}.
        n_pos, n_neg: class counts.
        n_boot, alpha, seed: bootstrap settings (``low``/``high`` bound the (1 - alpha) interval).
        youden: whether the threshold was chosen by Youden's J.
    """

    threshold: float
    metrics: dict[str, MetricSummary]
    n_pos: int
    n_neg: int
    n_boot: int
    alpha: float
    seed: int
    youden: bool

    def as_dict(self) -> dict:
        """Plain nested dict (JSON-ready)."""
        return dataclasses.asdict(self)

    def as_frame(self):
        """Return a pandas DataFrame: one row per metric (display label as index), columns value, mean, sd, low, high."""
        rows = {METRIC_LABELS[k]: dataclasses.asdict(v) for k, v in self.metrics.items()}
        return pd.DataFrame.from_dict(rows, orient="index")


def youden_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold maximising Youden's J = TPR - FPR (predictions are ``score >= threshold``).

    Candidate thresholds are the observed scores; among equally good ones the highest is taken
    (fewest positive calls).

    Args:
        labels: (n,) 0/1 truth with both classes.
        scores: (n,) higher = more likely positive.
    """
    fpr, tpr, thresholds = roc_curve_points(labels, scores)
    j = (tpr - fpr)[1:]  # the first point (threshold inf) calls nothing positive
    return float(thresholds[1:][int(np.argmax(j))])


def confusion_metrics(labels: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, F1, precision, recall and specificity of each row.

    Args:
        labels: (b, n) 0/1 truth.
        predicted: (b, n) bool predictions.

    Returns:
        {name: (b,) float}; precision is NaN where a row has no positive prediction.
    """
    truth = labels.astype(bool)
    tp = (predicted & truth).sum(axis=1)
    fp = (predicted & ~truth).sum(axis=1)
    fn = (~predicted & truth).sum(axis=1)
    tn = (~predicted & ~truth).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "accuracy": (tp + tn) / labels.shape[1],
            "f1": 2 * tp / (2 * tp + fp + fn),
            "precision": np.where(tp + fp > 0, tp / (tp + fp), np.nan),
            "recall": tp / (tp + fn),
            "specificity": tn / (tn + fp),
        }


def _summary(value: float, draws: np.ndarray, alpha: float) -> MetricSummary:
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return MetricSummary(float(value), np.nan, np.nan, np.nan, np.nan)
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    sd = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    return MetricSummary(float(value), float(finite.mean()), sd, float(low), float(high))


def classification_table(
    labels: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> ClassificationTable:
    """The clinicians' table of one classifier's scores (see the module docstring).

    Args:
        labels: (n,) 0/1 truth with both classes.
        scores: (n,) higher = more likely positive.
        threshold: operating point; None = :func:`youden_threshold`.
        n_boot: stratified bootstrap resamples (the same resamples for every metric).
        seed: resampling seed.
        alpha: ``low``/``high`` bound the (1 - alpha) percentile interval.

    Raises:
        EvaluationError: see :func:`fusion_core.evaluation.roc.check_binary`.
    """
    labels, scores = check_binary(labels, scores)
    youden = threshold is None
    t = youden_threshold(labels, scores) if youden else float(threshold)
    n_pos = int(labels.sum())
    rows = np.concatenate([np.arange(len(labels))[None], stratified_indices(labels, n_boot, seed)])
    values = {"auc": resample_aucs(labels, scores, rows), **confusion_metrics(labels[rows], scores[rows] >= t)}
    metrics = {k: _summary(values[k][0], values[k][1:], alpha) for k in METRICS}
    return ClassificationTable(t, metrics, n_pos, len(labels) - n_pos, n_boot, alpha, seed, youden)

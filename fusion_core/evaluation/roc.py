"""ROC curves and AUC with (paired) stratified bootstrap confidence intervals.

One AUC implementation (:func:`auc_from_counts`, the Mann-Whitney statistic with ties counted 1/2,
from class counts over the distinct score values) serves the point estimate and every bootstrap
resample, vectorised over resamples so that a 1000-resample interval of a few hundred subjects
takes a few milliseconds.
"""

from __future__ import annotations

import dataclasses
from typing import TypedDict

import numpy as np

from fusion_core.evaluation.bootstrap import stratified_indices
from fusion_core.evaluation.errors import EvaluationError


@dataclasses.dataclass(frozen=True)
class AUCResult:
    """AUC with a percentile bootstrap confidence interval.

    Attributes:
        auc: AUC on the full sample.
        low, high: bounds of the (1 - alpha) percentile bootstrap interval.
        n_pos, n_neg: class counts.
        n_boot: stratified bootstrap resamples used.
        alpha: 1 - confidence level.
        seed: bootstrap seed.
    """

    auc: float
    low: float
    high: float
    n_pos: int
    n_neg: int
    n_boot: int
    alpha: float
    seed: int

    def as_dict(self) -> dict[str, float]:
        """The fields as a plain dict (for JSON and tables)."""
        return dataclasses.asdict(self)


class AUCDifference(TypedDict):
    """AUC(a) - AUC(b) on the same subjects with a paired percentile bootstrap interval.

    A TypedDict rather than a dataclass so that the benchmarks can put it in their JSON as it is.

    Keys:
        difference: AUC(a) - AUC(b) on the full sample.
        low, high: bounds of the (1 - alpha) interval (the same resamples for a and b).
        n_boot, alpha, seed: as in :class:`AUCResult`.
    """

    difference: float
    low: float
    high: float
    n_boot: int
    alpha: float
    seed: int


def check_binary(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels as (n,) int 0/1 and scores as (n,) float, or :class:`EvaluationError`.

    Raises:
        EvaluationError: lengths differ, labels other than 0/1, one class only, or non-finite scores.
    """
    labels = np.asarray(labels).ravel()
    scores = np.asarray(scores, dtype=float).ravel()
    if labels.shape != scores.shape:
        raise EvaluationError(f"labels {labels.shape} and scores {scores.shape} differ in length")
    if not np.isin(labels, (0, 1)).all():
        raise EvaluationError(f"labels must be 0 or 1, got {sorted(set(np.unique(labels).tolist()))}")
    if len(np.unique(labels)) < 2:
        raise EvaluationError("AUC needs both classes (labels 0 and 1) among the samples")
    if not np.isfinite(scores).all():
        raise EvaluationError(f"{int((~np.isfinite(scores)).sum())} scores are NaN or infinite")
    return labels.astype(int), scores


def auc_from_counts(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """AUC of each row of class counts over the sorted distinct score values (Mann-Whitney U).

    AUC = P(positive score > negative score) + P(equal) / 2, from how many positives and negatives
    of each row hold each distinct value: O(rows x values), no sorting per resample.

    Args:
        positives: (b, u) how often each of the u sorted distinct values occurs among positives.
        negatives: (b, u) the same among negatives.

    Returns:
        (b,) AUCs.
    """
    negatives_below = np.cumsum(negatives, axis=1) - negatives
    pairs = positives.sum(axis=1) * negatives.sum(axis=1)
    return (positives * (negatives_below + negatives / 2)).sum(axis=1) / pairs


def resample_aucs(labels: np.ndarray, scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """AUC of each resample (row of indices) of checked ``labels`` and ``scores``.

    Args:
        labels: (n,) int 0/1.
        scores: (n,) float.
        rows: (b, m) indices into the sample (each row must hold both classes).

    Returns:
        (b,) AUCs; ``rows = arange(n)[None]`` gives the sample's own AUC.
    """
    values, codes = np.unique(scores, return_inverse=True)
    u = len(values)
    out = np.empty(len(rows))
    block = max(1, 4_000_000 // max(u, rows.shape[1]))  # bounds the (block, u) count arrays
    for start in range(0, len(rows), block):
        r = rows[start : start + block]
        flat = (codes[r] + u * np.arange(len(r))[:, None]).ravel()
        positive = labels[r].ravel() == 1
        pos = np.bincount(flat[positive], minlength=u * len(r)).reshape(len(r), u)
        neg = np.bincount(flat[~positive], minlength=u * len(r)).reshape(len(r), u)
        out[start : start + block] = auc_from_counts(pos, neg)
    return out


def auc_score(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (ties count 1/2; equals scikit-learn's ``roc_auc_score``).

    Args:
        labels: (n,) 0/1 truth with both classes.
        scores: (n,) higher = more likely positive.
    """
    labels, scores = check_binary(labels, scores)
    return float(resample_aucs(labels, scores, np.arange(len(labels))[None])[0])


def roc_curve_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate, thresholds), starting at (0, 0).

    ``thresholds[i]`` is the lowest score predicted positive (``score >= threshold``) at point i;
    the first is ``inf`` (nothing positive).
    """
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.metrics import roc_curve

    labels, scores = check_binary(labels, scores)
    fpr, tpr, thr = roc_curve(labels, scores)
    return fpr, tpr, thr


def bootstrap_aucs(labels: np.ndarray, scores: np.ndarray, *, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot,) AUCs over stratified bootstrap resamples (checked inputs)."""
    return resample_aucs(labels, scores, stratified_indices(labels, n_boot, seed))


def auc_with_ci(
    labels: np.ndarray, scores: np.ndarray, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> AUCResult:
    """AUC with a stratified percentile-bootstrap (1 - alpha) confidence interval.

    Args:
        labels: (n,) 0/1 truth.
        scores: (n,) higher = more likely positive.
        n_boot: bootstrap resamples (each keeps the class counts).
        alpha: 0.05 gives a 95% interval.
        seed: resampling seed (the result records it).

    Raises:
        EvaluationError: see :func:`check_binary`.
    """
    labels, scores = check_binary(labels, scores)
    low, high = np.quantile(bootstrap_aucs(labels, scores, n_boot=n_boot, seed=seed), [alpha / 2, 1 - alpha / 2])
    n_pos = int(labels.sum())
    return AUCResult(
        auc_score(labels, scores), float(low), float(high), n_pos, len(labels) - n_pos, n_boot, alpha, seed
    )


@dataclasses.dataclass(frozen=True)
class RocCurve:
    """One classifier's ROC curve with its AUC and the AUC's bootstrap interval.

    Attributes:
        fpr, tpr: (m,) ROC points from (0, 0) to (1, 1).
        thresholds: (m,) lowest score called positive at each point (the first is inf).
        auc: AUC with its stratified bootstrap interval (and the class counts).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: AUCResult


def roc_with_ci(
    labels: np.ndarray, scores: np.ndarray, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0
) -> RocCurve:
    """The ROC curve (:func:`roc_curve_points`) and AUC with its interval (:func:`auc_with_ci`).

    The one ROC path of the package: the Fusion Performance page, the scores-file summaries and the
    benchmarks all come here.

    Raises:
        EvaluationError: see :func:`check_binary`.
    """
    fpr, tpr, thresholds = roc_curve_points(labels, scores)
    return RocCurve(fpr, tpr, thresholds, auc_with_ci(labels, scores, n_boot=n_boot, alpha=alpha, seed=seed))


BAND_GRID = np.linspace(0.0, 1.0, 101)
"""False positive rates at which :func:`roc_band` gives the band."""


@dataclasses.dataclass(frozen=True)
class RocBand:
    """A pointwise bootstrap band of an ROC curve's true positive rate.

    Attributes:
        fpr: (101,) the false positive rates of :data:`BAND_GRID`.
        low, high: (101,) band limits of the true positive rate at each of them.
    """

    fpr: np.ndarray
    low: np.ndarray
    high: np.ndarray


def roc_band(
    labels: np.ndarray, scores: np.ndarray, *, n_boot: int = 200, seed: int = 0, alpha: float = 0.05
) -> RocBand:
    """Pointwise (1 - alpha) bootstrap band of the TPR on :data:`BAND_GRID` (vertical averaging).

    Each stratified resample's ROC curve (ties collapsed to one point, as in ``roc_curve_points``)
    is interpolated at the grid's false positive rates; the band is their pointwise percentiles.

    Raises:
        EvaluationError: see :func:`check_binary`.
    """
    labels, scores = check_binary(labels, scores)
    rows = stratified_indices(labels, n_boot, seed)
    order = np.argsort(-scores[rows], axis=1, kind="stable")
    s, y = np.take_along_axis(scores[rows], order, 1), np.take_along_axis(labels[rows], order, 1)
    tpr, fpr = np.cumsum(y, 1) / y.sum(1, keepdims=True), np.cumsum(1 - y, 1) / (1 - y).sum(1, keepdims=True)
    ends = np.c_[s[:, 1:] != s[:, :-1], np.ones(len(s), bool)]  # last point of each run of equal scores
    curves = [np.interp(BAND_GRID, np.r_[0.0, f[e]], np.r_[0.0, t[e]]) for f, t, e in zip(fpr, tpr, ends, strict=True)]
    low, high = np.quantile(np.array(curves), [alpha / 2, 1 - alpha / 2], axis=0)
    return RocBand(BAND_GRID, low, high)


def auc_difference_ci(
    labels: np.ndarray,
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> AUCDifference:
    """AUC(a) - AUC(b) with a paired bootstrap interval (the same resamples for both).

    Args:
        labels: (n,) 0/1 truth.
        scores_a: (with ``scores_b``) (n,) scores of two classifiers on the same samples.
        scores_b: see ``scores_a``.
        n_boot: (with ``alpha``, ``seed``) as in :func:`auc_with_ci`.
        alpha: see ``n_boot``.
        seed: see ``n_boot``.
    """
    labels, scores_a = check_binary(labels, scores_a)
    _, scores_b = check_binary(labels, scores_b)
    diffs = bootstrap_aucs(labels, scores_a, n_boot=n_boot, seed=seed) - bootstrap_aucs(
        labels, scores_b, n_boot=n_boot, seed=seed
    )
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    point = auc_score(labels, scores_a) - auc_score(labels, scores_b)
    return AUCDifference(difference=point, low=float(low), high=float(high), n_boot=n_boot, alpha=alpha, seed=seed)

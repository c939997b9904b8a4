"""Fusion strategies side by side: ROC with bootstrap CIs, the clinicians' table at an operating point,
the independence bound (overall and per lesion type) with a sentence per strategy, and AUCs with a
modality missing. Everything at subject level, from a :class:`~fusion_core.evaluation.strategies.StrategyScores`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from fusion_core.evaluation.bound import independence_bound
from fusion_core.evaluation.errors import EvaluationError
from fusion_core.evaluation.roc import AUCResult, auc_score, auc_with_ci, roc_curve_points
from fusion_core.evaluation.strategies import (
    BOTH,
    CT_MODEL,
    INPUT_LABELS,
    MISSING_INPUT_HANDLING,
    MR_MODEL,
    StrategyScores,
    strategy_label,
)
from fusion_core.evaluation.table import METRIC_LABELS, METRICS, ClassificationTable, classification_table


@dataclasses.dataclass(frozen=True)
class StrategyEvaluation:
    """One strategy on its complete input: ROC, AUC with CI, and the table at one operating point.

    Attributes:
        strategy: model name ("clf-early"); label: its display name ("Early fusion").
        inputs: the input set scored ("CT+MR", or "CT" / "MR" for a unimodal model).
        fpr, tpr: (m,) ROC points from (0, 0) to (1, 1).
        auc: AUC with its stratified bootstrap interval.
        table: the clinicians' table at ``table.threshold``.
        operating_point: (false positive rate, true positive rate) at that threshold.
    """

    strategy: str
    label: str
    inputs: str
    fpr: np.ndarray
    tpr: np.ndarray
    auc: AUCResult
    table: ClassificationTable
    operating_point: tuple[float, float]


def operating_point(labels: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    """(FPR, TPR) when ``score >= threshold`` is called positive."""
    labels, called = np.asarray(labels, int), np.asarray(scores, float) >= threshold
    return float(called[labels == 0].mean()), float(called[labels == 1].mean())


def evaluate_strategy(
    scores: StrategyScores, strategy: str, *, threshold: float | None = None, n_boot: int = 1000, seed: int = 0
) -> StrategyEvaluation:
    """ROC, AUC (95 % stratified bootstrap CI) and the clinicians' table of one strategy.

    Args:
        scores: tidy scores.
        strategy: model name.
        threshold: operating point; None = Youden's J of this strategy.
        n_boot, seed: bootstrap settings (the same resamples for AUC and table).
    """
    inputs = scores.complete_inputs(strategy)
    labels, values = scores.scores(strategy, inputs)
    fpr, tpr, _ = roc_curve_points(labels, values)
    table = classification_table(labels, values, threshold=threshold, n_boot=n_boot, seed=seed)
    auc = auc_with_ci(labels, values, n_boot=n_boot, seed=seed)
    point = operating_point(labels, values, table.threshold)
    return StrategyEvaluation(strategy, strategy_label(strategy), inputs, fpr, tpr, auc, table, point)


def evaluate_strategies(
    scores: StrategyScores,
    *,
    thresholds: Mapping[str, float] | float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[StrategyEvaluation]:
    """:func:`evaluate_strategy` of every strategy, in display order.

    Args:
        thresholds: one threshold for all, {strategy: threshold} (missing ones: Youden), or None (Youden each).
    """
    pick = thresholds if isinstance(thresholds, Mapping) else dict.fromkeys(scores.strategies, thresholds)
    return [evaluate_strategy(scores, s, threshold=pick.get(s), n_boot=n_boot, seed=seed) for s in scores.strategies]


def clinicians_table(evaluations: list[StrategyEvaluation], *, formatted: bool = True) -> pd.DataFrame:
    """The clinicians' table, one row per strategy (the form of the fusion review's Table 4).

    Args:
        evaluations: from :func:`evaluate_strategies`.
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


# ------------------------------------------------------------------------------ the independence bound
@dataclasses.dataclass(frozen=True)
class BoundInputs:
    """The independence bound of the two unimodal classifiers.

    Attributes:
        ct_auc, mr_auc: AUCs of the CT-only and MR-only classifiers on the same subjects.
        bound: the ideal observer's fused AUC (``independence_bound``).
    """

    ct_auc: float
    mr_auc: float
    bound: float


def unimodal_bound(scores: StrategyScores, *, lesion_type: str | None = None) -> BoundInputs:
    """Bound from clf-ct (CT) and clf-mr (MR); with ``lesion_type``, its positives against all negatives.

    Raises:
        EvaluationError: either unimodal classifier is missing, or the lesion type has no positive.
    """
    aucs = []
    for model in (CT_MODEL, MR_MODEL):
        if model not in scores.strategies:
            raise EvaluationError(f"the independence bound needs {model}'s scores; have {scores.strategies}")
        aucs.append(auc_of(scores, model, scores.complete_inputs(model), lesion_type=lesion_type))
    return BoundInputs(aucs[0], aucs[1], independence_bound(aucs[0], aucs[1]))


def auc_of(scores: StrategyScores, strategy: str, inputs: str, *, lesion_type: str | None = None) -> float:
    """Point AUC of one strategy and input set; with ``lesion_type``, its positives vs all negatives."""
    rows = scores.rows(strategy, inputs)
    if lesion_type is not None:
        rows = rows[(rows["label"] == 0) | (rows["lesion_type"] == lesion_type)]
    return auc_score(rows["label"].to_numpy(int), rows["score"].to_numpy(float))


def bound_sentence(label: str, auc: AUCResult, bound: float, *, unimodal: bool = False) -> str:
    """One sentence a user can check: how close a strategy comes to the independence bound.

    Args:
        label: the strategy's display name.
        auc: its AUC with the 95 % interval.
        bound: the bound's AUC.
        unimodal: the strategy is one of the bound's two inputs.
    """
    head = f"**{label}**: AUC {auc.auc:.2f} (95 % CI {auc.low:.2f}–{auc.high:.2f})"
    gap = auc.auc - bound
    if unimodal:
        return f"{head}, one of the two inputs of the bound; it sees one modality only."
    if auc.low > bound:
        return (
            f"{head}, {gap:+.2f} above the bound, the whole interval above it: the two modalities' evidence is "
            "not independent Gaussian (each lesion type shows on its own modality), and this strategy uses that."
        )
    if auc.high < bound:
        return f"{head}, {-gap:.2f} below the bound, the whole interval below it: it leaves evidence unused."
    return f"{head}, {gap:+.2f} from the bound, which lies inside its interval: on these subjects it cannot be told apart from the bound."


def bound_sentences(evaluations: list[StrategyEvaluation], bound: float) -> dict[str, str]:
    """strategy -> :func:`bound_sentence`."""
    return {
        e.strategy: bound_sentence(e.label, e.auc, bound, unimodal=e.strategy in (CT_MODEL, MR_MODEL))
        for e in evaluations
    }


def bound_by_lesion_type(scores: StrategyScores, strategies: list[str] | None = None) -> pd.DataFrame:
    """The bound per lesion type (that type's positives against all negatives) beside each strategy's AUC.

    Returns:
        One row per lesion type: "Positives", "CT alone AUC", "MR alone AUC", "Independence bound",
        then each fusion strategy's AUC on the same subjects; a last row "all lesions".
    """
    ref = scores.rows(CT_MODEL)
    types = sorted(t for t in ref.loc[ref["label"] == 1, "lesion_type"].unique())
    fusion = [s for s in (strategies or scores.strategies) if s not in (CT_MODEL, MR_MODEL)]
    rows = {}
    for lesion in [*types, None]:
        b = unimodal_bound(scores, lesion_type=lesion)
        n_pos = int((ref["label"] == 1).sum() if lesion is None else (ref["lesion_type"] == lesion).sum())
        row = {"Positives": n_pos, "CT alone AUC": b.ct_auc, "MR alone AUC": b.mr_auc, "Independence bound": b.bound}
        row |= {strategy_label(s): auc_of(scores, s, BOTH, lesion_type=lesion) for s in fusion}
        rows[lesion or "all lesions"] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("Lesion type")


# ------------------------------------------------------------------------------ missing modality
def missing_modality_aucs(scores: StrategyScores, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """AUC with a 95 % CI of every strategy with both inputs, with MR missing and with CT missing.

    Returns:
        One row per (strategy, input set the strategy could run on): columns strategy, label,
        inputs, inputs_label, auc, low, high, n, handling (what the model does with the missing input).
    """
    rows = []
    for strategy in scores.strategies:
        for inputs in scores.input_sets(strategy):
            labels, values = scores.scores(strategy, inputs)
            a = auc_with_ci(labels, values, n_boot=n_boot, seed=seed)
            handling = (
                ""
                if inputs == BOTH or inputs == scores.complete_inputs(strategy)
                else MISSING_INPUT_HANDLING.get(strategy, "")
            )
            rows.append(
                {
                    "strategy": strategy,
                    "label": strategy_label(strategy),
                    "inputs": inputs,
                    "inputs_label": INPUT_LABELS[inputs],
                    "auc": a.auc,
                    "low": a.low,
                    "high": a.high,
                    "n": len(labels),
                    "handling": handling,
                }
            )
    return pd.DataFrame(rows)

"""Fusion strategies side by side, at subject level.

ROC with bootstrap CIs, the clinicians' metrics at an operating point, the independence bound
(overall and per lesion type) and where each strategy lies against it, and AUCs with a modality
missing. Everything from a :class:`~fusion_core.evaluation.strategies.StrategyScores`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

import numpy as np

from fusion_core.evaluation.bound import independence_bound
from fusion_core.evaluation.errors import EvaluationError
from fusion_core.evaluation.roc import AUCResult, RocCurve, auc_score, auc_with_ci, roc_with_ci
from fusion_core.evaluation.strategies import (
    BOTH,
    MISSING_INPUT_HANDLING,
    StrategyScores,
    strategy_label,
)
from fusion_core.evaluation.table import ClassificationTable, classification_table
from fusion_core.inference.registry import read_card, single_modality


@dataclasses.dataclass(frozen=True)
class StrategyEvaluation:
    """One strategy on its complete input: ROC, AUC with CI, and the table at one operating point.

    Attributes:
        strategy: model name ("clf-early"); label: its display name ("Early fusion").
        inputs: the input set scored ("CT+MR", or "CT" / "MR" for a unimodal model).
        roc: the ROC curve and the AUC with its stratified bootstrap interval.
        table: the clinicians' table at ``table.threshold``.
        operating_point: (false positive rate, true positive rate) at that threshold.
    """

    strategy: str
    label: str
    inputs: str
    roc: RocCurve
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
        n_boot: (with ``seed``) bootstrap settings (the same resamples for AUC and table).
        seed: see ``n_boot``.
    """
    inputs = scores.complete_inputs(strategy)
    labels, values = scores.scores(strategy, inputs)
    table = classification_table(labels, values, threshold=threshold, n_boot=n_boot, seed=seed)
    roc = roc_with_ci(labels, values, n_boot=n_boot, seed=seed)
    point = operating_point(labels, values, table.threshold)
    return StrategyEvaluation(strategy, strategy_label(strategy), inputs, roc, table, point)


def evaluate_strategies(
    scores: StrategyScores,
    *,
    thresholds: Mapping[str, float] | float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[StrategyEvaluation]:
    """:func:`evaluate_strategy` of every strategy, in display order.

    Args:
        scores: tidy scores.
        thresholds: one threshold for all, {strategy: threshold} (missing ones: Youden), or None (Youden each).
        n_boot: bootstrap resamples per strategy.
        seed: bootstrap seed.
    """
    pick = thresholds if isinstance(thresholds, Mapping) else dict.fromkeys(scores.strategies, thresholds)
    return [evaluate_strategy(scores, s, threshold=pick.get(s), n_boot=n_boot, seed=seed) for s in scores.strategies]


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


def unimodal_models(scores: StrategyScores) -> dict[str, str]:
    """Map "CT"/"MR" to the strategy in ``scores`` that reads that modality alone.

    The role comes from the model card beside each scores file (``inference.registry.single_modality``);
    a strategy without a card (scores built in memory) counts as unimodal when its complete input is
    one modality.
    """
    roles = {}
    for strategy in scores.strategies:
        source = Path(scores.sources.get(strategy) or ".")
        card = source.parent / "model_card.json"
        if source.name and card.is_file():
            role = single_modality(read_card(card.parent))
        else:
            role = scores.complete_inputs(strategy) if scores.complete_inputs(strategy) != BOTH else None
        if role is not None:
            roles.setdefault(role, strategy)
    return roles


def unimodal_bound(scores: StrategyScores, *, lesion_type: str | None = None) -> BoundInputs:
    """Bound from the CT-alone and the MR-alone classifiers (:func:`unimodal_models`).

    With ``lesion_type``, the bound of that type's positives against all negatives.

    Raises:
        EvaluationError: either unimodal classifier is missing, or the lesion type has no positive.
    """
    models, aucs = unimodal_models(scores), []
    for modality in ("CT", "MR"):
        if modality not in models:
            raise EvaluationError(
                f"the independence bound needs the scores of a {modality}-alone classifier; have {scores.strategies}"
            )
        model = models[modality]
        aucs.append(auc_of(scores, model, scores.complete_inputs(model), lesion_type=lesion_type))
    return BoundInputs(aucs[0], aucs[1], independence_bound(aucs[0], aucs[1]))


def auc_of(scores: StrategyScores, strategy: str, inputs: str, *, lesion_type: str | None = None) -> float:
    """Point AUC of one strategy and input set; with ``lesion_type``, its positives vs all negatives."""
    rows = scores.rows(strategy, inputs)
    if lesion_type is not None:
        rows = rows[(rows["label"] == 0) | (rows["lesion_type"] == lesion_type)]
    return auc_score(rows["label"].to_numpy(int), rows["score"].to_numpy(float))


class BoundPosition(StrEnum):
    """Where a strategy's AUC interval lies against the independence bound."""

    ABOVE = "above"  # the whole interval above the bound
    INSIDE = "inside"  # the bound lies inside the interval
    BELOW = "below"  # the whole interval below the bound
    INPUT = "input"  # a unimodal classifier: one of the bound's two inputs


def bound_position(auc: AUCResult, bound: float, *, unimodal: bool = False) -> BoundPosition:
    """How a strategy's AUC with its interval compares with the bound's AUC.

    Args:
        auc: the strategy's AUC with the 95 % interval.
        bound: the bound's AUC.
        unimodal: the strategy is one of the bound's two inputs.
    """
    if unimodal:
        return BoundPosition.INPUT
    if auc.low > bound:
        return BoundPosition.ABOVE
    if auc.high < bound:
        return BoundPosition.BELOW
    return BoundPosition.INSIDE


def bound_positions(evaluations: list[StrategyEvaluation], bound: float) -> dict[str, BoundPosition]:
    """Map strategy -> :func:`bound_position` (a strategy that reads one modality is one of the bound's inputs)."""
    return {e.strategy: bound_position(e.roc.auc, bound, unimodal=e.inputs != BOTH) for e in evaluations}


@dataclasses.dataclass(frozen=True)
class LesionTypeBound:
    """The independence bound on one lesion type's positives against all negatives, beside the fusion AUCs.

    Attributes:
        lesion_type: e.g. "calcified"; None for all lesions together.
        positives: subjects with that lesion.
        bound: the unimodal AUCs and the bound on those subjects.
        fusion_aucs: fusion strategy (model name) -> its AUC on the same subjects.
    """

    lesion_type: str | None
    positives: int
    bound: BoundInputs
    fusion_aucs: dict[str, float]


def bound_by_lesion_type(scores: StrategyScores, strategies: list[str] | None = None) -> list[LesionTypeBound]:
    """The bound per lesion type (that type's positives against all negatives) beside each fusion strategy's AUC.

    Returns:
        One entry per lesion type (sorted), then one for all lesions (``lesion_type`` None).
    """
    unimodal = unimodal_models(scores)
    ref = scores.rows(unimodal["CT"]) if "CT" in unimodal else scores.rows(scores.strategies[0])
    types = sorted(t for t in ref.loc[ref["label"] == 1, "lesion_type"].unique())
    fusion = [s for s in (strategies or scores.strategies) if s not in unimodal.values()]
    out = []
    for lesion in [*types, None]:
        n_pos = int((ref["label"] == 1).sum() if lesion is None else (ref["lesion_type"] == lesion).sum())
        aucs = {s: auc_of(scores, s, BOTH, lesion_type=lesion) for s in fusion}
        out.append(LesionTypeBound(lesion, n_pos, unimodal_bound(scores, lesion_type=lesion), aucs))
    return out


# ------------------------------------------------------------------------------ missing modality
@dataclasses.dataclass(frozen=True)
class InputSetAUC:
    """One strategy's AUC on one input set (a modality possibly missing at test time).

    Attributes:
        strategy: model name; inputs: :data:`BOTH`, :data:`CT_ONLY` or :data:`MR_ONLY`.
        auc: AUC with its 95 % interval (``auc.n_pos + auc.n_neg`` subjects).
        handling: what the model does with the missing input ("" with its complete input).
    """

    strategy: str
    inputs: str
    auc: AUCResult
    handling: str


def missing_modality_aucs(scores: StrategyScores, *, n_boot: int = 1000, seed: int = 0) -> list[InputSetAUC]:
    """AUC with a 95 % CI of every strategy with both inputs, with MR missing and with CT missing.

    Returns:
        One entry per (strategy, input set the strategy could run on), strategies in display order.
    """
    out = []
    for strategy in scores.strategies:
        complete = scores.complete_inputs(strategy)
        for inputs in scores.input_sets(strategy):
            auc = auc_with_ci(*scores.scores(strategy, inputs), n_boot=n_boot, seed=seed)
            handling = "" if inputs in (BOTH, complete) else MISSING_INPUT_HANDLING.get(strategy, "")
            out.append(InputSetAUC(strategy, inputs, auc, handling))
    return out

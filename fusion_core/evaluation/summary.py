"""ROC summaries of fusion strategies from shipped scores files (what the Fusion Performance page draws)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from fusion_core.evaluation.errors import EvaluationError
from fusion_core.evaluation.roc import RocCurve, roc_with_ci
from fusion_core.evaluation.scores_io import ScoresTable, read_scores, subset_key


@dataclasses.dataclass(frozen=True)
class RocSummary:
    """One model's ROC curve on one input subset.

    Attributes:
        model: the model's name.
        subset: the input subset scored, e.g. "CT+MR-T1".
        roc: its ROC curve and AUC with the bootstrap interval (``roc.auc.n_pos``/``n_neg``: class counts).
    """

    model: str
    subset: str
    roc: RocCurve


def strategy_roc(
    scores: ScoresTable,
    subset: str | Sequence[str] = "all",
    *,
    split: str | None = "test",
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> RocSummary:
    """ROC curve and AUC (stratified bootstrap CI) of one scores table on one input subset.

    Args:
        scores: a model's scores (see :func:`read_scores`).
        subset: input subset, e.g. "CT+MR-T1" or ("CT", "MR-T1"); "all" = the model's complete input.
        split: rows of this split only (None: all rows).
        n_boot, alpha, seed: bootstrap settings of the AUC interval.

    Raises:
        EvaluationError: no such subset, no scores in the split, or one class only.
    """
    key = scores.full_subset if subset == "all" else subset_key(subset)
    labels, values = scores.scores(key, split=split)
    try:
        roc = roc_with_ci(labels, values, n_boot=n_boot, alpha=alpha, seed=seed)
    except EvaluationError as exc:
        raise EvaluationError(f"{scores.source or scores.name}, subset {key}: {exc}") from exc
    return RocSummary(scores.name, key, roc)


def roc_summaries(
    model_dirs: Iterable[str | Path],
    subset: str | Sequence[str] = "all",
    *,
    split: str | None = "test",
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, RocSummary]:
    """ROC summaries of several models' scores files on one subset, keyed by model name.

    A model without a score column for ``subset`` (it cannot run on those inputs) is left out.

    Args:
        model_dirs: model folders (holding ``scores.csv``) or scores files.
        subset: as in :func:`strategy_roc`.
        split, n_boot, alpha, seed: as in :func:`strategy_roc`.

    Raises:
        EvaluationError: a scores file is missing or invalid.
    """
    out: dict[str, RocSummary] = {}
    for d in model_dirs:
        table = read_scores(d)
        if subset == "all" or subset_key(subset) in table.subsets:
            out[table.name] = strategy_roc(table, subset, split=split, n_boot=n_boot, alpha=alpha, seed=seed)
    return out

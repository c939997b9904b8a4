"""Every shipped classifier's per-subject scores in one tidy table (what the Fusion Performance page reads).

One row per (strategy, subject, input set)::

    strategy      the model's name, e.g. "clf-early"
    subject_id, label, lesion_type, site, split
    inputs        which modalities the model was given: "CT+MR" (both), "CT" (MR missing), "MR" (CT missing)
    subset        the scores file's subset, e.g. "CT+MR-T1+MR-T2"
    score         the subject probability; uncertainty (NaN when the file has none)

A unimodal classifier has one input set only (its own modality). The scores files come from
``python -m fusion_core.evaluation.runner --spec demo --split test --write``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from fusion_core.evaluation.errors import EvaluationError
from fusion_core.evaluation.scores_io import ScoresTable, read_scores, score_column, uncertainty_column

BOTH, CT_ONLY, MR_ONLY = "CT+MR", "CT", "MR"
INPUT_SETS = (BOTH, CT_ONLY, MR_ONLY)
INPUT_LABELS = {BOTH: "CT and MR", CT_ONLY: "CT only (MR missing)", MR_ONLY: "MR only (CT missing)"}

# Words a clinician uses, in the order the page lists them (unimodal first, then by fusion stage).
STRATEGY_LABELS: dict[str, str] = {
    "clf-ct": "CT alone",
    "clf-mr": "MR (T1+T2) alone",
    "clf-early": "Early fusion",
    "clf-intermediate-concat": "Intermediate fusion (concatenation)",
    "clf-intermediate-tensor": "Intermediate fusion (low-rank tensor)",
    "clf-intermediate-attention": "Intermediate fusion (cross-modal attention)",
    "clf-poe": "Product of experts",
    "clf-late": "Late fusion",
    "clf-hybrid": "Hybrid fusion",
    "clf-uncertainty-late": "Uncertainty-weighted late fusion",
    "classical-lr": "Classical: logistic regression",
    "classical-mksvm": "Classical: multiple-kernel SVM",
}

# What each strategy does when one modality is missing at test time (fusion_core.models.classifiers).
MISSING_INPUT_HANDLING: dict[str, str] = {
    "clf-early": "the missing modality is fed as a zero image",
    "clf-intermediate-concat": "the missing modality is fed as a zero image",
    "clf-intermediate-tensor": "the missing modality is fed as a zero image",
    "clf-intermediate-attention": "the missing modality is fed as a zero image",
    "clf-hybrid": "the fused branch sees a zero image; the unimodal branch of the present modality works as trained",
    "clf-poe": "only the present modality's expert enters the product (no imputation)",
    "clf-late": "only the present modality's prediction is used",
    "clf-uncertainty-late": "only the present modality's prediction is used (its weight becomes 1)",
    "classical-lr": "the missing modality's features are set to their training mean",
    "classical-mksvm": "the missing modality's kernel is left out of the sum",
}

TIDY_COLUMNS = (
    "strategy",
    "subject_id",
    "label",
    "lesion_type",
    "site",
    "split",
    "inputs",
    "subset",
    "score",
    "uncertainty",
)


def strategy_label(name: str) -> str:
    """Display name of a classifier ("clf-early" -> "Early fusion"); unknown names are kept as they are."""
    return STRATEGY_LABELS.get(name, name)


def strategy_key(name: str) -> str:
    """The theme's strategy key of a classifier ("clf-early" -> "early"; see ``fusion_core.viz.theme``)."""
    return name.removeprefix("clf-")


def input_set(subset: str) -> str:
    """Which modalities a subset gives: "CT+MR-T1+MR-T2" -> "CT+MR", "CT" -> "CT", "MR-T1+MR-T2" -> "MR"."""
    parts = subset.split("+")
    has_ct, has_mr = "CT" in parts, any(p.startswith("MR") for p in parts)
    if has_ct and has_mr:
        return BOTH
    if has_ct:
        return CT_ONLY
    if has_mr:
        return MR_ONLY
    raise EvaluationError(f"input subset {subset!r} holds neither CT nor MR")


def _strategy_order(name: str) -> tuple[int, str]:
    order = list(STRATEGY_LABELS)
    return (order.index(name) if name in order else len(order), name)


@dataclasses.dataclass(frozen=True)
class StrategyScores:
    """The tidy scores of several classifiers (see the module docstring).

    Attributes:
        frame: one row per (strategy, subject, input set), columns :data:`TIDY_COLUMNS`.
        sources: strategy -> the scores file it came from ("" when built in memory).
    """

    frame: pd.DataFrame
    sources: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def strategies(self) -> list[str]:
        """Model names in display order (unimodal first, then by fusion stage)."""
        return sorted(self.frame["strategy"].unique(), key=_strategy_order)

    def input_sets(self, strategy: str) -> list[str]:
        """The input sets ``strategy`` was scored on, in :data:`INPUT_SETS` order."""
        have = set(self.frame.loc[self.frame["strategy"] == strategy, "inputs"])
        return [s for s in INPUT_SETS if s in have]

    def complete_inputs(self, strategy: str) -> str:
        """The input set holding every modality ``strategy`` reads (its own one for a unimodal model)."""
        sets = self.input_sets(strategy)
        if not sets:
            raise EvaluationError(f"no scores for strategy {strategy!r}; have {self.strategies}")
        return sets[0]

    def rows(self, strategy: str, inputs: str | None = None) -> pd.DataFrame:
        """Rows of one strategy on one input set (None: its complete input), ordered by subject.

        Raises:
            EvaluationError: no such strategy or input set.
        """
        inputs = inputs or self.complete_inputs(strategy)
        keep = (self.frame["strategy"] == strategy) & (self.frame["inputs"] == inputs)
        if not keep.any():
            raise EvaluationError(f"no scores for {strategy!r} with inputs {inputs!r}")
        return self.frame[keep].sort_values("subject_id")

    def scores(self, strategy: str, inputs: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(labels, scores) of one strategy on one input set: (n,) int and (n,) float."""
        rows = self.rows(strategy, inputs)
        return rows["label"].to_numpy(int), rows["score"].to_numpy(float)

    def for_subjects(self, subject_ids: Iterable[str]) -> StrategyScores:
        """The same table restricted to the subjects ``subject_ids``."""
        return StrategyScores(self.frame[self.frame["subject_id"].isin(set(subject_ids))], dict(self.sources))

    def select(self, strategies: Iterable[str]) -> StrategyScores:
        """The same table restricted to ``strategies``."""
        keep = list(strategies)
        return StrategyScores(self.frame[self.frame["strategy"].isin(keep)], {k: self.sources.get(k, "") for k in keep})


def tidy_rows(table: ScoresTable, *, split: str | None = "test") -> pd.DataFrame:
    """One scores table as tidy rows (NaN scores left out), columns :data:`TIDY_COLUMNS`."""
    frame = table.frame if split is None else table.frame[table.frame["split"] == split]
    parts = []
    for subset in table.subsets:
        unc = uncertainty_column(subset)
        part = frame[["subject_id", "label", "lesion_type", "site", "split"]].assign(
            strategy=table.name,
            inputs=input_set(subset),
            subset=subset,
            score=frame[score_column(subset)].astype(float),
            uncertainty=frame[unc].astype(float) if unc in frame.columns else np.nan,
        )
        parts.append(part[part["score"].notna()])
    return pd.concat(parts, ignore_index=True)[list(TIDY_COLUMNS)]


def strategy_scores(tables: Iterable[ScoresTable], *, split: str | None = "test") -> StrategyScores:
    """Tidy scores of several in-memory scores tables (e.g. from ``runner.score_models``).

    Raises:
        EvaluationError: no table, or no scored row in ``split``.
    """
    tables = list(tables)
    if not tables:
        raise EvaluationError("no scores tables given")
    frame = pd.concat([tidy_rows(t, split=split) for t in tables], ignore_index=True)
    if frame.empty:
        raise EvaluationError(f"no scores in split {split!r}")
    frame["label"] = frame["label"].astype(int)
    return StrategyScores(frame, {t.name: t.source for t in tables})


def load_strategy_scores(model_dirs: Iterable[str | Path], *, split: str | None = "test") -> StrategyScores:
    """Read every model folder's ``scores.csv`` into one tidy table.

    Args:
        model_dirs: classifier folders holding ``scores.csv`` (``scores_dirs(ASSETS_DIR)``).
        split: keep this split's rows (None: all).

    Raises:
        EvaluationError: no folder given, or a scores file is missing or invalid (the message names it).
    """
    return strategy_scores([read_scores(d) for d in model_dirs], split=split)

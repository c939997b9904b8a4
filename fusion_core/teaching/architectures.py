"""Demo 3, early, intermediate and late fusion: what each needs and how each did on the demo cohort.

The measured AUCs come from the shipped classifiers' per-subject demo scores (``scores.csv``), for
all inputs or with one modality missing; nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fusion_core.evaluation import EvaluationError, auc_with_ci, read_scores

ARCHITECTURES: dict[str, str] = {  # architecture -> the shipped classifier that implements it
    "early": "clf-early",
    "intermediate": "clf-intermediate-concat",
    "late": "clf-late",
}
AVAILABLE_INPUTS: dict[str, str] = {  # what the scanner gave -> the scores column's subset
    "CT and MR": "all",
    "CT only": "CT",
    "MR only": "MR-T1+MR-T2",
}
TRADE_OFFS: dict[str, dict[str, str]] = {
    "early": {
        "how": "stack CT and MR as channels of one image, one network",
        "alignment": "needs voxel-exact registration: every pixel pairs CT and MR",
        "missing modality": "breaks: a blank channel is an input it never saw",
        "interpretability": "one map; which modality mattered is hard to say",
        "data needs": "fewest parameters; learns low-level interactions, but from one joint input",
    },
    "intermediate": {
        "how": "one encoder per modality, features fused (concatenated) before a shared head",
        "alignment": "tolerates small shifts: features are pooled before fusion",
        "missing modality": "needs a stand-in for the missing features (dropout in training helps)",
        "interpretability": "per-modality features can be inspected",
        "data needs": "most flexible (learns interactions), so most data hungry: low bias, higher variance",
    },
    "late": {
        "how": "one full classifier per modality, their probabilities averaged",
        "alignment": "none needed: each modality is read on its own",
        "missing modality": "graceful: average what is there",
        "interpretability": "each modality's vote is visible",
        "data needs": "each branch learns alone; cannot learn interactions: higher bias, lower variance",
    },
}


@dataclass(frozen=True)
class MeasuredAUC:
    """One architecture's AUC on the demo subjects for one set of inputs.

    Attributes:
        architecture: "early", "intermediate" or "late".
        model: the shipped classifier's name.
        inputs: a key of :data:`AVAILABLE_INPUTS`.
        auc, low, high: AUC and its 95 % bootstrap interval; None when not available.
        n: subjects scored (0 when not available).
        note: why it is not available ("" when it is).
    """

    architecture: str
    model: str
    inputs: str
    auc: float | None
    low: float | None
    high: float | None
    n: int
    note: str = ""


def measured_auc(model_dir: str | Path, architecture: str, inputs: str, *, n_boot: int = 500) -> MeasuredAUC:
    """AUC (with a bootstrap interval) of one shipped classifier's demo scores for ``inputs``.

    A missing or unreadable scores file, or no column for these inputs, gives an entry with
    ``auc=None`` and the reason in ``note`` rather than an error: the demo shows what there is.
    """
    name = Path(model_dir).name
    try:
        labels, scores = read_scores(model_dir).scores(AVAILABLE_INPUTS[inputs], split=None)
        result = auc_with_ci(labels, scores, n_boot=n_boot)
    except EvaluationError as error:
        return MeasuredAUC(architecture, name, inputs, None, None, None, 0, str(error))
    return MeasuredAUC(architecture, name, inputs, result.auc, result.low, result.high, len(labels))


def measured_aucs(models_dir: str | Path, inputs: str, *, n_boot: int = 500) -> list[MeasuredAUC]:
    """:func:`measured_auc` of early, intermediate and late fusion (``models_dir/<model>``)."""
    return [
        measured_auc(Path(models_dir) / model, arch, inputs, n_boot=n_boot) for arch, model in ARCHITECTURES.items()
    ]


def trade_off_rows(trade_offs: Mapping[str, Mapping[str, str]] = TRADE_OFFS) -> list[dict[str, str]]:
    """The trade-offs as table rows: one per aspect, one column per architecture."""
    aspects = next(iter(trade_offs.values())).keys()
    return [{"": aspect, **{arch: table[aspect] for arch, table in trade_offs.items()}} for aspect in aspects]

"""Evaluation: subject scoring, ROC/AUC with bootstrap CIs, the clinicians' table, the independence
bound, calibration, per-subject scores files, SynthRAD-style image metrics and a tissue-class
MR->CT baseline."""

from fusion_core.evaluation.baselines import TissueClassMapper, fit_tissue_mapper
from fusion_core.evaluation.bound import dprime, independence_bound, independence_bound_roc
from fusion_core.evaluation.calibration import (
    ReliabilityCurve,
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    probability_to_logit,
    reliability_curve,
)
from fusion_core.evaluation.errors import EvaluationError
from fusion_core.evaluation.generation import TISSUES, GenerationMetrics, generation_metrics, tissue_masks
from fusion_core.evaluation.image_metrics import bone_dice, image_metrics, image_metrics_volume, mae_hu, psnr, ssim
from fusion_core.evaluation.roc import (
    AUCDifference,
    AUCResult,
    RocBand,
    RocCurve,
    auc_difference_ci,
    auc_score,
    auc_with_ci,
    roc_band,
    roc_curve_points,
    roc_with_ci,
)
from fusion_core.evaluation.scores_io import (
    ScoresTable,
    read_scores,
    score_column,
    scores_dirs,
    uncertainty_column,
    write_scores,
)
from fusion_core.evaluation.scoring import TOP_K, subject_score, subject_scores, top_slices
from fusion_core.evaluation.summary import RocSummary, roc_summaries, strategy_roc
from fusion_core.evaluation.table import ClassificationTable, MetricSummary, classification_table, youden_threshold

__all__ = [
    "TISSUES",
    "TOP_K",
    "AUCDifference",
    "AUCResult",
    "ClassificationTable",
    "EvaluationError",
    "GenerationMetrics",
    "MetricSummary",
    "ReliabilityCurve",
    "RocBand",
    "RocCurve",
    "RocSummary",
    "ScoresTable",
    "TissueClassMapper",
    "apply_temperature",
    "auc_difference_ci",
    "auc_score",
    "auc_with_ci",
    "bone_dice",
    "classification_table",
    "dprime",
    "expected_calibration_error",
    "fit_temperature",
    "fit_tissue_mapper",
    "generation_metrics",
    "image_metrics",
    "image_metrics_volume",
    "independence_bound",
    "independence_bound_roc",
    "mae_hu",
    "probability_to_logit",
    "psnr",
    "read_scores",
    "reliability_curve",
    "roc_band",
    "roc_curve_points",
    "roc_summaries",
    "roc_with_ci",
    "score_column",
    "scores_dirs",
    "ssim",
    "strategy_roc",
    "subject_score",
    "subject_scores",
    "tissue_masks",
    "top_slices",
    "uncertainty_column",
    "write_scores",
    "youden_threshold",
]

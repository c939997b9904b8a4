"""Evaluation: ROC/AUC with bootstrap CIs, SynthRAD-style image metrics, a tissue-class MR->CT baseline."""

from fusion_core.evaluation.baselines import TissueClassMapper, fit_tissue_mapper
from fusion_core.evaluation.errors import EvaluationError
from fusion_core.evaluation.image_metrics import bone_dice, image_metrics, image_metrics_volume, mae_hu, psnr, ssim
from fusion_core.evaluation.roc import (
    AUCDifference,
    AUCResult,
    auc_difference_ci,
    auc_score,
    auc_with_ci,
    roc_curve_points,
)

__all__ = [
    "AUCDifference",
    "AUCResult",
    "EvaluationError",
    "TissueClassMapper",
    "auc_difference_ci",
    "auc_score",
    "auc_with_ci",
    "bone_dice",
    "fit_tissue_mapper",
    "image_metrics",
    "image_metrics_volume",
    "mae_hu",
    "psnr",
    "roc_curve_points",
    "ssim",
]

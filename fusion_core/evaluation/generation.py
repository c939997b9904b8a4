"""Metrics of a generated volume against the real one: the whole head, and per tissue.

One function serves the generation benchmark, the Cross-modal Generation page and the batch
pipeline, so a number on the page is the number in the benchmark. CT follows SynthRAD2023's
definition (:mod:`fusion_core.evaluation.image_metrics`): MAE in HU inside the head; PSNR of both
volumes clipped to [-1024, 3000] HU with data range 4024 HU; one 3-D SSIM of the volumes clipped,
set to -1024 outside the head and shifted to start at 0, its map averaged over the head 3 voxels in
from the borders. MR has no physical unit: it keeps its own scale (divided by the real MR's 99th
percentile inside the head, then clipped to [0, 1.5], :data:`MR_WINDOW`), so MAE is a fraction of
bright tissue, and PSNR and SSIM are computed the same way as for CT on that scale with a data
range of 1 (the 99th percentile); outside the head is 0 before SSIM.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from fusion_core.constants import BONE_HU
from fusion_core.evaluation.image_metrics import IntensityWindow, bone_dice, mae_hu, psnr, ssim

TISSUES: tuple[str, ...] = ("bone", "soft tissue", "brain")
"""Tissue classes of the per-tissue MAE: bone (real CT > 300 HU), brain (a brain mask, when known,
bone excluded) and soft tissue (the rest of the head)."""


@dataclasses.dataclass(frozen=True)
class GenerationMetrics:
    """Metrics of one generated volume inside the head mask.

    Attributes:
        target: "CT" (HU) or "MR" (fraction of the real MR's 99th percentile in the head).
        mae: mean absolute error inside the head (HU for CT).
        psnr_db: PSNR (data range 4024 HU for CT, 1 for MR).
        ssim: SynthRAD2023's SSIM: one 3-D SSIM map, averaged inside the head.
        bone_dice: Dice of HU > 300 (CT only; NaN for MR).
        tissue_mae: tissue -> MAE in that tissue (NaN where the tissue is absent or unknown).
    """

    target: str
    mae: float
    psnr_db: float
    ssim: float
    bone_dice: float
    tissue_mae: dict[str, float]

    def as_row(self) -> dict[str, float]:
        """A flat dict for a table row: mae, psnr_db, ssim, bone_dice, mae_bone, mae_soft_tissue, mae_brain."""
        row = {"mae": self.mae, "psnr_db": self.psnr_db, "ssim": self.ssim, "bone_dice": self.bone_dice}
        row.update({f"mae_{t.replace(' ', '_')}": v for t, v in self.tissue_mae.items()})
        return row


def tissue_masks(real_ct: np.ndarray, head: np.ndarray, brain: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Boolean masks of :data:`TISSUES` inside ``head``, from the real CT (bone) and a brain mask.

    Without a brain mask the brain is unknown: "brain" is an empty mask and "soft tissue" is all
    non-bone head tissue.
    """
    head = np.asarray(head, bool)
    bone = head & (np.asarray(real_ct) > BONE_HU)
    brain_mask = head & ~bone & np.asarray(brain, bool) if brain is not None else np.zeros_like(head)
    return {"bone": bone, "soft tissue": head & ~bone & ~brain_mask, "brain": brain_mask}


def _masked_mae(pred: np.ndarray, true: np.ndarray, mask: np.ndarray) -> float:
    return float(np.abs(pred - true)[mask].mean()) if mask.any() else float("nan")


MR_WINDOW = IntensityWindow(0.0, 1.5, data_range=1.0)
"""An MR's values in units of the real MR's 99th percentile inside the head: clipped to [0, 1.5], peak 1."""


def mr_scale(real_mr: np.ndarray, head: np.ndarray) -> float:
    """The real MR's 99th percentile inside the head: the unit MR errors are expressed in."""
    values = np.asarray(real_mr, np.float64)[np.asarray(head, bool)]
    scale = float(np.percentile(values, 99)) if values.size else 0.0
    return scale if scale > 0 else 1.0


def _ct_summary(generated: np.ndarray, real: np.ndarray, head: np.ndarray) -> tuple[tuple, np.ndarray, np.ndarray]:
    """((MAE, PSNR, SSIM, bone Dice), generated, real as float) of a CT in SynthRAD2023's definition."""
    summary = (mae_hu(generated, real, head), psnr(generated, real, head), ssim(generated, real, head))
    return (*summary, bone_dice(generated, real, head)), generated.astype(np.float64), real.astype(np.float64)


def _mr_summary(generated: np.ndarray, real: np.ndarray, head: np.ndarray) -> tuple[tuple, np.ndarray, np.ndarray]:
    """((MAE, PSNR, SSIM, NaN), generated, real on the MR scale) of an MR: CT's metrics on :data:`MR_WINDOW`."""
    scale = mr_scale(real, head)
    p, t = np.asarray(generated, np.float64) / scale, np.asarray(real, np.float64) / scale
    p_clip, t_clip = (np.clip(a, MR_WINDOW.low, MR_WINDOW.high) for a in (p, t))
    mae = _masked_mae(p_clip, t_clip, head)
    summary = (mae, psnr(p, t, head, window=MR_WINDOW), ssim(p, t, head, window=MR_WINDOW), float("nan"))
    return summary, p_clip, t_clip


def generation_metrics(
    generated: np.ndarray,
    real: np.ndarray,
    head: np.ndarray,
    *,
    target: str = "CT",
    real_ct: np.ndarray | None = None,
    brain: np.ndarray | None = None,
) -> GenerationMetrics:
    """Whole-head and per-tissue metrics of ``generated`` against ``real`` (both (z, y, x), one grid).

    Args:
        generated, real: the generated and the real ``target`` volume (HU for CT).
        head: boolean head mask; metrics are computed inside it.
        target: "CT" or "MR".
        real_ct: the real CT, which defines bone for the per-tissue split of an MR target
            (for a CT target it is ``real``); without it an MR target's tissue MAE is NaN.
        brain: optional boolean brain mask (the phantom's truth) for the "brain" tissue.

    Raises:
        ValueError: shapes differ, an empty head mask, or an unknown target.
    """
    generated, real, head = np.asarray(generated), np.asarray(real), np.asarray(head, bool)
    if generated.shape != real.shape or head.shape != real.shape:
        raise ValueError(f"generated {generated.shape}, real {real.shape} and head {head.shape} must match")
    if not head.any():
        raise ValueError("the head mask is empty: nothing to compare")
    goal = str(target).upper()
    if goal == "CT":
        summary, p, t = _ct_summary(generated, real, head)
        tissues = tissue_masks(real, head, brain)
    elif goal.startswith("MR"):
        goal = "MR"
        summary, p, t = _mr_summary(generated, real, head)
        tissues = tissue_masks(real_ct, head, brain) if real_ct is not None else None
    else:
        raise ValueError(f"target must be 'CT' or 'MR', got {target!r}")
    tissue_mae = (
        {k: _masked_mae(p, t, m) for k, m in tissues.items()} if tissues else dict.fromkeys(TISSUES, float("nan"))
    )
    return GenerationMetrics(goal, *summary, tissue_mae)

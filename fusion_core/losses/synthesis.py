"""Objectives of the paired generators: masked L1 in HU with heavier bone, and conditional flow matching."""

from __future__ import annotations

import dataclasses

import torch

from fusion_core.constants import BONE_HU
from fusion_core.preprocess.network import CT_KNOTS_HU, CT_KNOTS_UNIT

HU_SCALE = 1000.0
"""CT errors enter the loss in kHU, so a loss of 0.03 is a 30 HU mean absolute error."""


@dataclasses.dataclass(frozen=True)
class SynthesisLossWeights:
    """Weights of the synthesis U-Net's masked L1.

    Attributes:
        l1: weight of the whole term.
        bone_weight: pixel weight where the real CT is bone (> 300 HU); CT targets only.
        outside_weight: pixel weight outside the head mask (inside: 1), so the air stays air.
    """

    l1: float = 1.0
    bone_weight: float = 3.0
    outside_weight: float = 0.1


@dataclasses.dataclass(frozen=True)
class DiffusionLossWeights:
    """Weights of the flow-matching refiner's objective.

    Attributes:
        flow: weight of the velocity regression (mean squared error).
        outside_weight: pixel weight outside the head mask (inside: 1).
    """

    flow: float = 1.0
    outside_weight: float = 0.1


def unit_to_hu(unit: torch.Tensor) -> torch.Tensor:
    """Differentiable network units -> HU: the piecewise-linear CT scale, extended linearly beyond [-1, 1]."""
    knots_u = torch.as_tensor(CT_KNOTS_UNIT, dtype=unit.dtype, device=unit.device)
    knots_h = torch.as_tensor(CT_KNOTS_HU, dtype=unit.dtype, device=unit.device)
    idx = torch.bucketize(unit.detach().contiguous(), knots_u[1:-1])  # a channel view is strided
    slope = (knots_h[1:] - knots_h[:-1]) / (knots_u[1:] - knots_u[:-1])
    return knots_h[idx] + (unit - knots_u[idx]) * slope[idx]


def pixel_weights(head: torch.Tensor, outside_weight: float, bone: torch.Tensor | None = None, bone_weight=1.0):
    """(B, 1, S, S) weights: 1 in the head, ``outside_weight`` outside, ``bone_weight`` on bone."""
    w = outside_weight + head * (1.0 - outside_weight)
    return w if bone is None else torch.where(bone, torch.full_like(w, bone_weight), w)


def synthesis_terms(
    pred: torch.Tensor, target: torch.Tensor, head: torch.Tensor, modality: str, weights: SynthesisLossWeights
) -> dict[str, torch.Tensor]:
    """{"l1": weighted mean absolute error}: in kHU for a CT target (bone weighted), in network units for MR.

    Args:
        pred: (with ``target``) (B, 1, S, S) in network units.
        target: see ``pred``.
        head: (B, 1, S, S) head mask (0/1).
        modality: "CT" or "MR", the target.
        weights: the loss weights (bone weighting of a CT target).
    """
    if modality == "CT":
        true_hu = unit_to_hu(target)
        error = (unit_to_hu(pred) - true_hu).abs() / HU_SCALE
        w = pixel_weights(head, weights.outside_weight, true_hu > BONE_HU, weights.bone_weight)
    else:
        error = (pred - target).abs()
        w = pixel_weights(head, weights.outside_weight)
    return {"l1": (w * error).sum() / w.sum()}


def flow_matching_terms(
    velocity: torch.Tensor, noise: torch.Tensor, data: torch.Tensor, head: torch.Tensor, weights: DiffusionLossWeights
) -> dict[str, torch.Tensor]:
    """{"flow": weighted MSE of the predicted velocity against ``data - noise``} (rectified flow)."""
    w = pixel_weights(head, weights.outside_weight)
    return {"flow": (w * (velocity - (data - noise)) ** 2).sum() / w.sum()}

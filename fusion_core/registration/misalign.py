"""Deliberate misregistration, for showing how mutual information and TRE respond (teaching)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import SimpleITK as sitk

from fusion_core.preprocess.resample import resample_to
from fusion_core.registration.quality import gradient_correlation, mutual_information
from fusion_core.registration.tre import target_registration_error
from fusion_core.volume import Volume


def perturbation(
    center_mm: Sequence[float], *, shift_mm=(0.0, 0.0, 0.0), rotation_deg=(0.0, 0.0, 0.0)
) -> sitk.Euler3DTransform:
    """A rigid transform of fixed space: rotate (degrees about x, y, z) about ``center_mm``, then shift (mm)."""
    transform = sitk.Euler3DTransform()
    transform.SetCenter([float(c) for c in center_mm])
    transform.SetRotation(*np.deg2rad(np.asarray(rotation_deg, dtype=np.float64)).tolist())
    transform.SetTranslation([float(t) for t in shift_mm])
    return transform


def misaligned(transform: sitk.Transform, center_mm: Sequence[float], **offset) -> sitk.Transform:
    """``transform`` composed with a :func:`perturbation` applied first: p -> transform(P(p))."""
    return sitk.CompositeTransform([transform, perturbation(center_mm, **offset)])


def misalignment_effect(
    fixed: Volume,
    moving: Volume,
    transform: sitk.Transform,
    *,
    shift_mm=(0.0, 0.0, 0.0),
    rotation_deg=(0.0, 0.0, 0.0),
    true_transform: sitk.Transform | None = None,
    points_mm: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> dict:
    """Misalign a registration on purpose and measure what happens.

    Args:
        fixed, moving: the registered pair.
        transform: the registration's fixed -> moving transform.
        shift_mm, rotation_deg: the deliberate error, in fixed space about the fixed image's centre.
        true_transform, points_mm: ground truth and TRE points (fixed space); TRE is None without them.
        mask: (z, y, x) bool on the fixed grid restricting MI and edge alignment.

    Returns:
        {"resampled": Volume, "mutual_information": bits, "gradient_correlation": float,
         "tre_mm": (n,) array or None, "transform": the misaligned transform}.
    """
    bad = misaligned(transform, fixed.center_mm, shift_mm=shift_mm, rotation_deg=rotation_deg)
    resampled = resample_to(moving, fixed, transform=bad)
    tre = None
    if true_transform is not None and points_mm is not None:
        tre = target_registration_error(bad, true_transform, points_mm)
    return {
        "resampled": resampled,
        "mutual_information": mutual_information(fixed.array, resampled.array, mask=mask),
        "gradient_correlation": gradient_correlation(fixed.array, resampled.array, mask=mask),
        "tre_mm": tre,
        "transform": bad,
    }


def misalignment_profile(
    fixed: Volume,
    moving: Volume,
    transform: sitk.Transform,
    *,
    offsets_mm: Sequence[float] = tuple(np.arange(-20.0, 20.5, 2.5)),
    axis: int = 0,
    true_transform: sitk.Transform | None = None,
    points_mm: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Mutual information (and TRE) as the registration is shifted along one physical axis.

    Args:
        axis: 0, 1, 2 for x (left-right), y (front-back), z (up-down) in LPS.
        offsets_mm: shifts to try.

    Returns:
        {"offset_mm": (k,), "mutual_information": (k,), "tre_median_mm": (k,) or NaN without ground truth}.
    """
    rows = []
    for offset in offsets_mm:
        shift = [0.0, 0.0, 0.0]
        shift[axis] = float(offset)
        effect = misalignment_effect(
            fixed, moving, transform, shift_mm=shift, true_transform=true_transform, points_mm=points_mm, mask=mask
        )
        tre = effect["tre_mm"]
        rows.append((offset, effect["mutual_information"], np.nan if tre is None else float(np.median(tre))))
    table = np.array(rows, dtype=np.float64)
    return {"offset_mm": table[:, 0], "mutual_information": table[:, 1], "tre_median_mm": table[:, 2]}

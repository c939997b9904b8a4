"""Deliberate misregistration, for showing how mutual information and TRE respond (teaching)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from fusion_core.preprocess.resample import resample_to
from fusion_core.registration.quality import alignment_quality
from fusion_core.registration.tre import target_registration_error
from fusion_core.volume import Volume


@dataclass(frozen=True)
class MisalignmentEffect:
    """What a deliberate misregistration does.

    Attributes:
        resampled: the moving image on the fixed grid through the misaligned transform.
        mutual_information: bits, inside the mask.
        gradient_correlation: edge alignment inside the mask (-1..1).
        tre_mm: (n,) target registration error per point in mm, or None without ground truth.
        transform: the misaligned fixed -> moving transform.
    """

    resampled: Volume
    mutual_information: float
    gradient_correlation: float
    tre_mm: np.ndarray | None
    transform: sitk.Transform

    @property
    def tre_median_mm(self) -> float | None:
        """Median TRE in mm, or None without ground truth."""
        return None if self.tre_mm is None else float(np.median(self.tre_mm))


@dataclass(frozen=True)
class MisalignmentProfile:
    """Mutual information and median TRE against a deliberate shift along one axis.

    Attributes:
        offset_mm: (k,) shifts tried, in mm.
        mutual_information: (k,) bits at each shift.
        tre_median_mm: (k,) median TRE in mm at each shift; NaN without ground truth.
    """

    offset_mm: np.ndarray
    mutual_information: np.ndarray
    tre_median_mm: np.ndarray


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
) -> MisalignmentEffect:
    """Misalign a registration on purpose and measure what happens.

    Args:
        fixed, moving: the registered pair.
        transform: the registration's fixed -> moving transform.
        shift_mm, rotation_deg: the deliberate error, in fixed space about the fixed image's centre.
        true_transform, points_mm: ground truth and TRE points (fixed space); TRE is None without them.
        mask: (z, y, x) bool on the fixed grid restricting MI and edge alignment.

    Returns:
        The resampled image, its MI and edge alignment, the TRE (None without ground truth) and the transform.
    """
    bad = misaligned(transform, fixed.center_mm, shift_mm=shift_mm, rotation_deg=rotation_deg)
    resampled = resample_to(moving, fixed, transform=bad)
    tre = None
    if true_transform is not None and points_mm is not None:
        tre = target_registration_error(bad, true_transform, points_mm)
    quality = alignment_quality(fixed.array, resampled.array, mask=mask)
    return MisalignmentEffect(
        resampled=resampled,
        mutual_information=quality.mutual_information,
        gradient_correlation=quality.gradient_correlation,
        tre_mm=tre,
        transform=bad,
    )


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
) -> MisalignmentProfile:
    """Mutual information (and TRE) as the registration is shifted along one physical axis.

    Args:
        axis: 0, 1, 2 for x (left-right), y (front-back), z (up-down) in LPS.
        offsets_mm: shifts to try.

    Returns:
        MI and median TRE (NaN without ground truth) at each offset.
    """
    rows = []
    for offset in offsets_mm:
        shift = [0.0, 0.0, 0.0]
        shift[axis] = float(offset)
        effect = misalignment_effect(
            fixed, moving, transform, shift_mm=shift, true_transform=true_transform, points_mm=points_mm, mask=mask
        )
        tre = effect.tre_median_mm
        rows.append((offset, effect.mutual_information, np.nan if tre is None else tre))
    table = np.array(rows, dtype=np.float64)
    return MisalignmentProfile(offset_mm=table[:, 0], mutual_information=table[:, 1], tre_median_mm=table[:, 2])

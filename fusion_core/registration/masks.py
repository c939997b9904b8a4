"""Foreground (head) masks that restrict the registration metric to the anatomy.

The masks themselves come from :mod:`fusion_core.preprocess.masks` (one rule for the whole app);
this module adds what registration needs: an error when a mask is empty, and SimpleITK images.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from fusion_core.constants import HEAD_HU
from fusion_core.preprocess.masks import ct_head_mask as _ct_mask
from fusion_core.preprocess.masks import mr_head_mask
from fusion_core.registration.errors import RegistrationError
from fusion_core.volume import Volume


def head_mask_array(volume: Volume, *, ct_threshold_hu: float = HEAD_HU) -> np.ndarray:
    """Boolean (z, y, x) head mask: HU above ``ct_threshold_hu`` for CT, the MR head mask otherwise.

    Raises:
        RegistrationError: the mask is empty.
    """
    if volume.modality == "CT":
        mask = _ct_mask(volume.array, threshold_hu=ct_threshold_hu)
    else:
        mask = mr_head_mask(volume.array)
    if not mask.any():
        raise RegistrationError(
            f"no foreground in {volume.modality} image {volume.name!r} "
            f"(CT threshold {ct_threshold_hu:g} HU); register without a head mask, or check the scan's values"
        )
    return mask


def ct_head_mask(volume: Volume, *, ct_threshold_hu: float = HEAD_HU) -> np.ndarray | None:
    """The CT head mask of a CT volume; None for other modalities, so that image metrics then use
    every voxel."""
    return _ct_mask(volume.array, threshold_hu=ct_threshold_hu) if volume.modality == "CT" else None


def head_mask_image(volume: Volume, *, ct_threshold_hu: float = HEAD_HU, dilate_voxels: int = 2) -> sitk.Image:
    """:func:`head_mask_array` as a uint8 SimpleITK image on the volume's grid, dilated so edges count."""
    return mask_image(volume, head_mask_array(volume, ct_threshold_hu=ct_threshold_hu), dilate_voxels=dilate_voxels)


def mask_image(volume: Volume, mask: np.ndarray, *, dilate_voxels: int = 2) -> sitk.Image:
    """A (z, y, x) boolean ``mask`` as a uint8 SimpleITK image on ``volume``'s grid, dilated so edges count."""
    image = sitk.GetImageFromArray(mask.astype(np.uint8))
    image.SetSpacing(volume.spacing)  # the grid only: volume.to_sitk() would copy every voxel
    image.SetOrigin(volume.origin)
    image.SetDirection(volume.direction)
    if dilate_voxels > 0:
        image = sitk.BinaryDilate(image, [dilate_voxels] * 3)
    return image


def overlap_mask(fixed: Volume, moving: Volume, transform: sitk.Transform | None = None) -> np.ndarray:
    """Boolean (z, y, x) mask on ``fixed``'s grid: the voxels whose point, mapped by ``transform``
    (fixed -> moving physical points; identity when None), lies inside ``moving``'s field of view.

    Used to keep metrics and models to the part of a scan the other scan saw.
    """
    ones = sitk.Image(list(moving.size_xyz), sitk.sitkUInt8) + 1
    ones.SetSpacing(moving.spacing)
    ones.SetOrigin(moving.origin)
    ones.SetDirection(moving.direction)
    reference = sitk.Image(list(fixed.size_xyz), sitk.sitkUInt8)
    reference.SetSpacing(fixed.spacing)
    reference.SetOrigin(fixed.origin)
    reference.SetDirection(fixed.direction)
    transform = transform if transform is not None else sitk.Transform(3, sitk.sitkIdentity)
    inside = sitk.Resample(ones, reference, transform, sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
    return sitk.GetArrayFromImage(inside) > 0


def head_coverage(head: np.ndarray, in_view: np.ndarray) -> float:
    """Fraction (0 to 1) of the ``head`` voxels inside ``in_view`` (same grid); 1 for an empty head."""
    total = int(np.count_nonzero(head))
    return float(np.count_nonzero(head & in_view) / total) if total else 1.0

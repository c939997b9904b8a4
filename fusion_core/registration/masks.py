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
            f"(CT threshold {ct_threshold_hu:g} HU); pass mask='none'"
        )
    return mask


def ct_head_mask(volume: Volume, *, ct_threshold_hu: float = HEAD_HU) -> np.ndarray | None:
    """The CT head mask of a CT volume; None for other modalities, so that image metrics then use
    every voxel."""
    return _ct_mask(volume.array, threshold_hu=ct_threshold_hu) if volume.modality == "CT" else None


def head_mask_image(volume: Volume, *, ct_threshold_hu: float = HEAD_HU, dilate_voxels: int = 2) -> sitk.Image:
    """:func:`head_mask_array` as a uint8 SimpleITK image on the volume's grid, dilated so edges count."""
    image = sitk.GetImageFromArray(head_mask_array(volume, ct_threshold_hu=ct_threshold_hu).astype(np.uint8))
    image.SetSpacing(volume.spacing)  # the grid only: volume.to_sitk() would copy every voxel
    image.SetOrigin(volume.origin)
    image.SetDirection(volume.direction)
    if dilate_voxels > 0:
        image = sitk.BinaryDilate(image, [dilate_voxels] * 3)
    return image

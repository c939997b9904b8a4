"""Foreground (head) masks that restrict the registration metric to the anatomy."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from fusion_core.registration.errors import RegistrationError
from fusion_core.volume import Volume


def head_mask_array(volume: Volume, *, ct_threshold_hu: float = -500.0) -> np.ndarray:
    """Boolean (z, y, x) foreground: HU above ``ct_threshold_hu`` for CT, Otsu's threshold otherwise."""
    if volume.modality == "CT":
        mask = volume.array > ct_threshold_hu
    else:
        otsu = sitk.OtsuThreshold(volume.to_sitk(), 0, 1, 128)
        mask = sitk.GetArrayFromImage(otsu).astype(bool)
    if not mask.any():
        raise RegistrationError(
            f"no foreground in {volume.modality} image {volume.name!r} "
            f"(CT threshold {ct_threshold_hu:g} HU); pass mask='none'"
        )
    return mask


def ct_head_mask(volume: Volume, *, ct_threshold_hu: float = -500.0) -> np.ndarray | None:
    """CT voxels above ``ct_threshold_hu`` (the head, without air); None for other modalities, so that
    image metrics then use every voxel."""
    return volume.array > ct_threshold_hu if volume.modality == "CT" else None


def head_mask_image(volume: Volume, *, ct_threshold_hu: float = -500.0, dilate_voxels: int = 2) -> sitk.Image:
    """:func:`head_mask_array` as a uint8 SimpleITK image on the volume's grid, dilated so edges count."""
    image = sitk.GetImageFromArray(head_mask_array(volume, ct_threshold_hu=ct_threshold_hu).astype(np.uint8))
    image.CopyInformation(volume.to_sitk())
    if dilate_voxels > 0:
        image = sitk.BinaryDilate(image, [dilate_voxels] * 3)
    return image

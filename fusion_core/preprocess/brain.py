"""Which axial slices cut through the brain: an intracranial-area estimate per slice, from CT or MR.

The lesion classifiers are trained on slices whose brain section is at least ``min_brain_fraction``
of the subject's largest one (the phantom knows its brain mask). At inference there is no brain
mask, so this estimates the intracranial area of each slice from the image itself, and
``fusion_core.inference.classify`` scores a subject only over the slices that pass the same rule,
instead of over neck and vertex slices the classifier never saw.

* CT: the skull (HU above ``bone_hu``) is filled slice by slice; the intracranial area is the
  filled interior minus the bone. An open ring (skull base, foramina) gives little area: those
  slices drop out, as they should.
* MR: the skull has no signal, so the head mask (Otsu, holes filled) is eroded by
  ``scalp_skull_mm`` (scalp plus skull thickness) and what is left counts as intracranial. This
  is coarser than the CT rule: it keeps the broad face and skull-base slices too (measured on
  the phantom: every brain slice kept, plus about 25 slices below the brain), so it only
  removes the vertex and the smallest sections.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from fusion_core.constants import BONE_HU, TISSUE_HU
from fusion_core.preprocess.masks import mr_head_mask
from fusion_core.volume import Volume, is_mr, normalise_modality

SCALP_SKULL_MM = 12.0


def _ct_intracranial(array: np.ndarray, bone_hu: float) -> np.ndarray:
    bone = array > bone_hu
    inside = np.stack([ndimage.binary_fill_holes(s) for s in bone]) & ~bone
    return inside & (array > TISSUE_HU)


def _mr_intracranial(array: np.ndarray, spacing_xy: tuple[float, float], depth_mm: float) -> np.ndarray:
    head = mr_head_mask(array)
    sampling = (spacing_xy[1], spacing_xy[0])  # (y, x) pixel size in mm
    return np.stack([ndimage.distance_transform_edt(s, sampling=sampling) > depth_mm for s in head])


def intracranial_area(
    volume: Volume, *, bone_hu: float = BONE_HU, scalp_skull_mm: float = SCALP_SKULL_MM
) -> np.ndarray:
    """(z,) estimated intracranial area of each axial slice, in mm^2 (see the module docstring).

    Raises:
        ValueError: the volume is neither CT nor MR.
    """
    modality = normalise_modality(volume.modality)
    pixel_mm2 = float(volume.spacing[0] * volume.spacing[1])
    if modality == "CT":
        inside = _ct_intracranial(volume.array, bone_hu)
    elif is_mr(modality):
        inside = _mr_intracranial(volume.array, (volume.spacing[0], volume.spacing[1]), scalp_skull_mm)
    else:
        raise ValueError(f"intracranial area needs a CT or MR volume, not {volume.modality!r}")
    return inside.reshape(inside.shape[0], -1).sum(1) * pixel_mm2


def brain_slices(volume: Volume, min_fraction: float) -> np.ndarray:
    """Indices of the axial slices whose estimated intracranial area is large enough.

    At least ``min_fraction`` of the largest slice's; all slices when ``min_fraction`` <= 0 or no
    intracranial area is found.
    """
    n = volume.shape[0]
    if min_fraction <= 0:
        return np.arange(n)
    area = intracranial_area(volume)
    if area.max() <= 0:
        return np.arange(n)
    return np.flatnonzero(area >= min_fraction * area.max())

"""Checks and repairs shared by every reader: size caps, non-finite voxels, modality.

Array functions first (pure numpy, tested directly); the readers call them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fusion_core.io.errors import VolumeLoadError
from fusion_core.volume import is_mr, normalise_modality

#: Refuse images whose header claims more voxels than this (before allocating anything).
#: Override per call (``max_voxels=``) or for the process with ``FUSION_MAX_VOXELS``.
DEFAULT_MAX_VOXELS = 512 * 2**20


def max_voxels_setting(max_voxels: int | None = None) -> int:
    """The voxel cap to use: the argument, else ``$FUSION_MAX_VOXELS``, else the default."""
    if max_voxels is not None:
        return int(max_voxels)
    return int(os.environ.get("FUSION_MAX_VOXELS", DEFAULT_MAX_VOXELS))


def check_header_shape(path: Path, shape: Sequence[int], *, max_voxels: int) -> int:
    """Refuse a header-declared shape that is empty or too large; return its voxel count.

    Args:
        path: the file, for the message.
        shape: sizes the header declares (any order, any number of axes).
        max_voxels: cap on the product of the sizes.

    Raises:
        VolumeLoadError: a zero-sized or negative axis, or more voxels than ``max_voxels``.
    """
    sizes = [int(n) for n in shape]
    if not sizes or min(sizes) <= 0:
        raise VolumeLoadError(path, f"the header declares a zero-sized axis (shape {tuple(sizes)})")
    voxels = int(np.prod(sizes, dtype=object))
    if voxels > max_voxels:
        raise VolumeLoadError(
            path,
            f"the header declares {voxels:,} voxels (shape {tuple(sizes)}), above the limit of {max_voxels:,}; "
            "refusing to allocate it (raise FUSION_MAX_VOXELS if the image is genuine)",
        )
    return voxels


def check_data_fits(path: Path, *, needed_bytes: int, available_bytes: int) -> None:
    """Refuse an uncompressed file whose header claims more voxel data than the file holds."""
    if needed_bytes > available_bytes:
        raise VolumeLoadError(
            path,
            f"the header declares {needed_bytes:,} bytes of voxel data but the file holds only "
            f"{max(available_bytes, 0):,} after its header: the file is truncated or its header is wrong",
        )


def repair_non_finite(array: np.ndarray) -> tuple[np.ndarray, int]:
    """Replace NaN/Inf voxels with the minimum finite value.

    Args:
        array: any shape, float.

    Returns:
        (repaired array, number of voxels replaced). The input is returned untouched when
        every voxel is finite.

    Raises:
        ValueError: when no voxel is finite.
    """
    finite = np.isfinite(array)
    n_bad = int(array.size - np.count_nonzero(finite))
    if n_bad == 0:
        return array, 0
    if n_bad == array.size:
        raise ValueError("every voxel is NaN or infinite")
    repaired = np.where(finite, array, array[finite].min()).astype(array.dtype, copy=False)
    return repaired, n_bad


def looks_like_ct(array: np.ndarray) -> bool:
    """Guess whether intensities are CT Hounsfield units: air near −1000 HU, values in HU range.

    Air surrounds every head/body CT, so a sizeable share of voxels sits near −1000 HU
    (padding outside the field of view may go down to −3024). MR intensities are non-negative
    or z-scored and essentially never cluster there.
    """
    sample = np.asarray(array, dtype=np.float32).ravel()[:: max(1, array.size // 1_000_000)]
    sample = sample[np.isfinite(sample)]
    if sample.size == 0 or sample.min() < -3100 or sample.max() > 40_000:
        return False
    near_air = np.count_nonzero((sample > -1100) & (sample < -900)) / sample.size
    return bool(near_air >= 0.02 or -1100 < np.percentile(sample, 1) < -900)


def resolve_modality(
    *, tag: str | None, requested: str | None, stored: str | None, array: np.ndarray
) -> tuple[str, list[str]]:
    """Decide a volume's modality and explain the choice.

    Precedence: the DICOM Modality ``tag``, then the caller's ``requested`` modality, then a
    modality the file itself ``stored`` (our MHA/NRRD/NIfTI metadata), then a guess from
    the intensities. A more specific MR weighting refines a generic "MR" instead of
    conflicting with it (requested "MR-T1" over an "MR" tag; stored "MR-T1" over requested "MR").

    Returns:
        (modality, notes) — notes are empty unless something was guessed or overridden.
    """
    tag_name = normalise_modality(tag) if tag else None
    wanted = normalise_modality(requested) if requested else None
    if tag_name and tag_name != "UNKNOWN":
        if wanted and is_mr(wanted) and is_mr(tag_name):
            return wanted, []
        if wanted and wanted != tag_name:
            return tag_name, [
                f"modality {wanted!r} was requested but the DICOM Modality tag says {tag_name!r}; kept {tag_name!r}"
            ]
        return tag_name, []
    kept = normalise_modality(stored) if stored and normalise_modality(stored) != "UNKNOWN" else None
    if wanted:
        refines = wanted == "MR" and kept is not None and is_mr(kept)
        return (kept if refines else wanted), []
    if kept:
        return kept, []
    guess = "CT" if looks_like_ct(array) else "MR"
    reason = "air near -1000 HU" if guess == "CT" else "no air near -1000 HU"
    return guess, [f"modality not given: guessed {guess!r} from the intensities ({reason})"]

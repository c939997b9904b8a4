"""Export of the page's maps: overlays as PNG, raw maps as NIfTI on the input grid (one slice, its geometry)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import numpy as np
from PIL import Image

from fusion_core.io import volume_to_nifti_bytes
from fusion_core.volume import Volume


def png_bytes(rgb: np.ndarray) -> bytes:
    """(h, w, 3) uint8 RGB -> PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def slice_volume(map_2d: np.ndarray, reference: Volume, slice_index: int, *, name: str) -> Volume:
    """A (y, x) map as a one-slice Volume at slice ``slice_index`` of ``reference`` (same spacing and direction)."""
    origin = reference.index_to_physical((0, 0, slice_index))
    return Volume(
        np.asarray(map_2d, dtype=np.float32)[None],
        spacing=reference.spacing,
        origin=tuple(float(v) for v in origin),
        direction=reference.direction,
        modality="UNKNOWN",
        name=name,
    )


def maps_zip(maps: Mapping[str, np.ndarray], reference: Volume, slice_index: int) -> bytes:
    """A zip of one NIfTI per map (``<name>.nii.gz``), each on slice ``slice_index`` of the input grid."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, map_2d in maps.items():
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
            archive.writestr(
                f"{safe}.nii.gz", volume_to_nifti_bytes(slice_volume(map_2d, reference, slice_index, name=name))
            )
    return buffer.getvalue()

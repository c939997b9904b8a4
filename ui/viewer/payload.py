"""What the WebGL viewer receives: compact NIfTI bytes per volume and a JSON description of the panels.

No Streamlit here (testable headless). Volumes travel as 16-bit NIfTI (CT in whole HU, anything else
scaled through the header's slope), gzip-compressed, downsampled by a whole stride when a scan would
not fit the byte budget (a 512×512×400 CT goes at every second voxel), and remembered per volume
object so a rerun does not encode a scan again.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import math

import nibabel as nib
import numpy as np
from scipy import ndimage

from fusion_core.viz.display import display_window
from fusion_core.viz.views import default_window
from fusion_core.volume import Volume
from ui.per_volume import per_volume

# Streamlit's default server.maxMessageSize is 200 MB; stay well under it for a whole case (4 panels).
VOLUME_BUDGET_BYTES = 40_000_000
_INT16 = 32000.0


@dataclasses.dataclass(frozen=True)
class EncodedVolume:
    """One volume as the browser gets it.

    Attributes:
        nifti_gz: gzip-compressed NIfTI-1 bytes (int16 voxels, RAS affine of the shown grid).
        digest: short content hash (the browser's cache key).
        stride: every ``stride``-th voxel is shown along each axis (1 = full resolution).
        shown_size: (x, y, z) voxel counts sent.
        size: (x, y, z) voxel counts of the scan itself.
    """

    nifti_gz: bytes
    digest: str
    stride: int
    shown_size: tuple[int, int, int]
    size: tuple[int, int, int]

    @property
    def resolution_note(self) -> str:
        """Words for the screen: what resolution is shown."""
        full = " × ".join(map(str, self.size))
        if self.stride == 1:
            return f"{full} voxels, full resolution"
        shown = " × ".join(map(str, self.shown_size))
        return f"shown at {shown} (every {_ordinal(self.stride)} voxel) of {full}"


def _ordinal(n: int) -> str:
    return {2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def stride_for(size_xyz: tuple[int, int, int], budget_bytes: int = VOLUME_BUDGET_BYTES) -> int:
    """Smallest whole stride whose 16-bit copy of a ``size_xyz`` volume fits ``budget_bytes``."""
    voxels = math.prod(size_xyz)
    return max(1, math.ceil((2 * voxels / budget_bytes) ** (1 / 3) - 1e-9))


def downsample(volume: Volume, stride: int) -> Volume:
    """Every ``stride``-th voxel along each axis; the geometry follows (voxel 0 stays where it was)."""
    if stride == 1:
        return volume
    spacing = tuple(s * stride for s in volume.spacing)
    return Volume(
        volume.array[::stride, ::stride, ::stride],
        spacing=spacing,
        origin=volume.origin,
        direction=volume.direction,
        modality=volume.modality,
        name=volume.name,
    )


def to_int16(array: np.ndarray, *, hounsfield: bool) -> tuple[np.ndarray, float, float]:
    """Array as int16 with (slope, intercept) so that ``value = stored * slope + intercept``.

    CT keeps whole Hounsfield units (slope 1); other data is spread over the int16 range.
    """
    finite = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
    if hounsfield:
        return np.clip(np.rint(finite), -32768, 32767).astype(np.int16), 1.0, 0.0
    low, high = float(finite.min()), float(finite.max())
    intercept = (low + high) / 2
    slope = max((high - low) / (2 * _INT16), 1e-12)
    return np.rint((finite - intercept) / slope).astype(np.int16), slope, intercept


def nifti_gz(volume: Volume) -> bytes:
    """gzip-compressed NIfTI-1 of ``volume`` (int16; affine in RAS mm from :attr:`Volume.ras_affine`)."""
    stored, slope, intercept = to_int16(volume.array, hounsfield=volume.modality == "CT")
    image = nib.Nifti1Image(stored.T, volume.ras_affine)  # (z, y, x) -> NIfTI's (x, y, z)
    image.header.set_slope_inter(slope, intercept)
    image.header.set_qform(volume.ras_affine, code=1)
    image.header.set_sform(volume.ras_affine, code=1)
    return gzip.compress(image.to_bytes(), compresslevel=1, mtime=0)


def encode(volume: Volume, budget_bytes: int = VOLUME_BUDGET_BYTES) -> EncodedVolume:
    """The browser copy of ``volume`` (made once per volume object and budget, remembered while it lives)."""

    def compute() -> EncodedVolume:
        stride = stride_for(volume.size_xyz, budget_bytes)
        shown = downsample(volume, stride)
        data = nifti_gz(shown)
        digest = hashlib.blake2b(data, digest_size=8).hexdigest()
        return EncodedVolume(data, digest, stride, shown.size_xyz, volume.size_xyz)

    return per_volume(volume, f"encoded-{budget_bytes}", compute)


def lps_to_index(volume: Volume) -> list[float]:
    """Row-major 4x4 mapping LPS mm to the volume's continuous (x, y, z) voxel index."""
    return [float(v) for v in np.linalg.inv(volume.affine).ravel()]


def first_window(volume: Volume) -> tuple[float, float]:
    """(level, width) the viewer opens with: the core's default; a constant map gets a unit window."""

    def compute() -> tuple[float, float]:
        if np.ptp(volume.array) == 0:  # no spread to take percentiles of
            return float(volume.array.flat[0]), 1.0
        return tuple(float(v) for v in default_window(volume))

    return per_volume(volume, "first", compute)


def percentile_windows(volume: Volume, choices: dict[str, tuple[float, float]]) -> dict[str, list[float]] | None:
    """name -> [level, width] between percentiles of the head's voxels (MR buttons); None for a constant map."""

    def compute() -> dict[str, list[float]] | None:
        if np.ptp(volume.array) == 0:
            return None
        return {name: [float(v) for v in display_window(volume, percentiles=p)] for name, p in choices.items()}

    return per_volume(volume, f"percentiles-{sorted(choices.items())}", compute)


def outline(mask: Volume) -> Volume:
    """The voxels of a mask that touch its outside (a 3-D outline), made once per mask object."""

    def compute() -> Volume:
        inside = mask.array > 0.5
        return mask.with_array((inside & ~ndimage.binary_erosion(inside)).astype(np.float32), modality="MASK")

    return per_volume(mask, "outline", compute)

"""``save_volume``: NIfTI through nibabel (qform and sform both set), MHA/MHD/NRRD through SimpleITK.

``volume_to_nifti_bytes`` and ``transform_to_tfm_bytes`` give the same files as bytes (for downloads).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
import SimpleITK as sitk

from fusion_core.io.errors import VolumeSaveError, library_message
from fusion_core.io.itk import MODALITY_KEY
from fusion_core.volume import Volume

_NIFTI_SCANNER_CODE = 1
_ITK_SUFFIXES = (".mha", ".mhd", ".nrrd", ".nhdr")
_INT16 = np.iinfo(np.int16)


def save_volume(volume: Volume, path: str | Path) -> None:
    """Write ``volume`` so that :func:`~fusion_core.io.load_volume` gets it back.

    Spacing, origin and direction round-trip (to float32 precision in NIfTI-1, whose header
    stores single precision; exactly in MHA/NRRD). The modality is kept: NIfTI ``descrip``,
    an MHA/NRRD metadata field. Integer-valued volumes within int16 range (CT in HU) are
    stored as int16, others as float32 — both exact.

    Args:
        volume: what to write.
        path: ``.nii``, ``.nii.gz``, ``.mha``, ``.mhd``, ``.nrrd`` or ``.nhdr``. Parent folders are created.

    Raises:
        VolumeSaveError: unsupported suffix or the file cannot be written.
    """
    path = Path(path).expanduser()
    name = path.name.lower()
    if not (name.endswith((".nii", ".nii.gz")) or name.endswith(_ITK_SUFFIXES)):
        raise VolumeSaveError(path, f"unsupported suffix; use one of .nii, .nii.gz, {', '.join(_ITK_SUFFIXES)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith((".nii", ".nii.gz")):
            _write_nifti(volume, path)
        else:
            _write_itk(volume, path)
    except (OSError, RuntimeError) as exc:
        raise VolumeSaveError(path, library_message(exc)) from exc


def volume_to_nifti_bytes(volume: Volume, *, fill_nan: float | None = None) -> bytes:
    """``volume`` as the bytes of a ``.nii.gz`` file written by :func:`save_volume` (its geometry and modality).

    Args:
        volume: what to write.
        fill_nan: when given, non-finite voxels are written as this value (some viewers mishandle NaN).

    Raises:
        VolumeSaveError: the temporary file cannot be written.
    """
    if fill_nan is not None:
        volume = volume.with_array(np.nan_to_num(volume.array, nan=fill_nan, posinf=fill_nan, neginf=fill_nan))
    with tempfile.TemporaryDirectory(prefix="fusion-export-") as tmp:
        path = Path(tmp) / "volume.nii.gz"
        save_volume(volume, path)
        return path.read_bytes()


def transform_to_tfm_bytes(transform: sitk.Transform) -> bytes:
    """``transform`` as the bytes of an ITK ``.tfm`` text file (the convention it maps points in is kept as is).

    Raises:
        VolumeSaveError: ITK cannot write this kind of transform.
    """
    with tempfile.TemporaryDirectory(prefix="fusion-export-") as tmp:
        path = Path(tmp) / "transform.tfm"
        try:
            sitk.WriteTransform(transform, str(path))
        except RuntimeError as exc:
            raise VolumeSaveError(path, library_message(exc)) from exc
        return path.read_bytes()


def storage_array(array: np.ndarray) -> np.ndarray:
    """``array`` as int16 when that is lossless (whole numbers within int16 range), else float32."""
    if array.size and np.all(np.isfinite(array)) and _INT16.min <= array.min() and array.max() <= _INT16.max:
        as_int = array.astype(np.int16)
        if np.array_equal(as_int, array):
            return as_int
    return np.asarray(array, dtype=np.float32)


def _write_nifti(volume: Volume, path: Path) -> None:
    data = np.transpose(storage_array(volume.array), (2, 1, 0))  # (z, y, x) -> nibabel's (x, y, z)
    image = nib.Nifti1Image(data, volume.ras_affine)
    image.set_qform(volume.ras_affine, code=_NIFTI_SCANNER_CODE)
    image.set_sform(volume.ras_affine, code=_NIFTI_SCANNER_CODE)
    image.header.set_xyzt_units("mm")
    image.header["descrip"] = f"modality={volume.modality}".encode()[:79]
    nib.save(image, str(path))


def _write_itk(volume: Volume, path: Path) -> None:
    image = sitk.GetImageFromArray(storage_array(volume.array), isVector=False)
    image.SetSpacing(volume.spacing)
    image.SetOrigin(volume.origin)
    image.SetDirection(volume.direction)
    image.SetMetaData(MODALITY_KEY, volume.modality)
    try:
        sitk.WriteImage(image, str(path), useCompression=True)
    except RuntimeError as exc:
        raise VolumeSaveError(path, library_message(exc)) from exc

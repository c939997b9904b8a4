"""The one public reader: ``load_volume`` dispatches on the path to a private reader.

Every failure becomes a :class:`VolumeLoadError` naming the file and the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fusion_core.io.checks import max_voxels_setting, repair_non_finite, resolve_modality
from fusion_core.io.dicom import is_dicom_file, read_dicom_file, read_dicom_series
from fusion_core.io.errors import VolumeLoadError, library_message
from fusion_core.io.itk import read_itk
from fusion_core.io.nifti import read_nifti
from fusion_core.io.raw import RawRead
from fusion_core.volume import Volume

_READERS: dict[str, Callable[..., RawRead]] = {
    ".nii": read_nifti,
    ".nii.gz": read_nifti,
    ".mha": read_itk,
    ".mhd": read_itk,
    ".nrrd": read_itk,
    ".nhdr": read_itk,
    ".dcm": read_dicom_file,
    ".dicom": read_dicom_file,
    ".ima": read_dicom_file,
}

#: What ``load_volume`` accepts, for messages and file pickers.
SUPPORTED = (*_READERS, "any DICOM file", "a folder holding a DICOM series")


def load_volume(path: str | Path, *, modality: str | None = None, max_voxels: int | None = None) -> Volume:
    """Load a scan from a NIfTI, MetaImage, NRRD or DICOM file, or a DICOM series folder.

    Args:
        path: ``.nii``/``.nii.gz``/``.mha``/``.mhd``/``.nrrd`` file, one DICOM file, or a folder.
        modality: used when the file does not say (the DICOM Modality tag wins over it).
        max_voxels: refuse headers declaring more voxels (default 512 Mi, or ``$FUSION_MAX_VOXELS``).

    Returns:
        The volume: (z, y, x) float32, LPS geometry, CT in HU. See :func:`load_volume_with_report`
        for the notes on what was chosen or repaired.

    Raises:
        VolumeLoadError: whatever is wrong with the input; the message names the file.
    """
    volume, _ = load_volume_with_report(path, modality=modality, max_voxels=max_voxels)
    return volume


def load_volume_with_report(
    path: str | Path, *, modality: str | None = None, max_voxels: int | None = None
) -> tuple[Volume, list[str]]:
    """Like :func:`load_volume`, also returning human-readable notes for the user.

    Notes say which DICOM series or 4-D volume was taken, how many NaN/Inf voxels were
    repaired, and whether the modality was guessed.

    Returns:
        (volume, notes) — notes may be empty.
    """
    path = Path(path).expanduser()
    raw = _read_any(path, max_voxels=max_voxels_setting(max_voxels))
    array, repaired = _repair(path, raw.volume.array)
    chosen, modality_notes = resolve_modality(
        tag=raw.tag_modality, requested=modality, stored=raw.stored_modality, array=array
    )
    notes = [*raw.notes, *modality_notes]
    if repaired:
        notes.append(f"{repaired:,} NaN/Inf voxels replaced with the minimum finite value")
    return raw.volume.with_array(array, modality=chosen), notes


def _read_any(path: Path, *, max_voxels: int) -> RawRead:
    reader = _pick_reader(path)
    try:
        return reader(path, max_voxels=max_voxels)
    except VolumeLoadError:
        raise
    except Exception as exc:  # MemoryError included: never let a bare library traceback reach the user
        raise VolumeLoadError(path, f"could not read it ({library_message(exc)})") from exc


def _pick_reader(path: Path) -> Callable[..., RawRead]:
    if not path.exists():
        raise VolumeLoadError(path, "no such file or folder")
    if path.is_dir():
        return _read_folder
    if path.stat().st_size == 0:
        raise VolumeLoadError(path, "the file is empty (0 bytes)")
    suffix = _suffix(path)
    if suffix in _READERS:
        return _READERS[suffix]
    if is_dicom_file(path):
        return read_dicom_file
    raise VolumeLoadError(path, f"unsupported file type '{suffix or path.name}'; supported: {', '.join(SUPPORTED)}")


def _read_folder(folder: Path, *, max_voxels: int) -> RawRead:
    """A DICOM series folder; failing that, a folder holding exactly one image file."""
    try:
        return read_dicom_series(folder, max_voxels=max_voxels)
    except VolumeLoadError as no_series:
        inside = folder.resolve()
        images = sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and _suffix(p) in _READERS and p.resolve().is_relative_to(inside)
        )
        if len(images) != 1:
            listed = f" and {len(images)} image files ({', '.join(p.name for p in images[:5])})" if images else ""
            raise VolumeLoadError(folder, f"{no_series.problem}{listed}; pass one file or a single series") from None
        raw = _READERS[_suffix(images[0])](images[0], max_voxels=max_voxels)
        raw.notes.insert(0, f"folder {folder.name} holds no DICOM series; loaded its one image file {images[0].name}")
        return raw


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def _repair(path: Path, array):
    try:
        return repair_non_finite(array)
    except ValueError as exc:
        raise VolumeLoadError(path, f"no usable voxels: {exc}") from exc

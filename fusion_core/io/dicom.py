"""DICOM: one file or a folder holding one or more series (SimpleITK/GDCM voxels, pydicom tags).

GDCM applies RescaleSlope/RescaleIntercept, so CT arrives in Hounsfield units.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.errors import InvalidDicomError

from fusion_core.io.checks import check_header_shape
from fusion_core.io.errors import VolumeLoadError, library_message
from fusion_core.io.raw import RawRead
from fusion_core.volume import Volume

_MAX_FOLDERS = 2000


def is_dicom_file(path: Path) -> bool:
    """True when the file carries the DICOM Part 10 signature ("DICM" at byte 128)."""
    try:
        with path.open("rb") as handle:
            handle.seek(128)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def read_dicom_file(path: Path, *, max_voxels: int) -> RawRead:
    """Read one DICOM file (a single slice loads as a one-slice volume; multi-frame as 3-D).

    Raises:
        VolumeLoadError: not DICOM, no image in it, colour image, too large, unreadable pixels.
    """
    tags = read_tags(path)
    frames = int(tags.get("NumberOfFrames", 1) or 1)
    _check_image_tags(path, tags, slices=frames, max_voxels=max_voxels)
    try:
        image = sitk.ReadImage(str(path), imageIO="GDCMImageIO")
    except RuntimeError as exc:
        raise VolumeLoadError(path, f"the DICOM pixel data is unreadable ({library_message(exc)})") from exc
    volume = _volume_from_sitk(path, image, name=_series_name(tags, path))
    return RawRead(volume, tag_modality=tags.get("Modality"), notes=[])


def read_dicom_series(folder: Path, *, max_voxels: int) -> RawRead:
    """Read the largest DICOM series under ``folder`` (searched recursively) and say which it took.

    Raises:
        VolumeLoadError: no readable series, too large, GDCM cannot assemble the volume.
    """
    series = find_dicom_series(folder)
    if not series:
        raise VolumeLoadError(
            folder, f"no readable DICOM series in this folder ({_count_files(folder)} files looked at)"
        )
    files = series[0][1]
    tags = read_tags(Path(files[0]))
    notes = [_choice_note(folder, series)] if len(series) > 1 else []
    if len(files) == 1:
        raw = read_dicom_file(Path(files[0]), max_voxels=max_voxels)
        raw.notes[:0] = notes
        return raw
    _check_image_tags(folder, tags, slices=len(files), max_voxels=max_voxels)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    reader.MetaDataDictionaryArrayUpdateOn()  # per-slice tags, parsed by GDCM anyway
    try:
        image = reader.Execute()
    except RuntimeError as exc:
        raise VolumeLoadError(folder, f"the DICOM series could not be assembled ({library_message(exc)})") from exc
    _check_orientations(folder, reader, files)
    notes += _spacing_notes(_slice_positions(reader, len(files)))
    volume = _volume_from_sitk(folder, image, name=_series_name(tags, folder))
    return RawRead(volume, tag_modality=tags.get("Modality"), notes=notes)


def find_dicom_series(folder: Path) -> list[tuple[str, list[str]]]:
    """All DICOM series under ``folder`` as (SeriesInstanceUID, sorted file names), largest first."""
    found: list[tuple[str, list[str]]] = []
    for index, (directory, _, names) in enumerate(os.walk(folder)):
        if index >= _MAX_FOLDERS:
            break
        if not names:
            continue
        for uid in sitk.ImageSeriesReader.GetGDCMSeriesIDs(directory):
            files = [f for f in sitk.ImageSeriesReader.GetGDCMSeriesFileNames(directory, uid) if _inside(f, folder)]
            if files:
                found.append((uid, files))
    return sorted(found, key=lambda item: -len(item[1]))


def _inside(file: str, folder: Path) -> bool:
    """Whether ``file`` (symlinks resolved) lies inside ``folder``.

    A link out of a scan folder is not followed (it could point at any file the server can read).
    """
    return Path(file).resolve().is_relative_to(Path(folder).resolve())


def read_tags(path: Path):
    """The DICOM header of ``path`` without its pixel data (pydicom Dataset).

    Raises:
        VolumeLoadError: the file is not DICOM or its header is damaged.
    """
    try:
        return pydicom.dcmread(str(path), stop_before_pixels=True)
    except InvalidDicomError as exc:
        raise VolumeLoadError(path, "not a DICOM file (no DICM signature and no valid DICOM header)") from exc
    except Exception as exc:  # pydicom raises assorted errors for damaged headers
        raise VolumeLoadError(path, f"the DICOM header is damaged ({library_message(exc)})") from exc


def _check_image_tags(path: Path, tags, *, slices: int, max_voxels: int) -> None:
    rows, columns = tags.get("Rows"), tags.get("Columns")
    if rows is None or columns is None:
        sop = tags.get("SOPClassUID", "unknown")
        name = getattr(sop, "name", sop)
        raise VolumeLoadError(path, f"the DICOM file holds no image (no Rows/Columns; SOP class '{name}')")
    samples = int(tags.get("SamplesPerPixel", 1) or 1)
    if samples != 1:
        raise VolumeLoadError(path, f"a colour DICOM image ({samples} samples per pixel); a greyscale scan is needed")
    check_header_shape(path, (int(columns), int(rows), slices), max_voxels=max_voxels)


def _volume_from_sitk(path: Path, image: sitk.Image, *, name: str) -> Volume:
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise VolumeLoadError(path, "a colour DICOM image; a greyscale scan is needed")
    return Volume.from_sitk(image, name=name)


def _series_name(tags, path: Path) -> str:
    description = str(tags.get("SeriesDescription", "") or "").strip()
    return description or path.name


def _choice_note(folder: Path, series: list[tuple[str, list[str]]]) -> str:
    described = [f"{_describe(Path(files[0]))} ({len(files)} files)" for _, files in series]
    return (
        f"{folder.name} holds {len(series)} DICOM series; took the largest: {described[0]}; "
        f"ignored: {', '.join(described[1:])}"
    )


def _describe(path: Path) -> str:
    tags = read_tags(path)
    number = tags.get("SeriesNumber", "?")
    description = str(tags.get("SeriesDescription", "") or "").strip() or "no description"
    return f"series {number} '{description}' [{tags.get('Modality', '?')}]"


def _spacing_notes(positions: np.ndarray | None) -> list[str]:
    """Note irregular or duplicated slice positions (the volume then assumes a uniform spacing)."""
    if positions is None or len(positions) < 3:
        return []
    gaps = np.diff(np.sort(positions))
    if np.any(gaps < 1e-3):
        return [f"{int(np.sum(gaps < 1e-3))} slices share a position with another slice (several acquisitions?)"]
    if gaps.max() - gaps.min() > 0.01 * max(gaps.mean(), 1e-6) + 1e-3:
        return [
            f"slice spacing is irregular ({gaps.min():.3g} to {gaps.max():.3g} mm); the volume assumes a uniform spacing"
        ]
    return []


def _check_orientations(folder: Path, reader: sitk.ImageSeriesReader, files: list[str]) -> None:
    """Refuse a series whose slices do not share one orientation (they cannot form one volume)."""
    try:
        rows = [np.asarray(reader.GetMetaData(i, "0020|0037").split("\\"), float) for i in range(len(files))]
    except (RuntimeError, ValueError):  # tag missing or malformed: nothing to check
        return
    odd = [
        Path(files[i]).name
        for i, row in enumerate(rows)
        if row.shape != rows[0].shape or np.abs(row - rows[0]).max() > 1e-3
    ]
    if odd:
        raise VolumeLoadError(
            folder,
            f"{len(odd)} of {len(files)} slices have another orientation than the first (e.g. {odd[0]}); "
            "they cannot be stacked into one volume",
        )


def _slice_positions(reader: sitk.ImageSeriesReader, count: int) -> np.ndarray | None:
    """Each slice's position along the slice normal (mm), from ImagePosition/OrientationPatient."""
    try:
        orientation = np.asarray(reader.GetMetaData(0, "0020|0037").split("\\"), float)
        normal = np.cross(orientation[:3], orientation[3:])
        points = [np.asarray(reader.GetMetaData(i, "0020|0032").split("\\"), float) for i in range(count)]
    except (RuntimeError, ValueError):  # tag missing or malformed: nothing to check
        return None
    return np.asarray([float(np.dot(normal, point)) for point in points])


def _count_files(folder: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(folder))

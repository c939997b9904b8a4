"""Write small but standard-conforming DICOM series with pydicom (for the reader tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid


def write_series(
    folder: Path,
    hu: np.ndarray,
    *,
    spacing: tuple[float, float, float] = (0.8, 0.9, 2.5),
    origin: tuple[float, float, float] = (-10.0, -20.0, 30.0),
    modality: str = "CT",
    slope: float = 1.0,
    intercept: float = -1024.0,
    series_number: int = 1,
    description: str = "test series",
    positions_mm: list[float] | None = None,
) -> list[Path]:
    """Write ``hu`` ((z, y, x) real values) as one axial series, one file per slice.

    Stored values are ``(hu - intercept) / slope`` as int16, so readers must apply the
    rescale to get ``hu`` back. ``positions_mm`` overrides the slice z positions.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stored = np.round((hu - intercept) / slope).astype(np.int16)
    series_uid, study_uid = generate_uid(), generate_uid()
    z_positions = positions_mm or [origin[2] + k * spacing[2] for k in range(hu.shape[0])]
    paths = []
    for k, plane in enumerate(stored):
        ds = _slice_dataset(plane, modality=modality, series_uid=series_uid, study_uid=study_uid)
        ds.PixelSpacing = [spacing[1], spacing[0]]  # row spacing (y), column spacing (x)
        ds.SliceThickness = spacing[2]
        ds.ImagePositionPatient = [origin[0], origin[1], z_positions[k]]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.SeriesNumber, ds.SeriesDescription, ds.InstanceNumber = series_number, description, k + 1
        path = folder / f"s{series_number}_{k:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _slice_dataset(plane: np.ndarray, *, modality: str, series_uid: str, study_uid: str) -> Dataset:
    sop_class = CTImageStorage if modality == "CT" else MRImageStorage
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, study_uid
    ds.Modality, ds.PatientID, ds.PatientName = modality, "TEST", "Test^Phantom"
    ds.Rows, ds.Columns = plane.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelData = np.ascontiguousarray(plane, dtype="<i2").tobytes()
    return ds

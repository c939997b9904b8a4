r"""Write a volume (a synthetic CT or MR) as a derived DICOM series, one file per slice (pydicom).

What a planning system or PACS needs from a derived series, and how it is made here:

* SOP class CT Image Storage (MR Image Storage for an MR), Part 10 files with file meta, explicit VR
  little endian; ``ImageType`` DERIVED\SECONDARY; Manufacturer "Fusion Explorer".
* Voxels: int16 stored values with one Rescale Slope/Intercept for the whole series (slope 1 for a
  CT, so HU round-trip to 0.5 HU; a wider or narrower range is scaled to fit int16).
* Geometry from the volume: Image Orientation (Patient) from the first two direction cosines,
  Image Position (Patient) per slice along the third, Pixel Spacing in DICOM's (row, column) order,
  Slice Thickness and Spacing Between Slices. A left-handed volume (det(direction) < 0) is written
  with its slices in the reverse order, so every reader sees the same voxels in space.
* Provenance: the model, its card version (:func:`card_version`) and its training cohort in the
  Series Description and Derivation Description; with a reference, a Source Image Sequence.
* Patient and study: copied from ``reference`` (the input scan's DICOM) with new Series, SOP
  Instance and Frame of Reference UIDs; without one, placeholders that say they are placeholders.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

from fusion_core.io.dicom import is_dicom_file
from fusion_core.io.errors import VolumeSaveError
from fusion_core.volume import Volume, is_mr

PLACEHOLDER_PATIENT_NAME = "ANONYMOUS^SYNTHETIC"
PLACEHOLDER_PATIENT_ID = "FUSION-EXPLORER-PLACEHOLDER"
PLACEHOLDER_STUDY = "PLACEHOLDER STUDY - no reference scan was given"
MANUFACTURER = "Fusion Explorer"
_INT16 = 32767
#: A non-CT scan whose values span less than this is rescaled (integers would lose its contrast).
MIN_INTEGER_RANGE = 256.0
#: Patient, General Study and Patient Study attributes copied from a reference scan.
PATIENT_STUDY_TAGS = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "PatientSize",
    "PatientWeight",
    "OtherPatientIDs",
    "EthnicGroup",
    "PatientComments",
    "PatientIdentityRemoved",
    "DeidentificationMethod",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
    "StudyDescription",
)
#: Type 2 attributes (present, maybe empty) of the Patient and General Study modules.
_TYPE2_PATIENT_STUDY = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)


@dataclasses.dataclass(frozen=True)
class Provenance:
    """Which model made a volume.

    Attributes:
        model: the model's name ("" when the volume is not a model's output).
        card_version: short digest of its model card (see :func:`card_version`).
        cohort: the cohort spec it was trained on ("" when unknown).
    """

    model: str = ""
    card_version: str = ""
    cohort: str = ""

    @classmethod
    def of(cls, model: Any) -> Provenance:
        """From a model name, a ``ModelCard``, a ``LoadedModel`` or None."""
        if model is None or isinstance(model, Provenance):
            return model or cls()
        card = getattr(model, "card", model)
        if isinstance(card, str | Path):
            # lazy: imports torch; this module's import stays torch-free
            from fusion_core.inference import read_card
            from fusion_core.inference.registry import model_dir

            card = read_card(model_dir(card))
        return cls(card.name, card_version(card.raw), str(card.cohort.get("spec", "")))


def card_version(card: dict[str, Any]) -> str:
    """The card's own "version" when it has one, else the first 8 hex digits of its content's blake2b."""
    if card.get("version"):
        return str(card["version"])
    text = json.dumps(card, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def write_dicom_series(
    volume: Volume,
    folder: str | Path,
    *,
    reference: Any = None,
    series_description: str | None = None,
    model: Any = None,
    series_number: int = 900,
) -> list[Path]:
    """Write ``volume`` as a derived DICOM CT (or MR) series, one file per axial slice.

    Args:
        volume: the scan; a CT in HU. Its modality decides the SOP class (an MR weighting: MR).
        folder: created if needed; files are named ``IM000001.dcm``, ... in slice order.
        reference: the input scan's DICOM (a folder, a list of files or a pydicom Dataset) whose
            patient and study are copied; None writes clearly marked placeholders.
        series_description: default "Synthetic CT (<model>, card <version>)".
        model: the model that made the volume (name, ``ModelCard`` or ``LoadedModel``), or None.
        series_number: Series Number of the new series.

    Returns:
        The written files, in slice order.

    Raises:
        VolumeSaveError: the folder cannot be written, or the reference is not readable DICOM.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, ds in series_datasets(volume, reference, series_description, model, series_number):
            ds.save_as(folder / name, enforce_file_format=True)
            paths.append(folder / name)
    except OSError as exc:
        raise VolumeSaveError(folder, f"the DICOM series cannot be written ({exc.strerror or exc})") from exc
    return paths


def dicom_series_zip(
    volume: Volume,
    *,
    reference: Any = None,
    series_description: str | None = None,
    model: Any = None,
    series_number: int = 900,
) -> bytes:
    """The series of :func:`write_dicom_series` as zip bytes (one ``IM000001.dcm`` ... per slice), for downloads."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, ds in series_datasets(volume, reference, series_description, model, series_number):
            part = io.BytesIO()
            ds.save_as(part, enforce_file_format=True)
            archive.writestr(name, part.getvalue())
    return buffer.getvalue()


def series_datasets(
    volume: Volume, reference: Any, description: str | None, model: Any, series_number: int
) -> Iterator[tuple[str, Dataset]]:
    """(file name, dataset) of each slice; one dataset object is updated per slice (write it before the next)."""
    provenance = Provenance.of(model)
    sources = reference_datasets(reference)
    rescale = Rescale.of(volume)
    positions, order = slice_positions(volume)
    ds = _series_template(volume, sources, provenance, description, series_number)
    if ds.Modality == "CT" or not rescale.is_identity:  # an MR has no Modality LUT unless it needs one
        ds.RescaleSlope, ds.RescaleIntercept = _ds_number(rescale.slope), _ds_number(rescale.intercept)
    for number, k in enumerate(order, start=1):
        plane = rescale.stored(volume.array[k])
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = number
        ds.ImagePositionPatient = [_ds_number(v) for v in positions[k]]
        ds.SliceLocation = _ds_number(float(np.dot(positions[k], _normal(volume))))
        ds.SmallestImagePixelValue, ds.LargestImagePixelValue = int(plane.min()), int(plane.max())
        ds.PixelData = plane.tobytes()
        yield f"IM{number:06d}.dcm", ds


# ------------------------------------------------------------------------------------------------ voxels
@dataclasses.dataclass(frozen=True)
class Rescale:
    """real = stored * slope + intercept; ``low``/``high`` bound the finite values (NaN/Inf are written as them)."""

    slope: float
    intercept: float
    low: float
    high: float

    @classmethod
    def of(cls, volume: Volume) -> Rescale:
        """The rescale of ``volume``'s finite range into int16.

        Slope 1 (values to the nearest integer) when the range fits int16 and, but for a CT, spans at least
        :data:`MIN_INTEGER_RANGE`; otherwise the range is scaled to span most of int16.
        """
        low, high = _finite_range(volume.array)
        wide = volume.modality == "CT" or high - low >= MIN_INTEGER_RANGE
        if wide and low >= -_INT16 and high <= _INT16:
            return cls(1.0, 0.0, low, high)
        return cls(max(high - low, 1e-6) / (2 * 32000), (low + high) / 2.0, low, high)

    @property
    def is_identity(self) -> bool:
        """True when stored values are the real values (slope 1, intercept 0)."""
        return self.slope == 1.0 and self.intercept == 0.0

    def stored(self, plane: np.ndarray) -> np.ndarray:
        """(rows, cols) little-endian int16 stored values of one slice."""
        clean = np.nan_to_num(plane, nan=self.low, posinf=self.high, neginf=self.low)
        return np.clip(np.rint((clean - self.intercept) / self.slope), -_INT16 - 1, _INT16).astype("<i2")


def _finite_range(array: np.ndarray) -> tuple[float, float]:
    """(min, max) of the finite voxels, slice by slice (no volume-sized temporaries); (0, 0) when none."""
    lows, highs = [], []
    for plane in array:
        finite = plane[np.isfinite(plane)]
        if finite.size:
            lows.append(float(finite.min()))
            highs.append(float(finite.max()))
    return (min(lows), max(highs)) if lows else (0.0, 0.0)


def _ds_number(value: float) -> str:
    """A DS (decimal string, at most 16 characters) of ``value``."""
    return pydicom.valuerep.format_number_as_ds(float(value)) if abs(value) < 1e15 else f"{value:.10g}"


# ---------------------------------------------------------------------------------------------- geometry
def _normal(volume: Volume) -> np.ndarray:
    d = volume.direction_matrix
    return np.cross(d[:, 0], d[:, 1])


def slice_positions(volume: Volume) -> tuple[np.ndarray, list[int]]:
    """((z, 3) LPS position of each slice's first voxel, the order to write slices in).

    DICOM's slice normal is row x column; a left-handed volume's slices run against it, so they are
    written in reverse order (readers sort by position along the normal).
    """
    affine = volume.affine
    k = np.arange(volume.shape[0])
    positions = affine[:3, 3][None, :] + k[:, None] * affine[:3, 2][None, :]
    flipped = float(np.dot(volume.direction_matrix[:, 2], _normal(volume))) < 0
    order = list(k[::-1] if flipped else k)
    return positions, [int(i) for i in order]


def _image_plane(ds: Dataset, volume: Volume) -> None:
    d = volume.direction_matrix
    sx, sy, sz = volume.spacing
    ds.ImageOrientationPatient = [_ds_number(round(v, 10)) for v in (*d[:, 0], *d[:, 1])]
    ds.PixelSpacing = [_ds_number(sy), _ds_number(sx)]  # (between rows, between columns)
    ds.SliceThickness = _ds_number(sz)
    ds.SpacingBetweenSlices = _ds_number(sz)
    ds.Rows, ds.Columns = volume.shape[1], volume.shape[2]


# ------------------------------------------------------------------------------------------- the series
def _series_template(
    volume: Volume, sources: list[Dataset], provenance: Provenance, description: str | None, number: int
) -> Dataset:
    """Everything the slices share: file meta, patient/study, series, equipment, image plane and pixel modules."""
    mr = is_mr(volume.modality)
    sop_class = MRImageStorage if mr else CTImageStorage
    ds = Dataset()
    ds.file_meta = _file_meta(sop_class)
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: names copied from a reference may need it
    ds.SOPClassUID = sop_class
    _patient_and_study(ds, sources[0] if sources else None)
    _series(ds, volume, provenance, description, number)
    _derivation(ds, volume, provenance, sources)
    _image_plane(ds, volume)
    _pixel_module(ds)
    (_mr_image if mr else _ct_image)(ds)
    return ds


def _file_meta(sop_class: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationVersionName = "FUSION_EXPLORER"
    return meta


def _patient_and_study(ds: Dataset, source: Dataset | None) -> None:
    if source is None:
        _placeholder_patient_and_study(ds)
        return
    for keyword in PATIENT_STUDY_TAGS:
        if keyword in source:
            setattr(ds, keyword, source[keyword].value)
    for keyword in _TYPE2_PATIENT_STUDY:
        if keyword not in ds:
            setattr(ds, keyword, "")
    if "StudyInstanceUID" not in ds:
        ds.StudyInstanceUID = generate_uid()


def _placeholder_patient_and_study(ds: Dataset) -> None:
    now = datetime.datetime.now()
    ds.PatientName, ds.PatientID = PLACEHOLDER_PATIENT_NAME, PLACEHOLDER_PATIENT_ID
    ds.PatientBirthDate, ds.PatientSex = "", ""
    ds.PatientComments = "Placeholder patient: the series was written without the input scan's DICOM."
    ds.StudyInstanceUID = generate_uid()
    ds.StudyDate, ds.StudyTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.ReferringPhysicianName, ds.AccessionNumber, ds.StudyID = "", "", "PLACEHOLDER"
    ds.StudyDescription = PLACEHOLDER_STUDY


def _series(ds: Dataset, volume: Volume, provenance: Provenance, description: str | None, number: int) -> None:
    now = datetime.datetime.now()
    kind = "MR" if is_mr(volume.modality) else "CT"
    ds.Modality = kind
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber, ds.AcquisitionNumber = number, 1
    ds.SeriesDescription = _clip(description or _default_description(kind, provenance), 64)
    ds.SeriesDate = ds.ContentDate = ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.SeriesTime = ds.ContentTime = ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.BodyPartExamined, ds.PatientPosition = "HEAD", ""  # no Laterality: a head is not a paired body part
    ds.FrameOfReferenceUID = generate_uid()  # the volume's own grid: not necessarily the reference's frame
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer, ds.ManufacturerModelName = MANUFACTURER, _clip(provenance.model or "none", 64)
    ds.SoftwareVersions = _clip(f"card {provenance.card_version}" if provenance.card_version else "none", 64)
    ds.BurnedInAnnotation = "NO"


def _default_description(kind: str, provenance: Provenance) -> str:
    if not provenance.model:
        return f"Synthetic {kind} (Fusion Explorer)"
    return f"Synthetic {kind} ({provenance.model}, card {provenance.card_version})"


def _derivation(ds: Dataset, volume: Volume, provenance: Provenance, sources: list[Dataset]) -> None:
    kind = "MR" if is_mr(volume.modality) else "CT"
    made_by = f"model {provenance.model} (model card version {provenance.card_version}" if provenance.model else ""
    if made_by and provenance.cohort:
        made_by += f", trained on the '{provenance.cohort}' cohort"
    text = f"Synthetic {kind} made by Fusion Explorer" + (f" with {made_by})" if made_by else "")
    ds.DerivationDescription = _clip(text + ". Not an acquired image: check it before clinical use.", 1024)
    ds.ImageComments = _clip(text, 10240)
    items = [_source_item(s) for s in sources if "SOPClassUID" in s and "SOPInstanceUID" in s]
    if items:
        ds.SourceImageSequence = DicomSequence(items)


def _source_item(source: Dataset) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = source.SOPClassUID
    item.ReferencedSOPInstanceUID = source.SOPInstanceUID
    return item


def _pixel_module(ds: Dataset) -> None:
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1


def _ct_image(ds: Dataset) -> None:
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.RescaleType = "HU"
    ds.KVP = ""
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.WindowCenterWidthExplanation = "soft tissue"


def _mr_image(ds: Dataset) -> None:
    ds.ImageType = ["DERIVED", "SECONDARY", "OTHER"]
    ds.ScanningSequence, ds.SequenceVariant, ds.ScanOptions = "RM", "NONE", ""
    ds.MRAcquisitionType = ""
    ds.RepetitionTime, ds.EchoTime, ds.EchoTrainLength = "", "", ""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -------------------------------------------------------------------------------------------- reference
def reference_datasets(reference: Any) -> list[Dataset]:
    """Headers (no pixels) of the reference: a Dataset, a file, a folder (its largest series) or a list of files.

    Raises:
        VolumeSaveError: the reference is missing or holds no DICOM image.
    """
    if reference is None:
        return []
    if isinstance(reference, Dataset):
        return [reference]
    paths = _reference_files(reference)
    headers = [h for h in (_read_header(p) for p in paths) if h is not None and "SOPInstanceUID" in h]
    if not headers:
        raise VolumeSaveError(_describe(reference), "the reference scan holds no readable DICOM image")
    return _largest_series(headers)


def _reference_files(reference: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(reference, str | Path):
        path = Path(reference)
        if not path.exists():
            raise VolumeSaveError(path, "the reference scan does not exist")
        return sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [Path(p) for p in reference]


def _read_header(path: Path) -> Dataset | None:
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (pydicom.errors.InvalidDicomError, OSError, ValueError, AttributeError):
        return None


def _largest_series(headers: list[Dataset]) -> list[Dataset]:
    series: dict[str, list[Dataset]] = {}
    for header in headers:
        series.setdefault(str(header.get("SeriesInstanceUID", "")), []).append(header)
    return max(series.values(), key=len)


def _describe(reference: Any) -> str:
    if isinstance(reference, str | Path):
        return str(reference)
    return f"reference ({len(reference)} files)"


def dicom_reference(case: Any, role: str = "mr") -> Path | None:
    """The case's input scan of ``role`` ("mr" or "ct") when it was read from DICOM, to pass as ``reference=``.

    DICOM means a folder or a DICOM file; None when the scan came from another format or from memory.
    """
    path = getattr(case, "meta", {}).get("files", {}).get(role)
    if not path:
        return None
    path = Path(path)
    if path.is_dir() or (path.is_file() and is_dicom_file(path)):
        return path
    return None

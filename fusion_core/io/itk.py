"""MetaImage (.mha/.mhd) and NRRD (.nrrd/.nhdr) reading through SimpleITK, header first."""

from __future__ import annotations

from pathlib import Path

import SimpleITK as sitk

from fusion_core.io.checks import check_data_fits, check_header_shape
from fusion_core.io.errors import VolumeLoadError, library_message
from fusion_core.io.raw import RawRead
from fusion_core.volume import Volume

#: Metadata key under which ``save_volume`` records the modality in MHA/NRRD headers.
MODALITY_KEY = "FusionModality"

_HEADER_PEEK_BYTES = 65536
_BYTES_PER_PIXEL = {
    sitk.sitkUInt8: 1, sitk.sitkInt8: 1, sitk.sitkUInt16: 2, sitk.sitkInt16: 2, sitk.sitkUInt32: 4,
    sitk.sitkInt32: 4, sitk.sitkUInt64: 8, sitk.sitkInt64: 8, sitk.sitkFloat32: 4, sitk.sitkFloat64: 8,
}  # fmt: skip


def read_itk(path: Path, *, max_voxels: int) -> RawRead:
    """Read an MHA/MHD/NRRD file: header checks, then the first 3-D volume only.

    Raises:
        VolumeLoadError: unreadable header, absurd or empty size, vector/complex pixels,
            header claiming more raw data than the file holds, corrupt voxel data.
    """
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError as exc:
        raise VolumeLoadError(path, f"not a readable image header ({library_message(exc)})") from exc
    size = tuple(int(n) for n in reader.GetSize())
    check_header_shape(path, size, max_voxels=max_voxels)
    _refuse_non_scalar(path, reader)
    _check_raw_size(path, size, reader.GetPixelID())
    notes = _extract_first_volume(reader, size)
    try:
        image = reader.Execute()
    except RuntimeError as exc:
        raise VolumeLoadError(path, f"the voxel data is truncated or corrupt ({library_message(exc)})") from exc
    stored = reader.GetMetaData(MODALITY_KEY) if reader.HasMetaDataKey(MODALITY_KEY) else None
    return RawRead(Volume.from_sitk(image, name=path.stem), stored_modality=stored, notes=notes)


def _refuse_non_scalar(path: Path, reader: sitk.ImageFileReader) -> None:
    components = reader.GetNumberOfComponents()
    if components != 1 or reader.GetPixelID() not in _BYTES_PER_PIXEL:
        pixel = sitk.GetPixelIDValueAsString(reader.GetPixelID())
        raise VolumeLoadError(
            path, f"voxels are '{pixel}' with {components} components (vector, RGB or complex); a scalar scan is needed"
        )


def _extract_first_volume(reader: sitk.ImageFileReader, size: tuple[int, ...]) -> list[str]:
    """Make ``reader`` stream only the first 3-D volume of a 4-D (or higher) image."""
    if len(size) <= 3:
        return []
    reader.SetExtractIndex([0] * len(size))
    reader.SetExtractSize([*size[:3], *([0] * (len(size) - 3))])
    extra = int(size[3])
    return [f"{len(size)}-D image with {extra} volumes (size {size}): took the first"] if extra > 1 else []


def _check_raw_size(path: Path, size: tuple[int, ...], pixel_id: int) -> None:
    """For uncompressed data, refuse a header that claims more bytes than the data file holds."""
    fields, header_bytes = _read_text_header(path)
    _refuse_outside_data_files(path, fields)
    located = _raw_data_location(path, fields, header_bytes)
    if located is None:
        return
    data_file, offset = located
    if not data_file.is_file():
        raise VolumeLoadError(path, f"the data file '{data_file.name}' named by the header does not exist")
    voxels = 1
    for n in size:
        voxels *= n
    available = data_file.stat().st_size - offset
    check_data_fits(path, needed_bytes=voxels * _BYTES_PER_PIXEL[pixel_id], available_bytes=available)


def _refuse_outside_data_files(path: Path, fields: dict[str, str]) -> None:
    """Refuse a detached header whose data file lies outside the header's folder.

    A header is a text file anyone can write (or upload): ``ElementDataFile = /etc/passwd`` or
    ``data file: ../../secret.raw`` would otherwise show another file's bytes as an image.
    """
    named = fields.get("elementdatafile") or fields.get("data file") or fields.get("datafile") or ""
    if named.upper() in ("", "LOCAL", "LIST"):
        return
    folder = path.parent.resolve()
    for name in named.split()[:1] if "%" in named else named.split():
        if not (folder / name).resolve().is_relative_to(folder):
            raise VolumeLoadError(
                path, f"the header names a data file '{name}' outside the header's folder; refusing to read it"
            )


def _read_text_header(path: Path) -> tuple[dict[str, str], int]:
    """Key/value fields of a MetaImage or NRRD text header, and the header's length in bytes."""
    with path.open("rb") as handle:
        head = handle.read(_HEADER_PEEK_BYTES)
    fields: dict[str, str] = {}
    position = 0
    for raw_line in head.splitlines(keepends=True):
        position += len(raw_line)
        line = raw_line.decode("latin-1").strip()
        if not line:  # NRRD: a blank line ends the header
            break
        key, sep, value = line.partition(":=" if ":=" in line else ("=" if "=" in line else ":"))
        if sep:
            fields[key.strip().lower()] = value.strip()
        if key.strip().lower() == "elementdatafile":  # MetaImage: the last header field
            break
    return fields, position


def _raw_data_location(path: Path, fields: dict[str, str], header_bytes: int) -> tuple[Path, int] | None:
    """(file holding raw voxels, byte offset) for uncompressed data, else None (compressed, lists, ...)."""
    if "elementdatafile" in fields:  # MetaImage
        if fields.get("compresseddata", "false").lower() == "true":
            return None
        name = fields["elementdatafile"]
        if name.upper() == "LOCAL":
            return path, header_bytes
        if " " in name or "%" in name or name.upper() == "LIST":
            return None
        return path.parent / name, int(fields.get("headersize", "0") or 0)
    if fields.get("encoding", "").lower() == "raw":  # NRRD
        detached = fields.get("data file") or fields.get("datafile")
        if detached is None:
            return path, header_bytes
        if " " in detached or "%" in detached or detached.upper() == "LIST":
            return None
        return path.parent / detached, 0
    return None

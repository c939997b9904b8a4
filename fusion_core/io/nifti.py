"""NIfTI-1/2 reading through nibabel (header first, voxels only once the header passes)."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

from fusion_core.io.checks import check_data_fits, check_header_shape
from fusion_core.io.errors import VolumeLoadError, library_message
from fusion_core.io.raw import RawRead
from fusion_core.volume import Volume

_GZIP_MAGIC = b"\x1f\x8b"
_NIFTI1_HEADER_BYTES = 348
_VECTOR_INTENTS = {1007, 2003, 2004}  # NIFTI_INTENT_VECTOR, RGB_VECTOR, RGBA_VECTOR
_DESCRIP_MODALITY = re.compile(r"modality=([\w-]+)")
_STREAM_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile)


def read_nifti(path: Path, *, max_voxels: int) -> RawRead:
    """Read a ``.nii`` / ``.nii.gz`` file; RAS is converted to LPS by ``Volume.from_ras_affine``.

    Raises:
        VolumeLoadError: not NIfTI, corrupt gzip, absurd or empty shape, vector/RGB data.
    """
    image = _load_header(path)
    header = image.header
    shape = tuple(int(n) for n in header.get_data_shape())
    check_header_shape(path, shape, max_voxels=max_voxels)
    _refuse_vector(path, header, shape)
    needed = int(np.prod(shape)) * header.get_data_dtype().itemsize
    offset = int(image.dataobj.offset)  # the loaded header copy resets vox_offset
    if _is_gzip_name(path):
        blob = _decompress_verified(path)
        check_data_fits(path, needed_bytes=needed, available_bytes=len(blob) - offset)
        image = type(image).from_bytes(blob)
    else:
        check_data_fits(path, needed_bytes=needed, available_bytes=path.stat().st_size - offset)
    index, notes = _first_volume_index(shape)
    try:
        array = np.asarray(image.dataobj[index], dtype=np.float32)
    except _STREAM_ERRORS as exc:
        raise VolumeLoadError(path, f"the voxel data is truncated or corrupt ({library_message(exc)})") from exc
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    notes += _orientation_notes(path, header)
    volume = Volume.from_ras_affine(array, image.affine, name=_stem(path))
    return RawRead(volume, stored_modality=_descrip_modality(header), notes=notes)


def _load_header(path: Path):
    if _is_gzip_name(path):
        with path.open("rb") as handle:
            if handle.read(2) != _GZIP_MAGIC:
                raise VolumeLoadError(path, "the name ends in .gz but the file is not gzip-compressed")
    elif path.stat().st_size < _NIFTI1_HEADER_BYTES:
        raise VolumeLoadError(
            path, f"the file has {path.stat().st_size} bytes, too small for a NIfTI header ({_NIFTI1_HEADER_BYTES})"
        )
    try:
        return nib.load(str(path), mmap=False)  # never keep a Volume tied to a file that may vanish
    except _STREAM_ERRORS as exc:
        raise VolumeLoadError(path, f"the gzip stream is truncated or corrupt ({library_message(exc)})") from exc
    except Exception as exc:  # nibabel raises several unrelated types for a bad header
        if _is_gzip_name(path):
            _decompress_verified(path)  # a damaged gzip stream says so rather than "not NIfTI"
        raise VolumeLoadError(path, f"not a valid NIfTI file ({library_message(exc)})") from exc


def _decompress_verified(path: Path) -> bytes:
    """The whole decompressed file, read to the end so gzip checks its CRC and length.

    nibabel stops reading at the last voxel, before gzip would notice a damaged stream.
    """
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read()
    except _STREAM_ERRORS as exc:
        raise VolumeLoadError(path, f"the gzip stream is truncated or corrupt ({library_message(exc)})") from exc


def _refuse_vector(path: Path, header, shape: tuple[int, ...]) -> None:
    dtype = header.get_data_dtype()
    if dtype.fields is not None or dtype.kind == "c":
        raise VolumeLoadError(path, f"voxels are {dtype} (RGB or complex); a scalar scan is needed")
    if int(header["intent_code"]) in _VECTOR_INTENTS or (len(shape) >= 5 and int(np.prod(shape[4:])) > 1):
        raise VolumeLoadError(path, f"a vector image (shape {shape}); a scalar scan is needed")


def _first_volume_index(shape: tuple[int, ...]) -> tuple[tuple, list[str]]:
    """Index taking the whole first 3-D volume, and a note when a 4-D series was cut."""
    spatial = min(len(shape), 3)
    index = (slice(None),) * spatial + (0,) * (len(shape) - spatial)
    extra = shape[3] if len(shape) >= 4 else 1
    notes = [f"4-D image with {extra} volumes (shape {shape}): took the first"] if extra > 1 else []
    return index, notes


def _orientation_notes(path: Path, header) -> list[str]:
    if int(header["qform_code"]) != 0 or int(header["sform_code"]) != 0:
        return []
    notes = ["NIfTI header sets neither qform nor sform: orientation is unknown, used voxel sizes only"]
    sizes = _stored_voxel_sizes(path)
    if any(not size > 0 for size in sizes):
        notes.insert(
            0, f"the header's voxel sizes {sizes} are not all positive: used their absolute values, 1 mm for 0"
        )
    return notes


def _stored_voxel_sizes(path: Path) -> list[float]:
    """pixdim[1:4] as the file stores them (nibabel's loaded header already made them positive)."""
    with gzip.open(path, "rb") if _is_gzip_name(path) else path.open("rb") as handle:
        block = handle.read(_NIFTI1_HEADER_BYTES)
    try:
        header = nib.Nifti1Header(block, check=False)
    except Exception:  # NIfTI-2 or odd endianness: nothing to report
        return []
    return [float(size) for size in header["pixdim"][1:4]]


def _descrip_modality(header) -> str | None:
    descrip = header["descrip"].item()
    text = descrip.decode("latin-1", "replace") if isinstance(descrip, bytes) else str(descrip)
    match = _DESCRIP_MODALITY.search(text)
    return match.group(1) if match else None


def _is_gzip_name(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".nii.gz", ".nii"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name

"""Turning uploaded bytes into a Volume (pure: no streamlit): safe zip extraction, temp files."""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from fusion_core.io.errors import VolumeLoadError
from fusion_core.io.readers import load_volume_with_report
from fusion_core.volume import Volume

DEFAULT_MAX_TOTAL_BYTES = 2 * 2**30
DEFAULT_MAX_FILES = 5000
#: Uploads above this many megabytes are refused before parsing (``$FUSION_MAX_UPLOAD_MB``);
#: ``.streamlit/config.toml``'s ``server.maxUploadSize`` holds the same number.
DEFAULT_MAX_UPLOAD_MB = 1024
#: Suffixes an upload may have (longest first, so ``.nii.gz`` wins over ``.gz``).
UPLOAD_SUFFIXES = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr", ".dcm", ".dicom", ".ima", ".zip")
_CHUNK = 1 << 20


def extract_zip_safely(
    zip_source: str | Path | bytes,
    target_dir: str | Path,
    *,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    label: str | None = None,
) -> Path:
    """Extract a zip archive, refusing anything that could escape ``target_dir`` or fill the disk.

    Refused: absolute member names, ``..`` traversal, symlinks, more than ``max_files`` members,
    a declared or actual uncompressed total above ``max_total_bytes`` (the actual size is
    counted while streaming, so a lying header cannot get past it).

    Args:
        zip_source: path to a ``.zip`` file, or its bytes.
        target_dir: folder to extract into (created).
        max_total_bytes: the most uncompressed bytes allowed in all.
        max_files: the most members allowed.
        label: the archive's name in messages (default: its path, or "<uploaded zip>" for bytes).

    Returns:
        ``target_dir`` as a Path.

    Raises:
        VolumeLoadError: naming the archive and the offending member.
    """
    default = Path(zip_source) if isinstance(zip_source, str | Path) else Path("<uploaded zip>")
    label = Path(label) if label else default
    target = Path(target_dir)
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_source) if isinstance(zip_source, bytes) else zip_source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise VolumeLoadError(label, f"not a readable zip archive ({exc})") from exc
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        _check_members(label, members, max_total_bytes=max_total_bytes, max_files=max_files)
        target.mkdir(parents=True, exist_ok=True)
        written = 0
        for info in members:
            written = _extract_member(label, archive, info, target, written=written, max_total_bytes=max_total_bytes)
    return target


def load_upload(
    filename: str,
    data: bytes,
    workdir: str | Path,
    *,
    modality: str | None = None,
    max_bytes: int | None = None,
) -> tuple[Volume, list[str]]:
    """Load an uploaded file: an image file, or a zip of a DICOM series (or of one image file).

    The user's file name is used only in messages and to pick a reader by its suffix; the bytes
    are written under ``workdir`` as ``upload<suffix>`` (never under the user's name), and every
    message names the user's file, never ``workdir``.

    Args:
        filename: the name the user's file had.
        data: the file's bytes.
        workdir: a scratch folder owned by the caller (the app's per-session temp dir).
        modality: as for :func:`~fusion_core.io.load_volume` (a DICOM Modality tag wins over it).
        max_bytes: refuse larger uploads before parsing (default :func:`max_upload_bytes`).

    Returns:
        (volume, notes) as :func:`~fusion_core.io.load_volume_with_report` returns them.

    Raises:
        VolumeLoadError: too large, empty, unsupported type, bad archive, unreadable file; the
            error's ``path`` is the user's file name.
    """
    shown = display_name(filename)
    suffix = _check_upload(shown, data, max_upload_bytes() if max_bytes is None else max_bytes)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if suffix == ".zip":
            folder = extract_zip_safely(data, workdir / "upload", label=shown)
            return load_volume_with_report(folder, modality=modality)
        destination = workdir / f"upload{suffix}"
        destination.write_bytes(data)
        return load_volume_with_report(destination, modality=modality)
    except VolumeLoadError as error:
        problem = error.problem.replace(f"{workdir}/", "").replace(str(workdir), "").replace(f"upload{suffix}", shown)
        raise VolumeLoadError(shown, problem) from None


def max_upload_bytes() -> int:
    """The upload size limit: ``$FUSION_MAX_UPLOAD_MB`` megabytes, else :data:`DEFAULT_MAX_UPLOAD_MB`."""
    return int(float(os.environ.get("FUSION_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)) * 2**20)


def display_name(filename: str) -> str:
    """The base name of the user's file, printable and at most 120 characters (for messages only)."""
    base = PurePosixPath(str(filename).replace("\\", "/")).name
    printable = "".join(char if char.isprintable() else "?" for char in base)[:120]
    return printable or "upload"


def _check_upload(shown: str, data: bytes, limit: int) -> str:
    """Refuse before parsing: over the size limit, empty, or an unsupported type; return the suffix."""
    if len(data) > limit:
        raise VolumeLoadError(
            shown,
            f"the file is {len(data) / 2**20:,.1f} MB, above the upload limit of {limit / 2**20:,.0f} MB "
            "(set FUSION_MAX_UPLOAD_MB to change it)",
        )
    if not data:
        raise VolumeLoadError(shown, "the uploaded file is empty (0 bytes)")
    name = shown.lower()
    suffix = next((s for s in UPLOAD_SUFFIXES if name.endswith(s)), None)
    if suffix is None and data[128:132] == b"DICM":
        suffix = ".dcm"  # a DICOM file without a suffix, as scanners export them
    if suffix is None:
        raise VolumeLoadError(
            shown, f"unsupported file type; upload one of {', '.join(UPLOAD_SUFFIXES)} (a DICOM series as a .zip)"
        )
    return suffix


def _check_members(label: Path, members: list[zipfile.ZipInfo], *, max_total_bytes: int, max_files: int) -> None:
    if len(members) > max_files:
        raise VolumeLoadError(label, f"the archive holds {len(members):,} files, more than the limit of {max_files:,}")
    declared = sum(info.file_size for info in members)
    if declared > max_total_bytes:
        raise VolumeLoadError(
            label, f"the archive would unpack to {declared:,} bytes, more than the limit of {max_total_bytes:,}"
        )
    for info in members:
        _check_member_name(label, info)


def _check_member_name(label: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise VolumeLoadError(label, f"member '{info.filename}' has an absolute path; refusing to extract")
    if ".." in parts:
        raise VolumeLoadError(label, f"member '{info.filename}' escapes the target folder ('..'); refusing to extract")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise VolumeLoadError(label, f"member '{info.filename}' is a symbolic link; refusing to extract")


def _extract_member(
    label: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, *, written: int, max_total_bytes: int
) -> int:
    """Stream one member to disk, counting real bytes; returns the running total."""
    destination = target.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
    if not destination.resolve().is_relative_to(target.resolve()):
        raise VolumeLoadError(label, f"member '{info.filename}' escapes the target folder; refusing to extract")
    destination.parent.mkdir(parents=True, exist_ok=True)
    member_bytes = 0
    try:
        with archive.open(info) as source, destination.open("wb") as sink:
            while chunk := source.read(_CHUNK):
                member_bytes += len(chunk)
                written += len(chunk)
                if member_bytes > info.file_size or written > max_total_bytes:
                    raise VolumeLoadError(
                        label,
                        f"member '{info.filename}' unpacks to more than it declares or than the limit "
                        f"of {max_total_bytes:,} bytes (a zip bomb?); extraction stopped",
                    )
                sink.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise VolumeLoadError(label, f"member '{info.filename}' is corrupt ({exc})") from exc
    return written

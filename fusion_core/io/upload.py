"""Turning uploaded bytes into a Volume (pure: no streamlit): safe zip extraction, temp files."""

from __future__ import annotations

import io
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from fusion_core.io.errors import VolumeLoadError
from fusion_core.io.readers import load_volume_with_report
from fusion_core.volume import Volume

DEFAULT_MAX_TOTAL_BYTES = 2 * 2**30
DEFAULT_MAX_FILES = 5000
_CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def extract_zip_safely(
    zip_source: str | Path | bytes,
    target_dir: str | Path,
    *,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
) -> Path:
    """Extract a zip archive, refusing anything that could escape ``target_dir`` or fill the disk.

    Refused: absolute member names, ``..`` traversal, symlinks, more than ``max_files`` members,
    a declared or actual uncompressed total above ``max_total_bytes`` (the actual size is
    counted while streaming, so a lying header cannot get past it).

    Args:
        zip_source: path to a ``.zip`` file, or its bytes.
        target_dir: folder to extract into (created).

    Returns:
        ``target_dir`` as a Path.

    Raises:
        VolumeLoadError: naming the archive and the offending member.
    """
    label = Path(zip_source) if isinstance(zip_source, str | Path) else Path("<uploaded zip>")
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
    filename: str, data: bytes, workdir: str | Path, *, modality: str | None = None
) -> tuple[Volume, list[str]]:
    """Load an uploaded file: an image file, or a zip of a DICOM series (or of one image file).

    Args:
        filename: the name the user's file had (only its suffix and stem are used).
        data: the file's bytes.
        workdir: a scratch folder owned by the caller (the app's session temp dir).
        modality: as for :func:`~fusion_core.io.load_volume` (a DICOM Modality tag wins over it).

    Returns:
        (volume, notes) as :func:`~fusion_core.io.load_volume_with_report` returns them.

    Raises:
        VolumeLoadError: bad archive, unsupported or unreadable file.
    """
    safe = _safe_filename(filename)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if not data:
        raise VolumeLoadError(Path(safe), "the uploaded file is empty (0 bytes)")
    if safe.lower().endswith(".zip"):
        folder = extract_zip_safely(data, workdir / safe[: -len(".zip")], max_total_bytes=DEFAULT_MAX_TOTAL_BYTES)
        return load_volume_with_report(folder, modality=modality)
    destination = workdir / safe
    destination.write_bytes(data)
    return load_volume_with_report(destination, modality=modality)


def _safe_filename(filename: str) -> str:
    """The base name of ``filename`` with unusual characters replaced (keeps ``.nii.gz``)."""
    base = PurePosixPath(str(filename).replace("\\", "/")).name
    cleaned = _SAFE_NAME.sub("_", base).lstrip(".")
    return cleaned or "upload"


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

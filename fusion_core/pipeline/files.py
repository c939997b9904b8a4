"""Atomic writes (temporary name, then rename) and content digests of a subject's input files."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from fusion_core.io import save_volume

TEMP_PREFIX = ".tmp-"


def temp_path(path: Path) -> Path:
    """A hidden temporary name beside ``path`` that keeps its suffix (writers choose the format by it)."""
    return path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{path.name}")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed to ``path``, on failure it is removed.

    A reader never sees half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default))


def save_volume_atomic(volume, path: str | Path) -> None:
    """Save ``volume`` to ``path`` atomically (the format follows the suffix)."""
    with atomic_path(path) as tmp:
        save_volume(volume, tmp)


def write_transform_atomic(transform, path: str | Path) -> None:
    """Write a SimpleITK transform to ``path`` atomically."""
    with atomic_path(path) as tmp:
        sitk.WriteTransform(transform, str(tmp))


def remove_temporaries(folder: str | Path) -> int:
    """Delete temporary files a killed run left under ``folder``; returns how many."""
    folder = Path(folder)
    stale = list(folder.rglob(f"{TEMP_PREFIX}*")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def file_digest(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """blake2b of a file's bytes (16 hex digits)."""
    digest = hashlib.blake2b(digest_size=8)
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def files_digest(files: Mapping[str, str | Path]) -> dict[str, str]:
    """Role -> content digest of every file (e.g. {"ct": "9f..", "mr": "1c.."})."""
    return {role: file_digest(path) for role, path in sorted(files.items())}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")

"""Which server folders a visitor may open: the configured data roots.

The Data page's "Folder on this machine" reads whatever path a visitor types, with the server's
permissions. Paths are resolved (symlinks, ``..``) and must then lie under a data root:
``$FUSION_DATA_ROOTS`` (folders separated by ``os.pathsep``), else the working directory's ``data``
folder, plus the user's home folder when the server listens on localhost only.
"""

from __future__ import annotations

import os
from pathlib import Path

from fusion_core.errors import FusionError

ROOTS_VARIABLE = "FUSION_DATA_ROOTS"
LOCAL_ADDRESSES = ("127.0.0.1", "localhost", "::1")


class PathNotAllowedError(FusionError):
    """A path lies outside the folders this server may read."""


def is_local_address(address: str | None) -> bool:
    """True when a server bound to ``address`` is reachable from this machine only (unset: every interface)."""
    return (address or "").strip() in LOCAL_ADDRESSES


def data_roots(*, local_only: bool, setting: str | None = None, cwd: Path | None = None) -> list[Path]:
    """The resolved data roots.

    Args:
        local_only: the server listens on localhost only (then the home folder is a default root).
        setting: the roots as ``$FUSION_DATA_ROOTS`` writes them (default: that variable).
        cwd: the working directory (default: the process's).
    """
    setting = os.environ.get(ROOTS_VARIABLE) if setting is None else setting
    if setting and setting.strip():
        named = [Path(part).expanduser() for part in setting.split(os.pathsep) if part.strip()]
    else:
        named = [(cwd or Path.cwd()) / "data"] + ([Path.home()] if local_only else [])
    return [root.resolve() for root in named]


def check_inside_roots(path: str | Path, roots: list[Path]) -> Path:
    """``path`` resolved (``~``, symlinks, ``..``), when it lies under one of ``roots``.

    Raises:
        PathNotAllowedError: it lies elsewhere; the message names the allowed folders and the setting.
    """
    resolved = Path(path).expanduser().resolve()
    if any(resolved.is_relative_to(root) for root in roots):
        return resolved
    allowed = ", ".join(str(root) for root in roots) or "none"
    raise PathNotAllowedError(
        f"{path} is outside the folders this server may read ({allowed}); "
        f"an administrator can allow other folders with {ROOTS_VARIABLE}"
    )

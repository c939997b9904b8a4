"""Where the engine finds its shipped assets and keeps its caches: one place, each one setting.

Assets (model checkpoints and cards, baseline scores, teaching curves) are found by
:func:`assets_dir`: the ``FUSION_ASSETS`` folder when set, else the copy installed with the package
(``pip install .`` puts the checkout's top-level ``assets/`` at ``fusion_core/assets``), else the
source checkout's ``assets/``. Caches (slice tables, feature tables, latent tables, numba's compiled
functions) live under :func:`cache_dir`: ``FUSION_CACHE`` when set, else the user's cache folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ASSETS_ENV = "FUSION_ASSETS"
CACHE_ENV = "FUSION_CACHE"
APP_NAME = "fusion-explorer"
_PACKAGE = Path(__file__).resolve().parent


def assets_dir() -> Path:
    """The folder holding ``models/``, ``baselines/`` and ``teaching/`` (see the module docstring)."""
    configured = os.environ.get(ASSETS_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    installed = _PACKAGE / "assets"
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / "assets"  # a source checkout: assets/ beside fusion_core/


def cache_dir(*parts: str) -> Path:
    """A folder under the cache root (``FUSION_CACHE``, else the user's cache folder), not created.

    Args:
        *parts: sub-folders, e.g. ``cache_dir("slices")``.
    """
    configured = os.environ.get(CACHE_ENV)
    root = Path(configured).expanduser() if configured else user_cache_root() / APP_NAME
    return root.joinpath(*parts)


def user_cache_root() -> Path:
    """The platform's per-user cache folder.

    ``%LOCALAPPDATA%`` on Windows, ``~/Library/Caches`` on macOS, ``$XDG_CACHE_HOME`` or ``~/.cache`` elsewhere.
    """
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"])
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")

"""Work done once per volume object and remembered while the object lives.

Volumes are immutable, and cached results hand the same object back on every rerun, so anything derived
from one volume (its content digest, its browser copy, its windows) is computed once and looked up after.
The memo is weak: it goes when the volume goes.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

from fusion_core.volume import Volume

T = TypeVar("T")
_MEMO: weakref.WeakKeyDictionary[Volume, dict[str, object]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def per_volume(volume: Volume, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per ``volume`` object and ``name``; later calls return the remembered value."""
    with _LOCK:
        known = _MEMO.setdefault(volume, {})
        if name in known:
            return known[name]  # type: ignore[return-value]
    value = compute()
    with _LOCK:
        known[name] = value
    return value

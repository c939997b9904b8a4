"""Models loaded once per worker process (or once per process shared by a Dask worker's threads)."""

from __future__ import annotations

import threading

_LOCK = threading.Lock()
_MODELS: dict[str, object] = {}


def cached_model(name: str):
    """The loaded model ``name`` (shipped name or checkpoint folder), loaded on first use in this process.

    A pool process or Dask worker keeps it for every later subject it runs. The device is chosen by
    ``fusion_core.devices.select_device``: a GPU worker runs the model steps on its GPU.
    """
    with _LOCK:
        if name not in _MODELS:
            # lazy: fusion_core.inference imports torch; this module's import stays torch-free
            from fusion_core.inference import load_model

            _MODELS[name] = load_model(name)
        return _MODELS[name]


def loaded_models() -> list[str]:
    """Names loaded so far in this process (tests check that a worker loads each model once)."""
    with _LOCK:
        return list(_MODELS)

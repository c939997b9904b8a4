"""Cached display copies of volumes, keyed on the volume itself (its content key), never on a name for it.

A page used to name each volume by hand (``display(case_key, "whatif-ref", volume)``); a name that left out
the direction or the model returned another volume's picture. Here the key is the volume's own digest
(:func:`ui.cache_keys.volume_key`), so no name can be wrong.
"""

from __future__ import annotations

import streamlit as st

from fusion_core.viz.display import display_window
from fusion_core.viz.views import canonical
from fusion_core.volume import Volume
from ui.cache_keys import volume_key


def display(volume: Volume) -> Volume:
    """The canonical (display-oriented) copy of ``volume``, once per volume per server."""
    return _canonical(volume_key(volume), volume)


def mr_window(volume: Volume) -> tuple[float, float]:
    """(level, width) of ``volume``'s shared display window (head voxels' percentiles), once per volume."""
    return _window(volume_key(volume), volume)


@st.cache_resource(max_entries=64, show_spinner=False)
def _canonical(volume_key: str, _volume: Volume) -> Volume:
    """``canonical(_volume)``; ``_volume`` is fully determined by ``volume_key`` (its content digest)."""
    return canonical(_volume)


@st.cache_data(max_entries=64, show_spinner=False)
def _window(volume_key: str, _volume: Volume) -> tuple[float, float]:
    """``display_window(_volume)``; ``_volume`` is fully determined by ``volume_key`` (its content digest)."""
    return display_window(_volume)

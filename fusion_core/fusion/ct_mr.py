"""Fusing a CT slice with an MR slice: what each method takes as input (colour fusion paints the bone)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from fusion_core.choices import parse_choice
from fusion_core.fusion.metrics import fusion_metrics
from fusion_core.fusion.pixel import FusionMethod, fuse
from fusion_core.preprocess.window import WINDOW_PRESETS, apply_window

DEFAULT_FUSION_METHOD = FusionMethod.LAPLACIAN
COLOUR_CT_WINDOW = "bone"  # colour fusion paints bone: the CT through the bone window ...
COLOUR_THRESHOLD = 0.45  # ... above 45 % of that window (about 560 HU) is painted


def fusion_inputs(
    method: str | FusionMethod, ct_hu: np.ndarray, ct_unit: np.ndarray, mr_unit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The (A, B, default options) that ``method`` fuses for one CT/MR slice pair on one grid.

    Args:
        method: a :class:`FusionMethod` name.
        ct_hu: (h, w) CT slice in HU.
        ct_unit: (h, w) the same CT slice as displayed, in [0, 1] (through the user's window).
        mr_unit: (h, w) MR slice in [0, 1] (through the MR display window).

    Returns:
        Colour fusion: the bone-window CT, the MR and ``{"threshold": COLOUR_THRESHOLD}``; every other
        method: the displayed CT, the MR and no options.
    """
    if parse_choice(FusionMethod, method, "fusion method") is FusionMethod.COLOUR:
        return apply_window(ct_hu, *WINDOW_PRESETS[COLOUR_CT_WINDOW]), mr_unit, {"threshold": COLOUR_THRESHOLD}
    return ct_unit, mr_unit, {}


def fuse_ct_mr(
    ct_hu: np.ndarray,
    ct_unit: np.ndarray,
    mr_unit: np.ndarray,
    *,
    method: str | FusionMethod = DEFAULT_FUSION_METHOD,
    options: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """Fuse a CT and an MR slice with the named method (inputs from :func:`fusion_inputs`).

    Args:
        options: keyword options that override the method's defaults (e.g. ``{"alpha": 0.3}``).

    Returns:
        (h, w) float32 in [0, 1], or (h, w, 3) RGB for colour fusion.
    """
    a, b, defaults = fusion_inputs(method, ct_hu, ct_unit, mr_unit)
    return fuse(a, b, method=method, **{**defaults, **(options or {})})


def compare_ct_mr(
    ct_hu: np.ndarray,
    ct_unit: np.ndarray,
    mr_unit: np.ndarray,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    methods: Sequence[str | FusionMethod] = tuple(FusionMethod),
) -> dict[str, dict[str, float]]:
    """Fusion metrics of several methods on one slice pair, each scored against the displayed CT and the MR.

    The one method comparison of the package: each method gets the inputs :func:`fusion_inputs` gives it.

    Args:
        ct_hu, ct_unit, mr_unit: as in :func:`fusion_inputs`.
        options: per-method options, e.g. ``{"blend": {"alpha": 0.3}}``.
        methods: the methods to compare (default: every :class:`FusionMethod`).

    Returns:
        {method name: {metric name: value}} (see :func:`~fusion_core.fusion.metrics.fusion_metrics`).
    """
    options = options or {}
    return {
        str(m): fusion_metrics(
            ct_unit, mr_unit, fuse_ct_mr(ct_hu, ct_unit, mr_unit, method=m, options=options.get(str(m)))
        )
        for m in methods
    }

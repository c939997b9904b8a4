"""Run several fusion methods on one slice pair and score each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from fusion_core.fusion.metrics import fusion_metrics
from fusion_core.fusion.pixel import FusionMethod, fuse


def compare_methods(
    a: np.ndarray,
    b: np.ndarray,
    methods: Sequence[str | FusionMethod] = tuple(FusionMethod),
    options: Mapping[str, Mapping] | None = None,
) -> dict[str, dict[str, float]]:
    """Fusion metrics (see :func:`fusion_metrics`) of each method on two [0, 1] slices.

    Args:
        a, b: (h, w) slices in [0, 1] (A: CT, B: MR).
        methods: fusion method names.
        options: per-method keyword options, e.g. ``{"blend": {"alpha": 0.3}}``.

    Returns:
        {method name: {metric name: value}}.
    """
    options = options or {}
    return {str(m): fusion_metrics(a, b, fuse(a, b, method=m, **options.get(str(m), {}))) for m in methods}

"""One entry point over the normalisers, for pages that let the user pick a method by name."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fusion_core.choices import parse_choice
from fusion_core.preprocess.bias import n4_bias_correct
from fusion_core.preprocess.intensity import (
    NormalisationResult,
    histogram_match_volume,
    mr_to_ct_scale_volume,
    percentile_clip_volume,
    zscore_volume,
)
from fusion_core.preprocess.window import WINDOW_PRESETS, apply_window
from fusion_core.volume import Volume


class NormalisationMethod(StrEnum):
    """Intensity normalisation methods (see :func:`normalise`)."""

    CT_WINDOW = "ct_window"
    PERCENTILE_CLIP = "percentile_clip"
    ZSCORE = "zscore"
    MR_TO_CT_SCALE = "mr_to_ct_scale"
    HISTOGRAM_MATCH = "histogram_match"
    N4 = "n4"


NEEDS_REFERENCE = frozenset({NormalisationMethod.MR_TO_CT_SCALE, NormalisationMethod.HISTOGRAM_MATCH})


def window_volume(volume: Volume, *, preset: str = "brain") -> NormalisationResult:
    """Apply a named CT window (see ``WINDOW_PRESETS``); the result is in [0, 1]."""
    if preset not in WINDOW_PRESETS:
        raise ValueError(f"unknown window preset {preset!r}; allowed values: {', '.join(WINDOW_PRESETS)}")
    level, width = WINDOW_PRESETS[preset]
    params = {"method": "ct_window", "preset": preset, "level": level, "width": width}
    return NormalisationResult(volume.with_array(apply_window(volume.array, level, width)), params)


def normalise(
    volume: Volume,
    method: str | NormalisationMethod,
    *,
    mask: Volume | None = None,
    reference: Volume | None = None,
    reference_mask: Volume | None = None,
    **options: Any,
) -> NormalisationResult:
    """Run the normaliser named ``method`` on ``volume``.

    Args:
        volume: the image to normalise.
        method: one of :class:`NormalisationMethod`.
        mask: voxels the statistics come from (same grid as ``volume``).
        reference: the image to match ("histogram_match", "mr_to_ct_scale"); ``reference_mask`` on its grid.
        reference_mask: voxels of ``reference`` its statistics come from.
        **options: passed to the underlying function (e.g. ``preset="bone"``, ``lower=1``).

    Raises:
        ValueError: unknown method, or a reference-based method without a reference.
    """
    method = parse_choice(NormalisationMethod, method, "normalisation method")
    if method in NEEDS_REFERENCE and reference is None:
        raise ValueError(f"normalisation {method.value!r} needs a reference image")
    if method is NormalisationMethod.CT_WINDOW:
        return window_volume(volume, **options)
    if method is NormalisationMethod.PERCENTILE_CLIP:
        return percentile_clip_volume(volume, mask, **options)
    if method is NormalisationMethod.ZSCORE:
        return zscore_volume(volume, mask, **options)
    if method is NormalisationMethod.MR_TO_CT_SCALE:
        return mr_to_ct_scale_volume(volume, reference, mr_mask=mask, ct_mask=reference_mask)
    if method is NormalisationMethod.HISTOGRAM_MATCH:
        return histogram_match_volume(volume, reference, mask=mask, reference_mask=reference_mask, **options)
    return n4_bias_correct(volume, mask, **options)

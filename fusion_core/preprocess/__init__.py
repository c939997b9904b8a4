"""fusion_core.preprocess: resampling, CT windowing, intensity normalisation, N4 bias correction.

Array functions (``zscore``, ``percentile_clip``, ``histogram_match``, ``mr_to_ct_scale``) are pure
numpy and return ``(array, params)``; the ``*_volume`` wrappers and :func:`normalise` return a
:class:`NormalisationResult` (volume + the parameters used).
"""

from fusion_core.choices import parse_choice
from fusion_core.preprocess.bias import n4_bias_correct
from fusion_core.preprocess.intensity import (
    NormalisationResult,
    histogram_match,
    histogram_match_volume,
    mr_to_ct_scale,
    mr_to_ct_scale_volume,
    percentile_clip,
    percentile_clip_volume,
    zscore,
    zscore_volume,
)
from fusion_core.preprocess.masks import ct_head_mask, head_mask, mr_head_mask
from fusion_core.preprocess.normalise import NEEDS_REFERENCE, NormalisationMethod, normalise, window_volume
from fusion_core.preprocess.resample import Interpolator, resample_to
from fusion_core.preprocess.window import WINDOW_PRESETS, WindowPreset, apply_window

__all__ = [
    "NEEDS_REFERENCE",
    "WINDOW_PRESETS",
    "Interpolator",
    "NormalisationMethod",
    "NormalisationResult",
    "WindowPreset",
    "apply_window",
    "ct_head_mask",
    "head_mask",
    "histogram_match",
    "histogram_match_volume",
    "mr_head_mask",
    "mr_to_ct_scale",
    "mr_to_ct_scale_volume",
    "n4_bias_correct",
    "normalise",
    "parse_choice",
    "percentile_clip",
    "percentile_clip_volume",
    "resample_to",
    "window_volume",
    "zscore",
    "zscore_volume",
]

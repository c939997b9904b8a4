"""fusion_core.fusion: pixel-level fusion of registered CT/MR slices and fusion quality metrics."""

from fusion_core.fusion.ct_mr import (
    COLOUR_CT_WINDOW,
    DEFAULT_FUSION_METHOD,
    compare_ct_mr,
    fuse_ct_mr,
    fusion_inputs,
)
from fusion_core.fusion.metrics import entropy, fusion_metrics, luminance, qabf, ssim
from fusion_core.fusion.pixel import (
    FusionMethod,
    alpha_blend,
    checkerboard,
    colour_fusion,
    fuse,
    fuse_volume,
    laplacian_fusion,
    laplacian_pyramid,
    reconstruct_laplacian,
    to_unit,
    wavelet_fusion,
)

__all__ = [
    "COLOUR_CT_WINDOW",
    "DEFAULT_FUSION_METHOD",
    "FusionMethod",
    "alpha_blend",
    "checkerboard",
    "colour_fusion",
    "compare_ct_mr",
    "entropy",
    "fuse",
    "fuse_ct_mr",
    "fuse_volume",
    "fusion_inputs",
    "fusion_metrics",
    "laplacian_fusion",
    "laplacian_pyramid",
    "luminance",
    "qabf",
    "reconstruct_laplacian",
    "ssim",
    "to_unit",
    "wavelet_fusion",
]

"""Does a map point at the lesion? Saliency-in-lesion fraction, the pointing game, and a random-map baseline."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage

from fusion_core.errors import FusionError


def _stack(maps: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    maps, masks = np.asarray(maps, dtype=np.float64), np.asarray(masks) > 0.5
    if maps.shape != masks.shape or maps.ndim not in (2, 3):
        raise FusionError(f"maps and masks need one (y, x) or (n, y, x) shape, got {maps.shape} and {masks.shape}")
    return (maps[None], masks[None]) if maps.ndim == 2 else (maps, masks)


def near(mask: np.ndarray, tolerance_px: int) -> np.ndarray:
    """The (y, x) mask grown by ``tolerance_px`` pixels (Euclidean)."""
    if tolerance_px <= 0:
        return mask
    return ndimage.distance_transform_edt(~mask) <= tolerance_px


def in_lesion_fraction(map_2d: np.ndarray, mask_2d: np.ndarray) -> float:
    """Share of a map's positive mass inside the lesion mask (NaN when the map has none).

    Args:
        map_2d: (y, x) attribution or attention; negative values count as 0.
        mask_2d: (y, x) lesion mask (> 0.5 inside).
    """
    (m,), (k,) = _stack(map_2d, mask_2d)
    positive = np.clip(np.nan_to_num(m), 0, None)
    total = positive.sum()
    return float(positive[k].sum() / total) if total > 0 else float("nan")


def pointing_game(maps: np.ndarray, masks: np.ndarray, *, tolerance_px: int = 2) -> float:
    """Fraction of maps whose maximum falls on the lesion, within ``tolerance_px`` pixels.

    Only maps whose mask holds a lesion count (a slice without one has nothing to point at).

    Args:
        maps: (y, x) or (n, y, x) maps.
        masks: lesion masks of the same shape.
        tolerance_px: a hit may lie this many pixels outside the mask.

    Returns:
        Hits / maps with a lesion, in [0, 1]; NaN when no mask holds a lesion.
    """
    maps, masks = _stack(maps, masks)
    hits = [
        bool(near(k, tolerance_px)[np.unravel_index(np.argmax(np.nan_to_num(m, nan=-np.inf)), m.shape)])
        for m, k in zip(maps, masks, strict=True)
        if k.any()
    ]
    return float(np.mean(hits)) if hits else float("nan")


@dataclasses.dataclass(frozen=True)
class Agreement:
    """Agreement of one map with the lesion, and what a random map would score on the same slice.

    Attributes:
        in_lesion: share of the map's positive mass inside the lesion.
        pointing: 1.0 if its maximum is on the lesion (± tolerance), else 0.0.
        random_in_lesion, random_pointing: the expected values for a map of independent random
            values over the same support (the model's window): lesion area / support area, and
            grown-lesion area / support area.
    """

    in_lesion: float
    pointing: float
    random_in_lesion: float
    random_pointing: float


def agreement(map_2d: np.ndarray, mask_2d: np.ndarray, support_2d: np.ndarray, *, tolerance_px: int = 2) -> Agreement:
    """:class:`Agreement` of a map with a lesion mask, against a random map over ``support_2d`` (where maps exist).

    Raises:
        FusionError: shapes differ, or the support is empty.
    """
    (m,), (k,) = _stack(map_2d, mask_2d)
    support = np.asarray(support_2d) > 0.5
    if support.shape != k.shape or not support.any():
        raise FusionError("agreement needs a non-empty support of the map's shape")
    area = support.sum()
    return Agreement(
        in_lesion=in_lesion_fraction(m, k),
        pointing=pointing_game(m, k, tolerance_px=tolerance_px),
        random_in_lesion=float((k & support).sum() / area),
        random_pointing=float((near(k, tolerance_px) & support).sum() / area),
    )


def agreement_table(
    maps: dict[str, np.ndarray], mask_2d: np.ndarray, support_2d: np.ndarray, *, tolerance_px: int = 2
) -> list[dict[str, float | str]]:
    """One row per named map: in-lesion fraction and pointing hit, beside a random map's expected values."""
    rows = []
    for name, m in maps.items():
        a = agreement(m, mask_2d, support_2d, tolerance_px=tolerance_px)
        rows.append(
            {
                "map": name,
                "in-lesion fraction": a.in_lesion,
                "random map: in-lesion": a.random_in_lesion,
                f"pointing game (± {tolerance_px} px)": a.pointing,
                "random map: pointing": a.random_pointing,
            }
        )
    return rows

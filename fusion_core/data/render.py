"""Render the continuous head onto a scanner grid: tissue values, partial volume, blur, noise, bias.

Two ways to get partial volume and scanner blur:

* analytic (default, ``supersample=1``): one evaluation per voxel; the occupancy ramp is widened so
  that it also carries the site's Gaussian blur (:func:`ramp_width`), so no convolution is needed;
* supersampled (``supersample=k``): hard-edged evaluation at k^3 points per voxel, blurred with
  scipy on that fine grid, then block-averaged. More than k^3 times the work; the reference the
  analytic way is checked against (benchmarks/bench_phantom.py). Use an odd k for labels sampled
  exactly at voxel centres.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import SimpleITK as sitk

from fusion_core.data.acquisition import Grid, bias_field, blur, inverse_map_points, rician
from fusion_core.data.anatomy import HeadAnatomy, compose, render_layers
from fusion_core.data.sites import ScannerSite
from fusion_core.data.tissues import (
    BONE_TISSUES,
    BRAIN_TISSUES,
    TISSUE_PROPERTIES,
    Tissue,
    spin_echo_signal,
)
from fusion_core.volume import Volume

T1_SCALE = 1400.0  # spin-echo signal (0..~0.65) -> arbitrary units roughly 0..1000
T2_SCALE = 1500.0
_SLAB = 8  # coarse slices per chunk when supersampling (bounds memory)


@dataclasses.dataclass(frozen=True)
class Scene:
    """What is imaged and how: the subject, its CT->MR transform and the site.

    Attributes:
        anatomy: the subject (with its lesion, if any).
        transform: CT physical -> MR physical (ITK convention).
        site: scanner preset.
        conspicuity: {"CT": c, "MR": m} lesion contrast scaling.
        supersample: 1 = analytic partial volume; k > 1 = k^3 hard-edged samples per voxel + scipy blur.
    """

    anatomy: HeadAnatomy
    transform: sitk.Euler3DTransform
    site: ScannerSite
    conspicuity: dict[str, float]
    supersample: int = 1


def ramp_width(voxel_mm: float, blur_mm: float) -> float:
    """Width of the partial-volume ramp that also stands in for the scanner's Gaussian blur.

    The occupancy ramp for width ``w`` spreads an edge like a box of variance ``w^2 / 12``; a
    Gaussian of sigma ``blur_mm`` adds its variance. Matching variances blurs every edge
    analytically, with no convolution pass over the volume.
    """
    return float(np.sqrt(voxel_mm**2 + 12.0 * blur_mm**2))


def tissue_tables(anatomy: HeadAnatomy, site: ScannerSite) -> dict[str, np.ndarray]:
    """Channel ("CT", "T1", "T2") -> (n_tissues,) noise-free value of each tissue at this site."""
    props = dict(TISSUE_PROPERTIES)
    if anatomy.lesion is not None:
        props[Tissue.LESION] = anatomy.lesion.props
    n = len(Tissue)
    ct, t1, t2 = np.zeros(n), np.zeros(n), np.zeros(n)
    for tissue, p in props.items():
        ct[tissue] = p.hu
        t1[tissue] = T1_SCALE * spin_echo_signal(p, tr_ms=site.t1w_tr_ms, te_ms=site.t1w_te_ms, t1_scale=site.t1_scale)
        t2[tissue] = T2_SCALE * spin_echo_signal(p, tr_ms=site.t2w_tr_ms, te_ms=site.t2w_te_ms, t1_scale=site.t1_scale)
    return {"CT": ct, "T1": t1, "T2": t2}


def _lesion_weights(conspicuity: dict[str, float]) -> dict[str, np.ndarray]:
    weights = {}
    for channel, key in (("CT", "CT"), ("T1", "MR"), ("T2", "MR")):
        w = np.ones(len(Tissue))
        w[Tissue.LESION] = conspicuity[key]
        weights[channel] = w
    return weights


def _evaluate(scene: Scene, points: np.ndarray, channels: Sequence[str], h: float) -> tuple[dict, np.ndarray]:
    tables = {k: v for k, v in tissue_tables(scene.anatomy, scene.site).items() if k in channels}
    layers = render_layers(scene.anatomy, points, h)
    images, labels = compose(layers, points.shape[1], tables, _lesion_weights(scene.conspicuity))
    if scene.anatomy.texture is not None:
        _add_texture(images, labels, points, scene.anatomy.texture)
    return images, labels


# Tissue heterogeneity: HU standard deviation per tissue on CT, relative on MR.
_CT_TEXTURE_HU = np.zeros(len(Tissue), dtype=np.float32)
for _tissue, _sd in {
    Tissue.SCALP: 3.0,
    Tissue.FAT: 5.0,
    Tissue.CORTICAL_BONE: 60.0,
    Tissue.DIPLOE: 50.0,
    Tissue.GREY_MATTER: 1.5,
    Tissue.WHITE_MATTER: 1.5,
    Tissue.DEEP_GREY: 1.5,
    Tissue.LESION: 3.0,
}.items():
    _CT_TEXTURE_HU[_tissue] = _sd
_MR_TEXTURE = np.float32(0.025)


def _add_texture(images: dict[str, np.ndarray], labels: np.ndarray, points: np.ndarray, texture) -> None:
    """Smooth anatomical heterogeneity (the same in CT and MR: it lives in anatomy space)."""
    tissue = np.flatnonzero((labels != Tissue.AIR) & (labels != Tissue.SINUS))
    field = texture(points[0, tissue], points[1, tissue], points[2, tissue])
    for name, image in images.items():
        if name == "CT":
            image[tissue] += _CT_TEXTURE_HU[labels[tissue]] * field
        else:
            image[tissue] *= 1.0 + _MR_TEXTURE * field


def render_clean(
    scene: Scene, grid: Grid, channels: Sequence[str], *, mr_space: bool, blur_mm: float
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Noise-free images (already blurred) and tissue labels on ``grid``.

    Args:
        scene: subject, transform, site.
        grid: the scanner grid.
        channels: subset of ("CT", "T1", "T2").
        mr_space: True when ``grid`` lives in MR physical space (points go through the inverse transform).
        blur_mm: scanner blur sigma.

    Returns:
        (channel -> (z, y, x) float32, (z, y, x) uint8 tissue labels).
    """
    if scene.supersample > 1:
        return _render_supersampled(scene, grid, channels, mr_space=mr_space, blur_mm=blur_mm)
    points = grid.points()
    if mr_space:
        points = inverse_map_points(scene.transform, points)
    images, labels = _evaluate(scene, points, channels, ramp_width(grid.voxel_mm, blur_mm))
    return {k: v.reshape(grid.shape) for k, v in images.items()}, labels.reshape(grid.shape)


def _render_supersampled(
    scene: Scene, grid: Grid, channels: Sequence[str], *, mr_space: bool, blur_mm: float
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Reference renderer: k^3 hard-edged samples per voxel, Gaussian-blurred on the fine grid, averaged.

    Blurring before averaging keeps sub-voxel sigmas exact (a sigma under half a voxel is poorly
    sampled on the coarse grid). Slabs overlap by the blur's reach so chunking leaves no seams.
    """
    k = scene.supersample
    nz = grid.shape[0]
    halo = int(np.ceil(3.0 * blur_mm / grid.spacing[2])) if blur_mm > 0 else 0
    images = {c: np.empty(grid.shape, dtype=np.float32) for c in channels}
    labels = np.empty(grid.shape, dtype=np.uint8)
    for z0 in range(0, nz, _SLAB):
        z1 = min(z0 + _SLAB, nz)
        lo, hi = max(0, z0 - halo), min(nz, z1 + halo)
        fine = grid.sub_slab(lo, hi).refined(k)
        points = fine.points()
        if mr_space:
            points = inverse_map_points(scene.transform, points)
        values, fine_labels = _evaluate(scene, points, channels, 1e-3)
        keep = slice((z0 - lo) * k, (z1 - lo) * k)
        for c in channels:
            sharp = values[c].reshape(fine.shape)
            images[c][z0:z1] = _block_mean(blur(sharp, blur_mm, fine.spacing)[keep], k)
        labels[z0:z1] = fine_labels.reshape(fine.shape)[keep][k // 2 :: k, k // 2 :: k, k // 2 :: k]
    return images, labels


def _block_mean(array: np.ndarray, k: int) -> np.ndarray:
    nz, ny, nx = (n // k for n in array.shape)
    return array.reshape(nz, k, ny, k, nx, k).mean(axis=(1, 3, 5), dtype=np.float32)


def acquire_ct(clean: np.ndarray, site: ScannerSite, rng: np.random.Generator) -> np.ndarray:
    """Calibration gain/offset and Gaussian noise on a noise-free HU image; clipped to 12-bit CT range."""
    image = clean * np.float32(site.ct_hu_scale) + np.float32(site.ct_hu_offset)
    image += np.float32(site.ct_noise_hu) * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(image, -1024.0, 3071.0).astype(np.float32)


def acquire_mr(
    clean: dict[str, np.ndarray], grid: Grid, site: ScannerSite, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Receiver gain, one shared bias field, and Rician noise on noise-free MR images."""
    field = bias_field(grid, site.mr_bias, rng)
    sigma = site.mr_noise * 1000.0 * site.mr_scale
    return {name: rician(image * field * np.float32(site.mr_scale), sigma, rng) for name, image in clean.items()}


def label_volumes(labels: np.ndarray, grid: Grid) -> tuple[dict[str, Volume], Volume]:
    """Masks ("head", "brain" = intracranial contents, "bone", "lesion") and the tissue map as Volumes."""

    def wrap(mask: np.ndarray, name: str) -> Volume:
        return grid.volume(mask.astype(np.float32), modality="UNKNOWN", name=name)

    masks = {
        "head": wrap(labels != Tissue.AIR, "head"),
        "brain": wrap(np.isin(labels, BRAIN_TISSUES), "brain"),
        "bone": wrap(np.isin(labels, BONE_TISSUES), "bone"),
        "lesion": wrap(labels == Tissue.LESION, "lesion"),
    }
    return masks, wrap(labels, "tissue")

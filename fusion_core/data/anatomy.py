"""A continuous model of a head (scalp, skull, CSF, folded cortex, white matter, ventricles, nuclei).

The anatomy lives in "anatomy space" = the CT's physical (LPS, mm) space. :func:`sample_anatomy`
draws one subject's shape parameters; :func:`render_layers` evaluates the signed-distance model at
arbitrary physical points (any grid, any orientation) and yields painter's-order layers of
partial-volume occupancies; :func:`compose` turns those layers into intensity images and a label map.

Head frame (``rel``): origin at the centre of the intracranial cavity, axes L (x), P (y), S (z).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from fusion_core.data.sdf import (
    SphereNoise,
    capsule_sd,
    ellipsoid_radius,
    ellipsoid_sd,
    occupancy,
    smooth_min,
)
from fusion_core.data.tissues import Tissue, TissueProperties

_FAR = np.float32(1e4)


@dataclasses.dataclass(frozen=True)
class Lesion:
    """One lesion in the head frame.

    Attributes:
        kind: lesion type name ("calcified", "oedema", "haemorrhage").
        center: (3,) position in the head frame, mm.
        radius_mm: mean radius.
        edge_mm: extra softness of the boundary (oedema fades out, calcification is sharp).
        props: its CT/MR properties.
        shape_noise: low-order radial deformation.
    """

    kind: str
    center: np.ndarray
    radius_mm: float
    edge_mm: float
    props: TissueProperties
    shape_noise: SphereNoise


@dataclasses.dataclass(frozen=True)
class HeadAnatomy:
    """One subject's head shape parameters (all lengths in mm).

    Attributes:
        center: (3,) centre of the intracranial cavity in anatomy (CT physical) space.
        pose: (3, 3) rotation from the head frame to anatomy space (small head tilt in the scanner).
        cavity_axes: semi-axes (LR, AP, SI) of the intracranial cavity.
        cavity_noise: low-frequency radial deformation of the cavity; ``cavity_amp`` its amplitude.
        egg: posterior widening of the cavity (fraction).
        skull_mm, table_mm: skull thickness and cortical table thickness; ``skull_noise`` varies it.
        galea_mm, fat_mm, skin_mm, temporalis_mm: scalp layers (temporalis adds over the temples).
        csf_mm: subarachnoid CSF thickness; cortex_mm: grey-matter thickness.
        sulci: sphere noise whose zero lines are the sulci; sulcus_depth_mm, sulcus_width_mm.
        depth_noise: modulates sulcal depth.
        fissure_mm: width of the interhemispheric and Sylvian fissures.
        ventricle_scale: scales ventricle calibre (atrophy).
        texture: smooth tissue heterogeneity, plane waves over anatomy-space mm (~16 mm wavelength).
        lesion: the lesion, or None.
    """

    center: np.ndarray
    pose: np.ndarray
    cavity_axes: tuple[float, float, float]
    cavity_noise: SphereNoise
    cavity_amp: float
    egg: float
    skull_mm: float
    table_mm: float
    skull_noise: SphereNoise
    galea_mm: float
    fat_mm: float
    skin_mm: float
    temporalis_mm: float
    csf_mm: float
    cortex_mm: float
    sulci: SphereNoise
    depth_noise: SphereNoise
    sulcus_depth_mm: float
    sulcus_width_mm: float
    fissure_mm: float
    ventricle_scale: float
    texture: SphereNoise | None = None
    lesion: Lesion | None = None


def _rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    mx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    my = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    mz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return mz @ mx @ my


def sample_anatomy(rng: np.random.Generator) -> HeadAnatomy:
    """Draw a random but plausible adult head (no lesion; see :func:`with_lesion`).

    Sizes: about 150-190 mm AP and 135-155 mm LR over the scalp.
    """
    scale = rng.normal(1.0, 0.035)
    axes = (
        59.0 * scale * rng.normal(1, 0.03),
        78.0 * scale * rng.normal(1, 0.03),
        58.0 * scale * rng.normal(1, 0.03),
    )
    atrophy = rng.uniform(0.0, 1.0)
    pose = _rotation(*np.deg2rad(rng.uniform(-4, 4, 3) * np.array([1.0, 0.4, 0.4])))
    return HeadAnatomy(
        center=np.array([rng.uniform(-3, 3), rng.uniform(-3, 3), 5.0 + rng.uniform(-3, 3)]),
        pose=pose,
        cavity_axes=axes,
        cavity_noise=SphereNoise.sample(rng, n_terms=8, frequency=2.2),
        cavity_amp=float(rng.uniform(0.015, 0.03)),
        egg=float(rng.uniform(0.02, 0.06)),
        skull_mm=float(rng.uniform(6.0, 8.0)),
        table_mm=float(rng.uniform(1.5, 2.2)),
        skull_noise=SphereNoise.sample(rng, n_terms=6, frequency=3.0),
        galea_mm=float(rng.uniform(1.5, 2.5)),
        fat_mm=float(rng.uniform(2.5, 4.5)),
        skin_mm=float(rng.uniform(1.8, 2.5)),
        temporalis_mm=float(rng.uniform(3.0, 5.0)),
        csf_mm=float(1.6 + 1.6 * atrophy),
        cortex_mm=float(rng.uniform(2.6, 3.3)),
        sulci=SphereNoise.sample(rng, n_terms=12, frequency=rng.uniform(19.0, 23.0)),
        depth_noise=SphereNoise.sample(rng, n_terms=5, frequency=4.0),
        sulcus_depth_mm=float(rng.uniform(10.0, 15.0)),
        sulcus_width_mm=float(1.2 + 1.2 * atrophy),
        fissure_mm=float(1.0 + 1.0 * atrophy),
        ventricle_scale=float(0.85 + 0.45 * atrophy + rng.normal(0, 0.05)),
        texture=SphereNoise.sample(rng, n_terms=6, frequency=2 * np.pi / 16.0),
    )


# ------------------------------------------------------------------------------------------ points
@dataclasses.dataclass
class _Points:
    """Flat point coordinates in the head frame, with their spherical parts (lazily)."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray

    def take(self, idx: np.ndarray) -> _Points:
        return _Points(self.x[idx], self.y[idx], self.z[idx])

    def spherical(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        r = np.sqrt(self.x**2 + self.y**2 + self.z**2)
        inv = 1.0 / np.maximum(r, np.float32(1e-3))
        return r, self.x * inv, self.y * inv, self.z * inv


def to_head_frame(anatomy: HeadAnatomy, points: np.ndarray) -> _Points:
    """(3, n) anatomy-space points (mm) -> head-frame coordinates (float32)."""
    rel = anatomy.pose.T @ (np.asarray(points, dtype=np.float64) - anatomy.center[:, None])
    rel = rel.astype(np.float32)
    return _Points(rel[0], rel[1], rel[2])


# ------------------------------------------------------------------------------------------ layers
@dataclasses.dataclass(frozen=True)
class Layer:
    """Painter's-order overlay: tissue ``tissue`` covers fraction ``occ`` of the points ``idx``."""

    tissue: Tissue
    idx: np.ndarray | None  # None means every point
    occ: np.ndarray


@dataclasses.dataclass(frozen=True)
class Chain:
    """Nested layers (each inside the one before, e.g. skin > fat > bone > CSF > GM > WM) on points ``idx``.

    Partial volume of nested shells thinner than a voxel is only right when composed as nested
    fractions, ``sum_k (occ_k - occ_k+1) * value_k``, not as successive overlays.
    """

    tissues: tuple[Tissue, ...]
    idx: np.ndarray
    occs: tuple[np.ndarray, ...]


def _cavity_radius(anatomy: HeadAnatomy, ux: np.ndarray, uy: np.ndarray, uz: np.ndarray) -> np.ndarray:
    radius = ellipsoid_radius(ux, uy, uz, anatomy.cavity_axes)
    deform = 1.0 + anatomy.cavity_amp * anatomy.cavity_noise(ux, uy, uz) + anatomy.egg * uy
    # A flatter skull base: shrink the lowest part of the cavity.
    flat = 1.0 - 0.12 * np.clip(-uz - 0.45, 0.0, None)
    # Orbital roofs: the anterior cranial fossa sits above the orbits.
    orbits = 1.0 - 1.3 * np.clip(-uy - 0.45, 0.0, 1.0) * np.clip(0.05 - uz, 0.0, 1.0)
    return radius * deform * flat * orbits


def _lower_head_sd(p: _Points) -> np.ndarray:
    """Neck (elliptic cylinder) merged with a face mass under the frontal skull (far above z = 20)."""
    out = np.full(p.x.shape, _FAR, dtype=np.float32)
    low = np.flatnonzero(p.z < np.float32(20.0))
    q = p.take(low)
    neck = ellipsoid_sd(q.x, q.y - np.float32(8.0), np.zeros_like(q.z), (54.0, 60.0, 1.0))
    neck = np.maximum(neck, q.z + np.float32(35.0))
    out[low] = smooth_min(neck, _face_sd(q), 12.0)
    return out


_EYES = ((30.0, -64.0, -27.0), (-30.0, -64.0, -27.0))


def _face_sd(p: _Points) -> np.ndarray:
    return ellipsoid_sd(p.x, p.y + np.float32(38.0), p.z + np.float32(52.0), (58.0, 56.0, 52.0))


def _face(p: _Points, idx: np.ndarray, h: float) -> Iterator[Layer]:
    """Facial skeleton (a thin bony shell), paranasal sinuses and nasal cavity (air)."""
    face = _face_sd(p)
    front = np.maximum(face + 7.0, p.y + 20.0)  # only the anterior part carries a shell
    yield Layer(Tissue.CORTICAL_BONE, idx, occupancy(front, h))
    yield Layer(Tissue.SCALP, idx, occupancy(face + 9.5, h))
    ax = np.abs(p.x)
    maxillary = ellipsoid_sd(ax - 20.0, p.y + 54.0, p.z + 62.0, (10.0, 13.0, 14.0))
    nasal = ellipsoid_sd(p.x, p.y + 66.0, p.z + 58.0, (5.0, 20.0, 20.0))
    ethmoid = ellipsoid_sd(p.x, p.y + 60.0, p.z + 30.0, (9.0, 12.0, 9.0))
    yield Layer(Tissue.SINUS, idx, occupancy(np.minimum(np.minimum(maxillary, nasal), ethmoid), h))


def _eyes(p: _Points, idx: np.ndarray, h: float) -> Iterator[Layer]:
    """Orbital fat cones with the globes in front."""
    orbits = globes = None
    for cx, cy, cz in _EYES:
        orbit = ellipsoid_sd(p.x - cx, p.y - cy - 7.0, p.z - cz, (14.0, 18.0, 13.0))
        globe = ellipsoid_sd(p.x - cx, p.y - cy, p.z - cz, (11.0, 11.0, 11.0))
        orbits = orbit if orbits is None else np.minimum(orbits, orbit)
        globes = globe if globes is None else np.minimum(globes, globe)
    yield Layer(Tissue.FAT, idx, occupancy(orbits, h))
    yield Layer(Tissue.EYE, idx, occupancy(globes, h))


def render_layers(anatomy: HeadAnatomy, points: np.ndarray, h: float) -> Iterator[Layer | Chain]:
    """Evaluate the head at ``points`` and yield layers in painter's order (later layers win).

    Args:
        anatomy: the subject.
        points: (3, n) anatomy-space (CT physical) points in mm.
        h: voxel width in mm used for the partial-volume ramp.

    Yields:
        :class:`Chain` (the nested head shells down to white matter), then :class:`Layer` overlays;
        ``idx`` indexes the flat points (None = all).
    """
    p = to_head_frame(anatomy, points)
    r, ux, uy, uz = p.spherical()
    r_in, r_outer, r_muscle = _shell_radii(anatomy, r, ux, uy, uz, h)
    lower = _lower_head_sd(p)
    sd_skin = smooth_min(r - (r_muscle + anatomy.fat_mm + anatomy.skin_mm), lower, 15.0)
    head = np.flatnonzero(sd_skin < h)
    # Everything inside the head is evaluated on the head's points only.
    ph, rh, lower_h, r_in_h = p.take(head), r[head], lower[head], r_in[head]
    sd_muscle = smooth_min(rh - r_muscle[head], lower_h + anatomy.skin_mm + anatomy.fat_mm, 15.0)
    sd_outer, sd_cavity = rh - r_outer[head], rh - r_in_h
    inside = np.flatnonzero(sd_cavity < h)
    pc, cav_idx = ph.take(inside), head[inside]
    grey, white = _cerebrum(anatomy, pc, sd_cavity[inside], r_in_h[inside], ux[cav_idx], uy[cav_idx], uz[cav_idx], h)
    shells = (
        (Tissue.SCALP, sd_skin[head]),
        (Tissue.FAT, smooth_min(sd_muscle - anatomy.galea_mm, lower_h + anatomy.skin_mm, 15.0)),
        (Tissue.SCALP, sd_muscle),
        (Tissue.CORTICAL_BONE, sd_outer),
        (Tissue.DIPLOE, sd_outer + anatomy.table_mm),
        (Tissue.CORTICAL_BONE, sd_cavity - anatomy.table_mm),
        (Tissue.CSF, sd_cavity),
    )
    occs = [occupancy(sd, h) for _, sd in shells] + [
        _scatter(grey, inside, len(head)),
        _scatter(white, inside, len(head)),
    ]
    yield Chain((*(t for t, _ in shells), Tissue.GREY_MATTER, Tissue.WHITE_MATTER), head, tuple(occs))
    yield from _extracranial(ph, head, sd_outer, h)
    yield from _posterior_fossa(anatomy, pc, cav_idx, sd_cavity[inside], h)
    yield from _deep_structures(anatomy, pc, cav_idx, h)
    if anatomy.lesion is not None:
        yield from _lesion_layer(anatomy.lesion, anatomy, pc, cav_idx, sd_cavity[inside], h)


def _shell_radii(
    anatomy: HeadAnatomy, r: np.ndarray, ux: np.ndarray, uy: np.ndarray, uz: np.ndarray, h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radii of the inner table, outer table and muscle layer along each point's direction.

    Evaluated only within a bounding sphere of the cranium; elsewhere the radii are 0, which puts
    those points outside every shell.
    """
    bound = max(anatomy.cavity_axes) * (1.0 + 4 * anatomy.cavity_amp + anatomy.egg) + 1.6 * anatomy.skull_mm
    bound += anatomy.galea_mm + anatomy.temporalis_mm + anatomy.fat_mm + anatomy.skin_mm + 20.0 + 2 * h
    near = np.flatnonzero(r < np.float32(bound))
    vx, vy, vz = ux[near], uy[near], uz[near]
    radii = np.zeros((3, r.size), dtype=np.float32)
    radii[0, near] = _cavity_radius(anatomy, vx, vy, vz)
    radii[1, near] = radii[0, near] + anatomy.skull_mm * (1.0 + 0.18 * anatomy.skull_noise(vx, vy, vz))
    temples = np.clip((np.abs(vx) - 0.5) / 0.3, 0, 1) * np.clip(1.0 - np.abs(vz - 0.05) / 0.45, 0, 1)
    radii[2, near] = radii[1, near] + anatomy.galea_mm + anatomy.temporalis_mm * temples
    return radii[0], radii[1], radii[2]


def _scatter(values: np.ndarray, where: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.float32)
    out[where] = values
    return out


def _extracranial(p: _Points, idx: np.ndarray, sd_skull: np.ndarray, h: float) -> Iterator[Layer]:
    """Spine, face, sinuses, spinal canal and orbits; all but the canal kept outside the skull.

    Args:
        p: the n points of the head to paint.
        idx: (n,) their indices into the flat points (what the layers index).
        sd_skull: (n,) signed distance to the skull's outer surface (negative inside), mm.
        h: voxel width in mm used for the partial-volume ramp.
    """
    low = np.flatnonzero(p.z < -10.0)
    yield from _clipped(_spine_bone(p.take(low), idx[low], h), sd_skull[low], h)
    yield from _clipped(_face(p.take(low), idx[low], h), sd_skull[low], h)
    yield from _spinal_canal(p.take(low), idx[low], h)
    front = np.flatnonzero((p.y < -35.0) & (p.z < 0.0) & (np.abs(p.x) > 8.0))
    yield from _clipped(_eyes(p.take(front), idx[front], h), sd_skull[front], h)


def _clipped(layers: Iterator[Layer], sd_skull: np.ndarray, h: float) -> Iterator[Layer]:
    """Remove the skull and what it holds from overlay layers."""
    outside = occupancy(-sd_skull, h)
    for layer in layers:
        yield dataclasses.replace(layer, occ=np.minimum(layer.occ, outside))


def _spine_bone(p: _Points, idx: np.ndarray, h: float) -> Iterator[Layer]:
    body = capsule_sd(p.x, p.y, p.z, (0.0, 0.0, -200.0), (0.0, 2.0, -70.0), (11.0, 11.0))
    arch = capsule_sd(p.x, p.y, p.z, (0.0, 22.0, -200.0), (0.0, 22.0, -70.0), (11.0, 11.0))
    yield Layer(Tissue.CORTICAL_BONE, idx, occupancy(np.minimum(body, arch), h))


def _spinal_canal(p: _Points, idx: np.ndarray, h: float) -> Iterator[Layer]:
    canal = capsule_sd(p.x, p.y, p.z, (0.0, 22.0, -200.0), (0.0, 20.0, -52.0), (7.5, 9.0))
    yield Layer(Tissue.CSF, idx, occupancy(canal, h))
    cord = capsule_sd(p.x, p.y, p.z, (0.0, 22.0, -200.0), (0.0, 18.0, -50.0), (4.5, 6.0))
    yield Layer(Tissue.WHITE_MATTER, idx, occupancy(cord, h))


def _fissures(anatomy: HeadAnatomy, p: _Points) -> np.ndarray:
    """Distance to the interhemispheric fissure (down to the corpus callosum: the deep core) and the Sylvian fissures."""
    half = np.float32(anatomy.fissure_mm / 2)
    core = ellipsoid_sd(np.zeros_like(p.x), p.y - np.float32(4.0), p.z + np.float32(2.0), (1.0, 44.0, 28.0))
    midline = p.x - np.float32(1.2) * np.sin(p.y * np.float32(0.09)) * np.cos(p.z * np.float32(0.07))
    interhemispheric = np.maximum(np.abs(midline) - half, -core)
    sylvian_plane = np.abs(p.z - (np.float32(-10.0) - np.float32(0.35) * p.y)) - half
    sylvian = np.maximum(np.maximum(sylvian_plane, np.float32(33.0) - np.abs(p.x)), np.abs(p.y + 8.0) - 30.0)
    return np.minimum(interhemispheric, sylvian)


def _cerebrum(
    anatomy: HeadAnatomy,
    p: _Points,
    sd_cavity: np.ndarray,
    r_in: np.ndarray,
    ux: np.ndarray,
    uy: np.ndarray,
    uz: np.ndarray,
    h: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Folded cortex: GM ribbon under the CSF layer, sulci as CSF clefts lined with GM, WM inside.

    Sulci are the zero lines of a random field on the sphere; the distance to them is estimated
    from the field value (``arcsin`` keeps gyral crowns wide). Only the outer shell, where sulci can
    reach, evaluates the field.

    Returns:
        (grey-matter occupancy, white-matter occupancy) of the points.
    """
    depth = -sd_cavity  # distance below the inner table
    csf, cortex = np.float32(anatomy.csf_mm), np.float32(anatomy.cortex_mm)
    max_depth = anatomy.csf_mm + 1.3 * anatomy.sulcus_depth_mm + anatomy.cortex_mm + 2 * h
    shell = np.flatnonzero(depth < max_depth)
    sulcus = np.full(depth.shape, _FAR, dtype=np.float32)
    sulcus[shell] = _sulcus_sd(anatomy, r_in[shell], depth[shell], ux[shell], uy[shell], uz[shell])
    gap = np.minimum(sulcus, _fissures(anatomy, p))
    pial = np.maximum(csf - depth, -gap)
    white = np.maximum(csf + cortex - depth, cortex - gap)
    return occupancy(pial, h), occupancy(white, h)


def _sulcus_sd(
    anatomy: HeadAnatomy, r_in: np.ndarray, depth: np.ndarray, ux: np.ndarray, uy: np.ndarray, uz: np.ndarray
) -> np.ndarray:
    """Signed distance to the sulcal CSF clefts (thin sheets hanging from the brain surface)."""
    g = np.abs(anatomy.sulci(ux, uy, uz))
    peak = np.float32(1.5)
    lateral = r_in * np.arcsin(np.minimum(g / peak, 1.0)) * (peak / np.float32(anatomy.sulci.gradient_scale))
    sulcus_depth = anatomy.sulcus_depth_mm * np.clip(0.8 + 0.45 * anatomy.depth_noise(ux, uy, uz), 0.2, 1.3)
    return np.maximum(lateral - np.float32(anatomy.sulcus_width_mm / 2), depth - (anatomy.csf_mm + sulcus_depth))


def _local(
    p: _Points, idx: np.ndarray, center: tuple[float, float, float], radius: float
) -> tuple[_Points, np.ndarray, np.ndarray]:
    """The points within ``radius`` of ``center`` (a cheap bounding sphere for small structures).

    Returns:
        (points, their global indices, their positions within ``p``).
    """
    cx, cy, cz = (np.float32(c) for c in center)
    near = np.flatnonzero((p.x - cx) ** 2 + (p.y - cy) ** 2 + (p.z - cz) ** 2 < np.float32(radius**2))
    return p.take(near), idx[near], near


def _posterior_fossa(
    anatomy: HeadAnatomy, p: _Points, idx: np.ndarray, sd_cavity: np.ndarray, h: float
) -> Iterator[Layer]:
    """Cerebellum (fan of folia, white core) behind the brainstem, under a CSF-filled tentorium."""
    near = np.flatnonzero((p.y > -25.0) & (p.z < 0.0))
    q, sub, cav = p.take(near), idx[near], sd_cavity[near]
    cb = ellipsoid_sd(q.x, q.y - 40.0, q.z + 34.0, (50.0, 30.0, 24.0))
    cb = np.maximum(cb, cav + anatomy.csf_mm)
    yield Layer(Tissue.CSF, sub, occupancy(np.maximum(cb - 2.0, cav), h))
    fissures = np.maximum(_folia_distance(q) - np.float32(0.6), -cb - np.float32(9.0))
    vermis_notch = np.maximum(np.abs(q.x) - 2.0, 58.0 - q.y)
    fissures = np.minimum(fissures, vermis_notch)
    yield Layer(Tissue.GREY_MATTER, sub, occupancy(np.maximum(cb, -fissures), h))
    arbor = ellipsoid_sd(np.abs(q.x) - 14.0, q.y - 34.0, q.z + 32.0, (13.0, 13.0, 10.0))
    yield Layer(Tissue.WHITE_MATTER, sub, occupancy(np.maximum(arbor, 1.5 - fissures), h))
    stem = _brainstem_sd(q)
    # Prepontine cistern in front; only a thin CSF sleeve behind, where the fourth ventricle lies.
    sleeve = np.float32(3.0) - np.float32(2.4) * np.clip((q.y - 4.0) / 12.0, 0.0, 1.0)
    cistern = np.maximum(np.maximum(stem - sleeve, cav), q.z + 14.0)
    yield Layer(Tissue.CSF, sub, occupancy(cistern, h))
    yield Layer(Tissue.WHITE_MATTER, sub, occupancy(stem, h))
    fourth = ellipsoid_sd(q.x, q.y - 22.0, q.z + 32.0, (6.0 * anatomy.ventricle_scale, 3.0, 7.0))
    yield Layer(Tissue.VENTRICLE, sub, occupancy(fourth, h))


def _folia_distance(q: _Points) -> np.ndarray:
    """Distance to the cerebellar fissures: planes fanning out from the fourth ventricle (curved laterally)."""
    dy, dz = q.y - np.float32(22.0), q.z + np.float32(30.0)
    theta = np.arctan2(dz, dy) + np.float32(0.0009) * q.x * q.x
    radius = np.sqrt(dy * dy + dz * dz)
    lamellae = np.float32(26.0)  # fissures per full turn
    return radius * np.abs(np.sin(theta * (lamellae / 2))) * np.float32(2.0 / lamellae)


def _brainstem_sd(q: _Points) -> np.ndarray:
    """Midbrain with cerebral peduncles, pons with its anterior bulge, medulla into the cord."""
    stem = capsule_sd(q.x, q.y, q.z, (0.0, 12.0, -8.0), (0.0, 18.0, -72.0), (9.5, 7.0))
    ax = np.abs(q.x)
    peduncles = capsule_sd(ax, q.y, q.z, (6.0, 6.0, -20.0), (11.0, 2.0, 0.0), (5.5, 5.0))
    pons = ellipsoid_sd(q.x, q.y - 6.0, q.z + 32.0, (15.0, 12.0, 12.0))
    return smooth_min(smooth_min(stem, peduncles, 3.0), pons, 4.0)


def _lateral_ventricle_sd(p: _Points, side: float, scale: float) -> np.ndarray:
    """One lateral ventricle as a chain of tapered tubes (frontal/occipital/temporal horns).

    z is stretched so the tubes are flattened vertically (slit-like bodies in coronal view).
    """
    s = side
    stretch = np.float32(1.35)
    z = p.z * stretch
    septum = 0.6  # half-thickness of the septum pellucidum: the frontal horns and bodies abut it
    nodes = {
        "A": (s * (septum + 5.5 * scale), -30.0, 8.0),  # frontal horn
        "B": (s * (septum + 6.0 * scale), -10.0, 16.0),  # body, against the septum
        "B2": (s * (septum + 5.5 * scale), 8.0, 17.0),
        "C": (s * 17.0, 22.0, 12.0),  # atrium
        "D": (s * 16.0, 42.0, 6.0),  # occipital horn
        "E": (s * 29.0, 10.0, -8.0),  # temporal horn
        "F": (s * 29.0, -14.0, -20.0),
    }
    nodes = {k: (x, y, zz * stretch) for k, (x, y, zz) in nodes.items()}
    segments = (
        ("A", "B", 5.5, 6.0),
        ("B", "B2", 6.0, 5.5),
        ("B2", "C", 5.5, 6.0),
        ("C", "D", 5.5, 1.5),
        ("C", "E", 5.0, 3.0),
        ("E", "F", 3.0, 2.0),
    )
    sd = None
    for a, b, ra, rb in segments:
        part = capsule_sd(p.x, p.y, z, nodes[a], nodes[b], (ra * scale, rb * scale))
        sd = part if sd is None else smooth_min(sd, part, 3.0)
    return sd / stretch


def _deep_structures(anatomy: HeadAnatomy, p: _Points, idx: np.ndarray, h: float) -> Iterator[Layer]:
    """Lateral ventricles (butterfly: caudate heads indent them), basal ganglia, thalami, third ventricle."""
    q, sub, _ = _local(p, idx, (0.0, 2.0, 0.0), 62.0)
    scale = anatomy.ventricle_scale
    lateral = np.minimum(_lateral_ventricle_sd(q, 1.0, scale), _lateral_ventricle_sd(q, -1.0, scale))
    yield Layer(Tissue.VENTRICLE, sub, occupancy(lateral, h))
    ax = np.abs(q.x)
    caudate = smooth_min(
        ellipsoid_sd(ax - 14.0 - 0.5 * scale, q.y + 20.0, q.z - 9.0, (5.5, 10.0, 9.0)),
        capsule_sd(ax, q.y, q.z, (15.0, -12.0, 16.0), (21.0, 14.0, 17.0), (3.0, 2.0)),
        3.0,
    )
    putamen = ellipsoid_sd(ax - 25.0, q.y + 5.0, q.z, (5.5, 15.0, 10.0))
    thalamus = ellipsoid_sd(ax - 9.0, q.y - 9.0, q.z - 0.0, (9.0, 14.0, 9.0))
    yield Layer(Tissue.DEEP_GREY, sub, occupancy(np.minimum(np.minimum(caudate, putamen), thalamus), h))
    third = ellipsoid_sd(q.x, q.y - 2.0, q.z + 1.0, (1.5 * scale, 14.0, 9.0))
    yield Layer(Tissue.VENTRICLE, sub, occupancy(third, h))


def lesion_sd(lesion: Lesion, p: _Points) -> np.ndarray:
    """Signed distance to the (radially deformed) lesion surface."""
    dx, dy, dz = (p.x - lesion.center[0], p.y - lesion.center[1], p.z - lesion.center[2])
    r = np.sqrt(dx * dx + dy * dy + dz * dz)
    inv = 1.0 / np.maximum(r, np.float32(1e-3))
    radius = lesion.radius_mm * (1.0 + 0.18 * lesion.shape_noise(dx * inv, dy * inv, dz * inv))
    return r - radius


def _lesion_layer(
    lesion: Lesion, anatomy: HeadAnatomy, p: _Points, idx: np.ndarray, sd_cavity: np.ndarray, h: float
) -> Iterator[Layer]:
    q, sub, near = _local(p, idx, tuple(lesion.center), lesion.radius_mm * 1.5 + lesion.edge_mm + 2 * h)
    sd = np.maximum(lesion_sd(lesion, q), sd_cavity[near] + anatomy.csf_mm)
    yield Layer(Tissue.LESION, sub, occupancy(sd, h + lesion.edge_mm))


# ----------------------------------------------------------------------------------------- compose
def compose(
    layers: Iterator[Layer | Chain],
    n: int,
    tables: dict[str, np.ndarray],
    weights: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Paint layers into intensity images and an integer tissue map.

    Args:
        layers: from :func:`render_layers`.
        n: number of points.
        tables: channel name -> (n_tissues,) value of each tissue in that channel.
        weights: channel name -> (n_tissues,) opacity multiplier of overlays (lesion conspicuity); default 1.

    Returns:
        (images, labels): channel name -> (n,) float32, and (n,) uint8 tissue labels (a layer wins a
        point where it covers at least half of it).
    """
    images = {name: np.full(n, table[Tissue.AIR], dtype=np.float32) for name, table in tables.items()}
    labels = np.zeros(n, dtype=np.uint8)
    for layer in layers:
        if isinstance(layer, Chain):
            _paint_chain(layer, images, labels, tables)
        else:
            _paint_overlay(layer, images, labels, tables, weights)
    return images, labels


def _paint_overlay(layer: Layer, images: dict, labels: np.ndarray, tables: dict, weights: dict | None) -> None:
    idx = slice(None) if layer.idx is None else layer.idx
    for name, image in images.items():
        alpha = layer.occ
        if weights is not None and name in weights:
            alpha = alpha * np.float32(weights[name][layer.tissue])
        region = image[idx]
        image[idx] = region + alpha * (np.float32(tables[name][layer.tissue]) - region)
    target = labels[idx]
    target[layer.occ >= 0.5] = layer.tissue
    labels[idx] = target


def _paint_chain(chain: Chain, images: dict, labels: np.ndarray, tables: dict) -> None:
    occs = list(chain.occs)
    for k in range(1, len(occs)):
        occs[k] = np.minimum(occs[k], occs[k - 1])  # enforce nesting
    for name, image in images.items():
        values = [np.float32(tables[name][t]) for t in chain.tissues]
        mixed = image[chain.idx] * (1.0 - occs[0])
        for k, value in enumerate(values):
            inner = occs[k + 1] if k + 1 < len(occs) else 0.0
            mixed += (occs[k] - inner) * value
        image[chain.idx] = mixed
    target = labels[chain.idx]
    for tissue, occ in zip(chain.tissues, occs, strict=True):
        target[occ >= 0.5] = tissue
    labels[chain.idx] = target

"""Procedural, deterministic paired CT/MR head phantom: the app's embedded default data set.

One continuous anatomical model (:mod:`fusion_core.data.anatomy`) is evaluated on the CT grid and,
through the inverse of a known rigid misalignment, on the MR's own grid, so the MR is genuinely
"acquired" rather than a resampled CT. CT is in HU; MR T1/T2 come from the spin-echo equation with
Rician noise and a bias field. Lesions (label 1) differ in conspicuity between the modalities.

Example:
    >>> from fusion_core.data.phantom import make_subject, make_cohort
    >>> subject = make_subject(0, size=64, label=1, lesion_type="calcified")
    >>> cohort = make_cohort(20, seed=0)

Unpaired cohorts (``make_cohort(n, paired=False)``): even-numbered subjects have only a CT, odd ones
only an MR (disjoint people). Their ``masks`` and ``tissue`` lie on whichever grid exists, and
``true_transform`` is None.

CLI: ``python -m fusion_core.data --out DIR --n 40 --seed 0 [--unpaired]`` (or ``fusion-phantom``).
"""

from __future__ import annotations

import dataclasses
import runpy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import SimpleITK as sitk
from tqdm.auto import tqdm

from fusion_core.case import Case
from fusion_core.data.acquisition import Grid, centred_grid, euler_transform
from fusion_core.data.anatomy import HeadAnatomy, Lesion, compose, render_layers, sample_anatomy
from fusion_core.data.render import Scene, acquire_ct, acquire_mr, label_volumes, render_clean
from fusion_core.data.sdf import SphereNoise
from fusion_core.data.sites import ScannerSite, get_site
from fusion_core.data.tissues import BRAIN_TISSUES, LesionType, Tissue, sample_lesion_properties
from fusion_core.volume import Volume

__all__ = ["PhantomSubject", "iter_cohort", "make_cohort", "make_subject"]

DEFAULT_SIZE = 128
CT_FOV_MM = 218.0
CT_SLAB_MM = 176.0
MR_FOV_MM = 240.0
MR_SLAB_MM = 192.0
_LESION_RADIUS_MM = {
    LesionType.CALCIFIED: (3.0, 8.0),
    LesionType.OEDEMA: (8.0, 15.0),
    LesionType.HAEMORRHAGE: (5.0, 12.0),
    LesionType.SUBACUTE: (5.0, 12.0),
}
_LESION_EDGE_MM = {
    LesionType.CALCIFIED: 0.0,
    LesionType.OEDEMA: 3.0,
    LesionType.HAEMORRHAGE: 0.7,
    LesionType.SUBACUTE: 0.7,
}


@dataclasses.dataclass
class PhantomSubject:
    """One phantom subject with its ground truth.

    Attributes:
        subject_id: e.g. ``"phantom-000"``.
        ct: CT in HU on the CT grid, or None (MR-only subject of an unpaired cohort).
        mr: T1-weighted MR ("MR-T1") on the MR grid, or None (CT-only subject).
        mr_t2: T2-weighted MR ("MR-T2") on the same MR grid, or None.
        label: 1 when a lesion is present, else 0.
        true_transform: SimpleITK Euler3DTransform mapping CT physical points to MR physical points
            (ITK fixed=CT, moving=MR convention), or None when the subject is unpaired.
        masks: "head", "brain" (intracranial contents), "bone", "lesion": 0/1 float32 Volumes on the
            CT grid (on the MR grid for MR-only subjects).
        tissue: integer :class:`~fusion_core.data.tissues.Tissue` labels on the same grid as ``masks``.
        meta: site, lesion_type, conspicuity, rotation_deg, translation_mm, center_mm, seed, ...
        anatomy: the continuous model the images were rendered from.
    """

    subject_id: str
    ct: Volume | None
    mr: Volume | None
    mr_t2: Volume | None
    label: int
    true_transform: sitk.Transform | None
    masks: dict[str, Volume]
    tissue: Volume | None
    meta: dict[str, Any]
    anatomy: HeadAnatomy | None = dataclasses.field(default=None, repr=False)

    def mr_on_ct_grid(self, weighting: str = "T1") -> Volume:
        """The MR resampled onto the CT grid through ``true_transform`` (perfect registration), linear.

        Args:
            weighting: "T1" or "T2".

        Raises:
            ValueError: unpaired subject, or unknown weighting.
        """
        if self.ct is None or self.true_transform is None:
            raise ValueError(f"{self.subject_id} is unpaired: it has no CT/MR pair to align")
        key = str(weighting).upper().removeprefix("MR-")
        if key not in ("T1", "T2"):
            raise ValueError(f"unknown MR weighting {weighting!r}; choose 'T1' or 'T2'")
        moving = self.mr if key == "T1" else self.mr_t2
        image = sitk.Resample(moving.to_sitk(), self.ct.to_sitk(), self.true_transform, sitk.sitkLinear, 0.0)
        return Volume.from_sitk(image, modality=moving.modality, name=f"{moving.name} on CT grid")

    def to_case(self) -> Case:
        """The app's :class:`~fusion_core.case.Case`: ``mr`` is the T1, ``mr_weightings`` holds T1 and T2."""
        meta = dict(self.meta)
        if self.tissue is not None:
            meta["tissue"] = self.tissue
        weightings = {v.modality: v for v in (self.mr, self.mr_t2) if v is not None}
        return Case(
            subject_id=self.subject_id,
            ct=self.ct,
            mr=self.mr,
            label=self.label,
            true_transform=self.true_transform,
            masks=dict(self.masks),
            meta=meta,
            mr_weightings=weightings,
        )


# ------------------------------------------------------------------------------------------- grids
def ct_grid(size: int = DEFAULT_SIZE) -> Grid:
    """The CT grid: ``size`` x ``size`` axial at ~1.7 mm (FOV 218 mm), 2 mm slices over 176 mm at size 128."""
    factor = DEFAULT_SIZE / size
    spacing = (CT_FOV_MM / size, CT_FOV_MM / size, 2.0 * factor)
    return centred_grid(size, max(4, round(CT_SLAB_MM / spacing[2])), spacing, (0.0, 0.0, 0.0))


def mr_grid(size: int = DEFAULT_SIZE) -> Grid:
    """The MR grid: its own FOV (240 mm, 1.875 mm in-plane at 128) and 2.4 mm slices, centred differently."""
    factor = DEFAULT_SIZE / size
    spacing = (MR_FOV_MM / size, MR_FOV_MM / size, 2.4 * factor)
    return centred_grid(size, max(4, round(MR_SLAB_MM / spacing[2])), spacing, (0.0, -6.0, 6.0))


# ----------------------------------------------------------------------------------------- options
def _parse_conspicuity(conspicuity: dict[str, float] | float | None) -> dict[str, float]:
    if conspicuity is None:
        return {"CT": 1.0, "MR": 1.0}
    if isinstance(conspicuity, int | float):
        return {"CT": float(conspicuity), "MR": float(conspicuity)}
    unknown = set(conspicuity) - {"CT", "MR"}
    if unknown:
        raise ValueError(f"conspicuity keys must be 'CT' and/or 'MR', got {sorted(unknown)}")
    out = {"CT": float(conspicuity.get("CT", 1.0)), "MR": float(conspicuity.get("MR", 1.0))}
    if not all(0.0 <= v <= 1.0 for v in out.values()):
        raise ValueError(f"conspicuity values must lie in [0, 1], got {out}")
    return out


def _draw_conspicuity(ranges: Mapping[str, Any], rng: np.random.Generator) -> dict[str, float]:
    """One subject's {"CT": c, "MR": m}: each a fixed value or drawn uniformly from a (low, high) range."""
    drawn = {}
    for modality in ("CT", "MR"):
        value = ranges.get(modality, 1.0)
        low, high = (value, value) if isinstance(value, int | float) else value
        drawn[modality] = float(rng.uniform(low, high)) if high > low else float(low)
    return _parse_conspicuity(drawn)


def _choose_lesion_type(lesion_type: str, lesion_mix: Sequence[str], rng: np.random.Generator) -> LesionType:
    if str(lesion_type).lower() == "random":
        if not lesion_mix:
            raise ValueError("lesion_type='random' needs a non-empty lesion_mix")
        return LesionType.parse(lesion_mix[int(rng.integers(len(lesion_mix)))])
    return LesionType.parse(lesion_type)


# ----------------------------------------------------------------------------------------- lesions
def _labels_at(anatomy: HeadAnatomy, points: np.ndarray) -> np.ndarray:
    """Tissue labels at a few (3, n) anatomy-space points."""
    _, labels = compose(render_layers(anatomy, points.astype(np.float32), 0.5), points.shape[1], {})
    return labels


def _place_lesion(
    anatomy: HeadAnatomy, kind: LesionType, rng: np.random.Generator, radius_mm: tuple[float, float] | None = None
) -> Lesion:
    """Draw a lesion inside the cerebrum: centre in white/deep grey matter, sphere within the brain."""
    low, high = _LESION_RADIUS_MM[kind] if radius_mm is None else radius_mm
    radius = float(rng.uniform(low, high))
    axes = np.asarray(anatomy.cavity_axes)
    probe = np.concatenate([np.zeros((1, 3)), np.eye(3), -np.eye(3)]) * 1.0
    for _ in range(200):
        direction = rng.normal(size=3)
        rel = direction / np.linalg.norm(direction) * rng.uniform(0, 1) ** (1 / 3) * axes * 0.62
        rel[2] = abs(rel[2]) * 0.8 - 5.0  # above the tentorium
        points = anatomy.center[:, None] + anatomy.pose @ (rel[:, None] + radius * probe.T)
        labels = _labels_at(anatomy, points)
        centre_ok = labels[0] in (Tissue.WHITE_MATTER, Tissue.DEEP_GREY)
        if centre_ok and all(label in BRAIN_TISSUES for label in labels[1:]):
            break
    return Lesion(
        kind=kind.value,
        center=rel.astype(np.float32),
        radius_mm=radius,
        edge_mm=_LESION_EDGE_MM[kind],
        props=sample_lesion_properties(kind, rng),
        shape_noise=SphereNoise.sample(rng, n_terms=5, frequency=2.0),
    )


# ----------------------------------------------------------------------------------------- imaging
def _seed_repr(seed: int | np.random.SeedSequence) -> Any:
    if isinstance(seed, np.random.SeedSequence):
        return {"entropy": int(seed.entropy), "spawn_key": list(seed.spawn_key)}
    return int(seed)


def make_subject(
    seed: int | np.random.SeedSequence = 0,
    *,
    size: int = DEFAULT_SIZE,
    site: str | ScannerSite = "A",
    label: int | None = None,
    prevalence: float = 0.5,
    lesion_type: str = "random",
    lesion_mix: Sequence[str] = ("calcified", "oedema"),
    conspicuity: dict[str, float] | float | None = None,
    max_rotation_deg: float = 10.0,
    max_translation_mm: float = 15.0,
    modalities: Sequence[str] = ("CT", "MR"),
    subject_id: str | None = None,
    supersample: int = 1,
    lesion_radius_mm: tuple[float, float] | None = None,
    conspicuity_by_type: Mapping[str, Mapping[str, Any]] | None = None,
) -> PhantomSubject:
    """Generate one phantom subject (deterministic for a seed).

    Args:
        seed: int or SeedSequence. Anatomy, lesion, misalignment and noise use separate child streams,
            so e.g. changing ``size`` or ``site`` keeps the same head.
        size: in-plane voxels of both grids (128: CT 1.7 mm x 2 mm slices, 128 x 128 x 88).
        site: scanner preset name ("A", "B", "C") or a :class:`ScannerSite`.
        label: force lesion presence (1) or absence (0); None draws it with ``prevalence``.
        prevalence: probability of a lesion when ``label`` is None.
        lesion_type: "calcified", "oedema", "haemorrhage", "subacute-haemorrhage" or "random" (drawn
            from ``lesion_mix``).
        lesion_mix: lesion types "random" picks from.
        conspicuity: {"CT": c, "MR": m} in [0, 1], scaling the lesion's contrast against its
            background per modality (a single float sets both). Default 1 for both.
        max_rotation_deg: CT->MR rotation about each axis drawn uniformly in +-this.
        max_translation_mm: CT->MR translation along each axis drawn uniformly in +-this.
        modalities: which scans to generate: ("CT", "MR"), ("CT",) or ("MR",).
        subject_id: defaults to ``phantom-<seed>``.
        supersample: 1 (default) renders partial volume and blur analytically; k > 1 renders k^3
            hard-edged samples per voxel and blurs with scipy (slow reference, for benchmarks).
        lesion_radius_mm: (low, high) range the lesion radius is drawn from uniformly; None uses
            the lesion type's own range (calcified 3-8 mm, oedema 8-15 mm, haemorrhage and
            subacute haemorrhage 5-12 mm).
        conspicuity_by_type: per lesion type, the conspicuity of each modality as a value or a
            ``(low, high)`` range drawn uniformly per subject, e.g. ``{"calcified": {"CT": (0.5, 1.0),
            "MR": (0.0, 0.15)}}``: a cohort with a realistic spread of lesion contrast, each type
            conspicuous where it is in reality. Types not listed use ``conspicuity``. The draw uses
            its own random stream, so subjects without this option are unchanged.

    Returns:
        A :class:`PhantomSubject`.

    Raises:
        ValueError: bad option values (the message names the option and the allowed values).
    """
    wanted = _check_options(size, modalities, label)
    if lesion_radius_mm is not None and not 0 < lesion_radius_mm[0] <= lesion_radius_mm[1]:
        raise ValueError(f"lesion_radius_mm must be (low, high) with 0 < low <= high, got {lesion_radius_mm}")
    site_preset = get_site(site)
    visibility = _parse_conspicuity(conspicuity)
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
    # spawn(5)'s first four children equal spawn(4)'s: the fifth stream is new and leaves the others alone
    rng_anatomy, rng_lesion, rng_pose, rng_noise, rng_contrast = (np.random.default_rng(s) for s in seq.spawn(5))
    anatomy = sample_anatomy(rng_anatomy)
    has_lesion = int(rng_lesion.uniform() < prevalence) if label is None else int(label)
    kind = _choose_lesion_type(lesion_type, lesion_mix, rng_lesion)
    if has_lesion and conspicuity_by_type and kind.value in conspicuity_by_type:
        visibility = _draw_conspicuity(conspicuity_by_type[kind.value], rng_contrast)
    if has_lesion:
        lesion = _place_lesion(anatomy, kind, rng_lesion, lesion_radius_mm)
        anatomy = dataclasses.replace(anatomy, lesion=lesion)
    rotation = rng_pose.uniform(-max_rotation_deg, max_rotation_deg, 3)
    translation = rng_pose.uniform(-max_translation_mm, max_translation_mm, 3)
    transform = euler_transform(rotation, translation, anatomy.center)
    scene = Scene(anatomy, transform, site_preset, visibility, supersample=int(supersample))

    sid = subject_id or (f"phantom-{seed:03d}" if not isinstance(seed, np.random.SeedSequence) else "phantom")
    ct = _ct_scan(scene, ct_grid(size), rng_noise, sid) if "CT" in wanted else None
    mr = _mr_scans(scene, mr_grid(size), rng_noise, sid) if "MR" in wanted else None
    masks, tissue = (ct or mr)[1]
    meta = _meta(scene, rotation, translation, seed, size, wanted)
    return PhantomSubject(
        subject_id=sid,
        ct=ct[0] if ct else None,
        mr=mr[0]["T1"] if mr else None,
        mr_t2=mr[0]["T2"] if mr else None,
        label=has_lesion,
        true_transform=transform if (ct and mr) else None,
        masks=masks,
        tissue=tissue,
        meta=meta,
        anatomy=anatomy,
    )


def _check_options(size: int, modalities: Sequence[str], label: int | None) -> set[str]:
    if size < 16:
        raise ValueError(f"size must be at least 16 voxels, got {size}")
    wanted = {str(m).upper() for m in modalities}
    if not wanted or wanted - {"CT", "MR"}:
        raise ValueError(f"modalities must be a non-empty subset of ('CT', 'MR'), got {tuple(modalities)}")
    if label not in (None, 0, 1):
        raise ValueError(f"label must be None, 0 or 1, got {label!r}")
    return wanted


_Labelled = tuple[dict[str, Volume], Volume]


def _ct_scan(scene: Scene, grid: Grid, rng: np.random.Generator, sid: str) -> tuple[Volume, _Labelled]:
    clean, labels = render_clean(scene, grid, ("CT",), mr_space=False, blur_mm=scene.site.ct_blur_mm)
    ct = grid.volume(acquire_ct(clean["CT"], scene.site, rng), modality="CT", name=f"{sid} CT")
    return ct, label_volumes(labels, grid)


def _mr_scans(scene: Scene, grid: Grid, rng: np.random.Generator, sid: str) -> tuple[dict[str, Volume], _Labelled]:
    clean, labels = render_clean(scene, grid, ("T1", "T2"), mr_space=True, blur_mm=scene.site.mr_blur_mm)
    acquired = acquire_mr(clean, grid, scene.site, rng)
    scans = {w: grid.volume(acquired[w], modality=f"MR-{w}", name=f"{sid} MR {w}") for w in ("T1", "T2")}
    return scans, label_volumes(labels, grid)


def _meta(scene: Scene, rotation, translation, seed, size: int, wanted: set[str]) -> dict[str, Any]:
    anatomy, lesion = scene.anatomy, scene.anatomy.lesion
    lesion_center = None if lesion is None else anatomy.center + anatomy.pose @ lesion.center
    return {
        "site": scene.site.name,
        "lesion_type": lesion.kind if lesion is not None else "none",
        "conspicuity": dict(scene.conspicuity),
        "rotation_deg": [float(a) for a in rotation],
        "translation_mm": [float(t) for t in translation],
        "center_mm": [float(c) for c in anatomy.center],
        "lesion_center_mm": None if lesion is None else [float(c) for c in lesion_center],
        "lesion_radius_mm": None if lesion is None else lesion.radius_mm,
        "seed": _seed_repr(seed),
        "size": size,
        "supersample": scene.supersample,
        "paired": wanted == {"CT", "MR"},
        "modalities": tuple(m for m in ("CT", "MR") if m in wanted),
    }


def make_cohort(
    n: int,
    *,
    seed: int = 0,
    paired: bool = True,
    prevalence: float = 0.5,
    lesion_mix: Sequence[str] = ("calcified", "oedema"),
    sites: Sequence[str] = ("A", "B", "C"),
    progress: bool = False,
    **options: Any,
) -> list[PhantomSubject]:
    """A deterministic cohort of ``n`` subjects with independent seeds spawned from ``seed``.

    Args:
        n: number of subjects.
        seed: cohort seed (same seed -> identical arrays).
        paired: True: every subject has CT and MR. False: even-numbered subjects are CT-only and
            odd-numbered MR-only, so the two modalities come from disjoint people.
        prevalence: probability of a lesion per subject (unless ``label`` is forced in options).
        lesion_mix: lesion types to draw from.
        sites: site presets assigned in turn (subject i gets ``sites[i % len(sites)]``).
        progress: show a tqdm bar.
        **options: passed to :func:`make_subject` (size, conspicuity, lesion_type, label, ...).

    Returns:
        list of :class:`PhantomSubject`, ids ``phantom-000``, ``phantom-001``, ...
    """
    subjects = iter_cohort(
        n, seed=seed, paired=paired, prevalence=prevalence, lesion_mix=lesion_mix, sites=sites, **options
    )
    if progress:
        subjects = tqdm(subjects, total=n, desc="phantom cohort", unit="subject")
    return list(subjects)


def iter_cohort(
    n: int,
    *,
    seed: int = 0,
    paired: bool = True,
    sites: Sequence[str] = ("A", "B", "C"),
    **options: Any,
) -> Iterator[PhantomSubject]:
    """The subjects of :func:`make_cohort` (same arguments), generated one at a time to save memory."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    for i in range(n):
        yield cohort_subject(i, seed=seed, paired=paired, sites=sites, **options)


def cohort_site(index: int, sites: Sequence[str] = ("A", "B", "C")) -> str:
    """The scanner site of cohort member ``index``: sites are assigned in turn."""
    return sites[index % len(sites)]


def cohort_subject(
    index: int,
    *,
    seed: int = 0,
    paired: bool = True,
    sites: Sequence[str] = ("A", "B", "C"),
    **options: Any,
) -> PhantomSubject:
    """Subject ``index`` of the cohort :func:`make_cohort` builds with the same arguments, made alone.

    Child seeds depend only on the cohort seed and the index (``SeedSequence`` spawn keys), so one
    subject of a large cohort costs one subject's time — the app builds demo subjects on demand.
    """
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    if not sites:
        raise ValueError("sites must name at least one site preset")
    child = np.random.SeedSequence(int(seed), spawn_key=(index,))
    modalities = ("CT", "MR") if paired else (("CT",) if index % 2 == 0 else ("MR",))
    return make_subject(
        child, site=cohort_site(index, sites), modalities=modalities, subject_id=f"phantom-{index:03d}", **options
    )


if __name__ == "__main__":
    # ``python -m fusion_core.data.phantom`` (the older spelling of ``python -m fusion_core.data``): run the
    # package's CLI as a script, without importing the exporter into the module it imports.
    runpy.run_module("fusion_core.data", run_name="__main__", alter_sys=True)

"""A case: what the app works on — one subject's CT and/or MR weightings plus whatever ground truth is known."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Mapping
from typing import Any

import SimpleITK as sitk

from fusion_core.errors import CaseError
from fusion_core.volume import Volume, is_mr, normalise_modality

PRIMARY_WEIGHTING = "MR-T1"
_WEIGHTING_ORDER = ("MR-T1", "MR-T2", "MR-FLAIR")
REGISTER_FIRST = "register the MR to the CT first (on the Register & Fuse page, or with the pipeline's register step)"
#: ``Case.meta`` key of the readers' notes (repairs, guesses) per scan: {"CT" | "MR-T1" | ...: [notes]}.
SCAN_NOTES = "scan_notes"


def weighting_key(modality: str) -> str:
    """The ``Case.mr_weightings`` key of a modality: ``"MR-T2"`` stays ``"MR-T2"``; a modality that records no
    weighting (plain ``"MR"``, or an unknown modality given as a case's MR) is treated as T1: ``"MR-T1"``."""
    name = normalise_modality(modality)
    return name if is_mr(name) and name != "MR" else PRIMARY_WEIGHTING


@dataclasses.dataclass
class Case:
    """One subject's scans. Either modality may be missing (unpaired data is a normal case).

    Cases are treated as immutable: methods return new cases, and ``fingerprint`` is computed once.

    Attributes:
        subject_id: identifier shown to users.
        ct: CT in HU, or None.
        mr: the primary MR (T1 when the case has one), or None. Not necessarily on the CT grid.
        label: lesion present (1) / absent (0), or None when unknown.
        true_transform: SimpleITK transform mapping CT physical points to MR physical points,
            when the ground truth is known (the phantom cohort), else None.
        masks: named masks on the CT grid (e.g. "head", "brain", "bone", "lesion").
        meta: free metadata (site, lesion type, file paths, ``"alignment"`` of an aligned case, ...).
        mr_weightings: every MR weighting of the case keyed by modality name ("MR-T1", "MR-T2", ...),
            all on the same MR grid as ``mr``. ``mr`` is always among them; an MR whose modality
            records no weighting (plain "MR", or unknown) is treated as T1 and keyed "MR-T1". Built from ``mr``
            when not given; when only ``mr_weightings`` is given, ``mr`` becomes its T1 (else its first).

    Raises:
        CaseError: a weighting is keyed under another weighting's name, or ``mr``
            differs from the weighting stored under its own key.
    """

    subject_id: str
    ct: Volume | None = None
    mr: Volume | None = None
    label: int | None = None
    true_transform: Any = None
    masks: dict[str, Volume] = dataclasses.field(default_factory=dict)
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    mr_weightings: dict[str, Volume] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        weightings = _keyed_weightings(self.mr_weightings)
        if self.mr is not None:
            key = weighting_key(self.mr.modality)
            if weightings.setdefault(key, self.mr) is not self.mr:
                raise CaseError(f"{self.subject_id}: mr and mr_weightings[{key!r}] are different volumes")
        elif weightings:
            self.mr = weightings.get(PRIMARY_WEIGHTING, next(iter(weightings.values())))
        self.mr_weightings = dict(sorted(weightings.items(), key=lambda item: _weighting_rank(item[0])))

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities present, e.g. ("CT", "MR")."""
        return tuple(name for name, vol in (("CT", self.ct), ("MR", self.mr)) if vol is not None)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every scan present by input name, e.g. ("CT", "MR-T1", "MR-T2") (the names model cards use)."""
        return ("CT",) * (self.ct is not None) + tuple(self.mr_weightings)

    @property
    def is_paired(self) -> bool:
        return self.ct is not None and self.mr is not None

    @functools.cached_property
    def fingerprint(self) -> str:
        """Subject id plus a digest of the scans' voxels and geometry (and of an alignment, when the
        case is an aligned copy): a cache key that changes when the data do (two uploads or two
        cohorts can share a subject id; an aligned pair is another pair than the original)."""
        digest = hashlib.blake2b(digest_size=8)
        for volume in (self.ct, *self.mr_weightings.values()):
            if volume is not None:
                digest.update(volume.array.tobytes())
                digest.update(repr((volume.spacing, volume.origin, volume.direction, volume.modality)).encode())
        if "alignment" in self.meta:
            digest.update(repr(_alignment_signature(self.meta["alignment"])).encode())
        return f"{self.subject_id}:{digest.hexdigest()}"

    def aligned(self, *, transform: sitk.Transform | None = None) -> Case:
        """A new case whose MR weightings lie on the CT grid (linear interpolation, 0 outside the MR).

        Args:
            transform: SimpleITK transform mapping CT physical points to MR physical points (ITK's
                fixed=CT, moving=MR convention, as ``register_rigid(ct, mr).transform`` and
                ``true_transform``). None: use ``true_transform`` when known; else, when every MR
                already lies on the CT grid, return a copy as it is.

        Returns:
            A case with the same CT and masks, every MR weighting resampled onto the CT grid,
            ``true_transform`` None (the MR's own grid is gone) and ``meta["alignment"] =
            {"source": "given" | "ground truth" | "already on the CT grid", "transform": ...}``.

        Raises:
            CaseError: no CT or no MR, or the MR is off the CT grid and no transform is known.
        """
        self._require_pair()
        source, transform = self._alignment_source(transform)
        if transform is None:
            weightings = dict(self.mr_weightings)
        else:
            weightings = {key: resample_onto(mr, self.ct, transform) for key, mr in self.mr_weightings.items()}
        primary = weightings[weighting_key(self.mr.modality)]
        meta = {**self.meta, "alignment": {"source": source, "transform": transform}}
        return dataclasses.replace(self, mr=primary, mr_weightings=weightings, true_transform=None, meta=meta)

    def _require_pair(self) -> None:
        missing = [name for name, volume in (("CT", self.ct), ("MR", self.mr)) if volume is None]
        if missing:
            raise CaseError(
                f"{self.subject_id} has no {' and no '.join(missing)}: aligning needs a CT and an MR of one subject"
            )

    def _alignment_source(self, transform: sitk.Transform | None) -> tuple[str, sitk.Transform | None]:
        if transform is not None:
            return "given", transform
        if self.true_transform is not None:
            return "ground truth", self.true_transform
        if all(mr.same_grid(self.ct) for mr in self.mr_weightings.values()):
            return "already on the CT grid", None
        raise CaseError(f"{self.subject_id}: the MR is not on the CT grid and no transform is known: {REGISTER_FIRST}")


def case_from_volumes(
    subject_id: str, volumes: Mapping[str, Volume], *, notes: Mapping[str, list[str]] | None = None
) -> Case:
    """A case from loose scans (e.g. uploads): CT as the CT, every other scan as an MR weighting.

    Args:
        subject_id: the case's id.
        volumes: source name (e.g. file name) -> volume. A non-CT volume whose modality records no
            weighting counts as T1 (see :func:`weighting_key`).
        notes: source name -> the reader's notes on it (repairs, guesses), kept per scan
            (:func:`scan_notes`) and all together, prefixed by the source, in ``meta["load_notes"]``.

    Raises:
        CaseError: two scans of one kind (two CTs, or two MRs of one weighting), naming both sources.
    """
    by_kind: dict[str, tuple[str, Volume]] = {}
    for source, volume in volumes.items():
        kind = scan_key(volume)
        if kind in by_kind:
            raise CaseError(
                f"two {kind} scans: {by_kind[kind][0]!r} and {source!r}; keep one {kind} "
                "(a case holds one CT and one MR per weighting), or set another modality for one of them"
            )
        by_kind[kind] = (source, volume)
    notes = notes or {}
    meta = {
        SCAN_NOTES: {kind: list(notes.get(source, [])) for kind, (source, _) in by_kind.items()},
        "load_notes": [f"{source}: {note}" for source in volumes for note in notes.get(source, [])],
    }
    ct = by_kind.pop("CT", (None, None))[1]
    return Case(subject_id, ct=ct, mr_weightings={kind: volume for kind, (_, volume) in by_kind.items()}, meta=meta)


def scan_notes(case: Case, scan: str) -> list[str]:
    """The readers' notes on one scan of ``case`` (repairs of spacing or voxels, a guessed modality, a
    dropped 4th dimension): ``scan`` is "CT" or an MR weighting ("MR-T1", "MR-T2"; "MR" means the primary)."""
    if scan == "MR":
        scan = weighting_key(case.mr.modality) if case.mr is not None else PRIMARY_WEIGHTING
    return list(case.meta.get(SCAN_NOTES, {}).get(scan, []))


def scan_key(volume: Volume) -> str:
    """The key of ``volume`` among a case's scans: "CT", else its MR weighting key."""
    return "CT" if volume.modality == "CT" else weighting_key(volume.modality)


def resample_onto(moving: Volume, reference: Volume, transform: sitk.Transform) -> Volume:
    """``moving`` resampled onto ``reference``'s grid through ``transform`` (reference -> moving physical
    points), linear interpolation, 0 outside ``moving``."""
    image = sitk.Resample(moving.to_sitk(), reference.to_sitk(), transform, sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    return Volume.from_sitk(image, modality=moving.modality, name=f"{moving.name} on the CT grid".strip())


def _keyed_weightings(weightings: dict[str, Volume]) -> dict[str, Volume]:
    keyed = {}
    for key, volume in weightings.items():
        expected = weighting_key(volume.modality)
        if normalise_modality(key) not in (expected, "MR" if expected == PRIMARY_WEIGHTING else expected):
            raise CaseError(f"mr_weightings[{key!r}] holds a {volume.modality} volume; key it {expected!r}")
        keyed[expected] = volume
    return keyed


def _weighting_rank(key: str) -> tuple[int, str]:
    return (_WEIGHTING_ORDER.index(key) if key in _WEIGHTING_ORDER else len(_WEIGHTING_ORDER), key)


def _alignment_signature(alignment: dict[str, Any]) -> tuple:
    return (alignment.get("source"), transform_key(alignment.get("transform")))


def transform_key(transform: sitk.Transform | None) -> tuple:
    """A hashable value that identifies a SimpleITK transform (type and parameters; composite
    transforms element by element), for cache keys and fingerprints; () for None."""
    if transform is None:
        return ()
    if isinstance(transform, sitk.CompositeTransform):
        return tuple(transform_key(transform.GetNthTransform(i)) for i in range(transform.GetNumberOfTransforms()))
    return (transform.GetName(), tuple(transform.GetParameters()), tuple(transform.GetFixedParameters()))

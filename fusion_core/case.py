"""A case: what the app works on — one subject's CT and/or MR plus whatever ground truth is known."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from typing import Any

from fusion_core.volume import Volume


@dataclasses.dataclass
class Case:
    """One subject's scans. Either modality may be missing (unpaired data is a normal case).

    Attributes:
        subject_id: identifier shown to users.
        ct: CT in HU, or None.
        mr: MR (any weighting), or None. Not necessarily on the CT grid.
        label: lesion present (1) / absent (0), or None when unknown.
        true_transform: SimpleITK transform mapping CT physical points to MR physical points,
            when the ground truth is known (the phantom cohort), else None.
        masks: named masks on the CT grid (e.g. "head", "brain", "bone", "lesion").
        meta: free metadata (site, lesion type, file paths, ...).
    """

    subject_id: str
    ct: Volume | None = None
    mr: Volume | None = None
    label: int | None = None
    true_transform: Any = None
    masks: dict[str, Volume] = dataclasses.field(default_factory=dict)
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities present, e.g. ("CT", "MR")."""
        return tuple(name for name, vol in (("CT", self.ct), ("MR", self.mr)) if vol is not None)

    @property
    def is_paired(self) -> bool:
        return self.ct is not None and self.mr is not None

    @functools.cached_property
    def fingerprint(self) -> str:
        """Subject id plus a digest of the scans' voxels and geometry: a cache key that changes when the
        data do (two uploads or two cohorts can share a subject id). Cases are treated as immutable."""
        digest = hashlib.blake2b(digest_size=8)
        for volume in (self.ct, self.mr):
            if volume is not None:
                digest.update(volume.array.tobytes())
                digest.update(repr((volume.spacing, volume.origin, volume.direction, volume.modality)).encode())
        return f"{self.subject_id}:{digest.hexdigest()}"

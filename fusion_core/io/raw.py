"""What a private reader hands back before the shared checks run."""

from __future__ import annotations

import dataclasses

from fusion_core.volume import Volume


@dataclasses.dataclass
class RawRead:
    """A reader's result: geometry and voxels, plus what the file said about its modality.

    Attributes:
        volume: voxels and geometry; modality still ``"UNKNOWN"``, NaNs not yet repaired.
        tag_modality: the DICOM Modality tag, when the file is DICOM.
        stored_modality: a modality the file recorded some other way (our MHA/NRRD/NIfTI metadata).
        notes: human-readable remarks (which series or 4-D volume was taken, ...).
    """

    volume: Volume
    tag_modality: str | None = None
    stored_modality: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)

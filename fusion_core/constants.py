"""Named Hounsfield-unit thresholds, defined once and imported wherever a module needs them."""

from __future__ import annotations

AIR_HU = -1000.0
"""Air on a calibrated CT (also the fill value outside a CT's field of view)."""

HEAD_HU = -500.0
"""CT voxels above this are the head (any tissue, partial volumes included), not the air around it."""

TISSUE_HU = -200.0
"""CT voxels above this are soft tissue or denser (fat is about -100 HU): no air, no air partial volume."""

BONE_HU = 300.0
"""CT voxels above this are bone: the SynthRAD2023 bone threshold (bone Dice), also used for the skull."""

CT_HU_RANGE = (-1024.0, 3000.0)
"""The CT range kept by image metrics and network scaling: 12-bit scanner floor to dense cortical bone."""

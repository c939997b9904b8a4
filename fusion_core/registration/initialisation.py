"""Where a registration starts, and why: as acquired, at the head centres or at the image centres.

Scans from two scanners often disagree on coordinates (a CT whose z runs from 1127 to 1305 mm against
an MR from -124 to 127 mm): then the scanner coordinates are no start at all, and the centres of mass
of the head masks are (3D Slicer and ITK-SNAP start the same way). When one scan shows only part of
the head, the centres of the heads do not correspond, and the scanner coordinates are the better start.
The choice and its reason are recorded on the result and said to the user in plain words.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

import numpy as np

from fusion_core.registration.checks import physical_bounds
from fusion_core.registration.errors import RegistrationError
from fusion_core.registration.options import Initialization
from fusion_core.volume import Volume

#: Below this fraction of the smaller scan's box inside the other's, the scans "overlap barely".
BARE_OVERLAP = 0.5
#: A head whose extent along an axis is below this fraction of the other scan's is seen only in part.
PARTIAL_HEAD = 0.85


class StartingPoint(StrEnum):
    """The initialisation a registration used."""

    AS_ACQUIRED = "as-acquired"  # the scanner coordinates as they are
    HEAD_CENTRES = "head-centres"  # centres of mass of the head masks aligned
    IMAGE_CENTRES = "image-centres"  # centres of the image boxes aligned


@dataclasses.dataclass(frozen=True)
class InitialisationChoice:
    """Which start a registration used and why.

    Attributes:
        used: the starting point.
        reason: why, in words a user reads (no option names).
        overlap: fraction of the smaller scan's physical box inside the other's, as acquired (0 to 1).
        head_extent_ratio: smallest ratio, over the three axes, of the two heads' physical extents
            (1: both scans show the same stretch of head; None when a head mask was not found).
    """

    used: StartingPoint
    reason: str
    overlap: float
    head_extent_ratio: float | None = None


_REQUESTED = {
    Initialization.MOMENTS: StartingPoint.HEAD_CENTRES,
    Initialization.GEOMETRY: StartingPoint.IMAGE_CENTRES,
    Initialization.NONE: StartingPoint.AS_ACQUIRED,
}


def box_overlap_fraction(fixed: Volume, moving: Volume) -> float:
    """Volume of the intersection of the two scans' physical boxes over the smaller box's volume."""
    (f_lo, f_hi), (m_lo, m_hi) = physical_bounds(fixed), physical_bounds(moving)
    inside = np.clip(np.minimum(f_hi, m_hi) - np.maximum(f_lo, m_lo), 0.0, None)
    sizes = [np.maximum(hi - lo, 1e-6) for lo, hi in ((f_lo, f_hi), (m_lo, m_hi))]
    smaller = min(sizes, key=lambda size: float(np.prod(size)))
    return float(np.prod(np.minimum(inside, smaller) / smaller))


def head_extent_ratio(fixed: Volume, fixed_head: np.ndarray, moving: Volume, moving_head: np.ndarray) -> float:
    """Smallest ratio, over x, y and z, of the heads' physical extents (smaller over larger).

    Args:
        fixed, moving: the scans.
        fixed_head, moving_head: (z, y, x) boolean head masks on their grids.
    """
    extents = [_mask_extent_mm(volume, mask) for volume, mask in ((fixed, fixed_head), (moving, moving_head))]
    return float(np.min(np.minimum(*extents) / np.maximum(np.maximum(*extents), 1e-6)))


def _mask_extent_mm(volume: Volume, mask: np.ndarray) -> np.ndarray:
    """Physical (LPS) extent (mm) of the box around the mask's voxels, along x, y and z."""
    corners = [np.flatnonzero(mask.any(axis=other)) for other in ((0, 1), (0, 2), (1, 2))]  # x, y, z indices
    lo_hi = np.array([[c.min(), c.max()] for c in corners], dtype=np.float64)  # (x, y, z) x (lo, hi)
    box = np.array(np.meshgrid(*lo_hi, indexing="ij")).reshape(3, -1).T
    points = volume.index_to_physical(box)
    return points.max(axis=0) - points.min(axis=0)


def choose_initialisation(
    fixed: Volume,
    moving: Volume,
    requested: Initialization,
    heads: tuple[np.ndarray, np.ndarray] | None,
) -> InitialisationChoice:
    """The starting point for registering ``moving`` onto ``fixed``.

    "auto": when the scans do not overlap in scanner space, or overlap barely, the head centres (the
    image centres when no head was found); when they overlap and one shows only part of the head, the
    scanner coordinates as acquired; otherwise the head centres. Any other request is used as asked.

    Args:
        fixed, moving: the scans (their grids as acquired).
        requested: the initialisation asked for.
        heads: (fixed, moving) boolean head masks, or None when none was found.

    Raises:
        RegistrationError: a start from the scanner coordinates was asked for scans that do not
            overlap there.
    """
    overlap = box_overlap_fraction(fixed, moving)
    ratio = head_extent_ratio(fixed, heads[0], moving, heads[1]) if heads is not None else None
    if requested is not Initialization.AUTO:
        used = _REQUESTED[requested]
        if used is StartingPoint.AS_ACQUIRED and overlap == 0:
            raise RegistrationError(_no_overlap_message(fixed, moving))
        return InitialisationChoice(used, "chosen in the registration options", overlap, ratio)
    if overlap < BARE_OVERLAP:
        apart = "do not overlap" if overlap == 0 else f"overlap by only {overlap:.0%}"
        if heads is None:
            reason = f"the scans {apart} in scanner space and no head was found to centre on"
            return InitialisationChoice(StartingPoint.IMAGE_CENTRES, reason, overlap, ratio)
        return InitialisationChoice(StartingPoint.HEAD_CENTRES, f"the scans {apart} in scanner space", overlap, ratio)
    if ratio is not None and ratio < PARTIAL_HEAD:
        reason = f"one scan shows only part of the head ({ratio:.0%} of the other's extent), so the head centres differ"
        return InitialisationChoice(StartingPoint.AS_ACQUIRED, reason, overlap, ratio)
    if heads is None:
        return InitialisationChoice(StartingPoint.AS_ACQUIRED, "no head was found to centre on", overlap, ratio)
    return InitialisationChoice(StartingPoint.HEAD_CENTRES, "both scans show the whole head", overlap, ratio)


def _no_overlap_message(fixed: Volume, moving: Volume) -> str:
    (f_lo, f_hi), (m_lo, m_hi) = physical_bounds(fixed), physical_bounds(moving)
    return (
        "the fixed and moving images do not overlap in physical space "
        f"(fixed spans {np.round(f_lo, 1).tolist()}..{np.round(f_hi, 1).tolist()} mm, "
        f"moving {np.round(m_lo, 1).tolist()}..{np.round(m_hi, 1).tolist()} mm), so they cannot start from "
        "their scanner coordinates; start from the head centres or let the app choose the start"
    )


_STARTS_IN_WORDS = {
    StartingPoint.AS_ACQUIRED: "started from the scanners' own coordinates",
    StartingPoint.HEAD_CENTRES: "started by lining up the centres of the two heads",
    StartingPoint.IMAGE_CENTRES: "started by lining up the centres of the two images",
}


def initialisation_note(choice: InitialisationChoice) -> str:
    """One sentence for the user: where the registration started and why."""
    return f"Registration {_STARTS_IN_WORDS[choice.used]}: {choice.reason}."


#: How each initialisation option reads in a menu.
INITIALISATION_LABELS = {
    Initialization.AUTO: "Automatic (from the scans)",
    Initialization.MOMENTS: "Centres of the heads",
    Initialization.GEOMETRY: "Centres of the images",
    Initialization.NONE: "Scanner coordinates as acquired",
}

"""Registration choices (StrEnums) and the options record stored with every result."""

from __future__ import annotations

import dataclasses
import math
from enum import StrEnum
from typing import Any

from fusion_core.choices import parse_choice
from fusion_core.constants import HEAD_HU


class RegistrationMode(StrEnum):
    RIGID = "rigid"
    AFFINE = "affine"
    BSPLINE = "bspline"


class Initialization(StrEnum):
    AUTO = "auto"  # chosen from the scans: see fusion_core.registration.initialisation
    MOMENTS = "moments"  # align centres of mass of the head masks
    GEOMETRY = "geometry"  # align image centres
    NONE = "none"  # start from the scanner coordinates as they are


class MaskMode(StrEnum):
    AUTO = "auto"  # CT: HU above ct_threshold_hu; other modalities: the MR head mask (preprocess.masks)
    NONE = "none"


@dataclasses.dataclass(frozen=True)
class RegistrationOptions:
    """Everything that changes a registration's result (stored on the result, hashable for caching).

    Attributes:
        mode: rigid, affine (rigid then affine) or bspline (rigid then a B-spline deformation).
        initialization: how the transform starts (see :class:`Initialization`); "auto" lines up the head
            centres, except when the scans overlap in scanner space and one shows only part of the head
            (then the scanner coordinates as acquired; see
            :func:`fusion_core.registration.initialisation.choose_initialisation`).
        mask: restrict the metric to the head (see :class:`MaskMode`).
        ct_threshold_hu: CT head-mask threshold.
        bins: Mattes mutual-information histogram bins.
        sampling: fraction of full-resolution voxels sampled per iteration (coarser levels sample more).
        levels: shrink factor per pyramid level, coarse to fine.
        smoothing: Gaussian sigma per level, in voxels of the shrunk image.
        iterations: maximum optimizer iterations per level.
        max_step_mm: largest voxel displacement (mm) of one optimizer step; the learning rate is
            estimated from it once per level (physical-shift scales).
        min_step: the optimizer stops when its step falls below this.
        relaxation: step shrink factor each time the gradient direction reverses.
        multi_start_deg: rotation of the extra starts about each axis (+/-); 0 disables the multi-start.
        coarse_iterations: iterations per start at the coarsest level.
        regular_sampling: sample on a regular grid (with jitter) instead of uniformly at random.
        finalists: the best starts, each optimised through every level but the finest; the one with
            the best metric there is refined at the finest level.
        bspline_mesh_mm: control-point spacing of the B-spline mode.
        seed: random sampling seed (results are reproducible).
    """

    mode: RegistrationMode = RegistrationMode.RIGID
    initialization: Initialization = Initialization.AUTO
    mask: MaskMode = MaskMode.AUTO
    ct_threshold_hu: float = HEAD_HU
    bins: int = 32
    sampling: float = 0.05
    levels: tuple[int, ...] = (4, 2, 1)
    smoothing: tuple[float, ...] = (2.0, 1.0, 0.0)
    iterations: int = 150
    max_step_mm: float = 2.0
    min_step: float = 1e-4
    relaxation: float = 0.5
    multi_start_deg: float = 15.0
    coarse_iterations: int = 40
    finalists: int = 2
    regular_sampling: bool = False
    bspline_mesh_mm: float = 50.0
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", parse_choice(RegistrationMode, self.mode, "mode"))
        object.__setattr__(self, "initialization", parse_choice(Initialization, self.initialization, "initialization"))
        object.__setattr__(self, "mask", parse_choice(MaskMode, self.mask, "mask"))
        object.__setattr__(self, "levels", tuple(int(v) for v in self.levels))
        object.__setattr__(self, "smoothing", tuple(float(v) for v in self.smoothing))
        if len(self.levels) != len(self.smoothing) or not self.levels:
            raise ValueError(f"levels {self.levels} and smoothing {self.smoothing} need the same, non-zero length")
        if not 0 < self.sampling <= 1:
            raise ValueError(f"sampling must be a fraction in (0, 1], got {self.sampling}")
        if self.bins < 4:
            raise ValueError(f"bins must be >= 4, got {self.bins}")
        self._check_ranges()

    def _check_ranges(self) -> None:
        """Refuse numbers the optimiser cannot use (found by fuzzing: 0 finalists divided by zero,
        negative iterations overflowed inside SimpleITK)."""
        checks = {
            "levels": (all(v >= 1 for v in self.levels), "shrink factors >= 1"),
            "smoothing": (all(0 <= v < math.inf for v in self.smoothing), "sigmas >= 0"),
            "iterations": (self.iterations >= 1, ">= 1"),
            "coarse_iterations": (self.coarse_iterations >= 1, ">= 1"),
            "finalists": (self.finalists >= 1, ">= 1"),
            "max_step_mm": (0 < self.max_step_mm < math.inf, "a positive number of mm"),
            "min_step": (0 <= self.min_step < math.inf, ">= 0"),
            "relaxation": (0 < self.relaxation < 1, "a factor in (0, 1)"),
            "multi_start_deg": (0 <= self.multi_start_deg <= 90, "degrees in [0, 90]"),
            "bspline_mesh_mm": (0 < self.bspline_mesh_mm < math.inf, "a positive number of mm"),
        }
        for name, (ok, wanted) in checks.items():
            if not ok:
                raise ValueError(f"{name} must be {wanted}, got {getattr(self, name)}")

    def as_dict(self) -> dict[str, Any]:
        """Plain values (strings, numbers, lists), for display and JSON."""
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in dataclasses.asdict(self).items()}

"""fusion_core.registration: mutual-information registration (rigid, affine, B-spline), TRE, quality.

``register_rigid(fixed, moving, **options)`` and ``register(fixed, moving, *, mode=...)`` return a
:class:`RegistrationResult` whose ``transform`` maps fixed (CT) physical points to moving (MR) ones.
"""

from fusion_core.registration.checks import check_pair, physical_bounds
from fusion_core.registration.core import RegistrationResult, register, register_rigid
from fusion_core.registration.errors import RegistrationError
from fusion_core.registration.ground_truth import ground_truth
from fusion_core.registration.initialisation import (
    INITIALISATION_LABELS,
    InitialisationChoice,
    StartingPoint,
    box_overlap_fraction,
    choose_initialisation,
    initialisation_note,
)
from fusion_core.registration.masks import ct_head_mask, head_coverage, head_mask_array, head_mask_image, overlap_mask
from fusion_core.registration.misalign import (
    MisalignmentEffect,
    MisalignmentProfile,
    misaligned,
    misalignment_effect,
    misalignment_profile,
    perturbation,
)
from fusion_core.registration.options import Initialization, MaskMode, RegistrationMode, RegistrationOptions
from fusion_core.registration.quality import (
    AlignmentQuality,
    alignment_quality,
    entropy_of_counts,
    gradient_correlation,
    joint_histogram,
    mutual_information,
)
from fusion_core.registration.tre import (
    TREComparison,
    sample_points_in_mask,
    target_registration_error,
    transform_points,
    tre_before_after,
)

__all__ = [
    "INITIALISATION_LABELS",
    "AlignmentQuality",
    "InitialisationChoice",
    "Initialization",
    "MaskMode",
    "MisalignmentEffect",
    "MisalignmentProfile",
    "RegistrationError",
    "RegistrationMode",
    "RegistrationOptions",
    "RegistrationResult",
    "StartingPoint",
    "TREComparison",
    "alignment_quality",
    "box_overlap_fraction",
    "check_pair",
    "choose_initialisation",
    "ct_head_mask",
    "entropy_of_counts",
    "gradient_correlation",
    "ground_truth",
    "head_coverage",
    "head_mask_array",
    "head_mask_image",
    "initialisation_note",
    "joint_histogram",
    "misaligned",
    "misalignment_effect",
    "misalignment_profile",
    "mutual_information",
    "overlap_mask",
    "perturbation",
    "physical_bounds",
    "register",
    "register_rigid",
    "sample_points_in_mask",
    "target_registration_error",
    "transform_points",
    "tre_before_after",
]

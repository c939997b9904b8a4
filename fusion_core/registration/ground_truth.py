"""Ground truth for a case in either registration direction (CT fixed or MR fixed)."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from fusion_core.case import Case
from fusion_core.registration.masks import ct_head_mask
from fusion_core.registration.tre import sample_points_in_mask, transform_points


def ground_truth(case: Case, *, fixed: str = "CT", n_points: int = 100, seed: int = 0):
    """The true fixed->moving transform and TRE points in fixed space, or (None, None) when unknown.

    ``case.true_transform`` maps CT points to MR points; with MR fixed the inverse is returned and the
    points (drawn in the CT head or brain mask) are carried into MR space.

    Returns:
        (sitk.Transform | None, (n, 3) LPS points | None).
    """
    if case.true_transform is None:
        return None, None
    mask = case.masks.get("head") or case.masks.get("brain")
    if mask is None:
        mask = case.ct.with_array(ct_head_mask(case.ct).astype(np.float32))
    points_ct = sample_points_in_mask(mask, n_points, seed=seed)
    if fixed.upper() == "CT":
        return case.true_transform, points_ct
    inverse: sitk.Transform = case.true_transform.GetInverse()
    return inverse, transform_points(case.true_transform, points_ct)

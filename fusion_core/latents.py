"""Latent spaces of a cohort: per-slice posterior means from any modality subset, with who each slice is.

``encode_cohort(model, cases, posterior="joint"|"CT"|"MR")`` runs ``fusion_core.inference.encode``
on each case's aligned volumes and stacks the results with a metadata table (subject, slice,
label, lesion type, site, posterior), the input of the Latent Space page's projections.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from fusion_core.case import Case
from fusion_core.errors import FusionError

POSTERIORS = ("joint", "CT", "MR")


@dataclasses.dataclass(frozen=True)
class LatentTable:
    """Latents of many slices.

    Attributes:
        latents: (n, d) float32 posterior means.
        meta: n rows: subject_id, slice, label, lesion_type, site, posterior, slice_has_lesion
            (from the case's lesion mask when known, else NaN).
    """

    latents: np.ndarray
    meta: pd.DataFrame


def posterior_volumes(case: Case, posterior: str) -> dict:
    """The aligned case's volumes a posterior is computed from ("joint": all; "CT"; "MR": its weightings)."""
    if posterior not in POSTERIORS:
        raise FusionError(f"unknown posterior {posterior!r}; choose one of {', '.join(POSTERIORS)}")
    volumes = {"CT": case.ct, **case.mr_weightings}
    wanted = {"joint": volumes, "CT": {"CT": case.ct}, "MR": dict(case.mr_weightings)}[posterior]
    return {k: v for k, v in wanted.items() if v is not None}


def _slice_lesions(case: Case, n: int) -> np.ndarray:
    lesion = case.masks.get("lesion")
    if lesion is None or lesion.shape[0] != n:
        return np.full(n, np.nan)
    return (lesion.array > 0.5).reshape(n, -1).any(1).astype(float)


def encode_cohort(model, cases: Iterable[Case], *, posterior: str = "joint", slice_step: int = 1) -> LatentTable:
    """Encode every ``slice_step``-th slice of every case (each aligned onto its CT grid first).

    Args:
        model: a VAE or the PoE classifier (``load_model``).
        cases: cases with a CT and/or MR; paired cases are aligned by ``Case.aligned()``.
        posterior: "joint" (every modality given), "CT" or "MR" (that modality alone).
        slice_step: keep every k-th slice (1 = all).

    Raises:
        FusionError: unknown posterior; a case without the modality the posterior needs.
    """
    from fusion_core.inference import encode

    latents, rows = [], []
    for case in cases:
        aligned = case.aligned() if case.is_paired else case
        volumes = posterior_volumes(aligned, posterior)
        if not volumes:
            raise FusionError(f"{case.subject_id} has no scan for the {posterior} posterior")
        z = encode(model, volumes)
        keep = np.arange(0, len(z), max(1, slice_step))
        lesions = _slice_lesions(aligned, len(z))
        latents.append(z[keep])
        rows.append(
            pd.DataFrame(
                {
                    "subject_id": case.subject_id,
                    "slice": keep,
                    "label": case.label if case.label is not None else np.nan,
                    "lesion_type": case.meta.get("lesion_type", "unknown"),
                    "site": case.meta.get("site", ""),
                    "posterior": posterior,
                    "slice_has_lesion": lesions[keep],
                }
            )
        )
    if not latents:
        raise FusionError("no case to encode")
    return LatentTable(np.concatenate(latents).astype(np.float32), pd.concat(rows, ignore_index=True))

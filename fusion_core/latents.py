"""Latent spaces of a cohort: per-slice posterior means from any modality subset, with who each slice is.

``encode_cohort(model, cases, posterior="joint"|"CT"|"MR")`` runs ``fusion_core.inference.encode``
on each case's aligned volumes and stacks the results with a metadata table (subject, slice,
label, lesion type, site, posterior), the input of the Latent Space page's projections.
``project(latents, method="umap"|"pca"|"tsne")`` draws them in 2-D (umap-learn imported lazily);
``retrieval_recall`` / ``retrieval_chance`` measure how well CT latents find their MR partners.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import gammaln

from fusion_core.case import Case
from fusion_core.choices import parse_choice
from fusion_core.errors import FusionError

POSTERIORS = ("joint", "CT", "MR")
# numba's on-disk cache of umap's compiled functions (an existing NUMBA_CACHE_DIR wins).
NUMBA_CACHE_DIR = Path.home() / ".cache" / "fusion_explorer" / "numba"


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


class Projection(StrEnum):
    UMAP = "umap"
    PCA = "pca"
    TSNE = "tsne"


# UMAP and t-SNE see at most this many principal components: neighbours in a ~2,000-dim spatial latent
# are dominated by noise dimensions and the distance computations cost 40x more.
PRE_PCA_DIMS = 50


def project(latents: np.ndarray, *, method: str = "umap", seed: int = 0) -> np.ndarray:
    """2-D projection of latents (one row per slice), deterministic for a seed.

    Args:
        latents: (n, d) float array, any d (wider than 50 is reduced by PCA first for UMAP/t-SNE).
        method: "umap" (umap-learn, imported here, not at module import), "pca" or "tsne".
        seed: random state of every stochastic step.

    Returns:
        (n, 2) float32 coordinates.

    Raises:
        FusionError: fewer than 3 rows, or an unknown method (the message lists the allowed ones).
    """
    method = parse_choice(Projection, method, "projection")
    x = np.asarray(latents, dtype=np.float32).reshape(len(latents), -1)
    if len(x) < 3:
        raise FusionError(f"a projection needs at least 3 latents, got {len(x)}")
    if method is Projection.PCA:
        return _pca(x, 2, seed)
    x = _pca(x, PRE_PCA_DIMS, seed) if x.shape[1] > PRE_PCA_DIMS else x
    if method is Projection.TSNE:
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(x) - 1) // 3)))
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x).astype(np.float32)
    umap = import_umap()
    reducer = umap.UMAP(n_neighbors=min(15, len(x) - 1), min_dist=0.1, random_state=seed, n_jobs=1)
    return reducer.fit_transform(x).astype(np.float32)


def _pca(x: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    k = min(n_components, *x.shape)
    out = PCA(k, svd_solver="full" if max(x.shape) <= 500 else "randomized", random_state=seed).fit_transform(x)
    # Fix each axis's sign (largest |value| positive) so equal inputs give equal pictures on every solver.
    out *= np.where(out[np.abs(out).argmax(0), np.arange(k)] < 0, -1, 1)
    if k < n_components == 2:
        out = np.pad(out, ((0, 0), (0, 2 - k)))
    return out.astype(np.float32)


def import_umap():
    """``import umap`` with numba's compiled functions cached on disk (10–40 s once, ~seconds afterwards).

    Raises:
        FusionError: umap-learn is not installed (says what to install).
    """
    os.environ.setdefault("NUMBA_CACHE_DIR", str(NUMBA_CACHE_DIR))
    try:
        import umap
    except ImportError as error:
        raise FusionError("UMAP needs umap-learn: pip install umap-learn (or choose PCA or t-SNE)") from error
    return umap


def _standardise(*blocks: np.ndarray) -> list[np.ndarray]:
    """Z-score every latent dimension over all blocks together (dimensions with no spread left as 0)."""
    pooled = np.concatenate([np.asarray(b, np.float64).reshape(len(b), -1) for b in blocks])
    mean, std = pooled.mean(0), pooled.std(0)
    std[std == 0] = 1.0
    return [(np.asarray(b, np.float64).reshape(len(b), -1) - mean) / std for b in blocks]


def _partner_mask(ct_meta: pd.DataFrame, mr_meta: pd.DataFrame, tolerance: int) -> np.ndarray:
    """(n_ct, n_mr) True where the MR slice is the CT slice's subject within ±tolerance slices."""
    same = ct_meta["subject_id"].to_numpy()[:, None] == mr_meta["subject_id"].to_numpy()[None, :]
    near = np.abs(ct_meta["slice"].to_numpy()[:, None] - mr_meta["slice"].to_numpy()[None, :]) <= tolerance
    return same & near


def _check_retrieval(ct_latents, mr_latents, ct_meta, mr_meta) -> None:
    if len(ct_latents) != len(ct_meta) or len(mr_latents) != len(mr_meta):
        raise FusionError("retrieval needs one metadata row per latent (CT and MR)")
    if len(ct_latents) == 0 or len(mr_latents) == 0:
        raise FusionError("retrieval needs at least one CT and one MR latent")


def retrieval_recall(
    ct_latents: np.ndarray,
    mr_latents: np.ndarray,
    ct_meta: pd.DataFrame,
    mr_meta: pd.DataFrame,
    *,
    ks: Sequence[int] = (1, 5, 10),
    tolerance: int = 1,
) -> dict[int, float]:
    """Cross-modal retrieval: for each CT slice, is its MR partner among the k nearest MR slices?

    Every CT slice ranks all MR slices of the cohort by Euclidean distance between latents
    standardised per dimension (over CT and MR together); a hit is an MR slice of the same subject
    within ±``tolerance`` slices. ``retrieval_chance`` gives the recall of a random ranking.

    Args:
        ct_latents: (n_ct, d) latents from CT alone; mr_latents: (n_mr, d) from MR alone.
        ct_meta, mr_meta: rows matching the latents, with ``subject_id`` and ``slice``.
        ks: the k of each Recall@k.
        tolerance: slices either side that still count as the partner.

    Returns:
        {k: fraction of CT slices with a hit among their k nearest MR slices}.

    Raises:
        FusionError: latents and metadata of different lengths, or an empty side.
    """
    _check_retrieval(ct_latents, mr_latents, ct_meta, mr_meta)
    ct, mr = _standardise(ct_latents, mr_latents)
    distances = (ct**2).sum(1)[:, None] - 2 * ct @ mr.T + (mr**2).sum(1)[None, :]
    # Rank of the best partner: how many MR slices are strictly nearer than the nearest hit.
    hits = _partner_mask(ct_meta, mr_meta, tolerance)
    best_hit = np.where(hits, distances, np.inf).min(1)
    rank = (distances < best_hit[:, None]).sum(1)
    found = np.isfinite(best_hit)
    return {int(k): float(np.mean(found & (rank < k))) for k in ks}


def retrieval_chance(
    ct_meta: pd.DataFrame, mr_meta: pd.DataFrame, *, ks: Sequence[int] = (1, 5, 10), tolerance: int = 1
) -> dict[int, float]:
    """Recall@k of a random ranking of the MR slices (the chance level beside ``retrieval_recall``).

    For a CT slice with m partner slices among N MR slices, P(hit in the top k) = 1 − C(N−m, k)/C(N, k).
    """
    m = _partner_mask(ct_meta, mr_meta, tolerance).sum(1)
    n = len(mr_meta)
    return {int(k): float(np.mean([1 - _miss_probability(n, int(mi), int(k)) for mi in m])) for k in ks}


def _miss_probability(n: int, m: int, k: int) -> float:
    """P(none of m marked items among k drawn without replacement from n) = C(n−m, k) / C(n, k)."""
    if n - m < k:
        return 0.0
    return float(np.exp(gammaln(n - m + 1) + gammaln(n - k + 1) - gammaln(n - m - k + 1) - gammaln(n + 1)))

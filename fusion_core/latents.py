"""Latent spaces of a cohort: per-slice posterior means from any modality subset, with who each slice is.

``encode_cohort(model, cases, posterior="joint"|"CT"|"MR")`` runs ``fusion_core.inference.encode``
on each case's aligned volumes and stacks the results with a metadata table (subject, slice,
label, lesion type, site, posterior), the input of the Latent Space page's projections.
``project(latents, method="umap"|"pca"|"tsne")`` draws them in 2-D (umap-learn imported lazily);
``retrieval_recall`` / ``retrieval_chance`` measure how well CT latents find their MR partners.
"""

from __future__ import annotations

import dataclasses
import io
import os
import time
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import gammaln

from fusion_core.case import Case
from fusion_core.choices import parse_choice
from fusion_core.errors import FusionError
from fusion_core.evaluation.latent_metrics import (
    Mixing,
    Separability,
    canonical_correlations,
    modality_mixing,
    separability,
    standardise,
)
from fusion_core.paths import cache_dir
from fusion_core.volume import Volume

POSTERIORS = ("joint", "CT", "MR")
# numba's on-disk cache of umap's compiled functions (an existing NUMBA_CACHE_DIR wins).
NUMBA_CACHE_DIR = cache_dir("numba")


@dataclasses.dataclass(frozen=True)
class LatentTable:
    """Latents of many slices.

    Attributes:
        latents: (n, d) float32 posterior means.
        meta: n rows: subject_id, slice (index on the aligned CT grid), n_slices, label, lesion_type,
            site, scans (missing-modality pattern), posterior, slice_has_lesion (from the case's lesion
            mask when known, else NaN).
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


def scan_pattern(case: Case) -> str:
    """Which modalities a case has: "CT + MR", "CT only" or "MR only" (the missing-modality pattern)."""
    return "CT + MR" if case.is_paired else ("CT only" if case.ct is not None else "MR only")


def _thinned(volumes: dict, keep: np.ndarray) -> dict:
    """The volumes restricted to the slices ``keep`` (2-D models see each slice alone, so only those are encoded)."""
    return {k: dataclasses.replace(v, array=np.ascontiguousarray(v.array[keep])) for k, v in volumes.items()}


def encode_cohort(
    model, cases: Iterable[Case], *, posterior: str = "joint", slice_step: int = 1, skip_missing: bool = False
) -> LatentTable:
    """Encode every ``slice_step``-th slice of every case (each aligned onto its CT grid first).

    A 2-D model encodes only the kept slices; a 2.5-D model (neighbour slices as channels) encodes
    the whole volume and keeps every ``slice_step``-th latent, so each slice sees its true neighbours.

    Args:
        model: a VAE or the PoE classifier (``load_model``).
        cases: cases with a CT and/or MR; paired cases are aligned by ``Case.aligned()``.
        posterior: "joint" (every modality given), "CT" or "MR" (that modality alone).
        slice_step: keep every k-th slice (1 = all).
        skip_missing: leave out cases without the posterior's modality instead of refusing them.

    Raises:
        FusionError: unknown posterior; a case without the modality the posterior needs (unless
            ``skip_missing``); no case left to encode.
    """
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference import as_loaded, encode
    from fusion_core.inference.inputs import neighbours

    model = as_loaded(model)
    latents, rows = [], []
    for case in cases:
        aligned = case.aligned() if case.is_paired else case
        volumes = posterior_volumes(aligned, posterior)
        if not volumes and skip_missing:
            continue
        if not volumes:
            raise FusionError(f"{case.subject_id} has no scan for the {posterior} posterior")
        n = next(iter(volumes.values())).shape[0]
        keep = np.arange(0, n, max(1, slice_step))
        if neighbours(model) == 0:
            latents.append(encode(model, _thinned(volumes, keep)))
        else:
            latents.append(encode(model, volumes)[keep])
        rows.append(_rows(case, aligned, n, keep, posterior))
    if not latents:
        raise FusionError(f"no case to encode for the {posterior} posterior")
    return LatentTable(np.concatenate(latents).astype(np.float32), pd.concat(rows, ignore_index=True))


def _rows(case: Case, aligned: Case, n: int, keep: np.ndarray, posterior: str) -> pd.DataFrame:
    """The metadata rows of one case's kept slices under one posterior."""
    return pd.DataFrame(
        {
            "subject_id": case.subject_id,
            "slice": keep,
            "n_slices": n,
            "label": case.label if case.label is not None else np.nan,
            "lesion_type": case.meta.get("lesion_type", "unknown"),
            "site": case.meta.get("site", ""),
            "scans": scan_pattern(case),
            "posterior": posterior,
            "slice_has_lesion": _slice_lesions(aligned, n)[keep],
        }
    )


def encode_cohort_posteriors(
    model, cases: Iterable[Case], posteriors: Sequence[str], *, slice_step: int = 1
) -> dict[str, LatentTable]:
    """:func:`encode_cohort` of several posteriors at once, each modality's expert computed once per slice.

    A VAE's CT-alone, MR-alone and joint posteriors share their experts (see
    :func:`fusion_core.inference.encode.encode_subsets`): about half the encoder passes of three
    :func:`encode_cohort` calls, with the same latents. A case without a posterior's modality is left
    out of that posterior's table (as ``skip_missing``). Other models fall back to one call per posterior.

    Raises:
        FusionError: an unknown posterior, or a posterior no case can give.
    """
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference import as_loaded
    from fusion_core.inference.encode import encode_subsets
    from fusion_core.inference.inputs import neighbours

    model, cases = as_loaded(model), list(cases)
    unknown = [p for p in posteriors if p not in POSTERIORS]
    if unknown:
        raise FusionError(f"unknown posterior {unknown[0]!r}; choose one of {', '.join(POSTERIORS)}")
    if model.task != "vae":
        return {
            p: encode_cohort(model, cases, posterior=p, slice_step=slice_step, skip_missing=True) for p in posteriors
        }
    latents: dict[str, list[np.ndarray]] = {p: [] for p in posteriors}
    rows: dict[str, list[pd.DataFrame]] = {p: [] for p in posteriors}
    for case in cases:
        aligned = case.aligned() if case.is_paired else case
        volumes = posterior_volumes(aligned, "joint")
        have = {"CT" if k == "CT" else "MR" for k in volumes}
        needs = {p: _subset(p, have) for p in posteriors}
        usable = [p for p, need in needs.items() if need and need <= have]
        if not usable:
            continue
        n = next(iter(volumes.values())).shape[0]
        keep = np.arange(0, n, max(1, slice_step))
        thin = neighbours(model) == 0  # as encode_cohort: a 2-D model sees the kept slices only
        subsets = [tuple(sorted(needs[p])) for p in usable]
        codes = encode_subsets(model, _thinned(volumes, keep) if thin else volumes, subsets)
        for posterior, code in zip(usable, codes, strict=True):
            latents[posterior].append(code if thin else code[keep])
            rows[posterior].append(_rows(case, aligned, n, keep, posterior))
    empty = [p for p in posteriors if not latents[p]]
    if empty:
        raise FusionError(f"no case to encode for the {', '.join(empty)} posterior")
    return {
        p: LatentTable(np.concatenate(latents[p]).astype(np.float32), pd.concat(rows[p], ignore_index=True))
        for p in posteriors
    }


def _subset(posterior: str, have: set[str]) -> set[str]:
    """The network modalities a posterior reads ("joint": every one the case has)."""
    return set(have) if posterior == "joint" else {posterior}


def save_table(table: LatentTable, path: str | Path) -> None:
    """Write a table to one ``.npz`` (latents + metadata as JSON); written to a temporary name, then renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{os.getpid()}.partial.npz")
    np.savez(partial, latents=table.latents, meta=np.array(table.meta.to_json(orient="split")))
    partial.replace(path)


def load_table(path: str | Path) -> LatentTable:
    """Read a table written by :func:`save_table`."""
    with np.load(path) as stored:
        meta = pd.read_json(io.StringIO(str(stored["meta"])), orient="split")
        return LatentTable(stored["latents"], meta)


def stack_tables(tables: Sequence[LatentTable]) -> LatentTable:
    """Several posteriors' tables as one (rows in order; every table must have the same latent width)."""
    widths = {t.latents.shape[1] for t in tables}
    if len(widths) != 1:
        raise FusionError(f"latent tables of different widths cannot be stacked: {sorted(widths)}")
    return LatentTable(
        np.concatenate([t.latents for t in tables]), pd.concat([t.meta for t in tables], ignore_index=True)
    )


class Projection(StrEnum):
    """2-D projection method of the latents."""

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
        # lazy: scikit-learn takes ~1.5 s to import
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(x) - 1) // 3)))
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x).astype(np.float32)
    umap = import_umap()
    # 200 epochs (umap's own choice above 10,000 points) also below: 2.5x faster than its 500, same picture.
    reducer = umap.UMAP(n_neighbors=min(15, len(x) - 1), min_dist=0.1, n_epochs=200, random_state=seed, n_jobs=1)
    return reducer.fit_transform(x).astype(np.float32)


def _pca(x: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    # lazy: scikit-learn takes ~1.5 s to import
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
        ct_latents: (n_ct, d) latents from CT alone.
        mr_latents: (n_mr, d) latents from MR alone.
        ct_meta: (with ``mr_meta``) rows matching the latents, with ``subject_id`` and ``slice``.
        mr_meta: see ``ct_meta``.
        ks: the k of each Recall@k.
        tolerance: slices either side that still count as the partner.

    Returns:
        {k: fraction of CT slices with a hit among their k nearest MR slices}.

    Raises:
        FusionError: latents and metadata of different lengths, or an empty side.
    """
    _check_retrieval(ct_latents, mr_latents, ct_meta, mr_meta)
    flat = [np.asarray(b, np.float64).reshape(len(b), -1) for b in (ct_latents, mr_latents)]
    pooled = standardise(np.concatenate(flat))  # over CT and MR together
    ct, mr = pooled[: len(flat[0])], pooled[len(flat[0]) :]
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


@dataclasses.dataclass(frozen=True)
class AlignmentNumbers:
    """How well CT-only and MR-only latents of the same slices agree (the numbers beside the plot).

    Attributes:
        n_pairs: slices with both a CT and an MR latent.
        mixing: modality mixing among the k nearest neighbours.
        recall, chance: cross-modal retrieval Recall@k and its chance level ({k: fraction}).
        correlations: top canonical correlations between paired CT and MR latents (descending).
        correlations_shuffled: the same with the MR rows shuffled (what the fit finds in unrelated rows).
        separability: of ``separated`` in the shown latents (None when one value only).
        separated: what separability measures ("lesion in the slice" or "subject label").
    """

    n_pairs: int
    mixing: Mixing
    recall: dict[int, float]
    chance: dict[int, float]
    correlations: np.ndarray
    correlations_shuffled: np.ndarray
    separability: Separability | None
    separated: str


def paired_rows(meta: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (ct_rows, mr_rows) of the CT- and MR-posterior rows of the same subject and slice."""
    rows = meta.reset_index(drop=True).rename_axis("row").reset_index()
    ct, mr = rows[rows["posterior"] == "CT"], rows[rows["posterior"] == "MR"]
    pairs = ct.merge(mr, on=["subject_id", "slice"], suffixes=("_ct", "_mr"))
    return pairs["row_ct"].to_numpy(), pairs["row_mr"].to_numpy()


def alignment_numbers(table: LatentTable, *, shown: Sequence[str] = POSTERIORS, k: int = 10) -> AlignmentNumbers:
    """Mixing, retrieval, CCA (CT vs MR posteriors) and label separability (of the ``shown`` posteriors' rows).

    Raises:
        FusionError: the table has no slice with both a CT-only and an MR-only latent.
    """
    ct_rows, mr_rows = paired_rows(table.meta)
    if len(ct_rows) < 10:
        raise FusionError("the alignment numbers need at least 10 slices encoded from CT alone and from MR alone")
    z, meta = table.latents, table.meta
    both = np.r_[ct_rows, mr_rows]
    mixing = modality_mixing(z[both], meta["posterior"].to_numpy()[both], k=k)
    ct_meta, mr_meta = meta.iloc[ct_rows], meta.iloc[mr_rows]
    recall = retrieval_recall(z[ct_rows], z[mr_rows], ct_meta, mr_meta)
    chance = retrieval_chance(ct_meta, mr_meta)
    correlations = canonical_correlations(z[ct_rows], z[mr_rows])
    shuffled = canonical_correlations(z[ct_rows], z[np.random.default_rng(0).permutation(mr_rows)])
    rows = meta["posterior"].isin(shown).to_numpy()
    lesion = meta["slice_has_lesion"].to_numpy(float)
    target, name = (lesion, "lesion in the slice") if np.isfinite(lesion).any() else (meta["label"], "subject label")
    try:
        target = np.asarray(target, float)[rows]
        separated = separability(z[rows], target, meta["subject_id"].to_numpy()[rows], k=k)
    except FusionError:
        separated = None
    return AlignmentNumbers(len(ct_rows), mixing, recall, chance, correlations, shuffled, separated, name)


def warm_umap() -> float:
    """Import umap and compile its numba functions on a tiny problem; returns the seconds it took."""
    start = time.perf_counter()
    project(np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32), method="umap")
    return time.perf_counter() - start


def latents_frame(meta: pd.DataFrame, latents: np.ndarray, coords: np.ndarray, method: str) -> pd.DataFrame:
    """One row per slice: its metadata, the 2-D projection (``<method>_1``, ``<method>_2``) and ``z0..z{d-1}``."""
    tag = method.lower().replace("-", "")
    z = pd.DataFrame(latents, columns=[f"z{i}" for i in range(latents.shape[1])])
    xy = pd.DataFrame(coords, columns=[f"{tag}_1", f"{tag}_2"])
    return pd.concat([meta.reset_index(drop=True), xy, z], axis=1)


def reconstruct(model, case: Case, posterior: str, *, slice_step: int = 1) -> dict[str, tuple[np.ndarray, Volume]]:
    """A VAE's CT and MR decoded from one posterior's inputs, on the same slices ``encode_cohort`` encodes.

    Returns:
        {"CT": (slice indices, volume of those slices), "MR": ...}; row i of each volume is slice indices[i].
    """
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference import as_loaded, impute
    from fusion_core.inference.inputs import neighbours

    model = as_loaded(model)
    aligned = case.aligned() if case.is_paired else case
    volumes = posterior_volumes(aligned, posterior)
    if not volumes:
        raise FusionError(f"{case.subject_id} has no scan for the {posterior} posterior")
    n = next(iter(volumes.values())).shape[0]
    keep = np.arange(0, n, max(1, slice_step)) if neighbours(model) == 0 else np.arange(n)
    thinned = _thinned(volumes, keep)
    return {target: (keep, impute(model, thinned, target=target)) for target in ("CT", "MR")}


def subject_means(table: LatentTable) -> LatentTable:
    """One row per subject and posterior: the mean code of its slices (meta of its middle slice; lesion if any)."""
    meta = table.meta.reset_index(drop=True)
    groups = meta.groupby(["subject_id", "posterior"], sort=False).indices
    rows = list(groups.values())
    latents = np.stack([table.latents[r].mean(0) for r in rows])
    middle = meta.iloc[[r[len(r) // 2] for r in rows]].reset_index(drop=True)
    middle["slice_has_lesion"] = [meta["slice_has_lesion"].iloc[r].max() for r in rows]
    return LatentTable(latents.astype(np.float32), middle)

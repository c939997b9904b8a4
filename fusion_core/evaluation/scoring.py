"""Subject scores from slice probabilities: the mean of the top-k slices (one implementation).

A lesion occupies a few slices of a head, so a subject is as suspicious as its most suspicious
slices: the subject score is the mean of the ``TOP_K`` highest slice probabilities among the
candidate slices (those cutting through the brain the way training slices did). Fewer candidates
than ``top_k`` average all of them; an empty candidate set falls back to every slice, so a
subject always gets a score.
"""

from __future__ import annotations

import numpy as np

from fusion_core.evaluation.errors import EvaluationError

TOP_K = 3


def _top_k_mean(values: np.ndarray, top_k: int) -> float:
    k = max(1, min(top_k, len(values)))
    return float(np.partition(values, len(values) - k)[len(values) - k :].mean())


def top_slices(slice_probabilities: np.ndarray, candidates: np.ndarray, *, top_k: int = TOP_K) -> np.ndarray:
    """Sorted indices of the ``top_k`` most probable slices among ``candidates`` (indices, non-empty).

    These are the slices whose mean is the subject score (``subject_score`` with the same candidates).
    """
    probs, candidates = np.asarray(slice_probabilities, dtype=float), np.asarray(candidates)
    order = candidates[np.argsort(probs[candidates], kind="stable")[::-1]]
    return np.sort(order[: max(1, min(top_k, len(order)))])


def subject_score(
    slice_probabilities: np.ndarray, *, candidates: np.ndarray | None = None, top_k: int = TOP_K
) -> float:
    """Mean of the ``top_k`` highest slice probabilities among the candidate slices.

    Args:
        slice_probabilities: (n_slices,) probabilities of one subject's slices.
        candidates: slice indices (int) or an (n_slices,) bool mask to take the top-k over;
            None, or no candidate at all, takes every slice.
        top_k: how many of the highest slices to average (at least 1).

    Raises:
        EvaluationError: no slices, or ``top_k`` < 1.
    """
    probs = np.asarray(slice_probabilities, dtype=float).ravel()
    if probs.size == 0:
        raise EvaluationError("a subject score needs at least one slice probability")
    if top_k < 1:
        raise EvaluationError(f"top_k must be at least 1, got {top_k}")
    chosen = probs if candidates is None else probs[np.asarray(candidates).ravel()]
    return _top_k_mean(chosen if chosen.size else probs, top_k)


def subject_scores(
    probabilities: np.ndarray,
    subjects: np.ndarray,
    *,
    top_k: int = TOP_K,
    candidate_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Subject scores of a slice table (each subject scored as by :func:`subject_score`).

    Sorts once by (subject, probability) instead of looping over subjects with boolean masks.

    Args:
        probabilities: (n_rows,) slice probabilities.
        subjects: (n_rows,) subject id of each row (any sortable type).
        top_k: slices averaged per subject.
        candidate_mask: (n_rows,) bool, slices allowed to count; a subject with no candidate
            row falls back to all of its rows.

    Returns:
        (subject_ids, scores): (n_subjects,) sorted unique ids and their (n_subjects,) float scores.

    Raises:
        EvaluationError: lengths differ, the table is empty, or ``top_k`` < 1.
    """
    probs = np.asarray(probabilities, dtype=float).ravel()
    subjects = np.asarray(subjects).ravel()
    mask = np.ones(probs.shape, bool) if candidate_mask is None else np.asarray(candidate_mask, bool).ravel()
    if not probs.shape == subjects.shape == mask.shape:
        raise EvaluationError(
            f"probabilities {probs.shape}, subjects {subjects.shape} and candidate_mask {mask.shape} differ in length"
        )
    if probs.size == 0 or top_k < 1:
        raise EvaluationError(f"need at least one slice and top_k >= 1 (got {probs.size} slices, top_k={top_k})")
    ids, inverse = np.unique(subjects, return_inverse=True)
    has_candidate = np.bincount(inverse, weights=mask, minlength=len(ids)) > 0
    mask = mask | ~has_candidate[inverse]
    return ids, _grouped_top_k_mean(probs[mask], inverse[mask], len(ids), top_k)


def _grouped_top_k_mean(values: np.ndarray, groups: np.ndarray, n_groups: int, top_k: int) -> np.ndarray:
    """Mean of the top_k highest values of each group 0..n_groups-1 (every group non-empty)."""
    order = np.lexsort((-values, groups))
    values, groups = values[order], groups[order]
    starts = np.searchsorted(groups, np.arange(n_groups))
    rank = np.arange(len(values)) - starts[groups]
    keep = rank < top_k
    counts = np.bincount(groups[keep], minlength=n_groups)
    return np.bincount(groups[keep], weights=values[keep], minlength=n_groups) / counts

"""The train/val/test split of a cohort: by subject (never slice), stratified by the subject's label.

One implementation for every caller: the training table splits its cohort with
:func:`split_subjects`, and scoring, baselines and benchmarks take a spec's members of one split
with :func:`split_indices` / :func:`split_members`, so a model is never tested on people it was
trained on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

SPLITS = ("train", "val", "test")


def split_subjects(
    n: int, fractions: tuple[float, float, float], seed: int, labels: np.ndarray | None = None
) -> np.ndarray:
    """(n,) split index per subject (0 train, 1 val, 2 test) from a seeded permutation.

    With ``labels`` the split is stratified: each label's subjects are divided by ``fractions``
    separately, so every split gets its share of lesion subjects.
    """
    labels = np.zeros(n, dtype=int) if labels is None else np.asarray(labels)
    rng = np.random.default_rng(seed)
    split = np.zeros(n, dtype=np.int64)
    for value in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == value))
        bounds = np.round(np.cumsum(fractions) / sum(fractions) * len(members)).astype(int)
        split[members[bounds[0] : bounds[1]]] = 1
        split[members[bounds[1] :]] = 2
    return split


def member_labels(spec) -> np.ndarray:
    """(n,) lesion labels of a spec's members without rendering them at full size.

    The phantom draws the label from its own random stream before anything depends on the grid
    size, so a 16-voxel member has the label of the full-size one (a test checks it).
    """
    small = spec.replace(options=spec.phantom_options | {"size": 16})
    return np.array([small.subject(i).label for i in range(spec.n)])


def split_indices(spec, split: str) -> list[int]:
    """Indices of the spec's members in ``split``, stratified by label like the training table."""
    fractions = spec.split_fractions
    if fractions[SPLITS.index(split)] >= sum(fractions):  # the whole spec is this split
        return list(range(spec.n))
    assignment = split_subjects(spec.n, fractions, 0, labels=member_labels(spec))
    return [int(i) for i in np.flatnonzero(assignment == SPLITS.index(split))]


def split_members(spec, split: str) -> Iterator[tuple[int, Any]]:
    """(index, subject) of the spec's members in ``split`` (see :func:`split_indices`), built one at a time."""
    return ((i, spec.subject(i)) for i in split_indices(spec, split))

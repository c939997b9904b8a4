"""How well a latent space aligns modalities and separates labels: mixing, separability, CCA.

All functions take (n, d) latents of any width; distances are Euclidean on latents standardised per
dimension, so a few high-variance dimensions do not decide every neighbour.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from fusion_core.errors import FusionError


@dataclasses.dataclass(frozen=True)
class Mixing:
    """Fraction of each point's k nearest neighbours that come from another group (e.g. modality).

    Attributes:
        observed: mean over points.
        ideal: its value were the groups perfectly mixed (each neighbour drawn at random from the others).
        k: neighbours per point.
    """

    observed: float
    ideal: float
    k: int

    @property
    def score(self) -> float:
        """Ratio observed / ideal: 0 = fully separated, 1 = perfectly mixed."""
        return self.observed / self.ideal if self.ideal else float("nan")


@dataclasses.dataclass(frozen=True)
class Separability:
    """How well latents separate labels.

    Attributes:
        silhouette: mean silhouette width (−1..1; 0 = overlapping classes).
        knn_accuracy: balanced k-NN accuracy (mean recall over labels, so a rare label counts as much as
            a frequent one), cross-validated with whole subjects held out (neighbouring slices of one
            subject would otherwise vote for each other).
        chance: the balanced accuracy of guessing (1 / number of labels).
    """

    silhouette: float
    knn_accuracy: float
    chance: float


def standardise(latents: np.ndarray) -> np.ndarray:
    """(n, d) latents z-scored per dimension (dimensions without spread left at 0)."""
    x = np.asarray(latents, np.float64).reshape(len(latents), -1)
    std = x.std(0)
    return (x - x.mean(0)) / np.where(std > 0, std, 1.0)


def nearest_neighbours(latents: np.ndarray, k: int, *, rows: Sequence[int] | None = None) -> np.ndarray:
    """Indices of the k nearest other rows of each queried row (standardised Euclidean, nearest first).

    The one neighbour search of the package: modality mixing asks it for every row, the Latent Space
    page for the one point a user picked.

    Args:
        latents: (n, d).
        k: neighbours per row (at most n - 1).
        rows: the rows to query; None = every row.

    Returns:
        (len(rows), k) indices into ``latents``; a row is never its own neighbour.
    """
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(latents) - 1)
    x = standardise(latents)
    query = np.arange(len(x)) if rows is None else np.asarray(rows, dtype=int)
    found = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x[query], return_distance=False)
    # Drop each point itself (the first column unless duplicates tie with it).
    return np.array([[j for j in row if j != i][:k] for i, row in zip(query, found, strict=True)])


def modality_mixing(latents: np.ndarray, groups: np.ndarray, *, k: int = 10) -> Mixing:
    """Mixing of groups (modalities, posteriors) among nearest neighbours, against its ideal.

    Args:
        latents: (n, d).
        groups: n group names.
        k: neighbours per point.

    Raises:
        FusionError: fewer than two groups or lengths differ.
    """
    groups = np.asarray(groups)
    if len(groups) != len(latents) or len(np.unique(groups)) < 2:
        raise FusionError("mixing needs one group per latent and at least two groups")
    neighbours = nearest_neighbours(latents, k)
    observed = float(np.mean(groups[neighbours] != groups[:, None]))
    counts = {g: np.sum(groups == g) for g in np.unique(groups)}
    ideal = float(np.mean([(len(groups) - counts[g]) / (len(groups) - 1) for g in groups]))
    return Mixing(observed, ideal, neighbours.shape[1])


def separability(latents: np.ndarray, labels: np.ndarray, subjects: np.ndarray, *, k: int = 10) -> Separability:
    """Silhouette and subject-held-out k-NN accuracy of labels in latent space.

    Args:
        latents: (n, d).
        labels: n labels (NaN rows are left out).
        subjects: n subject ids (CV groups).
        k: neighbours of the classifier.

    Raises:
        FusionError: fewer than two labels, or fewer than two subjects.
    """
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.metrics import silhouette_score
    from sklearn.model_selection import GroupKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    labels, subjects = np.asarray(labels), np.asarray(subjects)
    known = ~np.asarray(labels != labels)  # NaN != NaN
    x, y, g = standardise(np.asarray(latents)[known]), labels[known], subjects[known]
    if len(np.unique(y)) < 2 or len(np.unique(g)) < 2:
        raise FusionError("separability needs at least two labels and two subjects")
    sample = np.random.default_rng(0).permutation(len(x))[:5000]  # silhouette is O(n²)
    silhouette = float(silhouette_score(x[sample], y[sample]))
    folds = GroupKFold(n_splits=min(5, len(np.unique(g))))
    knn = KNeighborsClassifier(n_neighbors=min(k, len(x) - 1))
    accuracy = float(np.mean(cross_val_score(knn, x, y, groups=g, cv=folds, scoring="balanced_accuracy")))
    chance = 1.0 / len(np.unique(y))
    return Separability(silhouette, accuracy, chance)


def canonical_correlations(x: np.ndarray, y: np.ndarray, *, n_components: int = 10, max_dims: int = 50) -> np.ndarray:
    """Top canonical correlations between paired rows of two latent sets (e.g. CT and MR of one slice).

    Each side is first reduced to its top principal components (at most ``max_dims`` and n/10, so the
    correlations are not inflated by fitting more dimensions than the rows support), whitened; the
    canonical correlations are then the singular values of the whitened cross-covariance.

    Args:
        x: (with ``y``) (n, dx) and (n, dy); row i of x pairs with row i of y.
        y: see ``x``.
        n_components: how many to return (fewer when the reduced dimensions are fewer).
        max_dims: most principal components kept per side before whitening.

    Returns:
        Descending correlations in [0, 1].

    Raises:
        FusionError: different row counts or fewer than 10 rows.
    """
    if len(x) != len(y) or len(x) < 10:
        raise FusionError(f"CCA needs the same number (≥ 10) of paired rows, got {len(x)} and {len(y)}")
    dims = max(1, min(max_dims, len(x) // 10))
    wx, wy = _whitened(x, dims), _whitened(y, dims)
    correlations = np.linalg.svd(wx.T @ wy / len(x), compute_uv=False)
    return np.clip(correlations[:n_components], 0.0, 1.0)


def _whitened(x: np.ndarray, dims: int) -> np.ndarray:
    """Top ``dims`` principal components of x, each scaled to unit variance (zero-variance ones dropped)."""
    centred = np.asarray(x, np.float64).reshape(len(x), -1)
    centred = centred - centred.mean(0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    keep = s[:dims] > s[0] * 1e-6 if len(s) else []
    return u[:, :dims][:, keep] * np.sqrt(len(x))

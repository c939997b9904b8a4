"""Non-learned MR->CT baseline: segment the MR into intensity classes, give each class its mean HU."""

from __future__ import annotations

import dataclasses

import numpy as np

AIR_HU = -1000.0


@dataclasses.dataclass(frozen=True)
class TissueClassMapper:
    """Piecewise-constant MR->HU map learned from paired training data.

    Attributes:
        centers: (K,) sorted k-means centres of the within-head MR intensities (network units).
        hu: (K,) mean CT HU of the training voxels of each class.
        seed: k-means seed used.
    """

    centers: np.ndarray
    hu: np.ndarray
    seed: int = 0

    def classes(self, mr: np.ndarray) -> np.ndarray:
        """Nearest-centre class index of every voxel."""
        return np.abs(mr[..., None] - self.centers).argmin(-1)

    def predict(self, mr: np.ndarray, head: np.ndarray) -> np.ndarray:
        """Synthetic CT (HU) of an MR in network units; outside ``head`` is air."""
        return np.where(head, self.hu[self.classes(mr)], AIR_HU).astype(np.float32)


def fit_tissue_mapper(
    mr: np.ndarray, ct_hu: np.ndarray, head: np.ndarray, *, n_classes: int = 4, seed: int = 0, max_voxels: int = 200_000
) -> TissueClassMapper:
    """Fit k-means on the within-head MR intensities and the mean HU per class.

    Args:
        mr: MR in network units (see ``fusion_core.datasets.mr_to_unit``), any shape.
        ct_hu: the paired CT in HU, same shape.
        head: boolean head mask, same shape.
        n_classes: number of intensity classes (T1: e.g. dark = bone/air/CSF, grey, white, fat).
        seed: k-means seed (and voxel subsampling seed).
        max_voxels: fit on at most this many voxels drawn at random.
    """
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.cluster import KMeans

    values, hu = mr[head].ravel(), ct_hu[head].ravel()
    if values.size == 0:
        raise ValueError("head mask is empty: nothing to fit the tissue classes on")
    pick = np.random.default_rng(seed).permutation(values.size)[:max_voxels]
    km = KMeans(n_clusters=n_classes, n_init=4, random_state=seed).fit(values[pick, None])
    centers = np.sort(km.cluster_centers_.ravel())
    mapper = TissueClassMapper(centers, np.zeros(n_classes), seed)
    labels = mapper.classes(values)
    means = np.array([hu[labels == k].mean() if np.any(labels == k) else AIR_HU for k in range(n_classes)])
    return TissueClassMapper(centers, means, seed)

"""Demo 5, normalisation: the same MR from two scanner sites, and a classifier that has to travel.

The phantom renders one head at site A and at site B (other receiver gain, TR/TE, bias field, blur
and noise). A linear voxel classifier, lesion or not from the (T1, T2) intensities, trained on
site A's subjects and tested on site B's, finds its threshold in the wrong place unless both sites
are put on one intensity scale first: per-subject z-score inside the head, histogram matching
to one site-A reference, or the MR->CT-scale mapping (z-score, then the mean and spread of a site-A
CT's head in HU: HU-like numbers, which for a linear classifier is the z-score again).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from fusion_core.data.phantom import PhantomSubject, make_subject
from fusion_core.evaluation import auc_score
from fusion_core.preprocess import histogram_match, mr_to_ct_scale, zscore
from fusion_core.preprocess.masks import ct_head_mask, mr_head_mask

WEIGHTINGS = ("mr", "mr_t2")  # PhantomSubject attributes: T1- and T2-weighted MR
TRAIN_SITE, TEST_SITE = "A", "B"


class Normalisation(StrEnum):
    """How both sites' MR are put on one intensity scale before the voxel classifier."""

    NONE = "none"
    ZSCORE = "z-score"
    HISTOGRAM = "histogram matching"
    CT_SCALE = "MR→CT scale"


@functools.lru_cache(maxsize=1)
def reference_ct(size: int = 48) -> np.ndarray:
    """The site-A CT (HU) whose head's mean and spread the MR->CT-scale mapping gives every MR."""
    return make_subject(7, size=size, site=TRAIN_SITE, label=0, modalities=("CT",)).ct.array


def normalise_mr(array: np.ndarray, method: Normalisation | str, reference: np.ndarray | None = None) -> np.ndarray:
    """One MR (any shape) on a common scale: unchanged, z-scored in its head, or matched to ``reference``.

    Raises:
        ValueError: histogram matching without a reference.
    """
    method = Normalisation(method)
    if method is Normalisation.NONE:
        return np.asarray(array, dtype=np.float32)
    if method is Normalisation.ZSCORE:
        return zscore(array, mr_head_mask(array))[0]
    if method is Normalisation.CT_SCALE:
        ct = reference_ct()
        return mr_to_ct_scale(array, mr_head_mask(array), ct, ct_head_mask(ct))[0]
    if reference is None:
        raise ValueError("histogram matching needs a reference image")
    return histogram_match(array, reference, mr_head_mask(array), mr_head_mask(reference))[0]


def lesion_subjects(site: str, n: int, *, seed: int, size: int = 48) -> list[PhantomSubject]:
    """``n`` MR-only phantom subjects of one site, each with an oedema (bright on T2), seeds ``seed``..."""
    return [
        make_subject(seed + i, size=size, site=site, label=1, lesion_type="oedema", modalities=("MR",))
        for i in range(n)
    ]


def voxel_table(subject: PhantomSubject, method: Normalisation | str, references: dict[str, np.ndarray]):
    """(n, 2) normalised (T1, T2) intensities of the brain's voxels and (n,) 0/1 lesion truth."""
    brain = subject.masks["brain"].array > 0.5
    columns = [normalise_mr(getattr(subject, w).array, method, references.get(w))[brain] for w in WEIGHTINGS]
    return np.stack(columns, axis=1), (subject.masks["lesion"].array[brain] > 0.5).astype(int)


@dataclass(frozen=True)
class SiteTransfer:
    """A voxel lesion classifier trained at one site and tested at another.

    Attributes:
        method: the normalisation used before training and testing.
        train_balanced_accuracy, test_balanced_accuracy: mean of sensitivity and specificity at the
            threshold learned on the training site.
        train_auc, test_auc: threshold-free AUCs.
    """

    method: str
    train_balanced_accuracy: float
    test_balanced_accuracy: float
    train_auc: float
    test_auc: float


def site_transfer(
    method: Normalisation | str, *, n_subjects: int = 10, size: int = 48, seed: int = 100
) -> SiteTransfer:
    """Train a logistic-regression voxel classifier on site A subjects, test it on other people at site B.

    Args:
        method: normalisation applied to every MR first (histogram matching uses site A's first subject).
        n_subjects: subjects per site.
        size: phantom in-plane size (48: fast and enough for the point).
        seed: site A uses seeds ``seed``...; site B ``seed + 1000``...

    Returns:
        Balanced accuracies and AUCs on both sites.
    """
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.linear_model import LogisticRegression

    train = lesion_subjects(TRAIN_SITE, n_subjects, seed=seed, size=size)
    test = lesion_subjects(TEST_SITE, n_subjects, seed=seed + 1000, size=size)
    references = {w: getattr(train[0], w).array for w in WEIGHTINGS}
    (x_a, y_a), (x_b, y_b) = (_stack([voxel_table(s, method, references) for s in group]) for group in (train, test))
    model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(x_a, y_a)
    score_a, score_b = model.decision_function(x_a), model.decision_function(x_b)
    return SiteTransfer(
        method=str(Normalisation(method)),
        train_balanced_accuracy=balanced_accuracy(y_a, score_a > 0),
        test_balanced_accuracy=balanced_accuracy(y_b, score_b > 0),
        train_auc=auc_score(y_a, score_a),
        test_auc=auc_score(y_b, score_b),
    )


def _stack(tables):
    return np.concatenate([t[0] for t in tables]), np.concatenate([t[1] for t in tables])


def balanced_accuracy(labels: np.ndarray, predicted: np.ndarray) -> float:
    """(sensitivity + specificity) / 2 of 0/1 ``predicted`` against 0/1 ``labels`` (both classes present)."""
    labels, predicted = np.asarray(labels, bool), np.asarray(predicted, bool)
    return float((predicted[labels].mean() + (~predicted[~labels]).mean()) / 2.0)


@dataclass(frozen=True)
class SitePair:
    """One head scanned at two sites, normalised one way.

    Attributes:
        method: the normalisation.
        slices: site -> (h, w) middle axial T2 slice after normalisation.
        values: site -> (n,) T2 values inside the head after normalisation (for histograms).
    """

    method: str
    slices: dict[str, np.ndarray]
    values: dict[str, np.ndarray]


def site_pair(method: Normalisation | str, *, seed: int = 7, size: int = 64) -> SitePair:
    """The same phantom head (``seed``) at sites A and B, its T2 normalised by ``method`` (reference: site A)."""
    scans = {
        site: make_subject(seed, size=size, site=site, label=1, lesion_type="oedema", modalities=("MR",)).mr_t2.array
        for site in (TRAIN_SITE, TEST_SITE)
    }
    normalised = {site: normalise_mr(a, method, scans[TRAIN_SITE]) for site, a in scans.items()}
    return SitePair(
        method=str(Normalisation(method)),
        slices={site: a[a.shape[0] // 2] for site, a in normalised.items()},
        values={site: normalised[site][mr_head_mask(scans[site])] for site in scans},
    )
